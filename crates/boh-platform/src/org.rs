//! The organisation tree: company → region → store / warehouse / central kitchen, any depth,
//! several companies side by side. Each node stores its materialised `path` (`/id/id/…/`), so a
//! subtree is one `LIKE 'prefix%'` and scoping a list is one predicate.

use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{self, Change};
use crate::util::{like_escape, required_text};
use crate::{Ctx, FieldError, Platform, PlatformError, Result, events};

pub const KINDS: &[&str] = &["company", "region", "store", "warehouse", "central_kitchen"];
pub const LIFECYCLE: &[&str] = &[
    "candidate",
    "approved",
    "opening",
    "open",
    "closing",
    "closed",
];
pub const FORMATS: &[&str] = &[
    "flagship",
    "standard",
    "express",
    "kiosk",
    "mall",
    "street",
    "drive_thru",
];

/// One node of the organisation tree. Stores use every field; other kinds leave the store
/// fields empty.
#[derive(Debug, Clone, Serialize, PartialEq, sqlx::FromRow, utoipa::ToSchema)]
pub struct OrgNode {
    pub id: String,
    pub parent_id: Option<String>,
    pub company_id: String,
    #[serde(skip)]
    pub path: String,
    pub depth: i64,
    /// company, region, store, warehouse or central_kitchen
    pub kind: String,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub format: Option<String>,
    pub sales_area_m2: Option<i64>,
    /// YYYY-MM-DD
    pub opening_date: Option<String>,
    /// candidate, approved, opening, open, closing or closed
    pub lifecycle_state: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub timezone: String,
    pub address: Option<String>,
    #[serde(serialize_with = "ser_instant")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
    #[serde(serialize_with = "ser_instant")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: i64,
    pub version: i64,
}

fn ser_instant<S: serde::Serializer>(v: &i64, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(&boh_kernel::Instant(*v).rfc3339())
}

/// A node as the API shows it: every field plus `name`, the English name.
#[derive(Debug, Serialize)]
pub struct NodeView<'a> {
    pub name: &'a str,
    #[serde(flatten)]
    pub node: &'a OrgNode,
}

impl<'a> From<&'a OrgNode> for NodeView<'a> {
    fn from(node: &'a OrgNode) -> Self {
        NodeView {
            name: &node.name_en,
            node,
        }
    }
}

impl OrgNode {
    /// The name in the given UI language.
    pub fn name(&self, locale: &str) -> &str {
        if locale.starts_with("zh") {
            &self.name_zh
        } else {
            &self.name_en
        }
    }
    pub fn is_site(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "store" | "warehouse" | "central_kitchen"
        )
    }
}

/// Input for a new node. `name` is accepted as a shorthand for both names.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNode {
    /// The parent node; required except for a company.
    pub parent_id: Option<String>,
    #[serde(default = "default_kind")]
    #[schema(schema_with = kind_schema)]
    pub kind: String,
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9._-]+$")]
    pub code: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name_zh: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name_en: Option<String>,
    #[serde(default)]
    #[schema(schema_with = format_schema)]
    pub format: Option<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub sales_area_m2: Option<i64>,
    #[serde(default)]
    pub opening_date: Option<String>,
    #[serde(default)]
    #[schema(schema_with = lifecycle_schema)]
    pub lifecycle_state: Option<String>,
    #[serde(default)]
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[serde(default)]
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
}

fn default_kind() -> String {
    "store".into()
}

/// A partial update; absent fields stay as they are. `version`, when given, must match.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NodePatch {
    pub version: Option<i64>,
    #[schema(min_length = 1, max_length = 32, pattern = r"^[A-Za-z0-9._-]+$")]
    pub code: Option<String>,
    #[schema(max_length = 200)]
    pub name_zh: Option<String>,
    #[schema(max_length = 200)]
    pub name_en: Option<String>,
    #[schema(schema_with = format_schema)]
    pub format: Option<String>,
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub sales_area_m2: Option<i64>,
    pub opening_date: Option<String>,
    #[schema(schema_with = lifecycle_schema)]
    pub lifecycle_state: Option<String>,
    #[schema(minimum = -90, maximum = 90)]
    pub latitude: Option<f64>,
    #[schema(minimum = -180, maximum = 180)]
    pub longitude: Option<f64>,
    pub timezone: Option<String>,
    pub address: Option<String>,
}

fn kind_schema() -> utoipa::openapi::Object {
    crate::util::enum_schema(KINDS, false, false)
}

fn format_schema() -> utoipa::openapi::Object {
    crate::util::enum_schema(FORMATS, true, true)
}

fn lifecycle_schema() -> utoipa::openapi::Object {
    crate::util::enum_schema(LIFECYCLE, true, false)
}

const COLS: &str = "id, parent_id, company_id, path, depth, kind, code, name_zh, name_en, format, \
    sales_area_m2, opening_date, lifecycle_state, latitude, longitude, timezone, address, \
    created_at, updated_at, version";

/// Filters for listing nodes.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
pub struct NodeFilter {
    /// Only nodes of these kinds (comma-separated).
    pub kind: Option<String>,
    /// Only stores in this lifecycle state.
    pub state: Option<String>,
    /// Only this node's subtree.
    pub under: Option<String>,
    /// Text search in code and names.
    pub q: Option<String>,
    /// Page size (1–500, default 50).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// Nodes the actor may read, sorted by code, with the total count for paging.
pub async fn list(p: &Platform, actor: &Actor, f: &NodeFilter) -> Result<(Vec<OrgNode>, i64)> {
    let scope = actor.scope(perm::ORG_READ);
    let kinds: Vec<String> = f
        .kind
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect();
    for k in &kinds {
        if !KINDS.contains(&k.as_str()) {
            return Err(PlatformError::invalid("kind", format!("unknown kind {k}")));
        }
    }
    let under_path = match f.under.as_deref().filter(|s| !s.is_empty()) {
        Some(id) => get(p, actor, id).await?.path,
        None => String::new(),
    };
    let kind_sql = if kinds.is_empty() {
        "1=1".to_string()
    } else {
        format!(
            "kind IN ({})",
            kinds
                .iter()
                .map(|k| format!("'{k}'"))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let q = f.q.as_deref().map(str::trim).unwrap_or("");
    let pattern = format!("%{}%", like_escape(&q.to_lowercase()));
    let where_ = format!(
        "{} AND {kind_sql} AND ($1 = '' OR lifecycle_state = $1) AND ($2 = '' OR path LIKE $2 || '%') \
         AND ($3 = '' OR LOWER(code) LIKE $4 ESCAPE '\\' OR LOWER(name_en) LIKE $4 ESCAPE '\\' \
         OR name_zh LIKE $4 ESCAPE '\\')",
        scope.sql("path")
    );
    let limit = f.limit.unwrap_or(50).clamp(1, 500);
    let offset = f.offset.unwrap_or(0).max(0);
    let state = f.state.clone().unwrap_or_default();
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM org_nodes WHERE {where_}"
    )))
    .bind(&state)
    .bind(&under_path)
    .bind(q)
    .bind(&pattern)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = sqlx::query_as::<_, OrgNode>(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM org_nodes WHERE {where_} ORDER BY code LIMIT $5 OFFSET $6"
    )))
    .bind(&state)
    .bind(&under_path)
    .bind(q)
    .bind(&pattern)
    .bind(limit)
    .bind(offset)
    .fetch_all(p.db.pool())
    .await?;
    Ok((rows, total))
}

/// One node the actor may read; anything else (missing or out of scope) is `NotFound`.
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<OrgNode> {
    let node = fetch(p, id).await?.ok_or(PlatformError::NotFound)?;
    if actor.allows(perm::ORG_READ, &node.path) {
        Ok(node)
    } else {
        Err(PlatformError::NotFound)
    }
}

/// A node by id, unscoped. For internal use (auth, seeding) only.
pub async fn fetch(p: &Platform, id: &str) -> Result<Option<OrgNode>> {
    if !boh_kernel::id::is_uuid(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {COLS} FROM org_nodes WHERE id = $1");
    if let Some(found) = p.db.inline_read(|c| {
        use boh_db::rusqlite::OptionalExtension;
        c.prepare_cached(&sql)?
            .query_row([id], node_from_rusqlite)
            .optional()
    }) {
        return Ok(found?);
    }
    Ok(sqlx::query_as::<_, OrgNode>(boh_db::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?)
}

/// An [`OrgNode`] from an inline SQLite read of [`COLS`].
fn node_from_rusqlite(r: &boh_db::rusqlite::Row<'_>) -> boh_db::rusqlite::Result<OrgNode> {
    Ok(OrgNode {
        id: r.get("id")?,
        parent_id: r.get("parent_id")?,
        company_id: r.get("company_id")?,
        path: r.get("path")?,
        depth: r.get("depth")?,
        kind: r.get("kind")?,
        code: r.get("code")?,
        name_zh: r.get("name_zh")?,
        name_en: r.get("name_en")?,
        format: r.get("format")?,
        sales_area_m2: r.get("sales_area_m2")?,
        opening_date: r.get("opening_date")?,
        lifecycle_state: r.get("lifecycle_state")?,
        latitude: r.get("latitude")?,
        longitude: r.get("longitude")?,
        timezone: r.get("timezone")?,
        address: r.get("address")?,
        created_at: r.get("created_at")?,
        updated_at: r.get("updated_at")?,
        version: r.get("version")?,
    })
}

/// The chain of ancestors of a node (root first), for breadcrumbs and relative roles.
pub async fn ancestors(p: &Platform, node: &OrgNode) -> Result<Vec<OrgNode>> {
    let ids: Vec<&str> = node
        .path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let mut out = Vec::new();
    for id in ids {
        if id != node.id
            && let Some(n) = fetch(p, id).await?
        {
            out.push(n);
        }
    }
    Ok(out)
}

fn validate_date(errors: &mut Vec<FieldError>, field: &str, v: &Option<String>) {
    if let Some(d) = v.as_deref().filter(|d| !d.is_empty())
        && (d.len() != 10 || d.parse::<jiff::civil::Date>().is_err())
    {
        errors.push(FieldError::new(field, "must be a date as YYYY-MM-DD"));
    }
}

fn validate_store_fields(
    errors: &mut Vec<FieldError>,
    format: &Option<String>,
    area: Option<i64>,
    state: &Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    tz: &Option<String>,
) {
    if let Some(f) = format.as_deref().filter(|f| !f.is_empty())
        && !FORMATS.contains(&f)
    {
        errors.push(FieldError::new(
            "format",
            format!("must be one of {}", FORMATS.join(", ")),
        ));
    }
    if let Some(a) = area
        && !(0..=1_000_000).contains(&a)
    {
        errors.push(FieldError::new(
            "sales_area_m2",
            "must be between 0 and 1000000",
        ));
    }
    if let Some(s) = state.as_deref()
        && !LIFECYCLE.contains(&s)
    {
        errors.push(FieldError::new(
            "lifecycle_state",
            format!("must be one of {}", LIFECYCLE.join(", ")),
        ));
    }
    if let Some(v) = lat
        && (!(-90.0..=90.0).contains(&v) || !v.is_finite())
    {
        errors.push(FieldError::new("latitude", "must be between -90 and 90"));
    }
    if let Some(v) = lon
        && (!(-180.0..=180.0).contains(&v) || !v.is_finite())
    {
        errors.push(FieldError::new("longitude", "must be between -180 and 180"));
    }
    if let Some(t) = tz.as_deref()
        && jiff::tz::TimeZone::get(t).is_err()
    {
        errors.push(FieldError::new(
            "timezone",
            format!("unknown time zone {t}"),
        ));
    }
}

fn validate_code(errors: &mut Vec<FieldError>, code: &str) -> String {
    let c = required_text(errors, "code", code, 32);
    if !c.is_empty()
        && !c
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '.')
    {
        errors.push(FieldError::new(
            "code",
            "may contain only letters, digits, '-', '_' and '.'",
        ));
    }
    c
}

/// Create a node under a parent the actor may create in. A parent outside the actor's read scope
/// is reported as not found, so ids from other stores leak nothing.
pub async fn create(p: &Platform, ctx: &Ctx, input: NewNode) -> Result<OrgNode> {
    // Resolve the parent inside the actor's scope before anything else is said about it.
    let parent = match input.parent_id.as_deref().filter(|s| !s.is_empty()) {
        Some(pid) => Some(get(p, &ctx.actor, pid).await?),
        None => None,
    };
    let node = new_node(&ctx.actor, input, parent.as_ref(), new_id(), now().micros())?;
    crate::tx!(p.db, tx, {
        insert(tx, &node).await?;
        let after = serde_json::to_value(&node).ok();
        audit::append(
            tx,
            ctx,
            Change {
                action: "org.node.create",
                entity_type: "org_node",
                entity_id: &node.id,
                org_path: Some(&node.path),
                before: None,
                after,
            },
        )
        .await?;
        events::emit(
            tx,
            "org.node.created",
            Some(&node.path),
            &json!({ "id": node.id, "kind": node.kind, "code": node.code }),
        )
        .await?;
        crate::idem::record_created(tx, ctx, &NodeView::from(&node)).await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(node)
}

/// The rules of a new node, shared by [`create`] and the stores import: every field checked
/// (all errors at once), and the actor's right to create under `parent`, which the caller has
/// resolved inside the actor's read scope. Nothing is written.
pub(crate) fn new_node(
    actor: &Actor,
    input: NewNode,
    parent: Option<&OrgNode>,
    id: String,
    t: i64,
) -> Result<OrgNode> {
    let mut errors = Vec::new();
    let kind = input.kind.trim().to_string();
    if !KINDS.contains(&kind.as_str()) {
        errors.push(FieldError::new(
            "kind",
            format!("must be one of {}", KINDS.join(", ")),
        ));
    }
    let code = validate_code(&mut errors, &input.code);
    let fallback = input.name.clone().unwrap_or_default();
    let name_en = required_text(
        &mut errors,
        "name_en",
        input.name_en.as_deref().unwrap_or(&fallback),
        200,
    );
    let name_zh_raw = input.name_zh.clone().unwrap_or_else(|| name_en.clone());
    let name_zh = required_text(&mut errors, "name_zh", &name_zh_raw, 200);
    validate_date(&mut errors, "opening_date", &input.opening_date);
    let is_site = matches!(kind.as_str(), "store" | "warehouse" | "central_kitchen");
    let state = if kind == "store" {
        Some(
            input
                .lifecycle_state
                .clone()
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "candidate".into()),
        )
    } else {
        input.lifecycle_state.clone().filter(|s| !s.is_empty())
    };
    validate_store_fields(
        &mut errors,
        &input.format,
        input.sales_area_m2,
        &state,
        input.latitude,
        input.longitude,
        &input.timezone,
    );
    match (parent, kind.as_str()) {
        (None, "company") => {
            if !actor.allows(perm::TENANT_CREATE, "/") {
                return Err(PlatformError::Forbidden(perm::TENANT_CREATE));
            }
        }
        (None, _) => errors.push(FieldError::new("parent_id", "is required")),
        (Some(_), "company") => {
            errors.push(FieldError::new("parent_id", "a company has no parent"))
        }
        (Some(par), _) => {
            if !actor.allows(perm::ORG_CREATE, &par.path) {
                return Err(PlatformError::Forbidden(perm::ORG_CREATE));
            }
            if par.is_site() {
                errors.push(FieldError::new(
                    "parent_id",
                    "stores, warehouses and kitchens cannot have children",
                ));
            }
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let (company_id, path, depth, parent_tz) = match parent {
        Some(par) => (
            par.company_id.clone(),
            format!("{}{}/", par.path, id),
            par.depth + 1,
            par.timezone.clone(),
        ),
        None => (
            id.clone(),
            format!("/{id}/"),
            0,
            "Asia/Shanghai".to_string(),
        ),
    };
    Ok(OrgNode {
        parent_id: parent.map(|x| x.id.clone()),
        id,
        company_id,
        path,
        depth,
        kind,
        code,
        name_zh,
        name_en,
        format: if is_site {
            input.format.filter(|s| !s.is_empty())
        } else {
            None
        },
        sales_area_m2: if is_site { input.sales_area_m2 } else { None },
        opening_date: input.opening_date.filter(|s| !s.is_empty()),
        lifecycle_state: state,
        latitude: input.latitude,
        longitude: input.longitude,
        timezone: input
            .timezone
            .filter(|s| !s.is_empty())
            .unwrap_or(parent_tz),
        address: input
            .address
            .map(|a| a.trim().to_string())
            .filter(|s| !s.is_empty()),
        created_at: t,
        updated_at: t,
        version: 1,
    })
}

/// Insert one node (no audit row; callers append it).
pub(crate) async fn insert(tx: &mut AnyConnection, n: &OrgNode) -> Result<()> {
    let r = sqlx::query(
        "INSERT INTO org_nodes (id, parent_id, company_id, path, depth, kind, code, name_zh, name_en, \
         format, sales_area_m2, opening_date, lifecycle_state, latitude, longitude, timezone, address, \
         created_at, updated_at, version) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)",
    )
    .persistent(false) // sqlx 0.9 Any binds a NULL f64 as float4; a cached statement would keep that type
    .bind(&n.id)
    .bind(n.parent_id.as_deref())
    .bind(&n.company_id)
    .bind(&n.path)
    .bind(n.depth)
    .bind(&n.kind)
    .bind(&n.code)
    .bind(&n.name_zh)
    .bind(&n.name_en)
    .bind(n.format.as_deref())
    .bind(n.sales_area_m2)
    .bind(n.opening_date.as_deref())
    .bind(n.lifecycle_state.as_deref())
    .bind(n.latitude)
    .bind(n.longitude)
    .bind(&n.timezone)
    .bind(n.address.as_deref())
    .bind(n.created_at)
    .bind(n.updated_at)
    .bind(n.version)
    .execute(&mut *tx)
    .await;
    crate::error::unique_conflict(r, "code", || code_taken(&n.code)).map(|_| ())
}

pub(crate) fn code_taken(code: &str) -> String {
    format!("code {code} is already used in this company")
}

/// Apply a patch to a node the actor may update.
pub async fn update(p: &Platform, ctx: &Ctx, id: &str, patch: NodePatch) -> Result<OrgNode> {
    let before = get(p, &ctx.actor, id).await?;
    let expected_version = patch.version.unwrap_or(before.version);
    let n = patched_node(&ctx.actor, &before, patch, now().micros())?;
    crate::tx!(p.db, tx, {
        let r = sqlx::query(
            "UPDATE org_nodes SET code=$1, name_zh=$2, name_en=$3, format=$4, sales_area_m2=$5, \
                 opening_date=$6, lifecycle_state=$7, latitude=$8, longitude=$9, timezone=$10, \
                 address=$11, updated_at=$12, version=$13 WHERE id=$14 AND version=$15",
        )
        .persistent(false) // see `insert`: NULL latitude/longitude must not fix the parameter type
        .bind(&n.code)
        .bind(&n.name_zh)
        .bind(&n.name_en)
        .bind(n.format.as_deref())
        .bind(n.sales_area_m2)
        .bind(n.opening_date.as_deref())
        .bind(n.lifecycle_state.as_deref())
        .bind(n.latitude)
        .bind(n.longitude)
        .bind(&n.timezone)
        .bind(n.address.as_deref())
        .bind(n.updated_at)
        .bind(n.version)
        .bind(&n.id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await;
        let done = crate::error::unique_conflict(r, "code", || code_taken(&n.code))?;
        if done.rows_affected() == 0 {
            return Err(PlatformError::conflict(
                "version",
                "the record was changed by someone else; reload and try again",
            ));
        }
        audit::append(
            tx,
            ctx,
            Change {
                action: "org.node.update",
                entity_type: "org_node",
                entity_id: &n.id,
                org_path: Some(&n.path),
                before: serde_json::to_value(&before).ok(),
                after: serde_json::to_value(&n).ok(),
            },
        )
        .await?;
        events::emit(
            tx,
            "org.node.updated",
            Some(&n.path),
            &json!({ "id": n.id, "kind": n.kind, "code": n.code }),
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(n)
}

/// The rules of a change, shared by [`update`] and the stores import: the actor's right to
/// update `before`, every patched field checked (all errors at once), and the node as it
/// would be, with `version` one above the expected one. Nothing is written.
pub(crate) fn patched_node(
    actor: &Actor,
    before: &OrgNode,
    patch: NodePatch,
    t: i64,
) -> Result<OrgNode> {
    if !actor.allows(perm::ORG_UPDATE, &before.path) {
        return Err(PlatformError::Forbidden(perm::ORG_UPDATE));
    }
    let mut errors = Vec::new();
    let mut n = before.clone();
    if let Some(c) = &patch.code {
        n.code = validate_code(&mut errors, c);
    }
    if let Some(v) = &patch.name_zh {
        n.name_zh = required_text(&mut errors, "name_zh", v, 200);
    }
    if let Some(v) = &patch.name_en {
        n.name_en = required_text(&mut errors, "name_en", v, 200);
    }
    validate_date(&mut errors, "opening_date", &patch.opening_date);
    validate_store_fields(
        &mut errors,
        &patch.format,
        patch.sales_area_m2,
        &patch.lifecycle_state,
        patch.latitude,
        patch.longitude,
        &patch.timezone,
    );
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    if let Some(v) = patch.format {
        n.format = Some(v).filter(|s| !s.is_empty());
    }
    if let Some(v) = patch.sales_area_m2 {
        n.sales_area_m2 = Some(v);
    }
    if let Some(v) = patch.opening_date {
        n.opening_date = Some(v).filter(|s| !s.is_empty());
    }
    if let Some(v) = patch.lifecycle_state {
        n.lifecycle_state = Some(v);
    }
    if let Some(v) = patch.latitude {
        n.latitude = Some(v);
    }
    if let Some(v) = patch.longitude {
        n.longitude = Some(v);
    }
    if let Some(v) = patch.timezone {
        n.timezone = v;
    }
    if let Some(v) = patch.address {
        n.address = Some(v.trim().to_string()).filter(|s| !s.is_empty());
    }
    n.version = patch.version.unwrap_or(before.version) + 1;
    n.updated_at = t;
    Ok(n)
}

/// Every node of a company, unscoped: imports resolve codes against it in memory (one query
/// instead of one per row) and apply the actor's scope themselves.
pub async fn company_nodes(p: &Platform, company_id: &str) -> Result<Vec<OrgNode>> {
    Ok(sqlx::query_as::<_, OrgNode>(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM org_nodes WHERE company_id = $1"
    )))
    .bind(company_id)
    .fetch_all(p.db.pool())
    .await?)
}

/// Rows per multi-row statement: 20 parameters each, well under both engines' limits.
const BATCH: usize = 500;

/// Insert many nodes with multi-row inserts (no audit rows; callers append them). A code taken
/// meanwhile is a conflict on `code`.
pub(crate) async fn insert_many(tx: &mut AnyConnection, nodes: &[OrgNode]) -> Result<()> {
    for chunk in nodes.chunks(BATCH) {
        let mut sql = String::from(
            "INSERT INTO org_nodes (id, parent_id, company_id, path, depth, kind, code, name_zh, name_en, \
             format, sales_area_m2, opening_date, lifecycle_state, latitude, longitude, timezone, address, \
             created_at, updated_at, version) VALUES ",
        );
        sql.push_str(&crate::util::values_list(tx, chunk.len(), 20));
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
        for n in chunk {
            q = q
                .bind(&n.id)
                .bind(n.parent_id.as_deref())
                .bind(&n.company_id)
                .bind(&n.path)
                .bind(n.depth)
                .bind(&n.kind)
                .bind(&n.code)
                .bind(&n.name_zh)
                .bind(&n.name_en)
                .bind(n.format.as_deref())
                .bind(n.sales_area_m2)
                .bind(n.opening_date.as_deref())
                .bind(n.lifecycle_state.as_deref())
                .bind(n.latitude)
                .bind(n.longitude)
                .bind(&n.timezone)
                .bind(n.address.as_deref())
                .bind(n.created_at)
                .bind(n.updated_at)
                .bind(n.version);
        }
        let r = q.execute(&mut *tx).await;
        crate::error::unique_conflict(r, "code", || {
            "a code in the file was taken meanwhile; run the import again".to_string()
        })?;
    }
    Ok(())
}

/// Update many nodes with multi-row `UPDATE … FROM (VALUES …)` statements, each guarded by the
/// version the change was planned against (`n.version - 1`). A node changed meanwhile is a
/// conflict, and the caller's transaction rolls back.
pub(crate) async fn update_many(tx: &mut AnyConnection, nodes: &[OrgNode]) -> Result<()> {
    for chunk in nodes.chunks(BATCH) {
        let mut sql = String::from(
            "UPDATE org_nodes SET code = v.column3, name_zh = v.column4, name_en = v.column5, \
             format = v.column6, sales_area_m2 = v.column7, opening_date = v.column8, \
             lifecycle_state = v.column9, latitude = v.column10, longitude = v.column11, \
             timezone = v.column12, address = v.column13, updated_at = v.column14, \
             version = v.column15 FROM (VALUES ",
        );
        sql.push_str(&crate::util::values_list(tx, chunk.len(), 15));
        sql.push_str(") AS v WHERE org_nodes.id = v.column1 AND org_nodes.version = v.column2");
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
        for n in chunk {
            q = q
                .bind(&n.id)
                .bind(n.version - 1)
                .bind(&n.code)
                .bind(&n.name_zh)
                .bind(&n.name_en)
                .bind(n.format.as_deref())
                .bind(n.sales_area_m2)
                .bind(n.opening_date.as_deref())
                .bind(n.lifecycle_state.as_deref())
                .bind(n.latitude)
                .bind(n.longitude)
                .bind(&n.timezone)
                .bind(n.address.as_deref())
                .bind(n.updated_at)
                .bind(n.version);
        }
        let done = q.execute(&mut *tx).await?;
        if usize::try_from(done.rows_affected()).ok() != Some(chunk.len()) {
            return Err(PlatformError::conflict(
                "version",
                "records were changed by someone else during the import; run it again",
            ));
        }
    }
    Ok(())
}

/// A company by its code, unscoped (command line).
pub async fn find_company(p: &Platform, code: &str) -> Result<Option<OrgNode>> {
    Ok(sqlx::query_as::<_, OrgNode>(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM org_nodes WHERE kind = 'company' AND code = $1"
    )))
    .bind(code)
    .fetch_optional(p.db.pool())
    .await?)
}

/// A node by code within a company, unscoped (command line).
pub async fn find_by_code(p: &Platform, company_id: &str, code: &str) -> Result<Option<OrgNode>> {
    Ok(sqlx::query_as::<_, OrgNode>(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM org_nodes WHERE company_id = $1 AND code = $2"
    )))
    .bind(company_id)
    .bind(code)
    .fetch_optional(p.db.pool())
    .await?)
}
