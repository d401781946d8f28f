//! The outbox and signed webhook deliveries to a local sink.

use serde_json::{Value, json};

use crate::common::{Sink, TestApp};

both!(delivery_is_signed_and_scoped);
both!(failed_delivery_is_retried_and_replayed);

async fn create_store(app: &TestApp, token: &str, parent_code: &str, code: &str) -> Value {
    let parent = app.node_id(parent_code).await;
    let r = app
        .post_json(
            "/api/v1/stores",
            token,
            json!({"parent_id": parent, "code": code, "name": format!("Store {code}")}),
            &[],
        )
        .await;
    r.assert_status(201);
    r.json()
}

async fn deliveries(app: &TestApp, token: &str, webhook_id: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/webhooks/{webhook_id}/deliveries"), token)
        .await;
    r.assert_status(200);
    r.json()["items"].as_array().cloned().expect("items")
}

async fn delivery_is_signed_and_scoped(app: TestApp) {
    let sink = Sink::start(0).await;
    let admin = app.login_token("admin").await;
    let reast = app.node_id("R-EAST").await;

    let r = app
        .post_json(
            "/api/v1/webhooks",
            &admin,
            json!({"org_node_id": reast, "url": sink.url("/hook"), "topics": "org.*", "description": "east"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let created = r.json();
    let secret = created["secret"].as_str().expect("secret").to_string();
    let webhook_id = created["id"].as_str().expect("id").to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(created["org_node_id"], reast.as_str());
    // The secret is shown once only.
    let got = app
        .get(&format!("/api/v1/webhooks/{webhook_id}"), &admin)
        .await;
    got.assert_status(200);
    assert!(!got.text().contains(&secret));
    let listed = app.get("/api/v1/webhooks", &admin).await;
    assert!(!listed.text().contains(&secret));

    let east = create_store(&app, &admin, "R-EAST", "S500").await;
    create_store(&app, &admin, "R-NORTH", "S501").await;
    app.drain().await;

    let received = sink.received();
    assert_eq!(
        received.len(),
        1,
        "only the R-EAST event reaches the R-EAST subscription: {received:?}"
    );
    let req = &received[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/hook");
    assert!(
        req.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let msg_id = req.header("webhook-id").expect("webhook-id");
    let ts: i64 = req
        .header("webhook-timestamp")
        .expect("webhook-timestamp")
        .parse()
        .expect("timestamp in seconds");
    let now = jiff::Timestamp::now().as_second();
    assert!((now - ts).abs() < 300, "timestamp {ts} vs now {now}");
    let sig = req.header("webhook-signature").expect("webhook-signature");
    assert!(sig.starts_with("v1,"), "{sig}");
    let expected = boh_platform::webhooks::sign(&secret, &msg_id, ts, &req.body).expect("sign");
    assert_eq!(
        sig, expected,
        "the HMAC verifies with the secret from creation"
    );
    let wrong = boh_platform::webhooks::sign(&secret, &msg_id, ts + 1, &req.body).unwrap();
    assert_ne!(sig, wrong);

    let body: Value = serde_json::from_str(&req.body).expect("JSON body");
    assert_eq!(body["type"], "org.node.created");
    assert_eq!(body["data"]["code"], "S500");
    assert_eq!(body["data"]["id"], east["id"]);
    // The message id is the event id, stable across retries.
    let event_ids = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) AS n FROM outbox WHERE id = '{msg_id}' AND dispatched_at IS NOT NULL"
        ))
        .await;
    assert_eq!(event_ids, 1);

    let log = deliveries(&app, &admin, &webhook_id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["status"], "succeeded");
    assert_eq!(log[0]["attempts"], 1);
    assert_eq!(log[0]["last_status"], 200);
    assert_eq!(log[0]["event_id"], msg_id.as_str());

    // Draining again sends nothing more.
    app.drain().await;
    assert_eq!(sink.received().len(), 1);

    // A topic filter that does not match, and a disabled subscription, receive nothing.
    let r = app
        .post_json(
            "/api/v1/webhooks",
            &admin,
            json!({"org_node_id": reast, "url": sink.url("/inventory"), "topics": "inventory.*"}),
            &[],
        )
        .await;
    r.assert_status(201);
    app.post_empty(&format!("/api/v1/webhooks/{webhook_id}/disable"), &admin)
        .await
        .assert_status(200);
    create_store(&app, &admin, "R-EAST", "S502").await;
    app.drain().await;
    assert_eq!(sink.received().len(), 1, "{:?}", sink.received());
    let r = app
        .post_empty(&format!("/api/v1/webhooks/{webhook_id}/enable"), &admin)
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["active"], true);
}

async fn failed_delivery_is_retried_and_replayed(app: TestApp) {
    let sink = Sink::start(1).await;
    let admin = app.login_token("admin").await;
    let company = app.node_id("BOH").await;
    let r = app
        .post_json(
            "/api/v1/webhooks",
            &admin,
            json!({"org_node_id": company, "url": sink.url("/flaky")}),
            &[],
        )
        .await;
    r.assert_status(201);
    let webhook_id = r.json()["id"].as_str().unwrap().to_string();

    create_store(&app, &admin, "R-SOUTH", "S600").await;
    app.drain().await;
    assert_eq!(sink.received().len(), 1);
    let log = deliveries(&app, &admin, &webhook_id).await;
    assert_eq!(log.len(), 1);
    let d = &log[0];
    assert_eq!(d["status"], "pending", "{d}");
    assert_eq!(d["attempts"], 1, "{d}");
    assert_eq!(d["last_status"], 500, "{d}");
    assert!(
        d["last_error"].as_str().is_some_and(|e| e.contains("500")),
        "{d}"
    );
    let delivery_id = d["id"].as_str().unwrap().to_string();
    // The retry waits for its back-off.
    app.drain().await;
    assert_eq!(sink.received().len(), 1, "not retried before the back-off");

    // Replay makes it due now.
    let r = app
        .post_empty(
            &format!("/api/v1/webhook-deliveries/{delivery_id}/replay"),
            &admin,
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "pending");
    app.drain().await;
    let received = sink.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id"),
        "a retry carries the same message id"
    );
    let log = deliveries(&app, &admin, &webhook_id).await;
    assert_eq!(log[0]["status"], "succeeded", "{log:?}");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["last_status"], 200);

    // Replaying a delivered message sends it again.
    app.post_empty(
        &format!("/api/v1/webhook-deliveries/{delivery_id}/replay"),
        &admin,
    )
    .await
    .assert_status(200);
    app.drain().await;
    assert_eq!(sink.received().len(), 3);

    // Replays and the log are audited / scoped: a store manager sees none of it.
    let m1 = app.login_token("manager.s001").await;
    app.get(&format!("/api/v1/webhooks/{webhook_id}/deliveries"), &m1)
        .await
        .assert_status(404);
    app.post_empty(
        &format!("/api/v1/webhook-deliveries/{delivery_id}/replay"),
        &m1,
    )
    .await
    .assert_status(404);
    let replays = app
        .scalar_i64("SELECT COUNT(*) AS n FROM audit_log WHERE action = 'webhook.replay'")
        .await;
    assert_eq!(replays, 2);
}
