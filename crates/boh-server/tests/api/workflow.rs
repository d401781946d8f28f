//! The approval workflow engine through purchase orders: definitions are checked when saved
//! (every problem named, nothing written) and versioned (a running approval keeps its
//! version); the route is shown before submitting and is the one taken; amounts route to
//! different definitions; nobody approves their own document; a step is decided once and
//! not before it is reached (409); a changed order goes back for approval; rejection needs a
//! comment; delegation hands tasks to a stand-in; an overdue step is reminded and escalated.

use axum::http::Method;
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::item;
use crate::suppliers::{price, supplier, supplier_item};

both!(definitions_are_checked_and_versioned);
both!(orders_route_by_amount_and_the_rules_hold);
both!(delegation_and_overdue_escalation);

pub(crate) struct Fixture {
    pub(crate) admin: String,
    pub(crate) supplier: String,
    pub(crate) s1: String,
}

pub(crate) async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.login_token("admin").await;
    let flour = item(
        app,
        &admin,
        json!({"code": "T-FLOUR", "name": "Flour", "base_unit": "kg",
               "units": [{"unit": "bag", "factor": "25"}]}),
    )
    .await;
    let s = supplier(
        app,
        &admin,
        json!({"code": "MILL", "name": "Mill", "min_order_minor": 10000}),
    )
    .await;
    let si = supplier_item(
        app,
        &admin,
        &s,
        json!({"item_id": flour, "pack_unit": "bag"}),
    )
    .await;
    let today = boh_inventory::today_in("Asia/Shanghai").to_string();
    price(app, &admin, &s, &si, 15000, &today).await;
    Fixture {
        admin,
        supplier: s,
        s1: app.store_id("S001").await,
    }
}

pub(crate) fn small_and_large() -> [Value; 2] {
    [
        json!({"code": "po-small", "name": "Small orders", "doc_type": "purchase_order",
               "priority": 10, "condition": "amount < 1000",
               "steps": [{"name": "Region manager", "approvers": {"kind": "role", "role": "region_manager", "level": "region"}}]}),
        json!({"code": "po-large", "name": "Large orders", "doc_type": "purchase_order",
               "priority": 20, "condition": "amount >= 1000 and 'MILL' == supplier",
               "steps": [
                   {"name": "Region manager", "approvers": {"kind": "role", "role": "region_manager", "level": "region"},
                    "sla_hours": 1, "escalate_after_hours": 1},
                   {"name": "Head office", "approvers": {"kind": "role", "role": "admin", "level": "company"}}]}),
    ]
}

pub(crate) async fn define(app: &TestApp, admin: &str, body: Value) -> Value {
    let r = app
        .post_json("/api/v1/workflow/definitions", admin, body, &[])
        .await;
    r.assert_status(201);
    r.json()
}

pub(crate) async fn order(app: &TestApp, token: &str, f: &Fixture, bags: &str) -> Value {
    let r = app
        .post_json(
            "/api/v1/purchase-orders",
            token,
            json!({"supplier_id": f.supplier, "location_id": f.s1,
                   "lines": [{"item_code": "T-FLOUR", "qty": bags}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    r.json()
}

async fn put(app: &TestApp, path: &str, token: &str, body: Value) -> crate::common::Resp {
    app.request(Method::PUT, path)
        .bearer(token)
        .json(&body)
        .send()
        .await
}

pub(crate) async fn inbox(app: &TestApp, token: &str) -> Vec<Value> {
    let r = app.get("/api/v1/workflow/inbox", token).await;
    r.assert_status(200);
    r.json()["items"].as_array().cloned().unwrap_or_default()
}

pub(crate) async fn decide(
    app: &TestApp,
    token: &str,
    task: &str,
    body: Value,
) -> crate::common::Resp {
    app.post_json(
        &format!("/api/v1/workflow/tasks/{task}/decision"),
        token,
        body,
        &[],
    )
    .await
}

async fn po_status(app: &TestApp, token: &str, id: &str) -> String {
    let r = app
        .get(&format!("/api/v1/purchase-orders/{id}"), token)
        .await;
    r.assert_status(200);
    r.json()["status"].as_str().unwrap_or_default().to_string()
}

async fn definitions_are_checked_and_versioned(app: TestApp) {
    let f = fixture(&app).await;
    let manager = app.login_token("manager.s001").await;

    // Only those who may edit workflows do.
    let [small, _] = small_and_large();
    app.post_json("/api/v1/workflow/definitions", &manager, small.clone(), &[])
        .await
        .assert_status(403);

    // Every problem is named by its field, and nothing is written.
    let bad = json!({"code": "bad one", "name": "", "doc_type": "purchase_order",
        "condition": "amout > 1",
        "steps": [
            {"name": "A", "parallel": true, "approvers": {"kind": "role", "role": "boss", "level": "galaxy"}},
            {"name": "B", "condition": "amount > 'x'", "approvers": {"kind": "user", "username": "nobody"}},
            {"name": "C", "sla_hours": 0, "approvers": {"kind": "group", "usernames": ["region.east", "ghost"]}}]});
    let r = app
        .post_json("/api/v1/workflow/definitions", &f.admin, bad, &[])
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "code",
            "condition",
            "name",
            "steps[0].approvers.level",
            "steps[0].approvers.role",
            "steps[0].parallel",
            "steps[1].approvers.username",
            "steps[1].condition",
            "steps[2].approvers.usernames[1]",
            "steps[2].sla_hours",
        ],
        "{}",
        r.text()
    );
    assert!(r.text().contains("amout"), "{}", r.text());
    let r = app
        .post_json(
            "/api/v1/workflow/definitions",
            &f.admin,
            json!({"code": "x", "name": "X", "doc_type": "invoice", "steps": []}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["doc_type"]);
    assert_eq!(app.count("wf_definitions").await, 0);
    assert_eq!(app.count("wf_versions").await, 0);

    // The document types publish the facts conditions may use.
    let types = app.get("/api/v1/workflow/doc-types", &f.admin).await.json();
    let po = types
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["code"] == "purchase_order")
        .expect("purchase orders are routable");
    assert!(
        po["facts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["name"] == "amount")
    );

    // Saving a code again is a new version; an approval keeps the version it started with.
    let d1 = define(&app, &f.admin, small.clone()).await;
    assert_eq!(d1["version"], 1);
    let po = order(&app, &manager, &f, "2").await;
    let id = po["id"].as_str().unwrap();
    app.post_empty(&format!("/api/v1/purchase-orders/{id}/submit"), &manager)
        .await
        .assert_status(200);
    let mut v2 = small.clone();
    v2["name"] = json!("Small orders, v2");
    let d2 = define(&app, &f.admin, v2).await;
    assert_eq!(d2["version"], 2);
    assert_eq!(d2["id"], d1["id"]);
    assert_eq!(app.count("wf_versions").await, 2);
    let approval = app
        .get(&format!("/api/v1/purchase-orders/{id}/approval"), &manager)
        .await
        .json();
    assert_eq!(approval["instance"]["version"], 1);
    assert_eq!(approval["instance"]["definition_code"], "po-small");
}

async fn orders_route_by_amount_and_the_rules_hold(app: TestApp) {
    let f = fixture(&app).await;
    for d in small_and_large() {
        define(&app, &f.admin, d).await;
    }
    let manager = app.login_token("manager.s001").await;
    let region = app.login_token("region.east").await;

    // Bad orders are refused naming the field, and nothing is written.
    let s2 = app.store_id("S002").await;
    let cases = [
        (
            json!({"supplier_id": f.supplier, "location_id": f.s1, "status": "approved",
                "lines": [{"item_code": "T-FLOUR", "qty": "1"}]}),
            "status",
        ),
        (
            json!({"supplier_id": f.supplier, "location_id": f.s1,
                "lines": [{"item_code": "T-FLOUR", "qty": "-2"}]}),
            "lines[0].qty",
        ),
        (
            json!({"supplier_id": f.supplier, "location_id": f.s1,
                "lines": [{"item_code": "NOPE", "qty": "1"}]}),
            "lines[0].item_code",
        ),
        (
            json!({"supplier_id": f.supplier, "location_id": f.s1,
                "lines": [{"item_code": "T-FLOUR", "pack_unit": "crate", "qty": "1"}]}),
            "lines[0].pack_unit",
        ),
    ];
    for (body, field) in cases {
        let r = app
            .post_json("/api/v1/purchase-orders", &manager, body, &[])
            .await;
        r.assert_status(422);
        assert!(r.text().contains(field), "{field}: {}", r.text());
    }
    // Another store's site does not exist for this manager.
    app.post_json(
        "/api/v1/purchase-orders",
        &manager,
        json!({"supplier_id": f.supplier, "location_id": s2,
               "lines": [{"item_code": "T-FLOUR", "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(404);
    assert_eq!(app.count("purchase_orders").await, 0);

    // 5 bags at 150.00 = 750.00: the small route, shown before submitting, nothing written.
    let po = order(&app, &manager, &f, "5").await;
    assert_eq!(po["status"], "draft");
    assert_eq!(po["total_minor"], 75000);
    let id = po["id"].as_str().unwrap().to_string();
    let route = app
        .get(&format!("/api/v1/purchase-orders/{id}/route"), &manager)
        .await;
    route.assert_status(200);
    let route = route.json();
    assert_eq!(route["definition_code"], "po-small", "{route}");
    assert_eq!(
        route["steps"][0]["approvers"][0]["user"]["username"],
        "region.east"
    );
    assert_eq!(route["tried"][0]["holds"], true);
    assert_eq!(app.count("wf_instances").await, 0);

    app.post_empty(&format!("/api/v1/purchase-orders/{id}/submit"), &manager)
        .await
        .assert_status(200);
    assert_eq!(po_status(&app, &manager, &id).await, "pending_approval");
    app.post_empty(&format!("/api/v1/purchase-orders/{id}/submit"), &manager)
        .await
        .assert_status(409);

    // The region manager's inbox has it; nobody else can decide it.
    let items = inbox(&app, &region).await;
    assert_eq!(items.len(), 1);
    let task = items[0]["task_id"].as_str().unwrap().to_string();
    decide(&app, &manager, &task, json!({"decision": "approve"}))
        .await
        .assert_status(404);
    decide(
        &app,
        &region,
        &task,
        json!({"decision": "approve", "comment": "ok"}),
    )
    .await
    .assert_status(200);
    assert_eq!(po_status(&app, &manager, &id).await, "approved");
    // Decided once: a second decision is a conflict.
    decide(&app, &region, &task, json!({"decision": "approve"}))
        .await
        .assert_status(409);

    // Changed after approval to 10 bags (1,500.00): back for approval, on the large route.
    let r = put(
        &app,
        &format!("/api/v1/purchase-orders/{id}"),
        &manager,
        json!({"supplier_id": f.supplier, "location_id": f.s1,
               "lines": [{"item_code": "T-FLOUR", "qty": "10"}]}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "pending_approval");
    let approval = app
        .get(&format!("/api/v1/purchase-orders/{id}/approval"), &manager)
        .await
        .json();
    let inst = &approval["instance"];
    assert_eq!(inst["definition_code"], "po-large");
    let actions: Vec<&str> = inst["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["submitted", "approved", "superseded", "submitted"]
    );
    // Head office cannot skip ahead: its step has not been reached.
    let head_task = inst["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["step_no"] == 2)
        .expect("the second step")["id"]
        .as_str()
        .unwrap()
        .to_string();
    decide(&app, &f.admin, &head_task, json!({"decision": "approve"}))
        .await
        .assert_status(409);
    let task = inbox(&app, &region).await[0]["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    decide(&app, &region, &task, json!({"decision": "approve"}))
        .await
        .assert_status(200);
    assert_eq!(po_status(&app, &manager, &id).await, "pending_approval");
    decide(&app, &f.admin, &head_task, json!({"decision": "approve"}))
        .await
        .assert_status(200);
    assert_eq!(po_status(&app, &manager, &id).await, "approved");

    // The administrator orders 10 bags: the large route's head-office step would be theirs,
    // and nobody approves their own document.
    let own = order(&app, &f.admin, &f, "10").await;
    let own_id = own["id"].as_str().unwrap();
    let r = app
        .post_empty(
            &format!("/api/v1/purchase-orders/{own_id}/submit"),
            &f.admin,
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "workflow_no_approver", "{}", r.text());
    assert_eq!(po_status(&app, &f.admin, own_id).await, "draft");

    // Rejecting needs a reason; the requester is told.
    let po = order(&app, &manager, &f, "1").await;
    let id = po["id"].as_str().unwrap().to_string();
    app.post_empty(&format!("/api/v1/purchase-orders/{id}/submit"), &manager)
        .await
        .assert_status(200);
    let task = inbox(&app, &region).await[0]["task_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = decide(&app, &region, &task, json!({"decision": "reject"})).await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["comment"]);
    decide(
        &app,
        &region,
        &task,
        json!({"decision": "reject", "comment": "too early"}),
    )
    .await
    .assert_status(200);
    assert_eq!(po_status(&app, &manager, &id).await, "rejected");
    let notes = app.get("/api/v1/notifications", &manager).await.json();
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "approval.rejected"),
        "{notes}"
    );
    // Below the supplier's minimum order (100.00) nothing is submitted.
    let tiny = app
        .post_json(
            "/api/v1/purchase-orders",
            &manager,
            json!({"supplier_id": f.supplier, "location_id": f.s1,
                   "lines": [{"item_code": "T-FLOUR", "qty": "0.5"}]}),
            &[],
        )
        .await
        .json();
    let r = app
        .post_empty(
            &format!(
                "/api/v1/purchase-orders/{}/submit",
                tiny["id"].as_str().unwrap()
            ),
            &manager,
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "below_minimum_order");
}

async fn delegation_and_overdue_escalation(app: TestApp) {
    let f = fixture(&app).await;
    for d in small_and_large() {
        define(&app, &f.admin, d).await;
    }
    let manager = app.login_token("manager.s001").await;
    let region = app.login_token("region.east").await;
    let finance = app.login_token("finance").await;

    // The region manager is away: finance decides in their place.
    let today = boh_inventory::today_in("UTC").to_string();
    let r = app
        .post_json(
            "/api/v1/workflow/delegations",
            &region,
            json!({"delegate_username": "finance", "starts_on": today, "ends_on": today}),
            &[],
        )
        .await;
    r.assert_status(201);
    let delegation = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            "/api/v1/workflow/delegations",
            &region,
            json!({"delegate_username": "region.east", "starts_on": today, "ends_on": "2020-01-01"}),
            &[],
        )
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["delegate_username", "ends_on"]);

    let po = order(&app, &manager, &f, "2").await;
    let id = po["id"].as_str().unwrap().to_string();
    let route = app
        .get(&format!("/api/v1/purchase-orders/{id}/route"), &manager)
        .await
        .json();
    assert_eq!(
        route["steps"][0]["approvers"][0]["user"]["username"],
        "finance"
    );
    assert_eq!(
        route["steps"][0]["approvers"][0]["on_behalf_of"]["username"],
        "region.east"
    );
    app.post_empty(&format!("/api/v1/purchase-orders/{id}/submit"), &manager)
        .await
        .assert_status(200);
    let items = inbox(&app, &finance).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["on_behalf_of"], "王芳 Wang Fang");
    decide(
        &app,
        &finance,
        items[0]["task_id"].as_str().unwrap(),
        json!({"decision": "approve"}),
    )
    .await
    .assert_status(200);
    assert_eq!(po_status(&app, &manager, &id).await, "approved");
    app.delete(
        &format!("/api/v1/workflow/delegations/{delegation}"),
        &region,
    )
    .await
    .assert_status(204);

    // A large order whose first step is overdue: one reminder, then escalation to head office.
    let po = order(&app, &manager, &f, "10").await;
    let id = po["id"].as_str().unwrap().to_string();
    app.post_empty(&format!("/api/v1/purchase-orders/{id}/submit"), &manager)
        .await
        .assert_status(200);
    let hour = 3_600_000_000i64;
    let now = boh_kernel::now().micros();
    let s = boh_workflow::sla::sweep(&app.platform, now + hour / 2)
        .await
        .unwrap();
    assert_eq!((s.reminded, s.escalated), (0, 0));
    let s = boh_workflow::sla::sweep(&app.platform, now + hour + hour / 2)
        .await
        .unwrap();
    assert_eq!((s.reminded, s.escalated), (1, 0));
    let s = boh_workflow::sla::sweep(&app.platform, now + 3 * hour)
        .await
        .unwrap();
    assert_eq!((s.reminded, s.escalated), (0, 1));
    let s = boh_workflow::sla::sweep(&app.platform, now + 4 * hour)
        .await
        .unwrap();
    assert_eq!((s.reminded, s.escalated), (0, 0), "escalated once");
    // Head office now has the first step too, and its decision settles it.
    let admin_items = inbox(&app, &f.admin).await;
    assert_eq!(admin_items.len(), 1, "{admin_items:?}");
    assert_eq!(admin_items[0]["step_no"], 1);
    decide(
        &app,
        &f.admin,
        admin_items[0]["task_id"].as_str().unwrap(),
        json!({"decision": "approve"}),
    )
    .await
    .assert_status(200);
    assert!(inbox(&app, &region).await.is_empty());
    let approval = app
        .get(&format!("/api/v1/purchase-orders/{id}/approval"), &manager)
        .await
        .json();
    let actions: Vec<&str> = approval["instance"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["submitted", "reminded", "escalated", "approved"]
    );
    let notes = app.get("/api/v1/notifications", &region).await.json();
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "approval.overdue"),
        "{notes}"
    );
}
