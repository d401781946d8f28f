//! Administration pages: organisation tree, users and grants, roles, API tokens, webhooks,
//! the audit log and background jobs.

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
