//! Users, roles, grants and API tokens.

use crate::extract::{Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use boh_platform::auth::{self, ApiToken, IssuedToken};
use boh_platform::iam::{self, Grant, NewGrant, NewUser, Role, RoleInput, User};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, Paging, create};
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(find_user))
        .routes(routes!(deactivate_user))
        .routes(routes!(activate_user))
        .routes(routes!(reset_user_password))
        .routes(routes!(list_user_grants))
        .routes(routes!(list_roles, create_role))
        .routes(routes!(find_role, update_role))
        .routes(routes!(list_permissions))
        .routes(routes!(create_grant))
        .routes(routes!(revoke_grant))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UserList {
    pub items: Vec<User>,
    pub page: PageInfo,
}

/// Users in the caller's scope.
#[utoipa::path(get, path = "/api/v1/users", tag = "iam", params(Paging), responses((status = 200, body = UserList)))]
async fn list_users(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(pg): Query<Paging>,
) -> ApiResult<Json<UserList>> {
    let (items, total) = iam::list_users(
        &state.platform,
        &ctx.actor,
        pg.q.as_deref().unwrap_or(""),
        pg.limit(),
        pg.offset(),
    )
    .await?;
    Ok(Json(UserList {
        items,
        page: PageInfo::new(total, pg.limit(), pg.offset()),
    }))
}

/// Create a user in the caller's company.
#[utoipa::path(post, path = "/api/v1/users", tag = "iam", request_body = NewUser,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = User), (status = 422, body = crate::error::ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_user",
        body,
        async |input: NewUser, ctx: boh_platform::Ctx| {
            iam::create_user(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// One user.
#[utoipa::path(get, path = "/api/v1/users/{user_id}", tag = "iam", params(("user_id" = String, Path)), responses((status = 200, body = User), (status = 404, body = crate::error::ErrorBody)))]
async fn find_user(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(iam::get_user(&state.platform, &ctx.actor, &id).await?))
}

/// Deactivate a user: their sessions end and their tokens stop working at once.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/deactivate", tag = "iam", params(("user_id" = String, Path)), responses((status = 200, body = User),
    (status = 422, description = "Callers cannot deactivate themselves", body = crate::error::ErrorBody)))]
async fn deactivate_user(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        iam::set_active(&state.platform, &ctx, &id, false).await?,
    ))
}

/// Reactivate a user.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/activate", tag = "iam", params(("user_id" = String, Path)), responses((status = 200, body = User)))]
async fn activate_user(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(
        iam::set_active(&state.platform, &ctx, &id, true).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordReset {
    /// At least 10 characters, at most 256 bytes.
    #[schema(min_length = 10, max_length = 256)]
    pub password: String,
}

/// Set a new password for a user; ends their sessions.
#[utoipa::path(post, path = "/api/v1/users/{user_id}/password", tag = "iam", params(("user_id" = String, Path)), request_body = PasswordReset, responses((status = 204)))]
async fn reset_user_password(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(b): crate::extract::Json<PasswordReset>,
) -> ApiResult<StatusCode> {
    iam::reset_password(&state.platform, &ctx, &id, &b.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GrantList {
    pub items: Vec<Grant>,
}

/// A user's grants that the caller may see.
#[utoipa::path(get, path = "/api/v1/users/{user_id}/grants", tag = "iam", params(("user_id" = String, Path)), responses((status = 200, body = GrantList)))]
async fn list_user_grants(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<GrantList>> {
    Ok(Json(GrantList {
        items: iam::list_grants(&state.platform, &ctx.actor, &id).await?,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RoleList {
    pub items: Vec<Role>,
}

/// Roles of the caller's company.
#[utoipa::path(get, path = "/api/v1/roles", tag = "iam", responses((status = 200, body = RoleList)))]
async fn list_roles(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<RoleList>> {
    Ok(Json(RoleList {
        items: iam::list_roles(&state.platform, &ctx.actor).await?,
    }))
}

/// Define a role as a set of permissions.
#[utoipa::path(post, path = "/api/v1/roles", tag = "iam", request_body = RoleInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Role), (status = 422, body = crate::error::ErrorBody)))]
async fn create_role(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_role",
        body,
        async |input: RoleInput, ctx: boh_platform::Ctx| {
            iam::create_role(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// One role.
#[utoipa::path(get, path = "/api/v1/roles/{role_id}", tag = "iam", params(("role_id" = String, Path)), responses((status = 200, body = Role), (status = 404, body = crate::error::ErrorBody)))]
async fn find_role(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Role>> {
    Ok(Json(iam::get_role(&state.platform, &ctx.actor, &id).await?))
}

/// Change a role's names and permissions; `code` must repeat the role's code (it cannot change).
#[utoipa::path(put, path = "/api/v1/roles/{role_id}", tag = "iam", params(("role_id" = String, Path)), request_body = RoleInput, responses((status = 200, body = Role)))]
async fn update_role(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    crate::extract::Json(input): crate::extract::Json<RoleInput>,
) -> ApiResult<Json<Role>> {
    Ok(Json(
        iam::update_role(&state.platform, &ctx, &id, input).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionInfo {
    pub code: String,
    pub name_en: String,
    pub name_zh: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PermissionList {
    pub items: Vec<PermissionInfo>,
}

/// The permission catalogue roles are built from.
#[utoipa::path(get, path = "/api/v1/permissions", tag = "iam", responses((status = 200, body = PermissionList)))]
async fn list_permissions(ApiActor(_ctx): ApiActor) -> Json<PermissionList> {
    Json(PermissionList {
        items: boh_kernel::perm::CATALOGUE
            .iter()
            .map(|(c, en, zh)| PermissionInfo {
                code: (*c).into(),
                name_en: (*en).into(),
                name_zh: (*zh).into(),
            })
            .collect(),
    })
}

/// Give a user a role on an org node and its subtree.
#[utoipa::path(post, path = "/api/v1/grants", tag = "iam", request_body = NewGrant,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = Grant), (status = 404, body = crate::error::ErrorBody)))]
async fn create_grant(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_grant",
        body,
        async |input: NewGrant, ctx: boh_platform::Ctx| {
            iam::create_grant(&state.platform, &ctx, input).await
        },
    )
    .await
}

/// Revoke a grant; it stops applying on the next request.
#[utoipa::path(delete, path = "/api/v1/grants/{grant_id}", tag = "iam", params(("grant_id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn revoke_grant(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    iam::revoke_grant(&state.platform, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenList {
    pub items: Vec<ApiToken>,
}

/// The caller's API tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "iam", responses((status = 200, body = TokenList)))]
async fn list_tokens(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<TokenList>> {
    Ok(Json(TokenList {
        items: auth::list_tokens(&state.platform, &ctx.actor).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// One of the caller's grants; the token acts with that grant only.
    pub grant_id: String,
    /// Days until the token expires (none: it does not expire).
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<i64>,
}

/// Create an API token for a machine; the token is shown in this response only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "iam", request_body = NewToken,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = IssuedToken)))]
async fn create_token(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "create_token",
        body,
        async |t: NewToken, ctx: boh_platform::Ctx| {
            auth::create_token(
                &state.platform,
                &ctx,
                &t.name,
                &t.grant_id,
                t.expires_in_days,
            )
            .await
        },
    )
    .await
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{token_id}", tag = "iam", params(("token_id" = String, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
async fn revoke_token(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    auth::revoke_token(&state.platform, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
