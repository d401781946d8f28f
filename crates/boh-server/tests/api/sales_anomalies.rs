//! Sales anomalies: a cashier who voids far more than the peers is flagged with the rate, the
//! peer median and the threshold; normal cashiers and tiny samples are not; a store-day with
//! no sales against a steady weekday history is flagged; scope applies.

use serde_json::{Value, json};

use crate::common::TestApp;
use crate::sales_avt::day;

both!(void_outliers_and_dead_days_are_flagged);

/// A ticket by `cashier` of `lines` lines at 5.00 plus `voids` voided lines, on POS code X1
/// (unmapped: held, yet counted in the day and cashier rollups).
fn ticket(no: &str, date: &str, cashier: &str, lines: usize, voids: usize) -> Value {
    let mut ls: Vec<Value> = (0..lines)
        .map(|_| json!({"pos_code": "X1", "qty": "1", "gross": 500}))
        .collect();
    ls.extend(
        (0..voids).map(|_| json!({"pos_code": "X1", "qty": "1", "gross": 500, "void": true})),
    );
    json!({"ticket_no": no, "closed_at": format!("{date}T12:00:00+08:00"), "cashier": cashier,
           "lines": ls, "tenders": [{"tender": "cash", "amount": 500 * lines as i64}]})
}

async fn batch(app: &TestApp, token: &str, store: &str, date: &str, tickets: Vec<Value>) {
    let r = app
        .post_json(
            "/api/v1/sales/batches",
            token,
            json!({"store_id": store, "source": "pos", "business_date": date,
                   "batch_key": format!("{store}-{date}"), "tickets": tickets}),
            &[],
        )
        .await;
    r.assert_status(201);
}

async fn void_outliers_and_dead_days_are_flagged(app: TestApp) {
    let admin = app.login_token("admin").await;
    let s1 = app.store_id("S001").await;
    let s2 = app.store_id("S002").await;
    // Four weeks of steady history at S001 on the weekdays of yesterday and today.
    for w in 1..=4 {
        for d in [0, 1] {
            let date = day(7 * w + d);
            batch(
                &app,
                &admin,
                &s1,
                &date,
                vec![ticket("H", &date, "amy", 20, 0)],
            )
            .await;
        }
    }
    // Yesterday: three normal cashiers at S001 (1 void in 21 lines), one with a tiny sample;
    // at S002 a normal one and one voiding 8 lines of 28.
    let y = day(1);
    batch(
        &app,
        &admin,
        &s1,
        &y,
        vec![
            ticket("A", &y, "amy", 20, 1),
            ticket("B", &y, "bob", 20, 1),
            ticket("C", &y, "cat", 20, 1),
            ticket("Z", &y, "zed", 1, 1),
        ],
    )
    .await;
    batch(
        &app,
        &admin,
        &s2,
        &y,
        vec![ticket("D", &y, "dan", 20, 1), ticket("E", &y, "eve", 20, 8)],
    )
    .await;
    // Today: nothing at S001 (a dead day), nothing at S002 (no history: not judged).
    let q = format!("from={y}&to={}&min_lines=10&min_tickets=10", day(0));
    let r = app
        .get(&format!("/api/v1/sales/anomalies?{q}"), &admin)
        .await;
    r.assert_status(200);
    let a = r.json();
    let rates = a["rates"].as_array().unwrap();
    assert_eq!(rates.len(), 1, "{a}");
    let f = &rates[0];
    assert_eq!(f["subject"], "cashier");
    assert_eq!(f["metric"], "void_rate");
    assert_eq!(f["cashier"], "eve");
    assert_eq!(f["store_code"], "S002");
    assert_eq!(f["count"], 8);
    assert_eq!(f["base"], 28);
    assert_eq!(f["amount"], 4_000);
    // 8 / 28 = 285,714 ppm; the peers (zed has too few lines) sit at 1 / 21 = 47,619 with
    // MAD 0, so the threshold is the median + the 2-point floor.
    assert_eq!(f["rate_ppm"], 285_714);
    assert_eq!(f["peer_median_ppm"], 47_619);
    assert_eq!(f["peer_mad_ppm"], 0);
    assert_eq!(f["threshold_ppm"], 67_619);
    assert_eq!(f["peers"], 5);
    // Two stores only: too few peers to judge stores.
    assert!(rates.iter().all(|f| f["subject"] != "store"));
    let days = a["days"].as_array().unwrap();
    assert_eq!(days.len(), 1, "{a}");
    let d = &days[0];
    assert_eq!(d["store_code"], "S001");
    assert_eq!(d["business_date"], day(0));
    assert_eq!(d["net"], 0);
    assert_eq!(d["expected_net"], 10_000);
    assert_eq!(d["threshold_net"], 5_000);
    assert_eq!(d["ratio_bp"], 0);
    assert_eq!(d["history_days"], 4);
    // A lower volume bar lets zed's 1 void in 2 lines count: now flagged too.
    let r = app
        .get(
            &format!("/api/v1/sales/anomalies?from={y}&to={y}&min_lines=2"),
            &admin,
        )
        .await;
    let who: Vec<String> = r.json()["rates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["metric"] == "void_rate" && f["subject"] == "cashier")
        .map(|f| f["cashier"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(who, vec!["zed", "eve"]);
    // Within S002 only: two cashiers are too few peers; no day there has history.
    let r = app
        .get(&format!("/api/v1/sales/anomalies?node_id={s2}&{q}"), &admin)
        .await;
    r.assert_status(200);
    assert_eq!(r.json()["rates"].as_array().unwrap().len(), 0);
    assert_eq!(r.json()["days"].as_array().unwrap().len(), 0);
    // A store manager sees their store only; another store is not found.
    let m1 = app.login_token("manager.s001").await;
    let r = app.get(&format!("/api/v1/sales/anomalies?{q}"), &m1).await;
    r.assert_status(200);
    let a = r.json();
    assert_eq!(a["rates"].as_array().unwrap().len(), 0, "{a}");
    assert_eq!(a["days"].as_array().unwrap().len(), 1);
    app.get(&format!("/api/v1/sales/anomalies?node_id={s2}&{q}"), &m1)
        .await
        .assert_status(404);
    // The page shows both flags with their reasons.
    let session = app.session("admin").await;
    let r = app
        .request(hyper::Method::GET, &format!("/sales/anomalies?{q}"))
        .cookie("boh_session", &session)
        .send()
        .await;
    r.assert_status(200);
    let html = r.text();
    assert!(html.contains("id=\"anomaly-rates\""), "{html}");
    assert!(html.contains("eve") && html.contains("28.57%") && html.contains("6.76%"));
    assert!(html.contains("id=\"anomaly-days\""));
    assert!(html.contains(&day(0)));
    // Bad parameters are named.
    let r = app
        .get("/api/v1/sales/anomalies?from=x&weeks=99&below_bp=0", &admin)
        .await;
    r.assert_status(422);
    let mut fields = r.error_fields();
    fields.sort();
    assert_eq!(fields, vec!["below_bp", "from", "weeks"]);
}
