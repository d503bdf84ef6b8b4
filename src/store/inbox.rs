//! The inbox of platform updates: stored before being confirmed, processed from here.

use super::{Conn, Result, col};

/// Stores an update unless it is there already; `true` if it was new.
pub async fn store(
    conn: &mut Conn,
    platform: &str,
    update_id: i64,
    payload: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO inbox (platform, update_id, payload, received_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING",
    )
    .bind(platform)
    .bind(update_id)
    .bind(payload)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The highest update id stored for a platform (the next poll starts after it).
pub async fn last_update_id(conn: &mut Conn, platform: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT MAX(update_id) AS last FROM inbox WHERE platform = $1")
        .bind(platform)
        .fetch_one(&mut *conn)
        .await?;
    col(&row, "last")
}

/// Updates not processed yet, oldest first.
pub async fn unprocessed(
    conn: &mut Conn,
    platform: &str,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT update_id, payload FROM inbox WHERE platform = $1 AND processed_at IS NULL \
         ORDER BY update_id LIMIT $2",
    )
    .bind(platform)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((col(r, "update_id")?, col(r, "payload")?)))
        .collect()
}

pub async fn mark_processed(
    conn: &mut Conn,
    platform: &str,
    update_id: i64,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE inbox SET processed_at = $1 WHERE platform = $2 AND update_id = $3")
        .bind(now)
        .bind(platform)
        .bind(update_id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Records a delivery the platform refused.
pub async fn record_delivery_failure(
    conn: &mut Conn,
    platform: &str,
    chat_id: &str,
    error: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO delivery_failures (platform, chat_id, error, at) VALUES ($1, $2, $3, $4)",
    )
    .bind(platform)
    .bind(chat_id)
    .bind(error)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
