//! Goods receipt against purchase orders: partial deliveries, damaged goods refused, lots and
//! temperatures of chilled goods, substitutions; the accepted goods are in stock at the order's
//! price, the order's status follows, a delivery note key replays, bad lines are named with
//! nothing written, and another store's manager cannot receive.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::item;
use crate::sales::qty;
use crate::suppliers::{price, supplier, supplier_item};

both!(partial_receipts_put_goods_in_stock_and_close_the_order);

const M: i64 = 1_000_000;

struct Fixture {
    manager: String,
    flour: String,
    rye: String,
    milk: String,
    s1: String,
    order: Value,
}

async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.login_token("admin").await;
    let flour = item(
        app,
        &admin,
        json!({"code": "R-FLOUR", "name": "Flour", "base_unit": "kg",
               "units": [{"unit": "bag", "factor": "25"}]}),
    )
    .await;
    let rye = item(
        app,
        &admin,
        json!({"code": "R-RYE", "name": "Rye flour", "base_unit": "kg",
               "units": [{"unit": "bag", "factor": "20"}]}),
    )
    .await;
    let milk = item(
        app,
        &admin,
        json!({"code": "R-MILK", "name": "Milk", "base_unit": "l", "storage_type": "chilled",
               "lot_tracked": true, "units": [{"unit": "case", "factor": "12"}]}),
    )
    .await;
    let s = supplier(
        app,
        &admin,
        json!({"code": "RMILL", "name": "Mill and dairy"}),
    )
    .await;
    let today = boh_inventory::today_in("Asia/Shanghai").to_string();
    for (id, pack, minor) in [(&flour, "bag", 15000), (&milk, "case", 9600)] {
        let si = supplier_item(app, &admin, &s, json!({"item_id": id, "pack_unit": pack})).await;
        price(app, &admin, &s, &si, minor, &today).await;
    }
    let manager = app.login_token("manager.s001").await;
    let s1 = app.store_id("S001").await;
    let r = app
        .post_json(
            "/api/v1/purchase-orders",
            &manager,
            json!({"supplier_id": s, "location_id": s1, "lines": [
                {"item_code": "R-FLOUR", "qty": "4"}, {"item_code": "R-MILK", "qty": "2"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    // No workflow applies: approved on submission.
    let r = app
        .post_empty(&format!("/api/v1/purchase-orders/{id}/submit"), &manager)
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "approved");
    Fixture {
        manager,
        flour,
        rye,
        milk,
        s1,
        order: r.json(),
    }
}

async fn partial_receipts_put_goods_in_stock_and_close_the_order(app: TestApp) {
    let f = fixture(&app).await;
    let id = f.order["id"].as_str().unwrap();
    let path = format!("/api/v1/purchase-orders/{id}/receipts");
    let movements = app.count("inv_movements").await;

    // Every bad line is named, and nothing is written.
    let r = app
        .post_json(
            &path,
            &f.manager,
            json!({"lines": [
                {"line_no": 9, "qty": "1"},
                {"line_no": 1, "qty": "-1"},
                {"line_no": 2, "qty": "2"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "lines[0].line_no",
            "lines[1].qty",
            "lines[2].lot_code",
            "lines[2].temperature",
        ],
        "{}",
        r.text()
    );
    let r = app
        .post_json(
            &path,
            &f.manager,
            json!({"lines": [{"line_no": 1, "qty": "1", "substitute_item_code": "NOPE"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines[0].substitute_item_code"]);
    assert_eq!(app.count("po_receipts").await, 0);
    assert_eq!(app.count("inv_movements").await, movements);

    // Another store's manager cannot receive it.
    let m2 = app.login_token("manager.s002").await;
    app.post_json(
        &path,
        &m2,
        json!({"lines": [{"line_no": 1, "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(404);

    // First delivery: 3 bags of flour accepted and 1 refused as damaged; the milk arrives too
    // warm (9 °C): accepted and flagged.
    let first = json!({"receipt_key": "DN-1001", "lines": [
        {"line_no": 1, "qty": "3", "damaged": "1"},
        {"line_no": 2, "qty": "2", "lot_code": "L-7", "expiry_date": "2027-01-10", "temperature": "9"}]});
    let r = app.post_json(&path, &f.manager, first.clone(), &[]).await;
    r.assert_status(201);
    let rec = r.json();
    assert_eq!(rec["order_status"], "partially_received", "{rec}");
    assert_eq!(rec["short"], json!([[1, "1"]]));
    assert_eq!(rec["value_minor"], 3 * 15000 + 2 * 9600);
    assert_eq!(rec["lines"][1]["temperature_dc"], 90);
    assert_eq!(rec["lines"][1]["temperature_ok"], false);
    assert_eq!(qty(&app, &f.flour, &f.s1).await, 75 * M);
    assert_eq!(qty(&app, &f.milk, &f.s1).await, 24 * M);
    let value: i64 = app
        .scalar_i64(&format!(
            "SELECT value FROM inv_valuation WHERE item_id = '{}' AND location_id = '{}'",
            f.flour, f.s1
        ))
        .await;
    assert_eq!(value, 45000, "stock valued at the order price");
    // The same delivery note again: the first receipt, nothing posted twice.
    let again = app.post_json(&path, &f.manager, first, &[]).await;
    assert!(
        again.status == 200 || again.status == 201,
        "{}",
        again.text()
    );
    assert_eq!(again.json()["id"], rec["id"]);
    assert_eq!(again.json()["replayed"], true);
    assert_eq!(qty(&app, &f.flour, &f.s1).await, 75 * M);
    // A received order cannot change any more.
    let r = app
        .request(
            axum::http::Method::PUT,
            &format!("/api/v1/purchase-orders/{id}"),
        )
        .bearer(&f.manager)
        .json(
            &json!({"supplier_id": f.order["supplier_id"], "location_id": f.s1,
                      "lines": [{"item_code": "R-FLOUR", "qty": "9"}]}),
        )
        .send()
        .await;
    r.assert_status(409);

    // The rest: the supplier sends rye flour for the missing bag (20 kg per bag).
    let r = app
        .post_json(
            &path,
            &f.manager,
            json!({"lines": [{"line_no": 1, "qty": "1", "substitute_item_code": "R-RYE"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["order_status"], "received");
    assert_eq!(r.json()["lines"][0]["substituted"], true);
    assert_eq!(qty(&app, &f.rye, &f.s1).await, 20 * M);
    let list = app.get(&path, &f.manager).await.json();
    assert_eq!(list.as_array().unwrap().len(), 2);
    // Nothing more to receive, and a received order is not cancelled.
    app.post_json(
        &path,
        &f.manager,
        json!({"lines": [{"line_no": 1, "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(409);
    app.post_json(
        &format!("/api/v1/purchase-orders/{id}/cancel"),
        &f.manager,
        json!({"reason": "late"}),
        &[],
    )
    .await
    .assert_status(409);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM outbox WHERE topic = 'purchasing.receipt.posted'")
            .await,
        2
    );
    crate::inventory::assert_ledger_consistent(&app).await;
}
