//! The item catalogue: categories and items.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use boh_inventory::catalog::{self, Category, Item, ItemFilter, ItemInput, ItemPatch, NewCategory};
use boh_inventory::ledger::{self, StockFilter, StockRow};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_categories, create_category))
        .routes(routes!(find_category))
        .routes(routes!(list_items, create_item))
        .routes(routes!(find_item, update_item))
        .routes(routes!(item_stock))
        .routes(routes!(item_history))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CategoryList {
    pub items: Vec<Category>,
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CompanyParam {
    /// The company; default the caller's.
    pub company_id: Option<String>,
}

/// The company's item categories, parents before their children.
#[utoipa::path(get, path = "/api/v1/categories", tag = "inventory", params(CompanyParam),
    responses((status = 200, body = CategoryList), (status = 401, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn list_categories(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<CompanyParam>,
) -> ApiResult<Json<CategoryList>> {
    Ok(Json(CategoryList {
        items: catalog::list_categories(&state.platform, &ctx.actor, q.company_id.as_deref())
            .await?,
    }))
}

/// Create a category, or update the one with the same code.
#[utoipa::path(post, path = "/api/v1/categories", tag = "inventory", request_body = NewCategory,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Category), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_category(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_category",
        body,
        async |input: NewCategory, ctx: boh_platform::Ctx| {
            catalog::upsert_category(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// One category.
#[utoipa::path(get, path = "/api/v1/categories/{category_id}", tag = "inventory", params(("category_id" = String, Path)),
    responses((status = 200, body = Category), (status = 404, body = crate::error::ErrorBody)))]
async fn find_category(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Category>> {
    Ok(Json(
        catalog::get_category(&state.platform, &ctx.actor, &id).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ItemList {
    pub items: Vec<Item>,
    pub page: PageInfo,
}

/// The company's items, sorted by code; search by code, name, POS code or barcode.
#[utoipa::path(get, path = "/api/v1/items", tag = "inventory", params(ItemFilter),
    responses((status = 200, body = ItemList), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn list_items(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<ItemFilter>,
) -> ApiResult<Json<ItemList>> {
    let (items, total) = catalog::list_items(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(ItemList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// Create an item (its code must be new in the company).
#[utoipa::path(post, path = "/api/v1/items", tag = "inventory", request_body = ItemInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Item), (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_item(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_item",
        body,
        async |input: ItemInput, ctx: boh_platform::Ctx| {
            catalog::create_item(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// One item with its units and barcodes.
#[utoipa::path(get, path = "/api/v1/items/{item_id}", tag = "inventory", params(("item_id" = String, Path)),
    responses((status = 200, body = Item), (status = 404, body = crate::error::ErrorBody)))]
async fn find_item(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Item>> {
    Ok(Json(
        catalog::get_item(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Change an item; send `version` to guard against lost updates. `units` and `barcodes`
/// replace the lists when given. The base unit never changes.
#[utoipa::path(patch, path = "/api/v1/items/{item_id}", tag = "inventory", params(("item_id" = String, Path)), request_body = ItemPatch,
    responses((status = 200, body = Item), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn update_item(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(patch): crate::extract::Json<ItemPatch>,
) -> ApiResult<Json<Item>> {
    Ok(Json(
        catalog::update_item(&state.platform, &ctx, &id, patch).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct StockList {
    pub items: Vec<StockRow>,
    pub page: PageInfo,
}

/// On-hand of the item at every location in the caller's scope.
#[utoipa::path(get, path = "/api/v1/items/{item_id}/stock", tag = "inventory", params(("item_id" = String, Path)),
    responses((status = 200, body = StockList), (status = 404, body = crate::error::ErrorBody)))]
async fn item_stock(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<StockList>> {
    let item = catalog::get_item(&state.platform, &ctx.actor, &id).await?;
    let f = StockFilter {
        item_id: Some(item.id),
        include_zero: Some(true),
        limit: Some(500),
        ..StockFilter::default()
    };
    let (items, total) = ledger::list_stock(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(StockList {
        items,
        page: PageInfo::new(total, 500, 0),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct HistoryParams {
    /// Only this location (default: every location in scope).
    pub location_id: Option<String>,
    /// Days back from today (1–730, default 90).
    pub days: Option<i64>,
}

/// One day of an item's on-hand.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DayLevel {
    pub date: String,
    #[schema(value_type = String)]
    pub qty: boh_kernel::Qty,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct History {
    pub item_id: String,
    pub base_unit: String,
    pub days: Vec<DayLevel>,
}

/// The item's on-hand at the end of each recent day.
#[utoipa::path(get, path = "/api/v1/items/{item_id}/history", tag = "inventory", params(("item_id" = String, Path), HistoryParams),
    responses((status = 200, body = History), (status = 404, body = crate::error::ErrorBody)))]
async fn item_history(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<HistoryParams>,
) -> ApiResult<Json<History>> {
    let item = catalog::get_item(&state.platform, &ctx.actor, &id).await?;
    let days = ledger::daily_on_hand(
        &state.platform,
        &ctx.actor,
        &item.id,
        q.location_id.as_deref(),
        q.days.unwrap_or(90),
    )
    .await?;
    Ok(Json(History {
        item_id: item.id,
        base_unit: item.base_unit,
        days: days
            .into_iter()
            .map(|(date, qty)| DayLevel { date, qty })
            .collect(),
    }))
}
