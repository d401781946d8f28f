//! Sales operations pages: the batches of POS sales (list with filters, detail with its
//! totals, versions and stock document), the CSV import of one store-day, the queue of
//! unmapped POS codes with an item picker and Map button, and the list of mappings.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use boh_inventory::catalog::{self, ItemFilter};
use boh_kernel::{Actor, perm};
use boh_platform::org::{self, NodeFilter, OrgNode};
use boh_platform::sheet::{self, Limits, Source};
use boh_platform::{Ctx, PlatformError};
use boh_sales::ingest::{self, Batch, BatchFilter, Mode};
use boh_sales::mapping::{self, MappingFilter, MappingInput, UnmappedFilter};
use serde::Deserialize;

use super::admin::short_time;
use super::inventory::{money, showing};
use super::sales_csv::{self, CsvError};
use super::{Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;
use crate::upload;

const PAGE: i64 = 50;

/// Routes of these pages (merged into the page router).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route("/sales/batches", get(batches))
        .route("/sales/batches/{id}", get(batch_detail))
        .route("/sales/import", get(import_form).post(import_upload))
        .route("/sales/import/template.csv", get(template))
        .route("/sales/unmapped", get(unmapped).post(map))
        .route("/sales/mappings", get(mappings))
}

/// Stores the actor holds `perm` at, narrowed by the scope picker, by code.
async fn stores(
    state: &AppState,
    actor: &Actor,
    scope: Option<String>,
    perm: &str,
) -> Vec<OrgNode> {
    let f = NodeFilter {
        kind: Some("store".into()),
        under: scope,
        limit: Some(500),
        ..Default::default()
    };
    org::list(&state.platform, actor, &f)
        .await
        .map(|(n, _)| {
            n.into_iter()
                .filter(|n| actor.allows(perm, &n.path))
                .collect()
        })
        .unwrap_or_default()
}

fn label(n: &OrgNode, locale: &str) -> String {
    format!("{} {}", n.code, n.name(locale))
}

/// Store id → "S001 name" for every store the actor reads sales of (not narrowed).
async fn store_labels(state: &AppState, actor: &Actor, locale: &str) -> HashMap<String, String> {
    stores(state, actor, None, perm::SALES_READ)
        .await
        .into_iter()
        .map(|n| (n.id.clone(), label(&n, locale)))
        .collect()
}

// ---------------------------------------------------------------- batches

pub struct BatchLine {
    pub b: Batch,
    pub store: String,
    pub status_label: String,
    pub net: String,
    pub when: String,
}

fn batch_line(ui: &Ui, labels: &HashMap<String, String>, b: Batch) -> BatchLine {
    BatchLine {
        store: labels
            .get(&b.store_id)
            .cloned()
            .unwrap_or_else(|| b.store_id.clone()),
        status_label: ui.t(&format!("sales.status.{}", b.status)),
        net: money(b.net),
        when: short_time(&b.created_at),
        b,
    }
}

#[derive(askama::Template)]
#[template(path = "sales/batches.html")]
struct BatchesPage {
    ui: Ui,
    rows: Vec<BatchLine>,
    stores: Vec<(String, String)>,
    store_id: String,
    business_date: String,
    source: String,
    status: String,
    can_import: bool,
    offset: i64,
    limit: i64,
    total: i64,
}

impl BatchesPage {
    fn showing(&self) -> String {
        showing(&self.ui, self.offset, self.limit, self.total)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.limit).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + self.limit < self.total).then_some(self.offset + self.limit)
    }
    fn query(&self) -> String {
        format!(
            "store_id={}&business_date={}&source={}&status={}",
            enc(&self.store_id),
            enc(&self.business_date),
            enc(&self.source),
            enc(&self.status)
        )
    }
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Debug, Default, Deserialize)]
pub struct BatchesQuery {
    #[serde(default)]
    pub store_id: String,
    #[serde(default)]
    pub business_date: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub status: String,
    pub offset: Option<i64>,
}

/// `GET /sales/batches`: batches in scope, newest first, with filters.
pub async fn batches(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<BatchesQuery>,
) -> Response {
    let actor = &ctx.actor;
    if !actor.has_anywhere(perm::SALES_READ) {
        return error_page(PlatformError::Forbidden(perm::SALES_READ));
    }
    let scope = scope_cookie(&parts);
    let ui = ui(
        &state,
        scope.clone(),
        actor,
        "sales_batches",
        "sales.batches",
    )
    .await;
    let in_scope = stores(&state, actor, scope.clone(), perm::SALES_READ).await;
    let labels = store_labels(&state, actor, &ui.locale).await;
    // The scope picker narrows the list to its stores unless one store is picked.
    let store_ids: Vec<String> = if q.store_id.is_empty() {
        if scope.is_some() {
            in_scope.iter().map(|s| s.id.clone()).collect()
        } else {
            Vec::new()
        }
    } else {
        vec![q.store_id.clone()]
    };
    let offset = q.offset.unwrap_or(0).max(0);
    let (rows, total) = if scope.is_some() && q.store_id.is_empty() {
        // One list per store would not page; read the whole scope and filter by store.
        let f = BatchFilter {
            store_id: None,
            business_date: Some(q.business_date.clone()).filter(|s| !s.is_empty()),
            source: Some(q.source.clone()),
            status: Some(q.status.clone()),
            limit: Some(500),
            offset: Some(0),
        };
        match ingest::list_batches(&state.platform, actor, &f).await {
            Ok((all, _)) => {
                let kept: Vec<Batch> = all
                    .into_iter()
                    .filter(|b| store_ids.contains(&b.store_id))
                    .collect();
                let total = kept.len() as i64;
                let page: Vec<Batch> = kept
                    .into_iter()
                    .skip(offset as usize)
                    .take(PAGE as usize)
                    .collect();
                (page, total)
            }
            Err(e) => return error_page(e),
        }
    } else {
        let f = BatchFilter {
            store_id: Some(q.store_id.clone()),
            business_date: Some(q.business_date.clone()).filter(|s| !s.is_empty()),
            source: Some(q.source.clone()),
            status: Some(q.status.clone()),
            limit: Some(PAGE),
            offset: Some(offset),
        };
        match ingest::list_batches(&state.platform, actor, &f).await {
            Ok(r) => r,
            Err(e) => return error_page(e),
        }
    };
    let rows = rows
        .into_iter()
        .map(|b| batch_line(&ui, &labels, b))
        .collect();
    render(BatchesPage {
        stores: in_scope
            .iter()
            .map(|s| (s.id.clone(), label(s, &ui.locale)))
            .collect(),
        can_import: actor.has_anywhere(perm::SALES_INGEST),
        rows,
        store_id: q.store_id,
        business_date: q.business_date,
        source: q.source,
        status: q.status,
        offset,
        limit: PAGE,
        total,
        ui,
    })
}

#[derive(askama::Template)]
#[template(path = "sales/batch.html")]
struct BatchPage {
    ui: Ui,
    b: Batch,
    store: String,
    status_label: String,
    mode_label: String,
    when: String,
    versions: Vec<BatchLine>,
    doc_link: bool,
}

impl BatchPage {
    fn money(&self, v: &i64) -> String {
        money(*v)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct BatchQuery {
    imported: Option<String>,
    replayed: Option<String>,
}

/// `GET /sales/batches/{id}`: one batch, its totals, the versions of its store-day and the
/// stock document of its recipe depletion.
pub async fn batch_detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<BatchQuery>,
) -> Response {
    let actor = &ctx.actor;
    let b = match ingest::get_batch(&state.platform, actor, &id).await {
        Ok(b) => b,
        Err(e) => return error_page(e),
    };
    let mut ui = ui(
        &state,
        scope_cookie(&parts),
        actor,
        "sales_batches",
        "sales.batch",
    )
    .await;
    let labels = store_labels(&state, actor, &ui.locale).await;
    let f = BatchFilter {
        store_id: Some(b.store_id.clone()),
        business_date: Some(b.business_date.clone()),
        source: Some(b.source.clone()),
        limit: Some(100),
        ..Default::default()
    };
    let versions = ingest::list_batches(&state.platform, actor, &f)
        .await
        .map(|(v, _)| v)
        .unwrap_or_default()
        .into_iter()
        .filter(|v| v.id != b.id)
        .map(|v| batch_line(&ui, &labels, v))
        .collect();
    if q.replayed.is_some() {
        ui.flash = Some(ui.t("sales.import.replayed"));
    } else if q.imported.is_some() {
        ui.flash = Some(crate::i18n::t_args(
            &ui.locale,
            "sales.import.done",
            &[
                ("tickets", &b.ticket_count.to_string()),
                ("lines", &b.line_count.to_string()),
                ("held", &b.held_count.to_string()),
            ],
        ));
    }
    // The document page is the inventory's: link it when the actor may read stock there.
    let store_path = org::fetch(&state.platform, &b.store_id)
        .await
        .ok()
        .flatten()
        .map(|n| n.path)
        .unwrap_or_default();
    render(BatchPage {
        store: labels
            .get(&b.store_id)
            .cloned()
            .unwrap_or_else(|| b.store_id.clone()),
        status_label: ui.t(&format!("sales.status.{}", b.status)),
        mode_label: ui.t(&format!("sales.mode.{}", b.mode)),
        when: short_time(&b.created_at),
        versions,
        doc_link: b.doc_id.is_some() && actor.allows(perm::INVENTORY_READ, &store_path),
        b,
        ui,
    })
}

// ---------------------------------------------------------------- import

pub struct ColumnLine {
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
    pub example: &'static str,
}

pub struct ErrorLine {
    pub row: String,
    pub column: String,
    pub message: String,
}

#[derive(askama::Template)]
#[template(path = "sales/import.html")]
struct ImportPage {
    ui: Ui,
    stores: Vec<(String, String)>,
    store_id: String,
    business_date: String,
    source: String,
    mode: String,
    columns: Vec<ColumnLine>,
    general: Option<String>,
    errors: Vec<ErrorLine>,
}

struct ImportForm {
    store_id: String,
    business_date: String,
    source: String,
    mode: String,
}

async fn import_page(
    state: &AppState,
    scope: Option<String>,
    actor: &Actor,
    form: ImportForm,
    general: Option<String>,
    errors: Vec<CsvError>,
) -> Result<ImportPage, Response> {
    if !actor.has_anywhere(perm::SALES_INGEST) {
        return Err(error_page(PlatformError::Forbidden(perm::SALES_INGEST)));
    }
    let ui = ui(
        state,
        scope.clone(),
        actor,
        "sales_import",
        "sales.import.title",
    )
    .await;
    let zh = ui.is_zh();
    let stores = stores(state, actor, scope, perm::SALES_INGEST)
        .await
        .iter()
        .map(|s| (s.id.clone(), label(s, &ui.locale)))
        .collect();
    let columns = sales_csv::COLUMNS
        .iter()
        .map(|c| ColumnLine {
            name: c.0,
            required: c.1 || c.0 == "pos_code",
            description: if zh { c.3 } else { c.2 },
            example: c.4,
        })
        .collect();
    let errors = errors
        .into_iter()
        .map(|e| ErrorLine {
            row: e.row.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
            column: if e.column.is_empty() {
                "—".into()
            } else {
                e.column
            },
            message: if zh {
                sales_csv::message_zh(&e.message)
            } else {
                e.message
            },
        })
        .collect();
    Ok(ImportPage {
        stores,
        store_id: form.store_id,
        business_date: form.business_date,
        source: form.source,
        mode: form.mode,
        columns,
        general,
        errors,
        ui,
    })
}

/// `GET /sales/import`: the upload form and the file's columns.
pub async fn import_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let form = ImportForm {
        store_id: String::new(),
        business_date: String::new(),
        source: "pos".into(),
        mode: "append".into(),
    };
    match import_page(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        form,
        None,
        Vec::new(),
    )
    .await
    {
        Ok(p) => render(p),
        Err(r) => r,
    }
}

/// `GET /sales/import/template.csv`: the columns with example tickets.
pub async fn template(PageActor(_ctx): PageActor) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"pos-sales-template.csv\"",
            ),
        ],
        sales_csv::template_csv(),
    )
        .into_response()
}

/// Most rows a store-day file may have (lines plus payment rows).
const MAX_ROWS: usize = 3 * ingest::MAX_LINES;

/// `POST /sales/import`: read the file, build the store-day's batch and ingest it. Every
/// problem comes back with its row and column, and nothing is written.
pub async fn import_upload(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let scope = scope_cookie(&parts);
    let mparts = match super::multipart_form(&state, &parts.headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let field = |name: &str| {
        mparts
            .iter()
            .find(|p| p.name == name && p.file_name.is_none())
            .map(upload::Part::text)
            .unwrap_or_default()
    };
    let form = ImportForm {
        store_id: field("store_id"),
        business_date: field("business_date"),
        source: field("source"),
        mode: field("mode"),
    };
    let file = mparts
        .iter()
        .find(|p| p.name == "file" && !p.data.is_empty())
        .cloned();
    let locale = crate::i18n::normalise(&ctx.actor.locale).to_string();
    match import_file(&state, &ctx, &form, file.as_ref()).await {
        Ok(done) => {
            let flag = if done.replayed {
                "replayed"
            } else {
                "imported"
            };
            Redirect::to(&format!("/sales/batches/{}?{flag}=1", done.batch.id)).into_response()
        }
        Err(Problem::Page(r)) => r,
        Err(Problem::Rows(general, errors)) => {
            let general = crate::i18n::t(&locale, general);
            match import_page(&state, scope, &ctx.actor, form, Some(general), errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response(),
                Err(r) => r,
            }
        }
    }
}

enum Problem {
    /// Row and column errors, under a general message key.
    Rows(&'static str, Vec<CsvError>),
    Page(Response),
}

fn one(column: &str, message: impl Into<String>) -> Vec<CsvError> {
    vec![CsvError {
        row: None,
        column: column.to_string(),
        message: message.into(),
    }]
}

async fn import_file(
    state: &AppState,
    ctx: &Ctx,
    form: &ImportForm,
    file: Option<&upload::Part>,
) -> Result<ingest::Ingested, Problem> {
    let p = &state.platform;
    let mut errors = Vec::new();
    let store = match boh_sales::store(p, &ctx.actor, perm::SALES_INGEST, &form.store_id).await {
        Ok(s) => Some(s),
        Err(PlatformError::NotFound) => {
            errors.extend(one("store_id", "no such store"));
            None
        }
        Err(PlatformError::Forbidden(_)) => {
            errors.extend(one("store_id", "you may not import sales for this store"));
            None
        }
        Err(e) => return Err(Problem::Page(error_page(e))),
    };
    let date = form.business_date.parse::<jiff::civil::Date>().ok();
    if date.is_none() {
        errors.extend(one("business_date", "must be a date as YYYY-MM-DD"));
    }
    let source = form.source.trim().to_string();
    let source_ok = !source.is_empty()
        && source.len() <= 40
        && source
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if !source_ok {
        errors.extend(one("source", "must be 1 to 40 of a-z, 0-9, _ and -"));
    }
    let mode = match form.mode.as_str() {
        "" | "append" => Mode::Append,
        "replace" => Mode::Replace,
        _ => {
            errors.extend(one("mode", "must be append or replace"));
            Mode::Append
        }
    };
    if file.is_none() {
        errors.extend(one("file", "choose a CSV or XLSX file"));
    }
    let (Some(store), Some(date), Some(file), true) = (store, date, file, errors.is_empty()) else {
        return Err(Problem::Rows("sales.import.form_errors", errors));
    };
    let name = file
        .file_name
        .clone()
        .unwrap_or_else(|| "upload.csv".into());
    let limits = Limits {
        max_rows: MAX_ROWS,
        max_columns: 40,
        max_cell_chars: 1_000,
        ..Limits::default()
    };
    let table = match sheet::read(
        &file.data,
        &Source {
            file_name: Some(&name),
            content_type: file.content_type.as_deref(),
            sheet: None,
        },
        &limits,
    ) {
        Ok(t) => t,
        Err(e) => {
            return Err(Problem::Rows(
                "sales.import.file_refused",
                one("file", e.to_string()),
            ));
        }
    };
    // The batch key: the file, the store, the day and the source; the same file again is
    // the same batch and changes nothing.
    let mut keyed = file.data.to_vec();
    keyed.extend_from_slice(format!("\n{}\n{date}\n{source}", store.id).as_bytes());
    let day = sales_csv::Day {
        store_id: &store.id,
        timezone: &store.timezone,
        source: &source,
        business_date: date,
        mode,
        batch_key: format!("csv-{}", boh_platform::util::sha256_hex(&keyed)),
    };
    let parsed =
        sales_csv::parse(&table, &day).map_err(|e| Problem::Rows("sales.import.row_errors", e))?;
    match ingest::ingest(p, ctx, &parsed.input).await {
        Ok(done) => Ok(done),
        Err(PlatformError::Validation(fields)) => {
            let errors = fields
                .into_iter()
                .map(|f| {
                    let (row, column) = parsed.origins.locate(&f.field);
                    CsvError {
                        row,
                        column,
                        message: f.message,
                    }
                })
                .collect();
            Err(Problem::Rows("sales.import.row_errors", errors))
        }
        Err(PlatformError::IdempotencyMismatch) => Err(Problem::Rows(
            "sales.import.form_errors",
            one(
                "mode",
                "this file was imported for this store-day before in the other mode",
            ),
        )),
        Err(e) => Err(Problem::Page(error_page(e))),
    }
}

// ---------------------------------------------------------------- unmapped codes

pub struct UnmappedLine {
    pub u: mapping::Unmapped,
    pub held_qty: String,
    pub held_net: String,
    pub last_seen: String,
    pub error: Option<String>,
    pub item: String,
}

#[derive(askama::Template)]
#[template(path = "sales/unmapped.html")]
struct UnmappedPage {
    ui: Ui,
    rows: Vec<UnmappedLine>,
    status: String,
    can_map: bool,
    item_options: Vec<(String, String)>,
    offset: i64,
    limit: i64,
    total: i64,
}

impl UnmappedPage {
    fn showing(&self) -> String {
        showing(&self.ui, self.offset, self.limit, self.total)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.limit).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + self.limit < self.total).then_some(self.offset + self.limit)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct UnmappedQuery {
    #[serde(default)]
    pub status: String,
    pub offset: Option<i64>,
    pub mapped: Option<String>,
    pub lines: Option<i64>,
}

/// Active items of the actor's company for the item picker: (code, name).
async fn item_options(state: &AppState, actor: &Actor, locale: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut offset = 0;
    loop {
        let f = ItemFilter {
            limit: Some(500),
            offset: Some(offset),
            ..ItemFilter::default()
        };
        let Ok((items, total)) = catalog::list_items(&state.platform, actor, &f).await else {
            break;
        };
        let n = items.len() as i64;
        out.extend(items.into_iter().map(|i| {
            let pos = i
                .pos_code
                .as_deref()
                .map(|c| format!(" · POS {c}"))
                .unwrap_or_default();
            (i.code.clone(), format!("{}{pos}", i.name(locale)))
        }));
        offset += n;
        if n == 0 || offset >= total {
            break;
        }
    }
    out
}

async fn unmapped_page(
    state: &AppState,
    scope: Option<String>,
    actor: &Actor,
    q: &UnmappedQuery,
    failed: Option<(String, String, String, String)>,
) -> Result<UnmappedPage, Response> {
    if !actor.has_anywhere(perm::SALES_READ) && !actor.has_anywhere(perm::SALES_MAP) {
        return Err(error_page(PlatformError::Forbidden(perm::SALES_READ)));
    }
    let mut ui = ui(state, scope, actor, "sales_unmapped", "sales.unmapped").await;
    let offset = q.offset.unwrap_or(0).max(0);
    let f = UnmappedFilter {
        status: Some(if q.status.is_empty() {
            "open".into()
        } else {
            q.status.clone()
        }),
        source: None,
        limit: Some(PAGE),
        offset: Some(offset),
    };
    let (list, total) = mapping::list_unmapped(&state.platform, actor, &f)
        .await
        .map_err(error_page)?;
    let can_map = actor
        .company_id
        .as_deref()
        .is_some_and(|c| actor.allows(perm::SALES_MAP, &boh_inventory::company_path(c)));
    let rows = list
        .into_iter()
        .map(|u| {
            let (error, item) = match &failed {
                Some((src, code, item, msg)) if *src == u.source && *code == u.pos_code => {
                    (Some(msg.clone()), item.clone())
                }
                _ => (None, String::new()),
            };
            UnmappedLine {
                held_qty: u.held_qty.to_text(),
                held_net: money(u.held_net),
                last_seen: short_time(&u.last_seen_at),
                error,
                item,
                u,
            }
        })
        .collect();
    if let (Some(code), Some(n)) = (&q.mapped, q.lines) {
        ui.flash = Some(crate::i18n::t_args(
            &ui.locale,
            "sales.mapped_flash",
            &[("code", code), ("lines", &n.to_string())],
        ));
    }
    Ok(UnmappedPage {
        item_options: if can_map {
            item_options(state, actor, &ui.locale).await
        } else {
            Vec::new()
        },
        rows,
        status: q.status.clone(),
        can_map,
        offset,
        limit: PAGE,
        total,
        ui,
    })
}

/// `GET /sales/unmapped`: the queue of POS codes with no item, most money waiting first.
pub async fn unmapped(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<UnmappedQuery>,
) -> Response {
    match unmapped_page(&state, scope_cookie(&parts), &ctx.actor, &q, None).await {
        Ok(p) => render(p),
        Err(r) => r,
    }
}

#[derive(Debug, Deserialize)]
pub struct MapForm {
    #[serde(default, rename = "_csrf")]
    pub _csrf: String,
    pub source: String,
    pub pos_code: String,
    /// The item's code (from the picker).
    #[serde(default)]
    pub item: String,
}

/// `POST /sales/unmapped`: map a code to the picked item; its held lines are processed.
pub async fn map(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(f): Form<MapForm>,
) -> Response {
    let p = &state.platform;
    let locale = crate::i18n::normalise(&ctx.actor.locale).to_string();
    let code = f.item.split_whitespace().next().unwrap_or("").to_string();
    let item = match &ctx.actor.company_id {
        Some(company) if !code.is_empty() => catalog::find_item_by_code(p, company, &code)
            .await
            .ok()
            .flatten(),
        _ => None,
    };
    let result: Result<(), String> = match item {
        None => Err(crate::i18n::t(&locale, "sales.pick_item")),
        Some(item) => {
            let input = MappingInput {
                source: f.source.clone(),
                pos_code: f.pos_code.clone(),
                item_id: item.id,
            };
            match mapping::map_code(p, &ctx, &input).await {
                Ok(done) => {
                    return Redirect::to(&format!(
                        "/sales/unmapped?mapped={}&lines={}",
                        enc(&done.mapping.pos_code),
                        done.processed_lines
                    ))
                    .into_response();
                }
                Err(PlatformError::Validation(fields)) => Err(fields
                    .iter()
                    .map(|x| crate::i18n::field_message(&locale, &x.message))
                    .collect::<Vec<_>>()
                    .join("; ")),
                Err(PlatformError::Conflict { message, .. }) => {
                    Err(crate::i18n::field_message(&locale, &message))
                }
                Err(PlatformError::Refused { message, .. }) => {
                    Err(crate::i18n::field_message(&locale, &message))
                }
                Err(e) => return error_page(e),
            }
        }
    };
    let msg = result.err().unwrap_or_default();
    let q = UnmappedQuery::default();
    match unmapped_page(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        &q,
        Some((f.source, f.pos_code, f.item, msg)),
    )
    .await
    {
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response(),
        Err(r) => r,
    }
}

// ---------------------------------------------------------------- mappings

#[derive(askama::Template)]
#[template(path = "sales/mappings.html")]
struct MappingsPage {
    ui: Ui,
    rows: Vec<(mapping::Mapping, String, String)>,
    offset: i64,
    limit: i64,
    total: i64,
}

impl MappingsPage {
    fn showing(&self) -> String {
        showing(&self.ui, self.offset, self.limit, self.total)
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - self.limit).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + self.limit < self.total).then_some(self.offset + self.limit)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct MappingsQuery {
    pub offset: Option<i64>,
}

/// `GET /sales/mappings`: the company's POS code mappings.
pub async fn mappings(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<MappingsQuery>,
) -> Response {
    let actor = &ctx.actor;
    if !actor.has_anywhere(perm::SALES_READ) {
        return error_page(PlatformError::Forbidden(perm::SALES_READ));
    }
    let ui = ui(
        &state,
        scope_cookie(&parts),
        actor,
        "sales_mappings",
        "sales.mappings",
    )
    .await;
    let offset = q.offset.unwrap_or(0).max(0);
    let f = MappingFilter {
        source: None,
        limit: Some(PAGE),
        offset: Some(offset),
    };
    let (list, total) = match mapping::list_mappings(&state.platform, actor, &f).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let zh = ui.is_zh();
    let rows = list
        .into_iter()
        .map(|m| {
            let name = if zh || m.item_name_en.is_empty() {
                m.item_name_zh.clone()
            } else {
                m.item_name_en.clone()
            };
            let when = short_time(&m.created_at);
            (m, name, when)
        })
        .collect();
    render(MappingsPage {
        rows,
        offset,
        limit: PAGE,
        total,
        ui,
    })
}
