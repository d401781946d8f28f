//! POS sales ingestion through the API: a batch is applied whole (lines, rollups, held lines,
//! recipe depletion in the ledger), its key makes retries safe, a corrected day replaces the
//! earlier version with everything derived following, mapping a held code processes its
//! lines, and every problem of a bad batch is named with nothing written.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::{assert_ledger_consistent, item, post_doc};

both!(batch_depletes_stock_and_rolls_up_exactly);
both!(batch_key_replays_refuses_other_payload_and_races_apply_once);
both!(bad_batches_name_every_problem_and_write_nothing);
both!(replaced_day_reverses_and_rebuilds);
both!(mapping_a_held_code_processes_its_lines);
both!(other_stores_batches_are_not_found);

pub fn today() -> String {
    boh_inventory::today_in("Asia/Shanghai").to_string()
}

/// BUN and PATTY (stocked, ea), BURGER (menu, POS code B1: 1 bun + 1 patty), COLA (retail,
/// stocked, POS code C1) with 100 of each stocked item at S001 at 2.00 each.
pub async fn catalogue(app: &TestApp, admin: &str) -> Value {
    let bun = item(
        app,
        admin,
        json!({"code": "BUN", "name": "Bun", "base_unit": "ea"}),
    )
    .await;
    let patty = item(
        app,
        admin,
        json!({"code": "PATTY", "name": "Patty", "base_unit": "ea"}),
    )
    .await;
    let cola = item(
        app,
        admin,
        json!({"code": "COLA", "name": "Cola", "kind": "retail", "base_unit": "ea", "pos_code": "C1"}),
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
        json!({"location_id": s1, "kind": "receipt", "lines": [
            {"item_id": bun, "qty": "100", "unit_cost": "2.00"},
            {"item_id": patty, "qty": "100", "unit_cost": "2.00"},
            {"item_id": cola, "qty": "100", "unit_cost": "2.00"}]}),
    )
    .await
    .assert_status(201);
    json!({"bun": bun, "patty": patty, "cola": cola, "burger": burger, "s1": s1})
}

/// On-hand quantity (micro-units) of an item at a location.
pub async fn qty(app: &TestApp, item: &str, loc: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT CAST(COALESCE(SUM(qty), 0) AS BIGINT) FROM inv_valuation WHERE item_id = '{item}' AND location_id = '{loc}'"
    ))
    .await
}

const M: i64 = 1_000_000;

fn at(date: &str, time: &str) -> String {
    format!("{date}T{time}+08:00")
}

/// A day: a sale of 2 burgers + 1 cola (one burger line voided), a refund of 1 burger, a
/// voided ticket, and a line with a code nobody knows.
pub fn day_batch(store: &str, date: &str, key: &str, burgers: i64) -> Value {
    json!({
        "store_id": store, "source": "pos", "business_date": date, "batch_key": key,
        "tickets": [
            {"ticket_no": "T1", "closed_at": at(date, "12:10:00"), "cashier": "amy", "lines": [
                {"pos_code": "B1", "qty": burgers.to_string(), "gross": 1500 * burgers, "discount": 100, "tax": 80},
                {"pos_code": "B1", "qty": "1", "gross": 1500, "void": true},
                {"pos_code": "C1", "qty": "1", "gross": 500, "tax": 30}],
             "tenders": [{"tender": "wechat", "amount": 1500 * burgers - 100 + 500}]},
            {"ticket_no": "T2", "kind": "refund", "closed_at": at(date, "13:05:00"), "cashier": "bob", "lines": [
                {"pos_code": "B1", "qty": "1", "gross": 1500, "tax": 90}],
             "tenders": [{"tender": "cash", "amount": 1500}]},
            {"ticket_no": "T3", "kind": "void", "closed_at": at(date, "13:20:00"), "cashier": "bob", "lines": [
                {"pos_code": "C1", "qty": "2", "gross": 1000}]},
            {"ticket_no": "T4", "closed_at": at(date, "18:45:00"), "cashier": "amy", "lines": [
                {"pos_code": "X9", "name": "Seasonal pie", "qty": "3", "gross": 2400}],
             "tenders": [{"tender": "alipay", "amount": 2000}, {"tender": "card", "amount": 400}]}
        ]
    })
}

pub async fn assert_rollups_consistent(app: &TestApp) {
    let rep = boh_sales::rollup::check(&app.platform)
        .await
        .expect("running the rollup checker");
    assert!(
        rep.problems.is_empty(),
        "rollup problems: {:#?}",
        rep.problems
    );
}

async fn batch_depletes_stock_and_rolls_up_exactly(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = catalogue(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    let (bun, patty, cola) = (
        c["bun"].as_str().unwrap(),
        c["patty"].as_str().unwrap(),
        c["cola"].as_str().unwrap(),
    );
    let d = today();
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            day_batch(s1, &d, "day-1", 2),
            &[],
        )
        .await;
    r.assert_status(201);
    let b = r.json();
    assert_eq!(b["replayed"], false);
    assert_eq!(b["version"], 1);
    assert_eq!(b["ticket_count"], 4);
    assert_eq!(b["line_count"], 6);
    assert_eq!(b["held_count"], 1);
    // Sales: T1 (3000 − 100 + 500) − T2 1500 + T4 2400; voids count apart.
    assert_eq!(b["net"], 3400 - 1500 + 2400);
    assert_eq!(b["tax"], 80 + 30 - 90);
    assert!(b["doc_id"].is_string(), "{b}");

    // Stock: exactly the recipe depletion of what was sold (refunds and voids deplete nothing).
    assert_eq!(qty(&app, bun, s1).await, 98 * M);
    assert_eq!(qty(&app, patty, s1).await, 98 * M);
    assert_eq!(qty(&app, cola, s1).await, 99 * M);
    let doc = b["doc_id"].as_str().unwrap();
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM inv_movements WHERE doc_id = '{doc}' AND kind = 'sale'"
        ))
        .await,
        3,
        "one movement per ingredient"
    );
    // Usage is valued at the moving-average cost: 2 buns + 2 patties + 1 cola at 2.00.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT CAST(SUM(value) AS BIGINT) FROM sales_usage WHERE doc_id = '{doc}'"
        ))
        .await,
        1000
    );

    // Rollups.
    let day = |col: &str| format!("SELECT {col} FROM sales_rollup_day WHERE store_id = '{s1}'");
    assert_eq!(app.scalar_i64(&day("tickets")).await, 2);
    assert_eq!(app.scalar_i64(&day("refund_tickets")).await, 1);
    assert_eq!(app.scalar_i64(&day("refund_amount")).await, 1500);
    assert_eq!(app.scalar_i64(&day("void_lines")).await, 2);
    assert_eq!(app.scalar_i64(&day("void_amount")).await, 2500);
    assert_eq!(app.scalar_i64(&day("net")).await, 4300);
    let burger = c["burger"].as_str().unwrap();
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT qty FROM sales_rollup_item WHERE store_id = '{s1}' AND item_id = '{burger}'"
        ))
        .await,
        M,
        "2 sold − 1 refunded"
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT net FROM sales_rollup_hour WHERE store_id = '{s1}' AND hour = 18"
        ))
        .await,
        2400
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT amount FROM sales_rollup_tender WHERE store_id = '{s1}' AND tender = 'cash'"
        ))
        .await,
        -1500
    );
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT void_lines FROM sales_rollup_cashier WHERE store_id = '{s1}' AND cashier = 'bob'"
        ))
        .await,
        1
    );
    // The unknown code waits in the queue with its money.
    let q = app.get("/api/v1/sales/unmapped", &admin).await;
    q.assert_status(200);
    let q = q.json();
    assert_eq!(q["items"][0]["pos_code"], "X9");
    assert_eq!(q["items"][0]["pos_name"], "Seasonal pie");
    assert_eq!(q["items"][0]["held_lines"], 1);
    assert_eq!(q["items"][0]["held_net"], 2400);
    assert_rollups_consistent(&app).await;
    assert_ledger_consistent(&app).await;

    // The batch reads back in the list and alone.
    let l = app
        .get(&format!("/api/v1/sales/batches?store_id={s1}"), &admin)
        .await;
    l.assert_status(200);
    assert_eq!(l.json()["page"]["total"], 1);
    let id = b["id"].as_str().unwrap();
    let one = app
        .get(&format!("/api/v1/sales/batches/{id}"), &admin)
        .await;
    one.assert_status(200);
    assert_eq!(one.json()["net"], 4300);
}

async fn batch_key_replays_refuses_other_payload_and_races_apply_once(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = catalogue(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    let d = today();
    let body = day_batch(s1, &d, "k-1", 2);
    let first = app
        .post_json("/api/v1/sales/batches", &admin, body.clone(), &[])
        .await;
    first.assert_status(201);
    let again = app
        .post_json("/api/v1/sales/batches", &admin, body.clone(), &[])
        .await;
    again.assert_status(200);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(again.json()["id"], first.json()["id"]);
    assert_eq!(again.json()["replayed"], true);
    let lines = app.count("sales_lines").await;
    let movements = app.count("inv_movements").await;

    // Same key, other payload: refused, nothing written.
    let other = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            day_batch(s1, &d, "k-1", 3),
            &[],
        )
        .await;
    other.assert_status(422);
    assert_eq!(other.json()["error"]["code"], "idempotency_key_reused");
    assert_eq!(app.count("sales_lines").await, lines);
    assert_eq!(app.count("inv_movements").await, movements);

    // The header works as the key too.
    let mut keyless = day_batch(s1, &d, "unused", 1);
    keyless.as_object_mut().unwrap().remove("batch_key");
    let h = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            keyless.clone(),
            &[("Idempotency-Key", "hdr-1")],
        )
        .await;
    h.assert_status(201);
    assert_eq!(h.json()["batch_key"], "hdr-1");
    let no_key = app
        .post_json("/api/v1/sales/batches", &admin, keyless, &[])
        .await;
    no_key.assert_status(422);
    assert_eq!(no_key.error_fields(), vec!["batch_key"]);

    // Concurrent duplicates apply once and all answer the same batch, also when they land in
    // one write group with other batches (the group rolls back and each runs alone).
    let keys = ["race", "race-b", "race", "race-c", "race-b", "race"];
    let mut tasks = Vec::new();
    for key in keys {
        let http = app.http.clone();
        let (token, body) = (admin.clone(), day_batch(s1, &d, key, 1));
        tasks.push(tokio::spawn(async move {
            let r = http
                .request(reqwest_post(), "/api/v1/sales/batches")
                .bearer(&token)
                .json(&body)
                .send()
                .await;
            (key, r)
        }));
    }
    let mut ids: std::collections::BTreeMap<&str, std::collections::BTreeSet<String>> =
        Default::default();
    for t in tasks {
        let (key, r) = t.await.expect("task");
        assert!(r.status == 201 || r.status == 200, "{}", r.text());
        ids.entry(key)
            .or_default()
            .insert(r.json()["id"].as_str().unwrap().to_string());
    }
    assert_eq!(ids.len(), 3);
    assert!(ids.values().all(|v| v.len() == 1), "{ids:?}");
    for key in ["race", "race-b", "race-c"] {
        assert_eq!(
            app.scalar_i64(&format!(
                "SELECT COUNT(*) FROM sales_batches WHERE batch_key = '{key}'"
            ))
            .await,
            1,
            "{key}"
        );
    }
    assert_rollups_consistent(&app).await;
    assert_ledger_consistent(&app).await;
}

fn reqwest_post() -> axum::http::Method {
    axum::http::Method::POST
}

async fn bad_batches_name_every_problem_and_write_nothing(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = catalogue(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    let d = today();
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            json!({"store_id": s1, "source": "POS!", "business_date": "2026-13-01", "batch_key": "x",
                "tickets": [
                    {"ticket_no": "A", "closed_at": "yesterday", "lines": [
                        {"pos_code": "B1", "qty": "0", "gross": 100},
                        {"pos_code": "B1", "qty": "1", "gross": 100, "discount": 200}],
                     "tenders": [{"tender": "cash", "amount": 5}]},
                    {"ticket_no": "A", "closed_at": at(&d, "10:00:00"), "lines": []}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec![
            "source",
            "business_date",
            "tickets[0].closed_at",
            "tickets[0].lines[0].qty",
            "tickets[0].lines[1].discount",
            "tickets[0].tenders",
            "tickets[1].ticket_no",
            "tickets[1].lines"
        ],
        "{}",
        r.text()
    );
    // Tenders that do not add up, and a ticket closed days away from its business day.
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            json!({"store_id": s1, "source": "pos", "business_date": d, "batch_key": "y",
                "tickets": [{"ticket_no": "A", "closed_at": "2020-01-01T10:00:00Z", "lines": [
                    {"pos_code": "B1", "qty": "1", "gross": 100, "tax": 500}],
                    "tenders": [{"tender": "cash", "amount": 90}]}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec![
            "tickets[0].closed_at",
            "tickets[0].lines[0].tax",
            "tickets[0].tenders"
        ]
    );
    // An unknown tender is refused by the body's schema, naming the field.
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            json!({"store_id": s1, "source": "pos", "business_date": d, "batch_key": "z",
                "tickets": [{"ticket_no": "A", "closed_at": at(&d, "10:00:00"), "lines": [
                    {"pos_code": "B1", "qty": "1", "gross": 100}],
                    "tenders": [{"tender": "bitcoin", "amount": 100}]}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert!(
        r.text().contains("tickets[0].tenders[0].tender"),
        "{}",
        r.text()
    );
    // Over 10,000 lines.
    let lines: Vec<Value> = (0..10_001)
        .map(|_| json!({"pos_code": "C1", "qty": "1", "gross": 1}))
        .collect();
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            json!({"store_id": s1, "source": "pos", "business_date": d, "batch_key": "big",
                "tickets": [{"ticket_no": "A", "closed_at": at(&d, "10:00:00"), "lines": lines,
                    "tenders": [{"tender": "cash", "amount": 10_001}]}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["tickets"]);
    assert_eq!(app.count("sales_batches").await, 0);
    assert_eq!(app.count("sales_lines").await, 0);
    assert_eq!(app.count("sales_rollup_day").await, 0);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM inv_movements WHERE kind = 'sale'")
            .await,
        0
    );
}

async fn replaced_day_reverses_and_rebuilds(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = catalogue(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    let bun = c["bun"].as_str().unwrap();
    let d = today();
    let first = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            day_batch(s1, &d, "v1", 2),
            &[],
        )
        .await;
    first.assert_status(201);
    // A second batch of the same day adds to it (real-time ingestion).
    let mut more = day_batch(s1, &d, "v1b", 4);
    more["tickets"] = json!([more["tickets"][0].clone()]);
    more["tickets"][0]["ticket_no"] = json!("T9");
    app.post_json("/api/v1/sales/batches", &admin, more, &[])
        .await
        .assert_status(201);
    assert_eq!(qty(&app, bun, s1).await, (100 - 2 - 4) * M);

    // The corrected day replaces both: 5 burgers in all.
    let mut fixed = day_batch(s1, &d, "v2", 5);
    fixed["mode"] = json!("replace");
    let r = app
        .post_json("/api/v1/sales/batches", &admin, fixed, &[])
        .await;
    r.assert_status(201);
    let b = r.json();
    assert_eq!(b["version"], 2);
    assert_eq!(b["superseded"].as_array().unwrap().len(), 2);
    assert_eq!(qty(&app, bun, s1).await, (100 - 5) * M);
    let first_id = first.json()["id"].as_str().unwrap().to_string();
    let old = app
        .get(&format!("/api/v1/sales/batches/{first_id}"), &admin)
        .await;
    assert_eq!(old.json()["status"], "superseded");
    assert_eq!(old.json()["superseded_by"], b["id"]);
    // The rollups are those of the new version alone.
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT net FROM sales_rollup_day WHERE store_id = '{s1}'"
        ))
        .await,
        (1500 * 5 - 100 + 500) - 1500 + 2400
    );
    // Its held line replaced the old ones.
    assert_eq!(app.count("sales_held").await, 1);
    let v = app
        .get(
            &format!("/api/v1/sales/batches?store_id={s1}&status=superseded"),
            &admin,
        )
        .await;
    assert_eq!(v.json()["page"]["total"], 2);
    assert_rollups_consistent(&app).await;
    assert_ledger_consistent(&app).await;
}

async fn mapping_a_held_code_processes_its_lines(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = catalogue(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    let d = today();
    let pie = item(
        &app,
        &admin,
        json!({"code": "PIE", "name": "Pie", "kind": "menu", "base_unit": "ea"}),
    )
    .await;
    app.post_json(
        &format!("/api/v1/items/{pie}/recipe/versions"),
        &admin,
        json!({"effective_from": "2026-01-01", "lines": [{"item_code": "BUN", "qty": "0.5"}]}),
        &[],
    )
    .await
    .assert_status(201);
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            day_batch(s1, &d, "m1", 2),
            &[],
        )
        .await;
    r.assert_status(201);
    let batch = r.json()["id"].as_str().unwrap().to_string();
    let bun = c["bun"].as_str().unwrap();
    assert_eq!(qty(&app, bun, s1).await, 98 * M);

    // A store manager may not map; bad input names the field.
    let mgr = app.login_token("manager.s001").await;
    let r = app
        .post_json(
            "/api/v1/sales/mappings",
            &mgr,
            json!({"source": "pos", "pos_code": "X9", "item_id": pie}),
            &[],
        )
        .await;
    r.assert_status(403);
    let r = app
        .post_json(
            "/api/v1/sales/mappings",
            &admin,
            json!({"source": "pos", "pos_code": "X9", "item_id": "nope"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["item_id"]);

    let r = app
        .post_json(
            "/api/v1/sales/mappings",
            &admin,
            json!({"source": "pos", "pos_code": "X9", "item_id": pie}),
            &[],
        )
        .await;
    r.assert_status(201);
    let m = r.json();
    assert_eq!(m["processed_lines"], 1);
    assert_eq!(m["documents"].as_array().unwrap().len(), 1);
    // 3 pies × 0.5 bun.
    assert_eq!(qty(&app, bun, s1).await, 98 * M - 1_500_000);
    let b = app
        .get(&format!("/api/v1/sales/batches/{batch}"), &admin)
        .await;
    assert_eq!(b.json()["held_count"], 0);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT qty FROM sales_rollup_item WHERE store_id = '{s1}' AND item_id = '{pie}'"
        ))
        .await,
        3 * M
    );
    let q = app.get("/api/v1/sales/unmapped", &admin).await;
    assert_eq!(q.json()["page"]["total"], 0);
    // Mapped to another item: refused.
    let r = app
        .post_json(
            "/api/v1/sales/mappings",
            &admin,
            json!({"source": "pos", "pos_code": "X9", "item_id": bun}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.json()["error"]["code"], "already_mapped");
    // Later batches resolve the code through the mapping at once.
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            day_batch(s1, &d, "m2", 1),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["held_count"], 0);
    let maps = app.get("/api/v1/sales/mappings", &admin).await;
    assert_eq!(maps.json()["items"][0]["item_code"], "PIE");
    assert_rollups_consistent(&app).await;
    assert_ledger_consistent(&app).await;
}

async fn other_stores_batches_are_not_found(app: TestApp) {
    let admin = app.login_token("admin").await;
    let c = catalogue(&app, &admin).await;
    let s1 = c["s1"].as_str().unwrap();
    let s2 = app.store_id("S002").await;
    let d = today();
    let mgr1 = app.login_token("manager.s001").await;
    let mgr2 = app.login_token("manager.s002").await;
    // A store manager sends their own store's sales...
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &mgr1,
            day_batch(s1, &d, "own", 1),
            &[],
        )
        .await;
    r.assert_status(201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    // ...not another store's.
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &mgr1,
            day_batch(&s2, &d, "other", 1),
            &[],
        )
        .await;
    r.assert_status(404);
    // And cannot see another store's batch or list it.
    app.get(&format!("/api/v1/sales/batches/{id}"), &mgr2)
        .await
        .assert_status(404);
    let l = app.get("/api/v1/sales/batches", &mgr2).await;
    assert_eq!(l.json()["page"]["total"], 0);
    let q = app.get("/api/v1/sales/unmapped", &mgr2).await;
    assert_eq!(q.json()["page"]["total"], 0, "{}", q.text());
    let q = app.get("/api/v1/sales/unmapped", &mgr1).await;
    assert_eq!(q.json()["page"]["total"], 1, "{}", q.text());
    // The region manager of S001's region sees it.
    let region = app.login_token("region.east").await;
    app.get(&format!("/api/v1/sales/batches/{id}"), &region)
        .await
        .assert_status(200);
}
