//! Retention: the tables that grow with traffic and are only needed for a while are pruned
//! hourly, by one instance (the due hour is claimed in `job_runs`, as the jobs' due times are):
//! - `inbox`: Telegram updates processed and answered more than `[jobs] prune_after_days` ago
//!   (Telegram redelivers an update for at most 24 hours). An update not processed or not
//!   answered yet is never deleted, nor a platform's newest update (the next poll starts after
//!   it).
//! - `handled_messages`: the stored answers that make a redelivered message answer the same
//!   again, stored more than `prune_after_days` ago.
//!
//! Rows go in chunks of [`CHUNK`], each its own short write transaction; the chunk's bound is
//! found by a read first, so no delete scans under the write lock.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::app::App;
use crate::engine::partner::Platform;
use crate::store::jobs::{self as runs, RunStatus};
use crate::store::{self, handled, inbox};

/// The prune's name in `job_runs`.
pub const PRUNE_JOB: &str = "prune";
/// How often the prune runs: its due times are the hours.
const EVERY_MS: i64 = 3_600_000;
/// Rows deleted per statement and transaction.
pub const CHUNK: i64 = 10_000;
const DAY_MS: i64 = 86_400_000;

/// What a prune deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub inbox: u64,
    pub handled: u64,
    /// Delete transactions run.
    pub chunks: u64,
}

/// Deletes what is older than the retention at `now`, `chunk` rows at a time.
pub async fn prune(app: &App, now: i64, chunk: i64) -> store::Result<Pruned> {
    let keep_ms = i64::from(app.config.jobs.prune_after_days).saturating_mul(DAY_MS);
    let before = now.saturating_sub(keep_ms);
    let mut pruned = Pruned::default();
    for platform in [Platform::Telegram, Platform::Discord, Platform::Console] {
        let platform = platform.as_str();
        loop {
            let bound = {
                let mut conn = app.store.read().await?;
                inbox::forgettable_bound(&mut conn, platform, before, chunk).await?
            };
            let Some(bound) = bound else { break };
            let mut tx = app.store.begin().await?;
            let n = inbox::forget_answered(&mut tx, platform, bound, before).await?;
            tx.commit().await?;
            pruned.inbox += n;
            pruned.chunks += 1;
            if n == 0 {
                break;
            }
        }
    }
    loop {
        let bound = {
            let mut conn = app.store.read().await?;
            handled::forgettable_bound(&mut conn, before, chunk).await?
        };
        let Some(bound) = bound else { break };
        let mut tx = app.store.begin().await?;
        let n = handled::forget(&mut tx, bound).await?;
        tx.commit().await?;
        pruned.handled += n;
        pruned.chunks += 1;
        if n == 0 {
            break;
        }
    }
    if pruned.inbox + pruned.handled > 0 {
        tracing::info!(
            inbox = pruned.inbox,
            handled_messages = pruned.handled,
            older_than_days = app.config.jobs.prune_after_days,
            "old inbox updates and handled messages deleted"
        );
    }
    Ok(pruned)
}

/// Prunes once per hour across every instance on the database: the instance that claims the
/// hour runs it. `true` if this call ran it. `seen_hour` remembers the last hour this process
/// found run or claimed (by it or another instance), so the other ticks of that hour ask the
/// database nothing.
pub async fn run_due(
    app: &App,
    owner: &str,
    lease_ms: i64,
    seen_hour: &AtomicI64,
) -> anyhow::Result<bool> {
    let now = app.now();
    let due = now - now.rem_euclid(EVERY_MS);
    if seen_hour.load(Ordering::Relaxed) >= due {
        return Ok(false);
    }
    // Whatever happens below, this hour is taken care of (or tried; the next hour tries again).
    seen_hour.store(due, Ordering::Relaxed);
    {
        let mut conn = app.store.read().await?;
        if runs::last_due(&mut conn, PRUNE_JOB)
            .await?
            .is_some_and(|last| last >= due)
        {
            return Ok(false);
        }
        let lease_until = now.saturating_add(lease_ms);
        if !runs::claim(&mut conn, PRUNE_JOB, due, owner, now, lease_until).await? {
            return Ok(false);
        }
    }
    let outcome = prune(app, now, CHUNK).await;
    let (status, detail) = match &outcome {
        Ok(p) => (
            RunStatus::Done,
            format!(
                "{} inbox updates, {} handled messages deleted",
                p.inbox, p.handled
            ),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "prune failed; the next hour tries again");
            (RunStatus::Failed, e.to_string())
        }
    };
    let mut conn = app.store.read().await?;
    runs::finish(&mut conn, PRUNE_JOB, due, owner, status, &detail, app.now()).await?;
    Ok(true)
}
