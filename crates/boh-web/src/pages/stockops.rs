//! Transfer and count pages: transfer list, new transfer, transfer detail with ship and
//! receive; count list with start, the count entry screen (grouped by storage area in walking
//! order, big inputs for a phone), variance review and post.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use boh_inventory::QtyText;
use boh_inventory::count::{self, Count, CountFilter, CountInput, EntriesInput, EntryInput};
use boh_inventory::transfer::{
    self, CancelInput, ReceiveInput, ReceiveLineInput, ShipInput, Transfer, TransferFilter,
    TransferInput, TransferLineInput,
};
use boh_kernel::{Qty, perm};
use boh_platform::PlatformError;
use serde::Deserialize;

use super::inventory::{money, sites};
use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

/// Messages of a refusal for a banner, or the error page.
fn messages(e: PlatformError, locale: &str) -> Result<Vec<String>, Response> {
    let (general, fields) = match e {
        PlatformError::Refused {
            message, fields, ..
        } => (Some(crate::i18n::field_message(locale, &message)), fields),
        other => {
            let fe = FormErrors::from_platform(other, locale)?;
            (fe.general, fe.fields)
        }
    };
    let mut out: Vec<String> = general.into_iter().collect();
    out.extend(fields.into_iter().map(|f| {
        format!(
            "{}: {}",
            f.field,
            crate::i18n::field_message(locale, &f.message)
        )
    }));
    Ok(out)
}

fn locale_of(ctx: &boh_platform::Ctx) -> String {
    crate::i18n::normalise(&ctx.actor.locale).to_string()
}

// ---------------------------------------------------------------- transfers

#[derive(Debug, Default, Deserialize)]
pub struct TransferQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub offset: i64,
}

#[derive(askama::Template)]
#[template(path = "inventory/transfers.html")]
struct TransfersPage {
    ui: Ui,
    rows: Vec<Transfer>,
    status: String,
    statuses: Vec<(String, String)>,
    can_request: bool,
    total: i64,
}

impl TransfersPage {
    fn status_label(&self, s: &str) -> String {
        self.ui.t(&format!("tr.status.{s}"))
    }
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
}

pub async fn transfers(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<TransferQuery>,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "transfers",
        "tr.transfers",
    )
    .await;
    let f = TransferFilter {
        status: Some(q.status.clone()).filter(|s| !s.is_empty()),
        limit: Some(100),
        offset: Some(q.offset.max(0)),
        ..Default::default()
    };
    let (rows, total) = match transfer::list(&state.platform, &ctx.actor, &f).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let statuses = transfer::STATUSES
        .iter()
        .map(|s| (s.to_string(), ui.t(&format!("tr.status.{s}"))))
        .collect();
    render(TransfersPage {
        can_request: ctx.actor.has_anywhere(perm::INVENTORY_TRANSFER),
        ui,
        rows,
        status: q.status,
        statuses,
        total,
    })
}

#[derive(askama::Template)]
#[template(path = "inventory/transfer_form.html")]
struct TransferFormPage {
    ui: Ui,
    sources: Vec<(String, String)>,
    destinations: Vec<(String, String)>,
    from: String,
    to: String,
    note: String,
    lines: Vec<(String, String, String)>,
    errors: Vec<String>,
}

#[allow(clippy::too_many_arguments)]
async fn transfer_form(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    from: String,
    to: String,
    note: String,
    lines: Vec<(String, String, String)>,
    errors: Vec<String>,
) -> Response {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "transfers",
        "tr.new",
    )
    .await;
    let srcs: Vec<_> = sites(state, &ctx.actor, None)
        .await
        .into_iter()
        .filter(|s| ctx.actor.allows(perm::INVENTORY_TRANSFER, &s.path))
        .collect();
    let company = srcs
        .first()
        .map(|s| s.company_id.clone())
        .or(ctx.actor.company_id.clone())
        .unwrap_or_default();
    let dests = transfer::destinations(&state.platform, &company)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(id, code, zh, en)| (id, format!("{code} {}", if ui.is_zh() { zh } else { en })))
        .collect();
    render(TransferFormPage {
        sources: srcs
            .iter()
            .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(&ui.locale))))
            .collect(),
        destinations: dests,
        ui,
        from,
        to,
        note,
        lines,
        errors,
    })
}

pub async fn new_transfer(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    transfer_form(
        &state,
        &parts,
        &ctx,
        String::new(),
        String::new(),
        String::new(),
        vec![Default::default(); 6],
        Vec::new(),
    )
    .await
}

/// `from_location_id`, `to_location_id`, `note`, and per line N `item_N` (code), `qty_N`,
/// `unit_N`; empty lines are ignored.
pub async fn create_transfer(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut lines = Vec::new();
    let mut n = 0;
    while f.contains_key(&format!("item_{n}")) && n < 200 {
        let l = (
            get(&format!("item_{n}")),
            get(&format!("qty_{n}")),
            get(&format!("unit_{n}")),
        );
        if !l.0.is_empty() || !l.1.is_empty() {
            lines.push(l);
        }
        n += 1;
    }
    let input = TransferInput {
        from_location_id: get("from_location_id"),
        to_location_id: get("to_location_id"),
        note: Some(get("note")).filter(|s| !s.is_empty()),
        lines: lines
            .iter()
            .map(|(item, qty, unit)| TransferLineInput {
                item_code: Some(item.split(" — ").next().unwrap_or_default().to_string()),
                qty: QtyText(qty.clone()),
                unit: Some(unit.clone()).filter(|s| !s.is_empty()),
                ..Default::default()
            })
            .collect(),
    };
    match transfer::request(&state.platform, &ctx, input).await {
        Ok(t) => Redirect::to(&format!("/inventory/transfers/{}", t.id)).into_response(),
        Err(e) => {
            let errors = match messages(e, &locale_of(&ctx)) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let mut lines = lines;
            lines.resize(lines.len().max(6), Default::default());
            let mut r = transfer_form(
                &state,
                &parts,
                &ctx,
                get("from_location_id"),
                get("to_location_id"),
                get("note"),
                lines,
                errors,
            )
            .await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

#[derive(askama::Template)]
#[template(path = "inventory/transfer.html")]
struct TransferPage {
    ui: Ui,
    t: Transfer,
    can_ship: bool,
    can_receive: bool,
    errors: Vec<String>,
}

impl TransferPage {
    fn status_label(&self) -> String {
        self.ui.t(&format!("tr.status.{}", self.t.status))
    }
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    fn qty(&self, q: &Qty) -> String {
        q.to_text()
    }
}

async fn transfer_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    errors: Vec<String>,
) -> Response {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "transfers",
        "tr.transfer",
    )
    .await;
    let t = match transfer::get(&state.platform, &ctx.actor, id).await {
        Ok(t) => t,
        Err(e) => return error_page(e),
    };
    let path_of = async |loc: &str| {
        boh_platform::org::fetch(&state.platform, loc)
            .await
            .ok()
            .flatten()
            .map(|n| n.path)
            .unwrap_or_default()
    };
    let from_path = path_of(&t.from_location_id).await;
    let to_path = path_of(&t.to_location_id).await;
    render(TransferPage {
        can_ship: t.status == "requested" && ctx.actor.allows(perm::INVENTORY_TRANSFER, &from_path),
        can_receive: t.status == "shipped" && ctx.actor.allows(perm::INVENTORY_TRANSFER, &to_path),
        ui,
        t,
        errors,
    })
}

pub async fn transfer_detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    transfer_page(&state, &parts, &ctx, &id, Vec::new()).await
}

/// Ship (`ship_N` = quantity of line N, default requested), receive (`rec_N`, `dam_N`,
/// `reason_N`), or cancel.
pub async fn transfer_action(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let p = &state.platform;
    let result = match action.as_str() {
        "ship" => {
            // `ship_N` overrides the quantity of line N (default: what was requested).
            let lines = f
                .iter()
                .filter_map(|(k, v)| {
                    let n = k.strip_prefix("ship_")?.parse::<i64>().ok()?;
                    let v = v.trim();
                    (!v.is_empty()).then(|| boh_inventory::transfer::ShipLineInput {
                        line_no: n,
                        qty: QtyText(v.to_string()),
                    })
                })
                .collect();
            transfer::ship(
                p,
                &ctx,
                &id,
                ShipInput {
                    business_date: None,
                    lines,
                },
            )
            .await
        }
        "receive" => {
            let t = match transfer::get(p, &ctx.actor, &id).await {
                Ok(t) => t,
                Err(e) => return error_page(e),
            };
            let lines = t
                .lines
                .iter()
                .filter_map(|l| {
                    let n = l.line_no;
                    let rec = get(&format!("rec_{n}"));
                    let dam = get(&format!("dam_{n}"));
                    if rec.is_empty() && dam.is_empty() {
                        return None;
                    }
                    Some(ReceiveLineInput {
                        line_no: n,
                        qty_received: QtyText(if rec.is_empty() {
                            l.qty_shipped.to_text()
                        } else {
                            rec
                        }),
                        qty_damaged: Some(dam).filter(|d| !d.is_empty()).map(QtyText),
                        reason: Some(get(&format!("reason_{n}"))).filter(|s| !s.is_empty()),
                        note: None,
                    })
                })
                .collect();
            transfer::receive(
                p,
                &ctx,
                &id,
                ReceiveInput {
                    business_date: None,
                    lines,
                },
            )
            .await
        }
        "cancel" => {
            transfer::cancel(
                p,
                &ctx,
                &id,
                CancelInput {
                    reason: Some(get("reason")).filter(|s| !s.is_empty()),
                },
            )
            .await
        }
        _ => Err(PlatformError::NotFound),
    };
    match result {
        Ok(t) => Redirect::to(&format!("/inventory/transfers/{}", t.id)).into_response(),
        Err(e) => {
            let errors = match messages(e, &locale_of(&ctx)) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let mut r = transfer_page(&state, &parts, &ctx, &id, errors).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

// ---------------------------------------------------------------- counts

#[derive(askama::Template)]
#[template(path = "inventory/counts.html")]
struct CountsPage {
    ui: Ui,
    rows: Vec<Count>,
    sites: Vec<(String, String)>,
    /// (area id, "S001 · Walk-in") of the sites above.
    areas: Vec<(String, String)>,
    can_count: bool,
    errors: Vec<String>,
}

impl CountsPage {
    fn status_label(&self, s: &str) -> String {
        self.ui.t(&format!("ct.status.{s}"))
    }
}

async fn counts_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    errors: Vec<String>,
) -> Response {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "counts",
        "ct.counts",
    )
    .await;
    let f = CountFilter {
        limit: Some(100),
        ..Default::default()
    };
    let (rows, _) = match count::list(&state.platform, &ctx.actor, &f).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let nodes: Vec<_> = sites(state, &ctx.actor, scope_cookie(parts))
        .await
        .into_iter()
        .filter(|s| ctx.actor.allows(perm::INVENTORY_COUNT, &s.path))
        .collect();
    let mut areas = Vec::new();
    for n in nodes.iter().take(50) {
        for a in boh_inventory::location::list_areas(&state.platform, &ctx.actor, &n.id)
            .await
            .unwrap_or_default()
        {
            areas.push((a.id.clone(), format!("{} · {}", n.code, a.name(&ui.locale))));
        }
    }
    let sites: Vec<(String, String)> = nodes
        .iter()
        .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(&ui.locale))))
        .collect();
    render(CountsPage {
        areas,
        can_count: !sites.is_empty(),
        ui,
        rows,
        sites,
        errors,
    })
}

pub async fn counts(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    counts_page(&state, &parts, &ctx, Vec::new()).await
}

/// `location_id`, `kind` (full or cycle), `blind`, `storage_area_ids` (repeated), and
/// `item_codes` (cycle counts: codes separated by spaces, commas or new lines).
pub async fn start_count(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(f): Form<Vec<(String, String)>>,
) -> Response {
    let one = |k: &str| {
        f.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let input = CountInput {
        location_id: one("location_id"),
        kind: Some(one("kind")).filter(|k| !k.is_empty()),
        storage_area_ids: f
            .iter()
            .filter(|(n, v)| n == "storage_area_ids" && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect(),
        item_ids: Vec::new(),
        item_codes: one("item_codes")
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        blind: f.iter().any(|(n, _)| n == "blind"),
        business_date: None,
        note: None,
    };
    match count::start(&state.platform, &ctx, input).await {
        Ok(c) => Redirect::to(&format!("/inventory/counts/{}", c.id)).into_response(),
        Err(e) => {
            let errors = match messages(e, &locale_of(&ctx)) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let mut r = counts_page(&state, &parts, &ctx, errors).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

/// Lines of one storage area on the entry screen.
struct AreaGroup {
    name: String,
    lines: Vec<count::CountLine>,
}

#[derive(askama::Template)]
#[template(path = "inventory/count.html")]
struct CountPage {
    ui: Ui,
    c: Count,
    groups: Vec<AreaGroup>,
    can_count: bool,
    saved: bool,
    errors: Vec<String>,
}

impl CountPage {
    fn status_label(&self) -> String {
        self.ui.t(&format!("ct.status.{}", self.c.status))
    }
    fn q(&self, q: &Option<Qty>) -> String {
        q.map(|q| q.to_text()).unwrap_or_default()
    }
    fn money(&self, v: &Option<i64>) -> String {
        v.map(money).unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: Option<String>,
}

async fn count_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    saved: bool,
    errors: Vec<String>,
) -> Response {
    let ui = ui(state, scope_cookie(parts), &ctx.actor, "counts", "ct.count").await;
    let c = match count::get(&state.platform, &ctx.actor, id).await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let path = boh_platform::org::fetch(&state.platform, &c.location_id)
        .await
        .ok()
        .flatten()
        .map(|n| n.path)
        .unwrap_or_default();
    let mut groups: Vec<AreaGroup> = Vec::new();
    for l in &c.lines {
        let name = match (&l.storage_area_code, ui.is_zh()) {
            (Some(_), true) => l.storage_area_name_zh.clone().unwrap_or_default(),
            (Some(_), false) => l.storage_area_name_en.clone().unwrap_or_default(),
            (None, _) => ui.t("ct.no_area"),
        };
        match groups.last_mut() {
            Some(g) if g.name == name => g.lines.push(l.clone()),
            _ => groups.push(AreaGroup {
                name,
                lines: vec![l.clone()],
            }),
        }
    }
    render(CountPage {
        can_count: ctx.actor.allows(perm::INVENTORY_COUNT, &path),
        ui,
        c,
        groups,
        saved,
        errors,
    })
}

pub async fn count_detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<SavedQuery>,
) -> Response {
    count_page(&state, &parts, &ctx, &id, q.saved.is_some(), Vec::new()).await
}

/// Save entered quantities (`q_I` = what is on the shelf for line I, replacing what was
/// entered; `u_I` its unit), submit (`uncounted_as_zero`), post or cancel.
pub async fn count_action(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path((id, action)): Path<(String, String)>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let p = &state.platform;
    let result: Result<(), PlatformError> = match action.as_str() {
        "lines" => {
            let c = match count::get(p, &ctx.actor, &id).await {
                Ok(c) => c,
                Err(e) => return error_page(e),
            };
            let entries: Vec<EntryInput> = c
                .lines
                .iter()
                .filter_map(|l| {
                    let v = get(&format!("q_{}", l.index));
                    if v.is_empty() {
                        return None;
                    }
                    Some(EntryInput {
                        item_id: Some(l.item_id.clone()),
                        item_code: None,
                        lot_code: l.lot_code.clone(),
                        qty: QtyText(v),
                        unit: Some(get(&format!("u_{}", l.index))).filter(|s| !s.is_empty()),
                        mode: Some("set".into()),
                    })
                })
                .collect();
            if entries.is_empty() {
                Ok(())
            } else {
                count::add_entries(p, &ctx, &id, EntriesInput { entries })
                    .await
                    .map(|_| ())
            }
        }
        "submit" => count::submit(
            p,
            &ctx,
            &id,
            count::SubmitInput {
                uncounted_as_zero: f.contains_key("uncounted_as_zero"),
            },
        )
        .await
        .map(|_| ()),
        "post" => count::post(p, &ctx, &id).await.map(|_| ()),
        "cancel" => count::cancel(p, &ctx, &id).await.map(|_| ()),
        _ => Err(PlatformError::NotFound),
    };
    match result {
        Ok(()) => Redirect::to(&format!("/inventory/counts/{id}?saved=1")).into_response(),
        Err(e) => {
            let errors = match messages(e, &locale_of(&ctx)) {
                Ok(m) => m,
                Err(r) => return r,
            };
            let mut r = count_page(&state, &parts, &ctx, &id, false, errors).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}
