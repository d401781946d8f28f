//! Bootstrap and demo data.
//!
//! [`bootstrap_company`] creates a company with the built-in roles (the first step of any real
//! installation). [`seed`] adds, once, a believable chain: one company, three regions,
//! 24 stores (S001…S024) in real cities, a warehouse, a central kitchen and one user per role.
//! Content and ids are deterministic, so two seeded databases hold the same records.

use boh_db::Row;
use boh_kernel::now;
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{self, Change};
use crate::iam::{BUILTIN_ROLES, hash_password};
use crate::org::OrgNode;
use crate::{Ctx, Platform, PlatformError, Result};

/// A stable UUIDv7 derived from a name, so seeded ids are the same on every run.
pub fn demo_id(name: &str) -> String {
    let h = crate::util::sha256_hex(name.as_bytes());
    let bytes = hex::decode(&h[..20]).unwrap_or_default();
    let mut rnd = [0u8; 10];
    for (i, b) in bytes.iter().take(10).enumerate() {
        if let Some(slot) = rnd.get_mut(i) {
            *slot = *b;
        }
    }
    uuid::Builder::from_unix_timestamp_millis(1_764_000_000_000, &rnd)
        .into_uuid()
        .to_string()
}

/// The demo users: (username, display name, role code, node code; "" = the company).
pub const DEMO_USERS: &[(&str, &str, &str, &str)] = &[
    ("admin", "系统管理员 Admin", "admin", ""),
    ("manager.s001", "张伟 Zhang Wei", "store_manager", "S001"),
    ("manager.s002", "李娜 Li Na", "store_manager", "S002"),
    ("region.east", "王芳 Wang Fang", "region_manager", "R-EAST"),
    ("finance", "刘洋 Liu Yang", "finance", ""),
    ("tech.chen", "陈强 Chen Qiang", "technician", "R-EAST"),
];

struct Site {
    code: &'static str,
    region: &'static str,
    kind: &'static str,
    zh: &'static str,
    en: &'static str,
    format: &'static str,
    area: i64,
    opened: &'static str,
    state: &'static str,
    lat: f64,
    lon: f64,
    address: &'static str,
}

const REGIONS: &[(&str, &str, &str)] = &[
    ("R-EAST", "华东区", "East China"),
    ("R-NORTH", "华北区", "North China"),
    ("R-SOUTH", "华南区", "South China"),
];

macro_rules! site {
    ($code:expr, $region:expr, $kind:expr, $zh:expr, $en:expr, $format:expr, $area:expr, $opened:expr, $state:expr, $lat:expr, $lon:expr, $addr:expr) => {
        Site {
            code: $code,
            region: $region,
            kind: $kind,
            zh: $zh,
            en: $en,
            format: $format,
            area: $area,
            opened: $opened,
            state: $state,
            lat: $lat,
            lon: $lon,
            address: $addr,
        }
    };
}

const SITES: &[Site] = &[
    site!(
        "S001",
        "R-EAST",
        "store",
        "上海人民广场店",
        "Shanghai People's Square",
        "flagship",
        320,
        "2019-05-18",
        "open",
        31.2317,
        121.4726,
        "上海市黄浦区南京西路 2 号"
    ),
    site!(
        "S002",
        "R-EAST",
        "store",
        "上海陆家嘴店",
        "Shanghai Lujiazui",
        "mall",
        210,
        "2020-09-01",
        "open",
        31.2397,
        121.4998,
        "上海市浦东新区陆家嘴环路 1000 号"
    ),
    site!(
        "S003",
        "R-EAST",
        "store",
        "上海徐家汇店",
        "Shanghai Xujiahui",
        "mall",
        180,
        "2020-12-12",
        "open",
        31.1955,
        121.4365,
        "上海市徐汇区虹桥路 1 号"
    ),
    site!(
        "S004",
        "R-EAST",
        "store",
        "上海静安寺店",
        "Shanghai Jing'an Temple",
        "street",
        150,
        "2021-04-30",
        "open",
        31.2243,
        121.4458,
        "上海市静安区南京西路 1618 号"
    ),
    site!(
        "S005",
        "R-EAST",
        "store",
        "上海虹桥站店",
        "Shanghai Hongqiao Station",
        "express",
        60,
        "2022-01-15",
        "open",
        31.1946,
        121.3208,
        "上海市闵行区申贵路 1500 号"
    ),
    site!(
        "S006",
        "R-EAST",
        "store",
        "杭州西湖店",
        "Hangzhou West Lake",
        "street",
        190,
        "2020-06-20",
        "open",
        30.2592,
        120.1650,
        "杭州市上城区湖滨路 28 号"
    ),
    site!(
        "S007",
        "R-EAST",
        "store",
        "杭州滨江店",
        "Hangzhou Binjiang",
        "standard",
        140,
        "2023-03-08",
        "open",
        30.2084,
        120.2120,
        "杭州市滨江区江南大道 3850 号"
    ),
    site!(
        "S008",
        "R-EAST",
        "store",
        "南京新街口店",
        "Nanjing Xinjiekou",
        "mall",
        200,
        "2021-08-18",
        "open",
        32.0415,
        118.7842,
        "南京市秦淮区中山南路 1 号"
    ),
    site!(
        "S009",
        "R-EAST",
        "store",
        "南京河西店",
        "Nanjing Hexi",
        "standard",
        130,
        "2024-05-01",
        "open",
        32.0048,
        118.7310,
        "南京市建邺区江东中路 98 号"
    ),
    site!(
        "S010",
        "R-EAST",
        "store",
        "苏州观前街店",
        "Suzhou Guanqian Street",
        "street",
        120,
        "2022-10-01",
        "open",
        31.3110,
        120.6285,
        "苏州市姑苏区观前街 168 号"
    ),
    site!(
        "S011",
        "R-NORTH",
        "store",
        "北京王府井店",
        "Beijing Wangfujing",
        "flagship",
        300,
        "2019-10-01",
        "open",
        39.9149,
        116.4108,
        "北京市东城区王府井大街 138 号"
    ),
    site!(
        "S012",
        "R-NORTH",
        "store",
        "北京三里屯店",
        "Beijing Sanlitun",
        "street",
        170,
        "2020-08-08",
        "open",
        39.9365,
        116.4551,
        "北京市朝阳区三里屯路 19 号"
    ),
    site!(
        "S013",
        "R-NORTH",
        "store",
        "北京中关村店",
        "Beijing Zhongguancun",
        "mall",
        160,
        "2021-03-15",
        "open",
        39.9834,
        116.3160,
        "北京市海淀区中关村大街 15 号"
    ),
    site!(
        "S014",
        "R-NORTH",
        "store",
        "北京国贸店",
        "Beijing Guomao",
        "mall",
        220,
        "2021-11-11",
        "open",
        39.9087,
        116.4605,
        "北京市朝阳区建国门外大街 1 号"
    ),
    site!(
        "S015",
        "R-NORTH",
        "store",
        "北京西单店",
        "Beijing Xidan",
        "standard",
        110,
        "2018-06-01",
        "closing",
        39.9096,
        116.3736,
        "北京市西城区西单北大街 120 号"
    ),
    site!(
        "S016",
        "R-NORTH",
        "store",
        "天津滨江道店",
        "Tianjin Binjiang Avenue",
        "street",
        150,
        "2022-05-20",
        "open",
        39.1204,
        117.1995,
        "天津市和平区滨江道 208 号"
    ),
    site!(
        "S017",
        "R-NORTH",
        "store",
        "天津大悦城店",
        "Tianjin Joy City",
        "mall",
        130,
        "2023-09-09",
        "open",
        39.1466,
        117.1797,
        "天津市南开区南门外大街 2 号"
    ),
    site!(
        "S018",
        "R-SOUTH",
        "store",
        "广州天河城店",
        "Guangzhou Tianhe City",
        "flagship",
        280,
        "2020-01-10",
        "open",
        23.1325,
        113.3237,
        "广州市天河区天河路 208 号"
    ),
    site!(
        "S019",
        "R-SOUTH",
        "store",
        "广州北京路店",
        "Guangzhou Beijing Road",
        "street",
        140,
        "2021-07-01",
        "open",
        23.1255,
        113.2693,
        "广州市越秀区北京路 288 号"
    ),
    site!(
        "S020",
        "R-SOUTH",
        "store",
        "广州白云机场店",
        "Guangzhou Baiyun Airport",
        "kiosk",
        45,
        "2023-12-01",
        "open",
        23.3924,
        113.2988,
        "广州市白云区机场路 282 号"
    ),
    site!(
        "S021",
        "R-SOUTH",
        "store",
        "深圳万象城店",
        "Shenzhen MixC",
        "mall",
        230,
        "2020-11-20",
        "open",
        22.5372,
        114.1112,
        "深圳市罗湖区宝安南路 1881 号"
    ),
    site!(
        "S022",
        "R-SOUTH",
        "store",
        "深圳南山科技园店",
        "Shenzhen Nanshan Tech Park",
        "express",
        80,
        "2026-12-18",
        "opening",
        22.5405,
        113.9520,
        "深圳市南山区科技南十二路 2 号"
    ),
    site!(
        "S023",
        "R-SOUTH",
        "store",
        "深圳福田中心店",
        "Shenzhen Futian Centre",
        "standard",
        150,
        "2027-03-01",
        "approved",
        22.5431,
        114.0579,
        "深圳市福田区福华三路 268 号"
    ),
    site!(
        "S024",
        "R-SOUTH",
        "store",
        "厦门中山路店",
        "Xiamen Zhongshan Road",
        "street",
        120,
        "",
        "candidate",
        24.4555,
        118.0776,
        "厦门市思明区中山路 139 号"
    ),
    site!(
        "W001",
        "",
        "warehouse",
        "上海嘉定中央仓",
        "Shanghai Jiading Central Warehouse",
        "",
        6000,
        "2019-01-10",
        "",
        31.3833,
        121.2500,
        "上海市嘉定区嘉定工业区 888 号"
    ),
    site!(
        "K001",
        "",
        "central_kitchen",
        "上海青浦中央厨房",
        "Shanghai Qingpu Central Kitchen",
        "",
        2500,
        "2019-03-01",
        "",
        31.1500,
        121.1240,
        "上海市青浦区华新镇 66 号"
    ),
];

const COMPANY_CODE: &str = "BOH";

/// Whether the demo chain has been seeded in this database.
pub async fn is_seeded(p: &Platform) -> Result<bool> {
    Ok(
        sqlx::query("SELECT value FROM app_meta WHERE key = 'demo_seeded'")
            .fetch_optional(p.db.pool())
            .await?
            .is_some(),
    )
}

fn node(
    id: String,
    parent: Option<&OrgNode>,
    kind: &str,
    code: &str,
    zh: &str,
    en: &str,
) -> OrgNode {
    let t = now().micros();
    let (company_id, path, depth) = match parent {
        Some(par) => (
            par.company_id.clone(),
            format!("{}{}/", par.path, id),
            par.depth + 1,
        ),
        None => (id.clone(), format!("/{id}/"), 0),
    };
    OrgNode {
        id,
        parent_id: parent.map(|x| x.id.clone()),
        company_id,
        path,
        depth,
        kind: kind.into(),
        code: code.into(),
        name_zh: zh.into(),
        name_en: en.into(),
        format: None,
        sales_area_m2: None,
        opening_date: None,
        lifecycle_state: None,
        latitude: None,
        longitude: None,
        timezone: "Asia/Shanghai".into(),
        address: None,
        created_at: t,
        updated_at: t,
        version: 1,
    }
}

async fn insert_node(tx: &mut AnyConnection, ctx: &Ctx, n: &OrgNode) -> Result<()> {
    crate::org::insert(tx, n).await?;
    audit::append(
        tx,
        ctx,
        Change {
            action: "org.node.create",
            entity_type: "org_node",
            entity_id: &n.id,
            org_path: Some(&n.path),
            before: None,
            after: serde_json::to_value(n).ok(),
        },
    )
    .await
}

/// Insert the built-in roles for a company (idempotent).
pub async fn ensure_builtin_roles(tx: &mut AnyConnection, company_id: &str) -> Result<()> {
    let t = now().micros();
    for (code, en, zh, perms) in BUILTIN_ROLES {
        sqlx::query(
            "INSERT INTO roles (id, company_id, code, name_zh, name_en, permissions, builtin, created_at, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,1,$7,$7) ON CONFLICT (company_id, code) DO NOTHING",
        )
        .bind(demo_id(&format!("role:{company_id}:{code}"))).bind(company_id).bind(*code).bind(*zh).bind(*en)
        .bind(perms.join(" ")).bind(t)
        .execute(&mut *tx).await?;
    }
    Ok(())
}

/// Bring the built-in roles of every company up to this build's definitions (a new release may
/// add permissions to them). Holders see the change on their next request. Returns how many
/// roles changed.
pub async fn sync_builtin_roles(p: &Platform) -> Result<u64> {
    let rows = sqlx::query("SELECT id, code, permissions FROM roles WHERE builtin = 1")
        .fetch_all(p.db.pool())
        .await?;
    let mut stale: Vec<(String, String)> = Vec::new();
    for r in &rows {
        let code: String = r.try_get("code")?;
        let current: String = r.try_get("permissions")?;
        if let Some((_, _, _, perms)) = BUILTIN_ROLES.iter().find(|(c, ..)| *c == code) {
            let wanted = perms.join(" ");
            if wanted != current {
                stale.push((r.try_get("id")?, wanted));
            }
        }
    }
    if stale.is_empty() {
        return Ok(0);
    }
    let ctx = Ctx::system();
    let t = now().micros();
    crate::tx!(p.db, tx, {
        for (id, wanted) in &stale {
            sqlx::query("UPDATE roles SET permissions = $1, updated_at = $2 WHERE id = $3")
                .bind(wanted)
                .bind(t)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE users SET auth_version = auth_version + 1 WHERE id IN \
                 (SELECT user_id FROM grants WHERE role_id = $1)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            audit::append(
                tx,
                &ctx,
                Change {
                    action: "iam.role.sync",
                    entity_type: "role",
                    entity_id: id,
                    org_path: None,
                    before: None,
                    after: Some(json!({ "permissions": wanted })),
                },
            )
            .await?;
        }
        Ok::<_, PlatformError>(())
    })?;
    Ok(stale.len() as u64)
}

/// Create a company with its built-in roles and an administrator. Used by `boh company add`.
pub async fn bootstrap_company(
    p: &Platform,
    code: &str,
    name_zh: &str,
    name_en: &str,
    admin_username: &str,
    admin_password: &str,
) -> Result<String> {
    let mut errors = Vec::new();
    crate::iam::check_password(&mut errors, "password", admin_password);
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let ctx = Ctx::system();
    let company = node(
        boh_kernel::new_id(),
        None,
        "company",
        code,
        name_zh,
        name_en,
    );
    let hash = hash_password(admin_password)?;
    crate::tx!(p.db, tx, {
        insert_node(tx, &ctx, &company).await?;
        ensure_builtin_roles(tx, &company.id).await?;
        add_user(
            tx,
            &ctx,
            &company.id,
            admin_username,
            admin_username,
            &hash,
            "admin",
            &company,
        )
        .await
    })?;
    Ok(company.id)
}

#[allow(clippy::too_many_arguments)]
async fn add_user(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    company_id: &str,
    username: &str,
    display: &str,
    hash: &str,
    role: &str,
    at: &OrgNode,
) -> Result<()> {
    let t = now().micros();
    let uid = demo_id(&format!("user:{username}"));
    let r = sqlx::query(
        "INSERT INTO users (id, company_id, username, display_name, password_hash, locale, active, auth_version, created_at, updated_at) \
         VALUES ($1,$2,$3,$4,$5,'zh-CN',1,1,$6,$6)",
    )
    .bind(&uid).bind(company_id).bind(username).bind(display).bind(hash).bind(t)
    .execute(&mut *tx).await;
    crate::error::unique_conflict(r, "username", || format!("username {username} is taken"))?;
    let role_id: String = sqlx::query("SELECT id FROM roles WHERE company_id = $1 AND code = $2")
        .bind(company_id)
        .bind(role)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
    let gid = demo_id(&format!("grant:{username}:{role}:{}", at.code));
    sqlx::query("INSERT INTO grants (id, user_id, role_id, org_node_id, created_at, created_by) VALUES ($1,$2,$3,$4,$5,'system')")
        .bind(&gid).bind(&uid).bind(&role_id).bind(&at.id).bind(t).execute(&mut *tx).await?;
    audit::append(
        tx,
        ctx,
        Change {
            action: "iam.user.create",
            entity_type: "user",
            entity_id: &uid,
            org_path: None,
            before: None,
            after: Some(json!({"username": username, "role": role, "node": at.code})),
        },
    )
    .await
}

/// Seed the demo chain once. Returns false when it was already there.
pub async fn seed(p: &Platform, password: &str) -> Result<bool> {
    if is_seeded(p).await? {
        return Ok(false);
    }
    let ctx = Ctx::system();
    let hash = hash_password(password)?;
    let created = crate::tx!(p.db, tx, {
        if sqlx::query("SELECT value FROM app_meta WHERE key = 'demo_seeded'")
            .fetch_optional(&mut *tx)
            .await?
            .is_some()
        {
            return Ok(false);
        }
        let company = node(
            demo_id("company"),
            None,
            "company",
            COMPANY_CODE,
            "博禾餐饮集团",
            "BOH Foods Group",
        );
        insert_node(tx, &ctx, &company).await?;
        ensure_builtin_roles(tx, &company.id).await?;
        let mut regions = Vec::new();
        for (code, zh, en) in REGIONS {
            let r = node(demo_id(code), Some(&company), "region", code, zh, en);
            insert_node(tx, &ctx, &r).await?;
            regions.push(r);
        }
        let mut all: Vec<OrgNode> = vec![company.clone()];
        all.extend(regions.iter().cloned());
        for s in SITES {
            let parent = regions
                .iter()
                .find(|r| r.code == s.region)
                .unwrap_or(&company);
            let mut n = node(demo_id(s.code), Some(parent), s.kind, s.code, s.zh, s.en);
            n.format = Some(s.format.to_string()).filter(|f| !f.is_empty());
            n.sales_area_m2 = Some(s.area);
            n.opening_date = Some(s.opened.to_string()).filter(|f| !f.is_empty());
            n.lifecycle_state = Some(s.state.to_string()).filter(|f| !f.is_empty());
            n.latitude = Some(s.lat);
            n.longitude = Some(s.lon);
            n.address = Some(s.address.to_string());
            insert_node(tx, &ctx, &n).await?;
            all.push(n);
        }
        for (username, display, role, at) in DEMO_USERS {
            let node = if at.is_empty() {
                &company
            } else {
                all.iter().find(|n| n.code == *at).unwrap_or(&company)
            };
            add_user(tx, &ctx, &company.id, username, display, &hash, role, node).await?;
        }
        sqlx::query("INSERT INTO app_meta (key, value) VALUES ('demo_seeded', $1)")
            .bind(now().rfc3339())
            .execute(&mut *tx)
            .await?;
        Ok::<_, PlatformError>(true)
    })?;
    Ok(created)
}
