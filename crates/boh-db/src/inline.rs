//! Inline reads on SQLite: the hot point lookups of every request (token, record by id) run on
//! the calling thread through rusqlite, sharing sqlx's bundled SQLite build.
//!
//! Why: sqlx runs each SQLite connection on its own thread, so every query is two cross-thread
//! hand-offs; on a 2-core machine those context switches cost far more than the lookup itself
//! (a primary-key read from the page cache takes microseconds). WAL lets these readers run
//! beside sqlx's writer without blocking. On PostgreSQL (network round trips anyway) and for
//! in-memory SQLite databases there is no inline path and callers use the pool.
//!
//! Invariant: only short, indexed, read-only statements go through here (the connections are
//! `query_only`); anything that scans or writes uses the sqlx pool.

use std::sync::Mutex;

/// A small pool of read-only rusqlite connections to the same database file.
pub struct InlineReads {
    path: String,
    idle: Mutex<Vec<rusqlite::Connection>>,
}

impl std::fmt::Debug for InlineReads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InlineReads")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The database file of a `sqlite:` URL, or None for in-memory databases.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    Some(path.to_string())
}

impl InlineReads {
    pub fn new(path: String) -> InlineReads {
        InlineReads {
            path,
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open(&self) -> rusqlite::Result<rusqlite::Connection> {
        let c = rusqlite::Connection::open_with_flags(
            &self.path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        c.execute_batch("PRAGMA query_only = 1; PRAGMA case_sensitive_like = ON;")?;
        c.set_prepared_statement_cache_capacity(64);
        Ok(c)
    }

    /// Run `f` on a pooled connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, sqlx::Error> {
        let conn = self.idle.lock().ok().and_then(|mut v| v.pop());
        let conn = match conn {
            Some(c) => c,
            None => self.open().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        };
        let out = f(&conn).map_err(|e| sqlx::Error::Decode(Box::new(e)));
        if let Ok(mut v) = self.idle.lock()
            && v.len() < 16
        {
            v.push(conn);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_of_urls() {
        assert_eq!(sqlite_path("sqlite://boh.db").as_deref(), Some("boh.db"));
        assert_eq!(
            sqlite_path("sqlite:///tmp/x.db?mode=rwc").as_deref(),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://h/db"), None);
    }
}
