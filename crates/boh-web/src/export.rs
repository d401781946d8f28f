//! List exports: `…/export.csv` and `…/export.xlsx` for any list page in a few lines.
//!
//! A page writes one handler that takes an [`ExportFormat`] (from the path's extension),
//! asks its module for a [`Sheet`] (the same rows the list shows, in the columns its
//! importer reads) and answers with [`respond`]:
//!
//! ```ignore
//! // pages/mod.rs
//! .merge(export::routes("/stores", get(stores::export)))
//! // pages/stores.rs
//! pub async fn export(State(state): State<AppState>, PageActor(ctx): PageActor,
//!                     format: ExportFormat, Query(q): Query<ListQuery>) -> Response {
//!     match org_import::export(&state.platform, &ctx.actor, &filter_of(&q)).await {
//!         Ok(sheet) => export::respond(format, "stores", &sheet),
//!         Err(e) => error_page(e),
//!     }
//! }
//! ```
//!
//! The shared writers ([`boh_platform::sheet`]) escape formula-looking text in both formats.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use boh_platform::sheet::{self, Format, Sheet};

use crate::state::AppState;

/// The format an export was asked for, from the path (`…/export.csv`, `…/export.xlsx`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportFormat(pub Format);

impl FromRequestParts<AppState> for ExportFormat {
    type Rejection = StatusCode;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        let path = parts.uri.path();
        if path.ends_with(".xlsx") {
            Ok(ExportFormat(Format::Xlsx))
        } else if path.ends_with(".csv") {
            Ok(ExportFormat(Format::Csv))
        } else {
            Err(StatusCode::NOT_FOUND)
        }
    }
}

/// `{base}/export.csv` and `{base}/export.xlsx`, both served by `handler`.
pub fn routes(base: &str, handler: MethodRouter<AppState>) -> axum::Router<AppState> {
    axum::Router::new()
        .route(&format!("{base}/export.csv"), handler.clone())
        .route(&format!("{base}/export.xlsx"), handler)
}

/// A file name safe in a `Content-Disposition` header: ASCII letters, digits, `-`, `_`, `.`.
pub fn safe_file_name(stem: &str, format: Format) -> String {
    let mut s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let trimmed = s.trim_matches(|c| c == '.' || c == '_').to_string();
    s = if trimmed.is_empty() {
        "export".into()
    } else {
        trimmed
    };
    format!("{s}.{}", format.extension())
}

/// A file download: the bytes with their content type and an attachment disposition.
pub fn file_response(format: Format, stem: &str, bytes: Vec<u8>) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", safe_file_name(stem, format));
    let mut resp = (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        )],
        bytes,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

/// Write `sheet` in `format` and answer it as a download named `{stem}.{csv|xlsx}`.
pub fn respond(format: ExportFormat, stem: &str, sheet: &Sheet) -> Response {
    match sheet::write(format.0, sheet) {
        Ok(bytes) => file_response(format.0, stem, bytes),
        Err(e) => crate::pages::error_page(e.into()),
    }
}

/// A sheet of text cells (the shared writer escapes formula-looking text).
pub fn text_sheet(name: &str, headers: &[&str], rows: Vec<Vec<String>>) -> Sheet {
    boh_platform::import::export_sheet(
        name,
        headers,
        rows.into_iter()
            .map(|r| r.into_iter().map(sheet::Cell::from).collect())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_ascii_safe() {
        assert_eq!(safe_file_name("stores", Format::Csv), "stores.csv");
        assert_eq!(
            safe_file_name("门店 \"x\";\r\n", Format::Xlsx),
            "x.xlsx",
            "non-ASCII and quotes become _ and are trimmed"
        );
        assert_eq!(safe_file_name("../../etc", Format::Csv), "etc.csv");
        assert_eq!(safe_file_name("", Format::Csv), "export.csv");
    }
}
