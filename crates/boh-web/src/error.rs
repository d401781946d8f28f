//! One error envelope for the whole API:
//! `{"error": {"code": "...", "message": "...", "fields": [{"field", "message"}], "request_id"}}`.
//! Codes are stable; messages are English. Internal errors are logged with their cause and
//! answered with a generic message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use boh_platform::sheet::Refusal;
use boh_platform::{FieldError, PlatformError};
use serde::Serialize;

#[derive(Debug)]
pub struct ApiError(pub PlatformError);

impl From<PlatformError> for ApiError {
    fn from(e: PlatformError) -> Self {
        ApiError(e)
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine code, e.g. `not_found`, `validation_failed`.
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

pub fn status_of(e: &PlatformError) -> StatusCode {
    match e {
        PlatformError::NotFound => StatusCode::NOT_FOUND,
        PlatformError::Forbidden(_) => StatusCode::FORBIDDEN,
        PlatformError::Unauthenticated | PlatformError::BadCredentials => StatusCode::UNAUTHORIZED,
        PlatformError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
        PlatformError::Validation(_) | PlatformError::IdempotencyMismatch => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        PlatformError::Conflict { .. }
        | PlatformError::IdempotencyRace
        | PlatformError::Refused { .. } => StatusCode::CONFLICT,
        PlatformError::Sheet(e) => match e.refusal() {
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::Unsupported => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Refusal::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
        },
        PlatformError::Db(_) | PlatformError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The envelope for any code and message (used by rejections and the fallback too).
pub fn envelope(
    status: StatusCode,
    code: &str,
    message: &str,
    fields: Vec<FieldError>,
) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: message.into(),
                fields,
            },
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(&self.0);
        let (message, fields) = match &self.0 {
            PlatformError::Db(e) => {
                tracing::error!(error = ?e, "database error");
                ("internal error".to_string(), Vec::new())
            }
            PlatformError::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                ("internal error".to_string(), Vec::new())
            }
            PlatformError::Validation(f) => ("invalid input: see fields".to_string(), f.clone()),
            PlatformError::Refused {
                message, fields, ..
            } => (message.clone(), fields.clone()),
            PlatformError::Unauthenticated => {
                tracing::info!(
                    target: "boh::security",
                    at = %boh_kernel::now().rfc3339(),
                    "request refused: no valid token or session"
                );
                (self.0.to_string(), Vec::new())
            }
            PlatformError::Forbidden(perm) => {
                // Who and where are on the request's span (user_id, user, ip, request_id).
                tracing::warn!(
                    target: "boh::security",
                    permission = %perm,
                    at = %boh_kernel::now().rfc3339(),
                    "request denied: missing permission"
                );
                (self.0.to_string(), Vec::new())
            }
            PlatformError::Conflict {
                field: Some(f),
                message,
            } => (message.clone(), vec![FieldError::new(f, message.clone())]),
            other => (other.to_string(), Vec::new()),
        };
        let mut resp = envelope(status, self.0.code(), &message, fields);
        if let PlatformError::Throttled { retry_after_secs } = &self.0
            && let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string())
        {
            resp.headers_mut().insert("retry-after", v);
        }
        resp
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
