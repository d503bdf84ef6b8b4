//! `rally import sales`: a CSV file of sales, with a progress bar on a terminal.

use std::io::IsTerminal;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use rally::app::App;
use rally::features::sales::import;

pub(crate) async fn import_sales(app: &App, file: &std::path::Path) -> anyhow::Result<ExitCode> {
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
