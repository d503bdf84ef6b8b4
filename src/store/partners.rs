//! Partners table.

use sqlx::any::AnyRow;

use super::{Conn, Result, col, parse_col, sql};
use crate::engine::ids::PartnerId;
use crate::engine::partner::{Partner, PartnerKind, PartnerStatus, name_key};

/// What is needed to create a partner.
#[derive(Clone, Debug)]
pub struct NewPartner {
    pub name: String,
    pub kind: PartnerKind,
    pub region: Option<String>,
    pub tier: Option<String>,
    /// Sales potential in minor units of program currency.
    pub potential_minor: Option<i64>,
}

const COLUMNS: &str = "id, name, kind, region, tier, status, joined_at, potential_minor";

fn from_row(row: &AnyRow) -> Result<Partner> {
    let kind: String = col(row, "kind")?;
    let status: String = col(row, "status")?;
    Ok(Partner {
        id: PartnerId(col(row, "id")?),
        name: col(row, "name")?,
        kind: parse_col(&kind, "partners.kind", PartnerKind::parse)?,
        region: col(row, "region")?,
        tier: col(row, "tier")?,
        status: parse_col(&status, "partners.status", PartnerStatus::parse)?,
        joined_at: col(row, "joined_at")?,
        potential_minor: col(row, "potential_minor")?,
    })
}

/// Inserts a partner; `None` if one with the same name (by [`name_key`]) exists.
pub async fn insert(conn: &mut Conn, new: &NewPartner, now: i64) -> Result<Option<Partner>> {
    let row = sqlx::query(sql(format!(
        "INSERT INTO partners (name, name_key, kind, region, tier, status, joined_at, \
         potential_minor) VALUES ($1, $2, $3, $4, $5, 'active', $6, $7) \
         ON CONFLICT (name_key) DO NOTHING RETURNING {COLUMNS}"
    )))
    .bind(new.name.trim())
    .bind(name_key(&new.name))
    .bind(new.kind.as_str())
    .bind(new.region.as_deref())
    .bind(new.tier.as_deref())
    .bind(now)
    .bind(new.potential_minor)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Sets (or clears) a partner's potential; `false` if there is no such partner.
pub async fn set_potential(
    conn: &mut Conn,
    id: PartnerId,
    potential_minor: Option<i64>,
) -> Result<bool> {
    let done = sqlx::query("UPDATE partners SET potential_minor = $1 WHERE id = $2")
        .bind(potential_minor)
        .bind(id.0)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn get(conn: &mut Conn, id: PartnerId) -> Result<Option<Partner>> {
    let row = sqlx::query(sql(format!("SELECT {COLUMNS} FROM partners WHERE id = $1")))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The partners of `ids` that exist (any order).
pub async fn get_many(conn: &mut Conn, ids: &[PartnerId]) -> Result<Vec<Partner>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let text = format!(
            "SELECT {COLUMNS} FROM partners WHERE id IN ({})",
            super::in_list(conn, chunk.len())
        );
        let mut query = sqlx::query(sql(text));
        for id in chunk {
            query = query.bind(id.0);
        }
        for row in query.fetch_all(&mut *conn).await? {
            out.push(from_row(&row)?);
        }
    }
    Ok(out)
}

/// Finds a partner by name, ignoring case, width and spacing differences.
pub async fn find_by_name(conn: &mut Conn, name: &str) -> Result<Option<Partner>> {
    let row = sqlx::query(sql(format!(
        "SELECT {COLUMNS} FROM partners WHERE name_key = $1"
    )))
    .bind(name_key(name))
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// What a partner reference (`rally import`, `rally targets`) found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Found(Partner),
    Unknown,
    /// The text is one partner's name and another partner's id.
    Ambiguous {
        by_name: Partner,
        by_id: Partner,
    },
}

/// Finds a partner by name (as [`find_by_name`]) or by numeric id.
pub async fn find_by_name_or_id(conn: &mut Conn, text: &str) -> Result<Lookup> {
    let by_name = find_by_name(&mut *conn, text).await?;
    let by_id = match text.trim().parse::<i64>() {
        Ok(id) if id > 0 => get(&mut *conn, PartnerId(id)).await?,
        _ => None,
    };
    Ok(match (by_name, by_id) {
        (Some(by_name), Some(by_id)) if by_name.id != by_id.id => {
            Lookup::Ambiguous { by_name, by_id }
        }
        (Some(p), _) | (None, Some(p)) => Lookup::Found(p),
        (None, None) => Lookup::Unknown,
    })
}

pub async fn list(conn: &mut Conn) -> Result<Vec<Partner>> {
    let rows = sqlx::query(sql(format!("SELECT {COLUMNS} FROM partners ORDER BY id")))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}

// --- throughput: batch imports (issue 14) ---

/// Every partner's id, name and name key (see [`name_key`]), in one read: batch imports resolve
/// partner references in memory instead of two lookups per distinct name.
pub async fn directory(conn: &mut Conn) -> Result<Vec<(PartnerId, String, String)>> {
    let rows = sqlx::query("SELECT id, name, name_key FROM partners")
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                PartnerId(col(r, "id")?),
                col(r, "name")?,
                col(r, "name_key")?,
            ))
        })
        .collect()
}

/// Inserts many partners with multi-row statements; a name (by [`name_key`]) that exists is
/// skipped. Returns the partners stored now. Names must be unique (by key) within `news`.
pub async fn insert_many(conn: &mut Conn, news: &[NewPartner], now: i64) -> Result<Vec<Partner>> {
    let mut created = Vec::new();
    for chunk in news.chunks(200) {
        // The constant status follows each row's seven placeholders.
        let text = format!(
            "INSERT INTO partners (name, name_key, kind, region, tier, joined_at, \
             potential_minor, status) VALUES {} ON CONFLICT (name_key) DO NOTHING \
             RETURNING {COLUMNS}",
            super::values_list(conn, chunk.len(), 7, "'active'")
        );
        let mut query = sqlx::query(sql(text));
        for new in chunk {
            query = query
                .bind(new.name.trim())
                .bind(name_key(&new.name))
                .bind(new.kind.as_str())
                .bind(new.region.as_deref())
                .bind(new.tier.as_deref())
                .bind(now)
                .bind(new.potential_minor);
        }
        let rows = query.fetch_all(&mut *conn).await?;
        for row in &rows {
            created.push(from_row(row)?);
        }
    }
    Ok(created)
}

/// Up to `limit` partners with ids above `after`, by id (keyset pages: an export reads every
/// partner without holding them all).
pub async fn page(conn: &mut Conn, after: PartnerId, limit: i64) -> Result<Vec<Partner>> {
    let rows = sqlx::query(sql(format!(
        "SELECT {COLUMNS} FROM partners WHERE id > $1 ORDER BY id LIMIT $2"
    )))
    .bind(after.0)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}
