//! `rally jobs list`: the scheduled jobs and when they run next.

use std::path::Path;
use std::process::ExitCode;

use chrono::DateTime;

use super::load_config;

pub(crate) fn list(config_path: Option<&Path>) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let tz = config.program.timezone;
    if config.jobs.run.is_empty() {
        println!("no [[jobs.run]] in the configuration: nothing is scheduled");
        return Ok(ExitCode::SUCCESS);
    }
    let now = chrono::Utc::now().timestamp_millis();
    println!(
        "catch-up window: {} h; times in {tz}",
        config.jobs.catch_up_hours
    );
    for job in &config.jobs.run {
        println!(
            "{}: {} \"{}\" to {}",
            job.name,
            job.action.as_str(),
            job.schedule.expression(),
            job.to.as_str()
        );
        for at in job.schedule.next_n(tz, now, 3) {
            let local = DateTime::from_timestamp_millis(at)
                .unwrap_or_default()
                .with_timezone(&tz);
            println!("  next: {}", local.format("%Y-%m-%d %H:%M:%S %Z (%a)"));
        }
    }
    Ok(ExitCode::SUCCESS)
}
