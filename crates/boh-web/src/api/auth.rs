//! Login, logout and "who am I".

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use boh_kernel::AuthVia;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiActor, client_ip};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`.
    pub token: String,
    pub expires_at: Option<String>,
    pub user_id: String,
}

/// Exchange a username and password for a bearer token.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", security(()),
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    parts: Parts,
    crate::extract::Json(req): crate::extract::Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    let ip = client_ip(&parts);
    let issued = boh_platform::auth::login_token(
        &state.platform,
        &req.username,
        &req.password,
        ip.as_deref(),
    )
    .await?;
    Ok(Json(LoginResponse {
        token: issued.token,
        expires_at: issued.info.expires_at,
        user_id: issued.info.user_id,
    }))
}

/// End the current token (or browser session).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
async fn logout(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> Result<StatusCode, ApiError> {
    match &ctx.actor.via {
        AuthVia::Token { token_id } => {
            boh_platform::auth::revoke_current_token(&state.platform, token_id).await?;
            boh_platform::security_event!(info, ctx, token_id = %token_id, "logged out: token revoked");
        }
        AuthVia::Session { session_hash, .. } => {
            boh_platform::auth::logout_hash(&state.platform, session_hash).await?;
            boh_platform::security_event!(info, ctx, "logged out: session ended");
        }
        AuthVia::System => {}
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub locale: String,
    pub company_id: Option<String>,
    pub grants: Vec<MeGrant>,
    pub permissions: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MeGrant {
    pub grant_id: String,
    pub role: String,
    pub org_node_id: Option<String>,
    pub permissions: Vec<String>,
}

/// The acting user, their grants in effect and their permissions.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth", responses((status = 200, body = Me)))]
async fn me(ApiActor(ctx): ApiActor) -> impl IntoResponse {
    let a = &ctx.actor;
    Json(Me {
        user_id: a.user_id.clone(),
        username: a.username.clone(),
        display_name: a.display_name.clone(),
        locale: a.locale.clone(),
        company_id: a.company_id.clone(),
        grants: a
            .grants
            .iter()
            .map(|g| MeGrant {
                grant_id: g.grant_id.clone(),
                role: g.role_code.clone(),
                org_node_id: g.node_id.clone(),
                permissions: g.permissions.iter().cloned().collect(),
            })
            .collect(),
        permissions: a.permissions().into_iter().collect(),
    })
}
