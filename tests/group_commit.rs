//! Group commit (`chat::batch`): reports handled together in one transaction answer and store
//! exactly what they would one by one; a message that fails is rolled back to its savepoint
//! and the others commit; inbox marks commit with the batch; concurrent callers share batches.
//! On SQLite and PostgreSQL.

use std::sync::Arc;

use rally::app::App;
use rally::chat::batch::InboxMarks;
use rally::chat::handler::{Incoming, Outcome};
use rally::chat::reply::Arg;
use rally::engine::partner::Platform;
use rally::store::{Backend, inbox};
use rally_testkit::{TestClock, TestDb, app, app_with, keys, on_both_backends};

fn message(who: &str, id: u64, text: &str) -> Incoming {
    Incoming {
        platform: Platform::Console,
        chat_id: "test".into(),
        private_chat: true,
        sender_id: who.into(),
        sender_name: who.into(),
        message_id: id.to_string(),
        text: text.into(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    }
}

async fn demo_app(db: &TestDb, clock: &TestClock) -> App {
    let app = app(db, clock);
    assert!(rally::demo::seed(&app).await.expect("seed"));
    app
}

/// A second, empty database on the same backend as `db`.
async fn twin(db: &TestDb) -> TestDb {
    match db.store.backend() {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres("group_commit_twin")
            .await
            .expect("PostgreSQL is configured"),
    }
}

/// What a database holds that a report can change, as comparable text.
async fn state(db: &TestDb) -> Vec<String> {
    let mut out = Vec::new();
    let sales: Vec<(i64, String, i64, String, String)> = sqlx::query_as(
        "SELECT id, customer, amount_minor, status, idempotency_key FROM sales ORDER BY id",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("sales");
    out.extend(sales.iter().map(|s| format!("sale {s:?}")));
    let totals: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT period, partner_id, approved_minor, approved_count, provisional_minor, \
         pending_count FROM period_totals ORDER BY period, partner_id",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("totals");
    out.extend(totals.iter().map(|t| format!("totals {t:?}")));
    let members: Vec<(String,)> =
        sqlx::query_as("SELECT platform_user_id FROM members ORDER BY platform_user_id")
            .fetch_all(db.store.pool())
            .await
            .expect("members");
    out.extend(members.iter().map(|m| format!("member {}", m.0)));
    let outbox: Vec<(String,)> =
        sqlx::query_as("SELECT dedupe_key FROM outbox ORDER BY dedupe_key")
            .fetch_all(db.store.pool())
            .await
            .expect("outbox");
    out.extend(outbox.iter().map(|o| format!("outbox {}", o.0)));
    let points: Vec<(i64, i64, String, String)> = sqlx::query_as(
        "SELECT partner_id, points, source_kind, source_key FROM points \
         ORDER BY source_kind, source_key",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("points");
    out.extend(points.iter().map(|p| format!("points {p:?}")));
    let totals: Vec<(i64, i64)> =
        sqlx::query_as("SELECT partner_id, points FROM point_totals ORDER BY partner_id")
            .fetch_all(db.store.pool())
            .await
            .expect("point totals");
    out.extend(totals.iter().map(|t| format!("point total {t:?}")));
    let badges: Vec<(i64, String)> =
        sqlx::query_as("SELECT partner_id, badge FROM badges ORDER BY partner_id, badge")
            .fetch_all(db.store.pool())
            .await
            .expect("badges");
    out.extend(badges.iter().map(|b| format!("badge {b:?}")));
    out
}

/// Reports for Alpha, Boom and Gamma (`amounts` in that order) in one batch, where the
/// database refuses something of Boom's: Alpha and Gamma are approved and stored, Boom gets the
/// apology.
async fn alpha_boom_gamma(app: &App, db: &TestDb, amounts: [&str; 3]) {
    let messages: Vec<Incoming> = ["Alpha", "Boom", "Gamma"]
        .iter()
        .zip(amounts)
        .zip(1..)
        .map(|((customer, amount), id)| {
            message("wang", id, &format!("/report {amount} {customer}"))
        })
        .collect();
    let outcomes = app.handle_batch(&messages, None).await;
    let answers: Vec<Vec<String>> = outcomes.iter().map(keys).collect();
    assert_eq!(answers[0][0], "report-approved");
    assert_eq!(answers[1], vec!["error-internal"]);
    assert_eq!(answers[2][0], "report-approved");
    assert_eq!(test_sales(db).await, vec!["Alpha", "Gamma"]);
}

/// The sale points booked so far (`points` rows of kind `sale`), by amount.
async fn sale_points(db: &TestDb) -> Vec<i64> {
    sqlx::query_as::<_, (i64,)>(
        "SELECT points FROM points WHERE source_kind = 'sale' ORDER BY points, source_key",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("points")
    .into_iter()
    .map(|(p,)| p)
    .collect()
}

/// The points and sales badges of a batch's approved sales are booked once, at its end: if
/// that fails (here a trigger refuses one sale's points), the batch is rolled back as a whole
/// and its messages are handled one by one, so only the sale whose points cannot be booked
/// fails, and every other report is stored with its points.
async fn a_failure_booking_the_batch_points_falls_back_to_one_by_one(db: &TestDb) {
    let clock = TestClock::new();
    let app = demo_app(db, &clock).await;
    let before = sale_points(db).await;
    db.refuse_inserts("points", "NEW.points = 4").await;
    alpha_boom_gamma(&app, db, ["1200", "4500", "2300"]).await;
    let mut expected = before.clone();
    expected.extend([1, 2]);
    expected.sort_unstable();
    assert_eq!(
        sale_points(db).await,
        expected,
        "Alpha's 1 and Gamma's 2 points, once"
    );
    app.store.close().await;
}

/// The customers of the sales these tests reported (not the demo's), in order.
async fn test_sales(db: &TestDb) -> Vec<String> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT customer FROM sales WHERE idempotency_key LIKE 'console:test:%' ORDER BY id",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("sales");
    rows.into_iter().map(|r| r.0).collect()
}

async fn approved_count(db: &TestDb) -> i64 {
    let (count,): (i64,) = sqlx::query_as(
        "SELECT CAST(COALESCE(SUM(approved_count), 0) AS BIGINT) FROM period_totals",
    )
    .fetch_one(db.store.pool())
    .await
    .expect("totals");
    count
}

/// A burst with good reports, a stranger's, a malformed one, one for the managers and a
/// redelivery, handled in one batch, gives the same outcomes and the same stored state as the
/// same messages handled one by one on a twin database; the inbox rows are marked processed in
/// the batch's transaction.
async fn batch_answers_and_stores_like_one_by_one(db: &TestDb) {
    let other = twin(db).await;
    let clock = TestClock::new();
    let batched = demo_app(db, &clock).await;
    let single = demo_app(&other, &clock).await;
    let messages = vec![
        message("wang", 1, "/report 1200 ACME"),
        message("stranger", 2, "/report 100 Nobody Inc"),
        message("wang", 3, "/report 12abc ACME"),
        message("wang", 4, "/report 90000 Big Co"),
        message("wang", 1, "/report 1200 ACME"),
        message("wang", 5, "/report"),
        message("wang", 6, "/report 1300 Beta"),
        // Wang registered Acme Robotics: Li's report waits for a manager (a channel
        // conflict), Wang's own is approved.
        message("li", 7, "/report 900 Acme Robotics"),
        message("wang", 8, "/report 800 Acme Robotics Ltd."),
        message("li", 9, "/report 700 Gamma"),
        message("manager", 10, "/report 100 Delta"),
        message("wang", 11, "/report 1400 Beta"),
        message("wang", 6, "/report 1300 Beta"),
    ];
    let mut conn = batched.store.read().await.expect("connection");
    let ids: Vec<i64> = (1..=messages.len() as i64).collect();
    for id in &ids {
        inbox::store(&mut conn, "console", *id, "{}", 1)
            .await
            .expect("inbox");
    }
    drop(conn);
    let marks = InboxMarks {
        platform: "console",
        update_ids: &ids,
    };
    let together = batched.handle_batch(&messages, Some(marks)).await;
    let mut alone: Vec<Outcome> = Vec::new();
    for m in &messages {
        alone.push(single.handle(m).await);
    }
    assert_eq!(together, alone, "the same answers as one by one");
    let answers: Vec<Vec<String>> = together.iter().map(keys).collect();
    assert_eq!(answers[0][0], "report-approved");
    assert_eq!(answers[1], vec!["error-not-registered"]);
    assert_eq!(answers[3][0], "report-pending");
    assert_eq!(
        answers[4][0], "report-approved",
        "a redelivery is answered again"
    );
    assert_eq!(answers[6][0], "report-approved");
    assert_eq!(answers[7][0], "report-pending", "{:?}", answers[7]);
    assert_eq!(answers[8][0], "report-approved");
    assert_eq!(answers[9][0], "report-approved");
    assert_eq!(answers[10], vec!["error-no-partner"]);
    assert_eq!(answers[11][0], "report-approved");
    assert_eq!(
        answers[12][0], "report-approved",
        "redelivered within the batch"
    );
    assert_eq!(
        state(db).await,
        state(&other).await,
        "the same stored state"
    );
    assert_eq!(
        test_sales(db).await,
        vec![
            "ACME",
            "Big Co",
            "Beta",
            "Acme Robotics",
            "Acme Robotics Ltd.",
            "Gamma",
            "Beta"
        ],
        "once each"
    );
    let (unprocessed,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM inbox WHERE processed_at IS NULL")
            .fetch_one(db.store.pool())
            .await
            .expect("inbox");
    assert_eq!(unprocessed, 0, "the batch marked its inbox rows");
    batched.store.close().await;
    single.store.close().await;
}

/// A run of reports stored with one insert, between refused messages and redeliveries (one
/// stored before the batch, one repeating a message of the batch), in private chats: every
/// answer, period total and stored row is what handling the messages one by one gives — a
/// refusal after the run does not undo it, and a repeated message shows the total at its
/// place.
async fn refusals_and_redeliveries_around_a_run(db: &TestDb) {
    let other = twin(db).await;
    let clock = TestClock::new();
    let batched = demo_app(db, &clock).await;
    let single = demo_app(&other, &clock).await;
    // Stored before the batch and redelivered in the middle of a run: answered after its run,
    // so in a private chat its period total would include the run's later reports; in a group
    // chat (no total) its answer is the one-by-one answer.
    let earlier = Incoming {
        private_chat: false,
        ..message("wang", 50, "/report 450 Earlier Co")
    };
    batched.handle(&earlier).await;
    single.handle(&earlier).await;
    let messages = vec![
        message("stranger", 1, "/report 100 Nobody Inc"),
        message("wang", 2, "/report 1200 First Co"),
        message("wang", 3, "/report 1300 Second Co"),
        earlier.clone(),
        message("wang", 4, "/report 1400 Third Co"),
        message("wang", 2, "/report 1200 First Co"),
        message("li", 5, "/report 500 Li Co"),
        message("manager", 6, "/report 100 Delta"),
        message("wang", 7, "/report 1500 Fourth Co"),
        message("stranger", 8, "/report 100 Nobody Inc"),
    ];
    let counted = db.count_insert_statements("sales").await;
    let together = batched.handle_batch(&messages, None).await;
    let mut alone: Vec<Outcome> = Vec::new();
    for m in &messages {
        alone.push(single.handle(m).await);
    }
    assert_eq!(together, alone, "the same answers and totals as one by one");
    let answers: Vec<Vec<String>> = together.iter().map(keys).collect();
    assert_eq!(answers[0], vec!["error-not-registered"]);
    assert_eq!(answers[7], vec!["error-no-partner"]);
    assert_eq!(answers[9], vec!["error-not-registered"]);
    for approved in [1, 2, 3, 4, 5, 6, 8] {
        assert_eq!(
            answers[approved][0], "report-approved",
            "message {approved}"
        );
    }
    assert_eq!(
        test_sales(db).await,
        vec![
            "Earlier Co",
            "First Co",
            "Second Co",
            "Third Co",
            "Li Co",
            "Fourth Co"
        ],
        "every new report stored once, none undone"
    );
    assert_eq!(
        state(db).await,
        state(&other).await,
        "the same stored state"
    );
    if counted {
        // Three runs (four reports with the earlier one's redelivery, which the run's insert
        // finds stored; then Li's; then the last, after the manager's refusal) and the
        // repeated message's own insert, which finds its key.
        assert_eq!(db.insert_statements("sales").await, 4);
    }
    // A refusal right before and right after a run: the run stays.
    let messages = vec![
        message("stranger", 20, "/report 100 Nobody Inc"),
        message("wang", 21, "/report 1600 Fifth Co"),
        message("wang", 22, "/report 1700 Sixth Co"),
        message("manager", 23, "/report 100 Delta"),
    ];
    let together = batched.handle_batch(&messages, None).await;
    let mut alone: Vec<Outcome> = Vec::new();
    for m in &messages {
        alone.push(single.handle(m).await);
    }
    assert_eq!(together, alone);
    assert_eq!(state(db).await, state(&other).await);
    assert_eq!(
        test_sales(db).await.len(),
        8,
        "Fifth Co and Sixth Co stored"
    );
    batched.store.close().await;
    single.store.close().await;
}

/// A database error in one message (a trigger refuses one customer) rolls back that message
/// only: it gets the apology with a reference, the others are stored.
async fn a_failing_message_rolls_back_alone(db: &TestDb) {
    let clock = TestClock::new();
    let app = demo_app(db, &clock).await;
    db.refuse_inserts("sales", "NEW.customer = 'Boom'").await;
    let before = approved_count(db).await;
    alpha_boom_gamma(&app, db, ["1200", "1200", "1200"]).await;
    assert_eq!(
        approved_count(db).await,
        before + 2,
        "the failed report moved no total"
    );
    app.store.close().await;
}

/// Reports from many concurrent callers (as Discord interactions arrive) are all stored once
/// and each caller gets the answer to its own report; other commands pass through.
async fn concurrent_callers_share_batches(db: &TestDb) {
    let clock = TestClock::new();
    let app = Arc::new(demo_app(db, &clock).await);
    let mut tasks = Vec::new();
    for n in 0..60_u64 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let text = format!("/report {} C{n:03}", 100 + n);
            (n, app.handle_grouped(&message("wang", n, &text)).await)
        }));
    }
    let rank = app.handle_grouped(&message("wang", 1_000, "/rank")).await;
    assert!(!keys(&rank).is_empty());
    for task in tasks {
        let (n, outcome) = task.await.expect("task");
        assert_eq!(keys(&outcome)[0], "report-approved");
        let customer = outcome.replies[0].lines[0]
            .args
            .iter()
            .find(|(name, _)| name == "customer")
            .map(|(_, value)| format!("{value:?}"))
            .unwrap_or_default();
        assert!(customer.contains(&format!("C{n:03}")), "{customer}");
    }
    let mut sales = test_sales(db).await;
    sales.sort();
    sales.dedup();
    assert_eq!(sales.len(), 60, "every report stored, once");
    app.store.close().await;
}

/// Reports checked before the batch writes (members with a partner, approved at once, no
/// channel conflict) are stored with one multi-row insert, whoever reported them, and answered
/// in order, each with its partner's period total as it stood after that report. Counted by a
/// statement-level trigger, which only PostgreSQL has; on SQLite the same path is covered by
/// the comparisons with one by one (`batch_answers_and_stores_like_one_by_one`,
/// `refusals_and_redeliveries_around_a_run`).
#[tokio::test]
async fn checked_reports_share_one_insert_on_postgres() {
    let Some(db) = TestDb::postgres("group_commit_one_insert").await else {
        return;
    };
    let clock = TestClock::new();
    let app = demo_app(&db, &clock).await;
    assert!(db.count_insert_statements("sales").await);
    let messages: Vec<Incoming> = [("wang", 1000), ("li", 500), ("wang", 2000), ("li", 300)]
        .iter()
        .zip(1..)
        .map(|((who, amount), id)| message(who, id, &format!("/report {amount} Customer {id}")))
        .collect();
    let outcomes = app.handle_batch(&messages, None).await;
    let total = |outcome: &Outcome| -> Option<Arg> {
        outcome
            .replies
            .iter()
            .flat_map(|r| &r.lines)
            .find(|m| m.key == "report-period-total")
            .and_then(|m| m.args.iter().find(|(name, _)| name == "total"))
            .map(|(_, value)| value.clone())
    };
    for outcome in &outcomes {
        assert_eq!(keys(outcome)[0], "report-approved");
    }
    assert_eq!(
        db.insert_statements("sales").await,
        1,
        "one insert statement for the four reports"
    );
    // Each partner's total after each of its reports: the stored total less what came later.
    let stored_total = async |who: &str| -> i64 {
        let (minor,): (i64,) = sqlx::query_as(
            "SELECT t.approved_minor FROM period_totals t \
             JOIN members m ON m.partner_id = t.partner_id \
             WHERE m.platform_user_id = $1 AND t.period = '2026-11'",
        )
        .bind(who)
        .fetch_one(db.store.pool())
        .await
        .expect("period total");
        minor
    };
    let (wang, li) = (stored_total("wang").await, stored_total("li").await);
    let shown = |minor: i64| Some(Arg::Text(app.program_money(minor)));
    assert_eq!(total(&outcomes[0]), shown(wang - 200_000));
    assert_eq!(total(&outcomes[1]), shown(li - 30_000));
    assert_eq!(total(&outcomes[2]), shown(wang));
    assert_eq!(total(&outcomes[3]), shown(li));
    app.store.close().await;
}

/// The demo program with contests running on the test clock's day (2026-11-15) — the demo's
/// growth cup, and a new-customers and a sales-count contest for November — its data seeded
/// and the standings built.
async fn contest_app(db: &TestDb, clock: &TestClock) -> App {
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    let extra = format!(
        "{}{}",
        rally::demo::contests_toml(today),
        r#"
[[contests]]
id = "fresh"
name = "New Faces"
metric = "new_customers"
start = "2026-11-01"
end = "2026-11-30"

[[contests]]
id = "count"
name = "Most Deals"
metric = "sales_count"
start = "2026-11-01"
end = "2026-11-30"
"#
    );
    let app = app_with(db, clock, &extra);
    assert!(rally::demo::seed(&app).await.expect("seed"));
    rally::demo::seed_contests(&app).await.expect("contests");
    app
}

/// The contest standings, as comparable text.
async fn standings(db: &TestDb) -> Vec<String> {
    let rows: Vec<(String, i64, i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT contest_id, partner_id, amount_minor, CAST(sales_count AS BIGINT), \
         base_minor, CAST(new_customers AS BIGINT) \
         FROM contest_standings ORDER BY contest_id, partner_id",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("standings");
    let customers: Vec<(String, i64, String, i64)> = sqlx::query_as(
        "SELECT contest_id, partner_id, customer_key, CAST(sales AS BIGINT) \
         FROM contest_customers ORDER BY contest_id, partner_id, customer_key",
    )
    .fetch_all(db.store.pool())
    .await
    .expect("contest customers");
    rows.iter()
        .map(|r| format!("standing {r:?}"))
        .chain(customers.iter().map(|c| format!("customer {c:?}")))
        .collect()
}

/// With contests running, a batch's approved reports are stored with the bulk insert and then
/// move the standings one by one: the same standings, customers, answers and stored state as
/// the same reports handled one by one (new customers counted once, a repeat customer not).
async fn a_batch_moves_running_contests_as_one_by_one(db: &TestDb) {
    let other = twin(db).await;
    let clock = TestClock::new();
    let batched = contest_app(db, &clock).await;
    let single = contest_app(&other, &clock).await;
    let messages = vec![
        message("wang", 1, "/report 1200 Fresh Co"),
        message("li", 2, "/report 900 Fresh Co"),
        message("wang", 3, "/report 800 Fresh Co"),
        message("wang", 4, "/report 90000 Big Co"),
        message("li", 5, "/report 700 Other Ltd"),
        message("wang", 6, "/report 500 Third Inc"),
    ];
    let counted = db.count_insert_statements("sales").await;
    let together = batched.handle_batch(&messages, None).await;
    if counted {
        assert_eq!(
            db.insert_statements("sales").await,
            3,
            "two runs of approved reports, and the pending one alone"
        );
    }
    let mut alone: Vec<Outcome> = Vec::new();
    for m in &messages {
        alone.push(single.handle(m).await);
    }
    assert_eq!(together, alone, "the same answers as one by one");
    assert_eq!(keys(&together[0])[0], "report-approved");
    assert_eq!(standings(db).await, standings(&other).await);
    let after = standings(db).await;
    for counted in [
        r#"customer ("fresh", 1, "fresh", 2)"#,
        r#"customer ("fresh", 2, "fresh", 1)"#,
    ] {
        assert!(
            after.iter().any(|s| s == counted),
            "Fresh Co counted for Wang's partner twice and Li's once: {after:?}"
        );
    }
    assert_eq!(
        state(db).await,
        state(&other).await,
        "the same stored state"
    );
    batched.store.close().await;
    single.store.close().await;
}

on_both_backends!(
    refusals_and_redeliveries_around_a_run,
    a_batch_moves_running_contests_as_one_by_one,
    a_failure_booking_the_batch_points_falls_back_to_one_by_one,
    batch_answers_and_stores_like_one_by_one,
    a_failing_message_rolls_back_alone,
    concurrent_callers_share_batches,
);
