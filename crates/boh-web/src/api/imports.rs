//! Imports of CSV and XLSX files: submit (or dry-run) a file, list and read imports, download a
//! kind's column template. The platform's [`boh_platform::import`] does the work.
//!
//! A file is submitted to its importer (`POST /api/v1/importers/{kind}/imports`); the import it
//! makes is then a resource of its own (`GET /api/v1/imports/{import_id}`).

use axum::Json;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boh_platform::import::{self, Import, Spec, Submitted, Upload};
use boh_platform::sheet::{self, Format};
use boh_platform::{Ctx, PlatformError, idem};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, replay};
use crate::error::{ApiError, ApiResult, envelope};
use crate::extract::ApiActor;
use crate::state::AppState;
use crate::upload::{self, read_body};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_imports))
        .routes(routes!(find_import))
        .routes(routes!(list_importers))
        .routes(routes!(template_csv))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(submit_import))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportList {
    pub items: Vec<Import>,
    pub page: PageInfo,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImporterList {
    pub items: Vec<Spec>,
}

/// Paging of the import list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ImportPaging {
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Query parameters of an upload.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct SubmitQuery {
    /// Check the file and report what would be created, updated or left unchanged; write
    /// nothing.
    pub dry_run: Option<bool>,
    /// XLSX: the sheet to read (default: the first sheet).
    pub sheet: Option<String>,
    /// The file's name when the body is the raw file (default `upload.csv` / `upload.xlsx`).
    pub file_name: Option<String>,
}

/// The multipart form of an upload (schema only; the body is parsed by hand).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// The CSV or XLSX file.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// XLSX: the sheet to read.
    sheet: Option<String>,
}

fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

fn invalid_body(message: &str) -> Response {
    envelope(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_body",
        message,
        Vec::new(),
    )
}

/// The uploaded file of a request: a multipart `file` part, or the raw body.
pub(crate) async fn upload_of(
    kind: &str,
    headers: &HeaderMap,
    q: &SubmitQuery,
    req: Request,
    limit: usize,
) -> Result<Upload, Response> {
    let ct = content_type(headers);
    let sheet = q.sheet.clone().filter(|s| !s.trim().is_empty());
    if let Some(boundary) = upload::boundary(&ct) {
        let body = read_body(req.into_body(), limit).await?;
        let parts = upload::parse_multipart(&body, &boundary).map_err(|m| invalid_body(&m))?;
        let field = |name: &str| {
            parts
                .iter()
                .find(|p| p.name == name && p.file_name.is_none())
                .map(upload::Part::text)
                .filter(|s| !s.is_empty())
        };
        let sheet = sheet.or_else(|| field("sheet"));
        let file = parts
            .iter()
            .find(|p| p.name == "file")
            .ok_or_else(|| invalid_body("the form has no `file` part"))?;
        return Ok(Upload {
            kind: kind.to_string(),
            file_name: file
                .file_name
                .clone()
                .filter(|n| !n.is_empty())
                .or_else(|| q.file_name.clone())
                .unwrap_or_else(|| "upload".into()),
            content_type: file.content_type.clone(),
            sheet,
            bytes: file.data.to_vec(),
        });
    }
    // A raw file: refuse an unknown type before reading it.
    let format = Format::claimed(q.file_name.as_deref(), Some(&ct)).ok_or_else(|| {
        envelope(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
            "send text/csv, an XLSX workbook or multipart/form-data with a `file` part",
            Vec::new(),
        )
    })?;
    let body = read_body(req.into_body(), limit).await?;
    Ok(Upload {
        kind: kind.to_string(),
        file_name: q
            .file_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| format!("upload.{}", format.extension())),
        content_type: Some(ct),
        sheet,
        bytes: body.to_vec(),
    })
}

fn submitted(s: &Submitted) -> Response {
    let status = StatusCode::from_u16(s.status()).unwrap_or(StatusCode::CREATED);
    (status, [("content-type", "application/json")], s.body()).into_response()
}

/// Import a file of `kind` (`stores`, …): raw CSV (UTF-8 or GB18030; `,` `;` or tab) or XLSX,
/// or `multipart/form-data` with a `file` part. With `dry_run=true` the file is checked and
/// the answer says what would be created, updated and left unchanged; nothing is written.
/// Otherwise the whole file is applied in one transaction, all or nothing, upserting by the
/// kind's key: files up to 5,000 rows during the request (201), larger ones as a job (202;
/// follow `job_id` or `GET /api/v1/imports/{import_id}`). Every bad row and column is
/// reported at once in a 422 (`fields`: `row N, column X`). `Idempotency-Key` makes a retry
/// safe.
#[utoipa::path(post, path = "/api/v1/importers/{kind}/imports", tag = "imports",
    params(
        ("kind" = String, Path, description = "What the file holds, e.g. `stores`"),
        SubmitQuery,
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the import safe to retry"),
    ),
    request_body(description = "The file",
        content(
            (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (UploadForm = "multipart/form-data"),
        )),
    responses(
        (status = 200, description = "Dry run: what the import would do", body = Import),
        (status = 201, description = "Applied", body = Import),
        (status = 202, description = "Stored and queued as a job", body = Import),
        (status = 400, description = "Bad query parameters", body = crate::error::ErrorBody),
        (status = 401, description = "Not signed in", body = crate::error::ErrorBody),
        (status = 403, description = "The caller may not import this kind", body = crate::error::ErrorBody),
        (status = 404, description = "Unknown kind", body = crate::error::ErrorBody),
        (status = 409, description = "A retry of an import still being stored, or records changed meanwhile", body = crate::error::ErrorBody),
        (status = 413, description = "The file is too large", body = crate::error::ErrorBody),
        (status = 415, description = "Not a CSV or XLSX file, or its content is not what it claims", body = crate::error::ErrorBody),
        (status = 422, description = "Row errors, a refused or damaged file, or a reused idempotency key", body = crate::error::ErrorBody),
    ))]
async fn submit_import(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(kind): Path<String>,
    Query(q): Query<SubmitQuery>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    let p = &state.platform;
    // Who may import what is decided before the body is read.
    if let Err(e) = import::importer(p, &ctx.actor, &kind) {
        return ApiError(e).into_response();
    }
    let upload = match upload_of(&kind, &headers, &q, req, state.settings.max_upload_bytes).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if q.dry_run.unwrap_or(false) {
        return match import::dry_run(p, &ctx.actor, &upload).await {
            Ok(report) => Json(report).into_response(),
            Err(e) => ApiError(e).into_response(),
        };
    }
    let Some(raw_key) = headers.get("idempotency-key") else {
        return match import::submit(p, &ctx, &upload).await {
            Ok(s) => submitted(&s),
            Err(e) => ApiError(e).into_response(),
        };
    };
    let key = match raw_key
        .to_str()
        .map_err(|_| PlatformError::invalid("Idempotency-Key", "must be printable ASCII"))
        .and_then(|k| upload.idem_key(k))
    {
        Ok(k) => k,
        Err(e) => return ApiError(e).into_response(),
    };
    let user = ctx.actor.user_id.clone();
    match idem::lookup(p, &user, &key).await {
        Err(e) => return ApiError(e).into_response(),
        Ok(Some(stored)) => return replay(stored),
        Ok(None) => {}
    }
    let keyed = Ctx {
        idem: Some(key.clone()),
        ..ctx.clone()
    };
    // The import records its key in its own transaction, with this very response.
    match import::submit(p, &keyed, &upload).await {
        Ok(s) => submitted(&s),
        Err(e) => match idem::lookup(p, &user, &key).await {
            Ok(Some(stored)) => replay(stored),
            _ => ApiError(e).into_response(),
        },
    }
}

/// One import: status, counts, errors, and the job applying it.
#[utoipa::path(get, path = "/api/v1/imports/{import_id}", tag = "imports",
    params(("import_id" = String, Path)),
    responses(
        (status = 200, body = Import),
        (status = 401, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
    ))]
async fn find_import(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Import>> {
    Ok(Json(import::get(&state.platform, &ctx.actor, &id).await?))
}

/// Imports the caller made or may see (`job.read` in their scope), newest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", params(ImportPaging),
    responses(
        (status = 200, body = ImportList),
        (status = 400, body = crate::error::ErrorBody),
        (status = 401, body = crate::error::ErrorBody),
    ))]
async fn list_imports(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(pg): Query<ImportPaging>,
) -> ApiResult<Json<ImportList>> {
    let limit = pg.limit.unwrap_or(50).clamp(1, 500);
    let offset = pg.offset.unwrap_or(0).max(0);
    let (items, total) = import::list(&state.platform, &ctx.actor, limit, offset).await?;
    Ok(Json(ImportList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// The kinds the caller may import, with their columns.
#[utoipa::path(get, path = "/api/v1/importers", tag = "imports",
    responses(
        (status = 200, body = ImporterList),
        (status = 401, body = crate::error::ErrorBody),
    ))]
async fn list_importers(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> Json<ImporterList> {
    Json(ImporterList {
        items: import::specs_for(&state.platform, &ctx.actor)
            .into_iter()
            .cloned()
            .collect(),
    })
}

/// The column template of a kind: a CSV file with the header row (UTF-8 with BOM).
#[utoipa::path(get, path = "/api/v1/importers/{kind}/template.csv", tag = "imports",
    params(("kind" = String, Path, description = "e.g. `stores`")),
    responses(
        (status = 200, description = "The template", content_type = "text/csv", body = String),
        (status = 401, body = crate::error::ErrorBody),
        (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody),
    ))]
async fn template_csv(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(kind): Path<String>,
) -> Response {
    let result = import::template(&state.platform, &ctx.actor, &kind)
        .and_then(|s| sheet::write_csv(&s).map_err(PlatformError::from));
    match result {
        Ok(bytes) => crate::export::file_response(Format::Csv, &format!("{kind}-template"), bytes),
        Err(e) => ApiError(e).into_response(),
    }
}
