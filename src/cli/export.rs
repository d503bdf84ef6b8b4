//! `rally export statements`: a period's statements for payout, as JSON or CSV, written to
//! standard output as they are read (memory stays flat however many partners there are).

use std::io::Write;
use std::process::ExitCode;

use rally::app::App;
use rally::features::statements::service::{write_csv, write_json};

use super::args::ExportFormat;
use super::period_arg;

pub(crate) async fn export_statements(
    app: &App,
    period: &str,
    format: ExportFormat,
) -> anyhow::Result<ExitCode> {
    let period = period_arg(app, period)?;
    let mut out = std::io::BufWriter::new(std::io::stdout());
    match format {
        ExportFormat::Json => {
            write_json(app, period, &mut out).await?;
            writeln!(out)?;
        }
        ExportFormat::Csv => write_csv(app, period, &mut out).await?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
