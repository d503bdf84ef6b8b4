//! Invite codes.

use super::{Conn, Result, col, parse_col};
use crate::engine::ids::{MemberId, PartnerId};
use crate::engine::invite::Invite;
use crate::engine::partner::Role;

pub async fn insert(
    conn: &mut Conn,
    invite: &Invite,
    created_by: Option<MemberId>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO invites (code, partner_id, role, created_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&invite.code)
    .bind(invite.partner_id.map(|p| p.0))
    .bind(invite.role.as_str())
    .bind(created_by.map(|m| m.0))
    .bind(now)
    .bind(invite.expires_at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn find(conn: &mut Conn, code: &str) -> Result<Option<Invite>> {
    let row = sqlx::query(
        "SELECT code, partner_id, role, expires_at, used_by FROM invites WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = col(&row, "role")?;
    Ok(Some(Invite {
        code: col(&row, "code")?,
        partner_id: col::<Option<i64>>(&row, "partner_id")?.map(PartnerId),
        role: parse_col(&role, "invites.role", Role::parse)?,
        expires_at: col(&row, "expires_at")?,
        used: col::<Option<i64>>(&row, "used_by")?.is_some(),
    }))
}

/// Marks an invite used. `false` if someone else used it first (the update is conditional,
/// so two members racing for one code cannot both get it).
pub async fn mark_used(conn: &mut Conn, code: &str, member: MemberId, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE invites SET used_by = $1, used_at = $2 WHERE code = $3 AND used_by IS NULL",
    )
    .bind(member.0)
    .bind(now)
    .bind(code)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks `code` as a personal link code of `member`: redeeming it joins the redeeming account
/// to `member`'s person.
pub async fn mark_personal(conn: &mut Conn, code: &str, member: MemberId) -> Result<()> {
    sqlx::query("UPDATE invites SET link_member = $1 WHERE code = $2")
        .bind(member.0)
        .bind(code)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The account whose personal link code `code` is, if it is one.
pub async fn link_member(conn: &mut Conn, code: &str) -> Result<Option<MemberId>> {
    let row = sqlx::query("SELECT link_member FROM invites WHERE code = $1")
        .bind(code)
        .fetch_optional(&mut *conn)
        .await?;
    Ok(match row {
        Some(row) => col::<Option<i64>>(&row, "link_member")?.map(MemberId),
        None => None,
    })
}
