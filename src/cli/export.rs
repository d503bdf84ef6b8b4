//! `rally export statements`: a period's statements for payout, as JSON or CSV.

use std::process::ExitCode;

use rally::app::App;
use rally::features::statements::service::{export_csv, export_json};

use super::args::ExportFormat;
use super::period_arg;

pub(crate) async fn export_statements(
    app: &App,
    period: &str,
    format: ExportFormat,
) -> anyhow::Result<ExitCode> {
    let period = period_arg(app, period)?;
    let docs = rally::features::statements::service::statements_of_period(app, period).await?;
    match format {
        ExportFormat::Json => println!("{}", serde_json::to_string_pretty(&export_json(&docs))?),
        ExportFormat::Csv => print!("{}", export_csv(&docs)?),
    }
    Ok(ExitCode::SUCCESS)
}
