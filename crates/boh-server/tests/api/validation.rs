//! Input validation: all field errors at once, scope of referenced ids, unknown fields,
//! duplicates. A refused write changes nothing.

use serde_json::json;

use crate::common::TestApp;

both!(all_field_errors_in_one_response);
both!(parent_in_another_scope_is_refused);
both!(unknown_fields_are_rejected);
both!(duplicate_code_is_a_conflict);

/// Rows that any write would touch.
async fn footprint(app: &TestApp) -> (i64, i64, i64, i64) {
    (
        app.count("org_nodes").await,
        app.count("audit_log").await,
        app.count("outbox").await,
        app.scalar_i64("SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS n FROM org_nodes")
            .await,
    )
}

async fn all_field_errors_in_one_response(app: TestApp) {
    let admin = app.login_token("admin").await;
    let reast = app.node_id("R-EAST").await;
    let before = footprint(&app).await;

    let r = app
        .post_json(
            "/api/v1/stores",
            &admin,
            json!({
                "parent_id": reast,
                "code": "",
                "name": "Bad store",
                "latitude": 200.0,
                "longitude": -181.0,
                "lifecycle_state": "haunted",
                "opening_date": "2024-13-45",
                "timezone": "Mars/Olympus_Mons",
                "format": "spaceship",
                "sales_area_m2": -5
            }),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_code(), "validation_failed");
    let fields = r.error_fields();
    for f in [
        "code",
        "latitude",
        "longitude",
        "lifecycle_state",
        "opening_date",
        "timezone",
        "format",
        "sales_area_m2",
    ] {
        assert!(
            fields.iter().any(|x| x == f),
            "field {f} missing from {fields:?}"
        );
    }
    for f in r.json()["error"]["fields"].as_array().unwrap() {
        assert!(
            f["message"].as_str().is_some_and(|m| !m.is_empty()),
            "every field error has a message: {f}"
        );
    }
    assert_eq!(footprint(&app).await, before, "nothing written");

    // A bad code and a date that is not a date.
    let r = app
        .post_json(
            "/api/v1/stores",
            &admin,
            json!({"parent_id": reast, "code": "has space/slash", "name": "x", "opening_date": "yesterday"}),
            &[],
        )
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, ["code", "opening_date"]);

    // Updates validate the same way, all at once, and change nothing.
    let s001 = app.store_id("S001").await;
    let r = app
        .patch_json(
            &format!("/api/v1/stores/{s001}"),
            &admin,
            json!({"latitude": 91.0, "timezone": "Nowhere/Else", "name_en": "  "}),
        )
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, ["latitude", "name_en", "timezone"]);
    assert_eq!(footprint(&app).await, before, "nothing written");

    // Stale version: 409.
    let r = app
        .patch_json(
            &format!("/api/v1/stores/{s001}"),
            &admin,
            json!({"version": 99, "name_en": "New name"}),
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_fields(), ["version"]);
    // A good update works and bumps the version.
    let r = app
        .patch_json(
            &format!("/api/v1/stores/{s001}"),
            &admin,
            json!({"version": 1, "name_en": "New name", "latitude": 31.5}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["version"], 2);
    assert_eq!(r.json()["latitude"], 31.5);

    // Malformed JSON: 422 in the envelope.
    let r = app
        .request(hyper::Method::POST, "/api/v1/stores")
        .bearer(&admin)
        .body_with("application/json", "{not json".into())
        .send()
        .await;
    r.assert_status(422);
    assert_eq!(r.error_code(), "invalid_body");
}

async fn parent_in_another_scope_is_refused(app: TestApp) {
    let rnorth = app.node_id("R-NORTH").await;
    let reast = app.node_id("R-EAST").await;
    let s002 = app.store_id("S002").await;
    let before = footprint(&app).await;

    let m1 = app.login_token("manager.s001").await;
    for parent in [&rnorth, &reast, &s002] {
        let r = app
            .post_json(
                "/api/v1/stores",
                &m1,
                json!({"parent_id": parent, "code": "S300", "name": "Sneaky"}),
                &[],
            )
            .await;
        assert!(
            matches!(r.status, 403 | 404),
            "manager.s001 creating under {parent}: {} {}",
            r.status,
            r.text()
        );
    }
    // A region manager of R-EAST: R-NORTH is invisible (404), not merely forbidden.
    let re = app.login_token("region.east").await;
    let r = app
        .post_json(
            "/api/v1/org/nodes",
            &re,
            json!({"parent_id": rnorth, "kind": "store", "code": "S301", "name": "Sneaky"}),
            &[],
        )
        .await;
    r.assert_status(404);
    // A store cannot be anyone's parent.
    let admin = app.login_token("admin").await;
    let r = app
        .post_json(
            "/api/v1/stores",
            &admin,
            json!({"parent_id": s002, "code": "S302", "name": "Child"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), ["parent_id"]);
    // A parent is required.
    let r = app
        .post_json(
            "/api/v1/stores",
            &admin,
            json!({"code": "S303", "name": "Orphan"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), ["parent_id"]);
    // Foreign-scope updates are not found.
    let r = app
        .patch_json(
            &format!("/api/v1/stores/{s002}"),
            &m1,
            json!({"name_en": "Mine now"}),
        )
        .await;
    r.assert_status(404);
    let (nodes, _, outbox, versions) = before;
    let after = footprint(&app).await;
    assert_eq!(
        (after.0, after.2, after.3),
        (nodes, outbox, versions),
        "nothing written"
    );
    for code in ["S300", "S301", "S302", "S303"] {
        assert_eq!(app.nodes_with_code(code).await, 0);
    }
}

async fn unknown_fields_are_rejected(app: TestApp) {
    let admin = app.login_token("admin").await;
    let reast = app.node_id("R-EAST").await;
    let s001 = app.store_id("S001").await;
    let other_company = uuid::Uuid::now_v7().to_string();
    let before = footprint(&app).await;

    for (field, value) in [
        ("company_id", json!(other_company)),
        ("path", json!("/x/")),
        ("status", json!("open")),
        ("id", json!(uuid::Uuid::now_v7().to_string())),
        ("version", json!(7)),
    ] {
        let mut body = json!({"parent_id": reast, "code": "S400", "name": "Extra"});
        body[field] = value.clone();
        let r = app.post_json("/api/v1/stores", &admin, body, &[]).await;
        r.assert_status(422);
        let msg = r.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_string();
        assert!(msg.contains(field), "the message names {field}: {msg}");

        let r = app
            .patch_json(
                &format!("/api/v1/stores/{s001}"),
                &admin,
                json!({ field: value }),
            )
            .await;
        if field == "version" {
            // `version` is a known field of a patch (the optimistic-lock guard).
            r.assert_status(409);
        } else {
            r.assert_status(422);
        }
    }
    assert_eq!(app.nodes_with_code("S400").await, 0);
    assert_eq!(footprint(&app).await, before, "nothing written");
    let s = app
        .get(&format!("/api/v1/stores/{s001}"), &admin)
        .await
        .json();
    assert_eq!(s["version"], 1);

    // Same for other resources.
    let uid = app.user_id("finance").await;
    let r = app
        .post_json(
            &format!("/api/v1/users/{uid}/password"),
            &admin,
            json!({"password": "a-new-password-1", "active": false}),
            &[],
        )
        .await;
    r.assert_status(422);
    let r = app
        .post_json(
            "/api/v1/webhooks",
            &admin,
            json!({"org_node_id": reast, "url": "http://127.0.0.1:9/x", "secret": "mine"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(app.count("webhook_subscriptions").await, 0);
}

async fn duplicate_code_is_a_conflict(app: TestApp) {
    let admin = app.login_token("admin").await;
    let reast = app.node_id("R-EAST").await;
    let before = footprint(&app).await;
    let r = app
        .post_json(
            "/api/v1/stores",
            &admin,
            json!({"parent_id": reast, "code": "S001", "name": "Twin"}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "conflict");
    assert_eq!(r.error_fields(), ["code"]);
    assert_eq!(footprint(&app).await, before, "nothing written");
    assert_eq!(app.nodes_with_code("S001").await, 1);

    // Renaming a store onto a taken code is a conflict as well.
    let s003 = app.store_id("S003").await;
    let r = app
        .patch_json(
            &format!("/api/v1/stores/{s003}"),
            &admin,
            json!({"code": "S002"}),
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_fields(), ["code"]);
    assert_eq!(footprint(&app).await, before, "nothing written");
}
