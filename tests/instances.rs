//! Two `rally run` processes on one PostgreSQL database, against the fake Telegram (which, like
//! Telegram, answers an overlapping second `getUpdates` with 409): only one polls at a time, a
//! job every 3 seconds posts each due time exactly once, and when the polling instance is
//! killed with -9 the other takes over within the lease (15 s) plus its retry (2 s), losing no
//! update and handling none twice. Two instances with `RALLY_DISCORD_SHARDS` 0/2 and 1/2 each
//! connect only their shard, and each interaction is answered once. Skipped without
//! `RALLY_TEST_POSTGRES_URL`.

use std::process::Command;
use std::time::{Duration, Instant};

use rally::engine::partner::{PartnerKind, Platform, Role};
use rally::store::jobs::{self, ProgramChat};
use rally::store::{Store, members, partners};
use rally_testkit::TestDb;
use rally_testkit::discord::{self as fake_discord, DiscordUser, FakeDiscord};
use rally_testkit::telegram::{FakeTelegram, UserRef, spawn_rally_run};

const PARTNER: i64 = 4242;
const GROUP: i64 = -900;

const CONFIG: &str = r#"
[program]
name = "Instances"
timezone = "UTC"

[jobs]
catch_up_hours = 1

[[jobs.run]]
name = "pulse"
schedule = "*/3 * * * * *"
action = "announce"
text = "pulse"
"#;

async fn prepare(store: &Store) {
    let mut tx = store.begin().await.expect("tx");
    let partner = partners::insert(
        &mut tx,
        &partners::NewPartner {
            name: "Twin Co".into(),
            kind: PartnerKind::Dealer,
            region: None,
            tier: None,
            potential_minor: None,
        },
        1,
    )
    .await
    .expect("partner")
    .expect("new");
    let member = members::upsert(&mut tx, Platform::Telegram, &PARTNER.to_string(), "Zed", 1)
        .await
        .expect("member");
    members::set_role(&mut tx, member.id, Some(partner.id), Role::Partner)
        .await
        .expect("role");
    let group = ProgramChat {
        platform: "telegram".into(),
        chat_id: GROUP.to_string(),
        region: None,
    };
    jobs::bind_chat(&mut tx, &group, None, 1)
        .await
        .expect("bind");
    tx.commit().await.expect("commit");
}

async fn count(store: &Store, sql: &str) -> i64 {
    let row: (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_string()))
        .fetch_one(store.pool())
        .await
        .expect("count");
    row.0
}

fn report(fake: &FakeTelegram, partner: &UserRef, n: i64) {
    fake.push_update(FakeTelegram::text_message(
        partner.private_chat(),
        partner.clone(),
        &format!("/report {} Customer{n}", 100 + n),
    ));
}

#[tokio::test]
async fn two_instances_poll_once_post_each_due_time_once_and_take_over() {
    let Some(db) = TestDb::postgres("two_instances").await else {
        return;
    };
    prepare(&db.store).await;
    let dir = tempfile::tempdir().expect("tmp");
    let config = dir.path().join("rally.toml");
    std::fs::write(&config, CONFIG).expect("config");
    let fake = FakeTelegram::start("RallyBot").await;
    let partner = UserRef::new(PARTNER, "Zed");

    let a = spawn_rally_run(env!("CARGO_BIN_EXE_rally"), &fake, &db.url, Some(&config));
    let b = spawn_rally_run(env!("CARGO_BIN_EXE_rally"), &fake, &db.url, Some(&config));
    let mut sent_reports = 0;
    for _ in 0..10 {
        report(&fake, &partner, sent_reports);
        sent_reports += 1;
        tokio::time::sleep(Duration::from_millis(1_500)).await;
    }
    // The polling instance dies without a word.
    let owner: (String,) =
        sqlx::query_as("SELECT owner FROM leases WHERE name = 'telegram-polling'")
            .fetch_one(db.store.pool())
            .await
            .expect("a leader");
    let leader_pid: u32 = owner
        .0
        .split('-')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("pid");
    let (mut leader, mut other) = if a.id() == leader_pid { (a, b) } else { (b, a) };
    assert_eq!(leader.id(), leader_pid, "the leader is one of ours");
    leader.kill().expect("kill -9");
    let _ = leader.wait();
    let killed = Instant::now();
    for _ in 0..5 {
        report(&fake, &partner, sent_reports);
        sent_reports += 1;
    }
    while count(&db.store, "SELECT COUNT(*) FROM sales").await < sent_reports
        && killed.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let took_over = killed.elapsed();
    assert!(
        took_over < Duration::from_secs(20),
        "took over after {took_over:?}"
    );
    // Let the survivor run the job a few more times alone.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(other.id().to_string())
        .status();
    let _ = other.wait();

    assert_eq!(
        count(&db.store, "SELECT COUNT(*) FROM sales").await,
        sent_reports,
        "every report stored exactly once"
    );
    let conflicts = fake
        .calls_to("getUpdates")
        .iter()
        .filter(|c| c.status == 409)
        .count();
    assert_eq!(conflicts, 0, "never two instances polling at once");
    let runs = count(
        &db.store,
        "SELECT COUNT(*) FROM job_runs WHERE job = 'pulse' AND status = 'done'",
    )
    .await;
    assert!(runs >= 8, "the job ran every 3 s: {runs} runs");
    let posts = fake
        .calls_to("sendMessage")
        .iter()
        .filter(|c| c.status == 200 && c.params["chat_id"].as_i64() == Some(GROUP))
        .count() as i64;
    let rows = count(
        &db.store,
        "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'job:pulse:%'",
    )
    .await;
    // Each due time is one outbox row (unique key) and one post; a post may have been in
    // flight when the leader died (at-least-once), never more than that.
    eprintln!("take-over after {took_over:?}; job runs {runs}, outbox rows {rows}, posts {posts}");
    assert!(
        posts >= rows - 1 && posts <= rows + 1 && rows >= runs - 1,
        "posts {posts}, rows {rows}, runs {runs}"
    );
}

/// `rally run` for the fake Discord only, connecting `shards`.
fn spawn_discord_run(fake: &FakeDiscord, database_url: &str, shards: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_rally"))
        .arg("run")
        .env_remove("RALLY_CONFIG")
        .env_remove("TELEGRAM_BOT_TOKEN")
        .env("DISCORD_TOKEN", fake_discord::TOKEN)
        .env("RALLY_DISCORD_API_URL", fake.url())
        .env("RALLY_DISCORD_SHARDS", shards)
        .env("RALLY_DATABASE_URL", database_url)
        .env("RALLY_HTTP_LISTEN", "127.0.0.1:0")
        .env("RALLY_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start rally run")
}

#[tokio::test]
async fn discord_shards_are_split_across_instances() {
    let Some(db) = TestDb::postgres("discord_shards").await else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let mut a = spawn_discord_run(&fake, &db.url, "0/2");
    let mut b = spawn_discord_run(&fake, &db.url, "1/2");
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.live_shards() != [(0, 2), (1, 2)] && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        fake.live_shards(),
        [(0, 2), (1, 2)],
        "one session per shard"
    );

    // A guild command goes to the guild's shard, a DM to shard 0: each is answered once.
    let user = DiscordUser::new(77_001, "Shard Tester");
    let dm = fake.dm_channel_id(user.id);
    let mut interactions = Vec::new();
    for (channel, guild) in [
        (fake_discord::GUILD_CHANNEL_ID, Some(fake_discord::GUILD_ID)),
        (dm, None),
    ] {
        let (id, _) =
            fake.send_interaction_command(&user, channel, guild, "help", serde_json::json!([]));
        fake.wait_for_call(
            "POST",
            &format!("/interactions/{id}/"),
            |_| true,
            Duration::from_secs(20),
        )
        .await
        .expect("answered");
        interactions.push(id);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    for id in interactions {
        let answers = fake
            .calls()
            .iter()
            .filter(|c| c.path.contains(&format!("/interactions/{id}/")))
            .count();
        assert_eq!(answers, 1, "interaction {id} answered by one instance");
    }
    assert_eq!(fake.identifies(), 2, "no shard connected twice");
    for child in [&mut a, &mut b] {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let _ = child.wait();
    }
}
