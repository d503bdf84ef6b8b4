//! Period totals per partner, maintained in the same transaction as each sale change; the
//! leaderboard is read from here, never from the sales.

use super::{Conn, Result, col, sql};
use crate::engine::ids::PartnerId;
use crate::engine::ranking::{Leaderboard, Standing, gap_to_pass};

/// Which total ranks partners: approved sales only, or approved plus pending
/// (`program.rank_pending`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RankBasis {
    Approved,
    Provisional,
}

impl RankBasis {
    fn columns(self) -> (&'static str, &'static str) {
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

/// A change to apply to a partner's period totals.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Delta {
    pub approved_minor: i64,
    pub approved_count: i64,
    pub provisional_minor: i64,
    pub pending_count: i64,
}

/// Adds `delta` to the partner's totals for `period` and returns the new totals. The "reached
/// at" instant of a total moves only when that total changes: it breaks ties.
pub async fn apply(
    conn: &mut Conn,
    period: &str,
    partner: PartnerId,
    delta: Delta,
    now: i64,
) -> Result<PeriodTotals> {
    let row = sqlx::query(
        "INSERT INTO period_totals (period, partner_id, approved_minor, approved_count, approved_at, \
         provisional_minor, provisional_at, pending_count) VALUES ($1, $2, $3, $4, $5, $6, $5, $7) \
         ON CONFLICT (period, partner_id) DO UPDATE SET \
           approved_minor = period_totals.approved_minor + excluded.approved_minor, \
           approved_count = period_totals.approved_count + excluded.approved_count, \
           approved_at = CASE WHEN excluded.approved_minor <> 0 THEN excluded.approved_at \
                         ELSE period_totals.approved_at END, \
           provisional_minor = period_totals.provisional_minor + excluded.provisional_minor, \
           provisional_at = CASE WHEN excluded.provisional_minor <> 0 THEN excluded.provisional_at \
                            ELSE period_totals.provisional_at END, \
           pending_count = period_totals.pending_count + excluded.pending_count \
         RETURNING approved_minor, approved_count, provisional_minor, pending_count",
    )
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

fn standing(row: &sqlx::any::AnyRow) -> Result<Standing> {
    Ok(Standing {
        partner_id: PartnerId(col(row, "partner_id")?),
        name: col(row, "name")?,
        total_minor: col(row, "total")?,
        reached_at: col(row, "reached_at")?,
    })
}

/// The period leaderboard: the first `limit` places and, for `me`, its place and the gap to
/// the place above. Uses the (period, total DESC, reached_at, partner_id) index throughout.
pub async fn leaderboard(
    conn: &mut Conn,
    period: &str,
    basis: RankBasis,
    me: Option<PartnerId>,
    limit: i64,
) -> Result<Leaderboard> {
    let (total, at) = basis.columns();
    let select = format!(
        "SELECT t.partner_id, p.name, t.{total} AS total, t.{at} AS reached_at \
         FROM period_totals t JOIN partners p ON p.id = t.partner_id"
    );
    let rows = sqlx::query(sql(format!(
        "{select} WHERE t.period = $1 AND t.{total} > 0 \
         ORDER BY t.{total} DESC, t.{at}, t.partner_id LIMIT $2"
    )))
    .bind(period)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let top: Vec<(u64, Standing)> = rows
        .iter()
        .enumerate()
        .map(|(i, row)| Ok((i as u64 + 1, standing(row)?)))
        .collect::<Result<_>>()?;

    let participants: i64 = col(
        &sqlx::query(sql(format!(
            "SELECT COUNT(*) AS n FROM period_totals WHERE period = $1 AND {total} > 0"
        )))
        .bind(period)
        .fetch_one(&mut *conn)
        .await?,
        "n",
    )?;

    let mut board = Leaderboard {
        top,
        me: None,
        gap_to_next: None,
        participants: participants.max(0) as u64,
    };
    let Some(me) = me else { return Ok(board) };
    let mine = sqlx::query(sql(format!(
        "{select} WHERE t.period = $1 AND t.partner_id = $2 AND t.{total} > 0"
    )))
    .bind(period)
    .bind(me.0)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(mine) = mine.as_ref().map(standing).transpose()? else {
        return Ok(board);
    };
    if let Some((place, _)) = board.top.iter().find(|(_, s)| s.partner_id == me) {
        board.me = Some((*place, mine.clone()));
    } else {
        // Partners ahead: a strictly higher total, or the same total reached earlier (or at the
        // same instant by a lower id). Two index range counts, no scan of the period.
        let ahead: i64 = col(
            &sqlx::query(sql(format!(
                "SELECT (SELECT COUNT(*) FROM period_totals WHERE period = $1 AND {total} > $2) + \
                 (SELECT COUNT(*) FROM period_totals WHERE period = $1 AND {total} = $2 \
                  AND ({at} < $3 OR ({at} = $3 AND partner_id < $4))) AS n"
            )))
            .bind(period)
            .bind(mine.total_minor)
            .bind(mine.reached_at)
            .bind(me.0)
            .fetch_one(&mut *conn)
            .await?,
            "n",
        )?;
        board.me = Some((ahead as u64 + 1, mine.clone()));
    }
    let place = board.me.as_ref().map(|(p, _)| *p).unwrap_or(1);
    if place > 1 {
        // The place above either has the same total (reached earlier: one minor unit passes
        // it) or the smallest higher total: one index seek either way.
        let above: Option<i64> = col(
            &sqlx::query(sql(format!(
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM period_totals WHERE period = $1                  AND {total} = $2 AND ({at} < $3 OR ({at} = $3 AND partner_id < $4))) THEN $2                  ELSE (SELECT MIN({total}) FROM period_totals WHERE period = $1 AND {total} > $2)                  END AS above"
            )))
            .bind(period)
            .bind(mine.total_minor)
            .bind(mine.reached_at)
            .bind(me.0)
            .fetch_one(&mut *conn)
            .await?,
            "above",
        )?;
        board.gap_to_next = above.map(|above| {
            gap_to_pass(
                &mine,
                &Standing {
                    total_minor: above,
                    ..mine.clone()
                },
            )
        });
    }
    Ok(board)
}
