//! Work orders: intake (web, API, the public QR form), duplicate detection, SLA timers,
//! assignment, the technician's work (accept, travel, start, pause, finish, checklist, parts
//! from the stock ledger, photos, signature, cause and remedy), the requester's rating, and
//! the history of every step.

use std::collections::HashMap;

use boh_db::Row;
use boh_inventory::catalog::Item;
use boh_inventory::ledger::{self, LotPick, PostDoc, PostLine, ValueSpec};
use boh_kernel::{Actor, Qty, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::org::{self, OrgNode};
use boh_platform::util::{like_escape, random_token};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events, tx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::asset::{self, Asset};
use crate::sla::{self, Hours, PRIORITIES};

/// Every status, in the order of a job's life.
pub const STATUSES: &[&str] = &[
    "open",
    "assigned",
    "accepted",
    "travelling",
    "in_progress",
    "paused",
    "done",
    "review",
    "closed",
    "cancelled",
];
/// Statuses of work still to do (a new request on the same asset and fault is a duplicate).
pub const OPEN_STATUSES: &[&str] = &[
    "open",
    "assigned",
    "accepted",
    "travelling",
    "in_progress",
    "paused",
    "review",
];
/// `'open','assigned',…` of the statuses kept by `keep`, for an SQL `IN (…)` list.
fn sql_list(statuses: &[&str], keep: impl Fn(&str) -> bool) -> String {
    statuses
        .iter()
        .filter(|s| keep(s))
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",")
}

/// What is wrong, as the requester sees it.
pub const FAULT_CODES: &[&str] = &[
    "not_working",
    "not_cooling",
    "not_heating",
    "leaking",
    "noise",
    "error_code",
    "damaged",
    "electrical",
    "other",
];
/// Why it failed, as the technician found it.
pub const CAUSE_CODES: &[&str] = &[
    "wear",
    "misuse",
    "power",
    "blocked",
    "leak",
    "electrical",
    "software",
    "no_fault_found",
    "other",
];
/// What the technician did.
pub const REMEDY_CODES: &[&str] = &[
    "replaced_part",
    "repaired",
    "adjusted",
    "cleaned",
    "reset",
    "updated",
    "no_action",
    "other",
];
pub const PAUSE_REASONS: &[&str] = &["waiting_parts", "waiting_store", "other"];
pub const SOURCES: &[&str] = &["web", "api", "qr", "pm", "predictive"];
/// The largest photo accepted, in bytes.
pub const MAX_PHOTO_BYTES: usize = 5 * 1024 * 1024;
/// Photos per request from the public form.
pub const MAX_PHOTOS: usize = 4;
/// A rating at or below this sends the work order to review.
pub const LOW_RATING: i64 = 2;

fn enum_schema(values: &[&str]) -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(values, false, false)
}
fn status_schema() -> utoipa::openapi::Object {
    enum_schema(STATUSES)
}
fn priority_schema() -> utoipa::openapi::Object {
    enum_schema(PRIORITIES)
}
fn fault_schema() -> utoipa::openapi::Object {
    enum_schema(FAULT_CODES)
}

/// Where a work order stands against its SLA.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SlaView {
    /// `on_track`, `at_risk` (a fifth of the resolution time or less left), `breached`,
    /// `paused`, `met` or `missed` (finished late).
    pub state: String,
    /// Business minutes left to respond; none once responded.
    pub response_left_min: Option<i64>,
    /// Business minutes left to resolve (negative when overdue); none once finished.
    pub resolution_left_min: Option<i64>,
    pub response_target_min: i64,
    pub resolution_target_min: i64,
    /// Business minutes spent paused (they do not count).
    pub paused_min: i64,
    /// 0 none, 1 warned (at risk), 2 escalated (breached).
    pub escalation_level: i64,
}

/// One work order.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkOrder {
    pub id: String,
    pub company_id: String,
    /// `WO-000123`, unique in the company.
    pub number: String,
    pub location_id: String,
    pub location_code: String,
    pub location_name: String,
    pub asset_id: Option<String>,
    pub asset_code: Option<String>,
    pub asset_name: Option<String>,
    pub asset_model: Option<String>,
    pub title: String,
    pub description: Option<String>,
    #[schema(schema_with = fault_schema)]
    pub fault_code: String,
    /// The asset's category (`other` without an asset).
    pub category: String,
    #[schema(schema_with = priority_schema)]
    pub priority: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// web, api, qr, pm or predictive.
    pub source: String,
    pub requester_id: Option<String>,
    pub requester_name: Option<String>,
    /// An open work order this one was reported next to, knowingly.
    pub duplicate_of: Option<String>,
    pub technician_id: Option<String>,
    pub technician_name: Option<String>,
    pub assigned_at: Option<String>,
    /// Why this technician (the dispatch plan's reasons, or the dispatcher's note).
    pub assign_note: Option<String>,
    pub response_due_at: String,
    pub resolution_due_at: String,
    pub responded_at: Option<String>,
    pub finished_at: Option<String>,
    pub closed_at: Option<String>,
    pub paused_at: Option<String>,
    pub pause_reason: Option<String>,
    pub cause_code: Option<String>,
    pub remedy_code: Option<String>,
    pub resolution_note: Option<String>,
    pub signature_required: bool,
    pub signed_by: Option<String>,
    pub labour_min: i64,
    /// Minor units.
    pub parts_cost: i64,
    /// Minor units.
    pub labour_cost: i64,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    /// The PM schedule that generated it.
    pub schedule_id: Option<String>,
    pub sla: SlaView,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// A step in a work order's history.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WoEvent {
    pub seq: i64,
    pub at: String,
    pub actor_name: String,
    /// created, assigned, accepted, travelling, started, paused, resumed, finished, rated,
    /// reopened, closed, cancelled, note, part, photo, sla_warning, sla_breach, duplicate.
    pub kind: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

/// A file attached to a work order (photo, signature, document).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: String,
    /// photo or signature.
    pub kind: String,
    pub file_name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    pub seq: i64,
    pub label: String,
    pub required: bool,
    pub done: bool,
    pub done_at: Option<String>,
}

/// A part issued from stock for the job.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PartUsed {
    pub id: String,
    pub item_id: String,
    pub item_code: String,
    pub item_name: String,
    pub location_id: String,
    /// In the item's base unit.
    #[schema(value_type = String)]
    pub qty: Qty,
    pub unit: String,
    /// Minor units (the stock value issued).
    pub value: i64,
    /// The stock document that issued it.
    pub doc_id: String,
    pub created_at: String,
}

/// A work order with its history, files, checklist and parts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkOrderDetail {
    #[serde(flatten)]
    pub work_order: WorkOrder,
    pub events: Vec<WoEvent>,
    pub attachments: Vec<Attachment>,
    pub checklist: Vec<ChecklistItem>,
    pub parts: Vec<PartUsed>,
    /// Open work orders on the same asset (other faults included).
    pub open_on_asset: Vec<WoRef>,
}

/// A work order named in a list of related ones.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WoRef {
    pub id: String,
    pub number: String,
    pub title: String,
    pub status: String,
    pub fault_code: String,
    pub created_at: String,
}

/// A new work order from a signed-in user or an API client.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkOrderInput {
    /// The asset at fault; its site is the work order's site.
    #[serde(default)]
    pub asset_id: Option<String>,
    /// The site, when the fault is not on a registered asset (or to check the asset's site).
    #[serde(default)]
    pub location_id: Option<String>,
    /// Default: the fault and the asset's name.
    #[serde(default)]
    #[schema(max_length = 160)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub description: Option<String>,
    #[schema(schema_with = fault_schema)]
    pub fault_code: String,
    /// Default: `high` for a critical asset, else `medium`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Report it even though an open work order exists for the same fault on the asset.
    #[serde(default)]
    pub not_duplicate: bool,
    /// Parts the job is expected to need (item code to whole quantity in the base unit), for
    /// dispatch.
    #[serde(default)]
    pub parts_needed: Option<HashMap<String, u32>>,
}

/// A request from the public form reached by an asset's QR code.
#[derive(Debug, Clone, Default)]
pub struct PublicRequest {
    /// The title in the requester's language (default: the asset and the fault code).
    pub title: Option<String>,
    pub name: String,
    pub contact: String,
    pub fault_code: String,
    pub description: String,
    pub not_duplicate: bool,
    pub photos: Vec<Upload>,
}

/// An uploaded file.
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub file_name: String,
    pub data: Vec<u8>,
}

/// What the public form made: the work order's number and the requester's tracking token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PublicReceipt {
    pub number: String,
    pub tracking_token: String,
}

/// The list filter.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WoFilter {
    /// Only this site.
    #[serde(default)]
    pub location_id: Option<String>,
    /// Only sites under this org node.
    #[serde(default)]
    pub under: Option<String>,
    #[serde(default)]
    pub asset_id: Option<String>,
    #[serde(default)]
    pub technician_id: Option<String>,
    /// A status, `active` (every open status, the default), or `all`.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub priority: Option<String>,
    /// Only work orders assigned to me (a technician's job list).
    #[serde(default)]
    pub mine: Option<bool>,
    /// Text in the number, title or description.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
    #[serde(default)]
    pub offset: Option<i64>,
}

pub struct WoPage {
    pub items: Vec<WorkOrder>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

// ---------------------------------------------------------------- reading

const COLS: &str = "w.id, w.company_id, w.number, w.location_id, w.location_path, n.code AS location_code, \
    n.name_en AS location_name_en, n.name_zh AS location_name_zh, n.timezone, w.asset_id, a.code AS asset_code, \
    a.name AS asset_name, a.model AS asset_model, w.title, w.description, w.fault_code, w.category, w.priority, \
    w.status, w.source, w.requester_id, w.requester_name, w.duplicate_of, w.technician_id, t.name AS technician_name, \
    t.user_id AS technician_user_id, w.assigned_at, w.assign_note, w.response_min, w.resolution_min, w.sla_days, \
    w.sla_open_min, w.sla_close_min, w.response_due_at, w.resolution_due_at, w.responded_at, w.finished_at, \
    w.closed_at, w.paused_at, w.pause_reason, w.paused_min, w.escalation_level, w.cause_code, w.remedy_code, \
    w.resolution_note, w.signature_required, w.signed_by, w.labour_min, w.parts_cost, w.labour_cost, w.rating, \
    w.rating_comment, w.schedule_id, w.created_at, w.updated_at, w.version";
const FROM: &str = "FROM mnt_work_orders w JOIN org_nodes n ON n.id = w.location_id \
    LEFT JOIN mnt_assets a ON a.id = w.asset_id LEFT JOIN mnt_technicians t ON t.id = w.technician_id";

fn instant(v: i64) -> String {
    boh_kernel::Instant(v).rfc3339()
}
fn opt_instant(v: Option<i64>) -> Option<String> {
    v.map(instant)
}

/// A row with what access and the SLA need beside the view.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub wo: WorkOrder,
    pub path: String,
    pub timezone: String,
    pub technician_user_id: Option<String>,
    pub hours: Hours,
    pub raw: Raw,
}

/// The stored instants and targets, for the state machine.
#[derive(Debug, Clone, Copy)]
pub struct Raw {
    pub created_at: i64,
    pub responded_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub paused_at: Option<i64>,
    pub resolution_due_at: i64,
    pub response_due_at: i64,
    pub resolution_min: i64,
    pub paused_min: i64,
}

/// The SLA view at `at`.
pub fn sla_view(l: &Loaded, at: i64, escalation_level: i64) -> SlaView {
    let tz = sla::zone(&l.timezone);
    let r = &l.raw;
    let clock = r.paused_at.unwrap_or(at);
    let response_left = match r.responded_at {
        Some(_) => None,
        None => Some(sla::business_between(
            &l.hours,
            &tz,
            clock,
            r.response_due_at,
        )),
    };
    let (state, resolution_left) = match r.finished_at {
        Some(f) => (
            if f <= r.resolution_due_at {
                "met"
            } else {
                "missed"
            },
            None,
        ),
        None if l.wo.status == "cancelled" || l.wo.status == "closed" => ("met", None),
        None => {
            let left = sla::business_between(&l.hours, &tz, clock, r.resolution_due_at);
            let state = if r.paused_at.is_some() {
                "paused"
            } else if left < 0 || response_left.is_some_and(|x| x < 0) {
                "breached"
            } else if left * 5 <= r.resolution_min {
                "at_risk"
            } else {
                "on_track"
            };
            (state, Some(left))
        }
    };
    SlaView {
        state: state.into(),
        response_left_min: response_left,
        resolution_left_min: resolution_left,
        response_target_min: l.wo.sla.response_target_min,
        resolution_target_min: r.resolution_min,
        paused_min: r.paused_min,
        escalation_level,
    }
}

fn from_row(r: &boh_db::AnyRow, locale_zh: bool) -> Result<Loaded> {
    let name_en: String = r.try_get("location_name_en")?;
    let name_zh: String = r.try_get("location_name_zh")?;
    let raw = Raw {
        created_at: r.try_get("created_at")?,
        responded_at: r.try_get("responded_at")?,
        finished_at: r.try_get("finished_at")?,
        paused_at: r.try_get("paused_at")?,
        resolution_due_at: r.try_get("resolution_due_at")?,
        response_due_at: r.try_get("response_due_at")?,
        resolution_min: r.try_get("resolution_min")?,
        paused_min: r.try_get("paused_min")?,
    };
    let hours = Hours::parse(
        &r.try_get::<String, _>("sla_days")?,
        r.try_get("sla_open_min")?,
        r.try_get("sla_close_min")?,
    )
    .unwrap_or(Hours::ALWAYS);
    let escalation: i64 = r.try_get("escalation_level")?;
    let wo = WorkOrder {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        number: r.try_get("number")?,
        location_id: r.try_get("location_id")?,
        location_code: r.try_get("location_code")?,
        location_name: if locale_zh { name_zh } else { name_en },
        asset_id: r.try_get("asset_id")?,
        asset_code: r.try_get("asset_code")?,
        asset_name: r.try_get("asset_name")?,
        asset_model: r.try_get("asset_model")?,
        title: r.try_get("title")?,
        description: r.try_get("description")?,
        fault_code: r.try_get("fault_code")?,
        category: r.try_get("category")?,
        priority: r.try_get("priority")?,
        status: r.try_get("status")?,
        source: r.try_get("source")?,
        requester_id: r.try_get("requester_id")?,
        requester_name: r.try_get("requester_name")?,
        duplicate_of: r.try_get("duplicate_of")?,
        technician_id: r.try_get("technician_id")?,
        technician_name: r.try_get("technician_name")?,
        assigned_at: opt_instant(r.try_get("assigned_at")?),
        assign_note: r.try_get("assign_note")?,
        response_due_at: instant(raw.response_due_at),
        resolution_due_at: instant(raw.resolution_due_at),
        responded_at: opt_instant(raw.responded_at),
        finished_at: opt_instant(raw.finished_at),
        closed_at: opt_instant(r.try_get("closed_at")?),
        paused_at: opt_instant(raw.paused_at),
        pause_reason: r.try_get("pause_reason")?,
        cause_code: r.try_get("cause_code")?,
        remedy_code: r.try_get("remedy_code")?,
        resolution_note: r.try_get("resolution_note")?,
        signature_required: r.try_get::<i64, _>("signature_required")? != 0,
        signed_by: r.try_get("signed_by")?,
        labour_min: r.try_get("labour_min")?,
        parts_cost: r.try_get("parts_cost")?,
        labour_cost: r.try_get("labour_cost")?,
        rating: r.try_get("rating")?,
        rating_comment: r.try_get("rating_comment")?,
        schedule_id: r.try_get("schedule_id")?,
        sla: SlaView {
            state: String::new(),
            response_left_min: None,
            resolution_left_min: None,
            response_target_min: r.try_get("response_min")?,
            resolution_target_min: raw.resolution_min,
            paused_min: raw.paused_min,
            escalation_level: escalation,
        },
        created_at: instant(raw.created_at),
        updated_at: instant(r.try_get("updated_at")?),
        version: r.try_get("version")?,
    };
    let mut l = Loaded {
        wo,
        path: r.try_get("location_path")?,
        timezone: r.try_get("timezone")?,
        technician_user_id: r.try_get("technician_user_id")?,
        hours,
        raw,
    };
    l.wo.sla = sla_view(&l, now().micros(), escalation);
    Ok(l)
}

/// The permissions that show a site's work orders.
const SEE: [&str; 3] = [
    perm::MAINTENANCE_READ,
    perm::MAINTENANCE_REQUEST,
    perm::MAINTENANCE_DISPATCH,
];

/// True when the actor sees this work order: one of [`SEE`] at its site, or it is assigned
/// to them.
pub fn may_see(actor: &Actor, l: &Loaded) -> bool {
    SEE.iter().any(|p| actor.allows(p, &l.path)) || is_assignee(actor, l)
}

fn is_assignee(actor: &Actor, l: &Loaded) -> bool {
    l.technician_user_id.as_deref() == Some(actor.user_id.as_str())
        && actor.has_anywhere(perm::MAINTENANCE_WORK)
}

/// A work order, unscoped.
pub async fn load(p: &Platform, id: &str, zh: bool) -> Result<Option<Loaded>> {
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE w.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    r.map(|r| from_row(&r, zh)).transpose()
}

async fn load_in(tx: &mut AnyConnection, id: &str) -> Result<Loaded> {
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE w.id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(PlatformError::NotFound)?;
    from_row(&r, false)
}

fn zh(actor: &Actor) -> bool {
    actor.locale.starts_with("zh")
}

/// A work order the actor sees (404 otherwise).
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Loaded> {
    match load(p, id, zh(actor)).await? {
        Some(l) if may_see(actor, &l) => Ok(l),
        _ => Err(PlatformError::NotFound),
    }
}

/// A work order with everything its page shows.
pub async fn detail(p: &Platform, actor: &Actor, id: &str) -> Result<WorkOrderDetail> {
    let l = get(p, actor, id).await?;
    let pool = p.db.pool();
    let events = sqlx::query(
        "SELECT seq, at, actor_name, kind, from_status, to_status, note FROM mnt_wo_events \
         WHERE work_order_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(WoEvent {
            seq: r.try_get("seq")?,
            at: instant(r.try_get("at")?),
            actor_name: r.try_get("actor_name")?,
            kind: r.try_get("kind")?,
            from_status: r.try_get("from_status")?,
            to_status: r.try_get("to_status")?,
            note: r.try_get("note")?,
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let attachments = sqlx::query(
        "SELECT id, kind, file_name, content_type, size_bytes, created_at FROM mnt_wo_attachments \
         WHERE work_order_id = $1 ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(Attachment {
            id: r.try_get("id")?,
            kind: r.try_get("kind")?,
            file_name: r.try_get("file_name")?,
            content_type: r.try_get("content_type")?,
            size_bytes: r.try_get("size_bytes")?,
            created_at: instant(r.try_get("created_at")?),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let checklist = checklist_of(pool, id).await?;
    let parts = sqlx::query(
        "SELECT p.id, p.item_id, i.code, i.name_en, i.name_zh, i.base_unit, p.location_id, p.qty, p.value, p.doc_id, \
         p.created_at FROM mnt_wo_parts p JOIN inv_items i ON i.id = p.item_id WHERE p.work_order_id = $1 \
         ORDER BY p.created_at, p.id",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        Ok(PartUsed {
            id: r.try_get("id")?,
            item_id: r.try_get("item_id")?,
            item_code: r.try_get("code")?,
            item_name: r.try_get(if zh(actor) { "name_zh" } else { "name_en" })?,
            location_id: r.try_get("location_id")?,
            qty: Qty(r.try_get("qty")?),
            unit: r.try_get("base_unit")?,
            value: r.try_get("value")?,
            doc_id: r.try_get("doc_id")?,
            created_at: instant(r.try_get("created_at")?),
        })
    })
    .collect::<Result<Vec<_>>>()?;
    let open_on_asset = match &l.wo.asset_id {
        Some(a) => open_on(pool, a, None)
            .await?
            .into_iter()
            .filter(|w| w.id != l.wo.id)
            .collect(),
        None => Vec::new(),
    };
    Ok(WorkOrderDetail {
        work_order: l.wo,
        events,
        attachments,
        checklist,
        parts,
        open_on_asset,
    })
}

async fn checklist_of(pool: &sqlx::AnyPool, id: &str) -> Result<Vec<ChecklistItem>> {
    sqlx::query(
        "SELECT seq, label, required, done_at FROM mnt_wo_checklist WHERE work_order_id = $1 ORDER BY seq",
    )
    .bind(id)
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| {
        let done_at: Option<i64> = r.try_get("done_at")?;
        Ok(ChecklistItem {
            seq: r.try_get("seq")?,
            label: r.try_get("label")?,
            required: r.try_get::<i64, _>("required")? != 0,
            done: done_at.is_some(),
            done_at: opt_instant(done_at),
        })
    })
    .collect()
}

/// Open work orders on an asset, newest first; only those for `fault` when given.
pub async fn open_on<'e, E>(conn: E, asset_id: &str, fault: Option<&str>) -> Result<Vec<WoRef>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let statuses = sql_list(OPEN_STATUSES, |_| true);
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT id, number, title, status, fault_code, created_at FROM mnt_work_orders \
         WHERE asset_id = $1 AND status IN ({statuses}) AND ($2 = '' OR fault_code = $2) ORDER BY created_at DESC, id"
    )))
    .bind(asset_id)
    .bind(fault.unwrap_or(""))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(WoRef {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                title: r.try_get("title")?,
                status: r.try_get("status")?,
                fault_code: r.try_get("fault_code")?,
                created_at: instant(r.try_get("created_at")?),
            })
        })
        .collect()
}

/// The technician record of a signed-in user.
pub async fn technician_of(p: &Platform, user_id: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT id FROM mnt_technicians WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(p.db.pool())
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?,
    )
}

/// Work orders the actor sees, most urgent first (open ones by resolution due time, then the
/// rest newest first).
pub async fn list(p: &Platform, actor: &Actor, f: &WoFilter) -> Result<WoPage> {
    let mut binds: Vec<String> = vec![actor.user_id.clone()];
    let scopes: Vec<String> = SEE
        .iter()
        .map(|pm| {
            actor
                .scope(pm)
                .sql_by_company("w.location_path", "w.company_id")
        })
        .collect();
    let assigned = if actor.has_anywhere(perm::MAINTENANCE_WORK) {
        "t.user_id = $1"
    } else {
        "1=0"
    };
    let mut conds = vec![format!("({} OR {assigned})", scopes.join(" OR "))];
    let mut errors = Vec::new();
    let mut add = |sql: &str, v: String, binds: &mut Vec<String>| {
        binds.push(v);
        conds.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(l) = f.location_id.as_deref().filter(|s| !s.is_empty()) {
        add("w.location_id = ?", l.to_string(), &mut binds);
    }
    if let Some(u) = f.under.as_deref().filter(|s| !s.is_empty()) {
        let path = org::fetch(p, u)
            .await?
            .map(|n| n.path)
            .unwrap_or_else(|| "/none/".into());
        add(
            "w.location_path LIKE ? ESCAPE '\\'",
            format!("{}%", like_escape(&path)),
            &mut binds,
        );
    }
    if let Some(a) = f.asset_id.as_deref().filter(|s| !s.is_empty()) {
        add("w.asset_id = ?", a.to_string(), &mut binds);
    }
    if let Some(t) = f.technician_id.as_deref().filter(|s| !s.is_empty()) {
        add("w.technician_id = ?", t.to_string(), &mut binds);
    }
    let mut raw: Vec<String> = Vec::new();
    if f.mine == Some(true) {
        raw.push("t.user_id = $1".into());
    }
    let open_list = sql_list(OPEN_STATUSES, |_| true);
    match f.status.as_deref().unwrap_or("") {
        "" | "active" => raw.push(format!("w.status IN ({open_list})")),
        "all" => {}
        s if STATUSES.contains(&s) => add("w.status = ?", s.to_string(), &mut binds),
        _ => errors.push(FieldError::new(
            "status",
            format!("must be active, all or one of {}", STATUSES.join(", ")),
        )),
    }
    if let Some(pr) = f.priority.as_deref().filter(|s| !s.is_empty()) {
        if !PRIORITIES.contains(&pr) {
            errors.push(FieldError::new(
                "priority",
                format!("must be one of {}", PRIORITIES.join(", ")),
            ));
        }
        add("w.priority = ?", pr.to_string(), &mut binds);
    }
    conds.extend(raw);
    let q = f.q.as_deref().map(str::trim).unwrap_or("");
    if !q.is_empty() {
        binds.push(format!("%{}%", like_escape(&q.to_lowercase())));
        let n = binds.len();
        conds.push(format!(
            "(LOWER(w.number) LIKE ${n} ESCAPE '\\' OR LOWER(w.title) LIKE ${n} ESCAPE '\\' \
             OR LOWER(COALESCE(w.description, '')) LIKE ${n} ESCAPE '\\')"
        ));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    let wh = conds.join(" AND ");
    let mut qc = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n {FROM} WHERE {wh}"
    )));
    for b in &binds {
        qc = qc.bind(b.clone());
    }
    let total: i64 = qc.fetch_one(p.db.pool()).await?.try_get("n")?;
    let mut ql = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE {wh} ORDER BY CASE WHEN w.status IN ({open_list}) THEN 0 ELSE 1 END, \
         CASE WHEN w.status IN ({open_list}) THEN w.resolution_due_at ELSE -w.created_at END, w.id \
         LIMIT {limit} OFFSET {offset}"
    )));
    for b in &binds {
        ql = ql.bind(b.clone());
    }
    let z = zh(actor);
    let items = ql
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| from_row(r, z).map(|l| l.wo))
        .collect::<Result<_>>()?;
    Ok(WoPage {
        items,
        total,
        limit,
        offset,
    })
}

// ---------------------------------------------------------------- intake

fn one_of(values: &[&str]) -> String {
    format!("must be one of {}", values.join(", "))
}

fn text_field(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<&str>,
    max: usize,
) -> Option<String> {
    let v = v.map(str::trim).unwrap_or("");
    if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Some(v.to_string()).filter(|s| !s.is_empty())
}

/// The kind of an image from its first bytes: JPEG, PNG or WebP; anything else is refused
/// whatever its name or declared type says.
pub fn image_type(data: &[u8]) -> Option<&'static str> {
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if data.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if data.len() >= 12 && &data[0..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Check photos: at most [`MAX_PHOTOS`], each a JPEG, PNG or WebP of at most
/// [`MAX_PHOTO_BYTES`]. Empty uploads (a file input left empty) are dropped.
pub fn check_photos(
    field: &str,
    photos: &[Upload],
    errors: &mut Vec<FieldError>,
) -> Vec<(Upload, &'static str)> {
    let mut out = Vec::new();
    let real: Vec<&Upload> = photos.iter().filter(|u| !u.data.is_empty()).collect();
    if real.len() > MAX_PHOTOS {
        errors.push(FieldError::new(
            field,
            format!("at most {MAX_PHOTOS} photos"),
        ));
    }
    for (i, u) in real.into_iter().enumerate() {
        let f = format!("{field}[{i}]");
        if u.data.len() > MAX_PHOTO_BYTES {
            errors.push(FieldError::new(
                &f,
                format!(
                    "{} is {} bytes; a photo may be at most {} MB",
                    u.file_name,
                    u.data.len(),
                    MAX_PHOTO_BYTES / (1024 * 1024)
                ),
            ));
            continue;
        }
        match image_type(&u.data) {
            Some(t) => out.push((u.clone(), t)),
            None => errors.push(FieldError::new(
                &f,
                format!("{} is not a JPEG, PNG or WebP image", u.file_name),
            )),
        }
    }
    out
}

/// What a new work order will be, checked.
struct NewWo {
    site: OrgNode,
    asset: Option<Asset>,
    title: String,
    description: Option<String>,
    fault_code: String,
    category: String,
    priority: String,
    source: &'static str,
    requester_id: Option<String>,
    requester_name: Option<String>,
    requester_contact: Option<String>,
    duplicate_of: Option<String>,
    parts_needed: Option<String>,
    schedule_id: Option<String>,
    checklist: Vec<(String, bool)>,
    signature_required: bool,
    photos: Vec<(Upload, &'static str)>,
}

fn default_title(fault: &str, asset: Option<&Asset>) -> String {
    let what = fault.replace('_', " ");
    match asset {
        Some(a) => format!("{}: {what}", a.name),
        None => what,
    }
}

fn default_priority(asset: Option<&Asset>) -> &'static str {
    match asset.map(|a| a.criticality.as_str()) {
        Some("critical") => "urgent",
        Some("high") => "high",
        _ => "medium",
    }
}

fn duplicate_refusal(existing: &WoRef) -> PlatformError {
    PlatformError::Refused {
        code: "possible_duplicate",
        message: format!(
            "{} is already open for this fault on this asset ({}); add to it, or report again with not_duplicate",
            existing.number, existing.title
        ),
        fields: vec![FieldError::new(
            "fault_code",
            format!(
                "{} ({}) is open for the same fault",
                existing.number, existing.id
            ),
        )],
    }
}

/// Open a work order from a signed-in user or an API client. Needs
/// `maintenance.work_order.request` (or dispatch) at the site. A fault already open on the
/// asset is refused as a possible duplicate (409 `possible_duplicate`, naming it) unless
/// `not_duplicate` is set.
pub async fn create(
    p: &Platform,
    ctx: &Ctx,
    input: &WorkOrderInput,
    source: &'static str,
) -> Result<WorkOrder> {
    let actor = &ctx.actor;
    let mut errors = Vec::new();
    let mut asset_row: Option<Asset> = None;
    let site = match input.asset_id.as_deref().filter(|s| !s.is_empty()) {
        Some(aid) => {
            let a = match asset::get(p, actor, aid).await {
                Ok(a) => a,
                // An asset at a site where the actor may report faults counts even without
                // the asset-read permission.
                Err(PlatformError::NotFound) => {
                    match asset_in_request_scope(p, actor, aid).await? {
                        Some(a) => a,
                        // Unknown, or at a site the actor may not report at: not found.
                        None => return Err(PlatformError::NotFound),
                    }
                }
                Err(e) => return Err(e),
            };
            if a.status != "active" {
                errors.push(FieldError::new(
                    "asset_id",
                    format!("asset {} is retired", a.code),
                ));
            }
            if let Some(l) = input.location_id.as_deref().filter(|s| !s.is_empty())
                && l != a.location_id
            {
                errors.push(FieldError::new(
                    "location_id",
                    "is not the asset's site (leave it out to use the asset's)",
                ));
            }
            let site = org::fetch(p, &a.location_id)
                .await?
                .ok_or(PlatformError::NotFound)?;
            asset_row = Some(a);
            site
        }
        None => {
            let Some(l) = input.location_id.as_deref().filter(|s| !s.is_empty()) else {
                return Err(PlatformError::Validation(vec![FieldError::new(
                    "asset_id",
                    "asset_id or location_id is required",
                )]));
            };
            let node = org::fetch(p, l).await?.ok_or(PlatformError::NotFound)?;
            if !SEE.iter().any(|pm| actor.allows(pm, &node.path))
                && !actor.allows(perm::ORG_READ, &node.path)
            {
                return Err(PlatformError::NotFound);
            }
            if !node.is_site() {
                errors.push(FieldError::new(
                    "location_id",
                    "must be a store, warehouse or central kitchen",
                ));
            }
            node
        }
    };
    if !actor.allows(perm::MAINTENANCE_REQUEST, &site.path)
        && !actor.allows(perm::MAINTENANCE_DISPATCH, &site.path)
    {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_REQUEST));
    }
    if !FAULT_CODES.contains(&input.fault_code.as_str()) {
        errors.push(FieldError::new("fault_code", one_of(FAULT_CODES)));
    }
    let priority = match input.priority.as_deref().filter(|s| !s.is_empty()) {
        Some(pr) if PRIORITIES.contains(&pr) => pr.to_string(),
        Some(_) => {
            errors.push(FieldError::new("priority", one_of(PRIORITIES)));
            String::new()
        }
        None => default_priority(asset_row.as_ref()).to_string(),
    };
    let title = text_field(&mut errors, "title", input.title.as_deref(), 160);
    let description = text_field(
        &mut errors,
        "description",
        input.description.as_deref(),
        4000,
    );
    let parts_needed = match &input.parts_needed {
        Some(m) if !m.is_empty() => {
            let codes: Vec<String> = m.keys().cloned().collect();
            let known = boh_inventory::catalog::items_by_code(p, &site.company_id, &codes).await?;
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            for c in keys {
                if !known.contains_key(c) {
                    errors.push(FieldError::new(
                        &format!("parts_needed.{c}"),
                        "no such item",
                    ));
                } else if m[c] == 0 {
                    errors.push(FieldError::new(
                        &format!("parts_needed.{c}"),
                        "must be at least 1",
                    ));
                }
            }
            Some(serde_json::to_string(m).unwrap_or_default())
        }
        _ => None,
    };
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let fault = input.fault_code.clone();
    let new = NewWo {
        title: title.unwrap_or_else(|| default_title(&fault, asset_row.as_ref())),
        category: asset_row
            .as_ref()
            .map(|a| a.category.clone())
            .unwrap_or_else(|| "other".into()),
        site,
        asset: asset_row,
        description,
        fault_code: fault,
        priority,
        source,
        requester_id: Some(actor.user_id.clone()).filter(|u| u != "system"),
        requester_name: Some(actor.display_name.clone()),
        requester_contact: None,
        duplicate_of: None,
        parts_needed,
        schedule_id: None,
        checklist: Vec::new(),
        signature_required: false,
        photos: Vec::new(),
    };
    let (l, _) = insert(p, ctx, new, input.not_duplicate).await?;
    Ok(l.wo)
}

/// An asset at a site where the actor may report faults (the request form of a store user
/// who lacks the asset-read permission).
async fn asset_in_request_scope(p: &Platform, actor: &Actor, id: &str) -> Result<Option<Asset>> {
    match asset::get(p, &Actor::system(), id).await {
        Ok(a) => {
            let node = org::fetch(p, &a.location_id).await?;
            Ok(node
                .filter(|n| SEE.iter().any(|pm| actor.allows(pm, &n.path)))
                .map(|_| a))
        }
        Err(PlatformError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Requests per IP address per window, and per asset.
const PUBLIC_PER_IP: i64 = 10;
const PUBLIC_PER_ASSET: i64 = 20;
const PUBLIC_WINDOW_SECS: i64 = 3600;

/// Count a hit on each key in the current window; refuse (429) when one is over its limit.
async fn throttle(p: &Platform, keys: &[(String, i64)]) -> Result<()> {
    let t = now().micros();
    let window = PUBLIC_WINDOW_SECS * 1_000_000;
    tx!(p.db, tx, {
        for (key, limit) in keys {
            let row =
                sqlx::query("SELECT window_start, hits FROM mnt_intake_throttle WHERE key = $1")
                    .bind(key)
                    .fetch_optional(&mut *tx)
                    .await?;
            match row {
                Some(r) => {
                    let start: i64 = r.try_get("window_start")?;
                    let hits: i64 = r.try_get("hits")?;
                    if t - start >= window {
                        sqlx::query("UPDATE mnt_intake_throttle SET window_start = $1, hits = 1 WHERE key = $2")
                            .bind(t)
                            .bind(key)
                            .execute(&mut *tx)
                            .await?;
                    } else if hits >= *limit {
                        return Err(PlatformError::Throttled {
                            retry_after_secs: (start + window - t) / 1_000_000 + 1,
                        });
                    } else {
                        sqlx::query(
                            "UPDATE mnt_intake_throttle SET hits = hits + 1 WHERE key = $1",
                        )
                        .bind(key)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                None => {
                    sqlx::query(
                        "INSERT INTO mnt_intake_throttle (key, window_start, hits) VALUES ($1, $2, 1) \
                         ON CONFLICT (key) DO UPDATE SET hits = mnt_intake_throttle.hits + 1",
                    )
                    .bind(key)
                    .bind(t)
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        Ok(())
    })
}

/// The asset behind a public QR token, if it is active.
pub async fn public_asset(p: &Platform, token: &str) -> Result<Option<(Asset, OrgNode)>> {
    let Some(a) = asset::by_qr_token(p, token).await? else {
        return Ok(None);
    };
    if a.status != "active" {
        return Ok(None);
    }
    let node = org::fetch(p, &a.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    Ok(Some((a, node)))
}

/// The outcome of the public form.
pub enum PublicOutcome {
    Created(PublicReceipt),
    /// An open work order exists for the fault: offer to add to it.
    Duplicate(WoRef),
}

/// A request from the public form of an asset's QR code: no login, throttled per address and
/// per asset, photos checked (type by content, size), a fault already open on the asset
/// offered as a duplicate. The asset's site's time zone and SLA apply as for any request.
pub async fn create_public(
    p: &Platform,
    token: &str,
    ip: Option<&str>,
    req: &PublicRequest,
) -> Result<PublicOutcome> {
    let (a, site) = public_asset(p, token)
        .await?
        .ok_or(PlatformError::NotFound)?;
    let mut errors = Vec::new();
    if !FAULT_CODES.contains(&req.fault_code.as_str()) {
        errors.push(FieldError::new("fault_code", one_of(FAULT_CODES)));
    }
    let name = text_field(&mut errors, "name", Some(&req.name), 80);
    if name.is_none() {
        errors.push(FieldError::new("name", "is required"));
    }
    let contact = text_field(&mut errors, "contact", Some(&req.contact), 120);
    let description = text_field(&mut errors, "description", Some(&req.description), 4000);
    let photos = check_photos("photos", &req.photos, &mut errors);
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    throttle(
        p,
        &[
            (format!("ip:{}", ip.unwrap_or("unknown")), PUBLIC_PER_IP),
            (format!("asset:{}", a.id), PUBLIC_PER_ASSET),
        ],
    )
    .await?;
    let mut ctx = Ctx::system();
    ctx.ip = ip.map(str::to_string);
    ctx.actor.display_name = name.clone().unwrap_or_default();
    ctx.actor.user_id = "public".into();
    let new = NewWo {
        title: req
            .title
            .as_deref()
            .map(|t| t.chars().take(160).collect::<String>())
            .filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| default_title(&req.fault_code, Some(&a))),
        category: a.category.clone(),
        priority: default_priority(Some(&a)).to_string(),
        site,
        asset: Some(a),
        description,
        fault_code: req.fault_code.clone(),
        source: "qr",
        requester_id: None,
        requester_name: name,
        requester_contact: contact,
        duplicate_of: None,
        parts_needed: None,
        schedule_id: None,
        checklist: Vec::new(),
        signature_required: false,
        photos,
    };
    match insert(p, &ctx, new, req.not_duplicate).await {
        Ok((l, tracking)) => Ok(PublicOutcome::Created(PublicReceipt {
            number: l.wo.number,
            tracking_token: tracking,
        })),
        Err(PlatformError::Refused {
            code: "possible_duplicate",
            ..
        }) => {
            let asset_id = asset::by_qr_token(p, token)
                .await?
                .map(|a| a.id)
                .unwrap_or_default();
            let existing = open_on(p.db.pool(), &asset_id, Some(&req.fault_code)).await?;
            match existing.into_iter().next() {
                Some(w) => Ok(PublicOutcome::Duplicate(w)),
                None => Err(PlatformError::refused(
                    "possible_duplicate",
                    "an open request for this fault exists",
                )),
            }
        }
        Err(e) => Err(e),
    }
}

/// Add a public requester's note (and photos) to the open work order they were offered as a
/// duplicate. The work order must be open and on the token's asset.
pub async fn add_to_existing_public(
    p: &Platform,
    token: &str,
    ip: Option<&str>,
    wo_id: &str,
    req: &PublicRequest,
) -> Result<String> {
    let (a, _) = public_asset(p, token)
        .await?
        .ok_or(PlatformError::NotFound)?;
    let l = load(p, wo_id, false)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if l.wo.asset_id.as_deref() != Some(a.id.as_str())
        || !OPEN_STATUSES.contains(&l.wo.status.as_str())
    {
        return Err(PlatformError::NotFound);
    }
    let mut errors = Vec::new();
    let name = text_field(&mut errors, "name", Some(&req.name), 80).unwrap_or_default();
    let description = text_field(&mut errors, "description", Some(&req.description), 4000);
    let photos = check_photos("photos", &req.photos, &mut errors);
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    throttle(
        p,
        &[
            (format!("ip:{}", ip.unwrap_or("unknown")), PUBLIC_PER_IP),
            (format!("asset:{}", a.id), PUBLIC_PER_ASSET),
        ],
    )
    .await?;
    tx!(p.db, tx, {
        let note = format!(
            "{}{}",
            if name.is_empty() {
                "—".into()
            } else {
                name.clone()
            },
            description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        );
        event(tx, wo_id, None, &name, "duplicate", None, None, Some(&note)).await?;
        for (u, t) in &photos {
            attach_in(tx, wo_id, "photo", u, t, None).await?;
        }
        touch(tx, wo_id).await?;
        Ok(())
    })?;
    Ok(l.wo.number)
}

/// The per-company sequence of work order numbers (`WO-000123`).
pub const NUMBER_SEQUENCE: &str = "mnt_work_order";

async fn next_number(tx: &mut AnyConnection, company_id: &str) -> Result<String> {
    boh_inventory::next_number(tx, company_id, NUMBER_SEQUENCE, "WO").await
}

/// Write a new work order with its SLA targets, first event, checklist and photos, and tell
/// the site's dispatchers. Returns it and the tracking token.
async fn insert(
    p: &Platform,
    ctx: &Ctx,
    new: NewWo,
    not_duplicate: bool,
) -> Result<(Loaded, String)> {
    let id = new_id();
    let tracking = random_token(24);
    let tz = sla::zone(&new.site.timezone);
    tx!(p.db, tx, {
        let mut duplicate_of = new.duplicate_of.clone();
        if let Some(a) = &new.asset {
            let open = open_on(&mut *tx, &a.id, Some(&new.fault_code)).await?;
            if let Some(first) = open.first() {
                if !not_duplicate {
                    return Err(duplicate_refusal(first));
                }
                duplicate_of = Some(first.id.clone());
            }
        }
        let pol = sla::policy_for(tx, &new.site.company_id, &new.priority, &new.category).await?;
        let hours = pol.hours();
        let t = now().micros();
        let number = next_number(tx, &new.site.company_id).await?;
        let response_due = sla::add_business(&hours, &tz, t, pol.response_min);
        let resolution_due = sla::add_business(&hours, &tz, t, pol.resolution_min);
        let r = sqlx::query(
            "INSERT INTO mnt_work_orders (id, company_id, location_id, location_path, asset_id, number, title, \
             description, fault_code, category, priority, status, source, requester_id, requester_name, \
             requester_contact, tracking_token, duplicate_of, response_min, resolution_min, sla_days, sla_open_min, \
             sla_close_min, response_due_at, resolution_due_at, paused_min, escalation_level, signature_required, \
             labour_min, parts_cost, labour_cost, parts_needed, schedule_id, created_by, created_at, updated_at, version) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,'open',$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,0,0,$25,\
             0,0,0,$26,$27,$28,$29,$29,1)",
        )
        .bind(&id)
        .bind(&new.site.company_id)
        .bind(&new.site.id)
        .bind(&new.site.path)
        .bind(new.asset.as_ref().map(|a| a.id.clone()))
        .bind(&number)
        .bind(&new.title)
        .bind(new.description.clone())
        .bind(&new.fault_code)
        .bind(&new.category)
        .bind(&new.priority)
        .bind(new.source)
        .bind(new.requester_id.clone())
        .bind(new.requester_name.clone())
        .bind(new.requester_contact.clone())
        .bind(&tracking)
        .bind(duplicate_of.clone())
        .bind(pol.response_min)
        .bind(pol.resolution_min)
        .bind(hours.days_text())
        .bind(hours.open_min)
        .bind(hours.close_min)
        .bind(response_due)
        .bind(resolution_due)
        .bind(i64::from(new.signature_required))
        .bind(new.parts_needed.clone())
        .bind(new.schedule_id.clone())
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await;
        boh_platform::error::unique_conflict(r, "number", || {
            "the work order number is already used; the numbering sequence is behind".to_string()
        })?;
        for (i, (label, required)) in new.checklist.iter().enumerate() {
            sqlx::query(
                "INSERT INTO mnt_wo_checklist (work_order_id, seq, label, required) VALUES ($1,$2,$3,$4)",
            )
            .bind(&id)
            .bind(i as i64 + 1)
            .bind(label)
            .bind(i64::from(*required))
            .execute(&mut *tx)
            .await?;
        }
        for (u, ct) in &new.photos {
            attach_in(tx, &id, "photo", u, ct, None).await?;
        }
        let who = new
            .requester_name
            .clone()
            .unwrap_or_else(|| ctx.actor.display_name.clone());
        event(
            tx,
            &id,
            new.requester_id.as_deref(),
            &who,
            "created",
            None,
            Some("open"),
            duplicate_of
                .as_deref()
                .map(|_| "reported next to an open one")
                .or(Some(new.source)),
        )
        .await?;
        let l = load_in(tx, &id).await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.work_order.create",
                entity_type: "mnt_work_order",
                entity_id: &id,
                org_path: Some(&new.site.path),
                before: None,
                after: Some(json!({"number": number, "asset_id": l.wo.asset_id, "fault_code": l.wo.fault_code,
                    "priority": l.wo.priority, "source": new.source})),
            },
        )
        .await?;
        events::emit(
            tx,
            "maintenance.work_order.created",
            Some(&new.site.path),
            &json!({"id": id, "number": number, "location_id": new.site.id, "asset_id": l.wo.asset_id,
                "priority": l.wo.priority, "source": new.source}),
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &l.wo).await?;
        Ok((l, tracking.clone()))
    })
}

/// A work order opened by the system (a PM schedule or a predictive rule) on an asset, inside
/// the caller's transaction-free context. Skips (returns `None`) when one is already open on
/// the asset for the same fault.
#[allow(clippy::too_many_arguments)]
pub async fn create_system(
    p: &Platform,
    asset: &Asset,
    source: &'static str,
    title: &str,
    fault_code: &str,
    priority: &str,
    checklist: Vec<(String, bool)>,
    signature_required: bool,
    schedule_id: Option<String>,
) -> Result<Option<WorkOrder>> {
    let site = org::fetch(p, &asset.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !open_on(p.db.pool(), &asset.id, Some(fault_code))
        .await?
        .is_empty()
    {
        return Ok(None);
    }
    let ctx = Ctx::system();
    let new = NewWo {
        site,
        asset: Some(asset.clone()),
        title: title.chars().take(160).collect(),
        description: None,
        fault_code: fault_code.to_string(),
        category: asset.category.clone(),
        priority: priority.to_string(),
        source,
        requester_id: None,
        requester_name: Some(if source == "pm" {
            "Preventive maintenance".into()
        } else {
            "Predictive maintenance".into()
        }),
        requester_contact: None,
        duplicate_of: None,
        parts_needed: None,
        schedule_id,
        checklist,
        signature_required,
        photos: Vec::new(),
    };
    match insert(p, &ctx, new, false).await {
        Ok((l, _)) => Ok(Some(l.wo)),
        Err(PlatformError::Refused {
            code: "possible_duplicate",
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

// ---------------------------------------------------------------- history helpers

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut AnyConnection,
    wo_id: &str,
    actor_id: Option<&str>,
    actor_name: &str,
    kind: &str,
    from: Option<&str>,
    to: Option<&str>,
    note: Option<&str>,
) -> Result<()> {
    let seq: i64 = sqlx::query(
        "SELECT COALESCE(MAX(seq), 0) + 1 AS s FROM mnt_wo_events WHERE work_order_id = $1",
    )
    .bind(wo_id)
    .fetch_one(&mut *tx)
    .await?
    .try_get("s")?;
    sqlx::query(
        "INSERT INTO mnt_wo_events (id, work_order_id, seq, at, actor_id, actor_name, kind, from_status, to_status, note) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(new_id())
    .bind(wo_id)
    .bind(seq)
    .bind(now().micros())
    .bind(actor_id.map(str::to_string))
    .bind(actor_name)
    .bind(kind)
    .bind(from.map(str::to_string))
    .bind(to.map(str::to_string))
    .bind(note.map(|n| n.chars().take(2000).collect::<String>()))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

async fn touch(tx: &mut AnyConnection, wo_id: &str) -> Result<()> {
    sqlx::query("UPDATE mnt_work_orders SET updated_at = $1, version = version + 1 WHERE id = $2")
        .bind(now().micros())
        .bind(wo_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

async fn attach_in(
    tx: &mut AnyConnection,
    wo_id: &str,
    kind: &str,
    u: &Upload,
    content_type: &str,
    by: Option<&str>,
) -> Result<String> {
    let id = new_id();
    let name: String = u
        .file_name
        .chars()
        .filter(|c| !c.is_control() && *c != '/' && *c != '\\')
        .take(120)
        .collect();
    sqlx::query(
        "INSERT INTO mnt_wo_attachments (id, work_order_id, kind, file_name, content_type, size_bytes, sha256, content, \
         created_by, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
    )
    .bind(&id)
    .bind(wo_id)
    .bind(kind)
    .bind(if name.is_empty() { "photo".to_string() } else { name })
    .bind(content_type)
    .bind(u.data.len() as i64)
    .bind(boh_platform::util::sha256_hex(&u.data))
    .bind(u.data.clone())
    .bind(by.map(str::to_string))
    .bind(now().micros())
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// An attachment's bytes, for someone who sees its work order.
pub async fn attachment(
    p: &Platform,
    actor: &Actor,
    wo_id: &str,
    att_id: &str,
) -> Result<(String, String, Vec<u8>)> {
    get(p, actor, wo_id).await?;
    attachment_bytes(p, wo_id, att_id).await
}

/// An attachment's bytes, unscoped (the public tracking page checks its token first).
pub async fn attachment_bytes(
    p: &Platform,
    wo_id: &str,
    att_id: &str,
) -> Result<(String, String, Vec<u8>)> {
    let r = sqlx::query(
        "SELECT file_name, content_type, content FROM mnt_wo_attachments WHERE id = $1 AND work_order_id = $2",
    )
    .bind(att_id)
    .bind(wo_id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    Ok((
        r.try_get("file_name")?,
        r.try_get("content_type")?,
        r.try_get("content")?,
    ))
}

/// Tell the requester (a signed-in one) of a status change.
async fn tell_requester(p: &Platform, tx: &mut AnyConnection, l: &Loaded, to: &str) -> Result<()> {
    if let Some(u) = &l.wo.requester_id {
        boh_workflow::inbox::notify(
            p,
            tx,
            u,
            "maintenance.status",
            &format!("{} · {} → {to}", l.wo.number, l.wo.title),
            Some(&format!("/maintenance/work-orders/{}", l.wo.id)),
        )
        .await?;
    }
    Ok(())
}

/// Users holding the dispatch permission at a site (grants on it or an ancestor), for
/// warnings and reviews.
async fn dispatchers(tx: &mut AnyConnection, path: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT g.user_id, COALESCE(n.path, '/') AS path, r.permissions FROM grants g \
         JOIN roles r ON r.id = g.role_id LEFT JOIN org_nodes n ON n.id = g.org_node_id \
         JOIN users u ON u.id = g.user_id WHERE u.active = 1 AND (u.company_id IS NULL OR $1 LIKE '/' || u.company_id || '/%') \
         ORDER BY g.user_id",
    )
    .bind(path)
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::new();
    for r in rows {
        let gp: String = r.try_get("path")?;
        let perms: String = r.try_get("permissions")?;
        if path.starts_with(&gp) && perms.contains(perm::MAINTENANCE_DISPATCH) {
            let u: String = r.try_get("user_id")?;
            if !out.contains(&u) {
                out.push(u);
            }
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------- dispatcher actions

fn stale() -> PlatformError {
    PlatformError::conflict(
        "version",
        "the work order was changed by someone else; reload and try again",
    )
}

fn wrong_status(l: &Loaded, action: &str) -> PlatformError {
    PlatformError::refused(
        "wrong_status",
        format!(
            "{} is {}; it cannot be {action} now",
            l.wo.number,
            l.wo.status.replace('_', " ")
        ),
    )
}

/// A work order the actor may dispatch: 404 outside what they see, 403 without dispatch.
async fn for_dispatch(p: &Platform, actor: &Actor, id: &str) -> Result<Loaded> {
    let l = get(p, actor, id).await?;
    if !actor.allows(perm::MAINTENANCE_DISPATCH, &l.path) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH));
    }
    Ok(l)
}

/// Move the work order from one status to another if it is still in `from` at `version`.
#[allow(clippy::too_many_arguments)]
async fn set_status(
    tx: &mut AnyConnection,
    l: &Loaded,
    to: &str,
    extra_sql: &str,
    extra: Vec<Option<String>>,
    extra_i: Vec<Option<i64>>,
) -> Result<()> {
    // extra_sql uses $3.. for the text binds then the integer binds, in that order.
    let sql = format!(
        "UPDATE mnt_work_orders SET status = $1, updated_at = $2{extra_sql}, version = version + 1 \
         WHERE id = ${} AND version = ${}",
        3 + extra.len() + extra_i.len(),
        4 + extra.len() + extra_i.len()
    );
    let mut q = sqlx::query(boh_db::AssertSqlSafe(sql))
        .bind(to.to_string())
        .bind(now().micros());
    for e in extra {
        q = q.bind(e);
    }
    for e in extra_i {
        q = q.bind(e);
    }
    let n = q
        .bind(l.wo.id.clone())
        .bind(l.wo.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if n != 1 {
        return Err(stale());
    }
    Ok(())
}

/// Assign (or reassign) a work order to a technician. Needs dispatch at the site; the
/// technician must be active and of the company. `note` says why (the dispatch plan's
/// reasons, or the dispatcher's own when overriding).
pub async fn assign(
    p: &Platform,
    ctx: &Ctx,
    id: &str,
    technician_id: &str,
    note: Option<&str>,
) -> Result<WorkOrder> {
    let l = for_dispatch(p, &ctx.actor, id).await?;
    if !["open", "assigned", "accepted", "review"].contains(&l.wo.status.as_str()) {
        return Err(wrong_status(&l, "assigned"));
    }
    let tech = crate::technician::fetch(p, technician_id)
        .await?
        .filter(|t| t.company_id == l.wo.company_id)
        .ok_or_else(|| PlatformError::invalid("technician_id", "no such technician"))?;
    if tech.status != "active" {
        return Err(PlatformError::invalid(
            "technician_id",
            format!("{} is inactive", tech.name),
        ));
    }
    let note = note.map(str::trim).filter(|s| !s.is_empty());
    tx!(p.db, tx, {
        set_status(
            tx,
            &l,
            "assigned",
            ", technician_id = $3, assign_note = $4, assigned_at = $5",
            vec![Some(tech.id.clone()), note.map(str::to_string)],
            vec![Some(now().micros())],
        )
        .await?;
        let what = match note {
            Some(n) => format!("{}: {n}", tech.name),
            None => tech.name.clone(),
        };
        event(
            tx,
            id,
            Some(&ctx.actor.user_id),
            &ctx.actor.display_name,
            "assigned",
            Some(&l.wo.status),
            Some("assigned"),
            Some(&what),
        )
        .await?;
        if let Some(u) = &tech.user_id {
            boh_workflow::inbox::notify(
                p,
                tx,
                u,
                "maintenance.assigned",
                &format!("{} · {}", l.wo.number, l.wo.title),
                Some(&format!("/maintenance/jobs/{id}")),
            )
            .await?;
        }
        if l.wo.status == "open" {
            tell_requester(p, tx, &l, "assigned").await?;
        }
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.work_order.assign",
                entity_type: "mnt_work_order",
                entity_id: id,
                org_path: Some(&l.path),
                before: Some(json!({"technician_id": l.wo.technician_id, "status": l.wo.status})),
                after: Some(json!({"technician_id": tech.id, "status": "assigned", "note": note})),
            },
        )
        .await?;
        events::emit(
            tx,
            "maintenance.work_order.assigned",
            Some(&l.path),
            &json!({"id": id, "number": l.wo.number, "technician_id": tech.id}),
        )
        .await?;
        let out = load_in(tx, id).await?;
        Ok(out.wo)
    })
}

/// Close (a done or reviewed job, without waiting for the rating) or cancel (any open job,
/// with a reason). Needs dispatch at the site.
pub async fn close_or_cancel(
    p: &Platform,
    ctx: &Ctx,
    id: &str,
    cancel: bool,
    note: Option<&str>,
) -> Result<WorkOrder> {
    let l = for_dispatch(p, &ctx.actor, id).await?;
    let note = note.map(str::trim).filter(|s| !s.is_empty());
    let (to, ok) = if cancel {
        ("cancelled", OPEN_STATUSES.contains(&l.wo.status.as_str()))
    } else {
        ("closed", ["done", "review"].contains(&l.wo.status.as_str()))
    };
    if !ok {
        return Err(wrong_status(
            &l,
            if cancel { "cancelled" } else { "closed" },
        ));
    }
    if cancel && note.is_none() {
        return Err(PlatformError::invalid(
            "note",
            "a reason is required to cancel",
        ));
    }
    tx!(p.db, tx, {
        set_status(
            tx,
            &l,
            to,
            ", closed_at = $3, paused_at = NULL",
            vec![],
            vec![Some(now().micros())],
        )
        .await?;
        event(
            tx,
            id,
            Some(&ctx.actor.user_id),
            &ctx.actor.display_name,
            to,
            Some(&l.wo.status),
            Some(to),
            note,
        )
        .await?;
        tell_requester(p, tx, &l, to).await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: if cancel {
                    "maintenance.work_order.cancel"
                } else {
                    "maintenance.work_order.close"
                },
                entity_type: "mnt_work_order",
                entity_id: id,
                org_path: Some(&l.path),
                before: Some(json!({"status": l.wo.status})),
                after: Some(json!({"status": to, "note": note})),
            },
        )
        .await?;
        Ok(load_in(tx, id).await?.wo)
    })
}

// ---------------------------------------------------------------- the technician's work

/// A step of the technician's work.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// accept, travel, start, pause, resume or finish.
    pub action: String,
    /// pause: waiting_parts, waiting_store or other.
    #[serde(default)]
    pub pause_reason: Option<String>,
    /// finish: why it failed.
    #[serde(default)]
    pub cause_code: Option<String>,
    /// finish: what was done.
    #[serde(default)]
    pub remedy_code: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub note: Option<String>,
    /// finish: the name of the person on site who signs the job off.
    #[serde(default)]
    #[schema(max_length = 80)]
    pub signed_by: Option<String>,
    /// finish: the signature drawn on the phone, as a PNG data URL.
    #[serde(default)]
    pub signature_png: Option<String>,
    /// The version the step is based on (lost-update guard).
    #[serde(default)]
    pub version: Option<i64>,
}

/// A work order the actor may work on: the assigned technician, or a dispatcher of the site.
async fn for_work(p: &Platform, actor: &Actor, id: &str) -> Result<Loaded> {
    let l = get(p, actor, id).await?;
    if is_assignee(actor, &l) || actor.allows(perm::MAINTENANCE_DISPATCH, &l.path) {
        Ok(l)
    } else {
        Err(PlatformError::Forbidden(perm::MAINTENANCE_WORK))
    }
}

fn decode_png_data_url(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let b64 = s.strip_prefix("data:image/png;base64,")?;
    let data = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    (image_type(&data) == Some("image/png")).then_some(data)
}

/// Business minutes of work: the time between each start or resume and the next pause or
/// finish, from the history.
async fn labour_minutes(tx: &mut AnyConnection, id: &str, end: i64) -> Result<i64> {
    let rows = sqlx::query(
        "SELECT at, kind FROM mnt_wo_events WHERE work_order_id = $1 AND kind IN ('started','resumed','paused') ORDER BY seq",
    )
    .bind(id)
    .fetch_all(&mut *tx)
    .await?;
    let mut total = 0i64;
    let mut since: Option<i64> = None;
    for r in rows {
        let at: i64 = r.try_get("at")?;
        let kind: String = r.try_get("kind")?;
        match kind.as_str() {
            "started" | "resumed" => since = since.or(Some(at)),
            _ => {
                if let Some(s) = since.take() {
                    total += at - s;
                }
            }
        }
    }
    if let Some(s) = since {
        total += end - s;
    }
    Ok((total / 60_000_000).max(1))
}

/// Take a step: accept, travel, start, pause (with a reason; the SLA clock stops), resume
/// (the paused business time moves the resolution due time), or finish (cause and remedy
/// codes, every required checklist item ticked, the sign-off when required). The requester
/// is told of each change.
pub async fn step(p: &Platform, ctx: &Ctx, id: &str, input: &StepInput) -> Result<WorkOrder> {
    let l = for_work(p, &ctx.actor, id).await?;
    if let Some(v) = input.version
        && v != l.wo.version
    {
        return Err(stale());
    }
    let from = l.wo.status.as_str();
    let t = now().micros();
    let mut errors = Vec::new();
    let (to, kind): (&str, &str) = match (input.action.as_str(), from) {
        ("accept", "assigned") => ("accepted", "accepted"),
        ("travel", "assigned" | "accepted") => ("travelling", "travelling"),
        ("start", "assigned" | "accepted" | "travelling") => ("in_progress", "started"),
        ("pause", "in_progress") => ("paused", "paused"),
        ("resume", "paused") => ("in_progress", "resumed"),
        ("finish", "in_progress") => ("done", "finished"),
        (a, _) if !["accept", "travel", "start", "pause", "resume", "finish"].contains(&a) => {
            return Err(PlatformError::invalid(
                "action",
                "must be one of accept, travel, start, pause, resume, finish",
            ));
        }
        (a, _) => return Err(wrong_status(&l, &format!("{a}ed").replace("eed", "ed"))),
    };
    let note = text_field(&mut errors, "note", input.note.as_deref(), 4000);
    let mut pause_reason = None;
    if kind == "paused" {
        match input.pause_reason.as_deref() {
            Some(r) if PAUSE_REASONS.contains(&r) => pause_reason = Some(r.to_string()),
            _ => errors.push(FieldError::new("pause_reason", one_of(PAUSE_REASONS))),
        }
    }
    let mut signature: Option<Vec<u8>> = None;
    let mut signed_by = None;
    if kind == "finished" {
        match input.cause_code.as_deref() {
            Some(c) if CAUSE_CODES.contains(&c) => {}
            _ => errors.push(FieldError::new("cause_code", one_of(CAUSE_CODES))),
        }
        match input.remedy_code.as_deref() {
            Some(c) if REMEDY_CODES.contains(&c) => {}
            _ => errors.push(FieldError::new("remedy_code", one_of(REMEDY_CODES))),
        }
        signed_by = text_field(&mut errors, "signed_by", input.signed_by.as_deref(), 80);
        if let Some(s) = input.signature_png.as_deref().filter(|s| !s.is_empty()) {
            match decode_png_data_url(s) {
                Some(d) if d.len() <= MAX_PHOTO_BYTES => signature = Some(d),
                Some(_) => errors.push(FieldError::new("signature_png", "is too large")),
                None => errors.push(FieldError::new(
                    "signature_png",
                    "must be a PNG image as a data:image/png;base64 URL",
                )),
            }
        }
        if l.wo.signature_required && (signed_by.is_none() || signature.is_none()) {
            errors.push(FieldError::new(
                "signed_by",
                "this job needs the on-site sign-off: a name and a drawn signature",
            ));
        }
        let open_required: Vec<String> = checklist_of(p.db.pool(), id)
            .await?
            .into_iter()
            .filter(|c| c.required && !c.done)
            .map(|c| c.label)
            .collect();
        if !open_required.is_empty() {
            errors.push(FieldError::new(
                "checklist",
                format!("still to tick: {}", open_required.join("; ")),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let tz = sla::zone(&l.timezone);
    tx!(p.db, tx, {
        match kind {
            "accepted" | "travelling" | "started" => {
                set_status(
                    tx,
                    &l,
                    to,
                    ", responded_at = COALESCE(responded_at, $3)",
                    vec![],
                    vec![Some(t)],
                )
                .await?
            }
            "paused" => {
                set_status(
                    tx,
                    &l,
                    to,
                    ", pause_reason = $3, paused_at = $4",
                    vec![pause_reason.clone()],
                    vec![Some(t)],
                )
                .await?
            }
            "resumed" => {
                let since = l.raw.paused_at.unwrap_or(t);
                let paused = sla::business_between(&l.hours, &tz, since, t).max(0);
                let total = l.raw.paused_min + paused;
                let due = sla::add_business(
                    &l.hours,
                    &tz,
                    l.raw.created_at,
                    l.raw.resolution_min + total,
                );
                set_status(
                    tx,
                    &l,
                    to,
                    ", pause_reason = NULL, paused_at = NULL, paused_min = $3, resolution_due_at = $4",
                    vec![],
                    vec![Some(total), Some(due)],
                )
                .await?
            }
            _ => {
                let minutes = labour_minutes(tx, id, t).await?;
                let rate: i64 = match &l.wo.technician_id {
                    Some(tid) => {
                        sqlx::query("SELECT hourly_rate FROM mnt_technicians WHERE id = $1")
                            .bind(tid)
                            .fetch_optional(&mut *tx)
                            .await?
                            .map(|r| r.try_get("hourly_rate"))
                            .transpose()?
                            .unwrap_or(0)
                    }
                    None => 0,
                };
                set_status(
                    tx,
                    &l,
                    to,
                    ", cause_code = $3, remedy_code = $4, resolution_note = $5, signed_by = $6, finished_at = $7, \
                     labour_min = $8, labour_cost = $9",
                    vec![
                        input.cause_code.clone(),
                        input.remedy_code.clone(),
                        note.clone(),
                        signed_by.clone(),
                    ],
                    vec![Some(t), Some(minutes), Some(minutes * rate / 60)],
                )
                .await?;
                if let Some(sig) = &signature {
                    attach_in(
                        tx,
                        id,
                        "signature",
                        &Upload {
                            file_name: "signature.png".into(),
                            data: sig.clone(),
                        },
                        "image/png",
                        Some(&ctx.actor.user_id),
                    )
                    .await?;
                }
            }
        }
        let ev_note = match kind {
            "paused" => pause_reason.clone(),
            "finished" => Some(format!(
                "{} / {}{}",
                input.cause_code.clone().unwrap_or_default(),
                input.remedy_code.clone().unwrap_or_default(),
                note.as_deref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            )),
            _ => note.clone(),
        };
        event(
            tx,
            id,
            Some(&ctx.actor.user_id),
            &ctx.actor.display_name,
            kind,
            Some(from),
            Some(to),
            ev_note.as_deref(),
        )
        .await?;
        if matches!(kind, "accepted" | "started" | "finished") {
            tell_requester(p, tx, &l, to).await?;
        }
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.work_order.step",
                entity_type: "mnt_work_order",
                entity_id: id,
                org_path: Some(&l.path),
                before: Some(json!({"status": from})),
                after: Some(json!({"status": to, "action": input.action})),
            },
        )
        .await?;
        if kind == "finished" {
            events::emit(
                tx,
                "maintenance.work_order.finished",
                Some(&l.path),
                &json!({"id": id, "number": l.wo.number, "asset_id": l.wo.asset_id,
                    "cause_code": input.cause_code, "remedy_code": input.remedy_code}),
            )
            .await?;
        }
        Ok(load_in(tx, id).await?.wo)
    })
}

/// Tick or untick a checklist item (the technician or a dispatcher, while the job is open).
pub async fn tick(p: &Platform, ctx: &Ctx, id: &str, seq: i64, done: bool) -> Result<()> {
    let l = for_work(p, &ctx.actor, id).await?;
    if !OPEN_STATUSES.contains(&l.wo.status.as_str()) {
        return Err(wrong_status(&l, "changed"));
    }
    tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE mnt_wo_checklist SET done_at = $1, done_by = $2 WHERE work_order_id = $3 AND seq = $4",
        )
        .bind(if done { Some(now().micros()) } else { None })
        .bind(if done {
            Some(ctx.actor.user_id.clone())
        } else {
            None
        })
        .bind(id)
        .bind(seq)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 {
            return Err(PlatformError::invalid("seq", "no such checklist item"));
        }
        touch(tx, id).await?;
        Ok(())
    })
}

/// A part used on the job.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartInput {
    /// The item by id …
    #[serde(default)]
    pub item_id: Option<String>,
    /// … or by code.
    #[serde(default)]
    pub item_code: Option<String>,
    /// Positive, in the item's base unit.
    #[schema(value_type = String, example = "1")]
    pub qty: Qty,
    /// Where it is taken from: the work order's site (default) or the technician's van.
    #[serde(default)]
    pub location_id: Option<String>,
}

/// Issue a part from stock for the job: an `issue` document in the stock ledger at the site
/// (or the technician's van), at the moving-average cost, in the same transaction as the
/// part row and the work order's parts cost. Refused where the location forbids negative
/// stock and there is not enough.
pub async fn add_part(p: &Platform, ctx: &Ctx, id: &str, input: &PartInput) -> Result<PartUsed> {
    let l = for_work(p, &ctx.actor, id).await?;
    if ![
        "accepted",
        "travelling",
        "in_progress",
        "paused",
        "assigned",
    ]
    .contains(&l.wo.status.as_str())
    {
        return Err(wrong_status(&l, "given parts"));
    }
    let mut errors = Vec::new();
    let van = match &l.wo.technician_id {
        Some(t) => crate::technician::fetch(p, t)
            .await?
            .and_then(|t| t.van_location_id),
        None => None,
    };
    let loc_id = input
        .location_id
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| l.wo.location_id.clone());
    if loc_id != l.wo.location_id && Some(&loc_id) != van.as_ref() {
        errors.push(FieldError::new(
            "location_id",
            "must be the work order's site or the technician's van",
        ));
    }
    let refs = vec![(
        input.item_id.clone().filter(|s| !s.is_empty()),
        input.item_code.clone().filter(|s| !s.is_empty()),
        "part".to_string(),
    )];
    let items = ledger::resolve_items(p, &l.wo.company_id, &refs, &mut errors).await?;
    if input.qty.is_zero() || input.qty.is_negative() {
        errors.push(FieldError::new("qty", "must be positive"));
    }
    let item: Option<Item> = items.into_iter().next().flatten();
    if let Some(i) = &item
        && !i.stocked
    {
        errors.push(FieldError::new(
            "part.item_id",
            format!("item {} is not held in stock", i.code),
        ));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let item = item.ok_or(PlatformError::NotFound)?;
    let loc = org::fetch(p, &loc_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    let backend = p.db.backend();
    let today = boh_inventory::today_in(&loc.timezone).to_string();
    let doc = PostDoc {
        location: loc.clone(),
        kind: "issue",
        business_date: today,
        reference: Some(l.wo.number.clone()),
        note: Some(format!("{} {}", l.wo.number, l.wo.title)),
        source_type: Some("mnt_work_order".into()),
        source_id: Some(id.to_string()),
        reverses_id: None,
        lines: vec![PostLine {
            lot: if item.lot_tracked {
                LotPick::Fefo
            } else {
                LotPick::NoLot
            },
            qty: -input.qty.micros(),
            value: ValueSpec::AtCost,
            kind: "issue",
            reason: Some("maintenance".into()),
            reverses_id: None,
            field: "qty".into(),
            item: item.clone(),
        }],
        allow_negative: false,
    };
    let part_id = new_id();
    tx!(p.db, tx, {
        let posted = ledger::post_in(tx, backend, ctx, &doc).await?;
        let value = -posted.total_value;
        let t = now().micros();
        sqlx::query(
            "INSERT INTO mnt_wo_parts (id, work_order_id, item_id, location_id, qty, value, doc_id, created_by, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
        )
        .bind(&part_id)
        .bind(id)
        .bind(&item.id)
        .bind(&loc.id)
        .bind(input.qty.micros())
        .bind(value)
        .bind(&posted.id)
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE mnt_work_orders SET parts_cost = parts_cost + $1, updated_at = $2, version = version + 1 WHERE id = $3",
        )
        .bind(value)
        .bind(t)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        event(
            tx,
            id,
            Some(&ctx.actor.user_id),
            &ctx.actor.display_name,
            "part",
            None,
            None,
            Some(&format!("{} × {} {}", item.code, input.qty, item.base_unit)),
        )
        .await?;
        let used = PartUsed {
            id: part_id.clone(),
            item_id: item.id.clone(),
            item_code: item.code.clone(),
            item_name: if zh(&ctx.actor) {
                item.name_zh.clone()
            } else {
                item.name_en.clone()
            },
            location_id: loc.id.clone(),
            qty: input.qty,
            unit: item.base_unit.clone(),
            value,
            doc_id: posted.id,
            created_at: instant(t),
        };
        boh_platform::idem::record_created(tx, ctx, &used).await?;
        Ok(used)
    })
}

/// Attach photos to a work order (anyone who may work on it, or report at its site).
pub async fn add_photos(p: &Platform, ctx: &Ctx, id: &str, photos: &[Upload]) -> Result<usize> {
    let l = get(p, &ctx.actor, id).await?;
    if !is_assignee(&ctx.actor, &l)
        && !ctx.actor.allows(perm::MAINTENANCE_DISPATCH, &l.path)
        && !ctx.actor.allows(perm::MAINTENANCE_REQUEST, &l.path)
    {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_WORK));
    }
    let mut errors = Vec::new();
    let ok = check_photos("photos", photos, &mut errors);
    if ok.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("photos", "choose at least one photo"));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    tx!(p.db, tx, {
        for (u, t) in &ok {
            attach_in(tx, id, "photo", u, t, Some(&ctx.actor.user_id)).await?;
        }
        event(
            tx,
            id,
            Some(&ctx.actor.user_id),
            &ctx.actor.display_name,
            "photo",
            None,
            None,
            Some(&format!("{} photo(s)", ok.len())),
        )
        .await?;
        touch(tx, id).await?;
        Ok(ok.len())
    })
}

/// A note on the work order from anyone who sees it.
pub async fn add_note(p: &Platform, ctx: &Ctx, id: &str, note: &str) -> Result<()> {
    get(p, &ctx.actor, id).await?;
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        return Err(PlatformError::invalid(
            "note",
            "must be 1 to 2000 characters",
        ));
    }
    tx!(p.db, tx, {
        event(
            tx,
            id,
            Some(&ctx.actor.user_id),
            &ctx.actor.display_name,
            "note",
            None,
            None,
            Some(note),
        )
        .await?;
        touch(tx, id).await?;
        Ok(())
    })
}

// ---------------------------------------------------------------- closing the loop

/// The requester's rating of a finished job, 1–5. Above [`LOW_RATING`] it closes the work
/// order; at or below it the work order goes to `review` and the site's dispatchers are told.
pub async fn rate_in(
    p: &Platform,
    ctx: &Ctx,
    l: &Loaded,
    rating: i64,
    comment: Option<&str>,
) -> Result<WorkOrder> {
    let mut errors = Vec::new();
    if !(1..=5).contains(&rating) {
        errors.push(FieldError::new("rating", "must be 1 to 5"));
    }
    let comment = text_field(&mut errors, "comment", comment, 2000);
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    if l.wo.status != "done" {
        return Err(wrong_status(l, "rated"));
    }
    let to = if rating <= LOW_RATING {
        "review"
    } else {
        "closed"
    };
    let who = if ctx.actor.user_id == "public" || ctx.actor.user_id == "system" {
        l.wo.requester_name.clone().unwrap_or_else(|| "—".into())
    } else {
        ctx.actor.display_name.clone()
    };
    tx!(p.db, tx, {
        set_status(
            tx,
            l,
            to,
            ", rating_comment = $3, rating = $4, closed_at = $5",
            vec![comment.clone()],
            vec![
                Some(rating),
                if to == "closed" {
                    Some(now().micros())
                } else {
                    None
                },
            ],
        )
        .await?;
        event(
            tx,
            &l.wo.id,
            Some(&ctx.actor.user_id)
                .filter(|u| *u != "public" && *u != "system")
                .map(|s| s.as_str()),
            &who,
            "rated",
            Some("done"),
            Some(to),
            Some(&format!(
                "{rating}/5{}",
                comment
                    .as_deref()
                    .map(|c| format!(": {c}"))
                    .unwrap_or_default()
            )),
        )
        .await?;
        if to == "review" {
            for u in dispatchers(tx, &l.path).await? {
                boh_workflow::inbox::notify(
                    p,
                    tx,
                    &u,
                    "maintenance.review",
                    &format!("{} · {rating}/5 · {}", l.wo.number, l.wo.title),
                    Some(&format!("/maintenance/work-orders/{}", l.wo.id)),
                )
                .await?;
            }
        }
        events::emit(
            tx,
            "maintenance.work_order.rated",
            Some(&l.path),
            &json!({"id": l.wo.id, "number": l.wo.number, "rating": rating, "status": to}),
        )
        .await?;
        Ok(load_in(tx, &l.wo.id).await?.wo)
    })
}

/// The signed-in requester (or someone who may report at the site) rates the job.
pub async fn rate(
    p: &Platform,
    ctx: &Ctx,
    id: &str,
    rating: i64,
    comment: Option<&str>,
) -> Result<WorkOrder> {
    let l = get(p, &ctx.actor, id).await?;
    if l.wo.requester_id.as_deref() != Some(ctx.actor.user_id.as_str())
        && !ctx.actor.allows(perm::MAINTENANCE_REQUEST, &l.path)
    {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_REQUEST));
    }
    rate_in(p, ctx, &l, rating, comment).await
}

/// A work order by its requester's tracking token (the public status page).
pub async fn by_tracking(p: &Platform, token: &str) -> Result<Option<Loaded>> {
    if token.len() < 16 {
        return Ok(None);
    }
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE w.tracking_token = $1"
    )))
    .bind(token)
    .fetch_optional(p.db.pool())
    .await?;
    r.map(|r| from_row(&r, false)).transpose()
}

/// The public history of a work order: status steps only (no notes, parts or names of staff
/// beyond the technician's).
pub async fn public_events(p: &Platform, id: &str) -> Result<Vec<WoEvent>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor_name, kind, from_status, to_status FROM mnt_wo_events \
         WHERE work_order_id = $1 AND to_status IS NOT NULL ORDER BY seq",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(WoEvent {
                seq: r.try_get("seq")?,
                at: instant(r.try_get("at")?),
                actor_name: String::new(),
                kind: r.try_get("kind")?,
                from_status: r.try_get("from_status")?,
                to_status: r.try_get("to_status")?,
                note: None,
            })
        })
        .collect()
}

// ---------------------------------------------------------------- SLA watch

/// What one SLA scan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SlaScan {
    pub checked: usize,
    pub warned: usize,
    pub escalated: usize,
}

/// Warn (level 1: at risk) and escalate (level 2: breached) open work orders, once each: the
/// assigned technician and the site's dispatchers are told, and the history says so.
pub async fn sla_scan(p: &Platform) -> Result<SlaScan> {
    let open_list = sql_list(OPEN_STATUSES, |s| s != "paused");
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE w.status IN ({open_list}) AND w.escalation_level < 2"
    )))
    .fetch_all(p.db.pool())
    .await?;
    let mut out = SlaScan::default();
    for r in &rows {
        let l = from_row(r, false)?;
        out.checked += 1;
        let level = match l.wo.sla.state.as_str() {
            "breached" => 2,
            "at_risk" => 1,
            _ => 0,
        };
        if level <= l.wo.sla.escalation_level {
            continue;
        }
        tx!(p.db, tx, {
            let n = sqlx::query(
                "UPDATE mnt_work_orders SET escalation_level = $1 WHERE id = $2 AND escalation_level < $1",
            )
            .bind(level)
            .bind(&l.wo.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(());
            }
            let kind = if level == 2 {
                "sla_breach"
            } else {
                "sla_warning"
            };
            let left = l.wo.sla.resolution_left_min.unwrap_or(0);
            event(
                tx,
                &l.wo.id,
                None,
                "SLA",
                kind,
                None,
                None,
                Some(&format!("{left} business minutes left")),
            )
            .await?;
            let mut to = dispatchers(tx, &l.path).await?;
            if let Some(u) = &l.technician_user_id
                && !to.contains(u)
            {
                to.push(u.clone());
            }
            for u in to {
                boh_workflow::inbox::notify(
                    p,
                    tx,
                    &u,
                    &format!("maintenance.{kind}"),
                    &format!("{} · {}", l.wo.number, l.wo.title),
                    Some(&format!("/maintenance/work-orders/{}", l.wo.id)),
                )
                .await?;
            }
            Ok(())
        })?;
        if level == 2 {
            out.escalated += 1;
        } else {
            out.warned += 1;
        }
    }
    Ok(out)
}

/// The job kind of the SLA scan.
pub const SLA_JOB: &str = "maintenance.sla";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_are_known_by_their_bytes() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0, 0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<svg xmlns=...>"), None);
        assert_eq!(image_type(b"GIF89a"), None);
    }

    #[test]
    fn photos_are_checked_for_size_type_and_count() {
        let png = |n: usize| {
            let mut d = b"\x89PNG\r\n\x1a\n".to_vec();
            d.resize(n, 0);
            Upload {
                file_name: "a.png".into(),
                data: d,
            }
        };
        let mut e = Vec::new();
        let ok = check_photos("photos", &[png(100), Upload::default()], &mut e);
        assert_eq!((ok.len(), e.len()), (1, 0));
        let mut e = Vec::new();
        let big = png(MAX_PHOTO_BYTES + 1);
        let exe = Upload {
            file_name: "x.jpg".into(),
            data: b"MZ\x90\0".to_vec(),
        };
        let ok = check_photos("photos", &[big, exe], &mut e);
        assert!(ok.is_empty());
        assert_eq!(e[0].field, "photos[0]");
        assert!(e[0].message.contains("at most 5 MB"), "{}", e[0].message);
        assert_eq!(e[1].field, "photos[1]");
        let mut e = Vec::new();
        check_photos("photos", &vec![png(10); MAX_PHOTOS + 1], &mut e);
        assert_eq!(e[0].message, "at most 4 photos");
    }

    #[test]
    fn signatures_must_be_png_data_urls() {
        use base64::Engine as _;
        let png = base64::engine::general_purpose::STANDARD.encode(b"\x89PNG\r\n\x1a\nxx");
        assert!(decode_png_data_url(&format!("data:image/png;base64,{png}")).is_some());
        let gif = base64::engine::general_purpose::STANDARD.encode(b"GIF89a");
        assert!(decode_png_data_url(&format!("data:image/png;base64,{gif}")).is_none());
        assert!(decode_png_data_url("javascript:alert(1)").is_none());
    }
}
