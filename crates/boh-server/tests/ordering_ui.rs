//! Browser test of ordering from the order guide: a real Chromium through chromedriver against
//! the real server, once on SQLite and once on PostgreSQL. The store manager of S001 opens the
//! order guide (suggested quantities in whole packs; choosing the warehouse as source shows its
//! unit and suggestion), orders: the supplier lines become one purchase order waiting for the
//! region manager, the sauce (only the warehouse stocks it) a transfer request. The region
//! manager approves on a phone, in Chinese. The store receives the delivery against the order
//! (received, stock up at the order price); the warehouse ships the transfer and the store
//! receives it (stock up).
//!
//! Needs Debian's `chromium` and `chromium-driver` (override with `BOH_CHROMIUM` and
//! `BOH_CHROMEDRIVER`). Set `BOH_SCREENSHOT_DIR` to keep full-page PNGs of the guide and the
//! requisition at desktop (1280 px) and phone (390 px) widths.

#[macro_use]
mod common;

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};
use hyper::Method;
use serde_json::{Value, json};

use common::TestApp;

both!(order_from_the_guide_approve_and_receive);

use common::browser::*;

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post_json(path, token, body, &[]).await;
    r.assert_status(201);
    r.json()
}

/// Flour and butter from GOLDMILL, sauce only at the warehouse W001; par levels at S001 with
/// 30 kg of flour on hand; the region manager approves orders.
async fn seed(app: &TestApp) {
    let admin = app.login_token("admin").await;
    for (code, zh, en, units) in [
        (
            "FLOUR",
            "高筋面粉",
            "Bread flour",
            json!([{"unit": "bag", "factor": "25"}]),
        ),
        (
            "BUTTER",
            "黄油",
            "Butter",
            json!([{"unit": "case", "factor": "10"}]),
        ),
        ("SAUCE", "秘制酱", "House sauce", json!([])),
    ] {
        ok(
            app,
            &admin,
            "/api/v1/items",
            json!({"code": code, "name_zh": zh, "name_en": en, "base_unit": "kg", "units": units}),
        )
        .await;
    }
    let supplier = ok(
        app,
        &admin,
        "/api/v1/suppliers",
        json!({"code": "GOLDMILL", "name_zh": "金磨坊面粉", "name_en": "Golden Mill", "lead_time_days": 1,
               "min_order_minor": 20000, "email": "orders@goldmill.example.cn"}),
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
    let s1 = app.store_id("S001").await;
    let w1 = app.node_id("W001").await;
    for (loc, items) in [
        (
            &s1,
            json!([{"item_code": "FLOUR", "par_qty": "100"}, {"item_code": "BUTTER", "par_qty": "20"},
                   {"item_code": "SAUCE", "par_qty": "12"}]),
        ),
        (
            &w1,
            json!([{"item_code": "FLOUR", "par_qty": "500"}, {"item_code": "SAUCE", "par_qty": "100"}]),
        ),
    ] {
        app.request(Method::PUT, &format!("/api/v1/locations/{loc}/items"))
            .bearer(&admin)
            .json(&json!({"items": items}))
            .send()
            .await
            .assert_status(200);
    }
    for (loc, code, qty) in [(&s1, "FLOUR", "30"), (&w1, "SAUCE", "80")] {
        ok(
            app,
            &admin,
            "/api/v1/stock/documents",
            json!({"location_id": loc, "kind": "receipt",
                   "lines": [{"item_code": code, "qty": qty, "unit_cost": "5"}]}),
        )
        .await;
    }
    ok(
        app,
        &admin,
        "/api/v1/workflow/definitions",
        json!({"code": "po-region", "name": "Orders: region manager", "doc_type": "purchase_order",
               "steps": [{"name": "Region manager", "approvers": {"kind": "role", "role": "region_manager", "level": "region"}}]}),
    )
    .await;
}

async fn value(c: &Client, css: &str) -> Result<String> {
    Ok(wait_css(c, css)
        .await?
        .prop("value")
        .await?
        .unwrap_or_default())
}

async fn on_hand(app: &TestApp, code: &str, loc: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COALESCE(MAX(v.qty), 0) FROM inv_valuation v JOIN inv_items i ON i.id = v.item_id \
         WHERE i.code = '{code}' AND v.location_id = '{loc}'"
    ))
    .await
}

async fn order_from_the_guide_approve_and_receive(app: TestApp) {
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
        let m = driver.session("en-US", &profiles.path().join("m")).await?;
        let r = manager_orders(&m, &base, &shots).await;
        let _ = m.close().await;
        let (po, transfer) = r?;
        let rm = driver.session("zh-CN", &profiles.path().join("r")).await?;
        let r = region_approves(&rm, &base).await;
        let _ = rm.close().await;
        r?;
        let m = driver.session("en-US", &profiles.path().join("m2")).await?;
        let r = store_receives_order(&m, &base, &po).await;
        let _ = m.close().await;
        r?;
        let a = driver.session("en-US", &profiles.path().join("a")).await?;
        let r = warehouse_ships(&a, &base, &transfer).await;
        let _ = a.close().await;
        r?;
        let m = driver.session("en-US", &profiles.path().join("m3")).await?;
        let r = store_receives_transfer(&m, &base, &transfer).await;
        let _ = m.close().await;
        r
    };
    if let Err(e) = run.await {
        panic!("[{:?}] {e:#}", app.backend);
    }
    drop(driver);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM purchase_orders WHERE status = 'received'")
            .await,
        1,
        "the order was approved and received"
    );
    let s1 = app.store_id("S001").await;
    // 30 kg + 3 bags of 25 kg; 2 cases of 10 kg; 12 kg of sauce from the warehouse.
    assert_eq!(on_hand(&app, "FLOUR", &s1).await, 105_000_000);
    assert_eq!(on_hand(&app, "BUTTER", &s1).await, 20_000_000);
    assert_eq!(on_hand(&app, "SAUCE", &s1).await, 12_000_000);
    let w1 = app.node_id("W001").await;
    assert_eq!(on_hand(&app, "SAUCE", &w1).await, 68_000_000);
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM requisition_lines WHERE status IN ('ordered', 'transferred')"
        )
        .await,
        3
    );
}

/// Order from the guide; returns the order's and the transfer's URL paths.
async fn manager_orders(c: &Client, base: &str, shots: &Shots) -> Result<(String, String)> {
    login(c, base, "manager.s001").await?;
    if c.find(Locator::Css("html[lang='zh-CN']")).await.is_ok() {
        click(c, "#lang-switch").await?;
        wait_css(c, "html[lang='en']").await?;
    }
    click(c, "nav.sidebar a[href='/purchasing/guide']").await?;
    wait_css(c, "#guide-lines").await?;
    // Flour 100 − 30 = 70 kg: 3 bags; butter 20 kg: 2 cases; sauce 12 kg from the warehouse.
    ensure!(
        value(c, "input[data-code='FLOUR']").await? == "3",
        "3 bags of flour"
    );
    ensure!(
        value(c, "input[data-code='BUTTER']").await? == "2",
        "2 cases of butter"
    );
    ensure!(
        value(c, "input[data-code='SAUCE']").await? == "12",
        "12 kg of sauce"
    );
    let sauce = text(c, "tr[data-item='SAUCE']").await?;
    ensure!(
        sauce.contains("W001"),
        "the sauce comes from the warehouse: {sauce}"
    );
    shots.both(c, "guide").await?;
    // The warehouse as the flour's source: its unit and suggestion; then back to the mill.
    c.find(Locator::Css(
        "select[data-code='FLOUR'] option[value^='tr:']",
    ))
    .await?
    .click()
    .await?;
    ensure!(
        value(c, "input[data-code='FLOUR']").await? == "70",
        "70 kg from the warehouse"
    );
    ensure!(text(c, "tr[data-item='FLOUR'] .unit").await? == "kg");
    c.find(Locator::Css(
        "select[data-code='FLOUR'] option[value^='si:']",
    ))
    .await?
    .click()
    .await?;
    ensure!(value(c, "input[data-code='FLOUR']").await? == "3");
    ensure!(text(c, "tr[data-item='FLOUR'] .unit").await? == "bag");
    click(c, "#guide-order").await?;
    wait_url(c, "ordered=1").await?;
    wait_css(c, "#req-orders").await?;
    let orders = text(c, "#req-orders").await?;
    ensure!(
        orders.contains("GOLDMILL") && orders.contains("1520.00"),
        "one order of 3 × 160.00 + 2 × 520.00: {orders}"
    );
    ensure!(
        orders.contains("Waiting for approval"),
        "sent for approval: {orders}"
    );
    let sauce = wait_css(c, "tr[data-item='SAUCE']").await?;
    ensure!(
        sauce.attr("data-status").await?.as_deref() == Some("transferred"),
        "the sauce is a transfer request"
    );
    shots.both(c, "requisition").await?;
    let po = c
        .find(Locator::Css("#req-orders a"))
        .await?
        .attr("href")
        .await?
        .context("the order's link")?;
    let transfer = c
        .find(Locator::Css("tr[data-item='SAUCE'] a.transfer-link"))
        .await?
        .attr("href")
        .await?
        .context("the transfer's link")?;
    Ok((po, transfer))
}

async fn region_approves(c: &Client, base: &str) -> Result<()> {
    set_viewport(c, 390, 844).await?;
    login(c, base, "region.east").await?;
    c.goto(&format!("{base}/approvals")).await?;
    wait_css(c, "#inbox article.task").await?;
    let card = text(c, "#inbox article.task").await?;
    ensure!(
        card.contains("GOLDMILL"),
        "the card names the supplier: {card}"
    );
    fill(c, "#inbox article.task textarea", "同意").await?;
    click(c, "#inbox article.task button.approve").await?;
    wait_url(c, "done=approved").await?;
    wait_css(c, "#inbox-empty").await?;
    Ok(())
}

async fn status_of(c: &Client) -> Result<Option<String>> {
    Ok(c.find(Locator::Css("#po-status"))
        .await?
        .attr("data-status")
        .await?)
}

async fn store_receives_order(c: &Client, base: &str, po: &str) -> Result<()> {
    login(c, base, "manager.s001").await?;
    c.goto(&format!("{base}{po}")).await?;
    wait_css(c, "#approval-history").await?;
    ensure!(
        status_of(c).await?.as_deref() == Some("approved"),
        "approved"
    );
    wait_css(c, "#po-pdf").await?;
    wait_css(c, "#po-csv").await?;
    let from = text(c, "#po-requisitions").await?;
    ensure!(
        from.contains("REQ-"),
        "the order names its requisition: {from}"
    );
    // Everything arrives as ordered.
    wait_css(c, "#receive-form").await?;
    fill(c, "#receipt_key", "DN-1").await?;
    click(c, "#receive-po").await?;
    wait_url(c, "received=1").await?;
    ensure!(
        status_of(c).await?.as_deref() == Some("received"),
        "the order is received"
    );
    Ok(())
}

async fn warehouse_ships(c: &Client, base: &str, transfer: &str) -> Result<()> {
    login(c, base, "admin").await?;
    c.goto(&format!("{base}{transfer}")).await?;
    wait_css(c, "#ship").await?;
    click(c, "#ship").await?;
    gone(c, "#ship").await.context("shipping the transfer")
}

/// Wait until nothing matches `css` (the action is no longer offered).
async fn gone(c: &Client, css: &str) -> Result<()> {
    for _ in 0..100 {
        if c.find(Locator::Css(css)).await.is_err() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("{css} is still there")
}

async fn store_receives_transfer(c: &Client, base: &str, transfer: &str) -> Result<()> {
    login(c, base, "manager.s001").await?;
    c.goto(&format!("{base}{transfer}")).await?;
    wait_css(c, "#receive").await?;
    click(c, "#receive").await?;
    gone(c, "#receive").await.context("receiving the transfer")
}
