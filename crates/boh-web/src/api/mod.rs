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
pub mod imports;
pub mod invoices;
pub mod items;
pub mod jobs;
pub mod maintenance;
pub mod maintenance_kpi;
pub mod maintenance_wo;
pub mod ordering;
pub mod org;
pub mod purchasing;
pub mod recipes;
pub mod sales;
pub mod sales_anomalies;
pub mod sales_avt;
pub mod sales_dashboard;
pub mod stock;
pub mod system;
pub mod transfers;
pub mod webhooks;
pub mod workflow;

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
        .merge(items::router())
        .merge(stock::router())
        .merge(imports::router())
        .merge(purchasing::router())
        .merge(recipes::router())
        .merge(system::router())
        .merge(transfers::router())
        .merge(sales::router())
        .merge(sales_avt::router())
        .merge(sales_anomalies::router())
        .merge(sales_dashboard::router())
        .merge(workflow::router())
        .merge(ordering::router())
        .merge(invoices::router())
        .merge(maintenance::router())
        .merge(maintenance_wo::router())
        .merge(maintenance_kpi::router())
}

/// Final touches on the generated document.
pub fn finish_openapi(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    doc.info.version = env!("CARGO_PKG_VERSION").to_string();
    doc
}

/// The document as served at `/api/openapi.json`: the generated one completed with the error
/// answers of every operation ([`error_responses`]).
pub fn openapi_json(doc: &utoipa::openapi::OpenApi) -> serde_json::Value {
    let mut v = serde_json::to_value(doc).unwrap_or_else(|e| {
        tracing::error!("serialising the OpenAPI document: {e}");
        serde_json::json!({})
    });
    error_responses(&mut v);
    v
}

/// Add to every operation the error statuses the edge answers for it, each with the
/// [`crate::error::ErrorBody`] schema, unless the operation documents the status itself:
/// - 400 `invalid_path` / `invalid_query` when it has path or query parameters;
/// - 401 `unauthenticated` when it needs authentication, 403 `forbidden` or `csrf_failed` when
///   it needs a permission or changes state (a cookie-authenticated write without its CSRF
///   token is refused);
/// - 404 `not_found` when it addresses a record by id, or takes a body that may refer to one
///   (out of scope is not found too);
/// - 409 `idempotency_in_progress` and 422 for a bad `Idempotency-Key` when it honours one;
/// - 413 `payload_too_large`, 415 `unsupported_media_type` and 422 `invalid_body` /
///   `validation_failed` when it takes a JSON body;
/// - 500 `internal` and 503 `unavailable` (a request over the time limit) always.
pub fn error_responses(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            if !matches!(method.as_str(), "get" | "put" | "post" | "delete" | "patch") {
                continue;
            }
            let params: Vec<(String, String)> = op
                .get("parameters")
                .and_then(|p| p.as_array())
                .map(|a| {
                    a.iter()
                        .map(|p| {
                            let s = |k: &str| p.get(k).and_then(|v| v.as_str()).unwrap_or("");
                            (s("in").to_string(), s("name").to_ascii_lowercase())
                        })
                        .collect()
                })
                .unwrap_or_default();
            let has = |loc: &str| params.iter().any(|(l, _)| l == loc);
            let idem = params
                .iter()
                .any(|(l, n)| l == "header" && n == "idempotency-key");
            let has_body = op.get("requestBody").is_some();
            // `security: [{}]` (login) means no authentication.
            let secured = match op.get("security").and_then(|s| s.as_array()) {
                Some(reqs) => reqs
                    .iter()
                    .any(|r| r.as_object().is_some_and(|o| !o.is_empty())),
                None => true,
            };
            let mut add: Vec<(&str, &str)> = Vec::new();
            if has("path") || has("query") {
                add.push(("400", "A path or query parameter is malformed (`invalid_path`, `invalid_query`; `fields` names it)"));
            }
            if secured {
                add.push((
                    "401",
                    "No valid bearer token or session (`unauthenticated`)",
                ));
            }
            if secured || method != "get" {
                add.push(("403", "The caller lacks the permission here (`forbidden`), or a cookie-authenticated write lacks its CSRF token (`csrf_failed`)"));
            }
            if has("path") || (has_body && secured) {
                add.push(("404", "No such record in the caller's scope, or a record the body refers to is not (`not_found`)"));
            }
            if idem {
                add.push(("409", "A request with this `Idempotency-Key` is still being stored (`idempotency_in_progress`), or the record conflicts (`conflict`)"));
            }
            if has_body {
                add.push((
                    "413",
                    "The body is over the size limit (`payload_too_large`)",
                ));
                add.push((
                    "415",
                    "The body is not `application/json` (`unsupported_media_type`)",
                ));
            }
            if has_body || idem {
                add.push(("422", "The body is malformed or invalid (`invalid_body`, `validation_failed`; `fields` names each problem), or the `Idempotency-Key` is invalid or was used with another body"));
            }
            add.push((
                "500",
                "Internal error (`internal`); the cause is logged with the request id",
            ));
            add.push(("503", "The request took too long (`unavailable`)"));
            let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            // A Response Object needs a description (OpenAPI 3.1 §4.8.17).
            for (status, r) in responses.iter_mut() {
                if let Some(r) = r.as_object_mut()
                    && !r.contains_key("description")
                    && !r.contains_key("$ref")
                {
                    let text = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .and_then(|s| s.canonical_reason())
                        .unwrap_or("Response");
                    r.insert("description".into(), serde_json::json!(text));
                }
            }
            for (status, description) in add {
                responses.entry(status).or_insert_with(|| {
                    serde_json::json!({
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
                    })
                });
            }
        }
    }
}

/// `/api/openapi.json` and the API docs page (Swagger UI bundled in the binary, no CDN).
pub fn docs_router(doc: utoipa::openapi::OpenApi) -> axum::Router<AppState> {
    axum::Router::new().merge(
        utoipa_swagger_ui::SwaggerUi::new("/api/docs")
            .external_url_unchecked("/api/openapi.json", openapi_json(&doc)),
    )
}

/// Paging information of a list response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PageInfo {
    /// Items matching the filters (for lists that stop counting, at most their cap).
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    /// More items match than were counted: `total` is a lower bound (shown as "10,000+").
    pub total_capped: bool,
}

impl PageInfo {
    pub fn new(total: i64, limit: i64, offset: i64) -> PageInfo {
        PageInfo {
            total,
            limit,
            offset,
            total_capped: false,
        }
    }

    /// The page of a list whose count stops at a cap.
    pub fn capped(total: i64, capped: bool, limit: i64, offset: i64) -> PageInfo {
        PageInfo {
            total_capped: capped,
            ..PageInfo::new(total, limit, offset)
        }
    }
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

/// Run a create with `Idempotency-Key` support. The use case gets a [`Ctx`] carrying the key
/// and records it in its own transaction ([`idem::record_created`]), so the key commits with
/// the effect. A replay with the same body gets the stored response (with
/// `idempotent-replayed: true`); a replay with another body is refused with 422; a concurrent
/// duplicate that lost the race answers the winner's response.
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
    F: AsyncFnOnce(T, Ctx) -> Result<R, PlatformError>,
{
    let input: T = match crate::extract::parse_json(headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(raw_key) = headers.get("idempotency-key") else {
        return match f(input, ctx.clone()).await {
            Ok(v) => (StatusCode::CREATED, Json(v)).into_response(),
            Err(e) => ApiError(e).into_response(),
        };
    };
    let key = match raw_key
        .to_str()
        .map_err(|_| PlatformError::invalid("Idempotency-Key", "must be printable ASCII"))
        .and_then(|k| idem::IdemKey::new(k, route, &body))
    {
        Ok(k) => k,
        Err(e) => return ApiError(e).into_response(),
    };
    let p = &state.platform;
    let user = ctx.actor.user_id.clone();
    match idem::lookup(p, &user, &key).await {
        Err(e) => return ApiError(e).into_response(),
        Ok(Some(stored)) => return replay(stored),
        Ok(None) => {}
    }
    let mut keyed = ctx.clone();
    keyed.idem = Some(key.clone());
    match f(input, keyed).await {
        Ok(v) => {
            let text = serde_json::to_string(&v).unwrap_or_else(|_| "{}".into());
            // Every keyed use case records its key in its own transaction; a missing record
            // is a bug in that use case, so say so loudly (and store it now).
            match idem::complete(p, &user, &key, 201, &text).await {
                Ok(idem::Completion::WasMissing) => {
                    tracing::error!(route, "use case did not record its idempotency key");
                }
                Ok(_) => {}
                Err(e) => tracing::error!(route, "storing an idempotent response: {e}"),
            }
            (
                StatusCode::CREATED,
                [("content-type", "application/json")],
                text,
            )
                .into_response()
        }
        // A concurrent duplicate may have committed first, so this attempt failed on the key
        // itself or on a uniqueness rule of the effect: then the answer is the winner's.
        Err(e) => match idem::lookup(p, &user, &key).await {
            Ok(Some(stored)) => replay(stored),
            _ => ApiError(e).into_response(),
        },
    }
}

/// Answer a stored idempotent response again.
pub(crate) fn replay(stored: idem::Stored) -> Response {
    if stored.status == 0 {
        return envelope(
            StatusCode::CONFLICT,
            "idempotency_in_progress",
            "a request with this idempotency key was applied and its response is being stored; retry shortly",
            Vec::new(),
        );
    }
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut r = (status, [("content-type", "application/json")], stored.body).into_response();
    r.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}
