//! Stock: on-hand, lots, documents and movements, location settings, the period lock.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use boh_inventory::ledger::{
    self, Doc, DocFilter, DocInput, LotRow, Movement, MovementFilter, StockFilter,
};
use boh_inventory::location::{
    self, AreaInput, ItemLocation, ItemLocationInput, LocationSettings, PeriodLock,
    PeriodLockInput, SettingsInput, StorageArea,
};
use boh_inventory::valuation::{self, Valuation, ValuationFilter};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::items::{CompanyParam, StockList};
use super::{PageInfo, create};
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stock))
        .routes(routes!(list_lots))
        .routes(routes!(valuation_report))
        .routes(routes!(list_movements))
        .routes(routes!(list_documents, post_document))
        .routes(routes!(find_document))
        .routes(routes!(reverse_document))
        .routes(routes!(get_stock_settings, set_stock_settings))
        .routes(routes!(list_storage_areas, save_storage_area))
        .routes(routes!(list_location_items, set_location_items))
        .routes(routes!(get_period_lock, set_period_lock))
}

/// On-hand with value per item and location in the caller's scope.
#[utoipa::path(get, path = "/api/v1/stock", tag = "inventory", params(StockFilter),
    responses((status = 200, body = StockList), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn list_stock(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<StockFilter>,
) -> ApiResult<Json<StockList>> {
    let (items, total) = ledger::list_stock(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(StockList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// The stock valuation report: quantity and value per item, category or location, now or at
/// the end of an earlier business date (`as_of`), largest value first.
#[utoipa::path(get, path = "/api/v1/stock/valuation", tag = "inventory", params(ValuationFilter),
    responses((status = 200, body = Valuation), (status = 401, body = crate::error::ErrorBody),
        (status = 404, description = "Unknown location, or one outside the caller's scope", body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn valuation_report(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<ValuationFilter>,
) -> ApiResult<Json<Valuation>> {
    Ok(Json(
        valuation::report(&state.platform, &ctx.actor, &f).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct LotParams {
    pub location_id: Option<String>,
    pub item_id: Option<String>,
    /// Only lots expiring within this many days (expired ones included).
    pub expiring_within_days: Option<i64>,
    /// At most this many rows (1–500, default 50).
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LotList {
    pub items: Vec<LotRow>,
}

/// Lots on hand, soonest expiry first.
#[utoipa::path(get, path = "/api/v1/stock/lots", tag = "inventory", params(LotParams),
    responses((status = 200, body = LotList), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn list_lots(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<LotParams>,
) -> ApiResult<Json<LotList>> {
    Ok(Json(LotList {
        items: ledger::list_lots(
            &state.platform,
            &ctx.actor,
            q.location_id.as_deref(),
            q.item_id.as_deref(),
            q.expiring_within_days,
            q.limit,
        )
        .await?,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MovementList {
    pub items: Vec<Movement>,
    pub page: PageInfo,
}

/// Stock movements in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/stock/movements", tag = "inventory", params(MovementFilter),
    responses((status = 200, body = MovementList), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn list_movements(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<MovementFilter>,
) -> ApiResult<Json<MovementList>> {
    let (items, total) = ledger::list_movements(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(MovementList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DocList {
    pub items: Vec<Doc>,
    pub page: PageInfo,
}

/// Stock documents in the caller's scope, newest first (without their movements).
#[utoipa::path(get, path = "/api/v1/stock/documents", tag = "inventory", params(DocFilter),
    responses((status = 200, body = DocList), (status = 404, body = crate::error::ErrorBody)))]
async fn list_documents(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<DocFilter>,
) -> ApiResult<Json<DocList>> {
    let (items, total) = ledger::list_docs(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(DocList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// Post a stock document: a receipt, issue, waste, adjustment, opening balance or return to
/// supplier at one location. All lines post or none; every bad line is reported at once.
/// Where the location forbids negative stock, a document that would take any on-hand below
/// zero is refused with `insufficient_stock` (409) naming each line.
#[utoipa::path(post, path = "/api/v1/stock/documents", tag = "inventory", request_body = DocInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the post safe to retry")),
    responses((status = 201, body = Doc), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn post_document(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "post_stock_document",
        body,
        async |input: DocInput, ctx: boh_platform::Ctx| {
            ledger::post_manual(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// One document with its movements.
#[utoipa::path(get, path = "/api/v1/stock/documents/{document_id}", tag = "inventory", params(("document_id" = String, Path)),
    responses((status = 200, body = Doc), (status = 404, body = crate::error::ErrorBody)))]
async fn find_document(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Doc>> {
    Ok(Json(
        ledger::get_doc(&state.platform, &ctx.actor, &id).await?,
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReverseInput {
    /// `YYYY-MM-DD`; default the original's business date.
    #[serde(default)]
    pub business_date: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Reverse a document: a new document negating every movement exactly. The ledger is
/// append-only; this is how a posted document is corrected. Once only.
#[utoipa::path(post, path = "/api/v1/stock/documents/{document_id}/reverse", tag = "inventory", params(("document_id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes the reversal safe to retry")), request_body = ReverseInput,
    responses((status = 201, body = Doc), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn reverse_document(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = if body.is_empty() {
        Bytes::from_static(b"{}")
    } else {
        body
    };
    create(
        &state,
        &ctx,
        &headers,
        &format!("reverse_stock_document:{id}"),
        body,
        async |input: ReverseInput, ctx: boh_platform::Ctx| {
            ledger::reverse(&state.platform, &ctx, &id, input.business_date, input.note).await
        },
    )
    .await
}

/// A location's stock policy.
#[utoipa::path(get, path = "/api/v1/locations/{location_id}/stock-settings", tag = "inventory", params(("location_id" = String, Path)),
    responses((status = 200, body = LocationSettings), (status = 404, body = crate::error::ErrorBody)))]
async fn get_stock_settings(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<LocationSettings>> {
    Ok(Json(
        location::get_settings(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Set a location's negative-stock policy.
#[utoipa::path(put, path = "/api/v1/locations/{location_id}/stock-settings", tag = "inventory", params(("location_id" = String, Path)),
    request_body = SettingsInput,
    responses((status = 200, body = LocationSettings), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn set_stock_settings(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<SettingsInput>,
) -> ApiResult<Json<LocationSettings>> {
    Ok(Json(
        location::set_settings(&state.platform, &ctx, &id, input).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AreaList {
    pub items: Vec<StorageArea>,
}

/// A location's storage areas in walking order.
#[utoipa::path(get, path = "/api/v1/locations/{location_id}/storage-areas", tag = "inventory", params(("location_id" = String, Path)),
    responses((status = 200, body = AreaList), (status = 404, body = crate::error::ErrorBody)))]
async fn list_storage_areas(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<AreaList>> {
    Ok(Json(AreaList {
        items: location::list_areas(&state.platform, &ctx.actor, &id).await?,
    }))
}

/// Create a storage area, or rename / reorder the one with the same code.
#[utoipa::path(post, path = "/api/v1/locations/{location_id}/storage-areas", tag = "inventory", params(("location_id" = String, Path),
    ("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")), request_body = AreaInput,
    responses((status = 201, body = StorageArea), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn save_storage_area(
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
        &format!("save_storage_area:{id}"),
        body,
        async |input: AreaInput, ctx: boh_platform::Ctx| {
            location::upsert_area(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemLocationList {
    pub items: Vec<ItemLocation>,
}

/// Per-item settings at a location: stocked, storage area, par / min / max.
#[utoipa::path(get, path = "/api/v1/locations/{location_id}/items", tag = "inventory", params(("location_id" = String, Path)),
    responses((status = 200, body = ItemLocationList), (status = 404, body = crate::error::ErrorBody)))]
async fn list_location_items(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<ItemLocationList>> {
    Ok(Json(ItemLocationList {
        items: location::list_item_locations(&state.platform, &ctx.actor, &id).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemLocationsInput {
    pub items: Vec<ItemLocationInput>,
}

/// Set per-item settings at a location (all rows validated first; nothing partial).
#[utoipa::path(put, path = "/api/v1/locations/{location_id}/items", tag = "inventory", params(("location_id" = String, Path)),
    request_body = ItemLocationsInput,
    responses((status = 200, body = ItemLocationList), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn set_location_items(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<ItemLocationsInput>,
) -> ApiResult<Json<ItemLocationList>> {
    Ok(Json(ItemLocationList {
        items: location::set_item_locations(&state.platform, &ctx, &id, input.items).await?,
    }))
}

/// The company's inventory period lock.
#[utoipa::path(get, path = "/api/v1/inventory/period-lock", tag = "inventory", params(CompanyParam),
    responses((status = 200, body = PeriodLock), (status = 404, body = crate::error::ErrorBody)))]
async fn get_period_lock(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<CompanyParam>,
) -> ApiResult<Json<PeriodLock>> {
    Ok(Json(
        location::get_period_lock(&state.platform, &ctx.actor, q.company_id.as_deref()).await?,
    ))
}

/// Lock inventory postings through a date (only forward).
#[utoipa::path(put, path = "/api/v1/inventory/period-lock", tag = "inventory", request_body = PeriodLockInput,
    responses((status = 200, body = PeriodLock), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn set_period_lock(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    crate::extract::Json(input): crate::extract::Json<PeriodLockInput>,
) -> ApiResult<Json<PeriodLock>> {
    Ok(Json(
        location::lock_period(&state.platform, &ctx, input).await?,
    ))
}
