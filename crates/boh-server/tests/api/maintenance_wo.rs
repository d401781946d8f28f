//! Work orders through the API and the public QR form: report → duplicate offer → dispatch
//! plan → assign → the technician's steps with a part issued from stock → rating; scoping (a
//! store user sees only their stores, a technician only the jobs assigned to them); bad
//! input named with nothing written; SLA targets in business minutes with pauses; a low
//! rating sends the job to review; the public form is throttled and checks photos.

use serde_json::{Value, json};

use crate::common::TestApp;

both!(work_order_life_cycle);
both!(store_and_technician_scoping);
both!(bad_input_is_named_and_nothing_is_written);
both!(public_form_tracks_rates_and_throttles);
both!(sla_pause_moves_the_due_time_and_low_rating_reviews);
both!(asset_files_are_checked_and_scoped);

const WOS: &str = "/api/v1/maintenance/work-orders";

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// A fryer at S001, a part (a heating element, 5 in stock at S001 at 80.00 each) and the
/// technician record of tech.chen (a contractor with the kitchen skill, on shift always).
struct Fixture {
    admin: String,
    fryer: Value,
    part: String,
    s001: String,
    tech: String,
}

async fn fixture(app: &TestApp) -> Fixture {
    let admin = app.login_token("admin").await;
    let s001 = app.store_id("S001").await;
    let r = app
        .post_json(
            "/api/v1/maintenance/assets",
            &admin,
            json!({"location_id": s001, "code": "S001-FRY-1", "name": "Fryer 1", "category": "fryer",
                   "model": "FPH355", "criticality": "high"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let fryer = r.json();
    let r = app
        .post_json(
            "/api/v1/items",
            &admin,
            json!({"code": "PART-HE", "name_en": "Heating element", "name_zh": "加热管",
                   "base_unit": "pcs", "kind": "part"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let part = id(&r.json());
    app.post_json(
        "/api/v1/stock/documents",
        &admin,
        json!({"location_id": s001, "kind": "opening", "lines": [
            {"item_id": part, "qty": "5", "unit_cost": "80"}]}),
        &[],
    )
    .await
    .assert_status(201);
    let r = app
        .post_json(
            "/api/v1/maintenance/technicians",
            &admin,
            json!({"code": "T-CHEN", "name": "Chen Qiang", "kind": "contractor", "username": "tech.chen",
                   "skills": ["kitchen", "Refrigeration"], "home_location_id": s001,
                   "shift_days": "1111111", "shift_start_min": 0, "shift_end_min": 1440,
                   "hourly_rate": 12000}),
            &[],
        )
        .await;
    r.assert_status(201);
    let t = r.json();
    assert_eq!(t["skills"], json!(["kitchen", "refrigeration"]));
    Fixture {
        admin,
        tech: id(&t),
        fryer,
        part,
        s001,
    }
}

async fn on_hand(app: &TestApp, token: &str, item: &str, loc: &str) -> String {
    let r = app
        .get(
            &format!("/api/v1/stock?item_id={item}&location_id={loc}&include_zero=true"),
            token,
        )
        .await;
    r.assert_status(200);
    r.json()["items"][0]["qty"]
        .as_str()
        .unwrap_or("0")
        .to_string()
}

async fn step(app: &TestApp, token: &str, wo: &str, body: Value) -> crate::common::Resp {
    app.post_json(&format!("{WOS}/{wo}/steps"), token, body, &[])
        .await
}

async fn work_order_life_cycle(app: TestApp) {
    let fx = fixture(&app).await;
    let m1 = app.login_token("manager.s001").await;
    let region = app.login_token("region.east").await;
    let tech = app.login_token("tech.chen").await;

    let r = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": id(&fx.fryer), "fault_code": "not_heating",
                   "description": "Oil stays cold at 80°C"}),
            &[("Idempotency-Key", "wo-1")],
        )
        .await;
    r.assert_status(201);
    let wo = r.json();
    assert_eq!(wo["status"], "open");
    assert_eq!(wo["number"], "WO-000001");
    assert_eq!(wo["priority"], "high", "a high-criticality asset's default");
    assert_eq!(wo["category"], "fryer");
    assert_eq!(wo["sla"]["state"], "on_track");
    assert_eq!(wo["sla"]["resolution_target_min"], 480);
    // The same key replays; nothing more is written.
    let again = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": id(&fx.fryer), "fault_code": "not_heating",
                   "description": "Oil stays cold at 80°C"}),
            &[("Idempotency-Key", "wo-1")],
        )
        .await;
    again.assert_status(201);
    assert_eq!(again.json()["id"], wo["id"]);
    assert_eq!(app.count("mnt_work_orders").await, 1);

    // The same fault again is offered as a duplicate; knowingly reported, it is linked.
    let r = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": id(&fx.fryer), "fault_code": "not_heating"}),
            &[],
        )
        .await;
    r.assert_status(409);
    assert_eq!(r.json()["error"]["code"], "possible_duplicate");
    assert!(r.text().contains("WO-000001"), "{}", r.text());
    let r = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": id(&fx.fryer), "fault_code": "not_heating", "not_duplicate": true}),
            &[],
        )
        .await;
    r.assert_status(201);
    let dup = r.json();
    assert_eq!(dup["duplicate_of"], wo["id"]);

    // The dispatcher's plan suggests the qualified technician and says why.
    let r = app.get("/api/v1/maintenance/dispatch/plan", &region).await;
    r.assert_status(200);
    let plan = r.json();
    let s = plan["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["work_order"]["id"] == wo["id"])
        .expect("the open work order is in the plan")
        .clone();
    assert_eq!(s["technician_id"], json!(fx.tech));
    assert!(s["why"].as_str().unwrap().contains("km away"), "{s}");
    assert!(plan["optimal_cost"].as_i64().unwrap() <= plan["greedy_cost"].as_i64().unwrap());
    // A stores manager may not dispatch.
    app.get("/api/v1/maintenance/dispatch/plan", &m1)
        .await
        .assert_status(403);
    // Applying a batch with one bad row assigns nothing.
    let r = app
        .post_json(
            "/api/v1/maintenance/dispatch",
            &region,
            json!({"rows": [{"work_order_id": id(&wo), "technician_id": fx.tech},
                            {"work_order_id": id(&dup), "technician_id": "nobody"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert!(r.text().contains("rows[1].technician_id"), "{}", r.text());
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mnt_work_orders WHERE status = 'assigned'")
            .await,
        0
    );
    let r = app
        .post_json(
            "/api/v1/maintenance/dispatch",
            &region,
            json!({"rows": [{"work_order_id": id(&wo), "technician_id": fx.tech, "note": s["why"]}]}),
            &[],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["items"][0]["status"], "assigned");

    // The technician's job list holds it; the steps follow the order of the work.
    let r = app.get(&format!("{WOS}?mine=true"), &tech).await;
    r.assert_status(200);
    assert_eq!(r.json()["page"]["total"], 1);
    step(&app, &tech, &id(&wo), json!({"action": "finish"}))
        .await
        .assert_status(409);
    let r = step(&app, &tech, &id(&wo), json!({"action": "accept"})).await;
    r.assert_status(200);
    assert!(r.json()["responded_at"].is_string());
    step(&app, &tech, &id(&wo), json!({"action": "start"}))
        .await
        .assert_status(200);

    // A part from the store's stock: the ledger moves, the cost follows; retried with the
    // same key it is issued once.
    let parts = format!("{WOS}/{}/parts", id(&wo));
    let r = app
        .post_json(
            &parts,
            &tech,
            json!({"item_code": "PART-HE", "qty": "1"}),
            &[("Idempotency-Key", "part-1")],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["value"], 8000);
    app.post_json(
        &parts,
        &tech,
        json!({"item_code": "PART-HE", "qty": "1"}),
        &[("Idempotency-Key", "part-1")],
    )
    .await
    .assert_status(201);
    assert_eq!(on_hand(&app, &fx.admin, &fx.part, &fx.s001).await, "4");

    // Finishing needs the cause and the remedy; refused, nothing changes.
    let r = step(&app, &tech, &id(&wo), json!({"action": "finish"})).await;
    r.assert_status(422);
    let t = r.text();
    assert!(t.contains("cause_code") && t.contains("remedy_code"), "{t}");
    let r = step(
        &app,
        &tech,
        &id(&wo),
        json!({"action": "finish", "cause_code": "wear", "remedy_code": "replaced_part",
               "note": "Replaced the heating element", "signed_by": "Zhang Wei"}),
    )
    .await;
    r.assert_status(200);
    let done = r.json();
    assert_eq!(done["status"], "done");
    assert_eq!(done["parts_cost"], 8000);
    assert!(done["labour_min"].as_i64().unwrap() >= 1);
    assert_eq!(done["sla"]["state"], "met");

    // The requester was told of the progress and rates the repair: closed.
    let m1_id = app.user_id("manager.s001").await;
    let told = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = '{m1_id}' AND kind = 'maintenance.status'"
        ))
        .await;
    assert!(told >= 3, "assigned, accepted, started, finished: {told}");
    let r = app
        .post_json(
            &format!("{WOS}/{}/rating", id(&wo)),
            &m1,
            json!({"rating": 5, "comment": "Fast"}),
            &[],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "closed");

    let r = app.get(&format!("{WOS}/{}", id(&wo)), &m1).await;
    r.assert_status(200);
    let d = r.json();
    let kinds: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "created", "assigned", "accepted", "started", "part", "finished", "rated"
        ]
    );
    assert_eq!(d["parts"].as_array().unwrap().len(), 1);
    assert_eq!(d["open_on_asset"][0]["id"], dup["id"]);
    crate::inventory::assert_ledger_consistent(&app).await;
}

async fn store_and_technician_scoping(app: TestApp) {
    let fx = fixture(&app).await;
    let m1 = app.login_token("manager.s001").await;
    let m2 = app.login_token("manager.s002").await;
    let tech = app.login_token("tech.chen").await;
    let r = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": id(&fx.fryer), "fault_code": "noise"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let wo = r.json();
    let path = format!("{WOS}/{}", id(&wo));
    // Another store's manager: not found, not listed, cannot report on the asset.
    app.get(&path, &m2).await.assert_status(404);
    let r = app.get(&format!("{WOS}?status=all"), &m2).await;
    assert_eq!(r.json()["page"]["total"], 0);
    let r = app
        .post_json(
            WOS,
            &m2,
            json!({"asset_id": id(&fx.fryer), "fault_code": "leaking"}),
            &[],
        )
        .await;
    r.assert_status(404);
    step(&app, &m2, &id(&wo), json!({"action": "accept"}))
        .await
        .assert_status(404);
    // The technician sees only what is assigned to them.
    app.get(&path, &tech).await.assert_status(404);
    assert_eq!(
        app.get(&format!("{WOS}?status=all"), &tech).await.json()["page"]["total"],
        0
    );
    app.post_json(
        &format!("{path}/assign"),
        &fx.admin,
        json!({"technician_id": fx.tech}),
        &[],
    )
    .await
    .assert_status(200);
    app.get(&path, &tech).await.assert_status(200);
    assert_eq!(
        app.get(&format!("{WOS}?status=all"), &tech).await.json()["page"]["total"],
        1
    );
    // A store manager cannot assign (a dispatcher's job) nor take the technician's steps.
    app.post_json(
        &format!("{path}/assign"),
        &m1,
        json!({"technician_id": fx.tech}),
        &[],
    )
    .await
    .assert_status(403);
    step(&app, &m1, &id(&wo), json!({"action": "accept"}))
        .await
        .assert_status(403);
}

fn multipart(fields: &[(&str, &str)], files: &[(&str, &str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "----bohtestboundary7MA4YWxk";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    for (k, name, data) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn png(len: usize) -> Vec<u8> {
    let mut d = b"\x89PNG\r\n\x1a\n".to_vec();
    d.resize(len, 7);
    d
}

async fn bad_input_is_named_and_nothing_is_written(app: TestApp) {
    let fx = fixture(&app).await;
    let m1 = app.login_token("manager.s001").await;
    let tech = app.login_token("tech.chen").await;
    let before = app.count("mnt_work_orders").await;
    let r = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": "019aa000-0000-7000-8000-000000000000", "fault_code": "noise"}),
            &[],
        )
        .await;
    r.assert_status(404);
    assert_eq!(r.json()["error"]["code"], "not_found");
    let r = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": id(&fx.fryer), "fault_code": "smoke", "priority": "asap",
                   "parts_needed": {"NO-SUCH": 1}}),
            &[],
        )
        .await;
    r.assert_status(422);
    let t = r.text();
    for f in ["fault_code", "priority", "parts_needed.NO-SUCH"] {
        assert!(t.contains(f), "{f} in {t}");
    }
    assert_eq!(app.count("mnt_work_orders").await, before);

    // Photos: an oversized one and a non-image are refused by name; nothing is attached.
    let r = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": id(&fx.fryer), "fault_code": "noise"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let wo = r.json();
    let big = png(5 * 1024 * 1024 + 1);
    let (ct, body) = multipart(
        &[],
        &[
            ("photos", "big.png", &big),
            ("photos", "evil.png", b"<svg onload=alert(1)>"),
        ],
    );
    let r = app
        .request(
            axum::http::Method::POST,
            &format!("{WOS}/{}/photos", id(&wo)),
        )
        .bearer(&m1)
        .bytes(&ct, body)
        .send()
        .await;
    r.assert_status(422);
    let t = r.text();
    assert!(t.contains("photos[0]") && t.contains("photos[1]"), "{t}");
    assert_eq!(app.count("mnt_wo_attachments").await, 0);
    let (ct, body) = multipart(&[], &[("photos", "ok.png", &png(2048))]);
    app.request(
        axum::http::Method::POST,
        &format!("{WOS}/{}/photos", id(&wo)),
    )
    .bearer(&m1)
    .bytes(&ct, body)
    .send()
    .await
    .assert_status(201);
    assert_eq!(app.count("mnt_wo_attachments").await, 1);

    // Parts: an unknown item, a negative quantity, more than in stock: refused, the ledger
    // unchanged.
    app.post_json(
        &format!("{WOS}/{}/assign", id(&wo)),
        &fx.admin,
        json!({"technician_id": fx.tech}),
        &[],
    )
    .await
    .assert_status(200);
    step(&app, &tech, &id(&wo), json!({"action": "start"}))
        .await
        .assert_status(200);
    let movements = app.count("inv_movements").await;
    let parts = format!("{WOS}/{}/parts", id(&wo));
    let r = app
        .post_json(&parts, &tech, json!({"item_code": "NOPE", "qty": "1"}), &[])
        .await;
    r.assert_status(422);
    assert!(r.text().contains("part.item_code"), "{}", r.text());
    let r = app
        .post_json(
            &parts,
            &tech,
            json!({"item_code": "PART-HE", "qty": "-2"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert!(r.text().contains("\"qty\""), "{}", r.text());
    let r = app
        .post_json(
            &parts,
            &tech,
            json!({"item_code": "PART-HE", "qty": "1", "location_id": app.store_id("S002").await}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert!(r.text().contains("location_id"), "{}", r.text());
    assert_eq!(app.count("inv_movements").await, movements);
    assert_eq!(app.count("mnt_wo_parts").await, 0);
    // A bad step input names its field.
    let r = step(
        &app,
        &tech,
        &id(&wo),
        json!({"action": "pause", "pause_reason": "lunch"}),
    )
    .await;
    r.assert_status(422);
    assert!(r.text().contains("pause_reason"), "{}", r.text());
    let r = step(
        &app,
        &tech,
        &id(&wo),
        json!({"action": "finish", "cause_code": "wear", "remedy_code": "repaired",
               "signature_png": "data:image/png;base64,R0lGODlh"}),
    )
    .await;
    r.assert_status(422);
    assert!(r.text().contains("signature_png"), "{}", r.text());
    assert_eq!(
        app.get(&format!("{WOS}/{}", id(&wo)), &tech).await.json()["status"],
        "in_progress"
    );
}

async fn public_form_tracks_rates_and_throttles(app: TestApp) {
    let fx = fixture(&app).await;
    let token = fx.fryer["qr_token"].as_str().unwrap().to_string();
    let form = app
        .request(axum::http::Method::GET, &format!("/q/{token}"))
        .send()
        .await;
    form.assert_status(200);
    assert!(
        form.text().contains("S001-FRY-1"),
        "the form names the asset"
    );
    app.request(
        axum::http::Method::GET,
        "/q/0123456789abcdef0123456789abcdef",
    )
    .send()
    .await
    .assert_status(404);

    // A bad photo and a missing name: the form again with the errors, nothing written.
    let (ct, body) = multipart(
        &[("_csrf", ""), ("name", ""), ("fault_code", "not_heating")],
        &[("photos", "x.png", b"GIF89a....")],
    );
    let r = app
        .request(axum::http::Method::POST, &format!("/q/{token}"))
        .bytes(&ct, body)
        .send()
        .await;
    r.assert_status(422);
    assert!(r.text().contains("field-error"), "{}", r.text());
    assert_eq!(app.count("mnt_work_orders").await, 0);

    let (ct, body) = multipart(
        &[
            ("_csrf", ""),
            ("name", "Xiao Li"),
            ("contact", "138 0000 0000"),
            ("fault_code", "not_heating"),
            ("description", "冷油，不加热"),
        ],
        &[("photos", "fryer.png", &png(4096))],
    );
    let r = app
        .request(axum::http::Method::POST, &format!("/q/{token}"))
        .bytes(&ct, body.clone())
        .send()
        .await;
    r.assert_status(303);
    let to = r.header("location").unwrap();
    assert!(to.starts_with("/q/t/"), "{to}");
    let tracking = to
        .trim_start_matches("/q/t/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let wo_id = app
        .scalar_text("SELECT id FROM mnt_work_orders WHERE source = 'qr'")
        .await;
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mnt_wo_attachments WHERE kind = 'photo'")
            .await,
        1,
        "the photo followed the request into the work order"
    );
    let page = app
        .request(axum::http::Method::GET, &format!("/q/t/{tracking}"))
        .send()
        .await;
    page.assert_status(200);
    assert!(page.text().contains("WO-000001"));

    // The same fault again is offered as a duplicate (409 with the open one named).
    let r = app
        .request(axum::http::Method::POST, &format!("/q/{token}"))
        .bytes(&ct, body.clone())
        .send()
        .await;
    r.assert_status(409);
    assert!(r.text().contains("WO-000001"), "{}", r.text());
    assert_eq!(app.count("mnt_work_orders").await, 1);

    // Done: the requester rates on the tracking page; a low rating sends it to review.
    app.post_json(
        &format!("{WOS}/{wo_id}/assign"),
        &fx.admin,
        json!({"technician_id": fx.tech}),
        &[],
    )
    .await
    .assert_status(200);
    let tech = app.login_token("tech.chen").await;
    step(&app, &tech, &wo_id, json!({"action": "start"}))
        .await
        .assert_status(200);
    step(
        &app,
        &tech,
        &wo_id,
        json!({"action": "finish", "cause_code": "power", "remedy_code": "reset"}),
    )
    .await
    .assert_status(200);
    let r = app
        .request(axum::http::Method::POST, &format!("/q/t/{tracking}/rate"))
        .form("rating=1&comment=Still+cold")
        .send()
        .await;
    r.assert_status(303);
    assert_eq!(
        app.scalar_text(&format!(
            "SELECT status FROM mnt_work_orders WHERE id = '{wo_id}'"
        ))
        .await,
        "review"
    );
    // Rating twice is refused.
    app.request(axum::http::Method::POST, &format!("/q/t/{tracking}/rate"))
        .form("rating=5")
        .send()
        .await
        .assert_status(409);

    // Throttled per address: 10 requests an hour from one address, then 429.
    let from = app.http_from("127.0.0.9");
    let mut last = 0;
    for i in 0..11 {
        let (ct, body) = multipart(
            &[
                ("_csrf", ""),
                ("name", "N"),
                ("fault_code", "other"),
                ("not_duplicate", "1"),
            ],
            &[],
        );
        last = from
            .request(axum::http::Method::POST, &format!("/q/{token}"))
            .bytes(&ct, body)
            .send()
            .await
            .status;
        if i < 10 {
            assert_eq!(last, 303, "request {i}");
        }
    }
    assert_eq!(last, 429);
}

async fn sla_pause_moves_the_due_time_and_low_rating_reviews(app: TestApp) {
    let fx = fixture(&app).await;
    let m1 = app.login_token("manager.s001").await;
    let tech = app.login_token("tech.chen").await;
    // Bad policy: every field named.
    let r = app
        .request(axum::http::Method::PUT, "/api/v1/maintenance/sla-policies")
        .bearer(&fx.admin)
        .json(
            &json!({"priority": "soon", "response_min": 0, "resolution_min": 0,
                      "days": "1111111", "open_min": 600, "close_min": 500}),
        )
        .send()
        .await;
    r.assert_status(422);
    let t = r.text();
    for f in ["priority", "response_min", "resolution_min", "days"] {
        assert!(t.contains(f), "{f} in {t}");
    }
    app.request(axum::http::Method::PUT, "/api/v1/maintenance/sla-policies")
        .bearer(&fx.admin)
        .json(
            &json!({"priority": "medium", "category": "fryer", "response_min": 30,
                      "resolution_min": 120, "days": "1111111", "open_min": 0, "close_min": 1440}),
        )
        .send()
        .await
        .assert_status(200);
    let r = app
        .post_json(
            WOS,
            &m1,
            json!({"asset_id": id(&fx.fryer), "fault_code": "noise", "priority": "medium"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let wo = r.json();
    assert_eq!(wo["sla"]["resolution_target_min"], 120);
    let created = app
        .scalar_i64(&format!(
            "SELECT resolution_due_at - created_at FROM mnt_work_orders WHERE id = '{}'",
            id(&wo)
        ))
        .await;
    assert_eq!(created, 120 * 60_000_000);

    app.post_json(
        &format!("{WOS}/{}/assign", id(&wo)),
        &fx.admin,
        json!({"technician_id": fx.tech}),
        &[],
    )
    .await
    .assert_status(200);
    step(&app, &tech, &id(&wo), json!({"action": "start"}))
        .await
        .assert_status(200);
    let r = step(
        &app,
        &tech,
        &id(&wo),
        json!({"action": "pause", "pause_reason": "waiting_parts"}),
    )
    .await;
    r.assert_status(200);
    assert_eq!(r.json()["sla"]["state"], "paused");
    // Two minutes of waiting, as if they had passed.
    app.exec(&format!(
        "UPDATE mnt_work_orders SET paused_at = paused_at - 120000000 WHERE id = '{}'",
        id(&wo)
    ))
    .await;
    let r = step(&app, &tech, &id(&wo), json!({"action": "resume"})).await;
    r.assert_status(200);
    assert_eq!(r.json()["sla"]["paused_min"], 2);
    let moved = app
        .scalar_i64(&format!(
            "SELECT resolution_due_at - created_at FROM mnt_work_orders WHERE id = '{}'",
            id(&wo)
        ))
        .await;
    assert_eq!(moved, 122 * 60_000_000);

    // The SLA watch warns once when little time is left, and escalates a breach once.
    app.exec(&format!(
        "UPDATE mnt_work_orders SET resolution_due_at = {} WHERE id = '{}'",
        boh_kernel::now().micros() + 10 * 60_000_000,
        id(&wo)
    ))
    .await;
    let s = boh_maintenance::workorder::sla_scan(&app.platform)
        .await
        .unwrap();
    assert_eq!((s.warned, s.escalated), (1, 0));
    app.exec(&format!(
        "UPDATE mnt_work_orders SET resolution_due_at = {} WHERE id = '{}'",
        boh_kernel::now().micros() - 60_000_000,
        id(&wo)
    ))
    .await;
    let s = boh_maintenance::workorder::sla_scan(&app.platform)
        .await
        .unwrap();
    assert_eq!((s.warned, s.escalated), (0, 1));
    let s = boh_maintenance::workorder::sla_scan(&app.platform)
        .await
        .unwrap();
    assert_eq!((s.warned, s.escalated), (0, 0));
    let tech_id = app.user_id("tech.chen").await;
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = '{tech_id}' AND kind LIKE 'maintenance.sla%'"
        ))
        .await,
        2
    );

    step(
        &app,
        &tech,
        &id(&wo),
        json!({"action": "finish", "cause_code": "wear", "remedy_code": "adjusted"}),
    )
    .await
    .assert_status(200);
    let r = app
        .post_json(
            &format!("{WOS}/{}/rating", id(&wo)),
            &m1,
            json!({"rating": 2, "comment": "Noise is back"}),
            &[],
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "review");
    let region = app.user_id("region.east").await;
    assert_eq!(
        app.scalar_i64(&format!(
            "SELECT COUNT(*) FROM notifications WHERE user_id = '{region}' AND kind = 'maintenance.review'"
        ))
        .await,
        1
    );
    // In review it can be dispatched again.
    let r = app
        .get("/api/v1/maintenance/dispatch/plan", &fx.admin)
        .await;
    assert!(
        r.json()["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["work_order"]["id"] == wo["id"])
    );
}

async fn asset_files_are_checked_and_scoped(app: TestApp) {
    let fx = fixture(&app).await;
    let m2 = app.login_token("manager.s002").await;
    let files = format!("/api/v1/maintenance/assets/{}/files", id(&fx.fryer));
    let upload = |token: String, parts: Vec<(&'static str, &'static str, Vec<u8>)>| {
        let app = &app;
        let files = files.clone();
        async move {
            let refs: Vec<(&str, &str, &[u8])> = parts
                .iter()
                .map(|(a, b, c)| (*a, *b, c.as_slice()))
                .collect();
            let (ct, body) = multipart(&[], &refs);
            app.request(axum::http::Method::POST, &files)
                .bearer(&token)
                .bytes(&ct, body)
                .send()
                .await
        }
    };
    // A program named like a PDF is refused by its content; nothing is written.
    let r = upload(
        fx.admin.clone(),
        vec![
            ("files", "manual.pdf", b"%PDF-1.4 manual".to_vec()),
            ("files", "manual2.pdf", b"MZ\x90\0 not a pdf".to_vec()),
        ],
    )
    .await;
    r.assert_status(422);
    assert!(r.text().contains("files[1]"), "{}", r.text());
    assert_eq!(app.count("mnt_asset_files").await, 0);
    let r = upload(
        fx.admin.clone(),
        vec![
            ("files", "manual.pdf", b"%PDF-1.4 manual".to_vec()),
            ("files", "nameplate.png", png(512)),
        ],
    )
    .await;
    r.assert_status(201);
    let items = r.json()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "document");
    assert_eq!(items[1]["kind"], "photo");
    let one = format!("{files}/{}", items[0]["id"].as_str().unwrap());
    let r = app.get(&one, &fx.admin).await;
    r.assert_status(200);
    assert_eq!(r.header("content-type").as_deref(), Some("application/pdf"));
    // Another store's manager neither sees nor adds.
    app.get(&files, &m2).await.assert_status(404);
    app.get(&one, &m2).await.assert_status(404);
    upload(m2.clone(), vec![("files", "x.png", png(64))])
        .await
        .assert_status(404);
    app.delete(&one, &m2).await.assert_status(404);
    app.delete(&one, &fx.admin).await.assert_status(204);
    assert_eq!(app.count("mnt_asset_files").await, 1);
}
