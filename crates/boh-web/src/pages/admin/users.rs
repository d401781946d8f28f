//! Users: list with search, create, and a detail page with grants, password reset and
//! (de)activation.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use boh_kernel::perm;
use boh_platform::iam::{self, NewGrant, NewUser, User};
use boh_platform::org::{self, NodeFilter, OrgNode};
use boh_platform::{Ctx, PlatformError};
use serde::Deserialize;

use super::{FlashQuery, Pager, done, opt_time, short_time, some};
use crate::extract::{PageActor, urlencode};
use crate::pages::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::state::AppState;

const PAGE: i64 = 25;

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub offset: i64,
}

pub struct UserRow {
    pub user: User,
    pub locale_label: String,
    pub last_login: String,
}

#[derive(askama::Template)]
#[template(path = "admin/users.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<UserRow>,
    q: String,
    pager: Pager,
    can_create: bool,
}

fn locale_label(code: &str) -> String {
    crate::i18n::LOCALES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, l)| l.to_string())
        .unwrap_or_else(|| code.to_string())
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ListQuery>,
    Query(fq): Query<FlashQuery>,
) -> Response {
    let offset = q.offset.max(0);
    let (users, total) =
        match iam::list_users(&state.platform, &ctx.actor, &q.q, PAGE, offset).await {
            Ok(v) => v,
            Err(e) => return error_page(e),
        };
    let mut ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "users",
        "users.title",
    )
    .await;
    fq.apply(&mut ui);
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            locale_label: locale_label(&u.locale),
            last_login: opt_time(&u.last_login_at),
            user: u,
        })
        .collect();
    let base = format!("/admin/users?q={}&", urlencode(&q.q));
    render(ListPage {
        pager: Pager::new(&ui, &base, offset, PAGE, total),
        can_create: ctx.actor.has_anywhere(perm::USER_MANAGE),
        ui,
        rows,
        q: q.q,
    })
}

/// Values of the new-user form.
#[derive(Debug, Default, Deserialize)]
pub struct UserForm {
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub locale: String,
}

#[derive(askama::Template)]
#[template(path = "admin/user_form.html")]
struct FormPage {
    ui: Ui,
    form: UserForm,
    errors: FormErrors,
    locales: Vec<(String, String)>,
}

async fn form_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: UserForm,
    errors: FormErrors,
) -> FormPage {
    FormPage {
        ui: ui(state, scope_cookie(parts), &ctx.actor, "users", "users.new").await,
        form,
        errors,
        locales: crate::i18n::LOCALES
            .iter()
            .map(|(c, l)| (c.to_string(), l.to_string()))
            .collect(),
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    if !ctx.actor.has_anywhere(perm::USER_MANAGE) {
        return error_page(PlatformError::Forbidden(perm::USER_MANAGE));
    }
    let form = UserForm {
        locale: "zh-CN".into(),
        ..Default::default()
    };
    render(form_page(&state, &parts, &ctx, form, FormErrors::default()).await)
}

pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<UserForm>,
) -> Response {
    let input = NewUser {
        username: form.username.trim().to_string(),
        display_name: form.display_name.clone(),
        email: some(&form.email),
        password: form.password.clone(),
        locale: some(&form.locale),
        company_id: None,
    };
    match iam::create_user(&state.platform, &ctx, input).await {
        Ok(u) => done(&format!("/admin/users/{}", u.id), "created"),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => {
                let form = UserForm {
                    password: String::new(),
                    ..form
                };
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render(form_page(&state, &parts, &ctx, form, errors).await),
                )
                    .into_response()
            }
            Err(r) => r,
        },
    }
}

pub struct GrantRow {
    pub id: String,
    pub role: String,
    pub node: String,
    pub created: String,
    pub can_revoke: bool,
}

/// Values of the add-grant form.
#[derive(Debug, Default, Deserialize)]
pub struct GrantForm {
    #[serde(default)]
    pub role_id: String,
    #[serde(default)]
    pub org_node_id: String,
}

#[derive(askama::Template)]
#[template(path = "admin/user_detail.html")]
struct DetailPage {
    ui: Ui,
    user: User,
    locale_label: String,
    created: String,
    last_login: String,
    grants: Vec<GrantRow>,
    roles: Vec<(String, String)>,
    nodes: Vec<(String, String)>,
    grant_form: GrantForm,
    can_manage: bool,
    is_self: bool,
    errors: FormErrors,
}

fn node_label(n: &OrgNode, ui: &Ui) -> String {
    format!(
        "{} · {} ({})",
        n.code,
        n.name(&ui.locale),
        ui.t(&format!("kind.{}", n.kind))
    )
}

async fn detail_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    grant_form: GrantForm,
    errors: FormErrors,
) -> Result<DetailPage, Response> {
    let p = &state.platform;
    let user = iam::get_user(p, &ctx.actor, id).await.map_err(error_page)?;
    let grants = iam::list_grants(p, &ctx.actor, id)
        .await
        .map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "users",
        "users.detail",
    )
    .await;
    let f = NodeFilter {
        kind: Some("company,region,store,warehouse,central_kitchen".into()),
        limit: Some(500),
        ..Default::default()
    };
    let all_nodes = org::list(p, &ctx.actor, &f)
        .await
        .map(|(n, _)| n)
        .unwrap_or_default();
    let by_id: HashMap<&str, &OrgNode> = all_nodes.iter().map(|n| (n.id.as_str(), n)).collect();
    let grants = grants
        .into_iter()
        .map(|g| {
            let node = g.org_node_id.as_deref().and_then(|i| by_id.get(i));
            GrantRow {
                node: match node {
                    Some(n) => node_label(n, &ui),
                    None => match (&g.org_node_code, &g.org_node_name) {
                        (Some(c), Some(n)) => format!("{c} · {n}"),
                        _ => ui.t("users.everywhere"),
                    },
                },
                can_revoke: node.is_some_and(|n| ctx.actor.allows(perm::GRANT_MANAGE, &n.path)),
                created: short_time(&g.created_at),
                role: g.role_code,
                id: g.id,
            }
        })
        .collect();
    let nodes = all_nodes
        .iter()
        .filter(|n| ctx.actor.allows(perm::GRANT_MANAGE, &n.path))
        .map(|n| (n.id.clone(), node_label(n, &ui)))
        .collect::<Vec<_>>();
    let roles = if nodes.is_empty() {
        Vec::new()
    } else {
        iam::list_roles(p, &ctx.actor)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|r| {
                let name = if ui.is_zh() { &r.name_zh } else { &r.name_en };
                (r.id.clone(), format!("{} · {name}", r.code))
            })
            .collect()
    };
    let company_path = match user.company_id.as_deref() {
        Some(c) => org::get(p, &ctx.actor, c).await.ok().map(|n| n.path),
        None => Some("/".to_string()),
    };
    let can_manage = company_path.is_some_and(|path| ctx.actor.allows(perm::USER_MANAGE, &path));
    Ok(DetailPage {
        locale_label: locale_label(&user.locale),
        created: short_time(&user.created_at),
        last_login: opt_time(&user.last_login_at),
        is_self: user.id == ctx.actor.user_id,
        user,
        ui,
        grants,
        roles,
        nodes,
        grant_form,
        can_manage,
        errors,
    })
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(fq): Query<FlashQuery>,
) -> Response {
    match detail_page(
        &state,
        &parts,
        &ctx,
        &id,
        GrantForm::default(),
        FormErrors::default(),
    )
    .await
    {
        Ok(mut page) => {
            fq.apply(&mut page.ui);
            render(page)
        }
        Err(r) => r,
    }
}

/// Re-render the detail page with the errors of one of its forms.
async fn detail_with_errors(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    grant_form: GrantForm,
    e: PlatformError,
) -> Response {
    match FormErrors::from_platform(e, &ctx.actor.locale) {
        Ok(errors) => match detail_page(state, parts, ctx, id, grant_form, errors).await {
            Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response(),
            Err(r) => r,
        },
        Err(r) => r,
    }
}

pub async fn add_grant(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<GrantForm>,
) -> Response {
    let mut missing = Vec::new();
    for (field, v) in [
        ("role_id", &form.role_id),
        ("org_node_id", &form.org_node_id),
    ] {
        if v.trim().is_empty() {
            missing.push(boh_platform::FieldError::new(field, "is required"));
        }
    }
    let result = if missing.is_empty() {
        let input = NewGrant {
            user_id: id.clone(),
            role_id: form.role_id.clone(),
            org_node_id: form.org_node_id.clone(),
        };
        iam::create_grant(&state.platform, &ctx, input).await
    } else {
        Err(PlatformError::Validation(missing))
    };
    match result {
        Ok(_) => done(&format!("/admin/users/{id}"), "granted"),
        Err(e) => detail_with_errors(&state, &parts, &ctx, &id, form, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    pub password: String,
}

pub async fn reset_password(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<PasswordForm>,
) -> Response {
    match iam::reset_password(&state.platform, &ctx, &id, &form.password).await {
        Ok(()) if id == ctx.actor.user_id => {
            // Resetting one's own password ends one's own session too.
            axum::response::Redirect::to("/login").into_response()
        }
        Ok(()) => done(&format!("/admin/users/{id}"), "password"),
        Err(e) => detail_with_errors(&state, &parts, &ctx, &id, GrantForm::default(), e).await,
    }
}

async fn set_active(state: AppState, parts: Parts, ctx: Ctx, id: String, active: bool) -> Response {
    match iam::set_active(&state.platform, &ctx, &id, active).await {
        Ok(_) => done(
            &format!("/admin/users/{id}"),
            if active { "activated" } else { "deactivated" },
        ),
        Err(e) => detail_with_errors(&state, &parts, &ctx, &id, GrantForm::default(), e).await,
    }
}

pub async fn activate(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    set_active(state, parts, ctx, id, true).await
}

pub async fn deactivate(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    set_active(state, parts, ctx, id, false).await
}

#[derive(Debug, Default, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    pub user_id: String,
}

pub async fn revoke_grant(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    match iam::revoke_grant(&state.platform, &ctx, &id).await {
        Ok(()) if boh_kernel::id::is_uuid(&form.user_id) => {
            done(&format!("/admin/users/{}", form.user_id), "revoked")
        }
        Ok(()) => done("/admin/users", "revoked"),
        Err(e) => error_page(e),
    }
}
