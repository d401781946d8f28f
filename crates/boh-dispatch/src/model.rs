//! The inputs: technicians, work orders and the weights of the cost.

use std::collections::{BTreeMap, BTreeSet};

/// A point on the dispatch plane, in whole metres.
///
/// The caller projects store and technician coordinates onto a local plane (for a city, an
/// equirectangular projection around its centre is accurate to well under a percent) and
/// passes integers; nothing in this crate reads floating-point input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Position {
    /// Metres east of the plane's origin.
    pub x_m: i64,
    /// Metres north of the plane's origin.
    pub y_m: i64,
}

impl Position {
    /// A position `x_m` metres east and `y_m` metres north of the origin.
    pub const fn new(x_m: i64, y_m: i64) -> Self {
        Self { x_m, y_m }
    }

    /// The straight-line distance to `other` in whole metres, rounded down.
    ///
    /// Exact: an integer square root of the squared distance. Saturates at `i64::MAX`.
    pub fn distance_m(self, other: Position) -> i64 {
        let dx = u128::from(self.x_m.abs_diff(other.x_m));
        let dy = u128::from(self.y_m.abs_diff(other.y_m));
        dx.checked_mul(dx)
            .and_then(|x| dy.checked_mul(dy).and_then(|y| x.checked_add(y)))
            .map_or(i64::MAX, |sq| i64::try_from(sq.isqrt()).unwrap_or(i64::MAX))
    }
}

/// A technician's first-time-fix record in one job category: of `total` past jobs, `fixed`
/// were fixed at the first visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FtfRecord {
    /// Jobs fixed at the first visit.
    pub fixed: u32,
    /// Jobs attended.
    pub total: u32,
}

impl FtfRecord {
    /// The first-time-fix rate in per mille, smoothed as `(fixed + 1) / (total + 2)` so that
    /// a technician without history in the category counts as 500 ‰, and one lucky visit
    /// does not count as 1000 ‰. Rounded down.
    pub fn rate_permille(self) -> u32 {
        let fixed = u64::from(self.fixed.min(self.total));
        let total = u64::from(self.total);
        // (fixed + 1) ≤ (total + 2), so the quotient is at most 1000.
        u32::try_from((fixed + 1) * 1000 / (total + 2)).unwrap_or(1000)
    }
}

/// A field technician (employee or contractor) available to this dispatch batch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Technician {
    /// Unique id; ties between equally good plans are broken by it.
    pub id: String,
    /// Skill codes (`"refrigeration"`, `"hvac"`, ...).
    pub skills: BTreeSet<String>,
    /// Certification codes (`"f-gas"`, `"gas-safe"`, ...).
    pub certifications: BTreeSet<String>,
    /// Where the technician is, or was last seen.
    pub position: Position,
    /// Whether the technician is on shift for this batch. Off-shift technicians get nothing.
    pub on_shift: bool,
    /// Open jobs the technician already holds from earlier batches.
    pub load: u32,
    /// The most further jobs this batch may give the technician.
    pub capacity: u32,
    /// A contractor: paid per job, so [`Weights::contractor`] is added to each of their jobs.
    pub contractor: bool,
    /// Parts carried in the van: part code to quantity.
    pub van_parts: BTreeMap<String, u32>,
    /// First-time-fix history per job category.
    pub first_time_fix: BTreeMap<String, FtfRecord>,
}

/// An open maintenance work order to dispatch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Job {
    /// Unique id (the work order number).
    pub id: String,
    /// Where the work is (the store).
    pub position: Position,
    /// Skills the technician must all have.
    pub required_skills: BTreeSet<String>,
    /// Certifications the technician must all hold.
    pub required_certifications: BTreeSet<String>,
    /// The job category, matched against [`Technician::first_time_fix`].
    pub category: String,
    /// Business priority, 0 (lowest) upwards; raises the cost of leaving the job unassigned.
    pub priority: u32,
    /// Minutes until the resolution SLA is breached; negative when it already is.
    pub sla_minutes: i64,
    /// Parts the repair needs: part code to quantity.
    pub parts_needed: BTreeMap<String, u32>,
    /// Parts already at the store or its warehouse: part code to quantity. Only the shortfall
    /// must be in the technician's van.
    pub parts_on_site: BTreeMap<String, u32>,
}

/// The integer weights of the cost (lower total cost is better). All must be between 0 and
/// [`MAX_WEIGHT`].
///
/// The cost of technician `t` taking job `j` as the `k`-th job (0-based) of its batch is
/// ([`crate::CostBreakdown`] names the terms):
///
/// - travel: `travel_per_m × distance_m`;
/// - load: `load_per_job × (t.load + k)`, growing with the jobs the technician already holds,
///   so a technician's `n`-th job costs more than its first (convex in the number of jobs);
/// - urgency: `urgency_per_km × urgency(j) × distance_m / 1000`, where `urgency(j) =
///   max(0, urgency_horizon_min − sla_minutes)` — an urgent or breached job should not go to
///   a far technician;
/// - first-time fix: `ftf_per_permille × (1000 − rate‰)` for the job's category;
/// - contractor: `contractor` when `t` is a contractor.
///
/// Leaving `j` unassigned costs `unassigned + unassigned_per_priority × priority +
/// unassigned_per_urgency × urgency(j)`: when capacity is scarce the urgent and important jobs
/// are the ones that get a technician.
///
/// Each term saturates at [`MAX_TERM`], so no sum over a realistic batch overflows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weights {
    /// Cost per metre of travel.
    pub travel_per_m: i64,
    /// Cost per job the technician already holds when it takes this one.
    pub load_per_job: i64,
    /// Cost per urgency point per kilometre of travel.
    pub urgency_per_km: i64,
    /// Cost per per-mille of first-time-fix shortfall.
    pub ftf_per_permille: i64,
    /// Cost per job given to a contractor.
    pub contractor: i64,
    /// Base cost of leaving a job unassigned (large).
    pub unassigned: i64,
    /// Extra cost of leaving a job unassigned, per priority level.
    pub unassigned_per_priority: i64,
    /// Extra cost of leaving a job unassigned, per urgency point.
    pub unassigned_per_urgency: i64,
    /// A job with this many SLA minutes or more left has no urgency; each minute less adds
    /// one urgency point (a breached job keeps gaining them).
    pub urgency_horizon_min: i64,
}

/// The largest accepted weight.
pub const MAX_WEIGHT: i64 = 1_000_000_000;
/// The largest value a single cost term takes (it saturates there).
pub const MAX_TERM: i64 = 1_000_000_000_000;
/// The largest urgency a job is given, in points.
pub const MAX_URGENCY: i64 = 1_000_000;

impl Default for Weights {
    /// Weights in which one unit is about one metre of driving: a job already held is worth
    /// 3 km, a breached job (urgency 540 with the 8-hour horizon) adds about 1 km per km
    /// driven, a 30 % first-time-fix shortfall is worth 6 km, a contractor 5 km, and leaving
    /// a job unassigned costs 1000 km plus 100 km per priority level and 1 km per urgency
    /// point.
    fn default() -> Self {
        Self {
            travel_per_m: 1,
            load_per_job: 3_000,
            urgency_per_km: 2,
            ftf_per_permille: 20,
            contractor: 5_000,
            unassigned: 1_000_000,
            unassigned_per_priority: 100_000,
            unassigned_per_urgency: 1_000,
            urgency_horizon_min: 480,
        }
    }
}

impl Weights {
    /// The weights by name, for validation and messages.
    pub(crate) fn named(&self) -> [(&'static str, i64); 9] {
        [
            ("travel_per_m", self.travel_per_m),
            ("load_per_job", self.load_per_job),
            ("urgency_per_km", self.urgency_per_km),
            ("ftf_per_permille", self.ftf_per_permille),
            ("contractor", self.contractor),
            ("unassigned", self.unassigned),
            ("unassigned_per_priority", self.unassigned_per_priority),
            ("unassigned_per_urgency", self.unassigned_per_urgency),
            ("urgency_horizon_min", self.urgency_horizon_min),
        ]
    }

    /// The urgency points of a job with `sla_minutes` left.
    pub fn urgency(&self, sla_minutes: i64) -> i64 {
        self.urgency_horizon_min
            .saturating_sub(sla_minutes)
            .clamp(0, MAX_URGENCY)
    }

    /// The load cost of a technician's job taken when it already holds `held` jobs.
    pub fn load_cost(&self, held: u32) -> i64 {
        term(i128::from(self.load_per_job) * i128::from(held))
    }
}

/// Clamps a term to `0..=MAX_TERM`.
pub(crate) fn term(value: i128) -> i64 {
    i64::try_from(value.clamp(0, i128::from(MAX_TERM))).unwrap_or(MAX_TERM)
}

/// A dispatcher's decision that `job` goes to `technician`, whatever the optimum says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// The job's id.
    pub job: String,
    /// The technician's id.
    pub technician: String,
}

impl Pin {
    /// Pins `job` to `technician`.
    pub fn new(job: impl Into<String>, technician: impl Into<String>) -> Self {
        Self {
            job: job.into(),
            technician: technician.into(),
        }
    }
}
