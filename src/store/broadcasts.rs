//! Manager broadcasts: sent at once (`/announce`) or scheduled (`/schedule`).

use super::{Conn, Result, col};
use crate::engine::ids::MemberId;

/// Where a broadcast stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BroadcastStatus {
    /// Waiting for its due time (one-shot) or its next cron match.
    Scheduled,
    /// Enqueued for delivery.
    Sent,
    Cancelled,
}

impl BroadcastStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BroadcastStatus::Scheduled => "scheduled",
            BroadcastStatus::Sent => "sent",
            BroadcastStatus::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> BroadcastStatus {
        match text {
            "scheduled" => BroadcastStatus::Scheduled,
            "cancelled" => BroadcastStatus::Cancelled,
            _ => BroadcastStatus::Sent,
        }
    }
}

/// A stored broadcast.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Broadcast {
    pub id: i64,
    pub author: Option<MemberId>,
    pub text: String,
    /// The audience as JSON (filters and recipients).
    pub audience: String,
    /// A cron expression (repeating), else `None`.
    pub schedule: Option<String>,
    /// The one-shot due time (unix ms), else `None`.
    pub due_at: Option<i64>,
    pub status: BroadcastStatus,
    pub created_at: i64,
    pub reported_rows: i64,
}

const COLUMNS: &str =
    "id, author_id, text, audience, schedule, due_at, status, created_at, reported_rows";

fn from_row(r: &sqlx::any::AnyRow) -> Result<Broadcast> {
    let status: String = col(r, "status")?;
    Ok(Broadcast {
        id: col(r, "id")?,
        author: col::<Option<i64>>(r, "author_id")?.map(MemberId),
        text: col(r, "text")?,
        audience: col(r, "audience")?,
        schedule: col(r, "schedule")?,
        due_at: col(r, "due_at")?,
        status: BroadcastStatus::parse(&status),
        created_at: col(r, "created_at")?,
        reported_rows: col(r, "reported_rows")?,
    })
}

/// Stores a broadcast; returns its id.
#[allow(clippy::too_many_arguments)]
pub async fn insert(
    conn: &mut Conn,
    author: Option<MemberId>,
    text: &str,
    audience: &str,
    schedule: Option<&str>,
    due_at: Option<i64>,
    status: BroadcastStatus,
    now_ms: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO broadcasts (author_id, text, audience, schedule, due_at, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(author.map(|m| m.0))
    .bind(text)
    .bind(audience)
    .bind(schedule)
    .bind(due_at)
    .bind(status.as_str())
    .bind(now_ms)
    .fetch_one(&mut *conn)
    .await?;
    col(&row, "id")
}

pub async fn get(conn: &mut Conn, id: i64) -> Result<Option<Broadcast>> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Scheduled broadcasts, oldest first.
pub async fn scheduled(conn: &mut Conn) -> Result<Vec<Broadcast>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM broadcasts WHERE status = 'scheduled' ORDER BY id"
    )))
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The latest broadcasts, newest first.
pub async fn recent(conn: &mut Conn, limit: i64) -> Result<Vec<Broadcast>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM broadcasts ORDER BY id DESC LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// Moves a broadcast from `from` to `to`; `false` if it was not in `from`.
pub async fn set_status(
    conn: &mut Conn,
    id: i64,
    from: BroadcastStatus,
    to: BroadcastStatus,
) -> Result<bool> {
    let done = sqlx::query("UPDATE broadcasts SET status = $1 WHERE id = $2 AND status = $3")
        .bind(to.as_str())
        .bind(id)
        .bind(from.as_str())
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Claims the report of a broadcast's deliveries up to `rows` rows: `true` for the one caller
/// that moves `reported_rows` forward (two instances never report twice).
pub async fn claim_report(conn: &mut Conn, id: i64, rows: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE broadcasts SET reported_rows = $1 WHERE id = $2 AND reported_rows < $1",
    )
    .bind(rows)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
