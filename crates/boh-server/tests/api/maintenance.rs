//! The asset registry through the API: create, list, detail, change and retire an asset with
//! its hierarchy and meters; store managers see and change only their own store's assets;
//! every bad field is named with nothing written; the QR label is an SVG; creates are
//! idempotent.

use serde_json::{Value, json};

use crate::common::TestApp;

both!(asset_round_trip);
both!(store_manager_sees_only_own_store);
both!(bad_input_is_named_and_nothing_is_written);
both!(label_is_an_svg_with_the_qr_code);
both!(create_is_idempotent);

const ASSETS: &str = "/api/v1/maintenance/assets";

async fn create(app: &TestApp, token: &str, body: Value) -> Value {
    let r = app.post_json(ASSETS, token, body, &[]).await;
    r.assert_status(201);
    r.json()
}

fn id(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

/// `boh check`'s maintenance checker passes.
async fn assert_hierarchy_consistent(app: &TestApp) {
    let reports = boh_server::check_registry().run(&app.platform).await;
    let r = reports
        .iter()
        .find(|r| r.name == "maintenance.assets")
        .expect("the maintenance checker is registered");
    assert!(r.ok, "{}", r.detail);
}

async fn asset_round_trip(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s001 = app.store_id("S001").await;
    let audit_before = app.count("audit_log").await;

    let line = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "S001-LINE", "name": "Fry line", "category": "other"}),
    )
    .await;
    assert_eq!(line["depth"], 1);
    assert_eq!(line["criticality"], "medium");
    assert_eq!(line["status"], "active");
    assert_eq!(line["location_code"], "S001");
    let token = line["qr_token"].as_str().unwrap();
    assert_eq!(token.len(), 32);
    assert!(uuid::Uuid::parse_str(&id(&line)).unwrap().get_version_num() == 7);

    let fryer = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "S001-FRY-1", "name": "Fryer 1", "category": "fryer",
               "make": "Frymaster", "model": "FPH355", "serial": "FM-778812",
               "install_date": "2024-03-01", "warranty_end": "2099-02-28",
               "criticality": "critical", "parent_id": id(&line)}),
    )
    .await;
    assert_eq!(fryer["depth"], 2);
    assert_ne!(fryer["qr_token"], line["qr_token"]);
    let element = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "S001-FRY-1-HE", "name": "Heating element",
               "category": "other", "install_date": "2020-01-01", "warranty_end": "2021-01-01",
               "parent_id": id(&fryer)}),
    )
    .await;
    assert_eq!(element["depth"], 3);

    // Meters: exact integers, unique code per asset.
    let meters = format!("{ASSETS}/{}/meters", id(&fryer));
    let r = app
        .post_json(
            &meters,
            &admin,
            json!({"code": "running_hours", "unit": "h", "last_value": 6120}),
            &[],
        )
        .await;
    r.assert_status(201);
    let hours = r.json();
    assert_eq!(hours["last_value"], 6120);
    app.post_json(
        &meters,
        &admin,
        json!({"code": "cycles", "unit": "cycles"}),
        &[],
    )
    .await
    .assert_status(201);
    let r = app
        .post_json(&meters, &admin, json!({"code": "cycles", "unit": "x"}), &[])
        .await;
    r.assert_status(409);
    assert_eq!(r.error_fields(), vec!["code"]);
    let r = app
        .post_json(
            &meters,
            &admin,
            json!({"code": "Bad Code", "unit": "", "last_value": -1}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["code", "unit", "last_value"]);

    // Detail: hierarchy, meters, warranty state.
    let d = app
        .get(&format!("{ASSETS}/{}", id(&fryer)), &admin)
        .await
        .json();
    assert_eq!(d["code"], "S001-FRY-1");
    assert_eq!(d["warranty"], "in_warranty");
    assert_eq!(d["ancestors"][0]["code"], "S001-LINE");
    assert_eq!(d["children"][0]["code"], "S001-FRY-1-HE");
    let codes: Vec<&str> = d["meters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["cycles", "running_hours"]);
    let e = app
        .get(&format!("{ASSETS}/{}", id(&element)), &admin)
        .await
        .json();
    assert_eq!(e["warranty"], "expired");
    assert_eq!(e["ancestors"].as_array().unwrap().len(), 2);
    let l = app
        .get(&format!("{ASSETS}/{}", id(&line)), &admin)
        .await
        .json();
    assert_eq!(l["warranty"], "none");

    // Remove a meter.
    let r = app
        .delete(&format!("{meters}/{}", id(&hours)), &admin)
        .await;
    r.assert_status(204);
    let d = app
        .get(&format!("{ASSETS}/{}", id(&fryer)), &admin)
        .await
        .json();
    assert_eq!(d["meters"].as_array().unwrap().len(), 1);

    // List: filters by site, category, text (code, name, model, serial).
    let list = |q: &str| format!("{ASSETS}?{q}");
    let r = app.get(&list(&format!("location_id={s001}")), &admin).await;
    r.assert_status(200);
    assert_eq!(r.json()["page"]["total"], 3);
    assert_eq!(r.json()["items"][0]["code"], "S001-FRY-1");
    let r = app.get(&list("category=fryer"), &admin).await.json();
    assert_eq!(r["page"]["total"], 1);
    for q in ["fph355", "FM-7788", "heating", "s001-line"] {
        let r = app.get(&list(&format!("q={q}")), &admin).await.json();
        assert_eq!(r["page"]["total"], 1, "search {q}");
    }
    let r = app.get(&list("limit=2&offset=2"), &admin).await.json();
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(r["page"]["limit"], 2);
    let r = app.get(&list("category=toaster"), &admin).await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["category"]);

    // Update: absent fields kept, empty optional fields cleared, lost updates refused.
    let url = format!("{ASSETS}/{}", id(&fryer));
    let r = app
        .patch_json(
            &url,
            &admin,
            json!({"version": 1, "name": "Fryer 1 (left)", "serial": "", "criticality": "high"}),
        )
        .await;
    r.assert_status(200);
    let u = r.json();
    assert_eq!(u["name"], "Fryer 1 (left)");
    assert_eq!(u["serial"], Value::Null);
    assert_eq!(u["model"], "FPH355");
    assert_eq!(u["criticality"], "high");
    assert_eq!(u["version"], 2);
    assert_eq!(u["qr_token"], fryer["qr_token"]);
    let r = app
        .patch_json(&url, &admin, json!({"version": 1, "name": "Stale"}))
        .await;
    r.assert_status(409);
    assert_eq!(r.error_fields(), vec!["version"]);

    // Moving a subtree up moves its depths with it.
    app.patch_json(&url, &admin, json!({"parent_id": ""}))
        .await
        .assert_status(200);
    let e = app
        .get(&format!("{ASSETS}/{}", id(&element)), &admin)
        .await
        .json();
    assert_eq!(e["depth"], 2);
    assert_hierarchy_consistent(&app).await;

    // Retire: sub-assets first; retired assets leave the default list.
    let r = app.post_empty(&format!("{url}/retire"), &admin).await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "active_sub_assets");
    app.post_empty(&format!("{ASSETS}/{}/retire", id(&element)), &admin)
        .await
        .assert_status(200);
    let r = app.post_empty(&format!("{url}/retire"), &admin).await;
    r.assert_status(200);
    assert_eq!(r.json()["status"], "retired");
    let r = app.post_empty(&format!("{url}/retire"), &admin).await;
    r.assert_status(409);
    assert_eq!(r.error_code(), "invalid_state");
    let r = app
        .get(&list(&format!("location_id={s001}")), &admin)
        .await
        .json();
    assert_eq!(r["page"]["total"], 1);
    let r = app
        .get(&list(&format!("location_id={s001}&status=retired")), &admin)
        .await
        .json();
    assert_eq!(r["page"]["total"], 2);
    let r = app
        .get(&list(&format!("location_id={s001}&status=all")), &admin)
        .await
        .json();
    assert_eq!(r["page"]["total"], 3);
    assert_hierarchy_consistent(&app).await;
    // A retired asset below a retired one can still be corrected.
    let r = app
        .patch_json(
            &format!("{ASSETS}/{}", id(&element)),
            &admin,
            json!({"note": "kept as a spare"}),
        )
        .await;
    r.assert_status(200);
    // A retired asset is no parent.
    let r = app
        .post_json(
            ASSETS,
            &admin,
            json!({"location_id": s001, "code": "S001-X", "name": "X", "category": "other",
                   "parent_id": id(&fryer)}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["parent_id"]);

    // Every write left its audit row: 3 creates, 2 meters added, 1 removed, 3 updates,
    // 2 retirements.
    assert_eq!(app.count("audit_log").await, audit_before + 11);
    let actions = app
        .scalar_i64(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE entity_id = '{}' AND action LIKE 'maintenance.asset.%'",
            id(&fryer)
        ))
        .await;
    assert_eq!(actions, 4);
}

async fn store_manager_sees_only_own_store(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let s001 = app.store_id("S001").await;
    let s002 = app.store_id("S002").await;

    let own = create(
        &app,
        &m1,
        json!({"location_id": s001, "code": "S001-OVEN", "name": "Oven", "category": "oven"}),
    )
    .await;
    let other = create(
        &app,
        &admin,
        json!({"location_id": s002, "code": "S002-OVEN", "name": "Oven", "category": "oven"}),
    )
    .await;
    app.post_json(
        &format!("{ASSETS}/{}/meters", id(&other)),
        &admin,
        json!({"code": "cycles", "unit": "cycles"}),
        &[],
    )
    .await
    .assert_status(201);
    let other_meter = app
        .scalar_text(&format!(
            "SELECT id FROM mnt_meters WHERE asset_id = '{}'",
            id(&other)
        ))
        .await;

    // The list holds S001's assets only, whatever the filter says.
    let r = app.get(ASSETS, &m1).await.json();
    assert_eq!(r["page"]["total"], 1);
    assert_eq!(r["items"][0]["code"], "S001-OVEN");
    let r = app
        .get(&format!("{ASSETS}?location_id={s002}"), &m1)
        .await
        .json();
    assert_eq!(r["page"]["total"], 0);
    let r = app.get(ASSETS, &admin).await.json();
    assert_eq!(r["page"]["total"], 2);

    // Another store's asset does not exist for them.
    let before = app.count("mnt_assets").await;
    let meters_before = app.count("mnt_meters").await;
    let url = format!("{ASSETS}/{}", id(&other));
    for r in [
        app.get(&url, &m1).await,
        app.get(&format!("{url}/label.svg"), &m1).await,
        app.patch_json(&url, &m1, json!({"name": "Mine now"})).await,
        app.post_empty(&format!("{url}/retire"), &m1).await,
        app.post_json(
            &format!("{url}/meters"),
            &m1,
            json!({"code": "hours", "unit": "h"}),
            &[],
        )
        .await,
        app.delete(&format!("{url}/meters/{other_meter}"), &m1)
            .await,
        // Nor can they register one there, or move theirs there.
        app.post_json(
            ASSETS,
            &m1,
            json!({"location_id": s002, "code": "S002-NEW", "name": "Fridge", "category": "fridge"}),
            &[],
        )
        .await,
        app.patch_json(
            &format!("{ASSETS}/{}", id(&own)),
            &m1,
            json!({"location_id": s002}),
        )
        .await,
    ] {
        r.assert_status(404);
        assert_eq!(r.error_code(), "not_found");
    }
    // Their own asset cannot hang below another store's either.
    let r = app
        .patch_json(
            &format!("{ASSETS}/{}", id(&own)),
            &m1,
            json!({"parent_id": id(&other)}),
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["parent_id"]);
    assert_eq!(app.count("mnt_assets").await, before);
    assert_eq!(app.count("mnt_meters").await, meters_before);
    let o = app.get(&url, &admin).await.json();
    assert_eq!(o["name"], "Oven");
    assert_eq!(o["status"], "active");

    // The technician of the region reads assets but does not register them.
    let tech = app.login_token("tech.chen").await;
    app.get(&format!("{ASSETS}/{}", id(&own)), &tech)
        .await
        .assert_status(200);
    let r = app
        .post_json(
            ASSETS,
            &tech,
            json!({"location_id": s001, "code": "S001-T", "name": "T", "category": "other"}),
            &[],
        )
        .await;
    r.assert_status(403);
}

async fn bad_input_is_named_and_nothing_is_written(app: TestApp) {
    let admin = app.login_token("admin").await;
    let r = app
        .post_json(
            "/api/v1/suppliers",
            &admin,
            json!({"code": "SVC", "name_en": "Kitchen Service Co"}),
            &[],
        )
        .await;
    r.assert_status(201);
    let sup = r.json()["id"].as_str().unwrap().to_string();
    let s001 = app.store_id("S001").await;
    let s002 = app.store_id("S002").await;
    let a = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "A1", "name": "Line", "category": "other"}),
    )
    .await;
    let b = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "A2", "name": "Fryer", "category": "fryer", "parent_id": id(&a)}),
    )
    .await;
    let c = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "A3", "name": "Element", "category": "other", "parent_id": id(&b)}),
    )
    .await;
    let d = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "A4", "name": "Part", "category": "other", "parent_id": id(&c)}),
    )
    .await;
    assert_eq!(d["depth"], 4);
    let at_s002 = create(
        &app,
        &admin,
        json!({"location_id": s002, "code": "B1", "name": "Oven", "category": "oven"}),
    )
    .await;
    let before = app.count("mnt_assets").await;
    let audit = app.count("audit_log").await;

    // Every problem of one request at once.
    let r = app
        .post_json(
            ASSETS,
            &admin,
            json!({"location_id": s001, "code": "A1", "name": " ", "category": "toaster",
                   "install_date": "2025-05-01", "warranty_end": "2025-04-30",
                   "supplier_id": uuid::Uuid::now_v7().to_string(), "criticality": "urgent"}),
            &[],
        )
        .await;
    r.assert_status(422);
    let fields = r.error_fields();
    for f in [
        "code",
        "name",
        "category",
        "warranty_end",
        "supplier_id",
        "criticality",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
    }
    let bad = |body: Value| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let r = app.post_json(ASSETS, &admin, body, &[]).await;
            r.assert_status(422);
            r.error_fields()
        }
    };
    // A parent at another location; below the fourth level; a date that is no date.
    assert_eq!(
        bad(json!({"location_id": s001, "code": "N1", "name": "N", "category": "other", "parent_id": id(&at_s002)})).await,
        vec!["parent_id"]
    );
    assert_eq!(
        bad(json!({"location_id": s001, "code": "N1", "name": "N", "category": "other", "parent_id": id(&d)})).await,
        vec!["parent_id"]
    );
    assert_eq!(
        bad(json!({"location_id": s001, "code": "N1", "name": "N", "category": "other", "install_date": "2025-13-01"})).await,
        vec!["install_date"]
    );
    // A supplier id that is not one of the company's.
    assert_eq!(
        bad(json!({"location_id": s001, "code": "N1", "name": "N", "category": "other", "supplier_id": id(&a)})).await,
        vec!["supplier_id"]
    );
    // A node that is not a site.
    let region = app.node_id("R-EAST").await;
    assert_eq!(
        bad(json!({"location_id": region, "code": "N1", "name": "N", "category": "other"})).await,
        vec!["location_id"]
    );

    // Cycles, on update: the asset itself or one of its descendants as parent.
    for parent in [id(&a), id(&c), id(&d)] {
        let r = app
            .patch_json(
                &format!("{ASSETS}/{}", id(&a)),
                &admin,
                json!({"parent_id": parent}),
            )
            .await;
        r.assert_status(422);
        assert_eq!(r.error_fields(), vec!["parent_id"]);
    }
    // Moving a subtree under an asset where it would be too deep.
    let r = app
        .patch_json(
            &format!("{ASSETS}/{}", id(&c)),
            &admin,
            json!({"parent_id": id(&d)}),
        )
        .await;
    r.assert_status(422);
    // A move of an asset with sub-assets to another site.
    let r = app
        .patch_json(
            &format!("{ASSETS}/{}", id(&b)),
            &admin,
            json!({"location_id": s002, "parent_id": ""}),
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["location_id"]);
    // A duplicate code on update.
    let r = app
        .patch_json(
            &format!("{ASSETS}/{}", id(&b)),
            &admin,
            json!({"code": "B1"}),
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["code"]);
    // Unknown fields are refused by name.
    let r = app
        .post_json(
            ASSETS,
            &admin,
            json!({"location_id": s001, "code": "N1", "name": "N", "category": "other", "colour": "red"}),
            &[],
        )
        .await;
    r.assert_status(422);

    assert_eq!(app.count("mnt_assets").await, before);
    assert_eq!(app.count("audit_log").await, audit);
    let got = app
        .get(&format!("{ASSETS}/{}", id(&a)), &admin)
        .await
        .json();
    assert_eq!(got["version"], 1);
    assert_eq!(got["parent_id"], Value::Null);

    // And the good cases of the same references go through.
    let ok = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "N1", "name": "N", "category": "dishwasher",
               "supplier_id": sup, "install_date": "2025-05-01", "warranty_end": "2025-05-01"}),
    )
    .await;
    assert_eq!(ok["supplier_id"], sup.as_str());
    assert_hierarchy_consistent(&app).await;
}

async fn label_is_an_svg_with_the_qr_code(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s001 = app.store_id("S001").await;
    let a = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "S001-POS-1", "name": "POS <front> & co", "category": "pos_terminal"}),
    )
    .await;
    let r = app
        .get(&format!("{ASSETS}/{}/label.svg", id(&a)), &admin)
        .await;
    r.assert_status(200);
    assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
    let svg = r.text();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let token = a["qr_token"].as_str().unwrap();
    let url = format!("http://{}/q/{token}", app.addr);
    assert!(
        svg.contains(&format!("data-url=\"{url}\"")),
        "label encodes {url}: {svg}"
    );
    // The QR matrix: many unit squares, the top-left finder pattern at the quiet zone.
    assert!(svg.matches("h1v1h-1z").count() > 200);
    assert!(svg.contains("M4 4h1v1h-1z"));
    assert!(svg.contains("S001-POS-1"));
    assert!(svg.contains("POS &lt;front&gt; &amp; co"));
    assert!(svg.contains("S001"));
    assert!(!svg.contains("<front>"));
    // The page route serves the same label to a signed-in browser.
    let cookie = app.session("admin").await;
    let r = app
        .request(
            hyper::Method::GET,
            &format!("/maintenance/assets/{}/label.svg", id(&a)),
        )
        .cookie("boh_session", &cookie)
        .send()
        .await;
    r.assert_status(200);
    assert_eq!(r.header("content-type").as_deref(), Some("image/svg+xml"));
}

async fn create_is_idempotent(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s001 = app.store_id("S001").await;
    let body = json!({"location_id": s001, "code": "S001-AC-1", "name": "AC", "category": "air_conditioning"});
    let before = app.count("mnt_assets").await;
    let key = [("Idempotency-Key", "asset-ac-1")];
    let first = app.post_json(ASSETS, &admin, body.clone(), &key).await;
    first.assert_status(201);
    let again = app.post_json(ASSETS, &admin, body.clone(), &key).await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(first.json(), again.json());
    assert_eq!(app.count("mnt_assets").await, before + 1);
    // The same key with another body is refused.
    let mut other = body.clone();
    other["code"] = json!("S001-AC-2");
    let r = app.post_json(ASSETS, &admin, other, &key).await;
    r.assert_status(422);
    assert_eq!(r.error_code(), "idempotency_key_reused");
    // Without a key, the same body again is a duplicate code.
    let r = app.post_json(ASSETS, &admin, body, &[]).await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["code"]);
    assert_eq!(app.count("mnt_assets").await, before + 1);
    // Meters too.
    let url = format!("{ASSETS}/{}/meters", first.json()["id"].as_str().unwrap());
    let mk = [("Idempotency-Key", "meter-1")];
    let m = json!({"code": "running_hours", "unit": "h", "last_value": 10});
    let a = app.post_json(&url, &admin, m.clone(), &mk).await;
    a.assert_status(201);
    let b = app.post_json(&url, &admin, m, &mk).await;
    b.assert_status(201);
    assert_eq!(a.json()["id"], b.json()["id"]);
    assert_eq!(app.count("mnt_meters").await, 1);
}

both!(demo_registers_equipment_of_every_store);

/// `--demo`: every store has its fryers, ovens, fridges, freezers, coffee machine, air
/// conditioning and POS terminal with meters; the fry line is a line → fryer → heating element
/// hierarchy; the audit chain still verifies.
async fn demo_registers_equipment_of_every_store(app: TestApp) {
    boh_server::seed_modules(&app.platform, boh_inventory::demo::DemoSize::Small)
        .await
        .expect("seeding the small demo");
    let stores = app
        .scalar_i64("SELECT COUNT(*) FROM org_nodes WHERE kind = 'store'")
        .await;
    let with_assets = app
        .scalar_i64(
            "SELECT COUNT(DISTINCT a.location_id) FROM mnt_assets a JOIN org_nodes n ON n.id = a.location_id \
             WHERE n.kind = 'store'",
        )
        .await;
    assert_eq!(with_assets, stores);
    let categories = app
        .scalar_i64("SELECT COUNT(DISTINCT category) FROM mnt_assets")
        .await;
    assert!(categories >= 8, "{categories} categories");
    assert!(app.count("mnt_meters").await > stores);

    let m1 = app.login_token("manager.s001").await;
    let r = app
        .get(&format!("{ASSETS}?q=S001-FRY-01-HE"), &m1)
        .await
        .json();
    assert_eq!(r["page"]["total"], 1);
    let element = r["items"][0]["id"].as_str().unwrap().to_string();
    let d = app.get(&format!("{ASSETS}/{element}"), &m1).await.json();
    assert_eq!(d["depth"], 3);
    let chain: Vec<&str> = d["ancestors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert_eq!(chain, vec!["S001-LINE-FRY", "S001-FRY-01"]);
    assert_eq!(d["warranty"], "expired");
    // The store manager sees S001's equipment only.
    let all = app.get(&format!("{ASSETS}?limit=500"), &m1).await.json();
    assert!(
        all["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["location_code"] == "S001")
    );
    let report = boh_platform::audit::verify(app.db(), None, |_, _| {})
        .await
        .expect("verifying the audit chain");
    assert!(report.ok, "{report:?}");
    assert_hierarchy_consistent(&app).await;
}

both!(asset_pages_render_and_forms_name_fields);

/// The pages: the list (empty state, then rows), the new form (errors named per field, in
/// Chinese for a Chinese user), the asset page with hierarchy, meters and the inline label,
/// the edit form; a store manager gets "not found" for another store's asset page.
async fn asset_pages_render_and_forms_name_fields(app: TestApp) {
    let s001 = app.store_id("S001").await;
    let s002 = app.store_id("S002").await;
    let session = app.session("manager.s001").await;
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
    let r = get("/maintenance/assets".into()).await;
    r.assert_status(200);
    let html = r.text();
    assert!(html.contains("href=\"/maintenance/assets\""), "nav entry");
    assert!(html.contains("class=\"empty\""));
    assert!(html.contains("id=\"new-asset\""));
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf token")
        .to_string();
    // In English first (the demo manager may prefer Chinese).
    let r = post(
        "/lang".into(),
        format!("_csrf={csrf}&locale=en&back=/maintenance/assets"),
    )
    .await;
    assert_eq!(r.status, 303);

    let form = get("/maintenance/assets/new".into()).await;
    form.assert_status(200);
    let html = form.text();
    assert!(html.contains("id=\"asset-form\""));
    assert!(html.contains(&format!("value=\"{s001}\"")));
    assert!(
        !html.contains(&format!("value=\"{s002}\"")),
        "only own sites"
    );

    // Errors name the field, nothing written.
    let before = app.count("mnt_assets").await;
    let r = post(
        "/maintenance/assets".into(),
        format!(
            "_csrf={csrf}&location_id={s001}&code=&name=Oven&category=toaster&criticality=medium\
             &install_date=2025-05-01&warranty_end=2025-01-01"
        ),
    )
    .await;
    r.assert_status(422);
    let html = r.text();
    for f in ["code", "category", "warranty_end"] {
        assert!(
            html.contains(&format!("id=\"{f}\"")) && html.contains("field-error"),
            "{f}"
        );
    }
    assert!(html.contains("must not be before the install date"));
    assert_eq!(app.count("mnt_assets").await, before);

    // Created through the form.
    let r = post(
        "/maintenance/assets".into(),
        format!(
            "_csrf={csrf}&location_id={s001}&code=S001-OVEN-9&name=Combi+oven&category=oven\
             &criticality=high&make=Rational&model=iCombi&serial=RA-1&install_date=2025-05-01\
             &warranty_end=2099-05-01&supplier_id=&parent_id=&note="
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let loc = r.header("location").expect("redirect");
    let id = loc
        .trim_start_matches("/maintenance/assets/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = get(loc.clone()).await;
    page.assert_status(200);
    let html = page.text();
    assert!(html.contains("S001-OVEN-9"));
    assert!(html.contains(&format!("src=\"/maintenance/assets/{id}/label.svg\"")));
    assert!(html.contains("id=\"warranty-state\""));
    assert!(html.contains("id=\"meter-form\""));

    // A meter through the form, then the edit form.
    let r = post(
        format!("/maintenance/assets/{id}/meters"),
        format!("_csrf={csrf}&code=running_hours&unit=h&last_value=12"),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let html = get(format!("/maintenance/assets/{id}")).await.text();
    assert!(html.contains("running_hours"));
    let edit = get(format!("/maintenance/assets/{id}/edit")).await;
    edit.assert_status(200);
    assert!(edit.text().contains("name=\"version\" value=\"1\""));
    let r = post(
        format!("/maintenance/assets/{id}/edit"),
        format!(
            "_csrf={csrf}&version=1&location_id={s001}&code=S001-OVEN-9&name=Combi+oven+2&category=oven\
             &criticality=high&make=&model=&serial=&install_date=&warranty_end=&supplier_id=&parent_id=&note="
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let list = get("/maintenance/assets?q=oven".into()).await.text();
    assert!(list.contains("Combi oven 2"));
    assert!(list.contains("id=\"assets-table\""));

    // Another store's asset page does not exist for this manager.
    let admin = app.login_token("admin").await;
    let other = create(
        &app,
        &admin,
        json!({"location_id": s002, "code": "S002-OVEN", "name": "Oven", "category": "oven"}),
    )
    .await;
    get(format!("/maintenance/assets/{}", id_of(&other)))
        .await
        .assert_status(404);

    // In Chinese.
    let zh = app
        .request(hyper::Method::POST, "/lang")
        .cookie("boh_session", &session)
        .header("origin", &app.base)
        .form(&format!(
            "_csrf={csrf}&locale=zh-CN&back=/maintenance/assets"
        ))
        .send()
        .await;
    assert!(zh.status == 303 || zh.status == 200, "{}", zh.text());
    let html = get("/maintenance/assets".into()).await.text();
    assert!(html.contains("设备资产"), "{html}");
    let r = post(
        "/maintenance/assets".into(),
        format!(
            "_csrf={csrf}&location_id={s001}&code=S001-N&name=N&category=oven&criticality=medium\
             &install_date=2025-05-01&warranty_end=2025-01-01"
        ),
    )
    .await;
    r.assert_status(422);
    assert!(r.text().contains("不能早于安装日期"));
}

fn id_of(v: &Value) -> String {
    id(v)
}

both!(label_uses_the_configured_public_url, backend);

/// With a public URL configured (`--public-url`, the base of the links in e-mails), the QR
/// code encodes it rather than the address the request used.
async fn label_uses_the_configured_public_url(backend: crate::common::Backend) {
    let app = crate::common::spawn_app_with(backend, |s| {
        s.platform.smtp = Some(boh_platform::mail::SmtpSettings {
            host: "127.0.0.1".into(),
            port: 2525,
            tls: boh_platform::mail::SmtpTls::None,
            username: None,
            password: None,
            from: "BOH <boh@example.cn>".parse().expect("a mailbox"),
            public_url: "https://boh.example.cn/".into(),
        })
    })
    .await;
    let admin = app.login_token("admin").await;
    let s001 = app.store_id("S001").await;
    let a = create(
        &app,
        &admin,
        json!({"location_id": s001, "code": "S001-FRIDGE", "name": "Fridge", "category": "fridge"}),
    )
    .await;
    let svg = app
        .get(&format!("{ASSETS}/{}/label.svg", id(&a)), &admin)
        .await
        .text();
    let token = a["qr_token"].as_str().unwrap();
    assert!(svg.contains(&format!("data-url=\"https://boh.example.cn/q/{token}\"")));
}

both!(concurrent_moves_never_make_a_cycle);

/// Two assets each moved below the other at the same moment: the write re-checks the parent
/// chain inside its transaction (locked on PostgreSQL), so at most one move commits and the
/// hierarchy stays a tree.
async fn concurrent_moves_never_make_a_cycle(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s001 = app.store_id("S001").await;
    for round in 0..5 {
        let a = create(
            &app,
            &admin,
            json!({"location_id": s001, "code": format!("CA-{round}"), "name": "A", "category": "other"}),
        )
        .await;
        let b = create(
            &app,
            &admin,
            json!({"location_id": s001, "code": format!("CB-{round}"), "name": "B", "category": "other"}),
        )
        .await;
        let (ua, ub) = (
            format!("{ASSETS}/{}", id(&a)),
            format!("{ASSETS}/{}", id(&b)),
        );
        let (ra, rb) = tokio::join!(
            app.patch_json(&ua, &admin, json!({"parent_id": id(&b)})),
            app.patch_json(&ub, &admin, json!({"parent_id": id(&a)})),
        );
        let ok = [ra.status, rb.status].iter().filter(|s| **s == 200).count();
        assert!(ok <= 1, "round {round}: {} and {}", ra.text(), rb.text());
        for r in [&ra, &rb] {
            assert!(
                matches!(r.status, 200 | 409 | 422),
                "round {round}: {}",
                r.text()
            );
        }
        assert_hierarchy_consistent(&app).await;
    }
}
