//! Demo assets: the usual kitchen and front-of-house equipment of every demo store and the
//! warehouses, with makes, models, serials, install and warranty dates (some in warranty, some
//! expired) and meters; at each store the fry line is a hierarchy (line → fryer → heating
//! element). About ten rows per site, written in one transaction with multi-row statements
//! and their audit rows, so `--demo` start-up stays fast.

use boh_platform::audit::{self, Change};
use boh_platform::demo::demo_id;
use boh_platform::org::OrgNode;
use boh_platform::util::values_list;
use boh_platform::{Ctx, Platform, Result, tx};
use serde_json::json;

/// (suffix, name, category, make, model, install, warranty end, criticality, parent suffix,
/// meters as (code, unit, value)).
type Spec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str, i64)],
);

const STORE: &[Spec] = &[
    (
        "LINE-FRY",
        "Fry line 炸制线",
        "other",
        "",
        "",
        "2024-03-01",
        "",
        "high",
        "",
        &[],
    ),
    (
        "FRY-01",
        "Fryer 1 炸炉",
        "fryer",
        "Frymaster",
        "FPH355",
        "2024-03-01",
        "2027-02-28",
        "critical",
        "LINE-FRY",
        &[("running_hours", "h", 6120), ("cycles", "cycles", 18400)],
    ),
    (
        "FRY-01-HE",
        "Heating element 加热管",
        "other",
        "Frymaster",
        "8071419",
        "2024-03-01",
        "2025-02-28",
        "high",
        "FRY-01",
        &[],
    ),
    (
        "FRY-02",
        "Fryer 2 炸炉",
        "fryer",
        "Henny Penny",
        "OFE-321",
        "2022-05-10",
        "2024-05-09",
        "high",
        "LINE-FRY",
        &[("running_hours", "h", 11890)],
    ),
    (
        "OVEN-01",
        "Combi oven 蒸烤箱",
        "oven",
        "Rational",
        "iCombi Pro 6-1/1",
        "2023-09-15",
        "2025-09-14",
        "high",
        "",
        &[("running_hours", "h", 7450)],
    ),
    (
        "FRIDGE-01",
        "Reach-in fridge 立式冷藏柜",
        "fridge",
        "Haier",
        "SC-1050",
        "2025-01-20",
        "2028-01-19",
        "high",
        "",
        &[],
    ),
    (
        "FREEZER-01",
        "Chest freezer 卧式冷冻柜",
        "freezer",
        "Midea",
        "BD/BC-519",
        "2023-06-01",
        "2026-05-31",
        "critical",
        "",
        &[],
    ),
    (
        "COFFEE-01",
        "Espresso machine 咖啡机",
        "coffee_machine",
        "La Marzocco",
        "Linea PB 2",
        "2024-11-04",
        "2026-11-03",
        "medium",
        "",
        &[("cycles", "shots", 52300)],
    ),
    (
        "AC-01",
        "Split air conditioner 空调",
        "air_conditioning",
        "Gree",
        "KFR-72LW",
        "2021-07-01",
        "2027-06-30",
        "medium",
        "",
        &[("running_hours", "h", 21400)],
    ),
    (
        "POS-01",
        "POS terminal 1 收银机",
        "pos_terminal",
        "Sunmi",
        "T2s",
        "2025-03-12",
        "2027-03-11",
        "critical",
        "",
        &[],
    ),
    (
        "DISH-01",
        "Dishwasher 洗碗机",
        "dishwasher",
        "Winterhalter",
        "UC-M",
        "2024-08-20",
        "2026-08-19",
        "medium",
        "",
        &[("cycles", "cycles", 9870)],
    ),
];

const WAREHOUSE: &[Spec] = &[
    (
        "FREEZER-01",
        "Walk-in freezer 冷冻库",
        "freezer",
        "Carrier",
        "WF-3000",
        "2022-02-01",
        "2027-01-31",
        "critical",
        "",
        &[("running_hours", "h", 40100)],
    ),
    (
        "FRIDGE-01",
        "Walk-in cooler 冷藏库",
        "fridge",
        "Carrier",
        "WC-2000",
        "2022-02-01",
        "2025-01-31",
        "critical",
        "",
        &[("running_hours", "h", 39800)],
    ),
];

/// Add the demo assets of `sites` (stores and warehouses); answers how many were written.
pub async fn seed(p: &Platform, sites: &[OrgNode]) -> Result<usize> {
    struct Row {
        id: String,
        site: OrgNode,
        code: String,
        spec: &'static Spec,
        parent: Option<String>,
        depth: i64,
        token: String,
    }
    let mut rows: Vec<Row> = Vec::new();
    for site in sites {
        let specs = match site.kind.as_str() {
            "store" => STORE,
            "warehouse" => WAREHOUSE,
            _ => continue,
        };
        for spec in specs {
            let code = format!("{}-{}", site.code, spec.0);
            let (parent, depth) = if spec.8.is_empty() {
                (None, 1)
            } else {
                let pcode = format!("{}-{}", site.code, spec.8);
                let pd = rows
                    .iter()
                    .find(|r| r.code == pcode)
                    .map(|r| r.depth)
                    .unwrap_or(0);
                (Some(demo_id(&format!("mnt-asset:{pcode}"))), pd + 1)
            };
            rows.push(Row {
                id: demo_id(&format!("mnt-asset:{code}")),
                token: {
                    let mut t = boh_platform::util::sha256_hex(
                        boh_platform::util::random_token(16).as_bytes(),
                    );
                    t.truncate(32);
                    t
                },
                site: site.clone(),
                code,
                spec,
                parent,
                depth,
            });
        }
    }
    if rows.is_empty() {
        return Ok(0);
    }
    let ctx = Ctx::system();
    let n = rows.len();
    tx!(p.db, tx, {
        let t = boh_kernel::now().micros();
        for chunk in rows.chunks(200) {
            let sql = format!(
                "INSERT INTO mnt_assets (id, company_id, location_id, location_path, code, name, category, make, \
                 model, serial, supplier_id, install_date, warranty_end, criticality, status, parent_id, depth, \
                 qr_token, note, created_by, created_at, updated_at, version) VALUES {}",
                values_list(tx, chunk.len(), 23)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for r in chunk {
                let s = r.spec;
                let opt = |v: &str| Some(v.to_string()).filter(|v| !v.is_empty());
                let serial = (!s.3.is_empty()).then(|| {
                    let h = boh_platform::util::sha256_hex(r.code.as_bytes());
                    format!(
                        "{}{}",
                        s.3.chars().take(2).collect::<String>().to_uppercase(),
                        h.get(..10).unwrap_or_default().to_uppercase()
                    )
                });
                q = q
                    .bind(r.id.clone())
                    .bind(r.site.company_id.clone())
                    .bind(r.site.id.clone())
                    .bind(r.site.path.clone())
                    .bind(r.code.clone())
                    .bind(s.1)
                    .bind(s.2)
                    .bind(opt(s.3))
                    .bind(opt(s.4))
                    .bind(serial)
                    .bind(None::<String>)
                    .bind(opt(s.5))
                    .bind(opt(s.6))
                    .bind(s.7)
                    .bind("active")
                    .bind(r.parent.clone())
                    .bind(r.depth)
                    .bind(r.token.clone())
                    .bind(None::<String>)
                    .bind("system")
                    .bind(t)
                    .bind(t)
                    .bind(1_i64);
            }
            q.execute(&mut *tx).await?;
        }
        let meters: Vec<(&Row, &(&str, &str, i64))> = rows
            .iter()
            .flat_map(|r| r.spec.9.iter().map(move |m| (r, m)))
            .collect();
        for chunk in meters.chunks(300) {
            let sql = format!(
                "INSERT INTO mnt_meters (id, asset_id, code, unit, last_value, last_read_at, created_at) VALUES {}",
                values_list(tx, chunk.len(), 7)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for (r, m) in chunk {
                q = q
                    .bind(demo_id(&format!("mnt-meter:{}:{}", r.code, m.0)))
                    .bind(r.id.clone())
                    .bind(m.0)
                    .bind(m.1)
                    .bind(m.2)
                    .bind(t)
                    .bind(t);
            }
            q.execute(&mut *tx).await?;
        }
        let afters: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| json!({"location": r.site.code, "code": r.code, "category": r.spec.2, "demo": true}))
            .collect();
        let changes: Vec<Change<'_>> = rows
            .iter()
            .zip(afters)
            .map(|(r, after)| Change {
                action: "maintenance.asset.create",
                entity_type: "mnt_asset",
                entity_id: &r.id,
                org_path: Some(&r.site.path),
                before: None,
                after: Some(after),
            })
            .collect();
        audit::append_many(tx, &ctx, &changes).await?;
        Ok(())
    })?;
    Ok(n)
}
