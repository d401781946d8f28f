//! Settling supplier invoices: payments recorded against invoices approved for payment, and
//! credit notes (from returns, [`crate::returns`]) applied to invoices of the same supplier.
//! Each takes the invoice to `partially_paid` and, when nothing is left, `paid`. Nothing is
//! paid or credited beyond what is due: the amounts are guarded by compare-and-set, so two
//! concurrent payments cannot together exceed it.

use boh_db::Row;
use boh_kernel::{Actor, id::new_id, now, perm};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use serde::{Deserialize, Serialize};

use crate::invoice::{self, CreditApplication, Invoice, Payment, status};

/// How a supplier was paid.
pub const METHODS: &[&str] = &[
    "bank_transfer",
    "cash",
    "cheque",
    "card",
    "wechat",
    "alipay",
    "other",
];

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// Minor units, at most what is still due.
    #[schema(minimum = 1, maximum = 1_000_000_000_000_i64)]
    pub amount_minor: i64,
    /// `bank_transfer`, `cash`, `cheque`, `card`, `wechat`, `alipay` or `other`.
    pub method: String,
    /// The bank's or the supplier's reference.
    #[serde(default)]
    pub reference: Option<String>,
    /// `YYYY-MM-DD`; default today.
    #[serde(default)]
    pub paid_on: Option<String>,
    /// The payment's own key for retries: the same key again answers the first payment.
    #[serde(default)]
    pub payment_key: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Payable invoices are approved and not paid in full.
fn is_payable(st: &str) -> bool {
    st == status::APPROVED || st == status::PARTIAL
}

fn overpayment(amount: i64, inv: &Invoice, due: i64) -> PlatformError {
    PlatformError::Refused {
        code: "overpayment",
        message: format!(
            "{} is more than the {} still due on invoice {}",
            boh_kernel::qty::money_text(amount),
            boh_kernel::qty::money_text(due),
            inv.invoice_no
        ),
        fields: vec![FieldError::new(
            "amount_minor",
            format!("at most {} is due", boh_kernel::qty::money_text(due)),
        )],
    }
}

/// Record a payment of an invoice approved for payment. More than is due is refused
/// (`overpayment`).
pub async fn record(
    p: &Platform,
    ctx: &Ctx,
    invoice_id: &str,
    input: &PaymentInput,
) -> Result<Payment> {
    let inv = invoice::get(p, &ctx.actor, invoice_id).await?;
    let path = location_path(p, &inv.location_id).await?;
    if !ctx.actor.allows(perm::PURCHASING_PAYMENT, &path) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_PAYMENT));
    }
    let trim = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let key = trim(&input.payment_key);
    let reference = trim(&input.reference);
    let note = trim(&input.note);
    let mut errors = Vec::new();
    if !(1..=1_000_000_000_000).contains(&input.amount_minor) {
        errors.push(FieldError::new("amount_minor", "must be positive"));
    }
    let method = input.method.trim().to_string();
    if !METHODS.contains(&method.as_str()) {
        errors.push(FieldError::new(
            "method",
            format!("must be one of {}", METHODS.join(", ")),
        ));
    }
    if reference
        .as_deref()
        .is_some_and(|r| r.chars().count() > 100)
    {
        errors.push(FieldError::new("reference", "at most 100 characters"));
    }
    if note.as_deref().is_some_and(|r| r.chars().count() > 500) {
        errors.push(FieldError::new("note", "at most 500 characters"));
    }
    if key.as_deref().is_some_and(|r| r.chars().count() > 100) {
        errors.push(FieldError::new("payment_key", "at most 100 characters"));
    }
    let site = boh_platform::org::fetch(p, &inv.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    let today = boh_inventory::today_in(&site.timezone);
    let paid_on = match trim(&input.paid_on) {
        Some(d) => match boh_inventory::validate_date(&mut errors, "paid_on", &d) {
            Some(x) if x > today.tomorrow().unwrap_or(today) => {
                errors.push(FieldError::new("paid_on", "cannot be in the future"));
                d
            }
            _ => d,
        },
        None => today.to_string(),
    };
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    if let Some(k) = &key
        && let Some(done) = payment_by_key(p, &inv.id, k).await?
    {
        if done.amount_minor != input.amount_minor || done.method != method {
            return Err(PlatformError::IdempotencyMismatch);
        }
        return Ok(Payment {
            replayed: true,
            ..done
        });
    }
    if !is_payable(&inv.status) {
        return Err(PlatformError::conflict(
            "status",
            format!(
                "invoice {} is {}; only invoices approved for payment are paid",
                inv.invoice_no, inv.status
            ),
        ));
    }
    if input.amount_minor > inv.due_minor {
        return Err(overpayment(input.amount_minor, &inv, inv.due_minor));
    }
    let id = new_id();
    let t = now().micros();
    let amount = input.amount_minor;
    let result = tx!(p.db, tx, {
        // Compare-and-set: a concurrent payment that took the rest makes this one refused.
        let n = sqlx::query(
            "UPDATE po_invoices SET paid_minor = paid_minor + $1, \
             status = CASE WHEN gross_minor - credited_minor - paid_minor - $1 = 0 THEN 'paid' ELSE 'partially_paid' END, \
             updated_at = $2, version = version + 1 \
             WHERE id = $3 AND status IN ('approved', 'partially_paid') AND gross_minor - credited_minor - paid_minor >= $1",
        )
        .bind(amount)
        .bind(t)
        .bind(&inv.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::conflict(
                "amount_minor",
                "the invoice was paid or credited meanwhile; reload it",
            ));
        }
        let inserted = sqlx::query(
            "INSERT INTO po_payments (id, invoice_id, amount_minor, method, reference, paid_on, payment_key, note, \
             recorded_by, recorded_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
        )
        .bind(&id)
        .bind(&inv.id)
        .bind(amount)
        .bind(&method)
        .bind(reference.as_deref())
        .bind(&paid_on)
        .bind(key.as_deref())
        .bind(note.as_deref())
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
        let after = sqlx::query("SELECT status, gross_minor - credited_minor - paid_minor AS due FROM po_invoices WHERE id = $1")
            .bind(&inv.id)
            .fetch_one(&mut *tx)
            .await?;
        let st: String = after.try_get("status")?;
        let due: i64 = after.try_get("due")?;
        events::emit(
            tx,
            "purchasing.payment.recorded",
            Some(&path),
            &serde_json::json!({
                "payment_id": id, "invoice_id": inv.id, "invoice_no": inv.invoice_no,
                "company_id": inv.company_id, "supplier_id": inv.supplier_id,
                "supplier_code": inv.supplier_code, "po_id": inv.po_id, "location_id": inv.location_id,
                "currency": inv.currency, "amount_minor": amount, "method": method,
                "reference": reference, "paid_on": paid_on, "invoice_status": st, "due_minor": due,
            }),
        )
        .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.payment.record",
                entity_type: "po_payment",
                entity_id: &id,
                org_path: Some(&path),
                before: Some(serde_json::json!({"status": inv.status, "due_minor": inv.due_minor})),
                after: Some(serde_json::json!({
                    "invoice": inv.invoice_no, "amount_minor": amount, "method": method,
                    "status": st, "due_minor": due,
                })),
            },
        )
        .await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(())
    });
    match result {
        Ok(()) => payment(p, &id).await,
        Err(PlatformError::IdempotencyRace) => match &key {
            Some(k) => payment_by_key(p, &inv.id, k)
                .await?
                .map(|x| Payment {
                    replayed: true,
                    ..x
                })
                .ok_or(PlatformError::IdempotencyRace),
            None => Err(PlatformError::IdempotencyRace),
        },
        Err(PlatformError::Conflict { .. }) => {
            // Refused by the compare-and-set: say why, from the invoice as it is now.
            let now_inv = invoice::get(p, &ctx.actor, invoice_id).await?;
            if !is_payable(&now_inv.status) {
                Err(PlatformError::conflict(
                    "status",
                    format!("invoice {} is {}", now_inv.invoice_no, now_inv.status),
                ))
            } else {
                Err(overpayment(amount, &now_inv, now_inv.due_minor))
            }
        }
        Err(e) => Err(e),
    }
}

async fn location_path(p: &Platform, id: &str) -> Result<String> {
    Ok(boh_platform::org::fetch(p, id)
        .await?
        .ok_or(PlatformError::NotFound)?
        .path)
}

const PAYMENT_SQL: &str = "SELECT y.id, y.invoice_id, y.amount_minor, y.method, y.reference, y.paid_on, y.note, \
    u.display_name AS recorder, y.recorded_at FROM po_payments y LEFT JOIN users u ON u.id = y.recorded_by";

fn payment_from(r: &boh_db::AnyRow) -> Result<Payment> {
    Ok(Payment {
        id: r.try_get("id")?,
        invoice_id: r.try_get("invoice_id")?,
        amount_minor: r.try_get("amount_minor")?,
        method: r.try_get("method")?,
        reference: r.try_get("reference")?,
        paid_on: r.try_get("paid_on")?,
        note: r.try_get("note")?,
        recorded_by: r
            .try_get::<Option<String>, _>("recorder")?
            .unwrap_or_default(),
        recorded_at: boh_kernel::Instant(r.try_get("recorded_at")?).rfc3339(),
        replayed: false,
    })
}

async fn payment(p: &Platform, id: &str) -> Result<Payment> {
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{PAYMENT_SQL} WHERE y.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    payment_from(&r)
}

async fn payment_by_key(p: &Platform, invoice_id: &str, key: &str) -> Result<Option<Payment>> {
    sqlx::query(boh_db::AssertSqlSafe(format!(
        "{PAYMENT_SQL} WHERE y.invoice_id = $1 AND y.payment_key = $2"
    )))
    .bind(invoice_id)
    .bind(key)
    .fetch_optional(p.db.pool())
    .await?
    .map(|r| payment_from(&r))
    .transpose()
}

/// The payments of an invoice, oldest first (unscoped: the caller checked the invoice).
pub(crate) async fn payments_of(p: &Platform, invoice_id: &str) -> Result<Vec<Payment>> {
    sqlx::query(boh_db::AssertSqlSafe(format!(
        "{PAYMENT_SQL} WHERE y.invoice_id = $1 ORDER BY y.recorded_at, y.id"
    )))
    .bind(invoice_id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(payment_from)
    .collect()
}

/// The payments of an invoice the actor may see.
pub async fn list_payments(p: &Platform, actor: &Actor, invoice_id: &str) -> Result<Vec<Payment>> {
    let inv = invoice::get(p, actor, invoice_id).await?;
    Ok(inv.payments)
}

const APPLICATION_SQL: &str = "SELECT a.id, a.credit_note_id, c.number, a.invoice_id, a.amount_minor, \
    u.display_name AS applier, a.applied_at FROM po_credit_applications a \
    JOIN po_credit_notes c ON c.id = a.credit_note_id LEFT JOIN users u ON u.id = a.applied_by";

fn application_from(r: &boh_db::AnyRow) -> Result<CreditApplication> {
    Ok(CreditApplication {
        id: r.try_get("id")?,
        credit_note_id: r.try_get("credit_note_id")?,
        credit_note_number: r.try_get("number")?,
        invoice_id: r.try_get("invoice_id")?,
        amount_minor: r.try_get("amount_minor")?,
        applied_by: r
            .try_get::<Option<String>, _>("applier")?
            .unwrap_or_default(),
        applied_at: boh_kernel::Instant(r.try_get("applied_at")?).rfc3339(),
    })
}

/// Credit notes applied to an invoice (unscoped).
pub(crate) async fn credits_of(p: &Platform, invoice_id: &str) -> Result<Vec<CreditApplication>> {
    sqlx::query(boh_db::AssertSqlSafe(format!(
        "{APPLICATION_SQL} WHERE a.invoice_id = $1 ORDER BY a.applied_at, a.id"
    )))
    .bind(invoice_id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(application_from)
    .collect()
}

// ---------------------------------------------------------------- credit notes

/// What a supplier owes back (from a return), applied to its invoices.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditNote {
    pub id: String,
    pub number: String,
    pub company_id: String,
    pub supplier_id: String,
    pub supplier_code: String,
    pub po_id: String,
    pub po_number: String,
    pub return_id: Option<String>,
    pub location_id: String,
    pub location_code: String,
    pub currency: String,
    pub amount_minor: i64,
    pub applied_minor: i64,
    /// Not applied yet.
    pub remaining_minor: i64,
    /// `open` or `applied`.
    pub status: String,
    pub created_by: String,
    pub created_at: String,
    pub applications: Vec<CreditApplication>,
}

const CREDIT_SQL: &str = "SELECT c.id, c.number, c.company_id, c.supplier_id, s.code AS supplier_code, c.po_id, \
    o.number AS po_number, c.return_id, c.location_id, n.code AS location_code, c.location_path, c.currency, \
    c.amount_minor, c.applied_minor, c.status, u.display_name AS creator, c.created_at FROM po_credit_notes c \
    LEFT JOIN inv_suppliers s ON s.id = c.supplier_id LEFT JOIN purchase_orders o ON o.id = c.po_id \
    LEFT JOIN org_nodes n ON n.id = c.location_id LEFT JOIN users u ON u.id = c.created_by";

fn credit_from(r: &boh_db::AnyRow) -> Result<CreditNote> {
    let amount: i64 = r.try_get("amount_minor")?;
    let applied: i64 = r.try_get("applied_minor")?;
    Ok(CreditNote {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        company_id: r.try_get("company_id")?,
        supplier_id: r.try_get("supplier_id")?,
        supplier_code: r
            .try_get::<Option<String>, _>("supplier_code")?
            .unwrap_or_default(),
        po_id: r.try_get("po_id")?,
        po_number: r
            .try_get::<Option<String>, _>("po_number")?
            .unwrap_or_default(),
        return_id: r.try_get("return_id")?,
        location_id: r.try_get("location_id")?,
        location_code: r
            .try_get::<Option<String>, _>("location_code")?
            .unwrap_or_default(),
        currency: r.try_get("currency")?,
        amount_minor: amount,
        applied_minor: applied,
        remaining_minor: amount - applied,
        status: r.try_get("status")?,
        created_by: r
            .try_get::<Option<String>, _>("creator")?
            .unwrap_or_default(),
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        applications: Vec::new(),
    })
}

/// One credit note with its applications (404 outside the actor's scope).
pub async fn credit_note(p: &Platform, actor: &Actor, id: &str) -> Result<CreditNote> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let scope = invoice::read_scope(actor, "c.location_path");
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{CREDIT_SQL} WHERE c.id = $1 AND {scope}"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let mut c = credit_from(&r)?;
    c.applications = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{APPLICATION_SQL} WHERE a.credit_note_id = $1 ORDER BY a.applied_at, a.id"
    )))
    .bind(id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(application_from)
    .collect::<Result<_>>()?;
    Ok(c)
}

/// Filters of the credit note list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct CreditFilter {
    pub supplier_id: Option<String>,
    /// `open` or `applied`.
    pub status: Option<String>,
    pub po_id: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Credit notes in the actor's scope, newest first.
pub async fn credit_notes(
    p: &Platform,
    actor: &Actor,
    f: &CreditFilter,
) -> Result<(Vec<CreditNote>, i64)> {
    let mut conds = vec![invoice::read_scope(actor, "c.location_path")];
    let mut binds: Vec<String> = Vec::new();
    for (col, v) in [
        ("c.supplier_id", &f.supplier_id),
        ("c.status", &f.status),
        ("c.po_id", &f.po_id),
    ] {
        if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
            binds.push(v.to_string());
            conds.push(format!("{col} = ${}", binds.len()));
        }
    }
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    let wh = conds.join(" AND ");
    let mut q = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{CREDIT_SQL} WHERE {wh} ORDER BY c.id DESC LIMIT {limit} OFFSET {offset}"
    )));
    let mut qc = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM po_credit_notes c WHERE {wh}"
    )));
    for b in &binds {
        q = q.bind(b.clone());
        qc = qc.bind(b.clone());
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    let total: i64 = qc.fetch_one(p.db.pool()).await?.try_get("n")?;
    Ok((rows.iter().map(credit_from).collect::<Result<_>>()?, total))
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditApplyInput {
    /// An invoice of the credit note's supplier, approved for payment.
    pub invoice_id: String,
    /// Minor units; default as much as both the credit note and the invoice allow.
    #[serde(default)]
    #[schema(minimum = 1)]
    pub amount_minor: Option<i64>,
}

/// Apply (part of) a credit note to an invoice of the same supplier: the invoice's amount
/// due goes down by it.
pub async fn apply_credit(
    p: &Platform,
    ctx: &Ctx,
    credit_note_id: &str,
    input: &CreditApplyInput,
) -> Result<CreditNote> {
    let cn = credit_note(p, &ctx.actor, credit_note_id).await?;
    let inv = invoice::get(p, &ctx.actor, &input.invoice_id).await?;
    let path = location_path(p, &inv.location_id).await?;
    if !ctx.actor.allows(perm::PURCHASING_PAYMENT, &path) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_PAYMENT));
    }
    if inv.supplier_id != cn.supplier_id || inv.currency != cn.currency {
        return Err(PlatformError::invalid(
            "invoice_id",
            format!(
                "invoice {} is from supplier {}; credit note {} is from {}",
                inv.invoice_no, inv.supplier_code, cn.number, cn.supplier_code
            ),
        ));
    }
    if !is_payable(&inv.status) {
        return Err(PlatformError::conflict(
            "invoice_id",
            format!(
                "invoice {} is {}; credit notes are applied to invoices approved for payment",
                inv.invoice_no, inv.status
            ),
        ));
    }
    if cn.remaining_minor <= 0 {
        return Err(PlatformError::conflict(
            "status",
            format!("credit note {} is applied in full", cn.number),
        ));
    }
    let amount = input
        .amount_minor
        .unwrap_or_else(|| cn.remaining_minor.min(inv.due_minor));
    if amount <= 0 {
        return Err(PlatformError::invalid("amount_minor", "must be positive"));
    }
    if amount > cn.remaining_minor {
        return Err(PlatformError::invalid(
            "amount_minor",
            format!(
                "credit note {} has {} left",
                cn.number,
                boh_kernel::qty::money_text(cn.remaining_minor)
            ),
        ));
    }
    if amount > inv.due_minor {
        return Err(overpayment(amount, &inv, inv.due_minor));
    }
    let id = new_id();
    let t = now().micros();
    tx!(p.db, tx, {
        let a = sqlx::query(
            "UPDATE po_credit_notes SET applied_minor = applied_minor + $1, \
             status = CASE WHEN amount_minor - applied_minor - $1 = 0 THEN 'applied' ELSE 'open' END, updated_at = $2 \
             WHERE id = $3 AND amount_minor - applied_minor >= $1",
        )
        .bind(amount)
        .bind(t)
        .bind(&cn.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let b = sqlx::query(
            "UPDATE po_invoices SET credited_minor = credited_minor + $1, \
             status = CASE WHEN gross_minor - credited_minor - paid_minor - $1 = 0 THEN 'paid' ELSE 'partially_paid' END, \
             updated_at = $2, version = version + 1 \
             WHERE id = $3 AND status IN ('approved', 'partially_paid') AND gross_minor - credited_minor - paid_minor >= $1",
        )
        .bind(amount)
        .bind(t)
        .bind(&inv.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if a != 1 || b != 1 {
            return Err(PlatformError::conflict(
                "amount_minor",
                "the credit note or the invoice changed meanwhile; reload it",
            ));
        }
        sqlx::query(
            "INSERT INTO po_credit_applications (id, credit_note_id, invoice_id, amount_minor, applied_by, applied_at) \
             VALUES ($1,$2,$3,$4,$5,$6)",
        )
        .bind(&id)
        .bind(&cn.id)
        .bind(&inv.id)
        .bind(amount)
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        events::emit(
            tx,
            "purchasing.credit_note.applied",
            Some(&path),
            &serde_json::json!({
                "application_id": id, "credit_note_id": cn.id, "credit_note_number": cn.number,
                "invoice_id": inv.id, "invoice_no": inv.invoice_no, "company_id": inv.company_id,
                "supplier_id": inv.supplier_id, "location_id": inv.location_id,
                "currency": inv.currency, "amount_minor": amount,
            }),
        )
        .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.credit_note.apply",
                entity_type: "po_credit_note",
                entity_id: &cn.id,
                org_path: Some(&path),
                before: Some(serde_json::json!({"applied_minor": cn.applied_minor})),
                after: Some(serde_json::json!({
                    "invoice": inv.invoice_no, "amount_minor": amount,
                })),
            },
        )
        .await?;
        Ok(())
    })?;
    credit_note(p, &ctx.actor, &cn.id).await
}

// ---------------------------------------------------------------- what is payable

/// What the company owes a supplier, within the actor's scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payable {
    pub supplier_id: String,
    pub currency: String,
    /// Still due on invoices approved for payment.
    pub approved_due_minor: i64,
    /// Invoices not approved yet (matched, with exceptions, waiting for approval).
    pub awaiting_approval_minor: i64,
    /// Credit notes not applied yet.
    pub open_credit_minor: i64,
    /// Approved and due, less open credit.
    pub net_payable_minor: i64,
}

/// The amounts owed to a supplier and owed back by it.
pub async fn payable(p: &Platform, actor: &Actor, supplier_id: &str) -> Result<Payable> {
    let s = boh_inventory::supplier::get_supplier(p, actor, supplier_id).await?;
    let scope_i = invoice::read_scope(actor, "location_path");
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status IN ('approved','partially_paid') \
         THEN gross_minor - credited_minor - paid_minor ELSE 0 END), 0) AS BIGINT) AS due, \
         CAST(COALESCE(SUM(CASE WHEN status IN ('matched','exception','pending_approval') THEN gross_minor ELSE 0 END), 0) AS BIGINT) AS waiting \
         FROM po_invoices WHERE supplier_id = $1 AND {scope_i}"
    )))
    .bind(&s.id)
    .fetch_one(p.db.pool())
    .await?;
    let credit: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT CAST(COALESCE(SUM(amount_minor - applied_minor), 0) AS BIGINT) AS c FROM po_credit_notes \
         WHERE supplier_id = $1 AND status = 'open' AND {scope_i}"
    )))
    .bind(&s.id)
    .fetch_one(p.db.pool())
    .await?
    .try_get("c")?;
    let due: i64 = r.try_get("due")?;
    Ok(Payable {
        supplier_id: s.id,
        currency: s.currency,
        approved_due_minor: due,
        awaiting_approval_minor: r.try_get("waiting")?,
        open_credit_minor: credit,
        net_payable_minor: due - credit,
    })
}
