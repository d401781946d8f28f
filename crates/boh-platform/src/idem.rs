//! Idempotency keys for external writes (`Idempotency-Key` header on API creates).
//!
//! The key is claimed first (a row with status 0, unique per actor and key), then the write runs,
//! then the response is stored on the claim. A replay with the same request gets the stored
//! response; a replay with a different request is refused; a concurrent duplicate finds the claim
//! and is told to retry, so the write applies once. A claim left by a crashed request is taken
//! over after a minute.

use boh_db::Row;

use crate::{Platform, PlatformError, Result};

/// A stored response.
#[derive(Debug, Clone)]
pub struct Stored {
    pub status: u16,
    pub body: String,
}

/// What to do with a request carrying a key.
#[derive(Debug)]
pub enum Claim {
    /// First time: run the write, then [`complete`] (or [`release`] on failure).
    New,
    /// Seen before with the same request: answer this.
    Replay(Stored),
}

const STALE_MICROS: i64 = 60_000_000;

pub async fn claim(
    p: &Platform,
    actor_id: &str,
    key: &str,
    route: &str,
    request_hash: &str,
) -> Result<Claim> {
    if key.is_empty() || key.len() > 200 {
        return Err(PlatformError::invalid(
            "Idempotency-Key",
            "must be 1 to 200 characters",
        ));
    }
    let t = boh_kernel::now().micros();
    crate::tx!(p.db, tx, {
        let row = sqlx::query("SELECT request_hash, status, response, created_at FROM idempotency_keys WHERE actor_id = $1 AND key = $2")
                .bind(actor_id).bind(key).fetch_optional(&mut *tx).await?;
        if let Some(r) = row {
            let h: String = r.try_get("request_hash")?;
            let status: i64 = r.try_get("status")?;
            let created: i64 = r.try_get("created_at")?;
            if h != request_hash {
                return Err(PlatformError::IdempotencyMismatch);
            }
            if status != 0 {
                return Ok(Claim::Replay(Stored {
                    status: u16::try_from(status).unwrap_or(200),
                    body: r.try_get("response")?,
                }));
            }
            if t - created < STALE_MICROS {
                return Err(PlatformError::Conflict {
                    field: None,
                    message: "a request with this idempotency key is in progress; retry shortly"
                        .into(),
                });
            }
            sqlx::query(
                "UPDATE idempotency_keys SET created_at = $1 WHERE actor_id = $2 AND key = $3",
            )
            .bind(t)
            .bind(actor_id)
            .bind(key)
            .execute(&mut *tx)
            .await?;
            return Ok(Claim::New);
        }
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (actor_id, key, route, request_hash, status, response, created_at) \
             VALUES ($1,$2,$3,$4,0,'',$5)",
        )
        .bind(actor_id)
        .bind(key)
        .bind(route)
        .bind(request_hash)
        .bind(t)
        .execute(&mut *tx)
        .await;
        match inserted {
            Ok(_) => Ok(Claim::New),
            // A concurrent request claimed the key between our read and our insert.
            Err(e) if boh_db::is_unique_violation(&e) => Err(PlatformError::Conflict {
                field: None,
                message: "a request with this idempotency key is in progress; retry shortly".into(),
            }),
            Err(e) => Err(e.into()),
        }
    })
}

/// Store the response of a successful write under its key.
pub async fn complete(
    p: &Platform,
    actor_id: &str,
    key: &str,
    status: u16,
    body: &str,
) -> Result<()> {
    crate::tx!(p.db, tx, {
        sqlx::query("UPDATE idempotency_keys SET status = $1, response = $2 WHERE actor_id = $3 AND key = $4")
                .bind(i64::from(status)).bind(body).bind(actor_id).bind(key).execute(&mut *tx).await?;
        Ok::<_, PlatformError>(())
    })
}

/// Drop a claim whose write failed, so the client may retry with the same key.
pub async fn release(p: &Platform, actor_id: &str, key: &str) -> Result<()> {
    crate::tx!(p.db, tx, {
        sqlx::query("DELETE FROM idempotency_keys WHERE actor_id = $1 AND key = $2 AND status = 0")
            .bind(actor_id)
            .bind(key)
            .execute(&mut *tx)
            .await?;
        Ok::<_, PlatformError>(())
    })
}
