//! Migrations are idempotent, and a logical backup restores into the other backend with every
//! row intact and the audit chain still verifying.

use std::collections::BTreeMap;

use boh_db::{Db, Row};
use serde_json::{Value, json};

use crate::common::{Sink, TestApp, TestDb};

both!(migrating_twice_is_a_no_op);
both!(backup_restores_into_the_other_backend);

async fn applied(db: &Db) -> Vec<(i64, Vec<u8>)> {
    sqlx::query("SELECT version, checksum FROM _sqlx_migrations ORDER BY version")
        .fetch_all(db.pool())
        .await
        .expect("reading _sqlx_migrations")
        .iter()
        .map(|r| (r.get::<i64, _>("version"), r.get::<Vec<u8>, _>("checksum")))
        .collect()
}

/// Application tables, read from the catalogue directly (independent of `boh_db::backup`).
async fn table_names(app: &TestApp) -> Vec<String> {
    let sql = match app.backend {
        crate::common::Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        crate::common::Backend::Postgres => {
            "SELECT CAST(tablename AS TEXT) AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        }
    };
    sqlx::query(sql)
        .fetch_all(app.pool())
        .await
        .expect("listing tables")
        .iter()
        .map(|r| r.get::<String, _>("name"))
        .collect()
}

async fn migrating_twice_is_a_no_op(app: TestApp) {
    let (sqlite, postgres) = Db::migration_versions();
    assert_eq!(
        sqlite, postgres,
        "both migration trees carry the same versions"
    );
    let before = applied(app.db()).await;
    assert_eq!(
        before.iter().map(|(v, _)| *v).collect::<Vec<_>>(),
        match app.backend {
            crate::common::Backend::Sqlite => sqlite,
            crate::common::Backend::Postgres => postgres,
        }
    );
    let tables = table_names(&app).await;
    assert!(tables.len() >= 15, "{tables:?}");
    let mut counts = Vec::new();
    for t in &tables {
        counts.push(app.count(t).await);
    }

    app.db().migrate().await.expect("second migrate");
    // And from a second connection, as a second instance would.
    let again = Db::connect(&app.db.url).await.expect("connect");
    again.migrate().await.expect("migrate from another pool");
    again.migrate().await.expect("and once more");
    assert_eq!(applied(app.db()).await, before);
    assert_eq!(table_names(&app).await, tables);
    let mut after = Vec::new();
    for t in &tables {
        after.push(app.count(t).await);
    }
    assert_eq!(after, counts, "migrating again touches no data");
    again.pool().close().await;
}

/// Every table's rows, as the backup writes them, sorted (row order is not defined).
fn by_table(backup: &[u8]) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let mut out: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
    let mut current = String::new();
    for (i, line) in String::from_utf8_lossy(backup).lines().enumerate() {
        if i == 0 {
            continue;
        }
        let v: Value = serde_json::from_str(line).expect("backup line is JSON");
        match v {
            Value::Object(o) => {
                current = o["table"].as_str().unwrap().to_string();
                let cols = o["columns"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect();
                out.insert(current.clone(), (cols, Vec::new()));
            }
            Value::Array(_) => out.get_mut(&current).unwrap().1.push(line.to_string()),
            other => panic!("unexpected backup line {other}"),
        }
    }
    for (_, rows) in out.values_mut() {
        rows.sort();
    }
    out
}

async fn backup_restores_into_the_other_backend(app: TestApp) {
    // Some history besides the seed: stores, an import, a token, a webhook with a delivery, a
    // job.
    let sink = Sink::start(0).await;
    let admin = app.login_token("admin").await;
    let reast = app.node_id("R-EAST").await;
    let r = app
        .post_json(
            "/api/v1/webhooks",
            &admin,
            json!({"org_node_id": reast, "url": sink.url("/h")}),
            &[],
        )
        .await;
    r.assert_status(201);
    for code in ["M1", "M2"] {
        app.post_json(
            "/api/v1/stores",
            &admin,
            json!({"parent_id": reast, "code": code, "name": "Migrated", "latitude": 30.123456, "sales_area_m2": 99}),
            &[("idempotency-key", code)],
        )
        .await
        .assert_status(201);
    }
    // An import: its record and the uploaded file (a binary column) travel too.
    app.request(hyper::Method::POST, "/api/v1/importers/stores/imports")
        .bearer(&admin)
        .body_with("text/csv", "code,address\r\nM1,导入的地址\r\n".into())
        .send()
        .await
        .assert_status(201);
    let grant = app.grant_id("admin").await;
    app.post_json(
        "/api/v1/tokens",
        &admin,
        json!({"name": "backup-test", "grant_id": grant}),
        &[],
    )
    .await
    .assert_status(201);
    app.post_json("/api/v1/audit/verify", &admin, json!({}), &[])
        .await
        .assert_status(202);
    app.drain().await;
    assert!(!sink.received().is_empty());
    let head = boh_platform::audit::head(app.db()).await.unwrap();

    let mut buf = Vec::new();
    let written = boh_db::backup::backup(app.db(), &mut buf)
        .await
        .expect("backup");
    assert!(written > 50, "{written} rows");
    assert!(
        String::from_utf8_lossy(&buf).contains("{\"base64\":"),
        "the uploaded file is in the backup as base64"
    );

    let target = TestDb::create(app.backend.other()).await;
    let db2 = Db::connect(&target.url)
        .await
        .expect("connect to the target");
    db2.migrate().await.expect("migrate the target");
    let restored = boh_db::backup::restore(&db2, &buf[..])
        .await
        .unwrap_or_else(|e| {
            panic!(
                "restoring a {:?} backup into {:?}: {e}",
                app.backend,
                app.backend.other()
            )
        });
    assert_eq!(restored, written);

    // Same tables, same row counts.
    let t1 = boh_db::backup::tables(app.db()).await.unwrap();
    let t2 = boh_db::backup::tables(&db2).await.unwrap();
    let mut s1 = t1.clone();
    let mut s2 = t2.clone();
    s1.sort();
    s2.sort();
    assert_eq!(s1, s2, "both backends have the same tables");
    for t in &t1 {
        let q = format!("SELECT COUNT(*) AS n FROM {t}");
        let n1: i64 = sqlx::query(sqlx::AssertSqlSafe(q.clone()))
            .fetch_one(app.pool())
            .await
            .unwrap()
            .get("n");
        let n2: i64 = sqlx::query(sqlx::AssertSqlSafe(q))
            .fetch_one(db2.pool())
            .await
            .unwrap()
            .get("n");
        assert_eq!(n1, n2, "row count of {t}");
    }

    // The audit chain verifies on the target, against the exported head.
    let r = boh_platform::audit::verify(&db2, Some(&head), |_, _| {})
        .await
        .unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.head_seq, head.seq);
    assert_eq!(r.head_hash, head.hash);

    // Every value survived: a backup of the target equals the original backup.
    let mut buf2 = Vec::new();
    boh_db::backup::backup(&db2, &mut buf2).await.unwrap();
    let a = by_table(&buf);
    let b = by_table(&buf2);
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (table, (cols, rows)) in &a {
        let (cols2, rows2) = &b[table];
        if rows.is_empty() {
            continue;
        }
        assert_eq!(cols, cols2, "columns of {table}");
        assert_eq!(rows, rows2, "rows of {table} after the round trip");
    }

    // The restored database serves logins and scoped reads.
    let p2 = boh_platform::Platform::new(db2.clone(), Default::default());
    let issued =
        boh_platform::auth::login_token(&p2, "manager.s001", crate::common::DEMO_PASSWORD, None)
            .await
            .expect("login on the restored database");
    let actor = boh_platform::auth::token_actor(&p2, &issued.token)
        .await
        .unwrap();
    let (stores, total) = boh_platform::org::list(
        &p2,
        &actor,
        &boh_platform::org::NodeFilter {
            kind: Some("store".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(total, 1);
    assert_eq!(stores[0].code, "S001");
    db2.pool().close().await;
}
