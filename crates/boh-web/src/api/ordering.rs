//! Ordering: the order guide of a site, requisitions (store orders), their consolidation into
//! purchase orders, and sending an approved order to its supplier (PDF and CSV).

use crate::extract::{Json as Body, Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use boh_purchasing::consolidate::{self, ConsolidateInput, Consolidation};
use boh_purchasing::document::{self, OrderDocument};
use boh_purchasing::guide::{self, OrderGuide};
use boh_purchasing::requisition::{
    self, GuideOrder, GuideOrderInput, Requisition, RequisitionFilter, RequisitionInput,
};
use boh_purchasing::send::{self, Sent};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(find_order_guide))
        .routes(routes!(order_from_guide))
        .routes(routes!(list_requisitions, create_requisition))
        .routes(routes!(consolidate_requisitions))
        .routes(routes!(find_requisition))
        .routes(routes!(submit_requisition))
        .routes(routes!(cancel_requisition))
        .routes(routes!(send_po))
        .routes(routes!(po_document))
}

/// The order guide of a store, warehouse or central kitchen: per item with a par level, the
/// par, on-hand, on order, the need and the suggested quantity per source (rounded up to the
/// source's pack), the default source first.
#[utoipa::path(get, path = "/api/v1/locations/{location_id}/order-guide", tag = "purchasing",
    params(("location_id" = String, Path, description = "Store, warehouse or central kitchen")),
    responses((status = 200, body = OrderGuide), (status = 404, body = crate::error::ErrorBody)))]
async fn find_order_guide(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderGuide>> {
    Ok(Json(
        guide::order_guide(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Order from the guide: the requisition is created and submitted (warehouse lines become
/// transfer requests), the site's supplier lines are consolidated into purchase orders, and
/// orders that reach the supplier's minimum order value go for approval. Orders below it stay
/// drafts, flagged with the reason.
#[utoipa::path(post, path = "/api/v1/locations/{location_id}/order-guide/orders", tag = "purchasing",
    params(("location_id" = String, Path, description = "Store, warehouse or central kitchen")),
    request_body = GuideOrderInput,
    responses((status = 201, body = GuideOrder), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn order_from_guide(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = format!("/api/v1/locations/{id}/order-guide/orders");
    create(
        &state,
        &ctx,
        &headers,
        &route,
        body,
        async |input: GuideOrderInput, ctx| {
            requisition::order_from_guide(&state.platform, &ctx, &id, &input).await
        },
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RequisitionList {
    pub items: Vec<Requisition>,
    pub page: PageInfo,
}

/// Requisitions in the caller's scope, newest first (without lines).
#[utoipa::path(get, path = "/api/v1/requisitions", tag = "purchasing", params(RequisitionFilter),
    responses((status = 200, body = RequisitionList)))]
async fn list_requisitions(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<RequisitionFilter>,
) -> ApiResult<Json<RequisitionList>> {
    let (items, total) = requisition::list(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(RequisitionList {
        items,
        page: PageInfo::new(
            total,
            f.limit.unwrap_or(50).clamp(1, 500),
            f.offset.unwrap_or(0).max(0),
        ),
    }))
}

/// Create a draft requisition by hand. Each line names the item, the quantity in any unit the
/// item converts, and its source (a supplier item, a supplier, or the warehouse / central
/// kitchen; none: the order guide's default). Status and links are not fields.
#[utoipa::path(post, path = "/api/v1/requisitions", tag = "purchasing", request_body = RequisitionInput,
    responses((status = 201, body = Requisition), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn create_requisition(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "/api/v1/requisitions",
        body,
        async |input: RequisitionInput, ctx| {
            requisition::create(&state.platform, &ctx, &input).await
        },
    )
    .await
}

/// Consolidate the waiting supplier lines of submitted requisitions (of one site, or of every
/// site where the caller orders) into purchase orders per supplier, delivery day and site,
/// merging the same item, rounding up to whole packs and submitting the orders that reach the
/// supplier's minimum order value.
#[utoipa::path(post, path = "/api/v1/requisitions/consolidate", tag = "purchasing",
    request_body = ConsolidateInput,
    responses((status = 200, body = Consolidation), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn consolidate_requisitions(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Body(input): Body<ConsolidateInput>,
) -> ApiResult<Json<Consolidation>> {
    Ok(Json(
        consolidate::consolidate(&state.platform, &ctx, &input).await?,
    ))
}

/// One requisition with its lines, their orders and transfers.
#[utoipa::path(get, path = "/api/v1/requisitions/{requisition_id}", tag = "purchasing",
    params(("requisition_id" = String, Path, description = "Requisition id")),
    responses((status = 200, body = Requisition), (status = 404, body = crate::error::ErrorBody)))]
async fn find_requisition(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Requisition>> {
    Ok(Json(
        requisition::get(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Submit a draft requisition: warehouse lines become transfer requests, supplier lines wait
/// for consolidation.
#[utoipa::path(post, path = "/api/v1/requisitions/{requisition_id}/submit", tag = "purchasing",
    params(("requisition_id" = String, Path, description = "Requisition id")),
    responses((status = 200, body = Requisition), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn submit_requisition(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Requisition>> {
    Ok(Json(requisition::submit(&state.platform, &ctx, &id).await?))
}

/// Cancel a draft requisition.
#[utoipa::path(post, path = "/api/v1/requisitions/{requisition_id}/cancel", tag = "purchasing",
    params(("requisition_id" = String, Path, description = "Requisition id")),
    responses((status = 200, body = Requisition), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
async fn cancel_requisition(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Requisition>> {
    Ok(Json(requisition::cancel(&state.platform, &ctx, &id).await?))
}

/// Send an approved order to its supplier again: an e-mail with the order as PDF and CSV,
/// recorded in the order's history. Refused when the supplier has no address or e-mail is
/// not configured.
#[utoipa::path(post, path = "/api/v1/purchase-orders/{po_id}/send", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    responses((status = 200, body = Sent), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn send_po(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Sent>> {
    Ok(Json(send::send(&state.platform, &ctx, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DocumentQuery {
    /// `pdf` (default) or `csv`.
    pub format: Option<String>,
}

/// The order as the supplier gets it: a PDF, or a CSV of its lines.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{po_id}/document", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id"), DocumentQuery),
    responses((status = 200, description = "application/pdf or text/csv"),
        (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn po_document(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<DocumentQuery>,
) -> Response {
    let csv = match q.format.as_deref().unwrap_or("pdf") {
        "pdf" => false,
        "csv" => true,
        _ => {
            return ApiError(boh_platform::PlatformError::invalid(
                "format",
                "must be pdf or csv",
            ))
            .into_response();
        }
    };
    match document::load(&state.platform, &ctx.actor, &id).await {
        Ok(doc) => document_response(&doc, csv),
        Err(e) => ApiError(e).into_response(),
    }
}

/// The PDF (or with `csv`, the CSV) of an order as a download.
pub fn document_response(doc: &OrderDocument, csv: bool) -> Response {
    let (bytes, ct, name) = if csv {
        match document::csv(doc) {
            Ok(b) => (b, "text/csv; charset=utf-8", doc.csv_name()),
            Err(e) => return ApiError(e).into_response(),
        }
    } else {
        (document::pdf(doc), "application/pdf", doc.pdf_name())
    };
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut resp = (
        [(header::CONTENT_TYPE, HeaderValue::from_static(ct))],
        bytes,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{safe}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
