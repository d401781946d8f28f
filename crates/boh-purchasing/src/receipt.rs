//! Goods receipt against an approved purchase order: partial deliveries, short / over /
//! damaged, substitutions, lot and expiry, temperature at receipt for chilled and frozen
//! goods. What is accepted is posted to the stock ledger as one `receipt` document at the
//! order's site, valued at the order price; the receipt, the order's received quantities and
//! status, the stock and the `purchasing.receipt.posted` event commit together.

use std::collections::BTreeSet;

use boh_db::Row;
use boh_inventory::catalog::{self, Item};
use boh_inventory::ledger::{self, LotPick, PostDoc, PostLine, ValueSpec};
use boh_kernel::{Qty, id::new_id, now, perm};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use serde::{Deserialize, Serialize};

use crate::po::{self, PurchaseOrder};
use crate::qty_of;

/// Warmest acceptable temperature at receipt, in tenths of a degree Celsius.
pub const CHILLED_MAX_DC: i64 = 50;
pub const FROZEN_MAX_DC: i64 = -150;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptLineInput {
    /// The order line received against.
    pub line_no: i64,
    /// Accepted quantity in the order line's pack unit (0 when nothing usable came).
    #[schema(value_type = String, example = "2")]
    pub qty: serde_json::Value,
    /// Quantity refused as damaged (not put in stock), in the same unit.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub damaged: Option<serde_json::Value>,
    /// The item the supplier sent instead, by code (same pack unit).
    #[serde(default)]
    pub substitute_item_code: Option<String>,
    /// Lot of lot-tracked items (required for them).
    #[serde(default)]
    pub lot_code: Option<String>,
    /// `YYYY-MM-DD`; default the receipt date plus the item's shelf life.
    #[serde(default)]
    pub expiry_date: Option<String>,
    /// Temperature at receipt in °C (required for chilled and frozen goods), e.g. `"3.5"`.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "3.5")]
    pub temperature: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReceiptInput {
    pub lines: Vec<ReceiptLineInput>,
    #[serde(default)]
    pub note: Option<String>,
    /// The delivery's own key (e.g. the delivery note number): the same key again answers the
    /// first receipt and posts nothing.
    #[serde(default)]
    pub receipt_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReceiptLine {
    pub po_line_no: i64,
    pub item_id: String,
    pub item_code: String,
    pub substituted: bool,
    #[schema(value_type = String)]
    pub qty_accepted: Qty,
    #[schema(value_type = String)]
    pub qty_damaged: Qty,
    pub lot_code: Option<String>,
    pub expiry_date: Option<String>,
    /// Tenths of a degree Celsius.
    pub temperature_dc: Option<i64>,
    pub temperature_ok: Option<bool>,
    pub value_minor: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Receipt {
    pub id: String,
    pub po_id: String,
    pub doc_id: Option<String>,
    pub receipt_key: Option<String>,
    pub note: Option<String>,
    pub value_minor: i64,
    pub received_by: String,
    pub received_at: String,
    pub lines: Vec<ReceiptLine>,
    /// The order after this receipt.
    pub order_status: String,
    /// Order lines still short after this receipt (line number → quantity missing).
    pub short: Vec<(i64, String)>,
    /// Order lines received beyond what was ordered.
    pub over: Vec<(i64, String)>,
    pub replayed: bool,
}

/// Tenths of a degree from "3.5" / -18 / "-18.2".
fn tenths(v: &serde_json::Value) -> Option<i64> {
    let q = qty_of(v)?;
    let m = q.micros();
    if m % 100_000 != 0 || !(-100_000_000..=100_000_000).contains(&m) {
        return None;
    }
    Some(m / 100_000)
}

struct Planned {
    line_no: i64,
    item: Item,
    substituted: bool,
    accepted: Qty,
    damaged: Qty,
    /// Accepted quantity in the item's base unit.
    base_qty: i64,
    lot_code: Option<String>,
    expiry: Option<String>,
    temp: Option<i64>,
    temp_ok: Option<bool>,
    value: i64,
}

/// Receive goods against an order.
pub async fn receive(
    p: &Platform,
    ctx: &Ctx,
    po_id: &str,
    input: &ReceiptInput,
) -> Result<Receipt> {
    let order = po::get(p, &ctx.actor, po_id).await?;
    let site = boh_platform::org::fetch(p, &order.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !ctx.actor.allows(perm::INVENTORY_MOVE_CREATE, &site.path) {
        return Err(PlatformError::Forbidden(perm::INVENTORY_MOVE_CREATE));
    }
    let key = input
        .receipt_key
        .as_deref()
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string);
    if key.as_deref().is_some_and(|k| k.chars().count() > 100) {
        return Err(PlatformError::invalid(
            "receipt_key",
            "at most 100 characters",
        ));
    }
    if let Some(k) = &key
        && let Some(done) = by_key(p, &order, k).await?
    {
        return Ok(done);
    }
    if order.status != po::status::APPROVED && order.status != po::status::PARTIAL {
        return Err(PlatformError::conflict(
            "status",
            format!(
                "order {} is {}; goods are received against approved orders",
                order.number, order.status
            ),
        ));
    }
    let planned = plan(p, &order, input).await?;
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let id = new_id();
    let t = now().micros();
    let total: i64 = planned.iter().map(|l| l.value).sum();
    let business_date = boh_inventory::today_in(&site.timezone).to_string();
    let result = tx!(p.db, tx, {
        // Lots first (new lots are created inside this transaction).
        let mut lines = Vec::new();
        for (i, l) in planned.iter().enumerate() {
            if l.base_qty == 0 {
                continue;
            }
            let lot = match (&l.lot_code, l.item.lot_tracked) {
                (Some(code), true) => {
                    LotPick::Lot(ledger::ensure_lot(tx, &l.item, code, l.expiry.as_deref()).await?)
                }
                _ => LotPick::NoLot,
            };
            lines.push(PostLine {
                item: l.item.clone(),
                lot,
                qty: l.base_qty,
                value: ValueSpec::Known(l.value),
                kind: "receipt",
                reason: None,
                reverses_id: None,
                field: format!("lines[{i}]"),
            });
        }
        let doc_id = if lines.is_empty() {
            None
        } else {
            Some(
                ledger::post_in(
                    tx,
                    p.db.backend(),
                    ctx,
                    &PostDoc {
                        location: site.clone(),
                        kind: "receipt",
                        business_date: business_date.clone(),
                        reference: Some(order.number.clone()),
                        note: note.clone(),
                        source_type: Some("purchasing.receipt".into()),
                        source_id: Some(id.clone()),
                        reverses_id: None,
                        lines,
                        allow_negative: true,
                    },
                )
                .await?
                .id,
            )
        };
        let inserted = sqlx::query(
            "INSERT INTO po_receipts (id, po_id, location_id, location_path, doc_id, receipt_key, note, value_minor, \
             received_by, received_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
        )
        .bind(&id)
        .bind(&order.id)
        .bind(&site.id)
        .bind(&site.path)
        .bind(doc_id.as_deref())
        .bind(key.as_deref())
        .bind(note.as_deref())
        .bind(total)
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(e) if boh_db::is_unique_violation(&e) => {
                return Err(PlatformError::IdempotencyRace);
            }
            r => {
                r?;
            }
        }
        for chunk in planned.chunks(400) {
            let sql = format!(
                "INSERT INTO po_receipt_lines (receipt_id, po_line_no, item_id, substituted, qty_accepted, qty_damaged, \
                 lot_code, expiry_date, temperature_dc, temperature_ok, value_minor) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 11)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for l in chunk {
                q = q
                    .bind(id.clone())
                    .bind(l.line_no)
                    .bind(l.item.id.clone())
                    .bind(i64::from(l.substituted))
                    .bind(l.accepted.micros())
                    .bind(l.damaged.micros())
                    .bind(l.lot_code.clone())
                    .bind(l.expiry.clone())
                    .bind(l.temp)
                    .bind(l.temp_ok.map(i64::from))
                    .bind(l.value);
            }
            q.execute(&mut *tx).await?;
        }
        // The received quantities of the order lines, from this receipt's lines.
        sqlx::query(
            "UPDATE purchase_order_lines SET qty_received = qty_received + COALESCE((SELECT SUM(r.qty_accepted) \
             FROM po_receipt_lines r WHERE r.receipt_id = $1 AND r.po_line_no = purchase_order_lines.line_no), 0) \
             WHERE po_id = $2",
        )
        .bind(&id)
        .bind(&order.id)
        .execute(&mut *tx)
        .await?;
        // Received in full when no line is short any more.
        let short: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM purchase_order_lines WHERE po_id = $1 AND qty_received < qty",
        )
        .bind(&order.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let status = if short == 0 {
            po::status::RECEIVED
        } else {
            po::status::PARTIAL
        };
        sqlx::query(
            "UPDATE purchase_orders SET status = $1, updated_at = $2, version = version + 1 WHERE id = $3",
        )
        .bind(status)
        .bind(t)
        .bind(&order.id)
        .execute(&mut *tx)
        .await?;
        let payload = serde_json::json!({
            "receipt_id": id, "po_id": order.id, "po_number": order.number,
            "supplier_id": order.supplier_id, "location_id": site.id, "doc_id": doc_id,
            "currency": order.currency, "value_minor": total, "order_status": status,
            "lines": planned.iter().map(|l| serde_json::json!({
                "line_no": l.line_no, "item_id": l.item.id, "qty_accepted": l.accepted,
                "qty_damaged": l.damaged, "value_minor": l.value, "substituted": l.substituted,
                "temperature_ok": l.temp_ok,
            })).collect::<Vec<_>>(),
        });
        events::emit(tx, "purchasing.receipt.posted", Some(&site.path), &payload).await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.receipt.post",
                entity_type: "po_receipt",
                entity_id: &id,
                org_path: Some(&site.path),
                before: Some(serde_json::json!({"status": order.status})),
                after: Some(serde_json::json!({
                    "po": order.number, "value_minor": total, "status": status,
                    "lines": planned.len(), "doc_id": doc_id,
                })),
            },
        )
        .await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(())
    });
    match result {
        Ok(()) => get(p, &ctx.actor, &id).await,
        Err(PlatformError::IdempotencyRace) => match &key {
            Some(k) => by_key(p, &order, k)
                .await?
                .ok_or(PlatformError::IdempotencyRace),
            None => Err(PlatformError::IdempotencyRace),
        },
        Err(e) => Err(e),
    }
}

async fn plan(p: &Platform, order: &PurchaseOrder, input: &ReceiptInput) -> Result<Vec<Planned>> {
    let mut errors = Vec::new();
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "at least one line is required"));
    }
    if input
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 1000)
    {
        errors.push(FieldError::new("note", "at most 1,000 characters"));
    }
    let ids: Vec<String> = order.lines.iter().map(|l| l.item_id.clone()).collect();
    let items = catalog::fetch_items(p, &ids).await?;
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let f = |k: &str| format!("lines[{i}].{k}");
        let Some(ol) = order.lines.iter().find(|x| x.line_no == l.line_no) else {
            errors.push(FieldError::new(
                &f("line_no"),
                format!("order {} has no line {}", order.number, l.line_no),
            ));
            continue;
        };
        if !seen.insert(l.line_no) {
            errors.push(FieldError::new(
                &f("line_no"),
                "this order line is already in the receipt",
            ));
            continue;
        }
        let accepted = match qty_of(&l.qty) {
            Some(q) if q.micros() >= 0 => q,
            Some(_) => {
                errors.push(FieldError::new(&f("qty"), "must not be negative"));
                continue;
            }
            None => {
                errors.push(FieldError::new(
                    &f("qty"),
                    "a decimal number such as 3 or 2.5",
                ));
                continue;
            }
        };
        let damaged = match l.damaged.as_ref().map(qty_of) {
            None => Qty(0),
            Some(Some(q)) if q.micros() >= 0 => q,
            Some(_) => {
                errors.push(FieldError::new(&f("damaged"), "a quantity of zero or more"));
                continue;
            }
        };
        if accepted.micros() == 0 && damaged.micros() == 0 {
            errors.push(FieldError::new(
                &f("qty"),
                "nothing accepted or refused on this line; leave the line out",
            ));
            continue;
        }
        let ordered_item = items.iter().find(|x| x.id == ol.item_id).cloned();
        let Some(ordered_item) = ordered_item else {
            errors.push(FieldError::new(
                &f("line_no"),
                "the ordered item no longer exists",
            ));
            continue;
        };
        let (item, substituted) = match l
            .substitute_item_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            Some(code) => match catalog::find_item_by_code(p, &order.company_id, code).await? {
                Some(it) if it.stocked && it.id != ordered_item.id => (it, true),
                Some(it) if it.id == ordered_item.id => (it, false),
                Some(_) => {
                    errors.push(FieldError::new(
                        &f("substitute_item_code"),
                        format!("item {code} is not kept in stock"),
                    ));
                    continue;
                }
                None => {
                    errors.push(FieldError::new(
                        &f("substitute_item_code"),
                        format!("no item {code}"),
                    ));
                    continue;
                }
            },
            None => (ordered_item, false),
        };
        // Base quantity: the pack unit through the received item's own conversions.
        let base = if substituted {
            match item.conversions().to_base(accepted, &ol.pack_unit) {
                Some(b) => b,
                None => {
                    errors.push(FieldError::new(
                        &f("substitute_item_code"),
                        format!(
                            "item {} has no conversion from {} (the order line's unit)",
                            item.code, ol.pack_unit
                        ),
                    ));
                    continue;
                }
            }
        } else {
            match accepted.mul_div(ol.pack_factor.micros(), 1_000_000) {
                Some(b) => b,
                None => {
                    errors.push(FieldError::new(&f("qty"), "too large"));
                    continue;
                }
            }
        };
        let lot_code = l
            .lot_code
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string);
        if item.lot_tracked && accepted.micros() > 0 && lot_code.is_none() {
            errors.push(FieldError::new(
                &f("lot_code"),
                format!("item {} is tracked by lot; give the lot code", item.code),
            ));
        }
        if lot_code.as_deref().is_some_and(|c| c.chars().count() > 64) {
            errors.push(FieldError::new(&f("lot_code"), "at most 64 characters"));
        }
        let expiry = match l
            .expiry_date
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            Some(d) => {
                boh_inventory::validate_date(&mut errors, &f("expiry_date"), d);
                Some(d.to_string())
            }
            None => None,
        };
        let temp = match &l.temperature {
            None => None,
            Some(v) => match tenths(v) {
                Some(t) => Some(t),
                None => {
                    errors.push(FieldError::new(
                        &f("temperature"),
                        "degrees Celsius with at most one decimal, e.g. 3.5 or -18",
                    ));
                    continue;
                }
            },
        };
        let limit = match item.storage_type.as_str() {
            "chilled" => Some(CHILLED_MAX_DC),
            "frozen" => Some(FROZEN_MAX_DC),
            _ => None,
        };
        if limit.is_some() && temp.is_none() && accepted.micros() > 0 {
            errors.push(FieldError::new(
                &f("temperature"),
                format!(
                    "item {} is {}; record its temperature at receipt",
                    item.code, item.storage_type
                ),
            ));
        }
        let temp_ok = match (limit, temp) {
            (Some(max), Some(t)) => Some(t <= max),
            _ => None,
        };
        let value =
            boh_kernel::qty::mul_div_round(accepted.micros(), ol.unit_price_minor, 1_000_000)
                .unwrap_or(i64::MAX);
        out.push(Planned {
            line_no: ol.line_no,
            item,
            substituted,
            accepted,
            damaged,
            base_qty: base.micros(),
            lot_code,
            expiry,
            temp,
            temp_ok,
            value,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(PlatformError::Validation(errors))
    }
}

async fn by_key(p: &Platform, order: &PurchaseOrder, key: &str) -> Result<Option<Receipt>> {
    let id: Option<String> =
        sqlx::query("SELECT id FROM po_receipts WHERE po_id = $1 AND receipt_key = $2")
            .bind(&order.id)
            .bind(key)
            .fetch_optional(p.db.pool())
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?;
    match id {
        Some(id) => {
            let mut r = get_unscoped(p, &id).await?;
            r.replayed = true;
            Ok(Some(r))
        }
        None => Ok(None),
    }
}

/// One receipt (404 when its order is not visible).
pub async fn get(p: &Platform, actor: &boh_kernel::Actor, id: &str) -> Result<Receipt> {
    let r = get_unscoped(p, id).await?;
    po::get(p, actor, &r.po_id).await?;
    Ok(r)
}

async fn get_unscoped(p: &Platform, id: &str) -> Result<Receipt> {
    let r = sqlx::query(
        "SELECT r.id, r.po_id, r.doc_id, r.receipt_key, r.note, r.value_minor, u.display_name, r.received_at, \
         o.status FROM po_receipts r JOIN purchase_orders o ON o.id = r.po_id LEFT JOIN users u ON u.id = r.received_by \
         WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let po_id: String = r.try_get("po_id")?;
    let rows = sqlx::query(
        "SELECT l.po_line_no, l.item_id, i.code, l.substituted, l.qty_accepted, l.qty_damaged, l.lot_code, \
         l.expiry_date, l.temperature_dc, l.temperature_ok, l.value_minor FROM po_receipt_lines l \
         JOIN inv_items i ON i.id = l.item_id WHERE l.receipt_id = $1 ORDER BY l.po_line_no",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    let mut lines = Vec::new();
    for l in rows {
        lines.push(ReceiptLine {
            po_line_no: l.try_get("po_line_no")?,
            item_id: l.try_get("item_id")?,
            item_code: l.try_get("code")?,
            substituted: l.try_get::<i64, _>("substituted")? != 0,
            qty_accepted: Qty(l.try_get("qty_accepted")?),
            qty_damaged: Qty(l.try_get("qty_damaged")?),
            lot_code: l.try_get("lot_code")?,
            expiry_date: l.try_get("expiry_date")?,
            temperature_dc: l.try_get("temperature_dc")?,
            temperature_ok: l
                .try_get::<Option<i64>, _>("temperature_ok")?
                .map(|v| v != 0),
            value_minor: l.try_get("value_minor")?,
        });
    }
    let mut short = Vec::new();
    let mut over = Vec::new();
    for l in sqlx::query(
        "SELECT line_no, qty, qty_received FROM purchase_order_lines WHERE po_id = $1 ORDER BY line_no",
    )
    .bind(&po_id)
    .fetch_all(p.db.pool())
    .await?
    {
        let n: i64 = l.try_get("line_no")?;
        let q: i64 = l.try_get("qty")?;
        let got: i64 = l.try_get("qty_received")?;
        if got < q {
            short.push((n, Qty(q - got).to_text()));
        } else if got > q {
            over.push((n, Qty(got - q).to_text()));
        }
    }
    Ok(Receipt {
        id: r.try_get("id")?,
        po_id,
        doc_id: r.try_get("doc_id")?,
        receipt_key: r.try_get("receipt_key")?,
        note: r.try_get("note")?,
        value_minor: r.try_get("value_minor")?,
        received_by: r
            .try_get::<Option<String>, _>("display_name")?
            .unwrap_or_default(),
        received_at: boh_kernel::Instant(r.try_get("received_at")?).rfc3339(),
        lines,
        order_status: r.try_get("status")?,
        short,
        over,
        replayed: false,
    })
}

/// The receipts of an order, oldest first.
pub async fn list_for(
    p: &Platform,
    actor: &boh_kernel::Actor,
    po_id: &str,
) -> Result<Vec<Receipt>> {
    po::get(p, actor, po_id).await?;
    let ids: Vec<String> =
        sqlx::query("SELECT id FROM po_receipts WHERE po_id = $1 ORDER BY received_at, id")
            .bind(po_id)
            .fetch_all(p.db.pool())
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
    let mut out = Vec::new();
    for id in ids {
        out.push(get_unscoped(p, &id).await?);
    }
    Ok(out)
}
