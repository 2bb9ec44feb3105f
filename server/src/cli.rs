//! The operator commands of the `resayil` binary.
use anyhow::{anyhow, bail, Context};
use clap::{Parser, Subcommand};
use domain::{accounts, keys, Services, Settings};

#[derive(Parser)]
#[command(name = "resayil", about = "Resayil LLM Portal")]
pub struct Cli {
    /// Optional TOML settings file (environment variables override it).
    #[arg(long, global = true, env = "RESAYIL_CONFIG")]
    pub config: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the portal (the default).
    Serve,
    /// Bring the database schema up to date.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The product catalog in the database.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Write a consistent copy of the database while the portal runs: SQLite with
    /// `VACUUM INTO` (one transaction's snapshot, compacted), PostgreSQL with `pg_dump
    /// --format=custom` (which must be installed). Restore: deploy/README.md.
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        to: String,
    },
    /// Raw usage rows (the ledger and the hourly rollups are kept).
    #[command(subcommand)]
    Usage(UsageCommand),
}

#[derive(Subcommand)]
pub enum UsageCommand {
    /// Delete raw usage rows older than the retention, in small batches (the portal may
    /// keep running). The server does the same every hour when `USAGE_RETENTION_DAYS` is
    /// set.
    Prune {
        /// Keep this many days (default: `USAGE_RETENTION_DAYS`).
        #[arg(long)]
        days: Option<u32>,
    },
}

#[derive(Subcommand)]
pub enum CatalogCommand {
    /// Write catalog/catalog.toml (as built into this binary) into the catalog tables:
    /// plans, packs, models, the deny list and the limits. Idempotent; running instances
    /// apply it at their next start.
    Sync {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create an account (bypasses the web form; same validation). The password is read
    /// from standard input (asked for on a terminal), never from the command line, where
    /// `ps` and the shell's history would show it.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        phone: String,
        /// `user` (default) or `admin`.
        #[arg(long, default_value = "user")]
        role: String,
        /// An active plan for 30 days: basic, pro or enterprise.
        #[arg(long)]
        plan: Option<String>,
        /// Starting balance, instead of the welcome grant.
        #[arg(long)]
        credits: Option<i64>,
    },
    /// Set an account's password (asked for on a terminal, or one line of standard input;
    /// never from the command line). Every session of the account ends; recorded as an
    /// event.
    SetPassword {
        #[arg(long)]
        email: String,
    },
    /// Browser sessions of an account.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Add or subtract credits (a ledger adjustment, audited as the operator's). A
    /// subtraction never takes the balance below zero.
    Credits {
        #[arg(long)]
        email: String,
        /// A signed whole number: 500, +500 or -200.
        #[arg(long, allow_hyphen_values = true)]
        amount: String,
        /// Why (required; kept in the ledger and the audit log).
        #[arg(long)]
        reason: String,
    },
    /// Show an account.
    Show {
        #[arg(long)]
        email: String,
        /// Print JSON (email, role, plan, plan_expires_at, credits).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
pub enum SessionsCommand {
    /// End every browser session of the account (it must log in again); recorded as an
    /// event.
    Revoke {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand)]
pub enum KeyCommand {
    /// Create an API key and print it (shown only this once).
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        label: String,
    },
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref()).map_err(|e| anyhow!(e))?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            let db = domain::db::connect_only(&settings.database_url).await?;
            let n = domain::db::migrate(&db).await?;
            println!("applied {n} migration(s)");
            Ok(())
        }
        Command::User(cmd) => user(settings, cmd).await,
        Command::Catalog(CatalogCommand::Sync { json }) => {
            let db = domain::db::connect(&settings.database_url).await?;
            let report = domain::catalog::sync(&db, &domain::catalog::Catalog::builtin()).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
            } else if report.changed {
                println!(
                    "catalog synced: {} plans, {} packs, {} models, {} denied models",
                    report.plans, report.packs, report.models, report.denied_models
                );
            } else {
                println!("catalog already up to date");
            }
            Ok(())
        }
        Command::Usage(UsageCommand::Prune { days }) => {
            let days = days.unwrap_or(settings.usage_retention_days);
            if days == 0 {
                bail!("no retention: pass --days N or set USAGE_RETENTION_DAYS");
            }
            let db = domain::db::connect(&settings.database_url).await?;
            let before = domain::time::now() - i64::from(days) * 86_400;
            let n = domain::ops::prune_usage(
                &db,
                before,
                domain::ops::PRUNE_BATCH,
                domain::ops::PRUNE_PAUSE,
            )
            .await?;
            println!("deleted {n} usage row(s) older than {days} day(s)");
            Ok(())
        }
        Command::Backup { to } => {
            let bytes = backup(&settings.database_url, &to).await?;
            println!("backup written to {to} ({bytes} bytes)");
            Ok(())
        }
        Command::Key(KeyCommand::Create { email, label }) => {
            let svc = Services::build(settings).await?;
            let owner = accounts::find_by_email(&svc.db, &email)
                .await
                .map_err(|_| anyhow!("no account with email {email}"))?;
            let (_, key) = keys::create(&svc, &owner, &label).await.map_err(explain)?;
            println!("{key}");
            Ok(())
        }
    }
}

/// Writes the backup; its size in bytes.
async fn backup(database_url: &str, to: &str) -> anyhow::Result<u64> {
    let target = std::path::Path::new(to);
    if target.exists() {
        bail!("{to} exists: choose a new file");
    }
    if database_url.starts_with("postgres") {
        let status = tokio::process::Command::new("pg_dump")
            .args(["--format=custom", "--no-owner", "--file", to, database_url])
            .status()
            .await
            .context("running pg_dump (install postgresql-client)")?;
        if !status.success() {
            bail!("pg_dump failed ({status})");
        }
    } else {
        if domain::db::sqlite_file(database_url).is_none() {
            bail!("nothing to back up: {database_url} is not a SQLite file or PostgreSQL");
        }
        // Not migrated: a backup must not change the database it copies.
        let db = domain::db::connect_only(database_url).await?;
        domain::ops::sqlite_backup(&db, to)
            .await
            .with_context(|| format!("VACUUM INTO {to}"))?;
    }
    Ok(std::fs::metadata(target).map(|m| m.len()).unwrap_or(0))
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let conf = leptos::prelude::get_configuration(None)
        .context("Leptos settings: run through `cargo leptos` or set LEPTOS_OUTPUT_NAME, LEPTOS_SITE_ROOT, LEPTOS_SITE_PKG_DIR and LEPTOS_SITE_ADDR (README)")?;
    let app = crate::Application::build(settings, conf.leptos_options).await?;
    domain::payments::log_mode(app.services());
    app.run_until_stopped(crate::startup::shutdown_signal())
        .await
}

async fn user(settings: Settings, cmd: UserCommand) -> anyhow::Result<()> {
    let svc = Services::build(settings).await?;
    match cmd {
        UserCommand::Create {
            email,
            phone,
            role,
            plan,
            credits,
        } => {
            let role = match role.as_str() {
                "user" => accounts::Role::User,
                "admin" => accounts::Role::Admin,
                other => bail!("unknown role {other:?} (user or admin)"),
            };
            let password = read_password()?;
            let a = accounts::create(
                &svc,
                accounts::NewAccount {
                    email: &email,
                    phone: &phone,
                    password: &password,
                    lang: "ar",
                },
                accounts::OperatorChoices {
                    role: Some(role),
                    plan,
                    credits,
                    audited_by: Some(domain::audit::Actor::cli()),
                },
            )
            .await
            .map_err(explain)?;
            println!("created account {} ({})", a.email, a.id);
            Ok(())
        }
        UserCommand::SetPassword { email } => {
            let a = accounts::find_by_email(&svc.db, &email)
                .await
                .map_err(|_| anyhow!("no account with email {email}"))?;
            let password = read_password()?;
            let ended = domain::profile::operator_set_password(&svc, a.id, &password, &operator())
                .await
                .map_err(explain)?;
            println!("password set for {}; {ended} session(s) ended", a.email);
            Ok(())
        }
        UserCommand::Sessions(SessionsCommand::Revoke { email }) => {
            let a = accounts::find_by_email(&svc.db, &email)
                .await
                .map_err(|_| anyhow!("no account with email {email}"))?;
            let ended = domain::profile::operator_revoke_sessions(&svc, a.id, &operator())
                .await
                .map_err(explain)?;
            println!("{ended} session(s) of {} ended", a.email);
            Ok(())
        }
        UserCommand::Credits {
            email,
            amount,
            reason,
        } => {
            let a = accounts::find_by_email(&svc.db, &email)
                .await
                .map_err(|_| anyhow!("no account with email {email}"))?;
            let balance =
                domain::admin::users::operator_adjust_credits(&svc, a.id, &amount, &reason)
                    .await
                    .map_err(explain)?;
            println!("{} now has {balance} credits", a.email);
            Ok(())
        }
        UserCommand::Show { email, json } => {
            let a = accounts::find_by_email(&svc.db, &email)
                .await
                .map_err(|_| anyhow!("no account with email {email}"))?;
            let view = serde_json::json!({
                "email": a.email,
                "role": a.role,
                "plan": a.plan,
                "plan_expires_at": a.plan_expires_at,
                "credits": a.credits,
                "suspended": a.suspended_at.is_some(),
            });
            if json {
                println!("{view}");
            } else {
                println!("{}", serde_json::to_string_pretty(&view)?);
            }
            Ok(())
        }
    }
}

/// Who ran an operator command, for the record: `cli:<login name>`.
fn operator() -> String {
    let who = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_default();
    let who: String = who
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(32)
        .collect();
    format!("cli:{who}")
}

/// One line of standard input; on a terminal, asked for with the echo off (`stty`).
fn read_password() -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    if tty {
        eprint!("Password: ");
        let _ = std::io::stderr().flush();
        echo(false);
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if tty {
        echo(true);
        eprintln!();
    }
    read.context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        bail!("no password: type it at the prompt or pipe it in (printf '%s\\n' \"$PW\" | resayil user create …)");
    }
    Ok(password.to_owned())
}

fn echo(on: bool) {
    let _ = std::process::Command::new("stty")
        .arg(if on { "echo" } else { "-echo" })
        .stdin(std::process::Stdio::inherit())
        .status();
}

fn explain(e: domain::Error) -> anyhow::Error {
    match e {
        domain::Error::Invalid { field, code } => anyhow!("{field}: {code:?}"),
        other => anyhow!(other),
    }
}
