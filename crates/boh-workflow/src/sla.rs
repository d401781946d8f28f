//! SLA of approval steps: an open task past its due time gets one reminder; past its due time
//! plus the step's `escalate_after_hours` it is escalated (the step's role one level further
//! up, else the company's administrators, get an any-one task of its own, whose decision settles the step; the original approver
//! may still decide). Run by the scheduled
//! job [`JOB_KIND`] on whichever instance claims it, so nothing here is in-process state.

use boh_db::Row;
use boh_kernel::{id::new_id, now};
use boh_platform::{Ctx, Platform, Result, tx};
use serde::Serialize;

use crate::def::Approvers;

pub const JOB_KIND: &str = "workflow.sla";

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Sweep {
    pub reminded: u64,
    pub escalated: u64,
}

/// Remind and escalate what is overdue at `at` (microseconds, UTC).
pub async fn sweep(p: &Platform, at: i64) -> Result<Sweep> {
    let mut out = Sweep::default();
    let rows = sqlx::query(
        "SELECT t.id, t.instance_id, t.step_no, t.stage, t.step_name, t.mode, t.assignee_id, t.due_at, \
         t.reminded_at, t.escalated_at, i.version_id, i.org_node_id, i.requester_id, i.doc_type, i.doc_id, \
         i.doc_title FROM wf_tasks t JOIN wf_instances i ON i.id = t.instance_id \
         WHERE t.status = 'open' AND t.due_at IS NOT NULL AND t.due_at < $1 AND i.status = 'pending' \
         ORDER BY t.due_at LIMIT 1000",
    )
    .bind(at)
    .fetch_all(p.db.pool())
    .await?;
    let ctx = Ctx::system();
    for r in rows {
        let task_id: String = r.try_get("id")?;
        let instance_id: String = r.try_get("instance_id")?;
        let step_no: i64 = r.try_get("step_no")?;
        let due: i64 = r.try_get("due_at")?;
        let assignee: String = r.try_get("assignee_id")?;
        let doc_type: String = r.try_get("doc_type")?;
        let doc_id: String = r.try_get("doc_id")?;
        let title: String = r.try_get("doc_title")?;
        let url = crate::doc_type(p, &doc_type).map(|d| (d.url)(&doc_id));
        if r.try_get::<Option<i64>, _>("reminded_at")?.is_none() {
            let done = tx!(p.db, tx, {
                let n = sqlx::query(
                    "UPDATE wf_tasks SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL AND status = 'open'",
                )
                .bind(at)
                .bind(&task_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 1 {
                    crate::inbox::notify(
                        p,
                        tx,
                        &assignee,
                        "approval.overdue",
                        &title,
                        url.as_deref(),
                    )
                    .await?;
                    crate::run::history_row(
                        tx,
                        &instance_id,
                        &doc_type,
                        &doc_id,
                        "system",
                        "reminded",
                        Some(step_no),
                        None,
                    )
                    .await?;
                }
                Ok(n == 1)
            })?;
            out.reminded += u64::from(done);
        }
        if r.try_get::<Option<i64>, _>("escalated_at")?.is_some() {
            continue;
        }
        let Some(version_id) = r.try_get::<Option<String>, _>("version_id")? else {
            continue;
        };
        let version = {
            let mut conn = p.db.pool().acquire().await?;
            crate::def::version(&mut conn, &version_id).await?
        };
        let Some(step) = version.steps.get((step_no - 1).max(0) as usize) else {
            continue;
        };
        let Some(after) = step.escalate_after_hours else {
            continue;
        };
        if due + after * 3_600_000_000 > at {
            continue;
        }
        let node_id: String = r.try_get("org_node_id")?;
        let requester: String = r.try_get("requester_id")?;
        let Some(node) = boh_platform::org::fetch(p, &node_id).await? else {
            continue;
        };
        let chain = crate::route::chain_of(p, &node).await?;
        // The step's role one level further up; with nobody there (or a named user or group,
        // which has no level to go up from), the company's administrators.
        let (mut users, mut note) = match &step.approvers {
            Approvers::Role { .. } => {
                crate::route::approvers_for(p, &chain, step, &requester, 1).await?
            }
            _ => (Vec::new(), String::new()),
        };
        if users.is_empty() {
            let admin = crate::def::Step {
                approvers: Approvers::Role {
                    role: "admin".into(),
                    level: "company".into(),
                },
                ..step.clone()
            };
            let (u, n) = crate::route::approvers_for(p, &chain, &admin, &requester, 0).await?;
            users = u;
            note = n;
        }
        let stage: i64 = r.try_get("stage")?;
        let step_name: String = r.try_get("step_name")?;
        let sla = step.sla_hours;
        let escalated = tx!(p.db, tx, {
            let n = sqlx::query(
                "UPDATE wf_tasks SET escalated_at = $1 WHERE id = $2 AND escalated_at IS NULL AND status = 'open'",
            )
            .bind(at)
            .bind(&task_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            let mut added = 0;
            for u in &users {
                let already: Option<i64> = sqlx::query(
                    "SELECT 1 AS x FROM wf_tasks WHERE instance_id = $1 AND step_no = $2 AND assignee_id = $3",
                )
                .bind(&instance_id)
                .bind(step_no)
                .bind(&u.id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("x"))
                .transpose()?;
                if already.is_some() {
                    continue;
                }
                sqlx::query(
                    "INSERT INTO wf_tasks (id, instance_id, step_no, stage, step_name, mode, assignee_id, status, \
                     opened_at, due_at) VALUES ($1,$2,$3,$4,$5,'any',$6,'open',$7,$8)",
                )
                .bind(new_id())
                .bind(&instance_id)
                .bind(step_no)
                .bind(stage)
                .bind(&step_name)
                .bind(&u.id)
                .bind(at)
                .bind(sla.map(|h| at + h * 3_600_000_000))
                .execute(&mut *tx)
                .await?;
                crate::inbox::notify(p, tx, &u.id, "approval.escalated", &title, url.as_deref())
                    .await?;
                added += 1;
            }
            crate::run::history_row(
                tx,
                &instance_id,
                &doc_type,
                &doc_id,
                "system",
                "escalated",
                Some(step_no),
                Some(&if added > 0 {
                    note.clone()
                } else {
                    format!("nobody to escalate to: {note}")
                }),
            )
            .await?;
            boh_platform::audit::append(
                tx,
                &ctx,
                boh_platform::audit::Change {
                    action: "workflow.task.escalate",
                    entity_type: "wf_task",
                    entity_id: &task_id,
                    org_path: Some(&node.path),
                    before: None,
                    after: Some(serde_json::json!({"added": added, "note": note})),
                },
            )
            .await?;
            Ok(true)
        })?;
        out.escalated += u64::from(escalated);
    }
    Ok(out)
}

/// Sweep now (the job's body).
pub async fn run_now(p: &Platform) -> Result<Sweep> {
    sweep(p, now().micros()).await
}
