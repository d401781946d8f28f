//! The access-control walker. It reads the OpenAPI document of the running app and calls EVERY
//! operation under `/api/v1` as a store manager (manager.s001) with ids that belong to someone
//! else (a sibling store, another store manager, the administrator's role, ...). Every call must
//! be refused (403/404) or, for parameterless reads, must not leak those ids; nothing may be
//! written. A new route is covered automatically; a new path-parameter name or `_id` body field
//! fails the test until it is added to the maps below.

#[macro_use]
mod common;

use std::collections::BTreeMap;

use hyper::Method;
use serde_json::{Map, Value, json};

use common::{Sink, TestApp, status_text};

both!(store_manager_cannot_reach_other_scopes);

/// Operations not walked, with the reason.
const SKIP: &[(&str, &str)] = &[
    (
        "/api/v1/auth/login",
        "anonymous by design; covered by the contract tests",
    ),
    ("/api/v1/auth/logout", "would end the walker's own token"),
    (
        "/api/v1/notifications/read",
        "acts on the caller's own notifications only; names nothing of another scope",
    ),
    (
        "/api/v1/workflow/delegations",
        "the caller's own delegations; the delegate is named by username (tests/api/workflow.rs)",
    ),
];

/// Ids from outside manager.s001's scope.
struct Foreign {
    s002: String,
    r_north: String,
    m2_user: String,
    m2_grant: String,
    admin_role: String,
    m2_token: String,
    webhook: String,
    delivery: String,
    job: String,
    /// An item and a category of another company.
    other_item: String,
    other_category: String,
    /// A stock document and a storage area at S002.
    s002_doc: String,
    s002_area: String,
    /// A transfer S002 → S003 and a count at S002.
    s002_transfer: String,
    s002_count: String,
    /// An import kind the walker's identity may not use.
    kind: String,
    import: String,
    /// A supplier of another company and one of its items.
    other_supplier: String,
    other_supplier_item: String,
    /// A POS sales batch of S002.
    s002_batch: String,
    /// A purchase order of S002 waiting for approval, its approval, the approver's task, the
    /// approval definition, and a delegation of manager.s002.
    s002_po: String,
    s002_instance: String,
    s002_task: String,
    definition: String,
    m2_delegation: String,
    /// A requisition of S002.
    s002_requisition: String,
    /// An approved order of S002, received: its receipt, a supplier invoice of it, the credit
    /// note of a return; and a match tolerance of another company.
    s002_receipt: String,
    s002_invoice: String,
    s002_credit_note: String,
    other_tolerance: String,
    /// A maintenance asset at S002 and one of its meters.
    s002_asset: String,
    s002_meter: String,
    /// A maintenance work order at S002.
    s002_work_order: String,
}

impl Foreign {
    /// The id substituted for a path parameter; None for an unknown name.
    fn path_param(&self, name: &str) -> Option<&str> {
        Some(match name {
            "store_id" | "node_id" | "location_id" => &self.s002,
            "item_id" => &self.other_item,
            "category_id" => &self.other_category,
            "document_id" => &self.s002_doc,
            "transfer_id" => &self.s002_transfer,
            "count_id" => &self.s002_count,
            "supplier_id" => &self.other_supplier,
            "user_id" => &self.m2_user,
            "grant_id" => &self.m2_grant,
            "role_id" => &self.admin_role,
            "token_id" => &self.m2_token,
            "webhook_id" => &self.webhook,
            "delivery_id" => &self.delivery,
            "job_id" => &self.job,
            "kind" => &self.kind,
            "import_id" => &self.import,
            "batch_id" => &self.s002_batch,
            "po_id" => &self.s002_po,
            "instance_id" => &self.s002_instance,
            "task_id" => &self.s002_task,
            "definition_id" => &self.definition,
            "delegation_id" => &self.m2_delegation,
            "requisition_id" => &self.s002_requisition,
            "receipt_id" => &self.s002_receipt,
            "invoice_id" => &self.s002_invoice,
            "credit_note_id" => &self.s002_credit_note,
            "tolerance_id" => &self.other_tolerance,
            "asset_id" => &self.s002_asset,
            "meter_id" => &self.s002_meter,
            "work_order_id" => &self.s002_work_order,
            _ => return None,
        })
    }

    /// The id put into a body property ending in `_id`; None for an unknown name.
    fn body_id(&self, name: &str) -> Option<&str> {
        Some(match name {
            // A region is a valid parent kind, so only scope can refuse it.
            "parent_id" | "company_id" => &self.r_north,
            "org_node_id" | "node_id" | "store_id" | "location_id" | "from_location_id"
            | "to_location_id" => &self.s002,
            "item_id" => &self.other_item,
            "category_id" => &self.other_category,
            "storage_area_id" => &self.s002_area,
            "supplier_id" => &self.other_supplier,
            "supplier_item_id" => &self.other_supplier_item,
            "user_id" => &self.m2_user,
            "role_id" => &self.admin_role,
            "grant_id" => &self.m2_grant,
            "token_id" => &self.m2_token,
            "webhook_id" | "subscription_id" => &self.webhook,
            "delivery_id" => &self.delivery,
            "job_id" => &self.job,
            "po_id" => &self.s002_po,
            "invoice_id" => &self.s002_invoice,
            _ => return None,
        })
    }

    fn leak_markers(&self) -> [(&'static str, &str); 3] {
        [
            ("S002's id", &self.s002),
            ("manager.s002's user id", &self.m2_user),
            ("R-NORTH's id", &self.r_north),
        ]
    }
}

fn short_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_string()
}

/// Resolve `{"$ref": "#/components/schemas/X"}` (repeatedly).
fn resolve<'a>(doc: &'a Value, mut schema: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                schema = &doc["components"]["schemas"][name];
                assert!(!schema.is_null(), "unresolvable $ref {r}");
            }
            None => return schema,
        }
    }
    panic!("$ref cycle");
}

/// The non-null type of a schema (`"string"`, `["string","null"]`, `oneOf` with null, ...).
fn type_of(doc: &Value, schema: &Value) -> String {
    let s = resolve(doc, schema);
    match s.get("type") {
        Some(Value::String(t)) => return t.clone(),
        Some(Value::Array(ts)) => {
            if let Some(t) = ts.iter().filter_map(Value::as_str).find(|t| *t != "null") {
                return t.to_string();
            }
        }
        _ => {}
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            for a in alts {
                let t = type_of(doc, a);
                if t != "null" {
                    return t;
                }
            }
        }
    }
    if s.get("properties").is_some() {
        return "object".into();
    }
    "string".into()
}

/// A value for a schema. Properties: every required one, plus every one ending in `_id`
/// (so that references to foreign ids are always exercised).
fn generate(doc: &Value, schema: &Value, name: &str, foreign: &Foreign, route: &str) -> Value {
    let s = resolve(doc, schema);
    if let Some(e) = s
        .get("enum")
        .and_then(Value::as_array)
        .and_then(|e| e.first())
    {
        return e.clone();
    }
    if name.ends_with("_id") {
        let id = foreign.body_id(name).unwrap_or_else(|| {
            panic!(
                "{route}: the request body has a field `{name}` that the access walker does not \
                 know. Add it to `Foreign::body_id` in crates/boh-server/tests/access.rs with an \
                 id from outside manager.s001's scope."
            )
        });
        return json!(id);
    }
    match type_of(doc, s).as_str() {
        "object" => {
            let mut out = Map::new();
            let required: Vec<&str> = s
                .get("required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let mut props: Vec<(&String, &Value)> = Vec::new();
            if let Some(p) = s.get("properties").and_then(Value::as_object) {
                props.extend(p.iter());
            }
            if let Some(all) = s.get("allOf").and_then(Value::as_array) {
                for part in all {
                    if let Some(p) = resolve(doc, part)
                        .get("properties")
                        .and_then(Value::as_object)
                    {
                        props.extend(p.iter());
                    }
                }
            }
            for (k, v) in props {
                if required.contains(&k.as_str()) || k.ends_with("_id") {
                    out.insert(k.clone(), generate(doc, v, k, foreign, route));
                }
            }
            Value::Object(out)
        }
        "integer" => json!(1),
        "number" => json!(1.0),
        "boolean" => json!(false),
        "array" => json!([]),
        _ => match name {
            "url" => json!("http://127.0.0.1:9/hook"),
            "password" => json!("long-enough-password-1"),
            "kind" => json!("store"),
            _ => json!(format!("x-{}", short_id())),
        },
    }
}

/// A fingerprint of every table a request could change. `api_tokens.last_used_at` is left out
/// (using a token updates it).
async fn fingerprint(app: &TestApp) -> BTreeMap<String, i64> {
    let queries = [
        ("audit_log rows", "SELECT COUNT(*) FROM audit_log"),
        (
            "audit_log max seq",
            "SELECT COALESCE(MAX(seq), 0) FROM audit_log",
        ),
        ("audit_head seq", "SELECT seq FROM audit_head"),
        ("org_nodes rows", "SELECT COUNT(*) FROM org_nodes"),
        (
            "org_nodes max updated_at",
            "SELECT COALESCE(MAX(updated_at), 0) FROM org_nodes",
        ),
        (
            "org_nodes versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM org_nodes",
        ),
        ("users rows", "SELECT COUNT(*) FROM users"),
        (
            "users max updated_at",
            "SELECT COALESCE(MAX(updated_at), 0) FROM users",
        ),
        (
            "users auth versions",
            "SELECT CAST(COALESCE(SUM(auth_version), 0) AS BIGINT) FROM users",
        ),
        (
            "users active",
            "SELECT CAST(COALESCE(SUM(active), 0) AS BIGINT) FROM users",
        ),
        (
            "users max last_login_at",
            "SELECT COALESCE(MAX(last_login_at), 0) FROM users",
        ),
        ("grants rows", "SELECT COUNT(*) FROM grants"),
        (
            "grants max created_at",
            "SELECT COALESCE(MAX(created_at), 0) FROM grants",
        ),
        ("api_tokens rows", "SELECT COUNT(*) FROM api_tokens"),
        (
            "api_tokens max created_at",
            "SELECT COALESCE(MAX(created_at), 0) FROM api_tokens",
        ),
        (
            "api_tokens revoked",
            "SELECT COUNT(revoked_at) FROM api_tokens",
        ),
        (
            "api_tokens with grant",
            "SELECT COUNT(grant_id) FROM api_tokens",
        ),
        ("sessions rows", "SELECT COUNT(*) FROM sessions"),
        ("roles rows", "SELECT COUNT(*) FROM roles"),
        (
            "roles max updated_at",
            "SELECT COALESCE(MAX(updated_at), 0) FROM roles",
        ),
        (
            "webhook_subscriptions rows",
            "SELECT COUNT(*) FROM webhook_subscriptions",
        ),
        (
            "webhook_subscriptions active",
            "SELECT CAST(COALESCE(SUM(active), 0) AS BIGINT) FROM webhook_subscriptions",
        ),
        (
            "webhook_subscriptions max created_at",
            "SELECT COALESCE(MAX(created_at), 0) FROM webhook_subscriptions",
        ),
        (
            "webhook_deliveries rows",
            "SELECT COUNT(*) FROM webhook_deliveries",
        ),
        (
            "webhook_deliveries max next_attempt_at",
            "SELECT COALESCE(MAX(next_attempt_at), 0) FROM webhook_deliveries",
        ),
        (
            "webhook_deliveries pending",
            "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'",
        ),
        ("outbox rows", "SELECT COUNT(*) FROM outbox"),
        ("jobs rows", "SELECT COUNT(*) FROM jobs"),
        ("imports rows", "SELECT COUNT(*) FROM imports"),
        ("import_files rows", "SELECT COUNT(*) FROM import_files"),
        (
            "jobs max updated_at",
            "SELECT COALESCE(MAX(updated_at), 0) FROM jobs",
        ),
        (
            "idempotency_keys rows",
            "SELECT COUNT(*) FROM idempotency_keys",
        ),
        ("login_throttle rows", "SELECT COUNT(*) FROM login_throttle"),
        ("inv_items rows", "SELECT COUNT(*) FROM inv_items"),
        (
            "inv_items versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM inv_items",
        ),
        ("inv_categories rows", "SELECT COUNT(*) FROM inv_categories"),
        (
            "inv_categories max updated_at",
            "SELECT COALESCE(MAX(updated_at), 0) FROM inv_categories",
        ),
        ("inv_docs rows", "SELECT COUNT(*) FROM inv_docs"),
        ("inv_movements rows", "SELECT COUNT(*) FROM inv_movements"),
        (
            "inv_stock total",
            "SELECT CAST(COALESCE(SUM(qty), 0) AS BIGINT) FROM inv_stock",
        ),
        (
            "inv_storage_areas rows",
            "SELECT COUNT(*) FROM inv_storage_areas",
        ),
        (
            "inv_item_locations rows",
            "SELECT COUNT(*) FROM inv_item_locations",
        ),
        (
            "inv_item_locations max updated_at",
            "SELECT COALESCE(MAX(updated_at), 0) FROM inv_item_locations",
        ),
        (
            "inv_location_settings rows",
            "SELECT COUNT(*) FROM inv_location_settings",
        ),
        (
            "inv_period_locks rows",
            "SELECT COUNT(*) FROM inv_period_locks",
        ),
        ("inv_lots rows", "SELECT COUNT(*) FROM inv_lots"),
        ("inv_suppliers rows", "SELECT COUNT(*) FROM inv_suppliers"),
        (
            "inv_suppliers versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM inv_suppliers",
        ),
        (
            "inv_supplier_items rows",
            "SELECT COUNT(*) FROM inv_supplier_items",
        ),
        (
            "inv_supplier_items max updated_at",
            "SELECT COALESCE(MAX(updated_at), 0) FROM inv_supplier_items",
        ),
        (
            "inv_supplier_prices rows",
            "SELECT COUNT(*) FROM inv_supplier_prices",
        ),
        ("inv_recipes rows", "SELECT COUNT(*) FROM inv_recipes"),
        (
            "inv_recipes max updated_at",
            "SELECT COALESCE(MAX(updated_at), 0) FROM inv_recipes",
        ),
        (
            "inv_recipe_versions rows",
            "SELECT COUNT(*) FROM inv_recipe_versions",
        ),
        (
            "inv_recipe_lines rows",
            "SELECT COUNT(*) FROM inv_recipe_lines",
        ),
        ("requisitions rows", "SELECT COUNT(*) FROM requisitions"),
        (
            "requisitions versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM requisitions",
        ),
        (
            "requisition_lines ordered",
            "SELECT COUNT(po_id) FROM requisition_lines",
        ),
        ("po_sends rows", "SELECT COUNT(*) FROM po_sends"),
        ("mail_outbox rows", "SELECT COUNT(*) FROM mail_outbox"),
        ("inv_transfers rows", "SELECT COUNT(*) FROM inv_transfers"),
        (
            "purchase_orders rows",
            "SELECT COUNT(*) FROM purchase_orders",
        ),
        ("po_invoices rows", "SELECT COUNT(*) FROM po_invoices"),
        (
            "po_invoices versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM po_invoices",
        ),
        ("po_payments rows", "SELECT COUNT(*) FROM po_payments"),
        ("po_returns rows", "SELECT COUNT(*) FROM po_returns"),
        (
            "po_credit_notes applied",
            "SELECT CAST(COALESCE(SUM(applied_minor), 0) AS BIGINT) FROM po_credit_notes",
        ),
        (
            "po_credit_applications rows",
            "SELECT COUNT(*) FROM po_credit_applications",
        ),
        (
            "po_match_tolerances versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM po_match_tolerances",
        ),
        ("wf_instances rows", "SELECT COUNT(*) FROM wf_instances"),
        ("mnt_assets rows", "SELECT COUNT(*) FROM mnt_assets"),
        (
            "mnt_assets versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM mnt_assets",
        ),
        ("mnt_meters rows", "SELECT COUNT(*) FROM mnt_meters"),
    ];
    let mut out = BTreeMap::new();
    for (name, sql) in queries {
        out.insert(name.to_string(), app.scalar_i64(sql).await);
    }
    out
}

async fn setup(app: &TestApp) -> Foreign {
    // Events of the demo seed are dispatched first, so the webhook below sees only its own.
    app.drain().await;
    let admin = app.login_token("admin").await;
    let m2 = app.login_token("manager.s002").await;
    let s002 = app.store_id("S002").await;
    let m2_grant = app.grant_id("manager.s002").await;

    // A token of manager.s002.
    let r = app
        .post_json(
            "/api/v1/tokens",
            &m2,
            json!({"name": "m2-machine", "grant_id": m2_grant}),
            &[],
        )
        .await;
    r.assert_status(201);
    let m2_token = r.json()["id"].as_str().unwrap().to_string();

    // A webhook on S002 with one delivery (an update of S002 produces the event).
    let sink = Sink::start(0).await;
    let r = app
        .post_json(
            "/api/v1/webhooks",
            &admin,
            json!({"org_node_id": s002, "url": sink.url("/s002")}),
            &[],
        )
        .await;
    r.assert_status(201);
    let webhook = r.json()["id"].as_str().unwrap().to_string();
    app.patch_json(
        &format!("/api/v1/stores/{s002}"),
        &admin,
        json!({"address": "Lujiazui Ring Road 1000"}),
    )
    .await
    .assert_status(200);
    // A job created by the administrator.
    let r = app
        .post_json("/api/v1/audit/verify", &admin, json!({}), &[])
        .await;
    r.assert_status(202);
    let job = r.json()["job_id"].as_str().unwrap().to_string();
    // An import by the administrator (it updates S002).
    let r = app
        .request(Method::POST, "/api/v1/importers/stores/imports")
        .bearer(&admin)
        .body_with(
            "text/csv",
            "code,address\nS002,Lujiazui Ring Road 1000 (imported)\n".into(),
        )
        .send()
        .await;
    r.assert_status(201);
    let import = r.json()["id"].as_str().unwrap().to_string();
    app.drain().await;
    assert_eq!(sink.received().len(), 2, "the S002 deliveries were made");
    let r = app
        .get(&format!("/api/v1/webhooks/{webhook}/deliveries"), &admin)
        .await;
    r.assert_status(200);
    let delivery = r.json()["items"][0]["id"]
        .as_str()
        .expect("a delivery")
        .to_string();

    // Inventory: an item and category of another company; a document and an area at S002.
    let co2 = boh_platform::demo::bootstrap_company(
        &app.platform,
        "OTHER",
        "其他公司",
        "Other Co",
        "other.admin",
        "other-company-password-1",
    )
    .await
    .expect("second company");
    let sys = boh_platform::Ctx::system();
    let other_category = boh_inventory::catalog::upsert_category(
        &app.platform,
        &sys,
        boh_inventory::catalog::NewCategory {
            company_id: Some(co2.clone()),
            code: "OC".into(),
            name: Some("Other category".into()),
            ..Default::default()
        },
    )
    .await
    .expect("other category")
    .id;
    let other_item = boh_inventory::catalog::create_item(
        &app.platform,
        &sys,
        boh_inventory::catalog::ItemInput {
            company_id: Some(co2.clone()),
            code: "OI".into(),
            name: Some("Other item".into()),
            base_unit: Some("kg".into()),
            ..Default::default()
        },
    )
    .await
    .expect("other item")
    .id;
    let other_supplier = boh_inventory::supplier::create_supplier(
        &app.platform,
        &sys,
        boh_inventory::supplier::SupplierInput {
            company_id: Some(co2),
            code: "OS".into(),
            name: Some("Other supplier".into()),
            ..Default::default()
        },
    )
    .await
    .expect("other supplier")
    .id;
    let other_supplier_item = boh_inventory::supplier::save_supplier_item(
        &app.platform,
        &sys,
        &other_supplier,
        boh_inventory::supplier::SupplierItemInput {
            item_id: Some(other_item.clone()),
            ..Default::default()
        },
    )
    .await
    .expect("other supplier item")
    .id;
    let r = app
        .post_json(
            "/api/v1/items",
            &admin,
            json!({"code": "WALK", "name": "Walker item", "base_unit": "kg"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let r = app
        .post_json(
            "/api/v1/stock/documents",
            &admin,
            json!({"location_id": s002, "kind": "receipt", "lines": [{"item_code": "WALK", "qty": "5", "unit_cost": "2"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s002_doc = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            &format!("/api/v1/locations/{s002}/storage-areas"),
            &admin,
            json!({"code": "COLD", "name": "Walk-in"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s002_area = r.json()["id"].as_str().unwrap().to_string();
    let day = boh_inventory::today_in("Asia/Shanghai").to_string();
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            &admin,
            json!({"store_id": s002, "source": "pos", "business_date": day, "batch_key": "walker",
                "tickets": [{"ticket_no": "1", "closed_at": format!("{day}T12:00:00+08:00"),
                    "lines": [{"pos_code": "WALK", "qty": "1", "gross": 100}],
                    "tenders": [{"tender": "cash", "amount": 100}]}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s002_batch = r.json()["id"].as_str().unwrap().to_string();
    let s003 = app.store_id("S003").await;
    let r = app
        .post_json(
            "/api/v1/transfers",
            &admin,
            json!({"from_location_id": s002, "to_location_id": s003, "lines": [{"item_code": "WALK", "qty": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s002_transfer = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json("/api/v1/counts", &admin, json!({"location_id": s002}), &[])
        .await;
    r.assert_status(201);
    let s002_count = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            "/api/v1/suppliers",
            &admin,
            json!({"code": "WSUP", "name": "Walker supplier"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let wsup = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            "/api/v1/workflow/definitions",
            &admin,
            json!({"code": "walker", "name": "Walker", "doc_type": "purchase_order",
                "steps": [{"name": "Region", "approvers": {"kind": "role", "role": "region_manager", "level": "region"}}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let definition = r.json()["id"].as_str().unwrap().to_string();
    let walk = app
        .scalar_text("SELECT id FROM inv_items WHERE code = 'WALK'")
        .await;
    let r = app
        .post_json(
            &format!("/api/v1/suppliers/{wsup}/items"),
            &admin,
            json!({"item_id": walk, "pack_unit": "kg"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let walk_si = r.json()["id"].as_str().unwrap().to_string();
    app.post_json(
        &format!("/api/v1/suppliers/{wsup}/prices"),
        &admin,
        json!({"supplier_item_id": walk_si, "price_minor": 500}),
        &[],
    )
    .await
    .assert_status(201);
    let r = app
        .post_json(
            "/api/v1/purchase-orders",
            &admin,
            json!({"supplier_id": wsup, "location_id": s002,
                "lines": [{"item_code": "WALK", "qty": "3", "unit_price_minor": 500}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s002_po = r.json()["id"].as_str().unwrap().to_string();
    app.post_empty(&format!("/api/v1/purchase-orders/{s002_po}/submit"), &admin)
        .await
        .assert_status(200);
    let s002_instance = app
        .scalar_text(&format!(
            "SELECT id FROM wf_instances WHERE doc_id = '{s002_po}'"
        ))
        .await;
    let s002_task = app
        .scalar_text(&format!(
            "SELECT id FROM wf_tasks WHERE instance_id = '{s002_instance}'"
        ))
        .await;
    let r = app
        .post_json(
            "/api/v1/workflow/delegations",
            &m2,
            json!({"delegate_username": "region.east", "starts_on": day, "ends_on": day}),
            &[],
        )
        .await;
    r.assert_status(201);
    let m2_delegation = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            "/api/v1/requisitions",
            &admin,
            json!({"location_id": s002, "lines": [{"item_code": "WALK", "qty": "2", "supplier_id": wsup}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s002_requisition = r.json()["id"].as_str().unwrap().to_string();

    let (s002_receipt, s002_invoice, s002_credit_note, other_tolerance) =
        invoice_setup(app, &admin, &wsup, &s002).await;

    let r = app
        .post_json(
            "/api/v1/maintenance/assets",
            &admin,
            json!({"location_id": s002, "code": "S002-WALK-FRYER", "name": "Fryer", "category": "fryer"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s002_asset = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            &format!("/api/v1/maintenance/assets/{s002_asset}/meters"),
            &admin,
            json!({"code": "running_hours", "unit": "h"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s002_meter = r.json()["id"].as_str().unwrap().to_string();
    let s002_work_order = uuid::Uuid::now_v7().to_string();
    let s002_path = app
        .scalar_text(&format!("SELECT path FROM org_nodes WHERE id = '{s002}'"))
        .await;
    let company = app
        .scalar_text(&format!(
            "SELECT company_id FROM org_nodes WHERE id = '{s002}'"
        ))
        .await;
    app.exec(&format!(
        "INSERT INTO mnt_work_orders (id, company_id, location_id, location_path, asset_id, number, title, \
         fault_code, category, priority, status, source, tracking_token, response_min, resolution_min, sla_days, \
         sla_open_min, sla_close_min, response_due_at, resolution_due_at, paused_min, escalation_level, \
         signature_required, labour_min, parts_cost, labour_cost, created_by, created_at, updated_at, version) \
         VALUES ('{s002_work_order}', '{company}', '{s002}', '{s002_path}', '{s002_asset}', 'WO-900001', 'Fryer', \
         'not_heating', 'fryer', 'medium', 'open', 'web', 'access-{s002_work_order}', 240, 1440, '1111111', 0, \
         1440, 1, 2, 0, 0, 0, 0, 0, 0, 'system', 1, 1, 1)"
    ))
    .await;

    Foreign {
        s002_work_order,
        s002_asset,
        s002_meter,
        s002_requisition,
        s002_receipt,
        s002_invoice,
        s002_credit_note,
        other_tolerance,
        s002_po,
        s002_instance,
        s002_task,
        definition,
        m2_delegation,
        s002_transfer,
        s002_count,
        other_item,
        other_category,
        other_supplier,
        other_supplier_item,
        s002_doc,
        s002_batch,
        s002_area,
        s002,
        r_north: app.node_id("R-NORTH").await,
        m2_user: app.user_id("manager.s002").await,
        m2_grant,
        admin_role: app.role_id("admin").await,
        m2_token,
        webhook,
        delivery,
        job,
        kind: "stores".into(),
        import,
    }
}

/// A second order of S002 (WALK from the walker supplier), approved by whoever the walker
/// route assigns, received, invoiced and partly returned; a tolerance of the other company.
async fn invoice_setup(
    app: &TestApp,
    admin: &str,
    wsup: &str,
    s002: &str,
) -> (String, String, String, String) {
    let r = app
        .post_json(
            "/api/v1/purchase-orders",
            admin,
            json!({"supplier_id": wsup, "location_id": s002,
                "lines": [{"item_code": "WALK", "qty": "4", "unit_price_minor": 500}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let po = r.json()["id"].as_str().unwrap().to_string();
    app.post_empty(&format!("/api/v1/purchase-orders/{po}/submit"), admin)
        .await
        .assert_status(200);
    let approver = app
        .scalar_text(&format!(
            "SELECT u.username FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id \
             JOIN users u ON u.id = t.assignee_id WHERE i.doc_id = '{po}'"
        ))
        .await;
    let task = app
        .scalar_text(&format!(
            "SELECT t.id FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id WHERE i.doc_id = '{po}'"
        ))
        .await;
    let approver = app.login_token(&approver).await;
    app.post_json(
        &format!("/api/v1/workflow/tasks/{task}/decision"),
        &approver,
        json!({"decision": "approve"}),
        &[],
    )
    .await
    .assert_status(200);
    let r = app
        .post_json(
            &format!("/api/v1/purchase-orders/{po}/receipts"),
            admin,
            json!({"lines": [{"line_no": 1, "qty": "4"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let receipt = r.json()["id"].as_str().unwrap().to_string();
    let day = boh_inventory::today_in("Asia/Shanghai").to_string();
    let r = app
        .post_json(
            "/api/v1/supplier-invoices",
            admin,
            json!({"supplier_id": wsup, "po_id": po, "invoice_no": "W-1", "invoice_date": day,
                "lines": [{"po_line_no": 1, "qty": "4", "unit_price_minor": 500}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let invoice = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            &format!("/api/v1/receipts/{receipt}/returns"),
            admin,
            json!({"reason": "quality", "lines": [{"line_no": 1, "qty": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let credit_note = r.json()["credit_note"]["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            "/api/v1/auth/login",
            "",
            json!({"username": "other.admin", "password": "other-company-password-1"}),
            &[],
        )
        .await;
    r.assert_status(200);
    let other = r.json()["token"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            "/api/v1/match-tolerances",
            &other,
            json!({"price_pct": "1"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let tolerance = r.json()["id"].as_str().unwrap().to_string();
    (receipt, invoice, credit_note, tolerance)
}

struct Outcome {
    method: String,
    path: String,
    url: String,
    status: u16,
    ok: bool,
    note: String,
}

async fn store_manager_cannot_reach_other_scopes(app: TestApp) {
    let foreign = setup(&app).await;
    let doc = app
        .request(Method::GET, "/api/openapi.json")
        .send()
        .await
        .json();
    let paths = doc["paths"].as_object().expect("paths").clone();
    for (skip, _) in SKIP {
        assert!(
            paths.contains_key(*skip),
            "{skip} is in SKIP but no longer in the API; update the list"
        );
    }

    let m1 = app.login_token("manager.s001").await;
    // Sanity: the walker's identity has a scope, so refusals are about the foreign ids.
    let own = app.get("/api/v1/stores", &m1).await;
    own.assert_status(200);
    assert_eq!(own.json()["page"]["total"], 1);

    let before = fingerprint(&app).await;
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut walked = 0;

    for (path, ops) in &paths {
        if !path.starts_with("/api/v1/") {
            continue;
        }
        if SKIP.iter().any(|(p, _)| p == path) {
            continue;
        }
        for (method, op) in ops.as_object().expect("operations") {
            let m = match method.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            walked += 1;
            // Path parameters.
            let mut url = path.clone();
            let mut has_path_param = false;
            let params = op["parameters"].as_array().cloned().unwrap_or_default();
            let mut query: Vec<String> = Vec::new();
            for p in &params {
                let name = p["name"].as_str().unwrap_or_default();
                match p["in"].as_str() {
                    Some("path") => {
                        has_path_param = true;
                        let id = foreign.path_param(name).unwrap_or_else(|| {
                            panic!(
                                "{} {path}: path parameter `{{{name}}}` is unknown to the access \
                                 walker. Add it to `Foreign::path_param` in \
                                 crates/boh-server/tests/access.rs with an id from outside \
                                 manager.s001's scope, so the new route is checked.",
                                method.to_uppercase()
                            )
                        });
                        url = url.replace(&format!("{{{name}}}"), id);
                    }
                    Some("query") if name == "under" || name.ends_with("_id") => {
                        query.push(format!("{name}={}", foreign.s002));
                    }
                    _ => {}
                }
            }
            assert!(
                !url.contains('{'),
                "{path}: a path parameter is not declared in the OpenAPI parameters"
            );
            // Body.
            let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
            let body = if body.is_null() {
                None
            } else {
                Some(generate(&doc, &body, "", &foreign, path))
            };
            let body_has_foreign_id = body.as_ref().is_some_and(|b| {
                let t = b.to_string();
                [
                    &foreign.s002,
                    &foreign.r_north,
                    &foreign.m2_user,
                    &foreign.m2_grant,
                    &foreign.admin_role,
                ]
                .iter()
                .any(|id| t.contains(id.as_str()))
            });

            // Plain call, and (for reads with id-like query parameters) a filtered call.
            let mut urls = vec![url.clone()];
            if !query.is_empty() {
                urls.push(format!("{url}?{}", query.join("&")));
            }
            for u in urls {
                let mut req = app.request(m.clone(), &u).bearer(&m1);
                if let Some(b) = &body {
                    req = req.json(b);
                }
                let r = req.send().await;
                let refused = matches!(r.status, 403 | 404);
                let text = r.text();
                let leaks: Vec<&str> = foreign
                    .leak_markers()
                    .iter()
                    .filter(|(_, id)| text.contains(*id))
                    .map(|(what, _)| *what)
                    .collect();
                let (ok, note) = if m != Method::GET || has_path_param || body_has_foreign_id {
                    (
                        refused && leaks.is_empty(),
                        if refused {
                            String::new()
                        } else {
                            format!("expected 403/404: {}", truncate(&text))
                        },
                    )
                } else if r.status == 200 || refused {
                    (
                        leaks.is_empty(),
                        if leaks.is_empty() {
                            String::new()
                        } else {
                            format!("leaks {}", leaks.join(", "))
                        },
                    )
                } else {
                    (false, format!("unexpected status: {}", truncate(&text)))
                };
                if refused {
                    // Refusals use the error envelope.
                    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                    assert!(
                        v["error"]["code"].is_string(),
                        "{} {u}: refusal without the error envelope: {text}",
                        m
                    );
                }
                outcomes.push(Outcome {
                    method: m.to_string(),
                    path: path.clone(),
                    url: u,
                    status: r.status,
                    ok,
                    note,
                });
            }
        }
    }
    let after = fingerprint(&app).await;

    // The table.
    println!(
        "\naccess walk as manager.s001 on {:?} ({walked} operations):",
        app.backend
    );
    println!("{:<7} {:<50} {:<26} result", "method", "route", "status");
    for o in &outcomes {
        let shown = if o.url.contains('?') {
            format!(
                "{}?{}",
                o.path,
                o.url.split_once('?').unwrap().1.split('=').next().unwrap()
            )
        } else {
            o.path.clone()
        };
        println!(
            "{:<7} {:<50} {:<26} {}{}",
            o.method,
            shown,
            status_text(o.status),
            if o.ok { "ok" } else { "FAIL" },
            if o.note.is_empty() {
                String::new()
            } else {
                format!(" — {}", o.note)
            }
        );
    }
    for (p, why) in SKIP {
        println!("{:<7} {:<50} {:<26} skipped — {why}", "*", p, "-");
    }

    let failures: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.ok)
        .map(|o| format!("{} {} -> {} {}", o.method, o.url, o.status, o.note))
        .collect();
    assert!(
        failures.is_empty(),
        "access-control failures:\n{}",
        failures.join("\n")
    );
    assert!(walked >= 30, "only {walked} operations walked");

    let changed: Vec<String> = before
        .iter()
        .filter(|(k, v)| after.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {v} -> {:?}", after.get(k)))
        .collect();
    assert!(
        changed.is_empty(),
        "the walk changed data:\n{}",
        changed.join("\n")
    );

    // Still nothing visible of the other scopes through the normal lists.
    let stores = app.get("/api/v1/stores", &m1).await;
    assert_eq!(stores.json()["page"]["total"], 1);
}

fn truncate(s: &str) -> String {
    if s.chars().count() > 160 {
        format!("{}…", s.chars().take(160).collect::<String>())
    } else {
        s.to_string()
    }
}
