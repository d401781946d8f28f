//! The stock ledger: documents of movements, posted append-only, with on-hand per item ×
//! location × lot and quantity + value per item × location maintained in the same
//! transaction.
//!
//! Posting ([`post`]) is the one way stock changes. It:
//! 1. checks the business date (not in a locked period, not in the future),
//! 2. makes sure a valuation row exists for every item of the document and locks those rows in
//!    item-id order (`FOR UPDATE` on PostgreSQL; SQLite has one writer), so concurrent postings
//!    on the same location serialise without deadlocks,
//! 3. computes every movement in memory against the locked state: lots picked first-expired
//!    first-out when a line names none, values of decreases at the moving-average cost (the
//!    last unit takes the remaining value, so value reaches exactly 0 with quantity), values of
//!    increases as given or at the current cost,
//! 4. refuses the whole document if any on-hand would go below zero where the location forbids
//!    it (listing every offending line), otherwise flags the movements that went negative,
//! 5. writes the document, its movements and the new on-hand and valuation rows with multi-row
//!    statements, one audit row and one `inventory.movements.posted` event.
//!
//! Backdating into an open period is one more document: it is valued at the cost in force when
//! it is posted, and on-hand "as of" a date subtracts later movements, so nothing is revalued.

use std::collections::{BTreeMap, HashMap};

use boh_db::{Backend, Row};
use boh_kernel::qty::{MICRO, mul_div_round};
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::org::OrgNode;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::catalog::{self, Item};
use crate::in_placeholders;

/// Kinds of movement.
pub const MOVEMENT_KINDS: &[&str] = &[
    "opening",
    "receipt",
    "issue",
    "waste",
    "adjustment",
    "count",
    "sale",
    "production_in",
    "production_out",
    "transfer_out",
    "transfer_in",
    "return",
    "revaluation",
];

/// Kinds of document a user may post directly (transfers, counts and sales post their own).
pub const MANUAL_KINDS: &[&str] = &[
    "opening",
    "receipt",
    "issue",
    "waste",
    "adjustment",
    "return",
];

/// Why stock was wasted.
pub const WASTE_REASONS: &[&str] = &[
    "expired",
    "spoiled",
    "damaged",
    "overproduction",
    "preparation",
    "quality",
    "dropped",
    "other",
];

/// Cost scale: unit costs are minor units per base unit × 10^6.
pub const COST_SCALE: i64 = MICRO;

/// Value in minor units of `qty` micro base units at `cost_e6` (minor units per unit × 10^6).
pub fn value_at(qty: i64, cost_e6: i64) -> i64 {
    mul_div_round(qty, cost_e6, MICRO * COST_SCALE).unwrap_or(0)
}

/// Unit cost (minor units per base unit × 10^6) of `value` for `qty` micro base units.
pub fn unit_cost(value: i64, qty: i64) -> i64 {
    if qty == 0 {
        return 0;
    }
    mul_div_round(value, MICRO * COST_SCALE, qty).unwrap_or(0)
}

/// How a line picks its lot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LotPick {
    /// The item is not lot-tracked (lot id `""`).
    NoLot,
    /// This lot.
    Lot(String),
    /// First-expired first-out across the location's lots (decreases only).
    Fefo,
}

/// How a line's value is found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueSpec {
    /// Exactly this value in minor units (signed like the quantity).
    Known(i64),
    /// At the moving-average cost in force (increases: the current cost).
    AtCost,
    /// The value the document's decreases consumed, shared by quantity among all `Consumed`
    /// lines (production yields what its ingredients cost).
    Consumed,
}

/// One resolved line to post.
#[derive(Debug, Clone)]
pub struct PostLine {
    pub item: Item,
    pub lot: LotPick,
    /// Signed quantity in micro base units (+ in, − out).
    pub qty: i64,
    pub value: ValueSpec,
    pub kind: &'static str,
    pub reason: Option<String>,
    pub reverses_id: Option<String>,
    /// The input field this line came from, for error messages (`lines[3]`).
    pub field: String,
}

/// A document to post at one location.
#[derive(Debug, Clone)]
pub struct PostDoc {
    pub location: OrgNode,
    pub kind: &'static str,
    pub business_date: String,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    pub reverses_id: Option<String>,
    pub lines: Vec<PostLine>,
    /// Post even where the location forbids negative stock (sales that already happened);
    /// such movements are flagged.
    pub allow_negative: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Movement {
    pub id: String,
    pub doc_id: String,
    pub line_no: i64,
    pub location_id: String,
    pub item_id: String,
    /// `""` for items without lots.
    pub lot_id: String,
    pub kind: String,
    /// Signed, in the item's base unit.
    #[schema(value_type = String)]
    pub qty: Qty,
    /// Signed, in minor units.
    pub value: i64,
    pub business_date: String,
    pub posted_at: String,
    pub reason: Option<String>,
    pub reverses_id: Option<String>,
    pub went_negative: bool,
    pub created_by: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Doc {
    pub id: String,
    pub company_id: String,
    pub location_id: String,
    pub kind: String,
    pub business_date: String,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub source_type: Option<String>,
    pub source_id: Option<String>,
    pub reverses_id: Option<String>,
    /// The document that reversed this one, if any.
    pub reversed_by: Option<String>,
    pub line_count: i64,
    /// Net value of the movements in minor units.
    pub total_value: i64,
    pub created_by: String,
    pub created_at: String,
    pub movements: Vec<Movement>,
}

/// A location's negative-stock policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegativePolicy {
    Forbid,
    Allow,
}

#[derive(Debug, Clone, Copy)]
struct ValState {
    qty: i64,
    value: i64,
    last_cost: i64,
    negative_since: Option<i64>,
}

/// Lots of one item at the location, with expiry for FEFO.
#[derive(Debug, Clone)]
struct LotState {
    lot_id: String,
    qty: i64,
    expiry: Option<String>,
    code: String,
}

/// Check a business date: a real date, not in a locked period, not after tomorrow at the
/// location.
fn check_date(location: &OrgNode, date: &str, locked_through: Option<&str>) -> Result<()> {
    let Ok(d) = date.parse::<jiff::civil::Date>() else {
        return Err(PlatformError::invalid(
            "business_date",
            "must be a date as YYYY-MM-DD",
        ));
    };
    let today = crate::today_in(&location.timezone);
    if d > today.tomorrow().unwrap_or(today) {
        return Err(PlatformError::invalid(
            "business_date",
            "cannot be in the future",
        ));
    }
    if d < jiff::civil::date(2000, 1, 1) {
        return Err(PlatformError::invalid(
            "business_date",
            "must be in the year 2000 or later",
        ));
    }
    if let Some(through) = locked_through
        && date <= through
    {
        return Err(PlatformError::Refused {
            code: "period_locked",
            message: format!("inventory is locked through {through}; post on a later date"),
            fields: vec![FieldError::new(
                "business_date",
                format!("must be after {through}"),
            )],
        });
    }
    Ok(())
}

/// Post a document inside the caller's transaction. See the module documentation.
pub async fn post_in(
    tx: &mut AnyConnection,
    _backend: Backend,
    ctx: &Ctx,
    doc: &PostDoc,
) -> Result<Doc> {
    if doc.lines.is_empty() {
        return Err(PlatformError::invalid(
            "lines",
            "at least one line is required",
        ));
    }
    let loc = &doc.location;
    let company_id = loc.company_id.clone();
    // The location's policy and the company's period lock, in one round trip.
    let settings = sqlx::query(
        "SELECT (SELECT negative_policy FROM inv_location_settings WHERE location_id = $1) AS policy, \
         (SELECT locked_through FROM inv_period_locks WHERE company_id = $2) AS locked_through",
    )
    .bind(&loc.id)
    .bind(&company_id)
    .fetch_one(&mut *tx)
    .await?;
    let locked: Option<String> = settings.try_get("locked_through")?;
    check_date(loc, &doc.business_date, locked.as_deref())?;
    let policy = if doc.allow_negative
        || settings.try_get::<Option<String>, _>("policy")?.as_deref() == Some("allow")
    {
        NegativePolicy::Allow
    } else {
        NegativePolicy::Forbid
    };
    let t = now().micros();

    // Valuation rows: create the missing ones and lock all, in item order, in one statement
    // (an upsert locks the rows it conflicts with on PostgreSQL; SQLite has one writer).
    let mut item_ids: Vec<String> = doc.lines.iter().map(|l| l.item.id.clone()).collect();
    item_ids.sort();
    item_ids.dedup();
    let mut vals: HashMap<String, ValState> = HashMap::new();
    for chunk in item_ids.chunks(400) {
        let sql = format!(
            "INSERT INTO inv_valuation (location_id, item_id, company_id, location_path, qty, value, \
             last_unit_cost, negative_since, last_movement_at) VALUES {} ON CONFLICT (location_id, item_id) \
             DO UPDATE SET location_path = excluded.location_path \
             RETURNING item_id, qty, value, last_unit_cost, negative_since",
            boh_platform::util::values_list(tx, chunk.len(), 9)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in chunk {
            q = q
                .bind(&loc.id)
                .bind(id)
                .bind(&company_id)
                .bind(&loc.path)
                .bind(0i64)
                .bind(0i64)
                .bind(0i64)
                .bind(None::<i64>)
                .bind(t);
        }
        for r in q.fetch_all(&mut *tx).await? {
            vals.insert(
                r.try_get("item_id")?,
                ValState {
                    qty: r.try_get("qty")?,
                    value: r.try_get("value")?,
                    last_cost: r.try_get("last_unit_cost")?,
                    negative_since: r.try_get("negative_since")?,
                },
            );
        }
    }
    // Lot rows of the lot-tracked items involved (all of their lots: FEFO needs them). An item
    // without lots has one row, lot "", always equal to its valuation quantity.
    let mut lots: HashMap<String, Vec<LotState>> = HashMap::new();
    let mut lot_items: Vec<String> = doc
        .lines
        .iter()
        .filter(|l| l.item.lot_tracked)
        .map(|l| l.item.id.clone())
        .collect();
    lot_items.sort();
    lot_items.dedup();
    for l in doc.lines.iter().filter(|l| !l.item.lot_tracked) {
        if let Some(v) = vals.get(&l.item.id) {
            lots.entry(l.item.id.clone()).or_insert_with(|| {
                vec![LotState {
                    lot_id: String::new(),
                    qty: v.qty,
                    expiry: None,
                    code: String::new(),
                }]
            });
        }
    }
    for chunk in lot_items.chunks(400) {
        let sql = format!(
            "SELECT s.item_id, s.lot_id, s.qty, l.expiry_date, l.lot_code FROM inv_stock s \
             LEFT JOIN inv_lots l ON l.id = s.lot_id \
             WHERE s.location_id = $1 AND s.item_id IN ({})",
            in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(&loc.id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(&mut *tx).await? {
            lots.entry(r.try_get("item_id")?)
                .or_default()
                .push(LotState {
                    lot_id: r.try_get("lot_id")?,
                    qty: r.try_get("qty")?,
                    expiry: r.try_get("expiry_date")?,
                    code: r
                        .try_get::<Option<String>, _>("lot_code")?
                        .unwrap_or_default(),
                });
        }
    }
    for v in lots.values_mut() {
        // FEFO order: earliest expiry first, lots without expiry last, then by lot code.
        v.sort_by(|a, b| match (&a.expiry, &b.expiry) {
            (Some(x), Some(y)) => x.cmp(y).then(a.code.cmp(&b.code)),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.code.cmp(&b.code),
        });
    }

    // Compute the movements.
    struct Piece {
        line_no: i64,
        item_id: String,
        lot_id: String,
        kind: &'static str,
        qty: i64,
        value: i64,
        reason: Option<String>,
        reverses_id: Option<String>,
        went_negative: bool,
        consumed: bool,
    }
    let mut pieces: Vec<Piece> = Vec::new();
    let mut errors: Vec<FieldError> = Vec::new();
    let mut touched_lots: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut consumed_value: i64 = 0;
    let mut consumed_qty: i64 = 0;
    for (i, line) in doc.lines.iter().enumerate() {
        let line_no = i as i64 + 1;
        let item = &line.item;
        if line.qty == 0 && line.kind != "revaluation" {
            errors.push(FieldError::new(
                &format!("{}.qty", line.field),
                "must not be zero",
            ));
            continue;
        }
        if !item.stocked {
            errors.push(FieldError::new(
                &format!("{}.item", line.field),
                format!("item {} is not kept in stock", item.code),
            ));
            continue;
        }
        let Some(st) = vals.get_mut(&item.id) else {
            return Err(PlatformError::Internal(anyhow::anyhow!(
                "valuation row of {} missing after insert",
                item.id
            )));
        };
        let item_lots = lots.entry(item.id.clone()).or_default();
        // Which lots the quantity goes to or comes from.
        let mut parts: Vec<(String, i64)> = Vec::new();
        match (&line.lot, line.qty > 0) {
            (LotPick::NoLot, _) => parts.push((String::new(), line.qty)),
            (LotPick::Lot(l), true) if item.lot_tracked && line.reverses_id.is_none() => {
                // Stock that arrives first makes good lots that went below zero (what was
                // used beyond them came, in truth, from this delivery); the rest is the new lot.
                let mut left = line.qty;
                for lt in item_lots.iter() {
                    if left == 0 {
                        break;
                    }
                    if lt.lot_id == *l {
                        continue;
                    }
                    let have = lt.qty
                        + touched_lots
                            .get(&(item.id.clone(), lt.lot_id.clone()))
                            .copied()
                            .unwrap_or(0);
                    if have < 0 {
                        let fill = left.min(-have);
                        parts.push((lt.lot_id.clone(), fill));
                        left -= fill;
                    }
                }
                if left > 0 {
                    parts.push((l.clone(), left));
                }
            }
            (LotPick::Lot(l), _) => parts.push((l.clone(), line.qty)),
            (LotPick::Fefo, true) => parts.push((String::new(), line.qty)),
            (LotPick::Fefo, false) => {
                let mut need = -line.qty;
                for l in item_lots.iter() {
                    if need == 0 {
                        break;
                    }
                    let have = l.qty
                        + touched_lots
                            .get(&(item.id.clone(), l.lot_id.clone()))
                            .copied()
                            .unwrap_or(0);
                    if have <= 0 {
                        continue;
                    }
                    let take = have.min(need);
                    parts.push((l.lot_id.clone(), -take));
                    need -= take;
                }
                if need > 0 {
                    // Not enough in the lots: the rest comes from the last lot touched (or no
                    // lot), which then goes negative; the policy below decides.
                    let lot = parts
                        .last()
                        .map(|(l, _)| l.clone())
                        .or_else(|| item_lots.first().map(|l| l.lot_id.clone()))
                        .unwrap_or_default();
                    if let Some(last) = parts.last_mut().filter(|(l, _)| *l == lot) {
                        last.1 -= need;
                    } else {
                        parts.push((lot, -need));
                    }
                }
            }
        }
        // A known value is shared among the parts by quantity (the last takes the rest).
        let part_values: Vec<Option<i64>> = match line.value {
            ValueSpec::Known(v) if parts.len() > 1 => {
                let mut left = v;
                let n = parts.len();
                parts
                    .iter()
                    .enumerate()
                    .map(|(k, (_, q))| {
                        let pv = if k + 1 == n {
                            left
                        } else {
                            mul_div_round(v, *q, line.qty).unwrap_or(0)
                        };
                        left -= pv;
                        Some(pv)
                    })
                    .collect()
            }
            ValueSpec::Known(v) => vec![Some(v)],
            _ => vec![None; parts.len()],
        };
        for ((lot_id, q), known) in parts.into_iter().zip(part_values) {
            let key = (item.id.clone(), lot_id.clone());
            let lot_before = item_lots
                .iter()
                .find(|l| l.lot_id == lot_id)
                .map(|l| l.qty)
                .unwrap_or(0)
                + touched_lots.get(&key).copied().unwrap_or(0);
            let lot_after = lot_before + q;
            let (value, consumed) = if q > 0 {
                match line.value {
                    ValueSpec::Known(_) => (known.unwrap_or(0), false),
                    ValueSpec::Consumed => (0, true),
                    ValueSpec::AtCost => {
                        let cost = if st.qty > 0 {
                            unit_cost(st.value, st.qty)
                        } else {
                            st.last_cost
                        };
                        (value_at(q, cost), false)
                    }
                }
            } else {
                let out = -q;
                let v = match line.value {
                    ValueSpec::Known(_) => known.unwrap_or(0),
                    _ => {
                        if st.qty <= 0 {
                            -value_at(out, st.last_cost)
                        } else if out >= st.qty {
                            // Take the remaining value; the excess goes out at the last cost.
                            -(st.value + value_at(out - st.qty, st.last_cost))
                        } else {
                            -mul_div_round(out, st.value, st.qty).unwrap_or(0)
                        }
                    }
                };
                if line.kind == "production_out" {
                    consumed_value -= v;
                }
                (v, false)
            };
            if consumed {
                consumed_qty += q;
            }
            let qty_before = st.qty;
            let new_qty = st.qty + q;
            let went_negative = (new_qty < 0 || lot_after < 0) && q < 0;
            if went_negative && policy == NegativePolicy::Forbid {
                let have = Qty(st.qty.min(lot_before).max(0)).to_text();
                let lot_note = item_lots
                    .iter()
                    .find(|l| l.lot_id == lot_id && !lot_id.is_empty())
                    .map(|l| format!(" (lot {})", l.code))
                    .unwrap_or_default();
                errors.push(FieldError::new(
                    &format!("{}.qty", line.field),
                    format!(
                        "only {have} {} of {}{lot_note} on hand at {}; cannot remove {}",
                        item.base_unit,
                        item.code,
                        loc.code,
                        Qty(-q).to_text()
                    ),
                ));
            }
            st.qty = new_qty;
            st.value += value;
            // An increase into negative stock: what left at the old cost is re-valued at this
            // increase's cost, in a movement of its own (quantity 0), so the average cost stays
            // meaningful and the variance is visible to finance.
            let mut reval = 0;
            if q > 0 && qty_before < 0 && !consumed && value != 0 {
                let cost = unit_cost(value, q);
                let desired = value_at(new_qty, cost);
                reval = desired - st.value;
                st.value = desired;
            }
            // The cost used for stock that goes out beyond what is on hand: the average after
            // the last increase. Decreases never change it, so a tiny remainder cannot inflate it.
            if q > 0 {
                if st.qty > 0 {
                    st.last_cost = unit_cost(st.value, st.qty);
                } else if value != 0 {
                    st.last_cost = unit_cost(value, q);
                }
            }
            if st.qty < 0 {
                st.negative_since.get_or_insert(t);
            } else {
                st.negative_since = None;
            }
            *touched_lots.entry(key).or_insert(0) += q;
            pieces.push(Piece {
                line_no,
                item_id: item.id.clone(),
                lot_id: lot_id.clone(),
                kind: line.kind,
                qty: q,
                value,
                reason: line.reason.clone(),
                reverses_id: line.reverses_id.clone(),
                went_negative,
                consumed,
            });
            if reval != 0 {
                pieces.push(Piece {
                    line_no,
                    item_id: item.id.clone(),
                    lot_id,
                    kind: "revaluation",
                    qty: 0,
                    value: reval,
                    reason: Some("negative stock filled".into()),
                    reverses_id: None,
                    went_negative: false,
                    consumed: false,
                });
            }
        }
    }
    if !errors.is_empty() {
        let stock_short = errors.iter().any(|e| e.message.contains("on hand"));
        return Err(if stock_short {
            PlatformError::Refused {
                code: "insufficient_stock",
                message: "not enough stock for every line; nothing was posted".into(),
                fields: errors,
            }
        } else {
            PlatformError::Validation(errors)
        });
    }
    // Production: the yielded lines take the consumed value, shared by quantity.
    if consumed_qty > 0 {
        let mut left = consumed_value;
        let mut left_qty = consumed_qty;
        for pc in pieces.iter_mut().filter(|p| p.consumed) {
            let v = if pc.qty == left_qty {
                left
            } else {
                mul_div_round(consumed_value, pc.qty, consumed_qty).unwrap_or(0)
            };
            pc.value = v;
            left -= v;
            left_qty -= pc.qty;
            if let Some(st) = vals.get_mut(&pc.item_id) {
                st.value += v;
                if st.qty > 0 {
                    st.last_cost = unit_cost(st.value, st.qty);
                }
            }
        }
    }

    // Write.
    let doc_id = new_id();
    let total_value: i64 = pieces.iter().map(|p| p.value).sum();
    let line_count = doc.lines.len() as i64;
    sqlx::query(
        "INSERT INTO inv_docs (id, company_id, location_id, location_path, kind, business_date, reference, \
         note, source_type, source_id, reverses_id, line_count, total_value, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
    )
    .bind(&doc_id)
    .bind(&company_id)
    .bind(&loc.id)
    .bind(&loc.path)
    .bind(doc.kind)
    .bind(&doc.business_date)
    .bind(doc.reference.as_deref())
    .bind(doc.note.as_deref())
    .bind(doc.source_type.as_deref())
    .bind(doc.source_id.as_deref())
    .bind(doc.reverses_id.as_deref())
    .bind(line_count)
    .bind(total_value)
    .bind(&ctx.actor.user_id)
    .bind(t)
    .execute(&mut *tx)
    .await
    .map_err(|e| {
        if boh_db::is_unique_violation(&e) {
            PlatformError::refused("already_reversed", "this document has been reversed already")
        } else {
            e.into()
        }
    })?;
    let mut movements: Vec<Movement> = Vec::with_capacity(pieces.len());
    for pc in &pieces {
        movements.push(Movement {
            id: new_id(),
            doc_id: doc_id.clone(),
            line_no: pc.line_no,
            location_id: loc.id.clone(),
            item_id: pc.item_id.clone(),
            lot_id: pc.lot_id.clone(),
            kind: pc.kind.to_string(),
            qty: Qty(pc.qty),
            value: pc.value,
            business_date: doc.business_date.clone(),
            posted_at: boh_kernel::Instant(t).rfc3339(),
            reason: pc.reason.clone(),
            reverses_id: pc.reverses_id.clone(),
            went_negative: pc.went_negative,
            created_by: ctx.actor.user_id.clone(),
        });
    }
    const MCOLS: usize = 17;
    for chunk in movements.chunks(300) {
        let sql = format!(
            "INSERT INTO inv_movements (id, doc_id, line_no, company_id, location_id, location_path, item_id, \
             lot_id, kind, qty, value, business_date, posted_at, reason, reverses_id, went_negative, created_by) \
             VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), MCOLS)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for m in chunk {
            q = q
                .bind(&m.id)
                .bind(&m.doc_id)
                .bind(m.line_no)
                .bind(&company_id)
                .bind(&m.location_id)
                .bind(&loc.path)
                .bind(&m.item_id)
                .bind(&m.lot_id)
                .bind(&m.kind)
                .bind(m.qty.micros())
                .bind(m.value)
                .bind(&m.business_date)
                .bind(t)
                .bind(m.reason.as_deref())
                .bind(m.reverses_id.as_deref())
                .bind(i64::from(m.went_negative))
                .bind(&m.created_by);
        }
        q.execute(&mut *tx).await.map_err(|e| {
            if boh_db::is_unique_violation(&e) {
                PlatformError::refused("already_reversed", "a movement has been reversed already")
            } else {
                e.into()
            }
        })?;
    }
    // New absolute on-hand per lot.
    let lot_rows: Vec<((String, String), i64)> = touched_lots
        .iter()
        .map(|((item, lot), delta)| {
            let before = lots
                .get(item)
                .and_then(|v| v.iter().find(|l| &l.lot_id == lot))
                .map(|l| l.qty)
                .unwrap_or(0);
            ((item.clone(), lot.clone()), before + delta)
        })
        .collect();
    for chunk in lot_rows.chunks(400) {
        let sql = format!(
            "INSERT INTO inv_stock (location_id, item_id, lot_id, location_path, qty, updated_at) VALUES {} \
             ON CONFLICT (location_id, item_id, lot_id) DO UPDATE SET qty = excluded.qty, updated_at = excluded.updated_at",
            boh_platform::util::values_list(tx, chunk.len(), 6)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for ((item, lot), qty) in chunk {
            q = q
                .bind(&loc.id)
                .bind(item)
                .bind(lot)
                .bind(&loc.path)
                .bind(*qty)
                .bind(t);
        }
        q.execute(&mut *tx).await?;
    }
    let val_rows: Vec<(&String, &ValState)> = item_ids
        .iter()
        .filter_map(|id| vals.get(id).map(|v| (id, v)))
        .collect();
    for chunk in val_rows.chunks(400) {
        let sql = format!(
            "INSERT INTO inv_valuation (location_id, item_id, company_id, location_path, qty, value, \
             last_unit_cost, negative_since, last_movement_at) VALUES {} ON CONFLICT (location_id, item_id) \
             DO UPDATE SET qty = excluded.qty, value = excluded.value, last_unit_cost = excluded.last_unit_cost, \
             negative_since = excluded.negative_since, last_movement_at = excluded.last_movement_at",
            boh_platform::util::values_list(tx, chunk.len(), 9)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for (id, v) in chunk {
            q = q
                .bind(&loc.id)
                .bind(*id)
                .bind(&company_id)
                .bind(&loc.path)
                .bind(v.qty)
                .bind(v.value)
                .bind(v.last_cost)
                .bind(v.negative_since)
                .bind(t);
        }
        q.execute(&mut *tx).await?;
    }
    let out = Doc {
        id: doc_id.clone(),
        company_id: company_id.clone(),
        location_id: loc.id.clone(),
        kind: doc.kind.to_string(),
        business_date: doc.business_date.clone(),
        reference: doc.reference.clone(),
        note: doc.note.clone(),
        source_type: doc.source_type.clone(),
        source_id: doc.source_id.clone(),
        reverses_id: doc.reverses_id.clone(),
        reversed_by: None,
        line_count,
        total_value,
        created_by: ctx.actor.user_id.clone(),
        created_at: boh_kernel::Instant(t).rfc3339(),
        movements,
    };
    audit::append(
        tx,
        ctx,
        Change {
            action: "inventory.document.post",
            entity_type: "inv_doc",
            entity_id: &doc_id,
            org_path: Some(&loc.path),
            before: None,
            after: Some(json!({
                "kind": out.kind, "location": loc.code, "business_date": out.business_date,
                "lines": line_count, "movements": out.movements.len(), "total_value": total_value,
                "reverses_id": out.reverses_id,
            })),
        },
    )
    .await?;
    events::emit(
        tx,
        "inventory.movements.posted",
        Some(&loc.path),
        &json!({
            "doc_id": doc_id,
            "kind": out.kind,
            "company_id": company_id,
            "location_id": loc.id,
            "business_date": out.business_date,
            "total_value": total_value,
            "source_type": out.source_type,
            "source_id": out.source_id,
            "reverses_id": out.reverses_id,
            "movements": out.movements.iter().map(|m| json!({
                "id": m.id, "item_id": m.item_id, "lot_id": m.lot_id, "kind": m.kind,
                "qty": m.qty, "value": m.value, "went_negative": m.went_negative,
            })).collect::<Vec<_>>(),
        }),
    )
    .await?;
    Ok(out)
}

/// Post a document in a transaction of its own (recording the request's idempotency key with
/// the result).
pub async fn post(p: &Platform, ctx: &Ctx, doc: &PostDoc) -> Result<Doc> {
    let backend = p.db.backend();
    boh_platform::tx!(p.db, tx, {
        let d = post_in(tx, backend, ctx, doc).await?;
        boh_platform::idem::record_created(tx, ctx, &d).await?;
        Ok(d)
    })
}

// ---------------------------------------------------------------- manual documents

/// A line of a document posted through the API or the UI.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    /// The item by id …
    #[serde(default)]
    pub item_id: Option<String>,
    /// … or by code.
    #[serde(default)]
    pub item_code: Option<String>,
    /// Quantity as a decimal string (numbers are accepted too). Positive; for `adjustment`
    /// documents signed (+ found, − lost).
    #[schema(value_type = String, example = "12.5")]
    pub qty: Qty,
    /// The unit of `qty`; default the item's base unit.
    #[serde(default)]
    pub unit: Option<String>,
    /// Cost per `unit` in currency units (e.g. `"12.50"`), for increases; default the
    /// current moving-average cost.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "12.50")]
    pub unit_cost: Option<String>,
    /// The lot (lot-tracked items). Required for increases; decreases without a lot pick
    /// first-expired first-out.
    #[serde(default)]
    pub lot_code: Option<String>,
    /// Expiry of a new lot, `YYYY-MM-DD`; default the receipt date plus the item's shelf life.
    #[serde(default)]
    pub expiry_date: Option<String>,
    /// Reason code (waste: expired, spoiled, damaged, overproduction, preparation, quality,
    /// dropped, other; adjustments: free text up to 64 characters).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A stock document posted through the API or the UI.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocInput {
    pub location_id: String,
    /// opening, receipt, issue, waste, adjustment or return
    pub kind: String,
    /// `YYYY-MM-DD`; default today at the location. Earlier dates of open periods are allowed.
    #[serde(default)]
    pub business_date: Option<String>,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    pub lines: Vec<LineInput>,
}

/// Resolve the items of input lines (by id or code, in the company), reporting every unknown
/// one.
pub async fn resolve_items(
    p: &Platform,
    company_id: &str,
    lines: &[(Option<String>, Option<String>, String)],
    errors: &mut Vec<FieldError>,
) -> Result<Vec<Option<Item>>> {
    let ids: Vec<String> = lines
        .iter()
        .filter_map(|(id, _, _)| id.clone().filter(|s| boh_kernel::id::is_uuid(s)))
        .collect();
    let codes: Vec<String> = lines
        .iter()
        .filter(|(id, _, _)| id.is_none())
        .filter_map(|(_, c, _)| c.clone())
        .collect();
    let by_id: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .filter(|i| i.company_id == company_id)
        .map(|i| (i.id.clone(), i))
        .collect();
    let by_code = catalog::items_by_code(p, company_id, &codes).await?;
    let mut out = Vec::with_capacity(lines.len());
    for (id, code, field) in lines {
        let found = match (id, code) {
            (Some(id), _) => by_id.get(id).cloned(),
            (None, Some(c)) => by_code.get(c).cloned(),
            (None, None) => {
                errors.push(FieldError::new(
                    &format!("{field}.item_id"),
                    "item_id or item_code is required",
                ));
                out.push(None);
                continue;
            }
        };
        match found {
            Some(i) if i.active => out.push(Some(i)),
            Some(i) => {
                errors.push(FieldError::new(
                    &format!("{field}.item_id"),
                    format!("item {} is inactive", i.code),
                ));
                out.push(None);
            }
            None => {
                errors.push(FieldError::new(
                    &format!(
                        "{field}.{}",
                        if id.is_some() { "item_id" } else { "item_code" }
                    ),
                    "no such item",
                ));
                out.push(None);
            }
        }
    }
    Ok(out)
}

/// Find or create lots by code for increases, inside the caller's transaction; returns lot ids.
pub async fn ensure_lot(
    tx: &mut AnyConnection,
    item: &Item,
    code: &str,
    expiry: Option<&str>,
) -> Result<String> {
    let row = sqlx::query("SELECT id FROM inv_lots WHERE item_id = $1 AND lot_code = $2")
        .bind(&item.id)
        .bind(code)
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(r) = row {
        return Ok(r.try_get("id")?);
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO inv_lots (id, company_id, item_id, lot_code, expiry_date, created_at) VALUES ($1,$2,$3,$4,$5,$6) \
         ON CONFLICT (item_id, lot_code) DO NOTHING",
    )
    .bind(&id)
    .bind(&item.company_id)
    .bind(&item.id)
    .bind(code)
    .bind(expiry)
    .bind(now().micros())
    .execute(&mut *tx)
    .await?;
    let r = sqlx::query("SELECT id FROM inv_lots WHERE item_id = $1 AND lot_code = $2")
        .bind(&item.id)
        .bind(code)
        .fetch_one(&mut *tx)
        .await?;
    Ok(r.try_get("id")?)
}

/// Lots of items by code, unscoped (for decreases naming a lot).
async fn lot_ids(tx: &mut AnyConnection, item_id: &str, code: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT id FROM inv_lots WHERE item_id = $1 AND lot_code = $2")
            .bind(item_id)
            .bind(code)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?,
    )
}

/// Post a manual document (receipt, issue, waste, adjustment, opening balance, return to
/// supplier) at a location the actor may post movements at. Every problem of every line is
/// reported at once and nothing is written unless all lines are good.
pub async fn post_manual(p: &Platform, ctx: &Ctx, input: DocInput) -> Result<Doc> {
    let mut errors = Vec::new();
    let loc = crate::location(
        p,
        &ctx.actor,
        perm::INVENTORY_MOVE_CREATE,
        &input.location_id,
    )
    .await?;
    let kind: &'static str = match MANUAL_KINDS.iter().find(|k| **k == input.kind) {
        Some(k) => k,
        None => {
            errors.push(FieldError::new(
                "kind",
                format!("must be one of {}", MANUAL_KINDS.join(", ")),
            ));
            "issue"
        }
    };
    let business_date = input
        .business_date
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| crate::today_in(&loc.timezone).to_string());
    crate::validate_date(&mut errors, "business_date", &business_date);
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "at least one line is required"));
    }
    if input.lines.len() > 10_000 {
        errors.push(FieldError::new("lines", "at most 10000 lines per document"));
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
    let items = resolve_items(p, &loc.company_id, &refs, &mut errors).await?;
    struct Pending {
        item: Item,
        qty: i64,
        value: ValueSpec,
        lot_code: Option<String>,
        expiry: Option<String>,
        reason: Option<String>,
        field: String,
    }
    let mut pending: Vec<Pending> = Vec::new();
    for (i, (line, item)) in input.lines.iter().zip(items).enumerate() {
        let field = format!("lines[{i}]");
        let Some(item) = item else { continue };
        let unit = line
            .unit
            .clone()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| item.base_unit.clone());
        let conv = item.conversions();
        let Some(base) = conv.to_base(line.qty, &unit) else {
            errors.push(FieldError::new(
                &format!("{field}.unit"),
                format!(
                    "item {} has no conversion from {unit} to {}",
                    item.code, item.base_unit
                ),
            ));
            continue;
        };
        let signed = match kind {
            "adjustment" => base.micros(),
            "issue" | "waste" | "return" => -base.micros(),
            _ => base.micros(),
        };
        if line.qty.is_zero() {
            errors.push(FieldError::new(&format!("{field}.qty"), "must not be zero"));
            continue;
        }
        if kind != "adjustment" && line.qty.is_negative() {
            errors.push(FieldError::new(
                &format!("{field}.qty"),
                "must be positive (the document kind says which way stock moves)",
            ));
            continue;
        }
        let value = match line.unit_cost.as_deref().filter(|s| !s.trim().is_empty()) {
            None => ValueSpec::AtCost,
            Some(c) => match boh_kernel::qty::parse_scaled(c, 6) {
                Ok(cost_micro) if cost_micro >= 0 => {
                    if signed < 0 {
                        errors.push(FieldError::new(
                            &format!("{field}.unit_cost"),
                            "only increases take a cost; decreases leave at the average cost",
                        ));
                        continue;
                    }
                    // cost_micro is currency units × 10^6 per `unit`; value in minor units.
                    let v = mul_div_round(
                        line.qty.micros(),
                        cost_micro.saturating_mul(100),
                        MICRO * MICRO,
                    );
                    match v {
                        Some(v) => ValueSpec::Known(v),
                        None => {
                            errors.push(FieldError::new(
                                &format!("{field}.unit_cost"),
                                "is too large",
                            ));
                            continue;
                        }
                    }
                }
                _ => {
                    errors.push(FieldError::new(
                        &format!("{field}.unit_cost"),
                        "must be a non-negative amount with at most 6 decimals",
                    ));
                    continue;
                }
            },
        };
        let reason = line
            .reason
            .clone()
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        match (kind, reason.as_deref()) {
            ("waste", None) => errors.push(FieldError::new(
                &format!("{field}.reason"),
                format!("is required for waste: one of {}", WASTE_REASONS.join(", ")),
            )),
            ("waste", Some(r)) if !WASTE_REASONS.contains(&r) => errors.push(FieldError::new(
                &format!("{field}.reason"),
                format!("must be one of {}", WASTE_REASONS.join(", ")),
            )),
            ("adjustment", None) => errors.push(FieldError::new(
                &format!("{field}.reason"),
                "is required for adjustments",
            )),
            (_, Some(r)) if r.chars().count() > 64 => errors.push(FieldError::new(
                &format!("{field}.reason"),
                "must be at most 64 characters",
            )),
            _ => {}
        }
        let lot_code = line
            .lot_code
            .clone()
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty());
        if let Some(c) = &lot_code {
            if !item.lot_tracked {
                errors.push(FieldError::new(
                    &format!("{field}.lot_code"),
                    format!("item {} is not lot-tracked", item.code),
                ));
            } else if c.chars().count() > 64 {
                errors.push(FieldError::new(
                    &format!("{field}.lot_code"),
                    "must be at most 64 characters",
                ));
            }
        } else if item.lot_tracked && signed > 0 {
            errors.push(FieldError::new(
                &format!("{field}.lot_code"),
                format!("item {} is lot-tracked: the lot is required", item.code),
            ));
        }
        let expiry = line.expiry_date.clone().filter(|d| !d.is_empty());
        if let Some(d) = &expiry {
            crate::validate_date(&mut errors, &format!("{field}.expiry_date"), d);
        }
        pending.push(Pending {
            item,
            qty: signed,
            value,
            lot_code,
            expiry,
            reason,
            field,
        });
    }
    if !errors.is_empty() {
        crate::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let backend = p.db.backend();
    let movement_kind: &'static str = kind;
    boh_platform::tx!(p.db, tx, {
        let mut lines = Vec::with_capacity(pending.len());
        let mut lot_errors = Vec::new();
        for pd in &pending {
            let lot = match (&pd.lot_code, pd.qty > 0) {
                (Some(code), true) => {
                    let expiry = pd.expiry.clone().or_else(|| {
                        pd.item.shelf_life_days.and_then(|d| {
                            business_date
                                .parse::<jiff::civil::Date>()
                                .ok()
                                .and_then(|b| b.checked_add(jiff::Span::new().days(d)).ok())
                                .map(|x| x.to_string())
                        })
                    });
                    LotPick::Lot(ensure_lot(tx, &pd.item, code, expiry.as_deref()).await?)
                }
                (Some(code), false) => match lot_ids(tx, &pd.item.id, code).await? {
                    Some(id) => LotPick::Lot(id),
                    None => {
                        lot_errors.push(FieldError::new(
                            &format!("{}.lot_code", pd.field),
                            format!("no lot {code} of item {}", pd.item.code),
                        ));
                        continue;
                    }
                },
                (None, _) if pd.item.lot_tracked => LotPick::Fefo,
                (None, _) => LotPick::NoLot,
            };
            lines.push(PostLine {
                item: pd.item.clone(),
                lot,
                qty: pd.qty,
                value: pd.value,
                kind: movement_kind,
                reason: pd.reason.clone(),
                reverses_id: None,
                field: pd.field.clone(),
            });
        }
        if !lot_errors.is_empty() {
            return Err(PlatformError::Validation(lot_errors));
        }
        let d = post_in(
            tx,
            backend,
            ctx,
            &PostDoc {
                location: loc.clone(),
                kind,
                business_date: business_date.clone(),
                reference: input.reference.clone(),
                note: input.note.clone(),
                source_type: None,
                source_id: None,
                reverses_id: None,
                lines,
                allow_negative: false,
            },
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &d).await?;
        Ok(d)
    })
}

// ---------------------------------------------------------------- reading

const DOC_COLS: &str = "d.id, d.company_id, d.location_id, d.location_path, d.kind, d.business_date, \
    d.reference, d.note, d.source_type, d.source_id, d.reverses_id, d.line_count, d.total_value, d.created_by, d.created_at, \
    (SELECT r.id FROM inv_docs r WHERE r.reverses_id = d.id) AS reversed_by";

fn doc_from_row(r: &boh_db::AnyRow) -> Result<Doc> {
    Ok(Doc {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        location_id: r.try_get("location_id")?,
        kind: r.try_get("kind")?,
        business_date: r.try_get("business_date")?,
        reference: r.try_get("reference")?,
        note: r.try_get("note")?,
        source_type: r.try_get("source_type")?,
        source_id: r.try_get("source_id")?,
        reverses_id: r.try_get("reverses_id")?,
        reversed_by: r.try_get("reversed_by")?,
        line_count: r.try_get("line_count")?,
        total_value: r.try_get("total_value")?,
        created_by: r.try_get("created_by")?,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        movements: Vec::new(),
    })
}

const MOVE_COLS: &str = "m.id, m.doc_id, m.line_no, m.location_id, m.item_id, m.lot_id, m.kind, m.qty, \
    m.value, m.business_date, m.posted_at, m.reason, m.reverses_id, m.went_negative, m.created_by";

fn movement_from_row(r: &boh_db::AnyRow) -> Result<Movement> {
    Ok(Movement {
        id: r.try_get("id")?,
        doc_id: r.try_get("doc_id")?,
        line_no: r.try_get("line_no")?,
        location_id: r.try_get("location_id")?,
        item_id: r.try_get("item_id")?,
        lot_id: r.try_get("lot_id")?,
        kind: r.try_get("kind")?,
        qty: Qty(r.try_get("qty")?),
        value: r.try_get("value")?,
        business_date: r.try_get("business_date")?,
        posted_at: boh_kernel::Instant(r.try_get("posted_at")?).rfc3339(),
        reason: r.try_get("reason")?,
        reverses_id: r.try_get("reverses_id")?,
        went_negative: r.try_get::<i64, _>("went_negative")? != 0,
        created_by: r.try_get("created_by")?,
    })
}

/// One document with its movements, if the actor may read its location.
pub async fn get_doc(p: &Platform, actor: &Actor, id: &str) -> Result<Doc> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {DOC_COLS} FROM inv_docs d WHERE d.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let path: String = row.try_get("location_path")?;
    if !actor.allows(perm::INVENTORY_READ, &path) {
        return Err(PlatformError::NotFound);
    }
    let mut d = doc_from_row(&row)?;
    d.movements = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {MOVE_COLS} FROM inv_movements m WHERE m.doc_id = $1 ORDER BY m.line_no, m.id"
    )))
    .bind(id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(movement_from_row)
    .collect::<Result<_>>()?;
    Ok(d)
}

/// Filters for documents.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct DocFilter {
    /// Only this location.
    pub location_id: Option<String>,
    /// Only this kind.
    pub kind: Option<String>,
    /// From this business date (inclusive).
    pub from: Option<String>,
    /// To this business date (inclusive).
    pub to: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Documents the actor may read, newest first.
pub async fn list_docs(p: &Platform, actor: &Actor, f: &DocFilter) -> Result<(Vec<Doc>, i64)> {
    let scope = actor.scope(perm::INVENTORY_READ);
    let loc_path = match f.location_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => {
            crate::location(p, actor, perm::INVENTORY_READ, id)
                .await?
                .path
        }
        None => String::new(),
    };
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let where_ = format!(
        "{} AND ($1 = '' OR d.location_path = $1) AND ($2 = '' OR d.kind = $2) \
         AND ($3 = '' OR d.business_date >= $3) AND ($4 = '' OR d.business_date <= $4)",
        scope.sql("d.location_path")
    );
    let b = |sql: String| {
        sqlx::query(boh_db::AssertSqlSafe(sql))
            .bind(loc_path.clone())
            .bind(f.kind.clone().unwrap_or_default())
            .bind(f.from.clone().unwrap_or_default())
            .bind(f.to.clone().unwrap_or_default())
    };
    let total: i64 = b(format!(
        "SELECT COUNT(*) AS n FROM inv_docs d WHERE {where_}"
    ))
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = b(format!(
        "SELECT {DOC_COLS} FROM inv_docs d WHERE {where_} ORDER BY d.created_at DESC, d.id DESC LIMIT {limit} OFFSET {offset}"
    ))
    .fetch_all(p.db.pool())
    .await?;
    Ok((rows.iter().map(doc_from_row).collect::<Result<_>>()?, total))
}

/// Filters for movements.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct MovementFilter {
    pub location_id: Option<String>,
    pub item_id: Option<String>,
    pub kind: Option<String>,
    /// From this business date (inclusive).
    pub from: Option<String>,
    /// To this business date (inclusive).
    pub to: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Movements the actor may read, newest first.
pub async fn list_movements(
    p: &Platform,
    actor: &Actor,
    f: &MovementFilter,
) -> Result<(Vec<Movement>, i64)> {
    let scope = actor.scope(perm::INVENTORY_READ);
    let loc_id = match f.location_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => {
            crate::location(p, actor, perm::INVENTORY_READ, id)
                .await?
                .id
        }
        None => String::new(),
    };
    if let Some(k) = f.kind.as_deref().filter(|k| !k.is_empty())
        && !MOVEMENT_KINDS.contains(&k)
    {
        return Err(PlatformError::invalid(
            "kind",
            format!("must be one of {}", MOVEMENT_KINDS.join(", ")),
        ));
    }
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let where_ = format!(
        "{} AND ($1 = '' OR m.location_id = $1) AND ($2 = '' OR m.item_id = $2) AND ($3 = '' OR m.kind = $3) \
         AND ($4 = '' OR m.business_date >= $4) AND ($5 = '' OR m.business_date <= $5)",
        scope.sql("m.location_path")
    );
    let b = |sql: String| {
        sqlx::query(boh_db::AssertSqlSafe(sql))
            .bind(loc_id.clone())
            .bind(f.item_id.clone().unwrap_or_default())
            .bind(f.kind.clone().unwrap_or_default())
            .bind(f.from.clone().unwrap_or_default())
            .bind(f.to.clone().unwrap_or_default())
    };
    let total: i64 = b(format!(
        "SELECT COUNT(*) AS n FROM inv_movements m WHERE {where_}"
    ))
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = b(format!(
        "SELECT {MOVE_COLS} FROM inv_movements m WHERE {where_} ORDER BY m.posted_at DESC, m.id DESC LIMIT {limit} OFFSET {offset}"
    ))
    .fetch_all(p.db.pool())
    .await?;
    Ok((
        rows.iter().map(movement_from_row).collect::<Result<_>>()?,
        total,
    ))
}

/// Reverse a whole manual document (or a count): a new document with every movement negated,
/// exactly (same lots, same values), dated the original's business date unless `business_date`
/// says otherwise. A document is reversed at most once.
pub async fn reverse(
    p: &Platform,
    ctx: &Ctx,
    doc_id: &str,
    business_date: Option<String>,
    note: Option<String>,
) -> Result<Doc> {
    let orig = get_doc(p, &ctx.actor, doc_id).await?;
    let loc = crate::location(
        p,
        &ctx.actor,
        perm::INVENTORY_MOVE_CREATE,
        &orig.location_id,
    )
    .await?;
    if orig.reverses_id.is_some() {
        return Err(PlatformError::refused(
            "cannot_reverse",
            "a reversal cannot be reversed; post a new document instead",
        ));
    }
    if orig.reversed_by.is_some() {
        return Err(PlatformError::refused(
            "already_reversed",
            "this document has been reversed already",
        ));
    }
    if !(MANUAL_KINDS.contains(&orig.kind.as_str())
        || orig.kind == "count"
        || orig.kind == "production")
    {
        return Err(PlatformError::refused(
            "cannot_reverse",
            format!(
                "{} documents are corrected through their own screen",
                orig.kind
            ),
        ));
    }
    let ids: Vec<String> = orig.movements.iter().map(|m| m.item_id.clone()).collect();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let mut lines = Vec::new();
    for (i, m) in orig.movements.iter().enumerate() {
        let item = items
            .get(&m.item_id)
            .cloned()
            .ok_or(PlatformError::NotFound)?;
        let kind = MOVEMENT_KINDS
            .iter()
            .find(|k| **k == m.kind)
            .copied()
            .unwrap_or("adjustment");
        lines.push(PostLine {
            item,
            lot: if m.lot_id.is_empty() {
                LotPick::NoLot
            } else {
                LotPick::Lot(m.lot_id.clone())
            },
            qty: -m.qty.micros(),
            value: ValueSpec::Known(-m.value),
            kind,
            reason: m.reason.clone(),
            reverses_id: Some(m.id.clone()),
            field: format!("movements[{i}]"),
        });
    }
    let doc_kind: &'static str = MANUAL_KINDS
        .iter()
        .chain(["count", "production"].iter())
        .find(|k| **k == orig.kind)
        .copied()
        .unwrap_or("adjustment");
    post(
        p,
        ctx,
        &PostDoc {
            location: loc,
            kind: doc_kind,
            business_date: business_date
                .filter(|d| !d.is_empty())
                .unwrap_or(orig.business_date.clone()),
            reference: orig.reference.clone(),
            note: note.or(Some(format!("reversal of {}", orig.id))),
            source_type: Some("reversal".into()),
            source_id: Some(orig.id.clone()),
            reverses_id: Some(orig.id.clone()),
            lines,
            allow_negative: false,
        },
    )
    .await
}

// ---------------------------------------------------------------- on hand

/// On-hand of one item at one location, with valuation and the location's settings.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StockRow {
    pub location_id: String,
    pub location_code: String,
    pub location_name_zh: String,
    pub location_name_en: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub base_unit: String,
    pub category_id: Option<String>,
    #[schema(value_type = String)]
    pub qty: Qty,
    /// Stock value in minor units.
    pub value: i64,
    /// Moving-average cost per base unit in minor units × 10^6.
    pub unit_cost_e6: i64,
    #[schema(value_type = Option<String>)]
    pub par_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub min_qty: Option<Qty>,
    #[schema(value_type = Option<String>)]
    pub max_qty: Option<Qty>,
    pub storage_area_id: Option<String>,
    /// Below the location's minimum (or par when no minimum is set).
    pub low: bool,
    pub negative: bool,
    pub last_movement_at: String,
}

/// Filters for on-hand.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct StockFilter {
    pub location_id: Option<String>,
    pub item_id: Option<String>,
    /// Text search in item code and names.
    pub q: Option<String>,
    pub category_id: Option<String>,
    /// Only rows below their minimum.
    pub low: Option<bool>,
    /// Also rows with zero on hand.
    pub include_zero: Option<bool>,
    /// `location` (default: location code, item code), `value` (largest first) or
    /// `shortfall` (furthest below minimum first).
    pub sort: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// On-hand rows the actor may read, by location code then item code.
pub async fn list_stock(
    p: &Platform,
    actor: &Actor,
    f: &StockFilter,
) -> Result<(Vec<StockRow>, i64)> {
    let scope = actor.scope(perm::INVENTORY_READ);
    let loc_id = match f.location_id.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => {
            crate::location(p, actor, perm::INVENTORY_READ, id)
                .await?
                .id
        }
        None => String::new(),
    };
    let q = f.q.as_deref().map(str::trim).unwrap_or("");
    let pattern = format!("%{}%", boh_platform::util::like_escape(&q.to_lowercase()));
    let low_sql = if f.low.unwrap_or(false) {
        " AND COALESCE(il.min_qty, il.par_qty) IS NOT NULL AND v.qty < COALESCE(il.min_qty, il.par_qty)"
    } else {
        ""
    };
    let zero_sql = if f.include_zero.unwrap_or(false) || f.low.unwrap_or(false) {
        ""
    } else {
        " AND v.qty <> 0"
    };
    let order = match f.sort.as_deref().unwrap_or("location") {
        "location" | "" => "n.code, i.code",
        "value" => "v.value DESC, n.code, i.code",
        "shortfall" => {
            "CASE WHEN COALESCE(il.min_qty, il.par_qty, 0) > 0 THEN \
             CAST(v.qty AS DOUBLE PRECISION) / COALESCE(il.min_qty, il.par_qty) ELSE 1 END, n.code, i.code"
        }
        _ => {
            return Err(PlatformError::invalid(
                "sort",
                "must be location, value or shortfall",
            ));
        }
    };
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let where_ = format!(
        "{} AND ($1 = '' OR v.location_id = $1) AND ($2 = '' OR v.item_id = $2) AND ($3 = '' OR i.category_id = $3) \
         AND ($4 = '' OR LOWER(i.code) LIKE $5 ESCAPE '\\' OR LOWER(i.name_en) LIKE $5 ESCAPE '\\' OR i.name_zh LIKE $5 ESCAPE '\\')\
         {low_sql}{zero_sql}",
        scope.sql("v.location_path")
    );
    let from = "inv_valuation v JOIN inv_items i ON i.id = v.item_id JOIN org_nodes n ON n.id = v.location_id \
        LEFT JOIN inv_item_locations il ON il.location_id = v.location_id AND il.item_id = v.item_id";
    let b = |sql: String| {
        sqlx::query(boh_db::AssertSqlSafe(sql))
            .bind(loc_id.clone())
            .bind(f.item_id.clone().unwrap_or_default())
            .bind(f.category_id.clone().unwrap_or_default())
            .bind(q.to_string())
            .bind(pattern.clone())
    };
    let total: i64 = b(format!("SELECT COUNT(*) AS n FROM {from} WHERE {where_}"))
        .fetch_one(p.db.pool())
        .await?
        .try_get("n")?;
    let rows = b(format!(
        "SELECT v.location_id, n.code AS location_code, n.name_zh AS location_name_zh, n.name_en AS location_name_en, \
         v.item_id, i.code AS item_code, i.name_zh AS item_name_zh, i.name_en AS item_name_en, i.base_unit, i.category_id, \
         v.qty, v.value, v.last_unit_cost, il.par_qty, il.min_qty, il.max_qty, il.storage_area_id, v.last_movement_at \
         FROM {from} WHERE {where_} ORDER BY {order} LIMIT {limit} OFFSET {offset}"
    ))
    .fetch_all(p.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let qty: i64 = r.try_get("qty")?;
        let value: i64 = r.try_get("value")?;
        let par: Option<i64> = r.try_get("par_qty")?;
        let min: Option<i64> = r.try_get("min_qty")?;
        let last_cost: i64 = r.try_get("last_unit_cost")?;
        out.push(StockRow {
            location_id: r.try_get("location_id")?,
            location_code: r.try_get("location_code")?,
            location_name_zh: r.try_get("location_name_zh")?,
            location_name_en: r.try_get("location_name_en")?,
            item_id: r.try_get("item_id")?,
            item_code: r.try_get("item_code")?,
            item_name_zh: r.try_get("item_name_zh")?,
            item_name_en: r.try_get("item_name_en")?,
            base_unit: r.try_get("base_unit")?,
            category_id: r.try_get("category_id")?,
            qty: Qty(qty),
            value,
            unit_cost_e6: if qty > 0 {
                unit_cost(value, qty)
            } else {
                last_cost
            },
            par_qty: par.map(Qty),
            min_qty: min.map(Qty),
            max_qty: r.try_get::<Option<i64>, _>("max_qty")?.map(Qty),
            storage_area_id: r.try_get("storage_area_id")?,
            low: min.or(par).is_some_and(|m| qty < m),
            negative: qty < 0,
            last_movement_at: boh_kernel::Instant(r.try_get("last_movement_at")?).rfc3339(),
        });
    }
    Ok((out, total))
}

/// On-hand per item at one location (the maintained valuation rows, i.e. Σ movements), for
/// the items given; items never moved there are absent. Unscoped: callers checked the location.
pub async fn on_hand_at(
    p: &Platform,
    location_id: &str,
    item_ids: &[String],
) -> Result<HashMap<String, Qty>> {
    let mut out = HashMap::new();
    for chunk in item_ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT item_id, qty FROM inv_valuation WHERE location_id = $1 AND item_id IN ({})",
            crate::in_placeholders(chunk.len(), 2)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).bind(location_id);
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.insert(r.try_get("item_id")?, Qty(r.try_get("qty")?));
        }
    }
    Ok(out)
}

/// On-hand of a lot at a location.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LotRow {
    pub location_id: String,
    pub location_code: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name_zh: String,
    pub item_name_en: String,
    pub base_unit: String,
    pub lot_id: String,
    pub lot_code: String,
    pub expiry_date: Option<String>,
    #[schema(value_type = String)]
    pub qty: Qty,
}

/// Lots on hand the actor may read; `expiring_within_days` keeps those expiring by then
/// (already expired included), soonest first.
pub async fn list_lots(
    p: &Platform,
    actor: &Actor,
    location_id: Option<&str>,
    item_id: Option<&str>,
    expiring_within_days: Option<i64>,
    limit: Option<i64>,
) -> Result<Vec<LotRow>> {
    let scope = actor.scope(perm::INVENTORY_READ);
    let loc_id = match location_id.filter(|s| !s.is_empty()) {
        Some(id) => {
            crate::location(p, actor, perm::INVENTORY_READ, id)
                .await?
                .id
        }
        None => String::new(),
    };
    let until = match expiring_within_days {
        Some(d) if !(0..=3650).contains(&d) => {
            return Err(PlatformError::invalid(
                "expiring_within_days",
                "must be between 0 and 3650",
            ));
        }
        Some(d) => crate::report_today(p, actor, &loc_id)
            .await
            .checked_add(jiff::Span::new().days(d))
            .map(|x| x.to_string())
            .unwrap_or_default(),
        None => String::new(),
    };
    let (limit, _) = crate::paging(limit, None);
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT s.location_id, n.code AS location_code, s.item_id, i.code AS item_code, i.name_zh, i.name_en, i.base_unit, \
         s.lot_id, l.lot_code, l.expiry_date, s.qty FROM inv_stock s JOIN inv_lots l ON l.id = s.lot_id \
         JOIN inv_items i ON i.id = s.item_id JOIN org_nodes n ON n.id = s.location_id \
         WHERE {} AND s.qty > 0 AND ($1 = '' OR s.location_id = $1) AND ($2 = '' OR s.item_id = $2) \
         AND ($3 = '' OR (l.expiry_date IS NOT NULL AND l.expiry_date <= $3)) \
         ORDER BY l.expiry_date, n.code, i.code LIMIT {limit}",
        scope.sql("s.location_path")
    )))
    .bind(loc_id)
    .bind(item_id.unwrap_or_default())
    .bind(until)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LotRow {
                location_id: r.try_get("location_id")?,
                location_code: r.try_get("location_code")?,
                item_id: r.try_get("item_id")?,
                item_code: r.try_get("item_code")?,
                item_name_zh: r.try_get("name_zh")?,
                item_name_en: r.try_get("name_en")?,
                base_unit: r.try_get("base_unit")?,
                lot_id: r.try_get("lot_id")?,
                lot_code: r.try_get("lot_code")?,
                expiry_date: r.try_get("expiry_date")?,
                qty: Qty(r.try_get("qty")?),
            })
        })
        .collect()
}

/// On-hand of an item at a location at the end of each of the last `days` business days
/// (for the item page's chart): today's on-hand minus later movements, one query.
pub async fn daily_on_hand(
    p: &Platform,
    actor: &Actor,
    item_id: &str,
    location_id: Option<&str>,
    days: i64,
) -> Result<Vec<(String, Qty)>> {
    let days = days.clamp(1, 730);
    let scope = actor.scope(perm::INVENTORY_READ);
    let loc_id = match location_id.filter(|s| !s.is_empty()) {
        Some(id) => {
            crate::location(p, actor, perm::INVENTORY_READ, id)
                .await?
                .id
        }
        None => String::new(),
    };
    let today = crate::report_today(p, actor, &loc_id).await;
    let start = today
        .checked_sub(jiff::Span::new().days(days - 1))
        .unwrap_or(today);
    let current: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT CAST(COALESCE(SUM(v.qty), 0) AS BIGINT) AS q FROM inv_valuation v \
         WHERE {} AND v.item_id = $1 AND ($2 = '' OR v.location_id = $2)",
        scope.sql("v.location_path")
    )))
    .bind(item_id)
    .bind(&loc_id)
    .fetch_one(p.db.pool())
    .await?
    .try_get("q")?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT m.business_date, CAST(SUM(m.qty) AS BIGINT) AS q FROM inv_movements m \
         WHERE {} AND m.item_id = $1 AND ($2 = '' OR m.location_id = $2) AND m.business_date > $3 \
         GROUP BY m.business_date",
        scope.sql("m.location_path")
    )))
    .bind(item_id)
    .bind(&loc_id)
    .bind(start.to_string())
    .fetch_all(p.db.pool())
    .await?;
    let mut by_day: HashMap<String, i64> = HashMap::new();
    for r in &rows {
        by_day.insert(r.try_get("business_date")?, r.try_get("q")?);
    }
    // A location east of UTC may already be on the next business day: the chart ends on the
    // latest day with movements that is not after tomorrow (UTC), else today.
    let tomorrow = today.tomorrow().unwrap_or(today).to_string();
    let today = by_day
        .keys()
        .filter(|d| d.as_str() <= tomorrow.as_str())
        .max()
        .and_then(|d| d.parse::<jiff::civil::Date>().ok())
        .filter(|d| *d > today)
        .unwrap_or(today);
    // Walk back from today: on-hand at the end of day d = on-hand at end of d+1 − moves of d+1.
    let future: i64 = by_day
        .iter()
        .filter(|(d, _)| d.as_str() > today.to_string().as_str())
        .map(|(_, q)| *q)
        .sum();
    let mut level = current - future;
    let mut out = Vec::with_capacity(days as usize);
    let mut d = today;
    for _ in 0..days {
        out.push((d.to_string(), Qty(level)));
        level -= by_day.get(&d.to_string()).copied().unwrap_or(0);
        d = match d.yesterday() {
            Ok(x) => x,
            Err(_) => break,
        };
    }
    out.reverse();
    Ok(out)
}

// ---------------------------------------------------------------- checker

/// The result of [`check`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    pub stock_rows: i64,
    pub valuation_rows: i64,
    pub movements: i64,
    /// Human-readable descriptions of every mismatch (empty when the ledger is consistent).
    pub problems: Vec<String>,
}

/// Prove the ledger's invariants over the whole database: every on-hand per item × location ×
/// lot equals the sum of its movements, every valuation row's quantity and value equal theirs,
/// no movement lacks its document, and no location that forbids negative stock holds any.
pub async fn check(p: &Platform) -> Result<CheckReport> {
    let pool = p.db.pool();
    let mut rep = CheckReport::default();
    let one = |sql: &'static str| async move {
        let r = sqlx::query(sql).fetch_one(pool).await?;
        Ok::<i64, PlatformError>(r.try_get::<i64, _>(0)?)
    };
    rep.stock_rows = one("SELECT COUNT(*) FROM inv_stock").await?;
    rep.valuation_rows = one("SELECT COUNT(*) FROM inv_valuation").await?;
    rep.movements = one("SELECT COUNT(*) FROM inv_movements").await?;
    let mismatched_lots = sqlx::query(
        "SELECT s.location_id, s.item_id, s.lot_id, s.qty, COALESCE(m.q, 0) AS moved FROM inv_stock s \
         LEFT JOIN (SELECT location_id, item_id, lot_id, CAST(SUM(qty) AS BIGINT) AS q FROM inv_movements \
         GROUP BY location_id, item_id, lot_id) m ON m.location_id = s.location_id AND m.item_id = s.item_id \
         AND m.lot_id = s.lot_id WHERE s.qty <> COALESCE(m.q, 0) LIMIT 100",
    )
    .fetch_all(pool)
    .await?;
    for r in &mismatched_lots {
        rep.problems.push(format!(
            "on-hand of item {} at {} lot '{}' is {} but its movements sum to {}",
            r.try_get::<String, _>("item_id")?,
            r.try_get::<String, _>("location_id")?,
            r.try_get::<String, _>("lot_id")?,
            Qty(r.try_get("qty")?),
            Qty(r.try_get("moved")?)
        ));
    }
    let orphan_moves = sqlx::query(
        "SELECT m.location_id, m.item_id, m.lot_id FROM (SELECT DISTINCT location_id, item_id, lot_id FROM inv_movements) m \
         LEFT JOIN inv_stock s ON s.location_id = m.location_id AND s.item_id = m.item_id AND s.lot_id = m.lot_id \
         WHERE s.item_id IS NULL LIMIT 100",
    )
    .fetch_all(pool)
    .await?;
    for r in &orphan_moves {
        rep.problems.push(format!(
            "item {} at {} lot '{}' has movements but no on-hand row",
            r.try_get::<String, _>("item_id")?,
            r.try_get::<String, _>("location_id")?,
            r.try_get::<String, _>("lot_id")?
        ));
    }
    let mismatched_vals = sqlx::query(
        "SELECT v.location_id, v.item_id, v.qty, v.value, COALESCE(m.q, 0) AS mq, COALESCE(m.v, 0) AS mv \
         FROM inv_valuation v LEFT JOIN (SELECT location_id, item_id, CAST(SUM(qty) AS BIGINT) AS q, \
         CAST(SUM(value) AS BIGINT) AS v FROM inv_movements GROUP BY location_id, item_id) m \
         ON m.location_id = v.location_id AND m.item_id = v.item_id \
         WHERE v.qty <> COALESCE(m.q, 0) OR v.value <> COALESCE(m.v, 0) LIMIT 100",
    )
    .fetch_all(pool)
    .await?;
    for r in &mismatched_vals {
        rep.problems.push(format!(
            "valuation of item {} at {} is {} / {} but its movements sum to {} / {}",
            r.try_get::<String, _>("item_id")?,
            r.try_get::<String, _>("location_id")?,
            Qty(r.try_get("qty")?),
            r.try_get::<i64, _>("value")?,
            Qty(r.try_get("mq")?),
            r.try_get::<i64, _>("mv")?
        ));
    }
    let missing_val = sqlx::query(
        "SELECT m.location_id, m.item_id FROM (SELECT DISTINCT location_id, item_id FROM inv_movements) m \
         LEFT JOIN inv_valuation v ON v.location_id = m.location_id AND v.item_id = m.item_id \
         WHERE v.item_id IS NULL LIMIT 100",
    )
    .fetch_all(pool)
    .await?;
    for r in &missing_val {
        rep.problems.push(format!(
            "item {} at {} has movements but no valuation row",
            r.try_get::<String, _>("item_id")?,
            r.try_get::<String, _>("location_id")?
        ));
    }
    let docless = one(
        "SELECT COUNT(*) FROM inv_movements m LEFT JOIN inv_docs d ON d.id = m.doc_id WHERE d.id IS NULL",
    )
    .await?;
    if docless > 0 {
        rep.problems
            .push(format!("{docless} movements have no document"));
    }
    let negative = sqlx::query(
        "SELECT s.location_id, s.item_id, s.lot_id, s.qty FROM inv_stock s \
         LEFT JOIN inv_location_settings ls ON ls.location_id = s.location_id \
         WHERE s.qty < 0 AND COALESCE(ls.negative_policy, 'forbid') = 'forbid' \
         AND NOT EXISTS (SELECT 1 FROM inv_movements m WHERE m.location_id = s.location_id \
         AND m.item_id = s.item_id AND m.lot_id = s.lot_id AND m.went_negative = 1) LIMIT 100",
    )
    .fetch_all(pool)
    .await?;
    for r in &negative {
        rep.problems.push(format!(
            "item {} at {} lot '{}' is negative ({}) where the location forbids it",
            r.try_get::<String, _>("item_id")?,
            r.try_get::<String, _>("location_id")?,
            r.try_get::<String, _>("lot_id")?,
            Qty(r.try_get("qty")?)
        ));
    }
    Ok(rep)
}

/// Stock totals of one location.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LocationSummary {
    pub location_id: String,
    /// Stock value in minor units.
    pub value: i64,
    /// Items with stock on hand (non-zero).
    pub items: i64,
    /// Items below their minimum (or par).
    pub low: i64,
    /// Items with negative on-hand.
    pub negative: i64,
}

/// Totals per location the actor may read (one aggregate query).
pub async fn summary_by_location(p: &Platform, actor: &Actor) -> Result<Vec<LocationSummary>> {
    let scope = actor.scope(perm::INVENTORY_READ);
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT v.location_id, CAST(COALESCE(SUM(v.value), 0) AS BIGINT) AS value, \
         CAST(COALESCE(SUM(CASE WHEN v.qty <> 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS items, \
         CAST(COALESCE(SUM(CASE WHEN COALESCE(il.min_qty, il.par_qty) IS NOT NULL AND v.qty < COALESCE(il.min_qty, il.par_qty) THEN 1 ELSE 0 END), 0) AS BIGINT) AS low, \
         CAST(COALESCE(SUM(CASE WHEN v.qty < 0 THEN 1 ELSE 0 END), 0) AS BIGINT) AS negative \
         FROM inv_valuation v LEFT JOIN inv_item_locations il ON il.location_id = v.location_id AND il.item_id = v.item_id \
         WHERE {} GROUP BY v.location_id",
        scope.sql("v.location_path")
    )))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LocationSummary {
                location_id: r.try_get("location_id")?,
                value: r.try_get("value")?,
                items: r.try_get("items")?,
                low: r.try_get("low")?,
                negative: r.try_get("negative")?,
            })
        })
        .collect()
}

/// Lot codes by lot id (for showing movements the caller may already read).
pub async fn lot_codes(p: &Platform, lot_ids: &[String]) -> Result<HashMap<String, String>> {
    let mut out = HashMap::new();
    for chunk in lot_ids.chunks(500) {
        if chunk.is_empty() {
            continue;
        }
        let sql = format!(
            "SELECT id, lot_code FROM inv_lots WHERE id IN ({})",
            in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind(id);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            out.insert(r.try_get("id")?, r.try_get("lot_code")?);
        }
    }
    Ok(out)
}
