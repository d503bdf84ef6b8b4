//! Deal registrations and channel conflicts (`deals`, `deal_conflicts`).

use sqlx::any::AnyRow;

use super::{Conn, Result, col, parse_col, sql};
use crate::engine::deal::{Conflict, ConflictStatus, Deal, DealStatus};
use crate::engine::ids::{MemberId, PartnerId, SaleId};

const DEAL_COLUMNS: &str = "id, partner_id, member_id, customer, customer_key, expected_minor, \
     note, status, registered_at, expires_at";

const CONFLICT_COLUMNS: &str = "id, customer, customer_key, deal_id, holder_id, claimant_id, \
     claimant_member_id, sale_id, claim_expected_minor, claim_note, status, winner_id, \
     split_percent, opened_at";

fn deal_from_row(row: &AnyRow) -> Result<Deal> {
    let status: String = col(row, "status")?;
    Ok(Deal {
        id: col(row, "id")?,
        partner_id: PartnerId(col(row, "partner_id")?),
        member_id: col::<Option<i64>>(row, "member_id")?.map(MemberId),
        customer: col(row, "customer")?,
        customer_key: col(row, "customer_key")?,
        expected_minor: col(row, "expected_minor")?,
        note: col(row, "note")?,
        status: parse_col(&status, "deals.status", DealStatus::parse)?,
        registered_at: col(row, "registered_at")?,
        expires_at: col(row, "expires_at")?,
    })
}

fn conflict_from_row(row: &AnyRow) -> Result<Conflict> {
    let status: String = col(row, "status")?;
    let percent: Option<i64> = col(row, "split_percent")?;
    Ok(Conflict {
        id: col(row, "id")?,
        customer: col(row, "customer")?,
        customer_key: col(row, "customer_key")?,
        deal_id: col(row, "deal_id")?,
        holder: PartnerId(col(row, "holder_id")?),
        claimant: PartnerId(col(row, "claimant_id")?),
        claimant_member: col::<Option<i64>>(row, "claimant_member_id")?.map(MemberId),
        sale_id: col::<Option<i64>>(row, "sale_id")?.map(SaleId),
        claim_expected_minor: col(row, "claim_expected_minor")?,
        claim_note: col(row, "claim_note")?,
        status: parse_col(&status, "deal_conflicts.status", ConflictStatus::parse)?,
        winner: col::<Option<i64>>(row, "winner_id")?.map(PartnerId),
        split_percent: percent.and_then(|p| u8::try_from(p).ok()),
        opened_at: col(row, "opened_at")?,
    })
}

/// A registration about to be stored.
#[derive(Clone, Debug)]
pub struct NewDeal<'a> {
    pub partner_id: PartnerId,
    pub member_id: Option<MemberId>,
    pub customer: &'a str,
    pub customer_key: &'a str,
    pub expected_minor: Option<i64>,
    pub note: Option<&'a str>,
    pub registered_at: i64,
    pub expires_at: i64,
    pub remind_at: Option<i64>,
}

/// Marks the customer's active registration expired if its time ran out, so the customer can
/// be registered again (one active registration per customer).
pub async fn expire_lapsed(conn: &mut Conn, customer_key: &str, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE deals SET status = 'expired', remind_at = NULL \
         WHERE customer_key = $1 AND status = 'active' AND expires_at <= $2",
    )
    .bind(customer_key)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The registration holding a customer at `now`, if any.
pub async fn holding(conn: &mut Conn, customer_key: &str, now: i64) -> Result<Option<Deal>> {
    let row = sqlx::query(sql(format!(
        "SELECT {DEAL_COLUMNS} FROM deals \
         WHERE customer_key = $1 AND status = 'active' AND expires_at > $2"
    )))
    .bind(customer_key)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(deal_from_row).transpose()
}

/// The registrations holding any of `customer_keys` at `now` (at most one each), in one
/// statement per 500 keys: a group-commit batch checks its reports' customers at once.
pub async fn holding_many(conn: &mut Conn, customer_keys: &[&str], now: i64) -> Result<Vec<Deal>> {
    let mut held = Vec::new();
    for chunk in customer_keys.chunks(500) {
        let text = format!(
            "SELECT {DEAL_COLUMNS} FROM deals \
             WHERE customer_key IN ({}) AND status = 'active' AND expires_at > {}",
            super::in_list(conn, chunk.len()),
            super::placeholder(conn, chunk.len() + 1)
        );
        let mut query = sqlx::query(sql(text));
        for key in chunk {
            query = query.bind(*key);
        }
        for row in &query.bind(now).fetch_all(&mut *conn).await? {
            held.push(deal_from_row(row)?);
        }
    }
    Ok(held)
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Deal>> {
    let row = sqlx::query(sql(format!(
        "SELECT {DEAL_COLUMNS} FROM deals WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(deal_from_row).transpose()
}

/// Stores an active registration unless the customer has one already (another partner won a
/// race to it): `None` then, and nothing is stored.
pub async fn insert(conn: &mut Conn, new: &NewDeal<'_>) -> Result<Option<Deal>> {
    let row = sqlx::query(sql(format!(
        "INSERT INTO deals (partner_id, member_id, customer, customer_key, expected_minor, note, \
         status, registered_at, expires_at, remind_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9) \
         ON CONFLICT (customer_key) WHERE status = 'active' DO NOTHING \
         RETURNING {DEAL_COLUMNS}"
    )))
    .bind(new.partner_id.0)
    .bind(new.member_id.map(|m| m.0))
    .bind(new.customer)
    .bind(new.customer_key)
    .bind(new.expected_minor)
    .bind(new.note)
    .bind(new.registered_at)
    .bind(new.expires_at)
    .bind(new.remind_at)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(deal_from_row).transpose()
}

/// Renews a registration to `expires_at` (its reminder due again at `remind_at`), keeping the
/// expected amount and note unless new ones are given.
pub async fn extend(
    conn: &mut Conn,
    id: i64,
    expires_at: i64,
    remind_at: Option<i64>,
    expected_minor: Option<i64>,
    note: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE deals SET expires_at = $1, remind_at = $2, reminded_at = NULL, \
         expected_minor = COALESCE($3, expected_minor), note = COALESCE($4, note) WHERE id = $5",
    )
    .bind(expires_at)
    .bind(remind_at)
    .bind(expected_minor)
    .bind(note)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends an active registration (a manager gave its customer to another partner).
pub async fn release(conn: &mut Conn, id: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE deals SET status = 'released', remind_at = NULL \
         WHERE id = $1 AND status = 'active'",
    )
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A partner's registrations in force at `now`, soonest to expire first.
pub async fn in_force_for(conn: &mut Conn, partner: PartnerId, now: i64) -> Result<Vec<Deal>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {DEAL_COLUMNS} FROM deals \
         WHERE partner_id = $1 AND status = 'active' AND expires_at > $2 \
         ORDER BY expires_at, id"
    )))
    .bind(partner.0)
    .bind(now)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(deal_from_row).collect()
}

/// Claims up to `limit` registrations whose reminder is due: one conditional update clears
/// their `remind_at`, so of two instances claiming at once each row goes to exactly one (on
/// PostgreSQL the second update re-checks the condition on the row the first one changed).
pub async fn claim_reminders(conn: &mut Conn, now: i64, limit: i64) -> Result<Vec<Deal>> {
    let rows = sqlx::query(sql(format!(
        "UPDATE deals SET remind_at = NULL, reminded_at = $1 \
         WHERE remind_at IS NOT NULL AND remind_at <= $1 AND status = 'active' \
         AND expires_at > $1 \
         AND id IN (SELECT id FROM deals WHERE remind_at IS NOT NULL AND remind_at <= $1 \
                    ORDER BY remind_at LIMIT $2) \
         RETURNING {DEAL_COLUMNS}"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(deal_from_row).collect()
}

/// A conflict about to be stored.
#[derive(Clone, Debug)]
pub struct NewConflict<'a> {
    pub customer: &'a str,
    pub customer_key: &'a str,
    pub deal: &'a Deal,
    pub claimant: PartnerId,
    pub claimant_member: Option<MemberId>,
    pub sale_id: Option<SaleId>,
    pub claim_expected_minor: Option<i64>,
    pub claim_note: Option<&'a str>,
    pub opened_at: i64,
}

/// Stores an open conflict; returns its number.
pub async fn open_conflict(conn: &mut Conn, new: &NewConflict<'_>) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO deal_conflicts (customer, customer_key, deal_id, holder_id, claimant_id, \
         claimant_member_id, sale_id, claim_expected_minor, claim_note, status, opened_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', $10) RETURNING id",
    )
    .bind(new.customer)
    .bind(new.customer_key)
    .bind(new.deal.id)
    .bind(new.deal.partner_id.0)
    .bind(new.claimant.0)
    .bind(new.claimant_member.map(|m| m.0))
    .bind(new.sale_id.map(|s| s.0))
    .bind(new.claim_expected_minor)
    .bind(new.claim_note)
    .bind(new.opened_at)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "id")
}

pub async fn conflict(conn: &mut Conn, id: i64) -> Result<Option<Conflict>> {
    let row = sqlx::query(sql(format!(
        "SELECT {CONFLICT_COLUMNS} FROM deal_conflicts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(conflict_from_row).transpose()
}

/// Open conflicts, oldest first.
pub async fn open_conflicts(conn: &mut Conn, limit: i64) -> Result<Vec<Conflict>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {CONFLICT_COLUMNS} FROM deal_conflicts WHERE status = 'open' ORDER BY id LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(conflict_from_row).collect()
}

/// The open conflict a sale waits for, if any.
pub async fn open_for_sale(conn: &mut Conn, sale: SaleId) -> Result<Option<Conflict>> {
    let row = sqlx::query(sql(format!(
        "SELECT {CONFLICT_COLUMNS} FROM deal_conflicts WHERE sale_id = $1 AND status = 'open'"
    )))
    .bind(sale.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(conflict_from_row).transpose()
}

/// A partner's open registration claim (`/deal`) on a customer, if any.
pub async fn open_claim(
    conn: &mut Conn,
    customer_key: &str,
    claimant: PartnerId,
) -> Result<Option<Conflict>> {
    let row = sqlx::query(sql(format!(
        "SELECT {CONFLICT_COLUMNS} FROM deal_conflicts WHERE customer_key = $1 \
         AND claimant_id = $2 AND sale_id IS NULL AND status = 'open'"
    )))
    .bind(customer_key)
    .bind(claimant.0)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(conflict_from_row).transpose()
}

/// Closes an open conflict. `false` if it was no longer open (another manager decided first):
/// nothing changed.
pub async fn close_conflict(
    conn: &mut Conn,
    id: i64,
    status: ConflictStatus,
    winner: Option<PartnerId>,
    split_percent: Option<u8>,
    by: Option<MemberId>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE deal_conflicts SET status = $1, winner_id = $2, split_percent = $3, \
         resolved_by = $4, resolved_at = $5 WHERE id = $6 AND status = 'open'",
    )
    .bind(status.as_str())
    .bind(winner.map(|p| p.0))
    .bind(split_percent.map(i64::from))
    .bind(by.map(|m| m.0))
    .bind(now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
