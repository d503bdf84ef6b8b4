//! Per-partner period targets (`rally targets set`). Without a row here the plan's target
//! applies. Amounts are minor units of program currency.

use super::{Conn, Result, col};
use crate::engine::ids::{MemberId, PartnerId};

/// Sets the partner's target for `period` (a period key such as `2026-11`), replacing any
/// earlier one.
pub async fn set(
    conn: &mut Conn,
    partner: PartnerId,
    period: &str,
    amount_minor: i64,
    set_by: Option<MemberId>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO targets (partner_id, period, amount_minor, set_by, set_at) \
         VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (partner_id, period) DO UPDATE SET \
           amount_minor = excluded.amount_minor, set_by = excluded.set_by, \
           set_at = excluded.set_at",
    )
    .bind(partner.0)
    .bind(period)
    .bind(amount_minor)
    .bind(set_by.map(|m| m.0))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The partner's target for `period`, if one was set.
pub async fn get(conn: &mut Conn, partner: PartnerId, period: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT amount_minor FROM targets WHERE partner_id = $1 AND period = $2")
        .bind(partner.0)
        .bind(period)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| col(&r, "amount_minor")).transpose()
}

/// Every target set for `period`, by partner id (one query for a whole period close).
pub async fn for_period(conn: &mut Conn, period: &str) -> Result<Vec<(PartnerId, i64)>> {
    let rows = sqlx::query(
        "SELECT partner_id, amount_minor FROM targets WHERE period = $1 ORDER BY partner_id",
    )
    .bind(period)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((PartnerId(col(r, "partner_id")?), col(r, "amount_minor")?)))
        .collect()
}
