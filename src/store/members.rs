//! Members table: chat accounts and their roles.

use sqlx::any::AnyRow;

use super::{Conn, Result, col, parse_col, sql};
use crate::config::AudienceFilter;
use crate::engine::ids::{MemberId, PartnerId, PersonId};
use crate::engine::partner::{Member, Person, Platform, Role};

/// Every query reads members with their person (if any) through this join.
const SELECT: &str = "SELECT m.id, m.platform, m.platform_user_id, m.display_name, m.partner_id, \
     m.role, m.locale, m.person_id, p.last_platform, p.notify_platform \
     FROM members m LEFT JOIN people p ON p.id = m.person_id";

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
        person: match col::<Option<i64>>(row, "person_id")? {
            None => None,
            Some(id) => Some(Person {
                id: PersonId(id),
                last_platform: platform_col(row, "last_platform", "people.last_platform")?,
                notify_platform: platform_col(row, "notify_platform", "people.notify_platform")?,
            }),
        },
    })
}

fn platform_col(row: &AnyRow, name: &str, what: &str) -> Result<Option<Platform>> {
    col::<Option<String>>(row, name)?
        .map(|p| parse_col(&p, what, Platform::parse))
        .transpose()
}

pub async fn find(conn: &mut Conn, platform: Platform, user_id: &str) -> Result<Option<Member>> {
    let row = sqlx::query(sql(format!(
        "{SELECT} WHERE m.platform = $1 AND m.platform_user_id = $2"
    )))
    .bind(platform.as_str())
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The members of many accounts on one platform, in one statement per 500 accounts (a
/// group-commit batch looks its senders up at once); accounts without a member are left out.
pub async fn find_many(
    conn: &mut Conn,
    platform: Platform,
    user_ids: &[&str],
) -> Result<Vec<Member>> {
    let mut found = Vec::with_capacity(user_ids.len());
    for chunk in user_ids.chunks(500) {
        // The platform is the last placeholder: the in-list numbers its own from $1.
        let text = format!(
            "{SELECT} WHERE m.platform_user_id IN ({}) AND m.platform = {}",
            super::in_list(conn, chunk.len()),
            super::placeholder(conn, chunk.len() + 1)
        );
        let mut query = sqlx::query(sql(text));
        for id in chunk {
            query = query.bind(*id);
        }
        let rows = query.bind(platform.as_str()).fetch_all(&mut *conn).await?;
        for row in &rows {
            found.push(from_row(row)?);
        }
    }
    Ok(found)
}

pub async fn get(conn: &mut Conn, id: MemberId) -> Result<Option<Member>> {
    let row = sqlx::query(sql(format!("{SELECT} WHERE m.id = $1")))
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
    let row = sqlx::query(
        "INSERT INTO members (platform, platform_user_id, display_name, created_at) \
         VALUES ($1, $2, $3, $4) \
         ON CONFLICT (platform, platform_user_id) DO UPDATE SET display_name = excluded.display_name \
         RETURNING id",
    )
    .bind(platform.as_str())
    .bind(user_id)
    .bind(display_name)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let id = MemberId(col(&row, "id")?);
    get(conn, id)
        .await?
        .ok_or_else(|| super::StoreError::Corrupt(format!("member {id} vanished after its upsert")))
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
        "{SELECT} WHERE m.role IS NOT NULL ORDER BY m.id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Managers and admins: who is told about new pending sales.
pub async fn managers(conn: &mut Conn) -> Result<Vec<Member>> {
    let rows = sqlx::query(sql(format!(
        "{SELECT} WHERE m.role IN ('manager', 'admin') ORDER BY m.id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Members a broadcast reaches: registered, not marked unreachable, and, when `filter` names
/// partner attributes, reporting for a partner that has them (managers without a partner are
/// reached only by unfiltered broadcasts).
///
/// A person with several accounts counts once (their lowest account id stands for them; the
/// outbox routes it to where they want notices).
pub async fn audience(conn: &mut Conn, filter: &AudienceFilter) -> Result<Vec<MemberId>> {
    let rows = sqlx::query(
        "SELECT MIN(m.id) AS id FROM members m LEFT JOIN partners p ON p.id = m.partner_id \
         WHERE m.role IS NOT NULL AND m.unreachable_at IS NULL \
           AND (CAST($1 AS TEXT) IS NULL OR LOWER(p.region) = LOWER(CAST($1 AS TEXT))) \
           AND (CAST($2 AS TEXT) IS NULL OR LOWER(p.tier) = LOWER(CAST($2 AS TEXT))) \
           AND (CAST($3 AS TEXT) IS NULL OR p.kind = CAST($3 AS TEXT)) \
           AND (CAST($4 AS TEXT) IS NULL OR m.platform = CAST($4 AS TEXT)) \
         GROUP BY COALESCE(m.person_id, -m.id) \
         ORDER BY 1",
    )
    .bind(filter.region.as_deref())
    .bind(filter.tier.as_deref())
    .bind(filter.kind.map(|k| k.as_str()))
    .bind(filter.platform.map(|p| p.as_str()))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| Ok(MemberId(col(r, "id")?))).collect()
}

/// Managers and admins to tell about something: one account per person (a manager linked on
/// both platforms is told once, where [`notice_account`] says).
pub async fn managers_to_notify(conn: &mut Conn) -> Result<Vec<Member>> {
    let mut seen = std::collections::HashSet::new();
    Ok(managers(conn)
        .await?
        .into_iter()
        .filter(|m| m.person.as_ref().is_none_or(|p| seen.insert(p.id)))
        .collect())
}

/// The account a notice for `member` goes to: for a person with several accounts, the one on
/// the platform they chose with `/notify`, else where they last spoke to the bot, skipping
/// accounts marked unreachable; otherwise the member's own account.
pub async fn notice_account(conn: &mut Conn, member: Member) -> Result<Member> {
    let Some(person) = member.person.clone() else {
        return Ok(member);
    };
    let rows = sqlx::query(sql(format!(
        "{SELECT} WHERE m.person_id = $1 AND m.unreachable_at IS NULL ORDER BY m.id"
    )))
    .bind(person.id.0)
    .fetch_all(&mut *conn)
    .await?;
    let reachable = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    let preferred = person
        .preferred_platform()
        .and_then(|p| reachable.iter().find(|m| m.platform == p));
    Ok(match preferred {
        Some(found) => found.clone(),
        None if reachable.iter().any(|m| m.id == member.id) => member,
        None => reachable.into_iter().next().unwrap_or(member),
    })
}

/// The accounts of one person, in id order.
pub async fn accounts_of(conn: &mut Conn, person: PersonId) -> Result<Vec<Member>> {
    let rows = sqlx::query(sql(format!(
        "{SELECT} WHERE m.person_id = $1 ORDER BY m.id"
    )))
    .bind(person.0)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Joins `account` to the person of `with` (creating the person when `with` has none), so both
/// accounts, and any others `account` was already joined with, are one person. Returns it.
pub async fn join_person(
    conn: &mut Conn,
    with: &Member,
    account: &Member,
    now: i64,
) -> Result<PersonId> {
    let person = match &with.person {
        Some(p) => p.id,
        None => {
            let row = sqlx::query("INSERT INTO people (created_at) VALUES ($1) RETURNING id")
                .bind(now)
                .fetch_one(&mut *conn)
                .await?;
            let id = PersonId(col(&row, "id")?);
            sqlx::query("UPDATE members SET person_id = $1 WHERE id = $2")
                .bind(id.0)
                .bind(with.id.0)
                .execute(&mut *conn)
                .await?;
            id
        }
    };
    if let Some(old) = account.person.as_ref().filter(|p| p.id != person) {
        sqlx::query("UPDATE members SET person_id = $1 WHERE person_id = $2")
            .bind(person.0)
            .bind(old.id.0)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM people WHERE id = $1")
            .bind(old.id.0)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query("UPDATE members SET person_id = $1 WHERE id = $2")
        .bind(person.0)
        .bind(account.id.0)
        .execute(&mut *conn)
        .await?;
    Ok(person)
}

/// Remembers that the person spoke on `platform`. Writes only when that changed, so a person
/// who stays on one platform costs no write per message.
pub async fn note_spoke(conn: &mut Conn, person: &Person, platform: Platform) -> Result<()> {
    if person.last_platform == Some(platform) {
        return Ok(());
    }
    sqlx::query("UPDATE people SET last_platform = $1 WHERE id = $2")
        .bind(platform.as_str())
        .bind(person.id.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Sets (or, with `None`, clears) where the person wants notices.
pub async fn set_notify_platform(
    conn: &mut Conn,
    person: PersonId,
    platform: Option<Platform>,
) -> Result<()> {
    sqlx::query("UPDATE people SET notify_platform = $1 WHERE id = $2")
        .bind(platform.map(|p| p.as_str()))
        .bind(person.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
