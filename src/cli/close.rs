//! `rally close-period`: locks every statement of an ended period.

use std::process::ExitCode;

use rally::app::App;

use super::period_arg;

pub(crate) async fn close_period(app: &App, period: &str) -> anyhow::Result<ExitCode> {
    let period = period_arg(app, period)?;
    let report = rally::features::statements::service::close_period(app, period, None).await?;
    println!(
        "closed {}: {} statements locked, total {}",
        report.period,
        report.statements,
        app.program_money(report.total_minor)
    );
    Ok(ExitCode::SUCCESS)
}
