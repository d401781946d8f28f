//! `boh bench ingest`: POS sales batches through the API, end to end, against raw inserts of
//! the same lines into the same database in the same run.
//!
//! The server (self-started on a fresh database with the small demo catalogue, or `--url`)
//! gets `--connections` (default 4) keep-alive clients, each sending batches of `--rows`
//! (default 1,000) sale lines for its own store and today's business day for `--seconds`.
//! Every batch is validated, its POS codes resolved, its sold menu items exploded through
//! their recipes in force (one `sale` stock document with one movement per ingredient, at
//! moving-average cost), its tickets, lines and tenders written, its five rollups updated and
//! its audit row and event appended, in one transaction. The bodies are built before the clock
//! starts (only the batch key changes per request), so the figure is the server's.
//!
//! The baseline inserts the same number of lines, in batches of the same size, one multi-row
//! statement per 1,000 rows and one transaction per batch, into a scratch table shaped like
//! `sales_lines` in the same database: the physical cost of storing the lines and nothing else.
//! Afterwards the rollup checker (rollups = recomputation from lines; usage = stock documents)
//! and the ledger checker must find nothing wrong.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use boh_db::{AssertSqlSafe, Row};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

use crate::bench::BenchArgs;
use crate::bench_stock::{PostClient, login, percentile, server};

const KEY_MARK: &str = "@@BATCH_KEY@@";

/// A batch body of `lines` lines for a store: tickets of 4 lines (3 menu items and one
/// retail or menu item), paid by a rotating tender; every 50th ticket a refund, every 40th
/// line voided.
fn batch_body(
    store: &str,
    date: &str,
    tz_offset: &str,
    codes: &[String],
    lines: usize,
    seed: usize,
) -> String {
    let tenders = ["wechat", "alipay", "card", "cash", "meituan"];
    let mut tickets = Vec::new();
    let mut n = 0usize;
    let mut t = 0usize;
    while n < lines {
        let k = (lines - n).min(4);
        let mut ls = Vec::with_capacity(k);
        let mut paid = 0i64;
        let refund = (seed + t) % 50 == 49;
        for j in 0..k {
            let idx = (seed * 31 + t * 7 + j * 13) % codes.len();
            let q = 1 + ((seed + t + j) % 3) as i64;
            let gross = 1200 * q;
            let discount = if j == 0 && t.is_multiple_of(5) {
                100
            } else {
                0
            };
            let void = (n + j) % 40 == 39 && !refund;
            if !void {
                paid += gross - discount;
            }
            ls.push(
                json!({"pos_code": codes[idx], "qty": q.to_string(), "gross": gross,
                "discount": discount, "tax": (gross - discount) * 6 / 106, "void": void}),
            );
        }
        let minute = (t * 3) % (13 * 60);
        let closed = format!(
            "{date}T{:02}:{:02}:00{tz_offset}",
            9 + minute / 60,
            minute % 60
        );
        let mut ticket = json!({"ticket_no": format!("{seed}-{t}"), "closed_at": closed,
            "cashier": format!("c{}", t % 6), "lines": ls});
        if refund {
            ticket["kind"] = json!("refund");
        }
        if paid > 0 {
            ticket["tenders"] = json!([{"tender": tenders[t % tenders.len()], "amount": paid}]);
        }
        tickets.push(ticket);
        n += k;
        t += 1;
    }
    json!({"store_id": store, "source": "bench", "business_date": date, "batch_key": KEY_MARK,
        "tickets": tickets})
    .to_string()
}

pub async fn ingest(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let connections = if args.connections == 64 {
        4
    } else {
        args.connections
    };
    let lines_per_batch = if args.rows == 100_000 {
        1_000
    } else {
        args.rows.clamp(1, 10_000)
    };
    let srv = server(&args).await?;
    let p = srv.platform.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "ingest needs its own server (no --url): the baseline and the checks use the database"
        )
    })?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: PostClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build(connector);
    let base = &srv.base;
    let token = login(&client, &srv.base, &args.username, &srv.password).await?;
    // Menu items with a recipe in force and a POS code, and stocked retail items with one.
    let codes: Vec<String> = sqlx::query(
        "SELECT i.pos_code FROM inv_items i WHERE i.pos_code IS NOT NULL AND i.active = 1 AND \
         (i.stocked = 1 OR EXISTS (SELECT 1 FROM inv_recipes r WHERE r.item_id = i.id)) ORDER BY i.code",
    )
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String, _>("pos_code").ok())
    .collect();
    anyhow::ensure!(!codes.is_empty(), "no demo items with POS codes");
    let stores: Vec<(String, String)> = sqlx::query(
        "SELECT id, timezone FROM org_nodes WHERE kind = 'store' ORDER BY code LIMIT 64",
    )
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(|r| Ok((r.try_get("id")?, r.try_get("timezone")?)))
    .collect::<anyhow::Result<_>>()?;
    anyhow::ensure!(stores.len() >= connections, "fewer stores than clients");
    println!(
        "ingest: {connections} clients, {lines_per_batch} lines per batch, {} s, {} POS codes, server {base}",
        args.secs(),
        codes.len()
    );
    // Bodies per client, built before the clock starts.
    let mut bodies: Vec<Arc<Vec<String>>> = Vec::new();
    for (c, (store, tz)) in stores.iter().take(connections).enumerate() {
        let today = boh_inventory::today_in(tz).to_string();
        let offset = jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC))
            .offset()
            .to_string();
        let v: Vec<String> = (0..8)
            .map(|k| batch_body(store, &today, &offset, &codes, lines_per_batch, c * 100 + k))
            .collect();
        bodies.push(Arc::new(v));
    }
    let deadline = Instant::now() + Duration::from_secs(args.secs());
    let errors = Arc::new(AtomicU64::new(0));
    let server_errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(None::<String>));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (c, bodies) in bodies.into_iter().enumerate() {
        let client = client.clone();
        let url = format!("{base}/api/v1/sales/batches");
        let token = token.clone();
        let errors = errors.clone();
        let server_errors = server_errors.clone();
        let first_error = first_error.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(10_000);
            let mut n = 0usize;
            while Instant::now() < deadline {
                let body = bodies[n % bodies.len()].replace(KEY_MARK, &format!("c{c}-{n}"));
                n += 1;
                let req = hyper::Request::builder()
                    .method(hyper::Method::POST)
                    .uri(&url)
                    .header("authorization", format!("Bearer {token}"))
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from(body)));
                let Ok(req) = req else { continue };
                let t0 = Instant::now();
                match client.request(req).await {
                    Ok(resp) => {
                        let status = resp.status().as_u16();
                        let bytes = resp.into_body().collect().await.map(|b| b.to_bytes());
                        if status == 201 {
                            lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                            if status >= 500 {
                                server_errors.fetch_add(1, Ordering::Relaxed);
                            }
                            let mut f = first_error.lock().unwrap_or_else(|e| e.into_inner());
                            if f.is_none() {
                                *f = Some(format!(
                                    "{status}: {}",
                                    bytes
                                        .map(|b| String::from_utf8_lossy(&b)
                                            .chars()
                                            .take(400)
                                            .collect::<String>())
                                        .unwrap_or_default()
                                ));
                            }
                        }
                    }
                    Err(_) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let mut lat = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            lat.extend(l);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let batches = lat.len() as u64;
    let lines = batches * lines_per_batch as u64;
    let rate = lines as f64 / elapsed;
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    println!(
        "POST /api/v1/sales/batches ({lines_per_batch} lines): {rate:>9.0} lines/s  {:.1} batches/s  p50 {p50:.1} ms  p99 {p99:.1} ms  ({batches} batches, {} refused, {} server errors)",
        batches as f64 / elapsed,
        errors.load(Ordering::Relaxed),
        server_errors.load(Ordering::Relaxed)
    );
    if let Some(e) = first_error
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
    {
        println!("first refusal: {e}");
    }
    let movements = sqlx::query("SELECT COUNT(*) AS n FROM inv_movements WHERE kind = 'sale'")
        .fetch_one(p.db.pool())
        .await?
        .try_get::<i64, _>("n")?;
    println!("sale movements posted: {movements}");

    let raw_batches = batches.clamp(20, 400);
    let raw_rate = raw_inserts(&p, raw_batches, lines_per_batch).await?;
    println!(
        "raw multi-row INSERTs of the same lines (baseline): {raw_rate:>9.0} lines/s ({raw_batches} batches of {lines_per_batch})"
    );
    let rollups = boh_sales::rollup::check(&p).await?;
    let ledger = boh_inventory::ledger::check(&p).await?;
    println!(
        "rollup check: {} problems; ledger check: {} movements, {} problems",
        rollups.problems.len(),
        ledger.movements,
        ledger.problems.len()
    );
    for x in rollups
        .problems
        .iter()
        .chain(ledger.problems.iter())
        .take(5)
    {
        println!("  {x}");
    }
    let ok = rollups.problems.is_empty() && ledger.problems.is_empty();
    let ratio = if raw_rate > 0.0 { rate / raw_rate } else { 0.0 };
    println!("ratio (API lines / raw inserts): {ratio:.3}");
    println!(
        "{}",
        json!({
            "bench": "ingest", "value": rate.round(), "unit": "lines/s",
            "baseline": raw_rate.round(), "ratio": (ratio * 1000.0).round() / 1000.0,
            "p50_ms": p50, "p99_ms": p99, "batches": batches, "lines_per_batch": lines_per_batch,
            "errors": errors.load(Ordering::Relaxed), "server_errors": server_errors.load(Ordering::Relaxed),
            "checks_ok": ok, "connections": connections, "seconds": args.secs(),
        })
    );
    Ok(
        if server_errors.load(Ordering::Relaxed) == 0 && ok && batches > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// Lines per second of multi-row INSERTs (1,000 rows a statement, one transaction per batch)
/// into a scratch table shaped like `sales_lines`.
async fn raw_inserts(
    p: &boh_platform::Platform,
    batches: u64,
    per_batch: usize,
) -> anyhow::Result<f64> {
    let db = &p.db;
    sqlx::query("DROP TABLE IF EXISTS bench_raw_sales_lines")
        .execute(db.pool())
        .await?;
    sqlx::query(
        "CREATE TABLE bench_raw_sales_lines (batch_id TEXT NOT NULL, line_no BIGINT NOT NULL, ticket_seq BIGINT NOT NULL, \
         pos_code TEXT NOT NULL, item_id TEXT, qty BIGINT NOT NULL, gross BIGINT NOT NULL, discount BIGINT NOT NULL, \
         tax BIGINT NOT NULL, net BIGINT NOT NULL, voided BIGINT NOT NULL, PRIMARY KEY (batch_id, line_no))",
    )
    .execute(db.pool())
    .await?;
    let item = boh_kernel::new_id();
    let start = Instant::now();
    for _ in 0..batches {
        let batch = boh_kernel::new_id();
        let mut tx = db.pool().begin().await?;
        let mut done = 0usize;
        while done < per_batch {
            let n = (per_batch - done).min(1000);
            let sql = format!(
                "INSERT INTO bench_raw_sales_lines (batch_id, line_no, ticket_seq, pos_code, item_id, qty, gross, discount, tax, net, voided) VALUES {}",
                boh_platform::util::values_list(&tx, n, 11)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for i in done..done + n {
                q = q
                    .bind(batch.clone())
                    .bind(i as i64 + 1)
                    .bind((i / 4) as i64 + 1)
                    .bind(format!("P{}", i % 60))
                    .bind(item.clone())
                    .bind(1_000_000i64)
                    .bind(1200i64)
                    .bind(0i64)
                    .bind(68i64)
                    .bind(1200i64)
                    .bind(0i64);
            }
            q.execute(&mut *tx).await?;
            done += n;
        }
        tx.commit().await?;
    }
    let rate = (batches as usize * per_batch) as f64 / start.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_raw_sales_lines")
        .execute(db.pool())
        .await?;
    Ok(rate)
}
