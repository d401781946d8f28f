//! Approval workflow definitions (administration): the list, and an editor for a definition's
//! trigger, condition and steps. Saving an existing code makes a new version.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_kernel::perm;
use boh_workflow::def::{self, Approvers, Definition, DefinitionInput, Mode, Step};
use std::collections::BTreeMap;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::api::workflow::{DocTypeView, doc_type_views};
use crate::extract::PageActor;
use crate::state::AppState;

/// Rows the editor offers beyond the saved steps.
const BLANK_STEPS: usize = 2;

#[derive(askama::Template)]
#[template(path = "workflows/list.html")]
struct ListPage {
    ui: Ui,
    rows: Vec<Definition>,
    can_edit: bool,
}

pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "workflows",
        "workflow.title",
    )
    .await;
    match def::list(&state.platform, &ctx.actor).await {
        Ok(rows) => render(ListPage {
            can_edit: ctx.actor.has_anywhere(perm::WORKFLOW_MANAGE),
            ui,
            rows,
        }),
        Err(e) => error_page(e),
    }
}

/// One editable step row.
#[derive(Debug, Clone, Default)]
pub struct StepRow {
    pub name: String,
    pub kind: String,
    pub role: String,
    pub level: String,
    pub usernames: String,
    pub mode: String,
    pub parallel: bool,
    pub condition: String,
    pub sla_hours: String,
    pub escalate_after_hours: String,
}

impl StepRow {
    fn of(s: &Step) -> StepRow {
        let (kind, role, level, usernames) = match &s.approvers {
            Approvers::Role { role, level } => ("role", role.clone(), level.clone(), String::new()),
            Approvers::User { username } => {
                ("user", String::new(), String::new(), username.clone())
            }
            Approvers::Group { usernames } => {
                ("group", String::new(), String::new(), usernames.join(", "))
            }
        };
        StepRow {
            name: s.name.clone(),
            kind: kind.into(),
            role,
            level,
            usernames,
            mode: s.mode.as_str().into(),
            parallel: s.parallel,
            condition: s.condition.clone(),
            sla_hours: s.sla_hours.map(|h| h.to_string()).unwrap_or_default(),
            escalate_after_hours: s
                .escalate_after_hours
                .map(|h| h.to_string())
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct EditForm {
    pub code: String,
    pub name: String,
    pub doc_type: String,
    pub priority: String,
    pub active: bool,
    pub condition: String,
    pub steps: Vec<StepRow>,
}

#[derive(askama::Template)]
#[template(path = "workflows/edit.html")]
struct EditPage {
    ui: Ui,
    form: EditForm,
    existing: Option<Definition>,
    doc_types: Vec<DocTypeView>,
    roles: Vec<String>,
    levels: &'static [&'static str],
    errors: FormErrors,
}

impl EditPage {
    fn step_error(&self, i: &usize, field: &str) -> String {
        self.errors.get(&format!("steps[{i}].{field}"))
    }
    fn step_has(&self, i: &usize, field: &str) -> bool {
        self.errors.has_prefix(&format!("steps[{i}].{field}"))
    }
    fn step_errors(&self, i: &usize, field: &str) -> String {
        self.errors
            .with_prefix(&format!("steps[{i}].{field}"))
            .join("; ")
    }
}

async fn roles(state: &AppState, actor: &boh_kernel::Actor) -> Vec<String> {
    let company = actor.company_id.clone().unwrap_or_default();
    sqlx::query("SELECT code FROM roles WHERE company_id = $1 OR company_id IS NULL ORDER BY code")
        .bind(&company)
        .fetch_all(state.platform.db.pool())
        .await
        .map(|rows| {
            rows.iter()
                .filter_map(|r| boh_db::Row::try_get::<String, _>(r, "code").ok())
                .collect()
        })
        .unwrap_or_default()
}

async fn edit_page(
    state: &AppState,
    parts: &Parts,
    ctx: &boh_platform::Ctx,
    mut form: EditForm,
    existing: Option<Definition>,
    errors: FormErrors,
) -> EditPage {
    let title = if existing.is_some() {
        "workflow.edit"
    } else {
        "workflow.new"
    };
    let ui = ui(state, scope_cookie(parts), &ctx.actor, "workflows", title).await;
    let filled = form
        .steps
        .iter()
        .filter(|s| !s.name.trim().is_empty())
        .count();
    form.steps
        .truncate(filled.max(form.steps.len().min(def::MAX_STEPS)));
    while form.steps.len() < (filled + BLANK_STEPS).min(def::MAX_STEPS) {
        form.steps.push(StepRow {
            kind: "role".into(),
            mode: "any".into(),
            ..Default::default()
        });
    }
    EditPage {
        ui,
        form,
        existing,
        doc_types: doc_type_views(&state.platform),
        roles: roles(state, &ctx.actor).await,
        levels: def::LEVELS,
        errors,
    }
}

fn require(ctx: &boh_platform::Ctx) -> Result<(), Response> {
    if ctx.actor.has_anywhere(perm::WORKFLOW_MANAGE) {
        Ok(())
    } else {
        Err(error_page(boh_platform::PlatformError::Forbidden(
            perm::WORKFLOW_MANAGE,
        )))
    }
}

pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    if let Err(r) = require(&ctx) {
        return r;
    }
    let form = EditForm {
        doc_type: "purchase_order".into(),
        priority: "100".into(),
        active: true,
        ..Default::default()
    };
    render(edit_page(&state, &parts, &ctx, form, None, FormErrors::default()).await)
}

pub async fn edit_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    if let Err(r) = require(&ctx) {
        return r;
    }
    let d = match def::get(&state.platform, &ctx.actor, &id).await {
        Ok(d) => d,
        Err(e) => return error_page(e),
    };
    let form = EditForm {
        code: d.code.clone(),
        name: d.name.clone(),
        doc_type: d.doc_type.clone(),
        priority: d.priority.to_string(),
        active: d.active,
        condition: d.condition.clone(),
        steps: d.steps.iter().map(StepRow::of).collect(),
    };
    let mut page = edit_page(&state, &parts, &ctx, form, Some(d), FormErrors::default()).await;
    page.ui.flash = parts
        .uri
        .query()
        .filter(|q| q.contains("saved=1"))
        .map(|_| page.ui.t("workflow.saved"));
    render(page)
}

fn hours(errors: &mut Vec<boh_platform::FieldError>, field: String, v: &str) -> Option<i64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match v.parse::<i64>() {
        Ok(h) => Some(h),
        Err(_) => {
            errors.push(boh_platform::FieldError::new(
                &field,
                "must be a whole number of hours",
            ));
            None
        }
    }
}

/// The editor posts `steps[i].name`, `steps[i].kind`, … for each row; rows without a name are
/// left out.
fn parse(
    form: &BTreeMap<String, String>,
) -> (EditForm, DefinitionInput, Vec<boh_platform::FieldError>) {
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    for i in 0..def::MAX_STEPS {
        let g = |k: &str| get(&format!("steps[{i}].{k}"));
        if !form.contains_key(&format!("steps[{i}].name")) {
            break;
        }
        rows.push(StepRow {
            name: g("name"),
            kind: g("kind"),
            role: g("role"),
            level: g("level"),
            usernames: g("usernames"),
            mode: g("mode"),
            parallel: g("parallel") == "on",
            condition: g("condition"),
            sla_hours: g("sla_hours"),
            escalate_after_hours: g("escalate_after_hours"),
        });
    }
    let mut steps = Vec::new();
    for r in rows.iter().filter(|r| !r.name.trim().is_empty()) {
        let i = steps.len();
        let names: Vec<String> = r
            .usernames
            .split([',', ' ', '，'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let approvers = match r.kind.as_str() {
            "user" => Approvers::User {
                username: names.first().cloned().unwrap_or_default(),
            },
            "group" => Approvers::Group { usernames: names },
            _ => Approvers::Role {
                role: r.role.clone(),
                level: r.level.clone(),
            },
        };
        steps.push(Step {
            name: r.name.trim().to_string(),
            approvers,
            mode: if r.mode == "all" {
                Mode::All
            } else {
                Mode::Any
            },
            parallel: r.parallel,
            condition: r.condition.trim().to_string(),
            sla_hours: hours(&mut errors, format!("steps[{i}].sla_hours"), &r.sla_hours),
            escalate_after_hours: hours(
                &mut errors,
                format!("steps[{i}].escalate_after_hours"),
                &r.escalate_after_hours,
            ),
        });
    }
    let priority = get("priority");
    let prio = match priority.trim().parse::<i64>() {
        Ok(p) => p,
        Err(_) => {
            errors.push(boh_platform::FieldError::new(
                "priority",
                "must be a number",
            ));
            100
        }
    };
    let edit = EditForm {
        code: get("code").trim().to_string(),
        name: get("name"),
        doc_type: get("doc_type"),
        priority,
        active: get("active") == "on",
        condition: get("condition"),
        steps: rows,
    };
    let input = DefinitionInput {
        code: edit.code.clone(),
        name: edit.name.clone(),
        doc_type: edit.doc_type.clone(),
        event: "submit".into(),
        priority: prio,
        active: edit.active,
        condition: edit.condition.trim().to_string(),
        steps,
    };
    (edit, input, errors)
}

pub async fn save(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let (edit, input, errors) = parse(&form);
    let result = if errors.is_empty() {
        def::save(&state.platform, &ctx, &input).await
    } else {
        Err(boh_platform::PlatformError::Validation(errors))
    };
    match result {
        Ok(d) => Redirect::to(&format!("/admin/workflows/{}?saved=1", d.id)).into_response(),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => {
                let existing = None;
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    render(edit_page(&state, &parts, &ctx, edit, existing, errors).await),
                )
                    .into_response()
            }
            Err(r) => r,
        },
    }
}
