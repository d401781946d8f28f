//! The output: who does what, why, what could not be dispatched, and why not someone else.

use std::cmp::Reverse;
use std::fmt;

use crate::instance::Instance;
use crate::model::Weights;

/// A hard constraint a technician fails for a job.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rejection {
    /// The technician is not on shift.
    OffShift,
    /// The technician has no capacity for this batch.
    AtCapacity,
    /// The technician lacks a required skill.
    MissingSkill(String),
    /// The technician lacks a required certification.
    MissingCertification(String),
    /// Neither the site nor the van has enough of a part.
    MissingParts(String),
}

impl Rejection {
    /// A stable code: `off_shift`, `at_capacity`, `missing_skill`, `missing_certification`
    /// or `missing_parts`.
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::OffShift => "off_shift",
            Rejection::AtCapacity => "at_capacity",
            Rejection::MissingSkill(_) => "missing_skill",
            Rejection::MissingCertification(_) => "missing_certification",
            Rejection::MissingParts(_) => "missing_parts",
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::OffShift => f.write_str("not on shift"),
            Rejection::AtCapacity => f.write_str("no capacity left for this batch"),
            Rejection::MissingSkill(s) => write!(f, "lacks the skill \"{s}\""),
            Rejection::MissingCertification(c) => write!(f, "lacks the certification \"{c}\""),
            Rejection::MissingParts(p) => {
                write!(f, "not enough of part \"{p}\" on site or in the van")
            }
        }
    }
}

/// A technician refused for a job, with every hard constraint it fails (in the order:
/// shift, capacity, skills, certifications, parts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedTechnician {
    /// The technician's id.
    pub technician: String,
    /// Why, never empty.
    pub reasons: Vec<Rejection>,
}

/// The technicians refused for one job, by technician id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRejections {
    /// The job's id.
    pub job: String,
    /// The refused technicians.
    pub rejected: Vec<RejectedTechnician>,
}

/// The cost of one assignment, term by term (see [`Weights`]); `total` is their sum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CostBreakdown {
    /// Travel distance × weight.
    pub travel: i64,
    /// The load term of the technician's slot.
    pub load: i64,
    /// Urgency × distance × weight.
    pub urgency: i64,
    /// First-time-fix shortfall × weight.
    pub first_time_fix: i64,
    /// The contractor surcharge.
    pub contractor: i64,
    /// The sum of the terms.
    pub total: i64,
}

/// The best alternative technician for an assigned job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerUp {
    /// The technician's id.
    pub technician: String,
    /// How much the plan's total cost would change if this job alone moved to that
    /// technician (as its next job). Never negative in an optimal plan.
    pub extra_cost: i64,
}

/// Why a job went to its technician.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reasons {
    /// Straight-line distance from the technician to the job, metres.
    pub distance_m: i64,
    /// Jobs the technician holds when it takes this one (its open load plus earlier jobs of
    /// this batch).
    pub load_before: u32,
    /// The job's SLA minutes left (negative: breached).
    pub sla_minutes: i64,
    /// The job's urgency points.
    pub urgency: i64,
    /// The technician's smoothed first-time-fix rate in the job's category, per mille.
    pub ftf_permille: u32,
    /// The assignment's cost by term.
    pub cost: CostBreakdown,
    /// The cheapest other qualified technician with capacity left, if any.
    pub runner_up: Option<RunnerUp>,
}

/// One job given to one technician.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    /// The job's id.
    pub job: String,
    /// The technician's id.
    pub technician: String,
    /// The job's place among the technician's jobs of this batch, 0-based (pinned jobs
    /// first, then by urgency).
    pub slot: u32,
    /// Whether a dispatcher pinned it.
    pub pinned: bool,
    /// Why.
    pub reasons: Reasons,
}

/// Why a job has no technician.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnassignedReason {
    /// No technician passes the hard constraints (see [`Plan::rejections`]).
    NoQualifiedTechnician,
    /// Qualified technicians exist, but their capacity went to jobs that cost more to leave,
    /// or reaching this one would cost more than leaving it.
    Outweighed,
}

/// A job left without a technician.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnassignedJob {
    /// The job's id.
    pub job: String,
    /// The cost of leaving it (see [`Weights`]).
    pub cost: i64,
    /// How many technicians pass its hard constraints.
    pub qualified: usize,
    /// Why.
    pub reason: UnassignedReason,
}

/// How a plan was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// [`crate::solve`]: the minimum total cost.
    Optimal,
    /// [`crate::greedy`]: most urgent job first, to the nearest technician with capacity.
    Greedy,
}

/// Proof that an optimal plan's cost cannot be beaten: a price per technician slot from which
/// [`crate::lower_bound`] recomputes a bound on every plan's cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// Price of one slot of each technician, by technician id.
    pub technician_prices: Vec<(String, i64)>,
    /// The lower bound these prices give; equal to the plan's cost when it is optimal.
    pub lower_bound: i64,
}

/// A dispatch plan for one batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// How it was made.
    pub method: Method,
    /// The weights its costs use.
    pub weights: Weights,
    /// The assignments, by job id.
    pub assignments: Vec<Assignment>,
    /// The jobs left unassigned, by job id.
    pub unassigned: Vec<UnassignedJob>,
    /// For every job (by job id), the technicians refused by a hard constraint.
    pub rejections: Vec<JobRejections>,
    /// The total cost: assignments plus unassigned jobs.
    pub total_cost: i64,
    /// The optimality certificate of an optimal plan.
    pub certificate: Option<Certificate>,
}

impl Plan {
    /// The assignment of a job, if it has one.
    pub fn assignment(&self, job: &str) -> Option<&Assignment> {
        self.assignments
            .binary_search_by(|a| a.job.as_str().cmp(job))
            .ok()
            .map(|i| &self.assignments[i])
    }

    /// The technicians refused for a job.
    pub fn rejections_of(&self, job: &str) -> &[RejectedTechnician] {
        self.rejections
            .binary_search_by(|r| r.job.as_str().cmp(job))
            .map_or(&[], |i| &self.rejections[i].rejected)
    }
}

/// Turns a choice of technician per job into a plan with its reasons and costs.
pub(crate) fn build(
    inst: &Instance<'_>,
    method: Method,
    tech_of: &[Option<usize>],
    pinned: &[bool],
    rejections: Vec<JobRejections>,
) -> Plan {
    let m = inst.techs.len();
    let mut per_tech: Vec<Vec<usize>> = vec![Vec::new(); m];
    for (j, t) in tech_of.iter().enumerate() {
        if let Some(t) = *t {
            per_tech[t].push(j);
        }
    }
    let mut slot_of = vec![0u32; inst.jobs.len()];
    for list in &mut per_tech {
        list.sort_by_key(|&j| {
            (
                !pinned[j],
                Reverse(inst.weights.urgency(inst.jobs[j].sla_minutes)),
                j,
            )
        });
        for (k, &j) in list.iter().enumerate() {
            slot_of[j] = u32::try_from(k).unwrap_or(u32::MAX);
        }
    }
    let used: Vec<u32> = per_tech
        .iter()
        .map(|l| u32::try_from(l.len()).unwrap_or(u32::MAX))
        .collect();

    let mut assignments = Vec::new();
    let mut unassigned = Vec::new();
    let mut total: i64 = 0;
    for (j, t) in tech_of.iter().enumerate() {
        let job = inst.jobs[j];
        let Some(t) = *t else {
            let qualified = inst.job_edges(j).len();
            let cost = inst.unassigned_cost[j];
            total = total.saturating_add(cost);
            unassigned.push(UnassignedJob {
                job: job.id.clone(),
                cost,
                qualified,
                reason: if qualified == 0 {
                    UnassignedReason::NoQualifiedTechnician
                } else {
                    UnassignedReason::Outweighed
                },
            });
            continue;
        };
        let k = slot_of[j];
        let terms = inst.terms(t, j);
        let load = inst.slot_cost(t, k);
        let cost = CostBreakdown {
            travel: terms.travel,
            load,
            urgency: terms.urgency_cost,
            first_time_fix: terms.ftf_cost,
            contractor: terms.contractor,
            total: terms.cost() + load,
        };
        total = total.saturating_add(cost.total);
        // Removing the job frees its technician's last slot; adding it elsewhere takes that
        // technician's next slot.
        let saving = terms.cost() + inst.slot_cost(t, used[t] - 1);
        let runner_up = inst
            .job_edges(j)
            .iter()
            .filter(|e| {
                e.tech as usize != t && used[e.tech as usize] < inst.capacity(e.tech as usize)
            })
            .map(|e| {
                let o = e.tech as usize;
                (e.cost + inst.slot_cost(o, used[o]) - saving, o)
            })
            .min()
            .map(|(extra_cost, o)| RunnerUp {
                technician: inst.techs[o].id.clone(),
                extra_cost,
            });
        assignments.push(Assignment {
            job: job.id.clone(),
            technician: inst.techs[t].id.clone(),
            slot: k,
            pinned: pinned[j],
            reasons: Reasons {
                distance_m: terms.distance_m,
                load_before: inst.techs[t].load.saturating_add(k),
                sla_minutes: job.sla_minutes,
                urgency: terms.urgency,
                ftf_permille: terms.ftf_permille,
                cost,
                runner_up,
            },
        });
    }
    Plan {
        method,
        weights: inst.weights,
        assignments,
        unassigned,
        rejections,
        total_cost: total,
        certificate: None,
    }
}
