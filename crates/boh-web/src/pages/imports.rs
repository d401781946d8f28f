//! The import page: pick what to import, upload a CSV or XLSX file, read the check (every row
//! error in a table, or what would be created / updated / left unchanged), then apply it; a
//! large import shows its job's progress. The upload is checked and stored as a `checked`
//! import (no business data written), so applying needs no second upload.

use axum::Form;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use boh_platform::import::{self, Import, RowError, Spec, Submitted, Upload};
use boh_platform::{PlatformError, jobs};
use serde::Deserialize;

use super::admin::short_time;
use super::{Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;
use crate::upload;

pub struct ColumnLine {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
    pub example: &'static str,
}

pub struct Line {
    pub id: String,
    pub kind: String,
    pub file_name: String,
    pub status: String,
    pub status_label: String,
    pub rows: i64,
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub when: String,
}

/// One row of the errors table.
pub struct ErrorLine {
    pub row: String,
    pub column: String,
    pub message: String,
}

fn title(ui: &Ui, spec: &Spec) -> String {
    if ui.is_zh() {
        spec.title_zh.to_string()
    } else {
        spec.title.to_string()
    }
}

fn kind_title(state: &AppState, ui: &Ui, kind: &str) -> String {
    state
        .platform
        .importers
        .get(kind)
        .map(|i| title(ui, i.spec()))
        .unwrap_or_else(|| kind.to_string())
}

fn error_lines(locale: &str, errors: &[RowError]) -> Vec<ErrorLine> {
    errors
        .iter()
        .map(|e| ErrorLine {
            row: e.row.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            column: e.column.clone().unwrap_or_else(|| "—".into()),
            message: crate::i18n::field_message(locale, &e.message),
        })
        .collect()
}

fn line(state: &AppState, ui: &Ui, rec: Import) -> Line {
    Line {
        id: rec.id.clone().unwrap_or_default(),
        kind: kind_title(state, ui, &rec.kind),
        status_label: ui.t(&format!("import.status.{}", rec.status)),
        when: short_time(&rec.created_at),
        file_name: rec.file_name,
        status: rec.status,
        rows: rec.rows,
        created: rec.created,
        updated: rec.updated,
        unchanged: rec.unchanged,
    }
}

#[derive(askama::Template)]
#[template(path = "imports/index.html")]
struct IndexPage {
    ui: Ui,
    kinds: Vec<(String, String)>,
    kind: String,
    columns: Vec<ColumnLine>,
    recent: Vec<Line>,
    general: Option<String>,
    detail: Option<String>,
    errors: Vec<ErrorLine>,
    sheet: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct IndexQuery {
    #[serde(default)]
    pub kind: String,
}

struct Problem {
    general: Option<String>,
    detail: Option<String>,
    errors: Vec<ErrorLine>,
}

async fn index_page(
    state: &AppState,
    parts_scope: Option<String>,
    ctx: &boh_platform::Ctx,
    kind: &str,
    sheet: String,
    problem: Problem,
) -> Result<IndexPage, Response> {
    let ui = ui(state, parts_scope, &ctx.actor, "imports", "import.title").await;
    let specs = import::specs_for(&state.platform, &ctx.actor);
    if specs.is_empty() {
        return Err(error_page(PlatformError::Forbidden(
            boh_kernel::perm::ORG_UPDATE,
        )));
    }
    let spec = specs
        .iter()
        .find(|s| s.kind == kind)
        .or(specs.first())
        .copied()
        .ok_or_else(|| error_page(PlatformError::NotFound))?;
    let zh = ui.is_zh();
    let columns = spec
        .columns
        .iter()
        .map(|c| ColumnLine {
            name: c.name,
            required: c.required,
            description: if zh { c.description_zh } else { c.description },
            example: c.example,
        })
        .collect();
    let recent = import::list(&state.platform, &ctx.actor, 20, 0)
        .await
        .map(|(r, _)| r)
        .unwrap_or_default()
        .into_iter()
        .map(|r| line(state, &ui, r))
        .collect();
    Ok(IndexPage {
        kinds: specs
            .iter()
            .map(|s| (s.kind.to_string(), title(&ui, s)))
            .collect(),
        kind: spec.kind.to_string(),
        columns,
        recent,
        general: problem.general,
        detail: problem.detail,
        errors: problem.errors,
        sheet,
        ui,
    })
}

pub async fn index(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<IndexQuery>,
) -> Response {
    let none = Problem {
        general: None,
        detail: None,
        errors: Vec::new(),
    };
    match index_page(
        &state,
        scope_cookie(&parts),
        &ctx,
        &q.kind,
        String::new(),
        none,
    )
    .await
    {
        Ok(page) => render(page),
        Err(r) => r,
    }
}

/// The form's fields and file.
struct Form1 {
    kind: String,
    sheet: String,
    file: Option<upload::Part>,
}

async fn read_form(state: &AppState, req: Request) -> Result<Form1, Response> {
    let (head, body) = req.into_parts();
    let parts = super::multipart_form(state, &head.headers, body).await?;
    let field = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name && p.file_name.is_none())
            .map(upload::Part::text)
            .unwrap_or_default()
    };
    Ok(Form1 {
        kind: field("kind"),
        sheet: field("sheet"),
        file: parts
            .iter()
            .find(|p| p.name == "file" && !p.data.is_empty())
            .cloned(),
    })
}

/// `POST /imports`: check the uploaded file; a good one is stored and shown with its Apply
/// button, a bad one comes back with every problem listed.
pub async fn upload(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let scope = scope_cookie(&parts);
    let req = Request::from_parts(parts, body);
    let form = match read_form(&state, req).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let locale = crate::i18n::normalise(&ctx.actor.locale);
    let Some(file) = form.file else {
        let problem = Problem {
            general: Some(crate::i18n::t(locale, "import.choose_file")),
            detail: None,
            errors: Vec::new(),
        };
        return again(
            &state,
            scope,
            &ctx,
            &form.kind,
            form.sheet,
            problem,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let upload = Upload {
        kind: form.kind.clone(),
        file_name: file.file_name.clone().unwrap_or_else(|| "upload".into()),
        content_type: file.content_type.clone(),
        sheet: Some(form.sheet.clone()).filter(|s| !s.is_empty()),
        bytes: file.data.to_vec(),
    };
    match import::check(&state.platform, &ctx, &upload).await {
        Ok(rec) => {
            Redirect::to(&format!("/imports/{}", rec.id.unwrap_or_default())).into_response()
        }
        Err(PlatformError::Validation(fields)) => {
            let errors: Vec<RowError> = fields.iter().map(RowError::from_field).collect();
            let problem = Problem {
                general: Some(crate::i18n::t(locale, "import.errors_intro")),
                detail: None,
                errors: error_lines(locale, &errors),
            };
            again(
                &state,
                scope,
                &ctx,
                &form.kind,
                form.sheet,
                problem,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(PlatformError::Sheet(e)) => {
            let problem = Problem {
                general: Some(crate::i18n::t(locale, "import.file_refused")),
                detail: Some(e.to_string()),
                errors: Vec::new(),
            };
            let status = crate::error::status_of(&PlatformError::Sheet(e));
            again(&state, scope, &ctx, &form.kind, form.sheet, problem, status).await
        }
        Err(e) => error_page(e),
    }
}

async fn again(
    state: &AppState,
    scope: Option<String>,
    ctx: &boh_platform::Ctx,
    kind: &str,
    sheet: String,
    problem: Problem,
    status: StatusCode,
) -> Response {
    match index_page(state, scope, ctx, kind, sheet, problem).await {
        Ok(page) => (status, render(page)).into_response(),
        Err(r) => r,
    }
}

/// A job's progress for the progress box (polled by app.js).
pub struct JobBox {
    pub id: String,
    pub value: i64,
    pub max: i64,
    pub label: String,
}

#[derive(askama::Template)]
#[template(path = "imports/detail.html")]
struct DetailPage {
    ui: Ui,
    rec: Import,
    id: String,
    kind: String,
    status_label: String,
    when: String,
    finished: String,
    can_apply: bool,
    errors: Vec<ErrorLine>,
    job: Option<JobBox>,
    general: Option<String>,
}

#[derive(Deserialize)]
pub struct DetailQuery {
    applied: Option<String>,
    queued: Option<String>,
}

async fn detail_page(
    state: &AppState,
    parts_scope: Option<String>,
    ctx: &boh_platform::Ctx,
    id: &str,
) -> Result<DetailPage, Response> {
    let rec = import::get(&state.platform, &ctx.actor, id)
        .await
        .map_err(error_page)?;
    let ui = ui(state, parts_scope, &ctx.actor, "imports", "import.title").await;
    let job = match (&rec.job_id, rec.is_finished()) {
        (Some(jid), false) => jobs::get(&state.platform, &ctx.actor, jid)
            .await
            .ok()
            .map(|j| JobBox {
                id: j.id.clone(),
                value: j.progress_done.min(j.progress_total.max(1)),
                max: j.progress_total.max(1),
                label: format!("{} / {}", j.progress_done, j.progress_total),
            }),
        _ => None,
    };
    Ok(DetailPage {
        id: rec.id.clone().unwrap_or_default(),
        kind: kind_title(state, &ui, &rec.kind),
        status_label: ui.t(&format!("import.status.{}", rec.status)),
        when: short_time(&rec.created_at),
        finished: rec
            .finished_at
            .as_deref()
            .map(short_time)
            .unwrap_or_else(|| "—".into()),
        can_apply: rec.status == "checked" && rec.created_by == ctx.actor.user_id,
        errors: error_lines(&ui.locale, &rec.errors),
        job,
        general: None,
        rec,
        ui,
    })
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    match detail_page(&state, scope_cookie(&parts), &ctx, &id).await {
        Ok(mut page) => {
            if q.applied.is_some() && page.rec.status == "applied" {
                page.ui.flash = Some(page.ui.t("import.applied"));
            } else if q.queued.is_some() && !page.rec.is_finished() {
                page.ui.flash = Some(page.ui.t("import.queued"));
            }
            render(page)
        }
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub struct ApplyForm {
    #[serde(default, rename = "_csrf")]
    pub _csrf: String,
}

/// `POST /imports/{id}/apply`: apply a checked import (now, or as a job when large).
pub async fn apply(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(_form): Form<ApplyForm>,
) -> Response {
    match import::apply_checked(&state.platform, &ctx, &id).await {
        Ok(Submitted::Applied(_)) => {
            Redirect::to(&format!("/imports/{id}?applied=1")).into_response()
        }
        Ok(Submitted::Queued(_)) => {
            Redirect::to(&format!("/imports/{id}?queued=1")).into_response()
        }
        // The record now shows the problems found on the second check.
        Err(PlatformError::Validation(_)) => {
            Redirect::to(&format!("/imports/{id}")).into_response()
        }
        Err(PlatformError::Conflict { message, .. }) => {
            match detail_page(&state, scope_cookie(&parts), &ctx, &id).await {
                Ok(mut page) => {
                    page.general = Some(crate::i18n::field_message(&page.ui.locale, &message));
                    (StatusCode::CONFLICT, render(page)).into_response()
                }
                Err(r) => r,
            }
        }
        Err(e) => error_page(e),
    }
}
