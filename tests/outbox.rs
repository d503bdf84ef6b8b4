//! The outbox senders against the fake platforms: a 429's `retry_after` is waited exactly (and
//! measured), server errors are retried, a refusal fails the row at once, marks the member
//! unreachable and is recorded; on SQLite and on PostgreSQL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rally::app::{App, SystemClock};
use rally::chat::reply::{Msg, Reply};
use rally::engine::partner::Platform;
use rally::outbox::{self, Sender, SenderSettings, Transport};
use rally::platforms::discord::DiscordTransport;
use rally::platforms::telegram::{Telegram, TelegramTransport, build_bot};
use rally::store::outbox::{self as rows, Status};
use rally::store::{Store, members};
use rally_testkit::discord::{self as fake_discord, FakeDiscord};
use rally_testkit::telegram::{self as fake_telegram, FakeTelegram};
use rally_testkit::{TestDb, test_config};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(15);

/// Fast retries for tests; the platform limits as published.
fn settings(mut base: SenderSettings) -> SenderSettings {
    base.idle_poll = Duration::from_millis(100);
    base.max_attempts = 3;
    base
}

fn app_on(db: &TestDb) -> Arc<App> {
    Arc::new(
        App::new(
            db.store.clone(),
            Arc::new(test_config(&db.url)),
            Box::new(SystemClock),
        )
        .expect("app"),
    )
}

/// A notice for a new member on `platform`, enqueued as the handler does; returns its row id.
async fn notice(app: &App, platform: Platform, user: &str, key: &str) -> i64 {
    let mut tx = app.store.begin().await.expect("begin");
    let member = members::upsert(&mut tx, platform, user, user, app.now())
        .await
        .expect("member");
    let reply = Reply::here(Msg::new("help-line").text("line", format!("notice {key}")));
    let inline = outbox::enqueue_notice(app, &mut tx, member.id, reply, key.into(), app.now())
        .await
        .expect("enqueue");
    assert!(inline.is_none());
    tx.commit().await.expect("commit");
    let row: (i64,) = sqlx::query_as("SELECT id FROM outbox WHERE dedupe_key = $1")
        .bind(key)
        .fetch_one(app.store.pool())
        .await
        .expect("row");
    row.0
}

async fn state_of(store: &Store, id: i64) -> (Status, i64, Option<String>) {
    let mut conn = store.read().await.expect("conn");
    rows::state(&mut conn, id).await.expect("state")
}

async fn wait_for_status(store: &Store, id: i64, wanted: Status) -> (Status, i64, Option<String>) {
    let deadline = Instant::now() + WAIT;
    loop {
        let state = state_of(store, id).await;
        if state.0 == wanted || Instant::now() > deadline {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn start<T: Transport>(
    app: &Arc<App>,
    transport: T,
    settings: SenderSettings,
) -> CancellationToken {
    let stop = CancellationToken::new();
    tokio::spawn(Sender::new(app.clone(), Arc::new(transport), settings).run(stop.clone()));
    stop
}

async fn telegram_sender(app: &Arc<App>, fake: &FakeTelegram) -> CancellationToken {
    let bot = build_bot(fake.token(), &fake.url()).expect("bot");
    let tg = Telegram::new(bot, app.clone(), fake.bot_username());
    start(
        app,
        TelegramTransport(tg),
        settings(SenderSettings::telegram(&Default::default())),
    )
}

async fn discord_sender(app: &Arc<App>, fake: &FakeDiscord) -> CancellationToken {
    discord_sender_with(
        app,
        fake,
        settings(SenderSettings::discord(&Default::default())),
    )
}

fn discord_sender_with(
    app: &Arc<App>,
    fake: &FakeDiscord,
    settings: SenderSettings,
) -> CancellationToken {
    let transport = DiscordTransport::new(app.clone(), fake_discord::TOKEN, Some(&fake.url()))
        .expect("transport");
    start(app, transport, settings)
}

rally_testkit::on_both_backends!(
    telegram_429_waits_exactly_retry_after,
    telegram_refusal_fails_at_once_and_marks_the_member,
    discord_429_waits_exactly_retry_after,
    discord_server_errors_are_retried,
    discord_route_buckets_are_waited_for_without_a_429,
    discord_global_429_pauses_every_channel,
);

async fn telegram_429_waits_exactly_retry_after(db: &TestDb) {
    let fake = FakeTelegram::start("RallyBot").await;
    fake.fail_next(
        "sendMessage",
        fake_telegram::Failure::TooManyRequests { retry_after: 2 },
    );
    let app = app_on(db);
    let id = notice(&app, Platform::Telegram, "5001", "t429").await;
    let stop = telegram_sender(&app, &fake).await;
    fake.wait_for_call("sendMessage", |c| c.status == 429, WAIT)
        .await
        .expect("the first attempt is rate limited");
    let limited_at = Instant::now();
    fake.wait_for_call("sendMessage", |c| c.status == 200, WAIT)
        .await
        .expect("sent after the wait");
    let waited = limited_at.elapsed();
    assert!(
        waited >= Duration::from_millis(1_950) && waited < Duration::from_millis(3_500),
        "waited {waited:?} for retry_after = 2 s"
    );
    let (status, attempts, _) = wait_for_status(&app.store, id, Status::Sent).await;
    // A 429 is the platform's pacing: the attempt is given back.
    assert_eq!((status, attempts), (Status::Sent, 1));
    stop.cancel();
}

async fn telegram_refusal_fails_at_once_and_marks_the_member(db: &TestDb) {
    let fake = FakeTelegram::start("RallyBot").await;
    fake.fail_next("sendMessage", fake_telegram::Failure::Forbidden);
    let app = app_on(db);
    let id = notice(&app, Platform::Telegram, "5002", "t403").await;
    let stop = telegram_sender(&app, &fake).await;
    let (status, attempts, error) = wait_for_status(&app.store, id, Status::Failed).await;
    assert_eq!((status, attempts), (Status::Failed, 1), "{error:?}");
    assert!(error.unwrap_or_default().contains("refused"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.calls_to("sendMessage").len(),
        1,
        "a refusal is not retried"
    );
    let unreachable: (Option<i64>,) =
        sqlx::query_as("SELECT unreachable_at FROM members WHERE platform_user_id = '5002'")
            .fetch_one(app.store.pool())
            .await
            .expect("member");
    assert!(unreachable.0.is_some(), "the member is marked unreachable");
    let failures: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM delivery_failures WHERE chat_id = '5002'")
            .fetch_one(app.store.pool())
            .await
            .expect("failures");
    assert_eq!(failures.0, 1);
    stop.cancel();
}

async fn discord_429_waits_exactly_retry_after(db: &TestDb) {
    let fake = FakeDiscord::start().await;
    let app = app_on(db);
    let user = 88_001_u64;
    let id = notice(&app, Platform::Discord, &user.to_string(), "d429").await;
    fake.fail_next(
        "/messages",
        fake_discord::Failure::RateLimited {
            retry_after_secs: 1.5,
        },
    );
    let stop = discord_sender(&app, &fake).await;
    fake.wait_for_call("POST", "/messages", |c| c.status == 429, WAIT)
        .await
        .expect("the first attempt is rate limited");
    let limited_at = Instant::now();
    let sent = fake
        .wait_for_call("POST", "/messages", |c| c.status < 300, WAIT)
        .await
        .expect("sent after the wait");
    let waited = limited_at.elapsed();
    assert!(
        waited >= Duration::from_millis(1_450) && waited < Duration::from_millis(3_000),
        "waited {waited:?} for retry_after = 1.5 s"
    );
    assert!(
        sent.path.contains(&fake.dm_channel_id(user).to_string()),
        "a direct message: {}",
        sent.path
    );
    assert_eq!(
        sent.body["allowed_mentions"]["parse"],
        serde_json::json!([])
    );
    let (status, attempts, _) = wait_for_status(&app.store, id, Status::Sent).await;
    assert_eq!((status, attempts), (Status::Sent, 1));
    stop.cancel();
}

async fn discord_server_errors_are_retried(db: &TestDb) {
    let fake = FakeDiscord::start().await;
    let app = app_on(db);
    let id = notice(&app, Platform::Discord, "88002", "d500").await;
    fake.fail_next("/messages", fake_discord::Failure::ServerError);
    let stop = discord_sender(&app, &fake).await;
    let (status, attempts, error) = wait_for_status(&app.store, id, Status::Sent).await;
    assert_eq!((status, attempts), (Status::Sent, 2), "{error:?}");
    assert!(error.unwrap_or_default().contains("500"));
    stop.cancel();
}

/// Discord lowers a channel's bucket below what the sender paces at (3 per second here, the
/// sender allowing 1,000 per 5 s): the `X-RateLimit-Remaining: 0` / `Reset-After` headers make
/// the sender wait for the refill, so ten messages arrive with no 429 at all.
async fn discord_route_buckets_are_waited_for_without_a_429(db: &TestDb) {
    let fake = FakeDiscord::start().await;
    fake.limit_channel_messages(3, Duration::from_secs(1));
    let app = app_on(db);
    let mut ids = Vec::new();
    for n in 0..10 {
        ids.push(notice(&app, Platform::Discord, "88003", &format!("bucket-{n}")).await);
    }
    let mut pace = settings(SenderSettings::discord(&Default::default()));
    pace.private_burst = std::num::NonZeroU32::new(1_000).expect("non-zero");
    let started = Instant::now();
    let stop = discord_sender_with(&app, &fake, pace);
    for id in ids {
        let (status, attempts, error) = wait_for_status(&app.store, id, Status::Sent).await;
        assert_eq!((status, attempts), (Status::Sent, 1), "{error:?}");
    }
    let took = started.elapsed();
    assert_eq!(fake.rate_limited(), 0, "no 429 from Discord");
    // Ten messages at three per window need the fourth window.
    assert!(took >= Duration::from_secs(3), "took {took:?}");
    stop.cancel();
}

/// A global 429 pauses every channel, not only the one that got it, for its `retry_after`.
async fn discord_global_429_pauses_every_channel(db: &TestDb) {
    let fake = FakeDiscord::start().await;
    let app = app_on(db);
    fake.fail_next(
        "/messages",
        fake_discord::Failure::GlobalRateLimited {
            retry_after_secs: 1.5,
        },
    );
    let first = notice(&app, Platform::Discord, "88004", "global-1").await;
    let stop = discord_sender(&app, &fake).await;
    let limited = fake
        .wait_for_call("POST", "/messages", |c| c.status == 429, WAIT)
        .await
        .expect("the first message meets the global limit");
    let others = [
        notice(&app, Platform::Discord, "88005", "global-2").await,
        notice(&app, Platform::Discord, "88006", "global-3").await,
    ];
    for id in std::iter::once(first).chain(others) {
        let (status, _, error) = wait_for_status(&app.store, id, Status::Sent).await;
        assert_eq!(status, Status::Sent, "{error:?}");
    }
    for call in fake.calls() {
        if call.method == "POST" && call.path.ends_with("/messages") && call.status < 300 {
            let after = call.at.duration_since(limited.at);
            assert!(
                after >= Duration::from_millis(1_450),
                "{} sent {after:?} after a global 429 of 1.5 s",
                call.path
            );
        }
    }
    assert_eq!(fake.rate_limited(), 1);
    stop.cancel();
}
