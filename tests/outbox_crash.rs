//! `rally run` killed with -9 in the middle of a 500-message broadcast: after a restart every
//! member has the message (none missed), and at most the rows that were in flight at the kill
//! are sent twice (the sender's concurrency plus one group of outcomes being committed). On
//! SQLite, and on PostgreSQL when `RALLY_TEST_POSTGRES_URL` is set.

use std::collections::HashMap;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rally::app::{App, SystemClock};
use rally::engine::broadcast::AudienceFilter;
use rally::engine::partner::{Platform, Role};
use rally::engine::schedule::Recipients;
use rally::features::broadcasts::service;
use rally::store::members;
use rally_testkit::TestDb;
use rally_testkit::telegram::{FakeTelegram, spawn_rally_run};

const MEMBERS: i64 = 500;
/// Deliveries in flight at once (the sender's concurrency) plus one group of outcomes.
const IN_FLIGHT_WINDOW: usize = 64;

const CONFIG: &str = r#"
[program]
name = "Crash"
timezone = "UTC"

[outbox]
telegram_per_second = 200
lease_seconds = 2
"#;

async fn prepare(db: &TestDb) {
    let app = App::new(
        db.store.clone(),
        Arc::new(rally_testkit::test_config(&db.url)),
        Box::new(SystemClock),
    )
    .expect("app");
    let mut tx = db.store.begin().await.expect("tx");
    for user in 0..MEMBERS {
        let m = members::upsert(
            &mut tx,
            Platform::Telegram,
            &(10_000 + user).to_string(),
            "m",
            0,
        )
        .await
        .expect("member");
        members::set_role(&mut tx, m.id, None, Role::Manager)
            .await
            .expect("role");
    }
    // The author is on the terminal: the delivery report stays out of the Telegram count.
    let author = members::upsert(&mut tx, Platform::Console, "boss", "boss", 0)
        .await
        .expect("author");
    let (_, _, reached) = service::send_now(
        &app,
        &mut tx,
        author.id,
        "All hands: quarter-end push",
        &AudienceFilter {
            platform: Some(Platform::Telegram),
            ..AudienceFilter::default()
        },
        Recipients::Members,
    )
    .await
    .expect("broadcast");
    tx.commit().await.expect("commit");
    assert_eq!(reached as i64, MEMBERS);
}

/// Messages delivered per chat.
fn delivered(fake: &FakeTelegram) -> HashMap<i64, usize> {
    let mut per_chat = HashMap::new();
    for call in fake.calls_to("sendMessage") {
        if call.status == 200
            && let Some(chat) = call.params["chat_id"].as_i64()
        {
            *per_chat.entry(chat).or_insert(0) += 1;
        }
    }
    per_chat
}

async fn kill_mid_broadcast(db: &TestDb) {
    prepare(db).await;
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("rally.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let fake = FakeTelegram::start("RallyBot").await;

    let mut first = spawn_rally_run(env!("CARGO_BIN_EXE_rally"), &fake, &db.url, Some(&config));
    fake.wait_for_calls("sendMessage", 100, Duration::from_secs(30))
        .await
        .expect("the broadcast is under way");
    first.kill().expect("kill -9");
    let _ = first.wait();
    let before_restart = delivered(&fake).len();
    assert!(
        (100..MEMBERS as usize).contains(&before_restart),
        "killed mid-broadcast: {before_restart} delivered"
    );

    let mut second = spawn_rally_run(env!("CARGO_BIN_EXE_rally"), &fake, &db.url, Some(&config));
    let deadline = Instant::now() + Duration::from_secs(60);
    while (delivered(&fake).len() as i64) < MEMBERS && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(second.id().to_string())
        .status();
    let _ = second.wait();

    let per_chat = delivered(&fake);
    assert_eq!(per_chat.len() as i64, MEMBERS, "no member missed");
    let twice: usize = per_chat.values().map(|n| n - 1).sum();
    eprintln!("killed after {before_restart} deliveries; {twice} delivered twice");
    assert!(
        twice <= IN_FLIGHT_WINDOW,
        "{twice} duplicates, more than the {IN_FLIGHT_WINDOW} rows in flight"
    );
    let pending: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE status <> 'sent'")
        .fetch_one(db.store.pool())
        .await
        .expect("count");
    assert_eq!(pending.0, 0, "every row ends sent");
}

#[tokio::test]
async fn kill_9_mid_broadcast_on_sqlite() {
    let db = TestDb::sqlite().await;
    kill_mid_broadcast(&db).await;
}

#[tokio::test]
async fn kill_9_mid_broadcast_on_postgres() {
    let Some(db) = TestDb::postgres("kill_mid_broadcast").await else {
        return;
    };
    kill_mid_broadcast(&db).await;
}
