//! Supplier invoices and what follows them: the three-way match and its tolerances, the
//! exceptions queue, approval for payment, payments, returns to the supplier and credit
//! notes. The work is done by `boh_purchasing::{invoice, invoice_csv, tolerance, payment,
//! returns}`.

use crate::extract::{Json as Body, Path, Query};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use boh_platform::sheet::Format;
use boh_purchasing::invoice::{
    self, DraftLine, Invoice, InvoiceFilter, InvoiceInput, Payment, ResolveInput,
};
use boh_purchasing::invoice_csv::{self, InvoiceImport};
use boh_purchasing::payment::{
    self, CreditApplyInput, CreditFilter, CreditNote, Payable, PaymentInput,
};
use boh_purchasing::returns::{self, ReturnInput, SupplierReturn};
use boh_purchasing::tolerance::{self, Tolerance, ToleranceInput};
use boh_workflow::route::Route;
use boh_workflow::run::InstanceView;
use serde::{Deserialize, Serialize};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{PageInfo, create};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiActor;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_invoices, create_invoice))
        .routes(routes!(invoice_template))
        .routes(routes!(find_invoice))
        .routes(routes!(resolve_invoice))
        .routes(routes!(invoice_route))
        .routes(routes!(submit_invoice))
        .routes(routes!(invoice_approval))
        .routes(routes!(list_payments, record_payment))
        .routes(routes!(list_invoice_exceptions))
        .routes(routes!(list_tolerances, save_tolerance))
        .routes(routes!(delete_tolerance))
        .routes(routes!(draft_invoice))
        .routes(routes!(list_returns))
        .routes(routes!(return_goods))
        .routes(routes!(list_credit_notes))
        .routes(routes!(find_credit_note))
        .routes(routes!(apply_credit_note))
        .routes(routes!(supplier_payable))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(import_invoices))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvoiceList {
    pub items: Vec<Invoice>,
    pub page: PageInfo,
}

fn page_of(
    items: Vec<Invoice>,
    total: i64,
    limit: Option<i64>,
    offset: Option<i64>,
) -> InvoiceList {
    let (limit, offset) = boh_inventory::paging(limit, offset);
    InvoiceList {
        items,
        page: PageInfo::new(total, limit, offset),
    }
}

/// Supplier invoices in the caller's scope, newest first, with the reason codes of their
/// findings (lines not included).
#[utoipa::path(get, path = "/api/v1/supplier-invoices", tag = "purchasing", params(InvoiceFilter),
    responses((status = 200, body = InvoiceList), (status = 422, body = ErrorBody)))]
async fn list_invoices(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<InvoiceFilter>,
) -> ApiResult<Json<InvoiceList>> {
    let (items, total) = invoice::list(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(page_of(items, total, f.limit, f.offset)))
}

/// Enter a supplier invoice against an approved order of that supplier and match it three
/// ways: per line the order price and quantity, what was received, and what earlier invoices
/// claimed. The answer carries the match per line (ordered, received, invoiced, order price,
/// invoice price, list price) and the findings: `price`, `quantity`, `missing_receipt`,
/// `duplicate_invoice` (these make the invoice `exception`) and `price_list_variance`
/// (shown only). `invoice_key` (or the `Idempotency-Key` header) makes a retry answer the
/// first invoice (200, `replayed: true`); the same key with another invoice is refused
/// (422 `idempotency_key_reused`). Needs `purchasing.invoice.manage` at the order's site.
#[utoipa::path(post, path = "/api/v1/supplier-invoices", tag = "purchasing", request_body = InvoiceInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, description = "Entered and matched", body = Invoice),
        (status = 200, description = "This `invoice_key` was entered before: the first invoice", body = Invoice),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "The order is not approved", body = ErrorBody),
        (status = 422, description = "Every problem named, nothing written; or a reused key", body = ErrorBody)))]
async fn create_invoice(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.contains_key("idempotency-key") {
        return create(
            &state,
            &ctx,
            &headers,
            "/api/v1/supplier-invoices",
            body,
            async |input: InvoiceInput, ctx| invoice::create(&state.platform, &ctx, &input).await,
        )
        .await;
    }
    let input: InvoiceInput = match crate::extract::parse_json(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match invoice::create(&state.platform, &ctx, &input).await {
        Ok(done) => replayable(done.replayed, &done),
        Err(e) => ApiError(e).into_response(),
    }
}

/// 201 for a new record, 200 with `idempotent-replayed: true` for the first one of a key.
fn replayable<T: Serialize>(replayed: bool, v: &T) -> Response {
    let status = if replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut r = (status, Json(v)).into_response();
    if replayed {
        r.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    r
}

/// Query parameters of an invoice file upload.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct InvoiceImportQuery {
    /// The file's name when the body is the raw file (default `invoices.csv`).
    pub file_name: Option<String>,
}

/// Import supplier invoices from a file: raw CSV (UTF-8 or GB18030; `,` `;` or tab) or
/// XLSX, or `multipart/form-data` with a `file` part. One row per invoice line with
/// `invoice_no`, `po_number`, `invoice_date` (first row of each invoice), `line` /
/// `item_code` / `supplier_sku`, `qty`, `unit_price` and `tax` (currency units); see
/// `GET /api/v1/supplier-invoices/template.csv`. All or nothing: every bad row and column
/// is reported at once (422, `fields`: `row N, column X`). The same file again enters
/// nothing and answers the same invoices.
#[utoipa::path(post, path = "/api/v1/supplier-invoices/import", tag = "purchasing",
    params(InvoiceImportQuery),
    request_body(description = "The file",
        content(
            (String = "text/csv"),
            ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (super::imports::UploadForm = "multipart/form-data"),
        )),
    responses((status = 201, body = InvoiceImport),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody),
        (status = 422, description = "Row errors or a refused file", body = ErrorBody)))]
async fn import_invoices(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(q): Query<InvoiceImportQuery>,
    headers: HeaderMap,
    req: Request,
) -> Response {
    if !ctx.actor.has_anywhere(boh_kernel::perm::PURCHASING_INVOICE) {
        return ApiError(boh_platform::PlatformError::Forbidden(
            boh_kernel::perm::PURCHASING_INVOICE,
        ))
        .into_response();
    }
    let sq = super::imports::SubmitQuery {
        dry_run: None,
        sheet: None,
        file_name: q.file_name.clone(),
    };
    let upload = match super::imports::upload_of(
        "supplier_invoices",
        &headers,
        &sq,
        req,
        state.settings.max_upload_bytes,
    )
    .await
    {
        Ok(u) => u,
        Err(r) => return r,
    };
    match invoice_csv::import(
        &state.platform,
        &ctx,
        &upload.bytes,
        &upload.file_name,
        upload.content_type.as_deref(),
    )
    .await
    {
        Ok(done) => (StatusCode::CREATED, Json(done)).into_response(),
        Err(e) => ApiError(e).into_response(),
    }
}

/// The column template of the invoice file (CSV with an example invoice).
#[utoipa::path(get, path = "/api/v1/supplier-invoices/template.csv", tag = "purchasing",
    responses((status = 200, description = "The template", content_type = "text/csv", body = String)))]
async fn invoice_template(ApiActor(_ctx): ApiActor) -> Response {
    crate::export::file_response(
        Format::Csv,
        "supplier-invoices-template",
        invoice_csv::template_csv().into_bytes(),
    )
}

/// One invoice with its match per line, findings, payments and applied credit notes.
#[utoipa::path(get, path = "/api/v1/supplier-invoices/{invoice_id}", tag = "purchasing",
    params(("invoice_id" = String, Path, description = "Invoice id")),
    responses((status = 200, body = Invoice), (status = 404, body = ErrorBody)))]
async fn find_invoice(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Invoice>> {
    Ok(Json(invoice::get(&state.platform, &ctx.actor, &id).await?))
}

/// Resolve an invoice's exceptions: `accept` it with a comment (`purchasing.invoice.accept`;
/// it becomes `matched`, ready for payment approval), or `reject` it (its number is free for
/// a corrected invoice).
#[utoipa::path(post, path = "/api/v1/supplier-invoices/{invoice_id}/resolution", tag = "purchasing",
    params(("invoice_id" = String, Path, description = "Invoice id")), request_body = ResolveInput,
    responses((status = 200, body = Invoice), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn resolve_invoice(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Body(input): Body<ResolveInput>,
) -> ApiResult<Json<Invoice>> {
    Ok(Json(
        invoice::resolve(&state.platform, &ctx, &id, &input).await?,
    ))
}

/// The approval route the invoice would take if submitted now (nothing changes).
#[utoipa::path(get, path = "/api/v1/supplier-invoices/{invoice_id}/route", tag = "purchasing",
    params(("invoice_id" = String, Path, description = "Invoice id")),
    responses((status = 200, body = Route), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn invoice_route(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Route>> {
    Ok(Json(
        invoice::route(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Submit a matched invoice for payment approval through the workflow engine (document
/// type `supplier_invoice`). Nobody approves their own submission.
#[utoipa::path(post, path = "/api/v1/supplier-invoices/{invoice_id}/submit", tag = "purchasing",
    params(("invoice_id" = String, Path, description = "Invoice id")),
    responses((status = 200, body = Invoice), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn submit_invoice(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Invoice>> {
    Ok(Json(invoice::submit(&state.platform, &ctx, &id).await?))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvoiceApproval {
    /// The latest approval for payment, if it was ever submitted.
    pub instance: Option<InstanceView>,
}

/// The invoice's latest payment approval with its steps and decisions.
#[utoipa::path(get, path = "/api/v1/supplier-invoices/{invoice_id}/approval", tag = "purchasing",
    params(("invoice_id" = String, Path, description = "Invoice id")),
    responses((status = 200, body = InvoiceApproval), (status = 404, body = ErrorBody)))]
async fn invoice_approval(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<InvoiceApproval>> {
    let p = &state.platform;
    let inv = invoice::get(p, &ctx.actor, &id).await?;
    // Whoever may see the invoice sees its approval.
    let system = boh_kernel::Actor::system();
    Ok(Json(InvoiceApproval {
        instance: boh_workflow::run::latest_for(p, &system, invoice::DOC_TYPE, &inv.id).await?,
    }))
}

/// The payments of an invoice, oldest first.
#[utoipa::path(get, path = "/api/v1/supplier-invoices/{invoice_id}/payments", tag = "purchasing",
    params(("invoice_id" = String, Path, description = "Invoice id")),
    responses((status = 200, body = Vec<Payment>), (status = 404, body = ErrorBody)))]
async fn list_payments(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Payment>>> {
    Ok(Json(
        payment::list_payments(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Record a payment of an invoice approved for payment (partial or full). More than is
/// still due is refused (409 `overpayment`). `payment_key` makes a retry answer the first
/// payment. Needs `purchasing.payment.record` at the order's site.
#[utoipa::path(post, path = "/api/v1/supplier-invoices/{invoice_id}/payments", tag = "purchasing",
    params(("invoice_id" = String, Path, description = "Invoice id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    request_body = PaymentInput,
    responses((status = 201, body = Payment), (status = 200, description = "The first payment of this `payment_key`", body = Payment),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not approved for payment, or more than is due (`overpayment`)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn record_payment(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.contains_key("idempotency-key") {
        let route = format!("/api/v1/supplier-invoices/{id}/payments");
        return create(
            &state,
            &ctx,
            &headers,
            &route,
            body,
            async |input: PaymentInput, ctx| {
                payment::record(&state.platform, &ctx, &id, &input).await
            },
        )
        .await;
    }
    let input: PaymentInput = match crate::extract::parse_json(&headers, &body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match payment::record(&state.platform, &ctx, &id, &input).await {
        Ok(done) => replayable(done.replayed, &done),
        Err(e) => ApiError(e).into_response(),
    }
}

/// The exceptions queue: invoices whose match found something that blocks payment, newest
/// first; filter by reason. Resolve each with `POST …/resolution`.
#[utoipa::path(get, path = "/api/v1/invoice-exceptions", tag = "purchasing", params(InvoiceFilter),
    responses((status = 200, body = InvoiceList), (status = 422, body = ErrorBody)))]
async fn list_invoice_exceptions(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<InvoiceFilter>,
) -> ApiResult<Json<InvoiceList>> {
    let (items, total) = invoice::exceptions(&state.platform, &ctx.actor, &f).await?;
    Ok(Json(page_of(items, total, f.limit, f.offset)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ToleranceList {
    pub items: Vec<Tolerance>,
}

/// The match tolerances of the caller's company: the company default, per supplier and per
/// category (a supplier's rule wins, then the nearest category's, then the default; without
/// any the match is exact).
#[utoipa::path(get, path = "/api/v1/match-tolerances", tag = "purchasing",
    responses((status = 200, body = ToleranceList), (status = 403, body = ErrorBody)))]
async fn list_tolerances(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
) -> ApiResult<Json<ToleranceList>> {
    Ok(Json(ToleranceList {
        items: tolerance::list(&state.platform, &ctx.actor).await?,
    }))
}

/// Save the tolerance of a scope (no `supplier_id` or `category_id`: the company default),
/// replacing the one it had. Needs `purchasing.invoice.manage` at the company.
#[utoipa::path(post, path = "/api/v1/match-tolerances", tag = "purchasing", request_body = ToleranceInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the save safe to retry")),
    responses((status = 201, body = Tolerance), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn save_tolerance(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(
        &state,
        &ctx,
        &headers,
        "/api/v1/match-tolerances",
        body,
        async |input: ToleranceInput, ctx| tolerance::save(&state.platform, &ctx, &input).await,
    )
    .await
}

/// Remove a tolerance (its lines then match with the next rule that applies).
#[utoipa::path(delete, path = "/api/v1/match-tolerances/{tolerance_id}", tag = "purchasing",
    params(("tolerance_id" = String, Path, description = "Tolerance id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_tolerance(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    tolerance::delete(&state.platform, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InvoiceDraft {
    pub po_id: String,
    pub supplier_id: String,
    pub currency: String,
    /// Per order line: received, invoiced, what is left to invoice at the order price.
    pub lines: Vec<DraftLine>,
}

/// The invoice an order's receipts would justify: per line what was received and not
/// invoiced yet, at the order price (the invoice form starts from it).
#[utoipa::path(get, path = "/api/v1/purchase-orders/{po_id}/invoice-draft", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    responses((status = 200, body = InvoiceDraft), (status = 404, body = ErrorBody)))]
async fn draft_invoice(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<InvoiceDraft>> {
    let (order, lines) = invoice::draft_for(&state.platform, &ctx.actor, &id).await?;
    Ok(Json(InvoiceDraft {
        po_id: order.id,
        supplier_id: order.supplier_id,
        currency: order.currency,
        lines,
    }))
}

/// The returns to the supplier of an order, oldest first, each with its credit note.
#[utoipa::path(get, path = "/api/v1/purchase-orders/{po_id}/returns", tag = "purchasing",
    params(("po_id" = String, Path, description = "Purchase order id")),
    responses((status = 200, body = Vec<SupplierReturn>), (status = 404, body = ErrorBody)))]
async fn list_returns(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<SupplierReturn>>> {
    Ok(Json(
        returns::list_for(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Return goods of a receipt to the supplier: per receipt line (by order line number) the
/// quantity sent back, never more than was accepted less earlier returns, and why. The goods
/// leave stock in a `return` document and a credit note for their order value is issued.
/// `return_key` makes a retry answer the first return. Needs `inventory.move.create` at the
/// site.
#[utoipa::path(post, path = "/api/v1/receipts/{receipt_id}/returns", tag = "purchasing",
    params(("receipt_id" = String, Path, description = "Goods receipt id")), request_body = ReturnInput,
    responses((status = 201, body = SupplierReturn), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not enough stock at a site that forbids negative stock", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn return_goods(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = format!("/api/v1/receipts/{id}/returns");
    create(
        &state,
        &ctx,
        &headers,
        &route,
        body,
        async |input: ReturnInput, ctx| returns::create(&state.platform, &ctx, &id, &input).await,
    )
    .await
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreditNoteList {
    pub items: Vec<CreditNote>,
    pub page: PageInfo,
}

/// Credit notes in the caller's scope, newest first.
#[utoipa::path(get, path = "/api/v1/credit-notes", tag = "purchasing", params(CreditFilter),
    responses((status = 200, body = CreditNoteList)))]
async fn list_credit_notes(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Query(f): Query<CreditFilter>,
) -> ApiResult<Json<CreditNoteList>> {
    let (items, total) = payment::credit_notes(&state.platform, &ctx.actor, &f).await?;
    let (limit, offset) = boh_inventory::paging(f.limit, f.offset);
    Ok(Json(CreditNoteList {
        items,
        page: PageInfo::new(total, limit, offset),
    }))
}

/// One credit note with where it was applied.
#[utoipa::path(get, path = "/api/v1/credit-notes/{credit_note_id}", tag = "purchasing",
    params(("credit_note_id" = String, Path, description = "Credit note id")),
    responses((status = 200, body = CreditNote), (status = 404, body = ErrorBody)))]
async fn find_credit_note(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<CreditNote>> {
    Ok(Json(
        payment::credit_note(&state.platform, &ctx.actor, &id).await?,
    ))
}

/// Apply (part of) a credit note to an invoice of the same supplier approved for payment:
/// the invoice's amount due goes down by it. Needs `purchasing.payment.record` at the
/// invoice's site.
#[utoipa::path(post, path = "/api/v1/credit-notes/{credit_note_id}/applications", tag = "purchasing",
    params(("credit_note_id" = String, Path, description = "Credit note id")), request_body = CreditApplyInput,
    responses((status = 200, body = CreditNote), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn apply_credit_note(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
    Body(input): Body<CreditApplyInput>,
) -> ApiResult<Json<CreditNote>> {
    Ok(Json(
        payment::apply_credit(&state.platform, &ctx, &id, &input).await?,
    ))
}

/// What is owed to a supplier within the caller's scope: due on approved invoices, awaiting
/// approval, open credit notes, and the net.
#[utoipa::path(get, path = "/api/v1/suppliers/{supplier_id}/payable", tag = "purchasing",
    params(("supplier_id" = String, Path, description = "Supplier id")),
    responses((status = 200, body = Payable), (status = 404, body = ErrorBody)))]
async fn supplier_payable(
    State(state): State<AppState>,
    ApiActor(ctx): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Payable>> {
    Ok(Json(
        payment::payable(&state.platform, &ctx.actor, &id).await?,
    ))
}
