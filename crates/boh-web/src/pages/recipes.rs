//! Recipe pages: the list of menu and prepared items with their recipe state; an item's
//! recipe with its versions, lines and cost roll-up (shares, food-cost %), and the form for a
//! new version; the production form (preview the ingredients, adjust, post), made for a phone.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_inventory::production::{self, ActualInput, ProductionInput};
use boh_inventory::recipe::{
    self, CostRollup, Recipe, RecipeLineInput, RecipeSummary, RecipeVersion, VersionInput,
};
use boh_inventory::{QtyText, supplier};
use boh_kernel::qty::{money_text, parse_money};
use boh_kernel::{Actor, perm};
use boh_platform::org::{self, NodeFilter};
use boh_platform::{Ctx, FieldError};
use serde::Deserialize;

use super::purchasing::form_errors_of;
use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

const PAGE: i64 = 25;

/// Sites (stores, warehouses, kitchens) where the actor holds `perm`, as (id, label).
async fn sites(state: &AppState, actor: &Actor, perm: &str, locale: &str) -> Vec<(String, String)> {
    let f = NodeFilter {
        kind: Some("store,warehouse,central_kitchen".into()),
        limit: Some(500),
        ..Default::default()
    };
    org::list(&state.platform, actor, &f)
        .await
        .map(|(ns, _)| {
            ns.into_iter()
                .filter(|n| actor.allows(perm, &n.path))
                .map(|n| (n.id.clone(), format!("{} · {}", n.code, n.name(locale))))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------- list

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub offset: i64,
}

#[derive(askama::Template)]
#[template(path = "recipes/list.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<(RecipeSummary, String, String)>,
    q: String,
    total: i64,
    offset: i64,
    limit: i64,
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
    fn q_enc(&self) -> String {
        crate::extract::urlencode(&self.q)
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
        "recipes",
        "recipe.title",
    )
    .await;
    let (items, total) = match recipe::list_recipes(
        &state.platform,
        &ctx.actor,
        None,
        Some(&q.q),
        Some(PAGE),
        Some(q.offset),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let rows = items
        .into_iter()
        .map(|s| {
            let kind = ui.t(&format!("recipe.kind.{}", s.kind));
            let name = s.name(&ui.locale).to_string();
            (s, name, kind)
        })
        .collect();
    render(ListPage {
        ui,
        rows,
        q: q.q,
        total,
        offset: q.offset.max(0),
        limit: PAGE,
    })
}

// ---------------------------------------------------------------- one recipe

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    pub version: Option<i64>,
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub price: String,
    pub saved: Option<String>,
}

pub struct VersionRow {
    pub v: RecipeVersion,
    pub state_key: &'static str,
    pub state: String,
}

pub struct CostRow {
    pub code: String,
    pub name: String,
    pub gross: String,
    pub unit_cost: String,
    pub source_key: String,
    pub source: String,
    pub line_cost: String,
    pub share: String,
    pub share_bp: i64,
}

/// One row of the new-version form.
#[derive(Default, Clone)]
pub struct LineRow {
    pub item: String,
    pub qty: String,
    pub unit: String,
    pub yield_pct: String,
    pub err_item: String,
    pub err_qty: String,
    pub err_unit: String,
    pub err_yield: String,
}

/// The new-version form as typed; the line fields repeat once per row.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct VersionForm {
    #[serde(default)]
    pub effective_from: String,
    #[serde(default)]
    pub yield_qty: String,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub line_item: Vec<String>,
    #[serde(default)]
    pub line_qty: Vec<String>,
    #[serde(default)]
    pub line_unit: Vec<String>,
    #[serde(default)]
    pub line_yield: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "recipes/detail.html")]
struct DetailPage {
    ui: Ui,
    recipe: Recipe,
    name: String,
    kind: String,
    versions: Vec<VersionRow>,
    selected: Option<RecipeVersion>,
    cost: Option<CostRollup>,
    cost_rows: Vec<CostRow>,
    cost_note: String,
    batch_cost: String,
    unit_cost: String,
    food_cost: String,
    locations: Vec<(String, String)>,
    location_id: String,
    price: String,
    can_edit: bool,
    can_produce: bool,
    form: VersionForm,
    rows: Vec<LineRow>,
    errors: FormErrors,
    codes: Vec<(String, String)>,
    open_form: bool,
}

fn source_label(ui: &Ui, s: &str) -> String {
    ui.t(&format!("recipe.source.{s}"))
}

#[allow(clippy::too_many_arguments)]
async fn detail_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    item_id: &str,
    q: &DetailQuery,
    form: Option<VersionForm>,
    errors: FormErrors,
    rows: Option<Vec<LineRow>>,
) -> Result<DetailPage, Response> {
    let p = &state.platform;
    let rec = recipe::get_recipe(p, &ctx.actor, item_id)
        .await
        .map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "recipes",
        "recipe.title",
    )
    .await;
    let co = boh_inventory::company(p, &ctx.actor, None).await.ok();
    let today = boh_inventory::today_in(
        co.as_ref()
            .map(|c| c.timezone.as_str())
            .unwrap_or("Asia/Shanghai"),
    )
    .to_string();
    let selected = q
        .version
        .and_then(|n| rec.version(n).cloned())
        .or_else(|| rec.in_force(&today).cloned())
        .or_else(|| rec.versions.last().cloned());
    let versions: Vec<VersionRow> = rec
        .versions
        .iter()
        .map(|v| {
            let key = if Some(v.version_no) == rec.current_version_no {
                "active"
            } else if v.effective_from > today {
                "pending"
            } else {
                "inactive"
            };
            let label = match key {
                "active" => "recipe.in_force",
                "pending" => "recipe.scheduled",
                _ => "recipe.superseded",
            };
            VersionRow {
                v: v.clone(),
                state_key: key,
                state: ui.t(label),
            }
        })
        .collect();
    // Cost roll-up of the selected version, on its own first day unless it is in force.
    let locations = sites(state, &ctx.actor, perm::INVENTORY_READ, &ui.locale).await;
    let location_id = if locations.iter().any(|(id, _)| *id == q.location_id) {
        q.location_id.clone()
    } else {
        String::new()
    };
    let selling = parse_money(q.price.trim()).ok().filter(|v| *v > 0);
    let mut cost_note = String::new();
    let cost = match &selected {
        Some(v) => {
            let date = if Some(v.version_no) == rec.current_version_no {
                None
            } else {
                Some(v.effective_from.clone())
            };
            match recipe::cost_rollup(
                p,
                &ctx.actor,
                &rec.item_id,
                Some(&location_id)
                    .filter(|s| !s.is_empty())
                    .map(String::as_str),
                date.as_deref(),
                selling.map(|s| s.to_string()).as_deref(),
            )
            .await
            {
                Ok(c) => Some(c),
                Err(e) => {
                    cost_note = e.to_string();
                    None
                }
            }
        }
        None => None,
    };
    let cost_rows = cost
        .as_ref()
        .map(|c| {
            c.lines
                .iter()
                .map(|l| CostRow {
                    code: l.component_code.clone(),
                    name: l.name(&ui.locale).to_string(),
                    gross: format!("{} {}", l.gross_qty, l.base_unit),
                    unit_cost: l
                        .unit_cost_e6
                        .map(|c| format!("{} / {}", supplier::cost_e6_text(c), l.base_unit))
                        .unwrap_or_else(|| "—".into()),
                    source_key: l.source.clone(),
                    source: source_label(&ui, &l.source),
                    line_cost: supplier::cost_e6_text(l.line_cost_e6),
                    share: format!("{} %", recipe::bp_text(l.share_bp)),
                    share_bp: l.share_bp,
                })
                .collect()
        })
        .unwrap_or_default();
    let (batch_cost, unit_cost, food_cost) = match &cost {
        Some(c) => (
            supplier::cost_e6_text(c.batch_cost_e6),
            format!(
                "{} / {}",
                supplier::cost_e6_text(c.unit_cost_e6),
                c.base_unit
            ),
            c.food_cost_bp
                .map(|b| format!("{} %", recipe::bp_text(b)))
                .unwrap_or_default(),
        ),
        None => Default::default(),
    };
    let can_edit = boh_inventory::require_catalog(&ctx.actor, &rec_company(p, &rec).await).is_ok();
    let can_produce = rec.stocked && ctx.actor.has_anywhere(perm::INVENTORY_MOVE_CREATE);
    // The form starts from the selected version, dated the first day a new one may take.
    let default_from = match rec.versions.first() {
        Some(latest) if latest.effective_from >= today => latest
            .effective_from
            .parse::<jiff::civil::Date>()
            .ok()
            .and_then(|d| d.tomorrow().ok())
            .map(|d| d.to_string())
            .unwrap_or(today.clone()),
        _ => today.clone(),
    };
    let open_form = form.is_some();
    let form = form.unwrap_or_else(|| VersionForm {
        effective_from: default_from,
        yield_qty: selected
            .as_ref()
            .map(|v| v.yield_qty.to_text())
            .unwrap_or_else(|| "1".into()),
        ..Default::default()
    });
    let mut rows = rows.unwrap_or_else(|| {
        selected
            .as_ref()
            .map(|v| {
                v.lines
                    .iter()
                    .map(|l| LineRow {
                        item: l.component_code.clone(),
                        qty: l.qty.to_text(),
                        unit: l.unit.clone(),
                        yield_pct: l.yield_pct.clone(),
                        ..Default::default()
                    })
                    .collect()
            })
            .unwrap_or_default()
    });
    while rows
        .last()
        .is_some_and(|r| r.item.is_empty() && r.qty.is_empty() && r.err_item.is_empty())
    {
        rows.pop();
    }
    let blank = rows.len().max(3) + 3 - rows.len();
    rows.extend(std::iter::repeat_n(LineRow::default(), blank.min(8)));
    let codes = if can_edit {
        boh_inventory::catalog::list_items(
            p,
            &ctx.actor,
            &boh_inventory::catalog::ItemFilter {
                limit: Some(500),
                ..Default::default()
            },
        )
        .await
        .map(|(v, _)| {
            v.into_iter()
                .filter(|i| i.id != rec.item_id)
                .map(|i| {
                    let name = i.name(&ui.locale).to_string();
                    (i.code, format!("{name} ({})", i.base_unit))
                })
                .collect()
        })
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    Ok(DetailPage {
        name: rec.name(&ui.locale).to_string(),
        kind: ui.t(&format!("recipe.kind.{}", rec.kind)),
        versions,
        selected,
        cost_rows,
        cost,
        cost_note,
        batch_cost,
        unit_cost,
        food_cost,
        locations,
        location_id,
        price: q.price.clone(),
        can_edit,
        can_produce,
        form,
        rows,
        errors,
        codes,
        open_form,
        ui,
        recipe: rec,
    })
}

async fn rec_company(p: &boh_platform::Platform, rec: &Recipe) -> String {
    boh_inventory::catalog::fetch_items(p, std::slice::from_ref(&rec.item_id))
        .await
        .ok()
        .and_then(|v| v.into_iter().next())
        .map(|i| i.company_id)
        .unwrap_or_default()
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
        &q,
        None,
        FormErrors::default(),
        None,
    )
    .await
    {
        Ok(mut page) => {
            if q.saved.is_some() {
                page.ui.flash = Some(page.ui.t("recipe.version_saved"));
            }
            render(page)
        }
        Err(r) => r,
    }
}

pub async fn add_version(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<VersionForm>,
) -> Response {
    // Rows as typed; blank rows are dropped, the others keep their row for error messages.
    let n = form.line_item.len();
    let at = |v: &Vec<String>, i: usize| v.get(i).map(|s| s.trim().to_string()).unwrap_or_default();
    let mut rows: Vec<LineRow> = Vec::with_capacity(n);
    let mut lines: Vec<RecipeLineInput> = Vec::new();
    let mut row_of: Vec<usize> = Vec::new();
    for i in 0..n {
        let row = LineRow {
            item: at(&form.line_item, i),
            qty: at(&form.line_qty, i),
            unit: at(&form.line_unit, i),
            yield_pct: at(&form.line_yield, i),
            ..Default::default()
        };
        if !(row.item.is_empty() && row.qty.is_empty()) {
            row_of.push(rows.len());
            lines.push(RecipeLineInput {
                item_id: None,
                item_code: Some(row.item.clone()),
                qty: QtyText(row.qty.clone()),
                unit: Some(row.unit.clone()).filter(|u| !u.is_empty()),
                yield_pct: Some(row.yield_pct.clone())
                    .filter(|y| !y.is_empty())
                    .map(QtyText),
            });
        }
        rows.push(row);
    }
    let input = VersionInput {
        effective_from: Some(form.effective_from.clone()),
        yield_qty: Some(form.yield_qty.trim().to_string())
            .filter(|y| !y.is_empty())
            .map(QtyText),
        note: Some(form.note.clone()),
        lines,
    };
    match recipe::add_version(&state.platform, &ctx, &id, input).await {
        Ok(r) => Redirect::to(&format!(
            "/recipes/{}?saved=1&version={}",
            r.item_id,
            r.versions.first().map(|v| v.version_no).unwrap_or(0)
        ))
        .into_response(),
        Err(e) => match form_errors_of(e, &ctx.actor.locale) {
            Ok(mut errors) => {
                // `lines[k].qty` → the row it came from.
                let mut rest: Vec<FieldError> = Vec::new();
                for f in errors.fields.drain(..) {
                    let parsed = f.field.strip_prefix("lines[").and_then(|r| {
                        let (k, name) = r.split_once("].")?;
                        Some((k.parse::<usize>().ok()?, name.to_string()))
                    });
                    match parsed.and_then(|(k, name)| row_of.get(k).map(|j| (*j, name))) {
                        Some((j, name)) => {
                            if let Some(row) = rows.get_mut(j) {
                                let slot = match name.as_str() {
                                    "qty" => &mut row.err_qty,
                                    "unit" => &mut row.err_unit,
                                    "yield_pct" => &mut row.err_yield,
                                    _ => &mut row.err_item,
                                };
                                *slot = f.message;
                            }
                        }
                        None => rest.push(f),
                    }
                }
                errors.fields = rest;
                if errors.general.is_none() {
                    errors.general = Some(crate::i18n::t(&ctx.actor.locale, "common.fix_errors"));
                }
                let q = DetailQuery::default();
                match detail_page(
                    &state,
                    &parts,
                    &ctx,
                    &id,
                    &q,
                    Some(form),
                    errors,
                    Some(rows),
                )
                .await
                {
                    Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response(),
                    Err(r) => r,
                }
            }
            Err(r) => r,
        },
    }
}

// ---------------------------------------------------------------- production

/// The production form as typed; the `actual_*` fields repeat once per ingredient shown.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct ProductionForm {
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub qty: String,
    #[serde(default)]
    pub unit: String,
    #[serde(default)]
    pub business_date: String,
    #[serde(default)]
    pub lot_code: String,
    #[serde(default)]
    pub note: String,
    /// `preview` or `post`.
    #[serde(default)]
    pub action: String,
    /// What the ingredients shown were worked out for.
    #[serde(default)]
    pub planned: String,
    #[serde(default)]
    pub actual_item: Vec<String>,
    #[serde(default)]
    pub actual_qty: Vec<String>,
}

impl ProductionForm {
    fn key(&self) -> String {
        format!(
            "{}|{}|{}|{}|{}",
            self.location_id,
            self.item_id,
            self.qty.trim(),
            self.unit.trim(),
            self.business_date.trim()
        )
    }

    fn input(&self, with_actual: bool) -> ProductionInput {
        let actual = if with_actual {
            Some(
                self.actual_item
                    .iter()
                    .zip(&self.actual_qty)
                    .map(|(i, q)| ActualInput {
                        item_id: Some(i.clone()),
                        item_code: None,
                        qty: QtyText(q.trim().to_string()),
                        unit: None,
                    })
                    .collect(),
            )
        } else {
            None
        };
        ProductionInput {
            location_id: self.location_id.clone(),
            item_id: Some(self.item_id.clone()).filter(|s| !s.is_empty()),
            item_code: None,
            qty: QtyText(self.qty.trim().to_string()),
            unit: Some(self.unit.clone()).filter(|s| !s.trim().is_empty()),
            business_date: Some(self.business_date.clone()).filter(|s| !s.trim().is_empty()),
            lot_code: Some(self.lot_code.clone()).filter(|s| !s.trim().is_empty()),
            expiry_date: None,
            reference: None,
            note: Some(self.note.clone()).filter(|s| !s.trim().is_empty()),
            actual,
        }
    }
}

pub struct PlanRow {
    pub item_id: String,
    pub code: String,
    pub name: String,
    pub unit: String,
    pub theoretical: String,
    pub actual: String,
    pub error: String,
}

pub struct PostedRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub qty: String,
    pub value: String,
}

#[derive(askama::Template)]
#[template(path = "production/form.html")]
struct ProductionPage {
    ui: Ui,
    form: ProductionForm,
    errors: FormErrors,
    locations: Vec<(String, String)>,
    items: Vec<(String, String, String)>,
    plan: Vec<PlanRow>,
    plan_note: String,
    planned: String,
    posted: Vec<PostedRow>,
    posted_value: String,
}

impl ProductionPage {
    /// Field errors not shown beside an input (stock shortages per ingredient, …).
    fn other_errors(&self) -> Vec<String> {
        const SHOWN: &[&str] = &[
            "location_id",
            "item_id",
            "item_code",
            "qty",
            "unit",
            "business_date",
            "lot_code",
            "note",
        ];
        self.errors
            .fields
            .iter()
            .filter(|f| !SHOWN.contains(&f.field.as_str()))
            .map(|f| f.message.clone())
            .collect()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ProductionQuery {
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub item_id: String,
    #[serde(default)]
    pub posted: String,
}

async fn production_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: ProductionForm,
    errors: FormErrors,
) -> ProductionPage {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "production",
        "production.title",
    )
    .await;
    let locations = sites(state, &ctx.actor, perm::INVENTORY_MOVE_CREATE, &ui.locale).await;
    let items = recipe::list_recipes(&state.platform, &ctx.actor, None, None, Some(500), None)
        .await
        .map(|(v, _)| {
            v.into_iter()
                .filter(|s| s.stocked && s.current_version_no.is_some())
                .map(|s| {
                    let label = format!("{} · {}", s.item_code, s.name(&ui.locale));
                    (s.item_id, label, s.base_unit)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut form = form;
    if form.business_date.trim().is_empty() {
        let tz = boh_inventory::company(&state.platform, &ctx.actor, None)
            .await
            .map(|c| c.timezone)
            .unwrap_or_else(|_| "UTC".into());
        form.business_date = boh_inventory::today_in(&tz).to_string();
    }
    if form.location_id.is_empty()
        && let Some((id, _)) = locations.first()
    {
        form.location_id = id.clone();
    }
    ProductionPage {
        ui,
        form,
        errors,
        locations,
        items,
        plan: Vec::new(),
        plan_note: String::new(),
        planned: String::new(),
        posted: Vec::new(),
        posted_value: String::new(),
    }
}

pub async fn production_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ProductionQuery>,
) -> Response {
    let form = ProductionForm {
        location_id: q.location_id.clone(),
        item_id: q.item_id.clone(),
        qty: "1".into(),
        ..Default::default()
    };
    let mut page = production_page(&state, &parts, &ctx, form, FormErrors::default()).await;
    if !q.posted.is_empty() {
        match boh_inventory::ledger::get_doc(&state.platform, &ctx.actor, &q.posted).await {
            Ok(doc) => {
                let ids: Vec<String> = doc.movements.iter().map(|m| m.item_id.clone()).collect();
                let items = boh_inventory::catalog::fetch_items(&state.platform, &ids)
                    .await
                    .unwrap_or_default();
                for m in &doc.movements {
                    let it = items.iter().find(|i| i.id == m.item_id);
                    page.posted.push(PostedRow {
                        code: it.map(|i| i.code.clone()).unwrap_or_default(),
                        name: it
                            .map(|i| i.name(&page.ui.locale).to_string())
                            .unwrap_or_default(),
                        kind: page.ui.t(&format!("production.{}", m.kind)),
                        qty: format!(
                            "{} {}",
                            m.qty,
                            it.map(|i| i.base_unit.as_str()).unwrap_or("")
                        ),
                        value: money_text(m.value),
                    });
                }
                let made: i64 = doc
                    .movements
                    .iter()
                    .filter(|m| m.kind == "production_in")
                    .map(|m| m.value)
                    .sum();
                page.posted_value = money_text(made);
                page.ui.flash = Some(page.ui.t("production.posted"));
            }
            Err(e) => return error_page(e),
        }
    }
    render(page)
}

pub async fn production_post(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<ProductionForm>,
) -> Response {
    let p = &state.platform;
    let fresh = form.planned != form.key();
    let post = form.action == "post" && !fresh;
    let input = form.input(!fresh);
    if post {
        match production::post(p, &ctx, input).await {
            Ok(prod) => {
                return Redirect::to(&format!(
                    "/production?posted={}&item_id={}&location_id={}",
                    prod.doc.id, prod.item_id, prod.doc.location_id
                ))
                .into_response();
            }
            Err(e) => {
                return match form_errors_of(e, &ctx.actor.locale) {
                    Ok(errors) => {
                        let page = preview(&state, &parts, &ctx, form, errors).await;
                        (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response()
                    }
                    Err(r) => r,
                };
            }
        }
    }
    let page = preview(&state, &parts, &ctx, form, FormErrors::default()).await;
    let status = if page.errors.general.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, render(page)).into_response()
}

/// The page with the ingredients the production would take (keeping the actual quantities
/// typed, when they were typed for the same production).
async fn preview(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: ProductionForm,
    errors: FormErrors,
) -> ProductionPage {
    let keep_actual = form.planned == form.key();
    let theory = production::plan(&state.platform, ctx, &form.input(false)).await;
    let mut errors = errors;
    let mut page_plan = Vec::new();
    let mut plan_note = String::new();
    let mut planned = String::new();
    match theory {
        Ok(plan) => {
            planned = form.key();
            plan_note = crate::i18n::t_args(
                &ctx.actor.locale,
                "production.plan_note",
                &[
                    ("version", &plan.version_no.to_string()),
                    ("date", &plan.business_date),
                    ("qty", &format!("{} {}", plan.qty, plan.item.base_unit)),
                ],
            );
            for u in &plan.theoretical {
                let typed = form
                    .actual_item
                    .iter()
                    .position(|i| *i == u.item_id)
                    .and_then(|k| form.actual_qty.get(k))
                    .filter(|_| keep_actual)
                    .cloned();
                page_plan.push(PlanRow {
                    item_id: u.item_id.clone(),
                    code: u.item_code.clone(),
                    name: u.name(&ctx.actor.locale).to_string(),
                    unit: u.base_unit.clone(),
                    theoretical: u.qty.to_text(),
                    actual: typed.unwrap_or_else(|| u.qty.to_text()),
                    error: String::new(),
                });
            }
        }
        Err(e) => match form_errors_of(e, &ctx.actor.locale) {
            Ok(more) => {
                if errors.general.is_none() {
                    errors.general = more.general;
                }
                errors.fields.extend(more.fields);
            }
            Err(_) => {
                errors.general = Some(crate::i18n::t(&ctx.actor.locale, "common.server_error"));
            }
        },
    }
    // Errors on actual quantities go beside their row.
    let mut rest = Vec::new();
    for f in errors.fields.drain(..) {
        let k = f
            .field
            .strip_prefix("actual[")
            .and_then(|r| r.split_once(']'))
            .and_then(|(k, _)| k.parse::<usize>().ok());
        let target = k
            .and_then(|k| form.actual_item.get(k))
            .and_then(|id| page_plan.iter_mut().find(|r| &r.item_id == id));
        match target {
            Some(row) => row.error = f.message,
            None => rest.push(f),
        }
    }
    errors.fields = rest;
    let mut page = production_page(state, parts, ctx, form, errors).await;
    page.plan = page_plan;
    page.plan_note = plan_note;
    page.planned = planned;
    page
}
