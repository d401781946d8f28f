//! Browser sessions and CSRF protection.

use hyper::Method;
use serde_json::{Value, json};

use crate::common::{DEMO_PASSWORD, Resp, TestApp};

both!(session_cookie_attributes_and_rotation);
both!(csrf_is_enforced_for_cookie_requests);
both!(logout_ends_the_session);

/// The CSRF token the pages embed for this session.
async fn csrf_of(app: &TestApp, session: &str) -> String {
    let r = app
        .request(Method::GET, "/")
        .cookie("boh_session", session)
        .send()
        .await;
    r.assert_status(200);
    let html = r.text();
    let marker = "name=\"_csrf\" value=\"";
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("no _csrf field on the home page: {html}"))
        + marker.len();
    let end = start + html[start..].find('"').expect("closing quote");
    html[start..end].to_string()
}

fn new_store(app_parent: &str, code: &str) -> Value {
    json!({"parent_id": app_parent, "code": code, "name": format!("Store {code}")})
}

async fn post_store(app: &TestApp, session: &str, body: &Value, headers: &[(&str, &str)]) -> Resp {
    let mut r = app
        .request(Method::POST, "/api/v1/stores")
        .cookie("boh_session", session)
        .json(body);
    for (k, v) in headers {
        r = r.header(k, v);
    }
    r.send().await
}

async fn session_cookie_attributes_and_rotation(app: TestApp) {
    let r = app.form_login("admin", DEMO_PASSWORD).await;
    r.assert_status(303);
    assert_eq!(r.header("location").as_deref(), Some("/"));
    let line = r.set_cookie_line("boh_session").expect("session cookie");
    assert!(line.contains("HttpOnly"), "HttpOnly: {line}");
    assert!(line.contains("SameSite=Lax"), "SameSite=Lax: {line}");
    assert!(line.contains("Path=/"), "Path=/: {line}");
    let s1 = r.cookie("boh_session").unwrap();
    assert!(s1.len() >= 32, "session id has enough entropy: {s1}");

    // A new session id on every login.
    let s2 = app.session("admin").await;
    assert_ne!(s1, s2);
    // The database keeps only a hash of the id.
    let stored = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) AS n FROM sessions WHERE id_hash = '{s1}' OR id_hash = '{s2}'"
        ))
        .await;
    assert_eq!(stored, 0, "session ids must not be stored in clear");

    // Both sessions work, for pages and for the API.
    for s in [&s1, &s2] {
        let me = app
            .request(Method::GET, "/api/v1/me")
            .cookie("boh_session", s)
            .send()
            .await;
        me.assert_status(200);
        assert_eq!(me.json()["username"], "admin");
    }

    // A wrong password neither sets a cookie nor redirects.
    let bad = app.form_login("admin", "not-the-password").await;
    bad.assert_status(401);
    assert!(bad.set_cookie_line("boh_session").is_none());
}

async fn csrf_is_enforced_for_cookie_requests(app: TestApp) {
    let session = app.session("admin").await;
    let csrf = csrf_of(&app, &session).await;
    let reast = app.node_id("R-EAST").await;
    let nodes = app.count("org_nodes").await;

    // Cookie without the token.
    let r = post_store(&app, &session, &new_store(&reast, "C001"), &[]).await;
    r.assert_status(403);
    assert_eq!(r.error_code(), "csrf_failed");
    // A wrong token.
    let r = post_store(
        &app,
        &session,
        &new_store(&reast, "C001"),
        &[("x-csrf-token", "not-the-token")],
    )
    .await;
    r.assert_status(403);
    assert_eq!(r.error_code(), "csrf_failed");
    // The right token from a foreign origin.
    let r = post_store(
        &app,
        &session,
        &new_store(&reast, "C001"),
        &[("x-csrf-token", &csrf), ("origin", "http://evil.example")],
    )
    .await;
    r.assert_status(403);
    assert_eq!(r.error_code(), "csrf_failed");
    // Browsers that send Sec-Fetch-Site instead of Origin.
    let r = post_store(
        &app,
        &session,
        &new_store(&reast, "C001"),
        &[("x-csrf-token", &csrf), ("sec-fetch-site", "cross-site")],
    )
    .await;
    r.assert_status(403);
    // A form post without `_csrf`.
    let r = app
        .request(Method::POST, "/lang")
        .cookie("boh_session", &session)
        .form("locale=en&back=/")
        .send()
        .await;
    r.assert_status(403);
    // Login CSRF: a cross-site login form post.
    let r = app
        .request(Method::POST, "/login")
        .header("origin", "http://evil.example")
        .form(&format!("username=admin&password={DEMO_PASSWORD}"))
        .send()
        .await;
    r.assert_status(403);
    assert!(r.set_cookie_line("boh_session").is_none());
    assert_eq!(app.count("org_nodes").await, nodes, "nothing was written");
    assert_eq!(app.nodes_with_code("C001").await, 0);

    // The right token, same origin: accepted.
    let host = format!("http://{}", app.addr);
    let r = post_store(
        &app,
        &session,
        &new_store(&reast, "C001"),
        &[("x-csrf-token", &csrf), ("origin", &host)],
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.json()["code"], "C001");
    let r = post_store(
        &app,
        &session,
        &new_store(&reast, "C002"),
        &[("x-csrf-token", &csrf)],
    )
    .await;
    r.assert_status(201);
    // The form field works as well.
    let r = app
        .request(Method::POST, "/lang")
        .cookie("boh_session", &session)
        .form(&format!(
            "locale=en&back=/&_csrf={}",
            crate::common::urlencode(&csrf)
        ))
        .send()
        .await;
    r.assert_status(303);
    // A bearer token needs no CSRF token.
    let token = app.login_token("admin").await;
    app.post_json("/api/v1/stores", &token, new_store(&reast, "C003"), &[])
        .await
        .assert_status(201);
    assert_eq!(app.count("org_nodes").await, nodes + 3);
}

async fn logout_ends_the_session(app: TestApp) {
    let session = app.session("manager.s001").await;
    let other = app.session("manager.s001").await;
    let csrf = csrf_of(&app, &session).await;

    // Logging out needs the CSRF token too.
    let r = app
        .request(Method::POST, "/logout")
        .cookie("boh_session", &session)
        .form("")
        .send()
        .await;
    r.assert_status(403);

    let r = app
        .request(Method::POST, "/logout")
        .cookie("boh_session", &session)
        .form(&format!("_csrf={}", crate::common::urlencode(&csrf)))
        .send()
        .await;
    r.assert_status(303);
    let cleared = r.set_cookie_line("boh_session").expect("cookie cleared");
    assert!(cleared.contains("Max-Age=0"), "cookie removed: {cleared}");

    // The old cookie no longer works, even if the browser kept it.
    let me = app
        .request(Method::GET, "/api/v1/me")
        .cookie("boh_session", &session)
        .send()
        .await;
    me.assert_status(401);
    let page = app
        .request(Method::GET, "/")
        .cookie("boh_session", &session)
        .send()
        .await;
    assert_eq!(
        page.status,
        303,
        "pages redirect to the login: {}",
        page.text()
    );
    assert!(
        page.header("location")
            .is_some_and(|l| l.starts_with("/login")),
        "{:?}",
        page.header("location")
    );

    // The user's other session is untouched.
    app.request(Method::GET, "/api/v1/me")
        .cookie("boh_session", &other)
        .send()
        .await
        .assert_status(200);
}
