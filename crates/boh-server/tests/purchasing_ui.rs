//! Browser test of the supplier, recipe and production pages: a real Chromium through
//! chromedriver against the real server (demo data plus a small catalogue made through the
//! API), once on SQLite and once on PostgreSQL. The administrator records a price on the
//! supplier page and reads a recipe's cost roll-up; a store manager, on a phone and in
//! Chinese, previews and posts a production.
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

both!(supplier_recipe_and_production_pages);

use common::browser::*;

// ---------------------------------------------------------------------------------- data

async fn ok(app: &TestApp, token: &str, path: &str, body: Value) -> Value {
    let r = app.post_json(path, token, body, &[]).await;
    r.assert_status(201);
    r.json()
}

/// A small catalogue: ingredients with suppliers and a price history, a sub-recipe, a
/// stocked preparation and a dish; stock at S001. Returns (supplier id, dish id, confit id).
async fn seed(app: &TestApp) -> (String, String, String) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    for (code, zh, en, unit, units) in [
        (
            "BEEF",
            "牛肉馅",
            "Ground beef",
            "kg",
            json!([{"unit": "case", "factor": "10"}]),
        ),
        ("BUN", "汉堡面包", "Burger bun", "ea", json!([])),
        (
            "CHEESE",
            "切达奶酪",
            "Cheddar",
            "kg",
            json!([{"unit": "slice", "factor": "0.02"}]),
        ),
        (
            "ONION",
            "洋葱",
            "Onion",
            "kg",
            json!([{"unit": "sack", "factor": "20"}]),
        ),
        (
            "OIL",
            "大豆油",
            "Soybean oil",
            "l",
            json!([{"unit": "drum", "factor": "20"}]),
        ),
        ("MAYO", "蛋黄酱", "Mayonnaise", "l", json!([])),
        ("MUSTARD", "芥末酱", "Mustard", "l", json!([])),
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
        json!({"code": "SHFRESH", "name_zh": "上海鲜达食品", "name_en": "Shanghai Fresh Foods",
               "contact_name": "王丽", "phone": "+86 21 6888 1234", "email": "order@shfresh.example",
               "address": "上海市闵行区申长路 88 号", "lead_time_days": 1, "delivery_days": [1, 3, 5],
               "min_order_minor": 80000}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (code, zh, en) in [
        ("METRO", "麦德龙", "Metro Cash & Carry"),
        ("GOLDMILL", "金磨坊面粉", "Golden Mill Flour"),
        ("DAIRYCO", "光明乳业", "Bright Dairy"),
    ] {
        ok(
            app,
            &admin,
            "/api/v1/suppliers",
            json!({"code": code, "name_zh": zh, "name_en": en, "lead_time_days": 2,
                   "delivery_days": [2, 4]}),
        )
        .await;
    }
    type PriceList<'a> = &'a [(i64, &'a str)];
    let prices: &[(&str, &str, PriceList)] = &[
        (
            "BEEF",
            "case",
            &[
                (56000, "2026-03-01"),
                (58000, "2026-06-01"),
                (61000, "2026-09-01"),
                (60000, "2026-11-15"),
            ],
        ),
        (
            "BUN",
            "dozen",
            &[(1100, "2026-03-01"), (1200, "2026-08-01")],
        ),
        (
            "CHEESE",
            "kg",
            &[(8800, "2026-03-01"), (9000, "2026-10-01")],
        ),
        (
            "ONION",
            "sack",
            &[(7000, "2026-03-01"), (8000, "2026-11-01")],
        ),
        ("OIL", "drum", &[(26000, "2026-03-01")]),
        ("MAYO", "l", &[(2000, "2026-03-01")]),
        ("MUSTARD", "l", &[(3000, "2026-03-01")]),
    ];
    for (code, pack, list) in prices {
        let si = ok(
            app,
            &admin,
            &format!("/api/v1/suppliers/{supplier}/items"),
            json!({"item_code": code, "pack_unit": pack, "supplier_sku": format!("SF-{code}"),
                   "preferred": *code == "BEEF"}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_string();
        for (minor, from) in list.iter() {
            ok(
                app,
                &admin,
                &format!("/api/v1/suppliers/{supplier}/prices"),
                json!({"supplier_item_id": si, "price_minor": minor, "effective_from": from}),
            )
            .await;
        }
    }
    let spread = ok(
        app,
        &admin,
        "/api/v1/items",
        json!({"code": "SPREAD", "name_zh": "汉堡酱", "name_en": "Burger spread", "kind": "prepared",
               "base_unit": "l", "stocked": false}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        app,
        &admin,
        &format!("/api/v1/items/{spread}/recipe/versions"),
        json!({"effective_from": "2026-03-01", "lines": [
            {"item_code": "MAYO", "qty": "0.8"}, {"item_code": "MUSTARD", "qty": "0.2"}]}),
    )
    .await;
    let confit = ok(
        app,
        &admin,
        "/api/v1/items",
        json!({"code": "CONFIT", "name_zh": "焦糖洋葱", "name_en": "Onion confit", "kind": "prepared",
               "base_unit": "kg", "shelf_life_days": 3}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        app,
        &admin,
        &format!("/api/v1/items/{confit}/recipe/versions"),
        json!({"effective_from": "2026-03-01", "yield_qty": "0.5", "note": "Slow-cooked 40 min",
               "lines": [{"item_code": "ONION", "qty": "1", "yield_pct": "90"},
                         {"item_code": "OIL", "qty": "25", "unit": "ml"}]}),
    )
    .await;
    let burger = ok(
        app,
        &admin,
        "/api/v1/items",
        json!({"code": "CHEESEBURGER", "name_zh": "芝士汉堡", "name_en": "Cheeseburger", "kind": "menu",
               "base_unit": "ea"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (from, beef) in [("2026-03-01", "140"), (today().as_str(), "150")] {
        ok(
            app,
            &admin,
            &format!("/api/v1/items/{burger}/recipe/versions"),
            json!({"effective_from": from, "lines": [
                {"item_code": "BEEF", "qty": beef, "unit": "g"},
                {"item_code": "BUN", "qty": "1"},
                {"item_code": "CHEESE", "qty": "1", "unit": "slice"},
                {"item_code": "CONFIT", "qty": "20", "unit": "g"},
                {"item_code": "SPREAD", "qty": "15", "unit": "ml"}]}),
        )
        .await;
    }
    let r = app
        .post_json(
            "/api/v1/stock/documents",
            &admin,
            json!({"location_id": s1, "kind": "receipt", "lines": [
                {"item_code": "ONION", "qty": "1", "unit": "sack", "unit_cost": "80"},
                {"item_code": "OIL", "qty": "5", "unit_cost": "13"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    (supplier, burger, confit)
}

fn today() -> String {
    boh_inventory::today_in("Asia/Shanghai").to_string()
}

// -------------------------------------------------------------------------------- scenario

async fn supplier_recipe_and_production_pages(app: TestApp) {
    let (supplier, burger, confit) = seed(&app).await;
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
        let admin = driver.session("en-US", &profiles.path().join("a")).await?;
        let r = admin_walk(&admin, &base, &supplier, &burger, &shots).await;
        let _ = admin.close().await;
        r?;
        let m = driver.session("zh-CN", &profiles.path().join("m")).await?;
        let r = manager_walk(&m, &base, &confit, &shots).await;
        let _ = m.close().await;
        r
    };
    if let Err(e) = run.await {
        panic!("[{:?}] {e:#}", app.backend);
    }
    drop(driver);
}

async fn admin_walk(
    c: &Client,
    base: &str,
    supplier: &str,
    burger: &str,
    shots: &Shots,
) -> Result<()> {
    login(c, base, "admin").await?;
    // The demo administrator prefers Chinese; switch to English.
    click(c, "#lang-switch").await?;
    wait_css(c, "html[lang='en']").await?;
    ensure!(
        text(c, "nav.sidebar a[href='/suppliers']").await? == "Suppliers",
        "suppliers in the navigation"
    );

    // The list: search and the closed filter.
    click(c, "nav.sidebar a[href='/suppliers']").await?;
    wait_css(c, "#suppliers-table").await?;
    let rows = c
        .find_all(Locator::Css("#suppliers-table tbody tr"))
        .await?;
    ensure!(rows.len() == 4, "four suppliers, got {}", rows.len());
    shots.both(c, "suppliers").await?;
    fill(c, "form.filters input[name='q']", "fresh").await?;
    click(c, "form.filters button[type='submit']").await?;
    wait_url(c, "q=fresh").await?;
    wait_css(c, "#suppliers-table").await?;
    let rows = c
        .find_all(Locator::Css("#suppliers-table tbody tr"))
        .await?;
    ensure!(rows.len() == 1, "search 'fresh' gave {} rows", rows.len());

    // The supplier's page: items with current prices, the history chart; record a price.
    c.goto(&format!("{base}/suppliers/{supplier}")).await?;
    wait_css(c, "#supplier-items").await?;
    let beef = text(c, "#supplier-items tbody tr").await?;
    ensure!(
        beef.contains("BEEF") && beef.contains("600.00 CNY") && beef.contains("60.00 / kg"),
        "beef row: {beef:?}"
    );
    wait_css(c, "svg.chart polyline").await?;
    click(c, "#supplier-items tbody tr a.btn").await?;
    wait_css(c, "#price-history").await?;
    let n = c
        .find_all(Locator::Css("#price-history tbody tr"))
        .await?
        .len();
    ensure!(n == 4, "beef has four prices, got {n}");
    fill(c, "#price", "625.50").await?;
    fill(c, "#note", "Quote Q-2026-118").await?;
    click(c, "#save-price").await?;
    let flash = text(c, ".flash").await?;
    ensure!(flash.contains("Price recorded"), "flash: {flash:?}");
    let first = text(c, "#price-history tbody tr").await?;
    ensure!(
        first.contains("625.50 CNY") && first.contains("In force"),
        "newest price first and in force: {first:?}"
    );
    let n = c
        .find_all(Locator::Css("#price-history tbody tr"))
        .await?
        .len();
    ensure!(n == 5, "history keeps every price: {n}");
    shots.both(c, "supplier").await?;
    // A bad price stays on the form with the error beside it.
    fill(c, "#price", "abc").await?;
    click(c, "#save-price").await?;
    let err = text(c, "#price + .field-error").await?;
    ensure!(!err.is_empty(), "price error shown");

    // The recipe page: versions, lines, cost roll-up with food cost.
    c.goto(&format!("{base}/recipes")).await?;
    wait_css(c, "#recipes-table").await?;
    shots.both(c, "recipes").await?;
    c.goto(&format!("{base}/recipes/{burger}?price=32.00#cost"))
        .await?;
    wait_css(c, "#cost-table").await?;
    let n = c
        .find_all(Locator::Css("#cost-table tbody tr"))
        .await?
        .len();
    ensure!(n == 5, "five cost lines, got {n}");
    let food = text(c, ".kpis .kpi:nth-child(3) .kpi-value").await?;
    ensure!(food.ends_with('%'), "food cost shown: {food:?}");
    ensure!(
        c.find_all(Locator::Css("ul.versions li")).await?.len() == 2,
        "two versions listed"
    );
    shots.both(c, "recipe").await?;
    // A new version dated in the past is refused and the typed lines are kept.
    let form = wait_css(c, "#new-version summary").await?;
    form.click().await?;
    c.execute(
        "document.getElementById('effective_from').value = '2026-06-01';",
        vec![],
    )
    .await?;
    click(c, "#save-version").await?;
    let alert = text(c, "#new-version .alert").await?;
    ensure!(
        alert.contains("never changed"),
        "history refusal: {alert:?}"
    );
    let kept = wait_css(c, "input[name='line_item']")
        .await?
        .prop("value")
        .await?;
    ensure!(kept.as_deref() == Some("BEEF"), "lines kept: {kept:?}");
    shots.both(c, "recipe-version-refused").await?;
    // The new-supplier form.
    c.goto(&format!("{base}/suppliers/new")).await?;
    wait_css(c, "#supplier-form").await?;
    click(c, "#save-supplier").await?;
    wait_css(c, "#code + .field-error").await?;
    shots.both(c, "supplier-form-errors").await?;
    Ok(())
}

async fn manager_walk(c: &Client, base: &str, confit: &str, shots: &Shots) -> Result<()> {
    login(c, base, "manager.s001").await?;
    ensure!(
        text(c, "nav.sidebar a[href='/production']").await? == "生产加工",
        "production in the Chinese navigation"
    );
    // A store manager reads suppliers but cannot create them.
    c.goto(&format!("{base}/suppliers")).await?;
    wait_css(c, "#suppliers-table").await?;
    ensure!(
        c.find_all(Locator::Css("#new-supplier")).await?.is_empty(),
        "no new-supplier button for a store manager"
    );
    // Production on a phone: choose, preview, adjust, post.
    set_viewport(c, 390, 844).await?;
    c.goto(&format!("{base}/production?item_id={confit}"))
        .await?;
    wait_css(c, "#production-form").await?;
    fill(c, "#qty", "2").await?;
    click(c, "#preview-production").await?;
    wait_css(c, "ul.plan li").await?;
    let lines = c.find_all(Locator::Css("ul.plan li")).await?;
    ensure!(lines.len() == 2, "two ingredients, got {}", lines.len());
    let onion = text(c, "ul.plan li:nth-child(2)").await?;
    ensure!(onion.contains("4.444444"), "onion for 2 kg: {onion:?}");
    shots.take(c, "production-preview-zh-phone", 390).await?;
    fill(c, "#actual-1", "4.6").await?;
    click(c, "#post-production").await?;
    let flash = text(c, ".flash").await?;
    ensure!(flash.contains("生产已过账"), "flash: {flash:?}");
    let posted = text(c, "#posted").await?;
    ensure!(
        posted.contains("4.6") && posted.contains("CONFIT"),
        "posted: {posted:?}"
    );
    shots.take(c, "production-posted-zh-phone", 390).await?;
    shots.take(c, "production-posted-zh-desktop", 1280).await?;
    // Too much for the onion on hand: refused, explained, nothing posted.
    c.goto(&format!("{base}/production?item_id={confit}"))
        .await?;
    fill(c, "#qty", "50").await?;
    click(c, "#preview-production").await?;
    click(c, "#post-production").await?;
    let alert = text(c, ".alert").await?;
    ensure!(alert.contains("库存不足"), "shortage: {alert:?}");
    let beside = text(c, "ul.plan .field-error").await?;
    ensure!(
        beside.contains("ONION"),
        "the shortage is shown beside the ingredient: {beside:?}"
    );
    shots.take(c, "production-short-zh-phone", 390).await?;
    Ok(())
}
