//! Every metric `GET /metrics` documents appears, prefixed `rally_`, after the traffic that
//! moves it: HTTP requests, chat messages and commands, the outbox (queued, sent, refused, a 429
//! and its wait), a scheduled job run, sales reported and approved, the database pool, a TV
//! stream. One test in its own process: the metrics recorder is global to a process.

use std::sync::Arc;
use std::time::Duration;

use rally::app::App;
use rally::config::{AudienceFilter, JobConfig};
use rally::engine::partner::{PartnerKind, Platform, Role};
use rally::engine::schedule::{JobAction, Recipients};
use rally::outbox::{Sender, SenderSettings};
use rally::platforms::http::{self, HttpState};
use rally::platforms::telegram::{Telegram, TelegramTransport, build_bot};
use rally::scheduler::Scheduler;
use rally::store::members;
use rally::store::partners::{self, NewPartner};
use rally::telemetry;
use rally_testkit::telegram::{self as fake_telegram, FakeTelegram};
use rally_testkit::{TestClock, TestDb, say, test_config};
use tokio_util::sync::CancellationToken;

#[tokio::test]
async fn every_metric_appears_after_traffic() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let mut config = test_config(&db.url);
    config.jobs.run = vec![JobConfig {
        name: "minutely".into(),
        schedule: "0 * * * * *".parse().expect("cron"),
        action: JobAction::Announce,
        text: Some("hello".into()),
        filters: AudienceFilter::default(),
        to: Recipients::Members,
    }];
    let app = Arc::new(
        App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone())).expect("app"),
    );
    let stop = CancellationToken::new();
    let state = HttpState::new(app.clone(), stop.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(http::serve_on(
        listener,
        http::router(state, []),
        stop.clone(),
    ));

    // Chat: a command, a refused one, a non-command; a sale reported in the chat.
    say(&app, "guest", 1, "/help").await;
    say(&app, "guest", 2, "/approve 1").await;
    say(&app, "guest", 3, "hello").await;
    // Two Telegram members the job announces to; the fake refuses one and rate-limits once.
    let mut tx = app.store.begin().await.expect("begin");
    for user in ["601", "602"] {
        let m = members::upsert(&mut tx, Platform::Telegram, user, user, 0)
            .await
            .expect("member");
        members::set_role(&mut tx, m.id, None, Role::Manager)
            .await
            .expect("role");
    }
    let acme = NewPartner {
        name: "ACME".into(),
        kind: PartnerKind::Dealer,
        region: None,
        tier: None,
        potential_minor: None,
    };
    partners::insert(&mut tx, &acme, 0).await.expect("partner");
    tx.commit().await.expect("commit");
    let scheduler = Scheduler::new(app.clone());
    assert_eq!(scheduler.tick().await.expect("tick"), 0);
    clock.advance_ms(61_000);
    assert_eq!(scheduler.tick().await.expect("tick"), 1, "the job ran");
    let fake = FakeTelegram::start("RallyBot").await;
    fake.fail_next(
        "sendMessage",
        fake_telegram::Failure::TooManyRequests { retry_after: 1 },
    );
    fake.fail_next("sendMessage", fake_telegram::Failure::Forbidden);
    let bot = build_bot(fake.token(), &fake.url()).expect("bot");
    let tg = Telegram::new(bot, app.clone(), fake.bot_username());
    let mut settings = SenderSettings::telegram(&Default::default());
    settings.idle_poll = Duration::from_millis(100);
    tokio::spawn(
        Sender::new(app.clone(), Arc::new(TelegramTransport(tg)), settings).run(stop.clone()),
    );
    // The sender waits out the 429 on the app's clock: let it run.
    let ticking = clock.clone();
    let ticker = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            ticking.advance_ms(50);
        }
    });
    fake.wait_for_call("sendMessage", |c| c.status == 200, Duration::from_secs(15))
        .await
        .expect("one notice delivered");
    ticker.abort();

    // HTTP and a TV stream; an API sale.
    let key = rally::features::api_keys::create(
        &app,
        "all",
        &[
            rally::features::api_keys::Scope::SalesWrite,
            rally::features::api_keys::Scope::Tv,
        ],
    )
    .await
    .expect("key")
    .secret;
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let sale = client
        .post(format!("{base}/api/v1/sales"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(r#"{"partner": "ACME", "amount": "10.00", "date": "2026-11-10", "customer": "X"}"#)
        .send()
        .await
        .expect("sale");
    assert_eq!(sale.status(), reqwest::StatusCode::CREATED);
    let mut stream = client
        .get(format!("{base}/tv?token={key}"))
        .header("Accept", "text/event-stream")
        .send()
        .await
        .expect("tv stream");
    let _ = stream.chunk().await;

    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    for name in telemetry::ALL {
        assert!(
            text.lines()
                .any(|l| l.starts_with(name) && !l.starts_with('#')),
            "{name} missing from:\n{text}"
        );
    }
    for expected in [
        "rally_updates_received_total{platform=\"console\"} 3",
        "rally_commands_total{command=\"help\",outcome=\"ok\"} 1",
        "rally_commands_total{command=\"approve\",outcome=\"refused\"} 1",
        "rally_job_runs_total{job=\"minutely\",outcome=\"done\"} 1",
        "rally_outbox_queued_total{platform=\"telegram\"} 2",
        "rally_outbox_rate_limited_total{platform=\"telegram\"} 1",
        "rally_outbox_failed_total{platform=\"telegram\"} 1",
        "rally_outbox_sent_total{platform=\"telegram\"} 1",
        "rally_tv_streams 1",
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        assert!(line.starts_with("rally_"), "{line}");
    }
    drop(stream);
    stop.cancel();
}
