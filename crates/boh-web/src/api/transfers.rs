//! Transfers between locations and stock counts.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use boh_inventory::count::{
    self, Count, CountFilter, CountInput, EntriesInput, EntriesResult, SubmitInput,
};
use boh_inventory::transfer::{
    self, CancelInput, InTransit, ReceiveInput, ShipInput, Transfer, TransferFilter, TransferInput,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_transfers, request_transfer))
        .routes(routes!(list_in_transit))
        .routes(routes!(find_transfer))
        .routes(routes!(ship_transfer))
        .routes(routes!(receive_transfer))
        .routes(routes!(cancel_transfer))
        .routes(routes!(list_counts, start_count))
        .routes(routes!(find_count))
        .routes(routes!(add_count_lines))
        .routes(routes!(submit_count))
        .routes(routes!(post_count))
        .routes(routes!(cancel_count))
}

/// A body that may be empty (`{}` then).
fn or_empty(body: Bytes) -> Bytes {
    if body.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        body
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TransferList {
    pub items: Vec<Transfer>,
    pub page: PageInfo,
}

/// Transfers from or to locations in the caller's scope, newest first. `status=shipped` lists
/// what is in transit.
#[utoipa::path(get, path = "/api/v1/transfers", tag = "inventory", params(TransferFilter),
    responses((status = 200, body = TransferList), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn list_transfers(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<TransferFilter>,
) -> ApiResult<Json<TransferList>> {
    let (items, total) = transfer::list(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(TransferList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// Request a transfer from a location (where the caller holds `inventory.transfer`) to a store
/// of the same company. Every bad field and line is reported at once; nothing partial is
/// written.
#[utoipa::path(post, path = "/api/v1/transfers", tag = "inventory", request_body = TransferInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry")),
    responses((status = 201, body = Transfer), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn request_transfer(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "request_transfer",
        body,
        async |input: TransferInput, ctx: boh_platform::Ctx| {
            transfer::request(&state.platform, &ctx, input).await
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InTransitList {
    pub items: Vec<InTransit>,
}

/// Quantity and value shipped and not yet received, per item and route, in the caller's scope.
#[utoipa::path(get, path = "/api/v1/transfers/in-transit", tag = "inventory",
    responses((status = 200, body = InTransitList)))]
async fn list_in_transit(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<InTransitList>> {
    Ok(Json(InTransitList {
        items: transfer::in_transit(&state.platform, &ctx.actor).await?,
    }))
}

/// One transfer with its lines and discrepancies.
#[utoipa::path(get, path = "/api/v1/transfers/{transfer_id}", tag = "inventory", params(("transfer_id" = String, Path)),
    responses((status = 200, body = Transfer), (status = 404, body = crate::error::ErrorBody)))]
async fn find_transfer(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Transfer>> {
    Ok(Json(transfer::get(&state.platform, &ctx.actor, &id).await?))
}

/// Ship a requested transfer: stock leaves the source (`transfer_out`, first-expired first-out,
/// at the moving-average cost) and is in transit. `insufficient_stock` (409) names every line
/// the source lacks; `invalid_state` (409) when it is not `requested`.
#[utoipa::path(post, path = "/api/v1/transfers/{transfer_id}/ship", tag = "inventory", request_body = ShipInput,
    params(("transfer_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the shipment safe to retry")),
    responses((status = 201, body = Transfer), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn ship_transfer(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        &format!("ship_transfer:{id}"),
        or_empty(body),
        async |input: ShipInput, ctx: boh_platform::Ctx| {
            transfer::ship(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

/// Receive a shipped transfer at its destination (`transfer_in` at the shipped value). Lines
/// not listed arrived complete; damaged and short quantities are recorded as discrepancies and
/// written off as waste at the destination, over quantities come in at the shipped cost.
#[utoipa::path(post, path = "/api/v1/transfers/{transfer_id}/receive", tag = "inventory", request_body = ReceiveInput,
    params(("transfer_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the receipt safe to retry")),
    responses((status = 201, body = Transfer), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn receive_transfer(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        &format!("receive_transfer:{id}"),
        or_empty(body),
        async |input: ReceiveInput, ctx: boh_platform::Ctx| {
            transfer::receive(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

/// Cancel a transfer that has not shipped.
#[utoipa::path(post, path = "/api/v1/transfers/{transfer_id}/cancel", tag = "inventory", request_body = CancelInput,
    params(("transfer_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the cancellation safe to retry")),
    responses((status = 201, body = Transfer), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn cancel_transfer(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        &format!("cancel_transfer:{id}"),
        or_empty(body),
        async |input: CancelInput, ctx: boh_platform::Ctx| {
            transfer::cancel(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CountList {
    pub items: Vec<Count>,
    pub page: PageInfo,
}

/// Counts at locations in the caller's scope, newest first (without lines).
#[utoipa::path(get, path = "/api/v1/counts", tag = "inventory", params(CountFilter),
    responses((status = 200, body = CountList), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn list_counts(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<CountFilter>,
) -> ApiResult<Json<CountList>> {
    let (items, total) = count::list(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(CountList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// Start a full or cycle count: the snapshot of expected on-hand is taken now.
#[utoipa::path(post, path = "/api/v1/counts", tag = "inventory", request_body = CountInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the start safe to retry")),
    responses((status = 201, body = Count), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn start_count(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "start_count",
        body,
        async |input: CountInput, ctx: boh_platform::Ctx| {
            count::start(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// One count with its lines in walking order. Expected quantities and variances are present
/// only when the caller may see them (never while a blind count is open).
#[utoipa::path(get, path = "/api/v1/counts/{count_id}", tag = "inventory", params(("count_id" = String, Path)),
    responses((status = 200, body = Count), (status = 404, body = crate::error::ErrorBody)))]
async fn find_count(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Count>> {
    Ok(Json(count::get(&state.platform, &ctx.actor, &id).await?))
}

/// Record counted quantities (`add` or `set`), in the base unit or one of the item's units.
/// Every bad entry is reported at once; nothing is written unless all are good.
#[utoipa::path(post, path = "/api/v1/counts/{count_id}/lines", tag = "inventory", request_body = EntriesInput,
    params(("count_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the entries safe to retry")),
    responses((status = 201, body = EntriesResult), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn add_count_lines(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        &format!("count_lines:{id}"),
        body,
        async |input: EntriesInput, ctx: boh_platform::Ctx| {
            count::add_entries(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

/// Submit an open count for review; every uncounted line is named at once unless
/// `uncounted_as_zero`.
#[utoipa::path(post, path = "/api/v1/counts/{count_id}/submit", tag = "inventory", request_body = SubmitInput,
    params(("count_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the submission safe to retry")),
    responses((status = 201, body = Count), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn submit_count(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        &format!("submit_count:{id}"),
        or_empty(body),
        async |input: SubmitInput, ctx: boh_platform::Ctx| {
            count::submit(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PostCountInput {}

/// Post a submitted count: one `count` document adjusting every line to what was counted
/// (variance = counted − (snapshot + movements since the snapshot)), valued at the
/// moving-average cost.
#[utoipa::path(post, path = "/api/v1/counts/{count_id}/post", tag = "inventory", request_body = PostCountInput,
    params(("count_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the posting safe to retry")),
    responses((status = 201, body = Count), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn post_count(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        &format!("post_count:{id}"),
        or_empty(body),
        async |_input: PostCountInput, ctx: boh_platform::Ctx| {
            count::post(&state.platform, &ctx, &id).await
        },
    )
    .await
}

/// Cancel an open or submitted count.
#[utoipa::path(post, path = "/api/v1/counts/{count_id}/cancel", tag = "inventory", request_body = PostCountInput,
    params(("count_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the cancellation safe to retry")),
    responses((status = 201, body = Count), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn cancel_count(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        &format!("cancel_count:{id}"),
        or_empty(body),
        async |_input: PostCountInput, ctx: boh_platform::Ctx| {
            count::cancel(&state.platform, &ctx, &id).await
        },
    )
    .await
}
