//! Maintenance KPIs over a period and a part of the org tree, among the work orders the actor
//! sees: MTTR, MTBF, first-time-fix rate, SLA compliance, cost (per store, per asset, per
//! asset model), the monthly trend and the age of the open backlog.
//!
//! Definitions (work orders *created* in the period, cancelled ones and those reported next to
//! an open one — `duplicate_of` — left out):
//! - MTTR: mean minutes from `created_at` to `finished_at` of the finished ones.
//! - MTBF: mean minutes between consecutive corrective work orders (source other than `pm`) on
//!   the same asset, both created in the period; attributed to the later one.
//! - First-time fix: a finished corrective work order on an asset is fixed first time when no
//!   other corrective work order on the same asset with the same fault code was created in the
//!   `ftf_days` after it was finished (work orders up to `ftf_days` after the period count as
//!   repeats). Rate = first-time / eligible, per mille.
//! - SLA compliance: finished by `resolution_due_at` / finished, per mille.
//! - Cost: `labour_cost + parts_cost`, minor units.
//! - Backlog: the work orders open now (any open status), by age.
//!
//! The arithmetic is [`compute`] and [`backlog`], pure functions over the rows.

use std::collections::{BTreeMap, HashMap};

use boh_db::Row;
use boh_kernel::{Actor, now, perm};
use boh_platform::org;
use boh_platform::util::like_escape;
use boh_platform::{Platform, PlatformError, Result};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use crate::workorder::OPEN_STATUSES;

const MICROS_PER_MIN: i64 = 60_000_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// The longest period, in days.
pub const MAX_DAYS: i64 = 731;
pub const DEFAULT_FTF_DAYS: i64 = 30;
/// The assets listed by cost.
pub const TOP_ASSETS: usize = 20;
/// Backlog age buckets: (code, upper bound in days, exclusive; the last has none).
pub const BUCKETS: &[(&str, Option<i64>)] = &[
    ("lt_1d", Some(1)),
    ("d1_3", Some(3)),
    ("d3_7", Some(7)),
    ("d7_30", Some(30)),
    ("gt_30d", None),
];

/// The permissions that show a site's work orders (as [`crate::workorder::may_see`]).
const SEE: [&str; 3] = [
    perm::MAINTENANCE_READ,
    perm::MAINTENANCE_REQUEST,
    perm::MAINTENANCE_DISPATCH,
];

/// The predicate (over `mnt_work_orders w`) of the work orders the actor sees: one of the
/// reading permissions at the site, or assigned to the actor as technician. Uses `$1` for the
/// actor's user id, which the caller binds first.
pub(crate) fn visible_sql(actor: &Actor) -> String {
    let scopes: Vec<String> = SEE
        .iter()
        .map(|pm| {
            actor
                .scope(pm)
                .sql_by_company("w.location_path", "w.company_id")
        })
        .collect();
    let assigned = if actor.has_anywhere(perm::MAINTENANCE_WORK) {
        "1=1"
    } else {
        "1=0"
    };
    format!(
        "({} OR w.technician_id IN (SELECT id FROM mnt_technicians WHERE user_id = $1 AND {assigned}))",
        scopes.join(" OR ")
    )
}

/// The path of the node `under`, which must be one the actor sees work orders at or below
/// (else `NotFound`); `None` when not given.
pub(crate) async fn under_path(
    p: &Platform,
    actor: &Actor,
    under: Option<&str>,
) -> Result<Option<OrgNodeRef>> {
    let Some(id) = under.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if !boh_kernel::id::is_uuid(id) {
        return Err(PlatformError::invalid("under", "must be an org node id"));
    }
    let node = org::fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
    let ok = SEE
        .iter()
        .chain([&perm::MAINTENANCE_WORK])
        .any(|pm| actor.allows_within(pm, &node.path));
    if !ok {
        return Err(PlatformError::NotFound);
    }
    Ok(Some(OrgNodeRef {
        path: node.path.clone(),
        node,
    }))
}

/// A node named by `under`, with its path.
pub(crate) struct OrgNodeRef {
    pub node: org::OrgNode,
    pub path: String,
}

/// One work order as the KPIs need it.
#[derive(Debug, Clone, Default)]
pub struct KpiRow {
    pub id: String,
    pub location_id: String,
    pub location_code: String,
    pub location_name: String,
    pub asset_id: Option<String>,
    pub asset_code: Option<String>,
    pub asset_name: Option<String>,
    pub asset_model: Option<String>,
    pub category: String,
    pub source: String,
    pub fault_code: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub resolution_due_at: i64,
    pub labour_cost: i64,
    pub parts_cost: i64,
}

/// The figures of a set of work orders.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = MaintenanceFigures)]
pub struct Figures {
    pub work_orders: i64,
    pub finished: i64,
    /// Mean time to repair, minutes (none without a finished work order).
    pub mttr_min: Option<i64>,
    /// Mean time between failures on the same asset, minutes (none without two failures of
    /// one asset).
    pub mtbf_min: Option<i64>,
    /// The intervals MTBF is the mean of.
    pub mtbf_intervals: i64,
    /// Finished corrective work orders on an asset.
    pub ftf_eligible: i64,
    /// Of those, fixed without a repeat.
    pub ftf_first_time: i64,
    /// First-time-fix rate, per mille.
    pub ftf_permille: Option<i64>,
    /// Finished by the resolution due time.
    pub sla_met: i64,
    /// SLA compliance (met / finished), per mille.
    pub sla_permille: Option<i64>,
    /// Minor units.
    pub labour_cost: i64,
    /// Minor units.
    pub parts_cost: i64,
    /// Labour + parts, minor units.
    pub cost: i64,
}

#[derive(Debug, Clone, Default)]
struct Acc {
    n: i64,
    finished: i64,
    repair: i128,
    gaps: i128,
    gaps_n: i64,
    ftf_eligible: i64,
    ftf_first: i64,
    sla_met: i64,
    labour: i64,
    parts: i64,
}

/// `sum / n` micros as whole minutes, rounded half up.
pub fn mean_minutes(sum_micros: i128, n: i64) -> Option<i64> {
    if n <= 0 {
        return None;
    }
    let d = i128::from(n) * i128::from(MICROS_PER_MIN);
    Some(((sum_micros.max(0) + d / 2) / d) as i64)
}

/// `a / b` per mille, rounded half up.
pub fn permille(a: i64, b: i64) -> Option<i64> {
    (b > 0).then(|| (a.max(0) * 1000 + b / 2) / b)
}

impl Acc {
    fn add(&mut self, r: &KpiRow, facts: &Facts) {
        self.n += 1;
        if let Some(f) = r.finished_at {
            self.finished += 1;
            self.repair += i128::from((f - r.created_at).max(0));
            if f <= r.resolution_due_at {
                self.sla_met += 1;
            }
        }
        if let Some(g) = facts.gap {
            self.gaps += i128::from(g);
            self.gaps_n += 1;
        }
        if let Some(first) = facts.first_time {
            self.ftf_eligible += 1;
            if first {
                self.ftf_first += 1;
            }
        }
        self.labour += r.labour_cost;
        self.parts += r.parts_cost;
    }
    fn figures(&self) -> Figures {
        Figures {
            work_orders: self.n,
            finished: self.finished,
            mttr_min: mean_minutes(self.repair, self.finished),
            mtbf_min: mean_minutes(self.gaps, self.gaps_n),
            mtbf_intervals: self.gaps_n,
            ftf_eligible: self.ftf_eligible,
            ftf_first_time: self.ftf_first,
            ftf_permille: permille(self.ftf_first, self.ftf_eligible),
            sla_met: self.sla_met,
            sla_permille: permille(self.sla_met, self.finished),
            labour_cost: self.labour,
            parts_cost: self.parts,
            cost: self.labour + self.parts,
        }
    }
}

/// What is known of one work order beyond its row.
#[derive(Debug, Clone, Copy, Default)]
struct Facts {
    /// Micros since the previous corrective work order on the same asset.
    gap: Option<i64>,
    /// Eligible for first-time fix, and whether it was.
    first_time: Option<bool>,
}

fn corrective(r: &KpiRow) -> bool {
    r.source != "pm"
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct StoreFigures {
    pub location_id: String,
    pub location_code: String,
    pub location_name: String,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ModelFigures {
    /// The asset model ("" when the assets have none).
    pub model: String,
    pub category: String,
    /// Assets of the model with a work order in the period.
    pub assets: i64,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssetFigures {
    pub asset_id: String,
    pub asset_code: String,
    pub asset_name: String,
    pub location_code: String,
    pub model: Option<String>,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MonthFigures {
    /// `YYYY-MM` in the period's time zone.
    pub month: String,
    pub work_orders: i64,
    pub finished: i64,
    /// Of the work orders created in the month.
    pub mttr_min: Option<i64>,
    pub cost: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BacklogBucket {
    /// lt_1d, d1_3, d3_7, d7_30 or gt_30d.
    pub bucket: String,
    pub count: i64,
}

/// What [`compute`] gives.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    pub totals: Figures,
    pub by_store: Vec<StoreFigures>,
    pub by_model: Vec<ModelFigures>,
    pub by_asset: Vec<AssetFigures>,
    pub monthly: Vec<MonthFigures>,
}

/// The KPIs of `rows` created in `[start, end)`; rows created up to `ftf_days` after `end` only
/// count as repeats. Months are those of `tz`, from `start`'s to the one before `end`.
pub fn compute(rows: &[KpiRow], start: i64, end: i64, ftf_days: i64, tz: &TimeZone) -> Computed {
    let window = ftf_days.max(0).saturating_mul(MICROS_PER_DAY);
    let mut order: Vec<&KpiRow> = rows.iter().collect();
    order.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    // Corrective work orders by (asset, fault): creation instants, sorted.
    let mut by_fault: HashMap<(&str, &str), Vec<(i64, &str)>> = HashMap::new();
    for r in &order {
        if let (Some(a), true) = (r.asset_id.as_deref(), corrective(r)) {
            by_fault
                .entry((a, r.fault_code.as_str()))
                .or_default()
                .push((r.created_at, r.id.as_str()));
        }
    }
    let in_period: Vec<&KpiRow> = order
        .iter()
        .copied()
        .filter(|r| r.created_at >= start && r.created_at < end)
        .collect();
    let mut last_on_asset: HashMap<&str, i64> = HashMap::new();
    let facts: Vec<Facts> = in_period
        .iter()
        .map(|r| {
            let mut f = Facts::default();
            let Some(a) = r.asset_id.as_deref().filter(|_| corrective(r)) else {
                return f;
            };
            if let Some(prev) = last_on_asset.insert(a, r.created_at) {
                f.gap = Some(r.created_at - prev);
            }
            if let Some(done) = r.finished_at {
                let repeat = by_fault.get(&(a, r.fault_code.as_str())).is_some_and(|v| {
                    v.iter().any(|(t, id)| {
                        *id != r.id && *t > done && *t <= done.saturating_add(window)
                    })
                });
                f.first_time = Some(!repeat);
            }
            f
        })
        .collect();
    let mut total = Acc::default();
    let mut stores: BTreeMap<(&str, &str), (&KpiRow, Acc)> = BTreeMap::new();
    let mut models: BTreeMap<(&str, &str), (Acc, Vec<&str>)> = BTreeMap::new();
    let mut assets: HashMap<&str, (&KpiRow, Acc)> = HashMap::new();
    let mut months: BTreeMap<String, (Acc, i64)> = BTreeMap::new();
    for m in month_keys(start, end, tz) {
        months.insert(m, (Acc::default(), 0));
    }
    for (r, f) in in_period.iter().zip(&facts) {
        total.add(r, f);
        stores
            .entry((r.location_code.as_str(), r.location_id.as_str()))
            .or_insert_with(|| (r, Acc::default()))
            .1
            .add(r, f);
        if let Some(a) = r.asset_id.as_deref() {
            let e = models
                .entry((r.asset_model.as_deref().unwrap_or(""), r.category.as_str()))
                .or_default();
            e.0.add(r, f);
            if !e.1.contains(&a) {
                e.1.push(a);
            }
            assets
                .entry(a)
                .or_insert_with(|| (r, Acc::default()))
                .1
                .add(r, f);
        }
        let e = months.entry(month_of(r.created_at, tz)).or_default();
        e.0.add(r, f);
    }
    let by_store = stores
        .into_values()
        .map(|(r, acc)| StoreFigures {
            location_id: r.location_id.clone(),
            location_code: r.location_code.clone(),
            location_name: r.location_name.clone(),
            figures: acc.figures(),
        })
        .collect();
    let by_model = models
        .into_iter()
        .map(|((model, category), (acc, ids))| ModelFigures {
            model: model.to_string(),
            category: category.to_string(),
            assets: ids.len() as i64,
            figures: acc.figures(),
        })
        .collect();
    let mut by_asset: Vec<AssetFigures> = assets
        .into_iter()
        .map(|(id, (r, acc))| AssetFigures {
            asset_id: id.to_string(),
            asset_code: r.asset_code.clone().unwrap_or_default(),
            asset_name: r.asset_name.clone().unwrap_or_default(),
            location_code: r.location_code.clone(),
            model: r.asset_model.clone(),
            figures: acc.figures(),
        })
        .collect();
    by_asset.sort_by(|a, b| {
        b.figures
            .cost
            .cmp(&a.figures.cost)
            .then(b.figures.work_orders.cmp(&a.figures.work_orders))
            .then(a.asset_code.cmp(&b.asset_code))
    });
    by_asset.truncate(TOP_ASSETS);
    let monthly = months
        .into_iter()
        .map(|(month, (acc, _))| {
            let f = acc.figures();
            MonthFigures {
                month,
                work_orders: f.work_orders,
                finished: f.finished,
                mttr_min: f.mttr_min,
                cost: f.cost,
            }
        })
        .collect();
    Computed {
        totals: total.figures(),
        by_store,
        by_model,
        by_asset,
        monthly,
    }
}

fn month_of(t: i64, tz: &TimeZone) -> String {
    match jiff::Timestamp::from_microsecond(t) {
        Ok(ts) => {
            let d = ts.to_zoned_datetime(tz.clone()).date();
            format!("{:04}-{:02}", d.year(), d.month())
        }
        Err(_) => "0000-00".into(),
    }
}

/// Every month from the one of `start` to the one of `end - 1`.
fn month_keys(start: i64, end: i64, tz: &TimeZone) -> Vec<String> {
    let mut out = Vec::new();
    if end <= start {
        return out;
    }
    let last = month_of(end - 1, tz);
    let mut m = month_of(start, tz);
    while m <= last && out.len() < 30 {
        out.push(m.clone());
        let (y, mo) = (
            m[..4].parse::<i32>().unwrap_or(0),
            m[5..].parse::<i32>().unwrap_or(1),
        );
        m = if mo == 12 {
            format!("{:04}-01", y + 1)
        } else {
            format!("{y:04}-{:02}", mo + 1)
        };
    }
    out
}

/// The open work orders created at `created` (micros), by age at `at`.
pub fn backlog(created: &[i64], at: i64) -> Vec<BacklogBucket> {
    let mut counts = vec![0i64; BUCKETS.len()];
    for c in created {
        let age = (at - c).max(0);
        let i = BUCKETS
            .iter()
            .position(|(_, up)| up.is_some_and(|d| age < d * MICROS_PER_DAY))
            .unwrap_or(BUCKETS.len() - 1);
        counts[i] += 1;
    }
    BUCKETS
        .iter()
        .zip(counts)
        .map(|((b, _), count)| BacklogBucket {
            bucket: b.to_string(),
            count,
        })
        .collect()
}

/// The KPI parameters.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KpiQuery {
    /// First day, `YYYY-MM-DD` (default: the first of the month eleven months before `to`).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (default today). At most 731 days in all.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: Option<String>,
    /// Company, region or store (default everything the caller sees).
    pub under: Option<String>,
    /// The days after a fix in which a new work order on the same asset and fault counts as a
    /// repeat (default 30).
    #[param(minimum = 1, maximum = 365)]
    pub ftf_days: Option<i64>,
}

/// The KPIs of a period and scope.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Kpis {
    pub from: String,
    pub to: String,
    /// The org node the figures are under, if one was asked for.
    pub under: Option<String>,
    pub under_code: Option<String>,
    pub under_name: Option<String>,
    /// The time zone of the days and months.
    pub time_zone: String,
    pub ftf_days: i64,
    pub totals: Figures,
    /// By site, by code.
    pub by_store: Vec<StoreFigures>,
    /// By asset model and category.
    pub by_model: Vec<ModelFigures>,
    /// The assets that cost most (at most 20).
    pub by_asset: Vec<AssetFigures>,
    pub monthly: Vec<MonthFigures>,
    /// Open now, by age.
    pub backlog: Vec<BacklogBucket>,
    pub backlog_total: i64,
}

fn day_start(d: Date, tz: &TimeZone) -> i64 {
    d.at(0, 0, 0, 0)
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_microsecond())
        .unwrap_or(0)
}

fn parse_day(
    field: &str,
    v: Option<&str>,
    errors: &mut Vec<boh_platform::FieldError>,
) -> Option<Date> {
    let v = v.map(str::trim).filter(|s| !s.is_empty())?;
    match v.parse::<Date>() {
        Ok(d) if v.len() == 10 => Some(d),
        _ => {
            errors.push(boh_platform::FieldError::new(
                field,
                "must be a date YYYY-MM-DD",
            ));
            None
        }
    }
}

/// The KPIs for `q` among the work orders the actor sees.
pub async fn kpis(p: &Platform, actor: &Actor, q: &KpiQuery) -> Result<Kpis> {
    let mut errors = Vec::new();
    let from = parse_day("from", q.from.as_deref(), &mut errors);
    let to = parse_day("to", q.to.as_deref(), &mut errors);
    let ftf_days = q.ftf_days.unwrap_or(DEFAULT_FTF_DAYS);
    if !(1..=365).contains(&ftf_days) {
        errors.push(boh_platform::FieldError::new(
            "ftf_days",
            "must be from 1 to 365",
        ));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let under = under_path(p, actor, q.under.as_deref()).await?;
    let tz_name = match &under {
        Some(u) => u.node.timezone.clone(),
        None => match actor.company_id.as_deref() {
            Some(c) => org::fetch(p, c)
                .await?
                .map(|n| n.timezone)
                .unwrap_or_else(|| "UTC".into()),
            None => "UTC".into(),
        },
    };
    let tz = crate::sla::zone(&tz_name);
    let t = now().micros();
    let today = jiff::Timestamp::from_microsecond(t)
        .map(|ts| ts.to_zoned_datetime(tz.clone()).date())
        .map_err(|e| PlatformError::Internal(anyhow::anyhow!(e)))?;
    let to = to.unwrap_or(today);
    let from = match from {
        Some(f) => f,
        None => to
            .first_of_month()
            .checked_sub(jiff::Span::new().months(11))
            .unwrap_or(to),
    };
    if to < from {
        return Err(PlatformError::invalid("to", "must not be before from"));
    }
    let span_days = from.until(to).map(|s| i64::from(s.get_days())).unwrap_or(0);
    if span_days + 1 > MAX_DAYS {
        return Err(PlatformError::invalid(
            "from",
            format!("the period is at most {MAX_DAYS} days"),
        ));
    }
    let start = day_start(from, &tz);
    let end = day_start(to.tomorrow().unwrap_or(to), &tz);
    let horizon = end.saturating_add(ftf_days * MICROS_PER_DAY);
    let mut binds = vec![actor.user_id.clone()];
    let mut conds = vec![visible_sql(actor)];
    if let Some(u) = &under {
        binds.push(format!("{}%", like_escape(&u.path)));
        conds.push(format!("w.location_path LIKE ${} ESCAPE '\\'", binds.len()));
    }
    let scope = conds.join(" AND ");
    let zh = actor.locale.starts_with("zh");
    let sql = format!(
        "SELECT w.id, w.location_id, n.code AS location_code, n.name_en, n.name_zh, w.asset_id, \
         a.code AS asset_code, a.name AS asset_name, a.model AS asset_model, w.category, w.source, w.fault_code, \
         w.created_at, w.finished_at, w.resolution_due_at, w.labour_cost, w.parts_cost \
         FROM mnt_work_orders w JOIN org_nodes n ON n.id = w.location_id LEFT JOIN mnt_assets a ON a.id = w.asset_id \
         WHERE {scope} AND w.status <> 'cancelled' AND w.duplicate_of IS NULL \
         AND w.created_at >= {start} AND w.created_at < {horizon}"
    );
    let mut qs = sqlx::query(boh_db::AssertSqlSafe(sql));
    for b in &binds {
        qs = qs.bind(b.clone());
    }
    let rows: Vec<KpiRow> = qs
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(KpiRow {
                id: r.try_get("id")?,
                location_id: r.try_get("location_id")?,
                location_code: r.try_get("location_code")?,
                location_name: r.try_get(if zh { "name_zh" } else { "name_en" })?,
                asset_id: r.try_get("asset_id")?,
                asset_code: r.try_get("asset_code")?,
                asset_name: r.try_get("asset_name")?,
                asset_model: r.try_get("asset_model")?,
                category: r.try_get("category")?,
                source: r.try_get("source")?,
                fault_code: r.try_get("fault_code")?,
                created_at: r.try_get("created_at")?,
                finished_at: r.try_get("finished_at")?,
                resolution_due_at: r.try_get("resolution_due_at")?,
                labour_cost: r.try_get("labour_cost")?,
                parts_cost: r.try_get("parts_cost")?,
            })
        })
        .collect::<Result<_>>()?;
    let c = compute(&rows, start, end, ftf_days, &tz);
    let open_list = OPEN_STATUSES
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(",");
    let mut qb = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT w.created_at FROM mnt_work_orders w WHERE {scope} AND w.status IN ({open_list})"
    )));
    for b in &binds {
        qb = qb.bind(b.clone());
    }
    let open: Vec<i64> = qb
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| r.try_get("created_at"))
        .collect::<std::result::Result<_, _>>()?;
    Ok(Kpis {
        from: from.to_string(),
        to: to.to_string(),
        under: under.as_ref().map(|u| u.node.id.clone()),
        under_code: under.as_ref().map(|u| u.node.code.clone()),
        under_name: under.as_ref().map(|u| {
            if zh {
                u.node.name_zh.clone()
            } else {
                u.node.name_en.clone()
            }
        }),
        time_zone: tz_name,
        ftf_days,
        totals: c.totals,
        by_store: c.by_store,
        by_model: c.by_model,
        by_asset: c.by_asset,
        monthly: c.monthly,
        backlog_total: open.len() as i64,
        backlog: backlog(&open, t),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;
    const D: i64 = 24 * H;

    #[allow(clippy::too_many_arguments)]
    fn row(
        id: &str,
        store: &str,
        asset: Option<&str>,
        fault: &str,
        source: &str,
        created: i64,
        finished: Option<i64>,
        due: i64,
        cost: (i64, i64),
    ) -> KpiRow {
        KpiRow {
            id: id.into(),
            location_id: format!("loc-{store}"),
            location_code: store.into(),
            location_name: store.into(),
            asset_id: asset.map(str::to_string),
            asset_code: asset.map(|a| a.to_uppercase()),
            asset_name: asset.map(str::to_string),
            asset_model: asset.map(|a| {
                if a.starts_with('f') {
                    "FPH355"
                } else {
                    "SC-1050"
                }
                .into()
            }),
            category: "fryer".into(),
            source: source.into(),
            fault_code: fault.into(),
            created_at: created,
            finished_at: finished,
            resolution_due_at: due,
            labour_cost: cost.0,
            parts_cost: cost.1,
        }
    }

    #[test]
    fn rounding() {
        assert_eq!(permille(2, 3), Some(667));
        assert_eq!(permille(1, 3), Some(333));
        assert_eq!(permille(0, 0), None);
        assert_eq!(permille(5, 5), Some(1000));
        assert_eq!(mean_minutes(90 * 1_000_000, 1), Some(2)); // 1.5 min rounds up
        assert_eq!(mean_minutes(89 * 1_000_000, 1), Some(1));
        assert_eq!(mean_minutes(0, 0), None);
    }

    #[test]
    fn the_figures_of_a_small_fixture() {
        let start = 100 * D;
        let end = 130 * D;
        let rows = vec![
            // fryer f1: not_heating at day 101, fixed in 2 h (on time), repeat on day 110 ->
            // not first time; the repeat fixed in 4 h, late.
            row(
                "a",
                "S1",
                Some("f1"),
                "not_heating",
                "web",
                start + D,
                Some(start + D + 2 * H),
                start + D + 3 * H,
                (1000, 500),
            ),
            row(
                "b",
                "S1",
                Some("f1"),
                "not_heating",
                "web",
                start + 10 * D,
                Some(start + 10 * D + 4 * H),
                start + 10 * D + 3 * H,
                (2000, 0),
            ),
            // a PM on f1 on day 115: not a failure, not a repeat, counts for MTTR.
            row(
                "c",
                "S1",
                Some("f1"),
                "not_heating",
                "pm",
                start + 15 * D,
                Some(start + 15 * D + H),
                start + 16 * D,
                (300, 0),
            ),
            // fridge r1 at S2: leaking, open (not finished).
            row(
                "d",
                "S2",
                Some("r1"),
                "leaking",
                "qr",
                start + 20 * D,
                None,
                start + 21 * D,
                (0, 0),
            ),
            // no asset: counts for MTTR and SLA but not for FTF.
            row(
                "e",
                "S2",
                None,
                "other",
                "web",
                start + 2 * D,
                Some(start + 2 * D + 30 * 60_000_000),
                start + 3 * D,
                (100, 0),
            ),
            // before the period: ignored.
            row(
                "x",
                "S1",
                Some("f1"),
                "not_heating",
                "web",
                start - D,
                Some(start - D + H),
                start,
                (9999, 0),
            ),
            // after the period, within 30 days of b's fix: b was not fixed first time either.
            row(
                "y",
                "S1",
                Some("f1"),
                "not_heating",
                "web",
                end + 2 * D,
                None,
                end + 3 * D,
                (0, 0),
            ),
        ];
        let c = compute(&rows, start, end, 30, &TimeZone::UTC);
        let t = &c.totals;
        assert_eq!(t.work_orders, 5);
        assert_eq!(t.finished, 4);
        // (120 + 240 + 60 + 30) / 4 = 112.5 -> 113
        assert_eq!(t.mttr_min, Some(113));
        // f1 corrective a (day 101) -> b (day 110): 9 days.
        assert_eq!(t.mtbf_intervals, 1);
        assert_eq!(t.mtbf_min, Some(9 * 24 * 60));
        assert_eq!((t.ftf_eligible, t.ftf_first_time), (2, 0));
        assert_eq!(t.ftf_permille, Some(0));
        // a, c, e on time; b late.
        assert_eq!(t.sla_met, 3);
        assert_eq!(t.sla_permille, Some(750));
        assert_eq!((t.labour_cost, t.parts_cost, t.cost), (3400, 500, 3900));
        assert_eq!(c.by_store.len(), 2);
        assert_eq!(c.by_store[0].location_code, "S1");
        assert_eq!(c.by_store[0].figures.cost, 3800);
        assert_eq!(c.by_store[1].figures.work_orders, 2);
        assert_eq!(c.by_model.len(), 2);
        let fph = c.by_model.iter().find(|m| m.model == "FPH355").unwrap();
        assert_eq!((fph.assets, fph.figures.work_orders), (1, 3));
        assert_eq!(c.by_asset[0].asset_code, "F1");
        // Days 100..130 of 1970 UTC: April and May.
        assert_eq!(
            c.monthly
                .iter()
                .map(|m| m.month.as_str())
                .collect::<Vec<_>>(),
            vec!["1970-04", "1970-05"]
        );
        assert_eq!(c.monthly.iter().map(|m| m.work_orders).sum::<i64>(), 5);

        // With a 5-day window b's repeat is out of reach, and a's (9 days later) too.
        let c = compute(&rows, start, end, 5, &TimeZone::UTC);
        assert_eq!((c.totals.ftf_eligible, c.totals.ftf_first_time), (2, 2));
        assert_eq!(c.totals.ftf_permille, Some(1000));
    }

    #[test]
    fn backlog_buckets() {
        let at = 100 * D;
        let b = backlog(
            &[at - H, at - D, at - 3 * D - 1, at - 7 * D, at - 40 * D, at],
            at,
        );
        let counts: Vec<i64> = b.iter().map(|x| x.count).collect();
        assert_eq!(counts, vec![2, 1, 1, 1, 1]);
        assert_eq!(b[4].bucket, "gt_30d");
    }

    #[test]
    fn empty_period() {
        let c = compute(&[], 0, D, 30, &TimeZone::UTC);
        assert_eq!(c.totals, Figures::default());
        assert_eq!(c.monthly.len(), 1);
    }
}
