//! The `boh` application: settings, start-up (connect, migrate, seed, serve, worker), graceful
//! shutdown, the job handlers, and the benchmark harness. `main.rs` is only the command line.

pub mod bench;
pub mod bench_dashboard;
pub mod bench_import;
pub mod bench_ingest;
pub mod bench_inv;
pub mod bench_po;
pub mod bench_stock;
pub mod bench_valuation;
pub mod cli;
pub mod crash;

use std::net::SocketAddr;

use boh_db::Db;
use boh_platform::{Platform, PlatformSettings, jobs};
use boh_web::{AppState, WebSettings};
use tokio::net::TcpListener;

/// Everything `boh serve` needs, from flags or `BOH_*` environment variables.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub bind: String,
    pub demo: bool,
    /// How much demo data the business modules add: the whole catalogue with half a year of
    /// history (`boh serve --demo`), a small catalogue, or none (most tests).
    pub demo_size: Option<boh_inventory::demo::DemoSize>,
    pub demo_password: Option<String>,
    pub secure_cookies: bool,
    pub run_worker: bool,
    pub platform: PlatformSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database_url: "sqlite://boh.db".into(),
            bind: "127.0.0.1:8080".into(),
            demo: false,
            demo_size: Some(boh_inventory::demo::DemoSize::Full),
            demo_password: None,
            secure_cookies: false,
            run_worker: true,
            platform: PlatformSettings::default(),
        }
    }
}

/// The job handlers this binary runs.
pub fn job_registry() -> jobs::Registry {
    let mut r = jobs::Registry::default();
    r.register("audit.verify", |p, job, progress| {
        Box::pin(async move {
            let head = job
                .payload
                .get("head")
                .and_then(|h| h.as_str())
                .and_then(boh_platform::audit::parse_head);
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(i64, i64)>();
            let reporter = tokio::spawn(async move {
                while let Some((done, total)) = rx.recv().await {
                    let _ = progress.set(done, total, None).await;
                }
            });
            let report = boh_platform::audit::verify(&p.db, head.as_ref(), |d, t| {
                let _ = tx.send((d, t));
            })
            .await
            .map_err(|e| e.to_string())?;
            drop(tx);
            let _ = reporter.await;
            serde_json::to_value(report).map_err(|e| e.to_string())
        })
    });
    r.register(boh_platform::import::JOB_KIND, |p, job, progress| {
        Box::pin(boh_platform::import::run_job(p, job, progress))
    });
    r.register(boh_workflow::sla::JOB_KIND, |p, _job, _progress| {
        Box::pin(async move {
            let s = boh_workflow::sla::run_now(&p)
                .await
                .map_err(|e| e.to_string())?;
            serde_json::to_value(s).map_err(|e| e.to_string())
        })
    });
    r.register(boh_maintenance::workorder::SLA_JOB, |p, _job, _progress| {
        Box::pin(async move {
            let s = boh_maintenance::workorder::sla_scan(&p)
                .await
                .map_err(|e| e.to_string())?;
            serde_json::to_value(s).map_err(|e| e.to_string())
        })
    });
    r.register(boh_platform::mail::JOB_KIND, |p, job, progress| {
        Box::pin(boh_platform::mail::run_job(p, job, progress))
    });
    r.register(boh_purchasing::send::JOB_KIND, |p, job, progress| {
        Box::pin(boh_purchasing::send::run_job(p, job, progress))
    });
    r.register(boh_maintenance::pm::JOB_KIND, |p, _job, _progress| {
        Box::pin(async move {
            let s = boh_maintenance::pm::run_due(&p)
                .await
                .map_err(|e| e.to_string())?;
            serde_json::to_value(s).map_err(|e| e.to_string())
        })
    });
    r.register("sessions.purge", |p, _job, _progress| {
        Box::pin(async move {
            let n = boh_platform::auth::purge_sessions(&p)
                .await
                .map_err(|e| e.to_string())?;
            Ok(serde_json::json!({ "purged": n }))
        })
    });
    r
}

/// Demo data of the business modules, on top of the platform's demo chain.
pub async fn seed_modules(
    platform: &Platform,
    size: boh_inventory::demo::DemoSize,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let company = boh_platform::demo::demo_id("company");
    let items = boh_inventory::demo::seed_catalog(platform, &company, size).await?;
    let f = boh_platform::org::NodeFilter {
        kind: Some("store,warehouse,central_kitchen".into()),
        limit: Some(500),
        ..Default::default()
    };
    let (sites, _) = boh_platform::org::list(platform, &boh_kernel::Actor::system(), &f).await?;
    let docs = boh_inventory::demo::seed_history(platform, &sites, &items, size, 180).await?;
    tracing::info!(
        items = items.len(),
        documents = docs,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo inventory seeded"
    );
    seed_workflows(platform, &company).await?;
    let started = std::time::Instant::now();
    let sales = boh_sales::demo::seed(platform, &sites, size).await?;
    tracing::info!(
        batches = sales.batches,
        tickets = sales.tickets,
        lines = sales.lines,
        held = sales.held,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo sales seeded"
    );
    let started = std::time::Instant::now();
    let assets = boh_maintenance::demo::seed(platform, &sites).await?;
    tracing::info!(
        assets,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo assets seeded"
    );
    let started = std::time::Instant::now();
    let history = boh_maintenance::demo::seed_history(platform, &sites).await?;
    tracing::info!(
        technicians = history.technicians,
        work_orders = history.work_orders,
        events = history.events,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo maintenance history seeded"
    );
    let started = std::time::Instant::now();
    let pm = boh_maintenance::demo::seed_pm(platform, &sites).await?;
    tracing::info!(
        parts = pm.parts,
        schedules = pm.schedules,
        rules = pm.rules,
        readings = pm.readings,
        generated = pm.generated,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "demo maintenance schedules and readings seeded"
    );
    Ok(())
}

/// Demo approval routes for purchase orders: up to 5,000.00 the region manager approves; above
/// it the region manager and then head office.
async fn seed_workflows(platform: &Platform, company: &str) -> anyhow::Result<()> {
    use boh_workflow::def::{self, Approvers, DefinitionInput, Mode, Step};
    let mut ctx = boh_platform::Ctx::system();
    ctx.actor.company_id = Some(company.to_string());
    let region = |sla| Step {
        name: "Region manager / 区域经理".into(),
        approvers: Approvers::Role {
            role: "region_manager".into(),
            level: "region".into(),
        },
        mode: Mode::Any,
        parallel: false,
        condition: String::new(),
        sla_hours: Some(sla),
        escalate_after_hours: Some(24),
    };
    for input in [
        DefinitionInput {
            code: "po-standard".into(),
            name: "Purchase orders up to 5,000 / 5000 元以内采购".into(),
            doc_type: "purchase_order".into(),
            event: "submit".into(),
            priority: 10,
            active: true,
            condition: "amount <= 5000".into(),
            steps: vec![region(24)],
        },
        DefinitionInput {
            code: "po-large".into(),
            name: "Purchase orders above 5,000 / 5000 元以上采购".into(),
            doc_type: "purchase_order".into(),
            event: "submit".into(),
            priority: 20,
            active: true,
            condition: "amount > 5000".into(),
            steps: vec![
                region(8),
                Step {
                    name: "Head office / 总部".into(),
                    approvers: Approvers::Role {
                        role: "admin".into(),
                        level: "company".into(),
                    },
                    mode: Mode::Any,
                    parallel: false,
                    condition: String::new(),
                    sla_hours: Some(24),
                    escalate_after_hours: None,
                },
            ],
        },
    ] {
        def::save(platform, &ctx, &input).await?;
    }
    Ok(())
}

/// The invariant checkers that `boh check` and the crash test run: the platform's own, then
/// each business module's (a module adds its checkers here, next to its job handlers).
pub fn check_registry() -> boh_platform::check::Registry {
    let mut r = boh_platform::check::Registry::platform();
    r.register("inventory.ledger", |p| {
        Box::pin(async move {
            let rep = boh_inventory::ledger::check(&p).await?;
            let summary = format!(
                "{} movements, {} on-hand rows, {} valuation rows",
                rep.movements, rep.stock_rows, rep.valuation_rows
            );
            Ok(if rep.problems.is_empty() {
                boh_platform::check::Outcome::ok(format!("on hand = sum of movements: {summary}"))
            } else {
                boh_platform::check::Outcome::failed(format!(
                    "{summary}; {} problems: {}",
                    rep.problems.len(),
                    rep.problems.join("; ")
                ))
            })
        })
    });
    r.register("maintenance.assets", |p| {
        Box::pin(async move {
            let (n, problems) = boh_maintenance::asset::check_hierarchy(&p).await?;
            Ok(if problems.is_empty() {
                boh_platform::check::Outcome::ok(format!(
                    "{n} assets: parents at the same site, depths consistent"
                ))
            } else {
                boh_platform::check::Outcome::failed(format!("{n} assets; {}", problems.join("; ")))
            })
        })
    });
    r.register("sales.rollups", |p| {
        Box::pin(async move {
            let rep = boh_sales::rollup::check(&p).await?;
            let summary = rep
                .rows
                .iter()
                .map(|(t, n)| format!("{t} {n}"))
                .collect::<Vec<_>>()
                .join(", ");
            Ok(if rep.problems.is_empty() {
                boh_platform::check::Outcome::ok(format!(
                    "rollups = recomputation from lines, usage = stock documents: {summary}"
                ))
            } else {
                boh_platform::check::Outcome::failed(format!(
                    "{summary}; {} problems: {}",
                    rep.problems.len(),
                    rep.problems.join("; ")
                ))
            })
        })
    });
    r
}

/// A built application, listening, ready to run.
pub struct Application {
    listener: TcpListener,
    pub state: AppState,
    router: axum::Router,
    run_worker: bool,
}

impl Application {
    /// Connect, migrate, seed when asked, and bind (port 0 picks a free port).
    pub async fn build(settings: Settings) -> anyhow::Result<(Application, Option<String>)> {
        Application::build_with(settings, axum::Router::new()).await
    }

    /// [`Application::build`] with extra routes behind the same middleware (for tests).
    pub async fn build_with(
        settings: Settings,
        extra: axum::Router<AppState>,
    ) -> anyhow::Result<(Application, Option<String>)> {
        if let Some(smtp) = &settings.platform.smtp {
            boh_platform::mail::check(smtp).map_err(|e| anyhow::anyhow!("e-mail settings: {e}"))?;
        }
        let db = Db::connect(&settings.database_url).await?;
        db.migrate().await?;
        let platform = Platform::new(db, settings.platform.clone());
        boh_inventory::import::register(&platform);
        boh_purchasing::register(&platform);
        boh_platform::demo::sync_builtin_roles(&platform).await?;
        let mut demo_note = None;
        if settings.demo {
            let (password, generated) = match &settings.demo_password {
                Some(p) => (p.clone(), false),
                None => (boh_platform::util::random_token(12), true),
            };
            if boh_platform::demo::seed(&platform, &password).await? {
                if let Some(size) = settings.demo_size {
                    seed_modules(&platform, size).await?;
                }
                demo_note = Some(if generated {
                    format!("demo data seeded; password for every demo user: {password}")
                } else {
                    "demo data seeded; password from BOH_DEMO_PASSWORD".to_string()
                });
            } else {
                demo_note = Some("demo data already present; demo logins unchanged".into());
            }
        }
        jobs::ensure_schedule(
            &platform,
            "sessions.purge",
            "17 * * * *",
            "sessions.purge",
            &serde_json::json!({}),
        )
        .await?;
        jobs::ensure_schedule(
            &platform,
            boh_maintenance::workorder::SLA_JOB,
            "*/5 * * * *",
            boh_maintenance::workorder::SLA_JOB,
            &serde_json::json!({}),
        )
        .await?;
        jobs::ensure_schedule(
            &platform,
            boh_workflow::sla::JOB_KIND,
            "*/5 * * * *",
            boh_workflow::sla::JOB_KIND,
            &serde_json::json!({}),
        )
        .await?;
        // Preventive maintenance: generate the due work orders hourly.
        jobs::ensure_schedule(
            &platform,
            boh_maintenance::pm::JOB_KIND,
            "7 * * * *",
            boh_maintenance::pm::JOB_KIND,
            &serde_json::json!({}),
        )
        .await?;
        // The e-mail sender every minute, only while e-mail is on (a job row a minute for
        // nothing otherwise); every instance should have the same SMTP settings.
        if settings.platform.smtp.is_some() {
            jobs::ensure_schedule(
                &platform,
                boh_platform::mail::JOB_KIND,
                "* * * * *",
                boh_platform::mail::JOB_KIND,
                &serde_json::json!({}),
            )
            .await?;
        } else {
            jobs::remove_schedule(&platform, boh_platform::mail::JOB_KIND).await?;
        }
        let state = AppState::new(
            platform,
            WebSettings {
                secure_cookies: settings.secure_cookies,
                // The import file limit plus room for the multipart envelope.
                max_upload_bytes: settings.platform.imports.limits.max_bytes + 64 * 1024,
                ..WebSettings::default()
            },
        );
        let (router, _) = boh_web::router_with(state.clone(), extra);
        let listener = TcpListener::bind(&settings.bind).await?;
        Ok((
            Application {
                listener,
                state,
                router,
                run_worker: settings.run_worker,
            },
            demo_note,
        ))
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serve until `shutdown` resolves; in-flight requests finish, the worker stops.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let worker = if self.run_worker {
            Some(tokio::spawn(jobs::run_worker(
                self.state.platform.clone(),
                job_registry(),
                stop_rx,
            )))
        } else {
            None
        };
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        let _ = stop_tx.send(true);
        if let Some(w) = worker {
            let _ = w.await;
        }
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
