//! Preventive maintenance: schedules on an asset that generate work orders (source `pm`) ahead
//! of their due date or due meter reading.
//!
//! A schedule is triggered by the calendar (every N days / weeks / months), by a meter of the
//! asset (every N units), or by whichever of the two comes first. In `fixed` mode due dates are
//! counted from `start_date` (start + 1 interval, start + 2 intervals, ...; months keep the
//! start's day, clamped to the month's end) and due readings from `start_value`; in `floating`
//! mode the next due is counted from the last completion (`finished_at`) of the work order the
//! schedule generated, and the meter's reading then. A work order is generated `lead_days`
//! before the due date or `lead_units` before the due reading.
//!
//! [`run`] is idempotent: while the schedule's last work order is open nothing more is
//! generated; after a generation a fixed schedule moves its next due past today (missed
//! periods collapse into the one work order) and past the current reading.

use std::collections::HashMap;

use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::org;
use boh_platform::util::required_text;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, tx};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::asset;
use crate::sla::PRIORITIES;
use crate::workorder::{self, OPEN_STATUSES};

/// What triggers a schedule.
pub const TRIGGERS: &[&str] = &["calendar", "meter", "either"];
/// How the next due is counted.
pub const MODES: &[&str] = &["fixed", "floating"];
/// Calendar interval units.
pub const UNITS: &[&str] = &["day", "week", "month"];
/// At most this many checklist lines.
pub const MAX_CHECKLIST: usize = 50;
/// The job kind of the scheduled run.
pub const JOB_KIND: &str = "maintenance.pm";
/// The fault code of generated work orders.
pub const FAULT_CODE: &str = "other";

fn enum_of(values: &'static [&'static str]) -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(values, false, false)
}
fn trigger_schema() -> utoipa::openapi::Object {
    enum_of(TRIGGERS)
}
fn mode_schema() -> utoipa::openapi::Object {
    enum_of(MODES)
}
fn unit_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(UNITS, true, false)
}
fn priority_schema() -> utoipa::openapi::Object {
    enum_of(PRIORITIES)
}
/// An optional priority: absent or null keeps the default (or the current value).
fn priority_opt_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(PRIORITIES, true, false)
}

// ---------------------------------------------------------------- arithmetic (pure)

/// `start` plus `times` intervals of `n` `unit`s; months keep the day of `start`, clamped to
/// the end of the month (Jan 31 + 1 month = Feb 28/29). None when out of range.
pub fn add_interval(start: Date, n: i64, unit: &str, times: i64) -> Option<Date> {
    let k = n.checked_mul(times)?;
    let span = match unit {
        "day" => jiff::Span::new().try_days(k).ok()?,
        "week" => jiff::Span::new().try_days(k.checked_mul(7)?).ok()?,
        "month" => jiff::Span::new().try_months(k).ok()?,
        _ => return None,
    };
    start.checked_add(span).ok()
}

/// The first period `k >= from` whose due date (`start` + k intervals) is after `after`, with
/// that date.
pub fn next_fixed_date(
    start: Date,
    n: i64,
    unit: &str,
    from: i64,
    after: Date,
) -> Option<(i64, Date)> {
    let mut k = from.max(1);
    // Jump close to `after` first (days and weeks exactly, months roughly), then step.
    if let Ok(days) = start.until(after).map(|s| s.get_days() as i64)
        && days > 0
    {
        let per = match unit {
            "day" => n,
            "week" => n * 7,
            _ => n * 28,
        };
        if per > 0 {
            k = k.max(days / per - 1);
        }
    }
    for _ in 0..10_000 {
        let d = add_interval(start, n, unit, k)?;
        if d > after {
            return Some((k, d));
        }
        k += 1;
    }
    None
}

/// The first due reading `start + k * every` (k >= 1) above `current`.
pub fn next_fixed_value(start: i64, every: i64, current: i64) -> i64 {
    if every <= 0 {
        return i64::MAX;
    }
    let k = if current < start {
        1
    } else {
        (i128::from(current) - i128::from(start)) / i128::from(every) + 1
    };
    i64::try_from(i128::from(start) + k * i128::from(every)).unwrap_or(i64::MAX)
}

/// A date trigger is due from `lead_days` before the due date.
pub fn date_is_due(due: Date, lead_days: i64, today: Date) -> bool {
    match due.checked_sub(jiff::Span::new().days(lead_days.clamp(0, 3650))) {
        Ok(from) => today >= from,
        Err(_) => true,
    }
}

/// A meter trigger is due from `lead_units` before the due reading.
pub fn value_is_due(due: i64, lead_units: i64, value: i64) -> bool {
    value >= due.saturating_sub(lead_units.max(0))
}

// ---------------------------------------------------------------- types

/// One line of a schedule's checklist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistLine {
    #[schema(min_length = 1, max_length = 200)]
    pub label: String,
    /// The work order cannot be finished before a required line is ticked.
    #[serde(default)]
    pub required: bool,
}

/// A preventive maintenance schedule.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PmSchedule {
    pub id: String,
    pub company_id: String,
    pub location_id: String,
    pub asset_id: String,
    pub asset_code: String,
    pub asset_name: String,
    pub title: String,
    #[schema(schema_with = priority_schema)]
    pub priority: String,
    pub checklist: Vec<ChecklistLine>,
    pub signature_required: bool,
    #[schema(schema_with = trigger_schema)]
    pub trigger: String,
    #[schema(schema_with = mode_schema)]
    pub mode: String,
    /// Calendar: every `interval_n` `interval_unit`s.
    pub interval_n: Option<i64>,
    #[schema(schema_with = unit_schema)]
    pub interval_unit: Option<String>,
    /// Meter: every `meter_every` units of the asset's meter `meter_code`.
    pub meter_code: Option<String>,
    pub meter_every: Option<i64>,
    /// Generate the work order this many days before the due date.
    pub lead_days: i64,
    /// Generate the work order this many meter units before the due reading.
    pub lead_units: i64,
    /// Due dates count from here (`YYYY-MM-DD`).
    pub start_date: String,
    /// Due readings count from here.
    pub start_value: Option<i64>,
    /// The next due date (`YYYY-MM-DD`), for a calendar trigger.
    pub next_due_date: Option<String>,
    /// The next due reading, for a meter trigger.
    pub next_due_value: Option<i64>,
    /// The last generated work order, until it is finished.
    pub open_work_order_id: Option<String>,
    pub last_generated_at: Option<String>,
    /// When the last generated work order was finished.
    pub last_done_at: Option<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    /// Send it back with a change to guard against lost updates.
    pub version: i64,
}

/// A new schedule.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PmInput {
    pub asset_id: String,
    #[schema(min_length = 1, max_length = 160)]
    pub title: String,
    /// Default `medium`.
    #[serde(default)]
    #[schema(schema_with = priority_opt_schema)]
    pub priority: Option<String>,
    #[serde(default)]
    pub checklist: Vec<ChecklistLine>,
    #[serde(default)]
    pub signature_required: bool,
    #[schema(schema_with = trigger_schema)]
    pub trigger: String,
    /// Default `fixed`.
    #[serde(default)]
    #[schema(schema_with = mode_schema)]
    pub mode: Option<String>,
    /// Calendar and either: 1–3650.
    #[serde(default)]
    pub interval_n: Option<i64>,
    #[serde(default)]
    #[schema(schema_with = unit_schema)]
    pub interval_unit: Option<String>,
    /// Meter and either: a meter code of the asset.
    #[serde(default)]
    pub meter_code: Option<String>,
    /// Meter and either: 1 or more.
    #[serde(default)]
    pub meter_every: Option<i64>,
    /// 0–365, default 0.
    #[serde(default)]
    pub lead_days: Option<i64>,
    /// 0 or more, below `meter_every`; default 0.
    #[serde(default)]
    pub lead_units: Option<i64>,
    /// `YYYY-MM-DD`, default today at the site.
    #[serde(default)]
    pub start_date: Option<String>,
    /// Default the meter's last reading (0 when it has none).
    #[serde(default)]
    pub start_value: Option<i64>,
}

/// A change to a schedule: absent fields keep their value. The trigger is not changed; make a
/// new schedule and deactivate this one.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PmPatch {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(schema_with = priority_opt_schema)]
    pub priority: Option<String>,
    #[serde(default)]
    pub checklist: Option<Vec<ChecklistLine>>,
    #[serde(default)]
    pub signature_required: Option<bool>,
    #[serde(default)]
    pub lead_days: Option<i64>,
    #[serde(default)]
    pub lead_units: Option<i64>,
    /// `false` deactivates the schedule (nothing more is generated), `true` reactivates it.
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub version: Option<i64>,
}

/// Filters of the schedule list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct PmFilter {
    pub asset_id: Option<String>,
    pub location_id: Option<String>,
    /// Only sites under this org node.
    pub under: Option<String>,
    /// `active` (default), `inactive` or `all`.
    pub status: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A page of schedules.
#[derive(Debug, Clone, Serialize)]
pub struct PmPage {
    pub items: Vec<PmSchedule>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// A work order a run generated.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Generated {
    pub schedule_id: String,
    pub asset_id: String,
    pub work_order_id: String,
    pub number: String,
    /// `calendar` or `meter`: what made it due.
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    /// Active schedules looked at.
    pub checked: usize,
    pub generated: Vec<Generated>,
    /// Due, but the schedule's last work order is still open.
    pub waiting_open: usize,
    /// Due, but another work order for the same fault is open on the asset.
    pub blocked: usize,
}

// ---------------------------------------------------------------- reading

const COLS: &str = "s.id, s.company_id, s.location_id, s.location_path, s.asset_id, a.code AS asset_code, \
    a.name AS asset_name, a.status AS asset_status, s.title, s.priority, s.checklist, s.signature_required, \
    s.trigger_kind, s.mode, s.interval_n, s.interval_unit, s.meter_code, s.meter_every, s.lead_days, \
    s.lead_units, s.start_date, s.start_value, s.cycle, s.next_due_date, s.next_due_value, \
    s.open_work_order_id, s.last_generated_at, s.last_done_at, s.last_done_value, s.active, \
    s.created_at, s.updated_at, s.version";
const FROM: &str = "FROM mnt_pm_schedules s JOIN mnt_assets a ON a.id = s.asset_id";

/// A schedule with what the run needs.
#[derive(Debug, Clone)]
struct Loaded {
    s: PmSchedule,
    path: String,
    asset_active: bool,
    cycle: i64,
}

fn instant(v: i64) -> String {
    boh_kernel::Instant(v).rfc3339()
}

fn from_row(r: &boh_db::AnyRow) -> Result<Loaded> {
    let checklist: String = r.try_get("checklist")?;
    let opt_i = |c: &str| -> Result<Option<i64>> { Ok(r.try_get::<Option<i64>, _>(c)?) };
    Ok(Loaded {
        path: r.try_get("location_path")?,
        asset_active: r.try_get::<String, _>("asset_status")? == "active",
        cycle: r.try_get("cycle")?,
        s: PmSchedule {
            id: r.try_get("id")?,
            company_id: r.try_get("company_id")?,
            location_id: r.try_get("location_id")?,
            asset_id: r.try_get("asset_id")?,
            asset_code: r.try_get("asset_code")?,
            asset_name: r.try_get("asset_name")?,
            title: r.try_get("title")?,
            priority: r.try_get("priority")?,
            checklist: serde_json::from_str(&checklist).unwrap_or_default(),
            signature_required: r.try_get::<i64, _>("signature_required")? != 0,
            trigger: r.try_get("trigger_kind")?,
            mode: r.try_get("mode")?,
            interval_n: opt_i("interval_n")?,
            interval_unit: r.try_get("interval_unit")?,
            meter_code: r.try_get("meter_code")?,
            meter_every: opt_i("meter_every")?,
            lead_days: r.try_get("lead_days")?,
            lead_units: r.try_get("lead_units")?,
            start_date: r.try_get("start_date")?,
            start_value: opt_i("start_value")?,
            next_due_date: r.try_get("next_due_date")?,
            next_due_value: opt_i("next_due_value")?,
            open_work_order_id: r.try_get("open_work_order_id")?,
            last_generated_at: opt_i("last_generated_at")?.map(instant),
            last_done_at: opt_i("last_done_at")?.map(instant),
            active: r.try_get::<i64, _>("active")? != 0,
            created_at: instant(r.try_get("created_at")?),
            updated_at: instant(r.try_get("updated_at")?),
            version: r.try_get("version")?,
        },
    })
}

/// Who may see schedules at `path`: work-order readers, dispatchers and asset readers.
pub fn may_read(actor: &Actor, path: &str) -> bool {
    actor.allows(perm::MAINTENANCE_READ, path)
        || actor.allows(perm::MAINTENANCE_DISPATCH, path)
        || asset::may_read(actor, path)
}

/// The SQL predicate of the schedules (or rules) an actor may see, on `alias`.
pub(crate) fn read_scope(actor: &Actor, alias: &str) -> String {
    let path = format!("{alias}.location_path");
    let company = format!("{alias}.company_id");
    let mut parts: Vec<String> = Vec::new();
    for p in [
        perm::MAINTENANCE_READ,
        perm::MAINTENANCE_DISPATCH,
        perm::MAINTENANCE_ASSET_READ,
        perm::MAINTENANCE_ASSET,
    ] {
        let s = actor.scope(p).sql_by_company(&path, &company);
        if !parts.contains(&s) {
            parts.push(s);
        }
    }
    format!("({})", parts.join(" OR "))
}

async fn fetch(p: &Platform, id: &str) -> Result<Option<Loaded>> {
    if !boh_kernel::id::is_uuid(id) {
        return Ok(None);
    }
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE s.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    r.map(|r| from_row(&r)).transpose()
}

/// One schedule the actor may see (404 otherwise).
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<PmSchedule> {
    match fetch(p, id).await? {
        Some(l) if may_read(actor, &l.path) => Ok(l.s),
        _ => Err(PlatformError::NotFound),
    }
}

/// Schedules in the actor's scope, newest first.
pub async fn list(p: &Platform, actor: &Actor, f: &PmFilter) -> Result<PmPage> {
    let mut conds = vec![read_scope(actor, "s")];
    let mut binds: Vec<String> = Vec::new();
    let mut add = |sql: &str, v: String, binds: &mut Vec<String>| {
        binds.push(v);
        conds.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(a) = f.asset_id.as_deref().filter(|s| !s.is_empty()) {
        add("s.asset_id = ?", a.to_string(), &mut binds);
    }
    if let Some(l) = f.location_id.as_deref().filter(|s| !s.is_empty()) {
        add("s.location_id = ?", l.to_string(), &mut binds);
    }
    if let Some(u) = f.under.as_deref().filter(|s| !s.is_empty()) {
        let path = org::fetch(p, u)
            .await?
            .map(|n| n.path)
            .unwrap_or_else(|| "/none/".into());
        add(
            "s.location_path LIKE ? ESCAPE '\\'",
            format!("{}%", boh_platform::util::like_escape(&path)),
            &mut binds,
        );
    }
    match f.status.as_deref().unwrap_or("") {
        "" | "active" => conds.push("s.active = 1".into()),
        "inactive" => conds.push("s.active = 0".into()),
        "all" => {}
        _ => {
            return Err(PlatformError::invalid(
                "status",
                "must be active, inactive or all",
            ));
        }
    }
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    let wh = conds.join(" AND ");
    let mut qc = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM mnt_pm_schedules s WHERE {wh}"
    )));
    for b in &binds {
        qc = qc.bind(b.clone());
    }
    let total: i64 = qc.fetch_one(p.db.pool()).await?.try_get("n")?;
    let mut ql = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE {wh} ORDER BY s.created_at DESC, s.id LIMIT {limit} OFFSET {offset}"
    )));
    for b in &binds {
        ql = ql.bind(b.clone());
    }
    let items = ql
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| from_row(r).map(|l| l.s))
        .collect::<Result<_>>()?;
    Ok(PmPage {
        items,
        total,
        limit,
        offset,
    })
}

// ---------------------------------------------------------------- writing

fn one_of(values: &[&str]) -> String {
    format!("must be one of {}", values.join(", "))
}

fn check_checklist(errors: &mut Vec<FieldError>, lines: &[ChecklistLine]) -> Vec<ChecklistLine> {
    if lines.len() > MAX_CHECKLIST {
        errors.push(FieldError::new(
            "checklist",
            format!("at most {MAX_CHECKLIST} lines"),
        ));
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| ChecklistLine {
            label: required_text(errors, &format!("checklist[{i}].label"), &l.label, 200),
            required: l.required,
        })
        .collect()
}

/// The current reading of an asset's meter; `Err(())` when the asset has no such meter.
async fn meter_value<'e, E>(
    conn: E,
    asset_id: &str,
    code: &str,
) -> Result<std::result::Result<Option<i64>, ()>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let r = sqlx::query("SELECT last_value FROM mnt_meters WHERE asset_id = $1 AND code = $2")
        .bind(asset_id)
        .bind(code)
        .fetch_optional(conn)
        .await?;
    Ok(match r {
        Some(r) => Ok(r.try_get::<Option<i64>, _>("last_value")?),
        None => Err(()),
    })
}

/// Create a schedule on an active asset. Needs `maintenance.work_order.dispatch` at its site.
/// Every bad field is named at once and nothing is written.
pub async fn create(p: &Platform, ctx: &Ctx, input: &PmInput) -> Result<PmSchedule> {
    if input.asset_id.trim().is_empty() {
        return Err(PlatformError::invalid("asset_id", "is required"));
    }
    let a = asset::get(p, &ctx.actor, input.asset_id.trim()).await?;
    let site = org::fetch(p, &a.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !ctx.actor.allows(perm::MAINTENANCE_DISPATCH, &site.path) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH));
    }
    let mut errors = Vec::new();
    let title = required_text(&mut errors, "title", &input.title, 160);
    let priority = input
        .priority
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "medium".into());
    if !PRIORITIES.contains(&priority.as_str()) {
        errors.push(FieldError::new("priority", one_of(PRIORITIES)));
    }
    let checklist = check_checklist(&mut errors, &input.checklist);
    let trigger = input.trigger.trim().to_string();
    if !TRIGGERS.contains(&trigger.as_str()) {
        errors.push(FieldError::new("trigger", one_of(TRIGGERS)));
    }
    let mode = input
        .mode
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "fixed".into());
    if !MODES.contains(&mode.as_str()) {
        errors.push(FieldError::new("mode", one_of(MODES)));
    }
    let calendar = trigger == "calendar" || trigger == "either";
    let metered = trigger == "meter" || trigger == "either";
    let unit = input.interval_unit.clone().filter(|s| !s.is_empty());
    if calendar {
        match input.interval_n {
            Some(n) if (1..=3650).contains(&n) => {}
            Some(_) => errors.push(FieldError::new("interval_n", "must be 1 to 3650")),
            None => errors.push(FieldError::new(
                "interval_n",
                "is required for a calendar trigger",
            )),
        }
        match unit.as_deref() {
            Some(u) if UNITS.contains(&u) => {}
            Some(_) => errors.push(FieldError::new("interval_unit", one_of(UNITS))),
            None => errors.push(FieldError::new(
                "interval_unit",
                "is required for a calendar trigger",
            )),
        }
    } else {
        if input.interval_n.is_some() {
            errors.push(FieldError::new(
                "interval_n",
                "only for a calendar or either trigger",
            ));
        }
        if unit.is_some() {
            errors.push(FieldError::new(
                "interval_unit",
                "only for a calendar or either trigger",
            ));
        }
    }
    let meter_code = input
        .meter_code
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let mut current: Option<i64> = None;
    if metered {
        match &meter_code {
            Some(code) => match meter_value(p.db.pool(), &a.id, code).await? {
                Ok(v) => current = v,
                Err(()) => errors.push(FieldError::new(
                    "meter_code",
                    format!("asset {} has no meter {code}", a.code),
                )),
            },
            None => errors.push(FieldError::new(
                "meter_code",
                "is required for a meter trigger",
            )),
        }
        match input.meter_every {
            Some(n) if n >= 1 => {}
            Some(_) => errors.push(FieldError::new("meter_every", "must be 1 or more")),
            None => errors.push(FieldError::new(
                "meter_every",
                "is required for a meter trigger",
            )),
        }
    } else {
        if meter_code.is_some() {
            errors.push(FieldError::new(
                "meter_code",
                "only for a meter or either trigger",
            ));
        }
        if input.meter_every.is_some() {
            errors.push(FieldError::new(
                "meter_every",
                "only for a meter or either trigger",
            ));
        }
    }
    let lead_days = input.lead_days.unwrap_or(0);
    if !(0..=365).contains(&lead_days) {
        errors.push(FieldError::new("lead_days", "must be 0 to 365"));
    }
    let lead_units = input.lead_units.unwrap_or(0);
    if lead_units < 0 {
        errors.push(FieldError::new("lead_units", "must be 0 or more"));
    } else if metered
        && let Some(every) = input.meter_every
        && every >= 1
        && lead_units >= every
    {
        errors.push(FieldError::new(
            "lead_units",
            "must be less than meter_every",
        ));
    }
    let today = boh_inventory::today_in(&site.timezone);
    let start_date = match input.start_date.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => boh_inventory::validate_date(&mut errors, "start_date", s),
        None => Some(today),
    };
    if input.start_value.is_some_and(|v| v < 0) {
        errors.push(FieldError::new("start_value", "must be 0 or more"));
    }
    if a.status != "active" {
        errors.push(FieldError::new(
            "asset_id",
            format!("asset {} is retired", a.code),
        ));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let start_date = start_date.unwrap_or(today);
    let (interval_n, unit) = if calendar {
        (input.interval_n, unit)
    } else {
        (None, None)
    };
    let next_due_date = match (interval_n, unit.as_deref()) {
        (Some(n), Some(u)) => add_interval(start_date, n, u, 1),
        _ => None,
    };
    let (start_value, next_due_value) = if metered {
        let sv = input.start_value.unwrap_or(current.unwrap_or(0));
        (Some(sv), input.meter_every.map(|e| sv.saturating_add(e)))
    } else {
        (None, None)
    };
    let id = new_id();
    tx!(p.db, tx, {
        let t = now().micros();
        sqlx::query(
            "INSERT INTO mnt_pm_schedules (id, company_id, location_id, location_path, asset_id, title, priority, \
             checklist, signature_required, trigger_kind, mode, interval_n, interval_unit, meter_code, meter_every, \
             lead_days, lead_units, start_date, start_value, cycle, next_due_date, next_due_value, active, \
             created_by, created_at, updated_at, version) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,1,$20,$21,1,$22,$23,$23,1)",
        )
        .bind(&id)
        .bind(&a.company_id)
        .bind(&a.location_id)
        .bind(&site.path)
        .bind(&a.id)
        .bind(&title)
        .bind(&priority)
        .bind(serde_json::to_string(&checklist).map_err(anyhow::Error::from)?)
        .bind(i64::from(input.signature_required))
        .bind(&trigger)
        .bind(&mode)
        .bind(interval_n)
        .bind(unit.clone())
        .bind(if metered { meter_code.clone() } else { None })
        .bind(if metered { input.meter_every } else { None })
        .bind(lead_days)
        .bind(lead_units)
        .bind(start_date.to_string())
        .bind(start_value)
        .bind(next_due_date.map(|d| d.to_string()))
        .bind(next_due_value)
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        let l = from_row(
            &sqlx::query(boh_db::AssertSqlSafe(format!(
                "SELECT {COLS} {FROM} WHERE s.id = $1"
            )))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?,
        )?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.pm_schedule.create",
                entity_type: "mnt_pm_schedule",
                entity_id: &id,
                org_path: Some(&site.path),
                before: None,
                after: Some(serde_json::to_value(&l.s).map_err(anyhow::Error::from)?),
            },
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &l.s).await?;
        Ok(l.s)
    })
}

/// Change a schedule (title, priority, checklist, signature, lead times) or (de)activate it.
pub async fn update(p: &Platform, ctx: &Ctx, id: &str, patch: &PmPatch) -> Result<PmSchedule> {
    let cur = match fetch(p, id).await? {
        Some(l) if may_read(&ctx.actor, &l.path) => l,
        _ => return Err(PlatformError::NotFound),
    };
    if !ctx.actor.allows(perm::MAINTENANCE_DISPATCH, &cur.path) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH));
    }
    if patch.version.is_some_and(|v| v != cur.s.version) {
        return Err(stale());
    }
    let mut errors = Vec::new();
    let title = match &patch.title {
        Some(t) => required_text(&mut errors, "title", t, 160),
        None => cur.s.title.clone(),
    };
    let priority = patch.priority.clone().unwrap_or(cur.s.priority.clone());
    if !PRIORITIES.contains(&priority.as_str()) {
        errors.push(FieldError::new("priority", one_of(PRIORITIES)));
    }
    let checklist = match &patch.checklist {
        Some(c) => check_checklist(&mut errors, c),
        None => cur.s.checklist.clone(),
    };
    let lead_days = patch.lead_days.unwrap_or(cur.s.lead_days);
    if !(0..=365).contains(&lead_days) {
        errors.push(FieldError::new("lead_days", "must be 0 to 365"));
    }
    let lead_units = patch.lead_units.unwrap_or(cur.s.lead_units);
    if lead_units < 0 || cur.s.meter_every.is_some_and(|e| lead_units >= e) {
        errors.push(FieldError::new(
            "lead_units",
            "must be 0 or more and less than meter_every",
        ));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let active = patch.active.unwrap_or(cur.s.active);
    let signature = patch.signature_required.unwrap_or(cur.s.signature_required);
    tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE mnt_pm_schedules SET title = $1, priority = $2, checklist = $3, signature_required = $4, \
             lead_days = $5, lead_units = $6, active = $7, updated_at = $8, version = version + 1 \
             WHERE id = $9 AND version = $10",
        )
        .bind(&title)
        .bind(&priority)
        .bind(serde_json::to_string(&checklist).map_err(anyhow::Error::from)?)
        .bind(i64::from(signature))
        .bind(lead_days)
        .bind(lead_units)
        .bind(i64::from(active))
        .bind(now().micros())
        .bind(id)
        .bind(cur.s.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(stale());
        }
        let l = from_row(
            &sqlx::query(boh_db::AssertSqlSafe(format!(
                "SELECT {COLS} {FROM} WHERE s.id = $1"
            )))
            .bind(id)
            .fetch_one(&mut *tx)
            .await?,
        )?;
        audit::append(
            tx,
            ctx,
            Change {
                action: if cur.s.active && !active {
                    "maintenance.pm_schedule.deactivate"
                } else {
                    "maintenance.pm_schedule.update"
                },
                entity_type: "mnt_pm_schedule",
                entity_id: id,
                org_path: Some(&cur.path),
                before: Some(serde_json::to_value(&cur.s).map_err(anyhow::Error::from)?),
                after: Some(serde_json::to_value(&l.s).map_err(anyhow::Error::from)?),
            },
        )
        .await?;
        Ok(l.s)
    })
}

fn stale() -> PlatformError {
    PlatformError::conflict(
        "version",
        "the record was changed by someone else; reload and try again",
    )
}

// ---------------------------------------------------------------- the run

/// Which schedules a run looks at.
#[derive(Debug, Clone, Default)]
pub struct RunScope {
    /// Only this asset's schedules (after meter readings).
    pub asset_id: Option<String>,
    /// Only the schedules this actor may dispatch.
    pub actor: Option<Actor>,
}

/// Generate the due work orders of every active schedule (the scheduled job).
pub async fn run_due(p: &Platform) -> Result<RunReport> {
    run(p, &RunScope::default()).await
}

/// Generate the due work orders of the schedules in `scope`.
pub async fn run(p: &Platform, scope: &RunScope) -> Result<RunReport> {
    let mut conds = vec!["s.active = 1".to_string()];
    if let Some(actor) = &scope.actor {
        conds.push(
            actor
                .scope(perm::MAINTENANCE_DISPATCH)
                .sql_by_company("s.location_path", "s.company_id"),
        );
    }
    if scope.asset_id.is_some() {
        conds.push("s.asset_id = $1".into());
    }
    let mut q = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE {} ORDER BY s.created_at, s.id",
        conds.join(" AND ")
    )));
    if let Some(a) = &scope.asset_id {
        q = q.bind(a.clone());
    }
    let rows = q.fetch_all(p.db.pool()).await?;
    let mut out = RunReport::default();
    let mut today_at: HashMap<String, Date> = HashMap::new();
    for r in &rows {
        let l = from_row(r)?;
        if !l.asset_active {
            continue;
        }
        out.checked += 1;
        let today = match today_at.get(&l.s.location_id) {
            Some(d) => *d,
            None => {
                let tz = org::fetch(p, &l.s.location_id)
                    .await?
                    .map(|n| n.timezone)
                    .unwrap_or_else(|| "UTC".into());
                let d = boh_inventory::today_in(&tz);
                today_at.insert(l.s.location_id.clone(), d);
                d
            }
        };
        match run_one(p, l, today).await? {
            Outcome::Generated(g) => out.generated.push(g),
            Outcome::Open => out.waiting_open += 1,
            Outcome::Blocked => out.blocked += 1,
            Outcome::NotDue => {}
        }
    }
    Ok(out)
}

enum Outcome {
    Generated(Generated),
    Open,
    Blocked,
    NotDue,
}

/// The next due of a schedule as stored, and whether either trigger is due now.
fn due_reason(s: &PmSchedule, value: Option<i64>, today: Date) -> Option<&'static str> {
    if s.trigger != "meter"
        && let Some(d) = s
            .next_due_date
            .as_deref()
            .and_then(|d| d.parse::<Date>().ok())
        && date_is_due(d, s.lead_days, today)
    {
        return Some("calendar");
    }
    if s.trigger != "calendar"
        && let (Some(due), Some(v)) = (s.next_due_value, value)
        && value_is_due(due, s.lead_units, v)
    {
        return Some("meter");
    }
    None
}

async fn run_one(p: &Platform, mut l: Loaded, today: Date) -> Result<Outcome> {
    let value = match &l.s.meter_code {
        Some(code) => meter_value(p.db.pool(), &l.s.asset_id, code)
            .await?
            .unwrap_or(None),
        None => None,
    };
    // The last generated work order: still open, or finished (floating: count from then).
    if let Some(wo_id) = l.s.open_work_order_id.clone() {
        let r = sqlx::query(
            "SELECT status, finished_at, closed_at, updated_at FROM mnt_work_orders WHERE id = $1",
        )
        .bind(&wo_id)
        .fetch_optional(p.db.pool())
        .await?;
        if let Some(r) = &r {
            let status: String = r.try_get("status")?;
            if OPEN_STATUSES.contains(&status.as_str()) {
                return Ok(if due_reason(&l.s, value, today).is_some() {
                    Outcome::Open
                } else {
                    Outcome::NotDue
                });
            }
        }
        let done_at: i64 = match &r {
            Some(r) => {
                let f: Option<i64> = r.try_get("finished_at")?;
                let c: Option<i64> = r.try_get("closed_at")?;
                f.or(c).unwrap_or(r.try_get("updated_at")?)
            }
            None => now().micros(),
        };
        let done_value = match &l.s.meter_code {
            Some(code) => sqlx::query(
                "SELECT value FROM mnt_meter_readings WHERE asset_id = $1 AND meter_code = $2 AND read_at <= $3 \
                 ORDER BY read_at DESC, id DESC LIMIT 1",
            )
            .bind(&l.s.asset_id)
            .bind(code)
            .bind(done_at)
            .fetch_optional(p.db.pool())
            .await?
            .map(|r| r.try_get::<i64, _>("value"))
            .transpose()?
            .or(value),
            None => None,
        };
        if l.s.mode == "floating" {
            let done_day = jiff::Timestamp::from_microsecond(done_at)
                .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
                .unwrap_or(today);
            if let (Some(n), Some(u)) = (l.s.interval_n, l.s.interval_unit.as_deref()) {
                l.s.next_due_date = add_interval(done_day, n, u, 1).map(|d| d.to_string());
            }
            if let (Some(e), Some(v)) = (l.s.meter_every, done_value) {
                l.s.next_due_value = Some(v.saturating_add(e));
            }
        }
        let s = &l.s;
        tx!(p.db, tx, {
            sqlx::query(
                "UPDATE mnt_pm_schedules SET open_work_order_id = NULL, last_done_at = $1, last_done_value = $2, \
                 next_due_date = $3, next_due_value = $4, updated_at = $5, version = version + 1 WHERE id = $6",
            )
            .bind(done_at)
            .bind(done_value)
            .bind(s.next_due_date.clone())
            .bind(s.next_due_value)
            .bind(now().micros())
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
            audit::append(
                tx,
                &Ctx::system(),
                Change {
                    action: "maintenance.pm_schedule.completed",
                    entity_type: "mnt_pm_schedule",
                    entity_id: &s.id,
                    org_path: Some(&l.path),
                    before: None,
                    after: Some(json!({"work_order_id": wo_id, "done_at": instant(done_at),
                        "done_value": done_value, "next_due_date": s.next_due_date,
                        "next_due_value": s.next_due_value})),
                },
            )
            .await?;
            Ok(())
        })?;
        l.s.open_work_order_id = None;
    }
    let Some(reason) = due_reason(&l.s, value, today) else {
        return Ok(Outcome::NotDue);
    };
    let a = asset::get(p, &Actor::system(), &l.s.asset_id).await?;
    let checklist =
        l.s.checklist
            .iter()
            .map(|c| (c.label.clone(), c.required))
            .collect();
    let created = workorder::create_system(
        p,
        &a,
        "pm",
        &l.s.title,
        FAULT_CODE,
        &l.s.priority,
        checklist,
        l.s.signature_required,
        Some(l.s.id.clone()),
    )
    .await?;
    let (wo_id, number) = match created {
        Some(wo) => (wo.id, wo.number),
        None => {
            // An open work order of this schedule (generated by a run that stopped before
            // recording it) is adopted; anything else open for the fault blocks.
            let own = sqlx::query(boh_db::AssertSqlSafe(format!(
                "SELECT id, number FROM mnt_work_orders WHERE schedule_id = $1 AND status IN ({}) \
                 ORDER BY created_at DESC LIMIT 1",
                OPEN_STATUSES
                    .iter()
                    .map(|s| format!("'{s}'"))
                    .collect::<Vec<_>>()
                    .join(",")
            )))
            .bind(&l.s.id)
            .fetch_optional(p.db.pool())
            .await?;
            match own {
                Some(r) => (r.try_get("id")?, r.try_get("number")?),
                None => return Ok(Outcome::Blocked),
            }
        }
    };
    // Fixed: move the next due past today and past the current reading.
    let mut cycle = l.cycle;
    if l.s.mode == "fixed" {
        if let (Some(n), Some(u), Ok(start)) = (
            l.s.interval_n,
            l.s.interval_unit.as_deref(),
            l.s.start_date.parse::<Date>(),
        ) && let Some((k, d)) = next_fixed_date(start, n, u, cycle + 1, today)
        {
            cycle = k;
            l.s.next_due_date = Some(d.to_string());
        }
        if let (Some(e), Some(sv)) = (l.s.meter_every, l.s.start_value) {
            let cur = value.unwrap_or(sv).max(l.s.next_due_value.unwrap_or(sv));
            l.s.next_due_value = Some(next_fixed_value(sv, e, cur));
        }
    }
    let s = &l.s;
    tx!(p.db, tx, {
        let t = now().micros();
        sqlx::query(
            "UPDATE mnt_pm_schedules SET open_work_order_id = $1, last_generated_at = $2, cycle = $3, \
             next_due_date = $4, next_due_value = $5, updated_at = $2, version = version + 1 WHERE id = $6",
        )
        .bind(&wo_id)
        .bind(t)
        .bind(cycle)
        .bind(s.next_due_date.clone())
        .bind(s.next_due_value)
        .bind(&s.id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            &Ctx::system(),
            Change {
                action: "maintenance.pm_schedule.generated",
                entity_type: "mnt_pm_schedule",
                entity_id: &s.id,
                org_path: Some(&l.path),
                before: None,
                after: Some(
                    json!({"work_order_id": wo_id, "number": number, "reason": reason,
                    "next_due_date": s.next_due_date, "next_due_value": s.next_due_value}),
                ),
            },
        )
        .await?;
        Ok(())
    })?;
    Ok(Outcome::Generated(Generated {
        schedule_id: l.s.id.clone(),
        asset_id: l.s.asset_id.clone(),
        work_order_id: wo_id,
        number,
        reason: reason.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn intervals_add_days_weeks_and_clamped_months() {
        assert_eq!(
            add_interval(d("2026-01-01"), 10, "day", 1),
            Some(d("2026-01-11"))
        );
        assert_eq!(
            add_interval(d("2026-01-01"), 2, "week", 3),
            Some(d("2026-02-12"))
        );
        // Counted from the start, so the 31st comes back after a short month.
        assert_eq!(
            add_interval(d("2026-01-31"), 1, "month", 1),
            Some(d("2026-02-28"))
        );
        assert_eq!(
            add_interval(d("2026-01-31"), 1, "month", 2),
            Some(d("2026-03-31"))
        );
        assert_eq!(add_interval(d("2026-01-31"), 1, "year", 1), None);
    }

    #[test]
    fn fixed_dates_skip_to_the_first_after_today() {
        let start = d("2026-01-01");
        assert_eq!(
            next_fixed_date(start, 7, "day", 1, d("2025-12-01")),
            Some((1, d("2026-01-08")))
        );
        assert_eq!(
            next_fixed_date(start, 7, "day", 2, d("2026-03-01")),
            Some((9, d("2026-03-05")))
        );
        // Exactly on a due date: the next one.
        assert_eq!(
            next_fixed_date(start, 1, "week", 1, d("2026-01-08")),
            Some((2, d("2026-01-15")))
        );
        assert_eq!(
            next_fixed_date(d("2026-01-31"), 1, "month", 1, d("2026-04-15")),
            Some((3, d("2026-04-30")))
        );
        assert_eq!(
            next_fixed_date(start, 3, "month", 1, d("2028-01-01")),
            Some((9, d("2028-04-01")))
        );
    }

    #[test]
    fn fixed_meter_dues_are_multiples_from_the_start() {
        assert_eq!(next_fixed_value(1000, 500, 0), 1500);
        assert_eq!(next_fixed_value(1000, 500, 1000), 1500);
        assert_eq!(next_fixed_value(1000, 500, 1499), 1500);
        assert_eq!(next_fixed_value(1000, 500, 1500), 2000);
        assert_eq!(next_fixed_value(1000, 500, 3210), 3500);
        assert_eq!(next_fixed_value(0, 1, i64::MAX - 1), i64::MAX);
        assert_eq!(next_fixed_value(0, 0, 5), i64::MAX);
    }

    #[test]
    fn lead_times_make_it_due_early() {
        assert!(date_is_due(d("2026-01-10"), 0, d("2026-01-10")));
        assert!(!date_is_due(d("2026-01-10"), 0, d("2026-01-09")));
        assert!(date_is_due(d("2026-01-10"), 3, d("2026-01-07")));
        assert!(!date_is_due(d("2026-01-10"), 3, d("2026-01-06")));
        assert!(value_is_due(500, 0, 500));
        assert!(!value_is_due(500, 0, 499));
        assert!(value_is_due(500, 50, 450));
        assert!(!value_is_due(500, 50, 449));
    }

    #[test]
    fn either_trigger_is_due_by_whichever_comes_first() {
        let s = PmSchedule {
            id: String::new(),
            company_id: String::new(),
            location_id: String::new(),
            asset_id: String::new(),
            asset_code: String::new(),
            asset_name: String::new(),
            title: String::new(),
            priority: "medium".into(),
            checklist: Vec::new(),
            signature_required: false,
            trigger: "either".into(),
            mode: "fixed".into(),
            interval_n: Some(1),
            interval_unit: Some("month".into()),
            meter_code: Some("running_hours".into()),
            meter_every: Some(500),
            lead_days: 0,
            lead_units: 0,
            start_date: "2026-01-01".into(),
            start_value: Some(0),
            next_due_date: Some("2026-02-01".into()),
            next_due_value: Some(500),
            open_work_order_id: None,
            last_generated_at: None,
            last_done_at: None,
            active: true,
            created_at: String::new(),
            updated_at: String::new(),
            version: 1,
        };
        assert_eq!(due_reason(&s, Some(100), d("2026-01-15")), None);
        assert_eq!(due_reason(&s, Some(100), d("2026-02-01")), Some("calendar"));
        assert_eq!(due_reason(&s, Some(500), d("2026-01-15")), Some("meter"));
        let cal = PmSchedule {
            trigger: "calendar".into(),
            ..s.clone()
        };
        assert_eq!(due_reason(&cal, Some(900), d("2026-01-15")), None);
        let met = PmSchedule {
            trigger: "meter".into(),
            ..s
        };
        assert_eq!(due_reason(&met, Some(100), d("2026-03-01")), None);
    }
}
