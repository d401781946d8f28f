//! Preventive and predictive maintenance through the API: a calendar schedule generates one
//! work order with its checklist (and nothing more when run again); a meter schedule becomes
//! due through readings; a threshold rule opens a predictive work order; a batch with one bad
//! row is refused naming it and writes nothing; another store's schedule is not found.

use serde_json::{Value, json};

use crate::common::TestApp;

both!(calendar_schedule_generates_once);
both!(meter_schedule_becomes_due_through_readings);
both!(threshold_rule_opens_a_predictive_work_order);
both!(bad_row_refuses_the_whole_batch);
both!(other_store_sees_nothing);
both!(asset_page_shows_schedules_rules_and_readings);

const ASSETS: &str = "/api/v1/maintenance/assets";
const SCHEDULES: &str = "/api/v1/maintenance/pm-schedules";
const READINGS: &str = "/api/v1/maintenance/readings";
const RULES: &str = "/api/v1/maintenance/predictive-rules";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// An asset at `store` with the given meters (code, unit, value).
async fn asset(
    app: &TestApp,
    token: &str,
    store: &str,
    code: &str,
    meters: &[(&str, &str, i64)],
) -> String {
    let loc = app.store_id(store).await;
    let r = app
        .post_json(
            ASSETS,
            token,
            json!({"location_id": loc, "code": code, "name": code, "category": "fryer"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let a = id(&r.json());
    for (c, u, v) in meters {
        app.post_json(
            &format!("{ASSETS}/{a}/meters"),
            token,
            json!({"code": c, "unit": u, "last_value": v}),
            &[],
        )
        .await
        .assert_status(201);
    }
    a
}

async fn read(app: &TestApp, token: &str, readings: Value) -> Value {
    let r = app
        .post_json(READINGS, token, json!({ "readings": readings }), &[])
        .await;
    r.assert_status(201);
    r.json()
}

async fn run(app: &TestApp, token: &str) -> Value {
    let r = app.post_empty(&format!("{SCHEDULES}/run"), token).await;
    r.assert_status(200);
    r.json()
}

async fn calendar_schedule_generates_once(app: TestApp) {
    let admin = app.login_token("admin").await;
    let a = asset(&app, &admin, "S001", "PM-CAL-1", &[]).await;
    let start = boh_inventory::today_in("UTC") - jiff::Span::new().days(30);
    let body = json!({"asset_id": a, "title": "Weekly deep clean", "priority": "low",
        "trigger": "calendar", "interval_n": 1, "interval_unit": "week", "start_date": start.to_string(),
        "checklist": [{"label": "Drain oil", "required": true}, {"label": "Scrub vat", "required": true},
            {"label": "Check thermostat"}],
        "signature_required": true});
    let key = [("Idempotency-Key", "pm-cal-1")];
    let r = app.post_json(SCHEDULES, &admin, body.clone(), &key).await;
    r.assert_status(201);
    let s = r.json();
    assert_eq!(
        s["next_due_date"],
        (start + jiff::Span::new().days(7)).to_string()
    );
    assert_eq!(s["mode"], "fixed");
    // The same key answers the same schedule.
    let again = app.post_json(SCHEDULES, &admin, body, &key).await;
    again.assert_status(201);
    assert_eq!(id(&again.json()), id(&s));
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mnt_pm_schedules")
            .await,
        1
    );

    let audit_before = app.count("audit_log").await;
    let rep = run(&app, &admin).await;
    let generated = rep["generated"].as_array().unwrap();
    assert_eq!(generated.len(), 1, "{rep}");
    assert_eq!(generated[0]["reason"], "calendar");
    let wo = generated[0]["work_order_id"].as_str().unwrap().to_string();
    assert!(app.count("audit_log").await > audit_before);
    let row = |col: &str| format!("SELECT {col} FROM mnt_work_orders WHERE id = '{wo}'");
    assert_eq!(app.scalar_text(&row("source")).await, "pm");
    assert_eq!(app.scalar_text(&row("schedule_id")).await, id(&s));
    assert_eq!(app.scalar_text(&row("title")).await, "Weekly deep clean");
    assert_eq!(app.scalar_i64(&row("signature_required")).await, 1);
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM mnt_wo_checklist WHERE work_order_id = '{wo}' AND required = 1"
        ))
        .await,
        2
    );
    assert_eq!(
        app.scalar_text(&format!(
            "SELECT label FROM mnt_wo_checklist WHERE work_order_id = '{wo}' AND seq = 3"
        ))
        .await,
        "Check thermostat"
    );
    // The next due moved past today; running again generates nothing.
    let s = app
        .get(&format!("{SCHEDULES}/{}", id(&s)), &admin)
        .await
        .json();
    assert_eq!(s["open_work_order_id"], wo.as_str());
    let next: jiff::civil::Date = s["next_due_date"].as_str().unwrap().parse().unwrap();
    assert!(next > boh_inventory::today_in("UTC") - jiff::Span::new().days(1));
    let rep = run(&app, &admin).await;
    assert_eq!(rep["generated"], json!([]));
    let job = boh_maintenance::pm::run_due(&app.platform).await.unwrap();
    assert!(job.generated.is_empty());
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mnt_work_orders WHERE source = 'pm'")
            .await,
        1
    );

    // Deactivated: listed only with status=inactive.
    let r = app
        .patch_json(
            &format!("{SCHEDULES}/{}", id(&s)),
            &admin,
            json!({"active": false, "version": s["version"]}),
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["active"], false);
    let l = app.get(SCHEDULES, &admin).await.json();
    assert_eq!(l["page"]["total"], 0);
    let l = app
        .get(&format!("{SCHEDULES}?status=inactive"), &admin)
        .await
        .json();
    assert_eq!(l["page"]["total"], 1);

    // Bad input names every field.
    let r = app
        .post_json(
            SCHEDULES,
            &admin,
            json!({"asset_id": a, "title": "", "trigger": "meter", "meter_code": "nope",
                "interval_n": 3, "lead_days": 400, "checklist": [{"label": ""}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec![
            "title",
            "checklist[0].label",
            "interval_n",
            "meter_code",
            "meter_every",
            "lead_days"
        ]
    );
}

async fn meter_schedule_becomes_due_through_readings(app: TestApp) {
    let admin = app.login_token("admin").await;
    let a = asset(
        &app,
        &admin,
        "S001",
        "PM-MTR-1",
        &[("running_hours", "h", 1000)],
    )
    .await;
    let r = app
        .post_json(
            SCHEDULES,
            &admin,
            json!({"asset_id": a, "title": "Service every 500 h", "trigger": "meter",
                "meter_code": "running_hours", "meter_every": 500, "lead_units": 50}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s = r.json();
    assert_eq!(s["next_due_value"], 1500);
    assert_eq!(s["next_due_date"], Value::Null);

    // Not yet within the lead.
    let rep = read(
        &app,
        &admin,
        json!([{"asset_id": a, "meter": "running_hours", "value": 1400}]),
    )
    .await;
    assert_eq!(rep["stored"], 1);
    assert_eq!(rep["pm"]["generated"], json!([]));
    // 50 units before the due reading: generated.
    let rep = read(
        &app,
        &admin,
        json!([{"asset_id": a, "meter": "running_hours", "value": 1455}]),
    )
    .await;
    let g = rep["pm"]["generated"].as_array().unwrap();
    assert_eq!(g.len(), 1, "{rep}");
    assert_eq!(g[0]["reason"], "meter");
    assert_eq!(g[0]["schedule_id"], s["id"]);
    let s = app
        .get(&format!("{SCHEDULES}/{}", id(&s)), &admin)
        .await
        .json();
    assert_eq!(s["next_due_value"], 2000);
    // More readings while the work order is open generate nothing more.
    let rep = read(
        &app,
        &admin,
        json!([{"asset_id": a, "meter": "running_hours", "value": 1990}]),
    )
    .await;
    assert_eq!(rep["pm"]["generated"], json!([]));
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM mnt_work_orders WHERE schedule_id = '{}'",
            id(&s)
        ))
        .await,
        1
    );
    // The meter moved on; the readings are kept.
    let d = app.get(&format!("{ASSETS}/{a}"), &admin).await.json();
    assert_eq!(d["meters"][0]["last_value"], 1990);
    let r = app
        .get(&format!("{ASSETS}/{a}/readings"), &admin)
        .await
        .json();
    assert_eq!(r.as_array().unwrap().len(), 3);
    assert_eq!(r[0]["value"], 1990);
}

async fn threshold_rule_opens_a_predictive_work_order(app: TestApp) {
    let admin = app.login_token("admin").await;
    let a = asset(
        &app,
        &admin,
        "S001",
        "PRD-FRY-1",
        &[("oil_temp", "°C", 180)],
    )
    .await;
    let r = app
        .post_json(
            RULES,
            &admin,
            json!({"asset_id": a, "meter_code": "oil_temp", "kind": "threshold",
                "direction": "above", "limit_value": 190, "title": "Oil too hot"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let rule = r.json();
    let r = app
        .post_json(
            RULES,
            &admin,
            json!({"asset_id": a, "meter_code": "nope", "kind": "drift", "sample_n": 1}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["meter_code", "sample_n", "sigmas"]);

    let rep = read(
        &app,
        &admin,
        json!([{"asset_id": a, "meter": "oil_temp", "value": 185}]),
    )
    .await;
    assert_eq!(rep["fired"], json!([]));
    // A gauge may go down and up again; 195 is above the limit.
    let rep = read(
        &app,
        &admin,
        json!([{"asset_id": a, "meter": "oil_temp", "value": 170},
               {"asset_id": a, "meter": "oil_temp", "value": 195}]),
    )
    .await;
    let fired = rep["fired"].as_array().unwrap();
    assert_eq!(fired.len(), 1, "{rep}");
    assert_eq!(fired[0]["rule_id"], rule["id"]);
    assert_eq!(fired[0]["value"], 195);
    assert_eq!(fired[0]["detail"], "195 above 190");
    let wo = fired[0]["work_order_id"].as_str().unwrap().to_string();
    assert!(
        fired[0]["work_order_number"]
            .as_str()
            .unwrap()
            .starts_with("WO-")
    );
    let row = |col: &str| format!("SELECT {col} FROM mnt_work_orders WHERE id = '{wo}'");
    assert_eq!(app.scalar_text(&row("source")).await, "predictive");
    let title = app.scalar_text(&row("title")).await;
    assert!(
        title.contains("Oil too hot") && title.contains("195"),
        "{title}"
    );
    // Firing again while that work order is open opens nothing new.
    let rep = read(
        &app,
        &admin,
        json!([{"asset_id": a, "meter": "oil_temp", "value": 199}]),
    )
    .await;
    assert_eq!(rep["fired"][0]["work_order_id"], Value::Null);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mnt_work_orders WHERE source = 'predictive'")
            .await,
        1
    );
    let r = app
        .get(&format!("{RULES}/{}", id(&rule)), &admin)
        .await
        .json();
    assert_eq!(r["last_work_order_id"], wo.as_str());
    // Deleted, it fires no more.
    app.delete(&format!("{RULES}/{}", id(&rule)), &admin)
        .await
        .assert_status(204);
    let rep = read(
        &app,
        &admin,
        json!([{"asset_id": a, "meter": "oil_temp", "value": 250}]),
    )
    .await;
    assert_eq!(rep["fired"], json!([]));
}

async fn bad_row_refuses_the_whole_batch(app: TestApp) {
    let admin = app.login_token("admin").await;
    let a = asset(
        &app,
        &admin,
        "S001",
        "PRD-BAD-1",
        &[("running_hours", "h", 500)],
    )
    .await;
    let b = asset(
        &app,
        &admin,
        "S001",
        "PRD-BAD-2",
        &[("cycles", "cycles", 10)],
    )
    .await;
    let readings_before = app.count("mnt_meter_readings").await;
    let audit_before = app.count("audit_log").await;
    let last =
        |asset: String| format!("SELECT last_value FROM mnt_meters WHERE asset_id = '{asset}'");
    let r = app
        .post_json(
            READINGS,
            &admin,
            json!({"readings": [
                {"asset_id": a, "meter": "running_hours", "value": 510},
                {"asset_id": b, "meter": "cycles", "value": 12},
                {"asset_id": a, "meter": "running_hours", "value": 520},
                {"asset_id": b, "meter": "running_hours", "value": 1}
            ]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["readings[3].meter"]);
    assert!(
        r.text().contains("has no meter running_hours"),
        "{}",
        r.text()
    );
    assert_eq!(app.count("mnt_meter_readings").await, readings_before);
    assert_eq!(app.count("audit_log").await, audit_before);
    assert_eq!(app.scalar_i64(&last(a.clone())).await, 500);
    assert_eq!(app.scalar_i64(&last(b.clone())).await, 10);

    // Every bad row is named: unknown asset, backwards cumulative meter, bad instant, future.
    let r = app
        .post_json(
            READINGS,
            &admin,
            json!({"readings": [
                {"asset_id": a, "meter": "running_hours", "value": 499},
                {"asset_id": "0190aaaa-0000-7000-8000-000000000000", "meter": "x", "value": 1},
                {"asset_id": b, "meter": "cycles", "value": 11, "read_at": "yesterday"},
                {"asset_id": b, "meter": "cycles", "value": 11, "read_at": "2999-01-01T00:00:00Z"}
            ]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec![
            "readings[0].value",
            "readings[1].asset_id",
            "readings[2].read_at",
            "readings[3].read_at"
        ]
    );
    // A value that is not an integer is named by the JSON reader.
    let r = app
        .post_json(
            READINGS,
            &admin,
            json!({"readings": [{"asset_id": a, "meter": "running_hours", "value": 1.5}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["readings[0].value"]);
    assert_eq!(app.count("mnt_meter_readings").await, readings_before);
    assert_eq!(app.scalar_i64(&last(a)).await, 500);
}

async fn other_store_sees_nothing(app: TestApp) {
    let admin = app.login_token("admin").await;
    let a = asset(
        &app,
        &admin,
        "S002",
        "PM-S002-1",
        &[("running_hours", "h", 0)],
    )
    .await;
    let r = app
        .post_json(
            SCHEDULES,
            &admin,
            json!({"asset_id": a, "title": "Monthly", "trigger": "calendar",
                "interval_n": 1, "interval_unit": "month"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let s = id(&r.json());
    let m2 = app.login_token("manager.s002").await;
    app.get(&format!("{SCHEDULES}/{s}"), &m2)
        .await
        .assert_status(200);
    let m1 = app.login_token("manager.s001").await;
    app.get(&format!("{SCHEDULES}/{s}"), &m1)
        .await
        .assert_status(404);
    app.patch_json(&format!("{SCHEDULES}/{s}"), &m1, json!({"active": false}))
        .await
        .assert_status(404);
    let l = app.get(SCHEDULES, &m1).await.json();
    assert_eq!(l["page"]["total"], 0);
    // A store manager may read but not dispatch: no schedules of their own, no run.
    let own = asset(&app, &admin, "S001", "PM-S001-1", &[]).await;
    let r = app
        .post_json(
            SCHEDULES,
            &m1,
            json!({"asset_id": own, "title": "Mine", "trigger": "calendar",
                "interval_n": 1, "interval_unit": "day"}),
            &[],
        )
        .await;
    r.assert_status(403);
    app.post_empty(&format!("{SCHEDULES}/run"), &m1)
        .await
        .assert_status(403);
    // Readings of another store's asset are refused as if it did not exist.
    let r = app
        .post_json(
            READINGS,
            &m1,
            json!({"readings": [{"asset_id": a, "meter": "running_hours", "value": 5}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["readings[0].asset_id"]);
    assert!(r.text().contains("no such asset"));
    app.get(&format!("{ASSETS}/{a}/readings"), &m1)
        .await
        .assert_status(404);
}

/// The asset page lists the schedules, rules and readings and adds a schedule and a rule
/// through its forms (errors named per field), in English and in Chinese.
async fn asset_page_shows_schedules_rules_and_readings(app: TestApp) {
    let admin = app.login_token("admin").await;
    let a = asset(
        &app,
        &admin,
        "S001",
        "PM-PAGE-1",
        &[("running_hours", "h", 10)],
    )
    .await;
    read(
        &app,
        &admin,
        json!([{"asset_id": a, "meter": "running_hours", "value": 4321}]),
    )
    .await;
    let session = app.session("admin").await;
    let get = |path: String| {
        let app = &app;
        let session = session.clone();
        async move {
            app.request(hyper::Method::GET, &path)
                .cookie("boh_session", &session)
                .send()
                .await
        }
    };
    let post = |path: String, form: String| {
        let app = &app;
        let session = session.clone();
        async move {
            app.request(hyper::Method::POST, &path)
                .cookie("boh_session", &session)
                .header("origin", &app.base)
                .form(&form)
                .send()
                .await
        }
    };
    let page = format!("/maintenance/assets/{a}");
    let r = get(page.clone()).await;
    r.assert_status(200);
    let html = r.text();
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf token")
        .to_string();
    let r = post(
        "/lang".into(),
        format!("_csrf={csrf}&locale=en&back={page}"),
    )
    .await;
    assert_eq!(r.status, 303);
    let html = get(page.clone()).await.text();
    assert!(html.contains("No maintenance schedules."));
    assert!(html.contains("id=\"pm-form\"") && html.contains("id=\"rule-form\""));
    assert!(html.contains("id=\"asset-readings\"") && html.contains("4321"));

    let before = app.count("mnt_pm_schedules").await;
    let r = post(
        format!("{page}/pm-schedules"),
        format!("_csrf={csrf}&title=&trigger=calendar&mode=fixed&interval_n=x&interval_unit=week&priority=low"),
    )
    .await;
    r.assert_status(422);
    let html = r.text();
    assert!(html.contains("field-error") && html.contains("must be a whole number"));
    assert_eq!(app.count("mnt_pm_schedules").await, before);
    let r = post(
        format!("{page}/pm-schedules"),
        format!(
            "_csrf={csrf}&title=Descale&trigger=either&mode=floating&interval_n=3&interval_unit=month\
             &meter_code=running_hours&meter_every=1000&lead_days=7&lead_units=&start_date=&priority=high\
             &checklist=Drain%0AFlush&checklist_required=1"
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let r = post(
        format!("{page}/rules"),
        format!(
            "_csrf={csrf}&title=Too+fast&meter_code=running_hours&kind=rate&direction=above\
             &limit_value=30&window_days=7&sample_n=&sigmas="
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let html = get(page.clone()).await.text();
    assert!(html.contains("id=\"pm-schedules\"") && html.contains("Descale"));
    assert!(
        html.contains("Every 3 months / Every 1000 · running_hours"),
        "trigger words"
    );
    assert!(html.contains("id=\"predictive-rules\"") && html.contains("Too fast"));
    let s = app
        .get(&format!("{SCHEDULES}?asset_id={a}"), &admin)
        .await
        .json();
    assert_eq!(
        s["items"][0]["checklist"][1],
        json!({"label": "Flush", "required": true})
    );
    assert_eq!(s["items"][0]["next_due_value"], 5321);

    let r = post(
        "/lang".into(),
        format!("_csrf={csrf}&locale=zh-CN&back={page}"),
    )
    .await;
    assert_eq!(r.status, 303);
    let html = get(page).await.text();
    assert!(
        html.contains("预防性维护") && html.contains("预测性规则") && html.contains("最近读数")
    );
}
