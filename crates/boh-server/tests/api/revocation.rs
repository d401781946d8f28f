//! Revoking grants, deactivating users and API tokens take effect on the next request.

use serde_json::json;

use crate::common::{DEMO_PASSWORD, TestApp};

both!(revoked_grant_applies_on_next_request);
both!(deactivated_user_is_locked_out_at_once);
both!(api_tokens_lifecycle);

async fn revoked_grant_applies_on_next_request(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let s001 = app.store_id("S001").await;
    app.get(&format!("/api/v1/stores/{s001}"), &m1)
        .await
        .assert_status(200);

    let uid = app.user_id("manager.s001").await;
    let r = app
        .get(&format!("/api/v1/users/{uid}/grants"), &admin)
        .await;
    r.assert_status(200);
    let grants = r.json()["items"].as_array().cloned().expect("items");
    assert_eq!(grants.len(), 1, "{grants:?}");
    assert_eq!(grants[0]["role_code"], "store_manager");
    assert_eq!(grants[0]["org_node_code"], "S001");
    let gid = grants[0]["id"].as_str().unwrap().to_string();

    let auth_before = app
        .scalar_i64(&format!(
            "SELECT auth_version AS n FROM users WHERE id = '{uid}'"
        ))
        .await;
    app.delete(&format!("/api/v1/grants/{gid}"), &admin)
        .await
        .assert_status(204);
    let auth_after = app
        .scalar_i64(&format!(
            "SELECT auth_version AS n FROM users WHERE id = '{uid}'"
        ))
        .await;
    assert!(auth_after > auth_before, "revoking bumps auth_version");

    // The very next request with the same token sees the change.
    app.get(&format!("/api/v1/stores/{s001}"), &m1)
        .await
        .assert_status(404);
    let r = app.get("/api/v1/stores", &m1).await;
    r.assert_status(200);
    assert_eq!(r.json()["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(r.json()["page"]["total"], 0);
    let me = app.get("/api/v1/me", &m1).await.json();
    assert_eq!(me["grants"].as_array().map(Vec::len), Some(0), "{me}");

    // Revoking again: gone.
    app.delete(&format!("/api/v1/grants/{gid}"), &admin)
        .await
        .assert_status(404);

    // Granting again restores access, also at once.
    let role = app.role_id("store_manager").await;
    let r = app
        .post_json(
            "/api/v1/grants",
            &admin,
            json!({"user_id": uid, "role_id": role, "org_node_id": s001}),
            &[],
        )
        .await;
    r.assert_status(201);
    app.get(&format!("/api/v1/stores/{s001}"), &m1)
        .await
        .assert_status(200);
}

async fn deactivated_user_is_locked_out_at_once(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m2 = app.login_token("manager.s002").await;
    let session = app.session("manager.s002").await;
    app.get("/api/v1/me", &m2).await.assert_status(200);
    let uid = app.user_id("manager.s002").await;

    let r = app
        .post_empty(&format!("/api/v1/users/{uid}/deactivate"), &admin)
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["active"], false);

    let r = app.get("/api/v1/me", &m2).await;
    r.assert_status(401);
    assert_eq!(r.error_code(), "unauthenticated");
    app.get("/api/v1/stores", &m2).await.assert_status(401);
    app.request(hyper::Method::GET, "/api/v1/me")
        .cookie("boh_session", &session)
        .send()
        .await
        .assert_status(401);
    let r = app
        .post_json(
            "/api/v1/auth/login",
            "",
            json!({"username": "manager.s002", "password": DEMO_PASSWORD}),
            &[],
        )
        .await;
    r.assert_status(401);

    // Administrators cannot lock themselves out.
    let admin_id = app.user_id("admin").await;
    let r = app
        .post_empty(&format!("/api/v1/users/{admin_id}/deactivate"), &admin)
        .await;
    r.assert_status(422);

    // Reactivation lets the user log in again.
    app.post_empty(&format!("/api/v1/users/{uid}/activate"), &admin)
        .await
        .assert_status(200);
    let again = app.login_token("manager.s002").await;
    app.get("/api/v1/me", &again).await.assert_status(200);
}

async fn api_tokens_lifecycle(app: TestApp) {
    let m1 = app.login_token("manager.s001").await;
    let me = app.get("/api/v1/me", &m1).await.json();
    let grant = me["grants"][0]["grant_id"]
        .as_str()
        .expect("a grant")
        .to_string();

    let r = app
        .post_json(
            "/api/v1/tokens",
            &m1,
            json!({"name": "pos-sync", "grant_id": grant}),
            &[],
        )
        .await;
    r.assert_status(201);
    let created = r.json();
    let secret = created["token"]
        .as_str()
        .expect("token shown once")
        .to_string();
    let token_id = created["id"].as_str().expect("id").to_string();
    assert!(secret.starts_with("boh_"));
    assert_eq!(created["grant_id"], grant.as_str());

    // It works, with the grant's scope.
    let r = app.get("/api/v1/stores", &secret).await;
    r.assert_status(200);
    let codes: Vec<String> = r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["code"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes, ["S001"]);

    // The list never shows the secret, and the database keeps only its hash.
    let list = app.get("/api/v1/tokens", &m1).await;
    list.assert_status(200);
    assert!(
        !list.text().contains(&secret),
        "secret leaked: {}",
        list.text()
    );
    let items = list.json()["items"].as_array().cloned().unwrap();
    let mine = items
        .iter()
        .find(|t| t["id"] == token_id.as_str())
        .expect("token listed");
    assert!(mine.get("token").is_none());
    assert_eq!(mine["name"], "pos-sync");
    assert!(secret.starts_with(mine["prefix"].as_str().unwrap()));
    let in_clear = sqlx::query("SELECT COUNT(*) AS n FROM api_tokens WHERE token_hash = $1")
        .bind(&secret)
        .fetch_one(app.pool())
        .await
        .map(|r| sqlx::Row::get::<i64, _>(&r, "n"))
        .unwrap();
    assert_eq!(in_clear, 0);

    // Someone else's grant cannot back a token.
    let other_grant = app.grant_id("manager.s002").await;
    let r = app
        .post_json(
            "/api/v1/tokens",
            &m1,
            json!({"name": "stolen", "grant_id": other_grant}),
            &[],
        )
        .await;
    r.assert_status(404);

    // Another user cannot revoke it.
    let m2 = app.login_token("manager.s002").await;
    app.delete(&format!("/api/v1/tokens/{token_id}"), &m2)
        .await
        .assert_status(404);
    app.get("/api/v1/me", &secret).await.assert_status(200);

    // Revoked: 401 on the next request.
    app.delete(&format!("/api/v1/tokens/{token_id}"), &m1)
        .await
        .assert_status(204);
    app.get("/api/v1/stores", &secret).await.assert_status(401);
    let list = app.get("/api/v1/tokens", &m1).await.json();
    let t = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == token_id.as_str())
        .cloned()
        .expect("revoked token still listed");
    assert!(t["revoked_at"].is_string(), "{t}");

    // Revoking the grant a token was issued under ends the token.
    let r = app
        .post_json(
            "/api/v1/tokens",
            &m1,
            json!({"name": "second", "grant_id": grant, "expires_in_days": 30}),
            &[],
        )
        .await;
    r.assert_status(201);
    let second = r.json()["token"].as_str().unwrap().to_string();
    app.get("/api/v1/me", &second).await.assert_status(200);
    let admin = app.login_token("admin").await;
    app.delete(&format!("/api/v1/grants/{grant}"), &admin)
        .await
        .assert_status(204);
    app.get("/api/v1/me", &second).await.assert_status(401);

    // Validation: a name is required, expiry is bounded.
    let r = app
        .post_json(
            "/api/v1/tokens",
            &admin,
            json!({"name": "", "grant_id": app.grant_id("admin").await, "expires_in_days": 0}),
            &[],
        )
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, ["expires_in_days", "name"]);
}
