//! "My approvals": the caller's open tasks with approve / reject (phone-first cards), what they
//! decided lately, their notifications and their delegations while away.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_kernel::qty::money_text;
use boh_workflow::inbox::{self, Delegation, DelegationInput, InboxItem, Notification};
use boh_workflow::run::{self, DecisionInput, Verdict};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

/// An inbox line with what the page shows of its facts.
pub struct Card {
    pub item: InboxItem,
    pub amount: Option<String>,
    pub facts: Vec<(String, String)>,
}

fn card(item: InboxItem) -> Card {
    let mut facts = Vec::new();
    let mut amount = None;
    if let Some(o) = item.facts.as_object() {
        for (k, v) in o {
            match (k.as_str(), v) {
                ("amount", serde_json::Value::Number(n)) => {
                    amount = n.as_i64().map(money_text);
                }
                ("org" | "org_kind" | "requester" | "items", _) => {}
                (_, serde_json::Value::String(s)) => facts.push((k.clone(), s.clone())),
                (_, serde_json::Value::Number(n)) => facts.push((k.clone(), n.to_string())),
                (_, serde_json::Value::Array(a)) if !a.is_empty() => facts.push((
                    k.clone(),
                    a.iter()
                        .filter_map(|x| x.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                )),
                _ => {}
            }
        }
    }
    Card {
        item,
        amount,
        facts,
    }
}

#[derive(askama::Template)]
#[template(path = "approvals/inbox.html")]
struct InboxPage {
    ui: Ui,
    tab: String,
    cards: Vec<Card>,
    open: i64,
    notifications: Vec<Notification>,
    delegations: Vec<Delegation>,
    errors: FormErrors,
    delegate_form: DelegateForm,
}

impl InboxPage {
    fn short(&self, s: &str) -> String {
        super::admin::short_time(s)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct InboxQuery {
    #[serde(default)]
    pub tab: String,
    #[serde(default)]
    pub done: String,
}

#[derive(Debug, Default, Clone, Deserialize)]
pub struct DelegateForm {
    #[serde(default)]
    pub delegate_username: String,
    #[serde(default)]
    pub starts_on: String,
    #[serde(default)]
    pub ends_on: String,
    #[serde(default)]
    pub note: String,
}

async fn page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    tab: &str,
    errors: FormErrors,
    delegate_form: DelegateForm,
) -> Result<InboxPage, Response> {
    let p = &state.platform;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "approvals",
        "approval.title",
    )
    .await;
    let tab = if tab == "decided" { "decided" } else { "open" };
    let items = inbox::list(p, &ctx.actor, tab, 100)
        .await
        .map_err(error_page)?;
    let open = inbox::open_count(p, &ctx.actor).await.map_err(error_page)?;
    let notifications = inbox::notifications(p, &ctx.actor, 10)
        .await
        .map_err(error_page)?;
    let delegations = inbox::delegations(p, &ctx.actor)
        .await
        .map_err(error_page)?;
    Ok(InboxPage {
        ui,
        tab: tab.to_string(),
        cards: items.into_iter().map(card).collect(),
        open,
        notifications,
        delegations,
        errors,
        delegate_form,
    })
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<InboxQuery>,
) -> Response {
    match page(
        &state,
        &parts,
        &ctx,
        &q.tab,
        FormErrors::default(),
        DelegateForm::default(),
    )
    .await
    {
        Ok(mut pg) => {
            pg.ui.flash = match q.done.as_str() {
                "approved" => Some(pg.ui.t("approval.done_approved")),
                "rejected" => Some(pg.ui.t("approval.done_rejected")),
                "delegated" => Some(pg.ui.t("approval.done_delegated")),
                "revoked" => Some(pg.ui.t("approval.done_revoked")),
                _ => None,
            };
            render(pg)
        }
        Err(r) => r,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DecideForm {
    #[serde(default)]
    pub decision: String,
    #[serde(default)]
    pub comment: String,
}

/// Approve or reject from the inbox; a refusal re-renders the inbox with the reason.
pub async fn decide(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(task_id): Path<String>,
    Form(form): Form<DecideForm>,
) -> Response {
    let decision = match form.decision.as_str() {
        "approve" => Verdict::Approve,
        _ => Verdict::Reject,
    };
    let input = DecisionInput {
        decision,
        comment: Some(form.comment.clone()).filter(|c| !c.trim().is_empty()),
    };
    match run::decide(&state.platform, &ctx, &task_id, &input).await {
        Ok(_) => Redirect::to(match decision {
            Verdict::Approve => "/approvals?done=approved",
            Verdict::Reject => "/approvals?done=rejected",
        })
        .into_response(),
        Err(e) => {
            let errors = match e {
                boh_platform::PlatformError::Refused { message, .. } => Ok(FormErrors {
                    general: Some(crate::i18n::field_message(&ctx.actor.locale, &message)),
                    fields: Vec::new(),
                }),
                other => FormErrors::from_platform(other, &ctx.actor.locale),
            };
            match errors {
                Ok(mut errors) => {
                    if let Some(f) = errors.fields.first() {
                        errors.general = Some(f.message.clone());
                    }
                    match page(
                        &state,
                        &parts,
                        &ctx,
                        "open",
                        errors,
                        DelegateForm::default(),
                    )
                    .await
                    {
                        Ok(pg) => (StatusCode::UNPROCESSABLE_ENTITY, render(pg)).into_response(),
                        Err(r) => r,
                    }
                }
                Err(r) => r,
            }
        }
    }
}

pub async fn delegate(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<DelegateForm>,
) -> Response {
    let input = DelegationInput {
        delegate_username: form.delegate_username.trim().to_string(),
        starts_on: form.starts_on.trim().to_string(),
        ends_on: form.ends_on.trim().to_string(),
        note: Some(form.note.clone()).filter(|n| !n.trim().is_empty()),
    };
    match inbox::delegate(&state.platform, &ctx, &input).await {
        Ok(_) => Redirect::to("/approvals?done=delegated").into_response(),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => match page(&state, &parts, &ctx, "open", errors, form).await {
                Ok(pg) => (StatusCode::UNPROCESSABLE_ENTITY, render(pg)).into_response(),
                Err(r) => r,
            },
            Err(r) => r,
        },
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match inbox::revoke_delegation(&state.platform, &ctx, &id).await {
        Ok(()) => Redirect::to("/approvals?done=revoked").into_response(),
        Err(e) => error_page(e),
    }
}

/// Mark notifications read and go back to the inbox.
pub async fn read_all(State(state): State<AppState>, PageActor(ctx): PageActor) -> Response {
    match inbox::mark_read(&state.platform, &ctx.actor).await {
        Ok(_) => Redirect::to("/approvals").into_response(),
        Err(e) => error_page(e),
    }
}
