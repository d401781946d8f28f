//! Extractors that establish who is acting.
//!
//! [`ApiActor`] accepts `Authorization: Bearer <token>` or the session cookie and answers 401
//! with the error envelope. [`PageActor`] accepts the session cookie only and redirects to the
//! login page. [`Json`] is axum's JSON extractor with rejections in the error envelope.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use boh_kernel::Actor;
use boh_platform::{Ctx, PlatformError};

use crate::error::{ApiError, envelope};
use crate::state::AppState;

/// Read a cookie from the request headers.
pub fn cookie(parts: &Parts, name: &str) -> Option<String> {
    parts
        .headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .find_map(|v| {
            v.to_str().ok()?.split(';').find_map(|kv| {
                let (k, v) = kv.trim().split_once('=')?;
                (k == name).then(|| v.to_string())
            })
        })
}

/// The client address (from the connection).
pub fn client_ip(parts: &Parts) -> Option<String> {
    parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

pub fn request_id(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    v.strip_prefix("Bearer ")
        .or_else(|| v.strip_prefix("bearer "))
        .map(str::trim)
}

/// Resolve the actor of a request: bearer token first, then the session cookie. Cached in the
/// request extensions so middleware and handlers resolve it once.
pub async fn resolve(parts: &mut Parts, state: &AppState) -> Result<Actor, PlatformError> {
    if let Some(a) = parts.extensions.get::<Actor>() {
        return Ok(a.clone());
    }
    let actor = if let Some(tok) = bearer(parts) {
        boh_platform::auth::token_actor(&state.platform, tok).await?
    } else if let Some(sid) = cookie(parts, state.session_cookie()) {
        boh_platform::auth::session_actor(&state.platform, &sid).await?
    } else {
        return Err(PlatformError::Unauthenticated);
    };
    parts.extensions.insert(actor.clone());
    Ok(actor)
}

/// The acting user of an API request, with the write context for audit rows.
pub struct ApiActor(pub Ctx);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let actor = resolve(parts, state).await?;
        Ok(ApiActor(Ctx {
            actor,
            ip: client_ip(parts),
            request_id: request_id(parts),
            idem: None,
        }))
    }
}

/// The acting user of a page request; anonymous visitors are sent to the login page.
pub struct PageActor(pub Ctx);

pub struct LoginRedirect(String);

impl IntoResponse for LoginRedirect {
    fn into_response(self) -> Response {
        Redirect::to(&self.0).into_response()
    }
}

impl FromRequestParts<AppState> for PageActor {
    type Rejection = LoginRedirect;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let next = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let login = format!("/login?next={}", urlencode(next));
        if cookie(parts, state.session_cookie()).is_none() {
            return Err(LoginRedirect(login));
        }
        match resolve(parts, state).await {
            Ok(actor) if actor.is_session() => Ok(PageActor(Ctx {
                actor,
                ip: client_ip(parts),
                request_id: request_id(parts),
                idem: None,
            })),
            _ => Err(LoginRedirect(login)),
        }
    }
}

/// Percent-encode a query value.
pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// JSON body extractor whose rejections use the error envelope (422 with the serde message,
/// which names the field).
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(rej) => {
                let status = match rej.status() {
                    StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
                    StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    _ => StatusCode::UNPROCESSABLE_ENTITY,
                };
                let code = if status == StatusCode::UNPROCESSABLE_ENTITY {
                    "invalid_body"
                } else {
                    "bad_request"
                };
                Err(envelope(status, code, &rej.body_text(), Vec::new()))
            }
        }
    }
}
