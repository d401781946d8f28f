//! Inventory pages: the stock dashboard, on-hand, the item catalogue (list, detail with stock
//! per location and an on-hand chart, create and edit), stock documents (list, detail with
//! reversal, and a phone-friendly posting form for receipts, issues, waste and adjustments).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use boh_inventory::catalog::{self, Category, Item, ItemFilter, ItemInput, ItemPatch};
use boh_inventory::ledger::{self, Doc, DocFilter, DocInput, LineInput, StockFilter, StockRow};
use boh_kernel::qty::{MICRO, money_text};
use boh_kernel::{Actor, Qty, perm};
use boh_platform::PlatformError;
use boh_platform::org::{self, NodeFilter, OrgNode};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::chart::{Datum, bar_chart, line_chart};
use crate::extract::PageActor;
use crate::state::AppState;

const PAGE: i64 = 25;

/// Sites (stores, warehouses, kitchens) the actor may read stock of, narrowed by the scope
/// picker, sorted by code.
pub async fn sites(state: &AppState, actor: &Actor, scope: Option<String>) -> Vec<OrgNode> {
    sites_where(state, actor, scope, |path| {
        actor.allows(perm::INVENTORY_READ, path)
    })
    .await
}

/// The stores, warehouses and central kitchens under `scope` the actor may see whose path
/// passes `allowed` (a module's own permission).
pub async fn sites_where(
    state: &AppState,
    actor: &Actor,
    scope: Option<String>,
    allowed: impl Fn(&str) -> bool,
) -> Vec<OrgNode> {
    let f = NodeFilter {
        kind: Some("store,warehouse,central_kitchen".into()),
        under: scope,
        limit: Some(500),
        ..Default::default()
    };
    org::list(&state.platform, actor, &f)
        .await
        .map(|(n, _)| n.into_iter().filter(|n| allowed(&n.path)).collect())
        .unwrap_or_default()
}

/// Money for display: `¥1,234.50`.
pub fn money(minor: i64) -> String {
    let t = money_text(minor);
    let (sign, body) = match t.strip_prefix('-') {
        Some(b) => ("-", b.to_string()),
        None => ("", t),
    };
    let (int, frac) = body.split_once('.').unwrap_or((&body, "00"));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}¥{grouped}.{frac}")
}

/// Large money for key figures: `¥1.47M` / `¥147.3万`, exact below a hundred thousand.
pub fn money_compact(minor: i64, locale: &str) -> String {
    let yuan = minor as f64 / 100.0;
    if yuan.abs() < 100_000.0 {
        return money(minor);
    }
    if locale.starts_with("zh") {
        if yuan.abs() >= 100_000_000.0 {
            format!("¥{:.2}亿", yuan / 100_000_000.0)
        } else {
            format!("¥{:.1}万", yuan / 10_000.0)
        }
    } else if yuan.abs() >= 1_000_000.0 {
        format!("¥{:.2}M", yuan / 1_000_000.0)
    } else {
        format!("¥{:.0}k", yuan / 1_000.0)
    }
}

/// A quantity for display with its unit.
pub fn qty_unit(q: Qty, unit: &str) -> String {
    format!("{} {unit}", q.to_text())
}

fn whole_units(q: Qty) -> i64 {
    q.micros() / MICRO
}

// ---------------------------------------------------------------- dashboard

pub struct Kpi {
    pub label: String,
    pub value: String,
    pub href: String,
}

#[derive(askama::Template)]
#[template(path = "inventory/dashboard.html")]
struct DashboardPage {
    ui: Ui,
    kpis: Vec<Kpi>,
    chart_title: String,
    value_chart: String,
    today: String,
    low: Vec<StockRow>,
    expiring: Vec<ledger::LotRow>,
    docs: Vec<DocRow>,
    can_post: bool,
}

pub struct DocRow {
    pub doc: Doc,
    pub location: String,
    pub kind_label: String,
    pub value: String,
}

fn doc_rows(ui: &Ui, docs: Vec<Doc>, names: &HashMap<String, String>) -> Vec<DocRow> {
    docs.into_iter()
        .map(|d| DocRow {
            location: names
                .get(&d.location_id)
                .cloned()
                .unwrap_or_else(|| "—".into()),
            kind_label: ui.t(&format!("inv.kind.{}", d.kind)),
            value: money(d.total_value),
            doc: d,
        })
        .collect()
}

fn site_names(sites: &[OrgNode], locale: &str) -> HashMap<String, String> {
    sites
        .iter()
        .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(locale))))
        .collect()
}

pub async fn dashboard(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(
        &state,
        scope.clone(),
        &ctx.actor,
        "inventory",
        "inv.dashboard",
    )
    .await;
    if !ctx.actor.has_anywhere(perm::INVENTORY_READ) {
        return error_page(PlatformError::Forbidden(perm::INVENTORY_READ));
    }
    let p = &state.platform;
    let sites = sites(&state, &ctx.actor, scope).await;
    let names = site_names(&sites, &ui.locale);
    // Totals per location, narrowed to the sites in view.
    let summary = ledger::summary_by_location(p, &ctx.actor)
        .await
        .unwrap_or_default();
    let codes: HashMap<&str, &str> = sites
        .iter()
        .map(|s| (s.id.as_str(), s.code.as_str()))
        .collect();
    let mut by_site: Vec<(String, i64)> = Vec::new();
    let (mut total_value, mut negative, mut low_total) = (0i64, 0i64, 0i64);
    for s in summary
        .iter()
        .filter(|s| codes.contains_key(s.location_id.as_str()))
    {
        total_value += s.value;
        negative += s.negative;
        low_total += s.low;
        by_site.push((codes[s.location_id.as_str()].to_string(), s.value));
    }
    let (low, _) = ledger::list_stock(
        p,
        &ctx.actor,
        &StockFilter {
            low: Some(true),
            sort: Some("shortfall".into()),
            limit: Some(12),
            ..StockFilter::default()
        },
    )
    .await
    .unwrap_or_default();
    let low: Vec<StockRow> = low
        .into_iter()
        .filter(|r| codes.contains_key(r.location_id.as_str()))
        .collect();
    by_site.sort_by_key(|s| std::cmp::Reverse(s.1));
    // Whole yuan, or thousands of yuan when the bars would carry long numbers.
    let thousands = by_site.iter().any(|(_, v)| *v >= 1_000_000 * 100);
    let div = if thousands { 100_000 } else { 100 };
    let data: Vec<Datum> = by_site
        .iter()
        .take(12)
        .map(|(c, v)| Datum {
            label: c.clone(),
            value: v / div,
        })
        .collect();
    let chart_title = ui.t(if thousands {
        "inv.value_by_location_k"
    } else {
        "inv.value_by_location"
    });
    let value_chart = bar_chart(&chart_title, &data);
    let expiring = ledger::list_lots(p, &ctx.actor, None, None, Some(7), Some(12))
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|l| names.contains_key(&l.location_id))
        .collect::<Vec<_>>();
    let (docs, _) = ledger::list_docs(
        p,
        &ctx.actor,
        &DocFilter {
            limit: Some(8),
            ..DocFilter::default()
        },
    )
    .await
    .unwrap_or_default();
    let docs = doc_rows(&ui, docs, &names);
    let kpis = vec![
        Kpi {
            label: ui.t("inv.kpi.value"),
            value: money_compact(total_value, &ui.locale),
            href: "/inventory/stock".into(),
        },
        Kpi {
            label: ui.t("inv.kpi.low"),
            value: low_total.to_string(),
            href: "/inventory/stock?low=true".into(),
        },
        Kpi {
            label: ui.t("inv.kpi.expiring"),
            value: expiring.len().to_string(),
            href: "#expiring".into(),
        },
        Kpi {
            label: ui.t("inv.kpi.negative"),
            value: negative.to_string(),
            href: "/inventory/stock".into(),
        },
    ];
    render(DashboardPage {
        can_post: ctx.actor.has_anywhere(perm::INVENTORY_MOVE_CREATE),
        today: jiff::ZonedDateTime::now().date().to_string(),
        chart_title,
        ui,
        kpis,
        value_chart,
        low,
        expiring,
        docs,
    })
}

// ---------------------------------------------------------------- on hand

#[derive(Debug, Default, Deserialize)]
pub struct StockQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub low: Option<String>,
    #[serde(default)]
    pub offset: i64,
}

#[derive(askama::Template)]
#[template(path = "inventory/stock.html")]
struct StockPage {
    ui: Ui,
    rows: Vec<StockRow>,
    sites: Vec<(String, String)>,
    q: String,
    location_id: String,
    low: bool,
    total: i64,
    offset: i64,
    limit: i64,
    total_value: String,
}

impl StockPage {
    fn showing(&self) -> String {
        showing(&self.ui, self.offset, self.limit, self.total)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.limit).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + self.limit < self.total).then_some(self.offset + self.limit)
    }
    fn item_name<'a>(&self, r: &'a StockRow) -> &'a str {
        if self.ui.is_zh() {
            &r.item_name_zh
        } else {
            &r.item_name_en
        }
    }
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    fn qty(&self, r: &StockRow) -> String {
        qty_unit(r.qty, &r.base_unit)
    }
    fn level(&self, q: &Option<Qty>) -> String {
        q.map(|q| q.to_text()).unwrap_or_else(|| "—".into())
    }
    fn query(&self) -> String {
        format!(
            "q={}&location_id={}&low={}",
            crate::extract::urlencode(&self.q),
            crate::extract::urlencode(&self.location_id),
            if self.low { "true" } else { "" }
        )
    }
}

pub fn showing(ui: &Ui, offset: i64, limit: i64, total: i64) -> String {
    let from = if total == 0 { 0 } else { offset + 1 };
    let to = (offset + limit).min(total);
    crate::i18n::t_args(
        &ui.locale,
        "common.showing",
        &[
            ("from", &from.to_string()),
            ("to", &to.to_string()),
            ("total", &total.to_string()),
        ],
    )
}

pub async fn stock(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<StockQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(&state, scope.clone(), &ctx.actor, "inventory", "inv.stock").await;
    let sites = sites(&state, &ctx.actor, scope).await;
    let low = q.low.as_deref() == Some("true");
    let f = StockFilter {
        location_id: Some(q.location_id.clone()).filter(|s| !s.is_empty()),
        q: Some(q.q.clone()),
        low: Some(low),
        limit: Some(PAGE),
        offset: Some(q.offset.max(0)),
        ..StockFilter::default()
    };
    let (rows, total) = match ledger::list_stock(&state.platform, &ctx.actor, &f).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let total_value = money(rows.iter().map(|r| r.value).sum());
    render(StockPage {
        sites: sites
            .iter()
            .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(&ui.locale))))
            .collect(),
        ui,
        rows,
        q: q.q,
        location_id: q.location_id,
        low,
        total,
        offset: q.offset.max(0),
        limit: PAGE,
        total_value,
    })
}

// ---------------------------------------------------------------- items

#[derive(Debug, Default, Deserialize)]
pub struct ItemQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub offset: i64,
}

pub struct ItemRow {
    pub item: Item,
    pub name: String,
    pub category: String,
    pub kind_label: String,
    pub storage_label: String,
}

#[derive(askama::Template)]
#[template(path = "inventory/items.html")]
struct ItemsPage {
    ui: Ui,
    rows: Vec<ItemRow>,
    categories: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    q: String,
    category_id: String,
    kind: String,
    total: i64,
    offset: i64,
    limit: i64,
    can_create: bool,
}

impl ItemsPage {
    fn showing(&self) -> String {
        showing(&self.ui, self.offset, self.limit, self.total)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.limit).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + self.limit < self.total).then_some(self.offset + self.limit)
    }
    fn query(&self) -> String {
        format!(
            "q={}&category_id={}&kind={}",
            crate::extract::urlencode(&self.q),
            crate::extract::urlencode(&self.category_id),
            crate::extract::urlencode(&self.kind)
        )
    }
}

fn category_options(ui: &Ui, cats: &[Category]) -> Vec<(String, String)> {
    let by_id: HashMap<&str, &Category> = cats.iter().map(|c| (c.id.as_str(), c)).collect();
    cats.iter()
        .map(|c| {
            let mut depth = 0;
            let mut at = c.parent_id.as_deref();
            while let Some(pid) = at {
                depth += 1;
                at = by_id.get(pid).and_then(|p| p.parent_id.as_deref());
                if depth > 8 {
                    break;
                }
            }
            (
                c.id.clone(),
                format!("{}{}", "— ".repeat(depth), c.name(&ui.locale)),
            )
        })
        .collect()
}

pub async fn items(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ItemQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(&state, scope, &ctx.actor, "items", "inv.items").await;
    let p = &state.platform;
    let cats = match catalog::list_categories(p, &ctx.actor, None).await {
        Ok(c) => c,
        Err(e) => return error_page(e),
    };
    let f = ItemFilter {
        q: Some(q.q.clone()),
        category_id: Some(q.category_id.clone()).filter(|s| !s.is_empty()),
        kind: Some(q.kind.clone()).filter(|s| !s.is_empty()),
        limit: Some(PAGE),
        offset: Some(q.offset.max(0)),
        ..ItemFilter::default()
    };
    let (items, total) = match catalog::list_items(p, &ctx.actor, &f).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let cat_names: HashMap<&str, &Category> = cats.iter().map(|c| (c.id.as_str(), c)).collect();
    let rows = items
        .into_iter()
        .map(|i| ItemRow {
            name: i.name(&ui.locale).to_string(),
            category: i
                .category_id
                .as_deref()
                .and_then(|c| cat_names.get(c))
                .map(|c| c.name(&ui.locale).to_string())
                .unwrap_or_else(|| "—".into()),
            kind_label: ui.t(&format!("inv.item_kind.{}", i.kind)),
            storage_label: ui.t(&format!("inv.storage.{}", i.storage_type)),
            item: i,
        })
        .collect();
    let company = ctx.actor.company_id.clone().unwrap_or_default();
    render(ItemsPage {
        categories: category_options(&ui, &cats),
        kinds: catalog::ITEM_KINDS
            .iter()
            .map(|k| (k.to_string(), ui.t(&format!("inv.item_kind.{k}"))))
            .collect(),
        can_create: ctx.actor.allows(
            perm::INVENTORY_CATALOG,
            &boh_inventory::company_path(&company),
        ),
        ui,
        rows,
        q: q.q,
        category_id: q.category_id,
        kind: q.kind,
        total,
        offset: q.offset.max(0),
        limit: PAGE,
    })
}

#[derive(Debug, Default, Deserialize)]
pub struct ItemDetailQuery {
    #[serde(default)]
    pub location_id: String,
}

pub struct MoveRow {
    pub date: String,
    pub location: String,
    pub kind_label: String,
    pub qty: String,
    pub value: String,
    pub doc_id: String,
    pub negative: bool,
}

#[derive(askama::Template)]
#[template(path = "inventory/item.html")]
struct ItemPage {
    ui: Ui,
    item: Item,
    name: String,
    category: String,
    stock: Vec<StockRow>,
    total_qty: String,
    total_value: String,
    chart: String,
    sites: Vec<(String, String)>,
    location_id: String,
    moves: Vec<MoveRow>,
    form: ItemForm,
    errors: FormErrors,
    categories: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    storages: Vec<(String, String)>,
    can_edit: bool,
}

impl ItemPage {
    fn kind_label(&self) -> String {
        self.ui.t(&format!("inv.item_kind.{}", self.item.kind))
    }
    fn storage_label(&self) -> String {
        self.ui
            .t(&format!("inv.storage.{}", self.item.storage_type))
    }
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
    fn qty(&self, r: &StockRow) -> String {
        qty_unit(r.qty, &r.base_unit)
    }
    fn loc_name<'a>(&self, r: &'a StockRow) -> &'a str {
        if self.ui.is_zh() {
            &r.location_name_zh
        } else {
            &r.location_name_en
        }
    }
    fn cost(&self, r: &StockRow) -> String {
        // Minor units per base unit × 10^6 → currency with up to 4 decimals.
        let per_unit = r.unit_cost_e6 as f64 / 100.0 / 1_000_000.0;
        format!("¥{per_unit:.4}")
    }
}

/// The editable fields of an item, as the form holds them.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ItemForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub base_unit: String,
    #[serde(default)]
    pub storage_type: String,
    #[serde(default)]
    pub shelf_life_days: String,
    #[serde(default)]
    pub lot_tracked: Option<String>,
    #[serde(default)]
    pub active: Option<String>,
    #[serde(default)]
    pub pos_code: String,
    /// One unit per line: `case = 12`.
    #[serde(default)]
    pub units: String,
    /// One barcode per line: `6901234567890` or `6901234567890 case`.
    #[serde(default)]
    pub barcodes: String,
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub _csrf: String,
}

impl ItemForm {
    fn of(i: &Item) -> ItemForm {
        ItemForm {
            code: i.code.clone(),
            name_zh: i.name_zh.clone(),
            name_en: i.name_en.clone(),
            category_id: i.category_id.clone().unwrap_or_default(),
            kind: i.kind.clone(),
            base_unit: i.base_unit.clone(),
            storage_type: i.storage_type.clone(),
            shelf_life_days: i.shelf_life_days.map(|d| d.to_string()).unwrap_or_default(),
            lot_tracked: i.lot_tracked.then(|| "on".into()),
            active: i.active.then(|| "on".into()),
            pos_code: i.pos_code.clone().unwrap_or_default(),
            units: i
                .units
                .iter()
                .map(|u| format!("{} = {}", u.unit, u.factor))
                .collect::<Vec<_>>()
                .join("\n"),
            barcodes: i
                .barcodes
                .iter()
                .map(|b| format!("{} {}", b.barcode, b.unit))
                .collect::<Vec<_>>()
                .join("\n"),
            version: Some(i.version),
            _csrf: String::new(),
        }
    }

    /// Units and barcodes from their text areas; bad lines are field errors.
    fn lists(
        &self,
        errors: &mut Vec<boh_platform::FieldError>,
    ) -> (Vec<catalog::ItemUnit>, Vec<catalog::Barcode>) {
        let mut units = Vec::new();
        for (i, line) in self.units.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match line.split_once('=').map(|(u, f)| (u.trim(), Qty::parse(f))) {
                Some((u, Ok(f))) => units.push(catalog::ItemUnit {
                    unit: u.to_string(),
                    factor: f,
                }),
                _ => errors.push(boh_platform::FieldError::new(
                    &format!("units[{i}].factor"),
                    "write each unit as: case = 12",
                )),
            }
        }
        let barcodes = self
            .barcodes
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let mut parts = l.split_whitespace();
                catalog::Barcode {
                    barcode: parts.next().unwrap_or_default().to_string(),
                    unit: parts.next().unwrap_or_default().to_string(),
                }
            })
            .collect();
        (units, barcodes)
    }
}

#[derive(askama::Template)]
#[template(path = "inventory/item_form.html")]
struct ItemFormPage {
    ui: Ui,
    form: ItemForm,
    errors: FormErrors,
    categories: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    storages: Vec<(String, String)>,
}

fn kinds(ui: &Ui) -> Vec<(String, String)> {
    catalog::ITEM_KINDS
        .iter()
        .map(|k| (k.to_string(), ui.t(&format!("inv.item_kind.{k}"))))
        .collect()
}

fn storages(ui: &Ui) -> Vec<(String, String)> {
    catalog::STORAGE_TYPES
        .iter()
        .map(|k| (k.to_string(), ui.t(&format!("inv.storage.{k}"))))
        .collect()
}

pub async fn new_item_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "items",
        "inv.new_item",
    )
    .await;
    let cats = catalog::list_categories(&state.platform, &ctx.actor, None)
        .await
        .unwrap_or_default();
    render(ItemFormPage {
        categories: category_options(&ui, &cats),
        kinds: kinds(&ui),
        storages: storages(&ui),
        form: ItemForm {
            kind: "ingredient".into(),
            storage_type: "ambient".into(),
            base_unit: "kg".into(),
            active: Some("on".into()),
            ..ItemForm::default()
        },
        errors: FormErrors::default(),
        ui,
    })
}

fn opt_days(errors: &mut Vec<boh_platform::FieldError>, v: &str) -> Option<i64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errors.push(boh_platform::FieldError::new(
                "shelf_life_days",
                "must be a whole number of days",
            ));
            None
        }
    }
}

pub async fn create_item(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(f): Form<ItemForm>,
) -> Response {
    let mut pre = Vec::new();
    let (units, barcodes) = f.lists(&mut pre);
    let shelf = opt_days(&mut pre, &f.shelf_life_days);
    let result = if pre.is_empty() {
        catalog::create_item(
            &state.platform,
            &ctx,
            ItemInput {
                code: f.code.clone(),
                name_zh: Some(f.name_zh.clone()),
                name_en: Some(f.name_en.clone()),
                category_id: Some(f.category_id.clone()),
                kind: Some(f.kind.clone()),
                base_unit: Some(f.base_unit.clone()),
                storage_type: Some(f.storage_type.clone()),
                shelf_life_days: shelf,
                lot_tracked: Some(f.lot_tracked.is_some()),
                pos_code: Some(f.pos_code.clone()),
                active: Some(true),
                units: Some(units),
                barcodes: Some(barcodes),
                ..ItemInput::default()
            },
        )
        .await
    } else {
        Err(PlatformError::Validation(pre))
    };
    match result {
        Ok(item) => Redirect::to(&format!("/inventory/items/{}", item.id)).into_response(),
        Err(e) => {
            let ui = ui(
                &state,
                scope_cookie(&parts),
                &ctx.actor,
                "items",
                "inv.new_item",
            )
            .await;
            let errors = match FormErrors::from_platform(e, &ui.locale) {
                Ok(fe) => fe,
                Err(resp) => return resp,
            };
            let cats = catalog::list_categories(&state.platform, &ctx.actor, None)
                .await
                .unwrap_or_default();
            let mut r = render(ItemFormPage {
                categories: category_options(&ui, &cats),
                kinds: kinds(&ui),
                storages: storages(&ui),
                form: f,
                errors,
                ui,
            });
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

async fn item_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    id: &str,
    location_id: &str,
    form: Option<ItemForm>,
    errors: FormErrors,
) -> Response {
    let scope = scope_cookie(parts);
    let ui = ui(state, scope.clone(), &ctx.actor, "items", "inv.items").await;
    let p = &state.platform;
    let item = match catalog::get_item(p, &ctx.actor, id).await {
        Ok(i) => i,
        Err(e) => return error_page(e),
    };
    let cats = catalog::list_categories(p, &ctx.actor, Some(&item.company_id))
        .await
        .unwrap_or_default();
    let sites = sites(state, &ctx.actor, scope).await;
    let names = site_names(&sites, &ui.locale);
    let (stock, _) = ledger::list_stock(
        p,
        &ctx.actor,
        &StockFilter {
            item_id: Some(item.id.clone()),
            include_zero: Some(true),
            limit: Some(500),
            ..StockFilter::default()
        },
    )
    .await
    .unwrap_or_default();
    let stock: Vec<StockRow> = stock
        .into_iter()
        .filter(|r| names.contains_key(&r.location_id))
        .collect();
    let total_qty = Qty(stock.iter().map(|r| r.qty.micros()).sum());
    let total_value: i64 = stock.iter().map(|r| r.value).sum();
    let loc = Some(location_id).filter(|s| !s.is_empty());
    let days = ledger::daily_on_hand(p, &ctx.actor, &item.id, loc, 90)
        .await
        .unwrap_or_default();
    let data: Vec<Datum> = days
        .iter()
        .map(|(d, q)| Datum {
            label: d.get(5..).unwrap_or(d).to_string(),
            value: whole_units(*q),
        })
        .collect();
    let chart = line_chart(
        &format!("{} ({})", ui.t("inv.on_hand_90"), item.base_unit),
        &data,
    );
    let (moves, _) = ledger::list_movements(
        p,
        &ctx.actor,
        &ledger::MovementFilter {
            item_id: Some(item.id.clone()),
            location_id: loc.map(str::to_string),
            limit: Some(20),
            ..Default::default()
        },
    )
    .await
    .unwrap_or_default();
    let moves = moves
        .into_iter()
        .map(|m| MoveRow {
            date: m.business_date.clone(),
            location: names
                .get(&m.location_id)
                .cloned()
                .unwrap_or_else(|| "—".into()),
            kind_label: ui.t(&format!("inv.kind.{}", m.kind)),
            qty: qty_unit(m.qty, &item.base_unit),
            value: money(m.value),
            doc_id: m.doc_id,
            negative: m.went_negative,
        })
        .collect();
    let category = item
        .category_id
        .as_deref()
        .and_then(|c| cats.iter().find(|x| x.id == c))
        .map(|c| c.name(&ui.locale).to_string())
        .unwrap_or_else(|| "—".into());
    let can_edit = ctx.actor.allows(
        perm::INVENTORY_CATALOG,
        &boh_inventory::company_path(&item.company_id),
    );
    render(ItemPage {
        name: item.name(&ui.locale).to_string(),
        category,
        total_qty: qty_unit(total_qty, &item.base_unit),
        total_value: money(total_value),
        chart,
        sites: sites
            .iter()
            .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(&ui.locale))))
            .collect(),
        location_id: location_id.to_string(),
        moves,
        form: form.unwrap_or_else(|| ItemForm::of(&item)),
        errors,
        categories: category_options(&ui, &cats),
        kinds: kinds(&ui),
        storages: storages(&ui),
        can_edit,
        stock,
        item,
        ui,
    })
}

pub async fn item_detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<ItemDetailQuery>,
) -> Response {
    item_page(
        &state,
        &parts,
        &ctx,
        &id,
        &q.location_id,
        None,
        FormErrors::default(),
    )
    .await
}

pub async fn update_item(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(f): Form<ItemForm>,
) -> Response {
    let mut pre = Vec::new();
    let (units, barcodes) = f.lists(&mut pre);
    let shelf = opt_days(&mut pre, &f.shelf_life_days);
    let result = if pre.is_empty() {
        catalog::update_item(
            &state.platform,
            &ctx,
            &id,
            ItemPatch {
                version: f.version,
                name_zh: Some(f.name_zh.clone()),
                name_en: Some(f.name_en.clone()),
                category_id: Some(f.category_id.clone()),
                kind: Some(f.kind.clone()),
                storage_type: Some(f.storage_type.clone()),
                shelf_life_days: shelf,
                lot_tracked: Some(f.lot_tracked.is_some()),
                active: Some(f.active.is_some()),
                pos_code: Some(f.pos_code.clone()),
                units: Some(units),
                barcodes: Some(barcodes),
                stocked: None,
            },
        )
        .await
    } else {
        Err(PlatformError::Validation(pre))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/inventory/items/{id}?saved=1")).into_response(),
        Err(e) => {
            let locale = crate::i18n::normalise(&ctx.actor.locale).to_string();
            let errors = match FormErrors::from_platform(e, &locale) {
                Ok(fe) => fe,
                Err(resp) => return resp,
            };
            let mut r = item_page(&state, &parts, &ctx, &id, "", Some(f), errors).await;
            *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}

// ---------------------------------------------------------------- documents

#[derive(Debug, Default, Deserialize)]
pub struct DocQuery {
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub offset: i64,
}

#[derive(askama::Template)]
#[template(path = "inventory/documents.html")]
struct DocsPage {
    ui: Ui,
    rows: Vec<DocRow>,
    sites: Vec<(String, String)>,
    kinds: Vec<(String, String)>,
    location_id: String,
    kind: String,
    total: i64,
    offset: i64,
    limit: i64,
    can_post: bool,
}

impl DocsPage {
    fn showing(&self) -> String {
        showing(&self.ui, self.offset, self.limit, self.total)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.limit).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + self.limit < self.total).then_some(self.offset + self.limit)
    }
}

pub async fn documents(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<DocQuery>,
) -> Response {
    let scope = scope_cookie(&parts);
    let ui = ui(
        &state,
        scope.clone(),
        &ctx.actor,
        "documents",
        "inv.documents",
    )
    .await;
    let sites = sites(&state, &ctx.actor, scope).await;
    let names = site_names(&sites, &ui.locale);
    let f = DocFilter {
        location_id: Some(q.location_id.clone()).filter(|s| !s.is_empty()),
        kind: Some(q.kind.clone()).filter(|s| !s.is_empty()),
        limit: Some(PAGE),
        offset: Some(q.offset.max(0)),
        ..DocFilter::default()
    };
    let (docs, total) = match ledger::list_docs(&state.platform, &ctx.actor, &f).await {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    let rows = doc_rows(&ui, docs, &names);
    let kinds = [
        "opening",
        "receipt",
        "issue",
        "waste",
        "adjustment",
        "return",
        "count",
        "production",
        "transfer_out",
        "transfer_in",
        "sale",
    ]
    .iter()
    .map(|k| (k.to_string(), ui.t(&format!("inv.kind.{k}"))))
    .collect();
    render(DocsPage {
        can_post: ctx.actor.has_anywhere(perm::INVENTORY_MOVE_CREATE),
        sites: sites
            .iter()
            .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(&ui.locale))))
            .collect(),
        ui,
        rows,
        kinds,
        location_id: q.location_id,
        kind: q.kind,
        total,
        offset: q.offset.max(0),
        limit: PAGE,
    })
}

pub struct DocLine {
    pub item_id: String,
    pub item: String,
    pub lot: String,
    pub kind_label: String,
    pub qty: String,
    pub value: String,
    pub negative: bool,
}

#[derive(askama::Template)]
#[template(path = "inventory/document.html")]
struct DocPage {
    ui: Ui,
    doc: Doc,
    location: String,
    kind_label: String,
    lines: Vec<DocLine>,
    total: String,
    can_reverse: bool,
    flash_saved: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    #[serde(default)]
    pub saved: Option<String>,
}

pub async fn document(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(sq): Query<SavedQuery>,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "documents",
        "inv.document",
    )
    .await;
    let p = &state.platform;
    let doc = match ledger::get_doc(p, &ctx.actor, &id).await {
        Ok(d) => d,
        Err(e) => return error_page(e),
    };
    let loc = org::get(p, &ctx.actor, &doc.location_id).await.ok();
    let ids: Vec<String> = doc.movements.iter().map(|m| m.item_id.clone()).collect();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let lots = lot_codes(&state, &doc).await;
    let lines = doc
        .movements
        .iter()
        .map(|m| {
            let it = items.get(&m.item_id);
            DocLine {
                item_id: m.item_id.clone(),
                item: it
                    .map(|i| format!("{} {}", i.code, i.name(&ui.locale)))
                    .unwrap_or_default(),
                lot: lots.get(&m.lot_id).cloned().unwrap_or_default(),
                kind_label: ui.t(&format!("inv.kind.{}", m.kind)),
                qty: qty_unit(m.qty, it.map(|i| i.base_unit.as_str()).unwrap_or("")),
                value: money(m.value),
                negative: m.went_negative,
            }
        })
        .collect();
    let reversible = doc.reverses_id.is_none()
        && doc.reversed_by.is_none()
        && (ledger::MANUAL_KINDS.contains(&doc.kind.as_str())
            || doc.kind == "count"
            || doc.kind == "production");
    let can_reverse = reversible
        && loc
            .as_ref()
            .is_some_and(|l| ctx.actor.allows(perm::INVENTORY_MOVE_CREATE, &l.path));
    render(DocPage {
        location: loc
            .map(|l| format!("{} {}", l.code, l.name(&ui.locale)))
            .unwrap_or_default(),
        kind_label: ui.t(&format!("inv.kind.{}", doc.kind)),
        total: money(doc.total_value),
        lines,
        can_reverse,
        flash_saved: sq.saved.is_some(),
        doc,
        ui,
    })
}

async fn lot_codes(state: &AppState, doc: &Doc) -> HashMap<String, String> {
    let ids: Vec<String> = doc
        .movements
        .iter()
        .filter(|m| !m.lot_id.is_empty())
        .map(|m| m.lot_id.clone())
        .collect();
    ledger::lot_codes(&state.platform, &ids)
        .await
        .unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
pub struct ReverseForm {
    #[serde(default)]
    pub _csrf: String,
}

pub async fn reverse_document(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(_f): Form<ReverseForm>,
) -> Response {
    match ledger::reverse(&state.platform, &ctx, &id, None, None).await {
        Ok(d) => Redirect::to(&format!("/inventory/documents/{}?saved=1", d.id)).into_response(),
        Err(e) => error_page(e),
    }
}

// ---------------------------------------------------------------- posting form

pub const FORM_KINDS: &[&str] = &[
    "receipt",
    "issue",
    "waste",
    "adjustment",
    "opening",
    "return",
];

#[derive(Debug, Default, Deserialize)]
pub struct NewDocQuery {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub location_id: String,
    #[serde(default)]
    pub rows: Option<usize>,
}

#[derive(Debug, Clone, Default)]
pub struct FormLine {
    pub item: String,
    pub qty: String,
    pub unit: String,
    pub unit_cost: String,
    pub lot_code: String,
    pub expiry_date: String,
    pub reason: String,
}

#[derive(askama::Template)]
#[template(path = "inventory/document_form.html")]
struct DocFormPage {
    ui: Ui,
    kind: String,
    kinds: Vec<(String, String)>,
    location_id: String,
    sites: Vec<(String, String)>,
    business_date: String,
    reference: String,
    note: String,
    lines: Vec<FormLine>,
    item_options: Vec<(String, String)>,
    reasons: Vec<(String, String)>,
    errors: FormErrors,
    more_rows: usize,
}

impl DocFormPage {
    fn err(&self, i: &usize, field: &str) -> String {
        self.errors.get(&format!("lines[{i}].{field}"))
    }
    fn line_errors(&self, i: &usize) -> String {
        let prefix = format!("lines[{i}].");
        self.errors
            .fields
            .iter()
            .filter(|f| f.field.starts_with(&prefix))
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn shows_cost(&self) -> bool {
        matches!(self.kind.as_str(), "receipt" | "opening" | "adjustment")
    }
    fn shows_reason(&self) -> bool {
        matches!(self.kind.as_str(), "waste" | "adjustment" | "return")
    }
}

async fn item_options(state: &AppState, actor: &Actor, locale: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let f = ItemFilter {
            limit: Some(500),
            offset: Some(offset),
            ..ItemFilter::default()
        };
        let Ok((items, total)) = catalog::list_items(&state.platform, actor, &f).await else {
            break;
        };
        let n = items.len() as i64;
        out.extend(items.into_iter().filter(|i| i.stocked).map(|i| {
            (
                i.code.clone(),
                format!("{} ({})", i.name(locale), i.base_unit),
            )
        }));
        offset += n;
        if n == 0 || offset >= total || offset >= 5000 {
            break;
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn doc_form(
    state: &AppState,
    parts: &Parts,
    actor: &Actor,
    kind: &str,
    location_id: &str,
    business_date: String,
    reference: String,
    note: String,
    lines: Vec<FormLine>,
    errors: FormErrors,
) -> Response {
    let scope = scope_cookie(parts);
    let ui = ui(state, scope.clone(), actor, "documents", "inv.new_document").await;
    let sites: Vec<(String, String)> = sites(state, actor, scope)
        .await
        .into_iter()
        .filter(|s| actor.allows(perm::INVENTORY_MOVE_CREATE, &s.path))
        .map(|s| (s.id.clone(), format!("{} {}", s.code, s.name(&ui.locale))))
        .collect();
    let kind = if FORM_KINDS.contains(&kind) {
        kind.to_string()
    } else {
        "receipt".to_string()
    };
    let location_id = if location_id.is_empty() {
        sites.first().map(|s| s.0.clone()).unwrap_or_default()
    } else {
        location_id.to_string()
    };
    let item_options = item_options(state, actor, &ui.locale).await;
    let more_rows = lines.len() + 5;
    render(DocFormPage {
        kinds: FORM_KINDS
            .iter()
            .map(|k| (k.to_string(), ui.t(&format!("inv.kind.{k}"))))
            .collect(),
        reasons: ledger::WASTE_REASONS
            .iter()
            .map(|r| (r.to_string(), ui.t(&format!("inv.reason.{r}"))))
            .collect(),
        kind,
        location_id,
        sites,
        business_date,
        reference,
        note,
        lines,
        item_options,
        errors,
        more_rows,
        ui,
    })
}

pub async fn new_document_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<NewDocQuery>,
) -> Response {
    let rows = q.rows.unwrap_or(4).clamp(1, 200);
    doc_form(
        &state,
        &parts,
        &ctx.actor,
        &q.kind,
        &q.location_id,
        String::new(),
        String::new(),
        String::new(),
        vec![FormLine::default(); rows],
        FormErrors::default(),
    )
    .await
}

/// Posting form: `kind`, `location_id`, `business_date`, `reference`, `note`, and per line N
/// `item_N` (code, optionally followed by ` — name`), `qty_N`, `unit_N`, `cost_N`, `lot_N`,
/// `expiry_N`, `reason_N`. Empty lines are ignored.
pub async fn post_document(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(|s| s.trim().to_string()).unwrap_or_default();
    let kind = get("kind");
    let location_id = get("location_id");
    let mut lines: Vec<FormLine> = Vec::new();
    let mut n = 0usize;
    while f.contains_key(&format!("item_{n}")) && n < 1000 {
        lines.push(FormLine {
            item: get(&format!("item_{n}")),
            qty: get(&format!("qty_{n}")),
            unit: get(&format!("unit_{n}")),
            unit_cost: get(&format!("cost_{n}")),
            lot_code: get(&format!("lot_{n}")),
            expiry_date: get(&format!("expiry_{n}")),
            reason: get(&format!("reason_{n}")),
        });
        n += 1;
    }
    // Keep the filled lines only (numbered as they will be posted).
    let filled: Vec<FormLine> = lines
        .into_iter()
        .filter(|l| !l.item.is_empty() || !l.qty.is_empty())
        .collect();
    let mut pre = Vec::new();
    let mut inputs = Vec::new();
    for (i, l) in filled.iter().enumerate() {
        let code = l
            .item
            .split(" — ")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let qty = match Qty::parse(&l.qty) {
            Ok(q) => q,
            Err(e) => {
                pre.push(boh_platform::FieldError::new(
                    &format!("lines[{i}].qty"),
                    format!("quantity {e}"),
                ));
                Qty::ZERO
            }
        };
        inputs.push(LineInput {
            item_code: Some(code).filter(|c| !c.is_empty()),
            item_id: None,
            qty,
            unit: Some(l.unit.clone()).filter(|s| !s.is_empty()),
            unit_cost: Some(l.unit_cost.clone()).filter(|s| !s.is_empty()),
            lot_code: Some(l.lot_code.clone()).filter(|s| !s.is_empty()),
            expiry_date: Some(l.expiry_date.clone()).filter(|s| !s.is_empty()),
            reason: Some(l.reason.clone()).filter(|s| !s.is_empty()),
        });
    }
    let result = if pre.is_empty() {
        ledger::post_manual(
            &state.platform,
            &ctx,
            DocInput {
                location_id: location_id.clone(),
                kind: kind.clone(),
                business_date: Some(get("business_date")).filter(|s| !s.is_empty()),
                reference: Some(get("reference")).filter(|s| !s.is_empty()),
                note: Some(get("note")).filter(|s| !s.is_empty()),
                lines: inputs,
            },
        )
        .await
    } else {
        Err(PlatformError::Validation(pre))
    };
    match result {
        Ok(d) => Redirect::to(&format!("/inventory/documents/{}?saved=1", d.id)).into_response(),
        Err(e) => {
            let locale = crate::i18n::normalise(&ctx.actor.locale).to_string();
            let errors = match e {
                PlatformError::Refused {
                    message, fields, ..
                } => FormErrors {
                    general: Some(crate::i18n::field_message(&locale, &message)),
                    fields: fields
                        .into_iter()
                        .map(|f| boh_platform::FieldError {
                            message: crate::i18n::field_message(&locale, &f.message),
                            ..f
                        })
                        .collect(),
                },
                other => match FormErrors::from_platform(other, &locale) {
                    Ok(fe) => fe,
                    Err(resp) => return resp,
                },
            };
            let mut lines = filled;
            if lines.is_empty() {
                lines = vec![FormLine::default(); 6];
            }
            let mut r = doc_form(
                &state,
                &parts,
                &ctx.actor,
                &kind,
                &location_id,
                get("business_date"),
                get("reference"),
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

// ---------------------------------------------------------------- exports

const ITEM_HEADERS: &[&str] = &[
    "code",
    "name_zh",
    "name_en",
    "category_code",
    "kind",
    "base_unit",
    "storage_type",
    "shelf_life_days",
    "lot_tracked",
    "stocked",
    "pos_code",
    "active",
    "units",
    "barcodes",
];

/// The item list as CSV or XLSX, in the columns the items importer reads.
pub async fn export_items(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    format: crate::export::ExportFormat,
    Query(q): Query<ItemQuery>,
) -> Response {
    let p = &state.platform;
    let cats: HashMap<String, String> = catalog::list_categories(p, &ctx.actor, None)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.id, c.code))
        .collect();
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let f = ItemFilter {
            q: Some(q.q.clone()),
            category_id: Some(q.category_id.clone()).filter(|s| !s.is_empty()),
            kind: Some(q.kind.clone()).filter(|s| !s.is_empty()),
            active: Some("all".into()),
            limit: Some(500),
            offset: Some(offset),
            ..ItemFilter::default()
        };
        let (items, total) = match catalog::list_items(p, &ctx.actor, &f).await {
            Ok(v) => v,
            Err(e) => return error_page(e),
        };
        let n = items.len() as i64;
        for i in items {
            rows.push(vec![
                i.code.clone(),
                i.name_zh.clone(),
                i.name_en.clone(),
                i.category_id
                    .as_ref()
                    .and_then(|c| cats.get(c))
                    .cloned()
                    .unwrap_or_default(),
                i.kind.clone(),
                i.base_unit.clone(),
                i.storage_type.clone(),
                i.shelf_life_days.map(|d| d.to_string()).unwrap_or_default(),
                i.lot_tracked.to_string(),
                i.stocked.to_string(),
                i.pos_code.clone().unwrap_or_default(),
                i.active.to_string(),
                i.units
                    .iter()
                    .map(|u| format!("{}={}", u.unit, u.factor))
                    .collect::<Vec<_>>()
                    .join(";"),
                i.barcodes
                    .iter()
                    .map(|b| format!("{}:{}", b.barcode, b.unit))
                    .collect::<Vec<_>>()
                    .join(";"),
            ]);
        }
        offset += n;
        if n == 0 || offset >= total {
            break;
        }
    }
    crate::export::respond(
        format,
        "items",
        &crate::export::text_sheet("items", ITEM_HEADERS, rows),
    )
}

/// The company's categories as CSV or XLSX, in the columns the categories importer reads.
pub async fn export_categories(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    format: crate::export::ExportFormat,
) -> Response {
    match boh_inventory::import::export_categories(&state.platform, &ctx.actor).await {
        Ok(sheet) => crate::export::respond(format, "categories", &sheet),
        Err(e) => error_page(e),
    }
}

/// Every supplier price (the price history) as CSV or XLSX, in the supplier prices importer's
/// columns.
pub async fn export_prices(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    format: crate::export::ExportFormat,
) -> Response {
    match boh_inventory::import::export_prices(&state.platform, &ctx.actor).await {
        Ok(sheet) => crate::export::respond(format, "supplier-prices", &sheet),
        Err(e) => error_page(e),
    }
}

/// Every recipe version, one row per line, as CSV or XLSX in the recipes importer's columns.
pub async fn export_recipes(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    format: crate::export::ExportFormat,
) -> Response {
    match boh_inventory::import::export_recipes(&state.platform, &ctx.actor).await {
        Ok(sheet) => crate::export::respond(format, "recipes", &sheet),
        Err(e) => error_page(e),
    }
}

const STOCK_HEADERS: &[&str] = &[
    "location_code",
    "item_code",
    "item_name_zh",
    "item_name_en",
    "base_unit",
    "on_hand",
    "value",
    "unit_cost",
    "min",
    "par",
    "max",
];

/// On-hand as CSV or XLSX.
pub async fn export_stock(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    format: crate::export::ExportFormat,
    Query(q): Query<StockQuery>,
) -> Response {
    let mut rows = Vec::new();
    let mut offset = 0;
    loop {
        let f = StockFilter {
            location_id: Some(q.location_id.clone()).filter(|s| !s.is_empty()),
            q: Some(q.q.clone()),
            low: Some(q.low.as_deref() == Some("true")),
            limit: Some(500),
            offset: Some(offset),
            ..StockFilter::default()
        };
        let (stock, total) = match ledger::list_stock(&state.platform, &ctx.actor, &f).await {
            Ok(v) => v,
            Err(e) => return error_page(e),
        };
        let n = stock.len() as i64;
        let lvl = |q: Option<Qty>| q.map(|q| q.to_text()).unwrap_or_default();
        for r in stock {
            rows.push(vec![
                r.location_code.clone(),
                r.item_code.clone(),
                r.item_name_zh.clone(),
                r.item_name_en.clone(),
                r.base_unit.clone(),
                r.qty.to_text(),
                money_text(r.value),
                boh_kernel::qty::format_scaled(r.unit_cost_e6, 8),
                lvl(r.min_qty),
                lvl(r.par_qty),
                lvl(r.max_qty),
            ]);
        }
        offset += n;
        if n == 0 || offset >= total {
            break;
        }
    }
    crate::export::respond(
        format,
        "stock",
        &crate::export::text_sheet("stock", STOCK_HEADERS, rows),
    )
}
