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
}

const COLUMNS: &str = "id, name, kind, region, tier, status, joined_at";

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
    })
}

/// Inserts a partner; `None` if one with the same name (by [`name_key`]) exists.
pub async fn insert(conn: &mut Conn, new: &NewPartner, now: i64) -> Result<Option<Partner>> {
    let row = sqlx::query(sql(format!(
        "INSERT INTO partners (name, name_key, kind, region, tier, status, joined_at) \
         VALUES ($1, $2, $3, $4, $5, 'active', $6) \
         ON CONFLICT (name_key) DO NOTHING RETURNING {COLUMNS}"
    )))
    .bind(new.name.trim())
    .bind(name_key(&new.name))
    .bind(new.kind.as_str())
    .bind(new.region.as_deref())
    .bind(new.tier.as_deref())
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get(conn: &mut Conn, id: PartnerId) -> Result<Option<Partner>> {
    let row = sqlx::query(sql(format!("SELECT {COLUMNS} FROM partners WHERE id = $1")))
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(from_row).transpose()
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

pub async fn list(conn: &mut Conn) -> Result<Vec<Partner>> {
    let rows = sqlx::query(sql(format!("SELECT {COLUMNS} FROM partners ORDER BY id")))
        .fetch_all(&mut *conn)
        .await?;
    rows.iter().map(from_row).collect()
}
