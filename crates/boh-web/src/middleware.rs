//! Middleware every request passes, outermost first: request id, tracing, panic catcher,
//! security headers, metrics, the API error envelope, timeout, body limit and the CSRF check.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::error::envelope;
use crate::extract::{cookie, resolve};
use crate::state::AppState;

/// The process-wide Prometheus recorder (installed once, shared by every app in the process).
pub fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ])
                .map(|b| b.build_recorder())
                .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
            let handle = recorder.handle();
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

pub fn wrap(app: Router, state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    app.layer(from_fn_with_state(state.clone(), csrf))
        .layer(from_fn_with_state(state.clone(), body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(60),
        ))
        .layer(from_fn(api_error_envelope))
        .layer(from_fn(track_metrics))
        .layer(from_fn_with_state(state, security_headers))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
}

/// The span every request runs in: its id and client address, and (recorded once the actor is
/// known, see [`crate::extract::resolve`]) who is acting. Every log line of the request carries
/// them.
fn request_span(req: &Request) -> tracing::Span {
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let ip = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    tracing::info_span!(
        "request",
        method = %req.method(),
        path = ?req.uri().path(),
        request_id = %request_id,
        ip = %ip,
        user_id = tracing::field::Empty,
        user = tracing::field::Empty,
    )
}

/// The last-resort answer to a handler that panicked: a generic 500 in the envelope (no panic
/// message, no location), with the cause logged inside the request's span (so with its
/// request id). The process keeps serving.
fn panic_response(cause: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = cause
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| cause.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = ?message, "request handler panicked; answered 500");
    envelope(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error",
        Vec::new(),
    )
}

/// The request body limit: `max_upload_bytes` for upload routes ([`crate::upload::is_upload`]),
/// `max_body_bytes` for everything else. A longer body stops at the limit (extractors answer
/// 413). A request whose `Content-Length` is over the limit is answered 413 before any handler
/// runs; its body is read and dropped first (up to 8 times the limit, for at most 10 s): a
/// server that answers and closes while the client is still sending makes the client's kernel
/// see a reset, and the client loses the 413. Larger bodies are refused without reading.
async fn body_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let limit = if req.method() == Method::POST && crate::upload::is_upload(req.uri().path()) {
        state.settings.max_upload_bytes
    } else {
        state.settings.max_body_bytes
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let Some(n) = declared.filter(|n| *n > limit as u64) else {
        let (parts, body) = req.into_parts();
        let limited = Body::new(http_body_util::Limited::new(body, limit));
        return next.run(Request::from_parts(parts, limited)).await;
    };
    let api = is_api_path(req.uri().path());
    if n <= (limit as u64).saturating_mul(8) {
        let mut body = req.into_body();
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = body.frame().await {}
        })
        .await;
    }
    let mut resp = if api {
        envelope(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is over the size limit",
            Vec::new(),
        )
    } else {
        (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response()
    };
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// Is this a path of the JSON API (everything under `/api/` except the HTML docs)?
pub fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") && !path.starts_with("/api/docs")
}

/// Errors produced below the handlers (body limit, method not allowed, timeout, unsupported
/// media type) answer in the API's one error envelope too.
async fn api_error_envelope(req: Request, next: Next) -> Response {
    let is_api = is_api_path(req.uri().path());
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !is_api || is_json || !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "the request body is over the size limit".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => {
            "this method is not allowed on this route; see the Allow header".to_string()
        }
        StatusCode::NOT_FOUND => "no such route".to_string(),
        StatusCode::SERVICE_UNAVAILABLE => "the request took too long; retry later".to_string(),
        s if s.is_server_error() => "internal error".to_string(),
        s => s.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let mut out = envelope(status, code, &message, Vec::new());
    if let Some(allow) = resp.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

async fn track_metrics(req: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(start.elapsed().as_secs_f64());
    resp
}

const CSP: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
    object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";
/// The bundled Swagger UI sets inline styles.
const CSP_DOCS: &str = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; \
    script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'";

async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let docs = req.uri().path().starts_with("/api/docs");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        if docs { CSP_DOCS } else { CSP },
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "same-origin");
    set(h, "x-frame-options", "DENY");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(self)",
    );
    set(h, "cross-origin-opener-policy", "same-origin");
    if state.settings.secure_cookies {
        set(
            h,
            "strict-transport-security",
            "max-age=31536000; includeSubDomains",
        );
    }
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    resp
}

fn origin_ok(req: &Request, state: &AppState) -> bool {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    {
        if origin == "null" {
            return false;
        }
        let bare = origin
            .split_once("://")
            .map(|(_, rest)| rest)
            .unwrap_or(origin);
        return bare == host || state.settings.trusted_origins.iter().any(|t| t == origin);
    }
    match req
        .headers()
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
    {
        Some(site) => matches!(site, "same-origin" | "none"),
        None => true,
    }
}

fn csrf_rejection(message: &str) -> Response {
    tracing::warn!(
        target: "boh::security",
        at = %boh_kernel::now().rfc3339(),
        reason = message,
        "request denied: CSRF check failed"
    );
    envelope(StatusCode::FORBIDDEN, "csrf_failed", message, Vec::new())
}

/// Anti-CSRF for browser requests: every state-changing request that does not carry a bearer
/// token must come from our own origin, and, when a session cookie rides along, must carry the
/// session's CSRF token (header `x-csrf-token`, or form field `_csrf`).
pub async fn csrf(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let has_bearer = req.headers().get(header::AUTHORIZATION).is_some();
    if has_bearer {
        return next.run(req).await;
    }
    if !origin_ok(&req, &state) {
        return csrf_rejection("cross-site request refused");
    }
    let (mut parts, body) = req.into_parts();
    // The login form carries no token (there is no session yet); the origin check above covers
    // login CSRF.
    if cookie(&parts, state.session_cookie()).is_none() || parts.uri.path() == "/login" {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let expected = match resolve(&mut parts, &state).await {
        Ok(actor) => match &actor.via {
            boh_kernel::AuthVia::Session { csrf_token, .. } => csrf_token.clone(),
            _ => String::new(),
        },
        // A stale cookie: let the handler decide (login works, others answer 401 / redirect).
        Err(_) => return next.run(Request::from_parts(parts, body)).await,
    };
    if let Some(h) = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
    {
        if boh_platform::util::ct_eq(h.as_bytes(), expected.as_bytes()) {
            return next.run(Request::from_parts(parts, body)).await;
        }
        return csrf_rejection("CSRF token does not match");
    }
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // File uploads: the token is the first form field. Only that much of the body is read
    // here; the handler gets the whole body, the peeked part included.
    if let Some(boundary) = crate::upload::boundary(&content_type) {
        let (prefix, rest) = match peek_first_field(body, &boundary).await {
            Ok(v) => v,
            Err(status) => return (status, "request body too large").into_response(),
        };
        let ok = crate::upload::first_field(&prefix, &boundary).is_some_and(|(name, value)| {
            name == "_csrf" && boh_platform::util::ct_eq(value.as_bytes(), expected.as_bytes())
        });
        if !ok {
            return csrf_rejection("CSRF token missing or wrong; reload the page and try again");
        }
        let body = Body::new(Prefixed {
            prefix: Some(prefix),
            rest,
        });
        return next.run(Request::from_parts(parts, body)).await;
    }
    let is_form = content_type.starts_with("application/x-www-form-urlencoded");
    if !is_form {
        return csrf_rejection("missing CSRF token");
    }
    let bytes = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response(),
    };
    let token = form_urlencoded_value(&bytes, "_csrf");
    if token
        .as_deref()
        .is_some_and(|t| boh_platform::util::ct_eq(t.as_bytes(), expected.as_bytes()))
    {
        next.run(Request::from_parts(parts, Body::from(bytes)))
            .await
    } else {
        csrf_rejection("CSRF token missing or wrong; reload the page and try again")
    }
}

/// Read the beginning of a multipart body until its first field is complete (at most 16 KiB).
async fn peek_first_field(mut body: Body, boundary: &str) -> Result<(Bytes, Body), StatusCode> {
    let mut buf: Vec<u8> = Vec::new();
    while buf.len() < 16 * 1024 && crate::upload::first_field(&buf, boundary).is_none() {
        match body.frame().await {
            None => break,
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => buf.extend_from_slice(&data),
                Err(_) => break,
            },
            Some(Err(_)) => return Err(StatusCode::PAYLOAD_TOO_LARGE),
        }
    }
    Ok((Bytes::from(buf), body))
}

/// A body whose first bytes were already read: those, then the rest.
struct Prefixed {
    prefix: Option<Bytes>,
    rest: Body,
}

impl http_body::Body for Prefixed {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        if let Some(p) = this.prefix.take()
            && !p.is_empty()
        {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(p))));
        }
        std::pin::Pin::new(&mut this.rest).poll_frame(cx)
    }
}

fn form_urlencoded_value(body: &[u8], key: &str) -> Option<String> {
    let s = std::str::from_utf8(body).ok()?;
    s.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.replace('+', " "))
    })
}
