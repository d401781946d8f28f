//! Ordering pages: the order guide of a site (a phone-friendly table where the user keeps or
//! edits the suggested quantities and sources and orders), requisitions with their orders and
//! transfers, consolidation, and on an order's page the PDF / CSV downloads and "send again".

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_kernel::perm;
use boh_kernel::qty::money_text;
use boh_platform::org::OrgNode;
use boh_platform::{FieldError, PlatformError};
use boh_purchasing::consolidate::{self, ConsolidateInput, Consolidation};
use boh_purchasing::guide::{self, GuideLine, OrderGuide, SourceOption};
use boh_purchasing::requisition::{
    self, GuideOrderInput, OrderRef, Requisition, RequisitionFilter, RequisitionLine,
    RequisitionLineInput,
};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

/// Sites where the actor may order, by code.
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

// ---------------------------------------------------------------- the order guide

#[derive(Debug, Default, Deserialize)]
pub struct GuideQuery {
    #[serde(default)]
    pub location_id: String,
}

#[derive(askama::Template)]
#[template(path = "ordering/guide.html")]
struct GuidePage {
    ui: Ui,
    sites: Vec<OrgNode>,
    location_id: String,
    guide: Option<OrderGuide>,
    /// What the user entered (item id → quantity, source key), when re-shown after an error.
    qty: BTreeMap<String, String>,
    src: BTreeMap<String, String>,
    note: String,
    /// "Deliver on or after", as entered.
    delivery_date: String,
    errors: FormErrors,
    /// Errors by item id.
    row_errors: HashMap<String, String>,
}

impl GuidePage {
    fn q(&self, v: &boh_kernel::Qty) -> String {
        v.to_text()
    }
    fn site_name(&self, n: &OrgNode) -> String {
        format!("{} · {}", n.code, n.name(&self.ui.locale))
    }
    /// The source shown selected on a line.
    fn chosen<'a>(&self, l: &'a GuideLine) -> Option<&'a SourceOption> {
        match self.src.get(&l.item_id) {
            Some(k) => l.sources.iter().find(|o| &o.key == k).or(l.source.as_ref()),
            None => l.source.as_ref(),
        }
    }
    fn selected(&self, l: &GuideLine, o: &SourceOption) -> bool {
        self.chosen(l).is_some_and(|c| c.key == o.key)
    }
    fn qty_of(&self, l: &GuideLine) -> String {
        if let Some(v) = self.qty.get(&l.item_id) {
            return v.clone();
        }
        match self.chosen(l) {
            Some(o) if o.suggested_qty.micros() > 0 => o.suggested_qty.to_text(),
            _ => String::new(),
        }
    }
    fn unit_of(&self, l: &GuideLine) -> String {
        self.chosen(l)
            .map(|o| o.unit.clone())
            .unwrap_or_else(|| l.base_unit.clone())
    }
    fn option_label(&self, o: &SourceOption) -> String {
        match (o.kind.as_str(), o.price_minor) {
            ("supplier", Some(p)) => format!(
                "{} · {} {} · {}",
                o.code,
                money_text(p),
                o.unit,
                o.delivery_date
                    .as_deref()
                    .map(|d| d.get(5..).unwrap_or(d))
                    .unwrap_or("")
            ),
            _ => format!("{} · {}", o.code, self.ui.t("guide.transfer")),
        }
    }
    fn row_error(&self, l: &GuideLine) -> Option<String> {
        self.row_errors.get(&l.item_id).cloned()
    }
    fn low(&self, l: &GuideLine) -> bool {
        l.need.micros() > 0
    }
}

#[allow(clippy::too_many_arguments)]
async fn guide_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    location_id: &str,
    qty: BTreeMap<String, String>,
    src: BTreeMap<String, String>,
    (note, delivery_date): (String, String),
    errors: FormErrors,
    row_errors: HashMap<String, String>,
) -> Result<GuidePage, Response> {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "guide",
        "guide.title",
    )
    .await;
    let sites = order_sites(state, &ctx.actor).await;
    let location_id = if location_id.is_empty() {
        sites.first().map(|s| s.id.clone()).unwrap_or_default()
    } else {
        location_id.to_string()
    };
    let guide = if location_id.is_empty() {
        None
    } else {
        Some(
            guide::order_guide(&state.platform, &ctx.actor, &location_id)
                .await
                .map_err(error_page)?,
        )
    };
    Ok(GuidePage {
        ui,
        sites,
        location_id,
        guide,
        qty,
        src,
        note,
        delivery_date,
        errors,
        row_errors,
    })
}

pub async fn guide(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<GuideQuery>,
) -> Response {
    match guide_page(
        &state,
        &parts,
        &ctx,
        &q.location_id,
        BTreeMap::new(),
        BTreeMap::new(),
        (String::new(), String::new()),
        FormErrors::default(),
        HashMap::new(),
    )
    .await
    {
        Ok(pg) => render(pg),
        Err(r) => r,
    }
}

/// The guide's form: `qty.<item id>` (blank or 0: not ordered) and `src.<item id>` (a source
/// key, `si:<supplier item>` or `tr:<location>`) per line.
pub async fn order(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let location_id = get("location_id");
    let qty: BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("qty.").map(|id| (id.to_string(), v.clone())))
        .collect();
    let src: BTreeMap<String, String> = form
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("src.").map(|id| (id.to_string(), v.clone())))
        .collect();
    let mut items: Vec<String> = Vec::new();
    let mut lines: Vec<RequisitionLineInput> = Vec::new();
    for (id, v) in &qty {
        let v = v.trim();
        if v.is_empty() || boh_kernel::Qty::parse(v).is_ok_and(|q| q.micros() == 0) {
            continue;
        }
        let key = src.get(id).map(String::as_str).unwrap_or("");
        items.push(id.clone());
        lines.push(RequisitionLineInput {
            item_id: Some(id.clone()),
            qty: serde_json::Value::String(v.to_string()),
            supplier_item_id: key.strip_prefix("si:").map(str::to_string),
            from_location_id: key.strip_prefix("tr:").map(str::to_string),
            ..Default::default()
        });
    }
    let input = GuideOrderInput {
        note: Some(get("note")).filter(|n| !n.trim().is_empty()),
        delivery_date: Some(get("delivery_date")).filter(|d| !d.trim().is_empty()),
        lines,
    };
    match requisition::order_from_guide(&state.platform, &ctx, &location_id, &input).await {
        Ok(out) => Redirect::to(&format!(
            "/purchasing/requisitions/{}?ordered=1",
            out.requisition.id
        ))
        .into_response(),
        Err(e) => {
            let errors = match FormErrors::from_platform(e, &ctx.actor.locale) {
                Ok(e) => e,
                Err(r) => return r,
            };
            let mut row_errors: HashMap<String, String> = HashMap::new();
            for FieldError { field, message } in &errors.fields {
                let idx = field
                    .strip_prefix("lines[")
                    .and_then(|r| r.split_once(']'))
                    .and_then(|(n, _)| n.parse::<usize>().ok());
                if let Some(id) = idx.and_then(|i| items.get(i)) {
                    row_errors
                        .entry(id.clone())
                        .and_modify(|m| {
                            m.push_str("; ");
                            m.push_str(message);
                        })
                        .or_insert_with(|| message.clone());
                }
            }
            match guide_page(
                &state,
                &parts,
                &ctx,
                &location_id,
                qty,
                src,
                (get("note"), get("delivery_date")),
                errors,
                row_errors,
            )
            .await
            {
                Ok(pg) => (StatusCode::UNPROCESSABLE_ENTITY, render(pg)).into_response(),
                Err(r) => r,
            }
        }
    }
}

// ---------------------------------------------------------------- requisitions

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub offset: i64,
}

const PAGE: i64 = 25;

#[derive(askama::Template)]
#[template(path = "ordering/requisitions.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<Requisition>,
    status: String,
    total: i64,
    offset: i64,
    can_order: bool,
    consolidation: Option<Consolidation>,
}

impl ListPage {
    fn short(&self, s: &str) -> String {
        super::admin::short_time(s)
    }
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - PAGE).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + PAGE < self.total).then_some(self.offset + PAGE)
    }
}

async fn list_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    q: &ListQuery,
    consolidation: Option<Consolidation>,
) -> Response {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "requisitions",
        "req.title",
    )
    .await;
    let f = RequisitionFilter {
        status: Some(q.status.clone()).filter(|s| !s.is_empty()),
        limit: Some(PAGE),
        offset: Some(q.offset.max(0)),
        ..Default::default()
    };
    let (rows, total) = match requisition::list(&state.platform, &ctx.actor, &f).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    render(ListPage {
        can_order: ctx.actor.has_anywhere(perm::PURCHASING_ORDER),
        ui,
        rows,
        status: q.status.clone(),
        total,
        offset: q.offset.max(0),
        consolidation,
    })
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ListQuery>,
) -> Response {
    list_page(&state, &parts, &ctx, &q, None).await
}

/// Consolidate every waiting supplier line in the caller's scope, then show what it made.
pub async fn consolidate_all(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    match consolidate::consolidate(&state.platform, &ctx, &ConsolidateInput::default()).await {
        Ok(c) => list_page(&state, &parts, &ctx, &ListQuery::default(), Some(c)).await,
        Err(e) => error_page(e),
    }
}

#[derive(askama::Template)]
#[template(path = "ordering/requisition.html")]
struct DetailPage {
    ui: Ui,
    req: Requisition,
    can_change: bool,
    error: Option<String>,
}

impl DetailPage {
    fn status_label(&self) -> String {
        self.ui.t(&format!("req.status.{}", self.req.status))
    }
    fn origin_label(&self) -> String {
        self.ui.t(&format!("req.origin.{}", self.req.origin))
    }
    fn short(&self, s: &str) -> String {
        super::admin::short_time(s)
    }
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
    fn item_name(&self, l: &RequisitionLine) -> String {
        if self.ui.is_zh() {
            l.item_name_zh.clone()
        } else {
            l.item_name_en.clone()
        }
    }
    fn source_of(&self, l: &RequisitionLine) -> String {
        match l.source.as_str() {
            "transfer" => format!(
                "{} · {}",
                l.from_location_code.clone().unwrap_or_default(),
                self.ui.t("guide.transfer")
            ),
            _ => l.supplier_code.clone().unwrap_or_default(),
        }
    }
    fn supplier_name(&self, o: &OrderRef) -> String {
        if self.ui.is_zh() {
            o.supplier_name_zh.clone()
        } else {
            o.supplier_name_en.clone()
        }
    }
    fn below_text(&self, o: &OrderRef) -> String {
        crate::i18n::t_args(
            &self.ui.locale,
            "req.below_minimum",
            &[
                ("total", &money_text(o.total_minor)),
                ("minimum", &money_text(o.min_order_minor)),
            ],
        )
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    pub ordered: Option<String>,
    #[serde(default)]
    pub submitted: Option<String>,
}

async fn detail_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    error: Option<String>,
) -> Result<DetailPage, Response> {
    let p = &state.platform;
    let req = requisition::get(p, &ctx.actor, id)
        .await
        .map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "requisitions",
        "req.title",
    )
    .await;
    let path = boh_platform::org::fetch(p, &req.location_id)
        .await
        .ok()
        .flatten()
        .map(|n| n.path)
        .unwrap_or_default();
    Ok(DetailPage {
        can_change: ctx.actor.allows(perm::PURCHASING_ORDER, &path),
        ui,
        req,
        error,
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
            if q.ordered.is_some() {
                pg.ui.flash = Some(pg.ui.t("req.ordered"));
            } else if q.submitted.is_some() {
                pg.ui.flash = Some(pg.ui.t("req.submitted"));
            }
            render(pg)
        }
        Err(r) => r,
    }
}

fn refusal_text(e: &PlatformError, locale: &str) -> Option<String> {
    let msg = match e {
        PlatformError::Refused { message, .. } | PlatformError::Conflict { message, .. } => {
            message.clone()
        }
        PlatformError::Validation(f) => f
            .iter()
            .map(|x| format!("{}: {}", x.field, x.message))
            .collect::<Vec<_>>()
            .join("; "),
        _ => return None,
    };
    Some(crate::i18n::field_message(locale, &msg))
}

async fn refused(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    e: PlatformError,
) -> Response {
    let Some(msg) = refusal_text(&e, &ctx.actor.locale) else {
        return error_page(e);
    };
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
    match requisition::submit(&state.platform, &ctx, &id).await {
        Ok(r) => {
            Redirect::to(&format!("/purchasing/requisitions/{}?submitted=1", r.id)).into_response()
        }
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match requisition::cancel(&state.platform, &ctx, &id).await {
        Ok(r) => Redirect::to(&format!("/purchasing/requisitions/{}", r.id)).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

// ---------------------------------------------------------------- an order's documents

/// `/purchasing/orders/{id}/order.pdf` and `order.csv`.
pub async fn order_pdf(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    document(&state, &ctx, &id, false).await
}

pub async fn order_csv(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    document(&state, &ctx, &id, true).await
}

async fn document(state: &AppState, ctx: &boh_platform::Ctx, id: &str, csv: bool) -> Response {
    match boh_purchasing::document::load(&state.platform, &ctx.actor, id).await {
        Ok(doc) => crate::api::ordering::document_response(&doc, csv),
        Err(e) => error_page(e),
    }
}

/// "Send to the supplier again".
pub async fn send(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match boh_purchasing::send::send(&state.platform, &ctx, &id).await {
        Ok(_) => Redirect::to(&format!("/purchasing/orders/{id}?sent=1")).into_response(),
        Err(e) => super::orders::refused_page(&state, &parts, &ctx, &id, e).await,
    }
}
