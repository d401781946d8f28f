//! Server-rendered pages. Each page handler builds a [`Ui`] (who, language, CSRF token,
//! navigation, scope picker) and an askama template that extends `base.html`; askama escapes
//! every value, so handlers never build HTML by hand (charts are the one trusted exception,
//! built and escaped in [`crate::chart`]).

use axum::Router;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use boh_kernel::{Actor, perm};
use boh_platform::{FieldError, PlatformError};

use crate::extract::PageActor;
use crate::state::AppState;

pub mod admin;
pub mod approvals;
pub mod auth;
pub mod home;
pub mod imports;
pub mod inventory;
pub mod inventory_settings;
pub mod invoices;
pub mod maintenance;
pub mod maintenance_kpi;
pub mod maintenance_public;
pub mod maintenance_setup;
pub mod maintenance_wo;
pub mod ordering;
pub mod orders;
pub mod purchasing;
pub mod recipes;
pub mod sales_anomalies;
pub mod sales_avt;
pub mod sales_csv;
pub mod sales_dashboard;
pub mod sales_ops;
pub mod stockops;
pub mod stores;
pub mod valuation;
pub mod workflows;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home::home))
        .route("/login", get(auth::login_form).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/lang", post(auth::set_language))
        .route("/scope", post(set_scope))
        .route("/stores", get(stores::list).post(stores::create))
        .route("/stores/new", get(stores::new_form))
        .merge(crate::export::routes("/stores", get(stores::export)))
        .route("/imports", get(imports::index).post(imports::upload))
        .route("/imports/{id}", get(imports::detail))
        .route("/imports/{id}/apply", post(imports::apply))
        .route("/stores/{id}", get(stores::detail).post(stores::update))
        .route(
            "/inventory/transfers",
            get(stockops::transfers).post(stockops::create_transfer),
        )
        .route("/inventory/transfers/new", get(stockops::new_transfer))
        .route("/inventory/transfers/{id}", get(stockops::transfer_detail))
        .route(
            "/inventory/transfers/{id}/{action}",
            post(stockops::transfer_action),
        )
        .route(
            "/inventory/counts",
            get(stockops::counts).post(stockops::start_count),
        )
        .route("/inventory/counts/{id}", get(stockops::count_detail))
        .route(
            "/inventory/counts/{id}/{action}",
            post(stockops::count_action),
        )
        .merge(crate::export::routes(
            "/inventory/stock",
            get(inventory::export_stock),
        ))
        .merge(crate::export::routes(
            "/inventory/items",
            get(inventory::export_items),
        ))
        .merge(crate::export::routes(
            "/inventory/valuation",
            get(valuation::export),
        ))
        .route("/inventory/valuation", get(valuation::page))
        .route("/sales", get(sales_dashboard::home))
        .route("/sales/nodes/{id}", get(sales_dashboard::node_page))
        .route(
            "/sales/nodes/{id}/items/{item_id}",
            get(sales_dashboard::item_page),
        )
        .route("/sales/avt", get(sales_avt::page))
        .merge(crate::export::routes("/sales/avt", get(sales_avt::export)))
        .route("/sales/anomalies", get(sales_anomalies::page))
        .merge(crate::export::routes(
            "/inventory/categories",
            get(inventory::export_categories),
        ))
        .merge(crate::export::routes(
            "/suppliers/prices",
            get(inventory::export_prices),
        ))
        .merge(crate::export::routes(
            "/recipes",
            get(inventory::export_recipes),
        ))
        .route("/inventory", get(inventory::dashboard))
        .route("/inventory/stock", get(inventory::stock))
        .route(
            "/inventory/items",
            get(inventory::items).post(inventory::create_item),
        )
        .route("/inventory/items/new", get(inventory::new_item_form))
        .route(
            "/inventory/items/{id}",
            get(inventory::item_detail).post(inventory::update_item),
        )
        .route(
            "/inventory/documents",
            get(inventory::documents).post(inventory::post_document),
        )
        .route(
            "/inventory/documents/new",
            get(inventory::new_document_form),
        )
        .route("/inventory/documents/{id}", get(inventory::document))
        .route("/inventory/locations", get(inventory_settings::locations))
        .route(
            "/inventory/locations/lock",
            post(inventory_settings::lock_period),
        )
        .route(
            "/inventory/locations/{id}",
            get(inventory_settings::location_detail),
        )
        .route(
            "/inventory/locations/{id}/policy",
            post(inventory_settings::set_policy),
        )
        .route(
            "/inventory/locations/{id}/areas",
            post(inventory_settings::save_area),
        )
        .route(
            "/inventory/locations/{id}/levels",
            post(inventory_settings::save_levels),
        )
        .route(
            "/inventory/categories",
            get(inventory_settings::categories).post(inventory_settings::save_category),
        )
        .route(
            "/inventory/documents/{id}/reverse",
            post(inventory::reverse_document),
        )
        .route("/approvals", get(approvals::list))
        .route("/approvals/{task_id}", post(approvals::decide))
        .route("/approvals/delegations", post(approvals::delegate))
        .route(
            "/approvals/delegations/{id}/revoke",
            post(approvals::revoke),
        )
        .route("/approvals/notifications/read", post(approvals::read_all))
        .route("/purchasing/orders", get(orders::list).post(orders::create))
        .route("/purchasing/orders/new", get(orders::new_form))
        .route("/purchasing/orders/{id}", get(orders::detail))
        .route("/purchasing/orders/{id}/submit", post(orders::submit))
        .route("/purchasing/orders/{id}/cancel", post(orders::cancel))
        .route("/purchasing/orders/{id}/receive", post(orders::receive))
        .route(
            "/purchasing/orders/{id}/order.pdf",
            get(ordering::order_pdf),
        )
        .route(
            "/purchasing/orders/{id}/order.csv",
            get(ordering::order_csv),
        )
        .route("/purchasing/orders/{id}/send", post(ordering::send))
        .route(
            "/purchasing/guide",
            get(ordering::guide).post(ordering::order),
        )
        .route("/purchasing/requisitions", get(ordering::list))
        .route(
            "/purchasing/requisitions/consolidate",
            post(ordering::consolidate_all),
        )
        .route("/purchasing/requisitions/{id}", get(ordering::detail))
        .route(
            "/purchasing/requisitions/{id}/submit",
            post(ordering::submit),
        )
        .route(
            "/purchasing/requisitions/{id}/cancel",
            post(ordering::cancel),
        )
        .route(
            "/admin/workflows",
            get(workflows::list).post(workflows::save),
        )
        .route("/admin/workflows/new", get(workflows::new_form))
        .route("/admin/workflows/{id}", get(workflows::edit_form))
        .route("/suppliers", get(purchasing::list).post(purchasing::create))
        .route("/suppliers/new", get(purchasing::new_form))
        .merge(crate::export::routes("/suppliers", get(purchasing::export)))
        .route(
            "/suppliers/{id}",
            get(purchasing::detail).post(purchasing::update),
        )
        .route("/suppliers/{id}/items", post(purchasing::add_item))
        .route("/suppliers/{id}/prices", post(purchasing::add_price))
        .route("/recipes", get(recipes::list))
        .route("/recipes/{id}", get(recipes::detail))
        .route("/recipes/{id}/versions", post(recipes::add_version))
        .route(
            "/production",
            get(recipes::production_form).post(recipes::production_post),
        )
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .merge(admin::router())
        .merge(sales_ops::routes())
        .merge(invoices::routes())
        .merge(maintenance::routes())
        .merge(maintenance_wo::routes())
        .merge(maintenance_public::routes())
        .merge(maintenance_setup::routes())
        .merge(maintenance_kpi::routes())
        .layer(axum::middleware::from_fn(localize_errors))
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.js"),
    )
}

/// A link in the main navigation.
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    pub active: bool,
}

/// A choice in the scope picker.
pub struct ScopeOption {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

/// What every page needs to draw the shell.
pub struct Ui {
    pub locale: String,
    pub display_name: String,
    pub username: String,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub admin_nav: Vec<NavItem>,
    pub scopes: Vec<ScopeOption>,
    /// The node the scope picker narrows lists to ("" = everything in the actor's grants).
    pub scope: String,
    pub flash: Option<String>,
    pub title: String,
}

impl Ui {
    pub fn t(&self, key: &str) -> String {
        crate::i18n::t(&self.locale, key)
    }
    pub fn ta(&self, key: &str, name: &str, value: &str) -> String {
        crate::i18n::t_args(&self.locale, key, &[(name, value)])
    }
    pub fn is_zh(&self) -> bool {
        self.locale.starts_with("zh")
    }
    pub fn other_locale(&self) -> &'static str {
        if self.is_zh() { "en" } else { "zh-CN" }
    }
    pub fn other_locale_label(&self) -> &'static str {
        if self.is_zh() {
            "English"
        } else {
            "简体中文"
        }
    }
}

/// Build the shell context for a signed-in page.
pub async fn ui(
    state: &AppState,
    parts_scope: Option<String>,
    actor: &Actor,
    active: &str,
    title_key: &str,
) -> Ui {
    let locale = crate::i18n::normalise(&actor.locale).to_string();
    let t = |k: &str| crate::i18n::t(&locale, k);
    let mut nav = vec![NavItem {
        href: "/",
        label: t("nav.home"),
        active: active == "home",
    }];
    let waiting = boh_workflow::inbox::open_count(&state.platform, actor)
        .await
        .unwrap_or(0);
    nav.push(NavItem {
        href: "/approvals",
        label: if waiting > 0 {
            format!("{} ({waiting})", t("nav.approvals"))
        } else {
            t("nav.approvals")
        },
        active: active == "approvals",
    });
    if actor.has_anywhere(perm::ORG_READ) {
        nav.push(NavItem {
            href: "/stores",
            label: t("nav.stores"),
            active: active == "stores",
        });
        nav.push(NavItem {
            href: "/org",
            label: t("nav.org"),
            active: active == "org",
        });
    }
    if actor.has_anywhere(perm::INVENTORY_READ) {
        nav.push(NavItem {
            href: "/inventory",
            label: t("nav.inventory"),
            active: active == "inventory",
        });
        nav.push(NavItem {
            href: "/inventory/items",
            label: t("nav.items"),
            active: active == "items",
        });
        nav.push(NavItem {
            href: "/inventory/documents",
            label: t("nav.documents"),
            active: active == "documents",
        });
    }
    if actor.has_anywhere(perm::INVENTORY_READ) || actor.has_anywhere(perm::INVENTORY_TRANSFER) {
        nav.push(NavItem {
            href: "/inventory/transfers",
            label: t("nav.transfers"),
            active: active == "transfers",
        });
    }
    if actor.has_anywhere(perm::INVENTORY_COUNT) {
        nav.push(NavItem {
            href: "/inventory/counts",
            label: t("nav.counts"),
            active: active == "counts",
        });
    }
    if !boh_platform::import::specs_for(&state.platform, actor).is_empty() {
        nav.push(NavItem {
            href: "/imports",
            label: t("nav.imports"),
            active: active == "imports",
        });
    }
    if actor.has_anywhere(perm::PURCHASING_READ) || actor.has_anywhere(perm::PURCHASING_ORDER) {
        nav.push(NavItem {
            href: "/purchasing/orders",
            label: t("nav.orders"),
            active: active == "orders",
        });
        if actor.has_anywhere(perm::PURCHASING_ORDER) {
            nav.push(NavItem {
                href: "/purchasing/guide",
                label: t("nav.guide"),
                active: active == "guide",
            });
        }
        nav.push(NavItem {
            href: "/purchasing/requisitions",
            label: t("nav.requisitions"),
            active: active == "requisitions",
        });
    }
    if invoices::may_see(actor) {
        nav.push(NavItem {
            href: "/purchasing/invoices",
            label: t("nav.invoices"),
            active: active == "invoices",
        });
        if actor.has_anywhere(perm::PURCHASING_INVOICE)
            || actor.has_anywhere(perm::PURCHASING_INVOICE_ACCEPT)
        {
            nav.push(NavItem {
                href: "/purchasing/exceptions",
                label: t("nav.invoice_exceptions"),
                active: active == "exceptions",
            });
        }
    }
    if actor.has_anywhere(perm::INVENTORY_READ) {
        nav.push(NavItem {
            href: "/suppliers",
            label: t("nav.suppliers"),
            active: active == "suppliers",
        });
        nav.push(NavItem {
            href: "/recipes",
            label: t("nav.recipes"),
            active: active == "recipes",
        });
    }
    if actor.has_anywhere(perm::INVENTORY_MOVE_CREATE) {
        nav.push(NavItem {
            href: "/production",
            label: t("nav.production"),
            active: active == "production",
        });
    }
    if maintenance::may_see(actor) {
        nav.push(NavItem {
            href: "/maintenance/assets",
            label: t("nav.assets"),
            active: active == "assets",
        });
    }
    if maintenance_wo::may_see(actor) {
        nav.push(NavItem {
            href: "/maintenance/work-orders",
            label: t("nav.work_orders"),
            active: active == "work_orders",
        });
    }
    if actor.has_anywhere(perm::MAINTENANCE_DISPATCH) {
        nav.push(NavItem {
            href: "/maintenance/dispatch",
            label: t("nav.dispatch"),
            active: active == "dispatch",
        });
    }
    if maintenance_wo::may_work(actor) {
        nav.push(NavItem {
            href: "/maintenance/jobs",
            label: t("nav.my_jobs"),
            active: active == "jobs",
        });
    }
    if maintenance_kpi::may_see(actor) {
        nav.push(NavItem {
            href: "/maintenance/kpis",
            label: t("nav.maintenance_kpis"),
            active: active == "maintenance_kpis",
        });
        nav.push(NavItem {
            href: "/maintenance/knowledge",
            label: t("nav.maintenance_knowledge"),
            active: active == "maintenance_knowledge",
        });
    }
    if actor.has_anywhere(perm::SALES_READ) {
        nav.push(NavItem {
            href: "/sales",
            label: t("nav.sales_dashboard"),
            active: active == "sales_dashboard",
        });
        nav.push(NavItem {
            href: "/sales/batches",
            label: t("nav.sales_batches"),
            active: active == "sales_batches",
        });
        nav.push(NavItem {
            href: "/sales/avt",
            label: t("nav.sales_avt"),
            active: active == "sales_avt",
        });
        nav.push(NavItem {
            href: "/sales/anomalies",
            label: t("nav.sales_anomalies"),
            active: active == "sales_anomalies",
        });
    }
    if actor.has_anywhere(perm::SALES_INGEST) {
        nav.push(NavItem {
            href: "/sales/import",
            label: t("nav.sales_import"),
            active: active == "sales_import",
        });
    }
    if actor.has_anywhere(perm::SALES_READ) || actor.has_anywhere(perm::SALES_MAP) {
        nav.push(NavItem {
            href: "/sales/unmapped",
            label: t("nav.sales_unmapped"),
            active: active == "sales_unmapped" || active == "sales_mappings",
        });
    }
    let mut admin_nav = Vec::new();
    if actor.has_anywhere(perm::USER_READ) {
        admin_nav.push(NavItem {
            href: "/admin/users",
            label: t("nav.users"),
            active: active == "users",
        });
        admin_nav.push(NavItem {
            href: "/admin/roles",
            label: t("nav.roles"),
            active: active == "roles",
        });
    }
    if actor.has_anywhere(perm::TOKEN_MANAGE) {
        admin_nav.push(NavItem {
            href: "/admin/tokens",
            label: t("nav.tokens"),
            active: active == "tokens",
        });
    }
    if actor.has_anywhere(perm::WEBHOOK_MANAGE) {
        admin_nav.push(NavItem {
            href: "/admin/webhooks",
            label: t("nav.webhooks"),
            active: active == "webhooks",
        });
    }
    if actor.has_anywhere(perm::AUDIT_READ) {
        admin_nav.push(NavItem {
            href: "/admin/audit",
            label: t("nav.audit"),
            active: active == "audit",
        });
    }
    if actor.has_anywhere(perm::WORKFLOW_MANAGE) || actor.has_anywhere(perm::WORKFLOW_READ) {
        admin_nav.push(NavItem {
            href: "/admin/workflows",
            label: t("nav.workflows"),
            active: active == "workflows",
        });
    }
    if actor.has_anywhere(perm::JOB_READ) {
        admin_nav.push(NavItem {
            href: "/admin/jobs",
            label: t("nav.jobs"),
            active: active == "jobs",
        });
    }
    let scope = parts_scope.unwrap_or_default();
    let mut scopes = vec![ScopeOption {
        id: String::new(),
        label: t("common.whole_scope"),
        selected: scope.is_empty(),
    }];
    let filter = boh_platform::org::NodeFilter {
        kind: Some("company,region".into()),
        limit: Some(200),
        ..Default::default()
    };
    if let Ok((nodes, _)) = boh_platform::org::list(&state.platform, actor, &filter).await {
        for n in nodes {
            let indent = if n.kind == "region" { "— " } else { "" };
            scopes.push(ScopeOption {
                selected: n.id == scope,
                label: format!("{indent}{} {}", n.code, n.name(&locale)),
                id: n.id,
            });
        }
    }
    let csrf = match &actor.via {
        boh_kernel::AuthVia::Session { csrf_token, .. } => csrf_token.clone(),
        _ => String::new(),
    };
    Ui {
        title: t(title_key),
        locale,
        display_name: actor.display_name.clone(),
        username: actor.username.clone(),
        csrf,
        nav,
        admin_nav,
        scopes,
        scope,
        flash: None,
    }
}

/// The scope picker's choice, from its cookie.
pub fn scope_cookie(parts: &Parts) -> Option<String> {
    crate::extract::cookie(parts, "boh_scope").filter(|s| boh_kernel::id::is_uuid(s))
}

/// Render a template into a response.
pub fn render(t: impl askama::Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!("template error: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "template error").into_response()
        }
    }
}

/// Field errors of a failed form, for re-rendering it.
#[derive(Default)]
pub struct FormErrors {
    pub general: Option<String>,
    pub fields: Vec<FieldError>,
}

impl FormErrors {
    pub fn from_platform(e: PlatformError, locale: &str) -> Result<FormErrors, Response> {
        match e {
            PlatformError::Validation(fields) => Ok(FormErrors {
                general: Some(crate::i18n::t(locale, "common.fix_errors")),
                fields: fields
                    .into_iter()
                    .map(|f| FieldError {
                        message: crate::i18n::field_message(locale, &f.message),
                        ..f
                    })
                    .collect(),
            }),
            PlatformError::Conflict { field, message } => Ok(FormErrors {
                general: Some(crate::i18n::field_message(locale, &message)),
                fields: field
                    .map(|f| {
                        vec![FieldError::new(
                            &f,
                            crate::i18n::field_message(locale, &message),
                        )]
                    })
                    .unwrap_or_default(),
            }),
            PlatformError::Forbidden(_) => Ok(FormErrors {
                general: Some(crate::i18n::t(locale, "common.forbidden")),
                fields: Vec::new(),
            }),
            other => Err(error_page(other)),
        }
    }
    pub fn has(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f.field == field)
    }
    /// True when some field error's name starts with `prefix` (list fields: `units[2].factor`).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        self.fields.iter().any(|f| f.field.starts_with(prefix))
    }
    /// The messages of the fields starting with `prefix`.
    pub fn with_prefix(&self, prefix: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|f| f.field.starts_with(prefix))
            .map(|f| f.message.clone())
            .collect()
    }
    pub fn get(&self, field: &str) -> String {
        self.fields
            .iter()
            .filter(|f| f.field == field)
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage {
    locale: String,
    status: u16,
    title: String,
    text: String,
}

/// A full-page error for page handlers.
/// The parts of a `multipart/form-data` upload form, its body read within the upload limit; an
/// error page naming `file` for anything else.
pub async fn multipart_form(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<Vec<crate::upload::Part>, Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = crate::upload::boundary(ct) else {
        return Err(error_page(PlatformError::invalid(
            "file",
            "send the form as multipart/form-data",
        )));
    };
    let body = crate::upload::read_body(body, state.settings.max_upload_bytes).await?;
    crate::upload::parse_multipart(&body, &boundary)
        .map_err(|m| error_page(PlatformError::invalid("file", m)))
}

pub fn error_page(e: PlatformError) -> Response {
    let status = crate::error::status_of(&e);
    if status == StatusCode::UNAUTHORIZED {
        return Redirect::to("/login").into_response();
    }
    if status.is_server_error() {
        tracing::error!(error = ?e, "page error");
    }
    if let PlatformError::Forbidden(perm) = &e {
        tracing::warn!(
            target: "boh::security",
            permission = %perm,
            at = %boh_kernel::now().rfc3339(),
            "page denied: missing permission"
        );
    }
    let detail = match &e {
        PlatformError::Forbidden(p) => (*p).to_string(),
        PlatformError::NotFound => String::new(),
        PlatformError::Db(_) | PlatformError::Internal(_) => String::new(),
        other => other.to_string(),
    };
    // Rendered by `localize_errors`, which knows the request's language.
    let mut resp = status.into_response();
    resp.extensions_mut()
        .insert(PageErrorInfo { status, detail });
    resp
}

/// An error page waiting to be rendered in the request's language.
#[derive(Clone)]
struct PageErrorInfo {
    status: StatusCode,
    detail: String,
}

fn render_error(locale: &str, info: &PageErrorInfo) -> Response {
    let t = |k: &str| crate::i18n::t(locale, k);
    let (title, text) = match info.status {
        StatusCode::NOT_FOUND => (t("common.not_found"), t("common.not_found_text")),
        StatusCode::FORBIDDEN => (t("common.forbidden"), info.detail.clone()),
        s if s.is_server_error() => (t("common.server_error"), t("common.server_error_text")),
        _ => (t("common.bad_request"), info.detail.clone()),
    };
    let page = ErrorPage {
        locale: locale.to_string(),
        status: info.status.as_u16(),
        title,
        text,
    };
    (info.status, render(page)).into_response()
}

/// Page middleware: turn [`error_page`] markers into a page in the user's language (the
/// `boh_lang` cookie, set at login and by the language switch, else `Accept-Language`).
pub async fn localize_errors(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let locale = crate::i18n::from_request(&parts);
    let resp = next
        .run(axum::extract::Request::from_parts(parts, body))
        .await;
    match resp.extensions().get::<PageErrorInfo>().cloned() {
        Some(info) => render_error(locale, &info),
        None => resp,
    }
}

/// The fallback for unknown paths: JSON under `/api/`, a page elsewhere.
pub async fn not_found(parts: Parts) -> Response {
    if parts.uri.path().starts_with("/api/") {
        return crate::error::envelope(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route",
            Vec::new(),
        );
    }
    let locale = crate::i18n::from_request(&parts).to_string();
    let page = ErrorPage {
        status: 404,
        title: crate::i18n::t(&locale, "common.not_found"),
        text: crate::i18n::t(&locale, "common.not_found_text"),
        locale,
    };
    (StatusCode::NOT_FOUND, render(page)).into_response()
}

#[derive(serde::Deserialize)]
pub struct ScopeForm {
    pub scope: String,
    pub back: Option<String>,
}

/// The scope picker: narrows lists to a subtree (UI state only; grants still decide access).
async fn set_scope(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    axum::Form(f): axum::Form<ScopeForm>,
) -> Response {
    let back = safe_back(f.back.as_deref());
    if f.scope.is_empty() {
        return (
            [(
                header::SET_COOKIE,
                "boh_scope=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly".to_string(),
            )],
            Redirect::to(&back),
        )
            .into_response();
    }
    match boh_platform::org::get(&state.platform, &ctx.actor, &f.scope).await {
        Ok(n) => (
            [(
                header::SET_COOKIE,
                format!("boh_scope={}; Path=/; SameSite=Lax; HttpOnly", n.id),
            )],
            Redirect::to(&back),
        )
            .into_response(),
        Err(e) => error_page(e),
    }
}

/// A local redirect target, never another site.
pub fn safe_back(back: Option<&str>) -> String {
    match back {
        Some(b) if b.starts_with('/') && !b.starts_with("//") && !b.contains('\\') => b.to_string(),
        _ => "/".to_string(),
    }
}

#[cfg(test)]
mod stylesheet_tests {
    /// Every `{` of the stylesheet is closed, and no block closes twice: one missing brace
    /// silently moves every later rule into the block above (a phone-only media query).
    #[test]
    fn stylesheet_blocks_are_balanced() {
        let css = include_str!("../../static/app.css");
        let mut depth = 0i32;
        for (n, line) in css.lines().enumerate() {
            for ch in line.chars() {
                match ch {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                assert!(depth >= 0, "app.css line {}: a block closes twice", n + 1);
            }
            if line.starts_with("@media") {
                assert_eq!(depth, 1, "app.css line {}: @media inside a block", n + 1);
            }
        }
        assert_eq!(depth, 0, "app.css: a block is never closed");
    }
}
