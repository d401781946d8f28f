//! SLA policies and business time: response and resolution targets per priority (and
//! optionally per asset category), counted in the policy's business hours in the site's time
//! zone. Pure functions over instants in microseconds; the database part is
//! [`policy_for`] and [`list`] / [`save`].

use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use boh_platform::{FieldError, Platform, PlatformError, Result};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Work order priorities, lowest first.
pub const PRIORITIES: &[&str] = &["low", "medium", "high", "urgent"];

const MICROS_PER_MIN: i64 = 60_000_000;
/// The longest stretch scanned for business time (a target of weeks still ends inside it).
const MAX_DAYS: usize = 800;

/// Business hours: the days of the week (Monday first) and the local times of day, in minutes
/// after midnight (`close_min` 1440 is midnight at the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours {
    pub days: [bool; 7],
    pub open_min: i64,
    pub close_min: i64,
}

impl Hours {
    /// Every day, all day.
    pub const ALWAYS: Hours = Hours {
        days: [true; 7],
        open_min: 0,
        close_min: 1440,
    };

    /// From the stored form: `days` as seven `0`/`1` characters, Monday first.
    pub fn parse(days: &str, open_min: i64, close_min: i64) -> Option<Hours> {
        let b = days.as_bytes();
        if b.len() != 7 || !b.iter().all(|c| *c == b'0' || *c == b'1') {
            return None;
        }
        if !(0..1440).contains(&open_min) || close_min <= open_min || close_min > 1440 {
            return None;
        }
        let mut d = [false; 7];
        for (i, c) in b.iter().enumerate() {
            d[i] = *c == b'1';
        }
        if !d.iter().any(|x| *x) {
            return None;
        }
        Some(Hours {
            days: d,
            open_min,
            close_min,
        })
    }

    pub fn days_text(&self) -> String {
        self.days
            .iter()
            .map(|d| if *d { '1' } else { '0' })
            .collect()
    }

    fn is_always(&self) -> bool {
        *self == Hours::ALWAYS
    }

    /// The open window of a local date as UTC instants, if the day is a business day.
    fn window(&self, day: Date, tz: &TimeZone) -> Option<(i64, i64)> {
        let wd = day.weekday().to_monday_zero_offset() as usize;
        if !self.days[wd] {
            return None;
        }
        let at = |m: i64| -> Option<i64> {
            let (d, m) = if m >= 1440 {
                (day.tomorrow().ok()?, 0)
            } else {
                (day, m)
            };
            let dt = d.at((m / 60) as i8, (m % 60) as i8, 0, 0);
            Some(
                dt.to_zoned_datetime(tz.clone())
                    .ok()?
                    .timestamp()
                    .as_microsecond(),
            )
        };
        Some((at(self.open_min)?, at(self.close_min)?))
    }
}

fn local_date(t: i64, tz: &TimeZone) -> Option<Date> {
    let ts = jiff::Timestamp::from_microsecond(t).ok()?;
    Some(ts.to_zoned_datetime(tz.clone()).date())
}

/// The time zone by name, UTC when unknown.
pub fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).unwrap_or(TimeZone::UTC)
}

/// The instant `minutes` business minutes after `start`.
pub fn add_business(h: &Hours, tz: &TimeZone, start: i64, minutes: i64) -> i64 {
    if minutes <= 0 {
        return start;
    }
    let want = minutes.saturating_mul(MICROS_PER_MIN);
    if h.is_always() {
        return start.saturating_add(want);
    }
    let Some(mut day) = local_date(start, tz) else {
        return start.saturating_add(want);
    };
    let mut left = want;
    for _ in 0..MAX_DAYS {
        if let Some((o, c)) = h.window(day, tz) {
            let s = o.max(start);
            if s < c {
                if left <= c - s {
                    return s + left;
                }
                left -= c - s;
            }
        }
        match day.tomorrow() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    start.saturating_add(want)
}

/// Business minutes between `a` and `b` (negative when `b` is before `a`), rounded toward
/// zero.
pub fn business_between(h: &Hours, tz: &TimeZone, a: i64, b: i64) -> i64 {
    if b < a {
        return -business_between(h, tz, b, a);
    }
    if h.is_always() {
        return (b - a) / MICROS_PER_MIN;
    }
    let (Some(mut day), Some(last)) = (local_date(a, tz), local_date(b, tz)) else {
        return (b - a) / MICROS_PER_MIN;
    };
    let mut total = 0i64;
    for _ in 0..MAX_DAYS {
        if let Some((o, c)) = h.window(day, tz) {
            let (s, e) = (o.max(a), c.min(b));
            if s < e {
                total += e - s;
            }
        }
        if day >= last {
            break;
        }
        match day.tomorrow() {
            Ok(d) => day = d,
            Err(_) => break,
        }
    }
    total / MICROS_PER_MIN
}

/// An SLA policy: targets for a priority, for every category (`category` empty) or one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Policy {
    pub priority: String,
    /// An asset category, or empty for every category.
    #[serde(default)]
    pub category: String,
    /// Business minutes until someone must respond (accept the job).
    pub response_min: i64,
    /// Business minutes until the fault must be fixed.
    pub resolution_min: i64,
    /// Business days, seven `0`/`1` characters, Monday first (`1111111` every day).
    pub days: String,
    /// Opening time, minutes after local midnight.
    pub open_min: i64,
    /// Closing time, minutes after local midnight (1440 = midnight).
    pub close_min: i64,
}

impl Policy {
    pub fn hours(&self) -> Hours {
        Hours::parse(&self.days, self.open_min, self.close_min).unwrap_or(Hours::ALWAYS)
    }
}

/// The targets a company without policies of its own gets: urgent and high around the clock,
/// medium and low in business hours (07:00–22:00 every day).
pub fn default_policy(priority: &str) -> Policy {
    let (r, s, always) = match priority {
        "urgent" => (30, 240, true),
        "high" => (120, 480, true),
        "low" => (480, 4320, false),
        _ => (240, 1440, false),
    };
    Policy {
        priority: priority.to_string(),
        category: String::new(),
        response_min: r,
        resolution_min: s,
        days: "1111111".into(),
        open_min: if always { 0 } else { 420 },
        close_min: if always { 1440 } else { 1320 },
    }
}

fn from_row(r: &boh_db::AnyRow) -> Result<Policy> {
    Ok(Policy {
        priority: r.try_get("priority")?,
        category: r.try_get("category")?,
        response_min: r.try_get("response_min")?,
        resolution_min: r.try_get("resolution_min")?,
        days: r.try_get("days")?,
        open_min: r.try_get("open_min")?,
        close_min: r.try_get("close_min")?,
    })
}

/// The policy for a work order: the company's for the priority and category, else its
/// priority-wide one, else [`default_policy`].
pub async fn policy_for(
    conn: &mut sqlx::AnyConnection,
    company_id: &str,
    priority: &str,
    category: &str,
) -> Result<Policy> {
    let rows = sqlx::query(
        "SELECT priority, category, response_min, resolution_min, days, open_min, close_min \
         FROM mnt_sla_policies WHERE company_id = $1 AND priority = $2 AND (category = $3 OR category = '')",
    )
    .bind(company_id)
    .bind(priority)
    .bind(category)
    .fetch_all(&mut *conn)
    .await?;
    let mut best: Option<Policy> = None;
    for r in &rows {
        let p = from_row(r)?;
        if best.is_none() || !p.category.is_empty() {
            best = Some(p);
        }
    }
    Ok(best.unwrap_or_else(|| default_policy(priority)))
}

/// The company's policies (the defaults for priorities it has not set), by priority.
pub async fn list(p: &Platform, actor: &Actor) -> Result<Vec<Policy>> {
    let company = actor.company_id.clone().unwrap_or_default();
    let rows = sqlx::query(
        "SELECT priority, category, response_min, resolution_min, days, open_min, close_min \
         FROM mnt_sla_policies WHERE company_id = $1 ORDER BY priority, category",
    )
    .bind(&company)
    .fetch_all(p.db.pool())
    .await?;
    let mut out: Vec<Policy> = rows.iter().map(from_row).collect::<Result<_>>()?;
    for pr in PRIORITIES {
        if !out
            .iter()
            .any(|x| x.priority == *pr && x.category.is_empty())
        {
            out.push(default_policy(pr));
        }
    }
    out.sort_by_key(|x| {
        (
            PRIORITIES.iter().position(|p| *p == x.priority),
            x.category.clone(),
        )
    });
    Ok(out)
}

/// Check a policy, naming every bad field.
pub fn validate(pol: &Policy) -> Vec<FieldError> {
    let mut e = Vec::new();
    if !PRIORITIES.contains(&pol.priority.as_str()) {
        e.push(FieldError::new(
            "priority",
            format!("must be one of {}", PRIORITIES.join(", ")),
        ));
    }
    if !pol.category.is_empty() && !crate::asset::CATEGORIES.contains(&pol.category.as_str()) {
        e.push(FieldError::new(
            "category",
            "must be empty (every category) or an asset category",
        ));
    }
    if !(1..=100_000).contains(&pol.response_min) {
        e.push(FieldError::new(
            "response_min",
            "must be 1 to 100000 minutes",
        ));
    }
    if !(1..=200_000).contains(&pol.resolution_min) || pol.resolution_min < pol.response_min {
        e.push(FieldError::new(
            "resolution_min",
            "must be 1 to 200000 minutes and not shorter than the response target",
        ));
    }
    if Hours::parse(&pol.days, pol.open_min, pol.close_min).is_none() {
        e.push(FieldError::new(
            "days",
            "days must be seven 0/1 characters (Monday first, at least one 1) and 0 ≤ open_min < close_min ≤ 1440",
        ));
    }
    e
}

/// Set a policy of the actor's company (replacing the one for the same priority and
/// category). Needs `maintenance.work_order.dispatch` over the whole company.
pub async fn save(p: &Platform, ctx: &boh_platform::Ctx, pol: &Policy) -> Result<Policy> {
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
    let errors = validate(pol);
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    boh_platform::tx!(p.db, tx, {
        sqlx::query("DELETE FROM mnt_sla_policies WHERE company_id = $1 AND priority = $2 AND category = $3")
            .bind(&company)
            .bind(&pol.priority)
            .bind(&pol.category)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO mnt_sla_policies (id, company_id, priority, category, response_min, resolution_min, \
             days, open_min, close_min, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
        )
        .bind(new_id())
        .bind(&company)
        .bind(&pol.priority)
        .bind(&pol.category)
        .bind(pol.response_min)
        .bind(pol.resolution_min)
        .bind(&pol.days)
        .bind(pol.open_min)
        .bind(pol.close_min)
        .bind(now().micros())
        .execute(&mut *tx)
        .await?;
        boh_platform::audit::append(
            tx,
            ctx,
            boh_platform::audit::Change {
                action: "maintenance.sla.save",
                entity_type: "mnt_sla_policy",
                entity_id: &format!("{}:{}", pol.priority, pol.category),
                org_path: Some(&format!("/{company}/")),
                before: None,
                after: serde_json::to_value(pol).ok(),
            },
        )
        .await?;
        Ok(pol.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(tz: &TimeZone, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> i64 {
        jiff::civil::date(y, mo, d)
            .at(h, mi, 0, 0)
            .to_zoned_datetime(tz.clone())
            .unwrap()
            .timestamp()
            .as_microsecond()
    }

    #[test]
    fn always_is_plain_minutes() {
        let tz = zone("Asia/Shanghai");
        let t = at(&tz, 2026, 12, 7, 23, 0);
        assert_eq!(
            add_business(&Hours::ALWAYS, &tz, t, 90),
            t + 90 * MICROS_PER_MIN
        );
        assert_eq!(
            business_between(&Hours::ALWAYS, &tz, t, t + 90 * MICROS_PER_MIN),
            90
        );
    }

    #[test]
    fn business_hours_skip_nights_and_closed_days() {
        let tz = zone("Asia/Shanghai");
        // Monday to Friday, 09:00–18:00.
        let h = Hours::parse("1111100", 540, 1080).unwrap();
        // Friday 2026-12-11 17:00 + 120 business minutes = Monday 10:00.
        let start = at(&tz, 2026, 12, 11, 17, 0);
        let due = add_business(&h, &tz, start, 120);
        assert_eq!(due, at(&tz, 2026, 12, 14, 10, 0));
        assert_eq!(business_between(&h, &tz, start, due), 120);
        // Saturday 03:00 + 30 = Monday 09:30.
        let sat = at(&tz, 2026, 12, 12, 3, 0);
        assert_eq!(add_business(&h, &tz, sat, 30), at(&tz, 2026, 12, 14, 9, 30));
        // Time at night counts nothing.
        let n1 = at(&tz, 2026, 12, 8, 19, 0);
        let n2 = at(&tz, 2026, 12, 9, 8, 0);
        assert_eq!(business_between(&h, &tz, n1, n2), 0);
        assert_eq!(business_between(&h, &tz, n2, n1), 0);
        // Overdue is negative.
        assert_eq!(business_between(&h, &tz, due, start), -120);
    }

    #[test]
    fn the_zone_decides_the_day() {
        // 01:00 UTC on a Monday is 09:00 in Shanghai but still Sunday evening in New York.
        let h = Hours::parse("1111100", 540, 1080).unwrap();
        let t = at(&TimeZone::UTC, 2026, 12, 14, 1, 0);
        let sh = zone("Asia/Shanghai");
        assert_eq!(add_business(&h, &sh, t, 10), t + 10 * MICROS_PER_MIN);
        let ny = zone("America/New_York");
        assert_eq!(add_business(&h, &ny, t, 10), at(&ny, 2026, 12, 14, 9, 10));
    }

    #[test]
    fn hours_are_checked() {
        assert!(Hours::parse("1111111", 0, 1440).is_some());
        assert!(Hours::parse("0000000", 0, 1440).is_none());
        assert!(Hours::parse("111111", 0, 1440).is_none());
        assert!(Hours::parse("1111111", 600, 600).is_none());
        assert!(Hours::parse("1111111", 0, 1441).is_none());
        let bad = Policy {
            priority: "soon".into(),
            category: "car".into(),
            response_min: 0,
            resolution_min: 0,
            days: "x".into(),
            open_min: 0,
            close_min: 0,
        };
        let fields: Vec<String> = validate(&bad).into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            [
                "priority",
                "category",
                "response_min",
                "resolution_min",
                "days"
            ]
        );
    }
}
