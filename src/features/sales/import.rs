//! `rally import sales`: sales from a CSV file, through the same ledger as chat reports, so
//! period totals (and corrections of locked periods) move with every stored row.
//!
//! The header names the columns, in any order: `partner,amount,date,customer` are required;
//! `currency,category,quantity,external_id,verified` are optional; any other column is an error.
//! Each bad row is reported with its line number and skipped; good rows are kept. Rows are
//! checked as they are read and stored in batches of [`BATCH_ROWS`] per transaction, through
//! the ledger's batch path (multi-row inserts, one totals upsert per partner and period): a
//! crash loses at most the batch in flight, and importing the file again skips what was
//! stored (see [`idempotency_key`]). The sales badges of every partner the file names are
//! checked once, after the last batch (checking after each batch re-read the same partners'
//! facts a hundred times over a large file); after a crash, importing the file again checks
//! them.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

use super::intake::{Intake, Problem, SaleText};
use crate::app::App;
use crate::engine::audit::AuditAction;
use crate::engine::ids::PartnerId;
use crate::engine::sale::SaleSource;
use crate::features::community::badges;
use crate::store::sales::NewSale;
use crate::store::{self, audit};

/// Rows per transaction: a crash loses at most this many rows' work (importing the file again
/// stores them). Big enough that per-batch work (one totals upsert per partner and period, the
/// commit's fsync) is spread over many rows.
pub const BATCH_ROWS: usize = 50_000;

/// Columns every file must have.
pub const REQUIRED_COLUMNS: [&str; 4] = ["partner", "amount", "date", "customer"];
/// Columns a file may have.
pub const OPTIONAL_COLUMNS: [&str; 5] = [
    "currency",
    "category",
    "quantity",
    "external_id",
    "verified",
];

/// A rejected row: its line in the file (1 = the header; a row spanning several lines is
/// numbered by its first) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Rows stored as new sales.
    pub imported: u64,
    /// Rows whose sale was stored before (same idempotency key): nothing changed.
    pub duplicates: u64,
    /// Rows skipped, in file order.
    pub rejected: Vec<RowError>,
}

/// Problems with the file as a whole; nothing is stored when one is found.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "the file is empty: the first line must be a header such as `partner,amount,date,customer`"
    )]
    Empty,
    #[error(
        "missing required column{}: {}; the header must name partner, amount, date and customer",
        plural(.0.len()), quoted(.0)
    )]
    MissingColumns(Vec<String>),
    #[error(
        "unknown column{}: {}; allowed: partner, amount, date, customer, currency, category, \
         quantity, external_id, verified",
        plural(.0.len()), quoted(.0)
    )]
    UnknownColumns(Vec<String>),
    #[error("column {0:?} appears twice in the header")]
    DuplicateColumn(String),
    #[error("the header is not valid UTF-8 text (from Excel, save as \"CSV UTF-8\")")]
    HeaderNotUtf8,
    #[error("cannot read the file: {0}")]
    Read(#[from] csv::Error),
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{n:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is wrong with a CSV header, before the caller turns it into its own error.
pub(crate) enum HeaderProblem {
    NotUtf8,
    Duplicate(String),
    Unknown(Vec<String>),
}

/// Each known column's index by its lower-case name. Names are trimmed (and a UTF-8 byte-order
/// mark from Excel dropped); an unknown or repeated column is refused. Shared by every CSV import.
pub(crate) fn header_columns(
    header: &csv::ByteRecord,
    required: &[&str],
    optional: &[&str],
) -> Result<HashMap<String, usize>, HeaderProblem> {
    let mut found: HashMap<String, usize> = HashMap::new();
    let mut unknown = Vec::new();
    for (index, raw) in header.iter().enumerate() {
        let written = std::str::from_utf8(raw)
            .map_err(|_| HeaderProblem::NotUtf8)?
            .trim_start_matches('\u{feff}')
            .trim();
        let name = written.to_lowercase();
        if !required.contains(&name.as_str()) && !optional.contains(&name.as_str()) {
            unknown.push(written.to_string());
            continue;
        }
        if found.insert(name.clone(), index).is_some() {
            return Err(HeaderProblem::Duplicate(name));
        }
    }
    if !unknown.is_empty() {
        return Err(HeaderProblem::Unknown(unknown));
    }
    Ok(found)
}

/// Where each known column is in the file.
#[derive(Clone, Copy, Debug)]
struct Columns {
    count: usize,
    partner: usize,
    amount: usize,
    date: usize,
    customer: usize,
    currency: Option<usize>,
    category: Option<usize>,
    quantity: Option<usize>,
    external_id: Option<usize>,
    verified: Option<usize>,
}

impl Columns {
    fn from_header(header: &csv::ByteRecord) -> Result<Columns, ImportError> {
        let found =
            header_columns(header, &REQUIRED_COLUMNS, &OPTIONAL_COLUMNS).map_err(|e| match e {
                HeaderProblem::NotUtf8 => ImportError::HeaderNotUtf8,
                HeaderProblem::Duplicate(name) => ImportError::DuplicateColumn(name),
                HeaderProblem::Unknown(names) => ImportError::UnknownColumns(names),
            })?;
        let missing: Vec<String> = REQUIRED_COLUMNS
            .iter()
            .filter(|c| !found.contains_key(**c))
            .map(|c| c.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns(missing));
        }
        let at = |name: &str| found.get(name).copied();
        let required = |name: &str| at(name).unwrap_or_default();
        Ok(Columns {
            count: header.len(),
            partner: required("partner"),
            amount: required("amount"),
            date: required("date"),
            customer: required("customer"),
            currency: at("currency"),
            category: at("category"),
            quantity: at("quantity"),
            external_id: at("external_id"),
            verified: at("verified"),
        })
    }
}

/// The bytes the CSV reader has pulled from the input and not yet passed, so a record's byte
/// offset can be turned into its line number. (The CSV reader's own line counter does not
/// count the blank lines it skips, nor always the terminator of the previous record.)
#[derive(Default)]
struct Tape {
    /// Absolute offset of `bytes[0]`.
    base: u64,
    bytes: Vec<u8>,
    /// Line breaks before `base`.
    breaks: u64,
}

impl Tape {
    /// The 1-based line of the first non-empty line at or after byte `start` (where the CSV
    /// reader began a record), forgetting everything before it.
    fn line_at(&mut self, start: u64) -> u64 {
        let rel = usize::try_from(start.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        let skip = self.bytes[rel..]
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let end = rel + skip;
        // A break is "\n", or a "\r" not followed by "\n" (old Mac files).
        let breaks = (0..end)
            .filter(|&i| match self.bytes[i] {
                b'\n' => true,
                b'\r' => self.bytes.get(i + 1) != Some(&b'\n'),
                _ => false,
            })
            .count();
        self.breaks += breaks as u64;
        self.bytes.drain(..end);
        self.base += end as u64;
        self.breaks + 1
    }
}

/// Copies what it reads onto the shared [`Tape`].
struct Recording<R> {
    inner: R,
    tape: Arc<Mutex<Tape>>,
}

impl<R: Read> Read for Recording<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.tape
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes
            .extend_from_slice(&buf[..n]);
        Ok(n)
    }
}

/// FNV-1a, 64 bits: stable across Rust versions and runs, unlike `std`'s hasher.
fn fnv1a(fields: &csv::ByteRecord) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, field) in fields.iter().enumerate() {
        let sep: &[u8] = if i == 0 { b"" } else { b"\x1f" };
        for byte in sep.iter().chain(field) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

/// The idempotency key of a row (sales source `import`): `import:<external_id>` when the row has
/// one, else `import:<file name>:<line>:<hash of the row>`, so importing the same file again
/// stores nothing twice. (A row moved to another line of an edited file counts as new: use
/// `external_id` for files that are edited between imports.)
pub fn idempotency_key(
    external_id: Option<&str>,
    source_name: &str,
    line: u64,
    row: &csv::ByteRecord,
) -> String {
    match external_id {
        Some(id) => format!("import:{id}"),
        None => format!("import:{source_name}:{line}:{:016x}", fnv1a(row)),
    }
}

pub use super::intake::parse_verified;

/// A row's fields as the shared intake reads them; an empty optional cell counts as absent.
fn sale_text<'a>(columns: &Columns, fields: &'a [&'a str]) -> SaleText<'a> {
    let get = |i: usize| fields.get(i).copied().unwrap_or("");
    let optional = |i: Option<usize>| i.map(get).filter(|s| !s.is_empty());
    SaleText {
        partner: get(columns.partner),
        amount: get(columns.amount),
        currency: optional(columns.currency),
        date: get(columns.date),
        customer: get(columns.customer),
        category: optional(columns.category),
        quantity: optional(columns.quantity),
        external_id: optional(columns.external_id),
        verified: columns.verified.map(get),
    }
}

/// One sentence for all of a row's problems, separated by "; ".
fn joined(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| p.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Imports sales from CSV text. `source_name` (the file name) is part of the idempotency key
/// of rows without `external_id`. `progress`, if given, is moved to the number of bytes read
/// (set its length to the input size) and its message to the running counts.
///
/// A structural problem (no header, a missing required or an unknown column) is an
/// [`ImportError`] before anything is stored. A database error stops the import; batches
/// committed before it stay, and importing the file again skips them.
pub async fn import_sales(
    app: &App,
    reader: impl Read,
    source_name: &str,
    progress: Option<&indicatif::ProgressBar>,
) -> anyhow::Result<ImportReport> {
    let mut file = CsvFile::open(reader);
    let columns = file.header()?;
    let mut import = Importer::new(app, source_name).await?;
    let mut line = 1;
    loop {
        let more = file.next_record().map_err(|e| {
            anyhow::Error::from(ImportError::from(e))
                .context(stopped_batch(line, import.batch.unstored_from(line)))
        })?;
        if !more {
            break;
        }
        line = file.line();
        if let Some(bar) = progress {
            bar.set_position(file.byte_position());
        }
        if import.row(&columns, &file.record, line).await? == AfterRow::BatchCommitted
            && let Some(bar) = progress
        {
            bar.set_message(summary(&import.report));
        }
    }
    let report = import.finish(line).await?;
    if let Some(bar) = progress {
        bar.set_message(summary(&report));
    }
    Ok(report)
}

/// The CSV reader over the input, with the tape that turns record offsets into line numbers
/// (also the partners import's, `features::membership::import`).
pub(crate) struct CsvFile<R: Read> {
    csv: csv::Reader<Recording<R>>,
    tape: Arc<Mutex<Tape>>,
    /// The record last read.
    pub(crate) record: csv::ByteRecord,
}

impl<R: Read> CsvFile<R> {
    pub(crate) fn open(reader: R) -> CsvFile<R> {
        let tape = Arc::new(Mutex::new(Tape::default()));
        let csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Recording {
                inner: reader,
                tape: Arc::clone(&tape),
            });
        CsvFile {
            csv,
            tape,
            record: csv::ByteRecord::new(),
        }
    }

    /// Reads the header line and finds the columns in it.
    fn header(&mut self) -> Result<Columns, ImportError> {
        if !self.header_record()? {
            return Err(ImportError::Empty);
        }
        Columns::from_header(&self.record)
    }

    /// Reads the header line into `self.record`; `false` if the input is empty.
    pub(crate) fn header_record(&mut self) -> csv::Result<bool> {
        if !self.next_record()? {
            return Ok(false);
        }
        // Moves the tape past the header, so data lines are counted from there.
        self.line();
        Ok(true)
    }

    /// Reads the next record into `self.record`; `false` at the end of the input.
    pub(crate) fn next_record(&mut self) -> csv::Result<bool> {
        self.csv.read_byte_record(&mut self.record)
    }

    /// The line the record last read starts on. Call once per record: the tape forgets what
    /// came before it.
    pub(crate) fn line(&self) -> u64 {
        let start = self.record.position().map_or(0, |p| p.byte());
        self.tape
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .line_at(start)
    }

    /// Bytes of input read so far, for the progress bar.
    pub(crate) fn byte_position(&self) -> u64 {
        self.csv.position().byte()
    }
}

/// The rows read and checked since the last commit: stored together, [`BATCH_ROWS`] at a time.
#[derive(Default)]
struct Batch {
    sales: Vec<NewSale>,
    /// First line of the batch in flight: what a crash or error would lose.
    first_line: u64,
}

impl Batch {
    /// The first line not stored if the import stopped after `line`.
    fn unstored_from(&self, line: u64) -> u64 {
        if self.sales.is_empty() {
            line + 1
        } else {
            self.first_line
        }
    }
}

/// Where the batch stands after one row.
#[derive(Debug, PartialEq, Eq)]
enum AfterRow {
    /// The row was kept for the batch in flight, rejected or skipped.
    BatchOpen,
    /// The row completed a batch, which is committed.
    BatchCommitted,
}

/// One import in progress: what every row needs, the partners (all read once), the batch in
/// flight and the counts.
struct Importer<'a> {
    app: &'a App,
    source_name: &'a str,
    intake: Intake<'a>,
    batch: Batch,
    report: ImportReport,
    /// Every partner of a good row, stored now or before: their sales badges are checked once
    /// at the end.
    partners: HashSet<PartnerId>,
}

impl<'a> Importer<'a> {
    async fn new(app: &'a App, source_name: &'a str) -> anyhow::Result<Importer<'a>> {
        let mut intake = Intake::new(app, SaleSource::Import);
        let mut conn = app.store.read().await?;
        intake.load_partners(&mut conn).await?;
        Ok(Importer {
            app,
            source_name,
            intake,
            batch: Batch::default(),
            report: ImportReport::default(),
            partners: HashSet::new(),
        })
    }

    /// Checks one record and keeps it for the batch, or records why it is rejected; stores
    /// the batch when it is full. Errors are database errors, which stop the import.
    async fn row(
        &mut self,
        columns: &Columns,
        record: &csv::ByteRecord,
        line: u64,
    ) -> anyhow::Result<AfterRow> {
        let fields = match row_fields(record, columns) {
            Ok(Some(fields)) => fields,
            Ok(None) => return Ok(AfterRow::BatchOpen),
            Err(reason) => return Ok(self.reject(line, reason)),
        };
        let sale = match self.intake.check(&sale_text(columns, &fields)) {
            Ok(sale) => sale,
            Err(problems) => return Ok(self.reject(line, joined(&problems))),
        };
        let partner = match self.intake.partner_loaded(sale.partner) {
            Some(found) => found,
            None => anyhow::bail!("the partner directory was not loaded"),
        };
        let partner_id = match partner {
            Ok(id) => id,
            Err(problem) => return Ok(self.reject(line, problem.message)),
        };
        self.partners.insert(partner_id);
        let key = idempotency_key(sale.external_id, self.source_name, line, record);
        if self.batch.sales.is_empty() {
            self.batch.first_line = line;
        }
        self.batch
            .sales
            .push(self.intake.new_sale(&sale, partner_id, key));
        if self.batch.sales.len() < BATCH_ROWS {
            return Ok(AfterRow::BatchOpen);
        }
        let tx = self.store_batch(line).await?;
        tx.commit()
            .await
            .map_err(|e| stopped_at(e, line, self.batch.first_line))?;
        self.batch.sales.clear();
        Ok(AfterRow::BatchCommitted)
    }

    /// Stores the batch in flight in a new transaction, left open for the caller to commit;
    /// counts what was stored (the counts of a batch that then fails to commit are not
    /// reported: the error stops the import).
    async fn store_batch(&mut self, line: u64) -> anyhow::Result<store::Tx> {
        let batch_line = self.batch.first_line;
        let mut tx = self
            .app
            .store
            .begin_batch()
            .await
            .map_err(|e| stopped_at(e, line, batch_line))?;
        let stored = self
            .intake
            .record_many(&mut tx, &self.batch.sales)
            .await
            .map_err(|e| stopped_at(e, line, batch_line))?;
        let new = stored.iter().filter(|s| **s).count() as u64;
        self.report.imported += new;
        self.report.duplicates += stored.len() as u64 - new;
        Ok(tx)
    }

    fn reject(&mut self, line: u64, reason: String) -> AfterRow {
        self.report.rejected.push(RowError { line, reason });
        AfterRow::BatchOpen
    }

    /// Stores the last batch and writes the audit entry with the totals in its transaction.
    /// `line` is the last line read.
    async fn finish(mut self, line: u64) -> anyhow::Result<ImportReport> {
        let unstored = self.batch.unstored_from(line);
        let mut conn = if self.batch.sales.is_empty() {
            self.app.store.begin().await?
        } else {
            self.store_batch(line).await?
        };
        let mut partners: Vec<PartnerId> = self.partners.drain().collect();
        partners.sort_unstable_by_key(|p| p.0);
        let now = self.intake.now();
        badges::check_after_sales(
            self.app,
            &mut conn,
            &partners,
            &format!("import:{}:{now}", self.source_name),
            now,
        )
        .await
        .map_err(|e| stopped_at(e, line, unstored))?;
        audit::record(
            &mut conn,
            None,
            AuditAction::SalesImport,
            &format!("file {}", self.source_name),
            None,
            Some(&serde_json::json!({
                "imported": self.report.imported,
                "duplicates": self.report.duplicates,
                "rejected": self.report.rejected.len(),
                "source": "cli",
            })),
            self.intake.now(),
        )
        .await
        .map_err(|e| stopped_at(e, line, unstored))?;
        conn.commit()
            .await
            .map_err(|e| stopped_at(e, line, unstored))?;
        Ok(self.report)
    }
}

/// The trimmed fields of a record: `Ok(None)` for a blank row (`,,,`, as spreadsheets leave
/// them), `Err` for a row that is not UTF-8 or does not match the header's field count.
fn row_fields<'r>(
    record: &'r csv::ByteRecord,
    columns: &Columns,
) -> Result<Option<Vec<&'r str>>, String> {
    let mut fields = Vec::with_capacity(record.len());
    for raw in record {
        match std::str::from_utf8(raw) {
            Ok(text) => fields.push(text.trim()),
            Err(_) => {
                return Err(
                    "the row is not valid UTF-8 text (from Excel, save as \"CSV UTF-8\")"
                        .to_string(),
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
            plural(fields.len()),
            columns.count
        ));
    }
    Ok(Some(fields))
}

/// A database error that stopped the import at `line`, saying what is stored.
pub(crate) fn stopped_at(e: impl Into<anyhow::Error>, line: u64, batch_line: u64) -> anyhow::Error {
    e.into().context(stopped_batch(line, batch_line))
}

pub(crate) fn stopped_batch(line: u64, batch_line: u64) -> String {
    format!(
        "import stopped at line {line}; rows before line {batch_line} are stored, the rest not: \
         importing the file again skips what is stored"
    )
}

/// `imported N, already present M, rejected K`.
pub fn summary(report: &ImportReport) -> String {
    format!(
        "imported {}, already present {}, rejected {}",
        report.imported,
        report.duplicates,
        report.rejected.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tape_counts_lines_across_blank_lines_and_quoted_breaks() {
        let data = "\u{feff}a,b\r\n\r\n1,2\r\n\n\n3,\"x\ny\"\n4,5\n\n6,7";
        let tape = Arc::new(Mutex::new(Tape::default()));
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(Recording {
                inner: data.as_bytes(),
                tape: Arc::clone(&tape),
            });
        let mut record = csv::ByteRecord::new();
        let mut lines = Vec::new();
        while csv.read_byte_record(&mut record).expect("read") {
            let start = record.position().map_or(0, |p| p.byte());
            lines.push(tape.lock().expect("tape").line_at(start));
        }
        assert_eq!(lines, vec![1, 3, 6, 8, 10]);
    }

    #[test]
    fn header_errors_name_columns() {
        let header = |s: &str| csv::ByteRecord::from(s.split(',').collect::<Vec<_>>());
        let missing = Columns::from_header(&header("partner,amount")).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "missing required columns: \"date\", \"customer\"; the header must name partner, \
             amount, date and customer"
        );
        let unknown = Columns::from_header(&header("partner,amount,date,customer,colour"))
            .unwrap_err()
            .to_string();
        assert!(
            unknown.starts_with("unknown column: \"colour\";"),
            "{unknown}"
        );
        let ok = Columns::from_header(&header(" Customer ,DATE,amount,partner,verified"))
            .expect("any order and case");
        assert_eq!((ok.customer, ok.date, ok.verified), (0, 1, Some(4)));
    }

    #[test]
    fn keys_are_stable() {
        let row = csv::ByteRecord::from(vec!["a", "b"]);
        assert_eq!(idempotency_key(Some("X-1"), "f.csv", 3, &row), "import:X-1");
        assert_eq!(
            idempotency_key(None, "f.csv", 3, &row),
            format!("import:f.csv:3:{:016x}", fnv1a(&row))
        );
        assert_ne!(fnv1a(&row), fnv1a(&csv::ByteRecord::from(vec!["ab", ""])));
    }
}
