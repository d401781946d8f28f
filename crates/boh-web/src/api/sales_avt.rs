//! Actual vs theoretical usage of a store over a period.

use crate::extract::Query;
use axum::Json;
use axum::extract::State;
use boh_sales::avt::{self, Avt, AvtFilter};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(avt_report))
}

/// Actual vs theoretical usage (AvT) of one store over the business days `from..=to`, per
/// item or category, largest absolute variance first. Actual usage = opening + receipts +
/// transfers in + production in − transfers out − closing, with opening and closing from
/// posted counts dated `from − 1` and `to` (else the ledger's book, flagged per row);
/// theoretical = the recipe depletion of the period's sales (+ production consumption);
/// waste apart; variance = actual − theoretical − waste. Values at the store's moving-average
/// cost, percentages in basis points of the period's net sales.
#[utoipa::path(get, path = "/api/v1/sales/avt", tag = "sales", params(AvtFilter),
    responses((status = 200, body = Avt), (status = 401, body = crate::error::ErrorBody),
        (status = 404, description = "Unknown store, or one outside the caller's scope", body = crate::error::ErrorBody),
        (status = 422, description = "Missing or invalid store, dates or group", body = crate::error::ErrorBody)))]
async fn avt_report(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<AvtFilter>,
) -> ApiResult<Json<Avt>> {
    Ok(Json(avt::report(&state.platform, &ctx.actor, &f).await?))
}
