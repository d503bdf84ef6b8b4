//! The scheduler with an injected clock, on SQLite and PostgreSQL: each due time runs once
//! (also with two instances on one database), missed due times run late inside the catch-up
//! window and are skipped outside it, a run whose instance died is taken over after its lease,
//! and what a job says reaches the outbox once per member and program chat.

use std::sync::Arc;

use rally::app::App;
use rally::config::{AudienceFilter, JobConfig};
use rally::engine::partner::{Platform, Role};
use rally::engine::schedule::{JobAction, Recipients};
use rally::scheduler::Scheduler;
use rally::store::jobs::{self, ProgramChat};
use rally::store::{Store, members};
use rally_testkit::{TestClock, TestDb, test_config};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

fn job(name: &str, cron: &str, to: Recipients) -> JobConfig {
    JobConfig {
        name: name.into(),
        schedule: cron.parse().expect("cron"),
        action: JobAction::Announce,
        text: Some(format!("{name} says hello")),
        filters: AudienceFilter::default(),
        to,
    }
}

fn app(db: &TestDb, clock: &TestClock, jobs: Vec<JobConfig>, catch_up_hours: u32) -> Arc<App> {
    let mut config = test_config(&db.url);
    config.jobs.run = jobs;
    config.jobs.catch_up_hours = catch_up_hours;
    Arc::new(App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone())).expect("app"))
}

/// Two Telegram members and one bound Telegram group.
async fn audience(store: &Store) {
    let mut tx = store.begin().await.expect("begin");
    for user in ["501", "502"] {
        let m = members::upsert(&mut tx, Platform::Telegram, user, user, 0)
            .await
            .expect("member");
        members::set_role(&mut tx, m.id, None, Role::Manager)
            .await
            .expect("role");
    }
    let group = ProgramChat {
        platform: "telegram".into(),
        chat_id: "-100".into(),
        region: None,
    };
    jobs::bind_chat(&mut tx, &group, None, 0)
        .await
        .expect("bind");
    tx.commit().await.expect("commit");
}

async fn statuses(store: &Store, job: &str) -> Vec<String> {
    let mut conn = store.read().await.expect("conn");
    jobs::runs(&mut conn, job)
        .await
        .expect("runs")
        .into_iter()
        .map(|(_, status)| status)
        .collect()
}

async fn outbox_rows(store: &Store, prefix: &str) -> i64 {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE $1")
        .bind(format!("{prefix}%"))
        .fetch_one(store.pool())
        .await
        .expect("count");
    row.0
}

rally_testkit::on_both_backends!(
    each_due_time_runs_once_across_instances,
    missed_due_times_catch_up_inside_the_window_only,
    a_run_whose_instance_died_is_taken_over,
);

async fn each_due_time_runs_once_across_instances(db: &TestDb) {
    audience(&db.store).await;
    let clock = TestClock::new();
    let jobs = vec![job("minutely", "0 * * * * *", Recipients::All)];
    // Two instances: two apps and two schedulers on one database.
    let (one, two) = (
        Scheduler::new(app(db, &clock, jobs.clone(), 6)),
        Scheduler::new(app(db, &clock, jobs, 6)),
    );
    // First start: nothing was due before the job existed.
    assert_eq!(
        one.tick().await.expect("tick") + two.tick().await.expect("tick"),
        0
    );
    let mut ran = 0;
    for _ in 0..5 {
        clock.advance_ms(MINUTE);
        let (a, b) = tokio::join!(one.tick(), two.tick());
        ran += a.expect("one") + b.expect("two");
        // A second look at the same due time does nothing.
        ran += one.tick().await.expect("again") + two.tick().await.expect("again");
    }
    assert_eq!(ran, 5, "five due times, each run once");
    assert_eq!(statuses(&db.store, "minutely").await, vec!["done"; 5]);
    // Each run reached the two members and the group, once.
    assert_eq!(outbox_rows(&db.store, "job:minutely:").await, 5 * 3);
}

async fn missed_due_times_catch_up_inside_the_window_only(db: &TestDb) {
    audience(&db.store).await;
    let clock = TestClock::new(); // 2026-11-15 10:00 UTC = 18:00 in Shanghai
    let jobs = vec![
        job("hourly", "0 0 * * * *", Recipients::Members),
        job("morning", "0 0 9 * * *", Recipients::Chats),
    ];
    let scheduler = Scheduler::new(app(db, &clock, jobs.clone(), 6));
    assert_eq!(scheduler.tick().await.expect("first start"), 0);
    // Down for 16 hours (until 10:00 the next morning): 16 hourly due times and one 09:00.
    clock.advance_ms(16 * HOUR);
    let restarted = Scheduler::new(app(db, &clock, jobs, 6));
    // The two jobs, and the built-in story of the week (Monday 09:00; the 16th is a Monday).
    assert_eq!(restarted.tick().await.expect("tick"), 3);
    let hourly = statuses(&db.store, "hourly").await;
    assert_eq!(hourly.len(), 16);
    assert_eq!(hourly.iter().filter(|s| *s == "skipped").count(), 15);
    assert_eq!(hourly.last().map(String::as_str), Some("done"));
    // 09:00 is an hour late, inside the 6 h window: it runs once, late.
    assert_eq!(statuses(&db.store, "morning").await, ["done"]);
    assert_eq!(outbox_rows(&db.store, "job:hourly:").await, 2);
    assert_eq!(outbox_rows(&db.store, "job:morning:").await, 1);

    // With a 1 h window, a day's downtime skips the 09:00 post.
    clock.advance_ms(24 * HOUR);
    let strict = Scheduler::new(app(
        db,
        &clock,
        vec![job("morning", "0 0 9 * * *", Recipients::Chats)],
        0,
    ));
    assert_eq!(strict.tick().await.expect("tick"), 0);
    assert_eq!(statuses(&db.store, "morning").await, ["done", "skipped"]);
}

async fn a_run_whose_instance_died_is_taken_over(db: &TestDb) {
    audience(&db.store).await;
    let clock = TestClock::new();
    let jobs = vec![job("minutely", "0 * * * * *", Recipients::Members)];
    let survivor = Scheduler::new(app(db, &clock, jobs.clone(), 6));
    assert_eq!(survivor.tick().await.expect("first start"), 0);
    clock.advance_ms(MINUTE);
    // An instance claimed the due time and died before finishing.
    let due = {
        let mut conn = db.store.read().await.expect("conn");
        let first = jobs::first_seen(&mut conn, "minutely", 0)
            .await
            .expect("seen");
        let due = jobs[0]
            .schedule
            .due_after(chrono_tz::Asia::Shanghai, first)
            .next()
            .expect("due");
        let now = clock.0.load(std::sync::atomic::Ordering::SeqCst);
        assert!(
            jobs::claim(&mut conn, "minutely", due, "dead", now, now + 300_000)
                .await
                .expect("claim")
        );
        due
    };
    // While its lease holds, nobody runs it again.
    assert_eq!(survivor.tick().await.expect("tick"), 0);
    clock.advance_ms(301_000);
    // The lease ran out: the survivor takes the run over (and runs the due times since).
    assert!(survivor.tick().await.expect("tick") >= 1);
    let mut conn = db.store.read().await.expect("conn");
    let runs = jobs::runs(&mut conn, "minutely").await.expect("runs");
    assert_eq!(runs.first(), Some(&(due, "done".to_string())));
    assert_eq!(
        outbox_rows(&db.store, &format!("job:minutely:{due}:")).await,
        2
    );
}
