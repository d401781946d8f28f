//! Sales anomalies: void and refund rate outliers among cashiers and stores, and store-days
//! far below their expected sales.

use crate::extract::Query;
use axum::Json;
use axum::extract::State;
use boh_sales::anomaly::{self, Anomalies, AnomalyFilter};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(anomalies_report))
}

/// Anomalies of the stores under `node_id` (everything readable when absent) over
/// `from..=to`: cashiers and stores whose void or refund rate exceeds the peer median +
/// k × 1.4826 × MAD (members with enough volume only), and store-days whose net sales are
/// below `below_bp` of the median of the same weekday over the previous `weeks` weeks. Each
/// flag carries its rate or sales, the peer median or expected level and the threshold.
#[utoipa::path(get, path = "/api/v1/sales/anomalies", tag = "sales", params(AnomalyFilter),
    responses((status = 200, body = Anomalies), (status = 401, body = crate::error::ErrorBody),
        (status = 404, description = "Unknown node, or one outside the caller's scope", body = crate::error::ErrorBody),
        (status = 422, description = "Missing or invalid dates or parameters", body = crate::error::ErrorBody)))]
async fn anomalies_report(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<AnomalyFilter>,
) -> ApiResult<Json<Anomalies>> {
    Ok(Json(
        anomaly::report(&state.platform, &ctx.actor, &f).await?,
    ))
}
