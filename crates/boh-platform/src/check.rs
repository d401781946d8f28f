//! Invariant checkers: named whole-database checks that must hold at any moment between
//! transactions (after a crash and restart too). `boh check` runs every registered checker and
//! exits non-zero when one fails; the crash test runs them after every restart.
//!
//! The platform registers its own ([`Registry::platform`]): the SQLite file's integrity and
//! foreign keys, and the audit chain. A business module adds its own with [`Registry::register`]
//! (e.g. inventory: on-hand equals the sum of movements), from the binary's `check_registry`.

use std::future::Future;
use std::pin::Pin;

use boh_db::{Backend, Row};
use serde::Serialize;

use crate::{Platform, Result};

/// What one checker found.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// One line: what was checked, or what is wrong.
    pub detail: String,
}

impl Outcome {
    pub fn ok(detail: impl Into<String>) -> Outcome {
        Outcome {
            ok: true,
            detail: detail.into(),
        }
    }
    pub fn failed(detail: impl Into<String>) -> Outcome {
        Outcome {
            ok: false,
            detail: detail.into(),
        }
    }
}

/// A checker's result under its name.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

type CheckFn =
    Box<dyn Fn(Platform) -> Pin<Box<dyn Future<Output = Result<Outcome>> + Send>> + Send + Sync>;

/// The checkers, run in the order they were registered.
#[derive(Default)]
pub struct Registry {
    checks: Vec<(String, CheckFn)>,
}

impl Registry {
    /// The platform's own checkers.
    pub fn platform() -> Registry {
        let mut r = Registry::default();
        r.register("db.integrity", |p| {
            Box::pin(async move { integrity(&p).await })
        });
        r.register("db.foreign_keys", |p| {
            Box::pin(async move { foreign_keys(&p).await })
        });
        r.register("audit.chain", |p| {
            Box::pin(async move { audit_chain(&p).await })
        });
        r
    }

    /// Add a checker. It reads only (it may run while the application serves) and answers
    /// `Ok(Outcome::failed(..))` for a broken invariant, `Err` when it could not check.
    pub fn register<F>(&mut self, name: &str, f: F)
    where
        F: Fn(Platform) -> Pin<Box<dyn Future<Output = Result<Outcome>> + Send>>
            + Send
            + Sync
            + 'static,
    {
        self.checks.push((name.to_string(), Box::new(f)));
    }

    pub fn names(&self) -> Vec<&str> {
        self.checks.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// Run every checker; one that could not run is reported as failed with the error.
    pub async fn run(&self, p: &Platform) -> Vec<Report> {
        let mut out = Vec::with_capacity(self.checks.len());
        for (name, f) in &self.checks {
            let (ok, detail) = match f(p.clone()).await {
                Ok(o) => (o.ok, o.detail),
                Err(e) => (false, format!("could not check: {e}")),
            };
            out.push(Report {
                name: name.clone(),
                ok,
                detail,
            });
        }
        out
    }
}

/// SQLite: `PRAGMA integrity_check` answers `ok`. PostgreSQL keeps its own page checksums.
async fn integrity(p: &Platform) -> Result<Outcome> {
    if p.db.backend() != Backend::Sqlite {
        return Ok(Outcome::ok("not applicable on PostgreSQL"));
    }
    let rows = sqlx::query("PRAGMA integrity_check")
        .fetch_all(p.db.pool())
        .await?;
    let lines: Vec<String> = rows
        .iter()
        .map(|r| r.try_get::<String, _>(0))
        .collect::<std::result::Result<_, _>>()?;
    if lines == ["ok"] {
        Ok(Outcome::ok("integrity_check: ok"))
    } else {
        Ok(Outcome::failed(format!(
            "integrity_check: {}",
            lines.join("; ")
        )))
    }
}

/// SQLite: `PRAGMA foreign_key_check` finds no row. PostgreSQL enforces foreign keys at commit.
async fn foreign_keys(p: &Platform) -> Result<Outcome> {
    if p.db.backend() != Backend::Sqlite {
        return Ok(Outcome::ok("enforced by PostgreSQL"));
    }
    let rows = sqlx::query("PRAGMA foreign_key_check")
        .fetch_all(p.db.pool())
        .await?;
    if rows.is_empty() {
        return Ok(Outcome::ok("foreign_key_check: no violations"));
    }
    let first: Vec<String> = rows
        .iter()
        .take(5)
        .map(|r| {
            let table: String = r.try_get(0).unwrap_or_default();
            let parent: String = r.try_get(2).unwrap_or_default();
            format!("{table} -> {parent}")
        })
        .collect();
    Ok(Outcome::failed(format!(
        "foreign_key_check: {} violations, e.g. {}",
        rows.len(),
        first.join(", ")
    )))
}

async fn audit_chain(p: &Platform) -> Result<Outcome> {
    let r = crate::audit::verify(&p.db, None, |_, _| {}).await?;
    if r.ok {
        Ok(Outcome::ok(format!(
            "{} rows, head {}:{}",
            r.rows, r.head_seq, r.head_hash
        )))
    } else {
        Ok(Outcome::failed(format!(
            "broken at row {}: {}",
            r.first_bad_seq.unwrap_or_default(),
            r.problem.unwrap_or_default()
        )))
    }
}
