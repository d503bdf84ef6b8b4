//! `rally import sales`: sales from a CSV file, through the same ledger as chat reports, so
//! period totals (and corrections of locked periods) move with every stored row.
//!
//! The header names the columns, in any order: `partner,amount,date,customer` are required;
//! `currency,category,quantity,external_id,verified` are optional; any other column is an error.
//! Each bad row is reported with its line number and skipped; good rows are kept. Rows are
//! stored in batches of [`BATCH_ROWS`] per transaction: a crash loses at most the batch in
//! flight, and importing the file again skips what was stored (see [`idempotency_key`]).

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;

use crate::app::{App, ConversionError};
use crate::engine::amount;
use crate::engine::audit::AuditAction;
use crate::engine::ids::PartnerId;
use crate::engine::money::Money;
use crate::engine::partner::{MAX_NAME_CHARS, name_key};
use crate::engine::period::Period;
use crate::engine::sale::{SaleSource, initial_status};
use crate::features::sales::ledger;
use crate::store::partners::{self, Lookup};
use crate::store::sales::{Inserted, NewSale};
use crate::store::{self, audit};

/// Rows per transaction.
pub const BATCH_ROWS: usize = 500;

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
        let mut found: HashMap<String, usize> = HashMap::new();
        let mut unknown = Vec::new();
        for (index, raw) in header.iter().enumerate() {
            let written = std::str::from_utf8(raw)
                .map_err(|_| ImportError::HeaderNotUtf8)?
                .trim_start_matches('\u{feff}')
                .trim();
            let name = written.to_lowercase();
            if !REQUIRED_COLUMNS.contains(&name.as_str())
                && !OPTIONAL_COLUMNS.contains(&name.as_str())
            {
                unknown.push(written.to_string());
                continue;
            }
            if found.insert(name.clone(), index).is_some() {
                return Err(ImportError::DuplicateColumn(name));
            }
        }
        if !unknown.is_empty() {
            return Err(ImportError::UnknownColumns(unknown));
        }
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

/// Parses `verified`: true/false, 1/0, yes/no (any case); empty means true.
pub fn parse_verified(text: &str) -> Option<bool> {
    match text.trim().to_lowercase().as_str() {
        "" | "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

/// Parses a strict `YYYY-MM-DD` date.
fn parse_date(text: &str) -> Result<NaiveDate, String> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(format!("bad date {text:?}: expected YYYY-MM-DD"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("bad date {text:?}: there is no such day"))
}

/// The text of one row, validated, before the partner is looked up.
struct Row<'a> {
    partner: &'a str,
    amount: Money,
    program_amount: Money,
    date: NaiveDate,
    customer: &'a str,
    category: Option<&'a str>,
    quantity: Option<i64>,
    external_id: Option<&'a str>,
    verified: bool,
}

/// Checks every field of a row; all problems are reported together, separated by "; ".
fn parse_row<'a>(
    app: &App,
    columns: &Columns,
    fields: &'a [&'a str],
    today: NaiveDate,
) -> Result<Row<'a>, String> {
    let get = |i: usize| fields.get(i).copied().unwrap_or("");
    let optional = |i: Option<usize>| i.map(get).filter(|s| !s.is_empty());
    let program = app.config.program.currency;
    let mut problems = Vec::new();

    let partner = get(columns.partner);
    if partner.is_empty() {
        problems.push("partner is empty".to_string());
    }

    let amount_text = get(columns.amount);
    let currency_text = optional(columns.currency);
    let amounts = amount::parse_amount_with_currency(amount_text, currency_text)
        .and_then(|input| amount::to_money(input, program))
        .map_err(|e| format!("bad amount {amount_text:?}: {e}"))
        .and_then(|money| to_program(app, money).map(|p| (money, p)));
    let amounts = match amounts {
        Ok(a) => Some(a),
        Err(e) => {
            problems.push(e);
            None
        }
    };

    let date_text = get(columns.date);
    let date = match parse_date(date_text) {
        Ok(d) if d > today => {
            problems.push(format!(
                "date {date_text} is in the future (today is {today})"
            ));
            None
        }
        Ok(d) => Some(d),
        Err(e) => {
            problems.push(e);
            None
        }
    };

    let customer = get(columns.customer);
    if customer.is_empty() {
        problems.push("customer is empty".to_string());
    } else if customer.chars().count() > MAX_NAME_CHARS {
        problems.push(format!(
            "customer is longer than {MAX_NAME_CHARS} characters"
        ));
    }

    let category = optional(columns.category);
    if category.is_some_and(|c| c.chars().count() > MAX_NAME_CHARS) {
        problems.push(format!(
            "category is longer than {MAX_NAME_CHARS} characters"
        ));
    }

    let quantity = match optional(columns.quantity) {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(q) if q > 0 => Some(q),
            _ => {
                problems.push(format!(
                    "bad quantity {text:?}: expected a positive whole number"
                ));
                None
            }
        },
    };

    let verified_text = columns.verified.map(get).unwrap_or("");
    let verified = parse_verified(verified_text).unwrap_or_else(|| {
        problems.push(format!(
            "bad verified value {verified_text:?}: use true/false, 1/0 or yes/no"
        ));
        true
    });

    let external_id = optional(columns.external_id);

    match (amounts, date) {
        (Some((amount, program_amount)), Some(date)) if problems.is_empty() => Ok(Row {
            partner,
            amount,
            program_amount,
            date,
            customer,
            category,
            quantity,
            external_id,
            verified,
        }),
        _ => Err(problems.join("; ")),
    }
}

/// Converts to program currency at `[program.rates]`, rounded to its minor unit.
fn to_program(app: &App, money: Money) -> Result<Money, String> {
    let converted = app.to_program_money(money).map_err(|e| match e {
        ConversionError::TooLarge => format!("amount {money} is too large to convert"),
        other => other.to_string(),
    })?;
    // Both amounts are stored as whole minor units.
    for m in [&money, &converted] {
        m.to_minor()
            .map_err(|_| format!("amount {m} is too large to store"))?;
    }
    Ok(converted)
}

/// Looks a partner up by name or id, remembering answers for the rest of the file.
async fn resolve_partner(
    conn: &mut store::Conn,
    cache: &mut HashMap<String, Result<PartnerId, String>>,
    text: &str,
) -> store::Result<Result<PartnerId, String>> {
    if let Some(known) = cache.get(text) {
        return Ok(known.clone());
    }
    let found = match partners::find_by_name_or_id(conn, text).await? {
        Lookup::Found(p) => Ok(p.id),
        Lookup::Unknown => Err(format!(
            "unknown partner {text:?}: no partner has this name or id"
        )),
        Lookup::Ambiguous { by_name, by_id } => Err(format!(
            "partner {text:?} is ambiguous: it is the name of partner {} and the id of {:?}",
            by_name.id, by_id.name
        )),
    };
    cache.insert(text.to_string(), found.clone());
    Ok(found)
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
    let mut import = Importer::new(app, source_name);
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

/// The CSV reader over the input, with the tape that turns record offsets into line numbers.
struct CsvFile<R: Read> {
    csv: csv::Reader<Recording<R>>,
    tape: Arc<Mutex<Tape>>,
    /// The record last read.
    record: csv::ByteRecord,
}

impl<R: Read> CsvFile<R> {
    fn open(reader: R) -> CsvFile<R> {
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
        if !self.next_record()? {
            return Err(ImportError::Empty);
        }
        // Moves the tape past the header, so data lines are counted from there.
        self.line();
        Columns::from_header(&self.record)
    }

    /// Reads the next record into `self.record`; `false` at the end of the input.
    fn next_record(&mut self) -> csv::Result<bool> {
        self.csv.read_byte_record(&mut self.record)
    }

    /// The line the record last read starts on. Call once per record: the tape forgets what
    /// came before it.
    fn line(&self) -> u64 {
        let start = self.record.position().map_or(0, |p| p.byte());
        self.tape
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .line_at(start)
    }

    /// Bytes of input read so far, for the progress bar.
    fn byte_position(&self) -> u64 {
        self.csv.position().byte()
    }
}

/// The transaction rows are stored in, [`BATCH_ROWS`] at a time.
#[derive(Default)]
struct Batch {
    tx: Option<store::Tx>,
    rows: usize,
    /// First line of the batch in flight: what a crash or error would lose.
    first_line: u64,
}

impl Batch {
    /// The batch's transaction, begun at `line` if none is in flight.
    async fn conn(&mut self, app: &App, line: u64) -> anyhow::Result<&mut store::Tx> {
        match self.tx {
            Some(ref mut tx) => Ok(tx),
            None => {
                self.first_line = line;
                let tx = app
                    .store
                    .begin()
                    .await
                    .map_err(|e| stopped_at(e, line, line))?;
                Ok(self.tx.insert(tx))
            }
        }
    }

    /// Counts a stored row; commits when the batch is full (`true` then).
    async fn stored(&mut self, line: u64) -> anyhow::Result<bool> {
        self.rows += 1;
        if self.rows < BATCH_ROWS {
            return Ok(false);
        }
        let Some(done) = self.tx.take() else {
            return Ok(false);
        };
        done.commit()
            .await
            .map_err(|e| stopped_at(e, line, self.first_line))?;
        self.rows = 0;
        Ok(true)
    }

    /// The first line not stored if the import stopped after `line`.
    fn unstored_from(&self, line: u64) -> u64 {
        if self.tx.is_some() {
            self.first_line
        } else {
            line + 1
        }
    }
}

/// Where the batch stands after one row.
#[derive(Debug, PartialEq, Eq)]
enum AfterRow {
    /// The row was stored, rejected or skipped; the batch in flight (if any) stays open.
    BatchOpen,
    /// The row was stored and completed a batch, which is committed.
    BatchCommitted,
}

/// One import in progress: what every row needs, the partners looked up so far, the batch in
/// flight and the counts.
struct Importer<'a> {
    app: &'a App,
    source_name: &'a str,
    now: i64,
    today: NaiveDate,
    auto_approve_below: Option<Money>,
    partners: HashMap<String, Result<PartnerId, String>>,
    batch: Batch,
    report: ImportReport,
}

impl<'a> Importer<'a> {
    fn new(app: &'a App, source_name: &'a str) -> Importer<'a> {
        let now = app.now();
        let program = app.config.program.currency;
        Importer {
            app,
            source_name,
            now,
            today: app.local_date(now),
            auto_approve_below: app
                .config
                .program
                .auto_approve_below
                .map(|v| Money::new(v, program)),
            partners: HashMap::new(),
            batch: Batch::default(),
            report: ImportReport::default(),
        }
    }

    /// Checks one record and stores it, or records why it is rejected. Errors are database
    /// errors, which stop the import.
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
        let row = match parse_row(self.app, columns, &fields, self.today) {
            Ok(row) => row,
            Err(reason) => return Ok(self.reject(line, reason)),
        };
        let conn = self.batch.conn(self.app, line).await?;
        let partner = resolve_partner(conn, &mut self.partners, row.partner)
            .await
            .map_err(|e| stopped_at(e, line, self.batch.first_line))?;
        let partner_id = match partner {
            Ok(id) => id,
            Err(reason) => return Ok(self.reject(line, reason)),
        };
        let new = self.new_sale(&row, partner_id, line, record);
        // The same transaction again (building the sale needed `self` while it was borrowed).
        let conn = self.batch.conn(self.app, line).await?;
        let (inserted, _) = ledger::record_sale(self.app, conn, &new, self.now)
            .await
            .map_err(|e| stopped_at(e, line, self.batch.first_line))?;
        match inserted {
            Inserted::New(_) => self.report.imported += 1,
            Inserted::Existing(_) => self.report.duplicates += 1,
        }
        Ok(if self.batch.stored(line).await? {
            AfterRow::BatchCommitted
        } else {
            AfterRow::BatchOpen
        })
    }

    fn reject(&mut self, line: u64, reason: String) -> AfterRow {
        self.report.rejected.push(RowError { line, reason });
        AfterRow::BatchOpen
    }

    /// The sale a checked row of a known partner becomes.
    fn new_sale(
        &self,
        row: &Row<'_>,
        partner_id: PartnerId,
        line: u64,
        record: &csv::ByteRecord,
    ) -> NewSale {
        NewSale {
            partner_id,
            amount: row.amount,
            program_amount: row.program_amount,
            customer: row.customer.to_string(),
            customer_key: name_key(row.customer),
            category: row.category.map(str::to_string),
            quantity: row.quantity,
            evidence: None,
            note: None,
            sale_date: row.date.to_string(),
            period: Period::containing(self.app.config.program.period, row.date).key(),
            source: SaleSource::Import,
            idempotency_key: idempotency_key(row.external_id, self.source_name, line, record),
            status: initial_status(
                SaleSource::Import,
                row.verified,
                row.program_amount,
                self.auto_approve_below,
            ),
            reporter: None,
            reported_at: self.now,
        }
    }

    /// Writes the audit entry with the totals and commits it with the last batch; with no
    /// batch in flight, every row is stored already. `line` is the last line read.
    async fn finish(mut self, line: u64) -> anyhow::Result<ImportReport> {
        let unstored = self.batch.unstored_from(line);
        let mut conn = match self.batch.tx.take() {
            Some(conn) => conn,
            None => self.app.store.begin().await?,
        };
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
            self.now,
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
fn stopped_at(e: impl Into<anyhow::Error>, line: u64, batch_line: u64) -> anyhow::Error {
    e.into().context(stopped_batch(line, batch_line))
}

fn stopped_batch(line: u64, batch_line: u64) -> String {
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
    fn verified_values() {
        for yes in ["", "true", "TRUE", "1", "yes", " Yes "] {
            assert_eq!(parse_verified(yes), Some(true), "{yes:?}");
        }
        for no in ["false", "0", "no", "No"] {
            assert_eq!(parse_verified(no), Some(false), "{no:?}");
        }
        assert_eq!(parse_verified("maybe"), None);
    }

    #[test]
    fn dates_are_strict() {
        assert!(parse_date("2026-11-05").is_ok());
        assert!(parse_date("2026-11-5").is_err());
        assert!(parse_date("05/11/2026").is_err());
        assert!(
            parse_date("2026-02-30")
                .unwrap_err()
                .contains("no such day")
        );
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
