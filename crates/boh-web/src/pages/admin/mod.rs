//! Administration pages: organisation tree, users and grants, roles, API tokens, webhooks,
//! the audit log and background jobs. Handlers stay thin: they call the platform and render.

use axum::Router;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::Ui;
use crate::state::AppState;

pub mod audit;
pub mod jobs;
pub mod org;
pub mod roles;
pub mod tokens;
pub mod users;
pub mod webhooks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/org", get(org::tree).post(org::create))
        .route("/admin/users", get(users::list).post(users::create))
        .route("/admin/users/new", get(users::new_form))
        .route("/admin/users/{id}", get(users::detail))
        .route("/admin/users/{id}/grants", post(users::add_grant))
        .route("/admin/users/{id}/password", post(users::reset_password))
        .route("/admin/users/{id}/activate", post(users::activate))
        .route("/admin/users/{id}/deactivate", post(users::deactivate))
        .route("/admin/grants/{id}/revoke", post(users::revoke_grant))
        .route("/admin/roles", get(roles::list).post(roles::create))
        .route("/admin/roles/new", get(roles::new_form))
        .route("/admin/roles/{id}", get(roles::detail).post(roles::update))
        .route("/admin/tokens", get(tokens::list).post(tokens::create))
        .route("/admin/tokens/{id}/revoke", post(tokens::revoke))
        .route(
            "/admin/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/admin/webhooks/{id}", get(webhooks::detail))
        .route("/admin/webhooks/{id}/enable", post(webhooks::enable))
        .route("/admin/webhooks/{id}/disable", post(webhooks::disable))
        .route(
            "/admin/webhook-deliveries/{id}/replay",
            post(webhooks::replay),
        )
        .route("/admin/audit", get(audit::list))
        .route("/admin/audit/verify", post(audit::verify))
        .route("/admin/jobs", get(jobs::list))
        .route("/admin/jobs/{id}", get(jobs::detail))
}

/// Flash messages a redirect may ask for (`?ok=CODE`); anything else is ignored.
const FLASHES: &[&str] = &[
    "created",
    "saved",
    "granted",
    "revoked",
    "password",
    "activated",
    "deactivated",
    "enabled",
    "disabled",
    "replayed",
];

/// The `?ok=` query of a page reached by a redirect after a successful POST.
#[derive(Debug, Default, Deserialize)]
pub struct FlashQuery {
    #[serde(default)]
    pub ok: String,
}

impl FlashQuery {
    /// Put the translated flash message (if any) on the page.
    pub fn apply(&self, ui: &mut Ui) {
        if FLASHES.contains(&self.ok.as_str()) {
            ui.flash = Some(ui.t(&format!("admin.flash.{}", self.ok)));
        }
    }
}

/// A redirect after a successful POST to a page that shows the flash `code`.
pub fn done(path: &str, code: &str) -> Response {
    Redirect::to(&format!("{path}?ok={code}")).into_response()
}

/// A page that shows a secret once: never cache it.
pub fn no_store(resp: Response) -> Response {
    ([(header::CACHE_CONTROL, "no-store")], resp).into_response()
}

/// `2024-05-01T12:34:56Z` as `2024-05-01 12:34` (UTC).
pub fn short_time(s: &str) -> String {
    let s = s.replace('T', " ");
    let s = s.trim_end_matches('Z');
    s.get(..16).unwrap_or(s).to_string()
}

/// An optional timestamp for a table cell.
pub fn opt_time(s: &Option<String>) -> String {
    s.as_deref().map(short_time).unwrap_or_else(|| "—".into())
}

/// Paging links for a list page.
pub struct Pager {
    pub showing: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `base` is the list URL with its filters and a trailing `?` or `&`.
    pub fn new(ui: &Ui, base: &str, offset: i64, limit: i64, total: i64) -> Pager {
        let from = if total == 0 { 0 } else { offset + 1 };
        let to = (offset + limit).min(total);
        Pager {
            showing: crate::i18n::t_args(
                &ui.locale,
                "common.showing",
                &[
                    ("from", &from.to_string()),
                    ("to", &to.to_string()),
                    ("total", &total.to_string()),
                ],
            ),
            prev: (offset > 0).then(|| format!("{base}offset={}", (offset - limit).max(0))),
            next: (offset + limit < total).then(|| format!("{base}offset={}", offset + limit)),
        }
    }
}

/// Trimmed text, `None` when empty.
pub fn some(v: &str) -> Option<String> {
    Some(v.trim().to_string()).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shortened() {
        assert_eq!(short_time("2024-05-01T12:34:56Z"), "2024-05-01 12:34");
        assert_eq!(short_time("bad"), "bad");
        assert_eq!(opt_time(&None), "—");
    }
}
