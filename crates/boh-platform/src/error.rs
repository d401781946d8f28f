//! Platform errors with stable machine codes. The HTTP edge maps them to statuses.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct FieldError {
    /// The input field (or `row N, column` for imports) that is wrong.
    pub field: String,
    /// What is wrong with it, in English.
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("not found")]
    NotFound,
    #[error("you do not have the permission {0} here")]
    Forbidden(&'static str),
    #[error("authentication required")]
    Unauthenticated,
    #[error("invalid username or password")]
    BadCredentials,
    #[error("too many failed logins; try again in {retry_after_secs} s")]
    Throttled { retry_after_secs: i64 },
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    Conflict {
        field: Option<String>,
        message: String,
    },
    /// A business rule refuses the request in the current state (insufficient stock, a
    /// document in the wrong status, a locked period, ...), with a stable code of its own.
    #[error("{message}")]
    Refused {
        code: &'static str,
        message: String,
        fields: Vec<FieldError>,
    },
    #[error("the idempotency key was already used with a different request")]
    IdempotencyMismatch,
    /// A concurrent request with the same idempotency key committed first; this attempt was
    /// rolled back and the edge answers with the first request's response.
    #[error("a request with this idempotency key was applied concurrently")]
    IdempotencyRace,
    /// An uploaded file was refused before its rows were looked at (size, type, content,
    /// archive limits); see [`crate::sheet::SheetError::refusal`].
    #[error(transparent)]
    Sheet(crate::sheet::SheetError),
    #[error(transparent)]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl PlatformError {
    /// A stable code clients may branch on.
    pub fn code(&self) -> &'static str {
        match self {
            PlatformError::NotFound => "not_found",
            PlatformError::Forbidden(_) => "forbidden",
            PlatformError::Unauthenticated => "unauthenticated",
            PlatformError::BadCredentials => "bad_credentials",
            PlatformError::Throttled { .. } => "throttled",
            PlatformError::Validation(_) => "validation_failed",
            PlatformError::Conflict { .. } => "conflict",
            PlatformError::Refused { code, .. } => code,
            PlatformError::IdempotencyMismatch => "idempotency_key_reused",
            PlatformError::IdempotencyRace => "idempotency_conflict",
            PlatformError::Sheet(e) => e.code(),
            PlatformError::Db(_) | PlatformError::Internal(_) => "internal",
        }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> PlatformError {
        PlatformError::Validation(vec![FieldError::new(field, message)])
    }

    /// A business-rule refusal with its own stable code.
    pub fn refused(code: &'static str, message: impl Into<String>) -> PlatformError {
        PlatformError::Refused {
            code,
            message: message.into(),
            fields: Vec::new(),
        }
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> PlatformError {
        PlatformError::Conflict {
            field: Some(field.to_string()),
            message: message.into(),
        }
    }
}

impl From<crate::sheet::SheetError> for PlatformError {
    /// Problems with single cells are validation errors (each names its row and column);
    /// everything else refuses the file as a whole.
    fn from(e: crate::sheet::SheetError) -> Self {
        match e {
            crate::sheet::SheetError::Cells(fields) => PlatformError::Validation(fields),
            crate::sheet::SheetError::Write(m) => PlatformError::Internal(anyhow::anyhow!(m)),
            other => PlatformError::Sheet(other),
        }
    }
}

impl boh_db::AsDbError for PlatformError {
    fn as_db_error(&self) -> Option<&sqlx::Error> {
        match self {
            PlatformError::Db(e) => Some(e),
            _ => None,
        }
    }
}

impl From<boh_db::DbError> for PlatformError {
    fn from(e: boh_db::DbError) -> Self {
        match e {
            boh_db::DbError::Sqlx(e) => PlatformError::Db(e),
            other => PlatformError::Internal(anyhow::Error::new(other)),
        }
    }
}

pub type Result<T, E = PlatformError> = std::result::Result<T, E>;

/// Turn a unique-constraint violation into a conflict on `field` (with `message`); any other
/// database error passes through.
pub fn unique_conflict<T>(
    r: std::result::Result<T, sqlx::Error>,
    field: &str,
    message: impl FnOnce() -> String,
) -> Result<T> {
    match r {
        Err(e) if boh_db::is_unique_violation(&e) => Err(PlatformError::conflict(field, message())),
        other => Ok(other?),
    }
}
