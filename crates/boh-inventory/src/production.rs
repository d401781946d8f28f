//! Production (prep): making a stocked item at a location from its recipe.
//!
//! One production is one stock document of kind `production`, posted through
//! [`ledger::post_in`]: every ingredient the recipe version in force on the business day takes
//! for the quantity made (scaled by quantity ÷ yield, with line yields, sub-recipes exploded)
//! leaves as a `production_out` movement at its moving-average cost, and the output arrives as
//! one `production_in` movement valued at exactly what the ingredients cost
//! ([`ValueSpec::Consumed`]), so the document's values sum to zero. Actual quantities may
//! replace the theoretical ones per ingredient (0 = not used; an ingredient outside the recipe
//! may be added). The location's negative-stock policy applies as for any document.
//! Permission: `inventory.move.create` at the location.

use std::collections::HashMap;

use boh_kernel::{Qty, perm};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result};
use serde::{Deserialize, Serialize};

use crate::QtyText;
use crate::catalog::{self, Item};
use crate::ledger::{self, Doc, LotPick, PostDoc, PostLine, ValueSpec};
use crate::recipe::{RecipeBook, Usage};

/// An actual quantity used, replacing the recipe's.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActualInput {
    /// The ingredient by id …
    #[serde(default)]
    pub item_id: Option<String>,
    /// … or by code.
    #[serde(default)]
    pub item_code: Option<String>,
    /// What was really used, 0 or more, as a decimal string (numbers are accepted too).
    #[schema(value_type = String, example = "1.2")]
    pub qty: QtyText,
    /// The unit of `qty`; default the ingredient's base unit.
    #[serde(default)]
    pub unit: Option<String>,
}

/// A production to post.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductionInput {
    /// Where it is made (and where ingredients are taken from).
    pub location_id: String,
    /// The item made, by id …
    #[serde(default)]
    pub item_id: Option<String>,
    /// … or by code. It must be kept in stock and have a recipe in force.
    #[serde(default)]
    pub item_code: Option<String>,
    /// How much was made, positive, as a decimal string (numbers are accepted too).
    #[schema(value_type = String, example = "10")]
    pub qty: QtyText,
    /// The unit of `qty`; default the item's base unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// `YYYY-MM-DD`; default today at the location.
    #[serde(default)]
    pub business_date: Option<String>,
    /// The lot made (required for lot-tracked items).
    #[serde(default)]
    pub lot_code: Option<String>,
    /// Expiry of the lot; default the business date plus the item's shelf life.
    #[serde(default)]
    pub expiry_date: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// Actual quantities of ingredients, replacing the recipe's.
    #[serde(default)]
    pub actual: Option<Vec<ActualInput>>,
}

/// A posted production.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Production {
    /// The stock document (kind `production`) with its movements.
    pub doc: Doc,
    pub item_id: String,
    pub item_code: String,
    /// Made, in the item's base unit.
    #[schema(value_type = String)]
    pub qty: Qty,
    pub base_unit: String,
    pub version_id: String,
    pub version_no: i64,
    /// What the recipe says it takes.
    pub theoretical: Vec<Usage>,
    /// What was taken (the theoretical quantities with the actual ones applied).
    pub consumed: Vec<Usage>,
    /// Value of what was made, minor units (= value of what was consumed).
    pub value: i64,
}

/// A production checked and ready to post (for a preview and for posting).
#[derive(Debug, Clone)]
pub struct Plan {
    pub location: boh_platform::org::OrgNode,
    pub item: Item,
    pub qty: Qty,
    pub business_date: String,
    pub version_id: String,
    pub version_no: i64,
    pub theoretical: Vec<Usage>,
    pub consumed: Vec<(Usage, String)>,
    pub lot_code: Option<String>,
    pub expiry: Option<String>,
}

fn rename(errors: Vec<FieldError>, from: &str, to: &str) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|e| match e.field.strip_prefix(from) {
            Some(rest) => FieldError::new(&format!("{to}{rest}"), e.message),
            None => e,
        })
        .collect()
}

/// Check a production and work out what it consumes, without writing anything.
pub async fn plan(p: &Platform, ctx: &Ctx, input: &ProductionInput) -> Result<Plan> {
    let loc = crate::location(
        p,
        &ctx.actor,
        perm::INVENTORY_MOVE_CREATE,
        &input.location_id,
    )
    .await?;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut refs: Vec<(Option<String>, Option<String>, String)> = vec![(
        input.item_id.clone().filter(|s| !s.is_empty()),
        input.item_code.clone().filter(|s| !s.is_empty()),
        "output".to_string(),
    )];
    let actual = input.actual.clone().unwrap_or_default();
    if actual.len() > 500 {
        errors.push(FieldError::new("actual", "at most 500 lines"));
    }
    for (i, a) in actual.iter().enumerate() {
        refs.push((
            a.item_id.clone().filter(|s| !s.is_empty()),
            a.item_code.clone().filter(|s| !s.is_empty()),
            format!("actual[{i}]"),
        ));
    }
    let mut item_errors = Vec::new();
    let resolved = ledger::resolve_items(p, &loc.company_id, &refs, &mut item_errors).await?;
    errors.extend(rename(item_errors, "output.", ""));
    let mut resolved = resolved.into_iter();
    let item = resolved.next().flatten();
    let qty = input.qty.parse(&mut errors, "qty");
    let mut base_qty = None;
    if let Some(it) = &item {
        if !it.stocked {
            errors.push(FieldError::new(
                if input.item_id.is_some() {
                    "item_id"
                } else {
                    "item_code"
                },
                format!(
                    "item {} is not kept in stock; menu items and sub-recipes use their ingredients when sold",
                    it.code
                ),
            ));
        }
        let unit = input
            .unit
            .clone()
            .map(|u| u.trim().to_lowercase())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| it.base_unit.clone());
        match qty {
            Some(q) if q.micros() <= 0 => errors.push(FieldError::new("qty", "must be positive")),
            Some(q) => match it.conversions().to_base(q, &unit) {
                Some(b) if b.micros() > 0 => base_qty = Some(b),
                Some(_) => errors.push(FieldError::new("qty", "is too small for the base unit")),
                None => errors.push(FieldError::new(
                    "unit",
                    format!(
                        "item {} has no conversion from {unit} to {}",
                        it.code, it.base_unit
                    ),
                )),
            },
            None => {}
        }
        let lot = input
            .lot_code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match lot {
            None if it.lot_tracked => errors.push(FieldError::new(
                "lot_code",
                format!("item {} is lot-tracked: the lot is required", it.code),
            )),
            Some(_) if !it.lot_tracked => errors.push(FieldError::new(
                "lot_code",
                format!("item {} is not lot-tracked", it.code),
            )),
            Some(c) if c.chars().count() > 64 => {
                errors.push(FieldError::new("lot_code", "must be at most 64 characters"))
            }
            _ => {}
        }
    }
    let business_date = crate::recipe::date_or_today(
        &mut errors,
        "business_date",
        input.business_date.as_deref(),
        &loc.timezone,
    );
    let expiry = input
        .expiry_date
        .clone()
        .map(|d| d.trim().to_string())
        .filter(|d| !d.is_empty());
    if let Some(d) = &expiry {
        crate::validate_date(&mut errors, "expiry_date", d);
    }
    for (f, v, max) in [
        ("reference", &input.reference, 100),
        ("note", &input.note, 2000),
    ] {
        if v.as_deref().is_some_and(|s| s.chars().count() > max) {
            errors.push(FieldError::new(
                f,
                format!("must be at most {max} characters"),
            ));
        }
    }
    // Actual quantities, in base units, by ingredient.
    let mut overrides: Vec<(Item, i64, String)> = Vec::new();
    for (i, (a, it)) in actual.iter().zip(resolved).enumerate() {
        let field = format!("actual[{i}]");
        let q = a.qty.parse(&mut errors, &format!("{field}.qty"));
        let Some(it) = it else { continue };
        if item.as_ref().is_some_and(|o| o.id == it.id) {
            errors.push(FieldError::new(
                &format!("{field}.item_id"),
                format!("{} is what is made, not an ingredient", it.code),
            ));
            continue;
        }
        if !it.stocked {
            errors.push(FieldError::new(
                &format!("{field}.item_id"),
                format!("item {} is not kept in stock", it.code),
            ));
            continue;
        }
        if overrides.iter().any(|(o, _, _)| o.id == it.id) {
            errors.push(FieldError::new(
                &format!("{field}.item_id"),
                format!("item {} is listed twice", it.code),
            ));
            continue;
        }
        let unit = a
            .unit
            .clone()
            .map(|u| u.trim().to_lowercase())
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| it.base_unit.clone());
        let Some(q) = q else { continue };
        if q.is_negative() {
            errors.push(FieldError::new(
                &format!("{field}.qty"),
                "must be 0 or more",
            ));
            continue;
        }
        match it.conversions().to_base(q, &unit) {
            Some(b) => overrides.push((it, b.micros(), field)),
            None => errors.push(FieldError::new(
                &format!("{field}.unit"),
                format!(
                    "item {} has no conversion from {unit} to {}",
                    it.code, it.base_unit
                ),
            )),
        }
    }
    let (Some(item), Some(base_qty), Some(business_date)) = (item, base_qty, business_date) else {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    };
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let mut book = RecipeBook::new(&loc.company_id, &business_date);
    book.ensure(p, std::slice::from_ref(&item.id)).await?;
    let theoretical = book.explode(&item.id, base_qty).map_err(|e| match e {
        PlatformError::Refused {
            code: "no_recipe",
            message,
            ..
        } => PlatformError::Refused {
            code: "no_recipe",
            fields: vec![FieldError::new(
                if input.item_id.is_some() {
                    "item_id"
                } else {
                    "item_code"
                },
                message.clone(),
            )],
            message,
        },
        other => other,
    })?;
    let version = book
        .version(&item.id)
        .cloned()
        .ok_or(PlatformError::NotFound)?;
    let mut consumed: Vec<(Usage, String)> = theoretical
        .iter()
        .enumerate()
        .map(|(i, u)| (u.clone(), format!("components[{i}]")))
        .collect();
    for (it, q, field) in overrides {
        match consumed.iter_mut().find(|(u, _)| u.item_id == it.id) {
            Some((u, f)) => {
                u.qty = Qty(q);
                *f = field;
            }
            None => consumed.push((
                Usage {
                    item_id: it.id.clone(),
                    item_code: it.code.clone(),
                    item_name_zh: it.name_zh.clone(),
                    item_name_en: it.name_en.clone(),
                    base_unit: it.base_unit.clone(),
                    qty: Qty(q),
                },
                field,
            )),
        }
    }
    consumed.retain(|(u, _)| u.qty.micros() != 0);
    if consumed.is_empty() {
        return Err(PlatformError::invalid(
            "actual",
            "nothing would be used; a production consumes at least one ingredient",
        ));
    }
    Ok(Plan {
        location: loc,
        qty: base_qty,
        business_date,
        version_id: version.id,
        version_no: version.version_no,
        theoretical,
        consumed,
        lot_code: input
            .lot_code
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        expiry,
        item,
    })
}

/// Post a production: one `production` document that consumes the ingredients and yields
/// the output at their cost. All or nothing.
pub async fn post(p: &Platform, ctx: &Ctx, input: ProductionInput) -> Result<Production> {
    let plan = plan(p, ctx, &input).await?;
    let ids: Vec<String> = plan
        .consumed
        .iter()
        .map(|(u, _)| u.item_id.clone())
        .collect();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let backend = p.db.backend();
    boh_platform::tx!(p.db, tx, {
        let mut lines: Vec<PostLine> = Vec::with_capacity(plan.consumed.len() + 1);
        for (u, field) in &plan.consumed {
            let Some(it) = items.get(&u.item_id) else {
                return Err(PlatformError::NotFound);
            };
            lines.push(PostLine {
                item: it.clone(),
                lot: if it.lot_tracked {
                    LotPick::Fefo
                } else {
                    LotPick::NoLot
                },
                qty: -u.qty.micros(),
                value: ValueSpec::AtCost,
                kind: "production_out",
                reason: None,
                reverses_id: None,
                field: field.clone(),
            });
        }
        let lot = match &plan.lot_code {
            Some(code) => {
                let expiry = plan.expiry.clone().or_else(|| {
                    plan.item.shelf_life_days.and_then(|d| {
                        plan.business_date
                            .parse::<jiff::civil::Date>()
                            .ok()
                            .and_then(|b| b.checked_add(jiff::Span::new().days(d)).ok())
                            .map(|x| x.to_string())
                    })
                });
                LotPick::Lot(ledger::ensure_lot(tx, &plan.item, code, expiry.as_deref()).await?)
            }
            None => LotPick::NoLot,
        };
        lines.push(PostLine {
            item: plan.item.clone(),
            lot,
            qty: plan.qty.micros(),
            value: ValueSpec::Consumed,
            kind: "production_in",
            reason: None,
            reverses_id: None,
            field: "output".into(),
        });
        let doc = ledger::post_in(
            tx,
            backend,
            ctx,
            &PostDoc {
                location: plan.location.clone(),
                kind: "production",
                business_date: plan.business_date.clone(),
                reference: input.reference.clone(),
                note: input.note.clone(),
                source_type: Some("recipe_version".into()),
                source_id: Some(plan.version_id.clone()),
                reverses_id: None,
                lines,
                allow_negative: false,
            },
        )
        .await?;
        let value = doc
            .movements
            .iter()
            .filter(|m| m.kind == "production_in")
            .map(|m| m.value)
            .sum();
        let out = Production {
            item_id: plan.item.id.clone(),
            item_code: plan.item.code.clone(),
            qty: plan.qty,
            base_unit: plan.item.base_unit.clone(),
            version_id: plan.version_id.clone(),
            version_no: plan.version_no,
            theoretical: plan.theoretical.clone(),
            consumed: plan.consumed.iter().map(|(u, _)| u.clone()).collect(),
            value,
            doc,
        };
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}
