//! Supplier invoice pages: the list, a new invoice (prefilled from an order's received
//! lines), the CSV import, an invoice with its match table and what can be done with it
//! (accept or reject exceptions, submit for payment approval, record a payment, apply a
//! credit note), the exceptions queue, credit notes, match tolerances, and the return form of
//! a receipt. Every page calls the same `boh_purchasing` functions as the API.

use std::collections::BTreeMap;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use boh_kernel::perm;
use boh_kernel::qty::money_text;
use boh_platform::{Ctx, FieldError, PlatformError};
use boh_purchasing::invoice::{
    self, DraftLine, Invoice, InvoiceFilter, InvoiceInput, InvoiceLineInput, Resolution,
    ResolveInput,
};
use boh_purchasing::invoice_csv::{self, InvoiceImport};
use boh_purchasing::payment::{self, CreditApplyInput, CreditFilter, CreditNote, PaymentInput};
use boh_purchasing::po::{self, PoFilter, PurchaseOrder};
use boh_purchasing::returns::{self, ReturnInput, ReturnLineInput};
use boh_purchasing::tolerance::{self, Tolerance, ToleranceInput};
use boh_workflow::run::InstanceView;
use serde::Deserialize;

use super::{FormErrors, Ui, error_page, render, scope_cookie, ui};
use crate::extract::PageActor;
use crate::state::AppState;

const PAGE: i64 = 25;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/purchasing/invoices", get(list).post(create))
        .route("/purchasing/invoices/new", get(new_form))
        .route(
            "/purchasing/invoices/import",
            get(import_form).post(import_upload),
        )
        .route("/purchasing/invoices/import/template.csv", get(template))
        .route("/purchasing/invoices/{id}", get(detail))
        .route("/purchasing/invoices/{id}/resolve", post(resolve))
        .route("/purchasing/invoices/{id}/submit", post(submit))
        .route("/purchasing/invoices/{id}/pay", post(pay))
        .route("/purchasing/invoices/{id}/credit", post(apply_credit))
        .route("/purchasing/exceptions", get(exceptions))
        .route("/purchasing/credit-notes", get(credit_notes))
        .route(
            "/purchasing/tolerances",
            get(tolerances).post(save_tolerance),
        )
        .route("/purchasing/tolerances/{id}/delete", post(delete_tolerance))
        .route(
            "/purchasing/receipts/{id}/return",
            get(return_form).post(return_post),
        )
}

/// Who sees the invoice pages.
pub fn may_see(actor: &boh_kernel::Actor) -> bool {
    [
        perm::PURCHASING_READ,
        perm::PURCHASING_INVOICE,
        perm::PURCHASING_INVOICE_ACCEPT,
        perm::PURCHASING_PAYMENT,
    ]
    .iter()
    .any(|p| actor.has_anywhere(p))
}

fn money_opt(v: Option<i64>) -> String {
    v.map(money_text).unwrap_or_else(|| "—".into())
}

/// The platform's English message in the user's language, one line per field.
fn problem_text(e: &PlatformError, locale: &str) -> Option<String> {
    let t = |m: &str| crate::i18n::field_message(locale, m);
    match e {
        PlatformError::Refused { message, .. } | PlatformError::Conflict { message, .. } => {
            Some(t(message))
        }
        PlatformError::Validation(f) => Some(
            f.iter()
                .map(|x| format!("{}: {}", x.field, t(&x.message)))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        PlatformError::IdempotencyMismatch => Some(t(&e.to_string())),
        _ => None,
    }
}

// ---------------------------------------------------------------- list and queue

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub offset: i64,
}

#[derive(askama::Template)]
#[template(path = "invoices/list.html")]
struct ListPage {
    ui: Ui,
    tab: &'static str,
    rows: Vec<Invoice>,
    status: String,
    reason: String,
    statuses: &'static [&'static str],
    reasons: &'static [&'static str],
    total: i64,
    offset: i64,
    can_enter: bool,
    can_accept: bool,
}

impl ListPage {
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
    fn base(&self) -> &'static str {
        if self.tab == "exceptions" {
            "/purchasing/exceptions"
        } else {
            "/purchasing/invoices"
        }
    }
    fn prev_offset(&self) -> Option<i64> {
        (self.offset > 0).then(|| (self.offset - PAGE).max(0))
    }
    fn next_offset(&self) -> Option<i64> {
        (self.offset + PAGE < self.total).then_some(self.offset + PAGE)
    }
}

async fn list_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    q: ListQuery,
    tab: &'static str,
) -> Response {
    let title = if tab == "exceptions" {
        "ap.exceptions"
    } else {
        "ap.invoices"
    };
    let ui = ui(state, scope_cookie(parts), &ctx.actor, tab, title).await;
    let f = InvoiceFilter {
        status: Some(q.status.clone()).filter(|s| !s.is_empty()),
        reason: Some(q.reason.clone()).filter(|s| !s.is_empty()),
        limit: Some(PAGE),
        offset: Some(q.offset.max(0)),
        ..Default::default()
    };
    let found = if tab == "exceptions" {
        invoice::exceptions(&state.platform, &ctx.actor, &f).await
    } else {
        invoice::list(&state.platform, &ctx.actor, &f).await
    };
    let (rows, total) = match found {
        Ok(v) => v,
        Err(e) => return error_page(e),
    };
    render(ListPage {
        ui,
        tab,
        rows,
        status: q.status,
        reason: q.reason,
        statuses: invoice::status::ALL,
        reasons: invoice::reason::ALL,
        total,
        offset: q.offset.max(0),
        can_enter: ctx.actor.has_anywhere(perm::PURCHASING_INVOICE),
        can_accept: ctx.actor.has_anywhere(perm::PURCHASING_INVOICE_ACCEPT),
    })
}

/// `GET /purchasing/invoices`.
pub async fn list(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ListQuery>,
) -> Response {
    list_page(&state, &parts, &ctx, q, "invoices").await
}

/// `GET /purchasing/exceptions`: invoices waiting for someone to accept or reject them.
pub async fn exceptions(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<ListQuery>,
) -> Response {
    list_page(&state, &parts, &ctx, q, "exceptions").await
}

// ---------------------------------------------------------------- new invoice

#[derive(Debug, Default, Deserialize)]
pub struct NewQuery {
    #[serde(default)]
    pub po_id: String,
}

#[derive(askama::Template)]
#[template(path = "invoices/new.html")]
struct NewPage {
    ui: Ui,
    orders: Vec<PurchaseOrder>,
    order: Option<PurchaseOrder>,
    lines: Vec<DraftLine>,
    values: BTreeMap<String, String>,
    errors: FormErrors,
}

impl NewPage {
    fn value(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
    fn line_value(&self, k: &str, l: &DraftLine, default: String) -> String {
        self.values
            .get(&format!("{k}.{}", l.po_line_no))
            .cloned()
            .unwrap_or(default)
    }
    fn qty_default(&self, l: &DraftLine) -> String {
        if l.to_invoice.micros() > 0 {
            l.to_invoice.to_text()
        } else {
            String::new()
        }
    }
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
    fn line_error(&self, l: &DraftLine) -> String {
        self.errors
            .with_prefix(&format!("line.{}", l.po_line_no))
            .join("; ")
    }
}

/// Orders an invoice can be entered for (approved or received), newest first.
async fn invoiceable(state: &AppState, actor: &boh_kernel::Actor) -> Vec<PurchaseOrder> {
    let mut out = Vec::new();
    for st in [
        po::status::PARTIAL,
        po::status::RECEIVED,
        po::status::APPROVED,
    ] {
        let f = PoFilter {
            status: Some(st.into()),
            limit: Some(100),
            ..Default::default()
        };
        if let Ok(page) = po::list(&state.platform, actor, &f).await {
            out.extend(page.items);
        }
    }
    out.sort_by(|a, b| b.id.cmp(&a.id));
    out
}

async fn new_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    po_id: &str,
    values: BTreeMap<String, String>,
    errors: FormErrors,
) -> Result<NewPage, Response> {
    let ui = ui(state, scope_cookie(parts), &ctx.actor, "invoices", "ap.new").await;
    let (order, lines) = if po_id.is_empty() {
        (None, Vec::new())
    } else {
        let (o, l) = invoice::draft_for(&state.platform, &ctx.actor, po_id)
            .await
            .map_err(error_page)?;
        (Some(o), l)
    };
    let orders = if order.is_none() {
        invoiceable(state, &ctx.actor).await
    } else {
        Vec::new()
    };
    let mut values = values;
    if !values.contains_key("invoice_date") {
        values.insert(
            "invoice_date".into(),
            boh_inventory::today_in("Asia/Shanghai").to_string(),
        );
    }
    Ok(NewPage {
        ui,
        orders,
        order,
        lines,
        values,
        errors,
    })
}

/// `GET /purchasing/invoices/new[?po_id=]`: pick an order, then its received lines.
pub async fn new_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<NewQuery>,
) -> Response {
    match new_page(
        &state,
        &parts,
        &ctx,
        &q.po_id,
        BTreeMap::new(),
        FormErrors::default(),
    )
    .await
    {
        Ok(p) => render(p),
        Err(r) => r,
    }
}

/// `POST /purchasing/invoices`: `qty.<line>`, `price.<line>` (currency units), `tax.<line>`;
/// lines without a quantity are left out.
pub async fn create(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let po_id = get("po_id");
    let order = match po::get(&state.platform, &ctx.actor, &po_id).await {
        Ok(o) => o,
        Err(e) => return error_page(e),
    };
    let mut money_errors = Vec::new();
    let mut lines = Vec::new();
    // Which form line each input line came from, to put its errors back on it.
    let mut origin = Vec::new();
    for l in &order.lines {
        let n = l.line_no;
        let qty = get(&format!("qty.{n}"));
        if qty.is_empty() || qty == "0" {
            continue;
        }
        let price = get(&format!("price.{n}"));
        let tax = get(&format!("tax.{n}"));
        let price_minor = match boh_kernel::qty::parse_money(&price) {
            Ok(v) => v,
            Err(_) => {
                money_errors.push(FieldError::new(
                    &format!("line.{n}.price"),
                    "must be an amount such as 12.50",
                ));
                continue;
            }
        };
        let tax_minor = if tax.is_empty() {
            None
        } else {
            match boh_kernel::qty::parse_money(&tax) {
                Ok(v) => Some(v),
                Err(_) => {
                    money_errors.push(FieldError::new(
                        &format!("line.{n}.tax"),
                        "must be an amount such as 12.50",
                    ));
                    continue;
                }
            }
        };
        lines.push(InvoiceLineInput {
            po_line_no: Some(n),
            qty: serde_json::Value::String(qty),
            unit_price_minor: price_minor,
            tax_minor,
            ..Default::default()
        });
        origin.push(n);
    }
    let input = InvoiceInput {
        supplier_id: order.supplier_id.clone(),
        po_id: order.id.clone(),
        invoice_no: get("invoice_no"),
        invoice_date: get("invoice_date"),
        due_date: Some(get("due_date")).filter(|s| !s.is_empty()),
        note: Some(get("note")).filter(|s| !s.is_empty()),
        lines,
        ..Default::default()
    };
    let result = if money_errors.is_empty() {
        invoice::create_from(&state.platform, &ctx, &input, invoice::Source::Form).await
    } else {
        Err(PlatformError::Validation(money_errors))
    };
    match result {
        Ok(inv) => {
            Redirect::to(&format!("/purchasing/invoices/{}?entered=1", inv.id)).into_response()
        }
        Err(e) => {
            // Line errors (`lines[i].qty`) go back on the form's line.
            let e = match e {
                PlatformError::Validation(fields) => PlatformError::Validation(
                    fields
                        .into_iter()
                        .map(|f| {
                            let mapped = f.field.strip_prefix("lines[").and_then(|r| {
                                let (i, rest) = r.split_once(']')?;
                                let n = origin.get(i.parse::<usize>().ok()?)?;
                                Some(format!("line.{n}{rest}"))
                            });
                            FieldError {
                                field: mapped.unwrap_or(f.field),
                                message: f.message,
                            }
                        })
                        .collect(),
                ),
                other => other,
            };
            let errors = match FormErrors::from_platform(e, &ctx.actor.locale) {
                Ok(e) => e,
                Err(r) => return r,
            };
            match new_page(&state, &parts, &ctx, &order.id, form, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response(),
                Err(r) => r,
            }
        }
    }
}

// ---------------------------------------------------------------- import

#[derive(askama::Template)]
#[template(path = "invoices/import.html")]
struct ImportPage {
    ui: Ui,
    tab: &'static str,
    columns: Vec<(String, bool, String, String)>,
    general: Option<String>,
    errors: Vec<FieldError>,
    done: Option<InvoiceImport>,
}

impl ImportPage {
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
}

async fn import_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    general: Option<String>,
    errors: Vec<FieldError>,
    done: Option<InvoiceImport>,
) -> ImportPage {
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "invoices",
        "ap.import",
    )
    .await;
    let zh = ui.is_zh();
    ImportPage {
        tab: "import",
        columns: invoice_csv::COLUMNS
            .iter()
            .map(|(n, req, en, zh_text, ex)| {
                (
                    n.to_string(),
                    *req,
                    if zh {
                        zh_text.to_string()
                    } else {
                        en.to_string()
                    },
                    ex.to_string(),
                )
            })
            .collect(),
        ui,
        general,
        errors,
        done,
    }
}

/// `GET /purchasing/invoices/import`.
pub async fn import_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    if !ctx.actor.has_anywhere(perm::PURCHASING_INVOICE) {
        return error_page(PlatformError::Forbidden(perm::PURCHASING_INVOICE));
    }
    render(import_page(&state, &parts, &ctx, None, Vec::new(), None).await)
}

/// `GET /purchasing/invoices/import/template.csv`.
pub async fn template(PageActor(_ctx): PageActor) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"supplier-invoices-template.csv\"",
            ),
        ],
        invoice_csv::template_csv(),
    )
        .into_response()
}

/// `POST /purchasing/invoices/import`: the file, all or nothing; every problem by row and
/// column.
pub async fn import_upload(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let locale = crate::i18n::normalise(&ctx.actor.locale).to_string();
    let mparts = match super::multipart_form(&state, &parts.headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let Some(file) = mparts
        .iter()
        .find(|p| p.name == "file" && !p.data.is_empty())
    else {
        let pg = import_page(
            &state,
            &parts,
            &ctx,
            Some(crate::i18n::t(&locale, "ap.import_choose")),
            Vec::new(),
            None,
        )
        .await;
        return (StatusCode::UNPROCESSABLE_ENTITY, render(pg)).into_response();
    };
    let name = file
        .file_name
        .clone()
        .unwrap_or_else(|| "invoices.csv".into());
    match invoice_csv::import(
        &state.platform,
        &ctx,
        &file.data,
        &name,
        file.content_type.as_deref(),
    )
    .await
    {
        Ok(done) => render(import_page(&state, &parts, &ctx, None, Vec::new(), Some(done)).await),
        Err(PlatformError::Validation(fields)) => {
            let fields = fields
                .into_iter()
                .map(|f| FieldError {
                    message: crate::i18n::field_message(&locale, &f.message),
                    ..f
                })
                .collect();
            let pg = import_page(
                &state,
                &parts,
                &ctx,
                Some(crate::i18n::t(&locale, "ap.import_errors")),
                fields,
                None,
            )
            .await;
            (StatusCode::UNPROCESSABLE_ENTITY, render(pg)).into_response()
        }
        Err(e) => match problem_text(&e, &locale) {
            Some(m) => {
                let pg = import_page(&state, &parts, &ctx, Some(m), Vec::new(), None).await;
                (StatusCode::UNPROCESSABLE_ENTITY, render(pg)).into_response()
            }
            None => error_page(e),
        },
    }
}

// ---------------------------------------------------------------- an invoice

#[derive(askama::Template)]
#[template(path = "invoices/detail.html")]
struct DetailPage {
    ui: Ui,
    inv: Invoice,
    approval: Option<InstanceView>,
    credits: Vec<CreditNote>,
    can_accept: bool,
    can_reject: bool,
    can_submit: bool,
    can_pay: bool,
    today: String,
    error: Option<String>,
}

impl DetailPage {
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
    fn money_opt(&self, v: &Option<i64>) -> String {
        money_opt(*v)
    }
    fn short(&self, s: &str) -> String {
        super::admin::short_time(s)
    }
    fn status_label(&self, s: &str) -> String {
        self.ui.t(&format!("ap.status.{s}"))
    }
    fn reason_label(&self, r: &str) -> String {
        self.ui.t(&format!("ap.reason.{r}"))
    }
    fn line_ref(&self, n: &i64) -> String {
        if *n == 0 {
            self.ui.t("ap.whole_invoice")
        } else {
            self.ui.ta("ap.line_n", "n", &n.to_string())
        }
    }
    fn message(&self, m: &str) -> String {
        crate::i18n::field_message(&self.ui.locale, m)
    }
    fn methods(&self) -> &'static [&'static str] {
        payment::METHODS
    }
    fn source_label(&self) -> String {
        self.ui.t(&format!("ap.source.{}", self.inv.source))
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct DetailQuery {
    #[serde(default)]
    pub entered: Option<String>,
    #[serde(default)]
    pub done: Option<String>,
}

async fn detail_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    error: Option<String>,
) -> Result<DetailPage, Response> {
    let p = &state.platform;
    let inv = invoice::get(p, &ctx.actor, id).await.map_err(error_page)?;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "invoices",
        "ap.invoice",
    )
    .await;
    let site = boh_platform::org::fetch(p, &inv.location_id)
        .await
        .ok()
        .flatten();
    let path = site.as_ref().map(|n| n.path.clone()).unwrap_or_default();
    let allows = |perm: &str| ctx.actor.allows(perm, &path);
    let st = inv.status.as_str();
    let payable = st == invoice::status::APPROVED || st == invoice::status::PARTIAL;
    let can_pay = allows(perm::PURCHASING_PAYMENT) && payable;
    let credits = if can_pay {
        payment::credit_notes(
            p,
            &ctx.actor,
            &CreditFilter {
                supplier_id: Some(inv.supplier_id.clone()),
                status: Some("open".into()),
                limit: Some(50),
                ..Default::default()
            },
        )
        .await
        .map_err(error_page)?
        .0
    } else {
        Vec::new()
    };
    let approval =
        boh_workflow::run::latest_for(p, &boh_kernel::Actor::system(), invoice::DOC_TYPE, &inv.id)
            .await
            .map_err(error_page)?;
    Ok(DetailPage {
        can_accept: allows(perm::PURCHASING_INVOICE_ACCEPT) && st == invoice::status::EXCEPTION,
        can_reject: (allows(perm::PURCHASING_INVOICE) || allows(perm::PURCHASING_INVOICE_ACCEPT))
            && (st == invoice::status::EXCEPTION || st == invoice::status::MATCHED),
        can_submit: allows(perm::PURCHASING_INVOICE) && st == invoice::status::MATCHED,
        can_pay,
        credits,
        today: boh_inventory::today_in(
            site.as_ref()
                .map(|s| s.timezone.as_str())
                .unwrap_or("Asia/Shanghai"),
        )
        .to_string(),
        ui,
        inv,
        approval,
        error,
    })
}

/// `GET /purchasing/invoices/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Query(q): Query<DetailQuery>,
) -> Response {
    match detail_page(&state, &parts, &ctx, &id, None).await {
        Ok(mut pg) => {
            if q.entered.is_some() {
                pg.ui.flash = Some(pg.ui.t(&format!("ap.entered.{}", pg.inv.status)));
            } else if q.done.is_some() {
                pg.ui.flash = Some(pg.ui.t("ap.saved"));
            }
            render(pg)
        }
        Err(r) => r,
    }
}

/// A refused action: the invoice page again with the reason on top.
async fn refused(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    id: &str,
    e: PlatformError,
) -> Response {
    let Some(msg) = problem_text(&e, &ctx.actor.locale) else {
        return error_page(e);
    };
    let status = crate::error::status_of(&e);
    match detail_page(state, parts, ctx, id, Some(msg)).await {
        Ok(pg) => (status, render(pg)).into_response(),
        Err(r) => r,
    }
}

fn done(id: &str) -> Response {
    Redirect::to(&format!("/purchasing/invoices/{id}?done=1")).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct ResolveForm {
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub comment: String,
}

/// `POST /purchasing/invoices/{id}/resolve`: accept or reject with a comment.
pub async fn resolve(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<ResolveForm>,
) -> Response {
    let action = if form.action == "accept" {
        Resolution::Accept
    } else {
        Resolution::Reject
    };
    let input = ResolveInput {
        action,
        comment: form.comment,
    };
    match invoice::resolve(&state.platform, &ctx, &id, &input).await {
        Ok(_) => done(&id),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

/// `POST /purchasing/invoices/{id}/submit`: for payment approval.
pub async fn submit(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match invoice::submit(&state.platform, &ctx, &id).await {
        Ok(_) => done(&id),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PayForm {
    #[serde(default)]
    pub amount: String,
    #[serde(default)]
    pub method: String,
    #[serde(default)]
    pub reference: String,
    #[serde(default)]
    pub paid_on: String,
}

/// `POST /purchasing/invoices/{id}/pay`: a payment (amount in currency units).
pub async fn pay(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let amount = match boh_kernel::qty::parse_money(form.amount.trim()) {
        Ok(v) => v,
        Err(_) => {
            let e = PlatformError::invalid("amount", "must be an amount such as 12.50");
            return refused(&state, &parts, &ctx, &id, e).await;
        }
    };
    let input = PaymentInput {
        amount_minor: amount,
        method: form.method,
        reference: Some(form.reference).filter(|s| !s.trim().is_empty()),
        paid_on: Some(form.paid_on).filter(|s| !s.trim().is_empty()),
        ..Default::default()
    };
    match payment::record(&state.platform, &ctx, &id, &input).await {
        Ok(_) => done(&id),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CreditForm {
    #[serde(default)]
    pub credit_note_id: String,
}

/// `POST /purchasing/invoices/{id}/credit`: apply an open credit note of the supplier.
pub async fn apply_credit(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<CreditForm>,
) -> Response {
    let input = CreditApplyInput {
        invoice_id: id.clone(),
        amount_minor: None,
    };
    match payment::apply_credit(&state.platform, &ctx, &form.credit_note_id, &input).await {
        Ok(_) => done(&id),
        Err(e) => refused(&state, &parts, &ctx, &id, e).await,
    }
}

// ---------------------------------------------------------------- credit notes

#[derive(askama::Template)]
#[template(path = "invoices/credit_notes.html")]
struct CreditPage {
    ui: Ui,
    tab: &'static str,
    rows: Vec<CreditNote>,
    status: String,
    total: i64,
}

impl CreditPage {
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CreditQuery {
    #[serde(default)]
    pub status: String,
}

/// `GET /purchasing/credit-notes`.
pub async fn credit_notes(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Query(q): Query<CreditQuery>,
) -> Response {
    let ui = ui(
        &state,
        scope_cookie(&parts),
        &ctx.actor,
        "invoices",
        "ap.credit_notes",
    )
    .await;
    let f = CreditFilter {
        status: Some(q.status.clone()).filter(|s| !s.is_empty()),
        limit: Some(100),
        ..Default::default()
    };
    match payment::credit_notes(&state.platform, &ctx.actor, &f).await {
        Ok((rows, total)) => render(CreditPage {
            ui,
            tab: "credit_notes",
            rows,
            status: q.status,
            total,
        }),
        Err(e) => error_page(e),
    }
}

// ---------------------------------------------------------------- tolerances

#[derive(askama::Template)]
#[template(path = "invoices/tolerances.html")]
struct TolerancePage {
    ui: Ui,
    tab: &'static str,
    rows: Vec<Tolerance>,
    suppliers: Vec<(String, String)>,
    categories: Vec<(String, String)>,
    can_edit: bool,
    errors: FormErrors,
}

impl TolerancePage {
    fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
    fn scope_label(&self, t: &Tolerance) -> String {
        match t.applies_to.as_str() {
            "supplier" => format!(
                "{} {}",
                self.ui.t("ap.tol.supplier"),
                t.supplier_code.clone().unwrap_or_default()
            ),
            "category" => format!(
                "{} {}",
                self.ui.t("ap.tol.category"),
                t.category_code.clone().unwrap_or_default()
            ),
            _ => self.ui.t("ap.tol.company"),
        }
    }
}

async fn tolerance_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    errors: FormErrors,
) -> Result<TolerancePage, Response> {
    let p = &state.platform;
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "invoices",
        "ap.tolerances",
    )
    .await;
    let rows = tolerance::list(p, &ctx.actor).await.map_err(error_page)?;
    let can_edit = ctx.actor.company_id.as_deref().is_some_and(|c| {
        ctx.actor
            .allows(perm::PURCHASING_INVOICE, &boh_inventory::company_path(c))
    });
    let (suppliers, categories) = if can_edit {
        let f = boh_inventory::supplier::SupplierFilter {
            limit: Some(500),
            ..Default::default()
        };
        let s = boh_inventory::supplier::list_suppliers(p, &ctx.actor, &f)
            .await
            .map(|(v, _)| {
                v.into_iter()
                    .map(|s| (s.id.clone(), format!("{} · {}", s.code, s.name(&ui.locale))))
                    .collect()
            })
            .unwrap_or_default();
        let c = boh_inventory::catalog::list_categories(p, &ctx.actor, None)
            .await
            .map(|v| {
                v.into_iter()
                    .map(|c| (c.id.clone(), format!("{} · {}", c.code, c.name(&ui.locale))))
                    .collect()
            })
            .unwrap_or_default();
        (s, c)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(TolerancePage {
        ui,
        tab: "tolerances",
        rows,
        suppliers,
        categories,
        can_edit,
        errors,
    })
}

/// `GET /purchasing/tolerances`.
pub async fn tolerances(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
) -> Response {
    match tolerance_page(&state, &parts, &ctx, FormErrors::default()).await {
        Ok(p) => render(p),
        Err(r) => r,
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ToleranceForm {
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub supplier_id: String,
    #[serde(default)]
    pub category_id: String,
    #[serde(default)]
    pub price_pct: String,
    #[serde(default)]
    pub price_abs: String,
    #[serde(default)]
    pub qty_pct: String,
    #[serde(default)]
    pub qty_abs: String,
}

/// `POST /purchasing/tolerances`: save the rule of the company, a supplier or a category.
pub async fn save_tolerance(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Form(form): Form<ToleranceForm>,
) -> Response {
    let text = |s: &str| {
        let t = s.trim();
        (!t.is_empty()).then(|| serde_json::Value::String(t.to_string()))
    };
    let price_abs = if form.price_abs.trim().is_empty() {
        Ok(None)
    } else {
        boh_kernel::qty::parse_money(form.price_abs.trim()).map(Some)
    };
    let result = match price_abs {
        Err(_) => Err(PlatformError::invalid(
            "price_abs_minor",
            "must be an amount such as 12.50",
        )),
        Ok(price_abs_minor) => {
            let input = ToleranceInput {
                supplier_id: (form.scope == "supplier").then(|| form.supplier_id.clone()),
                category_id: (form.scope == "category").then(|| form.category_id.clone()),
                price_pct: text(&form.price_pct),
                price_abs_minor,
                qty_pct: text(&form.qty_pct),
                qty_abs: text(&form.qty_abs),
                note: None,
            };
            tolerance::save(&state.platform, &ctx, &input).await
        }
    };
    match result {
        Ok(_) => Redirect::to("/purchasing/tolerances").into_response(),
        Err(e) => {
            let errors = match FormErrors::from_platform(e, &ctx.actor.locale) {
                Ok(e) => e,
                Err(r) => return r,
            };
            match tolerance_page(&state, &parts, &ctx, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response(),
                Err(r) => r,
            }
        }
    }
}

/// `POST /purchasing/tolerances/{id}/delete`.
pub async fn delete_tolerance(
    State(state): State<AppState>,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match tolerance::delete(&state.platform, &ctx, &id).await {
        Ok(()) => Redirect::to("/purchasing/tolerances").into_response(),
        Err(e) => error_page(e),
    }
}

// ---------------------------------------------------------------- returns

/// A receipt line on the return form.
pub struct ReturnRow {
    pub line_no: i64,
    pub item_code: String,
    pub unit: String,
    pub accepted: String,
    pub returned: String,
    pub left: i64,
}

#[derive(askama::Template)]
#[template(path = "invoices/return.html")]
struct ReturnPage {
    ui: Ui,
    receipt_id: String,
    order: PurchaseOrder,
    rows: Vec<ReturnRow>,
    reasons: &'static [&'static str],
    values: BTreeMap<String, String>,
    errors: FormErrors,
}

impl ReturnPage {
    fn value(&self, k: &str) -> String {
        self.values.get(k).cloned().unwrap_or_default()
    }
    fn qty_value(&self, r: &ReturnRow) -> String {
        self.value(&format!("qty.{}", r.line_no))
    }
    fn line_error(&self, r: &ReturnRow) -> String {
        self.errors
            .with_prefix(&format!("line.{}", r.line_no))
            .join("; ")
    }
}

async fn return_page(
    state: &AppState,
    parts: &Parts,
    ctx: &Ctx,
    receipt_id: &str,
    values: BTreeMap<String, String>,
    errors: FormErrors,
) -> Result<ReturnPage, Response> {
    let p = &state.platform;
    let rec = boh_purchasing::receipt::get(p, &ctx.actor, receipt_id)
        .await
        .map_err(error_page)?;
    let order = po::get(p, &ctx.actor, &rec.po_id)
        .await
        .map_err(error_page)?;
    let rows = returns::returnable(p, &ctx.actor, receipt_id)
        .await
        .map_err(error_page)?
        .into_iter()
        .map(|(n, code, unit, acc, ret)| ReturnRow {
            line_no: n,
            item_code: code,
            unit,
            accepted: acc.to_text(),
            returned: ret.to_text(),
            left: acc.micros() - ret.micros(),
        })
        .collect();
    let ui = ui(
        state,
        scope_cookie(parts),
        &ctx.actor,
        "orders",
        "ap.return",
    )
    .await;
    Ok(ReturnPage {
        ui,
        receipt_id: receipt_id.to_string(),
        order,
        rows,
        reasons: returns::REASONS,
        values,
        errors,
    })
}

/// `GET /purchasing/receipts/{id}/return`.
pub async fn return_form(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
) -> Response {
    match return_page(
        &state,
        &parts,
        &ctx,
        &id,
        BTreeMap::new(),
        FormErrors::default(),
    )
    .await
    {
        Ok(p) => render(p),
        Err(r) => r,
    }
}

/// `POST /purchasing/receipts/{id}/return`: `qty.<line>` per receipt line, `reason`, `note`,
/// `return_key`.
pub async fn return_post(
    State(state): State<AppState>,
    parts: Parts,
    PageActor(ctx): PageActor,
    Path(id): Path<String>,
    Form(form): Form<BTreeMap<String, String>>,
) -> Response {
    let get = |k: &str| {
        form.get(k)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mut nos: Vec<i64> = form
        .keys()
        .filter_map(|k| k.strip_prefix("qty.").and_then(|n| n.parse().ok()))
        .collect();
    nos.sort();
    let lines: Vec<ReturnLineInput> = nos
        .iter()
        .filter_map(|n| {
            let q = get(&format!("qty.{n}"))?;
            Some(ReturnLineInput {
                line_no: *n,
                qty: serde_json::Value::String(q),
                reason: None,
            })
        })
        .collect();
    let origin: Vec<i64> = lines.iter().map(|l| l.line_no).collect();
    let input = ReturnInput {
        lines,
        reason: get("reason").unwrap_or_default(),
        note: get("note"),
        return_key: get("return_key"),
    };
    match returns::create(&state.platform, &ctx, &id, &input).await {
        Ok(r) => {
            Redirect::to(&format!("/purchasing/orders/{}?returned=1", r.po_id)).into_response()
        }
        Err(e) => {
            let e = match e {
                PlatformError::Validation(fields) => PlatformError::Validation(
                    fields
                        .into_iter()
                        .map(|f| {
                            let mapped = f.field.strip_prefix("lines[").and_then(|r| {
                                let (i, rest) = r.split_once(']')?;
                                let n = origin.get(i.parse::<usize>().ok()?)?;
                                Some(format!("line.{n}{rest}"))
                            });
                            FieldError {
                                field: mapped.unwrap_or(f.field),
                                message: f.message,
                            }
                        })
                        .collect(),
                ),
                PlatformError::Refused {
                    message, fields, ..
                } => PlatformError::Validation(
                    std::iter::once(FieldError::new("lines", message))
                        .chain(fields)
                        .collect(),
                ),
                other => other,
            };
            let errors = match FormErrors::from_platform(e, &ctx.actor.locale) {
                Ok(e) => e,
                Err(r) => return r,
            };
            match return_page(&state, &parts, &ctx, &id, form, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response(),
                Err(r) => r,
            }
        }
    }
}

// ---------------------------------------------------------------- on the order page

/// What the order page shows of invoicing: its invoices, returns and what the user may do.
pub struct OrderInvoices {
    pub invoices: Vec<Invoice>,
    pub returns: Vec<boh_purchasing::returns::SupplierReturn>,
    pub can_invoice: bool,
    pub can_return: bool,
}

impl OrderInvoices {
    pub fn money(&self, v: &i64) -> String {
        money_text(*v)
    }
}

/// The invoicing panel of an order's page.
pub async fn order_panel(
    state: &AppState,
    actor: &boh_kernel::Actor,
    order: &PurchaseOrder,
    path: &str,
) -> OrderInvoices {
    let p = &state.platform;
    let f = InvoiceFilter {
        po_id: Some(order.id.clone()),
        limit: Some(100),
        ..Default::default()
    };
    let invoices = invoice::list(p, actor, &f)
        .await
        .map(|(v, _)| v)
        .unwrap_or_default();
    let returns = returns::list_for(p, actor, &order.id)
        .await
        .unwrap_or_default();
    let open = matches!(
        order.status.as_str(),
        po::status::APPROVED | po::status::PARTIAL | po::status::RECEIVED
    );
    OrderInvoices {
        invoices,
        returns,
        can_invoice: open && actor.allows(perm::PURCHASING_INVOICE, path),
        can_return: actor.allows(perm::INVENTORY_MOVE_CREATE, path),
    }
}
