//! Webhook subscriptions and deliveries, signed in the Standard Webhooks style:
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">` with a `whsec_`-prefixed base64 secret. Failed deliveries are retried
//! with growing delays, every attempt is logged on the delivery row, and any delivery can be
//! replayed by hand.

use std::time::Duration;

use base64::Engine;
use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::AnyConnection;

use crate::audit::{self, Change};
use crate::events::Event;
use crate::{Ctx, FieldError, Platform, PlatformError, Result};

/// Delays before each retry, in seconds; after the last the delivery is `dead`.
const RETRY_DELAYS: &[i64] = &[5, 30, 120, 600, 1800, 7200, 18000, 36000];

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    pub id: String,
    pub org_node_id: String,
    pub url: String,
    /// Space-separated topic patterns; `*` matches everything, `org.*` a prefix.
    pub topics: String,
    pub description: String,
    pub active: bool,
    pub created_at: String,
    #[serde(skip)]
    pub org_path: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub id: String,
    pub subscription_id: String,
    pub event_id: String,
    pub topic: String,
    /// pending, succeeded, dead
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_attempt_at: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
}

const SUB_COLS: &str = "id, org_node_id, org_path, url, topics, description, active, created_at";
const DEL_COLS: &str = "id, subscription_id, event_id, topic, status, attempts, next_attempt_at, last_attempt_at, last_status, last_error, created_at";

fn sub_from_row(r: &boh_db::AnyRow) -> Result<Subscription> {
    Ok(Subscription {
        id: r.try_get("id")?,
        org_node_id: r.try_get("org_node_id")?,
        org_path: r.try_get("org_path")?,
        url: r.try_get("url")?,
        topics: r.try_get("topics")?,
        description: r.try_get("description")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
    })
}

fn del_from_row(r: &boh_db::AnyRow) -> Result<Delivery> {
    Ok(Delivery {
        id: r.try_get("id")?,
        subscription_id: r.try_get("subscription_id")?,
        event_id: r.try_get("event_id")?,
        topic: r.try_get("topic")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: boh_kernel::Instant(r.try_get("next_attempt_at")?).rfc3339(),
        last_attempt_at: boh_kernel::time::rfc3339_opt(r.try_get("last_attempt_at")?),
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
    })
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    /// Events from this node's subtree are sent.
    pub org_node_id: String,
    /// An `http://` or `https://` URL.
    #[schema(max_length = 2000, pattern = r"^https?://")]
    pub url: String,
    /// Space-separated topic patterns (default `*`).
    #[serde(default)]
    #[schema(max_length = 1000)]
    pub topics: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A subscription just created; the signing secret is shown this once.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CreatedSubscription {
    pub secret: String,
    #[serde(flatten)]
    pub subscription: Subscription,
}

pub async fn create(
    p: &Platform,
    ctx: &Ctx,
    input: NewSubscription,
) -> Result<CreatedSubscription> {
    let node = crate::org::get(p, &ctx.actor, &input.org_node_id).await?;
    if !ctx.actor.allows(perm::WEBHOOK_MANAGE, &node.path) {
        return Err(PlatformError::Forbidden(perm::WEBHOOK_MANAGE));
    }
    let mut errors = Vec::new();
    let url = input.url.trim().to_string();
    if !(url.starts_with("https://") || url.starts_with("http://"))
        || url.len() > 2000
        || url.parse::<hyper::Uri>().is_err()
    {
        errors.push(FieldError::new("url", "must be an http:// or https:// URL"));
    }
    let topics = input
        .topics
        .unwrap_or_else(|| "*".into())
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if topics.is_empty() || topics.len() > 1000 {
        errors.push(FieldError::new(
            "topics",
            "must list at least one topic pattern",
        ));
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(crate::util::random_token(24))
    );
    let id = new_id();
    let t = now().micros();
    let description = input.description.unwrap_or_default();
    crate::tx!(p.db, tx, {
        sqlx::query(
                "INSERT INTO webhook_subscriptions (id, org_node_id, org_path, url, secret, topics, description, active, created_at, created_by) \
                 VALUES ($1,$2,$3,$4,$5,$6,$7,1,$8,$9)",
            )
            .bind(&id).bind(&node.id).bind(&node.path).bind(&url).bind(&secret).bind(&topics).bind(&description).bind(t).bind(&ctx.actor.user_id)
            .execute(&mut *tx).await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "webhook.create",
                entity_type: "webhook_subscription",
                entity_id: &id,
                org_path: Some(&node.path),
                before: None,
                after: Some(json!({"url": url, "topics": topics})),
            },
        )
        .await?;
        crate::idem::mark_applied(tx, ctx).await?;
        Ok::<_, PlatformError>(())
    })?;
    Ok(CreatedSubscription {
        secret,
        subscription: get(p, &ctx.actor, &id).await?,
    })
}

pub async fn list(p: &Platform, actor: &Actor) -> Result<Vec<Subscription>> {
    let scope = actor.scope(perm::WEBHOOK_MANAGE);
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {SUB_COLS} FROM webhook_subscriptions WHERE {} ORDER BY created_at DESC",
        scope.sql("org_path")
    )))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(sub_from_row).collect()
}

pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Subscription> {
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {SUB_COLS} FROM webhook_subscriptions WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let s = sub_from_row(&row)?;
    if actor.allows(perm::WEBHOOK_MANAGE, &s.org_path) {
        Ok(s)
    } else {
        Err(PlatformError::NotFound)
    }
}

/// Switch a subscription on or off.
pub async fn set_active(p: &Platform, ctx: &Ctx, id: &str, active: bool) -> Result<Subscription> {
    let s = get(p, &ctx.actor, id).await?;
    crate::tx!(p.db, tx, {
        sqlx::query("UPDATE webhook_subscriptions SET active = $1 WHERE id = $2")
            .bind(i64::from(active))
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "webhook.set_active",
                entity_type: "webhook_subscription",
                entity_id: &s.id,
                org_path: Some(&s.org_path),
                before: Some(json!({"active": s.active})),
                after: Some(json!({"active": active})),
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    get(p, &ctx.actor, id).await
}

pub async fn deliveries(
    p: &Platform,
    actor: &Actor,
    subscription_id: &str,
    limit: i64,
) -> Result<Vec<Delivery>> {
    let s = get(p, actor, subscription_id).await?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {DEL_COLS} FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY created_at DESC LIMIT $2"
    )))
    .bind(&s.id)
    .bind(limit.clamp(1, 500))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(del_from_row).collect()
}

/// Send a delivery again now, whatever its state.
pub async fn replay(p: &Platform, ctx: &Ctx, delivery_id: &str) -> Result<Delivery> {
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {DEL_COLS} FROM webhook_deliveries WHERE id = $1"
    )))
    .bind(delivery_id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let d = del_from_row(&row)?;
    let s = get(p, &ctx.actor, &d.subscription_id).await?;
    crate::tx!(p.db, tx, {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1 WHERE id = $2",
        )
        .bind(now().micros())
        .bind(&d.id)
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            ctx,
            Change {
                action: "webhook.replay",
                entity_type: "webhook_delivery",
                entity_id: &d.id,
                org_path: Some(&s.org_path),
                before: Some(json!({"status": d.status})),
                after: Some(json!({"status": "pending"})),
            },
        )
        .await?;
        Ok::<_, PlatformError>(())
    })?;
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {DEL_COLS} FROM webhook_deliveries WHERE id = $1"
    )))
    .bind(delivery_id)
    .fetch_one(p.db.pool())
    .await?;
    del_from_row(&row)
}

fn topic_matches(patterns: &str, topic: &str) -> bool {
    patterns.split_whitespace().any(|pat| {
        pat == "*"
            || pat == topic
            || pat
                .strip_suffix('*')
                .is_some_and(|pre| topic.starts_with(pre))
    })
}

/// Create a pending delivery for every active subscription that covers the event (called by the
/// outbox dispatcher inside its transaction).
pub(crate) async fn fan_out(tx: &mut AnyConnection, e: &Event) -> Result<()> {
    let rows =
        sqlx::query("SELECT id, org_path, topics FROM webhook_subscriptions WHERE active = 1")
            .fetch_all(&mut *tx)
            .await?;
    let body = json!({ "type": e.topic, "timestamp": e.created_at, "data": e.payload }).to_string();
    for r in rows {
        let sub_path: String = r.try_get("org_path")?;
        let topics: String = r.try_get("topics")?;
        let in_scope = e
            .org_path
            .as_deref()
            .is_some_and(|p| p.starts_with(sub_path.as_str()));
        if in_scope && topic_matches(&topics, &e.topic) {
            let sid: String = r.try_get("id")?;
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, subscription_id, event_id, topic, payload, status, attempts, next_attempt_at, created_at) \
                 VALUES ($1,$2,$3,$4,$5,'pending',0,$6,$6) ON CONFLICT (subscription_id, event_id) DO NOTHING",
            )
            .bind(new_id()).bind(&sid).bind(&e.id).bind(&e.topic).bind(&body).bind(now().micros())
            .execute(&mut *tx)
            .await?;
        }
    }
    Ok(())
}

/// The `webhook-signature` value for a message.
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_")?)
        .ok()?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

type Client = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<bytes::Bytes>,
>;

fn client() -> Option<Client> {
    static CLIENT: std::sync::OnceLock<Option<Client>> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            let https = hyper_rustls::HttpsConnectorBuilder::new()
                .with_webpki_roots()
                .https_or_http()
                .enable_http1()
                .build();
            Some(
                hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                    .build(https),
            )
        })
        .clone()
}

async fn send(
    url: &str,
    secret: &str,
    msg_id: &str,
    body: &str,
) -> std::result::Result<u16, String> {
    let ts = now().micros() / 1_000_000;
    let sig = sign(secret, msg_id, ts, body).ok_or("bad secret")?;
    let req = hyper::Request::post(url)
        .header("content-type", "application/json")
        .header("user-agent", "BOH-Webhooks/1")
        .header("webhook-id", msg_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(Full::new(bytes::Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())?;
    let c = client().ok_or("no HTTP client")?;
    let resp = tokio::time::timeout(Duration::from_secs(10), c.request(req))
        .await
        .map_err(|_| "timed out after 10 s".to_string())?
        .map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let _ = resp.into_body().collect().await;
    Ok(status)
}

/// Attempt up to `limit` due deliveries; returns how many were attempted.
pub async fn deliver_due(p: &Platform, limit: i64) -> Result<usize> {
    let t = now().micros();
    // Claim: push next_attempt_at a minute ahead so no other worker takes the same delivery.
    let claimed = crate::tx!(p.db, tx, {
        let rows = sqlx::query(
                "SELECT d.id, d.event_id, d.payload, d.attempts, s.url, s.secret FROM webhook_deliveries d \
                 JOIN webhook_subscriptions s ON s.id = d.subscription_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at LIMIT $2",
            )
            .bind(t)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let id: String = r.try_get("id")?;
            let u = sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at <= $3 AND status = 'pending'")
                    .bind(t + 60_000_000).bind(&id).bind(t).execute(&mut *tx).await?;
            if u.rows_affected() == 1 {
                out.push((
                    id,
                    r.try_get::<String, _>("event_id")?,
                    r.try_get::<String, _>("payload")?,
                    r.try_get::<i64, _>("attempts")?,
                    r.try_get::<String, _>("url")?,
                    r.try_get::<String, _>("secret")?,
                ));
            }
        }
        Ok::<_, PlatformError>(out)
    })?;
    let n = claimed.len();
    for (id, event_id, payload, attempts, url, secret) in claimed {
        let outcome = send(&url, &secret, &event_id, &payload).await;
        let attempts = attempts + 1;
        let t = now().micros();
        let (status, code, err, next) = match outcome {
            Ok(code) if (200..300).contains(&code) => ("succeeded", Some(i64::from(code)), None, t),
            other => {
                let (code, err) = match other {
                    Ok(code) => (Some(i64::from(code)), format!("HTTP {code}")),
                    Err(e) => (None, e),
                };
                match usize::try_from(attempts - 1)
                    .ok()
                    .and_then(|i| RETRY_DELAYS.get(i))
                {
                    Some(delay) => ("pending", code, Some(err), t + delay * 1_000_000),
                    None => ("dead", code, Some(err), t),
                }
            }
        };
        crate::tx!(p.db, tx, {
            sqlx::query(
                    "UPDATE webhook_deliveries SET status=$1, attempts=$2, last_attempt_at=$3, last_status=$4, last_error=$5, next_attempt_at=$6 WHERE id=$7",
                )
                .bind(status).bind(attempts).bind(t).bind(code).bind(err.as_deref()).bind(next).bind(&id)
                .execute(&mut *tx)
                .await?;
            Ok::<_, PlatformError>(())
        })?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn topic_patterns() {
        assert!(topic_matches("*", "org.node.created"));
        assert!(topic_matches("org.*", "org.node.created"));
        assert!(topic_matches("a.b org.node.created", "org.node.created"));
        assert!(!topic_matches("inventory.*", "org.node.created"));
    }
}
