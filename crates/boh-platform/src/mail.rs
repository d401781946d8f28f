//! E-mail copies of in-app notifications, sent over SMTP through an outbox.
//!
//! Nothing is sent during a request. [`queue`] adds a `mail_outbox` row in the transaction that
//! writes the notification (when [`PlatformSettings::smtp`](crate::PlatformSettings) is set and
//! the user is active and has an address); the scheduled job [`JOB_KIND`] ([`run_job`], or
//! [`run_now`] directly) sends what is due. A sender claims one row at a time by pushing its
//! `next_attempt_at` past a lease and counting the attempt (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL), so several instances on one database never send a row at the same time, and a
//! sender that dies leaves the row to be claimed again when the lease runs out. The outcome is
//! written only if the row is still the one claimed (same attempt count).
//!
//! Delivery is at least once: a crash between the server's acceptance and the `sent` mark
//! sends the row again. The `Message-ID` is derived from the row id, so such a copy is
//! recognisable. Failed attempts are retried after growing delays ([`RETRY_DELAYS`]); after
//! [`MAX_ATTEMPTS`] the row is `failed` with its last error kept. An address that does not
//! parse fails at once. A transient or connection error ends the run (the server is probably
//! unavailable; the other rows wait for the next run instead of each waiting for a timeout).
//!
//! Headers are built by lettre, which encodes the subject (UTF-8, RFC 2047) and refuses
//! addresses with anything but an address in them; the body is plain UTF-8 text.
//!
//! Modules also send messages of their own through the same outbox with [`queue_message`]
//! (a purchase order to its supplier): a unique key of the module's choosing stands in the
//! `notification_id` column, and files go in `mail_attachments` (a `multipart/mixed`
//! message then carries them).

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use boh_db::{Backend, Row};
use boh_kernel::{new_id, now};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;
use sqlx::AnyConnection;

use crate::jobs::{Job, Progress};
use crate::{Platform, PlatformError, Result};

/// The job kind of the sender (scheduled every minute by the server).
pub const JOB_KIND: &str = "mail.send";

/// Delays before each retry, in seconds; after the last one the row is `failed`.
pub const RETRY_DELAYS: &[i64] = &[60, 300, 900, 3600, 3 * 3600, 6 * 3600];

/// Attempts before a row is `failed`: the first one and one per retry delay.
pub const MAX_ATTEMPTS: i64 = 1 + RETRY_DELAYS.len() as i64;

/// How long a claimed row is left to its sender before another may claim it. Far above what one
/// message can take ([`COMMAND_TIMEOUT`] per SMTP command, [`SEND_TIMEOUT`] overall).
const LEASE_SECS: i64 = 600;
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
const SEND_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest subject kept (the notification's title, on one line).
const SUBJECT_MAX_CHARS: usize = 300;
/// Longest error text kept on a row.
const ERROR_MAX_CHARS: usize = 2000;

/// How the connection to the SMTP server is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    /// Plain text (a relay on the same host or network only).
    None,
    /// Plain connection upgraded with STARTTLS, which the server must offer (port 587).
    StartTls,
    /// TLS from the first byte, "implicit TLS" (port 465).
    Tls,
}

impl SmtpTls {
    /// The usual port of this mode: 25, 587 or 465.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::None => 25,
            SmtpTls::StartTls => 587,
            SmtpTls::Tls => 465,
        }
    }
}

impl FromStr for SmtpTls {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<SmtpTls, String> {
        match s {
            "none" => Ok(SmtpTls::None),
            "starttls" => Ok(SmtpTls::StartTls),
            "tls" => Ok(SmtpTls::Tls),
            other => Err(format!("{other:?}: expected none, starttls or tls")),
        }
    }
}

impl fmt::Display for SmtpTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SmtpTls::None => "none",
            SmtpTls::StartTls => "starttls",
            SmtpTls::Tls => "tls",
        })
    }
}

/// Where and how to send e-mail. `Debug` leaves the password out.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    /// Log in with these when set (the password may be empty).
    pub username: Option<String>,
    pub password: Option<String>,
    /// The `From` of every message, e.g. `BOH <boh@example.com>`.
    pub from: Mailbox,
    /// Where users reach BOH, e.g. `https://boh.example.com`: a notification's relative URL is
    /// appended to it to make the link in the message.
    pub public_url: String,
}

impl fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("from", &self.from.to_string())
            .field("public_url", &self.public_url)
            .finish()
    }
}

/// The link to a notification's page: `public_url` without its trailing `/`, then `url`.
pub fn link(public_url: &str, url: &str) -> String {
    let base = public_url.trim_end_matches('/');
    if url.starts_with('/') {
        format!("{base}{url}")
    } else {
        format!("{base}/{url}")
    }
}

/// A notification to mail.
#[derive(Debug, Clone, Copy)]
pub struct Notice<'a> {
    pub notification_id: &'a str,
    pub user_id: &'a str,
    pub title: &'a str,
    /// The notification's page, relative to the public URL.
    pub url: Option<&'a str>,
}

/// Queue the e-mail copy of a notification in the caller's transaction. Nothing happens (and
/// `false` comes back) when e-mail is off, the user is inactive or has no address, or the
/// notification was queued before.
pub async fn queue(p: &Platform, tx: &mut AnyConnection, n: &Notice<'_>) -> Result<bool> {
    let Some(smtp) = &p.settings.smtp else {
        return Ok(false);
    };
    let Some(user) = sqlx::query("SELECT email, locale FROM users WHERE id = $1 AND active = 1")
        .bind(n.user_id)
        .fetch_optional(&mut *tx)
        .await?
    else {
        return Ok(false);
    };
    let Some(to) = user
        .try_get::<Option<String>, _>("email")?
        .map(|e| e.trim().to_string())
        .filter(|e| !e.is_empty())
    else {
        return Ok(false);
    };
    let locale: String = user.try_get("locale")?;
    let subject = subject_line(n.title);
    let body = body_text(
        &subject,
        n.url.map(|u| link(&smtp.public_url, u)).as_deref(),
        &locale,
    );
    let t = now().micros();
    let inserted = sqlx::query(
        "INSERT INTO mail_outbox (id, notification_id, user_id, to_address, subject, body_text, status, \
         attempts, last_error, created_at, sent_at, next_attempt_at) \
         VALUES ($1,$2,$3,$4,$5,$6,'pending',0,NULL,$7,NULL,$7) ON CONFLICT (notification_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(n.notification_id)
    .bind(n.user_id)
    .bind(&to)
    .bind(&subject)
    .bind(&body)
    .bind(t)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// A file attached to a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub filename: String,
    /// e.g. `application/pdf`, `text/csv; charset=utf-8`.
    pub content_type: String,
    pub content: Vec<u8>,
}

/// A message that is not the copy of a notification.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    /// Unique per message (e.g. `po-send:<po id>:<n>`): a key is queued once.
    pub key: &'a str,
    /// The user on whose behalf the message is sent.
    pub user_id: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub attachments: &'a [Attachment],
}

/// Queue a message with its attachments in the caller's transaction. Answers the outbox row's
/// id, or `None` when e-mail is off or the key was queued before (nothing is written then).
pub async fn queue_message(
    p: &Platform,
    tx: &mut AnyConnection,
    m: &Outgoing<'_>,
) -> Result<Option<String>> {
    if p.settings.smtp.is_none() {
        return Ok(None);
    }
    let id = new_id();
    let t = now().micros();
    let inserted = sqlx::query(
        "INSERT INTO mail_outbox (id, notification_id, user_id, to_address, subject, body_text, status, \
         attempts, last_error, created_at, sent_at, next_attempt_at) \
         VALUES ($1,$2,$3,$4,$5,$6,'pending',0,NULL,$7,NULL,$7) ON CONFLICT (notification_id) DO NOTHING",
    )
    .bind(&id)
    .bind(m.key)
    .bind(m.user_id)
    .bind(m.to.trim())
    .bind(subject_line(m.subject))
    .bind(m.body)
    .bind(t)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted != 1 {
        return Ok(None);
    }
    for (i, a) in m.attachments.iter().enumerate() {
        sqlx::query(
            "INSERT INTO mail_attachments (outbox_id, seq, filename, content_type, content) \
             VALUES ($1,$2,$3,$4,$5)",
        )
        .bind(&id)
        .bind(i as i64 + 1)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(a.content.clone())
        .execute(&mut *tx)
        .await?;
    }
    Ok(Some(id))
}

/// The attachments of an outbox row, in order.
pub async fn attachments(p: &Platform, outbox_id: &str) -> Result<Vec<Attachment>> {
    let rows = sqlx::query(
        "SELECT filename, content_type, content FROM mail_attachments WHERE outbox_id = $1 ORDER BY seq",
    )
    .bind(outbox_id)
    .fetch_all(p.db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Attachment {
                filename: r.try_get("filename")?,
                content_type: r.try_get("content_type")?,
                content: r.try_get("content")?,
            })
        })
        .collect()
}

/// The title on one line: control characters (line breaks included) become spaces.
fn subject_line(title: &str) -> String {
    let one: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SUBJECT_MAX_CHARS)
        .collect();
    let one = one.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.is_empty() {
        "BOH".to_string()
    } else {
        one
    }
}

/// The plain-text body: the title, the link, and a line saying why the message came.
fn body_text(subject: &str, link: Option<&str>, locale: &str) -> String {
    let footer = if locale.starts_with("zh") {
        "这封邮件由 BOH 自动发送，因为这条通知是发给您的；您也可以在 BOH 的通知中查看。"
    } else {
        "BOH sent this message automatically because the notification is for you; it is also \
         among your notifications in BOH."
    };
    let mut body = format!("{subject}\n\n");
    if let Some(l) = link {
        body.push_str(l);
        body.push_str("\n\n");
    }
    body.push_str("-- \n");
    body.push_str(footer);
    body.push('\n');
    body
}

/// What one run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub sent: u64,
    /// Attempts that failed and will be tried again.
    pub retried: u64,
    /// Rows given up on in this run.
    pub failed: u64,
    /// The run ended early at a transient or connection error.
    pub stopped: bool,
}

impl Report {
    fn attempted(&self) -> u64 {
        self.sent + self.retried + self.failed
    }
}

/// Send what is due now, at most 500 messages (what tests and the job call).
pub async fn run_now(p: &Platform) -> Result<Report> {
    send_due(p, 500).await
}

/// The job [`JOB_KIND`]: send what is due in batches, reporting progress (which also keeps the
/// job's lease while a slow server takes its time).
pub async fn run_job(
    p: Platform,
    _job: Job,
    progress: Progress,
) -> std::result::Result<serde_json::Value, String> {
    const BATCH: u64 = 20;
    let mut total = Report::default();
    for _ in 0..25 {
        let r = send_due(&p, BATCH).await.map_err(|e| e.to_string())?;
        total.sent += r.sent;
        total.retried += r.retried;
        total.failed += r.failed;
        total.stopped = r.stopped;
        let done = i64::try_from(total.attempted()).unwrap_or(i64::MAX);
        let _ = progress.set(done, 0, None).await;
        if r.stopped || r.attempted() < BATCH {
            break;
        }
    }
    serde_json::to_value(total).map_err(|e| e.to_string())
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Claim and send up to `limit` due rows, one at a time.
pub async fn send_due(p: &Platform, limit: u64) -> Result<Report> {
    let mut report = Report::default();
    let Some(smtp) = p.settings.smtp.clone() else {
        return Ok(report);
    };
    // Building the transport opens no connection; the first message does.
    let transport = connect(&smtp).map_err(|e| PlatformError::Internal(anyhow::anyhow!(e)))?;
    while report.attempted() < limit {
        let Some(mut row) = claim(p).await? else {
            break;
        };
        row.attachments = attachments(p, &row.id).await?;
        let outcome = match message(&smtp.from, &row) {
            Ok(msg) => send(&transport, msg, row.attempts).await,
            Err(error) => Outcome::NotSent {
                error,
                retry_at: None,
                stop: false,
            },
        };
        let stop = match &outcome {
            Outcome::Sent => {
                report.sent += 1;
                false
            }
            Outcome::NotSent {
                error,
                retry_at,
                stop,
            } => {
                if retry_at.is_some() {
                    tracing::warn!(outbox = %row.id, attempts = row.attempts, "e-mail not sent, will retry: {error}");
                    report.retried += 1;
                } else {
                    tracing::warn!(outbox = %row.id, attempts = row.attempts, "e-mail not sent, giving up: {error}");
                    report.failed += 1;
                }
                *stop
            }
        };
        finish(p, &row, &outcome).await?;
        if stop {
            report.stopped = true;
            break;
        }
    }
    transport.shutdown().await;
    Ok(report)
}

/// Whether these settings can make a transport (TLS needs a host name or address); checked
/// at start-up so a mistake shows before the first message.
pub fn check(s: &SmtpSettings) -> std::result::Result<(), String> {
    connect_builder(s).map(|_| ())
}

struct Claimed {
    id: String,
    to_address: String,
    subject: String,
    body_text: String,
    /// Attempts including this one; the row is still ours while it has this count.
    attempts: i64,
    attachments: Vec<Attachment>,
}

/// Take the next due row: push its next attempt past the lease and count the attempt.
async fn claim(p: &Platform) -> Result<Option<Claimed>> {
    let lock = if p.db.backend() == Backend::Postgres {
        " FOR UPDATE SKIP LOCKED"
    } else {
        ""
    };
    let sql = format!(
        "UPDATE mail_outbox SET next_attempt_at = $1, attempts = attempts + 1 \
         WHERE id = (SELECT id FROM mail_outbox WHERE status = 'pending' AND next_attempt_at <= $2 \
         ORDER BY next_attempt_at, id LIMIT 1{lock}) \
         RETURNING id, to_address, subject, body_text, attempts"
    );
    let t = now().micros();
    crate::tx!(p.db, tx, {
        let row = sqlx::query(boh_db::AssertSqlSafe(sql.clone()))
            .bind(t + LEASE_SECS * 1_000_000)
            .bind(t)
            .fetch_optional(&mut *tx)
            .await?;
        row.map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                to_address: r.try_get("to_address")?,
                subject: r.try_get("subject")?,
                body_text: r.try_get("body_text")?,
                attempts: r.try_get("attempts")?,
                attachments: Vec::new(),
            })
        })
        .transpose()
    })
}

/// The message of a row; an error names an address that can never work.
fn message(from: &Mailbox, row: &Claimed) -> std::result::Result<Message, String> {
    let to: Address = row
        .to_address
        .parse()
        .map_err(|e| format!("invalid recipient address {:?}: {e}", row.to_address))?;
    let builder = Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, to))
        .subject(row.subject.as_str())
        .message_id(Some(format!("<{}@{}>", row.id, from.email.domain())))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".to_string(),
        ));
    let text = SinglePart::plain(row.body_text.clone());
    let built = if row.attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for a in &row.attachments {
            let ct = ContentType::parse(&a.content_type)
                .map_err(|e| format!("content type {:?}: {e}", a.content_type))?;
            parts = parts.singlepart(
                lettre::message::Attachment::new(a.filename.clone()).body(a.content.clone(), ct),
            );
        }
        builder.multipart(parts)
    };
    built.map_err(|e| format!("building the message: {e}"))
}

fn connect_builder(
    s: &SmtpSettings,
) -> std::result::Result<lettre::transport::smtp::AsyncSmtpTransportBuilder, String> {
    let params =
        || TlsParameters::new(s.host.clone()).map_err(|e| format!("TLS for {:?}: {e}", s.host));
    let tls = match s.tls {
        SmtpTls::None => Tls::None,
        SmtpTls::StartTls => Tls::Required(params()?),
        SmtpTls::Tls => Tls::Wrapper(params()?),
    };
    let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
        .port(s.port)
        .tls(tls)
        .timeout(Some(COMMAND_TIMEOUT));
    if let Some(user) = &s.username {
        b = b.credentials(Credentials::new(
            user.clone(),
            s.password.clone().unwrap_or_default(),
        ));
    }
    Ok(b)
}

fn connect(s: &SmtpSettings) -> std::result::Result<Transport, String> {
    let t: Transport = connect_builder(s)?.build();
    Ok(t)
}

enum Outcome {
    Sent,
    NotSent {
        error: String,
        /// When to try again; `None` gives up (`failed`).
        retry_at: Option<i64>,
        /// The error is not about this message (no connection, a timeout, the server
        /// unavailable), so the run ends.
        stop: bool,
    },
}

async fn send(t: &Transport, msg: Message, attempts: i64) -> Outcome {
    let (error, stop) = match tokio::time::timeout(SEND_TIMEOUT, t.send(msg)).await {
        Ok(Ok(_)) => return Outcome::Sent,
        Ok(Err(e)) => (e.to_string(), !e.is_permanent()),
        Err(_) => (
            format!("no answer within {} s", SEND_TIMEOUT.as_secs()),
            true,
        ),
    };
    // After attempt n the delay is RETRY_DELAYS[n - 1]; past the last one, give up.
    let retry_at = usize::try_from(attempts - 1)
        .ok()
        .and_then(|i| RETRY_DELAYS.get(i))
        .map(|d| now().micros() + d * 1_000_000);
    Outcome::NotSent {
        error,
        retry_at,
        stop,
    }
}

/// Record the outcome, if the row is still the one this sender claimed.
async fn finish(p: &Platform, row: &Claimed, outcome: &Outcome) -> Result<()> {
    let t = now().micros();
    let clip = |e: &str| e.chars().take(ERROR_MAX_CHARS).collect::<String>();
    let (status, sent_at, error, next_at) = match outcome {
        Outcome::Sent => ("sent", Some(t), None, t),
        Outcome::NotSent {
            error, retry_at, ..
        } => (
            if retry_at.is_some() {
                "pending"
            } else {
                "failed"
            },
            None,
            Some(clip(error)),
            retry_at.unwrap_or(t),
        ),
    };
    crate::tx!(p.db, tx, {
        sqlx::query(
            "UPDATE mail_outbox SET status = $1, sent_at = $2, last_error = $3, next_attempt_at = $4 \
             WHERE id = $5 AND attempts = $6 AND status = 'pending'",
        )
        .bind(status)
        .bind(sent_at)
        .bind(error.as_deref())
        .bind(next_at)
        .bind(&row.id)
        .bind(row.attempts)
        .execute(&mut *tx)
        .await?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(subject: &str, to: &str) -> Claimed {
        Claimed {
            id: "0190-abc".into(),
            to_address: to.into(),
            subject: subject.into(),
            body_text: body_text(
                subject,
                Some("https://boh.example.cn/purchasing/orders/1"),
                "zh-CN",
            ),
            attempts: 1,
            attachments: Vec::new(),
        }
    }

    fn from() -> Mailbox {
        "BOH 通知 <boh@example.cn>".parse().expect("a mailbox")
    }

    #[test]
    fn links_join_base_and_path_with_one_slash() {
        assert_eq!(
            link("https://boh.example/", "/a/b"),
            "https://boh.example/a/b"
        );
        assert_eq!(link("https://boh.example", "/a"), "https://boh.example/a");
        assert_eq!(link("https://boh.example", "a"), "https://boh.example/a");
    }

    #[test]
    fn subjects_are_one_line() {
        assert_eq!(
            subject_line("待审批：\r\nBcc: evil@example.com\tx"),
            "待审批： Bcc: evil@example.com x"
        );
        assert_eq!(subject_line(" \n "), "BOH");
        assert_eq!(subject_line(&"长".repeat(400)).chars().count(), 300);
    }

    #[test]
    fn a_chinese_message_is_encoded_and_keeps_its_headers() {
        let subject = subject_line("审批请求：采购单 PO-1 · 面粉厂");
        let msg = message(&from(), &row(&subject, "li.lei@example.cn")).expect("a message");
        let raw = String::from_utf8(msg.formatted()).expect("7-bit text");
        assert!(raw.is_ascii(), "{raw}");
        let head = raw.split("\r\n\r\n").next().unwrap_or_default();
        assert!(head.contains("Subject: =?utf-8?b?"), "{head}");
        assert!(head.contains("To: li.lei@example.cn"), "{head}");
        assert!(head.contains("Message-ID: <0190-abc@example.cn>"), "{head}");
        assert!(head.contains("Auto-Submitted: auto-generated"), "{head}");
        assert!(head.contains("text/plain; charset=utf-8"), "{head}");
        assert_eq!(
            msg.envelope()
                .to()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["li.lei@example.cn"]
        );
    }

    #[test]
    fn attachments_make_a_mixed_message() {
        let mut r = row("采购订单 PO-1", "orders@mill.example.cn");
        r.attachments = vec![
            Attachment {
                filename: "PO-1.pdf".into(),
                content_type: "application/pdf".into(),
                content: b"%PDF-1.7 test".to_vec(),
            },
            Attachment {
                filename: "PO-1.csv".into(),
                content_type: "text/csv; charset=utf-8".into(),
                content: "sku,qty\nA,1\n".as_bytes().to_vec(),
            },
        ];
        let raw = String::from_utf8(message(&from(), &r).expect("a message").formatted())
            .expect("7-bit text");
        assert!(raw.contains("multipart/mixed"), "{raw}");
        assert!(raw.contains("filename=\"PO-1.pdf\""), "{raw}");
        assert!(raw.contains("filename=\"PO-1.csv\""), "{raw}");
        assert!(raw.contains("application/pdf"), "{raw}");
        // A bad content type is an error of the row, not a panic.
        r.attachments[0].content_type = "not a type".into();
        assert!(message(&from(), &r).is_err());
    }

    #[test]
    fn a_subject_cannot_add_headers() {
        // Even without `subject_line`, lettre encodes line breaks instead of writing them.
        let msg = message(
            &from(),
            &row("Hi\r\nBcc: evil@example.com\r\nX-Evil: 1", "a@example.cn"),
        )
        .expect("a message");
        let raw = String::from_utf8(msg.formatted()).expect("7-bit text");
        let head = raw.split("\r\n\r\n").next().unwrap_or_default();
        assert!(
            !head
                .lines()
                .any(|l| l.starts_with("Bcc:") || l.starts_with("X-Evil:")),
            "{head}"
        );
        assert_eq!(msg.envelope().to().len(), 1);
    }

    #[test]
    fn bad_addresses_fail_without_sending() {
        for to in [
            "not an address",
            "a@b.cn\r\nRCPT TO:<x@y.cn>",
            "a@b.cn, c@d.cn",
        ] {
            let e = message(&from(), &row("x", to)).err();
            assert!(
                e.as_deref()
                    .is_some_and(|e| e.starts_with("invalid recipient")),
                "{to:?}: {e:?}"
            );
        }
    }

    #[test]
    fn retries_then_gives_up() {
        assert_eq!(MAX_ATTEMPTS, 7);
        assert_eq!("starttls".parse::<SmtpTls>(), Ok(SmtpTls::StartTls));
        assert!("ssl".parse::<SmtpTls>().is_err());
        assert_eq!(SmtpTls::Tls.default_port(), 465);
    }

    #[test]
    fn debug_hides_the_password() {
        let s = SmtpSettings {
            host: "smtp.example.cn".into(),
            port: 587,
            tls: SmtpTls::StartTls,
            username: Some("boh".into()),
            password: Some("s3cret-pw".into()),
            from: from(),
            public_url: "https://boh.example.cn".into(),
        };
        let d = format!("{s:?}");
        assert!(!d.contains("s3cret-pw") && d.contains("<hidden>"), "{d}");
    }
}
