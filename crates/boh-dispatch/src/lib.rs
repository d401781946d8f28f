//! Dispatch of open maintenance work orders to field technicians, at the minimum total cost.
//!
//! Pure computation: no database, no async, no I/O. The maintenance module loads a batch of
//! open [`Job`]s and the [`Technician`]s available, calls [`solve`] (or [`solve_pinned`] when
//! a dispatcher has fixed some pairs) and shows the [`Plan`]: every assignment carries its
//! [`Reasons`] (distance, load, urgency, first-time-fix rate, the cost term by term, and the
//! runner-up technician with what choosing it would have cost), every job lists the
//! technicians refused by a hard constraint with the [`Rejection`]s, and every unassigned job
//! says why.
//!
//! # Model
//!
//! Inputs are exact integers: positions are whole metres on a local plane, quantities and
//! histories are counts, weights are integers. A technician may take a job only if it is on
//! shift, has capacity for the batch, has every required skill and certification, and, for
//! each part the job needs beyond what is on site, carries enough of it in the van. Among the
//! feasible pairs the cost of technician `t` taking job `j` as its `k`-th job of the batch is
//! the sum of a travel term, a load term growing with `t.load + k`, an urgency term (urgent
//! or breached jobs cost more the farther the technician), a first-time-fix term and a
//! contractor surcharge; leaving a job unassigned costs a large amount that grows with its
//! priority and urgency, so scarce capacity goes to urgent, important work first.
//! [`Weights`] documents each term. [`greedy`] is the baseline a dispatcher would do by hand
//! (most urgent first, to the nearest free qualified technician); [`check`] verifies any plan
//! against the hard constraints and recomputes its cost.
//!
//! # Algorithm and why it is exact
//!
//! The load term depends only on how many jobs a technician gets, and it does not decrease
//! with that number. So a technician with capacity `c` is `c` slots whose costs are
//! `load_cost(load)`, `load_cost(load + 1)`, ...; any plan fills a technician's cheapest
//! slots, and the plan's cost is the sum of the pair costs, the slot costs and the
//! unassigned costs. Minimising it is exactly a minimum-cost flow: each job sends one unit to
//! a sink, either through a feasible technician (pair cost) and its next slot (slot cost), or
//! straight through its "unassigned" arc. There are no other constraints, so the flow's
//! optimum is the plan's optimum, and it is integral.
//!
//! The solver adds the jobs one by one, each along a shortest path of the residual graph
//! (successive shortest paths, the Jonker–Volgenant idea generalised to slots), found by
//! Dijkstra on reduced costs kept non-negative by node potentials, and stopped as soon as
//! the sink is reached. Only feasible pairs are arcs, so a step costs `O(E log V)` at worst
//! for `E` feasible pairs and usually far less; nothing is dense and nothing is pruned, so the
//! result is the optimum over all feasible pairs. The potentials at the end are dual prices
//! of the technicians' slots: [`lower_bound`] turns them into a bound every plan's cost is
//! at least, computed without the solver, and for the solver's plan it equals the plan's cost
//! — an optimality certificate ([`Certificate`]).
//!
//! [`bench::run`] times the solver against the greedy baseline on a [`synthetic::city`] and
//! verifies both plans and the certificate: `cargo run --release -p boh-dispatch --example
//! dispatch_bench` runs it for 1,000 jobs and 300 technicians.
//!
//! Ties between equally cheap plans are broken deterministically: technicians and jobs are
//! handled in id order whatever the input order, and Dijkstra breaks equal distances by that
//! order, so the same batch always gives the same plan.
//!
//! Limits of the model: distance is straight-line (the caller may scale positions to
//! approximate road distance); a van's stock is checked per job, not depleted across the
//! jobs of the batch; the order of a technician's jobs (most urgent first) does not enter
//! the cost, which is a travel from the technician's position to each job.
//!
//! # Example
//!
//! ```
//! use boh_dispatch::{Job, Position, Technician, Weights, solve, check};
//!
//! let tech = |id: &str, x| Technician {
//!     id: id.into(),
//!     skills: ["hvac".to_string()].into(),
//!     position: Position::new(x, 0),
//!     on_shift: true,
//!     capacity: 2,
//!     ..Technician::default()
//! };
//! let techs = [tech("ana", 0), tech("bo", 10_000)];
//! let jobs = [Job {
//!     id: "WO-1".into(),
//!     position: Position::new(9_000, 0),
//!     required_skills: ["hvac".to_string()].into(),
//!     sla_minutes: 600,
//!     ..Job::default()
//! }];
//! let plan = solve(&techs, &jobs, &Weights::default())?;
//! let a = plan.assignment("WO-1").unwrap();
//! assert_eq!(a.technician, "bo");
//! assert_eq!(a.reasons.distance_m, 1_000);
//! assert_eq!(a.reasons.runner_up.as_ref().unwrap().technician, "ana");
//! assert_eq!(check(&plan, &techs, &jobs)?, plan.total_cost);
//! # Ok::<(), boh_dispatch::DispatchError>(())
//! ```

mod error;
mod instance;
mod model;
mod plan;
mod solver;

pub mod bench;
pub mod synthetic;

#[cfg(test)]
mod tests;

use std::cmp::Reverse;

pub use error::DispatchError;
pub use model::{
    FtfRecord, Job, MAX_TERM, MAX_URGENCY, MAX_WEIGHT, Pin, Position, Technician, Weights,
};
pub use plan::{
    Assignment, Certificate, CostBreakdown, JobRejections, Method, Plan, Reasons,
    RejectedTechnician, Rejection, RunnerUp, UnassignedJob, UnassignedReason,
};

use instance::Instance;

/// The plan of minimum total cost for the batch.
///
/// Fails on duplicate technician or job ids, out-of-range weights, or a first-time-fix
/// record with more fixes than jobs.
pub fn solve(
    technicians: &[Technician],
    jobs: &[Job],
    weights: &Weights,
) -> Result<Plan, DispatchError> {
    solve_pinned(technicians, jobs, weights, &[])
}

/// The plan of minimum total cost among those that give each pinned job to its pinned
/// technician.
///
/// Each pin must name a job and a technician of the batch ([`DispatchError::UnknownJob`],
/// [`DispatchError::UnknownTechnician`]), a job at most once
/// ([`DispatchError::DuplicatePin`]), and a pair that passes the hard constraints, within the
/// technician's capacity ([`DispatchError::PinInfeasible`] names the job and the reason).
pub fn solve_pinned(
    technicians: &[Technician],
    jobs: &[Job],
    weights: &Weights,
    pins: &[Pin],
) -> Result<Plan, DispatchError> {
    let (inst, rejections) = Instance::new(technicians, jobs, weights, true)?;
    let (pre_used, pinned_to) = apply_pins(&inst, pins)?;
    let free: Vec<bool> = pinned_to.iter().map(Option::is_none).collect();
    let flow = solver::min_cost(&inst, &pre_used, &free);
    let tech_of: Vec<Option<usize>> = pinned_to
        .iter()
        .zip(&flow.tech_of)
        .map(|(&pin, &chosen)| pin.or(chosen))
        .collect();
    let pinned: Vec<bool> = pinned_to.iter().map(Option::is_some).collect();
    let mut plan = plan::build(&inst, Method::Optimal, &tech_of, &pinned, rejections);
    let bound = pinned_cost(&inst, &pre_used, &pinned_to)
        + solver::dual_bound(&inst, &pre_used, &free, &flow.prices);
    plan.certificate = Some(Certificate {
        technician_prices: inst
            .techs
            .iter()
            .zip(&flow.prices)
            .map(|(t, &p)| (t.id.clone(), p))
            .collect(),
        lower_bound: i64::try_from(bound).unwrap_or(i64::MIN),
    });
    Ok(plan)
}

/// The baseline: jobs from the most urgent (then highest priority, then id), each to the
/// nearest qualified technician with capacity left (ties by id), or unassigned.
pub fn greedy(
    technicians: &[Technician],
    jobs: &[Job],
    weights: &Weights,
) -> Result<Plan, DispatchError> {
    let (inst, rejections) = Instance::new(technicians, jobs, weights, true)?;
    let mut order: Vec<usize> = (0..inst.jobs.len()).collect();
    order.sort_by_key(|&j| {
        let job = inst.jobs[j];
        (
            Reverse(weights.urgency(job.sla_minutes)),
            Reverse(job.priority),
            j,
        )
    });
    let mut used = vec![0u32; inst.techs.len()];
    let mut tech_of = vec![None; inst.jobs.len()];
    for j in order {
        let at = inst.jobs[j].position;
        let nearest = inst
            .job_edges(j)
            .iter()
            .map(|e| e.tech as usize)
            .filter(|&t| used[t] < inst.capacity(t))
            .min_by_key(|&t| (inst.techs[t].position.distance_m(at), t));
        if let Some(t) = nearest {
            used[t] += 1;
            tech_of[j] = Some(t);
        }
    }
    let pinned = vec![false; inst.jobs.len()];
    Ok(plan::build(
        &inst,
        Method::Greedy,
        &tech_of,
        &pinned,
        rejections,
    ))
}

/// Verifies that `plan` mentions every job of the batch exactly once, gives jobs only to
/// technicians of the batch that pass every hard constraint and within their capacity, and
/// states its cost correctly; returns the cost recomputed from scratch with the plan's
/// weights.
pub fn check(plan: &Plan, technicians: &[Technician], jobs: &[Job]) -> Result<i64, DispatchError> {
    let (inst, _) = Instance::new(technicians, jobs, &plan.weights, false)?;
    let tech_of = plan_choices(&inst, plan)?;
    let mut count = vec![0u32; inst.techs.len()];
    let mut total: i128 = 0;
    for (j, t) in tech_of.iter().enumerate() {
        match *t {
            Some(t) => {
                if let Some(reason) = inst.first_reason(t, j) {
                    return Err(DispatchError::PlanInfeasible {
                        job: inst.jobs[j].id.clone(),
                        technician: inst.techs[t].id.clone(),
                        reason,
                    });
                }
                total +=
                    i128::from(inst.terms(t, j).cost()) + i128::from(inst.slot_cost(t, count[t]));
                count[t] += 1;
            }
            None => total += i128::from(inst.unassigned_cost[j]),
        }
    }
    for (t, &c) in count.iter().enumerate() {
        if c > inst.capacity(t) {
            return Err(DispatchError::PlanOverCapacity {
                technician: inst.techs[t].id.clone(),
                jobs: c as usize,
                capacity: inst.capacity(t),
            });
        }
    }
    let actual = i64::try_from(total).unwrap_or(i64::MAX);
    if actual != plan.total_cost {
        return Err(DispatchError::PlanCostMismatch {
            stated: plan.total_cost,
            actual,
        });
    }
    Ok(actual)
}

/// Recomputes, from the batch alone, the lower bound given by the slot prices of the plan's
/// [`Certificate`]: no plan that keeps the plan's pinned assignments costs less. `None` for a
/// plan without a certificate (a greedy plan). When the bound equals
/// [`Plan::total_cost`], the plan is proven optimal.
pub fn lower_bound(
    plan: &Plan,
    technicians: &[Technician],
    jobs: &[Job],
) -> Result<Option<i64>, DispatchError> {
    let Some(cert) = &plan.certificate else {
        return Ok(None);
    };
    let (inst, _) = Instance::new(technicians, jobs, &plan.weights, false)?;
    let mut prices = vec![0i64; inst.techs.len()];
    for (id, price) in &cert.technician_prices {
        prices[inst.tech_index(id)?] = *price;
    }
    let pins: Vec<Pin> = plan
        .assignments
        .iter()
        .filter(|a| a.pinned)
        .map(|a| Pin::new(a.job.clone(), a.technician.clone()))
        .collect();
    let (pre_used, pinned_to) = apply_pins(&inst, &pins)?;
    let free: Vec<bool> = pinned_to.iter().map(Option::is_none).collect();
    let bound = pinned_cost(&inst, &pre_used, &pinned_to)
        + solver::dual_bound(&inst, &pre_used, &free, &prices);
    Ok(Some(i64::try_from(bound).unwrap_or(i64::MIN)))
}

/// Resolves and checks the pins: slots taken per technician, pinned technician per job.
fn apply_pins(
    inst: &Instance<'_>,
    pins: &[Pin],
) -> Result<(Vec<u32>, Vec<Option<usize>>), DispatchError> {
    let mut pre_used = vec![0u32; inst.techs.len()];
    let mut pinned_to = vec![None; inst.jobs.len()];
    for pin in pins {
        let j = inst.job_index(&pin.job)?;
        let t = inst.tech_index(&pin.technician)?;
        if pinned_to[j].is_some() {
            return Err(DispatchError::DuplicatePin(pin.job.clone()));
        }
        let infeasible = |reason| DispatchError::PinInfeasible {
            job: pin.job.clone(),
            technician: pin.technician.clone(),
            reason,
        };
        if let Some(reason) = inst.first_reason(t, j) {
            return Err(infeasible(reason));
        }
        if pre_used[t] >= inst.capacity(t) {
            return Err(infeasible(Rejection::AtCapacity));
        }
        pre_used[t] += 1;
        pinned_to[j] = Some(t);
    }
    Ok((pre_used, pinned_to))
}

/// The cost of the pinned assignments, pins taking each technician's first slots.
fn pinned_cost(inst: &Instance<'_>, pre_used: &[u32], pinned_to: &[Option<usize>]) -> i128 {
    let pairs: i128 = pinned_to
        .iter()
        .enumerate()
        .filter_map(|(j, t)| t.map(|t| i128::from(inst.terms(t, j).cost())))
        .sum();
    let slots: i128 = pre_used
        .iter()
        .enumerate()
        .map(|(t, &n)| {
            (0..n)
                .map(|k| i128::from(inst.slot_cost(t, k)))
                .sum::<i128>()
        })
        .sum();
    pairs + slots
}

/// The technician of each job according to a plan, validating ids and repetitions.
fn plan_choices(inst: &Instance<'_>, plan: &Plan) -> Result<Vec<Option<usize>>, DispatchError> {
    let mut seen = vec![false; inst.jobs.len()];
    let mut tech_of = vec![None; inst.jobs.len()];
    let mut mark = |id: &str| -> Result<usize, DispatchError> {
        let j = inst.job_index(id)?;
        if std::mem::replace(&mut seen[j], true) {
            return Err(DispatchError::PlanRepeatedJob(id.to_string()));
        }
        Ok(j)
    };
    for a in &plan.assignments {
        let j = mark(&a.job)?;
        tech_of[j] = Some(inst.tech_index(&a.technician)?);
    }
    for u in &plan.unassigned {
        mark(&u.job)?;
    }
    if let Some(j) = seen.iter().position(|&s| !s) {
        return Err(DispatchError::PlanMissingJob(inst.jobs[j].id.clone()));
    }
    Ok(tech_of)
}
