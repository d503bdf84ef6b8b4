//! Training in chat, end to end through the handler and the scheduler's round, on SQLite and
//! on PostgreSQL: enrollment with a waitlist (and the last seat raced for), check-in and rating
//! windows, reminders once per (training, offset) across a restart, the end of a session
//! completing attendees, granting the certification and raising the tier once, and the quiz.

use std::sync::Arc;

use chrono::NaiveDateTime;
use rally::app::App;
use rally::config::TrainingConfig;
use rally::engine::partner::Platform;
use rally::engine::training::{Eligibility, EnrollmentStatus, Level, Question, Quiz};
use rally::features::training::service;
use rally::store::{members, partners, trainings};
use rally_testkit::{TestClock, TestDb, keys, say, test_config};

const HOUR: i64 = 3_600_000;
const MIN: i64 = 60_000;

rally_testkit::on_both_backends!(
    enroll_waitlist_and_promotion,
    two_members_race_for_the_last_seat,
    checkin_and_rating_windows,
    reminders_go_out_once_across_a_restart,
    the_end_of_a_session_certifies_and_raises_the_tier_once,
    the_quiz_is_answered_one_question_at_a_time,
    the_report_compares_attendees_with_the_others,
);

/// The test clock's now (2026-11-15 10:00 UTC) plus `hours`, as a wall-clock time in the demo's
/// time zone.
fn wall_in(clock: &TestClock, app_tz: chrono_tz::Tz, hours: i64) -> NaiveDateTime {
    let at = rally::app::Clock::now_ms(clock) + hours * HOUR;
    chrono::DateTime::from_timestamp_millis(at)
        .expect("instant")
        .with_timezone(&app_tz)
        .naive_local()
}

fn training(id: &str, start: NaiveDateTime, capacity: u32) -> TrainingConfig {
    TrainingConfig {
        id: id.into(),
        title: format!("Course {id}"),
        level: Level::Basic,
        start,
        duration_minutes: 90,
        capacity,
        link: Some("https://meet.example.com/abc".into()),
        place: None,
        eligible: Eligibility::default(),
        certification: Some("sales-basics".into()),
        reminders: vec![1_440, 60],
        quiz: None,
    }
}

/// The demo program with `trainings` configured and synced.
async fn app_with(db: &TestDb, clock: &TestClock, trainings: Vec<TrainingConfig>) -> App {
    let mut config = test_config(&db.url);
    config.trainings = trainings;
    let app = App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone())).expect("app");
    rally::demo::seed(&app).await.expect("seed");
    service::sync_config(&app).await.expect("sync");
    app
}

async fn status_of(app: &App, training: &str, who: &str) -> Option<EnrollmentStatus> {
    let mut conn = app.store.read().await.expect("conn");
    let member = members::find(&mut conn, Platform::Console, who)
        .await
        .expect("find")
        .expect("member");
    trainings::enrollment(&mut conn, training, member.id)
        .await
        .expect("enrollment")
        .map(|e| e.status)
}

async fn code_of(app: &App, training: &str) -> String {
    let mut conn = app.store.read().await.expect("conn");
    trainings::get(&mut conn, training)
        .await
        .expect("get")
        .expect("training")
        .checkin_code
}

async fn enroll_waitlist_and_promotion(db: &TestDb) {
    let clock = TestClock::new();
    let tz = test_config(&db.url).program.timezone;
    let app = app_with(
        db,
        &clock,
        vec![training("course-1", wall_in(&clock, tz, 48), 1)],
    )
    .await;

    let first = say(&app, "wang", 1, "/enroll course-1").await;
    assert_eq!(keys(&first), ["training-enrolled"]);
    let second = say(&app, "li", 2, "/enroll course COURSE-1").await;
    assert_eq!(keys(&second), ["training-waitlisted"]);
    let again = say(&app, "wang", 3, "/enroll course-1").await;
    assert_eq!(keys(&again), ["training-already-enrolled"]);
    let unknown = say(&app, "wang", 4, "/enroll cooking").await;
    assert_eq!(keys(&unknown), ["training-unknown"]);

    let listed = say(&app, "wang", 5, "/trainings").await;
    // The demo's trainings are listed too (wang completed the autumn one).
    let listed_text = rally_testkit::text(&app, &listed);
    assert!(
        listed_text.contains("course-1 · Course course-1"),
        "{listed_text}"
    );
    assert!(keys(&listed).contains(&"training-you-enrolled".to_string()));
    assert!(keys(&listed).contains(&"training-you-completed".to_string()));
    let managed = say(&app, "manager", 6, "/trainings").await;
    assert!(keys(&managed).contains(&"training-manager-line".to_string()));

    // Wang leaves: li gets the seat (and is told).
    let left = say(&app, "wang", 7, "/leave course-1").await;
    assert_eq!(keys(&left)[0], "training-left");
    assert_eq!(
        status_of(&app, "course-1", "li").await,
        Some(EnrollmentStatus::Enrolled)
    );
    assert_eq!(
        status_of(&app, "course-1", "wang").await,
        Some(EnrollmentStatus::Left)
    );
    let not_in = say(&app, "wang", 8, "/leave course-1").await;
    assert_eq!(keys(&not_in), ["training-not-enrolled"]);

    // Only eligible partners may enroll.
    let mut gold_only = training("gold-1", wall_in(&clock, tz, 48), 5);
    gold_only.eligible.tier = Some("Gold".into());
    let app = app_with(db, &clock, vec![gold_only]).await;
    let refused = say(&app, "li", 9, "/enroll gold-1").await;
    assert_eq!(keys(&refused), ["training-not-eligible"]);
    let admitted = say(&app, "wang", 10, "/enroll gold-1").await;
    assert_eq!(keys(&admitted), ["training-enrolled"]);
}

async fn two_members_race_for_the_last_seat(db: &TestDb) {
    let clock = TestClock::new();
    let tz = test_config(&db.url).program.timezone;
    let app = app_with(
        db,
        &clock,
        vec![training("last-seat", wall_in(&clock, tz, 48), 1)],
    )
    .await;
    let (a, b) = tokio::join!(
        say(&app, "alice", 1, "/enroll last-seat"),
        say(&app, "bob", 2, "/enroll last-seat"),
    );
    let mut outcomes = vec![keys(&a)[0].clone(), keys(&b)[0].clone()];
    outcomes.sort();
    assert_eq!(outcomes, ["training-enrolled", "training-waitlisted"]);
    let mut conn = app.store.read().await.expect("conn");
    let stored = trainings::get(&mut conn, "last-seat")
        .await
        .expect("get")
        .expect("training");
    assert_eq!(stored.enrolled, 1, "one seat taken, never two");
}

async fn checkin_and_rating_windows(db: &TestDb) {
    let clock = TestClock::new();
    let tz = test_config(&db.url).program.timezone;
    let app = app_with(
        db,
        &clock,
        vec![training("course-1", wall_in(&clock, tz, 2), 10)],
    )
    .await;
    say(&app, "wang", 1, "/enroll course-1").await;
    say(&app, "li", 2, "/enroll course-1").await;
    let code = code_of(&app, "course-1").await;
    assert_eq!(code.len(), 6);

    let wrong = say(&app, "wang", 3, "/checkin ZZZZZZ").await;
    assert_eq!(keys(&wrong), ["training-checkin-unknown"]);
    // 16 minutes before the start: too early; 15: open.
    clock.advance_ms(2 * HOUR - 16 * MIN);
    let early = say(&app, "wang", 4, &format!("/checkin {code}")).await;
    assert_eq!(keys(&early), ["training-checkin-early"]);
    clock.advance_ms(MIN);
    let ok = say(
        &app,
        "wang",
        5,
        &format!("/checkin {}", code.to_lowercase()),
    )
    .await;
    assert_eq!(keys(&ok), ["training-checkin-ok"]);
    let again = say(&app, "wang", 6, &format!("/checkin {code}")).await;
    assert_eq!(keys(&again), ["training-checkin-again"]);
    let stranger = say(&app, "zhao", 7, &format!("/checkin {code}")).await;
    assert_eq!(keys(&stranger), ["training-not-enrolled"]);

    // Ratings: only after check-in, 1-5, once.
    let not_there = say(&app, "li", 8, "/rate course-1 4").await;
    assert_eq!(keys(&not_there), ["training-rate-not-attended"]);
    let six = say(&app, "wang", 9, "/rate course-1 6").await;
    assert_eq!(keys(&six), ["training-rate-stars"]);
    let rated = say(&app, "wang", 10, "/rate course-1 5 Very practical").await;
    assert_eq!(keys(&rated), ["training-rate-thanks"]);
    let twice = say(&app, "wang", 11, "/rate course-1 3").await;
    assert_eq!(keys(&twice), ["training-rate-again"]);

    // After the end (90 minutes): check-in is closed.
    clock.advance_ms(15 * MIN + 90 * MIN + 1);
    let late = say(&app, "li", 12, &format!("/checkin {code}")).await;
    assert_eq!(keys(&late), ["training-checkin-over"]);
}

async fn reminder_rows(db: &TestDb) -> Vec<String> {
    sqlx::query_as::<_, (String,)>(
        "SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE 'training:%:reminder:%' ORDER BY dedupe_key",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("rows")
    .into_iter()
    .map(|r| r.0)
    .collect()
}

/// Sends `text` from a Telegram private chat.
async fn on_telegram(app: &App, user: &str, id: u64, text: &str) -> rally::chat::handler::Outcome {
    app.handle(&rally::chat::handler::Incoming {
        platform: Platform::Telegram,
        chat_id: user.into(),
        private_chat: true,
        sender_id: user.into(),
        sender_name: user.into(),
        message_id: id.to_string(),
        text: text.into(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    })
    .await
}

async fn reminders_go_out_once_across_a_restart(db: &TestDb) {
    let clock = TestClock::new();
    let tz = test_config(&db.url).program.timezone;
    let configured = vec![training("course-1", wall_in(&clock, tz, 30), 10)];
    let app = app_with(db, &clock, configured.clone()).await;
    // Two Telegram members (console members are shown notices inline, never queued).
    for (n, user) in ["501", "502"].into_iter().enumerate() {
        let invite = say(
            &app,
            "manager",
            100 + n as u64,
            &format!("/invite \"Co {user}\""),
        )
        .await;
        let code = rally_testkit::first_text_arg(&invite, "code");
        on_telegram(&app, user, 1, &format!("/start {code}")).await;
        let enrolled = on_telegram(&app, user, 2, "/enroll course-1").await;
        assert_eq!(keys(&enrolled), ["training-enrolled"]);
    }

    service::tick(&app).await.expect("tick");
    assert!(reminder_rows(db).await.is_empty(), "30 h before: nothing");
    clock.advance_ms(6 * HOUR);
    service::tick(&app).await.expect("tick");
    service::tick(&app).await.expect("tick again");
    assert_eq!(reminder_rows(db).await.len(), 2, "24 h: one per member");

    // A restart (a new app on the same database) sends nothing twice.
    let restarted = app_with(db, &clock, configured).await;
    service::tick(&restarted).await.expect("tick");
    assert_eq!(reminder_rows(db).await.len(), 2);
    clock.advance_ms(23 * HOUR);
    service::tick(&restarted).await.expect("tick");
    service::tick(&app)
        .await
        .expect("tick on the other instance");
    let rows = reminder_rows(db).await;
    assert_eq!(rows.len(), 4, "1 h: one more per member: {rows:?}");
    assert_eq!(
        rows.iter().filter(|k| k.contains(":reminder:60:")).count(),
        2
    );
}

async fn the_end_of_a_session_certifies_and_raises_the_tier_once(db: &TestDb) {
    let clock = TestClock::new();
    let tz = test_config(&db.url).program.timezone;
    let app = app_with(
        db,
        &clock,
        vec![training("course-1", wall_in(&clock, tz, 1), 10)],
    )
    .await;
    // Enough trailing sales for Gold (400,000), which also needs `sales-basics`.
    say(&app, "li", 1, "/enroll course-1").await;
    let mut tx = app.store.begin().await.expect("tx");
    let li = partners::find_by_name(&mut tx, "李记商贸")
        .await
        .expect("find")
        .expect("li");
    tx.commit().await.expect("commit");
    let code = code_of(&app, "course-1").await;
    clock.advance_ms(HOUR);
    assert_eq!(
        keys(&say(&app, "li", 2, &format!("/checkin {code}")).await),
        ["training-checkin-ok"]
    );
    for n in 0..5 {
        say(&app, "li", 10 + n, &format!("/report 90000 Customer{n}")).await;
    }
    let pending: Vec<(i64,)> = sqlx::query_as("SELECT id FROM sales WHERE status = 'pending'")
        .fetch_all(db.store.pool())
        .await
        .expect("pending");
    for (n, (sale,)) in pending.iter().enumerate() {
        say(&app, "manager", 100 + n as u64, &format!("/approve {sale}")).await;
    }

    clock.advance_ms(90 * MIN + 1);
    service::tick(&app).await.expect("tick");
    service::tick(&app).await.expect("tick again");
    let mut conn = app.store.read().await.expect("conn");
    let certs = rally::store::incentives::certifications(&mut conn, li.id)
        .await
        .expect("certs");
    assert!(certs.contains("sales-basics"));
    let tier = partners::get(&mut conn, li.id)
        .await
        .expect("get")
        .expect("li")
        .tier;
    assert_eq!(tier.as_deref(), Some("Gold"));
    drop(conn);
    let me = say(&app, "li", 50, "/me").await;
    let card = rally_testkit::text(&app, &me);
    // li speaks Chinese.
    assert!(
        card.contains("认证：sales-basics · 已完成培训：1"),
        "{card}"
    );
    let completions: (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'training.complete'")
            .fetch_one(db.store.pool())
            .await
            .expect("count");
    assert_eq!(completions.0, 1);
    let promotions: (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM tier_events WHERE partner_id = $1 AND to_tier = 'Gold'",
    )
    .bind(li.id.0)
    .fetch_one(db.store.pool())
    .await
    .expect("count");
    assert_eq!(promotions.0, 1, "promoted exactly once");
    // The summary goes to the managers a day later, once.
    clock.advance_ms(25 * HOUR);
    service::tick(&app).await.expect("tick");
    service::tick(&app).await.expect("tick");
    let summary: (Option<i64>,) =
        sqlx::query_as("SELECT summary_sent_at FROM trainings WHERE id = 'course-1'")
            .fetch_one(db.store.pool())
            .await
            .expect("summary");
    assert!(summary.0.is_some(), "the managers' summary went out");
}

async fn the_quiz_is_answered_one_question_at_a_time(db: &TestDb) {
    let clock = TestClock::new();
    let tz = test_config(&db.url).program.timezone;
    let mut with_quiz = training("quiz-1", wall_in(&clock, tz, 1), 10);
    with_quiz.quiz = Some(Quiz {
        pass: 2,
        questions: vec![
            Question {
                q: "First?".into(),
                choices: vec!["a".into(), "b".into()],
                answer: 2,
            },
            Question {
                q: "Second?".into(),
                choices: vec!["a".into(), "b".into(), "c".into()],
                answer: 1,
            },
        ],
    });
    let app = app_with(db, &clock, vec![with_quiz]).await;
    say(&app, "li", 1, "/enroll quiz-1").await;
    let code = code_of(&app, "quiz-1").await;
    clock.advance_ms(HOUR);
    say(&app, "li", 2, &format!("/checkin {code}")).await;
    let early = say(&app, "li", 3, "/quiz quiz-1 1 2").await;
    assert_eq!(keys(&early), ["training-quiz-not-yet"]);
    clock.advance_ms(90 * MIN + 1);
    service::tick(&app).await.expect("tick");

    let first = say(&app, "li", 4, "/quiz quiz-1 1 2").await;
    assert_eq!(keys(&first), ["training-quiz-question"]);
    assert_eq!(first.replies[0].buttons.len(), 3, "one button per choice");
    // The first question's button pressed again changes nothing.
    let again = say(&app, "li", 5, "/quiz quiz-1 1 1").await;
    assert_eq!(keys(&again), ["training-quiz-old"]);
    let bad = say(&app, "li", 6, "/quiz quiz-1 2 4").await;
    assert_eq!(keys(&bad), ["training-quiz-choice"]);
    let last = say(&app, "li", 7, "/quiz quiz-1 2 1").await;
    assert_eq!(
        keys(&last),
        [
            "training-quiz-passed",
            "training-completed",
            "training-certified"
        ]
    );
    let after = say(&app, "li", 8, "/quiz quiz-1 2 1").await;
    assert_eq!(keys(&after), ["training-quiz-old"]);
}

/// The demo's autumn session: four attendees' partners against the eligible rest; managers
/// only; an unknown training named.
async fn the_report_compares_attendees_with_the_others(db: &TestDb) {
    let clock = TestClock::new();
    let app = app_with(db, &clock, Vec::new()).await;
    let report = say(&app, "manager", 1, "/trainingreport basics-0").await;
    assert_eq!(
        keys(&report),
        [
            "training-report",
            "training-report-difference",
            // Twelve days after the session the 30-day "after" window is still running.
            "training-report-partial",
            "training-report-caution"
        ]
    );
    let text = rally_testkit::text(&app, &report);
    assert!(text.contains("attended (4)"), "{text}");
    assert!(text.contains("did not attend (8)"), "{text}");
    let partner = say(&app, "wang", 2, "/trainingreport basics-0").await;
    assert_eq!(keys(&partner), ["error-forbidden"]);
    let unknown = say(&app, "manager", 3, "/trainingreport nope").await;
    assert_eq!(keys(&unknown), ["training-report-unknown"]);
}
