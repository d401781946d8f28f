//! Batches of POS sales: validation, idempotency by batch key, store-day versions, held lines
//! for unmapped codes, rollups, and recipe depletion into the stock ledger, in one transaction.

use std::collections::{BTreeMap, HashMap};

use boh_db::{AssertSqlSafe, Row};
use boh_inventory::catalog::{self, Item};
use boh_inventory::ledger::{self, LotPick, PostDoc, PostLine, ValueSpec};
use boh_inventory::recipe::RecipeBook;
use boh_kernel::{Qty, id::new_id, now, perm};
use boh_platform::org::OrgNode;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::rollup::{self, Rollups};

/// Most lines one batch may carry.
pub const MAX_LINES: usize = 10_000;
/// Largest amount of one line or tender, in minor units.
const MAX_AMOUNT: i64 = 1_000_000_000_000;
/// Most errors one answer lists.
const MAX_ERRORS: usize = 1_000;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Add the batch to the store-day's current version (real-time ingestion).
    #[default]
    Append,
    /// Replace every batch of the store-day from this source with this one (a corrected day);
    /// the replaced batches are kept as `superseded` and their stock documents reversed.
    Replace,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Append => "append",
            Mode::Replace => "replace",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TicketKind {
    #[default]
    Sale,
    /// Money back to the customer: quantities and amounts are given positive and count
    /// negative.
    Refund,
    /// Cancelled before payment: every line counts as voided, no tenders.
    Void,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Sale => "sale",
            TicketKind::Refund => "refund",
            TicketKind::Void => "void",
        }
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Deserialize,
    Serialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Tender {
    Cash,
    Card,
    Wechat,
    Alipay,
    Meituan,
    Eleme,
    Voucher,
    Member,
    Other,
}

impl Tender {
    pub fn as_str(self) -> &'static str {
        match self {
            Tender::Cash => "cash",
            Tender::Card => "card",
            Tender::Wechat => "wechat",
            Tender::Alipay => "alipay",
            Tender::Meituan => "meituan",
            Tender::Eleme => "eleme",
            Tender::Voucher => "voucher",
            Tender::Member => "member",
            Tender::Other => "other",
        }
    }
}

/// Sales of one store and business day from one source system.
#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    pub store_id: String,
    /// The POS system the batch comes from (`pos`, `meituan`, …): 1–40 of a–z, 0–9, `_`, `-`.
    #[schema(min_length = 1, max_length = 40, pattern = "^[a-z0-9_-]+$")]
    pub source: String,
    /// YYYY-MM-DD, the store's trading day.
    #[schema(format = Date)]
    pub business_date: String,
    #[serde(default)]
    pub mode: Mode,
    /// Identifies the batch for retries (per store and source); the request's
    /// `Idempotency-Key` header is used when absent.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub batch_key: Option<String>,
    #[schema(min_items = 1)]
    pub tickets: Vec<TicketInput>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketInput {
    #[schema(min_length = 1, max_length = 64)]
    pub ticket_no: String,
    #[serde(default)]
    pub kind: TicketKind,
    /// When the ticket was closed, RFC 3339.
    #[schema(format = DateTime)]
    pub closed_at: String,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub cashier: Option<String>,
    #[schema(min_items = 1)]
    pub lines: Vec<LineInput>,
    #[serde(default)]
    pub tenders: Vec<TenderInput>,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SaleLineInput)]
pub struct LineInput {
    /// The POS code of the menu item or SKU.
    #[schema(min_length = 1, max_length = 64)]
    pub pos_code: String,
    /// The POS's name for it, shown in the unmapped-codes queue.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    /// In the item's base unit (menu items: portions), > 0.
    #[schema(value_type = String, example = "2")]
    pub qty: Qty,
    /// Price × quantity before discounts, tax included, minor units.
    #[schema(minimum = 0, maximum = 1_000_000_000_000i64)]
    pub gross: i64,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000i64)]
    pub discount: i64,
    /// The tax included in gross − discount.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000_000_000i64)]
    pub tax: i64,
    /// Removed before payment: counts as a void, not as a sale.
    #[serde(default)]
    pub void: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenderInput {
    pub tender: Tender,
    /// Minor units, > 0 (refund tenders too: the ticket's kind gives the sign).
    #[schema(minimum = 1, maximum = 1_000_000_000_000i64)]
    pub amount: i64,
}

/// A batch as stored.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Batch {
    pub id: String,
    pub store_id: String,
    pub source: String,
    pub business_date: String,
    pub batch_key: String,
    /// The store-day's version this batch belongs to.
    pub version: i64,
    /// append or replace
    pub mode: String,
    /// active or superseded
    pub status: String,
    pub superseded_by: Option<String>,
    pub ticket_count: i64,
    pub line_count: i64,
    /// Lines waiting for their POS code to be mapped.
    pub held_count: i64,
    pub gross: i64,
    pub discount: i64,
    pub tax: i64,
    pub net: i64,
    /// The `sale` stock document of the batch's recipe depletion, if anything was depleted.
    pub doc_id: Option<String>,
    /// Sold items with no recipe in force on the day (nothing depleted for them).
    pub no_recipe: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: String,
}

/// The answer to an ingested batch.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ingested {
    #[serde(flatten)]
    pub batch: Batch,
    /// True when this key was applied before and this is its first result again.
    pub replayed: bool,
    /// Batches this one replaced (mode `replace`).
    pub superseded: Vec<String>,
}

// ---------------------------------------------------------------- validation

/// A ticket checked and signed.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub seq: i64,
    pub ticket_no: String,
    pub kind: TicketKind,
    pub closed_at: i64,
    pub hour: i64,
    pub cashier: String,
    pub lines: Vec<Line>,
    pub tenders: Vec<(Tender, i64)>,
    pub totals: Totals,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Totals {
    pub lines: i64,
    pub void_lines: i64,
    pub void_amount: i64,
    pub gross: i64,
    pub discount: i64,
    pub tax: i64,
    pub net: i64,
}

#[derive(Debug, Clone)]
pub struct Line {
    pub line_no: i64,
    pub pos_code: String,
    pub name: Option<String>,
    /// Signed (refunds negative).
    pub qty: i64,
    pub gross: i64,
    pub discount: i64,
    pub tax: i64,
    pub net: i64,
    pub voided: bool,
    pub item_id: Option<String>,
}

/// A batch checked against its store, ready to apply.
#[derive(Debug, Clone)]
pub struct Checked {
    pub store: OrgNode,
    pub source: String,
    pub business_date: String,
    pub mode: Mode,
    pub batch_key: String,
    pub payload_hash: String,
    pub tickets: Vec<Ticket>,
}

impl Checked {
    pub fn line_count(&self) -> usize {
        self.tickets.iter().map(|t| t.lines.len()).sum()
    }
}

fn push(errors: &mut Vec<FieldError>, field: String, message: impl Into<String>) {
    if errors.len() < MAX_ERRORS {
        errors.push(FieldError::new(&field, message));
    }
}

fn valid_source(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn printable(s: &str, max: usize) -> bool {
    !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
}

/// Check a batch for its store: every problem is named at once (`tickets[3].lines[1].qty`),
/// nothing is looked up in the database. `fallback_key` is the request's `Idempotency-Key`.
pub fn check(store: &OrgNode, input: &BatchInput, fallback_key: Option<&str>) -> Result<Checked> {
    let mut errors = Vec::new();
    if !valid_source(&input.source) {
        push(
            &mut errors,
            "source".into(),
            "must be 1 to 40 of a-z, 0-9, _ and -",
        );
    }
    let date = input.business_date.parse::<jiff::civil::Date>().ok();
    if date.is_none() {
        push(
            &mut errors,
            "business_date".into(),
            "must be a date as YYYY-MM-DD",
        );
    }
    let key = input
        .batch_key
        .clone()
        .or_else(|| fallback_key.map(str::to_string));
    match &key {
        None => push(
            &mut errors,
            "batch_key".into(),
            "is required (or send an Idempotency-Key header)",
        ),
        Some(k) if !printable(k, 200) => push(
            &mut errors,
            "batch_key".into(),
            "must be 1 to 200 printable characters",
        ),
        _ => {}
    }
    if input.tickets.is_empty() {
        push(
            &mut errors,
            "tickets".into(),
            "at least one ticket is required",
        );
    }
    let total_lines: usize = input.tickets.iter().map(|t| t.lines.len()).sum();
    if total_lines > MAX_LINES {
        push(
            &mut errors,
            "tickets".into(),
            format!("a batch takes at most {MAX_LINES} lines; this one has {total_lines}"),
        );
        return Err(PlatformError::Validation(errors));
    }
    // Tickets may close from 6 hours before the business day starts to 30 hours after
    // (late-night trading belongs to the day it started on).
    let window = date.and_then(|d| {
        let zone = jiff::tz::TimeZone::get(&store.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let start = d.to_zoned_datetime(zone).ok()?.timestamp().as_microsecond();
        Some((start - 6 * 3_600_000_000, start + 30 * 3_600_000_000))
    });
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut tickets = Vec::with_capacity(input.tickets.len());
    let mut line_no = 0i64;
    for (ti, t) in input.tickets.iter().enumerate() {
        // Field names are built only for a refusal.
        let f = || format!("tickets[{ti}]");
        if !printable(&t.ticket_no, 64) {
            push(
                &mut errors,
                format!("{}.ticket_no", f()),
                "must be 1 to 64 printable characters",
            );
        } else if let Some(first) = seen.insert(t.ticket_no.as_str(), ti) {
            push(
                &mut errors,
                format!("{}.ticket_no", f()),
                format!("repeats tickets[{first}].ticket_no"),
            );
        }
        let cashier = t.cashier.clone().unwrap_or_default();
        if !cashier.is_empty() && !printable(&cashier, 64) {
            push(
                &mut errors,
                format!("{}.cashier", f()),
                "must be at most 64 printable characters",
            );
        }
        let closed = t
            .closed_at
            .parse::<jiff::Timestamp>()
            .ok()
            .map(|ts| ts.as_microsecond());
        let mut hour = 0;
        match (closed, window) {
            (None, _) => push(
                &mut errors,
                format!("{}.closed_at", f()),
                "must be a date and time as RFC 3339 (2026-12-01T12:30:00+08:00)",
            ),
            (Some(c), Some((from, to))) if c < from || c >= to => push(
                &mut errors,
                format!("{}.closed_at", f()),
                format!(
                    "is outside business day {} at this store (6 hours before it to 30 hours after its start)",
                    input.business_date
                ),
            ),
            (Some(c), _) => {
                hour = crate::local_date_hour(c, &store.timezone).map_or(0, |(_, h)| h);
            }
        }
        if t.lines.is_empty() {
            push(
                &mut errors,
                format!("{}.lines", f()),
                "at least one line is required",
            );
        }
        let sign = if t.kind == TicketKind::Refund { -1 } else { 1 };
        let mut totals = Totals::default();
        let mut lines = Vec::with_capacity(t.lines.len());
        for (li, l) in t.lines.iter().enumerate() {
            let lf = || format!("tickets[{ti}].lines[{li}]");
            line_no += 1;
            if !printable(&l.pos_code, 64) {
                push(
                    &mut errors,
                    format!("{}.pos_code", lf()),
                    "must be 1 to 64 printable characters",
                );
            }
            if let Some(n) = &l.name
                && (n.chars().count() > 200 || n.chars().any(char::is_control))
            {
                push(
                    &mut errors,
                    format!("{}.name", lf()),
                    "must be at most 200 printable characters",
                );
            }
            if l.qty.micros() <= 0 || l.qty.micros() > 1_000_000 * 1_000_000 {
                push(
                    &mut errors,
                    format!("{}.qty", lf()),
                    "must be greater than 0 and at most 1000000",
                );
            }
            let mut ok = true;
            for (name, v) in [("gross", l.gross), ("discount", l.discount), ("tax", l.tax)] {
                if !(0..=MAX_AMOUNT).contains(&v) {
                    push(
                        &mut errors,
                        format!("{}.{name}", lf()),
                        format!("must be between 0 and {MAX_AMOUNT} (minor units)"),
                    );
                    ok = false;
                }
            }
            if ok && l.discount > l.gross {
                push(
                    &mut errors,
                    format!("{}.discount", lf()),
                    "cannot be more than gross",
                );
            } else if ok && l.tax > l.gross - l.discount {
                push(
                    &mut errors,
                    format!("{}.tax", lf()),
                    "cannot be more than gross − discount",
                );
            }
            let voided = l.void || t.kind == TicketKind::Void;
            let net = l.gross - l.discount;
            if voided {
                totals.void_lines += 1;
                totals.void_amount += net;
            } else {
                totals.lines += 1;
                totals.gross += sign * l.gross;
                totals.discount += sign * l.discount;
                totals.tax += sign * l.tax;
                totals.net += sign * net;
            }
            lines.push(Line {
                line_no,
                pos_code: l.pos_code.trim().to_string(),
                name: l.name.clone(),
                qty: if voided {
                    l.qty.micros()
                } else {
                    sign * l.qty.micros()
                },
                gross: if voided { l.gross } else { sign * l.gross },
                discount: if voided {
                    l.discount
                } else {
                    sign * l.discount
                },
                tax: if voided { l.tax } else { sign * l.tax },
                net: if voided { net } else { sign * net },
                voided,
                item_id: None,
            });
        }
        let mut tenders = Vec::with_capacity(t.tenders.len());
        let mut paid = 0i64;
        for (xi, x) in t.tenders.iter().enumerate() {
            if !(1..=MAX_AMOUNT).contains(&x.amount) {
                push(
                    &mut errors,
                    format!("{}.tenders[{xi}].amount", f()),
                    format!("must be between 1 and {MAX_AMOUNT} (minor units)"),
                );
            }
            paid += sign * x.amount;
            tenders.push((x.tender, sign * x.amount));
        }
        if t.kind == TicketKind::Void {
            if !t.tenders.is_empty() {
                push(
                    &mut errors,
                    format!("{}.tenders", f()),
                    "a void ticket takes no tenders",
                );
            }
        } else if paid != totals.net {
            push(
                &mut errors,
                format!("{}.tenders", f()),
                format!(
                    "add up to {} but the lines' gross − discount is {}",
                    paid.abs(),
                    totals.net.abs()
                ),
            );
        }
        tickets.push(Ticket {
            seq: i64::try_from(ti).unwrap_or(i64::MAX) + 1,
            ticket_no: t.ticket_no.trim().to_string(),
            kind: t.kind,
            closed_at: closed.unwrap_or(0),
            hour,
            cashier,
            lines,
            tenders,
            totals,
        });
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let canonical = serde_json::to_vec(input).map_err(anyhow::Error::from)?;
    Ok(Checked {
        store: store.clone(),
        source: input.source.clone(),
        business_date: input.business_date.clone(),
        mode: input.mode,
        batch_key: key.unwrap_or_default(),
        payload_hash: boh_platform::util::sha256_hex(&canonical),
        tickets,
    })
}

// ---------------------------------------------------------------- resolution and depletion

/// POS codes of a company and source resolved to items: the source's mapping first, then an
/// item whose POS code is the code, then an item whose code is the code (a SKU).
pub async fn resolve_codes(
    p: &Platform,
    company_id: &str,
    source: &str,
    codes: &[String],
) -> Result<HashMap<String, String>> {
    let mut out: HashMap<String, String> = HashMap::new();
    for chunk in codes.chunks(500) {
        let ph = placeholders(chunk.len(), 3);
        let sql = format!(
            "SELECT pos_code AS code, item_id, 0 AS rank FROM sales_pos_mappings \
               WHERE company_id = $1 AND source = $2 AND pos_code IN ({ph}) \
             UNION ALL SELECT pos_code AS code, id AS item_id, 1 AS rank FROM inv_items \
               WHERE company_id = $1 AND active = 1 AND pos_code IN ({ph}) \
             UNION ALL SELECT code, id AS item_id, 2 AS rank FROM inv_items \
               WHERE company_id = $1 AND active = 1 AND code IN ({ph}) \
             ORDER BY rank DESC"
        );
        let mut q = sqlx::query(AssertSqlSafe(sql))
            .bind(company_id)
            .bind(source);
        for c in chunk {
            q = q.bind(c);
        }
        // Lowest rank last, so it wins.
        for r in q.fetch_all(p.db.pool()).await? {
            out.insert(r.try_get("code")?, r.try_get("item_id")?);
        }
    }
    Ok(out)
}

/// `$first, $first+1, …` for `n` binds (the same numbers repeat for each use in one
/// statement, which both engines accept).
fn placeholders(n: usize, first: usize) -> String {
    (0..n)
        .map(|i| format!("${}", first + i))
        .collect::<Vec<_>>()
        .join(",")
}

/// What a set of sold quantities depletes.
#[derive(Debug, Clone, Default)]
pub struct Depletion {
    /// Stocked item → quantity used (base micro-units, > 0).
    pub usage: BTreeMap<String, i64>,
    /// Codes of sold items with no recipe in force (nothing depleted for them).
    pub no_recipe: Vec<String>,
}

/// The recipe depletion of sold quantities per item (each item exploded once, for its total,
/// so rounding happens once per item and component).
pub async fn deplete(
    p: &Platform,
    company_id: &str,
    date: &str,
    sold: &BTreeMap<String, i64>,
) -> Result<Depletion> {
    let mut out = Depletion::default();
    if sold.is_empty() {
        return Ok(out);
    }
    let mut book = RecipeBook::new(company_id, date);
    let ids: Vec<String> = sold.keys().cloned().collect();
    book.ensure(p, &ids).await?;
    for (item, qty) in sold {
        if *qty <= 0 {
            continue;
        }
        match book.depletion(item, Qty(*qty)) {
            Ok(usages) => {
                for u in usages {
                    *out.usage.entry(u.item_id).or_default() += u.qty.micros();
                }
            }
            Err(PlatformError::Refused { .. }) | Err(PlatformError::Validation(_)) => {
                let code = book.facts(item).map_or(item.clone(), |f| f.code.clone());
                out.no_recipe.push(code);
            }
            Err(e) => return Err(e),
        }
    }
    out.usage.retain(|_, q| *q != 0);
    out.no_recipe.sort();
    Ok(out)
}

/// Where a depletion is posted: the batch's store and business day.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub store: &'a OrgNode,
    pub batch_id: &'a str,
    pub business_date: &'a str,
}

/// Post a depletion as one `sale` document at the store and record its usage rows.
pub async fn post_depletion(
    tx: &mut AnyConnection,
    p: &Platform,
    ctx: &Ctx,
    target: Target<'_>,
    items: &HashMap<String, Item>,
    usage: &BTreeMap<String, i64>,
) -> Result<Option<String>> {
    let Target {
        store,
        batch_id,
        business_date,
    } = target;
    let mut lines = Vec::with_capacity(usage.len());
    for (i, (item_id, qty)) in usage.iter().enumerate() {
        let Some(item) = items.get(item_id) else {
            continue;
        };
        lines.push(PostLine {
            item: item.clone(),
            lot: if item.lot_tracked {
                LotPick::Fefo
            } else {
                LotPick::NoLot
            },
            qty: -qty,
            value: ValueSpec::AtCost,
            kind: "sale",
            reason: None,
            reverses_id: None,
            field: format!("usage[{i}]"),
        });
    }
    if lines.is_empty() {
        return Ok(None);
    }
    let doc = ledger::post_in(
        tx,
        p.db.backend(),
        ctx,
        &PostDoc {
            location: store.clone(),
            kind: "sale",
            business_date: business_date.to_string(),
            reference: None,
            note: None,
            source_type: Some("sales.batch".into()),
            source_id: Some(batch_id.to_string()),
            reverses_id: None,
            lines,
            allow_negative: true,
        },
    )
    .await?;
    let mut per_item: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for m in &doc.movements {
        let e = per_item.entry(m.item_id.as_str()).or_default();
        e.0 -= m.qty.micros();
        e.1 -= m.value;
    }
    let rows: Vec<(&str, (i64, i64))> = per_item.into_iter().collect();
    for chunk in rows.chunks(500) {
        let sql = format!(
            "INSERT INTO sales_usage (doc_id, batch_id, item_id, store_id, business_date, qty, value) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 7)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (item, (qty, value)) in chunk {
            q = q
                .bind(doc.id.clone())
                .bind(batch_id.to_string())
                .bind(item.to_string())
                .bind(store.id.clone())
                .bind(business_date.to_string())
                .bind(*qty)
                .bind(*value);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(Some(doc.id))
}

/// Reverse, inside the caller's transaction, every stock document that depleted for these
/// batches (a replaced store-day).
async fn reverse_batches(
    tx: &mut AnyConnection,
    p: &Platform,
    ctx: &Ctx,
    store: &OrgNode,
    batch_ids: &[String],
) -> Result<()> {
    if batch_ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "SELECT m.id, m.doc_id, m.item_id, m.lot_id, m.qty, m.value, d.business_date \
         FROM inv_movements m JOIN inv_docs d ON d.id = m.doc_id \
         WHERE m.doc_id IN (SELECT DISTINCT doc_id FROM sales_usage WHERE batch_id IN ({})) \
         ORDER BY m.doc_id, m.line_no",
        placeholders(batch_ids.len(), 1)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in batch_ids {
        q = q.bind(b);
    }
    let rows = q.fetch_all(&mut *tx).await?;
    // doc → (business date, [(movement, item, lot, qty, value)])
    type Moves = Vec<(String, String, String, i64, i64)>;
    let mut by_doc: BTreeMap<String, (String, Moves)> = BTreeMap::new();
    for r in &rows {
        let doc: String = r.try_get("doc_id")?;
        let e = by_doc
            .entry(doc)
            .or_insert_with(|| (r.try_get("business_date").unwrap_or_default(), Vec::new()));
        e.1.push((
            r.try_get("id")?,
            r.try_get("item_id")?,
            r.try_get("lot_id")?,
            r.try_get("qty")?,
            r.try_get("value")?,
        ));
    }
    let ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.try_get::<String, _>("item_id").ok())
        .collect();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    for (doc_id, (date, movements)) in by_doc {
        let mut lines = Vec::new();
        for (i, (mid, item_id, lot, qty, value)) in movements.into_iter().enumerate() {
            let item = items
                .get(&item_id)
                .cloned()
                .ok_or(PlatformError::NotFound)?;
            lines.push(PostLine {
                item,
                lot: if lot.is_empty() {
                    LotPick::NoLot
                } else {
                    LotPick::Lot(lot)
                },
                qty: -qty,
                value: ValueSpec::Known(-value),
                kind: "sale",
                reason: None,
                reverses_id: Some(mid),
                field: format!("movements[{i}]"),
            });
        }
        ledger::post_in(
            tx,
            p.db.backend(),
            ctx,
            &PostDoc {
                location: store.clone(),
                kind: "sale",
                business_date: date,
                reference: None,
                note: Some(format!("reversal of {doc_id}: store-day re-imported")),
                source_type: Some("reversal".into()),
                source_id: Some(doc_id.clone()),
                reverses_id: Some(doc_id),
                lines,
                allow_negative: true,
            },
        )
        .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- apply

const BATCH_COLS: &str = "id, store_id, source, business_date, batch_key, version, mode, status, \
    superseded_by, ticket_count, line_count, held_count, gross, discount, tax, net, doc_id, no_recipe, \
    created_at, created_by, payload_hash";

fn batch_from(r: &boh_db::AnyRow) -> Result<Batch> {
    let no_recipe: String = r.try_get("no_recipe")?;
    Ok(Batch {
        id: r.try_get("id")?,
        store_id: r.try_get("store_id")?,
        source: r.try_get("source")?,
        business_date: r.try_get("business_date")?,
        batch_key: r.try_get("batch_key")?,
        version: r.try_get("version")?,
        mode: r.try_get("mode")?,
        status: r.try_get("status")?,
        superseded_by: r.try_get("superseded_by")?,
        ticket_count: r.try_get("ticket_count")?,
        line_count: r.try_get("line_count")?,
        held_count: r.try_get("held_count")?,
        gross: r.try_get("gross")?,
        discount: r.try_get("discount")?,
        tax: r.try_get("tax")?,
        net: r.try_get("net")?,
        doc_id: r.try_get("doc_id")?,
        no_recipe: no_recipe
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        created_by: r.try_get("created_by")?,
    })
}

/// The earlier result of a batch key, or a refusal when the key came with another payload.
async fn replay(p: &Platform, key: &BatchKey) -> Result<Option<Ingested>> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {BATCH_COLS} FROM sales_batches WHERE store_id = $1 AND source = $2 AND batch_key = $3"
    )))
    .bind(&key.store_id)
    .bind(&key.source)
    .bind(&key.batch_key)
    .fetch_optional(p.db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let hash: String = r.try_get("payload_hash")?;
    if hash != key.payload_hash {
        return Err(PlatformError::IdempotencyMismatch);
    }
    Ok(Some(Ingested {
        batch: batch_from(&r)?,
        replayed: true,
        superseded: Vec::new(),
    }))
}

/// What identifies a batch for idempotency.
#[derive(Debug, Clone)]
struct BatchKey {
    store_id: String,
    source: String,
    batch_key: String,
    payload_hash: String,
}

impl BatchKey {
    fn of(c: &Checked) -> BatchKey {
        BatchKey {
            store_id: c.store.id.clone(),
            source: c.source.clone(),
            batch_key: c.batch_key.clone(),
            payload_hash: c.payload_hash.clone(),
        }
    }
}

/// Ingest a batch (see the module documentation). The same key again answers the first
/// result with `replayed: true`.
pub async fn ingest(p: &Platform, ctx: &Ctx, input: &BatchInput) -> Result<Ingested> {
    let store = crate::store(p, &ctx.actor, perm::SALES_INGEST, &input.store_id).await?;
    let fallback = ctx.idem.as_ref().map(|k| k.key.as_str());
    let c = check(&store, input, fallback)?;
    let key = BatchKey::of(&c);
    if let Some(done) = replay(p, &key).await? {
        return Ok(done);
    }
    match apply(p, ctx, c).await {
        Err(PlatformError::IdempotencyRace) => {
            replay(p, &key).await?.ok_or(PlatformError::IdempotencyRace)
        }
        r => r,
    }
}

/// A checked batch with its codes resolved and its depletion exploded (outside any
/// transaction): everything its write needs.
pub struct Prepared {
    ctx: Ctx,
    c: Checked,
    company_id: String,
    id: String,
    t_now: i64,
    totals: Totals,
    held: BTreeMap<String, (String, Vec<i64>)>,
    held_count: i64,
    depletion: Depletion,
    items: HashMap<String, Item>,
    rollups: Rollups,
}

/// Ingest batches waiting for the write turn together (see [`boh_platform::group`]).
type IngestGroup = boh_platform::group::Group<Prepared, Ingested>;

/// Resolve, deplete and write a checked batch in one transaction. On SQLite, batches that
/// arrive while another is being written are written together with it (group commit).
pub async fn apply(p: &Platform, ctx: &Ctx, c: Checked) -> Result<Ingested> {
    let prep = prepare(p, ctx, c).await?;
    match p.db.backend() {
        boh_db::Backend::Sqlite => {
            let units = prep.c.line_count().max(1);
            let pc = p.clone();
            p.shared::<IngestGroup>()
                .submit(&p.db, prep, units, move |tx, j| {
                    let p = pc.clone();
                    Box::pin(async move { write(tx, &p, j).await })
                })
                .await
        }
        boh_db::Backend::Postgres => tx!(p.db, tx, { write(tx, p, &prep).await }),
    }
}

/// Everything of a batch that needs no transaction: code resolution, the recipe explosion,
/// the items it depletes, its rollups and totals.
async fn prepare(p: &Platform, ctx: &Ctx, mut c: Checked) -> Result<Prepared> {
    let company_id = c.store.company_id.clone();
    let mut codes: Vec<String> = c
        .tickets
        .iter()
        .flat_map(|t| t.lines.iter().map(|l| l.pos_code.clone()))
        .collect();
    codes.sort();
    codes.dedup();
    let resolved = resolve_codes(p, &company_id, &c.source, &codes).await?;
    let mut sold: BTreeMap<String, i64> = BTreeMap::new();
    let mut held: BTreeMap<String, (String, Vec<i64>)> = BTreeMap::new();
    for t in &mut c.tickets {
        for l in &mut t.lines {
            l.item_id = resolved.get(&l.pos_code).cloned();
            match &l.item_id {
                Some(item) => {
                    if t.kind == TicketKind::Sale && !l.voided {
                        *sold.entry(item.clone()).or_default() += l.qty;
                    }
                }
                None => {
                    let e = held
                        .entry(l.pos_code.clone())
                        .or_insert_with(|| (String::new(), Vec::new()));
                    if e.0.is_empty()
                        && let Some(n) = &l.name
                    {
                        e.0 = n.clone();
                    }
                    e.1.push(l.line_no);
                }
            }
        }
    }
    let depletion = deplete(p, &company_id, &c.business_date, &sold).await?;
    let usage_ids: Vec<String> = depletion.usage.keys().cloned().collect();
    let items: HashMap<String, Item> = catalog::fetch_items(p, &usage_ids)
        .await?
        .into_iter()
        .map(|i| (i.id.clone(), i))
        .collect();
    let rollups = Rollups::of_tickets(&c.store, &c.business_date, &c.tickets);
    let totals = c.tickets.iter().fold(Totals::default(), |mut a, t| {
        a.lines += t.totals.lines + t.totals.void_lines;
        a.gross += t.totals.gross;
        a.discount += t.totals.discount;
        a.tax += t.totals.tax;
        a.net += t.totals.net;
        a
    });
    let held_count: i64 = held.values().map(|(_, v)| v.len() as i64).sum();
    Ok(Prepared {
        ctx: ctx.clone(),
        c,
        company_id,
        id: new_id(),
        t_now: now().micros(),
        totals,
        held,
        held_count,
        depletion,
        items,
        rollups,
    })
}

/// Write a prepared batch inside the caller's transaction.
async fn write(tx: &mut AnyConnection, p: &Platform, prep: &Prepared) -> Result<Ingested> {
    let Prepared {
        ctx,
        c,
        company_id,
        id,
        t_now,
        totals,
        held,
        held_count,
        depletion,
        items,
        rollups,
    } = prep;
    let (t_now, held_count) = (*t_now, *held_count);
    // The store-day row: created, or for a replacement moved to the next version. On
    // PostgreSQL the upsert also serialises writers of the same store-day.
    let bump = i64::from(c.mode == Mode::Replace);
    let version: i64 = sqlx::query(
        "INSERT INTO sales_days (store_id, source, business_date, company_id, store_path, version, updated_at) \
         VALUES ($1,$2,$3,$4,$5,1,$6) ON CONFLICT (store_id, source, business_date) \
         DO UPDATE SET version = sales_days.version + $7, updated_at = excluded.updated_at RETURNING version",
    )
    .bind(&c.store.id)
    .bind(&c.source)
    .bind(&c.business_date)
    .bind(company_id)
    .bind(&c.store.path)
    .bind(t_now)
    .bind(bump)
    .fetch_one(&mut *tx)
    .await?
    .try_get("version")?;
    let mut superseded = Vec::new();
    if c.mode == Mode::Replace {
        let rows = sqlx::query(
            "SELECT id FROM sales_batches WHERE store_id = $1 AND source = $2 AND business_date = $3 \
             AND status = 'active' AND id <> $4 ORDER BY id",
        )
        .bind(&c.store.id)
        .bind(&c.source)
        .bind(&c.business_date)
        .bind(id)
        .fetch_all(&mut *tx)
        .await?;
        for r in &rows {
            superseded.push(r.try_get::<String, _>("id")?);
        }
        supersede(tx, p, ctx, &c.store, id, &superseded).await?;
    }

    let doc_id = post_depletion(
        tx,
        p,
        ctx,
        Target {
            store: &c.store,
            batch_id: id,
            business_date: &c.business_date,
        },
        items,
        &depletion.usage,
    )
    .await?;
    // The batch row, now that its stock document is known. Its unique key (store, source,
    // batch key) is what makes a concurrent duplicate fail here and roll back whole.
    let inserted = sqlx::query(
        "INSERT INTO sales_batches (id, company_id, store_id, store_path, source, business_date, batch_key, \
         payload_hash, version, mode, status, superseded_by, ticket_count, line_count, held_count, gross, \
         discount, tax, net, doc_id, no_recipe, created_at, created_by) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'active',NULL,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21)",
    )
    .bind(id)
    .bind(company_id)
    .bind(&c.store.id)
    .bind(&c.store.path)
    .bind(&c.source)
    .bind(&c.business_date)
    .bind(&c.batch_key)
    .bind(&c.payload_hash)
    .bind(version)
    .bind(c.mode.as_str())
    .bind(c.tickets.len() as i64)
    .bind(totals.lines)
    .bind(held_count)
    .bind(totals.gross)
    .bind(totals.discount)
    .bind(totals.tax)
    .bind(totals.net)
    .bind(doc_id.as_deref())
    .bind(depletion.no_recipe.join(","))
    .bind(t_now)
    .bind(&ctx.actor.user_id)
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
    write_raw(tx, id, &c.tickets).await?;
    write_held(tx, company_id, &c.source, id, held, t_now).await?;

    // Rollups: the store-day rebuilt from its active batches after a replacement, else
    // this batch's aggregates added.
    if c.mode == Mode::Replace {
        rollup::rebuild_store_day(tx, &c.store.id, &c.business_date).await?;
    } else {
        rollups.add_to(tx).await?;
    }
    // The row as written (a replay reads the same values back).
    let batch = Batch {
        id: id.clone(),
        store_id: c.store.id.clone(),
        source: c.source.clone(),
        business_date: c.business_date.clone(),
        batch_key: c.batch_key.clone(),
        version,
        mode: c.mode.as_str().to_string(),
        status: "active".into(),
        superseded_by: None,
        ticket_count: c.tickets.len() as i64,
        line_count: totals.lines,
        held_count,
        gross: totals.gross,
        discount: totals.discount,
        tax: totals.tax,
        net: totals.net,
        doc_id,
        no_recipe: depletion.no_recipe.clone(),
        created_at: boh_kernel::Instant(t_now).rfc3339(),
        created_by: ctx.actor.user_id.clone(),
    };
    let summary = serde_json::json!({
        "id": batch.id, "store_id": batch.store_id, "source": batch.source,
        "business_date": batch.business_date, "version": batch.version, "mode": batch.mode,
        "tickets": batch.ticket_count, "lines": batch.line_count, "held": batch.held_count,
        "net": batch.net, "doc_id": batch.doc_id, "superseded": superseded,
    });
    audit::append(
        tx,
        ctx,
        audit::Change {
            action: "sales.batch.ingest",
            entity_type: "sales_batch",
            entity_id: id,
            org_path: Some(&c.store.path),
            before: None,
            after: Some(summary.clone()),
        },
    )
    .await?;
    events::emit(tx, "sales.batch.ingested", Some(&c.store.path), &summary).await?;
    if !superseded.is_empty() {
        events::emit(tx, "sales.day.replaced", Some(&c.store.path), &summary).await?;
    }
    let done = Ingested {
        batch,
        replayed: false,
        superseded,
    };
    // A request that carried an `Idempotency-Key` also records it with its answer.
    boh_platform::idem::record_created(tx, ctx, &done).await?;
    Ok(done)
}

/// Mark batches superseded by `by`, reverse their stock documents and drop their held lines.
async fn supersede(
    tx: &mut AnyConnection,
    p: &Platform,
    ctx: &Ctx,
    store: &OrgNode,
    by: &str,
    ids: &[String],
) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    reverse_batches(tx, p, ctx, store, ids).await?;
    for chunk in ids.chunks(400) {
        let ph = placeholders(chunk.len(), 2);
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "UPDATE sales_batches SET status = 'superseded', superseded_by = $1 WHERE id IN ({ph})"
        )))
        .bind(by);
        for id in chunk {
            q = q.bind(id);
        }
        q.execute(&mut *tx).await?;
        let ph = placeholders(chunk.len(), 1);
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "DELETE FROM sales_held WHERE batch_id IN ({ph})"
        )));
        for id in chunk {
            q = q.bind(id);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Rows per multi-row statement for `k` columns.
pub fn chunk_rows(k: usize) -> usize {
    (16_000 / k).clamp(1, 1_000)
}

/// Insert the tickets, lines and tenders of a batch with multi-row statements.
pub async fn write_raw(tx: &mut AnyConnection, batch_id: &str, tickets: &[Ticket]) -> Result<()> {
    for chunk in tickets.chunks(chunk_rows(14)) {
        let sql = format!(
            "INSERT INTO sales_tickets (batch_id, seq, ticket_no, kind, closed_at, hour, cashier, lines, \
             void_lines, void_amount, gross, discount, tax, net) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 14)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for t in chunk {
            q = q
                .bind(batch_id.to_string())
                .bind(t.seq)
                .bind(t.ticket_no.clone())
                .bind(t.kind.as_str())
                .bind(t.closed_at)
                .bind(t.hour)
                .bind(t.cashier.clone())
                .bind(t.totals.lines)
                .bind(t.totals.void_lines)
                .bind(t.totals.void_amount)
                .bind(t.totals.gross)
                .bind(t.totals.discount)
                .bind(t.totals.tax)
                .bind(t.totals.net);
        }
        q.execute(&mut *tx).await?;
    }
    let lines: Vec<(i64, &Line)> = tickets
        .iter()
        .flat_map(|t| t.lines.iter().map(move |l| (t.seq, l)))
        .collect();
    for chunk in lines.chunks(chunk_rows(11)) {
        let sql = format!(
            "INSERT INTO sales_lines (batch_id, line_no, ticket_seq, pos_code, item_id, qty, gross, discount, \
             tax, net, voided) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 11)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (seq, l) in chunk {
            q = q
                .bind(batch_id.to_string())
                .bind(l.line_no)
                .bind(*seq)
                .bind(l.pos_code.clone())
                .bind(l.item_id.clone())
                .bind(l.qty)
                .bind(l.gross)
                .bind(l.discount)
                .bind(l.tax)
                .bind(l.net)
                .bind(i64::from(l.voided));
        }
        q.execute(&mut *tx).await?;
    }
    let mut tenders: Vec<(i64, Tender, i64)> = Vec::new();
    for t in tickets {
        for (x, a) in &t.tenders {
            tenders.push((t.seq, *x, *a));
        }
    }
    for (ci, chunk) in tenders.chunks(chunk_rows(5)).enumerate() {
        let sql = format!(
            "INSERT INTO sales_tenders (batch_id, seq, ticket_seq, tender, amount) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 5)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (i, (seq, x, a)) in chunk.iter().enumerate() {
            q = q
                .bind(batch_id.to_string())
                .bind((ci * chunk_rows(5) + i + 1) as i64)
                .bind(*seq)
                .bind(x.as_str())
                .bind(*a);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Queue held lines and their codes.
async fn write_held(
    tx: &mut AnyConnection,
    company_id: &str,
    source: &str,
    batch_id: &str,
    held: &BTreeMap<String, (String, Vec<i64>)>,
    t_now: i64,
) -> Result<()> {
    if held.is_empty() {
        return Ok(());
    }
    let rows: Vec<(&str, i64)> = held
        .iter()
        .flat_map(|(code, (_, nos))| nos.iter().map(move |n| (code.as_str(), *n)))
        .collect();
    for chunk in rows.chunks(chunk_rows(5)) {
        let sql = format!(
            "INSERT INTO sales_held (company_id, source, pos_code, batch_id, line_no) VALUES {}",
            boh_platform::util::values_list(tx, chunk.len(), 5)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (code, n) in chunk {
            q = q
                .bind(company_id.to_string())
                .bind(source.to_string())
                .bind(code.to_string())
                .bind(batch_id.to_string())
                .bind(*n);
        }
        q.execute(&mut *tx).await?;
    }
    let codes: Vec<(&String, &String)> = held.iter().map(|(c, (n, _))| (c, n)).collect();
    for chunk in codes.chunks(chunk_rows(7)) {
        let sql = format!(
            "INSERT INTO sales_unmapped (company_id, source, pos_code, pos_name, status, first_seen_at, last_seen_at) \
             VALUES {} ON CONFLICT (company_id, source, pos_code) DO UPDATE SET status = 'open', \
             last_seen_at = excluded.last_seen_at, resolved_at = NULL, item_id = NULL, \
             pos_name = CASE WHEN excluded.pos_name = '' THEN sales_unmapped.pos_name ELSE excluded.pos_name END",
            boh_platform::util::values_list(tx, chunk.len(), 7)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (code, name) in chunk {
            q = q
                .bind(company_id.to_string())
                .bind(source.to_string())
                .bind(code.to_string())
                .bind(name.to_string())
                .bind("open")
                .bind(t_now)
                .bind(t_now);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

// ---------------------------------------------------------------- reads

/// Filter for [`list_batches`].
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BatchFilter {
    pub store_id: Option<String>,
    #[param(format = Date)]
    pub business_date: Option<String>,
    pub source: Option<String>,
    /// active or superseded
    pub status: Option<String>,
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
    #[param(minimum = 0)]
    pub offset: Option<i64>,
}

/// Batches in the actor's scope, newest first.
pub async fn list_batches(
    p: &Platform,
    actor: &boh_kernel::Actor,
    f: &BatchFilter,
) -> Result<(Vec<Batch>, i64)> {
    crate::check_paging(f.limit, f.offset)?;
    let (limit, offset) = crate::paging(f.limit, f.offset);
    let scope = actor.scope(perm::SALES_READ).sql("store_path");
    let mut sql =
        format!("SELECT {BATCH_COLS}, COUNT(*) OVER () AS total FROM sales_batches WHERE {scope}");
    let mut binds: Vec<String> = Vec::new();
    let mut errors = Vec::new();
    if let Some(s) = f.store_id.as_ref().filter(|s| !s.is_empty()) {
        binds.push(s.clone());
        sql.push_str(&format!(" AND store_id = ${}", binds.len()));
    }
    if let Some(d) = &f.business_date {
        if d.parse::<jiff::civil::Date>().is_err() {
            errors.push(FieldError::new(
                "business_date",
                "must be a date as YYYY-MM-DD",
            ));
        }
        binds.push(d.clone());
        sql.push_str(&format!(" AND business_date = ${}", binds.len()));
    }
    if let Some(s) = f.source.as_ref().filter(|s| !s.is_empty()) {
        binds.push(s.clone());
        sql.push_str(&format!(" AND source = ${}", binds.len()));
    }
    if let Some(s) = f.status.as_ref().filter(|s| !s.is_empty()) {
        if s != "active" && s != "superseded" {
            errors.push(FieldError::new("status", "must be active or superseded"));
        }
        binds.push(s.clone());
        sql.push_str(&format!(" AND status = ${}", binds.len()));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    sql.push_str(&format!(
        " ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
    ));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(b);
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    let total = rows
        .first()
        .map(|r| r.try_get::<i64, _>("total"))
        .transpose()?
        .unwrap_or(0);
    Ok((rows.iter().map(batch_from).collect::<Result<_>>()?, total))
}

/// One batch in the actor's scope.
pub async fn get_batch(p: &Platform, actor: &boh_kernel::Actor, id: &str) -> Result<Batch> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {BATCH_COLS}, store_path FROM sales_batches WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let path: String = row.try_get("store_path")?;
    if !actor.allows(perm::SALES_READ, &path) {
        return Err(PlatformError::NotFound);
    }
    batch_from(&row)
}
