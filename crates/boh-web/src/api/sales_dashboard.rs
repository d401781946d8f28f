//! Sales dashboards: a node's periods against last year, and one item's daily sales at a node.
//! The same numbers as the `/sales` pages.

use axum::Json;
use axum::extract::State;
use boh_sales::dashboard::{self, Dashboard, ItemTrend};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiActor, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_dashboard))
        .routes(routes!(get_item_trend))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DashboardParams {
    /// Company, region or store; default the top of the caller's `sales.read` scope.
    #[param(pattern = "^[0-9a-fA-F-]{36}$")]
    pub node_id: Option<String>,
    /// The day the periods end, `YYYY-MM-DD`; default today in the node's time zone.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: Option<String>,
}

/// A node's sales today, week to date (from Monday) and month to date against the same
/// weekdays 364 days earlier: totals, average ticket, sales per m², by child node, best and
/// worst stores, tender mix, the last 28 days; for a store also today by hour, top items,
/// low stock and the AvT headline. Read from the rollups only.
#[utoipa::path(get, path = "/api/v1/sales/dashboard", tag = "sales", params(DashboardParams),
    responses((status = 200, body = Dashboard), (status = 401, body = ErrorBody),
        (status = 404, description = "Unknown node, or one outside the caller's sales scope", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn get_dashboard(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<DashboardParams>,
) -> ApiResult<Json<Dashboard>> {
    let p = &state.platform;
    if q.node_id
        .as_deref()
        .is_some_and(|s| !boh_kernel::id::is_uuid(s))
    {
        return Err(boh_platform::PlatformError::invalid("node_id", "must be a node id").into());
    }
    let id = match q.node_id.filter(|s| !s.is_empty()) {
        Some(id) => id,
        None => dashboard::home_node(p, &ctx.actor).await?.id,
    };
    Ok(Json(
        dashboard::dashboard(p, &ctx.actor, &id, q.date.as_deref()).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ItemTrendParams {
    /// Company, region or store; default the top of the caller's `sales.read` scope.
    #[param(pattern = "^[0-9a-fA-F-]{36}$")]
    pub node_id: Option<String>,
    /// First day, `YYYY-MM-DD`; default 27 days before `to`. At most 366 days in all.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`; default today in the node's time zone.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: Option<String>,
}

/// One item's sales per day at a node over a period (every day listed), against the same
/// weekdays 364 days earlier.
#[utoipa::path(get, path = "/api/v1/sales/dashboard/items/{item_id}", tag = "sales",
    params(("item_id" = String, Path, description = "An item of the node's company"), ItemTrendParams),
    responses((status = 200, body = ItemTrend), (status = 401, body = ErrorBody),
        (status = 404, description = "Unknown item or node, or a node outside the caller's sales scope", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn get_item_trend(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(item_id): Path<String>,
    Query(q): Query<ItemTrendParams>,
) -> ApiResult<Json<ItemTrend>> {
    let p = &state.platform;
    if q.node_id
        .as_deref()
        .is_some_and(|s| !boh_kernel::id::is_uuid(s))
    {
        return Err(boh_platform::PlatformError::invalid("node_id", "must be a node id").into());
    }
    let id = match q.node_id.filter(|s| !s.is_empty()) {
        Some(id) => id,
        None => dashboard::home_node(p, &ctx.actor).await?.id,
    };
    Ok(Json(
        dashboard::item_trend(
            p,
            &ctx.actor,
            &id,
            &item_id,
            q.from.as_deref(),
            q.to.as_deref(),
        )
        .await?,
    ))
}
