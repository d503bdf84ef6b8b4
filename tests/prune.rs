//! The hourly prune (`scheduler::prune`) on SQLite and PostgreSQL: inbox updates answered long
//! ago and old handled messages go; recent ones, unprocessed or unanswered updates and each
//! platform's newest update stay; more rows than one chunk go in several chunks; and with two
//! instances on one database one of them prunes each hour.

use std::sync::atomic::AtomicI64;

use std::sync::Arc;

use rally::app::App;
use rally::scheduler::Scheduler;
use rally::scheduler::prune::{self, PRUNE_JOB, Pruned};
use rally::store::jobs;
use rally_testkit::{TestClock, TestDb, on_both_backends, test_config};
use sqlx::Row;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

on_both_backends!(
    old_answered_rows_go_and_the_rest_stays,
    many_rows_go_in_chunks,
    one_instance_prunes_each_hour,
);

fn app(db: &TestDb, clock: &TestClock) -> Arc<App> {
    let config = test_config(&db.url);
    assert_eq!(config.jobs.prune_after_days, 7, "the default retention");
    Arc::new(App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone())).expect("app"))
}

/// Inbox rows `from..=to` of `platform`, received `age` ago, processed and answered then (or
/// never, when not `processed` / `answered`).
async fn inbox_rows(
    app: &App,
    platform: &str,
    from: i64,
    to: i64,
    age: i64,
    processed: bool,
    answered: bool,
) {
    let at = app.now() - age;
    let mut tx = app.store.begin().await.expect("begin");
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
         INSERT INTO inbox (platform, update_id, payload, received_at, processed_at, answered_at) \
         SELECT $3, i, '{}', $4, $5, $6 FROM n",
    )
    .bind(from)
    .bind(to)
    .bind(platform)
    .bind(at)
    .bind(processed.then_some(at))
    .bind(answered.then_some(at))
    .execute(&mut *tx)
    .await
    .expect("inbox rows");
    tx.commit().await.expect("commit");
}

/// `n` handled messages in chat `chat`, the i-th handled `age + i` ms ago.
async fn handled_rows(app: &App, chat: &str, n: i64, age: i64) {
    let at = app.now() - age;
    let mut tx = app.store.begin().await.expect("begin");
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
         INSERT INTO handled_messages (platform, chat_id, message_id, member_id, replies, \
         handled_at) SELECT 'telegram', $2, CAST(i AS TEXT), NULL, '[]', $3 - i FROM n",
    )
    .bind(n)
    .bind(chat)
    .bind(at)
    .execute(&mut *tx)
    .await
    .expect("handled rows");
    tx.commit().await.expect("commit");
}

async fn inbox_ids(app: &App, platform: &str) -> Vec<i64> {
    let mut conn = app.store.read().await.expect("conn");
    sqlx::query("SELECT update_id FROM inbox WHERE platform = $1 ORDER BY update_id")
        .bind(platform)
        .fetch_all(&mut *conn)
        .await
        .expect("ids")
        .iter()
        .map(|r| r.get::<i64, _>("update_id"))
        .collect()
}

async fn handled_count(app: &App, chat: &str) -> i64 {
    let mut conn = app.store.read().await.expect("conn");
    let row = sqlx::query("SELECT COUNT(*) AS n FROM handled_messages WHERE chat_id = $1")
        .bind(chat)
        .fetch_one(&mut *conn)
        .await
        .expect("count");
    row.get("n")
}

async fn old_answered_rows_go_and_the_rest_stays(db: &TestDb) {
    let clock = TestClock::new();
    let app = app(db, &clock);
    // 1–10 answered 8 days ago: gone. 11–12 unprocessed, 13–14 processed but unanswered, both
    // 8 days old: kept. 15–16 answered 6 days ago: kept. 17 answered 8 days ago but the newest
    // update: kept (the next poll starts after it).
    inbox_rows(&app, "telegram", 1, 10, 8 * DAY, true, true).await;
    inbox_rows(&app, "telegram", 11, 12, 8 * DAY, false, false).await;
    inbox_rows(&app, "telegram", 13, 14, 8 * DAY, true, false).await;
    inbox_rows(&app, "telegram", 15, 16, 6 * DAY, true, true).await;
    inbox_rows(&app, "telegram", 17, 17, 8 * DAY, true, true).await;
    // Another platform's rows are pruned on their own (its newest update kept).
    inbox_rows(&app, "discord", 1, 3, 8 * DAY, true, true).await;
    handled_rows(&app, "old", 5, 8 * DAY).await;
    handled_rows(&app, "recent", 5, 6 * DAY).await;

    let pruned = prune::prune(&app, app.now(), prune::CHUNK)
        .await
        .expect("prune");
    assert_eq!(pruned.inbox, 10 + 2);
    assert_eq!(pruned.handled, 5);
    assert_eq!(
        inbox_ids(&app, "telegram").await,
        vec![11, 12, 13, 14, 15, 16, 17]
    );
    assert_eq!(inbox_ids(&app, "discord").await, vec![3]);
    assert_eq!(handled_count(&app, "old").await, 0);
    assert_eq!(handled_count(&app, "recent").await, 5);

    // Nothing left to delete: a second prune deletes nothing.
    let again = prune::prune(&app, app.now(), prune::CHUNK)
        .await
        .expect("prune");
    assert_eq!(again, Pruned::default());
}

async fn many_rows_go_in_chunks(db: &TestDb) {
    let clock = TestClock::new();
    let app = app(db, &clock);
    inbox_rows(&app, "telegram", 1, 2_500, 10 * DAY, true, true).await;
    inbox_rows(&app, "telegram", 2_501, 2_510, 10 * DAY, false, false).await;
    inbox_rows(&app, "telegram", 2_511, 2_520, HOUR, true, true).await;
    handled_rows(&app, "old", 2_500, 10 * DAY).await;
    handled_rows(&app, "recent", 10, HOUR).await;

    let pruned = prune::prune(&app, app.now(), 1_000).await.expect("prune");
    assert_eq!(
        pruned,
        Pruned {
            inbox: 2_500,
            handled: 2_500,
            // 1,000 + 1,000 + 500 of each.
            chunks: 6,
        }
    );
    let left = inbox_ids(&app, "telegram").await;
    assert_eq!(left.len(), 20);
    assert_eq!(left[0], 2_501);
    assert_eq!(handled_count(&app, "old").await, 0);
    assert_eq!(handled_count(&app, "recent").await, 10);
}

async fn one_instance_prunes_each_hour(db: &TestDb) {
    let clock = TestClock::new();
    let app = app(db, &clock);
    inbox_rows(&app, "telegram", 1, 10, 8 * DAY, true, true).await;
    let lease = 5 * 60_000;
    // Two instances in the same hour: the first claims it and prunes, the second does nothing.
    let (seen_a, seen_b) = (AtomicI64::new(i64::MIN), AtomicI64::new(i64::MIN));
    assert!(prune::run_due(&app, "a", lease, &seen_a).await.expect("a"));
    assert!(!prune::run_due(&app, "b", lease, &seen_b).await.expect("b"));
    assert_eq!(inbox_ids(&app, "telegram").await, vec![10]);
    // The scheduler's tick runs it too, once per hour, and does not count it as a job run.
    let scheduler = Scheduler::new(app.clone());
    assert_eq!(scheduler.tick().await.expect("tick"), 0);
    inbox_rows(&app, "telegram", 11, 20, 8 * DAY, true, true).await;
    assert_eq!(scheduler.tick().await.expect("tick"), 0);
    assert_eq!(
        inbox_ids(&app, "telegram").await.len(),
        11,
        "not again this hour"
    );
    clock.advance_ms(HOUR);
    assert_eq!(scheduler.tick().await.expect("tick"), 0);
    assert_eq!(inbox_ids(&app, "telegram").await, vec![20]);
    let mut conn = app.store.read().await.expect("conn");
    let runs = jobs::runs(&mut conn, PRUNE_JOB).await.expect("runs");
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert!(runs.iter().all(|(_, status)| status == "done"), "{runs:?}");
}
