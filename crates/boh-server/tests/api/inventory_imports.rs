//! The inventory importers end to end over HTTP: categories, items, suppliers, supplier prices,
//! recipes and opening balances. For each kind a good file applies and applying it again
//! changes nothing; a bad file reports every problem at once and writes nothing; XLSX files
//! import like CSV; opening balances stay inside the actor's locations.

use std::collections::BTreeMap;

use boh_platform::sheet::{self, Cell};
use hyper::Method;
use serde_json::json;

use crate::common::{Resp, TestApp, spawn_app_with};

both!(categories_items_and_suppliers_apply_once);
both!(bad_catalogue_files_report_every_problem_and_write_nothing);
both!(an_items_xlsx_and_the_items_export_import_back);
both!(supplier_prices_add_dated_prices_once);
both!(recipes_import_one_version_per_item_and_date);
both!(opening_balances_post_once_inside_the_actors_locations);
both!(the_imports_page_offers_every_kind);
both!(large_files_run_as_jobs_with_the_submitters_grants);

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

fn sheet_of(headers: &[&str], rows: &[&[&str]]) -> sheet::Sheet {
    sheet::Sheet {
        name: "Sheet1".into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows: rows
            .iter()
            .map(|r| r.iter().map(|c| Cell::Text(c.to_string())).collect())
            .collect(),
    }
}

fn csv(headers: &[&str], rows: &[&[&str]]) -> Vec<u8> {
    sheet::write_csv(&sheet_of(headers, rows)).unwrap()
}

async fn post(
    app: &TestApp,
    token: &str,
    kind: &str,
    query: &str,
    ct: &str,
    body: Vec<u8>,
) -> Resp {
    app.request(
        Method::POST,
        &format!("/api/v1/importers/{kind}/imports{query}"),
    )
    .bearer(token)
    .bytes(ct, body)
    .send()
    .await
}

/// Apply a CSV file: 201 with these (created, updated, unchanged) counts.
async fn apply(app: &TestApp, token: &str, kind: &str, body: Vec<u8>, counts: (i64, i64, i64)) {
    let r = post(app, token, kind, "", "text/csv", body).await;
    r.assert_status(201);
    let j = r.json();
    assert_eq!(
        (
            j["created"].as_i64().unwrap(),
            j["updated"].as_i64().unwrap(),
            j["unchanged"].as_i64().unwrap()
        ),
        counts,
        "{kind}: {j}"
    );
}

/// Counts of everything the inventory importers could write.
async fn fingerprint(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut out = BTreeMap::new();
    for (name, sql) in [
        ("categories", "SELECT COUNT(*) FROM inv_categories"),
        (
            "category_updates",
            "SELECT CAST(COALESCE(SUM(updated_at), 0) AS BIGINT) FROM inv_categories",
        ),
        ("items", "SELECT COUNT(*) FROM inv_items"),
        (
            "item_versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM inv_items",
        ),
        ("item_units", "SELECT COUNT(*) FROM inv_item_units"),
        ("barcodes", "SELECT COUNT(*) FROM inv_item_barcodes"),
        ("suppliers", "SELECT COUNT(*) FROM inv_suppliers"),
        (
            "supplier_versions",
            "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM inv_suppliers",
        ),
        ("supplier_items", "SELECT COUNT(*) FROM inv_supplier_items"),
        ("prices", "SELECT COUNT(*) FROM inv_supplier_prices"),
        ("recipes", "SELECT COUNT(*) FROM inv_recipes"),
        (
            "recipe_versions",
            "SELECT COUNT(*) FROM inv_recipe_versions",
        ),
        ("recipe_lines", "SELECT COUNT(*) FROM inv_recipe_lines"),
        ("docs", "SELECT COUNT(*) FROM inv_docs"),
        ("movements", "SELECT COUNT(*) FROM inv_movements"),
        ("lots", "SELECT COUNT(*) FROM inv_lots"),
        ("audit_log", "SELECT COUNT(*) FROM audit_log"),
        ("outbox", "SELECT COUNT(*) FROM outbox"),
        ("imports", "SELECT COUNT(*) FROM imports"),
    ] {
        out.insert(name, app.scalar_i64(sql).await);
    }
    out
}

/// The error fields of a refusal, sorted.
fn fields(r: &Resp) -> Vec<String> {
    let mut f = r.error_fields();
    f.sort();
    f
}

const CAT_COLS: &[&str] = &["code", "name_zh", "name_en", "parent_code", "sort"];
const ITEM_COLS: &[&str] = &[
    "code",
    "name_zh",
    "name_en",
    "category_code",
    "kind",
    "base_unit",
    "storage_type",
    "shelf_life_days",
    "lot_tracked",
    "stocked",
    "pos_code",
    "active",
    "units",
    "barcodes",
];
const SUP_COLS: &[&str] = &[
    "code",
    "name_zh",
    "name_en",
    "contact_name",
    "phone",
    "email",
    "address",
    "lead_time_days",
    "delivery_days",
    "min_order",
    "currency",
    "active",
];

fn categories_file() -> Vec<u8> {
    // A child before its parent: parents may come from anywhere in the file.
    csv(
        CAT_COLS,
        &[
            &["DRY", "干货", "Dry goods", "FOOD", "1"],
            &["FOOD", "食品", "Food", "", "0"],
            &["FROZ", "冷冻", "Frozen", "FOOD", "2"],
        ],
    )
}

fn items_file() -> Vec<u8> {
    csv(
        ITEM_COLS,
        &[
            &[
                "FLOUR",
                "面粉",
                "Flour",
                "DRY",
                "ingredient",
                "kg",
                "ambient",
                "180",
                "false",
                "true",
                "",
                "true",
                "bag=25;case=100",
                "6901234567890:bag",
            ],
            &[
                "MILK",
                "牛奶",
                "Milk",
                "FOOD",
                "ingredient",
                "l",
                "chilled",
                "10",
                "true",
                "true",
                "",
                "true",
                "box=12",
                "",
            ],
            &[
                "PRAWN",
                "虾仁",
                "Prawns",
                "FROZ",
                "ingredient",
                "kg",
                "frozen",
                "",
                "true",
                "true",
                "",
                "true",
                "",
                "",
            ],
            &[
                "LATTE", "拿铁", "Latte", "", "menu", "ea", "ambient", "", "false", "false",
                "P-LATTE", "true", "", "",
            ],
        ],
    )
}

fn suppliers_file() -> Vec<u8> {
    csv(
        SUP_COLS,
        &[
            &[
                "SUP-A",
                "华东粮油",
                "East Grain",
                "王强",
                "+86 21 5555 0101",
                "orders@a.example",
                "上海",
                "2",
                "1,3,5",
                "500.00",
                "CNY",
                "true",
            ],
            &[
                "SUP-B",
                "鲜奶坊",
                "Dairy House",
                "",
                "",
                "",
                "",
                "1",
                "",
                "0",
                "",
                "",
            ],
        ],
    )
}

/// Categories, items and suppliers of the tests, imported by `admin`.
pub async fn catalogue(app: &TestApp, admin: &str) {
    apply(app, admin, "categories", categories_file(), (3, 0, 0)).await;
    apply(app, admin, "items", items_file(), (4, 0, 0)).await;
    apply(app, admin, "suppliers", suppliers_file(), (2, 0, 0)).await;
}

async fn categories_items_and_suppliers_apply_once(app: TestApp) {
    let admin = app.login_token("admin").await;
    let before = fingerprint(&app).await;
    catalogue(&app, &admin).await;
    let after = fingerprint(&app).await;
    assert_eq!(after["categories"], before["categories"] + 3);
    assert_eq!(after["items"], before["items"] + 4);
    assert_eq!(after["item_units"], before["item_units"] + 3);
    assert_eq!(after["barcodes"], before["barcodes"] + 1);
    assert_eq!(after["suppliers"], before["suppliers"] + 2);
    let dry = app
        .get("/api/v1/categories", &admin)
        .await
        .json()
        .to_string();
    assert!(dry.contains("\"DRY\""), "{dry}");
    let flour = app.get("/api/v1/items?q=FLOUR", &admin).await.json();
    let flour = &flour["items"][0];
    assert_eq!(flour["units"][0]["unit"], "bag");
    assert_eq!(flour["units"][1]["factor"], "100");
    assert_eq!(flour["barcodes"][0]["unit"], "bag");
    assert_eq!(flour["shelf_life_days"], 180);
    let sup = app.get("/api/v1/suppliers?q=SUP-A", &admin).await.json();
    assert_eq!(sup["items"][0]["delivery_days"], json!([1, 3, 5]));
    assert_eq!(sup["items"][0]["min_order_minor"], 50000);

    // The same files again change nothing: no writes, no audit rows, no events.
    apply(&app, &admin, "categories", categories_file(), (0, 0, 3)).await;
    apply(&app, &admin, "items", items_file(), (0, 0, 4)).await;
    apply(&app, &admin, "suppliers", suppliers_file(), (0, 0, 2)).await;
    let again = fingerprint(&app).await;
    let mut expected = after.clone();
    expected.insert("imports", after["imports"] + 3);
    assert_eq!(again, expected);

    // A changed cell updates exactly that record.
    let edited = csv(
        &["code", "name_en", "units"],
        &[
            &["FLOUR", "Bread flour", "bag=25"],
            &["MILK", "Milk", "box=12"],
        ],
    );
    apply(&app, &admin, "items", edited, (0, 1, 1)).await;
    let flour = app.get("/api/v1/items?q=FLOUR", &admin).await.json();
    assert_eq!(flour["items"][0]["name_en"], "Bread flour");
    assert_eq!(flour["items"][0]["units"].as_array().unwrap().len(), 1);
    assert_eq!(flour["items"][0]["name_zh"], "面粉", "missing columns keep");
}

async fn bad_catalogue_files_report_every_problem_and_write_nothing(app: TestApp) {
    let admin = app.login_token("admin").await;
    apply(&app, &admin, "categories", categories_file(), (3, 0, 0)).await;
    let before = fingerprint(&app).await;

    let bad_cats = csv(
        CAT_COLS,
        &[
            &["NEW", "新", "New", "NOWHERE", ""],
            &["NEW", "新", "New", "", ""],
            &["BAD CODE", "x", "x", "", ""],
            &["ODD", "x", "x", "", "ten"],
            &["FOOD", "食品", "Food", "DRY", ""],
        ],
    );
    for query in ["?dry_run=true", ""] {
        let r = post(
            &app,
            &admin,
            "categories",
            query,
            "text/csv",
            bad_cats.clone(),
        )
        .await;
        r.assert_status(422);
        assert_eq!(
            fields(&r),
            [
                "row 2, column parent_code",
                "row 3, column code",
                "row 4, column code",
                "row 5, column sort",
                "row 6, column parent_code",
            ],
            "{}",
            r.text()
        );
        assert!(
            r.text().contains("category NOWHERE not found"),
            "{}",
            r.text()
        );
    }

    let bad_items = csv(
        ITEM_COLS,
        &[
            &[
                "A1", "", "Apple", "NOCAT", "", "kg", "", "", "", "", "", "", "", "",
            ],
            &[
                "A2", "", "Pear", "", "gadget", "kg", "", "-3", "", "", "", "", "", "",
            ],
            &[
                "A3", "", "Plum", "", "", "", "", "", "maybe", "", "", "", "", "",
            ],
            &[
                "A4", "", "Fig", "", "", "kg", "", "", "", "", "", "", "case", "",
            ],
            &[
                "A4", "", "Fig", "", "", "kg", "", "", "", "", "", "", "", "",
            ],
            &[
                "A5", "", "Kiwi", "", "", "kg", "", "", "", "", "", "", "box=-1", "x:kg",
            ],
        ],
    );
    for query in ["?dry_run=true", ""] {
        let r = post(&app, &admin, "items", query, "text/csv", bad_items.clone()).await;
        r.assert_status(422);
        assert_eq!(
            fields(&r),
            [
                "row 2, column category_code",
                "row 3, column kind",
                "row 3, column shelf_life_days",
                "row 4, column base_unit",
                "row 4, column lot_tracked",
                "row 5, column units",
                "row 6, column code",
                "row 7, column barcodes",
                "row 7, column units",
            ],
            "{}",
            r.text()
        );
        assert!(r.text().contains("no category NOCAT"), "{}", r.text());
    }

    let bad_sups = csv(
        SUP_COLS,
        &[
            &["S1", "", "One", "", "", "", "", "400", "", "", "", ""],
            &["S2", "", "Two", "", "", "", "", "", "1,9", "", "", ""],
            &[
                "S3", "", "Three", "", "", "", "", "", "", "5.555", "cny", "",
            ],
            &["S4", "", "", "", "", "", "", "", "", "", "", ""],
        ],
    );
    let r = post(&app, &admin, "suppliers", "", "text/csv", bad_sups).await;
    r.assert_status(422);
    assert_eq!(
        fields(&r),
        [
            "row 2, column lead_time_days",
            "row 3, column delivery_days",
            "row 4, column currency",
            "row 4, column min_order",
            "row 5, column name_en",
            "row 5, column name_zh",
        ],
        "{}",
        r.text()
    );
    assert_eq!(fingerprint(&app).await, before, "nothing written");

    // A store manager may not change the catalogue at all.
    let m1 = app.login_token("manager.s001").await;
    let r = post(&app, &m1, "items", "", "text/csv", items_file()).await;
    r.assert_status(403);
}

async fn an_items_xlsx_and_the_items_export_import_back(app: TestApp) {
    let admin = app.login_token("admin").await;
    apply(&app, &admin, "categories", categories_file(), (3, 0, 0)).await;
    let table = sheet::read(
        &items_file(),
        &sheet::Source::named("items.csv"),
        &sheet::Limits::default(),
    )
    .unwrap();
    let rows: Vec<Vec<&str>> = table
        .rows
        .iter()
        .map(|r| r.cells.iter().map(String::as_str).collect())
        .collect();
    let rows: Vec<&[&str]> = rows.iter().map(Vec::as_slice).collect();
    let book = sheet::write_xlsx(&sheet_of(ITEM_COLS, &rows)).unwrap();
    let r = post(
        &app,
        &admin,
        "items",
        "?file_name=items.xlsx",
        XLSX,
        book.clone(),
    )
    .await;
    r.assert_status(201);
    assert_eq!(r.json()["format"], "xlsx");
    assert_eq!(r.json()["created"], 4, "{}", r.text());
    let r = post(&app, &admin, "items", "", XLSX, book).await;
    r.assert_status(201);
    assert_eq!(r.json()["unchanged"], 4, "{}", r.text());

    // The item export (XLSX) is in the importer's columns: it imports back unchanged.
    let session = app.session("admin").await;
    let export = app
        .request(Method::GET, "/inventory/items/export.xlsx")
        .cookie("boh_session", &session)
        .send()
        .await;
    export.assert_status(200);
    let before = fingerprint(&app).await;
    let r = post(&app, &admin, "items", "", XLSX, export.body.to_vec()).await;
    r.assert_status(201);
    assert_eq!(r.json()["unchanged"], 4, "{}", r.text());
    assert_eq!(r.json()["created"], 0, "{}", r.text());
    let after = fingerprint(&app).await;
    assert_eq!(after["item_versions"], before["item_versions"]);
    assert_eq!(after["audit_log"], before["audit_log"]);

    // The categories export imports back unchanged too.
    let export = app
        .request(Method::GET, "/inventory/categories/export.csv")
        .cookie("boh_session", &session)
        .send()
        .await;
    export.assert_status(200);
    apply(&app, &admin, "categories", export.body.to_vec(), (0, 0, 3)).await;
}

const PRICE_COLS: &[&str] = &[
    "supplier_code",
    "item_code",
    "supplier_sku",
    "pack_unit",
    "price",
    "effective_from",
    "preferred",
    "note",
];

fn prices_file() -> Vec<u8> {
    csv(
        PRICE_COLS,
        &[
            &[
                "SUP-A",
                "FLOUR",
                "HD-1",
                "bag",
                "125.50",
                "2026-01-01",
                "true",
                "Q1",
            ],
            &[
                "SUP-A",
                "FLOUR",
                "HD-1",
                "bag",
                "130.00",
                "2026-06-01",
                "true",
                "Q2",
            ],
            &["SUP-A", "MILK", "", "box", "96.00", "", "false", ""],
            &["SUP-B", "MILK", "", "l", "8.50", "2026-01-01", "", ""],
        ],
    )
}

async fn supplier_prices_add_dated_prices_once(app: TestApp) {
    let admin = app.login_token("admin").await;
    catalogue(&app, &admin).await;
    let before = fingerprint(&app).await;
    apply(&app, &admin, "supplier_prices", prices_file(), (4, 0, 0)).await;
    let after = fingerprint(&app).await;
    assert_eq!(after["supplier_items"], before["supplier_items"] + 3);
    assert_eq!(after["prices"], before["prices"] + 4);
    // The price in force today is the latest one.
    let sup = app.get("/api/v1/suppliers?q=SUP-A", &admin).await.json();
    let id = sup["items"][0]["id"].as_str().unwrap().to_string();
    let items = app
        .get(&format!("/api/v1/suppliers/{id}/items"), &admin)
        .await
        .json();
    let flour = items["items"]
        .as_array()
        .or(items.as_array())
        .unwrap()
        .iter()
        .find(|i| i["item_code"] == "FLOUR")
        .unwrap()
        .clone();
    assert_eq!(flour["current_price"]["price_minor"], 13000, "{flour}");
    assert_eq!(flour["supplier_sku"], "HD-1");
    assert_eq!(flour["preferred"], true);

    // The same file again adds nothing.
    apply(&app, &admin, "supplier_prices", prices_file(), (0, 0, 4)).await;
    let mut expected = after.clone();
    expected.insert("imports", after["imports"] + 1);
    assert_eq!(fingerprint(&app).await, expected);
    // The price history exports in the importer's columns and imports back unchanged.
    let session = app.session("admin").await;
    let export = app
        .request(Method::GET, "/suppliers/prices/export.xlsx")
        .cookie("boh_session", &session)
        .send()
        .await;
    export.assert_status(200);
    let r = post(
        &app,
        &admin,
        "supplier_prices",
        "",
        XLSX,
        export.body.to_vec(),
    )
    .await;
    r.assert_status(201);
    assert_eq!(
        (&r.json()["created"], &r.json()["unchanged"]),
        (&json!(0), &json!(4)),
        "{}",
        r.text()
    );
    // A new SKU alone updates the supplier item and adds no price.
    let sku = csv(
        &[
            "supplier_code",
            "item_code",
            "supplier_sku",
            "pack_unit",
            "price",
            "effective_from",
        ],
        &[&["SUP-A", "FLOUR", "HD-9", "bag", "125.50", "2026-01-01"]],
    );
    apply(&app, &admin, "supplier_prices", sku, (0, 1, 0)).await;
    assert_eq!(fingerprint(&app).await["prices"], after["prices"]);

    // Every problem at once, nothing written.
    let before = fingerprint(&app).await;
    let bad = csv(
        PRICE_COLS,
        &[
            &["SUP-X", "FLOUR", "", "", "1.00", "", "", ""],
            &["SUP-A", "NOPE", "", "", "1.00", "", "", ""],
            &["SUP-A", "FLOUR", "", "box", "1.00", "", "", ""],
            &["SUP-A", "FLOUR", "", "", "-1", "", "", ""],
            &["SUP-A", "FLOUR", "", "", "1.00", "2026-13-01", "", ""],
            &["SUP-B", "FLOUR", "", "", "2.00", "2026-02-01", "", ""],
            &["SUP-B", "FLOUR", "", "", "3.00", "2026-02-01", "", ""],
        ],
    );
    for query in ["?dry_run=true", ""] {
        let r = post(
            &app,
            &admin,
            "supplier_prices",
            query,
            "text/csv",
            bad.clone(),
        )
        .await;
        r.assert_status(422);
        assert_eq!(
            fields(&r),
            [
                "row 2, column supplier_code",
                "row 3, column item_code",
                "row 4, column pack_unit",
                "row 5, column price",
                "row 6, column effective_from",
                "row 8, column effective_from",
            ],
            "{}",
            r.text()
        );
        let t = r.text();
        assert!(t.contains("supplier SUP-X not found"), "{t}");
        assert!(t.contains("no conversion from box to kg"), "{t}");
    }
    assert_eq!(fingerprint(&app).await, before);
}

const RECIPE_COLS: &[&str] = &[
    "item_code",
    "effective_from",
    "ingredient_code",
    "qty",
    "unit",
    "yield_pct",
    "batch_yield",
    "note",
];

async fn recipes_import_one_version_per_item_and_date(app: TestApp) {
    let admin = app.login_token("admin").await;
    catalogue(&app, &admin).await;
    let good = csv(
        RECIPE_COLS,
        &[
            &[
                "LATTE",
                "2026-01-01",
                "MILK",
                "250",
                "ml",
                "100",
                "1",
                "first",
            ],
            &["LATTE", "2026-01-01", "FLOUR", "10", "g", "90", "1", ""],
        ],
    );
    let before = fingerprint(&app).await;
    apply(&app, &admin, "recipes", good.clone(), (1, 0, 0)).await;
    let after = fingerprint(&app).await;
    assert_eq!(after["recipe_versions"], before["recipe_versions"] + 1);
    assert_eq!(after["recipe_lines"], before["recipe_lines"] + 2);
    let latte = app.get("/api/v1/items?q=LATTE", &admin).await.json();
    let id = latte["items"][0]["id"].as_str().unwrap().to_string();
    let recipe = app
        .get(&format!("/api/v1/items/{id}/recipe"), &admin)
        .await
        .json();
    assert_eq!(
        recipe["versions"][0]["lines"][0]["base_qty"], "0.25",
        "{recipe}"
    );
    assert_eq!(recipe["versions"][0]["lines"][1]["yield_pct"], "90");
    // Again: the version exists with the same lines, nothing changes.
    apply(&app, &admin, "recipes", good, (0, 0, 1)).await;
    let mut expected = after.clone();
    expected.insert("imports", after["imports"] + 1);
    assert_eq!(fingerprint(&app).await, expected);
    // The export imports back unchanged; a later version is added next to it.
    let session = app.session("admin").await;
    let export = app
        .request(Method::GET, "/recipes/export.csv")
        .cookie("boh_session", &session)
        .send()
        .await;
    export.assert_status(200);
    apply(&app, &admin, "recipes", export.body.to_vec(), (0, 0, 1)).await;
    let next = csv(
        RECIPE_COLS,
        &[
            &[
                "LATTE",
                "2026-01-01",
                "MILK",
                "250",
                "ml",
                "100",
                "1",
                "first",
            ],
            &["LATTE", "2026-01-01", "FLOUR", "10", "g", "90", "1", ""],
            &[
                "LATTE",
                "2030-06-01",
                "MILK",
                "0.3",
                "l",
                "",
                "",
                "more milk",
            ],
        ],
    );
    apply(&app, &admin, "recipes", next, (1, 0, 1)).await;

    // Every problem at once, nothing written.
    let before = fingerprint(&app).await;
    let bad = csv(
        RECIPE_COLS,
        &[
            &["NOPE", "2030-07-01", "MILK", "1", "", "", "", ""],
            &["FLOUR", "2030-07-01", "MILK", "1", "", "", "", ""],
            &["LATTE", "2026-01-01", "MILK", "999", "ml", "", "", ""],
            &["LATTE", "2030-07-01", "MILK", "-5", "ml", "", "", ""],
            &["LATTE", "2030-07-01", "MILK", "5", "kg", "", "", ""],
            &["LATTE", "2030-07-01", "NOPE2", "1", "", "", "", ""],
            &["LATTE", "someday", "MILK", "1", "", "", "", ""],
        ],
    );
    for query in ["?dry_run=true", ""] {
        let r = post(&app, &admin, "recipes", query, "text/csv", bad.clone()).await;
        r.assert_status(422);
        assert_eq!(
            fields(&r),
            [
                "row 2, column item_code",
                "row 3, column item_code",
                "row 4, column effective_from",
                "row 5, column qty",
                "row 6, column unit",
                "row 7, column ingredient_code",
                "row 8, column effective_from",
            ],
            "{}",
            r.text()
        );
        let t = r.text();
        assert!(t.contains("versions are never changed"), "{t}");
        assert!(t.contains("no conversion from kg to l"), "{t}");
        assert!(t.contains("must be positive"), "{t}");
    }
    assert_eq!(fingerprint(&app).await, before);
}

const OPENING_COLS: &[&str] = &[
    "location_code",
    "item_code",
    "qty",
    "unit",
    "unit_cost",
    "lot_code",
    "expiry_date",
    "business_date",
];

fn opening_file() -> Vec<u8> {
    csv(
        OPENING_COLS,
        &[
            &["S001", "FLOUR", "2", "bag", "120.00", "", "", ""],
            &["S001", "MILK", "24", "l", "8", "L1", "2099-12-20", ""],
            &["S001", "PRAWN", "5", "kg", "60.5", "P1", "", ""],
        ],
    )
}

async fn opening_balances_post_once_inside_the_actors_locations(app: TestApp) {
    let admin = app.login_token("admin").await;
    catalogue(&app, &admin).await;
    let m1 = app.login_token("manager.s001").await;
    let before = fingerprint(&app).await;
    // A store manager posts the opening stock of their own store.
    apply(&app, &m1, "opening_balances", opening_file(), (3, 0, 0)).await;
    let after = fingerprint(&app).await;
    assert_eq!(after["docs"], before["docs"] + 1);
    assert_eq!(after["movements"], before["movements"] + 3);
    assert_eq!(after["lots"], before["lots"] + 2);
    let s001 = app.store_id("S001").await;
    let flour: (i64, i64) = {
        let q = app
            .scalar_i64(&format!(
                "SELECT v.qty FROM inv_valuation v JOIN inv_items i ON i.id = v.item_id \
                 WHERE i.code = 'FLOUR' AND v.location_id = '{s001}'"
            ))
            .await;
        let v = app
            .scalar_i64(&format!(
                "SELECT v.value FROM inv_valuation v JOIN inv_items i ON i.id = v.item_id \
                 WHERE i.code = 'FLOUR' AND v.location_id = '{s001}'"
            ))
            .await;
        (q, v)
    };
    assert_eq!(flour, (50_000_000, 24_000), "50 kg worth 240.00");
    crate::inventory::assert_ledger_consistent(&app).await;

    // The same file again posts nothing.
    apply(&app, &m1, "opening_balances", opening_file(), (0, 0, 3)).await;
    let mut expected = after.clone();
    expected.insert("imports", after["imports"] + 1);
    assert_eq!(fingerprint(&app).await, expected);
    // Another opening of an item that has one is refused; so is another store's.
    let before = fingerprint(&app).await;
    let other = csv(
        OPENING_COLS,
        &[
            &["S001", "FLOUR", "3", "bag", "", "", "", ""],
            &["S002", "FLOUR", "1", "", "", "", "", ""],
        ],
    );
    let r = post(&app, &m1, "opening_balances", "", "text/csv", other).await;
    r.assert_status(422);
    assert_eq!(
        fields(&r),
        ["row 2, column item_code", "row 3, column location_code"],
        "{}",
        r.text()
    );
    let t = r.text();
    assert!(t.contains("already has an opening balance at S001"), "{t}");
    assert!(t.contains("location S002 not found"), "{t}");
    // Every problem at once (as the administrator), nothing written.
    let bad = csv(
        OPENING_COLS,
        &[
            &["S999", "FLOUR", "1", "", "", "", "", ""],
            &["S002", "NOPE", "1", "", "", "", "", ""],
            &["S002", "FLOUR", "-4", "", "", "", "", ""],
            &["S002", "FLOUR", "4", "l", "", "", "", ""],
            &["S002", "FLOUR", "4", "", "", "", "", "2026-02-30"],
            &["S002", "MILK", "4", "", "", "", "", ""],
            &["S002", "PRAWN", "4", "", "", "P9", "", ""],
            &["S002", "PRAWN", "4", "", "", "P9", "", ""],
            &["S002", "LATTE", "4", "", "", "", "", ""],
            &["S002", "FLOUR", "4", "", "abc", "", "", ""],
        ],
    );
    for query in ["?dry_run=true", ""] {
        let r = post(
            &app,
            &admin,
            "opening_balances",
            query,
            "text/csv",
            bad.clone(),
        )
        .await;
        r.assert_status(422);
        assert_eq!(
            fields(&r),
            [
                "row 10, column item_code",
                "row 11, column unit_cost",
                "row 2, column location_code",
                "row 3, column item_code",
                "row 4, column qty",
                "row 5, column unit",
                "row 6, column business_date",
                "row 7, column lot_code",
                "row 9, column item_code",
            ],
            "{}",
            r.text()
        );
        let t = r.text();
        assert!(t.contains("location S999 not found"), "{t}");
        assert!(t.contains("must be positive"), "{t}");
        assert!(t.contains("no conversion from l to kg"), "{t}");
        assert!(t.contains("the lot is required"), "{t}");
    }
    assert_eq!(fingerprint(&app).await, before);
    // The store manager gets the template of the one kind they may import.
    let r = app
        .get("/api/v1/importers/opening_balances/template.csv", &m1)
        .await;
    r.assert_status(200);
    assert!(r.text().starts_with("\u{feff}location_code,item_code,qty"));
}

async fn the_imports_page_offers_every_kind(app: TestApp) {
    let session = app.session("admin").await;
    let page = app
        .request(Method::GET, "/imports?kind=recipes")
        .cookie("boh_session", &session)
        .send()
        .await;
    page.assert_status(200);
    let html = page.text();
    for kind in [
        "categories",
        "items",
        "suppliers",
        "supplier_prices",
        "recipes",
        "opening_balances",
        "stores",
    ] {
        assert!(
            html.contains(&format!("<option value=\"{kind}\"")),
            "{kind} is offered"
        );
    }
    assert!(
        html.contains("<code>ingredient_code</code>"),
        "the columns of the kind"
    );
    assert!(html.contains("/api/v1/importers/recipes/template.csv"));
    assert!(html.contains("href=\"/imports?kind=opening_balances\""));
}

/// Queue a file (the job threshold is lowered), run the worker, and answer the import record.
async fn queued(app: &TestApp, token: &str, kind: &str, body: Vec<u8>) -> serde_json::Value {
    let r = post(app, token, kind, "", "text/csv", body).await;
    r.assert_status(202);
    let id = r.json()["id"].as_str().unwrap().to_string();
    app.drain().await;
    app.get(&format!("/api/v1/imports/{id}"), token)
        .await
        .json()
}

async fn large_files_run_as_jobs_with_the_submitters_grants(default_app: TestApp) {
    let app = spawn_app_with(default_app.backend, |s| {
        s.platform.imports.sync_max_rows = 2
    })
    .await;
    drop(default_app);
    let admin = app.login_token("admin").await;
    for (kind, file, n) in [
        ("categories", categories_file(), 3),
        ("items", items_file(), 4),
        ("supplier_prices", prices_file(), 0),
    ] {
        let rec = queued(&app, &admin, kind, file).await;
        if n == 0 {
            // No suppliers yet: the job ends the import as failed, every row named.
            assert_eq!(rec["status"], "failed", "{rec}");
            assert_eq!(rec["errors"].as_array().unwrap().len(), 4, "{rec}");
        } else {
            assert_eq!(
                (&rec["status"], &rec["created"]),
                (&json!("applied"), &json!(n)),
                "{rec}"
            );
        }
    }
    let m1 = app.login_token("manager.s001").await;
    let before = fingerprint(&app).await;
    let rec = queued(&app, &m1, "opening_balances", opening_file()).await;
    assert_eq!(rec["status"], "applied", "{rec}");
    assert_eq!(rec["created"], 3, "{rec}");
    assert_eq!(fingerprint(&app).await["docs"], before["docs"] + 1);
    let rec = queued(&app, &m1, "opening_balances", opening_file()).await;
    assert_eq!(
        (&rec["status"], &rec["unchanged"]),
        (&json!("applied"), &json!(3)),
        "{rec}"
    );
    assert_eq!(fingerprint(&app).await["docs"], before["docs"] + 1);
    crate::inventory::assert_ledger_consistent(&app).await;
    let report = boh_platform::audit::verify(app.db(), None, |_, _| {})
        .await
        .unwrap();
    assert!(report.ok, "the audit chain verifies: {report:?}");
}
