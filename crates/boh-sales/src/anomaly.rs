//! Sales anomalies over a period, within a node of the organisation (default: everything the
//! actor may read with `sales.read`), read from the rollups only.
//!
//! - **Rate outliers**: the void rate (voided lines / all lines, voided included) and the
//!   refund rate (refund tickets / sale + refund tickets) of every cashier (per store,
//!   `sales_rollup_cashier`) and every store (`sales_rollup_day`) over the period. Only
//!   members with at least `min_lines` lines (void rate) or `min_tickets` tickets (refund
//!   rate) take part, so tiny samples neither flag nor move the peers. With at least
//!   [`MIN_PEERS`] members, a member is flagged when its rate exceeds
//!   `median + max(k × 1.4826 × MAD, min_excess)` of its peer group (all cashiers, resp. all
//!   stores, of the node); MAD is the median absolute deviation, 1.4826 makes it comparable
//!   to a standard deviation, and `min_excess` keeps a group whose members are all alike
//!   (MAD 0) from flagging a hair above the median. Rates are integers in parts per million
//!   (rounded half away from zero); medians of an even count round the mean of the middle two
//!   down. No floats.
//! - **Low days**: a store-day of the period whose net sales are below `below_bp` basis
//!   points of its expected level, the median net sales of the same weekday over the previous
//!   `weeks` weeks (days with sales only; at least half of those weeks must have sales, so a
//!   new store is not flagged). A day with no sales at all counts as 0 (a dead day).
//!
//! Each flag carries why: the figure, the peer median (or expected level) and the threshold.

use std::collections::{BTreeMap, BTreeSet};

use boh_db::{AssertSqlSafe, Row};
use boh_kernel::qty::mul_div_round;
use boh_kernel::{Actor, perm};
use boh_platform::org;
use boh_platform::{FieldError, Platform, PlatformError, Result};
use serde::{Deserialize, Serialize};

/// Fewest members of a peer group for its rates to flag anyone.
pub const MIN_PEERS: usize = 3;

/// Parameters of the anomaly report (defaults in brackets).
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnomalyFilter {
    /// A node of the organisation (company, region or store); everything readable when absent.
    pub node_id: Option<String>,
    #[param(format = Date)]
    pub from: Option<String>,
    #[param(format = Date)]
    pub to: Option<String>,
    /// Multiplier of the scaled MAD, in tenths (1–100) [30, i.e. 3 ×].
    pub k_tenths: Option<i64>,
    /// Smallest excess over the peer median that flags, ppm (0–1,000,000) [20,000 = 2 points].
    pub min_excess_ppm: Option<i64>,
    /// Fewest lines for a void rate (1–1,000,000) [50].
    pub min_lines: Option<i64>,
    /// Fewest tickets for a refund rate (1–1,000,000) [30].
    pub min_tickets: Option<i64>,
    /// Weeks of history for a day's expected level (1–26) [4].
    pub weeks: Option<i64>,
    /// A day flags below this share of its expected level, basis points (1–10,000) [5,000].
    pub below_bp: Option<i64>,
}

/// The parameters in force.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AnomalyParams {
    pub k_tenths: i64,
    pub min_excess_ppm: i64,
    pub min_lines: i64,
    pub min_tickets: i64,
    pub weeks: i64,
    pub below_bp: i64,
}

/// A cashier or store whose void or refund rate is an outlier among its peers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RateFlag {
    /// cashier or store
    pub subject: String,
    /// void_rate or refund_rate
    pub metric: String,
    pub store_id: String,
    pub store_code: String,
    pub store_name_zh: String,
    pub store_name_en: String,
    /// The cashier (subject `cashier`).
    pub cashier: Option<String>,
    /// Voided lines, or refund tickets.
    pub count: i64,
    /// All lines, or all sale + refund tickets.
    pub base: i64,
    /// Voided, or refunded, amount in minor units.
    pub amount: i64,
    pub rate_ppm: i64,
    pub peer_median_ppm: i64,
    pub peer_mad_ppm: i64,
    pub threshold_ppm: i64,
    /// Members of the peer group (with enough volume).
    pub peers: i64,
}

/// A store-day far below its expected sales.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayFlag {
    pub store_id: String,
    pub store_code: String,
    pub store_name_zh: String,
    pub store_name_en: String,
    #[schema(format = Date)]
    pub business_date: String,
    /// 1 = Monday … 7 = Sunday.
    pub weekday: i64,
    /// Net sales of the day, minor units (0: no sales at all).
    pub net: i64,
    /// The median of the same weekday over the history, minor units.
    pub expected_net: i64,
    /// The flag threshold, minor units (expected × below_bp / 10,000).
    pub threshold_net: i64,
    /// Net as basis points of expected.
    pub ratio_bp: i64,
    /// Same-weekday days with sales in the history.
    pub history_days: i64,
}

/// The report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Anomalies {
    pub node_id: Option<String>,
    #[schema(format = Date)]
    pub from: String,
    #[schema(format = Date)]
    pub to: String,
    pub params: AnomalyParams,
    /// Highest rate over threshold first.
    pub rates: Vec<RateFlag>,
    /// Lowest share of expected first.
    pub days: Vec<DayFlag>,
}

/// The median of integers (sorted in place); the mean of the middle two rounded down.
pub fn median(v: &mut [i64]) -> i64 {
    if v.is_empty() {
        return 0;
    }
    v.sort_unstable();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]).div_euclid(2)
    }
}

/// (median, MAD) of integers.
pub fn median_mad(values: &[i64]) -> (i64, i64) {
    let mut v = values.to_vec();
    let m = median(&mut v);
    let mut dev: Vec<i64> = values.iter().map(|x| (x - m).abs()).collect();
    (m, median(&mut dev))
}

/// The outlier threshold: median + max(k/10 × 1.4826 × MAD, min_excess), ppm.
pub fn threshold(median: i64, mad: i64, k_tenths: i64, min_excess: i64) -> i64 {
    let spread = mul_div_round(mad, k_tenths * 14_826, 100_000).unwrap_or(i64::MAX / 4);
    median + spread.max(min_excess)
}

fn ppm(num: i64, den: i64) -> i64 {
    if den <= 0 {
        0
    } else {
        mul_div_round(num, 1_000_000, den).unwrap_or(0)
    }
}

fn param(
    errors: &mut Vec<FieldError>,
    field: &str,
    v: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
) -> i64 {
    match v {
        None => default,
        Some(x) if (min..=max).contains(&x) => x,
        Some(_) => {
            errors.push(FieldError::new(
                field,
                format!("must be between {min} and {max}"),
            ));
            default
        }
    }
}

struct Member {
    store_id: String,
    cashier: Option<String>,
    lines: i64,
    void_lines: i64,
    void_amount: i64,
    tickets: i64,
    refund_tickets: i64,
    refund_amount: i64,
}

#[derive(Clone)]
struct StoreInfo {
    code: String,
    name_zh: String,
    name_en: String,
}

fn flags_of(
    subject: &str,
    members: &[Member],
    stores: &BTreeMap<String, StoreInfo>,
    params: &AnomalyParams,
    out: &mut Vec<RateFlag>,
) {
    for metric in ["void_rate", "refund_rate"] {
        let eligible: Vec<(&Member, i64, i64, i64)> = members
            .iter()
            .filter_map(|m| {
                let (count, base, amount, min) = if metric == "void_rate" {
                    (
                        m.void_lines,
                        m.lines + m.void_lines,
                        m.void_amount,
                        params.min_lines,
                    )
                } else {
                    (
                        m.refund_tickets,
                        m.tickets + m.refund_tickets,
                        m.refund_amount,
                        params.min_tickets,
                    )
                };
                (base >= min && base > 0).then_some((m, count, base, amount))
            })
            .collect();
        if eligible.len() < MIN_PEERS {
            continue;
        }
        let rates: Vec<i64> = eligible.iter().map(|(_, c, b, _)| ppm(*c, *b)).collect();
        let (med, mad) = median_mad(&rates);
        let thr = threshold(med, mad, params.k_tenths, params.min_excess_ppm);
        for ((m, count, base, amount), rate) in eligible.iter().zip(&rates) {
            if *rate <= thr {
                continue;
            }
            let s = stores.get(&m.store_id).cloned().unwrap_or(StoreInfo {
                code: String::new(),
                name_zh: String::new(),
                name_en: String::new(),
            });
            out.push(RateFlag {
                subject: subject.to_string(),
                metric: metric.to_string(),
                store_id: m.store_id.clone(),
                store_code: s.code,
                store_name_zh: s.name_zh,
                store_name_en: s.name_en,
                cashier: m.cashier.clone(),
                count: *count,
                base: *base,
                amount: *amount,
                rate_ppm: *rate,
                peer_median_ppm: med,
                peer_mad_ppm: mad,
                threshold_ppm: thr,
                peers: eligible.len() as i64,
            });
        }
    }
}

/// The anomalies of the stores under `node_id` (or all readable) over `from..=to`.
pub async fn report(p: &Platform, actor: &Actor, f: &AnomalyFilter) -> Result<Anomalies> {
    let mut errors = Vec::new();
    let params = AnomalyParams {
        k_tenths: param(&mut errors, "k_tenths", f.k_tenths, 30, 1, 100),
        min_excess_ppm: param(
            &mut errors,
            "min_excess_ppm",
            f.min_excess_ppm,
            20_000,
            0,
            1_000_000,
        ),
        min_lines: param(&mut errors, "min_lines", f.min_lines, 50, 1, 1_000_000),
        min_tickets: param(&mut errors, "min_tickets", f.min_tickets, 30, 1, 1_000_000),
        weeks: param(&mut errors, "weeks", f.weeks, 4, 1, 26),
        below_bp: param(&mut errors, "below_bp", f.below_bp, 5_000, 1, 10_000),
    };
    let per = crate::avt::period(f.from.as_deref(), f.to.as_deref());
    if let Err(PlatformError::Validation(e)) = &per {
        errors.extend(e.iter().cloned());
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let (from, to) = per?;
    let node_id = f
        .node_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let under = match node_id {
        Some(id) => {
            if !boh_kernel::id::is_uuid(id) {
                return Err(PlatformError::NotFound);
            }
            let node = org::fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
            if !actor.allows_within(perm::SALES_READ, &node.path) {
                return Err(PlatformError::NotFound);
            }
            node.path
        }
        None => String::new(),
    };
    let scope = actor.scope(perm::SALES_READ).sql("d.store_path");
    let hist_from = from
        .checked_sub(jiff::Span::new().weeks(params.weeks))
        .map_err(|_| PlatformError::invalid("from", "out of range"))?;
    let (from_s, to_s, hist_s) = (from.to_string(), to.to_string(), hist_from.to_string());
    let db = p.db.pool();

    // Store-days of the history and the period, in scope and under the node.
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT d.store_id, d.business_date, d.tickets, d.refund_tickets, d.refund_amount, d.void_lines, \
         d.void_amount, d.lines, d.net FROM sales_rollup_day d \
         WHERE {scope} AND ($1 = '' OR d.store_path LIKE $1 || '%') \
         AND d.business_date >= $2 AND d.business_date <= $3"
    )))
    .bind(&under)
    .bind(&hist_s)
    .bind(&to_s)
    .fetch_all(db)
    .await?;
    let mut day_net: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut store_members: BTreeMap<String, Member> = BTreeMap::new();
    for r in &rows {
        let store: String = r.try_get("store_id")?;
        let date: String = r.try_get("business_date")?;
        day_net.insert((store.clone(), date.clone()), r.try_get("net")?);
        if date < from_s {
            continue;
        }
        let m = store_members.entry(store.clone()).or_insert(Member {
            store_id: store,
            cashier: None,
            lines: 0,
            void_lines: 0,
            void_amount: 0,
            tickets: 0,
            refund_tickets: 0,
            refund_amount: 0,
        });
        m.lines += r.try_get::<i64, _>("lines")?;
        m.void_lines += r.try_get::<i64, _>("void_lines")?;
        m.void_amount += r.try_get::<i64, _>("void_amount")?;
        m.tickets += r.try_get::<i64, _>("tickets")?;
        m.refund_tickets += r.try_get::<i64, _>("refund_tickets")?;
        m.refund_amount += r.try_get::<i64, _>("refund_amount")?;
    }
    // Cashiers of the period (the cashier rollup has no path: join the day rollup's).
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT c.store_id, c.cashier, CAST(SUM(c.tickets) AS BIGINT) AS tickets, \
         CAST(SUM(c.refund_tickets) AS BIGINT) AS refund_tickets, CAST(SUM(c.refund_amount) AS BIGINT) AS refund_amount, \
         CAST(SUM(c.void_lines) AS BIGINT) AS void_lines, CAST(SUM(c.void_amount) AS BIGINT) AS void_amount, \
         CAST(SUM(c.lines) AS BIGINT) AS lines \
         FROM sales_rollup_cashier c JOIN sales_rollup_day d ON d.store_id = c.store_id AND d.business_date = c.business_date \
         WHERE {scope} AND ($1 = '' OR d.store_path LIKE $1 || '%') \
         AND c.business_date >= $2 AND c.business_date <= $3 GROUP BY c.store_id, c.cashier"
    )))
    .bind(&under)
    .bind(&from_s)
    .bind(&to_s)
    .fetch_all(db)
    .await?;
    let mut cashiers = Vec::with_capacity(rows.len());
    for r in &rows {
        cashiers.push(Member {
            store_id: r.try_get("store_id")?,
            cashier: Some(r.try_get("cashier")?),
            lines: r.try_get("lines")?,
            void_lines: r.try_get("void_lines")?,
            void_amount: r.try_get("void_amount")?,
            tickets: r.try_get("tickets")?,
            refund_tickets: r.try_get("refund_tickets")?,
            refund_amount: r.try_get("refund_amount")?,
        });
    }
    // Names of the stores seen.
    let store_ids: BTreeSet<String> = day_net.keys().map(|(s, _)| s.clone()).collect();
    let mut stores: BTreeMap<String, StoreInfo> = BTreeMap::new();
    let ids: Vec<&String> = store_ids.iter().collect();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT id, code, name_zh, name_en FROM org_nodes WHERE id IN ({})",
            boh_inventory::in_placeholders(chunk.len(), 1)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            q = q.bind((*id).clone());
        }
        for r in q.fetch_all(db).await? {
            stores.insert(
                r.try_get("id")?,
                StoreInfo {
                    code: r.try_get("code")?,
                    name_zh: r.try_get("name_zh")?,
                    name_en: r.try_get("name_en")?,
                },
            );
        }
    }

    let mut rates = Vec::new();
    flags_of("cashier", &cashiers, &stores, &params, &mut rates);
    let members: Vec<Member> = store_members.into_values().collect();
    flags_of("store", &members, &stores, &params, &mut rates);
    rates.sort_by(|a, b| {
        (b.rate_ppm - b.threshold_ppm)
            .cmp(&(a.rate_ppm - a.threshold_ppm))
            .then_with(|| a.store_code.cmp(&b.store_code))
            .then_with(|| a.cashier.cmp(&b.cashier))
    });

    // Low days.
    let mut days = Vec::new();
    let min_history = (params.weeks + 1) / 2;
    for store in &store_ids {
        let mut d = from;
        while d <= to {
            let mut history = Vec::new();
            for w in 1..=params.weeks {
                if let Ok(h) = d.checked_sub(jiff::Span::new().weeks(w))
                    && let Some(n) = day_net.get(&(store.clone(), h.to_string()))
                {
                    history.push(*n);
                }
            }
            let ds = d.to_string();
            if history.len() as i64 >= min_history {
                let expected = median(&mut history);
                let net = day_net
                    .get(&(store.clone(), ds.clone()))
                    .copied()
                    .unwrap_or(0);
                let threshold_net = mul_div_round(expected, params.below_bp, 10_000).unwrap_or(0);
                if expected > 0 && net < threshold_net {
                    let s = stores.get(store).cloned().unwrap_or(StoreInfo {
                        code: String::new(),
                        name_zh: String::new(),
                        name_en: String::new(),
                    });
                    days.push(DayFlag {
                        store_id: store.clone(),
                        store_code: s.code,
                        store_name_zh: s.name_zh,
                        store_name_en: s.name_en,
                        business_date: ds,
                        weekday: i64::from(d.weekday().to_monday_one_offset()),
                        net,
                        expected_net: expected,
                        threshold_net,
                        ratio_bp: mul_div_round(net, 10_000, expected).unwrap_or(0),
                        history_days: history.len() as i64,
                    });
                }
            }
            match d.tomorrow() {
                Ok(n) => d = n,
                Err(_) => break,
            }
        }
    }
    days.sort_by(|a, b| {
        a.ratio_bp
            .cmp(&b.ratio_bp)
            .then_with(|| a.business_date.cmp(&b.business_date))
            .then_with(|| a.store_code.cmp(&b.store_code))
    });
    Ok(Anomalies {
        node_id: node_id.map(str::to_string),
        from: from_s,
        to: to_s,
        params,
        rates,
        days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_and_mad() {
        assert_eq!(median_mad(&[1, 2, 3, 4, 100]), (3, 1));
        assert_eq!(median_mad(&[10, 20]), (15, 5));
        assert_eq!(median_mad(&[]), (0, 0));
        assert_eq!(median(&mut [-3, -2]), -3);
    }

    #[test]
    fn threshold_uses_scaled_mad_or_the_floor() {
        // 3 × 1.4826 × 10,000 = 44,478.
        assert_eq!(threshold(50_000, 10_000, 30, 20_000), 94_478);
        // MAD 0: the floor.
        assert_eq!(threshold(50_000, 0, 30, 20_000), 70_000);
    }
}
