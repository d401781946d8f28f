//! Stores and the organisation tree.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use boh_platform::PlatformError;
use boh_platform::org::{self, NewNode, NodeFilter, NodePatch, OrgNode};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_stores, create_store))
        .routes(routes!(find_store, update_store))
        .routes(routes!(list_nodes, create_node))
        .routes(routes!(find_node, update_node))
}

/// A store (or other org node) as the API shows it; `name` is the English name.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NodeOut {
    pub name: String,
    #[serde(flatten)]
    pub node: OrgNode,
}

impl From<OrgNode> for NodeOut {
    fn from(node: OrgNode) -> Self {
        NodeOut {
            name: node.name_en.clone(),
            node,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NodeList {
    pub items: Vec<NodeOut>,
    pub page: PageInfo,
}

async fn list_kind(
    state: &AppState,
    ctx: &boh_platform::Ctx,
    mut f: NodeFilter,
    kind: Option<&str>,
) -> ApiResult<Json<NodeList>> {
    if let Some(k) = kind {
        f.kind = Some(k.to_string());
    }
    let (items, total) = org::list(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(NodeList {
        items: items.into_iter().map(NodeOut::from).collect(),
        page: PageInfo::new(
            total,
            f.limit.unwrap_or(50).clamp(1, 500),
            f.offset.unwrap_or(0).max(0),
        ),
    }))
}

async fn find_kind(
    state: &AppState,
    ctx: &boh_platform::Ctx,
    id: &str,
    kind: Option<&str>,
) -> ApiResult<Json<NodeOut>> {
    let n = org::get(&state.platform, &ctx.actor, id).await?;
    if kind.is_some_and(|k| k != n.kind) {
        return Err(PlatformError::NotFound.into());
    }
    Ok(Json(n.into()))
}

/// Stores in the caller's scope, sorted by code.
#[utoipa::path(get, path = "/api/v1/stores", tag = "org", params(NodeFilter), responses((status = 200, body = NodeList),
    (status = 404, description = "`under` is not a node in the caller's scope", body = crate::error::ErrorBody),
    (status = 422, description = "An unknown `kind`", body = crate::error::ErrorBody)))]
async fn list_stores(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<NodeFilter>,
) -> ApiResult<Json<NodeList>> {
    list_kind(&state, &ctx, f, Some("store")).await
}

/// Open a new store under a region or company the caller may create in.
#[utoipa::path(post, path = "/api/v1/stores", tag = "org", request_body = NewNode,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = NodeOut), (status = 422, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn create_store(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_store",
        body,
        async |mut input: NewNode, ctx: boh_platform::Ctx| {
            input.kind = "store".into();
            org::create(&state.platform, &ctx, input)
                .await
                .map(NodeOut::from)
        },
    )
    .await
}

/// One store.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}", tag = "org", params(("store_id" = String, Path)),
    responses((status = 200, body = NodeOut), (status = 404, body = crate::error::ErrorBody)))]
async fn find_store(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<NodeOut>> {
    find_kind(&state, &ctx, &id, Some("store")).await
}

/// Change a store; send `version` to guard against lost updates.
#[utoipa::path(patch, path = "/api/v1/stores/{store_id}", tag = "org", params(("store_id" = String, Path)), request_body = NodePatch,
    responses((status = 200, body = NodeOut), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
async fn update_store(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(patch): crate::extract::Json<NodePatch>,
) -> ApiResult<Json<NodeOut>> {
    let _ = find_kind(&state, &ctx, &id, Some("store")).await?;
    Ok(Json(
        org::update(&state.platform, &ctx, &id, patch).await?.into(),
    ))
}

/// Nodes of the organisation tree in the caller's scope (all kinds unless filtered).
#[utoipa::path(get, path = "/api/v1/org/nodes", tag = "org", params(NodeFilter), responses((status = 200, body = NodeList),
    (status = 404, description = "`under` is not a node in the caller's scope", body = crate::error::ErrorBody),
    (status = 422, description = "An unknown `kind`", body = crate::error::ErrorBody)))]
async fn list_nodes(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<NodeFilter>,
) -> ApiResult<Json<NodeList>> {
    list_kind(&state, &ctx, f, None).await
}

/// Create a node: a region, store, warehouse or central kitchen under a parent, or a company.
#[utoipa::path(post, path = "/api/v1/org/nodes", tag = "org", request_body = NewNode,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = NodeOut), (status = 422, body = crate::error::ErrorBody)))]
async fn create_node(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_node",
        body,
        async |input: NewNode, ctx: boh_platform::Ctx| {
            org::create(&state.platform, &ctx, input)
                .await
                .map(NodeOut::from)
        },
    )
    .await
}

/// One node.
#[utoipa::path(get, path = "/api/v1/org/nodes/{node_id}", tag = "org", params(("node_id" = String, Path)),
    responses((status = 200, body = NodeOut), (status = 404, body = crate::error::ErrorBody)))]
async fn find_node(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<NodeOut>> {
    find_kind(&state, &ctx, &id, None).await
}

/// Change a node.
#[utoipa::path(patch, path = "/api/v1/org/nodes/{node_id}", tag = "org", params(("node_id" = String, Path)), request_body = NodePatch,
    responses((status = 200, body = NodeOut), (status = 404, body = crate::error::ErrorBody),
        (status = 409, description = "`version` does not match, or the code is taken", body = crate::error::ErrorBody)))]
async fn update_node(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(patch): crate::extract::Json<NodePatch>,
) -> ApiResult<Json<NodeOut>> {
    Ok(Json(
        org::update(&state.platform, &ctx, &id, patch).await?.into(),
    ))
}
