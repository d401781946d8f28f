//! The no-login pages of maintenance: the fault report form reached by scanning an asset's QR
//! code (`/q/{token}`, throttled per address and per asset, photos checked by content and
//! size, an open request for the same fault offered instead of a duplicate), and the
//! requester's tracking page (`/q/t/{tracking}`: status steps, and the rating once the job is
//! done). Nothing here shows more than the asset's name and site and the request's own steps.

use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_maintenance::workorder::{self, FAULT_CODES, PublicOutcome, PublicRequest, WoEvent};
use boh_platform::{FieldError, PlatformError};
use serde::Deserialize;

use super::{error_page, render};
use crate::state::AppState;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/q/{token}", get(form).post(submit))
        .route("/q/t/{tracking}", get(track))
        .route("/q/t/{tracking}/rate", post(rate))
        .route("/q/t/{tracking}/files/{att}", get(file))
}

/// The language and, when the visitor is signed in, the session's CSRF token (a signed-in
/// visitor's posts must carry it).
async fn visitor(state: &AppState, parts: &mut Parts) -> (String, String) {
    let locale = crate::i18n::from_request(parts).to_string();
    let csrf = match crate::extract::resolve(parts, state).await {
        Ok(a) => match a.via {
            boh_kernel::AuthVia::Session { csrf_token, .. } => csrf_token,
            _ => String::new(),
        },
        Err(_) => String::new(),
    };
    (locale, csrf)
}

#[derive(Debug, Default, Clone)]
pub struct Fields {
    pub name: String,
    pub contact: String,
    pub fault_code: String,
    pub description: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/public_request.html")]
struct FormPage {
    locale: String,
    csrf: String,
    token: String,
    asset: String,
    site: String,
    f: Fields,
    faults: Vec<(String, String)>,
    errors: Vec<FieldError>,
    general: Option<String>,
    /// An open request for the same fault: (id, number, title).
    duplicate: Option<(String, String, String)>,
}

impl FormPage {
    fn t(&self, k: &str) -> String {
        crate::i18n::t(&self.locale, k)
    }
    fn err(&self, field: &str) -> String {
        self.errors
            .iter()
            .filter(|e| e.field == field || e.field.starts_with(&format!("{field}[")))
            .map(|e| crate::i18n::field_message(&self.locale, &e.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

async fn page(
    state: &AppState,
    parts: &mut Parts,
    token: &str,
    f: Fields,
    errors: Vec<FieldError>,
    general: Option<String>,
    duplicate: Option<(String, String, String)>,
) -> Result<FormPage, Response> {
    let (locale, csrf) = visitor(state, parts).await;
    let (a, site) = match workorder::public_asset(&state.platform, token).await {
        Ok(Some(x)) => x,
        Ok(None) => return Err(error_page(PlatformError::NotFound)),
        Err(e) => return Err(error_page(e)),
    };
    let faults = FAULT_CODES
        .iter()
        .map(|c| {
            (
                c.to_string(),
                crate::i18n::t(&locale, &format!("wo.fault.{c}")),
            )
        })
        .collect();
    Ok(FormPage {
        site: format!("{} {}", site.code, site.name(&locale)),
        asset: format!("{} · {}", a.code, a.name),
        locale,
        csrf,
        token: token.to_string(),
        f,
        faults,
        errors,
        general,
        duplicate,
    })
}

pub async fn form(
    State(state): State<AppState>,
    mut parts: Parts,
    Path(token): Path<String>,
) -> Response {
    let f = Fields {
        fault_code: "not_working".into(),
        ..Default::default()
    };
    match page(&state, &mut parts, &token, f, Vec::new(), None, None).await {
        Ok(p) => render(p),
        Err(r) => r,
    }
}

pub async fn submit(
    State(state): State<AppState>,
    mut parts: Parts,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let fields = match super::multipart_form(&state, &headers, body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let get = |n: &str| {
        fields
            .iter()
            .find(|p| p.name == n && p.file_name.is_none())
            .map(|p| p.text())
            .unwrap_or_default()
    };
    let f = Fields {
        name: get("name"),
        contact: get("contact"),
        fault_code: get("fault_code"),
        description: get("description"),
    };
    let locale = crate::i18n::from_request(&parts).to_string();
    let title = match workorder::public_asset(&state.platform, &token).await {
        Ok(Some((a, _))) if FAULT_CODES.contains(&f.fault_code.as_str()) => Some(format!(
            "{}: {}",
            a.name,
            crate::i18n::t(&locale, &format!("wo.fault.{}", f.fault_code))
        )),
        _ => None,
    };
    let req = PublicRequest {
        title,
        name: f.name.clone(),
        contact: f.contact.clone(),
        fault_code: f.fault_code.clone(),
        description: f.description.clone(),
        not_duplicate: get("not_duplicate") == "1",
        photos: crate::api::maintenance_wo::uploads(&fields, "photos"),
    };
    let ip = crate::extract::client_ip(&parts);
    let p = &state.platform;
    let add_to = get("add_to");
    if !add_to.is_empty() {
        return match workorder::add_to_existing_public(p, &token, ip.as_deref(), &add_to, &req)
            .await
        {
            Ok(_) => {
                let locale = crate::i18n::from_request(&parts);
                added_page(locale).into_response()
            }
            Err(e) => refused(&state, &mut parts, &token, f, e).await,
        };
    }
    match workorder::create_public(p, &token, ip.as_deref(), &req).await {
        Ok(PublicOutcome::Created(r)) => {
            Redirect::to(&format!("/q/t/{}?new=1", r.tracking_token)).into_response()
        }
        Ok(PublicOutcome::Duplicate(w)) => {
            let locale = crate::i18n::from_request(&parts).to_string();
            let general = Some(crate::i18n::t(&locale, "wo.public.duplicate"));
            match page(
                &state,
                &mut parts,
                &token,
                f,
                Vec::new(),
                general,
                Some((w.id, w.number, w.title)),
            )
            .await
            {
                Ok(pg) => (StatusCode::CONFLICT, render(pg)).into_response(),
                Err(r) => r,
            }
        }
        Err(e) => refused(&state, &mut parts, &token, f, e).await,
    }
}

fn added_page(locale: &str) -> Response {
    let page = Message {
        locale: locale.to_string(),
        title: crate::i18n::t(locale, "wo.public.added_title"),
        text: crate::i18n::t(locale, "wo.public.added_text"),
    };
    render(page)
}

#[derive(askama::Template)]
#[template(path = "maintenance/public_message.html")]
struct Message {
    locale: String,
    title: String,
    text: String,
}

async fn refused(
    state: &AppState,
    parts: &mut Parts,
    token: &str,
    f: Fields,
    e: PlatformError,
) -> Response {
    let status = crate::error::status_of(&e);
    let locale = crate::i18n::from_request(parts).to_string();
    let (errors, general) = match e {
        PlatformError::Validation(fields) => {
            (fields, Some(crate::i18n::t(&locale, "common.fix_errors")))
        }
        PlatformError::Throttled { retry_after_secs } => (
            Vec::new(),
            Some(crate::i18n::t_args(
                &locale,
                "wo.public.throttled",
                &[("minutes", &((retry_after_secs + 59) / 60).to_string())],
            )),
        ),
        other => return error_page(other),
    };
    match page(state, parts, token, f, errors, general, None).await {
        Ok(pg) => (status, render(pg)).into_response(),
        Err(r) => r,
    }
}

#[derive(askama::Template)]
#[template(path = "maintenance/public_track.html")]
struct TrackPage {
    locale: String,
    csrf: String,
    tracking: String,
    number: String,
    title: String,
    site: String,
    status: String,
    status_code: String,
    technician: Option<String>,
    events: Vec<WoEvent>,
    photos: Vec<String>,
    rating: Option<i64>,
    can_rate: bool,
    fresh: bool,
    error: Option<String>,
}

impl TrackPage {
    fn t(&self, k: &str) -> String {
        crate::i18n::t(&self.locale, k)
    }
    fn step(&self, e: &WoEvent) -> String {
        crate::i18n::t(&self.locale, &format!("wo.event.{}", e.kind))
    }
    fn short(&self, t: &str) -> String {
        t.get(..16).map(|h| h.replace('T', " ")).unwrap_or_default()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TrackQuery {
    pub new: Option<String>,
}

async fn track_page(
    state: &AppState,
    parts: &mut Parts,
    tracking: &str,
    fresh: bool,
    error: Option<String>,
) -> Response {
    let (locale, csrf) = visitor(state, parts).await;
    let p = &state.platform;
    let l = match workorder::by_tracking(p, tracking).await {
        Ok(Some(l)) => l,
        Ok(None) => return error_page(PlatformError::NotFound),
        Err(e) => return error_page(e),
    };
    let events = workorder::public_events(p, &l.wo.id)
        .await
        .unwrap_or_default();
    let photos = workorder::detail(p, &boh_kernel::Actor::system(), &l.wo.id)
        .await
        .map(|d| {
            d.attachments
                .into_iter()
                .filter(|a| a.kind == "photo")
                .map(|a| a.id)
                .collect()
        })
        .unwrap_or_default();
    let site = boh_platform::org::fetch(p, &l.wo.location_id)
        .await
        .ok()
        .flatten()
        .map(|n| format!("{} {}", n.code, n.name(&locale)))
        .unwrap_or_default();
    render(TrackPage {
        status: crate::i18n::t(&locale, &format!("wo.status.{}", l.wo.status)),
        status_code: l.wo.status.clone(),
        can_rate: l.wo.status == "done",
        locale,
        csrf,
        tracking: tracking.to_string(),
        number: l.wo.number,
        title: l.wo.title,
        site,
        technician: l.wo.technician_name,
        events,
        photos,
        rating: l.wo.rating,
        fresh,
        error,
    })
}

pub async fn track(
    State(state): State<AppState>,
    mut parts: Parts,
    Path(tracking): Path<String>,
    axum::extract::Query(q): axum::extract::Query<TrackQuery>,
) -> Response {
    track_page(&state, &mut parts, &tracking, q.new.is_some(), None).await
}

#[derive(Debug, Default, Deserialize)]
pub struct RateForm {
    #[serde(default)]
    pub rating: String,
    #[serde(default)]
    pub comment: String,
}

pub async fn rate(
    State(state): State<AppState>,
    mut parts: Parts,
    Path(tracking): Path<String>,
    Form(f): Form<RateForm>,
) -> Response {
    let p = &state.platform;
    let l = match workorder::by_tracking(p, &tracking).await {
        Ok(Some(l)) => l,
        Ok(None) => return error_page(PlatformError::NotFound),
        Err(e) => return error_page(e),
    };
    let mut ctx = boh_platform::Ctx::system();
    ctx.actor.user_id = "public".into();
    ctx.ip = crate::extract::client_ip(&parts);
    let rating = f.rating.trim().parse::<i64>().unwrap_or(0);
    match workorder::rate_in(p, &ctx, &l, rating, Some(&f.comment)).await {
        Ok(_) => Redirect::to(&format!("/q/t/{tracking}")).into_response(),
        Err(e @ (PlatformError::Validation(_) | PlatformError::Refused { .. })) => {
            let locale = crate::i18n::from_request(&parts).to_string();
            let msg = match &e {
                PlatformError::Validation(v) => v
                    .iter()
                    .map(|x| crate::i18n::field_message(&locale, &x.message))
                    .collect::<Vec<_>>()
                    .join("; "),
                other => other.to_string(),
            };
            let mut r = track_page(&state, &mut parts, &tracking, false, Some(msg)).await;
            *r.status_mut() = crate::error::status_of(&e);
            r
        }
        Err(e) => error_page(e),
    }
}

/// A photo of the request, for its requester.
pub async fn file(
    State(state): State<AppState>,
    Path((tracking, att)): Path<(String, String)>,
) -> Response {
    let p = &state.platform;
    let l = match workorder::by_tracking(p, &tracking).await {
        Ok(Some(l)) => l,
        Ok(None) => return error_page(PlatformError::NotFound),
        Err(e) => return error_page(e),
    };
    match workorder::attachment_bytes(p, &l.wo.id, &att).await {
        Ok((name, ct, data)) => crate::api::maintenance_wo::file_response(&name, &ct, data),
        Err(e) => error_page(e),
    }
}
