//! Supplier pages: list with search, state filter, paging and export; create; a supplier's
//! page with its details, items and current prices, price history with a chart, and forms to
//! add items and prices.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_inventory::catalog::UpsertMode;
use boh_inventory::supplier::{
    self, Price, PriceFilter, PriceInput, Supplier, SupplierFilter, SupplierInput, SupplierItem,
    SupplierItemInput,
};
use boh_kernel::qty::money_text;
use boh_platform::{Ctx, FieldError, PlatformError};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::chart::{Datum, line_chart_with};
use crate::extract::PageActor;
use crate::state::AppState;

const PAGE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    /// true (default), false or all
    #[serde(default)]
    pub active: String,
    #[serde(default)]
    pub offset: i64,
}

impl ListQuery {
    fn active(&self) -> &str {
        if self.active.is_empty() {
            "true"
        } else {
            &self.active
        }
    }
}

/// Weekday names for ISO weekdays.
fn weekdays(ui: &Ui, days: &[i64]) -> String {
    if days.len() == 7 {
        return ui.t("supplier.every_day");
    }
    days.iter()
        .map(|d| ui.t(&format!("weekday.{d}")))
        .collect::<Vec<_>>()
        .join(" ")
}

pub struct Row {
    pub s: Supplier,
    pub name: String,
    pub days: String,
}

#[derive(askama::Template)]
#[template(path = "suppliers/list.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<Row>,
    q: String,
    active: String,
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
    fn query_base(&self) -> String {
        format!(
            "q={}&active={}",
            crate::extract::urlencode(&self.q),
            crate::extract::urlencode(&self.active)
        )
    }
}

fn filter_of(q: &ListQuery, limit: i64) -> SupplierFilter {
    SupplierFilter {
        company_id: None,
        q: Some(q.q.clone()),
        active: Some(q.active().to_string()),
        limit: Some(limit),
        offset: Some(q.offset),
    }
}

fn can_manage(actor: &boh_kernel::Actor) -> bool {
    actor
        .company_id
        .as_deref()
        .is_some_and(|c| boh_inventory::require_catalog(actor, c).is_ok())
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
        "suppliers",
        "supplier.title",
    )
    .await;
    let (suppliers, total) =
        match supplier::list_suppliers(&state.platform, &ctx.actor, &filter_of(&q, PAGE)).await {
            Ok(v) => v,
            Err(e) => return error_page(e),
        };
    let rows = suppliers
        .into_iter()
        .map(|s| Row {
            name: s.name(&ui.locale).to_string(),
            days: weekdays(&ui, &s.delivery_days),
            s,
        })
        .collect();
    let export_query = format!(
        "q={}&active={}",
        crate::extract::urlencode(&q.q),
        crate::extract::urlencode(q.active())
    );
    render(ListPage {
        can_create: can_manage(&ctx.actor),
        ui,
        rows,
        active: q.active().to_string(),
        q: q.q,
        total,
        offset: q.offset.max(0),
        limit: PAGE,
        export_query,
    })
}

const EXPORT_HEADERS: &[&str] = &[
    "code",
    "name_zh",
    "name_en",
    "contact_name",
    "phone",
    "email",
    "address",
    "lead_time_days",
    "delivery_days",
    "min_order",
    "currency",
    "active",
];

fn export_row(s: &Supplier) -> Vec<String> {
    vec![
        s.code.clone(),
        s.name_zh.clone(),
        s.name_en.clone(),
        s.contact_name.clone().unwrap_or_default(),
        s.phone.clone().unwrap_or_default(),
        s.email.clone().unwrap_or_default(),
        s.address.clone().unwrap_or_default(),
        s.lead_time_days.to_string(),
        s.delivery_days
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(","),
        money_text(s.min_order_minor),
        s.currency.clone(),
        s.active.to_string(),
    ]
}

async fn export_rows(
    state: &AppState,
    actor: &boh_kernel::Actor,
    q: &ListQuery,
) -> Result<Vec<Supplier>, Response> {
    let mut all = Vec::new();
    let mut q2 = ListQuery {
        q: q.q.clone(),
        active: q.active().to_string(),
        offset: 0,
    };
    loop {
        let (rows, total) = supplier::list_suppliers(&state.platform, actor, &filter_of(&q2, 500))
            .await
            .map_err(error_page)?;
        let n = rows.len() as i64;
        all.extend(rows);
        q2.offset += n;
        if n == 0 || q2.offset >= total {
            break;
        }
    }
    Ok(all)
}

/// The supplier list as CSV or XLSX.
pub async fn export(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    format: crate::export::ExportFormat,
    Query(q): Query<ListQuery>,
) -> Response {
    let rows = match export_rows(&state, &ctx.actor, &q).await {
        Ok(r) => r,
        Err(r) => return r,
    };
    let rows = rows.iter().map(export_row).collect();
    crate::export::respond(
        format,
        "suppliers",
        &crate::export::text_sheet("suppliers", EXPORT_HEADERS, rows),
    )
}

// ---------------------------------------------------------------- the supplier form

/// Values of the supplier form, as typed; `delivery_days` repeats once per ticked day.
#[derive(Debug, Default, Deserialize, Clone)]
pub struct SupplierForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub lead_time_days: String,
    #[serde(default)]
    pub delivery_days: Vec<String>,
    #[serde(default)]
    pub min_order: String,
    #[serde(default)]
    pub currency: String,
    #[serde(default)]
    pub active: String,
    #[serde(default)]
    pub version: String,
}

impl SupplierForm {
    fn of(s: &Supplier) -> SupplierForm {
        SupplierForm {
            code: s.code.clone(),
            name_zh: s.name_zh.clone(),
            name_en: s.name_en.clone(),
            contact_name: s.contact_name.clone().unwrap_or_default(),
            phone: s.phone.clone().unwrap_or_default(),
            email: s.email.clone().unwrap_or_default(),
            address: s.address.clone().unwrap_or_default(),
            lead_time_days: s.lead_time_days.to_string(),
            delivery_days: s.delivery_days.iter().map(|d| d.to_string()).collect(),
            min_order: money_text(s.min_order_minor),
            currency: s.currency.clone(),
            active: s.active.to_string(),
            version: s.version.to_string(),
        }
    }

    fn value(&self, field: &str) -> &str {
        match field {
            "code" => &self.code,
            "name_zh" => &self.name_zh,
            "name_en" => &self.name_en,
            "contact_name" => &self.contact_name,
            "phone" => &self.phone,
            "email" => &self.email,
            "address" => &self.address,
            "lead_time_days" => &self.lead_time_days,
            "min_order" => &self.min_order,
            "currency" => &self.currency,
            _ => "",
        }
    }

    /// The weekday boxes: number, name, ticked.
    fn day_options(&self, ui: &Ui) -> Vec<(i64, String, bool)> {
        (1..=7)
            .map(|d| {
                (
                    d,
                    ui.t(&format!("weekday.{d}")),
                    self.delivery_days.iter().any(|x| *x == d.to_string()),
                )
            })
            .collect()
    }

    /// The input the form stands for; numbers that do not parse are field errors.
    fn input(&self, errors: &mut Vec<FieldError>) -> SupplierInput {
        let lead = match self.lead_time_days.trim() {
            "" => None,
            t => match t.parse::<i64>() {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.push(FieldError::new("lead_time_days", "must be a number"));
                    None
                }
            },
        };
        let min = match self.min_order.trim() {
            "" => None,
            t => match boh_kernel::qty::parse_money(t) {
                Ok(v) => Some(v),
                Err(_) => {
                    errors.push(FieldError::new("min_order", "must be a number"));
                    None
                }
            },
        };
        let days = self
            .delivery_days
            .iter()
            .filter_map(|d| d.parse::<i64>().ok())
            .collect();
        SupplierInput {
            company_id: None,
            code: self.code.clone(),
            name: None,
            name_zh: Some(self.name_zh.clone()).filter(|s| !s.trim().is_empty()),
            name_en: Some(self.name_en.clone()),
            contact_name: Some(self.contact_name.clone()),
            phone: Some(self.phone.clone()),
            email: Some(self.email.clone()),
            address: Some(self.address.clone()),
            lead_time_days: lead,
            delivery_days: Some(days),
            min_order_minor: min,
            currency: Some(self.currency.clone()),
            active: match self.active.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            version: self.version.trim().parse().ok(),
        }
    }
}

/// `min_order_minor` errors belong to the form's `min_order` field.
fn form_field_errors(mut e: FormErrors) -> FormErrors {
    for f in &mut e.fields {
        if f.field == "min_order_minor" {
            f.field = "min_order".into();
        }
    }
    e
}

#[derive(askama::Template)]
#[template(path = "suppliers/form.html")]
struct NewPage {
    ui: Ui,
    form: SupplierForm,
    errors: FormErrors,
}

pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "suppliers",
        "supplier.new",
    )
    .await;
    render(NewPage {
        ui,
        form: SupplierForm {
            lead_time_days: "1".into(),
            delivery_days: (1..=7).map(|d| d.to_string()).collect(),
            currency: "CNY".into(),
            min_order: "0.00".into(),
            ..Default::default()
        },
        errors: FormErrors::default(),
    })
}

pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<SupplierForm>,
) -> Response {
    let mut errors = Vec::new();
    let input = form.input(&mut errors);
    let result = if errors.is_empty() {
        supplier::upsert_suppliers(
            &state.platform,
            &ctx,
            None,
            &[(String::new(), input)],
            UpsertMode::CreateOnly,
            false,
        )
        .await
        .and_then(|r| {
            r.suppliers
                .into_iter()
                .next()
                .ok_or(PlatformError::NotFound)
        })
    } else {
        Err(PlatformError::Validation(errors))
    };
    match result {
        Ok(s) => Redirect::to(&format!("/suppliers/{}?created=1", s.id)).into_response(),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => {
                let ui = ui(
                    &state,
                    scope_cookie(&parts),
                    &ctx.actor,
                    "suppliers",
                    "supplier.new",
                )
                .await;
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render(NewPage {
                        ui,
                        form,
                        errors: form_field_errors(errors),
                    }),
                )
                    .into_response()
            }
            Err(resp) => resp,
        },
    }
}

// ---------------------------------------------------------------- the supplier page

pub struct ItemRow {
    pub si: SupplierItem,
    pub name: String,
    pub price: String,
    pub per_base: String,
    pub since: String,
}

pub struct PriceRow {
    pub p: Price,
    pub item: String,
    pub price: String,
    pub per_base: String,
    pub who: String,
    pub at: String,
    pub in_force: bool,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct ItemForm {
    #[serde(default)]
    pub item_code: String,
    #[serde(default)]
    pub pack_unit: String,
    #[serde(default)]
    pub supplier_sku: String,
    #[serde(default)]
    pub preferred: String,
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct PriceForm {
    #[serde(default)]
    pub supplier_item_id: String,
    #[serde(default)]
    pub price: String,
    #[serde(default)]
    pub effective_from: String,
    #[serde(default)]
    pub note: String,
}

#[derive(askama::Template)]
#[template(path = "suppliers/detail.html")]
struct DetailPage {
    ui: Ui,
    s: Supplier,
    name: String,
    days: String,
    min_order: String,
    items: Vec<ItemRow>,
    prices: Vec<PriceRow>,
    /// The supplier item the history and chart show ("" = all).
    selected: String,
    selected_label: String,
    chart: String,
    can_edit: bool,
    form: SupplierForm,
    /// Errors of the supplier form (the shared field template calls them `errors`).
    errors: FormErrors,
    item_form: ItemForm,
    item_errors: FormErrors,
    price_form: PriceForm,
    price_errors: FormErrors,
    item_codes: Vec<(String, String)>,
    /// Which form failed ("supplier", "item", "price"), to open it.
    open: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    pub item: String,
    pub created: Option<String>,
    pub saved: Option<String>,
    pub priced: Option<String>,
    pub added: Option<String>,
}

#[derive(Default)]
struct Forms {
    form: Option<SupplierForm>,
    form_errors: FormErrors,
    item_form: ItemForm,
    item_errors: FormErrors,
    price_form: PriceForm,
    price_errors: FormErrors,
    open: String,
}

async fn detail_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    selected: &str,
    forms: Forms,
) -> Result<DetailPage, Response> {
    let p = &state.platform;
    let s = supplier::get_supplier(p, &ctx.actor, id)
        .await
        .map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "suppliers",
        "supplier.title",
    )
    .await;
    let items = supplier::list_supplier_items(p, &ctx.actor, &s.id)
        .await
        .map_err(error_page)?;
    let selected = if items.iter().any(|i| i.id == selected) {
        selected.to_string()
    } else {
        String::new()
    };
    let (prices, _) = supplier::list_prices(
        p,
        &ctx.actor,
        &s.id,
        &PriceFilter {
            supplier_item_id: Some(selected.clone()).filter(|s| !s.is_empty()),
            limit: Some(200),
            offset: None,
        },
    )
    .await
    .map_err(error_page)?;
    let names: HashMap<String, String> = items
        .iter()
        .map(|i| {
            (
                i.id.clone(),
                format!(
                    "{} {} / {}",
                    i.item_code,
                    if ui.is_zh() {
                        &i.item_name_zh
                    } else {
                        &i.item_name_en
                    },
                    i.pack_unit
                ),
            )
        })
        .collect();
    let current: Vec<String> = items
        .iter()
        .filter_map(|i| i.current_price.as_ref().map(|p| p.id.clone()))
        .collect();
    let mut who: HashMap<String, String> = HashMap::new();
    for pr in &prices {
        if !who.contains_key(&pr.created_by) {
            let name = boh_platform::iam::fetch_user(p, &pr.created_by)
                .await
                .ok()
                .flatten()
                .map(|u| u.display_name)
                .unwrap_or_else(|| pr.created_by.clone());
            who.insert(pr.created_by.clone(), name);
        }
    }
    // The chart: the selected item's price per pack over its effective dates (the price in
    // force on each date, i.e. the last recorded for a date), or the first item's.
    let chart_item = if selected.is_empty() {
        items.first().map(|i| i.id.clone()).unwrap_or_default()
    } else {
        selected.clone()
    };
    let mut series: Vec<&Price> = prices
        .iter()
        .filter(|pr| pr.supplier_item_id == chart_item)
        .collect();
    series.reverse(); // oldest first; for one date the last recorded comes last
    let mut points: Vec<Datum> = Vec::new();
    for pr in series {
        match points.last_mut() {
            Some(d) if d.label == pr.effective_from => d.value = pr.price_minor,
            _ => points.push(Datum {
                label: pr.effective_from.clone(),
                value: pr.price_minor,
            }),
        }
    }
    let chart = if points.is_empty() {
        String::new()
    } else {
        line_chart_with(
            &format!(
                "{} · {}",
                ui.t("supplier.price_history"),
                names.get(&chart_item).cloned().unwrap_or_default()
            ),
            &points,
            &|v| money_text(v),
        )
    };
    let base_of: HashMap<String, String> = items
        .iter()
        .map(|i| (i.item_id.clone(), format!(" / {}", i.base_unit)))
        .collect();
    let item_rows = items
        .into_iter()
        .map(|i| {
            let cp = i.current_price.clone();
            ItemRow {
                name: if ui.is_zh() {
                    i.item_name_zh.clone()
                } else {
                    i.item_name_en.clone()
                },
                price: cp
                    .as_ref()
                    .map(|p| format!("{} {}", money_text(p.price_minor), p.currency))
                    .unwrap_or_else(|| "—".into()),
                per_base: cp
                    .as_ref()
                    .map(|p| {
                        format!(
                            "{} / {}",
                            supplier::cost_e6_text(p.unit_cost_e6),
                            i.base_unit
                        )
                    })
                    .unwrap_or_else(|| "—".into()),
                since: cp.map(|p| p.effective_from).unwrap_or_default(),
                si: i,
            }
        })
        .collect();
    let price_rows = prices
        .into_iter()
        .map(|pr| PriceRow {
            item: names.get(&pr.supplier_item_id).cloned().unwrap_or_default(),
            price: format!("{} {}", money_text(pr.price_minor), pr.currency),
            per_base: format!(
                "{}{}",
                supplier::cost_e6_text(pr.unit_cost_e6),
                base_of.get(&pr.item_id).cloned().unwrap_or_default()
            ),
            who: who.get(&pr.created_by).cloned().unwrap_or_default(),
            at: pr
                .created_at
                .get(..16)
                .unwrap_or(&pr.created_at)
                .replace('T', " "),
            in_force: current.contains(&pr.id),
            p: pr,
        })
        .collect();
    let can_edit = boh_inventory::require_catalog(&ctx.actor, &s.company_id).is_ok();
    let item_codes = if can_edit && s.active {
        boh_inventory::catalog::list_items(
            p,
            &ctx.actor,
            &boh_inventory::catalog::ItemFilter {
                company_id: Some(s.company_id.clone()),
                limit: Some(500),
                ..Default::default()
            },
        )
        .await
        .map(|(v, _)| {
            v.into_iter()
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
    let mut price_form = forms.price_form;
    if price_form.effective_from.is_empty() {
        let tz = boh_inventory::company(p, &ctx.actor, Some(&s.company_id))
            .await
            .map(|c| c.timezone)
            .unwrap_or_else(|_| "UTC".into());
        price_form.effective_from = boh_inventory::today_in(&tz).to_string();
    }
    if price_form.supplier_item_id.is_empty() {
        price_form.supplier_item_id = selected.clone();
    }
    Ok(DetailPage {
        name: s.name(&ui.locale).to_string(),
        days: weekdays(&ui, &s.delivery_days),
        min_order: format!("{} {}", money_text(s.min_order_minor), s.currency),
        selected_label: names.get(&selected).cloned().unwrap_or_default(),
        items: item_rows,
        prices: price_rows,
        selected,
        chart,
        can_edit,
        form: forms.form.unwrap_or_else(|| SupplierForm::of(&s)),
        errors: form_field_errors(forms.form_errors),
        item_form: forms.item_form,
        item_errors: forms.item_errors,
        price_form,
        price_errors: forms.price_errors,
        item_codes,
        open: forms.open,
        ui,
        s,
    })
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    match detail_page(&state, &parts, &ctx, &id, &q.item, Forms::default()).await {
        Ok(mut page) => {
            let flash = if q.created.is_some() {
                Some("supplier.created")
            } else if q.saved.is_some() {
                Some("common.saved")
            } else if q.priced.is_some() {
                Some("supplier.price_added")
            } else if q.added.is_some() {
                Some("supplier.item_added")
            } else {
                None
            };
            page.ui.flash = flash.map(|k| page.ui.t(k));
            render(page)
        }
        Err(r) => r,
    }
}

async fn failed(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    selected: &str,
    forms: Forms,
) -> Response {
    match detail_page(state, parts, ctx, id, selected, forms).await {
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response(),
        Err(r) => r,
    }
}

/// A refusal (a closed supplier, …) shown like a form error.
pub(crate) fn form_errors_of(e: PlatformError, locale: &str) -> Result<FormErrors, Response> {
    match e {
        PlatformError::Refused {
            message, fields, ..
        } => Ok(FormErrors {
            general: Some(crate::i18n::field_message(locale, &message)),
            fields,
        }),
        other => FormErrors::from_platform(other, locale),
    }
}

pub async fn update(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<SupplierForm>,
) -> Response {
    let cur = match supplier::get_supplier(&state.platform, &ctx.actor, &id).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let mut errors = Vec::new();
    let mut input = form.input(&mut errors);
    input.code = cur.code.clone();
    let result = if errors.is_empty() {
        supplier::upsert_suppliers(
            &state.platform,
            &ctx,
            Some(&cur.company_id),
            &[(String::new(), input)],
            UpsertMode::UpdateOnly,
            false,
        )
        .await
    } else {
        Err(PlatformError::Validation(errors))
    };
    match result {
        Ok(_) => Redirect::to(&format!("/suppliers/{id}?saved=1")).into_response(),
        Err(e) => match form_errors_of(e, &ctx.actor.locale) {
            Ok(errors) => {
                let forms = Forms {
                    form: Some(form),
                    form_errors: errors,
                    open: "supplier".into(),
                    ..Forms::default()
                };
                failed(&state, &parts, &ctx, &id, "", forms).await
            }
            Err(r) => r,
        },
    }
}

pub async fn add_item(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<ItemForm>,
) -> Response {
    let input = SupplierItemInput {
        item_id: None,
        item_code: Some(form.item_code.trim().to_string()),
        pack_unit: Some(form.pack_unit.clone()),
        supplier_sku: Some(form.supplier_sku.clone()),
        preferred: Some(form.preferred == "true"),
        active: Some(true),
    };
    match supplier::save_supplier_item(&state.platform, &ctx, &id, input).await {
        Ok(si) => Redirect::to(&format!("/suppliers/{id}?added=1&item={}", si.id)).into_response(),
        Err(e) => match form_errors_of(e, &ctx.actor.locale) {
            Ok(errors) => {
                let forms = Forms {
                    item_form: form,
                    item_errors: errors,
                    open: "item".into(),
                    ..Forms::default()
                };
                failed(&state, &parts, &ctx, &id, "", forms).await
            }
            Err(r) => r,
        },
    }
}

pub async fn add_price(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<PriceForm>,
) -> Response {
    let result = match boh_kernel::qty::parse_money(form.price.trim()) {
        Ok(minor) => {
            supplier::add_price(
                &state.platform,
                &ctx,
                &id,
                PriceInput {
                    supplier_item_id: form.supplier_item_id.clone(),
                    price_minor: minor,
                    effective_from: Some(form.effective_from.clone()),
                    note: Some(form.note.clone()),
                },
            )
            .await
        }
        Err(_) => Err(PlatformError::invalid(
            "price",
            "must be an amount such as 12.50",
        )),
    };
    match result {
        Ok(pr) => Redirect::to(&format!(
            "/suppliers/{id}?priced=1&item={}",
            pr.supplier_item_id
        ))
        .into_response(),
        Err(e) => match form_errors_of(e, &ctx.actor.locale) {
            Ok(mut errors) => {
                for f in &mut errors.fields {
                    if f.field == "price_minor" {
                        f.field = "price".into();
                    }
                }
                let selected = form.supplier_item_id.clone();
                let forms = Forms {
                    price_form: form,
                    price_errors: errors,
                    open: "price".into(),
                    ..Forms::default()
                };
                failed(&state, &parts, &ctx, &id, &selected, forms).await
            }
            Err(r) => r,
        },
    }
}
