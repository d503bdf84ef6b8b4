//! Scheduler bookkeeping: when each job was first seen, and one row per due time (unique on
//! job and due time) that the instance running it claims with a lease.

use super::{Conn, Result, col};

/// How a due time ended, or that it is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunStatus {
    Running,
    Done,
    Failed,
    /// Missed while no instance ran, outside the catch-up window or superseded by a later one.
    Skipped,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Failed => "failed",
            RunStatus::Skipped => "skipped",
        }
    }
}

/// When `job` was first seen: recorded now if it is new.
pub async fn first_seen(conn: &mut Conn, job: &str, now_ms: i64) -> Result<i64> {
    sqlx::query(
        "INSERT INTO job_state (job, first_seen_at) VALUES ($1, $2) ON CONFLICT (job) DO NOTHING",
    )
    .bind(job)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    let row = sqlx::query("SELECT first_seen_at FROM job_state WHERE job = $1")
        .bind(job)
        .fetch_one(&mut *conn)
        .await?;
    col(&row, "first_seen_at")
}

/// The latest due time of `job` already claimed or skipped.
pub async fn last_due(conn: &mut Conn, job: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT MAX(due_at) AS due FROM job_runs WHERE job = $1")
        .bind(job)
        .fetch_one(&mut *conn)
        .await?;
    col(&row, "due")
}

/// Claims a due time for `owner`; `false` when another instance has it already.
pub async fn claim(
    conn: &mut Conn,
    job: &str,
    due_ms: i64,
    owner: &str,
    now_ms: i64,
    lease_until_ms: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO job_runs (job, due_at, status, owner, lease_until, started_at) \
         VALUES ($1, $2, 'running', $3, $4, $5) ON CONFLICT (job, due_at) DO NOTHING",
    )
    .bind(job)
    .bind(due_ms)
    .bind(owner)
    .bind(lease_until_ms)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes over runs of `job` whose instance died (lease expired); returns their due times.
pub async fn take_over_expired(
    conn: &mut Conn,
    job: &str,
    owner: &str,
    now_ms: i64,
    lease_until_ms: i64,
) -> Result<Vec<i64>> {
    let rows = sqlx::query(
        "UPDATE job_runs SET owner = $1, lease_until = $2 \
         WHERE job = $3 AND status = 'running' AND lease_until < $4 RETURNING due_at",
    )
    .bind(owner)
    .bind(lease_until_ms)
    .bind(job)
    .bind(now_ms)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(|r| col(r, "due_at")).collect()
}

/// Records a missed due time that will not run.
pub async fn skip(conn: &mut Conn, job: &str, due_ms: i64, why: &str, now_ms: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO job_runs (job, due_at, status, started_at, finished_at, detail) \
         VALUES ($1, $2, 'skipped', $3, $3, $4) ON CONFLICT (job, due_at) DO NOTHING",
    )
    .bind(job)
    .bind(due_ms)
    .bind(now_ms)
    .bind(why)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends a run `owner` holds.
pub async fn finish(
    conn: &mut Conn,
    job: &str,
    due_ms: i64,
    owner: &str,
    status: RunStatus,
    detail: &str,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE job_runs SET status = $1, finished_at = $2, detail = $3, lease_until = NULL \
         WHERE job = $4 AND due_at = $5 AND owner = $6",
    )
    .bind(status.as_str())
    .bind(now_ms)
    .bind(detail)
    .bind(job)
    .bind(due_ms)
    .bind(owner)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The runs of `job`: due time and status, oldest first (operators and tests).
pub async fn runs(conn: &mut Conn, job: &str) -> Result<Vec<(i64, String)>> {
    let rows = sqlx::query("SELECT due_at, status FROM job_runs WHERE job = $1 ORDER BY due_at")
        .bind(job)
        .fetch_all(&mut *conn)
        .await?;
    rows.iter()
        .map(|r| Ok((col(r, "due_at")?, col(r, "status")?)))
        .collect()
}

/// A bound program chat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramChat {
    pub platform: String,
    pub chat_id: String,
    pub region: Option<String>,
}

/// Binds a chat as a program chat (again: updates its region).
pub async fn bind_chat(
    conn: &mut Conn,
    chat: &ProgramChat,
    by: Option<i64>,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO program_chats (platform, chat_id, region, bound_by, bound_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (platform, chat_id) \
         DO UPDATE SET region = excluded.region, bound_by = excluded.bound_by, \
         bound_at = excluded.bound_at",
    )
    .bind(&chat.platform)
    .bind(&chat.chat_id)
    .bind(chat.region.as_deref())
    .bind(by)
    .bind(now_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Unbinds a chat; `false` if it was not bound.
pub async fn unbind_chat(conn: &mut Conn, platform: &str, chat_id: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM program_chats WHERE platform = $1 AND chat_id = $2")
        .bind(platform)
        .bind(chat_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every bound program chat.
pub async fn program_chats(conn: &mut Conn) -> Result<Vec<ProgramChat>> {
    let rows = sqlx::query(
        "SELECT platform, chat_id, region FROM program_chats ORDER BY platform, chat_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ProgramChat {
                platform: col(r, "platform")?,
                chat_id: col(r, "chat_id")?,
                region: col(r, "region")?,
            })
        })
        .collect()
}
