//! The command line. Every subcommand works on SQLite or PostgreSQL, chosen by
//! `--database-url` / `BOH_DATABASE_URL`.

use std::process::ExitCode;

use boh_platform::{Ctx, Platform, PlatformError, PlatformSettings};
use clap::{Args, Parser, Subcommand};

use crate::{Application, Settings, shutdown_signal};

#[derive(Parser)]
#[command(
    name = "boh",
    version,
    about = "BOH: the back-office system for retail and restaurant chains"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DbArgs {
    /// Where data lives: sqlite://FILE (created on first run) or postgres://USER@HOST/DB.
    #[arg(long, env = "BOH_DATABASE_URL", default_value = "sqlite://boh.db")]
    database_url: String,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web UI, the REST API and the background worker.
    Serve {
        #[command(flatten)]
        db: DbArgs,
        /// Address to listen on.
        #[arg(long, env = "BOH_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        /// Seed a demo chain (once) and print the demo logins.
        #[arg(long)]
        demo: bool,
        /// How much business data the demo adds: `full` (about 800 items and half a year of
        /// stock history), `small` (a few dozen items with opening stock) or `none`.
        #[arg(long, default_value = "full", value_parser = ["full", "small", "none"])]
        demo_size: String,
        /// Set when users reach BOH over HTTPS: cookies become Secure and __Host- prefixed.
        #[arg(long, env = "BOH_SECURE_COOKIES")]
        secure_cookies: bool,
        /// Do not run the background worker in this process (another instance runs it).
        #[arg(long)]
        no_worker: bool,
        #[command(flatten)]
        mail: MailArgs,
    },
    /// Apply pending database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Manage users: add, reset a password, deactivate.
    #[command(subcommand)]
    User(UserCmd),
    /// Create a company (tenant) with its built-in roles and an administrator.
    Company {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        code: String,
        #[arg(long)]
        name_zh: String,
        #[arg(long)]
        name_en: String,
        /// Username of the company administrator.
        #[arg(long)]
        admin: String,
        /// The administrator's password.
        #[arg(long, env = "BOH_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Write a logical backup of every table (JSON Lines; restorable on either database).
    Backup {
        #[command(flatten)]
        db: DbArgs,
        /// Output file.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// Replace the database's contents with a backup (all or nothing).
    Restore {
        #[command(flatten)]
        db: DbArgs,
        /// Backup file written by `boh backup`.
        #[arg(long)]
        file: std::path::PathBuf,
        /// Confirm that the current contents will be replaced.
        #[arg(long)]
        yes: bool,
    },
    /// Work with the hash-chained audit log.
    #[command(subcommand)]
    Audit(AuditCmd),
    /// Run every invariant checker (database integrity, foreign keys, audit chain, and each
    /// module's own); exit 1 when one fails.
    Check {
        #[command(flatten)]
        db: DbArgs,
    },
    /// Crash test: serve, write with idempotency keys from several clients, SIGKILL at random
    /// moments, restart, and verify every write and invariant (see ARCHITECTURE.md, Testing).
    CrashTest(crate::crash::CrashArgs),
    /// Run a benchmark; the last line of output is JSON with the figures and the baseline ratio.
    Bench(crate::bench::BenchArgs),
}

/// E-mail copies of notifications; off unless an SMTP host is given.
#[derive(Args, Clone, Debug)]
struct MailArgs {
    /// SMTP server for notification e-mails; without one, notifications stay in-app only.
    #[arg(long, env = "BOH_SMTP_HOST")]
    smtp_host: Option<String>,
    /// SMTP port (default: 587 with starttls, 465 with tls, 25 with none).
    #[arg(long, env = "BOH_SMTP_PORT")]
    smtp_port: Option<u16>,
    /// How the SMTP connection is secured: `starttls` (required, not opportunistic), `tls`
    /// (implicit TLS) or `none` (plain text, for a relay on a trusted network).
    #[arg(long, env = "BOH_SMTP_TLS", default_value = "starttls", value_parser = ["none", "starttls", "tls"])]
    smtp_tls: String,
    /// SMTP login (with `--smtp-password`); no login when unset.
    #[arg(long, env = "BOH_SMTP_USERNAME")]
    smtp_username: Option<String>,
    /// SMTP password; prefer the environment variable (a flag shows in the process list).
    #[arg(long, env = "BOH_SMTP_PASSWORD", hide_env_values = true)]
    smtp_password: Option<String>,
    /// Sender of notification e-mails, e.g. `BOH <boh@example.com>`; needed with an SMTP host.
    #[arg(long, env = "BOH_SMTP_FROM")]
    smtp_from: Option<String>,
    /// Where users reach BOH, e.g. `https://boh.example.com`, for the links in e-mails;
    /// needed with an SMTP host.
    #[arg(long, env = "BOH_PUBLIC_URL")]
    public_url: Option<String>,
}

impl MailArgs {
    /// The SMTP settings, or `None` without a host (e-mail off).
    fn settings(&self) -> anyhow::Result<Option<boh_platform::mail::SmtpSettings>> {
        use boh_platform::mail::{SmtpSettings, SmtpTls};
        let Some(host) = self
            .smtp_host
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
        else {
            return Ok(None);
        };
        let tls: SmtpTls = self
            .smtp_tls
            .parse()
            .map_err(|e| anyhow::anyhow!("--smtp-tls / BOH_SMTP_TLS: {e}"))?;
        let from = self
            .smtp_from
            .as_deref()
            .filter(|f| !f.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("--smtp-from / BOH_SMTP_FROM is needed with an SMTP host")
            })?;
        let from = from.parse().map_err(|e| {
            anyhow::anyhow!("--smtp-from / BOH_SMTP_FROM {from:?} is not a mailbox (e.g. `BOH <boh@example.com>`): {e}")
        })?;
        let public_url = self
            .public_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!("--public-url / BOH_PUBLIC_URL is needed with an SMTP host")
            })?;
        if !(public_url.starts_with("https://") || public_url.starts_with("http://")) {
            anyhow::bail!("--public-url / BOH_PUBLIC_URL must start with https:// or http://");
        }
        Ok(Some(SmtpSettings {
            host: host.to_string(),
            port: self.smtp_port.unwrap_or_else(|| tls.default_port()),
            tls,
            username: self.smtp_username.clone().filter(|u| !u.is_empty()),
            password: self.smtp_password.clone(),
            from,
            public_url: public_url.trim_end_matches('/').to_string(),
        }))
    }
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user with a role on an org node (default: the company).
    Add {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, env = "BOH_PASSWORD", hide_env_values = true)]
        password: String,
        /// Company code.
        #[arg(long)]
        company: String,
        /// Role code, e.g. admin, region_manager, store_manager, finance, technician.
        #[arg(long)]
        role: String,
        /// Org node code the role applies to (with its subtree); default the company.
        #[arg(long)]
        node: Option<String>,
    },
    /// Set a new password; ends the user's sessions.
    ResetPassword {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long, env = "BOH_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// Deactivate a user: sessions end and tokens stop working at once.
    Deactivate {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
    },
}

#[derive(Subcommand)]
enum AuditCmd {
    /// Walk the whole chain; exit 1 and name the first bad row when it does not verify.
    Verify {
        #[command(flatten)]
        db: DbArgs,
        /// A previously exported head (SEQ:HASH) that must still be on the chain.
        #[arg(long)]
        head: Option<String>,
    },
    /// Print the chain head as SEQ:HASH, to keep outside the database.
    Head {
        #[command(flatten)]
        db: DbArgs,
    },
}

async fn platform(db: &DbArgs) -> anyhow::Result<Platform> {
    let d = boh_db::Db::connect(&db.database_url).await?;
    d.migrate().await?;
    let p = Platform::new(d, PlatformSettings::default());
    boh_inventory::import::register(&p);
    boh_purchasing::register(&p);
    Ok(p)
}

fn describe(e: &PlatformError) -> String {
    match e {
        PlatformError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("BOH_LOG")
                .unwrap_or_else(|_| "info,sqlx=warn,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli.command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {
        Command::Serve {
            db,
            bind,
            demo,
            demo_size,
            secure_cookies,
            no_worker,
            mail,
        } => {
            let smtp = mail.settings()?;
            if let Some(s) = &smtp {
                println!(
                    "e-mail notifications via {}:{} ({}) from {}",
                    s.host, s.port, s.tls, s.from
                );
            }
            let settings = Settings {
                database_url: db.database_url.clone(),
                bind,
                demo,
                demo_size: match demo_size.as_str() {
                    "small" => Some(boh_inventory::demo::DemoSize::Small),
                    "none" => None,
                    _ => Some(boh_inventory::demo::DemoSize::Full),
                },
                demo_password: std::env::var("BOH_DEMO_PASSWORD")
                    .ok()
                    .filter(|p| !p.is_empty()),
                secure_cookies,
                run_worker: !no_worker,
                platform: PlatformSettings {
                    smtp,
                    ..PlatformSettings::default()
                },
            };
            let (app, note) = Application::build(settings).await?;
            let addr = app.local_addr()?;
            println!(
                "BOH is running at http://{addr}/  (database: {})",
                boh_db::redact_url(&db.database_url)
            );
            println!("API docs: http://{addr}/api/docs/   OpenAPI: http://{addr}/api/openapi.json");
            if let Some(n) = note {
                println!("{n}");
                println!(
                    "demo logins: {}",
                    boh_platform::demo::DEMO_USERS
                        .iter()
                        .map(|u| u.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            app.run_until(shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { db } => {
            platform(&db).await?;
            println!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Company {
            db,
            code,
            name_zh,
            name_en,
            admin,
            password,
        } => {
            let p = platform(&db).await?;
            match boh_platform::demo::bootstrap_company(
                &p, &code, &name_zh, &name_en, &admin, &password,
            )
            .await
            {
                Ok(id) => {
                    println!("company {code} created ({id}); administrator: {admin}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => anyhow::bail!(describe(&e)),
            }
        }
        Command::User(u) => user(u).await,
        Command::Backup { db, out } => {
            let p = platform(&db).await?;
            let tmp = out.with_extension("partial");
            let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            let n = boh_db::backup::backup(&p.db, &mut f).await?;
            drop(f);
            std::fs::rename(&tmp, &out)?;
            println!("backup written to {} ({n} rows)", out.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { db, file, yes } => {
            if !yes {
                anyhow::bail!("restore replaces every table's contents; pass --yes to confirm");
            }
            let p = platform(&db).await?;
            let f = std::io::BufReader::new(std::fs::File::open(&file)?);
            let n = boh_db::backup::restore(&p.db, f).await?;
            println!("restored {n} rows from {}", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCmd::Head { db }) => {
            let p = platform(&db).await?;
            let h = boh_platform::audit::head(&p.db).await?;
            println!("{}:{}", h.seq, h.hash);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit(AuditCmd::Verify { db, head }) => {
            let p = platform(&db).await?;
            let expected = match head.as_deref() {
                Some(h) => Some(
                    boh_platform::audit::parse_head(h)
                        .ok_or_else(|| anyhow::anyhow!("--head must be SEQ:HASH"))?,
                ),
                None => None,
            };
            let r = boh_platform::audit::verify(&p.db, expected.as_ref(), |_, _| {}).await?;
            if r.ok {
                println!(
                    "audit chain OK: {} rows, head {}:{}",
                    r.rows, r.head_seq, r.head_hash
                );
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "audit chain BROKEN at row {}: {}",
                    r.first_bad_seq.unwrap_or_default(),
                    r.problem.unwrap_or_default()
                );
                Ok(ExitCode::FAILURE)
            }
        }
        Command::Check { db } => {
            let p = platform(&db).await?;
            let reports = crate::check_registry().run(&p).await;
            let mut failed = 0;
            for r in &reports {
                if !r.ok {
                    failed += 1;
                }
                println!(
                    "{:<7} {}: {}",
                    if r.ok { "ok" } else { "FAILED" },
                    r.name,
                    r.detail
                );
            }
            println!(
                "{} checks, {} passed, {failed} failed",
                reports.len(),
                reports.len() - failed
            );
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::CrashTest(args) => crate::crash::run_cli(args).await,
        Command::Bench(args) => crate::bench::run(args).await,
    }
}

async fn user(cmd: UserCmd) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::system();
    match cmd {
        UserCmd::Add {
            db,
            username,
            display_name,
            password,
            company,
            role,
            node,
        } => {
            let p = platform(&db).await?;
            let c = boh_platform::org::find_company(&p, &company)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no company with code {company}"))?;
            let n = match node.as_deref() {
                Some(code) => boh_platform::org::find_by_code(&p, &c.id, code)
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("no node with code {code} in {company}"))?,
                None => c.clone(),
            };
            let r = boh_platform::iam::find_role_by_code(&p, &c.id, &role)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no role {role} in {company}"))?;
            let input = boh_platform::iam::NewUser {
                display_name: display_name.unwrap_or_else(|| username.clone()),
                username,
                email: None,
                password,
                locale: None,
                company_id: Some(c.id.clone()),
            };
            let code = n.code.clone();
            let u = boh_platform::iam::create_user_with_grant(&p, &ctx, input, Some((r, n)))
                .await
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("user {} added with role {role} on {code}", u.username);
            Ok(ExitCode::SUCCESS)
        }
        UserCmd::ResetPassword {
            db,
            username,
            password,
        } => {
            let p = platform(&db).await?;
            let u = boh_platform::iam::find_user_by_name(&p, &username)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user {username}"))?;
            boh_platform::iam::reset_password(&p, &ctx, &u.id, &password)
                .await
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("password of {username} reset; their sessions were ended");
            Ok(ExitCode::SUCCESS)
        }
        UserCmd::Deactivate { db, username } => {
            let p = platform(&db).await?;
            let u = boh_platform::iam::find_user_by_name(&p, &username)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no user {username}"))?;
            boh_platform::iam::set_active(&p, &ctx, &u.id, false)
                .await
                .map_err(|e| anyhow::anyhow!(describe(&e)))?;
            println!("user {username} deactivated");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail(args: &[&str]) -> anyhow::Result<Option<boh_platform::mail::SmtpSettings>> {
        let mut argv = vec!["boh", "serve"];
        argv.extend_from_slice(args);
        let Command::Serve { mail, .. } = Cli::try_parse_from(argv)?.command else {
            anyhow::bail!("not serve");
        };
        mail.settings()
    }

    #[test]
    fn e_mail_is_off_without_a_host() {
        assert!(mail(&[]).expect("parses").is_none());
        assert!(
            mail(&["--smtp-from", "boh@example.cn"])
                .expect("parses")
                .is_none()
        );
    }

    #[test]
    fn e_mail_settings_from_flags() {
        let s = mail(&[
            "--smtp-host",
            "smtp.example.cn",
            "--smtp-from",
            "BOH <boh@example.cn>",
            "--public-url",
            "https://boh.example.cn/",
        ])
        .expect("parses")
        .expect("e-mail on");
        assert_eq!(s.port, 587);
        assert_eq!(s.tls, boh_platform::mail::SmtpTls::StartTls);
        assert_eq!(s.public_url, "https://boh.example.cn");
        assert_eq!(s.from.email.to_string(), "boh@example.cn");
        assert!(s.username.is_none());
        let s = mail(&[
            "--smtp-host",
            "smtp.example.cn",
            "--smtp-tls",
            "tls",
            "--smtp-username",
            "boh",
            "--smtp-password",
            "pw",
            "--smtp-from",
            "boh@example.cn",
            "--public-url",
            "http://127.0.0.1:8080",
        ])
        .expect("parses")
        .expect("e-mail on");
        assert_eq!((s.port, s.tls), (465, boh_platform::mail::SmtpTls::Tls));
        assert_eq!(s.username.as_deref(), Some("boh"));
    }

    #[test]
    fn e_mail_settings_are_checked() {
        let host = ["--smtp-host", "smtp.example.cn"];
        let cases: [&[&str]; 4] = [
            &["--public-url", "https://boh.example.cn"],
            &["--smtp-from", "boh@example.cn"],
            &[
                "--smtp-from",
                "not a mailbox",
                "--public-url",
                "https://boh.example.cn",
            ],
            &[
                "--smtp-from",
                "boh@example.cn",
                "--public-url",
                "boh.example.cn",
            ],
        ];
        for rest in cases {
            let args: Vec<&str> = host.iter().chain(rest).copied().collect();
            assert!(mail(&args).is_err(), "{args:?}");
        }
        assert!(mail(&["--smtp-host", "h", "--smtp-tls", "ssl"]).is_err());
    }
}
