//! The `rally` command line: parse arguments, load configuration, wire the parts, run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use rally::app::{App, SystemClock};
use rally::chat::console::Console;
use rally::config::{self, Config};
use rally::demo;
use rally::engine::partner::{PartnerKind, Role};
use rally::store::partners::NewPartner;
use rally::store::{Store, audit, partners};

#[derive(Parser)]
#[command(
    name = "rally",
    version,
    about = "Channel-partner incentives inside Telegram and Discord"
)]
struct Cli {
    /// Configuration file (else RALLY_CONFIG, else ./rally.toml if present).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Try Rally: embedded SQLite, a demo program and a terminal chat. No token needed.
    Demo {
        /// Database file.
        #[arg(long, default_value = "rally-demo.db")]
        db: PathBuf,
        /// Start over from fresh demo data.
        #[arg(long)]
        fresh: bool,
        /// Member to start as (see `/as` in the chat).
        #[arg(long = "as", default_value = demo::DEFAULT_IDENTITY)]
        identity: String,
    },
    /// Run the service (chat platforms whose token is set).
    Run,
    /// Apply database migrations.
    Migrate,
    /// Validate the configuration and print what was found.
    CheckConfig,
    /// Manage partners.
    Partners {
        #[command(subcommand)]
        action: PartnersAction,
    },
    /// Create an invite code for a partner (or a manager).
    Invite {
        /// Partner name (created if it does not exist); omit with --role manager.
        partner: Option<String>,
        #[arg(long, default_value = "partner")]
        role: String,
        #[arg(long, default_value = "dealer")]
        kind: String,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        tier: Option<String>,
    },
}

#[derive(Subcommand)]
enum PartnersAction {
    /// Add a partner.
    Add {
        name: String,
        #[arg(long, default_value = "dealer")]
        kind: String,
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        tier: Option<String>,
    },
    /// List partners.
    List,
}

fn init_logging(default: &str) {
    let filter = std::env::var("RALLY_LOG")
        .ok()
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let env = |key: &str| std::env::var(key).ok();
    config::load(path, &env).map_err(|e| anyhow::anyhow!("{e}"))
}

async fn open_app(config: Config) -> anyhow::Result<App> {
    let store = Store::connect(&config.database.url).await?;
    store.migrate().await?;
    App::new(store, Arc::new(config), Box::new(SystemClock))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_log = if matches!(cli.command, Command::Demo { .. }) {
        "warn"
    } else {
        "info"
    };
    init_logging(default_log);
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Demo {
            db,
            fresh,
            identity,
        } => {
            if fresh {
                for suffix in ["", "-wal", "-shm"] {
                    let mut path = db.clone().into_os_string();
                    path.push(suffix);
                    match std::fs::remove_file(&path) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(anyhow::anyhow!("cannot remove {path:?}: {e}")),
                    }
                }
            }
            let mut config = demo::config().map_err(|e| anyhow::anyhow!("{e}"))?;
            config.database.url = format!("sqlite://{}", db.display());
            let app = open_app(config).await?;
            demo::seed(&app).await?;
            let interactive = std::io::stdin().is_terminal();
            let mut console = Console::new(&app, &identity);
            if interactive {
                println!(
                    "Rally demo — {} · you are `{}`; `/help` lists commands, `/as manager` switches \
                     to the manager, `/as` lists members, Ctrl-D quits.",
                    db.display(),
                    console.identity()
                );
            }
            let stdin = tokio::io::BufReader::new(tokio::io::stdin());
            console.run(stdin, tokio::io::stdout(), interactive).await?;
            app.store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Run => {
            let config = load_config(cli.config.as_deref())?;
            let app = open_app(config).await?;
            app.store.close().await;
            anyhow::bail!(
                "no chat platform adapter is available in this version yet: Telegram and Discord \
                 support are being built; try `rally demo`"
            )
        }
        Command::Migrate => {
            let config = load_config(cli.config.as_deref())?;
            let store = Store::connect(&config.database.url).await?;
            store.migrate().await?;
            store.close().await;
            println!("migrations applied to {}", redact(&config.database.url));
            Ok(ExitCode::SUCCESS)
        }
        Command::CheckConfig => {
            let env = |key: &str| std::env::var(key).ok();
            match config::load(cli.config.as_deref(), &env) {
                Ok(config) => {
                    println!("{}", config.describe());
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        Command::Partners { action } => {
            let config = load_config(cli.config.as_deref())?;
            let app = open_app(config).await?;
            let result = partners_command(&app, action).await;
            app.store.close().await;
            result
        }
        Command::Invite {
            partner,
            role,
            kind,
            region,
            tier,
        } => {
            let config = load_config(cli.config.as_deref())?;
            let app = open_app(config).await?;
            let result = invite_command(&app, partner, &role, &kind, region, tier).await;
            app.store.close().await;
            result
        }
    }
}

fn parse_kind(kind: &str) -> anyhow::Result<PartnerKind> {
    PartnerKind::parse(kind).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown partner kind {kind:?}: use one of {}",
            PartnerKind::ALL.map(|k| k.as_str()).join(", ")
        )
    })
}

async fn partners_command(app: &App, action: PartnersAction) -> anyhow::Result<ExitCode> {
    match action {
        PartnersAction::Add {
            name,
            kind,
            region,
            tier,
        } => {
            let new = NewPartner {
                name: name.trim().to_string(),
                kind: parse_kind(&kind)?,
                region,
                tier,
            };
            if new.name.is_empty() {
                anyhow::bail!("the partner name must not be empty");
            }
            let mut tx = app.store.begin().await?;
            let Some(created) = partners::insert(&mut tx, &new, app.now()).await? else {
                anyhow::bail!("a partner named {:?} exists already", new.name);
            };
            audit::record(
                &mut tx,
                None,
                "partner.create",
                &format!("partner {}", created.id),
                None,
                Some(
                    &serde_json::json!({ "name": created.name, "kind": created.kind.as_str(),
                    "region": created.region, "tier": created.tier, "source": "cli" }),
                ),
                app.now(),
            )
            .await?;
            tx.commit().await?;
            println!(
                "partner {} added: {} ({})",
                created.id, created.name, created.kind
            );
        }
        PartnersAction::List => {
            let mut conn = app.store.read().await?;
            let list = partners::list(&mut conn).await?;
            if list.is_empty() {
                println!("no partners yet: `rally partners add <name>` or `rally invite <name>`");
            }
            for p in list {
                println!(
                    "{:>6}  {:<30} {:<12} {:<10} {:<10} {}",
                    p.id,
                    p.name,
                    p.kind,
                    p.region.as_deref().unwrap_or("-"),
                    p.tier.as_deref().unwrap_or("-"),
                    p.status.as_str()
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn invite_command(
    app: &App,
    partner: Option<String>,
    role: &str,
    kind: &str,
    region: Option<String>,
    tier: Option<String>,
) -> anyhow::Result<ExitCode> {
    let role = Role::parse(role)
        .ok_or_else(|| anyhow::anyhow!("unknown role {role:?}: use partner, manager or admin"))?;
    let mut tx = app.store.begin().await?;
    let partner = match (role, partner) {
        (Role::Partner, None) => {
            anyhow::bail!("name the partner to invite: rally invite <partner>")
        }
        (_, None) => None,
        (_, Some(name)) => Some(match partners::find_by_name(&mut tx, &name).await? {
            Some(p) => p,
            None => {
                let new = NewPartner {
                    name: name.trim().to_string(),
                    kind: parse_kind(kind)?,
                    region,
                    tier,
                };
                partners::insert(&mut tx, &new, app.now())
                    .await?
                    .ok_or_else(|| anyhow::anyhow!("partner {name:?} could not be created"))?
            }
        }),
    };
    let invite = app
        .create_invite(
            &mut tx,
            partner.as_ref().map(|p| p.id),
            role,
            app.invite_ttl_ms(),
            None,
        )
        .await?;
    audit::record(
        &mut tx,
        None,
        "invite.create",
        &partner
            .as_ref()
            .map_or("manager".to_string(), |p| format!("partner {}", p.id)),
        None,
        Some(&serde_json::json!({ "code": invite.code, "role": role.as_str(), "source": "cli" })),
        app.now(),
    )
    .await?;
    tx.commit().await?;
    let expires = app.local_date(invite.expires_at);
    match &partner {
        Some(p) => println!("invite for {} ({}): {}", p.name, role.as_str(), invite.code),
        None => println!("invite ({}): {}", role.as_str(), invite.code),
    }
    println!(
        "send `/start {}` to the bot; valid until {expires}",
        invite.code
    );
    Ok(ExitCode::SUCCESS)
}

/// Hides a password in a database URL for printing.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}
