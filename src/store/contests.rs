//! Contest standings, their customers, builds, the archive of ended contests, prizes and the
//! images (charts) posts refer to.
//!
//! Standings move in the transaction of the sale change that moves them (see
//! `features::contests::service`); each change carries a stamp, as `period_totals` does, from
//! which the in-memory boards sync (`store::contest_boards`).

use std::collections::HashMap;

use super::totals::is_postgres;
use super::{Conn, Result, col, sql};
use crate::engine::contest::Facts;
use crate::engine::ids::PartnerId;

/// The stamp a standings change carries (see `totals::change_stamp`): SQLite, the next number of
/// a per-contest sequence (one writer at a time); PostgreSQL, the writing transaction's id.
fn stamp(conn: &Conn) -> &'static str {
    if is_postgres(conn) {
        "(pg_current_xact_id()::text::bigint)"
    } else {
        "(SELECT COALESCE(MAX(change_seq), 0) + 1 FROM contest_standings WHERE contest_id = $1)"
    }
}

/// A change to one partner's standing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bump {
    pub amount_minor: i64,
    pub count: i64,
    pub new_customers: i64,
    /// Whether the value the contest ranks by moved (ties go to whoever reached it first).
    pub moves_value: bool,
}

/// Applies `bump` to a partner's standing, creating it if needed. Returns whether the row
/// was initialized already (`false`: just created, fill in base and target next).
pub async fn bump(
    conn: &mut Conn,
    contest: &str,
    partner: PartnerId,
    bump: Bump,
    now: i64,
) -> Result<bool> {
    let stamp = stamp(conn);
    let row = sqlx::query(sql(format!(
        "INSERT INTO contest_standings (contest_id, partner_id, amount_minor, sales_count, \
         new_customers, reached_at, change_seq) VALUES ($1, $2, $3, $4, $5, $6, {stamp}) \
         ON CONFLICT (contest_id, partner_id) DO UPDATE SET \
           amount_minor = contest_standings.amount_minor + excluded.amount_minor, \
           sales_count = contest_standings.sales_count + excluded.sales_count, \
           new_customers = contest_standings.new_customers + excluded.new_customers, \
           reached_at = CASE WHEN $7 = 1 THEN excluded.reached_at \
                        ELSE contest_standings.reached_at END, \
           change_seq = {stamp} \
         RETURNING initialized"
    )))
    .bind(contest)
    .bind(partner.0)
    .bind(bump.amount_minor)
    .bind(bump.count)
    .bind(bump.new_customers)
    .bind(now)
    .bind(i64::from(bump.moves_value))
    .fetch_one(&mut *conn)
    .await?;
    Ok(col::<i64>(&row, "initialized")? != 0)
}

/// Fills in a new standing's growth base and contest target.
pub async fn initialize(
    conn: &mut Conn,
    contest: &str,
    partner: PartnerId,
    base_minor: i64,
    target_minor: Option<i64>,
) -> Result<()> {
    let stamp = stamp(conn);
    sqlx::query(sql(format!(
        "UPDATE contest_standings SET base_minor = $3, target_minor = $4, initialized = 1, \
         change_seq = {stamp} WHERE contest_id = $1 AND partner_id = $2"
    )))
    .bind(contest)
    .bind(partner.0)
    .bind(base_minor)
    .bind(target_minor)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A sale of the growth base span changed: moves the base of an initialized standing (one not
/// made yet reads its base from the sales when it is).
pub async fn add_base(
    conn: &mut Conn,
    contest: &str,
    partner: PartnerId,
    delta: i64,
) -> Result<()> {
    let stamp = stamp(conn);
    sqlx::query(sql(format!(
        "UPDATE contest_standings SET base_minor = base_minor + $3, change_seq = {stamp} \
         WHERE contest_id = $1 AND partner_id = $2 AND initialized = 1"
    )))
    .bind(contest)
    .bind(partner.0)
    .bind(delta)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A partner's approved sales dated within `[from, to]` (one partner's sales, by its index).
pub async fn approved_between(
    conn: &mut Conn,
    partner: PartnerId,
    from: &str,
    to: &str,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(SUM(program_minor), 0) AS BIGINT) AS total FROM sales WHERE partner_id = $1 \
         AND status = 'approved' AND sale_date >= $2 AND sale_date <= $3",
    )
    .bind(partner.0)
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "total")
}

/// The customers a partner sold to (approved) before `date`, as written.
pub async fn customers_before(
    conn: &mut Conn,
    partner: PartnerId,
    date: &str,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT customer FROM sales WHERE partner_id = $1 AND status = 'approved' \
         AND sale_date < $2",
    )
    .bind(partner.0)
    .bind(date)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| col(r, "customer")).collect()
}

/// Counts `delta` approved sales to a customer; returns the count after and whether the
/// customer is new to the partner (`None`: not known yet, the row was just made).
pub async fn bump_customer(
    conn: &mut Conn,
    contest: &str,
    partner: PartnerId,
    customer_key: &str,
    delta: i64,
) -> Result<(i64, Option<bool>)> {
    let row = sqlx::query(
        "INSERT INTO contest_customers (contest_id, partner_id, customer_key, sales, is_new) \
         VALUES ($1, $2, $3, $4, -1) ON CONFLICT (contest_id, partner_id, customer_key) \
         DO UPDATE SET sales = contest_customers.sales + excluded.sales RETURNING sales, is_new",
    )
    .bind(contest)
    .bind(partner.0)
    .bind(customer_key)
    .bind(delta)
    .fetch_one(&mut *conn)
    .await?;
    let is_new: i64 = col(&row, "is_new")?;
    Ok((col(&row, "sales")?, (is_new >= 0).then_some(is_new == 1)))
}

pub async fn set_customer_new(
    conn: &mut Conn,
    contest: &str,
    partner: PartnerId,
    customer_key: &str,
    is_new: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE contest_customers SET is_new = $4 WHERE contest_id = $1 AND partner_id = $2 \
         AND customer_key = $3",
    )
    .bind(contest)
    .bind(partner.0)
    .bind(customer_key)
    .bind(i64::from(is_new))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// One partner's standing as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing {
    pub partner: PartnerId,
    pub facts: Facts,
    pub reached_at: i64,
    pub stamp: i64,
}

const STANDING_COLUMNS: &str = "partner_id, amount_minor, sales_count, base_minor, target_minor, \
     new_customers, reached_at, change_seq";

fn standing(row: &sqlx::any::AnyRow) -> Result<Standing> {
    Ok(Standing {
        partner: PartnerId(col(row, "partner_id")?),
        facts: Facts {
            amount_minor: col(row, "amount_minor")?,
            count: col(row, "sales_count")?,
            base_minor: col(row, "base_minor")?,
            target_minor: col(row, "target_minor")?,
            new_customers: col(row, "new_customers")?,
        },
        reached_at: col(row, "reached_at")?,
        stamp: col(row, "change_seq")?,
    })
}

/// Standings changed since `since` (`None`: all) and where the next sync starts; the same
/// protocol as [`super::totals::changes_since`].
pub async fn changes_since(
    conn: &mut Conn,
    contest: &str,
    since: Option<i64>,
) -> Result<(Vec<Standing>, i64)> {
    let postgres = is_postgres(conn);
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
        "SELECT {STANDING_COLUMNS} FROM contest_standings \
         WHERE contest_id = $1 AND change_seq {cmp} $2"
    )))
    .bind(contest)
    .bind(from)
    .fetch_all(&mut *conn)
    .await?;
    let changes = rows.iter().map(standing).collect::<Result<Vec<_>>>()?;
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

/// The definition a contest's standings were built for.
pub async fn build_fingerprint(conn: &mut Conn, contest: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT fingerprint FROM contest_builds WHERE contest_id = $1")
        .bind(contest)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| col(&r, "fingerprint")).transpose()
}

/// Claims the (re)build of a contest's standings for `fingerprint`; `false` if they are built
/// for it already (by another instance in the meantime).
pub async fn claim_build(
    conn: &mut Conn,
    contest: &str,
    fingerprint: &str,
    now: i64,
) -> Result<bool> {
    let row = sqlx::query(
        "INSERT INTO contest_builds (contest_id, fingerprint, built_at) VALUES ($1, $2, $3) \
         ON CONFLICT (contest_id) DO UPDATE SET fingerprint = excluded.fingerprint, \
         built_at = excluded.built_at WHERE contest_builds.fingerprint <> excluded.fingerprint \
         RETURNING contest_id",
    )
    .bind(contest)
    .bind(fingerprint)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// Empties a contest's standings before a rebuild (rows stay, at zero, so boards in memory
/// see the change and drop them).
pub async fn reset(conn: &mut Conn, contest: &str) -> Result<()> {
    let stamp = stamp(conn);
    sqlx::query(sql(format!(
        "UPDATE contest_standings SET amount_minor = 0, sales_count = 0, base_minor = 0, \
         new_customers = 0, initialized = 0, change_seq = {stamp} WHERE contest_id = $1"
    )))
    .bind(contest)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM contest_customers WHERE contest_id = $1")
        .bind(contest)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Approved sales dated within `[from, to]` per partner: (amount, count, latest decision).
pub async fn approved_by_partner(
    conn: &mut Conn,
    from: &str,
    to: &str,
) -> Result<HashMap<PartnerId, (i64, i64, i64)>> {
    let rows = sqlx::query(
        "SELECT partner_id, CAST(SUM(program_minor) AS BIGINT) AS amount, COUNT(*) AS n, \
         MAX(COALESCE(decided_at, reported_at)) AS at FROM sales \
         WHERE status = 'approved' AND sale_date >= $1 AND sale_date <= $2 GROUP BY partner_id",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                PartnerId(col(r, "partner_id")?),
                (col(r, "amount")?, col(r, "n")?, col(r, "at")?),
            ))
        })
        .collect()
}

/// Approved sales dated within `[from, to]`: (partner, customer as written, sales).
pub async fn approved_customers(
    conn: &mut Conn,
    from: &str,
    to: &str,
) -> Result<Vec<(PartnerId, String, i64)>> {
    let rows = sqlx::query(
        "SELECT partner_id, customer, COUNT(*) AS n FROM sales WHERE status = 'approved' \
         AND sale_date >= $1 AND sale_date <= $2 GROUP BY partner_id, customer",
    )
    .bind(from)
    .bind(to)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                PartnerId(col(r, "partner_id")?),
                col(r, "customer")?,
                col(r, "n")?,
            ))
        })
        .collect()
}

/// Sets a standing's facts outright (rebuilds).
pub async fn put(
    conn: &mut Conn,
    contest: &str,
    partner: PartnerId,
    facts: &Facts,
    reached_at: i64,
) -> Result<()> {
    let stamp = stamp(conn);
    sqlx::query(sql(format!(
        "INSERT INTO contest_standings (contest_id, partner_id, amount_minor, sales_count, \
         base_minor, target_minor, new_customers, reached_at, initialized, change_seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, {stamp}) \
         ON CONFLICT (contest_id, partner_id) DO UPDATE SET \
           amount_minor = excluded.amount_minor, sales_count = excluded.sales_count, \
           base_minor = excluded.base_minor, target_minor = excluded.target_minor, \
           new_customers = excluded.new_customers, reached_at = excluded.reached_at, \
           initialized = 1, change_seq = {stamp}"
    )))
    .bind(contest)
    .bind(partner.0)
    .bind(facts.amount_minor)
    .bind(facts.count)
    .bind(facts.base_minor)
    .bind(facts.target_minor)
    .bind(facts.new_customers)
    .bind(reached_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Sets a customer row outright (rebuilds).
pub async fn put_customer(
    conn: &mut Conn,
    contest: &str,
    partner: PartnerId,
    customer_key: &str,
    sales: i64,
    is_new: bool,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO contest_customers (contest_id, partner_id, customer_key, sales, is_new) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (contest_id, partner_id, customer_key) \
         DO UPDATE SET sales = contest_customers.sales + excluded.sales",
    )
    .bind(contest)
    .bind(partner.0)
    .bind(customer_key)
    .bind(sales)
    .bind(i64::from(is_new))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- the archive -----------------------------------------------------------------------------

/// An ended contest as archived.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archived {
    pub contest_id: String,
    pub name: String,
    pub name_zh: Option<String>,
    pub metric: String,
    pub start: String,
    pub end: String,
    pub participants: i64,
    /// JSON: the final board (see `features::contests::service::FinalStanding`).
    pub standings: String,
    pub archived_at: i64,
}

/// Archives a contest once; `false` if it was archived before.
pub async fn archive(conn: &mut Conn, a: &Archived) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO contest_archive (contest_id, name, name_zh, metric, start_date, end_date, \
         participants, standings, archived_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (contest_id) DO NOTHING",
    )
    .bind(&a.contest_id)
    .bind(&a.name)
    .bind(a.name_zh.as_deref())
    .bind(&a.metric)
    .bind(&a.start)
    .bind(&a.end)
    .bind(a.participants)
    .bind(&a.standings)
    .bind(a.archived_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn archived(row: &sqlx::any::AnyRow) -> Result<Archived> {
    Ok(Archived {
        contest_id: col(row, "contest_id")?,
        name: col(row, "name")?,
        name_zh: col(row, "name_zh")?,
        metric: col(row, "metric")?,
        start: col(row, "start_date")?,
        end: col(row, "end_date")?,
        participants: col(row, "participants")?,
        standings: col(row, "standings")?,
        archived_at: col(row, "archived_at")?,
    })
}

const ARCHIVE_COLUMNS: &str =
    "contest_id, name, name_zh, metric, start_date, end_date, participants, standings, archived_at";

pub async fn archived_one(conn: &mut Conn, contest: &str) -> Result<Option<Archived>> {
    let row = sqlx::query(sql(format!(
        "SELECT {ARCHIVE_COLUMNS} FROM contest_archive WHERE contest_id = $1"
    )))
    .bind(contest)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(archived).transpose()
}

/// Archived contests, the latest ended first.
pub async fn archived_all(conn: &mut Conn, limit: i64) -> Result<Vec<Archived>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {ARCHIVE_COLUMNS} FROM contest_archive ORDER BY end_date DESC, contest_id LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(archived).collect()
}

// --- prizes ------------------------------------------------------------------------------------

/// A prize as booked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BookedPrize {
    pub contest_id: String,
    pub place: u32,
    pub partner: PartnerId,
    pub contest_name: String,
    pub amount_minor: Option<i64>,
    pub reward: Option<String>,
    pub period: String,
}

/// Books a prize once per (contest, place); `false` if it was booked before (a second run of
/// the end job, or another instance).
pub async fn book_prize(conn: &mut Conn, p: &BookedPrize, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO contest_prizes (contest_id, place, partner_id, contest_name, amount_minor, \
         reward, period, booked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (contest_id, place) DO NOTHING",
    )
    .bind(&p.contest_id)
    .bind(i64::from(p.place))
    .bind(p.partner.0)
    .bind(&p.contest_name)
    .bind(p.amount_minor)
    .bind(p.reward.as_deref())
    .bind(&p.period)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn booked(row: &sqlx::any::AnyRow) -> Result<BookedPrize> {
    Ok(BookedPrize {
        contest_id: col(row, "contest_id")?,
        place: u32::try_from(col::<i64>(row, "place")?).unwrap_or(0),
        partner: PartnerId(col(row, "partner_id")?),
        contest_name: col(row, "contest_name")?,
        amount_minor: col(row, "amount_minor")?,
        reward: col(row, "reward")?,
        period: col(row, "period")?,
    })
}

const PRIZE_COLUMNS: &str =
    "contest_id, place, partner_id, contest_name, amount_minor, reward, period";

/// Money prizes landing on statements of `period` (all partners).
pub async fn money_prizes_of_period(conn: &mut Conn, period: &str) -> Result<Vec<BookedPrize>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {PRIZE_COLUMNS} FROM contest_prizes WHERE period = $1 \
         AND amount_minor IS NOT NULL ORDER BY contest_id, place"
    )))
    .bind(period)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(booked).collect()
}

/// A partner's money prizes on its statement of `period`.
pub async fn money_prizes(
    conn: &mut Conn,
    partner: PartnerId,
    period: &str,
) -> Result<Vec<BookedPrize>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {PRIZE_COLUMNS} FROM contest_prizes WHERE partner_id = $1 AND period = $2 \
         AND amount_minor IS NOT NULL ORDER BY contest_id, place"
    )))
    .bind(partner.0)
    .bind(period)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(booked).collect()
}

/// Every prize of a contest, by place.
pub async fn prizes_of(conn: &mut Conn, contest: &str) -> Result<Vec<BookedPrize>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {PRIZE_COLUMNS} FROM contest_prizes WHERE contest_id = $1 ORDER BY place"
    )))
    .bind(contest)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(booked).collect()
}

// --- images -------------------------------------------------------------------------------------

/// Stores a picture; returns its id.
pub async fn insert_image(conn: &mut Conn, mime: &str, bytes: &[u8], now: i64) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO images (mime, bytes, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(mime)
    .bind(bytes)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "id")
}

/// A stored picture: (mime type, bytes).
pub async fn image(conn: &mut Conn, id: i64) -> Result<Option<(String, Vec<u8>)>> {
    let row = sqlx::query("SELECT mime, bytes FROM images WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| Ok((col(&r, "mime")?, col(&r, "bytes")?)))
        .transpose()
}
