//! Webhook subscriptions, their delivery log and manual replay.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use boh_platform::webhooks::{self, CreatedSubscription, Delivery, NewSubscription, Subscription};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{Paging, create};
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(find_webhook))
        .routes(routes!(enable_webhook))
        .routes(routes!(disable_webhook))
        .routes(routes!(list_webhook_deliveries))
        .routes(routes!(replay_webhook_delivery))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscriptionList {
    pub items: Vec<Subscription>,
}

/// Webhook subscriptions in the caller's scope.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", responses((status = 200, body = SubscriptionList)))]
async fn list_webhooks(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<SubscriptionList>> {
    Ok(Json(SubscriptionList {
        items: webhooks::list(&state.platform, &ctx.actor).await?,
    }))
}

/// Subscribe a URL to events of an org subtree; the signing secret is in this response only.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewSubscription,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = CreatedSubscription), (status = 422, body = crate::error::ErrorBody)))]
async fn create_webhook(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_webhook",
        body,
        async |input: NewSubscription, ctx: boh_platform::Ctx| {
            webhooks::create(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// One subscription.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}", tag = "webhooks", params(("webhook_id" = String, Path)), responses((status = 200, body = Subscription), (status = 404, body = crate::error::ErrorBody)))]
async fn find_webhook(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Subscription>> {
    Ok(Json(webhooks::get(&state.platform, &ctx.actor, &id).await?))
}

/// Resume sending to a subscription.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/enable", tag = "webhooks", params(("webhook_id" = String, Path)), responses((status = 200, body = Subscription)))]
async fn enable_webhook(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Subscription>> {
    Ok(Json(
        webhooks::set_active(&state.platform, &ctx, &id, true).await?,
    ))
}

/// Stop sending to a subscription.
#[utoipa::path(post, path = "/api/v1/webhooks/{webhook_id}/disable", tag = "webhooks", params(("webhook_id" = String, Path)), responses((status = 200, body = Subscription)))]
async fn disable_webhook(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Subscription>> {
    Ok(Json(
        webhooks::set_active(&state.platform, &ctx, &id, false).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryList {
    pub items: Vec<Delivery>,
}

/// The delivery log of a subscription, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{webhook_id}/deliveries", tag = "webhooks", params(("webhook_id" = String, Path), Paging), responses((status = 200, body = DeliveryList)))]
async fn list_webhook_deliveries(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(pg): Query<Paging>,
) -> ApiResult<Json<DeliveryList>> {
    Ok(Json(DeliveryList {
        items: webhooks::deliveries(&state.platform, &ctx.actor, &id, pg.limit()).await?,
    }))
}

/// Send a delivery again now.
#[utoipa::path(post, path = "/api/v1/webhook-deliveries/{delivery_id}/replay", tag = "webhooks", params(("delivery_id" = String, Path)), responses((status = 200, body = Delivery), (status = 404, body = crate::error::ErrorBody)))]
async fn replay_webhook_delivery(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Delivery>> {
    Ok(Json(webhooks::replay(&state.platform, &ctx, &id).await?))
}
