//! `/report` updates handled per second end to end through teloxide against the fake Bot API
//! server (`rally_testkit::telegram`), against a minimal teloxide echo bot on a second
//! instance of the same fake, in the same run. Goal: rally / echo ≥ 0.5 (docs/performance.md).
//!
//! Both sides get the same traffic: [`UPDATES`] text messages from one user in their private
//! chat, pushed into the fake's `getUpdates` queue at once; an iteration ends when the fake has
//! received the `sendMessage` answering the last of them. Both sides handle one chat's updates
//! one after the other (Rally handles every update in order; teloxide's dispatcher serializes
//! updates per chat), so this is the sequential rate of one busy chat, not of many chats.
//! - `telegram/rally_report`: `Telegram::poll` (inbox-backed long polling) with the demo program
//!   (`demo::config()`) on a SQLite file holding one partner whose member is Telegram user 2002;
//!   every update is `/report 1200 C<n>` (auto-approved, a new customer each); every answer is
//!   checked to be the approval of its own report, and the number of stored sales at the end.
//! - `telegram/echo` (**baseline**): `teloxide::Dispatcher` with one endpoint that answers each
//!   message with `bot.send_message(msg.chat.id, text)`; same messages.
//!
//! Both bots are built by `rally::platforms::telegram::build_bot` (same reqwest client settings). Each
//! iteration starts a fresh fake, a fresh bot and (Rally) a fresh copy of the prepared database,
//! and sends [`WARM`] unmeasured updates first (connections opened, pools filled), so the timed
//! section is the steady state; the fake's recorded calls stay few, which keeps its waiting
//! cheap. Setup and teardown are outside the timed section.
//!
//! Run: `cargo bench --bench telegram`. Under `cargo test --benches` each side runs once with a
//! few updates.

use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, SamplingMode, Throughput};
use rally::app::{App, SystemClock};
use rally::chat::batch::InboxMarks;
use rally::chat::handler::Incoming;
use rally::demo;
use rally::engine::partner::{PartnerKind, Platform, Role};
use rally::platforms::telegram::{Telegram, build_bot};
use rally::store::{Store, inbox, members, partners};
use teloxide::prelude::*;
use tokio::runtime::Runtime;
use tokio_util::sync::CancellationToken;

use rally_testkit::bench::{copy_db, estimates, quartiles, sqlite_url, test_mode};
use rally_testkit::telegram::{Call, FakeTelegram, UserRef};

/// Updates per measured iteration.
const UPDATES: u64 = 200;
/// Unmeasured updates before each iteration's timed section.
const WARM: u64 = 5;
/// Updates per iteration under `cargo test --benches`.
const TEST_UPDATES: u64 = 10;
/// The Telegram user whose member belongs to the partner.
const PARTNER_USER: i64 = 2002;
/// Longest wait for an answer before the benchmark fails.
const WAIT: Duration = Duration::from_secs(60);
/// Interleaved rounds after criterion (one iteration of each side per round).
const PAIRED_ROUNDS: usize = 10;
/// Rounds of the store-work diagnostics.
const PARTS_ROUNDS: usize = 5;
/// The most updates one `getUpdates` answer carries (Telegram's and the fake's default limit).
const GET_UPDATES_LIMIT: usize = 100;

const GROUP: &str = "telegram";
const RALLY: &str = "rally_report";
const ECHO: &str = "echo";
/// Goal from the issue: Rally's rate / the echo bot's rate.
const GOAL_RATIO: f64 = 0.5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Rally,
    Echo,
}

/// A SQLite file with one partner whose member is Telegram user [`PARTNER_USER`] (role
/// partner), as `prepared_database` in `tests/telegram.rs` makes it.
async fn prepare_database(path: &Path) {
    let store = Store::connect(&sqlite_url(path)).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut tx = store.begin().await.expect("tx");
    let partner = partners::insert(
        &mut tx,
        &partners::NewPartner {
            name: "Bench Co".into(),
            kind: PartnerKind::Dealer,
            region: None,
            tier: None,
            potential_minor: None,
        },
        1,
    )
    .await
    .expect("partner")
    .expect("new partner");
    let member = members::upsert(
        &mut tx,
        Platform::Telegram,
        &PARTNER_USER.to_string(),
        "Zed",
        1,
    )
    .await
    .expect("member");
    members::set_role(&mut tx, member.id, Some(partner.id), Role::Partner)
        .await
        .expect("role");
    tx.commit().await.expect("commit");
    store.close().await;
}

/// One running bot and its fake server.
struct Running {
    fake: FakeTelegram,
    task: tokio::task::JoinHandle<()>,
    /// Rally: the poll loop's stop signal and the App (to count sales, close the pool).
    rally: Option<(CancellationToken, Arc<App>)>,
}

/// The App Rally runs: the demo program on a fresh copy of `template` at `work`.
async fn rally_app(template: &Path, work: &Path) -> Arc<App> {
    copy_db(template, work);
    let url = sqlite_url(work);
    let mut config = demo::config().expect("demo config is valid");
    config.database.url = url.clone();
    let store = Store::connect(&url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let mut app = App::new(store, Arc::new(config), Box::new(SystemClock)).expect("build app");
    app.bot_username = Some("RallyBot".into());
    Arc::new(app)
}

/// Rally's Telegram side on a fresh copy of `template` at `work`, polling a fresh fake.
async fn start_rally(template: &Path, work: &Path) -> Running {
    let fake = FakeTelegram::start("RallyBot").await;
    let app = rally_app(template, work).await;
    let bot = build_bot(fake.token(), &fake.url()).expect("bot");
    let tg = Telegram::new(bot, app.clone(), "RallyBot".into());
    let stop = CancellationToken::new();
    let task = tokio::spawn({
        let stop = stop.clone();
        async move { tg.poll(stop).await.expect("rally polls until stopped") }
    });
    Running {
        fake,
        task,
        rally: Some((stop, app)),
    }
}

/// The baseline: a teloxide dispatcher whose one endpoint echoes each text message.
async fn start_echo() -> Running {
    let fake = FakeTelegram::start("EchoBot").await;
    let bot = build_bot(fake.token(), &fake.url()).expect("bot");
    let handler = Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
        if let Some(text) = msg.text() {
            bot.send_message(msg.chat.id, text).await?;
        }
        Ok::<(), teloxide::RequestError>(())
    });
    let mut dispatcher = Dispatcher::builder(bot, handler).build();
    let task = tokio::spawn(async move { dispatcher.dispatch().await });
    Running {
        fake,
        task,
        rally: None,
    }
}

impl Running {
    async fn start(side: Side, template: &Path, work: &Path) -> Running {
        let running = match side {
            Side::Rally => start_rally(template, work).await,
            Side::Echo => start_echo().await,
        };
        // Ready when its first long poll is waiting.
        running
            .fake
            .wait_for_call("getUpdates", |c| c.status == 0, WAIT)
            .await
            .expect("the bot polls");
        running
    }

    async fn stop(self) {
        match self.rally {
            Some((stop, app)) => {
                stop.cancel();
                self.task.await.expect("poll task");
                app.store.close().await;
            }
            None => {
                self.task.abort();
                let _ = self.task.await;
            }
        }
        self.fake.shutdown().await;
    }

    /// Pushes `count` messages numbered from `first`, and waits for the answer to the last.
    async fn exchange(&self, first: u64, count: u64) {
        let user = UserRef::new(PARTNER_USER, "Zed");
        for n in first..first + count {
            self.fake.push_update(FakeTelegram::text_message(
                user.private_chat(),
                user.clone(),
                &report_text(n),
            ));
        }
        let marker = customer(first + count - 1);
        self.fake
            .wait_for_call("sendMessage", |c| text_of(c).contains(&marker), WAIT)
            .await
            .unwrap_or_else(|| panic!("no answer to message {marker} within {WAIT:?}"));
    }
}

/// The customer of message `n`; fixed width, so no customer's name contains another's.
fn customer(n: u64) -> String {
    format!("C{n:08}")
}

fn report_text(n: u64) -> String {
    format!("/report 1200 {}", customer(n))
}

fn text_of(call: &Call) -> &str {
    call.params["text"].as_str().unwrap_or_default()
}

/// Every message from `first` on got exactly one answer, in order, and the right one.
fn check_answers(side: Side, running: &Running, first: u64, count: u64) {
    let sent = running.fake.calls_to("sendMessage");
    assert_eq!(
        sent.len() as u64,
        WARM + count,
        "{side:?}: one sendMessage per message"
    );
    for (call, n) in sent[sent.len() - count as usize..].iter().zip(first..) {
        assert_eq!(call.params["chat_id"], serde_json::json!(PARTNER_USER));
        let text = text_of(call);
        match side {
            Side::Echo => assert_eq!(text, report_text(n), "echo answers with the text"),
            Side::Rally => assert!(
                text.contains("recorded and approved") && text.contains(&customer(n)),
                "rally approves report {n}: {text:?}"
            ),
        }
    }
}

/// One iteration: a fresh bot, [`WARM`] unmeasured messages, then `count` timed ones.
async fn iteration(
    side: Side,
    template: &Path,
    work: &Path,
    next: &Cell<u64>,
    count: u64,
) -> Duration {
    let running = Running::start(side, template, work).await;
    let warm = next.get();
    running.exchange(warm, WARM).await;
    let first = warm + WARM;
    next.set(first + count);
    let start = Instant::now();
    running.exchange(first, count).await;
    let elapsed = start.elapsed();
    check_answers(side, &running, first, count);
    if let Some((_, app)) = &running.rally {
        // Rally answers after the sale is committed; every report is one sale.
        let sales: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sales")
            .fetch_one(app.store.pool())
            .await
            .expect("count sales");
        assert_eq!(sales as u64, WARM + count, "one sale per /report");
    }
    running.stop().await;
    elapsed
}

/// Where Rally's time per update goes (diagnostics): the store work `Telegram::poll` does for
/// each update, without Telegram, HTTP or teloxide, on a fresh copy of the database: storing the
/// updates in the inbox (one transaction per `getUpdates` batch of at most 100, as
/// `Telegram::accept_all`), handling them with group commit (`App::handle_batch` per batch of
/// 100, marking them processed in the same transaction, as `Telegram::process_pending` does)
/// and marking them answered (one statement per batch, as the answer sender does when it keeps
/// up). For comparison, the path before group commit: `App::handle` per update plus its own
/// processed mark. Seconds per update.
#[derive(Clone, Copy, Default)]
struct Parts {
    inbox_store: f64,
    handle_batch: f64,
    mark_answered: f64,
    /// Before group commit: `App::handle` alone, then the mark, per update.
    one_by_one: f64,
}

async fn parts(template: &Path, work: &Path, next: &Cell<u64>, count: u64) -> Parts {
    let app = rally_app(template, work).await;
    let user = UserRef::new(PARTNER_USER, "Zed");
    let first = next.get();
    next.set(first + count);
    let numbers: Vec<u64> = (first..first + count).collect();
    let payloads: Vec<String> = numbers
        .iter()
        .map(|&n| {
            let mut update =
                FakeTelegram::text_message(user.private_chat(), user.clone(), &report_text(n));
            update["update_id"] = serde_json::json!(n);
            update.to_string()
        })
        .collect();
    let incoming: Vec<Incoming> = numbers
        .iter()
        .map(|&n| Incoming {
            platform: Platform::Telegram,
            chat_id: PARTNER_USER.to_string(),
            private_chat: true,
            sender_id: PARTNER_USER.to_string(),
            sender_name: "Zed".to_string(),
            message_id: n.to_string(),
            text: report_text(n),
            locale: None,
            attachments: Vec::new(),
            username: None,
            reply_to: None,
            pressed_message: None,
        })
        .collect();
    let per_update = |d: Duration| d.as_secs_f64() / count as f64;
    let mut out = Parts::default();

    // Like `Telegram::accept_all`: one transaction per `getUpdates` batch (at most 100).
    let start = Instant::now();
    for batch in numbers
        .iter()
        .zip(&payloads)
        .collect::<Vec<_>>()
        .chunks(GET_UPDATES_LIMIT)
    {
        let mut tx = app.store.begin().await.expect("begin");
        for (n, payload) in batch {
            let id = i64::try_from(**n).expect("fits");
            assert!(
                inbox::store(&mut tx, "telegram", id, payload, app.now())
                    .await
                    .expect("inbox store")
            );
        }
        tx.commit().await.expect("commit");
    }
    out.inbox_store = per_update(start.elapsed());

    let ids: Vec<i64> = numbers
        .iter()
        .map(|&n| i64::try_from(n).expect("fits"))
        .collect();
    let half = incoming.len() / 2;
    let start = Instant::now();
    let mut outcomes = Vec::with_capacity(incoming.len());
    for (messages, ids) in incoming[..half]
        .chunks(GET_UPDATES_LIMIT)
        .zip(ids[..half].chunks(GET_UPDATES_LIMIT))
    {
        let marks = InboxMarks {
            platform: "telegram",
            update_ids: ids,
        };
        outcomes.extend(app.handle_batch(messages, Some(marks)).await);
    }
    out.handle_batch = start.elapsed().as_secs_f64() / half as f64;
    let start = Instant::now();
    for ids in ids[..half].chunks(GET_UPDATES_LIMIT) {
        let mut conn = app.store.read().await.expect("connection");
        inbox::mark_answered(&mut conn, "telegram", ids, app.now())
            .await
            .expect("mark answered");
    }
    out.mark_answered = start.elapsed().as_secs_f64() / half as f64;

    let rest = incoming.len() - half;
    let start = Instant::now();
    for (message, &id) in incoming[half..].iter().zip(&ids[half..]) {
        outcomes.push(app.handle(message).await);
        let mut conn = app.store.read().await.expect("connection");
        inbox::mark_processed(&mut conn, "telegram", id, app.now())
            .await
            .expect("mark processed");
    }
    out.one_by_one = start.elapsed().as_secs_f64() / rest.max(1) as f64;
    for outcome in &outcomes {
        assert!(
            outcome
                .replies
                .first()
                .and_then(|r| r.lines.first())
                .is_some_and(|m| m.key == "report-approved"),
            "{outcome:?}"
        );
    }
    app.store.close().await;
    out
}

/// What the run measured outside criterion.
struct Extra {
    /// Per interleaved round: (rally, echo) seconds per iteration.
    paired: Vec<(f64, f64)>,
    parts: Vec<Parts>,
}

fn bench_telegram(c: &mut Criterion) -> Extra {
    let count = if test_mode() { TEST_UPDATES } else { UPDATES };
    let rt = Runtime::new().expect("tokio runtime");
    let temp = tempfile::tempdir().expect("temporary directory");
    let template = temp.path().join("template.db");
    let work = temp.path().join("rally.db");
    rt.block_on(prepare_database(&template));
    let next = Cell::new(1_u64);

    let mut group = c.benchmark_group(GROUP);
    group.throughput(Throughput::Elements(count));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(300));
    group.measurement_time(Duration::from_secs(6));
    for (name, side) in [(RALLY, Side::Rally), (ECHO, Side::Echo)] {
        group.bench_function(name, |b| {
            b.to_async(&rt).iter_custom(|iters| {
                let (template, work, next) = (&template, &work, &next);
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        total += iteration(side, template, work, next, count).await;
                    }
                    total
                }
            });
        });
    }
    group.finish();

    // Interleaved: per round one iteration of each side, the order alternating.
    let rounds = if test_mode() { 1 } else { PAIRED_ROUNDS };
    let paired = rt.block_on(async {
        let mut out = Vec::new();
        for round in 0..rounds {
            let order = if round % 2 == 0 {
                [Side::Rally, Side::Echo]
            } else {
                [Side::Echo, Side::Rally]
            };
            let mut times = [0.0; 2];
            for side in order {
                let t = iteration(side, &template, &work, &next, count).await;
                times[usize::from(side == Side::Echo)] = t.as_secs_f64();
            }
            out.push((times[0], times[1]));
        }
        out
    });
    let parts = rt.block_on(async {
        let mut out = Vec::new();
        for _ in 0..rounds.min(PARTS_ROUNDS) {
            out.push(parts(&template, &work, &next, count).await);
        }
        out
    });
    Extra { paired, parts }
}

fn print_summary(since: SystemTime, extra: &Extra) {
    let count = if test_mode() { TEST_UPDATES } else { UPDATES } as f64;
    println!("\nTelegram /report summary (this run, {count} updates per iteration):");
    let paired = &extra.paired;
    if !extra.parts.is_empty() {
        let median = |f: fn(&Parts) -> f64| {
            quartiles(&extra.parts.iter().map(f).collect::<Vec<_>>()).0 * 1e6
        };
        let (store, handle, mark, one_by_one) = (
            median(|p| p.inbox_store),
            median(|p| p.handle_batch),
            median(|p| p.mark_answered),
            median(|p| p.one_by_one),
        );
        println!(
            "  rally's store work per update, without Telegram (median of {} rounds of {count}): \
             inbox store (batches of {GET_UPDATES_LIMIT}) {store:.0} µs + App::handle_batch with \
             the processed mark {handle:.0} µs + answered mark {mark:.0} µs = {:.0} µs (before \
             group commit: App::handle + processed mark {one_by_one:.0} µs)",
            extra.parts.len(),
            store + handle + mark
        );
    }
    if !paired.is_empty() {
        let rally: Vec<f64> = paired.iter().map(|(r, _)| count / r).collect();
        let echo: Vec<f64> = paired.iter().map(|(_, e)| count / e).collect();
        let ratios: Vec<f64> = paired.iter().map(|(r, e)| e / r).collect();
        let (ratio, low, high) = quartiles(&ratios);
        println!(
            "  interleaved, {} rounds: rally median {:.0} updates/s, echo median {:.0} \
             updates/s; rally/echo per round: median {ratio:.3} (quartiles {low:.3} – {high:.3})",
            paired.len(),
            quartiles(&rally).0,
            quartiles(&echo).0
        );
    }
    let (Some(rally), Some(echo)) = (
        estimates(GROUP, RALLY, since),
        estimates(GROUP, ECHO, since),
    ) else {
        println!(
            "  (no criterion ratio: run both benchmarks in one `cargo bench --bench telegram`)"
        );
        return;
    };
    for (name, (mean, median)) in [(RALLY, rally), (ECHO, echo)] {
        println!(
            "  telegram/{name:<13} mean {:>7.1} ms ({:>6.0} updates/s)   median {:>7.1} ms \
             ({:>6.0} updates/s, {:>6.0} µs per update)",
            mean / 1e6,
            count * 1e9 / mean,
            median / 1e6,
            count * 1e9 / median,
            median / 1e3 / count
        );
    }
    // Rates are inverse times: rally rate / echo rate = echo time / rally time.
    let (mean_ratio, median_ratio) = (echo.0 / rally.0, echo.1 / rally.1);
    println!(
        "  ratio rally/echo (updates/s): mean {mean_ratio:.3}, median {median_ratio:.3} (goal >= \
         {GOAL_RATIO}): {}",
        if mean_ratio >= GOAL_RATIO && median_ratio >= GOAL_RATIO {
            "met"
        } else {
            "MISSED"
        }
    );
}

fn main() {
    let started = SystemTime::now();
    // No plots: Rally's charts build plotters with `ab_glyph` fonts, under which criterion's
    // plots find no font; the estimates (and the summary read from them) are unaffected.
    let mut c = Criterion::default().configure_from_args().without_plots();
    let extra = bench_telegram(&mut c);
    c.final_summary();
    print_summary(started, &extra);
}
