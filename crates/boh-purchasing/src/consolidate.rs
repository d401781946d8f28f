//! Consolidation: the supplier lines of submitted requisitions become purchase orders, one per
//! supplier, delivery day and receiving site.
//!
//! - Lines wait (`open`) from submission until consolidated; a line whose delivery day has
//!   passed meanwhile goes on the supplier's next one.
//! - A group merges into the open order (draft, or waiting for approval) that consolidation
//!   made earlier for the same supplier, day and site; otherwise it makes a new draft. The same
//!   supplier item from several requisitions becomes one order line.
//! - Quantities go up to whole packs: what the requisitions ask for (in base units) is divided
//!   by the pack size and rounded up; the spare part of a pack already ordered covers later
//!   requests first. Every rounded line is reported (`rounded`).
//! - A draft that reaches the supplier's minimum order value is submitted into the approval
//!   workflow ([`crate::po::submit`]); one below it stays a draft, flagged with the reason, and
//!   the next consolidation for that supplier and day adds to it. An order already waiting for
//!   approval that changes goes through approval again ([`crate::po::update`]'s rule).
//! - The order and the links from the lines commit together; a line is claimed with
//!   `WHERE status = 'open'`, so two consolidations never put one line on two orders.

use std::collections::{BTreeMap, HashMap};

use boh_db::Row;
use boh_inventory::supplier::{self, Supplier, SupplierItem};
use boh_kernel::qty::MICRO;
use boh_kernel::{Qty, perm};
use boh_platform::org::OrgNode;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use serde::{Deserialize, Serialize};

use crate::guide::round_up;
use crate::po::{self, LineInput, PoInput};
use crate::requisition::Rounding;

/// What to consolidate.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsolidateInput {
    /// Only the requisitions of this site; default every site where the caller orders.
    #[serde(default)]
    pub location_id: Option<String>,
}

/// An order made or added to.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsolidatedOrder {
    pub po_id: String,
    pub number: String,
    pub supplier_code: String,
    pub location_code: String,
    pub delivery_date: String,
    /// `created` or `merged`.
    pub action: String,
    /// Numbers of the requisitions whose lines went on it now.
    pub requisitions: Vec<String>,
    /// The order's status afterwards.
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub min_order_minor: i64,
    /// Submitted for approval by this consolidation.
    pub submitted: bool,
    /// Below the supplier's minimum order value: kept as a draft.
    pub below_minimum: bool,
    /// Why it was not submitted.
    pub message: Option<String>,
    /// Lines rounded up to whole packs.
    pub rounded: Vec<Rounding>,
}

/// A group that could not become an order (its lines stay open).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    pub supplier_code: String,
    pub location_code: String,
    pub delivery_date: String,
    pub message: String,
    pub fields: Vec<FieldError>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Consolidation {
    pub orders: Vec<ConsolidatedOrder>,
    pub problems: Vec<Problem>,
}

struct OpenLine {
    requisition_id: String,
    number: String,
    line_no: i64,
    supplier_item_id: String,
    base_qty: i64,
}

/// Consolidate the waiting supplier lines of the requisitions in the caller's scope
/// (`purchasing.order.create`), or of one site (404 outside the scope).
pub async fn consolidate(
    p: &Platform,
    ctx: &Ctx,
    input: &ConsolidateInput,
) -> Result<Consolidation> {
    let actor = &ctx.actor;
    let only = match input
        .location_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(id) => {
            boh_inventory::location(p, actor, perm::PURCHASING_ORDER, id)
                .await?
                .id
        }
        None => {
            if !actor.has_anywhere(perm::PURCHASING_ORDER) {
                return Err(PlatformError::Forbidden(perm::PURCHASING_ORDER));
            }
            String::new()
        }
    };
    let scope = actor.scope(perm::PURCHASING_ORDER).sql("r.location_path");
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT l.requisition_id, l.line_no, l.supplier_id, l.supplier_item_id, l.base_qty, l.delivery_date, \
         r.location_id, r.number FROM requisition_lines l JOIN requisitions r ON r.id = l.requisition_id \
         WHERE l.status = 'open' AND r.status = 'submitted' AND {scope} AND ($1 = '' OR r.location_id = $1) \
         ORDER BY r.id, l.line_no"
    )))
    .bind(&only)
    .fetch_all(p.db.pool())
    .await?;
    let mut sites: HashMap<String, OrgNode> = HashMap::new();
    let mut suppliers: HashMap<String, Supplier> = HashMap::new();
    let mut groups: BTreeMap<(String, String, String), Vec<OpenLine>> = BTreeMap::new();
    for r in &rows {
        let loc: String = r.try_get("location_id")?;
        let sid: Option<String> = r.try_get("supplier_id")?;
        let si: Option<String> = r.try_get("supplier_item_id")?;
        let (Some(sid), Some(si)) = (sid, si) else {
            continue;
        };
        if !sites.contains_key(&loc)
            && let Some(n) = boh_platform::org::fetch(p, &loc).await?
        {
            sites.insert(loc.clone(), n);
        }
        if !suppliers.contains_key(&sid)
            && let Some(s) = supplier::fetch_supplier(p, &sid).await?
        {
            suppliers.insert(sid.clone(), s);
        }
        let (Some(site), Some(s)) = (sites.get(&loc), suppliers.get(&sid)) else {
            continue;
        };
        let today = boh_inventory::today_in(&site.timezone);
        let stored: Option<String> = r.try_get("delivery_date")?;
        let date = match stored.and_then(|d| d.parse::<jiff::civil::Date>().ok()) {
            Some(d) if d >= today => d,
            _ => po::next_delivery(Some(s), today),
        };
        groups
            .entry((sid, loc, date.to_string()))
            .or_default()
            .push(OpenLine {
                requisition_id: r.try_get("requisition_id")?,
                number: r.try_get("number")?,
                line_no: r.try_get("line_no")?,
                supplier_item_id: si,
                base_qty: r.try_get("base_qty")?,
            });
    }
    let mut out = Consolidation::default();
    for ((sid, loc, date), lines) in groups {
        let (Some(site), Some(s)) = (sites.get(&loc), suppliers.get(&sid)) else {
            continue;
        };
        match group(p, ctx, site, s, &date, &lines).await {
            Ok(o) => out.orders.push(o),
            Err(e) => {
                let (message, fields) = match e {
                    PlatformError::Validation(f) => ("invalid order".to_string(), f),
                    PlatformError::Refused {
                        message, fields, ..
                    } => (message, fields),
                    PlatformError::Conflict { message, .. } => (message, Vec::new()),
                    PlatformError::NotFound => ("not found".to_string(), Vec::new()),
                    PlatformError::Forbidden(perm) => {
                        (format!("needs the permission {perm}"), Vec::new())
                    }
                    other => return Err(other),
                };
                out.problems.push(Problem {
                    supplier_code: s.code.clone(),
                    location_code: site.code.clone(),
                    delivery_date: date.clone(),
                    message,
                    fields,
                });
            }
        }
    }
    Ok(out)
}

/// One supplier, site and day: merge into the open consolidated order or make one, link the
/// lines, then submit it if it reaches the minimum order value.
async fn group(
    p: &Platform,
    ctx: &Ctx,
    site: &OrgNode,
    s: &Supplier,
    date: &str,
    lines: &[OpenLine],
) -> Result<ConsolidatedOrder> {
    let existing: Option<String> = sqlx::query(
        "SELECT o.id FROM purchase_orders o WHERE o.supplier_id = $1 AND o.location_id = $2 AND o.delivery_date = $3 \
         AND o.status IN ('draft','pending_approval') \
         AND EXISTS (SELECT 1 FROM requisition_lines x WHERE x.po_id = o.id) ORDER BY o.id LIMIT 1",
    )
    .bind(&s.id)
    .bind(&site.id)
    .bind(date)
    .fetch_optional(p.db.pool())
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?;
    let existing = match existing {
        Some(id) => Some(po::get(p, &ctx.actor, &id).await?),
        None => None,
    };
    let offered: HashMap<String, SupplierItem> =
        supplier::list_supplier_items(p, &ctx.actor, &s.id)
            .await?
            .into_iter()
            .map(|si| (si.id.clone(), si))
            .collect();
    let mut linked: HashMap<String, i64> = HashMap::new();
    if let Some(o) = &existing {
        for r in sqlx::query(
            "SELECT supplier_item_id, CAST(SUM(base_qty) AS BIGINT) AS q FROM requisition_lines WHERE po_id = $1 \
             GROUP BY supplier_item_id",
        )
        .bind(&o.id)
        .fetch_all(p.db.pool())
        .await?
        {
            linked.insert(r.try_get("supplier_item_id")?, r.try_get("q")?);
        }
    }
    let mut wanted: BTreeMap<String, i64> = BTreeMap::new();
    for l in lines {
        let e = wanted.entry(l.supplier_item_id.clone()).or_default();
        *e = e.saturating_add(l.base_qty);
    }
    // (supplier item, packs, price kept from the order) in the order's line order, new items
    // after, by item code.
    let mut order_lines: Vec<(String, Qty, Option<i64>)> = Vec::new();
    let mut rounded = Vec::new();
    let mut plan_line =
        |si: &str, have: Qty, factor: i64, price: Option<i64>, code: &str, unit: &str| {
            let new = wanted.get(si).copied().unwrap_or(0);
            let already = linked.get(si).copied().unwrap_or(0);
            let capacity = have
                .mul_div(factor, MICRO)
                .map(|q| q.micros())
                .unwrap_or(i64::MAX);
            let slack = (capacity - already).max(0);
            let add = round_up(new - slack, factor);
            let packs = Qty(have.micros().saturating_add(add.micros()));
            if new > 0
                && let Some(requested) =
                    Qty(already.saturating_add(new)).mul_div(MICRO, factor.max(1))
                && packs > requested
            {
                rounded.push(Rounding {
                    item_code: code.to_string(),
                    pack_unit: unit.to_string(),
                    requested,
                    ordered: packs,
                });
            }
            order_lines.push((si.to_string(), packs, price));
        };
    if let Some(o) = &existing {
        for l in &o.lines {
            plan_line(
                &l.supplier_item_id,
                l.qty,
                l.pack_factor.micros(),
                Some(l.unit_price_minor),
                &l.item_code,
                &l.pack_unit,
            );
        }
    }
    let mut new_items: Vec<&SupplierItem> = wanted
        .keys()
        .filter(|si| {
            existing
                .as_ref()
                .is_none_or(|o| !o.lines.iter().any(|l| &l.supplier_item_id == *si))
        })
        .filter_map(|si| offered.get(si))
        .collect();
    new_items.sort_by(|a, b| {
        a.item_code
            .cmp(&b.item_code)
            .then(a.pack_unit.cmp(&b.pack_unit))
    });
    for si in new_items {
        plan_line(
            &si.id,
            Qty(0),
            si.pack_factor.micros(),
            None,
            &si.item_code,
            &si.pack_unit,
        );
    }
    for si in wanted.keys() {
        if !order_lines.iter().any(|(id, _, _)| id == si) {
            return Err(PlatformError::refused(
                "supplier_item_gone",
                format!(
                    "supplier {} no longer has one of the requested items",
                    s.code
                ),
            ));
        }
    }
    let input = PoInput {
        supplier_id: s.id.clone(),
        location_id: site.id.clone(),
        delivery_date: Some(date.to_string()),
        note: existing.as_ref().and_then(|o| o.note.clone()),
        lines: order_lines
            .iter()
            .map(|(si, packs, price)| LineInput {
                supplier_item_id: Some(si.clone()),
                qty: serde_json::Value::String(packs.to_text()),
                unit_price_minor: *price,
                ..Default::default()
            })
            .collect(),
    };
    let mut numbers: Vec<String> = lines.iter().map(|l| l.number.clone()).collect();
    numbers.dedup();
    let req_ids: Vec<String> = {
        let mut v: Vec<String> = lines.iter().map(|l| l.requisition_id.clone()).collect();
        v.dedup();
        v
    };
    let action = if existing.is_some() {
        "merged"
    } else {
        "created"
    };
    let po_id = match &existing {
        Some(o) => {
            let (po, change) = po::plan_update(p, ctx, &o.id, &input).await?;
            tx!(p.db, tx, {
                po::update_in(tx, p, ctx, &po, &change).await?;
                link_in(tx, ctx, site, &po.id, lines, &req_ids, action).await?;
                Ok(po.id.clone())
            })?
        }
        None => {
            let c = po::check(p, &ctx.actor, &input).await?;
            tx!(p.db, tx, {
                let id = po::insert_in(tx, ctx, &c).await?;
                link_in(tx, ctx, site, &id, lines, &req_ids, action).await?;
                Ok(id)
            })?
        }
    };
    let mut order = po::get(p, &ctx.actor, &po_id).await?;
    let mut submitted = false;
    let mut message = None;
    let below = order.total_minor < s.min_order_minor;
    if order.status == po::status::DRAFT {
        if below {
            message = Some(format!(
                "the order totals {} but supplier {} takes orders from {}; it stays a draft until more is ordered",
                boh_kernel::qty::money_text(order.total_minor),
                s.code,
                boh_kernel::qty::money_text(s.min_order_minor)
            ));
        } else {
            match po::submit(p, ctx, &po_id).await {
                Ok(o) => {
                    order = o;
                    submitted = true;
                }
                Err(e) => message = Some(e.to_string()),
            }
        }
    }
    Ok(ConsolidatedOrder {
        po_id: order.id.clone(),
        number: order.number.clone(),
        supplier_code: s.code.clone(),
        location_code: site.code.clone(),
        delivery_date: order.delivery_date.clone(),
        action: action.into(),
        requisitions: numbers,
        below_minimum: order.status == po::status::DRAFT && below,
        status: order.status,
        currency: order.currency,
        total_minor: order.total_minor,
        min_order_minor: s.min_order_minor,
        submitted,
        message,
        rounded,
    })
}

/// Put the lines on the order (each claimed from `open` once), with the audit row and event.
async fn link_in(
    tx: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    site: &OrgNode,
    po_id: &str,
    lines: &[OpenLine],
    req_ids: &[String],
    action: &str,
) -> Result<()> {
    for l in lines {
        let n = sqlx::query(
            "UPDATE requisition_lines SET status = 'ordered', po_id = $1 \
             WHERE requisition_id = $2 AND line_no = $3 AND status = 'open'",
        )
        .bind(po_id)
        .bind(&l.requisition_id)
        .bind(l.line_no)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::conflict(
                "lines",
                format!(
                    "requisition {} was consolidated meanwhile; run it again",
                    l.number
                ),
            ));
        }
    }
    audit::append(
        tx,
        ctx,
        audit::Change {
            action: "purchasing.requisitions.consolidate",
            entity_type: "purchase_order",
            entity_id: po_id,
            org_path: Some(&site.path),
            before: None,
            after: Some(serde_json::json!({
                "action": action, "requisitions": req_ids, "lines": lines.len(),
            })),
        },
    )
    .await?;
    events::emit(
        tx,
        "purchasing.requisitions.consolidated",
        Some(&site.path),
        &serde_json::json!({"po_id": po_id, "requisition_ids": req_ids, "action": action}),
    )
    .await?;
    Ok(())
}
