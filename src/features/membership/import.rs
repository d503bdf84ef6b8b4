//! `rally import partners`: partners from a CSV file, for onboarding a program with thousands
//! of them at once.
//!
//! The header names the columns, in any order: `name` is required; `kind,region,tier,potential`
//! are optional; any other column is an error. A partner whose name exists (compared as
//! [`name_key`] does: case, width and spacing aside) is left as it is and counted as already
//! present, so importing a file again changes nothing. Each bad row is reported with its line
//! number and skipped. Rows are stored in batches of [`BATCH_ROWS`] per transaction with
//! multi-row statements, each new partner with its `partner.create` audit entry
//! ([`partners::create_many`]).

use std::collections::HashSet;
use std::io::Read;

use crate::app::App;
use crate::engine::amount;
use crate::engine::partner::{MAX_NAME_CHARS, PartnerKind, name_key};
use crate::features::membership::partners::{self, Source};
use crate::features::sales::import::{CsvFile, ImportReport, RowError, stopped_at, stopped_batch};
use crate::store::partners::NewPartner;

/// Partners per transaction.
pub const BATCH_ROWS: usize = 10_000;

/// Columns every file must have.
pub const REQUIRED_COLUMNS: [&str; 1] = ["name"];
/// Columns a file may have.
pub const OPTIONAL_COLUMNS: [&str; 4] = ["kind", "region", "tier", "potential"];

/// Problems with the file as a whole; nothing is stored when one is found.
#[derive(Debug, thiserror::Error)]
pub enum PartnersFileError {
    #[error("the file is empty: the first line must be a header such as `name,kind,region,tier`")]
    Empty,
    #[error("missing required column \"name\"")]
    MissingName,
    #[error(
        "unknown column{}: {}; allowed: name, kind, region, tier, potential",
        if .0.len() == 1 { "" } else { "s" },
        .0.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
    )]
    UnknownColumns(Vec<String>),
    #[error("column {0:?} appears twice in the header")]
    DuplicateColumn(String),
    #[error("the header is not valid UTF-8 text (from Excel, save as \"CSV UTF-8\")")]
    HeaderNotUtf8,
    #[error("cannot read the file: {0}")]
    Read(#[from] csv::Error),
}

/// Where each column is in the file.
struct Columns {
    count: usize,
    name: usize,
    kind: Option<usize>,
    region: Option<usize>,
    tier: Option<usize>,
    potential: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::ByteRecord) -> Result<Columns, PartnersFileError> {
        use crate::features::sales::import::{HeaderProblem, header_columns};
        let found =
            header_columns(header, &REQUIRED_COLUMNS, &OPTIONAL_COLUMNS).map_err(|e| match e {
                HeaderProblem::NotUtf8 => PartnersFileError::HeaderNotUtf8,
                HeaderProblem::Duplicate(name) => PartnersFileError::DuplicateColumn(name),
                HeaderProblem::Unknown(names) => PartnersFileError::UnknownColumns(names),
            })?;
        let at = |name: &str| found.get(name).copied();
        Ok(Columns {
            count: header.len(),
            name: at("name").ok_or(PartnersFileError::MissingName)?,
            kind: at("kind"),
            region: at("region"),
            tier: at("tier"),
            potential: at("potential"),
        })
    }
}

/// Checks one row; `Ok(None)` for a blank row. All of a row's problems are reported together.
fn check_row(
    app: &App,
    columns: &Columns,
    record: &csv::ByteRecord,
) -> Result<Option<NewPartner>, String> {
    let mut fields = Vec::with_capacity(record.len());
    for raw in record {
        match std::str::from_utf8(raw) {
            Ok(text) => fields.push(text.trim()),
            Err(_) => {
                return Err(
                    "the row is not valid UTF-8 text (from Excel, save as \"CSV UTF-8\")".into(),
                );
            }
        }
    }
    if fields.iter().all(|f| f.is_empty()) {
        return Ok(None);
    }
    if fields.len() != columns.count {
        return Err(format!(
            "the row has {} field{}, the header has {}",
            fields.len(),
            if fields.len() == 1 { "" } else { "s" },
            columns.count
        ));
    }
    let get = |i: Option<usize>| i.and_then(|i| fields.get(i).copied()).unwrap_or("");
    let mut problems = Vec::new();
    let name = get(Some(columns.name));
    if name.is_empty() {
        problems.push("name is empty".to_string());
    } else if name.chars().count() > MAX_NAME_CHARS {
        problems.push(format!("name is longer than {MAX_NAME_CHARS} characters"));
    }
    let kind_text = get(columns.kind);
    let kind = if kind_text.is_empty() {
        PartnerKind::Dealer
    } else {
        PartnerKind::parse(kind_text).unwrap_or_else(|| {
            problems.push(format!(
                "unknown kind {kind_text:?}: use one of {}",
                PartnerKind::ALL.map(|k| k.as_str()).join(", ")
            ));
            PartnerKind::Dealer
        })
    };
    let mut optional = |field: &str, i: Option<usize>| {
        let text = get(i);
        if text.chars().count() > MAX_NAME_CHARS {
            problems.push(format!(
                "{field} is longer than {MAX_NAME_CHARS} characters"
            ));
        }
        (!text.is_empty()).then(|| text.to_string())
    };
    let region = optional("region", columns.region);
    let tier = optional("tier", columns.tier);
    let potential_text = get(columns.potential);
    let potential_minor = if potential_text.is_empty() {
        None
    } else {
        match potential(app, potential_text) {
            Ok(minor) => Some(minor),
            Err(e) => {
                problems.push(e);
                None
            }
        }
    };
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(Some(NewPartner {
        name: name.to_string(),
        kind,
        region,
        tier,
        potential_minor,
    }))
}

/// A sales potential in program currency (`500000`, `50万`, `¥500k`), in minor units.
fn potential(app: &App, text: &str) -> Result<i64, String> {
    let program = app.config.program.currency;
    let money = amount::parse_amount(text)
        .and_then(|input| amount::to_money(input, program))
        .map_err(|e| format!("bad potential {text:?}: {e}"))?;
    if money.currency() != program {
        return Err(format!(
            "bad potential {text:?}: give it in the program currency, {}",
            program.code()
        ));
    }
    money
        .to_minor()
        .map_err(|e| format!("bad potential {text:?}: {e}"))
}

/// The rows checked since the last commit.
#[derive(Default)]
struct Batch {
    partners: Vec<NewPartner>,
    first_line: u64,
}

/// Imports partners from CSV text. `progress`, if given, is moved to the number of bytes read
/// and its message to the running counts. In the report, `duplicates` counts partners whose
/// name existed (or came earlier in the file).
///
/// A structural problem (no header, no `name` column, an unknown column) is an error before
/// anything is stored. A database error stops the import; batches committed before it stay,
/// and importing the file again skips them.
pub async fn import_partners(
    app: &App,
    reader: impl Read,
    progress: Option<&indicatif::ProgressBar>,
) -> anyhow::Result<ImportReport> {
    let mut file = CsvFile::open(reader);
    if !file.header_record().map_err(PartnersFileError::from)? {
        return Err(PartnersFileError::Empty.into());
    }
    let columns = Columns::from_header(&file.record)?;
    let now = app.now();
    let mut report = ImportReport::default();
    let mut batch = Batch::default();
    // Name keys seen in the file: a name repeated further down is already present.
    let mut seen: HashSet<String> = HashSet::new();
    let mut line = 1;
    loop {
        let unstored = if batch.partners.is_empty() {
            line + 1
        } else {
            batch.first_line
        };
        let more = file.next_record().map_err(|e| {
            anyhow::Error::from(PartnersFileError::from(e)).context(stopped_batch(line, unstored))
        })?;
        if !more {
            break;
        }
        line = file.line();
        if let Some(bar) = progress {
            bar.set_position(file.byte_position());
        }
        let partner = match check_row(app, &columns, &file.record) {
            Ok(Some(p)) => p,
            Ok(None) => continue,
            Err(reason) => {
                report.rejected.push(RowError { line, reason });
                continue;
            }
        };
        if !seen.insert(name_key(&partner.name)) {
            report.duplicates += 1;
            continue;
        }
        if batch.partners.is_empty() {
            batch.first_line = line;
        }
        batch.partners.push(partner);
        if batch.partners.len() == BATCH_ROWS {
            store_batch(app, &mut batch, &mut report, line, now).await?;
            if let Some(bar) = progress {
                bar.set_message(summary(&report));
            }
        }
    }
    store_batch(app, &mut batch, &mut report, line, now).await?;
    if let Some(bar) = progress {
        bar.set_message(summary(&report));
    }
    Ok(report)
}

/// Stores and commits the batch in flight (nothing when it is empty).
async fn store_batch(
    app: &App,
    batch: &mut Batch,
    report: &mut ImportReport,
    line: u64,
    now: i64,
) -> anyhow::Result<()> {
    if batch.partners.is_empty() {
        return Ok(());
    }
    let first = batch.first_line;
    let mut tx = app
        .store
        .begin_batch()
        .await
        .map_err(|e| stopped_at(e, line, first))?;
    let created = partners::create_many(&mut tx, &batch.partners, None, Source::Import, now)
        .await
        .map_err(|e| stopped_at(e, line, first))?;
    tx.commit().await.map_err(|e| stopped_at(e, line, first))?;
    let new = created.len() as u64;
    report.imported += new;
    report.duplicates += batch.partners.len() as u64 - new;
    batch.partners.clear();
    Ok(())
}

/// `imported N, already present M, rejected K`.
pub fn summary(report: &ImportReport) -> String {
    crate::features::sales::import::summary(report)
}
