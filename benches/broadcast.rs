//! A broadcast to 10,000 members through the outbox's Telegram sender, against the fake Bot API
//! enforcing the same limit the sender is configured with (1,000 messages a second, a token
//! bucket as Telegram enforces it). Goal: the achieved rate ≥ 97 % of the limit with no 429
//! (docs/performance.md).
//!
//! Each iteration: a fresh SQLite file with [`MEMBERS`] Telegram members, one `/announce`-style
//! broadcast to all of them enqueued in one transaction (outside the timed section), then the
//! sender runs until the fake has answered every `sendMessage`; the timed section is from the
//! sender's start to the last answer. The rate is messages ÷ that time.
//!
//! Run: `cargo bench --bench broadcast`. Under `cargo test --benches` one small iteration runs.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};
use rally::app::{App, SystemClock};
use rally::engine::broadcast::AudienceFilter;
use rally::engine::ids::MemberId;
use rally::engine::partner::{Platform, Role};
use rally::engine::schedule::Recipients;
use rally::features::broadcasts::service;
use rally::outbox::{Sender, SenderSettings};
use rally::platforms::telegram::{Telegram, TelegramTransport, build_bot};
use rally::store::{Store, members};
use rally_testkit::bench::{sqlite_url, test_mode};
use rally_testkit::telegram::FakeTelegram;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

/// Members the broadcast reaches.
const MEMBERS: i64 = 10_000;
/// `RALLY_BENCH_MEMBERS` overrides [`MEMBERS`] (to look at smaller runs).
fn members() -> i64 {
    std::env::var("RALLY_BENCH_MEMBERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(MEMBERS)
}
/// Under `cargo test --benches`.
const TEST_MEMBERS: i64 = 200;
/// The limit, for the sender and the fake alike.
const PER_SECOND: u32 = 1_000;

struct Round {
    elapsed: Duration,
    sent: usize,
    rate_limited: usize,
}

async fn prepare(dir: &std::path::Path, count: i64) -> (Arc<App>, MemberId) {
    let url = sqlite_url(&dir.join("rally.db"));
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut tx = store.begin().await.expect("tx");
    let mut author = None;
    for user in 0..count {
        let m = members::upsert(
            &mut tx,
            Platform::Telegram,
            &(100_000 + user).to_string(),
            "m",
            0,
        )
        .await
        .expect("member");
        members::set_role(&mut tx, m.id, None, Role::Manager)
            .await
            .expect("role");
        author.get_or_insert(m.id);
    }
    tx.commit().await.expect("commit");
    let mut config = rally_testkit::test_config(&url);
    config.database.url = url;
    let app = App::new(store, Arc::new(config), Box::new(SystemClock)).expect("app");
    (Arc::new(app), author.expect("a member"))
}

async fn round(count: i64) -> Round {
    let dir = tempfile::tempdir().expect("tmp");
    let (app, author) = prepare(dir.path(), count).await;
    let mut tx = app.store.begin().await.expect("tx");
    let (_, _, reached) = service::send_now(
        &app,
        &mut tx,
        author,
        "Quarter-end push: every deal counts!",
        &AudienceFilter::default(),
        Recipients::Members,
    )
    .await
    .expect("broadcast");
    tx.commit().await.expect("commit");
    assert_eq!(reached as i64, count);

    let fake = FakeTelegram::start("RallyBot").await;
    fake.limit_sends(PER_SECOND);
    let bot = build_bot(fake.token(), &fake.url()).expect("bot");
    let tg = Telegram::new(bot, app.clone(), "RallyBot".into());
    let mut settings = SenderSettings::telegram(&Default::default());
    settings.per_second = NonZeroU32::new(PER_SECOND).expect("limit");
    settings.concurrency = 64;
    settings.batch = 500;
    settings.idle_poll = Duration::from_millis(20);
    let stop = CancellationToken::new();
    let started = Instant::now();
    tokio::spawn(
        Sender::new(app.clone(), Arc::new(TelegramTransport(tg)), settings).run(stop.clone()),
    );
    // Polled, not awaited on every call: waiting on the fake's change signal would rescan its
    // 10,000 recorded calls at every answer.
    let deadline = Instant::now() + Duration::from_secs(120);
    let elapsed = loop {
        let answered =
            fake.count_answered("sendMessage", 200) + fake.count_answered("sendMessage", 429);
        if answered >= count as usize {
            break started.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "only {answered} of {count} answered"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    // Then the delivery report to the author (untimed: it waits a second behind the author's
    // own copy, Telegram's pace for one private chat).
    fake.wait_for_call(
        "sendMessage",
        |c| {
            c.params["text"]
                .as_str()
                .unwrap_or_default()
                .contains("sent")
        },
        Duration::from_secs(10),
    )
    .await
    .expect("the author gets a delivery report");
    stop.cancel();
    Round {
        elapsed,
        sent: fake.count_answered("sendMessage", 200),
        rate_limited: fake.count_answered("sendMessage", 429),
    }
}

fn main() {
    let runtime = Runtime::new().expect("runtime");
    let count = if test_mode() { TEST_MEMBERS } else { members() };
    // No plots: Rally's charts build plotters with `ab_glyph` fonts, under which criterion's
    // plots find no font; the estimates (and the summary read from them) are unaffected.
    let mut criterion = Criterion::default().configure_from_args().without_plots();
    if !test_mode() {
        criterion = criterion
            .sample_size(10)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(60));
    }
    let mut rounds = Vec::new();
    {
        let mut group = criterion.benchmark_group("broadcast");
        group.sampling_mode(SamplingMode::Flat);
        group.throughput(Throughput::Elements(count as u64));
        group.bench_function("telegram_10k_at_1000_per_s", |b| {
            b.iter_custom(|iterations| {
                let mut total = Duration::ZERO;
                for _ in 0..iterations {
                    let r = runtime.block_on(round(count));
                    total += r.elapsed;
                    rounds.push(r);
                }
                total
            })
        });
        group.finish();
    }
    criterion.final_summary();
    let messages = count as f64;
    for (i, r) in rounds.iter().enumerate() {
        let rate = messages / r.elapsed.as_secs_f64();
        println!(
            "round {i}: {} messages in {:.2} s = {rate:.0}/s = {:.1} % of the {PER_SECOND}/s limit; sent {}, 429s {}",
            count,
            r.elapsed.as_secs_f64(),
            100.0 * rate / f64::from(PER_SECOND),
            r.sent,
            r.rate_limited
        );
    }
    let worst = rounds
        .iter()
        .map(|r| messages / r.elapsed.as_secs_f64() / f64::from(PER_SECOND))
        .fold(f64::INFINITY, f64::min);
    let limited: usize = rounds.iter().map(|r| r.rate_limited).sum();
    println!(
        "broadcast: worst round {:.1} % of the limit, {limited} × 429 over {} rounds",
        100.0 * worst,
        rounds.len()
    );
}
