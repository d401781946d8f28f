//! Recipes, explosion, cost roll-up and production through the API: versions in force by
//! date and history that is never rewritten, nested explosion with line yields to the exact
//! micro-unit, cycles refused with their path, a cost roll-up that matches a hand
//! computation, and productions whose values balance with the ledger checker satisfied.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::{assert_ledger_consistent, item, post_doc};
use crate::suppliers::{price, supplier, supplier_item};

both!(recipe_versions_in_force_by_date);
both!(nested_explode_with_yields_is_exact);
both!(cycles_are_refused_with_their_path);
both!(cost_rollup_matches_hand_computation);
both!(production_consumes_and_yields_at_cost);

fn day(n: i64) -> String {
    boh_inventory::today_in("Asia/Shanghai")
        .checked_add(jiff::Span::new().days(n))
        .expect("a date")
        .to_string()
}

async fn version(app: &TestApp, token: &str, item: &str, body: Value) -> crate::common::Resp {
    app.post_json(
        &format!("/api/v1/items/{item}/recipe/versions"),
        token,
        body,
        &[],
    )
    .await
}

/// Explode and return `code → qty` of the components.
async fn explode(app: &TestApp, token: &str, item: &str, query: &str) -> Vec<(String, String)> {
    let r = app
        .get(
            &format!("/api/v1/items/{item}/recipe/explode?{query}"),
            token,
        )
        .await;
    r.assert_status(200);
    r.json()["components"]
        .as_array()
        .expect("components")
        .iter()
        .map(|c| {
            (
                c["item_code"].as_str().unwrap().to_string(),
                c["qty"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

async fn recipe_versions_in_force_by_date(app: TestApp) {
    let admin = app.login_token("admin").await;
    let burger = item(
        &app,
        &admin,
        json!({"code": "BURGER", "name": "Burger", "kind": "menu", "base_unit": "ea"}),
    )
    .await;
    item(
        &app,
        &admin,
        json!({"code": "BUN", "name": "Bun", "base_unit": "ea"}),
    )
    .await;
    let patty = item(
        &app,
        &admin,
        json!({"code": "PATTY", "name": "Patty", "base_unit": "ea"}),
    )
    .await;

    // Every problem of a version at once; nothing is written.
    let r = version(
        &app,
        &admin,
        &patty,
        json!({"effective_from": "2026-02-30", "yield_qty": "0", "lines": [
            {"item_code": "BUN", "qty": "1", "unit": "kg"},
            {"item_code": "BUN", "qty": "0"},
            {"item_code": "BUN", "qty": "1", "yield_pct": "150"},
            {"item_code": "NOPE", "qty": "1"},
            {"item_code": "BUN", "qty": "abc"}]}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec![
            "item_id",
            "effective_from",
            "yield_qty",
            "lines[0].unit",
            "lines[1].qty",
            "lines[2].yield_pct",
            "lines[3].item_code",
            "lines[4].qty"
        ],
        "{}",
        r.text()
    );
    assert_eq!(app.count("inv_recipe_versions").await, 0);
    assert_eq!(app.count("inv_recipes").await, 0);

    // The first version may be dated in the past; later ones today or later.
    let v = |patties: &str, from: &str| {
        json!({"effective_from": from, "lines": [
            {"item_code": "BUN", "qty": "1"}, {"item_code": "PATTY", "qty": patties}]})
    };
    version(&app, &admin, &burger, v("1", "2026-01-01"))
        .await
        .assert_status(201);
    version(&app, &admin, &burger, v("2", &day(0)))
        .await
        .assert_status(201);
    let r = version(&app, &admin, &burger, v("3", &day(10))).await;
    r.assert_status(201);
    assert_eq!(r.json()["versions"][0]["version_no"], 3);
    assert_eq!(r.json()["current_version_no"], 2);

    for (date, want) in [
        ("2026-06-01", "1"),
        (day(0).as_str(), "2"),
        (day(9).as_str(), "2"),
        (day(10).as_str(), "3"),
    ] {
        let got = explode(&app, &admin, &burger, &format!("date={date}")).await;
        assert_eq!(got, pairs(&[("BUN", "1"), ("PATTY", want)]), "on {date}");
    }
    // Before the first version there is no recipe.
    let r = app
        .get(
            &format!("/api/v1/items/{burger}/recipe/explode?date=2025-12-31"),
            &admin,
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "no_recipe");

    // History is never rewritten: not into the past, not between existing versions, not on
    // an existing date.
    for from in ["2026-06-01".to_string(), day(0), day(5), day(10)] {
        let r = version(&app, &admin, &burger, v("9", &from)).await;
        r.assert_status(409);
        assert_eq!(r.error_code(), "recipe_history", "{from}: {}", r.text());
        assert_eq!(r.error_fields(), vec!["effective_from"]);
    }
    assert_eq!(app.count("inv_recipe_versions").await, 3);

    let rec = app
        .get(&format!("/api/v1/items/{burger}/recipe"), &admin)
        .await
        .json();
    assert_eq!(rec["versions"].as_array().map(Vec::len), Some(3));
    assert_eq!(rec["current_version_no"], 2);
    assert_eq!(rec["versions"][1]["lines"][1]["component_code"], "PATTY");
    assert_eq!(rec["versions"][1]["lines"][1]["base_qty"], "2");
    // An item without a recipe answers an empty one.
    let rec = app
        .get(&format!("/api/v1/items/{patty}/recipe"), &admin)
        .await
        .json();
    assert_eq!(rec["versions"], json!([]));
}

async fn nested_explode_with_yields_is_exact(app: TestApp) {
    let admin = app.login_token("admin").await;
    for (code, unit) in [
        ("TOMATO", "kg"),
        ("ONION", "kg"),
        ("OIL", "l"),
        ("SALT", "kg"),
    ] {
        item(
            &app,
            &admin,
            json!({"code": code, "name": code, "base_unit": unit}),
        )
        .await;
    }
    // A sauce made to order (not stocked): 2 l from 1.5 kg of tomatoes at 80 % usable, 250 g
    // of onion at 90 %, 100 ml of oil.
    let sauce = item(
        &app,
        &admin,
        json!({"code": "SAUCE", "name": "Sauce", "kind": "prepared", "base_unit": "l", "stocked": false}),
    )
    .await;
    version(
        &app,
        &admin,
        &sauce,
        json!({"effective_from": "2026-01-01", "yield_qty": "2", "lines": [
            {"item_code": "TOMATO", "qty": "1.5", "yield_pct": "80"},
            {"item_code": "ONION", "qty": "250", "unit": "g", "yield_pct": 90},
            {"item_code": "OIL", "qty": 100, "unit": "ml"}]}),
    )
    .await
    .assert_status(201);
    // A stocked preparation: 0.5 kg of confit from 1 kg of onion at 90 %.
    let confit = item(
        &app,
        &admin,
        json!({"code": "CONFIT", "name": "Onion confit", "kind": "prepared", "base_unit": "kg"}),
    )
    .await;
    version(
        &app,
        &admin,
        &confit,
        json!({"effective_from": "2026-01-01", "yield_qty": "0.5", "lines": [
            {"item_code": "ONION", "qty": "1", "yield_pct": "90"}]}),
    )
    .await
    .assert_status(201);
    // A dish: 150 ml of sauce, 20 g of confit, 2 g of salt.
    let pasta = item(
        &app,
        &admin,
        json!({"code": "PASTA", "name": "Pasta", "kind": "menu", "base_unit": "ea"}),
    )
    .await;
    let r = version(
        &app,
        &admin,
        &pasta,
        json!({"effective_from": "2026-01-01", "lines": [
            {"item_code": "SAUCE", "qty": "150", "unit": "ml"},
            {"item_code": "CONFIT", "qty": "20", "unit": "g"},
            {"item_code": "SALT", "qty": "2", "unit": "g"}]}),
    )
    .await;
    r.assert_status(201);
    let line = &r.json()["versions"][0]["lines"][0];
    assert_eq!(line["qty"], "150");
    assert_eq!(line["unit"], "ml");
    assert_eq!(line["base_qty"], "0.15");

    // Seven plates: 1.05 l of sauce → tomato 1.05 × 1.5 / 0.8 / 2 = 0.984375 kg; onion
    // 1.05 × 0.25 / 0.9 / 2 = 0.1458333… → 0.145833 kg (one plate alone would be 0.020833;
    // seven times that, 0.145831, is what rounding per plate would give); oil 0.0525 l; the
    // stocked confit is used as itself (0.14 kg), not exploded; salt 0.014 kg.
    assert_eq!(
        explode(&app, &admin, &pasta, "qty=7").await,
        pairs(&[
            ("CONFIT", "0.14"),
            ("OIL", "0.0525"),
            ("ONION", "0.145833"),
            ("SALT", "0.014"),
            ("TOMATO", "0.984375"),
        ])
    );
    assert_eq!(
        explode(&app, &admin, &pasta, "qty=1").await[2],
        ("ONION".to_string(), "0.020833".to_string())
    );
    // Making 1 kg of confit takes 1 / 0.9 / 0.5 = 2.222222 kg of onion; in grams, the same.
    assert_eq!(
        explode(&app, &admin, &confit, "qty=1").await,
        pairs(&[("ONION", "2.222222")])
    );
    assert_eq!(
        explode(&app, &admin, &confit, "qty=1000&unit=g").await,
        pairs(&[("ONION", "2.222222")])
    );
    let r = app
        .get(
            &format!("/api/v1/items/{confit}/recipe/explode?qty=1&unit=l"),
            &admin,
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["unit"]);

    // A component neither stocked nor with a recipe cannot be used.
    let dressing = item(
        &app,
        &admin,
        json!({"code": "DRESSING", "name": "Dressing", "kind": "prepared", "base_unit": "l", "stocked": false}),
    )
    .await;
    let salad = item(
        &app,
        &admin,
        json!({"code": "SALAD", "name": "Salad", "kind": "menu", "base_unit": "ea"}),
    )
    .await;
    let r = version(
        &app,
        &admin,
        &salad,
        json!({"lines": [{"item_id": dressing, "qty": "0.05"}]}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines[0].item_id"]);
    assert!(r.text().contains("no recipe in force"), "{}", r.text());
}

async fn cycles_are_refused_with_their_path(app: TestApp) {
    let admin = app.login_token("admin").await;
    item(
        &app,
        &admin,
        json!({"code": "STOCK", "name": "Stock cube", "base_unit": "ea"}),
    )
    .await;
    let base = item(
        &app,
        &admin,
        json!({"code": "BASE", "name": "Base", "kind": "prepared", "base_unit": "l", "stocked": false}),
    )
    .await;
    let soup = item(
        &app,
        &admin,
        json!({"code": "SOUP", "name": "Soup", "kind": "prepared", "base_unit": "l", "stocked": false}),
    )
    .await;
    version(
        &app,
        &admin,
        &base,
        json!({"effective_from": "2026-01-01", "lines": [{"item_code": "STOCK", "qty": "2"}]}),
    )
    .await
    .assert_status(201);
    version(
        &app,
        &admin,
        &soup,
        json!({"effective_from": "2026-01-01", "lines": [{"item_code": "BASE", "qty": "0.5"}]}),
    )
    .await
    .assert_status(201);
    // BASE from today would contain SOUP, which contains BASE.
    let r = version(
        &app,
        &admin,
        &base,
        json!({"lines": [{"item_code": "STOCK", "qty": "1"}, {"item_code": "SOUP", "qty": "0.1"}]}),
    )
    .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "recipe_cycle");
    assert!(r.text().contains("BASE → SOUP → BASE"), "{}", r.text());
    // An item in its own recipe.
    let r = version(
        &app,
        &admin,
        &soup,
        json!({"lines": [{"item_code": "SOUP", "qty": "1"}]}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines[0].item_code"]);
    // Through stocked preparations too.
    let a = item(
        &app,
        &admin,
        json!({"code": "PREP-A", "name": "A", "kind": "prepared", "base_unit": "kg"}),
    )
    .await;
    let b = item(
        &app,
        &admin,
        json!({"code": "PREP-B", "name": "B", "kind": "prepared", "base_unit": "kg"}),
    )
    .await;
    version(
        &app,
        &admin,
        &a,
        json!({"lines": [{"item_id": b, "qty": "1"}]}),
    )
    .await
    .assert_status(201);
    let r = version(
        &app,
        &admin,
        &b,
        json!({"lines": [{"item_id": a, "qty": "1"}]}),
    )
    .await;
    r.assert_status(409);
    assert!(
        r.text().contains("PREP-B → PREP-A → PREP-B"),
        "{}",
        r.text()
    );
    assert_eq!(app.count("inv_recipe_versions").await, 3);
}

async fn cost_rollup_matches_hand_computation(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    for body in [
        json!({"code": "BEEF", "name": "Beef", "base_unit": "kg", "units": [{"unit": "case", "factor": "10"}]}),
        json!({"code": "BUN", "name": "Bun", "base_unit": "ea"}),
        json!({"code": "CHEESE", "name": "Cheese", "base_unit": "kg", "units": [{"unit": "slice", "factor": "0.02"}]}),
        json!({"code": "KETCHUP", "name": "Ketchup", "base_unit": "l"}),
        json!({"code": "ONION", "name": "Onion", "base_unit": "kg"}),
        json!({"code": "MAYO", "name": "Mayonnaise", "base_unit": "l"}),
        json!({"code": "MUSTARD", "name": "Mustard", "base_unit": "l"}),
    ] {
        item(&app, &admin, body).await;
    }
    let ids = app.get("/api/v1/items?limit=100", &admin).await.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap().to_string(),
                i["id"].as_str().unwrap().to_string(),
            )
        })
        .collect::<std::collections::HashMap<_, _>>();
    let sup = supplier(&app, &admin, json!({"code": "META", "name": "Metro"})).await;
    // Prices: beef 600.00 a 10 kg case (60.00/kg), buns 12.00 a dozen (1.00 each), cheese
    // 90.00/kg, ketchup 15.00/l, onion 4.00/kg, mayonnaise 20.00/l, mustard 30.00/l.
    for (code, unit, minor) in [
        ("BEEF", "case", 60000),
        ("BUN", "dozen", 1200),
        ("CHEESE", "kg", 9000),
        ("KETCHUP", "l", 1500),
        ("ONION", "kg", 400),
        ("MAYO", "l", 2000),
        ("MUSTARD", "l", 3000),
    ] {
        let si = supplier_item(
            &app,
            &admin,
            &sup,
            json!({"item_id": ids[code], "pack_unit": unit}),
        )
        .await;
        price(&app, &admin, &sup, &si, minor, "2026-01-01").await;
    }
    // A spread made to order: 0.8 l mayonnaise + 0.2 l mustard per litre (22.00/l).
    let spread = item(
        &app,
        &admin,
        json!({"code": "SPREAD", "name": "Spread", "kind": "prepared", "base_unit": "l", "stocked": false}),
    )
    .await;
    version(
        &app,
        &admin,
        &spread,
        json!({"effective_from": "2026-01-01", "lines": [
            {"item_code": "MAYO", "qty": "0.8"}, {"item_code": "MUSTARD", "qty": "0.2"}]}),
    )
    .await
    .assert_status(201);
    let burger = item(
        &app,
        &admin,
        json!({"code": "CHEESEBURGER", "name": "Cheeseburger", "kind": "menu", "base_unit": "ea"}),
    )
    .await;
    version(
        &app,
        &admin,
        &burger,
        json!({"effective_from": "2026-01-01", "lines": [
            {"item_code": "BEEF", "qty": "150", "unit": "g"},
            {"item_code": "BUN", "qty": "1"},
            {"item_code": "CHEESE", "qty": "1", "unit": "slice"},
            {"item_code": "KETCHUP", "qty": "20", "unit": "ml"},
            {"item_code": "ONION", "qty": "30", "unit": "g", "yield_pct": "75"},
            {"item_code": "SPREAD", "qty": "10", "unit": "ml"}]}),
    )
    .await
    .assert_status(201);

    // By hand, company-wide (supplier prices), in minor units:
    //   beef 0.15 kg × 6000 = 900; bun 1 × 100 = 100; cheese 0.02 kg × 9000 = 180;
    //   ketchup 0.02 l × 1500 = 30; onion 0.03 / 0.75 = 0.04 kg × 400 = 16;
    //   spread 0.01 l × 2200 = 22; total 1248. Shares 900/1248 = 72.12 %, …;
    //   food cost 1248 / 3500 = 35.66 %.
    let r = app
        .get(
            &format!("/api/v1/items/{burger}/recipe/cost?selling_price=3500"),
            &admin,
        )
        .await;
    r.assert_status(200);
    let c = r.json();
    let costs: Vec<(String, i64, i64, String)> = c["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["component_code"].as_str().unwrap().to_string(),
                l["line_cost"].as_i64().unwrap(),
                l["share_bp"].as_i64().unwrap(),
                l["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = |v: &[(&str, i64, i64, &str)]| {
        v.iter()
            .map(|(a, b, c, d)| (a.to_string(), *b, *c, d.to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        costs,
        want(&[
            ("BEEF", 900, 7212, "supplier"),
            ("BUN", 100, 801, "supplier"),
            ("CHEESE", 180, 1442, "supplier"),
            ("KETCHUP", 30, 240, "supplier"),
            ("ONION", 16, 128, "supplier"),
            ("SPREAD", 22, 176, "recipe"),
        ]),
        "{c}"
    );
    assert_eq!(c["lines"][4]["gross_qty"], "0.04");
    assert_eq!(c["lines"][0]["unit_cost_e6"], 6_000_000_000_i64);
    assert_eq!(c["batch_cost"], 1248);
    assert_eq!(c["unit_cost"], 1248);
    assert_eq!(c["unit_cost_e6"], 1_248_000_000_i64);
    assert_eq!(c["food_cost_bp"], 3566);
    assert_eq!(c["complete"], true);

    // At S001 ketchup on hand cost 10.00/l (moving average), so it costs 20 there and the
    // rest still comes from supplier prices: total 1238.
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "receipt", "lines": [
            {"item_code": "KETCHUP", "qty": "2", "unit_cost": "10"}]}),
    )
    .await
    .assert_status(201);
    let c = app
        .get(
            &format!("/api/v1/items/{burger}/recipe/cost?location_id={s1}"),
            &admin,
        )
        .await
        .json();
    assert_eq!(c["batch_cost"], 1238, "{c}");
    assert_eq!(c["lines"][3]["source"], "valuation");
    assert_eq!(c["lines"][3]["line_cost"], 20);
    assert_eq!(c["lines"][3]["share_bp"], 162);
    assert!(c["food_cost_bp"].is_null());
    // A store manager costs at their own store, not at another.
    let m1 = app.login_token("manager.s001").await;
    app.get(
        &format!("/api/v1/items/{burger}/recipe/cost?location_id={s1}"),
        &m1,
    )
    .await
    .assert_status(200);
    let s2 = app.store_id("S002").await;
    app.get(
        &format!("/api/v1/items/{burger}/recipe/cost?location_id={s2}"),
        &m1,
    )
    .await
    .assert_status(404);
}

async fn production_consumes_and_yields_at_cost(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    let s2 = app.store_id("S002").await;
    for (code, unit) in [("ONION", "kg"), ("OIL", "l")] {
        item(
            &app,
            &admin,
            json!({"code": code, "name": code, "base_unit": unit}),
        )
        .await;
    }
    let confit = item(
        &app,
        &admin,
        json!({"code": "CONFIT", "name": "Onion confit", "kind": "prepared", "base_unit": "kg"}),
    )
    .await;
    version(
        &app,
        &admin,
        &confit,
        json!({"effective_from": "2026-01-01", "yield_qty": "0.5", "lines": [
            {"item_code": "ONION", "qty": "1", "yield_pct": "90"},
            {"item_code": "OIL", "qty": "25", "unit": "ml"}]}),
    )
    .await
    .assert_status(201);
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "receipt", "lines": [
            {"item_code": "ONION", "qty": "10", "unit_cost": "3"},
            {"item_code": "OIL", "qty": "2", "unit_cost": "20"}]}),
    )
    .await
    .assert_status(201);

    // 1 kg of confit: onion 2.222222 kg at 3.00 = 6.67, oil 0.05 l at 20.00 = 1.00; the confit
    // arrives at exactly 7.67, and the document's values sum to zero.
    let r = app
        .post_json(
            "/api/v1/productions",
            &admin,
            json!({"location_id": s1, "item_code": "CONFIT", "qty": "1", "reference": "PREP-1"}),
            &[("idempotency-key", "prep-1")],
        )
        .await;
    r.assert_status(201);
    let p = r.json();
    assert_eq!(p["doc"]["kind"], "production");
    assert_eq!(p["doc"]["total_value"], 0, "{p}");
    assert_eq!(p["value"], 767);
    assert_eq!(p["version_no"], 1);
    let moves: Vec<(String, String, i64)> = p["doc"]["movements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap().to_string(),
                m["qty"].as_str().unwrap().to_string(),
                m["value"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        moves,
        vec![
            ("production_out".to_string(), "-0.05".to_string(), -100),
            ("production_out".to_string(), "-2.222222".to_string(), -667),
            ("production_in".to_string(), "1".to_string(), 767),
        ]
    );
    // A retry with the same key is the same production.
    let again = app
        .post_json(
            "/api/v1/productions",
            &admin,
            json!({"location_id": s1, "item_code": "CONFIT", "qty": "1", "reference": "PREP-1"}),
            &[("idempotency-key", "prep-1")],
        )
        .await;
    again.assert_status(201);
    assert_eq!(again.json()["doc"]["id"], p["doc"]["id"]);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM inv_docs WHERE kind = 'production'")
            .await,
        1
    );
    assert_ledger_consistent(&app).await;

    // Actual quantities: 2.5 kg of onion and no oil; the output takes their value.
    let r = app
        .post_json(
            "/api/v1/productions",
            &admin,
            json!({"location_id": s1, "item_id": confit, "qty": "500", "unit": "g",
                   "actual": [{"item_code": "ONION", "qty": "2500", "unit": "g"}, {"item_code": "OIL", "qty": 0}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let p = r.json();
    assert_eq!(p["doc"]["total_value"], 0);
    assert_eq!(p["theoretical"].as_array().map(Vec::len), Some(2));
    assert_eq!(p["consumed"].as_array().map(Vec::len), Some(1));
    assert_eq!(p["consumed"][0]["qty"], "2.5");
    assert_eq!(p["qty"], "0.5");
    assert_ledger_consistent(&app).await;
    let sum = app
        .scalar_i64(
            "SELECT CAST(COALESCE(SUM(m.value), 0) AS BIGINT) FROM inv_movements m \
             JOIN inv_docs d ON d.id = m.doc_id WHERE d.kind = 'production'",
        )
        .await;
    assert_eq!(sum, 0);

    // Not enough onion for 10 kg: refused as a whole, nothing written.
    let docs = app.count("inv_docs").await;
    let r = app
        .post_json(
            "/api/v1/productions",
            &admin,
            json!({"location_id": s1, "item_code": "CONFIT", "qty": "10"}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "insufficient_stock");
    assert!(r.text().contains("of ONION"), "{}", r.text());
    assert_eq!(app.count("inv_docs").await, docs);
    // Bad input is reported at once.
    let r = app
        .post_json(
            "/api/v1/productions",
            &admin,
            json!({"location_id": s1, "item_code": "ONION", "qty": "x", "actual": [{"item_code": "NOPE", "qty": "abc"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec!["qty", "actual[0].item_code", "actual[0].qty"]
    );
    // An item without a recipe cannot be produced.
    let r = app
        .post_json(
            "/api/v1/productions",
            &admin,
            json!({"location_id": s1, "item_code": "ONION", "qty": "1"}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "no_recipe");

    // A store manager produces at their store but not at another (404), and cannot change
    // the catalogue.
    let m1 = app.login_token("manager.s001").await;
    app.post_json(
        "/api/v1/productions",
        &m1,
        json!({"location_id": s1, "item_code": "CONFIT", "qty": "0.25"}),
        &[],
    )
    .await
    .assert_status(201);
    let r = app
        .post_json(
            "/api/v1/productions",
            &m1,
            json!({"location_id": s2, "item_code": "CONFIT", "qty": "0.25"}),
            &[],
        )
        .await;
    r.assert_status(404);
    let r = version(
        &app,
        &m1,
        &confit,
        json!({"lines": [{"item_code": "ONION", "qty": "2"}]}),
    )
    .await;
    r.assert_status(403);
    assert_eq!(app.count("inv_recipe_versions").await, 1);
    // The production is a document like any other: it can be reversed exactly.
    let doc = p["doc"]["id"].as_str().unwrap();
    app.post_json(
        &format!("/api/v1/stock/documents/{doc}/reverse"),
        &admin,
        json!({}),
        &[],
    )
    .await
    .assert_status(201);
    assert_ledger_consistent(&app).await;
}
