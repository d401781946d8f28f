//! Maintenance set-up pages for dispatchers: technicians (skills, certifications, home base,
//! van, shift, capacity, rate) and the SLA policies (targets per priority and category in
//! business hours). The same `boh_maintenance` functions as the API.

use axum::extract::State;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use boh_kernel::perm;
use boh_maintenance::sla::{self, PRIORITIES, Policy};
use boh_maintenance::technician::{self, Technician, TechnicianInput};
use boh_platform::{Ctx, FieldError, PlatformError};
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

pub fn routes() -> axum::Router<AppState> {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/maintenance/technicians",
            get(technicians).post(add_technician),
        )
        .route("/maintenance/sla", get(policies).post(save_policy))
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct TechForm {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub skills: String,
    #[serde(default)]
    pub certifications: String,
    #[serde(default)]
    pub home_location_id: String,
    #[serde(default)]
    pub van_location_id: String,
    #[serde(default)]
    pub shift_days: String,
    #[serde(default)]
    pub shift_start: String,
    #[serde(default)]
    pub shift_end: String,
    #[serde(default)]
    pub max_open_jobs: String,
    #[serde(default)]
    pub hourly_rate: String,
}

/// `HH:MM` as minutes after midnight (`24:00` is 1440).
fn clock(field: &str, v: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    let parsed = v.split_once(':').and_then(|(h, m)| {
        let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
        ((0..=24).contains(&h) && (0..60).contains(&m) && h * 60 + m <= 1440).then_some(h * 60 + m)
    });
    if parsed.is_none() {
        errors.push(FieldError::new(field, "must be a time as HH:MM"));
    }
    parsed
}

fn hhmm(m: i64) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

/// Money as `123.45` in minor units.
fn minor(field: &str, v: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
    let v = v.trim();
    if v.is_empty() {
        return None;
    }
    match boh_kernel::qty::parse_scaled(v, 2) {
        Ok(x) if x >= 0 => Some(x),
        _ => {
            errors.push(FieldError::new(field, "must be an amount such as 120.00"));
            None
        }
    }
}

fn list(s: &str) -> Vec<String> {
    s.split([',', ' ', '，'])
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

impl TechForm {
    fn input(&self, errors: &mut Vec<FieldError>) -> TechnicianInput {
        let o = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        TechnicianInput {
            code: self.code.clone(),
            name: self.name.clone(),
            kind: o(&self.kind),
            username: o(&self.username),
            skills: list(&self.skills),
            certifications: list(&self.certifications),
            home_location_id: self.home_location_id.clone(),
            van_location_id: o(&self.van_location_id),
            shift_days: o(&self.shift_days),
            shift_start_min: clock("shift_start", &self.shift_start, errors),
            shift_end_min: clock("shift_end", &self.shift_end, errors),
            max_open_jobs: match self.max_open_jobs.trim() {
                "" => None,
                t => match t.parse() {
                    Ok(v) => Some(v),
                    Err(_) => {
                        errors.push(FieldError::new("max_open_jobs", "must be a whole number"));
                        None
                    }
                },
            },
            hourly_rate: minor("hourly_rate", &self.hourly_rate, errors),
        }
    }
}

#[derive(askama::Template)]
#[template(path = "maintenance/technicians.html")]
struct TechPage {
    ui: Ui,
    rows: Vec<Technician>,
    sites: Vec<(String, String)>,
    form: TechForm,
    errors: FormErrors,
    can_manage: bool,
}

impl TechPage {
    fn site(&self, id: &str) -> String {
        self.sites
            .iter()
            .find(|s| s.0 == id)
            .map(|s| s.1.clone())
            .unwrap_or_else(|| "—".into())
    }
    fn shift(&self, t: &Technician) -> String {
        let days: String = ["一", "二", "三", "四", "五", "六", "日"]
            .iter()
            .zip(["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"])
            .zip(t.shift_days.chars())
            .filter(|(_, c)| *c == '1')
            .map(|((zh, en), _)| if self.ui.is_zh() { *zh } else { en })
            .collect::<Vec<_>>()
            .join(" ");
        format!(
            "{days} {}–{}",
            hhmm(t.shift_start_min),
            hhmm(t.shift_end_min)
        )
    }
    fn kind_key(&self, t: &Technician) -> &'static str {
        if t.kind == "contractor" {
            "wo.kind.contractor"
        } else {
            "wo.kind.in_house"
        }
    }
    /// The text inputs of the form: (field, label key, value).
    fn fields(&self) -> Vec<(&'static str, &'static str, &str)> {
        let f = &self.form;
        vec![
            ("code", "common.code", &f.code),
            ("name", "common.name", &f.name),
            ("username", "wo.username", &f.username),
            ("skills", "wo.skills", &f.skills),
            ("certifications", "wo.certifications", &f.certifications),
            ("shift_days", "wo.shift_days", &f.shift_days),
            ("shift_start", "wo.shift_start", &f.shift_start),
            ("shift_end", "wo.shift_end", &f.shift_end),
            ("max_open_jobs", "wo.max_open_jobs", &f.max_open_jobs),
            ("hourly_rate", "wo.hourly_rate", &f.hourly_rate),
        ]
    }
    fn rate(&self, t: &Technician) -> String {
        format!("{}.{:02}", t.hourly_rate / 100, t.hourly_rate % 100)
    }
}

async fn tech_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: TechForm,
    errors: FormErrors,
) -> Response {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "dispatch",
        "wo.technicians_title",
    )
    .await;
    let rows = match technician::list(&state.platform, &ctx.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let locale = crate::i18n::normalise(&ctx.actor.locale);
    let sites = super::inventory::sites_where(state, &ctx.actor, None, |_| true)
        .await
        .into_iter()
        .map(|n| (n.id.clone(), format!("{} {}", n.code, n.name(locale))))
        .collect();
    let company = ctx.actor.company_id.clone().unwrap_or_default();
    render(TechPage {
        can_manage: ctx
            .actor
            .allows(perm::MAINTENANCE_DISPATCH, &format!("/{company}/")),
        ui,
        rows,
        sites,
        form,
        errors,
    })
}

pub async fn technicians(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let form = TechForm {
        kind: "in_house".into(),
        shift_days: "1111100".into(),
        shift_start: "08:00".into(),
        shift_end: "17:00".into(),
        max_open_jobs: "6".into(),
        ..Default::default()
    };
    tech_page(&state, &parts, &ctx, form, FormErrors::default()).await
}

pub async fn add_technician(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<TechForm>,
) -> Response {
    let mut errors = Vec::new();
    let input = form.input(&mut errors);
    let result = if errors.is_empty() {
        technician::create(&state.platform, &ctx, &input).await
    } else {
        Err(PlatformError::Validation(errors))
    };
    match result {
        Ok(_) => Redirect::to("/maintenance/technicians").into_response(),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => {
                let mut r = tech_page(&state, &parts, &ctx, form, errors).await;
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                r
            }
            Err(r) => r,
        },
    }
}

#[derive(Debug, Default, Deserialize, Clone)]
pub struct PolicyForm {
    #[serde(default)]
    pub priority: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub response_min: String,
    #[serde(default)]
    pub resolution_min: String,
    #[serde(default)]
    pub days: String,
    #[serde(default)]
    pub open: String,
    #[serde(default)]
    pub close: String,
}

#[derive(askama::Template)]
#[template(path = "maintenance/sla.html")]
struct PolicyPage {
    ui: Ui,
    rows: Vec<Policy>,
    form: PolicyForm,
    errors: FormErrors,
    priorities: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    can_manage: bool,
}

impl PolicyPage {
    fn hours(&self, p: &Policy) -> String {
        if p.days == "1111111" && p.open_min == 0 && p.close_min == 1440 {
            return self.ui.t("wo.around_the_clock");
        }
        format!("{} {}–{}", p.days, hhmm(p.open_min), hhmm(p.close_min))
    }
    /// The text inputs of the form: (field, label key, value).
    fn fields(&self) -> Vec<(&'static str, &'static str, &str)> {
        let f = &self.form;
        vec![
            ("response_min", "wo.response_min", &f.response_min),
            ("resolution_min", "wo.resolution_min", &f.resolution_min),
            ("days", "wo.shift_days", &f.days),
            ("open", "wo.opens", &f.open),
            ("close", "wo.closes", &f.close),
        ]
    }
    fn minutes(&self, m: &i64) -> String {
        super::maintenance_wo::minutes(*m)
    }
    fn label(&self, prefix: &str, c: &str) -> String {
        if c.is_empty() {
            return self.ui.t("wo.every_category");
        }
        self.ui.t(&format!("{prefix}.{c}"))
    }
}

async fn policy_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    form: PolicyForm,
    errors: FormErrors,
) -> Response {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "dispatch",
        "wo.sla_title",
    )
    .await;
    let rows = match sla::list(&state.platform, &ctx.actor).await {
        Ok(r) => r,
        Err(e) => return error_page(e),
    };
    let company = ctx.actor.company_id.clone().unwrap_or_default();
    render(PolicyPage {
        can_manage: ctx
            .actor
            .allows(perm::MAINTENANCE_DISPATCH, &format!("/{company}/")),
        priorities: PRIORITIES
            .iter()
            .map(|p| (p.to_string(), ui.t(&format!("wo.priority.{p}"))))
            .collect(),
        categories: boh_maintenance::asset::CATEGORIES
            .iter()
            .map(|c| (c.to_string(), ui.t(&format!("asset.cat.{c}"))))
            .collect(),
        ui,
        rows,
        form,
        errors,
    })
}

pub async fn policies(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    let form = PolicyForm {
        priority: "medium".into(),
        response_min: "240".into(),
        resolution_min: "1440".into(),
        days: "1111111".into(),
        open: "07:00".into(),
        close: "22:00".into(),
        ..Default::default()
    };
    policy_page(&state, &parts, &ctx, form, FormErrors::default()).await
}

pub async fn save_policy(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<PolicyForm>,
) -> Response {
    let mut errors = Vec::new();
    let int = |f: &str, v: &str, errors: &mut Vec<FieldError>| match v.trim().parse::<i64>() {
        Ok(x) => x,
        Err(_) => {
            errors.push(FieldError::new(f, "must be a whole number of minutes"));
            0
        }
    };
    let pol = Policy {
        priority: form.priority.clone(),
        category: form.category.clone(),
        response_min: int("response_min", &form.response_min, &mut errors),
        resolution_min: int("resolution_min", &form.resolution_min, &mut errors),
        days: form.days.trim().to_string(),
        open_min: clock("open", &form.open, &mut errors).unwrap_or(0),
        close_min: clock("close", &form.close, &mut errors).unwrap_or(1440),
    };
    let result = if errors.is_empty() {
        sla::save(&state.platform, &ctx, &pol).await
    } else {
        Err(PlatformError::Validation(errors))
    };
    match result {
        Ok(_) => Redirect::to("/maintenance/sla").into_response(),
        Err(e) => match FormErrors::from_platform(e, &ctx.actor.locale) {
            Ok(errors) => {
                let mut r = policy_page(&state, &parts, &ctx, form, errors).await;
                *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
                r
            }
            Err(r) => r,
        },
    }
}
