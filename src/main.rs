//! The `rally` command line: parse arguments, load configuration, wire the parts, run.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use indicatif::{ProgressBar, ProgressStyle};
use rally::app::{App, SystemClock};
use rally::chat::console::Console;
use rally::config::TelegramMode;
use rally::config::{self, Config};
use rally::demo;
use rally::discord;
use rally::engine::amount;
use rally::engine::audit::AuditAction;
use rally::engine::partner::{Partner, PartnerKind, Role};
use rally::engine::period::Period;
use rally::engine::tier::TierChange;
use rally::http;
use rally::import;
use rally::statements::{export_csv, export_json};
use rally::store::partners::{Lookup, NewPartner};
use rally::store::{Store, audit, partners, targets};
use rally::telegram::{self, Telegram};
use teloxide::payloads::SetWebhookSetters;
use teloxide::prelude::Requester;
use tokio_util::sync::CancellationToken;

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
    /// Import data from files.
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Per-partner period targets (without one, the plan's target applies).
    Targets {
        #[command(subcommand)]
        action: TargetsAction,
    },
    /// Lock every statement of an ended period (YYYY-MM); later changes become adjustments.
    ClosePeriod {
        /// The period, e.g. 2026-11.
        period: String,
    },
    /// Export statements for payout.
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
    /// Partner tiers.
    Tiers {
        #[command(subcommand)]
        action: TiersAction,
    },
}

#[derive(Subcommand)]
enum ExportWhat {
    /// Statements of a period: locked snapshots if closed, else drafts.
    Statements {
        #[arg(long)]
        period: String,
        #[arg(long, value_enum, default_value = "json")]
        format: ExportFormat,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ExportFormat {
    Json,
    Csv,
}

#[derive(Subcommand)]
enum TiersAction {
    /// Re-evaluate every partner's tier from trailing sales and certifications.
    Recompute,
}

#[derive(Subcommand)]
enum ImportWhat {
    /// Import sales from a CSV file (UTF-8, comma-separated, first line a header).
    #[command(long_about = IMPORT_SALES_HELP)]
    Sales {
        /// The CSV file.
        file: PathBuf,
    },
}

const IMPORT_SALES_HELP: &str =
    "Import sales from a CSV file (UTF-8, comma-separated, first line a header).

Columns, in any order (names are case-insensitive; any other column is an error):
  partner      required: partner name (as `rally partners list` shows it) or partner id
  amount       required: 12500, 12,500.50, 1.2万, 3k, ¥12,500 or 12500USD
  date         required: the sale date, YYYY-MM-DD; it decides the period the sale counts in
  customer     required: the customer's name
  currency     optional: ISO code (USD); else the amount's own currency, else the program's.
               Foreign amounts convert at [program.rates]; a currency without a rate is rejected
  category     optional: product category (plans may pay category rates)
  quantity     optional: units sold, a positive whole number
  external_id  optional: the sale's id in your system
  verified     optional: true/false, 1/0 or yes/no; default true. Verified sales are approved
               on arrival, the others wait for a manager

Importing is idempotent: a row with an external_id is stored once whatever file or line it
comes from; a row without one is recognised by file name, line number and content, so
importing the same file again stores nothing twice (but after rows are inserted above it in an
edited file, a row counts as new: use external_id for files that change).

Bad rows are reported with their line number and reason and skipped; good rows are stored,
in transactions of 500 rows. A missing or unknown column is an error before anything is
stored. A progress bar is shown when standard error is a terminal.

Prints: imported N, already present M, rejected K.
Exit status: 0 if no row was rejected, 1 if any was (or the file could not be imported).";

#[derive(Subcommand)]
enum TargetsAction {
    /// Set a partner's target for one period (replaces an earlier one).
    Set {
        /// Partner name or id.
        partner: String,
        /// Period key, e.g. 2026-11 (2026-Q4 or 2026 for quarterly or yearly programs).
        period: String,
        /// Target in program currency, e.g. 150000, 15万 or 150k.
        amount: String,
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
        /// Sales potential in program currency (fund allocation weighs it), e.g. 500000 or 50万.
        #[arg(long)]
        potential: Option<String>,
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
            run_service(config).await
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
        Command::Import {
            what: ImportWhat::Sales { file },
        } => {
            let config = load_config(cli.config.as_deref())?;
            let app = open_app(config).await?;
            let result = import_sales_command(&app, &file).await;
            app.store.close().await;
            result
        }
        Command::Targets { action } => {
            let config = load_config(cli.config.as_deref())?;
            let app = open_app(config).await?;
            let result = targets_command(&app, action).await;
            app.store.close().await;
            result
        }
        Command::ClosePeriod { period } => {
            let config = load_config(cli.config.as_deref())?;
            let app = open_app(config).await?;
            let result = close_period_command(&app, &period).await;
            app.store.close().await;
            result
        }
        Command::Export {
            what: ExportWhat::Statements { period, format },
        } => {
            let config = load_config(cli.config.as_deref())?;
            let app = open_app(config).await?;
            let result = export_command(&app, &period, format).await;
            app.store.close().await;
            result
        }
        Command::Tiers {
            action: TiersAction::Recompute,
        } => {
            let config = load_config(cli.config.as_deref())?;
            if config.tiers.is_empty() {
                println!("no [[tiers]] in the configuration: tiers are set by hand, nothing to do");
                return Ok(ExitCode::SUCCESS);
            }
            let app = open_app(config).await?;
            let result = app.recompute_tiers().await;
            app.store.close().await;
            let updates = result?;
            for u in &updates {
                match &u.change {
                    TierChange::Promoted { from, to } => println!(
                        "{}: promoted {} -> {to}",
                        u.name,
                        from.as_deref().unwrap_or("-")
                    ),
                    TierChange::Demoted { from, to } => println!(
                        "{}: demoted {from} -> {}",
                        u.name,
                        to.as_deref().unwrap_or("-")
                    ),
                }
            }
            println!("{} tier changes recorded", updates.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Cancels `token` on SIGINT or SIGTERM (what service managers send).
fn stop_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for SIGTERM");
                        let _ = tokio::signal::ctrl_c().await;
                        token.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("stopping");
        token.cancel();
    });
}

/// `rally run`: the platforms whose token is set, and the HTTP server, until a signal.
async fn run_service(config: Config) -> anyhow::Result<ExitCode> {
    let shutdown = CancellationToken::new();
    stop_on_signals(shutdown.clone());
    if config.telegram.token.is_none() && config.discord.token.is_none() {
        anyhow::bail!(
            "no chat platform is configured: set TELEGRAM_BOT_TOKEN and/or DISCORD_TOKEN"
        );
    }
    let store = Store::connect(&config.database.url).await?;
    store.migrate().await?;
    let mut app = App::new(store, Arc::new(config.clone()), Box::new(SystemClock))?;

    let mut telegram = None;
    if let Some(token) = &config.telegram.token {
        let bot = telegram::build_bot(token, config.telegram.api_base())?;
        let me = tokio::select! {
            _ = shutdown.cancelled() => return Ok(ExitCode::SUCCESS),
            me = bot.get_me() => me.map_err(|e| anyhow::anyhow!("Telegram getMe failed: {e}"))?,
        };
        let username = me.username().to_string();
        tracing::info!(bot = %username, "connected to Telegram");
        app.bot_username = Some(username.clone());
        telegram = Some((bot, username));
    }
    let app = Arc::new(app);
    let telegram = telegram.map(|(bot, username)| Telegram::new(bot, app.clone(), username));

    let mut webhook = None;
    if let Some(tg) = &telegram {
        if let Err(e) = tg.register_commands().await {
            tracing::warn!(error = %e, "command menus not registered");
        }
        if config.telegram.mode == TelegramMode::Webhook {
            let (Some(base), Some(secret)) = (
                &config.telegram.webhook_url,
                &config.telegram.webhook_secret,
            ) else {
                anyhow::bail!(
                    "webhook mode needs telegram.webhook_url and RALLY_TELEGRAM_WEBHOOK_SECRET"
                );
            };
            let url = reqwest::Url::parse(&format!("{base}/telegram/webhook/{secret}"))?;
            tg.bot()
                .set_webhook(url)
                .secret_token(secret.clone())
                .await?;
            webhook = Some((tg.clone(), secret.clone()));
        }
    }
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(http::serve(
        config.http.listen,
        http::router(webhook.clone()),
        shutdown.clone(),
    ));
    if let Some(token) = &config.discord.token {
        let http = discord::build_http(token, config.discord.api_url.as_deref())?;
        let handler = discord::Discord::new(app.clone(), config.discord.guild_ids.clone());
        let mut client = serenity::all::ClientBuilder::new_with_http(http, discord::intents())
            .event_handler(handler)
            .await
            .map_err(|e| anyhow::anyhow!("Discord client: {e}"))?;
        let shards = client.shard_manager.clone();
        let stop = shutdown.clone();
        tokio::spawn(async move {
            stop.cancelled().await;
            shards.shutdown_all().await;
        });
        tasks.spawn(async move {
            client
                .start()
                .await
                .map_err(|e| anyhow::anyhow!("Discord gateway: {e}"))
        });
    }
    if let Some(tg) = telegram {
        let stop = shutdown.clone();
        if webhook.is_some() {
            tasks.spawn(async move {
                tg.process_forever(stop).await;
                Ok(())
            });
        } else {
            tasks.spawn(async move { tg.poll(stop).await });
        }
    }
    let mut failure = None;
    while let Some(done) = tasks.join_next().await {
        let result = done.map_err(anyhow::Error::from).and_then(|r| r);
        if let Err(e) = result {
            tracing::error!(error = %format!("{e:#}"), "a service task failed; stopping");
            failure.get_or_insert(e);
            shutdown.cancel();
        } else if !shutdown.is_cancelled() {
            // A loop ended on its own: stop the rest too.
            shutdown.cancel();
        }
    }
    app.store.close().await;
    match failure {
        Some(e) => Err(e),
        None => Ok(ExitCode::SUCCESS),
    }
}

/// Parses a period argument of the program's kind.
fn period_arg(app: &App, text: &str) -> anyhow::Result<Period> {
    Period::parse(text)
        .filter(|p| p.kind() == app.config.program.period)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "bad period {text:?}: this program's periods are {}s, written like {}",
                app.config.program.period.as_str(),
                app.period_at(app.now()).key()
            )
        })
}

async fn close_period_command(app: &App, period: &str) -> anyhow::Result<ExitCode> {
    let period = period_arg(app, period)?;
    let report = app.close_period(period, None).await?;
    println!(
        "closed {}: {} statements locked, total {}",
        report.period,
        report.statements,
        app.program_money(report.total_minor)
    );
    Ok(ExitCode::SUCCESS)
}

async fn export_command(app: &App, period: &str, format: ExportFormat) -> anyhow::Result<ExitCode> {
    let period = period_arg(app, period)?;
    let docs = app.statements_of_period(period).await?;
    match format {
        ExportFormat::Json => println!("{}", serde_json::to_string_pretty(&export_json(&docs))?),
        ExportFormat::Csv => print!("{}", export_csv(&docs)?),
    }
    Ok(ExitCode::SUCCESS)
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
            potential,
        } => {
            let potential_minor = potential
                .map(|p| program_amount_minor(app, &p, "potential"))
                .transpose()?;
            let new = NewPartner {
                name: name.trim().to_string(),
                kind: parse_kind(&kind)?,
                region,
                tier,
                potential_minor,
            };
            if new.name.is_empty() {
                anyhow::bail!("the partner name must not be empty");
            }
            let mut tx = app.store.begin().await?;
            let created = rally::partners::create(
                &mut tx,
                &new,
                None,
                rally::partners::Source::Cli,
                app.now(),
            )
            .await?;
            let Some(created) = created else {
                anyhow::bail!("a partner named {:?} exists already", new.name);
            };
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
                    "{:>6}  {:<30} {:<12} {:<10} {:<10} {:<10} {}",
                    p.id,
                    p.name,
                    p.kind,
                    p.region.as_deref().unwrap_or("-"),
                    p.tier.as_deref().unwrap_or("-"),
                    p.status.as_str(),
                    p.potential_minor.map_or("-".to_string(), |m| format!(
                        "potential {}",
                        app.program_money(m)
                    ))
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
                    potential_minor: None,
                };
                rally::partners::create(
                    &mut tx,
                    &new,
                    None,
                    rally::partners::Source::Cli,
                    app.now(),
                )
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
        AuditAction::InviteCreate,
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

/// Parses an amount in program currency (`150000`, `15万`, `¥150k`) into minor units.
fn program_amount_minor(app: &App, text: &str, what: &str) -> anyhow::Result<i64> {
    let program = app.config.program.currency;
    let money = amount::parse_amount(text)
        .and_then(|input| amount::to_money(input, program))
        .map_err(|e| anyhow::anyhow!("bad {what} {text:?}: {e}"))?;
    if money.currency() != program {
        anyhow::bail!(
            "bad {what} {text:?}: give it in the program currency, {}",
            program.code()
        );
    }
    money
        .to_minor()
        .map_err(|e| anyhow::anyhow!("bad {what} {text:?}: {e}"))
}

/// Finds a partner by name or id for a command line argument.
async fn cli_partner(conn: &mut rally::store::Conn, text: &str) -> anyhow::Result<Partner> {
    match partners::find_by_name_or_id(conn, text).await? {
        Lookup::Found(p) => Ok(p),
        Lookup::Unknown => anyhow::bail!("unknown partner {text:?}: see `rally partners list`"),
        Lookup::Ambiguous { by_name, by_id } => anyhow::bail!(
            "partner {text:?} is ambiguous: it is the name of partner {} and the id of {:?}",
            by_name.id,
            by_id.name
        ),
    }
}

async fn import_sales_command(app: &App, file: &std::path::Path) -> anyhow::Result<ExitCode> {
    let input = std::fs::File::open(file)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
    let size = input.metadata().map(|m| m.len()).unwrap_or(0);
    let source_name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(size);
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let result = import::import_sales(app, input, &source_name, bar.as_ref()).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let report = result?;
    for row in &report.rejected {
        eprintln!("{}: line {}: {}", file.display(), row.line, row.reason);
    }
    println!("{}", import::summary(&report));
    Ok(if report.rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn targets_command(app: &App, action: TargetsAction) -> anyhow::Result<ExitCode> {
    match action {
        TargetsAction::Set {
            partner,
            period,
            amount,
        } => {
            let period = period_arg(app, &period)?.key();
            let amount_minor = program_amount_minor(app, &amount, "target")?;
            let now = app.now();
            let mut tx = app.store.begin().await?;
            let partner = cli_partner(&mut tx, &partner).await?;
            let before = targets::get(&mut tx, partner.id, &period).await?;
            targets::set(&mut tx, partner.id, &period, amount_minor, None, now).await?;
            let state = |minor: i64| serde_json::json!({ "period": period, "amount_minor": minor });
            audit::record(
                &mut tx,
                None,
                AuditAction::TargetSet,
                &format!("partner {}", partner.id),
                before.map(state).as_ref(),
                Some(&{
                    let mut after = state(amount_minor);
                    after["source"] = "cli".into();
                    after
                }),
                now,
            )
            .await?;
            tx.commit().await?;
            let was = before.map_or(String::new(), |m| {
                format!(" (was {})", app.program_money(m))
            });
            println!(
                "target for {} in {period}: {}{was}",
                partner.name,
                app.program_money(amount_minor)
            );
        }
    }
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
