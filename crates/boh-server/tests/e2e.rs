//! Browser end-to-end test: a real Chromium, driven through chromedriver, against the real server
//! with demo data, once on SQLite and once on PostgreSQL.
//!
//! Needs Debian's `chromium` and `chromium-driver` (override the paths with `BOH_CHROMIUM` and
//! `BOH_CHROMEDRIVER`). PostgreSQL comes from `BOH_TEST_DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); a scratch database is created and dropped.
//! Set `BOH_SCREENSHOT_DIR` to keep PNG screenshots at desktop and phone widths.
//!
//! Self-contained on purpose: it spawns its own server, database and browser.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use boh_server::{Application, Settings};
use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

const DEMO_PASSWORD: &str = "e2e-demo-password-1";
const WAIT: Duration = Duration::from_secs(30);
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_sqlite() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("boh.db").display());
    run_e2e("sqlite", &url).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_postgres() {
    let admin_url =
        std::env::var("BOH_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_PG.to_string());
    let name = format!("boh_e2e_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&admin_url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is unreachable at {} ({e}); start it or point BOH_TEST_DATABASE_URL \
                 at a server where this user may CREATE DATABASE",
                redact(&admin_url)
            )
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} (BOH_TEST_DATABASE_URL): {e}"));
    let outcome = tokio::spawn({
        let url = with_database(&admin_url, &name);
        async move { run_e2e("postgres", &url).await }
    })
    .await;
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&admin)
    .await;
    admin.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    dropped.unwrap_or_else(|e| panic!("DROP DATABASE {name}: {e}"));
}

/// The same admin URL pointing at another database (keeps user, host, port and parameters).
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, format!("?{q}")),
        None => (url, String::new()),
    };
    let after_scheme = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[after_scheme..].find('/') {
        Some(i) => &base[..after_scheme + i],
        None => base,
    };
    format!("{base}/{db}{query}")
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

// ------------------------------------------------------------------------------------ harness

/// chromedriver on a free port, killed (with the browsers it started) when dropped.
struct Driver {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Driver {
    fn start() -> Result<Driver> {
        let bin =
            std::env::var("BOH_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
        ensure!(
            Path::new(&bin).exists(),
            "chromedriver not found at {bin}: install Debian's chromium-driver (or set BOH_CHROMEDRIVER)"
        );
        ensure!(
            Path::new(&chromium_bin()).exists(),
            "chromium not found at {}: install Debian's chromium (or set BOH_CHROMIUM)",
            chromium_bin()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = tempfile::tempdir()?;
        let log = dir.path().join("chromedriver.log");
        let mut cmd = Command::new(&bin);
        cmd.arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().with_context(|| format!("starting {bin}"))?;
        let mut driver = Driver {
            child,
            port,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = driver.child.try_wait()? {
                bail!(
                    "chromedriver exited at start ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(driver);
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not listen on port {port} within 10 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A new headless Chromium session whose Accept-Language is `lang`.
    async fn session(&self, lang: &str, profile: &Path) -> Result<Client> {
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium_bin(),
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--window-size=1280,900",
                    format!("--lang={lang}"),
                    format!("--user-data-dir={}", profile.display()),
                ],
                "prefs": { "intl.accept_languages": lang },
            }),
        );
        let client = ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .context("opening a chromedriver session")?;
        client
            .update_timeouts(TimeoutConfiguration::new(
                Some(WAIT),
                Some(WAIT),
                Some(Duration::ZERO),
            ))
            .await?;
        Ok(client)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver and the Chromium processes it started share its process group.
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium_bin() -> String {
    std::env::var("BOH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Build the application with demo data on `database_url`, serve it, run the scenario, stop.
async fn run_e2e(backend: &str, database_url: &str) {
    let started = Instant::now();
    let settings = Settings {
        database_url: database_url.to_string(),
        bind: "127.0.0.1:0".into(),
        demo: true,
        demo_size: None,
        demo_password: Some(DEMO_PASSWORD.into()),
        run_worker: false,
        ..Settings::default()
    };
    let (app, _note) = Application::build(settings)
        .await
        .unwrap_or_else(|e| panic!("[{backend}] building the application: {e:#}"));
    let base = format!("http://{}", app.local_addr().expect("local addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));

    let driver = Driver::start().unwrap_or_else(|e| panic!("[{backend}] {e:#}"));
    let shots = Shots::new(backend);
    let result = tokio::spawn({
        let base = base.clone();
        async move {
            let profiles = tempfile::tempdir()?;
            let admin = driver
                .session("en-US", &profiles.path().join("admin"))
                .await?;
            let r = admin_scenario(&admin, &base, &shots).await;
            let _ = admin.close().await;
            let s002 = r?;
            let manager = driver
                .session("zh-CN", &profiles.path().join("manager"))
                .await?;
            let r = manager_scenario(&manager, &base, &s002, &shots).await;
            let _ = manager.close().await;
            r?;
            drop(driver);
            Ok::<_, anyhow::Error>(())
        }
    })
    .await;

    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    match result {
        Ok(Ok(())) => eprintln!(
            "[{backend}] e2e passed in {:.1} s",
            started.elapsed().as_secs_f64()
        ),
        Ok(Err(e)) => panic!("[{backend}] e2e failed: {e:#}"),
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

// ---------------------------------------------------------------------------------- helpers

async fn wait_css(c: &Client, css: &str) -> Result<Element> {
    match c
        .wait()
        .at_most(WAIT)
        .every(Duration::from_millis(100))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(el) => Ok(el),
        Err(e) => Err(anyhow!(e).context(format!(
            "waiting for `{css}` on {}; the page reads: {:?}",
            url_of(c).await,
            page_text(c).await
        ))),
    }
}

/// Poll until the current URL's path and query satisfy `ok`.
async fn wait_url(
    c: &Client,
    what: &str,
    ok: impl Fn(&str, Option<&str>) -> bool,
) -> Result<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let u = c.current_url().await?;
        if ok(u.path(), u.query()) {
            return Ok(u.path().to_string());
        }
        if Instant::now() > deadline {
            bail!("waiting for {what}: still at {u}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The start of the page's visible text, for failure messages.
async fn page_text(c: &Client) -> String {
    match c
        .execute(
            "return document.body ? document.body.innerText.slice(0, 600) : '';",
            vec![],
        )
        .await
    {
        Ok(v) => v.as_str().unwrap_or_default().to_string(),
        Err(e) => format!("<no text: {e}>"),
    }
}

async fn url_of(c: &Client) -> String {
    c.current_url()
        .await
        .map(|u| u.to_string())
        .unwrap_or_else(|e| format!("<no url: {e}>"))
}

async fn text(c: &Client, css: &str) -> Result<String> {
    Ok(wait_css(c, css).await?.text().await?.trim().to_string())
}

async fn html_lang(c: &Client) -> Result<String> {
    wait_css(c, "html")
        .await?
        .attr("lang")
        .await?
        .ok_or_else(|| anyhow!("<html> has no lang"))
}

async fn fill(c: &Client, css: &str, value: &str) -> Result<()> {
    let el = wait_css(c, css).await?;
    el.clear().await?;
    el.send_keys(value).await?;
    Ok(())
}

/// HTTP status of the document currently shown (Navigation Timing `responseStatus`).
async fn page_status(c: &Client) -> Result<Option<u64>> {
    let v = c
        .execute(
            "const n = performance.getEntriesByType('navigation')[0]; \
             return n && n.responseStatus ? n.responseStatus : null;",
            vec![],
        )
        .await?;
    Ok(v.as_u64())
}

/// Resize the window so that the page's viewport is exactly `w` x `h` CSS pixels.
async fn set_viewport(c: &Client, w: u32, h: u32) -> Result<()> {
    let inner = async || -> Result<(i64, i64)> {
        let v = c
            .execute("return [window.innerWidth, window.innerHeight];", vec![])
            .await?;
        Ok((
            v[0].as_i64().unwrap_or_default(),
            v[1].as_i64().unwrap_or_default(),
        ))
    };
    c.set_window_size(w, h).await?;
    let (iw, ih) = inner().await?;
    if (iw, ih) != (i64::from(w), i64::from(h)) {
        let ow = (2 * i64::from(w) - iw).max(1) as u32;
        let oh = (2 * i64::from(h) - ih).max(1) as u32;
        c.set_window_size(ow, oh).await?;
    }
    let got = inner().await?;
    ensure!(
        got == (i64::from(w), i64::from(h)),
        "viewport {w}x{h} asked, got {got:?}"
    );
    Ok(())
}

/// Print a note when a phone-width page or its table scrolls sideways.
async fn note_overflow(c: &Client, page: &str) -> Result<()> {
    let v = c
        .execute(
            "const d = document.documentElement; \
             const t = document.querySelector('.table-wrap'); \
             return [d.scrollWidth - window.innerWidth, t ? t.scrollWidth - t.clientWidth : 0];",
            vec![],
        )
        .await?;
    let (page_over, table_over) = (v[0].as_i64().unwrap_or(0), v[1].as_i64().unwrap_or(0));
    if page_over > 0 {
        eprintln!("note: {page} is {page_over} px wider than the phone viewport");
    }
    if table_over > 0 {
        eprintln!("note: the table on {page} scrolls sideways by {table_over} px at phone width");
    }
    Ok(())
}

fn is_store_path(path: &str) -> bool {
    path.strip_prefix("/stores/")
        .is_some_and(|id| id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
}

/// Screenshots, kept only when `BOH_SCREENSHOT_DIR` is set.
struct Shots {
    dir: Option<PathBuf>,
    prefix: String,
}

impl Shots {
    fn new(backend: &str) -> Shots {
        let dir = std::env::var_os("BOH_SCREENSHOT_DIR").map(PathBuf::from);
        if let Some(d) = &dir {
            std::fs::create_dir_all(d).expect("creating BOH_SCREENSHOT_DIR");
        }
        Shots {
            dir,
            prefix: backend.to_string(),
        }
    }

    async fn take(&self, c: &Client, name: &str) -> Result<()> {
        if let Some(d) = &self.dir {
            let png = c.screenshot().await?;
            let path = d.join(format!("{}-{name}.png", self.prefix));
            std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}

async fn login(c: &Client, base: &str, username: &str) -> Result<()> {
    c.goto(&format!("{base}/login")).await?;
    fill(c, "#username", username).await?;
    fill(c, "#password", DEMO_PASSWORD).await?;
    wait_css(c, "form[action='/login'] button[type='submit']")
        .await?
        .click()
        .await?;
    wait_css(c, "nav.sidebar")
        .await
        .with_context(|| format!("logging in as {username}"))?;
    Ok(())
}

// -------------------------------------------------------------------------------- scenarios

/// The administrator's walk through the UI. Returns S002's detail path for the scope check.
async fn admin_scenario(c: &Client, base: &str, shots: &Shots) -> Result<String> {
    // The login page speaks the browser's language (Accept-Language: en-US).
    c.goto(&format!("{base}/login")).await?;
    set_viewport(c, 1280, 900).await?;
    ensure!(
        text(c, "h1").await? == "Sign in to your back office",
        "login heading for an English browser"
    );
    ensure!(html_lang(c).await? == "en", "login page <html lang>");

    // Log in; the demo users prefer Chinese, so the shell switches to it.
    login(c, base, "admin").await?;
    wait_url(c, "the home page", |p, _| p == "/").await?;
    ensure!(
        html_lang(c).await? == "zh-CN",
        "home <html lang> after login"
    );
    let greeting = text(c, ".page-head h1").await?;
    ensure!(
        greeting.contains("系统管理员 Admin"),
        "home greeting names the user: {greeting:?}"
    );
    ensure!(
        c.find_all(Locator::Css(".kpis .kpi")).await?.len() >= 2,
        "home shows the key figures"
    );
    ensure!(
        text(c, "nav.sidebar a[href='/stores']").await? == "门店",
        "Chinese nav"
    );

    // Switch the language from the top bar.
    wait_css(c, "#lang-switch").await?.click().await?;
    wait_css(c, "html[lang='en']")
        .await
        .context("after #lang-switch")?;
    ensure!(
        wait_url(c, "back on the home page", |p, _| p == "/").await? == "/",
        "the language switch returns to the same page"
    );
    ensure!(
        text(c, "nav.sidebar a[href='/stores']").await? == "Stores",
        "English nav"
    );
    ensure!(
        text(c, "#lang-switch").await? == "简体中文",
        "switch offers Chinese"
    );
    shots.take(c, "home-desktop").await?;

    // The stores list.
    wait_css(c, "nav.sidebar a[href='/stores']")
        .await?
        .click()
        .await?;
    wait_css(c, "#stores-table").await?;
    ensure!(
        text(c, ".page-head h1").await? == "Stores",
        "stores heading"
    );
    let rows = c.find_all(Locator::Css("#stores-table tbody tr")).await?;
    ensure!(
        rows.len() >= 20,
        "admin sees the whole chain, got {} rows",
        rows.len()
    );
    shots.take(c, "stores-desktop").await?;

    // Create a store.
    wait_css(c, "#new-store").await?.click().await?;
    wait_css(c, "#store-form").await?;
    wait_url(c, "the new-store form", |p, _| p == "/stores/new").await?;
    fill(c, "#code", "E2E01").await?;
    fill(c, "#name_zh", "端到端测试店").await?;
    fill(c, "#name_en", "E2E Test Store").await?;
    fill(c, "#sales_area_m2", "88").await?;
    fill(c, "#address", "上海市测试路 1 号").await?;
    wait_css(c, "#parent_id")
        .await?
        .select_by(Locator::XPath(
            ".//option[starts-with(normalize-space(.), 'R-EAST')]",
        ))
        .await
        .context("choosing region R-EAST")?;
    wait_css(c, "#format")
        .await?
        .select_by_value("mall")
        .await?;
    wait_css(c, "#save-store").await?.click().await?;
    let flash = text(c, ".flash")
        .await
        .context("flash after creating a store")?;
    ensure!(flash == "Store created.", "flash text: {flash:?}");
    let path = wait_url(c, "the new store's page", |p, q| {
        is_store_path(p) && q.is_some_and(|q| q.contains("created=1"))
    })
    .await?;
    ensure!(is_store_path(&path), "detail URL {path}");
    ensure!(
        text(c, ".page-head h1").await? == "E2E01 · E2E Test Store",
        "detail heading"
    );
    ensure!(
        wait_css(c, "#sales_area_m2")
            .await?
            .prop("value")
            .await?
            .as_deref()
            == Some("88"),
        "area saved"
    );

    // Find it again through the search box.
    c.goto(&format!("{base}/stores")).await?;
    fill(c, "form.filters input[name='q']", "E2E01").await?;
    wait_css(c, "form.filters button[type='submit']")
        .await?
        .click()
        .await?;
    wait_url(c, "the search results", |p, q| {
        p == "/stores" && q.is_some_and(|q| q.contains("q=E2E01"))
    })
    .await?;
    let row = text(c, "#stores-table tbody tr").await?;
    let rows = c.find_all(Locator::Css("#stores-table tbody tr")).await?;
    ensure!(rows.len() == 1, "search E2E01 gave {} rows", rows.len());
    ensure!(
        row.contains("E2E01") && row.contains("E2E Test Store") && row.contains("East China"),
        "search row: {row:?}"
    );
    let link = wait_css(c, "#stores-table tbody tr a")
        .await?
        .attr("href")
        .await?;
    ensure!(
        link.as_deref() == Some(path.as_str()),
        "row links to {path}: {link:?}"
    );

    // Invalid input comes back on the form, with the errors beside the fields.
    wait_css(c, "#new-store").await?.click().await?;
    wait_css(c, "#store-form").await?;
    fill(c, "#code", "BAD CODE").await?;
    fill(c, "#name_zh", "错误").await?;
    fill(c, "#name_en", "Broken").await?;
    fill(c, "#latitude", "123").await?;
    wait_css(c, "#save-store").await?.click().await?;
    let code_err = text(c, "#code + .field-error")
        .await
        .context("error beside #code")?;
    ensure!(
        code_err.contains("may contain only"),
        "code error: {code_err:?}"
    );
    let lat_err = text(c, "#latitude + .field-error").await?;
    ensure!(
        lat_err.contains("between -90 and 90"),
        "latitude error: {lat_err:?}"
    );
    ensure!(
        c.find_all(Locator::Css(".field.invalid")).await?.len() == 2,
        "exactly the two bad fields are marked invalid"
    );
    wait_css(c, ".alert[role='alert']").await?;
    wait_css(c, "#store-form").await?;
    wait_url(c, "the form's own URL", |p, _| p == "/stores").await?;
    if let Some(status) = page_status(c).await? {
        ensure!(status == 422, "invalid form answered {status}");
    }
    ensure!(
        wait_css(c, "#code").await?.prop("value").await?.as_deref() == Some("BAD CODE"),
        "typed values are kept"
    );
    set_viewport(c, 390, 844).await?;
    note_overflow(c, "the store form with errors").await?;
    shots.take(c, "store-form-errors-phone").await?;

    // Phone width: the list and the empty form.
    c.goto(&format!("{base}/stores")).await?;
    wait_css(c, "#stores-table").await?;
    note_overflow(c, "/stores").await?;
    shots.take(c, "stores-phone").await?;
    c.goto(&format!("{base}/stores/new")).await?;
    wait_css(c, "#store-form").await?;
    note_overflow(c, "/stores/new").await?;
    shots.take(c, "store-form-phone").await?;
    set_viewport(c, 1280, 900).await?;

    // S002's page, for the manager's scope check.
    c.goto(&format!("{base}/stores?q=S002")).await?;
    let s002 = wait_css(c, "#stores-table tbody tr a")
        .await?
        .attr("href")
        .await?
        .filter(|h| is_store_path(h))
        .ok_or_else(|| anyhow!("no link to S002"))?;

    // Log out; the stores list then asks for a login.
    wait_css(c, "form[action='/logout'] button")
        .await?
        .click()
        .await?;
    wait_css(c, "#username").await.context("after logout")?;
    c.goto(&format!("{base}/stores")).await?;
    wait_url(c, "the login redirect", |p, _| p == "/login").await?;
    wait_css(c, "#password").await?;
    Ok(s002)
}

/// A store manager, with a Chinese browser, sees one store and nothing of the others.
async fn manager_scenario(c: &Client, base: &str, s002: &str, shots: &Shots) -> Result<()> {
    c.goto(&format!("{base}/login")).await?;
    set_viewport(c, 1280, 900).await?;
    ensure!(
        text(c, "h1").await? == "登录您的后台",
        "login heading for a Chinese browser"
    );
    ensure!(html_lang(c).await? == "zh-CN", "login page <html lang>");
    login(c, base, "manager.s001").await?;
    ensure!(html_lang(c).await? == "zh-CN", "manager's home <html lang>");
    ensure!(
        text(c, ".store-card strong").await? == "S001",
        "the manager's home shows their store"
    );
    shots.take(c, "manager-home-zh-desktop").await?;

    c.goto(&format!("{base}/stores")).await?;
    wait_css(c, "#stores-table").await?;
    let rows = c.find_all(Locator::Css("#stores-table tbody tr")).await?;
    let mut codes = Vec::new();
    for r in &rows {
        codes.push(r.find(Locator::Css("td a")).await?.text().await?);
    }
    ensure!(codes == ["S001"], "manager.s001 sees {codes:?}");
    ensure!(
        c.find_all(Locator::Css("#new-store")).await?.is_empty(),
        "a store manager cannot create stores"
    );
    set_viewport(c, 390, 844).await?;
    note_overflow(c, "/stores in Chinese").await?;
    shots.take(c, "manager-stores-zh-phone").await?;
    set_viewport(c, 1280, 900).await?;

    c.goto(&format!("{base}{s002}")).await?;
    let status = text(c, ".status-code")
        .await
        .context("S002 as manager.s001")?;
    ensure!(status == "404", "S002 page status code: {status:?}");
    ensure!(
        c.find_all(Locator::Css("#store-form")).await?.is_empty(),
        "no store form on the not-found page"
    );
    if let Some(s) = page_status(c).await? {
        ensure!(s == 404, "S002 answered {s}");
    }
    let body = text(c, "body").await?;
    ensure!(
        !body.contains("S002") && !body.contains("陆家嘴"),
        "the not-found page leaks nothing about S002: {body:?}"
    );
    Ok(())
}
