//! `boh bench valuation`: the stock valuation report over a large ledger (default 100,000
//! items and 10,000,000 movements at the demo chain's locations), against the naive report
//! that a ledger without maintained valuation rows needs: one aggregate over every movement,
//! run on the same database in the same run.
//!
//! The data is loaded with set-based SQL (a recursive CTE on SQLite, `generate_series` on
//! PostgreSQL) in one transaction, with the movement indexes built after the load; valuation
//! and on-hand rows are the sums of the loaded movements, so the ledger checker's invariant
//! holds. Each report is then run `--runs` times; the median is reported.

use std::process::ExitCode;
use std::time::Instant;

use boh_db::{Backend, Row};
use boh_inventory::valuation::{self, ValuationFilter};
use boh_kernel::Actor;
use boh_platform::Platform;

use crate::bench::BenchArgs;

/// Indexes of `inv_movements` dropped during the load and built after it.
const MOVEMENT_INDEXES: &[(&str, &str)] = &[
    ("inv_movements_doc", "inv_movements(doc_id)"),
    (
        "inv_movements_item",
        "inv_movements(location_id, item_id, business_date)",
    ),
    (
        "inv_movements_path",
        "inv_movements(location_path, posted_at)",
    ),
    (
        "inv_movements_item_all",
        "inv_movements(item_id, posted_at)",
    ),
    (
        "inv_movements_company_date",
        "inv_movements(company_id, business_date)",
    ),
];

/// Locations each item is stocked at.
const SITES_PER_ITEM: i64 = 4;
/// Days the movements spread over, ending yesterday.
const DAYS: i64 = 365;

/// A row generator `g` with column `n` = 0 .. count − 1 (a recursive CTE on SQLite,
/// `generate_series` on PostgreSQL), for set-based loads.
pub(crate) fn series(pg: bool, count: i64) -> String {
    if pg {
        format!("(SELECT generate_series(0, {}) AS n) g", count - 1)
    } else {
        format!(
            "(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {}) SELECT n FROM s) g",
            count - 1
        )
    }
}

/// A UUID-shaped id from the generator's `g.n` (the loaded rows are synthetic); ids with the
/// same tag sort in `n` order.
pub(crate) fn uuid(pg: bool, tag: &str) -> String {
    if pg {
        format!("'0190{tag}-0000-7000-8000-' || lpad(to_hex(g.n), 12, '0')")
    } else {
        format!("printf('0190{tag}-0000-7000-8000-%012x', g.n)")
    }
}

pub(crate) async fn exec(
    _: &Platform,
    conn: &mut sqlx::AnyConnection,
    sql: &str,
) -> anyhow::Result<u64> {
    Ok(sqlx::query(boh_db::AssertSqlSafe(sql.to_string()))
        .execute(&mut *conn)
        .await?
        .rows_affected())
}

async fn load(p: &Platform, items: i64, movements: i64) -> anyhow::Result<()> {
    let company = boh_platform::demo::demo_id("company");
    let f = boh_platform::org::NodeFilter {
        kind: Some("store,warehouse,central_kitchen".into()),
        limit: Some(500),
        ..Default::default()
    };
    let (sites, _) = boh_platform::org::list(p, &Actor::system(), &f).await?;
    anyhow::ensure!(!sites.is_empty(), "the demo chain has no locations");
    let pg = p.db.backend() == Backend::Postgres;
    let first_day = boh_inventory::today_in("UTC").checked_sub(jiff::Span::new().days(DAYS))?;
    let now = boh_kernel::now().0;
    let mut conn = p.db.pool().acquire().await?;
    exec(p, &mut conn, if pg { "BEGIN" } else { "BEGIN IMMEDIATE" }).await?;
    for t in ["bench_sites", "bench_cats", "bench_days"] {
        exec(p, &mut conn, &format!("DROP TABLE IF EXISTS {t}")).await?;
    }
    exec(
        p,
        &mut conn,
        "CREATE TABLE bench_sites (k BIGINT PRIMARY KEY, id TEXT NOT NULL, path TEXT NOT NULL, doc_id TEXT NOT NULL)",
    )
    .await?;
    exec(
        p,
        &mut conn,
        "CREATE TABLE bench_cats (k BIGINT PRIMARY KEY, id TEXT NOT NULL)",
    )
    .await?;
    exec(
        p,
        &mut conn,
        "CREATE TABLE bench_days (k BIGINT PRIMARY KEY, d TEXT NOT NULL)",
    )
    .await?;
    for (k, s) in sites.iter().enumerate() {
        let doc = boh_kernel::new_id();
        sqlx::query(
            "INSERT INTO inv_docs (id, company_id, location_id, location_path, kind, business_date, reference, \
             line_count, total_value, created_by, created_at) VALUES ($1, $2, $3, $4, 'opening', $5, 'bench', 0, 0, 'bench', $6)",
        )
        .bind(&doc)
        .bind(&company)
        .bind(&s.id)
        .bind(&s.path)
        .bind(first_day.to_string())
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO bench_sites (k, id, path, doc_id) VALUES ($1, $2, $3, $4)")
            .bind(k as i64)
            .bind(&s.id)
            .bind(&s.path)
            .bind(&doc)
            .execute(&mut *conn)
            .await?;
    }
    for k in 0..20i64 {
        let id = boh_kernel::new_id();
        sqlx::query(
            "INSERT INTO inv_categories (id, company_id, parent_id, code, name_zh, name_en, sort, created_at, updated_at) \
             VALUES ($1, $2, NULL, $3, $4, $5, $6, $7, $7)",
        )
        .bind(&id)
        .bind(&company)
        .bind(format!("BENCH{k:02}"))
        .bind(format!("基准分类 {k}"))
        .bind(format!("Bench category {k}"))
        .bind(k)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        sqlx::query("INSERT INTO bench_cats (k, id) VALUES ($1, $2)")
            .bind(k)
            .bind(&id)
            .execute(&mut *conn)
            .await?;
    }
    for k in 0..DAYS {
        let d = first_day.checked_add(jiff::Span::new().days(k))?;
        sqlx::query("INSERT INTO bench_days (k, d) VALUES ($1, $2)")
            .bind(k)
            .bind(d.to_string())
            .execute(&mut *conn)
            .await?;
    }
    let n_sites = sites.len() as i64;
    let series = |count: i64| series(pg, count);
    let uuid = |tag: &str| uuid(pg, tag);
    let t = Instant::now();
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO inv_items (id, company_id, code, name_zh, name_en, category_id, kind, base_unit, storage_type, \
             shelf_life_days, lot_tracked, stocked, pos_code, active, created_at, updated_at, version) \
             SELECT {}, '{company}', 'B' || CAST(g.n AS TEXT), '基准物料 ' || CAST(g.n AS TEXT), 'Bench item ' || CAST(g.n AS TEXT), \
             c.id, 'ingredient', 'kg', 'ambient', NULL, 0, 1, NULL, 1, {now}, {now}, 1 \
             FROM {} JOIN bench_cats c ON c.k = g.n % 20",
            uuid("0001"),
            series(items)
        ),
    )
    .await?;
    println!(
        "  loaded {items} items in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    for (name, _) in MOVEMENT_INDEXES {
        exec(p, &mut conn, &format!("DROP INDEX IF EXISTS {name}")).await?;
    }
    // Movement n: item i = n mod items, at one of the item's SITES_PER_ITEM locations; two
    // receipts of 2 units for each issue of 1; a unit costs 1–5 yuan by item.
    let t = Instant::now();
    let item_id = if pg {
        "'01900001-0000-7000-8000-' || lpad(to_hex(g.n % ITEMS), 12, '0')"
    } else {
        "printf('01900001-0000-7000-8000-%012x', g.n % ITEMS)"
    }
    .replace("ITEMS", &items.to_string());
    let qty = "CASE WHEN g.n / ITEMS % 3 = 2 THEN -1000000 ELSE 2000000 END"
        .replace("ITEMS", &items.to_string());
    let cost = "(100 + (g.n % ITEMS) % 400)".replace("ITEMS", &items.to_string());
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO inv_movements (id, doc_id, line_no, company_id, location_id, location_path, item_id, lot_id, kind, \
             qty, value, business_date, posted_at, reason, reverses_id, went_negative, created_by) \
             SELECT {}, s.doc_id, g.n, '{company}', s.id, s.path, {item_id}, '', \
             CASE WHEN g.n / {items} % 3 = 2 THEN 'issue' ELSE 'receipt' END, \
             {qty}, {qty} / 1000000 * {cost}, d.d, {now}, NULL, NULL, 0, 'bench' \
             FROM {} JOIN bench_sites s ON s.k = ((g.n % {items}) + (g.n / {items} % {SITES_PER_ITEM}) * 7) % {n_sites} \
             JOIN bench_days d ON d.k = (g.n * 37) % {DAYS}",
            uuid("0002"),
            series(movements)
        ),
    )
    .await?;
    println!(
        "  loaded {movements} movements in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO inv_valuation (location_id, item_id, company_id, location_path, qty, value, last_unit_cost, \
             negative_since, last_movement_at) \
             SELECT m.location_id, m.item_id, '{company}', MIN(m.location_path), SUM(m.qty), SUM(m.value), 0, NULL, {now} \
             FROM inv_movements m WHERE m.created_by = 'bench' GROUP BY m.location_id, m.item_id"
        ),
    )
    .await?;
    exec(
        p,
        &mut conn,
        &format!(
            "INSERT INTO inv_stock (location_id, item_id, lot_id, location_path, qty, updated_at) \
             SELECT location_id, item_id, '', location_path, qty, {now} FROM inv_valuation v \
             WHERE v.item_id LIKE '01900001-%'"
        ),
    )
    .await?;
    println!(
        "  summed the valuation and on-hand rows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    for (name, on) in MOVEMENT_INDEXES {
        exec(p, &mut conn, &format!("CREATE INDEX {name} ON {on}")).await?;
    }
    println!(
        "  built the movement indexes in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    exec(p, &mut conn, "COMMIT").await?;
    for t in ["bench_sites", "bench_cats", "bench_days"] {
        exec(p, &mut conn, &format!("DROP TABLE {t}")).await?;
    }
    exec(p, &mut conn, "ANALYZE").await?;
    Ok(())
}

/// The demo company administrator, with every grant they hold.
pub(crate) async fn admin_actor(p: &Platform) -> anyhow::Result<Actor> {
    let user: String = sqlx::query("SELECT id FROM users WHERE username = 'admin'")
        .fetch_one(p.db.pool())
        .await?
        .try_get("id")?;
    let grants: Vec<String> = sqlx::query("SELECT id FROM grants WHERE user_id = $1")
        .bind(&user)
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
    Ok(boh_platform::iam::job_actor(p, &user, &grants).await?)
}

pub(crate) fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub async fn valuation(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let items = args.items.unwrap_or(100_000).max(100) as i64;
    let movements = args.movements.max(items as usize) as i64;
    let dir = std::env::temp_dir().join(format!("boh-bench-{}", boh_kernel::new_id()));
    std::fs::create_dir_all(&dir)?;
    let db = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
    let settings = crate::Settings {
        database_url: db,
        bind: "127.0.0.1:0".into(),
        demo: true,
        demo_size: None,
        demo_password: Some(boh_platform::util::random_token(12)),
        run_worker: false,
        ..Default::default()
    };
    let (app, _) = crate::Application::build(settings).await?;
    let p = app.state.platform.clone();
    println!("valuation: loading {items} items and {movements} movements");
    let t = Instant::now();
    load(&p, items, movements).await?;
    println!("  load in all: {:.1} s", t.elapsed().as_secs_f64());
    let admin = admin_actor(&p).await?;
    let pairs: i64 = sqlx::query("SELECT COUNT(*) AS n FROM inv_valuation")
        .fetch_one(p.db.pool())
        .await?
        .try_get("n")?;
    let runs = args.runs.max(1);
    let as_of = boh_inventory::today_in("UTC")
        .checked_sub(jiff::Span::new().days(30))?
        .to_string();
    let cases: Vec<(&str, ValuationFilter)> = vec![
        ("by item, now", ValuationFilter::default()),
        (
            "by item, as of 30 days ago",
            ValuationFilter {
                as_of: Some(as_of.clone()),
                ..ValuationFilter::default()
            },
        ),
        (
            "by category, now",
            ValuationFilter {
                group: Some("category".into()),
                ..ValuationFilter::default()
            },
        ),
        (
            "by location, now",
            ValuationFilter {
                group: Some("location".into()),
                ..ValuationFilter::default()
            },
        ),
    ];
    let mut figures = serde_json::Map::new();
    let mut first_total = 0;
    let mut now_ms = 0.0;
    for (name, f) in &cases {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..runs {
            let t = Instant::now();
            let rep = valuation::report(&p, &admin, f).await?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            total = rep.total_value;
        }
        let ms = median(times);
        if figures.is_empty() {
            first_total = total;
            now_ms = ms;
        }
        println!("  {name:<28} {ms:>9.1} ms   total value {total}");
        figures.insert(name.to_string(), serde_json::json!(ms));
    }
    // The naive report: every movement aggregated per item, the same database, same run.
    let mut times = Vec::new();
    let mut naive_total = 0i64;
    for _ in 0..runs {
        let t = Instant::now();
        let rows = sqlx::query(
            "SELECT item_id, CAST(SUM(qty) AS BIGINT) AS qty, CAST(SUM(value) AS BIGINT) AS value \
             FROM inv_movements GROUP BY item_id",
        )
        .fetch_all(p.db.pool())
        .await?;
        let mut sum = 0i64;
        for r in &rows {
            sum += r.try_get::<i64, _>("value")?;
        }
        naive_total = sum;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let naive_ms = median(times);
    println!("  naive (aggregate every movement) {naive_ms:>9.1} ms   total value {naive_total}");
    anyhow::ensure!(
        naive_total == first_total,
        "the report ({first_total}) and the sum of all movements ({naive_total}) disagree"
    );
    let check = boh_inventory::ledger::check(&p).await?;
    anyhow::ensure!(
        check.problems.is_empty(),
        "ledger checker: {:?}",
        check.problems
    );
    let ratio = naive_ms / now_ms;
    println!(
        "valuation of {items} items ({pairs} item × location rows) over {movements} movements: {now_ms:.1} ms \
         (naive {naive_ms:.1} ms, ratio {ratio:.1}); ledger checker ok"
    );
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "{}",
        serde_json::json!({
            "bench": "valuation",
            "value": now_ms,
            "unit": "ms",
            "baseline": naive_ms,
            "ratio": ratio,
            "items": items,
            "movements": movements,
            "pairs": pairs,
            "cases_ms": figures,
        })
    );
    Ok(ExitCode::SUCCESS)
}
