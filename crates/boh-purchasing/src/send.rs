//! Sending an approved purchase order to its supplier: an e-mail to the supplier's address
//! with the order as PDF and CSV attached, through the mail outbox
//! ([`boh_platform::mail::queue_message`]; nothing is sent during a request).
//!
//! The approval queues the job [`JOB_KIND`] in the deciding transaction; the job sends once per
//! approval (`po_sends.instance_id` is unique per order), so a retried job sends nothing
//! twice. "Send again" ([`send`]) sends the order as it is now. Every send is a `po_sends`
//! row (`seq` counts an order's sends; the outbox key is `po-send:<order id>:<seq>`), a `sent`
//! entry in the order's history, an audit row and a `purchasing.po.sent` event, in one
//! transaction. When the supplier has no address or e-mail is off, "send again" is refused
//! with the reason, and the automatic send records why nothing went out (`send_skipped`).

use boh_db::{Backend, Row};
use boh_kernel::{Instant, id::new_id, now, perm};
use boh_platform::jobs::{Job, Progress};
use boh_platform::mail::{Attachment, Outgoing};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, audit, events, tx};
use serde::Serialize;
use sqlx::AnyConnection;

use crate::document::{self, OrderDocument};
use crate::po::{self, PurchaseOrder, status};

/// The job that e-mails an order after its approval.
pub const JOB_KIND: &str = "purchasing.po.send";

/// One send of an order.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Sent {
    pub po_id: String,
    /// 1 for the first send of the order, then 2, …
    pub seq: i64,
    pub to_address: String,
    /// The attached files.
    pub files: Vec<String>,
    /// False when this approval had sent the order already (nothing new queued).
    pub queued: bool,
    pub at: String,
}

/// Queue the automatic send of an approved order (inside the approving transaction).
pub(crate) async fn after_approval(
    tx: &mut AnyConnection,
    po_id: &str,
    instance_id: &str,
    path: Option<&str>,
) -> Result<()> {
    boh_platform::jobs::enqueue_tx(
        tx,
        JOB_KIND,
        &serde_json::json!({"po_id": po_id, "instance_id": instance_id}),
        path,
        None,
    )
    .await?;
    Ok(())
}

/// "Send again": e-mail the order (approved or partly received) to the supplier now.
pub async fn send(p: &Platform, ctx: &Ctx, po_id: &str) -> Result<Sent> {
    let order = po::get(p, &ctx.actor, po_id).await?;
    let site = boh_platform::org::fetch(p, &order.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    if !ctx.actor.allows(perm::PURCHASING_ORDER, &site.path) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_ORDER));
    }
    if order.status != status::APPROVED && order.status != status::PARTIAL {
        return Err(PlatformError::conflict(
            "status",
            format!(
                "order {} is {}; approved orders are sent to the supplier",
                order.number, order.status
            ),
        ));
    }
    let doc = document::of_order(p, order).await?;
    deliver(p, ctx, &doc, &ctx.actor.user_id, None, "").await
}

/// The job [`JOB_KIND`]: send the order its approval approved (once).
pub async fn run_job(
    p: Platform,
    job: Job,
    _progress: Progress,
) -> std::result::Result<serde_json::Value, String> {
    let field = |k: &str| {
        job.payload
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("payload without {k}"))
    };
    let (po_id, instance_id) = (field("po_id")?, field("instance_id")?);
    let order = po::get(&p, &boh_kernel::Actor::system(), &po_id)
        .await
        .map_err(|e| e.to_string())?;
    if order.status != status::APPROVED && order.status != status::PARTIAL {
        // Changed or cancelled since its approval: that approval no longer stands.
        return Ok(serde_json::json!({"skipped": format!("order is {}", order.status)}));
    }
    let by = order.created_by.clone();
    let doc = document::of_order(&p, order)
        .await
        .map_err(|e| e.to_string())?;
    match deliver(
        &p,
        &Ctx::system(),
        &doc,
        &by,
        Some(&instance_id),
        "automatically after approval · ",
    )
    .await
    {
        Ok(s) => serde_json::to_value(s).map_err(|e| e.to_string()),
        Err(PlatformError::Refused { message, .. }) => {
            tx!(p.db, tx, {
                boh_workflow::run::record(
                    tx,
                    &by,
                    po::DOC_TYPE,
                    &po_id,
                    "send_skipped",
                    Some(&message),
                )
                .await?;
                Ok(())
            })
            .map_err(|e| e.to_string())?;
            Ok(serde_json::json!({"skipped": message}))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// The supplier's address, or why the order cannot be e-mailed.
fn address(p: &Platform, doc: &OrderDocument) -> Result<String> {
    if p.settings.smtp.is_none() {
        return Err(PlatformError::refused(
            "mail_not_configured",
            "e-mail is not configured on this server; download the PDF or CSV and send it yourself",
        ));
    }
    match doc
        .supplier
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Ok(e.to_string()),
        None => Err(PlatformError::Refused {
            code: "supplier_has_no_email",
            message: format!(
                "supplier {} has no e-mail address; add one to the supplier",
                doc.supplier.code
            ),
            fields: vec![FieldError::new("supplier.email", "required to send orders")],
        }),
    }
}

fn subject(doc: &OrderDocument) -> String {
    let company = doc
        .company
        .as_ref()
        .map(|c| format!(" · {}", c.name_zh))
        .unwrap_or_default();
    format!("采购订单 Purchase order {}{company}", doc.po.number)
}

fn body(doc: &OrderDocument) -> String {
    let po: &PurchaseOrder = &doc.po;
    let (zh, en) = doc
        .company
        .as_ref()
        .map(|c| (c.name_zh.clone(), c.name_en.clone()))
        .unwrap_or_default();
    let addr = doc.site.address.clone().unwrap_or_default();
    let total = boh_kernel::qty::money_text(po.total_minor);
    format!(
        "{supplier_zh}：\n\n附件是{zh}的采购订单 {number}（PDF 和 CSV）。\n送货日期：{date}\n送货地点：{site_zh} {addr}\n合计：{total} {cur}\n\n\
         Dear {supplier_en},\n\nAttached is purchase order {number} from {en} (PDF and CSV).\n\
         Delivery date: {date}\nDeliver to: {site_en} {addr}\nTotal: {total} {cur}\n\n-- \n\
         BOH 自动发送 / sent automatically by BOH for {buyer}\n",
        supplier_zh = doc.supplier.name_zh,
        supplier_en = doc.supplier.name_en,
        number = po.number,
        date = po.delivery_date,
        site_zh = doc.site.name_zh,
        site_en = doc.site.name_en,
        cur = po.currency,
        buyer = doc.buyer,
    )
}

/// Queue the e-mail, record the send (seq, history, audit, event), in one transaction.
async fn deliver(
    p: &Platform,
    ctx: &Ctx,
    doc: &OrderDocument,
    on_behalf: &str,
    instance: Option<&str>,
    how: &str,
) -> Result<Sent> {
    let to = address(p, doc)?;
    let files = vec![doc.pdf_name(), doc.csv_name()];
    let attachments = vec![
        Attachment {
            filename: doc.pdf_name(),
            content_type: "application/pdf".into(),
            content: document::pdf(doc),
        },
        Attachment {
            filename: doc.csv_name(),
            content_type: "text/csv; charset=utf-8".into(),
            content: document::csv(doc)?,
        },
    ];
    let subject = subject(doc);
    let body = body(doc);
    let po_id = doc.po.id.clone();
    let path = doc.site.path.clone();
    let lock = if p.db.backend() == Backend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    tx!(p.db, tx, {
        if let Some(inst) = instance
            && let Some(r) = sqlx::query(
                "SELECT seq, to_address, created_at FROM po_sends WHERE po_id = $1 AND instance_id = $2",
            )
            .bind(&po_id)
            .bind(inst)
            .fetch_optional(&mut *tx)
            .await?
        {
            return Ok(Sent {
                po_id: po_id.clone(),
                seq: r.try_get("seq")?,
                to_address: r.try_get("to_address")?,
                files: files.clone(),
                queued: false,
                at: Instant(r.try_get("created_at")?).rfc3339(),
            });
        }
        // One order's sends are numbered in turn (the order row is locked on PostgreSQL; SQLite
        // writers are serial).
        sqlx::query(boh_db::AssertSqlSafe(format!(
            "SELECT id FROM purchase_orders WHERE id = $1{lock}"
        )))
        .bind(&po_id)
        .fetch_one(&mut *tx)
        .await?;
        let seq: i64 = sqlx::query(
            "SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) + 1 AS n FROM po_sends WHERE po_id = $1",
        )
        .bind(&po_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let key = format!("po-send:{po_id}:{seq}");
        let outbox = boh_platform::mail::queue_message(
            p,
            tx,
            &Outgoing {
                key: &key,
                user_id: on_behalf,
                to: &to,
                subject: &subject,
                body: &body,
                attachments: &attachments,
            },
        )
        .await?;
        let t = now().micros();
        sqlx::query(
            "INSERT INTO po_sends (id, po_id, seq, instance_id, to_address, outbox_id, sent_by, created_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        )
        .bind(new_id())
        .bind(&po_id)
        .bind(seq)
        .bind(instance)
        .bind(&to)
        .bind(outbox.as_deref())
        .bind(on_behalf)
        .bind(t)
        .execute(&mut *tx)
        .await?;
        let comment = format!("{how}#{seq} to {to}: {}", files.join(", "));
        boh_workflow::run::record(tx, on_behalf, po::DOC_TYPE, &po_id, "sent", Some(&comment))
            .await?;
        audit::append(
            tx,
            ctx,
            audit::Change {
                action: "purchasing.po.send",
                entity_type: "purchase_order",
                entity_id: &po_id,
                org_path: Some(&path),
                before: None,
                after: Some(serde_json::json!({"seq": seq, "to": to, "files": files})),
            },
        )
        .await?;
        events::emit(
            tx,
            "purchasing.po.sent",
            Some(&path),
            &serde_json::json!({"po_id": po_id, "seq": seq, "to": to}),
        )
        .await?;
        Ok(Sent {
            po_id: po_id.clone(),
            seq,
            to_address: to.clone(),
            files: files.clone(),
            queued: outbox.is_some(),
            at: Instant(t).rfc3339(),
        })
    })
}
