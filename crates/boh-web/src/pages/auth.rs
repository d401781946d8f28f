//! Login, logout and the language switch.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use boh_platform::PlatformError;
use serde::Deserialize;

use super::{render, safe_back};
use crate::extract::{client_ip, cookie, resolve};
use crate::state::AppState;

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    locale: String,
    next: String,
    username: String,
    error: Option<String>,
}

impl LoginPage {
    fn t(&self, key: &str) -> String {
        crate::i18n::t(&self.locale, key)
    }
    fn other_locale(&self) -> &'static str {
        if self.locale.starts_with("zh") {
            "en"
        } else {
            "zh-CN"
        }
    }
    fn other_locale_label(&self) -> &'static str {
        if self.locale.starts_with("zh") {
            "English"
        } else {
            "简体中文"
        }
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    mut parts: Parts,
    Query(q): Query<NextQuery>,
) -> Response {
    if cookie(&parts, state.session_cookie()).is_some() && resolve(&mut parts, &state).await.is_ok()
    {
        return Redirect::to(&safe_back(q.next.as_deref())).into_response();
    }
    let locale = crate::i18n::from_request(&parts).to_string();
    render(LoginPage {
        locale,
        next: safe_back(q.next.as_deref()),
        username: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    next: Option<String>,
}

fn session_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        state.session_cookie()
    )
}

pub async fn login(
    State(state): State<AppState>,
    parts: Parts,
    Form(f): Form<LoginForm>,
) -> Response {
    let locale = crate::i18n::from_request(&parts).to_string();
    let ip = client_ip(&parts);
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    match boh_platform::auth::login_session(
        &state.platform,
        &f.username,
        &f.password,
        ip.as_deref(),
        ua,
    )
    .await
    {
        Ok(s) => {
            let next = safe_back(f.next.as_deref());
            let lang = format!(
                "boh_lang={}; Path=/; SameSite=Lax; Max-Age=31536000",
                s.actor.locale
            );
            (
                // AppendHeaders: a plain array `insert`s, so the second Set-Cookie would replace the first.
                axum::response::AppendHeaders([
                    (
                        header::SET_COOKIE,
                        session_cookie(
                            &state,
                            &s.session_id,
                            state.platform.settings.session_absolute_secs,
                        ),
                    ),
                    (header::SET_COOKIE, lang),
                ]),
                Redirect::to(&next),
            )
                .into_response()
        }
        Err(e) => {
            let (status, msg) = match &e {
                PlatformError::Throttled { retry_after_secs } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    crate::i18n::t_args(
                        &locale,
                        "auth.throttled",
                        &[("secs", &retry_after_secs.to_string())],
                    ),
                ),
                PlatformError::BadCredentials => (
                    StatusCode::UNAUTHORIZED,
                    crate::i18n::t(&locale, "auth.bad_credentials"),
                ),
                _ => return super::error_page(e),
            };
            let page = LoginPage {
                locale,
                next: safe_back(f.next.as_deref()),
                username: f.username,
                error: Some(msg),
            };
            (status, render(page)).into_response()
        }
    }
}

pub async fn logout(State(state): State<AppState>, parts: Parts) -> Response {
    if let Some(sid) = cookie(&parts, state.session_cookie()) {
        match boh_platform::auth::logout(&state.platform, &sid).await {
            Ok(()) => tracing::info!(
                target: "boh::security",
                at = %boh_kernel::now().rfc3339(),
                "logged out: session ended"
            ),
            Err(e) => tracing::warn!("logout: {e}"),
        }
    }
    (
        [(header::SET_COOKIE, session_cookie(&state, "", 0))],
        Redirect::to("/login"),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct LangForm {
    locale: String,
    back: Option<String>,
}

/// Switch the UI language: remembered in a cookie, and as the user's preference when signed in.
pub async fn set_language(
    State(state): State<AppState>,
    mut parts: Parts,
    Form(f): Form<LangForm>,
) -> Response {
    let locale = crate::i18n::normalise(&f.locale);
    if cookie(&parts, state.session_cookie()).is_some()
        && let Ok(actor) = resolve(&mut parts, &state).await
    {
        let ctx = boh_platform::Ctx {
            actor,
            ip: client_ip(&parts),
            request_id: crate::extract::request_id(&parts),
            idem: None,
        };
        if let Err(e) = boh_platform::iam::set_locale(&state.platform, &ctx, locale).await {
            return super::error_page(e);
        }
    }
    (
        [(
            header::SET_COOKIE,
            format!("boh_lang={locale}; Path=/; SameSite=Lax; Max-Age=31536000"),
        )],
        Redirect::to(&safe_back(f.back.as_deref())),
    )
        .into_response()
}
