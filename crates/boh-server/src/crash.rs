//! The crash test: a black-box driver that starts the real `boh serve` binary as a child
//! process, sends idempotent writes (each with its own `Idempotency-Key`) from several
//! concurrent clients, kills the server with SIGKILL at a random moment, restarts it on the same
//! database and verifies:
//! - every acknowledged write (2xx) is present exactly once, with its idempotency key;
//! - every unacknowledged write is fully present (effect and key) or fully absent;
//! - retrying every key after the restart applies it at most once (acknowledged ones answer
//!   their first response again);
//! - every invariant checker passes (`boh check`: SQLite integrity and foreign keys, the audit
//!   chain, each module's own).
//!
//! The moments of the kills and the write mix come from one seeded RNG; the seed is printed and
//! `--seed` replays the same plan (the interleaving of the clients still varies).
//!
//! The writes are pluggable: a [`WriteKind`] plans a request and counts how often its effect is
//! in the database. The platform's are in [`write_kinds`]; a business module adds its own there.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use boh_db::{Db, Row};
use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::Method;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The password of the demo users in the crash test's database.
const PASSWORD: &str = "crash-test-demo-password";

/// What the test knows about the demo data, for planning writes.
#[derive(Debug, Clone, Default)]
pub struct Env {
    /// Org node ids by code (`R-EAST`, `S001`, ...).
    pub nodes: HashMap<String, String>,
}

impl Env {
    pub fn node(&self, code: &str) -> anyhow::Result<&str> {
        self.nodes
            .get(code)
            .map(String::as_str)
            .ok_or_else(|| anyhow!("no demo node {code}"))
    }
}

/// One planned write: a JSON request, and the marker that finds its effect again.
#[derive(Debug, Clone)]
pub struct Planned {
    pub method: Method,
    pub path: String,
    pub body: Value,
    pub marker: String,
}

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A kind of write the crash test sends.
pub trait WriteKind: Send + Sync {
    fn name(&self) -> &'static str;
    /// The request for write number `n` (unique within a run).
    fn plan(&self, env: &Env, n: u64) -> anyhow::Result<Planned>;
    /// How many times the write is in the database. A write that is only partly there (e.g. a
    /// record without its audit row) is an error.
    fn count<'a>(&'a self, db: &'a Db, marker: &'a str) -> BoxFuture<'a, anyhow::Result<i64>>;
}

/// `POST /api/v1/stores`: a store under the east region; present once means one node with the
/// code and exactly one `org.node.create` audit row for it.
pub struct StoreWrites;

impl WriteKind for StoreWrites {
    fn name(&self) -> &'static str {
        "store"
    }

    fn plan(&self, env: &Env, n: u64) -> anyhow::Result<Planned> {
        let code = format!("CRASH-{n}");
        Ok(Planned {
            method: Method::POST,
            path: "/api/v1/stores".into(),
            body: json!({
                "parent_id": env.node("R-EAST")?,
                "code": code,
                "name": format!("Crash test store {n}"),
                "format": "express",
                "sales_area_m2": 40 + (n % 200) as i64,
            }),
            marker: code,
        })
    }

    fn count<'a>(&'a self, db: &'a Db, marker: &'a str) -> BoxFuture<'a, anyhow::Result<i64>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT id FROM org_nodes WHERE code = $1")
                .bind(marker)
                .fetch_all(db.pool())
                .await?;
            for r in &rows {
                let id: String = r.try_get("id")?;
                let audits: i64 = sqlx::query(
                    "SELECT COUNT(*) AS n FROM audit_log WHERE entity_id = $1 AND action = 'org.node.create'",
                )
                .bind(&id)
                .fetch_one(db.pool())
                .await?
                .try_get("n")?;
                if audits != 1 {
                    bail!("store {marker} ({id}) has {audits} creation audit rows");
                }
            }
            Ok(rows.len() as i64)
        })
    }
}

/// `POST /api/v1/stock/documents`: a receipt at S001 of a demo item (the small demo
/// catalogue); present once means one document with the reference, one movement, one audit
/// row and one outbox event. The ledger checker (`inventory.ledger` in `boh check`) proves
/// on-hand still equals the movements after every kill.
pub struct StockWrites;

impl WriteKind for StockWrites {
    fn name(&self) -> &'static str {
        "stock document"
    }

    fn plan(&self, env: &Env, n: u64) -> anyhow::Result<Planned> {
        let reference = format!("CRASH-DOC-{n}");
        Ok(Planned {
            method: Method::POST,
            path: "/api/v1/stock/documents".into(),
            body: json!({
                "location_id": env.node("S001")?,
                "kind": "receipt",
                "reference": reference,
                "lines": [{"item_code": "RM0005", "qty": format!("{}.5", 1 + n % 9), "unit_cost": "31.2",
                    "lot_code": format!("CRASH-{}", n % 3), "expiry_date": "2030-01-01"}],
            }),
            marker: reference,
        })
    }

    fn count<'a>(&'a self, db: &'a Db, marker: &'a str) -> BoxFuture<'a, anyhow::Result<i64>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT id FROM inv_docs WHERE reference = $1")
                .bind(marker)
                .fetch_all(db.pool())
                .await?;
            for r in &rows {
                let id: String = r.try_get("id")?;
                let one = |sql: &'static str| {
                    let id = id.clone();
                    async move {
                        let n: i64 = sqlx::query(sql)
                            .bind(&id)
                            .fetch_one(db.pool())
                            .await?
                            .try_get("n")?;
                        Ok::<i64, anyhow::Error>(n)
                    }
                };
                let moves =
                    one("SELECT COUNT(*) AS n FROM inv_movements WHERE doc_id = $1").await?;
                let audits = one(
                    "SELECT COUNT(*) AS n FROM audit_log WHERE entity_id = $1 AND action = 'inventory.document.post'",
                )
                .await?;
                if moves != 1 || audits != 1 {
                    bail!("document {marker} ({id}) has {moves} movements and {audits} audit rows");
                }
            }
            Ok(rows.len() as i64)
        })
    }
}

/// `POST /api/v1/sales/batches`: a POS batch of 40 lines at S001 (menu items of the small
/// demo, exploded through their recipes); present once means one batch with all its lines and
/// tickets, one audit row, and its `sale` stock document with its usage rows. The rollup
/// checker (`sales.rollups` in `boh check`) proves no batch was half applied.
pub struct SalesWrites;

impl WriteKind for SalesWrites {
    fn name(&self) -> &'static str {
        "sales batch"
    }

    fn plan(&self, env: &Env, n: u64) -> anyhow::Result<Planned> {
        let key = format!("CRASH-SALES-{n}");
        let date = boh_inventory::today_in("Asia/Shanghai").to_string();
        let tickets: Vec<Value> = (0..10)
            .map(|t| {
                let lines: Vec<Value> = (0..4)
                    .map(|j| {
                        json!({"pos_code": format!("{}", 1001 + (n + t + j) % 3), "qty": "1",
                            "gross": 1800, "tax": 102})
                    })
                    .collect();
                json!({"ticket_no": format!("{n}-{t}"), "closed_at": format!("{date}T12:00:00+08:00"),
                    "cashier": "crash", "lines": lines,
                    "tenders": [{"tender": "wechat", "amount": 7200}]})
            })
            .collect();
        Ok(Planned {
            method: Method::POST,
            path: "/api/v1/sales/batches".into(),
            body: json!({"store_id": env.node("S001")?, "source": "crash", "business_date": date,
                "batch_key": key, "tickets": tickets}),
            marker: key,
        })
    }

    fn count<'a>(&'a self, db: &'a Db, marker: &'a str) -> BoxFuture<'a, anyhow::Result<i64>> {
        Box::pin(async move {
            let rows = sqlx::query("SELECT id, doc_id FROM sales_batches WHERE batch_key = $1")
                .bind(marker)
                .fetch_all(db.pool())
                .await?;
            for r in &rows {
                let id: String = r.try_get("id")?;
                let doc: Option<String> = r.try_get("doc_id")?;
                let n = |sql: &'static str, v: String| async move {
                    let n: i64 = sqlx::query(sql)
                        .bind(v)
                        .fetch_one(db.pool())
                        .await?
                        .try_get("n")?;
                    Ok::<i64, anyhow::Error>(n)
                };
                let lines = n(
                    "SELECT COUNT(*) AS n FROM sales_lines WHERE batch_id = $1",
                    id.clone(),
                )
                .await?;
                let tickets = n(
                    "SELECT COUNT(*) AS n FROM sales_tickets WHERE batch_id = $1",
                    id.clone(),
                )
                .await?;
                let audits = n(
                    "SELECT COUNT(*) AS n FROM audit_log WHERE entity_id = $1 AND action = 'sales.batch.ingest'",
                    id.clone(),
                )
                .await?;
                let usage = n(
                    "SELECT COUNT(*) AS n FROM sales_usage WHERE batch_id = $1",
                    id.clone(),
                )
                .await?;
                let moves = match doc {
                    Some(d) => {
                        n(
                            "SELECT COUNT(*) AS n FROM inv_movements WHERE doc_id = $1",
                            d,
                        )
                        .await?
                    }
                    None => 0,
                };
                if lines != 40 || tickets != 10 || audits != 1 || usage == 0 || moves == 0 {
                    bail!(
                        "batch {marker} ({id}) is partial: {lines} lines, {tickets} tickets, {audits} audit rows, {usage} usage rows, {moves} movements"
                    );
                }
            }
            Ok(rows.len() as i64)
        })
    }
}

/// The writes the crash test mixes. A business module adds its kinds here.
pub fn write_kinds() -> Vec<Arc<dyn WriteKind>> {
    vec![
        Arc::new(StoreWrites),
        Arc::new(StockWrites),
        Arc::new(SalesWrites),
    ]
}

/// How one round of the test is run.
#[derive(Clone)]
pub struct Config {
    /// The `boh` binary.
    pub exe: PathBuf,
    pub database_url: String,
    /// Kills (and restarts) in the run.
    pub rounds: u32,
    /// Concurrent clients writing.
    pub clients: usize,
    pub seed: u64,
    /// The kill comes this many milliseconds after the clients start (uniform in the range).
    pub kill_after_ms: (u64, u64),
    pub writes: Vec<Arc<dyn WriteKind>>,
    /// Where the server's logs go (one file per start).
    pub log_dir: PathBuf,
}

/// What a run saw.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    pub seed: u64,
    pub rounds: u32,
    pub writes_sent: u64,
    pub acknowledged: u64,
    pub unacknowledged: u64,
    /// Unacknowledged writes that had committed before the kill.
    pub unacknowledged_applied: u64,
    pub retried: u64,
}

#[derive(Debug, Clone)]
struct Sent {
    kind: usize,
    key: String,
    planned: Planned,
    /// The status and body of a definite answer; `None` when the connection broke first.
    answer: Option<(u16, String)>,
}

/// A running `boh serve`.
struct Server {
    child: Child,
    base: String,
}

async fn start_server(cfg: &Config, start: u32) -> anyhow::Result<Server> {
    let log = std::fs::File::create(cfg.log_dir.join(format!("server-{start}.log")))?;
    let mut child = Command::new(&cfg.exe)
        .args([
            "serve",
            "--demo",
            "--demo-size",
            "small",
            "--bind",
            "127.0.0.1:0",
            "--database-url",
            &cfg.database_url,
        ])
        .env("BOH_DEMO_PASSWORD", PASSWORD)
        .env("BOH_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", cfg.exe.display()))?;
    let stdout = child.stdout.take().context("server stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let base = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await? {
            if let Some(rest) = line.strip_prefix("BOH is running at ") {
                let url = rest.split_whitespace().next().unwrap_or("");
                return Ok::<_, anyhow::Error>(url.trim_end_matches('/').to_string());
            }
        }
        bail!("the server exited before it was listening")
    })
    .await
    .context("the server did not start within 120 s")??;
    // Keep draining stdout so the child never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Server { child, base })
}

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

async fn send(
    client: &HttpClient,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    key: Option<&str>,
    body: &Value,
) -> anyhow::Result<(u16, String)> {
    let mut b = hyper::Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .header("content-type", "application/json");
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    if let Some(k) = key {
        b = b.header("idempotency-key", k);
    }
    let req = b.body(Full::new(Bytes::from(body.to_string())))?;
    let resp = tokio::time::timeout(Duration::from_secs(30), client.request(req))
        .await
        .context("no answer within 30 s")??;
    let status = resp.status().as_u16();
    let bytes = tokio::time::timeout(Duration::from_secs(30), resp.into_body().collect())
        .await
        .context("no body within 30 s")??
        .to_bytes();
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

async fn get_json(
    client: &HttpClient,
    base: &str,
    path: &str,
    token: &str,
) -> anyhow::Result<Value> {
    let req = hyper::Request::builder()
        .method(Method::GET)
        .uri(format!("{base}{path}"))
        .header("authorization", format!("Bearer {token}"))
        .body(Full::new(Bytes::new()))?;
    let resp = client.request(req).await?;
    let status = resp.status();
    let bytes = resp.into_body().collect().await?.to_bytes();
    if !status.is_success() {
        bail!("GET {path}: {status}");
    }
    Ok(serde_json::from_slice(&bytes)?)
}

async fn login(client: &HttpClient, base: &str) -> anyhow::Result<String> {
    let (status, body) = send(
        client,
        base,
        Method::POST,
        "/api/v1/auth/login",
        None,
        None,
        &json!({"username": "admin", "password": PASSWORD}),
    )
    .await?;
    if status != 200 {
        bail!("login as admin: {status} {body}");
    }
    let v: Value = serde_json::from_str(&body)?;
    v["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no token in the login answer"))
}

async fn run_checks(cfg: &Config) -> anyhow::Result<String> {
    let out = Command::new(&cfg.exe)
        .args(["check", "--database-url", &cfg.database_url])
        .env("BOH_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .await
        .context("running boh check")?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!(
            "boh check failed ({}):\n{text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(text)
}

/// Run the whole test; `Err` names the first violated guarantee (with the seed).
pub async fn run(cfg: Config) -> anyhow::Result<Summary> {
    run_inner(&cfg)
        .await
        .with_context(|| format!("crash test with seed {} failed", cfg.seed))
}

async fn run_inner(cfg: &Config) -> anyhow::Result<Summary> {
    if cfg.writes.is_empty() {
        bail!("no write kinds");
    }
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    let mut summary = Summary {
        seed: cfg.seed,
        rounds: cfg.rounds,
        ..Summary::default()
    };
    let mut starts = 0u32;
    let mut server = start_server(cfg, starts).await?;
    let client = http_client();
    let token = login(&client, &server.base).await?;
    let nodes = get_json(&client, &server.base, "/api/v1/org/nodes?limit=500", &token).await?;
    let mut env = Env::default();
    for n in nodes["items"].as_array().into_iter().flatten() {
        if let (Some(code), Some(id)) = (n["code"].as_str(), n["id"].as_str()) {
            env.nodes.insert(code.to_string(), id.to_string());
        }
    }
    let db = Db::connect(&cfg.database_url).await?;
    let admin_id: String = sqlx::query("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(db.pool())
        .await?
        .try_get("id")?;
    let next = Arc::new(AtomicU64::new(1));

    for round in 1..=cfg.rounds {
        // Clients write until the server dies under them.
        let sent: Arc<Mutex<Vec<Sent>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        for c in 0..cfg.clients {
            let client_seed = rng.random::<u64>();
            let (sent, stop, next) = (sent.clone(), stop.clone(), next.clone());
            let (writes, env, base, token) = (
                cfg.writes.clone(),
                env.clone(),
                server.base.clone(),
                token.clone(),
            );
            let seed = cfg.seed;
            tasks.push(tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(client_seed);
                // One connection pool per client, so a kill breaks each client's own requests.
                let http = http_client();
                while !stop.load(Ordering::Relaxed) {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let kind = rng.random_range(0..writes.len());
                    let planned = writes[kind].plan(&env, n)?;
                    let key = format!("crash-{seed}-{round}-{c}-{n}");
                    let answer = send(
                        &http,
                        &base,
                        planned.method.clone(),
                        &planned.path,
                        Some(&token),
                        Some(&key),
                        &planned.body,
                    )
                    .await
                    .ok();
                    let broken = answer.is_none();
                    if let Ok(mut g) = sent.lock() {
                        g.push(Sent {
                            kind,
                            key,
                            planned,
                            answer,
                        });
                    }
                    if broken {
                        // The server is gone; the driver restarts it.
                        break;
                    }
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        let wait = rng.random_range(cfg.kill_after_ms.0..=cfg.kill_after_ms.1);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.child.start_kill().context("SIGKILL")?;
        let _ = server.child.wait().await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.context("a client task")??;
        }
        starts += 1;
        server = start_server(cfg, starts).await?;
        let sent = std::mem::take(&mut *sent.lock().map_err(|_| anyhow!("lock"))?);

        // Verify what survived, then retry every key.
        let (mut acked, mut unacked, mut applied) = (0u64, 0u64, 0u64);
        for s in &sent {
            let w = &cfg.writes[s.kind];
            let n = w
                .count(&db, &s.planned.marker)
                .await
                .with_context(|| format!("counting {} {}", w.name(), s.planned.marker))?;
            let keys = key_rows(&db, &admin_id, &s.key).await?;
            match &s.answer {
                Some((status, body)) if (200..300).contains(status) => {
                    acked += 1;
                    if n != 1 || keys != 1 {
                        bail!(
                            "round {round}: acknowledged {} {} (key {}) is present {n} times with {keys} key rows; answer was {status} {body}",
                            w.name(),
                            s.planned.marker,
                            s.key
                        );
                    }
                }
                Some((status, body)) => bail!(
                    "round {round}: {} {} was refused before the kill: {status} {body}",
                    w.name(),
                    s.planned.marker
                ),
                None => {
                    unacked += 1;
                    if n > 1 || n != keys {
                        bail!(
                            "round {round}: unacknowledged {} {} (key {}) is partly applied: {n} copies, {keys} key rows",
                            w.name(),
                            s.planned.marker,
                            s.key
                        );
                    }
                    applied += n as u64;
                }
            }
        }
        let http = http_client();
        for s in &sent {
            let w = &cfg.writes[s.kind];
            let (status, body) = send(
                &http,
                &server.base,
                s.planned.method.clone(),
                &s.planned.path,
                Some(&token),
                Some(&s.key),
                &s.planned.body,
            )
            .await
            .with_context(|| format!("retrying {} {}", w.name(), s.planned.marker))?;
            if !(200..300).contains(&status) {
                bail!(
                    "round {round}: retrying {} {} (key {}) answered {status} {body}",
                    w.name(),
                    s.planned.marker,
                    s.key
                );
            }
            if let Some((_, first)) = &s.answer
                && *first != body
            {
                bail!(
                    "round {round}: the retry of acknowledged {} {} answered another body:\nfirst: {first}\nretry: {body}",
                    w.name(),
                    s.planned.marker
                );
            }
            let n = w.count(&db, &s.planned.marker).await?;
            if n != 1 {
                bail!(
                    "round {round}: after retrying, {} {} is present {n} times",
                    w.name(),
                    s.planned.marker
                );
            }
        }
        let checks = run_checks(cfg).await?;
        println!(
            "round {round}/{}: killed after {wait} ms; {} writes sent, {acked} acknowledged, {unacked} unacknowledged ({applied} of them applied); all retried once; {}",
            cfg.rounds,
            sent.len(),
            checks.lines().last().unwrap_or("").trim()
        );
        summary.writes_sent += sent.len() as u64;
        summary.acknowledged += acked;
        summary.unacknowledged += unacked;
        summary.unacknowledged_applied += applied;
        summary.retried += sent.len() as u64;
    }
    server.child.start_kill()?;
    let _ = server.child.wait().await;
    db.pool().close().await;
    Ok(summary)
}

async fn key_rows(db: &Db, actor_id: &str, key: &str) -> anyhow::Result<i64> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM idempotency_keys WHERE actor_id = $1 AND key = $2 AND status > 0",
    )
    .bind(actor_id)
    .bind(key)
    .fetch_one(db.pool())
    .await?
    .try_get("n")?)
}

/// `boh crash-test`: the longer round on demand.
#[derive(Args, Debug, Clone)]
pub struct CrashArgs {
    /// Database to crash on; a fresh SQLite file in a temporary directory by default. Its
    /// contents are changed: use a scratch database.
    #[arg(long)]
    pub database_url: Option<String>,
    /// Kills (and restarts).
    #[arg(long, default_value_t = 20)]
    pub rounds: u32,
    /// Concurrent writing clients.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,
    /// Seed of the kill moments and the write mix (random by default; printed).
    #[arg(long, env = "BOH_CRASH_SEED")]
    pub seed: Option<u64>,
    /// Longest wait before a kill, in milliseconds.
    #[arg(long, default_value_t = 1500)]
    pub max_wait_ms: u64,
}

pub fn random_seed() -> u64 {
    rand::rng().random()
}

pub async fn run_cli(args: CrashArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::Builder::new().prefix("boh-crash-").tempdir()?;
    let database_url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/boh.db", dir.path().display()));
    let seed = args.seed.unwrap_or_else(random_seed);
    println!(
        "crash test: seed {seed} (BOH_CRASH_SEED={seed} replays it), {} rounds, database {}",
        args.rounds,
        boh_db::redact_url(&database_url)
    );
    let cfg = Config {
        exe: std::env::current_exe()?,
        database_url,
        rounds: args.rounds,
        clients: args.clients.max(1),
        seed,
        kill_after_ms: (20, args.max_wait_ms.max(20)),
        writes: write_kinds(),
        log_dir: dir.path().to_path_buf(),
    };
    match run(cfg).await {
        Ok(s) => {
            println!("{}", serde_json::to_string(&s)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("{e:#}");
            print_logs(dir.path());
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The tail of each server log in `dir` (for a failed run).
pub fn print_logs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(20);
            eprintln!("--- {} (last lines)", f.display());
            for l in &lines[from..] {
                eprintln!("{l}");
            }
        }
    }
}
