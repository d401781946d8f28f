//! The platform every business module lives in: the organisation tree, identity and access
//! (users, roles as data, grants on subtrees, sessions, API tokens, login throttling), the
//! hash-chained audit log, the transactional outbox with webhooks, durable jobs with leases and
//! cron schedules, database locks and idempotency keys, e-mail copies of notifications over
//! SMTP ([`mail`]), and the spreadsheet machinery every module shares ([`sheet`] for reading
//! and writing CSV/XLSX, [`import`] for importers).
//!
//! Owned tables: `org_nodes`, `users`, `roles`, `grants`, `sessions`, `api_tokens`,
//! `login_throttle`, `audit_log`, `audit_head`, `outbox`, `webhook_*`, `jobs`, `job_schedules`,
//! `locks`, `idempotency_keys`, `imports`, `import_files`, `mail_outbox`, `app_meta`.
//!
//! Invariants:
//! - Every read of business data takes an [`Actor`](boh_kernel::Actor) and filters with
//!   [`Scope::sql`](boh_kernel::Scope::sql); a record outside scope is [`PlatformError::NotFound`].
//! - Every write runs inside [`Db::write`](boh_db::Db::write) and, in the same transaction,
//!   appends an audit row ([`audit::append`]) and, where other modules care, an outbox event
//!   ([`events::emit`]).
//! - No in-process state outlives a request except caches keyed by database versions
//!   (`users.auth_version`), so several app instances can share one PostgreSQL.

/// Run a block in a write transaction with bounded retries on transient conflicts:
/// `tx!(db, tx, { ...; Ok(value) })` evaluates to `Result<T, PlatformError>`. The block may run
/// more than once, so it may only touch the database through `tx`. `?` and `return` leave the
/// block (rolling back), not the enclosing function.
#[macro_export]
macro_rules! tx {
    ($db:expr, $tx:ident, $body:block) => {{
        let __db: &::boh_db::Db = &$db;
        let mut __attempt: u32 = 0;
        loop {
            __attempt += 1;
            let mut __t = match __db.begin_write(__attempt).await {
                Ok(t) => t,
                Err(::boh_db::Begin::Retry) => continue,
                Err(::boh_db::Begin::Failed(e)) => break Err($crate::PlatformError::from(e)),
            };
            let __r: ::std::result::Result<_, $crate::PlatformError> = async {
                let $tx: &mut ::sqlx::AnyConnection = &mut *__t;
                $body
            }
            .await;
            match __db.end_write(__t, __r, __attempt).await {
                ::boh_db::End::Retry => continue,
                ::boh_db::End::Done(v) => break v,
            }
        }
    }};
}

/// Log a security event under target `boh::security`, at level `info` or `warn`, with who
/// (`actor_id`, `actor`), when (`at`, UTC) and where (`ip`, `request_id`) taken from the write
/// context, then the event's own fields and message:
/// `security_event!(info, ctx, grant_id = %id, "grant created")`.
/// Text that users choose goes in with `?` (escaped: a newline cannot start a forged line);
/// secrets never go in at all.
#[macro_export]
macro_rules! security_event {
    ($level:ident, $ctx:expr, $($rest:tt)+) => {{
        let __c: &$crate::Ctx = &$ctx;
        $crate::__private::tracing::$level!(
            target: "boh::security",
            actor_id = %__c.actor.user_id,
            actor = ?__c.actor.username,
            ip = ?__c.ip,
            request_id = ?__c.request_id,
            at = %$crate::__private::boh_kernel::now().rfc3339(),
            $($rest)+
        )
    }};
}

#[doc(hidden)]
pub mod __private {
    pub use boh_kernel;
    pub use tracing;
}

pub mod audit;
pub mod auth;
pub mod check;
pub mod ctx;
pub mod demo;
pub mod error;
pub mod events;
pub mod group;
pub mod iam;
pub mod idem;
pub mod import;
pub mod jobs;
pub mod mail;
pub mod org;
pub mod org_import;
pub mod sheet;
pub mod util;
pub mod webhooks;

pub use ctx::Ctx;
pub use error::{FieldError, PlatformError, Result};

use boh_db::Db;
use std::sync::Arc;

/// Settings the platform needs at run time.
#[derive(Debug, Clone)]
pub struct PlatformSettings {
    /// A session ends after this long without a request.
    pub session_idle_secs: i64,
    /// A session ends this long after login, whatever happens.
    pub session_absolute_secs: i64,
    /// Failures before an account or client address is throttled.
    pub login_max_failures: i64,
    /// How long a throttle lasts, and the window in which failures are counted.
    pub login_window_secs: i64,
    /// File limits and the size from which imports run as jobs.
    pub imports: import::Settings,
    /// Where notifications are mailed; `None` (the default) keeps them in-app only.
    pub smtp: Option<mail::SmtpSettings>,
}

impl Default for PlatformSettings {
    fn default() -> Self {
        PlatformSettings {
            session_idle_secs: 2 * 3600,
            session_absolute_secs: 12 * 3600,
            login_max_failures: 10,
            login_window_secs: 15 * 60,
            imports: import::Settings::default(),
            smtp: None,
        }
    }
}

/// Shared handle to the platform services; cheap to clone.
#[derive(Clone)]
pub struct Platform {
    pub db: Db,
    pub settings: Arc<PlatformSettings>,
    pub(crate) grant_cache: Arc<iam::GrantCache>,
    pub events: Arc<events::Subscribers>,
    /// Importers by kind; modules register theirs at start-up.
    pub importers: Arc<import::Registry>,
    /// Per-process helpers that modules keep beside the platform (group-commit queues), one
    /// of each type, created on first use; see [`Platform::shared`].
    shared: Arc<std::sync::Mutex<SharedMap>>,
}

type SharedMap = std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>;

impl Platform {
    pub fn new(db: Db, settings: PlatformSettings) -> Platform {
        let importers = import::Registry::default();
        importers.register(Arc::new(org_import::StoresImporter));
        Platform {
            db,
            settings: Arc::new(settings),
            grant_cache: Arc::new(iam::GrantCache::default()),
            events: Arc::new(events::Subscribers::default()),
            importers: Arc::new(importers),
            shared: Arc::default(),
        }
    }

    /// This platform's one value of type `T`, created with `T::default()` on first use. For
    /// in-process helpers only (queues of waiting requests): nothing a second process on the
    /// same database would need to see.
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut m = self.shared.lock().expect("shared map poisoned");
        let v = m
            .entry(std::any::TypeId::of::<T>())
            .or_insert_with(|| Arc::new(T::default()))
            .clone();
        drop(m);
        v.downcast::<T>().expect("shared value of its own type")
    }
}
