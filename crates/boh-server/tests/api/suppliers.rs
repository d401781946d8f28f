//! Suppliers, their items and dated prices through the API: the price history is kept, the
//! price in force follows effective dates (ties: the one recorded last), preferred and
//! cheapest suppliers win, closed suppliers and unconvertible pack units are refused naming
//! the field with nothing written, and store managers read but cannot write.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::item;

both!(price_history_and_price_in_force);
both!(closed_supplier_and_unconvertible_pack_unit_are_refused);

fn today() -> jiff::civil::Date {
    boh_inventory::today_in("Asia/Shanghai")
}

fn days_from_today(n: i64) -> String {
    today()
        .checked_add(jiff::Span::new().days(n))
        .expect("a date")
        .to_string()
}

/// Create a supplier as `token` and return its id.
pub async fn supplier(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post_json("/api/v1/suppliers", token, body, &[]).await;
    r.assert_status(201);
    r.json()["id"].as_str().expect("supplier id").to_string()
}

/// Add an item to a supplier and return the supplier item's id.
pub async fn supplier_item(app: &TestApp, token: &str, supplier: &str, body: Value) -> String {
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{supplier}/items"),
            token,
            body,
            &[],
        )
        .await;
    r.assert_status(201);
    r.json()["id"]
        .as_str()
        .expect("supplier item id")
        .to_string()
}

/// Record a price.
pub async fn price(app: &TestApp, token: &str, supplier: &str, si: &str, minor: i64, from: &str) {
    app.post_json(
        &format!("/api/v1/suppliers/{supplier}/prices"),
        token,
        json!({"supplier_item_id": si, "price_minor": minor, "effective_from": from}),
        &[],
    )
    .await
    .assert_status(201);
}

async fn in_force(app: &TestApp, token: &str, item: &str, date: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/items/{item}/price?date={date}"), token)
        .await;
    r.assert_status(200);
    r.json()
}

async fn price_history_and_price_in_force(app: TestApp) {
    let admin = app.login_token("admin").await;
    let flour = item(
        &app,
        &admin,
        json!({"code": "FLOUR", "name_en": "Flour", "name_zh": "面粉", "base_unit": "kg",
               "units": [{"unit": "bag", "factor": "25"}]}),
    )
    .await;
    let s1 = supplier(
        &app,
        &admin,
        json!({"code": "SUP1", "name_en": "Golden Mill", "name_zh": "金磨坊", "contact_name": "Li Wei",
               "phone": "+86 21 5555 0101", "email": "orders@goldenmill.example", "lead_time_days": 2,
               "delivery_days": [5, 1, 3, 3], "min_order_minor": 50000}),
    )
    .await;
    let got = app
        .get(&format!("/api/v1/suppliers/{s1}"), &admin)
        .await
        .json();
    assert_eq!(got["delivery_days"], json!([1, 3, 5]));
    assert_eq!(got["currency"], "CNY");
    assert_eq!(got["active"], true);

    // Every problem of a supplier at once, nothing written.
    let before = app.count("inv_suppliers").await;
    let r = app
        .post_json(
            "/api/v1/suppliers",
            &admin,
            json!({"code": "bad code!", "name_en": " ", "email": "nope", "delivery_days": [0, 8],
                   "currency": "yuan", "lead_time_days": 999, "min_order_minor": -1}),
            &[],
        )
        .await;
    r.assert_status(422);
    let fields = r.error_fields();
    for f in [
        "code",
        "name_en",
        "email",
        "delivery_days",
        "currency",
        "lead_time_days",
        "min_order_minor",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
    }
    assert_eq!(app.count("inv_suppliers").await, before);

    // Flour by the 25 kg bag.
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{s1}/items"),
            &admin,
            json!({"item_code": "FLOUR", "pack_unit": "bag", "supplier_sku": "GM-25"}),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["pack_factor"], "25");
    let si1 = r.json()["id"].as_str().unwrap().to_string();

    // 100.00 a bag from 1 January, 125.00 from 1 June, then 120.00 recorded later for the same
    // day (it wins the tie), and 150.00 announced for next month.
    let next_month = days_from_today(30);
    price(&app, &admin, &s1, &si1, 10000, "2026-01-01").await;
    price(&app, &admin, &s1, &si1, 12500, "2026-06-01").await;
    price(&app, &admin, &s1, &si1, 12000, "2026-06-01").await;
    price(&app, &admin, &s1, &si1, 15000, &next_month).await;

    assert!(in_force(&app, &admin, &flour, "2025-12-31").await["price"].is_null());
    let p = in_force(&app, &admin, &flour, "2026-03-01").await;
    assert_eq!(p["price"]["price_minor"], 10000, "{p}");
    // 100.00 per 25 kg = 4.00 per kg = 400 minor units × 10^6.
    assert_eq!(p["price"]["unit_cost_e6"], 400_000_000_i64);
    assert_eq!(p["price"]["pack_factor"], "25");
    let p = in_force(&app, &admin, &flour, "2026-06-01").await;
    assert_eq!(p["price"]["price_minor"], 12000, "{p}");
    let p = in_force(&app, &admin, &flour, &today().to_string()).await;
    assert_eq!(p["price"]["price_minor"], 12000, "{p}");
    assert_eq!(p["price"]["unit_cost_e6"], 480_000_000_i64);
    let p = in_force(&app, &admin, &flour, &next_month).await;
    assert_eq!(p["price"]["price_minor"], 15000, "{p}");
    // Default date: today.
    let p = app
        .get(&format!("/api/v1/items/{flour}/price"), &admin)
        .await
        .json();
    assert_eq!(p["price"]["price_minor"], 12000, "{p}");
    assert_eq!(p["date"], today().to_string());

    // The history keeps every price, newest effective date first; nothing was overwritten.
    let h = app
        .get(&format!("/api/v1/suppliers/{s1}/prices"), &admin)
        .await
        .json();
    assert_eq!(h["page"]["total"], 4, "{h}");
    let minors: Vec<i64> = h["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["price_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(minors, vec![15000, 12000, 12500, 10000]);
    assert_eq!(
        app.scalar_i64("SELECT MIN(price_minor) FROM inv_supplier_prices")
            .await,
        10000
    );
    // The supplier's items show the price in force today.
    let items = app
        .get(&format!("/api/v1/suppliers/{s1}/items"), &admin)
        .await
        .json();
    assert_eq!(items["items"][0]["current_price"]["price_minor"], 12000);
    assert_eq!(items["items"][0]["supplier_sku"], "GM-25");

    // A second supplier by the kilo at 4.50 is cheaper per base unit than 120.00 per 25 kg
    // (4.80), so it is the best price …
    let s2 = supplier(
        &app,
        &admin,
        json!({"code": "SUP2", "name": "Corner Wholesale"}),
    )
    .await;
    let si2 = supplier_item(&app, &admin, &s2, json!({"item_id": flour})).await;
    price(&app, &admin, &s2, &si2, 450, "2026-01-01").await;
    let p = in_force(&app, &admin, &flour, &today().to_string()).await;
    assert_eq!(p["price"]["supplier_code"], "SUP2", "{p}");
    assert_eq!(p["candidates"].as_array().map(Vec::len), Some(2));
    // … until the first supplier is preferred (the same item and pack unit again updates it).
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{s1}/items"),
            &admin,
            json!({"item_id": flour, "pack_unit": "bag", "preferred": true}),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["id"], si1.as_str());
    assert_eq!(r.json()["supplier_sku"], "GM-25", "kept: {}", r.text());
    let p = in_force(&app, &admin, &flour, &today().to_string()).await;
    assert_eq!(p["price"]["supplier_code"], "SUP1", "{p}");
    // One supplier only.
    let p = app
        .get(
            &format!(
                "/api/v1/items/{flour}/price?supplier_id={s2}&date={}",
                today()
            ),
            &admin,
        )
        .await
        .json();
    assert_eq!(p["price"]["price_minor"], 450, "{p}");

    // Search and filter the list.
    let l = app.get("/api/v1/suppliers?q=golden", &admin).await.json();
    assert_eq!(l["page"]["total"], 1, "{l}");
    assert_eq!(l["items"][0]["code"], "SUP1");
    let r = app.get("/api/v1/suppliers?active=maybe", &admin).await;
    r.assert_status(422);
}

async fn closed_supplier_and_unconvertible_pack_unit_are_refused(app: TestApp) {
    let admin = app.login_token("admin").await;
    let oil = item(
        &app,
        &admin,
        json!({"code": "OIL", "name": "Oil", "base_unit": "l", "units": [{"unit": "drum", "factor": "20"}]}),
    )
    .await;
    let s = supplier(&app, &admin, json!({"code": "OILCO", "name": "Oil Co"})).await;

    // A pack unit the item cannot convert is refused naming the field; nothing is written.
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{s}/items"),
            &admin,
            json!({"item_id": oil, "pack_unit": "kg"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["pack_unit"]);
    assert!(
        r.text().contains("no conversion from kg to l"),
        "{}",
        r.text()
    );
    assert_eq!(app.count("inv_supplier_items").await, 0);

    let si = supplier_item(
        &app,
        &admin,
        &s,
        json!({"item_id": oil, "pack_unit": "drum"}),
    )
    .await;
    price(&app, &admin, &s, &si, 24000, "2026-01-01").await;
    // A price for an item of another supplier, and a bad price, are refused at once.
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{s}/prices"),
            &admin,
            json!({"supplier_item_id": "00000000-0000-7000-8000-000000000000", "price_minor": 100}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["supplier_item_id"]);
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{s}/prices"),
            &admin,
            json!({"supplier_item_id": si, "price_minor": 0, "effective_from": "2026-13-01"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["price_minor", "effective_from"]);

    // Close the supplier.
    let r = app
        .patch_json(
            &format!("/api/v1/suppliers/{s}"),
            &admin,
            json!({"active": false, "version": 1}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["active"], false);
    let prices = app.count("inv_supplier_prices").await;
    let items = app.count("inv_supplier_items").await;
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{s}/prices"),
            &admin,
            json!({"supplier_item_id": si, "price_minor": 25000}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "supplier_inactive");
    assert_eq!(r.error_fields(), vec!["supplier_id"]);
    assert!(r.text().contains("OILCO is closed"), "{}", r.text());
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{s}/items"),
            &admin,
            json!({"item_id": oil, "pack_unit": "l"}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "supplier_inactive");
    assert_eq!(app.count("inv_supplier_prices").await, prices);
    assert_eq!(app.count("inv_supplier_items").await, items);
    // A closed supplier is not used for costing, and asking for it is refused; its history
    // stays readable.
    let p = in_force(&app, &admin, &oil, &today().to_string()).await;
    assert!(p["price"].is_null(), "{p}");
    let r = app
        .get(
            &format!("/api/v1/items/{oil}/price?supplier_id={s}"),
            &admin,
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_fields(), vec!["supplier_id"]);
    let h = app
        .get(&format!("/api/v1/suppliers/{s}/prices"), &admin)
        .await
        .json();
    assert_eq!(h["page"]["total"], 1);
    // Closed suppliers leave the default list.
    let l = app.get("/api/v1/suppliers", &admin).await.json();
    assert_eq!(l["page"]["total"], 0, "{l}");
    let l = app.get("/api/v1/suppliers?active=all", &admin).await.json();
    assert_eq!(l["page"]["total"], 1, "{l}");
    // A stale version is refused.
    let r = app
        .patch_json(
            &format!("/api/v1/suppliers/{s}"),
            &admin,
            json!({"active": true, "version": 1}),
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["version"]);

    // A store manager reads suppliers but cannot change them.
    let m1 = app.login_token("manager.s001").await;
    app.get(&format!("/api/v1/suppliers/{s}"), &m1)
        .await
        .assert_status(200);
    let r = app
        .post_json(
            "/api/v1/suppliers",
            &m1,
            json!({"code": "M1", "name": "Mine"}),
            &[],
        )
        .await;
    r.assert_status(403);
    let r = app
        .patch_json(
            &format!("/api/v1/suppliers/{s}"),
            &m1,
            json!({"active": true}),
        )
        .await;
    r.assert_status(403);
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{s}/prices"),
            &m1,
            json!({"supplier_item_id": si, "price_minor": 1}),
            &[],
        )
        .await;
    r.assert_status(403);
    assert_eq!(app.count("inv_supplier_prices").await, prices);
}

both!(supplier_list_exports_csv_and_xlsx);

async fn supplier_list_exports_csv_and_xlsx(app: TestApp) {
    let admin = app.login_token("admin").await;
    supplier(
        &app,
        &admin,
        json!({"code": "EXP1", "name_en": "=HYPERLINK(\"x\")", "name_zh": "导出", "delivery_days": [2, 4]}),
    )
    .await;
    let cookie = app.session("admin").await;
    let r = app
        .request(hyper::Method::GET, "/suppliers/export.csv?q=EXP")
        .cookie("boh_session", &cookie)
        .send()
        .await;
    r.assert_status(200);
    let text = r.text();
    assert!(text.starts_with('\u{feff}'), "BOM for spreadsheets");
    assert!(text.contains("code,name_zh,name_en"), "{text}");
    assert!(text.contains("EXP1,导出,"), "{text}");
    assert!(
        text.contains("'=HYPERLINK"),
        "formulas are neutralised: {text}"
    );
    assert!(text.contains("\"2,4\""), "{text}");
    let r = app
        .request(hyper::Method::GET, "/suppliers/export.xlsx")
        .cookie("boh_session", &cookie)
        .send()
        .await;
    r.assert_status(200);
    assert!(r.body.starts_with(b"PK"), "an xlsx (zip) file");
    // The pages answer for a store manager too (reading), without the create button.
    let m1 = app.session("manager.s001").await;
    let r = app
        .request(hyper::Method::GET, "/suppliers")
        .cookie("boh_session", &m1)
        .send()
        .await;
    r.assert_status(200);
    assert!(r.text().contains("EXP1"));
    assert!(!r.text().contains("id=\"new-supplier\""));
}
