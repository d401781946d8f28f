//! Background jobs and their progress.

use crate::extract::{Path, Query};
use axum::Json;
use axum::extract::State;
use boh_platform::jobs::{self, Job};
use serde::Serialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::Paging;
use crate::error::ApiResult;
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_jobs))
        .routes(routes!(find_job))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JobList {
    pub items: Vec<Job>,
}

/// Recent jobs the caller started or may see.
#[utoipa::path(get, path = "/api/v1/jobs", tag = "jobs", params(Paging), responses((status = 200, body = JobList)))]
async fn list_jobs(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(pg): Query<Paging>,
) -> ApiResult<Json<JobList>> {
    Ok(Json(JobList {
        items: jobs::list(&state.platform, &ctx.actor, pg.limit()).await?,
    }))
}

/// One job with its progress.
#[utoipa::path(get, path = "/api/v1/jobs/{job_id}", tag = "jobs", params(("job_id" = String, Path)), responses((status = 200, body = Job), (status = 404, body = crate::error::ErrorBody)))]
async fn find_job(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Job>> {
    Ok(Json(jobs::get(&state.platform, &ctx.actor, &id).await?))
}
