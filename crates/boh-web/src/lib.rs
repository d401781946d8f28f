//! The HTTP edge: the JSON API under `/api/v1` (with its OpenAPI document), the server-rendered
//! web UI, and the middleware every request passes (request id, security headers, CSRF,
//! metrics, body limits).
//!
//! Invariants:
//! - Handlers are thin: they extract the actor, call one `boh_platform` function and render.
//!   No SQL and no business rule lives here.
//! - The actor always comes from the session cookie or the bearer token ([`extract`]), never
//!   from a request body.
//! - Every state-changing browser request passes the CSRF check in [`middleware::csrf`].

rust_i18n::i18n!("locales", fallback = "en");

pub mod api;
pub mod chart;
pub mod error;
pub mod export;
pub mod extract;
pub mod i18n;
pub mod middleware;
pub mod pages;
pub mod state;
pub mod upload;

pub use state::{AppState, WebSettings};

use axum::Router;

/// The whole HTTP application with its OpenAPI document.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    router_with(state, Router::new())
}

/// [`router`] with `extra` routes merged in behind the same middleware stack (tests use it to
/// reach the edge with handlers the product does not have, e.g. one that panics).
pub fn router_with(state: AppState, extra: Router<AppState>) -> (Router, utoipa::openapi::OpenApi) {
    let (api_router, openapi) = api::router().split_for_parts();
    let openapi = api::finish_openapi(openapi);
    let doc = openapi.clone();
    let app = Router::new()
        .merge(api_router)
        .merge(pages::router())
        .merge(api::docs_router(doc))
        .merge(extra)
        .fallback(pages::not_found)
        .with_state(state.clone());
    (middleware::wrap(app, state), openapi)
}
