//! The JSON API under `/api/v1`. Every route is declared with `#[utoipa::path]`, so the OpenAPI
//! document served at `/api/openapi.json` is generated from the code, and the access-control
//! test walks it.
//!
//! Conventions: plural nouns; path parameters named `{<resource>_id}`; lists answer
//! `{"items": [...], "page": {"total", "limit", "offset"}}`; creates answer 201 and honour an
//! `Idempotency-Key` header; errors use the envelope in [`crate::error`].

use axum::Json;
use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use boh_platform::{Ctx, PlatformError, idem};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::{ApiError, envelope};
use crate::state::AppState;

pub mod audit;
pub mod auth;
pub mod iam;
pub mod jobs;
pub mod org;
pub mod system;
pub mod webhooks;

#[derive(OpenApi)]
#[openapi(
    info(title = "BOH API", description = "Back-office system for retail and restaurant chains. \
        Authenticate with `POST /api/v1/auth/login` or an API token and send `Authorization: Bearer <token>`."),
    modifiers(&Security),
    security(("bearer" = [])),
    components(schemas(crate::error::ErrorBody, PageInfo))
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(org::router())
        .merge(iam::router())
        .merge(webhooks::router())
        .merge(audit::router())
        .merge(jobs::router())
        .merge(system::router())
}

/// Final touches on the generated document.
pub fn finish_openapi(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// `/api/openapi.json` and the API docs page (Swagger UI bundled in the binary, no CDN).
pub fn docs_router(doc: utoipa::openapi::OpenApi) -> axum::Router<AppState> {
    axum::Router::new()
        .merge(utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", doc))
}

/// Paging information of a list response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageInfo {
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// A page of items.
#[derive(Debug, Serialize)]
pub struct List<T> {
    pub items: Vec<T>,
    pub page: PageInfo,
}

/// Common paging parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct Paging {
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
    /// Text search.
    pub q: Option<String>,
}

impl Paging {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }
    pub fn offset(&self) -> i64 {
        self.offset.unwrap_or(0).max(0)
    }
}

/// Parse a JSON body with an enveloped 422 that names the problem.
pub fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, Response> {
    serde_json::from_slice(body).map_err(|e| {
        envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            &format!("invalid JSON body: {e}"),
            Vec::new(),
        )
    })
}

/// Run a create with `Idempotency-Key` support: the first response is stored, a replay with the
/// same body gets it again (with `idempotent-replayed: true`), a replay with another body is
/// refused with 422.
pub async fn create<T, R, F>(
    state: &AppState,
    ctx: &Ctx,
    headers: &HeaderMap,
    route: &str,
    body: Bytes,
    f: F,
) -> Response
where
    T: DeserializeOwned,
    R: Serialize,
    F: AsyncFnOnce(T) -> Result<R, PlatformError>,
{
    let input: T = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let Some(key) = key else {
        return match f(input).await {
            Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
            Err(e) => ApiError(e).into_response(),
        };
    };
    let p = &state.platform;
    let hash = boh_platform::util::sha256_hex(&[route.as_bytes(), b"\n", &body].concat());
    match idem::claim(p, &ctx.actor.user_id, &key, route, &hash).await {
        Err(e) => ApiError(e).into_response(),
        Ok(idem::Claim::Replay(stored)) => {
            let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
            let mut r =
                (status, [("content-type", "application/json")], stored.body).into_response();
            r.headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            r
        }
        Ok(idem::Claim::New) => match f(input).await {
            Ok(v) => {
                let text = serde_json::to_string(&v).unwrap_or_else(|_| "{}".into());
                if let Err(e) = idem::complete(p, &ctx.actor.user_id, &key, 201, &text).await {
                    tracing::error!("storing idempotent response: {e}");
                }
                (
                    StatusCode::CREATED,
                    [("content-type", "application/json")],
                    text,
                )
                    .into_response()
            }
            Err(e) => {
                let _ = idem::release(p, &ctx.actor.user_id, &key).await;
                ApiError(e).into_response()
            }
        },
    }
}
