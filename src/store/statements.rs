//! Statement facts and locked snapshots: closed periods, statement snapshots, adjustments.

use std::collections::{BTreeMap, HashMap};

use super::{Conn, Result, col};
use crate::engine::ids::{MemberId, PartnerId, SaleId};

/// Approved sales of one partner in one period, split by category (`None`: no category), in
/// minor units of program currency.
pub async fn approved_by_category(
    conn: &mut Conn,
    partner: PartnerId,
    period: &str,
) -> Result<BTreeMap<Option<String>, i64>> {
    let rows = sqlx::query(
        "SELECT category, CAST(SUM(program_minor) AS BIGINT) AS total FROM sales \
         WHERE partner_id = $1 AND period = $2 AND status = 'approved' GROUP BY category",
    )
    .bind(partner.0)
    .bind(period)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((col(r, "category")?, col(r, "total")?)))
        .collect()
}

/// The same for every partner of a period, in one pass over the period's sales. The rows are
/// summed here rather than with `GROUP BY`: without an index that orders them, SQLite would sort
/// the whole period into a temporary tree first, costing several times the read itself.
pub async fn approved_by_partner_and_category(
    conn: &mut Conn,
    period: &str,
) -> Result<HashMap<PartnerId, BTreeMap<Option<String>, i64>>> {
    use futures_util::TryStreamExt;
    let mut rows = sqlx::query(
        "SELECT partner_id, category, program_minor FROM sales \
         WHERE period = $1 AND status = 'approved'",
    )
    .bind(period)
    .fetch(&mut *conn);
    let mut out: HashMap<PartnerId, BTreeMap<Option<String>, i64>> = HashMap::new();
    while let Some(r) = rows.try_next().await? {
        let minor: i64 = col(&r, "program_minor")?;
        *out.entry(PartnerId(col(&r, "partner_id")?))
            .or_default()
            .entry(col(&r, "category")?)
            .or_insert(0) += minor;
    }
    Ok(out)
}

/// Approved totals of every partner in a period (from the maintained totals).
pub async fn approved_totals(conn: &mut Conn, period: &str) -> Result<HashMap<PartnerId, i64>> {
    let rows =
        sqlx::query("SELECT partner_id, approved_minor FROM period_totals WHERE period = $1")
            .bind(period)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter()
        .map(|r| Ok((PartnerId(col(r, "partner_id")?), col(r, "approved_minor")?)))
        .collect()
}

/// Partner targets of a period.
pub async fn targets(conn: &mut Conn, period: &str) -> Result<HashMap<PartnerId, i64>> {
    let rows = sqlx::query("SELECT partner_id, amount_minor FROM targets WHERE period = $1")
        .bind(period)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((PartnerId(col(r, "partner_id")?), col(r, "amount_minor")?)))
        .collect()
}

pub async fn is_closed(conn: &mut Conn, period: &str) -> Result<bool> {
    let row = sqlx::query("SELECT 1 AS one FROM closed_periods WHERE period = $1")
        .bind(period)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(row.is_some())
}

/// Marks a period closed; `false` if it was closed already.
pub async fn close(conn: &mut Conn, period: &str, by: Option<MemberId>, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO closed_periods (period, closed_at, closed_by) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(period)
    .bind(now)
    .bind(by.map(|m| m.0))
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// All closed periods, as keys.
pub async fn closed_periods(conn: &mut Conn) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT period FROM closed_periods ORDER BY period")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(|r| col(r, "period")).collect()
}

/// A stored, locked statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub partner: PartnerId,
    pub period: String,
    /// The plan version it was computed with (`None`: no plan applied).
    pub plan: Option<(String, u32)>,
    pub currency: String,
    pub total_minor: i64,
    /// The locked document: its facts (see `features::statements::service`), or the full
    /// statement as JSON for periods locked before facts were stored.
    pub document: String,
}

/// Rows per multi-row snapshot insert.
const SNAPSHOT_CHUNK: usize = 250;

/// Inserts many snapshots with multi-row statements: closing a period writes one row per
/// partner, and one round trip per row would dominate the close.
pub async fn insert_snapshots(conn: &mut Conn, rows: &[Snapshot], now: i64) -> Result<()> {
    for chunk in rows.chunks(SNAPSHOT_CHUNK) {
        let text = format!(
            "INSERT INTO statements (partner_id, period, plan_id, plan_version, currency, \
             total_minor, lines, locked_at) VALUES {}",
            super::values_list(conn, chunk.len(), 8, "")
        );
        let mut query = sqlx::query(super::sql(text));
        for row in chunk {
            query = query
                .bind(row.partner.0)
                .bind(row.period.as_str())
                .bind(row.plan.as_ref().map(|p| p.0.as_str()))
                .bind(row.plan.as_ref().map(|p| i64::from(p.1)))
                .bind(row.currency.as_str())
                .bind(row.total_minor)
                .bind(row.document.as_str())
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

const SNAPSHOT_COLUMNS: &str = "partner_id, period, plan_id, plan_version, currency, \
     total_minor, lines";

fn snapshot_row(r: &sqlx::any::AnyRow) -> Result<Snapshot> {
    let plan_id: Option<String> = col(r, "plan_id")?;
    let plan_version: Option<i64> = col(r, "plan_version")?;
    Ok(Snapshot {
        partner: PartnerId(col(r, "partner_id")?),
        period: col(r, "period")?,
        plan: match (plan_id, plan_version) {
            (Some(id), Some(v)) => Some((id, u32::try_from(v).unwrap_or(0))),
            _ => None,
        },
        currency: col(r, "currency")?,
        total_minor: col(r, "total_minor")?,
        document: col(r, "lines")?,
    })
}

pub async fn snapshot(
    conn: &mut Conn,
    partner: PartnerId,
    period: &str,
) -> Result<Option<Snapshot>> {
    let row = sqlx::query(super::sql(format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM statements WHERE partner_id = $1 AND period = $2"
    )))
    .bind(partner.0)
    .bind(period)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(snapshot_row).transpose()
}

/// Every snapshot of a period, by partner id, as a stream: an export writes each as it is
/// read, so its memory does not grow with the number of partners.
pub fn snapshots<'c>(
    conn: &'c mut Conn,
    period: &'c str,
) -> impl futures_util::Stream<Item = Result<Snapshot>> + 'c {
    use futures_util::StreamExt;
    sqlx::query(super::sql(format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM statements WHERE period = $1 ORDER BY partner_id"
    )))
    .bind(period)
    .fetch(conn)
    .map(|row| snapshot_row(&row?))
}

/// Stores the plan versions a period's statements were locked with (once per period, plan
/// and version; a second close of the same period is refused before this).
pub async fn insert_plans(
    conn: &mut Conn,
    period: &str,
    plans: &[(String, u32, String)],
) -> Result<()> {
    for (id, version, definition) in plans {
        sqlx::query(
            "INSERT INTO statement_plans (period, plan_id, plan_version, definition) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(period)
        .bind(id.as_str())
        .bind(i64::from(*version))
        .bind(definition.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// The plan versions a period was locked with: (plan id, version) → definition (JSON).
pub async fn plans_of_period(
    conn: &mut Conn,
    period: &str,
) -> Result<HashMap<(String, u32), String>> {
    let rows = sqlx::query(
        "SELECT plan_id, plan_version, definition FROM statement_plans WHERE period = $1",
    )
    .bind(period)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            let version: i64 = col(r, "plan_version")?;
            Ok((
                (col(r, "plan_id")?, u32::try_from(version).unwrap_or(0)),
                col(r, "definition")?,
            ))
        })
        .collect()
}

/// A manual adjustment or a correction of a locked period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Adjustment {
    pub id: i64,
    pub partner: PartnerId,
    pub period: String,
    pub amount_minor: i64,
    pub reason: String,
    pub source_period: Option<String>,
    pub sale: Option<SaleId>,
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_adjustment(
    conn: &mut Conn,
    partner: PartnerId,
    period: &str,
    amount_minor: i64,
    reason: &str,
    source_period: Option<&str>,
    sale: Option<SaleId>,
    by: Option<MemberId>,
    now: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO adjustments (partner_id, period, amount_minor, reason, source_period, sale_id, \
         created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(partner.0)
    .bind(period)
    .bind(amount_minor)
    .bind(reason)
    .bind(source_period)
    .bind(sale.map(|s| s.0))
    .bind(by.map(|m| m.0))
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "id")
}

fn adjustment(r: &sqlx::any::AnyRow) -> Result<Adjustment> {
    Ok(Adjustment {
        id: col(r, "id")?,
        partner: PartnerId(col(r, "partner_id")?),
        period: col(r, "period")?,
        amount_minor: col(r, "amount_minor")?,
        reason: col(r, "reason")?,
        source_period: col(r, "source_period")?,
        sale: col::<Option<i64>>(r, "sale_id")?.map(SaleId),
    })
}

const ADJUSTMENT_COLUMNS: &str =
    "id, partner_id, period, amount_minor, reason, source_period, sale_id";

/// Adjustments landing on one partner's statement of `period`, oldest first.
pub async fn adjustments(
    conn: &mut Conn,
    partner: PartnerId,
    period: &str,
) -> Result<Vec<Adjustment>> {
    let rows = sqlx::query(super::sql(format!(
        "SELECT {ADJUSTMENT_COLUMNS} FROM adjustments WHERE partner_id = $1 AND period = $2 ORDER BY id"
    )))
    .bind(partner.0)
    .bind(period)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(adjustment).collect()
}

/// Adjustments of every partner landing on `period`.
pub async fn adjustments_of_period(conn: &mut Conn, period: &str) -> Result<Vec<Adjustment>> {
    let rows = sqlx::query(super::sql(format!(
        "SELECT {ADJUSTMENT_COLUMNS} FROM adjustments WHERE period = $1 ORDER BY id"
    )))
    .bind(period)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(adjustment).collect()
}

/// Corrections already booked for a locked period of a partner (in whatever period they landed).
pub async fn corrections_for(
    conn: &mut Conn,
    partner: PartnerId,
    source_period: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(amount_minor), 0) AS BIGINT) AS total FROM adjustments \
         WHERE partner_id = $1 AND source_period = $2",
    )
    .bind(partner.0)
    .bind(source_period)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "total")
}
