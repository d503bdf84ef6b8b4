//! The scheduler: runs the jobs of `[[jobs.run]]` at their due times, once each, from one or
//! many instances.
//!
//! Every second (or sooner, when a due time is closer) each job's due times since the last one
//! handled are planned by [`schedule::plan_due`]: the due time to run now, and missed ones to
//! skip (older than `jobs.catch_up_hours`, or superseded by a later one). A due time is claimed
//! by inserting its row into `job_runs`, unique on (job, due time), so exactly one instance runs
//! it; the run holds a lease, and if its instance dies another takes it over when the lease
//! expires. What a job says goes into the outbox with a key made of the job and its due time,
//! so a run taken over re-sends nothing that was already enqueued.
//!
//! The same claims run the hourly housekeeping ([`prune`]) on one instance.

pub mod prune;

use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::config::JobConfig;
use crate::engine::schedule::{self, JobAction};
use crate::features::alerts::service as alerts;
use crate::features::broadcasts::service as broadcasts;
use crate::store::jobs::{self as runs, RunStatus};
use crate::store::members;

/// The longest pause between two looks at the jobs: due times run within this of their time.
const TICK: Duration = Duration::from_secs(1);
/// How long a run is held before another instance may take it over.
const LEASE: Duration = Duration::from_secs(300);

/// Runs the configured jobs until shutdown.
pub struct Scheduler {
    app: Arc<App>,
    owner: String,
    /// The last hour the prune was found run or claimed ([`prune::run_due`]).
    pruned_hour: std::sync::atomic::AtomicI64,
}

impl Scheduler {
    pub fn new(app: Arc<App>) -> Scheduler {
        let owner = format!(
            "scheduler-{}-{:08x}",
            std::process::id(),
            rand::rng().random::<u32>()
        );
        Scheduler {
            app,
            owner,
            pruned_hour: std::sync::atomic::AtomicI64::new(i64::MIN),
        }
    }

    /// Looks at the jobs every second until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!(jobs = self.app.config.jobs.run.len(), "scheduler started");
        loop {
            if let Err(e) = self.tick().await {
                tracing::error!(error = %format!("{e:#}"), "scheduler round failed");
            }
            let pause = self.until_next_due().min(TICK);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    fn until_next_due(&self) -> Duration {
        let now = self.app.now();
        let tz = self.app.config.program.timezone;
        let next = self
            .app
            .config
            .jobs
            .run
            .iter()
            .filter_map(|job| job.schedule.due_after(tz, now).next())
            .min();
        next.map_or(TICK, |at| {
            Duration::from_millis(u64::try_from(at - now).unwrap_or(0))
        })
    }

    /// One look at every job: skips what is missed for good, runs what is due. Returns the
    /// number of runs this instance made.
    pub async fn tick(&self) -> anyhow::Result<usize> {
        let mut ran = broadcasts::send_due(&self.app, &self.owner).await?;
        ran += crate::features::training::service::tick(&self.app).await?;
        ran += crate::features::contests::service::run_due(&self.app, &self.owner).await?;
        // --- community: deals ---
        ran += crate::features::deals::service::send_reminders(&self.app).await?;
        // Community (issue 11): the story of the week.
        ran += crate::features::community::stories::run_due(&self.app, &self.owner).await?;
        for job in &self.app.config.jobs.run {
            ran += self.tick_job(job).await?;
        }
        // Housekeeping, not a job of the program's: not counted in `ran`.
        let lease_ms = i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX);
        prune::run_due(&self.app, &self.owner, lease_ms, &self.pruned_hour).await?;
        Ok(ran)
    }

    async fn tick_job(&self, job: &JobConfig) -> anyhow::Result<usize> {
        let now = self.app.now();
        let lease_until = now.saturating_add(i64::try_from(LEASE.as_millis()).unwrap_or(i64::MAX));
        let mut conn = self.app.store.read().await?;
        let mut due_now =
            runs::take_over_expired(&mut conn, &job.name, &self.owner, now, lease_until).await?;
        for due in &due_now {
            tracing::warn!(job = %job.name, due, "taking over a run whose instance stopped");
        }
        let first_seen = runs::first_seen(&mut conn, &job.name, now).await?;
        let since = runs::last_due(&mut conn, &job.name)
            .await?
            .map_or(first_seen, |last| last.max(first_seen));
        let catch_up_ms = i64::from(self.app.config.jobs.catch_up_hours) * 3_600_000;
        let plan = schedule::plan_due(
            &job.schedule,
            self.app.config.program.timezone,
            since,
            now,
            catch_up_ms,
        );
        for missed in &plan.skipped {
            let why = if now - missed > catch_up_ms {
                "missed while no instance ran, outside the catch-up window"
            } else {
                "missed while no instance ran; a later due time runs instead"
            };
            tracing::warn!(job = %job.name, due = missed, "{why}: skipped");
            runs::skip(&mut conn, &job.name, *missed, why, now).await?;
        }
        if let Some(due) = plan.run
            && runs::claim(&mut conn, &job.name, due, &self.owner, now, lease_until).await?
        {
            due_now.push(due);
        }
        drop(conn);
        for due in &due_now {
            let late_ms = now - due;
            let outcome = run_job(&self.app, job, *due).await;
            let mut conn = self.app.store.read().await?;
            let finished = self.app.now();
            let lag = Duration::from_millis(u64::try_from(late_ms).unwrap_or(0));
            crate::telemetry::job_run(
                &job.name,
                if outcome.is_ok() { "done" } else { "failed" },
                lag,
            );
            match outcome {
                Ok(detail) => {
                    tracing::info!(job = %job.name, due, late_ms, %detail, "job ran");
                    runs::finish(
                        &mut conn,
                        &job.name,
                        *due,
                        &self.owner,
                        RunStatus::Done,
                        &detail,
                        finished,
                    )
                    .await?;
                }
                Err(e) => {
                    let detail = format!("{e:#}");
                    tracing::error!(job = %job.name, due, error = %detail, "job failed");
                    runs::finish(
                        &mut conn,
                        &job.name,
                        *due,
                        &self.owner,
                        RunStatus::Failed,
                        &detail,
                        finished,
                    )
                    .await?;
                }
            }
        }
        Ok(due_now.len())
    }
}

/// Runs one due time of a job; returns what it did, for the run's row and the log.
pub async fn run_job(app: &App, job: &JobConfig, due_ms: i64) -> anyhow::Result<String> {
    let key = format!("job:{}:{due_ms}", job.name);
    match job.action {
        JobAction::Announce => {
            let text = job.text.clone().unwrap_or_default();
            let reply = Reply::here(Msg::new("announcement").text("text", text));
            let mut tx = app.store.begin().await?;
            let (chats, members) =
                broadcasts::deliver(app, &mut tx, &key, &reply, &job.filters, job.to, None).await?;
            tx.commit().await?;
            Ok(format!("announced to {chats} chats and {members} members"))
        }
        JobAction::TierRecompute => {
            let (changes, promoted) =
                crate::features::tiers::service::recompute_and_announce(app, &key).await?;
            Ok(format!(
                "{changes} tier changes, {promoted} promotions announced"
            ))
        }
        JobAction::CloseReminder => close_reminder(app, &key, due_ms).await,
        JobAction::WeeklyDigest => alerts::send_weekly_digest(app, &key, due_ms).await,
        JobAction::Nudges => alerts::send_nudges(app, &key, due_ms).await,
    }
}

/// Three days before the period ends, and on the day after: tells the managers which period to
/// close and how. Other days it does nothing.
async fn close_reminder(app: &App, key: &str, due_ms: i64) -> anyhow::Result<String> {
    let today = app.local_date(due_ms);
    let current = app.period_at(due_ms);
    let previous = current.previous();
    let ends = current.next().start() - chrono::Duration::days(1);
    let msg = if today == ends - chrono::Duration::days(3) {
        Msg::new("close-reminder-soon")
            .text("period", current.key())
            .text("ends", ends.to_string())
    } else if today == current.start() {
        Msg::new("close-reminder-due").text("period", previous.key())
    } else {
        return Ok(format!("nothing to remind on {today}"));
    };
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let managers = members::managers_to_notify(&mut tx).await?;
    for manager in &managers {
        let dedupe = format!("{key}:manager:{}", manager.id);
        crate::outbox::enqueue_notice(
            app,
            &mut tx,
            manager.id,
            Reply::here(msg.clone()),
            dedupe,
            now,
        )
        .await?;
    }
    tx.commit().await?;
    app.outbox_wake.notify_waiters();
    Ok(format!("reminded {} managers", managers.len()))
}
