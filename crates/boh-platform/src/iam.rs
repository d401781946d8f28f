//! Identity and access: users, roles (sets of permissions, stored as data), grants (a role on an
//! org node and its subtree), and loading the grants in effect for an actor.
//!
//! Any change to a user's grants, to a role they hold, or to the user themself bumps
//! `users.auth_version` in the same transaction. The in-process [`GrantCache`] is keyed by
//! `(user_id, auth_version)`, which is read from the database on every request, so a revoked
//! grant or a deactivated user takes effect on the next request on every app instance.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use boh_db::Row;
use boh_kernel::{Actor, ActorGrant, AuthVia, new_id, now, perm};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{self, Change};
use crate::util::required_text;
use crate::{Ctx, FieldError, Platform, PlatformError, Result};

/// Built-in roles seeded into every company: (code, English name, Chinese name, permissions).
pub const BUILTIN_ROLES: &[(&str, &str, &str, &[&str])] = &[
    (
        "admin",
        "Company administrator",
        "公司管理员",
        &[
            perm::ORG_READ,
            perm::ORG_CREATE,
            perm::ORG_UPDATE,
            perm::USER_READ,
            perm::USER_MANAGE,
            perm::ROLE_MANAGE,
            perm::GRANT_MANAGE,
            perm::TOKEN_MANAGE,
            perm::AUDIT_READ,
            perm::AUDIT_VERIFY,
            perm::WEBHOOK_MANAGE,
            perm::JOB_READ,
            perm::INVENTORY_READ,
            perm::INVENTORY_MOVE_CREATE,
            perm::INVENTORY_TRANSFER,
            perm::INVENTORY_COUNT,
            perm::INVENTORY_LOCATION,
            perm::INVENTORY_CATALOG,
            perm::INVENTORY_PERIOD,
            perm::SALES_READ,
            perm::SALES_INGEST,
            perm::SALES_MAP,
            perm::FINANCE_READ,
            perm::MAINTENANCE_WORK,
            perm::MAINTENANCE_READ,
            perm::MAINTENANCE_REQUEST,
            perm::MAINTENANCE_DISPATCH,
            perm::MAINTENANCE_ASSET_READ,
            perm::MAINTENANCE_ASSET,
            perm::WORKFLOW_MANAGE,
            perm::WORKFLOW_READ,
            perm::PURCHASING_READ,
            perm::PURCHASING_ORDER,
            perm::PURCHASING_INVOICE,
            perm::PURCHASING_INVOICE_ACCEPT,
            perm::PURCHASING_PAYMENT,
        ],
    ),
    (
        "region_manager",
        "Region manager",
        "区域经理",
        &[
            perm::ORG_READ,
            perm::ORG_UPDATE,
            perm::USER_READ,
            perm::TOKEN_MANAGE,
            perm::AUDIT_READ,
            perm::JOB_READ,
            perm::INVENTORY_READ,
            perm::INVENTORY_LOCATION,
            perm::SALES_READ,
            perm::WORKFLOW_READ,
            perm::PURCHASING_READ,
            perm::MAINTENANCE_ASSET_READ,
            perm::MAINTENANCE_ASSET,
            perm::MAINTENANCE_READ,
            perm::MAINTENANCE_REQUEST,
            perm::MAINTENANCE_DISPATCH,
        ],
    ),
    (
        "store_manager",
        "Store manager",
        "店长",
        &[
            perm::ORG_READ,
            perm::TOKEN_MANAGE,
            perm::INVENTORY_READ,
            perm::INVENTORY_MOVE_CREATE,
            perm::INVENTORY_TRANSFER,
            perm::INVENTORY_COUNT,
            perm::INVENTORY_LOCATION,
            perm::SALES_READ,
            perm::SALES_INGEST,
            perm::JOB_READ,
            perm::PURCHASING_READ,
            perm::PURCHASING_ORDER,
            perm::MAINTENANCE_ASSET_READ,
            perm::MAINTENANCE_ASSET,
            perm::MAINTENANCE_READ,
            perm::MAINTENANCE_REQUEST,
        ],
    ),
    (
        "finance",
        "Finance",
        "财务",
        &[
            perm::ORG_READ,
            perm::AUDIT_READ,
            perm::FINANCE_READ,
            perm::SALES_READ,
            perm::INVENTORY_READ,
            perm::TOKEN_MANAGE,
            perm::JOB_READ,
            perm::WORKFLOW_READ,
            perm::PURCHASING_READ,
            perm::PURCHASING_INVOICE,
            perm::PURCHASING_INVOICE_ACCEPT,
            perm::PURCHASING_PAYMENT,
        ],
    ),
    (
        "technician",
        "Technician",
        "维修技师",
        &[
            perm::ORG_READ,
            perm::MAINTENANCE_WORK,
            perm::MAINTENANCE_ASSET_READ,
        ],
    ),
];

/// The grants of one user, loaded at one auth version.
type CachedGrants = (i64, Arc<Vec<ActorGrant>>);

/// Grants per user id, valid while the user's auth version is unchanged.
#[derive(Default)]
pub struct GrantCache {
    inner: Mutex<HashMap<String, CachedGrants>>,
}

impl GrantCache {
    fn get(&self, user_id: &str, version: i64) -> Option<Arc<Vec<ActorGrant>>> {
        let g = self.inner.lock().ok()?;
        g.get(user_id)
            .filter(|(v, _)| *v == version)
            .map(|(_, gr)| gr.clone())
    }
    fn put(&self, user_id: &str, version: i64, grants: Arc<Vec<ActorGrant>>) {
        if let Ok(mut g) = self.inner.lock() {
            if g.len() > 50_000 {
                g.clear();
            }
            g.insert(user_id.to_string(), (version, grants));
        }
    }
}

/// The fields of a user row that building an actor needs.
pub(crate) struct UserAuth {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub company_id: Option<String>,
    pub locale: String,
    pub auth_version: i64,
}

impl UserAuth {
    pub(crate) fn from_row(r: &boh_db::AnyRow) -> Result<UserAuth> {
        Ok(UserAuth {
            id: r.try_get("user_id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
            company_id: r.try_get("company_id")?,
            locale: r.try_get("locale")?,
            auth_version: r.try_get("auth_version")?,
        })
    }
}

/// Build the actor for an authenticated user, restricted to one grant when `only_grant` is set
/// (API tokens).
pub(crate) async fn build_actor(
    p: &Platform,
    u: UserAuth,
    only_grant: Option<&str>,
    via: AuthVia,
) -> Result<Actor> {
    let grants = match p.grant_cache.get(&u.id, u.auth_version) {
        Some(g) => g,
        None => {
            let g = Arc::new(load_grants(p, &u.id).await?);
            p.grant_cache.put(&u.id, u.auth_version, g.clone());
            g
        }
    };
    let grants = match only_grant {
        Some(gid) => Arc::new(
            grants
                .iter()
                .filter(|g| g.grant_id == gid)
                .cloned()
                .collect(),
        ),
        None => grants,
    };
    Ok(Actor {
        user_id: u.id,
        username: u.username,
        display_name: u.display_name,
        company_id: u.company_id,
        locale: u.locale,
        grants,
        via,
    })
}

async fn load_grants(p: &Platform, user_id: &str) -> Result<Vec<ActorGrant>> {
    let rows = sqlx::query(
        "SELECT g.id, g.org_node_id, r.code, r.permissions, n.path FROM grants g \
         JOIN roles r ON r.id = g.role_id LEFT JOIN org_nodes n ON n.id = g.org_node_id \
         WHERE g.user_id = $1 ORDER BY g.id",
    )
    .bind(user_id)
    .fetch_all(p.db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let node_id: Option<String> = r.try_get("org_node_id")?;
        let path: Option<String> = r.try_get("path")?;
        let perms: String = r.try_get("permissions")?;
        out.push(ActorGrant {
            grant_id: r.try_get("id")?,
            role_code: r.try_get("code")?,
            path: match (&node_id, path) {
                (None, _) => "/".to_string(),
                (Some(_), Some(p)) => p,
                (Some(_), None) => continue,
            },
            node_id,
            permissions: Arc::new(perms.split_whitespace().map(str::to_string).collect()),
        });
    }
    Ok(out)
}

pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PlatformError::Internal(anyhow::anyhow!("password hashing failed: {e}")))
}

pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Rules for a new password; all problems at once.
pub fn check_password(errors: &mut Vec<FieldError>, field: &str, password: &str) {
    if password.chars().count() < 10 {
        errors.push(FieldError::new(field, "must be at least 10 characters"));
    } else if password.len() > 256 {
        errors.push(FieldError::new(field, "must be at most 256 bytes"));
    }
}

// ---------------------------------------------------------------- users

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: String,
    pub company_id: Option<String>,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
    pub locale: String,
    pub active: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

fn user_from_row(r: &boh_db::AnyRow) -> Result<User> {
    Ok(User {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        email: r.try_get("email")?,
        locale: r.try_get("locale")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        last_login_at: boh_kernel::time::rfc3339_opt(r.try_get("last_login_at")?),
    })
}

const USER_COLS: &str = "u.id, u.company_id, u.username, u.display_name, u.email, u.locale, u.active, u.created_at, u.last_login_at";

/// SQL predicate: the user is visible to someone whose `perm` scope is `scope` — their company is
/// in scope, or they hold a grant somewhere in scope.
fn user_visible_sql(actor: &Actor, permission: &str) -> String {
    let scope = actor.scope(permission);
    format!(
        "(EXISTS (SELECT 1 FROM org_nodes c WHERE c.id = u.company_id AND {}) OR EXISTS (SELECT 1 FROM grants g \
         JOIN org_nodes gn ON gn.id = g.org_node_id WHERE g.user_id = u.id AND {}) OR ({} AND u.company_id IS NULL))",
        scope.sql("c.path"),
        scope.sql("gn.path"),
        if scope.is_global() { "1=1" } else { "1=0" }
    )
}

pub async fn list_users(
    p: &Platform,
    actor: &Actor,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<User>, i64)> {
    if !actor.has_anywhere(perm::USER_READ) {
        return Err(PlatformError::Forbidden(perm::USER_READ));
    }
    let vis = user_visible_sql(actor, perm::USER_READ);
    let pattern = format!("%{}%", crate::util::like_escape(&q.trim().to_lowercase()));
    let where_ = format!(
        "{vis} AND (LOWER(u.username) LIKE $1 ESCAPE '\\' OR LOWER(u.display_name) LIKE $1 ESCAPE '\\')"
    );
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM users u WHERE {where_}"
    )))
    .bind(&pattern)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {USER_COLS} FROM users u WHERE {where_} ORDER BY u.username LIMIT $2 OFFSET $3"
    )))
    .bind(&pattern)
    .bind(limit.clamp(1, 500))
    .bind(offset.max(0))
    .fetch_all(p.db.pool())
    .await?;
    Ok((
        rows.iter().map(user_from_row).collect::<Result<_>>()?,
        total,
    ))
}

pub async fn get_user(p: &Platform, actor: &Actor, id: &str) -> Result<User> {
    if actor.user_id == id {
        return fetch_user(p, id).await?.ok_or(PlatformError::NotFound);
    }
    let vis = user_visible_sql(actor, perm::USER_READ);
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {USER_COLS} FROM users u WHERE u.id = $1 AND {vis}"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    user_from_row(&row)
}

pub async fn fetch_user(p: &Platform, id: &str) -> Result<Option<User>> {
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {USER_COLS} FROM users u WHERE u.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn find_user_by_name(p: &Platform, username: &str) -> Result<Option<User>> {
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {USER_COLS} FROM users u WHERE u.username = $1"
    )))
    .bind(username.trim().to_lowercase())
    .fetch_optional(p.db.pool())
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    #[schema(min_length = 1, max_length = 64, pattern = r"^[A-Za-z0-9._@-]+$")]
    pub username: String,
    #[schema(min_length = 1, max_length = 200)]
    pub display_name: String,
    #[serde(default)]
    #[schema(max_length = 254)]
    pub email: Option<String>,
    /// At least 10 characters, at most 256 bytes.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
    /// `en` or `zh-CN` (default `zh-CN`).
    #[serde(default)]
    #[schema(schema_with = locale_schema)]
    pub locale: Option<String>,
    /// The company the user belongs to; defaults to the creator's.
    #[serde(default)]
    pub company_id: Option<String>,
}

/// The company node path a user-management action happens in.
async fn company_path(p: &Platform, company_id: Option<&str>) -> Result<String> {
    match company_id {
        Some(c) => Ok(crate::org::fetch(p, c)
            .await?
            .map(|n| n.path)
            .ok_or(PlatformError::NotFound)?),
        None => Ok("/".into()),
    }
}

pub async fn create_user(p: &Platform, ctx: &Ctx, input: NewUser) -> Result<User> {
    create_user_with_grant(p, ctx, input, None).await
}

/// Create a user and, in the same transaction, give them a first role on a node (the command
/// line's `boh user add`): either both happen or neither.
pub async fn create_user_with_grant(
    p: &Platform,
    ctx: &Ctx,
    input: NewUser,
    initial: Option<(Role, crate::org::OrgNode)>,
) -> Result<User> {
    let mut errors = Vec::new();
    let username = required_text(&mut errors, "username", &input.username.to_lowercase(), 64);
    if !username.is_empty()
        && !username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'))
    {
        errors.push(FieldError::new(
            "username",
            "may contain only letters, digits and . _ - @",
        ));
    }
    let display = required_text(&mut errors, "display_name", &input.display_name, 200);
    check_password(&mut errors, "password", &input.password);
    let locale = input.locale.clone().unwrap_or_else(|| "zh-CN".into());
    if !matches!(locale.as_str(), "en" | "zh-CN") {
        errors.push(FieldError::new("locale", "must be en or zh-CN"));
    }
    if let Some(e) = input.email.as_deref().filter(|e| !e.is_empty())
        && (!e.contains('@') || e.len() > 254)
    {
        errors.push(FieldError::new("email", "is not an e-mail address"));
    }
    let company_id = input
        .company_id
        .clone()
        .filter(|s| !s.is_empty())
        .or_else(|| ctx.actor.company_id.clone());
    let cpath = company_path(p, company_id.as_deref()).await;
    let cpath = match cpath {
        Ok(c)
            if ctx.actor.allows(perm::ORG_READ, &c) || ctx.actor.allows(perm::USER_MANAGE, &c) =>
        {
            c
        }
        _ => return Err(PlatformError::NotFound),
    };
    if !ctx.actor.allows(perm::USER_MANAGE, &cpath) {
        return Err(PlatformError::Forbidden(perm::USER_MANAGE));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    if let Some((role, node)) = &initial {
        check_grant(ctx, role, node, company_id.as_deref())?;
    }
    let hash = hash_password(&input.password)?;
    let id = new_id();
    let t = now().micros();
    let email = input.email.filter(|e| !e.is_empty());
    crate::tx!(p.db, tx, {
        let r = sqlx::query(
                "INSERT INTO users (id, company_id, username, display_name, email, password_hash, locale, \
                 active, auth_version, created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,1,1,$8,$8)",
            )
            .bind(&id)
            .bind(company_id.as_deref())
            .bind(&username)
            .bind(&display)
            .bind(email.as_deref())
            .bind(&hash)
            .bind(&locale)
            .bind(t)
            .execute(&mut *tx)
            .await;
        crate::error::unique_conflict(r, "username", || format!("username {username} is taken"))?;
        audit::append(tx, ctx, Change {
                action: "iam.user.create",
                entity_type: "user",
                entity_id: &id,
                org_path: None,
                before: None,
                after: Some(json!({"username": username, "display_name": display, "email": email, "locale": locale})),
            })
            .await?;
        if let Some((role, node)) = &initial {
            insert_grant(tx, ctx, &new_id(), &id, &username, role, node).await?;
        }
        crate::idem::mark_applied(tx, ctx).await?;
        Ok::<_, PlatformError>(())
    })?;
    let user = fetch_user(p, &id).await?.ok_or(PlatformError::NotFound)?;
    crate::security_event!(info, ctx, user_id = %user.id, username = ?user.username,
        initial_role = ?initial.as_ref().map(|(r, n)| format!("{} on {}", r.code, n.code)), "user created");
    Ok(user)
}

async fn user_for_management(p: &Platform, ctx: &Ctx, id: &str) -> Result<User> {
    let user = get_user(p, &ctx.actor, id).await?;
    let cpath = company_path(p, user.company_id.as_deref()).await?;
    if !ctx.actor.allows(perm::USER_MANAGE, &cpath) {
        return Err(PlatformError::Forbidden(perm::USER_MANAGE));
    }
    Ok(user)
}

/// Set a new password and end every session of the user.
pub async fn reset_password(p: &Platform, ctx: &Ctx, id: &str, password: &str) -> Result<()> {
    let user = user_for_management(p, ctx, id).await?;
    let mut errors = Vec::new();
    check_password(&mut errors, "password", password);
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let hash = hash_password(password)?;
    crate::tx!(p.db, tx, {
        sqlx::query("UPDATE users SET password_hash=$1, auth_version=auth_version+1, updated_at=$2 WHERE id=$3")
                .bind(&hash)
                .bind(now().micros())
                .bind(&user.id)
                .execute(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id=$1")
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "iam.user.reset_password",
                entity_type: "user",
                entity_id: &user.id,
                org_path: None,
                before: None,
                after: None,
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })
    .inspect(|_| {
        crate::security_event!(warn, ctx, user_id = %user.id, username = ?user.username,
            "password reset; the user's sessions were ended");
    })
}

/// Deactivate (or reactivate) a user. Deactivation ends their sessions; their tokens stop
/// working on the next request because token lookup checks `users.active`.
pub async fn set_active(p: &Platform, ctx: &Ctx, id: &str, active: bool) -> Result<User> {
    let user = user_for_management(p, ctx, id).await?;
    if user.id == ctx.actor.user_id && !active {
        return Err(PlatformError::invalid(
            "active",
            "you cannot deactivate yourself",
        ));
    }
    crate::tx!(p.db, tx, {
        sqlx::query(
            "UPDATE users SET active=$1, auth_version=auth_version+1, updated_at=$2 WHERE id=$3",
        )
        .bind(i64::from(active))
        .bind(now().micros())
        .bind(&user.id)
        .execute(&mut *tx)
        .await?;
        if !active {
            sqlx::query("DELETE FROM sessions WHERE user_id=$1")
                .bind(&user.id)
                .execute(&mut *tx)
                .await?;
        }
        audit::append(
            tx,
            ctx,
            Change {
                action: if active {
                    "iam.user.activate"
                } else {
                    "iam.user.deactivate"
                },
                entity_type: "user",
                entity_id: &user.id,
                org_path: None,
                before: Some(json!({"active": user.active})),
                after: Some(json!({"active": active})),
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    let user = fetch_user(p, id).await?.ok_or(PlatformError::NotFound)?;
    if active {
        crate::security_event!(info, ctx, user_id = %user.id, username = ?user.username, "user activated");
    } else {
        crate::security_event!(warn, ctx, user_id = %user.id, username = ?user.username,
            "user deactivated; sessions and tokens stop working");
    }
    Ok(user)
}

/// A user's own preference (UI language).
pub async fn set_locale(p: &Platform, ctx: &Ctx, locale: &str) -> Result<()> {
    if !matches!(locale, "en" | "zh-CN") {
        return Err(PlatformError::invalid("locale", "must be en or zh-CN"));
    }
    crate::tx!(p.db, tx, {
        sqlx::query("UPDATE users SET locale=$1, auth_version=auth_version+1 WHERE id=$2")
            .bind(locale)
            .bind(&ctx.actor.user_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "iam.user.set_locale",
                entity_type: "user",
                entity_id: &ctx.actor.user_id,
                org_path: None,
                before: None,
                after: Some(json!({"locale": locale})),
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })
}

// ---------------------------------------------------------------- roles

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Role {
    pub id: String,
    pub company_id: Option<String>,
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub permissions: Vec<String>,
    pub builtin: bool,
}

fn role_from_row(r: &boh_db::AnyRow) -> Result<Role> {
    let perms: String = r.try_get("permissions")?;
    Ok(Role {
        id: r.try_get("id")?,
        company_id: r.try_get("company_id")?,
        code: r.try_get("code")?,
        name_zh: r.try_get("name_zh")?,
        name_en: r.try_get("name_en")?,
        permissions: perms.split_whitespace().map(str::to_string).collect(),
        builtin: r.try_get::<i64, _>("builtin")? != 0,
    })
}

/// Roles of companies the actor can see users of.
pub async fn list_roles(p: &Platform, actor: &Actor) -> Result<Vec<Role>> {
    if !actor.has_anywhere(perm::USER_READ) && !actor.has_anywhere(perm::GRANT_MANAGE) {
        return Err(PlatformError::Forbidden(perm::USER_READ));
    }
    // Actors with a grant on the whole tree (the command line) see every company's roles.
    let global =
        actor.scope(perm::USER_READ).is_global() || actor.scope(perm::GRANT_MANAGE).is_global();
    let rows = sqlx::query(
        "SELECT id, company_id, code, name_zh, name_en, permissions, builtin FROM roles \
         WHERE company_id IS NULL OR company_id = $1 OR $2 = 1 ORDER BY builtin DESC, code",
    )
    .bind(actor.company_id.clone().unwrap_or_default())
    .bind(i64::from(global))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(role_from_row).collect()
}

pub async fn get_role(p: &Platform, actor: &Actor, id: &str) -> Result<Role> {
    list_roles(p, actor)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(PlatformError::NotFound)
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    #[schema(min_length = 1, max_length = 64)]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name_zh: String,
    #[schema(min_length = 1, max_length = 200)]
    pub name_en: String,
    /// Codes from `GET /api/v1/permissions`.
    #[schema(schema_with = permissions_schema)]
    pub permissions: Vec<String>,
}

fn locale_schema() -> utoipa::openapi::Object {
    crate::util::enum_schema(&["en", "zh-CN"], true, false)
}

fn permissions_schema() -> utoipa::openapi::Array {
    let codes: Vec<&str> = perm::CATALOGUE.iter().map(|(c, _, _)| *c).collect();
    utoipa::openapi::ArrayBuilder::new()
        .items(crate::util::enum_schema(&codes, false, false))
        .build()
}

fn validate_role(input: &RoleInput) -> Result<(String, String, String, String)> {
    let mut errors = Vec::new();
    let code = required_text(&mut errors, "code", &input.code, 64);
    let zh = required_text(&mut errors, "name_zh", &input.name_zh, 200);
    let en = required_text(&mut errors, "name_en", &input.name_en, 200);
    let mut set = BTreeSet::new();
    for p in &input.permissions {
        if perm::is_known(p) {
            set.insert(p.clone());
        } else {
            errors.push(FieldError::new(
                "permissions",
                format!("unknown permission {p}"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    Ok((code, zh, en, set.into_iter().collect::<Vec<_>>().join(" ")))
}

async fn company_scope_for(p: &Platform, ctx: &Ctx, permission: &'static str) -> Result<String> {
    let company = ctx
        .actor
        .company_id
        .clone()
        .ok_or(PlatformError::Forbidden(permission))?;
    let cpath = company_path(p, Some(&company)).await?;
    if !ctx.actor.allows(permission, &cpath) {
        return Err(PlatformError::Forbidden(permission));
    }
    Ok(company)
}

pub async fn create_role(p: &Platform, ctx: &Ctx, input: RoleInput) -> Result<Role> {
    let (code, zh, en, perms) = validate_role(&input)?;
    let company = company_scope_for(p, ctx, perm::ROLE_MANAGE).await?;
    let id = new_id();
    let t = now().micros();
    crate::tx!(p.db, tx, {
        let r = sqlx::query(
                "INSERT INTO roles (id, company_id, code, name_zh, name_en, permissions, builtin, created_at, updated_at) \
                 VALUES ($1,$2,$3,$4,$5,$6,0,$7,$7)",
            )
            .bind(&id).bind(&company).bind(&code).bind(&zh).bind(&en).bind(&perms).bind(t)
            .execute(&mut *tx)
            .await;
        crate::error::unique_conflict(r, "code", || format!("role code {code} exists"))?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "iam.role.create",
                entity_type: "role",
                entity_id: &id,
                org_path: None,
                before: None,
                after: Some(json!({"code": code, "permissions": perms})),
            },
        )
        .await?;
        crate::idem::mark_applied(tx, ctx).await?;
        Ok::<_, PlatformError>(())
    })?;
    let role = get_role(p, &ctx.actor, &id).await?;
    crate::security_event!(info, ctx, role_id = %role.id, role = ?role.code,
        permissions = ?role.permissions, "role created");
    Ok(role)
}

/// Change a role's names and permissions. Everyone holding it sees the change on their next request.
pub async fn update_role(p: &Platform, ctx: &Ctx, id: &str, input: RoleInput) -> Result<Role> {
    let before = get_role(p, &ctx.actor, id).await?;
    let company = company_scope_for(p, ctx, perm::ROLE_MANAGE).await?;
    if before.company_id.as_deref() != Some(company.as_str()) {
        return Err(PlatformError::Forbidden(perm::ROLE_MANAGE));
    }
    // The code names the role for good: an update must repeat it unchanged.
    let sent = input.code.trim().to_string();
    let (_, zh, en, perms) = match validate_role(&input) {
        Err(PlatformError::Validation(mut errors)) => {
            if !sent.is_empty() && sent != before.code {
                errors.push(FieldError::new("code", "cannot change"));
            }
            return Err(PlatformError::Validation(errors));
        }
        Err(e) => return Err(e),
        Ok(_) if sent != before.code => {
            return Err(PlatformError::invalid("code", "cannot change"));
        }
        Ok(v) => v,
    };
    crate::tx!(p.db, tx, {
        sqlx::query(
            "UPDATE roles SET name_zh=$1, name_en=$2, permissions=$3, updated_at=$4 WHERE id=$5",
        )
        .bind(&zh)
        .bind(&en)
        .bind(&perms)
        .bind(now().micros())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET auth_version=auth_version+1 WHERE id IN (SELECT user_id FROM grants WHERE role_id=$1)")
                .bind(id).execute(&mut *tx).await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "iam.role.update",
                entity_type: "role",
                entity_id: id,
                org_path: None,
                before: Some(json!({"permissions": before.permissions})),
                after: Some(json!({"permissions": perms})),
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    let role = get_role(p, &ctx.actor, id).await?;
    crate::security_event!(warn, ctx, role_id = %role.id, role = ?role.code,
        permissions_before = ?before.permissions, permissions = ?role.permissions,
        "role permissions changed");
    Ok(role)
}

// ---------------------------------------------------------------- grants

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Grant {
    pub id: String,
    pub user_id: String,
    pub username: String,
    pub role_id: String,
    pub role_code: String,
    pub org_node_id: Option<String>,
    pub org_node_code: Option<String>,
    pub org_node_name: Option<String>,
    pub created_at: String,
}

const GRANT_SELECT: &str = "SELECT g.id, g.user_id, u.username, g.role_id, r.code AS role_code, g.org_node_id, \
    n.code AS node_code, n.name_en AS node_name, n.path AS node_path, g.created_at FROM grants g \
    JOIN users u ON u.id = g.user_id JOIN roles r ON r.id = g.role_id LEFT JOIN org_nodes n ON n.id = g.org_node_id";

fn grant_from_row(r: &boh_db::AnyRow) -> Result<(Grant, String)> {
    let path: Option<String> = r.try_get("node_path")?;
    Ok((
        Grant {
            id: r.try_get("id")?,
            user_id: r.try_get("user_id")?,
            username: r.try_get("username")?,
            role_id: r.try_get("role_id")?,
            role_code: r.try_get("role_code")?,
            org_node_id: r.try_get("org_node_id")?,
            org_node_code: r.try_get("node_code")?,
            org_node_name: r.try_get("node_name")?,
            created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        },
        path.unwrap_or_else(|| "/".into()),
    ))
}

/// Grants of a user that the actor can see (their own, or those on nodes in the actor's
/// user-read scope).
pub async fn list_grants(p: &Platform, actor: &Actor, user_id: &str) -> Result<Vec<Grant>> {
    let _ = get_user(p, actor, user_id).await?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{GRANT_SELECT} WHERE g.user_id = $1 ORDER BY g.created_at"
    )))
    .bind(user_id)
    .fetch_all(p.db.pool())
    .await?;
    let own = actor.user_id == user_id;
    let mut out = Vec::new();
    for r in &rows {
        let (g, path) = grant_from_row(r)?;
        if own || actor.allows(perm::USER_READ, &path) {
            out.push(g);
        }
    }
    Ok(out)
}

async fn get_grant(p: &Platform, actor: &Actor, id: &str) -> Result<(Grant, String)> {
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "{GRANT_SELECT} WHERE g.id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let (g, path) = grant_from_row(&row)?;
    if g.user_id == actor.user_id
        || actor.allows(perm::USER_READ, &path)
        || actor.allows(perm::GRANT_MANAGE, &path)
    {
        Ok((g, path))
    } else {
        Err(PlatformError::NotFound)
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub user_id: String,
    pub role_id: String,
    pub org_node_id: String,
}

/// May the actor give `role` on `node` to a user of `user_company`? The actor needs
/// `iam.grant.manage` there and must hold every permission of the role there.
fn check_grant(
    ctx: &Ctx,
    role: &Role,
    node: &crate::org::OrgNode,
    user_company: Option<&str>,
) -> Result<()> {
    if !ctx.actor.allows(perm::GRANT_MANAGE, &node.path) {
        return Err(PlatformError::Forbidden(perm::GRANT_MANAGE));
    }
    if user_company != Some(node.company_id.as_str()) {
        return Err(PlatformError::invalid(
            "org_node_id",
            "the node belongs to another company than the user",
        ));
    }
    if role
        .company_id
        .as_deref()
        .is_some_and(|c| c != node.company_id)
    {
        return Err(PlatformError::invalid(
            "role_id",
            "the role belongs to another company",
        ));
    }
    for perm_name in &role.permissions {
        if !ctx.actor.allows(perm_name, &node.path) {
            return Err(PlatformError::invalid(
                "role_id",
                format!("you cannot grant {perm_name}, which you do not hold here"),
            ));
        }
    }
    Ok(())
}

/// Insert a grant with its audit row, in the caller's transaction.
async fn insert_grant(
    tx: &mut sqlx::AnyConnection,
    ctx: &Ctx,
    id: &str,
    user_id: &str,
    username: &str,
    role: &Role,
    node: &crate::org::OrgNode,
) -> Result<()> {
    sqlx::query("INSERT INTO grants (id, user_id, role_id, org_node_id, created_at, created_by) VALUES ($1,$2,$3,$4,$5,$6)")
        .bind(id)
        .bind(user_id)
        .bind(&role.id)
        .bind(&node.id)
        .bind(now().micros())
        .bind(&ctx.actor.user_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("UPDATE users SET auth_version=auth_version+1 WHERE id=$1")
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    let change = Change {
        action: "iam.grant.create",
        entity_type: "grant",
        entity_id: id,
        org_path: Some(&node.path),
        before: None,
        after: Some(json!({"user": username, "role": role.code, "node": node.code})),
    };
    audit::append(tx, ctx, change).await
}

/// Give a user a role on a node. The actor needs `iam.grant.manage` there and must themselves
/// hold every permission of the role there (nobody hands out more than they have).
pub async fn create_grant(p: &Platform, ctx: &Ctx, input: NewGrant) -> Result<Grant> {
    let node = crate::org::get(p, &ctx.actor, &input.org_node_id).await?;
    let user = get_user(p, &ctx.actor, &input.user_id).await?;
    let role = get_role(p, &ctx.actor, &input.role_id).await?;
    check_grant(ctx, &role, &node, user.company_id.as_deref())?;
    let id = new_id();
    crate::tx!(p.db, tx, {
        insert_grant(tx, ctx, &id, &user.id, &user.username, &role, &node).await?;
        crate::idem::mark_applied(tx, ctx).await?;
        Ok::<_, PlatformError>(())
    })?;
    crate::security_event!(warn, ctx, grant_id = %id, user_id = %user.id, username = ?user.username,
        role = ?role.code, org_node_id = %node.id, org_node = ?node.code, "grant created");
    Ok(get_grant(p, &ctx.actor, &id).await?.0)
}

/// Revoke a grant; tokens issued under it stop working at once.
pub async fn revoke_grant(p: &Platform, ctx: &Ctx, id: &str) -> Result<()> {
    let (g, path) = get_grant(p, &ctx.actor, id).await?;
    if !ctx.actor.allows(perm::GRANT_MANAGE, &path) {
        return Err(PlatformError::Forbidden(perm::GRANT_MANAGE));
    }
    crate::tx!(p.db, tx, {
        let t = now().micros();
        sqlx::query("UPDATE api_tokens SET revoked_at=$1, grant_id=NULL WHERE grant_id=$2 AND revoked_at IS NULL")
                .bind(t).bind(&g.id).execute(&mut *tx).await?;
        sqlx::query("UPDATE api_tokens SET grant_id=NULL WHERE grant_id=$1")
            .bind(&g.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM grants WHERE id=$1")
            .bind(&g.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE users SET auth_version=auth_version+1 WHERE id=$1")
            .bind(&g.user_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "iam.grant.revoke",
                entity_type: "grant",
                entity_id: &g.id,
                org_path: Some(&path),
                before: Some(
                    json!({"user": g.username, "role": g.role_code, "node": g.org_node_code}),
                ),
                after: None,
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })
    .inspect(|_| {
        crate::security_event!(warn, ctx, grant_id = %g.id, user_id = %g.user_id, username = ?g.username,
            role = ?g.role_code, org_node_id = ?g.org_node_id, "grant revoked");
    })
}

/// A role by code within a company, unscoped (command line).
pub async fn find_role_by_code(p: &Platform, company_id: &str, code: &str) -> Result<Option<Role>> {
    let row = sqlx::query("SELECT id, company_id, code, name_zh, name_en, permissions, builtin FROM roles WHERE company_id = $1 AND code = $2")
        .bind(company_id)
        .bind(code)
        .fetch_optional(p.db.pool())
        .await?;
    row.as_ref().map(role_from_row).transpose()
}

/// The actor a background job acts as: the user who started it (still active), with the
/// grants they hold now, restricted to the ones they acted with then. A token's single grant
/// stays single, and a grant revoked in between is gone. The system actor stays the system.
pub async fn job_actor(p: &Platform, user_id: &str, grant_ids: &[String]) -> Result<Actor> {
    if user_id == "system" {
        return Ok(Actor::system());
    }
    let row = sqlx::query(
        "SELECT id AS user_id, username, display_name, company_id, locale, auth_version \
         FROM users WHERE id = $1 AND active = 1",
    )
    .bind(user_id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::Unauthenticated)?;
    let mut actor = build_actor(p, UserAuth::from_row(&row)?, None, AuthVia::System).await?;
    actor.grants = Arc::new(
        actor
            .grants
            .iter()
            .filter(|g| grant_ids.contains(&g.grant_id))
            .cloned()
            .collect(),
    );
    Ok(actor)
}
