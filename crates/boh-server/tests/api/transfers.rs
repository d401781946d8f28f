//! Transfers through the API: request → ship → receive with discrepancies, cancellation,
//! permissions at each end, scope, idempotency, all-at-once validation, and concurrent
//! clients moving stock back and forth with quantity and value conserved.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::{assert_ledger_consistent, item, post_doc};

both!(lifecycle_with_discrepancies);
both!(cancel_permissions_and_scope);
both!(idempotent_request_and_bad_input);
both!(concurrent_transfers_conserve_stock);

async fn stock(app: &TestApp, token: &str, item: &str, loc: &str) -> (String, i64) {
    let r = app
        .get(
            &format!("/api/v1/stock?item_id={item}&location_id={loc}&include_zero=true"),
            token,
        )
        .await;
    r.assert_status(200);
    let j = r.json();
    (
        j["items"][0]["qty"].as_str().unwrap_or("0").to_string(),
        j["items"][0]["value"].as_i64().unwrap_or(0),
    )
}

async fn request(app: &TestApp, token: &str, body: Value) -> crate::common::Resp {
    app.post_json("/api/v1/transfers", token, body, &[]).await
}

async fn lifecycle_with_discrepancies(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let w1 = app.store_id("W001").await;
    let s1 = app.store_id("S001").await;
    let flour = item(
        &app,
        &admin,
        json!({"code": "FLOUR", "name": "Flour", "base_unit": "kg", "units": [{"unit": "bag", "factor": "25"}]}),
    )
    .await;
    let oil = item(
        &app,
        &admin,
        json!({"code": "OIL", "name": "Oil", "base_unit": "l"}),
    )
    .await;
    post_doc(
        &app,
        &admin,
        json!({"location_id": w1, "kind": "receipt", "lines": [
            {"item_id": flour, "qty": "100", "unit_cost": "2"},
            {"item_id": oil, "qty": "20", "unit_cost": "10"}]}),
    )
    .await
    .assert_status(201);

    // Two bags of flour (50 kg) and 5 l of oil from the warehouse to S001.
    let r = request(
        &app,
        &admin,
        json!({"from_location_id": w1, "to_location_id": s1, "note": "weekly",
               "lines": [{"item_id": flour, "qty": "2", "unit": "bag"}, {"item_code": "OIL", "qty": 5}]}),
    )
    .await;
    r.assert_status(201);
    let t = r.json();
    let id = t["id"].as_str().unwrap().to_string();
    assert_eq!(t["status"], "requested");
    assert_eq!(t["lines"][0]["qty_requested"], "50");
    assert!(t["number"].as_str().unwrap().starts_with("TR-"), "{t}");
    // The store sees it (it is the destination) but may not ship it.
    let r = app.get(&format!("/api/v1/transfers/{id}"), &m1).await;
    r.assert_status(200);
    let r = app
        .post_json(&format!("/api/v1/transfers/{id}/ship"), &m1, json!({}), &[])
        .await;
    r.assert_status(403);
    // Nor receive it before it ships.
    let r = app
        .post_json(
            &format!("/api/v1/transfers/{id}/receive"),
            &m1,
            json!({}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "invalid_state");

    // Ship 40 kg of flour (less than requested) and all the oil.
    let r = app
        .post_json(
            &format!("/api/v1/transfers/{id}/ship"),
            &admin,
            json!({"lines": [{"line_no": 1, "qty": "40"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let t = r.json();
    assert_eq!(t["status"], "shipped");
    assert_eq!(t["lines"][0]["qty_shipped"], "40");
    assert_eq!(t["lines"][0]["value_shipped"], 8000);
    assert_eq!(t["lines"][1]["value_shipped"], 5000);
    assert_eq!(t["in_transit_value"], 13000);
    assert_eq!(stock(&app, &admin, &flour, &w1).await, ("60".into(), 12000));
    // In transit, visible with quantity and value.
    let transit = app.get("/api/v1/transfers/in-transit", &m1).await.json();
    let rows = transit["items"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{transit}");
    assert!(
        rows.iter()
            .any(|r| r["item_id"] == flour.as_str() && r["qty"] == "40" && r["value"] == 8000)
    );
    let listed = app
        .get(
            &format!("/api/v1/transfers?location_id={s1}&status=shipped&direction=in"),
            &m1,
        )
        .await
        .json();
    assert_eq!(listed["page"]["total"], 1, "{listed}");
    // Shipping twice is refused.
    let r = app
        .post_json(
            &format!("/api/v1/transfers/{id}/ship"),
            &admin,
            json!({}),
            &[],
        )
        .await;
    r.assert_status(409);

    // A difference needs a reason; every problem at once.
    let r = app
        .post_json(
            &format!("/api/v1/transfers/{id}/receive"),
            &m1,
            json!({"lines": [{"line_no": 1, "qty_received": "37", "qty_damaged": "-1"},
                             {"line_no": 2, "qty_received": "abc"},
                             {"line_no": 9, "qty_received": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    let fields = r.error_fields();
    for f in [
        "lines[0].qty_damaged",
        "lines[1].qty_received",
        "lines[2].line_no",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
    }
    // 37 kg good, 1 kg damaged, 2 kg never arrived; the oil complete.
    let r = app
        .post_json(
            &format!("/api/v1/transfers/{id}/receive"),
            &m1,
            json!({"lines": [{"line_no": 1, "qty_received": "37", "qty_damaged": "1", "reason": "bag torn, 2 kg missing"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let t = r.json();
    assert_eq!(t["status"], "received");
    assert_eq!(t["in_transit_value"], 0);
    let d = t["discrepancies"].as_array().unwrap();
    assert_eq!(d.len(), 2, "{t}");
    assert!(
        d.iter()
            .any(|x| x["kind"] == "damaged" && x["qty"] == "1" && x["value"] == 200)
    );
    assert!(
        d.iter()
            .any(|x| x["kind"] == "short" && x["qty"] == "2" && x["value"] == 400)
    );
    // S001 keeps 37 kg at 2.00 and the oil at 10.00; the loss is waste at S001.
    assert_eq!(stock(&app, &m1, &flour, &s1).await, ("37".into(), 7400));
    assert_eq!(stock(&app, &m1, &oil, &s1).await, ("5".into(), 5000));
    let doc = app
        .get(
            &format!(
                "/api/v1/stock/documents/{}",
                t["receive_doc_id"].as_str().unwrap()
            ),
            &m1,
        )
        .await
        .json();
    let kinds: Vec<&str> = doc["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"transfer_in") && kinds.contains(&"waste"),
        "{doc}"
    );
    // Value out of the warehouse = value into S001 before the write-off.
    let moved: i64 = app
        .scalar_i64(&format!(
            "SELECT CAST(SUM(value) AS BIGINT) FROM inv_movements WHERE kind IN ('transfer_out', 'transfer_in') \
             AND doc_id IN (SELECT id FROM inv_docs WHERE source_id = '{id}')"
        ))
        .await;
    assert_eq!(moved, 0);
    // Received twice: refused.
    let r = app
        .post_json(
            &format!("/api/v1/transfers/{id}/receive"),
            &m1,
            json!({}),
            &[],
        )
        .await;
    r.assert_status(409);
    // Audited and announced.
    assert!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity_id = '{id}'"
        ))
        .await
            >= 3
    );
    assert!(
        app.scalar_i64("SELECT COUNT(*) FROM outbox WHERE topic = 'inventory.transfer.received'")
            .await
            >= 1
    );
    assert_ledger_consistent(&app).await;
}

async fn cancel_permissions_and_scope(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let m2 = app.login_token("manager.s002").await;
    let s1 = app.store_id("S001").await;
    let s2 = app.store_id("S002").await;
    let s3 = app.store_id("S003").await;
    let rice = item(
        &app,
        &admin,
        json!({"code": "RICE", "name": "Rice", "base_unit": "kg"}),
    )
    .await;
    for s in [&s1, &s2] {
        post_doc(
            &app,
            &admin,
            json!({"location_id": s, "kind": "receipt", "lines": [{"item_id": rice, "qty": "10", "unit_cost": "3"}]}),
        )
        .await
        .assert_status(201);
    }
    // A store sends to another store it cannot otherwise see.
    let r = request(
        &app,
        &m1,
        json!({"from_location_id": s1, "to_location_id": s2, "lines": [{"item_id": rice, "qty": "4"}]}),
    )
    .await;
    r.assert_status(201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    // The destination sees it, may not cancel or ship it (source actions).
    app.get(&format!("/api/v1/transfers/{id}"), &m2)
        .await
        .assert_status(200);
    app.post_json(
        &format!("/api/v1/transfers/{id}/cancel"),
        &m2,
        json!({}),
        &[],
    )
    .await
    .assert_status(403);
    let r = app
        .post_json(
            &format!("/api/v1/transfers/{id}/cancel"),
            &m1,
            json!({"reason": "not needed"}),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["status"], "cancelled");
    let r = app
        .post_json(&format!("/api/v1/transfers/{id}/ship"), &m1, json!({}), &[])
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "invalid_state");

    // Neither end in scope: 404 everywhere, and absent from lists.
    let r = request(
        &app,
        &admin,
        json!({"from_location_id": s2, "to_location_id": s3, "lines": [{"item_id": rice, "qty": "1"}]}),
    )
    .await;
    r.assert_status(201);
    let other = r.json()["id"].as_str().unwrap().to_string();
    app.get(&format!("/api/v1/transfers/{other}"), &m1)
        .await
        .assert_status(404);
    for action in ["ship", "receive", "cancel"] {
        app.post_json(
            &format!("/api/v1/transfers/{other}/{action}"),
            &m1,
            json!({}),
            &[],
        )
        .await
        .assert_status(404);
    }
    let mine = app.get("/api/v1/transfers", &m1).await.json();
    assert_eq!(mine["page"]["total"], 1, "{mine}");
    // A source outside the caller's scope does not exist.
    let r = request(
        &app,
        &m1,
        json!({"from_location_id": s2, "to_location_id": s1, "lines": [{"item_id": rice, "qty": "1"}]}),
    )
    .await;
    r.assert_status(404);
    app.get(&format!("/api/v1/transfers?location_id={s2}"), &m1)
        .await
        .assert_status(404);
    // The store ships and the other store receives.
    let r = request(
        &app,
        &m1,
        json!({"from_location_id": s1, "to_location_id": s2, "lines": [{"item_id": rice, "qty": "3"}]}),
    )
    .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    app.post_json(&format!("/api/v1/transfers/{id}/ship"), &m1, json!({}), &[])
        .await
        .assert_status(201);
    app.post_json(
        &format!("/api/v1/transfers/{id}/receive"),
        &m1,
        json!({}),
        &[],
    )
    .await
    .assert_status(403);
    app.post_json(
        &format!("/api/v1/transfers/{id}/receive"),
        &m2,
        json!({}),
        &[],
    )
    .await
    .assert_status(201);
    assert_eq!(stock(&app, &m1, &rice, &s1).await, ("7".into(), 2100));
    assert_eq!(stock(&app, &m2, &rice, &s2).await, ("13".into(), 3900));
    assert_ledger_consistent(&app).await;
}

async fn idempotent_request_and_bad_input(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    let s2 = app.store_id("S002").await;
    let milk = item(
        &app,
        &admin,
        json!({"code": "MILK", "name": "Milk", "base_unit": "l"}),
    )
    .await;
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "receipt", "lines": [{"item_id": milk, "qty": "5", "unit_cost": "4"}]}),
    )
    .await
    .assert_status(201);
    let body = json!({"from_location_id": s1, "to_location_id": s2, "lines": [{"item_id": milk, "qty": "2"}]});
    let before = app.count("inv_transfers").await;
    let a = app
        .post_json(
            "/api/v1/transfers",
            &admin,
            body.clone(),
            &[("Idempotency-Key", "tr-1")],
        )
        .await;
    a.assert_status(201);
    let b = app
        .post_json(
            "/api/v1/transfers",
            &admin,
            body.clone(),
            &[("Idempotency-Key", "tr-1")],
        )
        .await;
    b.assert_status(201);
    assert_eq!(b.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(a.json()["id"], b.json()["id"]);
    assert_eq!(app.count("inv_transfers").await, before + 1);
    let id = a.json()["id"].as_str().unwrap().to_string();
    // A retried shipment with its key ships once.
    for _ in 0..2 {
        app.post_json(
            &format!("/api/v1/transfers/{id}/ship"),
            &admin,
            json!({}),
            &[("Idempotency-Key", "ship-1")],
        )
        .await
        .assert_status(201);
    }
    assert_eq!(stock(&app, &admin, &milk, &s1).await.0, "3");

    // Every problem at once, nothing written.
    let before = app.count("inv_transfers").await;
    let r = request(
        &app,
        &admin,
        json!({"from_location_id": s1, "to_location_id": "not-a-store", "lines": [
            {"item_code": "NOPE", "qty": "1"},
            {"item_id": milk, "qty": "-1"},
            {"item_id": milk, "qty": "1", "unit": "box"},
            {"item_id": milk, "qty": "x"}]}),
    )
    .await;
    r.assert_status(422);
    let fields = r.error_fields();
    for f in [
        "to_location_id",
        "lines[0].item_code",
        "lines[1].qty",
        "lines[2].unit",
        "lines[3].qty",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
    }
    let r = request(
        &app,
        &admin,
        json!({"from_location_id": s1, "to_location_id": s1, "lines": []}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["to_location_id", "lines"]);
    assert_eq!(app.count("inv_transfers").await, before);
    // More than is on hand: refused naming the line, still requested.
    let r = request(
        &app,
        &admin,
        json!({"from_location_id": s1, "to_location_id": s2, "lines": [{"item_id": milk, "qty": "50"}]}),
    )
    .await;
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            &format!("/api/v1/transfers/{id}/ship"),
            &admin,
            json!({}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "insufficient_stock");
    assert_eq!(r.error_fields(), vec!["lines[0].qty"]);
    let t = app
        .get(&format!("/api/v1/transfers/{id}"), &admin)
        .await
        .json();
    assert_eq!(t["status"], "requested");
    assert_ledger_consistent(&app).await;
}

/// Several clients move stock back and forth between two stores at once (ship + receive) and
/// post direct issues and receipts. At the end: quantity and value over both stores plus in
/// transit equal what was put in minus what was issued, no on-hand below zero, no 5xx, and
/// the ledger checker passes.
async fn concurrent_transfers_conserve_stock(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    let s2 = app.store_id("S002").await;
    let sugar = item(
        &app,
        &admin,
        json!({"code": "SUGAR", "name": "Sugar", "base_unit": "kg"}),
    )
    .await;
    for s in [&s1, &s2] {
        post_doc(
            &app,
            &admin,
            json!({"location_id": s, "kind": "receipt", "lines": [{"item_id": sugar, "qty": "20", "unit_cost": "1.5"}]}),
        )
        .await
        .assert_status(201);
    }
    let clients = 6;
    let rounds = 6;
    let mut set = tokio::task::JoinSet::new();
    for c in 0..clients {
        let http = app.http.clone();
        let token = admin.clone();
        let (a, b) = if c % 2 == 0 {
            (s1.clone(), s2.clone())
        } else {
            (s2.clone(), s1.clone())
        };
        let sugar = sugar.clone();
        set.spawn(async move {
            let mut statuses = Vec::new();
            for r in 0..rounds {
                let qty = format!("{}", 1 + (c + r) % 7);
                let resp = http
                    .request(hyper::Method::POST, "/api/v1/transfers")
                    .bearer(&token)
                    .json(&json!({"from_location_id": a, "to_location_id": b,
                                  "lines": [{"item_id": sugar, "qty": qty}]}))
                    .send()
                    .await;
                statuses.push(resp.status);
                if resp.status != 201 {
                    continue;
                }
                let id = resp.json()["id"].as_str().unwrap().to_string();
                let s = http
                    .request(hyper::Method::POST, &format!("/api/v1/transfers/{id}/ship"))
                    .bearer(&token)
                    .json(&json!({}))
                    .send()
                    .await;
                statuses.push(s.status);
                if s.status == 201 && r % 3 != 2 {
                    // Most are received at once; some stay in transit.
                    let rc = http
                        .request(
                            hyper::Method::POST,
                            &format!("/api/v1/transfers/{id}/receive"),
                        )
                        .bearer(&token)
                        .json(&json!({}))
                        .send()
                        .await;
                    statuses.push(rc.status);
                }
                // A direct issue now and then competes for the same stock.
                if r % 2 == 1 {
                    let d = http
                        .request(hyper::Method::POST, "/api/v1/stock/documents")
                        .bearer(&token)
                        .json(&json!({"location_id": a, "kind": "issue",
                                      "lines": [{"item_id": sugar, "qty": "1"}]}))
                        .send()
                        .await;
                    statuses.push(d.status);
                }
            }
            statuses
        });
    }
    let mut all = Vec::new();
    while let Some(r) = set.join_next().await {
        all.extend(r.expect("client task"));
    }
    assert!(all.iter().all(|s| *s < 500), "server errors: {all:?}");
    assert!(all.iter().all(|s| matches!(s, 201 | 409)), "{all:?}");
    let issued: i64 = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(qty), 0) AS BIGINT) FROM inv_movements WHERE item_id = '{sugar}' AND kind = 'issue'"
        ))
        .await;
    let on_hand = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(qty), 0) AS BIGINT) FROM inv_valuation WHERE item_id = '{sugar}'"
        ))
        .await;
    let transit = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(l.qty_shipped), 0) AS BIGINT) FROM inv_transfer_lines l \
             JOIN inv_transfers t ON t.id = l.transfer_id WHERE t.status = 'shipped' AND l.item_id = '{sugar}'"
        ))
        .await;
    assert_eq!(on_hand + transit, 40_000_000 + issued, "quantity conserved");
    let value = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM inv_valuation WHERE item_id = '{sugar}'"
        ))
        .await;
    let transit_value = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(l.value_shipped), 0) AS BIGINT) FROM inv_transfer_lines l \
             JOIN inv_transfers t ON t.id = l.transfer_id WHERE t.status = 'shipped' AND l.item_id = '{sugar}'"
        ))
        .await;
    let issued_value = app
        .scalar_i64(&format!(
            "SELECT CAST(COALESCE(SUM(value), 0) AS BIGINT) FROM inv_movements WHERE item_id = '{sugar}' AND kind = 'issue'"
        ))
        .await;
    assert_eq!(
        value + transit_value,
        6000 + issued_value,
        "value conserved"
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM inv_stock WHERE qty < 0")
            .await,
        0
    );
    assert_ledger_consistent(&app).await;
}
