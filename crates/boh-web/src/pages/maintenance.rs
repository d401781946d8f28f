//! Maintenance pages: the asset list (filters, paging, phone-friendly), an asset's page
//! (details, hierarchy, sub-assets, meters, QR label with a print link), and the new / edit
//! form; on the asset page its PM schedules, predictive rules and recent readings with forms to
//! add a schedule and a rule. Pages and API call the same `boh_maintenance` functions.

use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_kernel::{Actor, perm};
use boh_maintenance::asset::{
    self, Asset, AssetDetail, AssetFilter, AssetInput, AssetPatch, CATEGORIES, CRITICALITIES,
    MeterInput,
};
use boh_maintenance::pm::{self, ChecklistLine, PmInput, PmPatch, PmSchedule};
use boh_maintenance::predictive::{self, Reading, Rule, RuleInput};
use boh_platform::{Ctx, FieldError, PlatformError};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

const PAGE: i64 = 25;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/maintenance/assets", get(list).post(create))
        .route("/maintenance/assets/new", get(new_form))
        .route("/maintenance/assets/{id}", get(detail))
        .route("/maintenance/assets/{id}/edit", get(edit_form).post(update))
        .route("/maintenance/assets/{id}/retire", post(retire))
        .route("/maintenance/assets/{id}/meters", post(add_meter))
        .route(
            "/maintenance/assets/{id}/meters/{meter_id}/remove",
            post(remove_meter),
        )
        .route("/maintenance/assets/{id}/label.svg", get(label))
        .route("/maintenance/assets/{id}/files", post(add_files))
        .route("/maintenance/assets/{id}/files/{file_id}", get(file))
        .route(
            "/maintenance/assets/{id}/files/{file_id}/remove",
            post(remove_file),
        )
        .route("/maintenance/assets/{id}/pm-schedules", post(add_schedule))
        .route(
            "/maintenance/assets/{id}/pm-schedules/{schedule_id}/deactivate",
            post(deactivate_schedule),
        )
        .route("/maintenance/assets/{id}/rules", post(add_rule))
        .route(
            "/maintenance/assets/{id}/rules/{rule_id}/delete",
            post(delete_rule),
        )
}

/// Who sees the Assets entry of the navigation.
pub fn may_see(actor: &Actor) -> bool {
    actor.has_anywhere(perm::MAINTENANCE_ASSET_READ) || actor.has_anywhere(perm::MAINTENANCE_ASSET)
}

/// `(value, label)` of the categories in the UI's language.
fn categories(ui: &Ui) -> Vec<(String, String)> {
    CATEGORIES
        .iter()
        .map(|c| (c.to_string(), ui.t(&format!("asset.cat.{c}"))))
        .collect()
}

fn criticalities(ui: &Ui) -> Vec<(String, String)> {
    CRITICALITIES
        .iter()
        .map(|c| (c.to_string(), ui.t(&format!("asset.crit.{c}"))))
        .collect()
}

/// The sites the actor may see (`manage_only`: may register assets at), as `(id, label)`.
async fn sites(state: &AppState, actor: &Actor, manage_only: bool) -> Vec<(String, String)> {
    let locale = crate::i18n::normalise(&actor.locale);
    super::inventory::sites_where(state, actor, None, |path| {
        if manage_only {
            actor.allows(perm::MAINTENANCE_ASSET, path)
        } else {
            asset::may_read(actor, path)
        }
    })
    .await
    .into_iter()
    .map(|n| (n.id.clone(), format!("{} {}", n.code, n.name(locale))))
    .collect()
}

// ---------------------------------------------------------------- the list

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub category: String,
    /// active (default), retired or all
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub offset: i64,
}

pub struct Row {
    pub a: Asset,
    pub category: String,
    pub criticality: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/assets.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<Row>,
    q: String,
    location_id: String,
    category: String,
    status: String,
    sites: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    total: i64,
    offset: i64,
    limit: i64,
    can_create: bool,
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
            "q={}&location_id={}&category={}&status={}",
            crate::extract::urlencode(&self.q),
            crate::extract::urlencode(&self.location_id),
            crate::extract::urlencode(&self.category),
            crate::extract::urlencode(&self.status)
        )
    }
    fn filtered(&self) -> bool {
        !self.q.is_empty()
            || !self.location_id.is_empty()
            || !self.category.is_empty()
            || self.status != "active"
    }
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ListQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(&state, scope.clone(), &ctx.actor, "assets", "asset.title").await;
    let status = if q.status.is_empty() {
        "active".to_string()
    } else {
        q.status.clone()
    };
    let f = AssetFilter {
        location_id: Some(q.location_id.clone()),
        under: scope,
        category: Some(q.category.clone()),
        status: Some(status.clone()),
        q: Some(q.q.clone()),
        limit: Some(PAGE),
        offset: Some(q.offset),
    };
    let page = match asset::list(&state.platform, &ctx.actor, &f).await {
        Ok(p) => p,
        Err(e) => return error_page(e),
    };
    let rows = page
        .items
        .into_iter()
        .map(|a| Row {
            category: ui.t(&format!("asset.cat.{}", a.category)),
            criticality: ui.t(&format!("asset.crit.{}", a.criticality)),
            a,
        })
        .collect();
    render(ListPage {
        can_create: asset::may_manage_somewhere(&ctx.actor),
        sites: sites(&state, &ctx.actor, false).await,
        categories: categories(&ui),
        ui,
        rows,
        q: q.q,
        location_id: q.location_id,
        category: q.category,
        status,
        total: page.total,
        offset: page.offset,
        limit: PAGE,
    })
}

// ---------------------------------------------------------------- the form

/// Values of the asset form, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct AssetForm {
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub make: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub serial: String,
    #[serde(default)]
    pub supplier_id: String,
    #[serde(default)]
    pub install_date: String,
    #[serde(default)]
    pub warranty_end: String,
    #[serde(default)]
    pub criticality: String,
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub version: String,
}

impl AssetForm {
    fn of(a: &Asset) -> AssetForm {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        AssetForm {
            location_id: a.location_id.clone(),
            code: a.code.clone(),
            name: a.name.clone(),
            category: a.category.clone(),
            make: o(&a.make),
            model: o(&a.model),
            serial: o(&a.serial),
            supplier_id: o(&a.supplier_id),
            install_date: o(&a.install_date),
            warranty_end: o(&a.warranty_end),
            criticality: a.criticality.clone(),
            parent_id: o(&a.parent_id),
            note: o(&a.note),
            version: a.version.to_string(),
        }
    }

    /// The text inputs naming the asset: (field, label key, input type, value).
    fn names(&self) -> Vec<(&'static str, &'static str, &'static str, &str)> {
        vec![
            ("code", "common.code", "text", &self.code),
            ("name", "common.name", "text", &self.name),
        ]
    }

    /// The other text inputs: (field, label key, input type, value).
    fn texts(&self) -> Vec<(&'static str, &'static str, &'static str, &str)> {
        vec![
            ("make", "asset.make", "text", &self.make),
            ("model", "asset.model", "text", &self.model),
            ("serial", "asset.serial", "text", &self.serial),
            (
                "install_date",
                "asset.install_date",
                "date",
                &self.install_date,
            ),
            (
                "warranty_end",
                "asset.warranty_end",
                "date",
                &self.warranty_end,
            ),
        ]
    }

    fn input(&self) -> AssetInput {
        let o = |s: &str| Some(s.to_string());
        AssetInput {
            location_id: self.location_id.clone(),
            code: self.code.clone(),
            name: self.name.clone(),
            category: self.category.clone(),
            make: o(&self.make),
            model: o(&self.model),
            serial: o(&self.serial),
            supplier_id: o(&self.supplier_id),
            install_date: o(&self.install_date),
            warranty_end: o(&self.warranty_end),
            criticality: o(&self.criticality),
            parent_id: o(&self.parent_id),
            note: o(&self.note),
        }
    }

    fn patch(&self) -> AssetPatch {
        let o = |s: &str| Some(s.to_string());
        AssetPatch {
            version: self.version.trim().parse().ok(),
            location_id: o(&self.location_id),
            code: o(&self.code),
            name: o(&self.name),
            category: o(&self.category),
            make: o(&self.make),
            model: o(&self.model),
            serial: o(&self.serial),
            supplier_id: o(&self.supplier_id),
            install_date: o(&self.install_date),
            warranty_end: o(&self.warranty_end),
            criticality: o(&self.criticality),
            parent_id: o(&self.parent_id),
            note: o(&self.note),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "maintenance/asset_form.html")]
struct FormPage {
    ui: Ui,
    /// The asset being edited; none for a new one.
    id: Option<String>,
    form: AssetForm,
    errors: FormErrors,
    sites: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    criticalities: Vec<(String, String)>,
    suppliers: Vec<(String, String)>,
    /// Possible parents: active assets in scope, `(id, label)`.
    parents: Vec<(String, String)>,
}

async fn form_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: Option<String>,
    form: AssetForm,
    errors: FormErrors,
) -> FormPage {
    let title = if id.is_some() {
        "asset.edit"
    } else {
        "asset.new"
    };
    let ui = ui(state, scope_cookie(parts), &ctx.actor, "assets", title).await;
    let p = &state.platform;
    let suppliers = boh_inventory::supplier::list_suppliers(
        p,
        &ctx.actor,
        &boh_inventory::supplier::SupplierFilter {
            limit: Some(500),
            ..Default::default()
        },
    )
    .await
    .map(|(s, _)| {
        s.into_iter()
            .map(|s| {
                let label = format!("{} {}", s.code, s.name(&ui.locale));
                (s.id, label)
            })
            .collect()
    })
    .unwrap_or_default();
    let parents = asset::list(
        p,
        &ctx.actor,
        &AssetFilter {
            limit: Some(500),
            ..Default::default()
        },
    )
    .await
    .map(|pg| {
        pg.items
            .into_iter()
            .filter(|a| id.as_deref() != Some(a.id.as_str()))
            .map(|a| (a.id, format!("{} · {} {}", a.location_code, a.code, a.name)))
            .collect()
    })
    .unwrap_or_default();
    let sites = sites(state, &ctx.actor, true).await;
    let mut form = form;
    // A manager of one site registers there.
    if form.location_id.is_empty()
        && let [(only, _)] = sites.as_slice()
    {
        form.location_id = only.clone();
    }
    FormPage {
        sites,
        categories: categories(&ui),
        criticalities: criticalities(&ui),
        ui,
        id,
        form,
        errors,
        suppliers,
        parents,
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let form = AssetForm {
        criticality: "medium".into(),
        category: "fryer".into(),
        ..Default::default()
    };
    render(form_page(&state, &parts, &ctx, None, form, FormErrors::default()).await)
}

/// Re-render a form that failed, or the error page.
async fn refused(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: Option<String>,
    form: AssetForm,
    e: PlatformError,
) -> Response {
    match FormErrors::from_platform(e, &ctx.actor.locale) {
        Ok(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(form_page(state, parts, ctx, id, form, errors).await),
        )
            .into_response(),
        Err(resp) => resp,
    }
}

pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<AssetForm>,
) -> Response {
    match asset::create(&state.platform, &ctx, &form.input()).await {
        Ok(a) => Redirect::to(&format!("/maintenance/assets/{}?created=1", a.id)).into_response(),
        Err(e) => refused(&state, &parts, &ctx, None, form, e).await,
    }
}

pub async fn edit_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    let a = match asset::get(&state.platform, &ctx.actor, &id).await {
        Ok(a) => a,
        Err(e) => return error_page(e),
    };
    render(
        form_page(
            &state,
            &parts,
            &ctx,
            Some(a.id.clone()),
            AssetForm::of(&a),
            FormErrors::default(),
        )
        .await,
    )
}

pub async fn update(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<AssetForm>,
) -> Response {
    match asset::update(&state.platform, &ctx, &id, &form.patch()).await {
        Ok(a) => Redirect::to(&format!("/maintenance/assets/{}?saved=1", a.id)).into_response(),
        Err(e) => refused(&state, &parts, &ctx, Some(id), form, e).await,
    }
}

// ---------------------------------------------------------------- the asset page

#[derive(Debug, Default, Deserialize, Clone)]
pub struct MeterForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub last_value: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    pub created: Option<String>,
    pub saved: Option<String>,
    pub retired: Option<String>,
    pub meter: Option<String>,
    pub pm: Option<String>,
    pub rule: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct PmForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub trigger: String,
    #[serde(default)]
    pub mode: String,
    #[serde(default)]
    pub interval_n: String,
    #[serde(default)]
    pub interval_unit: String,
    #[serde(default)]
    pub meter_code: String,
    #[serde(default)]
    pub meter_every: String,
    #[serde(default)]
    pub lead_days: String,
    #[serde(default)]
    pub lead_units: String,
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub checklist: String,
    #[serde(default)]
    pub checklist_required: Option<String>,
    #[serde(default)]
    pub signature_required: Option<String>,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct RuleForm {
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub meter_code: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub direction: String,
    #[serde(default)]
    pub limit_value: String,
    #[serde(default)]
    pub window_days: String,
    #[serde(default)]
    pub sample_n: String,
    #[serde(default)]
    pub sigmas: String,
}

/// An optional whole number of a form field; a bad one is named.
fn form_int(errors: &mut Vec<FieldError>, field: &str, v: &str) -> Option<i64> {
    match v.trim() {
        "" => None,
        t => match t.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::new(field, "must be a whole number"));
                None
            }
        },
    }
}

fn non_empty(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(askama::Template)]
#[template(path = "maintenance/asset.html")]
struct DetailPage {
    ui: Ui,
    d: AssetDetail,
    site: String,
    category: String,
    criticality: String,
    supplier: String,
    can_edit: bool,
    meter_form: MeterForm,
    meter_errors: FormErrors,
    /// Refusal of a retirement, shown on the page.
    retire_error: Option<String>,
    schedules: Vec<PmSchedule>,
    rules: Vec<Rule>,
    readings: Vec<Reading>,
    can_dispatch: bool,
    pm_form: PmForm,
    pm_errors: FormErrors,
    rule_form: RuleForm,
    rule_errors: FormErrors,
    files: Vec<boh_maintenance::files::AssetFile>,
    /// Open work orders on the asset.
    work_orders: Vec<boh_maintenance::workorder::WoRef>,
    can_report: bool,
}

impl DetailPage {
    fn status_key(&self, s: &str) -> String {
        format!("wo.status.{s}")
    }
    fn cat(&self, c: &str) -> String {
        self.ui.t(&format!("asset.cat.{c}"))
    }
    /// An RFC 3339 instant as `YYYY-MM-DD HH:MM UTC`.
    fn short_time(&self, t: &str) -> String {
        match t.get(..16) {
            Some(head) => format!("{} UTC", head.replace('T', " ")),
            None => t.to_string(),
        }
    }
    fn warranty_label(&self) -> String {
        self.ui.t(&format!("asset.warranty.{}", self.d.warranty))
    }
    /// What triggers a schedule, in words.
    fn pm_trigger(&self, s: &PmSchedule) -> String {
        let mut parts = Vec::new();
        if let (Some(n), Some(u)) = (s.interval_n, s.interval_unit.as_deref()) {
            parts.push(format!(
                "{} {n} {}",
                self.ui.t("pm.every"),
                self.ui.t(&format!("pm.unit.{u}"))
            ));
        }
        if let (Some(e), Some(m)) = (s.meter_every, s.meter_code.as_deref()) {
            parts.push(format!("{} {e} · {m}", self.ui.t("pm.every")));
        }
        format!(
            "{} · {}",
            parts.join(" / "),
            self.ui.t(&format!("pm.mode.{}", s.mode))
        )
    }
    fn pm_due(&self, s: &PmSchedule) -> String {
        let mut parts = Vec::new();
        if let Some(d) = &s.next_due_date {
            parts.push(d.clone());
        }
        if let Some(v) = s.next_due_value {
            parts.push(v.to_string());
        }
        if parts.is_empty() {
            "—".into()
        } else {
            parts.join(" / ")
        }
    }
    /// A rule's condition, in words.
    fn rule_condition(&self, r: &Rule) -> String {
        let kind = self.ui.t(&format!("rule.kind.{}", r.kind));
        match r.kind.as_str() {
            "threshold" => format!(
                "{kind}: {} {}",
                self.ui.t(&format!(
                    "rule.direction.{}",
                    r.direction.as_deref().unwrap_or("above")
                )),
                r.limit_value.unwrap_or(0)
            ),
            "rate" => format!(
                "{kind}: > {} / d · {} d",
                r.limit_value.unwrap_or(0),
                r.window_days.unwrap_or(0)
            ),
            _ => format!(
                "{kind}: > {}σ · n = {}",
                r.sigmas.unwrap_or(0),
                r.sample_n.unwrap_or(0)
            ),
        }
    }
}

async fn detail_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    meter_form: MeterForm,
    meter_errors: FormErrors,
    retire_error: Option<String>,
) -> Result<DetailPage, Response> {
    let p = &state.platform;
    let d = asset::detail(p, &ctx.actor, id).await.map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "assets",
        "asset.title",
    )
    .await;
    let site = boh_platform::org::fetch(p, &d.asset.location_id)
        .await
        .ok()
        .flatten()
        .map(|n| format!("{} {}", n.code, n.name(&ui.locale)))
        .unwrap_or_else(|| d.asset.location_code.clone());
    let supplier = match &d.asset.supplier_id {
        Some(s) => boh_inventory::supplier::fetch_supplier(p, s)
            .await
            .ok()
            .flatten()
            .map(|s| format!("{} {}", s.code, s.name(&ui.locale)))
            .unwrap_or_default(),
        None => String::new(),
    };
    let path = boh_platform::org::fetch(p, &d.asset.location_id)
        .await
        .ok()
        .flatten()
        .map(|n| n.path)
        .unwrap_or_default();
    let schedules = pm::list(
        p,
        &ctx.actor,
        &pm::PmFilter {
            asset_id: Some(d.asset.id.clone()),
            status: Some("all".into()),
            limit: Some(100),
            ..Default::default()
        },
    )
    .await
    .map(|pg| pg.items)
    .unwrap_or_default();
    let rules = predictive::list_rules(
        p,
        &ctx.actor,
        &predictive::RuleFilter {
            asset_id: Some(d.asset.id.clone()),
            limit: Some(100),
            offset: None,
        },
    )
    .await
    .map(|pg| pg.items)
    .unwrap_or_default();
    let readings = predictive::recent_readings(p, &ctx.actor, &d.asset.id, 10)
        .await
        .unwrap_or_default();
    let files = boh_maintenance::files::list(p, &ctx.actor, &d.asset.id)
        .await
        .unwrap_or_default();
    let work_orders = boh_maintenance::workorder::open_on(p.db.pool(), &d.asset.id, None)
        .await
        .unwrap_or_default();
    let can_report = ctx.actor.allows(perm::MAINTENANCE_REQUEST, &path)
        || ctx.actor.allows(perm::MAINTENANCE_DISPATCH, &path);
    Ok(DetailPage {
        files,
        work_orders,
        can_report,
        can_dispatch: ctx.actor.allows(perm::MAINTENANCE_DISPATCH, &path),
        schedules,
        rules,
        readings,
        pm_form: PmForm {
            trigger: "calendar".into(),
            interval_n: "1".into(),
            interval_unit: "month".into(),
            priority: "medium".into(),
            mode: "fixed".into(),
            ..PmForm::default()
        },
        pm_errors: FormErrors::default(),
        rule_form: RuleForm {
            kind: "threshold".into(),
            direction: "above".into(),
            ..RuleForm::default()
        },
        rule_errors: FormErrors::default(),
        can_edit: ctx.actor.allows(perm::MAINTENANCE_ASSET, &path),
        category: ui.t(&format!("asset.cat.{}", d.asset.category)),
        criticality: ui.t(&format!("asset.crit.{}", d.asset.criticality)),
        ui,
        d,
        site,
        supplier,
        meter_form,
        meter_errors,
        retire_error,
    })
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    match detail_page(
        &state,
        &parts,
        &ctx,
        &id,
        MeterForm::default(),
        FormErrors::default(),
        None,
    )
    .await
    {
        Ok(mut page) => {
            let flash = [
                (q.created.is_some(), "asset.created"),
                (q.saved.is_some(), "asset.saved"),
                (q.retired.is_some(), "asset.retired_flash"),
                (q.meter.is_some(), "asset.meter_saved"),
                (q.pm.is_some(), "pm.saved"),
                (q.rule.is_some(), "rule.saved"),
            ]
            .into_iter()
            .find(|(on, _)| *on)
            .map(|(_, k)| page.ui.t(k));
            page.ui.flash = flash;
            render(page)
        }
        Err(r) => r,
    }
}

pub async fn retire(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match asset::retire(&state.platform, &ctx, &id).await {
        Ok(a) => Redirect::to(&format!("/maintenance/assets/{}?retired=1", a.id)).into_response(),
        Err(PlatformError::Refused { code, .. }) => {
            let msg = crate::i18n::t(
                crate::i18n::normalise(&ctx.actor.locale),
                &format!("asset.refused.{code}"),
            );
            match detail_page(
                &state,
                &parts,
                &ctx,
                &id,
                MeterForm::default(),
                FormErrors::default(),
                Some(msg),
            )
            .await
            {
                Ok(page) => (StatusCode::CONFLICT, render(page)).into_response(),
                Err(r) => r,
            }
        }
        Err(e) => error_page(e),
    }
}

pub async fn add_meter(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<MeterForm>,
) -> Response {
    let mut errors = Vec::new();
    let last_value = match form.last_value.trim() {
        "" => None,
        t => match t.parse::<i64>() {
            Ok(v) => Some(v),
            Err(_) => {
                errors.push(FieldError::new("last_value", "must be a whole number"));
                None
            }
        },
    };
    let result = if errors.is_empty() {
        asset::add_meter(
            &state.platform,
            &ctx,
            &id,
            &MeterInput {
                code: form.code.clone(),
                unit: form.unit.clone(),
                last_value,
            },
        )
        .await
    } else {
        Err(PlatformError::Validation(errors))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/maintenance/assets/{id}?meter=1")).into_response(),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => match detail_page(&state, &parts, &ctx, &id, form, errors, None).await {
                Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response(),
                Err(r) => r,
            },
            Err(r) => r,
        },
    }
}

pub async fn remove_meter(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path((id, meter_id)): Path<(String, String)>,
) -> Response {
    match asset::remove_meter(&state.platform, &ctx, &id, &meter_id).await {
        Ok(()) => Redirect::to(&format!("/maintenance/assets/{id}?meter=1")).into_response(),
        Err(e) => error_page(e),
    }
}

/// The label SVG (shown on the asset page and opened to print).
pub async fn label(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match crate::api::maintenance::label(&state, &ctx.actor, &id, &headers).await {
        Ok(svg) => crate::api::maintenance::svg_response(svg),
        Err(e) => error_page(e),
    }
}

// ---------------------------------------------------------------- PM schedules and rules

/// Render the asset page again with a refused form, or answer the error page.
async fn refused_form(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    e: PlatformError,
    set: impl FnOnce(&mut DetailPage, FormErrors),
) -> Response {
    match FormErrors::from_platform(e, &ctx.actor.locale) {
        Ok(errors) => match detail_page(
            state,
            parts,
            ctx,
            id,
            MeterForm::default(),
            FormErrors::default(),
            None,
        )
        .await
        {
            Ok(mut page) => {
                set(&mut page, errors);
                (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response()
            }
            Err(r) => r,
        },
        Err(r) => r,
    }
}

pub async fn add_schedule(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<PmForm>,
) -> Response {
    let mut errors = Vec::new();
    let interval_n = form_int(&mut errors, "interval_n", &form.interval_n);
    let meter_every = form_int(&mut errors, "meter_every", &form.meter_every);
    let lead_days = form_int(&mut errors, "lead_days", &form.lead_days);
    let lead_units = form_int(&mut errors, "lead_units", &form.lead_units);
    let calendar = form.trigger != "meter";
    let metered = form.trigger != "calendar";
    let required = form.checklist_required.is_some();
    let input = PmInput {
        asset_id: id.clone(),
        title: form.title.clone(),
        priority: non_empty(&form.priority),
        checklist: form
            .checklist
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| ChecklistLine {
                label: l.to_string(),
                required,
            })
            .collect(),
        signature_required: form.signature_required.is_some(),
        trigger: form.trigger.clone(),
        mode: non_empty(&form.mode),
        interval_n: interval_n.filter(|_| calendar),
        interval_unit: non_empty(&form.interval_unit).filter(|_| calendar),
        meter_code: non_empty(&form.meter_code).filter(|_| metered),
        meter_every: meter_every.filter(|_| metered),
        lead_days,
        lead_units: lead_units.filter(|_| metered),
        start_date: non_empty(&form.start_date),
        start_value: None,
    };
    let result = if errors.is_empty() {
        pm::create(&state.platform, &ctx, &input).await
    } else {
        Err(PlatformError::Validation(errors))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/maintenance/assets/{id}?pm=1")).into_response(),
        Err(e) => {
            refused_form(&state, &parts, &ctx, &id, e, |page, errors| {
                page.pm_form = form;
                page.pm_errors = errors;
            })
            .await
        }
    }
}

pub async fn deactivate_schedule(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path((id, schedule_id)): Path<(String, String)>,
) -> Response {
    let patch = PmPatch {
        active: Some(false),
        ..PmPatch::default()
    };
    match pm::update(&state.platform, &ctx, &schedule_id, &patch).await {
        Ok(_) => Redirect::to(&format!("/maintenance/assets/{id}?pm=1")).into_response(),
        Err(e) => error_page(e),
    }
}

pub async fn add_rule(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<RuleForm>,
) -> Response {
    let mut errors = Vec::new();
    let limit_value = form_int(&mut errors, "limit_value", &form.limit_value);
    let window_days = form_int(&mut errors, "window_days", &form.window_days);
    let sample_n = form_int(&mut errors, "sample_n", &form.sample_n);
    let sigmas = form_int(&mut errors, "sigmas", &form.sigmas);
    let kind = form.kind.as_str();
    let input = RuleInput {
        asset_id: id.clone(),
        meter_code: form.meter_code.clone(),
        kind: form.kind.clone(),
        direction: non_empty(&form.direction).filter(|_| kind == "threshold"),
        limit_value: limit_value.filter(|_| kind != "drift"),
        window_days: window_days.filter(|_| kind == "rate"),
        sample_n: sample_n.filter(|_| kind == "drift"),
        sigmas: sigmas.filter(|_| kind == "drift"),
        title: non_empty(&form.title),
        priority: None,
        fault_code: None,
    };
    let result = if errors.is_empty() {
        predictive::create_rule(&state.platform, &ctx, &input).await
    } else {
        Err(PlatformError::Validation(errors))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/maintenance/assets/{id}?rule=1")).into_response(),
        Err(e) => {
            refused_form(&state, &parts, &ctx, &id, e, |page, errors| {
                page.rule_form = form;
                page.rule_errors = errors;
            })
            .await
        }
    }
}

pub async fn delete_rule(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path((id, rule_id)): Path<(String, String)>,
) -> Response {
    match predictive::delete_rule(&state.platform, &ctx, &rule_id).await {
        Ok(()) => Redirect::to(&format!("/maintenance/assets/{id}?rule=1")).into_response(),
        Err(e) => error_page(e),
    }
}

/// Documents and photos added on the asset's page.
pub async fn add_files(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let fields = match super::multipart_form(&state, &headers, body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let files = crate::api::maintenance_wo::uploads(&fields, "files");
    match boh_maintenance::files::add(&state.platform, &ctx, &id, &files).await {
        Ok(_) => Redirect::to(&format!("/maintenance/assets/{id}?saved=1#files")).into_response(),
        Err(e) => error_page(e),
    }
}

pub async fn file(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path((id, file_id)): Path<(String, String)>,
) -> Response {
    match boh_maintenance::files::get(&state.platform, &ctx.actor, &id, &file_id).await {
        Ok((name, ct, data)) => crate::api::maintenance_wo::file_response(&name, &ct, data),
        Err(e) => error_page(e),
    }
}

pub async fn remove_file(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path((id, file_id)): Path<(String, String)>,
) -> Response {
    match boh_maintenance::files::remove(&state.platform, &ctx, &id, &file_id).await {
        Ok(()) => Redirect::to(&format!("/maintenance/assets/{id}?saved=1#files")).into_response(),
        Err(e) => error_page(e),
    }
}
