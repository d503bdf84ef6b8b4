//! The `rally` commands' implementations, one module per group; `main` parses the arguments
//! ([`args`]) and dispatches here. Shared here: loading the configuration, opening the app, and
//! parsing the arguments several commands take (periods, amounts, partners).

pub(crate) mod apikey;
pub(crate) mod args;
pub(crate) mod close;
pub(crate) mod contests;
pub(crate) mod demo;
pub(crate) mod export;
pub(crate) mod import;
pub(crate) mod invite;
pub(crate) mod jobs;
pub(crate) mod partners;
pub(crate) mod run;
pub(crate) mod setup;
pub(crate) mod targets;
pub(crate) mod tiers;
pub(crate) mod trainings;

use std::sync::Arc;

use rally::app::{App, SystemClock};
use rally::config::{self, Config};
use rally::engine::amount;
use rally::engine::partner::{Partner, PartnerKind};
use rally::engine::period::Period;
use rally::store::Store;
use rally::store::partners::{self as stored_partners, Lookup};

/// Opens the app on `config`'s database, runs `command`, and closes the database whatever the
/// outcome (so SQLite's write-ahead log is checkpointed before the process exits).
pub(crate) async fn with_app<T>(
    config: Config,
    command: impl AsyncFnOnce(&App) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let app = open_app(config).await?;
    let result = command(&app).await;
    app.store.close().await;
    result
}

pub(crate) fn load_config(path: Option<&std::path::Path>) -> anyhow::Result<Config> {
    let env = |key: &str| std::env::var(key).ok();
    config::load(path, &env).map_err(|e| anyhow::anyhow!("{e}"))
}

pub(crate) async fn open_app(config: Config) -> anyhow::Result<App> {
    let store = Store::connect(&config.database.url).await?;
    store.migrate().await?;
    App::new(store, Arc::new(config), Box::new(SystemClock))
}

/// Parses a period argument of the program's kind.
pub(crate) fn period_arg(app: &App, text: &str) -> anyhow::Result<Period> {
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

pub(crate) fn parse_kind(kind: &str) -> anyhow::Result<PartnerKind> {
    PartnerKind::parse(kind).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown partner kind {kind:?}: use one of {}",
            PartnerKind::ALL.map(|k| k.as_str()).join(", ")
        )
    })
}

/// Parses an amount in program currency (`150000`, `15万`, `¥150k`) into minor units.
pub(crate) fn program_amount_minor(app: &App, text: &str, what: &str) -> anyhow::Result<i64> {
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
pub(crate) async fn cli_partner(
    conn: &mut rally::store::Conn,
    text: &str,
) -> anyhow::Result<Partner> {
    match stored_partners::find_by_name_or_id(conn, text).await? {
        Lookup::Found(p) => Ok(p),
        Lookup::Unknown => anyhow::bail!("unknown partner {text:?}: see `rally partners list`"),
        Lookup::Ambiguous { by_name, by_id } => anyhow::bail!(
            "partner {text:?} is ambiguous: it is the name of partner {} and the id of {:?}",
            by_name.id,
            by_id.name
        ),
    }
}

/// Hides a password in a database URL for printing.
pub(crate) fn redact(url: &str) -> String {
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
