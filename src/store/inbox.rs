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

/// Rows per multi-row inbox insert (4 values each).
const STORE_CHUNK: usize = 250;

/// [`store`] for many updates (a `getUpdates` answer) with multi-row statements: one round
/// trip per [`STORE_CHUNK`] updates instead of one per update. Updates stored before are
/// skipped.
pub async fn store_many(
    conn: &mut Conn,
    platform: &str,
    updates: &[(i64, String)],
    now: i64,
) -> Result<()> {
    for chunk in updates.chunks(STORE_CHUNK) {
        let text = format!(
            "INSERT INTO inbox (platform, update_id, payload, received_at) VALUES {} \
             ON CONFLICT DO NOTHING",
            super::values_list(conn, chunk.len(), 4, "")
        );
        let mut query = sqlx::query(super::sql(text));
        for (update_id, payload) in chunk {
            query = query
                .bind(platform)
                .bind(*update_id)
                .bind(payload.as_str())
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
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

// --- throughput: group commit ---

/// Marks updates processed (handled and committed), in chunks of bound parameters.
pub async fn mark_processed_many(
    conn: &mut Conn,
    platform: &str,
    update_ids: &[i64],
    now: i64,
) -> Result<()> {
    set_many(conn, "processed_at", platform, update_ids, now).await
}

/// Marks updates answered (their replies were sent).
pub async fn mark_answered(
    conn: &mut Conn,
    platform: &str,
    update_ids: &[i64],
    now: i64,
) -> Result<()> {
    set_many(conn, "answered_at", platform, update_ids, now).await
}

/// Updates processed but not answered (a crash came between the commit and the replies),
/// oldest first.
pub async fn unanswered(
    conn: &mut Conn,
    platform: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query(
        "SELECT update_id, payload FROM inbox WHERE platform = $1 AND answered_at IS NULL \
         AND processed_at IS NOT NULL AND update_id > $2 ORDER BY update_id LIMIT $3",
    )
    .bind(platform)
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| Ok((col(r, "update_id")?, col(r, "payload")?)))
        .collect()
}

/// Sets `column` (a constant of this module) to `now` on the given updates.
async fn set_many(
    conn: &mut Conn,
    column: &'static str,
    platform: &str,
    update_ids: &[i64],
    now: i64,
) -> Result<()> {
    // SQLite allows 32,766 bound parameters; PostgreSQL 65,535.
    for chunk in update_ids.chunks(500) {
        let placeholders: Vec<String> = (3..chunk.len() + 3).map(|i| format!("${i}")).collect();
        let mut query = sqlx::query(super::sql(format!(
            "UPDATE inbox SET {column} = $1 WHERE platform = $2 AND update_id IN ({})",
            placeholders.join(", ")
        )))
        .bind(now)
        .bind(platform);
        for id in chunk {
            query = query.bind(*id);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

// --- retention ---

/// The highest update id among the (at most) `limit` oldest updates of `platform` that were
/// processed and answered before `before`, never counting the platform's newest update (the
/// next poll starts after it); `None` when there is none to forget.
pub async fn forgettable_bound(
    conn: &mut Conn,
    platform: &str,
    before: i64,
    limit: i64,
) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT MAX(update_id) AS bound FROM (SELECT update_id FROM inbox \
         WHERE platform = $1 AND processed_at IS NOT NULL AND answered_at IS NOT NULL \
         AND answered_at < $2 \
         AND update_id < (SELECT MAX(update_id) FROM inbox WHERE platform = $1) \
         ORDER BY update_id LIMIT $3) AS oldest",
    )
    .bind(platform)
    .bind(before)
    .bind(limit)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "bound")
}

/// Forgets the updates of `platform` up to `bound` that were processed and answered before
/// `before` (a range of the primary key: the statement reads no further); how many. An
/// unprocessed or unanswered update is never forgotten.
pub async fn forget_answered(
    conn: &mut Conn,
    platform: &str,
    bound: i64,
    before: i64,
) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM inbox WHERE platform = $1 AND update_id <= $2 \
         AND processed_at IS NOT NULL AND answered_at IS NOT NULL AND answered_at < $3",
    )
    .bind(platform)
    .bind(bound)
    .bind(before)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
