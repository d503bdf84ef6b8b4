//! `rally migrate` and `rally check-config`: preparing a database and a configuration.

use std::path::Path;
use std::process::ExitCode;

use rally::config;
use rally::store::Store;

use super::{load_config, redact};

pub(crate) async fn migrate(config_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let store = Store::connect(&config.database.url).await?;
    store.migrate().await?;
    store.close().await;
    println!("migrations applied to {}", redact(&config.database.url));
    Ok(ExitCode::SUCCESS)
}

/// Prints what the configuration contains, or why it is invalid (exit status 1 then).
/// Warnings (exit status 0): contest targets naming partners the database does not have yet.
pub(crate) async fn check_config(config_path: Option<&Path>) -> ExitCode {
    let env = |key: &str| std::env::var(key).ok();
    match config::load(config_path, &env) {
        Ok(config) => {
            println!("{}", config.describe());
            for warning in super::contests::target_warnings(&config).await {
                eprintln!("warning: {warning}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
