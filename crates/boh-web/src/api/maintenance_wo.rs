//! Maintenance: work orders (intake, the technician's steps, parts, photos, rating),
//! technicians, dispatch and SLA policies.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boh_maintenance::sla::{self, Policy};
use boh_maintenance::technician::{self, ApplyRow, DispatchPlan, Technician, TechnicianInput};
use boh_maintenance::workorder::{
    self, PartInput, PartUsed, StepInput, Upload, WoFilter, WorkOrder, WorkOrderDetail,
    WorkOrderInput,
};
use boh_platform::PlatformError;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiActor, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_work_orders, create_work_order))
        .routes(routes!(find_work_order))
        .routes(routes!(assign_work_order))
        .routes(routes!(step_work_order))
        .routes(routes!(add_work_order_part))
        .routes(routes!(tick_checklist))
        .routes(routes!(add_work_order_note))
        .routes(routes!(add_work_order_photos))
        .routes(routes!(work_order_attachment))
        .routes(routes!(rate_work_order))
        .routes(routes!(close_work_order))
        .routes(routes!(cancel_work_order))
        .routes(routes!(list_technicians, create_technician))
        .routes(routes!(technician_position))
        .routes(routes!(dispatch_plan))
        .routes(routes!(dispatch_apply))
        .routes(routes!(list_sla_policies, save_sla_policy))
        .routes(routes!(list_asset_files, add_asset_files))
        .routes(routes!(asset_file, remove_asset_file))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct WorkOrderList {
    pub items: Vec<WorkOrder>,
    pub page: PageInfo,
}

/// Work orders the caller sees (their sites' with a read, request or dispatch grant, and those
/// assigned to them), open ones by resolution due time first.
#[utoipa::path(get, path = "/api/v1/maintenance/work-orders", tag = "maintenance", params(WoFilter),
    responses((status = 200, body = WorkOrderList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_work_orders(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<WoFilter>,
) -> ApiResult<Json<WorkOrderList>> {
    let page = workorder::list(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(WorkOrderList {
        items: page.items,
        page: PageInfo::new(page.total, page.limit, page.offset),
    }))
}

/// Report a fault: a work order on an asset (or a site). Needs
/// `maintenance.work_order.request` there. The SLA policy of the priority and category sets
/// the response and resolution due times in the site's business hours. A fault already open
/// on the asset is refused as `possible_duplicate` (409, naming it) unless `not_duplicate`.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders", tag = "maintenance", request_body = WorkOrderInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = WorkOrder), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_work_order(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_work_order",
        body,
        async |input: WorkOrderInput, ctx: boh_platform::Ctx| {
            workorder::create(&state.platform, &ctx, &input, "api").await
        },
    )
    .await
}

/// A work order with its history, attachments, checklist, parts and the other open work
/// orders on its asset.
#[utoipa::path(get, path = "/api/v1/maintenance/work-orders/{work_order_id}", tag = "maintenance",
    params(("work_order_id" = String, Path)),
    responses((status = 200, body = WorkOrderDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn find_work_order(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<WorkOrderDetail>> {
    Ok(Json(
        workorder::detail(&state.platform, &ctx.actor, &id).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignInput {
    pub technician_id: String,
    /// Why this technician (kept with the assignment).
    #[serde(default)]
    pub note: Option<String>,
}

/// Assign or reassign a work order (open, assigned, accepted or in review). Needs dispatch at
/// its site. The technician is told.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/assign", tag = "maintenance",
    params(("work_order_id" = String, Path)), request_body = AssignInput,
    responses((status = 200, body = WorkOrder), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn assign_work_order(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<AssignInput>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        workorder::assign(
            &state.platform,
            &ctx,
            &id,
            &input.technician_id,
            input.note.as_deref(),
        )
        .await?,
    ))
}

/// The technician's next step: accept, travel, start, pause (with a reason: the SLA clock
/// stops), resume, finish (cause and remedy codes, required checklist items ticked, the
/// sign-off when the job needs it). Only the assigned technician or a dispatcher.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/steps", tag = "maintenance",
    params(("work_order_id" = String, Path)), request_body = StepInput,
    responses((status = 200, body = WorkOrder), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn step_work_order(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<StepInput>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        workorder::step(&state.platform, &ctx, &id, &input).await?,
    ))
}

/// Issue a part from stock for the job: an `issue` movement in the stock ledger at the work
/// order's site (or the technician's van) at the moving-average cost. Refused (nothing
/// written) for an unknown item, a non-positive quantity, or not enough stock where the
/// location forbids negative stock.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/parts", tag = "maintenance",
    params(("work_order_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the issue safe to retry")),
    request_body = PartInput,
    responses((status = 201, body = PartUsed), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_work_order_part(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // Out of scope is not found, before the body is read.
    if let Err(e) = workorder::get(&state.platform, &ctx.actor, &id).await {
        return ApiError(e).into_response();
    }
    let route = format!("/api/v1/maintenance/work-orders/{id}/parts");
    create(
        &state,
        &ctx,
        &headers,
        &route,
        body,
        async |input: PartInput, ctx: boh_platform::Ctx| {
            workorder::add_part(&state.platform, &ctx, &id, &input).await
        },
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TickInput {
    pub done: bool,
}

/// Tick or untick a checklist item.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/checklist/{seq}", tag = "maintenance",
    params(("work_order_id" = String, Path), ("seq" = i64, Path)), request_body = TickInput,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn tick_checklist(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path((id, seq)): Path<(String, i64)>,
    crate::extract::Json(input): crate::extract::Json<TickInput>,
) -> ApiResult<StatusCode> {
    workorder::tick(&state.platform, &ctx, &id, seq, input.done).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    #[schema(min_length = 1, max_length = 2000)]
    pub note: String,
}

/// Add a note to the work order's history.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/notes", tag = "maintenance",
    params(("work_order_id" = String, Path)), request_body = NoteInput,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_work_order_note(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<NoteInput>,
) -> ApiResult<StatusCode> {
    workorder::add_note(&state.platform, &ctx, &id, &input.note).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PhotosAdded {
    pub added: usize,
}

/// Attach photos (`multipart/form-data`, fields named `photos`): JPEG, PNG or WebP by content,
/// at most 5 MB each and 4 per request. Anything else is refused naming `photos[i]`, and
/// nothing is written.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/photos", tag = "maintenance",
    params(("work_order_id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = String, description = "Fields `photos`, one file each"),
    responses((status = 201, body = PhotosAdded), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_work_order_photos(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if let Err(e) = workorder::get(&state.platform, &ctx.actor, &id).await {
        return ApiError(e).into_response();
    }
    let parts = match multipart_parts(&state, &headers, body, "photos").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let photos = uploads(&parts, "photos");
    match workorder::add_photos(&state.platform, &ctx, &id, &photos).await {
        Ok(n) => (StatusCode::CREATED, Json(PhotosAdded { added: n })).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

/// The file parts of a multipart body named `name`.
pub fn uploads(parts: &[crate::upload::Part], name: &str) -> Vec<Upload> {
    parts
        .iter()
        .filter(|p| p.name == name && p.file_name.is_some())
        .map(|p| Upload {
            file_name: p.file_name.clone().unwrap_or_default(),
            data: p.data.to_vec(),
        })
        .collect()
}

/// An attachment's bytes (photo or signature), with its stored type.
#[utoipa::path(get, path = "/api/v1/maintenance/work-orders/{work_order_id}/attachments/{attachment_id}", tag = "maintenance",
    params(("work_order_id" = String, Path), ("attachment_id" = String, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = String),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn work_order_attachment(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path((id, att)): Path<(String, String)>,
) -> Response {
    match workorder::attachment(&state.platform, &ctx.actor, &id, &att).await {
        Ok((name, ct, data)) => file_response(&name, &ct, data),
        Err(e) => ApiError(e).into_response(),
    }
}

/// A stored file with its checked type (never sniffed).
pub fn file_response(name: &str, content_type: &str, data: Vec<u8>) -> Response {
    let safe: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        .collect();
    // Images are shown inline; anything else (a PDF) is downloaded, never rendered here.
    let (ct, disposition) = match content_type {
        "image/png" | "image/jpeg" | "image/webp" => (content_type, "inline"),
        "application/pdf" => (content_type, "attachment"),
        _ => ("application/octet-stream", "attachment"),
    };
    (
        [
            (header::CONTENT_TYPE, ct.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{safe}\""),
            ),
            (header::CACHE_CONTROL, "private, max-age=3600".to_string()),
        ],
        data,
    )
        .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingInput {
    /// 1–5; 2 or less sends the work order to review.
    pub rating: i64,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The requester rates a finished job: it closes, or (rating ≤ 2) goes to review and the
/// dispatchers are told.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/rating", tag = "maintenance",
    params(("work_order_id" = String, Path)), request_body = RatingInput,
    responses((status = 200, body = WorkOrder), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn rate_work_order(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<RatingInput>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        workorder::rate(
            &state.platform,
            &ctx,
            &id,
            input.rating,
            input.comment.as_deref(),
        )
        .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReasonInput {
    #[serde(default)]
    pub note: Option<String>,
}

/// Close a done (or reviewed) work order without waiting for the rating. Needs dispatch.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/close", tag = "maintenance",
    params(("work_order_id" = String, Path)), request_body = ReasonInput,
    responses((status = 200, body = WorkOrder), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn close_work_order(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<ReasonInput>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        workorder::close_or_cancel(&state.platform, &ctx, &id, false, input.note.as_deref())
            .await?,
    ))
}

/// Cancel an open work order, with a reason. Needs dispatch.
#[utoipa::path(post, path = "/api/v1/maintenance/work-orders/{work_order_id}/cancel", tag = "maintenance",
    params(("work_order_id" = String, Path)), request_body = ReasonInput,
    responses((status = 200, body = WorkOrder), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn cancel_work_order(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<ReasonInput>,
) -> ApiResult<Json<WorkOrder>> {
    Ok(Json(
        workorder::close_or_cancel(&state.platform, &ctx, &id, true, input.note.as_deref()).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TechnicianList {
    pub items: Vec<Technician>,
}

/// The technicians of the caller's company with their open jobs (dispatchers).
#[utoipa::path(get, path = "/api/v1/maintenance/technicians", tag = "maintenance",
    responses((status = 200, body = TechnicianList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_technicians(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<TechnicianList>> {
    Ok(Json(TechnicianList {
        items: technician::list(&state.platform, &ctx.actor).await?,
    }))
}

/// Register a technician (in-house or contractor). Needs dispatch over the company.
#[utoipa::path(post, path = "/api/v1/maintenance/technicians", tag = "maintenance", request_body = TechnicianInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Technician), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_technician(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_technician",
        body,
        async |input: TechnicianInput, ctx: boh_platform::Ctx| {
            technician::create(&state.platform, &ctx, &input).await
        },
    )
    .await
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionInput {
    pub latitude: f64,
    pub longitude: f64,
}

/// Report where a technician is (their phone), for dispatch distances.
#[utoipa::path(post, path = "/api/v1/maintenance/technicians/{technician_id}/position", tag = "maintenance",
    params(("technician_id" = String, Path)), request_body = PositionInput,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn technician_position(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<PositionInput>,
) -> ApiResult<StatusCode> {
    technician::report_position(
        &state.platform,
        &ctx.actor,
        &id,
        input.latitude,
        input.longitude,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Only work orders under this org node.
    #[serde(default)]
    pub under: Option<String>,
}

/// The optimal assignment of the open (and reviewed) unassigned work orders the caller may
/// dispatch to the active technicians: hard constraints (skill, certification, shift,
/// capacity, parts) filter, the cost weighs travel, load, SLA urgency and first-time-fix
/// history; each suggestion says why, and the plan's cost is compared with the
/// nearest-free-technician baseline and a proven lower bound.
#[utoipa::path(get, path = "/api/v1/maintenance/dispatch/plan", tag = "maintenance", params(PlanQuery),
    responses((status = 200, body = DispatchPlan), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn dispatch_plan(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<PlanQuery>,
) -> ApiResult<Json<DispatchPlan>> {
    Ok(Json(
        technician::plan(&state.platform, &ctx.actor, q.under.as_deref()).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyInput {
    pub rows: Vec<ApplyRow>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Applied {
    pub items: Vec<WorkOrder>,
}

/// Apply a dispatch (the plan's suggestions or the dispatcher's overrides). Every row is
/// checked first; if one is bad nothing is assigned and each bad row is named (`rows[i]…`).
#[utoipa::path(post, path = "/api/v1/maintenance/dispatch", tag = "maintenance", request_body = ApplyInput,
    responses((status = 200, body = Applied), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn dispatch_apply(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    crate::extract::Json(input): crate::extract::Json<ApplyInput>,
) -> ApiResult<Json<Applied>> {
    Ok(Json(Applied {
        items: technician::apply(&state.platform, &ctx, &input.rows).await?,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PolicyList {
    pub items: Vec<Policy>,
}

/// The company's SLA policies (with the defaults for priorities it has not set).
#[utoipa::path(get, path = "/api/v1/maintenance/sla-policies", tag = "maintenance",
    responses((status = 200, body = PolicyList), (status = 401, body = ErrorBody)))]
async fn list_sla_policies(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<PolicyList>> {
    Ok(Json(PolicyList {
        items: sla::list(&state.platform, &ctx.actor).await?,
    }))
}

/// Set the SLA policy of a priority (and optionally one asset category): response and
/// resolution targets in business minutes of the given hours (in each site's time zone).
/// Applies to work orders opened from now on. Needs dispatch over the company.
#[utoipa::path(put, path = "/api/v1/maintenance/sla-policies", tag = "maintenance", request_body = Policy,
    responses((status = 200, body = Policy), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn save_sla_policy(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    crate::extract::Json(input): crate::extract::Json<Policy>,
) -> ApiResult<Json<Policy>> {
    Ok(Json(sla::save(&state.platform, &ctx, &input).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssetFileList {
    pub items: Vec<boh_maintenance::files::AssetFile>,
}

/// The documents and photos of an asset, newest first.
#[utoipa::path(get, path = "/api/v1/maintenance/assets/{asset_id}/files", tag = "maintenance",
    params(("asset_id" = String, Path)),
    responses((status = 200, body = AssetFileList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_asset_files(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<AssetFileList>> {
    Ok(Json(AssetFileList {
        items: boh_maintenance::files::list(&state.platform, &ctx.actor, &id).await?,
    }))
}

/// Add documents and photos to an asset (`multipart/form-data`, fields named `files`): JPEG,
/// PNG, WebP or PDF by content, at most 10 MB each and 5 per request; a bad file is named
/// (`files[i]`) and nothing is written. Needs `maintenance.asset.manage` at the asset's site.
#[utoipa::path(post, path = "/api/v1/maintenance/assets/{asset_id}/files", tag = "maintenance",
    params(("asset_id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = String, description = "Fields `files`, one file each"),
    responses((status = 201, body = AssetFileList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_asset_files(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    if let Err(e) = boh_maintenance::asset::get(&state.platform, &ctx.actor, &id).await {
        return ApiError(e).into_response();
    }
    let parts = match multipart_parts(&state, &headers, body, "files").await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let files = uploads(&parts, "files");
    match boh_maintenance::files::add(&state.platform, &ctx, &id, &files).await {
        Ok(items) => (StatusCode::CREATED, Json(AssetFileList { items })).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

/// A document or photo of an asset, with its checked type.
#[utoipa::path(get, path = "/api/v1/maintenance/assets/{asset_id}/files/{file_id}", tag = "maintenance",
    params(("asset_id" = String, Path), ("file_id" = String, Path)),
    responses((status = 200, description = "The file", content_type = "application/octet-stream", body = String),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn asset_file(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    match boh_maintenance::files::get(&state.platform, &ctx.actor, &id, &file).await {
        Ok((name, ct, data)) => file_response(&name, &ct, data),
        Err(e) => ApiError(e).into_response(),
    }
}

/// Remove a document or photo of an asset.
#[utoipa::path(delete, path = "/api/v1/maintenance/assets/{asset_id}/files/{file_id}", tag = "maintenance",
    params(("asset_id" = String, Path), ("file_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_asset_file(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path((id, file)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    boh_maintenance::files::remove(&state.platform, &ctx, &id, &file).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The parts of a multipart body read within the upload limit; 422 naming `field` otherwise.
async fn multipart_parts(
    state: &AppState,
    headers: &HeaderMap,
    body: axum::body::Body,
    field: &str,
) -> Result<Vec<crate::upload::Part>, Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = crate::upload::boundary(ct) else {
        return Err(ApiError(PlatformError::invalid(
            field,
            "send the files as multipart/form-data",
        ))
        .into_response());
    };
    let body = crate::upload::read_body(body, state.settings.max_upload_bytes).await?;
    crate::upload::parse_multipart(&body, &boundary)
        .map_err(|m| ApiError(PlatformError::invalid(field, m)).into_response())
}
