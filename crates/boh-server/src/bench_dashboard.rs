//! `boh bench dashboard`: the HQ sales dashboard over a chain of `--stores` stores (default
//! 200) with `--days` days of POS history (default 730) of 18 tickets × 4 lines a store-day,
//! about 10.5 million sale lines, against the same figures computed from the raw lines (what a
//! dashboard without rollups has to do), on the same database in the same run.
//!
//! The server starts on a fresh database with the small demo chain; stores are added through
//! the org use case up to `--stores`, spread over the demo regions. The history is loaded with
//! set-based SQL in one transaction: lines (prices with weekly and yearly seasonality and a
//! year-on-year growth, every 13th line discounted, every 199th voided), tickets summed from
//! their lines, one tender per ticket, batches and store-days; the rollups are then built from
//! the raw rows by the product's own recomputation ([`boh_sales::rollup::rebuild_all`]), the
//! same statements the `sales.rollups` checker compares against.
//!
//! Measured, each `--runs` × 10 times after three unmeasured runs (p50 and p99): the HQ dashboard as the use case
//! (its queries), the same through `GET /api/v1/sales/dashboard` (end to end), a region's and
//! a store's dashboard. The baseline, `--runs` times (median): net sales and tickets per store
//! for the dashboard's six periods (today, week and month to date, and the same last year)
//! aggregated from `sales_lines` and `sales_tickets`. The dashboard's totals must equal the
//! baseline's.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::time::Instant;

use boh_db::{AssertSqlSafe, Backend, Row};
use boh_platform::Platform;
use boh_platform::ctx::Ctx;
use boh_platform::org::{self, NewNode, OrgNode};
use boh_sales::dashboard;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jiff::ToSpan;
use jiff::civil::Date;
use serde_json::json;

use crate::bench::BenchArgs;
use crate::bench_stock::{PostClient, login, percentile, request, server};
use crate::bench_valuation::{admin_actor, exec, median, series, uuid};

const TICKETS_PER_DAY: i64 = 18;
const LINES_PER_TICKET: i64 = 4;
const LINES_PER_DAY: i64 = TICKETS_PER_DAY * LINES_PER_TICKET;
/// Unmeasured runs before each measured case (the first read after the load warms the cache).
const WARM_UP: usize = 3;

/// Tables the load empties first (the small demo's week of sales for two stores).
const SALES_TABLES: &[&str] = &[
    "sales_days",
    "sales_batches",
    "sales_tickets",
    "sales_lines",
    "sales_tenders",
    "sales_held",
    "sales_usage",
    "sales_unmapped",
    "sales_rollup_day",
    "sales_rollup_item",
    "sales_rollup_hour",
    "sales_rollup_tender",
    "sales_rollup_cashier",
];

/// Price factor of a day in percent: growth of about 8 % a year, busier weekends, a Chinese
/// New Year and Golden Week lift, a quiet late summer.
fn day_factor(d: Date, k: i64) -> i64 {
    use jiff::civil::Weekday::*;
    let week = match d.weekday() {
        Friday => 15,
        Saturday => 30,
        Sunday => 25,
        _ => 0,
    };
    let season = match (d.month(), d.day()) {
        (1, 20..) | (2, ..=15) => 25,
        (10, 1..=7) => 35,
        (8, _) => -10,
        _ => 0,
    };
    80 + k * 8 / 365 + week + season
}

/// The chain's stores, with bench stores added up to `wanted`; and how many were added.
async fn add_stores(
    p: &Platform,
    company: &str,
    wanted: usize,
) -> anyhow::Result<(Vec<OrgNode>, usize)> {
    let nodes = org::company_nodes(p, company).await?;
    let regions: Vec<&OrgNode> = nodes.iter().filter(|n| n.kind == "region").collect();
    anyhow::ensure!(!regions.is_empty(), "the demo chain has no regions");
    let have = nodes.iter().filter(|n| n.kind == "store").count();
    let ctx = Ctx::system();
    for k in have..wanted {
        let region = regions[k % regions.len()];
        org::create(
            p,
            &ctx,
            NewNode {
                parent_id: Some(region.id.clone()),
                kind: "store".into(),
                code: format!("B{k:04}"),
                name_zh: Some(format!("基准门店 {k}")),
                name_en: Some(format!("Bench store {k}")),
                sales_area_m2: Some(100 + (k as i64 % 9) * 20),
                ..Default::default()
            },
        )
        .await?;
    }
    let mut stores: Vec<OrgNode> = org::company_nodes(p, company)
        .await?
        .into_iter()
        .filter(|n| n.kind == "store")
        .collect();
    stores.sort_by(|a, b| a.code.cmp(&b.code));
    stores.truncate(wanted);
    Ok((stores, wanted.saturating_sub(have)))
}

/// Loads the history; returns the number of sale lines.
async fn load(p: &Platform, stores: &[OrgNode], last: Date, days: i64) -> anyhow::Result<i64> {
    let company = stores[0].company_id.clone();
    let pg = p.db.backend() == Backend::Postgres;
    let now = boh_kernel::now().0;
    let store_days = stores.len() as i64 * days;
    let lines = store_days * LINES_PER_DAY;
    let mut conn = p.db.pool().acquire().await?;
    exec(p, &mut conn, if pg { "BEGIN" } else { "BEGIN IMMEDIATE" }).await?;
    for t in SALES_TABLES {
        exec(p, &mut conn, &format!("DELETE FROM {t}")).await?;
    }
    for t in ["bench_stores", "bench_days", "bench_items", "bench_sd"] {
        exec(p, &mut conn, &format!("DROP TABLE IF EXISTS {t}")).await?;
    }
    exec(
        p,
        &mut conn,
        "CREATE TABLE bench_stores (k BIGINT PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL)",
    )
    .await?;
    exec(
        p,
        &mut conn,
        "CREATE TABLE bench_days (k BIGINT PRIMARY KEY, d TEXT NOT NULL, f BIGINT NOT NULL)",
    )
    .await?;
    exec(
        p,
        &mut conn,
        "CREATE TABLE bench_sd (k BIGINT PRIMARY KEY, batch_id TEXT NOT NULL, store_id TEXT NOT NULL, \
         path TEXT NOT NULL, d TEXT NOT NULL, f BIGINT NOT NULL)",
    )
    .await?;
    for (k, s) in stores.iter().enumerate() {
        sqlx::query("INSERT INTO bench_stores (k, id, path) VALUES ($1, $2, $3)")
            .bind(k as i64)
            .bind(&s.id)
            .bind(&s.path)
            .execute(&mut *conn)
            .await?;
    }
    let first = last.checked_sub((days - 1).days())?;
    for k in 0..days {
        let d = first.checked_add(k.days())?;
        sqlx::query("INSERT INTO bench_days (k, d, f) VALUES ($1, $2, $3)")
            .bind(k)
            .bind(d.to_string())
            .bind(day_factor(d, k))
            .execute(&mut *conn)
            .await?;
    }
    // The menu: items with a POS code, priced 8–35 yuan.
    exec(
        p,
        &mut conn,
        &format!(
            "CREATE TABLE bench_items AS SELECT CAST(ROW_NUMBER() OVER (ORDER BY code) - 1 AS BIGINT) AS k, id, pos_code, \
             CAST(800 + (ROW_NUMBER() OVER (ORDER BY code) % 10) * 300 AS BIGINT) AS price \
             FROM inv_items WHERE company_id = '{company}' AND pos_code IS NOT NULL"
        ),
    )
    .await?;
    let menu: i64 = sqlx::query("SELECT COUNT(*) AS n FROM bench_items")
        .fetch_one(&mut *conn)
        .await?
        .try_get("n")?;
    anyhow::ensure!(menu > 0, "the demo catalogue has no items with a POS code");
    let t = Instant::now();
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO bench_sd (k, batch_id, store_id, path, d, f) \
             SELECT g.n, {}, g.store_id, g.path, g.d, g.f FROM \
             (SELECT s.k * {days} + d.k AS n, s.id AS store_id, s.path, d.d, d.f FROM bench_stores s CROSS JOIN bench_days d) g",
            uuid(pg, "0003")
        ),
    )
    .await?;
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO sales_lines (batch_id, line_no, ticket_seq, pos_code, item_id, qty, gross, discount, tax, net, voided) \
             SELECT batch_id, line_no, line_no / {LINES_PER_TICKET}, pos_code, item_id, q * 1000000, gross, disc, \
             (gross - disc) * 6 / 106, gross - disc, voided FROM \
             (SELECT sd.batch_id, g.n % {LINES_PER_DAY} AS line_no, i.pos_code, i.id AS item_id, \
              1 + CASE WHEN g.n % 5 = 0 THEN 1 ELSE 0 END AS q, \
              i.price * (1 + CASE WHEN g.n % 5 = 0 THEN 1 ELSE 0 END) * sd.f / 100 AS gross, \
              CASE WHEN g.n % 13 = 0 THEN i.price / 10 ELSE 0 END AS disc, \
              CASE WHEN g.n % 199 = 0 THEN 1 ELSE 0 END AS voided \
              FROM {} JOIN bench_sd sd ON sd.k = g.n / {LINES_PER_DAY} \
              JOIN bench_items i ON i.k = (g.n * 7 + g.n / {LINES_PER_DAY}) % {menu}) x",
            series(pg, lines)
        ),
    )
    .await?;
    println!(
        "  loaded {lines} lines in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO sales_tickets (batch_id, seq, ticket_no, kind, closed_at, hour, cashier, lines, void_lines, \
             void_amount, gross, discount, tax, net) \
             SELECT batch_id, ticket_seq, 'T' || CAST(ticket_seq AS TEXT), 'sale', {now}, 10 + ticket_seq % 12, \
             'c' || CAST(ticket_seq % 4 AS TEXT), SUM(1 - voided), SUM(voided), SUM(voided * net), \
             SUM((1 - voided) * gross), SUM((1 - voided) * discount), SUM((1 - voided) * tax), SUM((1 - voided) * net) \
             FROM sales_lines GROUP BY batch_id, ticket_seq"
        ),
    )
    .await?;
    exec(
        p,
        &mut conn,
        "INSERT INTO sales_tenders (batch_id, seq, ticket_seq, tender, amount) \
         SELECT batch_id, seq, seq, CASE seq % 5 WHEN 0 THEN 'wechat' WHEN 1 THEN 'alipay' WHEN 2 THEN 'card' \
         WHEN 3 THEN 'cash' ELSE 'meituan' END, net FROM sales_tickets WHERE net > 0",
    )
    .await?;
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO sales_batches (id, company_id, store_id, store_path, source, business_date, batch_key, \
             payload_hash, version, mode, status, superseded_by, ticket_count, line_count, held_count, gross, discount, \
             tax, net, doc_id, no_recipe, created_at, created_by) \
             SELECT sd.batch_id, '{company}', sd.store_id, sd.path, 'bench', sd.d, 'bench-' || CAST(sd.k AS TEXT), '', 1, \
             'append', 'active', NULL, t.tickets, t.lines, 0, t.gross, t.discount, t.tax, t.net, NULL, '', {now}, 'bench' \
             FROM bench_sd sd JOIN (SELECT batch_id, COUNT(*) AS tickets, SUM(lines + void_lines) AS lines, \
             SUM(gross) AS gross, SUM(discount) AS discount, SUM(tax) AS tax, SUM(net) AS net \
             FROM sales_tickets GROUP BY batch_id) t ON t.batch_id = sd.batch_id"
        ),
    )
    .await?;
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO sales_days (store_id, source, business_date, company_id, store_path, version, updated_at) \
             SELECT store_id, 'bench', d, '{company}', path, 1, {now} FROM bench_sd"
        ),
    )
    .await?;
    println!(
        "  summed {} tickets, their tenders and {store_days} batches in {:.1} s",
        store_days * TICKETS_PER_DAY,
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    boh_sales::rollup::rebuild_all(&mut conn).await?;
    println!(
        "  built the five rollups from the raw rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    exec(p, &mut conn, "COMMIT").await?;
    for t in ["bench_stores", "bench_days", "bench_items", "bench_sd"] {
        exec(p, &mut conn, &format!("DROP TABLE {t}")).await?;
    }
    exec(p, &mut conn, "ANALYZE").await?;
    Ok(lines)
}

/// Net sales and tickets of the dashboard's periods (this year, last year) from the raw rows.
async fn naive(
    p: &Platform,
    company: &str,
    ranges: &[(Date, Date)],
) -> anyhow::Result<Vec<[i64; 2]>> {
    let mut sums = String::new();
    let mut binds = vec![company.to_string()];
    for (f, t) in ranges {
        let a = binds.len() + 1;
        binds.push(f.to_string());
        binds.push(t.to_string());
        sums.push_str(&format!(
            ", CAST(SUM(CASE WHEN b.business_date BETWEEN ${a} AND ${} THEN v ELSE 0 END) AS BIGINT) AS v{a}",
            a + 1
        ));
    }
    let lo = ranges
        .iter()
        .map(|r| r.0)
        .min()
        .unwrap_or_default()
        .to_string();
    let hi = ranges
        .iter()
        .map(|r| r.1)
        .max()
        .unwrap_or_default()
        .to_string();
    let mut out = vec![[0i64; 2]; ranges.len()];
    for (col, from) in [
        (
            0,
            "(SELECT batch_id, net AS v FROM sales_lines WHERE voided = 0)",
        ),
        (
            1,
            "(SELECT batch_id, 1 AS v FROM sales_tickets WHERE kind = 'sale')",
        ),
    ] {
        let w = binds.len() + 1;
        let sql = format!(
            "SELECT b.store_id{sums} FROM sales_batches b JOIN {from} x ON x.batch_id = b.id \
             WHERE b.company_id = $1 AND b.status = 'active' AND b.business_date BETWEEN ${w} AND ${} \
             GROUP BY b.store_id",
            w + 1
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds.iter().chain([&lo, &hi]) {
            q = q.bind(b);
        }
        for r in q.fetch_all(p.db.pool()).await? {
            for (i, o) in out.iter_mut().enumerate() {
                o[col] += r
                    .try_get::<Option<i64>, _>(format!("v{}", 2 + i * 2).as_str())?
                    .unwrap_or(0);
            }
        }
    }
    Ok(out)
}

struct Timing {
    p50: f64,
    p99: f64,
}

fn timing(mut us: Vec<u32>) -> Timing {
    us.sort_unstable();
    Timing {
        p50: percentile(&us, 0.5),
        p99: percentile(&us, 0.99),
    }
}

fn micros(t: Instant) -> u32 {
    t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32
}

pub async fn dashboard_bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let wanted = args.stores.max(2);
    let days = args.days.clamp(400, 3660);
    let srv = server(&args).await?;
    let p = srv.platform.clone().ok_or_else(|| {
        anyhow::anyhow!("dashboard needs its own server (no --url): it loads the history itself")
    })?;
    let company = boh_platform::demo::demo_id("company");
    let t0 = Instant::now();
    let (stores, added) = add_stores(&p, &company, wanted).await?;
    println!(
        "dashboard: {} stores ({} added) in {:.1} s; loading {days} days of history",
        stores.len(),
        added,
        t0.elapsed().as_secs_f64()
    );
    let hq = org::fetch(&p, &company)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo company"))?;
    let today = boh_inventory::today_in(&hq.timezone);
    let t = Instant::now();
    let lines = load(&p, &stores, today, days).await?;
    println!("  load in all: {:.1} s", t.elapsed().as_secs_f64());

    let admin = admin_actor(&p).await?;
    let region = stores[0]
        .parent_id
        .clone()
        .ok_or_else(|| anyhow::anyhow!("a store without a region"))?;
    let runs = args.runs.max(1) * 10;
    let mut cases: Vec<(&str, Timing)> = Vec::new();
    let mut hq_board = None;
    for (name, id) in [
        ("HQ", company.clone()),
        ("region", region.clone()),
        ("store", stores[0].id.clone()),
    ] {
        // On a runtime worker, as a request handler runs (the main thread's `block_on` is not
        // one, and pays a cross-thread wake-up per query).
        let (p, admin) = (p.clone(), admin.clone());
        let (us, d) = tokio::spawn(async move {
            for _ in 0..WARM_UP {
                dashboard::dashboard(&p, &admin, &id, None).await?;
            }
            let mut us = Vec::with_capacity(runs);
            let mut last = None;
            for _ in 0..runs {
                let t = Instant::now();
                let d = dashboard::dashboard(&p, &admin, &id, None).await?;
                us.push(micros(t));
                last = Some(d);
            }
            anyhow::Ok((us, last))
        })
        .await??;
        if name == "HQ" {
            hq_board = d;
        }
        cases.push((name, timing(us)));
    }
    let hq_board = hq_board.ok_or_else(|| anyhow::anyhow!("no HQ dashboard"))?;

    // The same HQ dashboard through HTTP with the demo administrator's token.
    let client: PostClient = Client::builder(TokioExecutor::new()).build(HttpConnector::new());
    let token = login(&client, &srv.base, &args.username, &srv.password).await?;
    let url = format!("{}/api/v1/sales/dashboard?node_id={company}", srv.base);
    let mut us = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let (status, body) = request(&client, hyper::Method::GET, &url, Some(&token), None).await?;
        us.push(micros(t));
        anyhow::ensure!(status == 200, "GET {url}: HTTP {status}: {body}");
    }
    let http = timing(us);

    // The baseline: the same period totals from the raw lines and tickets.
    let mut ranges = Vec::new();
    for per in &hq_board.periods {
        for (f, t) in [(&per.from, &per.to), (&per.ly_from, &per.ly_to)] {
            ranges.push((f.parse::<Date>()?, t.parse::<Date>()?));
        }
    }
    let mut times = Vec::new();
    let mut raw = Vec::new();
    for _ in 0..args.runs.max(1) {
        let t = Instant::now();
        raw = naive(&p, &company, &ranges).await?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let naive_ms = median(times);
    let mut agree = BTreeMap::new();
    for (i, per) in hq_board.periods.iter().enumerate() {
        let want = (raw[2 * i], raw[2 * i + 1]);
        let have = (
            [per.total.net, per.total.tickets],
            [per.total.ly_net, per.total.ly_tickets],
        );
        anyhow::ensure!(
            have == want,
            "period {}: the dashboard says {have:?}, the raw lines {want:?}",
            per.period
        );
        agree.insert(per.period.clone(), per.total.net);
    }
    let hq_t = &cases[0].1;
    for (name, t) in &cases {
        println!(
            "  {name:<7} dashboard (use case)  p50 {:>7.2} ms   p99 {:>7.2} ms",
            t.p50, t.p99
        );
    }
    println!(
        "  HQ      dashboard (HTTP)      p50 {:>7.2} ms   p99 {:>7.2} ms",
        http.p50, http.p99
    );
    println!("  baseline: the same totals from the raw lines  {naive_ms:>9.1} ms (median)");
    let ratio = naive_ms / hq_t.p50;
    println!(
        "dashboard over {lines} sale lines ({} stores × {days} days): HQ p50 {:.2} ms (target ≤ 50), \
         {ratio:.0}× faster than the raw lines; totals agree ({agree:?})",
        stores.len(),
        hq_t.p50
    );
    println!(
        "{}",
        json!({
            "bench": "dashboard",
            "value": hq_t.p50,
            "unit": "ms",
            "baseline": naive_ms,
            "ratio": ratio,
            "p99_ms": hq_t.p99,
            "http_p50_ms": http.p50,
            "http_p99_ms": http.p99,
            "region_p50_ms": cases[1].1.p50,
            "store_p50_ms": cases[2].1.p50,
            "stores": stores.len(),
            "days": days,
            "lines": lines,
        })
    );
    Ok(ExitCode::SUCCESS)
}
