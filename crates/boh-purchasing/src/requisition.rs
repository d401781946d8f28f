//! Requisitions (store orders): what a site asks for, from its order guide or by hand, one line
//! per item with its source. Submitting turns the lines sourced from a warehouse or central
//! kitchen into transfer requests in inventory (one per source, in the submission's
//! transaction, linked back to the lines); supplier lines wait to be consolidated into
//! purchase orders ([`crate::consolidate`]).
//!
//! "Order from the guide" ([`order_from_guide`]) creates and submits a requisition in one
//! transaction and consolidates the site's waiting supplier lines at once.

use std::collections::{BTreeMap, HashMap};

use boh_db::Row;
use boh_inventory::catalog::Item;
use boh_inventory::supplier::{self, Supplier};
use boh_inventory::transfer::{self, Requester, TransferInput, TransferLineInput};
use boh_kernel::{Actor, Qty, id::new_id, now, perm};
use boh_platform::org::OrgNode;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::guide::{self, OrderGuide, SourceOption, source};
use crate::qty_of;

/// Most lines on one requisition.
pub const MAX_LINES: usize = 1_000;

pub mod status {
    pub const DRAFT: &str = "draft";
    pub const SUBMITTED: &str = "submitted";
    pub const CANCELLED: &str = "cancelled";
}

pub mod line_status {
    pub const DRAFT: &str = "draft";
    /// A supplier line of a submitted requisition, waiting to be consolidated.
    pub const OPEN: &str = "open";
    pub const ORDERED: &str = "ordered";
    pub const TRANSFERRED: &str = "transferred";
    pub const CANCELLED: &str = "cancelled";
}

/// A line as sent. The source is a supplier item, a supplier (its item in `unit`, or its only
/// one), or a warehouse / central kitchen; with none of them, the order guide's default.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequisitionLineInput {
    #[serde(default)]
    pub item_id: Option<String>,
    #[serde(default)]
    pub item_code: Option<String>,
    /// Quantity in `unit`, as a decimal string.
    #[schema(value_type = String, example = "3")]
    pub qty: serde_json::Value,
    /// Any unit the item converts; default the source's (its pack unit, or the base unit from
    /// a warehouse).
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub supplier_item_id: Option<String>,
    #[serde(default)]
    pub supplier_id: Option<String>,
    /// The warehouse or central kitchen to order from (stores only).
    #[serde(default)]
    pub from_location_id: Option<String>,
    /// Supplier lines: the delivery day wanted (`YYYY-MM-DD`), one of the supplier's delivery
    /// weekdays and not before its next possible delivery; default the requisition's
    /// `delivery_date`, else the supplier's next delivery day.
    #[serde(default)]
    pub delivery_date: Option<String>,
}

/// A requisition as sent. Status, numbers and links are the system's to set.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequisitionInput {
    /// The store, warehouse or central kitchen that orders (and receives).
    pub location_id: String,
    #[serde(default)]
    pub note: Option<String>,
    /// Deliver on or after this day (`YYYY-MM-DD`): each supplier line without a day of its
    /// own gets the supplier's first delivery day from then (and not before its next possible
    /// one).
    #[serde(default)]
    pub delivery_date: Option<String>,
    pub lines: Vec<RequisitionLineInput>,
}

/// An order from the order guide: the lines the user kept (quantities and sources edited).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GuideOrderInput {
    #[serde(default)]
    pub note: Option<String>,
    /// Deliver on or after this day (`YYYY-MM-DD`), as for a requisition.
    #[serde(default)]
    pub delivery_date: Option<String>,
    pub lines: Vec<RequisitionLineInput>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequisitionLine {
    pub line_no: i64,
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub base_unit: String,
    /// `supplier` or `transfer`.
    pub source: String,
    pub supplier_id: Option<String>,
    pub supplier_code: Option<String>,
    pub supplier_item_id: Option<String>,
    pub from_location_id: Option<String>,
    pub from_location_code: Option<String>,
    pub unit: String,
    #[schema(value_type = String)]
    pub qty: Qty,
    #[schema(value_type = String)]
    pub base_qty: Qty,
    /// What the order guide suggested, in `unit`.
    #[schema(value_type = Option<String>)]
    pub suggested_qty: Option<Qty>,
    pub delivery_date: Option<String>,
    /// The delivery day the user asked for (supplier lines); `None`: the supplier's next.
    pub requested_date: Option<String>,
    /// draft, open (waiting for consolidation), ordered, transferred or cancelled.
    pub status: String,
    pub po_id: Option<String>,
    pub po_number: Option<String>,
    pub po_status: Option<String>,
    pub transfer_id: Option<String>,
    pub transfer_number: Option<String>,
    pub transfer_status: Option<String>,
}

/// A purchase order some requisition lines are on.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OrderRef {
    pub po_id: String,
    pub number: String,
    pub supplier_code: String,
    pub supplier_name_zh: String,
    pub supplier_name_en: String,
    pub delivery_date: String,
    pub status: String,
    pub currency: String,
    pub total_minor: i64,
    pub min_order_minor: i64,
    /// A draft below the supplier's minimum order value: not submitted until it reaches it.
    pub below_minimum: bool,
    /// Lines ordered above what the requisitions asked for, to make whole packs.
    pub rounded: Vec<Rounding>,
}

/// A line rounded up to whole packs.
#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Rounding {
    pub item_code: String,
    pub pack_unit: String,
    /// What the requisitions asked for, in packs (exact).
    #[schema(value_type = String)]
    pub requested: Qty,
    /// What is on the order.
    #[schema(value_type = String)]
    pub ordered: Qty,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Requisition {
    pub id: String,
    pub number: String,
    pub company_id: String,
    pub location_id: String,
    pub location_code: String,
    pub location_name_zh: String,
    pub location_name_en: String,
    /// draft, submitted or cancelled.
    pub status: String,
    /// `guide` or `manual`.
    pub origin: String,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub submitted_at: Option<String>,
    pub updated_at: String,
    pub version: i64,
    pub lines: Vec<RequisitionLine>,
    /// The purchase orders its lines are on.
    pub orders: Vec<OrderRef>,
}

/// A line checked against the catalogue, the sources and the actor's scope.
struct CheckedLine {
    item: Item,
    source: SourceOption,
    unit: String,
    qty: Qty,
    base_qty: i64,
    suggested: Option<Qty>,
    /// The delivery day asked for on the line itself (kept for a later submission).
    requested: Option<String>,
}

struct Checked {
    site: OrgNode,
    note: Option<String>,
    lines: Vec<CheckedLine>,
}

fn trimmed(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Check a requisition for `site` (already resolved in the actor's scope). Every problem is
/// named at once; the guide, when given, supplies the suggested quantities.
async fn check(
    p: &Platform,
    site: OrgNode,
    note: &Option<String>,
    delivery_from: &Option<String>,
    input: &[RequisitionLineInput],
    guide: Option<&OrderGuide>,
) -> Result<Checked> {
    let mut errors = Vec::new();
    let today = boh_inventory::today_in(&site.timezone);
    let from = trimmed(delivery_from).and_then(|d| {
        let parsed = boh_inventory::validate_date(&mut errors, "delivery_date", d);
        if parsed.is_some_and(|p| p < today) {
            errors.push(FieldError::new(
                "delivery_date",
                format!("{d} is in the past"),
            ));
        }
        parsed
    });
    let note = trimmed(note).map(str::to_string);
    if note.as_deref().is_some_and(|n| n.chars().count() > 1000) {
        errors.push(FieldError::new("note", "at most 1,000 characters"));
    }
    if input.is_empty() {
        errors.push(FieldError::new("lines", "at least one line is required"));
    }
    if input.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    let refs: Vec<(Option<String>, Option<String>, String)> = input
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                trimmed(&l.item_id).map(str::to_string),
                trimmed(&l.item_code).map(str::to_string),
                format!("lines[{i}]"),
            )
        })
        .collect();
    let items =
        boh_inventory::ledger::resolve_items(p, &site.company_id, &refs, &mut errors).await?;
    let found: Vec<Item> = items.iter().flatten().cloned().collect();
    let sources = guide::sources_for(p, &site, &found, today).await?;
    let mut suppliers: HashMap<String, Option<Supplier>> = HashMap::new();
    let mut lines = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (i, (l, item)) in input.iter().zip(items).enumerate() {
        let f = |k: &str| format!("lines[{i}].{k}");
        let qty = qty_of(&l.qty);
        match qty {
            None => errors.push(FieldError::new(
                &f("qty"),
                "a decimal number such as 3 or 2.5",
            )),
            Some(q) if q.micros() <= 0 => {
                errors.push(FieldError::new(&f("qty"), "must be greater than zero"))
            }
            Some(q) if q.micros() > 1_000_000 * 1_000_000 => {
                errors.push(FieldError::new(&f("qty"), "at most 1,000,000"))
            }
            _ => {}
        }
        let Some(item) = item else { continue };
        if !item.stocked {
            errors.push(FieldError::new(
                &f("item_code"),
                format!("item {} is not kept in stock", item.code),
            ));
            continue;
        }
        if seen.contains(&item.id) {
            errors.push(FieldError::new(
                &f("item_code"),
                format!("item {} is on an earlier line already", item.code),
            ));
            continue;
        }
        seen.push(item.id.clone());
        let opts = sources.get(&item.id).cloned().unwrap_or_default();
        let unit = trimmed(&l.unit);
        let chosen: Option<SourceOption> = if let Some(si) = trimmed(&l.supplier_item_id) {
            match opts
                .iter()
                .find(|o| o.supplier_item_id.as_deref() == Some(si))
            {
                Some(o) => Some(o.clone()),
                None => {
                    let why = supplier_item_problem(p, &site, &item, si, &mut suppliers).await?;
                    errors.push(FieldError::new(&f("supplier_item_id"), why));
                    None
                }
            }
        } else if let Some(sid) = trimmed(&l.supplier_id) {
            let s = match suppliers.get(sid) {
                Some(s) => s.clone(),
                None => {
                    let s = supplier::fetch_supplier(p, sid)
                        .await?
                        .filter(|s| s.company_id == site.company_id);
                    suppliers.insert(sid.to_string(), s.clone());
                    s
                }
            };
            match s {
                None => {
                    errors.push(FieldError::new(&f("supplier_id"), "no such supplier"));
                    None
                }
                Some(s) if !s.active => {
                    errors.push(FieldError::new(
                        &f("supplier_id"),
                        format!("supplier {} is closed; choose another source", s.code),
                    ));
                    None
                }
                Some(s) => {
                    let mine: Vec<&SourceOption> = opts
                        .iter()
                        .filter(|o| o.supplier_id.as_deref() == Some(s.id.as_str()))
                        .collect();
                    match (mine.len(), unit) {
                        (0, _) => {
                            errors.push(FieldError::new(
                                &f("supplier_id"),
                                format!(
                                    "supplier {} has no price in force for item {}",
                                    s.code, item.code
                                ),
                            ));
                            None
                        }
                        (_, Some(u)) => Some(
                            mine.iter()
                                .find(|o| o.unit == u)
                                .copied()
                                .unwrap_or(mine[0])
                                .clone(),
                        ),
                        (1, None) => Some(mine[0].clone()),
                        (_, None) => {
                            let units: Vec<&str> = mine.iter().map(|o| o.unit.as_str()).collect();
                            errors.push(FieldError::new(
                                &f("unit"),
                                format!(
                                    "supplier {} sells item {} in several units; choose one of: {}",
                                    s.code,
                                    item.code,
                                    units.join(", ")
                                ),
                            ));
                            None
                        }
                    }
                }
            }
        } else if let Some(from) = trimmed(&l.from_location_id) {
            match opts
                .iter()
                .find(|o| o.from_location_id.as_deref() == Some(from))
            {
                Some(o) => Some(o.clone()),
                None => {
                    errors.push(FieldError::new(
                        &f("from_location_id"),
                        if site.kind == "store" {
                            format!(
                                "no warehouse or central kitchen of this company with that id stocks item {}",
                                item.code
                            )
                        } else {
                            "only stores order from a warehouse or central kitchen".to_string()
                        },
                    ));
                    None
                }
            }
        } else {
            match opts.first() {
                Some(o) => Some(o.clone()),
                None => {
                    errors.push(FieldError::new(
                        &f("item_code"),
                        format!(
                            "no supplier has a price in force for item {} and no warehouse stocks it; \
                             give a source",
                            item.code
                        ),
                    ));
                    None
                }
            }
        };
        let Some(mut source) = chosen else { continue };
        let asked = trimmed(&l.delivery_date);
        let mut requested = None;
        if source.kind == source::SUPPLIER {
            let s = match source.supplier_id.as_deref() {
                Some(sid) => cached_supplier(p, sid, &mut suppliers).await?,
                None => None,
            };
            match delivery_day(s.as_ref(), today, asked, from) {
                Ok(d) => {
                    source.delivery_date = Some(d.to_string());
                    if asked.is_some() || from.is_some() {
                        requested = Some(d.to_string());
                    }
                }
                Err(why) => {
                    errors.push(FieldError::new(&f("delivery_date"), why));
                    continue;
                }
            }
        } else if asked.is_some() {
            errors.push(FieldError::new(
                &f("delivery_date"),
                "a line from a warehouse or central kitchen has no delivery day; the warehouse ships it",
            ));
            continue;
        }
        let unit = unit.unwrap_or(&source.unit).to_string();
        let Some(q) = qty.filter(|q| q.micros() > 0 && q.micros() <= 1_000_000 * 1_000_000) else {
            continue;
        };
        let Some(base) = item.conversions().to_base(q, &unit) else {
            errors.push(FieldError::new(
                &f("unit"),
                format!(
                    "item {} has no conversion from {unit} to {}",
                    item.code, item.base_unit
                ),
            ));
            continue;
        };
        if base.micros() <= 0 {
            errors.push(FieldError::new(&f("qty"), "must be greater than zero"));
            continue;
        }
        let suggested = guide.and_then(|g| {
            g.lines
                .iter()
                .find(|gl| gl.item_id == item.id)
                .and_then(|gl| gl.sources.iter().find(|o| o.key == source.key))
                .map(|o| o.suggested_qty)
        });
        lines.push(CheckedLine {
            item,
            source,
            unit,
            qty: q,
            base_qty: base.micros(),
            suggested,
            requested,
        });
    }
    if !errors.is_empty() {
        boh_inventory::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    Ok(Checked { site, note, lines })
}

/// A supplier, read once per check.
async fn cached_supplier(
    p: &Platform,
    id: &str,
    cache: &mut HashMap<String, Option<Supplier>>,
) -> Result<Option<Supplier>> {
    if let Some(s) = cache.get(id) {
        return Ok(s.clone());
    }
    let s = supplier::fetch_supplier(p, id).await?;
    cache.insert(id.to_string(), s.clone());
    Ok(s)
}

/// The delivery day of a supplier line: the day asked for on the line (exact: a delivery
/// weekday of the supplier, not before its next possible delivery, within a year), else the
/// supplier's first delivery day on or after `from` (not before the next possible one), else
/// the next possible one.
pub(crate) fn delivery_day(
    s: Option<&Supplier>,
    today: jiff::civil::Date,
    requested: Option<&str>,
    from: Option<jiff::civil::Date>,
) -> std::result::Result<jiff::civil::Date, String> {
    let earliest = crate::po::next_delivery(s, today);
    let Some(r) = requested else {
        return Ok(match (from, s) {
            (Some(f), Some(s)) if f > earliest => crate::po::delivery_on_or_after(s, f),
            (Some(f), None) if f > earliest => f,
            _ => earliest,
        });
    };
    let d = match r.parse::<jiff::civil::Date>() {
        Ok(d) if r.len() == 10 => d,
        _ => return Err("must be a date as YYYY-MM-DD".into()),
    };
    let code = s.map(|s| s.code.as_str()).unwrap_or("");
    if d < earliest {
        return Err(format!(
            "supplier {code} can deliver on {earliest} at the earliest"
        ));
    }
    if today
        .checked_add(jiff::Span::new().days(366))
        .is_ok_and(|y| d > y)
    {
        return Err("at most a year ahead".into());
    }
    if let Some(s) = s.filter(|s| !crate::po::delivers_on(s, d)) {
        let days: Vec<&str> = s
            .delivery_days
            .iter()
            .filter_map(|n| WEEKDAYS.get((*n as usize).wrapping_sub(1)).copied())
            .collect();
        return Err(format!(
            "supplier {code} delivers on {} only; {d} is a {}",
            days.join(", "),
            WEEKDAYS[d.weekday().to_monday_zero_offset() as usize]
        ));
    }
    Ok(d)
}

const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// Why a supplier item cannot be a line's source.
async fn supplier_item_problem(
    p: &Platform,
    site: &OrgNode,
    item: &Item,
    si: &str,
    suppliers: &mut HashMap<String, Option<Supplier>>,
) -> Result<String> {
    if !boh_kernel::id::is_uuid(si) {
        return Ok("no such supplier item".into());
    }
    let row = sqlx::query(
        "SELECT supplier_id, item_id, active, pack_unit FROM inv_supplier_items WHERE id = $1 AND company_id = $2",
    )
    .bind(si)
    .bind(&site.company_id)
    .fetch_optional(p.db.pool())
    .await?;
    let Some(row) = row else {
        return Ok("no such supplier item".into());
    };
    let sid: String = row.try_get("supplier_id")?;
    let s = match suppliers.get(&sid) {
        Some(s) => s.clone(),
        None => {
            let s = supplier::fetch_supplier(p, &sid).await?;
            suppliers.insert(sid.clone(), s.clone());
            s
        }
    };
    let code = s.as_ref().map(|s| s.code.clone()).unwrap_or_default();
    Ok(if s.as_ref().is_some_and(|s| !s.active) {
        format!("supplier {code} is closed; choose another source")
    } else if row.try_get::<String, _>("item_id")? != item.id {
        format!("not a supplier item of item {}", item.code)
    } else if row.try_get::<i64, _>("active")? == 0 {
        format!("supplier {code} no longer sells item {}", item.code)
    } else {
        format!(
            "supplier {code} has no price in force for item {} per {}",
            item.code,
            row.try_get::<String, _>("pack_unit")?
        )
    })
}

/// The site a requisition is for, where the actor may order (404 outside their scope).
async fn order_site(p: &Platform, actor: &Actor, location_id: &str) -> Result<OrgNode> {
    boh_inventory::location(p, actor, perm::PURCHASING_ORDER, location_id).await
}

/// The transfer requests of the lines sourced from a warehouse or central kitchen, one per
/// source, checked (reading only): (source location id, plan).
async fn plan_transfers(
    p: &Platform,
    actor: &Actor,
    c: &Checked,
    number_hint: &str,
) -> Result<Vec<(String, transfer::Planned)>> {
    let mut by_source: BTreeMap<String, Vec<&CheckedLine>> = BTreeMap::new();
    for l in &c.lines {
        if let (source::TRANSFER, Some(from)) = (l.source.kind.as_str(), &l.source.from_location_id)
        {
            by_source.entry(from.clone()).or_default().push(l);
        }
    }
    let mut out = Vec::new();
    for (from, lines) in by_source {
        let input = TransferInput {
            from_location_id: from.clone(),
            to_location_id: c.site.id.clone(),
            note: Some(format!("store order {} ({number_hint})", c.site.code)),
            lines: lines
                .iter()
                .map(|l| TransferLineInput {
                    item_id: Some(l.item.id.clone()),
                    item_code: None,
                    qty: Qty(l.base_qty).to_text().as_str().into(),
                    unit: Some(l.item.base_unit.clone()),
                    note: None,
                })
                .collect(),
        };
        let planned = transfer::plan_request(p, actor, &input, Requester::Destination).await?;
        out.push((from, planned));
    }
    Ok(out)
}

/// A context for writes made on the caller's behalf inside another use case (no idempotency
/// key of their own).
pub(crate) fn inner(ctx: &Ctx) -> Ctx {
    Ctx {
        idem: None,
        ..ctx.clone()
    }
}

/// Insert the requisition and its lines (in `status`, lines draft or, when submitted, open /
/// transferred with their transfers written), with audit and events.
async fn write_in(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    c: &Checked,
    origin: &str,
    submit: Option<&[(String, transfer::Planned)]>,
) -> Result<String> {
    let id = new_id();
    let t = now().micros();
    let number = boh_inventory::next_number(tx, &c.site.company_id, "requisition", "REQ").await?;
    let st = if submit.is_some() {
        status::SUBMITTED
    } else {
        status::DRAFT
    };
    sqlx::query(
        "INSERT INTO requisitions (id, company_id, number, location_id, location_path, status, origin, note, \
         created_by, created_at, submitted_by, submitted_at, updated_at, version) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$10,1)",
    )
    .bind(&id)
    .bind(&c.site.company_id)
    .bind(&number)
    .bind(&c.site.id)
    .bind(&c.site.path)
    .bind(st)
    .bind(origin)
    .bind(c.note.as_deref())
    .bind(&ctx.actor.user_id)
    .bind(t)
    .bind(submit.map(|_| ctx.actor.user_id.clone()))
    .bind(submit.map(|_| t))
    .execute(&mut *tx)
    .await?;
    write_lines(tx, &id, &c.lines).await?;
    remember_sources(tx, &ctx.actor.user_id, t, c).await?;
    audit::append(
        tx,
        ctx,
        audit::Change {
            action: "purchasing.requisition.create",
            entity_type: "requisition",
            entity_id: &id,
            org_path: Some(&c.site.path),
            before: None,
            after: Some(serde_json::json!({
                "number": number, "origin": origin, "lines": c.lines.len(), "status": st,
            })),
        },
    )
    .await?;
    if let Some(transfers) = submit {
        submit_lines_in(tx, ctx, &id, &number, &c.site, &c.lines, transfers).await?;
    }
    Ok(id)
}

/// The source of each line becomes the one the site's guide offers first for that item.
async fn remember_sources(
    tx: &mut AnyConnection,
    user_id: &str,
    at: i64,
    c: &Checked,
) -> Result<()> {
    for chunk in c.lines.chunks(300) {
        let sql = format!(
            "INSERT INTO purchasing_source_choices (location_id, item_id, source_key, chosen_by, chosen_at) \
             VALUES {} ON CONFLICT (location_id, item_id) DO UPDATE SET source_key = excluded.source_key, \
             chosen_by = excluded.chosen_by, chosen_at = excluded.chosen_at",
            boh_platform::util::values_list(tx, chunk.len(), 5)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for l in chunk {
            q = q
                .bind(c.site.id.clone())
                .bind(l.item.id.clone())
                .bind(l.source.key.clone())
                .bind(user_id.to_string())
                .bind(at);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

async fn write_lines(tx: &mut AnyConnection, id: &str, lines: &[CheckedLine]) -> Result<()> {
    for (ci, chunk) in lines.chunks(300).enumerate() {
        let sql = format!(
            "INSERT INTO requisition_lines (requisition_id, line_no, item_id, source, supplier_id, supplier_item_id, \
             from_location_id, unit, qty, base_qty, suggested_qty, delivery_date, status, po_id, transfer_id, \
             requested_date) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 16)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for (k, l) in chunk.iter().enumerate() {
            q = q
                .bind(id.to_string())
                .bind((ci * 300 + k + 1) as i64)
                .bind(l.item.id.clone())
                .bind(l.source.kind.clone())
                .bind(l.source.supplier_id.clone())
                .bind(l.source.supplier_item_id.clone())
                .bind(l.source.from_location_id.clone())
                .bind(l.unit.clone())
                .bind(l.qty.micros())
                .bind(l.base_qty)
                .bind(l.suggested.map(|q| q.micros()))
                .bind(l.source.delivery_date.clone())
                .bind(line_status::DRAFT)
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(l.requested.clone());
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Submit the lines of a requisition inside the caller's transaction: transfer requests for
/// the warehouse lines (linked back), the supplier lines open for consolidation with the
/// supplier's next delivery day.
async fn submit_lines_in(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    id: &str,
    number: &str,
    site: &OrgNode,
    lines: &[CheckedLine],
    transfers: &[(String, transfer::Planned)],
) -> Result<()> {
    let inner = inner(ctx);
    let mut made = Vec::new();
    for (from, planned) in transfers {
        let t = transfer::request_in(tx, &inner, planned).await?;
        sqlx::query(
            "UPDATE requisition_lines SET status = 'transferred', transfer_id = $1 \
             WHERE requisition_id = $2 AND source = 'transfer' AND from_location_id = $3",
        )
        .bind(&t.id)
        .bind(id)
        .bind(from)
        .execute(&mut *tx)
        .await?;
        made.push(serde_json::json!({"transfer_id": t.id, "number": t.number}));
    }
    // Supplier lines: the delivery day as of submission (the guide's, else the supplier's).
    for (i, l) in lines.iter().enumerate() {
        if l.source.kind != source::SUPPLIER {
            continue;
        }
        sqlx::query(
            "UPDATE requisition_lines SET status = 'open', delivery_date = $1 WHERE requisition_id = $2 AND line_no = $3",
        )
        .bind(l.source.delivery_date.clone())
        .bind(id)
        .bind(i as i64 + 1)
        .execute(&mut *tx)
        .await?;
    }
    audit::append(
        tx,
        ctx,
        audit::Change {
            action: "purchasing.requisition.submit",
            entity_type: "requisition",
            entity_id: id,
            org_path: Some(&site.path),
            before: Some(serde_json::json!({"status": status::DRAFT})),
            after: Some(serde_json::json!({"status": status::SUBMITTED, "transfers": made})),
        },
    )
    .await?;
    events::emit(
        tx,
        "purchasing.requisition.submitted",
        Some(&site.path),
        &serde_json::json!({"requisition_id": id, "number": number, "location_id": site.id,
                            "transfers": made}),
    )
    .await?;
    Ok(())
}

/// Create a draft requisition.
pub async fn create(p: &Platform, ctx: &Ctx, input: &RequisitionInput) -> Result<Requisition> {
    let site = order_site(p, &ctx.actor, &input.location_id).await?;
    let c = check(
        p,
        site,
        &input.note,
        &input.delivery_date,
        &input.lines,
        None,
    )
    .await?;
    let id = tx!(p.db, tx, {
        let id = write_in(tx, ctx, &c, "manual", None).await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(id)
    })?;
    get(p, &ctx.actor, &id).await
}

/// A requisition the actor may change (404 outside their scope, 403 without the permission).
async fn for_change(p: &Platform, actor: &Actor, id: &str) -> Result<(Requisition, OrgNode)> {
    let r = get(p, actor, id).await?;
    let site = boh_platform::org::fetch(p, &r.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !actor.allows(perm::PURCHASING_ORDER, &site.path) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_ORDER));
    }
    Ok((r, site))
}

/// The input that reproduces a stored draft (to check it again at submission).
fn input_of(r: &Requisition) -> Vec<RequisitionLineInput> {
    r.lines
        .iter()
        .map(|l| RequisitionLineInput {
            item_id: Some(l.item_id.clone()),
            item_code: None,
            qty: serde_json::Value::String(l.qty.to_text()),
            unit: Some(l.unit.clone()),
            supplier_item_id: l.supplier_item_id.clone(),
            supplier_id: None,
            from_location_id: l.from_location_id.clone(),
            delivery_date: l.requested_date.clone(),
        })
        .collect()
}

/// Submit a draft: warehouse lines become transfer requests, supplier lines wait for
/// consolidation. The lines are checked again (a supplier may have closed meanwhile).
pub async fn submit(p: &Platform, ctx: &Ctx, id: &str) -> Result<Requisition> {
    let (r, site) = for_change(p, &ctx.actor, id).await?;
    if r.status != status::DRAFT {
        return Err(PlatformError::conflict(
            "status",
            format!(
                "requisition {} is {} and cannot be submitted",
                r.number, r.status
            ),
        ));
    }
    let c = check(p, site, &r.note, &None, &input_of(&r), None).await?;
    let transfers = plan_transfers(p, &ctx.actor, &c, &r.number).await?;
    let version = r.version;
    tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE requisitions SET status = 'submitted', submitted_by = $1, submitted_at = $2, updated_at = $2, \
             version = version + 1 WHERE id = $3 AND status = 'draft' AND version = $4",
        )
        .bind(&ctx.actor.user_id)
        .bind(now().micros())
        .bind(&r.id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::conflict(
                "version",
                "the requisition changed meanwhile; reload it",
            ));
        }
        // The lines as checked now (the delivery day of today).
        sqlx::query("DELETE FROM requisition_lines WHERE requisition_id = $1")
            .bind(&r.id)
            .execute(&mut *tx)
            .await?;
        write_lines(tx, &r.id, &c.lines).await?;
        submit_lines_in(tx, ctx, &r.id, &r.number, &c.site, &c.lines, &transfers).await?;
        Ok(())
    })?;
    get(p, &ctx.actor, id).await
}

/// Cancel a draft.
pub async fn cancel(p: &Platform, ctx: &Ctx, id: &str) -> Result<Requisition> {
    let (r, site) = for_change(p, &ctx.actor, id).await?;
    if r.status != status::DRAFT {
        return Err(PlatformError::conflict(
            "status",
            format!(
                "requisition {} is {}; only drafts are cancelled (cancel its orders or transfers instead)",
                r.number, r.status
            ),
        ));
    }
    tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE requisitions SET status = 'cancelled', updated_at = $1, version = version + 1 \
             WHERE id = $2 AND status = 'draft'",
        )
        .bind(now().micros())
        .bind(&r.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::conflict(
                "status",
                "the requisition changed meanwhile; reload it",
            ));
        }
        sqlx::query("UPDATE requisition_lines SET status = 'cancelled' WHERE requisition_id = $1")
            .bind(&r.id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.requisition.cancel",
                entity_type: "requisition",
                entity_id: &r.id,
                org_path: Some(&site.path),
                before: Some(serde_json::json!({"status": r.status})),
                after: Some(serde_json::json!({"status": status::CANCELLED})),
            },
        )
        .await?;
        Ok(())
    })?;
    get(p, &ctx.actor, id).await
}

/// What ordering from the guide did: the submitted requisition and the consolidation of the
/// site's supplier lines.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GuideOrder {
    pub requisition: Requisition,
    pub consolidation: crate::consolidate::Consolidation,
}

/// Order from the guide of a site: the requisition is created and submitted in one
/// transaction (warehouse lines become transfer requests), then the site's supplier lines are
/// consolidated into purchase orders, and those that reach the supplier's minimum order value
/// are submitted for approval. An order below the minimum stays a draft, flagged.
pub async fn order_from_guide(
    p: &Platform,
    ctx: &Ctx,
    location_id: &str,
    input: &GuideOrderInput,
) -> Result<GuideOrder> {
    let site = order_site(p, &ctx.actor, location_id).await?;
    let guide = guide::build(p, &site).await?;
    let c = check(
        p,
        site,
        &input.note,
        &input.delivery_date,
        &input.lines,
        Some(&guide),
    )
    .await?;
    let transfers = plan_transfers(p, &ctx.actor, &c, "order guide").await?;
    let site_id = c.site.id.clone();
    let id = tx!(p.db, tx, {
        let id = write_in(tx, ctx, &c, "guide", Some(&transfers)).await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(id)
    })?;
    let consolidation = crate::consolidate::consolidate(
        p,
        &inner(ctx),
        &crate::consolidate::ConsolidateInput {
            location_id: Some(site_id),
        },
    )
    .await?;
    Ok(GuideOrder {
        requisition: get(p, &ctx.actor, &id).await?,
        consolidation,
    })
}

// ---------------------------------------------------------------- reading

const REQ_SQL: &str = "SELECT r.id, r.number, r.company_id, r.location_id, r.location_path, n.code AS location_code, \
    n.name_zh AS location_name_zh, n.name_en AS location_name_en, r.status, r.origin, r.note, r.created_by, \
    r.created_at, r.submitted_at, r.updated_at, r.version FROM requisitions r LEFT JOIN org_nodes n ON n.id = r.location_id";

fn from_row(r: &boh_db::AnyRow) -> Result<Requisition> {
    Ok(Requisition {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        company_id: r.try_get("company_id")?,
        location_id: r.try_get("location_id")?,
        location_code: r.try_get("location_code")?,
        location_name_zh: r.try_get("location_name_zh")?,
        location_name_en: r.try_get("location_name_en")?,
        status: r.try_get("status")?,
        origin: r.try_get("origin")?,
        note: r.try_get("note")?,
        created_by: r.try_get("created_by")?,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        submitted_at: r
            .try_get::<Option<i64>, _>("submitted_at")?
            .map(|t| boh_kernel::Instant(t).rfc3339()),
        updated_at: boh_kernel::Instant(r.try_get("updated_at")?).rfc3339(),
        version: r.try_get("version")?,
        lines: Vec::new(),
        orders: Vec::new(),
    })
}

/// One requisition with its lines and orders (404 outside the actor's scope).
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Requisition> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let r = sqlx::query(boh_db::AssertSqlSafe(format!("{REQ_SQL} WHERE r.id = $1")))
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or(PlatformError::NotFound)?;
    let path: String = r.try_get("location_path")?;
    if !crate::po::may_read(actor, &path) {
        return Err(PlatformError::NotFound);
    }
    let mut req = from_row(&r)?;
    let rows = sqlx::query(
        "SELECT l.line_no, l.item_id, i.code, i.name_zh, i.name_en, i.base_unit, l.source, l.supplier_id, \
         s.code AS supplier_code, l.supplier_item_id, l.from_location_id, fl.code AS from_code, l.unit, l.qty, \
         l.base_qty, l.suggested_qty, l.delivery_date, l.requested_date, l.status, l.po_id, o.number AS po_number, o.status AS po_status, \
         l.transfer_id, t.number AS transfer_number, t.status AS transfer_status FROM requisition_lines l \
         JOIN inv_items i ON i.id = l.item_id LEFT JOIN inv_suppliers s ON s.id = l.supplier_id \
         LEFT JOIN org_nodes fl ON fl.id = l.from_location_id LEFT JOIN purchase_orders o ON o.id = l.po_id \
         LEFT JOIN inv_transfers t ON t.id = l.transfer_id WHERE l.requisition_id = $1 ORDER BY l.line_no",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    for l in rows {
        req.lines.push(RequisitionLine {
            line_no: l.try_get("line_no")?,
            item_id: l.try_get("item_id")?,
            item_code: l.try_get("code")?,
            item_name_zh: l.try_get("name_zh")?,
            item_name_en: l.try_get("name_en")?,
            base_unit: l.try_get("base_unit")?,
            source: l.try_get("source")?,
            supplier_id: l.try_get("supplier_id")?,
            supplier_code: l.try_get("supplier_code")?,
            supplier_item_id: l.try_get("supplier_item_id")?,
            from_location_id: l.try_get("from_location_id")?,
            from_location_code: l.try_get("from_code")?,
            unit: l.try_get("unit")?,
            qty: Qty(l.try_get("qty")?),
            base_qty: Qty(l.try_get("base_qty")?),
            suggested_qty: l.try_get::<Option<i64>, _>("suggested_qty")?.map(Qty),
            delivery_date: l.try_get("delivery_date")?,
            requested_date: l.try_get("requested_date")?,
            status: l.try_get("status")?,
            po_id: l.try_get("po_id")?,
            po_number: l.try_get("po_number")?,
            po_status: l.try_get("po_status")?,
            transfer_id: l.try_get("transfer_id")?,
            transfer_number: l.try_get("transfer_number")?,
            transfer_status: l.try_get("transfer_status")?,
        });
    }
    let mut po_ids: Vec<String> = req.lines.iter().filter_map(|l| l.po_id.clone()).collect();
    po_ids.sort();
    po_ids.dedup();
    req.orders = orders(p, &po_ids).await?;
    Ok(req)
}

/// The purchase orders with these ids as requisitions see them, with the lines rounded up to
/// whole packs (unscoped: callers checked the requisition or the order).
pub async fn orders(p: &Platform, po_ids: &[String]) -> Result<Vec<OrderRef>> {
    let mut out = Vec::new();
    for id in po_ids {
        let Some(r) = sqlx::query(
            "SELECT o.id, o.number, o.delivery_date, o.status, o.currency, o.total_minor, s.code, s.name_zh, \
             s.name_en, s.min_order_minor FROM purchase_orders o JOIN inv_suppliers s ON s.id = o.supplier_id \
             WHERE o.id = $1",
        )
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        else {
            continue;
        };
        let status: String = r.try_get("status")?;
        let total: i64 = r.try_get("total_minor")?;
        let mov: i64 = r.try_get("min_order_minor")?;
        let asked = sqlx::query(
            "SELECT supplier_item_id, CAST(SUM(base_qty) AS BIGINT) AS q FROM requisition_lines WHERE po_id = $1 \
             GROUP BY supplier_item_id",
        )
        .bind(id)
        .fetch_all(p.db.pool())
        .await?;
        let asked: HashMap<String, i64> = asked
            .iter()
            .map(|a| Ok((a.try_get("supplier_item_id")?, a.try_get("q")?)))
            .collect::<Result<_>>()?;
        let lines = sqlx::query(
            "SELECT l.supplier_item_id, i.code, l.pack_unit, l.pack_factor, l.qty FROM purchase_order_lines l \
             JOIN inv_items i ON i.id = l.item_id WHERE l.po_id = $1 ORDER BY l.line_no",
        )
        .bind(id)
        .fetch_all(p.db.pool())
        .await?;
        let mut rounded = Vec::new();
        for l in &lines {
            let si: String = l.try_get("supplier_item_id")?;
            let Some(base) = asked.get(&si) else { continue };
            let factor: i64 = l.try_get("pack_factor")?;
            let requested = Qty(*base).mul_div(boh_kernel::qty::MICRO, factor.max(1));
            let ordered = Qty(l.try_get("qty")?);
            if let Some(req) = requested
                && ordered > req
            {
                rounded.push(Rounding {
                    item_code: l.try_get("code")?,
                    pack_unit: l.try_get("pack_unit")?,
                    requested: req,
                    ordered,
                });
            }
        }
        out.push(OrderRef {
            po_id: r.try_get("id")?,
            number: r.try_get("number")?,
            supplier_code: r.try_get("code")?,
            supplier_name_zh: r.try_get("name_zh")?,
            supplier_name_en: r.try_get("name_en")?,
            delivery_date: r.try_get("delivery_date")?,
            below_minimum: status == crate::po::status::DRAFT && total < mov,
            status,
            currency: r.try_get("currency")?,
            total_minor: total,
            min_order_minor: mov,
            rounded,
        });
    }
    Ok(out)
}

/// The requisitions whose lines are on an order (numbers, for the order's page).
pub async fn numbers_for_order(p: &Platform, po_id: &str) -> Result<Vec<(String, String)>> {
    let rows = sqlx::query(
        "SELECT DISTINCT r.id, r.number FROM requisition_lines l JOIN requisitions r ON r.id = l.requisition_id \
         WHERE l.po_id = $1 ORDER BY r.number",
    )
    .bind(po_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("number")?)))
        .collect()
}

/// Filters of the requisition list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct RequisitionFilter {
    pub location_id: Option<String>,
    /// draft, submitted or cancelled
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Requisitions in the actor's scope, newest first (lines not included).
pub async fn list(
    p: &Platform,
    actor: &Actor,
    f: &RequisitionFilter,
) -> Result<(Vec<Requisition>, i64)> {
    let read = actor.scope(perm::PURCHASING_READ);
    let order = actor.scope(perm::PURCHASING_ORDER);
    let (r, o) = (read.sql("r.location_path"), order.sql("r.location_path"));
    let scope = if r == o { r } else { format!("({r} OR {o})") };
    let wh = format!("{scope} AND ($1 = '' OR r.location_id = $1) AND ($2 = '' OR r.status = $2)");
    let limit = f.limit.unwrap_or(50).clamp(1, 500);
    let offset = f.offset.unwrap_or(0).max(0);
    let loc = f.location_id.clone().unwrap_or_default();
    let st = f.status.clone().unwrap_or_default();
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{REQ_SQL} WHERE {wh} ORDER BY r.id DESC LIMIT {limit} OFFSET {offset}"
    )))
    .bind(&loc)
    .bind(&st)
    .fetch_all(p.db.pool())
    .await?;
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM requisitions r WHERE {wh}"
    )))
    .bind(&loc)
    .bind(&st)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    Ok((rows.iter().map(from_row).collect::<Result<_>>()?, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn mill(lead: i64, days: Vec<i64>) -> Supplier {
        Supplier {
            id: "s".into(),
            company_id: "c".into(),
            code: "MILL".into(),
            name_zh: String::new(),
            name_en: String::new(),
            contact_name: None,
            phone: None,
            email: None,
            address: None,
            lead_time_days: lead,
            delivery_days: days,
            min_order_minor: 0,
            currency: "CNY".into(),
            active: true,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        }
    }

    #[test]
    fn delivery_day_is_the_next_possible_unless_asked() {
        // 2026-12-07 is a Monday; one day's lead, deliveries on Tuesday and Friday.
        let today = date(2026, 12, 7);
        let s = mill(1, vec![2, 5]);
        assert_eq!(
            delivery_day(Some(&s), today, None, None),
            Ok(date(2026, 12, 8))
        );
        // "On or after" Wednesday: Friday.
        let from = Some(date(2026, 12, 9));
        assert_eq!(
            delivery_day(Some(&s), today, None, from),
            Ok(date(2026, 12, 11))
        );
        // "On or after" today is no earlier than the next possible day.
        assert_eq!(
            delivery_day(Some(&s), today, None, Some(today)),
            Ok(date(2026, 12, 8))
        );
        // An exact day must be a delivery day, not before the earliest.
        assert_eq!(
            delivery_day(Some(&s), today, Some("2026-12-11"), from),
            Ok(date(2026, 12, 11))
        );
        let e = delivery_day(Some(&s), today, Some("2026-12-09"), None).unwrap_err();
        assert!(
            e.contains("Tuesday, Friday") && e.contains("Wednesday"),
            "{e}"
        );
        let e = delivery_day(Some(&s), today, Some("2026-12-07"), None).unwrap_err();
        assert!(e.contains("2026-12-08 at the earliest"), "{e}");
        assert!(delivery_day(Some(&s), today, Some("2026-12-8"), None).is_err());
        assert!(delivery_day(Some(&s), today, Some("2028-01-04"), None).is_err());
        // A supplier that names no days delivers any day after the lead time.
        let any = mill(2, vec![]);
        assert_eq!(
            delivery_day(Some(&any), today, Some("2026-12-10"), None),
            Ok(date(2026, 12, 10))
        );
    }
}
