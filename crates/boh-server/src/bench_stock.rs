//! `boh bench stock-moves`: stock movements posted through the API, against raw inserts of the
//! same rows into the same database in the same run.
//!
//! The server (self-started on a fresh database with the small demo catalogue, or `--url`) gets
//! `--connections` keep-alive clients posting one-line stock documents for `--seconds`: each
//! client alternates a receipt and an issue of a demo item at S001 (each document is validated,
//! locks its valuation row, computes the moving-average value, writes the document, movement,
//! on-hand, valuation, audit row, outbox event and idempotency key in one transaction). The
//! baseline inserts the same number of movement rows, one statement and one transaction each
//! (what a naive ledger without on-hand, valuation, audit or events would cost), into a scratch
//! table shaped like `inv_movements` in the same database. Afterwards the ledger checker must
//! find nothing wrong.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use boh_db::Row;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::json;

use crate::bench::BenchArgs;

pub(crate) type PostClient = Client<HttpConnector, Full<Bytes>>;

pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) password: String,
    pub(crate) platform: Option<boh_platform::Platform>,
    _dir: Option<std::path::PathBuf>,
}

pub(crate) async fn server(args: &BenchArgs) -> anyhow::Result<Server> {
    if let Some(u) = &args.url {
        return Ok(Server {
            base: u.trim_end_matches('/').to_string(),
            password: args.password.clone().ok_or_else(|| {
                anyhow::anyhow!("--password (or BOH_DEMO_PASSWORD) is needed with --url")
            })?,
            platform: None,
            _dir: None,
        });
    }
    let dir = std::env::temp_dir().join(format!("boh-bench-{}", boh_kernel::new_id()));
    std::fs::create_dir_all(&dir)?;
    let db = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
    let password = boh_platform::util::random_token(12);
    let settings = crate::Settings {
        database_url: db,
        bind: "127.0.0.1:0".into(),
        demo: true,
        demo_size: Some(boh_inventory::demo::DemoSize::Small),
        demo_password: Some(password.clone()),
        run_worker: false,
        ..Default::default()
    };
    let (app, _) = crate::Application::build(settings).await?;
    let addr = app.local_addr()?;
    let platform = app.state.platform.clone();
    tokio::spawn(app.run_until(std::future::pending()));
    Ok(Server {
        base: format!("http://{addr}"),
        password,
        platform: Some(platform),
        _dir: Some(dir),
    })
}

pub(crate) async fn request(
    client: &PostClient,
    method: hyper::Method,
    url: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> anyhow::Result<(u16, serde_json::Value)> {
    let mut req = hyper::Request::builder().method(method).uri(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Full::new(Bytes::from(b.to_string()))
        }
        None => Full::new(Bytes::new()),
    };
    let resp = client.request(req.body(body)?).await?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await?.to_bytes();
    let v = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    Ok((status, v))
}

/// A bearer token for `user` from `POST /api/v1/auth/login`.
pub(crate) async fn login(
    client: &PostClient,
    base: &str,
    user: &str,
    pw: &str,
) -> anyhow::Result<String> {
    let (_, login) = request(
        client,
        hyper::Method::POST,
        &format!("{base}/api/v1/auth/login"),
        None,
        Some(&json!({"username": user, "password": pw})),
    )
    .await?;
    Ok(login["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login answered no token: {login}"))?
        .to_string())
}

pub(crate) fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    f64::from(sorted[idx.min(sorted.len() - 1)]) / 1000.0
}

pub async fn stock_moves(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let srv = server(&args).await?;
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: PostClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.connections)
        .build(connector);
    let base = &srv.base;
    let token = login(&client, &srv.base, &args.username, &srv.password).await?;
    let (_, stores) = request(
        &client,
        hyper::Method::GET,
        &format!("{base}/api/v1/stores?q=S001"),
        Some(&token),
        None,
    )
    .await?;
    let s001 = stores["items"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no store S001"))?
        .to_string();
    // Items without lots, so that every document is exactly one movement.
    let (_, items) = request(
        &client,
        hyper::Method::GET,
        &format!("{base}/api/v1/items?limit=200"),
        Some(&token),
        None,
    )
    .await?;
    let codes: Vec<String> = items["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|i| i["lot_tracked"] == false && i["stocked"] == true)
                .filter_map(|i| i["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    anyhow::ensure!(!codes.is_empty(), "no stocked demo items without lots");
    println!(
        "stock-moves: {} clients, {} s, {} items at S001, server {base}",
        args.connections,
        args.secs(),
        codes.len()
    );
    let codes = Arc::new(codes);
    let deadline = Instant::now() + Duration::from_secs(args.secs());
    let errors = Arc::new(AtomicU64::new(0));
    let server_errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..args.connections {
        let client = client.clone();
        let url = format!("{base}/api/v1/stock/documents");
        let token = token.clone();
        let s001 = s001.clone();
        let codes = codes.clone();
        let errors = errors.clone();
        let server_errors = server_errors.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(50_000);
            let mut n = 0usize;
            while Instant::now() < deadline {
                let code = &codes[(c * 7 + n / 2) % codes.len()];
                // A receipt, then an issue of the same quantity: stock never runs out.
                let body = if n.is_multiple_of(2) {
                    json!({"location_id": s001, "kind": "receipt",
                           "lines": [{"item_code": code, "qty": "2.5", "unit_cost": "3.2"}]})
                } else {
                    json!({"location_id": s001, "kind": "issue",
                           "lines": [{"item_code": code, "qty": "2.5"}]})
                };
                n += 1;
                let t0 = Instant::now();
                match request(
                    &client,
                    hyper::Method::POST,
                    &url,
                    Some(&token),
                    Some(&body),
                )
                .await
                {
                    Ok((201, _)) => {
                        lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                    }
                    Ok((s, _)) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        if s >= 500 {
                            server_errors.fetch_add(1, Ordering::Relaxed);
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
    let moves = lat.len() as u64;
    let rate = moves as f64 / elapsed;
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    println!(
        "POST /api/v1/stock/documents (1 line): {rate:>8.0} movements/s  p50 {p50:.2} ms  p99 {p99:.2} ms  ({moves} posted, {} refused, {} server errors)",
        errors.load(Ordering::Relaxed),
        server_errors.load(Ordering::Relaxed)
    );

    // The baseline and the check need the database itself.
    let (baseline, check_ok) = match &srv.platform {
        Some(p) => {
            let n = moves.clamp(1000, 200_000);
            let rate_raw = raw_inserts(p, n).await?;
            println!(
                "raw single-row INSERTs of the same rows (baseline): {rate_raw:>8.0} rows/s ({n} rows)"
            );
            let rep = boh_inventory::ledger::check(p).await?;
            println!(
                "ledger check: {} movements, {} problems",
                rep.movements,
                rep.problems.len()
            );
            (rate_raw, rep.problems.is_empty())
        }
        None => {
            println!("baseline skipped: --url given (the baseline needs the database)");
            (0.0, true)
        }
    };
    let ratio = if baseline > 0.0 { rate / baseline } else { 0.0 };
    println!("ratio (API movements / raw inserts): {ratio:.3}");
    println!(
        "{}",
        json!({
            "bench": "stock-moves", "value": rate.round(), "unit": "movements/s",
            "baseline": baseline.round(), "ratio": (ratio * 1000.0).round() / 1000.0,
            "p50_ms": p50, "p99_ms": p99, "posted": moves,
            "errors": errors.load(Ordering::Relaxed), "server_errors": server_errors.load(Ordering::Relaxed),
            "ledger_ok": check_ok, "connections": args.connections, "seconds": args.secs(),
        })
    );
    Ok(
        if server_errors.load(Ordering::Relaxed) == 0 && check_ok && moves > 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// Rows per second of single-row INSERTs, one transaction each, into a scratch table with the
/// columns of `inv_movements`.
async fn raw_inserts(p: &boh_platform::Platform, n: u64) -> anyhow::Result<f64> {
    let db = &p.db;
    let mut conn = db.pool().acquire().await?;
    sqlx::query("DROP TABLE IF EXISTS bench_raw_movements")
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "CREATE TABLE bench_raw_movements (id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, line_no BIGINT NOT NULL, \
         company_id TEXT NOT NULL, location_id TEXT NOT NULL, location_path TEXT NOT NULL, item_id TEXT NOT NULL, \
         lot_id TEXT NOT NULL, kind TEXT NOT NULL, qty BIGINT NOT NULL, value BIGINT NOT NULL, \
         business_date TEXT NOT NULL, posted_at BIGINT NOT NULL, reason TEXT, reverses_id TEXT, \
         went_negative BIGINT NOT NULL, created_by TEXT NOT NULL)",
    )
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("SELECT id, path, company_id FROM org_nodes WHERE code = 'S001'")
        .fetch_one(&mut *conn)
        .await?;
    let (loc, path, company): (String, String, String) = (
        row.try_get("id")?,
        row.try_get("path")?,
        row.try_get("company_id")?,
    );
    drop(conn);
    let start = Instant::now();
    for i in 0..n {
        let mut tx = db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO bench_raw_movements (id, doc_id, line_no, company_id, location_id, location_path, item_id, \
             lot_id, kind, qty, value, business_date, posted_at, reason, reverses_id, went_negative, created_by) \
             VALUES ($1,$2,1,$3,$4,$5,$6,'',$7,$8,$9,'2026-12-01',$10,NULL,NULL,0,'bench')",
        )
        .bind(boh_kernel::new_id())
        .bind(boh_kernel::new_id())
        .bind(&company)
        .bind(&loc)
        .bind(&path)
        .bind(format!("item-{}", i % 50))
        .bind(if i % 2 == 0 { "receipt" } else { "issue" })
        .bind(if i % 2 == 0 { 2_500_000i64 } else { -2_500_000 })
        .bind(if i % 2 == 0 { 800i64 } else { -800 })
        .bind(boh_kernel::now().micros())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    sqlx::query("DROP TABLE bench_raw_movements")
        .execute(db.pool())
        .await?;
    Ok(rate)
}
