//! What the logs say: every security event with who, what, when and where, and never a secret;
//! and a panicking handler answers a generic 500 while its cause is logged with the request id.
//!
//! One global subscriber captures every log line of this test binary, at every level and
//! target, into a buffer that the tests read back.

#[macro_use]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use axum::routing::get;
use boh_web::AppState;
use hyper::Method;
use serde_json::json;

use common::{DEMO_PASSWORD, TestApp};

both!(a_scripted_session_logs_every_security_event_and_no_secret);
both!(
    a_panicking_handler_answers_500_and_the_process_keeps_serving,
    with = super::panic_routes
);

#[derive(Clone)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut g) = self.0.lock() {
            g.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The buffer every log line of this binary goes to (installed once, before any app starts).
fn logs() -> Arc<Mutex<Vec<u8>>> {
    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    BUF.get_or_init(|| {
        let buf: Arc<Mutex<Vec<u8>>> = Arc::default();
        let w = Capture(buf.clone());
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("trace"))
            .with_ansi(false)
            .with_writer(move || w.clone())
            .init();
        buf
    })
    .clone()
}

fn log_text() -> String {
    String::from_utf8_lossy(&logs().lock().expect("log buffer").clone()).into_owned()
}

async fn csrf_of(app: &TestApp, session: &str) -> String {
    let html = app
        .request(Method::GET, "/")
        .cookie("boh_session", session)
        .send()
        .await
        .assert_status(200)
        .text();
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a _csrf field on the home page") + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_string()
}

async fn a_scripted_session_logs_every_security_event_and_no_secret(app: TestApp) {
    let _ = logs();
    let mut secrets: Vec<String> = vec![DEMO_PASSWORD.to_string()];
    let admin_id = app.user_id("admin").await;
    let manager_id = app.user_id("manager.s001").await;

    // Logins: API ok, wrong password, unknown user, a username forging a log line.
    let admin = app.login_token("admin").await;
    secrets.push(admin.clone());
    let wrong = "Wrong-Password-7c1e9a";
    secrets.push(wrong.into());
    for (user, pw) in [
        ("admin", wrong),
        ("nobody-here", wrong),
        ("evil\nINFO boh::security: forged login succeeded", wrong),
    ] {
        let r = app
            .post_json(
                "/api/v1/auth/login",
                "",
                json!({"username": user, "password": pw}),
                &[],
            )
            .await;
        r.assert_status(401);
    }

    // A browser session: form login, a CSRF-protected API write with the cookie, logout.
    let session = app.session("admin").await;
    let csrf = csrf_of(&app, &session).await;
    secrets.push(session.clone());
    secrets.push(csrf.clone());
    let r = app
        .request(Method::GET, "/api/v1/me")
        .cookie("boh_session", &session)
        .send()
        .await;
    r.assert_status(200);

    // A token: create, use, revoke, use again.
    let grant = app.grant_id("admin").await;
    let r = app
        .post_json(
            "/api/v1/tokens",
            &admin,
            json!({"name": "pos-sync", "grant_id": grant}),
            &[],
        )
        .await;
    r.assert_status(201);
    let token = r.json()["token"].as_str().expect("token").to_string();
    let token_id = r.json()["id"].as_str().expect("id").to_string();
    secrets.push(token.clone());
    app.get("/api/v1/me", &token).await.assert_status(200);
    app.delete(&format!("/api/v1/tokens/{token_id}"), &admin)
        .await
        .assert_status(204);
    app.get("/api/v1/me", &token).await.assert_status(401);

    // Denials, on the API and on a page, and a CSRF refusal.
    let manager = app.login_token("manager.s001").await;
    secrets.push(manager.clone());
    app.get("/api/v1/audit/head", &manager)
        .await
        .assert_status(403);
    let manager_session = app.session("manager.s001").await;
    secrets.push(manager_session.clone());
    let r = app
        .request(Method::GET, "/admin/roles/new")
        .cookie("boh_session", &manager_session)
        .send()
        .await;
    r.assert_status(403);
    let r = app
        .request(Method::POST, "/api/v1/auth/logout")
        .cookie("boh_session", &session)
        .header("x-csrf-token", "forged")
        .send()
        .await;
    r.assert_status(403);

    // Grant changes, a role edit, deactivation, a password reset.
    let s002_user = app.user_id("manager.s002").await;
    let role = app.role_id("store_manager").await;
    let s003 = app.store_id("S003").await;
    let r = app
        .post_json(
            "/api/v1/grants",
            &admin,
            json!({"user_id": s002_user, "role_id": role, "org_node_id": s003}),
            &[],
        )
        .await;
    r.assert_status(201);
    let new_grant = r.json()["id"].as_str().expect("grant id").to_string();
    app.delete(&format!("/api/v1/grants/{new_grant}"), &admin)
        .await
        .assert_status(204);
    let r = app
        .post_json(
            "/api/v1/roles",
            &admin,
            json!({"code": "auditor", "name_zh": "审计", "name_en": "Auditor", "permissions": ["audit.read"]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let auditor = r.json()["id"].as_str().expect("role id").to_string();
    app.request(Method::PUT, &format!("/api/v1/roles/{auditor}"))
        .bearer(&admin)
        .json(
            &json!({"code": "auditor", "name_zh": "审计", "name_en": "Auditor",
            "permissions": ["audit.read", "org.node.read"]}),
        )
        .send()
        .await
        .assert_status(200);
    app.post_empty(&format!("/api/v1/users/{manager_id}/deactivate"), &admin)
        .await
        .assert_status(200);
    app.post_empty(&format!("/api/v1/users/{manager_id}/activate"), &admin)
        .await
        .assert_status(200);
    let new_password = "New-Password-For-Manager-41";
    secrets.push(new_password.into());
    app.post_json(
        &format!("/api/v1/users/{manager_id}/password"),
        &admin,
        json!({"password": new_password}),
        &[],
    )
    .await
    .assert_status(204);
    app.request(Method::POST, "/api/v1/auth/logout")
        .cookie("boh_session", &session)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .assert_status(204);
    app.post_empty("/api/v1/auth/logout", &admin)
        .await
        .assert_status(204);

    let text = log_text();
    // No secret anywhere, at any level, from any crate.
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret is in the logs: {s}");
    }
    // A username cannot start a line of its own.
    assert!(
        !text.contains("\nINFO boh::security: forged"),
        "a username injected a log line"
    );
    assert!(text.contains(r#"evil\nINFO boh::security: forged"#));

    // Every event, with who, when and where. Lines of this test's database carry its ids.
    let security: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("boh::security"))
        .collect();
    let find = |what: &str, who: &str| -> String {
        security
            .iter()
            .find(|l| l.contains(what) && l.contains(who))
            .unwrap_or_else(|| {
                panic!(
                    "no security log line `{what}` for {who}:\n{}",
                    security.join("\n")
                )
            })
            .to_string()
    };
    for (what, who) in [
        ("login succeeded", admin_id.as_str()),
        ("API token created", admin_id.as_str()),
        ("API token revoked", admin_id.as_str()),
        ("grant created", s002_user.as_str()),
        ("grant revoked", s002_user.as_str()),
        ("role created", admin_id.as_str()),
        ("role permissions changed", admin_id.as_str()),
        ("user deactivated", manager_id.as_str()),
        ("user activated", manager_id.as_str()),
        ("password reset", manager_id.as_str()),
        ("request denied: missing permission", manager_id.as_str()),
        ("page denied: missing permission", manager_id.as_str()),
        ("logged out: session ended", admin_id.as_str()),
        ("logged out: token revoked", admin_id.as_str()),
    ] {
        let line = find(what, who);
        assert!(line.contains("request_id="), "no request id: {line}");
        assert!(line.contains("ip="), "no client address: {line}");
        assert!(
            line.contains(" at=") || line.contains("\tat="),
            "no UTC time: {line}"
        );
        assert!(line.contains('Z'), "time not in UTC: {line}");
    }
    for what in ["login failed", "request denied: CSRF check failed"] {
        assert!(
            security
                .iter()
                .any(|l| l.contains(what) && l.contains("request_id=")),
            "no `{what}` line"
        );
    }
}

fn panic_routes() -> axum::Router<AppState> {
    axum::Router::new().route(
        "/api/v1/test/panic",
        get(|| async {
            if std::hint::black_box(true) {
                panic!("secret panic detail 8d1f");
            }
            "unreachable"
        }),
    )
}

async fn a_panicking_handler_answers_500_and_the_process_keeps_serving(app: TestApp) {
    let _ = logs();
    let admin = app.login_token("admin").await;
    for _ in 0..3 {
        let r = app.get("/api/v1/test/panic", &admin).await;
        r.assert_status(500);
        assert_eq!(r.error_code(), "internal");
        let body = r.text();
        assert!(!body.contains("secret panic detail"), "{body}");
        assert!(
            !body.contains("panicked") && !body.contains(".rs"),
            "{body}"
        );
        let rid = r.header("x-request-id").expect("a request id");
        let text = log_text();
        let line = text
            .lines()
            .find(|l| l.contains("request handler panicked") && l.contains(&rid))
            .unwrap_or_else(|| panic!("no panic log line with request id {rid}"));
        assert!(line.contains("secret panic detail 8d1f"), "{line}");
        // Still serving.
        app.get("/api/v1/me", &admin).await.assert_status(200);
    }
}
