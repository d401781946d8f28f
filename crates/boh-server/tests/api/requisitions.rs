//! Order guides and requisitions: the guide suggests par − on-hand − on order in whole packs;
//! submitted requisitions of one site are consolidated into one purchase order per supplier
//! and delivery day (same item merged, packs rounded up and reported); an order below the
//! supplier's minimum stays a draft with the reason until more is ordered; warehouse lines
//! become a transfer request that ships and is received; bad lines are named with nothing
//! written; fields the system owns and other stores' ids are refused; another store's
//! requisition does not exist; the approved order reaches the supplier by e-mail with its PDF
//! and CSV, and "send again" sends it once more.

use boh_platform::mail::{SmtpSettings, SmtpTls};
use hyper::Method;
use serde_json::{Value, json};

use crate::common::smtp::SmtpSink;
use crate::common::{Backend, TestApp, spawn_app_with};
use crate::inventory::item;
use crate::suppliers::{price, supplier, supplier_item};
use crate::workflow::{decide, define, inbox};

both!(guide_suggests_par_less_on_hand_and_on_order_in_whole_packs);
both!(requisitions_of_a_site_consolidate_into_one_order);
both!(an_order_below_the_minimum_waits_as_a_flagged_draft);
both!(an_order_waiting_for_approval_takes_later_requisitions);
both!(warehouse_lines_become_a_transfer);
both!(bad_lines_are_named_and_nothing_is_written);
both!(system_fields_and_other_stores_are_refused);
both!(approved_orders_reach_the_supplier_with_pdf_and_csv, backend);
both!(delivery_days_are_chosen_and_sources_remembered);

const M: i64 = 1_000_000;

struct Fixture {
    admin: String,
    manager: String,
    s1: String,
    w1: String,
    mill: String,
    closed: String,
    flour: String,
    butter: String,
    sauce: String,
}

fn q(v: &Value) -> f64 {
    v.as_str()
        .unwrap_or_else(|| panic!("a quantity: {v}"))
        .parse()
        .expect("a decimal")
}

/// Flour (bags of 25 kg) and butter (cases of 10 kg) from GOLDMILL (minimum order 200.00),
/// flour also from a closed supplier, sauce only from the warehouse W001. S001 keeps all three
/// with par levels and has 30 kg of flour.
async fn fixture(app: &TestApp, min_order_minor: i64) -> Fixture {
    let admin = app.login_token("admin").await;
    let flour = item(
        app,
        &admin,
        json!({"code": "G-FLOUR", "name_zh": "面粉", "name_en": "Flour", "base_unit": "kg",
               "units": [{"unit": "bag", "factor": "25"}]}),
    )
    .await;
    let butter = item(
        app,
        &admin,
        json!({"code": "G-BUTTER", "name_zh": "黄油", "name_en": "Butter", "base_unit": "kg",
               "units": [{"unit": "case", "factor": "10"}]}),
    )
    .await;
    let sauce = item(
        app,
        &admin,
        json!({"code": "G-SAUCE", "name_zh": "酱汁", "name_en": "House sauce", "base_unit": "kg"}),
    )
    .await;
    let today = boh_inventory::today_in("Asia/Shanghai").to_string();
    let mill = supplier(
        app,
        &admin,
        json!({"code": "GOLDMILL", "name_zh": "金磨坊", "name_en": "Golden Mill", "lead_time_days": 1,
               "min_order_minor": min_order_minor, "email": "orders@goldmill.example.cn"}),
    )
    .await;
    for (id, pack, minor) in [(&flour, "bag", 16000), (&butter, "case", 52000)] {
        let si = supplier_item(
            app,
            &admin,
            &mill,
            json!({"item_id": id, "pack_unit": pack}),
        )
        .await;
        price(app, &admin, &mill, &si, minor, &today).await;
    }
    let closed = supplier(app, &admin, json!({"code": "OLDMILL", "name": "Old mill"})).await;
    let si = supplier_item(
        app,
        &admin,
        &closed,
        json!({"item_id": flour, "pack_unit": "bag"}),
    )
    .await;
    price(app, &admin, &closed, &si, 15000, &today).await;
    let r = app
        .patch_json(
            &format!("/api/v1/suppliers/{closed}"),
            &admin,
            json!({"active": false}),
        )
        .await;
    r.assert_status(200);
    let s1 = app.store_id("S001").await;
    let w1 = app.node_id("W001").await;
    for (loc, body) in [
        (
            &s1,
            json!({"items": [
                {"item_id": flour, "par_qty": "100"},
                {"item_id": butter, "par_qty": "25"},
                {"item_id": sauce, "par_qty": "12"}]}),
        ),
        (
            &w1,
            json!({"items": [{"item_id": flour, "par_qty": "500"}, {"item_id": sauce, "par_qty": "100"}]}),
        ),
    ] {
        app.request(Method::PUT, &format!("/api/v1/locations/{loc}/items"))
            .bearer(&admin)
            .json(&body)
            .send()
            .await
            .assert_status(200);
    }
    for (loc, code, qty) in [(&s1, "G-FLOUR", "30"), (&w1, "G-SAUCE", "80")] {
        crate::inventory::post_doc(
            app,
            &admin,
            json!({"location_id": loc, "kind": "receipt",
                   "lines": [{"item_code": code, "qty": qty, "unit_cost": "4"}]}),
        )
        .await
        .assert_status(201);
    }
    Fixture {
        admin,
        manager: app.login_token("manager.s001").await,
        s1,
        w1,
        mill,
        closed,
        flour,
        butter,
        sauce,
    }
}

fn guide_line<'a>(g: &'a Value, item: &str) -> &'a Value {
    g["lines"]
        .as_array()
        .expect("lines")
        .iter()
        .find(|l| l["item_id"] == item)
        .unwrap_or_else(|| panic!("no guide line for {item}: {g}"))
}

async fn guide(app: &TestApp, token: &str, loc: &str) -> Value {
    let r = app
        .get(&format!("/api/v1/locations/{loc}/order-guide"), token)
        .await;
    r.assert_status(200);
    r.json()
}

async fn requisition(app: &TestApp, f: &Fixture, lines: Value) -> Value {
    let r = app
        .post_json(
            "/api/v1/requisitions",
            &f.manager,
            json!({"location_id": f.s1, "lines": lines}),
            &[],
        )
        .await;
    r.assert_status(201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_empty(&format!("/api/v1/requisitions/{id}/submit"), &f.manager)
        .await;
    r.assert_status(200);
    r.json()
}

async fn consolidate(app: &TestApp, f: &Fixture) -> Value {
    let r = app
        .post_json(
            "/api/v1/requisitions/consolidate",
            &f.manager,
            json!({"location_id": f.s1}),
            &[],
        )
        .await;
    r.assert_status(200);
    r.json()
}

async fn guide_suggests_par_less_on_hand_and_on_order_in_whole_packs(app: TestApp) {
    let f = fixture(&app, 20000).await;
    // On order: 1 case of butter on a draft order, 5 kg of sauce requested from the warehouse.
    app.post_json(
        "/api/v1/purchase-orders",
        &f.manager,
        json!({"supplier_id": f.mill, "location_id": f.s1, "lines": [{"item_code": "G-BUTTER", "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(201);
    app.post_json(
        "/api/v1/transfers",
        &f.admin,
        json!({"from_location_id": f.w1, "to_location_id": f.s1, "lines": [{"item_code": "G-SAUCE", "qty": "5"}]}),
        &[],
    )
    .await
    .assert_status(201);

    let g = guide(&app, &f.manager, &f.s1).await;
    assert_eq!(g["location_code"], "S001");
    // Flour: 100 − 30 − 0 = 70 kg: 3 bags of 25 kg from the mill; the warehouse, which stocks
    // flour too, is the second source (in kg).
    let fl = guide_line(&g, &f.flour);
    assert_eq!(
        (
            q(&fl["par"]),
            q(&fl["on_hand"]),
            q(&fl["on_order"]),
            q(&fl["need"])
        ),
        (100.0, 30.0, 0.0, 70.0)
    );
    assert_eq!(fl["source"]["kind"], "supplier");
    assert_eq!(fl["source"]["code"], "GOLDMILL");
    assert_eq!(fl["source"]["unit"], "bag");
    assert_eq!(q(&fl["source"]["suggested_qty"]), 3.0);
    assert!(fl["source"]["delivery_date"].is_string());
    let alt: Vec<&Value> = fl["sources"].as_array().unwrap().iter().collect();
    assert_eq!(
        alt.len(),
        2,
        "the mill, then the warehouse (the closed mill is no source)"
    );
    assert_eq!(alt[1]["kind"], "transfer");
    assert_eq!(alt[1]["from_location_id"], f.w1.as_str());
    assert_eq!(
        (q(&alt[1]["suggested_qty"]), alt[1]["unit"].as_str()),
        (70.0, Some("kg"))
    );
    // Butter: 25 − 0 − 10 (1 case on order) = 15 kg: 2 cases.
    let bu = guide_line(&g, &f.butter);
    assert_eq!((q(&bu["on_order"]), q(&bu["need"])), (10.0, 15.0));
    assert_eq!(q(&bu["source"]["suggested_qty"]), 2.0);
    // Sauce: nobody sells it; the warehouse stocks it: 12 − 0 − 5 requested = 7 kg.
    let sa = guide_line(&g, &f.sauce);
    assert_eq!((q(&sa["on_order"]), q(&sa["need"])), (5.0, 7.0));
    assert_eq!(sa["source"]["kind"], "transfer");
    assert_eq!(q(&sa["source"]["suggested_qty"]), 7.0);

    // A submitted requisition waiting for consolidation counts as on order.
    requisition(
        &app,
        &f,
        json!([{"item_id": f.flour, "qty": "45", "unit": "kg"}]),
    )
    .await;
    let g = guide(&app, &f.manager, &f.s1).await;
    let fl = guide_line(&g, &f.flour);
    assert_eq!((q(&fl["on_order"]), q(&fl["need"])), (45.0, 25.0));
    assert_eq!(q(&fl["source"]["suggested_qty"]), 1.0);

    // Another store's guide does not exist for this manager; the region manager may not order.
    let s2 = app.store_id("S002").await;
    app.get(&format!("/api/v1/locations/{s2}/order-guide"), &f.manager)
        .await
        .assert_status(404);
    let region = app.login_token("region.east").await;
    app.get(&format!("/api/v1/locations/{}/order-guide", f.s1), &region)
        .await
        .assert_status(403);
}

async fn requisitions_of_a_site_consolidate_into_one_order(app: TestApp) {
    let f = fixture(&app, 20000).await;
    let a = requisition(&app, &f, json!([{"item_code": "G-FLOUR", "qty": "1"}])).await;
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["lines"][0]["status"], "open");
    assert_eq!(
        a["lines"][0]["unit"], "bag",
        "the source's pack unit by default"
    );
    let b = requisition(
        &app,
        &f,
        json!([{"item_code": "G-FLOUR", "qty": "10", "unit": "kg"},
               {"item_code": "G-BUTTER", "qty": "1", "supplier_id": f.mill}]),
    )
    .await;
    assert_eq!(app.count("purchase_orders").await, 0, "nothing ordered yet");

    let c = consolidate(&app, &f).await;
    assert_eq!(c["problems"], json!([]), "{c}");
    let orders = c["orders"].as_array().unwrap();
    assert_eq!(
        orders.len(),
        1,
        "one order for one supplier, day and site: {c}"
    );
    let o = &orders[0];
    assert_eq!(o["action"], "created");
    assert_eq!(
        o["requisitions"],
        json!([a["number"].clone(), b["number"].clone()])
    );
    // Flour 25 + 10 kg = 1.4 bags → 2 bags, said so; butter 1 case.
    assert_eq!(o["rounded"].as_array().unwrap().len(), 1, "{o}");
    assert_eq!(o["rounded"][0]["item_code"], "G-FLOUR");
    assert_eq!(
        (
            q(&o["rounded"][0]["requested"]),
            q(&o["rounded"][0]["ordered"])
        ),
        (1.4, 2.0)
    );
    assert_eq!(o["total_minor"], 2 * 16000 + 52000);
    // No approval workflow applies: submitted and approved at once.
    assert_eq!(o["submitted"], true);
    assert_eq!(o["status"], "approved");
    let po = app
        .get(
            &format!("/api/v1/purchase-orders/{}", o["po_id"].as_str().unwrap()),
            &f.manager,
        )
        .await
        .json();
    let lines: Vec<(String, f64)> = po["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["item_code"].as_str().unwrap().to_string(), q(&l["qty"])))
        .collect();
    assert_eq!(
        lines,
        vec![("G-BUTTER".to_string(), 1.0), ("G-FLOUR".to_string(), 2.0)]
    );
    // Both requisitions point at it; running again finds nothing to do.
    for r in [&a, &b] {
        let r = app
            .get(
                &format!("/api/v1/requisitions/{}", r["id"].as_str().unwrap()),
                &f.manager,
            )
            .await
            .json();
        for l in r["lines"].as_array().unwrap() {
            assert_eq!(l["status"], "ordered");
            assert_eq!(l["po_id"], o["po_id"]);
        }
        assert_eq!(r["orders"][0]["number"], o["number"]);
    }
    let again = consolidate(&app, &f).await;
    assert_eq!(again["orders"], json!([]));
    assert_eq!(app.count("purchase_orders").await, 1);
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM audit_log WHERE action = 'purchasing.requisitions.consolidate'"
        )
        .await,
        1
    );
}

async fn an_order_below_the_minimum_waits_as_a_flagged_draft(app: TestApp) {
    // The mill takes orders from 1,000.00.
    let f = fixture(&app, 100000).await;
    let r = app
        .post_json(
            &format!("/api/v1/locations/{}/order-guide/orders", f.s1),
            &f.manager,
            json!({"lines": [{"item_code": "G-FLOUR", "qty": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let out = r.json();
    assert_eq!(out["requisition"]["origin"], "guide");
    assert_eq!(out["requisition"]["status"], "submitted");
    assert_eq!(
        q(&out["requisition"]["lines"][0]["suggested_qty"]),
        3.0,
        "the guide's suggestion is kept"
    );
    let o = &out["consolidation"]["orders"][0];
    assert_eq!(o["status"], "draft");
    assert_eq!(o["submitted"], false);
    assert_eq!(o["below_minimum"], true);
    let msg = o["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("160.00") && msg.contains("1000.00"),
        "the reason names total and minimum: {msg}"
    );
    assert_eq!(out["requisition"]["orders"][0]["below_minimum"], true);
    assert_eq!(app.count("wf_instances").await, 0, "not submitted");

    // More from the guide: merged into the same draft, which now reaches the minimum.
    let r = app
        .post_json(
            &format!("/api/v1/locations/{}/order-guide/orders", f.s1),
            &f.manager,
            json!({"lines": [{"item_code": "G-BUTTER", "qty": "2"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let o2 = &r.json()["consolidation"]["orders"][0];
    assert_eq!(o2["action"], "merged");
    assert_eq!(o2["po_id"], o["po_id"]);
    assert_eq!(o2["total_minor"], 16000 + 2 * 52000);
    assert_eq!(o2["submitted"], true);
    assert_eq!(o2["status"], "approved");
    assert_eq!(app.count("purchase_orders").await, 1);
}

async fn an_order_waiting_for_approval_takes_later_requisitions(app: TestApp) {
    let f = fixture(&app, 20000).await;
    define(
        &app,
        &f.admin,
        json!({"code": "po-region", "name": "Region", "doc_type": "purchase_order",
               "steps": [{"name": "Region manager", "approvers": {"kind": "role", "role": "region_manager", "level": "region"}}]}),
    )
    .await;
    let order = |lines: Value| {
        let (app, f) = (&app, &f);
        async move {
            let r = app
                .post_json(
                    &format!("/api/v1/locations/{}/order-guide/orders", f.s1),
                    &f.manager,
                    json!({"lines": lines}),
                    &[],
                )
                .await;
            r.assert_status(201);
            r.json()["consolidation"]["orders"][0].clone()
        }
    };
    let first = order(json!([{"item_code": "G-FLOUR", "qty": "2"}])).await;
    assert_eq!(first["status"], "pending_approval");
    let second = order(json!([{"item_code": "G-BUTTER", "qty": "1"}])).await;
    assert_eq!(second["action"], "merged");
    assert_eq!(second["po_id"], first["po_id"]);
    assert_eq!(second["status"], "pending_approval");
    assert_eq!(second["total_minor"], 2 * 16000 + 52000);
    // The changed order went back for approval: one instance superseded, one waiting.
    let statuses: Vec<String> = {
        let mut v = Vec::new();
        for st in ["superseded", "pending"] {
            v.push(format!(
                "{st}={}",
                app.scalar_i64(&format!(
                    "SELECT COUNT(*) FROM wf_instances WHERE status = '{st}'"
                ))
                .await
            ));
        }
        v
    };
    assert_eq!(statuses, vec!["superseded=1", "pending=1"]);
    let region = app.login_token("region.east").await;
    let tasks = inbox(&app, &region).await;
    assert_eq!(tasks.len(), 1, "one decision to make, on the whole order");
}

async fn warehouse_lines_become_a_transfer(app: TestApp) {
    let f = fixture(&app, 20000).await;
    let r = app
        .post_json(
            &format!("/api/v1/locations/{}/order-guide/orders", f.s1),
            &f.manager,
            json!({"lines": [
                {"item_code": "G-SAUCE", "qty": "7"},
                {"item_code": "G-FLOUR", "qty": "20", "from_location_id": f.w1}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let out = r.json();
    let lines = out["requisition"]["lines"].as_array().unwrap();
    assert!(lines.iter().all(|l| l["status"] == "transferred"), "{out}");
    let tid = lines[0]["transfer_id"]
        .as_str()
        .expect("a transfer")
        .to_string();
    assert_eq!(
        lines[1]["transfer_id"],
        tid.as_str(),
        "one transfer per source"
    );
    assert_eq!(out["consolidation"]["orders"], json!([]));
    let t = app
        .get(&format!("/api/v1/transfers/{tid}"), &f.manager)
        .await;
    t.assert_status(200);
    let t = t.json();
    assert_eq!(t["status"], "requested");
    assert_eq!(t["from_location_id"], f.w1.as_str());
    assert_eq!(t["to_location_id"], f.s1.as_str());
    assert_eq!(t["lines"].as_array().unwrap().len(), 2);
    // The guide now counts it as on order.
    let g = guide(&app, &f.manager, &f.s1).await;
    assert_eq!(q(&guide_line(&g, &f.sauce)["on_order"]), 7.0);
    // The warehouse ships the sauce it has (flour: none), the store receives it.
    app.post_json(
        &format!("/api/v1/transfers/{tid}/ship"),
        &f.admin,
        json!({"lines": [{"line_no": 2, "qty": "0"}]}),
        &[],
    )
    .await
    .assert_status(201);
    app.post_json(
        &format!("/api/v1/transfers/{tid}/receive"),
        &f.manager,
        json!({}),
        &[],
    )
    .await
    .assert_status(201);
    assert_eq!(crate::sales::qty(&app, &f.sauce, &f.s1).await, 7 * M);
    let r = app
        .get(
            &format!(
                "/api/v1/requisitions/{}",
                out["requisition"]["id"].as_str().unwrap()
            ),
            &f.manager,
        )
        .await
        .json();
    assert_eq!(r["lines"][0]["transfer_status"], "received");
}

async fn bad_lines_are_named_and_nothing_is_written(app: TestApp) {
    let f = fixture(&app, 20000).await;
    let before = (
        app.count("requisitions").await,
        app.count("requisition_lines").await,
        app.count("audit_log").await,
        app.count("inv_transfers").await,
    );
    let r = app
        .post_json(
            "/api/v1/requisitions",
            &f.manager,
            json!({"location_id": f.s1, "lines": [
                {"item_code": "NO-SUCH", "qty": "1"},
                {"item_code": "G-SAUCE", "qty": "-2"},
                {"item_code": "G-BUTTER", "qty": "1", "unit": "crate"},
                {"item_id": f.flour, "qty": "1", "supplier_id": f.closed}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "lines[0].item_code",
            "lines[1].qty",
            "lines[2].unit",
            "lines[3].supplier_id",
        ],
        "{}",
        r.text()
    );
    assert!(r.text().contains("closed"), "{}", r.text());
    assert!(r.text().contains("crate"), "{}", r.text());
    // The same through the guide order, and with no line at all.
    let r = app
        .post_json(
            &format!("/api/v1/locations/{}/order-guide/orders", f.s1),
            &f.manager,
            json!({"lines": [{"item_code": "G-FLOUR", "qty": "0"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines[0].qty"]);
    let r = app
        .post_json(
            "/api/v1/requisitions",
            &f.manager,
            json!({"location_id": f.s1, "lines": []}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines"]);
    let after = (
        app.count("requisitions").await,
        app.count("requisition_lines").await,
        app.count("audit_log").await,
        app.count("inv_transfers").await,
    );
    assert_eq!(before, after, "nothing written");
}

/// The user picks the delivery day (exact per line, or "on or after" for the whole order);
/// days the supplier does not deliver, days before its next possible delivery, past days and
/// a day on a warehouse line are refused by name with nothing written; the day survives a
/// draft's later submission; the guide offers first the source last ordered from.
async fn delivery_days_are_chosen_and_sources_remembered(app: TestApp) {
    let f = fixture(&app, 20000).await;
    let today = boh_inventory::today_in("Asia/Shanghai");
    let day = |n: i64| today.checked_add(jiff::Span::new().days(n)).unwrap();
    // The mill (one day's lead) now delivers on one weekday only: today + 3 (then every 7 days).
    let wd = i64::from(day(3).weekday().to_monday_one_offset());
    app.patch_json(
        &format!("/api/v1/suppliers/{}", f.mill),
        &f.admin,
        json!({"delivery_days": [wd]}),
    )
    .await
    .assert_status(200);
    let g = guide(&app, &f.manager, &f.s1).await;
    assert_eq!(
        guide_line(&g, &f.flour)["source"]["delivery_date"],
        day(3).to_string()
    );
    assert_eq!(guide_line(&g, &f.flour)["remembered"], false);

    let before = (
        app.count("requisitions").await,
        app.count("purchasing_source_choices").await,
    );
    let post = |body: Value| {
        let app = &app;
        let token = f.manager.clone();
        async move {
            app.post_json("/api/v1/requisitions", &token, body, &[])
                .await
        }
    };
    let r = post(json!({"location_id": f.s1, "lines": [
        {"item_code": "G-FLOUR", "qty": "1", "delivery_date": day(4).to_string()},
        {"item_code": "G-BUTTER", "qty": "1", "delivery_date": today.to_string()},
        {"item_code": "G-SAUCE", "qty": "1", "delivery_date": day(10).to_string()}]}))
    .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "lines[0].delivery_date",
            "lines[1].delivery_date",
            "lines[2].delivery_date"
        ],
        "{}",
        r.text()
    );
    assert!(r.text().contains("delivers on"), "{}", r.text());
    assert!(r.text().contains("at the earliest"), "{}", r.text());
    let r = post(
        json!({"location_id": f.s1, "delivery_date": day(-1).to_string(),
                        "lines": [{"item_code": "G-FLOUR", "qty": "1"}]}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["delivery_date"], "{}", r.text());
    assert_eq!(
        (
            app.count("requisitions").await,
            app.count("purchasing_source_choices").await
        ),
        before,
        "nothing written"
    );

    // Exact a week later on one line; "on or after" tomorrow for the rest (the next delivery
    // day, today + 3); the flour from the warehouse this time.
    let r = post(
        json!({"location_id": f.s1, "delivery_date": day(1).to_string(), "lines": [
        {"item_code": "G-BUTTER", "qty": "1", "delivery_date": day(10).to_string()},
        {"item_code": "G-FLOUR", "qty": "5", "from_location_id": f.w1}]}),
    )
    .await;
    r.assert_status(201);
    let draft = r.json();
    assert_eq!(draft["lines"][0]["requested_date"], day(10).to_string());
    let r = post(
        json!({"location_id": f.s1, "delivery_date": day(1).to_string(), "lines": [
        {"item_code": "G-BUTTER", "qty": "2"}]}),
    )
    .await;
    r.assert_status(201);
    let other = r.json();
    assert_eq!(other["lines"][0]["requested_date"], day(3).to_string());
    for id in [&draft["id"], &other["id"]] {
        app.post_empty(
            &format!("/api/v1/requisitions/{}/submit", id.as_str().unwrap()),
            &f.manager,
        )
        .await
        .assert_status(200);
    }
    let c = consolidate(&app, &f).await;
    let mut days: Vec<String> = c["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["delivery_date"].as_str().unwrap().to_string())
        .collect();
    days.sort();
    assert_eq!(
        days,
        vec![day(3).to_string(), day(10).to_string()],
        "one order per delivery day: {c}"
    );

    // The flour was last ordered from the warehouse: the guide offers it first.
    let g = guide(&app, &f.manager, &f.s1).await;
    let fl = guide_line(&g, &f.flour);
    assert_eq!(fl["remembered"], true, "{fl}");
    assert_eq!(fl["source"]["kind"], "transfer");
    assert_eq!(fl["source"]["from_location_id"], f.w1.as_str());
    assert_eq!(fl["sources"].as_array().unwrap().len(), 2);
}

async fn system_fields_and_other_stores_are_refused(app: TestApp) {
    let f = fixture(&app, 20000).await;
    let s2 = app.store_id("S002").await;
    // Fields the system sets are not inputs: named, nothing written.
    for (extra, field) in [
        (json!({"status": "submitted"}), "status"),
        (
            json!({"approved_by": app.user_id("region.east").await}),
            "approved_by",
        ),
        (json!({"number": "REQ-999999"}), "number"),
    ] {
        let mut body =
            json!({"location_id": f.s1, "lines": [{"item_code": "G-FLOUR", "qty": "1"}]});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        let r = app
            .post_json("/api/v1/requisitions", &f.manager, body, &[])
            .await;
        r.assert_status(422);
        assert!(r.text().contains(field), "{field}: {}", r.text());
    }
    let r = app
        .post_json(
            "/api/v1/requisitions",
            &f.manager,
            json!({"location_id": f.s1, "lines": [{"item_code": "G-FLOUR", "qty": "1", "status": "ordered"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    // Another store's id: not found, as a site, as a guide, and for consolidation; another
    // store is no warehouse to order from.
    app.post_json(
        "/api/v1/requisitions",
        &f.manager,
        json!({"location_id": s2, "lines": [{"item_code": "G-FLOUR", "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(404);
    app.post_json(
        &format!("/api/v1/locations/{s2}/order-guide/orders"),
        &f.manager,
        json!({"lines": [{"item_code": "G-FLOUR", "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(404);
    app.post_json(
        "/api/v1/requisitions/consolidate",
        &f.manager,
        json!({"location_id": s2}),
        &[],
    )
    .await
    .assert_status(404);
    let r = app
        .post_json(
            "/api/v1/requisitions",
            &f.manager,
            json!({"location_id": f.s1, "lines": [{"item_code": "G-SAUCE", "qty": "1", "from_location_id": s2}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines[0].from_location_id"]);
    assert_eq!(app.count("requisitions").await, 0);

    // A requisition of S001 does not exist for S002's manager.
    let r = app
        .post_json(
            "/api/v1/requisitions",
            &f.manager,
            json!({"location_id": f.s1, "lines": [{"item_code": "G-FLOUR", "qty": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(r.json()["status"], "draft");
    let m2 = app.login_token("manager.s002").await;
    app.get(&format!("/api/v1/requisitions/{id}"), &m2)
        .await
        .assert_status(404);
    app.post_empty(&format!("/api/v1/requisitions/{id}/submit"), &m2)
        .await
        .assert_status(404);
    app.post_empty(&format!("/api/v1/requisitions/{id}/cancel"), &m2)
        .await
        .assert_status(404);
    let list = app.get("/api/v1/requisitions", &m2).await.json();
    assert_eq!(list["page"]["total"], 0);
    let c = app
        .post_json("/api/v1/requisitions/consolidate", &m2, json!({}), &[])
        .await;
    c.assert_status(200);
    assert_eq!(c.json()["orders"], json!([]));
    // The owner may cancel the draft; a cancelled one is not submitted.
    app.post_empty(&format!("/api/v1/requisitions/{id}/cancel"), &f.manager)
        .await
        .assert_status(200);
    app.post_empty(&format!("/api/v1/requisitions/{id}/submit"), &f.manager)
        .await
        .assert_status(409);
    let list = app.get("/api/v1/requisitions", &f.manager).await.json();
    assert_eq!(list["page"]["total"], 1);
}

async fn approved_orders_reach_the_supplier_with_pdf_and_csv(backend: Backend) {
    let sink = SmtpSink::start().await;
    let port = sink.port();
    let app = spawn_app_with(backend, |s| {
        s.platform.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "BOH <boh@example.cn>".parse().expect("a mailbox"),
            public_url: "https://boh.example.cn/".into(),
        })
    })
    .await;
    let f = fixture(&app, 20000).await;
    define(
        &app,
        &f.admin,
        json!({"code": "po-region", "name": "Region", "doc_type": "purchase_order",
               "steps": [{"name": "Region manager", "approvers": {"kind": "role", "role": "region_manager", "level": "region"}}]}),
    )
    .await;
    let r = app
        .post_json(
            &format!("/api/v1/locations/{}/order-guide/orders", f.s1),
            &f.manager,
            json!({"lines": [{"item_code": "G-FLOUR", "qty": "3"}, {"item_code": "G-BUTTER", "qty": "2"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let o = r.json()["consolidation"]["orders"][0].clone();
    assert_eq!(o["status"], "pending_approval");
    let po_id = o["po_id"].as_str().unwrap().to_string();
    let number = o["number"].as_str().unwrap().to_string();
    app.drain().await;
    boh_platform::mail::run_now(&app.platform)
        .await
        .expect("sending");
    assert!(
        sink.received().iter().all(|m| !m
            .rcpt_to
            .contains(&"orders@goldmill.example.cn".to_string())),
        "nothing goes to the supplier before approval"
    );

    let region = app.login_token("region.east").await;
    let task = inbox(&app, &region).await[0]["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    decide(&app, &region, &task, json!({"decision": "approve"}))
        .await
        .assert_status(200);
    app.drain().await;
    boh_platform::mail::run_now(&app.platform)
        .await
        .expect("sending");
    let to_supplier: Vec<_> = sink
        .received()
        .into_iter()
        .filter(|m| m.rcpt_to == ["orders@goldmill.example.cn"])
        .collect();
    assert_eq!(to_supplier.len(), 1, "one e-mail to the supplier");
    let m = &to_supplier[0];
    assert!(m.subject().contains(&number), "{}", m.subject());
    let parts = m.parts();
    let files: Vec<&str> = parts.iter().filter_map(|p| p.filename.as_deref()).collect();
    assert_eq!(
        files,
        vec![format!("{number}.pdf"), format!("{number}.csv")],
        "both attachments"
    );
    let pdf = parts
        .iter()
        .find(|p| p.content_type.starts_with("application/pdf"))
        .expect("the PDF");
    assert!(pdf.body.starts_with(b"%PDF-"), "a PDF");
    // `BOH_SCREENSHOT_DIR` keeps the PDF for a look (`pdftoppm`).
    if let Some(d) = std::env::var_os("BOH_SCREENSHOT_DIR") {
        std::fs::create_dir_all(&d).expect("BOH_SCREENSHOT_DIR");
        std::fs::write(
            std::path::Path::new(&d).join(format!("{number}.pdf")),
            &pdf.body,
        )
        .expect("writing the PDF");
    }
    assert!(
        pdf.body.windows(12).any(|w| w == b"STSong-Light"),
        "CJK font by name"
    );
    let csv = parts
        .iter()
        .find(|p| p.content_type.starts_with("text/csv"))
        .expect("the CSV");
    let text = String::from_utf8(csv.body.clone()).expect("UTF-8");
    let text = text.trim_start_matches('\u{feff}');
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0].trim_end(),
        "sku,item_code,item_name_zh,item_name_en,pack_unit,qty,unit_price,amount"
    );
    assert!(
        rows.iter()
            .any(|r| r.trim_end() == "G-FLOUR,G-FLOUR,面粉,Flour,bag,3,160.00,480.00"),
        "{text}"
    );
    let body = parts
        .iter()
        .find(|p| p.content_type.starts_with("text/plain"))
        .expect("text");
    let body = String::from_utf8(body.body.clone()).unwrap();
    assert!(body.contains(&number) && body.contains("金磨坊"), "{body}");

    // The history says so; a retried job sends nothing twice; "send again" sends #2.
    let h = app
        .get(
            &format!("/api/v1/purchase-orders/{po_id}/approval"),
            &f.manager,
        )
        .await
        .json();
    let sent: Vec<&Value> = h["instance"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "sent")
        .collect();
    assert_eq!(sent.len(), 1, "{h}");
    assert!(
        sent[0]["comment"]
            .as_str()
            .unwrap()
            .contains("orders@goldmill.example.cn")
    );
    let job = app
        .scalar_text("SELECT payload FROM jobs WHERE kind = 'purchasing.po.send'")
        .await;
    boh_platform::jobs::enqueue(
        &app.platform,
        "purchasing.po.send",
        &serde_json::from_str(&job).unwrap(),
        None,
        None,
    )
    .await
    .unwrap();
    app.drain().await;
    assert_eq!(app.count("po_sends").await, 1);
    let r = app
        .post_empty(&format!("/api/v1/purchase-orders/{po_id}/send"), &f.manager)
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["seq"], 2);
    boh_platform::mail::run_now(&app.platform).await.unwrap();
    assert_eq!(
        sink.received()
            .iter()
            .filter(|m| m.rcpt_to == ["orders@goldmill.example.cn"])
            .count(),
        2
    );
    // Downloads: the same PDF and CSV, for whoever may see the order.
    let r = app
        .get(
            &format!("/api/v1/purchase-orders/{po_id}/document?format=csv"),
            &region,
        )
        .await;
    r.assert_status(200);
    assert!(r.text().contains("G-BUTTER"));
    let m2 = app.login_token("manager.s002").await;
    app.get(&format!("/api/v1/purchase-orders/{po_id}/document"), &m2)
        .await
        .assert_status(404);
    app.post_empty(&format!("/api/v1/purchase-orders/{po_id}/send"), &m2)
        .await
        .assert_status(404);
    let _ = &f.flour;
}
