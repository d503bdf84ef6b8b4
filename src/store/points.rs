//! The points ledger (append-only, unique on its source), each partner's point total moved in
//! the same transaction, and the badges partners hold.

use std::collections::HashMap;

use super::{Conn, Result, col};
use crate::engine::ids::{MemberId, PartnerId};
use crate::engine::points::SourceKind;

/// One award to store.
#[derive(Clone, Debug)]
pub struct Award<'a> {
    pub partner: PartnerId,
    pub member: Option<MemberId>,
    pub points: i64,
    pub reason: &'a str,
    pub kind: SourceKind,
    pub key: &'a str,
}

/// Appends an award unless its source was awarded before (then `false`, nothing changes); a
/// new one moves the partner's total.
pub async fn award(conn: &mut Conn, award: &Award<'_>, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO points (partner_id, member_id, points, reason, source_kind, source_key, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (source_kind, source_key, partner_id) DO NOTHING",
    )
    .bind(award.partner.0)
    .bind(award.member.map(|m| m.0))
    .bind(award.points)
    .bind(award.reason)
    .bind(award.kind.as_str())
    .bind(award.key)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO point_totals (partner_id, points, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (partner_id) DO UPDATE SET points = point_totals.points + excluded.points, \
         updated_at = excluded.updated_at",
    )
    .bind(award.partner.0)
    .bind(award.points)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(true)
}

/// How many award rows go in one multi-row statement (8 parameters each).
const AWARD_CHUNK: usize = 1_000;

/// Appends many awards (a batch of imported sales) with multi-row statements, each skipped if
/// its source was awarded before, and moves each partner's total once by the sum of what was
/// new — the same rows and totals as [`award`] for each in turn.
pub async fn award_many(conn: &mut Conn, awards: &[Award<'_>], now: i64) -> Result<()> {
    let mut gained: HashMap<i64, i64> = HashMap::new();
    for chunk in awards.chunks(AWARD_CHUNK) {
        let text = format!(
            "INSERT INTO points (partner_id, member_id, points, reason, source_kind, source_key, \
             created_at) VALUES {} \
             ON CONFLICT (source_kind, source_key, partner_id) DO NOTHING \
             RETURNING partner_id, points",
            super::values_list(conn, chunk.len(), 7, "")
        );
        let mut query = sqlx::query(super::sql(text));
        for award in chunk {
            query = query
                .bind(award.partner.0)
                .bind(award.member.map(|m| m.0))
                .bind(award.points)
                .bind(award.reason)
                .bind(award.kind.as_str())
                .bind(award.key)
                .bind(now);
        }
        for row in query.fetch_all(&mut *conn).await? {
            *gained.entry(col(&row, "partner_id")?).or_default() += col::<i64>(&row, "points")?;
        }
    }
    let mut totals: Vec<(i64, i64)> = gained.into_iter().filter(|(_, p)| *p != 0).collect();
    // A stable order: concurrent writers on PostgreSQL lock the rows in the same order.
    totals.sort_unstable();
    for chunk in totals.chunks(AWARD_CHUNK) {
        let text = format!(
            "INSERT INTO point_totals (partner_id, points, updated_at) VALUES {} \
             ON CONFLICT (partner_id) DO UPDATE SET points = point_totals.points + excluded.points, \
             updated_at = excluded.updated_at",
            super::values_list(conn, chunk.len(), 3, "")
        );
        let mut query = sqlx::query(super::sql(text));
        for (partner, points) in chunk {
            query = query.bind(*partner).bind(*points).bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The points a source gave a partner, if it was awarded.
pub async fn points_of(
    conn: &mut Conn,
    partner: PartnerId,
    kind: SourceKind,
    key: &str,
) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT points FROM points WHERE source_kind = $1 AND source_key = $2 \
         AND partner_id = $3",
    )
    .bind(kind.as_str())
    .bind(key)
    .bind(partner.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| col(&r, "points")).transpose()
}

/// A partner's points (0 without any).
pub async fn total(conn: &mut Conn, partner: PartnerId) -> Result<i64> {
    let row = sqlx::query("SELECT points FROM point_totals WHERE partner_id = $1")
        .bind(partner.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.map_or(Ok(0), |r| col(&r, "points"))
}

/// How many ledger rows of each kind a partner has (facts for badges).
pub async fn counts_by_kind(
    conn: &mut Conn,
    partner: PartnerId,
) -> Result<HashMap<SourceKind, u64>> {
    let rows = sqlx::query(
        "SELECT source_kind, COUNT(*) AS n FROM points WHERE partner_id = $1 \
         GROUP BY source_kind",
    )
    .bind(partner.0)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = HashMap::new();
    for r in &rows {
        let kind: String = col(r, "source_kind")?;
        if let Some(kind) = SourceKind::parse(&kind) {
            out.insert(kind, u64::try_from(col::<i64>(r, "n")?).unwrap_or(0));
        }
    }
    Ok(out)
}

/// One place of the points board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub partner: PartnerId,
    pub name: String,
    pub points: i64,
}

/// The top `limit` partners by points (ties: who got there first, then partner id), and how
/// many partners have points.
pub async fn board(conn: &mut Conn, limit: i64) -> Result<(Vec<Standing>, i64)> {
    let rows = sqlx::query(
        "SELECT t.partner_id, p.name, t.points FROM point_totals t \
         JOIN partners p ON p.id = t.partner_id \
         ORDER BY t.points DESC, t.updated_at, t.partner_id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let top = rows
        .iter()
        .map(|r| {
            Ok(Standing {
                partner: PartnerId(col(r, "partner_id")?),
                name: col(r, "name")?,
                points: col(r, "points")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let count = sqlx::query("SELECT COUNT(*) AS n FROM point_totals")
        .fetch_one(&mut *conn)
        .await?;
    Ok((top, col(&count, "n")?))
}

/// A partner's place on the points board (1-based), if it has points.
pub async fn place_of(conn: &mut Conn, partner: PartnerId) -> Result<Option<(i64, i64)>> {
    let Some(row) =
        sqlx::query("SELECT points, updated_at FROM point_totals WHERE partner_id = $1")
            .bind(partner.0)
            .fetch_optional(&mut *conn)
            .await?
    else {
        return Ok(None);
    };
    let (points, at): (i64, i64) = (col(&row, "points")?, col(&row, "updated_at")?);
    let ahead = sqlx::query(
        "SELECT COUNT(*) AS n FROM point_totals WHERE points > $1 \
         OR (points = $1 AND (updated_at < $2 OR (updated_at = $2 AND partner_id < $3)))",
    )
    .bind(points)
    .bind(at)
    .bind(partner.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Some((col::<i64>(&ahead, "n")? + 1, points)))
}

/// The badge ids a partner holds, oldest first.
pub async fn badges(conn: &mut Conn, partner: PartnerId) -> Result<Vec<String>> {
    let rows =
        sqlx::query("SELECT badge FROM badges WHERE partner_id = $1 ORDER BY awarded_at, badge")
            .bind(partner.0)
            .fetch_all(&mut *conn)
            .await?;
    rows.iter().map(|r| col(r, "badge")).collect()
}

/// Awards a badge once: `false` if the partner held it already.
pub async fn grant_badge(
    conn: &mut Conn,
    partner: PartnerId,
    badge: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO badges (partner_id, badge, awarded_at) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(partner.0)
    .bind(badge)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What [`sales_facts`] needs to know of the best month.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BestMonth {
    /// Not asked for (no month badge is open): 0.
    Skip,
    /// The program's periods are calendar months: the best period total is the best month.
    FromPeriods,
    /// Longer periods: summed from the sales by calendar month.
    FromSales,
}

/// A partner's approved sales: how many, and the best calendar month's amount (program minor
/// units), from the period totals when periods are months, else from the sales themselves.
pub async fn sales_facts(
    conn: &mut Conn,
    partner: PartnerId,
    best_month: BestMonth,
) -> Result<(u64, i64)> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(approved_count), 0) AS BIGINT) AS n, \
         CAST(COALESCE(MAX(approved_minor), 0) AS BIGINT) AS best \
         FROM period_totals WHERE partner_id = $1",
    )
    .bind(partner.0)
    .fetch_one(&mut *conn)
    .await?;
    let count = u64::try_from(col::<i64>(&row, "n")?).unwrap_or(0);
    match best_month {
        BestMonth::Skip => return Ok((count, 0)),
        BestMonth::FromPeriods => return Ok((count, col(&row, "best")?)),
        BestMonth::FromSales => {}
    }
    let row = sqlx::query(
        "SELECT CAST(COALESCE(MAX(total), 0) AS BIGINT) AS best FROM (SELECT SUBSTR(sale_date, 1, 7) AS month, \
         CAST(SUM(program_minor) AS BIGINT) AS total FROM sales WHERE partner_id = $1 AND status = 'approved' \
         GROUP BY SUBSTR(sale_date, 1, 7)) AS by_month",
    )
    .bind(partner.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok((count, col(&row, "best")?))
}

/// [`sales_facts`] of many partners at once (the partners of an import batch), when the
/// program's periods are calendar months: per partner with any period total, its approved
/// sales count and best month.
pub async fn sales_facts_by_period(
    conn: &mut Conn,
    partners: &[PartnerId],
) -> Result<HashMap<PartnerId, (u64, i64)>> {
    let mut out = HashMap::with_capacity(partners.len());
    for chunk in partners.chunks(AWARD_CHUNK * 5) {
        let text = format!(
            "SELECT partner_id, CAST(COALESCE(SUM(approved_count), 0) AS BIGINT) AS n, \
             CAST(COALESCE(MAX(approved_minor), 0) AS BIGINT) AS best \
             FROM period_totals WHERE partner_id IN ({}) GROUP BY partner_id",
            super::in_list(conn, chunk.len())
        );
        let mut query = sqlx::query(super::sql(text));
        for partner in chunk {
            query = query.bind(partner.0);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let n = u64::try_from(col::<i64>(&row, "n")?).unwrap_or(0);
            out.insert(PartnerId(col(&row, "partner_id")?), (n, col(&row, "best")?));
        }
    }
    Ok(out)
}

/// The badge ids each of `partners` holds (partners without any are absent).
pub async fn badges_of_many(
    conn: &mut Conn,
    partners: &[PartnerId],
) -> Result<HashMap<PartnerId, Vec<String>>> {
    let mut out: HashMap<PartnerId, Vec<String>> = HashMap::new();
    for chunk in partners.chunks(AWARD_CHUNK * 5) {
        let text = format!(
            "SELECT partner_id, badge FROM badges WHERE partner_id IN ({}) \
             ORDER BY awarded_at, badge",
            super::in_list(conn, chunk.len())
        );
        let mut query = sqlx::query(super::sql(text));
        for partner in chunk {
            query = query.bind(partner.0);
        }
        for row in query.fetch_all(&mut *conn).await? {
            out.entry(PartnerId(col(&row, "partner_id")?))
                .or_default()
                .push(col(&row, "badge")?);
        }
    }
    Ok(out)
}

/// Awards many badges at once (each once per partner); returns the (partner, badge) pairs that
/// were new.
pub async fn grant_badges_many(
    conn: &mut Conn,
    grants: &[(PartnerId, &str)],
    now: i64,
) -> Result<Vec<(PartnerId, String)>> {
    let mut granted = Vec::new();
    for chunk in grants.chunks(AWARD_CHUNK) {
        let text = format!(
            "INSERT INTO badges (partner_id, badge, awarded_at) VALUES {} \
             ON CONFLICT DO NOTHING RETURNING partner_id, badge",
            super::values_list(conn, chunk.len(), 3, "")
        );
        let mut query = sqlx::query(super::sql(text));
        for (partner, badge) in chunk {
            query = query.bind(partner.0).bind(*badge).bind(now);
        }
        for row in query.fetch_all(&mut *conn).await? {
            granted.push((PartnerId(col(&row, "partner_id")?), col(&row, "badge")?));
        }
    }
    Ok(granted)
}
