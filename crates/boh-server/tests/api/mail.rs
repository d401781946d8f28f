//! E-mail copies of notifications: a notification of the real approval flow queues one message
//! in its own transaction (nothing is sent during the request), the sender job delivers it to
//! an SMTP server with the notification's title as subject and a link to its page, and running
//! it again sends nothing new; while the server is down the message is retried with its error
//! kept, until it is sent or given up; an address that cannot work fails at once; two senders
//! on one database (two instances) send each message once; without SMTP settings nothing is
//! queued.

use boh_platform::mail::{self, MAX_ATTEMPTS, Notice, SmtpSettings, SmtpTls};
use serde_json::json;

use crate::common::smtp::SmtpSink;
use crate::common::{Backend, TestApp, spawn_app_with};
use crate::workflow::{Fixture, decide, define, fixture, inbox, order, small_and_large};

both!(notifications_are_mailed_once, backend);
both!(mail_is_retried_while_the_server_is_down, backend);
both!(two_senders_send_each_message_once, backend);
both!(without_smtp_nothing_is_queued);

const PUBLIC_URL: &str = "https://boh.example.cn/";

/// The app with e-mail through the sink (plain SMTP on loopback).
async fn mailing_app(backend: Backend, sink: &SmtpSink) -> TestApp {
    let port = sink.port();
    spawn_app_with(backend, |s| {
        s.platform.smtp = Some(SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            tls: SmtpTls::None,
            username: None,
            password: None,
            from: "BOH 通知 <boh@example.cn>".parse().expect("a mailbox"),
            public_url: PUBLIC_URL.into(),
        })
    })
    .await
}

/// A small order by the S001 manager, submitted: region.east is asked to approve it.
async fn submitted_order(app: &TestApp, f: &Fixture, manager: &str) -> String {
    let po = order(app, manager, f, "5").await;
    let id = po["id"].as_str().expect("an id").to_string();
    app.post_empty(&format!("/api/v1/purchase-orders/{id}/submit"), manager)
        .await
        .assert_status(200);
    id
}

async fn set_email(app: &TestApp, username: &str, email: &str) {
    let n = sqlx::query("UPDATE users SET email = $1 WHERE username = $2")
        .bind(email)
        .bind(username)
        .execute(app.pool())
        .await
        .expect("setting an e-mail address")
        .rows_affected();
    assert_eq!(n, 1, "{username}");
}

/// (status, attempts, last_error) of the outbox row of the user's latest notification.
async fn outbox_row(app: &TestApp, username: &str) -> (String, i64, Option<String>) {
    let r = sqlx::query(
        "SELECT o.status, o.attempts, o.last_error FROM mail_outbox o JOIN users u ON u.id = o.user_id \
         WHERE u.username = $1 ORDER BY o.created_at DESC, o.id DESC LIMIT 1",
    )
    .bind(username)
    .fetch_one(app.pool())
    .await
    .expect("an outbox row");
    use boh_db::Row;
    (
        r.get("status"),
        r.get("attempts"),
        r.get::<Option<String>, _>("last_error"),
    )
}

async fn make_due(app: &TestApp) {
    app.exec("UPDATE mail_outbox SET next_attempt_at = 0 WHERE status = 'pending'")
        .await;
}

async fn run(app: &TestApp) -> mail::Report {
    mail::run_now(&app.platform).await.expect("sending mail")
}

async fn notifications_are_mailed_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = mailing_app(backend, &sink).await;
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM job_schedules WHERE name = 'mail.send'")
            .await,
        1,
        "the sender runs every minute while e-mail is on"
    );
    let f = fixture(&app).await;
    let [small, _] = small_and_large();
    define(&app, &f.admin, small).await;
    set_email(&app, "region.east", "li.lei@example.cn").await;
    let manager = app.login_token("manager.s001").await;
    let id = submitted_order(&app, &f, &manager).await;

    // Queued by the request, sent by nobody yet.
    assert_eq!(app.count("mail_outbox").await, 1);
    assert_eq!(sink.connections(), 0);
    let title = app
        .scalar_text("SELECT title FROM notifications WHERE kind = 'approval.requested'")
        .await;
    assert!(
        // In the approver's language (region.east reads Chinese).
        title.starts_with("待审批：") && title.contains("PO-"),
        "{title}"
    );

    let r = run(&app).await;
    assert_eq!(
        r,
        mail::Report {
            sent: 1,
            ..Default::default()
        }
    );
    let got = sink.received();
    assert_eq!(got.len(), 1);
    let m = &got[0];
    assert_eq!(m.mail_from, "boh@example.cn");
    assert_eq!(m.rcpt_to, ["li.lei@example.cn"]);
    assert_eq!(m.header("To").as_deref(), Some("li.lei@example.cn"));
    assert_eq!(m.subject(), title);
    // Encoded words, not raw UTF-8, in the header.
    assert!(
        m.header("Subject")
            .is_some_and(|s| s.is_ascii() && s.contains("=?utf-8?b?")),
        "{:?}",
        m.header("Subject")
    );
    let from = m.header("From").unwrap_or_default();
    assert!(from.ends_with("<boh@example.cn>"), "{from}");
    assert!(
        m.header("Content-Type")
            .is_some_and(|c| c.starts_with("text/plain; charset=utf-8")),
        "{:?}",
        m.header("Content-Type")
    );
    assert_eq!(
        m.header("Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    let link = format!("https://boh.example.cn/purchasing/orders/{id}");
    let text = m.text();
    assert!(text.starts_with(&format!("{title}\n\n{link}\n")), "{text}");
    assert_eq!(
        outbox_row(&app, "region.east").await,
        ("sent".to_string(), 1, None)
    );
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NOT NULL")
            .await,
        1
    );

    // Again, directly and as the scheduled job: nothing new.
    assert_eq!(run(&app).await, mail::Report::default());
    boh_platform::jobs::enqueue(&app.platform, mail::JOB_KIND, &json!({}), None, None)
        .await
        .expect("enqueueing the sender");
    app.drain().await;
    assert_eq!(
        app.scalar_text("SELECT status FROM jobs WHERE kind = 'mail.send'")
            .await,
        "succeeded"
    );
    assert_eq!(sink.received().len(), 1);

    // The requester has no address: the approval notifies them in-app only.
    let region = app.login_token("region.east").await;
    let task = inbox(&app, &region).await[0]["task_id"]
        .as_str()
        .expect("a task")
        .to_string();
    decide(&app, &region, &task, json!({"decision": "approve"}))
        .await
        .assert_status(200);
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM notifications WHERE kind = 'approval.approved'")
            .await,
        1
    );
    assert_eq!(app.count("mail_outbox").await, 1);
    assert_eq!(run(&app).await, mail::Report::default());
    assert_eq!(sink.received().len(), 1);
}

async fn mail_is_retried_while_the_server_is_down(backend: Backend) {
    let sink = SmtpSink::start().await;
    sink.set_down(true);
    let app = mailing_app(backend, &sink).await;
    let f = fixture(&app).await;
    let [small, _] = small_and_large();
    define(&app, &f.admin, small).await;
    set_email(&app, "region.east", "li.lei@example.cn").await;
    set_email(&app, "manager.s001", "wang.fang@example.cn").await;
    let manager = app.login_token("manager.s001").await;
    submitted_order(&app, &f, &manager).await;

    // The server refuses: the row stays pending with the server's answer, due later.
    let r = run(&app).await;
    assert_eq!((r.sent, r.retried, r.failed, r.stopped), (0, 1, 0, true));
    let (status, attempts, error) = outbox_row(&app, "region.east").await;
    assert_eq!((status.as_str(), attempts), ("pending", 1));
    assert!(
        error.as_deref().is_some_and(|e| e.contains("421")),
        "{error:?}"
    );
    assert!(
        app.scalar_i64("SELECT next_attempt_at FROM mail_outbox")
            .await
            > boh_kernel::now().micros() + 50_000_000,
        "the next attempt waits about a minute"
    );
    // Not due yet: no attempt.
    let connections = sink.connections();
    assert_eq!(run(&app).await, mail::Report::default());
    assert_eq!(sink.connections(), connections);
    assert_eq!(outbox_row(&app, "region.east").await.1, 1);

    // Due, and the server is back: sent, the error cleared.
    sink.set_down(false);
    make_due(&app).await;
    assert_eq!(run(&app).await.sent, 1);
    assert_eq!(
        outbox_row(&app, "region.east").await,
        ("sent".to_string(), 2, None)
    );
    assert_eq!(sink.received().len(), 1);
    assert_eq!(sink.received()[0].rcpt_to, ["li.lei@example.cn"]);

    // A server that stays down: retried until the last attempt, then failed, error kept.
    sink.set_down(true);
    let region = app.login_token("region.east").await;
    let task = inbox(&app, &region).await[0]["task_id"]
        .as_str()
        .expect("a task")
        .to_string();
    decide(&app, &region, &task, json!({"decision": "approve"}))
        .await
        .assert_status(200);
    for attempt in 1..=MAX_ATTEMPTS {
        make_due(&app).await;
        let r = run(&app).await;
        let (status, attempts, error) = outbox_row(&app, "manager.s001").await;
        assert_eq!(attempts, attempt);
        assert!(
            error.as_deref().is_some_and(|e| e.contains("421")),
            "{error:?}"
        );
        if attempt < MAX_ATTEMPTS {
            assert_eq!((r.retried, status.as_str()), (1, "pending"));
        } else {
            assert_eq!((r.failed, status.as_str()), (1, "failed"));
        }
    }
    let connections = sink.connections();
    make_due(&app).await;
    assert_eq!(run(&app).await, mail::Report::default());
    assert_eq!(
        sink.connections(),
        connections,
        "a failed row is not tried again"
    );

    // An address that can never work fails at once, without a connection.
    sink.set_down(false);
    set_email(&app, "region.east", "li.lei at example.cn").await;
    let uid = app.user_id("region.east").await;
    let p = app.platform.clone();
    let queued = boh_platform::tx!(p.db, tx, {
        mail::queue(
            &p,
            tx,
            &Notice {
                notification_id: "test-notification",
                user_id: &uid,
                title: "地址错误",
                url: None,
            },
        )
        .await
    })
    .expect("queueing");
    assert!(queued);
    let r = run(&app).await;
    assert_eq!((r.sent, r.failed), (0, 1));
    let (status, attempts, error) = outbox_row(&app, "region.east").await;
    assert_eq!((status.as_str(), attempts), ("failed", 1));
    assert!(
        error
            .as_deref()
            .is_some_and(|e| e.starts_with("invalid recipient address")),
        "{error:?}"
    );
    assert_eq!(sink.connections(), connections);
    assert_eq!(sink.received().len(), 1);
}

async fn without_smtp_nothing_is_queued(app: TestApp) {
    assert!(app.platform.settings.smtp.is_none(), "off by default");
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM job_schedules WHERE name = 'mail.send'")
            .await,
        0
    );
    let f = fixture(&app).await;
    let [small, _] = small_and_large();
    define(&app, &f.admin, small).await;
    set_email(&app, "region.east", "li.lei@example.cn").await;
    let manager = app.login_token("manager.s001").await;
    submitted_order(&app, &f, &manager).await;
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM notifications WHERE kind = 'approval.requested'")
            .await,
        1
    );
    assert_eq!(app.count("mail_outbox").await, 0);
    assert_eq!(run(&app).await, mail::Report::default());
}

async fn two_senders_send_each_message_once(backend: Backend) {
    let sink = SmtpSink::start().await;
    let app = mailing_app(backend, &sink).await;
    let users = ["region.east", "manager.s001", "admin"];
    let mut ids = Vec::new();
    for (i, u) in users.iter().enumerate() {
        set_email(&app, u, &format!("user{i}@example.cn")).await;
        ids.push(app.user_id(u).await);
    }
    let p = app.platform.clone();
    let queued = boh_platform::tx!(p.db, tx, {
        let mut n = 0;
        for i in 0..30 {
            let uid = &ids[i % ids.len()];
            let nid = format!("notification-{i}");
            let title = format!("通知 {i}");
            let url = format!("/x/{i}");
            if mail::queue(
                &p,
                tx,
                &Notice {
                    notification_id: &nid,
                    user_id: uid,
                    title: &title,
                    url: Some(&url),
                },
            )
            .await?
            {
                n += 1;
            }
        }
        Ok(n)
    })
    .expect("queueing");
    assert_eq!(queued, 30);

    // A second instance on the same database.
    let db = boh_db::Db::connect(&app.db.url).await.expect("connect");
    let other = boh_platform::Platform::new(db, (*app.platform.settings).clone());
    let (a, b) = tokio::join!(mail::run_now(&app.platform), mail::run_now(&other));
    let (a, b) = (a.expect("sender a"), b.expect("sender b"));
    assert_eq!(a.sent + b.sent, 30, "{a:?} {b:?}");
    let got = sink.received();
    assert_eq!(got.len(), 30);
    let mut subjects: Vec<String> = got.iter().map(|m| m.subject()).collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), 30, "each message once");
    assert_eq!(
        app.scalar_i64("SELECT COUNT(*) FROM mail_outbox WHERE status = 'sent' AND attempts = 1")
            .await,
        30
    );
    other.db.pool().close().await;
}
