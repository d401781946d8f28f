//! Group commit: writes of one kind that queue up while another is running are applied
//! together, in one write transaction, by whichever caller gets the turn first.
//!
//! Why: on SQLite a process has one writer at a time (the write gate in `boh_db`), and much of
//! a small write transaction's cost is fixed: `BEGIN IMMEDIATE`, the commit's WAL frames for
//! pages every such write touches (rollup rows, ledger indexes, the audit and event tails),
//! the hand-offs to the connection's thread. Under load the callers waiting for the gate pay
//! that once per group instead of once each.
//!
//! Invariants:
//! - A caller's answer is delivered only after the transaction that applied its job committed;
//!   an acknowledged write is a committed one.
//! - One job's failure never fails another's: a group whose job fails (or whose commit fails)
//!   rolls back whole, and each of its jobs then runs alone in its own transaction, so each
//!   caller gets exactly the answer it would have got without grouping.
//! - Transient conflicts retry as in `tx!`.
//! - Nothing here outlives a request: the queue only holds jobs whose callers are waiting, so
//!   several processes on one database need nothing from each other (each groups its own).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use sqlx::AnyConnection;
use tokio::sync::oneshot;

use crate::{PlatformError, Result};

/// A boxed future borrowing the transaction's connection.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How many units (e.g. sale lines) one group may hold at most; a leader whose own job is
/// left over runs another group.
pub const DEFAULT_GROUP_UNITS: usize = 16_000;

struct Pending<J, R> {
    job: J,
    units: usize,
    reply: oneshot::Sender<Result<R>>,
}

/// The queue and the leader's turn for one kind of write. Keep one per [`crate::Platform`]
/// (see [`crate::Platform::shared`]).
pub struct Group<J, R> {
    queue: Mutex<Vec<Pending<J, R>>>,
    leader: std::sync::Arc<tokio::sync::Mutex<()>>,
    max_units: usize,
}

impl<J, R> Default for Group<J, R> {
    fn default() -> Self {
        Group {
            queue: Mutex::new(Vec::new()),
            leader: std::sync::Arc::new(tokio::sync::Mutex::new(())),
            max_units: DEFAULT_GROUP_UNITS,
        }
    }
}

impl<J: Send + Sync + 'static, R: Send + 'static> Group<J, R> {
    /// Apply `job` (worth `units` towards the group limit) with `run`, grouped with whatever
    /// else is queued. `run` must be the same function for every job of this group: the
    /// leader applies the others' jobs with its own.
    ///
    /// The group runs on a task of its own, so a leader whose request is dropped (its client
    /// went away) neither rolls back nor leaves unanswered the jobs it took from the queue.
    pub async fn submit<F>(&self, db: &boh_db::Db, job: J, units: usize, run: F) -> Result<R>
    where
        F: for<'a> Fn(&'a mut AnyConnection, &'a J) -> BoxFuture<'a, Result<R>>
            + Send
            + Sync
            + 'static,
    {
        let run = std::sync::Arc::new(run);
        let (reply, mut rx) = oneshot::channel();
        self.queue
            .lock()
            .expect("group queue poisoned")
            .push(Pending { job, units, reply });
        loop {
            let turn = tokio::select! {
                biased;
                r = &mut rx => return r.unwrap_or_else(|_| Err(dropped())),
                t = self.leader.clone().lock_owned() => t,
            };
            // A leader that finished our job answered before giving up its turn.
            if let Ok(r) = rx.try_recv() {
                return r;
            }
            let batch = self.take();
            if !batch.is_empty() {
                let (db, run) = (db.clone(), run.clone());
                let group = tokio::spawn(async move {
                    run_group(&db, batch, &*run).await;
                    drop(turn);
                });
                // A panic in the group drops its replies; the callers then get an error.
                let _ = group.await;
            } else {
                drop(turn);
            }
            if let Ok(r) = rx.try_recv() {
                return r;
            }
        }
    }

    /// The oldest queued jobs, up to the unit limit (at least one).
    fn take(&self) -> Vec<Pending<J, R>> {
        let mut q = self.queue.lock().expect("group queue poisoned");
        let mut units = 0;
        let mut n = 0;
        for p in q.iter() {
            if n > 0 && units + p.units > self.max_units {
                break;
            }
            units += p.units;
            n += 1;
        }
        q.drain(..n).collect()
    }
}

fn dropped() -> PlatformError {
    PlatformError::Internal(anyhow::anyhow!("group commit ended without an answer"))
}

/// Whether an error is a transient conflict that a fresh transaction may not meet.
fn transient(e: &PlatformError) -> bool {
    matches!(e, PlatformError::Db(d) if boh_db::is_transient(d))
}

async fn run_group<J, R, F>(db: &boh_db::Db, batch: Vec<Pending<J, R>>, run: &F)
where
    F: for<'a> Fn(&'a mut AnyConnection, &'a J) -> BoxFuture<'a, Result<R>>,
{
    tracing::trace!(jobs = batch.len(), "group commit");
    if batch.len() > 1 {
        // On failure the group was rolled back whole and every job runs alone below.
        if let Ok(results) = together(db, &batch, run).await {
            for (p, r) in batch.into_iter().zip(results) {
                let _ = p.reply.send(Ok(r));
            }
            return;
        }
    }
    for p in batch {
        let r = alone(db, &p.job, run).await;
        let _ = p.reply.send(r);
    }
}

/// All jobs in one transaction; `Err` when any of them or the commit failed (rolled back).
async fn together<J, R, F>(
    db: &boh_db::Db,
    batch: &[Pending<J, R>],
    run: &F,
) -> std::result::Result<Vec<R>, ()>
where
    F: for<'a> Fn(&'a mut AnyConnection, &'a J) -> BoxFuture<'a, Result<R>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut t = match db.begin_write(attempt).await {
            Ok(t) => t,
            Err(boh_db::Begin::Retry) => continue,
            Err(boh_db::Begin::Failed(_)) => return Err(()),
        };
        let mut out = Vec::with_capacity(batch.len());
        let mut failed: Option<PlatformError> = None;
        for p in batch {
            match run(&mut t, &p.job).await {
                Ok(r) => out.push(r),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let r: Result<Vec<R>> = match failed {
            None => Ok(out),
            // A transient failure retries the group; any other sends every job alone.
            Some(e) if transient(&e) => Err(e),
            Some(_) => {
                let _ = db
                    .end_write::<(), sqlx::Error>(t, Err(sqlx::Error::RowNotFound), u32::MAX)
                    .await;
                return Err(());
            }
        };
        match db.end_write(t, r, attempt).await {
            boh_db::End::Retry => continue,
            boh_db::End::Done(Ok(v)) => return Ok(v),
            boh_db::End::Done(Err(_)) => return Err(()),
        }
    }
}

/// One job in its own transaction, as `tx!` would run it.
async fn alone<J, R, F>(db: &boh_db::Db, job: &J, run: &F) -> Result<R>
where
    F: for<'a> Fn(&'a mut AnyConnection, &'a J) -> BoxFuture<'a, Result<R>>,
{
    crate::tx!(*db, tx, { run(tx, job).await })
}
