//! The audit log with filters and paging, the chain head, and starting a chain verification.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use boh_kernel::{Actor, perm};
use boh_platform::audit::{self, AuditRow, ListFilter};
use boh_platform::{Ctx, PlatformError};
use serde::Deserialize;
use serde_json::Value;

use super::{Pager, short_time, some};
use crate::extract::{PageActor, urlencode};
use crate::pages::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::state::AppState;

const PAGE: i64 = 50;
/// Entity types offered as suggestions in the filter.
const ENTITY_TYPES: &[&str] = &[
    "org_node",
    "user",
    "role",
    "grant",
    "api_token",
    "webhook_subscription",
    "webhook_delivery",
];
/// Longest value shown in a diff line.
const MAX_VALUE: usize = 120;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    pub entity_type: String,
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub offset: i64,
}

pub struct AuditLine {
    pub row: AuditRow,
    /// The time as date and clock, so a narrow column wraps between them.
    pub date: String,
    pub clock: String,
    /// The end of the entity id (the start of a time-ordered id is the same for a while).
    pub short_id: String,
    pub changes: Vec<String>,
}

#[derive(askama::Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    ui: Ui,
    rows: Vec<AuditLine>,
    entity_type: String,
    actor: String,
    entity_types: &'static [&'static str],
    pager: Pager,
    can_verify: bool,
    head: Option<String>,
    verify_head: String,
    errors: FormErrors,
}

/// `audit.verify` at a top-level grant (the company or above), as the API requires.
pub fn can_verify(actor: &Actor) -> bool {
    actor
        .grants
        .iter()
        .any(|g| g.permissions.contains(perm::AUDIT_VERIFY) && g.path.matches('/').count() <= 2)
}

fn show(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.chars().count() > MAX_VALUE {
        let cut: String = s.chars().take(MAX_VALUE).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// A compact before → after description, one line per changed key (a created or deleted
/// record lists its non-empty values).
pub fn diff_lines(before: Option<&Value>, after: Option<&Value>) -> Vec<String> {
    match (before, after) {
        (None | Some(Value::Null), None | Some(Value::Null)) => Vec::new(),
        (Some(Value::Object(b)), Some(Value::Object(a))) => {
            let keys: std::collections::BTreeSet<&String> = b.keys().chain(a.keys()).collect();
            keys.into_iter()
                .filter_map(|k| match (b.get(k), a.get(k)) {
                    (x, y) if x == y => None,
                    (Some(x), Some(y)) => Some(format!("{k}: {} → {}", show(x), show(y))),
                    (None, Some(y)) => Some(format!("{k}: — → {}", show(y))),
                    (Some(x), None) => Some(format!("{k}: {} → —", show(x))),
                    (None, None) => None,
                })
                .collect()
        }
        (None | Some(Value::Null), Some(Value::Object(a))) => a
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("+ {k}: {}", show(v)))
            .collect(),
        (Some(Value::Object(b)), None | Some(Value::Null)) => b
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| format!("− {k}: {}", show(v)))
            .collect(),
        (b, a) => vec![format!(
            "{} → {}",
            b.map(show).unwrap_or_else(|| "—".into()),
            a.map(show).unwrap_or_else(|| "—".into())
        )],
    }
}

async fn page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    q: AuditQuery,
    verify_head: String,
    errors: FormErrors,
) -> Result<AuditPage, Response> {
    let offset = q.offset.max(0);
    let f = ListFilter {
        entity_type: some(&q.entity_type),
        entity_id: None,
        actor: some(&q.actor),
        limit: PAGE,
        offset,
    };
    let (rows, total) = audit::list(&state.platform.db, &ctx.actor, &f)
        .await
        .map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "audit",
        "audit.title",
    )
    .await;
    let verify = can_verify(&ctx.actor);
    let head = if verify {
        audit::head(&state.platform.db)
            .await
            .ok()
            .map(|h| format!("{}:{}", h.seq, h.hash))
    } else {
        None
    };
    let base = format!(
        "/admin/audit?entity_type={}&actor={}&",
        urlencode(&q.entity_type),
        urlencode(&q.actor)
    );
    let rows = rows
        .into_iter()
        .map(|r| AuditLine {
            date: short_time(&r.at).get(..10).unwrap_or_default().to_string(),
            clock: short_time(&r.at).get(11..).unwrap_or_default().to_string(),
            short_id: r
                .entity_id
                .get(r.entity_id.len().saturating_sub(8)..)
                .unwrap_or(&r.entity_id)
                .to_string(),
            changes: diff_lines(r.before.as_ref(), r.after.as_ref()),
            row: r,
        })
        .collect();
    Ok(AuditPage {
        pager: Pager::new(&ui, &base, offset, PAGE, total),
        ui,
        rows,
        entity_type: q.entity_type,
        actor: q.actor,
        entity_types: ENTITY_TYPES,
        can_verify: verify,
        head,
        verify_head,
        errors,
    })
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<AuditQuery>,
) -> Response {
    match page(
        &state,
        &parts,
        &ctx,
        q,
        String::new(),
        FormErrors::default(),
    )
    .await
    {
        Ok(p) => render(p),
        Err(r) => r,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    pub head: String,
}

pub async fn verify(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<VerifyForm>,
) -> Response {
    if !can_verify(&ctx.actor) {
        return error_page(PlatformError::Forbidden(perm::AUDIT_VERIFY));
    }
    let head = some(&form.head);
    if head
        .as_deref()
        .is_some_and(|h| audit::parse_head(h).is_none())
    {
        let e = PlatformError::invalid("head", "must be SEQ:HASH with a 64-character hex hash");
        return match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => {
                match page(
                    &state,
                    &parts,
                    &ctx,
                    AuditQuery::default(),
                    form.head,
                    errors,
                )
                .await
                {
                    Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response(),
                    Err(r) => r,
                }
            }
            Err(r) => r,
        };
    }
    match boh_platform::jobs::enqueue(
        &state.platform,
        "audit.verify",
        &serde_json::json!({ "head": head }),
        None,
        Some(&ctx.actor.user_id),
    )
    .await
    {
        Ok(job_id) => Redirect::to(&format!("/admin/jobs/{job_id}")).into_response(),
        Err(e) => error_page(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diffs_list_changed_keys_only() {
        let b = json!({"a": 1, "b": "x", "c": true});
        let a = json!({"a": 1, "b": "y", "d": null});
        assert_eq!(
            diff_lines(Some(&b), Some(&a)),
            vec!["b: x → y", "c: true → —", "d: — → null"]
        );
        assert_eq!(
            diff_lines(None, Some(&json!({"k": "v", "empty": null}))),
            vec!["+ k: v"]
        );
        assert_eq!(diff_lines(Some(&json!({"k": 2})), None), vec!["− k: 2"]);
        assert!(diff_lines(None, None).is_empty());
        assert_eq!(diff_lines(Some(&json!(1)), Some(&json!(2))), vec!["1 → 2"]);
        let long = "x".repeat(500);
        assert!(diff_lines(None, Some(&json!({ "k": long })))[0].ends_with('…'));
    }
}
