//! The sales ledger.

use sqlx::any::AnyRow;

use super::{Conn, Result, StoreError, col, parse_col, sql};
use crate::engine::ids::{MemberId, PartnerId, SaleId};
use crate::engine::money::{Currency, Money};
use crate::engine::sale::{Sale, SaleSource, SaleStatus};

/// A sale about to be stored; amounts are already exact and rounded.
#[derive(Clone, Debug)]
pub struct NewSale {
    pub partner_id: PartnerId,
    pub amount: Money,
    pub program_amount: Money,
    pub customer: String,
    pub customer_key: String,
    pub category: Option<String>,
    /// Units sold, when known (imports).
    pub quantity: Option<i64>,
    /// A platform file reference (e.g. a Telegram photo's file id) proving the sale.
    pub evidence: Option<String>,
    pub note: Option<String>,
    /// Local date `YYYY-MM-DD`.
    pub sale_date: String,
    pub period: String,
    pub source: SaleSource,
    pub idempotency_key: String,
    pub status: SaleStatus,
    pub reporter: Option<MemberId>,
    pub reported_at: i64,
}

impl NewSale {
    /// The sale as stored under `id`: everything else is what was written.
    pub fn stored_as(&self, id: SaleId) -> Sale {
        Sale {
            id,
            partner_id: self.partner_id,
            amount: self.amount,
            program_amount: self.program_amount,
            customer: self.customer.clone(),
            category: self.category.clone(),
            quantity: self.quantity,
            evidence: self.evidence.clone(),
            note: self.note.clone(),
            source: self.source,
            status: self.status,
            reporter: self.reporter,
            period: self.period.clone(),
            reported_at: self.reported_at,
            decided_by: None,
            reason: None,
        }
    }
}

/// Whether an insert stored a new sale or found the one stored for the same idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inserted {
    New(Sale),
    Existing(Sale),
}

const COLUMNS: &str = "id, partner_id, amount_minor, currency, program_minor, customer, category, \
     quantity, note, period, source, status, reporter_id, reported_at, decided_by, reason, evidence";

fn money(minor: i64, code: &str) -> Result<Money> {
    let currency = Currency::parse(code)
        .map_err(|_| StoreError::Corrupt(format!("unexpected currency {code:?}")))?;
    Ok(Money::from_minor(minor, currency))
}

fn from_row(row: &AnyRow, program: Currency) -> Result<Sale> {
    let currency: String = col(row, "currency")?;
    let source: String = col(row, "source")?;
    let status: String = col(row, "status")?;
    Ok(Sale {
        id: SaleId(col(row, "id")?),
        partner_id: PartnerId(col(row, "partner_id")?),
        amount: money(col(row, "amount_minor")?, &currency)?,
        program_amount: Money::from_minor(col(row, "program_minor")?, program),
        customer: col(row, "customer")?,
        category: col(row, "category")?,
        quantity: col(row, "quantity")?,
        evidence: col(row, "evidence")?,
        note: col(row, "note")?,
        source: parse_col(&source, "sales.source", SaleSource::parse)?,
        status: parse_col(&status, "sales.status", SaleStatus::parse)?,
        reporter: col::<Option<i64>>(row, "reporter_id")?.map(MemberId),
        period: col(row, "period")?,
        reported_at: col(row, "reported_at")?,
        decided_by: col::<Option<i64>>(row, "decided_by")?.map(MemberId),
        reason: col(row, "reason")?,
    })
}

fn minor(m: &Money) -> Result<i64> {
    m.to_minor()
        .map_err(|e| StoreError::Corrupt(format!("amount {m} is not storable: {e}")))
}

/// Stores a sale unless one with the same (source, idempotency key) exists; either way returns
/// the stored sale, so a redelivered report never makes a second one.
pub async fn insert(conn: &mut Conn, new: &NewSale) -> Result<Inserted> {
    let program = new.program_amount.currency();
    let row = sqlx::query(
        "INSERT INTO sales (partner_id, amount_minor, currency, program_minor, customer, \
         customer_key, category, quantity, note, sale_date, period, source, idempotency_key, \
         status, reporter_id, reported_at, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) \
         ON CONFLICT (source, idempotency_key) DO NOTHING RETURNING id",
    )
    .bind(new.partner_id.0)
    .bind(minor(&new.amount)?)
    .bind(new.amount.currency().code().to_string())
    .bind(minor(&new.program_amount)?)
    .bind(&new.customer)
    .bind(&new.customer_key)
    .bind(new.category.as_deref())
    .bind(new.quantity)
    .bind(new.note.as_deref())
    .bind(&new.sale_date)
    .bind(&new.period)
    .bind(new.source.as_str())
    .bind(&new.idempotency_key)
    .bind(new.status.as_str())
    .bind(new.reporter.map(|m| m.0))
    .bind(new.reported_at)
    .bind(new.evidence.as_deref())
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(row) = row {
        // Everything else is what was just written: only the id comes back.
        return Ok(Inserted::New(new.stored_as(SaleId(col(&row, "id")?))));
    }
    let existing = by_key(&mut *conn, new.source, &new.idempotency_key, program)
        .await?
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "sale {} neither inserted nor found",
                new.idempotency_key
            ))
        })?;
    Ok(Inserted::Existing(existing))
}

/// The sale stored under (source, idempotency key), if any.
pub async fn by_key(
    conn: &mut Conn,
    source: SaleSource,
    idempotency_key: &str,
    program: Currency,
) -> Result<Option<Sale>> {
    let row = sqlx::query(sql(format!(
        "SELECT {COLUMNS} FROM sales WHERE source = $1 AND idempotency_key = $2"
    )))
    .bind(source.as_str())
    .bind(idempotency_key)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(|r| from_row(r, program)).transpose()
}

pub async fn get(conn: &mut Conn, id: SaleId, program: Currency) -> Result<Option<Sale>> {
    let row = sqlx::query(sql(format!("SELECT {COLUMNS} FROM sales WHERE id = $1")))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| from_row(&r, program)).transpose()
}

/// A partner's latest sales, newest first.
pub async fn recent_for_partner(
    conn: &mut Conn,
    partner: PartnerId,
    limit: i64,
    program: Currency,
) -> Result<Vec<Sale>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {COLUMNS} FROM sales WHERE partner_id = $1 ORDER BY id DESC LIMIT $2"
    )))
    .bind(partner.0)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| from_row(r, program)).collect()
}

/// Pending sales, oldest first, with the partner's name.
pub async fn pending(
    conn: &mut Conn,
    limit: i64,
    program: Currency,
) -> Result<Vec<(Sale, String)>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {}, p.name AS partner_name FROM sales s JOIN partners p ON p.id = s.partner_id \
         WHERE s.status = 'pending' ORDER BY s.id LIMIT $1",
        COLUMNS
            .split(", ")
            .map(|c| format!("s.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ")
    )))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((from_row(r, program)?, col(r, "partner_name")?)))
        .collect()
}

/// Moves a sale from `from` to `to`. `false` if it was no longer in `from` (someone else
/// decided first), so two managers clicking at once cannot both change the totals.
pub async fn set_status(
    conn: &mut Conn,
    id: SaleId,
    from: SaleStatus,
    to: SaleStatus,
    decided_by: MemberId,
    reason: Option<&str>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE sales SET status = $1, decided_by = $2, decided_at = $3, reason = $4 \
         WHERE id = $5 AND status = $6",
    )
    .bind(to.as_str())
    .bind(decided_by.0)
    .bind(now)
    .bind(reason)
    .bind(id.0)
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Number of pending sales of a partner in a period.
pub async fn count_pending(conn: &mut Conn, partner: PartnerId) -> Result<i64> {
    let row =
        sqlx::query("SELECT COUNT(*) AS n FROM sales WHERE partner_id = $1 AND status = 'pending'")
            .bind(partner.0)
            .fetch_one(&mut *conn)
            .await?;
    col(&row, "n")
}

/// A sale's local date (`YYYY-MM-DD`) and customer as written (contests need them).
pub async fn date_and_customer(conn: &mut Conn, id: SaleId) -> Result<(String, String)> {
    let row = sqlx::query("SELECT sale_date, customer FROM sales WHERE id = $1")
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await?;
    Ok((col(&row, "sale_date")?, col(&row, "customer")?))
}

// --- community: deals ---

/// Gives a pending sale to `partner` at the amounts given, approved, as a manager's decision of
/// a channel conflict. `false` if it was no longer pending (someone else decided first).
#[allow(clippy::too_many_arguments)]
pub async fn approve_reassigned(
    conn: &mut Conn,
    id: SaleId,
    partner: PartnerId,
    amount_minor: i64,
    program_minor: i64,
    decided_by: MemberId,
    reason: Option<&str>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE sales SET partner_id = $1, amount_minor = $2, program_minor = $3, \
         status = 'approved', decided_by = $4, decided_at = $5, reason = $6 \
         WHERE id = $7 AND status = 'pending'",
    )
    .bind(partner.0)
    .bind(amount_minor)
    .bind(program_minor)
    .bind(decided_by.0)
    .bind(now)
    .bind(reason)
    .bind(id.0)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A sale's local date, customer key and category (a split part copies them).
pub async fn date_key_and_category(
    conn: &mut Conn,
    id: SaleId,
) -> Result<(String, String, Option<String>)> {
    let row = sqlx::query("SELECT sale_date, customer_key, category FROM sales WHERE id = $1")
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await?;
    Ok((
        col(&row, "sale_date")?,
        col(&row, "customer_key")?,
        col(&row, "category")?,
    ))
}

/// Rows per multi-row sales insert: 17 values each, well under SQLite's 32,766 variables.
const INSERT_CHUNK: usize = 1_000;

/// Stores many sales with multi-row `INSERT … ON CONFLICT DO NOTHING` statements (one round
/// trip per [`INSERT_CHUNK`] rows instead of one per row); a sale whose (source, idempotency key)
/// is stored already is skipped. Returns, per sale in order, its new id if it was stored now.
/// The keys must be unique within `news` (the caller keeps the first of a repeated key).
pub async fn insert_many(conn: &mut Conn, news: &[&NewSale]) -> Result<Vec<Option<SaleId>>> {
    let mut stored = Vec::with_capacity(news.len());
    for chunk in news.chunks(INSERT_CHUNK) {
        let text = format!(
            "INSERT INTO sales (partner_id, amount_minor, currency, program_minor, customer, \
             customer_key, category, quantity, note, sale_date, period, source, idempotency_key, \
             status, reporter_id, reported_at, evidence) VALUES {} \
             ON CONFLICT (source, idempotency_key) DO NOTHING RETURNING id, idempotency_key",
            super::values_list(conn, chunk.len(), 17, "")
        );
        let mut query = sqlx::query(sql(text));
        for new in chunk {
            query = query
                .bind(new.partner_id.0)
                .bind(minor(&new.amount)?)
                .bind(new.amount.currency().code().to_string())
                .bind(minor(&new.program_amount)?)
                .bind(new.customer.as_str())
                .bind(new.customer_key.as_str())
                .bind(new.category.as_deref())
                .bind(new.quantity)
                .bind(new.note.as_deref())
                .bind(new.sale_date.as_str())
                .bind(new.period.as_str())
                .bind(new.source.as_str())
                .bind(new.idempotency_key.as_str())
                .bind(new.status.as_str())
                .bind(new.reporter.map(|m| m.0))
                .bind(new.reported_at)
                .bind(new.evidence.as_deref());
        }
        let rows = query.fetch_all(&mut *conn).await?;
        let mut new_keys = std::collections::HashMap::with_capacity(rows.len());
        for row in &rows {
            new_keys.insert(
                col::<String>(row, "idempotency_key")?,
                SaleId(col(row, "id")?),
            );
        }
        stored.extend(
            chunk
                .iter()
                .map(|n| new_keys.get(n.idempotency_key.as_str()).copied()),
        );
    }
    Ok(stored)
}
