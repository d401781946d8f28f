//! Store pages: list with search, filters, paging and export (the shared CSV/XLSX writers, in
//! the stores import's columns); create; detail with edit and change history.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use boh_kernel::perm;
use boh_platform::org::{self, NewNode, NodeFilter, NodePatch, OrgNode};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::export::ExportFormat;
use crate::extract::PageActor;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub offset: i64,
}

pub struct Row {
    pub node: OrgNode,
    pub name: String,
    pub state_label: String,
    pub format_label: String,
    pub region: String,
}

#[derive(askama::Template)]
#[template(path = "stores/list.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<Row>,
    q: String,
    state: String,
    states: Vec<(String, String)>,
    total: i64,
    offset: i64,
    limit: i64,
    can_create: bool,
    export_query: String,
}

impl ListPage {
    fn showing(&self) -> String {
        let from = if self.total == 0 { 0 } else { self.offset + 1 };
        let to = (self.offset + self.limit).min(self.total);
        crate::i18n::t_args(
            &self.ui.locale,
            "common.showing",
            &[
                ("from", &from.to_string()),
                ("to", &to.to_string()),
                ("total", &self.total.to_string()),
            ],
        )
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.limit).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + self.limit < self.total).then_some(self.offset + self.limit)
    }
}

const PAGE: i64 = 25;

fn label(ui: &Ui, prefix: &str, v: Option<&str>) -> String {
    match v {
        Some(v) if !v.is_empty() => ui.t(&format!("{prefix}.{v}")),
        _ => "—".into(),
    }
}

async fn region_names(
    state: &AppState,
    actor: &boh_kernel::Actor,
    locale: &str,
) -> std::collections::HashMap<String, String> {
    let f = NodeFilter {
        kind: Some("region,company".into()),
        limit: Some(500),
        ..Default::default()
    };
    org::list(&state.platform, actor, &f)
        .await
        .map(|(ns, _)| {
            ns.into_iter()
                .map(|n| (n.id.clone(), n.name(locale).to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn filter_of(q: &ListQuery, scope: Option<String>, limit: i64) -> NodeFilter {
    NodeFilter {
        kind: Some("store".into()),
        state: Some(q.state.clone()).filter(|s| !s.is_empty()),
        under: scope,
        q: Some(q.q.clone()),
        limit: Some(limit),
        offset: Some(q.offset),
    }
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ListQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(&state, scope.clone(), &ctx.actor, "stores", "store.title").await;
    let (nodes, total) =
        match org::list(&state.platform, &ctx.actor, &filter_of(&q, scope, PAGE)).await {
            Ok(v) => v,
            Err(e) => return error_page(e),
        };
    let regions = region_names(&state, &ctx.actor, &ui.locale).await;
    let rows = nodes
        .into_iter()
        .map(|n| Row {
            name: n.name(&ui.locale).to_string(),
            state_label: label(&ui, "state", n.lifecycle_state.as_deref()),
            format_label: label(&ui, "format", n.format.as_deref()),
            region: n
                .parent_id
                .as_ref()
                .and_then(|p| regions.get(p))
                .cloned()
                .unwrap_or_else(|| "—".into()),
            node: n,
        })
        .collect();
    let states = org::LIFECYCLE
        .iter()
        .map(|s| (s.to_string(), ui.t(&format!("state.{s}"))))
        .collect();
    let export_query = format!(
        "q={}&state={}",
        crate::extract::urlencode(&q.q),
        crate::extract::urlencode(&q.state)
    );
    render(ListPage {
        can_create: ctx.actor.has_anywhere(perm::ORG_CREATE),
        ui,
        rows,
        q: q.q,
        state: q.state,
        states,
        total,
        offset: q.offset.max(0),
        limit: PAGE,
        export_query,
    })
}

/// `/stores/export.csv` and `/stores/export.xlsx`: the stores the list shows (search, state
/// and scope filters), in the columns the stores import reads.
pub async fn export(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    format: ExportFormat,
    Query(q): Query<ListQuery>,
) -> Response {
    let filter = filter_of(&q, scope_cookie(&parts), 500);
    match boh_platform::org_import::export(&state.platform, &ctx.actor, &filter).await {
        Ok(sheet) => crate::export::respond(format, "stores", &sheet),
        Err(e) => error_page(e),
    }
}

/// Values of the store form, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct StoreForm {
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub sales_area_m2: String,
    #[serde(default)]
    pub opening_date: String,
    #[serde(default)]
    pub lifecycle_state: String,
    #[serde(default)]
    pub latitude: String,
    #[serde(default)]
    pub longitude: String,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub version: String,
}

#[derive(askama::Template)]
#[template(path = "stores/form.html")]
struct FormPage {
    ui: Ui,
    form: StoreForm,
    errors: FormErrors,
    parents: Vec<(String, String)>,
    formats: Vec<(String, String)>,
    states: Vec<(String, String)>,
    action: String,
    is_new: bool,
    node: Option<OrgNode>,
    history: Vec<boh_platform::audit::AuditRow>,
    can_edit: bool,
}

impl FormPage {
    fn value(&self, field: &str) -> &str {
        let f = &self.form;
        match field {
            "code" => &f.code,
            "name_zh" => &f.name_zh,
            "name_en" => &f.name_en,
            "sales_area_m2" => &f.sales_area_m2,
            "opening_date" => &f.opening_date,
            "latitude" => &f.latitude,
            "longitude" => &f.longitude,
            "timezone" => &f.timezone,
            _ => "",
        }
    }
}

async fn form_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    form: StoreForm,
    errors: FormErrors,
    node: Option<OrgNode>,
) -> FormPage {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "stores",
        if node.is_some() {
            "store.title"
        } else {
            "store.new"
        },
    )
    .await;
    let f = NodeFilter {
        kind: Some("company,region".into()),
        limit: Some(500),
        ..Default::default()
    };
    let creatable: Vec<OrgNode> = org::list(&state.platform, &ctx.actor, &f)
        .await
        .map(|(ns, _)| {
            ns.into_iter()
                .filter(|n| ctx.actor.allows(perm::ORG_CREATE, &n.path))
                .collect()
        })
        .unwrap_or_default();
    // A new store goes under a region by default, not straight under the company.
    let mut form = form;
    if form.parent_id.is_empty()
        && let Some(r) = creatable
            .iter()
            .find(|n| n.kind == "region")
            .or(creatable.first())
    {
        form.parent_id = r.id.clone();
    }
    let parents: Vec<(String, String)> = creatable
        .iter()
        .map(|n| (n.id.clone(), format!("{} · {}", n.code, n.name(&ui.locale))))
        .collect();
    let formats = org::FORMATS
        .iter()
        .map(|s| (s.to_string(), ui.t(&format!("format.{s}"))))
        .collect();
    let states = org::LIFECYCLE
        .iter()
        .map(|s| (s.to_string(), ui.t(&format!("state.{s}"))))
        .collect();
    let history = match &node {
        Some(n) if ctx.actor.allows(perm::AUDIT_READ, &n.path) => {
            let f = boh_platform::audit::ListFilter {
                entity_type: Some("org_node".into()),
                entity_id: Some(n.id.clone()),
                limit: 20,
                ..Default::default()
            };
            boh_platform::audit::list(&state.platform.db, &ctx.actor, &f)
                .await
                .map(|(r, _)| r)
                .unwrap_or_default()
        }
        _ => Vec::new(),
    };
    let can_edit = match &node {
        Some(n) => ctx.actor.allows(perm::ORG_UPDATE, &n.path),
        None => true,
    };
    FormPage {
        ui,
        action: node
            .as_ref()
            .map(|n| format!("/stores/{}", n.id))
            .unwrap_or_else(|| "/stores".into()),
        is_new: node.is_none(),
        form,
        errors,
        parents,
        formats,
        states,
        node,
        history,
        can_edit,
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let form = StoreForm {
        lifecycle_state: "candidate".into(),
        timezone: "Asia/Shanghai".into(),
        ..Default::default()
    };
    render(form_page(&state, &parts, &ctx, form, FormErrors::default(), None).await)
}

/// Parse an optional number field, recording an error naming the field.
fn opt_num<T: std::str::FromStr>(
    errors: &mut Vec<boh_platform::FieldError>,
    field: &str,
    v: &str,
) -> Option<T> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(boh_platform::FieldError::new(field, "must be a number"));
            None
        }
    }
}

fn some(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|s| !s.is_empty())
}

pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<StoreForm>,
) -> Response {
    let mut num_errors = Vec::new();
    let input = NewNode {
        parent_id: some(&form.parent_id),
        kind: "store".into(),
        code: form.code.clone(),
        name: None,
        name_zh: some(&form.name_zh),
        name_en: some(&form.name_en),
        format: some(&form.format),
        sales_area_m2: opt_num(&mut num_errors, "sales_area_m2", &form.sales_area_m2),
        opening_date: some(&form.opening_date),
        lifecycle_state: some(&form.lifecycle_state),
        latitude: opt_num(&mut num_errors, "latitude", &form.latitude),
        longitude: opt_num(&mut num_errors, "longitude", &form.longitude),
        timezone: some(&form.timezone),
        address: some(&form.address),
    };
    let result = if num_errors.is_empty() {
        org::create(&state.platform, &ctx, input).await
    } else {
        Err(boh_platform::PlatformError::Validation(num_errors))
    };
    match result {
        Ok(n) => Redirect::to(&format!("/stores/{}?created=1", n.id)).into_response(),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(form_page(&state, &parts, &ctx, form, errors, None).await),
            )
                .into_response(),
            Err(resp) => resp,
        },
    }
}

fn form_of(n: &OrgNode) -> StoreForm {
    StoreForm {
        parent_id: n.parent_id.clone().unwrap_or_default(),
        code: n.code.clone(),
        name_zh: n.name_zh.clone(),
        name_en: n.name_en.clone(),
        format: n.format.clone().unwrap_or_default(),
        sales_area_m2: n.sales_area_m2.map(|v| v.to_string()).unwrap_or_default(),
        opening_date: n.opening_date.clone().unwrap_or_default(),
        lifecycle_state: n.lifecycle_state.clone().unwrap_or_default(),
        latitude: n.latitude.map(|v| v.to_string()).unwrap_or_default(),
        longitude: n.longitude.map(|v| v.to_string()).unwrap_or_default(),
        timezone: n.timezone.clone(),
        address: n.address.clone().unwrap_or_default(),
        version: n.version.to_string(),
    }
}

#[derive(Deserialize)]
pub struct DetailQuery {
    created: Option<String>,
    saved: Option<String>,
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(dq): Query<DetailQuery>,
) -> Response {
    let node = match org::get(&state.platform, &ctx.actor, &id).await {
        Ok(n) if n.kind == "store" => n,
        Ok(_) => return error_page(boh_platform::PlatformError::NotFound),
        Err(e) => return error_page(e),
    };
    let mut page = form_page(
        &state,
        &parts,
        &ctx,
        form_of(&node),
        FormErrors::default(),
        Some(node),
    )
    .await;
    if dq.created.is_some() {
        page.ui.flash = Some(page.ui.t("store.created"));
    } else if dq.saved.is_some() {
        page.ui.flash = Some(page.ui.t("common.saved"));
    }
    render(page)
}

pub async fn update(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<StoreForm>,
) -> Response {
    let node = match org::get(&state.platform, &ctx.actor, &id).await {
        Ok(n) if n.kind == "store" => n,
        Ok(_) => return error_page(boh_platform::PlatformError::NotFound),
        Err(e) => return error_page(e),
    };
    let mut num_errors = Vec::new();
    let patch = NodePatch {
        version: opt_num(&mut num_errors, "version", &form.version),
        code: Some(form.code.clone()),
        name_zh: Some(form.name_zh.clone()),
        name_en: Some(form.name_en.clone()),
        format: Some(form.format.clone()),
        sales_area_m2: opt_num(&mut num_errors, "sales_area_m2", &form.sales_area_m2),
        opening_date: Some(form.opening_date.clone()),
        lifecycle_state: some(&form.lifecycle_state),
        latitude: opt_num(&mut num_errors, "latitude", &form.latitude),
        longitude: opt_num(&mut num_errors, "longitude", &form.longitude),
        timezone: some(&form.timezone),
        address: Some(form.address.clone()),
    };
    let result = if num_errors.is_empty() {
        org::update(&state.platform, &ctx, &id, patch).await
    } else {
        Err(boh_platform::PlatformError::Validation(num_errors))
    };
    match result {
        Ok(n) => Redirect::to(&format!("/stores/{}?saved=1", n.id)).into_response(),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(form_page(&state, &parts, &ctx, form, errors, Some(node)).await),
            )
                .into_response(),
            Err(resp) => resp,
        },
    }
}
