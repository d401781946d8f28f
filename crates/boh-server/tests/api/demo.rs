//! The small demo (`boh serve --demo --demo-size small`, used by the browser and crash
//! tests): suppliers with items and dated price histories, recipes whose explosion reaches
//! stocked ingredients through sub-recipes and whose cost roll-up is complete and plausible,
//! versions that changed part-way through the history, and a ledger the checker accepts.

use serde_json::Value;

use crate::common::TestApp;
use crate::inventory::assert_ledger_consistent;

both!(small_demo_has_suppliers_prices_and_costed_recipes);

async fn item_id(app: &TestApp, token: &str, code: &str) -> String {
    let r = app.get(&format!("/api/v1/items?q={code}"), token).await;
    r.assert_status(200);
    r.json()["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["code"] == code)
        .and_then(|i| i["id"].as_str())
        .unwrap_or_else(|| panic!("no item {code}"))
        .to_string()
}

async fn small_demo_has_suppliers_prices_and_costed_recipes(app: TestApp) {
    boh_server::seed_modules(&app.platform, boh_inventory::demo::DemoSize::Small)
        .await
        .expect("seeding the small demo");
    assert_ledger_consistent(&app).await;
    let admin = app.login_token("admin").await;

    // Forty suppliers, with contacts and delivery days; most sell something, at prices that
    // changed over the half year.
    let r = app.get("/api/v1/suppliers?limit=100", &admin).await;
    r.assert_status(200);
    let suppliers: Vec<Value> = r.json()["items"].as_array().expect("items").clone();
    assert_eq!(suppliers.len(), 40, "demo suppliers");
    let mut priced = 0;
    let mut with_history = 0;
    for s in &suppliers {
        assert!(s["name_zh"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(s["contact_name"].as_str().is_some_and(|n| !n.is_empty()));
        assert!(!s["delivery_days"].as_array().expect("days").is_empty());
        let id = s["id"].as_str().expect("id");
        let r = app
            .get(&format!("/api/v1/suppliers/{id}/items"), &admin)
            .await;
        r.assert_status(200);
        let j = r.json();
        let items = j["items"]
            .as_array()
            .or(j.as_array())
            .cloned()
            .unwrap_or_default();
        for it in &items {
            assert!(
                it["current_price"]["price_minor"]
                    .as_i64()
                    .is_some_and(|p| p > 0),
                "{} of {} has a price today: {it}",
                it["item_code"],
                s["code"]
            );
            priced += 1;
        }
        if items.is_empty() {
            continue;
        }
        let r = app
            .get(&format!("/api/v1/suppliers/{id}/prices?limit=500"), &admin)
            .await;
        r.assert_status(200);
        let j = r.json();
        let prices = j["items"]
            .as_array()
            .or(j.as_array())
            .cloned()
            .unwrap_or_default();
        if prices.len() > items.len() {
            with_history += 1;
        }
    }
    assert!(priced >= 40, "{priced} supplier items with a price");
    assert!(
        with_history >= 5,
        "{with_history} suppliers with price changes"
    );

    // A burger: bun, patty, a house sauce made in the kitchen (a stocked prepared item);
    // the bacon-and-egg burger takes a fried egg, made to order, so exploding it reaches eggs
    // and oil. Costs are complete and a plausible share of the price.
    let burger = item_id(&app, &admin, "MN0001").await;
    let r = app
        .get(
            &format!("/api/v1/items/{burger}/recipe/cost?selling_price=3200"),
            &admin,
        )
        .await;
    r.assert_status(200);
    let cost = r.json();
    assert_eq!(cost["complete"], true, "{cost}");
    let food_cost = cost["food_cost_bp"].as_i64().expect("food cost");
    assert!(
        (2_000..=4_000).contains(&food_cost),
        "food cost {food_cost} bp"
    );
    assert!(
        cost["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .any(|l| l["source"] == "recipe"),
        "the house sauce costs what its recipe costs: {cost}"
    );
    let r = app
        .get(&format!("/api/v1/items/{burger}/recipe"), &admin)
        .await;
    r.assert_status(200);
    let recipe = r.json();
    let versions = recipe["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "a portion change part-way: {recipe}");
    assert_eq!(recipe["current_version_no"], 2);

    let egg_burger = item_id(&app, &admin, "MN0005").await;
    let r = app
        .get(
            &format!("/api/v1/items/{egg_burger}/recipe/explode?qty=10"),
            &admin,
        )
        .await;
    r.assert_status(200);
    let comps = r.json()["components"]
        .as_array()
        .expect("components")
        .clone();
    let qty_of = |name: &str| {
        comps
            .iter()
            .find(|c| c["item_name_en"] == name)
            .and_then(|c| c["qty"].as_str())
            .map(str::to_string)
    };
    assert_eq!(qty_of("Eggs").as_deref(), Some("0.55"), "{comps:?}");
    assert_eq!(qty_of("Burger buns").as_deref(), Some("10"), "{comps:?}");
    assert!(qty_of("Fried egg").is_none(), "made to order, exploded");

    // Every menu item of the small demo has a complete cost.
    let r = app.get("/api/v1/items?kind=menu&limit=100", &admin).await;
    r.assert_status(200);
    let menu: Vec<Value> = r.json()["items"].as_array().expect("items").clone();
    assert!(menu.len() >= 8, "{} menu items", menu.len());
    for m in &menu {
        let id = m["id"].as_str().expect("id");
        let r = app
            .get(&format!("/api/v1/items/{id}/recipe/cost"), &admin)
            .await;
        r.assert_status(200);
        let c = r.json();
        assert_eq!(c["complete"], true, "{}: {c}", m["code"]);
        assert!(c["unit_cost"].as_i64().is_some_and(|u| u > 0), "{c}");
    }
}

both!(small_demo_has_pos_history_with_held_codes);

/// The small demo's POS history: a week of batches for S001 and S002 up to today, rollups
/// equal to their lines, demo codes waiting in the unmapped queue, no stock depleted by the
/// history (the inventory demo's issues are the usage), and the ledger still consistent.
async fn small_demo_has_pos_history_with_held_codes(app: TestApp) {
    boh_server::seed_modules(&app.platform, boh_inventory::demo::DemoSize::Small)
        .await
        .expect("seeding the small demo");
    assert_ledger_consistent(&app).await;
    // Maintenance: spare parts in stock at the stores, PM schedules, half a year of readings
    // and rules; the first PM run opened the schedules due now.
    let parts_in_stock = app
        .scalar_i64(
            "SELECT COUNT(*) FROM inv_valuation v JOIN inv_items i ON i.id = v.item_id \
             WHERE i.kind = 'part' AND v.qty > 0",
        )
        .await;
    assert!(
        parts_in_stock >= 6,
        "spare parts in stock: {parts_in_stock}"
    );
    assert!(app.count("mnt_pm_schedules").await > 0);
    assert!(app.count("mnt_meter_readings").await > 0);
    assert!(app.count("mnt_predictive_rules").await > 0);
    assert!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM mnt_work_orders WHERE source = 'pm' AND schedule_id IS NOT NULL"
        )
        .await
            > 0,
        "the first PM run generated work orders"
    );
    assert_eq!(
        app.scalar_i64("SELECT next_value FROM inv_sequences WHERE name = 'mnt_work_order'")
            .await,
        app.count("mnt_work_orders").await,
        "new work orders are numbered after the history"
    );
    let days = app
        .scalar_i64("SELECT COUNT(DISTINCT business_date) FROM sales_batches")
        .await;
    // Today counts once its first tickets have closed (the shop opens at 7:00).
    assert!((6..=7).contains(&days), "a week of store-days: {days}");
    let stores = app
        .scalar_i64("SELECT COUNT(DISTINCT store_id) FROM sales_batches")
        .await;
    assert_eq!(stores, 2, "S001 and S002");
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").expect("zone"))
        .date()
        .to_string();
    let last = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM sales_batches WHERE business_date = '{today}'"
        ))
        .await;
    let hour = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").expect("zone"))
        .hour();
    if hour >= 8 {
        assert_eq!(last, 2, "today has its tickets up to now at both stores");
    }
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM sales_usage").await,
        0,
        "the history depletes nothing"
    );
    let refunds = app
        .scalar_i64("SELECT COUNT(*) FROM sales_tickets WHERE kind <> 'sale'")
        .await;
    let tickets = app.count("sales_tickets").await;
    assert!(tickets > 200, "{tickets} tickets");
    assert!(
        refunds * 10 < tickets,
        "{refunds} refunds and voids of {tickets}"
    );
    let tenders = app
        .scalar_i64("SELECT COUNT(DISTINCT tender) FROM sales_tenders")
        .await;
    assert!(tenders >= 5, "{tenders} tenders");
    let rep = boh_sales::rollup::check(&app.platform)
        .await
        .expect("check");
    assert!(rep.problems.is_empty(), "{:?}", rep.problems);
    assert_eq!(
        rep.rows["sales_rollup_day"] as i64,
        2 * days,
        "{:?}",
        rep.rows
    );
    let day_rows = app.count("sales_rollup_day").await;
    assert_eq!(day_rows, 2 * days, "one day rollup per store-day");
    let net = app
        .scalar_i64("SELECT CAST(COALESCE(SUM(net), 0) AS BIGINT) FROM sales_rollup_day")
        .await;
    let lines_net = app
        .scalar_i64("SELECT CAST(COALESCE(SUM(net), 0) AS BIGINT) FROM sales_tickets")
        .await;
    assert_eq!(net, lines_net, "the day rollups add up to the tickets");
    let admin = app.login_token("admin").await;
    let held = app.scalar_i64("SELECT COUNT(*) FROM sales_held").await;
    assert!(held > 0, "demo codes are held");
    let held_batches = app
        .scalar_i64("SELECT CAST(COALESCE(SUM(held_count), 0) AS BIGINT) FROM sales_batches")
        .await;
    assert_eq!(held, held_batches, "held rows = the batches' held counts");
    let open = app
        .scalar_i64("SELECT COUNT(*) FROM sales_unmapped WHERE status = 'open'")
        .await;
    assert!((1..=3).contains(&open), "{open} demo codes in the queue");
    let _ = admin;
}
