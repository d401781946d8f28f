//! Every 4xx and 5xx under `/api` is the JSON error envelope with a stable code and, where the
//! problem is one field or parameter, its name: unknown routes, wrong methods, malformed JSON,
//! wrong or missing content types, unknown fields, wrong types, out-of-range numbers, bad query
//! and path parameters.

use hyper::Method;
use serde_json::json;

use crate::common::{Resp, TestApp};

both!(unknown_routes_and_methods_answer_the_envelope);
both!(bodies_must_be_json_and_well_formed);
both!(body_fields_are_named_in_the_envelope);
both!(query_and_path_parameters_are_named_in_the_envelope);

/// The envelope: JSON, `error.code` and `error.message` non-empty; returns the code.
fn envelope(r: &Resp, status: u16) -> String {
    r.assert_status(status);
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{}: content type {:?}",
        r.what,
        r.header("content-type")
    );
    let v = r.json();
    let msg = v["error"]["message"].as_str().unwrap_or("");
    assert!(!msg.is_empty(), "{}: no message: {v}", r.what);
    r.error_code()
}

async fn unknown_routes_and_methods_answer_the_envelope(app: TestApp) {
    let admin = app.login_token("admin").await;
    for path in ["/api/v1/no-such-thing", "/api/v2/stores", "/api/nothing"] {
        let r = app.get(path, &admin).await;
        assert_eq!(envelope(&r, 404), "not_found");
    }
    // Unauthenticated too.
    let r = app.get("/api/v1/no-such-thing", "").await;
    assert_eq!(envelope(&r, 404), "not_found");

    let r = app.delete("/api/v1/stores", &admin).await;
    assert_eq!(envelope(&r, 405), "method_not_allowed");
    let allow = r.header("allow").unwrap_or_default();
    assert!(
        allow.contains("GET") && allow.contains("POST"),
        "Allow: {allow}"
    );
    let r = app
        .request(Method::PUT, "/api/v1/auth/login")
        .json(&json!({}))
        .send()
        .await;
    assert_eq!(envelope(&r, 405), "method_not_allowed");
}

async fn bodies_must_be_json_and_well_formed(app: TestApp) {
    let admin = app.login_token("admin").await;
    let region = app.node_id("R-EAST").await;
    let s001 = app.store_id("S001").await;
    let before = app.count("org_nodes").await;
    let good = json!({"parent_id": region, "code": "S500", "name": "Five hundred"}).to_string();

    // No content type, a wrong one, and form encoding: 415, for creates, updates and login.
    for (path, method, token) in [
        ("/api/v1/stores".to_string(), Method::POST, admin.as_str()),
        (
            format!("/api/v1/stores/{s001}"),
            Method::PATCH,
            admin.as_str(),
        ),
        ("/api/v1/auth/login".to_string(), Method::POST, ""),
    ] {
        let r = app
            .request(method.clone(), &path)
            .bearer(token)
            .raw_body(good.clone())
            .send()
            .await;
        assert_eq!(envelope(&r, 415), "unsupported_media_type", "{path}");
        for ct in ["text/plain", "application/x-www-form-urlencoded"] {
            let r = app
                .request(method.clone(), &path)
                .bearer(token)
                .body_with(ct, good.clone())
                .send()
                .await;
            assert_eq!(envelope(&r, 415), "unsupported_media_type", "{path} {ct}");
        }
    }
    // `application/json; charset=utf-8` and `+json` types are JSON.
    let r = app
        .request(Method::POST, "/api/v1/stores")
        .bearer(&admin)
        .body_with("application/json; charset=utf-8", good.clone())
        .send()
        .await;
    r.assert_status(201);

    // Malformed JSON, an empty body, trailing garbage, a body that is not an object.
    for body in ["{not json", "", "{}{}", "[1,2]", "\"text\"", "null"] {
        let r = app
            .request(Method::POST, "/api/v1/stores")
            .bearer(&admin)
            .body_with("application/json", body.to_string())
            .send()
            .await;
        assert_eq!(envelope(&r, 422), "invalid_body", "body {body:?}");
    }
    assert_eq!(
        app.count("org_nodes").await,
        before + 1,
        "only the good one"
    );
}

async fn body_fields_are_named_in_the_envelope(app: TestApp) {
    let admin = app.login_token("admin").await;
    let region = app.node_id("R-EAST").await;
    let s001 = app.store_id("S001").await;
    let before = app.count("org_nodes").await;
    let base = json!({"parent_id": region, "code": "S501", "name": "Five oh one"});

    let cases: Vec<(&str, serde_json::Value, &str)> = vec![
        ("unknown field", json!({"bogus": 1}), "bogus"),
        ("wrong type", json!({"code": 5}), "code"),
        (
            "number too large",
            json!({"sales_area_m2": 1e30}),
            "sales_area_m2",
        ),
        (
            "beyond i64",
            json!({"sales_area_m2": "__BIG__"}),
            "sales_area_m2",
        ),
        (
            "fraction for an integer",
            json!({"sales_area_m2": 1.5}),
            "sales_area_m2",
        ),
        (
            "string for a number",
            json!({"latitude": "north"}),
            "latitude",
        ),
    ];
    for (what, patch, field) in cases {
        let mut body = base.clone();
        for (k, v) in patch.as_object().expect("an object") {
            body[k] = v.clone();
        }
        // Numbers beyond any JSON library's integers are spliced in as text.
        let text =
            |v: &serde_json::Value| v.to_string().replace("\"__BIG__\"", "99999999999999999999");
        let r = app
            .request(Method::POST, "/api/v1/stores")
            .bearer(&admin)
            .body_with("application/json", text(&body))
            .send()
            .await;
        assert_eq!(envelope(&r, 422), "invalid_body", "{what}");
        assert_eq!(r.error_fields(), [field], "{what}: {}", r.text());
        let r = app
            .request(Method::PATCH, &format!("/api/v1/stores/{s001}"))
            .bearer(&admin)
            .body_with("application/json", text(&patch))
            .send()
            .await;
        assert_eq!(envelope(&r, 422), "invalid_body", "PATCH {what}");
        assert_eq!(r.error_fields(), [field], "PATCH {what}: {}", r.text());
    }
    // A missing required field.
    let r = app
        .post_json(
            "/api/v1/stores",
            &admin,
            json!({"parent_id": region, "name": "x"}),
            &[],
        )
        .await;
    assert_eq!(envelope(&r, 422), "invalid_body");
    assert_eq!(r.error_fields(), ["code"]);
    let r = app
        .post_json("/api/v1/auth/login", "", json!({"username": "admin"}), &[])
        .await;
    assert_eq!(envelope(&r, 422), "invalid_body");
    assert_eq!(r.error_fields(), ["password"]);
    // Unknown fields at login too (no silent acceptance).
    let r = app
        .post_json(
            "/api/v1/auth/login",
            "",
            json!({"username": "admin", "password": "x", "remember": true}),
            &[],
        )
        .await;
    assert_eq!(envelope(&r, 422), "invalid_body");
    assert_eq!(r.error_fields(), ["remember"]);
    // In range for JSON but out of the field's bounds: validation, naming the field.
    let mut body = base.clone();
    body["sales_area_m2"] = json!(-1);
    let r = app.post_json("/api/v1/stores", &admin, body, &[]).await;
    assert_eq!(envelope(&r, 422), "validation_failed");
    assert_eq!(r.error_fields(), ["sales_area_m2"]);
    assert_eq!(app.count("org_nodes").await, before, "nothing written");
}

async fn query_and_path_parameters_are_named_in_the_envelope(app: TestApp) {
    let admin = app.login_token("admin").await;
    for (path, field) in [
        ("/api/v1/stores?limit=abc", "limit"),
        ("/api/v1/stores?offset=99999999999999999999", "offset"),
        ("/api/v1/org/nodes?limit=1.5", "limit"),
        ("/api/v1/users?limit=", "limit"),
        ("/api/v1/audit?offset=-", "offset"),
        ("/api/v1/jobs?limit=ten", "limit"),
    ] {
        let r = app.get(path, &admin).await;
        assert_eq!(envelope(&r, 400), "invalid_query", "{path}");
        assert_eq!(r.error_fields(), [field], "{path}: {}", r.text());
    }
    // Unknown query parameters are ignored (a cache-buster must not break a list).
    app.get("/api/v1/stores?_=1", &admin)
        .await
        .assert_status(200);

    // A path parameter that is not UTF-8 once decoded.
    let r = app.get("/api/v1/stores/%FF%FE", &admin).await;
    assert_eq!(envelope(&r, 400), "invalid_path");
    assert_eq!(r.error_fields(), ["store_id"], "{}", r.text());
    // A well-formed id that names nothing: not found, in the envelope.
    let r = app.get("/api/v1/stores/not-an-id", &admin).await;
    assert_eq!(envelope(&r, 404), "not_found");
}
