//! Actual vs theoretical usage (AvT) for a store and period.
//!
//! For every stocked item of the store, over the business days `from..=to`:
//!
//! - **opening**: the stock at the close of day `from − 1`. When a posted count dated
//!   `from − 1` has a counted line for the item, its counted quantity (all lots); otherwise
//!   the ledger's on-hand at that point (the book), and the row says "book, not counted".
//! - **closing**: the stock at the close of day `to`: the counted quantity of the last posted
//!   count dated `to` covering the item, else the ledger's on-hand at the end of `to` (book).
//!   A count dated D is the stock at the close of D (after every movement of D).
//! - **flows in the period** (movements with a business date in `from..=to`, by kind):
//!   receipts = `receipt` + `opening` (an opening balance entered) − `return` (to a supplier);
//!   transfers in = `transfer_in`; transfers out = `transfer_out`; production in =
//!   `production_in` (what a kitchen made); production used = `production_out` (what a
//!   production consumed). `sale`, `waste`, `issue`, `adjustment` and `count` movements are
//!   not flows: they are what the report explains or measures.
//! - **actual usage** = opening + receipts + transfers in + production in − transfers out −
//!   closing: what disappeared from the shelves. With counts at both ends it is measured; with
//!   a book end it includes the ledger's own recorded outflows (sales depletion, waste, issues,
//!   adjustments) for that end.
//! - **theoretical usage** = the recipe depletion of the store's active sales batches of the
//!   period (`sales_usage`) + production used (the recipe consumption of production, at a
//!   central kitchen). Both are what recipes say should have been used.
//! - **waste** = the `waste` movements of the period, shown apart: recorded, explained loss.
//! - **variance** = actual − theoretical − waste: unexplained usage (positive: more used than
//!   recipes and waste account for). Manual issues, adjustments and count differences land
//!   here, as do sold items without a recipe.
//!
//! Values use one unit cost per item, the moving-average cost at the store as of the end of
//! `to` (the valuation rows less later movements; the last unit cost when nothing is on
//! hand), so every value column is quantity × the same cost, rounded half away from zero,
//! and the variance value is exactly actual − theoretical − waste values. Percentages are
//! basis points of the period's net sales (`sales_rollup_day`). Nothing is a float.
//!
//! Grouped by category (`inv_items.category_id`), rows add their item values; quantities are
//! not added across units.

use std::collections::{BTreeMap, HashMap};

use boh_db::{AssertSqlSafe, Row};
use boh_inventory::ledger::{unit_cost, value_at};
use boh_kernel::qty::mul_div_round;
use boh_kernel::{Actor, Qty, perm};
use boh_platform::{FieldError, Platform, PlatformError, Result};
use serde::{Deserialize, Serialize};

/// How the report is grouped.
pub const GROUPS: &[&str] = &["item", "category"];

/// The longest period a report covers, in days.
pub const MAX_DAYS: i64 = 366;

/// The headline of a store's AvT over a period (for dashboards).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VarianceSummary {
    pub store_id: String,
    pub from: String,
    pub to: String,
    /// Actual − theoretical usage value, minor units (positive: more used than sold).
    pub variance_value: i64,
    /// Theoretical usage value, minor units.
    pub theoretical_value: i64,
    /// Net sales of the period, minor units.
    pub sales_net: i64,
    /// Variance as basis points of sales (1 bp = 0.01 %).
    pub variance_bp_of_sales: Option<i64>,
}

/// Parameters of the AvT report.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AvtFilter {
    pub store_id: Option<String>,
    /// First business day, YYYY-MM-DD.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last business day, YYYY-MM-DD (at most 366 days after `from`).
    #[param(format = Date)]
    pub to: Option<String>,
    /// item (default) or category
    pub group: Option<String>,
}

/// One row: an item, or a category of items.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AvtRow {
    /// Item or category id (`""`: items without a category).
    pub id: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// Items only.
    pub base_unit: Option<String>,
    /// Quantities, items only (base unit).
    #[schema(value_type = Option<String>)]
    pub opening_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub receipts_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub transfers_in_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub transfers_out_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub production_in_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub production_used_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub sold_usage_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub closing_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub actual_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub theoretical_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub waste_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub variance_qty: Option<Qty>,
    /// Minor units per base unit × 10^6, items only.
    pub unit_cost_e6: Option<i64>,
    /// Values, minor units.
    pub opening_value: i64,
    pub closing_value: i64,
    pub actual_value: i64,
    pub theoretical_value: i64,
    pub waste_value: i64,
    pub variance_value: i64,
    /// Basis points of the period's net sales (none without sales).
    pub actual_bp: Option<i64>,
    pub theoretical_bp: Option<i64>,
    pub waste_bp: Option<i64>,
    pub variance_bp: Option<i64>,
    /// Items of the row whose opening / closing is the ledger's book, not a count.
    pub opening_book: i64,
    pub closing_book: i64,
    /// Items in the row.
    pub items: i64,
}

impl AvtRow {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") && !self.name_zh.is_empty() {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
    /// Opening or closing of some item is the book, not a count.
    pub fn is_book(&self) -> bool {
        self.opening_book > 0 || self.closing_book > 0
    }
}

/// Totals of the report (values, minor units).
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct AvtTotals {
    pub actual_value: i64,
    pub theoretical_value: i64,
    pub waste_value: i64,
    pub variance_value: i64,
    pub actual_bp: Option<i64>,
    pub theoretical_bp: Option<i64>,
    pub waste_bp: Option<i64>,
    pub variance_bp: Option<i64>,
}

/// The AvT report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Avt {
    pub store_id: String,
    pub store_code: String,
    pub store_name_zh: String,
    pub store_name_en: String,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub group: String,
    /// The business date whose close opens the period (`from − 1`).
    #[schema(format = Date)]
    pub opening_date: String,
    /// Whether a posted count dated `opening_date` exists (else the opening is the book).
    pub opening_counted: bool,
    /// Whether a posted count dated `to` exists (else the closing is the book).
    pub closing_counted: bool,
    /// Items whose opening or closing is the book ("book, not counted").
    pub book_items: i64,
    /// Net sales of the period, minor units.
    pub sales_net: i64,
    pub totals: AvtTotals,
    /// Largest absolute variance value first.
    pub rows: Vec<AvtRow>,
}

impl Avt {
    pub fn store_name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") && !self.store_name_zh.is_empty() {
            &self.store_name_zh
        } else {
            &self.store_name_en
        }
    }
}

/// Basis points of `value` over `base` (none when `base` ≤ 0).
pub fn bp_of(value: i64, base: i64) -> Option<i64> {
    (base > 0)
        .then(|| mul_div_round(value, 10_000, base))
        .flatten()
}

fn parse_day(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<&str>,
) -> Option<jiff::civil::Date> {
    match v.map(str::trim) {
        None => None,
        Some("") => {
            errors.push(FieldError::new(field, "must be a date as YYYY-MM-DD"));
            None
        }
        Some(s) => match s.parse::<jiff::civil::Date>() {
            Ok(d) if d >= jiff::civil::date(2000, 1, 2) => Some(d),
            Ok(_) => {
                errors.push(FieldError::new(field, "must be in the year 2000 or later"));
                None
            }
            Err(_) => {
                errors.push(FieldError::new(field, "must be a date as YYYY-MM-DD"));
                None
            }
        },
    }
}

/// Check a period: both dates valid, `to` not before `from`, at most [`MAX_DAYS`] days.
pub fn period(
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(jiff::civil::Date, jiff::civil::Date)> {
    let mut errors = Vec::new();
    let given_to = to.is_some();
    let given_from = from.is_some();
    // Defaults: up to today (UTC), the 28 days ending there.
    let t = parse_day(&mut errors, "to", to)
        .or_else(|| (!given_to).then(|| boh_inventory::today_in("UTC")));
    let f = parse_day(&mut errors, "from", from).or_else(|| {
        (!given_from)
            .then(|| t.and_then(|t| t.checked_sub(jiff::Span::new().days(27)).ok()))
            .flatten()
    });
    if let (Some(f), Some(t)) = (f, t) {
        if t < f {
            errors.push(FieldError::new("to", "must not be before from"));
        } else if days_between(f, t) >= MAX_DAYS {
            errors.push(FieldError::new(
                "to",
                format!("the period may cover at most {MAX_DAYS} days"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    match (f, t) {
        (Some(f), Some(t)) => Ok((f, t)),
        _ => Err(PlatformError::invalid(
            "from",
            "must be a date as YYYY-MM-DD",
        )),
    }
}

/// Whole days from `a` to `b`.
pub fn days_between(a: jiff::civil::Date, b: jiff::civil::Date) -> i64 {
    // Dates' spans default to days as their largest unit.
    a.until(b).map(|s| i64::from(s.get_days())).unwrap_or(0)
}

#[derive(Default)]
struct ItemAcc {
    cur_qty: i64,
    cur_value: i64,
    last_cost: i64,
    since_from: i64,
    after_to_qty: i64,
    after_to_value: i64,
    receipts: i64,
    transfers_in: i64,
    transfers_out: i64,
    production_in: i64,
    production_used: i64,
    waste: i64,
    sold: i64,
    open_count: Option<(i64, i64)>,
    close_count: Option<(i64, i64)>,
}

/// The AvT report of one store (`sales.read` on it) over `from..=to`.
pub async fn report(p: &Platform, actor: &Actor, f: &AvtFilter) -> Result<Avt> {
    let group = f
        .group
        .as_deref()
        .filter(|g| !g.is_empty())
        .unwrap_or("item");
    let mut errors = Vec::new();
    if !GROUPS.contains(&group) {
        errors.push(FieldError::new("group", "must be item or category"));
    }
    let mut store_id = f.store_id.as_deref().unwrap_or("").trim().to_string();
    if store_id.is_empty() {
        // The actor's own store when their scope is one store.
        match crate::dashboard::home_node(p, actor).await {
            Ok(n) if n.is_site() => store_id = n.id,
            _ => errors.push(FieldError::new(
                "store_id",
                "is required (your scope holds several stores)",
            )),
        }
    }
    let per = period(f.from.as_deref(), f.to.as_deref());
    if let Err(PlatformError::Validation(e)) = &per {
        errors.extend(e.iter().cloned());
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let (from, to) = per?;
    let store = crate::store(p, actor, perm::SALES_READ, &store_id).await?;
    let opening_date = from
        .yesterday()
        .map_err(|_| PlatformError::invalid("from", "out of range"))?;
    let (from_s, to_s, open_s) = (from.to_string(), to.to_string(), opening_date.to_string());
    let db = p.db.pool();
    let mut acc: BTreeMap<String, ItemAcc> = BTreeMap::new();

    // Current quantity and value per item at the store.
    let rows = sqlx::query(
        "SELECT item_id, qty, value, last_unit_cost FROM inv_valuation WHERE location_id = $1",
    )
    .bind(&store.id)
    .fetch_all(db)
    .await?;
    for r in &rows {
        let a = acc.entry(r.try_get("item_id")?).or_default();
        a.cur_qty = r.try_get("qty")?;
        a.cur_value = r.try_get("value")?;
        a.last_cost = r.try_get("last_unit_cost")?;
    }
    // Movements since `from`, by item, kind and whether they fall after `to`.
    let rows = sqlx::query(
        "SELECT item_id, kind, CASE WHEN business_date > $3 THEN 1 ELSE 0 END AS later, \
         CAST(SUM(qty) AS BIGINT) AS qty, CAST(SUM(value) AS BIGINT) AS value \
         FROM inv_movements WHERE location_id = $1 AND business_date >= $2 \
         GROUP BY item_id, kind, CASE WHEN business_date > $3 THEN 1 ELSE 0 END",
    )
    .bind(&store.id)
    .bind(&from_s)
    .bind(&to_s)
    .fetch_all(db)
    .await?;
    for r in &rows {
        let a = acc.entry(r.try_get("item_id")?).or_default();
        let kind: String = r.try_get("kind")?;
        let later: i64 = r.try_get("later")?;
        let qty: i64 = r.try_get("qty")?;
        let value: i64 = r.try_get("value")?;
        a.since_from += qty;
        if later == 1 {
            a.after_to_qty += qty;
            a.after_to_value += value;
            continue;
        }
        match kind.as_str() {
            "receipt" | "opening" | "return" => a.receipts += qty,
            "transfer_in" => a.transfers_in += qty,
            "transfer_out" => a.transfers_out -= qty,
            "production_in" => a.production_in += qty,
            "production_out" => a.production_used -= qty,
            "waste" => a.waste -= qty,
            _ => {}
        }
    }
    // Recipe depletion of active batches.
    let rows = sqlx::query(
        "SELECT u.item_id, CAST(SUM(u.qty) AS BIGINT) AS qty FROM sales_usage u \
         JOIN sales_batches b ON b.id = u.batch_id \
         WHERE u.store_id = $1 AND u.business_date >= $2 AND u.business_date <= $3 AND b.status = 'active' \
         GROUP BY u.item_id",
    )
    .bind(&store.id)
    .bind(&from_s)
    .bind(&to_s)
    .fetch_all(db)
    .await?;
    for r in &rows {
        acc.entry(r.try_get("item_id")?).or_default().sold += r.try_get::<i64, _>("qty")?;
    }
    // Posted counts dated at the period's two ends: counted quantity per item (all lots).
    let rows = sqlx::query(
        "SELECT c.id, c.business_date, c.posted_at, l.item_id, CAST(SUM(l.counted_qty) AS BIGINT) AS qty \
         FROM inv_counts c JOIN inv_count_lines l ON l.count_id = c.id \
         WHERE c.location_id = $1 AND c.status = 'posted' AND (c.business_date = $2 OR c.business_date = $3) \
         AND l.counted_qty IS NOT NULL GROUP BY c.id, c.business_date, c.posted_at, l.item_id",
    )
    .bind(&store.id)
    .bind(&open_s)
    .bind(&to_s)
    .fetch_all(db)
    .await?;
    let (mut opening_counted, mut closing_counted) = (false, false);
    for r in &rows {
        let date: String = r.try_get("business_date")?;
        let posted: Option<i64> = r.try_get("posted_at")?;
        let posted = posted.unwrap_or(0);
        let qty: i64 = r.try_get("qty")?;
        let a = acc.entry(r.try_get("item_id")?).or_default();
        // The last count of the day wins.
        let slot = if date == open_s {
            opening_counted = true;
            &mut a.open_count
        } else {
            closing_counted = true;
            &mut a.close_count
        };
        if slot.is_none_or(|(at, _)| posted >= at) {
            *slot = Some((posted, qty));
        }
    }
    let sales_net: i64 = sqlx::query(
        "SELECT CAST(COALESCE(SUM(net), 0) AS BIGINT) AS net FROM sales_rollup_day \
         WHERE store_id = $1 AND business_date >= $2 AND business_date <= $3",
    )
    .bind(&store.id)
    .bind(&from_s)
    .bind(&to_s)
    .fetch_one(db)
    .await?
    .try_get("net")?;

    // Item details.
    let mut items: HashMap<String, (String, String, String, String, Option<String>)> =
        HashMap::new();
    let ids: Vec<&String> = acc.keys().collect();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id, code, name_zh, name_en, base_unit, category_id FROM inv_items WHERE id IN ({})",
            boh_inventory::in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind((*id).clone());
        }
        for r in q.fetch_all(db).await? {
            items.insert(
                r.try_get("id")?,
                (
                    r.try_get("code")?,
                    r.try_get("name_zh")?,
                    r.try_get("name_en")?,
                    r.try_get("base_unit")?,
                    r.try_get("category_id")?,
                ),
            );
        }
    }

    let bp = |v: i64| bp_of(v, sales_net);
    let mut item_rows: Vec<(Option<String>, AvtRow)> = Vec::new();
    for (id, a) in &acc {
        let Some((code, name_zh, name_en, unit, category)) = items.get(id) else {
            continue;
        };
        let book_open = a.cur_qty - a.since_from;
        let book_close = a.cur_qty - a.after_to_qty;
        let opening = a.open_count.map_or(book_open, |(_, q)| q);
        let closing = a.close_count.map_or(book_close, |(_, q)| q);
        let moved = a.receipts
            + a.transfers_in
            + a.transfers_out
            + a.production_in
            + a.production_used
            + a.waste
            + a.sold;
        if opening == 0 && closing == 0 && moved == 0 && a.since_from == 0 {
            continue;
        }
        let actual =
            opening + a.receipts + a.transfers_in + a.production_in - a.transfers_out - closing;
        let theoretical = a.sold + a.production_used;
        let variance = actual - theoretical - a.waste;
        let value_to = a.cur_value - a.after_to_value;
        let cost = if book_close > 0 {
            unit_cost(value_to, book_close)
        } else {
            a.last_cost
        };
        let v = |q: i64| value_at(q, cost);
        let (actual_value, theoretical_value, waste_value) =
            (v(actual), v(theoretical), v(a.waste));
        let variance_value = actual_value - theoretical_value - waste_value;
        item_rows.push((
            category.clone(),
            AvtRow {
                id: id.clone(),
                code: code.clone(),
                name_zh: name_zh.clone(),
                name_en: name_en.clone(),
                base_unit: Some(unit.clone()),
                opening_qty: Some(Qty(opening)),
                receipts_qty: Some(Qty(a.receipts)),
                transfers_in_qty: Some(Qty(a.transfers_in)),
                transfers_out_qty: Some(Qty(a.transfers_out)),
                production_in_qty: Some(Qty(a.production_in)),
                production_used_qty: Some(Qty(a.production_used)),
                sold_usage_qty: Some(Qty(a.sold)),
                closing_qty: Some(Qty(closing)),
                actual_qty: Some(Qty(actual)),
                theoretical_qty: Some(Qty(theoretical)),
                waste_qty: Some(Qty(a.waste)),
                variance_qty: Some(Qty(variance)),
                unit_cost_e6: Some(cost),
                opening_value: v(opening),
                closing_value: v(closing),
                actual_value,
                theoretical_value,
                waste_value,
                variance_value,
                actual_bp: bp(actual_value),
                theoretical_bp: bp(theoretical_value),
                waste_bp: bp(waste_value),
                variance_bp: bp(variance_value),
                opening_book: i64::from(a.open_count.is_none()),
                closing_book: i64::from(a.close_count.is_none()),
                items: 1,
            },
        ));
    }

    let mut totals = AvtTotals::default();
    let mut book_items = 0;
    for (_, r) in &item_rows {
        totals.actual_value += r.actual_value;
        totals.theoretical_value += r.theoretical_value;
        totals.waste_value += r.waste_value;
        totals.variance_value += r.variance_value;
        book_items += i64::from(r.is_book());
    }
    totals.actual_bp = bp(totals.actual_value);
    totals.theoretical_bp = bp(totals.theoretical_value);
    totals.waste_bp = bp(totals.waste_value);
    totals.variance_bp = bp(totals.variance_value);

    let mut rows: Vec<AvtRow> = if group == "item" {
        item_rows.into_iter().map(|(_, r)| r).collect()
    } else {
        let mut by_cat: BTreeMap<String, AvtRow> = BTreeMap::new();
        for (cat, r) in item_rows {
            let key = cat.unwrap_or_default();
            let e = by_cat.entry(key.clone()).or_insert_with(|| AvtRow {
                id: key,
                code: String::new(),
                name_zh: String::new(),
                name_en: String::new(),
                base_unit: None,
                opening_qty: None,
                receipts_qty: None,
                transfers_in_qty: None,
                transfers_out_qty: None,
                production_in_qty: None,
                production_used_qty: None,
                sold_usage_qty: None,
                closing_qty: None,
                actual_qty: None,
                theoretical_qty: None,
                waste_qty: None,
                variance_qty: None,
                unit_cost_e6: None,
                opening_value: 0,
                closing_value: 0,
                actual_value: 0,
                theoretical_value: 0,
                waste_value: 0,
                variance_value: 0,
                actual_bp: None,
                theoretical_bp: None,
                waste_bp: None,
                variance_bp: None,
                opening_book: 0,
                closing_book: 0,
                items: 0,
            });
            e.opening_value += r.opening_value;
            e.closing_value += r.closing_value;
            e.actual_value += r.actual_value;
            e.theoretical_value += r.theoretical_value;
            e.waste_value += r.waste_value;
            e.variance_value += r.variance_value;
            e.opening_book += r.opening_book;
            e.closing_book += r.closing_book;
            e.items += 1;
        }
        let ids: Vec<String> = by_cat.keys().filter(|k| !k.is_empty()).cloned().collect();
        if !ids.is_empty() {
            let sql = format!(
                "SELECT id, code, name_zh, name_en FROM inv_categories WHERE id IN ({})",
                boh_inventory::in_placeholders(ids.len(), 1)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in &ids {
                q = q.bind(id.clone());
            }
            for r in q.fetch_all(db).await? {
                let id: String = r.try_get("id")?;
                if let Some(e) = by_cat.get_mut(&id) {
                    e.code = r.try_get("code")?;
                    e.name_zh = r.try_get("name_zh")?;
                    e.name_en = r.try_get("name_en")?;
                }
            }
        }
        by_cat
            .into_values()
            .map(|mut r| {
                r.actual_bp = bp(r.actual_value);
                r.theoretical_bp = bp(r.theoretical_value);
                r.waste_bp = bp(r.waste_value);
                r.variance_bp = bp(r.variance_value);
                r
            })
            .collect()
    };
    rows.sort_by(|a, b| {
        b.variance_value
            .unsigned_abs()
            .cmp(&a.variance_value.unsigned_abs())
            .then_with(|| a.code.cmp(&b.code))
    });
    Ok(Avt {
        store_id: store.id.clone(),
        store_code: store.code.clone(),
        store_name_zh: store.name_zh.clone(),
        store_name_en: store.name_en.clone(),
        from: from_s,
        to: to_s,
        group: group.to_string(),
        opening_date: open_s,
        opening_counted,
        closing_counted,
        book_items,
        sales_net,
        totals,
        rows,
    })
}

/// The AvT headline of one store over `from..=to`; `None` when the period has no count to
/// measure actual usage against.
pub async fn variance_summary(
    p: &Platform,
    actor: &Actor,
    store_id: &str,
    from: &str,
    to: &str,
) -> Result<Option<VarianceSummary>> {
    let r = report(
        p,
        actor,
        &AvtFilter {
            store_id: Some(store_id.to_string()),
            from: Some(from.to_string()),
            to: Some(to.to_string()),
            group: Some("category".into()),
        },
    )
    .await?;
    if !r.opening_counted && !r.closing_counted {
        return Ok(None);
    }
    Ok(Some(VarianceSummary {
        store_id: r.store_id,
        from: r.from,
        to: r.to,
        variance_value: r.totals.variance_value,
        theoretical_value: r.totals.theoretical_value,
        sales_net: r.sales_net,
        variance_bp_of_sales: r.totals.variance_bp,
    }))
}
