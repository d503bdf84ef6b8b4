//! Handled messages: the stored answer to each state-changing message, so a platform's
//! redelivery of the same (platform, chat, message id) gets the same answer and changes nothing.

use super::{Conn, Result, col};
use crate::engine::ids::MemberId;
use crate::engine::partner::Platform;

/// Identifies one incoming message on one platform.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MessageKey {
    pub platform: Platform,
    pub chat_id: String,
    pub message_id: String,
}

impl MessageKey {
    /// The sale idempotency key for chat reports: `platform:chat:message`.
    pub fn idempotency_key(&self) -> String {
        format!(
            "{}:{}:{}",
            self.platform.as_str(),
            self.chat_id,
            self.message_id
        )
    }
}

/// The stored answer (JSON) if this message was handled before.
pub async fn find(conn: &mut Conn, key: &MessageKey) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT replies FROM handled_messages \
         WHERE platform = $1 AND chat_id = $2 AND message_id = $3",
    )
    .bind(key.platform.as_str())
    .bind(&key.chat_id)
    .bind(&key.message_id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| col(&r, "replies")).transpose()
}

/// Stores the answer; a concurrent duplicate keeps the first.
pub async fn record(
    conn: &mut Conn,
    key: &MessageKey,
    member: Option<MemberId>,
    replies_json: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO handled_messages (platform, chat_id, message_id, member_id, replies, handled_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(key.platform.as_str())
    .bind(&key.chat_id)
    .bind(&key.message_id)
    .bind(member.map(|m| m.0))
    .bind(replies_json)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- retention ---

/// The `handled_at` of the newest of the (at most) `limit` oldest answers stored before
/// `before`; `None` when there is none to forget.
pub async fn forgettable_bound(conn: &mut Conn, before: i64, limit: i64) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT MAX(handled_at) AS bound FROM (SELECT handled_at FROM handled_messages \
         WHERE handled_at < $1 ORDER BY handled_at LIMIT $2) AS oldest",
    )
    .bind(before)
    .bind(limit)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "bound")
}

/// Forgets the answers stored at or before `bound` (a range of `handled_at`'s index); how many.
pub async fn forget(conn: &mut Conn, bound: i64) -> Result<u64> {
    let done = sqlx::query("DELETE FROM handled_messages WHERE handled_at <= $1")
        .bind(bound)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}
