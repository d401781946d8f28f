//! Transfers between locations: store ↔ store, and warehouse / central kitchen → store.
//!
//! A transfer is `requested` at its source, `shipped` (a `transfer_out` document at the source:
//! stock leaves first-expired first-out at the moving-average cost, and the quantity and value
//! of every lot picked are kept on the transfer: that is the stock *in transit*), then
//! `received` at its destination, or `cancelled` before it ships.
//!
//! Receiving posts one `transfer_in` document at the destination that takes in exactly what was
//! shipped, lot by lot at the shipped value, so a transfer's movements sum to zero in quantity
//! and value. Discrepancies are recorded per line with a reason and posted in the same
//! document:
//! - **damaged** (arrived, unusable) and **short** (shipped, never arrived) quantities leave
//!   the destination again as `waste` (reasons `damaged` and `transit_short`) at the value they
//!   were shipped at: the loss is the receiving location's, documented on the transfer;
//! - **over** (more arrived than was shipped) comes in as `transfer_in` at the shipped unit
//!   cost, flagged `over_received`; the source should count the item.
//!
//! Permissions: `inventory.transfer` at the source to request, ship and cancel, at the
//! destination to receive. A transfer is visible to whoever may read either end; anyone else
//! gets `NotFound`.

use std::collections::HashMap;

use boh_db::Row;
use boh_kernel::qty::mul_div_round;
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::org::{self, OrgNode};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::QtyText;
use crate::catalog::{self, Item};
use crate::ledger::{self, LotPick, PostDoc, PostLine, ValueSpec};

/// A discrepancy to record: line, kind, quantity, value, reason, note.
type DiscrepancyRow = (i64, &'static str, i64, i64, Option<String>, Option<String>);

/// A store a transfer may go to: id, code, name_zh, name_en.
pub type Destination = (String, String, String, String);

/// States of a transfer.
pub const STATUSES: &[&str] = &["requested", "shipped", "received", "cancelled"];

/// A line of a transfer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TransferLine {
    pub line_no: i64,
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub base_unit: String,
    #[schema(value_type = String)]
    pub qty_requested: Qty,
    #[schema(value_type = String)]
    pub qty_shipped: Qty,
    /// Value shipped in minor units (what left the source).
    pub value_shipped: i64,
    /// Good quantity received.
    #[schema(value_type = String)]
    pub qty_received: Qty,
    /// Quantity received damaged (written off as waste at the destination).
    #[schema(value_type = String)]
    pub qty_damaged: Qty,
    pub note: Option<String>,
}

/// A discrepancy found on receipt.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Discrepancy {
    pub line_no: i64,
    /// short, over or damaged
    pub kind: String,
    #[schema(value_type = String)]
    pub qty: Qty,
    /// Value in minor units (at the shipped unit value).
    pub value: i64,
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// A transfer with its lines.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Transfer {
    pub id: String,
    pub company_id: String,
    pub number: String,
    pub from_location_id: String,
    pub from_location_code: String,
    pub to_location_id: String,
    pub to_location_code: String,
    /// requested, shipped, received or cancelled
    pub status: String,
    pub note: Option<String>,
    pub requested_by: String,
    pub requested_at: String,
    pub shipped_by: Option<String>,
    pub shipped_at: Option<String>,
    pub ship_date: Option<String>,
    /// The `transfer_out` document at the source.
    pub ship_doc_id: Option<String>,
    pub received_by: Option<String>,
    pub received_at: Option<String>,
    pub receive_date: Option<String>,
    /// The `transfer_in` document at the destination.
    pub receive_doc_id: Option<String>,
    pub cancelled_by: Option<String>,
    pub cancelled_at: Option<String>,
    pub cancel_reason: Option<String>,
    /// Value shipped and not yet received, in minor units (0 unless `shipped`).
    pub in_transit_value: i64,
    pub version: i64,
    pub lines: Vec<TransferLine>,
    pub discrepancies: Vec<Discrepancy>,
}

/// A line of a transfer request.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferLineInput {
    /// The item by id …
    #[serde(default)]
    pub item_id: Option<String>,
    /// … or by code.
    #[serde(default)]
    pub item_code: Option<String>,
    /// Quantity requested (positive decimal).
    #[schema(value_type = String, example = "12")]
    pub qty: QtyText,
    /// Unit of `qty`; default the item's base unit.
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A transfer request.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferInput {
    /// The source: a store, warehouse or central kitchen where the caller holds
    /// `inventory.transfer`.
    pub from_location_id: String,
    /// The destination store of the same company.
    pub to_location_id: String,
    #[serde(default)]
    pub note: Option<String>,
    pub lines: Vec<TransferLineInput>,
}

/// A shipped quantity for one line (lines not listed ship what was requested).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipLineInput {
    pub line_no: i64,
    /// Quantity shipped in the item's base unit; `0` ships nothing of this line.
    #[schema(value_type = String, example = "10")]
    pub qty: QtyText,
}

/// Shipping a transfer.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipInput {
    /// Business date at the source, `YYYY-MM-DD`; default today there.
    #[serde(default)]
    pub business_date: Option<String>,
    #[serde(default)]
    pub lines: Vec<ShipLineInput>,
}

/// What arrived of one line (lines not listed arrived complete and undamaged).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveLineInput {
    pub line_no: i64,
    /// Good quantity received, base unit.
    #[schema(value_type = String, example = "9")]
    pub qty_received: QtyText,
    /// Quantity received damaged, base unit (default 0).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "1")]
    pub qty_damaged: Option<QtyText>,
    /// Why the line differs from what was shipped; required when it does.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Receiving a transfer.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiveInput {
    /// Business date at the destination, `YYYY-MM-DD`; default today there.
    #[serde(default)]
    pub business_date: Option<String>,
    #[serde(default)]
    pub lines: Vec<ReceiveLineInput>,
}

/// Cancelling a requested transfer.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    #[serde(default)]
    pub reason: Option<String>,
}

/// Filters for the transfer list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct TransferFilter {
    /// Transfers from or to this location.
    pub location_id: Option<String>,
    /// requested, shipped (in transit), received or cancelled
    pub status: Option<String>,
    /// `in` (to the location), `out` (from it) or both (default); needs `location_id`.
    pub direction: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

fn instant(v: Option<i64>) -> Option<String> {
    v.map(|t| boh_kernel::Instant(t).rfc3339())
}

const COLS: &str = "t.id, t.company_id, t.number, t.from_location_id, t.from_path, t.to_location_id, t.to_path, \
    t.status, t.note, t.requested_by, t.requested_at, t.shipped_by, t.shipped_at, t.ship_date, t.ship_doc_id, \
    t.received_by, t.received_at, t.receive_date, t.receive_doc_id, t.cancelled_by, t.cancelled_at, t.cancel_reason, \
    t.version, fn.code AS from_code, tn.code AS to_code, \
    (SELECT CAST(COALESCE(SUM(l.value_shipped), 0) AS BIGINT) FROM inv_transfer_lines l WHERE l.transfer_id = t.id) AS shipped_value";

const FROM: &str = "inv_transfers t JOIN org_nodes fn ON fn.id = t.from_location_id JOIN org_nodes tn ON tn.id = t.to_location_id";

fn from_row(r: &boh_db::AnyRow) -> Result<Transfer> {
    let status: String = r.try_get("status")?;
    let shipped_value: i64 = r.try_get("shipped_value")?;
    Ok(Transfer {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        number: r.try_get("number")?,
        from_location_id: r.try_get("from_location_id")?,
        from_location_code: r.try_get("from_code")?,
        to_location_id: r.try_get("to_location_id")?,
        to_location_code: r.try_get("to_code")?,
        in_transit_value: if status == "shipped" {
            shipped_value
        } else {
            0
        },
        status,
        note: r.try_get("note")?,
        requested_by: r.try_get("requested_by")?,
        requested_at: boh_kernel::Instant(r.try_get("requested_at")?).rfc3339(),
        shipped_by: r.try_get("shipped_by")?,
        shipped_at: instant(r.try_get("shipped_at")?),
        ship_date: r.try_get("ship_date")?,
        ship_doc_id: r.try_get("ship_doc_id")?,
        received_by: r.try_get("received_by")?,
        received_at: instant(r.try_get("received_at")?),
        receive_date: r.try_get("receive_date")?,
        receive_doc_id: r.try_get("receive_doc_id")?,
        cancelled_by: r.try_get("cancelled_by")?,
        cancelled_at: instant(r.try_get("cancelled_at")?),
        cancel_reason: r.try_get("cancel_reason")?,
        version: r.try_get("version")?,
        lines: Vec::new(),
        discrepancies: Vec::new(),
    })
}

/// True when the actor may see a transfer between these paths.
fn visible(actor: &Actor, from_path: &str, to_path: &str) -> bool {
    [from_path, to_path]
        .iter()
        .any(|p| actor.allows(perm::INVENTORY_READ, p) || actor.allows(perm::INVENTORY_TRANSFER, p))
}

async fn load_lines(exec: &mut sqlx::AnyConnection, t: &mut Transfer) -> Result<()> {
    let rows = sqlx::query(
        "SELECT l.line_no, l.item_id, i.code, i.name_zh, i.name_en, i.base_unit, l.qty_requested, l.qty_shipped, \
         l.value_shipped, l.qty_received, l.qty_damaged, l.note FROM inv_transfer_lines l \
         JOIN inv_items i ON i.id = l.item_id WHERE l.transfer_id = $1 ORDER BY l.line_no",
    )
    .bind(&t.id)
    .fetch_all(&mut *exec)
    .await?;
    t.lines = rows
        .iter()
        .map(|r| {
            Ok(TransferLine {
                line_no: r.try_get("line_no")?,
                item_id: r.try_get("item_id")?,
                item_code: r.try_get("code")?,
                item_name_zh: r.try_get("name_zh")?,
                item_name_en: r.try_get("name_en")?,
                base_unit: r.try_get("base_unit")?,
                qty_requested: Qty(r.try_get("qty_requested")?),
                qty_shipped: Qty(r.try_get("qty_shipped")?),
                value_shipped: r.try_get("value_shipped")?,
                qty_received: Qty(r.try_get("qty_received")?),
                qty_damaged: Qty(r.try_get("qty_damaged")?),
                note: r.try_get("note")?,
            })
        })
        .collect::<Result<_>>()?;
    let rows = sqlx::query(
        "SELECT line_no, kind, qty, value, reason, note FROM inv_transfer_discrepancies \
         WHERE transfer_id = $1 ORDER BY line_no, kind",
    )
    .bind(&t.id)
    .fetch_all(&mut *exec)
    .await?;
    t.discrepancies = rows
        .iter()
        .map(|r| {
            Ok(Discrepancy {
                line_no: r.try_get("line_no")?,
                kind: r.try_get("kind")?,
                qty: Qty(r.try_get("qty")?),
                value: r.try_get("value")?,
                reason: r.try_get("reason")?,
                note: r.try_get("note")?,
            })
        })
        .collect::<Result<_>>()?;
    Ok(())
}

async fn fetch_in(
    exec: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<(Transfer, String, String)>> {
    if !boh_kernel::id::is_uuid(id) {
        return Ok(None);
    }
    let Some(r) = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM {FROM} WHERE t.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *exec)
    .await?
    else {
        return Ok(None);
    };
    let from_path: String = r.try_get("from_path")?;
    let to_path: String = r.try_get("to_path")?;
    let mut t = from_row(&r)?;
    load_lines(exec, &mut t).await?;
    Ok(Some((t, from_path, to_path)))
}

/// One transfer, if the actor may see either end.
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Transfer> {
    let mut conn = p.db.pool().acquire().await?;
    match fetch_in(&mut conn, id).await? {
        Some((t, f, to)) if visible(actor, &f, &to) => Ok(t),
        _ => Err(PlatformError::NotFound),
    }
}

/// Transfers the actor may see (either end in scope), newest first.
pub async fn list(p: &Platform, actor: &Actor, f: &TransferFilter) -> Result<(Vec<Transfer>, i64)> {
    let mut errors = Vec::new();
    let status = f.status.clone().unwrap_or_default();
    if !status.is_empty() && !STATUSES.contains(&status.as_str()) {
        errors.push(FieldError::new(
            "status",
            format!("must be one of {}", STATUSES.join(", ")),
        ));
    }
    let direction = f.direction.clone().unwrap_or_default();
    if !matches!(direction.as_str(), "" | "in" | "out") {
        errors.push(FieldError::new("direction", "must be in or out"));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let loc_id = match f.location_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => {
            let n = org::fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
            if !n.is_site()
                || !(actor.allows(perm::INVENTORY_READ, &n.path)
                    || actor.allows(perm::INVENTORY_TRANSFER, &n.path))
            {
                return Err(PlatformError::NotFound);
            }
            n.id
        }
        None => String::new(),
    };
    let scope = |path: &str| {
        format!(
            "({} OR {})",
            actor.scope(perm::INVENTORY_READ).sql(path),
            actor.scope(perm::INVENTORY_TRANSFER).sql(path)
        )
    };
    let dir_sql = match direction.as_str() {
        "in" => "t.to_location_id = $1",
        "out" => "t.from_location_id = $1",
        _ => "(t.from_location_id = $1 OR t.to_location_id = $1)",
    };
    let where_ = format!(
        "({} OR {}) AND ($1 = '' OR {dir_sql}) AND ($2 = '' OR t.status = $2)",
        scope("t.from_path"),
        scope("t.to_path")
    );
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM inv_transfers t WHERE {where_}"
    )))
    .bind(&loc_id)
    .bind(&status)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM {FROM} WHERE {where_} ORDER BY t.requested_at DESC, t.id DESC LIMIT {limit} OFFSET {offset}"
    )))
    .bind(&loc_id)
    .bind(&status)
    .fetch_all(p.db.pool())
    .await?;
    let mut out: Vec<Transfer> = rows.iter().map(from_row).collect::<Result<_>>()?;
    if !out.is_empty() {
        let mut conn = p.db.pool().acquire().await?;
        for t in &mut out {
            load_lines(&mut conn, t).await?;
        }
    }
    Ok((out, total))
}

/// Quantity and value in transit per item towards or from the locations the actor may see.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InTransit {
    pub from_location_id: String,
    pub to_location_id: String,
    pub item_id: String,
    #[schema(value_type = String)]
    pub qty: Qty,
    pub value: i64,
}

/// Everything shipped and not yet received that the actor may see.
pub async fn in_transit(p: &Platform, actor: &Actor) -> Result<Vec<InTransit>> {
    let scope = |path: &str| {
        format!(
            "({} OR {})",
            actor.scope(perm::INVENTORY_READ).sql(path),
            actor.scope(perm::INVENTORY_TRANSFER).sql(path)
        )
    };
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT t.from_location_id, t.to_location_id, l.item_id, CAST(SUM(l.qty_shipped) AS BIGINT) AS q, \
         CAST(SUM(l.value_shipped) AS BIGINT) AS v FROM inv_transfers t JOIN inv_transfer_lines l ON l.transfer_id = t.id \
         WHERE t.status = 'shipped' AND ({} OR {}) GROUP BY t.from_location_id, t.to_location_id, l.item_id \
         ORDER BY t.from_location_id, t.to_location_id, l.item_id",
        scope("t.from_path"),
        scope("t.to_path")
    )))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(InTransit {
                from_location_id: r.try_get("from_location_id")?,
                to_location_id: r.try_get("to_location_id")?,
                item_id: r.try_get("item_id")?,
                qty: Qty(r.try_get("q")?),
                value: r.try_get("v")?,
            })
        })
        .collect()
}

fn text_limit(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>, max: usize) {
    if v.as_deref().is_some_and(|s| s.chars().count() > max) {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

/// Which end of a transfer request the requester acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requester {
    /// The source sends: `inventory.transfer` at the source; any store of the company receives.
    Source,
    /// A store orders from the warehouse or central kitchen that supplies it (a store order):
    /// `inventory.transfer` at the destination store; the source is a warehouse or central
    /// kitchen of the same company, which need not be in the requester's scope.
    Destination,
}

/// A checked transfer request, ready to be written by [`request_in`].
pub struct Planned {
    from: OrgNode,
    to: OrgNode,
    note: Option<String>,
    lines: Vec<(Item, i64, Option<String>)>,
}

/// Request a transfer from a location where the actor holds `inventory.transfer` to a store of
/// the same company. Every problem is reported at once; nothing is written unless all is good.
pub async fn request(p: &Platform, ctx: &Ctx, input: TransferInput) -> Result<Transfer> {
    let planned = plan_request(p, &ctx.actor, &input, Requester::Source).await?;
    boh_platform::tx!(p.db, tx, { request_in(tx, ctx, &planned).await })
}

/// Check a transfer request for the end `by` acts for (see [`Requester`]), reading only.
pub async fn plan_request(
    p: &Platform,
    actor: &Actor,
    input: &TransferInput,
    by: Requester,
) -> Result<Planned> {
    let mut errors = Vec::new();
    let (from, to) = match by {
        Requester::Source => {
            // A source outside the caller's scope does not exist (404), like any record out of
            // scope.
            let from = Some(
                crate::location(p, actor, perm::INVENTORY_TRANSFER, &input.from_location_id)
                    .await?,
            );
            // The destination need not be in the requester's scope (a store sends to another
            // store), but it must be a store of the same company.
            let to = match org::fetch(p, &input.to_location_id).await? {
                Some(n)
                    if n.kind == "store"
                        && from.as_ref().is_none_or(|f| f.company_id == n.company_id) =>
                {
                    Some(n)
                }
                _ => {
                    errors.push(FieldError::new(
                        "to_location_id",
                        "no such store in this company",
                    ));
                    None
                }
            };
            (from, to)
        }
        Requester::Destination => {
            let to =
                crate::location(p, actor, perm::INVENTORY_TRANSFER, &input.to_location_id).await?;
            if to.kind != "store" {
                errors.push(FieldError::new(
                    "to_location_id",
                    "only stores order from a warehouse or central kitchen",
                ));
            }
            let from = match org::fetch(p, &input.from_location_id).await? {
                Some(n)
                    if matches!(n.kind.as_str(), "warehouse" | "central_kitchen")
                        && n.company_id == to.company_id =>
                {
                    Some(n)
                }
                _ => {
                    errors.push(FieldError::new(
                        "from_location_id",
                        "no such warehouse or central kitchen in this company",
                    ));
                    None
                }
            };
            (from, Some(to))
        }
    };
    if let (Some(f), Some(t)) = (&from, &to)
        && f.id == t.id
    {
        errors.push(FieldError::new(
            "to_location_id",
            "must differ from the source",
        ));
    }
    text_limit(&mut errors, "note", &input.note, 2000);
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "at least one line is required"));
    }
    if input.lines.len() > 1000 {
        errors.push(FieldError::new("lines", "at most 1000 lines per transfer"));
    }
    let company_id = from
        .as_ref()
        .map(|f| f.company_id.clone())
        .unwrap_or_default();
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
    let items = if company_id.is_empty() {
        vec![None; input.lines.len()]
    } else {
        ledger::resolve_items(p, &company_id, &refs, &mut errors).await?
    };
    let mut lines: Vec<(Item, i64, Option<String>)> = Vec::new();
    for (i, (l, item)) in input.lines.iter().zip(items).enumerate() {
        let field = format!("lines[{i}]");
        let qty = l.qty.parse(&mut errors, &format!("{field}.qty"));
        text_limit(&mut errors, &format!("{field}.note"), &l.note, 500);
        let (Some(item), Some(qty)) = (item, qty) else {
            continue;
        };
        if qty.micros() <= 0 {
            errors.push(FieldError::new(&format!("{field}.qty"), "must be positive"));
            continue;
        }
        if !item.stocked {
            errors.push(FieldError::new(
                &format!("{field}.item_id"),
                format!("item {} is not kept in stock", item.code),
            ));
            continue;
        }
        let unit = l
            .unit
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| item.base_unit.clone());
        let Some(base) = item.conversions().to_base(qty, &unit) else {
            errors.push(FieldError::new(
                &format!("{field}.unit"),
                format!(
                    "item {} has no conversion from {unit} to {}",
                    item.code, item.base_unit
                ),
            ));
            continue;
        };
        if lines.iter().any(|(it, _, _)| it.id == item.id) {
            errors.push(FieldError::new(
                &format!("{field}.item_id"),
                format!("item {} is on an earlier line already", item.code),
            ));
            continue;
        }
        lines.push((item, base.micros(), l.note.clone()));
    }
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let (Some(from), Some(to)) = (from, to) else {
        return Err(PlatformError::NotFound);
    };
    Ok(Planned {
        from,
        to,
        note: input.note.clone(),
        lines,
    })
}

/// Write a checked transfer request in the caller's transaction (with its audit row and the
/// `inventory.transfer.requested` event).
pub async fn request_in(
    tx: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    planned: &Planned,
) -> Result<Transfer> {
    let Planned {
        from,
        to,
        note,
        lines,
    } = planned;
    let company_id = from.company_id.clone();
    let t = now().micros();
    let id = new_id();
    {
        let number = crate::next_number(tx, &company_id, "transfer", "TR").await?;
        sqlx::query(
            "INSERT INTO inv_transfers (id, company_id, number, from_location_id, from_path, to_location_id, to_path, \
             status, note, requested_by, requested_at, version, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,'requested',$8,$9,$10,1,$10)",
        )
        .bind(&id)
        .bind(&company_id)
        .bind(&number)
        .bind(&from.id)
        .bind(&from.path)
        .bind(&to.id)
        .bind(&to.path)
        .bind(note.as_deref())
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        for chunk in lines.chunks(100).enumerate() {
            let (ci, chunk) = chunk;
            let sql = format!(
                "INSERT INTO inv_transfer_lines (transfer_id, line_no, item_id, qty_requested, qty_shipped, value_shipped, \
                 qty_received, qty_damaged, note) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 9)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for (k, (item, qty, note)) in chunk.iter().enumerate() {
                q = q
                    .bind(&id)
                    .bind((ci * 100 + k + 1) as i64)
                    .bind(&item.id)
                    .bind(*qty)
                    .bind(0i64)
                    .bind(0i64)
                    .bind(0i64)
                    .bind(0i64)
                    .bind(note.as_deref());
            }
            q.execute(&mut *tx).await?;
        }
        let (out, _, _) = fetch_in(tx, &id).await?.ok_or(PlatformError::NotFound)?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.transfer.request",
                entity_type: "inv_transfer",
                entity_id: &id,
                org_path: Some(&from.path),
                before: None,
                after: Some(json!({
                    "number": out.number, "from": from.code, "to": to.code, "lines": out.lines.len(),
                })),
            },
        )
        .await?;
        events::emit(
            tx,
            "inventory.transfer.requested",
            Some(&from.path),
            &json!({"transfer_id": id, "number": out.number, "from_location_id": from.id,
                    "to_location_id": to.id, "company_id": company_id}),
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    }
}

/// Load a transfer for a state change: visible to the actor (else `NotFound`), with the
/// permission at the end that acts (else `Forbidden`).
async fn for_action(
    p: &Platform,
    actor: &Actor,
    id: &str,
    at_source: bool,
) -> Result<(Transfer, OrgNode)> {
    let t = get(p, actor, id).await?;
    let loc_id = if at_source {
        &t.from_location_id
    } else {
        &t.to_location_id
    };
    let node = org::fetch(p, loc_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !actor.allows(perm::INVENTORY_TRANSFER, &node.path) {
        return Err(PlatformError::Forbidden(perm::INVENTORY_TRANSFER));
    }
    Ok((t, node))
}

fn wrong_state(t: &Transfer, want: &str) -> PlatformError {
    PlatformError::refused(
        "invalid_state",
        format!(
            "transfer {} is {}; this needs it {want}",
            t.number, t.status
        ),
    )
}

/// Claim the transfer for a state change inside the transaction: the row moves from `from`
/// only once (a concurrent second attempt finds it changed and is refused).
async fn claim(tx: &mut sqlx::AnyConnection, t: &Transfer, from: &str, to: &str) -> Result<()> {
    let n = sqlx::query(
        "UPDATE inv_transfers SET status = $1, version = version + 1, updated_at = $2 \
         WHERE id = $3 AND status = $4",
    )
    .bind(to)
    .bind(now().micros())
    .bind(&t.id)
    .bind(from)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        let status: String = sqlx::query("SELECT status FROM inv_transfers WHERE id = $1")
            .bind(&t.id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("status")?;
        return Err(PlatformError::refused(
            "invalid_state",
            format!("transfer {} is {status} now; reload it", t.number),
        ));
    }
    Ok(())
}

async fn items_of(p: &Platform, t: &Transfer) -> Result<HashMap<String, Item>> {
    let ids: Vec<String> = t.lines.iter().map(|l| l.item_id.clone()).collect();
    Ok(catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect())
}

/// Ship a requested transfer: one `transfer_out` document at the source (lots first-expired
/// first-out, values at the moving-average cost); what was picked is kept on the transfer.
/// Refused with `insufficient_stock` where the source forbids negative stock and lacks it.
pub async fn ship(p: &Platform, ctx: &Ctx, id: &str, input: ShipInput) -> Result<Transfer> {
    let (t, from) = for_action(p, &ctx.actor, id, true).await?;
    if t.status != "requested" {
        return Err(wrong_state(&t, "requested"));
    }
    let mut errors = Vec::new();
    let date = input
        .business_date
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| crate::today_in(&from.timezone).to_string());
    crate::validate_date(&mut errors, "business_date", &date);
    let mut qty: HashMap<i64, i64> = t
        .lines
        .iter()
        .map(|l| (l.line_no, l.qty_requested.micros()))
        .collect();
    for (i, l) in input.lines.iter().enumerate() {
        let field = format!("lines[{i}]");
        if !qty.contains_key(&l.line_no) {
            errors.push(FieldError::new(
                &format!("{field}.line_no"),
                "no such line on this transfer",
            ));
            continue;
        }
        match l.qty.parse(&mut errors, &format!("{field}.qty")) {
            Some(q) if q.is_negative() => {
                errors.push(FieldError::new(
                    &format!("{field}.qty"),
                    "must not be negative",
                ));
            }
            Some(q) => {
                qty.insert(l.line_no, q.micros());
            }
            None => {}
        }
    }
    if errors.is_empty() && qty.values().all(|q| *q == 0) {
        errors.push(FieldError::new("lines", "nothing would be shipped"));
    }
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let items = items_of(p, &t).await?;
    let mut post_lines = Vec::new();
    let mut line_of_post: Vec<i64> = Vec::new();
    for l in &t.lines {
        let q = qty.get(&l.line_no).copied().unwrap_or(0);
        if q == 0 {
            continue;
        }
        let item = items
            .get(&l.item_id)
            .cloned()
            .ok_or(PlatformError::NotFound)?;
        post_lines.push(PostLine {
            lot: if item.lot_tracked {
                LotPick::Fefo
            } else {
                LotPick::NoLot
            },
            item,
            qty: -q,
            value: ValueSpec::AtCost,
            kind: "transfer_out",
            reason: None,
            reverses_id: None,
            field: format!("lines[{}]", l.line_no - 1),
        });
        line_of_post.push(l.line_no);
    }
    let backend = p.db.backend();
    let t_now = now().micros();
    boh_platform::tx!(p.db, tx, {
        claim(tx, &t, "requested", "shipped").await?;
        let doc = ledger::post_in(
            tx,
            backend,
            ctx,
            &PostDoc {
                location: from.clone(),
                kind: "transfer_out",
                business_date: date.clone(),
                reference: Some(t.number.clone()),
                note: None,
                source_type: Some("transfer".into()),
                source_id: Some(t.id.clone()),
                reverses_id: None,
                lines: post_lines.clone(),
                allow_negative: false,
            },
        )
        .await?;
        // Picks per line and lot, from the movements (line_no of the document = index + 1).
        let mut picks: std::collections::BTreeMap<(i64, String), (i64, i64)> = Default::default();
        for m in doc.movements.iter().filter(|m| m.kind == "transfer_out") {
            let line_no = line_of_post[(m.line_no - 1) as usize];
            let e = picks.entry((line_no, m.lot_id.clone())).or_insert((0, 0));
            e.0 -= m.qty.micros();
            e.1 -= m.value;
        }
        for ((line_no, lot), (q, v)) in &picks {
            sqlx::query(
                "INSERT INTO inv_transfer_picks (transfer_id, line_no, lot_id, qty, value) VALUES ($1,$2,$3,$4,$5)",
            )
            .bind(&t.id)
            .bind(line_no)
            .bind(lot)
            .bind(q)
            .bind(v)
            .execute(&mut *tx)
            .await?;
        }
        for l in &t.lines {
            let (q, v) = picks
                .iter()
                .filter(|((n, _), _)| *n == l.line_no)
                .fold((0, 0), |a, (_, (q, v))| (a.0 + q, a.1 + v));
            sqlx::query(
                "UPDATE inv_transfer_lines SET qty_shipped = $1, value_shipped = $2 WHERE transfer_id = $3 AND line_no = $4",
            )
            .bind(q)
            .bind(v)
            .bind(&t.id)
            .bind(l.line_no)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE inv_transfers SET shipped_by = $1, shipped_at = $2, ship_date = $3, ship_doc_id = $4 WHERE id = $5",
        )
        .bind(&ctx.actor.user_id)
        .bind(t_now)
        .bind(&date)
        .bind(&doc.id)
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
        let (out, _, to_path) = fetch_in(tx, &t.id).await?.ok_or(PlatformError::NotFound)?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.transfer.ship",
                entity_type: "inv_transfer",
                entity_id: &t.id,
                org_path: Some(&from.path),
                before: Some(json!({"status": "requested"})),
                after: Some(
                    json!({"status": "shipped", "doc_id": doc.id, "value": -doc.total_value}),
                ),
            },
        )
        .await?;
        for path in [&from.path, &to_path] {
            events::emit(
                tx,
                "inventory.transfer.shipped",
                Some(path),
                &json!({"transfer_id": t.id, "number": t.number, "doc_id": doc.id,
                        "from_location_id": t.from_location_id, "to_location_id": t.to_location_id,
                        "value": -doc.total_value}),
            )
            .await?;
        }
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}

/// Receive a shipped transfer at its destination (see the module documentation for how short,
/// over and damaged quantities are posted).
pub async fn receive(p: &Platform, ctx: &Ctx, id: &str, input: ReceiveInput) -> Result<Transfer> {
    let (t, to) = for_action(p, &ctx.actor, id, false).await?;
    if t.status != "shipped" {
        return Err(wrong_state(&t, "shipped"));
    }
    let mut errors = Vec::new();
    let date = input
        .business_date
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| crate::today_in(&to.timezone).to_string());
    crate::validate_date(&mut errors, "business_date", &date);
    if let (Some(d), Some(s)) = (date.parse::<jiff::civil::Date>().ok(), &t.ship_date)
        && s.parse::<jiff::civil::Date>().is_ok_and(|s| d < s)
    {
        errors.push(FieldError::new(
            "business_date",
            format!("cannot be before the ship date {s}"),
        ));
    }
    // (received, damaged, reason, note) per line; default: everything arrived.
    let mut got: HashMap<i64, (i64, i64, Option<String>, Option<String>)> = t
        .lines
        .iter()
        .map(|l| (l.line_no, (l.qty_shipped.micros(), 0, None, None)))
        .collect();
    for (i, l) in input.lines.iter().enumerate() {
        let field = format!("lines[{i}]");
        let Some(line) = t.lines.iter().find(|x| x.line_no == l.line_no) else {
            errors.push(FieldError::new(
                &format!("{field}.line_no"),
                "no such line on this transfer",
            ));
            continue;
        };
        let rec = l
            .qty_received
            .parse(&mut errors, &format!("{field}.qty_received"));
        let dam = match &l.qty_damaged {
            Some(d) => d.parse(&mut errors, &format!("{field}.qty_damaged")),
            None => Some(Qty(0)),
        };
        text_limit(&mut errors, &format!("{field}.reason"), &l.reason, 64);
        text_limit(&mut errors, &format!("{field}.note"), &l.note, 500);
        let (Some(rec), Some(dam)) = (rec, dam) else {
            continue;
        };
        let mut bad = false;
        if rec.is_negative() {
            errors.push(FieldError::new(
                &format!("{field}.qty_received"),
                "must not be negative",
            ));
            bad = true;
        }
        if dam.is_negative() {
            errors.push(FieldError::new(
                &format!("{field}.qty_damaged"),
                "must not be negative",
            ));
            bad = true;
        }
        if bad {
            continue;
        }
        let reason = l
            .reason
            .clone()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let differs = rec.micros() != line.qty_shipped.micros() || dam.micros() != 0;
        if differs && reason.is_none() {
            errors.push(FieldError::new(
                &format!("{field}.reason"),
                "is required when what arrived differs from what was shipped",
            ));
        }
        if line.qty_shipped.micros() == 0 && rec.micros() + dam.micros() > 0 {
            errors.push(FieldError::new(
                &format!("{field}.qty_received"),
                "this line was not shipped",
            ));
        }
        got.insert(
            l.line_no,
            (rec.micros(), dam.micros(), reason, l.note.clone()),
        );
    }
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let items = items_of(p, &t).await?;
    // Picks of the shipment, per line in lot order.
    let picks = sqlx::query(
        "SELECT line_no, lot_id, qty, value FROM inv_transfer_picks WHERE transfer_id = $1 ORDER BY line_no, lot_id",
    )
    .bind(&t.id)
    .fetch_all(p.db.pool())
    .await?;
    let mut picks_by_line: HashMap<i64, Vec<(String, i64, i64)>> = HashMap::new();
    for r in &picks {
        picks_by_line
            .entry(r.try_get("line_no")?)
            .or_default()
            .push((r.try_get("lot_id")?, r.try_get("qty")?, r.try_get("value")?));
    }
    let mut post_lines: Vec<PostLine> = Vec::new();
    let mut discrepancies: Vec<DiscrepancyRow> = Vec::new();
    for l in &t.lines {
        let shipped = l.qty_shipped.micros();
        if shipped == 0 {
            continue;
        }
        let item = items
            .get(&l.item_id)
            .cloned()
            .ok_or(PlatformError::NotFound)?;
        let (rec, dam, reason, note) = got.get(&l.line_no).cloned().unwrap_or_default();
        let field = format!("lines[{}]", l.line_no - 1);
        let lot_of = |lot: &str| {
            if lot.is_empty() {
                LotPick::NoLot
            } else {
                LotPick::Lot(lot.to_string())
            }
        };
        let line_picks = picks_by_line.get(&l.line_no).cloned().unwrap_or_default();
        // Everything shipped comes in, lot by lot, at its shipped value.
        for (lot, q, v) in &line_picks {
            post_lines.push(PostLine {
                item: item.clone(),
                lot: lot_of(lot),
                qty: *q,
                value: ValueSpec::Known(*v),
                kind: "transfer_in",
                reason: None,
                reverses_id: None,
                field: field.clone(),
            });
        }
        let value_of = |q: i64| mul_div_round(l.value_shipped, q, shipped).unwrap_or(0);
        let arrived = rec + dam;
        if arrived > shipped {
            let over = arrived - shipped;
            let v = value_of(over);
            let lot = line_picks.last().map(|p| p.0.clone()).unwrap_or_default();
            post_lines.push(PostLine {
                item: item.clone(),
                lot: lot_of(&lot),
                qty: over,
                value: ValueSpec::Known(v),
                kind: "transfer_in",
                reason: Some("over_received".into()),
                reverses_id: None,
                field: field.clone(),
            });
            discrepancies.push((l.line_no, "over", over, v, reason.clone(), note.clone()));
        }
        // Damaged and short leave again as waste, taken from the shipped lots in order.
        let short = (shipped - arrived).max(0);
        for (kind, qty, why) in [
            ("damaged", dam, "damaged"),
            ("short", short, "transit_short"),
        ] {
            if qty == 0 {
                continue;
            }
            let total_v = value_of(qty);
            let mut left = qty;
            let mut left_v = total_v;
            for (lot, pq, _) in &line_picks {
                if left == 0 {
                    break;
                }
                let take = left.min(*pq);
                let v = if take == left {
                    left_v
                } else {
                    mul_div_round(total_v, take, qty).unwrap_or(0)
                };
                post_lines.push(PostLine {
                    item: item.clone(),
                    lot: lot_of(lot),
                    qty: -take,
                    value: ValueSpec::Known(-v),
                    kind: "waste",
                    reason: Some(why.into()),
                    reverses_id: None,
                    field: field.clone(),
                });
                left -= take;
                left_v -= v;
            }
            discrepancies.push((l.line_no, kind, qty, total_v, reason.clone(), note.clone()));
        }
    }
    let backend = p.db.backend();
    let t_now = now().micros();
    boh_platform::tx!(p.db, tx, {
        claim(tx, &t, "shipped", "received").await?;
        let doc = ledger::post_in(
            tx,
            backend,
            ctx,
            &PostDoc {
                location: to.clone(),
                kind: "transfer_in",
                business_date: date.clone(),
                reference: Some(t.number.clone()),
                note: None,
                source_type: Some("transfer".into()),
                source_id: Some(t.id.clone()),
                reverses_id: None,
                lines: post_lines.clone(),
                allow_negative: false,
            },
        )
        .await?;
        for l in &t.lines {
            let (rec, dam, _, note) = got.get(&l.line_no).cloned().unwrap_or_default();
            sqlx::query(
                "UPDATE inv_transfer_lines SET qty_received = $1, qty_damaged = $2, note = COALESCE($3, note) \
                 WHERE transfer_id = $4 AND line_no = $5",
            )
            .bind(rec)
            .bind(dam)
            .bind(note.as_deref())
            .bind(&t.id)
            .bind(l.line_no)
            .execute(&mut *tx)
            .await?;
        }
        for (line_no, kind, qty, value, reason, note) in &discrepancies {
            sqlx::query(
                "INSERT INTO inv_transfer_discrepancies (transfer_id, line_no, kind, qty, value, reason, note) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7)",
            )
            .bind(&t.id)
            .bind(line_no)
            .bind(*kind)
            .bind(qty)
            .bind(value)
            .bind(reason.as_deref())
            .bind(note.as_deref())
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query(
            "UPDATE inv_transfers SET received_by = $1, received_at = $2, receive_date = $3, receive_doc_id = $4 WHERE id = $5",
        )
        .bind(&ctx.actor.user_id)
        .bind(t_now)
        .bind(&date)
        .bind(&doc.id)
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
        let (out, from_path, _) = fetch_in(tx, &t.id).await?.ok_or(PlatformError::NotFound)?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.transfer.receive",
                entity_type: "inv_transfer",
                entity_id: &t.id,
                org_path: Some(&to.path),
                before: Some(json!({"status": "shipped"})),
                after: Some(json!({"status": "received", "doc_id": doc.id,
                                   "discrepancies": discrepancies.len()})),
            },
        )
        .await?;
        for path in [&from_path, &to.path] {
            events::emit(
                tx,
                "inventory.transfer.received",
                Some(path),
                &json!({"transfer_id": t.id, "number": t.number, "doc_id": doc.id,
                        "from_location_id": t.from_location_id, "to_location_id": t.to_location_id,
                        "discrepancies": out.discrepancies}),
            )
            .await?;
        }
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}

/// Cancel a transfer that has not shipped (at its source).
pub async fn cancel(p: &Platform, ctx: &Ctx, id: &str, input: CancelInput) -> Result<Transfer> {
    let (t, from) = for_action(p, &ctx.actor, id, true).await?;
    if t.status != "requested" {
        return Err(wrong_state(&t, "requested"));
    }
    let mut errors = Vec::new();
    text_limit(&mut errors, "reason", &input.reason, 500);
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    boh_platform::tx!(p.db, tx, {
        claim(tx, &t, "requested", "cancelled").await?;
        sqlx::query(
            "UPDATE inv_transfers SET cancelled_by = $1, cancelled_at = $2, cancel_reason = $3 WHERE id = $4",
        )
        .bind(&ctx.actor.user_id)
        .bind(now().micros())
        .bind(input.reason.as_deref())
        .bind(&t.id)
        .execute(&mut *tx)
        .await?;
        let (out, _, _) = fetch_in(tx, &t.id).await?.ok_or(PlatformError::NotFound)?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "inventory.transfer.cancel",
                entity_type: "inv_transfer",
                entity_id: &t.id,
                org_path: Some(&from.path),
                before: Some(json!({"status": "requested"})),
                after: Some(json!({"status": "cancelled", "reason": input.reason})),
            },
        )
        .await?;
        events::emit(
            tx,
            "inventory.transfer.cancelled",
            Some(&from.path),
            &json!({"transfer_id": t.id, "number": t.number}),
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &out).await?;
        Ok(out)
    })
}

/// Stores of a company a transfer may go to: (id, code, name_zh, name_en), by code. Store
/// codes and names are not secret inside a company (a store sends to stores it cannot
/// otherwise see).
pub async fn destinations(p: &Platform, company_id: &str) -> Result<Vec<Destination>> {
    let rows = sqlx::query(
        "SELECT id, code, name_zh, name_en FROM org_nodes WHERE company_id = $1 AND kind = 'store' ORDER BY code",
    )
    .bind(company_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("code")?,
                r.try_get("name_zh")?,
                r.try_get("name_en")?,
            ))
        })
        .collect()
}
