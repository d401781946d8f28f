//! `boh bench NAME`: benchmarks that print their figures and, as the last line, one JSON object
//! `{"bench", "value", "unit", "baseline", "ratio", ...}` where the baseline was measured in the
//! same run and `ratio` is higher-is-better.
//!
//! - `api-read`: 64 keep-alive clients on loopback for `--seconds`: authenticated
//!   `GET /api/v1/stores/{id}` against `GET /healthz` (the baseline: same server, no auth, no
//!   database). Without `--url` it starts its own server on a fresh SQLite database with the demo
//!   chain.
//! - `audit-write`: the cost of the hash-chained audit row: the same write (store UPDATE +
//!   outbox event in one transaction) with and without its audit row; also prints the whole
//!   `org::update` use case for reference.
//! - `stock-moves`: one-line stock documents posted through the API by `--connections`
//!   clients for `--seconds`, against raw single-row inserts of the same rows (see
//!   [`crate::bench_stock`]).
//! - `valuation`: the stock valuation report over `--items` items and `--movements`
//!   movements, against one aggregate over every movement (see [`crate::bench_valuation`]).
//! - `import`: `--rows` item rows (default 100,000) through the items importer (dry run, apply,
//!   apply again), against raw multi-row inserts of the same rows (see [`crate::bench_import`]).
//! - `stock-contention`: `--connections` clients (64) for `--seconds` (30) transferring stock
//!   back and forth between two stores (request, ship, receive), with a conservation check;
//!   `count`: a count of `--items` (5,000) items: start, enter every line, submit, post
//!   (see [`crate::bench_inv`]).
//! - `ingest`: POS sales batches of 1,000 lines from 4 clients with recipe depletion, stock
//!   ledger and rollups, against raw multi-row inserts of the same lines (see
//!   [`crate::bench_ingest`]).
//! - `dashboard`: the HQ sales dashboard over `--stores` (200) stores × `--days` (730) days of
//!   POS history (about 10.5 million lines), against the same totals from the raw lines (see
//!   [`crate::bench_dashboard`]).
//! - `po-cycle` and `po-list`: a 500-line purchase order through its steps, and the order list
//!   over 100,000 orders (see [`crate::bench_po`]).
//! - `dispatch`: `--jobs` (1,000) open work orders and `--technicians` (300) in a synthetic
//!   city assigned by the optimal solver, against the greedy nearest-free-technician baseline in
//!   the same run; the ratio is the greedy plan's total cost over the optimal plan's, and the
//!   solver's certified lower bound shows the optimum (see [`boh_dispatch::bench`]).

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// api-read, audit-write, stock-moves, stock-contention, count, import, valuation, ingest,
    /// dashboard, po-cycle, po-list or dispatch
    pub name: String,
    /// Seconds per measured phase (default 10; stock-contention 30).
    #[arg(long)]
    pub seconds: Option<u64>,
    /// Concurrent keep-alive clients (api-read).
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// A running server to drive instead of starting one (api-read).
    #[arg(long)]
    pub url: Option<String>,
    /// Username and password for --url (api-read); the demo admin by default.
    #[arg(long, default_value = "admin")]
    pub username: String,
    #[arg(long, env = "BOH_DEMO_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Database for a self-started server or for audit-write; a fresh SQLite file by default.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Writes per phase (audit-write).
    #[arg(long, default_value_t = 2000)]
    pub writes: usize,
    /// Items: in the count (count, default 5,000) or loaded (valuation, default 100,000).
    #[arg(long)]
    pub items: Option<usize>,
    /// Movements loaded (valuation).
    #[arg(long, default_value_t = 10_000_000)]
    pub movements: usize,
    /// Repetitions of each measured query; the median is reported (valuation).
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Item rows in the file (import); lines per batch (ingest, default 1,000).
    #[arg(long, default_value_t = 100_000)]
    pub rows: usize,
    /// Stores in the chain (dashboard).
    #[arg(long, default_value_t = 200)]
    pub stores: usize,
    /// Days of POS history (dashboard, at least 400).
    #[arg(long, default_value_t = 730)]
    pub days: i64,
    /// Open work orders in the batch (dispatch).
    #[arg(long, default_value_t = 1000)]
    pub jobs: usize,
    /// Technicians (dispatch).
    #[arg(long, default_value_t = 300)]
    pub technicians: usize,
    /// Seed of the synthetic city (dispatch).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

impl BenchArgs {
    /// Seconds per measured phase, 10 unless given.
    pub fn secs(&self) -> u64 {
        self.seconds.unwrap_or(10)
    }
}

pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.name.as_str() {
        "api-read" => api_read(args).await,
        "audit-write" => audit_write(args).await,
        "stock-moves" => crate::bench_stock::stock_moves(args).await,
        "stock-contention" => crate::bench_inv::stock_contention(args).await,
        "count" => crate::bench_inv::count(args).await,
        "import" => crate::bench_import::import(args).await,
        "valuation" => crate::bench_valuation::valuation(args).await,
        "ingest" => crate::bench_ingest::ingest(args).await,
        "dashboard" => crate::bench_dashboard::dashboard_bench(args).await,
        "po-cycle" => crate::bench_po::po_cycle(args).await,
        "po-list" => crate::bench_po::po_list(args).await,
        "dispatch" => dispatch(&args),
        other => {
            anyhow::bail!(
                "unknown benchmark {other}; try api-read, audit-write, stock-moves, stock-contention, count, import, valuation, ingest, dashboard, po-cycle, po-list or dispatch"
            )
        }
    }
}

/// `dispatch`: the optimal assignment against the greedy baseline on a synthetic city. Fails
/// when the solve takes a second or more, or the optimal plan costs more than the greedy one.
fn dispatch(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        (1..=100_000).contains(&args.jobs) && (1..=10_000).contains(&args.technicians),
        "--jobs must be 1 to 100000 and --technicians 1 to 10000"
    );
    let r = boh_dispatch::bench::run(args.jobs, args.technicians, args.seed);
    print!("{r}");
    println!(
        "{}",
        serde_json::json!({
            "bench": "dispatch", "value": r.optimal_cost, "unit": "total cost",
            "baseline": r.greedy_cost, "ratio": (r.ratio() * 10_000.0).round() / 10_000.0,
            "solve_ms": r.solve_ms, "greedy_ms": r.greedy_ms, "lower_bound": r.lower_bound,
            "jobs": r.jobs, "technicians": r.technicians, "candidate_pairs": r.candidate_pairs,
            "assigned": r.optimal_assigned, "greedy_assigned": r.greedy_assigned,
        })
    );
    Ok(if r.solve_ms < 1000.0 && r.optimal_cost <= r.greedy_cost {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

struct Phase {
    requests: u64,
    errors: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
}

fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    f64::from(sorted[idx.min(sorted.len() - 1)]) / 1000.0
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

async fn drive(
    client: &HttpClient,
    url: &str,
    token: Option<&str>,
    conns: usize,
    secs: u64,
) -> Phase {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let client = client.clone();
        let url = url.to_string();
        let token = token.map(|t| format!("Bearer {t}"));
        tasks.push(tokio::spawn(async move {
            let mut lat: Vec<u32> = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            while Instant::now() < deadline {
                let mut req = hyper::Request::get(&url);
                if let Some(t) = &token {
                    req = req.header("authorization", t);
                }
                let Ok(req) = req.body(Empty::<Bytes>::new()) else {
                    break;
                };
                let t0 = Instant::now();
                match client.request(req).await {
                    Ok(resp) => {
                        let ok = resp.status().is_success();
                        let _ = resp.into_body().collect().await;
                        if ok {
                            lat.push(t0.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                        } else {
                            errors += 1;
                        }
                    }
                    Err(_) => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    Phase {
        requests: all.len() as u64,
        errors,
        rps: all.len() as f64 / elapsed,
        p50_ms: percentile(&all, 0.50),
        p99_ms: percentile(&all, 0.99),
    }
}

async fn post_json(
    base: &str,
    path: &str,
    token: Option<&str>,
    body: &serde_json::Value,
) -> anyhow::Result<serde_json::Value> {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut req =
        hyper::Request::post(format!("{base}{path}")).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = client
        .request(req.body(Full::new(Bytes::from(body.to_string())))?)
        .await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        anyhow::bail!(
            "POST {path}: HTTP {status}: {}",
            String::from_utf8_lossy(&bytes)
        );
    }
    Ok(serde_json::from_slice(&bytes)?)
}

async fn get_json(
    client: &HttpClient,
    url: &str,
    token: &str,
) -> anyhow::Result<serde_json::Value> {
    let req = hyper::Request::get(url)
        .header("authorization", format!("Bearer {token}"))
        .body(Empty::<Bytes>::new())?;
    let resp = client.request(req).await?;
    let bytes = resp.into_body().collect().await?.to_bytes();
    Ok(serde_json::from_slice(&bytes)?)
}

async fn api_read(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let mut _tmp = None;
    let (base, password) = match &args.url {
        Some(u) => (
            u.trim_end_matches('/').to_string(),
            args.password.clone().ok_or_else(|| {
                anyhow::anyhow!("--password (or BOH_DEMO_PASSWORD) is needed with --url")
            })?,
        ),
        None => {
            let dir = tempfile_dir()?;
            let db = args
                .database_url
                .clone()
                .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
            _tmp = Some(dir);
            let password = boh_platform::util::random_token(12);
            let settings = crate::Settings {
                database_url: db,
                bind: "127.0.0.1:0".into(),
                demo: true,
                demo_size: None,
                demo_password: Some(password.clone()),
                run_worker: false,
                ..Default::default()
            };
            let (app, _) = crate::Application::build(settings).await?;
            let addr = app.local_addr()?;
            tokio::spawn(app.run_until(std::future::pending()));
            (format!("http://{addr}"), password)
        }
    };
    let login = post_json(
        &base,
        "/api/v1/auth/login",
        None,
        &serde_json::json!({"username": args.username, "password": password}),
    )
    .await?;
    let token = login["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login answered no token"))?
        .to_string();
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(args.connections)
        .build(connector);
    let stores = get_json(&client, &format!("{base}/api/v1/stores?q=S001"), &token).await?;
    let id = stores["items"][0]["id"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("no store S001 visible"))?
        .to_string();
    let store_url = format!("{base}/api/v1/stores/{id}");
    let health_url = format!("{base}/healthz");
    println!(
        "api-read: {} clients, {} s per phase, server {base}",
        args.connections,
        args.secs()
    );
    // Warm up both paths (connections, caches, statement cache).
    drive(&client, &store_url, Some(&token), args.connections, 1).await;
    let store = drive(
        &client,
        &store_url,
        Some(&token),
        args.connections,
        args.secs(),
    )
    .await;
    let health = drive(&client, &health_url, None, args.connections, args.secs()).await;
    println!(
        "GET /api/v1/stores/{{id}}: {:>9.0} req/s  p50 {:.2} ms  p99 {:.2} ms  ({} ok, {} errors)",
        store.rps, store.p50_ms, store.p99_ms, store.requests, store.errors
    );
    println!(
        "GET /healthz (baseline): {:>9.0} req/s  p50 {:.2} ms  p99 {:.2} ms  ({} ok, {} errors)",
        health.rps, health.p50_ms, health.p99_ms, health.requests, health.errors
    );
    let ratio = if health.rps > 0.0 {
        store.rps / health.rps
    } else {
        0.0
    };
    println!("ratio (store read / healthz): {ratio:.3}");
    println!(
        "{}",
        serde_json::json!({
            "bench": "api-read", "value": store.rps.round(), "unit": "req/s", "baseline": health.rps.round(),
            "ratio": (ratio * 1000.0).round() / 1000.0, "p50_ms": store.p50_ms, "p99_ms": store.p99_ms,
            "baseline_p50_ms": health.p50_ms, "baseline_p99_ms": health.p99_ms,
            "errors": store.errors + health.errors, "connections": args.connections, "seconds": args.secs()
        })
    );
    Ok(if store.errors + health.errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("boh-bench-{}", boh_kernel::new_id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

async fn audit_write(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile_dir()?;
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
    let db = boh_db::Db::connect(&url).await?;
    db.migrate().await?;
    let p = boh_platform::Platform::new(db.clone(), boh_platform::PlatformSettings::default());
    boh_platform::demo::seed(&p, &boh_platform::util::random_token(12)).await?;
    let ctx = boh_platform::Ctx::system();
    let (stores, _) = boh_platform::org::list(
        &p,
        &ctx.actor,
        &boh_platform::org::NodeFilter {
            kind: Some("store".into()),
            limit: Some(500),
            ..Default::default()
        },
    )
    .await?;
    let n = args.writes;
    let payload =
        |i: usize| serde_json::json!({ "sales_area_m2": 100 + (i % 50), "note": "bench" });
    // Baseline: the write without its audit row (store UPDATE + outbox event, one transaction).
    let t0 = Instant::now();
    for i in 0..n {
        let s = &stores[i % stores.len()];
        let area = 100 + (i % 50) as i64;
        boh_platform::tx!(p.db, tx, {
            sqlx::query(
                "UPDATE org_nodes SET sales_area_m2 = $1, version = version + 1 WHERE id = $2",
            )
            .bind(area)
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
            boh_platform::events::emit(tx, "org.node.updated", Some(&s.path), &payload(i)).await?;
            Ok(())
        })?;
    }
    let plain = n as f64 / t0.elapsed().as_secs_f64();
    // The same write with its hash-chained audit row (before and after values).
    let t1 = Instant::now();
    for i in 0..n {
        let s = &stores[i % stores.len()];
        let area = 100 + (i % 50) as i64;
        boh_platform::tx!(p.db, tx, {
            sqlx::query(
                "UPDATE org_nodes SET sales_area_m2 = $1, version = version + 1 WHERE id = $2",
            )
            .bind(area)
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
            boh_platform::events::emit(tx, "org.node.updated", Some(&s.path), &payload(i)).await?;
            let change = boh_platform::audit::Change {
                action: "org.node.update",
                entity_type: "org_node",
                entity_id: &s.id,
                org_path: Some(&s.path),
                before: serde_json::to_value(s).ok(),
                after: serde_json::to_value(s).ok(),
            };
            boh_platform::audit::append(tx, &ctx, change).await?;
            Ok(())
        })?;
    }
    let audited = n as f64 / t1.elapsed().as_secs_f64();
    // For reference: the whole use case (scoped read, validation, audit, outbox).
    let t2 = Instant::now();
    for i in 0..n {
        let s = &stores[i % stores.len()];
        let patch = boh_platform::org::NodePatch {
            sales_area_m2: Some(150 + (i % 50) as i64),
            ..Default::default()
        };
        boh_platform::org::update(&p, &ctx, &s.id, patch).await?;
    }
    let full = n as f64 / t2.elapsed().as_secs_f64();
    let ratio = audited / plain;
    println!(
        "audit-write on {}: {n} writes per phase",
        boh_db::redact_url(&url)
    );
    println!("write without audit row (baseline): {plain:>9.0} writes/s");
    println!("same write with audit row:          {audited:>9.0} writes/s");
    println!("org::update, whole use case:        {full:>9.0} writes/s");
    println!("ratio (with audit / without): {ratio:.3}");
    let report = boh_platform::audit::verify(&p.db, None, |_, _| {}).await?;
    println!(
        "audit chain after the run: ok={} rows={}",
        report.ok, report.rows
    );
    println!(
        "{}",
        serde_json::json!({"bench": "audit-write", "value": audited.round(), "unit": "writes/s", "baseline": plain.round(), "ratio": (ratio * 1000.0).round() / 1000.0, "full_use_case": full.round(), "writes": n})
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(ExitCode::SUCCESS)
}
