//! Stock counts through the API: snapshot, entries by several counters in base or pack units,
//! walking order by storage area, variance = counted − (snapshot + movements since), posting,
//! blind counts, all-at-once validation, scope and idempotency.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::{assert_ledger_consistent, item, post_doc};

both!(variance_math_and_posting);
both!(blind_counts_errors_and_scope);

/// Two storage areas at S001 (COLD walked first), BUN kept in DRY, MILK (cases of 12) in COLD.
async fn setup(app: &TestApp, admin: &str) -> (String, String, String, String, String) {
    let s1 = app.store_id("S001").await;
    let mut areas = Vec::new();
    for (code, sort) in [("DRY", 2), ("COLD", 1)] {
        let r = app
            .post_json(
                &format!("/api/v1/locations/{s1}/storage-areas"),
                admin,
                json!({"code": code, "name": code, "sort": sort}),
                &[],
            )
            .await;
        r.assert_status(201);
        areas.push(r.json()["id"].as_str().unwrap().to_string());
    }
    let bun = item(
        app,
        admin,
        json!({"code": "BUN", "name": "Bun", "base_unit": "ea"}),
    )
    .await;
    let milk = item(
        app,
        admin,
        json!({"code": "MILK", "name": "Milk", "base_unit": "l", "units": [{"unit": "case", "factor": "12"}]}),
    )
    .await;
    app.request(hyper::Method::PUT, &format!("/api/v1/locations/{s1}/items"))
        .bearer(admin)
        .json(
            &json!({"items": [{"item_id": bun, "storage_area_code": "DRY"},
                            {"item_id": milk, "storage_area_code": "COLD"}]}),
        )
        .send()
        .await
        .assert_status(200);
    post_doc(
        app,
        admin,
        json!({"location_id": s1, "kind": "opening", "lines": [
            {"item_id": bun, "qty": "10", "unit_cost": "1"},
            {"item_id": milk, "qty": "24", "unit_cost": "0.5"}]}),
    )
    .await
    .assert_status(201);
    (s1, bun, milk, areas[0].clone(), areas[1].clone())
}

fn line<'a>(count: &'a Value, item: &str) -> &'a Value {
    count["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item_id"] == item)
        .unwrap_or_else(|| panic!("no line of {item} in {count}"))
}

async fn variance_math_and_posting(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let (s1, bun, milk, _dry, cold) = setup(&app, &admin).await;
    let r = app
        .post_json(
            "/api/v1/counts",
            &m1,
            json!({"location_id": s1, "kind": "full"}),
            &[("Idempotency-Key", "count-1")],
        )
        .await;
    r.assert_status(201);
    let c = r.json();
    let id = c["id"].as_str().unwrap().to_string();
    assert_eq!(c["status"], "open");
    assert_eq!(c["line_count"], 2);
    // Walking order: COLD (sort 1) before DRY.
    assert_eq!(c["lines"][0]["item_id"], milk.as_str(), "{c}");
    assert_eq!(c["lines"][0]["storage_area_id"], cold.as_str());
    assert_eq!(line(&c, &bun)["expected_qty"], "10");
    // The same key starts nothing new.
    let again = app
        .post_json(
            "/api/v1/counts",
            &m1,
            json!({"location_id": s1, "kind": "full"}),
            &[("Idempotency-Key", "count-1")],
        )
        .await;
    assert_eq!(again.json()["id"], id.as_str());
    assert_eq!(app.count("inv_counts").await, 1);

    // Sales after the snapshot: 2 buns go out.
    post_doc(
        &app,
        &admin,
        json!({"location_id": s1, "kind": "issue", "lines": [{"item_id": bun, "qty": "2"}]}),
    )
    .await
    .assert_status(201);
    // Two counters: 3 + 4 buns; milk as 1 case + 10 l, then a recount of the loose bottles.
    app.post_json(
        &format!("/api/v1/counts/{id}/lines"),
        &m1,
        json!({"entries": [{"item_code": "BUN", "qty": "3"}, {"item_id": milk, "qty": "1", "unit": "case"},
                           {"item_id": milk, "qty": "9"}]}),
        &[],
    )
    .await
    .assert_status(201);
    let r = app
        .post_json(
            &format!("/api/v1/counts/{id}/lines"),
            &admin,
            json!({"entries": [{"item_id": bun, "qty": "4"}, {"item_id": milk, "qty": "22", "mode": "set"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["counted_lines"], 2);
    let c = app.get(&format!("/api/v1/counts/{id}"), &m1).await.json();
    let b = line(&c, &bun);
    assert_eq!(b["counted_qty"], "7");
    assert_eq!(b["expected_qty"], "10");
    assert_eq!(b["moved_since"], "-2");
    // 7 − (10 − 2) = −1 at 1.00.
    assert_eq!(b["variance_qty"], "-1");
    assert_eq!(b["variance_value"], -100);
    assert_eq!(b["entries"], 2);
    let m = line(&c, &milk);
    assert_eq!(m["counted_qty"], "22");
    assert_eq!(m["variance_qty"], "-2");
    assert_eq!(m["variance_value"], -100);
    assert_eq!(c["variance_value"], -200);

    app.post_json(&format!("/api/v1/counts/{id}/submit"), &m1, json!({}), &[])
        .await
        .assert_status(201);
    // No more entries once submitted.
    let r = app
        .post_json(
            &format!("/api/v1/counts/{id}/lines"),
            &m1,
            json!({"entries": [{"item_id": bun, "qty": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(409);
    let r = app
        .post_json(&format!("/api/v1/counts/{id}/post"), &m1, json!({}), &[])
        .await;
    r.assert_status(201);
    let c = r.json();
    assert_eq!(c["status"], "posted");
    assert_eq!(c["variance_value"], -200);
    let doc = app
        .get(
            &format!("/api/v1/stock/documents/{}", c["doc_id"].as_str().unwrap()),
            &m1,
        )
        .await
        .json();
    assert_eq!(doc["kind"], "count");
    assert_eq!(doc["total_value"], -200);
    let stock = app
        .get(&format!("/api/v1/stock?location_id={s1}"), &m1)
        .await
        .json();
    for row in stock["items"].as_array().unwrap() {
        if row["item_id"] == bun.as_str() {
            assert_eq!(row["qty"], "7");
        }
        if row["item_id"] == milk.as_str() {
            assert_eq!(row["qty"], "22");
        }
    }
    // Posting twice is refused.
    app.post_json(&format!("/api/v1/counts/{id}/post"), &m1, json!({}), &[])
        .await
        .assert_status(409);
    // A cycle count of one item only.
    let r = app
        .post_json(
            "/api/v1/counts",
            &m1,
            json!({"location_id": s1, "kind": "cycle", "item_codes": ["BUN"]}),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["line_count"], 1);
    let cid = r.json()["id"].as_str().unwrap().to_string();
    let r = app
        .post_json(
            &format!("/api/v1/counts/{cid}/lines"),
            &m1,
            json!({"entries": [{"item_id": milk, "qty": "1"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), vec!["entries[0].item_id"]);
    let list = app
        .get(
            &format!("/api/v1/counts?location_id={s1}&status=posted"),
            &m1,
        )
        .await
        .json();
    assert_eq!(list["page"]["total"], 1, "{list}");
    assert_ledger_consistent(&app).await;
}

async fn blind_counts_errors_and_scope(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let m2 = app.login_token("manager.s002").await;
    let (s1, bun, milk, dry, _cold) = setup(&app, &admin).await;
    // Bad start: every problem at once.
    let r = app
        .post_json(
            "/api/v1/counts",
            &m1,
            json!({"location_id": s1, "kind": "weekly", "storage_area_ids": ["nope"], "business_date": "soon"}),
            &[],
        )
        .await;
    r.assert_status(422);
    let fields = r.error_fields();
    for f in ["kind", "business_date", "storage_area_ids[0]"] {
        assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
    }
    // Another store's manager cannot count here.
    app.post_json("/api/v1/counts", &m2, json!({"location_id": s1}), &[])
        .await
        .assert_status(404);

    let r = app
        .post_json(
            "/api/v1/counts",
            &m1,
            json!({"location_id": s1, "blind": true}),
            &[],
        )
        .await;
    r.assert_status(201);
    let c = r.json();
    let id = c["id"].as_str().unwrap().to_string();
    // Blind: nobody sees expected quantities while it is open.
    for token in [&m1, &admin] {
        let c = app.get(&format!("/api/v1/counts/{id}"), token).await.json();
        assert_eq!(c["expected_visible"], false);
        for l in c["lines"].as_array().unwrap() {
            assert!(l["expected_qty"].is_null(), "{l}");
            assert!(l["variance_qty"].is_null(), "{l}");
        }
        assert!(!c.to_string().contains("\"10\""), "{c}");
    }
    // Out of scope: 404 for reads and writes.
    app.get(&format!("/api/v1/counts/{id}"), &m2)
        .await
        .assert_status(404);
    app.post_json(
        &format!("/api/v1/counts/{id}/lines"),
        &m2,
        json!({"entries": [{"item_id": bun, "qty": "1"}]}),
        &[],
    )
    .await
    .assert_status(404);
    assert_eq!(
        app.get("/api/v1/counts", &m2).await.json()["page"]["total"],
        0
    );
    // Bad entries, every one named, nothing written.
    let r = app
        .post_json(
            &format!("/api/v1/counts/{id}/lines"),
            &m1,
            json!({"entries": [{"item_code": "NOPE", "qty": "1"}, {"item_id": bun, "qty": "abc"},
                               {"item_id": bun, "qty": "-1"}, {"item_id": milk, "qty": "1", "unit": "box"},
                               {"item_id": bun, "qty": "1", "mode": "guess"}]}),
            &[],
        )
        .await;
    r.assert_status(422);
    let fields = r.error_fields();
    for f in [
        "entries[0].item_code",
        "entries[1].qty",
        "entries[2].qty",
        "entries[3].unit",
        "entries[4].mode",
    ] {
        assert!(fields.contains(&f.to_string()), "{f} missing in {fields:?}");
    }
    assert_eq!(app.count("inv_count_entries").await, 0);
    // Submitting with nothing counted names every line.
    let r = app
        .post_json(&format!("/api/v1/counts/{id}/submit"), &m1, json!({}), &[])
        .await;
    r.assert_status(422);
    assert_eq!(
        r.error_fields(),
        vec!["lines[0].counted_qty", "lines[1].counted_qty"]
    );
    // Count the buns only; the milk is taken as zero.
    app.post_json(
        &format!("/api/v1/counts/{id}/lines"),
        &m1,
        json!({"entries": [{"item_id": bun, "qty": "12"}]}),
        &[],
    )
    .await
    .assert_status(201);
    let r = app
        .post_json(
            &format!("/api/v1/counts/{id}/submit"),
            &m1,
            json!({"uncounted_as_zero": true}),
            &[],
        )
        .await;
    r.assert_status(201);
    let c = r.json();
    // Reviewable now by whoever may read stock here.
    assert_eq!(c["expected_visible"], true);
    assert_eq!(line(&c, &bun)["variance_qty"], "2");
    assert_eq!(line(&c, &milk)["variance_qty"], "-24");
    app.post_json(&format!("/api/v1/counts/{id}/post"), &m1, json!({}), &[])
        .await
        .assert_status(201);
    // A count of an area with nothing in it.
    let r = app
        .post_json(
            "/api/v1/counts",
            &m1,
            json!({"location_id": s1, "storage_area_ids": [dry]}),
            &[],
        )
        .await;
    r.assert_status(201);
    assert_eq!(r.json()["line_count"], 1);
    assert_ledger_consistent(&app).await;
}

both!(count_and_transfer_pages);

/// The pages: the count entry screen saves what is typed in; transfer and count lists and the
/// transfer form render.
async fn count_and_transfer_pages(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let (s1, bun, milk, _, _) = setup(&app, &admin).await;
    let r = app
        .post_json("/api/v1/counts", &m1, json!({"location_id": s1}), &[])
        .await;
    r.assert_status(201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let session = app.session("manager.s001").await;
    let page = |path: String| {
        let session = session.clone();
        let app = &app;
        async move {
            let r = app
                .request(hyper::Method::GET, &path)
                .cookie("boh_session", &session)
                .send()
                .await;
            r.assert_status(200);
            r.text()
        }
    };
    let html = page(format!("/inventory/counts/{id}")).await;
    assert!(html.contains("id=\"count-form\""), "{html}");
    assert!(html.contains("name=\"q_0\"") && html.contains("name=\"q_1\""));
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf token")
        .to_string();
    // Line 0 is the milk (COLD is walked first): 2 cases; line 1 the buns.
    let r = app
        .request(
            hyper::Method::POST,
            &format!("/inventory/counts/{id}/lines"),
        )
        .cookie("boh_session", &session)
        .header("origin", &app.base)
        .form(&format!("_csrf={csrf}&q_0=2&u_0=case&q_1=9&u_1=ea"))
        .send()
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let c = app.get(&format!("/api/v1/counts/{id}"), &m1).await.json();
    assert_eq!(line(&c, &milk)["counted_qty"], "24");
    assert_eq!(line(&c, &bun)["counted_qty"], "9");
    for p in [
        "/inventory/counts",
        "/inventory/transfers",
        "/inventory/transfers/new",
    ] {
        page(p.to_string()).await;
    }
    // A cycle count of one item started from the list page.
    let html = page("/inventory/counts".to_string()).await;
    assert!(html.contains("name=\"storage_area_ids\""), "{html}");
    let r = app
        .request(hyper::Method::POST, "/inventory/counts")
        .cookie("boh_session", &session)
        .header("origin", &app.base)
        .form(&format!(
            "_csrf={csrf}&location_id={s1}&kind=cycle&item_codes=BUN"
        ))
        .send()
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let list = app
        .get("/api/v1/counts?status=open&limit=1", &m1)
        .await
        .json();
    assert_eq!(list["items"][0]["kind"], "cycle", "{list}");
    assert_eq!(list["items"][0]["line_count"], 1);
    // A transfer shipped and received through its page, with a damaged unit.
    let s2 = app.store_id("S002").await;
    let r = app
        .post_json(
            "/api/v1/transfers",
            &m1,
            json!({"from_location_id": s1, "to_location_id": s2, "lines": [{"item_id": bun, "qty": "4"}]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let tid = r.json()["id"].as_str().unwrap().to_string();
    let html = page(format!("/inventory/transfers/{tid}")).await;
    assert!(html.contains("name=\"ship_1\""), "{html}");
    let r = app
        .request(
            hyper::Method::POST,
            &format!("/inventory/transfers/{tid}/ship"),
        )
        .cookie("boh_session", &session)
        .header("origin", &app.base)
        .form(&format!("_csrf={csrf}&ship_1=3"))
        .send()
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let s2_session = app.session("manager.s002").await;
    let html = app
        .request(hyper::Method::GET, &format!("/inventory/transfers/{tid}"))
        .cookie("boh_session", &s2_session)
        .send()
        .await
        .text();
    assert!(html.contains("id=\"receive-form\""), "{html}");
    let csrf2 = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("csrf token")
        .to_string();
    let r = app
        .request(
            hyper::Method::POST,
            &format!("/inventory/transfers/{tid}/receive"),
        )
        .cookie("boh_session", &s2_session)
        .header("origin", &app.base)
        .form(&format!("_csrf={csrf2}&rec_1=2&dam_1=1&reason_1=crushed"))
        .send()
        .await;
    assert_eq!(r.status, 303, "{}", r.text());
    let t = app
        .get(&format!("/api/v1/transfers/{tid}"), &m1)
        .await
        .json();
    assert_eq!(t["status"], "received", "{t}");
    assert_eq!(t["lines"][0]["qty_shipped"], "3");
    assert_eq!(t["discrepancies"][0]["kind"], "damaged");
    assert_ledger_consistent(&app).await;
}
