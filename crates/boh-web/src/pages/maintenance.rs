//! Maintenance pages: the asset list (filters, paging, phone-friendly), an asset's page
//! (details, hierarchy, sub-assets, meters, QR label with a print link), and the new / edit
//! form. Pages and API call the same `boh_maintenance::asset` functions.

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
}

impl DetailPage {
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
    Ok(DetailPage {
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
