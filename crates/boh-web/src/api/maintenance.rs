//! Maintenance: the asset registry (assets of stores and warehouses, their meters and QR
//! labels).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use boh_maintenance::asset::{
    self, Asset, AssetDetail, AssetFilter, AssetInput, AssetPatch, Meter, MeterInput,
};
use serde::Serialize;
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
