//! The hash-chained, append-only audit log.
//!
//! Each row's `hash` is SHA-256 over the previous row's hash and a canonical JSON encoding of
//! the row's own fields, so altering, deleting or reordering any row breaks the chain from that
//! row on. The head (`audit_head`) is updated in the same transaction as the row; taking its
//! row lock is what orders concurrent writers on PostgreSQL. Exporting the head (`boh audit
//! head`) and checking it later (`boh audit verify --head SEQ:HASH`) detects even a wholesale
//! rewrite of the table.

use boh_db::Row;
use boh_kernel::{Actor, new_id, now, perm};
use serde::Serialize;
use serde_json::Value;
use sqlx::AnyConnection;

use crate::{Ctx, PlatformError, Result};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What changed, for one audit row.
#[derive(Debug, Clone)]
pub struct Change<'a> {
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: &'a str,
    /// The org path the record belongs to; scopes who may read the row.
    pub org_path: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub at: String,
    pub actor_id: String,
    pub actor_name: String,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub hash: String,
}

#[allow(clippy::too_many_arguments)]
fn row_hash(
    prev: &str,
    seq: i64,
    id: &str,
    at: i64,
    actor_id: &str,
    actor_name: &str,
    ip: Option<&str>,
    request_id: Option<&str>,
    action: &str,
    entity_type: &str,
    entity_id: &str,
    org_path: Option<&str>,
    before: Option<&str>,
    after: Option<&str>,
) -> String {
    let canonical = serde_json::json!([
        seq,
        id,
        at,
        actor_id,
        actor_name,
        ip,
        request_id,
        action,
        entity_type,
        entity_id,
        org_path,
        before,
        after
    ]);
    let mut data = prev.as_bytes().to_vec();
    data.push(b'\n');
    data.extend_from_slice(canonical.to_string().as_bytes());
    crate::util::sha256_hex(&data)
}

/// Append one audit row inside the caller's write transaction.
pub async fn append(conn: &mut AnyConnection, ctx: &Ctx, change: Change<'_>) -> Result<()> {
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev: String = head.try_get("hash")?;
    let id = new_id();
    let at = now().micros();
    let before = change.before.as_ref().map(Value::to_string);
    let after = change.after.as_ref().map(Value::to_string);
    let hash = row_hash(
        &prev,
        seq,
        &id,
        at,
        &ctx.actor.user_id,
        &ctx.actor.username,
        ctx.ip.as_deref(),
        ctx.request_id.as_deref(),
        change.action,
        change.entity_type,
        change.entity_id,
        change.org_path,
        before.as_deref(),
        after.as_deref(),
    );
    sqlx::query(
        "INSERT INTO audit_log (seq, id, at, actor_id, actor_name, ip, request_id, action, \
         entity_type, entity_id, org_path, before_json, after_json, prev_hash, hash) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
    )
    .bind(seq)
    .bind(&id)
    .bind(at)
    .bind(&ctx.actor.user_id)
    .bind(&ctx.actor.username)
    .bind(ctx.ip.as_deref())
    .bind(ctx.request_id.as_deref())
    .bind(change.action)
    .bind(change.entity_type)
    .bind(change.entity_id)
    .bind(change.org_path)
    .bind(before.as_deref())
    .bind(after.as_deref())
    .bind(&prev)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Append one audit row per change inside the caller's write transaction, as [`append`] would
/// one by one, in a constant number of statements per 500 rows: one head update reserves the
/// sequence numbers, the hashes are chained in memory, multi-row inserts write the rows, one
/// more head update stores the last hash. Used by imports, which change thousands of records
/// at once.
pub async fn append_many(
    conn: &mut AnyConnection,
    ctx: &Ctx,
    changes: &[Change<'_>],
) -> Result<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let n = i64::try_from(changes.len()).map_err(anyhow::Error::from)?;
    let head = sqlx::query("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
        .bind(n)
        .fetch_one(&mut *conn)
        .await?;
    let last_seq: i64 = head.try_get("seq")?;
    let mut prev: String = head.try_get("hash")?;
    let at = now().micros();
    struct Prepared {
        seq: i64,
        id: String,
        before: Option<String>,
        after: Option<String>,
        prev: String,
        hash: String,
    }
    let mut rows = Vec::with_capacity(changes.len());
    for (i, change) in changes.iter().enumerate() {
        let seq = last_seq - n + 1 + i64::try_from(i).map_err(anyhow::Error::from)?;
        let id = new_id();
        let before = change.before.as_ref().map(Value::to_string);
        let after = change.after.as_ref().map(Value::to_string);
        let hash = row_hash(
            &prev,
            seq,
            &id,
            at,
            &ctx.actor.user_id,
            &ctx.actor.username,
            ctx.ip.as_deref(),
            ctx.request_id.as_deref(),
            change.action,
            change.entity_type,
            change.entity_id,
            change.org_path,
            before.as_deref(),
            after.as_deref(),
        );
        rows.push(Prepared {
            seq,
            id,
            before,
            after,
            prev: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    const BATCH: usize = 500;
    for (chunk, changes) in rows.chunks(BATCH).zip(changes.chunks(BATCH)) {
        let mut sql = String::from(
            "INSERT INTO audit_log (seq, id, at, actor_id, actor_name, ip, request_id, action, \
             entity_type, entity_id, org_path, before_json, after_json, prev_hash, hash) VALUES ",
        );
        sql.push_str(&crate::util::values_list(conn, chunk.len(), 15));
        let mut q = sqlx::query(boh_db::AssertSqlSafe(sql)).persistent(false);
        for (r, change) in chunk.iter().zip(changes) {
            q = q
                .bind(r.seq)
                .bind(&r.id)
                .bind(at)
                .bind(&ctx.actor.user_id)
                .bind(&ctx.actor.username)
                .bind(ctx.ip.as_deref())
                .bind(ctx.request_id.as_deref())
                .bind(change.action)
                .bind(change.entity_type)
                .bind(change.entity_id)
                .bind(change.org_path)
                .bind(r.before.as_deref())
                .bind(r.after.as_deref())
                .bind(&r.prev)
                .bind(&r.hash);
        }
        q.execute(&mut *conn).await?;
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The outcome of walking the chain.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct VerifyReport {
    pub ok: bool,
    pub rows: i64,
    pub head_seq: i64,
    pub head_hash: String,
    /// The first row that does not verify, and why.
    pub first_bad_seq: Option<i64>,
    pub problem: Option<String>,
}

/// The exported chain head: `SEQ:HASH`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

pub async fn head(db: &boh_db::Db) -> Result<Head> {
    let r = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(db.pool())
        .await?;
    Ok(Head {
        seq: r.try_get("seq")?,
        hash: r.try_get("hash")?,
    })
}

/// Walk the whole chain in order. `expected` is a previously exported head that must still be
/// on the chain. `progress(done, total)` is called every few thousand rows.
pub async fn verify(
    db: &boh_db::Db,
    expected: Option<&Head>,
    mut progress: impl FnMut(i64, i64),
) -> Result<VerifyReport> {
    let head = head(db).await?;
    let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_log")
        .fetch_one(db.pool())
        .await?
        .try_get("n")?;
    let mut report = VerifyReport {
        ok: true,
        rows: 0,
        head_seq: head.seq,
        head_hash: head.hash.clone(),
        first_bad_seq: None,
        problem: None,
    };
    let fail = |report: &mut VerifyReport, seq: i64, why: String| {
        report.ok = false;
        report.first_bad_seq = Some(seq);
        report.problem = Some(why);
    };
    let mut prev = GENESIS.to_string();
    let mut expect_seq = 1i64;
    let mut saw_expected = expected.is_none();
    const PAGE: i64 = 5000;
    'outer: loop {
        let rows = sqlx::query(
            "SELECT seq, id, at, actor_id, actor_name, ip, request_id, action, entity_type, \
             entity_id, org_path, before_json, after_json, prev_hash, hash FROM audit_log \
             WHERE seq >= $1 ORDER BY seq LIMIT $2",
        )
        .bind(expect_seq)
        .bind(PAGE)
        .fetch_all(db.pool())
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let seq: i64 = r.try_get("seq")?;
            if seq != expect_seq {
                fail(
                    &mut report,
                    expect_seq,
                    format!("row {expect_seq} is missing (next row is {seq})"),
                );
                break 'outer;
            }
            let stored_prev: String = r.try_get("prev_hash")?;
            let stored: String = r.try_get("hash")?;
            let computed = row_hash(
                &prev,
                seq,
                &r.try_get::<String, _>("id")?,
                r.try_get("at")?,
                &r.try_get::<String, _>("actor_id")?,
                &r.try_get::<String, _>("actor_name")?,
                r.try_get::<Option<String>, _>("ip")?.as_deref(),
                r.try_get::<Option<String>, _>("request_id")?.as_deref(),
                &r.try_get::<String, _>("action")?,
                &r.try_get::<String, _>("entity_type")?,
                &r.try_get::<String, _>("entity_id")?,
                r.try_get::<Option<String>, _>("org_path")?.as_deref(),
                r.try_get::<Option<String>, _>("before_json")?.as_deref(),
                r.try_get::<Option<String>, _>("after_json")?.as_deref(),
            );
            if stored_prev != prev {
                fail(
                    &mut report,
                    seq,
                    format!(
                        "row {seq} does not follow row {} (reordered or replaced)",
                        seq - 1
                    ),
                );
                break 'outer;
            }
            if computed != stored {
                fail(
                    &mut report,
                    seq,
                    format!("row {seq} was altered (its hash does not match its contents)"),
                );
                break 'outer;
            }
            if let Some(e) = expected
                && e.seq == seq
            {
                if e.hash != stored {
                    fail(
                        &mut report,
                        seq,
                        format!("row {seq} differs from the exported head (chain rewritten)"),
                    );
                    break 'outer;
                }
                saw_expected = true;
            }
            prev = stored;
            expect_seq += 1;
            report.rows += 1;
            if report.rows % 2000 == 0 {
                progress(report.rows, total);
            }
        }
    }
    if report.ok {
        if report.rows != head.seq || prev != head.hash {
            let (seq, rows) = (report.rows + 1, report.rows);
            fail(
                &mut report,
                seq,
                format!(
                    "the chain ends at row {rows} but the head says row {} (rows deleted from the end?)",
                    head.seq
                ),
            );
        } else if !saw_expected && let Some(e) = expected {
            fail(
                &mut report,
                e.seq,
                format!("exported head row {} is no longer on the chain", e.seq),
            );
        }
    }
    progress(report.rows, total);
    Ok(report)
}

/// Parse `SEQ:HASH`.
pub fn parse_head(s: &str) -> Option<Head> {
    let (seq, hash) = s.trim().split_once(':')?;
    let seq = seq.parse().ok()?;
    (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Head {
        seq,
        hash: hash.to_string(),
    })
}

/// Filters for the audit list.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

/// Audit rows the actor may read: rows of records inside their `audit.read` scope. Rows with no
/// org path (users, roles, tokens) need `audit.read` on the whole company, i.e. a grant at the
/// top of the tree.
pub async fn list(db: &boh_db::Db, actor: &Actor, f: &ListFilter) -> Result<(Vec<AuditRow>, i64)> {
    let scope = actor.scope(perm::AUDIT_READ);
    if scope.is_empty() {
        return Err(PlatformError::Forbidden(perm::AUDIT_READ));
    }
    let top_level = actor
        .grants
        .iter()
        .any(|g| g.permissions.contains(perm::AUDIT_READ) && g.path.matches('/').count() <= 2);
    let no_path = if top_level {
        "org_path IS NULL OR "
    } else {
        ""
    };
    let where_ = format!(
        "({no_path}{}) AND ($1 = '' OR entity_type = $1) AND ($2 = '' OR entity_id = $2) \
         AND ($3 = '' OR actor_name = $3)",
        scope.sql("org_path")
    );
    let total: i64 = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT COUNT(*) AS n FROM audit_log WHERE {where_}"
    )))
    .bind(f.entity_type.clone().unwrap_or_default())
    .bind(f.entity_id.clone().unwrap_or_default())
    .bind(f.actor.clone().unwrap_or_default())
    .fetch_one(db.pool())
    .await?
    .try_get("n")?;
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT seq, id, at, actor_id, actor_name, ip, request_id, action, entity_type, \
         entity_id, before_json, after_json, hash FROM audit_log WHERE {where_} \
         ORDER BY seq DESC LIMIT $4 OFFSET $5"
    )))
    .bind(f.entity_type.clone().unwrap_or_default())
    .bind(f.entity_id.clone().unwrap_or_default())
    .bind(f.actor.clone().unwrap_or_default())
    .bind(f.limit)
    .bind(f.offset)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let parse = |s: Option<String>| s.and_then(|s| serde_json::from_str(&s).ok());
        out.push(AuditRow {
            seq: r.try_get("seq")?,
            id: r.try_get("id")?,
            at: boh_kernel::Instant(r.try_get("at")?).rfc3339(),
            actor_id: r.try_get("actor_id")?,
            actor_name: r.try_get("actor_name")?,
            ip: r.try_get("ip")?,
            request_id: r.try_get("request_id")?,
            action: r.try_get("action")?,
            entity_type: r.try_get("entity_type")?,
            entity_id: r.try_get("entity_id")?,
            before: parse(r.try_get("before_json")?),
            after: parse(r.try_get("after_json")?),
            hash: r.try_get("hash")?,
        });
    }
    Ok((out, total))
}
