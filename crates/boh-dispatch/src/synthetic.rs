//! Reproducible synthetic batches for tests and the benchmark: a small deterministic
//! pseudo-random generator and generators of cities and of tiny tricky instances.

use std::collections::{BTreeMap, BTreeSet};

use crate::model::{FtfRecord, Job, Position, Technician, Weights};

/// The splitmix64 generator: tiny, fast, fully deterministic for a seed. Not for security.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        let wide = u128::from(self.next_u64()) * u128::from(n);
        u64::try_from(wide >> 64).unwrap_or(0)
    }

    /// An index in `0..n` (`0` when `n` is 0).
    pub fn index(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap_or(0)
    }

    /// A number in `lo..=hi` (`lo` when `hi < lo`).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo) + 1;
        lo.wrapping_add_unsigned(self.below(span))
    }

    /// A `u32` in `lo..=hi`.
    pub fn range_u32(&mut self, lo: u32, hi: u32) -> u32 {
        u32::try_from(self.range(i64::from(lo), i64::from(hi))).unwrap_or(lo)
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// `count` distinct indices of `0..n`, in increasing order.
    pub fn distinct(&mut self, n: usize, count: usize) -> Vec<usize> {
        let mut all: Vec<usize> = (0..n).collect();
        for i in 0..count.min(n) {
            let j = i + self.index(n - i);
            all.swap(i, j);
        }
        all.truncate(count.min(n));
        all.sort_unstable();
        all
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

/// The skill codes of the synthetic city.
pub const SKILLS: [&str; 8] = [
    "doors",
    "electrical",
    "hvac",
    "kitchen-equipment",
    "lighting",
    "plumbing",
    "pos",
    "refrigeration",
];

/// The certification codes of the synthetic city.
pub const CERTIFICATIONS: [&str; 3] = ["f-gas", "gas-safe", "high-voltage"];

/// How many part codes the synthetic city uses (`P01`, `P02`, ...).
pub const PARTS: usize = 20;

fn part(i: usize) -> String {
    format!("P{:02}", i + 1)
}

/// A synthetic batch.
#[derive(Debug, Clone)]
pub struct City {
    /// The stores jobs happen at.
    pub stores: Vec<Position>,
    /// The technicians.
    pub technicians: Vec<Technician>,
    /// The open jobs.
    pub jobs: Vec<Job>,
}

/// A city of 200 stores over 40 km × 40 km with `jobs` open work orders and `technicians`
/// technicians: 1–4 of 8 skills each, some certifications, 85 % on shift, 0–2 jobs already
/// held, capacities 3–5, 15 % contractors, 4–8 part codes in each van, first-time-fix
/// histories; jobs need one skill (a fifth of them two), sometimes a certification or parts
/// (half of the time on site), with SLAs from 4 hours breached to 2 days left.
pub fn city(jobs: usize, technicians: usize, seed: u64) -> City {
    const SIDE_M: i64 = 40_000;
    let mut rng = SplitMix64::new(seed);
    let stores: Vec<Position> = (0..200)
        .map(|_| Position::new(rng.range(0, SIDE_M), rng.range(0, SIDE_M)))
        .collect();

    let technicians = (0..technicians)
        .map(|i| {
            let n_skills = rng.index(4) + 1;
            let skills: BTreeSet<String> = rng
                .distinct(SKILLS.len(), n_skills)
                .into_iter()
                .map(|s| SKILLS[s].to_string())
                .collect();
            let certifications = CERTIFICATIONS
                .iter()
                .filter(|_| rng.percent(35))
                .map(|c| (*c).to_string())
                .collect();
            let position = if rng.percent(50) {
                stores[rng.index(stores.len())]
            } else {
                Position::new(rng.range(0, SIDE_M), rng.range(0, SIDE_M))
            };
            let n_parts = rng.index(5) + 4;
            let van_parts = rng
                .distinct(PARTS, n_parts)
                .into_iter()
                .map(|p| (part(p), rng.range_u32(1, 3)))
                .collect();
            let first_time_fix = skills
                .iter()
                .map(|s| {
                    let total = rng.range_u32(0, 40);
                    let fixed = total * rng.range_u32(50, 95) / 100;
                    (s.clone(), FtfRecord { fixed, total })
                })
                .collect();
            Technician {
                id: format!("T{i:04}"),
                skills,
                certifications,
                position,
                on_shift: rng.percent(85),
                load: rng.range_u32(0, 2),
                capacity: rng.range_u32(3, 5),
                contractor: rng.percent(15),
                van_parts,
                first_time_fix,
            }
        })
        .collect();

    let jobs = (0..jobs)
        .map(|i| {
            let count = if rng.percent(20) { 2 } else { 1 };
            let skills = rng.distinct(SKILLS.len(), count);
            let category = SKILLS[skills[rng.index(skills.len())]].to_string();
            let required_certifications = if rng.percent(15) {
                [CERTIFICATIONS[rng.index(CERTIFICATIONS.len())].to_string()].into()
            } else {
                BTreeSet::new()
            };
            let mut parts_needed = BTreeMap::new();
            let mut parts_on_site = BTreeMap::new();
            if rng.percent(50) {
                let n_parts = rng.index(2) + 1;
                for p in rng.distinct(PARTS, n_parts) {
                    let qty = rng.range_u32(1, 2);
                    parts_needed.insert(part(p), qty);
                    if rng.percent(50) {
                        parts_on_site.insert(part(p), qty);
                    }
                }
            }
            Job {
                id: format!("WO-{i:05}"),
                position: stores[rng.index(stores.len())],
                required_skills: skills.into_iter().map(|s| SKILLS[s].to_string()).collect(),
                required_certifications,
                category,
                priority: rng.range_u32(0, 3),
                sla_minutes: rng.range(-240, 2_880),
                parts_needed,
                parts_on_site,
            }
        })
        .collect();

    City {
        stores,
        technicians,
        jobs,
    }
}

/// A tiny batch where constraints bind: up to `max_jobs` jobs and `max_technicians`
/// technicians of capacity 1 to `max_capacity`, 3 skills, one certification, 3 parts, over
/// 5 km × 5 km.
pub fn small(
    rng: &mut SplitMix64,
    max_jobs: usize,
    max_technicians: usize,
    max_capacity: u32,
) -> (Vec<Technician>, Vec<Job>) {
    const SIDE_M: i64 = 5_000;
    let skills = ["a", "b", "c"];
    let parts = ["p", "q", "r"];
    let n_techs = rng.index(max_technicians) + 1;
    let n_jobs = rng.index(max_jobs) + 1;
    let technicians = (0..n_techs)
        .map(|i| Technician {
            id: format!("t{i}"),
            skills: skills
                .iter()
                .filter(|_| rng.percent(60))
                .map(|s| (*s).to_string())
                .collect(),
            certifications: if rng.percent(50) {
                ["cert".to_string()].into()
            } else {
                BTreeSet::new()
            },
            position: Position::new(rng.range(0, SIDE_M), rng.range(0, SIDE_M)),
            on_shift: rng.percent(85),
            load: rng.range_u32(0, 3),
            capacity: rng.range_u32(1, max_capacity),
            contractor: rng.percent(25),
            van_parts: parts
                .iter()
                .filter_map(|p| {
                    let held = rng.percent(50);
                    let qty = rng.range_u32(1, 2);
                    held.then(|| ((*p).to_string(), qty))
                })
                .collect(),
            first_time_fix: skills
                .iter()
                .map(|s| {
                    let total = rng.range_u32(0, 10);
                    let fixed = rng.range_u32(0, total);
                    ((*s).to_string(), FtfRecord { fixed, total })
                })
                .collect(),
        })
        .collect();
    let jobs = (0..n_jobs)
        .map(|i| {
            let skill = skills[rng.index(skills.len())];
            let mut parts_needed = BTreeMap::new();
            let mut parts_on_site = BTreeMap::new();
            if rng.percent(40) {
                let p = parts[rng.index(parts.len())].to_string();
                let qty = rng.range_u32(1, 2);
                if rng.percent(50) {
                    parts_on_site.insert(p.clone(), rng.range_u32(0, qty));
                }
                parts_needed.insert(p, qty);
            }
            Job {
                id: format!("j{i}"),
                position: Position::new(rng.range(0, SIDE_M), rng.range(0, SIDE_M)),
                required_skills: [skill.to_string()].into(),
                required_certifications: if rng.percent(20) {
                    ["cert".to_string()].into()
                } else {
                    BTreeSet::new()
                },
                category: skill.to_string(),
                priority: rng.range_u32(0, 3),
                sla_minutes: rng.range(-120, 900),
                parts_needed,
                parts_on_site,
            }
        })
        .collect();
    (technicians, jobs)
}

/// Random weights of varied proportions, including an unassigned cost small enough that
/// leaving a job can be the cheaper choice.
pub fn weights(rng: &mut SplitMix64) -> Weights {
    Weights {
        travel_per_m: rng.range(0, 3),
        load_per_job: rng.range(0, 5_000),
        urgency_per_km: rng.range(0, 5),
        ftf_per_permille: rng.range(0, 30),
        contractor: rng.range(0, 5_000),
        unassigned: if rng.percent(50) {
            rng.range(0, 8_000)
        } else {
            1_000_000
        },
        unassigned_per_priority: rng.range(0, 2_000),
        unassigned_per_urgency: rng.range(0, 20),
        urgency_horizon_min: rng.range(0, 600),
    }
}
