//! `rally tiers recompute`: re-evaluates every partner's tier and prints the changes.

use std::path::Path;
use std::process::ExitCode;

use rally::engine::tier::TierChange;

use super::{load_config, with_app};

pub(crate) async fn recompute(config_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    if config.tiers.is_empty() {
        println!("no [[tiers]] in the configuration: tiers are set by hand, nothing to do");
        return Ok(ExitCode::SUCCESS);
    }
    let updates = with_app(config, async |app| {
        Ok(rally::features::tiers::service::recompute_tiers(app).await?)
    })
    .await?;
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
