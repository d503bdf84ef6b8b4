//! The managers' weekly digest and the partners' nudges on a seeded dataset, against lists
//! computed by hand, on SQLite and on PostgreSQL: who slipped against their own 12 weeks, who
//! is close to a tier or bonus, old pending sales and unanswered disputes; nudges at most once a
//! week per person, never after `/mute nudges`, again after `/unmute nudges`.
//!
//! The digest runs on Monday 2026-11-30 08:00 in Shanghai (00:00 UTC): the recent weeks are
//! 2026-11-02 to 11-29, the baseline 2026-08-10 to 11-01. The demo plan's target is ¥150,000 a
//! month with bonuses at 100 % and 120 %; Silver needs ¥200,000 over 12 months, Gold ¥400,000
//! and the `sales-basics` certification.

use std::sync::Arc;

use chrono::NaiveDate;
use rally::app::App;
use rally::chat::handler::Incoming;
use rally::chat::reply::Reply;
use rally::engine::alerts::{Goal, NearGoal, Slump};
use rally::engine::ids::{MemberId, PartnerId};
use rally::engine::money::Money;
use rally::engine::partner::{PartnerKind, Platform, Role, name_key};
use rally::engine::sale::{SaleSource, SaleStatus};
use rally::features::alerts::service;
use rally::features::membership::partners::{self as partner_service, Source};
use rally::features::sales::ledger;
use rally::store::partners::NewPartner;
use rally::store::sales::NewSale;
use rally::store::{incentives, members};
use rally_testkit::{TestClock, TestDb, test_config};
use rust_decimal::Decimal;

rally_testkit::on_both_backends!(
    the_digest_lists_what_was_computed_by_hand,
    the_digest_job_reaches_every_manager_once,
    nudges_once_a_week_and_never_when_muted,
);

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn d(s: &str) -> Decimal {
    s.parse().expect("decimal")
}

struct Seeded {
    app: App,
    /// Monday 2026-11-30 08:00 Asia/Shanghai.
    due: i64,
    alpha: PartnerId,
    delta_member: MemberId,
    gamma_member: MemberId,
}

async fn partner(app: &App, name: &str, telegram_id: &str) -> (PartnerId, MemberId) {
    let now = app.now();
    let mut tx = app.store.begin().await.expect("tx");
    let new = NewPartner {
        name: name.into(),
        kind: PartnerKind::Dealer,
        region: Some("East".into()),
        tier: None,
        potential_minor: None,
    };
    let created = partner_service::create(&mut tx, &new, None, Source::Demo, now)
        .await
        .expect("create")
        .expect("new partner");
    let member = members::upsert(&mut tx, Platform::Telegram, telegram_id, name, now)
        .await
        .expect("member");
    members::set_role(&mut tx, member.id, Some(created.id), Role::Partner)
        .await
        .expect("role");
    tx.commit().await.expect("commit");
    (created.id, member.id)
}

async fn sale(
    app: &App,
    partner: PartnerId,
    on: NaiveDate,
    yuan: i64,
    status: SaleStatus,
    key: &str,
) {
    let at = app.instant_of(on.and_hms_opt(12, 0, 0).expect("noon"));
    sale_at(app, partner, on, at, yuan, status, key).await;
}

#[allow(clippy::too_many_arguments)]
async fn sale_at(
    app: &App,
    partner: PartnerId,
    on: NaiveDate,
    reported_at: i64,
    yuan: i64,
    status: SaleStatus,
    key: &str,
) {
    let amount = Money::from_minor(yuan * 100, app.config.program.currency);
    let new = NewSale {
        partner_id: partner,
        amount,
        program_amount: amount,
        customer: format!("Customer {key}"),
        customer_key: name_key(&format!("Customer {key}")),
        category: None,
        quantity: None,
        evidence: None,
        note: None,
        sale_date: on.to_string(),
        period: app.period_at(reported_at).key(),
        source: SaleSource::Import,
        idempotency_key: key.into(),
        status,
        reporter: None,
        reported_at,
    };
    let mut tx = app.store.begin().await.expect("tx");
    ledger::record_sale(app, &mut tx, &new, reported_at)
        .await
        .expect("sale");
    tx.commit().await.expect("commit");
}

async fn seed(db: &TestDb) -> Seeded {
    let clock = TestClock::new();
    let app = App::new(
        db.store.clone(),
        Arc::new(test_config(&db.url)),
        Box::new(clock.clone()),
    )
    .expect("app");
    let due = app.instant_of(date(2026, 11, 30).and_hms_opt(8, 0, 0).expect("time"));
    let approved = SaleStatus::Approved;

    // Alpha: ¥10,000 every baseline week (12), ¥7,000 every recent week (4): exactly 30 % down.
    let (alpha, _) = partner(&app, "Alpha Trading", "1001").await;
    for week in 0..12 {
        let on = date(2026, 8, 10) + chrono::Duration::weeks(week);
        sale(&app, alpha, on, 10_000, approved, &format!("a-base-{week}")).await;
    }
    for week in 0..4 {
        let on = date(2026, 11, 2) + chrono::Duration::weeks(week);
        sale(
            &app,
            alpha,
            on,
            7_000,
            approved,
            &format!("a-recent-{week}"),
        )
        .await;
    }
    // Beta: the same baseline, ¥8,000 a recent week: 20 % down, not flagged.
    let (beta, _) = partner(&app, "Beta Supplies", "1002").await;
    for week in 0..12 {
        let on = date(2026, 8, 11) + chrono::Duration::weeks(week);
        sale(&app, beta, on, 10_000, approved, &format!("b-base-{week}")).await;
    }
    for week in 0..4 {
        let on = date(2026, 11, 3) + chrono::Duration::weeks(week);
        sale(&app, beta, on, 8_000, approved, &format!("b-recent-{week}")).await;
    }
    // Gamma: new this month, ¥140,000 in 3 sales of the ¥150,000 target: ¥10,000 (6.7 %) to the
    // 100 % bonus, one sale at its average (¥46,666.67). No baseline: no slump.
    let (gamma, gamma_member) = partner(&app, "Gamma Tech", "1003").await;
    for (i, (day, yuan)) in [(3, 50_000), (10, 50_000), (17, 40_000)]
        .into_iter()
        .enumerate()
    {
        sale(
            &app,
            gamma,
            date(2026, 11, day),
            yuan,
            approved,
            &format!("g-{i}"),
        )
        .await;
    }
    // Delta: ¥185,000 in June: ¥15,000 (7.5 %) to Silver; nothing in the digest's weeks.
    let (delta, delta_member) = partner(&app, "Delta Retail", "1004").await;
    sale(&app, delta, date(2026, 6, 15), 185_000, approved, "d-june").await;
    // Epsilon: ¥390,000 in May, 2.5 % from Gold's threshold, but without the certification
    // Gold needs: not "close" by selling.
    let (epsilon, _) = partner(&app, "Epsilon Wholesale", "1005").await;
    sale(&app, epsilon, date(2026, 5, 20), 390_000, approved, "e-may").await;

    // Pending: one reported 72 hours before the digest, one 12 hours before.
    sale_at(
        &app,
        alpha,
        date(2026, 11, 27),
        due - 72 * HOUR,
        3_000,
        SaleStatus::Pending,
        "p-old",
    )
    .await;
    sale_at(
        &app,
        beta,
        date(2026, 11, 29),
        due - 12 * HOUR,
        4_000,
        SaleStatus::Pending,
        "p-new",
    )
    .await;

    // Disputes: Beta's is open, Alpha's answered.
    let mut tx = app.store.begin().await.expect("tx");
    let manager = members::upsert(&mut tx, Platform::Telegram, "9001", "Manager Mei", due)
        .await
        .expect("manager");
    members::set_role(&mut tx, manager.id, None, Role::Manager)
        .await
        .expect("role");
    let open = incentives::open_dispute(
        &mut tx,
        beta,
        "2026-10",
        1,
        "bonus missing",
        manager.id,
        due - 5 * DAY,
    )
    .await
    .expect("dispute");
    let answered = incentives::open_dispute(
        &mut tx,
        alpha,
        "2026-10",
        2,
        "rate?",
        manager.id,
        due - 4 * DAY,
    )
    .await
    .expect("dispute");
    incentives::answer_dispute(
        &mut tx,
        answered,
        "3 % below 100k",
        manager.id,
        due - 3 * DAY,
    )
    .await
    .expect("answer");
    tx.commit().await.expect("commit");
    let _ = open;
    Seeded {
        app,
        due,
        alpha,
        delta_member,
        gamma_member,
    }
}

async fn the_digest_lists_what_was_computed_by_hand(db: &TestDb) {
    let s = seed(db).await;
    let mut conn = s.app.store.read().await.expect("conn");
    let digest = service::digest(&s.app, &mut conn, s.due)
        .await
        .expect("digest");
    assert_eq!(digest.week_of, date(2026, 11, 30));
    assert_eq!(
        digest.slumps,
        [(
            "Alpha Trading".to_string(),
            Slump {
                recent_weekly_minor: 700_000,
                baseline_weekly_minor: 1_000_000,
                drop_percent: d("30"),
            }
        )]
    );
    assert_eq!(
        digest.near,
        [
            (
                "Delta Retail".to_string(),
                NearGoal {
                    goal: Goal::Tier {
                        name: "Silver".into()
                    },
                    gap: d("15000"),
                    sales_estimate: None,
                }
            ),
            (
                "Gamma Tech".to_string(),
                NearGoal {
                    goal: Goal::Bonus {
                        attainment: d("100")
                    },
                    gap: d("10000"),
                    sales_estimate: Some(1),
                }
            ),
        ]
    );
    assert_eq!(digest.pending_total, 1);
    assert_eq!(digest.pending.len(), 1);
    assert_eq!(digest.pending[0].partner, "Alpha Trading");
    assert_eq!(digest.pending[0].program_minor, 300_000);
    assert_eq!(digest.disputes_total, 1);
    assert_eq!(digest.disputes[0].partner, "Beta Supplies");
    assert_eq!(digest.disputes[0].line_no, 1);
    let _ = s.alpha;

    // Rendered for a manager, in both languages.
    let reply = service::digest_reply(&s.app, &digest);
    let en = s.app.i18n.render_reply(rally::config::Locale::En, &reply);
    for expected in [
        "Weekly digest (weeks up to 2026-11-30)",
        "• Alpha Trading: ¥7,000.00 a week, was ¥10,000.00 (−30 %)",
        "• Delta Retail: ¥15,000.00 more to Silver (trailing 12 months)",
        "• Gamma Tech: ¥10,000.00 more to the 100 % bonus this period (about 1 sale)",
        "Sales waiting over 48 hours for approval (1): /pending",
        "Unanswered disputes (1): /answer",
        "Beta Supplies, 2026-10 line 1",
    ] {
        assert!(en.contains(expected), "missing {expected:?} in:\n{en}");
    }
    assert!(
        !en.contains("Beta Supplies: "),
        "Beta is not a slump:\n{en}"
    );
    assert!(!en.contains("Epsilon"), "{en}");
    let zh = s.app.i18n.render_reply(rally::config::Locale::ZhCn, &reply);
    assert!(zh.contains("每周摘要"), "{zh}");
    assert!(zh.contains("Alpha Trading"), "{zh}");
}

/// Rows the outbox holds whose dedupe key starts with `prefix`: (member, rendered English text).
async fn outbox(app: &App, prefix: &str) -> Vec<(i64, String)> {
    let mut conn = app.store.read().await.expect("conn");
    let rows =
        sqlx::query("SELECT member_id, reply FROM outbox WHERE dedupe_key LIKE $1 ORDER BY id")
            .bind(format!("{prefix}%"))
            .fetch_all(&mut *conn)
            .await
            .expect("outbox");
    rows.iter()
        .map(|r| {
            use sqlx::Row;
            let reply: Reply =
                serde_json::from_str(&r.get::<String, _>("reply")).expect("reply json");
            (
                r.get::<i64, _>("member_id"),
                app.i18n.render_reply(rally::config::Locale::En, &reply),
            )
        })
        .collect()
}

async fn the_digest_job_reaches_every_manager_once(db: &TestDb) {
    let s = seed(db).await;
    let job = s
        .app
        .config
        .jobs
        .run
        .iter()
        .find(|j| j.name == "weekly_digest")
        .expect("the built-in digest job")
        .clone();
    assert_eq!(job.schedule.expression(), "0 0 8 * * Mon");
    rally::scheduler::run_job(&s.app, &job, s.due)
        .await
        .expect("run");
    // Twice (a takeover, a second instance): the same due time enqueues nothing new.
    rally::scheduler::run_job(&s.app, &job, s.due)
        .await
        .expect("run again");
    let sent = outbox(&s.app, "job:weekly_digest:").await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].1.contains("Alpha Trading"), "{}", sent[0].1);
}

async fn mute(app: &App, telegram_id: &str, id: u64, text: &str) -> String {
    let outcome = app
        .handle(&Incoming {
            platform: Platform::Telegram,
            chat_id: telegram_id.into(),
            private_chat: true,
            sender_id: telegram_id.into(),
            sender_name: "partner".into(),
            message_id: id.to_string(),
            text: text.into(),
            locale: None,
            attachments: Vec::new(),
            username: None,
            reply_to: None,
            pressed_message: None,
        })
        .await;
    rally_testkit::text(app, &outcome)
}

async fn nudges_once_a_week_and_never_when_muted(db: &TestDb) {
    let s = seed(db).await;
    let app = &s.app;
    let run = |due: i64| async move {
        service::send_nudges(app, &format!("job:nudges:{due}"), due)
            .await
            .expect("nudges")
    };
    run(s.due).await;
    let sent = outbox(app, "job:nudges:").await;
    let to: Vec<i64> = sent.iter().map(|(m, _)| *m).collect();
    assert_eq!(to, [s.delta_member.0, s.gamma_member.0], "{sent:?}");
    assert!(
        sent[0]
            .1
            .contains("¥15,000.00 more in sales (trailing 12 months) and you reach Silver."),
        "{}",
        sent[0].1
    );
    assert!(
        sent[1]
            .1
            .contains("1 sale at your average (¥10,000.00) to the 100 % bonus this period."),
        "{}",
        sent[1].1
    );
    assert!(sent[1].1.contains("/mute nudges"), "{}", sent[1].1);

    // The same week again (a re-run, a day later): nobody hears twice.
    run(s.due).await;
    run(s.due + DAY).await;
    assert_eq!(outbox(app, "job:nudges:").await.len(), 2);

    // Delta mutes; a week later Delta is still close to Silver but hears nothing. (Gamma's
    // November no longer counts in December: not close any more.)
    let muted = mute(app, "1004", 1, "/mute nudges").await;
    assert!(muted.contains("Nudges are off"), "{muted}");
    let wrong = mute(app, "1004", 2, "/mute kudos").await;
    assert!(wrong.contains("cannot be muted"), "{wrong}");
    run(s.due + 7 * DAY).await;
    assert_eq!(outbox(app, "job:nudges:").await.len(), 2);

    // Unmuted: the next week Delta hears again, once.
    let unmuted = mute(app, "1004", 3, "/unmute nudges").await;
    assert!(unmuted.contains("Nudges are on"), "{unmuted}");
    run(s.due + 14 * DAY).await;
    let sent = outbox(app, "job:nudges:").await;
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[2].0, s.delta_member.0);
}
