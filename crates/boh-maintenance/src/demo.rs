//! Demo assets: the usual kitchen and front-of-house equipment of every demo store and the
//! warehouses, with makes, models, serials, install and warranty dates (some in warranty, some
//! expired) and meters; at each store the fry line is a hierarchy (line → fryer → heating
//! element). About ten rows per site, written in one transaction with multi-row statements
//! and their audit rows, so `--demo` start-up stays fast.

use boh_db::Row;
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

// ---------------------------------------------------------------- technicians and history

/// A deterministic generator (SplitMix64), so the demo history is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next() % (hi - lo + 1) as u64) as i64
    }
    /// True with probability `per_mille` / 1000.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.next() % 1000 < per_mille
    }
    fn pick_str(&mut self, v: &[&'static str]) -> &'static str {
        v[(self.next() % v.len() as u64) as usize]
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[(self.next() % v.len() as u64) as usize]
    }
}

/// (code, name, kind, skills, certifications, region of the home store, index of the store
/// in the region, demo user, hourly rate in minor units).
type TechSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    usize,
    &'static str,
    i64,
);

const TECHNICIANS: &[TechSpec] = &[
    (
        "T01",
        "陈强 Chen Qiang",
        "in_house",
        "coffee,kitchen,refrigeration",
        "f-gas",
        "R-EAST",
        0,
        "tech.chen",
        9000,
    ),
    (
        "T02",
        "赵磊 Zhao Lei",
        "in_house",
        "it,kitchen",
        "",
        "R-EAST",
        3,
        "",
        8500,
    ),
    (
        "T03",
        "孙敏 Sun Min",
        "in_house",
        "hvac,refrigeration",
        "f-gas",
        "R-NORTH",
        0,
        "",
        9500,
    ),
    (
        "T04",
        "周杰 Zhou Jie",
        "in_house",
        "coffee,kitchen",
        "",
        "R-NORTH",
        2,
        "",
        8500,
    ),
    (
        "T05",
        "吴刚 Wu Gang",
        "in_house",
        "coffee,it",
        "",
        "R-SOUTH",
        0,
        "",
        8000,
    ),
    (
        "T06",
        "郑浩 Zheng Hao",
        "in_house",
        "kitchen,refrigeration",
        "",
        "R-SOUTH",
        2,
        "",
        8500,
    ),
    (
        "C01",
        "冰点制冷工程 Icepoint Refrigeration",
        "contractor",
        "hvac,refrigeration",
        "f-gas",
        "R-EAST",
        5,
        "",
        18000,
    ),
    (
        "C02",
        "豆香咖啡设备服务 Bean Service",
        "contractor",
        "coffee,kitchen",
        "",
        "R-NORTH",
        4,
        "",
        15000,
    ),
];

/// A failure as the history tells it: (fault, title, description, cause, remedy, note, parts
/// cost range in minor units, labour minutes range).
type Fault = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    (i64, i64),
    (i64, i64),
);

fn faults(category: &str) -> &'static [Fault] {
    match category {
        "fryer" => &[
            (
                "not_heating",
                "Fryer not heating 炸炉不加热",
                "Oil stays below 150°C, the heating light is on.",
                "wear",
                "replaced_part",
                "Heating element burnt out; replaced the element and tested to 180°C. 加热管烧毁，已更换并测试至180度。",
                (45_000, 120_000),
                (60, 150),
            ),
            (
                "error_code",
                "Fryer shows E-41 故障码E-41",
                "炸炉显示E-41，无法启动。",
                "electrical",
                "replaced_part",
                "温控探头失灵，更换温度探头后恢复正常。Temperature probe failed, replaced.",
                (18_000, 36_000),
                (45, 90),
            ),
            (
                "leaking",
                "Fryer leaking oil 炸炉漏油",
                "Oil under the fryer after filtering.",
                "wear",
                "replaced_part",
                "Drain valve seal worn, replaced the O-ring of the drain valve. 排油阀密封圈老化，已更换。",
                (3_000, 9_000),
                (40, 90),
            ),
            (
                "not_heating",
                "Fryer slow to heat 炸炉升温慢",
                "升温需要20分钟以上。",
                "blocked",
                "cleaned",
                "Carbon build-up on the element; boiled out the vat and cleaned. 加热管积碳，煮锅清洗后正常。",
                (0, 0),
                (60, 120),
            ),
        ],
        "fridge" => &[
            (
                "not_cooling",
                "Fridge not cooling 冷藏柜不制冷",
                "Temperature at 11°C, compressor clicks.",
                "electrical",
                "replaced_part",
                "压缩机启动电容损坏，更换启动电容和过载保护器。Compressor start capacitor replaced.",
                (12_000, 40_000),
                (60, 150),
            ),
            (
                "not_cooling",
                "Fridge warm 冷藏柜温度偏高",
                "冷藏柜温度8度，门边结霜。",
                "wear",
                "replaced_part",
                "Door gasket torn, cold air escaping; replaced the door gasket. 门封条破损，已更换门封条。",
                (8_000, 15_000),
                (30, 60),
            ),
            (
                "noise",
                "Fridge fan noisy 冷藏柜风扇噪音",
                "Loud rattling from the back.",
                "wear",
                "replaced_part",
                "Condenser fan motor bearing worn; replaced the fan motor. 冷凝风机轴承磨损，更换风机。",
                (15_000, 30_000),
                (45, 90),
            ),
            (
                "not_cooling",
                "Fridge iced up 冷藏柜结冰",
                "蒸发器结冰，柜内温度升高。",
                "blocked",
                "cleaned",
                "Condenser coil blocked with dust; cleaned the coil and defrosted the evaporator. 冷凝器积灰，清洁后除霜。",
                (0, 0),
                (45, 90),
            ),
        ],
        "freezer" => &[
            (
                "not_cooling",
                "Freezer at -8°C 冷冻柜温度不够",
                "Freezer reads -8°C in the morning.",
                "leak",
                "repaired",
                "制冷剂泄漏，查漏补焊后加注R290制冷剂。Refrigerant leak found at the capillary joint, brazed and recharged.",
                (25_000, 60_000),
                (120, 240),
            ),
            (
                "not_cooling",
                "Freezer not cooling 冷冻柜不制冷",
                "冷冻柜完全不制冷，压缩机不启动。",
                "electrical",
                "replaced_part",
                "Thermostat failed; replaced the thermostat and checked the compressor relay. 温控器损坏，已更换。",
                (9_000, 20_000),
                (60, 120),
            ),
            (
                "leaking",
                "Freezer water on floor 冷冻柜漏水",
                "Water under the chest freezer.",
                "blocked",
                "cleaned",
                "化霜排水管堵塞，疏通排水管。Defrost drain blocked, cleared the drain hose.",
                (0, 0),
                (30, 60),
            ),
        ],
        "coffee_machine" => &[
            (
                "error_code",
                "Espresso machine pump error 咖啡机水泵报警",
                "Pump alarm, no pressure on group 2.",
                "wear",
                "replaced_part",
                "Rotary pump worn, pressure only 6 bar; replaced the pump. 旋转泵磨损压力不足，已更换水泵。",
                (60_000, 150_000),
                (90, 180),
            ),
            (
                "leaking",
                "Coffee machine leaking 咖啡机漏水",
                "冲煮头漏水。",
                "wear",
                "replaced_part",
                "Group head gasket hard and cracked; replaced gaskets and shower screens. 冲煮头密封圈老化，更换密封圈和分水网。",
                (2_000, 6_000),
                (30, 60),
            ),
            (
                "not_heating",
                "Coffee machine not hot 咖啡机温度低",
                "Steam wand weak, boiler not hot.",
                "blocked",
                "cleaned",
                "锅炉结垢严重，除垢并更换软水滤芯。Heavy scale in the boiler; descaled and changed the water softener.",
                (5_000, 12_000),
                (90, 150),
            ),
        ],
        "air_conditioning" => &[
            (
                "not_cooling",
                "Air conditioner not cooling 空调不制冷",
                "Dining room at 29°C.",
                "leak",
                "repaired",
                "空调缺氟，查漏补焊后加注R410A。Low refrigerant, repaired the leak at the flare nut and recharged R410A.",
                (30_000, 80_000),
                (90, 180),
            ),
            (
                "leaking",
                "Air conditioner dripping 空调漏水",
                "Water dripping from the indoor unit.",
                "blocked",
                "cleaned",
                "Condensate drain blocked; cleaned the drain pan and pipe. 冷凝水管堵塞，已清洗。",
                (0, 0),
                (45, 90),
            ),
            (
                "noise",
                "Air conditioner noisy 空调噪音大",
                "外机噪音大。",
                "wear",
                "adjusted",
                "Outdoor fan blade loose; tightened and balanced. 外机风叶松动，已紧固。",
                (0, 3_000),
                (30, 60),
            ),
        ],
        "pos_terminal" => &[
            (
                "not_working",
                "POS terminal frozen 收银机死机",
                "收银机卡在开机画面。",
                "software",
                "updated",
                "System update interrupted; reflashed the firmware and restored the POS app. 系统升级中断，重新刷机并恢复收银程序。",
                (0, 0),
                (30, 60),
            ),
            (
                "damaged",
                "POS screen cracked 收银机屏幕破裂",
                "Customer display cracked.",
                "misuse",
                "replaced_part",
                "更换客显屏。Replaced the customer display.",
                (30_000, 60_000),
                (30, 45),
            ),
            (
                "electrical",
                "POS will not power on 收银机无法开机",
                "No power at the terminal.",
                "power",
                "replaced_part",
                "Power adapter failed; replaced the adapter. 电源适配器损坏，已更换。",
                (8_000, 15_000),
                (20, 40),
            ),
        ],
        "dishwasher" => &[
            (
                "not_heating",
                "Dishwasher rinse cold 洗碗机漂洗水不热",
                "Rinse below 60°C.",
                "wear",
                "replaced_part",
                "漂洗加热管损坏，更换加热管。Rinse heater element replaced.",
                (20_000, 45_000),
                (60, 120),
            ),
            (
                "leaking",
                "Dishwasher leaking 洗碗机漏水",
                "Water around the door.",
                "wear",
                "replaced_part",
                "Door seal worn; replaced the door seal. 门封老化，已更换。",
                (6_000, 12_000),
                (30, 60),
            ),
            (
                "error_code",
                "Dishwasher error 洗碗机报错",
                "洗碗机显示进水故障。",
                "blocked",
                "cleaned",
                "Inlet filter blocked with scale; cleaned the filter and descaled. 进水滤网堵塞，清洗除垢。",
                (0, 2_000),
                (30, 60),
            ),
        ],
        "oven" => &[
            (
                "error_code",
                "Combi oven error 蒸烤箱报错",
                "Error 34.1, no steam.",
                "blocked",
                "cleaned",
                "蒸汽发生器结垢，除垢并清洁水位探针。Steam generator scaled, descaled and cleaned the level probe.",
                (0, 5_000),
                (60, 120),
            ),
            (
                "not_heating",
                "Oven not heating 烤箱不加热",
                "Oven stays cold.",
                "electrical",
                "replaced_part",
                "Contactor burnt; replaced the heating contactor. 加热接触器烧坏，已更换。",
                (10_000, 25_000),
                (60, 90),
            ),
        ],
        _ => &[(
            "not_working",
            "Heating element fault 加热管故障",
            "加热管不工作。",
            "wear",
            "replaced_part",
            "Element open circuit; replaced. 加热管断路，已更换。",
            (20_000, 40_000),
            (45, 90),
        )],
    }
}

/// Failures per asset per year and the month multipliers (per cent) of a category.
fn failure_rate(category: &str, month: i8) -> (i64, i64) {
    let summer = (6..=9).contains(&month);
    match category {
        "fridge" | "freezer" => (3, if summer { 250 } else { 60 }),
        "air_conditioning" => (
            2,
            if (6..=8).contains(&month) {
                300
            } else if month <= 2 {
                80
            } else {
                40
            },
        ),
        "fryer" => (4, 100),
        "coffee_machine" => (3, 100),
        "dishwasher" => (2, 100),
        "oven" => (2, 100),
        "pos_terminal" => (2, 100),
        _ => (1, 100),
    }
}

struct DemoAsset {
    id: String,
    category: &'static str,
    criticality: &'static str,
    site: OrgNode,
    /// 0 new … higher is older (fryers fail more with wear).
    wear: i64,
}

struct DemoWo {
    id: String,
    asset: usize,
    fault: &'static Fault,
    source: &'static str,
    priority: &'static str,
    status: &'static str,
    created: i64,
    assigned: Option<i64>,
    responded: Option<i64>,
    finished: Option<i64>,
    closed: Option<i64>,
    paused: Option<i64>,
    tech: Option<usize>,
    labour_min: i64,
    parts: i64,
    rating: Option<i64>,
    note_zh: bool,
}

/// What [`seed_history`] wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct History {
    pub technicians: usize,
    pub work_orders: usize,
    pub events: usize,
}

fn local_instant(date: jiff::civil::Date, minute: i64, tz: &jiff::tz::TimeZone) -> i64 {
    let t =
        jiff::civil::Time::new((minute / 60) as i8, (minute % 60) as i8, 0, 0).unwrap_or_default();
    date.to_datetime(t)
        .to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp().as_microsecond())
        .unwrap_or(0)
}

/// Eight technicians (in-house and contractors, tech.chen's user linked to T01) and twelve
/// months of work orders on the demo assets of `sites` up to now: seasonal refrigeration and
/// air-conditioning faults, fryers failing more with wear, repeat failures, a few SLA misses,
/// ratings, cause and remedy codes and resolution notes in Chinese and English, quarterly PM
/// services, and a handful of work orders open now in every status. Deterministic apart from
/// the tracking tokens; multi-row inserts in one transaction.
pub async fn seed_history(p: &Platform, sites: &[OrgNode]) -> Result<History> {
    use crate::sla;
    let company = demo_id("company");
    let stores: Vec<&OrgNode> = sites.iter().filter(|s| s.kind == "store").collect();
    if stores.is_empty() {
        return Ok(History::default());
    }
    let t_now = boh_kernel::now().micros();
    // Technicians.
    let in_region = |region: &str| -> Vec<&OrgNode> {
        let rid = demo_id(region);
        stores
            .iter()
            .copied()
            .filter(|s| s.parent_id.as_deref() == Some(rid.as_str()))
            .collect()
    };
    let mut techs: Vec<(String, &TechSpec, &OrgNode, Option<String>)> = Vec::new();
    for spec in TECHNICIANS {
        let region = in_region(spec.5);
        let home = region
            .get(spec.6 % region.len().max(1))
            .copied()
            .unwrap_or(stores[0]);
        let user: Option<String> = if spec.7.is_empty() {
            None
        } else {
            sqlx::query("SELECT id FROM users WHERE username = $1")
                .bind(spec.7)
                .fetch_optional(p.db.pool())
                .await?
                .map(|r| r.try_get("id"))
                .transpose()?
        };
        techs.push((demo_id(&format!("mnt-tech:{}", spec.0)), spec, home, user));
    }
    // Assets of the stores (as `seed` wrote them).
    let mut assets: Vec<DemoAsset> = Vec::new();
    for s in &stores {
        for spec in STORE {
            if spec.0 == "LINE-FRY" {
                continue;
            }
            let code = format!("{}-{}", s.code, spec.0);
            let install_year: i64 = spec.5.get(..4).and_then(|y| y.parse().ok()).unwrap_or(2024);
            assets.push(DemoAsset {
                id: demo_id(&format!("mnt-asset:{code}")),
                category: spec.2,
                criticality: spec.7,
                site: (*s).clone(),
                wear: (2026 - install_year).max(0),
            });
        }
    }
    let known: i64 = sqlx::query("SELECT COUNT(*) AS n FROM mnt_assets WHERE company_id = $1")
        .bind(&company)
        .fetch_one(p.db.pool())
        .await?
        .try_get("n")?;
    if known == 0 {
        assets.clear();
    }
    let mut rng = Rng(0x5EED_B0B0_2026);
    let mut wos: Vec<DemoWo> = Vec::new();
    let tech_for = |rng: &mut Rng, a: &DemoAsset| -> Option<usize> {
        let skill = crate::technician::required_skill(a.category);
        let cert = crate::technician::required_certification(a.category);
        let fit: Vec<usize> = techs
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                skill.is_none_or(|s| t.1.3.split(',').any(|x| x == s))
                    && cert.is_none_or(|c| t.1.4.split(',').any(|x| x == c))
            })
            .map(|(i, _)| i)
            .collect();
        let near: Vec<usize> = fit
            .iter()
            .copied()
            .filter(|i| techs[*i].2.parent_id == a.site.parent_id)
            .collect();
        let pool = if near.is_empty() { fit } else { near };
        (!pool.is_empty()).then(|| *rng.pick(&pool))
    };
    let today = jiff::Timestamp::from_microsecond(t_now)
        .map(|ts| ts.to_zoned_datetime(sla::zone(&stores[0].timezone)).date())
        .unwrap_or_default();
    for (ai, a) in assets.iter().enumerate() {
        let tz = sla::zone(&a.site.timezone);
        let list = faults(a.category);
        let mut day = today
            .checked_sub(jiff::Span::new().days(365))
            .unwrap_or(today);
        let mut pending_repeat: Option<(jiff::civil::Date, &'static Fault)> = None;
        let mut since_pm = rng.range(0, 90);
        while day < today {
            let (per_year, mult) = failure_rate(a.category, day.month());
            let wear = if a.category == "fryer" {
                100 + a.wear * 30
            } else {
                100
            };
            // Per-day chance in units of 1/1,000,000.
            let chance = per_year * mult * wear * 150 / 365;
            let repeat_now = pending_repeat.is_some_and(|(d, _)| d <= day);
            let fail = repeat_now || (rng.next() % 1_000_000) < chance as u64;
            since_pm += 1;
            let pm = !fail
                && since_pm >= 91
                && matches!(a.category, "fryer" | "coffee_machine" | "air_conditioning");
            if fail || pm {
                let fault: &'static Fault = match pending_repeat.take() {
                    Some((_, f)) if repeat_now => f,
                    other => {
                        pending_repeat = other;
                        rng.pick(list)
                    }
                };
                if pm {
                    since_pm = 0;
                }
                let minute = rng.range(7 * 60, 21 * 60);
                let created = local_instant(day, minute, &tz);
                let priority = if pm {
                    "low"
                } else if a.category == "freezer" && rng.chance(300) {
                    "urgent"
                } else if a.criticality == "critical" || matches!(a.category, "fridge" | "freezer")
                {
                    "high"
                } else {
                    "medium"
                };
                let pol = sla::default_policy(priority);
                let hours = pol.hours();
                // Most are fixed well in time; about one in twelve misses the target.
                let share = if rng.chance(85) {
                    rng.range(110, 220)
                } else {
                    rng.range(15, 85)
                };
                let finished =
                    sla::add_business(&hours, &tz, created, pol.resolution_min * share / 100);
                let responded = created + rng.range(5, pol.response_min.min(120)) * 60_000_000;
                let (lab_lo, lab_hi) = fault.7;
                let (parts_lo, parts_hi) = fault.6;
                let done_recently = t_now - finished < 2 * 86_400_000_000;
                let wo = DemoWo {
                    id: String::new(),
                    asset: ai,
                    fault,
                    source: if pm {
                        "pm"
                    } else {
                        rng.pick_str(&["web", "web", "qr", "qr", "api"])
                    },
                    priority,
                    status: if finished > t_now {
                        "in_progress"
                    } else if done_recently {
                        "done"
                    } else {
                        "closed"
                    },
                    created,
                    assigned: Some(created + rng.range(2, 30) * 60_000_000),
                    responded: Some(responded),
                    finished: (finished <= t_now).then_some(finished),
                    closed: None,
                    paused: None,
                    tech: tech_for(&mut rng, a),
                    labour_min: if pm {
                        rng.range(45, 90)
                    } else {
                        rng.range(lab_lo, lab_hi)
                    },
                    parts: if pm {
                        rng.range(0, 3_000)
                    } else {
                        rng.range(parts_lo, parts_hi)
                    },
                    rating: None,
                    note_zh: rng.chance(500),
                };
                let mut wo = wo;
                if wo.status == "closed" {
                    let f = wo.finished.unwrap_or(created);
                    wo.closed = Some((f + rng.range(1, 36) * 3_600_000_000).min(t_now));
                    if !pm && rng.chance(700) {
                        wo.rating = Some(*rng.pick(&[5, 5, 5, 4, 4, 4, 3]));
                    }
                }
                // About one fix in seven does not hold: the same fault comes back.
                if fail && !pm && pending_repeat.is_none() && rng.chance(140) {
                    let back = day
                        .checked_add(jiff::Span::new().days(rng.range(3, 25)))
                        .unwrap_or(day);
                    pending_repeat = Some((back, fault));
                }
                wos.push(wo);
                // One work order per asset per day at most.
            }
            day = day.tomorrow().unwrap_or(today);
        }
    }
    // Open now, in every open status (the backlog), on assets of the first stores.
    let open_specs: &[(&str, i64, usize)] = &[
        ("open", 0, 5),
        ("open", 1, 6),
        ("assigned", 0, 1),
        ("assigned", 2, 2),
        ("accepted", 1, 0),
        ("travelling", 0, 3),
        ("in_progress", 0, 7),
        ("in_progress", 3, 9),
        ("paused", 9, 6),
        ("paused", 40, 0),
        ("review", 5, 4),
        ("open", 12, 8),
    ];
    if !assets.is_empty() {
        for (i, (status, days_ago, asset_idx)) in open_specs.iter().enumerate() {
            let store = i % stores.len().min(4);
            let ai = (store * 10 + asset_idx) % assets.len();
            let a = &assets[ai];
            let created = t_now - days_ago * 86_400_000_000 - rng.range(1, 8) * 3_600_000_000;
            let started = *status != "open";
            let responded = matches!(
                *status,
                "accepted" | "travelling" | "in_progress" | "paused" | "review"
            );
            wos.push(DemoWo {
                id: String::new(),
                asset: ai,
                fault: rng.pick(faults(a.category)),
                source: rng.pick_str(&["web", "qr"]),
                priority: if a.criticality == "critical" {
                    "high"
                } else {
                    "medium"
                },
                status,
                created,
                assigned: started.then_some(created + 20 * 60_000_000),
                responded: responded.then_some(created + 45 * 60_000_000),
                finished: (*status == "review").then_some(created + 5 * 3_600_000_000),
                closed: None,
                paused: (*status == "paused").then_some(created + 3 * 3_600_000_000),
                tech: if started { tech_for(&mut rng, a) } else { None },
                labour_min: if responded { rng.range(20, 90) } else { 0 },
                parts: 0,
                rating: (*status == "review").then_some(2),
                note_zh: rng.chance(500),
            });
        }
    }
    wos.sort_by_key(|w| (w.created, w.asset));
    for (i, w) in wos.iter_mut().enumerate() {
        w.id = demo_id(&format!("mnt-wo:{}", i + 1));
    }
    let ctx = Ctx::system();
    let n_wos = wos.len();
    let mut n_events = 0;
    tx!(p.db, tx, {
        let t = boh_kernel::now().micros();
        // Technicians: (id, company_id, user_id, code, name, kind, skills, certifications,
        // home_location_id, van_location_id, last_latitude, last_longitude, last_seen_at,
        // shift_days, shift_start_min, shift_end_min, max_open_jobs, hourly_rate, status,
        // created_at, updated_at, version)
        let sql = format!(
            "INSERT INTO mnt_technicians (id, company_id, user_id, code, name, kind, skills, certifications, \
             home_location_id, van_location_id, last_latitude, last_longitude, last_seen_at, shift_days, \
             shift_start_min, shift_end_min, max_open_jobs, hourly_rate, status, created_at, updated_at, version) VALUES {}",
            values_list(tx, techs.len(), 22)
        );
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
        for (i, (id, s, home, user)) in techs.iter().enumerate() {
            let contractor = s.2 == "contractor";
            q = q
                .bind(id.clone())
                .bind(company.clone())
                .bind(user.clone())
                .bind(s.0)
                .bind(s.1)
                .bind(s.2)
                .bind(s.3)
                .bind(s.4)
                .bind(home.id.clone())
                .bind(None::<String>)
                .bind(home.latitude)
                .bind(home.longitude)
                .bind(Some(t))
                .bind(if contractor {
                    "1111111"
                } else if i % 2 == 0 {
                    "1111100"
                } else {
                    "0011111"
                })
                .bind(if contractor {
                    0_i64
                } else if i % 3 == 0 {
                    420
                } else {
                    600
                })
                .bind(if contractor {
                    1440_i64
                } else if i % 3 == 0 {
                    960
                } else {
                    1140
                })
                .bind(if contractor { 8_i64 } else { 5 })
                .bind(s.8)
                .bind("active")
                .bind(t)
                .bind(t)
                .bind(1_i64);
        }
        q.execute(&mut *tx).await?;

        for (ci, chunk) in wos.chunks(200).enumerate() {
            let sql = format!(
                "INSERT INTO mnt_work_orders (id, company_id, location_id, location_path, asset_id, number, title, \
                 description, fault_code, category, priority, status, source, requester_id, requester_name, \
                 requester_contact, tracking_token, duplicate_of, technician_id, assigned_at, assign_note, \
                 response_min, resolution_min, sla_days, sla_open_min, sla_close_min, response_due_at, \
                 resolution_due_at, responded_at, finished_at, closed_at, paused_at, pause_reason, paused_min, \
                 escalation_level, cause_code, remedy_code, resolution_note, signature_required, labour_min, \
                 parts_cost, labour_cost, rating, rating_comment, created_by, created_at, updated_at, version) VALUES {}",
                values_list(tx, chunk.len(), 48)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for (j, w) in chunk.iter().enumerate() {
                let a = &assets[w.asset];
                let tz = sla::zone(&a.site.timezone);
                let pol = sla::default_policy(w.priority);
                let hours = pol.hours();
                let number = format!("WO-{:06}", ci * 200 + j + 1);
                let f = w.fault;
                let fixed = w.finished.is_some();
                let (title, description) = if w.source == "pm" {
                    ("Quarterly service 季度保养".to_string(), Some("Preventive maintenance: clean, check and adjust. 定期保养：清洁、检查、调整。".to_string()))
                } else {
                    (f.1.to_string(), Some(f.2.to_string()))
                };
                let note = if !fixed {
                    None
                } else if w.source == "pm" {
                    Some("Serviced: cleaned, checked seals and settings, no fault. 保养完成，清洁并检查密封与设定，无故障。".to_string())
                } else if w.note_zh {
                    // The Chinese half of the note first.
                    let mut parts = f.5.splitn(2, '。');
                    let zh = parts.next().unwrap_or("");
                    if zh.chars().any(|c| (c as u32) >= 0x4E00) {
                        Some(format!("{zh}。"))
                    } else {
                        Some(f.5.to_string())
                    }
                } else {
                    Some(f.5.to_string())
                };
                let tech = w.tech.map(|i| &techs[i]);
                let rate = tech.map(|t| t.1.8).unwrap_or(9000);
                let labour_cost = if w.labour_min > 0 {
                    w.labour_min * rate / 60
                } else {
                    0
                };
                let paused_min = w
                    .paused
                    .map(|pa| (t_now - pa) / 60_000_000 / 4)
                    .unwrap_or(0);
                q = q
                    .bind(w.id.clone())
                    .bind(company.clone())
                    .bind(a.site.id.clone())
                    .bind(a.site.path.clone())
                    .bind(Some(a.id.clone()))
                    .bind(number)
                    .bind(title)
                    .bind(description)
                    .bind(if w.source == "pm" { "other" } else { f.0 })
                    .bind(a.category)
                    .bind(w.priority)
                    .bind(w.status)
                    .bind(w.source)
                    .bind(None::<String>)
                    .bind(Some(if w.source == "pm" {
                        "Preventive maintenance".to_string()
                    } else {
                        format!("{} 店长 store manager", a.site.code)
                    }))
                    .bind(None::<String>)
                    .bind(boh_platform::util::random_token(24))
                    .bind(None::<String>)
                    .bind(tech.map(|t| t.0.clone()))
                    .bind(w.assigned.filter(|_| tech.is_some()))
                    .bind(tech.map(|_| "demo history".to_string()))
                    .bind(pol.response_min)
                    .bind(pol.resolution_min)
                    .bind(hours.days_text())
                    .bind(hours.open_min)
                    .bind(hours.close_min)
                    .bind(sla::add_business(&hours, &tz, w.created, pol.response_min))
                    .bind(
                        sla::add_business(&hours, &tz, w.created, pol.resolution_min)
                            + paused_min * 60_000_000,
                    )
                    .bind(w.responded)
                    .bind(w.finished)
                    .bind(w.closed)
                    .bind(w.paused)
                    .bind(w.paused.map(|_| "waiting_parts".to_string()))
                    .bind(paused_min)
                    .bind(0_i64)
                    .bind(fixed.then(|| if w.source == "pm" { "other" } else { f.3 }.to_string()))
                    .bind(fixed.then(|| if w.source == "pm" { "cleaned" } else { f.4 }.to_string()))
                    .bind(note)
                    .bind(0_i64)
                    .bind(w.labour_min)
                    .bind(if fixed { w.parts } else { 0 })
                    .bind(labour_cost)
                    .bind(w.rating)
                    .bind(w.rating.map(|r| match r {
                        5 => "很满意 Very quick, thank you".to_string(),
                        4 => "Good 不错".to_string(),
                        3 => "OK, took a while 一般".to_string(),
                        _ => "Still not right 还是有问题".to_string(),
                    }))
                    .bind("system")
                    .bind(w.created)
                    .bind(
                        w.closed
                            .or(w.finished)
                            .or(w.paused)
                            .or(w.responded)
                            .or(w.assigned)
                            .unwrap_or(w.created),
                    )
                    .bind(1_i64);
            }
            q.execute(&mut *tx).await?;
        }

        // Events: (id, work_order_id, seq, at, actor_id, actor_name, kind, from, to, note).
        type Ev = (
            &'static str,
            i64,
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<String>,
        );
        let mut events: Vec<(&str, i64, Ev)> = Vec::new();
        for w in &wos {
            let tech_name = w.tech.map(|i| techs[i].1.1).unwrap_or("Dispatcher");
            let mut ev: Vec<Ev> = vec![(
                "created",
                w.created,
                "",
                None,
                Some("open"),
                Some(w.source.to_string()),
            )];
            let mut status = "open";
            let mut push = |ev: &mut Vec<Ev>,
                            kind: &'static str,
                            at: i64,
                            to: &'static str,
                            note: Option<String>| {
                ev.push((kind, at, tech_name, Some(status), Some(to), note));
                status = to;
            };
            if let Some(at) = w.assigned.filter(|_| w.tech.is_some()) {
                push(
                    &mut ev,
                    "assigned",
                    at,
                    "assigned",
                    Some(tech_name.to_string()),
                );
            }
            if let Some(at) = w.responded {
                push(&mut ev, "accepted", at, "accepted", None);
                if w.status != "accepted" {
                    push(&mut ev, "travelling", at + 60_000_000, "travelling", None);
                    if w.status != "travelling" {
                        push(
                            &mut ev,
                            "started",
                            at + 30 * 60_000_000,
                            "in_progress",
                            None,
                        );
                    }
                }
            }
            if let Some(at) = w.paused {
                push(
                    &mut ev,
                    "paused",
                    at,
                    "paused",
                    Some("waiting_parts".into()),
                );
            }
            if let Some(at) = w.finished {
                push(&mut ev, "finished", at, "done", None);
            }
            if let Some(r) = w.rating {
                let at = w.closed.unwrap_or(w.finished.unwrap_or(w.created)) - 60_000_000;
                let to = if w.status == "review" {
                    "review"
                } else {
                    "done"
                };
                push(&mut ev, "rated", at, to, Some(format!("{r}/5")));
            }
            if let Some(at) = w.closed {
                push(&mut ev, "closed", at, "closed", None);
            }
            for (seq, e) in ev.into_iter().enumerate() {
                events.push((w.id.as_str(), seq as i64 + 1, e));
            }
        }
        n_events = events.len();
        for chunk in events.chunks(500) {
            let sql = format!(
                "INSERT INTO mnt_wo_events (id, work_order_id, seq, at, actor_id, actor_name, kind, from_status, \
                 to_status, note) VALUES {}",
                values_list(tx, chunk.len(), 10)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for (wo, seq, e) in chunk {
                let actor_name = if e.0 == "created" {
                    "Store 门店"
                } else {
                    e.2
                };
                q = q
                    .bind(demo_id(&format!("mnt-ev:{wo}:{seq}")))
                    .bind(wo.to_string())
                    .bind(*seq)
                    .bind(e.1)
                    .bind(None::<String>)
                    .bind(actor_name)
                    .bind(e.0)
                    .bind(e.3.map(str::to_string))
                    .bind(e.4.map(str::to_string))
                    .bind(e.5.clone());
            }
            q.execute(&mut *tx).await?;
        }
        let company_path = format!("/{company}/");
        let summary = Change {
            action: "maintenance.demo.history",
            entity_type: "mnt_work_order",
            entity_id: "demo-history",
            org_path: Some(&company_path),
            before: None,
            after: Some(json!({"work_orders": n_wos, "events": n_events, "demo": true})),
        };
        let changes: Vec<Change<'_>> = techs
            .iter()
            .map(|(id, s, home, _)| Change {
                action: "maintenance.technician.create",
                entity_type: "mnt_technician",
                entity_id: id,
                org_path: Some(&home.path),
                before: None,
                after: Some(json!({"code": s.0, "kind": s.2, "demo": true})),
            })
            .chain(std::iter::once(summary))
            .collect();
        audit::append_many(tx, &ctx, &changes).await?;
        // New work orders are numbered after the history.
        sqlx::query(
            "INSERT INTO inv_sequences (company_id, name, next_value) VALUES ($1, $2, $3) \
             ON CONFLICT (company_id, name) DO UPDATE SET next_value = $3",
        )
        .bind(&company)
        .bind(crate::workorder::NUMBER_SEQUENCE)
        .bind(n_wos as i64)
        .execute(&mut *tx)
        .await?;
        Ok(())
    })?;
    Ok(History {
        technicians: techs.len(),
        work_orders: n_wos,
        events: n_events,
    })
}

/// What [`seed_pm`] wrote.
#[derive(Debug, Clone, Default)]
pub struct PmDemo {
    pub parts: usize,
    pub schedules: usize,
    pub rules: usize,
    pub readings: usize,
    pub generated: usize,
}

/// Spare parts (items of kind `part`, stocked at every store), PM schedules on the fryers,
/// fridges, freezers, coffee machines and air conditioning of every store, half a year of
/// weekly meter readings ending at each meter's current value, a rate rule on every coffee
/// machine, and a first PM run (work orders of the schedules due now).
pub async fn seed_pm(p: &Platform, sites: &[OrgNode]) -> Result<PmDemo> {
    let mut out = PmDemo::default();
    let stores: Vec<&OrgNode> = sites.iter().filter(|s| s.kind == "store").collect();
    let Some(first) = stores.first() else {
        return Ok(out);
    };
    let company = first.company_id.clone();
    let ctx = Ctx::system();
    // Spare parts with stock at every store.
    const PARTS: &[(&str, &str, &str, &str, i64)] = &[
        (
            "SP-HEAT-EL",
            "加热管",
            "Fryer heating element",
            "pcs",
            18000,
        ),
        ("SP-THERMO", "温控器", "Thermostat", "pcs", 9500),
        ("SP-GASKET", "冰箱门封条", "Door gasket", "pcs", 6500),
        (
            "SP-FILTER",
            "咖啡机滤芯",
            "Water filter cartridge",
            "pcs",
            4200,
        ),
        (
            "SP-RELAY",
            "压缩机启动继电器",
            "Compressor start relay",
            "pcs",
            7800,
        ),
        ("SP-BELT", "风机皮带", "Fan belt", "pcs", 3600),
    ];
    for (code, zh, en, unit, _) in PARTS {
        let input: boh_inventory::catalog::ItemInput = serde_json::from_value(json!({
            "company_id": company, "code": code, "name_zh": zh, "name_en": en,
            "base_unit": unit, "kind": "part"
        }))
        .map_err(|e| boh_platform::PlatformError::Internal(anyhow::anyhow!("demo part: {e}")))?;
        boh_inventory::catalog::create_item(p, &ctx, input).await?;
        out.parts += 1;
    }
    for s in &stores {
        let lines: Vec<serde_json::Value> = PARTS
            .iter()
            .map(|(code, _, _, _, cost)| {
                json!({"item_code": code, "qty": "4", "unit_cost": format!("{}.{:02}", cost / 100, cost % 100)})
            })
            .collect();
        let doc: boh_inventory::ledger::DocInput = serde_json::from_value(json!({
            "location_id": s.id, "kind": "opening", "reference": "Spare parts", "lines": lines
        }))
        .map_err(|e| {
            boh_platform::PlatformError::Internal(anyhow::anyhow!("demo parts stock: {e}"))
        })?;
        boh_inventory::ledger::post_manual(p, &ctx, doc).await?;
    }

    // Meter readings: weekly for 26 weeks, rising to the meter's current value.
    let meters = sqlx::query(
        "SELECT m.id, m.asset_id, m.code, m.last_value FROM mnt_meters m JOIN mnt_assets a ON a.id = m.asset_id \
         JOIN org_nodes n ON n.id = a.location_id WHERE a.company_id = $1 AND n.kind = 'store' ORDER BY m.id",
    )
    .bind(&company)
    .fetch_all(p.db.pool())
    .await?;
    let week = 7 * 86_400_000_000i64;
    let t = boh_kernel::now().micros();
    let mut readings: Vec<(String, String, String, i64, i64)> = Vec::new();
    for r in &meters {
        let (id, asset, code): (String, String, String) =
            (r.try_get("id")?, r.try_get("asset_id")?, r.try_get("code")?);
        let last: Option<i64> = r.try_get("last_value")?;
        let last = last.unwrap_or(0);
        let per_week = if code == "running_hours" { 84 } else { 350 };
        for k in 0..26i64 {
            let v = (last - (25 - k) * per_week).max(0);
            readings.push((
                id.clone(),
                asset.clone(),
                code.clone(),
                v,
                t - (25 - k) * week,
            ));
        }
    }
    tx!(p.db, tx, {
        for chunk in readings.chunks(250) {
            let sql = format!(
                "INSERT INTO mnt_meter_readings (id, asset_id, meter_id, meter_code, value, read_at, created_by, created_at) VALUES {}",
                values_list(tx, chunk.len(), 8)
            );
            let mut q = sqlx::query(boh_db::AssertSqlSafe(sql));
            for (meter, asset, code, v, at) in chunk {
                q = q
                    .bind(boh_kernel::new_id())
                    .bind(asset.clone())
                    .bind(meter.clone())
                    .bind(code.clone())
                    .bind(*v)
                    .bind(*at)
                    .bind(Option::<String>::None)
                    .bind(*at);
            }
            q.execute(&mut *tx).await?;
        }
        Ok(())
    })?;
    out.readings = readings.len();

    // Schedules by category.
    let assets = sqlx::query(
        "SELECT a.id, a.category FROM mnt_assets a JOIN org_nodes n ON n.id = a.location_id \
         WHERE a.company_id = $1 AND n.kind = 'store' AND a.status = 'active' \
         AND a.category IN ('fryer', 'fridge', 'freezer', 'coffee_machine', 'air_conditioning') ORDER BY a.code",
    )
    .bind(&company)
    .fetch_all(p.db.pool())
    .await?;
    let today = boh_inventory::today_in(&first.timezone);
    for (i, r) in assets.iter().enumerate() {
        let (id, category): (String, String) = (r.try_get("id")?, r.try_get("category")?);
        // Staggered starts so that a few schedules are due in the coming days.
        let start = today
            .checked_sub(jiff::Span::new().days(20 + (i as i64 % 40)))
            .unwrap_or(today)
            .to_string();
        let spec = match category.as_str() {
            "fryer" => {
                json!({"title": "Boil-out, filter and thermostat check", "trigger": "calendar",
                "interval_n": 1, "interval_unit": "month", "lead_days": 3, "start_date": start,
                "checklist": [{"label": "Boil out the vat", "required": true},
                              {"label": "Check the thermostat against a probe", "required": true},
                              {"label": "Inspect the heating element", "required": false}]})
            }
            "fridge" | "freezer" => {
                json!({"title": "Condenser coils and door seals", "trigger": "calendar",
                "interval_n": 3, "interval_unit": "month", "lead_days": 7, "start_date": start,
                "checklist": [{"label": "Clean the condenser coils", "required": true},
                              {"label": "Check the door gaskets", "required": true}]})
            }
            "coffee_machine" => {
                json!({"title": "Descale and change the water filter", "trigger": "either",
                "interval_n": 2, "interval_unit": "month", "meter_code": "cycles", "meter_every": 5000,
                "lead_units": 300, "start_date": start, "signature_required": true,
                "checklist": [{"label": "Descale the boiler", "required": true},
                              {"label": "Replace the water filter", "required": true}]})
            }
            _ => json!({"title": "Filters and refrigerant check", "trigger": "calendar",
                "interval_n": 3, "interval_unit": "month", "lead_days": 7, "start_date": start,
                "checklist": [{"label": "Clean or replace the filters", "required": true},
                              {"label": "Check refrigerant pressure", "required": true}]}),
        };
        let mut spec = spec;
        spec["asset_id"] = json!(id);
        let input: crate::pm::PmInput = serde_json::from_value(spec).map_err(|e| {
            boh_platform::PlatformError::Internal(anyhow::anyhow!("demo schedule: {e}"))
        })?;
        crate::pm::create(p, &ctx, &input).await?;
        out.schedules += 1;
        if category == "coffee_machine" {
            let rule: crate::predictive::RuleInput = serde_json::from_value(json!({
                "asset_id": id, "meter_code": "cycles", "kind": "rate", "direction": "above",
                "limit_value": 400, "window_days": 14, "title": "Unusually heavy use", "fault_code": "other"
            }))
            .map_err(|e| boh_platform::PlatformError::Internal(anyhow::anyhow!("demo rule: {e}")))?;
            crate::predictive::create_rule(p, &ctx, &rule).await?;
            out.rules += 1;
        }
    }
    out.generated = crate::pm::run_due(p).await?.generated.len();
    Ok(out)
}
