//! Points and badges end to end, on SQLite and PostgreSQL: approved sales earn points once (a
//! redelivered report or a second approval adds nothing, a sale taken back is taken back), a
//! contest's end awarding its podium once however often the job runs, a training completed
//! twice counting once, `/rank points` and `/me`, and badges granted once and announced.

use std::sync::Arc;

use rally::app::App;
use rally::engine::ids::PartnerId;
use rally::engine::partner::Platform;
use rally::store::jobs::{ProgramChat, bind_chat};
use rally::store::{members, points};
use rally_testkit::{TestClock, TestDb, first_int_arg, keys, say, test_config, text};

rally_testkit::on_both_backends!(
    approved_sales_earn_points_once,
    a_contest_podium_is_awarded_once_however_often_the_job_runs,
    a_training_completion_counts_once,
    rank_points_and_me_show_points_and_badges,
    badges_are_granted_once_and_announced,
);

async fn seeded(db: &TestDb, clock: &TestClock) -> App {
    let app = rally_testkit::app(db, clock);
    rally::demo::seed(&app).await.expect("seed");
    app
}

async fn partner_of(app: &App, handle: &str) -> PartnerId {
    let mut conn = app.store.read().await.expect("conn");
    members::find(&mut conn, Platform::Console, handle)
        .await
        .expect("find")
        .and_then(|m| m.partner_id)
        .expect("partner")
}

async fn points_of(app: &App, partner: PartnerId) -> i64 {
    let mut conn = app.store.read().await.expect("conn");
    points::total(&mut conn, partner).await.expect("total")
}

async fn count(app: &App, sql: &'static str) -> i64 {
    use sqlx::Row;
    let mut conn = app.store.read().await.expect("conn");
    sqlx::query(sql)
        .fetch_one(&mut *conn)
        .await
        .expect("count")
        .get::<i64, _>(0)
}

async fn approved_sales_earn_points_once(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    let wang = partner_of(&app, "wang").await;
    let before = points_of(&app, wang).await;

    // 4,500 is approved on arrival: 4 points (one per 1,000); the same message again adds none.
    let report = say(&app, "wang", 1, "/report 4500 ACME").await;
    assert_eq!(keys(&report)[0], "report-approved");
    assert_eq!(points_of(&app, wang).await, before + 4);
    let _ = say(&app, "wang", 1, "/report 4500 ACME").await;
    assert_eq!(points_of(&app, wang).await, before + 4);

    // 12,000 waits for a manager: points when approved, once.
    let pending = say(&app, "wang", 2, "/report 12000 Globex").await;
    assert_eq!(keys(&pending)[0], "report-pending");
    let sale = first_int_arg(&pending, "sale");
    assert_eq!(points_of(&app, wang).await, before + 4);
    let approved = say(&app, "manager", 3, &format!("/approve {sale}")).await;
    assert_eq!(keys(&approved)[0], "sale-approved");
    assert_eq!(points_of(&app, wang).await, before + 16);
    let again = say(&app, "manager", 4, &format!("/approve {sale}")).await;
    assert_eq!(keys(&again), ["sale-already-decided"]);
    assert_eq!(points_of(&app, wang).await, before + 16);
    let again = say(&app, "manager", 3, &format!("/approve {sale}")).await;
    assert_eq!(
        keys(&again)[0],
        "sale-approved",
        "a redelivery gets the stored answer"
    );
    assert_eq!(points_of(&app, wang).await, before + 16);

    // Small sales earn nothing and leave no row.
    let rows = count(&app, "SELECT COUNT(*) FROM points").await;
    let _ = say(&app, "wang", 5, "/report 300 ACME").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM points").await, rows);
}

async fn a_contest_podium_is_awarded_once_however_often_the_job_runs(db: &TestDb) {
    let clock = TestClock::new();
    let today = chrono::DateTime::from_timestamp_millis(rally::app::Clock::now_ms(&clock))
        .expect("now")
        .date_naive();
    let mut config = test_config(&db.url);
    config.contests = rally::demo::config_with_contests(today)
        .expect("config")
        .contests;
    let app = App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone())).expect("app");
    rally::demo::seed(&app).await.expect("seed");
    rally::demo::seed_contests(&app).await.expect("contests");
    let podium = "SELECT COUNT(*) FROM points WHERE source_kind = 'podium'";
    assert_eq!(count(&app, podium).await, 3, "the summer sprint's podium");
    let totals = count(&app, "SELECT CAST(SUM(points) AS BIGINT) FROM point_totals").await;
    // The end job again (another instance, a restart): nothing more.
    rally::demo::seed_contests(&app)
        .await
        .expect("contests again");
    rally::features::contests::service::run_due(&app, "other")
        .await
        .expect("run");
    assert_eq!(count(&app, podium).await, 3);
    assert_eq!(
        count(&app, "SELECT CAST(SUM(points) AS BIGINT) FROM point_totals").await,
        totals
    );
    let badge = "SELECT COUNT(*) FROM badges WHERE badge = 'podium'";
    assert_eq!(count(&app, badge).await, 3);
}

async fn a_training_completion_counts_once(db: &TestDb) {
    use rally::engine::training::{Eligibility, Level, Training};
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    let li = partner_of(&app, "li").await;
    let member = {
        let mut conn = app.store.read().await.expect("conn");
        members::find(&mut conn, Platform::Console, "li")
            .await
            .expect("find")
            .expect("li")
    };
    let now = app.now();
    let training = Training {
        id: "t-1".into(),
        title: "Course".into(),
        level: Level::Basic,
        starts_at: now - 7_200_000,
        ends_at: now - 3_600_000,
        capacity: 5,
        enrolled: 0,
        link: None,
        place: None,
        eligible: Eligibility::default(),
        certification: Some("sales-basics".into()),
        reminders: vec![],
        quiz: None,
        checkin_code: "ABC123".into(),
        finished_at: None,
    };
    let before = points_of(&app, li).await;
    let mut tx = app.store.begin().await.expect("tx");
    rally::store::trainings::save(
        &mut tx,
        &training,
        rally::store::trainings::Source::Demo,
        now,
    )
    .await
    .expect("save");
    rally::store::trainings::enroll(&mut tx, "t-1", member.id, now)
        .await
        .expect("enroll");
    let first =
        rally::features::training::service::complete(&app, &mut tx, &training, member.id, now)
            .await
            .expect("complete");
    assert!(first.is_some());
    let second =
        rally::features::training::service::complete(&app, &mut tx, &training, member.id, now)
            .await
            .expect("complete");
    assert!(second.is_none());
    tx.commit().await.expect("commit");
    assert_eq!(points_of(&app, li).await, before + 30);
    let mut conn = app.store.read().await.expect("conn");
    let held = points::badges(&mut conn, li).await.expect("badges");
    assert!(held.contains(&"certified".to_string()), "{held:?}");
}

async fn rank_points_and_me_show_points_and_badges(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    let board = say(&app, "li", 1, "/rank points").await;
    let k = keys(&board);
    assert_eq!(k[0], "points-rank-header");
    assert!(k.contains(&"points-rank-me".to_string()), "{k:?}");
    let shown = text(&app, &board);
    let wang = points_of(&app, partner_of(&app, "wang").await).await;
    assert!(shown.contains(&format!("王氏电子 — {wang}")), "{shown}");
    // Case and the bot's address do not matter; a quoted "points" is a contest's name.
    let upper = say(&app, "li", 2, "/RANK POINTS").await;
    assert_eq!(keys(&upper)[0], "points-rank-header");
    let quoted = say(&app, "li", 3, "/rank \"points\"").await;
    assert_ne!(keys(&quoted)[0], "points-rank-header");

    let me = say(&app, "wang", 4, "/me").await;
    assert!(keys(&me).contains(&"me-points".to_string()));
    let me = text(&app, &me);
    assert!(me.contains(&format!("Points: {wang}")), "{me}");
    assert!(me.contains("First sale") && me.contains("10 deals"), "{me}");
}

async fn badges_are_granted_once_and_announced(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    let mut conn = app.store.begin().await.expect("tx");
    bind_chat(
        &mut conn,
        &ProgramChat {
            platform: "telegram".into(),
            chat_id: "-100".into(),
            region: None,
        },
        None,
        app.now(),
    )
    .await
    .expect("bind");
    conn.commit().await.expect("commit");

    // A new partner's first approved sale: the first-sale badge, announced once.
    let invite = say(&app, "manager", 1, "/invite \"Newco Trading\" dealer East").await;
    let code = rally_testkit::first_text_arg(&invite, "code");
    let _ = say(&app, "newbie", 2, &format!("/start {code}")).await;
    let _ = say(&app, "newbie", 3, "/report 1200 ACME").await;
    let _ = say(&app, "newbie", 4, "/report 1300 ACME").await;
    let newco = partner_of(&app, "newbie").await;
    let mut conn = app.store.read().await.expect("conn");
    let held = points::badges(&mut conn, newco).await.expect("badges");
    assert_eq!(held, ["first-sale"]);
    drop(conn);
    let posts = count(
        &app,
        "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'badge:%first-sale:chat:telegram:-100'",
    )
    .await;
    // The demo's own partners earned theirs while seeding, before the chat was bound.
    assert_eq!(posts, 1);
}
