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
use boh_platform::{Ctx, FieldError, PlatformError};

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
    let span = tracing::Span::current();
    span.record("user_id", actor.user_id.as_str());
    span.record("user", tracing::field::debug(&actor.username));
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

/// Does the request say its body is JSON (`application/json` or `application/*+json`)?
pub fn is_json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The field a serde error is about: the path where it happened, or for a missing or unknown
/// field at that path, the field itself.
fn error_field(path: &str, message: &str) -> Option<String> {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string);
    let at = (path != "." && !path.is_empty() && path != "?").then(|| path.to_string());
    match (at, named) {
        // serde_path_to_error puts an unknown field on the path already, a missing one not.
        (Some(a), Some(n)) if a == n || a.ends_with(&format!(".{n}")) => Some(a),
        (Some(a), Some(n)) => Some(format!("{a}.{n}")),
        (a, n) => n.or(a),
    }
}

/// A deserialisation failure as a field error list (empty when no field can be named).
fn fields_of(path: &str, message: &str) -> Vec<FieldError> {
    error_field(path, message)
        .map(|f| vec![FieldError::new(&f, message)])
        .unwrap_or_default()
}

/// Parse a JSON request body: 415 `unsupported_media_type` unless the content type is JSON,
/// 422 `invalid_body` naming the field for malformed JSON, wrong types, out-of-range numbers,
/// missing and unknown fields.
pub fn parse_json<T: serde::de::DeserializeOwned>(
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<T, Response> {
    if !is_json_content_type(headers) {
        return Err(unsupported_media_type());
    }
    // Every body of this API is an object. serde would also read a struct from an array of
    // its fields in order (`[]` for one whose fields are all optional): not a form we offer.
    if let Some(b) = body.iter().find(|b| !b.is_ascii_whitespace())
        && *b != b'{'
    {
        return Err(envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "invalid JSON body: expected a JSON object",
            Vec::new(),
        ));
    }
    // The common case, a valid body, is read without tracking the path (a POS batch of 10,000
    // lines would spend much of its parse there); a refused one is read again to name the field.
    if let Ok(v) = serde_json::from_slice::<T>(body) {
        return Ok(v);
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let (path, inner) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => match de.end() {
            Ok(()) => return Ok(v),
            Err(e) => (String::new(), e),
        },
        Err(e) => (e.path().to_string(), e.into_inner()),
    };
    let text = inner.to_string();
    let (message, fields) = if inner.is_syntax() || inner.is_eof() {
        (format!("malformed JSON body: {text}"), Vec::new())
    } else if path == "." || path.is_empty() {
        (
            format!("invalid JSON body: {text}"),
            fields_of(&path, &text),
        )
    } else {
        (
            format!("invalid JSON body: {path}: {text}"),
            fields_of(&path, &text),
        )
    };
    Err(envelope(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        &message,
        fields,
    ))
}

fn unsupported_media_type() -> Response {
    envelope(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "the request body must be JSON: send `Content-Type: application/json`",
        Vec::new(),
    )
}

/// JSON body extractor whose rejections use the error envelope (see [`parse_json`]; 413 when
/// the body is over the limit).
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        if !is_json_content_type(&parts.headers) {
            return Err(unsupported_media_type());
        }
        let req = Request::from_parts(parts, body);
        let headers = req.headers().clone();
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rej| body_rejection(rej.status()))?;
        parse_json(&headers, &bytes).map(Json)
    }
}

/// A body that could not be read: over the limit (413) or broken off.
pub fn body_rejection(status: StatusCode) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        envelope(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is over the size limit",
            Vec::new(),
        )
    } else {
        envelope(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "the request body could not be read",
            Vec::new(),
        )
    }
}

/// Query-string extractor: 400 `invalid_query` naming the parameter (axum's own answers
/// text/plain).
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(q.as_bytes()));
        serde_path_to_error::deserialize::<_, T>(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let text = e.into_inner().to_string();
                let field = error_field(&path, &text);
                let message = match &field {
                    Some(f) => format!("invalid query parameter `{f}`: {text}"),
                    None => format!("invalid query string: {text}"),
                };
                envelope(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    &message,
                    field
                        .map(|f| vec![FieldError::new(&f, text)])
                        .unwrap_or_default(),
                )
            })
    }
}

/// Path-parameter extractor: 400 `invalid_path` naming the parameter.
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Path(v)),
            Err(PathRejection::FailedToDeserializePathParams(e)) => {
                let key = match e.kind() {
                    ErrorKind::ParseErrorAtKey { key, .. }
                    | ErrorKind::InvalidUtf8InPathParam { key } => Some(key.clone()),
                    _ => None,
                };
                let text = e.body_text();
                Err(envelope(
                    StatusCode::BAD_REQUEST,
                    "invalid_path",
                    &text,
                    key.map(|k| vec![FieldError::new(&k, text.clone())])
                        .unwrap_or_default(),
                ))
            }
            Err(other) => {
                tracing::error!("path parameters: {}", other.body_text());
                Err(envelope(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                    Vec::new(),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct AllOptional {
        #[serde(default)]
        #[allow(dead_code)]
        a: Option<String>,
    }

    fn json_headers() -> axum::http::HeaderMap {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            axum::http::header::CONTENT_TYPE,
            axum::http::HeaderValue::from_static("application/json"),
        );
        h
    }

    #[test]
    fn a_body_must_be_an_object() {
        let h = json_headers();
        assert!(parse_json::<AllOptional>(&h, b"{}").is_ok());
        assert!(parse_json::<AllOptional>(&h, b" \n{\"a\": \"x\"}").is_ok());
        for bad in [&b"[]"[..], b" [\"x\"]", b"null", b"1"] {
            let r = parse_json::<AllOptional>(&h, bad).unwrap_err();
            assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
    }
}
