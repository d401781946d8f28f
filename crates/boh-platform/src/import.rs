//! Master-data imports from CSV and XLSX, for every module.
//!
//! A module registers an [`Importer`] under a kind (`"stores"`, later `"items"`,
//! `"suppliers"`, …) in [`Platform::importers`]. The importer declares its columns
//! ([`Spec`]) and turns a whole [`Table`] into a [`Plan`]: every bad row and column at once,
//! the counts of records it would create / update / leave unchanged, and the [`Changes`] to
//! write. The framework does the rest, the same way for every kind:
//!
//! - **Files** are read by [`crate::sheet::read`] with the limits in [`Settings`]; headers are
//!   checked against the spec (unknown columns and missing required ones are errors).
//! - **Dry run** ([`dry_run`]): plan, report, write nothing.
//! - **Apply** ([`submit`]): files of at most [`Settings::sync_max_rows`] data rows (default
//!   5,000) are planned and applied during the request; larger ones are stored and applied by
//!   a durable job ([`JOB_KIND`]) whose progress shows on the jobs page and API. Either way
//!   the changes, the import record with the uploaded file, the audit rows of the changed
//!   records and the idempotency key ([`crate::idem::record`]) commit in ONE transaction:
//!   all or nothing. Upserts are by key, so the same file twice changes nothing the second
//!   time (no new records, no audit rows for unchanged ones; the report says so).
//! - **Check, then apply** ([`check`], [`apply_checked`]): the web page stores the file as a
//!   checked import (no business data written) so that the user can apply it after reading
//!   the report, without uploading again.
//! - **Scope**: the actor must hold one of the importer's permissions somewhere (else
//!   `Forbidden`); the importer resolves references inside the actor's scope, so a record
//!   outside it is a row error "not found". A job acts with the grants its user held when
//!   submitting (re-read, so a revoked grant is gone).
//! - **Cost**: planning reads in bulk (one query per referenced table, never per row) and the
//!   changes are written with multi-row statements ([`crate::audit::append_many`],
//!   [`crate::events::emit_many`]), so the per-row cost is memory and CPU only.
//!
//! Plans are made from reads outside the write transaction; changes must therefore guard
//! against concurrent edits (updates compare versions, inserts rely on unique keys). A
//! conflict rolls everything back (409, or a retried job).

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use boh_db::Row;
use boh_kernel::{Actor, Instant, new_id, now, perm};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::AnyConnection;

use crate::audit::{self, Change};
use crate::idem::IdemKey;
use crate::jobs::{self, Job, Progress};
use crate::sheet::{self, Cell, Format, Sheet, Table};
use crate::{Ctx, FieldError, Platform, PlatformError, Result};

/// The job kind that applies large imports.
pub const JOB_KIND: &str = "import.apply";

/// At most this many row errors are reported; the rest are counted in a last entry.
pub const MAX_ERRORS: usize = 1000;

/// A boxed future, as importers return them.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Limits and thresholds of imports.
#[derive(Debug, Clone)]
pub struct Settings {
    /// File limits (size, rows, columns, archive checks).
    pub limits: sheet::Limits,
    /// Files with at most this many data rows are applied during the request (201); larger
    /// ones run as a job (202). At 5,000 rows a stores import takes about 0.4 s on SQLite and
    /// 2 s on PostgreSQL (release build), so the request stays short.
    pub sync_max_rows: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            limits: sheet::Limits::default(),
            sync_max_rows: 5_000,
        }
    }
}

// ---------------------------------------------------------------- what importers declare

/// One column of an import file.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Column {
    /// The header name (normalised: lowercase, `_` for spaces).
    pub name: &'static str,
    pub required: bool,
    pub description: &'static str,
    pub description_zh: &'static str,
    pub example: &'static str,
}

/// What an importer imports.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Spec {
    pub kind: &'static str,
    pub title: &'static str,
    pub title_zh: &'static str,
    /// The actor must hold one of these somewhere to import at all.
    pub permissions: &'static [&'static str],
    /// The column records are matched by (upsert key).
    pub key: &'static str,
    pub columns: &'static [Column],
}

impl Spec {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One problem with an import file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RowError {
    /// The 1-based spreadsheet row, when the problem is in a row.
    pub row: Option<u32>,
    /// The column (header name), when the problem is in a column.
    pub column: Option<String>,
    pub message: String,
}

impl RowError {
    /// The error field as the API envelope names it: `row 3, column latitude`.
    pub fn field(&self) -> String {
        sheet::location(self.row, self.column.as_deref())
    }

    pub fn from_field(f: &FieldError) -> RowError {
        let (row, column) = sheet::parse_location(&f.field);
        RowError {
            row,
            column,
            message: f.message.clone(),
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field(), self.message)
    }
}

/// Errors collected while planning: every one up to [`MAX_ERRORS`], then only counted.
#[derive(Debug, Default, Clone)]
pub struct RowErrors {
    list: Vec<RowError>,
    more: usize,
}

impl RowErrors {
    fn add(&mut self, e: RowError) {
        if self.list.len() < MAX_ERRORS {
            self.list.push(e);
        } else {
            self.more += 1;
        }
    }

    /// A problem in one cell.
    pub fn push(&mut self, row: u32, column: &str, message: impl Into<String>) {
        self.add(RowError {
            row: Some(row),
            column: Some(column.to_string()),
            message: message.into(),
        });
    }

    /// A problem with a whole row.
    pub fn push_row(&mut self, row: u32, message: impl Into<String>) {
        self.add(RowError {
            row: Some(row),
            column: None,
            message: message.into(),
        });
    }

    /// A problem with the file as a whole.
    pub fn push_file(&mut self, message: impl Into<String>) {
        self.add(RowError {
            row: None,
            column: None,
            message: message.into(),
        });
    }

    /// Field errors of a shared validation (`org::new_node`, …) for one row; `column` maps a
    /// field name to the file's column.
    pub fn push_fields(
        &mut self,
        row: u32,
        fields: Vec<FieldError>,
        column: impl Fn(&str) -> String,
    ) {
        for f in fields {
            self.push(row, &column(&f.field), f.message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty() && self.more == 0
    }

    /// Order the listed errors by row (file errors first), keeping the order within a row;
    /// for importers that check a file in several passes.
    pub fn sort_by_row(&mut self) {
        self.list.sort_by_key(|e| e.row.unwrap_or(0));
    }

    /// How many problems were found (listed or not).
    pub fn count(&self) -> usize {
        self.list.len() + self.more
    }

    /// The listed errors, with a last entry counting the unlisted ones.
    pub fn into_list(self) -> Vec<RowError> {
        let mut list = self.list;
        if self.more > 0 {
            list.push(RowError {
                row: None,
                column: None,
                message: format!("{} more errors are not listed", self.more),
            });
        }
        list
    }

    pub fn into_validation(self) -> PlatformError {
        PlatformError::Validation(
            self.into_list()
                .iter()
                .map(|e| FieldError::new(&e.field(), e.message.clone()))
                .collect(),
        )
    }
}

/// What planning needs: the platform (for bulk reads), the actor (for scope), and a way to
/// report progress on long files.
pub struct PlanCtx<'a> {
    pub platform: &'a Platform,
    pub actor: &'a Actor,
    progress: &'a (dyn Fn(usize) + Send + Sync),
}

impl PlanCtx<'_> {
    /// Report that `rows` rows have been checked (call it every thousand rows or so).
    pub fn progress(&self, rows: usize) {
        (self.progress)(rows);
    }
}

/// The writes a plan makes, applied inside the import's transaction.
pub trait Changes: Send + Sync {
    /// Write everything, with multi-row statements; guard against concurrent edits (compare
    /// versions, rely on unique keys). May run more than once (transaction retries).
    fn apply<'a>(&'a self, tx: &'a mut AnyConnection, ctx: &'a Ctx) -> BoxFuture<'a, Result<()>>;
}

/// Changes that write nothing (a plan with errors, or an import that changes nothing).
pub struct NoChanges;

impl Changes for NoChanges {
    fn apply<'a>(&'a self, _: &'a mut AnyConnection, _: &'a Ctx) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// What an importer decided about a file.
pub struct Plan {
    pub errors: RowErrors,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub changes: Box<dyn Changes>,
}

impl Plan {
    /// A plan that only reports errors.
    pub fn rejected(errors: RowErrors) -> Plan {
        Plan {
            errors,
            created: 0,
            updated: 0,
            unchanged: 0,
            changes: Box::new(NoChanges),
        }
    }
}

/// An importer for one kind of record. Implement it in the module that owns the records and
/// register it at start-up (`platform.importers.register(Arc::new(MyImporter))`).
pub trait Importer: Send + Sync {
    fn spec(&self) -> &'static Spec;

    /// Check every row of `table` (its headers already match the spec) and work out the
    /// changes. Read in bulk through `cx.platform` (one query per table, not per row), resolve
    /// references inside `cx.actor`'s scope (out of scope = "not found"), report every
    /// problem with its row and column, write nothing.
    fn plan<'a>(&'a self, cx: &'a PlanCtx<'a>, table: &'a Table) -> BoxFuture<'a, Result<Plan>>;
}

/// The importers by kind.
#[derive(Default)]
pub struct Registry {
    importers: RwLock<BTreeMap<&'static str, Arc<dyn Importer>>>,
}

impl Registry {
    pub fn register(&self, importer: Arc<dyn Importer>) {
        if let Ok(mut m) = self.importers.write() {
            m.insert(importer.spec().kind, importer);
        }
    }

    pub fn get(&self, kind: &str) -> Option<Arc<dyn Importer>> {
        self.importers.read().ok()?.get(kind).cloned()
    }

    /// Every registered spec, by kind.
    pub fn specs(&self) -> Vec<&'static Spec> {
        self.importers
            .read()
            .map(|m| m.values().map(|i| i.spec()).collect())
            .unwrap_or_default()
    }
}

fn may_use(actor: &Actor, spec: &Spec) -> bool {
    spec.permissions.iter().any(|p| actor.has_anywhere(p))
}

/// The importer of `kind`, if the actor may use it: `NotFound` for an unknown kind,
/// `Forbidden` when the actor holds none of its permissions.
pub fn importer(p: &Platform, actor: &Actor, kind: &str) -> Result<Arc<dyn Importer>> {
    let imp = p.importers.get(kind).ok_or(PlatformError::NotFound)?;
    let spec = imp.spec();
    if !may_use(actor, spec) {
        return Err(PlatformError::Forbidden(
            spec.permissions
                .first()
                .copied()
                .unwrap_or(perm::ORG_UPDATE),
        ));
    }
    Ok(imp)
}

/// The specs of the importers the actor may use.
pub fn specs_for(p: &Platform, actor: &Actor) -> Vec<&'static Spec> {
    p.importers
        .specs()
        .into_iter()
        .filter(|s| may_use(actor, s))
        .collect()
}

/// The column template of a kind: a sheet with the header row only.
pub fn template(p: &Platform, actor: &Actor, kind: &str) -> Result<Sheet> {
    let spec = importer(p, actor, kind)?.spec();
    Ok(Sheet {
        name: spec.title.to_string(),
        headers: spec.columns.iter().map(|c| c.name.to_string()).collect(),
        rows: Vec::new(),
    })
}

// ---------------------------------------------------------------- uploads and records

/// An uploaded file to import.
#[derive(Debug, Clone)]
pub struct Upload {
    pub kind: String,
    pub file_name: String,
    pub content_type: Option<String>,
    /// XLSX: the sheet to read (the first one when `None`).
    pub sheet: Option<String>,
    pub bytes: Vec<u8>,
}

impl Upload {
    /// The idempotency key of this upload: the same key with another file (or kind, name or
    /// sheet) is a mismatch. The raw request body is not used, since multipart boundaries
    /// differ between retries of the same upload.
    pub fn idem_key(&self, key: &str) -> Result<IdemKey> {
        let mut ident = Vec::with_capacity(self.bytes.len() + 64);
        ident.extend_from_slice(self.file_name.as_bytes());
        ident.push(0);
        ident.extend_from_slice(self.sheet.as_deref().unwrap_or("").as_bytes());
        ident.push(0);
        ident.extend_from_slice(&self.bytes);
        IdemKey::new(key, &format!("import:{}", self.kind), &ident)
    }

    fn source(&self) -> sheet::Source<'_> {
        sheet::Source {
            file_name: Some(&self.file_name),
            content_type: self.content_type.as_deref(),
            sheet: self.sheet.as_deref(),
        }
    }
}

/// An import as the API reports it: a dry run's report, or a stored import.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Import {
    /// `null` for a dry run, which stores nothing.
    pub id: Option<String>,
    pub kind: String,
    pub file_name: String,
    pub format: Format,
    /// The XLSX sheet read.
    pub sheet: Option<String>,
    pub size_bytes: i64,
    /// dry_run, checked, queued, running, applied or failed
    pub status: String,
    /// Data rows in the file.
    pub rows: i64,
    /// Records created (or, before applying, that would be created).
    pub created: i64,
    pub updated: i64,
    pub unchanged: i64,
    /// Every problem found (at most 1,000 listed), when the import failed.
    pub errors: Vec<RowError>,
    /// The job applying a large import.
    pub job_id: Option<String>,
    pub created_by: String,
    pub created_by_name: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    #[serde(skip)]
    pub org_path: String,
}

impl Import {
    pub fn is_finished(&self) -> bool {
        matches!(self.status.as_str(), "applied" | "failed" | "dry_run")
    }
}

/// The outcome of [`submit`] and [`apply_checked`].
#[derive(Debug, Clone)]
pub enum Submitted {
    /// Applied during the request (201).
    Applied(Import),
    /// Stored and queued as a job (202).
    Queued(Import),
}

impl Submitted {
    pub fn import(&self) -> &Import {
        match self {
            Submitted::Applied(i) | Submitted::Queued(i) => i,
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Submitted::Applied(_) => 201,
            Submitted::Queued(_) => 202,
        }
    }

    /// The response body, as stored with the idempotency key.
    pub fn body(&self) -> String {
        serde_json::to_string(self.import()).unwrap_or_else(|_| "{}".into())
    }
}

/// The subtree an import belongs to (who besides its author may read it): the common
/// ancestor of the actor's grants that allow the importer.
fn scope_root(actor: &Actor, spec: &Spec) -> String {
    let mut prefixes: Vec<String> = Vec::new();
    for p in spec.permissions {
        prefixes.extend(actor.scope(p).prefixes);
    }
    let Some(first) = prefixes.first() else {
        return "/".into();
    };
    let mut common: Vec<&str> = first.trim_matches('/').split('/').collect();
    for p in &prefixes[1..] {
        let segs: Vec<&str> = p.trim_matches('/').split('/').collect();
        let n = common
            .iter()
            .zip(segs.iter())
            .take_while(|(a, b)| a == b)
            .count();
        common.truncate(n);
    }
    let common: Vec<&str> = common.into_iter().filter(|s| !s.is_empty()).collect();
    if common.is_empty() {
        "/".into()
    } else {
        format!("/{}/", common.join("/"))
    }
}

/// A client's file name as we keep it: no control characters, at most 200 characters.
fn clean_file_name(name: &str) -> String {
    let cleaned: String = name.chars().filter(|c| !c.is_control()).take(200).collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() {
        "upload".into()
    } else {
        trimmed.to_string()
    }
}

fn new_record(ctx: &Ctx, spec: &Spec, upload: &Upload, table: &Table, status: &str) -> Import {
    Import {
        id: Some(new_id()),
        kind: spec.kind.to_string(),
        file_name: clean_file_name(&upload.file_name),
        format: table.format,
        sheet: table.sheet.clone(),
        size_bytes: i64::try_from(upload.bytes.len()).unwrap_or(i64::MAX),
        status: status.to_string(),
        rows: count(table.len()),
        created: 0,
        updated: 0,
        unchanged: 0,
        errors: Vec::new(),
        job_id: None,
        created_by: ctx.actor.user_id.clone(),
        created_by_name: ctx.actor.display_name.clone(),
        created_at: now().rfc3339(),
        finished_at: None,
        org_path: scope_root(&ctx.actor, spec),
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn set_counts(rec: &mut Import, plan: &Plan) {
    rec.created = count(plan.created);
    rec.updated = count(plan.updated);
    rec.unchanged = count(plan.unchanged);
}

const COLS: &str = "id, kind, file_name, format, sheet, size_bytes, status, total_rows, created_count, \
    updated_count, unchanged_count, errors, job_id, org_path, created_by, created_by_name, created_at, finished_at";

fn record_from_row(r: &boh_db::AnyRow) -> Result<Import> {
    let errors: String = r.try_get("errors")?;
    let format: String = r.try_get("format")?;
    let finished: Option<i64> = r.try_get("finished_at")?;
    Ok(Import {
        id: Some(r.try_get("id")?),
        kind: r.try_get("kind")?,
        file_name: r.try_get("file_name")?,
        format: if format == "xlsx" {
            Format::Xlsx
        } else {
            Format::Csv
        },
        sheet: r.try_get("sheet")?,
        size_bytes: r.try_get("size_bytes")?,
        status: r.try_get("status")?,
        rows: r.try_get("total_rows")?,
        created: r.try_get("created_count")?,
        updated: r.try_get("updated_count")?,
        unchanged: r.try_get("unchanged_count")?,
        errors: serde_json::from_str(&errors).unwrap_or_default(),
        job_id: r.try_get("job_id")?,
        created_by: r.try_get("created_by")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: Instant(r.try_get("created_at")?).rfc3339(),
        finished_at: finished.map(|t| Instant(t).rfc3339()),
        org_path: r.try_get("org_path")?,
    })
}

fn grant_ids(actor: &Actor) -> String {
    serde_json::to_string(&actor.grants.iter().map(|g| &g.grant_id).collect::<Vec<_>>())
        .unwrap_or_else(|_| "[]".into())
}

/// Store a new import record with its file.
async fn insert_record(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    rec: &Import,
    upload: &Upload,
) -> Result<()> {
    let t = now().micros();
    let id = rec.id.as_deref().unwrap_or_default();
    let finished = rec.is_finished().then_some(t);
    sqlx::query(
        "INSERT INTO imports (id, kind, file_name, format, sheet, size_bytes, status, total_rows, \
         created_count, updated_count, unchanged_count, errors, job_id, org_path, grant_ids, created_by, \
         created_by_name, ip, request_id, created_at, updated_at, finished_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$20,$21)",
    )
    .bind(id)
    .bind(&rec.kind)
    .bind(&rec.file_name)
    .bind(rec.format.as_str())
    .bind(rec.sheet.as_deref())
    .bind(rec.size_bytes)
    .bind(&rec.status)
    .bind(rec.rows)
    .bind(rec.created)
    .bind(rec.updated)
    .bind(rec.unchanged)
    .bind(serde_json::to_string(&rec.errors).unwrap_or_else(|_| "[]".into()))
    .bind(rec.job_id.as_deref())
    .bind(&rec.org_path)
    .bind(grant_ids(&ctx.actor))
    .bind(&rec.created_by)
    .bind(&rec.created_by_name)
    .bind(ctx.ip.as_deref())
    .bind(ctx.request_id.as_deref())
    .bind(t)
    .bind(finished)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO import_files (import_id, content_type, sheet, data) VALUES ($1,$2,$3,$4)",
    )
    .bind(id)
    .bind(upload.content_type.as_deref())
    .bind(upload.sheet.as_deref())
    .bind(upload.bytes.as_slice())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Record the outcome of an import: status, counts, errors. With `from`, only if the record
/// is still in that status (compare-and-set); answers whether it was changed.
async fn set_outcome(tx: &mut AnyConnection, rec: &Import, from: Option<&str>) -> Result<bool> {
    let t = now().micros();
    let finished = rec.is_finished().then_some(t);
    let done = sqlx::query(
        "UPDATE imports SET status = $1, created_count = $2, updated_count = $3, unchanged_count = $4, \
         errors = $5, job_id = $6, updated_at = $7, finished_at = $8 \
         WHERE id = $9 AND ($10 = '' OR status = $10)",
    )
    .bind(&rec.status)
    .bind(rec.created)
    .bind(rec.updated)
    .bind(rec.unchanged)
    .bind(serde_json::to_string(&rec.errors).unwrap_or_else(|_| "[]".into()))
    .bind(rec.job_id.as_deref())
    .bind(t)
    .bind(finished)
    .bind(rec.id.as_deref().unwrap_or_default())
    .bind(from.unwrap_or(""))
    .execute(&mut *tx)
    .await?;
    Ok(done.rows_affected() > 0)
}

async fn set_outcome_alone(p: &Platform, rec: &Import) -> Result<()> {
    crate::tx!(p.db, tx, {
        set_outcome(tx, rec, None).await?;
        Ok::<_, PlatformError>(())
    })
}

/// The audit row of an applied import that changed something.
async fn audit_import(tx: &mut AnyConnection, ctx: &Ctx, rec: &Import) -> Result<()> {
    if rec.created + rec.updated == 0 {
        return Ok(());
    }
    let id = rec.id.clone().unwrap_or_default();
    audit::append(
        tx,
        ctx,
        Change {
            action: "import.apply",
            entity_type: "import",
            entity_id: &id,
            org_path: Some(&rec.org_path),
            before: None,
            after: Some(json!({
                "kind": rec.kind, "file_name": rec.file_name, "rows": rec.rows,
                "created": rec.created, "updated": rec.updated, "unchanged": rec.unchanged,
            })),
        },
    )
    .await
}

// ---------------------------------------------------------------- the steps

fn parse(p: &Platform, upload: &Upload) -> Result<Table> {
    Ok(sheet::read(
        &upload.bytes,
        &upload.source(),
        &p.settings.imports.limits,
    )?)
}

/// Unknown columns and missing required ones, all at once.
fn check_headers(spec: &Spec, table: &Table) -> Result<()> {
    let mut errors = RowErrors::default();
    for h in &table.headers {
        if spec.column(h).is_none() {
            errors.add(RowError {
                row: None,
                column: Some(h.clone()),
                message: format!(
                    "unknown column; the columns are {}",
                    spec.columns
                        .iter()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
    }
    for c in spec.columns.iter().filter(|c| c.required) {
        if !table.has(c.name) {
            errors.add(RowError {
                row: None,
                column: Some(c.name.to_string()),
                message: "this column is required".into(),
            });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.into_validation())
    }
}

async fn make_plan(
    p: &Platform,
    actor: &Actor,
    imp: &dyn Importer,
    table: &Table,
    progress: &(dyn Fn(usize) + Send + Sync),
) -> Result<Plan> {
    check_headers(imp.spec(), table)?;
    let cx = PlanCtx {
        platform: p,
        actor,
        progress,
    };
    imp.plan(&cx, table).await
}

fn no_progress(_: usize) {}

/// Check a file and report what importing it would do. Writes nothing. Row errors are
/// `Validation` errors naming `row N, column X`.
pub async fn dry_run(p: &Platform, actor: &Actor, upload: &Upload) -> Result<Import> {
    let imp = importer(p, actor, &upload.kind)?;
    let table = parse(p, upload)?;
    let plan = make_plan(p, actor, imp.as_ref(), &table, &no_progress).await?;
    if !plan.errors.is_empty() {
        return Err(plan.errors.into_validation());
    }
    let mut rec = new_record(
        &Ctx::new(actor.clone()),
        imp.spec(),
        upload,
        &table,
        "dry_run",
    );
    rec.id = None;
    set_counts(&mut rec, &plan);
    Ok(rec)
}

/// Apply a file: during the request when it is small (all or nothing; row errors are
/// `Validation` errors and nothing is written), otherwise stored and queued as a job. The
/// request's idempotency key commits with the effect.
pub async fn submit(p: &Platform, ctx: &Ctx, upload: &Upload) -> Result<Submitted> {
    let imp = importer(p, &ctx.actor, &upload.kind)?;
    let table = parse(p, upload)?;
    if table.len() > p.settings.imports.sync_max_rows {
        check_headers(imp.spec(), &table)?;
        let rec = new_record(ctx, imp.spec(), upload, &table, "queued");
        return enqueue(p, ctx, rec, Some(upload)).await;
    }
    let plan = make_plan(p, &ctx.actor, imp.as_ref(), &table, &no_progress).await?;
    if !plan.errors.is_empty() {
        return Err(plan.errors.into_validation());
    }
    let mut rec = new_record(ctx, imp.spec(), upload, &table, "applied");
    set_counts(&mut rec, &plan);
    rec.finished_at = Some(now().rfc3339());
    let done = Submitted::Applied(rec);
    let body = done.body();
    crate::tx!(p.db, tx, {
        plan.changes.apply(tx, ctx).await?;
        insert_record(tx, ctx, done.import(), upload).await?;
        audit_import(tx, ctx, done.import()).await?;
        crate::idem::record(tx, ctx, 201, &body).await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(done)
}

/// Queue a stored (or to-be-stored) import as a job, with the idempotency key.
async fn enqueue(
    p: &Platform,
    ctx: &Ctx,
    rec: Import,
    new_file: Option<&Upload>,
) -> Result<Submitted> {
    crate::tx!(p.db, tx, {
        let mut rec = rec.clone();
        let id = rec.id.clone().unwrap_or_default();
        let job_id = jobs::enqueue_tx(
            tx,
            JOB_KIND,
            &json!({ "import_id": id }),
            Some(&rec.org_path),
            Some(&ctx.actor.user_id),
        )
        .await?;
        rec.job_id = Some(job_id);
        rec.status = "queued".into();
        match new_file {
            Some(upload) => insert_record(tx, ctx, &rec, upload).await?,
            None => {
                if !set_outcome(tx, &rec, Some("checked")).await? {
                    return Err(PlatformError::Conflict {
                        field: None,
                        message: "the import was applied already".into(),
                    });
                }
            }
        }
        let done = Submitted::Queued(rec);
        crate::idem::record(tx, ctx, 202, &done.body()).await?;
        Ok::<_, PlatformError>(done)
    })
}

/// Check a file and keep it as a `checked` import to apply later ([`apply_checked`]), for the
/// web page's two steps. Row errors are `Validation` errors and nothing is stored; a good
/// file is stored (no business data is written).
pub async fn check(p: &Platform, ctx: &Ctx, upload: &Upload) -> Result<Import> {
    let imp = importer(p, &ctx.actor, &upload.kind)?;
    let table = parse(p, upload)?;
    let plan = make_plan(p, &ctx.actor, imp.as_ref(), &table, &no_progress).await?;
    if !plan.errors.is_empty() {
        return Err(plan.errors.into_validation());
    }
    let mut rec = new_record(ctx, imp.spec(), upload, &table, "checked");
    set_counts(&mut rec, &plan);
    crate::tx!(p.db, tx, {
        insert_record(tx, ctx, &rec, upload).await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(rec)
}

/// The stored file of an import.
async fn load_upload(p: &Platform, rec: &Import) -> Result<Upload> {
    let row =
        sqlx::query("SELECT content_type, sheet, data FROM import_files WHERE import_id = $1")
            .bind(rec.id.as_deref().unwrap_or_default())
            .fetch_optional(p.db.pool())
            .await?
            .ok_or(PlatformError::NotFound)?;
    Ok(Upload {
        kind: rec.kind.clone(),
        file_name: rec.file_name.clone(),
        content_type: row.try_get("content_type")?,
        sheet: row.try_get("sheet")?,
        bytes: row.try_get("data")?,
    })
}

/// Apply an import stored by [`check`]: only its author may, once. The file is checked again
/// (the data may have changed since); small files are applied now, large ones queued.
pub async fn apply_checked(p: &Platform, ctx: &Ctx, id: &str) -> Result<Submitted> {
    let mut rec = get(p, &ctx.actor, id).await?;
    if rec.created_by != ctx.actor.user_id {
        return Err(PlatformError::Conflict {
            field: None,
            message: "only the user who uploaded an import may apply it".into(),
        });
    }
    if rec.status != "checked" {
        return Err(PlatformError::Conflict {
            field: None,
            message: format!("the import is {} already", rec.status),
        });
    }
    let imp = importer(p, &ctx.actor, &rec.kind)?;
    let upload = load_upload(p, &rec).await?;
    let table = parse(p, &upload)?;
    if table.len() > p.settings.imports.sync_max_rows {
        return enqueue(p, ctx, rec, None).await;
    }
    let plan = make_plan(p, &ctx.actor, imp.as_ref(), &table, &no_progress).await?;
    if !plan.errors.is_empty() {
        rec.status = "failed".into();
        rec.errors = plan.errors.clone().into_list();
        set_outcome_alone(p, &rec).await?;
        return Err(plan.errors.into_validation());
    }
    set_counts(&mut rec, &plan);
    rec.status = "applied".into();
    crate::tx!(p.db, tx, {
        if !set_outcome(tx, &rec, Some("checked")).await? {
            return Err(PlatformError::Conflict {
                field: None,
                message: "the import was applied already".into(),
            });
        }
        plan.changes.apply(tx, ctx).await?;
        audit_import(tx, ctx, &rec).await?;
        Ok::<_, PlatformError>(())
    })?;
    rec.finished_at = Some(now().rfc3339());
    Ok(Submitted::Applied(rec))
}

// ---------------------------------------------------------------- reading records

fn visible(actor: &Actor, rec: &Import) -> bool {
    rec.created_by == actor.user_id || actor.allows(perm::JOB_READ, &rec.org_path)
}

/// One import the actor may see: their own, or one inside their `job.read` scope.
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Import> {
    let rec = fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
    if visible(actor, &rec) {
        Ok(rec)
    } else {
        Err(PlatformError::NotFound)
    }
}

async fn fetch(p: &Platform, id: &str) -> Result<Option<Import>> {
    if !boh_kernel::id::is_uuid(id) {
        return Ok(None);
    }
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM imports WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    row.as_ref().map(record_from_row).transpose()
}

/// Recent imports the actor may see, newest first, with the total for paging.
pub async fn list(
    p: &Platform,
    actor: &Actor,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Import>, i64)> {
    let scope = actor.scope(perm::JOB_READ);
    let where_ = format!("(created_by = $1 OR {})", scope.sql("org_path"));
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM imports WHERE {where_}"
    )))
    .bind(&actor.user_id)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM imports WHERE {where_} ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    )))
    .bind(&actor.user_id)
    .bind(limit.clamp(1, 500))
    .bind(offset.max(0))
    .fetch_all(p.db.pool())
    .await?;
    Ok((
        rows.iter().map(record_from_row).collect::<Result<_>>()?,
        total,
    ))
}

// ---------------------------------------------------------------- the job

/// The job that applies a queued import: parse, plan (progress per thousand rows), apply in
/// one transaction. Row errors end the import as `failed` (the job itself succeeds: there is
/// nothing to retry); transient errors fail the attempt and the job runs again.
pub async fn run_job(
    p: Platform,
    job: Job,
    progress: Progress,
) -> std::result::Result<Value, String> {
    let id = job
        .payload
        .get("import_id")
        .and_then(Value::as_str)
        .ok_or("the job has no import_id")?
        .to_string();
    let mut rec = fetch(&p, &id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("import {id} not found"))?;
    if !matches!(rec.status.as_str(), "queued" | "running") {
        return Ok(summary(&rec));
    }
    let last_attempt = job.attempts >= jobs::MAX_ATTEMPTS;
    match run_import(&p, &mut rec, &progress).await {
        Ok(()) => Ok(summary(&rec)),
        Err(e) => {
            let rejected = matches!(e, PlatformError::Validation(_) | PlatformError::Sheet(_))
                || matches!(
                    e,
                    PlatformError::Unauthenticated
                        | PlatformError::Forbidden(_)
                        | PlatformError::NotFound
                );
            if rejected || last_attempt {
                rec.status = "failed".into();
                rec.errors = match e {
                    PlatformError::Validation(fields) => {
                        fields.iter().map(RowError::from_field).collect()
                    }
                    PlatformError::Unauthenticated => vec![file_error(
                        "the user who started the import is no longer active",
                    )],
                    PlatformError::Db(_) | PlatformError::Internal(_) => {
                        tracing::error!(import = %id, error = ?e, "import failed");
                        vec![file_error("the import could not be applied; try again")]
                    }
                    other => vec![file_error(&other.to_string())],
                };
                set_outcome_alone(&p, &rec)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(summary(&rec))
            } else {
                Err(e.to_string())
            }
        }
    }
}

fn file_error(message: &str) -> RowError {
    RowError {
        row: None,
        column: None,
        message: message.to_string(),
    }
}

fn summary(rec: &Import) -> Value {
    json!({
        "import_id": rec.id, "status": rec.status, "rows": rec.rows, "created": rec.created,
        "updated": rec.updated, "unchanged": rec.unchanged, "errors": rec.errors.len(),
    })
}

async fn run_import(p: &Platform, rec: &mut Import, progress: &Progress) -> Result<()> {
    rec.status = "running".into();
    set_outcome_alone(p, rec).await?;
    let meta = sqlx::query("SELECT grant_ids, ip, request_id FROM imports WHERE id = $1")
        .bind(rec.id.as_deref().unwrap_or_default())
        .fetch_one(p.db.pool())
        .await?;
    let raw: String = meta.try_get("grant_ids")?;
    let grants: Vec<String> = serde_json::from_str(&raw).unwrap_or_default();
    let actor = crate::iam::job_actor(p, &rec.created_by, &grants).await?;
    let ctx = Ctx {
        actor,
        ip: meta.try_get("ip")?,
        request_id: meta.try_get("request_id")?,
        idem: None,
    };
    let imp = importer(p, &ctx.actor, &rec.kind)?;
    let upload = load_upload(p, rec).await?;
    let table = parse(p, &upload)?;
    let rows = table.len();
    let total = count(rows) * 2;
    let _ = progress.set(0, total, Some("checking")).await;

    // Planning reports progress through a channel; a task writes it to the job row.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<usize>();
    let reporter = {
        let progress = progress.clone();
        tokio::spawn(async move {
            while let Some(mut done) = rx.recv().await {
                while let Ok(later) = rx.try_recv() {
                    done = later;
                }
                let _ = progress.set(count(done), total, Some("checking")).await;
            }
        })
    };
    let report = move |done: usize| {
        let _ = tx.send(done);
    };
    let planned = make_plan(p, &ctx.actor, imp.as_ref(), &table, &report).await;
    drop(report);
    let _ = reporter.await;
    let plan = planned?;
    if !plan.errors.is_empty() {
        return Err(plan.errors.into_validation());
    }
    let _ = progress.set(count(rows), total, Some("applying")).await;
    set_counts(rec, &plan);
    rec.status = "applied".into();
    let final_rec = rec.clone();
    crate::tx!(p.db, tx, {
        plan.changes.apply(tx, &ctx).await?;
        if !set_outcome(tx, &final_rec, Some("running")).await? {
            return Err(PlatformError::Conflict {
                field: None,
                message: "the import was finished by another worker".into(),
            });
        }
        audit_import(tx, &ctx, &final_rec).await?;
        Ok::<_, PlatformError>(())
    })?;
    rec.finished_at = Some(now().rfc3339());
    let _ = progress.set(total, total, Some("applied")).await;
    Ok(())
}

// ---------------------------------------------------------------- helpers for importers

/// A cell's number, or a row error.
pub fn parse_number<T: std::str::FromStr>(
    errors: &mut RowErrors,
    row: u32,
    column: &str,
    cell: &str,
) -> Option<T> {
    if cell.is_empty() {
        return None;
    }
    match cell.parse() {
        Ok(v) => Some(v),
        Err(_) => {
            errors.push(row, column, "must be a number");
            None
        }
    }
}

/// A sheet of export rows, the shape importers read back: `headers` are column names.
pub fn export_sheet(name: &str, headers: &[&str], rows: Vec<Vec<Cell>>) -> Sheet {
    Sheet {
        name: name.to_string(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use boh_kernel::{ActorGrant, AuthVia};
    use std::collections::BTreeSet;

    fn actor(paths: &[&str]) -> Actor {
        let perms: BTreeSet<String> = [perm::ORG_UPDATE.to_string()].into();
        Actor {
            user_id: "u".into(),
            username: "u".into(),
            display_name: "u".into(),
            company_id: None,
            locale: "en".into(),
            grants: Arc::new(
                paths
                    .iter()
                    .map(|p| ActorGrant {
                        grant_id: "g".into(),
                        role_code: "r".into(),
                        node_id: None,
                        path: p.to_string(),
                        permissions: Arc::new(perms.clone()),
                    })
                    .collect(),
            ),
            via: AuthVia::System,
        }
    }

    static SPEC: Spec = Spec {
        kind: "t",
        title: "T",
        title_zh: "T",
        permissions: &[perm::ORG_UPDATE, perm::ORG_CREATE],
        key: "code",
        columns: &[],
    };

    #[test]
    fn an_import_belongs_to_the_common_ancestor_of_the_grants() {
        assert_eq!(scope_root(&actor(&["/c/r1/"]), &SPEC), "/c/r1/");
        assert_eq!(scope_root(&actor(&["/c/r1/", "/c/r2/s/"]), &SPEC), "/c/");
        assert_eq!(scope_root(&actor(&["/c/", "/d/"]), &SPEC), "/");
        assert_eq!(scope_root(&actor(&[]), &SPEC), "/");
    }

    #[test]
    fn errors_are_capped_and_counted() {
        let mut e = RowErrors::default();
        for i in 0..(MAX_ERRORS as u32 + 5) {
            e.push(i + 2, "code", "is required");
        }
        assert_eq!(e.count(), MAX_ERRORS + 5);
        let list = e.into_list();
        assert_eq!(list.len(), MAX_ERRORS + 1);
        assert_eq!(list[0].to_string(), "row 2, column code: is required");
        assert_eq!(list[MAX_ERRORS].message, "5 more errors are not listed");
        let f = FieldError::new("row 7, column latitude", "x");
        assert_eq!(
            RowError::from_field(&f),
            RowError {
                row: Some(7),
                column: Some("latitude".into()),
                message: "x".into()
            }
        );
    }
}
