//! The incentive engine through the service layer and the chat handler, on SQLite (and the
//! locking flow on PostgreSQL too): statements, explanations, what-if, closing periods and the
//! corrections of locked ones, exports, tiers, allocation, disputes and feedback.

use rally::engine::money::{Currency, Money};
use rally::engine::partner::Platform;
use rally::engine::period::Period;
use rally::engine::sale::{SaleSource, SaleStatus};
use rally::features::sales::ledger;
use rally::features::statements::service::{StatementError, export_csv, export_json};
use rally::store::partners;
use rally::store::sales::NewSale;
use rally_testkit::{TestClock, TestDb, app, first_int_arg, keys, say, text};

async fn demo(db: &TestDb, clock: &TestClock) -> rally::app::App {
    let app = app(db, clock);
    assert!(rally::demo::seed(&app).await.expect("seed"));
    app
}

fn period(key: &str) -> Period {
    Period::parse(key).expect("period")
}

#[tokio::test]
async fn statement_lines_are_explained_and_sum_to_the_total() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = demo(&db, &clock).await;
    let outcome = say(&app, "wang", 1, "/statement").await;
    let k = keys(&outcome);
    assert_eq!(k.first().map(String::as_str), Some("statement-header"));
    assert_eq!(k.last().map(String::as_str), Some("statement-total"));
    assert!(k.iter().any(|k| k.starts_with("line-commission")), "{k:?}");

    let mut conn = db.store.read().await.expect("conn");
    let wang = partners::find_by_name(&mut conn, "王氏电子")
        .await
        .expect("find")
        .expect("wang");
    let doc =
        rally::features::statements::service::statement(&app, &mut conn, &wang, period("2026-11"))
            .await
            .expect("statement");
    let sum: i64 = doc.lines.iter().map(|l| l.amount_minor).sum();
    assert_eq!(
        sum, doc.total_minor,
        "the total is the sum of the rounded lines"
    );
    assert_eq!(doc.plan.as_deref(), Some("standard v1"));
    assert!(!doc.locked);

    let why = text(&app, &say(&app, "wang", 2, "/why 1").await);
    assert!(why.contains("3% commission"), "{why}");
    let none = say(&app, "wang", 3, "/why 99").await;
    assert_eq!(keys(&none), vec!["why-no-line"]);
}

#[tokio::test]
async fn whatif_shows_changes_without_storing_anything() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = demo(&db, &clock).await;
    let before = text(&app, &say(&app, "wang", 1, "/statement").await);
    let whatif = text(&app, &say(&app, "wang", 2, "/whatif 50000 #software").await);
    assert!(whatif.contains("With ¥50,000.00 more"), "{whatif}");
    assert!(
        whatif.contains("Category commission: ¥0.00 → ¥5,000.00"),
        "{whatif}"
    );
    assert!(whatif.contains("Rank:"), "{whatif}");
    let after = text(&app, &say(&app, "wang", 3, "/statement").await);
    assert_eq!(before, after);
}

#[tokio::test]
async fn money_answers_go_private_from_groups() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = demo(&db, &clock).await;
    let outcome = app
        .handle(&rally::chat::handler::Incoming {
            platform: Platform::Console,
            chat_id: "group".into(),
            private_chat: false,
            sender_id: "wang".into(),
            sender_name: "wang".into(),
            message_id: "g1".into(),
            text: "/statement".into(),
            locale: None,
            attachments: Vec::new(),
            username: None,
            reply_to: None,
            pressed_message: None,
        })
        .await;
    assert_eq!(
        outcome.replies[0].to,
        rally::chat::reply::Destination::Sender
    );
    assert_eq!(
        outcome.replies.last().map(|r| r.lines[0].key.as_str()),
        Some("sent-privately")
    );
}

async fn locked_period_corrections_on(db: TestDb) {
    let clock = TestClock::new();
    let app = demo(&db, &clock).await;

    let refused =
        rally::features::statements::service::close_period(&app, period("2026-11"), None).await;
    assert!(
        matches!(refused, Err(StatementError::NotEnded { .. })),
        "{refused:?}"
    );

    let report = rally::features::statements::service::close_period(&app, period("2026-10"), None)
        .await
        .expect("close");
    assert!(report.statements >= 10, "{report:?}");
    let again =
        rally::features::statements::service::close_period(&app, period("2026-10"), None).await;
    assert!(matches!(again, Err(StatementError::AlreadyClosed(_))));

    let mut conn = db.store.read().await.expect("conn");
    let wang = partners::find_by_name(&mut conn, "王氏电子")
        .await
        .expect("find")
        .expect("wang");
    let locked =
        rally::features::statements::service::statement(&app, &mut conn, &wang, period("2026-10"))
            .await
            .expect("locked");
    assert!(locked.locked);
    drop(conn);

    // A late, verified sale for October: the locked statement stays; the difference lands as
    // an adjustment on November's statement.
    let amount = Money::from_minor(20_000_000, Currency::CNY);
    let late = NewSale {
        partner_id: wang.id,
        amount,
        program_amount: amount,
        customer: "Late Customer".into(),
        customer_key: "late customer".into(),
        category: None,
        note: None,
        quantity: None,
        evidence: None,
        sale_date: "2026-10-20".into(),
        period: "2026-10".into(),
        source: SaleSource::Import,
        idempotency_key: "late-1".into(),
        status: SaleStatus::Approved,
        reporter: None,
        reported_at: clock.0.load(std::sync::atomic::Ordering::SeqCst),
    };
    let mut tx = db.store.begin().await.expect("tx");
    ledger::record_sale(&app, &mut tx, &late, app.now())
        .await
        .expect("record");
    tx.commit().await.expect("commit");

    let mut conn = db.store.read().await.expect("conn");
    let still =
        rally::features::statements::service::statement(&app, &mut conn, &wang, period("2026-10"))
            .await
            .expect("locked");
    assert_eq!(still, locked, "a locked statement never changes");
    let november =
        rally::features::statements::service::statement(&app, &mut conn, &wang, period("2026-11"))
            .await
            .expect("draft");
    let correction = november
        .lines
        .iter()
        .find(|l| l.kind == "adjustment")
        .expect("correction line");
    assert!(correction.description.contains("2026-10"), "{correction:?}");
    // Recomputing October with the late sale differs from the lock by exactly the correction.
    let facts = rally::features::statements::service::statement_facts(
        &mut conn,
        wang.id,
        period("2026-10"),
    )
    .await
    .expect("facts");
    let recomputed = rally::features::statements::service::compute_statement(
        &app,
        &wang,
        period("2026-10"),
        &facts,
    );
    assert_eq!(
        recomputed.total_minor - locked.total_minor,
        correction.amount_minor
    );
    assert!(correction.amount_minor > 0);

    let docs = rally::features::statements::service::statements_of_period(&app, period("2026-10"))
        .await
        .expect("export");
    let json = export_json(&docs);
    let first = &json.as_array().expect("array")[0];
    for field in ["partner", "period", "currency", "plan", "lines", "total"] {
        assert!(first.get(field).is_some(), "missing {field}: {first}");
    }
    assert!(first["total"].is_string());
    let csv = export_csv(&docs).expect("csv");
    assert!(csv.starts_with("partner,period,currency,plan,line,kind"));
    assert!(csv.lines().count() > docs.len());
}

#[tokio::test]
async fn locked_period_corrections() {
    locked_period_corrections_on(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn locked_period_corrections_postgres() {
    if let Some(db) = TestDb::postgres("locked_period_corrections").await {
        locked_period_corrections_on(db).await;
    }
}

#[tokio::test]
async fn tiers_recompute_records_changes_once() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = demo(&db, &clock).await;
    let first = rally::features::tiers::service::recompute_tiers(&app)
        .await
        .expect("recompute");
    assert!(
        !first.is_empty(),
        "demo tiers differ from the computed ones"
    );
    let second = rally::features::tiers::service::recompute_tiers(&app)
        .await
        .expect("recompute again");
    assert!(second.is_empty(), "nothing changes twice: {second:?}");
    let events: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM tier_events")
        .fetch_one(db.store.pool())
        .await
        .expect("count");
    assert_eq!(events.0, first.len() as i64);
}

#[tokio::test]
async fn allocation_splits_the_budget_exactly_and_shows_inputs() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = demo(&db, &clock).await;
    let denied = say(&app, "wang", 1, "/allocate 100000").await;
    assert_eq!(keys(&denied), vec!["error-forbidden"]);
    let done = say(&app, "manager", 2, "/allocate 100000").await;
    assert_eq!(keys(&done), vec!["allocate-done"]);
    let total: (i64,) =
        sqlx::query_as("SELECT CAST(SUM(amount_minor) AS BIGINT) FROM allocation_shares")
            .fetch_one(db.store.pool())
            .await
            .expect("sum");
    assert_eq!(total.0, 10_000_000, "shares sum exactly to the budget");
    let funds = say(&app, "wang", 3, "/funds").await;
    assert_eq!(keys(&funds), vec!["funds-share", "funds-inputs"]);
}

/// The `weights` argument of the `/funds` inputs line.
fn funds_weights(outcome: &rally::chat::handler::Outcome) -> String {
    let line = outcome
        .replies
        .iter()
        .flat_map(|r| r.lines.iter())
        .find(|m| m.key == "funds-inputs")
        .expect("funds-inputs line");
    match line.args.iter().find(|(k, _)| k == "weights") {
        Some((_, rally::chat::reply::Arg::Text(w))) => w.clone(),
        other => panic!("no weights argument: {other:?}"),
    }
}

#[tokio::test]
async fn funds_explains_with_the_weights_of_the_run() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = demo(&db, &clock).await;
    let run_weights = {
        let w = &app.config.allocation;
        format!("{}/{}/{}", w.potential, w.contribution, w.growth)
    };
    let done = say(&app, "manager", 1, "/allocate 100000").await;
    assert_eq!(keys(&done), vec!["allocate-done"]);
    assert_eq!(
        funds_weights(&say(&app, "wang", 2, "/funds").await),
        run_weights
    );

    // The program changes its weights afterwards; the earlier run keeps its own.
    let mut config = rally_testkit::test_config(&db.url);
    config.allocation.potential = "0.1".parse().expect("decimal");
    config.allocation.contribution = "0.1".parse().expect("decimal");
    config.allocation.growth = "0.8".parse().expect("decimal");
    let changed = rally::app::App::new(
        db.store.clone(),
        std::sync::Arc::new(config),
        Box::new(clock.clone()),
    )
    .expect("app");
    let funds = say(&changed, "wang", 3, "/funds").await;
    assert_eq!(keys(&funds), vec!["funds-share", "funds-inputs"]);
    assert_eq!(funds_weights(&funds), run_weights);
    assert_ne!(run_weights, "0.1/0.1/0.8");
}

#[tokio::test]
async fn disputes_feedback_and_adjustments() {
    let db = TestDb::sqlite().await;
    let clock = TestClock::new();
    let app = demo(&db, &clock).await;
    let opened = say(&app, "wang", 1, "/dispute 1 the rate is wrong").await;
    assert_eq!(opened.replies[0].lines[0].key, "dispute-opened");
    let id = first_int_arg(&opened, "dispute");
    assert!(
        opened
            .replies
            .iter()
            .any(|r| matches!(r.to, rally::chat::reply::Destination::Member(_))),
        "managers are told"
    );
    let forbidden = say(&app, "wang", 2, &format!("/answer {id} fine")).await;
    assert_eq!(keys(&forbidden), vec!["error-forbidden"]);
    let answered = say(
        &app,
        "manager",
        3,
        &format!("/answer {id} checked, correct"),
    )
    .await;
    assert_eq!(
        keys(&answered),
        vec!["dispute-answer-sent", "dispute-your-answer"]
    );
    let twice = say(&app, "manager", 4, &format!("/answer {id} again")).await;
    assert_eq!(keys(&twice), vec!["dispute-answered"]);

    say(&app, "manager", 5, "/feedback 王氏电子 4 quick").await;
    say(&app, "manager", 6, "/feedback 王氏电子 5").await;
    let me = text(&app, &say(&app, "wang", 7, "/me").await);
    assert!(me.contains("4.5/5 from 2 ratings"), "{me}");

    let adjusted = say(&app, "manager", 8, "/adjust 王氏电子 -500 returned goods").await;
    assert_eq!(keys(&adjusted), vec!["adjust-recorded"]);
    let statement = text(&app, &say(&app, "wang", 9, "/statement").await);
    assert!(
        statement.contains("-¥500.00 — adjustment: returned goods"),
        "{statement}"
    );
    let audit = text(&app, &say(&app, "manager", 10, "/audit").await);
    for action in ["dispute.answer", "feedback.add", "statement.adjust"] {
        assert!(audit.contains(action), "{action}: {audit}");
    }
}
