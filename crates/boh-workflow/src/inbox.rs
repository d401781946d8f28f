//! "My approvals": the open tasks of a user (their own and those delegated to them), recent
//! decisions, in-app notifications, and delegations while someone is away.

use boh_db::Row;
use boh_kernel::{Actor, id::new_id, now};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, tx};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

/// Add an in-app notification and, when e-mail is on and the user has an address, queue its
/// e-mail copy in the same transaction ([`boh_platform::mail::queue`]; a job sends it).
pub async fn notify(
    p: &Platform,
    tx: &mut AnyConnection,
    user_id: &str,
    kind: &str,
    subject: &str,
    url: Option<&str>,
) -> Result<()> {
    let id = new_id();
    // Written in the recipient's language (the e-mail copy uses the same text).
    let locale: String = sqlx::query("SELECT locale FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("locale"))
        .transpose()?
        .unwrap_or_default();
    let title: String = title_of(kind, &locale, subject).chars().take(300).collect();
    sqlx::query(
        "INSERT INTO notifications (id, user_id, kind, title, url, created_at, read_at) VALUES ($1,$2,$3,$4,$5,$6,NULL)",
    )
    .bind(&id)
    .bind(user_id)
    .bind(kind)
    .bind(&title)
    .bind(url)
    .bind(now().micros())
    .execute(&mut *tx)
    .await?;
    boh_platform::mail::queue(
        p,
        tx,
        &boh_platform::mail::Notice {
            notification_id: &id,
            user_id,
            title: &title,
            url,
        },
    )
    .await?;
    Ok(())
}

/// A notification's text: what happened (in the recipient's language) and to what.
pub fn title_of(kind: &str, locale: &str, subject: &str) -> String {
    let zh = locale.starts_with("zh");
    let what = match (kind, zh) {
        ("approval.requested", false) => "Approval requested",
        ("approval.requested", true) => "待审批",
        ("approval.approved", false) => "Approved",
        ("approval.approved", true) => "已批准",
        ("approval.rejected", false) => "Rejected",
        ("approval.rejected", true) => "已驳回",
        ("approval.overdue", false) => "Overdue approval",
        ("approval.overdue", true) => "审批已超时",
        ("approval.escalated", false) => "Escalated to you",
        ("approval.escalated", true) => "已升级给您审批",
        ("maintenance.status", false) => "Work order update",
        ("maintenance.status", true) => "工单进度",
        ("maintenance.assigned", false) => "Job assigned to you",
        ("maintenance.assigned", true) => "新派工",
        ("maintenance.review", false) => "Low rating, please review",
        ("maintenance.review", true) => "低评分待复核",
        ("maintenance.sla_warning", false) => "SLA at risk",
        ("maintenance.sla_warning", true) => "SLA 即将超时",
        ("maintenance.sla_breach", false) => "SLA breached",
        ("maintenance.sla_breach", true) => "SLA 已超时",
        _ => return subject.to_string(),
    };
    if zh {
        format!("{what}：{subject}")
    } else {
        format!("{what}: {subject}")
    }
}

/// One line of the inbox.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InboxItem {
    pub task_id: String,
    pub instance_id: String,
    pub doc_type: String,
    pub doc_id: String,
    pub doc_title: String,
    pub doc_url: Option<String>,
    pub step_no: i64,
    pub step_name: String,
    pub requester: String,
    /// The person this task is delegated from, when it is.
    pub on_behalf_of: Option<String>,
    pub status: String,
    pub opened_at: Option<String>,
    pub due_at: Option<String>,
    pub overdue: bool,
    pub decided_at: Option<String>,
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
}

/// Open tasks of the actor (`open`), or the ones they decided (`decided`, newest first).
pub async fn list(p: &Platform, actor: &Actor, which: &str, limit: i64) -> Result<Vec<InboxItem>> {
    let (cond, order) = match which {
        "open" => (
            "t.status = 'open' AND (t.assignee_id = $1 OR t.on_behalf_of = $1)",
            "t.due_at IS NULL, t.due_at, t.opened_at",
        ),
        "decided" => ("t.decided_by = $1", "t.decided_at DESC"),
        _ => return Err(PlatformError::invalid("status", "open or decided")),
    };
    let rows = sqlx::query(boh_db::AssertSqlSafe(format!(
        "SELECT t.id, t.instance_id, t.step_no, t.step_name, t.status, t.opened_at, t.due_at, t.decided_at, \
         i.doc_type, i.doc_id, i.doc_title, i.facts, ru.display_name AS requester, bu.display_name AS behalf \
         FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id \
         LEFT JOIN users ru ON ru.id = i.requester_id \
         LEFT JOIN users bu ON bu.id = t.on_behalf_of AND t.assignee_id = $1 \
         WHERE {cond} ORDER BY {order} LIMIT $2"
    )))
    .bind(&actor.user_id)
    .bind(limit.clamp(1, 500))
    .fetch_all(p.db.pool())
    .await?;
    let t_now = now().micros();
    rows.iter()
        .map(|r| {
            let due: Option<i64> = r.try_get("due_at")?;
            let status: String = r.try_get("status")?;
            let doc_type: String = r.try_get("doc_type")?;
            let doc_id: String = r.try_get("doc_id")?;
            let facts: String = r.try_get("facts")?;
            Ok(InboxItem {
                task_id: r.try_get("id")?,
                instance_id: r.try_get("instance_id")?,
                doc_url: crate::doc_type(p, &doc_type).map(|d| (d.url)(&doc_id)),
                doc_type,
                doc_id,
                doc_title: r.try_get("doc_title")?,
                step_no: r.try_get("step_no")?,
                step_name: r.try_get("step_name")?,
                requester: r
                    .try_get::<Option<String>, _>("requester")?
                    .unwrap_or_default(),
                on_behalf_of: r.try_get("behalf")?,
                overdue: status == "open" && due.is_some_and(|d| d < t_now),
                status,
                opened_at: r
                    .try_get::<Option<i64>, _>("opened_at")?
                    .map(|m| boh_kernel::Instant(m).rfc3339()),
                due_at: due.map(|m| boh_kernel::Instant(m).rfc3339()),
                decided_at: r
                    .try_get::<Option<i64>, _>("decided_at")?
                    .map(|m| boh_kernel::Instant(m).rfc3339()),
                facts: serde_json::from_str(&facts).unwrap_or_default(),
            })
        })
        .collect()
}

/// How many tasks wait for the actor (the badge in the navigation).
pub async fn open_count(p: &Platform, actor: &Actor) -> Result<i64> {
    Ok(sqlx::query(
        "SELECT COUNT(*) AS n FROM wf_tasks WHERE status = 'open' AND (assignee_id = $1 OR on_behalf_of = $1)",
    )
    .bind(&actor.user_id)
    .fetch_one(p.db.pool())
    .await?
    .try_get("n")?)
}

/// An in-app notification.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: String,
    pub kind: String,
    pub title: String,
    pub url: Option<String>,
    pub created_at: String,
    pub read: bool,
}

/// The actor's latest notifications.
pub async fn notifications(p: &Platform, actor: &Actor, limit: i64) -> Result<Vec<Notification>> {
    let rows = sqlx::query(
        "SELECT id, kind, title, url, created_at, read_at FROM notifications WHERE user_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2",
    )
    .bind(&actor.user_id)
    .bind(limit.clamp(1, 200))
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Notification {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                title: r.try_get("title")?,
                url: r.try_get("url")?,
                created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
                read: r.try_get::<Option<i64>, _>("read_at")?.is_some(),
            })
        })
        .collect()
}

/// Mark all of the actor's notifications read.
pub async fn mark_read(p: &Platform, actor: &Actor) -> Result<u64> {
    let uid = actor.user_id.clone();
    tx!(p.db, tx, {
        Ok(sqlx::query(
            "UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL",
        )
        .bind(now().micros())
        .bind(&uid)
        .execute(&mut *tx)
        .await?
        .rows_affected())
    })
}

// ---------------------------------------------------------------- delegation

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationInput {
    /// Who takes over the actor's approvals.
    pub delegate_username: String,
    /// First and last day (YYYY-MM-DD, inclusive).
    pub starts_on: String,
    pub ends_on: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delegation {
    pub id: String,
    pub delegate: String,
    pub starts_on: String,
    pub ends_on: String,
    pub note: Option<String>,
    pub active: bool,
}

/// Hand the actor's approvals to someone else for a period. Tasks opened in that period go
/// to the delegate (on behalf of the actor, who may still decide them too).
pub async fn delegate(p: &Platform, ctx: &Ctx, input: &DelegationInput) -> Result<Delegation> {
    let company_id = crate::def::company_of(&ctx.actor)?;
    let mut errors = Vec::new();
    let start = input.starts_on.parse::<jiff::civil::Date>();
    let end = input.ends_on.parse::<jiff::civil::Date>();
    if start.is_err() || input.starts_on.len() != 10 {
        errors.push(FieldError::new("starts_on", "a date as YYYY-MM-DD"));
    }
    if end.is_err() || input.ends_on.len() != 10 {
        errors.push(FieldError::new("ends_on", "a date as YYYY-MM-DD"));
    }
    if let (Ok(s), Ok(e)) = (&start, &end)
        && e < s
    {
        errors.push(FieldError::new("ends_on", "on or after the first day"));
    }
    if input
        .note
        .as_deref()
        .is_some_and(|n| n.chars().count() > 500)
    {
        errors.push(FieldError::new("note", "at most 500 characters"));
    }
    let delegate = sqlx::query(
        "SELECT id, display_name FROM users WHERE username = $1 AND active = 1 AND company_id = $2",
    )
    .bind(&input.delegate_username)
    .bind(&company_id)
    .fetch_optional(p.db.pool())
    .await?;
    let delegate_id: Option<String> = delegate.as_ref().map(|r| r.try_get("id")).transpose()?;
    match &delegate_id {
        None => errors.push(FieldError::new(
            "delegate_username",
            format!(
                "no active user {:?} in your company",
                input.delegate_username
            ),
        )),
        Some(d) if *d == ctx.actor.user_id => errors.push(FieldError::new(
            "delegate_username",
            "choose someone other than yourself",
        )),
        _ => {}
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    let delegate_id = delegate_id.unwrap_or_default();
    let id = new_id();
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    tx!(p.db, tx, {
        sqlx::query(
            "INSERT INTO wf_delegations (id, company_id, user_id, delegate_id, starts_on, ends_on, note, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        )
        .bind(&id)
        .bind(&company_id)
        .bind(&ctx.actor.user_id)
        .bind(&delegate_id)
        .bind(&input.starts_on)
        .bind(&input.ends_on)
        .bind(note)
        .bind(now().micros())
        .execute(&mut *tx)
        .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "workflow.delegation.create",
                entity_type: "wf_delegation",
                entity_id: &id,
                org_path: None,
                before: None,
                after: Some(serde_json::json!({
                    "delegate": input.delegate_username, "starts_on": input.starts_on,
                    "ends_on": input.ends_on,
                })),
            },
        )
        .await?;
        Ok(())
    })?;
    delegations(p, &ctx.actor)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or(PlatformError::NotFound)
}

/// The actor's delegations, newest first.
pub async fn delegations(p: &Platform, actor: &Actor) -> Result<Vec<Delegation>> {
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    let rows = sqlx::query(
        "SELECT g.id, u.display_name, g.starts_on, g.ends_on, g.note, g.revoked_at FROM wf_delegations g \
         JOIN users u ON u.id = g.delegate_id WHERE g.user_id = $1 ORDER BY g.created_at DESC LIMIT 50",
    )
    .bind(&actor.user_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let starts: String = r.try_get("starts_on")?;
            let ends: String = r.try_get("ends_on")?;
            let revoked: Option<i64> = r.try_get("revoked_at")?;
            Ok(Delegation {
                id: r.try_get("id")?,
                delegate: r.try_get("display_name")?,
                active: revoked.is_none() && starts <= today && ends >= today,
                starts_on: starts,
                ends_on: ends,
                note: r.try_get("note")?,
            })
        })
        .collect()
}

/// End one of the actor's delegations now (404 for anyone else's).
pub async fn revoke_delegation(p: &Platform, ctx: &Ctx, id: &str) -> Result<()> {
    let uid = ctx.actor.user_id.clone();
    tx!(p.db, tx, {
        let n = sqlx::query(
            "UPDATE wf_delegations SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now().micros())
        .bind(id)
        .bind(&uid)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(PlatformError::NotFound);
        }
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "workflow.delegation.revoke",
                entity_type: "wf_delegation",
                entity_id: id,
                org_path: None,
                before: None,
                after: None,
            },
        )
        .await?;
        Ok(())
    })
}
