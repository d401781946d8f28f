//! Inventory settings pages: per location (negative-stock policy, storage areas in walking
//! order, par / min / max levels of the items kept there), the company's period lock, and the
//! category tree.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use boh_inventory::catalog::{self, Category, NewCategory};
use boh_inventory::location::{
    self, AreaInput, ItemLocationInput, PeriodLockInput, SettingsInput, StorageArea,
};
use boh_kernel::{Qty, perm};
use boh_platform::PlatformError;
use boh_platform::org::{self, NodeFilter, OrgNode};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

pub struct SiteRow {
    pub node: OrgNode,
    pub name: String,
    pub kind_label: String,
    pub policy: String,
    pub can_edit: bool,
}

#[derive(askama::Template)]
#[template(path = "inventory/locations.html")]
struct LocationsPage {
    ui: Ui,
    rows: Vec<SiteRow>,
    locked_through: String,
    can_lock: bool,
    errors: FormErrors,
}

async fn locations_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    errors: FormErrors,
) -> Response {
    let scope = scope_cookie(parts);
    let ui = ui(
        state,
        scope.clone(),
        &ctx.actor,
        "inventory",
        "inv.locations",
    )
    .await;
    let p = &state.platform;
    let f = NodeFilter {
        kind: Some("store,warehouse,central_kitchen".into()),
        under: scope,
        limit: Some(500),
        ..Default::default()
    };
    let (nodes, _) = match org::list(p, &ctx.actor, &f).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let policies = location::negative_policies(p, &ctx.actor)
        .await
        .unwrap_or_default();
    let mut rows = Vec::new();
    for n in nodes
        .into_iter()
        .filter(|n| ctx.actor.allows(perm::INVENTORY_READ, &n.path))
    {
        let policy = policies
            .get(&n.id)
            .cloned()
            .unwrap_or_else(|| "forbid".into());
        rows.push(SiteRow {
            name: n.name(&ui.locale).to_string(),
            kind_label: ui.t(&format!("kind.{}", n.kind)),
            policy: ui.t(&format!("inv.policy.{policy}")),
            can_edit: ctx.actor.allows(perm::INVENTORY_LOCATION, &n.path),
            node: n,
        });
    }
    let lock = location::get_period_lock(p, &ctx.actor, None).await.ok();
    let company = ctx.actor.company_id.clone().unwrap_or_default();
    render(LocationsPage {
        locked_through: lock.and_then(|l| l.locked_through).unwrap_or_default(),
        can_lock: ctx.actor.allows(
            perm::INVENTORY_PERIOD,
            &boh_inventory::company_path(&company),
        ),
        ui,
        rows,
        errors,
    })
}

pub async fn locations(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    locations_page(&state, &parts, &ctx, FormErrors::default()).await
}

#[derive(Debug, Default, Deserialize)]
pub struct LockForm {
    #[serde(default)]
    pub locked_through: String,
    #[serde(default)]
    pub _csrf: String,
}

pub async fn lock_period(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(f): Form<LockForm>,
) -> Response {
    match location::lock_period(
        &state.platform,
        &ctx,
        PeriodLockInput {
            company_id: None,
            locked_through: f.locked_through,
        },
    )
    .await
    {
        Ok(_) => Redirect::to("/inventory/locations").into_response(),
        Err(e) => {
            let locale = crate::i18n::normalise(&ctx.actor.locale).to_string();
            let errors = match e {
                PlatformError::Refused { message, .. } => FormErrors {
                    general: Some(crate::i18n::field_message(&locale, &message)),
                    fields: Vec::new(),
                },
                other => match FormErrors::from_platform(other, &locale) {
                    Ok(fe) => fe,
                    Err(r) => return r,
                },
            };
            let mut r = locations_page(&state, &parts, &ctx, errors).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

pub struct LevelRow {
    pub item_id: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub area_id: String,
    pub par: String,
    pub min: String,
    pub max: String,
}

#[derive(askama::Template)]
#[template(path = "inventory/location.html")]
struct LocationPage {
    ui: Ui,
    node: OrgNode,
    name: String,
    policy: String,
    areas: Vec<StorageArea>,
    levels: Vec<LevelRow>,
    can_edit: bool,
    errors: FormErrors,
    saved: bool,
}

impl LocationPage {
    fn area_name(&self, a: &StorageArea) -> String {
        a.name(&self.ui.locale).to_string()
    }
    /// The errors of sheet row `i` (`items[i].…`), each led by its column's label.
    /// The errors of the new-item row (numbered after the existing rows).
    fn new_row_error(&self) -> String {
        self.row_error(&self.levels.len())
    }
    fn row_error(&self, i: &usize) -> String {
        let prefix = format!("items[{i}]");
        self.errors
            .fields
            .iter()
            .filter(|e| e.field.starts_with(&prefix))
            .map(|e| {
                let column = match e.field[prefix.len()..].trim_start_matches('.') {
                    "par_qty" => self.ui.t("inv.par"),
                    "min_qty" => self.ui.t("inv.min"),
                    "max_qty" => "Max".to_string(),
                    "storage_area_id" => self.ui.t("inv.storage_area"),
                    _ => self.ui.t("inv.item"),
                };
                format!("{column}: {}", e.message)
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }
    /// Errors that belong to no row or form field shown on the page.
    fn other_errors(&self) -> Vec<String> {
        self.errors
            .fields
            .iter()
            .filter(|e| !e.field.starts_with("items[") && e.field != "negative_policy")
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect()
    }
}

fn qty_text(q: Option<Qty>) -> String {
    q.map(|q| q.to_text()).unwrap_or_default()
}

async fn location_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    errors: FormErrors,
    saved: bool,
) -> Response {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "inventory",
        "inv.locations",
    )
    .await;
    let p = &state.platform;
    let node = match boh_inventory::location(p, &ctx.actor, perm::INVENTORY_READ, id).await {
        Ok(n) => n,
        Err(e) => return error_page(e),
    };
    let settings = match location::get_settings(p, &ctx.actor, &node.id).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let areas = location::list_areas(p, &ctx.actor, &node.id)
        .await
        .unwrap_or_default();
    let configured = location::list_item_locations(p, &ctx.actor, &node.id)
        .await
        .unwrap_or_default();
    let ids: Vec<String> = configured.iter().map(|c| c.item_id.clone()).collect();
    let items: HashMap<String, catalog::Item> = catalog::fetch_items(p, &ids)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let mut levels: Vec<LevelRow> = configured
        .iter()
        .filter_map(|c| {
            let it = items.get(&c.item_id)?;
            Some(LevelRow {
                item_id: c.item_id.clone(),
                code: it.code.clone(),
                name: it.name(&ui.locale).to_string(),
                unit: it.base_unit.clone(),
                area_id: c.storage_area_id.clone().unwrap_or_default(),
                par: qty_text(c.par_qty),
                min: qty_text(c.min_qty),
                max: qty_text(c.max_qty),
            })
        })
        .collect();
    levels.sort_by(|a, b| a.code.cmp(&b.code));
    render(LocationPage {
        name: node.name(&ui.locale).to_string(),
        policy: settings.negative_policy,
        can_edit: ctx.actor.allows(perm::INVENTORY_LOCATION, &node.path),
        node,
        areas,
        levels,
        errors,
        saved,
        ui,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: Option<String>,
}

pub async fn location_detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    axum::extract::Query(q): axum::extract::Query<SavedQuery>,
) -> Response {
    location_page(
        &state,
        &parts,
        &ctx,
        &id,
        FormErrors::default(),
        q.saved.is_some(),
    )
    .await
}

async fn after_save(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    result: Result<(), PlatformError>,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/inventory/locations/{id}?saved=1")).into_response(),
        Err(e) => {
            let locale = crate::i18n::normalise(&ctx.actor.locale).to_string();
            let errors = match FormErrors::from_platform(e, &locale) {
                Ok(fe) => fe,
                Err(r) => return r,
            };
            let mut r = location_page(state, parts, ctx, id, errors, false).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    pub negative_policy: String,
    #[serde(default)]
    pub _csrf: String,
}

pub async fn set_policy(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<PolicyForm>,
) -> Response {
    let r = location::set_settings(
        &state.platform,
        &ctx,
        &id,
        SettingsInput {
            negative_policy: f.negative_policy,
        },
    )
    .await
    .map(|_| ());
    after_save(&state, &parts, &ctx, &id, r).await
}

#[derive(Debug, Default, Deserialize)]
pub struct AreaForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub _csrf: String,
}

pub async fn save_area(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<AreaForm>,
) -> Response {
    let sort = f.sort.trim();
    let r = match sort.parse::<i64>() {
        Err(_) if !sort.is_empty() => Err(PlatformError::invalid("sort", "must be a number")),
        parsed => location::upsert_area(
            &state.platform,
            &ctx,
            &id,
            AreaInput {
                code: f.code,
                name_zh: Some(f.name_zh).filter(|s| !s.trim().is_empty()),
                name_en: Some(f.name_en),
                sort: parsed.ok(),
                ..AreaInput::default()
            },
        )
        .await
        .map(|_| ()),
    };
    after_save(&state, &parts, &ctx, &id, r).await
}

/// The par-level sheet: `item_N` (id), `area_N`, `par_N`, `min_N`, `max_N`, plus an optional
/// new row `new_item` (code) with `new_par`, `new_min`, `new_max`.
pub async fn save_levels(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut errors = Vec::new();
    let mut qty = |field: &str, v: String| -> Option<Qty> {
        if v.is_empty() {
            return None;
        }
        match Qty::parse(&v) {
            Ok(q) => Some(q),
            Err(e) => {
                errors.push(boh_platform::FieldError::new(
                    field,
                    format!("quantity {e}"),
                ));
                None
            }
        }
    };
    let mut rows = Vec::new();
    let mut n = 0;
    while f.contains_key(&format!("item_{n}")) && n < 20_000 {
        rows.push(ItemLocationInput {
            item_id: Some(get(&format!("item_{n}"))),
            storage_area_id: Some(get(&format!("area_{n}"))).filter(|s| !s.is_empty()),
            par_qty: qty(&format!("items[{n}].par_qty"), get(&format!("par_{n}"))),
            min_qty: qty(&format!("items[{n}].min_qty"), get(&format!("min_{n}"))),
            max_qty: qty(&format!("items[{n}].max_qty"), get(&format!("max_{n}"))),
            ..ItemLocationInput::default()
        });
        n += 1;
    }
    let new_code = get("new_item");
    if !new_code.is_empty() {
        rows.push(ItemLocationInput {
            item_code: Some(new_code.split(" — ").next().unwrap_or_default().to_string()),
            storage_area_id: Some(get("new_area")).filter(|s| !s.is_empty()),
            par_qty: qty(&format!("items[{n}].par_qty"), get("new_par")),
            min_qty: qty(&format!("items[{n}].min_qty"), get("new_min")),
            max_qty: qty(&format!("items[{n}].max_qty"), get("new_max")),
            ..ItemLocationInput::default()
        });
    }
    let r = if !errors.is_empty() {
        Err(PlatformError::Validation(errors))
    } else {
        location::set_item_locations(&state.platform, &ctx, &id, rows)
            .await
            .map(|_| ())
    };
    after_save(&state, &parts, &ctx, &id, r).await
}

// ---------------------------------------------------------------- categories

pub struct CategoryRow {
    pub cat: Category,
    pub name: String,
    pub depth: usize,
    pub items: i64,
}

#[derive(askama::Template)]
#[template(path = "inventory/categories.html")]
struct CategoriesPage {
    ui: Ui,
    rows: Vec<CategoryRow>,
    can_edit: bool,
    errors: FormErrors,
    form_code: String,
    form_name_zh: String,
    form_name_en: String,
    form_parent: String,
}

impl CategoriesPage {
    fn indent(&self, depth: &usize) -> String {
        "— ".repeat(*depth)
    }
}

async fn categories_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    errors: FormErrors,
    form: Option<CategoryForm>,
) -> Response {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "items",
        "inv.categories",
    )
    .await;
    let p = &state.platform;
    let cats = match catalog::list_categories(p, &ctx.actor, None).await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let by_id: HashMap<&str, &Category> = cats.iter().map(|c| (c.id.as_str(), c)).collect();
    let counts = catalog::active_items_by_category(p, &ctx.actor)
        .await
        .unwrap_or_default();
    let mut rows = Vec::with_capacity(cats.len());
    for c in &cats {
        let mut depth = 0;
        let mut at = c.parent_id.as_deref();
        while let Some(pid) = at {
            depth += 1;
            at = by_id.get(pid).and_then(|x| x.parent_id.as_deref());
            if depth > 8 {
                break;
            }
        }
        let items = counts.get(&c.id).copied().unwrap_or(0);
        rows.push(CategoryRow {
            name: c.name(&ui.locale).to_string(),
            cat: c.clone(),
            depth,
            items,
        });
    }
    let company = ctx.actor.company_id.clone().unwrap_or_default();
    let form = form.unwrap_or_default();
    render(CategoriesPage {
        can_edit: ctx.actor.allows(
            perm::INVENTORY_CATALOG,
            &boh_inventory::company_path(&company),
        ),
        ui,
        rows,
        errors,
        form_code: form.code,
        form_name_zh: form.name_zh,
        form_name_en: form.name_en,
        form_parent: form.parent_id,
    })
}

pub async fn categories(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    categories_page(&state, &parts, &ctx, FormErrors::default(), None).await
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct CategoryForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub parent_id: String,
    #[serde(default)]
    pub _csrf: String,
}

pub async fn save_category(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(f): Form<CategoryForm>,
) -> Response {
    let r = catalog::upsert_category(
        &state.platform,
        &ctx,
        NewCategory {
            code: f.code.clone(),
            name_zh: Some(f.name_zh.clone()).filter(|s| !s.trim().is_empty()),
            name_en: Some(f.name_en.clone()),
            parent_id: Some(f.parent_id.clone()).filter(|s| !s.is_empty()),
            ..NewCategory::default()
        },
    )
    .await;
    match r {
        Ok(_) => Redirect::to("/inventory/categories").into_response(),
        Err(e) => {
            let locale = crate::i18n::normalise(&ctx.actor.locale).to_string();
            let errors = match FormErrors::from_platform(e, &locale) {
                Ok(fe) => fe,
                Err(r) => return r,
            };
            let mut r = categories_page(&state, &parts, &ctx, errors, Some(f)).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}
