//! The `rally` command line: parse arguments, set up logging, dispatch to [`cli`].

mod cli;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use cli::args::{Cli, Command, ContestsAction, ExportWhat, ImportWhat, JobsAction, TiersAction};
use cli::{load_config, with_app};

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

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo is an interactive chat: service logs would bury it.
    let default_log = if matches!(cli.command, Command::Demo { .. }) {
        "warn"
    } else {
        "info"
    };
    init_logging(default_log);
    match dispatch(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    let path = cli.config.as_deref();
    match cli.command {
        Command::Demo {
            db,
            fresh,
            identity,
        } => cli::demo::demo(&db, fresh, &identity).await,
        Command::Run => cli::run::run_service(load_config(path)?).await,
        Command::Migrate => cli::setup::migrate(path).await,
        Command::CheckConfig => Ok(cli::setup::check_config(path).await),
        Command::Partners { action } => {
            with_app(load_config(path)?, async |app| {
                cli::partners::partners(app, action).await
            })
            .await
        }
        Command::Invite {
            partner,
            role,
            kind,
            region,
            tier,
        } => {
            with_app(load_config(path)?, async |app| {
                cli::invite::invite(app, partner, &role, &kind, region, tier).await
            })
            .await
        }
        Command::Import {
            what: ImportWhat::Sales { file },
        } => {
            with_app(load_config(path)?, async |app| {
                cli::import::import_sales(app, &file).await
            })
            .await
        }
        // --- throughput: partners import (issue 14) ---
        Command::Import {
            what: ImportWhat::Partners { file },
        } => {
            with_app(load_config(path)?, async |app| {
                cli::import::import_partners(app, &file).await
            })
            .await
        }
        Command::Targets { action } => {
            with_app(load_config(path)?, async |app| {
                cli::targets::targets(app, action).await
            })
            .await
        }
        Command::ClosePeriod { period } => {
            with_app(load_config(path)?, async |app| {
                cli::close::close_period(app, &period).await
            })
            .await
        }
        Command::Export {
            what: ExportWhat::Statements { period, format },
        } => {
            with_app(load_config(path)?, async |app| {
                cli::export::export_statements(app, &period, format).await
            })
            .await
        }
        Command::Tiers {
            action: TiersAction::Recompute,
        } => cli::tiers::recompute(path).await,
        Command::Jobs {
            action: JobsAction::List,
        } => cli::jobs::list(path),
        Command::Trainings { action } => {
            with_app(load_config(path)?, async |app| {
                cli::trainings::run(app, action).await
            })
            .await
        }
        Command::Contests { action } => match action {
            ContestsAction::List => cli::contests::list(load_config(path)?).await,
            ContestsAction::Show { id } => cli::contests::show(load_config(path)?, &id).await,
        },
        // HTTP API and TV page (issue 13).
        Command::Apikey { action } => {
            with_app(load_config(path)?, async |app| {
                cli::apikey::apikey(app, action).await
            })
            .await
        }
        Command::Tvlink { contest, name } => {
            with_app(load_config(path)?, async |app| {
                cli::apikey::tvlink(app, contest, name).await
            })
            .await
        }
    }
}
