//! Technicians (in-house or contractor: skills, certifications, home base, last position,
//! shift, van) and smart dispatch: the open work orders of the dispatcher's scope assigned
//! optimally by [`boh_dispatch`], every suggestion with its reasons, applied with the
//! dispatcher's overrides.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::org;
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, tx};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::workorder::{self, WoFilter, WorkOrder};

pub const KINDS: &[&str] = &["in_house", "contractor"];

/// The skill a job on an asset of this category needs, if any.
pub fn required_skill(category: &str) -> Option<&'static str> {
    match category {
        "fryer" | "oven" | "dishwasher" => Some("kitchen"),
        "fridge" | "freezer" => Some("refrigeration"),
        "coffee_machine" => Some("coffee"),
        "air_conditioning" => Some("hvac"),
        "pos_terminal" => Some("it"),
        _ => None,
    }
}

/// The certification a job on an asset of this category needs, if any (refrigerants).
pub fn required_certification(category: &str) -> Option<&'static str> {
    match category {
        "air_conditioning" => Some("f-gas"),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Technician {
    pub id: String,
    pub company_id: String,
    /// The user who signs in as this technician (their job list), if any.
    pub user_id: Option<String>,
    pub code: String,
    pub name: String,
    /// in_house or contractor.
    pub kind: String,
    pub skills: Vec<String>,
    pub certifications: Vec<String>,
    /// The site the technician starts from.
    pub home_location_id: String,
    /// An inventory location that is the technician's van, if any.
    pub van_location_id: Option<String>,
    pub last_latitude: Option<f64>,
    pub last_longitude: Option<f64>,
    pub last_seen_at: Option<String>,
    /// Working days, seven `0`/`1` characters, Monday first.
    pub shift_days: String,
    /// Shift start and end, minutes after midnight in the home site's time zone.
    pub shift_start_min: i64,
    pub shift_end_min: i64,
    /// The most open jobs the technician holds at once.
    pub max_open_jobs: i64,
    /// Minor units per hour of work.
    pub hourly_rate: i64,
    /// active or inactive.
    pub status: String,
    /// Open jobs now.
    pub open_jobs: i64,
    pub version: i64,
}

fn split(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

const COLS: &str = "t.id, t.company_id, t.user_id, t.code, t.name, t.kind, t.skills, t.certifications, \
    t.home_location_id, t.van_location_id, t.last_latitude, t.last_longitude, t.last_seen_at, t.shift_days, \
    t.shift_start_min, t.shift_end_min, t.max_open_jobs, t.hourly_rate, t.status, t.version, \
    (SELECT COUNT(*) FROM mnt_work_orders w WHERE w.technician_id = t.id \
       AND w.status IN ('assigned','accepted','travelling','in_progress','paused')) AS open_jobs";

fn from_row(r: &boh_db::AnyRow) -> Result<Technician> {
    Ok(Technician {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        user_id: r.try_get("user_id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        kind: r.try_get("kind")?,
        skills: split(&r.try_get::<String, _>("skills")?),
        certifications: split(&r.try_get::<String, _>("certifications")?),
        home_location_id: r.try_get("home_location_id")?,
        van_location_id: r.try_get("van_location_id")?,
        last_latitude: r.try_get("last_latitude")?,
        last_longitude: r.try_get("last_longitude")?,
        last_seen_at: r
            .try_get::<Option<i64>, _>("last_seen_at")?
            .map(|v| boh_kernel::Instant(v).rfc3339()),
        shift_days: r.try_get("shift_days")?,
        shift_start_min: r.try_get("shift_start_min")?,
        shift_end_min: r.try_get("shift_end_min")?,
        max_open_jobs: r.try_get("max_open_jobs")?,
        hourly_rate: r.try_get("hourly_rate")?,
        status: r.try_get("status")?,
        open_jobs: r.try_get("open_jobs")?,
        version: r.try_get("version")?,
    })
}

/// A technician, unscoped.
pub async fn fetch(p: &Platform, id: &str) -> Result<Option<Technician>> {
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM mnt_technicians t WHERE t.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    r.map(|r| from_row(&r)).transpose()
}

/// The technicians of the actor's company, for dispatchers (a technician's home base and van
/// are sites of the whole company).
pub async fn list(p: &Platform, actor: &Actor) -> Result<Vec<Technician>> {
    let Some(company) = actor.company_id.clone() else {
        return Ok(Vec::new());
    };
    if !actor.has_anywhere(perm::MAINTENANCE_DISPATCH) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH));
    }
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM mnt_technicians t WHERE t.company_id = $1 ORDER BY t.code"
    )))
    .bind(&company)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(from_row).collect()
}

/// A new technician.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnicianInput {
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// in_house (default) or contractor.
    #[serde(default)]
    pub kind: Option<String>,
    /// The username of the user who works as this technician.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub certifications: Vec<String>,
    pub home_location_id: String,
    #[serde(default)]
    pub van_location_id: Option<String>,
    /// Default `1111100` (Monday to Friday).
    #[serde(default)]
    pub shift_days: Option<String>,
    /// Default 480 (08:00).
    #[serde(default)]
    pub shift_start_min: Option<i64>,
    /// Default 1020 (17:00).
    #[serde(default)]
    pub shift_end_min: Option<i64>,
    /// Default 6.
    #[serde(default)]
    pub max_open_jobs: Option<i64>,
    /// Minor units per hour; default 0.
    #[serde(default)]
    pub hourly_rate: Option<i64>,
}

fn codes(field: &str, v: &[String], errors: &mut Vec<FieldError>) -> String {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        let s = s.trim().to_lowercase();
        if s.is_empty() {
            continue;
        }
        if s.len() > 40
            || !s
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            errors.push(FieldError::new(
                field,
                format!("{s:?} must be letters, digits, - or _ (at most 40)"),
            ));
        } else if !out.contains(&s) {
            out.push(s);
        }
    }
    out.sort();
    out.join(",")
}

/// Register a technician. Needs dispatch over the whole company.
pub async fn create(p: &Platform, ctx: &Ctx, input: &TechnicianInput) -> Result<Technician> {
    let company = ctx
        .actor
        .company_id
        .clone()
        .ok_or(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH))?;
    if !ctx
        .actor
        .allows(perm::MAINTENANCE_DISPATCH, &format!("/{company}/"))
    {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH));
    }
    let mut errors = Vec::new();
    let code = input.code.trim();
    if code.is_empty() || code.len() > 64 {
        errors.push(FieldError::new("code", "must be 1 to 64 characters"));
    }
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 120 {
        errors.push(FieldError::new("name", "must be 1 to 120 characters"));
    }
    let kind = input.kind.clone().unwrap_or_else(|| "in_house".into());
    if !KINDS.contains(&kind.as_str()) {
        errors.push(FieldError::new("kind", "must be in_house or contractor"));
    }
    let skills = codes("skills", &input.skills, &mut errors);
    let certs = codes("certifications", &input.certifications, &mut errors);
    for (field, id) in [
        ("home_location_id", Some(input.home_location_id.as_str())),
        ("van_location_id", input.van_location_id.as_deref()),
    ] {
        let Some(id) = id.filter(|s| !s.is_empty()) else {
            if field == "home_location_id" {
                errors.push(FieldError::new(field, "is required"));
            }
            continue;
        };
        match org::fetch(p, id).await? {
            Some(n) if n.company_id == company && n.is_site() => {}
            _ => errors.push(FieldError::new(
                field,
                "must be a store, warehouse or central kitchen of the company",
            )),
        }
    }
    let days = input.shift_days.clone().unwrap_or_else(|| "1111100".into());
    let (start, end) = (
        input.shift_start_min.unwrap_or(480),
        input.shift_end_min.unwrap_or(1020),
    );
    if crate::sla::Hours::parse(&days, start, end).is_none() {
        errors.push(FieldError::new(
            "shift_days",
            "days must be seven 0/1 characters (Monday first) and 0 ≤ shift_start_min < shift_end_min ≤ 1440",
        ));
    }
    let max_jobs = input.max_open_jobs.unwrap_or(6);
    if !(1..=50).contains(&max_jobs) {
        errors.push(FieldError::new("max_open_jobs", "must be 1 to 50"));
    }
    let rate = input.hourly_rate.unwrap_or(0);
    if !(0..=100_000_000).contains(&rate) {
        errors.push(FieldError::new(
            "hourly_rate",
            "must be 0 to 100000000 minor units",
        ));
    }
    let user_id = match input
        .username
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(u) => {
            let r = sqlx::query("SELECT id FROM users WHERE username = $1 AND company_id = $2")
                .bind(u)
                .bind(&company)
                .fetch_optional(p.db.pool())
                .await?;
            match r {
                Some(r) => Some(r.try_get::<String, _>("id")?),
                None => {
                    errors.push(FieldError::new("username", "no such user in the company"));
                    None
                }
            }
        }
        None => None,
    };
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let id = new_id();
    tx!(p.db, tx, {
        let t = now().micros();
        let r = sqlx::query(
            "INSERT INTO mnt_technicians (id, company_id, user_id, code, name, kind, skills, certifications, \
             home_location_id, van_location_id, shift_days, shift_start_min, shift_end_min, max_open_jobs, \
             hourly_rate, status, created_at, updated_at, version) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,'active',$16,$16,1)",
        )
        .bind(&id)
        .bind(&company)
        .bind(user_id.clone())
        .bind(code)
        .bind(name)
        .bind(&kind)
        .bind(&skills)
        .bind(&certs)
        .bind(&input.home_location_id)
        .bind(input.van_location_id.clone().filter(|s| !s.is_empty()))
        .bind(&days)
        .bind(start)
        .bind(end)
        .bind(max_jobs)
        .bind(rate)
        .bind(t)
        .execute(&mut *tx)
        .await;
        boh_platform::error::unique_conflict(r, "code", || {
            format!("technician code {code} (or that user) is already registered")
        })?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.technician.create",
                entity_type: "mnt_technician",
                entity_id: &id,
                org_path: Some(&format!("/{company}/")),
                before: None,
                after: Some(json!({"code": code, "name": name, "kind": kind, "skills": skills})),
            },
        )
        .await?;
        let made = Technician {
            id: id.clone(),
            company_id: company.clone(),
            user_id: user_id.clone(),
            code: code.to_string(),
            name: name.to_string(),
            kind: kind.clone(),
            skills: split(&skills),
            certifications: split(&certs),
            home_location_id: input.home_location_id.clone(),
            van_location_id: input.van_location_id.clone().filter(|s| !s.is_empty()),
            last_latitude: None,
            last_longitude: None,
            last_seen_at: None,
            shift_days: days.clone(),
            shift_start_min: start,
            shift_end_min: end,
            max_open_jobs: max_jobs,
            hourly_rate: rate,
            status: "active".into(),
            open_jobs: 0,
            version: 1,
        };
        boh_platform::idem::record_created(tx, ctx, &made).await?;
        Ok(made)
    })
}

/// Record where a technician is (the phone's position, shared from the job list). The
/// technician themself, or a dispatcher.
pub async fn report_position(
    p: &Platform,
    actor: &Actor,
    id: &str,
    latitude: f64,
    longitude: f64,
) -> Result<()> {
    let t = fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
    let own = t.user_id.as_deref() == Some(actor.user_id.as_str());
    if !own && !actor.allows(perm::MAINTENANCE_DISPATCH, &format!("/{}/", t.company_id)) {
        return Err(PlatformError::NotFound);
    }
    let mut errors = Vec::new();
    if !(-90.0..=90.0).contains(&latitude) {
        errors.push(FieldError::new("latitude", "must be -90 to 90"));
    }
    if !(-180.0..=180.0).contains(&longitude) {
        errors.push(FieldError::new("longitude", "must be -180 to 180"));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    sqlx::query(
        "UPDATE mnt_technicians SET last_latitude = $1, last_longitude = $2, last_seen_at = $3 WHERE id = $4",
    )
    .bind(latitude)
    .bind(longitude)
    .bind(now().micros())
    .bind(id)
    .execute(p.db.pool())
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- dispatch

/// One suggestion of the dispatch plan.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Suggestion {
    pub work_order: WorkOrder,
    /// The suggested technician, none when nobody qualifies or the job is outweighed.
    pub technician_id: Option<String>,
    pub technician_name: Option<String>,
    /// Why this technician, in words (distance, load, SLA, first-time fix, runner-up), or
    /// why nobody.
    pub why: String,
    /// The figures behind `why`, for a page to word them in its own language.
    pub reasons: Option<WhyFigures>,
    /// Technicians who qualify but were given more urgent jobs (when unassigned).
    pub qualified_count: usize,
    pub distance_m: Option<i64>,
    pub cost: Option<i64>,
    /// Technicians ruled out and why (at most five).
    pub ruled_out: Vec<String>,
    /// Technicians who qualify, for the dispatcher's override.
    pub qualified: Vec<String>,
}

/// Why a technician was suggested.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WhyFigures {
    pub distance_m: i64,
    /// Open jobs the technician held before this one.
    pub load_before: u32,
    /// Business minutes left to resolve.
    pub sla_minutes: i64,
    /// First-time-fix rate in this category, per mille (smoothed).
    pub ftf_permille: u32,
    pub category: String,
    /// The next best technician and how much more they would cost.
    pub runner_up: Option<String>,
    pub runner_up_extra: Option<i64>,
}

/// The plan for the open, unassigned work orders in the dispatcher's scope.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DispatchPlan {
    pub suggestions: Vec<Suggestion>,
    pub technicians: Vec<Technician>,
    /// Total cost of the optimal plan (lower is better).
    pub optimal_cost: i64,
    /// Total cost of the nearest-free-technician plan, for comparison.
    pub greedy_cost: i64,
    /// A proven lower bound on any plan's cost (equal to the optimum when proven optimal).
    pub lower_bound: Option<i64>,
    pub solve_ms: f64,
}

fn on_shift(t: &Technician, tz: &str, at: i64) -> bool {
    let Some(h) = crate::sla::Hours::parse(&t.shift_days, t.shift_start_min, t.shift_end_min)
    else {
        return false;
    };
    let Ok(ts) = jiff::Timestamp::from_microsecond(at) else {
        return false;
    };
    let z = ts.to_zoned_datetime(crate::sla::zone(tz));
    let wd = z.weekday().to_monday_zero_offset() as usize;
    let m = i64::from(z.hour()) * 60 + i64::from(z.minute());
    h.days[wd] && m >= h.open_min && m < h.close_min
}

/// Metres on a local plane around (lat0, lon0): accurate to well under a percent within a
/// city or region.
fn project(lat0: f64, lon0: f64, lat: f64, lon: f64) -> boh_dispatch::Position {
    let x = (lon - lon0) * lat0.to_radians().cos() * 111_320.0;
    let y = (lat - lat0) * 110_540.0;
    boh_dispatch::Position::new(x.round() as i64, y.round() as i64)
}

fn whole_units(q: boh_kernel::Qty) -> u32 {
    u32::try_from((q.0 / 1_000_000).max(0)).unwrap_or(u32::MAX)
}

/// First-time-fix history per technician and category: a job is fixed the first time when no
/// work order for the same asset and fault was opened within 30 days after it finished.
async fn ftf_history(
    p: &Platform,
    company: &str,
) -> Result<HashMap<String, BTreeMap<String, boh_dispatch::FtfRecord>>> {
    let rows = sqlx::query(
        "SELECT w.technician_id, w.category, COUNT(*) AS total, SUM(CASE WHEN EXISTS (SELECT 1 FROM mnt_work_orders r \
         WHERE r.asset_id = w.asset_id AND r.fault_code = w.fault_code AND r.created_at > w.finished_at \
         AND r.created_at <= w.finished_at + 2592000000000) THEN 0 ELSE 1 END) AS fixed \
         FROM mnt_work_orders w WHERE w.company_id = $1 AND w.finished_at IS NOT NULL AND w.technician_id IS NOT NULL \
         GROUP BY w.technician_id, w.category",
    )
    .bind(company)
    .fetch_all(p.db.pool())
    .await?;
    let mut out: HashMap<String, BTreeMap<String, boh_dispatch::FtfRecord>> = HashMap::new();
    for r in rows {
        let t: String = r.try_get("technician_id")?;
        let c: String = r.try_get("category")?;
        let total: i64 = r.try_get("total")?;
        let fixed: i64 = r.try_get("fixed")?;
        out.entry(t).or_default().insert(
            c,
            boh_dispatch::FtfRecord {
                fixed: u32::try_from(fixed.max(0)).unwrap_or(0),
                total: u32::try_from(total.max(0)).unwrap_or(0),
            },
        );
    }
    Ok(out)
}

/// Build the plan for the open and reviewed work orders without a technician that the actor
/// may dispatch (optionally only under one org node).
pub async fn plan(p: &Platform, actor: &Actor, under: Option<&str>) -> Result<DispatchPlan> {
    if !actor.has_anywhere(perm::MAINTENANCE_DISPATCH) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH));
    }
    let company = actor.company_id.clone().unwrap_or_default();
    let mut wos: Vec<WorkOrder> = Vec::new();
    for status in ["open", "review"] {
        let page = workorder::list(
            p,
            actor,
            &WoFilter {
                status: Some(status.into()),
                under: under.map(str::to_string),
                limit: Some(1000),
                ..Default::default()
            },
        )
        .await?;
        wos.extend(page.items);
    }
    let dispatch_scope = actor.scope(perm::MAINTENANCE_DISPATCH);
    let mut sites: HashMap<String, org::OrgNode> = HashMap::new();
    for n in org::company_nodes(p, &company).await? {
        sites.insert(n.id.clone(), n);
    }
    wos.retain(|w| {
        sites
            .get(&w.location_id)
            .is_some_and(|n| dispatch_scope.contains(&n.path))
    });
    let techs: Vec<Technician> = list(p, actor)
        .await?
        .into_iter()
        .filter(|t| t.status == "active")
        .collect();
    // The plane's origin: the mean of the sites involved.
    let coords: Vec<(f64, f64)> = wos
        .iter()
        .filter_map(|w| sites.get(&w.location_id))
        .chain(techs.iter().filter_map(|t| sites.get(&t.home_location_id)))
        .filter_map(|n| Some((n.latitude?, n.longitude?)))
        .collect();
    let (lat0, lon0) = if coords.is_empty() {
        (0.0, 0.0)
    } else {
        let n = coords.len() as f64;
        (
            coords.iter().map(|c| c.0).sum::<f64>() / n,
            coords.iter().map(|c| c.1).sum::<f64>() / n,
        )
    };
    let pos_of_site = |id: &str| {
        sites
            .get(id)
            .and_then(|n| Some(project(lat0, lon0, n.latitude?, n.longitude?)))
            .unwrap_or_default()
    };
    // Parts: what the jobs need, on hand at their sites and in the vans.
    let mut needed: HashMap<String, BTreeMap<String, u32>> = HashMap::new();
    let mut part_codes: BTreeSet<String> = BTreeSet::new();
    let in_plan: BTreeSet<&str> = wos.iter().map(|w| w.id.as_str()).collect();
    for (id, m) in parts_needed(p, &company).await? {
        if in_plan.contains(id.as_str()) {
            part_codes.extend(m.keys().cloned());
            needed.insert(id, m);
        }
    }
    let items = boh_inventory::catalog::items_by_code(
        p,
        &company,
        &part_codes.iter().cloned().collect::<Vec<_>>(),
    )
    .await?;
    let id_of: HashMap<String, String> = items
        .iter()
        .map(|(c, i)| (c.clone(), i.id.clone()))
        .collect();
    let item_ids: Vec<String> = id_of.values().cloned().collect();
    let mut on_hand_cache: HashMap<String, HashMap<String, boh_kernel::Qty>> = HashMap::new();
    let mut on_hand = async |loc: &str| -> Result<HashMap<String, u32>> {
        if item_ids.is_empty() {
            return Ok(HashMap::new());
        }
        if !on_hand_cache.contains_key(loc) {
            let m = boh_inventory::ledger::on_hand_at(p, loc, &item_ids).await?;
            on_hand_cache.insert(loc.to_string(), m);
        }
        let m = &on_hand_cache[loc];
        Ok(id_of
            .iter()
            .map(|(code, id)| {
                (
                    code.clone(),
                    m.get(id).copied().map(whole_units).unwrap_or(0),
                )
            })
            .collect())
    };
    let ftf = ftf_history(p, &company).await?;
    let t_now = now().micros();
    let mut dtechs = Vec::with_capacity(techs.len());
    for t in &techs {
        let tz = sites
            .get(&t.home_location_id)
            .map(|n| n.timezone.clone())
            .unwrap_or_else(|| "UTC".into());
        let position = match (t.last_latitude, t.last_longitude) {
            (Some(la), Some(lo)) => project(lat0, lon0, la, lo),
            _ => pos_of_site(&t.home_location_id),
        };
        let van_parts = match &t.van_location_id {
            Some(v) => on_hand(v).await?.into_iter().collect(),
            None => BTreeMap::new(),
        };
        let load = u32::try_from(t.open_jobs.max(0)).unwrap_or(0);
        dtechs.push(boh_dispatch::Technician {
            id: t.id.clone(),
            skills: t.skills.iter().cloned().collect(),
            certifications: t.certifications.iter().cloned().collect(),
            position,
            on_shift: on_shift(t, &tz, t_now),
            load,
            capacity: u32::try_from((t.max_open_jobs - t.open_jobs).max(0)).unwrap_or(0),
            contractor: t.kind == "contractor",
            van_parts,
            first_time_fix: ftf.get(&t.id).cloned().unwrap_or_default(),
        });
    }
    let mut jobs = Vec::with_capacity(wos.len());
    for w in &wos {
        let parts = needed.get(&w.id).cloned().unwrap_or_default();
        let on_site = if parts.is_empty() {
            BTreeMap::new()
        } else {
            on_hand(&w.location_id).await?.into_iter().collect()
        };
        jobs.push(boh_dispatch::Job {
            id: w.id.clone(),
            position: pos_of_site(&w.location_id),
            required_skills: required_skill(&w.category)
                .map(|s| BTreeSet::from([s.to_string()]))
                .unwrap_or_default(),
            required_certifications: required_certification(&w.category)
                .map(|s| BTreeSet::from([s.to_string()]))
                .unwrap_or_default(),
            category: w.category.clone(),
            priority: crate::sla::PRIORITIES
                .iter()
                .position(|x| *x == w.priority)
                .unwrap_or(1) as u32,
            sla_minutes: w.sla.resolution_left_min.unwrap_or(0),
            parts_needed: parts,
            parts_on_site: on_site,
        });
    }
    let weights = boh_dispatch::Weights::default();
    let started = std::time::Instant::now();
    let optimal = boh_dispatch::solve(&dtechs, &jobs, &weights)
        .map_err(|e| PlatformError::Internal(anyhow::anyhow!("dispatch: {e}")))?;
    let solve_ms = started.elapsed().as_secs_f64() * 1000.0;
    let greedy = boh_dispatch::greedy(&dtechs, &jobs, &weights)
        .map_err(|e| PlatformError::Internal(anyhow::anyhow!("dispatch: {e}")))?;
    let name_of: HashMap<&str, &str> = techs
        .iter()
        .map(|t| (t.id.as_str(), t.name.as_str()))
        .collect();
    let mut suggestions = Vec::with_capacity(wos.len());
    for (w, job) in wos.into_iter().zip(&jobs) {
        let rejected = optimal.rejections_of(&w.id);
        let ruled_out: Vec<String> = rejected
            .iter()
            .take(5)
            .map(|r| {
                format!(
                    "{}: {}",
                    name_of.get(r.technician.as_str()).unwrap_or(&"?"),
                    r.reasons
                        .iter()
                        .map(|x| x.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })
            .collect();
        let qualified: Vec<String> = dtechs
            .iter()
            .filter(|t| !rejected.iter().any(|r| r.technician == t.id))
            .map(|t| t.id.clone())
            .collect();
        let s = match optimal.assignment(&w.id) {
            Some(a) => {
                let r = &a.reasons;
                let mut why = format!(
                    "{:.1} km away, {} open job(s), {} SLA minutes left, first-time fix {}‰ in {}",
                    r.distance_m as f64 / 1000.0,
                    r.load_before,
                    r.sla_minutes,
                    r.ftf_permille,
                    job.category
                );
                if let Some(ru) = &r.runner_up {
                    why.push_str(&format!(
                        "; next best {} costs {} more",
                        name_of.get(ru.technician.as_str()).unwrap_or(&"?"),
                        ru.extra_cost
                    ));
                }
                Suggestion {
                    technician_id: Some(a.technician.clone()),
                    technician_name: name_of.get(a.technician.as_str()).map(|s| s.to_string()),
                    why,
                    reasons: Some(WhyFigures {
                        distance_m: r.distance_m,
                        load_before: r.load_before,
                        sla_minutes: r.sla_minutes,
                        ftf_permille: r.ftf_permille,
                        category: job.category.clone(),
                        runner_up: r.runner_up.as_ref().map(|ru| {
                            name_of
                                .get(ru.technician.as_str())
                                .unwrap_or(&"?")
                                .to_string()
                        }),
                        runner_up_extra: r.runner_up.as_ref().map(|ru| ru.extra_cost),
                    }),
                    qualified_count: 0,
                    distance_m: Some(r.distance_m),
                    cost: Some(r.cost.total),
                    ruled_out,
                    qualified,
                    work_order: w,
                }
            }
            None => {
                let qualified_count = optimal
                    .unassigned
                    .iter()
                    .find(|u| u.job == w.id)
                    .map(|u| u.qualified)
                    .unwrap_or(0);
                let why = match optimal.unassigned.iter().find(|u| u.job == w.id) {
                    Some(u) if u.qualified == 0 => {
                        "no technician qualifies (skill, certification, shift, capacity or parts)"
                            .to_string()
                    }
                    Some(u) => format!(
                        "{} technician(s) qualify but their capacity went to more urgent jobs",
                        u.qualified
                    ),
                    None => "not planned".to_string(),
                };
                Suggestion {
                    technician_id: None,
                    technician_name: None,
                    why,
                    reasons: None,
                    qualified_count,
                    distance_m: None,
                    cost: None,
                    ruled_out,
                    qualified,
                    work_order: w,
                }
            }
        };
        suggestions.push(s);
    }
    Ok(DispatchPlan {
        suggestions,
        technicians: techs,
        optimal_cost: optimal.total_cost,
        greedy_cost: greedy.total_cost,
        lower_bound: optimal.certificate.as_ref().map(|c| c.lower_bound),
        solve_ms,
    })
}

/// The parts the company's open (and reviewed) work orders are expected to need, in one query.
async fn parts_needed(p: &Platform, company: &str) -> Result<Vec<(String, BTreeMap<String, u32>)>> {
    let rows = sqlx::query(
        "SELECT id, parts_needed FROM mnt_work_orders WHERE company_id = $1 \
         AND status IN ('open', 'review') AND parts_needed IS NOT NULL",
    )
    .bind(company)
    .fetch_all(p.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let text: String = r.try_get("parts_needed")?;
        if let Ok(m) = serde_json::from_str(&text) {
            out.push((r.try_get("id")?, m));
        }
    }
    Ok(out)
}

/// One row the dispatcher applies: the suggestion, or another technician (an override).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRow {
    pub work_order_id: String,
    pub technician_id: String,
    /// Why (the suggestion's reasons, or the dispatcher's reason for the override).
    #[serde(default)]
    pub note: Option<String>,
}

/// Apply a dispatch: every row is checked first (the work order dispatchable by the actor and
/// still unassigned or in review, the technician active in the company); if any is bad,
/// nothing is assigned and each bad row is named.
pub async fn apply(p: &Platform, ctx: &Ctx, rows: &[ApplyRow]) -> Result<Vec<WorkOrder>> {
    if !ctx.actor.has_anywhere(perm::MAINTENANCE_DISPATCH) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_DISPATCH));
    }
    let mut errors = Vec::new();
    if rows.is_empty() {
        errors.push(FieldError::new("rows", "choose at least one work order"));
    }
    let company = ctx.actor.company_id.clone().unwrap_or_default();
    for (i, r) in rows.iter().enumerate() {
        match workorder::get(p, &ctx.actor, &r.work_order_id).await {
            Ok(l) if !ctx.actor.allows(perm::MAINTENANCE_DISPATCH, &l.path) => {
                errors.push(FieldError::new(
                    &format!("rows[{i}].work_order_id"),
                    "you may not dispatch it",
                ))
            }
            Ok(l) if !["open", "review"].contains(&l.wo.status.as_str()) => {
                errors.push(FieldError::new(
                    &format!("rows[{i}].work_order_id"),
                    format!("{} is already {}", l.wo.number, l.wo.status),
                ))
            }
            Ok(_) => {}
            Err(PlatformError::NotFound) => errors.push(FieldError::new(
                &format!("rows[{i}].work_order_id"),
                "no such work order",
            )),
            Err(e) => return Err(e),
        }
        match fetch(p, &r.technician_id).await? {
            Some(t) if t.company_id == company && t.status == "active" => {}
            _ => errors.push(FieldError::new(
                &format!("rows[{i}].technician_id"),
                "no such active technician",
            )),
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(
            workorder::assign(
                p,
                ctx,
                &r.work_order_id,
                &r.technician_id,
                r.note.as_deref(),
            )
            .await?,
        );
    }
    Ok(out)
}
