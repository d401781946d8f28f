//! Suppliers, the items they sell and their dated prices; the price in force for an item.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use boh_inventory::supplier::{
    self, Price, PriceFilter, PriceInForce, PriceInput, Supplier, SupplierFilter, SupplierInput,
    SupplierItem, SupplierItemInput, SupplierPatch,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_suppliers, create_supplier))
        .routes(routes!(find_supplier, update_supplier))
        .routes(routes!(list_supplier_items, save_supplier_item))
        .routes(routes!(list_supplier_prices, add_supplier_price))
        .routes(routes!(item_price))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SupplierList {
    pub items: Vec<Supplier>,
    pub page: PageInfo,
}

/// The company's suppliers by code; search by code, name, contact, phone or e-mail.
#[utoipa::path(get, path = "/api/v1/suppliers", tag = "purchasing", params(SupplierFilter),
    responses((status = 200, body = SupplierList), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_suppliers(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<SupplierFilter>,
) -> ApiResult<Json<SupplierList>> {
    let (items, total) = supplier::list_suppliers(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(SupplierList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// Create a supplier (its code must be new in the company). Needs
/// `inventory.catalog.manage` at the company.
#[utoipa::path(post, path = "/api/v1/suppliers", tag = "purchasing", request_body = SupplierInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Supplier), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_supplier(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_supplier",
        body,
        async |input: SupplierInput, ctx: boh_platform::Ctx| {
            supplier::create_supplier(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// One supplier.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}", tag = "purchasing", params(("supplier_id" = String, Path)),
    responses((status = 200, body = Supplier), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn find_supplier(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Supplier>> {
    Ok(Json(
        supplier::get_supplier(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Change a supplier; send `version` to guard against lost updates. `active: false` closes
/// it (no new items or prices; not used for costing), `true` reopens it.
#[utoipa::path(patch, path = "/api/v1/suppliers/{supplier_id}", tag = "purchasing", params(("supplier_id" = String, Path)),
    request_body = SupplierPatch,
    responses((status = 200, body = Supplier), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_supplier(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(patch): crate::extract::Json<SupplierPatch>,
) -> ApiResult<Json<Supplier>> {
    Ok(Json(
        supplier::update_supplier(&state.platform, &ctx, &id, patch).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SupplierItemList {
    pub items: Vec<SupplierItem>,
}

/// The items a supplier sells, each with its price in force today.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/items", tag = "purchasing", params(("supplier_id" = String, Path)),
    responses((status = 200, body = SupplierItemList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_supplier_items(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<SupplierItemList>> {
    Ok(Json(SupplierItemList {
        items: supplier::list_supplier_items(&state.platform, &ctx.actor, &id).await?,
    }))
}

/// Add an item to a supplier in a pack unit the item converts (or update the SKU and flags of
/// the same item and pack unit). A closed supplier is refused with `supplier_inactive`.
#[utoipa::path(post, path = "/api/v1/suppliers/{supplier_id}/items", tag = "purchasing",
    params(("supplier_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    request_body = SupplierItemInput,
    responses((status = 201, body = SupplierItem), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_supplier_item(
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
        "save_supplier_item",
        body,
        async |input: SupplierItemInput, ctx: boh_platform::Ctx| {
            supplier::save_supplier_item(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PriceList {
    pub items: Vec<Price>,
    pub page: PageInfo,
}

/// A supplier's price history, newest effective date first. Prices are never changed or
/// removed.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/prices", tag = "purchasing",
    params(("supplier_id" = String, Path), PriceFilter),
    responses((status = 200, body = PriceList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_supplier_prices(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(f): Query<PriceFilter>,
) -> ApiResult<Json<PriceList>> {
    let (items, total) = supplier::list_prices(&state.platform, &ctx.actor, &id, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(PriceList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// Record a price for one of the supplier's items from a date on. Earlier prices stay as they
/// were; the price in force on a day is the latest one dated on or before it. A closed
/// supplier is refused with `supplier_inactive`, an item no longer bought with
/// `supplier_item_inactive`.
#[utoipa::path(post, path = "/api/v1/suppliers/{supplier_id}/prices", tag = "purchasing",
    params(("supplier_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    request_body = PriceInput,
    responses((status = 201, body = Price), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_supplier_price(
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
        "add_supplier_price",
        body,
        async |input: PriceInput, ctx: boh_platform::Ctx| {
            supplier::add_price(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct PriceParams {
    /// The day, `YYYY-MM-DD`; default today in the company's time zone.
    pub date: Option<String>,
    /// Only this (open) supplier; default the best of all open suppliers.
    pub supplier_id: Option<String>,
}

/// The price in force for an item on a day: a preferred supplier's first, else the cheapest
/// per base unit, with every open supplier's price in force.
#[utoipa::path(get, path = "/api/v1/items/{item_id}/price", tag = "purchasing", params(("item_id" = String, Path), PriceParams),
    responses((status = 200, body = PriceInForce), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn item_price(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<PriceParams>,
) -> ApiResult<Json<PriceInForce>> {
    Ok(Json(
        supplier::item_price(
            &state.platform,
            &ctx.actor,
            &id,
            q.date.as_deref(),
            q.supplier_id.as_deref(),
        )
        .await?,
    ))
}
