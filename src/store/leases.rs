//! Leader leases: one holder at a time per name, until its lease runs out.

use super::{Conn, Result};

/// Takes or renews the lease `name` for `owner` until `until_ms`: `true` when `owner` holds it
/// (it was free, expired, or already `owner`'s). One conditional upsert, so two instances racing
/// for a free lease cannot both win.
pub async fn acquire(
    conn: &mut Conn,
    name: &str,
    owner: &str,
    now_ms: i64,
    until_ms: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO leases (name, owner, until) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until \
         WHERE leases.owner = excluded.owner OR leases.until < $4",
    )
    .bind(name)
    .bind(owner)
    .bind(until_ms)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives the lease up (a clean stop), so another instance need not wait for it to expire.
pub async fn release(conn: &mut Conn, name: &str, owner: &str) -> Result<()> {
    sqlx::query("DELETE FROM leases WHERE name = $1 AND owner = $2")
        .bind(name)
        .bind(owner)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
