//! What the weekly digest and the nudges read: approved sales per partner over the digest's
//! weeks, old pending sales, unanswered disputes; and the nudges' own state (muted, last sent).

use std::collections::HashMap;

use super::{Conn, Result, col};
use crate::engine::alerts::Windows;
use crate::engine::ids::{MemberId, PartnerId};

/// Approved sales (program currency, minor units) per partner: (recent stretch, baseline),
/// by sale date. Partners with no approved sale in either window are absent.
pub async fn sales_in_windows(
    conn: &mut Conn,
    windows: &Windows,
) -> Result<HashMap<PartnerId, (i64, i64)>> {
    let fmt = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    let rows = sqlx::query(
        "SELECT partner_id, \
           CAST(COALESCE(SUM(CASE WHEN sale_date >= $2 THEN program_minor ELSE 0 END), 0) AS BIGINT) AS recent, \
           CAST(COALESCE(SUM(CASE WHEN sale_date < $2 THEN program_minor ELSE 0 END), 0) AS BIGINT) AS baseline \
         FROM sales WHERE status = 'approved' AND sale_date >= $1 AND sale_date < $3 \
         GROUP BY partner_id",
    )
    .bind(fmt(windows.baseline_from))
    .bind(fmt(windows.recent_from))
    .bind(fmt(windows.until))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                PartnerId(col(r, "partner_id")?),
                (col(r, "recent")?, col(r, "baseline")?),
            ))
        })
        .collect()
}

/// Approved sales and their count per partner in one period (from the period totals).
pub async fn period_approved(
    conn: &mut Conn,
    period: &str,
) -> Result<HashMap<PartnerId, (i64, i64)>> {
    let rows = sqlx::query(
        "SELECT partner_id, approved_minor, approved_count FROM period_totals WHERE period = $1",
    )
    .bind(period)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                PartnerId(col(r, "partner_id")?),
                (col(r, "approved_minor")?, col(r, "approved_count")?),
            ))
        })
        .collect()
}

/// A sale waiting for a manager's decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WaitingSale {
    pub id: i64,
    pub partner: String,
    pub program_minor: i64,
    pub reported_at: i64,
}

/// Pending sales reported at or before `reported_before`, oldest first, at most `limit`, and
/// how many there are in all.
pub async fn pending_since(
    conn: &mut Conn,
    reported_before: i64,
    limit: i64,
) -> Result<(Vec<WaitingSale>, i64)> {
    let total: i64 = col(
        &sqlx::query(
            "SELECT COUNT(*) AS n FROM sales WHERE status = 'pending' AND reported_at <= $1",
        )
        .bind(reported_before)
        .fetch_one(&mut *conn)
        .await?,
        "n",
    )?;
    let rows = sqlx::query(
        "SELECT s.id, p.name, s.program_minor, s.reported_at FROM sales s \
         JOIN partners p ON p.id = s.partner_id \
         WHERE s.status = 'pending' AND s.reported_at <= $1 ORDER BY s.reported_at, s.id LIMIT $2",
    )
    .bind(reported_before)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let sales = rows
        .iter()
        .map(|r| {
            Ok(WaitingSale {
                id: col(r, "id")?,
                partner: col(r, "name")?,
                program_minor: col(r, "program_minor")?,
                reported_at: col(r, "reported_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((sales, total))
}

/// A statement dispute no manager has answered yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenDispute {
    pub id: i64,
    pub partner: String,
    pub period: String,
    pub line_no: i64,
    pub opened_at: i64,
}

/// Unanswered disputes, oldest first, at most `limit`, and how many there are in all.
pub async fn open_disputes(conn: &mut Conn, limit: i64) -> Result<(Vec<OpenDispute>, i64)> {
    let total: i64 = col(
        &sqlx::query("SELECT COUNT(*) AS n FROM disputes WHERE status = 'open'")
            .fetch_one(&mut *conn)
            .await?,
        "n",
    )?;
    let rows = sqlx::query(
        "SELECT d.id, p.name, d.period, d.line_no, d.opened_at FROM disputes d \
         JOIN partners p ON p.id = d.partner_id \
         WHERE d.status = 'open' ORDER BY d.opened_at, d.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let disputes = rows
        .iter()
        .map(|r| {
            Ok(OpenDispute {
                id: col(r, "id")?,
                partner: col(r, "name")?,
                period: col(r, "period")?,
                line_no: col(r, "line_no")?,
                opened_at: col(r, "opened_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((disputes, total))
}

/// The members of a partner a nudge may go to, one per person (the lowest account id stands
/// for a person with several accounts, as in broadcast audiences), leaving out unreachable
/// accounts and people who muted nudges on any of their accounts.
pub async fn nudge_recipients(conn: &mut Conn, partner: PartnerId) -> Result<Vec<MemberId>> {
    let rows = sqlx::query(
        "SELECT MIN(m.id) AS id, MAX(COALESCE(n.muted, 0)) AS muted FROM members m \
         LEFT JOIN nudge_state n ON n.member_id = m.id \
         WHERE m.partner_id = $1 AND m.role IS NOT NULL AND m.unreachable_at IS NULL \
         GROUP BY COALESCE(m.person_id, -m.id) ORDER BY 1",
    )
    .bind(partner.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let muted: i64 = col(r, "muted")?;
        if muted == 0 {
            out.push(MemberId(col(r, "id")?));
        }
    }
    Ok(out)
}

/// Claims this week's nudge for `member`: `true` (and `last_sent_at` set to `at`) unless one was
/// sent after `cutoff` or the member muted nudges. One conditional statement, so two instances
/// (or a job run twice) never both send.
pub async fn claim_nudge(conn: &mut Conn, member: MemberId, at: i64, cutoff: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO nudge_state (member_id, muted, last_sent_at) VALUES ($1, 0, $2) \
         ON CONFLICT (member_id) DO UPDATE SET last_sent_at = $2 \
         WHERE nudge_state.muted = 0 \
           AND (nudge_state.last_sent_at IS NULL OR nudge_state.last_sent_at <= $3)",
    )
    .bind(member.0)
    .bind(at)
    .bind(cutoff)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Mutes or unmutes nudges for these accounts (all accounts of one person).
pub async fn set_muted(conn: &mut Conn, accounts: &[MemberId], muted: bool) -> Result<()> {
    for member in accounts {
        sqlx::query(
            "INSERT INTO nudge_state (member_id, muted) VALUES ($1, $2) \
             ON CONFLICT (member_id) DO UPDATE SET muted = $2",
        )
        .bind(member.0)
        .bind(i64::from(muted))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Whether any of these accounts muted nudges.
pub async fn is_muted(conn: &mut Conn, accounts: &[MemberId]) -> Result<bool> {
    for member in accounts {
        let row = sqlx::query("SELECT muted FROM nudge_state WHERE member_id = $1")
            .bind(member.0)
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(row) = row
            && col::<i64>(&row, "muted")? != 0
        {
            return Ok(true);
        }
    }
    Ok(false)
}
