//! Match tolerances: how far an invoice may be above the order price and above the received
//! quantity before its line is an exception. Stored as data per company (the default), per
//! supplier and per item category; a supplier's rule wins over a category's (the nearest
//! category up the tree), which wins over the company default. Without any rule the match is
//! exact.

use std::collections::HashMap;

use boh_db::Row;
use boh_kernel::{Actor, Qty, id::new_id, now, perm};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, tx};
use serde::{Deserialize, Serialize};

use crate::qty_of;

/// A tolerance rule.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Tolerance {
    pub id: String,
    pub company_id: String,
    /// `company`, `supplier` or `category`.
    pub applies_to: String,
    pub supplier_id: Option<String>,
    pub supplier_code: Option<String>,
    pub category_id: Option<String>,
    pub category_code: Option<String>,
    /// Invoice price above the order price allowed, in percent (`"2.5"`)…
    pub price_pct: String,
    /// … or this many minor units per pack, whichever is larger.
    pub price_abs_minor: i64,
    /// Invoiced above received allowed, in percent…
    pub qty_pct: String,
    /// … or this quantity in the order line's pack unit, whichever is larger.
    #[schema(value_type = String)]
    pub qty_abs: Qty,
    pub note: Option<String>,
    pub updated_by: String,
    pub updated_at: String,
    pub version: i64,
}

/// A rule as sent. Neither `supplier_id` nor `category_id`: the company default. Saving a
/// rule for a scope that has one replaces it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ToleranceInput {
    #[serde(default)]
    pub supplier_id: Option<String>,
    #[serde(default)]
    pub category_id: Option<String>,
    /// Percent, 0 to 100 with at most 2 decimals (default 0).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2")]
    pub price_pct: Option<serde_json::Value>,
    /// Minor units per pack (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub price_abs_minor: Option<i64>,
    /// Percent, 0 to 100 with at most 2 decimals (default 0).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "5")]
    pub qty_pct: Option<serde_json::Value>,
    /// Pack units (default 0).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "0.5")]
    pub qty_abs: Option<serde_json::Value>,
    #[serde(default)]
    pub note: Option<String>,
}

/// The limits one invoice line is matched with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub price_pct_bp: i64,
    pub price_abs_minor: i64,
    pub qty_pct_bp: i64,
    pub qty_abs: i64,
}

impl Limits {
    /// How much above `order_price` (minor units per pack) an invoice price may be.
    pub fn price_allowance(&self, order_price: i64) -> i64 {
        let pct = boh_kernel::qty::mul_div_round(order_price, self.price_pct_bp, 10_000)
            .unwrap_or(i64::MAX);
        pct.max(self.price_abs_minor)
    }
    /// How much above `received` (micro pack units) may be invoiced.
    pub fn qty_allowance(&self, received: i64) -> i64 {
        let pct =
            boh_kernel::qty::mul_div_round(received, self.qty_pct_bp, 10_000).unwrap_or(i64::MAX);
        pct.max(self.qty_abs)
    }
}

/// Every rule of a company, for picking the one of each line.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    company: Option<Limits>,
    supplier: HashMap<String, Limits>,
    category: HashMap<String, Limits>,
    /// Category → parent.
    parents: HashMap<String, Option<String>>,
}

impl Rules {
    /// The rule for an item of `category` from `supplier`.
    pub fn for_line(&self, supplier_id: &str, category_id: Option<&str>) -> Limits {
        if let Some(l) = self.supplier.get(supplier_id) {
            return *l;
        }
        let mut c = category_id.map(str::to_string);
        // The nearest category up the tree with a rule (bounded: trees are shallow, and a
        // cycle would be a bug elsewhere).
        for _ in 0..32 {
            let Some(id) = c else { break };
            if let Some(l) = self.category.get(&id) {
                return *l;
            }
            c = self.parents.get(&id).cloned().flatten();
        }
        self.company.unwrap_or_default()
    }
}

fn pct_text(bp: i64) -> String {
    Qty(bp * 10_000).to_text()
}

/// Basis points from a percent ("2.5" → 250).
fn bp_of(v: &serde_json::Value) -> Option<i64> {
    let q = qty_of(v)?;
    let m = q.micros();
    if m % 10_000 != 0 || !(0..=100_000_000).contains(&m) {
        return None;
    }
    Some(m / 10_000)
}

const SELECT: &str = "SELECT t.id, t.company_id, t.scope_key, t.supplier_id, s.code AS supplier_code, t.category_id, \
    c.code AS category_code, t.price_pct_bp, t.price_abs_minor, t.qty_pct_bp, t.qty_abs, t.note, \
    u.display_name AS updated_by, t.updated_at, t.version FROM po_match_tolerances t \
    LEFT JOIN inv_suppliers s ON s.id = t.supplier_id LEFT JOIN inv_categories c ON c.id = t.category_id \
    LEFT JOIN users u ON u.id = t.updated_by";

fn from_row(r: &boh_db::AnyRow) -> Result<Tolerance> {
    let key: String = r.try_get("scope_key")?;
    Ok(Tolerance {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        applies_to: key.split(':').next().unwrap_or("company").to_string(),
        supplier_id: r.try_get("supplier_id")?,
        supplier_code: r.try_get("supplier_code")?,
        category_id: r.try_get("category_id")?,
        category_code: r.try_get("category_code")?,
        price_pct: pct_text(r.try_get("price_pct_bp")?),
        price_abs_minor: r.try_get("price_abs_minor")?,
        qty_pct: pct_text(r.try_get("qty_pct_bp")?),
        qty_abs: Qty(r.try_get("qty_abs")?),
        note: r.try_get("note")?,
        updated_by: r
            .try_get::<Option<String>, _>("updated_by")?
            .unwrap_or_default(),
        updated_at: boh_kernel::Instant(r.try_get("updated_at")?).rfc3339(),
        version: r.try_get("version")?,
    })
}

fn company_of(actor: &Actor) -> Result<String> {
    actor.company_id.clone().ok_or_else(|| {
        PlatformError::invalid("company_id", "is required for users outside a company")
    })
}

/// May the actor see the company's rules: anyone working with orders or invoices in it.
fn may_read(actor: &Actor, company_id: &str) -> bool {
    let path = boh_inventory::company_path(company_id);
    [
        perm::PURCHASING_READ,
        perm::PURCHASING_ORDER,
        perm::PURCHASING_INVOICE,
        perm::PURCHASING_INVOICE_ACCEPT,
        perm::PURCHASING_PAYMENT,
    ]
    .iter()
    .any(|p| actor.allows_within(p, &path))
}

/// The rules of the caller's company: the default first, then suppliers and categories by
/// code.
pub async fn list(p: &Platform, actor: &Actor) -> Result<Vec<Tolerance>> {
    let company = company_of(actor)?;
    if !may_read(actor, &company) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_READ));
    }
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{SELECT} WHERE t.company_id = $1 ORDER BY CASE WHEN t.supplier_id IS NULL AND t.category_id IS NULL THEN 0 \
         WHEN t.supplier_id IS NOT NULL THEN 1 ELSE 2 END, s.code, c.code"
    )))
    .bind(&company)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// The rules of a company for matching (unscoped: the caller checked the invoice).
pub async fn rules(p: &Platform, company_id: &str) -> Result<Rules> {
    let mut out = Rules::default();
    for r in sqlx::query(
        "SELECT supplier_id, category_id, price_pct_bp, price_abs_minor, qty_pct_bp, qty_abs \
         FROM po_match_tolerances WHERE company_id = $1",
    )
    .bind(company_id)
    .fetch_all(p.db.pool())
    .await?
    {
        let l = Limits {
            price_pct_bp: r.try_get("price_pct_bp")?,
            price_abs_minor: r.try_get("price_abs_minor")?,
            qty_pct_bp: r.try_get("qty_pct_bp")?,
            qty_abs: r.try_get("qty_abs")?,
        };
        match (
            r.try_get::<Option<String>, _>("supplier_id")?,
            r.try_get::<Option<String>, _>("category_id")?,
        ) {
            (Some(s), _) => {
                out.supplier.insert(s, l);
            }
            (None, Some(c)) => {
                out.category.insert(c, l);
            }
            (None, None) => out.company = Some(l),
        }
    }
    if !out.category.is_empty() {
        for r in sqlx::query("SELECT id, parent_id FROM inv_categories WHERE company_id = $1")
            .bind(company_id)
            .fetch_all(p.db.pool())
            .await?
        {
            out.parents
                .insert(r.try_get("id")?, r.try_get("parent_id")?);
        }
    }
    Ok(out)
}

/// Save the rule of a scope (company default, a supplier or a category), replacing the one
/// it has. Needs `purchasing.invoice.manage` at the company.
pub async fn save(p: &Platform, ctx: &Ctx, input: &ToleranceInput) -> Result<Tolerance> {
    let company = company_of(&ctx.actor)?;
    let cpath = boh_inventory::company_path(&company);
    let blank = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (supplier_id, category_id) = (blank(&input.supplier_id), blank(&input.category_id));
    // A supplier or category outside the caller's company does not exist for them.
    let supplier = match &supplier_id {
        Some(id) => Some(boh_inventory::supplier::get_supplier(p, &ctx.actor, id).await?),
        None => None,
    };
    let category = match &category_id {
        Some(id) => Some(boh_inventory::catalog::get_category(p, &ctx.actor, id).await?),
        None => None,
    };
    if supplier.as_ref().is_some_and(|s| s.company_id != company)
        || category.as_ref().is_some_and(|c| c.company_id != company)
    {
        return Err(PlatformError::NotFound);
    }
    if !ctx.actor.allows(perm::PURCHASING_INVOICE, &cpath) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_INVOICE));
    }
    let mut errors = Vec::new();
    if supplier.is_some() && category.is_some() {
        errors.push(FieldError::new(
            "category_id",
            "a rule is for a supplier or for a category, not both",
        ));
    }
    let pct = |v: &Option<serde_json::Value>, field: &str, errors: &mut Vec<FieldError>| match v {
        None | Some(serde_json::Value::Null) => 0,
        Some(v) => bp_of(v).unwrap_or_else(|| {
            errors.push(FieldError::new(
                field,
                "a percentage from 0 to 100 with at most 2 decimals",
            ));
            0
        }),
    };
    let price_pct_bp = pct(&input.price_pct, "price_pct", &mut errors);
    let qty_pct_bp = pct(&input.qty_pct, "qty_pct", &mut errors);
    let price_abs = input.price_abs_minor.unwrap_or(0);
    if !(0..=1_000_000_000_000).contains(&price_abs) {
        errors.push(FieldError::new("price_abs_minor", "between 0 and 10^12"));
    }
    let qty_abs = match &input.qty_abs {
        None | Some(serde_json::Value::Null) => 0,
        Some(v) => match qty_of(v) {
            Some(q) if (0..=1_000_000 * 1_000_000).contains(&q.micros()) => q.micros(),
            _ => {
                errors.push(FieldError::new(
                    "qty_abs",
                    "a quantity of zero or more, such as 0.5",
                ));
                0
            }
        },
    };
    let note = blank(&input.note);
    if note.as_deref().is_some_and(|n| n.chars().count() > 500) {
        errors.push(FieldError::new("note", "at most 500 characters"));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let scope_key = match (&supplier, &category) {
        (Some(s), _) => format!("supplier:{}", s.id),
        (None, Some(c)) => format!("category:{}", c.id),
        (None, None) => "company".to_string(),
    };
    let t = now().micros();
    let id = tx!(p.db, tx, {
        let before = sqlx::query(
            "SELECT id, price_pct_bp, price_abs_minor, qty_pct_bp, qty_abs FROM po_match_tolerances \
             WHERE company_id = $1 AND scope_key = $2",
        )
        .bind(&company)
        .bind(&scope_key)
        .fetch_optional(&mut *tx)
        .await?;
        let (id, before_json) = match &before {
            Some(r) => {
                let id: String = r.try_get("id")?;
                sqlx::query(
                    "UPDATE po_match_tolerances SET price_pct_bp = $1, price_abs_minor = $2, qty_pct_bp = $3, \
                     qty_abs = $4, note = $5, updated_by = $6, updated_at = $7, version = version + 1 WHERE id = $8",
                )
                .bind(price_pct_bp)
                .bind(price_abs)
                .bind(qty_pct_bp)
                .bind(qty_abs)
                .bind(note.as_deref())
                .bind(&ctx.actor.user_id)
                .bind(t)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
                let b = serde_json::json!({
                    "price_pct_bp": r.try_get::<i64, _>("price_pct_bp")?,
                    "price_abs_minor": r.try_get::<i64, _>("price_abs_minor")?,
                    "qty_pct_bp": r.try_get::<i64, _>("qty_pct_bp")?,
                    "qty_abs": r.try_get::<i64, _>("qty_abs")?,
                });
                (id, Some(b))
            }
            None => {
                let id = new_id();
                let inserted = sqlx::query(
                    "INSERT INTO po_match_tolerances (id, company_id, scope_key, supplier_id, category_id, price_pct_bp, \
                     price_abs_minor, qty_pct_bp, qty_abs, note, updated_by, created_at, updated_at, version) \
                     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$12,1)",
                )
                .bind(&id)
                .bind(&company)
                .bind(&scope_key)
                .bind(supplier.as_ref().map(|s| s.id.clone()))
                .bind(category.as_ref().map(|c| c.id.clone()))
                .bind(price_pct_bp)
                .bind(price_abs)
                .bind(qty_pct_bp)
                .bind(qty_abs)
                .bind(note.as_deref())
                .bind(&ctx.actor.user_id)
                .bind(t)
                .execute(&mut *tx)
                .await;
                boh_platform::error::unique_conflict(inserted, "supplier_id", || {
                    "a rule for this scope was saved meanwhile; save again".into()
                })?;
                (id, None)
            }
        };
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.tolerance.save",
                entity_type: "po_match_tolerance",
                entity_id: &id,
                org_path: Some(&cpath),
                before: before_json,
                after: Some(serde_json::json!({
                    "scope": scope_key, "price_pct_bp": price_pct_bp, "price_abs_minor": price_abs,
                    "qty_pct_bp": qty_pct_bp, "qty_abs": qty_abs,
                })),
            },
        )
        .await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(id)
    })?;
    get_unscoped(p, &id).await
}

async fn get_unscoped(p: &Platform, id: &str) -> Result<Tolerance> {
    let r = sqlx::query(boh_db::AssertSqlSafe(format!("{SELECT} WHERE t.id = $1")))
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or(PlatformError::NotFound)?;
    from_row(&r)
}

/// Remove a rule (lines then match with the next rule that applies).
pub async fn delete(p: &Platform, ctx: &Ctx, id: &str) -> Result<()> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let t = get_unscoped(p, id).await?;
    let cpath = boh_inventory::company_path(&t.company_id);
    if !may_read(&ctx.actor, &t.company_id) {
        return Err(PlatformError::NotFound);
    }
    if !ctx.actor.allows(perm::PURCHASING_INVOICE, &cpath) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_INVOICE));
    }
    tx!(p.db, tx, {
        sqlx::query("DELETE FROM po_match_tolerances WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.tolerance.delete",
                entity_type: "po_match_tolerance",
                entity_id: id,
                org_path: Some(&cpath),
                before: serde_json::to_value(&t).ok(),
                after: None,
            },
        )
        .await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowances_take_the_larger_of_share_and_amount() {
        let l = Limits {
            price_pct_bp: 200,
            price_abs_minor: 50,
            qty_pct_bp: 500,
            qty_abs: 1_000_000,
        };
        assert_eq!(l.price_allowance(10_000), 200);
        assert_eq!(l.price_allowance(1_000), 50);
        assert_eq!(l.qty_allowance(40_000_000), 2_000_000);
        assert_eq!(l.qty_allowance(4_000_000), 1_000_000);
        assert_eq!(Limits::default().price_allowance(10_000), 0);
    }

    #[test]
    fn percentages_have_two_decimals_at_most() {
        assert_eq!(bp_of(&serde_json::json!("2.5")), Some(250));
        assert_eq!(bp_of(&serde_json::json!(3)), Some(300));
        assert_eq!(bp_of(&serde_json::json!("0.125")), None);
        assert_eq!(bp_of(&serde_json::json!("101")), None);
        assert_eq!(bp_of(&serde_json::json!("-1")), None);
        assert_eq!(pct_text(250), "2.5");
    }

    #[test]
    fn supplier_beats_category_beats_company() {
        let mut r = Rules::default();
        let l = |n| Limits {
            price_pct_bp: n,
            ..Default::default()
        };
        r.company = Some(l(1));
        r.category.insert("meat".into(), l(2));
        r.parents.insert("beef".into(), Some("meat".into()));
        r.parents.insert("meat".into(), None);
        r.supplier.insert("s1".into(), l(3));
        assert_eq!(r.for_line("s1", Some("beef")).price_pct_bp, 3);
        assert_eq!(r.for_line("s2", Some("beef")).price_pct_bp, 2);
        assert_eq!(r.for_line("s2", Some("veg")).price_pct_bp, 1);
        assert_eq!(r.for_line("s2", None).price_pct_bp, 1);
        assert_eq!(Rules::default().for_line("s2", None), Limits::default());
    }
}
