//! Recipes with dated versions, their explosion and cost roll-up, and productions.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use boh_inventory::production::{self, Production, ProductionInput};
use boh_inventory::recipe::{self, CostRollup, Explosion, Recipe, VersionInput};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::create;
use crate::error::{ApiResult, ErrorBody};
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(find_recipe))
        .routes(routes!(add_recipe_version))
        .routes(routes!(recipe_cost))
        .routes(routes!(explode_recipe))
        .routes(routes!(post_production))
}

/// An item's recipe with every version (newest first) and the one in force today; `versions`
/// is empty while the item has none.
#[utoipa::path(get, path = "/api/v1/items/{item_id}/recipe", tag = "recipes", params(("item_id" = String, Path)),
    responses((status = 200, body = Recipe), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn find_recipe(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Recipe>> {
    Ok(Json(
        recipe::get_recipe(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Add a version to an item's recipe (the first one creates the recipe). Versions are never
/// changed: a first version may be dated in the past, later ones take effect after every
/// existing version and not before today (`recipe_history` otherwise). A component that
/// would make the recipe contain itself is refused with `recipe_cycle`, naming the path.
#[utoipa::path(post, path = "/api/v1/items/{item_id}/recipe/versions", tag = "recipes",
    params(("item_id" = String, Path), ("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    request_body = VersionInput,
    responses((status = 201, body = Recipe), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_recipe_version(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "add_recipe_version",
        body,
        async |input: VersionInput, ctx: boh_platform::Ctx| {
            recipe::add_version(&state.platform, &ctx, &id, input).await
        },
    )
    .await
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct CostParams {
    /// Cost at this location (moving-average cost, else the supplier price in force); default
    /// company-wide from supplier prices.
    pub location_id: Option<String>,
    /// The day whose recipe version and prices apply, `YYYY-MM-DD`; default today.
    pub date: Option<String>,
    /// Selling price of one base unit of the item in minor units, for the food-cost
    /// percentage; empty is the same as absent.
    #[param(pattern = "^([1-9][0-9]{0,11})?$")]
    pub selling_price: Option<String>,
}

/// The cost of one batch and one base unit of an item from its recipe in force, line by line
/// (quantity, unit cost and where it came from, line cost, share), and the food-cost
/// percentage against a selling price. `no_recipe` (409) when none is in force.
#[utoipa::path(get, path = "/api/v1/items/{item_id}/recipe/cost", tag = "recipes", params(("item_id" = String, Path), CostParams),
    responses((status = 200, body = CostRollup), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn recipe_cost(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<CostParams>,
) -> ApiResult<Json<CostRollup>> {
    Ok(Json(
        recipe::cost_rollup(
            &state.platform,
            &ctx.actor,
            &id,
            q.location_id.as_deref(),
            q.date.as_deref(),
            q.selling_price.as_deref(),
        )
        .await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ExplodeParams {
    /// How much of the item, a positive decimal; default 1.
    pub qty: Option<String>,
    /// The unit of `qty`; default the item's base unit.
    pub unit: Option<String>,
    /// The day whose recipe versions apply, `YYYY-MM-DD`; default today.
    pub date: Option<String>,
}

/// The theoretical usage of stocked ingredients for making (or selling) a quantity of an item
/// on a day: its recipe in force, sub-recipes exploded, line yields applied, each quantity
/// rounded once to the micro-unit. `no_recipe` (409) when a recipe is missing.
#[utoipa::path(get, path = "/api/v1/items/{item_id}/recipe/explode", tag = "recipes", params(("item_id" = String, Path), ExplodeParams),
    responses((status = 200, body = Explosion), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn explode_recipe(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Query(q): Query<ExplodeParams>,
) -> ApiResult<Json<Explosion>> {
    Ok(Json(
        recipe::explode_for(
            &state.platform,
            &ctx.actor,
            &id,
            q.qty.as_deref(),
            q.unit.as_deref(),
            q.date.as_deref(),
        )
        .await?,
    ))
}

/// Post a production at a location: the recipe in force on the business day consumes its
/// ingredients (`production_out`, at moving-average cost) and yields the item
/// (`production_in`, valued at what was consumed) in one `production` document. `actual`
/// replaces theoretical quantities. Refusals: `insufficient_stock` where the location forbids
/// negative stock, `no_recipe`, `period_locked`. Needs `inventory.move.create` there.
#[utoipa::path(post, path = "/api/v1/productions", tag = "recipes", request_body = ProductionInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the post safe to retry")),
    responses((status = 201, body = Production), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn post_production(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "post_production",
        body,
        async |input: ProductionInput, ctx: boh_platform::Ctx| {
            production::post(&state.platform, &ctx, input).await
        },
    )
    .await
}
