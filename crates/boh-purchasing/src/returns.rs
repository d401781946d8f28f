//! Returns to the supplier against a receipt: per receipt line the quantity sent back (never
//! more than was accepted, less what went back before) and why. The goods leave stock in one
//! `return` document at the receipt's site (at the moving-average cost, like every decrease;
//! a site that forbids negative stock refuses a return of goods no longer there), and a
//! credit note for their order value is issued to the supplier, to be applied to its
//! invoices ([`crate::payment::apply_credit`]). The return, its lines, the receipt lines'
//! returned quantities, the stock document, the credit note, their events and audit rows
//! commit together. The order's received quantities do not change: the invoice is matched
//! against what was delivered, and the credit note settles what went back.

use std::collections::BTreeSet;

use boh_db::Row;
use boh_inventory::catalog::{self, Item};
use boh_inventory::ledger::{self, LotPick, PostDoc, PostLine, ValueSpec};
use boh_kernel::{Actor, Qty, id::new_id, now, perm};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use serde::{Deserialize, Serialize};

use crate::payment::{self, CreditNote};
use crate::po;
use crate::qty_of;

/// Why goods go back.
pub const REASONS: &[&str] = &[
    "damaged",
    "quality",
    "wrong_item",
    "expired",
    "temperature",
    "over_delivery",
    "other",
];

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnLineInput {
    /// The order line of the receipt line returned.
    pub line_no: i64,
    /// Quantity sent back, in the order line's pack unit.
    #[schema(value_type = String, example = "1")]
    pub qty: serde_json::Value,
    /// This line's reason, when it differs from the return's.
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnInput {
    pub lines: Vec<ReturnLineInput>,
    /// `damaged`, `quality`, `wrong_item`, `expired`, `temperature`, `over_delivery` or
    /// `other`.
    pub reason: String,
    #[serde(default)]
    pub note: Option<String>,
    /// The return's own key (e.g. the supplier's return authorisation): the same key again
    /// answers the first return and posts nothing.
    #[serde(default)]
    pub return_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReturnLine {
    pub po_line_no: i64,
    pub item_id: String,
    pub item_code: String,
    #[schema(value_type = String)]
    pub qty: Qty,
    pub reason: Option<String>,
    /// At the order price.
    pub value_minor: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SupplierReturn {
    pub id: String,
    pub receipt_id: String,
    pub po_id: String,
    pub po_number: String,
    pub supplier_id: String,
    pub location_id: String,
    /// The `return` stock document.
    pub doc_id: Option<String>,
    pub return_key: Option<String>,
    pub reason: String,
    pub note: Option<String>,
    pub value_minor: i64,
    pub created_by: String,
    pub created_at: String,
    pub lines: Vec<ReturnLine>,
    pub credit_note: Option<CreditNote>,
    pub replayed: bool,
}

struct Planned {
    line_no: i64,
    item: Item,
    qty: Qty,
    base_qty: i64,
    lot_code: Option<String>,
    reason: Option<String>,
    value: i64,
}

/// Return goods of a receipt to the supplier.
pub async fn create(
    p: &Platform,
    ctx: &Ctx,
    receipt_id: &str,
    input: &ReturnInput,
) -> Result<SupplierReturn> {
    if !boh_kernel::id::is_uuid(receipt_id) {
        return Err(PlatformError::NotFound);
    }
    let rec = crate::receipt::get(p, &ctx.actor, receipt_id).await?;
    let order = po::get(p, &ctx.actor, &rec.po_id).await?;
    let site = boh_platform::org::fetch(p, &order.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !ctx.actor.allows(perm::INVENTORY_MOVE_CREATE, &site.path) {
        return Err(PlatformError::Forbidden(perm::INVENTORY_MOVE_CREATE));
    }
    let trim = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let key = trim(&input.return_key);
    if key.as_deref().is_some_and(|k| k.chars().count() > 100) {
        return Err(PlatformError::invalid(
            "return_key",
            "at most 100 characters",
        ));
    }
    if let Some(k) = &key
        && let Some(done) = by_key(p, &ctx.actor, &rec.id, k).await?
    {
        return Ok(done);
    }
    let mut errors = Vec::new();
    let reason = input.reason.trim().to_string();
    if !REASONS.contains(&reason.as_str()) {
        errors.push(FieldError::new(
            "reason",
            format!("must be one of {}", REASONS.join(", ")),
        ));
    }
    let note = trim(&input.note);
    if note.as_deref().is_some_and(|n| n.chars().count() > 1000) {
        errors.push(FieldError::new("note", "at most 1,000 characters"));
    }
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "at least one line is required"));
    }
    // What each receipt line accepted and had returned before.
    let mut state: std::collections::HashMap<i64, (i64, i64, i64, Option<String>)> =
        std::collections::HashMap::new();
    for r in sqlx::query(
        "SELECT po_line_no, qty_accepted, qty_returned, value_minor, lot_code FROM po_receipt_lines WHERE receipt_id = $1",
    )
    .bind(&rec.id)
    .fetch_all(p.db.pool())
    .await?
    {
        state.insert(
            r.try_get("po_line_no")?,
            (
                r.try_get("qty_accepted")?,
                r.try_get("qty_returned")?,
                r.try_get("value_minor")?,
                r.try_get("lot_code")?,
            ),
        );
    }
    let item_ids: Vec<String> = rec.lines.iter().map(|l| l.item_id.clone()).collect();
    let items = catalog::fetch_items(p, &item_ids).await?;
    let mut seen = BTreeSet::new();
    let mut planned = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let f = |k: &str| format!("lines[{i}].{k}");
        let (Some(rl), Some(ol), Some(st)) = (
            rec.lines.iter().find(|x| x.po_line_no == l.line_no),
            order.lines.iter().find(|x| x.line_no == l.line_no),
            state.get(&l.line_no),
        ) else {
            errors.push(FieldError::new(
                &f("line_no"),
                format!("the receipt has no line for order line {}", l.line_no),
            ));
            continue;
        };
        if !seen.insert(l.line_no) {
            errors.push(FieldError::new(
                &f("line_no"),
                "this line is in the return already",
            ));
            continue;
        }
        let line_reason = trim(&l.reason);
        if line_reason
            .as_deref()
            .is_some_and(|r| !REASONS.contains(&r))
        {
            errors.push(FieldError::new(
                &f("reason"),
                format!("must be one of {}", REASONS.join(", ")),
            ));
        }
        let (accepted, returned, value, lot) = st;
        let qty = match qty_of(&l.qty) {
            Some(q) if q.micros() > 0 => q,
            Some(_) => {
                errors.push(FieldError::new(&f("qty"), "must be greater than zero"));
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
        let left = accepted - returned;
        if qty.micros() > left {
            errors.push(FieldError::new(
                &f("qty"),
                format!(
                    "at most {} {} can go back: {} accepted, {} returned before",
                    Qty(left.max(0)).to_text(),
                    ol.pack_unit,
                    Qty(*accepted).to_text(),
                    Qty(*returned).to_text()
                ),
            ));
            continue;
        }
        let Some(item) = items.iter().find(|x| x.id == rl.item_id).cloned() else {
            errors.push(FieldError::new(
                &f("line_no"),
                "the received item no longer exists",
            ));
            continue;
        };
        let base = if rl.substituted {
            item.conversions().to_base(qty, &ol.pack_unit)
        } else {
            qty.mul_div(ol.pack_factor.micros(), 1_000_000)
        };
        let Some(base) = base else {
            errors.push(FieldError::new(&f("qty"), "too large"));
            continue;
        };
        let v =
            boh_kernel::qty::mul_div_round(*value, qty.micros(), (*accepted).max(1)).unwrap_or(0);
        planned.push(Planned {
            line_no: l.line_no,
            item,
            qty,
            base_qty: base.micros(),
            lot_code: lot.clone(),
            reason: line_reason,
            value: v,
        });
    }
    if !errors.is_empty() {
        boh_inventory::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let id = new_id();
    let cn_id = new_id();
    let t = now().micros();
    let total: i64 = planned.iter().map(|l| l.value).sum();
    let day = jiff::Timestamp::now().strftime("%Y%m%d").to_string();
    let cn_number = format!("CN-{day}-{}", &cn_id[cn_id.len() - 8..].to_uppercase());
    let business_date = boh_inventory::today_in(&site.timezone).to_string();
    let backend = p.db.backend();
    let result = tx!(p.db, tx, {
        // Compare-and-set per line: a concurrent return of the same goods loses here.
        let mut late = Vec::new();
        for (i, l) in planned.iter().enumerate() {
            let n = sqlx::query(
                "UPDATE po_receipt_lines SET qty_returned = qty_returned + $1 \
                 WHERE receipt_id = $2 AND po_line_no = $3 AND qty_returned + $1 <= qty_accepted",
            )
            .bind(l.qty.micros())
            .bind(&rec.id)
            .bind(l.line_no)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                late.push(FieldError::new(
                    &format!("lines[{i}].qty"),
                    "more than is left to return (returned meanwhile); reload",
                ));
            }
        }
        if !late.is_empty() {
            return Err(PlatformError::Validation(late));
        }
        let mut lines = Vec::with_capacity(planned.len());
        for (i, l) in planned.iter().enumerate() {
            let lot = match (&l.lot_code, l.item.lot_tracked) {
                (Some(code), true) => {
                    LotPick::Lot(ledger::ensure_lot(tx, &l.item, code, None).await?)
                }
                (None, true) => LotPick::Fefo,
                _ => LotPick::NoLot,
            };
            lines.push(PostLine {
                item: l.item.clone(),
                lot,
                qty: -l.base_qty,
                value: ValueSpec::AtCost,
                kind: "return",
                reason: l.reason.clone().or_else(|| Some(reason.clone())),
                reverses_id: None,
                field: format!("lines[{i}]"),
            });
        }
        let doc = ledger::post_in(
            tx,
            backend,
            ctx,
            &PostDoc {
                location: site.clone(),
                kind: "return",
                business_date: business_date.clone(),
                reference: Some(order.number.clone()),
                note: note.clone(),
                source_type: Some("purchasing.return".into()),
                source_id: Some(id.clone()),
                reverses_id: None,
                lines,
                allow_negative: false,
            },
        )
        .await?;
        let inserted = sqlx::query(
            "INSERT INTO po_returns (id, receipt_id, po_id, supplier_id, location_id, location_path, doc_id, return_key, \
             reason, note, value_minor, created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13)",
        )
        .bind(&id)
        .bind(&rec.id)
        .bind(&order.id)
        .bind(&order.supplier_id)
        .bind(&site.id)
        .bind(&site.path)
        .bind(&doc.id)
        .bind(key.as_deref())
        .bind(&reason)
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
        for chunk in planned.chunks(300) {
            let sql = format!(
                "INSERT INTO po_return_lines (return_id, po_line_no, item_id, qty, reason, value_minor) VALUES {}",
                boh_platform::util::values_list(tx, chunk.len(), 6)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for l in chunk {
                q = q
                    .bind(id.clone())
                    .bind(l.line_no)
                    .bind(l.item.id.clone())
                    .bind(l.qty.micros())
                    .bind(l.reason.clone())
                    .bind(l.value);
            }
            q.execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO po_credit_notes (id, company_id, number, supplier_id, po_id, return_id, location_id, location_path, \
             currency, amount_minor, applied_minor, status, created_by, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,0,$11,$12,$13,$13)",
        )
        .bind(&cn_id)
        .bind(&order.company_id)
        .bind(&cn_number)
        .bind(&order.supplier_id)
        .bind(&order.id)
        .bind(&id)
        .bind(&site.id)
        .bind(&site.path)
        .bind(&order.currency)
        .bind(total)
        .bind(if total > 0 { "open" } else { "applied" })
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        let stock_value: i64 = doc.movements.iter().map(|m| m.value).sum();
        events::emit_many(
            tx,
            &[
                (
                    "purchasing.return.posted",
                    Some(site.path.as_str()),
                    serde_json::json!({
                        "return_id": id, "receipt_id": rec.id, "po_id": order.id, "po_number": order.number,
                        "company_id": order.company_id, "supplier_id": order.supplier_id,
                        "location_id": site.id, "doc_id": doc.id, "reason": reason,
                        "currency": order.currency, "value_minor": total,
                        "stock_value_minor": stock_value, "credit_note_id": cn_id,
                        "lines": planned.iter().map(|l| serde_json::json!({
                            "po_line_no": l.line_no, "item_id": l.item.id, "qty": l.qty,
                            "base_qty": Qty(l.base_qty), "value_minor": l.value, "reason": l.reason,
                        })).collect::<Vec<_>>(),
                    }),
                ),
                (
                    "purchasing.credit_note.issued",
                    Some(site.path.as_str()),
                    serde_json::json!({
                        "credit_note_id": cn_id, "number": cn_number, "company_id": order.company_id,
                        "supplier_id": order.supplier_id, "po_id": order.id, "return_id": id,
                        "location_id": site.id, "currency": order.currency, "amount_minor": total,
                    }),
                ),
            ],
        )
        .await?;
        audit::append_many(
            tx,
            ctx,
            &[
                audit::Change {
                    action: "purchasing.return.post",
                    entity_type: "po_return",
                    entity_id: &id,
                    org_path: Some(&site.path),
                    before: None,
                    after: Some(serde_json::json!({
                        "po": order.number, "receipt": rec.id, "value_minor": total,
                        "lines": planned.len(), "doc_id": doc.id, "reason": reason,
                    })),
                },
                audit::Change {
                    action: "purchasing.credit_note.issue",
                    entity_type: "po_credit_note",
                    entity_id: &cn_id,
                    org_path: Some(&site.path),
                    before: None,
                    after: Some(serde_json::json!({
                        "number": cn_number, "amount_minor": total, "return_id": id,
                    })),
                },
            ],
        )
        .await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(())
    });
    match result {
        Ok(()) => get(p, &ctx.actor, &id).await,
        Err(PlatformError::IdempotencyRace) => match &key {
            Some(k) => by_key(p, &ctx.actor, &rec.id, k)
                .await?
                .ok_or(PlatformError::IdempotencyRace),
            None => Err(PlatformError::IdempotencyRace),
        },
        Err(e) => Err(e),
    }
}

async fn by_key(
    p: &Platform,
    actor: &Actor,
    receipt_id: &str,
    key: &str,
) -> Result<Option<SupplierReturn>> {
    let id: Option<String> =
        sqlx::query("SELECT id FROM po_returns WHERE receipt_id = $1 AND return_key = $2")
            .bind(receipt_id)
            .bind(key)
            .fetch_optional(p.db.pool())
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?;
    match id {
        Some(id) => {
            let mut r = get(p, actor, &id).await?;
            r.replayed = true;
            Ok(Some(r))
        }
        None => Ok(None),
    }
}

/// One return (404 when its order is not visible).
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<SupplierReturn> {
    let r = sqlx::query(
        "SELECT r.id, r.receipt_id, r.po_id, o.number, r.supplier_id, r.location_id, r.doc_id, r.return_key, r.reason, \
         r.note, r.value_minor, u.display_name, r.created_at, c.id AS credit_note_id FROM po_returns r \
         JOIN purchase_orders o ON o.id = r.po_id LEFT JOIN users u ON u.id = r.created_by \
         LEFT JOIN po_credit_notes c ON c.return_id = r.id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let po_id: String = r.try_get("po_id")?;
    po::get(p, actor, &po_id).await?;
    let lines = sqlx::query(
        "SELECT l.po_line_no, l.item_id, i.code, l.qty, l.reason, l.value_minor FROM po_return_lines l \
         JOIN inv_items i ON i.id = l.item_id WHERE l.return_id = $1 ORDER BY l.po_line_no",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(|l| {
        Ok(ReturnLine {
            po_line_no: l.try_get("po_line_no")?,
            item_id: l.try_get("item_id")?,
            item_code: l.try_get("code")?,
            qty: Qty(l.try_get("qty")?),
            reason: l.try_get("reason")?,
            value_minor: l.try_get("value_minor")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let credit_note = match r.try_get::<Option<String>, _>("credit_note_id")? {
        // Whoever sees the order sees the credit note its return produced.
        Some(c) => Some(payment::credit_note(p, &Actor::system(), &c).await?),
        None => None,
    };
    Ok(SupplierReturn {
        id: r.try_get("id")?,
        receipt_id: r.try_get("receipt_id")?,
        po_id,
        po_number: r.try_get("number")?,
        supplier_id: r.try_get("supplier_id")?,
        location_id: r.try_get("location_id")?,
        doc_id: r.try_get("doc_id")?,
        return_key: r.try_get("return_key")?,
        reason: r.try_get("reason")?,
        note: r.try_get("note")?,
        value_minor: r.try_get("value_minor")?,
        created_by: r
            .try_get::<Option<String>, _>("display_name")?
            .unwrap_or_default(),
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        lines,
        credit_note,
        replayed: false,
    })
}

/// The returns of an order, oldest first.
pub async fn list_for(p: &Platform, actor: &Actor, po_id: &str) -> Result<Vec<SupplierReturn>> {
    po::get(p, actor, po_id).await?;
    let ids: Vec<String> =
        sqlx::query("SELECT id FROM po_returns WHERE po_id = $1 ORDER BY created_at, id")
            .bind(po_id)
            .fetch_all(p.db.pool())
            .await?
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<std::result::Result<_, _>>()?;
    let mut out = Vec::new();
    for id in ids {
        out.push(get(p, actor, &id).await?);
    }
    Ok(out)
}

/// What can still go back per receipt line: (order line, item code, pack unit, accepted,
/// returned).
pub async fn returnable(
    p: &Platform,
    actor: &Actor,
    receipt_id: &str,
) -> Result<Vec<(i64, String, String, Qty, Qty)>> {
    let rec = crate::receipt::get(p, actor, receipt_id).await?;
    let order = po::get(p, actor, &rec.po_id).await?;
    let mut out = Vec::new();
    for r in sqlx::query(
        "SELECT l.po_line_no, i.code, l.qty_accepted, l.qty_returned FROM po_receipt_lines l \
         JOIN inv_items i ON i.id = l.item_id WHERE l.receipt_id = $1 ORDER BY l.po_line_no",
    )
    .bind(&rec.id)
    .fetch_all(p.db.pool())
    .await?
    {
        let n: i64 = r.try_get("po_line_no")?;
        let unit = order
            .lines
            .iter()
            .find(|l| l.line_no == n)
            .map(|l| l.pack_unit.clone())
            .unwrap_or_default();
        out.push((
            n,
            r.try_get("code")?,
            unit,
            Qty(r.try_get("qty_accepted")?),
            Qty(r.try_get("qty_returned")?),
        ));
    }
    Ok(out)
}
