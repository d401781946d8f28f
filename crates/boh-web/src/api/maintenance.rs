//! Maintenance: the asset registry (assets of stores and warehouses, their meters and QR
//! labels), preventive maintenance schedules, meter readings and predictive rules.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boh_maintenance::asset::{
    self, Asset, AssetDetail, AssetFilter, AssetInput, AssetPatch, Meter, MeterInput,
};
use boh_maintenance::pm::{self, PmFilter, PmInput, PmPatch, PmSchedule, RunReport};
use boh_maintenance::predictive::{
    self, IngestReport, Reading, ReadingBatch, Rule, RuleFilter, RuleInput,
};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiActor, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_assets, create_asset))
        .routes(routes!(find_asset, update_asset))
        .routes(routes!(retire_asset))
        .routes(routes!(add_asset_meter))
        .routes(routes!(remove_asset_meter))
        .routes(routes!(asset_label))
        .routes(routes!(asset_readings))
        .routes(routes!(list_pm_schedules, create_pm_schedule))
        .routes(routes!(run_pm_schedules))
        .routes(routes!(find_pm_schedule, update_pm_schedule))
        .routes(routes!(ingest_readings))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(find_rule, delete_rule))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AssetList {
    pub items: Vec<Asset>,
    pub page: PageInfo,
}

/// Assets in the caller's scope by code; filter by site, category, status (default active)
/// and text (code, name, model, serial).
#[utoipa::path(get, path = "/api/v1/maintenance/assets", tag = "maintenance", params(AssetFilter),
    responses((status = 200, body = AssetList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_assets(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<AssetFilter>,
) -> ApiResult<Json<AssetList>> {
    let page = asset::list(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(AssetList {
        items: page.items,
        page: PageInfo::new(page.total, page.limit, page.offset),
    }))
}

/// Register an asset at a site. Needs `maintenance.asset.manage` there. Every bad field is
/// named at once (unknown category, warranty before install, a parent at another site, an
/// unknown supplier, a code used in the company) and nothing is written.
#[utoipa::path(post, path = "/api/v1/maintenance/assets", tag = "maintenance", request_body = AssetInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Asset), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_asset(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_asset",
        body,
        async |input: AssetInput, ctx: boh_platform::Ctx| {
            asset::create(&state.platform, &ctx, &input).await
        },
    )
    .await
}

/// One asset with its warranty state, ancestors, sub-assets and meters.
#[utoipa::path(get, path = "/api/v1/maintenance/assets/{asset_id}", tag = "maintenance", params(("asset_id" = String, Path)),
    responses((status = 200, body = AssetDetail), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn find_asset(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<AssetDetail>> {
    Ok(Json(asset::detail(&state.platform, &ctx.actor, &id).await?))
}

/// Change an asset: absent fields keep their value, an empty optional field clears it. Send
/// `version` to guard against lost updates.
#[utoipa::path(patch, path = "/api/v1/maintenance/assets/{asset_id}", tag = "maintenance", params(("asset_id" = String, Path)),
    request_body = AssetPatch,
    responses((status = 200, body = Asset), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_asset(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(patch): crate::extract::Json<AssetPatch>,
) -> ApiResult<Json<Asset>> {
    Ok(Json(
        asset::update(&state.platform, &ctx, &id, &patch).await?,
    ))
}

/// Retire an asset (its sub-assets first). It stays readable with status `retired`.
#[utoipa::path(post, path = "/api/v1/maintenance/assets/{asset_id}/retire", tag = "maintenance", params(("asset_id" = String, Path)),
    responses((status = 200, body = Asset), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn retire_asset(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Asset>> {
    Ok(Json(asset::retire(&state.platform, &ctx, &id).await?))
}

/// Add a meter (running hours, cycles, ...) to an active asset; its code is unique per asset.
#[utoipa::path(post, path = "/api/v1/maintenance/assets/{asset_id}/meters", tag = "maintenance", params(("asset_id" = String, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    request_body = MeterInput,
    responses((status = 201, body = Meter), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_asset_meter(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = format!("/api/v1/maintenance/assets/{id}/meters");
    create(
        &state,
        &ctx,
        &headers,
        &route,
        body,
        async |input: MeterInput, ctx: boh_platform::Ctx| {
            asset::add_meter(&state.platform, &ctx, &id, &input).await
        },
    )
    .await
}

/// Remove a meter of an asset.
#[utoipa::path(delete, path = "/api/v1/maintenance/assets/{asset_id}/meters/{meter_id}", tag = "maintenance",
    params(("asset_id" = String, Path), ("meter_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_asset_meter(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path((id, meter_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    asset::remove_meter(&state.platform, &ctx, &id, &meter_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The asset's printable label: an SVG with code, name and site beside a QR code of
/// `{base}/q/{qr_token}`, where base is this server as the request addressed it.
#[utoipa::path(get, path = "/api/v1/maintenance/assets/{asset_id}/label.svg", tag = "maintenance", params(("asset_id" = String, Path)),
    responses((status = 200, description = "The label", content_type = "image/svg+xml", body = String),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn asset_label(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match label(&state, &ctx.actor, &id, &headers).await {
        Ok(svg) => svg_response(svg),
        Err(e) => ApiError(e).into_response(),
    }
}

/// The public base URL of this server: the one configured for the links in e-mails
/// (`--public-url`) when there is one, else as the request addressed it,
/// `http(s)://host[:port]` (https when served over TLS, as the secure-cookie setting says).
/// A Host header that is not a plain host name or address falls back to `localhost`.
pub fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(smtp) = &state.platform.settings.smtp
        && !smtp.public_url.trim().is_empty()
    {
        return smtp.public_url.trim().trim_end_matches('/').to_string();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')
                })
        })
        .unwrap_or("localhost");
    let scheme = if state.settings.secure_cookies {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The label SVG of an asset the actor may read.
pub async fn label(
    state: &AppState,
    actor: &boh_kernel::Actor,
    id: &str,
    headers: &HeaderMap,
) -> Result<String, boh_platform::PlatformError> {
    let p = &state.platform;
    let a = asset::get(p, actor, id).await?;
    let site = boh_platform::org::fetch(p, &a.location_id)
        .await?
        .map(|n| format!("{} · {}", n.code, n.name(&actor.locale)))
        .unwrap_or_else(|| a.location_code.clone());
    let url = format!("{}/q/{}", base_url(state, headers), a.qr_token);
    boh_maintenance::label::svg(&boh_maintenance::label::LabelText {
        code: &a.code,
        name: &a.name,
        site: &site,
        url: &url,
    })
    .map_err(|e| boh_platform::PlatformError::Internal(anyhow::anyhow!("QR code: {e:?}")))
}

/// An SVG answer (not cached: the label follows the asset's name and site).
pub fn svg_response(svg: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response()
}

// ---------------------------------------------------------------- PM schedules

#[derive(Serialize, utoipa::ToSchema)]
pub struct PmScheduleList {
    pub items: Vec<PmSchedule>,
    pub page: PageInfo,
}

/// Preventive maintenance schedules in the caller's scope, newest first; active ones unless
/// `status` says otherwise.
#[utoipa::path(get, path = "/api/v1/maintenance/pm-schedules", tag = "maintenance", params(PmFilter),
    responses((status = 200, body = PmScheduleList), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_pm_schedules(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<PmFilter>,
) -> ApiResult<Json<PmScheduleList>> {
    let page = pm::list(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(PmScheduleList {
        items: page.items,
        page: PageInfo::new(page.total, page.limit, page.offset),
    }))
}

/// Create a preventive maintenance schedule on an asset: a calendar trigger (every N days,
/// weeks or months), a meter trigger (every N units of one of the asset's meters) or either
/// (whichever comes first); `fixed` counts due dates from the start, `floating` from the last
/// completion; the work order is generated `lead_days` / `lead_units` ahead. Needs
/// `maintenance.work_order.dispatch` at the asset's site.
#[utoipa::path(post, path = "/api/v1/maintenance/pm-schedules", tag = "maintenance", request_body = PmInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = PmSchedule), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_pm_schedule(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_pm_schedule",
        body,
        async |input: PmInput, ctx: boh_platform::Ctx| {
            pm::create(&state.platform, &ctx, &input).await
        },
    )
    .await
}

/// One preventive maintenance schedule with its next due date / reading.
#[utoipa::path(get, path = "/api/v1/maintenance/pm-schedules/{schedule_id}", tag = "maintenance",
    params(("schedule_id" = String, Path)),
    responses((status = 200, body = PmSchedule), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn find_pm_schedule(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<PmSchedule>> {
    Ok(Json(pm::get(&state.platform, &ctx.actor, &id).await?))
}

/// Change a schedule (title, priority, checklist, signature, lead times) or deactivate it
/// (`"active": false`). Send `version` to guard against lost updates.
#[utoipa::path(patch, path = "/api/v1/maintenance/pm-schedules/{schedule_id}", tag = "maintenance",
    params(("schedule_id" = String, Path)), request_body = PmPatch,
    responses((status = 200, body = PmSchedule), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_pm_schedule(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(patch): crate::extract::Json<PmPatch>,
) -> ApiResult<Json<PmSchedule>> {
    Ok(Json(pm::update(&state.platform, &ctx, &id, &patch).await?))
}

/// Generate the due work orders now, for the schedules the caller may dispatch (the hourly job
/// does this for all). Running it again generates nothing more.
#[utoipa::path(post, path = "/api/v1/maintenance/pm-schedules/run", tag = "maintenance",
    responses((status = 200, body = RunReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn run_pm_schedules(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<RunReport>> {
    if !ctx
        .actor
        .has_anywhere(boh_kernel::perm::MAINTENANCE_DISPATCH)
    {
        return Err(ApiError(boh_platform::PlatformError::Forbidden(
            boh_kernel::perm::MAINTENANCE_DISPATCH,
        )));
    }
    Ok(Json(
        pm::run(
            &state.platform,
            &pm::RunScope {
                asset_id: None,
                actor: Some(ctx.actor.clone()),
            },
        )
        .await?,
    ))
}

// ---------------------------------------------------------------- readings and rules

/// Ingest a batch of meter readings (exact integers; `read_at` RFC 3339, default now). Every
/// row is checked first: an unknown asset, a meter the asset lacks, a cumulative meter going
/// backwards, ... is refused naming the row and field (`readings[3].meter`) and nothing of the
/// batch is written. Then the predictive rules of the meters read are evaluated (a rule that
/// fires opens a work order) and the PM schedules of the assets read are run. Needs
/// `maintenance.asset.manage` at each asset's site.
#[utoipa::path(post, path = "/api/v1/maintenance/readings", tag = "maintenance", request_body = ReadingBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the batch safe to retry")),
    responses((status = 201, body = IngestReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn ingest_readings(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "ingest_readings",
        body,
        async |input: ReadingBatch, ctx: boh_platform::Ctx| {
            predictive::ingest(&state.platform, &ctx, &input).await
        },
    )
    .await
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct ReadingsQuery {
    /// At most this many (1–500, default 50).
    pub limit: Option<i64>,
}

/// The latest meter readings of an asset, newest first.
#[utoipa::path(get, path = "/api/v1/maintenance/assets/{asset_id}/readings", tag = "maintenance",
    params(("asset_id" = String, Path), ReadingsQuery),
    responses((status = 200, body = Vec<Reading>), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn asset_readings(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<ReadingsQuery>,
) -> ApiResult<Json<Vec<Reading>>> {
    Ok(Json(
        predictive::recent_readings(&state.platform, &ctx.actor, &id, q.limit.unwrap_or(50))
            .await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RuleList {
    pub items: Vec<Rule>,
    pub page: PageInfo,
}

/// Predictive rules in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/maintenance/predictive-rules", tag = "maintenance", params(RuleFilter),
    responses((status = 200, body = RuleList), (status = 401, body = ErrorBody)))]
async fn list_rules(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<RuleFilter>,
) -> ApiResult<Json<RuleList>> {
    let page = predictive::list_rules(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(RuleList {
        items: page.items,
        page: PageInfo::new(page.total, page.limit, page.offset),
    }))
}

/// Add a predictive rule to an asset's meter: `threshold` (above / below `limit_value`),
/// `rate` (rise per day over `window_days` above `limit_value`) or `drift` (more than `sigmas`
/// standard deviations from the mean of the previous `sample_n` readings). Needs
/// `maintenance.work_order.dispatch` at the asset's site.
#[utoipa::path(post, path = "/api/v1/maintenance/predictive-rules", tag = "maintenance", request_body = RuleInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Rule), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_rule(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_predictive_rule",
        body,
        async |input: RuleInput, ctx: boh_platform::Ctx| {
            predictive::create_rule(&state.platform, &ctx, &input).await
        },
    )
    .await
}

/// One predictive rule.
#[utoipa::path(get, path = "/api/v1/maintenance/predictive-rules/{rule_id}", tag = "maintenance",
    params(("rule_id" = String, Path)),
    responses((status = 200, body = Rule), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn find_rule(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Rule>> {
    Ok(Json(
        predictive::get_rule(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Delete a predictive rule (the work orders it opened stay).
#[utoipa::path(delete, path = "/api/v1/maintenance/predictive-rules/{rule_id}", tag = "maintenance",
    params(("rule_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_rule(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    predictive::delete_rule(&state.platform, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
