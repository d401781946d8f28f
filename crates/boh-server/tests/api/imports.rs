//! Imports and exports of spreadsheets: the stores importer end to end over HTTP (row errors,
//! all-or-nothing, re-import, dry run, XLSX round trip, formula escaping, refused files, scope,
//! jobs with progress, idempotent replays) and the web page's check-then-apply flow.

use std::collections::BTreeMap;
use std::io::Write;

use boh_platform::sheet::{self, Cell, Limits, Source};
use hyper::Method;
use serde_json::json;

use crate::common::{Resp, TestApp, spawn_app_with};

both!(bad_rows_are_all_reported_then_the_file_applies_once);
both!(a_dry_run_writes_nothing);
both!(an_xlsx_export_imports_back_unchanged);
both!(exports_escape_formulas_in_csv_and_xlsx);
both!(bombs_oversize_and_mislabelled_files_are_refused);
both!(imports_stay_inside_the_actors_scope);
both!(a_big_import_runs_as_a_job_with_progress);
both!(an_import_replays_by_idempotency_key);
both!(the_import_page_checks_then_applies);
both!(the_template_lists_the_columns);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const COLUMNS: [&str; 12] = [
    "code",
    "name_zh",
    "name_en",
    "region",
    "format",
    "sales_area_m2",
    "opening_date",
    "lifecycle_state",
    "latitude",
    "longitude",
    "timezone",
    "address",
];

/// `n` new stores N0001… under R-EAST, as rows of the stores columns.
fn new_stores(n: usize, prefix: &str) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            vec![
                format!("{prefix}{:04}", i + 1),
                format!("测试门店{i}"),
                format!("Test store {i}"),
                "R-EAST".into(),
                "standard".into(),
                (100 + i).to_string(),
                "2027-01-01".into(),
                "candidate".into(),
                "30.1".into(),
                "120.1".into(),
                "Asia/Shanghai".into(),
                format!("测试路 {i} 号"),
            ]
        })
        .collect()
}

fn csv_of(rows: &[Vec<String>]) -> Vec<u8> {
    sheet::write_csv(&sheet::Sheet {
        name: "Stores".into(),
        headers: COLUMNS.iter().map(|c| c.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|c| Cell::Text(c.clone())).collect())
            .collect(),
    })
    .unwrap()
}

fn col(name: &str) -> usize {
    COLUMNS.iter().position(|c| *c == name).unwrap()
}

async fn post_file(app: &TestApp, token: &str, query: &str, ct: &str, body: Vec<u8>) -> Resp {
    app.request(
        Method::POST,
        &format!("/api/v1/importers/stores/imports{query}"),
    )
    .bearer(token)
    .bytes(ct, body)
    .send()
    .await
}

/// Counts of everything an import could write.
async fn fingerprint(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut out = BTreeMap::new();
    for (name, sql) in [
        ("org_nodes", "SELECT COUNT(*) FROM org_nodes"),
        (
            "versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM org_nodes",
        ),
        ("audit_log", "SELECT COUNT(*) FROM audit_log"),
        ("outbox", "SELECT COUNT(*) FROM outbox"),
        ("imports", "SELECT COUNT(*) FROM imports"),
        ("import_files", "SELECT COUNT(*) FROM import_files"),
        ("jobs", "SELECT COUNT(*) FROM jobs"),
        ("idempotency_keys", "SELECT COUNT(*) FROM idempotency_keys"),
    ] {
        out.insert(name, app.scalar_i64(sql).await);
    }
    out
}

fn fields(r: &Resp) -> Vec<String> {
    r.error_fields()
}

async fn verify_audit(app: &TestApp) {
    let report = boh_platform::audit::verify(app.db(), None, |_, _| {})
        .await
        .unwrap();
    assert!(report.ok, "the audit chain verifies: {report:?}");
}

async fn bad_rows_are_all_reported_then_the_file_applies_once(app: TestApp) {
    let admin = app.login_token("admin").await;
    let mut rows = new_stores(1000, "N");
    rows[99][col("latitude")] = "95".into();
    rows[500][col("format")] = "huge".into();
    rows[901][col("region")] = "R-NOWHERE".into();
    let before = fingerprint(&app).await;

    let r = post_file(&app, &admin, "", "text/csv", csv_of(&rows)).await;
    r.assert_status(422);
    assert_eq!(r.error_code(), "validation_failed");
    assert_eq!(
        fields(&r),
        [
            "row 101, column latitude",
            "row 502, column format",
            "row 903, column region"
        ],
        "{}",
        r.text()
    );
    let messages: Vec<String> = r.json()["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(messages[0], "must be between -90 and 90");
    assert!(
        messages[1].starts_with("must be one of flagship"),
        "{messages:?}"
    );
    assert_eq!(messages[2], "R-NOWHERE not found");
    assert_eq!(fingerprint(&app).await, before, "nothing written");

    // The corrected file applies, all of it.
    rows[99][col("latitude")] = "30.2".into();
    rows[500][col("format")] = "express".into();
    rows[901][col("region")] = "R-NORTH".into();
    let file = csv_of(&rows);
    let r = post_file(&app, &admin, "", "text/csv; charset=utf-8", file.clone()).await;
    r.assert_status(201);
    let body = r.json();
    assert_eq!(body["status"], "applied");
    assert_eq!(
        (
            &body["rows"],
            &body["created"],
            &body["updated"],
            &body["unchanged"]
        ),
        (&json!(1000), &json!(1000), &json!(0), &json!(0)),
        "{body}"
    );
    assert!(body["id"].is_string());
    let after = fingerprint(&app).await;
    assert_eq!(after["org_nodes"], before["org_nodes"] + 1000);
    assert_eq!(
        after["audit_log"],
        before["audit_log"] + 1001,
        "one audit row per store and one for the import"
    );
    assert_eq!(after["outbox"], before["outbox"] + 1000);
    assert_eq!(after["imports"], before["imports"] + 1);
    verify_audit(&app).await;
    let s = app.get("/api/v1/stores?q=N0902", &admin).await.json();
    assert_eq!(s["page"]["total"], 1);
    let store = &s["items"][0];
    assert_eq!(store["name_zh"], "测试门店901");
    assert_eq!(store["parent_id"], json!(app.node_id("R-NORTH").await));
    assert_eq!(store["sales_area_m2"], 1001);
    assert_eq!(store["latitude"], 30.1);

    // The same file again changes nothing, and says so.
    let r = post_file(&app, &admin, "", "text/csv", file).await;
    r.assert_status(201);
    let body = r.json();
    assert_eq!(
        (&body["created"], &body["updated"], &body["unchanged"]),
        (&json!(0), &json!(0), &json!(1000)),
        "{body}"
    );
    let again = fingerprint(&app).await;
    for table in ["org_nodes", "versions", "audit_log", "outbox"] {
        assert_eq!(
            again[table], after[table],
            "{table} after the same file again"
        );
    }
    assert_eq!(
        again["imports"],
        after["imports"] + 1,
        "the import itself is recorded"
    );

    // A change to one row updates exactly that store.
    let mut changed = rows.clone();
    changed[0][col("address")] = "新地址 1 号".into();
    changed[1][col("sales_area_m2")] = String::new();
    let r = post_file(&app, &admin, "", "text/csv", csv_of(&changed)).await;
    r.assert_status(201);
    let body = r.json();
    assert_eq!(
        (&body["created"], &body["updated"], &body["unchanged"]),
        (&json!(0), &json!(2), &json!(998)),
        "{body}"
    );
    let s = app.get("/api/v1/stores?q=N0002", &admin).await.json();
    assert!(
        s["items"][0]["sales_area_m2"].is_null(),
        "an empty cell clears"
    );
    assert_eq!(s["items"][0]["version"], 2);
    assert_eq!(fingerprint(&app).await["audit_log"], again["audit_log"] + 3);
    verify_audit(&app).await;
}

async fn a_dry_run_writes_nothing(app: TestApp) {
    let admin = app.login_token("admin").await;
    let mut rows = new_stores(3, "D");
    rows.push(vec![
        "S001".into(),
        "上海人民广场店".into(),
        "Shanghai People's Square".into(),
        "R-EAST".into(),
        "flagship".into(),
        "330".into(),
        "2019-05-18".into(),
        "open".into(),
        "31.2317".into(),
        "121.4726".into(),
        "Asia/Shanghai".into(),
        "上海市黄浦区南京西路 2 号".into(),
    ]);
    let before = fingerprint(&app).await;
    let r = post_file(&app, &admin, "?dry_run=true", "text/csv", csv_of(&rows)).await;
    r.assert_status(200);
    let body = r.json();
    assert!(body["id"].is_null(), "{body}");
    assert_eq!(body["status"], "dry_run");
    assert_eq!(
        (
            &body["rows"],
            &body["created"],
            &body["updated"],
            &body["unchanged"]
        ),
        (&json!(4), &json!(3), &json!(1), &json!(0)),
        "{body}"
    );
    // With errors: 422, still nothing.
    rows[0][col("opening_date")] = "2027-02-30".into();
    let r = post_file(&app, &admin, "?dry_run=true", "text/csv", csv_of(&rows)).await;
    r.assert_status(422);
    assert_eq!(fields(&r), ["row 2, column opening_date"]);
    // Unknown and missing columns are named.
    let r = post_file(
        &app,
        &admin,
        "?dry_run=true",
        "text/csv",
        b"name_en,lattitude\nX,1\n".to_vec(),
    )
    .await;
    r.assert_status(422);
    assert_eq!(
        fields(&r),
        ["column lattitude", "column code"],
        "{}",
        r.text()
    );
    assert_eq!(fingerprint(&app).await, before);
}

/// A page (or download) with the session cookie, expected to answer 200.
async fn get_page(app: &TestApp, session: &str, path: &str) -> Resp {
    let r = app
        .request(Method::GET, path)
        .cookie("boh_session", session)
        .send()
        .await;
    r.assert_status(200);
    r
}

async fn an_xlsx_export_imports_back_unchanged(app: TestApp) {
    let admin = app.login_token("admin").await;
    let session = app.session("admin").await;
    let r = get_page(&app, &session, "/stores/export.xlsx").await;
    assert_eq!(r.header("content-type").as_deref(), Some(XLSX));
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"stores.xlsx\"")
    );
    let book = r.body.to_vec();
    let before = fingerprint(&app).await;
    let r = post_file(&app, &admin, "?dry_run=true", XLSX, book.clone()).await;
    r.assert_status(200);
    let body = r.json();
    assert_eq!(body["format"], "xlsx");
    assert_eq!(body["sheet"], "Stores");
    assert_eq!(
        (
            &body["rows"],
            &body["created"],
            &body["updated"],
            &body["unchanged"]
        ),
        (&json!(24), &json!(0), &json!(0), &json!(24)),
        "{body}"
    );
    let r = post_file(
        &app,
        &admin,
        "?file_name=stores.xlsx",
        "application/octet-stream",
        book.clone(),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.json()["unchanged"], 24, "{}", r.text());
    let after = fingerprint(&app).await;
    assert_eq!(after["versions"], before["versions"]);
    assert_eq!(after["audit_log"], before["audit_log"]);

    // Edit the workbook (one cell) and import it: exactly that store changes.
    let mut table = sheet::read(&book, &Source::named("stores.xlsx"), &Limits::default()).unwrap();
    let address = table.column("address").unwrap();
    let s001 = table
        .rows
        .iter_mut()
        .find(|r| r.cells[0] == "S001")
        .expect("S001 in the export");
    s001.cells[address] = "上海市黄浦区人民大道 1 号".into();
    let edited = sheet::Sheet {
        name: "Stores".into(),
        headers: table.headers.clone(),
        rows: table
            .rows
            .iter()
            .map(|r| r.cells.iter().map(|c| Cell::Text(c.clone())).collect())
            .collect(),
    };
    let r = post_file(&app, &admin, "", XLSX, sheet::write_xlsx(&edited).unwrap()).await;
    r.assert_status(201);
    assert_eq!(
        (&r.json()["updated"], &r.json()["unchanged"]),
        (&json!(1), &json!(23)),
        "{}",
        r.text()
    );
    let s = app.get("/api/v1/stores?q=S001", &admin).await.json();
    assert_eq!(s["items"][0]["address"], "上海市黄浦区人民大道 1 号");
    assert_eq!(
        s["items"][0]["latitude"], 31.2317,
        "numbers survive the round trip"
    );

    // The CSV export imports back unchanged too.
    let csv_file = get_page(&app, &session, "/stores/export.csv")
        .await
        .body
        .to_vec();
    let r = post_file(&app, &admin, "?dry_run=true", "text/csv", csv_file).await;
    r.assert_status(200);
    assert_eq!(r.json()["unchanged"], 24, "{}", r.text());
}

async fn exports_escape_formulas_in_csv_and_xlsx(app: TestApp) {
    let admin = app.login_token("admin").await;
    let session = app.session("admin").await;
    let reast = app.node_id("R-EAST").await;
    app.post_json(
        "/api/v1/stores",
        &admin,
        json!({"parent_id": reast, "code": "F1", "name_en": "=HYPERLINK(\"http://evil\",\"x\")",
               "name_zh": "@SUM(A1)", "address": "+1-2", "latitude": 40.7, "longitude": -73.98}),
        &[],
    )
    .await
    .assert_status(201);

    let r = get_page(&app, &session, "/stores/export.csv?q=F1").await;
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"stores.csv\"")
    );
    let text = r.text();
    assert!(text.starts_with('\u{feff}'), "BOM for Excel");
    let line = text.lines().find(|l| l.starts_with("F1,")).expect("F1 row");
    assert_eq!(
        line,
        "F1,'@SUM(A1),\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",R-EAST,,,,candidate,40.7,-73.98,Asia/Shanghai,'+1-2",
        "text is escaped; numbers stay numbers"
    );

    let book = get_page(&app, &session, "/stores/export.xlsx?q=F1")
        .await
        .body
        .to_vec();
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(&book)).unwrap();
    let range = wb.worksheet_range("Stores").unwrap();
    let row: Vec<Data> = range.rows().nth(1).expect("the F1 row").to_vec();
    assert_eq!(row[0], Data::String("F1".into()));
    assert_eq!(row[1], Data::String("'@SUM(A1)".into()));
    assert_eq!(
        row[2],
        Data::String("'=HYPERLINK(\"http://evil\",\"x\")".into())
    );
    assert_eq!(row[9], Data::Float(-73.98));
    assert_eq!(row[11], Data::String("'+1-2".into()));

    // And both import back to the same values (the prefix is removed again).
    let r = post_file(&app, &admin, "?dry_run=true", XLSX, book).await;
    r.assert_status(200);
    assert_eq!(
        (&r.json()["updated"], &r.json()["unchanged"]),
        (&json!(0), &json!(1)),
        "{}",
        r.text()
    );
}

fn zip_of(entries: &[(&str, usize)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mib = vec![b'0'; 1024 * 1024];
    for (name, size) in entries {
        w.start_file(*name, opts).unwrap();
        let mut left = *size;
        while left > 0 {
            let n = left.min(mib.len());
            w.write_all(&mib[..n]).unwrap();
            left -= n;
        }
    }
    w.finish().unwrap().into_inner()
}

async fn bombs_oversize_and_mislabelled_files_are_refused(default_app: TestApp) {
    // A 1 MiB file limit, so that "too large" needs no 32 MiB body (which the server refuses
    // mid-upload, before the client has sent it all).
    let app = spawn_app_with(default_app.backend, |s| {
        s.platform.imports.limits.max_bytes = 1024 * 1024
    })
    .await;
    drop(default_app);
    let admin = app.login_token("admin").await;
    let before = fingerprint(&app).await;
    let refused = |r: &Resp, status: u16, code: &str| {
        assert_eq!(r.status, status, "{}", r.text());
        assert_eq!(r.error_code(), code, "{}", r.text());
    };

    // A decompression bomb: 64 MiB that packs into some 64 KiB.
    let bomb = zip_of(&[
        ("[Content_Types].xml", 100),
        ("xl/workbook.xml", 100),
        ("xl/worksheets/sheet1.xml", 64 * 1024 * 1024),
    ]);
    assert!(bomb.len() < 1024 * 1024);
    let r = post_file(&app, &admin, "", XLSX, bomb).await;
    refused(&r, 422, "archive_refused");

    // A directory claiming 3.75 GiB for one sheet: refused from the claim, nothing inflated.
    let sheet = sheet::Sheet {
        name: "Stores".into(),
        headers: vec!["code".into()],
        rows: vec![vec![Cell::from("S001")]],
    };
    let mut book = sheet::write_xlsx(&sheet).unwrap();
    let name = b"xl/worksheets/sheet1.xml";
    let at = (0..book.len() - 46)
        .find(|&i| {
            book[i..i + 4] == *b"PK\x01\x02"
                && book.get(i + 46..i + 46 + name.len()) == Some(name.as_slice())
        })
        .unwrap();
    book[at + 24..at + 28].copy_from_slice(&0xF000_0000u32.to_le_bytes());
    let r = post_file(&app, &admin, "", XLSX, book).await;
    refused(&r, 422, "archive_refused");

    // Too large: refused from Content-Length, before the body is read.
    let big = vec![b'a'; 1024 * 1024 + 100 * 1024];
    let r = post_file(&app, &admin, "", "text/csv", big).await;
    refused(&r, 413, "payload_too_large");

    // Bytes that are not what the type claims.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    let r = post_file(&app, &admin, "", XLSX, png).await;
    refused(&r, 415, "file_content_mismatch");
    let workbook = sheet::write_xlsx(&sheet).unwrap();
    let r = post_file(&app, &admin, "", "text/csv", workbook).await;
    refused(&r, 415, "file_content_mismatch");
    let r = post_file(&app, &admin, "", XLSX, b"code\nS1\n".to_vec()).await;
    refused(&r, 415, "file_content_mismatch");
    let r = post_file(&app, &admin, "", XLSX, zip_of(&[("notes.txt", 10)])).await;
    refused(&r, 415, "file_content_mismatch");
    let r = post_file(&app, &admin, "", "text/csv", b"code\0\x01\x02\n".to_vec()).await;
    refused(&r, 415, "file_not_text");
    let r = post_file(&app, &admin, "", "application/json", b"{}".to_vec()).await;
    refused(&r, 415, "unsupported_file_type");
    let r = post_file(&app, &admin, "", XLSX, b"PK\x03\x04broken".to_vec()).await;
    refused(&r, 422, "file_damaged");

    assert_eq!(fingerprint(&app).await, before, "nothing written");
    // The server is fine afterwards.
    app.get("/api/v1/stores", &admin).await.assert_status(200);
}

async fn imports_stay_inside_the_actors_scope(app: TestApp) {
    let admin = app.login_token("admin").await;
    let m1 = app.login_token("manager.s001").await;
    let file = |rows: Vec<Vec<String>>| csv_of(&rows);
    let row = |code: &str, address: &str, region: &str| {
        let mut r = new_stores(1, "x").remove(0);
        r[0] = code.to_string();
        r[col("address")] = address.to_string();
        r[col("region")] = region.to_string();
        r
    };
    let before = fingerprint(&app).await;
    // A store manager holds no write permission on the org tree: no import at all.
    let r = post_file(&app, &m1, "", "text/csv", file(vec![row("S001", "a", "")])).await;
    r.assert_status(403);
    assert_eq!(r.error_code(), "forbidden");

    // With a role that may edit their own store, the other store and the region stay out of
    // reach: row errors, nothing written.
    let r = app
        .post_json(
            "/api/v1/roles",
            &admin,
            json!({"code": "store_editor", "name_zh": "门店编辑", "name_en": "Store editor",
                   "permissions": ["org.node.read", "org.node.update"]}),
            &[],
        )
        .await;
    r.assert_status(201);
    let role = r.json()["id"].as_str().unwrap().to_string();
    app.post_json(
        "/api/v1/grants",
        &admin,
        json!({"user_id": app.user_id("manager.s001").await, "role_id": role,
               "org_node_id": app.store_id("S001").await}),
        &[],
    )
    .await
    .assert_status(201);
    let mid = fingerprint(&app).await;
    let r = post_file(
        &app,
        &m1,
        "",
        "text/csv",
        file(vec![
            row("S001", "new address", ""),
            row("S002", "not mine", ""),
            row("S777", "new store", "R-EAST"),
        ]),
    )
    .await;
    r.assert_status(422);
    assert_eq!(
        fields(&r),
        ["row 3, column code", "row 4, column region"],
        "{}",
        r.text()
    );
    assert!(r.text().contains("R-EAST not found"), "{}", r.text());
    assert_eq!(fingerprint(&app).await, mid, "nothing written");
    // Their own store alone applies.
    let r = post_file(
        &app,
        &m1,
        "",
        "text/csv",
        file(vec![row("S001", "new address", "")]),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.json()["updated"], 1, "{}", r.text());
    let s002 = app
        .get(
            &format!("/api/v1/stores/{}", app.store_id("S002").await),
            &admin,
        )
        .await;
    assert_ne!(s002.json()["address"], "not mine");
    assert_eq!(fingerprint(&app).await["org_nodes"], before["org_nodes"]);
    // Each sees their own imports; the admin's scope shows all of the company's.
    let mine = app.get("/api/v1/imports", &m1).await.json();
    assert_eq!(mine["page"]["total"], 1);
    let id = mine["items"][0]["id"].as_str().unwrap().to_string();
    let m2 = app.login_token("manager.s002").await;
    app.get(&format!("/api/v1/imports/{id}"), &m2)
        .await
        .assert_status(404);
    assert_eq!(
        app.get("/api/v1/imports", &m2).await.json()["page"]["total"],
        0
    );
}

async fn a_big_import_runs_as_a_job_with_progress(default_app: TestApp) {
    // The threshold is lowered so that a small file counts as big.
    let app = spawn_app_with(default_app.backend, |s| {
        s.platform.imports.sync_max_rows = 50
    })
    .await;
    drop(default_app);
    let admin = app.login_token("admin").await;
    let before = fingerprint(&app).await;
    let r = post_file(&app, &admin, "", "text/csv", csv_of(&new_stores(120, "J"))).await;
    r.assert_status(202);
    let body = r.json();
    assert_eq!(body["status"], "queued");
    let id = body["id"].as_str().unwrap().to_string();
    let job_id = body["job_id"].as_str().expect("a job").to_string();
    assert_eq!(
        fingerprint(&app).await["org_nodes"],
        before["org_nodes"],
        "nothing applied yet"
    );
    let job = app
        .get(&format!("/api/v1/jobs/{job_id}"), &admin)
        .await
        .json();
    assert_eq!(job["kind"], "import.apply");
    assert_eq!(job["status"], "queued");

    app.drain().await;
    let job = app
        .get(&format!("/api/v1/jobs/{job_id}"), &admin)
        .await
        .json();
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(
        job["progress_total"], 240,
        "rows checked, then applied: {job}"
    );
    assert_eq!(job["progress_done"], 240, "{job}");
    assert_eq!(job["progress_note"], "applied");
    assert_eq!(job["result"]["created"], 120);
    let rec = app
        .get(&format!("/api/v1/imports/{id}"), &admin)
        .await
        .json();
    assert_eq!(rec["status"], "applied", "{rec}");
    assert_eq!(rec["created"], 120);
    assert!(rec["finished_at"].is_string());
    assert_eq!(
        fingerprint(&app).await["org_nodes"],
        before["org_nodes"] + 120
    );
    // The jobs page lists it.
    let session = app.session("admin").await;
    let page = get_page(&app, &session, "/admin/jobs").await.text();
    assert!(page.contains("import.apply"), "{page}");
    verify_audit(&app).await;

    // A big file with a bad row: the job ends the import as failed, with the row named.
    let mut rows = new_stores(60, "K");
    rows[29][col("latitude")] = "north".into();
    let r = post_file(&app, &admin, "", "text/csv", csv_of(&rows)).await;
    r.assert_status(202);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let nodes = app.count("org_nodes").await;
    app.drain().await;
    let rec = app
        .get(&format!("/api/v1/imports/{id}"), &admin)
        .await
        .json();
    assert_eq!(rec["status"], "failed", "{rec}");
    assert_eq!(
        rec["errors"],
        json!([{"row": 31, "column": "latitude", "message": "must be a number"}])
    );
    let job = app
        .get(
            &format!("/api/v1/jobs/{}", rec["job_id"].as_str().unwrap()),
            &admin,
        )
        .await
        .json();
    assert_eq!(job["result"]["status"], "failed", "{job}");
    assert_eq!(app.count("org_nodes").await, nodes, "nothing applied");
}

fn multipart(
    boundary: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str, &[u8])>,
) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        write!(
            b,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
        )
        .unwrap();
    }
    if let Some((name, ct, data)) = file {
        write!(
            b,
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n"
        )
        .unwrap();
        b.extend_from_slice(data);
        b.extend_from_slice(b"\r\n");
    }
    write!(b, "--{boundary}--\r\n").unwrap();
    b
}

async fn an_import_replays_by_idempotency_key(app: TestApp) {
    let admin = app.login_token("admin").await;
    let file = csv_of(&new_stores(5, "I"));
    let send = |boundary: &'static str, data: Vec<u8>, key: &'static str| {
        let app = &app;
        let admin = admin.clone();
        async move {
            app.request(Method::POST, "/api/v1/importers/stores/imports")
                .bearer(&admin)
                .header("idempotency-key", key)
                .bytes(
                    &format!("multipart/form-data; boundary={boundary}"),
                    multipart(boundary, &[], Some(("stores.csv", "text/csv", &data))),
                )
                .send()
                .await
        }
    };
    let r1 = send("b-one", file.clone(), "imp-1").await;
    r1.assert_status(201);
    assert_eq!(r1.json()["file_name"], "stores.csv");
    let after = fingerprint(&app).await;
    // A retry of the same upload (a new multipart boundary, the same file) replays.
    let r2 = send("b-two", file.clone(), "imp-1").await;
    r2.assert_status(201);
    assert_eq!(r2.json(), r1.json());
    assert_eq!(r2.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(fingerprint(&app).await, after, "the replay writes nothing");
    // The same key with another file is refused.
    let r3 = send("b-three", csv_of(&new_stores(6, "I")), "imp-1").await;
    r3.assert_status(422);
    assert_eq!(r3.error_code(), "idempotency_key_reused");
    assert_eq!(fingerprint(&app).await, after);
    // A queued import replays its 202.
    let app2 = spawn_app_with(app.backend, |s| s.platform.imports.sync_max_rows = 2).await;
    let admin2 = app2.login_token("admin").await;
    let go = || {
        app2.request(Method::POST, "/api/v1/importers/stores/imports")
            .bearer(&admin2)
            .header("idempotency-key", "big-1")
            .bytes("text/csv", file.clone())
            .send()
    };
    let q1 = go().await;
    q1.assert_status(202);
    let q2 = go().await;
    q2.assert_status(202);
    assert_eq!(q1.json(), q2.json());
    assert_eq!(app2.count("jobs").await, 1, "one job");
}

async fn csrf_of(app: &TestApp, session: &str) -> String {
    let html = get_page(app, session, "/imports").await.text();
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("a _csrf field") + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end].to_string()
}

async fn the_import_page_checks_then_applies(app: TestApp) {
    let session = app.session("admin").await;
    let csrf = csrf_of(&app, &session).await;
    let page = get_page(&app, &session, "/imports").await.text();
    assert!(page.contains("id=\"import-form\""));
    assert!(
        page.contains("<code>sales_area_m2</code>"),
        "the columns are documented"
    );
    let post = |body: Vec<u8>| {
        app.request(Method::POST, "/imports")
            .cookie("boh_session", &session)
            .bytes("multipart/form-data; boundary=XbOuNd", body)
            .send()
    };
    let good = csv_of(&new_stores(2, "W"));
    let nodes = app.count("org_nodes").await;

    // Without the CSRF token first, refused.
    let r = post(multipart(
        "XbOuNd",
        &[("kind", "stores")],
        Some(("w.csv", "text/csv", &good)),
    ))
    .await;
    r.assert_status(403);
    // A bad file comes back with its problems in a table.
    let mut bad = new_stores(2, "W");
    bad[1][col("longitude")] = "500".into();
    let r = post(multipart(
        "XbOuNd",
        &[("_csrf", &csrf), ("kind", "stores")],
        Some(("w.csv", "text/csv", &csv_of(&bad))),
    ))
    .await;
    r.assert_status(422);
    let html = r.text();
    assert!(html.contains("id=\"import-errors\""), "{html}");
    assert!(html.contains("<code>longitude</code>"), "{html}");
    // A good file is checked and stored, nothing applied yet.
    let r = post(multipart(
        "XbOuNd",
        &[("_csrf", &csrf), ("kind", "stores"), ("sheet", "")],
        Some(("门店.csv", "text/csv", &good)),
    ))
    .await;
    r.assert_status(303);
    let location = r.header("location").expect("redirect");
    assert!(location.starts_with("/imports/"), "{location}");
    assert_eq!(app.count("org_nodes").await, nodes);
    let html = get_page(&app, &session, &location).await.text();
    assert!(html.contains("id=\"import-apply\""), "{html}");
    assert!(html.contains("id=\"count-created\">2<"), "{html}");
    // Apply.
    let apply = format!("{location}/apply");
    let r = app
        .request(Method::POST, &apply)
        .cookie("boh_session", &session)
        .form(&format!("_csrf={}", crate::common::urlencode(&csrf)))
        .send()
        .await;
    r.assert_status(303);
    assert_eq!(r.header("location"), Some(format!("{location}?applied=1")));
    assert_eq!(app.count("org_nodes").await, nodes + 2);
    let html = get_page(&app, &session, &format!("{location}?applied=1"))
        .await
        .text();
    assert!(!html.contains("id=\"import-apply\""));
    // Only once.
    let r = app
        .request(Method::POST, &apply)
        .cookie("boh_session", &session)
        .form(&format!("_csrf={}", crate::common::urlencode(&csrf)))
        .send()
        .await;
    r.assert_status(409);
    assert_eq!(app.count("org_nodes").await, nodes + 2);
}

async fn the_template_lists_the_columns(app: TestApp) {
    let admin = app.login_token("admin").await;
    let r = app
        .get("/api/v1/importers/stores/template.csv", &admin)
        .await;
    r.assert_status(200);
    assert_eq!(
        r.header("content-type").as_deref(),
        Some("text/csv; charset=utf-8")
    );
    assert_eq!(
        r.header("content-disposition").as_deref(),
        Some("attachment; filename=\"stores-template.csv\"")
    );
    assert_eq!(r.text(), format!("\u{feff}{}\r\n", COLUMNS.join(",")));
    let m1 = app.login_token("manager.s001").await;
    app.get("/api/v1/importers/stores/template.csv", &m1)
        .await
        .assert_status(403);
    let r = app
        .get("/api/v1/importers/nothing/template.csv", &admin)
        .await;
    r.assert_status(404);
    let kinds = app.get("/api/v1/importers", &admin).await.json();
    assert_eq!(kinds["items"][0]["kind"], "stores");
    assert_eq!(kinds["items"][0]["columns"][0]["name"], "code");
    assert_eq!(
        app.get("/api/v1/importers", &m1).await.json()["items"],
        json!([])
    );
}
