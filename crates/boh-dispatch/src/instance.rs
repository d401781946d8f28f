//! A validated batch: technicians and jobs sorted by id, hard constraints evaluated once, and
//! the sparse list of feasible (job, technician) pairs with their costs.

use std::collections::BTreeMap;

use crate::error::DispatchError;
use crate::model::{Job, MAX_WEIGHT, Technician, Weights, term};
use crate::plan::{JobRejections, RejectedTechnician, Rejection};

/// A feasible pair seen from the job: the technician's index and the pair's cost without the
/// load term (which depends on the slot).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Edge {
    pub tech: u32,
    pub cost: i64,
}

/// The cost terms of one (technician, job) pair that do not depend on the slot.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PairTerms {
    pub distance_m: i64,
    pub urgency: i64,
    pub ftf_permille: u32,
    pub travel: i64,
    pub urgency_cost: i64,
    pub ftf_cost: i64,
    pub contractor: i64,
}

impl PairTerms {
    pub fn cost(&self) -> i64 {
        self.travel + self.urgency_cost + self.ftf_cost + self.contractor
    }
}

/// A part the van must hold: the shortfall after what is on site.
struct PartNeed {
    part: u32,
    qty: u32,
}

pub(crate) struct Instance<'a> {
    pub techs: Vec<&'a Technician>,
    pub jobs: Vec<&'a Job>,
    pub weights: Weights,
    tech_by_id: BTreeMap<&'a str, usize>,
    job_by_id: BTreeMap<&'a str, usize>,
    /// Words per technician in `tech_masks`.
    words: usize,
    /// Per technician, a bitset of the skills and certifications jobs ask for.
    tech_masks: Vec<u64>,
    /// Per technician, (part, quantity) in the van for parts some job needs, sorted by part.
    tech_parts: Vec<Vec<(u32, u32)>>,
    /// Per job, the bit of each required skill, in `required_skills` order.
    job_skills: Vec<Vec<u32>>,
    /// Per job, the bit of each required certification, in `required_certifications` order.
    job_certs: Vec<Vec<u32>>,
    /// Per job, the parts the van must supply, in `parts_needed` order.
    job_parts: Vec<Vec<PartNeed>>,
    /// Feasible pairs by job: `edges[edge_start[j]..edge_start[j + 1]]`, by technician index.
    pub edge_start: Vec<usize>,
    pub edges: Vec<Edge>,
    /// Cost of leaving each job unassigned.
    pub unassigned_cost: Vec<i64>,
}

impl<'a> Instance<'a> {
    /// Validates the batch and evaluates every pair's hard constraints. With
    /// `with_rejections`, also returns, per job, the technicians refused and why.
    pub fn new(
        techs: &'a [Technician],
        jobs: &'a [Job],
        weights: &Weights,
        with_rejections: bool,
    ) -> Result<(Self, Vec<JobRejections>), DispatchError> {
        for (name, value) in weights.named() {
            if !(0..=MAX_WEIGHT).contains(&value) {
                return Err(DispatchError::WeightOutOfRange { name, value });
            }
        }
        let mut techs: Vec<&Technician> = techs.iter().collect();
        techs.sort_by(|a, b| a.id.cmp(&b.id));
        let mut tech_by_id = BTreeMap::new();
        for (i, t) in techs.iter().enumerate() {
            if tech_by_id.insert(t.id.as_str(), i).is_some() {
                return Err(DispatchError::DuplicateTechnician(t.id.clone()));
            }
            if let Some((category, _)) = t.first_time_fix.iter().find(|(_, r)| r.fixed > r.total) {
                return Err(DispatchError::InvalidHistory {
                    technician: t.id.clone(),
                    category: category.clone(),
                });
            }
        }
        let mut jobs: Vec<&Job> = jobs.iter().collect();
        jobs.sort_by(|a, b| a.id.cmp(&b.id));
        let mut job_by_id = BTreeMap::new();
        for (i, j) in jobs.iter().enumerate() {
            if job_by_id.insert(j.id.as_str(), i).is_some() {
                return Err(DispatchError::DuplicateJob(j.id.clone()));
            }
        }

        // Intern the codes jobs ask for; a technician's other codes cannot matter.
        let mut bits: BTreeMap<(bool, &str), u32> = BTreeMap::new();
        let mut parts: BTreeMap<&str, u32> = BTreeMap::new();
        let mut job_skills = Vec::with_capacity(jobs.len());
        let mut job_certs = Vec::with_capacity(jobs.len());
        let mut job_parts = Vec::with_capacity(jobs.len());
        for j in &jobs {
            let mut intern = |cert: bool, code: &'a str| {
                let next = u32::try_from(bits.len()).unwrap_or(u32::MAX);
                *bits.entry((cert, code)).or_insert(next)
            };
            job_skills.push(
                j.required_skills
                    .iter()
                    .map(|s| intern(false, s.as_str()))
                    .collect::<Vec<_>>(),
            );
            job_certs.push(
                j.required_certifications
                    .iter()
                    .map(|s| intern(true, s.as_str()))
                    .collect::<Vec<_>>(),
            );
            let mut needs = Vec::new();
            for (code, &qty) in &j.parts_needed {
                let on_site = j.parts_on_site.get(code).copied().unwrap_or(0);
                if qty > on_site {
                    let next = u32::try_from(parts.len()).unwrap_or(u32::MAX);
                    let part = *parts.entry(code.as_str()).or_insert(next);
                    needs.push(PartNeed {
                        part,
                        qty: qty - on_site,
                    });
                }
            }
            job_parts.push(needs);
        }
        let words = bits.len().div_ceil(64).max(1);
        let mut tech_masks = vec![0u64; techs.len() * words];
        let mut tech_parts = Vec::with_capacity(techs.len());
        for (i, t) in techs.iter().enumerate() {
            let mask = &mut tech_masks[i * words..(i + 1) * words];
            let held = t
                .skills
                .iter()
                .map(|s| (false, s))
                .chain(t.certifications.iter().map(|c| (true, c)));
            for (cert, code) in held {
                if let Some(&bit) = bits.get(&(cert, code.as_str())) {
                    mask[bit as usize / 64] |= 1 << (bit % 64);
                }
            }
            let mut van: Vec<(u32, u32)> = t
                .van_parts
                .iter()
                .filter_map(|(code, &qty)| parts.get(code.as_str()).map(|&p| (p, qty)))
                .collect();
            van.sort_unstable();
            tech_parts.push(van);
        }

        let unassigned_cost = jobs
            .iter()
            .map(|j| {
                term(i128::from(weights.unassigned))
                    + term(i128::from(weights.unassigned_per_priority) * i128::from(j.priority))
                    + term(
                        i128::from(weights.unassigned_per_urgency)
                            * i128::from(weights.urgency(j.sla_minutes)),
                    )
            })
            .collect();

        let mut inst = Instance {
            techs,
            jobs,
            weights: *weights,
            tech_by_id,
            job_by_id,
            words,
            tech_masks,
            tech_parts,
            job_skills,
            job_certs,
            job_parts,
            edge_start: Vec::new(),
            edges: Vec::new(),
            unassigned_cost,
        };

        let mut edge_start = Vec::with_capacity(inst.jobs.len() + 1);
        let mut edges = Vec::new();
        let mut rejections = Vec::new();
        let mut reasons = Vec::new();
        edge_start.push(0);
        for ji in 0..inst.jobs.len() {
            let mut rejected = Vec::new();
            for ti in 0..inst.techs.len() {
                if inst.feasible(ti, ji) {
                    edges.push(Edge {
                        tech: u32::try_from(ti).unwrap_or(u32::MAX),
                        cost: inst.terms(ti, ji).cost(),
                    });
                } else if with_rejections {
                    reasons.clear();
                    inst.reasons(ti, ji, &mut reasons, false);
                    rejected.push(RejectedTechnician {
                        technician: inst.techs[ti].id.clone(),
                        reasons: std::mem::take(&mut reasons),
                    });
                }
            }
            edge_start.push(edges.len());
            if with_rejections {
                rejections.push(JobRejections {
                    job: inst.jobs[ji].id.clone(),
                    rejected,
                });
            }
        }
        inst.edge_start = edge_start;
        inst.edges = edges;
        Ok((inst, rejections))
    }

    pub fn tech_index(&self, id: &str) -> Result<usize, DispatchError> {
        self.tech_by_id
            .get(id)
            .copied()
            .ok_or_else(|| DispatchError::UnknownTechnician(id.to_string()))
    }

    pub fn job_index(&self, id: &str) -> Result<usize, DispatchError> {
        self.job_by_id
            .get(id)
            .copied()
            .ok_or_else(|| DispatchError::UnknownJob(id.to_string()))
    }

    /// The feasible pairs of job `ji`.
    pub fn job_edges(&self, ji: usize) -> &[Edge] {
        &self.edges[self.edge_start[ji]..self.edge_start[ji + 1]]
    }

    /// The technician's capacity for this batch (0 when off shift).
    pub fn capacity(&self, ti: usize) -> u32 {
        let t = self.techs[ti];
        if t.on_shift { t.capacity } else { 0 }
    }

    /// The load cost of technician `ti`'s `k`-th job of the batch (0-based).
    pub fn slot_cost(&self, ti: usize, k: u32) -> i64 {
        self.weights
            .load_cost(self.techs[ti].load.saturating_add(k))
    }

    fn has_bit(&self, ti: usize, bit: u32) -> bool {
        self.tech_masks[ti * self.words + bit as usize / 64] & (1 << (bit % 64)) != 0
    }

    fn van_holds(&self, ti: usize, need: &PartNeed) -> bool {
        let van = &self.tech_parts[ti];
        van.binary_search_by_key(&need.part, |&(p, _)| p)
            .is_ok_and(|i| van[i].1 >= need.qty)
    }

    /// Whether technician `ti` passes every hard constraint for job `ji`.
    pub fn feasible(&self, ti: usize, ji: usize) -> bool {
        let t = self.techs[ti];
        t.on_shift
            && t.capacity > 0
            && self.job_skills[ji].iter().all(|&b| self.has_bit(ti, b))
            && self.job_certs[ji].iter().all(|&b| self.has_bit(ti, b))
            && self.job_parts[ji].iter().all(|n| self.van_holds(ti, n))
    }

    /// Appends why technician `ti` may not take job `ji` (nothing if it may). With
    /// `first_only`, stops at the first reason.
    pub fn reasons(&self, ti: usize, ji: usize, out: &mut Vec<Rejection>, first_only: bool) {
        let t = self.techs[ti];
        let j = self.jobs[ji];
        let done = |out: &Vec<Rejection>| first_only && !out.is_empty();
        if !t.on_shift {
            out.push(Rejection::OffShift);
        }
        if done(out) {
            return;
        }
        if t.capacity == 0 {
            out.push(Rejection::AtCapacity);
        }
        for (code, &bit) in j.required_skills.iter().zip(&self.job_skills[ji]) {
            if done(out) {
                return;
            }
            if !self.has_bit(ti, bit) {
                out.push(Rejection::MissingSkill(code.clone()));
            }
        }
        for (code, &bit) in j.required_certifications.iter().zip(&self.job_certs[ji]) {
            if done(out) {
                return;
            }
            if !self.has_bit(ti, bit) {
                out.push(Rejection::MissingCertification(code.clone()));
            }
        }
        let short = j
            .parts_needed
            .iter()
            .filter(|(code, qty)| j.parts_on_site.get(*code).copied().unwrap_or(0) < **qty);
        for ((code, _), need) in short.zip(&self.job_parts[ji]) {
            if done(out) {
                return;
            }
            if !self.van_holds(ti, need) {
                out.push(Rejection::MissingParts(code.clone()));
            }
        }
    }

    /// The first hard constraint technician `ti` fails for job `ji`, if any.
    pub fn first_reason(&self, ti: usize, ji: usize) -> Option<Rejection> {
        let mut out = Vec::new();
        self.reasons(ti, ji, &mut out, true);
        out.pop()
    }

    /// The slot-independent cost terms of technician `ti` taking job `ji`.
    pub fn terms(&self, ti: usize, ji: usize) -> PairTerms {
        let t = self.techs[ti];
        let j = self.jobs[ji];
        let w = &self.weights;
        let distance_m = t.position.distance_m(j.position);
        let urgency = w.urgency(j.sla_minutes);
        let ftf_permille = t
            .first_time_fix
            .get(j.category.as_str())
            .copied()
            .unwrap_or_default()
            .rate_permille();
        PairTerms {
            distance_m,
            urgency,
            ftf_permille,
            travel: term(i128::from(w.travel_per_m) * i128::from(distance_m)),
            urgency_cost: term(
                i128::from(w.urgency_per_km) * i128::from(urgency) * i128::from(distance_m) / 1000,
            ),
            ftf_cost: term(i128::from(w.ftf_per_permille) * i128::from(1000 - ftf_permille)),
            contractor: if t.contractor { w.contractor } else { 0 },
        }
    }
}
