//! The audit log: who did what, when, with the state before and after.

use super::{Conn, Result, col, parse_col};
use crate::engine::audit::AuditAction;
use crate::engine::ids::{AuditId, MemberId};

/// One audit entry as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: AuditId,
    pub at: i64,
    pub actor: Option<MemberId>,
    pub actor_name: Option<String>,
    pub action: AuditAction,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// Appends an entry; `before`/`after` are JSON documents of the changed state.
pub async fn record(
    conn: &mut Conn,
    actor: Option<MemberId>,
    action: AuditAction,
    subject: &str,
    before: Option<&serde_json::Value>,
    after: Option<&serde_json::Value>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_id, action, subject, before_state, after_state) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now)
    .bind(actor.map(|a| a.0))
    .bind(action.as_str())
    .bind(subject)
    .bind(before.map(|v| v.to_string()))
    .bind(after.map(|v| v.to_string()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The latest entries, newest first.
pub async fn recent(conn: &mut Conn, limit: i64) -> Result<Vec<AuditEntry>> {
    let rows = sqlx::query(
        "SELECT a.id, a.at, a.actor_id, m.display_name, a.action, a.subject, a.before_state, \
         a.after_state FROM audit_log a LEFT JOIN members m ON m.id = a.actor_id \
         ORDER BY a.id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AuditEntry {
                id: AuditId(col(row, "id")?),
                at: col(row, "at")?,
                actor: col::<Option<i64>>(row, "actor_id")?.map(MemberId),
                actor_name: col(row, "display_name")?,
                action: parse_col(
                    &col::<String>(row, "action")?,
                    "audit action",
                    AuditAction::parse,
                )?,
                subject: col(row, "subject")?,
                before: col(row, "before_state")?,
                after: col(row, "after_state")?,
            })
        })
        .collect()
}

// --- throughput: batch imports (issue 14) ---

/// One entry for [`record_many`].
#[derive(Clone, Debug)]
pub struct NewEntry {
    pub actor: Option<MemberId>,
    pub action: AuditAction,
    pub subject: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Appends many entries at `now` with multi-row inserts (what [`record`] does for one).
pub async fn record_many(conn: &mut Conn, entries: &[NewEntry], now: i64) -> Result<()> {
    for chunk in entries.chunks(200) {
        let text = format!(
            "INSERT INTO audit_log (at, actor_id, action, subject, before_state, after_state) \
             VALUES {}",
            super::values_list(conn, chunk.len(), 6, "")
        );
        let mut query = sqlx::query(super::sql(text));
        for e in chunk {
            query = query
                .bind(now)
                .bind(e.actor.map(|a| a.0))
                .bind(e.action.as_str())
                .bind(e.subject.as_str())
                .bind(e.before.as_ref().map(|v| v.to_string()))
                .bind(e.after.as_ref().map(|v| v.to_string()));
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}
