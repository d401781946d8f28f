//! Actual vs theoretical usage: counts at both ends of a period against receipts, sales
//! depletion and waste, checked to the unit and the fen; a period without counts falls back
//! to the ledger's book and says so; another store's report is not found.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::{item, post_doc};

both!(avt_with_counts_at_both_ends_is_exact);
both!(avt_without_a_closing_count_uses_the_book);
both!(avt_validation_and_scope);

/// The business day `n` days before today (Asia/Shanghai).
pub fn day(n: i64) -> String {
    boh_inventory::today_in("Asia/Shanghai")
        .checked_sub(jiff::Span::new().days(n))
        .unwrap()
        .to_string()
}

/// Post a full count of `lines` (item id, counted quantity) at a location, dated `date`.
pub async fn post_count(app: &TestApp, token: &str, loc: &str, date: &str, lines: &[(&str, &str)]) {
    let r = app
        .post_json(
            "/api/v1/counts",
            token,
            json!({"location_id": loc, "kind": "full", "business_date": date}),
            &[],
        )
        .await;
    r.assert_status(201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let entries: Vec<Value> = lines
        .iter()
        .map(|(i, q)| json!({"item_id": i, "qty": q, "mode": "set"}))
        .collect();
    app.post_json(
        &format!("/api/v1/counts/{id}/lines"),
        token,
        json!({ "entries": entries }),
        &[],
    )
    .await
    .assert_status(201);
    let r = app
        .post_json(
            &format!("/api/v1/counts/{id}/submit"),
            token,
            json!({}),
            &[],
        )
        .await;
    r.assert_status(201);
    let r = app
        .post_json(&format!("/api/v1/counts/{id}/post"), token, json!({}), &[])
        .await;
    r.assert_status(201);
}

fn sale_batch(store: &str, date: &str, burgers: i64, colas: i64) -> Value {
    json!({
        "store_id": store, "source": "pos", "business_date": date, "batch_key": format!("avt-{date}"),
        "tickets": [
            {"ticket_no": "T1", "closed_at": format!("{date}T12:00:00+08:00"), "cashier": "amy", "lines": [
                {"pos_code": "B1", "qty": burgers.to_string(), "gross": 1500 * burgers},
                {"pos_code": "C1", "qty": colas.to_string(), "gross": 500 * colas}],
             "tenders": [{"tender": "cash", "amount": 1500 * burgers + 500 * colas}]}
        ]
    })
}

/// FOOD: BUN, PATTY; DRINK: COLA (retail, C1); BURGER (menu, B1) = 1 bun + 1 patty. 100 of
/// each stocked item received at S001 five days ago at 2.00; an opening count three days ago
/// finds 2 patties missing.
async fn setup(app: &TestApp, admin: &str) -> Value {
    for (code, name) in [("FOOD", "Food"), ("DRINK", "Drinks")] {
        app.post_json(
            "/api/v1/categories",
            admin,
            json!({"code": code, "name_en": name, "name_zh": name}),
            &[],
        )
        .await
        .assert_status(201);
    }
    let bun = item(
        app,
        admin,
        json!({"code": "BUN", "name": "Bun", "base_unit": "ea", "category_code": "FOOD"}),
    )
    .await;
    let patty = item(
        app,
        admin,
        json!({"code": "PATTY", "name": "Patty", "base_unit": "ea", "category_code": "FOOD"}),
    )
    .await;
    let cola = item(
        app,
        admin,
        json!({"code": "COLA", "name": "Cola", "kind": "retail", "base_unit": "ea", "pos_code": "C1", "category_code": "DRINK"}),
    )
    .await;
    let burger = item(
        app,
        admin,
        json!({"code": "BURGER", "name": "Burger", "kind": "menu", "base_unit": "ea", "pos_code": "B1"}),
    )
    .await;
    app.post_json(
        &format!("/api/v1/items/{burger}/recipe/versions"),
        admin,
        json!({"effective_from": "2026-01-01", "lines": [
            {"item_code": "BUN", "qty": "1"}, {"item_code": "PATTY", "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(201);
    let s1 = app.store_id("S001").await;
    post_doc(
        app,
        admin,
        json!({"location_id": s1, "kind": "receipt", "business_date": day(5), "lines": [
            {"item_id": bun, "qty": "100", "unit_cost": "2.00"},
            {"item_id": patty, "qty": "100", "unit_cost": "2.00"},
            {"item_id": cola, "qty": "100", "unit_cost": "2.00"}]}),
    )
    .await
    .assert_status(201);
    post_count(
        app,
        admin,
        &s1,
        &day(3),
        &[(&bun, "100"), (&patty, "98"), (&cola, "100")],
    )
    .await;
    // The period: two days ago to today.
    // Day −2: 10 burgers and 5 colas sold; 20 buns received.
    app.post_json(
        "/api/v1/sales/batches",
        admin,
        sale_batch(&s1, &day(2), 10, 5),
        &[],
    )
    .await
    .assert_status(201);
    post_doc(
        app,
        admin,
        json!({"location_id": s1, "kind": "receipt", "business_date": day(2), "lines": [
            {"item_id": bun, "qty": "20", "unit_cost": "2.00"}]}),
    )
    .await
    .assert_status(201);
    // Day −1: 8 burgers and 4 colas sold; 3 patties wasted; 1 cola issued.
    app.post_json(
        "/api/v1/sales/batches",
        admin,
        sale_batch(&s1, &day(1), 8, 4),
        &[],
    )
    .await
    .assert_status(201);
    post_doc(
        app,
        admin,
        json!({"location_id": s1, "kind": "waste", "business_date": day(1), "lines": [
            {"item_id": patty, "qty": "3", "reason": "expired"}]}),
    )
    .await
    .assert_status(201);
    post_doc(
        app,
        admin,
        json!({"location_id": s1, "kind": "issue", "business_date": day(1), "lines": [
            {"item_id": cola, "qty": "1"}]}),
    )
    .await
    .assert_status(201);
    json!({"bun": bun, "patty": patty, "cola": cola, "s1": s1})
}

fn row<'a>(r: &'a Value, code: &str) -> &'a Value {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == code)
        .unwrap_or_else(|| panic!("no row {code} in {r}"))
}

async fn avt(app: &TestApp, token: &str, q: &str) -> Value {
    let r = app.get(&format!("/api/v1/sales/avt?{q}"), token).await;
    r.assert_status(200);
    r.json()
}

async fn avt_with_counts_at_both_ends_is_exact(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = setup(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    // Closing count today: 100 buns (102 expected), 75 patties (77), 90 colas (90).
    post_count(
        &app,
        &admin,
        s1,
        &day(0),
        &[
            (c["bun"].as_str().unwrap(), "100"),
            (c["patty"].as_str().unwrap(), "75"),
            (c["cola"].as_str().unwrap(), "90"),
        ],
    )
    .await;
    let mgr = app.login_token("manager.s001").await;
    let q = format!("store_id={s1}&from={}&to={}", day(2), day(0));
    let r = avt(&app, &mgr, &q).await;
    assert_eq!(r["opening_date"], day(3));
    assert_eq!(r["opening_counted"], true, "{r}");
    assert_eq!(r["closing_counted"], true);
    assert_eq!(r["book_items"], 0);
    // Net sales: 10 × 15.00 + 5 × 5.00 + 8 × 15.00 + 4 × 5.00.
    assert_eq!(r["sales_net"], 31_500);
    // BUN: 100 + 20 − 100 = 20 used, 18 sold.
    let b = row(&r, "BUN");
    assert_eq!(b["opening_qty"], "100");
    assert_eq!(b["receipts_qty"], "20");
    assert_eq!(b["closing_qty"], "100");
    assert_eq!(b["actual_qty"], "20");
    assert_eq!(b["theoretical_qty"], "18");
    assert_eq!(b["sold_usage_qty"], "18");
    assert_eq!(b["waste_qty"], "0");
    assert_eq!(b["variance_qty"], "2");
    assert_eq!(b["actual_value"], 4_000);
    assert_eq!(b["theoretical_value"], 3_600);
    assert_eq!(b["variance_value"], 400);
    // 400 / 31,500 = 1.2698 % → 127 bp.
    assert_eq!(b["variance_bp"], 127);
    assert_eq!(b["opening_book"], 0);
    assert_eq!(b["closing_book"], 0);
    // PATTY: opening is the count (98), 23 used = 18 sold + 3 wasted + 2 unexplained.
    let p = row(&r, "PATTY");
    assert_eq!(p["opening_qty"], "98");
    assert_eq!(p["closing_qty"], "75");
    assert_eq!(p["actual_qty"], "23");
    assert_eq!(p["theoretical_qty"], "18");
    assert_eq!(p["waste_qty"], "3");
    assert_eq!(p["variance_qty"], "2");
    assert_eq!(p["waste_value"], 600);
    assert_eq!(p["variance_value"], 400);
    // COLA: 10 used, 9 sold, the issued one unexplained by sales.
    let k = row(&r, "COLA");
    assert_eq!(k["actual_qty"], "10");
    assert_eq!(k["theoretical_qty"], "9");
    assert_eq!(k["variance_qty"], "1");
    assert_eq!(k["variance_value"], 200);
    assert_eq!(k["unit_cost_e6"], 200_000_000);
    // Biggest variance first (BUN and PATTY tie at 4.00: by code), COLA last.
    let codes: Vec<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["BUN", "PATTY", "COLA"]);
    let t = &r["totals"];
    assert_eq!(t["actual_value"], 10_600);
    assert_eq!(t["theoretical_value"], 9_000);
    assert_eq!(t["waste_value"], 600);
    assert_eq!(t["variance_value"], 1_000);
    assert_eq!(t["variance_bp"], 317);
    assert_eq!(t["theoretical_bp"], 2_857);
    // By category: FOOD 8.00 of variance, DRINK 2.00.
    let r = avt(&app, &mgr, &format!("{q}&group=category")).await;
    assert_eq!(r["group"], "category");
    let f = row(&r, "FOOD");
    assert_eq!(f["variance_value"], 800);
    assert_eq!(f["actual_value"], 8_600);
    assert_eq!(f["items"], 2);
    assert!(f["actual_qty"].is_null());
    assert_eq!(row(&r, "DRINK")["variance_value"], 200);
    assert_eq!(r["rows"][0]["code"], "FOOD");
    assert_eq!(r["totals"]["variance_value"], 1_000);

    // The page and its export, as the store manager.
    let session = app.session("manager.s001").await;
    let get = |path: String| {
        let session = session.clone();
        let app = &app;
        async move {
            let r = app
                .request(hyper::Method::GET, &path)
                .cookie("boh_session", &session)
                .send()
                .await;
            r.assert_status(200);
            r
        }
    };
    let html = get(format!("/sales/avt?{q}")).await.text();
    assert!(html.contains("id=\"avt-table\""), "{html}");
    assert!(html.contains("<svg class=\"chart\""));
    assert!(
        html.contains("id=\"avt-total-variance\">+¥10.00<"),
        "{html}"
    );
    assert!(html.contains("3.17%"));
    assert!(!html.contains("id=\"avt-book\""));
    let csv = get(format!("/sales/avt/export.csv?{q}")).await.text();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0]
            .trim_start_matches('\u{feff}')
            .starts_with("code,name_zh,name_en,base_unit,opening_qty"),
        "{csv}"
    );
    assert!(lines[1].starts_with("BUN,"), "{csv}");
    assert!(lines[1].contains(",4.00,1.27,0,0"), "{csv}");
    assert_eq!(lines.len(), 4);
    let x = get(format!("/sales/avt/export.xlsx?{q}")).await;
    assert!(x.text().len() > 100);
    // Another store's page is not found; the book warning shows without a closing count.
    let mgr2 = app.session("manager.s002").await;
    let r = app
        .request(hyper::Method::GET, &format!("/sales/avt?{q}"))
        .cookie("boh_session", &mgr2)
        .send()
        .await;
    r.assert_status(404);
    let html = get(format!(
        "/sales/avt?store_id={s1}&from={}&to={}",
        day(2),
        day(1)
    ))
    .await
    .text();
    assert!(html.contains("id=\"avt-book\""), "{html}");
}

async fn avt_without_a_closing_count_uses_the_book(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = setup(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    // To yesterday: no count dated yesterday, the closing is the ledger's on-hand.
    let r = avt(
        &app,
        &admin,
        &format!("store_id={s1}&from={}&to={}", day(2), day(1)),
    )
    .await;
    assert_eq!(r["opening_counted"], true);
    assert_eq!(r["closing_counted"], false);
    assert_eq!(r["book_items"], 3);
    let b = row(&r, "BUN");
    assert_eq!(b["closing_qty"], "102");
    assert_eq!(b["closing_book"], 1);
    assert_eq!(b["actual_qty"], "18");
    assert_eq!(b["variance_qty"], "0");
    let p = row(&r, "PATTY");
    assert_eq!(p["closing_qty"], "77");
    assert_eq!(p["actual_qty"], "21");
    assert_eq!(p["waste_qty"], "3");
    assert_eq!(p["variance_qty"], "0");
    // The book knows the issue, but sales do not explain it.
    assert_eq!(row(&r, "COLA")["variance_qty"], "1");
    assert_eq!(r["totals"]["variance_value"], 200);
    // No count at either end: opening and closing are both the book.
    let r = avt(
        &app,
        &admin,
        &format!("store_id={s1}&from={}&to={}", day(1), day(1)),
    )
    .await;
    assert_eq!(r["opening_counted"], false);
    assert_eq!(r["closing_counted"], false);
    let p = row(&r, "PATTY");
    assert_eq!(p["opening_book"], 1);
    // 98 − 10 on day −2 = 88 at the close of day −2.
    assert_eq!(p["opening_qty"], "88");
    assert_eq!(p["actual_qty"], "11");
    assert_eq!(p["theoretical_qty"], "8");
    assert_eq!(r["sales_net"], 14_000);
}

async fn avt_validation_and_scope(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = setup(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    let r = app
        .get(
            &format!("/api/v1/sales/avt?store_id={s1}&to=soon&group=x"),
            &admin,
        )
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["group", "to"], "{}", r.text());
    let r = app
        .get(
            &format!(
                "/api/v1/sales/avt?store_id={s1}&from={}&to={}",
                day(1),
                day(2)
            ),
            &admin,
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["to"]);
    let r = app
        .get(
            &format!("/api/v1/sales/avt?from={}&to={}", day(2), day(1)),
            &admin,
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["store_id"]);
    // Another store's manager: not found. A store nobody knows: not found.
    let q = format!("from={}&to={}", day(2), day(0));
    let mgr2 = app.login_token("manager.s002").await;
    app.get(&format!("/api/v1/sales/avt?store_id={s1}&{q}"), &mgr2)
        .await
        .assert_status(404);
    app.get(
        &format!("/api/v1/sales/avt?store_id=00000000-0000-0000-0000-000000000000&{q}"),
        &admin,
    )
    .await
    .assert_status(404);
    // Their own store answers (nothing sold there).
    let s2 = app.store_id("S002").await;
    let r = avt(&app, &mgr2, &format!("store_id={s2}&{q}")).await;
    assert_eq!(r["sales_net"], 0);
    assert!(r["totals"]["variance_bp"].is_null());
    // The region manager of S001's region reads it.
    let region = app.login_token("region.east").await;
    let r = avt(&app, &region, &format!("store_id={s1}&{q}")).await;
    assert_eq!(r["totals"]["theoretical_value"], 9_000);
}
