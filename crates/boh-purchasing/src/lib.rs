//! Procurement: purchase orders to suppliers, approved through the workflow engine.
//!
//! Invariants:
//! - A purchase order belongs to one supplier and one receiving site; the actor needs
//!   `purchasing.order.create` there to create, change or submit it, and `purchasing.read`
//!   (or the create permission) to see it. Outside that scope it does not exist (404).
//! - Lines are in the supplier's pack units (an item the supplier does not sell, or a unit it
//!   does not sell it in, is refused and named), with exact quantities and integer money.
//! - `status` is never taken from a request: it follows the workflow (`draft` →
//!   `pending_approval` → `approved` / `rejected`; `cancelled` from any open state). A change
//!   to a submitted or approved order that changes what approval looked at sends it back.
//! - Requisitions (store orders) come from a site's order guide or by hand; submitted,
//!   their warehouse lines are transfer requests in inventory and their supplier lines are
//!   consolidated into purchase orders per supplier, delivery day and site ([`consolidate`]).
//! - An approved order is e-mailed to its supplier with its PDF and CSV ([`send`]).

pub mod consolidate;
pub mod document;
pub mod guide;
pub mod invoice;
pub mod invoice_csv;
pub mod payment;
pub mod po;
pub mod receipt;
pub mod requisition;
pub mod returns;
pub mod send;
pub mod tolerance;

/// A quantity sent as a decimal string or a JSON number; None when it is neither (the caller
/// names the field).
pub(crate) fn qty_of(v: &serde_json::Value) -> Option<boh_kernel::Qty> {
    match v {
        serde_json::Value::String(s) => boh_kernel::Qty::parse(s.trim()).ok(),
        serde_json::Value::Number(n) => boh_kernel::Qty::parse(&n.to_string()).ok(),
        _ => None,
    }
}

/// The workflow document type of purchase orders, with the facts its conditions may test.
pub fn doc_type() -> boh_workflow::DocType {
    boh_workflow::DocType {
        code: po::DOC_TYPE,
        label_en: "Purchase order",
        label_zh: "采购订单",
        events: &["submit"],
        schema: boh_workflow::base_schema()
            .field(
                "amount",
                boh_expr::Type::Money { scale: 2 },
                "order total in the supplier's currency (e.g. 5000.00)",
            )
            .field("supplier", boh_expr::Type::Text, "supplier code")
            .field(
                "categories",
                boh_expr::Type::TextList,
                "category codes of the ordered items",
            )
            .field(
                "items",
                boh_expr::Type::TextList,
                "codes of the ordered items",
            )
            .field("lines", boh_expr::Type::Int, "number of lines")
            .field(
                "location",
                boh_expr::Type::Text,
                "code of the receiving site",
            ),
        url: |id| format!("/purchasing/orders/{id}"),
        on_finished: Some(std::sync::Arc::new(|tx, ctx, f| {
            Box::pin(po::on_finished(tx, ctx, f))
        })),
    }
}

/// The workflow document type of supplier invoices (approval for payment).
pub fn invoice_doc_type() -> boh_workflow::DocType {
    boh_workflow::DocType {
        code: invoice::DOC_TYPE,
        label_en: "Supplier invoice",
        label_zh: "供应商发票",
        events: &["submit"],
        schema: boh_workflow::base_schema()
            .field(
                "amount",
                boh_expr::Type::Money { scale: 2 },
                "invoice total with tax in the supplier's currency",
            )
            .field("supplier", boh_expr::Type::Text, "supplier code")
            .field(
                "location",
                boh_expr::Type::Text,
                "code of the receiving site of the order",
            )
            .field(
                "has_exceptions",
                boh_expr::Type::Bool,
                "the match found exceptions that someone accepted",
            ),
        url: |id| format!("/purchasing/invoices/{id}"),
        on_finished: Some(std::sync::Arc::new(|tx, ctx, f| {
            Box::pin(invoice::on_finished(tx, ctx, f))
        })),
    }
}

/// Register what this module adds to the platform (its workflow document types).
pub fn register(p: &boh_platform::Platform) {
    boh_workflow::register(p, doc_type());
    boh_workflow::register(p, invoice_doc_type());
}
