//! Request body limits and list paging.

use serde_json::json;

use crate::common::TestApp;

both!(oversized_bodies_are_refused_and_write_nothing);
both!(lists_page_with_limit_offset_and_total);

async fn oversized_bodies_are_refused_and_write_nothing(app: TestApp) {
    let admin = app.login_token("admin").await;
    let before = app.count("org_nodes").await;
    let region = app.node_id("R-EAST").await;
    let big = "x".repeat(3 * 1024 * 1024);
    let r = app
        .post_json(
            "/api/v1/stores",
            &admin,
            json!({"parent_id": region, "code": "BIG1", "name": "Big", "address": big}),
            &[],
        )
        .await;
    assert_eq!(r.status, 413, "{}", r.text());
    assert_eq!(
        r.json()["error"]["code"],
        "payload_too_large",
        "{}",
        r.text()
    );
    assert_eq!(app.count("org_nodes").await, before);
}

async fn lists_page_with_limit_offset_and_total(app: TestApp) {
    let admin = app.login_token("admin").await;
    let r = app.get("/api/v1/stores?limit=5&offset=20", &admin).await;
    r.assert_status(200);
    let body = r.json();
    let codes: Vec<&str> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["S021", "S022", "S023", "S024"]);
    assert_eq!(body["page"]["total"], 24);
    assert_eq!(body["page"]["limit"], 5);
    assert_eq!(body["page"]["offset"], 20);
    // Filters and search combine with paging.
    let r = app
        .get("/api/v1/stores?state=open&q=shanghai&limit=2", &admin)
        .await;
    let body = r.json();
    assert_eq!(body["page"]["total"], 5, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2));
    // Out-of-range limits are clamped, not errors.
    let r = app.get("/api/v1/stores?limit=100000", &admin).await;
    assert_eq!(r.json()["page"]["limit"], 500);
}
