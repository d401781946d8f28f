//! Browser test of the inventory pages: a real Chromium through chromedriver against the real
//! server with the small demo catalogue, once on SQLite and once on PostgreSQL. The
//! administrator reads the stock dashboard, finds an item and its stock per location, reads
//! the valuation report, adds a storage area and a par level at a store, on a desktop; a store manager, on a phone and in Chinese, posts a receipt through the posting
//! form, sees it on hand, is refused an issue of more than there is (with the reason, nothing
//! posted), cannot open another store's document, and counts a shelf on the count screen.
//!
//! Set `BOH_SCREENSHOT_DIR` to keep full-page PNGs at desktop (1280 px) and phone (390 px).

#[macro_use]
mod common;

use std::path::PathBuf;

use anyhow::{Result, ensure};
use fantoccini::{Client, Locator};
use serde_json::json;

use common::TestApp;
use common::browser::*;

both!(inventory_pages);

async fn inventory_pages(app: TestApp) {
    boh_server::seed_modules(&app.platform, boh_inventory::demo::DemoSize::Small)
        .await
        .expect("seeding the small demo catalogue");
    let admin = app.login_token("admin").await;
    // A document at S002 the store manager of S001 must not reach.
    let s002 = app.store_id("S002").await;
    let r = app
        .post_json(
            "/api/v1/stock/documents",
            &admin,
            json!({"location_id": s002, "kind": "issue", "lines": [{"item_code": "RT0001", "qty": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let foreign_doc = r.json()["id"].as_str().unwrap().to_string();
    // S001 refuses negative stock, so that an oversized issue is refused.
    let s001 = app.store_id("S001").await;
    app.request(
        hyper::Method::PUT,
        &format!("/api/v1/locations/{s001}/stock-settings"),
    )
    .bearer(&admin)
    .json(&json!({"negative_policy": "forbid"}))
    .send()
    .await
    .assert_status(200);

    let driver = Driver::start().expect("chromedriver");
    let profile = tempfile::tempdir().expect("profile dir");
    let shots = Shots {
        dir: std::env::var("BOH_SCREENSHOT_DIR").ok().map(PathBuf::from),
        prefix: format!("inventory-{:?}", app.backend).to_lowercase(),
    };
    let c = driver
        .session("en", profile.path())
        .await
        .expect("browser session");
    let result = async {
        admin_walk(&c, &app.base, &shots).await?;
        c.delete_all_cookies().await?;
        manager_walk(&c, &app, &foreign_doc, &shots).await
    }
    .await;
    let _ = c.close().await;
    result.unwrap_or_else(|e| panic!("inventory pages on {:?}: {e:#}", app.backend));
}

async fn admin_walk(c: &Client, base: &str, shots: &Shots) -> Result<()> {
    login(c, base, "admin").await?;
    c.goto(&format!("{base}/inventory")).await?;
    wait_css(c, ".kpis .kpi").await?;
    wait_css(c, "svg.chart").await?;
    shots.both(c, "dashboard").await?;
    c.goto(&format!("{base}/inventory/items?q=RT0001")).await?;
    let rows = c
        .find_all(Locator::Css("#items-table tbody tr"))
        .await?
        .len();
    ensure!(rows == 1, "searching RT0001 lists {rows} items");
    click(c, "#items-table tbody tr a").await?;
    let stock = text(c, "#item-stock").await?;
    ensure!(
        stock.contains("W001") && stock.lines().count() >= 3,
        "the item page lists its stock per location: {stock}"
    );
    wait_css(c, "svg.chart polyline").await?;
    shots.both(c, "item").await?;
    c.goto(&format!("{base}/inventory/stock?low=true")).await?;
    wait_css(c, "h1").await?;
    shots.both(c, "stock").await?;

    // The valuation report, by item and by location.
    c.goto(&format!("{base}/inventory/valuation")).await?;
    let total = text(c, "#valuation-total").await?;
    ensure!(
        total.starts_with('¥') && total != "¥0.00",
        "the demo stock has a value: {total}"
    );
    wait_css(c, "#valuation-table tbody tr").await?;
    shots.both(c, "valuation").await?;
    c.goto(&format!("{base}/inventory/valuation?group=location"))
        .await?;
    let by_loc = text(c, "#valuation-table").await?;
    ensure!(by_loc.contains("W001"), "by location: {by_loc}");

    // Location settings: a storage area and a par level for S001.
    c.goto(&format!("{base}/inventory/locations")).await?;
    shots.both(c, "locations").await?;
    click(c, "#locations-table a[href*='/inventory/locations/']").await?;
    wait_css(c, "#area-form").await?;
    fill(c, "#a-code", "WALKIN").await?;
    fill(c, "#a-en", "Walk-in cooler").await?;
    fill(c, "#a-sort", "1").await?;
    click(c, "#area-form button[type=submit]").await?;
    wait_css(c, ".flash").await?;
    let areas = text(c, "#areas").await?;
    ensure!(
        areas.contains("Walk-in cooler"),
        "the area is listed: {areas}"
    );
    fill(c, "input[name=new_item]", "RT0003").await?;
    fill(c, "input[name=new_par]", "12").await?;
    fill(c, "input[name=new_min]", "abc").await?;
    click(c, "#save-levels").await?;
    let errors = text(c, "#new-row-error").await?;
    ensure!(
        errors.contains("Min") || errors.contains("最低"),
        "a bad minimum is named on its row: {errors}"
    );
    fill(c, "input[name=new_item]", "RT0003").await?;
    fill(c, "input[name=new_par]", "12").await?;
    click(c, "#save-levels").await?;
    wait_css(c, ".flash").await?;
    let levels = text(c, "#levels-table").await?;
    ensure!(levels.contains("RT0003"), "the par level is kept: {levels}");
    shots.both(c, "location").await?;
    c.goto(&format!("{base}/inventory/categories")).await?;
    wait_css(c, "#categories-table tbody tr").await?;
    shots.both(c, "categories").await?;
    Ok(())
}

async fn manager_walk(c: &Client, app: &TestApp, foreign_doc: &str, shots: &Shots) -> Result<()> {
    let base = &app.base;
    login(c, base, "manager.s001").await?;
    set_viewport(c, 390, 860).await?;
    ensure!(
        wait_css(c, "html").await?.attr("lang").await?.as_deref() == Some("zh-CN"),
        "the store manager reads Chinese"
    );
    let token = app.login_token("manager.s001").await;
    let s001 = app.store_id("S001").await;
    let before = on_hand(app, &token, &s001, "RT0002").await;

    // A receipt of two cases through the form.
    c.goto(&format!("{base}/inventory/documents/new?kind=receipt"))
        .await?;
    fill(c, "#item_0", "RT0002").await?;
    fill(c, "#qty_0", "2").await?;
    fill(c, "#unit_0", "case").await?;
    fill(c, "#cost_0", "48").await?;
    shots.take(c, "receipt-form-phone", 390).await?;
    set_viewport(c, 390, 860).await?;
    click(c, "#post-doc").await?;
    let flash = text(c, ".flash").await?;
    ensure!(flash.contains("已过账"), "posted, in Chinese: {flash}");
    let lines = text(c, "#movements-table").await?;
    ensure!(lines.contains("48 ea"), "2 cases are 48 each: {lines}");
    shots.take(c, "receipt-posted-phone", 390).await?;
    let after = on_hand(app, &token, &s001, "RT0002").await;
    ensure!(
        after - before == 48_000_000,
        "on hand rose by 48: {before} -> {after}"
    );

    // More than there is: refused with the reason, nothing posted.
    set_viewport(c, 390, 860).await?;
    c.goto(&format!("{base}/inventory/documents/new?kind=issue"))
        .await?;
    fill(c, "#item_0", "RT0002").await?;
    fill(c, "#qty_0", "100000").await?;
    click(c, "#post-doc").await?;
    let alert = text(c, ".alert").await?;
    ensure!(
        alert.contains("库存不足"),
        "the shortage is explained: {alert}"
    );
    let line = text(c, "fieldset.line .field-error").await?;
    ensure!(line.contains("S001"), "the line names the store: {line}");
    shots.take(c, "issue-refused-phone", 390).await?;
    ensure!(
        on_hand(app, &token, &s001, "RT0002").await == after,
        "nothing was posted"
    );

    // Another store's document does not exist for them.
    c.goto(&format!("{base}/inventory/documents/{foreign_doc}"))
        .await?;
    let h1 = text(c, "h1").await?;
    ensure!(
        h1.contains("不存在") || h1.contains("未找到") || h1.contains("找不到"),
        "404 page: {h1}"
    );

    // A stock count on the phone: start it, type the first shelf's quantity into a big input,
    // save; the page fits the screen.
    set_viewport(c, 390, 860).await?;
    c.goto(&format!("{base}/inventory/counts")).await?;
    click(c, "#start").await?;
    wait_css(c, "#count-form").await?;
    let input = wait_css(c, "#q_0").await?;
    let (_, _, w, h) = input.rectangle().await?;
    ensure!(h >= 44.0 && w >= 150.0, "a thumb-sized input: {w} x {h}");
    let fits = c
        .execute(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1;",
            vec![],
        )
        .await?;
    ensure!(
        fits == serde_json::Value::Bool(true),
        "no sideways scrolling"
    );
    fill(c, "#q_0", "3").await?;
    shots.take(c, "count-entry-phone", 390).await?;
    set_viewport(c, 390, 860).await?;
    click(c, "#save-count").await?;
    wait_url(c, "saved=1").await?;
    let flash = text(c, ".flash").await?;
    ensure!(flash.contains("已保存"), "saved, in Chinese: {flash}");
    let counts = app.get("/api/v1/counts?status=open", &token).await.json();
    ensure!(
        counts["items"][0]["counted_lines"] == 1,
        "one line counted: {counts}"
    );
    Ok(())
}

/// On-hand micro-units of an item at a location, through the API.
async fn on_hand(app: &TestApp, token: &str, location: &str, code: &str) -> i64 {
    let items = app
        .get(&format!("/api/v1/items?q={code}"), token)
        .await
        .json();
    let id = items["items"][0]["id"].as_str().expect("item").to_string();
    let r = app
        .get(
            &format!("/api/v1/stock?item_id={id}&location_id={location}&include_zero=true"),
            token,
        )
        .await
        .json();
    r["items"][0]["qty"]
        .as_str()
        .map(|q| boh_kernel::Qty::parse(q).expect("qty").micros())
        .unwrap_or(0)
}
