//! Browser test of the sales pages: a real Chromium through chromedriver against the real
//! server with the small demo, once on SQLite and once on PostgreSQL. The store manager of
//! S001 uploads a file with a bad cell (refused with its row and column, nothing written),
//! then the POS export of one of their store-days with a code no item has: the batch shows
//! one held line and the code waits in the unmapped queue; the same file again changes
//! nothing. The administrator maps the code to the burger: its held line is processed, the
//! batch shows none held, and the burger's buns went down at S001 by exactly the recipe's
//! use of what was sold.
//!
//! Set `BOH_SCREENSHOT_DIR` to keep full-page PNGs at desktop (1280 px) and phone (390 px).

#[macro_use]
mod common;

use std::path::PathBuf;

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};
use serde_json::json;

use common::TestApp;
use common::browser::*;

both!(sales_pages);

/// On-hand micro-units of an item (by English name) at a location.
async fn on_hand(app: &TestApp, location: &str, name_en: &str) -> i64 {
    app.scalar_i64(&format!(
        "SELECT CAST(COALESCE(SUM(s.qty), 0) AS BIGINT) FROM inv_stock s JOIN inv_items i ON i.id = s.item_id \
         WHERE s.location_id = '{location}' AND i.name_en = '{name_en}'"
    ))
    .await
}

async fn sales_pages(app: TestApp) {
    boh_server::seed_modules(&app.platform, boh_inventory::demo::DemoSize::Small)
        .await
        .expect("seeding the small demo");
    let s001 = app.store_id("S001").await;
    // The day before yesterday in the store's zone: a day the demo did not write is not
    // needed (batches append), but a past day keeps every ticket in its window.
    let date = (jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::get("Asia/Shanghai").expect("zone"))
        .date()
        - jiff::Span::new().days(2))
    .to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let good = dir.path().join("pos-s001.csv");
    std::fs::write(
        &good,
        "ticket_no,kind,closed_at,cashier,pos_code,name,qty,gross,discount,tax,void,tender,tender_amount\n\
         UI-1,sale,12:30,c01,1001,Classic burger,2,64.00,0,3.62,0,wechat,64.00\n\
         UI-1,,,,7777,Chef's special,3,90.00,9.00,4.58,0,wechat,81.00\n\
         UI-2,sale,12:45,c02,1001,Classic burger,1,32.00,0,1.81,1,,\n",
    )
    .expect("csv");
    let bad = dir.path().join("pos-bad.csv");
    std::fs::write(
        &bad,
        "ticket_no,closed_at,pos_code,qty,gross,tender,tender_amount\n\
         B-1,12:00,1001,two,32.00,wechat,32.00\n",
    )
    .expect("csv");
    let buns_before = on_hand(&app, &s001, "Burger buns").await;
    let batches_before = app.count("sales_batches").await;

    let driver = Driver::start().expect("chromedriver");
    let profile = tempfile::tempdir().expect("profile dir");
    let shots = Shots {
        dir: std::env::var("BOH_SCREENSHOT_DIR").ok().map(PathBuf::from),
        prefix: format!("sales-{:?}", app.backend).to_lowercase(),
    };
    let c = driver
        .session("en", profile.path())
        .await
        .expect("browser session");
    let result = async {
        login(&c, &app.base, "manager.s001").await?;
        upload(&c, &app.base, &s001, &date, &bad).await?;
        let problems = text(&c, "#sales-import-errors").await?;
        ensure!(
            problems.contains('2') && problems.contains("qty"),
            "the bad cell is named by row and column: {problems}"
        );
        ensure!(
            app.count("sales_batches").await == batches_before,
            "a refused file writes nothing"
        );
        shots.both(&c, "import-errors").await?;

        upload(&c, &app.base, &s001, &date, &good).await?;
        wait_url(&c, "/sales/batches/").await?;
        let flash = text(&c, ".flash").await?;
        ensure!(
            flash.contains("1 held") || flash.contains("1 行因编码未映射"),
            "the result says what was held: {flash}"
        );
        ensure!(text(&c, "#batch-held").await? == "1", "one held line");
        ensure!(text(&c, "#batch-net").await? == "¥145.00", "64 + 81 paid");
        let batch_url = c.current_url().await?.to_string();
        let batch_url = batch_url.split('?').next().unwrap_or_default().to_string();
        shots.both(&c, "batch-held").await?;
        let buns_after_upload = on_hand(&app, &s001, "Burger buns").await;
        ensure!(
            buns_after_upload < buns_before,
            "the two burgers sold took buns: {buns_before} → {buns_after_upload}"
        );

        // The same file again is the same batch.
        upload(&c, &app.base, &s001, &date, &good).await?;
        wait_url(&c, "/sales/batches/").await?;
        let flash = text(&c, ".flash").await?;
        ensure!(
            flash.contains("already imported") || flash.contains("已为这个门店营业日导入过"),
            "replayed: {flash}"
        );
        ensure!(
            app.count("sales_batches").await == batches_before + 1,
            "the same file twice is one batch"
        );

        c.goto(&format!("{}/sales/batches", app.base)).await?;
        wait_css(&c, "#batches-table tbody tr").await?;
        shots.both(&c, "batches").await?;
        c.goto(&format!("{}/sales/unmapped", app.base)).await?;
        let row = text(&c, "#unmapped-table tr[data-code='7777']").await?;
        ensure!(
            row.contains("Chef's special"),
            "the held code is queued: {row}"
        );
        ensure!(
            c.find_all(Locator::Css("form.map-form")).await?.is_empty(),
            "a store manager cannot map codes"
        );
        shots.both(&c, "unmapped").await?;

        c.delete_all_cookies().await?;
        login(&c, &app.base, "admin").await?;
        c.goto(&format!("{}/sales/unmapped", app.base)).await?;
        fill(
            &c,
            "#unmapped-table tr[data-code='7777'] input[name=item]",
            "MN0001",
        )
        .await?;
        click(
            &c,
            "#unmapped-table tr[data-code='7777'] button[type=submit]",
        )
        .await?;
        wait_url(&c, "mapped=7777").await?;
        let flash = text(&c, ".flash").await?;
        ensure!(
            flash.contains("7777: 1 held lines processed") || flash.contains("7777：处理了 1 行"),
            "{flash}"
        );
        ensure!(
            c.find_all(Locator::Css("#unmapped-table tr[data-code='7777']"))
                .await?
                .is_empty(),
            "the mapped code left the queue"
        );
        shots.both(&c, "mapped").await?;
        c.goto(&format!("{}/sales/mappings", app.base)).await?;
        ensure!(
            text(&c, "#mappings-table").await?.contains("7777"),
            "listed"
        );
        c.goto(&batch_url).await?;
        ensure!(
            text(&c, "#batch-held").await? == "0",
            "nothing held any more"
        );
        wait_css(&c, "#batch-doc").await?;
        shots.both(&c, "batch-mapped").await?;
        let buns_after_map = on_hand(&app, &s001, "Burger buns").await;
        // Two burgers at upload, three specials (now burgers) at mapping.
        ensure!(
            (buns_before - buns_after_upload) * 3 == (buns_after_upload - buns_after_map) * 2
                && buns_after_map < buns_after_upload,
            "buns {buns_before} → {buns_after_upload} → {buns_after_map}"
        );
        Ok::<_, anyhow::Error>(())
    }
    .await;
    let _ = c.close().await;
    result.unwrap_or_else(|e| panic!("sales pages on {:?}: {e:#}", app.backend));
    // The rollups still equal the lines.
    let rep = boh_sales::rollup::check(&app.platform)
        .await
        .expect("check");
    assert!(rep.problems.is_empty(), "{:?}", rep.problems);
}

/// Fill in and send the import form.
async fn upload(
    c: &Client,
    base: &str,
    store: &str,
    date: &str,
    file: &std::path::Path,
) -> Result<()> {
    c.goto(&format!("{base}/sales/import")).await?;
    wait_css(c, "#sales-import-form").await?;
    c.execute(
        "document.getElementById('store_id').value = arguments[0];\
         document.getElementById('business_date').value = arguments[1];",
        vec![json!(store), json!(date)],
    )
    .await?;
    let input = wait_css(c, "#file").await?;
    input
        .send_keys(&file.display().to_string())
        .await
        .context("choosing the file")?;
    click(c, "#sales-import-submit").await?;
    wait_css(c, "h1").await?;
    Ok(())
}
