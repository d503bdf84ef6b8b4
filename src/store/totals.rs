//! Period totals per partner, maintained in the same transaction as each sale change; the
//! leaderboard is built from here (through `store::rank_cache`), never from the sales.

use super::{Conn, Result, col, sql};
use crate::engine::ids::PartnerId;

/// Which total ranks partners: approved sales only, or approved plus pending
/// (`program.rank_pending`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RankBasis {
    Approved,
    Provisional,
}

impl RankBasis {
    pub(crate) fn columns(self) -> (&'static str, &'static str) {
        match self {
            RankBasis::Approved => ("approved_minor", "approved_at"),
            RankBasis::Provisional => ("provisional_minor", "provisional_at"),
        }
    }
}

/// One partner's totals in one period.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PeriodTotals {
    pub approved_minor: i64,
    pub approved_count: i64,
    pub provisional_minor: i64,
    pub pending_count: i64,
}

impl PeriodTotals {
    /// These totals as they were before `delta` was applied.
    pub fn without(self, delta: Delta) -> PeriodTotals {
        PeriodTotals {
            approved_minor: self.approved_minor - delta.approved_minor,
            approved_count: self.approved_count - delta.approved_count,
            provisional_minor: self.provisional_minor - delta.provisional_minor,
            pending_count: self.pending_count - delta.pending_count,
        }
    }
}

/// A change to apply to a partner's period totals (computed by the engine).
pub use crate::engine::sale::TotalsChange as Delta;

/// Adds `delta` to the partner's totals for `period` and returns the new totals. The "reached
/// at" instant of a total moves only when that total changes: it breaks ties.
pub async fn apply(
    conn: &mut Conn,
    period: &str,
    partner: PartnerId,
    delta: Delta,
    now: i64,
) -> Result<PeriodTotals> {
    let stamp = change_stamp(conn);
    let row = sqlx::query(sql(format!(
        "INSERT INTO period_totals (period, partner_id, approved_minor, approved_count, approved_at, \
         provisional_minor, provisional_at, pending_count, change_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $5, $7, {stamp}) \
         ON CONFLICT (period, partner_id) DO UPDATE SET \
           approved_minor = period_totals.approved_minor + excluded.approved_minor, \
           approved_count = period_totals.approved_count + excluded.approved_count, \
           approved_at = CASE WHEN excluded.approved_minor <> 0 THEN excluded.approved_at \
                         ELSE period_totals.approved_at END, \
           provisional_minor = period_totals.provisional_minor + excluded.provisional_minor, \
           provisional_at = CASE WHEN excluded.provisional_minor <> 0 THEN excluded.provisional_at \
                            ELSE period_totals.provisional_at END, \
           pending_count = period_totals.pending_count + excluded.pending_count, \
           change_seq = {stamp} \
         RETURNING approved_minor, approved_count, provisional_minor, pending_count"
    )))
    .bind(period)
    .bind(partner.0)
    .bind(delta.approved_minor)
    .bind(delta.approved_count)
    .bind(now)
    .bind(delta.provisional_minor)
    .bind(delta.pending_count)
    .fetch_one(&mut *conn)
    .await?;
    Ok(PeriodTotals {
        approved_minor: col(&row, "approved_minor")?,
        approved_count: col(&row, "approved_count")?,
        provisional_minor: col(&row, "provisional_minor")?,
        pending_count: col(&row, "pending_count")?,
    })
}

/// True on PostgreSQL, false on SQLite.
pub(crate) fn is_postgres(conn: &Conn) -> bool {
    conn.backend_name() == "PostgreSQL"
}

/// The stamp a totals change carries, from which ranking indexes sync (`store::rank_cache`).
/// SQLite has one writer at a time (`BEGIN IMMEDIATE`), so the next number of a per-period
/// sequence is exact and commits in order. PostgreSQL commits concurrently, so the stamp is
/// the writing transaction's id, which readers compare with their snapshot's xmin.
fn change_stamp(conn: &Conn) -> &'static str {
    if is_postgres(conn) {
        "(pg_current_xact_id()::text::bigint)"
    } else {
        "(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM period_totals WHERE period = $1)"
    }
}

/// One partner's current total and its change stamp, for syncing a ranking index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Change {
    pub partner: PartnerId,
    pub total_minor: i64,
    pub reached_at: i64,
    pub stamp: i64,
}

/// Totals changed since `since` and the point to sync from next time. Pass `None` for all.
pub async fn changes_since(
    conn: &mut Conn,
    period: &str,
    basis: RankBasis,
    since: Option<i64>,
) -> Result<(Vec<Change>, i64)> {
    let (total, at) = basis.columns();
    let postgres = is_postgres(conn);
    // PostgreSQL: every transaction older than the snapshot's xmin has ended, so rows stamped
    // below it are all visible now and need not be read again. Read xmin before the rows: a
    // later snapshot only adds rows, never hides one stamped at or above this xmin.
    let next_from_xmin = if postgres {
        let row =
            sqlx::query("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin")
                .fetch_one(&mut *conn)
                .await?;
        Some(col::<i64>(&row, "xmin")?)
    } else {
        None
    };
    let (cmp, from) = match (postgres, since) {
        (_, None) => (">=", i64::MIN),
        (true, Some(xmin)) => (">=", xmin),
        (false, Some(seq)) => (">", seq),
    };
    let rows = sqlx::query(sql(format!(
        "SELECT partner_id, {total} AS total, {at} AS reached_at, change_seq \
         FROM period_totals WHERE period = $1 AND change_seq {cmp} $2"
    )))
    .bind(period)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    let mut changes = Vec::with_capacity(rows.len());
    for row in &rows {
        changes.push(Change {
            partner: PartnerId(col(row, "partner_id")?),
            total_minor: col(row, "total")?,
            reached_at: col(row, "reached_at")?,
            stamp: col(row, "change_seq")?,
        });
    }
    let next = match next_from_xmin {
        Some(xmin) => xmin,
        None => changes
            .iter()
            .map(|c| c.stamp)
            .chain(since)
            .max()
            .unwrap_or(0),
    };
    Ok((changes, next))
}

/// Partner names by id, for the few partners a leaderboard shows.
pub async fn partner_names(
    conn: &mut Conn,
    ids: &[PartnerId],
) -> Result<std::collections::HashMap<PartnerId, String>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let mut query = sqlx::query(sql(format!(
        "SELECT id, name FROM partners WHERE id IN ({})",
        placeholders.join(", ")
    )));
    for id in ids {
        query = query.bind(id.0);
    }
    let rows = query.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| Ok((PartnerId(col(r, "id")?), col(r, "name")?)))
        .collect()
}

pub async fn get(conn: &mut Conn, period: &str, partner: PartnerId) -> Result<PeriodTotals> {
    let row = sqlx::query(
        "SELECT approved_minor, approved_count, provisional_minor, pending_count \
         FROM period_totals WHERE period = $1 AND partner_id = $2",
    )
    .bind(period)
    .bind(partner.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Ok(PeriodTotals::default());
    };
    Ok(PeriodTotals {
        approved_minor: col(&row, "approved_minor")?,
        approved_count: col(&row, "approved_count")?,
        provisional_minor: col(&row, "provisional_minor")?,
        pending_count: col(&row, "pending_count")?,
    })
}

// --- throughput: one upsert per partner per batch (issue 14) ---

/// Rows per multi-row totals upsert.
const APPLY_CHUNK: usize = 200;

/// Adds many changes at once, with multi-row upserts: what [`apply`] does for one, for a batch
/// of sales aggregated per (period, partner) — each pair must appear once. Every row of a period
/// gets the same change stamp (on SQLite the period's next sequence number, read once here):
/// they commit together, so a ranking index syncing from the stamps sees all of them or none.
pub async fn apply_many(
    conn: &mut Conn,
    changes: &[(String, PartnerId, Delta)],
    now: i64,
) -> Result<()> {
    let postgres = is_postgres(conn);
    let mut stamps: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    if !postgres {
        for (period, _, _) in changes {
            if stamps.contains_key(period.as_str()) {
                continue;
            }
            let row = sqlx::query(
                "SELECT COALESCE(MAX(change_seq), 0) + 1 AS next FROM period_totals \
                 WHERE period = $1",
            )
            .bind(period.as_str())
            .fetch_one(&mut *conn)
            .await?;
            stamps.insert(period.as_str(), col(&row, "next")?);
        }
    }
    for chunk in changes.chunks(APPLY_CHUNK) {
        // PostgreSQL: the writing transaction's id, as in `change_stamp`.
        let (columns, extra) = if postgres {
            (8, "(pg_current_xact_id()::text::bigint)")
        } else {
            (9, "")
        };
        let text = format!(
            "INSERT INTO period_totals (period, partner_id, approved_minor, approved_count, \
             approved_at, provisional_minor, provisional_at, pending_count, change_seq) \
             VALUES {} \
             ON CONFLICT (period, partner_id) DO UPDATE SET \
               approved_minor = period_totals.approved_minor + excluded.approved_minor, \
               approved_count = period_totals.approved_count + excluded.approved_count, \
               approved_at = CASE WHEN excluded.approved_minor <> 0 THEN excluded.approved_at \
                             ELSE period_totals.approved_at END, \
               provisional_minor = period_totals.provisional_minor + excluded.provisional_minor, \
               provisional_at = CASE WHEN excluded.provisional_minor <> 0 \
                                THEN excluded.provisional_at ELSE period_totals.provisional_at END, \
               pending_count = period_totals.pending_count + excluded.pending_count, \
               change_seq = excluded.change_seq",
            super::values_list(conn, chunk.len(), columns, extra)
        );
        let mut query = sqlx::query(sql(text));
        for (period, partner, delta) in chunk {
            query = query
                .bind(period.as_str())
                .bind(partner.0)
                .bind(delta.approved_minor)
                .bind(delta.approved_count)
                .bind(now)
                .bind(delta.provisional_minor)
                .bind(now)
                .bind(delta.pending_count);
            if !postgres {
                query = query.bind(stamps.get(period.as_str()).copied().unwrap_or(1));
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
