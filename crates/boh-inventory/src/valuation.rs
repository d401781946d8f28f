//! The stock valuation report: quantity and value on hand per item, category or location,
//! now or as of the end of an earlier business date, within the actor's scope.
//!
//! Nothing is recomputed from the start of time. The current figures are the maintained
//! valuation rows (one per item × location); figures as of date D are those minus the
//! movements with a business date after D, read through the `(company_id, business_date)`
//! index. So the report costs one pass over the valuation rows in scope plus the movements
//! since D, whatever the length of the ledger, and a backdated movement is in it the moment
//! it is posted.

use boh_db::Row;
use boh_kernel::{Actor, Qty, perm};
use boh_platform::{Platform, PlatformError, Result};
use serde::{Deserialize, Serialize};

use crate::ledger::unit_cost;

/// How the report is grouped.
pub const GROUPS: &[&str] = &["item", "category", "location"];

/// Parameters of the valuation report.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct ValuationFilter {
    /// `YYYY-MM-DD`: on hand at the end of that business date (default: now).
    pub as_of: Option<String>,
    /// Only this location (a store, warehouse or central kitchen in scope).
    pub location_id: Option<String>,
    /// Only items of this category.
    pub category_id: Option<String>,
    /// `item` (default), `category` or `location`.
    pub group: Option<String>,
    /// Also rows whose quantity and value are both zero.
    pub include_zero: Option<bool>,
    /// Page size (1–500, default 50); rows are by value, largest first.
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// One row of the report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ValuationRow {
    /// The item's, category's or location's id ("" for items without a category).
    pub id: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The stock unit (item rows only).
    pub base_unit: Option<String>,
    /// Quantity in the stock unit (item rows only: units of different items do not add up).
    #[schema(value_type = Option<String>)]
    pub qty: Option<Qty>,
    /// Value in minor units.
    pub value: i64,
    /// Average cost per stock unit in minor units × 10^6 (item rows with stock only).
    pub unit_cost_e6: Option<i64>,
    /// Item × location pairs with a negative quantity in this row.
    pub negative: i64,
}

impl ValuationRow {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") && !self.name_zh.is_empty() {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
}

/// The report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Valuation {
    /// The business date the figures are for ("" = now).
    pub as_of: String,
    pub group: String,
    /// Total value of every row (not only this page), in minor units.
    pub total_value: i64,
    /// Number of rows in all.
    pub total_rows: i64,
    pub rows: Vec<ValuationRow>,
}

/// The valuation report for what the actor may read.
pub async fn report(p: &Platform, actor: &Actor, f: &ValuationFilter) -> Result<Valuation> {
    let group = f
        .group
        .as_deref()
        .filter(|g| !g.is_empty())
        .unwrap_or("item");
    if !GROUPS.contains(&group) {
        return Err(PlatformError::invalid(
            "group",
            "must be item, category or location",
        ));
    }
    let as_of = match f.as_of.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => String::new(),
        Some(s) => match s.parse::<jiff::civil::Date>() {
            Ok(d) if d >= jiff::civil::date(2000, 1, 1) => d.to_string(),
            Ok(_) => {
                return Err(PlatformError::invalid(
                    "as_of",
                    "must be in the year 2000 or later",
                ));
            }
            Err(_) => {
                return Err(PlatformError::invalid(
                    "as_of",
                    "must be a date as YYYY-MM-DD",
                ));
            }
        },
    };
    let loc_id = match f.location_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => {
            crate::location(p, actor, perm::INVENTORY_READ, id)
                .await?
                .id
        }
        None => String::new(),
    };
    let category_id = f.category_id.clone().unwrap_or_default();
    let company = actor.company_id.clone().unwrap_or_default();
    let scope = actor.scope(perm::INVENTORY_READ);
    let (limit, offset) = crate::paging(f.limit, f.offset);

    // Quantity and value per item × location: the maintained rows, less later movements.
    let later = if as_of.is_empty() {
        // Every statement binds the same four parameters.
        " AND $4 = ''".to_string()
    } else {
        format!(
            " UNION ALL SELECT m.location_id, m.item_id, -m.qty AS qty, -m.value AS value \
             FROM inv_movements m WHERE m.company_id = $1 AND m.business_date > $4 AND {} \
             AND ($2 = '' OR m.location_id = $2)",
            scope.sql("m.location_path")
        )
    };
    let current = format!(
        "SELECT v.location_id, v.item_id, v.qty, v.value FROM inv_valuation v \
         WHERE v.company_id = $1 AND {} AND ($2 = '' OR v.location_id = $2){later}",
        scope.sql("v.location_path")
    );
    // Now: the valuation rows are already one per item × location.
    let pairs = if as_of.is_empty() {
        current
    } else {
        format!(
            "SELECT x.location_id, x.item_id, CAST(SUM(x.qty) AS BIGINT) AS qty, CAST(SUM(x.value) AS BIGINT) AS value \
             FROM ({current}) x GROUP BY x.location_id, x.item_id"
        )
    };
    let (key, select, join) = match group {
        "item" => (
            "i.id, i.code, i.name_zh, i.name_en, i.base_unit",
            "i.id AS id, i.code AS code, i.name_zh AS name_zh, i.name_en AS name_en, i.base_unit AS base_unit",
            "",
        ),
        "category" => (
            "c.id, c.code, c.name_zh, c.name_en",
            "COALESCE(c.id, '') AS id, COALESCE(c.code, '') AS code, COALESCE(c.name_zh, '') AS name_zh, \
             COALESCE(c.name_en, '') AS name_en, NULL AS base_unit",
            "LEFT JOIN inv_categories c ON c.id = i.category_id",
        ),
        _ => (
            "n.id, n.code, n.name_zh, n.name_en",
            "n.id AS id, n.code AS code, n.name_zh AS name_zh, n.name_en AS name_en, NULL AS base_unit",
            "JOIN org_nodes n ON n.id = s.location_id",
        ),
    };
    let having = if f.include_zero.unwrap_or(false) {
        ""
    } else {
        " HAVING SUM(s.qty) <> 0 OR SUM(s.value) <> 0"
    };
    let grouped = format!(
        "SELECT {select}, CAST(SUM(s.qty) AS BIGINT) AS qty, CAST(SUM(s.value) AS BIGINT) AS value, \
         CAST(SUM(CASE WHEN s.qty < 0 THEN 1 ELSE 0 END) AS BIGINT) AS negative \
         FROM ({pairs}) s JOIN inv_items i ON i.id = s.item_id {join} \
         WHERE ($3 = '' OR i.category_id = $3) \
         GROUP BY {key}{having}"
    );
    let bind = |sql: String| {
        sqlx::query(boh_db::AssertSqlSafe(sql))
            .bind(company.clone())
            .bind(loc_id.clone())
            .bind(category_id.clone())
            .bind(as_of.clone())
    };
    // One pass: the page and, through window aggregates, the totals of every row.
    let rows = bind(format!(
        "SELECT g.*, COUNT(*) OVER () AS n_rows, CAST(SUM(g.value) OVER () AS BIGINT) AS total \
         FROM ({grouped}) g ORDER BY g.value DESC, g.code LIMIT {limit} OFFSET {offset}"
    ))
    .fetch_all(p.db.pool())
    .await?;
    let (total_rows, total_value) = match rows.first() {
        Some(r) => (r.try_get("n_rows")?, r.try_get("total")?),
        // A page past the end: the totals alone.
        None => {
            let t = bind(format!(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(g.value), 0) AS BIGINT) AS total FROM ({grouped}) g"
            ))
            .fetch_one(p.db.pool())
            .await?;
            (t.try_get("n")?, t.try_get("total")?)
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let qty: i64 = r.try_get("qty")?;
        let value: i64 = r.try_get("value")?;
        let is_item = group == "item";
        out.push(ValuationRow {
            id: r.try_get("id")?,
            code: r.try_get("code")?,
            name_zh: r.try_get("name_zh")?,
            name_en: r.try_get("name_en")?,
            base_unit: if is_item {
                r.try_get("base_unit")?
            } else {
                None
            },
            qty: is_item.then_some(Qty(qty)),
            value,
            unit_cost_e6: (is_item && qty > 0).then(|| unit_cost(value, qty)),
            negative: r.try_get("negative")?,
        });
    }
    Ok(Valuation {
        as_of,
        group: group.to_string(),
        total_value,
        total_rows,
        rows: out,
    })
}
