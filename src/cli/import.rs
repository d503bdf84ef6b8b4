//! `rally import sales` and `rally import partners`: CSV files, with a progress bar on a
//! terminal.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};
use rally::app::App;
use rally::features::membership::import as partners_import;
use rally::features::sales::import::{self, ImportReport};

/// The opened file, the name it is known by and a progress bar when standard error is a
/// terminal.
fn open(file: &Path) -> anyhow::Result<(std::fs::File, String, Option<ProgressBar>)> {
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
    Ok((input, source_name, bar))
}

/// Prints the rejected rows and the summary; the exit status says whether any row was rejected.
fn finish(
    file: &Path,
    bar: Option<ProgressBar>,
    result: anyhow::Result<ImportReport>,
) -> anyhow::Result<ExitCode> {
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

pub(crate) async fn import_sales(app: &App, file: &Path) -> anyhow::Result<ExitCode> {
    let (input, source_name, bar) = open(file)?;
    let result = import::import_sales(app, input, &source_name, bar.as_ref()).await;
    finish(file, bar, result)
}

// --- throughput: partners import (issue 14) ---

pub(crate) async fn import_partners(app: &App, file: &Path) -> anyhow::Result<ExitCode> {
    let (input, _, bar) = open(file)?;
    let result = partners_import::import_partners(app, input, bar.as_ref()).await;
    finish(file, bar, result)
}
