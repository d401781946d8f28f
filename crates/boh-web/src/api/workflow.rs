//! Approval workflows (definitions, document types, the inbox, decisions, delegations,
//! notifications) and purchase orders, which route through them.

use crate::extract::{Json as Body, Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use boh_purchasing::po::{self, PoFilter, PoInput, PurchaseOrder};
use boh_workflow::def::{self, Definition, DefinitionInput};
use boh_workflow::inbox::{self, Delegation, DelegationInput, InboxItem, Notification};
use boh_workflow::route::Route;
use boh_workflow::run::{self, DecisionInput, InstanceView};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_definitions, save_definition))
        .routes(routes!(find_definition))
        .routes(routes!(list_doc_types))
        .routes(routes!(my_inbox))
        .routes(routes!(decide_task))
        .routes(routes!(find_instance))
        .routes(routes!(list_delegations, create_delegation))
        .routes(routes!(revoke_delegation))
        .routes(routes!(list_notifications))
        .routes(routes!(read_notifications))
        .routes(routes!(list_pos, create_po))
        .routes(routes!(find_po, update_po))
        .routes(routes!(po_route))
        .routes(routes!(submit_po))
        .routes(routes!(cancel_po))
        .routes(routes!(po_history))
        .routes(routes!(list_receipts, receive_po))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DefinitionList {
    pub items: Vec<Definition>,
}

/// Approval workflow definitions of the caller's company (latest version of each).
#[utoipa::path(get, path = "/api/v1/workflow/definitions", tag = "workflow",
    responses((status = 200, body = DefinitionList), (status = 403, body = crate::error::ErrorBody)))]
async fn list_definitions(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<DefinitionList>> {
    Ok(Json(DefinitionList {
        items: def::list(&state.platform, &ctx.actor).await?,
    }))
}

/// Create a definition, or save a new version of the one with this `code` (running approvals
/// keep the version they started with). Conditions are checked against the document type's
/// facts when saved; every problem is named by its field.
#[utoipa::path(post, path = "/api/v1/workflow/definitions", tag = "workflow", request_body = DefinitionInput,
    responses((status = 201, body = Definition), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn save_definition(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "/api/v1/workflow/definitions",
        body,
        async |input: DefinitionInput, ctx| def::save(&state.platform, &ctx, &input).await,
    )
    .await
}

/// One definition.
#[utoipa::path(get, path = "/api/v1/workflow/definitions/{definition_id}", tag = "workflow",
    params(("definition_id" = String, Path, description = "Definition id")),
    responses((status = 200, body = Definition), (status = 404, body = crate::error::ErrorBody)))]
async fn find_definition(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Definition>> {
    Ok(Json(def::get(&state.platform, &ctx.actor, &id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DocTypeView {
    pub code: String,
    pub label_en: String,
    pub label_zh: String,
    pub events: Vec<String>,
    /// The facts a condition may use: name, type, description.
    pub facts: Vec<FactView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FactView {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    pub description: String,
}

/// Document types that can be routed for approval, with the facts their conditions may test.
#[utoipa::path(get, path = "/api/v1/workflow/doc-types", tag = "workflow",
    responses((status = 200, body = Vec<DocTypeView>)))]
async fn list_doc_types(
    State(state): State<AppState>,
    ApiActor(_ctx): ApiActor,
) -> Json<Vec<DocTypeView>> {
    Json(doc_type_views(&state.platform))
}

pub fn doc_type_views(p: &boh_platform::Platform) -> Vec<DocTypeView> {
    boh_workflow::doc_types(p)
        .iter()
        .map(|t| DocTypeView {
            code: t.code.into(),
            label_en: t.label_en.into(),
            label_zh: t.label_zh.into(),
            events: t.events.iter().map(|e| e.to_string()).collect(),
            facts: t
                .schema
                .fields()
                .map(|(n, ty, d)| FactView {
                    name: n.to_string(),
                    ty: ty.to_string(),
                    description: d.to_string(),
                })
                .collect(),
        })
        .collect()
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InboxFilter {
    /// `open` (default): waiting for the caller; `decided`: decided by the caller.
    pub status: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxList {
    pub items: Vec<InboxItem>,
    pub open: i64,
}

/// My approvals: tasks waiting for the caller (their own and those delegated to them), most
/// urgent first, or the ones they decided.
#[utoipa::path(get, path = "/api/v1/workflow/inbox", tag = "workflow", params(InboxFilter),
    responses((status = 200, body = InboxList), (status = 422, body = crate::error::ErrorBody)))]
async fn my_inbox(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<InboxFilter>,
) -> ApiResult<Json<InboxList>> {
    let p = &state.platform;
    Ok(Json(InboxList {
        items: inbox::list(
            p,
            &ctx.actor,
            f.status.as_deref().unwrap_or("open"),
            f.limit.unwrap_or(100),
        )
        .await?,
        open: inbox::open_count(p, &ctx.actor).await?,
    }))
}

/// Approve or reject a task. Nobody approves their own document (403 `self_approval`); a task
/// decided already, or whose step has not been reached, is a 409; rejecting needs a comment.
#[utoipa::path(post, path = "/api/v1/workflow/tasks/{task_id}/decision", tag = "workflow",
    params(("task_id" = String, Path, description = "Task id")), request_body = DecisionInput,
    responses((status = 200, body = InstanceView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn decide_task(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Body(input): Body<DecisionInput>,
) -> ApiResult<Json<InstanceView>> {
    Ok(Json(run::decide(&state.platform, &ctx, &id, &input).await?))
}

/// One approval instance with its steps and the document's history.
#[utoipa::path(get, path = "/api/v1/workflow/instances/{instance_id}", tag = "workflow",
    params(("instance_id" = String, Path, description = "Instance id")),
    responses((status = 200, body = InstanceView), (status = 404, body = crate::error::ErrorBody)))]
async fn find_instance(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<InstanceView>> {
    Ok(Json(run::instance(&state.platform, &ctx.actor, &id).await?))
}

/// The caller's delegations.
#[utoipa::path(get, path = "/api/v1/workflow/delegations", tag = "workflow",
    responses((status = 200, body = Vec<Delegation>)))]
async fn list_delegations(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<Vec<Delegation>>> {
    Ok(Json(inbox::delegations(&state.platform, &ctx.actor).await?))
}

/// Hand the caller's approvals to someone else for a period (while away).
#[utoipa::path(post, path = "/api/v1/workflow/delegations", tag = "workflow", request_body = DelegationInput,
    responses((status = 201, body = Delegation), (status = 422, body = crate::error::ErrorBody)))]
async fn create_delegation(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "/api/v1/workflow/delegations",
        body,
        async |input: DelegationInput, ctx| inbox::delegate(&state.platform, &ctx, &input).await,
    )
    .await
}

/// End one of the caller's delegations.
#[utoipa::path(delete, path = "/api/v1/workflow/delegations/{delegation_id}", tag = "workflow",
    params(("delegation_id" = String, Path, description = "Delegation id")),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn revoke_delegation(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<axum::http::StatusCode> {
    inbox::revoke_delegation(&state.platform, &ctx, &id).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// The caller's latest notifications.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "workflow",
    responses((status = 200, body = Vec<Notification>)))]
async fn list_notifications(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<Vec<Notification>>> {
    Ok(Json(
        inbox::notifications(&state.platform, &ctx.actor, 50).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Marked {
    pub marked: u64,
}

/// Mark all of the caller's notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "workflow",
    responses((status = 200, body = Marked)))]
async fn read_notifications(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<Marked>> {
    Ok(Json(Marked {
        marked: inbox::mark_read(&state.platform, &ctx.actor).await?,
    }))
}

// ---------------------------------------------------------------- purchase orders

#[derive(Serialize, utoipa::ToSchema)]
pub struct PoList {
    pub items: Vec<PurchaseOrder>,
    pub page: PageInfo,
}

/// Purchase orders in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/purchase-orders", tag = "purchasing", params(PoFilter),
    responses((status = 200, body = PoList)))]
async fn list_pos(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<PoFilter>,
) -> ApiResult<Json<PoList>> {
    let page = po::list(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(PoList {
        items: page.items,
        page: PageInfo::capped(
            page.total,
            page.total_capped,
            f.limit.unwrap_or(50).clamp(1, 500),
            f.offset.unwrap_or(0).max(0),
        ),
    }))
}

/// Create a draft purchase order for one supplier and receiving site. Lines name the item by
/// code (with the pack unit when the supplier sells it in several) or the supplier item; the
/// price defaults to the supplier's price in force. `status` and approvals are not fields.
#[utoipa::path(post, path = "/api/v1/purchase-orders", tag = "purchasing", request_body = PoInput,
    responses((status = 201, body = PurchaseOrder), (status = 422, body = crate::error::ErrorBody)))]
async fn create_po(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "/api/v1/purchase-orders",
        body,
        async |input: PoInput, ctx| po::create(&state.platform, &ctx, &input).await,
    )
    .await
}

/// One purchase order with its lines.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{po_id}", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    responses((status = 200, body = PurchaseOrder), (status = 404, body = crate::error::ErrorBody)))]
async fn find_po(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<PurchaseOrder>> {
    Ok(Json(po::get(&state.platform, &ctx.actor, &id).await?))
}

/// Change a purchase order (its lines, site, delivery day, note). A submitted or approved
/// order whose amount, items or site change goes back for approval.
#[utoipa::path(put, path = "/api/v1/purchase-orders/{po_id}", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")), request_body = PoInput,
    responses((status = 200, body = PurchaseOrder), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn update_po(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Body(input): Body<PoInput>,
) -> ApiResult<Json<PurchaseOrder>> {
    Ok(Json(po::update(&state.platform, &ctx, &id, &input).await?))
}

/// The approval route the order would take if submitted now (a simulation; nothing changes).
#[utoipa::path(get, path = "/api/v1/purchase-orders/{po_id}/route", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    responses((status = 200, body = Route), (status = 404, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn po_route(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Route>> {
    Ok(Json(po::route(&state.platform, &ctx.actor, &id).await?))
}

/// Submit a draft or rejected order for approval (refused below the supplier's minimum order).
#[utoipa::path(post, path = "/api/v1/purchase-orders/{po_id}/submit", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    responses((status = 200, body = PurchaseOrder), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn submit_po(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<PurchaseOrder>> {
    Ok(Json(po::submit(&state.platform, &ctx, &id).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoCancelInput {
    pub reason: String,
}

/// Cancel an order (its approval, if running, is withdrawn).
#[utoipa::path(post, path = "/api/v1/purchase-orders/{po_id}/cancel", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")), request_body = PoCancelInput,
    responses((status = 200, body = PurchaseOrder), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn cancel_po(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Body(input): Body<PoCancelInput>,
) -> ApiResult<Json<PurchaseOrder>> {
    Ok(Json(
        po::cancel(&state.platform, &ctx, &id, &input.reason).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PoApproval {
    /// The latest approval of the order, if it was ever submitted.
    pub instance: Option<InstanceView>,
}

/// The order's latest approval, its steps and every decision on it.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{po_id}/approval", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    responses((status = 200, body = PoApproval), (status = 404, body = crate::error::ErrorBody)))]
async fn po_history(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<PoApproval>> {
    let p = &state.platform;
    let order = po::get(p, &ctx.actor, &id).await?;
    // Whoever may see the order sees its approval.
    let system = boh_kernel::Actor::system();
    Ok(Json(PoApproval {
        instance: run::latest_for(p, &system, po::DOC_TYPE, &order.id).await?,
    }))
}

/// Receive goods against an approved order: per order line the accepted and damaged quantity
/// (pack units), a substitute item, lot and expiry, and the temperature of chilled and frozen
/// goods. The accepted goods are posted to the stock ledger at the order's price; the order
/// becomes `partially_received` or `received`. `receipt_key` (e.g. the delivery note) makes a
/// retry answer the first receipt.
#[utoipa::path(post, path = "/api/v1/purchase-orders/{po_id}/receipts", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    request_body = boh_purchasing::receipt::ReceiptInput,
    responses((status = 201, body = boh_purchasing::receipt::Receipt), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
async fn receive_po(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = format!("/api/v1/purchase-orders/{id}/receipts");
    create(
        &state,
        &ctx,
        &headers,
        &route,
        body,
        async |input: boh_purchasing::receipt::ReceiptInput, ctx| {
            boh_purchasing::receipt::receive(&state.platform, &ctx, &id, &input).await
        },
    )
    .await
}

/// The receipts of an order, with what is still short or was delivered over.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{po_id}/receipts", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    responses((status = 200, body = Vec<boh_purchasing::receipt::Receipt>), (status = 404, body = crate::error::ErrorBody)))]
async fn list_receipts(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<boh_purchasing::receipt::Receipt>>> {
    Ok(Json(
        boh_purchasing::receipt::list_for(&state.platform, &ctx.actor, &id).await?,
    ))
}
