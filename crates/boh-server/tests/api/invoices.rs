//! Supplier invoices: the three-way match (order line × received × invoiced) with tolerances
//! per company and supplier, findings by reason (price, quantity, missing receipt, duplicate
//! invoice, price list variance), the exceptions queue and its resolutions, idempotent entry,
//! bad input named with nothing written, approval for payment through the workflow engine
//! (nobody approves their own), partial and full payments with overpayment refused, returns
//! to the supplier taking stock down and issuing credit notes that reduce what is payable,
//! CSV import, scope, and the events finance will post from.

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::item;
use crate::sales::qty;
use crate::suppliers::{price, supplier, supplier_item};

both!(invoices_are_matched_three_ways);
both!(approved_invoices_are_paid_and_returns_credit_the_supplier);
both!(invoices_import_from_csv);
both!(invoice_pages_enter_resolve_pay_and_return);

const M: i64 = 1_000_000;
const INVOICES: &str = "/api/v1/supplier-invoices";

struct Fixture {
    admin: String,
    finance: String,
    manager: String,
    m2: String,
    supplier: String,
    flour: String,
    s1: String,
    today: String,
    po: String,
    po_number: String,
    receipt: String,
}

/// An order of 4 bags of flour, 2 cans of oil and 10 kg of salt at S001, approved; the flour
/// and the oil received, the salt not yet.
async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.login_token("admin").await;
    let flour = item(
        app,
        &admin,
        json!({"code": "V-FLOUR", "name": "Flour", "base_unit": "kg",
               "units": [{"unit": "bag", "factor": "25"}]}),
    )
    .await;
    let oil = item(
        app,
        &admin,
        json!({"code": "V-OIL", "name": "Oil", "base_unit": "l",
               "units": [{"unit": "can", "factor": "5"}]}),
    )
    .await;
    let salt = item(
        app,
        &admin,
        json!({"code": "V-SALT", "name": "Salt", "base_unit": "kg"}),
    )
    .await;
    let s = supplier(app, &admin, json!({"code": "VMILL", "name": "Mill"})).await;
    let today = boh_inventory::today_in("Asia/Shanghai").to_string();
    for (id, pack, sku, minor) in [
        (&flour, "bag", "M-FL25", 15000),
        (&oil, "can", "M-OIL5", 8000),
        (&salt, "kg", "M-SALT", 300),
    ] {
        let si = supplier_item(
            app,
            &admin,
            &s,
            json!({"item_id": id, "pack_unit": pack, "supplier_sku": sku}),
        )
        .await;
        price(app, &admin, &s, &si, minor, &today).await;
    }
    let manager = app.login_token("manager.s001").await;
    let s1 = app.store_id("S001").await;
    let r = app
        .post_json(
            "/api/v1/purchase-orders",
            &manager,
            json!({"supplier_id": s, "location_id": s1, "lines": [
                {"item_code": "V-FLOUR", "qty": "4"}, {"item_code": "V-OIL", "qty": "2"},
                {"item_code": "V-SALT", "qty": "10"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let po = r.json()["id"].as_str().unwrap().to_string();
    let po_number = r.json()["number"].as_str().unwrap().to_string();
    app.post_empty(&format!("/api/v1/purchase-orders/{po}/submit"), &manager)
        .await
        .assert_status(200);
    let r = app
        .post_json(
            &format!("/api/v1/purchase-orders/{po}/receipts"),
            &manager,
            json!({"lines": [{"line_no": 1, "qty": "4"}, {"line_no": 2, "qty": "2"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let receipt = r.json()["id"].as_str().unwrap().to_string();
    Fixture {
        finance: app.login_token("finance").await,
        m2: app.login_token("manager.s002").await,
        admin,
        manager,
        supplier: s,
        flour,
        s1,
        today,
        po,
        po_number,
        receipt,
    }
}

impl Fixture {
    fn invoice(&self, no: &str, lines: Value) -> Value {
        json!({"supplier_id": self.supplier, "po_id": self.po, "invoice_no": no,
               "invoice_date": self.today, "lines": lines})
    }
}

async fn enter(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post_json(INVOICES, token, body, &[]).await;
    r.assert_status(201);
    r.json()
}

fn reasons(inv: &Value) -> Vec<String> {
    inv["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

async fn topic_count(app: &TestApp, topic: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT COUNT(*) FROM outbox WHERE topic = '{topic}'"
    ))
    .await
}

async fn resolve(app: &TestApp, token: &str, id: &str, body: Value) -> crate::common::Resp {
    app.post_json(&format!("{INVOICES}/{id}/resolution"), token, body, &[])
        .await
}

async fn invoices_are_matched_three_ways(app: TestApp) {
    let f = fixture(&app).await;

    // Bad input: every problem named (an order line the order does not have, a negative
    // quantity, another supplier than the order's), and nothing written.
    let other = supplier(&app, &f.admin, json!({"code": "VOTHER", "name": "Other"})).await;
    let mut bad = f.invoice(
        "INV-1",
        json!([{"po_line_no": 9, "qty": "1", "unit_price_minor": 100},
               {"po_line_no": 1, "qty": "-2", "unit_price_minor": 15000}]),
    );
    bad["supplier_id"] = json!(other);
    let r = app.post_json(INVOICES, &f.finance, bad, &[]).await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec!["supplier_id", "lines[0].po_line_no", "lines[1].qty"],
        "{}",
        r.text()
    );
    // Status, payments and approvals are not fields: sending them changes nothing.
    let mut forged = f.invoice(
        "INV-1",
        json!([{"po_line_no": 1, "qty": "4", "unit_price_minor": 15000}]),
    );
    forged["status"] = json!("paid");
    forged["paid_minor"] = json!(60000);
    let r = app.post_json(INVOICES, &f.finance, forged, &[]).await;
    r.assert_status(422);
    assert_eq!(r.error_code(), "invalid_body");
    // Totals as printed must add up.
    let mut totals = f.invoice(
        "INV-1",
        json!([{"po_line_no": 1, "qty": "4", "unit_price_minor": 15200, "tax_minor": 1976}]),
    );
    totals["gross_minor"] = json!(62000);
    let r = app.post_json(INVOICES, &f.finance, totals, &[]).await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["gross_minor"]);
    // A store manager may read invoices but not enter them; another store's is not there.
    let ok = f.invoice(
        "INV-1",
        json!([{"po_line_no": 1, "qty": "4", "unit_price_minor": 15200, "tax_minor": 1976}]),
    );
    app.post_json(INVOICES, &f.manager, ok.clone(), &[])
        .await
        .assert_status(403);
    app.post_json(INVOICES, &f.m2, ok.clone(), &[])
        .await
        .assert_status(404);
    assert_eq!(app.count("po_invoices").await, 0);
    assert_eq!(topic_count(&app, "purchasing.invoice.posted").await, 0);

    // The company default: 2 % above the order price.
    app.post_json(
        "/api/v1/match-tolerances",
        &f.manager,
        json!({"price_pct": "2"}),
        &[],
    )
    .await
    .assert_status(403);
    let r = app
        .post_json(
            "/api/v1/match-tolerances",
            &f.finance,
            json!({"price_pct": "2", "qty_pct": "x"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["qty_pct"]);
    app.post_json(
        "/api/v1/match-tolerances",
        &f.finance,
        json!({"price_pct": "2"}),
        &[],
    )
    .await
    .assert_status(201);

    // Within tolerance: matched, and the variance against the price list is flagged anyway.
    let inv1 = enter(&app, &f.finance, ok).await;
    assert_eq!(inv1["status"], "matched", "{inv1}");
    assert_eq!(inv1["gross_minor"], 4 * 15200 + 1976);
    assert_eq!(reasons(&inv1), vec!["price_list_variance"]);
    assert_eq!(inv1["findings"][0]["blocking"], false);
    let l = &inv1["lines"][0];
    assert_eq!(
        (
            l["ordered_qty"].as_str(),
            l["received_qty"].as_str(),
            l["invoiced_before"].as_str()
        ),
        (Some("4"), Some("4"), Some("0"))
    );
    assert_eq!(
        (
            &l["po_price_minor"],
            &l["unit_price_minor"],
            &l["list_price_minor"]
        ),
        (&json!(15000), &json!(15200), &json!(15000))
    );
    assert_eq!(l["status"], "matched");

    // Above the tolerance: a price exception, in the queue.
    let inv2 = enter(
        &app,
        &f.finance,
        f.invoice(
            "INV-2",
            json!([{"po_line_no": 2, "qty": "2", "unit_price_minor": 8500}]),
        ),
    )
    .await;
    assert_eq!(inv2["status"], "exception");
    assert!(reasons(&inv2).contains(&"price".to_string()), "{inv2}");
    assert_eq!(inv2["lines"][0]["status"], "exception");
    // Rejected, its number is free again; the supplier's own rule (10 %) wins over the
    // company default, so the same prices now match.
    let id2 = inv2["id"].as_str().unwrap();
    resolve(
        &app,
        &f.finance,
        id2,
        json!({"action": "reject", "comment": "price not agreed"}),
    )
    .await
    .assert_status(200);
    let r = app
        .post_json(
            "/api/v1/match-tolerances",
            &f.finance,
            json!({"supplier_id": f.supplier, "price_pct": "10"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let rule = r.json()["id"].as_str().unwrap().to_string();
    let inv2b = enter(
        &app,
        &f.finance,
        f.invoice(
            "INV-2",
            json!([{"po_line_no": 2, "qty": "2", "unit_price_minor": 8500}]),
        ),
    )
    .await;
    assert_eq!(inv2b["status"], "matched", "{inv2b}");
    assert_eq!(reasons(&inv2b), vec!["price_list_variance"]);
    let rules = app.get("/api/v1/match-tolerances", &f.manager).await;
    rules.assert_status(200);
    assert_eq!(rules.json()["items"].as_array().unwrap().len(), 2);
    app.delete(&format!("/api/v1/match-tolerances/{rule}"), &f.manager)
        .await
        .assert_status(403);
    app.delete(&format!("/api/v1/match-tolerances/{rule}"), &f.finance)
        .await
        .assert_status(204);

    // More than was received, counting what earlier invoices claimed: a quantity exception.
    let inv3 = enter(
        &app,
        &f.finance,
        f.invoice(
            "INV-3",
            json!([{"item_code": "V-FLOUR", "qty": "1", "unit_price_minor": 15000}]),
        ),
    )
    .await;
    assert_eq!(reasons(&inv3), vec!["quantity"], "{inv3}");
    assert_eq!(inv3["lines"][0]["invoiced_before"], "4");
    // Invoiced before anything arrived: missing receipt (the line named by the supplier's
    // SKU).
    let inv4 = enter(
        &app,
        &f.finance,
        f.invoice(
            "INV-4",
            json!([{"supplier_sku": "M-SALT", "qty": "10", "unit_price_minor": 300}]),
        ),
    )
    .await;
    assert_eq!(reasons(&inv4), vec!["missing_receipt"], "{inv4}");
    // The same supplier invoice number again (written differently): a duplicate.
    let dup = enter(
        &app,
        &f.finance,
        f.invoice(
            "inv 1",
            json!([{"po_line_no": 3, "qty": "1", "unit_price_minor": 300}]),
        ),
    )
    .await;
    assert_eq!(dup["status"], "exception");
    assert!(
        reasons(&dup).contains(&"duplicate_invoice".to_string()),
        "{dup}"
    );
    assert!(
        dup["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["reason"] == "duplicate_invoice" && x["line_no"] == 0)
    );

    // A retry with the invoice's key answers the first invoice; the key with another
    // invoice is refused and writes nothing.
    let mut keyed = f.invoice(
        "INV-5",
        json!([{"po_line_no": 3, "qty": "2", "unit_price_minor": 300}]),
    );
    keyed["invoice_key"] = json!("scan-5");
    let first = enter(&app, &f.finance, keyed.clone()).await;
    let r = app
        .post_json(INVOICES, &f.finance, keyed.clone(), &[])
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["id"], first["id"]);
    assert_eq!(r.json()["replayed"], true);
    let before = app.count("po_invoices").await;
    keyed["lines"][0]["qty"] = json!("3");
    let r = app.post_json(INVOICES, &f.finance, keyed, &[]).await;
    r.assert_status(422);
    assert_eq!(r.error_code(), "idempotency_key_reused");
    // The same with the Idempotency-Key header.
    let body = f.invoice(
        "INV-6",
        json!([{"po_line_no": 3, "qty": "1", "unit_price_minor": 300}]),
    );
    let h = [("idempotency-key", "inv-6-try")];
    let a = app.post_json(INVOICES, &f.finance, body.clone(), &h).await;
    a.assert_status(201);
    let b = app.post_json(INVOICES, &f.finance, body.clone(), &h).await;
    b.assert_status(201);
    assert_eq!(b.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(a.json()["id"], b.json()["id"]);
    let mut other_body = body;
    other_body["invoice_no"] = json!("INV-7");
    let c = app.post_json(INVOICES, &f.finance, other_body, &h).await;
    c.assert_status(422);
    assert_eq!(c.error_code(), "idempotency_key_reused");
    assert_eq!(app.count("po_invoices").await, before + 1);

    // The exceptions queue, by reason; in scope only.
    let q = app.get("/api/v1/invoice-exceptions", &f.finance).await;
    q.assert_status(200);
    let total = q.json()["page"]["total"].as_i64().unwrap();
    assert_eq!(total, 5, "{}", q.text());
    let q = app
        .get("/api/v1/invoice-exceptions?reason=quantity", &f.finance)
        .await
        .json();
    assert_eq!(q["page"]["total"], 1);
    assert_eq!(q["items"][0]["id"], inv3["id"]);
    let q = app
        .get(
            "/api/v1/invoice-exceptions?reason=duplicate_invoice",
            &f.manager,
        )
        .await
        .json();
    assert_eq!(q["items"][0]["id"], dup["id"]);
    let q = app.get("/api/v1/invoice-exceptions", &f.m2).await.json();
    assert_eq!(q["page"]["total"], 0);
    let r = app
        .get("/api/v1/invoice-exceptions?reason=nonsense", &f.finance)
        .await;
    r.assert_status(422);
    let id3 = inv3["id"].as_str().unwrap();
    app.get(&format!("{INVOICES}/{id3}"), &f.m2)
        .await
        .assert_status(404);
    resolve(
        &app,
        &f.m2,
        id3,
        json!({"action": "accept", "comment": "ok"}),
    )
    .await
    .assert_status(404);

    // Accepting needs the permission and a comment.
    resolve(
        &app,
        &f.manager,
        id3,
        json!({"action": "accept", "comment": "ok"}),
    )
    .await
    .assert_status(403);
    let r = resolve(
        &app,
        &f.finance,
        id3,
        json!({"action": "accept", "comment": " "}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["comment"]);
    let r = resolve(
        &app,
        &f.finance,
        id3,
        json!({"action": "accept", "comment": "the fifth bag came on a later truck"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "matched");
    assert_eq!(r.json()["resolution"], "accepted");
    resolve(
        &app,
        &f.finance,
        id3,
        json!({"action": "accept", "comment": "again"}),
    )
    .await
    .assert_status(409);
    // Rejected invoices leave the queue and free their number.
    let id4 = inv4["id"].as_str().unwrap();
    resolve(
        &app,
        &f.finance,
        id4,
        json!({"action": "reject", "comment": "not delivered"}),
    )
    .await
    .assert_status(200);
    let again = enter(
        &app,
        &f.finance,
        f.invoice(
            "INV-4",
            json!([{"po_line_no": 3, "qty": "10", "unit_price_minor": 300}]),
        ),
    )
    .await;
    assert_eq!(reasons(&again), vec!["missing_receipt"]);
    let list = app
        .get(&format!("{INVOICES}?status=rejected"), &f.finance)
        .await
        .json();
    assert_eq!(list["page"]["total"], 2);

    // One event per invoice entered, with the lines finance posts from.
    let entered = app.count("po_invoices").await;
    assert_eq!(
        topic_count(&app, "purchasing.invoice.posted").await,
        entered
    );
    let payload = app
        .scalar_text(&format!(
            "SELECT payload FROM outbox WHERE topic = 'purchasing.invoice.posted' AND payload LIKE '%{}%'",
            inv1["id"].as_str().unwrap()
        ))
        .await;
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["gross_minor"], inv1["gross_minor"]);
    assert_eq!(payload["lines"][0]["net_minor"], 4 * 15200);
    assert_eq!(topic_count(&app, "purchasing.invoice.rejected").await, 2);
    assert_eq!(topic_count(&app, "purchasing.invoice.accepted").await, 1);
}

async fn inbox_task(app: &TestApp, token: &str, doc_id: &str) -> Option<String> {
    let r = app.get("/api/v1/workflow/inbox", token).await;
    r.assert_status(200);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["doc_id"] == doc_id)
        .and_then(|t| t["task_id"].as_str())
        .map(str::to_string)
}

async fn pay(app: &TestApp, token: &str, id: &str, body: Value) -> crate::common::Resp {
    app.post_json(&format!("{INVOICES}/{id}/payments"), token, body, &[])
        .await
}

async fn approved_invoices_are_paid_and_returns_credit_the_supplier(app: TestApp) {
    let f = fixture(&app).await;
    // Payment approval by the company's administrator.
    app.post_json(
        "/api/v1/workflow/definitions",
        &f.admin,
        json!({"code": "ap", "name": "Invoices", "doc_type": "supplier_invoice",
               "steps": [{"name": "Head office", "approvers": {"kind": "role", "role": "admin", "level": "company"}}]}),
        &[],
    )
    .await
    .assert_status(201);

    // The administrator's own invoice has nobody else to approve it.
    let a = enter(
        &app,
        &f.admin,
        f.invoice(
            "A-1",
            json!([{"po_line_no": 1, "qty": "4", "unit_price_minor": 15000}]),
        ),
    )
    .await;
    assert_eq!(a["status"], "matched", "{a}");
    let ida = a["id"].as_str().unwrap().to_string();
    let r = app
        .post_empty(&format!("{INVOICES}/{ida}/submit"), &f.admin)
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "workflow_no_approver", "{}", r.text());

    // Finance enters and submits one; finance cannot decide it, the administrator does.
    let b = enter(
        &app,
        &f.finance,
        f.invoice(
            "B-1",
            json!([{"po_line_no": 2, "qty": "2", "unit_price_minor": 8000, "tax_minor": 1040}]),
        ),
    )
    .await;
    let idb = b["id"].as_str().unwrap().to_string();
    pay(
        &app,
        &f.finance,
        &idb,
        json!({"amount_minor": 100, "method": "cash"}),
    )
    .await
    .assert_status(409);
    let r = app
        .post_empty(&format!("{INVOICES}/{idb}/submit"), &f.finance)
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "pending_approval");
    assert!(inbox_task(&app, &f.finance, &idb).await.is_none());
    let task = inbox_task(&app, &f.admin, &idb)
        .await
        .expect("the administrator's task");
    app.post_json(
        &format!("/api/v1/workflow/tasks/{task}/decision"),
        &f.finance,
        json!({"decision": "approve"}),
        &[],
    )
    .await
    .assert_status(404);
    app.post_json(
        &format!("/api/v1/workflow/tasks/{task}/decision"),
        &f.admin,
        json!({"decision": "approve"}),
        &[],
    )
    .await
    .assert_status(200);
    let b = app
        .get(&format!("{INVOICES}/{idb}"), &f.finance)
        .await
        .json();
    assert_eq!(b["status"], "approved");
    assert_eq!(b["due_minor"], 17040);
    let appr = app
        .get(&format!("{INVOICES}/{idb}/approval"), &f.manager)
        .await;
    appr.assert_status(200);
    assert_eq!(appr.json()["instance"]["status"], "approved");
    assert_eq!(topic_count(&app, "purchasing.invoice.approved").await, 1);

    // Payments: partial, an overpayment refused (nothing written), the rest in full.
    pay(
        &app,
        &f.manager,
        &idb,
        json!({"amount_minor": 100, "method": "cash"}),
    )
    .await
    .assert_status(403);
    pay(
        &app,
        &f.m2,
        &idb,
        json!({"amount_minor": 100, "method": "cash"}),
    )
    .await
    .assert_status(404);
    let r = pay(
        &app,
        &f.finance,
        &idb,
        json!({"amount_minor": 100, "method": "cash", "status": "paid"}),
    )
    .await;
    r.assert_status(422);
    let r = pay(
        &app,
        &f.finance,
        &idb,
        json!({"amount_minor": 0, "method": "barter"}),
    )
    .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["amount_minor", "method"]);
    let first = json!({"amount_minor": 10000, "method": "bank_transfer", "reference": "TT-1",
                       "payment_key": "TT-1"});
    let r = pay(&app, &f.finance, &idb, first.clone()).await;
    r.assert_status(201);
    let again = pay(&app, &f.finance, &idb, first).await;
    again.assert_status(200);
    assert_eq!(again.json()["id"], r.json()["id"]);
    let b = app
        .get(&format!("{INVOICES}/{idb}"), &f.finance)
        .await
        .json();
    assert_eq!(b["status"], "partially_paid");
    assert_eq!(b["due_minor"], 7040);
    let r = pay(
        &app,
        &f.finance,
        &idb,
        json!({"amount_minor": 8000, "method": "bank_transfer"}),
    )
    .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "overpayment", "{}", r.text());
    assert_eq!(r.error_fields(), vec!["amount_minor"]);
    assert_eq!(app.count("po_payments").await, 1);
    let r = pay(
        &app,
        &f.finance,
        &idb,
        json!({"amount_minor": 7040, "method": "bank_transfer", "paid_on": f.today}),
    )
    .await;
    r.assert_status(201);
    let b = app
        .get(&format!("{INVOICES}/{idb}"), &f.finance)
        .await
        .json();
    assert_eq!(
        (b["status"].as_str(), b["due_minor"].as_i64()),
        (Some("paid"), Some(0))
    );
    assert_eq!(b["payments"].as_array().unwrap().len(), 2);
    pay(
        &app,
        &f.finance,
        &idb,
        json!({"amount_minor": 1, "method": "cash"}),
    )
    .await
    .assert_status(409);
    assert_eq!(topic_count(&app, "purchasing.payment.recorded").await, 2);

    // A return to the supplier: never more than was accepted; stock goes down; a credit
    // note for the order value is issued.
    let ret = format!("/api/v1/receipts/{}/returns", f.receipt);
    let movements = app.count("inv_movements").await;
    let r = app
        .post_json(
            &ret,
            &f.manager,
            json!({"reason": "quality", "lines": [{"line_no": 1, "qty": "5"}, {"line_no": 3, "qty": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines[0].qty", "lines[1].line_no"]);
    app.post_json(
        &ret,
        &f.m2,
        json!({"reason": "quality", "lines": [{"line_no": 1, "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(404);
    assert_eq!(app.count("inv_movements").await, movements);
    assert_eq!(app.count("po_credit_notes").await, 0);
    assert_eq!(qty(&app, &f.flour, &f.s1).await, 100 * M);
    let r = app
        .post_json(
            &ret,
            &f.manager,
            json!({"reason": "quality", "return_key": "RMA-1",
                   "lines": [{"line_no": 1, "qty": "1", "reason": "damaged"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let returned = r.json();
    assert_eq!(returned["value_minor"], 15000);
    assert_eq!(qty(&app, &f.flour, &f.s1).await, 75 * M);
    let cn = returned["credit_note"].clone();
    assert_eq!(cn["amount_minor"], 15000);
    assert_eq!(cn["status"], "open");
    let cn_id = cn["id"].as_str().unwrap().to_string();
    // The same return note again posts nothing.
    let r = app
        .post_json(
            &ret,
            &f.manager,
            json!({"reason": "quality", "return_key": "RMA-1",
                   "lines": [{"line_no": 1, "qty": "1", "reason": "damaged"}]}),
            &[],
        )
        .await;
    assert!(r.status == 200 || r.status == 201, "{}", r.text());
    assert_eq!(r.json()["id"], returned["id"]);
    assert_eq!(qty(&app, &f.flour, &f.s1).await, 75 * M);
    let r = app
        .post_json(
            &ret,
            &f.manager,
            json!({"reason": "quality", "lines": [{"line_no": 1, "qty": "3.5"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["lines[0].qty"]);
    app.get(&format!("/api/v1/credit-notes/{cn_id}"), &f.m2)
        .await
        .assert_status(404);
    let list = app
        .get(
            &format!("/api/v1/purchase-orders/{}/returns", f.po),
            &f.manager,
        )
        .await;
    list.assert_status(200);
    assert_eq!(list.json().as_array().unwrap().len(), 1);

    // The credit note reduces what is payable to the supplier …
    let payable = format!("/api/v1/suppliers/{}/payable", f.supplier);
    let p0 = app.get(&payable, &f.finance).await.json();
    assert_eq!(p0["open_credit_minor"], 15000, "{p0}");
    assert_eq!(p0["approved_due_minor"], 0);
    assert_eq!(p0["awaiting_approval_minor"], 60000);
    // … and applied to an approved invoice, what is due on it.
    let r = app
        .post_empty(&format!("{INVOICES}/{ida}/submit"), &f.finance)
        .await;
    r.assert_status(200);
    let task = inbox_task(&app, &f.admin, &ida).await.expect("a task");
    app.post_json(
        &format!("/api/v1/workflow/tasks/{task}/decision"),
        &f.admin,
        json!({"decision": "approve"}),
        &[],
    )
    .await
    .assert_status(200);
    let p1 = app.get(&payable, &f.finance).await.json();
    assert_eq!(p1["approved_due_minor"], 60000);
    assert_eq!(p1["net_payable_minor"], 45000);
    let apply = format!("/api/v1/credit-notes/{cn_id}/applications");
    app.post_json(&apply, &f.manager, json!({"invoice_id": ida}), &[])
        .await
        .assert_status(403);
    let r = app
        .post_json(
            &apply,
            &f.finance,
            json!({"invoice_id": ida, "amount_minor": 20000}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["amount_minor"]);
    let r = app
        .post_json(&apply, &f.finance, json!({"invoice_id": ida}), &[])
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "applied");
    assert_eq!(r.json()["remaining_minor"], 0);
    let a = app
        .get(&format!("{INVOICES}/{ida}"), &f.finance)
        .await
        .json();
    assert_eq!(a["credited_minor"], 15000);
    assert_eq!(a["due_minor"], 45000);
    assert_eq!(a["status"], "partially_paid");
    let p2 = app.get(&payable, &f.finance).await.json();
    assert_eq!(
        (
            p2["approved_due_minor"].as_i64(),
            p2["open_credit_minor"].as_i64()
        ),
        (Some(45000), Some(0))
    );
    app.post_json(&apply, &f.finance, json!({"invoice_id": ida}), &[])
        .await
        .assert_status(409);

    // The events a finance module posts from.
    assert_eq!(topic_count(&app, "purchasing.invoice.approved").await, 2);
    assert_eq!(topic_count(&app, "purchasing.return.posted").await, 1);
    assert_eq!(topic_count(&app, "purchasing.credit_note.issued").await, 1);
    assert_eq!(topic_count(&app, "purchasing.credit_note.applied").await, 1);
    let payload: Value = serde_json::from_str(
        &app.scalar_text("SELECT payload FROM outbox WHERE topic = 'purchasing.return.posted'")
            .await,
    )
    .unwrap();
    assert_eq!(payload["value_minor"], 15000);
    assert_eq!(payload["lines"][0]["base_qty"], "25");
    assert_eq!(payload["credit_note_id"], cn_id.as_str());
    crate::inventory::assert_ledger_consistent(&app).await;
}

async fn invoices_import_from_csv(app: TestApp) {
    let f = fixture(&app).await;
    let upload = |token: &str, csv: String| {
        app.request(Method::POST, "/api/v1/supplier-invoices/import")
            .bearer(token)
            .body_with("text/csv", csv)
    };
    let t = &f.today;
    let po = &f.po_number;
    // Every bad row and column is named; nothing is written.
    let bad = format!(
        "invoice_no,po_number,invoice_date,line,supplier_sku,qty,unit_price,tax\n\
         C-1,{po},{t},9,,4,150.00,\n\
         C-1,{po},,1,,abc,150.00,\n\
         C-2,PO-NOPE,{t},1,,1,1.00,\n"
    );
    let r = upload(&f.finance, bad).send().await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "row 2, column line",
            "row 3, column qty",
            "row 4, column po_number"
        ],
        "{}",
        r.text()
    );
    assert_eq!(app.count("po_invoices").await, 0);
    upload(&f.manager, "invoice_no\n".into())
        .send()
        .await
        .assert_status(403);

    let good = format!(
        "\u{feff}invoice_no,po_number,invoice_date,line,supplier_sku,qty,unit_price,tax\n\
         C-1,{po},{t},1,,4,150.00,78.00\n\
         C-2,{po},{t},,M-OIL5,2,80.00,\n"
    );
    let r = upload(&f.finance, good.clone()).send().await;
    r.assert_status(201);
    let done = r.json();
    assert_eq!(done["created"], 2, "{done}");
    assert_eq!(done["invoices"][0]["invoice_no"], "C-1");
    assert_eq!(done["invoices"][0]["status"], "matched");
    assert_eq!(done["invoices"][0]["gross_minor"], 60000 + 7800);
    assert_eq!(done["invoices"][0]["source"], "csv");
    assert_eq!(done["invoices"][1]["lines"][0]["po_line_no"], 2);
    // The same file again enters nothing.
    let r = upload(&f.finance, good).send().await;
    r.assert_status(201);
    assert_eq!(r.json()["created"], 0);
    assert_eq!(r.json()["replayed"], 2);
    assert_eq!(app.count("po_invoices").await, 2);
    let tpl = app
        .get("/api/v1/supplier-invoices/template.csv", &f.finance)
        .await;
    tpl.assert_status(200);
    assert!(tpl.text().contains("invoice_no,po_number"));
}

/// A signed-in page: its HTML and CSRF token.
async fn page(app: &TestApp, session: &str, path: &str) -> (String, String) {
    let r = app
        .request(Method::GET, path)
        .cookie("boh_session", session)
        .send()
        .await;
    r.assert_status(200);
    let html = r.text();
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .to_string();
    (html, csrf)
}

async fn form(app: &TestApp, session: &str, path: &str, body: &str) -> crate::common::Resp {
    app.request(Method::POST, path)
        .cookie("boh_session", session)
        .header("origin", &app.base)
        .form(body)
        .send()
        .await
}

fn location_of(r: &crate::common::Resp) -> String {
    r.header("location").unwrap_or_default()
}

async fn invoice_pages_enter_resolve_pay_and_return(app: TestApp) {
    let f = fixture(&app).await;
    let session = app.session("finance").await;
    // The form starts from what was received and not invoiced, at the order price.
    let (html, csrf) = page(
        &app,
        &session,
        &format!("/purchasing/invoices/new?po_id={}", f.po),
    )
    .await;
    assert!(html.contains("id=\"invoice-form\""), "{html}");
    assert!(html.contains("name=\"qty.1\" value=\"4\""), "{html}");
    assert!(html.contains("name=\"price.2\" value=\"80.00\""), "{html}");
    // A bad quantity comes back on its line, nothing entered.
    let r = form(
        &app,
        &session,
        "/purchasing/invoices",
        &format!(
            "_csrf={csrf}&po_id={}&invoice_no=P-1&invoice_date={}&qty.1=-1&price.1=150.00",
            f.po, f.today
        ),
    )
    .await;
    r.assert_status(422);
    assert!(r.text().contains("field-error"));
    assert_eq!(app.count("po_invoices").await, 0);
    // The oil above its order price: an exception, accepted with a comment.
    let r = form(
        &app,
        &session,
        "/purchasing/invoices",
        &format!(
            "_csrf={csrf}&po_id={}&invoice_no=P-1&invoice_date={}&qty.1=4&price.1=150.00&tax.1=19.50\
             &qty.2=2&price.2=85.00&tax.2=&qty.3=&price.3=3.00",
            f.po, f.today
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let to = location_of(&r);
    let id = to
        .trim_start_matches("/purchasing/invoices/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let (html, csrf) = page(&app, &session, &to).await;
    assert!(html.contains("id=\"match-table\""), "{html}");
    assert!(html.contains("data-status=\"exception\""));
    assert!(html.contains("id=\"accept-invoice\""));
    let path = format!("/purchasing/invoices/{id}");
    let r = form(
        &app,
        &session,
        &format!("{path}/resolve"),
        &format!("_csrf={csrf}&action=accept&comment="),
    )
    .await;
    r.assert_status(422);
    let r = form(
        &app,
        &session,
        &format!("{path}/resolve"),
        &format!("_csrf={csrf}&action=accept&comment=agreed+by+phone"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    // No payment approval is defined: approved when submitted; then a partial payment.
    let r = form(
        &app,
        &session,
        &format!("{path}/submit"),
        &format!("_csrf={csrf}"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let (html, _) = page(&app, &session, &path).await;
    assert!(html.contains("data-status=\"approved\""), "{html}");
    assert!(html.contains("id=\"pay-form\""));
    let r = form(
        &app,
        &session,
        &format!("{path}/pay"),
        &format!("_csrf={csrf}&amount=100.00&method=cash&reference=&paid_on="),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = form(
        &app,
        &session,
        &format!("{path}/pay"),
        &format!("_csrf={csrf}&amount=9999.00&method=cash"),
    )
    .await;
    r.assert_status(409);
    assert!(r.text().contains("id=\"invoice-error\""));
    let inv = app
        .get(&format!("{INVOICES}/{id}"), &f.finance)
        .await
        .json();
    assert_eq!(inv["status"], "partially_paid");
    assert_eq!(inv["paid_minor"], 10000);
    assert_eq!(inv["source"], "form");
    for p in [
        "/purchasing/invoices",
        "/purchasing/exceptions",
        "/purchasing/credit-notes",
        "/purchasing/tolerances",
        "/purchasing/invoices/import",
        "/purchasing/invoices/new",
    ] {
        page(&app, &session, p).await;
    }
    // A tolerance saved on its page.
    let r = form(
        &app,
        &session,
        "/purchasing/tolerances",
        &format!("_csrf={csrf}&scope=company&price_pct=2&qty_pct=&price_abs=&qty_abs="),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let (html, _) = page(&app, &session, "/purchasing/tolerances").await;
    assert!(html.contains("2 %"), "{html}");

    // The store manager returns a bag from the order page's receipt.
    let m = app.session("manager.s001").await;
    let (html, _) = page(&app, &m, &format!("/purchasing/orders/{}", f.po)).await;
    assert!(html.contains("id=\"po-invoices\""), "{html}");
    assert!(html.contains(&format!("/purchasing/receipts/{}/return", f.receipt)));
    let (html, mcsrf) = page(
        &app,
        &m,
        &format!("/purchasing/receipts/{}/return", f.receipt),
    )
    .await;
    assert!(html.contains("name=\"qty.1\""), "{html}");
    let r = form(
        &app,
        &m,
        &format!("/purchasing/receipts/{}/return", f.receipt),
        &format!("_csrf={mcsrf}&qty.1=9&qty.2=&reason=damaged"),
    )
    .await;
    r.assert_status(422);
    let r = form(
        &app,
        &m,
        &format!("/purchasing/receipts/{}/return", f.receipt),
        &format!("_csrf={mcsrf}&qty.1=1&qty.2=&reason=damaged&note=torn+bag"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    assert!(location_of(&r).ends_with("?returned=1"));
    assert_eq!(qty(&app, &f.flour, &f.s1).await, 75 * M);
    let (html, _) = page(&app, &session, "/purchasing/credit-notes").await;
    assert!(html.contains("id=\"credit-table\""), "{html}");
    // The credit note applied on the invoice page.
    let (html, csrf) = page(&app, &session, &path).await;
    let cn = app.get("/api/v1/credit-notes", &f.finance).await.json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(html.contains(&cn), "{html}");
    let r = form(
        &app,
        &session,
        &format!("{path}/credit"),
        &format!("_csrf={csrf}&credit_note_id={cn}"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let inv = app
        .get(&format!("{INVOICES}/{id}"), &f.finance)
        .await
        .json();
    assert_eq!(inv["credited_minor"], 15000);

    // The import page: a file through the form.
    let csv = format!(
        "invoice_no,po_number,invoice_date,line,qty,unit_price\nP-9,{},{},3,1,3.00\n",
        f.po_number, f.today
    );
    let boundary = "XinvB";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n{csrf}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"i.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n\
         --{boundary}--\r\n"
    );
    let r = app
        .request(Method::POST, "/purchasing/invoices/import")
        .cookie("boh_session", &session)
        .header("origin", &app.base)
        .bytes(
            &format!("multipart/form-data; boundary={boundary}"),
            body.into_bytes(),
        )
        .send()
        .await;
    r.assert_status(200);
    assert!(
        r.text().contains("id=\"invoice-import-done\""),
        "{}",
        r.text()
    );
}
