//! Supplier invoices, matched three ways: each line against its order line (ordered
//! quantity and price), what was received on it, and what was invoiced on it before.
//!
//! - An invoice is entered (API, form) or imported (CSV, [`crate::invoice_csv`]) against one
//!   approved order of its supplier. `invoice_key` (or the `Idempotency-Key` header) makes a
//!   retry answer the first invoice; the same key with another invoice is refused.
//! - The match runs in the invoice's transaction, after locking the order, so two invoices of
//!   one order cannot both claim the same received goods. Findings per line: `price` (above
//!   the order price beyond the tolerance), `quantity` (invoiced in all above received beyond
//!   the tolerance), `missing_receipt` (nothing received on the line); per invoice:
//!   `duplicate_invoice` (the supplier's invoice number is on a live invoice already). These
//!   block payment: the invoice is `exception` until someone with
//!   `purchasing.invoice.accept` accepts it with a comment, or it is rejected.
//!   `price_list_variance` (the price differs from the supplier's price list in force on the
//!   invoice date) is shown even within the tolerance and blocks nothing.
//! - A `matched` invoice is submitted for payment approval through the workflow engine
//!   (document type `supplier_invoice`); the hook sets `approved` or `rejected`. Payments and
//!   credit notes ([`crate::payment`]) then take it to `partially_paid` and `paid`.
//! - `status`, amounts paid and credited, resolutions and approvals are never inputs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use boh_db::Row;
use boh_inventory::supplier::{self, Supplier};
use boh_kernel::{Actor, Qty, id::new_id, now, perm};
use boh_platform::org::OrgNode;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use boh_workflow::route::Subject;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::po::{self, PoLine, PurchaseOrder};
use crate::qty_of;
use crate::tolerance::{self, Limits};

pub const DOC_TYPE: &str = "supplier_invoice";
/// Most lines on one invoice.
pub const MAX_LINES: usize = 1_000;
/// Default days from the invoice date to the due date.
pub const DEFAULT_TERMS_DAYS: i64 = 30;

pub mod status {
    /// Every line matched (or the exceptions were accepted): ready for payment approval.
    pub const MATCHED: &str = "matched";
    /// Some finding blocks payment.
    pub const EXCEPTION: &str = "exception";
    pub const PENDING: &str = "pending_approval";
    pub const APPROVED: &str = "approved";
    pub const PARTIAL: &str = "partially_paid";
    pub const PAID: &str = "paid";
    pub const REJECTED: &str = "rejected";
    pub const ALL: &[&str] = &[
        MATCHED, EXCEPTION, PENDING, APPROVED, PARTIAL, PAID, REJECTED,
    ];
}

/// Reason codes of match findings.
pub mod reason {
    pub const PRICE: &str = "price";
    pub const QUANTITY: &str = "quantity";
    pub const MISSING_RECEIPT: &str = "missing_receipt";
    pub const DUPLICATE: &str = "duplicate_invoice";
    /// Informational: the price differs from the price list in force on the invoice date.
    pub const PRICE_LIST: &str = "price_list_variance";
    pub const ALL: &[&str] = &[PRICE, QUANTITY, MISSING_RECEIPT, DUPLICATE, PRICE_LIST];
}

/// How the invoice came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Api,
    Form,
    Csv,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Api => "api",
            Source::Form => "form",
            Source::Csv => "csv",
        }
    }
}

/// An invoice line: the order line by number, or the item by code or the supplier's SKU.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceLineInput {
    /// The order line invoiced.
    #[serde(default)]
    pub po_line_no: Option<i64>,
    /// … or the item's code (when it is on one order line only) …
    #[serde(default)]
    pub item_code: Option<String>,
    /// … or the supplier's own code of the item.
    #[serde(default)]
    pub supplier_sku: Option<String>,
    /// Quantity in the order line's pack unit, as a decimal string.
    #[schema(value_type = String, example = "4")]
    pub qty: serde_json::Value,
    /// Price of one pack before tax, in minor units.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_i64)]
    pub unit_price_minor: i64,
    /// Tax on the line in minor units (default 0).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub tax_minor: Option<i64>,
}

/// A supplier invoice as entered. Status, payments and approvals are not fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceInput {
    pub supplier_id: String,
    /// The purchase order invoiced (of that supplier, approved or received).
    pub po_id: String,
    /// The supplier's invoice number.
    #[schema(min_length = 1, max_length = 64)]
    pub invoice_no: String,
    /// `YYYY-MM-DD`.
    pub invoice_date: String,
    /// `YYYY-MM-DD`; default 30 days after the invoice date.
    #[serde(default)]
    pub due_date: Option<String>,
    /// Must be the order's currency (the default).
    #[serde(default)]
    pub currency: Option<String>,
    /// Totals as printed on the invoice (minor units); when given they must equal the
    /// lines' sums.
    #[serde(default)]
    pub net_minor: Option<i64>,
    #[serde(default)]
    pub tax_minor: Option<i64>,
    #[serde(default)]
    pub gross_minor: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
    /// The invoice's own key for retries (e.g. the scan's id): the same key again answers
    /// the first invoice.
    #[serde(default)]
    pub invoice_key: Option<String>,
    pub lines: Vec<InvoiceLineInput>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceLine {
    pub line_no: i64,
    pub po_line_no: i64,
    pub item_id: String,
    pub item_code: String,
    pub item_name: String,
    pub pack_unit: String,
    #[schema(value_type = String)]
    pub qty: Qty,
    pub unit_price_minor: i64,
    pub net_minor: i64,
    pub tax_minor: i64,
    /// What the match saw: the order line's quantity and price …
    #[schema(value_type = String)]
    pub ordered_qty: Qty,
    pub po_price_minor: i64,
    /// … what was received on it, and invoiced on it by earlier invoices …
    #[schema(value_type = String)]
    pub received_qty: Qty,
    #[schema(value_type = String)]
    pub invoiced_before: Qty,
    /// … and the supplier's list price in force on the invoice date, if any.
    pub list_price_minor: Option<i64>,
    /// `matched` or `exception`.
    pub status: String,
    /// Reason codes of this line's findings.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Finding {
    /// The invoice line (0: the invoice as a whole).
    pub line_no: i64,
    /// `price`, `quantity`, `missing_receipt`, `duplicate_invoice` or `price_list_variance`.
    pub reason: String,
    /// False for findings that are only shown (`price_list_variance`).
    pub blocking: bool,
    pub message: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Payment {
    pub id: String,
    pub invoice_id: String,
    pub amount_minor: i64,
    pub method: String,
    pub reference: Option<String>,
    pub paid_on: String,
    pub note: Option<String>,
    pub recorded_by: String,
    pub recorded_at: String,
    pub replayed: bool,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreditApplication {
    pub id: String,
    pub credit_note_id: String,
    pub credit_note_number: String,
    pub invoice_id: String,
    pub amount_minor: i64,
    pub applied_by: String,
    pub applied_at: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Invoice {
    pub id: String,
    pub company_id: String,
    pub supplier_id: String,
    pub supplier_code: String,
    pub supplier_name: String,
    pub po_id: String,
    pub po_number: String,
    pub location_id: String,
    pub location_code: String,
    pub location_name: String,
    pub invoice_no: String,
    pub invoice_date: String,
    pub due_date: String,
    pub currency: String,
    pub net_minor: i64,
    pub tax_minor: i64,
    pub gross_minor: i64,
    /// Credit notes applied to it.
    pub credited_minor: i64,
    pub paid_minor: i64,
    /// Still to pay: gross − credited − paid.
    pub due_minor: i64,
    pub status: String,
    /// Blocking findings of the match.
    pub exceptions: i64,
    /// Reason codes of all findings (blocking or not).
    pub reasons: Vec<String>,
    /// `api`, `form` or `csv`.
    pub source: String,
    pub invoice_key: Option<String>,
    pub note: Option<String>,
    /// `accepted` or `rejected` when someone resolved the exceptions.
    pub resolution: Option<String>,
    pub resolution_comment: Option<String>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<String>,
    pub created_by: String,
    pub created_by_name: String,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    pub approved_at: Option<String>,
    pub version: i64,
    pub lines: Vec<InvoiceLine>,
    pub findings: Vec<Finding>,
    pub payments: Vec<Payment>,
    pub credits: Vec<CreditApplication>,
    /// True when this answer is the first invoice of a repeated key.
    pub replayed: bool,
}

// ---------------------------------------------------------------- checking

struct CheckedLine {
    line_no: i64,
    po_line: PoLine,
    category_id: Option<String>,
    qty: Qty,
    price: i64,
    net: i64,
    tax: i64,
    list_price: Option<i64>,
    limits: Limits,
}

pub(crate) struct Checked {
    supplier: Supplier,
    order: PurchaseOrder,
    site: OrgNode,
    invoice_no: String,
    invoice_no_key: String,
    invoice_date: String,
    due_date: String,
    currency: String,
    note: Option<String>,
    key: Option<String>,
    hash: String,
    source: Source,
    lines: Vec<CheckedLine>,
    net: i64,
    tax: i64,
    gross: i64,
}

impl Checked {
    pub(crate) fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
    pub(crate) fn supplier_id(&self) -> &str {
        &self.supplier.id
    }
    pub(crate) fn hash(&self) -> &str {
        &self.hash
    }
}

/// The supplier's invoice number as compared for duplicates: letters and digits only, upper
/// case ("inv-001" and "INV 001" are the same invoice).
pub fn number_key(no: &str) -> String {
    no.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_uppercase)
        .collect()
}

fn may_read(actor: &Actor, path: &str) -> bool {
    [
        perm::PURCHASING_READ,
        perm::PURCHASING_INVOICE,
        perm::PURCHASING_INVOICE_ACCEPT,
        perm::PURCHASING_PAYMENT,
    ]
    .iter()
    .any(|p| actor.allows(p, path))
}

/// The SQL predicate of the invoices (or credit notes) an actor may see, over a path column.
pub(crate) fn read_scope(actor: &Actor, column: &str) -> String {
    let mut parts: Vec<String> = [
        perm::PURCHASING_READ,
        perm::PURCHASING_INVOICE,
        perm::PURCHASING_INVOICE_ACCEPT,
        perm::PURCHASING_PAYMENT,
    ]
    .iter()
    .map(|p| actor.scope(p).sql(column))
    .collect();
    parts.sort();
    parts.dedup();
    if parts.iter().any(|s| s == "1=1") {
        return "1=1".into();
    }
    parts.retain(|s| s != "1=0");
    match parts.len() {
        0 => "1=0".into(),
        1 => parts.remove(0),
        _ => format!("({})", parts.join(" OR ")),
    }
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Check an invoice as far as it can be without writing: the supplier, the order (in the
/// actor's scope, with `purchasing.invoice.manage` at its site), every field of every line
/// (all problems at once), the list prices of the invoice date and the tolerance of each
/// line. The match against received quantities runs at insertion.
pub(crate) async fn check(
    p: &Platform,
    actor: &Actor,
    input: &InvoiceInput,
    source: Source,
) -> Result<Checked> {
    if !boh_kernel::id::is_uuid(&input.supplier_id) {
        return Err(PlatformError::invalid("supplier_id", "no such supplier"));
    }
    let supplier = supplier::get_supplier(p, actor, &input.supplier_id).await?;
    let order = po::get(p, actor, &input.po_id).await?;
    if order.company_id != supplier.company_id {
        return Err(PlatformError::NotFound);
    }
    let site = boh_platform::org::fetch(p, &order.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !actor.allows(perm::PURCHASING_INVOICE, &site.path) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_INVOICE));
    }
    if !matches!(
        order.status.as_str(),
        po::status::APPROVED | po::status::PARTIAL | po::status::RECEIVED
    ) {
        return Err(PlatformError::conflict(
            "po_id",
            format!(
                "order {} is {}; invoices are matched against approved orders",
                order.number, order.status
            ),
        ));
    }
    let mut errors = Vec::new();
    if order.supplier_id != supplier.id {
        errors.push(FieldError::new(
            "supplier_id",
            format!(
                "order {} is from supplier {}, not {}",
                order.number, order.supplier_code, supplier.code
            ),
        ));
    }
    let invoice_no =
        boh_platform::util::required_text(&mut errors, "invoice_no", &input.invoice_no, 64);
    let invoice_no_key = number_key(&invoice_no);
    if !invoice_no.is_empty() && invoice_no_key.is_empty() {
        errors.push(FieldError::new(
            "invoice_no",
            "must contain a letter or a digit",
        ));
    }
    let today = boh_inventory::today_in(&site.timezone);
    let invoice_date =
        match boh_inventory::validate_date(&mut errors, "invoice_date", &input.invoice_date) {
            Some(d) if d > today.tomorrow().unwrap_or(today) => {
                errors.push(FieldError::new("invoice_date", "cannot be in the future"));
                None
            }
            other => other,
        };
    let due_date = match trimmed(&input.due_date) {
        Some(d) => match (
            boh_inventory::validate_date(&mut errors, "due_date", &d),
            invoice_date,
        ) {
            (Some(dd), Some(id)) if dd < id => {
                errors.push(FieldError::new(
                    "due_date",
                    "must be on or after the invoice date",
                ));
                None
            }
            (dd, _) => dd,
        },
        None => invoice_date.and_then(|d| {
            d.checked_add(jiff::Span::new().days(DEFAULT_TERMS_DAYS))
                .ok()
        }),
    };
    let currency = trimmed(&input.currency).unwrap_or_else(|| order.currency.clone());
    if currency != order.currency {
        errors.push(FieldError::new(
            "currency",
            format!("order {} is in {}", order.number, order.currency),
        ));
    }
    let note = trimmed(&input.note);
    if note.as_deref().is_some_and(|n| n.chars().count() > 1000) {
        errors.push(FieldError::new("note", "at most 1,000 characters"));
    }
    let key = trimmed(&input.invoice_key);
    if key.as_deref().is_some_and(|k| k.chars().count() > 100) {
        errors.push(FieldError::new("invoice_key", "at most 100 characters"));
    }
    if input.lines.is_empty() {
        errors.push(FieldError::new("lines", "at least one line is required"));
    }
    if input.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "lines",
            format!("at most {MAX_LINES} lines"),
        ));
    }
    // The supplier's SKUs of the order's supplier items (only when a line names one).
    let skus: HashMap<String, String> = if input
        .lines
        .iter()
        .any(|l| trimmed(&l.supplier_sku).is_some())
    {
        supplier::list_supplier_items(p, actor, &supplier.id)
            .await?
            .into_iter()
            .filter_map(|si| si.supplier_sku.map(|s| (s, si.id)))
            .collect()
    } else {
        HashMap::new()
    };
    let item_ids: Vec<String> = order.lines.iter().map(|l| l.item_id.clone()).collect();
    let categories: HashMap<String, Option<String>> =
        boh_inventory::catalog::fetch_items(p, &item_ids)
            .await?
            .into_iter()
            .map(|i| (i.id, i.category_id))
            .collect();
    let mut seen = BTreeSet::new();
    let mut lines = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        let f = |k: &str| format!("lines[{i}].{k}");
        let found: Vec<&PoLine> = match (
            l.po_line_no,
            trimmed(&l.item_code),
            trimmed(&l.supplier_sku),
        ) {
            (Some(n), _, _) => order.lines.iter().filter(|x| x.line_no == n).collect(),
            (None, Some(code), _) => order.lines.iter().filter(|x| x.item_code == code).collect(),
            (None, None, Some(sku)) => match skus.get(&sku) {
                Some(si) => order
                    .lines
                    .iter()
                    .filter(|x| &x.supplier_item_id == si)
                    .collect(),
                None => Vec::new(),
            },
            (None, None, None) => {
                errors.push(FieldError::new(
                    &f("po_line_no"),
                    "give the order line, the item code or the supplier's SKU",
                ));
                continue;
            }
        };
        let field = if l.po_line_no.is_some() {
            f("po_line_no")
        } else if trimmed(&l.item_code).is_some() {
            f("item_code")
        } else {
            f("supplier_sku")
        };
        let ol = match found.as_slice() {
            [one] => (*one).clone(),
            [] => {
                errors.push(FieldError::new(
                    &field,
                    format!("order {} has no such line", order.number),
                ));
                continue;
            }
            _ => {
                errors.push(FieldError::new(
                    &field,
                    format!(
                        "the item is on several lines of order {}; give po_line_no",
                        order.number
                    ),
                ));
                continue;
            }
        };
        if !seen.insert(ol.line_no) {
            errors.push(FieldError::new(
                &field,
                format!("order line {} is on the invoice already", ol.line_no),
            ));
            continue;
        }
        let qty = match qty_of(&l.qty) {
            Some(q) if q.micros() > 0 && q.micros() <= 1_000_000 * 1_000_000 => Some(q),
            Some(q) if q.micros() <= 0 => {
                errors.push(FieldError::new(&f("qty"), "must be greater than zero"));
                None
            }
            Some(_) => {
                errors.push(FieldError::new(&f("qty"), "at most 1,000,000"));
                None
            }
            None => {
                errors.push(FieldError::new(
                    &f("qty"),
                    "a decimal number such as 3 or 2.5",
                ));
                None
            }
        };
        if !(0..=1_000_000_000_000).contains(&l.unit_price_minor) {
            errors.push(FieldError::new(
                &f("unit_price_minor"),
                "between 0 and 10^12",
            ));
        }
        let tax = l.tax_minor.unwrap_or(0);
        if !(0..=1_000_000_000_000).contains(&tax) {
            errors.push(FieldError::new(&f("tax_minor"), "between 0 and 10^12"));
        }
        let Some(qty) = qty else { continue };
        let net = boh_kernel::qty::mul_div_round(qty.micros(), l.unit_price_minor, 1_000_000)
            .unwrap_or(i64::MAX);
        lines.push(CheckedLine {
            line_no: i as i64 + 1,
            category_id: categories.get(&ol.item_id).cloned().flatten(),
            po_line: ol,
            qty,
            price: l.unit_price_minor,
            net,
            tax,
            list_price: None,
            limits: Limits::default(),
        });
    }
    let net: i64 = lines.iter().map(|l| l.net).fold(0i64, i64::saturating_add);
    let tax: i64 = lines.iter().map(|l| l.tax).fold(0i64, i64::saturating_add);
    let gross = net.saturating_add(tax);
    if errors.is_empty() {
        for (field, given, sum) in [
            ("net_minor", input.net_minor, net),
            ("tax_minor", input.tax_minor, tax),
            ("gross_minor", input.gross_minor, gross),
        ] {
            if let Some(g) = given
                && g != sum
            {
                errors.push(FieldError::new(
                    field,
                    format!(
                        "the lines add up to {}, the invoice says {}",
                        boh_kernel::qty::money_text(sum),
                        boh_kernel::qty::money_text(g)
                    ),
                ));
            }
        }
    }
    if !errors.is_empty() {
        boh_inventory::sort_field_errors(&mut errors);
        return Err(PlatformError::Validation(errors));
    }
    let (Some(invoice_date), Some(due_date)) = (invoice_date, due_date) else {
        return Err(PlatformError::invalid(
            "invoice_date",
            "must be a date as YYYY-MM-DD",
        ));
    };
    let invoice_date = invoice_date.to_string();
    // The price list of the invoice date, per order line's supplier item, in the line's pack.
    let si_ids: Vec<String> = lines
        .iter()
        .map(|l| l.po_line.supplier_item_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let listed: HashMap<String, supplier::Price> =
        supplier::prices_in_force_for(p, &si_ids, &invoice_date)
            .await?
            .into_iter()
            .map(|pr| (pr.supplier_item_id.clone(), pr))
            .collect();
    let rules = tolerance::rules(p, &order.company_id).await?;
    for l in &mut lines {
        l.list_price = listed.get(&l.po_line.supplier_item_id).map(|pr| {
            let (pf, lf) = (l.po_line.pack_factor.micros(), pr.pack_factor.micros());
            if pf == lf || lf <= 0 {
                pr.price_minor
            } else {
                boh_kernel::qty::mul_div_round(pr.price_minor, pf, lf).unwrap_or(pr.price_minor)
            }
        });
        l.limits = rules.for_line(&supplier.id, l.category_id.as_deref());
    }
    let hash = boh_platform::util::sha256_hex(
        serde_json::to_string(input)
            .map_err(anyhow::Error::from)?
            .as_bytes(),
    );
    Ok(Checked {
        supplier,
        order,
        site,
        invoice_no,
        invoice_no_key,
        invoice_date,
        due_date: due_date.to_string(),
        currency,
        note,
        key,
        hash,
        source,
        lines,
        net,
        tax,
        gross,
    })
}

// ---------------------------------------------------------------- writing

/// Enter an invoice and match it.
pub async fn create(p: &Platform, ctx: &Ctx, input: &InvoiceInput) -> Result<Invoice> {
    create_from(p, ctx, input, Source::Api).await
}

/// Enter an invoice that came in through `source` and match it.
pub async fn create_from(
    p: &Platform,
    ctx: &Ctx,
    input: &InvoiceInput,
    source: Source,
) -> Result<Invoice> {
    let c = check(p, &ctx.actor, input, source).await?;
    if let Some(k) = c.key()
        && let Some(done) = by_key(p, c.supplier_id(), k, c.hash()).await?
    {
        return Ok(done);
    }
    let backend = p.db.backend();
    let result = tx!(p.db, tx, {
        let id = insert(tx, backend, ctx, &c).await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(id)
    });
    match result {
        Ok(id) => get(p, &ctx.actor, &id).await,
        Err(PlatformError::IdempotencyRace) => match c.key() {
            Some(k) => by_key(p, c.supplier_id(), k, c.hash())
                .await?
                .ok_or(PlatformError::IdempotencyRace),
            None => Err(PlatformError::IdempotencyRace),
        },
        Err(e) => Err(e),
    }
}

/// The invoice of an earlier request with this key: the same invoice again answers it
/// (`replayed`), another one under the same key is refused.
pub(crate) async fn by_key(
    p: &Platform,
    supplier_id: &str,
    key: &str,
    hash: &str,
) -> Result<Option<Invoice>> {
    let row = sqlx::query(
        "SELECT id, input_hash FROM po_invoices WHERE supplier_id = $1 AND invoice_key = $2",
    )
    .bind(supplier_id)
    .bind(key)
    .fetch_optional(p.db.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let stored: String = row.try_get("input_hash")?;
    if stored != hash {
        return Err(PlatformError::IdempotencyMismatch);
    }
    let mut inv = get_unscoped(p, &row.try_get::<String, _>("id")?).await?;
    inv.replayed = true;
    Ok(Some(inv))
}

struct LineMatch {
    received: i64,
    before: i64,
    findings: Vec<(&'static str, bool, String)>,
}

/// Insert a checked invoice, matching it against the order as it stands inside `tx`.
/// Returns the new invoice's id; a key taken meanwhile is [`PlatformError::IdempotencyRace`].
pub(crate) async fn insert(
    tx: &mut AnyConnection,
    backend: boh_db::Backend,
    ctx: &Ctx,
    c: &Checked,
) -> Result<String> {
    let o = &c.order;
    // Lock the order: receipts and other invoices of it wait until this one commits.
    let lock = if backend == boh_db::Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let status_now: String = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT status FROM purchase_orders WHERE id = $1{lock}"
    )))
    .bind(&o.id)
    .fetch_one(&mut *tx)
    .await?
    .try_get("status")?;
    if !matches!(
        status_now.as_str(),
        po::status::APPROVED | po::status::PARTIAL | po::status::RECEIVED
    ) {
        return Err(PlatformError::conflict(
            "po_id",
            format!("order {} is {status_now}; reload it", o.number),
        ));
    }
    let mut received: HashMap<i64, i64> = HashMap::new();
    for r in sqlx::query("SELECT line_no, qty_received FROM purchase_order_lines WHERE po_id = $1")
        .bind(&o.id)
        .fetch_all(&mut *tx)
        .await?
    {
        received.insert(r.try_get("line_no")?, r.try_get("qty_received")?);
    }
    let before = invoiced_totals(&mut *tx, &o.id).await?;
    let id = new_id();
    let t = now().micros();
    // The supplier's invoice number: the first live invoice holds it; a second is a duplicate.
    let claimed = sqlx::query(
        "INSERT INTO po_invoice_numbers (supplier_id, invoice_no_key, invoice_id) VALUES ($1,$2,$3) \
         ON CONFLICT (supplier_id, invoice_no_key) DO NOTHING",
    )
    .bind(&c.supplier.id)
    .bind(&c.invoice_no_key)
    .bind(&id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let mut header_findings: Vec<(&'static str, bool, String)> = Vec::new();
    if claimed == 0 {
        let first = sqlx::query(
            "SELECT i.invoice_no, i.invoice_date, o.number FROM po_invoice_numbers n \
             JOIN po_invoices i ON i.id = n.invoice_id JOIN purchase_orders o ON o.id = i.po_id \
             WHERE n.supplier_id = $1 AND n.invoice_no_key = $2",
        )
        .bind(&c.supplier.id)
        .bind(&c.invoice_no_key)
        .fetch_optional(&mut *tx)
        .await?;
        let msg = match first {
            Some(r) => format!(
                "supplier {} invoice {} of {} (order {}) is recorded already",
                c.supplier.code,
                r.try_get::<String, _>("invoice_no")?,
                r.try_get::<String, _>("invoice_date")?,
                r.try_get::<String, _>("number")?
            ),
            None => format!(
                "supplier {} invoice {} is recorded already",
                c.supplier.code, c.invoice_no
            ),
        };
        header_findings.push((reason::DUPLICATE, true, msg));
    }
    let mut matches: Vec<LineMatch> = Vec::with_capacity(c.lines.len());
    for l in &c.lines {
        let pl = &l.po_line;
        let got = received.get(&pl.line_no).copied().unwrap_or(0);
        let prev = before.get(&pl.line_no).copied().unwrap_or(0);
        let mut f = Vec::new();
        if got == 0 {
            f.push((
                reason::MISSING_RECEIPT,
                true,
                format!("nothing received on order line {} yet", pl.line_no),
            ));
        } else {
            let allowed = got.saturating_add(l.limits.qty_allowance(got));
            let total = prev.saturating_add(l.qty.micros());
            if total > allowed {
                f.push((
                    reason::QUANTITY,
                    true,
                    format!(
                        "{} {} invoiced in all, {} received (allowed up to {})",
                        Qty(total).to_text(),
                        pl.pack_unit,
                        Qty(got).to_text(),
                        Qty(allowed).to_text()
                    ),
                ));
            }
        }
        let max_price = pl
            .unit_price_minor
            .saturating_add(l.limits.price_allowance(pl.unit_price_minor));
        if l.price > max_price {
            f.push((
                reason::PRICE,
                true,
                format!(
                    "invoiced at {} per {}, ordered at {} (allowed up to {})",
                    boh_kernel::qty::money_text(l.price),
                    pl.pack_unit,
                    boh_kernel::qty::money_text(pl.unit_price_minor),
                    boh_kernel::qty::money_text(max_price)
                ),
            ));
        }
        if let Some(lp) = l.list_price
            && lp != l.price
        {
            f.push((
                reason::PRICE_LIST,
                false,
                format!(
                    "the price list of {} says {} per {}; invoiced at {}",
                    c.invoice_date,
                    boh_kernel::qty::money_text(lp),
                    pl.pack_unit,
                    boh_kernel::qty::money_text(l.price)
                ),
            ));
        }
        matches.push(LineMatch {
            received: got,
            before: prev,
            findings: f,
        });
    }
    let blocking = header_findings.iter().filter(|f| f.1).count()
        + matches
            .iter()
            .map(|m| m.findings.iter().filter(|f| f.1).count())
            .sum::<usize>();
    let st = if blocking > 0 {
        status::EXCEPTION
    } else {
        status::MATCHED
    };
    let inserted = sqlx::query(
        "INSERT INTO po_invoices (id, company_id, supplier_id, po_id, location_id, location_path, invoice_no, \
         invoice_no_key, invoice_date, due_date, currency, net_minor, tax_minor, gross_minor, credited_minor, paid_minor, \
         status, exceptions, source, invoice_key, input_hash, note, created_by, created_at, updated_at, version) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,0,0,$15,$16,$17,$18,$19,$20,$21,$22,$22,1)",
    )
    .bind(&id)
    .bind(&o.company_id)
    .bind(&c.supplier.id)
    .bind(&o.id)
    .bind(&c.site.id)
    .bind(&c.site.path)
    .bind(&c.invoice_no)
    .bind(&c.invoice_no_key)
    .bind(&c.invoice_date)
    .bind(&c.due_date)
    .bind(&c.currency)
    .bind(c.net)
    .bind(c.tax)
    .bind(c.gross)
    .bind(st)
    .bind(blocking as i64)
    .bind(c.source.as_str())
    .bind(c.key.as_deref())
    .bind(&c.hash)
    .bind(c.note.as_deref())
    .bind(&ctx.actor.user_id)
    .bind(t)
    .execute(&mut *tx)
    .await;
    match inserted {
        Err(e) if boh_db::is_unique_violation(&e) => return Err(PlatformError::IdempotencyRace),
        r => {
            r?;
        }
    }
    let rows: Vec<(&CheckedLine, &LineMatch)> = c.lines.iter().zip(&matches).collect();
    for chunk in rows.chunks(200) {
        let sql = format!(
            "INSERT INTO po_invoice_lines (invoice_id, line_no, po_line_no, item_id, qty, unit_price_minor, net_minor, \
             tax_minor, ordered_qty, received_qty, invoiced_before, po_price_minor, list_price_minor, status) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 14)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for (l, m) in chunk {
            let line_status = if m.findings.iter().any(|f| f.1) {
                status::EXCEPTION
            } else {
                status::MATCHED
            };
            q = q
                .bind(id.clone())
                .bind(l.line_no)
                .bind(l.po_line.line_no)
                .bind(l.po_line.item_id.clone())
                .bind(l.qty.micros())
                .bind(l.price)
                .bind(l.net)
                .bind(l.tax)
                .bind(l.po_line.qty.micros())
                .bind(m.received)
                .bind(m.before)
                .bind(l.po_line.unit_price_minor)
                .bind(l.list_price)
                .bind(line_status);
        }
        q.execute(&mut *tx).await?;
    }
    let mut all: Vec<(i64, &'static str, bool, String)> = header_findings
        .into_iter()
        .map(|(r, b, m)| (0, r, b, m))
        .collect();
    for (l, m) in &rows {
        for (r, b, msg) in &m.findings {
            all.push((l.line_no, r, *b, msg.clone()));
        }
    }
    for (n, chunk) in all.chunks(300).enumerate() {
        let sql = format!(
            "INSERT INTO po_invoice_findings (invoice_id, seq, line_no, reason, blocking, message) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 6)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for (k, (line_no, r, b, msg)) in chunk.iter().enumerate() {
            q = q
                .bind(id.clone())
                .bind((n * 300 + k + 1) as i64)
                .bind(*line_no)
                .bind(*r)
                .bind(i64::from(*b))
                .bind(msg.clone());
        }
        q.execute(&mut *tx).await?;
    }
    let reasons: BTreeSet<&str> = all.iter().map(|f| f.1).collect();
    let payload = serde_json::json!({
        "invoice_id": id, "invoice_no": c.invoice_no, "supplier_id": c.supplier.id,
        "supplier_code": c.supplier.code, "po_id": o.id, "po_number": o.number,
        "location_id": c.site.id, "company_id": o.company_id, "invoice_date": c.invoice_date,
        "due_date": c.due_date, "currency": c.currency, "net_minor": c.net, "tax_minor": c.tax,
        "gross_minor": c.gross, "status": st, "exceptions": blocking, "reasons": reasons,
        "source": c.source.as_str(),
        "lines": rows.iter().map(|(l, m)| serde_json::json!({
            "line_no": l.line_no, "po_line_no": l.po_line.line_no, "item_id": l.po_line.item_id,
            "qty": l.qty, "pack_unit": l.po_line.pack_unit, "unit_price_minor": l.price,
            "net_minor": l.net, "tax_minor": l.tax, "po_price_minor": l.po_line.unit_price_minor,
            "received_qty": Qty(m.received), "list_price_minor": l.list_price,
            "reasons": m.findings.iter().map(|f| f.0).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    events::emit(
        tx,
        "purchasing.invoice.posted",
        Some(&c.site.path),
        &payload,
    )
    .await?;
    audit::append(
        tx,
        ctx,
        audit::Change {
            action: "purchasing.invoice.post",
            entity_type: "po_invoice",
            entity_id: &id,
            org_path: Some(&c.site.path),
            before: None,
            after: Some(serde_json::json!({
                "invoice_no": c.invoice_no, "supplier": c.supplier.code, "po": o.number,
                "gross_minor": c.gross, "status": st, "exceptions": blocking,
                "lines": c.lines.len(), "source": c.source.as_str(),
            })),
        },
    )
    .await?;
    Ok(id)
}

/// Quantity invoiced per order line by live (not rejected) invoices of an order.
async fn invoiced_totals(conn: &mut AnyConnection, po_id: &str) -> Result<HashMap<i64, i64>> {
    let mut out = HashMap::new();
    for r in sqlx::query(
        "SELECT l.po_line_no, CAST(SUM(l.qty) AS BIGINT) AS q FROM po_invoice_lines l \
         JOIN po_invoices i ON i.id = l.invoice_id WHERE i.po_id = $1 AND i.status <> 'rejected' \
         GROUP BY l.po_line_no",
    )
    .bind(po_id)
    .fetch_all(&mut *conn)
    .await?
    {
        out.insert(r.try_get("po_line_no")?, r.try_get("q")?);
    }
    Ok(out)
}

/// A line of the invoice form: an order line with what is received and not invoiced yet.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DraftLine {
    pub po_line_no: i64,
    pub item_code: String,
    pub item_name: String,
    pub pack_unit: String,
    #[schema(value_type = String)]
    pub ordered: Qty,
    #[schema(value_type = String)]
    pub received: Qty,
    #[schema(value_type = String)]
    pub invoiced: Qty,
    /// Received and not invoiced yet (the form's default quantity).
    #[schema(value_type = String)]
    pub to_invoice: Qty,
    pub unit_price_minor: i64,
}

/// The order's lines as an invoice would list them: received minus invoiced at the order
/// price.
pub async fn draft_for(
    p: &Platform,
    actor: &Actor,
    po_id: &str,
) -> Result<(PurchaseOrder, Vec<DraftLine>)> {
    let order = po::get(p, actor, po_id).await?;
    let mut conn = p.db.pool().acquire().await?;
    let done = invoiced_totals(&mut conn, &order.id).await?;
    let lines = order
        .lines
        .iter()
        .map(|l| {
            let inv = done.get(&l.line_no).copied().unwrap_or(0);
            DraftLine {
                po_line_no: l.line_no,
                item_code: l.item_code.clone(),
                item_name: l.item_name.clone(),
                pack_unit: l.pack_unit.clone(),
                ordered: l.qty,
                received: l.qty_received,
                invoiced: Qty(inv),
                to_invoice: Qty((l.qty_received.micros() - inv).max(0)),
                unit_price_minor: l.unit_price_minor,
            }
        })
        .collect();
    Ok((order, lines))
}

// ---------------------------------------------------------------- resolving, approval

/// Accept the exceptions of an invoice, or reject it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Resolution {
    /// Pay it as invoiced despite the findings (`purchasing.invoice.accept`).
    Accept,
    /// Do not pay it (`purchasing.invoice.manage` or `.accept`); its number is free again.
    Reject,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveInput {
    pub action: Resolution,
    /// Why (required, at most 1,000 characters).
    pub comment: String,
}

/// An invoice the actor may see, with its site's path.
async fn visible(p: &Platform, actor: &Actor, id: &str) -> Result<(Invoice, String)> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let path: String = sqlx::query("SELECT location_path FROM po_invoices WHERE id = $1")
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?
        .ok_or(PlatformError::NotFound)?
        .try_get("location_path")?;
    if !may_read(actor, &path) {
        return Err(PlatformError::NotFound);
    }
    Ok((get_unscoped(p, id).await?, path))
}

/// Resolve an invoice's exceptions: accept it (it becomes `matched`, ready for payment
/// approval) or reject it. A comment is required either way.
pub async fn resolve(p: &Platform, ctx: &Ctx, id: &str, input: &ResolveInput) -> Result<Invoice> {
    let (inv, path) = visible(p, &ctx.actor, id).await?;
    let (need, ok_from): (&'static str, &[&str]) = match input.action {
        Resolution::Accept => (perm::PURCHASING_INVOICE_ACCEPT, &[status::EXCEPTION]),
        Resolution::Reject => (
            perm::PURCHASING_INVOICE,
            &[status::EXCEPTION, status::MATCHED],
        ),
    };
    let may = ctx.actor.allows(need, &path)
        || (input.action == Resolution::Reject
            && ctx.actor.allows(perm::PURCHASING_INVOICE_ACCEPT, &path));
    if !may {
        return Err(PlatformError::Forbidden(need));
    }
    let comment = input.comment.trim();
    if comment.is_empty() || comment.chars().count() > 1000 {
        return Err(PlatformError::invalid(
            "comment",
            "say why (at most 1,000 characters)",
        ));
    }
    if !ok_from.contains(&inv.status.as_str()) {
        return Err(PlatformError::conflict(
            "status",
            match input.action {
                Resolution::Accept => format!(
                    "invoice {} is {}; only invoices with exceptions are accepted",
                    inv.invoice_no, inv.status
                ),
                Resolution::Reject => format!(
                    "invoice {} is {} and cannot be rejected any more",
                    inv.invoice_no, inv.status
                ),
            },
        ));
    }
    let (new_status, word, topic) = match input.action {
        Resolution::Accept => (status::MATCHED, "accepted", "purchasing.invoice.accepted"),
        Resolution::Reject => (status::REJECTED, "rejected", "purchasing.invoice.rejected"),
    };
    let t = now().micros();
    tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE po_invoices SET status = $1, resolution = $2, resolution_comment = $3, resolved_by = $4, \
             resolved_at = $5, updated_at = $5, version = version + 1 WHERE id = $6 AND status = $7",
        )
        .bind(new_status)
        .bind(word)
        .bind(comment)
        .bind(&ctx.actor.user_id)
        .bind(t)
        .bind(&inv.id)
        .bind(&inv.status)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::conflict(
                "status",
                "the invoice changed meanwhile; reload it",
            ));
        }
        if input.action == Resolution::Reject {
            release_number(tx, &inv.id).await?;
        }
        events::emit(
            tx,
            topic,
            Some(&path),
            &serde_json::json!({
                "invoice_id": inv.id, "invoice_no": inv.invoice_no, "supplier_id": inv.supplier_id,
                "po_id": inv.po_id, "location_id": inv.location_id, "gross_minor": inv.gross_minor,
                "currency": inv.currency, "reasons": inv.reasons, "comment": comment,
            }),
        )
        .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: if input.action == Resolution::Accept {
                    "purchasing.invoice.accept"
                } else {
                    "purchasing.invoice.reject"
                },
                entity_type: "po_invoice",
                entity_id: &inv.id,
                org_path: Some(&path),
                before: Some(serde_json::json!({"status": inv.status})),
                after: Some(serde_json::json!({"status": new_status, "comment": comment})),
            },
        )
        .await?;
        Ok(())
    })?;
    get(p, &ctx.actor, id).await
}

/// A rejected invoice no longer holds its supplier invoice number.
async fn release_number(tx: &mut AnyConnection, invoice_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM po_invoice_numbers WHERE invoice_id = $1")
        .bind(invoice_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

fn facts(inv: &Invoice) -> BTreeMap<String, boh_expr::Value> {
    use boh_expr::Value as V;
    let mut f = BTreeMap::new();
    f.insert("amount".into(), V::Money(inv.gross_minor));
    f.insert("supplier".into(), V::Text(inv.supplier_code.clone()));
    f.insert("location".into(), V::Text(inv.location_code.clone()));
    f.insert("has_exceptions".into(), V::Bool(inv.exceptions > 0));
    f
}

async fn subject(p: &Platform, inv: &Invoice, requester: &str) -> Result<Subject> {
    let node = boh_platform::org::fetch(p, &inv.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    Ok(Subject {
        doc_type: DOC_TYPE.into(),
        doc_id: inv.id.clone(),
        title: format!(
            "{} · {} · {}",
            inv.invoice_no,
            inv.supplier_code,
            boh_kernel::qty::money_text(inv.gross_minor)
        ),
        event: "submit".into(),
        node,
        requester_id: requester.to_string(),
        facts: facts(inv),
    })
}

/// The approval route the invoice would take if submitted now (nothing is written).
pub async fn route(p: &Platform, actor: &Actor, id: &str) -> Result<boh_workflow::route::Route> {
    let (inv, _) = visible(p, actor, id).await?;
    boh_workflow::route::plan(p, &subject(p, &inv, &actor.user_id).await?).await
}

/// Submit a matched invoice for payment approval (the workflow engine decides who approves;
/// nobody approves their own submission). With no approval needed it is approved at once.
pub async fn submit(p: &Platform, ctx: &Ctx, id: &str) -> Result<Invoice> {
    let (inv, path) = visible(p, &ctx.actor, id).await?;
    if !ctx.actor.allows(perm::PURCHASING_INVOICE, &path) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_INVOICE));
    }
    if inv.status != status::MATCHED {
        return Err(PlatformError::conflict(
            "status",
            match inv.status.as_str() {
                status::EXCEPTION => format!(
                    "invoice {} has exceptions; accept or reject it first",
                    inv.invoice_no
                ),
                other => format!(
                    "invoice {} is {other} and cannot be submitted",
                    inv.invoice_no
                ),
            },
        ));
    }
    let s = subject(p, &inv, &ctx.actor.user_id).await?;
    let plan = boh_workflow::route::plan(p, &s).await?;
    let version = inv.version;
    tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE po_invoices SET status = 'pending_approval', submitted_at = $1, updated_at = $1, \
             version = version + 1 WHERE id = $2 AND version = $3 AND status = 'matched'",
        )
        .bind(now().micros())
        .bind(&inv.id)
        .bind(version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::conflict(
                "version",
                "the invoice changed meanwhile; reload it",
            ));
        }
        boh_workflow::run::start_in(tx, p, ctx, &s, &plan).await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.invoice.submit",
                entity_type: "po_invoice",
                entity_id: &inv.id,
                org_path: Some(&path),
                before: Some(serde_json::json!({"status": inv.status})),
                after: Some(serde_json::json!({
                    "route": plan.definition_code, "auto_approved": plan.auto_approved,
                })),
            },
        )
        .await?;
        Ok(())
    })?;
    get(p, &ctx.actor, id).await
}

/// The workflow's decision lands on the invoice (inside the deciding transaction).
pub async fn on_finished(
    tx: &mut AnyConnection,
    _ctx: &Ctx,
    f: &boh_workflow::Finished,
) -> Result<()> {
    let t = now().micros();
    let (st, approved_at) = match f.outcome {
        boh_workflow::Outcome::Approved => (status::APPROVED, Some(t)),
        boh_workflow::Outcome::Rejected => (status::REJECTED, None),
    };
    let n = sqlx::query(
        "UPDATE po_invoices SET status = $1, approved_at = $2, updated_at = $3, version = version + 1 \
         WHERE id = $4 AND status = 'pending_approval'",
    )
    .bind(st)
    .bind(approved_at)
    .bind(t)
    .bind(&f.doc_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(());
    }
    if f.outcome == boh_workflow::Outcome::Rejected {
        release_number(tx, &f.doc_id).await?;
    }
    let h = sqlx::query(
        "SELECT i.invoice_no, i.company_id, i.supplier_id, s.code AS supplier_code, i.po_id, i.location_id, \
         i.location_path, i.invoice_date, i.due_date, i.currency, i.net_minor, i.tax_minor, i.gross_minor, \
         i.credited_minor, i.paid_minor FROM po_invoices i JOIN inv_suppliers s ON s.id = i.supplier_id WHERE i.id = $1",
    )
    .bind(&f.doc_id)
    .fetch_one(&mut *tx)
    .await?;
    let lines: Vec<serde_json::Value> = sqlx::query(
        "SELECT po_line_no, item_id, qty, unit_price_minor, net_minor, tax_minor FROM po_invoice_lines \
         WHERE invoice_id = $1 ORDER BY line_no",
    )
    .bind(&f.doc_id)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|r| {
        Ok(serde_json::json!({
            "po_line_no": r.try_get::<i64, _>("po_line_no")?,
            "item_id": r.try_get::<String, _>("item_id")?,
            "qty": Qty(r.try_get("qty")?),
            "unit_price_minor": r.try_get::<i64, _>("unit_price_minor")?,
            "net_minor": r.try_get::<i64, _>("net_minor")?,
            "tax_minor": r.try_get::<i64, _>("tax_minor")?,
        }))
    })
    .collect::<Result<_>>()?;
    let path: String = h.try_get("location_path")?;
    let payload = serde_json::json!({
        "invoice_id": f.doc_id, "instance_id": f.instance_id, "decided_by": f.by,
        "invoice_no": h.try_get::<String, _>("invoice_no")?,
        "company_id": h.try_get::<String, _>("company_id")?,
        "supplier_id": h.try_get::<String, _>("supplier_id")?,
        "supplier_code": h.try_get::<String, _>("supplier_code")?,
        "po_id": h.try_get::<String, _>("po_id")?,
        "location_id": h.try_get::<String, _>("location_id")?,
        "invoice_date": h.try_get::<String, _>("invoice_date")?,
        "due_date": h.try_get::<String, _>("due_date")?,
        "currency": h.try_get::<String, _>("currency")?,
        "net_minor": h.try_get::<i64, _>("net_minor")?,
        "tax_minor": h.try_get::<i64, _>("tax_minor")?,
        "gross_minor": h.try_get::<i64, _>("gross_minor")?,
        "credited_minor": h.try_get::<i64, _>("credited_minor")?,
        "lines": lines,
    });
    events::emit(
        tx,
        match f.outcome {
            boh_workflow::Outcome::Approved => "purchasing.invoice.approved",
            boh_workflow::Outcome::Rejected => "purchasing.invoice.rejected",
        },
        Some(&path),
        &payload,
    )
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- reading

const INVOICE_SQL: &str = "SELECT i.id, i.company_id, i.supplier_id, s.code AS supplier_code, s.name_en AS supplier_name, \
    i.po_id, o.number AS po_number, i.location_id, n.code AS location_code, n.name_en AS location_name, i.location_path, \
    i.invoice_no, i.invoice_date, i.due_date, i.currency, i.net_minor, i.tax_minor, i.gross_minor, i.credited_minor, \
    i.paid_minor, i.status, i.exceptions, i.source, i.invoice_key, i.note, i.resolution, i.resolution_comment, \
    r.display_name AS resolver, i.resolved_at, i.created_by, u.display_name AS creator, i.created_at, i.updated_at, \
    i.submitted_at, i.approved_at, i.version FROM po_invoices i \
    LEFT JOIN inv_suppliers s ON s.id = i.supplier_id LEFT JOIN purchase_orders o ON o.id = i.po_id \
    LEFT JOIN org_nodes n ON n.id = i.location_id LEFT JOIN users u ON u.id = i.created_by \
    LEFT JOIN users r ON r.id = i.resolved_by";

fn from_row(r: &boh_db::AnyRow) -> Result<Invoice> {
    let inst = |v: Option<i64>| v.map(|m| boh_kernel::Instant(m).rfc3339());
    let gross: i64 = r.try_get("gross_minor")?;
    let credited: i64 = r.try_get("credited_minor")?;
    let paid: i64 = r.try_get("paid_minor")?;
    Ok(Invoice {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        supplier_id: r.try_get("supplier_id")?,
        supplier_code: r
            .try_get::<Option<String>, _>("supplier_code")?
            .unwrap_or_default(),
        supplier_name: r
            .try_get::<Option<String>, _>("supplier_name")?
            .unwrap_or_default(),
        po_id: r.try_get("po_id")?,
        po_number: r
            .try_get::<Option<String>, _>("po_number")?
            .unwrap_or_default(),
        location_id: r.try_get("location_id")?,
        location_code: r
            .try_get::<Option<String>, _>("location_code")?
            .unwrap_or_default(),
        location_name: r
            .try_get::<Option<String>, _>("location_name")?
            .unwrap_or_default(),
        invoice_no: r.try_get("invoice_no")?,
        invoice_date: r.try_get("invoice_date")?,
        due_date: r.try_get("due_date")?,
        currency: r.try_get("currency")?,
        net_minor: r.try_get("net_minor")?,
        tax_minor: r.try_get("tax_minor")?,
        gross_minor: gross,
        credited_minor: credited,
        paid_minor: paid,
        due_minor: gross - credited - paid,
        status: r.try_get("status")?,
        exceptions: r.try_get("exceptions")?,
        reasons: Vec::new(),
        source: r.try_get("source")?,
        invoice_key: r.try_get("invoice_key")?,
        note: r.try_get("note")?,
        resolution: r.try_get("resolution")?,
        resolution_comment: r.try_get("resolution_comment")?,
        resolved_by: r.try_get("resolver")?,
        resolved_at: inst(r.try_get("resolved_at")?),
        created_by: r.try_get("created_by")?,
        created_by_name: r
            .try_get::<Option<String>, _>("creator")?
            .unwrap_or_default(),
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        updated_at: boh_kernel::Instant(r.try_get("updated_at")?).rfc3339(),
        submitted_at: inst(r.try_get("submitted_at")?),
        approved_at: inst(r.try_get("approved_at")?),
        version: r.try_get("version")?,
        lines: Vec::new(),
        findings: Vec::new(),
        payments: Vec::new(),
        credits: Vec::new(),
        replayed: false,
    })
}

/// One invoice with its lines, findings, payments and credits (404 outside the actor's
/// scope).
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Invoice> {
    Ok(visible(p, actor, id).await?.0)
}

pub(crate) async fn get_unscoped(p: &Platform, id: &str) -> Result<Invoice> {
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{INVOICE_SQL} WHERE i.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let mut inv = from_row(&r)?;
    let pool = p.db.pool();
    for f in sqlx::query(
        "SELECT line_no, reason, blocking, message FROM po_invoice_findings WHERE invoice_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    {
        inv.findings.push(Finding {
            line_no: f.try_get("line_no")?,
            reason: f.try_get("reason")?,
            blocking: f.try_get::<i64, _>("blocking")? != 0,
            message: f.try_get("message")?,
        });
    }
    let mut reasons: BTreeSet<String> = BTreeSet::new();
    let mut by_line: HashMap<i64, Vec<String>> = HashMap::new();
    for f in &inv.findings {
        reasons.insert(f.reason.clone());
        by_line.entry(f.line_no).or_default().push(f.reason.clone());
    }
    inv.reasons = reasons.into_iter().collect();
    for l in sqlx::query(
        "SELECT l.line_no, l.po_line_no, l.item_id, it.code, it.name_en, pl.pack_unit, l.qty, l.unit_price_minor, \
         l.net_minor, l.tax_minor, l.ordered_qty, l.received_qty, l.invoiced_before, l.po_price_minor, \
         l.list_price_minor, l.status FROM po_invoice_lines l JOIN inv_items it ON it.id = l.item_id \
         LEFT JOIN purchase_order_lines pl ON pl.po_id = $2 AND pl.line_no = l.po_line_no \
         WHERE l.invoice_id = $1 ORDER BY l.line_no",
    )
    .bind(id)
    .bind(&inv.po_id)
    .fetch_all(pool)
    .await?
    {
        let line_no: i64 = l.try_get("line_no")?;
        inv.lines.push(InvoiceLine {
            line_no,
            po_line_no: l.try_get("po_line_no")?,
            item_id: l.try_get("item_id")?,
            item_code: l.try_get("code")?,
            item_name: l.try_get("name_en")?,
            pack_unit: l.try_get::<Option<String>, _>("pack_unit")?.unwrap_or_default(),
            qty: Qty(l.try_get("qty")?),
            unit_price_minor: l.try_get("unit_price_minor")?,
            net_minor: l.try_get("net_minor")?,
            tax_minor: l.try_get("tax_minor")?,
            ordered_qty: Qty(l.try_get("ordered_qty")?),
            po_price_minor: l.try_get("po_price_minor")?,
            received_qty: Qty(l.try_get("received_qty")?),
            invoiced_before: Qty(l.try_get("invoiced_before")?),
            list_price_minor: l.try_get("list_price_minor")?,
            status: l.try_get("status")?,
            reasons: by_line.remove(&line_no).unwrap_or_default(),
        });
    }
    inv.payments = crate::payment::payments_of(p, id).await?;
    inv.credits = crate::payment::credits_of(p, id).await?;
    Ok(inv)
}

/// Filters of the invoice list and the exceptions queue.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct InvoiceFilter {
    /// `matched`, `exception`, `pending_approval`, `approved`, `partially_paid`, `paid`,
    /// `rejected`.
    pub status: Option<String>,
    /// Only invoices with a finding of this reason (`price`, `quantity`, `missing_receipt`,
    /// `duplicate_invoice`, `price_list_variance`).
    pub reason: Option<String>,
    pub supplier_id: Option<String>,
    pub po_id: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// Invoices in the actor's scope, newest first (lines not included; `reasons` are).
pub async fn list(p: &Platform, actor: &Actor, f: &InvoiceFilter) -> Result<(Vec<Invoice>, i64)> {
    let mut conds = vec![read_scope(actor, "i.location_path")];
    let mut binds: Vec<String> = Vec::new();
    let mut add = |sql: &str, v: &str, binds: &mut Vec<String>| {
        binds.push(v.to_string());
        conds.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(s) = f.status.as_deref().filter(|s| !s.is_empty()) {
        if !status::ALL.contains(&s) {
            return Err(PlatformError::invalid(
                "status",
                format!("must be one of {}", status::ALL.join(", ")),
            ));
        }
        add("i.status = ?", s, &mut binds);
    }
    if let Some(r) = f.reason.as_deref().filter(|s| !s.is_empty()) {
        if !reason::ALL.contains(&r) {
            return Err(PlatformError::invalid(
                "reason",
                format!("must be one of {}", reason::ALL.join(", ")),
            ));
        }
        add(
            "EXISTS (SELECT 1 FROM po_invoice_findings x WHERE x.invoice_id = i.id AND x.reason = ?)",
            r,
            &mut binds,
        );
    }
    if let Some(s) = f.supplier_id.as_deref().filter(|s| !s.is_empty()) {
        add("i.supplier_id = ?", s, &mut binds);
    }
    if let Some(s) = f.po_id.as_deref().filter(|s| !s.is_empty()) {
        add("i.po_id = ?", s, &mut binds);
    }
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    let wh = conds.join(" AND ");
    let mut q = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{INVOICE_SQL} WHERE {wh} ORDER BY i.id DESC LIMIT {limit} OFFSET {offset}"
    )));
    let mut qc = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM po_invoices i WHERE {wh}"
    )));
    for b in &binds {
        q = q.bind(b.clone());
        qc = qc.bind(b.clone());
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    let total: i64 = qc.fetch_one(p.db.pool()).await?.try_get("n")?;
    let mut out: Vec<Invoice> = rows.iter().map(from_row).collect::<Result<_>>()?;
    // The reasons of the page's invoices, in one query.
    if !out.is_empty() {
        let ph = boh_inventory::in_placeholders(out.len(), 1);
        let mut q = sqlx::query(boh_db::AssertSqlSafe(format!(
            "SELECT DISTINCT invoice_id, reason FROM po_invoice_findings WHERE invoice_id IN ({ph}) ORDER BY invoice_id, reason"
        )));
        for i in &out {
            q = q.bind(i.id.clone());
        }
        let mut by: HashMap<String, Vec<String>> = HashMap::new();
        for r in q.fetch_all(p.db.pool()).await? {
            by.entry(r.try_get("invoice_id")?)
                .or_default()
                .push(r.try_get("reason")?);
        }
        for i in &mut out {
            i.reasons = by.remove(&i.id).unwrap_or_default();
        }
    }
    Ok((out, total))
}

/// The exceptions queue: invoices waiting for someone to accept or reject them.
pub async fn exceptions(
    p: &Platform,
    actor: &Actor,
    f: &InvoiceFilter,
) -> Result<(Vec<Invoice>, i64)> {
    let f = InvoiceFilter {
        status: Some(status::EXCEPTION.into()),
        ..f.clone()
    };
    list(p, actor, &f).await
}
