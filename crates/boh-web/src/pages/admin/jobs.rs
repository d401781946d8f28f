//! Background jobs: recent jobs and one job with live progress (polled by app.js).

use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::response::Response;
use boh_platform::jobs::{self, Job};

use super::short_time;
use crate::extract::PageActor;
use crate::pages::{Ui, error_page, render, scope_cookie, ui};
use crate::state::AppState;

const LIMIT: i64 = 100;

pub struct JobLine {
    pub job: Job,
    pub status_label: String,
    pub created: String,
    pub updated: String,
    /// `<progress>` value and max.
    pub value: i64,
    pub max: i64,
    pub done: bool,
}

fn line(job: Job, ui: &Ui) -> JobLine {
    let done = matches!(job.status.as_str(), "succeeded" | "failed");
    let (value, max) = if job.progress_total > 0 {
        (
            job.progress_done.min(job.progress_total),
            job.progress_total,
        )
    } else if job.status == "succeeded" {
        (1, 1)
    } else {
        (0, 1)
    };
    JobLine {
        status_label: ui.t(&format!("jobs.status.{}", job.status)),
        created: short_time(&job.created_at),
        updated: short_time(&job.updated_at),
        value,
        max,
        done,
        job,
    }
}

#[derive(askama::Template)]
#[template(path = "admin/jobs.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<JobLine>,
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let jobs = match jobs::list(&state.platform, &ctx.actor, LIMIT).await {
        Ok(j) => j,
        Err(e) => return error_page(e),
    };
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "jobs",
        "jobs.title",
    )
    .await;
    let rows = jobs.into_iter().map(|j| line(j, &ui)).collect();
    render(ListPage { ui, rows })
}

#[derive(askama::Template)]
#[template(path = "admin/job_detail.html")]
struct DetailPage {
    ui: Ui,
    line: JobLine,
    payload: String,
    result: Option<String>,
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    let job = match jobs::get(&state.platform, &ctx.actor, &id).await {
        Ok(j) => j,
        Err(e) => return error_page(e),
    };
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "jobs",
        "jobs.detail",
    )
    .await;
    let payload = pretty(&job.payload);
    let result = job.result.as_ref().map(pretty);
    render(DetailPage {
        line: line(job, &ui),
        ui,
        payload,
        result,
    })
}
