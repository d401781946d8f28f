//! Instances and tasks: a document submitted for approval, each approver's turn, decisions,
//! changes after approval and withdrawal. Every function that changes state runs inside the
//! caller's transaction (the module's own document changes commit with it) and writes the
//! history row, the audit row and the notifications of that change.

use boh_db::Row;
use boh_kernel::{Actor, id::new_id, now, perm};
use boh_platform::{Ctx, Platform, PlatformError, Result, audit, events, tx};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::route::{Route, Subject};
use crate::{Finished, Outcome};

/// Where an instance stands.
pub mod status {
    pub const PENDING: &str = "pending";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    /// The document changed after it was submitted or approved; a new instance took over.
    pub const SUPERSEDED: &str = "superseded";
    pub const WITHDRAWN: &str = "withdrawn";
}

/// Where a task stands: `waiting` (its stage has not started), `open`, `approved`,
/// `rejected`, `skipped` (another approver of an any-one step decided), `cancelled`.
pub mod task_status {
    pub const WAITING: &str = "waiting";
    pub const OPEN: &str = "open";
    pub const APPROVED: &str = "approved";
    pub const REJECTED: &str = "rejected";
    pub const SKIPPED: &str = "skipped";
    pub const CANCELLED: &str = "cancelled";
}

/// The result of starting an instance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Started {
    pub instance_id: String,
    /// `pending`, or `approved` when nothing needed approval.
    pub status: String,
}

/// Start an instance for a subject along a route planned just before ([`crate::route::plan`]).
/// With nothing to approve the instance is recorded as approved at once and the hook runs.
pub async fn start_in(
    tx: &mut AnyConnection,
    p: &Platform,
    ctx: &Ctx,
    s: &Subject,
    route: &Route,
) -> Result<Started> {
    let t = now().micros();
    let id = new_id();
    let facts = route.facts.clone();
    let auto = route.auto_approved;
    let first_stage = route
        .steps
        .iter()
        .filter(|st| st.applies)
        .map(|st| st.stage)
        .min()
        .unwrap_or(0);
    let status = if auto {
        status::APPROVED
    } else {
        status::PENDING
    };
    let inserted = sqlx::query(
        "INSERT INTO wf_instances (id, company_id, definition_id, version_id, doc_type, doc_id, doc_title, \
         org_node_id, org_path, requester_id, facts, facts_hash, status, stage, created_at, decided_at) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16)",
    )
    .bind(&id)
    .bind(&s.node.company_id)
    .bind(route.definition_id.as_deref())
    .bind(route.version_id.as_deref())
    .bind(&s.doc_type)
    .bind(&s.doc_id)
    .bind(&s.title)
    .bind(&s.node.id)
    .bind(&s.node.path)
    .bind(&s.requester_id)
    .bind(facts.to_string())
    .bind(crate::facts_hash(&facts))
    .bind(status)
    .bind(first_stage)
    .bind(t)
    .bind(auto.then_some(t))
    .execute(&mut *tx)
    .await;
    if let Err(e) = &inserted
        && boh_db::is_unique_violation(e)
    {
        return Err(PlatformError::conflict(
            "status",
            "this document is already waiting for approval",
        ));
    }
    inserted?;
    let url = crate::doc_type(p, &s.doc_type).map(|d| (d.url)(&s.doc_id));
    for st in route.steps.iter().filter(|st| st.applies) {
        let open = st.stage == first_stage;
        for a in &st.approvers {
            sqlx::query(
                "INSERT INTO wf_tasks (id, instance_id, step_no, stage, step_name, mode, assignee_id, on_behalf_of, \
                 status, opened_at, due_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
            )
            .bind(new_id())
            .bind(&id)
            .bind(st.step_no)
            .bind(st.stage)
            .bind(&st.name)
            .bind(st.mode.as_str())
            .bind(&a.user.id)
            .bind(a.on_behalf_of.as_ref().map(|u| u.id.clone()))
            .bind(if open {
                task_status::OPEN
            } else {
                task_status::WAITING
            })
            .bind(open.then_some(t))
            .bind(if open {
                st.sla_hours.map(|h| t + h * 3_600_000_000)
            } else {
                None
            })
            .execute(&mut *tx)
            .await?;
            if open {
                crate::inbox::notify(
                    p,
                    tx,
                    &a.user.id,
                    "approval.requested",
                    &s.title,
                    url.as_deref(),
                )
                .await?;
            }
        }
    }
    history(
        tx,
        &id,
        s,
        &ctx.actor.user_id,
        "submitted",
        None,
        route.definition_code.as_deref(),
    )
    .await?;
    audit::append(
        tx,
        ctx,
        audit::Change {
            action: "workflow.instance.start",
            entity_type: "wf_instance",
            entity_id: &id,
            org_path: Some(&s.node.path),
            before: None,
            after: Some(serde_json::json!({
                "doc_type": s.doc_type, "doc_id": s.doc_id, "definition": route.definition_code,
                "version": route.version, "status": status,
            })),
        },
    )
    .await?;
    if auto {
        history(
            tx,
            &id,
            s,
            "system",
            "auto_approved",
            None,
            Some("no step needs approval"),
        )
        .await?;
        finish(
            tx,
            p,
            ctx,
            &id,
            &s.doc_type,
            &s.doc_id,
            &s.node.path,
            Outcome::Approved,
        )
        .await?;
    }
    Ok(Started {
        instance_id: id,
        status: status.to_string(),
    })
}

async fn history(
    tx: &mut AnyConnection,
    instance_id: &str,
    s: &Subject,
    actor_id: &str,
    action: &str,
    step_no: Option<i64>,
    comment: Option<&str>,
) -> Result<()> {
    history_row(
        tx,
        instance_id,
        &s.doc_type,
        &s.doc_id,
        actor_id,
        action,
        step_no,
        comment,
    )
    .await
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn history_row(
    tx: &mut AnyConnection,
    instance_id: &str,
    doc_type: &str,
    doc_id: &str,
    actor_id: &str,
    action: &str,
    step_no: Option<i64>,
    comment: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO wf_history (id, instance_id, doc_type, doc_id, at, actor_id, action, step_no, comment) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
    )
    .bind(new_id())
    .bind(instance_id)
    .bind(doc_type)
    .bind(doc_id)
    .bind(now().micros())
    .bind(actor_id)
    .bind(action)
    .bind(step_no)
    .bind(comment)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Mark an instance finished, tell the requester, emit the event and run the type's hook.
#[allow(clippy::too_many_arguments)]
async fn finish(
    tx: &mut AnyConnection,
    p: &Platform,
    ctx: &Ctx,
    instance_id: &str,
    doc_type: &str,
    doc_id: &str,
    org_path: &str,
    outcome: Outcome,
) -> Result<()> {
    let st = match outcome {
        Outcome::Approved => status::APPROVED,
        Outcome::Rejected => status::REJECTED,
    };
    sqlx::query("UPDATE wf_instances SET status = $1, decided_at = $2 WHERE id = $3")
        .bind(st)
        .bind(now().micros())
        .bind(instance_id)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query("SELECT requester_id, doc_title FROM wf_instances WHERE id = $1")
        .bind(instance_id)
        .fetch_one(&mut *tx)
        .await?;
    let requester: String = row.try_get("requester_id")?;
    let title: String = row.try_get("doc_title")?;
    let dt = crate::doc_type(p, doc_type);
    let url = dt.as_ref().map(|d| (d.url)(doc_id));
    crate::inbox::notify(
        p,
        tx,
        &requester,
        match outcome {
            Outcome::Approved => "approval.approved",
            Outcome::Rejected => "approval.rejected",
        },
        &title,
        url.as_deref(),
    )
    .await?;
    events::emit(
        tx,
        "workflow.instance.finished",
        Some(org_path),
        &serde_json::json!({
            "instance_id": instance_id, "doc_type": doc_type, "doc_id": doc_id, "outcome": outcome,
        }),
    )
    .await?;
    if let Some(hook) = dt.and_then(|d| d.on_finished.clone()) {
        let f = Finished {
            instance_id: instance_id.to_string(),
            doc_id: doc_id.to_string(),
            outcome,
            by: ctx.actor.user_id.clone(),
        };
        hook(tx, ctx, &f).await?;
    }
    Ok(())
}

/// A decision on a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Approve,
    Reject,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionInput {
    pub decision: Verdict,
    /// Required when rejecting.
    #[serde(default)]
    pub comment: Option<String>,
}

struct TaskRow {
    id: String,
    instance_id: String,
    step_no: i64,
    stage: i64,
    mode: String,
    assignee_id: String,
    on_behalf_of: Option<String>,
    status: String,
}

/// Approve or reject a task of the actor's (their own, or one delegated to them). A task that
/// is not open (decided already, or its step not reached yet) is a 409.
pub async fn decide(
    p: &Platform,
    ctx: &Ctx,
    task_id: &str,
    input: &DecisionInput,
) -> Result<InstanceView> {
    let comment = input
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > 2000) {
        return Err(PlatformError::invalid(
            "comment",
            "at most 2,000 characters",
        ));
    }
    if input.decision == Verdict::Reject && comment.is_none() {
        return Err(PlatformError::invalid(
            "comment",
            "say why the document is rejected",
        ));
    }
    let backend = p.db.backend();
    let me = ctx.actor.user_id.clone();
    let instance_id = tx!(p.db, tx, {
        let lock = if backend == boh_db::Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        let row = sqlx::query(boh_db::AssertSqlSafe(format!(
            "SELECT id, instance_id, step_no, stage, mode, assignee_id, on_behalf_of, status FROM wf_tasks \
             WHERE id = $1{lock}"
        )))
        .bind(task_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(PlatformError::NotFound)?;
        let task = TaskRow {
            id: row.try_get("id")?,
            instance_id: row.try_get("instance_id")?,
            step_no: row.try_get("step_no")?,
            stage: row.try_get("stage")?,
            mode: row.try_get("mode")?,
            assignee_id: row.try_get("assignee_id")?,
            on_behalf_of: row.try_get("on_behalf_of")?,
            status: row.try_get("status")?,
        };
        if task.assignee_id != me && task.on_behalf_of.as_deref() != Some(me.as_str()) {
            return Err(PlatformError::NotFound);
        }
        let inst = sqlx::query(boh_db::AssertSqlSafe(format!(
            "SELECT requester_id, status, doc_type, doc_id, org_path, stage FROM wf_instances WHERE id = $1{lock}"
        )))
        .bind(&task.instance_id)
        .fetch_one(&mut *tx)
        .await?;
        let requester: String = inst.try_get("requester_id")?;
        let inst_status: String = inst.try_get("status")?;
        let doc_type: String = inst.try_get("doc_type")?;
        let doc_id: String = inst.try_get("doc_id")?;
        let org_path: String = inst.try_get("org_path")?;
        if requester == me {
            return Err(PlatformError::refused(
                "self_approval",
                "nobody approves their own document",
            ));
        }
        if inst_status != status::PENDING {
            return Err(PlatformError::conflict(
                "status",
                format!("this approval is {inst_status}; nothing is left to decide"),
            ));
        }
        match task.status.as_str() {
            task_status::OPEN => {}
            task_status::WAITING => {
                return Err(PlatformError::conflict(
                    "status",
                    "this step has not been reached yet; earlier steps decide first",
                ));
            }
            other => {
                return Err(PlatformError::conflict(
                    "status",
                    format!("this step is {other} already"),
                ));
            }
        }
        let t = now().micros();
        let verdict = match input.decision {
            Verdict::Approve => task_status::APPROVED,
            Verdict::Reject => task_status::REJECTED,
        };
        // Compare-and-set: a concurrent decision on the same task loses here.
        let changed = sqlx::query(
            "UPDATE wf_tasks SET status = $1, decided_at = $2, decided_by = $3, comment = $4 \
             WHERE id = $5 AND status = 'open'",
        )
        .bind(verdict)
        .bind(t)
        .bind(&me)
        .bind(comment)
        .bind(&task.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed != 1 {
            return Err(PlatformError::conflict(
                "status",
                "this step was decided already",
            ));
        }
        history_row(
            tx,
            &task.instance_id,
            &doc_type,
            &doc_id,
            &me,
            match input.decision {
                Verdict::Approve => "approved",
                Verdict::Reject => "rejected",
            },
            Some(task.step_no),
            comment,
        )
        .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "workflow.task.decide",
                entity_type: "wf_task",
                entity_id: &task.id,
                org_path: Some(&org_path),
                before: Some(serde_json::json!({"status": "open"})),
                after: Some(serde_json::json!({
                    "status": verdict, "instance_id": task.instance_id, "step_no": task.step_no,
                    "on_behalf_of": task.on_behalf_of.filter(|_| task.assignee_id == me),
                })),
            },
        )
        .await?;
        if input.decision == Verdict::Reject {
            sqlx::query(
                "UPDATE wf_tasks SET status = 'cancelled' WHERE instance_id = $1 AND status IN ('open','waiting')",
            )
            .bind(&task.instance_id)
            .execute(&mut *tx)
            .await?;
            finish(
                tx,
                p,
                ctx,
                &task.instance_id,
                &doc_type,
                &doc_id,
                &org_path,
                Outcome::Rejected,
            )
            .await?;
            return Ok(task.instance_id);
        }
        // Approve: an any-one step is done with this; an all-must step when none is open.
        if task.mode == "any" {
            sqlx::query(
                "UPDATE wf_tasks SET status = 'skipped', decided_at = $1 WHERE instance_id = $2 AND step_no = $3 \
                 AND status = 'open'",
            )
            .bind(t)
            .bind(&task.instance_id)
            .bind(task.step_no)
            .execute(&mut *tx)
            .await?;
        }
        advance(
            tx,
            p,
            ctx,
            &task.instance_id,
            task.stage,
            &doc_type,
            &doc_id,
            &org_path,
        )
        .await?;
        Ok(task.instance_id)
    })?;
    instance(p, &ctx.actor, &instance_id).await
}

/// After a decision in `stage`: when no task of the stage is open, open the next stage with
/// tasks, or finish the instance as approved.
#[allow(clippy::too_many_arguments)]
async fn advance(
    tx: &mut AnyConnection,
    p: &Platform,
    ctx: &Ctx,
    instance_id: &str,
    stage: i64,
    doc_type: &str,
    doc_id: &str,
    org_path: &str,
) -> Result<()> {
    let open: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM wf_tasks WHERE instance_id = $1 AND stage = $2 AND status = 'open'",
    )
    .bind(instance_id)
    .bind(stage)
    .fetch_one(&mut *tx)
    .await?
    .try_get("n")?;
    if open > 0 {
        return Ok(());
    }
    let next: Option<i64> = sqlx::query(
        "SELECT MIN(stage) AS s FROM wf_tasks WHERE instance_id = $1 AND status = 'waiting'",
    )
    .bind(instance_id)
    .fetch_one(&mut *tx)
    .await?
    .try_get("s")?;
    let Some(next) = next else {
        return finish(
            tx,
            p,
            ctx,
            instance_id,
            doc_type,
            doc_id,
            org_path,
            Outcome::Approved,
        )
        .await;
    };
    let t = now().micros();
    let version_id: Option<String> =
        sqlx::query("SELECT version_id FROM wf_instances WHERE id = $1")
            .bind(instance_id)
            .fetch_one(&mut *tx)
            .await?
            .try_get("version_id")?;
    let steps = match version_id {
        Some(v) => crate::def::version(tx, &v).await?.steps,
        None => Vec::new(),
    };
    let tasks = sqlx::query(
        "SELECT id, step_no, assignee_id FROM wf_tasks WHERE instance_id = $1 AND stage = $2 AND status = 'waiting'",
    )
    .bind(instance_id)
    .bind(next)
    .fetch_all(&mut *tx)
    .await?;
    let title: String = sqlx::query("SELECT doc_title FROM wf_instances WHERE id = $1")
        .bind(instance_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("doc_title")?;
    let url = crate::doc_type(p, doc_type).map(|d| (d.url)(doc_id));
    for r in &tasks {
        let id: String = r.try_get("id")?;
        let step_no: i64 = r.try_get("step_no")?;
        let assignee: String = r.try_get("assignee_id")?;
        let sla = steps
            .get((step_no - 1).max(0) as usize)
            .and_then(|s| s.sla_hours);
        sqlx::query(
            "UPDATE wf_tasks SET status = 'open', opened_at = $1, due_at = $2 WHERE id = $3",
        )
        .bind(t)
        .bind(sla.map(|h| t + h * 3_600_000_000))
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        crate::inbox::notify(
            p,
            tx,
            &assignee,
            "approval.requested",
            &title,
            url.as_deref(),
        )
        .await?;
    }
    sqlx::query("UPDATE wf_instances SET stage = $1 WHERE id = $2")
        .bind(next)
        .bind(instance_id)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// The open or approved instance of a document, if any: (id, status, facts hash).
pub async fn current(
    conn: &mut AnyConnection,
    doc_type: &str,
    doc_id: &str,
) -> Result<Option<(String, String, String)>> {
    let r = sqlx::query(
        "SELECT id, status, facts_hash FROM wf_instances WHERE doc_type = $1 AND doc_id = $2 \
         AND status IN ('pending','approved') ORDER BY created_at DESC LIMIT 1",
    )
    .bind(doc_type)
    .bind(doc_id)
    .fetch_optional(&mut *conn)
    .await?;
    r.map(|r| {
        Ok::<_, PlatformError>((
            r.try_get("id")?,
            r.try_get("status")?,
            r.try_get("facts_hash")?,
        ))
    })
    .transpose()
}

/// End the document's current instance (`superseded` after a change, `withdrawn` by the
/// requester), cancelling its open steps. Answers whether there was one.
pub async fn end_current(
    tx: &mut AnyConnection,
    ctx: &Ctx,
    doc_type: &str,
    doc_id: &str,
    new_status: &str,
    comment: &str,
) -> Result<bool> {
    let Some((id, _, _)) = current(tx, doc_type, doc_id).await? else {
        return Ok(false);
    };
    sqlx::query("UPDATE wf_instances SET status = $1, decided_at = $2 WHERE id = $3")
        .bind(new_status)
        .bind(now().micros())
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(
        "UPDATE wf_tasks SET status = 'cancelled' WHERE instance_id = $1 AND status IN ('open','waiting')",
    )
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    history_row(
        tx,
        &id,
        doc_type,
        doc_id,
        &ctx.actor.user_id,
        new_status,
        None,
        Some(comment),
    )
    .await?;
    Ok(true)
}

/// Record something that happened to a document after its approval (e.g. "sent to the
/// supplier") in its history, on its latest instance, in the caller's transaction. Answers
/// false (nothing written) when the document was never submitted.
pub async fn record(
    tx: &mut AnyConnection,
    actor_id: &str,
    doc_type: &str,
    doc_id: &str,
    action: &str,
    comment: Option<&str>,
) -> Result<bool> {
    let id: Option<String> = sqlx::query(
        "SELECT id FROM wf_instances WHERE doc_type = $1 AND doc_id = $2 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(doc_type)
    .bind(doc_id)
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?;
    let Some(id) = id else {
        return Ok(false);
    };
    history_row(tx, &id, doc_type, doc_id, actor_id, action, None, comment).await?;
    Ok(true)
}

/// Whether the facts of a document differ from those its current instance was started with
/// (a document changed after approval goes back for approval).
pub async fn changed_since(
    conn: &mut AnyConnection,
    doc_type: &str,
    doc_id: &str,
    facts: &serde_json::Value,
) -> Result<bool> {
    Ok(match current(conn, doc_type, doc_id).await? {
        Some((_, _, hash)) => hash != crate::facts_hash(facts),
        None => false,
    })
}

// ---------------------------------------------------------------- reading

/// A task as shown on an instance.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskView {
    pub id: String,
    pub step_no: i64,
    pub stage: i64,
    pub step_name: String,
    pub mode: String,
    pub assignee: crate::route::UserRef,
    pub on_behalf_of: Option<crate::route::UserRef>,
    pub status: String,
    pub opened_at: Option<String>,
    pub due_at: Option<String>,
    pub overdue: bool,
    pub decided_at: Option<String>,
    pub decided_by: Option<String>,
    pub comment: Option<String>,
}

/// One line of a document's history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub step_no: Option<i64>,
    pub comment: Option<String>,
}

/// An instance with its tasks and history.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InstanceView {
    pub id: String,
    pub doc_type: String,
    pub doc_id: String,
    pub doc_title: String,
    pub doc_url: Option<String>,
    pub org_node_id: String,
    pub requester: crate::route::UserRef,
    pub status: String,
    pub stage: i64,
    pub definition_code: Option<String>,
    pub version: Option<i64>,
    #[schema(value_type = Object)]
    pub facts: serde_json::Value,
    pub created_at: String,
    pub decided_at: Option<String>,
    pub tasks: Vec<TaskView>,
    pub history: Vec<HistoryView>,
}

fn instant(v: Option<i64>) -> Option<String> {
    v.map(|m| boh_kernel::Instant(m).rfc3339())
}

async fn user(p: &Platform, id: &str) -> Result<crate::route::UserRef> {
    let r = sqlx::query("SELECT id, username, display_name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(p.db.pool())
        .await?;
    Ok(match r {
        Some(r) => crate::route::UserRef {
            id: r.try_get("id")?,
            username: r.try_get("username")?,
            display_name: r.try_get("display_name")?,
        },
        None => crate::route::UserRef {
            id: id.to_string(),
            username: id.to_string(),
            display_name: id.to_string(),
        },
    })
}

/// Whether the actor may see an instance: its requester, one of its approvers, or someone
/// who may read workflows where the document is.
async fn visible(
    p: &Platform,
    actor: &Actor,
    id: &str,
    requester: &str,
    path: &str,
) -> Result<bool> {
    if requester == actor.user_id || actor.allows(perm::WORKFLOW_READ, path) {
        return Ok(true);
    }
    Ok(sqlx::query(
        "SELECT 1 AS x FROM wf_tasks WHERE instance_id = $1 AND (assignee_id = $2 OR on_behalf_of = $2) LIMIT 1",
    )
    .bind(id)
    .bind(&actor.user_id)
    .fetch_optional(p.db.pool())
    .await?
    .is_some())
}

/// One instance, with its tasks and the document's history (404 when not visible).
pub async fn instance(p: &Platform, actor: &Actor, id: &str) -> Result<InstanceView> {
    let r = sqlx::query(
        "SELECT i.id, i.doc_type, i.doc_id, i.doc_title, i.org_node_id, i.org_path, i.requester_id, i.status, \
         i.stage, i.facts, i.created_at, i.decided_at, d.code, v.version FROM wf_instances i \
         LEFT JOIN wf_definitions d ON d.id = i.definition_id LEFT JOIN wf_versions v ON v.id = i.version_id \
         WHERE i.id = $1",
    )
    .bind(id)
    .fetch_optional(p.db.pool())
    .await?
    .ok_or(PlatformError::NotFound)?;
    let requester_id: String = r.try_get("requester_id")?;
    let path: String = r.try_get("org_path")?;
    if !visible(p, actor, id, &requester_id, &path).await? {
        return Err(PlatformError::NotFound);
    }
    let doc_type: String = r.try_get("doc_type")?;
    let doc_id: String = r.try_get("doc_id")?;
    let facts: String = r.try_get("facts")?;
    let now_us = now().micros();
    let mut tasks = Vec::new();
    for t in sqlx::query(
        "SELECT id, step_no, stage, step_name, mode, assignee_id, on_behalf_of, status, opened_at, due_at, \
         decided_at, decided_by, comment FROM wf_tasks WHERE instance_id = $1 ORDER BY step_no, assignee_id",
    )
    .bind(id)
    .fetch_all(p.db.pool())
    .await?
    {
        let status: String = t.try_get("status")?;
        let due: Option<i64> = t.try_get("due_at")?;
        let behalf: Option<String> = t.try_get("on_behalf_of")?;
        let decided_by: Option<String> = t.try_get("decided_by")?;
        tasks.push(TaskView {
            id: t.try_get("id")?,
            step_no: t.try_get("step_no")?,
            stage: t.try_get("stage")?,
            step_name: t.try_get("step_name")?,
            mode: t.try_get("mode")?,
            assignee: user(p, &t.try_get::<String, _>("assignee_id")?).await?,
            on_behalf_of: match behalf {
                Some(b) => Some(user(p, &b).await?),
                None => None,
            },
            overdue: status == task_status::OPEN && due.is_some_and(|d| d < now_us),
            status,
            opened_at: instant(t.try_get("opened_at")?),
            due_at: instant(due),
            decided_at: instant(t.try_get("decided_at")?),
            decided_by: match decided_by {
                Some(b) => Some(user(p, &b).await?.display_name),
                None => None,
            },
            comment: t.try_get("comment")?,
        });
    }
    let history = document_history(p, &doc_type, &doc_id).await?;
    Ok(InstanceView {
        id: r.try_get("id")?,
        doc_url: crate::doc_type(p, &doc_type).map(|d| (d.url)(&doc_id)),
        doc_type,
        doc_id,
        doc_title: r.try_get("doc_title")?,
        org_node_id: r.try_get("org_node_id")?,
        requester: user(p, &requester_id).await?,
        status: r.try_get("status")?,
        stage: r.try_get("stage")?,
        definition_code: r.try_get("code")?,
        version: r.try_get("version")?,
        facts: serde_json::from_str(&facts).unwrap_or_default(),
        created_at: boh_kernel::Instant(r.try_get("created_at")?).rfc3339(),
        decided_at: instant(r.try_get("decided_at")?),
        tasks,
        history,
    })
}

/// Every decision and system action on a document, oldest first (callers check that the
/// actor may see the document).
pub async fn document_history(
    p: &Platform,
    doc_type: &str,
    doc_id: &str,
) -> Result<Vec<HistoryView>> {
    let rows = sqlx::query(
        "SELECT h.at, h.actor_id, h.action, h.step_no, h.comment, u.display_name FROM wf_history h \
         LEFT JOIN users u ON u.id = h.actor_id WHERE h.doc_type = $1 AND h.doc_id = $2 ORDER BY h.at, h.id",
    )
    .bind(doc_type)
    .bind(doc_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            let actor: String = r.try_get("actor_id")?;
            Ok(HistoryView {
                at: boh_kernel::Instant(r.try_get("at")?).rfc3339(),
                actor: r
                    .try_get::<Option<String>, _>("display_name")?
                    .unwrap_or(actor),
                action: r.try_get("action")?,
                step_no: r.try_get("step_no")?,
                comment: r.try_get("comment")?,
            })
        })
        .collect()
}

/// The latest instance of a document (for its page), if the actor may see it.
pub async fn latest_for(
    p: &Platform,
    actor: &Actor,
    doc_type: &str,
    doc_id: &str,
) -> Result<Option<InstanceView>> {
    let id: Option<String> = sqlx::query(
        "SELECT id FROM wf_instances WHERE doc_type = $1 AND doc_id = $2 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(doc_type)
    .bind(doc_id)
    .fetch_optional(p.db.pool())
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?;
    match id {
        Some(id) => match instance(p, actor, &id).await {
            Ok(v) => Ok(Some(v)),
            Err(PlatformError::NotFound) => Ok(None),
            Err(e) => Err(e),
        },
        None => Ok(None),
    }
}
