//! Members table: chat accounts and their roles.

use sqlx::any::AnyRow;

use super::{Conn, Result, col, parse_col, sql};
use crate::config::AudienceFilter;
use crate::engine::ids::{MemberId, PartnerId};
use crate::engine::partner::{Member, Platform, Role};

const COLUMNS: &str = "id, platform, platform_user_id, display_name, partner_id, role, locale";

fn from_row(row: &AnyRow) -> Result<Member> {
    let platform: String = col(row, "platform")?;
    let role: Option<String> = col(row, "role")?;
    Ok(Member {
        id: MemberId(col(row, "id")?),
        platform: parse_col(&platform, "members.platform", Platform::parse)?,
        platform_user_id: col(row, "platform_user_id")?,
        display_name: col(row, "display_name")?,
        partner_id: col::<Option<i64>>(row, "partner_id")?.map(PartnerId),
        role: role
            .map(|r| parse_col(&r, "members.role", Role::parse))
            .transpose()?,
        locale: col(row, "locale")?,
    })
}

pub async fn find(conn: &mut Conn, platform: Platform, user_id: &str) -> Result<Option<Member>> {
    let row = sqlx::query(sql(format!(
        "SELECT {COLUMNS} FROM members WHERE platform = $1 AND platform_user_id = $2"
    )))
    .bind(platform.as_str())
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(conn: &mut Conn, id: MemberId) -> Result<Option<Member>> {
    let row = sqlx::query(sql(format!("SELECT {COLUMNS} FROM members WHERE id = $1")))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Returns the member for a chat account, creating it (without a role) on first contact and
/// keeping its display name current.
pub async fn upsert(
    conn: &mut Conn,
    platform: Platform,
    user_id: &str,
    display_name: &str,
    now: i64,
) -> Result<Member> {
    let row = sqlx::query(sql(format!(
        "INSERT INTO members (platform, platform_user_id, display_name, created_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (platform, platform_user_id) DO UPDATE SET display_name = excluded.display_name \
         RETURNING {COLUMNS}"
    )))
    .bind(platform.as_str())
    .bind(user_id)
    .bind(display_name)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    from_row(&row)
}

/// Links a member to a partner (or to none, for managers) with a role.
pub async fn set_role(
    conn: &mut Conn,
    id: MemberId,
    partner: Option<PartnerId>,
    role: Role,
) -> Result<()> {
    sqlx::query("UPDATE members SET partner_id = $1, role = $2 WHERE id = $3")
        .bind(partner.map(|p| p.0))
        .bind(role.as_str())
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_locale(conn: &mut Conn, id: MemberId, locale: &str) -> Result<()> {
    sqlx::query("UPDATE members SET locale = $1 WHERE id = $2")
        .bind(locale)
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Members with a role, for listings (`/as` in the demo, admin views).
pub async fn list(conn: &mut Conn) -> Result<Vec<Member>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {COLUMNS} FROM members WHERE role IS NOT NULL ORDER BY id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Managers and admins: who is told about new pending sales.
pub async fn managers(conn: &mut Conn) -> Result<Vec<Member>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {COLUMNS} FROM members WHERE role IN ('manager', 'admin') ORDER BY id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Members a broadcast reaches: registered, not marked unreachable, and, when `filter` names
/// partner attributes, reporting for a partner that has them (managers without a partner are
/// reached only by unfiltered broadcasts).
pub async fn audience(conn: &mut Conn, filter: &AudienceFilter) -> Result<Vec<MemberId>> {
    let rows = sqlx::query(
        "SELECT m.id FROM members m LEFT JOIN partners p ON p.id = m.partner_id \
         WHERE m.role IS NOT NULL AND m.unreachable_at IS NULL \
           AND (CAST($1 AS TEXT) IS NULL OR LOWER(p.region) = LOWER(CAST($1 AS TEXT))) \
           AND (CAST($2 AS TEXT) IS NULL OR LOWER(p.tier) = LOWER(CAST($2 AS TEXT))) \
           AND (CAST($3 AS TEXT) IS NULL OR p.kind = CAST($3 AS TEXT)) \
           AND (CAST($4 AS TEXT) IS NULL OR m.platform = CAST($4 AS TEXT)) \
         ORDER BY m.id",
    )
    .bind(filter.region.as_deref())
    .bind(filter.tier.as_deref())
    .bind(filter.kind.map(|k| k.as_str()))
    .bind(filter.platform.map(|p| p.as_str()))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(MemberId(col(r, "id")?))).collect()
}
