//! Assets: create, change, retire, list, detail; meters.

use std::collections::HashMap;

use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use boh_platform::audit::{self, Change};
use boh_platform::org::{self, OrgNode};
use boh_platform::util::{like_escape, required_text};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, events, tx};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

/// What an asset is.
pub const CATEGORIES: &[&str] = &[
    "fryer",
    "oven",
    "fridge",
    "freezer",
    "coffee_machine",
    "air_conditioning",
    "pos_terminal",
    "dishwasher",
    "other",
];

/// How much a breakdown hurts.
pub const CRITICALITIES: &[&str] = &["low", "medium", "high", "critical"];

/// `active` or `retired`.
pub const STATUSES: &[&str] = &["active", "retired"];

/// Levels of the hierarchy below the site: line → equipment → component → part.
pub const MAX_DEPTH: i64 = 4;

fn category_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(CATEGORIES, false, false)
}
fn criticality_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(CRITICALITIES, true, false)
}
fn status_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(STATUSES, false, false)
}
fn status_filter_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(&["active", "retired", "all"], true, true)
}

/// One asset.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Asset {
    pub id: String,
    pub company_id: String,
    /// The store, warehouse or central kitchen the asset is at.
    pub location_id: String,
    pub location_code: String,
    pub code: String,
    pub name: String,
    #[schema(schema_with = category_schema)]
    pub category: String,
    pub make: Option<String>,
    pub model: Option<String>,
    pub serial: Option<String>,
    /// The supplier (of the same company) it was bought from or is serviced by.
    pub supplier_id: Option<String>,
    /// `YYYY-MM-DD`.
    pub install_date: Option<String>,
    /// Last day of the warranty, `YYYY-MM-DD`.
    pub warranty_end: Option<String>,
    #[schema(schema_with = criticality_schema)]
    pub criticality: String,
    #[schema(schema_with = status_schema)]
    pub status: String,
    /// The asset this one is part of (at the same site); none for a top-level asset.
    pub parent_id: Option<String>,
    /// 1 for a top-level asset, at most 4.
    pub depth: i64,
    /// The public token of the asset's QR code (`/q/{qr_token}`).
    pub qr_token: String,
    pub note: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Send it back with a change to guard against lost updates.
    pub version: i64,
}

/// An asset named in a hierarchy (ancestors, children).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AssetRef {
    pub id: String,
    pub code: String,
    pub name: String,
    pub category: String,
    pub status: String,
}

/// A meter of an asset (running hours, cycles, ...).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Meter {
    pub id: String,
    pub asset_id: String,
    /// `running_hours`, `cycles`, ...: unique per asset.
    pub code: String,
    /// The unit of the readings (`h`, `cycles`, `kWh`).
    pub unit: String,
    /// The last reading, an exact integer in `unit`.
    pub last_value: Option<i64>,
    pub last_read_at: Option<String>,
    pub created_at: String,
}

/// An asset with what its page shows.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssetDetail {
    #[serde(flatten)]
    pub asset: Asset,
    /// `in_warranty` (today at the site is on or before `warranty_end`), `expired`, or `none`.
    #[schema(schema_with = warranty_schema)]
    pub warranty: String,
    /// From the top-level asset down to the parent.
    pub ancestors: Vec<AssetRef>,
    /// Direct sub-assets, by code.
    pub children: Vec<AssetRef>,
    /// By code.
    pub meters: Vec<Meter>,
}

fn warranty_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(&["in_warranty", "expired", "none"], false, false)
}

/// A new asset. Optional text fields may be absent, null or empty (none).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetInput {
    /// A store, warehouse or central kitchen.
    pub location_id: String,
    /// 1–64 letters, digits, `- _ . /`; unique in the company.
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    #[schema(schema_with = category_schema)]
    pub category: String,
    #[serde(default)]
    #[schema(max_length = 80)]
    pub make: Option<String>,
    #[serde(default)]
    #[schema(max_length = 80)]
    pub model: Option<String>,
    #[serde(default)]
    #[schema(max_length = 80)]
    pub serial: Option<String>,
    #[serde(default)]
    pub supplier_id: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default)]
    pub install_date: Option<String>,
    /// `YYYY-MM-DD`, not before `install_date`.
    #[serde(default)]
    pub warranty_end: Option<String>,
    /// Default `medium`.
    #[serde(default)]
    #[schema(schema_with = criticality_schema)]
    pub criticality: Option<String>,
    /// An active asset at the same location.
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// A change to an asset: absent fields keep their value, an empty optional field clears it
/// (an empty `parent_id` makes the asset top-level).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssetPatch {
    /// The version the change is based on; another one is refused (409).
    #[serde(default)]
    pub version: Option<i64>,
    /// Move the asset to another site (only without sub-assets).
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 64)]
    pub code: Option<String>,
    #[serde(default)]
    #[schema(max_length = 120)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(schema_with = category_schema)]
    pub category: Option<String>,
    #[serde(default)]
    #[schema(max_length = 80)]
    pub make: Option<String>,
    #[serde(default)]
    #[schema(max_length = 80)]
    pub model: Option<String>,
    #[serde(default)]
    #[schema(max_length = 80)]
    pub serial: Option<String>,
    #[serde(default)]
    pub supplier_id: Option<String>,
    #[serde(default)]
    pub install_date: Option<String>,
    #[serde(default)]
    pub warranty_end: Option<String>,
    #[serde(default)]
    #[schema(schema_with = criticality_schema)]
    pub criticality: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

/// A new meter.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeterInput {
    /// Lower-case letters, digits and `_`, 1–32 (`running_hours`, `cycles`).
    #[schema(min_length = 1, max_length = 32, pattern = "^[a-z0-9_]+$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 16)]
    pub unit: String,
    /// The current reading, if known: an integer, 0 or more.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub last_value: Option<i64>,
}

/// Filters of the asset list.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct AssetFilter {
    /// Only this site.
    pub location_id: Option<String>,
    /// Only sites under this org node (the scope picker).
    pub under: Option<String>,
    #[param(schema_with = category_filter_schema)]
    pub category: Option<String>,
    /// `active` (default), `retired` or `all`.
    #[param(schema_with = status_filter_schema)]
    pub status: Option<String>,
    /// Text search in code, name, model and serial.
    pub q: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

fn category_filter_schema() -> utoipa::openapi::Object {
    boh_platform::util::enum_schema(CATEGORIES, true, true)
}

const COLS: &str = "a.id, a.company_id, a.location_id, n.code AS location_code, a.code, a.name, \
    a.category, a.make, a.model, a.serial, a.supplier_id, a.install_date, a.warranty_end, \
    a.criticality, a.status, a.parent_id, a.depth, a.qr_token, a.note, a.created_at, \
    a.updated_at, a.version, a.location_path";

const FROM: &str = "FROM mnt_assets a JOIN org_nodes n ON n.id = a.location_id";

fn instant(v: i64) -> String {
    boh_kernel::Instant(v).rfc3339()
}

fn from_row(r: &boh_db::AnyRow) -> Result<Asset> {
    Ok(Asset {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        location_id: r.try_get("location_id")?,
        location_code: r.try_get("location_code")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        category: r.try_get("category")?,
        make: r.try_get("make")?,
        model: r.try_get("model")?,
        serial: r.try_get("serial")?,
        supplier_id: r.try_get("supplier_id")?,
        install_date: r.try_get("install_date")?,
        warranty_end: r.try_get("warranty_end")?,
        criticality: r.try_get("criticality")?,
        status: r.try_get("status")?,
        parent_id: r.try_get("parent_id")?,
        depth: r.try_get("depth")?,
        qr_token: r.try_get("qr_token")?,
        note: r.try_get("note")?,
        created_at: instant(r.try_get("created_at")?),
        updated_at: instant(r.try_get("updated_at")?),
        version: r.try_get("version")?,
    })
}

/// Who may see an asset at `path`: its readers and its managers.
pub fn may_read(actor: &Actor, path: &str) -> bool {
    actor.allows(perm::MAINTENANCE_ASSET_READ, path) || actor.allows(perm::MAINTENANCE_ASSET, path)
}

/// True when the actor may register assets somewhere (the "new asset" button).
pub fn may_manage_somewhere(actor: &Actor) -> bool {
    actor.has_anywhere(perm::MAINTENANCE_ASSET)
}

/// An asset with its path, unscoped.
async fn fetch(p: &Platform, id: &str) -> Result<Option<(Asset, String)>> {
    if !boh_kernel::id::is_uuid(id) {
        return Ok(None);
    }
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE a.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    match r {
        Some(r) => Ok(Some((from_row(&r)?, r.try_get("location_path")?))),
        None => Ok(None),
    }
}

/// One asset the actor may read (404 otherwise).
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Asset> {
    match fetch(p, id).await? {
        Some((a, path)) if may_read(actor, &path) => Ok(a),
        _ => Err(PlatformError::NotFound),
    }
}

/// An asset by its public QR token, unscoped (for the no-login request form).
pub async fn by_qr_token(p: &Platform, token: &str) -> Result<Option<Asset>> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE a.qr_token = $1"
    )))
    .bind(token)
    .fetch_optional(p.db.pool())
    .await?;
    r.map(|r| from_row(&r)).transpose()
}

/// Warranty state on `today`: `in_warranty`, `expired` or `none`.
pub fn warranty_state(warranty_end: Option<&str>, today: jiff::civil::Date) -> &'static str {
    match warranty_end.and_then(|d| d.parse::<jiff::civil::Date>().ok()) {
        Some(end) if today <= end => "in_warranty",
        Some(_) => "expired",
        None => "none",
    }
}

fn asset_ref(r: &boh_db::AnyRow) -> Result<AssetRef> {
    Ok(AssetRef {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        name: r.try_get("name")?,
        category: r.try_get("category")?,
        status: r.try_get("status")?,
    })
}

/// The asset with its warranty state, ancestors, children and meters.
pub async fn detail(p: &Platform, actor: &Actor, id: &str) -> Result<AssetDetail> {
    let asset = get(p, actor, id).await?;
    let site = org::fetch(p, &asset.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    let today = boh_inventory::today_in(&site.timezone);
    let mut ancestors = Vec::new();
    let mut next = asset.parent_id.clone();
    // The depth bounds the walk; the guard only protects against a damaged table.
    while let Some(pid) = next.take() {
        if ancestors.len() as i64 >= MAX_DEPTH {
            break;
        }
        let r = sqlx::query(
            "SELECT id, code, name, category, status, parent_id FROM mnt_assets WHERE id = $1",
        )
        .bind(&pid)
        .fetch_optional(p.db.pool())
        .await?;
        if let Some(r) = r {
            next = r.try_get("parent_id")?;
            ancestors.push(asset_ref(&r)?);
        }
    }
    ancestors.reverse();
    let children = sqlx::query(
        "SELECT id, code, name, category, status FROM mnt_assets WHERE parent_id = $1 ORDER BY code",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(asset_ref)
    .collect::<Result<_>>()?;
    let meters = meters_of(p, id).await?;
    Ok(AssetDetail {
        warranty: warranty_state(asset.warranty_end.as_deref(), today).to_string(),
        asset,
        ancestors,
        children,
        meters,
    })
}

fn meter_from_row(r: &boh_db::AnyRow) -> Result<Meter> {
    Ok(Meter {
        id: r.try_get("id")?,
        asset_id: r.try_get("asset_id")?,
        code: r.try_get("code")?,
        unit: r.try_get("unit")?,
        last_value: r.try_get("last_value")?,
        last_read_at: r.try_get::<Option<i64>, _>("last_read_at")?.map(instant),
        created_at: instant(r.try_get("created_at")?),
    })
}

const METER_COLS: &str = "id, asset_id, code, unit, last_value, last_read_at, created_at";

async fn meters_of(p: &Platform, asset_id: &str) -> Result<Vec<Meter>> {
    sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {METER_COLS} FROM mnt_meters WHERE asset_id = $1 ORDER BY code"
    )))
    .bind(asset_id)
    .fetch_all(p.db.pool())
    .await?
    .iter()
    .map(meter_from_row)
    .collect()
}

/// A page of assets.
#[derive(Debug, Clone)]
pub struct AssetPage {
    pub items: Vec<Asset>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// Assets in the actor's scope matching the filters, by code.
pub async fn list(p: &Platform, actor: &Actor, f: &AssetFilter) -> Result<AssetPage> {
    let read = actor.scope(perm::MAINTENANCE_ASSET_READ);
    let manage = actor.scope(perm::MAINTENANCE_ASSET);
    let (r, m) = (
        read.sql_by_company("a.location_path", "a.company_id"),
        manage.sql_by_company("a.location_path", "a.company_id"),
    );
    let mut errors = Vec::new();
    let mut conds = vec![if r == m { r } else { format!("({r} OR {m})") }];
    let mut binds: Vec<String> = Vec::new();
    let mut add = |sql: &str, v: String, binds: &mut Vec<String>| {
        binds.push(v);
        conds.push(sql.replace('?', &format!("${}", binds.len())));
    };
    if let Some(l) = f.location_id.as_deref().filter(|s| !s.is_empty()) {
        add("a.location_id = ?", l.to_string(), &mut binds);
    }
    if let Some(u) = f.under.as_deref().filter(|s| !s.is_empty()) {
        // Narrowing only: a node the actor cannot see narrows to nothing.
        let path = org::fetch(p, u)
            .await?
            .map(|n| n.path)
            .unwrap_or_else(|| "/none/".into());
        add(
            "a.location_path LIKE ? ESCAPE '\\'",
            format!("{}%", like_escape(&path)),
            &mut binds,
        );
    }
    if let Some(c) = f.category.as_deref().filter(|s| !s.is_empty()) {
        if !CATEGORIES.contains(&c) {
            errors.push(FieldError::new("category", one_of(CATEGORIES)));
        }
        add("a.category = ?", c.to_string(), &mut binds);
    }
    match f.status.as_deref().unwrap_or("") {
        "" | "active" => add("a.status = ?", "active".into(), &mut binds),
        "retired" => add("a.status = ?", "retired".into(), &mut binds),
        "all" => {}
        _ => errors.push(FieldError::new("status", "must be active, retired or all")),
    }
    let q = f.q.as_deref().map(str::trim).unwrap_or("");
    if !q.is_empty() {
        binds.push(format!("%{}%", like_escape(&q.to_lowercase())));
        let n = binds.len();
        conds.push(format!(
            "(LOWER(a.code) LIKE ${n} ESCAPE '\\' OR LOWER(a.name) LIKE ${n} ESCAPE '\\' \
             OR LOWER(COALESCE(a.model, '')) LIKE ${n} ESCAPE '\\' \
             OR LOWER(COALESCE(a.serial, '')) LIKE ${n} ESCAPE '\\')"
        ));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    let wh = conds.join(" AND ");
    let mut qc = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM mnt_assets a WHERE {wh}"
    )));
    for b in &binds {
        qc = qc.bind(b.clone());
    }
    let total: i64 = qc.fetch_one(p.db.pool()).await?.try_get("n")?;
    let mut ql = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE {wh} ORDER BY a.code, a.id LIMIT {limit} OFFSET {offset}"
    )));
    for b in &binds {
        ql = ql.bind(b.clone());
    }
    let items = ql
        .fetch_all(p.db.pool())
        .await?
        .iter()
        .map(from_row)
        .collect::<Result<_>>()?;
    Ok(AssetPage {
        items,
        total,
        limit,
        offset,
    })
}

fn one_of(values: &[&str]) -> String {
    format!("must be one of {}", values.join(", "))
}

// ---------------------------------------------------------------- validation

/// The fields of an asset as text ("" = none), before they are checked.
#[derive(Debug, Clone, Default)]
struct Draft {
    location_id: String,
    code: String,
    name: String,
    category: String,
    make: String,
    model: String,
    serial: String,
    supplier_id: String,
    install_date: String,
    warranty_end: String,
    criticality: String,
    parent_id: String,
    note: String,
}

fn text(v: &Option<String>) -> String {
    v.as_deref().map(str::trim).unwrap_or("").to_string()
}

impl Draft {
    fn of_input(i: &AssetInput) -> Draft {
        Draft {
            location_id: i.location_id.trim().to_string(),
            code: i.code.clone(),
            name: i.name.clone(),
            category: i.category.trim().to_string(),
            make: text(&i.make),
            model: text(&i.model),
            serial: text(&i.serial),
            supplier_id: text(&i.supplier_id),
            install_date: text(&i.install_date),
            warranty_end: text(&i.warranty_end),
            criticality: match text(&i.criticality) {
                c if c.is_empty() => "medium".into(),
                c => c,
            },
            parent_id: text(&i.parent_id),
            note: text(&i.note),
        }
    }

    fn of_patch(cur: &Asset, p: &AssetPatch) -> Draft {
        let keep = |v: &Option<String>, cur: &Option<String>| match v {
            Some(s) => s.trim().to_string(),
            None => cur.clone().unwrap_or_default(),
        };
        let req = |v: &Option<String>, cur: &str| match v {
            Some(s) => s.clone(),
            None => cur.to_string(),
        };
        Draft {
            location_id: req(&p.location_id, &cur.location_id).trim().to_string(),
            code: req(&p.code, &cur.code),
            name: req(&p.name, &cur.name),
            category: req(&p.category, &cur.category).trim().to_string(),
            make: keep(&p.make, &cur.make),
            model: keep(&p.model, &cur.model),
            serial: keep(&p.serial, &cur.serial),
            supplier_id: keep(&p.supplier_id, &cur.supplier_id),
            install_date: keep(&p.install_date, &cur.install_date),
            warranty_end: keep(&p.warranty_end, &cur.warranty_end),
            criticality: req(&p.criticality, &cur.criticality).trim().to_string(),
            parent_id: keep(&p.parent_id, &cur.parent_id),
            note: keep(&p.note, &cur.note),
        }
    }
}

/// A checked asset, ready to write.
struct Checked {
    location: OrgNode,
    code: String,
    name: String,
    category: String,
    make: Option<String>,
    model: Option<String>,
    serial: Option<String>,
    supplier_id: Option<String>,
    install_date: Option<String>,
    warranty_end: Option<String>,
    criticality: String,
    parent_id: Option<String>,
    depth: i64,
    /// Descendants whose depth changes with the asset: (id, new depth).
    moved: Vec<(String, i64)>,
    note: Option<String>,
}

fn opt_field(errors: &mut Vec<FieldError>, field: &str, v: &str, max: usize) -> Option<String> {
    if v.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Some(v.to_string()).filter(|s| !s.is_empty())
}

/// The site an asset is at, for `perm`: outside the actor's read scope it does not exist, in
/// it without `perm` it is forbidden; a node that is not a site is a field error.
async fn site(
    p: &Platform,
    actor: &Actor,
    id: &str,
    errors: &mut Vec<FieldError>,
) -> Result<Option<OrgNode>> {
    if id.is_empty() {
        errors.push(FieldError::new("location_id", "is required"));
        return Ok(None);
    }
    let node = org::fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
    if !may_read(actor, &node.path) && !actor.allows(perm::ORG_READ, &node.path) {
        return Err(PlatformError::NotFound);
    }
    if !actor.allows(perm::MAINTENANCE_ASSET, &node.path) {
        return Err(PlatformError::Forbidden(perm::MAINTENANCE_ASSET));
    }
    if !node.is_site() {
        errors.push(FieldError::new(
            "location_id",
            "must be a store, warehouse or central kitchen",
        ));
        return Ok(None);
    }
    Ok(Some(node))
}

/// Parent and children of every asset at a site: (parent, depth) by id.
async fn tree_at(
    p: &Platform,
    location_id: &str,
) -> Result<HashMap<String, (Option<String>, i64)>> {
    let rows = sqlx::query("SELECT id, parent_id, depth FROM mnt_assets WHERE location_id = $1")
        .bind(location_id)
        .fetch_all(p.db.pool())
        .await?;
    let mut m = HashMap::with_capacity(rows.len());
    for r in rows {
        m.insert(
            r.try_get::<String, _>("id")?,
            (r.try_get("parent_id")?, r.try_get("depth")?),
        );
    }
    Ok(m)
}

/// The descendants of `root` with their distance below it (children 1, ...).
fn descendants(tree: &HashMap<String, (Option<String>, i64)>, root: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    let mut frontier = vec![(root.to_string(), 0i64)];
    while let Some((id, d)) = frontier.pop() {
        for (cid, (parent, _)) in tree {
            if parent.as_deref() == Some(id.as_str()) && out.len() < tree.len() {
                out.push((cid.clone(), d + 1));
                frontier.push((cid.clone(), d + 1));
            }
        }
    }
    out
}

async fn check(p: &Platform, actor: &Actor, d: &Draft, current: Option<&Asset>) -> Result<Checked> {
    let mut errors = Vec::new();
    // The site first: out of scope is "not found" before anything else is looked at.
    let location = site(p, actor, &d.location_id, &mut errors).await?;
    let code = boh_inventory::validate_code(&mut errors, "code", &d.code);
    let name = required_text(&mut errors, "name", &d.name, 120);
    if d.category.is_empty() {
        errors.push(FieldError::new("category", "is required"));
    } else if !CATEGORIES.contains(&d.category.as_str()) {
        errors.push(FieldError::new("category", one_of(CATEGORIES)));
    }
    if !CRITICALITIES.contains(&d.criticality.as_str()) {
        errors.push(FieldError::new("criticality", one_of(CRITICALITIES)));
    }
    let make = opt_field(&mut errors, "make", &d.make, 80);
    let model = opt_field(&mut errors, "model", &d.model, 80);
    let serial = opt_field(&mut errors, "serial", &d.serial, 80);
    let note = opt_field(&mut errors, "note", &d.note, 1000);
    let install = (!d.install_date.is_empty())
        .then(|| boh_inventory::validate_date(&mut errors, "install_date", &d.install_date))
        .flatten();
    let warranty = (!d.warranty_end.is_empty())
        .then(|| boh_inventory::validate_date(&mut errors, "warranty_end", &d.warranty_end))
        .flatten();
    if let (Some(i), Some(w)) = (install, warranty)
        && w < i
    {
        errors.push(FieldError::new(
            "warranty_end",
            "must not be before the install date",
        ));
    }
    let mut supplier_id = None;
    let mut parent_id = None;
    let mut depth = 1;
    let mut moved = Vec::new();
    if let Some(loc) = &location {
        if !d.supplier_id.is_empty() {
            match boh_inventory::supplier::fetch_supplier(p, &d.supplier_id).await? {
                Some(s) if s.company_id == loc.company_id => supplier_id = Some(s.id),
                _ => errors.push(FieldError::new("supplier_id", "no such supplier")),
            }
        }
        if !code.is_empty() {
            let taken = sqlx::query(
                "SELECT id FROM mnt_assets WHERE company_id = $1 AND code = $2 AND id <> $3",
            )
            .bind(&loc.company_id)
            .bind(&code)
            .bind(current.map(|c| c.id.as_str()).unwrap_or(""))
            .fetch_optional(p.db.pool())
            .await?;
            if taken.is_some() {
                errors.push(FieldError::new(
                    "code",
                    "is already used by another asset of the company",
                ));
            }
        }
        let tree = match current {
            Some(c) => tree_at(p, &c.location_id).await?,
            None => HashMap::new(),
        };
        let below = current
            .map(|c| descendants(&tree, &c.id))
            .unwrap_or_default();
        if let Some(c) = current
            && c.location_id != loc.id
            && !below.is_empty()
        {
            errors.push(FieldError::new(
                "location_id",
                "an asset with sub-assets cannot move to another site; move or detach them first",
            ));
        }
        if !d.parent_id.is_empty() {
            match fetch(p, &d.parent_id).await? {
                Some((par, path)) if may_read(actor, &path) => {
                    if par.location_id != loc.id {
                        errors.push(FieldError::new(
                            "parent_id",
                            "must be an asset at the same location",
                        ));
                    } else if current.is_some_and(|c| {
                        c.id == par.id || below.iter().any(|(id, _)| *id == par.id)
                    }) {
                        errors.push(FieldError::new(
                            "parent_id",
                            "would make a cycle: the parent is the asset itself or one of its sub-assets",
                        ));
                    } else if par.status != "active"
                        && current.is_none_or(|c| c.parent_id.as_deref() != Some(par.id.as_str()))
                    {
                        errors.push(FieldError::new("parent_id", "is retired"));
                    } else {
                        depth = par.depth + 1;
                        let height = below.iter().map(|(_, d)| *d).max().unwrap_or(0);
                        if depth + height > MAX_DEPTH {
                            errors.push(FieldError::new(
                                "parent_id",
                                format!("the hierarchy may be at most {MAX_DEPTH} levels deep"),
                            ));
                        }
                        parent_id = Some(par.id);
                    }
                }
                _ => errors.push(FieldError::new("parent_id", "no such asset")),
            }
        }
        if let Some(c) = current
            && c.depth != depth
        {
            moved = below
                .iter()
                .map(|(id, dist)| (id.clone(), depth + dist))
                .collect();
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let location = location.ok_or(PlatformError::NotFound)?;
    Ok(Checked {
        location,
        code,
        name,
        category: d.category.clone(),
        make,
        model,
        serial,
        supplier_id,
        install_date: install.map(|d| d.to_string()),
        warranty_end: warranty.map(|d| d.to_string()),
        criticality: d.criticality.clone(),
        parent_id,
        depth,
        moved,
        note,
    })
}

/// 128 random bits (the operating system's generator, through `rand`) as 32 hex digits.
fn new_qr_token() -> String {
    let random = boh_platform::util::random_token(16);
    let mut h = boh_platform::util::sha256_hex(random.as_bytes());
    h.truncate(32);
    h
}

async fn read_in(tx: &mut AnyConnection, id: &str) -> Result<Asset> {
    let r = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} {FROM} WHERE a.id = $1"
    )))
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    from_row(&r)
}

fn snapshot(a: &Asset) -> serde_json::Value {
    json!({
        "location": a.location_code, "code": a.code, "name": a.name, "category": a.category,
        "make": a.make, "model": a.model, "serial": a.serial, "supplier_id": a.supplier_id,
        "install_date": a.install_date, "warranty_end": a.warranty_end,
        "criticality": a.criticality, "status": a.status, "parent_id": a.parent_id,
        "note": a.note,
    })
}

fn hierarchy_changed() -> PlatformError {
    PlatformError::conflict(
        "parent_id",
        "the hierarchy was changed by someone else; reload and try again",
    )
}

/// Inside the write: the parent as it is now (its row and its ancestors locked on
/// PostgreSQL, so concurrent moves and retirements serialise with this write) is still at
/// the site with the depth the check saw (and active, for a new parent), and `asset_id` is
/// not among its ancestors. A concurrent change of the hierarchy is a conflict (or, on a deadlock, a retry
/// that finds it).
async fn recheck_parent(
    tx: &mut AnyConnection,
    asset_id: Option<&str>,
    parent_id: &str,
    location_id: &str,
    depth: i64,
    require_active: bool,
) -> Result<()> {
    let lock = if tx.backend_name().eq_ignore_ascii_case("sqlite") {
        ""
    } else {
        " FOR UPDATE"
    };
    let mut next = Some(parent_id.to_string());
    let mut level = 0;
    while let Some(id) = next.take() {
        level += 1;
        if level > MAX_DEPTH || asset_id == Some(id.as_str()) {
            return Err(hierarchy_changed());
        }
        let r = sqlx::query(boh_db::AssertSqlSafe(format!(
            "SELECT parent_id, depth, location_id, status FROM mnt_assets WHERE id = $1{lock}"
        )))
        .bind(&id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(hierarchy_changed)?;
        if level == 1 {
            let (d, l, st): (i64, String, String) = (
                r.try_get("depth")?,
                r.try_get("location_id")?,
                r.try_get("status")?,
            );
            if d + 1 != depth || l != location_id || (require_active && st != "active") {
                return Err(hierarchy_changed());
            }
        }
        next = r.try_get("parent_id")?;
    }
    Ok(())
}

/// Register an asset.
pub async fn create(p: &Platform, ctx: &Ctx, input: &AssetInput) -> Result<Asset> {
    let c = check(p, &ctx.actor, &Draft::of_input(input), None).await?;
    let id = new_id();
    let token = new_qr_token();
    tx!(p.db, tx, {
        if let Some(parent) = &c.parent_id {
            recheck_parent(tx, None, parent, &c.location.id, c.depth, true).await?;
        }
        let t = now().micros();
        let r = sqlx::query(
            "INSERT INTO mnt_assets (id, company_id, location_id, location_path, code, name, category, make, \
             model, serial, supplier_id, install_date, warranty_end, criticality, status, parent_id, depth, \
             qr_token, note, created_by, created_at, updated_at, version) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,'active',$15,$16,$17,$18,$19,$20,$20,1)",
        )
        .bind(&id)
        .bind(&c.location.company_id)
        .bind(&c.location.id)
        .bind(&c.location.path)
        .bind(&c.code)
        .bind(&c.name)
        .bind(&c.category)
        .bind(c.make.clone())
        .bind(c.model.clone())
        .bind(c.serial.clone())
        .bind(c.supplier_id.clone())
        .bind(c.install_date.clone())
        .bind(c.warranty_end.clone())
        .bind(&c.criticality)
        .bind(c.parent_id.clone())
        .bind(c.depth)
        .bind(&token)
        .bind(c.note.clone())
        .bind(&ctx.actor.user_id)
        .bind(t)
        .execute(&mut *tx)
        .await;
        boh_platform::error::unique_conflict(r, "code", || {
            format!("asset code {} is already used in the company", c.code)
        })?;
        let a = read_in(tx, &id).await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.asset.create",
                entity_type: "mnt_asset",
                entity_id: &id,
                org_path: Some(&c.location.path),
                before: None,
                after: Some(snapshot(&a)),
            },
        )
        .await?;
        events::emit(
            tx,
            "maintenance.asset.created",
            Some(&c.location.path),
            &json!({"id": id, "code": a.code, "location_id": a.location_id, "category": a.category}),
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &a).await?;
        Ok(a)
    })
}

/// An asset the actor may change: 404 outside their read scope, 403 without the permission.
async fn for_change(p: &Platform, actor: &Actor, id: &str) -> Result<(Asset, String)> {
    match fetch(p, id).await? {
        Some((a, path)) if may_read(actor, &path) => {
            if actor.allows(perm::MAINTENANCE_ASSET, &path) {
                Ok((a, path))
            } else {
                Err(PlatformError::Forbidden(perm::MAINTENANCE_ASSET))
            }
        }
        _ => Err(PlatformError::NotFound),
    }
}

fn stale() -> PlatformError {
    PlatformError::conflict(
        "version",
        "the record was changed by someone else; reload and try again",
    )
}

/// Change an asset (absent fields keep their value).
pub async fn update(p: &Platform, ctx: &Ctx, id: &str, patch: &AssetPatch) -> Result<Asset> {
    let (cur, _) = for_change(p, &ctx.actor, id).await?;
    if patch.version.is_some_and(|v| v != cur.version) {
        return Err(stale());
    }
    let c = check(p, &ctx.actor, &Draft::of_patch(&cur, patch), Some(&cur)).await?;
    tx!(p.db, tx, {
        let t = now().micros();
        let r = sqlx::query(
            "UPDATE mnt_assets SET company_id = $1, location_id = $2, location_path = $3, code = $4, name = $5, \
             category = $6, make = $7, model = $8, serial = $9, supplier_id = $10, install_date = $11, \
             warranty_end = $12, criticality = $13, parent_id = $14, depth = $15, note = $16, updated_at = $17, \
             version = version + 1 WHERE id = $18 AND version = $19",
        )
        .bind(&c.location.company_id)
        .bind(&c.location.id)
        .bind(&c.location.path)
        .bind(&c.code)
        .bind(&c.name)
        .bind(&c.category)
        .bind(c.make.clone())
        .bind(c.model.clone())
        .bind(c.serial.clone())
        .bind(c.supplier_id.clone())
        .bind(c.install_date.clone())
        .bind(c.warranty_end.clone())
        .bind(&c.criticality)
        .bind(c.parent_id.clone())
        .bind(c.depth)
        .bind(c.note.clone())
        .bind(t)
        .bind(id)
        .bind(cur.version)
        .execute(&mut *tx)
        .await;
        let r = boh_platform::error::unique_conflict(r, "code", || {
            format!("asset code {} is already used in the company", c.code)
        })?;
        if r.rows_affected() == 0 {
            return Err(stale());
        }
        if let Some(parent) = &c.parent_id {
            let moved_to = cur.parent_id.as_deref() != Some(parent.as_str());
            recheck_parent(tx, Some(id), parent, &c.location.id, c.depth, moved_to).await?;
        }
        // The subtree as it is now (a sub-asset added since the check moves too).
        let mut moved = Vec::new();
        if cur.depth != c.depth || !c.moved.is_empty() {
            let rows =
                sqlx::query("SELECT id, parent_id, depth FROM mnt_assets WHERE location_id = $1")
                    .bind(&cur.location_id)
                    .fetch_all(&mut *tx)
                    .await?;
            let mut tree = HashMap::with_capacity(rows.len());
            for r in rows {
                tree.insert(
                    r.try_get::<String, _>("id")?,
                    (
                        r.try_get::<Option<String>, _>("parent_id")?,
                        r.try_get::<i64, _>("depth")?,
                    ),
                );
            }
            for (sub, dist) in descendants(&tree, id) {
                if c.depth + dist > MAX_DEPTH {
                    return Err(hierarchy_changed());
                }
                moved.push((sub, c.depth + dist));
            }
        }
        for (sub, d) in &moved {
            sqlx::query("UPDATE mnt_assets SET depth = $1, updated_at = $2 WHERE id = $3")
                .bind(*d)
                .bind(t)
                .bind(sub)
                .execute(&mut *tx)
                .await?;
        }
        let a = read_in(tx, id).await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.asset.update",
                entity_type: "mnt_asset",
                entity_id: id,
                org_path: Some(&c.location.path),
                before: Some(snapshot(&cur)),
                after: Some(snapshot(&a)),
            },
        )
        .await?;
        events::emit(
            tx,
            "maintenance.asset.changed",
            Some(&c.location.path),
            &json!({"id": id, "code": a.code, "location_id": a.location_id, "version": a.version}),
        )
        .await?;
        Ok(a)
    })
}

/// Retire an asset (it stays readable; its sub-assets must be retired first).
pub async fn retire(p: &Platform, ctx: &Ctx, id: &str) -> Result<Asset> {
    let (cur, path) = for_change(p, &ctx.actor, id).await?;
    if cur.status == "retired" {
        return Err(PlatformError::refused(
            "invalid_state",
            format!("asset {} is retired already", cur.code),
        ));
    }
    tx!(p.db, tx, {
        // The asset's row first: a concurrent sub-asset create locks it (on PostgreSQL) and
        // checks its status, so either it sees `retired` or its child is seen below.
        let t = now().micros();
        let r = sqlx::query(
            "UPDATE mnt_assets SET status = 'retired', updated_at = $1, version = version + 1 \
             WHERE id = $2 AND status = 'active'",
        )
        .bind(t)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if r.rows_affected() == 0 {
            return Err(PlatformError::refused(
                "invalid_state",
                format!("asset {} is retired already", cur.code),
            ));
        }
        let active: Vec<String> = sqlx::query(
            "SELECT code FROM mnt_assets WHERE parent_id = $1 AND status = 'active' ORDER BY code",
        )
        .bind(id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get::<String, _>("code"))
        .collect::<std::result::Result<_, _>>()?;
        if !active.is_empty() {
            return Err(PlatformError::Refused {
                code: "active_sub_assets",
                message: format!(
                    "asset {} has active sub-assets ({}); retire them first",
                    cur.code,
                    active.join(", ")
                ),
                fields: Vec::new(),
            });
        }
        let a = read_in(tx, id).await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.asset.retire",
                entity_type: "mnt_asset",
                entity_id: id,
                org_path: Some(&path),
                before: Some(json!({"status": cur.status})),
                after: Some(json!({"status": a.status})),
            },
        )
        .await?;
        events::emit(
            tx,
            "maintenance.asset.retired",
            Some(&path),
            &json!({"id": id, "code": a.code, "location_id": a.location_id}),
        )
        .await?;
        Ok(a)
    })
}

// ---------------------------------------------------------------- meters

/// Add a meter to an active asset.
pub async fn add_meter(
    p: &Platform,
    ctx: &Ctx,
    asset_id: &str,
    input: &MeterInput,
) -> Result<Meter> {
    let (a, path) = for_change(p, &ctx.actor, asset_id).await?;
    let mut errors = Vec::new();
    let code = required_text(&mut errors, "code", &input.code, 32);
    if !code.is_empty()
        && !code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        errors.push(FieldError::new(
            "code",
            "may contain only lower-case letters, digits and _",
        ));
    }
    let unit = required_text(&mut errors, "unit", &input.unit, 16);
    if input.last_value.is_some_and(|v| v < 0) {
        errors.push(FieldError::new("last_value", "must be 0 or more"));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    if a.status != "active" {
        return Err(PlatformError::refused(
            "invalid_state",
            format!("asset {} is retired", a.code),
        ));
    }
    let id = new_id();
    tx!(p.db, tx, {
        let t = now().micros();
        let r = sqlx::query(
            "INSERT INTO mnt_meters (id, asset_id, code, unit, last_value, last_read_at, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(&id)
        .bind(asset_id)
        .bind(&code)
        .bind(&unit)
        .bind(input.last_value)
        .bind(input.last_value.map(|_| t))
        .bind(t)
        .execute(&mut *tx)
        .await;
        boh_platform::error::unique_conflict(r, "code", || {
            format!("asset {} has a meter {code} already", a.code)
        })?;
        let m = meter_from_row(
            &sqlx::query(boh_db::AssertSqlSafe(format!(
                "SELECT {METER_COLS} FROM mnt_meters WHERE id = $1"
            )))
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?,
        )?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.meter.add",
                entity_type: "mnt_meter",
                entity_id: &id,
                org_path: Some(&path),
                before: None,
                after: Some(json!({"asset": a.code, "code": m.code, "unit": m.unit, "last_value": m.last_value})),
            },
        )
        .await?;
        boh_platform::idem::record_created(tx, ctx, &m).await?;
        Ok(m)
    })
}

/// Remove a meter of an asset.
pub async fn remove_meter(p: &Platform, ctx: &Ctx, asset_id: &str, meter_id: &str) -> Result<()> {
    let (a, path) = for_change(p, &ctx.actor, asset_id).await?;
    if !boh_kernel::id::is_uuid(meter_id) {
        return Err(PlatformError::NotFound);
    }
    tx!(p.db, tx, {
        let m = sqlx::query(boh_db::AssertSqlSafe(format!(
            "SELECT {METER_COLS} FROM mnt_meters WHERE id = $1 AND asset_id = $2"
        )))
        .bind(meter_id)
        .bind(asset_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(PlatformError::NotFound)?;
        let m = meter_from_row(&m)?;
        sqlx::query("DELETE FROM mnt_meters WHERE id = $1")
            .bind(meter_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "maintenance.meter.remove",
                entity_type: "mnt_meter",
                entity_id: meter_id,
                org_path: Some(&path),
                before: Some(json!({"asset": a.code, "code": m.code, "unit": m.unit, "last_value": m.last_value})),
                after: None,
            },
        )
        .await?;
        Ok(())
    })
}

// ---------------------------------------------------------------- invariants

/// The hierarchy's invariants over the whole table (`boh check`, `maintenance.assets`): every
/// parent is at the same site and company, depth is 1 at the top and the parent's + 1 below
/// (so parent links cannot cycle), at most [`MAX_DEPTH`]; no active asset has a retired
/// parent; QR tokens are 32 hex digits. Answers the number of assets and the problems found.
pub async fn check_hierarchy(p: &Platform) -> Result<(i64, Vec<String>)> {
    let pool = p.db.pool();
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM mnt_assets")
        .fetch_one(pool)
        .await?
        .try_get("n")?;
    let mut problems = Vec::new();
    let checks: [(&str, &str); 5] = [
        (
            "parent at another site or company",
            "SELECT a.code FROM mnt_assets a JOIN mnt_assets par ON par.id = a.parent_id \
             WHERE par.location_id <> a.location_id OR par.company_id <> a.company_id",
        ),
        (
            "depth is not the parent's + 1",
            "SELECT a.code FROM mnt_assets a JOIN mnt_assets par ON par.id = a.parent_id \
             WHERE a.depth <> par.depth + 1",
        ),
        (
            "top-level asset with depth other than 1, or depth out of range",
            "SELECT code FROM mnt_assets WHERE (parent_id IS NULL AND depth <> 1) OR depth < 1 OR depth > 4",
        ),
        (
            "active asset below a retired one",
            "SELECT a.code FROM mnt_assets a JOIN mnt_assets par ON par.id = a.parent_id \
             WHERE a.status = 'active' AND par.status <> 'active'",
        ),
        (
            "QR token that is not 32 characters",
            "SELECT code FROM mnt_assets WHERE LENGTH(qr_token) <> 32",
        ),
    ];
    for (what, sql) in checks {
        let codes: Vec<String> = sqlx::query(boh_db::AssertSqlSafe(format!("{sql} LIMIT 20")))
            .fetch_all(pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("code"))
            .collect::<std::result::Result<_, _>>()?;
        if !codes.is_empty() {
            problems.push(format!("{what}: {}", codes.join(", ")));
        }
    }
    Ok((n, problems))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warranty_states() {
        let d = |s: &str| s.parse::<jiff::civil::Date>().unwrap();
        assert_eq!(
            warranty_state(Some("2026-12-31"), d("2026-12-31")),
            "in_warranty"
        );
        assert_eq!(
            warranty_state(Some("2026-12-30"), d("2026-12-31")),
            "expired"
        );
        assert_eq!(warranty_state(None, d("2026-12-31")), "none");
    }

    #[test]
    fn qr_tokens_are_32_hex_digits_and_differ() {
        let a = new_qr_token();
        let b = new_qr_token();
        assert_eq!(a.len(), 32);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn descendants_with_distance() {
        let mut t = HashMap::new();
        t.insert("line".to_string(), (None, 1));
        t.insert("fryer".to_string(), (Some("line".to_string()), 2));
        t.insert("element".to_string(), (Some("fryer".to_string()), 3));
        let mut d = descendants(&t, "line");
        d.sort();
        assert_eq!(
            d,
            vec![("element".to_string(), 2), ("fryer".to_string(), 1)]
        );
        assert!(descendants(&t, "element").is_empty());
    }
}
