//! Browser test of purchase orders and approvals: a real Chromium through chromedriver against
//! the real server, once on SQLite and once on PostgreSQL. The administrator sets up an
//! approval workflow in the editor (a bad condition is named, then fixed); the store manager
//! orders from the supplier's item list, reads the approval route and submits; the region
//! manager, on a phone and in Chinese, approves in "my approvals"; the order is approved, its
//! history shows who decided, and the store receives it (one bag damaged): the order is partly
//! received and the stock went up at the order price.
//!
//! Needs Debian's `chromium` and `chromium-driver` (override with `BOH_CHROMIUM` and
//! `BOH_CHROMEDRIVER`). Set `BOH_SCREENSHOT_DIR` to keep full-page PNGs at desktop (1280 px)
//! and phone (390 px) widths.

#[macro_use]
mod common;

use std::path::PathBuf;

use anyhow::{Result, ensure};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use common::TestApp;

both!(order_approve_on_a_phone);

use common::browser::*;

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post_json(path, token, body, &[]).await;
    r.assert_status(201);
    r.json()
}

/// A supplier with two items and prices in force.
async fn seed(app: &TestApp) {
    let admin = app.login_token("admin").await;
    for (code, zh, en, unit, units) in [
        (
            "FLOUR",
            "高筋面粉",
            "Bread flour",
            "kg",
            json!([{"unit": "bag", "factor": "25"}]),
        ),
        (
            "BUTTER",
            "黄油",
            "Butter",
            "kg",
            json!([{"unit": "case", "factor": "10"}]),
        ),
    ] {
        ok(
            app,
            &admin,
            "/api/v1/items",
            json!({"code": code, "name_zh": zh, "name_en": en, "base_unit": unit, "units": units}),
        )
        .await;
    }
    let supplier = ok(
        app,
        &admin,
        "/api/v1/suppliers",
        json!({"code": "GOLDMILL", "name_zh": "金磨坊面粉", "name_en": "Golden Mill", "lead_time_days": 1,
               "min_order_minor": 20000}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let today = boh_inventory::today_in("Asia/Shanghai").to_string();
    for (code, pack, minor) in [("FLOUR", "bag", 16000), ("BUTTER", "case", 52000)] {
        let si = ok(
            app,
            &admin,
            &format!("/api/v1/suppliers/{supplier}/items"),
            json!({"item_code": code, "pack_unit": pack}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        ok(
            app,
            &admin,
            &format!("/api/v1/suppliers/{supplier}/prices"),
            json!({"supplier_item_id": si, "price_minor": minor, "effective_from": today}),
        )
        .await;
    }
}

async fn order_approve_on_a_phone(app: TestApp) {
    seed(&app).await;
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
    let run = async {
        let a = driver.session("en-US", &profiles.path().join("a")).await?;
        let r = admin_walk(&a, &base, &shots).await;
        let _ = a.close().await;
        r?;
        let m = driver.session("en-US", &profiles.path().join("m")).await?;
        let r = manager_walk(&m, &base, &shots).await;
        let _ = m.close().await;
        let po = r?;
        let rm = driver.session("zh-CN", &profiles.path().join("r")).await?;
        let r = region_walk(&rm, &base, &po, &shots).await;
        let _ = rm.close().await;
        r?;
        let m = driver.session("en-US", &profiles.path().join("m2")).await?;
        let r = manager_sees_approved(&m, &base, &po).await;
        let _ = m.close().await;
        r
    };
    if let Err(e) = run.await {
        panic!("[{:?}] {e:#}", app.backend);
    }
    drop(driver);
    let status = app
        .scalar_i64("SELECT COUNT(*) FROM purchase_orders WHERE status = 'partially_received'")
        .await;
    assert_eq!(status, 1, "the order is approved and partly received");
    // Stock at S001: 1 bag of flour (25 kg) and 1 case of butter (10 kg), at the order price.
    let s1 = app.store_id("S001").await;
    for (code, kg, value) in [("FLOUR", 25, 16000), ("BUTTER", 10, 52000)] {
        let q = app
            .scalar_i64(&format!(
                "SELECT v.qty FROM inv_valuation v JOIN inv_items i ON i.id = v.item_id \
                 WHERE i.code = '{code}' AND v.location_id = '{s1}'"
            ))
            .await;
        assert_eq!(q, kg * 1_000_000, "{code} on hand");
        let v = app
            .scalar_i64(&format!(
                "SELECT v.value FROM inv_valuation v JOIN inv_items i ON i.id = v.item_id \
                 WHERE i.code = '{code}' AND v.location_id = '{s1}'"
            ))
            .await;
        assert_eq!(v, value, "{code} valued at the order price");
    }
}

async fn admin_walk(c: &Client, base: &str, shots: &Shots) -> Result<()> {
    login(c, base, "admin").await?;
    click(c, "#lang-switch").await?;
    wait_css(c, "html[lang='en']").await?;
    c.goto(&format!("{base}/admin/workflows")).await?;
    wait_css(c, "#new-workflow").await?;
    click(c, "#new-workflow").await?;
    wait_css(c, "#workflow-form").await?;
    fill(c, "#code", "po-region").await?;
    fill(c, "#name", "Orders: region manager").await?;
    fill(c, "#condition", "amount >= 100 and amout < 9000").await?;
    fill(c, "#s0-name", "Region manager").await?;
    c.find(Locator::Css("#s0-role option[value='region_manager']"))
        .await?
        .click()
        .await?;
    c.find(Locator::Css("#s0-level option[value='region']"))
        .await?
        .click()
        .await?;
    fill(c, "#s0-sla", "24").await?;
    click(c, "#save-workflow").await?;
    // The typo is named on the condition field; nothing is saved.
    wait_css(c, ".field.invalid #condition").await?;
    let msg = text(c, "#workflow-form .field.invalid .field-error").await?;
    ensure!(
        msg.contains("amout"),
        "the error names the unknown field: {msg}"
    );
    shots.both(c, "workflow-error").await?;
    fill(c, "#condition", "amount >= 100 and amount < 9000").await?;
    click(c, "#save-workflow").await?;
    wait_url(c, "saved=1").await?;
    wait_css(c, ".flash").await?;
    c.goto(&format!("{base}/admin/workflows")).await?;
    wait_css(c, "#workflow-table").await?;
    let rows = c.find_all(Locator::Css("#workflow-table tbody tr")).await?;
    ensure!(rows.len() == 1, "one workflow, got {}", rows.len());
    shots.both(c, "workflows").await?;
    Ok(())
}

/// Order 2 bags of flour and 1 case of butter at S001; returns the order's URL path.
async fn manager_walk(c: &Client, base: &str, shots: &Shots) -> Result<String> {
    login(c, base, "manager.s001").await?;
    if c.find(Locator::Css("html[lang='zh-CN']")).await.is_ok() {
        click(c, "#lang-switch").await?;
        wait_css(c, "html[lang='en']").await?;
    }
    click(c, "nav.sidebar a[href='/purchasing/orders']").await?;
    wait_css(c, "#new-po").await?;
    click(c, "#new-po").await?;
    wait_css(c, "#po-pick").await?;
    c.find(Locator::Css("#pick-supplier option:nth-child(2)"))
        .await?
        .click()
        .await?;
    click(c, "#pick-go").await?;
    wait_css(c, "#po-lines").await?;
    shots.both(c, "po-new").await?;
    fill(c, "input[data-code='FLOUR']", "2").await?;
    fill(c, "input[data-code='BUTTER']", "1").await?;
    click(c, "#save-po").await?;
    wait_url(c, "created=1").await?;
    wait_css(c, "#po-route").await?;
    let route = text(c, "#po-route").await?;
    ensure!(
        route.contains("Region manager") && route.contains("Wang Fang"),
        "the route names the region manager before submitting: {route}"
    );
    ensure!(
        text(c, "#po-total").await? == "840.00",
        "2 × 160.00 + 520.00"
    );
    shots.both(c, "po-draft").await?;
    click(c, "#submit-po").await?;
    wait_url(c, "submitted=1").await?;
    wait_css(c, "#po-approval").await?;
    let st = c
        .find(Locator::Css("#po-status"))
        .await?
        .attr("data-status")
        .await?;
    ensure!(
        st.as_deref() == Some("pending_approval"),
        "submitted: {st:?}"
    );
    let url = c.current_url().await?;
    Ok(url.path().to_string())
}

async fn region_walk(c: &Client, base: &str, po: &str, shots: &Shots) -> Result<()> {
    set_viewport(c, 390, 844).await?;
    login(c, base, "region.east").await?;
    ensure!(
        c.find(Locator::Css("html[lang='zh-CN']")).await.is_ok(),
        "the region manager reads Chinese"
    );
    // On a phone the menu is folded away; read the link's text all the same.
    let nav = c
        .execute(
            "return document.querySelector(\"nav.sidebar a[href='/approvals']\").textContent;",
            vec![],
        )
        .await?
        .as_str()
        .unwrap_or_default()
        .to_string();
    ensure!(
        nav.contains("(1)"),
        "one approval waiting in the menu: {nav}"
    );
    c.goto(&format!("{base}/approvals")).await?;
    wait_css(c, "#inbox article.task").await?;
    let card = text(c, "#inbox article.task").await?;
    ensure!(card.contains("840.00"), "the card shows the amount: {card}");
    shots.both(c, "inbox").await?;
    set_viewport(c, 390, 844).await?;
    fill(c, "#inbox article.task textarea", "同意，按时送货").await?;
    click(c, "#inbox article.task button.approve").await?;
    wait_url(c, "done=approved").await?;
    wait_css(c, "#inbox-empty").await?;
    shots.take(c, "inbox-done-phone", 390).await?;
    // The region manager may read the order through the approval.
    c.goto(&format!("{base}{po}")).await?;
    wait_css(c, "#po-approval").await?;
    Ok(())
}

async fn manager_sees_approved(c: &Client, base: &str, po: &str) -> Result<()> {
    login(c, base, "manager.s001").await?;
    c.goto(&format!("{base}{po}")).await?;
    wait_css(c, "#approval-history").await?;
    let st = c
        .find(Locator::Css("#po-status"))
        .await?
        .attr("data-status")
        .await?;
    ensure!(st.as_deref() == Some("approved"), "approved: {st:?}");
    let history = text(c, "#approval-history").await?;
    ensure!(
        history.contains("Wang Fang") && history.contains("同意，按时送货"),
        "the history shows who approved and why: {history}"
    );
    // The goods arrive: one bag of flour is damaged, the rest is accepted as proposed.
    wait_css(c, "#receive-form").await?;
    fill(c, "input[name='damaged.1']", "1").await?;
    fill(c, "input[name='qty.1']", "1").await?;
    fill(c, "#receipt_key", "DN-88").await?;
    click(c, "#receive-po").await?;
    wait_url(c, "received=1").await?;
    wait_css(c, "#po-receipts").await?;
    let st = c
        .find(Locator::Css("#po-status"))
        .await?
        .attr("data-status")
        .await?;
    ensure!(
        st.as_deref() == Some("partially_received"),
        "one bag still to come: {st:?}"
    );
    Ok(())
}
