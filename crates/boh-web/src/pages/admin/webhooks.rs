//! Webhook subscriptions: list, create (the signing secret is shown once), detail with
//! enable / disable and the deliveries with replay.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use boh_kernel::perm;
use boh_platform::org::{self, NodeFilter, OrgNode};
use boh_platform::webhooks::{self, Delivery, NewSubscription, Subscription};
use boh_platform::{Ctx, FieldError, PlatformError};
use serde::Deserialize;

use super::{FlashQuery, done, no_store, short_time, some};
use crate::extract::PageActor;
use crate::pages::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::state::AppState;

pub struct SubRow {
    pub sub: Subscription,
    pub node: String,
    pub created: String,
}

/// Values of the create form.
#[derive(Debug, Default, Deserialize)]
pub struct SubForm {
    #[serde(default)]
    pub org_node_id: String,
    #[serde(default)]
    pub url: String,
    #[serde(default)]
    pub topics: String,
    #[serde(default)]
    pub description: String,
}

#[derive(askama::Template)]
#[template(path = "admin/webhooks.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<SubRow>,
    nodes: Vec<(String, String)>,
    form: SubForm,
    errors: FormErrors,
    /// The signing secret of the subscription just created, shown this once.
    secret: Option<String>,
}

fn node_label(n: &OrgNode, ui: &Ui) -> String {
    format!(
        "{} · {} ({})",
        n.code,
        n.name(&ui.locale),
        ui.t(&format!("kind.{}", n.kind))
    )
}

/// Nodes the actor may read, by id.
async fn nodes_by_id(state: &AppState, ctx: &Ctx) -> HashMap<String, OrgNode> {
    let f = NodeFilter {
        limit: Some(500),
        ..Default::default()
    };
    org::list(&state.platform, &ctx.actor, &f)
        .await
        .map(|(ns, _)| ns.into_iter().map(|n| (n.id.clone(), n)).collect())
        .unwrap_or_default()
}

/// The refusal for an actor who manages no webhooks anywhere.
fn refuse_unless_manager(ctx: &Ctx) -> Option<Response> {
    (!ctx.actor.has_anywhere(perm::WEBHOOK_MANAGE))
        .then(|| error_page(PlatformError::Forbidden(perm::WEBHOOK_MANAGE)))
}

async fn list_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: SubForm,
    errors: FormErrors,
) -> Result<ListPage, Response> {
    if let Some(r) = refuse_unless_manager(ctx) {
        return Err(r);
    }
    let subs = webhooks::list(&state.platform, &ctx.actor)
        .await
        .map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "webhooks",
        "webhooks.title",
    )
    .await;
    let nodes = nodes_by_id(state, ctx).await;
    let rows = subs
        .into_iter()
        .map(|s| SubRow {
            node: nodes
                .get(&s.org_node_id)
                .map(|n| node_label(n, &ui))
                .unwrap_or_else(|| "—".into()),
            created: short_time(&s.created_at),
            sub: s,
        })
        .collect();
    let mut options: Vec<&OrgNode> = nodes
        .values()
        .filter(|n| ctx.actor.allows(perm::WEBHOOK_MANAGE, &n.path))
        .collect();
    options.sort_by(|a, b| a.depth.cmp(&b.depth).then_with(|| a.code.cmp(&b.code)));
    let nodes = options
        .into_iter()
        .map(|n| (n.id.clone(), node_label(n, &ui)))
        .collect();
    Ok(ListPage {
        ui,
        rows,
        nodes,
        form,
        errors,
        secret: None,
    })
}

fn blank_form() -> SubForm {
    SubForm {
        topics: "*".into(),
        ..Default::default()
    }
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(fq): Query<FlashQuery>,
) -> Response {
    match list_page(&state, &parts, &ctx, blank_form(), FormErrors::default()).await {
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
    Form(form): Form<SubForm>,
) -> Response {
    let result = if form.org_node_id.trim().is_empty() {
        Err(PlatformError::Validation(vec![FieldError::new(
            "org_node_id",
            "is required",
        )]))
    } else {
        let input = NewSubscription {
            org_node_id: form.org_node_id.clone(),
            url: form.url.clone(),
            topics: Some(some(&form.topics).unwrap_or_else(|| "*".into())),
            description: some(&form.description),
        };
        webhooks::create(&state.platform, &ctx, input).await
    };
    match result {
        Ok(created) => {
            match list_page(&state, &parts, &ctx, blank_form(), FormErrors::default()).await {
                Ok(mut p) => {
                    p.ui.flash = Some(p.ui.t("webhooks.created"));
                    p.secret = Some(created.secret);
                    no_store(render(p))
                }
                Err(r) => r,
            }
        }
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => match list_page(&state, &parts, &ctx, form, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response(),
                Err(r) => r,
            },
            Err(r) => r,
        },
    }
}

pub struct DeliveryRow {
    pub d: Delivery,
    pub status_label: String,
    pub created: String,
    pub next_attempt: String,
}

#[derive(askama::Template)]
#[template(path = "admin/webhook_detail.html")]
struct DetailPage {
    ui: Ui,
    sub: Subscription,
    node: String,
    created: String,
    deliveries: Vec<DeliveryRow>,
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(fq): Query<FlashQuery>,
) -> Response {
    let p = &state.platform;
    let sub = match webhooks::get(p, &ctx.actor, &id).await {
        Ok(s) => s,
        Err(e) => return error_page(e),
    };
    let deliveries = match webhooks::deliveries(p, &ctx.actor, &id, 100).await {
        Ok(d) => d,
        Err(e) => return error_page(e),
    };
    let mut ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "webhooks",
        "webhooks.detail",
    )
    .await;
    fq.apply(&mut ui);
    let node = match org::get(p, &ctx.actor, &sub.org_node_id).await {
        Ok(n) => node_label(&n, &ui),
        Err(_) => "—".into(),
    };
    let deliveries = deliveries
        .into_iter()
        .map(|d| DeliveryRow {
            status_label: ui.t(&format!("webhooks.status.{}", d.status)),
            created: short_time(&d.created_at),
            next_attempt: if d.status == "pending" {
                short_time(&d.next_attempt_at)
            } else {
                "—".into()
            },
            d,
        })
        .collect();
    render(DetailPage {
        created: short_time(&sub.created_at),
        ui,
        sub,
        node,
        deliveries,
    })
}

async fn set_active(state: AppState, ctx: Ctx, id: String, active: bool) -> Response {
    match webhooks::set_active(&state.platform, &ctx, &id, active).await {
        Ok(s) => done(
            &format!("/admin/webhooks/{}", s.id),
            if active { "enabled" } else { "disabled" },
        ),
        Err(e) => error_page(e),
    }
}

pub async fn enable(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    set_active(state, ctx, id, true).await
}

pub async fn disable(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    set_active(state, ctx, id, false).await
}

pub async fn replay(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match webhooks::replay(&state.platform, &ctx, &id).await {
        Ok(d) => done(
            &format!("/admin/webhooks/{}", d.subscription_id),
            "replayed",
        ),
        Err(e) => error_page(e),
    }
}
