//! Security headers and request ids on every kind of response.

use hyper::Method;

use crate::common::{Resp, TestApp};

both!(security_headers_everywhere);

fn assert_security_headers(r: &Resp) {
    let what = format!("{} ({})", r.what, r.status);
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no Content-Security-Policy"));
    assert!(csp.contains("object-src 'none'"), "{what}: CSP {csp}");
    assert!(csp.contains("frame-ancestors"), "{what}: CSP {csp}");
    assert!(!csp.contains("unsafe-eval"), "{what}: CSP {csp}");
    assert_eq!(
        r.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert!(
        r.header("referrer-policy").is_some_and(|v| !v.is_empty()),
        "{what}: Referrer-Policy"
    );
    assert!(
        r.header("x-request-id").is_some_and(|v| !v.is_empty()),
        "{what}: X-Request-Id"
    );
}

async fn security_headers_everywhere(app: TestApp) {
    let token = app.login_token("admin").await;

    // HTML.
    let r = app.request(Method::GET, "/login").send().await;
    r.assert_status(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{:?}",
        r.header("content-type")
    );
    assert_security_headers(&r);
    let session = app.session("admin").await;
    let r = app
        .request(Method::GET, "/stores")
        .cookie("boh_session", &session)
        .send()
        .await;
    r.assert_status(200);
    assert_security_headers(&r);

    // JSON.
    let r = app.get("/api/v1/stores", &token).await;
    r.assert_status(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    assert_security_headers(&r);
    let r = app.get("/api/v1/me", "").await;
    r.assert_status(401);
    assert_security_headers(&r);

    // 404s, JSON and HTML.
    let r = app.get("/api/v1/no-such-thing", &token).await;
    r.assert_status(404);
    assert_eq!(r.error_code(), "not_found");
    assert_security_headers(&r);
    let r = app.request(Method::GET, "/no-such-page").send().await;
    r.assert_status(404);
    assert_security_headers(&r);

    // Redirects, health and the API docs.
    let r = app.request(Method::GET, "/").send().await;
    assert_eq!(r.status, 303);
    assert_security_headers(&r);
    let r = app.request(Method::GET, "/healthz").send().await;
    assert_security_headers(&r);
    let r = app.request(Method::GET, "/api/docs/").send().await;
    r.assert_status(200);
    assert_security_headers(&r);

    // Request ids are unique per request and a caller's id is propagated.
    let a = app.request(Method::GET, "/healthz").send().await;
    let b = app.request(Method::GET, "/healthz").send().await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));
    let r = app
        .request(Method::GET, "/healthz")
        .header("x-request-id", "test-request-123")
        .send()
        .await;
    assert_eq!(
        r.header("x-request-id").as_deref(),
        Some("test-request-123")
    );

    // Personal data is not cached.
    let r = app.get("/api/v1/me", &token).await;
    assert!(
        r.header("cache-control")
            .is_some_and(|c| c.contains("no-store")),
        "{:?}",
        r.header("cache-control")
    );
}
