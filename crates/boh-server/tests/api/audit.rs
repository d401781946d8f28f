//! The hash-chained audit log: verification, tamper detection, the exported head, and the
//! verification job behind the API.

use boh_db::Row;
use boh_platform::audit::{self, Head, VerifyReport};
use serde_json::json;

use crate::common::TestApp;

both!(chain_detects_altered_deleted_and_swapped_rows);
both!(exported_head_detects_a_rewrite);
both!(verify_job_through_the_api);

async fn verify(app: &TestApp, head: Option<&Head>) -> VerifyReport {
    audit::verify(app.db(), head, |_, _| {})
        .await
        .expect("verify runs")
}

async fn some_writes(app: &TestApp, token: &str, prefix: &str) {
    let reast = app.node_id("R-EAST").await;
    for i in 0..3 {
        app.post_json(
            "/api/v1/stores",
            token,
            json!({"parent_id": reast, "code": format!("{prefix}{i}"), "name": "Audited"}),
            &[],
        )
        .await
        .assert_status(201);
    }
    let s001 = app.store_id("S001").await;
    app.patch_json(
        &format!("/api/v1/stores/{s001}"),
        token,
        json!({"address": format!("{prefix} street 1")}),
    )
    .await
    .assert_status(200);
}

const COLS: &str = "seq, id, at, actor_id, actor_name, ip, request_id, action, entity_type, \
    entity_id, org_path, before_json, after_json, prev_hash, hash";

/// One audit row, every column as it is stored.
#[derive(Debug, Clone)]
struct RawRow {
    seq: i64,
    id: String,
    at: i64,
    actor_id: String,
    actor_name: String,
    ip: Option<String>,
    request_id: Option<String>,
    action: String,
    entity_type: String,
    entity_id: String,
    org_path: Option<String>,
    before_json: Option<String>,
    after_json: Option<String>,
    prev_hash: String,
    hash: String,
}

async fn raw(app: &TestApp, seq: i64) -> RawRow {
    let r = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM audit_log WHERE seq = $1"
    )))
    .bind(seq)
    .fetch_one(app.pool())
    .await
    .expect("audit row");
    RawRow {
        seq: r.get("seq"),
        id: r.get("id"),
        at: r.get("at"),
        actor_id: r.get("actor_id"),
        actor_name: r.get("actor_name"),
        ip: r.get("ip"),
        request_id: r.get("request_id"),
        action: r.get("action"),
        entity_type: r.get("entity_type"),
        entity_id: r.get("entity_id"),
        org_path: r.get("org_path"),
        before_json: r.get("before_json"),
        after_json: r.get("after_json"),
        prev_hash: r.get("prev_hash"),
        hash: r.get("hash"),
    }
}

async fn insert(app: &TestApp, r: &RawRow) {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO audit_log ({COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
    )))
    .bind(r.seq)
    .bind(&r.id)
    .bind(r.at)
    .bind(&r.actor_id)
    .bind(&r.actor_name)
    .bind(r.ip.clone())
    .bind(r.request_id.clone())
    .bind(&r.action)
    .bind(&r.entity_type)
    .bind(&r.entity_id)
    .bind(r.org_path.clone())
    .bind(r.before_json.clone())
    .bind(r.after_json.clone())
    .bind(&r.prev_hash)
    .bind(&r.hash)
    .execute(app.pool())
    .await
    .expect("re-inserting an audit row");
}

async fn delete(app: &TestApp, seq: i64) {
    app.exec(&format!("DELETE FROM audit_log WHERE seq = {seq}"))
        .await;
}

/// Write the contents of `from` into the row at `seq`.
async fn overwrite(app: &TestApp, seq: i64, from: &RawRow) {
    delete(app, seq).await;
    let mut r = from.clone();
    r.seq = seq;
    insert(app, &r).await;
}

fn assert_bad_at(r: &VerifyReport, seq: i64, what: &str) {
    assert!(!r.ok, "{what}: the chain should not verify: {r:?}");
    assert_eq!(r.first_bad_seq, Some(seq), "{what}: first bad row: {r:?}");
    assert!(r.problem.as_deref().is_some_and(|p| !p.is_empty()));
}

async fn chain_detects_altered_deleted_and_swapped_rows(app: TestApp) {
    let admin = app.login_token("admin").await;
    some_writes(&app, &admin, "A").await;
    let head = audit::head(app.db()).await.unwrap();
    let r = verify(&app, None).await;
    assert!(r.ok, "{r:?}");
    assert_eq!(r.rows, head.seq);
    assert_eq!(r.rows, app.count("audit_log").await);
    assert_eq!(r.head_hash, head.hash);
    assert!(
        head.seq >= 10,
        "the seed and the writes left rows: {head:?}"
    );

    let mid = head.seq / 2;

    // 1. An altered after_json.
    let orig = raw(&app, mid).await;
    sqlx::query("UPDATE audit_log SET after_json = $1 WHERE seq = $2")
        .bind(r#"{"tampered":true}"#)
        .bind(mid)
        .execute(app.pool())
        .await
        .unwrap();
    assert_bad_at(&verify(&app, None).await, mid, "altered after_json");
    // An altered actor, with the after_json back in place.
    overwrite(&app, mid, &orig).await;
    assert!(verify(&app, None).await.ok, "restored");
    app.exec(&format!(
        "UPDATE audit_log SET actor_name = 'someone.else' WHERE seq = {mid}"
    ))
    .await;
    assert_bad_at(&verify(&app, None).await, mid, "altered actor");
    overwrite(&app, mid, &orig).await;
    assert!(verify(&app, None).await.ok, "restored");

    // 2. A deleted middle row.
    delete(&app, mid).await;
    assert_bad_at(&verify(&app, None).await, mid, "deleted row");
    insert(&app, &orig).await;
    assert!(verify(&app, None).await.ok, "restored");

    // 3. Two rows swapped.
    let a = raw(&app, mid).await;
    let b = raw(&app, mid + 1).await;
    delete(&app, mid).await;
    delete(&app, mid + 1).await;
    let (mut a2, mut b2) = (b.clone(), a.clone());
    a2.seq = mid;
    b2.seq = mid + 1;
    insert(&app, &a2).await;
    insert(&app, &b2).await;
    assert_bad_at(&verify(&app, None).await, mid, "swapped rows");
    delete(&app, mid).await;
    delete(&app, mid + 1).await;
    insert(&app, &a).await;
    insert(&app, &b).await;
    assert!(verify(&app, None).await.ok, "restored");

    // 4. A row whose hash was recomputed still breaks the link to the next row.
    let mut forged = raw(&app, mid).await;
    forged.after_json = Some(r#"{"forged":1}"#.into());
    forged.hash = "f".repeat(64);
    overwrite(&app, mid, &forged).await;
    let r = verify(&app, None).await;
    assert!(
        !r.ok && r.first_bad_seq.is_some_and(|s| s <= mid + 1),
        "{r:?}"
    );
    overwrite(&app, mid, &a).await;
    assert!(verify(&app, None).await.ok, "restored");

    // 5. The last rows deleted: detected against the head.
    delete(&app, head.seq).await;
    delete(&app, head.seq - 1).await;
    let r = verify(&app, None).await;
    assert_bad_at(&r, head.seq - 1, "deleted tail");
}

async fn exported_head_detects_a_rewrite(app: TestApp) {
    let admin = app.login_token("admin").await;
    some_writes(&app, &admin, "B").await;
    let exported = audit::head(app.db()).await.unwrap();
    let text = format!("{}:{}", exported.seq, exported.hash);
    let parsed = audit::parse_head(&text).expect("SEQ:HASH parses");
    assert_eq!(parsed, exported);
    assert!(verify(&app, Some(&exported)).await.ok);
    // An older exported head is still on the chain after more writes.
    some_writes(&app, &admin, "C").await;
    let r = verify(&app, Some(&exported)).await;
    assert!(r.ok, "{r:?}");
    assert!(r.head_seq > exported.seq);

    // Wholesale rewrite: everything deleted, head reset, a fresh valid history written.
    app.exec("DELETE FROM audit_log").await;
    app.exec(&format!(
        "UPDATE audit_head SET seq = 0, hash = '{}' WHERE id = 1",
        audit::GENESIS
    ))
    .await;
    let reast = app.node_id("R-EAST").await;
    app.post_json(
        "/api/v1/stores",
        &admin,
        json!({"parent_id": reast, "code": "D1", "name": "After the rewrite"}),
        &[],
    )
    .await
    .assert_status(201);
    let r = verify(&app, None).await;
    assert!(r.ok, "the new chain is valid on its own: {r:?}");
    assert_eq!(r.rows, 1);
    let r = verify(&app, Some(&exported)).await;
    assert!(!r.ok, "the exported head must expose the rewrite: {r:?}");
    assert!(r.problem.is_some());

    // A head that never existed is not on the chain either.
    let bogus = Head {
        seq: 1,
        hash: "a".repeat(64),
    };
    assert!(!verify(&app, Some(&bogus)).await.ok);
}

async fn verify_job_through_the_api(app: TestApp) {
    let admin = app.login_token("admin").await;
    some_writes(&app, &admin, "E").await;

    let r = app
        .post_json("/api/v1/audit/verify", &admin, json!({}), &[])
        .await;
    r.assert_status(202);
    let job_id = r.json()["job_id"].as_str().expect("job_id").to_string();
    let job = app.get(&format!("/api/v1/jobs/{job_id}"), &admin).await;
    job.assert_status(200);
    assert_eq!(job.json()["status"], "queued");
    assert_eq!(job.json()["kind"], "audit.verify");

    app.drain().await;
    let job = app.get(&format!("/api/v1/jobs/{job_id}"), &admin).await;
    job.assert_status(200);
    let j = job.json();
    assert_eq!(j["status"], "succeeded", "{j}");
    assert_eq!(j["result"]["ok"], true, "{j}");
    let rows = j["result"]["rows"].as_i64().expect("rows");
    assert!(rows > 0);
    assert_eq!(j["progress_total"].as_i64(), Some(rows), "{j}");
    assert_eq!(j["progress_done"].as_i64(), Some(rows), "{j}");
    assert_eq!(j["attempts"], 1);
    let listed = app.get("/api/v1/jobs", &admin).await.json();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["id"] == job_id.as_str()),
        "{listed}"
    );

    // With an exported head.
    let head = app.get("/api/v1/audit/head", &admin).await;
    head.assert_status(200);
    let h = head.json();
    let text = format!("{}:{}", h["seq"], h["hash"].as_str().unwrap());
    let r = app
        .post_json("/api/v1/audit/verify", &admin, json!({"head": text}), &[])
        .await;
    r.assert_status(202);
    let id2 = r.json()["job_id"].as_str().unwrap().to_string();
    // A tampered row makes the job report the failure.
    app.exec("UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 3")
        .await;
    app.drain().await;
    let j = app.get(&format!("/api/v1/jobs/{id2}"), &admin).await.json();
    assert_eq!(j["status"], "succeeded", "{j}");
    assert_eq!(j["result"]["ok"], false, "{j}");
    assert_eq!(j["result"]["first_bad_seq"], 3, "{j}");

    let r = app
        .post_json(
            "/api/v1/audit/verify",
            &admin,
            json!({"head": "nonsense"}),
            &[],
        )
        .await;
    r.assert_status(422);
    assert_eq!(r.error_fields(), ["head"]);

    // Store managers may not verify, see the head, or see the admin's job.
    let m1 = app.login_token("manager.s001").await;
    let jobs_before = app.count("jobs").await;
    let r = app
        .post_json("/api/v1/audit/verify", &m1, json!({}), &[])
        .await;
    r.assert_status(403);
    assert_eq!(r.error_code(), "forbidden");
    assert_eq!(app.count("jobs").await, jobs_before);
    app.get("/api/v1/audit/head", &m1).await.assert_status(403);
    app.get(&format!("/api/v1/jobs/{job_id}"), &m1)
        .await
        .assert_status(404);
    app.get("/api/v1/audit", &m1).await.assert_status(403);
}
