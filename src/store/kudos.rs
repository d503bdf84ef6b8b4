//! Kudos given between members, and the Telegram usernames members are addressed by.

use super::{Conn, Result, col};
use crate::engine::ids::{MemberId, PartnerId};
use crate::engine::partner::{Member, Platform};

/// One kudos to store.
#[derive(Clone, Debug)]
pub struct NewKudos<'a> {
    pub from: MemberId,
    /// The member thanked; `None` when a partner was named.
    pub to_member: Option<MemberId>,
    pub to_partner: PartnerId,
    pub reason: &'a str,
    /// The giver's program-local day (`YYYY-MM-DD`), for the daily allowance.
    pub day: &'a str,
    pub now: i64,
}

/// How many kudos a member gave on a day.
pub async fn given_on(conn: &mut Conn, from: MemberId, day: &str) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM kudos WHERE from_member = $1 AND day = $2")
        .bind(from.0)
        .bind(day)
        .fetch_one(&mut *conn)
        .await?;
    col(&row, "n")
}

/// Stores a kudos as the giver's `slot`-th of its day; `None` when another kudos took that
/// slot first (a concurrent one): the caller refuses rather than exceed the allowance.
pub async fn insert(conn: &mut Conn, new: &NewKudos<'_>, slot: i64) -> Result<Option<i64>> {
    let row = sqlx::query(
        "INSERT INTO kudos (from_member, to_member, to_partner, reason, day, slot, given_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (from_member, day, slot) DO NOTHING RETURNING id",
    )
    .bind(new.from.0)
    .bind(new.to_member.map(|m| m.0))
    .bind(new.to_partner.0)
    .bind(new.reason)
    .bind(new.day)
    .bind(slot)
    .bind(new.now)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| col(&r, "id")).transpose()
}

/// When `from` last thanked this member (or, with `to_member` `None`, this partner by name).
pub async fn last_to(
    conn: &mut Conn,
    from: MemberId,
    to_member: Option<MemberId>,
    to_partner: PartnerId,
) -> Result<Option<i64>> {
    let row =
        match to_member {
            Some(member) => sqlx::query(
                "SELECT MAX(given_at) AS at FROM kudos WHERE from_member = $1 AND to_member = $2",
            )
            .bind(from.0)
            .bind(member.0)
            .fetch_one(&mut *conn)
            .await?,
            None => {
                sqlx::query(
                    "SELECT MAX(given_at) AS at FROM kudos WHERE from_member = $1 \
                 AND to_member IS NULL AND to_partner = $2",
                )
                .bind(from.0)
                .bind(to_partner.0)
                .fetch_one(&mut *conn)
                .await?
            }
        };
    col(&row, "at")
}

/// The partners who received the most kudos since `since` (ties: partner name), with counts.
pub async fn top_receivers(conn: &mut Conn, since: i64, limit: i64) -> Result<Vec<(String, i64)>> {
    let rows = sqlx::query(
        "SELECT p.name, COUNT(*) AS n FROM kudos k JOIN partners p ON p.id = k.to_partner \
         WHERE k.given_at >= $1 GROUP BY p.name ORDER BY n DESC, p.name LIMIT $2",
    )
    .bind(since)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((col(r, "name")?, col(r, "n")?)))
        .collect()
}

/// Remembers a member's username (lowercase, without `@`) when it changed; `true` once the
/// member's stored username is this one (`false`: no such member yet).
pub async fn set_username(
    conn: &mut Conn,
    platform: Platform,
    user_id: &str,
    username: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE members SET username = $1 WHERE platform = $2 AND platform_user_id = $3 \
         AND (username IS NULL OR username <> $1)",
    )
    .bind(username)
    .bind(platform.as_str())
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() > 0 {
        return Ok(true);
    }
    let row = sqlx::query(
        "SELECT 1 AS one FROM members WHERE platform = $1 AND platform_user_id = $2 \
         AND username = $3",
    )
    .bind(platform.as_str())
    .bind(user_id)
    .bind(username)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.is_some())
}

/// The member last seen with a username on a platform.
pub async fn find_by_username(
    conn: &mut Conn,
    platform: Platform,
    username: &str,
) -> Result<Option<Member>> {
    let row = sqlx::query("SELECT id FROM members WHERE platform = $1 AND username = $2 LIMIT 1")
        .bind(platform.as_str())
        .bind(username)
        .fetch_optional(&mut *conn)
        .await?;
    match row {
        Some(r) => super::members::get(conn, MemberId(col(&r, "id")?)).await,
        None => Ok(None),
    }
}
