//! Predictive maintenance, first cut: meter readings are ingested in batches (stored
//! append-only in `mnt_meter_readings`, the meter's last reading moved on), rules on an
//! asset's meter look at them, and a rule that fires opens a work order (source `predictive`)
//! on the asset. The readings also feed the meter triggers of PM schedules ([`crate::pm`]).
//!
//! Rules (`mnt_predictive_rules`):
//! - `threshold`: the reading is above (or below) `limit_value`;
//! - `rate`: the rise per day from the earliest reading within the last `window_days` to this
//!   one is above `limit_value` (exact: `(v1 - v0) · day > limit · (t1 - t0)` in i128);
//! - `drift`: the reading is more than `sigmas` standard deviations from the mean of the
//!   previous `sample_n` readings (exact: `(n·x − Σ)² > K² (n·Σx² − Σ²)` in i128, f64 only
//!   when that would overflow).
//!
//! A batch is checked whole first: an unknown asset (or one out of the caller's scope), a
//! meter the asset lacks, a bad instant, a cumulative meter going backwards, ... is refused
//! with the row and field named (`readings[3].meter`) and nothing of the batch is written.
//! A meter is cumulative (its readings never go down: running hours, cycles, energy) when its
//! unit or code says so ([`is_cumulative`]); temperatures, pressures and the like may move
//! both ways.

use std::collections::HashMap;

use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::org;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::asset::{self, Asset};
use crate::pm;
use crate::sla::PRIORITIES;
use crate::workorder::{self, FAULT_CODES};

/// Kinds of rules.
pub const KINDS: &[&str] = &["threshold", "rate", "drift"];
/// Directions of a threshold.
pub const DIRECTIONS: &[&str] = &["above", "below"];
/// At most this many readings in one batch.
pub const MAX_BATCH: usize = 1000;
/// The rules look at this many readings of a meter at most.
pub const HISTORY: i64 = 500;
/// Microseconds in a day.
pub const DAY_MICROS: i64 = 86_400_000_000;

fn kind_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(KINDS, false, false)
}
fn direction_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(DIRECTIONS, true, false)
}

/// Units (lower case) whose readings only grow.
const CUMULATIVE_UNITS: &[&str] = &[
    "h", "hr", "hrs", "hour", "hours", "cycle", "cycles", "shot", "shots", "kwh", "wh", "mwh",
    "m3", "l", "litre", "litres", "liter", "liters", "km", "mi", "count", "starts", "runs", "uses",
    "pcs",
];

/// Whether a meter only counts up (so a reading may not go backwards).
pub fn is_cumulative(code: &str, unit: &str) -> bool {
    let unit = unit.trim().to_lowercase();
    CUMULATIVE_UNITS.contains(&unit.as_str())
        || code == "running_hours"
        || code == "cycles"
        || code.ends_with("_hours")
        || code.ends_with("_cycles")
        || code.ends_with("_count")
        || code.ends_with("_total")
}

// ---------------------------------------------------------------- evaluation (pure)

/// One reading: value and instant (microseconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Point {
    pub value: i64,
    pub at: i64,
}

/// Threshold: `value` beyond `limit` in `direction`.
pub fn threshold_fires(direction: &str, limit: i64, value: i64) -> bool {
    match direction {
        "below" => value < limit,
        _ => value > limit,
    }
}

/// Rate of change: from the earliest of `earlier` within `window_days` before `latest` to
/// `latest`, the rise per day is above `limit_per_day`. Answers the rise per day (rounded
/// down) when it fires.
pub fn rate_fires(
    earlier: &[Point],
    latest: Point,
    window_days: i64,
    limit_per_day: i64,
) -> Option<i64> {
    let from = latest
        .at
        .saturating_sub(window_days.saturating_mul(DAY_MICROS));
    let first = earlier
        .iter()
        .filter(|p| p.at >= from && p.at < latest.at)
        .min_by_key(|p| p.at)?;
    let dv = i128::from(latest.value) - i128::from(first.value);
    let dt = i128::from(latest.at) - i128::from(first.at);
    if dt <= 0 {
        return None;
    }
    if dv * i128::from(DAY_MICROS) > i128::from(limit_per_day) * dt {
        Some(i64::try_from(dv * i128::from(DAY_MICROS) / dt).unwrap_or(i64::MAX))
    } else {
        None
    }
}

/// Drift from normal: `latest` is more than `sigmas` (population) standard deviations from
/// the mean of `previous`. Answers the mean (as f64, for the title) when it fires.
pub fn drift_fires(previous: &[i64], latest: i64, sigmas: i64) -> Option<f64> {
    if previous.len() < 2 {
        return None;
    }
    let n = previous.len() as i128;
    let s: i128 = previous.iter().map(|v| i128::from(*v)).sum();
    let mean = s as f64 / n as f64;
    let exact = (|| {
        let q = previous.iter().try_fold(0i128, |acc, v| {
            acc.checked_add(i128::from(*v).checked_mul(i128::from(*v))?)
        })?;
        let dev = n.checked_mul(i128::from(latest))?.checked_sub(s)?;
        let var = n.checked_mul(q)?.checked_sub(s.checked_mul(s)?)?;
        let k2 = i128::from(sigmas).checked_mul(i128::from(sigmas))?;
        Some(dev.checked_mul(dev)? > k2.checked_mul(var)?)
    })();
    let fires = match exact {
        Some(f) => f,
        None => {
            let var = previous
                .iter()
                .map(|v| (*v as f64 - mean).powi(2))
                .sum::<f64>()
                / n as f64;
            (latest as f64 - mean).abs() > sigmas as f64 * var.sqrt()
        }
    };
    fires.then_some(mean)
}

// ---------------------------------------------------------------- types

/// A rule on an asset's meter.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Rule {
    pub id: String,
    pub company_id: String,
    pub location_id: String,
    pub asset_id: String,
    pub meter_code: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// Threshold: `above` or `below`.
    #[schema(schema_with = direction_schema)]
    pub direction: Option<String>,
    /// Threshold: the limit; rate: the rise per day.
    pub limit_value: Option<i64>,
    /// Rate: the window looked back over.
    pub window_days: Option<i64>,
    /// Drift: how many previous readings make the normal.
    pub sample_n: Option<i64>,
    /// Drift: how many standard deviations away fires.
    pub sigmas: Option<i64>,
    pub title: Option<String>,
    pub priority: String,
    pub fault_code: String,
    pub last_fired_at: Option<String>,
    pub last_work_order_id: Option<String>,
    pub created_at: String,
}

/// A new rule. Threshold needs `direction` and `limit_value`; rate `limit_value` and
/// `window_days`; drift `sample_n` (3–500) and `sigmas` (1–10).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleInput {
    pub asset_id: String,
    /// A meter code of the asset.
    pub meter_code: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[serde(default)]
    #[schema(schema_with = direction_schema)]
    pub direction: Option<String>,
    #[serde(default)]
    pub limit_value: Option<i64>,
    #[serde(default)]
    pub window_days: Option<i64>,
    #[serde(default)]
    pub sample_n: Option<i64>,
    #[serde(default)]
    pub sigmas: Option<i64>,
    /// Names the rule in the work orders it opens.
    #[serde(default)]
    pub title: Option<String>,
    /// Default `high`.
    #[serde(default)]
    pub priority: Option<String>,
    /// Default `other`.
    #[serde(default)]
    pub fault_code: Option<String>,
}

/// Filters of the rule list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct RuleFilter {
    pub asset_id: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// A page of rules.
#[derive(Debug, Clone, Serialize)]
pub struct RulePage {
    pub items: Vec<Rule>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// One meter reading of a batch.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingInput {
    pub asset_id: String,
    /// The meter's code on the asset (`running_hours`).
    pub meter: String,
    /// An exact integer in the meter's unit.
    pub value: i64,
    /// RFC 3339; default now. Not in the future.
    #[serde(default)]
    pub read_at: Option<String>,
}

/// A batch of readings.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingBatch {
    /// 1 to 1000 readings.
    pub readings: Vec<ReadingInput>,
}

/// A stored reading.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reading {
    pub id: String,
    pub asset_id: String,
    pub meter: String,
    pub value: i64,
    pub read_at: String,
}

/// A rule that fired on a batch.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Fired {
    pub rule_id: String,
    pub asset_id: String,
    pub meter: String,
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    /// The reading that made it fire.
    pub value: i64,
    pub read_at: String,
    /// What it saw (`812 above 800`).
    pub detail: String,
    /// The work order opened; none when one for the fault was open on the asset already.
    pub work_order_id: Option<String>,
    pub work_order_number: Option<String>,
}

/// What a batch did.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct IngestReport {
    /// Readings stored.
    pub stored: usize,
    pub fired: Vec<Fired>,
    /// The PM schedules of the assets read, run after the readings.
    pub pm: pm::RunReport,
}

// ---------------------------------------------------------------- rules

const RULE_COLS: &str = "r.id, r.company_id, r.location_id, r.location_path, r.asset_id, r.meter_code, r.kind, \
    r.direction, r.limit_value, r.window_days, r.sample_n, r.sigmas, r.title, r.priority, r.fault_code, \
    r.last_fired_at, r.last_work_order_id, r.created_at";

fn instant(v: i64) -> String {
    boh_kernel::Instant(v).rfc3339()
}

fn rule_from_row(r: &boh_db::AnyRow) -> Result<(Rule, String)> {
    Ok((
        Rule {
            id: r.try_get("id")?,
            company_id: r.try_get("company_id")?,
            location_id: r.try_get("location_id")?,
            asset_id: r.try_get("asset_id")?,
            meter_code: r.try_get("meter_code")?,
            kind: r.try_get("kind")?,
            direction: r.try_get("direction")?,
            limit_value: r.try_get("limit_value")?,
            window_days: r.try_get("window_days")?,
            sample_n: r.try_get("sample_n")?,
            sigmas: r.try_get("sigmas")?,
            title: r.try_get("title")?,
            priority: r.try_get("priority")?,
            fault_code: r.try_get("fault_code")?,
            last_fired_at: r.try_get::<Option<i64>, _>("last_fired_at")?.map(instant),
            last_work_order_id: r.try_get("last_work_order_id")?,
            created_at: instant(r.try_get("created_at")?),
        },
        r.try_get("location_path")?,
    ))
}

/// Rules in the actor's scope, newest first.
pub async fn list_rules(p: &Platform, actor: &Actor, f: &RuleFilter) -> Result<RulePage> {
    let mut wh = pm::read_scope(actor, "r");
    let asset = f.asset_id.clone().filter(|s| !s.is_empty());
    if asset.is_some() {
        wh.push_str(" AND r.asset_id = $1");
    }
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    let mut qc = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM mnt_predictive_rules r WHERE {wh}"
    )));
    let mut ql = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {RULE_COLS} FROM mnt_predictive_rules r WHERE {wh} ORDER BY r.created_at DESC, r.id \
         LIMIT {limit} OFFSET {offset}"
    )));
    if let Some(a) = &asset {
        qc = qc.bind(a.clone());
        ql = ql.bind(a.clone());
    }
    let total: i64 = qc.fetch_one(p.db.pool()).await?.try_get("n")?;
    let items = ql
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| rule_from_row(r).map(|(r, _)| r))
        .collect::<Result<_>>()?;
    Ok(RulePage {
        items,
        total,
        limit,
        offset,
    })
}

async fn fetch_rule(p: &Platform, id: &str) -> Result<Option<(Rule, String)>> {
    if !boh_kernel::id::is_uuid(id) {
        return Ok(None);
    }
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {RULE_COLS} FROM mnt_predictive_rules r WHERE r.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    r.map(|r| rule_from_row(&r)).transpose()
}

/// One rule the actor may see (404 otherwise).
pub async fn get_rule(p: &Platform, actor: &Actor, id: &str) -> Result<Rule> {
    match fetch_rule(p, id).await? {
        Some((r, path)) if pm::may_read(actor, &path) => Ok(r),
        _ => Err(PlatformError::NotFound),
    }
}

fn one_of(values: &[&str]) -> String {
    format!("must be one of {}", values.join(", "))
}

/// Add a rule to an asset's meter. Needs `maintenance.work_order.dispatch` at its site.
pub async fn create_rule(p: &Platform, ctx: &Ctx, input: &RuleInput) -> Result<Rule> {
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
    let code = input.meter_code.trim().to_string();
    if code.is_empty() {
        errors.push(FieldError::new("meter_code", "is required"));
    } else {
        let n: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM mnt_meters WHERE asset_id = $1 AND code = $2")
                .bind(&a.id)
                .bind(&code)
                .fetch_one(p.db.pool())
                .await?
                .try_get("n")?;
        if n == 0 {
            errors.push(FieldError::new(
                "meter_code",
                format!("asset {} has no meter {code}", a.code),
            ));
        }
    }
    let kind = input.kind.trim();
    if !KINDS.contains(&kind) {
        errors.push(FieldError::new("kind", one_of(KINDS)));
    }
    let need = |errors: &mut Vec<FieldError>, field: &str, v: Option<i64>, lo: i64, hi: i64| match v
    {
        Some(x) if (lo..=hi).contains(&x) => {}
        Some(_) => errors.push(FieldError::new(
            field,
            if hi == i64::MAX {
                format!("must be {lo} or more")
            } else {
                format!("must be {lo} to {hi}")
            },
        )),
        None => errors.push(FieldError::new(
            field,
            format!("is required for a {kind} rule"),
        )),
    };
    let (mut direction, mut limit, mut window, mut sample, mut sigmas) =
        (None, None, None, None, None);
    match kind {
        "threshold" => {
            match input.direction.as_deref() {
                Some(d) if DIRECTIONS.contains(&d) => direction = Some(d.to_string()),
                Some(_) => errors.push(FieldError::new("direction", one_of(DIRECTIONS))),
                None => errors.push(FieldError::new(
                    "direction",
                    "is required for a threshold rule",
                )),
            }
            need(
                &mut errors,
                "limit_value",
                input.limit_value,
                i64::MIN,
                i64::MAX,
            );
            limit = input.limit_value;
        }
        "rate" => {
            need(&mut errors, "limit_value", input.limit_value, 0, i64::MAX);
            need(&mut errors, "window_days", input.window_days, 1, 365);
            limit = input.limit_value;
            window = input.window_days;
        }
        "drift" => {
            need(&mut errors, "sample_n", input.sample_n, 3, HISTORY - 1);
            need(&mut errors, "sigmas", input.sigmas, 1, 10);
            sample = input.sample_n;
            sigmas = input.sigmas;
        }
        _ => {}
    }
    let title = input
        .title
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().take(120).collect::<String>());
    let priority = input
        .priority
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "high".into());
    if !PRIORITIES.contains(&priority.as_str()) {
        errors.push(FieldError::new("priority", one_of(PRIORITIES)));
    }
    let fault = input
        .fault_code
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "other".into());
    if !FAULT_CODES.contains(&fault.as_str()) {
        errors.push(FieldError::new("fault_code", one_of(FAULT_CODES)));
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
    let id = new_id();
    tx!(p.db, tx, {
        sqlx::query(
            "INSERT INTO mnt_predictive_rules (id, company_id, location_id, location_path, asset_id, meter_code, kind, \
             direction, limit_value, window_days, sample_n, sigmas, title, priority, fault_code, created_by, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)",
        )
        .bind(&id)
        .bind(&a.company_id)
        .bind(&a.location_id)
        .bind(&site.path)
        .bind(&a.id)
        .bind(&code)
        .bind(kind)
        .bind(direction.clone())
        .bind(limit)
        .bind(window)
        .bind(sample)
        .bind(sigmas)
        .bind(title.clone())
        .bind(&priority)
        .bind(&fault)
        .bind(&ctx.actor.user_id)
        .bind(now().micros())
        .execute(&mut *tx)
        .await?;
        let (rule, _) = rule_from_row(
            &sqlx::query(boh_db::AssertSqlSafe(format!(
                "SELECT {RULE_COLS} FROM mnt_predictive_rules r WHERE r.id = $1"
            )))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?,
        )?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.predictive_rule.create",
                entity_type: "mnt_predictive_rule",
                entity_id: &id,
                org_path: Some(&site.path),
                before: None,
                after: Some(serde_json::to_value(&rule).map_err(anyhow::Error::from)?),
            },
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &rule).await?;
        Ok(rule)
    })
}

/// Delete a rule. Needs `maintenance.work_order.dispatch` at its site.
pub async fn delete_rule(p: &Platform, ctx: &Ctx, id: &str) -> Result<()> {
    let (rule, path) = match fetch_rule(p, id).await? {
        Some((r, path)) if pm::may_read(&ctx.actor, &path) => (r, path),
        _ => return Err(PlatformError::NotFound),
    };
    if !ctx.actor.allows(perm::MAINTENANCE_DISPATCH, &path) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH));
    }
    tx!(p.db, tx, {
        sqlx::query("DELETE FROM mnt_predictive_rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.predictive_rule.delete",
                entity_type: "mnt_predictive_rule",
                entity_id: id,
                org_path: Some(&path),
                before: Some(serde_json::to_value(&rule).map_err(anyhow::Error::from)?),
                after: None,
            },
        )
        .await?;
        Ok(())
    })
}

// ---------------------------------------------------------------- readings

/// The latest readings of an asset the actor may see, newest first.
pub async fn recent_readings(
    p: &Platform,
    actor: &Actor,
    asset_id: &str,
    limit: i64,
) -> Result<Vec<Reading>> {
    let a = asset::get(p, actor, asset_id).await?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT id, asset_id, meter_code, value, read_at FROM mnt_meter_readings WHERE asset_id = $1 \
         ORDER BY read_at DESC, id DESC LIMIT {}",
        limit.clamp(1, 500)
    )))
    .bind(&a.id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Reading {
                id: r.try_get("id")?,
                asset_id: r.try_get("asset_id")?,
                meter: r.try_get("meter_code")?,
                value: r.try_get("value")?,
                read_at: instant(r.try_get("read_at")?),
            })
        })
        .collect()
}

#[derive(Debug, Clone)]
struct MeterState {
    id: String,
    unit: String,
    last_value: Option<i64>,
    last_read_at: Option<i64>,
}

/// A checked row of a batch.
#[derive(Debug, Clone)]
struct Checked {
    /// The row of the batch.
    row: usize,
    id: String,
    asset_id: String,
    meter: String,
    meter_id: String,
    value: i64,
    at: i64,
}

/// Store a batch of readings (all or nothing), then evaluate the rules of the meters read and
/// run the PM schedules of the assets read. Needs `maintenance.asset.manage` at each asset's
/// site.
pub async fn ingest(p: &Platform, ctx: &Ctx, batch: &ReadingBatch) -> Result<IngestReport> {
    let actor = &ctx.actor;
    if !actor.has_anywhere(perm::MAINTENANCE_ASSET) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_ASSET));
    }
    let mut errors = Vec::new();
    if batch.readings.is_empty() {
        errors.push(FieldError::new("readings", "at least one reading"));
    }
    if batch.readings.len() > MAX_BATCH {
        return Err(PlatformError::invalid(
            "readings",
            format!("at most {MAX_BATCH} readings in one batch"),
        ));
    }
    let t_now = now().micros();
    let mut assets: HashMap<String, Option<(Asset, String)>> = HashMap::new();
    let mut meters: HashMap<String, HashMap<String, MeterState>> = HashMap::new();
    let mut rows: Vec<Checked> = Vec::new();
    for (i, r) in batch.readings.iter().enumerate() {
        let f = |name: &str| format!("readings[{i}].{name}");
        let aid = r.asset_id.trim().to_string();
        if !assets.contains_key(&aid) {
            let found = match asset::get(p, actor, &aid).await {
                Ok(a) => {
                    let path = org::fetch(p, &a.location_id)
                        .await?
                        .map(|n| n.path)
                        .unwrap_or_default();
                    Some((a, path))
                }
                Err(PlatformError::NotFound) => None,
                Err(e) => return Err(e),
            };
            assets.insert(aid.clone(), found);
        }
        let Some((a, path)) = assets.get(&aid).and_then(|x| x.as_ref()) else {
            errors.push(FieldError::new(&f("asset_id"), "no such asset"));
            continue;
        };
        if !actor.allows(perm::MAINTENANCE_ASSET, path) {
            errors.push(FieldError::new(
                &f("asset_id"),
                format!(
                    "asset {}: needs the permission {} at its site",
                    a.code,
                    perm::MAINTENANCE_ASSET
                ),
            ));
            continue;
        }
        if a.status != "active" {
            errors.push(FieldError::new(
                &f("asset_id"),
                format!("asset {} is retired", a.code),
            ));
            continue;
        }
        if !meters.contains_key(&aid) {
            let ms = sqlx::query(
                "SELECT id, code, unit, last_value, last_read_at FROM mnt_meters WHERE asset_id = $1",
            )
            .bind(&aid)
            .fetch_all(p.db.pool())
            .await?
            .iter()
            .map(|m| {
                Ok((
                    m.try_get::<String, _>("code")?,
                    MeterState {
                        id: m.try_get("id")?,
                        unit: m.try_get("unit")?,
                        last_value: m.try_get("last_value")?,
                        last_read_at: m.try_get("last_read_at")?,
                    },
                ))
            })
            .collect::<Result<HashMap<_, _>>>()?;
            meters.insert(aid.clone(), ms);
        }
        let code = r.meter.trim();
        let Some(m) = meters.get(&aid).and_then(|ms| ms.get(code)) else {
            errors.push(FieldError::new(
                &f("meter"),
                if code.is_empty() {
                    "is required".to_string()
                } else {
                    format!("asset {} has no meter {code}", a.code)
                },
            ));
            continue;
        };
        let at = match r
            .read_at
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => t_now,
            Some(s) => match s.parse::<jiff::Timestamp>() {
                Ok(ts) if ts.as_microsecond() <= t_now + 300_000_000 => ts.as_microsecond(),
                Ok(_) => {
                    errors.push(FieldError::new(&f("read_at"), "is in the future"));
                    continue;
                }
                Err(_) => {
                    errors.push(FieldError::new(
                        &f("read_at"),
                        "must be an RFC 3339 instant (2026-12-08T09:30:00Z)",
                    ));
                    continue;
                }
            },
        };
        if is_cumulative(code, &m.unit) {
            if r.value < 0 {
                errors.push(FieldError::new(&f("value"), "must be 0 or more"));
                continue;
            }
            if m.last_read_at.is_some_and(|l| at < l) {
                errors.push(FieldError::new(
                    &f("read_at"),
                    format!(
                        "is before the meter's last reading ({})",
                        instant(m.last_read_at.unwrap_or(0))
                    ),
                ));
                continue;
            }
        }
        rows.push(Checked {
            row: i,
            id: new_id(),
            asset_id: aid.clone(),
            meter: code.to_string(),
            meter_id: m.id.clone(),
            value: r.value,
            at,
        });
    }
    // Cumulative meters never go backwards: in time order from the meter's last reading.
    let mut by_meter: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (k, r) in rows.iter().enumerate() {
        by_meter
            .entry((r.asset_id.clone(), r.meter.clone()))
            .or_default()
            .push(k);
    }
    for ((aid, code), idx) in &by_meter {
        let m = &meters[aid][code];
        if !is_cumulative(code, &m.unit) {
            continue;
        }
        let mut order = idx.clone();
        order.sort_by_key(|k| (rows[*k].at, *k));
        let mut prev: Option<(i64, String)> = m
            .last_value
            .map(|v| (v, format!("the meter's last reading {v}")));
        for k in order {
            let r = &rows[k];
            if let Some((pv, what)) = &prev
                && r.value < *pv
            {
                errors.push(FieldError::new(
                    &format!("readings[{}].value", r.row),
                    format!("goes backwards: {} is below {what}", r.value),
                ));
            }
            prev = Some((r.value, format!("readings[{}] ({})", r.row, r.value)));
        }
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| row_of(&e.field));
        return Err(PlatformError::Validation(errors));
    }
    // Write everything in one transaction.
    tx!(p.db, tx, {
        for r in &rows {
            sqlx::query(
                "INSERT INTO mnt_meter_readings (id, asset_id, meter_id, meter_code, value, read_at, created_by, created_at) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
            )
            .bind(&r.id)
            .bind(&r.asset_id)
            .bind(&r.meter_id)
            .bind(&r.meter)
            .bind(r.value)
            .bind(r.at)
            .bind(actor.user_id.clone())
            .bind(t_now)
            .execute(&mut *tx)
            .await?;
        }
        let mut changes: Vec<(String, String, serde_json::Value)> = Vec::new();
        for ((aid, code), idx) in &by_meter {
            let m = &meters[aid][code];
            let latest = idx
                .iter()
                .map(|k| &rows[*k])
                .max_by_key(|r| r.at)
                .expect("a meter of the batch has a reading");
            if m.last_read_at.is_none_or(|l| latest.at >= l) {
                sqlx::query(
                    "UPDATE mnt_meters SET last_value = $1, last_read_at = $2 WHERE id = $3",
                )
                .bind(latest.value)
                .bind(latest.at)
                .bind(&m.id)
                .execute(&mut *tx)
                .await?;
            }
            let (a, path) = assets[aid].as_ref().expect("checked");
            changes.push((
                m.id.clone(),
                path.clone(),
                json!({"asset": a.code, "meter": code, "readings": idx.len(),
                    "before": m.last_value, "latest": latest.value, "read_at": instant(latest.at)}),
            ));
        }
        let list: Vec<Change> = changes
            .iter()
            .map(|(id, path, after)| Change {
                action: "maintenance.meter.readings",
                entity_type: "mnt_meter",
                entity_id: id,
                org_path: Some(path),
                before: None,
                after: Some(after.clone()),
            })
            .collect();
        audit::append_many(tx, ctx, &list).await?;
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(())
    })?;
    // Rules, then PM schedules of the assets read.
    let mut fired = Vec::new();
    let mut keys: Vec<&(String, String)> = by_meter.keys().collect();
    keys.sort();
    for key in keys {
        let (aid, code) = key;
        let (a, _) = assets[aid].as_ref().expect("checked");
        let batch_ids: Vec<&str> = by_meter[key].iter().map(|k| rows[*k].id.as_str()).collect();
        fired.extend(evaluate(p, a, code, &batch_ids).await?);
    }
    let mut pm_report = pm::RunReport::default();
    let mut asset_ids: Vec<&String> = by_meter.keys().map(|(a, _)| a).collect();
    asset_ids.sort();
    asset_ids.dedup();
    for aid in asset_ids {
        let r = pm::run(
            p,
            &pm::RunScope {
                asset_id: Some(aid.clone()),
                actor: None,
            },
        )
        .await?;
        pm_report.checked += r.checked;
        pm_report.generated.extend(r.generated);
        pm_report.waiting_open += r.waiting_open;
        pm_report.blocked += r.blocked;
    }
    Ok(IngestReport {
        stored: rows.len(),
        fired,
        pm: pm_report,
    })
}

/// The row number of a `readings[i].x` field, for ordering the errors.
fn row_of(field: &str) -> usize {
    field
        .strip_prefix("readings[")
        .and_then(|s| s.split(']').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// What a rule says about one reading, given the readings before it (oldest first).
pub fn judge(rule: &Rule, before: &[Point], latest: Point) -> Option<String> {
    match rule.kind.as_str() {
        "threshold" => {
            let dir = rule.direction.as_deref().unwrap_or("above");
            let limit = rule.limit_value?;
            threshold_fires(dir, limit, latest.value)
                .then(|| format!("{} {dir} {limit}", latest.value))
        }
        "rate" => {
            let limit = rule.limit_value?;
            let days = rule.window_days?;
            rate_fires(before, latest, days, limit)
                .map(|r| format!("rising {r} per day over {days} days, above {limit}"))
        }
        "drift" => {
            let n = usize::try_from(rule.sample_n?).ok()?;
            let k = rule.sigmas?;
            if before.len() < n {
                return None;
            }
            let prev: Vec<i64> = before[before.len() - n..].iter().map(|p| p.value).collect();
            drift_fires(&prev, latest.value, k).map(|mean| {
                format!(
                    "{} is more than {k} standard deviations from the mean {mean:.1} of the last {n} readings",
                    latest.value
                )
            })
        }
        _ => None,
    }
}

/// Evaluate the rules of one meter on the batch's readings of it (each against the readings
/// before it); a rule opens at most one work order per batch.
async fn evaluate(p: &Platform, a: &Asset, code: &str, batch_ids: &[&str]) -> Result<Vec<Fired>> {
    let rules = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {RULE_COLS} FROM mnt_predictive_rules r WHERE r.asset_id = $1 AND r.meter_code = $2 \
         ORDER BY r.created_at, r.id"
    )))
    .bind(&a.id)
    .bind(code)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(rule_from_row)
    .collect::<Result<Vec<_>>>()?;
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let mut history: Vec<(String, Point)> = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT id, value, read_at FROM mnt_meter_readings WHERE asset_id = $1 AND meter_code = $2 \
         ORDER BY read_at DESC, id DESC LIMIT {HISTORY}"
    )))
    .bind(&a.id)
    .bind(code)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.try_get::<String, _>("id")?,
            Point {
                value: r.try_get("value")?,
                at: r.try_get("read_at")?,
            },
        ))
    })
    .collect::<Result<_>>()?;
    history.reverse();
    let points: Vec<Point> = history.iter().map(|(_, p)| *p).collect();
    let mut out = Vec::new();
    for (rule, path) in rules {
        let hit = history.iter().enumerate().find_map(|(k, (id, pt))| {
            if !batch_ids.contains(&id.as_str()) {
                return None;
            }
            judge(&rule, &points[..k], *pt).map(|d| (*pt, d))
        });
        let Some((pt, detail)) = hit else { continue };
        let name = rule
            .title
            .clone()
            .unwrap_or_else(|| format!("{} rule on {code}", rule.kind));
        let title = format!("{name}: {code} read {} ({detail})", pt.value);
        let wo = workorder::create_system(
            p,
            a,
            "predictive",
            &title,
            &rule.fault_code,
            &rule.priority,
            Vec::new(),
            false,
            None,
        )
        .await?;
        tx!(p.db, tx, {
            sqlx::query(
                "UPDATE mnt_predictive_rules SET last_fired_at = $1, \
                 last_work_order_id = COALESCE($2, last_work_order_id) WHERE id = $3",
            )
            .bind(now().micros())
            .bind(wo.as_ref().map(|w| w.id.clone()))
            .bind(&rule.id)
            .execute(&mut *tx)
            .await?;
            audit::append(
                tx,
                &Ctx::system(),
                Change {
                    action: "maintenance.predictive_rule.fired",
                    entity_type: "mnt_predictive_rule",
                    entity_id: &rule.id,
                    org_path: Some(&path),
                    before: None,
                    after: Some(json!({"asset": a.code, "meter": code, "value": pt.value,
                        "read_at": instant(pt.at), "detail": detail,
                        "work_order_id": wo.as_ref().map(|w| w.id.clone())})),
                },
            )
            .await?;
            Ok(())
        })?;
        out.push(Fired {
            rule_id: rule.id.clone(),
            asset_id: a.id.clone(),
            meter: code.to_string(),
            kind: rule.kind.clone(),
            value: pt.value,
            read_at: instant(pt.at),
            detail,
            work_order_id: wo.as_ref().map(|w| w.id.clone()),
            work_order_number: wo.map(|w| w.number),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;

    #[test]
    fn thresholds_compare_strictly() {
        assert!(threshold_fires("above", 190, 191));
        assert!(!threshold_fires("above", 190, 190));
        assert!(threshold_fires("below", -15, -16));
        assert!(!threshold_fires("below", -15, -15));
    }

    #[test]
    fn rate_is_exact_over_the_window() {
        let pts = [
            Point { value: 0, at: 0 },
            Point {
                value: 50,
                at: DAY_MICROS,
            },
        ];
        // 100 in 2 days = 50/day: not above 50.
        let latest = Point {
            value: 100,
            at: 2 * DAY_MICROS,
        };
        assert_eq!(rate_fires(&pts, latest, 7, 50), None);
        assert_eq!(rate_fires(&pts, latest, 7, 49), Some(50));
        // A window of 1 day starts at the second reading: 50 in 1 day.
        assert_eq!(rate_fires(&pts, latest, 1, 49), Some(50));
        // 30 units in 12 hours = 60/day.
        let quick = Point {
            value: 80,
            at: DAY_MICROS + 12 * H,
        };
        assert_eq!(rate_fires(&pts[1..], quick, 1, 59), Some(60));
        assert_eq!(rate_fires(&pts[1..], quick, 1, 60), None);
        // Nothing earlier in the window.
        assert_eq!(rate_fires(&[], latest, 7, 0), None);
    }

    #[test]
    fn drift_uses_mean_and_standard_deviation() {
        // mean 10, population sd 2 (8, 12, 8, 12).
        let prev = [8, 12, 8, 12];
        assert!(drift_fires(&prev, 16, 3).is_none()); // exactly 3 sd
        assert_eq!(drift_fires(&prev, 17, 3), Some(10.0));
        assert!(drift_fires(&prev, 3, 3).is_some());
        assert!(drift_fires(&prev, 14, 2).is_none());
        // A flat normal: any change is more than K·0.
        assert!(drift_fires(&[5, 5, 5], 6, 3).is_some());
        assert!(drift_fires(&[5, 5, 5], 5, 3).is_none());
        assert!(drift_fires(&[5], 9, 1).is_none());
        // Huge values fall back to floating point without overflow.
        let big = [i64::MAX / 2, i64::MAX / 2 + 2];
        assert!(drift_fires(&big, i64::MAX, 3).is_some());
    }

    #[test]
    fn judge_words_what_it_saw() {
        let rule = Rule {
            id: String::new(),
            company_id: String::new(),
            location_id: String::new(),
            asset_id: String::new(),
            meter_code: "oil_temp".into(),
            kind: "threshold".into(),
            direction: Some("above".into()),
            limit_value: Some(190),
            window_days: None,
            sample_n: None,
            sigmas: None,
            title: None,
            priority: "high".into(),
            fault_code: "other".into(),
            last_fired_at: None,
            last_work_order_id: None,
            created_at: String::new(),
        };
        let p = Point { value: 195, at: 0 };
        assert_eq!(judge(&rule, &[], p).as_deref(), Some("195 above 190"));
        let drift = Rule {
            kind: "drift".into(),
            sample_n: Some(4),
            sigmas: Some(3),
            ..rule
        };
        let before: Vec<Point> = [8, 12, 8, 12]
            .iter()
            .map(|v| Point { value: *v, at: 0 })
            .collect();
        assert!(judge(&drift, &before[1..], Point { value: 99, at: 0 }).is_none());
        assert!(
            judge(&drift, &before, Point { value: 17, at: 0 })
                .unwrap()
                .contains("mean 10.0 of the last 4")
        );
    }

    #[test]
    fn cumulative_meters_are_known_by_unit_or_code() {
        assert!(is_cumulative("running_hours", "h"));
        assert!(is_cumulative("cycles", "shots"));
        assert!(is_cumulative("energy", "kWh"));
        assert!(is_cumulative("door_count", "x"));
        assert!(!is_cumulative("oil_temp", "°C"));
        assert!(!is_cumulative("pressure", "bar"));
    }
}
