//! POS sales: batches of tickets per store and business day from a named source system,
//! POS code mappings and the queue of unmapped codes, recipe depletion into the stock ledger,
//! the rollups dashboards read, actual-vs-theoretical usage, dashboards and anomalies.
//!
//! Owned tables: `sales_*` (see `migrations/*/20261203000001_sales.sql`).
//!
//! Published events: `sales.batch.ingested` (one per batch: store, day, version, totals),
//! `sales.day.replaced` (a store-day re-imported), `sales.code.mapped`. Stock changes are the
//! inventory ledger's `inventory.movements.posted`.
//!
//! Invariants:
//! - A batch is all or nothing: its tickets, lines, tenders, held lines, rollup changes, stock
//!   document, usage rows, audit row and event commit in one transaction, or none of them.
//! - A batch key (per store and source) is applied once: the same key with the same payload
//!   answers the first result; with another payload it is refused and nothing is written.
//! - Rollups (`sales_rollup_*`) always equal a recomputation from the lines, tickets and
//!   tenders of active batches ([`rollup::check`], `boh check`).
//! - Stock changes only through `ledger::post_in`: each batch posts one `sale` document with
//!   one movement per stocked ingredient (the recipe depletion of the batch's sold quantities,
//!   exploded once per sold item), and `sales_usage` keeps exactly what it depleted. A
//!   re-imported day reverses the documents of the versions it replaces.
//! - Refunds reduce sales, not usage (the food was made); voided lines count in void figures
//!   only.
//! - Reads are scoped by `sales.read` on the store's path; out of scope is `NotFound`.

pub mod anomaly;
pub mod avt;
pub mod dashboard;
pub mod demo;
pub mod ingest;
pub mod mapping;
pub mod rollup;

use boh_kernel::Actor;
use boh_platform::org::{self, OrgNode};
use boh_platform::{Platform, PlatformError, Result};

/// Tender types a ticket may be paid with.
pub const TENDERS: &[&str] = &[
    "cash", "card", "wechat", "alipay", "meituan", "eleme", "voucher", "member", "other",
];

/// Ticket kinds.
pub const TICKET_KINDS: &[&str] = &["sale", "refund", "void"];

/// A store (or any site that sells) the actor holds `perm` at; `NotFound` when it is out of
/// the actor's read scope or not a site, `Forbidden` when it is visible but `perm` is missing.
pub async fn store(p: &Platform, actor: &Actor, perm: &'static str, id: &str) -> Result<OrgNode> {
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::NotFound);
    }
    let node = org::fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
    let visible =
        actor.allows(boh_kernel::perm::SALES_READ, &node.path) || actor.allows(perm, &node.path);
    if !visible || !node.is_site() {
        return Err(PlatformError::NotFound);
    }
    if !actor.allows(perm, &node.path) {
        return Err(PlatformError::Forbidden(perm));
    }
    Ok(node)
}

/// Local date and hour of an instant in a time zone.
pub fn local_date_hour(micros: i64, tz: &str) -> Option<(jiff::civil::Date, i64)> {
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let ts = jiff::Timestamp::from_microsecond(micros).ok()?;
    let z = ts.to_zoned_datetime(zone);
    Some((z.date(), i64::from(z.hour())))
}

/// Page limits shared by the lists of this module: (limit 1–500, default 50; offset ≥ 0).
pub fn paging(limit: Option<i64>, offset: Option<i64>) -> (i64, i64) {
    boh_inventory::paging(limit, offset)
}

/// Refuse page limits outside 1–500 and negative offsets, naming the field.
pub fn check_paging(limit: Option<i64>, offset: Option<i64>) -> Result<()> {
    let mut errors = Vec::new();
    if limit.is_some_and(|l| !(1..=500).contains(&l)) {
        errors.push(boh_platform::FieldError::new(
            "limit",
            "must be between 1 and 500",
        ));
    }
    if offset.is_some_and(|o| o < 0) {
        errors.push(boh_platform::FieldError::new("offset", "must be 0 or more"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(PlatformError::Validation(errors))
    }
}
