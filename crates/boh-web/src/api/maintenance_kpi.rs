//! Maintenance KPIs and the knowledge base of past fixes. The same numbers as the
//! `/maintenance/kpis` page; every figure and hit lies in the caller's scope.

use axum::Json;
use axum::extract::State;
use boh_maintenance::knowledge::{self, Fix, KnowledgeQuery};
use boh_maintenance::kpi::{self, KpiQuery, Kpis};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiActor, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_kpis))
        .routes(routes!(search_knowledge))
        .routes(routes!(similar_fixes))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct FixList {
    pub items: Vec<Fix>,
}

/// Maintenance KPIs of the work orders created in a period, under an org node (default all
/// the caller sees): MTTR and MTBF (minutes), first-time-fix rate (no repeat on the same
/// asset and fault within `ftf_days`), SLA compliance (per mille), cost (labour + parts,
/// minor units) in total, by store, by asset model and for the costliest assets, the monthly
/// trend, and the open backlog by age. Cancelled work orders and those reported next to an
/// open one are left out; PM work orders are not failures (MTBF, first-time fix).
#[utoipa::path(get, path = "/api/v1/maintenance/kpis", tag = "maintenance", params(KpiQuery),
    responses((status = 200, body = Kpis), (status = 401, body = ErrorBody),
        (status = 404, description = "Unknown node, or one outside the caller's maintenance scope", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn get_kpis(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<KpiQuery>,
) -> ApiResult<Json<Kpis>> {
    Ok(Json(kpi::kpis(&state.platform, &ctx.actor, &q).await?))
}

/// Search past fixes (finished work orders: title, description, fault, cause and remedy
/// codes, resolution note) by words or Chinese text, best first. Only work orders the caller
/// sees are searched.
#[utoipa::path(get, path = "/api/v1/maintenance/knowledge", tag = "maintenance", params(KnowledgeQuery),
    responses((status = 200, body = FixList), (status = 401, body = ErrorBody),
        (status = 404, description = "Unknown node, or one outside the caller's maintenance scope", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn search_knowledge(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<KnowledgeQuery>,
) -> ApiResult<Json<FixList>> {
    check_limit(q.limit)?;
    Ok(Json(FixList {
        items: knowledge::search(&state.platform, &ctx.actor, &q).await?,
    }))
}

/// `limit`, when given, is 1 to 50.
fn check_limit(limit: Option<i64>) -> Result<(), boh_platform::PlatformError> {
    match limit {
        Some(l) if !(1..=50).contains(&l) => Err(boh_platform::PlatformError::invalid(
            "limit",
            "must be 1 to 50",
        )),
        _ => Ok(()),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SimilarParams {
    /// At most this many (default 20, at most 50).
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// The past fixes most like a work order: on the same asset model first, then the same
/// category, by likeness of title, description and fault.
#[utoipa::path(get, path = "/api/v1/maintenance/work-orders/{work_order_id}/similar", tag = "maintenance",
    params(("work_order_id" = String, Path), SimilarParams),
    responses((status = 200, body = FixList), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn similar_fixes(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<SimilarParams>,
) -> ApiResult<Json<FixList>> {
    check_limit(q.limit)?;
    Ok(Json(FixList {
        items: knowledge::similar(&state.platform, &ctx.actor, &id, q.limit).await?,
    }))
}
