//! Maintenance KPIs and the knowledge base through the API: search finds a past fix by a word
//! of its note (English and Chinese) and leaves out open and out-of-scope work orders; similar
//! fixes come from the same asset model; the KPI figures of a small fixture are the ones worked
//! out by hand; a store manager sees only their store's work orders in both.

use serde_json::{Value, json};

use crate::common::TestApp;

both!(knowledge_search_and_similar_fixes);
both!(kpis_match_a_hand_computed_fixture);
both!(demo_history_is_believable);

const H: i64 = 3_600_000_000;
const D: i64 = 24 * H;
/// 2026-03-10T02:00:00Z
const T0: i64 = 1_773_108_000_000_000;

async fn asset(
    app: &TestApp,
    token: &str,
    store: &str,
    code: &str,
    category: &str,
    model: &str,
) -> String {
    let loc = app.store_id(store).await;
    let r = app
        .post_json(
            "/api/v1/maintenance/assets",
            token,
            json!({"location_id": loc, "code": code, "name": code, "category": category, "model": model}),
            &[],
        )
        .await;
    r.assert_status(201);
    r.json()["id"].as_str().unwrap().to_string()
}

/// A work order written directly, with the instants and figures a test needs.
#[derive(Clone)]
struct Wo {
    n: i64,
    store: &'static str,
    asset: Option<String>,
    category: &'static str,
    title: &'static str,
    fault: &'static str,
    source: &'static str,
    status: &'static str,
    created: i64,
    finished: Option<i64>,
    due: i64,
    labour: i64,
    parts: i64,
    note: Option<&'static str>,
}

impl Wo {
    fn new(n: i64, store: &'static str, asset: &str, created: i64) -> Wo {
        Wo {
            n,
            store,
            asset: Some(asset.to_string()),
            category: "fridge",
            title: "Fridge not cooling",
            fault: "not_cooling",
            source: "web",
            status: "closed",
            created,
            finished: Some(created + H),
            due: created + 8 * H,
            labour: 0,
            parts: 0,
            note: None,
        }
    }
}

async fn insert(app: &TestApp, w: &Wo) -> String {
    let loc = app.store_id(w.store).await;
    let path = app
        .scalar_text(&format!("SELECT path FROM org_nodes WHERE id = '{loc}'"))
        .await;
    let company = app
        .scalar_text(&format!(
            "SELECT company_id FROM org_nodes WHERE id = '{loc}'"
        ))
        .await;
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO mnt_work_orders (id, company_id, location_id, location_path, asset_id, number, title, \
         description, fault_code, category, priority, status, source, tracking_token, response_min, resolution_min, \
         sla_days, sla_open_min, sla_close_min, response_due_at, resolution_due_at, finished_at, closed_at, \
         paused_min, escalation_level, cause_code, remedy_code, resolution_note, signature_required, labour_min, \
         parts_cost, labour_cost, created_by, created_at, updated_at, version) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,'high',$11,$12,$13,120,480,'1111111',0,1440,$14,$15,$16,$17,\
         0,0,$18,$19,$20,0,60,$21,$22,'system',$23,$23,1)",
    )
    .bind(&id)
    .bind(&company)
    .bind(&loc)
    .bind(&path)
    .bind(w.asset.clone())
    .bind(format!("WO-{:06}", w.n))
    .bind(w.title)
    .bind(Some(format!("{} reported", w.title)))
    .bind(w.fault)
    .bind(w.category)
    .bind(w.status)
    .bind(w.source)
    .bind(format!("track-{id}"))
    .bind(w.created + 2 * H)
    .bind(w.due)
    .bind(w.finished)
    .bind(w.finished.filter(|_| w.status == "closed").map(|f| f + H))
    .bind(w.finished.map(|_| "wear".to_string()))
    .bind(w.finished.map(|_| "replaced_part".to_string()))
    .bind(w.note.map(str::to_string))
    .bind(w.parts)
    .bind(w.labour)
    .bind(w.created)
    .execute(app.pool())
    .await
    .expect("inserting a work order");
    id
}

fn numbers(v: &Value) -> Vec<String> {
    v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|x| x["number"].as_str().unwrap().to_string())
        .collect()
}

async fn search(app: &TestApp, token: &str, q: &str) -> Vec<String> {
    let r = app
        .get(
            &format!(
                "/api/v1/maintenance/knowledge?q={}",
                crate::common::urlencode(q)
            ),
            token,
        )
        .await;
    r.assert_status(200);
    numbers(&r.json())
}

async fn knowledge_search_and_similar_fixes(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let f1 = asset(&app, &admin, "S001", "S001-FR", "fridge", "SC-1050").await;
    let f2 = asset(&app, &admin, "S002", "S002-FR", "fridge", "SC-1050").await;
    let f3 = asset(&app, &admin, "S001", "S001-FR2", "fridge", "OTHER-9").await;
    let y1 = asset(&app, &admin, "S001", "S001-FRY", "fryer", "FPH355").await;

    let mut a = Wo::new(1, "S001", &f1, T0);
    a.note = Some("Door gasket torn; replaced the door gasket. 门封条破损，已更换门封条。");
    insert(&app, &a).await;
    let mut b = Wo::new(2, "S002", &f2, T0 + D);
    b.note = Some("压缩机启动电容损坏，更换启动电容。Start capacitor replaced.");
    let b_id = insert(&app, &b).await;
    let mut c = Wo::new(3, "S001", &f3, T0 + 2 * D);
    c.note = Some("Condenser coil cleaned, 清洁冷凝器。");
    insert(&app, &c).await;
    let mut d = Wo::new(4, "S001", &y1, T0 + 3 * D);
    d.category = "fryer";
    d.title = "Fryer not heating";
    d.fault = "not_heating";
    d.note = Some("Heating element replaced, gasket fine.");
    insert(&app, &d).await;
    // Open: not a past fix, even though its words match.
    let mut open = Wo::new(5, "S001", &f1, T0 + 4 * D);
    open.status = "in_progress";
    open.finished = None;
    open.title = "Fridge warm again, door gasket";
    let open_id = insert(&app, &open).await;

    // By a word of the note, ranked: the fix that says "gasket" twice comes first.
    assert_eq!(
        search(&app, &admin, "gasket").await,
        vec!["WO-000001", "WO-000004"]
    );
    assert_eq!(
        search(&app, &admin, "GASKETS").await,
        vec!["WO-000001", "WO-000004"]
    );
    // By Chinese words.
    assert_eq!(search(&app, &admin, "门封条").await, vec!["WO-000001"]);
    assert_eq!(search(&app, &admin, "压缩机").await, vec!["WO-000002"]);
    assert_eq!(search(&app, &admin, "冷凝").await, vec!["WO-000003"]);
    // By a code (its words: "not" is in every fault code here, "heating" only in one).
    assert_eq!(search(&app, &admin, "not_heating").await[0], "WO-000004");
    assert!(search(&app, &admin, "nothing-like-this").await.is_empty());
    assert!(search(&app, &admin, "").await.is_empty());

    // A store manager searches their store only.
    assert!(search(&app, &m1, "压缩机").await.is_empty());
    assert!(search(&app, &m1, "capacitor").await.is_empty());
    assert_eq!(
        search(&app, &m1, "gasket").await,
        vec!["WO-000001", "WO-000004"]
    );
    // and may not narrow to another store.
    let s002 = app.store_id("S002").await;
    let r = app
        .get(
            &format!("/api/v1/maintenance/knowledge?q=gasket&under={s002}"),
            &m1,
        )
        .await;
    r.assert_status(404);
    let r = app
        .get(
            &format!("/api/v1/maintenance/knowledge?q={}", "x".repeat(201)),
            &admin,
        )
        .await;
    r.assert_status(422);

    // Similar fixes for the open one: the same model (S001 and S002 fridges) first, then the
    // same category (the other fridge model); never the fryer, never itself.
    let r = app
        .get(
            &format!("/api/v1/maintenance/work-orders/{open_id}/similar"),
            &admin,
        )
        .await;
    r.assert_status(200);
    let v = r.json();
    assert_eq!(numbers(&v), vec!["WO-000001", "WO-000002", "WO-000003"]);
    assert_eq!(v["items"][0]["basis"], "model");
    assert_eq!(v["items"][1]["basis"], "model");
    assert_eq!(v["items"][2]["basis"], "category");
    let r = app
        .get(
            &format!("/api/v1/maintenance/work-orders/{open_id}/similar?limit=1"),
            &admin,
        )
        .await;
    assert_eq!(numbers(&r.json()), vec!["WO-000001"]);
    // The manager sees only S001's.
    let r = app
        .get(
            &format!("/api/v1/maintenance/work-orders/{open_id}/similar"),
            &m1,
        )
        .await;
    r.assert_status(200);
    assert_eq!(numbers(&r.json()), vec!["WO-000001", "WO-000003"]);
    // and another store's work order does not exist for them.
    let r = app
        .get(
            &format!("/api/v1/maintenance/work-orders/{b_id}/similar"),
            &m1,
        )
        .await;
    r.assert_status(404);

    // The page.
    let cookie = app.session("admin").await;
    let r = app
        .request(
            hyper::Method::GET,
            "/maintenance/knowledge?q=%E9%97%A8%E5%B0%81",
        )
        .cookie("boh_session", &cookie)
        .send()
        .await;
    r.assert_status(200);
    assert!(r.text().contains("WO-000001"));
}

async fn kpis_match_a_hand_computed_fixture(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let fryer = asset(&app, &admin, "S001", "S001-FRY", "fryer", "FPH355").await;
    let fridge = asset(&app, &admin, "S002", "S002-FR", "fridge", "SC-1050").await;
    // a: fixed in 2 h (due in 3 h), a repeat 9 days later (b) -> not first time.
    let mut a = Wo::new(1, "S001", &fryer, T0);
    a.category = "fryer";
    a.fault = "not_heating";
    a.finished = Some(T0 + 2 * H);
    a.due = T0 + 3 * H;
    a.labour = 1000;
    a.parts = 500;
    insert(&app, &a).await;
    // b: fixed in 4 h, due in 3 h (missed); no repeat -> first time.
    let mut b = a.clone();
    b.n = 2;
    b.created = T0 + 9 * D;
    b.finished = Some(b.created + 4 * H);
    b.due = b.created + 3 * H;
    b.labour = 2000;
    b.parts = 0;
    insert(&app, &b).await;
    // c: a PM service, 1 h: counts for MTTR, SLA and cost, not as a failure.
    let mut c = a.clone();
    c.n = 3;
    c.source = "pm";
    c.created = T0 + 14 * D;
    c.finished = Some(c.created + H);
    c.due = c.created + D;
    c.labour = 300;
    c.parts = 0;
    insert(&app, &c).await;
    // A cancelled one: left out.
    let mut x = a.clone();
    x.n = 4;
    x.status = "cancelled";
    x.finished = None;
    x.created = T0 + 5 * D;
    x.labour = 99_999;
    insert(&app, &x).await;
    // d: at S002, open.
    let mut d = Wo::new(5, "S002", &fridge, T0 + 5 * D);
    d.status = "open";
    d.finished = None;
    d.labour = 700;
    insert(&app, &d).await;

    let s001 = app.store_id("S001").await;
    let s002 = app.store_id("S002").await;
    let url =
        |extra: &str| format!("/api/v1/maintenance/kpis?from=2026-03-01&to=2026-03-31{extra}");
    let r = app.get(&url(&format!("&under={s001}")), &admin).await;
    r.assert_status(200);
    let k = r.json();
    let t = &k["totals"];
    assert_eq!(t["work_orders"], 3);
    assert_eq!(t["finished"], 3);
    // (120 + 240 + 60) / 3
    assert_eq!(t["mttr_min"], 140);
    // a -> b: 9 days.
    assert_eq!(t["mtbf_min"], 9 * 24 * 60);
    assert_eq!(t["mtbf_intervals"], 1);
    assert_eq!(t["ftf_eligible"], 2);
    assert_eq!(t["ftf_first_time"], 1);
    assert_eq!(t["ftf_permille"], 500);
    assert_eq!(t["sla_met"], 2);
    assert_eq!(t["sla_permille"], 667);
    assert_eq!(t["labour_cost"], 3300);
    assert_eq!(t["parts_cost"], 500);
    assert_eq!(t["cost"], 3800);
    assert_eq!(k["under_code"], "S001");
    assert_eq!(k["time_zone"], "Asia/Shanghai");
    assert_eq!(k["monthly"].as_array().unwrap().len(), 1);
    assert_eq!(k["monthly"][0]["month"], "2026-03");
    assert_eq!(k["monthly"][0]["work_orders"], 3);
    assert_eq!(k["by_model"][0]["model"], "FPH355");
    assert_eq!(k["by_model"][0]["assets"], 1);
    assert_eq!(k["by_asset"][0]["asset_code"], "S001-FRY");
    assert_eq!(k["backlog_total"], 0);

    // A shorter repeat window: b came 9 days after a, so a was fixed first time.
    let r = app
        .get(&url(&format!("&under={s001}&ftf_days=5")), &admin)
        .await;
    assert_eq!(r.json()["totals"]["ftf_permille"], 1000);

    // The whole company: d too, open in the backlog.
    let r = app.get(&url(""), &admin).await;
    let k = r.json();
    assert_eq!(k["totals"]["work_orders"], 4);
    assert_eq!(k["totals"]["cost"], 4500);
    assert_eq!(k["by_store"].as_array().unwrap().len(), 2);
    assert_eq!(k["backlog_total"], 1);
    let buckets: i64 = k["backlog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["count"].as_i64().unwrap())
        .sum();
    assert_eq!(buckets, 1);

    // The store manager of S001 sees S001 only, and S002 does not exist for them.
    let r = app.get(&url(""), &m1).await;
    r.assert_status(200);
    let k = r.json();
    assert_eq!(k["totals"]["work_orders"], 3);
    assert_eq!(k["totals"]["cost"], 3800);
    assert_eq!(k["by_store"].as_array().unwrap().len(), 1);
    assert_eq!(k["by_store"][0]["location_code"], "S001");
    assert_eq!(k["backlog_total"], 0);
    let r = app.get(&url(&format!("&under={s002}")), &m1).await;
    r.assert_status(404);

    // Bad parameters are named.
    let r = app.get(&url("&ftf_days=0"), &admin).await;
    r.assert_status(422);
    let r = app
        .get(
            "/api/v1/maintenance/kpis?from=2026-04-01&to=2026-03-01",
            &admin,
        )
        .await;
    r.assert_status(422);
    let r = app
        .get(
            "/api/v1/maintenance/kpis?from=2020-01-01&to=2026-03-01",
            &admin,
        )
        .await;
    r.assert_status(422);

    // The page, in Chinese too.
    for lang in ["en", "zh-CN"] {
        app.exec(&format!(
            "UPDATE users SET locale = '{lang}' WHERE username = 'admin'"
        ))
        .await;
        let cookie = app.session("admin").await;
        let r = app
            .request(
                hyper::Method::GET,
                &format!("/maintenance/kpis?from=2026-03-01&to=2026-03-31&under={s001}"),
            )
            .cookie("boh_session", &cookie)
            .send()
            .await;
        r.assert_status(200);
        let html = r.text();
        assert!(html.contains("id=\"kpi-cards\""));
        assert!(html.contains("<svg"), "charts are drawn");
        assert!(html.contains("50.0 %"));
        let title = if lang == "en" {
            "Maintenance KPIs"
        } else {
            "维修指标"
        };
        assert!(html.contains(title), "{lang}");
    }
}

/// The demo's technicians and a year of history: quick to write, consistent, and giving KPIs
/// and searches something to show.
async fn demo_history_is_believable(app: TestApp) {
    let f = boh_platform::org::NodeFilter {
        kind: Some("store,warehouse,central_kitchen".into()),
        limit: Some(500),
        ..Default::default()
    };
    let (sites, _) = boh_platform::org::list(&app.platform, &boh_kernel::Actor::system(), &f)
        .await
        .unwrap();
    boh_maintenance::demo::seed(&app.platform, &sites)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let h = boh_maintenance::demo::seed_history(&app.platform, &sites)
        .await
        .unwrap();
    eprintln!(
        "{:?}: {} work orders, {} events in {} ms",
        app.backend,
        h.work_orders,
        h.events,
        started.elapsed().as_millis()
    );
    assert_eq!(h.technicians, 8);
    assert_eq!(app.count("mnt_technicians").await, 8);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mnt_technicians WHERE kind = 'contractor'")
            .await,
        2
    );
    let chen = app.user_id("tech.chen").await;
    assert_eq!(
        app.scalar_text(&format!(
            "SELECT code FROM mnt_technicians WHERE user_id = '{chen}'"
        ))
        .await,
        "T01"
    );
    assert_eq!(app.count("mnt_work_orders").await, h.work_orders as i64);
    assert!(h.work_orders > 500, "{} work orders", h.work_orders);
    assert_eq!(app.count("mnt_wo_events").await, h.events as i64);
    // Every work order has its created event first, every finished one a finished event.
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM mnt_work_orders w WHERE NOT EXISTS (SELECT 1 FROM mnt_wo_events e \
             WHERE e.work_order_id = w.id AND e.seq = 1 AND e.kind = 'created')"
        )
        .await,
        0
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM mnt_work_orders w WHERE w.finished_at IS NOT NULL AND NOT EXISTS \
             (SELECT 1 FROM mnt_wo_events e WHERE e.work_order_id = w.id AND e.kind = 'finished')"
        )
        .await,
        0
    );
    assert_eq!(
        app.scalar_i64(
            "SELECT COUNT(*) FROM mnt_work_orders WHERE status = 'closed' AND closed_at IS NULL"
        )
        .await,
        0
    );
    let statuses = app
        .scalar_i64("SELECT COUNT(DISTINCT status) FROM mnt_work_orders")
        .await;
    assert!(statuses >= 8, "{statuses} statuses");

    let admin = app.login_token("admin").await;
    let r = app.get("/api/v1/maintenance/kpis", &admin).await;
    r.assert_status(200);
    let k = r.json();
    let t = &k["totals"];
    let ftf = t["ftf_permille"].as_i64().unwrap();
    let sla = t["sla_permille"].as_i64().unwrap();
    assert!((600..1000).contains(&ftf), "first-time fix {ftf}");
    assert!((700..1000).contains(&sla), "SLA {sla}");
    assert!(t["mtbf_min"].as_i64().unwrap() > 0);
    assert!(k["backlog_total"].as_i64().unwrap() >= 10);
    let months = k["monthly"].as_array().unwrap();
    assert_eq!(months.len(), 12);
    // Every month has work orders.
    let per_month: Vec<i64> = months
        .iter()
        .map(|m| m["work_orders"].as_i64().unwrap())
        .collect();
    assert!(per_month.iter().all(|n| *n > 0), "{per_month:?}");
    assert!(!search(&app, &admin, "门封条").await.is_empty());
    assert!(!search(&app, &admin, "gasket").await.is_empty());
    // tech.chen sees the jobs assigned to him.
    let tech = app.login_token("tech.chen").await;
    let r = app.get("/api/v1/maintenance/kpis", &tech).await;
    r.assert_status(200);
    assert!(r.json()["totals"]["work_orders"].as_i64().unwrap() > 0);
    let mine = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM mnt_work_orders w JOIN mnt_technicians t ON t.id = w.technician_id \
             WHERE t.user_id = '{chen}' AND w.status <> 'cancelled'"
        ))
        .await;
    assert!(r.json()["totals"]["work_orders"].as_i64().unwrap() <= mine);
}
