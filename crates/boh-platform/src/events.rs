//! Domain events through a transactional outbox.
//!
//! [`emit`] writes the event in the caller's transaction, so an event exists if and only if the
//! change committed. [`dispatch_pending`] (run by the worker loop on every instance) claims
//! undispatched events, hands them to in-process [`Subscribers`] and fans them out into
//! webhook deliveries, then marks them dispatched. Delivery is at least once: subscribers must
//! be idempotent by event id.

use std::sync::{Arc, RwLock};

use boh_db::{Backend, Row};
use boh_kernel::{new_id, now};
use serde::Serialize;
use serde_json::Value;
use sqlx::AnyConnection;

use crate::{Platform, PlatformError, Result};

/// An event as stored in the outbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Event {
    pub id: String,
    pub topic: String,
    #[serde(skip)]
    pub org_path: Option<String>,
    pub payload: Value,
    pub created_at: String,
}

/// Write an event in the caller's transaction.
pub async fn emit(
    tx: &mut AnyConnection,
    topic: &str,
    org_path: Option<&str>,
    payload: &Value,
) -> Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO outbox (id, topic, org_path, payload, created_at) VALUES ($1,$2,$3,$4,$5)",
    )
    .bind(&id)
    .bind(topic)
    .bind(org_path)
    .bind(payload.to_string())
    .bind(now().micros())
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Write many events in the caller's transaction with multi-row inserts (imports).
/// Each item is `(topic, org_path, payload)`.
pub async fn emit_many(
    tx: &mut AnyConnection,
    events: &[(&str, Option<&str>, Value)],
) -> Result<()> {
    let t = now().micros();
    for chunk in events.chunks(1000) {
        let mut sql =
            String::from("INSERT INTO outbox (id, topic, org_path, payload, created_at) VALUES ");
        sql.push_str(&crate::util::values_list(tx, chunk.len(), 5));
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
        for (topic, path, payload) in chunk {
            q = q
                .bind(new_id())
                .bind(*topic)
                .bind(*path)
                .bind(payload.to_string())
                .bind(t);
        }
        q.execute(&mut *tx).await?;
    }
    Ok(())
}

type Handler = Arc<dyn Fn(&Event) -> std::result::Result<(), String> + Send + Sync>;

/// In-process subscribers, registered at start-up by the modules that react to events.
#[derive(Default)]
pub struct Subscribers {
    handlers: RwLock<Vec<(String, Handler)>>,
}

impl Subscribers {
    /// Subscribe to topics starting with `prefix` (`""` = all).
    pub fn subscribe(
        &self,
        prefix: &str,
        f: impl Fn(&Event) -> std::result::Result<(), String> + Send + Sync + 'static,
    ) {
        if let Ok(mut h) = self.handlers.write() {
            h.push((prefix.to_string(), Arc::new(f)));
        }
    }

    fn deliver(&self, e: &Event) -> std::result::Result<(), String> {
        let handlers: Vec<Handler> = match self.handlers.read() {
            Ok(h) => h
                .iter()
                .filter(|(p, _)| e.topic.starts_with(p.as_str()))
                .map(|(_, f)| f.clone())
                .collect(),
            Err(_) => Vec::new(),
        };
        for f in handlers {
            f(e)?;
        }
        Ok(())
    }
}

/// Dispatch up to `limit` pending events; returns how many were dispatched.
pub async fn dispatch_pending(p: &Platform, limit: i64) -> Result<usize> {
    let lock = match p.db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "SELECT id, topic, org_path, payload, created_at FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1{lock}"
    );
    let subs = p.events.clone();
    crate::tx!(p.db, tx, {
        let rows = sqlx::query(boh_db::AssertSqlSafe(sql.clone()))
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut n = 0;
        for r in rows {
            let payload: String = r.try_get("payload")?;
            let e = Event {
                id: r.try_get("id")?,
                topic: r.try_get("topic")?,
                org_path: r.try_get("org_path")?,
                payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
                created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
            };
            if let Err(msg) = subs.deliver(&e) {
                tracing::warn!(event = %e.id, topic = %e.topic, "subscriber failed: {msg}; will retry");
                break;
            }
            crate::webhooks::fan_out(tx, &e).await?;
            sqlx::query("UPDATE outbox SET dispatched_at = $1 WHERE id = $2")
                .bind(now().micros())
                .bind(&e.id)
                .execute(&mut *tx)
                .await?;
            n += 1;
        }
        Ok::<_, PlatformError>(n)
    })
}
