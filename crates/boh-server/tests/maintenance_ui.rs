//! Browser test of a repair from the QR code to the rating: a real Chromium through
//! chromedriver against the real server, once on SQLite and once on PostgreSQL. Someone at the
//! store scans the fryer's code and reports the fault with a photo, without logging in; the
//! region manager dispatches it from the dispatch board (the optimal plan's suggestion); the
//! technician, on a phone, accepts, starts, uses a heating element from the store's stock,
//! draws the signature and finishes with cause and remedy; the requester rates the repair on
//! the tracking page. The work order is closed, the photo and signature are attached and the
//! store has one heating element less.
//!
//! Needs Debian's `chromium` and `chromium-driver` (override with `BOH_CHROMIUM` and
//! `BOH_CHROMEDRIVER`). Set `BOH_SCREENSHOT_DIR` to keep full-page PNGs at desktop (1280 px)
//! and phone (390 px) widths.

#[macro_use]
mod common;

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use common::TestApp;

both!(report_dispatch_repair_and_rate);

use common::browser::*;

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post_json(path, token, body, &[]).await;
    r.assert_status(201);
    r.json()
}

/// A critical fryer at S001, 5 heating elements in its stock, tech.chen as a technician with
/// the kitchen skill on shift around the clock. Returns the fryer's QR token.
async fn seed(app: &TestApp) -> String {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    let fryer = ok(
        app,
        &admin,
        "/api/v1/maintenance/assets",
        json!({"location_id": s1, "code": "S001-FRY-1", "name": "Fryer 1", "category": "fryer",
               "make": "Frymaster", "model": "FPH355", "criticality": "critical"}),
    )
    .await;
    ok(
        app,
        &admin,
        "/api/v1/items",
        json!({"code": "PART-HE", "name_en": "Heating element", "name_zh": "加热管",
               "base_unit": "pcs", "kind": "part"}),
    )
    .await;
    ok(
        app,
        &admin,
        "/api/v1/stock/documents",
        json!({"location_id": s1, "kind": "opening",
               "lines": [{"item_code": "PART-HE", "qty": "5", "unit_cost": "80"}]}),
    )
    .await;
    ok(
        app,
        &admin,
        "/api/v1/maintenance/technicians",
        json!({"code": "T-CHEN", "name": "Chen Qiang", "username": "tech.chen", "skills": ["kitchen"],
               "home_location_id": s1, "shift_days": "1111111", "shift_start_min": 0,
               "shift_end_min": 1440, "hourly_rate": 12000}),
    )
    .await;
    fryer["qr_token"].as_str().unwrap().to_string()
}

/// A small valid PNG (1×1, grey) written to a file for the photo input.
fn photo_file(dir: &std::path::Path) -> PathBuf {
    const PNG: &[u8] = &[
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44,
        0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3A,
        0x7E, 0x9B, 0x55, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x68,
        0x00, 0x00, 0x00, 0x82, 0x00, 0x81, 0x4C, 0x17, 0xD7, 0xDF, 0x00, 0x00, 0x00, 0x00, 0x49,
        0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];
    let p = dir.join("fryer.png");
    std::fs::write(&p, PNG).expect("writing the photo");
    p
}

async fn on_hand(app: &TestApp, code: &str, loc: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COALESCE(MAX(v.qty), 0) FROM inv_valuation v JOIN inv_items i ON i.id = v.item_id \
         WHERE i.code = '{code}' AND v.location_id = '{loc}'"
    ))
    .await
}

async fn report_dispatch_repair_and_rate(app: TestApp) {
    let token = seed(&app).await;
    let driver = Driver::start().unwrap_or_else(|e| panic!("{e:#}"));
    let dir = std::env::var_os("BOH_SCREENSHOT_DIR").map(PathBuf::from);
    if let Some(d) = &dir {
        std::fs::create_dir_all(d).expect("creating BOH_SCREENSHOT_DIR");
    }
    let shots = Shots {
        dir,
        prefix: format!("{:?}", app.backend).to_lowercase(),
    };
    let base = app.base.clone();
    let profiles = tempfile::tempdir().expect("profiles");
    let photo = photo_file(profiles.path());
    let run = async {
        let q = driver.session("en-US", &profiles.path().join("q")).await?;
        let r = scan_and_report(&q, &base, &token, &photo, &shots).await;
        let tracking = match r {
            Ok(t) => t,
            Err(e) => {
                let _ = q.close().await;
                return Err(e);
            }
        };
        let d = driver.session("en-US", &profiles.path().join("d")).await?;
        let r = dispatcher_assigns(&d, &base, &shots).await;
        let _ = d.close().await;
        r?;
        let t = driver.session("zh-CN", &profiles.path().join("t")).await?;
        let r = technician_repairs(&t, &base, &shots).await;
        let _ = t.close().await;
        r?;
        let r = requester_rates(&q, &tracking, &shots).await;
        let _ = q.close().await;
        r
    };
    if let Err(e) = run.await {
        panic!("[{:?}] {e:#}", app.backend);
    }
    drop(driver);
    assert_eq!(
        app.scalar_text("SELECT status FROM mnt_work_orders").await,
        "closed"
    );
    assert_eq!(
        app.scalar_i64("SELECT rating FROM mnt_work_orders").await,
        5
    );
    assert_eq!(
        app.scalar_text("SELECT source FROM mnt_work_orders").await,
        "qr"
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mnt_wo_attachments WHERE kind = 'photo'")
            .await,
        1,
        "the photo from the scan form followed the request"
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mnt_wo_attachments WHERE kind = 'signature'")
            .await,
        1,
        "the drawn signature was kept"
    );
    let s1 = app.store_id("S001").await;
    assert_eq!(
        on_hand(&app, "PART-HE", &s1).await,
        4_000_000,
        "one heating element was issued from the store's stock"
    );
}

/// The QR code's form, on a phone, without logging in. Returns the tracking page's URL.
async fn scan_and_report(
    c: &Client,
    base: &str,
    token: &str,
    photo: &std::path::Path,
    shots: &Shots,
) -> Result<String> {
    set_viewport(c, 390, 844).await?;
    c.goto(&format!("{base}/q/{token}")).await?;
    let asset = text(c, "#public-asset").await?;
    ensure!(
        asset.contains("S001-FRY-1"),
        "the form names the asset: {asset}"
    );
    shots.both(c, "qr-form").await?;
    fill(c, "#name", "Xiao Li").await?;
    fill(c, "#contact", "138 0000 0000").await?;
    click(c, "#fault_code option[value='not_heating']").await?;
    fill(c, "#description", "Oil stays cold / 油温上不去").await?;
    wait_css(c, "#photos")
        .await?
        .send_keys(&photo.display().to_string())
        .await?;
    click(c, "#public-submit").await?;
    wait_url(c, "/q/t/").await?;
    let thanks = text(c, "#public-thanks").await?;
    ensure!(!thanks.is_empty(), "a thank-you note");
    ensure!(text(c, "#track-number").await? == "WO-000001");
    shots.both(c, "qr-tracking").await?;
    Ok(c.current_url().await?.as_str().replace("?new=1", ""))
}

async fn dispatcher_assigns(c: &Client, base: &str, shots: &Shots) -> Result<()> {
    login(c, base, "region.east").await?;
    if c.find(Locator::Css("html[lang='zh-CN']")).await.is_ok() {
        click(c, "#lang-switch").await?;
        wait_css(c, "html[lang='en']").await?;
    }
    click(c, "nav.sidebar a[href='/maintenance/dispatch']").await?;
    wait_css(c, "#dispatch-plan").await?;
    let row = text(c, "tr[data-wo='WO-000001']").await?;
    ensure!(
        row.contains("km away") && row.contains("Chen Qiang"),
        "the plan suggests the technician and says why: {row}"
    );
    shots.both(c, "dispatch").await?;
    click(c, "#apply-dispatch").await?;
    wait_url(c, "applied=1").await?;
    wait_css(c, ".empty").await?;
    click(c, "#open-technicians").await?;
    let techs = text(c, "#technicians").await?;
    ensure!(
        techs.contains("T-CHEN") && techs.contains("1 / 6"),
        "the technician holds the job: {techs}"
    );
    shots.both(c, "technicians").await?;
    c.goto(&format!("{base}/maintenance/sla")).await?;
    let policies = text(c, "#sla-policies").await?;
    ensure!(policies.contains("Urgent"), "{policies}");
    Ok(())
}

async fn technician_repairs(c: &Client, base: &str, shots: &Shots) -> Result<()> {
    login(c, base, "tech.chen").await?;
    set_viewport(c, 390, 844).await?;
    c.goto(&format!("{base}/maintenance/jobs")).await?;
    wait_css(c, "#my-jobs").await?;
    shots.take(c, "jobs-phone", 390).await?;
    click(c, "#my-jobs a.job-link").await?;
    wait_css(c, "#step-accept").await?;
    click(c, "#step-accept").await?;
    wait_css(c, "#step-travel").await?;
    click(c, "#step-start").await?;
    wait_css(c, "#finish-form").await?;
    fill(c, "#part-qty", "1").await?;
    click(c, "#add-part").await?;
    let parts = text(c, "#job-parts").await?;
    ensure!(parts.contains("PART-HE"), "the part is listed: {parts}");
    click(c, "#cause_code option[value='wear']").await?;
    click(c, "#remedy_code option[value='replaced_part']").await?;
    fill(
        c,
        "#finish-note",
        "Replaced the heating element / 更换加热管",
    )
    .await?;
    fill(c, "#signed_by", "Zhang Wei").await?;
    // Draw the sign-off on the canvas (pointer events, as a finger would).
    c.execute(
        r#"const cv = document.querySelector("canvas.signature");
           const r = cv.getBoundingClientRect();
           const ev = (t, x, y) => cv.dispatchEvent(new PointerEvent(t, {clientX: r.left + x, clientY: r.top + y, pointerId: 1, bubbles: true}));
           ev("pointerdown", 10, 10); ev("pointermove", 60, 40); ev("pointermove", 120, 20); ev("pointerup", 120, 20);
           return document.getElementById("signature_png").value.length;"#,
        vec![],
    )
    .await
    .context("drawing the signature")?;
    shots.take(c, "job-phone", 390).await?;
    click(c, "#step-finish").await?;
    wait_css(c, "#job-status.pill-wo-done").await?;
    Ok(())
}

async fn requester_rates(c: &Client, tracking: &str, shots: &Shots) -> Result<()> {
    c.goto(tracking).await?;
    let status = text(c, "#track-status").await?;
    ensure!(
        status == "Done",
        "the requester sees the job done: {status}"
    );
    fill(c, "#comment", "Quick and clean").await?;
    click(c, "#track-rate-submit").await?;
    let rating = text(c, "#track-rating").await?;
    ensure!(rating.contains("5/5"), "{rating}");
    shots.both(c, "qr-rated").await?;
    Ok(())
}
