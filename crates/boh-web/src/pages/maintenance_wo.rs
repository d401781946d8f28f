//! Work order pages: the list, reporting a fault, a work order's page (timers, history,
//! photos, parts, assignment, rating), the dispatch board (the optimal plan with reasons and
//! overrides), and the technician's phone view (my jobs, one job's steps, checklist, parts,
//! photos and the signed finish). Pages and API call the same `boh_maintenance` functions.

use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_kernel::{Actor, Qty, perm};
use boh_maintenance::sla::PRIORITIES;
use boh_maintenance::technician::{self, ApplyRow, DispatchPlan, Suggestion, Technician};
use boh_maintenance::workorder::{
    self, CAUSE_CODES, FAULT_CODES, PAUSE_REASONS, PartInput, REMEDY_CODES, STATUSES, StepInput,
    WoFilter, WorkOrder, WorkOrderDetail, WorkOrderInput,
};
use boh_platform::{Ctx, PlatformError};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

const PAGE: i64 = 25;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/maintenance/work-orders", get(list))
        .route("/maintenance/work-orders/new", get(new_form).post(create))
        .route("/maintenance/work-orders/{id}", get(detail))
        .route("/maintenance/work-orders/{id}/assign", post(assign))
        .route("/maintenance/work-orders/{id}/close", post(close))
        .route("/maintenance/work-orders/{id}/cancel", post(cancel))
        .route("/maintenance/work-orders/{id}/note", post(note))
        .route("/maintenance/work-orders/{id}/rate", post(rate))
        .route("/maintenance/work-orders/{id}/photos", post(photos))
        .route("/maintenance/work-orders/{id}/files/{att}", get(attachment))
        .route("/maintenance/dispatch", get(dispatch).post(dispatch_apply))
        .route("/maintenance/jobs", get(jobs))
        .route("/maintenance/jobs/{id}", get(job))
        .route("/maintenance/jobs/{id}/step", post(job_step))
        .route("/maintenance/jobs/{id}/tick", post(job_tick))
        .route("/maintenance/jobs/{id}/part", post(job_part))
        .route("/maintenance/jobs/{id}/photos", post(job_photos))
}

/// Who sees the Work orders entry of the navigation.
pub fn may_see(actor: &Actor) -> bool {
    [
        perm::MAINTENANCE_READ,
        perm::MAINTENANCE_REQUEST,
        perm::MAINTENANCE_DISPATCH,
    ]
    .iter()
    .any(|p| actor.has_anywhere(p))
}

/// Who sees My jobs.
pub fn may_work(actor: &Actor) -> bool {
    actor.has_anywhere(perm::MAINTENANCE_WORK)
}

/// Labels of codes in the UI's language: `(code, label)`.
fn labelled(ui: &Ui, prefix: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| (c.to_string(), ui.t(&format!("{prefix}.{c}"))))
        .collect()
}

/// `YYYY-MM-DD HH:MM` of an RFC 3339 instant.
fn short(t: &str) -> String {
    t.get(..16).map(|h| h.replace('T', " ")).unwrap_or_default()
}

/// Minutes as `1 h 05 min` / `-20 min`.
pub fn minutes(m: i64) -> String {
    let sign = if m < 0 { "-" } else { "" };
    let a = m.abs();
    if a >= 60 {
        format!("{sign}{} h {:02} min", a / 60, a % 60)
    } else {
        format!("{sign}{a} min")
    }
}

use super::inventory::money;

/// What every work order view shows about one work order.
pub struct WoView {
    pub w: WorkOrder,
    pub status: String,
    pub priority: String,
    pub fault: String,
    pub sla: String,
    pub due: String,
}

fn view(ui: &Ui, w: WorkOrder) -> WoView {
    let sla = match (&w.sla.state[..], w.sla.resolution_left_min) {
        ("met" | "missed", _) => ui.t(&format!("wo.sla.{}", w.sla.state)),
        ("paused", Some(m)) => format!("{} · {}", ui.t("wo.sla.paused"), minutes(m)),
        (s, Some(m)) if m < 0 => format!("{} · {}", ui.t(&format!("wo.sla.{s}")), minutes(m)),
        (s, Some(m)) => format!(
            "{} · {} {}",
            ui.t(&format!("wo.sla.{s}")),
            minutes(m),
            ui.t("wo.left")
        ),
        (s, None) => ui.t(&format!("wo.sla.{s}")),
    };
    WoView {
        status: ui.t(&format!("wo.status.{}", w.status)),
        priority: ui.t(&format!("wo.priority.{}", w.priority)),
        fault: ui.t(&format!("wo.fault.{}", w.fault_code)),
        due: short(&w.resolution_due_at),
        sla,
        w,
    }
}

// ---------------------------------------------------------------- the list

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub offset: i64,
    pub created: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "maintenance/work_orders.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<WoView>,
    q: String,
    location_id: String,
    status: String,
    priority: String,
    sites: Vec<(String, String)>,
    statuses: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    total: i64,
    offset: i64,
    limit: i64,
    can_report: bool,
    can_dispatch: bool,
}

impl ListPage {
    fn showing(&self) -> String {
        super::inventory::showing(&self.ui, self.offset, self.limit, self.total)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.limit).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + self.limit < self.total).then_some(self.offset + self.limit)
    }
    fn query_base(&self) -> String {
        format!(
            "q={}&location_id={}&status={}&priority={}",
            crate::extract::urlencode(&self.q),
            crate::extract::urlencode(&self.location_id),
            crate::extract::urlencode(&self.status),
            crate::extract::urlencode(&self.priority)
        )
    }
}

/// Sites where the actor may do something with work orders, `(id, label)`.
async fn sites(state: &AppState, actor: &Actor, perms: &[&str]) -> Vec<(String, String)> {
    let locale = crate::i18n::normalise(&actor.locale);
    super::inventory::sites_where(state, actor, None, |path| {
        perms.iter().any(|p| actor.allows(p, path))
    })
    .await
    .into_iter()
    .map(|n| (n.id.clone(), format!("{} {}", n.code, n.name(locale))))
    .collect()
}

const SEE: [&str; 3] = [
    perm::MAINTENANCE_READ,
    perm::MAINTENANCE_REQUEST,
    perm::MAINTENANCE_DISPATCH,
];

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ListQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let mut ui = ui(&state, scope.clone(), &ctx.actor, "work_orders", "wo.title").await;
    let f = WoFilter {
        q: Some(q.q.clone()),
        location_id: Some(q.location_id.clone()),
        under: scope.filter(|s| !s.is_empty()),
        status: Some(q.status.clone()),
        priority: Some(q.priority.clone()),
        limit: Some(PAGE),
        offset: Some(q.offset.max(0)),
        ..Default::default()
    };
    let page = match workorder::list(&state.platform, &ctx.actor, &f).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    if q.created.is_some() {
        ui.flash = Some(ui.t("wo.created"));
    }
    let mut statuses = vec![
        ("active".to_string(), ui.t("wo.status.active")),
        ("all".to_string(), ui.t("common.all")),
    ];
    statuses.extend(labelled(&ui, "wo.status", STATUSES));
    render(ListPage {
        rows: page.items.into_iter().map(|w| view(&ui, w)).collect(),
        sites: sites(&state, &ctx.actor, &SEE).await,
        priorities: labelled(&ui, "wo.priority", PRIORITIES),
        statuses,
        can_report: ctx.actor.has_anywhere(perm::MAINTENANCE_REQUEST),
        can_dispatch: ctx.actor.has_anywhere(perm::MAINTENANCE_DISPATCH),
        ui,
        q: q.q,
        location_id: q.location_id,
        status: if q.status.is_empty() {
            "active".into()
        } else {
            q.status
        },
        priority: q.priority,
        total: page.total,
        offset: page.offset,
        limit: page.limit,
    })
}

// ---------------------------------------------------------------- reporting a fault

#[derive(Debug, Default, Clone)]
pub struct ReportForm {
    pub asset_id: String,
    pub location_id: String,
    pub fault_code: String,
    pub priority: String,
    pub title: String,
    pub description: String,
    pub not_duplicate: bool,
}

#[derive(askama::Template)]
#[template(path = "maintenance/work_order_form.html")]
struct ReportPage {
    ui: Ui,
    form: ReportForm,
    errors: FormErrors,
    assets: Vec<(String, String)>,
    sites: Vec<(String, String)>,
    faults: Vec<(String, String)>,
    priorities: Vec<(String, String)>,
    /// An open work order for the same fault on the asset, offered instead.
    duplicate: Option<(String, String)>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    pub asset_id: String,
}

async fn report_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: ReportForm,
    errors: FormErrors,
    duplicate: Option<(String, String)>,
) -> ReportPage {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "work_orders",
        "wo.new",
    )
    .await;
    let sites = sites(
        state,
        &ctx.actor,
        &[perm::MAINTENANCE_REQUEST, perm::MAINTENANCE_DISPATCH],
    )
    .await;
    let site_ids: Vec<&String> = sites.iter().map(|s| &s.0).collect();
    let assets = boh_maintenance::asset::list(
        &state.platform,
        &Actor::system(),
        &boh_maintenance::asset::AssetFilter {
            limit: Some(500),
            location_id: (site_ids.len() == 1).then(|| site_ids[0].clone()),
            ..Default::default()
        },
    )
    .await
    .map(|pg| {
        pg.items
            .into_iter()
            .filter(|a| site_ids.contains(&&a.location_id))
            .map(|a| (a.id, format!("{} · {} {}", a.location_code, a.code, a.name)))
            .collect()
    })
    .unwrap_or_default();
    ReportPage {
        faults: labelled(&ui, "wo.fault", FAULT_CODES),
        priorities: labelled(&ui, "wo.priority", PRIORITIES),
        ui,
        form,
        errors,
        assets,
        sites,
        duplicate,
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<NewQuery>,
) -> Response {
    let form = ReportForm {
        asset_id: q.asset_id,
        fault_code: "not_working".into(),
        ..Default::default()
    };
    render(report_page(&state, &parts, &ctx, form, FormErrors::default(), None).await)
}

pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let fields = match super::multipart_form(&state, &headers, body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let get = |n: &str| {
        fields
            .iter()
            .find(|p| p.name == n && p.file_name.is_none())
            .map(|p| p.text())
            .unwrap_or_default()
    };
    let form = ReportForm {
        asset_id: get("asset_id"),
        location_id: get("location_id"),
        fault_code: get("fault_code"),
        priority: get("priority"),
        title: get("title"),
        description: get("description"),
        not_duplicate: get("not_duplicate") == "1",
    };
    let photos = crate::api::maintenance_wo::uploads(&fields, "photos");
    let mut check = Vec::new();
    workorder::check_photos("photos", &photos, &mut check);
    let o = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
    // Without a title, the asset and the fault in the reporter's language.
    let title = match o(&form.title) {
        Some(t) => Some(t),
        None if FAULT_CODES.contains(&form.fault_code.as_str()) => {
            let fault = crate::i18n::t(&ctx.actor.locale, &format!("wo.fault.{}", form.fault_code));
            match boh_maintenance::asset::get(&state.platform, &Actor::system(), &form.asset_id)
                .await
            {
                Ok(a) => Some(format!("{}: {fault}", a.name)),
                Err(_) => Some(fault),
            }
        }
        None => None,
    };
    let result = if check.is_empty() {
        workorder::create(
            &state.platform,
            &ctx,
            &WorkOrderInput {
                asset_id: o(&form.asset_id),
                location_id: o(&form.location_id),
                title,
                description: o(&form.description),
                fault_code: form.fault_code.clone(),
                priority: o(&form.priority),
                not_duplicate: form.not_duplicate,
                parts_needed: None,
            },
            "web",
        )
        .await
    } else {
        Err(PlatformError::Validation(check))
    };
    match result {
        Ok(w) => {
            if !photos.iter().all(|p| p.data.is_empty())
                && let Err(e) = workorder::add_photos(&state.platform, &ctx, &w.id, &photos).await
            {
                return error_page(e);
            }
            Redirect::to(&format!("/maintenance/work-orders/{}?created=1", w.id)).into_response()
        }
        Err(PlatformError::Refused {
            code: "possible_duplicate",
            message,
            ..
        }) => {
            let existing = workorder::open_on(
                state.platform.db.pool(),
                &form.asset_id,
                Some(&form.fault_code),
            )
            .await
            .ok()
            .and_then(|v| v.into_iter().next())
            .map(|w| (w.id, format!("{} · {}", w.number, w.title)));
            let errors = FormErrors {
                general: Some(message),
                fields: Vec::new(),
            };
            (
                StatusCode::CONFLICT,
                render(report_page(&state, &parts, &ctx, form, errors, existing).await),
            )
                .into_response()
        }
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(report_page(&state, &parts, &ctx, form, errors, None).await),
            )
                .into_response(),
            Err(r) => r,
        },
    }
}

// ---------------------------------------------------------------- a work order's page

#[derive(askama::Template)]
#[template(path = "maintenance/work_order.html")]
struct DetailPage {
    ui: Ui,
    v: WoView,
    d: WorkOrderDetail,
    techs: Vec<(String, String)>,
    can_dispatch: bool,
    can_work: bool,
    can_rate: bool,
    error: Option<String>,
    /// The most similar past fixes (same model first, then the same category).
    similar: Vec<boh_maintenance::knowledge::Fix>,
}

impl DetailPage {
    fn short(&self, t: &str) -> String {
        short(t)
    }
    fn kind(&self, k: &str) -> String {
        self.ui.t(&format!("wo.event.{k}"))
    }
    fn money(&self, v: impl std::borrow::Borrow<i64>) -> String {
        money(*v.borrow())
    }
    fn minutes(&self, m: impl std::borrow::Borrow<i64>) -> String {
        minutes(*m.borrow())
    }
    fn code(&self, prefix: &str, c: &Option<String>) -> String {
        match c {
            Some(c) => self.ui.t(&format!("{prefix}.{c}")),
            None => "—".into(),
        }
    }
    fn label(&self, prefix: &str, c: &str) -> String {
        self.ui.t(&format!("{prefix}.{c}"))
    }
    /// The work order's status is one of these (space-separated).
    fn status_in(&self, statuses: &str) -> bool {
        statuses.split(' ').any(|s| s == self.d.work_order.status)
    }
    fn assigned_to(&self, id: &str) -> bool {
        self.d.work_order.technician_id.as_deref() == Some(id)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    pub created: Option<String>,
    pub saved: Option<String>,
}

async fn detail_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    error: Option<String>,
) -> Result<DetailPage, Response> {
    let p = &state.platform;
    let d = workorder::detail(p, &ctx.actor, id)
        .await
        .map_err(error_page)?;
    let l = workorder::get(p, &ctx.actor, id)
        .await
        .map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "work_orders",
        "wo.title",
    )
    .await;
    let can_dispatch = ctx.actor.allows(perm::MAINTENANCE_DISPATCH, &l.path);
    let techs = if can_dispatch {
        technician::list(p, &ctx.actor)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|t| t.status == "active")
            .map(|t| (t.id, format!("{} · {} ({})", t.code, t.name, t.open_jobs)))
            .collect()
    } else {
        Vec::new()
    };
    let can_work = l.technician_user_id.as_deref() == Some(ctx.actor.user_id.as_str());
    let can_rate = d.work_order.status == "done"
        && (d.work_order.requester_id.as_deref() == Some(ctx.actor.user_id.as_str())
            || ctx.actor.allows(perm::MAINTENANCE_REQUEST, &l.path));
    let similar = if workorder::OPEN_STATUSES.contains(&d.work_order.status.as_str()) {
        boh_maintenance::knowledge::similar(p, &ctx.actor, id, Some(5))
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(DetailPage {
        similar,
        v: view(&ui, d.work_order.clone()),
        ui,
        d,
        techs,
        can_dispatch,
        can_work,
        can_rate,
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
        Ok(mut page) => {
            if q.created.is_some() {
                page.ui.flash = Some(page.ui.t("wo.created"));
            } else if q.saved.is_some() {
                page.ui.flash = Some(page.ui.t("wo.saved"));
            }
            render(page)
        }
        Err(r) => r,
    }
}

/// The text of a refusal shown on a page (field errors in the user's language, `field:`
/// first when `named`); none for errors that get the error page.
fn refusal_text(e: &PlatformError, locale: &str, named: bool) -> Option<String> {
    Some(match e {
        PlatformError::Validation(fields) => fields
            .iter()
            .map(|f| {
                let m = crate::i18n::field_message(locale, &f.message);
                if named {
                    format!("{}: {m}", f.field)
                } else {
                    m
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        PlatformError::Refused { message, .. } | PlatformError::Conflict { message, .. } => {
            message.clone()
        }
        PlatformError::Forbidden(_) => crate::i18n::t(locale, "common.forbidden"),
        _ => return None,
    })
}

/// After a refused action: the work order's page with the message, or the error page.
async fn refused(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    e: PlatformError,
) -> Response {
    let Some(msg) = refusal_text(&e, &ctx.actor.locale, true) else {
        return error_page(e);
    };
    match detail_page(state, parts, ctx, id, Some(msg)).await {
        Ok(page) => (crate::error::status_of(&e), render(page)).into_response(),
        Err(r) => r,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct AssignForm {
    #[serde(default)]
    pub technician_id: String,
    #[serde(default)]
    pub note: String,
}

pub async fn assign(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<AssignForm>,
) -> Response {
    let note = Some(f.note.as_str()).filter(|s| !s.trim().is_empty());
    match workorder::assign(&state.platform, &ctx, &id, &f.technician_id, note).await {
        Ok(_) => Redirect::to(&format!("/maintenance/work-orders/{id}?saved=1")).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    pub note: String,
}

pub async fn close(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Response {
    match workorder::close_or_cancel(&state.platform, &ctx, &id, false, Some(&f.note)).await {
        Ok(_) => Redirect::to(&format!("/maintenance/work-orders/{id}?saved=1")).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

pub async fn cancel(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Response {
    match workorder::close_or_cancel(&state.platform, &ctx, &id, true, Some(&f.note)).await {
        Ok(_) => Redirect::to(&format!("/maintenance/work-orders/{id}?saved=1")).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

pub async fn note(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<NoteForm>,
) -> Response {
    match workorder::add_note(&state.platform, &ctx, &id, &f.note).await {
        Ok(()) => Redirect::to(&format!("/maintenance/work-orders/{id}?saved=1")).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RateForm {
    #[serde(default)]
    pub rating: String,
    #[serde(default)]
    pub comment: String,
}

pub async fn rate(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<RateForm>,
) -> Response {
    let rating = f.rating.trim().parse::<i64>().unwrap_or(0);
    match workorder::rate(&state.platform, &ctx, &id, rating, Some(&f.comment)).await {
        Ok(_) => Redirect::to(&format!("/maintenance/work-orders/{id}?saved=1")).into_response(),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

pub async fn attachment(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path((id, att)): Path<(String, String)>,
) -> Response {
    match workorder::attachment(&state.platform, &ctx.actor, &id, &att).await {
        Ok((name, ct, data)) => crate::api::maintenance_wo::file_response(&name, &ct, data),
        Err(e) => error_page(e),
    }
}

// ---------------------------------------------------------------- the dispatch board

#[derive(askama::Template)]
#[template(path = "maintenance/dispatch.html")]
struct DispatchPage {
    ui: Ui,
    plan: DispatchPlan,
    rows: Vec<WoView>,
    error: Option<String>,
}

impl DispatchPage {
    fn tech_label(&self, t: &Technician) -> String {
        format!(
            "{} · {} ({}/{})",
            t.code, t.name, t.open_jobs, t.max_open_jobs
        )
    }
    /// Why the plan suggests what it does, in the page's language.
    fn why(&self, s: &Suggestion) -> String {
        let loc = &self.ui.locale;
        match &s.reasons {
            Some(r) => {
                let mut t = crate::i18n::t_args(
                    loc,
                    "wo.why_assigned",
                    &[
                        ("km", &format!("{:.1}", r.distance_m as f64 / 1000.0)),
                        ("load", &r.load_before.to_string()),
                        ("sla", &minutes(r.sla_minutes)),
                        ("ftf", &format!("{:.0}", r.ftf_permille as f64 / 10.0)),
                        ("category", &self.ui.t(&format!("asset.cat.{}", r.category))),
                    ],
                );
                if let (Some(n), Some(x)) = (&r.runner_up, r.runner_up_extra) {
                    t.push_str(&crate::i18n::t_args(
                        loc,
                        "wo.why_runner_up",
                        &[("name", n), ("extra", &x.to_string())],
                    ));
                }
                t
            }
            None if s.qualified_count == 0 => self.ui.t("wo.why_nobody"),
            None => crate::i18n::t_args(
                loc,
                "wo.why_outweighed",
                &[("n", &s.qualified_count.to_string())],
            ),
        }
    }
    fn solve_ms(&self) -> String {
        format!("{:.1}", self.plan.solve_ms)
    }
    fn qualifies(&self, s: &Suggestion, id: &str) -> bool {
        s.qualified.iter().any(|q| q == id)
    }
    fn suggested(&self, s: &Suggestion, id: &str) -> bool {
        s.technician_id.as_deref() == Some(id)
    }
    fn saving(&self) -> String {
        let (o, g) = (self.plan.optimal_cost, self.plan.greedy_cost);
        if g > 0 && o <= g {
            format!("{:.0} %", (g - o) as f64 * 100.0 / g as f64)
        } else {
            "0 %".into()
        }
    }
}

async fn dispatch_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    error: Option<String>,
) -> Response {
    let scope = scope_cookie(parts);
    let ui = ui(state, scope.clone(), &ctx.actor, "dispatch", "wo.dispatch").await;
    let plan = match technician::plan(
        &state.platform,
        &ctx.actor,
        scope.as_deref().filter(|s| !s.is_empty()),
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let rows = plan
        .suggestions
        .iter()
        .map(|s| view(&ui, s.work_order.clone()))
        .collect();
    render(DispatchPage {
        ui,
        plan,
        rows,
        error,
    })
}

pub async fn dispatch(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    dispatch_page(&state, &parts, &ctx, None).await
}

/// The board's form: `wo` (work order ids), `tech_{id}` (the chosen technician, empty to
/// skip) and `why_{id}` (the suggestion's reasons).
pub async fn dispatch_apply(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let get = |k: &str| {
        form.iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let rows: Vec<ApplyRow> = form
        .iter()
        .filter(|(n, _)| n == "wo")
        .filter_map(|(_, id)| {
            let t = get(&format!("tech_{id}"));
            if t.is_empty() {
                return None;
            }
            let suggested = get(&format!("suggested_{id}"));
            let why = get(&format!("why_{id}"));
            let note = if suggested == t {
                why
            } else {
                format!(
                    "override by {} (suggested: {})",
                    ctx.actor.display_name,
                    if suggested.is_empty() {
                        "nobody".into()
                    } else {
                        get(&format!("suggested_name_{id}"))
                    }
                )
            };
            Some(ApplyRow {
                work_order_id: id.clone(),
                technician_id: t,
                note: Some(note),
            })
        })
        .collect();
    match technician::apply(&state.platform, &ctx, &rows).await {
        Ok(done) => {
            let mut to = "/maintenance/dispatch?applied=".to_string();
            to.push_str(&done.len().to_string());
            Redirect::to(&to).into_response()
        }
        Err(e @ PlatformError::Validation(_)) => {
            let msg = refusal_text(&e, &ctx.actor.locale, true);
            let mut r = dispatch_page(&state, &parts, &ctx, msg).await;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(e) => error_page(e),
    }
}

// ---------------------------------------------------------------- the technician's view

#[derive(askama::Template)]
#[template(path = "maintenance/jobs.html")]
struct JobsPage {
    ui: Ui,
    rows: Vec<WoView>,
    technician_id: Option<String>,
}

pub async fn jobs(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "jobs",
        "wo.my_jobs",
    )
    .await;
    let page = match workorder::list(
        &state.platform,
        &ctx.actor,
        &WoFilter {
            mine: Some(true),
            limit: Some(100),
            ..Default::default()
        },
    )
    .await
    {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let technician_id = workorder::technician_of(&state.platform, &ctx.actor.user_id)
        .await
        .ok()
        .flatten();
    render(JobsPage {
        rows: page.items.into_iter().map(|w| view(&ui, w)).collect(),
        ui,
        technician_id,
    })
}

#[derive(askama::Template)]
#[template(path = "maintenance/job.html")]
struct JobPage {
    ui: Ui,
    v: WoView,
    d: WorkOrderDetail,
    parts: Vec<(String, String)>,
    part_sites: Vec<(String, String)>,
    causes: Vec<(String, String)>,
    remedies: Vec<(String, String)>,
    pauses: Vec<(String, String)>,
    error: Option<String>,
}

impl JobPage {
    fn short(&self, t: &str) -> String {
        short(t)
    }
    fn kind(&self, k: &str) -> String {
        self.ui.t(&format!("wo.event.{k}"))
    }
    fn money(&self, v: impl std::borrow::Borrow<i64>) -> String {
        money(*v.borrow())
    }
    fn takes_parts(&self) -> bool {
        [
            "assigned",
            "accepted",
            "travelling",
            "in_progress",
            "paused",
        ]
        .contains(&self.d.work_order.status.as_str())
    }
    /// The steps open from the current status: `(action, label key, primary)`.
    fn steps(&self) -> Vec<(&'static str, &'static str, bool)> {
        match self.d.work_order.status.as_str() {
            "assigned" => vec![
                ("accept", "wo.step.accept", true),
                ("travel", "wo.step.travel", false),
                ("start", "wo.step.start", false),
            ],
            "accepted" => vec![
                ("travel", "wo.step.travel", true),
                ("start", "wo.step.start", false),
            ],
            "travelling" => vec![("start", "wo.step.start", true)],
            "paused" => vec![("resume", "wo.step.resume", true)],
            _ => Vec::new(),
        }
    }
}

async fn job_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    error: Option<String>,
) -> Result<JobPage, Response> {
    let p = &state.platform;
    let d = workorder::detail(p, &ctx.actor, id)
        .await
        .map_err(error_page)?;
    let ui = ui(state, scope_cookie(parts), &ctx.actor, "jobs", "wo.job").await;
    let zh = ui.is_zh();
    let part_items = boh_inventory::catalog::list_items(
        p,
        &Actor::system(),
        &boh_inventory::catalog::ItemFilter {
            kind: Some("part".into()),
            limit: Some(500),
            company_id: Some(d.work_order.company_id.clone()),
            ..Default::default()
        },
    )
    .await
    .map(|(items, _)| {
        items
            .into_iter()
            .map(|i| {
                let name = if zh { i.name_zh } else { i.name_en };
                (
                    i.code.clone(),
                    format!("{} · {name} ({})", i.code, i.base_unit),
                )
            })
            .collect()
    })
    .unwrap_or_default();
    let mut part_sites = vec![(
        d.work_order.location_id.clone(),
        format!(
            "{} {}",
            d.work_order.location_code, d.work_order.location_name
        ),
    )];
    if let Some(tid) = &d.work_order.technician_id
        && let Ok(Some(t)) = technician::fetch(p, tid).await
        && let Some(van) = t.van_location_id
        && let Ok(Some(n)) = boh_platform::org::fetch(p, &van).await
    {
        part_sites.push((van, format!("{} {}", n.code, n.name(&ui.locale))));
    }
    Ok(JobPage {
        v: view(&ui, d.work_order.clone()),
        causes: labelled(&ui, "wo.cause", CAUSE_CODES),
        remedies: labelled(&ui, "wo.remedy", REMEDY_CODES),
        pauses: labelled(&ui, "wo.pause", PAUSE_REASONS),
        ui,
        d,
        parts: part_items,
        part_sites,
        error,
    })
}

pub async fn job(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match job_page(&state, &parts, &ctx, &id, None).await {
        Ok(p) => render(p),
        Err(r) => r,
    }
}

async fn job_refused(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    e: PlatformError,
) -> Response {
    let Some(msg) = refusal_text(&e, &ctx.actor.locale, false) else {
        return error_page(e);
    };
    match job_page(state, parts, ctx, id, Some(msg)).await {
        Ok(page) => (crate::error::status_of(&e), render(page)).into_response(),
        Err(r) => r,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct StepForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub pause_reason: String,
    #[serde(default)]
    pub cause_code: String,
    #[serde(default)]
    pub remedy_code: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub signed_by: String,
    #[serde(default)]
    pub signature_png: String,
}

pub async fn job_step(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<StepForm>,
) -> Response {
    let o = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let input = StepInput {
        action: f.action.clone(),
        pause_reason: o(&f.pause_reason),
        cause_code: o(&f.cause_code),
        remedy_code: o(&f.remedy_code),
        note: o(&f.note),
        signed_by: o(&f.signed_by),
        signature_png: o(&f.signature_png),
        version: None,
    };
    match workorder::step(&state.platform, &ctx, &id, &input).await {
        Ok(_) => Redirect::to(&format!("/maintenance/jobs/{id}")).into_response(),
        Err(e) => job_refused(&state, &parts, &ctx, &id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TickForm {
    #[serde(default)]
    pub seq: i64,
    #[serde(default)]
    pub done: String,
}

pub async fn job_tick(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<TickForm>,
) -> Response {
    match workorder::tick(&state.platform, &ctx, &id, f.seq, f.done == "1").await {
        Ok(()) => Redirect::to(&format!("/maintenance/jobs/{id}#checklist")).into_response(),
        Err(e) => job_refused(&state, &parts, &ctx, &id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PartForm {
    #[serde(default)]
    pub item_code: String,
    #[serde(default)]
    pub qty: String,
    #[serde(default)]
    pub location_id: String,
}

pub async fn job_part(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<PartForm>,
) -> Response {
    let qty = match Qty::parse(f.qty.trim()) {
        Ok(q) => q,
        Err(e) => {
            return job_refused(
                &state,
                &parts,
                &ctx,
                &id,
                PlatformError::invalid("qty", e.to_string()),
            )
            .await;
        }
    };
    let input = PartInput {
        item_id: None,
        item_code: Some(f.item_code.clone()),
        qty,
        location_id: Some(f.location_id.clone()).filter(|s| !s.is_empty()),
    };
    match workorder::add_part(&state.platform, &ctx, &id, &input).await {
        Ok(_) => Redirect::to(&format!("/maintenance/jobs/{id}#parts")).into_response(),
        Err(e) => job_refused(&state, &parts, &ctx, &id, e).await,
    }
}

pub async fn job_photos(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    match upload_photos(&state, &ctx, &id, &headers, body).await {
        Ok(Ok(())) => Redirect::to(&format!("/maintenance/jobs/{id}#photos")).into_response(),
        Ok(Err(e)) => job_refused(&state, &parts, &ctx, &id, e).await,
        Err(r) => r,
    }
}

/// The `photos` of a multipart form attached to the work order: the outcome, or the response
/// for a body that is not a readable upload.
async fn upload_photos(
    state: &AppState,
    ctx: &Ctx,
    id: &str,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Result<Result<(), PlatformError>, Response> {
    let fields = super::multipart_form(state, headers, body).await?;
    let photos = crate::api::maintenance_wo::uploads(&fields, "photos");
    Ok(workorder::add_photos(&state.platform, ctx, id, &photos)
        .await
        .map(|_| ()))
}

/// Photos added on the work order's page (the requester, a dispatcher or the technician).
pub async fn photos(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    match upload_photos(&state, &ctx, &id, &headers, body).await {
        Ok(Ok(())) => {
            Redirect::to(&format!("/maintenance/work-orders/{id}?saved=1")).into_response()
        }
        Ok(Err(e)) => refused(&state, &parts, &ctx, &id, e).await,
        Err(r) => r,
    }
}
