//! Recipes (bills of materials) with dated versions, their explosion into stocked ingredients,
//! and the cost roll-up.
//!
//! A recipe belongs to an output item (a menu item, a prepared item or a sub-recipe). Each
//! version yields `yield_qty` base units of the output from lines of components, each in any
//! unit the component converts (kept as entered and in base units) with a line yield: a line
//! of 900 g of peeled onion at 90 % takes 1 kg of onion (gross = net ÷ yield).
//!
//! Rules:
//! - Versions are immutable; a change is a new version. The version in force on a day is the
//!   one with the latest `effective_from` on or before it.
//! - A recipe's first version may be dated in the past (no day can have used a recipe that did
//!   not exist). Every later version must take effect after every existing version and not
//!   before today (in the company's time zone): days that are past have been depleted,
//!   costed and reported with the version then in force, and a later edit never re-explains
//!   them. To correct a recipe from today on, add a version dated today.
//! - Components that are kept in stock (ingredients, prepared items) are used as themselves;
//!   components that are not (sub-recipes made to order) are exploded further, so they need a
//!   recipe in force on the version's date.
//! - Cycles are refused when a version is saved, with the path (`A → B → A`), across every
//!   version in force on or after the new version's date.
//!
//! [`RecipeBook`] loads the versions in force on one day once (level by level, or the whole
//! company at once) and memoises per item the usage of every stocked ingredient per unit of
//! output as exact fractions, so exploding many sales is cheap and quantities are rounded
//! once, at the end, per component.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use boh_db::Row;
use boh_kernel::qty::{MAX_QTY, MICRO};
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::catalog::{self, Item};
use crate::supplier;
use crate::{QtyText, company, in_placeholders, require_catalog};

/// Item kinds that may have a recipe.
pub const RECIPE_KINDS: &[&str] = &["menu", "prepared"];

/// Basis points in 100 %.
const FULL_YIELD_BP: i64 = 10_000;

// ---------------------------------------------------------------- exact fractions

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        let t = a % b;
        a = b;
        b = t;
    }
    a
}

/// `a × b / c` rounded half away from zero, exactly (through a 256-bit product); `None` when
/// `c` is 0 or the result does not fit.
pub fn mul_div_i128(a: i128, b: i128, c: i128) -> Option<i128> {
    if c == 0 {
        return None;
    }
    let neg = ((a < 0) != (b < 0)) != (c < 0);
    let (a, b, c) = (a.unsigned_abs(), b.unsigned_abs(), c.unsigned_abs());
    // 256-bit product of two u128 from 64-bit limbs.
    let (a1, a0) = (a >> 64, a & u128::from(u64::MAX));
    let (b1, b0) = (b >> 64, b & u128::from(u64::MAX));
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = (p00 >> 64) + (p01 & u128::from(u64::MAX)) + (p10 & u128::from(u64::MAX));
    let lo = (p00 & u128::from(u64::MAX)) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    if hi >= c {
        return None;
    }
    // Long division of (hi, lo) by c; the remainder stays below c.
    let mut rem = hi;
    let mut q: u128 = 0;
    for i in (0..128).rev() {
        let carry = rem >> 127;
        rem = (rem << 1) | ((lo >> i) & 1);
        if carry == 1 || rem >= c {
            rem = rem.wrapping_sub(c);
            q |= 1 << i;
        }
    }
    if rem >= c - rem {
        q = q.checked_add(1)?;
    }
    let q = i128::try_from(q).ok()?;
    Some(if neg { -q } else { q })
}

/// A non-negative fraction, exact while numerator and denominator fit in 128 bits; beyond
/// that it continues in fixed point at 10^-20 (far below a micro-unit of anything).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    num: i128,
    den: i128,
}

const FIXED: i128 = 100_000_000_000_000_000_000;

impl Ratio {
    pub const ZERO: Ratio = Ratio { num: 0, den: 1 };

    pub fn new(num: i128, den: i128) -> Ratio {
        if den == 0 {
            return Ratio::ZERO;
        }
        let g = gcd(num, den).max(1);
        let (n, d) = (num / g, den / g);
        if d < 0 {
            Ratio { num: -n, den: -d }
        } else {
            Ratio { num: n, den: d }
        }
    }

    fn fixed(self) -> i128 {
        mul_div_i128(self.num, FIXED, self.den).unwrap_or(i128::MAX / 4)
    }

    fn times(self, o: Ratio) -> Ratio {
        let g1 = gcd(self.num, o.den).max(1);
        let g2 = gcd(o.num, self.den).max(1);
        match (
            (self.num / g1).checked_mul(o.num / g2),
            (self.den / g2).checked_mul(o.den / g1),
        ) {
            (Some(n), Some(d)) => Ratio::new(n, d),
            _ => Ratio::new(
                mul_div_i128(self.fixed(), o.num, o.den).unwrap_or(i128::MAX / 4),
                FIXED,
            ),
        }
    }

    fn plus(self, o: Ratio) -> Ratio {
        let g = gcd(self.den, o.den).max(1);
        let exact = (|| {
            let l = (self.den / g).checked_mul(o.den)?;
            let a = self.num.checked_mul(l / self.den)?;
            let b = o.num.checked_mul(l / o.den)?;
            Some(Ratio::new(a.checked_add(b)?, l))
        })();
        exact.unwrap_or_else(|| Ratio::new(self.fixed().saturating_add(o.fixed()), FIXED))
    }

    /// `q × self`, rounded half away from zero to an integer.
    pub fn apply(self, q: i64) -> Option<i64> {
        mul_div_i128(i128::from(q), self.num, self.den).and_then(|v| i64::try_from(v).ok())
    }
}

impl std::ops::Mul for Ratio {
    type Output = Ratio;
    fn mul(self, o: Ratio) -> Ratio {
        self.times(o)
    }
}

impl std::ops::Add for Ratio {
    type Output = Ratio;
    fn add(self, o: Ratio) -> Ratio {
        self.plus(o)
    }
}

// ---------------------------------------------------------------- recipes

/// One line of a recipe version.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecipeLine {
    pub line_no: i64,
    pub component_id: String,
    pub component_code: String,
    pub component_name_zh: String,
    pub component_name_en: String,
    pub component_base_unit: String,
    /// Kept in stock (used as itself) or not (a sub-recipe, exploded further).
    pub component_stocked: bool,
    /// The quantity as entered, in `unit`.
    #[schema(value_type = String, example = "900")]
    pub qty: Qty,
    pub unit: String,
    /// The same quantity in the component's base unit (net, after the line yield).
    #[schema(value_type = String, example = "0.9")]
    pub base_qty: Qty,
    /// Usable share of what is taken, in percent (`"90"`).
    pub yield_pct: String,
    /// What is taken per batch, in base units: `base_qty ÷ yield`.
    #[schema(value_type = String, example = "1")]
    pub gross_qty: Qty,
    /// The line yield in basis points (10000 = 100 %).
    #[serde(skip)]
    pub yield_bp: i64,
}

/// A version of a recipe. Never changed once saved.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RecipeVersion {
    pub id: String,
    pub version_no: i64,
    /// The first day the version is in force (`YYYY-MM-DD`).
    pub effective_from: String,
    /// Base units of the output one batch yields.
    #[schema(value_type = String, example = "1")]
    pub yield_qty: Qty,
    pub note: Option<String>,
    pub created_at: String,
    pub created_by: String,
    pub lines: Vec<RecipeLine>,
}

/// An item's recipe with every version, newest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recipe {
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub kind: String,
    pub base_unit: String,
    pub stocked: bool,
    /// The recipe's id; absent while the item has no version yet.
    pub recipe_id: Option<String>,
    /// The version in force today (company time zone), if any.
    pub current_version_no: Option<i64>,
    pub versions: Vec<RecipeVersion>,
}

impl Recipe {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.item_name_zh
        } else {
            &self.item_name_en
        }
    }

    pub fn version(&self, no: i64) -> Option<&RecipeVersion> {
        self.versions.iter().find(|v| v.version_no == no)
    }

    /// The version in force on `date` (`YYYY-MM-DD`).
    pub fn in_force(&self, date: &str) -> Option<&RecipeVersion> {
        self.versions
            .iter()
            .filter(|v| v.effective_from.as_str() <= date)
            .max_by(|a, b| a.effective_from.cmp(&b.effective_from))
    }
}

fn yield_pct_text(bp: i64) -> String {
    boh_kernel::qty::format_scaled(bp, 2)
}

fn gross_of(base_qty: i64, yield_bp: i64) -> Qty {
    Qty(boh_kernel::qty::mul_div_round(base_qty, FULL_YIELD_BP, yield_bp.max(1)).unwrap_or(0))
}

/// An item's recipe (empty `versions` when it has none yet), for an actor who may read the
/// company's catalogue.
pub async fn get_recipe(p: &Platform, actor: &Actor, item_id: &str) -> Result<Recipe> {
    let item = catalog::get_item(p, actor, item_id).await?;
    let co = company(p, actor, Some(&item.company_id)).await?;
    load_recipe(p, &item, &crate::today_in(&co.timezone).to_string()).await
}

async fn load_recipe(p: &Platform, item: &Item, today: &str) -> Result<Recipe> {
    let recipe_id: Option<String> = sqlx::query("SELECT id FROM inv_recipes WHERE item_id = $1")
        .bind(&item.id)
        .fetch_optional(p.db.pool())
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
    let mut versions: Vec<RecipeVersion> = Vec::new();
    if let Some(rid) = &recipe_id {
        let rows = sqlx::query(
            "SELECT id, version_no, effective_from, yield_qty, note, created_at, created_by FROM inv_recipe_versions \
             WHERE recipe_id = $1 ORDER BY version_no DESC",
        )
        .bind(rid)
        .fetch_all(p.db.pool())
        .await?;
        for r in &rows {
            versions.push(RecipeVersion {
                id: r.try_get("id")?,
                version_no: r.try_get("version_no")?,
                effective_from: r.try_get("effective_from")?,
                yield_qty: Qty(r.try_get("yield_qty")?),
                note: r.try_get("note")?,
                created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
                created_by: r.try_get("created_by")?,
                lines: Vec::new(),
            });
        }
        let lines = sqlx::query(
            "SELECT l.version_id, l.line_no, l.component_id, l.qty, l.unit, l.base_qty, l.yield_bp, \
             i.code, i.name_zh, i.name_en, i.base_unit, i.stocked FROM inv_recipe_lines l \
             JOIN inv_recipe_versions v ON v.id = l.version_id JOIN inv_items i ON i.id = l.component_id \
             WHERE v.recipe_id = $1 ORDER BY l.version_id, l.line_no",
        )
        .bind(rid)
        .fetch_all(p.db.pool())
        .await?;
        for r in &lines {
            let vid: String = r.try_get("version_id")?;
            let base_qty: i64 = r.try_get("base_qty")?;
            let bp: i64 = r.try_get("yield_bp")?;
            if let Some(v) = versions.iter_mut().find(|v| v.id == vid) {
                v.lines.push(RecipeLine {
                    line_no: r.try_get("line_no")?,
                    component_id: r.try_get("component_id")?,
                    component_code: r.try_get("code")?,
                    component_name_zh: r.try_get("name_zh")?,
                    component_name_en: r.try_get("name_en")?,
                    component_base_unit: r.try_get("base_unit")?,
                    component_stocked: r.try_get::<i64, _>("stocked")? != 0,
                    qty: Qty(r.try_get("qty")?),
                    unit: r.try_get("unit")?,
                    base_qty: Qty(base_qty),
                    yield_pct: yield_pct_text(bp),
                    gross_qty: gross_of(base_qty, bp),
                    yield_bp: bp,
                });
            }
        }
    }
    let mut out = Recipe {
        item_id: item.id.clone(),
        item_code: item.code.clone(),
        item_name_zh: item.name_zh.clone(),
        item_name_en: item.name_en.clone(),
        kind: item.kind.clone(),
        base_unit: item.base_unit.clone(),
        stocked: item.stocked,
        recipe_id,
        current_version_no: None,
        versions,
    };
    out.current_version_no = out.in_force(today).map(|v| v.version_no);
    Ok(out)
}

/// A line of a new version.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecipeLineInput {
    /// The component by id …
    #[serde(default)]
    pub item_id: Option<String>,
    /// … or by code.
    #[serde(default)]
    pub item_code: Option<String>,
    /// The net quantity per batch, positive, as a decimal string (numbers are accepted too).
    #[schema(value_type = String, example = "900")]
    pub qty: QtyText,
    /// The unit of `qty`: any unit the component converts; default its base unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// Usable share in percent, more than 0 and at most 100 (two decimals); default 100.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "90")]
    pub yield_pct: Option<QtyText>,
}

/// A new version of an item's recipe.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionInput {
    /// `YYYY-MM-DD`, default today. A recipe's first version may be dated in the past; later
    /// versions take effect after every existing version and not before today.
    #[serde(default)]
    pub effective_from: Option<String>,
    /// Base units of the output one batch yields, positive; default 1.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "10")]
    pub yield_qty: Option<QtyText>,
    /// Free text up to 500 characters.
    #[serde(default)]
    pub note: Option<String>,
    /// 1 to 500 lines.
    pub lines: Vec<RecipeLineInput>,
}

struct NewLine {
    component: Item,
    qty: Qty,
    unit: String,
    base_qty: i64,
    yield_bp: i64,
}

/// Save a new version of an item's recipe (creating the recipe with its first version).
/// Every problem is reported at once; a cycle or a date that would rewrite past days is
/// refused with its own code.
pub async fn add_version(
    p: &Platform,
    ctx: &Ctx,
    item_id: &str,
    input: VersionInput,
) -> Result<Recipe> {
    add_version_as_of(p, ctx, item_id, input, None).await
}

/// [`add_version`] as if saved on `as_of` (default today in the company's time zone): the
/// demo history records each version on the day it took effect, as it would have been.
pub(crate) async fn add_version_as_of(
    p: &Platform,
    ctx: &Ctx,
    item_id: &str,
    input: VersionInput,
    as_of: Option<jiff::civil::Date>,
) -> Result<Recipe> {
    let item = catalog::get_item(p, &ctx.actor, item_id).await?;
    let co = company(p, &ctx.actor, Some(&item.company_id)).await?;
    require_catalog(&ctx.actor, &co.id)?;
    let today = as_of.unwrap_or_else(|| crate::today_in(&co.timezone));
    let today_s = today.to_string();
    let current = load_recipe(p, &item, &today_s).await?;
    let mut errors = Vec::new();
    if !RECIPE_KINDS.contains(&item.kind.as_str()) {
        errors.push(FieldError::new(
            "item_id",
            format!(
                "item {} is of kind {}; only menu and prepared items have recipes",
                item.code, item.kind
            ),
        ));
    }
    let effective = match input
        .effective_from
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => crate::validate_date(&mut errors, "effective_from", d),
        None => Some(today),
    };
    if let Some(d) = effective {
        if d < jiff::civil::date(2000, 1, 1) {
            errors.push(FieldError::new(
                "effective_from",
                "must be in the year 2000 or later",
            ));
        }
        if d > today
            .checked_add(jiff::Span::new().days(3660))
            .unwrap_or(today)
        {
            errors.push(FieldError::new(
                "effective_from",
                "may be at most ten years ahead",
            ));
        }
    }
    let yield_qty = match &input.yield_qty {
        Some(t) => t.parse(&mut errors, "yield_qty"),
        None => Some(Qty::units(1)),
    };
    if let Some(y) = yield_qty
        && (y.micros() <= 0 || y.micros() > MAX_QTY)
    {
        errors.push(FieldError::new(
            "yield_qty",
            format!("must be a positive quantity of {}", item.base_unit),
        ));
    }
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note.as_deref().is_some_and(|n| n.chars().count() > 500) {
        errors.push(FieldError::new("note", "must be at most 500 characters"));
    }
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "at least one line is required"));
    }
    if input.lines.len() > 500 {
        errors.push(FieldError::new("lines", "at most 500 lines per version"));
    }
    let refs: Vec<(Option<String>, Option<String>, String)> = input
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                l.item_id.clone().filter(|s| !s.is_empty()),
                l.item_code.clone().filter(|s| !s.is_empty()),
                format!("lines[{i}]"),
            )
        })
        .collect();
    let comps = crate::ledger::resolve_items(p, &co.id, &refs, &mut errors).await?;
    let mut lines: Vec<NewLine> = Vec::new();
    for (i, (l, comp)) in input.lines.iter().zip(comps).enumerate() {
        let field = format!("lines[{i}]");
        let qty = l.qty.parse(&mut errors, &format!("{field}.qty"));
        let bp = match &l.yield_pct {
            None => Some(FULL_YIELD_BP),
            Some(t) => match t.parse(&mut errors, &format!("{field}.yield_pct")) {
                Some(pct) if pct.micros() % 10_000 != 0 => {
                    errors.push(FieldError::new(
                        &format!("{field}.yield_pct"),
                        "may have at most 2 decimal places",
                    ));
                    None
                }
                Some(pct) if pct.micros() <= 0 || pct.micros() > 100 * MICRO => {
                    errors.push(FieldError::new(
                        &format!("{field}.yield_pct"),
                        "must be more than 0 and at most 100",
                    ));
                    None
                }
                Some(pct) => Some(pct.micros() / 10_000),
                None => None,
            },
        };
        let Some(comp) = comp else { continue };
        if comp.id == item.id {
            let key = if l.item_id.as_deref().is_some_and(|s| !s.is_empty()) {
                "item_id"
            } else {
                "item_code"
            };
            errors.push(FieldError::new(
                &format!("{field}.{key}"),
                format!("{} cannot be an ingredient of itself", item.code),
            ));
            continue;
        }
        let unit = l
            .unit
            .clone()
            .map(|u| u.trim().to_lowercase())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| comp.base_unit.clone());
        let (Some(qty), Some(bp)) = (qty, bp) else {
            continue;
        };
        if qty.micros() <= 0 {
            errors.push(FieldError::new(&format!("{field}.qty"), "must be positive"));
            continue;
        }
        let Some(base) = comp.conversions().to_base(qty, &unit) else {
            errors.push(FieldError::new(
                &format!("{field}.unit"),
                format!(
                    "item {} has no conversion from {unit} to {}",
                    comp.code, comp.base_unit
                ),
            ));
            continue;
        };
        if base.micros() <= 0 || base.micros() > MAX_QTY {
            errors.push(FieldError::new(
                &format!("{field}.qty"),
                format!(
                    "is out of range once converted to {} (0.000001 to 10^12)",
                    comp.base_unit
                ),
            ));
            continue;
        }
        lines.push(NewLine {
            component: comp,
            qty,
            unit,
            base_qty: base.micros(),
            yield_bp: bp,
        });
    }
    let (Some(effective), Some(yield_qty)) = (effective, yield_qty) else {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    };
    let eff_s = effective.to_string();
    // Non-stocked components need a recipe in force on the version's date.
    let sub_ids: Vec<String> = lines
        .iter()
        .filter(|l| !l.component.stocked)
        .map(|l| l.component.id.clone())
        .collect();
    let with_recipe = items_with_version_by(p, &co.id, &sub_ids, &eff_s).await?;
    for (i, l) in lines.iter().enumerate() {
        if !l.component.stocked && !with_recipe.contains(&l.component.id) {
            errors.push(FieldError::new(
                &format!("lines[{i}].item_id"),
                format!(
                    "item {} is not kept in stock and has no recipe in force on {eff_s}; give it a recipe first or keep it in stock",
                    l.component.code
                ),
            ));
        }
    }
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    // History already used is never rewritten.
    if let Some(latest) = current.versions.first() {
        if eff_s.as_str() <= latest.effective_from.as_str() {
            return Err(PlatformError::Refused {
                code: "recipe_history",
                message: format!(
                    "versions are never changed: a new version must take effect after {} (version {})",
                    latest.effective_from, latest.version_no
                ),
                fields: vec![FieldError::new(
                    "effective_from",
                    format!("must be after {}", latest.effective_from),
                )],
            });
        }
        if effective < today {
            return Err(PlatformError::Refused {
                code: "recipe_history",
                message: format!(
                    "days before today ({today_s}) may already have used version {}; date the new version today or later",
                    current
                        .in_force(&eff_s)
                        .map(|v| v.version_no)
                        .unwrap_or(latest.version_no)
                ),
                fields: vec![FieldError::new(
                    "effective_from",
                    format!("must be on or after {today_s}"),
                )],
            });
        }
    }
    if let Some(path) = find_cycle(p, &co.id, &item, &lines, &eff_s).await? {
        return Err(PlatformError::Refused {
            code: "recipe_cycle",
            message: format!("the recipe would contain itself: {path}"),
            fields: vec![FieldError::new("lines", format!("cycle {path}"))],
        });
    }

    let t = now().micros();
    let version_id = new_id();
    let version_no = current.versions.first().map(|v| v.version_no).unwrap_or(0) + 1;
    let co_path = co.path.clone();
    let item_for_tx = item.clone();
    let recipe = boh_platform::tx!(p.db, tx, {
        sqlx::query(
            "INSERT INTO inv_recipes (id, company_id, item_id, created_at, updated_at) VALUES ($1,$2,$3,$4,$4) \
             ON CONFLICT (item_id) DO UPDATE SET updated_at = excluded.updated_at",
        )
        .bind(new_id())
        .bind(&co.id)
        .bind(&item.id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        let rid: String = sqlx::query("SELECT id FROM inv_recipes WHERE item_id = $1")
            .bind(&item.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("id")?;
        let r = sqlx::query(
            "INSERT INTO inv_recipe_versions (id, recipe_id, version_no, effective_from, yield_qty, note, created_at, created_by) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        )
        .bind(&version_id)
        .bind(&rid)
        .bind(version_no)
        .bind(&eff_s)
        .bind(yield_qty.micros())
        .bind(note.as_deref())
        .bind(t)
        .bind(&ctx.actor.user_id)
        .execute(&mut *tx)
        .await;
        boh_platform::error::unique_conflict(r, "effective_from", || {
            "another version of this recipe was saved at the same time; reload and try again"
                .to_string()
        })?;
        for (ci, chunk) in lines.chunks(300).enumerate() {
            let sql = format!(
                "INSERT INTO inv_recipe_lines (version_id, line_no, component_id, qty, unit, base_qty, yield_bp) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 7)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for (j, l) in chunk.iter().enumerate() {
                q = q
                    .bind(&version_id)
                    .bind((ci * 300 + j + 1) as i64)
                    .bind(&l.component.id)
                    .bind(l.qty.micros())
                    .bind(&l.unit)
                    .bind(l.base_qty)
                    .bind(l.yield_bp);
            }
            q.execute(&mut *tx).await?;
        }
        let view = RecipeVersion {
            id: version_id.clone(),
            version_no,
            effective_from: eff_s.clone(),
            yield_qty,
            note: note.clone(),
            created_at: boh_kernel::Instant(t).rfc3339(),
            created_by: ctx.actor.user_id.clone(),
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, l)| RecipeLine {
                    line_no: i as i64 + 1,
                    component_id: l.component.id.clone(),
                    component_code: l.component.code.clone(),
                    component_name_zh: l.component.name_zh.clone(),
                    component_name_en: l.component.name_en.clone(),
                    component_base_unit: l.component.base_unit.clone(),
                    component_stocked: l.component.stocked,
                    qty: l.qty,
                    unit: l.unit.clone(),
                    base_qty: Qty(l.base_qty),
                    yield_pct: yield_pct_text(l.yield_bp),
                    gross_qty: gross_of(l.base_qty, l.yield_bp),
                    yield_bp: l.yield_bp,
                })
                .collect(),
        };
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.recipe.version",
                entity_type: "inv_recipe_version",
                entity_id: &version_id,
                org_path: Some(&co_path),
                before: None,
                after: Some(json!({"item": item_for_tx.code, "version": &view})),
            },
        )
        .await?;
        events::emit(
            tx,
            "inventory.recipe.versioned",
            Some(&co_path),
            &json!({
                "company_id": co.id, "item_id": item_for_tx.id, "version_id": version_id,
                "version_no": version_no, "effective_from": eff_s,
            }),
        )
        .await?;
        let mut recipe = current.clone();
        recipe.recipe_id = Some(rid);
        recipe.versions.insert(0, view);
        recipe.current_version_no = recipe.in_force(&today_s).map(|v| v.version_no);
        boh_platform::idem::record_created(tx, ctx, &recipe).await?;
        Ok::<_, PlatformError>(recipe)
    })?;
    Ok(recipe)
}

/// Of these items, those with a recipe version in force on `date`.
async fn items_with_version_by(
    p: &Platform,
    company_id: &str,
    ids: &[String],
    date: &str,
) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in ids.chunks(400) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT DISTINCT r.item_id FROM inv_recipes r JOIN inv_recipe_versions v ON v.recipe_id = r.id \
             WHERE r.company_id = $1 AND v.effective_from <= $2 AND r.item_id IN ({})",
            in_placeholders(chunk.len(), 3)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql))
            .bind(company_id)
            .bind(date);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.insert(r.try_get("item_id")?);
        }
    }
    Ok(out)
}

/// A path `A → B → A` if saving these lines for `item` from `date` on closes a cycle through
/// any version in force on or after that date.
async fn find_cycle(
    p: &Platform,
    company_id: &str,
    item: &Item,
    lines: &[NewLine],
    date: &str,
) -> Result<Option<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT r.item_id AS output_id, l.component_id FROM inv_recipes r \
         JOIN inv_recipe_versions v ON v.recipe_id = r.id JOIN inv_recipe_lines l ON l.version_id = v.id \
         WHERE r.company_id = $1 AND r.item_id <> $3 AND (v.effective_from > $2 OR NOT EXISTS (\
         SELECT 1 FROM inv_recipe_versions v2 WHERE v2.recipe_id = v.recipe_id AND v2.effective_from <= $2 \
         AND v2.effective_from > v.effective_from))",
    )
    .bind(company_id)
    .bind(date)
    .bind(&item.id)
    .fetch_all(p.db.pool())
    .await?;
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    for r in &rows {
        edges
            .entry(r.try_get("output_id")?)
            .or_default()
            .push(r.try_get("component_id")?);
    }
    let mut start: Vec<String> = lines.iter().map(|l| l.component.id.clone()).collect();
    start.sort();
    start.dedup();
    edges.insert(item.id.clone(), start);
    // Depth-first from the item; a path back to it is the cycle.
    let mut path: Vec<String> = vec![item.id.clone()];
    let mut done: HashSet<String> = HashSet::new();
    fn dfs(
        at: &str,
        target: &str,
        edges: &HashMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut HashSet<String>,
    ) -> bool {
        for next in edges.get(at).map(Vec::as_slice).unwrap_or(&[]) {
            if next == target {
                path.push(next.clone());
                return true;
            }
            if done.contains(next) || path.contains(next) || path.len() > 64 {
                continue;
            }
            path.push(next.clone());
            if dfs(next, target, edges, path, done) {
                return true;
            }
            path.pop();
            done.insert(next.clone());
        }
        false
    }
    if !dfs(&item.id, &item.id, &edges, &mut path, &mut done) {
        return Ok(None);
    }
    let codes: HashMap<String, String> = catalog::fetch_items(p, &path)
        .await?
        .into_iter()
        .map(|i| (i.id, i.code))
        .collect();
    Ok(Some(
        path.iter()
            .map(|id| codes.get(id).cloned().unwrap_or_else(|| id.clone()))
            .collect::<Vec<_>>()
            .join(" → "),
    ))
}

/// An item with what its recipe looks like today, for the recipe list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RecipeSummary {
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub kind: String,
    pub base_unit: String,
    pub stocked: bool,
    pub versions: i64,
    pub current_version_no: Option<i64>,
    pub current_effective_from: Option<String>,
    /// A version dated after today, if one is scheduled.
    pub next_effective_from: Option<String>,
}

impl RecipeSummary {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.item_name_zh
        } else {
            &self.item_name_en
        }
    }
}

/// Menu and prepared items of the company (the ones that may have a recipe), by code, with
/// their recipe's state today.
pub async fn list_recipes(
    p: &Platform,
    actor: &Actor,
    company_id: Option<&str>,
    q: Option<&str>,
    limit: Option<i64>,
    offset: Option<i64>,
) -> Result<(Vec<RecipeSummary>, i64)> {
    let co = company(p, actor, company_id).await?;
    let today = crate::today_in(&co.timezone).to_string();
    let q = q.map(str::trim).unwrap_or("");
    let pattern = format!("%{}%", boh_platform::util::like_escape(&q.to_lowercase()));
    let (limit, offset) = crate::paging(limit, offset);
    let where_ = "company_id = $1 AND active = 1 AND kind IN ('menu', 'prepared') AND ($2 = '' OR LOWER(code) LIKE $3 ESCAPE '\\' \
        OR LOWER(name_en) LIKE $3 ESCAPE '\\' OR name_zh LIKE $3 ESCAPE '\\')";
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM inv_items WHERE {where_}"
    )))
    .bind(&co.id)
    .bind(q)
    .bind(&pattern)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT id, code, name_zh, name_en, kind, base_unit, stocked FROM inv_items WHERE {where_} \
         ORDER BY code LIMIT {limit} OFFSET {offset}"
    )))
    .bind(&co.id)
    .bind(q)
    .bind(&pattern)
    .fetch_all(p.db.pool())
    .await?;
    let mut out: Vec<RecipeSummary> = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(RecipeSummary {
            item_id: r.try_get("id")?,
            item_code: r.try_get("code")?,
            item_name_zh: r.try_get("name_zh")?,
            item_name_en: r.try_get("name_en")?,
            kind: r.try_get("kind")?,
            base_unit: r.try_get("base_unit")?,
            stocked: r.try_get::<i64, _>("stocked")? != 0,
            versions: 0,
            current_version_no: None,
            current_effective_from: None,
            next_effective_from: None,
        });
    }
    let ids: Vec<String> = out.iter().map(|s| s.item_id.clone()).collect();
    if !ids.is_empty() {
        let sql = format!(
            "SELECT r.item_id, v.version_no, v.effective_from FROM inv_recipes r JOIN inv_recipe_versions v \
             ON v.recipe_id = r.id WHERE r.item_id IN ({}) ORDER BY v.effective_from",
            in_placeholders(ids.len(), 1)
        );
        let mut qy = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in &ids {
            qy = qy.bind(id);
        }
        for r in qy.fetch_all(p.db.pool()).await? {
            let id: String = r.try_get("item_id")?;
            let no: i64 = r.try_get("version_no")?;
            let eff: String = r.try_get("effective_from")?;
            if let Some(s) = out.iter_mut().find(|s| s.item_id == id) {
                s.versions += 1;
                if eff <= today {
                    s.current_version_no = Some(no);
                    s.current_effective_from = Some(eff);
                } else if s.next_effective_from.is_none() {
                    s.next_effective_from = Some(eff);
                }
            }
        }
    }
    Ok((out, total))
}

// ---------------------------------------------------------------- the recipe book

/// A version in force, as the book keeps it.
#[derive(Debug, Clone)]
pub struct BookVersion {
    pub id: String,
    pub version_no: i64,
    pub effective_from: String,
    pub yield_qty: i64,
    pub lines: Vec<BookLine>,
}

#[derive(Debug, Clone)]
pub struct BookLine {
    pub component_id: String,
    pub base_qty: i64,
    pub yield_bp: i64,
}

/// What the book knows of an item.
#[derive(Debug, Clone)]
pub struct ItemFacts {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub base_unit: String,
    pub stocked: bool,
}

/// Theoretical usage of one stocked item.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Usage {
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub base_unit: String,
    /// In the item's base unit.
    #[schema(value_type = String, example = "0.111111")]
    pub qty: Qty,
}

impl Usage {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.item_name_zh
        } else {
            &self.item_name_en
        }
    }
}

/// The recipes of one company in force on one day, loaded once and memoised per item. Build
/// one per business day when depleting many sales.
pub struct RecipeBook {
    company_id: String,
    date: String,
    versions: HashMap<String, Option<Arc<BookVersion>>>,
    facts: HashMap<String, ItemFacts>,
    memo: HashMap<String, Arc<Vec<(String, Ratio)>>>,
}

impl RecipeBook {
    pub fn new(company_id: &str, date: &str) -> RecipeBook {
        RecipeBook {
            company_id: company_id.to_string(),
            date: date.to_string(),
            versions: HashMap::new(),
            facts: HashMap::new(),
            memo: HashMap::new(),
        }
    }

    pub fn date(&self) -> &str {
        &self.date
    }

    /// The version in force of an item, once loaded.
    pub fn version(&self, item_id: &str) -> Option<&BookVersion> {
        self.versions.get(item_id).and_then(|v| v.as_deref())
    }

    pub fn facts(&self, item_id: &str) -> Option<&ItemFacts> {
        self.facts.get(item_id)
    }

    /// Every item the book has facts of.
    pub fn known_items(&self) -> Vec<String> {
        self.facts.keys().cloned().collect()
    }

    /// Load every recipe of the company in force on the book's day in one query.
    pub async fn load_all(&mut self, p: &Platform) -> Result<()> {
        let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
            "{BOOK_SELECT} WHERE r.company_id = $1 AND {} ORDER BY r.item_id, l.line_no",
            book_in_force(2)
        )))
        .bind(&self.company_id)
        .bind(&self.date)
        .fetch_all(p.db.pool())
        .await?;
        let outputs = self.absorb(&rows)?;
        let mut missing: Vec<String> = outputs;
        let more: Vec<String> = self
            .facts
            .keys()
            .filter(|k| !self.versions.contains_key(*k))
            .cloned()
            .collect();
        for k in more {
            self.versions.insert(k, None);
        }
        missing.retain(|id| !self.facts.contains_key(id));
        self.load_facts(p, &missing).await
    }

    /// Make sure the versions in force of these items, and of every non-stocked component
    /// below them, are loaded (one query per level).
    pub async fn ensure(&mut self, p: &Platform, item_ids: &[String]) -> Result<()> {
        let mut todo: Vec<String> = item_ids
            .iter()
            .filter(|id| !self.versions.contains_key(*id))
            .cloned()
            .collect();
        todo.sort();
        todo.dedup();
        let mut rounds = 0;
        while !todo.is_empty() && rounds < 64 {
            rounds += 1;
            let missing_facts: Vec<String> = todo
                .iter()
                .filter(|id| !self.facts.contains_key(*id))
                .cloned()
                .collect();
            self.load_facts(p, &missing_facts).await?;
            for chunk in todo.chunks(400) {
                let sql = format!(
                    "{BOOK_SELECT} WHERE r.company_id = $1 AND r.item_id IN ({}) AND {} ORDER BY r.item_id, l.line_no",
                    in_placeholders(chunk.len(), 3),
                    book_in_force(2)
                );
                let mut q = sqlx::query(boh_db::AssertSqlSafe(sql))
                    .bind(&self.company_id)
                    .bind(&self.date);
                for id in chunk {
                    q = q.bind(id);
                }
                let rows = q.fetch_all(p.db.pool()).await?;
                self.absorb(&rows)?;
            }
            for id in &todo {
                self.versions.entry(id.clone()).or_insert(None);
            }
            // Next level: non-stocked components not loaded yet.
            let mut next: Vec<String> = Vec::new();
            for id in &todo {
                if let Some(Some(v)) = self.versions.get(id) {
                    for l in &v.lines {
                        let stocked = self
                            .facts
                            .get(&l.component_id)
                            .map(|f| f.stocked)
                            .unwrap_or(true);
                        if !stocked && !self.versions.contains_key(&l.component_id) {
                            next.push(l.component_id.clone());
                        }
                    }
                }
            }
            next.sort();
            next.dedup();
            todo = next;
        }
        Ok(())
    }

    async fn load_facts(&mut self, p: &Platform, ids: &[String]) -> Result<()> {
        for chunk in ids.chunks(400) {
            if chunk.is_empty() {
                continue;
            }
            let sql = format!(
                "SELECT id, code, name_zh, name_en, base_unit, stocked FROM inv_items WHERE company_id = $1 AND id IN ({})",
                in_placeholders(chunk.len(), 2)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(&self.company_id);
            for id in chunk {
                q = q.bind(id);
            }
            for r in q.fetch_all(p.db.pool()).await? {
                self.facts.insert(
                    r.try_get("id")?,
                    ItemFacts {
                        code: r.try_get("code")?,
                        name_zh: r.try_get("name_zh")?,
                        name_en: r.try_get("name_en")?,
                        base_unit: r.try_get("base_unit")?,
                        stocked: r.try_get::<i64, _>("stocked")? != 0,
                    },
                );
            }
        }
        Ok(())
    }

    /// Take rows of [`BOOK_SELECT`] in; answers the output items seen.
    fn absorb(&mut self, rows: &[boh_db::AnyRow]) -> Result<Vec<String>> {
        let mut built: HashMap<String, BookVersion> = HashMap::new();
        let mut order: Vec<String> = Vec::new();
        for r in rows {
            let out: String = r.try_get("output_id")?;
            let comp: String = r.try_get("component_id")?;
            self.facts.entry(comp.clone()).or_insert(ItemFacts {
                code: r.try_get("code")?,
                name_zh: r.try_get("name_zh")?,
                name_en: r.try_get("name_en")?,
                base_unit: r.try_get("base_unit")?,
                stocked: r.try_get::<i64, _>("stocked")? != 0,
            });
            let v = match built.get_mut(&out) {
                Some(v) => v,
                None => {
                    order.push(out.clone());
                    built.entry(out.clone()).or_insert(BookVersion {
                        id: r.try_get("version_id")?,
                        version_no: r.try_get("version_no")?,
                        effective_from: r.try_get("effective_from")?,
                        yield_qty: r.try_get("yield_qty")?,
                        lines: Vec::new(),
                    })
                }
            };
            v.lines.push(BookLine {
                component_id: comp,
                base_qty: r.try_get("base_qty")?,
                yield_bp: r.try_get("yield_bp")?,
            });
        }
        for (k, v) in built {
            self.versions.insert(k, Some(Arc::new(v)));
        }
        Ok(order)
    }

    fn code_of(&self, id: &str) -> String {
        self.facts
            .get(id)
            .map(|f| f.code.clone())
            .unwrap_or_else(|| id.to_string())
    }

    fn path_text(&self, path: &[String]) -> String {
        path.iter()
            .map(|id| self.code_of(id))
            .collect::<Vec<_>>()
            .join(" → ")
    }

    fn no_recipe(&self, path: &[String]) -> PlatformError {
        let last = path.last().map(|id| self.code_of(id)).unwrap_or_default();
        let via = if path.len() > 1 {
            format!(" (needed by {})", self.path_text(path))
        } else {
            String::new()
        };
        PlatformError::Refused {
            code: "no_recipe",
            message: format!("item {last} has no recipe in force on {}{via}", self.date),
            fields: vec![FieldError::new(
                "item_id",
                format!("item {last} has no recipe in force on {}", self.date),
            )],
        }
    }

    /// Stocked usage per base unit of output of one version, expanding non-stocked
    /// components (memoised per item).
    fn expand(
        &mut self,
        version: &BookVersion,
        path: &mut Vec<String>,
    ) -> Result<Vec<(String, Ratio)>> {
        let mut acc: Vec<(String, Ratio)> = Vec::new();
        let add = |acc: &mut Vec<(String, Ratio)>, id: &str, r: Ratio| match acc
            .iter_mut()
            .find(|(k, _)| k == id)
        {
            Some((_, v)) => *v = *v + r,
            None => acc.push((id.to_string(), r)),
        };
        for l in &version.lines {
            let rate = Ratio::new(
                i128::from(l.base_qty) * i128::from(FULL_YIELD_BP),
                i128::from(l.yield_bp.max(1)) * i128::from(version.yield_qty.max(1)),
            );
            let stocked = self
                .facts
                .get(&l.component_id)
                .map(|f| f.stocked)
                .unwrap_or(true);
            if stocked {
                add(&mut acc, &l.component_id, rate);
                continue;
            }
            if path.contains(&l.component_id) {
                path.push(l.component_id.clone());
                return Err(PlatformError::refused(
                    "recipe_cycle",
                    format!("the recipe contains itself: {}", self.path_text(path)),
                ));
            }
            path.push(l.component_id.clone());
            let sub = self.per_unit(&l.component_id, path)?;
            path.pop();
            for (leaf, r) in sub.iter() {
                add(&mut acc, leaf, rate * *r);
            }
        }
        Ok(acc)
    }

    /// Stocked usage per base unit of a non-stocked item.
    fn per_unit(
        &mut self,
        item_id: &str,
        path: &mut Vec<String>,
    ) -> Result<Arc<Vec<(String, Ratio)>>> {
        if let Some(m) = self.memo.get(item_id) {
            return Ok(m.clone());
        }
        let Some(version) = self.versions.get(item_id).cloned().flatten() else {
            return Err(self.no_recipe(path));
        };
        let v = Arc::new(self.expand(&version, path)?);
        self.memo.insert(item_id.to_string(), v.clone());
        Ok(v)
    }

    /// The stocked items (and quantities in their base units) that making `qty` base units of
    /// an item takes by its recipe in force: its own recipe is always expanded, stocked
    /// components are used as themselves, non-stocked ones are exploded further. Each
    /// quantity is rounded once, at the end. Call [`RecipeBook::ensure`] for the item first.
    pub fn explode(&mut self, item_id: &str, qty: Qty) -> Result<Vec<Usage>> {
        let mut path = vec![item_id.to_string()];
        let Some(version) = self.versions.get(item_id).cloned().flatten() else {
            return Err(self.no_recipe(&path));
        };
        let rates = self.expand(&version, &mut path)?;
        self.usages(&rates, qty)
    }

    /// What selling `qty` base units of an item depletes: a stocked item itself; anything
    /// else through its recipe (see [`RecipeBook::explode`]).
    pub fn depletion(&mut self, item_id: &str, qty: Qty) -> Result<Vec<Usage>> {
        match self.facts.get(item_id) {
            Some(f) if f.stocked => Ok(vec![Usage {
                item_id: item_id.to_string(),
                item_code: f.code.clone(),
                item_name_zh: f.name_zh.clone(),
                item_name_en: f.name_en.clone(),
                base_unit: f.base_unit.clone(),
                qty,
            }]),
            _ => self.explode(item_id, qty),
        }
    }

    fn usages(&self, rates: &[(String, Ratio)], qty: Qty) -> Result<Vec<Usage>> {
        let mut out = Vec::with_capacity(rates.len());
        for (id, r) in rates {
            let q = r
                .apply(qty.micros())
                .filter(|q| q.abs() <= MAX_QTY)
                .ok_or_else(|| PlatformError::invalid("qty", "is too large for this recipe"))?;
            let f = self.facts.get(id);
            out.push(Usage {
                item_id: id.clone(),
                item_code: f.map(|f| f.code.clone()).unwrap_or_default(),
                item_name_zh: f.map(|f| f.name_zh.clone()).unwrap_or_default(),
                item_name_en: f.map(|f| f.name_en.clone()).unwrap_or_default(),
                base_unit: f.map(|f| f.base_unit.clone()).unwrap_or_default(),
                qty: Qty(q),
            });
        }
        out.sort_by(|a, b| a.item_code.cmp(&b.item_code));
        Ok(out)
    }
}

const BOOK_SELECT: &str = "SELECT r.item_id AS output_id, v.id AS version_id, v.version_no, v.effective_from, \
    v.yield_qty, l.line_no, l.component_id, l.base_qty, l.yield_bp, i.code, i.name_zh, i.name_en, i.base_unit, i.stocked \
    FROM inv_recipes r JOIN inv_recipe_versions v ON v.recipe_id = r.id \
    JOIN inv_recipe_lines l ON l.version_id = v.id JOIN inv_items i ON i.id = l.component_id";

/// `v` is the version of its recipe in force on the date bound at `$n`.
fn book_in_force(n: usize) -> String {
    format!(
        "v.effective_from <= ${n} AND NOT EXISTS (SELECT 1 FROM inv_recipe_versions v2 \
         WHERE v2.recipe_id = v.recipe_id AND v2.effective_from <= ${n} AND v2.effective_from > v.effective_from)"
    )
}

/// The theoretical usage of stocked items for making `qty` base units of an item on `date`
/// (see [`RecipeBook::explode`]). Unscoped: callers have checked the company. To explode many
/// items for one day, build one [`RecipeBook`] instead.
pub async fn explode(
    p: &Platform,
    company_id: &str,
    item_id: &str,
    qty: Qty,
    date: &str,
) -> Result<Vec<Usage>> {
    let mut book = RecipeBook::new(company_id, date);
    book.ensure(p, &[item_id.to_string()]).await?;
    book.explode(item_id, qty)
}

/// An explosion as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Explosion {
    pub item_id: String,
    pub item_code: String,
    pub date: String,
    /// In the item's base unit.
    #[schema(value_type = String)]
    pub qty: Qty,
    pub base_unit: String,
    pub version_id: String,
    pub version_no: i64,
    pub components: Vec<Usage>,
}

/// Explode an item's recipe for a quantity (text, default one base unit) in a unit (default
/// the base unit) on a date (default today), for an actor who may read the catalogue.
pub async fn explode_for(
    p: &Platform,
    actor: &Actor,
    item_id: &str,
    qty: Option<&str>,
    unit: Option<&str>,
    date: Option<&str>,
) -> Result<Explosion> {
    let item = catalog::get_item(p, actor, item_id).await?;
    let co = company(p, actor, Some(&item.company_id)).await?;
    let mut errors = Vec::new();
    let qty = match qty.map(str::trim).filter(|q| !q.is_empty()) {
        Some(t) => QtyText::from(t).parse(&mut errors, "qty"),
        None => Some(Qty::units(1)),
    };
    let unit = unit
        .map(|u| u.trim().to_lowercase())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| item.base_unit.clone());
    let base = match qty {
        Some(q) if q.micros() <= 0 => {
            errors.push(FieldError::new("qty", "must be positive"));
            None
        }
        Some(q) => match item.conversions().to_base(q, &unit) {
            Some(b) => Some(b),
            None => {
                errors.push(FieldError::new(
                    "unit",
                    format!(
                        "item {} has no conversion from {unit} to {}",
                        item.code, item.base_unit
                    ),
                ));
                None
            }
        },
        None => None,
    };
    let date = date_or_today(&mut errors, "date", date, &co.timezone);
    let (Some(base), Some(date)) = (base, date) else {
        return Err(PlatformError::Validation(errors));
    };
    let mut book = RecipeBook::new(&co.id, &date);
    book.ensure(p, std::slice::from_ref(&item.id)).await?;
    let components = book.explode(&item.id, base)?;
    let v = book
        .version(&item.id)
        .cloned()
        .ok_or(PlatformError::NotFound)?;
    Ok(Explosion {
        item_id: item.id,
        item_code: item.code,
        date,
        qty: base,
        base_unit: item.base_unit,
        version_id: v.id,
        version_no: v.version_no,
        components,
    })
}

/// A date parameter (`YYYY-MM-DD`) or today in a time zone.
pub(crate) fn date_or_today(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<&str>,
    tz: &str,
) -> Option<String> {
    match v.map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => crate::validate_date(errors, field, d).map(|x| x.to_string()),
        None => Some(crate::today_in(tz).to_string()),
    }
}

// ---------------------------------------------------------------- cost roll-up

/// Where a unit cost came from.
pub const COST_SOURCES: &[&str] = &["valuation", "supplier", "recipe", "none"];

/// One line of a cost roll-up.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CostLine {
    pub line_no: i64,
    pub component_id: String,
    pub component_code: String,
    pub component_name_zh: String,
    pub component_name_en: String,
    pub base_unit: String,
    /// As entered in the recipe.
    #[schema(value_type = String)]
    pub qty: Qty,
    pub unit: String,
    pub yield_pct: String,
    /// Base units taken per batch (net ÷ yield).
    #[schema(value_type = String)]
    pub gross_qty: Qty,
    /// Cost per base unit in minor units × 10^6; absent when nothing gives one.
    pub unit_cost_e6: Option<i64>,
    /// valuation (moving average at the location), supplier (price in force), recipe (its own
    /// roll-up) or none
    pub source: String,
    /// Cost of the line per batch, minor units × 10^6.
    pub line_cost_e6: i64,
    /// The same, rounded to minor units.
    pub line_cost: i64,
    /// Share of the batch cost in basis points (1/100 %).
    pub share_bp: i64,
}

impl CostLine {
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.component_name_zh
        } else {
            &self.component_name_en
        }
    }
}

/// The cost of an item from its recipe in force and current ingredient costs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CostRollup {
    pub item_id: String,
    pub item_code: String,
    pub base_unit: String,
    pub date: String,
    /// Costed at this location (moving-average cost, else the supplier price); absent for
    /// company-wide costing (supplier prices).
    pub location_id: Option<String>,
    pub version_id: String,
    pub version_no: i64,
    #[schema(value_type = String)]
    pub yield_qty: Qty,
    pub lines: Vec<CostLine>,
    /// Cost of one batch, minor units × 10^6 and rounded.
    pub batch_cost_e6: i64,
    pub batch_cost: i64,
    /// Cost of one base unit of the output, minor units × 10^6 and rounded.
    pub unit_cost_e6: i64,
    pub unit_cost: i64,
    /// The selling price per base unit given, minor units.
    pub selling_price: Option<i64>,
    /// Unit cost ÷ selling price in basis points.
    pub food_cost_bp: Option<i64>,
    /// False when some component has no cost (its lines count as 0).
    pub complete: bool,
}

struct Coster {
    book: RecipeBook,
    valuation: HashMap<String, i64>,
    prices: HashMap<String, i64>,
    memo: HashMap<String, (Option<i64>, &'static str, bool)>,
}

fn line_cost_e6(base_qty: i64, yield_bp: i64, cost_e6: i64) -> i64 {
    let v = mul_div_i128(
        i128::from(base_qty) * i128::from(FULL_YIELD_BP),
        i128::from(cost_e6),
        i128::from(yield_bp.max(1)) * i128::from(MICRO),
    )
    .unwrap_or(0);
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Coster {
    /// Cost per base unit of an item, where it came from, and whether it is complete.
    fn cost_of(&mut self, id: &str, depth: usize) -> (Option<i64>, &'static str, bool) {
        if let Some(c) = self.memo.get(id) {
            return *c;
        }
        let stocked = self.book.facts(id).map(|f| f.stocked).unwrap_or(true);
        let out = if let Some(c) = self.valuation.get(id).filter(|_| stocked) {
            (Some(*c), "valuation", true)
        } else if let Some(c) = self.prices.get(id).filter(|_| stocked) {
            (Some(*c), "supplier", true)
        } else if let (Some(v), true) = (self.book.version(id).cloned(), depth < 32) {
            let mut total: i64 = 0;
            let mut complete = true;
            for l in &v.lines {
                let (c, _, ok) = self.cost_of(&l.component_id, depth + 1);
                complete &= ok && c.is_some();
                total = total.saturating_add(line_cost_e6(l.base_qty, l.yield_bp, c.unwrap_or(0)));
            }
            let unit =
                boh_kernel::qty::mul_div_round(total, MICRO, v.yield_qty.max(1)).unwrap_or(0);
            (Some(unit), "recipe", complete)
        } else {
            (None, "none", false)
        };
        self.memo.insert(id.to_string(), out);
        out
    }
}

/// The cost roll-up of an item's recipe in force on `date` (default today): per line the
/// gross quantity, the unit cost and its source, the line cost and its share; the cost of a
/// batch and of one base unit; the food-cost percentage against `selling_price` (minor units
/// per base unit, as text) when given. At a location, ingredients cost their moving-average
/// cost there, else the supplier price in force; company-wide, the supplier price. Items with
/// neither cost what their own recipe costs.
pub async fn cost_rollup(
    p: &Platform,
    actor: &Actor,
    item_id: &str,
    location_id: Option<&str>,
    date: Option<&str>,
    selling_price: Option<&str>,
) -> Result<CostRollup> {
    let item = catalog::get_item(p, actor, item_id).await?;
    let co = company(p, actor, Some(&item.company_id)).await?;
    let loc = match location_id.filter(|s| !s.is_empty()) {
        Some(id) => {
            let l = crate::location(p, actor, perm::INVENTORY_READ, id).await?;
            if l.company_id != co.id {
                return Err(PlatformError::NotFound);
            }
            Some(l)
        }
        None => None,
    };
    let mut errors = Vec::new();
    let tz = loc
        .as_ref()
        .map(|l| l.timezone.clone())
        .unwrap_or(co.timezone.clone());
    let date = date_or_today(&mut errors, "date", date, &tz);
    let selling = match selling_price.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => match s.parse::<i64>() {
            Ok(v) if (1..=supplier::MAX_MONEY).contains(&v) => Some(v),
            _ => {
                errors.push(FieldError::new(
                    "selling_price",
                    "must be a positive whole number of minor units",
                ));
                None
            }
        },
        None => None,
    };
    let Some(date) = date else {
        return Err(PlatformError::Validation(errors));
    };
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let mut book = RecipeBook::new(&co.id, &date);
    book.ensure(p, std::slice::from_ref(&item.id)).await?;
    let Some(version) = book.version(&item.id).cloned() else {
        let path = vec![item.id.clone()];
        return Err(book.no_recipe(&path));
    };
    // Costs of everything the book knows; stocked items without any cost fall back to their
    // own recipe, which may bring in more items (a few rounds at most).
    let mut valuation: HashMap<String, i64> = HashMap::new();
    let mut prices: HashMap<String, i64> = HashMap::new();
    let mut costed: HashSet<String> = HashSet::new();
    for _ in 0..8 {
        let ids: Vec<String> = book
            .known_items()
            .into_iter()
            .filter(|id| !costed.contains(id))
            .collect();
        if ids.is_empty() {
            break;
        }
        if let Some(l) = &loc {
            valuation.extend(valuation_costs(p, &l.id, &ids).await?);
        }
        for (id, v) in supplier::prices_in_force(p, &co.id, &ids, &date).await? {
            if let Some(best) = v.first() {
                prices.insert(id, best.unit_cost_e6);
            }
        }
        costed.extend(ids.iter().cloned());
        let uncosted: Vec<String> = ids
            .into_iter()
            .filter(|id| !valuation.contains_key(id) && !prices.contains_key(id))
            .collect();
        book.ensure(p, &uncosted).await?;
    }
    let recipe = load_recipe(p, &item, &date).await?;
    let lines_meta: Vec<RecipeLine> = recipe
        .version(version.version_no)
        .map(|v| v.lines.clone())
        .unwrap_or_default();
    let mut coster = Coster {
        book,
        valuation,
        prices,
        memo: HashMap::new(),
    };
    let mut lines: Vec<CostLine> = Vec::with_capacity(lines_meta.len());
    let mut complete = true;
    for m in &lines_meta {
        let (cost, source, ok) = coster.cost_of(&m.component_id, 1);
        complete &= ok && cost.is_some();
        let lc = line_cost_e6(m.base_qty.micros(), m.yield_bp, cost.unwrap_or(0));
        lines.push(CostLine {
            line_no: m.line_no,
            component_id: m.component_id.clone(),
            component_code: m.component_code.clone(),
            component_name_zh: m.component_name_zh.clone(),
            component_name_en: m.component_name_en.clone(),
            base_unit: m.component_base_unit.clone(),
            qty: m.qty,
            unit: m.unit.clone(),
            yield_pct: m.yield_pct.clone(),
            gross_qty: m.gross_qty,
            unit_cost_e6: cost,
            source: source.to_string(),
            line_cost_e6: lc,
            line_cost: boh_kernel::qty::mul_div_round(lc, 1, MICRO).unwrap_or(0),
            share_bp: 0,
        });
    }
    let batch: i64 = lines
        .iter()
        .map(|l| l.line_cost_e6)
        .fold(0, i64::saturating_add);
    for l in &mut lines {
        l.share_bp = if batch > 0 {
            boh_kernel::qty::mul_div_round(l.line_cost_e6, FULL_YIELD_BP, batch).unwrap_or(0)
        } else {
            0
        };
    }
    let unit_e6 =
        boh_kernel::qty::mul_div_round(batch, MICRO, version.yield_qty.max(1)).unwrap_or(0);
    let food_cost_bp = selling.and_then(|s| {
        boh_kernel::qty::mul_div_round(unit_e6, FULL_YIELD_BP, s.saturating_mul(MICRO))
    });
    Ok(CostRollup {
        item_id: item.id,
        item_code: item.code,
        base_unit: item.base_unit,
        date,
        location_id: loc.map(|l| l.id),
        version_id: version.id,
        version_no: version.version_no,
        yield_qty: Qty(version.yield_qty),
        lines,
        batch_cost_e6: batch,
        batch_cost: boh_kernel::qty::mul_div_round(batch, 1, MICRO).unwrap_or(0),
        unit_cost_e6: unit_e6,
        unit_cost: boh_kernel::qty::mul_div_round(unit_e6, 1, MICRO).unwrap_or(0),
        selling_price: selling,
        food_cost_bp,
        complete,
    })
}

/// Moving-average cost per base unit at a location (the last cost when nothing is on hand).
async fn valuation_costs(
    p: &Platform,
    location_id: &str,
    ids: &[String],
) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in ids.chunks(400) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT item_id, qty, value, last_unit_cost FROM inv_valuation WHERE location_id = $1 AND item_id IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(location_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            let qty: i64 = r.try_get("qty")?;
            let value: i64 = r.try_get("value")?;
            let last: i64 = r.try_get("last_unit_cost")?;
            let c = if qty > 0 {
                crate::ledger::unit_cost(value, qty)
            } else {
                last
            };
            if c > 0 {
                out.insert(r.try_get("item_id")?, c);
            }
        }
    }
    Ok(out)
}

/// Basis points as a percentage text with two decimals: `3512` → `35.12`.
pub fn bp_text(bp: i64) -> String {
    boh_kernel::qty::money_text(bp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_div_is_exact_beyond_128_bits() {
        assert_eq!(mul_div_i128(7, 3, 2), Some(11)); // 10.5 rounds away from zero
        assert_eq!(mul_div_i128(-7, 3, 2), Some(-11));
        assert_eq!(mul_div_i128(10, 1, 3), Some(3));
        let big = 10i128.pow(30);
        assert_eq!(mul_div_i128(big, big, big), Some(big));
        assert_eq!(mul_div_i128(big, big, 1), None);
        assert_eq!(mul_div_i128(1, 1, 0), None);
        assert_eq!(
            mul_div_i128(i128::MAX, i128::MAX, i128::MAX),
            Some(i128::MAX)
        );
    }

    #[test]
    fn ratios_stay_exact() {
        let ninth = Ratio::new(1, 9);
        let third = Ratio::new(1, 3);
        assert_eq!(ninth + ninth + ninth, third);
        assert_eq!(third * third, ninth);
        // 1 unit (10^6 micro) × 1/9 = 111111.1… → 111111
        assert_eq!(ninth.apply(1_000_000), Some(111_111));
        assert_eq!(Ratio::new(2, 3).apply(1), Some(1));
        // Large co-prime chains fall back to fixed point without panicking.
        let mut r = Ratio::new(1, 1);
        for p in [
            1_000_003i128,
            999_983,
            1_000_033,
            999_979,
            1_000_037,
            999_961,
            1_000_039,
        ] {
            r = r * Ratio::new(p + 1, p);
        }
        assert!(
            r.apply(1_000_000)
                .is_some_and(|v| (1_000_000..1_000_010).contains(&v))
        );
    }

    #[test]
    fn percentages() {
        assert_eq!(bp_text(3512), "35.12");
        assert_eq!(yield_pct_text(9000), "90");
        assert_eq!(yield_pct_text(9250), "92.5");
        assert_eq!(gross_of(900_000, 9000), Qty(1_000_000));
    }
}
