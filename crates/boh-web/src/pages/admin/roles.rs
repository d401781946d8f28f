//! Roles: list, create and edit (names and permissions from the catalogue).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::Form;
use boh_kernel::perm;
use boh_platform::iam::{self, Role, RoleInput};
use boh_platform::{Ctx, PlatformError};
use serde::Deserialize;

use super::{FlashQuery, done};
use crate::extract::PageActor;
use crate::pages::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::state::AppState;

pub struct RoleRow {
    pub role: Role,
    pub name: String,
    pub count: usize,
}

#[derive(askama::Template)]
#[template(path = "admin/roles.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<RoleRow>,
    can_create: bool,
}

fn role_name(role: &Role, ui: &Ui) -> String {
    if ui.is_zh() {
        role.name_zh.clone()
    } else {
        role.name_en.clone()
    }
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(fq): Query<FlashQuery>,
) -> Response {
    let roles = match iam::list_roles(&state.platform, &ctx.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let mut ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "roles",
        "roles.title",
    )
    .await;
    fq.apply(&mut ui);
    let rows = roles
        .into_iter()
        .map(|r| RoleRow {
            name: role_name(&r, &ui),
            count: r.permissions.len(),
            role: r,
        })
        .collect();
    render(ListPage {
        can_create: ctx.actor.has_anywhere(perm::ROLE_MANAGE),
        ui,
        rows,
    })
}

/// Values of the role form; `permissions` repeats once per ticked box.
#[derive(Debug, Default, Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name_zh: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub permissions: Vec<String>,
}

pub struct PermOption {
    pub key: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

#[derive(askama::Template)]
#[template(path = "admin/role_form.html")]
struct FormPage {
    ui: Ui,
    form: RoleForm,
    errors: FormErrors,
    perms: Vec<PermOption>,
    action: String,
    is_new: bool,
    builtin: bool,
    can_edit: bool,
}

async fn form_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: RoleForm,
    errors: FormErrors,
    role: Option<&Role>,
) -> FormPage {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "roles",
        if role.is_some() {
            "roles.edit"
        } else {
            "roles.new"
        },
    )
    .await;
    let zh = ui.is_zh();
    let perms = perm::CATALOGUE
        .iter()
        .map(|(key, en, zh_label)| PermOption {
            key,
            label: if zh { zh_label } else { en },
            checked: form.permissions.iter().any(|p| p == key),
        })
        .collect();
    FormPage {
        ui,
        errors,
        perms,
        action: role
            .map(|r| format!("/admin/roles/{}", r.id))
            .unwrap_or_else(|| "/admin/roles".into()),
        is_new: role.is_none(),
        builtin: role.is_some_and(|r| r.builtin),
        can_edit: ctx.actor.has_anywhere(perm::ROLE_MANAGE),
        form,
    }
}

fn input_of(form: &RoleForm) -> RoleInput {
    RoleInput {
        code: form.code.trim().to_string(),
        name_zh: form.name_zh.clone(),
        name_en: form.name_en.clone(),
        permissions: form.permissions.clone(),
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    if !ctx.actor.has_anywhere(perm::ROLE_MANAGE) {
        return error_page(PlatformError::Forbidden(perm::ROLE_MANAGE));
    }
    render(
        form_page(
            &state,
            &parts,
            &ctx,
            RoleForm::default(),
            FormErrors::default(),
            None,
        )
        .await,
    )
}

pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<RoleForm>,
) -> Response {
    match iam::create_role(&state.platform, &ctx, input_of(&form)).await {
        Ok(r) => done(&format!("/admin/roles/{}", r.id), "created"),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(form_page(&state, &parts, &ctx, form, errors, None).await),
            )
                .into_response(),
            Err(r) => r,
        },
    }
}

pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(fq): Query<FlashQuery>,
) -> Response {
    let role = match iam::get_role(&state.platform, &ctx.actor, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let form = RoleForm {
        code: role.code.clone(),
        name_zh: role.name_zh.clone(),
        name_en: role.name_en.clone(),
        permissions: role.permissions.clone(),
    };
    let mut page = form_page(
        &state,
        &parts,
        &ctx,
        form,
        FormErrors::default(),
        Some(&role),
    )
    .await;
    fq.apply(&mut page.ui);
    render(page)
}

pub async fn update(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<RoleForm>,
) -> Response {
    let role = match iam::get_role(&state.platform, &ctx.actor, &id).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let form = RoleForm {
        code: role.code.clone(),
        ..form
    };
    match iam::update_role(&state.platform, &ctx, &id, input_of(&form)).await {
        Ok(r) => done(&format!("/admin/roles/{}", r.id), "saved"),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                render(form_page(&state, &parts, &ctx, form, errors, Some(&role)).await),
            )
                .into_response(),
            Err(r) => r,
        },
    }
}
