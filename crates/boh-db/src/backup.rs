//! Logical backup and restore that works across backends (a SQLite backup restores into
//! PostgreSQL and back). The format is JSON Lines: a header, then for each table a line naming
//! its columns followed by one JSON array per row. Binary values (uploaded files) are written
//! as `{"base64": "…"}`.
//!
//! Restore runs in one transaction with foreign keys deferred, replaces every table's contents,
//! and refuses a backup taken by a newer schema than the target has.

use std::io::{BufRead, Write};

use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::{Column, Row};

use crate::{Backend, Db};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("line {line}: {message}")]
    Format { line: usize, message: String },
    #[error(
        "the backup needs migration {0}, which this database has not applied; upgrade boh first"
    )]
    NewerSchema(i64),
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    backend: String,
    migrations: Vec<i64>,
    created_at: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableLine {
    table: String,
    columns: Vec<String>,
    rows: u64,
}

/// Application tables in creation order (a valid order for foreign keys).
pub async fn tables(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let sql = match db.backend() {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%' ORDER BY rowid"
        }
        Backend::Postgres => {
            "SELECT CAST(c.relname AS TEXT) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
            WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname NOT LIKE '_sqlx%' ORDER BY c.oid"
        }
    };
    let rows = sqlx::query(sql).fetch_all(db.pool()).await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>("name"))
        .collect()
}

fn is_ident(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn value_of(row: &sqlx::any::AnyRow, i: usize) -> Value {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return v.map_or(Value::Null, Value::from);
    }
    // Binary columns (BLOB / BYTEA) as `{"base64": "…"}`.
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return v.map_or(Value::Null, |b| {
            serde_json::json!({ "base64": base64::engine::general_purpose::STANDARD.encode(b) })
        });
    }
    Value::Null
}

/// The bytes of a `{"base64": "…"}` value written by [`value_of`].
fn bytes_of(v: &Value) -> Option<Vec<u8>> {
    let b64 = v
        .as_object()
        .filter(|o| o.len() == 1)?
        .get("base64")?
        .as_str()?;
    base64::engine::general_purpose::STANDARD.decode(b64).ok()
}

/// Write a backup of every application table. Returns the number of rows written.
pub async fn backup(db: &Db, out: &mut impl Write) -> Result<u64, BackupError> {
    let applied: Vec<i64> =
        sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version")
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| r.try_get::<i64, _>("version"))
            .collect::<Result<_, _>>()?;
    let header = Header {
        format: "boh-backup".into(),
        version: 1,
        backend: format!("{:?}", db.backend()).to_lowercase(),
        migrations: applied,
        created_at: boh_kernel::now().rfc3339(),
    };
    writeln!(
        out,
        "{}",
        serde_json::to_string(&header).map_err(std::io::Error::other)?
    )?;
    let mut total = 0;
    for t in tables(db).await? {
        if !is_ident(&t) {
            continue;
        }
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT * FROM {t}")))
            .fetch_all(db.pool())
            .await?;
        let columns: Vec<String> = match rows.first() {
            Some(r) => r.columns().iter().map(|c| c.name().to_string()).collect(),
            None => Vec::new(),
        };
        let line = TableLine {
            table: t.clone(),
            columns,
            rows: rows.len() as u64,
        };
        writeln!(
            out,
            "{}",
            serde_json::to_string(&line).map_err(std::io::Error::other)?
        )?;
        for r in &rows {
            let vals: Vec<Value> = (0..r.columns().len()).map(|i| value_of(r, i)).collect();
            writeln!(out, "{}", Value::Array(vals))?;
            total += 1;
        }
    }
    out.flush()?;
    Ok(total)
}

/// Replace the contents of every table with the backup. All or nothing.
pub async fn restore(db: &Db, input: impl BufRead) -> Result<u64, BackupError> {
    let mut lines = input.lines().enumerate();
    let (_, first) = lines.next().ok_or(BackupError::Format {
        line: 1,
        message: "empty file".into(),
    })?;
    let header: Header = serde_json::from_str(&first?).map_err(|e| BackupError::Format {
        line: 1,
        message: e.to_string(),
    })?;
    if header.format != "boh-backup" || header.version != 1 {
        return Err(BackupError::Format {
            line: 1,
            message: "not a BOH backup (version 1)".into(),
        });
    }
    let applied: Vec<i64> = sqlx::query("SELECT version FROM _sqlx_migrations ORDER BY version")
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| r.try_get::<i64, _>("version"))
        .collect::<Result<_, _>>()?;
    if let Some(v) = header.migrations.iter().find(|v| !applied.contains(v)) {
        return Err(BackupError::NewerSchema(*v));
    }
    let known = tables(db).await?;
    let mut tx = match db.backend() {
        Backend::Sqlite => db.pool().begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => db.pool().begin().await?,
    };
    match db.backend() {
        Backend::Sqlite => {
            sqlx::query("PRAGMA defer_foreign_keys = ON")
                .execute(&mut *tx)
                .await?
        }
        Backend::Postgres => {
            sqlx::query("SET CONSTRAINTS ALL DEFERRED")
                .execute(&mut *tx)
                .await?
        }
    };
    for t in known.iter().rev() {
        if is_ident(t) {
            sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {t}")))
                .execute(&mut *tx)
                .await?;
        }
    }
    let mut total = 0u64;
    // (table, columns, PostgreSQL column types) of the table being loaded.
    let mut current: Option<(String, Vec<String>, Vec<String>)> = None;
    for (i, line) in lines {
        let line = line?;
        let n = i + 1;
        let bad = |m: String| BackupError::Format {
            line: n,
            message: m,
        };
        let v: Value = serde_json::from_str(&line).map_err(|e| bad(e.to_string()))?;
        match v {
            Value::Object(_) => {
                let tl: TableLine = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
                if !known.contains(&tl.table)
                    || !is_ident(&tl.table)
                    || !tl.columns.iter().all(|c| is_ident(c))
                {
                    return Err(bad(format!("unknown table {}", tl.table)));
                }
                let mut types = Vec::with_capacity(tl.columns.len());
                if db.backend() == Backend::Postgres {
                    for c in &tl.columns {
                        let r = sqlx::query(
                            "SELECT CAST(data_type AS TEXT) AS t FROM information_schema.columns \
                             WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2",
                        )
                        .bind(tl.table.as_str())
                        .bind(c.as_str())
                        .fetch_one(&mut *tx)
                        .await?;
                        types.push(r.try_get::<String, _>("t")?);
                    }
                } else {
                    types.resize(tl.columns.len(), String::new());
                }
                current = Some((tl.table, tl.columns, types));
            }
            Value::Array(vals) => {
                let (table, cols, types) = current
                    .as_ref()
                    .ok_or_else(|| bad("row before table".into()))?;
                if vals.len() != cols.len() {
                    return Err(bad(format!("expected {} values", cols.len())));
                }
                let placeholders: Vec<String> = (1..=cols.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "INSERT INTO {table} ({}) VALUES ({})",
                    cols.join(","),
                    placeholders.join(",")
                );
                // Bind NULLs with the column's type (PostgreSQL refuses text for bigint), and do not
                // cache the statement: its parameter types would be fixed by the first row.
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).persistent(false);
                for (val, ty) in vals.into_iter().zip(types.iter()) {
                    q = match (val, ty.as_str()) {
                        (Value::Null, "bigint") => q.bind(None::<i64>),
                        (Value::Null, "double precision") => q.bind(None::<f64>),
                        (Value::Null, "bytea") => q.bind(None::<Vec<u8>>),
                        (v @ Value::Object(_), _) if bytes_of(&v).is_some() => {
                            q.bind(bytes_of(&v).unwrap_or_default())
                        }
                        (Value::Null, _) => q.bind(None::<String>),
                        (Value::Number(num), "double precision") => q.bind(num.as_f64()),
                        (Value::Number(num), _) if num.is_i64() => q.bind(num.as_i64()),
                        (Value::Number(num), _) => q.bind(num.as_f64()),
                        (Value::String(s), _) => q.bind(s),
                        (Value::Bool(b), _) => q.bind(i64::from(b)),
                        (other, _) => q.bind(other.to_string()),
                    };
                }
                q.execute(&mut *tx).await?;
                total += 1;
            }
            _ => return Err(bad("expected an object or an array".into())),
        }
    }
    tx.commit().await?;
    Ok(total)
}
