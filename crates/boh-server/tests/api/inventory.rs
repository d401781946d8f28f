//! The item catalogue and the stock ledger through the API: units, receipts with cost,
//! moving-average issues, FEFO lots, the negative-stock policy, reversals, backdating,
//! period locks, and the ledger checker after every scenario.

use serde_json::{Value, json};

use crate::common::TestApp;

both!(items_units_and_validation);
both!(receipts_issues_and_moving_average);
both!(lots_pick_first_expired_first);
both!(negative_stock_policy_and_reversal);
both!(backdating_and_period_lock);
both!(receipt_into_negative_stock_revalues);
both!(store_user_sees_only_own_stock);
both!(valuation_now_and_as_of_a_date);

/// Create an item as admin and return its id.
pub async fn item(app: &TestApp, token: &str, body: Value) -> String {
    let r = app.post_json("/api/v1/items", token, body, &[]).await;
    r.assert_status(201);
    r.json()["id"].as_str().expect("item id").to_string()
}

pub async fn post_doc(app: &TestApp, token: &str, body: Value) -> crate::common::Resp {
    app.post_json("/api/v1/stock/documents", token, body, &[])
        .await
}

/// The ledger checker finds nothing wrong.
pub async fn assert_ledger_consistent(app: &TestApp) {
    let rep = boh_inventory::ledger::check(&app.platform)
        .await
        .expect("running the ledger checker");
    assert!(
        rep.problems.is_empty(),
        "ledger problems: {:#?}",
        rep.problems
    );
}

async fn on_hand(app: &TestApp, token: &str, item: &str, loc: &str) -> (String, i64) {
    let r = app
        .get(
            &format!("/api/v1/stock?item_id={item}&location_id={loc}&include_zero=true"),
            token,
        )
        .await;
    r.assert_status(200);
    let j = r.json();
    let row = &j["items"][0];
    (
        row["qty"].as_str().unwrap_or("0").to_string(),
        row["value"].as_i64().unwrap_or(0),
    )
}

async fn items_units_and_validation(app: TestApp) {
    let admin = app.login_token("admin").await;
    let r = app
        .post_json(
            "/api/v1/categories",
            &admin,
            json!({"code": "DRY", "name_en": "Dry goods", "name_zh": "干货"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let flour = item(
        &app,
        &admin,
        json!({"code": "FLOUR", "name_en": "Flour", "name_zh": "面粉", "category_code": "DRY",
               "base_unit": "kg", "units": [{"unit": "bag", "factor": "1"}, {"unit": "case", "factor": 12}],
               "barcodes": [{"barcode": "6901234567890", "unit": "case"}]}),
    )
    .await;
    let got = app
        .get(&format!("/api/v1/items/{flour}"), &admin)
        .await
        .json();
    assert_eq!(got["units"][1]["factor"], "12");
    assert_eq!(got["barcodes"][0]["unit"], "case");
    // Search by barcode.
    let found = app
        .get("/api/v1/items?q=6901234567890", &admin)
        .await
        .json();
    assert_eq!(found["page"]["total"], 1);

    // Every problem at once, nothing written.
    let before = app.count("inv_items").await;
    let r = app
        .post_json(
            "/api/v1/items",
            &admin,
            json!({"code": "bad code!", "name_en": "", "base_unit": "KG!", "kind": "gadget",
                   "units": [{"unit": "box", "factor": "-1"}], "shelf_life_days": 0,
                   "category_code": "NOPE"}),
            &[],
        )
        .await;
    r.assert_status(422);
    let fields = r.error_fields();
    for f in [
        "code",
        "name_en",
        "base_unit",
        "kind",
        "units[0].factor",
        "shelf_life_days",
        "category_code",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
    }
    assert_eq!(app.count("inv_items").await, before);
    // Duplicate code and duplicate barcode.
    let r = app
        .post_json(
            "/api/v1/items",
            &admin,
            json!({"code": "FLOUR", "name": "Again", "base_unit": "kg"}),
            &[],
        )
        .await;
    r.assert_status(422);
    let r = app
        .post_json(
            "/api/v1/items",
            &admin,
            json!({"code": "FLOUR2", "name": "Other", "base_unit": "kg",
                   "barcodes": [{"barcode": "6901234567890", "unit": "kg"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert!(r.text().contains("belongs to item FLOUR"), "{}", r.text());
    // The base unit is fixed once the item exists; a stale version is refused.
    let r = app
        .patch_json(
            &format!("/api/v1/items/{flour}"),
            &admin,
            json!({"version": 1, "name_en": "Wheat flour"}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["version"], 2);
    let r = app
        .patch_json(
            &format!("/api/v1/items/{flour}"),
            &admin,
            json!({"version": 1, "name_en": "Stale"}),
        )
        .await;
    r.assert_status(422);
    // A store manager reads the catalogue but cannot change it.
    let m1 = app.login_token("manager.s001").await;
    app.get(&format!("/api/v1/items/{flour}"), &m1)
        .await
        .assert_status(200);
    let r = app
        .post_json(
            "/api/v1/items",
            &m1,
            json!({"code": "X1", "name": "X", "base_unit": "kg"}),
            &[],
        )
        .await;
    r.assert_status(403);
}

async fn receipts_issues_and_moving_average(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    let oil = item(
        &app,
        &admin,
        json!({"code": "OIL", "name": "Oil", "base_unit": "l", "units": [{"unit": "drum", "factor": "20"}]}),
    )
    .await;
    // 2 drums (40 l) at 100.00 per drum = 200.00; then 10 l at 6.00 = 60.00.
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "receipt", "lines": [
            {"item_id": oil, "qty": "2", "unit": "drum", "unit_cost": "100"}]}),
    )
    .await
    .assert_status(201);
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "receipt", "lines": [
            {"item_code": "OIL", "qty": 10, "unit_cost": "6.00"}]}),
    )
    .await
    .assert_status(201);
    assert_eq!(on_hand(&app, &admin, &oil, &s1).await, ("50".into(), 26000));
    // Issue 500 ml: moving average 260.00 / 50 l = 5.20 per l → 2.60.
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "lines": [{"item_id": oil, "qty": "500", "unit": "ml"}]}),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.json()["movements"][0]["value"], -260);
    assert_eq!(r.json()["movements"][0]["qty"], "-0.5");
    // Issue everything left: value reaches exactly zero with quantity.
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "waste", "lines": [{"item_id": oil, "qty": "49.5", "reason": "spoiled"}]}),
    )
    .await
    .assert_status(201);
    assert_eq!(on_hand(&app, &admin, &oil, &s1).await, ("0".into(), 0));
    // Waste needs a known reason; a unit with no conversion is refused; nothing is written.
    let docs = app.count("inv_docs").await;
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "waste", "lines": [
            {"item_id": oil, "qty": "1", "reason": "bored"},
            {"item_id": oil, "qty": "1", "unit": "kg", "reason": "spoiled"},
            {"item_code": "NOPE", "qty": "1", "reason": "spoiled"}]}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec!["lines[0].reason", "lines[1].unit", "lines[2].item_code"]
    );
    assert_eq!(app.count("inv_docs").await, docs);
    assert_ledger_consistent(&app).await;
}

async fn lots_pick_first_expired_first(app: TestApp) {
    let admin = app.login_token("admin").await;
    let w1 = app.node_id("W001").await;
    let milk = item(
        &app,
        &admin,
        json!({"code": "MILK", "name": "Milk", "base_unit": "l", "lot_tracked": true,
               "storage_type": "chilled", "shelf_life_days": 10}),
    )
    .await;
    // A lot is required for a receipt of a lot-tracked item.
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": w1, "kind": "receipt", "lines": [{"item_id": milk, "qty": "5"}]}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines[0].lot_code"]);
    post_doc(
        &app,
        &admin,
        json!({"location_id": w1, "kind": "receipt", "business_date": "2026-11-20", "lines": [
            {"item_id": milk, "qty": "10", "unit_cost": "8", "lot_code": "L-LATE", "expiry_date": "2026-12-30"},
            {"item_id": milk, "qty": "10", "unit_cost": "8", "lot_code": "L-EARLY", "expiry_date": "2026-12-10"}]}),
    )
    .await
    .assert_status(201);
    // 15 l out: 10 from the earliest lot, 5 from the later one.
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": w1, "kind": "issue", "lines": [{"item_id": milk, "qty": "15"}]}),
    )
    .await;
    r.assert_status(201);
    let lots = app
        .get(
            &format!("/api/v1/stock/lots?location_id={w1}&item_id={milk}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(lots["items"].as_array().map(Vec::len), Some(1), "{lots}");
    assert_eq!(lots["items"][0]["lot_code"], "L-LATE");
    assert_eq!(lots["items"][0]["qty"], "5");
    assert_eq!(r.json()["movements"].as_array().map(Vec::len), Some(2));

    // Where negatives are allowed, a lot that went below zero is made good by the next
    // delivery before the new lot gets the rest.
    app.request(
        hyper::Method::PUT,
        &format!("/api/v1/locations/{w1}/stock-settings"),
    )
    .bearer(&admin)
    .json(&json!({"negative_policy": "allow"}))
    .send()
    .await
    .assert_status(200);
    post_doc(
        &app,
        &admin,
        json!({"location_id": w1, "kind": "issue", "lines": [{"item_id": milk, "qty": "8"}]}),
    )
    .await
    .assert_status(201);
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": w1, "kind": "receipt", "lines": [
            {"item_id": milk, "qty": "10", "unit_cost": "9", "lot_code": "L-NEW", "expiry_date": "2027-01-10"}]}),
    )
    .await;
    r.assert_status(201);
    let lots = app
        .get(
            &format!("/api/v1/stock/lots?location_id={w1}&item_id={milk}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(lots["items"].as_array().map(Vec::len), Some(1), "{lots}");
    assert_eq!(lots["items"][0]["lot_code"], "L-NEW");
    assert_eq!(lots["items"][0]["qty"], "7");
    let values: i64 = r.json()["movements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "receipt")
        .map(|m| m["value"].as_i64().unwrap())
        .sum();
    assert_eq!(values, 9000, "the receipt's value is split, not repeated");
    assert_ledger_consistent(&app).await;
}

async fn negative_stock_policy_and_reversal(app: TestApp) {
    let admin = app.login_token("admin").await;
    // The central kitchen keeps the default policy (forbid).
    let s1 = app.node_id("K001").await;
    let bun = item(
        &app,
        &admin,
        json!({"code": "BUN", "name": "Bun", "base_unit": "ea"}),
    )
    .await;
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "receipt", "lines": [{"item_id": bun, "qty": "10", "unit_cost": "1.5"}]}),
    )
    .await;
    r.assert_status(201);
    let receipt = r.json()["id"].as_str().unwrap().to_string();
    // Forbidden by default: 11 out of 10 is refused, naming the line and what is on hand.
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "lines": [{"item_id": bun, "qty": "11"}]}),
    )
    .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "insufficient_stock");
    assert!(r.text().contains("only 10 ea of BUN"), "{}", r.text());
    // Allowed and flagged once the location allows it.
    app.request(
        hyper::Method::PUT,
        &format!("/api/v1/locations/{s1}/stock-settings"),
    )
    .bearer(&admin)
    .json(&json!({"negative_policy": "allow"}))
    .send()
    .await
    .assert_status(200);
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "lines": [{"item_id": bun, "qty": "11"}]}),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.json()["movements"][0]["went_negative"], true);
    let issue = r.json()["id"].as_str().unwrap().to_string();
    // Reverse the issue: back to 10 at the same value; a second reversal is refused.
    let r = app
        .post_json(
            &format!("/api/v1/stock/documents/{issue}/reverse"),
            &admin,
            json!({}),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(on_hand(&app, &admin, &bun, &s1).await, ("10".into(), 1500));
    let r = app
        .post_json(
            &format!("/api/v1/stock/documents/{issue}/reverse"),
            &admin,
            json!({}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "already_reversed");
    let doc = app
        .get(&format!("/api/v1/stock/documents/{issue}"), &admin)
        .await
        .json();
    assert!(doc["reversed_by"].is_string(), "{doc}");
    // Reverse the receipt too: nothing left, value zero.
    app.post_json(
        &format!("/api/v1/stock/documents/{receipt}/reverse"),
        &admin,
        json!({}),
        &[],
    )
    .await
    .assert_status(201);
    assert_eq!(on_hand(&app, &admin, &bun, &s1).await, ("0".into(), 0));
    assert_ledger_consistent(&app).await;
}

async fn backdating_and_period_lock(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    let salt = item(
        &app,
        &admin,
        json!({"code": "SALT", "name": "Salt", "base_unit": "kg"}),
    )
    .await;
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "opening", "business_date": "2026-10-01",
               "lines": [{"item_id": salt, "qty": "20", "unit_cost": "3"}]}),
    )
    .await
    .assert_status(201);
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "business_date": "2026-10-15",
               "lines": [{"item_id": salt, "qty": "5"}]}),
    )
    .await
    .assert_status(201);
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "business_date": "2999-01-01",
               "lines": [{"item_id": salt, "qty": "1"}]}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["business_date"]);
    app.request(hyper::Method::PUT, "/api/v1/inventory/period-lock")
        .bearer(&admin)
        .json(&json!({"locked_through": "2026-10-31"}))
        .send()
        .await
        .assert_status(200);
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "business_date": "2026-10-20",
               "lines": [{"item_id": salt, "qty": "1"}]}),
    )
    .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "period_locked");
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "business_date": "2026-11-02",
               "lines": [{"item_id": salt, "qty": "1"}]}),
    )
    .await
    .assert_status(201);
    assert_eq!(on_hand(&app, &admin, &salt, &s1).await.0, "14");
    assert_ledger_consistent(&app).await;
}

async fn store_user_sees_only_own_stock(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let s1 = app.store_id("S001").await;
    let s2 = app.store_id("S002").await;
    let egg = item(
        &app,
        &admin,
        json!({"code": "EGG", "name": "Egg", "base_unit": "ea"}),
    )
    .await;
    for s in [&s1, &s2] {
        post_doc(
            &app,
            &admin,
            json!({"location_id": s, "kind": "receipt", "lines": [{"item_id": egg, "qty": "30", "unit_cost": "0.8"}]}),
        )
        .await
        .assert_status(201);
    }
    let mine = app
        .get(&format!("/api/v1/stock?item_id={egg}"), &m1)
        .await
        .json();
    assert_eq!(mine["page"]["total"], 1, "{mine}");
    assert_eq!(mine["items"][0]["location_id"], s1.as_str());
    // Nothing of any other location in the whole list either.
    let all = app.get("/api/v1/stock?limit=500", &m1).await.json();
    for row in all["items"].as_array().expect("items") {
        assert_eq!(row["location_id"], s1.as_str(), "{row}");
    }
    let r = app
        .get(&format!("/api/v1/stock?location_id={s2}"), &m1)
        .await;
    r.assert_status(404);
    let r = post_doc(
        &app,
        &m1,
        json!({"location_id": s2, "kind": "issue", "lines": [{"item_id": egg, "qty": "1"}]}),
    )
    .await;
    r.assert_status(404);
    // Their own store works.
    post_doc(
        &app,
        &m1,
        json!({"location_id": s1, "kind": "issue", "lines": [{"item_id": egg, "qty": "2"}]}),
    )
    .await
    .assert_status(201);
    let hist = app
        .get(&format!("/api/v1/items/{egg}/history?days=7"), &m1)
        .await
        .json();
    assert_eq!(hist["days"].as_array().map(Vec::len), Some(7));
    assert_eq!(hist["days"][6]["qty"], "28", "{hist}");
}

async fn receipt_into_negative_stock_revalues(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    app.request(
        hyper::Method::PUT,
        &format!("/api/v1/locations/{s1}/stock-settings"),
    )
    .bearer(&admin)
    .json(&json!({"negative_policy": "allow"}))
    .send()
    .await
    .assert_status(200);
    let tea = item(
        &app,
        &admin,
        json!({"code": "TEA", "name": "Tea", "base_unit": "kg"}),
    )
    .await;
    // 10 kg at 1.50, 11 kg out: -1 kg valued at the last cost (-1.50).
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "receipt", "lines": [{"item_id": tea, "qty": "10", "unit_cost": "1.5"}]}),
    )
    .await
    .assert_status(201);
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "lines": [{"item_id": tea, "qty": "11"}]}),
    )
    .await
    .assert_status(201);
    assert_eq!(on_hand(&app, &admin, &tea, &s1).await, ("-1".into(), -150));
    // 5 kg at 2.00 arrive: 4 kg remain, valued at the new cost (8.00), the difference is a
    // revaluation movement of its own.
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "receipt", "lines": [{"item_id": tea, "qty": "5", "unit_cost": "2"}]}),
    )
    .await;
    r.assert_status(201);
    let moves = r.json()["movements"].clone();
    assert_eq!(moves.as_array().map(Vec::len), Some(2), "{moves}");
    assert_eq!(moves[1]["kind"], "revaluation");
    assert_eq!(moves[1]["qty"], "0");
    assert_eq!(moves[1]["value"], -50);
    assert_eq!(on_hand(&app, &admin, &tea, &s1).await, ("4".into(), 800));
    // A tiny remainder never inflates the cost of what goes out next.
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "lines": [{"item_id": tea, "qty": "3.999999"}]}),
    )
    .await
    .assert_status(201);
    let r = post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "lines": [{"item_id": tea, "qty": "2"}]}),
    )
    .await;
    r.assert_status(201);
    let v = r.json()["movements"][0]["value"].as_i64().unwrap();
    assert!(
        (-401..=-399).contains(&v),
        "2 kg at about 2.00 each, got {v}"
    );
    assert_ledger_consistent(&app).await;
}

async fn valuation_now_and_as_of_a_date(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let s1 = app.store_id("S001").await;
    let s2 = app.store_id("S002").await;
    app.post_json(
        "/api/v1/categories",
        &admin,
        json!({"code": "OIL", "name_en": "Oils"}),
        &[],
    )
    .await
    .assert_status(201);
    let oil = item(
        &app,
        &admin,
        json!({"code": "OIL1", "name": "Peanut oil", "base_unit": "l", "category_code": "OIL"}),
    )
    .await;
    let rice = item(
        &app,
        &admin,
        json!({"code": "RICE", "name": "Rice", "base_unit": "kg"}),
    )
    .await;
    for (loc, date, it, qty, cost) in [
        (&s1, "2026-10-01", &oil, "10", "20"),
        (&s2, "2026-10-01", &oil, "5", "20"),
        (&s1, "2026-10-05", &rice, "100", "4"),
    ] {
        post_doc(
            &app,
            &admin,
            json!({"location_id": loc, "kind": "receipt", "business_date": date,
                   "lines": [{"item_id": it, "qty": qty, "unit_cost": cost}]}),
        )
        .await
        .assert_status(201);
    }
    // A backdated issue: in the report at once, for every date from its business date on.
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "business_date": "2026-10-03",
               "lines": [{"item_id": oil, "qty": "4"}]}),
    )
    .await
    .assert_status(201);
    let now = app.get("/api/v1/stock/valuation", &admin).await;
    now.assert_status(200);
    let now = now.json();
    // Oil 11 l × ¥20 = ¥220, rice 100 kg × ¥4 = ¥400.
    assert_eq!(now["total_value"], 62_000, "{now}");
    assert_eq!(now["rows"][0]["code"], "RICE");
    assert_eq!(now["rows"][1]["qty"], "11");
    let then = app
        .get("/api/v1/stock/valuation?as_of=2026-10-02", &admin)
        .await
        .json();
    assert_eq!(then["total_value"], 30_000, "{then}");
    assert_eq!(then["total_rows"], 1);
    let mid = app
        .get("/api/v1/stock/valuation?as_of=2026-10-04", &admin)
        .await
        .json();
    assert_eq!(mid["total_value"], 22_000, "{mid}");
    // Grouped by category and by location.
    let cats = app
        .get("/api/v1/stock/valuation?group=category", &admin)
        .await
        .json();
    let codes: Vec<&str> = cats["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["code"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(codes, vec!["", "OIL"], "{cats}");
    assert!(cats["rows"][0]["qty"].is_null());
    let locs = app
        .get("/api/v1/stock/valuation?group=location", &admin)
        .await
        .json();
    assert_eq!(locs["rows"][0]["code"], "S001");
    assert_eq!(locs["rows"][0]["value"], 52_000);
    // A store manager sees their own store only, and another store is not found.
    let mine = app.get("/api/v1/stock/valuation", &m1).await.json();
    assert_eq!(mine["total_value"], 52_000, "{mine}");
    app.get(&format!("/api/v1/stock/valuation?location_id={s2}"), &m1)
        .await
        .assert_status(404);
    // Bad parameters are named.
    let r = app
        .get(
            "/api/v1/stock/valuation?as_of=yesterday&group=brand",
            &admin,
        )
        .await;
    r.assert_status(422);
    let fields = r.error_fields();
    assert!(
        fields == vec!["group"] || fields == vec!["as_of"] || fields.len() == 2,
        "{fields:?}"
    );
}
