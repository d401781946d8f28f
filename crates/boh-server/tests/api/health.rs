//! Health, readiness, metrics and the API description.

use hyper::Method;
use serde_json::Value;

use crate::common::TestApp;

both!(health_metrics_and_docs);

async fn health_metrics_and_docs(app: TestApp) {
    let r = app.request(Method::GET, "/healthz").send().await;
    r.assert_status(200);
    assert_eq!(r.text(), "ok");
    let r = app.request(Method::GET, "/readyz").send().await;
    r.assert_status(200);

    // A request of each kind, then the counters show up.
    let token = app.login_token("admin").await;
    app.get("/api/v1/stores", &token).await.assert_status(200);
    let r = app.request(Method::GET, "/metrics").send().await;
    r.assert_status(200);
    let text = r.text();
    assert!(text.contains("http_requests_total"), "{text}");
    assert!(text.contains("http_request_duration_seconds"), "{text}");
    assert!(
        text.contains("/api/v1/stores"),
        "requests are labelled by route template: {text}"
    );
    assert!(!text.contains(&token), "no secrets in metrics");

    let r = app.request(Method::GET, "/api/openapi.json").send().await;
    r.assert_status(200);
    let doc: Value = r.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 20, "{} paths", paths.len());
    for p in paths.keys() {
        assert!(p.starts_with("/api/v1/"), "path outside /api/v1: {p}");
    }
    for p in [
        "/api/v1/stores",
        "/api/v1/stores/{store_id}",
        "/api/v1/auth/login",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());

    let r = app.request(Method::GET, "/api/docs/").send().await;
    r.assert_status(200);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("text/html"))
    );
    assert!(r.text().to_lowercase().contains("swagger"));
}
