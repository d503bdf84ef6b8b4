//! When jobs fall due: cron expressions (with seconds, `cron` crate) evaluated on the program's
//! wall clock in its time zone (`chrono-tz`), and what to do about due times missed while no
//! instance was running. Pure: the caller passes every instant in.
//!
//! Across daylight-saving changes a job keeps to the wall clock and runs once per matching wall
//! time: when clocks go back, a time that happens twice runs at its first occurrence; when they
//! go forward, a time that does not exist runs at the same wall distance after the change
//! (02:30 on a spring-forward night runs at 03:30).

use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// Due times are looked for at most this many at a time (a job every second, a year ago).
const MAX_SCAN: usize = 100_000;

/// A parsed cron expression: `sec min hour day-of-month month day-of-week [year]`.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    expression: String,
    schedule: cron::Schedule,
}

/// Why a cron expression was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{expression:?} is not a cron expression with seconds (sec min hour day month weekday): {reason}"
)]
pub struct CronError {
    pub expression: String,
    pub reason: String,
}

impl FromStr for CronSchedule {
    type Err = CronError;

    fn from_str(expression: &str) -> Result<CronSchedule, CronError> {
        let schedule = cron::Schedule::from_str(expression.trim()).map_err(|e| CronError {
            expression: expression.to_string(),
            reason: e.to_string(),
        })?;
        Ok(CronSchedule {
            expression: expression.trim().to_string(),
            schedule,
        })
    }
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &CronSchedule) -> bool {
        self.expression == other.expression
    }
}

impl Eq for CronSchedule {}

impl CronSchedule {
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Due instants (unix ms) strictly after `after_ms`, in order, on `tz`'s wall clock.
    pub fn due_after(&self, tz: Tz, after_ms: i64) -> impl Iterator<Item = i64> + '_ {
        let start = DateTime::from_timestamp_millis(after_ms).unwrap_or_default();
        // The cron crate walks wall-clock times; walking them on a "UTC" clock that shows the
        // local wall time keeps every wall time, and each is then placed on the real clock.
        // Start a day early: a wall time before `after` on the wall clock may still be after
        // it on the real one.
        let wall_start = start.with_timezone(&tz).naive_local() - Duration::days(1);
        let mut last = after_ms;
        self.schedule
            .after_owned(Utc.from_utc_datetime(&wall_start))
            .take(MAX_SCAN)
            .map(move |wall| instant_of(tz, wall.naive_utc()))
            .filter(move |at| {
                let keep = *at > last;
                if keep {
                    last = *at;
                }
                keep
            })
    }

    /// The next `n` due instants after `after_ms` (for `rally jobs list`).
    pub fn next_n(&self, tz: Tz, after_ms: i64, n: usize) -> Vec<i64> {
        self.due_after(tz, after_ms).take(n).collect()
    }
}

/// The instant of a wall time in `tz`: the first of two when clocks go back, and for a time
/// that does not exist (clocks go forward) the instant that far past the change.
fn instant_of(tz: Tz, wall: NaiveDateTime) -> i64 {
    let local = match tz.from_local_datetime(&wall).earliest() {
        Some(local) => local,
        None => {
            // In the gap: read the wall time with the offset in force just before it.
            let before = tz
                .from_local_datetime(&(wall - Duration::hours(3)))
                .earliest()
                .map(|t| t.offset().fix())
                .unwrap_or_else(|| Utc.fix());
            let utc = wall - Duration::seconds(i64::from(before.local_minus_utc()));
            return Utc.from_utc_datetime(&utc).timestamp_millis();
        }
    };
    local.timestamp_millis()
}

/// What a scheduled job does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobAction {
    /// Post the job's text (to program chats, members, or both).
    Announce,
    /// Re-evaluate tiers and announce promotions as recognition.
    TierRecompute,
    /// Remind managers which period to close, three days before it ends and the day after.
    CloseReminder,
    /// Tell managers who slipped, who is close to a goal, and what waits for them.
    WeeklyDigest,
    /// Tell partners close to a tier or bonus what is left (at most weekly each).
    Nudges,
}

impl JobAction {
    pub const ALL: [JobAction; 5] = [
        JobAction::Announce,
        JobAction::TierRecompute,
        JobAction::CloseReminder,
        JobAction::WeeklyDigest,
        JobAction::Nudges,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobAction::Announce => "announce",
            JobAction::TierRecompute => "tier_recompute",
            JobAction::CloseReminder => "close_reminder",
            JobAction::WeeklyDigest => "weekly_digest",
            JobAction::Nudges => "nudges",
        }
    }

    pub fn parse(text: &str) -> Option<JobAction> {
        JobAction::ALL.into_iter().find(|a| a.as_str() == text)
    }
}

/// Who a broadcast goes to: the bound program chats, every member privately, or both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Recipients {
    #[default]
    Chats,
    Members,
    All,
}

impl Recipients {
    pub fn as_str(self) -> &'static str {
        match self {
            Recipients::Chats => "chats",
            Recipients::Members => "members",
            Recipients::All => "all",
        }
    }

    pub fn parse(text: &str) -> Option<Recipients> {
        [Recipients::Chats, Recipients::Members, Recipients::All]
            .into_iter()
            .find(|r| r.as_str() == text)
    }

    pub fn chats(self) -> bool {
        matches!(self, Recipients::Chats | Recipients::All)
    }

    pub fn members(self) -> bool {
        matches!(self, Recipients::Members | Recipients::All)
    }
}

/// What to do with a job's due times up to now.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct DuePlan {
    /// The due time to run now (the latest one within the catch-up window), if any.
    pub run: Option<i64>,
    /// Missed due times that will not run: too old for the window, or superseded by a later
    /// one (a job does not run three times in a row to catch up).
    pub skipped: Vec<i64>,
}

/// Plans a job's due times in `(since_ms, now_ms]`: `since_ms` is the later of the job's first
/// start and the last due time already handled, so nothing before the job existed runs and
/// nothing runs twice. A due time older than `catch_up_ms` is skipped; of the rest, the latest
/// runs and the earlier ones are skipped.
pub fn plan_due(
    schedule: &CronSchedule,
    tz: Tz,
    since_ms: i64,
    now_ms: i64,
    catch_up_ms: i64,
) -> DuePlan {
    let due: Vec<i64> = schedule
        .due_after(tz, since_ms)
        .take_while(|at| *at <= now_ms)
        .collect();
    let mut plan = DuePlan::default();
    for at in due {
        if now_ms - at > catch_up_ms {
            plan.skipped.push(at);
        } else if let Some(superseded) = plan.run.replace(at) {
            plan.skipped.push(superseded);
        }
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn ms(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> i64 {
        let wall = NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|d| d.and_hms_opt(h, min, 0))
            .expect("date");
        instant_of(tz, wall)
    }

    fn wall(tz: Tz, at: i64) -> String {
        DateTime::from_timestamp_millis(at)
            .expect("instant")
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    fn cron(text: &str) -> CronSchedule {
        text.parse().expect("cron")
    }

    #[test]
    fn bad_expressions_are_refused_with_the_reason() {
        for bad in ["", "every monday", "0 0 25 * * *", "* * * *"] {
            let error = bad.parse::<CronSchedule>().expect_err(bad);
            assert!(error.to_string().contains("cron expression"), "{error}");
        }
        assert!("0 0 9 * * Mon".parse::<CronSchedule>().is_ok());
    }

    #[test]
    fn evaluated_on_the_program_wall_clock() {
        let tz = chrono_tz::Asia::Shanghai;
        let monday_push = cron("0 0 9 * * Mon");
        let after = ms(tz, 2026, 11, 30, 9, 0); // a Monday, 09:00: strictly after
        let next: Vec<String> = monday_push
            .next_n(tz, after, 3)
            .into_iter()
            .map(|at| wall(tz, at))
            .collect();
        assert_eq!(
            next,
            [
                "2026-12-07 09:00 CST",
                "2026-12-14 09:00 CST",
                "2026-12-21 09:00 CST"
            ]
        );
    }

    #[test]
    fn daylight_saving_changes_keep_the_wall_clock_and_run_once() {
        let tz = chrono_tz::America::New_York;
        // 2026-03-08: 02:00 EST jumps to 03:00 EDT. 02:30 does not exist that night.
        let daily = cron("0 30 2 * * *");
        let times: Vec<String> = daily
            .next_n(tz, ms(tz, 2026, 3, 6, 12, 0), 4)
            .into_iter()
            .map(|at| wall(tz, at))
            .collect();
        assert_eq!(
            times,
            [
                "2026-03-07 02:30 EST",
                "2026-03-08 03:30 EDT",
                "2026-03-09 02:30 EDT",
                "2026-03-10 02:30 EDT"
            ]
        );
        // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice, runs once.
        let daily = cron("0 30 1 * * *");
        let times: Vec<String> = daily
            .next_n(tz, ms(tz, 2026, 10, 30, 12, 0), 3)
            .into_iter()
            .map(|at| wall(tz, at))
            .collect();
        assert_eq!(
            times,
            [
                "2026-10-31 01:30 EDT",
                "2026-11-01 01:30 EDT",
                "2026-11-02 01:30 EST"
            ]
        );
        // An hourly job on the fall-back night runs every real hour, none twice.
        let hourly = cron("0 0 * * * *");
        let times = hourly.next_n(tz, ms(tz, 2026, 10, 31, 23, 30), 5);
        let gaps: Vec<i64> = times.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g > 0), "{gaps:?}");
    }

    #[test]
    fn missed_due_times_run_late_within_the_window_once() {
        let tz = chrono_tz::Asia::Shanghai;
        let hourly = cron("0 0 * * * *");
        let hour = 3_600_000;
        let start = ms(tz, 2026, 12, 1, 8, 30);
        // Down from 08:30 to 12:10: 09:00, 10:00, 11:00 and 12:00 were missed; 6 h window.
        let plan = plan_due(&hourly, tz, start, start + 3 * hour + 40 * 60_000, 6 * hour);
        assert_eq!(plan.run, Some(ms(tz, 2026, 12, 1, 12, 0)));
        assert_eq!(
            plan.skipped,
            [
                ms(tz, 2026, 12, 1, 9, 0),
                ms(tz, 2026, 12, 1, 10, 0),
                ms(tz, 2026, 12, 1, 11, 0)
            ]
        );
        // A window of 30 minutes: 12:00 is 10 minutes late and runs; the rest are too old.
        let plan = plan_due(&hourly, tz, start, start + 3 * hour + 40 * 60_000, hour / 2);
        assert_eq!(plan.run, Some(ms(tz, 2026, 12, 1, 12, 0)));
        assert_eq!(plan.skipped.len(), 3);
        // Outside the window: nothing runs.
        let daily = cron("0 0 9 * * *");
        let plan = plan_due(&daily, tz, start, ms(tz, 2026, 12, 1, 16, 0), 6 * hour);
        assert_eq!(plan.run, None);
        assert_eq!(plan.skipped, [ms(tz, 2026, 12, 1, 9, 0)]);
        // Counted from the job's first start, not from the epoch; nothing due: nothing to do.
        let plan = plan_due(&daily, tz, start, start + 60_000, 6 * hour);
        assert_eq!(plan, DuePlan::default());
        // Exactly at the due time it runs; handled times are never planned again.
        let at = ms(tz, 2026, 12, 1, 9, 0);
        assert_eq!(plan_due(&daily, tz, start, at, 0).run, Some(at));
        assert_eq!(
            plan_due(&daily, tz, at, at + hour, 6 * hour),
            DuePlan::default()
        );
    }
}
