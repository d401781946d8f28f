//! POS sales: batches in, the batches list, POS code mappings and the unmapped-codes queue.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use boh_sales::ingest::{self, Batch, BatchFilter, BatchInput, Ingested};
use boh_sales::mapping::{
    self, Mapped, Mapping, MappingFilter, MappingInput, Unmapped, UnmappedFilter,
};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_batches, post_batch))
        .routes(routes!(find_batch))
        .routes(routes!(list_unmapped))
        .routes(routes!(list_mappings, post_mapping))
}

/// Ingest the sales of one store and business day from a POS source: tickets with lines,
/// tenders, voids and refunds, up to 10,000 lines. The batch is applied whole or not at all:
/// sale lines, rollups, the recipe depletion of what was sold (one `sale` stock document)
/// and held lines for POS codes nobody has mapped yet. `batch_key` (or the `Idempotency-Key`
/// header) identifies the batch per store and source: the same key with the same payload
/// answers the first result again (200, `replayed: true`; a request with an
/// `Idempotency-Key` gets its stored first response, with `idempotent-replayed: true`); with
/// another payload it is refused (422 `idempotency_key_reused`) and nothing is written. `mode: replace` replaces the
/// store-day's batches from this source with this one (a corrected day, a new version).
#[utoipa::path(post, path = "/api/v1/sales/batches", tag = "sales", request_body = BatchInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Used as the batch key when the body has none")),
    responses((status = 201, description = "Applied", body = Ingested),
        (status = 200, description = "This key was applied before: its first result", body = Ingested),
        (status = 404, description = "Unknown store, or one outside the caller's scope", body = crate::error::ErrorBody),
        (status = 422, description = "Invalid batch (every problem named), or the key was used with another payload", body = crate::error::ErrorBody)))]
async fn post_batch(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // With an `Idempotency-Key` the platform's key handling answers retries with the stored
    // response; the batch key (the header's key when the body has none) guards the batch.
    if headers.contains_key("idempotency-key") {
        return create(
            &state,
            &ctx,
            &headers,
            "/api/v1/sales/batches",
            body,
            async |input: BatchInput, ctx| ingest::ingest(&state.platform, &ctx, &input).await,
        )
        .await;
    }
    let input: BatchInput = match crate::extract::parse_json(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match ingest::ingest(&state.platform, &ctx, &input).await {
        Ok(done) => {
            let status = if done.replayed {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            let mut r = (status, Json(&done)).into_response();
            if done.replayed {
                r.headers_mut()
                    .insert("idempotent-replayed", HeaderValue::from_static("true"));
            }
            r
        }
        Err(e) => ApiError(e).into_response(),
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BatchList {
    pub items: Vec<Batch>,
    pub page: PageInfo,
}

/// Batches in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/sales/batches", tag = "sales", params(BatchFilter),
    responses((status = 200, body = BatchList), (status = 422, body = crate::error::ErrorBody)))]
async fn list_batches(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<BatchFilter>,
) -> ApiResult<Json<BatchList>> {
    let (items, total) = ingest::list_batches(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_sales::paging(f.limit, f.offset);
    Ok(Json(BatchList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// One batch.
#[utoipa::path(get, path = "/api/v1/sales/batches/{batch_id}", tag = "sales",
    params(("batch_id" = String, Path, description = "Batch id")),
    responses((status = 200, body = Batch), (status = 404, body = crate::error::ErrorBody)))]
async fn find_batch(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Batch>> {
    Ok(Json(
        ingest::get_batch(&state.platform, &ctx.actor, &id).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnmappedList {
    pub items: Vec<Unmapped>,
    pub page: PageInfo,
}

/// POS codes with no item: their lines are held (counted in sales, not yet in item sales or
/// stock) until the code is mapped. Largest held amount first.
#[utoipa::path(get, path = "/api/v1/sales/unmapped", tag = "sales", params(UnmappedFilter),
    responses((status = 200, body = UnmappedList), (status = 422, body = crate::error::ErrorBody)))]
async fn list_unmapped(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<UnmappedFilter>,
) -> ApiResult<Json<UnmappedList>> {
    let (items, total) = mapping::list_unmapped(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_sales::paging(f.limit, f.offset);
    Ok(Json(UnmappedList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MappingList {
    pub items: Vec<Mapping>,
    pub page: PageInfo,
}

/// POS code mappings of the caller's company.
#[utoipa::path(get, path = "/api/v1/sales/mappings", tag = "sales", params(MappingFilter),
    responses((status = 200, body = MappingList), (status = 422, body = crate::error::ErrorBody)))]
async fn list_mappings(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<MappingFilter>,
) -> ApiResult<Json<MappingList>> {
    let (items, total) = mapping::list_mappings(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_sales::paging(f.limit, f.offset);
    Ok(Json(MappingList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// Map a POS code of a source to an item and process its held lines (their item sales and
/// recipe depletion), in one transaction. Mapping it again to the same item processes lines
/// held since; to another item is refused (409 `already_mapped`).
#[utoipa::path(post, path = "/api/v1/sales/mappings", tag = "sales", request_body = MappingInput,
    responses((status = 201, body = Mapped), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn post_mapping(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input: MappingInput = match crate::extract::parse_json(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match mapping::map_code(&state.platform, &ctx, &input).await {
        Ok(m) => (StatusCode::CREATED, Json(m)).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}
