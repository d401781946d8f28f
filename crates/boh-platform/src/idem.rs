//! Idempotency keys for external writes (`Idempotency-Key` on API creates, POS batches,
//! imports).
//!
//! The key is recorded **in the same transaction as the effect** ([`record`]), together with the
//! response the client gets. So a key exists if and only if its effect committed, and a crash at
//! any moment leaves either both or neither:
//! - a replay with the same request finds the key and gets the stored response ([`lookup`]);
//! - a replay with a different request is refused ([`PlatformError::IdempotencyMismatch`]);
//! - concurrent duplicates both run the use case, but only one can insert the key (primary key
//!   on actor and key); the other's whole transaction rolls back with
//!   [`PlatformError::IdempotencyRace`] and the edge answers it with the winner's response.
//!
//! Keys are scoped per actor, so two clients cannot collide.

use boh_db::Row;
use serde::Serialize;
use sqlx::AnyConnection;

use crate::{Ctx, Platform, PlatformError, Result};

/// The key a request carries, with what identifies the request (route and a hash of the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdemKey {
    pub key: String,
    pub route: String,
    pub request_hash: String,
}

impl IdemKey {
    /// Validate a client's key and identify the request by route and body.
    pub fn new(key: &str, route: &str, body: &[u8]) -> Result<IdemKey> {
        if key.is_empty() || key.len() > 200 || key.chars().any(|c| c.is_control()) {
            return Err(PlatformError::invalid(
                "Idempotency-Key",
                "must be 1 to 200 printable characters",
            ));
        }
        Ok(IdemKey {
            key: key.to_string(),
            route: route.to_string(),
            request_hash: crate::util::sha256_hex(&[route.as_bytes(), b"\n", body].concat()),
        })
    }
}

/// A stored response.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

/// The stored response for this actor's key, if the key was used before with the same request;
/// [`PlatformError::IdempotencyMismatch`] if it was used with another request.
pub async fn lookup(p: &Platform, actor_id: &str, k: &IdemKey) -> Result<Option<Stored>> {
    let row = sqlx::query(
        "SELECT request_hash, status, response FROM idempotency_keys WHERE actor_id = $1 AND key = $2",
    )
    .bind(actor_id)
    .bind(&k.key)
    .fetch_optional(p.db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let h: String = r.try_get("request_hash")?;
    if h != k.request_hash {
        return Err(PlatformError::IdempotencyMismatch);
    }
    let status: i64 = r.try_get("status")?;
    Ok(Some(Stored {
        status: u16::try_from(status).unwrap_or(200),
        body: r.try_get("response")?,
    }))
}

/// Record the request's key (if it carries one) with the response, inside the use case's
/// transaction. Call it last, once the response is known. A key already present means a
/// concurrent duplicate won: [`PlatformError::IdempotencyRace`] rolls this attempt back.
pub async fn record(tx: &mut AnyConnection, ctx: &Ctx, status: u16, body: &str) -> Result<()> {
    let Some(k) = &ctx.idem else { return Ok(()) };
    let r = sqlx::query(
        "INSERT INTO idempotency_keys (actor_id, key, route, request_hash, status, response, created_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7)",
    )
    .bind(&ctx.actor.user_id)
    .bind(&k.key)
    .bind(&k.route)
    .bind(&k.request_hash)
    .bind(i64::from(status))
    .bind(body)
    .bind(boh_kernel::now().micros())
    .execute(&mut *tx)
    .await;
    match r {
        Ok(_) => Ok(()),
        Err(e) if boh_db::is_unique_violation(&e) => Err(PlatformError::IdempotencyRace),
        Err(e) => Err(e.into()),
    }
}

/// [`record`] a `201 Created` whose body is `value` as JSON.
pub async fn record_created<T: Serialize>(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    value: &T,
) -> Result<()> {
    if ctx.idem.is_none() {
        return Ok(());
    }
    let body = serde_json::to_string(value).map_err(anyhow::Error::from)?;
    record(tx, ctx, 201, &body).await
}

/// Record the key inside the use case's transaction when the response is only known after
/// commit; the edge stores the response with [`complete`] right after. A replay in between (or
/// after a crash in between) finds status 0 and is told the request was applied.
pub async fn mark_applied(tx: &mut AnyConnection, ctx: &Ctx) -> Result<()> {
    record(tx, ctx, 0, "").await
}

/// What [`complete`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Completion {
    /// The response was stored on the key the use case marked applied.
    Stored,
    /// The use case had already stored its response with [`record`].
    AlreadyRecorded,
    /// No key row: the use case did not record its key (a bug); the response was stored now.
    WasMissing,
}

/// Store the response on a key that [`mark_applied`] left pending.
pub async fn complete(
    p: &Platform,
    actor_id: &str,
    k: &IdemKey,
    status: u16,
    body: &str,
) -> Result<Completion> {
    let t = boh_kernel::now().micros();
    crate::tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE idempotency_keys SET status = $1, response = $2 WHERE actor_id = $3 AND key = $4 AND status = 0",
        )
        .bind(i64::from(status))
        .bind(body)
        .bind(actor_id)
        .bind(&k.key)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            return Ok(Completion::Stored);
        }
        let exists: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM idempotency_keys WHERE actor_id = $1 AND key = $2",
        )
        .bind(actor_id)
        .bind(&k.key)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if exists > 0 {
            return Ok(Completion::AlreadyRecorded);
        }
        sqlx::query(
            "INSERT INTO idempotency_keys (actor_id, key, route, request_hash, status, response, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7)",
        )
        .bind(actor_id)
        .bind(&k.key)
        .bind(&k.route)
        .bind(&k.request_hash)
        .bind(i64::from(status))
        .bind(body)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        Ok::<_, PlatformError>(Completion::WasMissing)
    })
}
