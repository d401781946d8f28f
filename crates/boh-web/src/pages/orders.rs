//! Purchase order pages: the list, a new order (choose supplier and site, then quantities on
//! the supplier's item list), and an order's page with its approval route (shown before
//! submitting), its steps and history, submit and cancel.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_inventory::supplier::{self, Supplier, SupplierFilter, SupplierItem};
use boh_kernel::perm;
use boh_kernel::qty::money_text;
use boh_platform::PlatformError;
use boh_platform::org::OrgNode;
use boh_purchasing::po::{self, LineInput, PoFilter, PoInput, PurchaseOrder};
use boh_workflow::route::Route;
use boh_workflow::run::InstanceView;
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

const PAGE: i64 = 25;
const STATUSES: &[&str] = &[
    "draft",
    "pending_approval",
    "approved",
    "rejected",
    "partially_received",
    "received",
    "cancelled",
];

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub offset: i64,
}

#[derive(askama::Template)]
#[template(path = "orders/list.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<PurchaseOrder>,
    status: String,
    statuses: &'static [&'static str],
    total: i64,
    total_capped: bool,
    offset: i64,
    can_create: bool,
}

impl ListPage {
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - PAGE).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + PAGE < self.total || self.total_capped).then_some(self.offset + PAGE)
    }
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ListQuery>,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "orders",
        "po.title",
    )
    .await;
    let f = PoFilter {
        status: Some(q.status.clone()).filter(|s| !s.is_empty()),
        limit: Some(PAGE),
        offset: Some(q.offset.max(0)),
        ..Default::default()
    };
    let page = match po::list(&state.platform, &ctx.actor, &f).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    render(ListPage {
        can_create: ctx.actor.has_anywhere(perm::PURCHASING_ORDER),
        ui,
        rows: page.items,
        status: q.status,
        statuses: STATUSES,
        total: page.total,
        total_capped: page.total_capped,
        offset: q.offset.max(0),
    })
}

// ---------------------------------------------------------------- new order

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    pub supplier_id: String,
    #[serde(default)]
    pub location_id: String,
}

#[derive(askama::Template)]
#[template(path = "orders/new.html")]
struct NewPage {
    ui: Ui,
    suppliers: Vec<Supplier>,
    sites: Vec<OrgNode>,
    supplier_id: String,
    location_id: String,
    supplier: Option<Supplier>,
    items: Vec<SupplierItem>,
    qty: BTreeMap<String, String>,
    delivery_date: String,
    note: String,
    errors: FormErrors,
}

impl NewPage {
    fn price(&self, si: &SupplierItem) -> String {
        si.current_price
            .as_ref()
            .map(|p| money_text(p.price_minor))
            .unwrap_or_else(|| "—".into())
    }
    fn qty_of(&self, id: &str) -> String {
        self.qty.get(id).cloned().unwrap_or_default()
    }
    fn min_order(&self) -> String {
        self.supplier
            .as_ref()
            .map(|s| money_text(s.min_order_minor))
            .unwrap_or_default()
    }
    fn site_name(&self, n: &OrgNode) -> String {
        format!("{} · {}", n.code, n.name(&self.ui.locale))
    }
    fn supplier_name(&self, s: &Supplier) -> String {
        format!("{} · {}", s.code, s.name(&self.ui.locale))
    }
}

/// Sites where the actor may order.
async fn order_sites(state: &AppState, actor: &boh_kernel::Actor) -> Vec<OrgNode> {
    let f = boh_platform::org::NodeFilter {
        kind: Some("store,warehouse,central_kitchen".into()),
        limit: Some(500),
        ..Default::default()
    };
    match boh_platform::org::list(&state.platform, actor, &f).await {
        Ok((nodes, _)) => nodes
            .into_iter()
            .filter(|n| actor.allows(perm::PURCHASING_ORDER, &n.path))
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[allow(clippy::too_many_arguments)]
async fn new_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    supplier_id: &str,
    location_id: &str,
    qty: BTreeMap<String, String>,
    delivery_date: String,
    note: String,
    errors: FormErrors,
) -> Result<NewPage, Response> {
    let p = &state.platform;
    let ui = ui(state, scope_cookie(parts), &ctx.actor, "orders", "po.new").await;
    let f = SupplierFilter {
        active: Some("true".into()),
        limit: Some(500),
        ..Default::default()
    };
    let (suppliers, _) = supplier::list_suppliers(p, &ctx.actor, &f)
        .await
        .map_err(error_page)?;
    let sites = order_sites(state, &ctx.actor).await;
    let supplier = suppliers.iter().find(|s| s.id == supplier_id).cloned();
    let items = match &supplier {
        Some(s) => supplier::list_supplier_items(p, &ctx.actor, &s.id)
            .await
            .map_err(error_page)?
            .into_iter()
            .filter(|i| i.active)
            .collect(),
        None => Vec::new(),
    };
    let location_id = if location_id.is_empty() && sites.len() == 1 {
        sites[0].id.clone()
    } else {
        location_id.to_string()
    };
    Ok(NewPage {
        ui,
        suppliers,
        sites,
        supplier_id: supplier_id.to_string(),
        location_id,
        supplier,
        items,
        qty,
        delivery_date,
        note,
        errors,
    })
}

pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<NewQuery>,
) -> Response {
    match new_page(
        &state,
        &parts,
        &ctx,
        &q.supplier_id,
        &q.location_id,
        BTreeMap::new(),
        String::new(),
        String::new(),
        FormErrors::default(),
    )
    .await
    {
        Ok(pg) => render(pg),
        Err(r) => r,
    }
}

/// The new-order form: `qty.<supplier item id>` per line, blank = not ordered.
pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let qty: BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("qty.").map(|id| (id.to_string(), v.clone())))
        .collect();
    let lines: Vec<LineInput> = qty
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(id, v)| LineInput {
            supplier_item_id: Some(id.clone()),
            qty: serde_json::Value::String(v.trim().to_string()),
            ..Default::default()
        })
        .collect();
    let input = PoInput {
        supplier_id: get("supplier_id"),
        location_id: get("location_id"),
        delivery_date: Some(get("delivery_date")).filter(|d| !d.trim().is_empty()),
        note: Some(get("note")).filter(|d| !d.trim().is_empty()),
        lines,
    };
    match po::create(&state.platform, &ctx, &input).await {
        Ok(o) => Redirect::to(&format!("/purchasing/orders/{}?created=1", o.id)).into_response(),
        Err(e) => {
            let errors = match FormErrors::from_platform(e, &ctx.actor.locale) {
                Ok(e) => e,
                Err(r) => return r,
            };
            match new_page(
                &state,
                &parts,
                &ctx,
                &input.supplier_id,
                &input.location_id,
                qty,
                get("delivery_date"),
                get("note"),
                errors,
            )
            .await
            {
                Ok(pg) => (StatusCode::UNPROCESSABLE_ENTITY, render(pg)).into_response(),
                Err(r) => r,
            }
        }
    }
}

// ---------------------------------------------------------------- an order

#[derive(askama::Template)]
#[template(path = "orders/detail.html")]
struct DetailPage {
    ui: Ui,
    order: PurchaseOrder,
    route: Option<Route>,
    route_error: Option<String>,
    approval: Option<InstanceView>,
    receipts: Vec<boh_purchasing::receipt::Receipt>,
    can_change: bool,
    can_receive: bool,
    invoicing: super::invoices::OrderInvoices,
    error: Option<String>,
    /// The requisitions whose lines are on this order, and the lines rounded up to packs.
    requisitions: Vec<(String, String)>,
    rounded: Vec<boh_purchasing::requisition::Rounding>,
}

impl DetailPage {
    fn can_send(&self) -> bool {
        self.can_change
            && matches!(
                self.order.status.as_str(),
                "approved" | "partially_received"
            )
    }
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
    fn short(&self, s: &str) -> String {
        super::admin::short_time(s)
    }
    fn status_label(&self) -> String {
        self.ui.t(&format!("po.status.{}", self.order.status))
    }
    fn can_submit(&self) -> bool {
        self.can_change && (self.order.status == "draft" || self.order.status == "rejected")
    }
    fn can_cancel(&self) -> bool {
        self.can_change
            && matches!(
                self.order.status.as_str(),
                "draft" | "pending_approval" | "approved" | "rejected"
            )
    }
    fn receivable(&self) -> bool {
        self.can_receive
            && matches!(
                self.order.status.as_str(),
                "approved" | "partially_received"
            )
    }
    /// What is still to come on a line (blank when nothing).
    fn remaining(&self, l: &boh_purchasing::po::PoLine) -> String {
        let left = l.qty.micros() - l.qty_received.micros();
        if left > 0 {
            boh_kernel::Qty(left).to_text()
        } else {
            String::new()
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    pub created: Option<String>,
    #[serde(default)]
    pub submitted: Option<String>,
    #[serde(default)]
    pub received: Option<String>,
    #[serde(default)]
    pub sent: Option<String>,
    pub returned: Option<String>,
}

async fn detail_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    error: Option<String>,
) -> Result<DetailPage, Response> {
    let p = &state.platform;
    let po = po::get(p, &ctx.actor, id).await.map_err(error_page)?;
    let ui = ui(state, scope_cookie(parts), &ctx.actor, "orders", "po.title").await;
    let path = boh_platform::org::fetch(p, &po.location_id)
        .await
        .ok()
        .flatten()
        .map(|n| n.path)
        .unwrap_or_default();
    let can_change = ctx.actor.allows(perm::PURCHASING_ORDER, &path);
    let can_receive = ctx.actor.allows(perm::INVENTORY_MOVE_CREATE, &path);
    let receipts = boh_purchasing::receipt::list_for(p, &ctx.actor, id)
        .await
        .map_err(error_page)?;
    let (route, route_error) = if po.status == "draft" || po.status == "rejected" {
        match po::route(p, &ctx.actor, id).await {
            Ok(r) => (Some(r), None),
            Err(PlatformError::Refused { message, .. }) => (None, Some(message)),
            Err(PlatformError::Validation(f)) => (
                None,
                Some(
                    f.iter()
                        .map(|e| format!("{}: {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            ),
            Err(e) => return Err(error_page(e)),
        }
    } else {
        (None, None)
    };
    // Whoever may see the order sees its approval.
    let approval =
        boh_workflow::run::latest_for(p, &boh_kernel::Actor::system(), po::DOC_TYPE, &po.id)
            .await
            .map_err(error_page)?;
    let requisitions = boh_purchasing::requisition::numbers_for_order(p, &po.id)
        .await
        .map_err(error_page)?;
    let rounded = boh_purchasing::requisition::orders(p, std::slice::from_ref(&po.id))
        .await
        .map_err(error_page)?
        .into_iter()
        .flat_map(|o| o.rounded)
        .collect();
    let invoicing = super::invoices::order_panel(state, &ctx.actor, &po, &path).await;
    Ok(DetailPage {
        invoicing,
        ui,
        order: po,
        route,
        route_error,
        approval,
        receipts,
        can_change,
        can_receive,
        error,
        requisitions,
        rounded,
    })
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    match detail_page(&state, &parts, &ctx, &id, None).await {
        Ok(mut pg) => {
            if q.created.is_some() {
                pg.ui.flash = Some(pg.ui.t("po.created"));
            } else if q.submitted.is_some() {
                pg.ui.flash = Some(pg.ui.t("po.submitted"));
            } else if q.received.is_some() {
                pg.ui.flash = Some(pg.ui.t("po.received_flash"));
            } else if q.sent.is_some() {
                pg.ui.flash = Some(pg.ui.t("po.sent_flash"));
            } else if q.returned.is_some() {
                pg.ui.flash = Some(pg.ui.t("ap.returned_flash"));
            }
            render(pg)
        }
        Err(r) => r,
    }
}

/// The order's page again with why an action was refused (409).
pub(crate) async fn refused_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    e: PlatformError,
) -> Response {
    refused(state, parts, ctx, id, e).await
}

async fn refused(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    e: PlatformError,
) -> Response {
    let msg = match &e {
        PlatformError::Refused { message, .. } => message.clone(),
        PlatformError::Conflict { message, .. } => message.clone(),
        PlatformError::Validation(f) => f
            .iter()
            .map(|x| format!("{}: {}", x.field, x.message))
            .collect::<Vec<_>>()
            .join("; "),
        _ => return error_page(e),
    };
    let msg = crate::i18n::field_message(&ctx.actor.locale, &msg);
    match detail_page(state, parts, ctx, id, Some(msg)).await {
        Ok(pg) => (StatusCode::CONFLICT, render(pg)).into_response(),
        Err(r) => r,
    }
}

pub async fn submit(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match po::submit(&state.platform, &ctx, &id).await {
        Ok(o) => Redirect::to(&format!("/purchasing/orders/{}?submitted=1", o.id)).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    pub reason: String,
}

pub async fn cancel(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<CancelForm>,
) -> Response {
    match po::cancel(&state.platform, &ctx, &id, &form.reason).await {
        Ok(o) => Redirect::to(&format!("/purchasing/orders/{}", o.id)).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

/// The receiving form: `qty.<line>`, `damaged.<line>`, `lot.<line>`, `expiry.<line>`,
/// `temp.<line>`; lines with nothing accepted or refused are left out.
pub async fn receive(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    use boh_purchasing::receipt::{ReceiptInput, ReceiptLineInput};
    let get = |k: String| {
        form.get(&k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut nos: Vec<i64> = form
        .keys()
        .filter_map(|k| k.strip_prefix("qty.").and_then(|n| n.parse().ok()))
        .collect();
    nos.sort();
    let lines: Vec<ReceiptLineInput> = nos
        .into_iter()
        .filter_map(|n| {
            let qty = get(format!("qty.{n}"));
            let damaged = get(format!("damaged.{n}"));
            if qty.is_none() && damaged.is_none() {
                return None;
            }
            Some(ReceiptLineInput {
                line_no: n,
                qty: serde_json::Value::String(qty.unwrap_or_else(|| "0".into())),
                damaged: damaged.map(serde_json::Value::String),
                substitute_item_code: None,
                lot_code: get(format!("lot.{n}")),
                expiry_date: get(format!("expiry.{n}")),
                temperature: get(format!("temp.{n}")).map(serde_json::Value::String),
            })
        })
        .collect();
    let input = ReceiptInput {
        lines,
        note: get("note".into()),
        receipt_key: get("receipt_key".into()),
    };
    match boh_purchasing::receipt::receive(&state.platform, &ctx, &id, &input).await {
        Ok(_) => Redirect::to(&format!("/purchasing/orders/{id}?received=1")).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}
