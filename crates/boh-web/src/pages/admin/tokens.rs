//! The actor's own API tokens: list, create (the token is shown once), revoke.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use boh_kernel::perm;
use boh_platform::auth::{self, ApiToken};
use boh_platform::{Ctx, FieldError, PlatformError};
use serde::Deserialize;

use super::{FlashQuery, done, no_store, opt_time};
use crate::extract::PageActor;
use crate::pages::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::state::AppState;

pub struct TokenRow {
    pub token: ApiToken,
    /// The grant as `role @ node code`, and in full (role @ code · name).
    pub grant: String,
    pub grant_full: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
    /// active, expired or revoked
    pub status: &'static str,
    pub status_label: String,
    /// The pill colour for the status.
    pub pill: &'static str,
}

/// Values of the create form.
#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub grant_id: String,
    #[serde(default)]
    pub expires_in_days: String,
}

#[derive(askama::Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    ui: Ui,
    rows: Vec<TokenRow>,
    grants: Vec<(String, String)>,
    form: TokenForm,
    errors: FormErrors,
    /// The token just created, shown this once.
    secret: Option<String>,
}

/// `2024-05-01T12:34:56Z` as `2024-05-01`.
fn date_only(s: &str) -> String {
    s.get(..10).unwrap_or(s).to_string()
}

fn is_past(rfc3339: &str) -> bool {
    rfc3339
        .parse::<jiff::Timestamp>()
        .is_ok_and(|t| t < jiff::Timestamp::now())
}

async fn page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: TokenForm,
    errors: FormErrors,
) -> Result<TokensPage, Response> {
    let tokens = auth::list_tokens(&state.platform, &ctx.actor)
        .await
        .map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "tokens",
        "tokens.title",
    )
    .await;
    // Label every grant of the actor: role and node, short and in full.
    let mut labels = HashMap::new();
    let mut grants = Vec::new();
    for g in ctx.actor.grants.iter() {
        let (code, full) = match g.node_id.as_deref() {
            Some(id) => match boh_platform::org::get(&state.platform, &ctx.actor, id).await {
                Ok(n) => (
                    n.code.clone(),
                    format!("{} · {}", n.code, n.name(&ui.locale)),
                ),
                Err(_) => (ui.t("tokens.unknown_node"), ui.t("tokens.unknown_node")),
            },
            None => (ui.t("users.everywhere"), ui.t("users.everywhere")),
        };
        let short = format!("{} @ {code}", g.role_code);
        let full = format!("{} @ {full}", g.role_code);
        if g.permissions.contains(perm::TOKEN_MANAGE) {
            grants.push((g.grant_id.clone(), full.clone()));
        }
        labels.insert(g.grant_id.clone(), (short, full));
    }
    let rows = tokens
        .into_iter()
        .map(|t| {
            let status = if t.revoked_at.is_some() {
                "revoked"
            } else if t.expires_at.as_deref().is_some_and(is_past) {
                "expired"
            } else {
                "active"
            };
            let (grant, grant_full) = t
                .grant_id
                .as_ref()
                .and_then(|g| labels.get(g).cloned())
                .unwrap_or_else(|| ("—".into(), String::new()));
            TokenRow {
                grant,
                grant_full,
                created: date_only(&t.created_at),
                last_used: opt_time(&t.last_used_at),
                expires: t
                    .expires_at
                    .as_deref()
                    .map(date_only)
                    .unwrap_or_else(|| ui.t("tokens.never")),
                pill: match status {
                    "revoked" => "closed",
                    "expired" => "inactive",
                    _ => "active",
                },
                status,
                status_label: ui.t(&format!("tokens.status.{status}")),
                token: t,
            }
        })
        .collect();
    Ok(TokensPage {
        ui,
        rows,
        grants,
        form,
        errors,
        secret: None,
    })
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(fq): Query<FlashQuery>,
) -> Response {
    let form = TokenForm {
        expires_in_days: "90".into(),
        ..Default::default()
    };
    match page(&state, &parts, &ctx, form, FormErrors::default()).await {
        Ok(mut p) => {
            fq.apply(&mut p.ui);
            render(p)
        }
        Err(r) => r,
    }
}

pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<TokenForm>,
) -> Response {
    let mut errors = Vec::new();
    let days = match form.expires_in_days.trim() {
        "" => None,
        d => match d.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::new("expires_in_days", "must be a number"));
                None
            }
        },
    };
    if form.name.trim().is_empty() {
        errors.push(FieldError::new("name", "is required"));
    }
    if form.grant_id.trim().is_empty() {
        errors.push(FieldError::new("grant_id", "is required"));
    }
    let result = if errors.is_empty() {
        auth::create_token(&state.platform, &ctx, &form.name, &form.grant_id, days)
            .await
            .map_err(|e| match e {
                // The grant is not one of the actor's own.
                PlatformError::NotFound => PlatformError::invalid("grant_id", "is not yours"),
                other => other,
            })
    } else {
        Err(PlatformError::Validation(errors))
    };
    match result {
        Ok(issued) => {
            let form = TokenForm {
                expires_in_days: "90".into(),
                ..Default::default()
            };
            match page(&state, &parts, &ctx, form, FormErrors::default()).await {
                Ok(mut p) => {
                    p.ui.flash = Some(p.ui.t("tokens.created"));
                    p.secret = Some(issued.token);
                    no_store(render(p))
                }
                Err(r) => r,
            }
        }
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => match page(&state, &parts, &ctx, form, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response(),
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
    match auth::revoke_token(&state.platform, &ctx, &id).await {
        Ok(()) => done("/admin/tokens", "revoked"),
        Err(e) => error_page(e),
    }
}
