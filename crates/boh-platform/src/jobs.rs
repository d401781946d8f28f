//! Durable background jobs with leases, cron schedules and database locks.
//!
//! A job row is claimed by one worker at a time with a lease (`lease_owner`, `lease_until`); on
//! PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, on SQLite the write lock serialises
//! claimers. A worker that dies loses its lease and the job is claimed again. Long jobs report
//! progress through [`Progress`], which also extends the lease; the UI polls it.
//! Schedules fire by compare-and-set on `next_run_at`, so with several instances each firing
//! enqueues exactly one job.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use boh_db::{Backend, Row};
use boh_kernel::{Actor, new_id, now, perm};
use serde::Serialize;
use serde_json::Value;
use sqlx::AnyConnection;

use crate::{Platform, PlatformError, Result};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Job {
    pub id: String,
    pub kind: String,
    /// queued, running, succeeded, failed
    pub status: String,
    pub payload: Value,
    pub attempts: i64,
    pub progress_done: i64,
    pub progress_total: i64,
    pub progress_note: Option<String>,
    pub result: Option<Value>,
    pub error: Option<String>,
    pub created_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip)]
    pub org_path: Option<String>,
}

const COLS: &str = "id, kind, status, payload, attempts, progress_done, progress_total, progress_note, result, error, created_by, created_at, updated_at, org_path";

fn job_from_row(r: &boh_db::AnyRow) -> Result<Job> {
    let payload: String = r.try_get("payload")?;
    let result: Option<String> = r.try_get("result")?;
    Ok(Job {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        attempts: r.try_get("attempts")?,
        progress_done: r.try_get("progress_done")?,
        progress_total: r.try_get("progress_total")?,
        progress_note: r.try_get("progress_note")?,
        result: result.and_then(|s| serde_json::from_str(&s).ok()),
        error: r.try_get("error")?,
        created_by: r.try_get("created_by")?,
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        updated_at: boh_kernel::Instant(r.try_get("updated_at")?).rfc3339(),
        org_path: r.try_get("org_path")?,
    })
}

/// Enqueue a job in the caller's transaction.
pub async fn enqueue_tx(
    tx: &mut AnyConnection,
    kind: &str,
    payload: &Value,
    org_path: Option<&str>,
    created_by: Option<&str>,
) -> Result<String> {
    let id = new_id();
    let t = now().micros();
    sqlx::query(
        "INSERT INTO jobs (id, kind, payload, status, org_path, created_by, run_at, attempts, max_attempts, \
         progress_done, progress_total, created_at, updated_at) VALUES ($1,$2,$3,'queued',$4,$5,$6,0,3,0,0,$6,$6)",
    )
    .bind(&id).bind(kind).bind(payload.to_string()).bind(org_path).bind(created_by).bind(t)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Enqueue a job on its own.
pub async fn enqueue(
    p: &Platform,
    kind: &str,
    payload: &Value,
    org_path: Option<&str>,
    created_by: Option<&str>,
) -> Result<String> {
    crate::tx!(p.db, tx, {
        enqueue_tx(tx, kind, payload, org_path, created_by).await
    })
}

/// A job the actor may see: their own, or one inside their `job.read` scope.
pub async fn get(p: &Platform, actor: &Actor, id: &str) -> Result<Job> {
    let row = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM jobs WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let job = job_from_row(&row)?;
    if visible(actor, &job) {
        Ok(job)
    } else {
        Err(PlatformError::NotFound)
    }
}

fn visible(actor: &Actor, job: &Job) -> bool {
    job.created_by.as_deref() == Some(actor.user_id.as_str())
        || match &job.org_path {
            Some(path) => actor.allows(perm::JOB_READ, path),
            None => actor.allows(perm::JOB_READ, "/"),
        }
}

/// Recent jobs the actor may see.
pub async fn list(p: &Platform, actor: &Actor, limit: i64) -> Result<Vec<Job>> {
    let scope = actor.scope(perm::JOB_READ);
    let global = if scope.is_global() {
        "OR org_path IS NULL"
    } else {
        ""
    };
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT {COLS} FROM jobs WHERE created_by = $1 OR {} {global} ORDER BY id DESC LIMIT $2",
        scope.sql("org_path")
    )))
    .bind(&actor.user_id)
    .bind(limit.clamp(1, 500))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter().map(job_from_row).collect()
}

/// Claim the next due job (or one whose lease ran out) for `owner`.
pub async fn claim(p: &Platform, owner: &str, lease_secs: i64) -> Result<Option<Job>> {
    let t = now().micros();
    let lock = if p.db.backend() == Backend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3 \
         WHERE id = (SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $3) OR (status = 'running' AND lease_until < $3) \
         ORDER BY run_at LIMIT 1{lock}) RETURNING {COLS}"
    );
    crate::tx!(p.db, tx, {
        let row = sqlx::query(boh_db::AssertSqlSafe(sql.clone()))
            .bind(owner)
            .bind(t + lease_secs * 1_000_000)
            .bind(t)
            .fetch_optional(&mut *tx)
            .await?;
        row.as_ref().map(job_from_row).transpose()
    })
}

/// Progress reporting for a running job; each report also extends the lease.
#[derive(Clone)]
pub struct Progress {
    p: Platform,
    id: String,
    owner: String,
}

impl Progress {
    pub async fn set(&self, done: i64, total: i64, note: Option<&str>) -> Result<()> {
        let t = now().micros();
        crate::tx!(self.p.db, tx, {
            sqlx::query(
                    "UPDATE jobs SET progress_done = $1, progress_total = $2, progress_note = $3, updated_at = $4, \
                     lease_until = $5 WHERE id = $6 AND lease_owner = $7",
                )
                .bind(done).bind(total).bind(note).bind(t).bind(t + 120_000_000).bind(&self.id).bind(&self.owner)
                .execute(&mut *tx)
                .await?;
            Ok::<_, PlatformError>(())
        })
    }
}

async fn finish(
    p: &Platform,
    job: &Job,
    owner: &str,
    outcome: std::result::Result<Value, String>,
    max_attempts: i64,
) -> Result<()> {
    let t = now().micros();
    crate::tx!(p.db, tx, {
        match &outcome {
            Ok(v) => {
                sqlx::query("UPDATE jobs SET status='succeeded', result=$1, error=NULL, lease_owner=NULL, lease_until=NULL, updated_at=$2, \
                                 progress_done=CASE WHEN progress_total > 0 THEN progress_total ELSE progress_done END WHERE id=$3 AND lease_owner=$4")
                        .bind(v.to_string()).bind(t).bind(&job.id).bind(owner).execute(&mut *tx).await?;
            }
            Err(e) if job.attempts < max_attempts => {
                let delay = 10_000_000i64 << job.attempts.clamp(0, 10);
                sqlx::query("UPDATE jobs SET status='queued', error=$1, lease_owner=NULL, lease_until=NULL, run_at=$2, updated_at=$3 WHERE id=$4 AND lease_owner=$5")
                        .bind(e).bind(t + delay).bind(t).bind(&job.id).bind(owner).execute(&mut *tx).await?;
            }
            Err(e) => {
                sqlx::query("UPDATE jobs SET status='failed', error=$1, lease_owner=NULL, lease_until=NULL, updated_at=$2 WHERE id=$3 AND lease_owner=$4")
                        .bind(e).bind(t).bind(&job.id).bind(owner).execute(&mut *tx).await?;
            }
        }
        Ok::<_, PlatformError>(())
    })
}

/// How often a job runs before it is marked failed. A handler that keeps its own record of the
/// outcome (imports) compares [`Job::attempts`] with it to know the last attempt.
pub const MAX_ATTEMPTS: i64 = 3;

pub type JobFuture = Pin<Box<dyn Future<Output = std::result::Result<Value, String>> + Send>>;
pub type JobHandler = Arc<dyn Fn(Platform, Job, Progress) -> JobFuture + Send + Sync>;

/// Job handlers by kind.
#[derive(Default, Clone)]
pub struct Registry {
    handlers: HashMap<String, JobHandler>,
}

impl Registry {
    pub fn register(
        &mut self,
        kind: &str,
        f: impl Fn(Platform, Job, Progress) -> JobFuture + Send + Sync + 'static,
    ) {
        self.handlers.insert(kind.to_string(), Arc::new(f));
    }
    pub fn kinds(&self) -> Vec<String> {
        let mut k: Vec<String> = self.handlers.keys().cloned().collect();
        k.sort();
        k
    }
}

/// Run one claimed job to completion. Returns false when nothing was due.
pub async fn run_one(p: &Platform, registry: &Registry, owner: &str) -> Result<bool> {
    let Some(job) = claim(p, owner, 120).await? else {
        return Ok(false);
    };
    let progress = Progress {
        p: p.clone(),
        id: job.id.clone(),
        owner: owner.to_string(),
    };
    let outcome = match registry.handlers.get(&job.kind) {
        Some(h) => {
            let fut = h(p.clone(), job.clone(), progress);
            match tokio::spawn(fut).await {
                Ok(r) => r,
                Err(e) => Err(format!("job panicked: {e}")),
            }
        }
        None => Err(format!("no handler for job kind {}", job.kind)),
    };
    if let Err(e) = &outcome {
        tracing::warn!(job = %job.id, kind = %job.kind, "job failed: {e}");
    }
    finish(p, &job, owner, outcome, MAX_ATTEMPTS).await?;
    Ok(true)
}

// ---------------------------------------------------------------- schedules

fn next_after(cron: &str, after: jiff::Timestamp) -> Result<i64> {
    let c: croner::Cron = cron
        .parse()
        .map_err(|e: croner::errors::CronError| PlatformError::invalid("cron", e.to_string()))?;
    let t = chrono_from(after);
    let next = c
        .find_next_occurrence(&t, false)
        .map_err(|e| PlatformError::invalid("cron", e.to_string()))?;
    Ok(next.timestamp_micros())
}

fn chrono_from(ts: jiff::Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::<chrono::Utc>::from_timestamp_micros(ts.as_microsecond()).unwrap_or_default()
}

/// Create or update a cron schedule (standard 5-field cron, UTC).
pub async fn ensure_schedule(
    p: &Platform,
    name: &str,
    cron: &str,
    kind: &str,
    payload: &Value,
) -> Result<()> {
    let next = next_after(cron, jiff::Timestamp::now())?;
    crate::tx!(p.db, tx, {
        sqlx::query(
                "INSERT INTO job_schedules (name, cron, kind, payload, next_run_at) VALUES ($1,$2,$3,$4,$5) \
                 ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, kind = excluded.kind, payload = excluded.payload",
            )
            .bind(name).bind(cron).bind(kind).bind(payload.to_string()).bind(next)
            .execute(&mut *tx)
            .await?;
        Ok::<_, PlatformError>(())
    })
}

/// Remove a schedule (nothing when there is none); jobs it already enqueued still run.
pub async fn remove_schedule(p: &Platform, name: &str) -> Result<()> {
    crate::tx!(p.db, tx, {
        sqlx::query("DELETE FROM job_schedules WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await?;
        Ok::<_, PlatformError>(())
    })
}

/// Enqueue a job for every schedule that is due; safe to call from several instances at once.
pub async fn tick_schedules(p: &Platform) -> Result<usize> {
    let t = now().micros();
    let due = sqlx::query(
        "SELECT name, cron, kind, payload, next_run_at FROM job_schedules WHERE next_run_at <= $1",
    )
    .bind(t)
    .fetch_all(p.db.pool())
    .await?;
    let mut fired = 0;
    for r in due {
        let name: String = r.try_get("name")?;
        let cron: String = r.try_get("cron")?;
        let kind: String = r.try_get("kind")?;
        let payload: String = r.try_get("payload")?;
        let old: i64 = r.try_get("next_run_at")?;
        let next = next_after(&cron, jiff::Timestamp::now())?;
        let won = crate::tx!(p.db, tx, {
            let u = sqlx::query("UPDATE job_schedules SET next_run_at = $1, last_run_at = $2 WHERE name = $3 AND next_run_at = $4")
                    .bind(next).bind(t).bind(&name).bind(old).execute(&mut *tx).await?;
            if u.rows_affected() == 1 {
                let v: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
                enqueue_tx(tx, &kind, &v, None, None).await?;
                return Ok::<_, PlatformError>(true);
            }
            Ok(false)
        })?;
        if won {
            fired += 1;
        }
    }
    Ok(fired)
}

// ---------------------------------------------------------------- locks

/// Take (or renew) a named lock for `ttl_secs`. True when `owner` holds it afterwards.
pub async fn try_lock(p: &Platform, name: &str, owner: &str, ttl_secs: i64) -> Result<bool> {
    let t = now().micros();
    crate::tx!(p.db, tx, {
        sqlx::query(
                "INSERT INTO locks (name, owner, expires_at) VALUES ($1,$2,$3) ON CONFLICT (name) DO UPDATE \
                 SET owner = excluded.owner, expires_at = excluded.expires_at WHERE locks.owner = excluded.owner OR locks.expires_at < $4",
            )
            .bind(name).bind(owner).bind(t + ttl_secs * 1_000_000).bind(t)
            .execute(&mut *tx)
            .await?;
        let holder: String = sqlx::query("SELECT owner FROM locks WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?
            .try_get("owner")?;
        Ok::<_, PlatformError>(holder == owner)
    })
}

pub async fn unlock(p: &Platform, name: &str, owner: &str) -> Result<()> {
    crate::tx!(p.db, tx, {
        sqlx::query("DELETE FROM locks WHERE name = $1 AND owner = $2")
            .bind(name)
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        Ok::<_, PlatformError>(())
    })
}

// ---------------------------------------------------------------- the worker

/// The background loop every `boh serve` runs: dispatch outbox events, deliver webhooks, fire
/// schedules and run jobs, until `stop` turns true.
pub async fn run_worker(p: Platform, registry: Registry, stop: tokio::sync::watch::Receiver<bool>) {
    let owner = format!("{}-{}", std::process::id(), new_id());
    loop {
        if *stop.borrow() {
            break;
        }
        let mut busy = false;
        match crate::events::dispatch_pending(&p, 200).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!("outbox dispatch: {e}"),
        }
        match crate::webhooks::deliver_due(&p, 20).await {
            Ok(n) => busy |= n > 0,
            Err(e) => tracing::warn!("webhook delivery: {e}"),
        }
        if let Err(e) = tick_schedules(&p).await {
            tracing::warn!("schedules: {e}");
        }
        match run_one(&p, &registry, &owner).await {
            Ok(ran) => busy |= ran,
            Err(e) => tracing::warn!("jobs: {e}"),
        }
        if !busy {
            let mut stop = stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

/// Run everything pending until nothing is left (tests and the CLI).
pub async fn drain(p: &Platform, registry: &Registry) -> Result<()> {
    for _ in 0..1000 {
        let a = crate::events::dispatch_pending(p, 500).await?;
        let b = crate::webhooks::deliver_due(p, 50).await?;
        let c = run_one(p, registry, "drain").await?;
        if a == 0 && b == 0 && !c {
            break;
        }
    }
    Ok(())
}
