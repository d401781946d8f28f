//! The dispatch benchmark: a synthetic city, the optimal solver against the greedy baseline.

use std::fmt;
use std::time::{Duration, Instant};

use crate::{Plan, Weights, check, greedy, lower_bound, solve, synthetic};

/// Timed repetitions of each method; the report gives the median.
pub const REPETITIONS: usize = 5;

/// The figures of one benchmark run.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    /// Jobs in the batch.
    pub jobs: usize,
    /// Technicians in the batch.
    pub technicians: usize,
    /// The city's seed.
    pub seed: u64,
    /// Feasible (job, technician) pairs, the solver's arcs.
    pub candidate_pairs: usize,
    /// Slots: the summed capacity of the technicians on shift.
    pub slots: u64,
    /// Median wall time of [`solve`], milliseconds.
    pub solve_ms: f64,
    /// Median wall time of [`greedy`], milliseconds.
    pub greedy_ms: f64,
    /// Total cost of the optimal plan (as recomputed by [`check`]).
    pub optimal_cost: i64,
    /// Total cost of the greedy plan (as recomputed by [`check`]).
    pub greedy_cost: i64,
    /// The certified lower bound, recomputed by [`lower_bound`].
    pub lower_bound: Option<i64>,
    /// Jobs the optimal plan assigns.
    pub optimal_assigned: usize,
    /// Jobs the optimal plan leaves unassigned.
    pub optimal_unassigned: usize,
    /// Jobs the greedy plan assigns.
    pub greedy_assigned: usize,
    /// Jobs the greedy plan leaves unassigned.
    pub greedy_unassigned: usize,
    /// Jobs no technician qualifies for.
    pub unqualified_jobs: usize,
    /// Breached jobs (SLA minutes below 0) each plan leaves unassigned: optimal, greedy.
    pub breached_unassigned: (usize, usize),
    /// Summed travel of the assigned jobs, metres: optimal, greedy.
    pub travel_m: (i64, i64),
}

impl BenchReport {
    /// Greedy cost over optimal cost.
    pub fn ratio(&self) -> f64 {
        if self.optimal_cost == 0 {
            return 1.0;
        }
        self.greedy_cost as f64 / self.optimal_cost as f64
    }
}

fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort_unstable();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn timed(mut f: impl FnMut() -> Plan) -> (Plan, f64) {
    let mut times = Vec::with_capacity(REPETITIONS);
    let mut plan = None;
    for _ in 0..REPETITIONS {
        let start = Instant::now();
        let p = f();
        times.push(start.elapsed());
        plan = Some(p);
    }
    (plan.expect("REPETITIONS is not 0"), median_ms(times))
}

/// Generates [`synthetic::city`]`(jobs, technicians, seed)`, times [`solve`] and [`greedy`]
/// with the default [`Weights`] ([`REPETITIONS`] runs each, median), checks both plans with
/// [`check`] and the optimal one's certificate with [`lower_bound`].
///
/// # Panics
///
/// If a plan fails its check or the certificate does not verify: either is a bug.
pub fn run(jobs: usize, technicians: usize, seed: u64) -> BenchReport {
    let city = synthetic::city(jobs, technicians, seed);
    let weights = Weights::default();
    let (techs, work) = (&city.technicians, &city.jobs);
    let (optimal, solve_ms) =
        timed(|| solve(techs, work, &weights).expect("synthetic batches are valid"));
    let (baseline, greedy_ms) =
        timed(|| greedy(techs, work, &weights).expect("synthetic batches are valid"));
    let optimal_cost = check(&optimal, techs, work).expect("the optimal plan checks");
    let greedy_cost = check(&baseline, techs, work).expect("the greedy plan checks");
    let bound = lower_bound(&optimal, techs, work).expect("the certificate resolves");
    if let Some(b) = bound {
        assert!(b <= greedy_cost && b <= optimal_cost, "the bound holds");
    }
    let rejected: usize = optimal.rejections.iter().map(|r| r.rejected.len()).sum();
    let breached = |plan: &Plan| {
        plan.unassigned
            .iter()
            .filter(|u| work.iter().any(|j| j.id == u.job && j.sla_minutes < 0))
            .count()
    };
    let travel = |plan: &Plan| plan.assignments.iter().map(|a| a.reasons.distance_m).sum();
    BenchReport {
        jobs,
        technicians,
        seed,
        candidate_pairs: jobs * technicians - rejected,
        slots: techs
            .iter()
            .filter(|t| t.on_shift)
            .map(|t| u64::from(t.capacity))
            .sum(),
        solve_ms,
        greedy_ms,
        optimal_cost,
        greedy_cost,
        lower_bound: bound,
        optimal_assigned: optimal.assignments.len(),
        optimal_unassigned: optimal.unassigned.len(),
        greedy_assigned: baseline.assignments.len(),
        greedy_unassigned: baseline.unassigned.len(),
        unqualified_jobs: optimal
            .unassigned
            .iter()
            .filter(|u| u.qualified == 0)
            .count(),
        breached_unassigned: (breached(&optimal), breached(&baseline)),
        travel_m: (travel(&optimal), travel(&baseline)),
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "dispatch: {} jobs, {} technicians ({} slots on shift), seed {}, {} candidate pairs",
            self.jobs, self.technicians, self.slots, self.seed, self.candidate_pairs
        )?;
        writeln!(f, "{:<22} {:>16} {:>16}", "", "optimal", "greedy")?;
        writeln!(
            f,
            "{:<22} {:>16.2} {:>16.2}",
            "median time (ms)", self.solve_ms, self.greedy_ms
        )?;
        writeln!(
            f,
            "{:<22} {:>16} {:>16}",
            "total cost", self.optimal_cost, self.greedy_cost
        )?;
        writeln!(
            f,
            "{:<22} {:>16} {:>16}",
            "assigned", self.optimal_assigned, self.greedy_assigned
        )?;
        writeln!(
            f,
            "{:<22} {:>16} {:>16}",
            "unassigned", self.optimal_unassigned, self.greedy_unassigned
        )?;
        writeln!(
            f,
            "{:<22} {:>16} {:>16}",
            "breached unassigned", self.breached_unassigned.0, self.breached_unassigned.1
        )?;
        writeln!(
            f,
            "{:<22} {:>16} {:>16}",
            "travel (km)",
            self.travel_m.0 / 1000,
            self.travel_m.1 / 1000
        )?;
        writeln!(f, "greedy / optimal cost: {:.4}", self.ratio())?;
        writeln!(f, "jobs nobody qualifies for: {}", self.unqualified_jobs)?;
        match self.lower_bound {
            Some(b) if b == self.optimal_cost => {
                writeln!(f, "lower bound: {b} (= optimal cost: proven optimal)")
            }
            Some(b) => writeln!(
                f,
                "lower bound: {b} (gap {})",
                self.optimal_cost.saturating_sub(b)
            ),
            None => writeln!(f, "lower bound: none"),
        }
    }
}
