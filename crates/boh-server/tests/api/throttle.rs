//! Login throttling per account and per client address. Requests come from distinct loopback
//! addresses (127.0.0.N) so the two limits can be told apart.

use hyper::Method;
use serde_json::json;

use crate::common::{DEMO_PASSWORD, Http, Resp, TestApp};

both!(account_is_throttled_after_ten_failures);
both!(address_is_throttled_after_ten_failures);

async fn login(http: &Http, username: &str, password: &str) -> Resp {
    http.request(Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
}

fn assert_throttled(r: &Resp) {
    r.assert_status(429);
    assert_eq!(r.error_code(), "throttled");
    let retry: i64 = r
        .header("retry-after")
        .expect("429 carries Retry-After")
        .parse()
        .expect("Retry-After in seconds");
    assert!(
        (1..=15 * 60 + 1).contains(&retry),
        "Retry-After {retry} s should be within the 15-minute window"
    );
}

async fn account_is_throttled_after_ten_failures(app: TestApp) {
    let attacker = app.http_from("127.0.0.2");
    for i in 0..10 {
        let r = login(&attacker, "manager.s001", &format!("wrong-password-{i}")).await;
        r.assert_status(401);
    }
    // The 11th attempt is refused even with the right password and from another address.
    let elsewhere = app.http_from("127.0.0.3");
    assert_throttled(&login(&elsewhere, "manager.s001", DEMO_PASSWORD).await);
    assert_throttled(&login(&attacker, "manager.s001", DEMO_PASSWORD).await);
    // The browser form is throttled too.
    let r = elsewhere
        .request(Method::POST, "/login")
        .form(&format!("username=manager.s001&password={DEMO_PASSWORD}"))
        .send()
        .await;
    assert_eq!(
        r.status,
        429,
        "form login of a locked account: {}",
        r.text()
    );
    assert!(
        r.header("set-cookie")
            .is_none_or(|c| !c.contains("boh_session="))
    );

    // Other accounts are unaffected from a clean address.
    login(&elsewhere, "manager.s002", DEMO_PASSWORD)
        .await
        .assert_status(200);
}

async fn address_is_throttled_after_ten_failures(app: TestApp) {
    let attacker = app.http_from("127.0.0.4");
    for i in 0..10 {
        let r = login(&attacker, &format!("nobody.{i}"), "wrong-password-xyz").await;
        r.assert_status(401);
    }
    // Same client, an account with no failures, the right password: refused.
    assert_throttled(&login(&attacker, "admin", DEMO_PASSWORD).await);
    // The account itself is fine from another address.
    login(&app.http_from("127.0.0.5"), "admin", DEMO_PASSWORD)
        .await
        .assert_status(200);
}
