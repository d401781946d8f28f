//! Several `boh serve` processes on one database: sessions, tokens, grant changes and jobs live
//! in the database, so what one instance does, the other sees on its next request.

use boh_platform::PlatformSettings;
use boh_server::{Application, Settings};

use crate::common::{DEMO_PASSWORD, Http, TestApp};

both!(two_instances_share_auth_state_and_jobs);

async fn two_instances_share_auth_state_and_jobs(a: TestApp) {
    let settings = Settings {
        database_url: a.db.url.clone(),
        bind: "127.0.0.1:0".into(),
        demo: true,
        demo_size: None,
        demo_password: Some(DEMO_PASSWORD.into()),
        secure_cookies: false,
        run_worker: false,
        platform: PlatformSettings::default(),
    };
    let (b_app, note) = Application::build(settings).await.expect("second instance");
    assert_eq!(
        note.as_deref(),
        Some("demo data already present; demo logins unchanged")
    );
    let b_platform = b_app.state.platform.clone();
    let b = Http::new(
        &format!("http://{}", b_app.local_addr().expect("addr")),
        None,
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(b_app.run_until(async move {
        let _ = stopped.await;
    }));

    // A token issued by A works on B, and B caches the manager's grants.
    let m1 = a.login_token("manager.s001").await;
    let s001 = a.store_id("S001").await;
    let path = format!("/api/v1/stores/{s001}");
    b.request(axum::http::Method::GET, &path)
        .bearer(&m1)
        .send()
        .await
        .assert_status(200);

    // A revokes the grant: B refuses on the very next request.
    let admin = a.login_token("admin").await;
    let gid = a.grant_id("manager.s001").await;
    a.delete(&format!("/api/v1/grants/{gid}"), &admin)
        .await
        .assert_status(204);
    b.request(axum::http::Method::GET, &path)
        .bearer(&m1)
        .send()
        .await
        .assert_status(404);

    // B deactivates a user: A refuses their token at once.
    let m2 = a.login_token("manager.s002").await;
    a.get("/api/v1/me", &m2).await.assert_status(200);
    let uid = a.user_id("manager.s002").await;
    b.request(
        axum::http::Method::POST,
        &format!("/api/v1/users/{uid}/deactivate"),
    )
    .bearer(&admin)
    .send()
    .await
    .assert_status(200);
    a.get("/api/v1/me", &m2).await.assert_status(401);

    // A browser session opened on A is valid on B.
    let cookie = a.session("admin").await;
    let r = b
        .request(axum::http::Method::GET, "/stores")
        .cookie("boh_session", &cookie)
        .send()
        .await;
    r.assert_status(200);
    assert!(
        r.text().contains("S024"),
        "B should render the store list for A's session"
    );

    // A job queued through A is run by B's worker and its result is visible through A.
    let r = a
        .post_json("/api/v1/audit/verify", &admin, serde_json::json!({}), &[])
        .await;
    r.assert_status(202);
    let job = r.json()["job_id"].as_str().expect("job id").to_string();
    boh_platform::jobs::drain(&b_platform, &boh_server::job_registry())
        .await
        .expect("drain on B");
    let j = a.get(&format!("/api/v1/jobs/{job}"), &admin).await;
    j.assert_status(200);
    assert_eq!(j.json()["status"], "succeeded", "{}", j.text());
    assert_eq!(j.json()["result"]["ok"], true, "{}", j.text());

    let _ = stop.send(());
    let _ = server.await;
}

both!(tls_mode_uses_host_prefixed_secure_cookies);

/// Behind TLS (`--secure-cookies`): the session cookie is `__Host-boh_session`, `Secure`,
/// `HttpOnly`, `SameSite=Lax`, `Path=/`, and responses carry HSTS.
async fn tls_mode_uses_host_prefixed_secure_cookies(a: TestApp) {
    let settings = Settings {
        database_url: a.db.url.clone(),
        bind: "127.0.0.1:0".into(),
        demo: false,
        demo_size: None,
        demo_password: None,
        secure_cookies: true,
        run_worker: false,
        platform: PlatformSettings::default(),
    };
    let (app, _) = Application::build(settings)
        .await
        .expect("TLS-mode instance");
    let http = Http::new(&format!("http://{}", app.local_addr().expect("addr")), None);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));

    let r = http
        .request(axum::http::Method::POST, "/login")
        .form(&format!("username=admin&password={DEMO_PASSWORD}"))
        .send()
        .await;
    r.assert_status(303);
    let line = r
        .set_cookie_line("__Host-boh_session")
        .expect("__Host- session cookie");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(line.contains(attr), "{attr} missing in {line}");
    }
    assert!(
        !line.contains("Domain"),
        "__Host- cookies carry no Domain: {line}"
    );
    assert!(
        r.set_cookie_line("boh_session")
            .is_none_or(|l| l.starts_with("__Host-"))
    );
    let sid = r.cookie("__Host-boh_session").expect("value");
    let page = http
        .request(axum::http::Method::GET, "/")
        .cookie("__Host-boh_session", &sid)
        .send()
        .await;
    page.assert_status(200);
    assert!(
        page.header("strict-transport-security")
            .is_some_and(|v| v.contains("max-age="))
    );
    // The plain name is not accepted in this mode.
    let plain = http
        .request(axum::http::Method::GET, "/")
        .cookie("boh_session", &sid)
        .send()
        .await;
    assert_eq!(
        plain.status, 303,
        "plain cookie name must not authenticate in TLS mode"
    );

    let _ = stop.send(());
    let _ = server.await;
}
