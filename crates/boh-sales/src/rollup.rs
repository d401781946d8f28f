//! Rollups of active batches: store × day, × item, × hour, × tender and × cashier. A batch
//! adds its own aggregates ([`Rollups::add_to`]); a replaced store-day is rebuilt from its
//! lines ([`rebuild_store_day`]); [`check`] recomputes everything from the lines and compares.

use std::collections::BTreeMap;

use boh_db::{AssertSqlSafe, Row};
use boh_platform::org::OrgNode;
use boh_platform::{Platform, Result};
use serde::Serialize;
use sqlx::AnyConnection;

use crate::ingest::{Ticket, TicketKind};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayAgg {
    pub tickets: i64,
    pub refund_tickets: i64,
    pub refund_amount: i64,
    pub void_lines: i64,
    pub void_amount: i64,
    pub lines: i64,
    pub gross: i64,
    pub discount: i64,
    pub tax: i64,
    pub net: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemAgg {
    pub qty: i64,
    pub gross: i64,
    pub discount: i64,
    pub tax: i64,
    pub net: i64,
    pub lines: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HourAgg {
    pub tickets: i64,
    pub net: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TenderAgg {
    pub payments: i64,
    pub amount: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CashierAgg {
    pub tickets: i64,
    pub refund_tickets: i64,
    pub refund_amount: i64,
    pub void_lines: i64,
    pub void_amount: i64,
    pub lines: i64,
    pub net: i64,
}

type Day = (String, String);

/// Aggregates keyed by store and business date (and item, hour, tender or cashier).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rollups {
    /// (store, date) → (company, store path)
    pub stores: BTreeMap<Day, (String, String)>,
    pub day: BTreeMap<Day, DayAgg>,
    pub item: BTreeMap<(String, String, String), ItemAgg>,
    pub hour: BTreeMap<(String, String, i64), HourAgg>,
    pub tender: BTreeMap<(String, String, String), TenderAgg>,
    pub cashier: BTreeMap<(String, String, String), CashierAgg>,
}

impl Rollups {
    /// The aggregates of checked tickets of one store-day (lines with an item in the item
    /// rollup; every line in the others).
    pub fn of_tickets(store: &OrgNode, date: &str, tickets: &[Ticket]) -> Rollups {
        let mut r = Rollups::default();
        let s = store.id.clone();
        let d = date.to_string();
        r.stores.insert(
            (s.clone(), d.clone()),
            (store.company_id.clone(), store.path.clone()),
        );
        let mut day = DayAgg::default();
        for t in tickets {
            let sale = i64::from(t.kind == TicketKind::Sale);
            let refund = i64::from(t.kind == TicketKind::Refund);
            let tt = &t.totals;
            day.tickets += sale;
            day.refund_tickets += refund;
            day.refund_amount += refund * -tt.net;
            day.void_lines += tt.void_lines;
            day.void_amount += tt.void_amount;
            day.lines += tt.lines;
            day.gross += tt.gross;
            day.discount += tt.discount;
            day.tax += tt.tax;
            day.net += tt.net;
            let h = r.hour.entry((s.clone(), d.clone(), t.hour)).or_default();
            h.tickets += sale;
            h.net += tt.net;
            let c = r
                .cashier
                .entry((s.clone(), d.clone(), t.cashier.clone()))
                .or_default();
            c.tickets += sale;
            c.refund_tickets += refund;
            c.refund_amount += refund * -tt.net;
            c.void_lines += tt.void_lines;
            c.void_amount += tt.void_amount;
            c.lines += tt.lines;
            c.net += tt.net;
            for (x, a) in &t.tenders {
                let e = r
                    .tender
                    .entry((s.clone(), d.clone(), x.as_str().to_string()))
                    .or_default();
                e.payments += 1;
                e.amount += a;
            }
            for l in &t.lines {
                if l.voided {
                    continue;
                }
                if let Some(item) = &l.item_id {
                    r.add_item(&s, &d, item, l.qty, l.gross, l.discount, l.tax, l.net);
                }
            }
        }
        r.day.insert((s, d), day);
        r
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_item(
        &mut self,
        store: &str,
        date: &str,
        item: &str,
        qty: i64,
        gross: i64,
        discount: i64,
        tax: i64,
        net: i64,
    ) {
        let e = self
            .item
            .entry((store.to_string(), date.to_string(), item.to_string()))
            .or_default();
        e.qty += qty;
        e.gross += gross;
        e.discount += discount;
        e.tax += tax;
        e.net += net;
        e.lines += 1;
    }

    /// Add these aggregates to the rollup tables (upserts that add).
    pub async fn add_to(&self, tx: &mut AnyConnection) -> Result<()> {
        let day: Vec<_> = self.day.iter().collect();
        for chunk in day.chunks(crate::ingest::chunk_rows(14)) {
            let sql = format!(
                "INSERT INTO sales_rollup_day (store_id, business_date, company_id, store_path, tickets, \
                 refund_tickets, refund_amount, void_lines, void_amount, lines, gross, discount, tax, net) VALUES {} \
                 ON CONFLICT (store_id, business_date) DO UPDATE SET \
                 tickets = sales_rollup_day.tickets + excluded.tickets, \
                 refund_tickets = sales_rollup_day.refund_tickets + excluded.refund_tickets, \
                 refund_amount = sales_rollup_day.refund_amount + excluded.refund_amount, \
                 void_lines = sales_rollup_day.void_lines + excluded.void_lines, \
                 void_amount = sales_rollup_day.void_amount + excluded.void_amount, \
                 lines = sales_rollup_day.lines + excluded.lines, \
                 gross = sales_rollup_day.gross + excluded.gross, \
                 discount = sales_rollup_day.discount + excluded.discount, \
                 tax = sales_rollup_day.tax + excluded.tax, net = sales_rollup_day.net + excluded.net",
                boh_platform::util::values_list(tx, chunk.len(), 14)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for ((s, d), a) in chunk {
                let (company, path) = self
                    .stores
                    .get(&(s.clone(), d.clone()))
                    .cloned()
                    .unwrap_or_default();
                q = q
                    .bind(s.clone())
                    .bind(d.clone())
                    .bind(company)
                    .bind(path)
                    .bind(a.tickets)
                    .bind(a.refund_tickets)
                    .bind(a.refund_amount)
                    .bind(a.void_lines)
                    .bind(a.void_amount)
                    .bind(a.lines)
                    .bind(a.gross)
                    .bind(a.discount)
                    .bind(a.tax)
                    .bind(a.net);
            }
            q.execute(&mut *tx).await?;
        }
        self.add_items(tx).await?;
        let hour: Vec<_> = self.hour.iter().collect();
        for chunk in hour.chunks(crate::ingest::chunk_rows(5)) {
            let sql = format!(
                "INSERT INTO sales_rollup_hour (store_id, business_date, hour, tickets, net) VALUES {} \
                 ON CONFLICT (store_id, business_date, hour) DO UPDATE SET \
                 tickets = sales_rollup_hour.tickets + excluded.tickets, net = sales_rollup_hour.net + excluded.net",
                boh_platform::util::values_list(tx, chunk.len(), 5)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for ((s, d, h), a) in chunk {
                q = q
                    .bind(s.clone())
                    .bind(d.clone())
                    .bind(*h)
                    .bind(a.tickets)
                    .bind(a.net);
            }
            q.execute(&mut *tx).await?;
        }
        let tender: Vec<_> = self.tender.iter().collect();
        for chunk in tender.chunks(crate::ingest::chunk_rows(5)) {
            let sql = format!(
                "INSERT INTO sales_rollup_tender (store_id, business_date, tender, payments, amount) VALUES {} \
                 ON CONFLICT (store_id, business_date, tender) DO UPDATE SET \
                 payments = sales_rollup_tender.payments + excluded.payments, \
                 amount = sales_rollup_tender.amount + excluded.amount",
                boh_platform::util::values_list(tx, chunk.len(), 5)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for ((s, d, x), a) in chunk {
                q = q
                    .bind(s.clone())
                    .bind(d.clone())
                    .bind(x.clone())
                    .bind(a.payments)
                    .bind(a.amount);
            }
            q.execute(&mut *tx).await?;
        }
        let cashier: Vec<_> = self.cashier.iter().collect();
        for chunk in cashier.chunks(crate::ingest::chunk_rows(10)) {
            let sql = format!(
                "INSERT INTO sales_rollup_cashier (store_id, business_date, cashier, tickets, refund_tickets, \
                 refund_amount, void_lines, void_amount, lines, net) VALUES {} \
                 ON CONFLICT (store_id, business_date, cashier) DO UPDATE SET \
                 tickets = sales_rollup_cashier.tickets + excluded.tickets, \
                 refund_tickets = sales_rollup_cashier.refund_tickets + excluded.refund_tickets, \
                 refund_amount = sales_rollup_cashier.refund_amount + excluded.refund_amount, \
                 void_lines = sales_rollup_cashier.void_lines + excluded.void_lines, \
                 void_amount = sales_rollup_cashier.void_amount + excluded.void_amount, \
                 lines = sales_rollup_cashier.lines + excluded.lines, net = sales_rollup_cashier.net + excluded.net",
                boh_platform::util::values_list(tx, chunk.len(), 10)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for ((s, d, c), a) in chunk {
                q = q
                    .bind(s.clone())
                    .bind(d.clone())
                    .bind(c.clone())
                    .bind(a.tickets)
                    .bind(a.refund_tickets)
                    .bind(a.refund_amount)
                    .bind(a.void_lines)
                    .bind(a.void_amount)
                    .bind(a.lines)
                    .bind(a.net);
            }
            q.execute(&mut *tx).await?;
        }
        Ok(())
    }

    /// Add the item aggregates only (held lines once mapped).
    pub async fn add_items(&self, tx: &mut AnyConnection) -> Result<()> {
        let item: Vec<_> = self.item.iter().collect();
        for chunk in item.chunks(crate::ingest::chunk_rows(9)) {
            let sql = format!(
                "INSERT INTO sales_rollup_item (store_id, business_date, item_id, qty, gross, discount, tax, net, lines) \
                 VALUES {} ON CONFLICT (store_id, business_date, item_id) DO UPDATE SET \
                 qty = sales_rollup_item.qty + excluded.qty, gross = sales_rollup_item.gross + excluded.gross, \
                 discount = sales_rollup_item.discount + excluded.discount, tax = sales_rollup_item.tax + excluded.tax, \
                 net = sales_rollup_item.net + excluded.net, lines = sales_rollup_item.lines + excluded.lines",
                boh_platform::util::values_list(tx, chunk.len(), 9)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for ((s, d, i), a) in chunk {
                q = q
                    .bind(s.clone())
                    .bind(d.clone())
                    .bind(i.clone())
                    .bind(a.qty)
                    .bind(a.gross)
                    .bind(a.discount)
                    .bind(a.tax)
                    .bind(a.net)
                    .bind(a.lines);
            }
            q.execute(&mut *tx).await?;
        }
        Ok(())
    }
}

/// The statements that compute each rollup from the lines, tickets and tenders of active
/// batches, restricted by `filter` (a predicate on batch `b`).
fn recompute_sql(filter: &str) -> [(&'static str, String); 5] {
    [
        (
            "sales_rollup_day",
            format!(
                "SELECT b.store_id, b.business_date, MIN(b.company_id) AS company_id, MIN(b.store_path) AS store_path, \
                 CAST(SUM(CASE WHEN t.kind = 'sale' THEN 1 ELSE 0 END) AS BIGINT) AS tickets, \
                 CAST(SUM(CASE WHEN t.kind = 'refund' THEN 1 ELSE 0 END) AS BIGINT) AS refund_tickets, \
                 CAST(SUM(CASE WHEN t.kind = 'refund' THEN -t.net ELSE 0 END) AS BIGINT) AS refund_amount, \
                 CAST(SUM(t.void_lines) AS BIGINT) AS void_lines, CAST(SUM(t.void_amount) AS BIGINT) AS void_amount, CAST(SUM(t.lines) AS BIGINT) AS lines, \
                 CAST(SUM(t.gross) AS BIGINT) AS gross, CAST(SUM(t.discount) AS BIGINT) AS discount, CAST(SUM(t.tax) AS BIGINT) AS tax, CAST(SUM(t.net) AS BIGINT) AS net \
                 FROM sales_batches b JOIN sales_tickets t ON t.batch_id = b.id \
                 WHERE b.status = 'active' AND {filter} GROUP BY b.store_id, b.business_date"
            ),
        ),
        (
            "sales_rollup_item",
            format!(
                "SELECT b.store_id, b.business_date, l.item_id, CAST(SUM(l.qty) AS BIGINT) AS qty, CAST(SUM(l.gross) AS BIGINT) AS gross, \
                 CAST(SUM(l.discount) AS BIGINT) AS discount, CAST(SUM(l.tax) AS BIGINT) AS tax, CAST(SUM(l.net) AS BIGINT) AS net, COUNT(*) AS lines \
                 FROM sales_batches b JOIN sales_lines l ON l.batch_id = b.id \
                 WHERE b.status = 'active' AND l.voided = 0 AND l.item_id IS NOT NULL AND {filter} \
                 GROUP BY b.store_id, b.business_date, l.item_id"
            ),
        ),
        (
            "sales_rollup_hour",
            format!(
                "SELECT b.store_id, b.business_date, t.hour, CAST(SUM(CASE WHEN t.kind = 'sale' THEN 1 ELSE 0 END) AS BIGINT) AS tickets, \
                 CAST(SUM(t.net) AS BIGINT) AS net FROM sales_batches b JOIN sales_tickets t ON t.batch_id = b.id \
                 WHERE b.status = 'active' AND {filter} GROUP BY b.store_id, b.business_date, t.hour"
            ),
        ),
        (
            "sales_rollup_tender",
            format!(
                "SELECT b.store_id, b.business_date, x.tender, COUNT(*) AS payments, CAST(SUM(x.amount) AS BIGINT) AS amount \
                 FROM sales_batches b JOIN sales_tenders x ON x.batch_id = b.id \
                 WHERE b.status = 'active' AND {filter} GROUP BY b.store_id, b.business_date, x.tender"
            ),
        ),
        (
            "sales_rollup_cashier",
            format!(
                "SELECT b.store_id, b.business_date, t.cashier, CAST(SUM(CASE WHEN t.kind = 'sale' THEN 1 ELSE 0 END) AS BIGINT) AS tickets, \
                 CAST(SUM(CASE WHEN t.kind = 'refund' THEN 1 ELSE 0 END) AS BIGINT) AS refund_tickets, \
                 CAST(SUM(CASE WHEN t.kind = 'refund' THEN -t.net ELSE 0 END) AS BIGINT) AS refund_amount, \
                 CAST(SUM(t.void_lines) AS BIGINT) AS void_lines, CAST(SUM(t.void_amount) AS BIGINT) AS void_amount, CAST(SUM(t.lines) AS BIGINT) AS lines, \
                 CAST(SUM(t.net) AS BIGINT) AS net FROM sales_batches b JOIN sales_tickets t ON t.batch_id = b.id \
                 WHERE b.status = 'active' AND {filter} GROUP BY b.store_id, b.business_date, t.cashier"
            ),
        ),
    ]
}

/// Columns of each rollup table, in the order [`recompute_sql`] selects them.
const COLUMNS: [(&str, &str); 5] = [
    (
        "sales_rollup_day",
        "store_id, business_date, company_id, store_path, tickets, refund_tickets, refund_amount, void_lines, void_amount, lines, gross, discount, tax, net",
    ),
    (
        "sales_rollup_item",
        "store_id, business_date, item_id, qty, gross, discount, tax, net, lines",
    ),
    (
        "sales_rollup_hour",
        "store_id, business_date, hour, tickets, net",
    ),
    (
        "sales_rollup_tender",
        "store_id, business_date, tender, payments, amount",
    ),
    (
        "sales_rollup_cashier",
        "store_id, business_date, cashier, tickets, refund_tickets, refund_amount, void_lines, void_amount, lines, net",
    ),
];

/// Replace the rollup rows that `scope` selects (a predicate on the rollup table, binding `binds`)
/// with their recomputation from the active batches that `filter` selects (the same
/// predicate on batch `b`, the same binds).
async fn rebuild(tx: &mut AnyConnection, scope: &str, filter: &str, binds: &[&str]) -> Result<()> {
    for ((table, select), (_, cols)) in recompute_sql(filter).iter().zip(COLUMNS.iter()) {
        let mut q = sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE {scope}")));
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(&mut *tx).await?;
        let mut q = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {table} ({cols}) {select}"
        )));
        for b in binds {
            q = q.bind(*b);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

/// Rebuild every rollup of one store-day from its active batches (all sources).
pub async fn rebuild_store_day(tx: &mut AnyConnection, store_id: &str, date: &str) -> Result<()> {
    rebuild(
        tx,
        "store_id = $1 AND business_date = $2",
        "b.store_id = $1 AND b.business_date = $2",
        &[store_id, date],
    )
    .await
}

/// Rebuild every rollup of every store-day from the active batches, in `tx` (after a bulk load
/// of raw tickets, lines and tenders, or to repair what [`check`] reports).
pub async fn rebuild_all(tx: &mut AnyConnection) -> Result<()> {
    rebuild(tx, "1 = 1", "1 = 1", &[]).await
}

/// What [`check`] found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    /// Rows compared per table.
    pub rows: BTreeMap<String, usize>,
    /// Differences, at most 20 listed.
    pub problems: Vec<String>,
    /// Batches whose usage rows differ from their stock documents' movements.
    pub usage_mismatches: usize,
}

fn row_text(r: &boh_db::AnyRow, n: usize) -> String {
    (0..n)
        .map(|i| {
            r.try_get::<String, _>(i)
                .or_else(|_| r.try_get::<i64, _>(i).map(|v| v.to_string()))
                .unwrap_or_else(|_| "?".into())
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// Recompute every rollup from the lines of active batches and compare with the tables; and
/// check that the usage rows of each stock document equal its movements.
pub async fn check(p: &Platform) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    for ((table, select), (_, cols)) in recompute_sql("1 = 1").iter().zip(COLUMNS.iter()) {
        let n = cols.split(',').count();
        let want = sqlx::query(AssertSqlSafe(select.clone()))
            .fetch_all(p.db.pool())
            .await?;
        // Rows that are all zero after a replacement are not kept; compare non-empty rows.
        let have = sqlx::query(AssertSqlSafe(format!("SELECT {cols} FROM {table}")))
            .fetch_all(p.db.pool())
            .await?;
        let mut want_set: Vec<String> = want.iter().map(|r| row_text(r, n)).collect();
        let mut have_set: Vec<String> = have.iter().map(|r| row_text(r, n)).collect();
        want_set.sort();
        have_set.sort();
        report.rows.insert((*table).to_string(), have_set.len());
        if want_set != have_set {
            let w: std::collections::BTreeSet<&String> = want_set.iter().collect();
            let h: std::collections::BTreeSet<&String> = have_set.iter().collect();
            for x in w.difference(&h).take(10) {
                report
                    .problems
                    .push(format!("{table}: missing or wrong, expected {x}"));
            }
            for x in h.difference(&w).take(10) {
                report.problems.push(format!("{table}: unexpected {x}"));
            }
        }
    }
    let bad = sqlx::query(
        "SELECT COUNT(*) AS n FROM (SELECT u.doc_id FROM sales_usage u GROUP BY u.doc_id \
         HAVING CAST(SUM(u.qty) AS BIGINT) <> -(SELECT COALESCE(CAST(SUM(m.qty) AS BIGINT), 0) FROM inv_movements m WHERE m.doc_id = u.doc_id) \
         OR CAST(SUM(u.value) AS BIGINT) <> -(SELECT COALESCE(CAST(SUM(m.value) AS BIGINT), 0) FROM inv_movements m WHERE m.doc_id = u.doc_id)) x",
    )
    .fetch_one(p.db.pool())
    .await?;
    report.usage_mismatches = usize::try_from(bad.try_get::<i64, _>("n")?).unwrap_or(0);
    if report.usage_mismatches > 0 {
        report.problems.push(format!(
            "{} stock documents differ from their usage rows",
            report.usage_mismatches
        ));
    }
    Ok(report)
}
