//! Authentication: password login with throttling, server-side sessions, API tokens.
//!
//! Session ids and API tokens are random secrets shown to the client once; the database keeps
//! only their SHA-256. Unknown users and wrong passwords get the same answer after the same work
//! (a dummy Argon2 verification). Throttling counts failures per account and per client address
//! in the database, so it holds across app instances.

use boh_db::Row;
use boh_kernel::{Actor, AuthVia, new_id, now, perm};
use serde::Serialize;
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{self, Change};
use crate::iam::{UserAuth, build_actor, verify_password};
use crate::util::{random_token, sha256_hex};
use crate::{Ctx, Platform, PlatformError, Result};

/// A hash of a password nobody has, verified when the username is unknown so that both cases
/// cost the same Argon2 work.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| crate::iam::hash_password(&random_token(24)).unwrap_or_default())
        .clone()
}

/// A fresh login session: the secret id goes into the cookie.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub session_id: String,
    pub csrf_token: String,
    pub actor: Actor,
}

fn throttle_keys(username: &str, ip: Option<&str>) -> Vec<String> {
    let mut keys = vec![format!("user:{}", username.trim().to_lowercase())];
    if let Some(ip) = ip {
        keys.push(format!("ip:{ip}"));
    }
    keys
}

async fn check_throttle(p: &Platform, keys: &[String]) -> Result<()> {
    let t = now().micros();
    for k in keys {
        let row = sqlx::query("SELECT locked_until FROM login_throttle WHERE key = $1")
            .bind(k)
            .fetch_optional(p.db.pool())
            .await?;
        if let Some(r) = row
            && let Some(until) = r.try_get::<Option<i64>, _>("locked_until")?
            && until > t
        {
            return Err(PlatformError::Throttled {
                retry_after_secs: (until - t) / 1_000_000 + 1,
            });
        }
    }
    Ok(())
}

async fn record_failure(p: &Platform, keys: &[String]) -> Result<()> {
    let t = now().micros();
    let window = p.settings.login_window_secs * 1_000_000;
    let max = p.settings.login_max_failures;
    crate::tx!(p.db, tx, {
        for k in keys {
            // Start a new window when the old one has passed.
            sqlx::query("DELETE FROM login_throttle WHERE key = $1 AND window_start < $2 AND (locked_until IS NULL OR locked_until < $3)")
                    .bind(k).bind(t - window).bind(t).execute(&mut *tx).await?;
            sqlx::query(
                    "INSERT INTO login_throttle (key, failures, window_start, locked_until) VALUES ($1, 1, $2, NULL) \
                     ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1",
                )
                .bind(k).bind(t).execute(&mut *tx).await?;
            sqlx::query(
                "UPDATE login_throttle SET locked_until = $1 WHERE key = $2 AND failures >= $3",
            )
            .bind(t + window)
            .bind(k)
            .bind(max)
            .execute(&mut *tx)
            .await?;
        }
        Ok::<_, PlatformError>(())
    })
}

/// Check a username and password. On success returns the user's auth row; on failure records it
/// against the account and the address.
async fn check_credentials(
    p: &Platform,
    username: &str,
    password: &str,
    ip: Option<&str>,
) -> Result<UserAuth> {
    let keys = throttle_keys(username, ip);
    if let Err(e) = check_throttle(p, &keys).await {
        tracing::warn!(target: "boh::security", username = ?username.trim(), ip = ?ip, at = %now().rfc3339(), "login refused: throttled");
        return Err(e);
    }
    let row = sqlx::query(
        "SELECT id AS user_id, username, display_name, company_id, locale, auth_version, password_hash, active \
         FROM users WHERE username = $1",
    )
    .bind(username.trim().to_lowercase())
    .fetch_optional(p.db.pool())
    .await?;
    let pw = password.to_string();
    let (hash, ok_user) = match &row {
        Some(r) => (
            r.try_get::<String, _>("password_hash")?,
            r.try_get::<i64, _>("active")? == 1,
        ),
        None => (dummy_hash(), false),
    };
    let verified = tokio::task::spawn_blocking(move || verify_password(&pw, &hash))
        .await
        .map_err(|e| PlatformError::Internal(anyhow::anyhow!(e)))?;
    match row {
        Some(r) if verified && ok_user => {
            tracing::info!(
                target: "boh::security",
                user_id = %r.try_get::<String, _>("user_id").unwrap_or_default(),
                username = ?username.trim(),
                ip = ?ip,
                at = %now().rfc3339(),
                "login succeeded"
            );
            crate::tx!(p.db, tx, {
                sqlx::query("DELETE FROM login_throttle WHERE key = $1")
                    .bind(&keys[0])
                    .execute(&mut *tx)
                    .await?;
                Ok::<_, PlatformError>(())
            })?;
            UserAuth::from_row(&r)
        }
        _ => {
            tracing::warn!(target: "boh::security", username = ?username.trim(), ip = ?ip, at = %now().rfc3339(), "login failed");
            record_failure(p, &keys).await?;
            Err(PlatformError::BadCredentials)
        }
    }
}

/// Log in with a password and open a browser session (a new id every time).
pub async fn login_session(
    p: &Platform,
    username: &str,
    password: &str,
    ip: Option<&str>,
    user_agent: Option<&str>,
) -> Result<NewSession> {
    let u = check_credentials(p, username, password, ip).await?;
    let session_id = random_token(32);
    let csrf_token = random_token(24);
    let hash = sha256_hex(session_id.as_bytes());
    let t = now().micros();
    let user_id = u.id.clone();
    let ctx = Ctx {
        actor: build_actor(p, u, None, AuthVia::System).await?,
        ip: ip.map(str::to_string),
        request_id: None,
        idem: None,
    };
    crate::tx!(p.db, tx, {
        sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, ip, user_agent) \
                 VALUES ($1,$2,$3,$4,$4,$5,$6,$7)",
            )
            .bind(&hash).bind(&user_id).bind(&csrf_token).bind(t)
            .bind(t + p.settings.session_absolute_secs * 1_000_000)
            .bind(ip).bind(user_agent.map(|s| s.chars().take(200).collect::<String>()))
            .execute(&mut *tx).await?;
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(t)
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            &ctx,
            Change {
                action: "auth.login",
                entity_type: "user",
                entity_id: &user_id,
                org_path: None,
                before: None,
                after: None,
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    let mut actor = ctx.actor;
    actor.via = AuthVia::Session {
        session_hash: hash,
        csrf_token: csrf_token.clone(),
    };
    Ok(NewSession {
        session_id,
        csrf_token,
        actor,
    })
}

/// The actor behind a session cookie, or `Unauthenticated` when it is unknown, idle too long,
/// past its absolute end, or its user was deactivated.
pub async fn session_actor(p: &Platform, session_id: &str) -> Result<Actor> {
    let hash = sha256_hex(session_id.as_bytes());
    let t = now().micros();
    let row = sqlx::query(
        "SELECT s.csrf_token, s.last_seen_at, s.expires_at, u.id AS user_id, u.username, u.display_name, \
         u.company_id, u.locale, u.auth_version FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id_hash = $1 AND u.active = 1",
    )
    .bind(&hash)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::Unauthenticated)?;
    let last_seen: i64 = row.try_get("last_seen_at")?;
    let expires: i64 = row.try_get("expires_at")?;
    if expires <= t || last_seen + p.settings.session_idle_secs * 1_000_000 <= t {
        let _ = logout(p, session_id).await;
        return Err(PlatformError::Unauthenticated);
    }
    // Slide the idle timer at most once a minute, so reads stay reads.
    if t - last_seen > 60_000_000 {
        crate::tx!(p.db, tx, {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(t)
                .bind(&hash)
                .execute(&mut *tx)
                .await?;
            Ok::<_, PlatformError>(())
        })?;
    }
    let csrf: String = row.try_get("csrf_token")?;
    build_actor(
        p,
        UserAuth::from_row(&row)?,
        None,
        AuthVia::Session {
            session_hash: hash,
            csrf_token: csrf,
        },
    )
    .await
}

/// End a session.
pub async fn logout(p: &Platform, session_id: &str) -> Result<()> {
    logout_hash(p, &sha256_hex(session_id.as_bytes())).await
}

/// Remove sessions past their end (a scheduled job).
pub async fn purge_sessions(p: &Platform) -> Result<u64> {
    let t = now().micros();
    let idle = p.settings.session_idle_secs * 1_000_000;
    crate::tx!(p.db, tx, {
        let r = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2")
            .bind(t)
            .bind(t - idle)
            .execute(&mut *tx)
            .await?;
        Ok::<_, PlatformError>(r.rows_affected())
    })
}

// ---------------------------------------------------------------- API tokens

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    /// The first characters of the token, to recognise it.
    pub prefix: String,
    pub grant_id: Option<String>,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A token just created; `token` is shown this once and never again.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    pub token: String,
    #[serde(flatten)]
    pub info: ApiToken,
}

const TOKEN_COLS: &str =
    "id, user_id, name, prefix, grant_id, created_at, last_used_at, expires_at, revoked_at";

fn token_from_row(r: &boh_db::AnyRow) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        name: r.try_get("name")?,
        prefix: r.try_get("prefix")?,
        grant_id: r.try_get("grant_id")?,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        last_used_at: boh_kernel::time::rfc3339_opt(r.try_get("last_used_at")?),
        expires_at: boh_kernel::time::rfc3339_opt(r.try_get("expires_at")?),
        revoked_at: boh_kernel::time::rfc3339_opt(r.try_get("revoked_at")?),
    })
}

async fn insert_token(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    user_id: &str,
    grant_id: Option<&str>,
    name: &str,
    expires_at: Option<i64>,
) -> Result<IssuedToken> {
    let secret = random_token(32);
    let token = format!("boh_{secret}");
    let prefix: String = token.chars().take(10).collect();
    let id = new_id();
    let t = now().micros();
    sqlx::query(
        "INSERT INTO api_tokens (id, user_id, grant_id, name, token_hash, prefix, created_at, expires_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
    )
    .bind(&id).bind(user_id).bind(grant_id).bind(name).bind(sha256_hex(token.as_bytes())).bind(&prefix).bind(t).bind(expires_at)
    .execute(&mut *tx)
    .await?;
    audit::append(
        tx,
        ctx,
        Change {
            action: "iam.token.create",
            entity_type: "api_token",
            entity_id: &id,
            org_path: None,
            before: None,
            after: Some(json!({"name": name, "grant_id": grant_id, "prefix": prefix})),
        },
    )
    .await?;
    Ok(IssuedToken {
        token,
        info: ApiToken {
            id,
            user_id: user_id.to_string(),
            name: name.to_string(),
            prefix,
            grant_id: grant_id.map(str::to_string),
            created_at: boh_kernel::Instant(t).rfc3339(),
            last_used_at: None,
            expires_at: boh_kernel::time::rfc3339_opt(expires_at),
            revoked_at: None,
        },
    })
}

/// Log in with a password and get an API token carrying all the user's grants (expires with the
/// absolute session lifetime). This is what `POST /api/v1/auth/login` answers.
pub async fn login_token(
    p: &Platform,
    username: &str,
    password: &str,
    ip: Option<&str>,
) -> Result<IssuedToken> {
    let u = check_credentials(p, username, password, ip).await?;
    let user_id = u.id.clone();
    let ctx = Ctx {
        actor: build_actor(p, u, None, AuthVia::System).await?,
        ip: ip.map(str::to_string),
        request_id: None,
        idem: None,
    };
    let expires = now().micros() + p.settings.session_absolute_secs * 1_000_000;
    crate::tx!(p.db, tx, {
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now().micros())
            .bind(&user_id)
            .execute(&mut *tx)
            .await?;
        insert_token(tx, &ctx, &user_id, None, "login", Some(expires)).await
    })
}

/// Create a machine token for the actor, limited to one of their grants.
pub async fn create_token(
    p: &Platform,
    ctx: &Ctx,
    name: &str,
    grant_id: &str,
    expires_in_days: Option<i64>,
) -> Result<IssuedToken> {
    let mut errors = Vec::new();
    let name = crate::util::required_text(&mut errors, "name", name, 100);
    if let Some(d) = expires_in_days
        && !(1..=3650).contains(&d)
    {
        errors.push(crate::FieldError::new(
            "expires_in_days",
            "must be between 1 and 3650",
        ));
    }
    let grant = ctx
        .actor
        .grants
        .iter()
        .find(|g| g.grant_id == grant_id)
        .cloned();
    let Some(grant) = grant else {
        return Err(PlatformError::NotFound);
    };
    if !grant.permissions.contains(perm::TOKEN_MANAGE) {
        return Err(PlatformError::Forbidden(perm::TOKEN_MANAGE));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let expires = expires_in_days.map(|d| now().plus_secs(d * 86_400).micros());
    crate::tx!(p.db, tx, {
        let issued = insert_token(
            tx,
            ctx,
            &ctx.actor.user_id,
            Some(&grant.grant_id),
            &name,
            expires,
        )
        .await?;
        // A token's secret is shown once and never stored: a replay is told which token the
        // key created, not the secret.
        let replay = json!({"error": {
            "code": "token_already_issued",
            "message": format!(
                "this idempotency key already created token {} ({}…); its secret is shown only once",
                issued.info.id, issued.info.prefix
            ),
        }});
        crate::idem::record(tx, ctx, 409, &replay.to_string()).await?;
        Ok(issued)
    })
    .inspect(|t| {
        crate::security_event!(info, ctx, token_id = %t.info.id, token_name = ?t.info.name,
            grant_id = ?t.info.grant_id, expires_at = ?t.info.expires_at, "API token created");
    })
}

/// The actor's own tokens (login tokens included), newest first.
pub async fn list_tokens(p: &Platform, actor: &Actor) -> Result<Vec<ApiToken>> {
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLS} FROM api_tokens WHERE user_id = $1 AND name <> 'login' ORDER BY created_at DESC"
    )))
    .bind(&actor.user_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(token_from_row).collect()
}

/// Revoke one of the actor's own tokens.
pub async fn revoke_token(p: &Platform, ctx: &Ctx, id: &str) -> Result<()> {
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {TOKEN_COLS} FROM api_tokens WHERE id = $1 AND user_id = $2"
    )))
    .bind(id)
    .bind(&ctx.actor.user_id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let tok = token_from_row(&row)?;
    crate::tx!(p.db, tx, {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now().micros())
            .bind(&tok.id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "iam.token.revoke",
                entity_type: "api_token",
                entity_id: &tok.id,
                org_path: None,
                before: Some(json!({"name": tok.name})),
                after: None,
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })
    .inspect(|_| {
        crate::security_event!(info, ctx, token_id = %tok.id, token_name = ?tok.name, "API token revoked");
    })
}

/// One query resolves a bearer token: revoked, expired and deactivated all fail it.
const TOKEN_ACTOR_SQL: &str = "SELECT k.id AS token_id, k.grant_id, k.last_used_at, u.id AS user_id, u.username, \
    u.display_name, u.company_id, u.locale, u.auth_version FROM api_tokens k JOIN users u ON u.id = k.user_id \
    WHERE k.token_hash = $1 AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > $2) \
    AND u.active = 1 AND (k.name = 'login' OR k.grant_id IS NOT NULL)";

/// The actor behind a bearer token, or `Unauthenticated`.
pub async fn token_actor(p: &Platform, token: &str) -> Result<Actor> {
    if !token.starts_with("boh_") || token.len() > 100 {
        return Err(PlatformError::Unauthenticated);
    }
    let t = now().micros();
    let hash = sha256_hex(token.as_bytes());
    let found = match p.db.inline_read(|c| {
        use boh_db::rusqlite::OptionalExtension;
        c.prepare_cached(TOKEN_ACTOR_SQL)?
            .query_row(boh_db::rusqlite::params![hash, t], |r| {
                Ok((
                    r.get::<_, String>("token_id")?,
                    r.get::<_, Option<String>>("grant_id")?,
                    r.get::<_, Option<i64>>("last_used_at")?,
                    UserAuth {
                        id: r.get("user_id")?,
                        username: r.get("username")?,
                        display_name: r.get("display_name")?,
                        company_id: r.get("company_id")?,
                        locale: r.get("locale")?,
                        auth_version: r.get("auth_version")?,
                    },
                ))
            })
            .optional()
    }) {
        Some(inline) => inline?,
        None => match sqlx::query(TOKEN_ACTOR_SQL)
            .bind(&hash)
            .bind(t)
            .fetch_optional(p.db.pool())
            .await?
        {
            Some(row) => Some((
                row.try_get::<String, _>("token_id")?,
                row.try_get::<Option<String>, _>("grant_id")?,
                row.try_get::<Option<i64>, _>("last_used_at")?,
                UserAuth::from_row(&row)?,
            )),
            None => None,
        },
    };
    let (token_id, grant_id, last_used, user) = found.ok_or(PlatformError::Unauthenticated)?;
    if last_used.is_none_or(|l| t - l > 60_000_000) {
        crate::tx!(p.db, tx, {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(t)
                .bind(&token_id)
                .execute(&mut *tx)
                .await?;
            Ok::<_, PlatformError>(())
        })?;
    }
    build_actor(p, user, grant_id.as_deref(), AuthVia::Token { token_id }).await
}

/// Revoke the token a request came with (API logout).
pub async fn revoke_current_token(p: &Platform, token_id: &str) -> Result<()> {
    crate::tx!(p.db, tx, {
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(now().micros())
            .bind(token_id)
            .execute(&mut *tx)
            .await?;
        Ok::<_, PlatformError>(())
    })
}

/// End a session by its stored hash (logout of the current session).
pub async fn logout_hash(p: &Platform, hash: &str) -> Result<()> {
    crate::tx!(p.db, tx, {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(hash)
            .execute(&mut *tx)
            .await?;
        Ok::<_, PlatformError>(())
    })
}
