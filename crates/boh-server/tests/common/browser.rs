//! The browser harness of the end-to-end tests: chromedriver on a free port with Debian's
//! chromium, a session per language, waiting helpers, viewport control, and full-page
//! screenshots at desktop and phone width (kept when `BOH_SCREENSHOT_DIR` is set) that also
//! fail a page which scrolls sideways.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use fantoccini::elements::Element;
use fantoccini::wd::{Capabilities, TimeoutConfiguration};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::json;

use super::DEMO_PASSWORD;

pub const WAIT: Duration = Duration::from_secs(30);

// ------------------------------------------------------------------------------------ harness

/// chromedriver on a free port, killed (with the browsers it started) when dropped.
pub struct Driver {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

pub fn chromium_bin() -> String {
    std::env::var("BOH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

impl Driver {
    pub fn start() -> Result<Driver> {
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

    pub async fn session(&self, lang: &str, profile: &Path) -> Result<Client> {
        let mut caps = Capabilities::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium_bin(),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--window-size=1280,900", "--hide-scrollbars",
                    format!("--lang={lang}"), format!("--user-data-dir={}", profile.display()),
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
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn wait_css(c: &Client, css: &str) -> Result<Element> {
    match c
        .wait()
        .at_most(WAIT)
        .every(Duration::from_millis(100))
        .for_element(Locator::Css(css))
        .await
    {
        Ok(el) => Ok(el),
        Err(e) => {
            let body = c
                .execute(
                    "return document.body ? document.body.innerText.slice(0, 800) : '';",
                    vec![],
                )
                .await
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            Err(anyhow!(e).context(format!("waiting for `{css}`; the page reads: {body:?}")))
        }
    }
}

/// Wait until the page's URL contains `part` (after a form submit or a link, so that what is
/// read next is the new page and not the one still showing).
pub async fn wait_url(c: &Client, part: &str) -> Result<()> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let url = c.current_url().await?;
        if url.as_str().contains(part) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(anyhow!("the URL never contained {part:?}; it is {url}"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn text(c: &Client, css: &str) -> Result<String> {
    Ok(wait_css(c, css).await?.text().await?.trim().to_string())
}

pub async fn fill(c: &Client, css: &str, value: &str) -> Result<()> {
    let el = wait_css(c, css).await?;
    el.clear().await?;
    el.send_keys(value).await?;
    Ok(())
}

pub async fn click(c: &Client, css: &str) -> Result<()> {
    wait_css(c, css).await?.click().await?;
    Ok(())
}

/// Resize so that the viewport is `w` CSS pixels wide and `h` high.
pub async fn set_viewport(c: &Client, w: u32, h: u32) -> Result<()> {
    c.set_window_size(w, h).await?;
    let v = c
        .execute("return [window.innerWidth, window.innerHeight];", vec![])
        .await?;
    let (iw, ih) = (
        v[0].as_i64().unwrap_or_default(),
        v[1].as_i64().unwrap_or_default(),
    );
    if (iw, ih) != (i64::from(w), i64::from(h)) {
        let ow = (2 * i64::from(w) - iw).max(1) as u32;
        let oh = (2 * i64::from(h) - ih).max(1) as u32;
        c.set_window_size(ow, oh).await?;
    }
    Ok(())
}

/// Full-page screenshots at a width, kept only when `BOH_SCREENSHOT_DIR` is set; also checks
/// that the page does not scroll sideways.
pub struct Shots {
    pub dir: Option<PathBuf>,
    pub prefix: String,
}

impl Shots {
    pub async fn take(&self, c: &Client, name: &str, width: u32) -> Result<()> {
        set_viewport(c, width, 900).await?;
        // The layout follows a resize on the next frames: measure until it has settled.
        let mut over = 0;
        for _ in 0..20 {
            over = c
                .execute(
                    "return document.documentElement.scrollWidth - window.innerWidth;",
                    vec![],
                )
                .await?
                .as_i64()
                .unwrap_or(0);
            if over <= 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        ensure!(
            over <= 0,
            "{name}: the page is {over} px wider than a {width} px viewport"
        );
        if let Some(d) = &self.dir {
            let h = c
                .execute("return document.documentElement.scrollHeight;", vec![])
                .await?
                .as_i64()
                .unwrap_or(900)
                .clamp(600, 5000) as u32;
            set_viewport(c, width, h).await?;
            let png = c.screenshot().await?;
            let path = d.join(format!("{}-{name}.png", self.prefix));
            std::fs::write(&path, png).with_context(|| format!("writing {}", path.display()))?;
            set_viewport(c, width, 900).await?;
        }
        Ok(())
    }

    pub async fn both(&self, c: &Client, name: &str) -> Result<()> {
        self.take(c, &format!("{name}-desktop"), 1280).await?;
        self.take(c, &format!("{name}-phone"), 390).await?;
        set_viewport(c, 1280, 900).await
    }
}

pub async fn login(c: &Client, base: &str, username: &str) -> Result<()> {
    c.goto(&format!("{base}/login")).await?;
    fill(c, "#username", username).await?;
    fill(c, "#password", DEMO_PASSWORD).await?;
    click(c, "form[action='/login'] button[type='submit']").await?;
    wait_css(c, "nav.sidebar")
        .await
        .with_context(|| format!("logging in as {username}"))?;
    Ok(())
}
