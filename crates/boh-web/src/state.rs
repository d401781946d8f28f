//! Shared state of the HTTP application.

use std::sync::Arc;

use boh_platform::Platform;

/// Settings of the HTTP edge.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Set when served over TLS (directly or behind a proxy): cookies get `Secure` and the
    /// `__Host-` prefix.
    pub secure_cookies: bool,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: usize,
    /// Largest accepted body of an upload route (imports): the import file limit plus room for
    /// the multipart envelope.
    pub max_upload_bytes: usize,
    /// Origins trusted for state-changing browser requests besides the request's own host.
    pub trusted_origins: Vec<String>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            secure_cookies: false,
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: boh_platform::sheet::Limits::default().max_bytes + 64 * 1024,
            trusted_origins: Vec::new(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub platform: Platform,
    pub settings: Arc<WebSettings>,
    pub metrics: metrics_exporter_prometheus::PrometheusHandle,
}

impl AppState {
    pub fn new(platform: Platform, settings: WebSettings) -> AppState {
        AppState {
            platform,
            settings: Arc::new(settings),
            metrics: crate::middleware::metrics_handle(),
        }
    }

    /// The session cookie's name: `__Host-boh_session` over TLS, `boh_session` otherwise.
    pub fn session_cookie(&self) -> &'static str {
        if self.settings.secure_cookies {
            "__Host-boh_session"
        } else {
            "boh_session"
        }
    }
}
