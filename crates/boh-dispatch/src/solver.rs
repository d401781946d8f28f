//! The exact solver: successive shortest augmenting paths with Dijkstra and node potentials
//! on the sparse residual graph of the job → technician → sink network.
//!
//! Nodes are the jobs (`0..n`), the technicians (`n..n + m`) and one sink (`n + m`). Arcs:
//!
//! - job `j` → technician `t` for each feasible pair, cost `c(t, j)` (the slot-independent
//!   terms), capacity 1;
//! - technician `t` → sink, one arc per free slot `k`, cost `load_cost(load_t + k)`. The costs
//!   do not decrease with `k`, so only the first free slot is ever the cheapest and the graph
//!   keeps a single "next slot" arc per technician;
//! - job `j` → sink, the "unassigned" arc, cost `U(j)`.
//!
//! Each job supplies one unit. Jobs are added one at a time; each addition sends its unit
//! along a shortest path of the residual graph (which may move earlier jobs to other
//! technicians or to "unassigned"). Reduced costs `c(u, v) + h(u) − h(v)` stay non-negative
//! thanks to the potentials `h`, so Dijkstra applies, and a flow built by shortest paths
//! with non-negative reduced costs everywhere is a minimum-cost flow. All arithmetic is on
//! `i64`; no floating point.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::instance::Instance;

const NONE: u32 = u32::MAX;
const INF: i64 = i64::MAX / 4;

/// The optimum for the free jobs, given slots already taken by pins.
pub(crate) struct FlowSolution {
    /// Per job, the technician index it goes to (`None`: unassigned, or not a free job).
    pub tech_of: Vec<Option<usize>>,
    /// Per technician, the dual price of a slot: `h(sink) − h(t)`.
    pub prices: Vec<i64>,
}

fn idx(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(NONE)
}

/// Minimum-cost assignment of the jobs with `free[j]`, technicians having `pre_used[t]`
/// slots already taken.
pub(crate) fn min_cost(inst: &Instance<'_>, pre_used: &[u32], free: &[bool]) -> FlowSolution {
    let n = inst.jobs.len();
    let m = inst.techs.len();
    let sink = n + m;
    let nodes = n + m + 1;

    let cap: Vec<u32> = (0..m).map(|t| inst.capacity(t)).collect();
    let mut used = pre_used.to_vec();
    let mut tech_of = vec![NONE; n];
    let mut job_cost = vec![0i64; n];
    let mut tech_jobs: Vec<Vec<u32>> = vec![Vec::new(); m];

    let mut h = vec![0i64; nodes];
    let mut dist = vec![INF; nodes];
    let mut done = vec![false; nodes];
    let mut pred = vec![NONE; nodes];
    let mut pred_cost = vec![0i64; nodes];
    let mut heap: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::new();

    for source in (0..n).filter(|&j| free[j]) {
        dist.fill(INF);
        done.fill(false);
        heap.clear();
        dist[source] = 0;
        heap.push(Reverse((0, idx(source))));

        while let Some(Reverse((d, u))) = heap.pop() {
            let u = u as usize;
            if done[u] || d > dist[u] {
                continue;
            }
            if u == sink {
                break;
            }
            done[u] = true;
            let hu = h[u];
            let mut relax = |v: usize, nd: i64, from: usize, cost: i64| {
                debug_assert!(nd >= d, "negative reduced cost");
                if nd < dist[v] {
                    dist[v] = nd;
                    pred[v] = idx(from);
                    pred_cost[v] = cost;
                    heap.push(Reverse((nd, idx(v))));
                }
            };
            if u < n {
                // A job: the source, or one reached through its technician's reverse arc.
                let current = tech_of[u];
                for e in inst.job_edges(u) {
                    if e.tech == current {
                        continue;
                    }
                    let t = n + e.tech as usize;
                    relax(t, d + e.cost + hu - h[t], u, e.cost);
                }
                relax(
                    sink,
                    d + inst.unassigned_cost[u] + hu - h[sink],
                    u,
                    inst.unassigned_cost[u],
                );
            } else {
                let t = u - n;
                for &jj in &tech_jobs[t] {
                    let jj = jj as usize;
                    if !done[jj] {
                        relax(jj, d - job_cost[jj] + hu - h[jj], u, -job_cost[jj]);
                    }
                }
                if used[t] < cap[t] {
                    let slot = inst.slot_cost(t, used[t]);
                    relax(sink, d + slot + hu - h[sink], u, slot);
                }
            }
        }

        let reach = dist[sink];
        debug_assert!(reach < INF, "the unassigned arc always reaches the sink");
        for (hv, &dv) in h.iter_mut().zip(&dist) {
            *hv += dv.min(reach);
        }

        // Apply the path, walking back from the sink.
        let mut x = sink;
        while x != source {
            let p = pred[x] as usize;
            if x == sink {
                if p < n {
                    tech_of[p] = NONE;
                } else {
                    used[p - n] += 1;
                }
            } else if x < n {
                // Reverse arc technician p → job x: x leaves p (its new place is set already).
                let list = &mut tech_jobs[p - n];
                if let Some(pos) = list.iter().position(|&jj| jj as usize == x) {
                    list.swap_remove(pos);
                }
            } else {
                tech_of[p] = idx(x - n);
                job_cost[p] = pred_cost[x];
                tech_jobs[x - n].push(idx(p));
            }
            x = p;
        }
    }

    FlowSolution {
        tech_of: tech_of
            .iter()
            .map(|&t| (t != NONE).then_some(t as usize))
            .collect(),
        prices: (0..m).map(|t| h[sink] - h[n + t]).collect(),
    }
}

/// The Lagrangian lower bound of the free jobs' cost for technician slot prices `prices`:
///
/// `Σ_j min(U(j), min_t c(t, j) + λ_t) + Σ_t Σ_k min(0, slot(t, k) − λ_t)`, `k` over the
/// technician's slots not taken by pins.
///
/// For any plan, rewriting its cost as `Σ_j (c(t_j, j) + λ_{t_j}) + Σ_t Σ_{k < n_t}
/// (slot(t, k) − λ_t)` shows it is at least this bound, whatever the prices; with the
/// solver's final prices the bound equals the optimum (LP duality, the constraint matrix is
/// totally unimodular), which certifies optimality independently of the solver.
pub(crate) fn dual_bound(
    inst: &Instance<'_>,
    pre_used: &[u32],
    free: &[bool],
    prices: &[i64],
) -> i128 {
    let free_jobs = free.iter().filter(|&&f| f).count();
    let mut bound: i128 = 0;
    for j in (0..inst.jobs.len()).filter(|&j| free[j]) {
        let best = inst
            .job_edges(j)
            .iter()
            .map(|e| i128::from(e.cost) + i128::from(prices[e.tech as usize]))
            .fold(i128::from(inst.unassigned_cost[j]), i128::min);
        bound += best;
    }
    for (t, &price) in prices.iter().enumerate() {
        // A technician takes at most every free job, so later slots cannot matter.
        let last = inst
            .capacity(t)
            .min(pre_used[t].saturating_add(u32::try_from(free_jobs).unwrap_or(u32::MAX)));
        for k in pre_used[t]..last {
            let gap = i128::from(inst.slot_cost(t, k)) - i128::from(price);
            if gap >= 0 {
                // Slot costs do not decrease: no later slot is below the price either.
                break;
            }
            bound += gap;
        }
    }
    bound
}
