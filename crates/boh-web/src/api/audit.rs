//! The audit log, its chain head and verification.

use crate::extract::Query;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use boh_kernel::perm;
use boh_platform::PlatformError;
use boh_platform::audit::{self, AuditRow, Head, ListFilter};
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::PageInfo;
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_audit))
        .routes(routes!(find_audit_head))
        .routes(routes!(verify_audit))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_id: Option<String>,
    /// Username of the actor.
    pub actor: Option<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditList {
    pub items: Vec<AuditRow>,
    pub page: PageInfo,
}

/// Audit rows of records in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery), responses((status = 200, body = AuditList)))]
async fn list_audit(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<AuditList>> {
    let f = ListFilter {
        entity_type: q.entity_type,
        entity_id: q.entity_id,
        actor: q.actor,
        limit: q.limit.unwrap_or(50).clamp(1, 500),
        offset: q.offset.unwrap_or(0).max(0),
    };
    let (items, total) = audit::list(&state.platform.db, &ctx.actor, &f).await?;
    Ok(Json(AuditList {
        items,
        page: PageInfo::new(total, f.limit, f.offset),
    }))
}

fn require_verify(actor: &boh_kernel::Actor) -> Result<(), PlatformError> {
    let top = actor
        .grants
        .iter()
        .any(|g| g.permissions.contains(perm::AUDIT_VERIFY) && g.path.matches('/').count() <= 2);
    if top {
        Ok(())
    } else {
        Err(PlatformError::Forbidden(perm::AUDIT_VERIFY))
    }
}

/// The current chain head (`seq`, `hash`); store it elsewhere to detect a wholesale rewrite later.
#[utoipa::path(get, path = "/api/v1/audit/head", tag = "audit", responses((status = 200, body = Head)))]
async fn find_audit_head(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<Head>> {
    require_verify(&ctx.actor)?;
    Ok(Json(audit::head(&state.platform.db).await?))
}

#[derive(Deserialize, utoipa::ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct VerifyRequest {
    /// A previously exported head `SEQ:HASH` that must still be on the chain.
    #[schema(pattern = r"^[0-9]+:[0-9a-f]{64}$")]
    pub head: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobAccepted {
    pub job_id: String,
}

/// Start verifying the whole chain as a background job; poll `/api/v1/jobs/{job_id}`.
#[utoipa::path(post, path = "/api/v1/audit/verify", tag = "audit", request_body = VerifyRequest, responses((status = 202, body = JobAccepted)))]
async fn verify_audit(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    crate::extract::Json(req): crate::extract::Json<VerifyRequest>,
) -> ApiResult<(StatusCode, Json<JobAccepted>)> {
    require_verify(&ctx.actor)?;
    if let Some(h) = req.head.as_deref()
        && audit::parse_head(h).is_none()
    {
        return Err(PlatformError::invalid(
            "head",
            "must be SEQ:HASH with a 64-character hex hash",
        )
        .into());
    }
    let job_id = boh_platform::jobs::enqueue(
        &state.platform,
        "audit.verify",
        &serde_json::json!({ "head": req.head }),
        None,
        Some(&ctx.actor.user_id),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(JobAccepted { job_id })))
}
