//! Sales dashboards through the API: figures equal what was ingested (today, week and month to
//! date, last year on the same weekday 364 days earlier, by region and store, average ticket,
//! tender mix, hours, top items, item drill-down), and the caller's sales scope.

use boh_platform::Ctx;
use boh_sales::ingest::{self, BatchInput};
use serde_json::{Value, json};

use crate::common::TestApp;
use crate::inventory::item;

both!(figures_match_ingested_sales);
both!(scope_of_store_and_region_managers);

/// A Wednesday, and the same weekday 364 days earlier.
const DAY: &str = "2026-11-18";
const LY_DAY: &str = "2025-11-19";

/// A ticket: (hour, [(code, qty, gross, discount)], [(tender, amount)]).
type TicketSpec<'a> = (
    u32,
    &'a [(&'a str, &'a str, i64, i64)],
    &'a [(&'a str, i64)],
);

/// Ingests one batch of tickets.
async fn ingest_day(app: &TestApp, store: &str, date: &str, key: &str, tickets: &[TicketSpec<'_>]) {
    let tickets: Vec<Value> = tickets
        .iter()
        .enumerate()
        .map(|(i, (hour, lines, tenders))| {
            json!({
                "ticket_no": format!("{key}-{i}"),
                "closed_at": format!("{date}T{hour:02}:15:00+08:00"),
                "cashier": "c1",
                "lines": lines.iter().map(|(c, q, g, d)| json!({"pos_code": c, "qty": q, "gross": g, "discount": d})).collect::<Vec<_>>(),
                "tenders": tenders.iter().map(|(t, a)| json!({"tender": t, "amount": a})).collect::<Vec<_>>(),
            })
        })
        .collect();
    let input: BatchInput = serde_json::from_value(json!({
        "store_id": store, "source": "pos", "business_date": date,
        "batch_key": key, "tickets": tickets,
    }))
    .expect("batch input");
    ingest::ingest(&app.platform, &Ctx::system(), &input)
        .await
        .expect("ingesting a batch");
}

async fn seed(app: &TestApp) -> (String, String, String) {
    let admin = app.login_token("admin").await;
    let burger = item(
        app,
        &admin,
        json!({"code": "BURGER", "name": "Burger", "kind": "menu", "base_unit": "ea"}),
    )
    .await;
    item(
        app,
        &admin,
        json!({"code": "TEA", "name": "Tea", "kind": "menu", "base_unit": "ea"}),
    )
    .await;
    let s1 = app.store_id("S001").await;
    let s11 = app.store_id("S011").await;
    ingest_day(
        app,
        &s1,
        DAY,
        "a",
        &[
            (12, &[("BURGER", "2", 3000, 200)], &[("cash", 2800)]),
            (
                18,
                &[("BURGER", "1", 1500, 0), ("TEA", "1", 500, 0)],
                &[("card", 2000)],
            ),
        ],
    )
    .await;
    ingest_day(
        app,
        &s1,
        LY_DAY,
        "b",
        &[(13, &[("BURGER", "1", 2000, 0)], &[("cash", 2000)])],
    )
    .await;
    // Monday of the same week: in week and month to date, not today.
    ingest_day(
        app,
        &s1,
        "2026-11-16",
        "c",
        &[(10, &[("TEA", "2", 1000, 0)], &[("wechat", 1000)])],
    )
    .await;
    ingest_day(
        app,
        &s11,
        DAY,
        "d",
        &[(11, &[("BURGER", "4", 5000, 0)], &[("alipay", 5000)])],
    )
    .await;
    (burger, s1, s11)
}

fn period<'a>(d: &'a Value, name: &str) -> &'a Value {
    d["periods"]
        .as_array()
        .expect("periods")
        .iter()
        .find(|p| p["period"] == name)
        .expect("period")
}

async fn figures_match_ingested_sales(app: TestApp) {
    let (burger, s1, _) = seed(&app).await;
    let admin = app.login_token("admin").await;
    let r = app
        .get(&format!("/api/v1/sales/dashboard?date={DAY}"), &admin)
        .await;
    r.assert_status(200);
    let d = r.json();
    assert_eq!(d["node"]["kind"], "company");
    assert_eq!(d["last_year_offset_days"], 364);
    let today = period(&d, "today");
    assert_eq!(today["from"], DAY);
    assert_eq!(today["ly_from"], LY_DAY);
    let t = &today["total"];
    assert_eq!(t["net"], 2800 + 2000 + 5000);
    assert_eq!(t["tickets"], 3);
    assert_eq!(t["ly_net"], 2000);
    assert_eq!(t["avg_ticket"], 3267); // 9800 / 3 = 3266.67
    assert_eq!(t["change_bp"], 39000);
    let east = today["children"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["node"]["code"] == "R-EAST")
        .expect("east region");
    assert_eq!(east["net"], 4800);
    assert_eq!(east["stores"], 1);
    assert_eq!(today["best"][0]["node"]["code"], "S011");
    assert_eq!(today["best"][0]["net"], 5000);
    assert_eq!(today["best_vs_ly"][0]["node"]["code"], "S001");
    assert_eq!(today["best_vs_ly"][0]["change_bp"], 14000);
    let tenders: Vec<(String, i64)> = today["tenders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["tender"].as_str().unwrap().to_string(),
                x["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tenders,
        vec![
            ("alipay".into(), 5000),
            ("cash".into(), 2800),
            ("card".into(), 2000)
        ]
    );
    assert_eq!(today["tenders"][0]["share_bp"], 5102);
    let wtd = period(&d, "wtd");
    assert_eq!(wtd["from"], "2026-11-16");
    assert_eq!(wtd["total"]["net"], 9800 + 1000);
    let mtd = period(&d, "mtd");
    assert_eq!(mtd["from"], "2026-11-01");
    assert_eq!(mtd["total"]["net"], 10800);
    assert_eq!(mtd["total"]["tickets"], 4);
    let daily = d["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 28);
    let last = daily.last().unwrap();
    assert_eq!(
        (
            last["date"].as_str(),
            last["net"].as_i64(),
            last["ly_net"].as_i64()
        ),
        (Some(DAY), Some(9800), Some(2000))
    );

    // The store: hours, top items, the AvT tile without a count.
    let r = app
        .get(
            &format!("/api/v1/sales/dashboard?node_id={s1}&date={DAY}"),
            &admin,
        )
        .await;
    r.assert_status(200);
    let d = r.json();
    let hours: Vec<(i64, i64, i64)> = d["store"]["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["hour"].as_i64().unwrap(),
                h["tickets"].as_i64().unwrap(),
                h["net"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(hours, vec![(12, 1, 2800), (18, 1, 2000)]);
    let top = &d["store"]["top_items"];
    assert_eq!(top[0]["code"], "BURGER");
    assert_eq!(top[0]["net"], 4300);
    assert_eq!(top[0]["qty"], 3_000_000);
    assert_eq!(top[1]["code"], "TEA");
    assert_eq!(top[1]["net"], 1500);
    assert!(d["store"]["avt"].is_null());
    assert!(d["store"]["low_stock"].is_array());
    assert_eq!(period(&d, "today")["total"]["net"], 4800);
    let trail: Vec<&str> = d["trail"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap())
        .collect();
    assert_eq!(trail.last(), Some(&"R-EAST"));

    // Item drill-down at the store and at the company.
    let r = app
        .get(
            &format!(
                "/api/v1/sales/dashboard/items/{burger}?node_id={s1}&from=2026-11-17&to={DAY}"
            ),
            &admin,
        )
        .await;
    r.assert_status(200);
    let t = r.json();
    assert_eq!(t["days"].as_array().unwrap().len(), 2);
    assert_eq!(t["days"][1]["net"], 4300);
    assert_eq!(t["days"][1]["ly_date"], LY_DAY);
    assert_eq!(t["days"][1]["ly_net"], 2000);
    assert_eq!(t["item"]["net"], 4300);
    assert_eq!(t["ly_total_net"], 2000);
    let r = app
        .get(
            &format!("/api/v1/sales/dashboard/items/{burger}?from={DAY}&to={DAY}"),
            &admin,
        )
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["item"]["net"], 4300 + 5000);

    // Bad input names the field.
    let r = app
        .get("/api/v1/sales/dashboard?date=2026-13-01", &admin)
        .await;
    r.assert_status(422);
    assert!(r.text().contains("date"));
    let r = app
        .get(
            &format!("/api/v1/sales/dashboard/items/{burger}?from=2026-11-20&to={DAY}"),
            &admin,
        )
        .await;
    r.assert_status(422);
    assert!(r.text().contains("from"));
    let r = app
        .get(
            &format!("/api/v1/sales/dashboard/items/{burger}?from=2024-01-01&to={DAY}"),
            &admin,
        )
        .await;
    r.assert_status(422);
}

async fn scope_of_store_and_region_managers(app: TestApp) {
    let (burger, s1, s11) = seed(&app).await;
    let m1 = app.login_token("manager.s001").await;
    let r = app
        .get(&format!("/api/v1/sales/dashboard?date={DAY}"), &m1)
        .await;
    r.assert_status(200);
    let d = r.json();
    assert_eq!(d["node"]["id"], s1.as_str());
    assert_eq!(period(&d, "today")["total"]["net"], 4800);
    app.get(
        &format!("/api/v1/sales/dashboard?node_id={s11}&date={DAY}"),
        &m1,
    )
    .await
    .assert_status(404);
    app.get(
        &format!("/api/v1/sales/dashboard/items/{burger}?node_id={s11}"),
        &m1,
    )
    .await
    .assert_status(404);

    let east = app.login_token("region.east").await;
    let r = app
        .get(&format!("/api/v1/sales/dashboard?date={DAY}"), &east)
        .await;
    r.assert_status(200);
    let d = r.json();
    assert_eq!(d["node"]["code"], "R-EAST");
    let today = period(&d, "today");
    assert_eq!(today["total"]["net"], 4800);
    let codes: Vec<&str> = today["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["node"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["S001"]);
    assert!(
        today["best"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["node"]["code"] != "S011")
    );
    let company = app.node_id("R-EAST").await;
    let parent: String =
        sqlx::query_scalar::<_, String>("SELECT parent_id FROM org_nodes WHERE id = $1")
            .bind(&company)
            .fetch_one(app.pool())
            .await
            .unwrap();
    app.get(
        &format!("/api/v1/sales/dashboard?node_id={parent}&date={DAY}"),
        &east,
    )
    .await
    .assert_status(404);
    app.get(
        &format!("/api/v1/sales/dashboard?node_id={s11}&date={DAY}"),
        &east,
    )
    .await
    .assert_status(404);
    let r = app
        .get(
            &format!("/api/v1/sales/dashboard?node_id={s1}&date={DAY}"),
            &east,
        )
        .await;
    r.assert_status(200);
}

both!(pages_show_the_same_figures_and_drill_down);

async fn pages_show_the_same_figures_and_drill_down(app: TestApp) {
    let (burger, s1, s11) = seed(&app).await;
    let get = |session: String, path: String| {
        let app = &app;
        async move {
            app.request(hyper::Method::GET, &path)
                .cookie("boh_session", &session)
                .send()
                .await
        }
    };
    let admin = app.session("admin").await;
    // /sales opens the top of the actor's scope.
    let r = get(admin.clone(), "/sales".into()).await;
    assert_eq!(r.status, 303, "{}", r.text());
    let company = r.header("location").expect("a redirect");
    let html = get(admin.clone(), format!("{company}?date={DAY}")).await;
    html.assert_status(200);
    let text = html.text();
    // Today: 28 + 20 + 50 yuan; last year 20; the breakdown links to the regions.
    assert!(text.contains("id=\"dash-net-today\">¥98.00<"), "{text}");
    assert!(text.contains("¥20.00"), "{text}");
    assert!(text.contains("<svg"), "a chart");
    let east = app.node_id("R-EAST").await;
    assert!(
        text.contains(&format!("/sales/nodes/{east}?date={DAY}")),
        "{text}"
    );
    // Drill down: the store, then the item.
    let store = get(admin.clone(), format!("/sales/nodes/{s1}?date={DAY}")).await;
    store.assert_status(200);
    let st = store.text();
    assert!(st.contains("id=\"dash-net-today\">¥48.00<"), "{st}");
    assert!(
        st.contains(&format!("/sales/nodes/{s1}/items/{burger}")),
        "{st}"
    );
    let item = get(
        admin.clone(),
        format!("/sales/nodes/{s1}/items/{burger}?from=2026-11-01&to={DAY}"),
    )
    .await;
    item.assert_status(200);
    assert!(
        item.text().contains("id=\"item-net\">¥43.00<"),
        "{}",
        item.text()
    );
    // A store manager: another store's page is not found.
    let mgr = app.session("manager.s001").await;
    get(mgr.clone(), format!("/sales/nodes/{s1}?date={DAY}"))
        .await
        .assert_status(200);
    let r = get(mgr, format!("/sales/nodes/{s11}?date={DAY}")).await;
    assert_eq!(r.status, 404, "{}", r.text());
}
