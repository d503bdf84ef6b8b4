//! The outbox table: messages Rally sends on its own, enqueued in the transaction of the change
//! that causes them and claimed by the platform senders under a lease.
//!
//! Order per chat: only the oldest pending row of a chat (its head) can be claimed, and not
//! while another sender holds it; the next row of that chat waits until the head is sent or
//! failed. Claims are one conditional `UPDATE … RETURNING`, so two instances on one PostgreSQL
//! never take the same row: the second writer re-checks the lease after the first commits.

use super::{Conn, Result, StoreError, col};
use crate::engine::broadcast::Tally;
use crate::engine::ids::MemberId;

/// A message to enqueue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOutgoing {
    /// `telegram` or `discord`.
    pub platform: String,
    /// The chat (Telegram chat id; Discord channel id, or a user id for a direct message).
    pub target: String,
    /// The member it is for, when it is a personal notice (marked unreachable on a refusal).
    pub member_id: Option<MemberId>,
    /// Unique per message: enqueuing the same key twice keeps one row (redeliveries).
    pub dedupe_key: String,
    /// The reply as JSON (message keys, arguments, buttons, image), rendered when sent.
    pub reply_json: String,
    /// The locale to render it in.
    pub locale: String,
    /// The broadcast it belongs to (its author gets a delivery report).
    pub broadcast_id: Option<i64>,
}

/// A claimed row, to deliver now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub id: i64,
    pub platform: String,
    pub target: String,
    pub member_id: Option<MemberId>,
    pub reply_json: String,
    pub locale: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub broadcast_id: Option<i64>,
    /// The platform message to edit (put the reply's buttons on it) instead of sending one.
    pub edit_message_id: Option<String>,
}

/// Where a row stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Sent,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Sent => "sent",
            Status::Failed => "failed",
        }
    }
}

/// Enqueues a message on the caller's connection (its transaction). `false`: a row with the
/// same dedupe key exists already, nothing was added.
pub async fn enqueue(conn: &mut Conn, message: &NewOutgoing, now_ms: i64) -> Result<bool> {
    insert(conn, message, None, now_ms).await
}

/// Adds a row (an edit of `edit_message_id` when given) unless its dedupe key exists.
async fn insert(
    conn: &mut Conn,
    message: &NewOutgoing,
    edit_message_id: Option<&str>,
    now_ms: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO outbox (platform, target, member_id, dedupe_key, reply, locale, \
         next_attempt_at, created_at, broadcast_id, edit_message_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8, $9) ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(&message.platform)
    .bind(&message.target)
    .bind(message.member_id.map(|m| m.0))
    .bind(&message.dedupe_key)
    .bind(&message.reply_json)
    .bind(&message.locale)
    .bind(now_ms)
    .bind(message.broadcast_id)
    .bind(edit_message_id)
    .execute(&mut *conn)
    .await?;
    let queued = done.rows_affected() == 1;
    if queued {
        crate::telemetry::outbox_queued(&message.platform, 1);
    }
    Ok(queued)
}

/// Enqueues an edit of message `message_id` in `message.target`: its buttons become the
/// reply's. Coalesced: while an edit of that message waits unclaimed, no second one is added
/// (`false`), since the sender renders what is current when it delivers. The waiting row is
/// touched, which locks it until the caller commits: a sender claiming it meanwhile waits, so
/// it never renders the state before the caller's change.
pub async fn enqueue_edit(
    conn: &mut Conn,
    message: &NewOutgoing,
    message_id: &str,
    now_ms: i64,
) -> Result<bool> {
    let waiting = sqlx::query(
        "UPDATE outbox SET reply = $1 WHERE platform = $2 AND target = $3 \
         AND edit_message_id = $4 AND status = 'pending' \
         AND (lease_until IS NULL OR lease_until <= $5)",
    )
    .bind(&message.reply_json)
    .bind(&message.platform)
    .bind(&message.target)
    .bind(message_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    if waiting.rows_affected() > 0 {
        return Ok(false);
    }
    insert(conn, message, Some(message_id), now_ms).await
}

/// Claims up to `limit` due rows of `platform`, each the head of its chat and not leased, for
/// `owner` until `lease_until_ms`. Counts the attempt.
pub async fn claim(
    conn: &mut Conn,
    platform: &str,
    owner: &str,
    now_ms: i64,
    lease_until_ms: i64,
    limit: i64,
) -> Result<Vec<Outgoing>> {
    let rows = sqlx::query(
        "UPDATE outbox SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
         WHERE id IN ( \
             SELECT o.id FROM outbox o \
             WHERE o.platform = $3 AND o.status = 'pending' AND o.next_attempt_at <= $4 \
               AND (o.lease_until IS NULL OR o.lease_until <= $4) \
               AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.platform = o.platform \
                   AND p.target = o.target AND p.status = 'pending' AND p.id < o.id) \
             ORDER BY o.id LIMIT $5) \
           AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $4) \
         RETURNING id, platform, target, member_id, reply, locale, attempts, broadcast_id, \
         edit_message_id",
    )
    .bind(owner)
    .bind(lease_until_ms)
    .bind(platform)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut claimed = rows
        .iter()
        .map(|r| {
            Ok(Outgoing {
                id: col(r, "id")?,
                platform: col(r, "platform")?,
                target: col(r, "target")?,
                member_id: col::<Option<i64>>(r, "member_id")?.map(MemberId),
                reply_json: col(r, "reply")?,
                locale: col(r, "locale")?,
                attempts: col(r, "attempts")?,
                broadcast_id: col(r, "broadcast_id")?,
                edit_message_id: col(r, "edit_message_id")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    claimed.sort_by_key(|o| o.id);
    Ok(claimed)
}

/// Marks a claimed row sent.
pub async fn mark_sent(conn: &mut Conn, id: i64, owner: &str, now_ms: i64) -> Result<()> {
    finish(conn, id, owner, Status::Sent, None, now_ms).await
}

/// Marks a claimed row failed for good, with the reason.
pub async fn mark_failed(
    conn: &mut Conn,
    id: i64,
    owner: &str,
    error: &str,
    now_ms: i64,
) -> Result<()> {
    finish(conn, id, owner, Status::Failed, Some(error), now_ms).await
}

async fn finish(
    conn: &mut Conn,
    id: i64,
    owner: &str,
    status: Status,
    error: Option<&str>,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET status = $1, sent_at = $2, last_error = COALESCE($3, last_error), \
         lease_owner = NULL, lease_until = NULL WHERE id = $4 AND lease_owner = $5",
    )
    .bind(status.as_str())
    .bind((status == Status::Sent).then_some(now_ms))
    .bind(error)
    .bind(id)
    .bind(owner)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Releases a claimed row to be tried again at `next_attempt_ms`. `counted: false` gives the
/// attempt back (a 429 is the platform's pacing, not a failure of the message).
pub async fn retry_later(
    conn: &mut Conn,
    id: i64,
    owner: &str,
    next_attempt_ms: i64,
    error: &str,
    counted: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET next_attempt_at = $1, last_error = $2, lease_owner = NULL, \
         lease_until = NULL, attempts = attempts - $3 WHERE id = $4 AND lease_owner = $5",
    )
    .bind(next_attempt_ms)
    .bind(error)
    .bind(if counted { 0_i64 } else { 1_i64 })
    .bind(id)
    .bind(owner)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// When the next pending row of `platform` falls due (a sender sleeps until then).
pub async fn next_due(conn: &mut Conn, platform: &str) -> Result<Option<i64>> {
    let row = sqlx::query(
        "SELECT MIN(CASE WHEN lease_until IS NOT NULL AND lease_until > next_attempt_at \
         THEN lease_until ELSE next_attempt_at END) AS due FROM outbox \
         WHERE platform = $1 AND status = 'pending'",
    )
    .bind(platform)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "due")
}

/// Whether a broadcast still has rows waiting (an index seek).
pub async fn has_pending(conn: &mut Conn, broadcast_id: i64) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM outbox WHERE broadcast_id = $1 \
         AND status = 'pending' LIMIT 1) AS waiting",
    )
    .bind(broadcast_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(col::<i64>(&row, "n")? > 0)
}

/// Delivery results of a broadcast so far.
pub async fn tally(conn: &mut Conn, broadcast_id: i64) -> Result<Tally> {
    let row = sqlx::query(
        "SELECT \
           COALESCE(SUM(CASE WHEN status = 'sent' THEN 1 ELSE 0 END), 0) AS sent, \
           COALESCE(SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END), 0) AS failed, \
           COALESCE(SUM(CASE WHEN status = 'failed' AND last_error LIKE 'refused%' \
             THEN 1 ELSE 0 END), 0) AS refused, \
           COALESCE(SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END), 0) AS pending \
         FROM outbox WHERE broadcast_id = $1",
    )
    .bind(broadcast_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Tally {
        sent: col(&row, "sent")?,
        failed: col(&row, "failed")?,
        refused: col(&row, "refused")?,
        pending: col(&row, "pending")?,
    })
}

/// Marks a member the platform refused to reach.
pub async fn mark_unreachable(conn: &mut Conn, member: MemberId, now_ms: i64) -> Result<()> {
    sqlx::query("UPDATE members SET unreachable_at = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(member.0)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Rows of a platform by status (operators and tests).
pub async fn count(conn: &mut Conn, platform: &str, status: Status) -> Result<i64> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE platform = $1 AND status = $2")
        .bind(platform)
        .bind(status.as_str())
        .fetch_one(&mut *conn)
        .await?;
    col(&row, "n")
}

/// The stored status, attempts and last error of a row.
pub async fn state(conn: &mut Conn, id: i64) -> Result<(Status, i64, Option<String>)> {
    let row = sqlx::query("SELECT status, attempts, last_error FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    let status: String = col(&row, "status")?;
    let status = match status.as_str() {
        "pending" => Status::Pending,
        "sent" => Status::Sent,
        "failed" => Status::Failed,
        other => return Err(StoreError::Corrupt(format!("outbox status {other:?}"))),
    };
    Ok((status, col(&row, "attempts")?, col(&row, "last_error")?))
}
