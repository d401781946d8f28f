//! The integration-test harness: a fresh database per test on SQLite or PostgreSQL, the whole
//! application served on a free loopback port, a small HTTP client, a webhook sink, and an
//! SMTP sink (`smtp`).
//!
//! Every test is written once as `async fn name(app: TestApp)` and instantiated for both
//! databases with `both!(name);`, which generates `name::sqlite` and `name::postgres`.
//!
//! PostgreSQL comes from `BOH_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates its own database
//! `boh_test_<uuid>` there and drops it at the end. An unreachable server fails the test.
#![allow(dead_code)]

pub mod browser;
pub mod smtp;

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use boh_db::{Backend as DbBackend, Db, Row};
use boh_platform::{Platform, PlatformSettings};
use boh_server::{Application, Settings};
use boh_web::AppState;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::HeaderMap;
use hyper::{Method, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::oneshot;

/// The password of every demo user in tests.
pub const DEMO_PASSWORD: &str = "demo-password-for-tests-1";

pub const DEFAULT_PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Instantiate `async fn $name(app: TestApp)` once per database: `$name::sqlite` and
/// `$name::postgres`.
macro_rules! both {
    // `both!(name, with = routes)`: the app gets the extra routes of `routes()` behind the same
    // middleware stack (for handlers the product does not have, e.g. one that panics).
    ($name:ident, with = $extra:path) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = $crate::common::TestDb::create($crate::common::Backend::Sqlite).await;
                let app = $crate::common::spawn_app_routes(db, $extra()).await;
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let db = $crate::common::TestDb::create($crate::common::Backend::Postgres).await;
                let app = $crate::common::spawn_app_routes(db, $extra()).await;
                super::$name(app).await;
            }
        }
    };
    // `both!(name, backend)`: `async fn name(backend: Backend)` spawns its own app, for
    // settings that need something started first (an SMTP sink's port).
    ($name:ident, backend) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::common::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name($crate::common::Backend::Postgres).await;
            }
        }
    };
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::common::spawn_app($crate::common::Backend::Sqlite).await;
                super::$name(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let app = $crate::common::spawn_app($crate::common::Backend::Postgres).await;
                super::$name(app).await;
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn other(self) -> Backend {
        match self {
            Backend::Sqlite => Backend::Postgres,
            Backend::Postgres => Backend::Sqlite,
        }
    }
}

// ---------------------------------------------------------------- databases

/// A fresh, empty database, removed when dropped (the SQLite file with its temp dir; the
/// PostgreSQL database with `DROP DATABASE ... WITH (FORCE)`, best effort).
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

pub fn pg_admin_url() -> String {
    std::env::var("BOH_TEST_DATABASE_URL")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_PG_URL.to_string())
}

/// The same server URL with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let end = base[start..]
        .find('/')
        .map(|i| start + i)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn pg_admin_connection(admin: &str) -> sqlx::PgConnection {
    use sqlx::Connection;
    match tokio::time::timeout(
        std::time::Duration::from_secs(15),
        sqlx::PgConnection::connect(admin),
    )
    .await
    {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => panic!(
            "PostgreSQL is required for the integration tests and is not reachable at {} \
             (set BOH_TEST_DATABASE_URL to a server where this user may CREATE DATABASE): {e}",
            boh_db::redact_url(admin)
        ),
        Err(_) => panic!(
            "PostgreSQL is required for the integration tests: connecting to {} timed out \
             (set BOH_TEST_DATABASE_URL)",
            boh_db::redact_url(admin)
        ),
    }
}

impl TestDb {
    pub async fn create(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::Builder::new()
                    .prefix("boh-test-")
                    .tempdir()
                    .expect("creating a temp dir for the SQLite test database");
                let url = format!("sqlite://{}/boh.db", dir.path().display());
                TestDb {
                    url,
                    backend,
                    dir: Some(dir),
                    pg: None,
                }
            }
            Backend::Postgres => {
                use sqlx::Executor;
                let admin = pg_admin_url();
                let name = format!("boh_test_{}", uuid::Uuid::now_v7().simple());
                let mut conn = pg_admin_connection(&admin).await;
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "CREATE DATABASE {name} on {} failed (BOH_TEST_DATABASE_URL): {e}",
                            boh_db::redact_url(&admin)
                        )
                    });
                let _ = sqlx::Connection::close(conn).await;
                TestDb {
                    url: with_database(&admin, &name),
                    backend,
                    dir: None,
                    pg: Some((admin, name)),
                }
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.pg.take() else {
            return;
        };
        // Drop runs inside the test's runtime; do the async clean-up on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                use sqlx::{Connection, Executor};
                let Ok(Ok(mut c)) = tokio::time::timeout(
                    std::time::Duration::from_secs(10),
                    sqlx::PgConnection::connect(&admin),
                )
                .await
                else {
                    return;
                };
                let _ = c
                    .execute(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .await;
                let _ = c.close().await;
            });
        })
        .join();
    }
}

// ---------------------------------------------------------------- the app

/// The application serving on a free loopback port over a fresh demo database.
pub struct TestApp {
    pub base: String,
    pub addr: SocketAddr,
    pub state: AppState,
    pub platform: Platform,
    pub backend: Backend,
    pub http: Http,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    // Last, so the database outlives the server handle.
    pub db: TestDb,
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    let db = TestDb::create(backend).await;
    spawn_app_on(db).await
}

/// `BOH_TEST_LOG=debug` (any filter) shows the application's logs in failing tests' output.
fn init_tracing() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Ok(filter) = std::env::var("BOH_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_test_writer()
                .try_init();
        }
    });
}

/// The application on a fresh database, with settings changed by `f` (limits, thresholds).
pub async fn spawn_app_with(backend: Backend, f: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDb::create(backend).await;
    spawn_app_configured(db, f, axum::Router::new()).await
}

pub async fn spawn_app_on(db: TestDb) -> TestApp {
    spawn_app_configured(db, |_| {}, axum::Router::new()).await
}

/// The app with extra routes behind the same middleware stack.
pub async fn spawn_app_routes(db: TestDb, extra: axum::Router<AppState>) -> TestApp {
    spawn_app_configured(db, |_| {}, extra).await
}

async fn spawn_app_configured(
    db: TestDb,
    f: impl FnOnce(&mut Settings),
    extra: axum::Router<AppState>,
) -> TestApp {
    init_tracing();
    let mut settings = Settings {
        database_url: db.url.clone(),
        bind: "127.0.0.1:0".into(),
        demo: true,
        demo_size: None,
        demo_password: Some(DEMO_PASSWORD.into()),
        secure_cookies: false,
        run_worker: false,
        platform: PlatformSettings::default(),
    };
    f(&mut settings);
    let (app, _) = Application::build_with(settings, extra)
        .await
        .unwrap_or_else(|e| panic!("building the application on {:?}: {e:#}", db.backend));
    let addr = app.local_addr().expect("local address");
    let state = app.state.clone();
    let platform = state.platform.clone();
    let (tx, rx) = oneshot::channel::<()>();
    // Start every test with the seed's events dispatched: a test sees only its own.
    boh_platform::jobs::drain(&platform, &boh_server::job_registry())
        .await
        .expect("dispatching the seed's events");
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    let base = format!("http://{addr}");
    TestApp {
        http: Http::new(&base, None),
        base,
        addr,
        state,
        platform,
        backend: db.backend,
        shutdown: Some(tx),
        server: Some(server),
        db,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.abort();
        }
    }
}

impl TestApp {
    pub fn pool(&self) -> &sqlx::AnyPool {
        self.platform.db.pool()
    }

    pub fn db(&self) -> &Db {
        &self.platform.db
    }

    pub fn db_backend(&self) -> DbBackend {
        self.platform.db.backend()
    }

    /// A request to this app.
    pub fn request(&self, method: Method, path: &str) -> Req {
        self.http.request(method, path)
    }

    /// A client whose connections come from another loopback address (127.0.0.N).
    pub fn http_from(&self, ip: &str) -> Http {
        Http::new(&self.base, Some(ip.parse().expect("an IP address")))
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.request(Method::GET, path).bearer(token).send().await
    }

    pub async fn delete(&self, path: &str, token: &str) -> Resp {
        self.request(Method::DELETE, path)
            .bearer(token)
            .send()
            .await
    }

    pub async fn post_json(
        &self,
        path: &str,
        token: &str,
        body: Value,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut r = self.request(Method::POST, path).bearer(token).json(&body);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        r.send().await
    }

    pub async fn patch_json(&self, path: &str, token: &str, body: Value) -> Resp {
        self.request(Method::PATCH, path)
            .bearer(token)
            .json(&body)
            .send()
            .await
    }

    /// POST with no body (actions such as deactivate).
    pub async fn post_empty(&self, path: &str, token: &str) -> Resp {
        self.request(Method::POST, path).bearer(token).send().await
    }

    /// Log in through the API and return the bearer token.
    pub async fn login_token(&self, username: &str) -> String {
        let r = self
            .post_json(
                "/api/v1/auth/login",
                "",
                json!({"username": username, "password": DEMO_PASSWORD}),
                &[],
            )
            .await;
        assert_eq!(r.status, 200, "login as {username}: {}", r.text());
        r.json()["token"]
            .as_str()
            .expect("token in the login response")
            .to_string()
    }

    /// Log in through the HTML form; returns the response (303 and Set-Cookie on success).
    pub async fn form_login(&self, username: &str, password: &str) -> Resp {
        self.request(Method::POST, "/login")
            .form(&format!(
                "username={}&password={}",
                urlencode(username),
                urlencode(password)
            ))
            .send()
            .await
    }

    /// Log in through the form and return the session cookie value.
    pub async fn session(&self, username: &str) -> String {
        let r = self.form_login(username, DEMO_PASSWORD).await;
        assert_eq!(r.status, 303, "form login as {username}: {}", r.text());
        r.cookie("boh_session").unwrap_or_else(|| {
            panic!(
                "no boh_session cookie set by the login form: {:?}",
                r.headers
            )
        })
    }

    /// Run everything pending: outbox dispatch, webhook deliveries, jobs.
    pub async fn drain(&self) {
        boh_platform::jobs::drain(&self.platform, &boh_server::job_registry())
            .await
            .expect("draining the outbox, webhooks and jobs");
    }

    // -------------------------------------------------------- direct SQL helpers

    pub async fn scalar_i64(&self, sql: &str) -> i64 {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(self.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.try_get::<i64, _>(0)
            .or_else(|_| row.try_get::<Option<i64>, _>(0).map(|v| v.unwrap_or(0)))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn scalar_text(&self, sql: &str) -> String {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_one(self.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        row.try_get::<String, _>(0)
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    pub async fn exec(&self, sql: &str) -> u64 {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(self.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .rows_affected()
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.scalar_i64(&format!("SELECT COUNT(*) AS n FROM {table}"))
            .await
    }

    async fn id_where(&self, sql: &str, arg: &str) -> String {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .bind(arg)
            .fetch_optional(self.pool())
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
            .unwrap_or_else(|| panic!("{sql} with {arg}: no row"))
            .try_get::<String, _>(0)
            .expect("an id")
    }

    /// Id of the org node (store, region, ...) with this code.
    pub async fn node_id(&self, code: &str) -> String {
        self.id_where("SELECT id FROM org_nodes WHERE code = $1", code)
            .await
    }

    pub async fn store_id(&self, code: &str) -> String {
        self.node_id(code).await
    }

    pub async fn user_id(&self, username: &str) -> String {
        self.id_where("SELECT id FROM users WHERE username = $1", username)
            .await
    }

    pub async fn role_id(&self, code: &str) -> String {
        self.id_where("SELECT id FROM roles WHERE code = $1", code)
            .await
    }

    /// The first grant of a user.
    pub async fn grant_id(&self, username: &str) -> String {
        self.id_where(
            "SELECT g.id FROM grants g JOIN users u ON u.id = g.user_id WHERE u.username = $1 \
             ORDER BY g.created_at, g.id",
            username,
        )
        .await
    }

    pub async fn nodes_with_code(&self, code: &str) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM org_nodes WHERE code = $1")
            .bind(code)
            .fetch_one(self.pool())
            .await
            .expect("count")
            .try_get::<i64, _>("n")
            .expect("n")
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------- HTTP client

type HyperClient = Client<HttpConnector, Full<Bytes>>;

/// A cheap-to-clone HTTP client bound to one app.
#[derive(Clone)]
pub struct Http {
    base: String,
    client: HyperClient,
}

impl Http {
    pub fn new(base: &str, local: Option<IpAddr>) -> Http {
        let mut connector = HttpConnector::new();
        connector.set_local_address(local);
        Http {
            base: base.to_string(),
            client: Client::builder(TokioExecutor::new()).build(connector),
        }
    }

    pub fn request(&self, method: Method, path: &str) -> Req {
        Req {
            http: self.clone(),
            method,
            path: path.to_string(),
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }
}

/// A request being built.
pub struct Req {
    http: Http,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

impl Req {
    /// `Authorization: Bearer <token>`; an empty token sends none.
    pub fn bearer(self, token: &str) -> Req {
        if token.is_empty() {
            self
        } else {
            self.header("authorization", &format!("Bearer {token}"))
        }
    }

    pub fn header(mut self, k: &str, v: &str) -> Req {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    pub fn cookie(self, name: &str, value: &str) -> Req {
        self.header("cookie", &format!("{name}={value}"))
    }

    pub fn json(self, v: &Value) -> Req {
        self.body_with("application/json", v.to_string())
    }

    pub fn form(self, body: &str) -> Req {
        self.body_with("application/x-www-form-urlencoded", body.to_string())
    }

    /// A body without a content type.
    pub fn raw_body(mut self, body: String) -> Req {
        self.body = Bytes::from(body);
        self
    }

    /// A binary body (uploads).
    pub fn bytes(mut self, content_type: &str, body: Vec<u8>) -> Req {
        self.headers
            .push(("content-type".into(), content_type.to_string()));
        self.body = Bytes::from(body);
        self
    }

    pub fn body_with(mut self, content_type: &str, body: String) -> Req {
        self.headers
            .push(("content-type".into(), content_type.to_string()));
        self.body = Bytes::from(body);
        self
    }

    pub async fn send(self) -> Resp {
        let uri = format!("{}{}", self.http.base, self.path);
        let mut b = hyper::Request::builder()
            .method(self.method.clone())
            .uri(&uri);
        for (k, v) in &self.headers {
            b = b.header(k.as_str(), v.as_str());
        }
        let req = b.body(Full::new(self.body)).expect("a valid request");
        let resp = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            self.http.client.request(req),
        )
        .await
        .unwrap_or_else(|_| panic!("{} {uri}: no answer within 60 s", self.method))
        .unwrap_or_else(|e| panic!("{} {uri}: {e}", self.method));
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp
            .into_body()
            .collect()
            .await
            .expect("reading the response body")
            .to_bytes();
        Resp {
            status: status.as_u16(),
            headers,
            body,
            what: format!("{} {}", self.method, self.path),
        }
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub what: String,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered {} with a body that is not JSON ({e}): {}",
                self.what,
                self.status,
                self.text()
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    }

    /// The full `Set-Cookie` line for a cookie name.
    pub fn set_cookie_line(&self, name: &str) -> Option<String> {
        self.header_all("set-cookie")
            .into_iter()
            .find(|l| l.starts_with(&format!("{name}=")))
    }

    /// The value a `Set-Cookie` gives a cookie.
    pub fn cookie(&self, name: &str) -> Option<String> {
        let line = self.set_cookie_line(name)?;
        let first = line.split(';').next()?;
        first.split_once('=').map(|(_, v)| v.to_string())
    }

    /// The error code of an error envelope.
    pub fn error_code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or_else(|| {
                panic!(
                    "{} answered {} without an error envelope: {}",
                    self.what,
                    self.status,
                    self.text()
                )
            })
            .to_string()
    }

    /// Field names listed in an error envelope.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["error"]["fields"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|f| f["field"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn assert_status(&self, expected: u16) -> &Resp {
        assert_eq!(
            self.status,
            expected,
            "{}: expected {expected}, got {}: {}",
            self.what,
            self.status,
            self.text()
        );
        self
    }
}

pub fn status_text(s: u16) -> String {
    StatusCode::from_u16(s)
        .map(|c| c.to_string())
        .unwrap_or_else(|_| s.to_string())
}

// ---------------------------------------------------------------- webhook sink

/// One request the sink received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }
}

/// A tiny HTTP server that records requests and answers 500 to the first `fail_first`
/// requests, 200 afterwards.
pub struct Sink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Sink {
    pub async fn start(fail_first: usize) -> Sink {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the webhook sink");
        let addr = listener.local_addr().expect("sink address");
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let rec = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let rec = rec.clone();
                tokio::spawn(async move {
                    // Keep-alive: serve requests on this connection until it closes.
                    let mut buf: Vec<u8> = Vec::new();
                    loop {
                        let Some(r) = read_request(&mut sock, &mut buf).await else {
                            return;
                        };
                        let n = {
                            let mut g = rec.lock().expect("sink lock");
                            g.push(r);
                            g.len()
                        };
                        let (status, text) = if n <= fail_first {
                            (500, "Internal Server Error")
                        } else {
                            (200, "OK")
                        };
                        let resp = format!(
                            "HTTP/1.1 {status} {text}\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"
                        );
                        if sock.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Sink {
            addr,
            received,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("sink lock").clone()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_request(sock: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<Received> {
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next()?.to_string();
    let mut parts = request_line.split(' ');
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            l.split_once(':')
                .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string()))
        })
        .collect();
    let len: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let mut chunk = [0u8; 4096];
        let n = sock.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buf[header_end..header_end + len]).into_owned();
    buf.drain(..header_end + len);
    Some(Received {
        method,
        path,
        headers,
        body,
    })
}
