//! The API contract: login, bearer tokens, scoping of store reads, 401s.

use serde_json::json;

use crate::common::{DEMO_PASSWORD, TestApp};

both!(login_token_and_store_scope);
both!(unauthenticated_and_bad_credentials);

async fn login_token_and_store_scope(app: TestApp) {
    let r = app
        .post_json(
            "/api/v1/auth/login",
            "",
            json!({"username": "admin", "password": DEMO_PASSWORD}),
            &[],
        )
        .await;
    r.assert_status(200);
    let v = r.json();
    let token = v["token"].as_str().expect("token").to_string();
    assert!(token.starts_with("boh_"), "token format: {token}");
    assert_eq!(
        v["user_id"].as_str(),
        Some(app.user_id("admin").await.as_str())
    );

    // The token works as a bearer token.
    let me = app.get("/api/v1/me", &token).await;
    me.assert_status(200);
    assert_eq!(me.json()["username"], "admin");

    // The administrator sees all 24 stores (not the warehouse or the kitchen).
    let r = app.get("/api/v1/stores", &token).await;
    r.assert_status(200);
    let v = r.json();
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 24, "admin store list: {v}");
    assert_eq!(v["page"]["total"], 24);
    let codes: Vec<&str> = items.iter().map(|s| s["code"].as_str().unwrap()).collect();
    let expected: Vec<String> = (1..=24).map(|i| format!("S{i:03}")).collect();
    assert_eq!(codes, expected, "stores sorted by code");
    for s in items {
        assert!(s["id"].as_str().is_some_and(|id| id.len() == 36), "id: {s}");
        assert!(
            s["name"].as_str().is_some_and(|n| !n.is_empty()),
            "name: {s}"
        );
        assert_eq!(s["kind"], "store");
        assert!(
            s.get("path").is_none(),
            "the materialised path is internal: {s}"
        );
    }

    // A store manager sees their own store only.
    let m1 = app.login_token("manager.s001").await;
    let r = app.get("/api/v1/stores", &m1).await;
    r.assert_status(200);
    let v = r.json();
    let codes: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["S001"]);
    assert_eq!(v["page"]["total"], 1);

    let s001 = app.store_id("S001").await;
    let s002 = app.store_id("S002").await;
    let r = app.get(&format!("/api/v1/stores/{s001}"), &m1).await;
    r.assert_status(200);
    assert_eq!(r.json()["code"], "S001");

    // A sibling store is not found, exactly like a store that does not exist.
    let foreign = app.get(&format!("/api/v1/stores/{s002}"), &m1).await;
    foreign.assert_status(404);
    assert_eq!(foreign.error_code(), "not_found");
    let missing = app
        .get(&format!("/api/v1/stores/{}", uuid::Uuid::now_v7()), &m1)
        .await;
    missing.assert_status(404);
    assert_eq!(foreign.body, missing.body, "404s must not reveal existence");

    // Nodes of other kinds under a store-kind route are not found either.
    let reast = app.node_id("R-EAST").await;
    app.get(&format!("/api/v1/stores/{reast}"), &token)
        .await
        .assert_status(404);
}

async fn unauthenticated_and_bad_credentials(app: TestApp) {
    let r = app.get("/api/v1/stores", "").await;
    r.assert_status(401);
    assert_eq!(r.error_code(), "unauthenticated");
    let r = app.get("/api/v1/stores", "boh_not-a-real-token").await;
    r.assert_status(401);
    let r = app.get("/api/v1/stores", "garbage").await;
    r.assert_status(401);

    let wrong = app
        .post_json(
            "/api/v1/auth/login",
            "",
            json!({"username": "manager.s001", "password": "wrong-password-123"}),
            &[],
        )
        .await;
    let unknown = app
        .post_json(
            "/api/v1/auth/login",
            "",
            json!({"username": "nobody.at.all", "password": "wrong-password-123"}),
            &[],
        )
        .await;
    wrong.assert_status(401);
    unknown.assert_status(401);
    assert_eq!(wrong.error_code(), "bad_credentials");
    assert_eq!(
        wrong.body, unknown.body,
        "a wrong password and an unknown user must be indistinguishable"
    );
    assert!(wrong.header("set-cookie").is_none());

    // Usernames are case-insensitive; the right password still logs in.
    let r = app
        .post_json(
            "/api/v1/auth/login",
            "",
            json!({"username": "Manager.S001", "password": DEMO_PASSWORD}),
            &[],
        )
        .await;
    r.assert_status(200);

    // API logout revokes the token.
    let t = app.login_token("finance").await;
    app.get("/api/v1/me", &t).await.assert_status(200);
    app.post_empty("/api/v1/auth/logout", &t)
        .await
        .assert_status(204);
    app.get("/api/v1/me", &t).await.assert_status(401);
}
