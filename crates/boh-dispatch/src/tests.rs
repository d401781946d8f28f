//! Unit tests: hard constraints, optimality against brute force and greedy, pins, reasons,
//! determinism, the certificate and the checker.

use std::collections::BTreeMap;

use crate::synthetic::{self, SplitMix64};
use crate::*;

fn tech(id: &str, x: i64, y: i64, skills: &[&str], capacity: u32) -> Technician {
    Technician {
        id: id.into(),
        skills: skills.iter().map(|s| (*s).to_string()).collect(),
        position: Position::new(x, y),
        on_shift: true,
        capacity,
        ..Technician::default()
    }
}

fn job(id: &str, x: i64, y: i64, skills: &[&str], sla_minutes: i64) -> Job {
    Job {
        id: id.into(),
        position: Position::new(x, y),
        required_skills: skills.iter().map(|s| (*s).to_string()).collect(),
        category: skills.first().map(|s| (*s).to_string()).unwrap_or_default(),
        sla_minutes,
        ..Job::default()
    }
}

// ---- an independent reference model, written from the documented formulas ----

fn ref_feasible(t: &Technician, j: &Job) -> bool {
    t.on_shift
        && t.capacity > 0
        && j.required_skills.is_subset(&t.skills)
        && j.required_certifications.is_subset(&t.certifications)
        && j.parts_needed.iter().all(|(p, &q)| {
            let site = j.parts_on_site.get(p).copied().unwrap_or(0);
            let van = t.van_parts.get(p).copied().unwrap_or(0);
            site >= q || van >= q - site
        })
}

fn ref_urgency(j: &Job, w: &Weights) -> i64 {
    (w.urgency_horizon_min - j.sla_minutes).max(0)
}

fn ref_pair_cost(t: &Technician, j: &Job, w: &Weights) -> i64 {
    let dx = (t.position.x_m - j.position.x_m) as f64;
    let dy = (t.position.y_m - j.position.y_m) as f64;
    let d = (dx * dx + dy * dy).sqrt().floor() as i64;
    let rec = t
        .first_time_fix
        .get(&j.category)
        .copied()
        .unwrap_or_default();
    let rate = i64::from((rec.fixed + 1) * 1000 / (rec.total + 2));
    w.travel_per_m * d
        + w.urgency_per_km * ref_urgency(j, w) * d / 1000
        + w.ftf_per_permille * (1000 - rate)
        + if t.contractor { w.contractor } else { 0 }
}

fn ref_unassigned(j: &Job, w: &Weights) -> i64 {
    w.unassigned
        + w.unassigned_per_priority * i64::from(j.priority)
        + w.unassigned_per_urgency * ref_urgency(j, w)
}

/// The cheapest plan by enumeration of every choice (a technician or none) per job;
/// `fixed[j]` forces job `j`'s choice.
fn brute_force(techs: &[Technician], jobs: &[Job], w: &Weights, fixed: &[Option<usize>]) -> i64 {
    struct Search<'a> {
        techs: &'a [Technician],
        jobs: &'a [Job],
        w: &'a Weights,
        fixed: &'a [Option<usize>],
        count: Vec<u32>,
        best: i64,
    }
    impl Search<'_> {
        fn go(&mut self, j: usize, acc: i64) {
            if j == self.jobs.len() {
                self.best = self.best.min(acc);
                return;
            }
            let job = &self.jobs[j];
            if self.fixed[j].is_none() {
                self.go(j + 1, acc + ref_unassigned(job, self.w));
            }
            for (ti, t) in self.techs.iter().enumerate() {
                if self.fixed[j].is_some_and(|f| f != ti)
                    || !ref_feasible(t, job)
                    || self.count[ti] >= t.capacity
                {
                    continue;
                }
                let slot = self.w.load_per_job * i64::from(t.load + self.count[ti]);
                self.count[ti] += 1;
                self.go(j + 1, acc + ref_pair_cost(t, job, self.w) + slot);
                self.count[ti] -= 1;
            }
        }
    }
    let mut search = Search {
        techs,
        jobs,
        w,
        fixed,
        count: vec![0; techs.len()],
        best: i64::MAX,
    };
    search.go(0, 0);
    search.best
}

fn assert_sound(plan: &Plan, techs: &[Technician], jobs: &[Job]) {
    assert_eq!(check(plan, techs, jobs).unwrap(), plan.total_cost);
    for a in &plan.assignments {
        let t = techs.iter().find(|t| t.id == a.technician).unwrap();
        let j = jobs.iter().find(|j| j.id == a.job).unwrap();
        assert!(ref_feasible(t, j), "{} -> {}", a.job, a.technician);
        let c = a.reasons.cost;
        assert_eq!(
            c.travel + c.load + c.urgency + c.first_time_fix + c.contractor,
            c.total
        );
    }
    let mut per_tech: BTreeMap<&str, u32> = BTreeMap::new();
    for a in &plan.assignments {
        *per_tech.entry(&a.technician).or_default() += 1;
    }
    for t in techs {
        assert!(per_tech.get(t.id.as_str()).copied().unwrap_or(0) <= t.capacity);
    }
    assert_eq!(plan.assignments.len() + plan.unassigned.len(), jobs.len());
}

// ---- optimality ----

#[test]
fn solver_equals_brute_force_on_small_instances() {
    let mut rng = SplitMix64::new(7);
    for round in 0..600 {
        let (techs, jobs) = synthetic::small(&mut rng, 6, 4, 2);
        let w = if round % 3 == 0 {
            Weights::default()
        } else {
            synthetic::weights(&mut rng)
        };
        let plan = solve(&techs, &jobs, &w).unwrap();
        assert_sound(&plan, &techs, &jobs);
        let best = brute_force(&techs, &jobs, &w, &vec![None; jobs.len()]);
        assert_eq!(plan.total_cost, best, "round {round}");
        assert_eq!(
            plan.certificate.as_ref().unwrap().lower_bound,
            best,
            "round {round}"
        );
        assert_eq!(lower_bound(&plan, &techs, &jobs).unwrap(), Some(best));
    }
}

#[test]
fn solver_is_never_worse_than_greedy() {
    for seed in 0..12 {
        let city = synthetic::city(180, 45, seed);
        let w = Weights::default();
        let opt = solve(&city.technicians, &city.jobs, &w).unwrap();
        let base = greedy(&city.technicians, &city.jobs, &w).unwrap();
        assert_sound(&opt, &city.technicians, &city.jobs);
        assert_sound(&base, &city.technicians, &city.jobs);
        assert!(opt.total_cost <= base.total_cost, "seed {seed}");
        assert_eq!(
            lower_bound(&opt, &city.technicians, &city.jobs).unwrap(),
            Some(opt.total_cost)
        );
    }
    let mut rng = SplitMix64::new(99);
    for _ in 0..200 {
        let (techs, jobs) = synthetic::small(&mut rng, 8, 5, 3);
        let w = synthetic::weights(&mut rng);
        let opt = solve(&techs, &jobs, &w).unwrap();
        let base = greedy(&techs, &jobs, &w).unwrap();
        assert_sound(&base, &techs, &jobs);
        assert!(opt.total_cost <= base.total_cost);
    }
}

#[test]
fn no_single_move_improves_an_optimal_plan() {
    let city = synthetic::city(300, 60, 3);
    let plan = solve(&city.technicians, &city.jobs, &Weights::default()).unwrap();
    for a in &plan.assignments {
        if let Some(r) = &a.reasons.runner_up {
            assert!(r.extra_cost >= 0, "{}: {r:?}", a.job);
            assert_ne!(r.technician, a.technician);
        }
    }
}

#[test]
fn bound_is_below_any_plan_even_with_other_prices() {
    let city = synthetic::city(120, 30, 5);
    let w = Weights::default();
    let mut plan = solve(&city.technicians, &city.jobs, &w).unwrap();
    let base = greedy(&city.technicians, &city.jobs, &w).unwrap();
    let cert = plan.certificate.as_mut().unwrap();
    for (i, (_, p)) in cert.technician_prices.iter_mut().enumerate() {
        *p += (i as i64 % 7 - 3) * 500;
    }
    let b = lower_bound(&plan, &city.technicians, &city.jobs)
        .unwrap()
        .unwrap();
    assert!(b <= plan.total_cost && b <= base.total_cost);
}

// ---- hard constraints and reasons ----

#[test]
fn every_hard_constraint_rejects_with_its_reason() {
    let mut j = job("WO-1", 0, 0, &["hvac", "pos"], 600);
    j.required_certifications = ["f-gas".to_string()].into();
    j.parts_needed = [("P1".to_string(), 2), ("P2".to_string(), 1)].into();
    j.parts_on_site = [("P2".to_string(), 1)].into();
    let mut off = tech("a-off", 0, 0, &["hvac", "pos"], 2);
    off.on_shift = false;
    off.certifications = ["f-gas".to_string()].into();
    off.van_parts = [("P1".to_string(), 2)].into();
    let mut full = off.clone();
    full.id = "b-full".into();
    full.on_shift = true;
    full.capacity = 0;
    let mut noskill = off.clone();
    noskill.id = "c-skill".into();
    noskill.on_shift = true;
    noskill.skills = ["hvac".to_string()].into();
    let mut nocert = off.clone();
    nocert.id = "d-cert".into();
    nocert.on_shift = true;
    nocert.certifications.clear();
    let mut noparts = off.clone();
    noparts.id = "e-parts".into();
    noparts.on_shift = true;
    noparts.van_parts = [("P1".to_string(), 1)].into();
    let mut ok = off.clone();
    ok.id = "f-ok".into();
    ok.on_shift = true;
    ok.position = Position::new(50_000, 0);
    let techs = vec![noparts, ok, nocert, full, off, noskill];
    let plan = solve(&techs, std::slice::from_ref(&j), &Weights::default()).unwrap();
    assert_eq!(plan.assignment("WO-1").unwrap().technician, "f-ok");
    let got: Vec<(&str, &[Rejection])> = plan
        .rejections_of("WO-1")
        .iter()
        .map(|r| (r.technician.as_str(), r.reasons.as_slice()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("a-off", &[Rejection::OffShift][..]),
            ("b-full", &[Rejection::AtCapacity][..]),
            ("c-skill", &[Rejection::MissingSkill("pos".into())][..]),
            (
                "d-cert",
                &[Rejection::MissingCertification("f-gas".into())][..]
            ),
            ("e-parts", &[Rejection::MissingParts("P1".into())][..]),
        ]
    );
    assert_eq!(Rejection::MissingParts("P1".into()).code(), "missing_parts");
}

#[test]
fn all_reasons_are_listed() {
    let mut t = tech("t", 0, 0, &[], 0);
    t.on_shift = false;
    let mut j = job("j", 0, 0, &["a", "b"], 0);
    j.required_certifications = ["c".to_string()].into();
    j.parts_needed = [("p".to_string(), 1)].into();
    let plan = solve(&[t], &[j], &Weights::default()).unwrap();
    assert_eq!(
        plan.rejections_of("j")[0].reasons,
        vec![
            Rejection::OffShift,
            Rejection::AtCapacity,
            Rejection::MissingSkill("a".into()),
            Rejection::MissingSkill("b".into()),
            Rejection::MissingCertification("c".into()),
            Rejection::MissingParts("p".into()),
        ]
    );
}

#[test]
fn unassigned_when_nobody_qualifies() {
    let techs = [
        tech("t1", 0, 0, &["hvac"], 3),
        tech("t2", 10, 0, &["pos"], 3),
    ];
    let jobs = [
        job("WO-1", 0, 0, &["refrigeration"], -30),
        job("WO-2", 0, 0, &["hvac"], 100),
    ];
    let plan = solve(&techs, &jobs, &Weights::default()).unwrap();
    assert_eq!(plan.assignment("WO-2").unwrap().technician, "t1");
    assert_eq!(plan.unassigned.len(), 1);
    let u = &plan.unassigned[0];
    assert_eq!(u.job, "WO-1");
    assert_eq!(u.reason, UnassignedReason::NoQualifiedTechnician);
    assert_eq!(u.qualified, 0);
    let rejected = plan.rejections_of("WO-1");
    assert_eq!(rejected.len(), 2);
    assert!(
        rejected
            .iter()
            .all(|r| r.reasons == [Rejection::MissingSkill("refrigeration".into())])
    );
    assert_sound(&plan, &techs, &jobs);
}

#[test]
fn parts_on_site_spare_the_van() {
    let mut j = job("j", 0, 0, &["a"], 600);
    j.parts_needed = [("p".to_string(), 3)].into();
    j.parts_on_site = [("p".to_string(), 2)].into();
    let mut with_one = tech("t1", 9_000, 0, &["a"], 1);
    with_one.van_parts = [("p".to_string(), 1)].into();
    let empty = tech("t0", 0, 0, &["a"], 1);
    let plan = solve(
        &[empty, with_one],
        std::slice::from_ref(&j),
        &Weights::default(),
    )
    .unwrap();
    assert_eq!(plan.assignment("j").unwrap().technician, "t1");
    j.parts_on_site.insert("p".into(), 3);
    let plan = solve(&[tech("t0", 0, 0, &["a"], 1)], &[j], &Weights::default()).unwrap();
    assert_eq!(plan.assignment("j").unwrap().technician, "t0");
}

#[test]
fn scarce_capacity_goes_to_the_breached_job() {
    let techs = [tech("t", 0, 0, &["a"], 1)];
    let jobs = [
        job("calm", 100, 0, &["a"], 2_000),
        job("late", 20_000, 0, &["a"], -60),
    ];
    let plan = solve(&techs, &jobs, &Weights::default()).unwrap();
    assert_eq!(plan.assignment("late").unwrap().technician, "t");
    assert_eq!(plan.unassigned[0].job, "calm");
    assert_eq!(plan.unassigned[0].reason, UnassignedReason::Outweighed);
}

#[test]
fn an_urgent_job_goes_to_the_nearer_technician() {
    // t-near is closer to the late job; the optimum keeps it there although greedy
    // by nearest technician would do the same, the costs must show urgency.
    let techs = [
        tech("t-far", 10_000, 0, &["a"], 1),
        tech("t-near", 1_000, 0, &["a"], 1),
    ];
    let jobs = [
        job("late", 0, 0, &["a"], -120),
        job("calm", 11_000, 0, &["a"], 3_000),
    ];
    let plan = solve(&techs, &jobs, &Weights::default()).unwrap();
    let late = plan.assignment("late").unwrap();
    assert_eq!(late.technician, "t-near");
    assert_eq!(late.reasons.urgency, 600);
    assert_eq!(late.reasons.cost.urgency, 2 * 600 * 1_000 / 1000);
    assert_eq!(late.reasons.distance_m, 1_000);
}

#[test]
fn load_grows_convexly_and_spreads_work() {
    let mut busy = tech("busy", 0, 0, &["a"], 3);
    busy.load = 4;
    let free = tech("free", 2_000, 0, &["a"], 3);
    let jobs = [job("j1", 0, 0, &["a"], 600), job("j2", 0, 0, &["a"], 600)];
    let w = Weights::default();
    let plan = solve(&[busy, free], &jobs, &w).unwrap();
    // busy: 4 held → load 12 000 for a first job, more than the 2 km to "free".
    assert!(plan.assignments.iter().all(|a| a.technician == "free"));
    let loads: Vec<u32> = plan
        .assignments
        .iter()
        .map(|a| a.reasons.load_before)
        .collect();
    assert_eq!(loads, [0, 1]);
}

#[test]
fn reasons_name_the_runner_up() {
    let techs = [tech("a", 0, 0, &["x"], 1), tech("b", 3_000, 0, &["x"], 1)];
    let jobs = [job("j", 1_000, 0, &["x"], 600)];
    let plan = solve(&techs, &jobs, &Weights::default()).unwrap();
    let a = plan.assignment("j").unwrap();
    assert_eq!(a.technician, "a");
    assert_eq!(a.reasons.distance_m, 1_000);
    assert_eq!(a.reasons.ftf_permille, 500);
    assert_eq!(a.reasons.cost.travel, 1_000);
    assert_eq!(a.reasons.cost.first_time_fix, 20 * 500);
    assert_eq!(
        a.reasons.runner_up,
        Some(RunnerUp {
            technician: "b".into(),
            extra_cost: 1_000
        })
    );
}

// ---- pins ----

#[test]
fn pins_are_respected_and_the_rest_is_optimal() {
    let mut rng = SplitMix64::new(11);
    let mut pinned_any = 0;
    for _ in 0..300 {
        let (techs, jobs) = synthetic::small(&mut rng, 6, 4, 2);
        let w = synthetic::weights(&mut rng);
        // Pin the first job to its first feasible technician, if any.
        let Some(ti) = techs.iter().position(|t| ref_feasible(t, &jobs[0])) else {
            continue;
        };
        pinned_any += 1;
        let pins = [Pin::new(jobs[0].id.clone(), techs[ti].id.clone())];
        let plan = solve_pinned(&techs, &jobs, &w, &pins).unwrap();
        assert_sound(&plan, &techs, &jobs);
        let a = plan.assignment(&jobs[0].id).unwrap();
        assert!(a.pinned);
        assert_eq!(a.technician, techs[ti].id);
        assert_eq!(plan.assignments.iter().filter(|a| a.pinned).count(), 1);
        let mut fixed = vec![None; jobs.len()];
        fixed[0] = Some(ti);
        let best = brute_force(&techs, &jobs, &w, &fixed);
        assert_eq!(plan.total_cost, best);
        assert_eq!(lower_bound(&plan, &techs, &jobs).unwrap(), Some(best));
        assert!(plan.total_cost >= solve(&techs, &jobs, &w).unwrap().total_cost);
    }
    assert!(pinned_any > 100);
}

#[test]
fn bad_pins_are_refused_with_the_job_and_reason() {
    let techs = [tech("t1", 0, 0, &["a"], 1), tech("t2", 0, 0, &["b"], 1)];
    let jobs = [job("j1", 0, 0, &["a"], 0), job("j2", 0, 0, &["a"], 0)];
    let w = Weights::default();
    let err = solve_pinned(&techs, &jobs, &w, &[Pin::new("j1", "t2")]).unwrap_err();
    assert_eq!(
        err,
        DispatchError::PinInfeasible {
            job: "j1".into(),
            technician: "t2".into(),
            reason: Rejection::MissingSkill("a".into()),
        }
    );
    assert_eq!(err.code(), "pin_infeasible");
    let err = solve_pinned(
        &techs,
        &jobs,
        &w,
        &[Pin::new("j1", "t1"), Pin::new("j2", "t1")],
    )
    .unwrap_err();
    assert!(
        matches!(err, DispatchError::PinInfeasible { ref job, reason: Rejection::AtCapacity, .. } if job == "j2")
    );
    let err = solve_pinned(&techs, &jobs, &w, &[Pin::new("j9", "t1")]).unwrap_err();
    assert_eq!(err.code(), "unknown_job");
    let err = solve_pinned(&techs, &jobs, &w, &[Pin::new("j1", "t9")]).unwrap_err();
    assert_eq!(err.code(), "unknown_technician");
    let err = solve_pinned(
        &techs,
        &jobs,
        &w,
        &[Pin::new("j1", "t1"), Pin::new("j1", "t1")],
    )
    .unwrap_err();
    assert_eq!(err, DispatchError::DuplicatePin("j1".into()));
}

// ---- determinism and ties ----

#[test]
fn input_order_does_not_change_the_plan() {
    let city = synthetic::city(250, 50, 8);
    let w = Weights::default();
    let plan = solve(&city.technicians, &city.jobs, &w).unwrap();
    let mut rng = SplitMix64::new(1);
    for _ in 0..3 {
        let mut techs = city.technicians.clone();
        let mut jobs = city.jobs.clone();
        rng.shuffle(&mut techs);
        rng.shuffle(&mut jobs);
        assert_eq!(solve(&techs, &jobs, &w).unwrap(), plan);
        assert_eq!(
            greedy(&techs, &jobs, &w).unwrap(),
            greedy(&city.technicians, &city.jobs, &w).unwrap()
        );
    }
}

#[test]
fn ties_go_to_the_lower_id() {
    let techs = [
        tech("t-b", 0, 1_000, &["a"], 1),
        tech("t-a", 0, -1_000, &["a"], 1),
    ];
    let jobs = [job("j", 0, 0, &["a"], 600)];
    let w = Weights::default();
    assert_eq!(
        solve(&techs, &jobs, &w).unwrap().assignments[0].technician,
        "t-a"
    );
    assert_eq!(
        greedy(&techs, &jobs, &w).unwrap().assignments[0].technician,
        "t-a"
    );
    let reversed = [techs[1].clone(), techs[0].clone()];
    assert_eq!(
        solve(&reversed, &jobs, &w).unwrap().assignments[0].technician,
        "t-a"
    );
}

// ---- errors and the checker ----

#[test]
fn invalid_batches_are_refused_with_codes() {
    let w = Weights::default();
    let t = tech("t", 0, 0, &["a"], 1);
    let j = job("j", 0, 0, &["a"], 0);
    let err = solve(&[t.clone(), t.clone()], std::slice::from_ref(&j), &w).unwrap_err();
    assert_eq!(
        (err.code(), err.to_string().contains("\"t\"")),
        ("duplicate_technician", true)
    );
    let err = solve(std::slice::from_ref(&t), &[j.clone(), j.clone()], &w).unwrap_err();
    assert_eq!(err.code(), "duplicate_job");
    let bad = Weights {
        load_per_job: -1,
        ..w
    };
    let err = solve(std::slice::from_ref(&t), std::slice::from_ref(&j), &bad).unwrap_err();
    assert_eq!(
        err,
        DispatchError::WeightOutOfRange {
            name: "load_per_job",
            value: -1
        }
    );
    let mut liar = t.clone();
    liar.first_time_fix
        .insert("a".into(), FtfRecord { fixed: 3, total: 2 });
    let err = greedy(&[liar], &[j], &w).unwrap_err();
    assert_eq!(err.code(), "invalid_history");
}

#[test]
fn check_catches_broken_plans() {
    let techs = [tech("t1", 0, 0, &["a"], 1), tech("t2", 0, 0, &["b"], 1)];
    let jobs = [job("j1", 0, 0, &["a"], 0), job("j2", 10, 0, &["a"], 0)];
    let plan = solve(&techs, &jobs, &Weights::default()).unwrap();
    assert_eq!(plan.assignments.len(), 1);

    let mut p = plan.clone();
    p.assignments[0].technician = "t2".into();
    assert_eq!(
        check(&p, &techs, &jobs).unwrap_err().code(),
        "plan_infeasible"
    );

    let mut p = plan.clone();
    let moved = p.unassigned.remove(0);
    let mut extra = p.assignments[0].clone();
    extra.job = moved.job;
    p.assignments.push(extra);
    assert_eq!(
        check(&p, &techs, &jobs).unwrap_err().code(),
        "plan_over_capacity"
    );

    let mut p = plan.clone();
    p.unassigned.clear();
    assert_eq!(
        check(&p, &techs, &jobs).unwrap_err(),
        DispatchError::PlanMissingJob("j2".into())
    );

    let mut p = plan.clone();
    p.unassigned.push(p.unassigned[0].clone());
    assert_eq!(
        check(&p, &techs, &jobs).unwrap_err().code(),
        "plan_repeated_job"
    );

    let mut p = plan.clone();
    p.total_cost -= 1;
    assert_eq!(
        check(&p, &techs, &jobs).unwrap_err().code(),
        "plan_cost_mismatch"
    );
}

#[test]
fn bench_runs_and_certifies() {
    let r = bench::run(120, 40, 2);
    assert_eq!(r.optimal_assigned + r.optimal_unassigned, 120);
    assert_eq!(r.greedy_assigned + r.greedy_unassigned, 120);
    assert!(r.optimal_cost <= r.greedy_cost);
    assert_eq!(r.lower_bound, Some(r.optimal_cost));
    assert!(r.ratio() >= 1.0);
    assert!(r.to_string().contains("proven optimal"));
}

#[test]
fn distance_is_exact_and_saturates() {
    assert_eq!(
        Position::new(0, 0).distance_m(Position::new(3_000, 4_000)),
        5_000
    );
    assert_eq!(Position::new(0, 0).distance_m(Position::new(1, 1)), 1);
    assert_eq!(
        Position::new(i64::MIN, i64::MIN).distance_m(Position::new(i64::MAX, i64::MAX)),
        i64::MAX
    );
}

#[test]
fn splitmix_is_reproducible() {
    let a: Vec<u64> = {
        let mut r = SplitMix64::new(42);
        (0..4).map(|_| r.next_u64()).collect()
    };
    let b: Vec<u64> = {
        let mut r = SplitMix64::new(42);
        (0..4).map(|_| r.next_u64()).collect()
    };
    assert_eq!(a, b);
    let mut r = SplitMix64::new(1);
    assert!((0..1000).all(|_| (3..=5).contains(&r.range(3, 5))));
}
