//! `boh bench stock-contention` and `boh bench count`.
//!
//! - `stock-contention`: a self-started server (fresh SQLite, or `--database-url`) with one
//!   item stocked at S001 and S002. `--connections` clients (default 64) for `--seconds`
//!   (default 30) each move stock between the two stores, alternating directions: request,
//!   ship, receive (three API calls, three transactions). Prints completed transfers/s, p50 /
//!   p99 latency of a whole transfer, refusals and server errors, the conservation check
//!   (on-hand over both stores + in transit = what was put in) and the ledger check, and the
//!   ratio to a raw baseline: the same writes (transfer row, two movement rows, two on-hand
//!   updates, in three transactions) as plain SQL on scratch tables in the same database.
//! - `count`: `--items` (default 5,000) items stocked at S001; through the API: start a full
//!   count (snapshot), enter every line (batches of 500), submit, post. Prints each step's time
//!   and the ratio to raw inserts of the same rows (snapshot lines, entries, movements).

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use boh_db::Row;
use hyper::Method;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

use crate::bench::BenchArgs;
use crate::bench_stock::{PostClient, login, percentile, request, server};

async fn store(client: &PostClient, base: &str, token: &str, code: &str) -> anyhow::Result<String> {
    let (_, stores) = request(
        client,
        Method::GET,
        &format!("{base}/api/v1/stores?q={code}"),
        Some(token),
        None,
    )
    .await?;
    Ok(stores["items"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no store {code}"))?
        .to_string())
}

fn client(n: usize) -> PostClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(n)
        .build(connector)
}

pub async fn stock_contention(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let seconds = args.seconds.unwrap_or(30);
    let srv = server(&args).await?;
    let client = client(args.connections);
    let base = srv.base.clone();
    let token = login(&client, &base, &args.username, &srv.password).await?;
    let s1 = store(&client, &base, &token, "S001").await?;
    let s2 = store(&client, &base, &token, "S002").await?;
    let code = format!("BENCH-{}", &boh_kernel::new_id()[24..]);
    let (st, item) = request(
        &client,
        Method::POST,
        &format!("{base}/api/v1/items"),
        Some(&token),
        Some(&json!({"code": code, "name": "Bench transfer item", "base_unit": "kg"})),
    )
    .await?;
    anyhow::ensure!(st == 201, "creating the item: {item}");
    let item_id = item["id"].as_str().unwrap_or_default().to_string();
    let start_qty: i64 = 1_000_000;
    for s in [&s1, &s2] {
        let (st, d) = request(
            &client,
            Method::POST,
            &format!("{base}/api/v1/stock/documents"),
            Some(&token),
            Some(&json!({"location_id": s, "kind": "receipt",
                         "lines": [{"item_id": item_id, "qty": start_qty.to_string(), "unit_cost": "1.25"}]})),
        )
        .await?;
        anyhow::ensure!(st == 201, "stocking: {d}");
    }
    println!(
        "stock-contention: {} clients, {seconds} s, transfers S001 <-> S002, server {base}",
        args.connections
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let refused = Arc::new(AtomicU64::new(0));
    let server_errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let client = client.clone();
        let base = base.clone();
        let token = token.clone();
        let (a, b) = if c % 2 == 0 {
            (s1.clone(), s2.clone())
        } else {
            (s2.clone(), s1.clone())
        };
        let item_id = item_id.clone();
        let refused = refused.clone();
        let server_errors = server_errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(10_000);
            let mut n = 0usize;
            let count = |s: u16| {
                if s >= 500 {
                    server_errors.fetch_add(1, Ordering::Relaxed);
                } else {
                    refused.fetch_add(1, Ordering::Relaxed);
                }
            };
            while Instant::now() < deadline {
                // Alternate directions so neither store runs dry.
                let (from, to) = if n.is_multiple_of(2) {
                    (&a, &b)
                } else {
                    (&b, &a)
                };
                n += 1;
                let t0 = Instant::now();
                let body = json!({"from_location_id": from, "to_location_id": to,
                                  "lines": [{"item_id": item_id, "qty": "1.5"}]});
                let Ok((st, t)) = request(
                    &client,
                    Method::POST,
                    &format!("{base}/api/v1/transfers"),
                    Some(&token),
                    Some(&body),
                )
                .await
                else {
                    refused.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                if st != 201 {
                    count(st);
                    continue;
                }
                let id = t["id"].as_str().unwrap_or_default().to_string();
                let mut ok = true;
                for action in ["ship", "receive"] {
                    match request(
                        &client,
                        Method::POST,
                        &format!("{base}/api/v1/transfers/{id}/{action}"),
                        Some(&token),
                        Some(&json!({})),
                    )
                    .await
                    {
                        Ok((201, _)) => {}
                        Ok((s, _)) => {
                            count(s);
                            ok = false;
                            break;
                        }
                        Err(_) => {
                            refused.fetch_add(1, Ordering::Relaxed);
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
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
    let done = lat.len() as u64;
    let rate = done as f64 / elapsed;
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    let (refused, server_errors) = (
        refused.load(Ordering::Relaxed),
        server_errors.load(Ordering::Relaxed),
    );
    println!(
        "transfer (request + ship + receive): {rate:>8.1} transfers/s  p50 {p50:.2} ms  p99 {p99:.2} ms  \
         ({done} completed, {refused} refused, {server_errors} server errors)"
    );
    let (baseline, conserved, ledger_ok) = match &srv.platform {
        Some(p) => {
            let pool = p.db.pool();
            let on_hand: i64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(qty), 0) AS BIGINT) AS q FROM inv_valuation WHERE item_id = $1",
            )
            .bind(&item_id)
            .fetch_one(pool)
            .await?
            .try_get("q")?;
            let transit: i64 = sqlx::query(
                "SELECT CAST(COALESCE(SUM(l.qty_shipped), 0) AS BIGINT) AS q FROM inv_transfer_lines l \
                 JOIN inv_transfers t ON t.id = l.transfer_id WHERE t.status = 'shipped' AND l.item_id = $1",
            )
            .bind(&item_id)
            .fetch_one(pool)
            .await?
            .try_get("q")?;
            let negative: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM inv_stock WHERE item_id = $1 AND qty < 0")
                    .bind(&item_id)
                    .fetch_one(pool)
                    .await?
                    .try_get("n")?;
            let conserved = on_hand + transit == 2 * start_qty * 1_000_000 && negative == 0;
            println!(
                "conservation: on hand {} + in transit {} = {} (expected {}), negative rows {negative}: {}",
                boh_kernel::Qty(on_hand),
                boh_kernel::Qty(transit),
                boh_kernel::Qty(on_hand + transit),
                2 * start_qty,
                if conserved { "ok" } else { "FAILED" }
            );
            let rep = boh_inventory::ledger::check(p).await?;
            println!(
                "ledger check: {} movements, {} problems",
                rep.movements,
                rep.problems.len()
            );
            let n = done.clamp(200, 20_000);
            let raw = raw_transfers(p, n).await?;
            println!(
                "raw SQL of the same writes (baseline): {raw:>8.1} transfers/s ({n} transfers, one client)"
            );
            (raw, conserved, rep.problems.is_empty())
        }
        None => {
            println!("conservation, ledger check and baseline skipped: --url given");
            (0.0, true, true)
        }
    };
    let ratio = if baseline > 0.0 { rate / baseline } else { 0.0 };
    println!("ratio (API transfers / raw): {ratio:.3}");
    println!(
        "{}",
        json!({
            "bench": "stock-contention", "value": (rate * 10.0).round() / 10.0, "unit": "transfers/s",
            "baseline": (baseline * 10.0).round() / 10.0, "ratio": (ratio * 1000.0).round() / 1000.0,
            "p50_ms": p50, "p99_ms": p99, "completed": done, "refused": refused,
            "server_errors": server_errors, "conserved": conserved, "ledger_ok": ledger_ok,
            "connections": args.connections, "seconds": seconds,
        })
    );
    Ok(
        if server_errors == 0 && conserved && ledger_ok && done > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// Transfers per second written as raw SQL: a transfer row; a movement out and an on-hand
/// update; a movement in and an on-hand update; three transactions, one client.
async fn raw_transfers(p: &boh_platform::Platform, n: u64) -> anyhow::Result<f64> {
    let pool = p.db.pool();
    for sql in [
        "DROP TABLE IF EXISTS bench_raw_transfers",
        "DROP TABLE IF EXISTS bench_raw_moves",
        "DROP TABLE IF EXISTS bench_raw_stock",
        "CREATE TABLE bench_raw_transfers (id TEXT PRIMARY KEY, from_id TEXT NOT NULL, to_id TEXT NOT NULL, \
         status TEXT NOT NULL, qty BIGINT NOT NULL, created_at BIGINT NOT NULL)",
        "CREATE TABLE bench_raw_moves (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, location_id TEXT NOT NULL, \
         item_id TEXT NOT NULL, kind TEXT NOT NULL, qty BIGINT NOT NULL, value BIGINT NOT NULL, posted_at BIGINT NOT NULL)",
        "CREATE TABLE bench_raw_stock (location_id TEXT PRIMARY KEY, qty BIGINT NOT NULL)",
        "INSERT INTO bench_raw_stock (location_id, qty) VALUES ('a', 1000000000), ('b', 1000000000)",
    ] {
        sqlx::query(sql).execute(pool).await?;
    }
    let start = Instant::now();
    for i in 0..n {
        let (from, to) = if i % 2 == 0 { ("a", "b") } else { ("b", "a") };
        let id = boh_kernel::new_id();
        let t = boh_kernel::now().micros();
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO bench_raw_transfers (id, from_id, to_id, status, qty, created_at) VALUES ($1,$2,$3,'requested',1500000,$4)",
        )
        .bind(&id)
        .bind(from)
        .bind(to)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        for (loc, kind, q, status) in [
            (from, "transfer_out", -1_500_000i64, "shipped"),
            (to, "transfer_in", 1_500_000, "received"),
        ] {
            let mut tx = pool.begin().await?;
            sqlx::query(
                "INSERT INTO bench_raw_moves (id, doc_id, location_id, item_id, kind, qty, value, posted_at) \
                 VALUES ($1,$2,$3,'item',$4,$5,$6,$7)",
            )
            .bind(boh_kernel::new_id())
            .bind(&id)
            .bind(loc)
            .bind(kind)
            .bind(q)
            .bind(q / 8000)
            .bind(t)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE bench_raw_stock SET qty = qty + $1 WHERE location_id = $2")
                .bind(q)
                .bind(loc)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE bench_raw_transfers SET status = $1 WHERE id = $2")
                .bind(status)
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    for t in ["bench_raw_transfers", "bench_raw_moves", "bench_raw_stock"] {
        sqlx::query(boh_db::AssertSqlSafe(format!("DROP TABLE {t}")))
            .execute(pool)
            .await?;
    }
    Ok(rate)
}

pub async fn count(args: BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.url.is_none(),
        "count sets up its items in the database; run it without --url"
    );
    let srv = server(&args).await?;
    let p = srv
        .platform
        .clone()
        .ok_or_else(|| anyhow::anyhow!("no database"))?;
    let client = client(4);
    let base = srv.base.clone();
    let token = login(&client, &base, &args.username, &srv.password).await?;
    let s1 = store(&client, &base, &token, "S001").await?;
    let n = args.items.unwrap_or(5000).max(1);
    // Setup (not timed): the items and their opening stock.
    let ctx = boh_platform::Ctx::system();
    let company: String = sqlx::query("SELECT company_id FROM org_nodes WHERE id = $1")
        .bind(&s1)
        .fetch_one(p.db.pool())
        .await?
        .try_get("company_id")?;
    let rows: Vec<(String, boh_inventory::catalog::ItemInput)> = (0..n)
        .map(|i| {
            (
                format!("row {}", i + 2),
                boh_inventory::catalog::ItemInput {
                    code: format!("CNT-{i:05}"),
                    name: Some(format!("Count item {i}")),
                    base_unit: Some("ea".into()),
                    ..Default::default()
                },
            )
        })
        .collect();
    boh_inventory::catalog::upsert_items(
        &p,
        &ctx,
        Some(&company),
        &rows,
        boh_inventory::catalog::UpsertMode::Upsert,
        false,
    )
    .await?;
    let lines: Vec<boh_inventory::ledger::LineInput> = (0..n)
        .map(|i| boh_inventory::ledger::LineInput {
            item_code: Some(format!("CNT-{i:05}")),
            qty: boh_kernel::Qty::units(10),
            unit_cost: Some("1".into()),
            ..Default::default()
        })
        .collect();
    boh_inventory::ledger::post_manual(
        &p,
        &ctx,
        boh_inventory::ledger::DocInput {
            location_id: s1.clone(),
            kind: "opening".into(),
            business_date: None,
            reference: None,
            note: None,
            lines,
        },
    )
    .await?;
    println!("count: {n} items at S001, server {base}");

    let api = |method: Method, path: String, body: serde_json::Value| {
        let client = client.clone();
        let token = token.clone();
        let base = base.clone();
        async move {
            request(
                &client,
                method,
                &format!("{base}{path}"),
                Some(&token),
                Some(&body),
            )
            .await
        }
    };
    let t0 = Instant::now();
    let (st, c) = api(
        Method::POST,
        "/api/v1/counts".into(),
        json!({"location_id": s1, "kind": "full"}),
    )
    .await?;
    anyhow::ensure!(st == 201, "starting the count: {c}");
    let t_start = t0.elapsed().as_secs_f64();
    let id = c["id"].as_str().unwrap_or_default().to_string();
    let codes: Vec<(String, String)> = c["lines"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    (
                        l["item_code"].as_str().unwrap_or_default().to_string(),
                        l["lot_id"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let line_count = codes.len();
    let t1 = Instant::now();
    let mut entered = 0usize;
    for (k, chunk) in codes.chunks(500).enumerate() {
        let entries: Vec<serde_json::Value> = chunk
            .iter()
            .enumerate()
            .filter(|(_, (_, lot))| lot.is_empty())
            .map(|(j, (code, _))| {
                // One item in fifty is one short.
                let q = if (k * 500 + j) % 50 == 0 { "9" } else { "10" };
                json!({"item_code": code, "qty": q})
            })
            .collect();
        entered += entries.len();
        let (st, r) = api(
            Method::POST,
            format!("/api/v1/counts/{id}/lines"),
            json!({"entries": entries}),
        )
        .await?;
        anyhow::ensure!(st == 201, "entering lines: {r}");
    }
    let t_enter = t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    let (st, r) = api(
        Method::POST,
        format!("/api/v1/counts/{id}/submit"),
        json!({"uncounted_as_zero": true}),
    )
    .await?;
    anyhow::ensure!(st == 201, "submitting: {r}");
    let t_submit = t2.elapsed().as_secs_f64();
    let t3 = Instant::now();
    let (st, r) = api(Method::POST, format!("/api/v1/counts/{id}/post"), json!({})).await?;
    anyhow::ensure!(st == 201, "posting: {r}");
    let t_post = t3.elapsed().as_secs_f64();
    let total = t0.elapsed().as_secs_f64();
    let variance = r["variance_value"].as_i64().unwrap_or(0);
    println!(
        "start (snapshot of {line_count} lines): {:>8.1} ms",
        t_start * 1000.0
    );
    println!(
        "enter {entered} lines (batches of 500): {:>8.1} ms",
        t_enter * 1000.0
    );
    println!("submit: {:>8.1} ms", t_submit * 1000.0);
    println!(
        "post (variance value {variance}): {:>8.1} ms",
        t_post * 1000.0
    );
    let rep = boh_inventory::ledger::check(&p).await?;
    println!(
        "ledger check: {} movements, {} problems",
        rep.movements,
        rep.problems.len()
    );
    let variances = (line_count / 50).max(1);
    let raw = raw_count_rows(&p, line_count, entered, variances).await?;
    println!(
        "raw INSERTs of the same rows (baseline): {:>8.1} ms ({line_count} snapshot + {entered} entry + {variances} movement rows)",
        raw * 1000.0
    );
    let ratio = if total > 0.0 { raw / total } else { 0.0 };
    println!("ratio (raw time / API time): {ratio:.3}");
    println!(
        "{}",
        json!({
            "bench": "count", "value": (total * 1000.0).round(), "unit": "ms",
            "baseline": (raw * 1000.0).round(), "ratio": (ratio * 1000.0).round() / 1000.0,
            "start_ms": (t_start * 1000.0).round(), "enter_ms": (t_enter * 1000.0).round(),
            "submit_ms": (t_submit * 1000.0).round(), "post_ms": (t_post * 1000.0).round(),
            "lines": line_count, "ledger_ok": rep.problems.is_empty(),
        })
    );
    Ok(if rep.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Seconds to insert the rows a count writes, as raw multi-row INSERTs in three transactions
/// (snapshot, entries, movements).
async fn raw_count_rows(
    p: &boh_platform::Platform,
    lines: usize,
    entries: usize,
    moves: usize,
) -> anyhow::Result<f64> {
    let pool = p.db.pool();
    sqlx::query("DROP TABLE IF EXISTS bench_raw_count_rows")
        .execute(pool)
        .await?;
    sqlx::query(
        "CREATE TABLE bench_raw_count_rows (id TEXT PRIMARY KEY, count_id TEXT NOT NULL, item_id TEXT NOT NULL, \
         lot_id TEXT NOT NULL, qty BIGINT NOT NULL, at BIGINT NOT NULL)",
    )
    .execute(pool)
    .await?;
    let start = Instant::now();
    for rows in [lines, entries, moves] {
        let mut tx = pool.begin().await?;
        let ids: Vec<usize> = (0..rows).collect();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "INSERT INTO bench_raw_count_rows (id, count_id, item_id, lot_id, qty, at) VALUES {}",
                boh_platform::util::values_list(&tx, chunk.len(), 6)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for i in chunk {
                q = q
                    .bind(boh_kernel::new_id())
                    .bind("count")
                    .bind(format!("item-{i}"))
                    .bind("")
                    .bind(10_000_000i64)
                    .bind(boh_kernel::now().micros());
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    let secs = start.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_raw_count_rows")
        .execute(pool)
        .await?;
    Ok(secs)
}
