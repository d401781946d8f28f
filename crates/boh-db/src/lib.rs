//! The database layer: one [`Db`] handle over SQLite (embedded default) or PostgreSQL, chosen at
//! run time from the URL, with both drivers compiled into every build.
//!
//! Invariants:
//! - Every write goes through [`Db::begin_write`] / [`Db::end_write`] (the `tx!` macro): on SQLite it opens the transaction with
//!   `BEGIN IMMEDIATE` (so two writers never deadlock on a lock upgrade), and on both backends it
//!   retries a bounded number of times on SQLITE_BUSY, serialization failures (40001) and
//!   deadlocks (40P01).
//! - SQL is portable: `$n` placeholders, BIGINT/TEXT/DOUBLE PRECISION columns, `CAST(SUM(..) AS
//!   BIGINT)`. Where dialects differ, code branches on [`Db::backend`].
//! - The two migration trees (`migrations/sqlite`, `migrations/postgres`) carry the same versions.

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

pub use sqlx;
pub use sqlx::{AssertSqlSafe, Row, any::AnyRow};

pub mod backup;
pub mod inline;

pub use rusqlite;

/// Which engine a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL scheme (expected sqlite:// or postgres://): {0}")]
    BadUrl(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Shared database handle; cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    inline: Option<std::sync::Arc<inline::InlineReads>>,
    /// SQLite: one write transaction of this process at a time. Writers wait here, without a
    /// pool connection and without SQLite's sleeping busy handler, and start the moment the
    /// previous one ends. Other processes on the same file still meet `BEGIN IMMEDIATE` and
    /// the busy timeout, so correctness never depends on this gate.
    write_gate: Option<std::sync::Arc<tokio::sync::Semaphore>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Hide the password in a database URL for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

const MAX_ATTEMPTS: u32 = 8;

impl Db {
    /// Connect and migrate. `sqlite://path` creates the file when missing.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(DbError::BadUrl(redact_url(url)));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") && !url.contains(":memory:") => {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            }
            _ => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url)?;
        // Pool size: `BOH_DB_MAX_CONNECTIONS`, else 4 on SQLite (one writer at a time anyway;
        // every connection is a thread, so fewer means fewer hand-offs) and 16 on PostgreSQL.
        let max_conns = std::env::var("BOH_DB_MAX_CONNECTIONS")
            .ok()
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|n| *n > 0);
        let pool = match backend {
            Backend::Sqlite => {
                AnyPoolOptions::new()
                    .max_connections(max_conns.unwrap_or(4))
                    .min_connections(1)
                    // A ping before every acquire is one more hand-off to the connection's
                    // worker thread per query; an embedded file has no network to go stale.
                    .test_before_acquire(false)
                    // `case_sensitive_like`: LIKE compares as on PostgreSQL (searches lower
                    // both sides), and a scope's `path LIKE '/a/b/%'` can then read a range of
                    // an index on the path column instead of testing every row.
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; \
                                 PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON; \
                                 PRAGMA case_sensitive_like=ON;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(opts)
                    .await?
            }
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(max_conns.unwrap_or(16))
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(opts)
                    .await?
            }
        };
        let inline = match backend {
            Backend::Sqlite => {
                inline::sqlite_path(&url).map(|p| std::sync::Arc::new(inline::InlineReads::new(p)))
            }
            Backend::Postgres => None,
        };
        let write_gate = match backend {
            Backend::Sqlite => Some(std::sync::Arc::new(tokio::sync::Semaphore::new(1))),
            Backend::Postgres => None,
        };
        Ok(Db {
            pool,
            backend,
            inline,
            write_gate,
        })
    }

    /// Apply pending migrations of the matching tree. Safe to run from several processes at once
    /// (PostgreSQL takes an advisory lock; SQLite serialises writers).
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("../../migrations/sqlite")
                    .run(&self.pool)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("../../migrations/postgres")
                    .run(&self.pool)
                    .await?
            }
        }
        Ok(())
    }

    /// Versions of the migrations compiled into this binary, per backend.
    pub fn migration_versions() -> (Vec<i64>, Vec<i64>) {
        let s = sqlx::migrate!("../../migrations/sqlite")
            .iter()
            .map(|m| m.version)
            .collect();
        let p = sqlx::migrate!("../../migrations/postgres")
            .iter()
            .map(|m| m.version)
            .collect();
        (s, p)
    }

    /// Run a short indexed read on the calling thread (SQLite files only, see [`inline`]);
    /// `None` means "use the pool".
    pub fn inline_read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Option<Result<T, sqlx::Error>> {
        self.inline.as_ref().map(|r| r.read(f))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads. Writes go through [`Db::begin_write`].
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Open a write transaction (`BEGIN IMMEDIATE` on SQLite). Transient failures within the
    /// retry budget sleep with backoff and answer [`Begin::Retry`]. Use through
    /// `boh_platform::tx!`, which loops over [`Db::begin_write`] and [`Db::end_write`].
    pub async fn begin_write(&self, attempt: u32) -> Result<WriteTx, Begin> {
        let permit = match &self.write_gate {
            Some(g) => Some(
                g.clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| Begin::Failed(sqlx::Error::PoolClosed))?,
            ),
            None => None,
        };
        let begun = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        match begun {
            Ok(tx) => Ok(WriteTx {
                tx,
                _permit: permit,
            }),
            Err(e) if is_transient(&e) && attempt < MAX_ATTEMPTS => {
                drop(permit);
                backoff(attempt).await;
                Err(Begin::Retry)
            }
            Err(e) => Err(Begin::Failed(e)),
        }
    }

    /// Commit on `Ok`, roll back on `Err`; answer [`End::Retry`] when the failure was a
    /// transient conflict and the retry budget allows another attempt.
    pub async fn end_write<T, E>(
        &self,
        tx: WriteTx,
        result: Result<T, E>,
        attempt: u32,
    ) -> End<Result<T, E>>
    where
        E: From<sqlx::Error> + AsDbError,
    {
        let WriteTx { tx, _permit } = tx;
        match result {
            Ok(v) => {
                let committed = tx.commit().await;
                drop(_permit);
                match committed {
                    Ok(()) => End::Done(Ok(v)),
                    Err(e) if is_transient(&e) && attempt < MAX_ATTEMPTS => {
                        backoff(attempt).await;
                        End::Retry
                    }
                    Err(e) => End::Done(Err(E::from(e))),
                }
            }
            Err(e) => {
                let _ = tx.rollback().await;
                drop(_permit);
                match e.as_db_error() {
                    Some(se) if is_transient(se) && attempt < MAX_ATTEMPTS => {
                        backoff(attempt).await;
                        End::Retry
                    }
                    _ => End::Done(Err(e)),
                }
            }
        }
    }
}

/// An open write transaction (with this process's SQLite write turn, released when it ends).
pub struct WriteTx {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    _permit: Option<tokio::sync::OwnedSemaphorePermit>,
}

impl std::ops::Deref for WriteTx {
    type Target = sqlx::AnyConnection;
    fn deref(&self) -> &sqlx::AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }
}

/// Outcome of [`Db::begin_write`] when no transaction was opened.
#[derive(Debug)]
pub enum Begin {
    Retry,
    Failed(sqlx::Error),
}

/// Outcome of [`Db::end_write`].
#[derive(Debug)]
pub enum End<R> {
    Retry,
    Done(R),
}

/// Lets [`Db::end_write`] see whether an application error wraps a retryable database error.
pub trait AsDbError {
    fn as_db_error(&self) -> Option<&sqlx::Error>;
}

impl AsDbError for sqlx::Error {
    fn as_db_error(&self) -> Option<&sqlx::Error> {
        Some(self)
    }
}

impl AsDbError for DbError {
    fn as_db_error(&self) -> Option<&sqlx::Error> {
        match self {
            DbError::Sqlx(e) => Some(e),
            _ => None,
        }
    }
}

/// SQLITE_BUSY (5, and its extended codes), SQLITE_LOCKED (6), serialization failure (40001),
/// deadlock (40P01).
pub fn is_transient(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            matches!(code.as_str(), "5" | "6" | "261" | "517" | "40001" | "40P01")
                || db.message().contains("database is locked")
        }
        _ => false,
    }
}

/// True for a unique-constraint violation on either backend.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            matches!(code.as_str(), "2067" | "1555" | "23505")
        }
        _ => false,
    }
}

async fn backoff(attempt: u32) {
    let base = 5u64 << attempt.min(6);
    let jitter = u64::from(std::process::id() % 7) + u64::from(attempt);
    tokio::time::sleep(Duration::from_millis(base + jitter)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_trees_have_identical_versions() {
        let (s, p) = Db::migration_versions();
        assert!(!s.is_empty());
        assert_eq!(
            s, p,
            "migrations/sqlite and migrations/postgres must list the same versions"
        );
    }

    /// LIKE is case-sensitive on SQLite as on PostgreSQL, and a literal prefix reads a range of
    /// an index (a scope over materialised paths) instead of every row.
    #[tokio::test]
    async fn sqlite_like_is_case_sensitive_and_uses_an_index() {
        let file = std::env::temp_dir().join(format!(
            "boh-like-{}-{}.db",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos()
        ));
        let db = Db::connect(&format!("sqlite://{}", file.display()))
            .await
            .unwrap();
        let pool = db.pool();
        // One connection throughout: EXPLAIN on another one may plan against the schema it
        // read before the index existed (an EXPLAIN does not check the schema cookie).
        let mut c = pool.acquire().await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT CASE WHEN 'abc' LIKE 'ABC' THEN 1 ELSE 0 END")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!(n, 0, "LIKE must not fold case");
        sqlx::query("CREATE TABLE t (path TEXT NOT NULL)")
            .execute(&mut *c)
            .await
            .unwrap();
        sqlx::query("CREATE INDEX t_path ON t(path)")
            .execute(&mut *c)
            .await
            .unwrap();
        use sqlx::Row;
        let plan: Vec<String> =
            sqlx::query("EXPLAIN QUERY PLAN SELECT COUNT(*) FROM t WHERE path LIKE '/a/b/%'")
                .fetch_all(&mut *c)
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get::<String, _>("detail").unwrap_or_default())
                .collect();
        assert!(
            plan.iter()
                .any(|d| d.contains("SEARCH") && d.contains("t_path")),
            "{plan:?}"
        );
        drop(c);
        pool.close().await;
        for ext in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{ext}", file.display()));
        }
    }

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact_url("postgres://u:secret@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(redact_url("sqlite://boh.db"), "sqlite://boh.db");
    }
}
