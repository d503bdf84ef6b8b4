//! Sales contests through the ledger, the chat handler, the scheduler and the statements, on
//! SQLite and PostgreSQL: standings move with approvals and corrections (only while a contest
//! runs), each metric on hand-computed sales, `/rank <contest>` and `/contests` answers, update
//! posts with a chart through the outbox, and prizes booked exactly once.

use std::sync::Arc;

use rally::app::App;
use rally::chat::reply::Reply;
use rally::engine::contest::Shown;
use rally::engine::ids::PartnerId;
use rally::engine::money::{Currency, Money};
use rally::engine::partner::{PartnerKind, Platform, Role, name_key};
use rally::engine::period::Period;
use rally::engine::sale::{SaleSource, SaleStatus};
use rally::features::contests::{chart, service};
use rally::features::sales::ledger;
use rally::store::partners::NewPartner;
use rally::store::sales::NewSale;
use rally::store::{contests as stored, jobs, members, partners};
use rally_testkit::{TestClock, TestDb, app_with, keys, on_both_backends, say, text};

/// 2026-11-15 18:00 in Shanghai: the test clock's start.
const CONTESTS: &str = r#"
[[contests]]
id = "nov"
name = "November Cup"
name_zh = "十一月杯"
metric = "sales_amount"
start = "2026-11-01"
end = "2026-11-30"
scope = { region = "East" }
min_sales = 1000
updates = "0 0 9 * * *"

[[contests]]
id = "oct"
name = "October Sprint"
metric = "sales_amount"
start = "2026-10-01"
end = "2026-10-31"
prizes = [ { rank = 1, amount = 500 }, { rank = 2, reward = "Demo kit" } ]

[[contests]]
id = "q4"
name = "Q4 Growth"
metric = "growth_rate"
start = "2026-10-01"
end = "2026-12-31"

[[contests]]
id = "fair"
name = "Fair Q4"
metric = "growth_rate"
handicap = true
start = "2026-10-01"
end = "2026-12-31"
targets = { "Alpha" = 20000 }

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

[[contests]]
id = "next"
name = "Next Year"
metric = "sales_amount"
start = "2027-01-01"
end = "2027-03-31"
"#;

fn app_on(db: &TestDb, clock: &TestClock) -> App {
    app_with(db, clock, CONTESTS)
}

struct World {
    app: App,
    clock: TestClock,
    alpha: PartnerId,
    beta: PartnerId,
    gamma: PartnerId,
}

/// Three partners — Alpha and Beta in the East, Gamma in the West — a member each (`alpha`,
/// `beta`, `gamma`) and a manager.
async fn world(db: &TestDb) -> World {
    let clock = TestClock::new();
    let app = app_on(db, &clock);
    let now = app.now();
    let mut tx = app.store.begin().await.expect("tx");
    let mut ids = Vec::new();
    for (handle, name, region) in [
        ("alpha", "Alpha", "East"),
        ("beta", "Beta", "East"),
        ("gamma", "Gamma", "West"),
    ] {
        let partner = partners::insert(
            &mut tx,
            &NewPartner {
                name: name.into(),
                kind: PartnerKind::Dealer,
                region: Some(region.into()),
                tier: None,
                potential_minor: None,
            },
            now,
        )
        .await
        .expect("partner")
        .expect("new partner");
        let member = members::upsert(&mut tx, Platform::Console, handle, name, now)
            .await
            .expect("member");
        members::set_role(&mut tx, member.id, Some(partner.id), Role::Partner)
            .await
            .expect("role");
        ids.push(partner.id);
    }
    let manager = members::upsert(&mut tx, Platform::Console, "boss", "Boss", now)
        .await
        .expect("manager");
    members::set_role(&mut tx, manager.id, None, Role::Manager)
        .await
        .expect("role");
    tx.commit().await.expect("commit");
    World {
        app,
        clock,
        alpha: ids[0],
        beta: ids[1],
        gamma: ids[2],
    }
}

/// Records a sale of `yuan` dated `date` (an import, so any date), approved or pending.
async fn sale(
    w: &World,
    partner: PartnerId,
    yuan: i64,
    date: &str,
    customer: &str,
    approved: bool,
) -> rally::engine::ids::SaleId {
    let amount = Money::from_minor(yuan * 100, Currency::CNY);
    let day = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").expect("date");
    let key = format!("test:{partner}:{yuan}:{date}:{customer}:{}", w.app.now());
    let new = NewSale {
        partner_id: partner,
        amount,
        program_amount: amount,
        customer: customer.into(),
        customer_key: name_key(customer),
        category: None,
        quantity: None,
        evidence: None,
        note: None,
        sale_date: date.into(),
        period: Period::containing(w.app.config.program.period, day).key(),
        source: SaleSource::Import,
        idempotency_key: key,
        status: if approved {
            SaleStatus::Approved
        } else {
            SaleStatus::Pending
        },
        reporter: None,
        reported_at: w.app.now(),
    };
    let mut tx = w.app.store.begin().await.expect("tx");
    let (stored_sale, _) = ledger::record_sale(&w.app, &mut tx, &new, w.app.now())
        .await
        .expect("record");
    tx.commit().await.expect("commit");
    // Later sales reach their totals later (ties go to the earlier one).
    w.clock.advance_ms(1_000);
    match stored_sale {
        rally::store::sales::Inserted::New(s) | rally::store::sales::Inserted::Existing(s) => s.id,
    }
}

async fn board(
    w: &World,
    id: &str,
    me: Option<PartnerId>,
) -> rally::store::contest_boards::ContestBoard {
    let contest = service::find(&w.app, id).expect("contest");
    let mut conn = w.app.store.read().await.expect("conn");
    service::board(&w.app, &mut conn, contest, me)
        .await
        .expect("board")
}

fn names(b: &rally::store::contest_boards::ContestBoard) -> Vec<String> {
    b.top.iter().map(|(_, _, n, _)| n.clone()).collect()
}

async fn standings_follow_approvals_and_rejections(db: &TestDb) {
    let w = world(db).await;
    sale(&w, w.alpha, 5_000, "2026-11-02", "ACME", true).await;
    sale(&w, w.beta, 7_000, "2026-11-03", "Globex", true).await;
    sale(&w, w.gamma, 9_000, "2026-11-03", "Initech", true).await;
    let b = board(&w, "nov", Some(w.alpha)).await;
    assert_eq!(
        names(&b),
        vec!["Beta", "Alpha"],
        "Gamma is in the West, out of scope"
    );
    assert_eq!((b.place, b.participants), (Some(2), 2));

    let rank = say(&w.app, "alpha", 1, "/rank november CUP").await;
    let shown = text(&w.app, &rank);
    assert!(shown.contains("1. Beta — ¥7,000.00"), "{shown}");
    assert!(shown.contains("You: #2 — ¥5,000.00."), "{shown}");
    assert!(
        shown.contains("¥2,000.01 more in sales to pass #1."),
        "{shown}"
    );
    assert!(
        rank.replies[0].chart.is_none(),
        "no chart in a private chat"
    );

    // A pending sale counts once approved; a rejected one never.
    let pending = sale(&w, w.alpha, 3_000, "2026-11-10", "ACME", false).await;
    let rejected = sale(&w, w.beta, 4_000, "2026-11-10", "Globex", false).await;
    assert_eq!(names(&board(&w, "nov", None).await), vec!["Beta", "Alpha"]);
    let approve = say(&w.app, "boss", 2, &format!("/approve {pending}")).await;
    assert_eq!(keys(&approve)[0], "sale-approved", "{:?}", keys(&approve));
    let reject = say(&w.app, "boss", 3, &format!("/reject {rejected} duplicate")).await;
    assert_eq!(keys(&reject)[0], "sale-rejected", "{:?}", keys(&reject));
    let b = board(&w, "nov", Some(w.beta)).await;
    assert_eq!(names(&b), vec!["Alpha", "Beta"]);
    assert_eq!(b.top[0].3.amount_minor, 800_000);
    assert_eq!(
        b.top[1].3.amount_minor, 700_000,
        "the rejected sale left no trace"
    );

    // Number of sales: Alpha 2, then Beta and Gamma 1 each, Beta's reached first.
    let counts = board(&w, "count", None).await;
    assert_eq!(names(&counts), vec!["Alpha", "Beta", "Gamma"]);

    let outside = text(&w.app, &say(&w.app, "gamma", 4, "/rank nov").await);
    assert!(outside.contains("not in this contest's scope"), "{outside}");
    let zh = text(&w.app, &say(&w.app, "alpha", 5, "/rank 十一月杯").await);
    assert!(zh.contains("1. Alpha"), "{zh}");
    let unknown = say(&w.app, "alpha", 6, "/rank spring").await;
    assert_eq!(keys(&unknown), vec!["contest-unknown"]);
    let shown = text(&w.app, &unknown);
    assert!(
        shown.contains("There is no contest “spring”") && shown.contains("nov (November Cup)"),
        "{shown}"
    );
    let upcoming = say(&w.app, "alpha", 7, "/rank next year").await;
    assert_eq!(keys(&upcoming), vec!["contest-upcoming"]);

    let list = say(&w.app, "gamma", 8, "/contests").await;
    let k = keys(&list);
    assert!(
        k.contains(&"contests-outside".to_string()) && k.contains(&"contests-upcoming".to_string()),
        "{k:?}"
    );
    let shown = text(&w.app, &say(&w.app, "alpha", 9, "/contests").await);
    assert!(
        shown.contains("November Cup (nov)") && shown.contains("you: #1 of 2"),
        "{shown}"
    );
    assert!(
        !shown.contains("October Sprint"),
        "ended contests are under /contests past"
    );
    let usage = say(&w.app, "alpha", 10, "/contests future").await;
    assert_eq!(keys(&usage), vec!["error-usage"]);
}

async fn a_correction_after_a_lock_moves_only_running_contests(db: &TestDb) {
    let w = world(db).await;
    sale(&w, w.alpha, 5_000, "2026-10-20", "ACME", true).await;
    sale(&w, w.beta, 6_000, "2026-10-21", "Globex", true).await;
    service::prepare(&w.app).await.expect("prepare");
    assert_eq!(board(&w, "oct", None).await.top[0].3.amount_minor, 600_000);
    rally::features::statements::service::close_period(
        &w.app,
        Period::parse("2026-10").expect("period"),
        None,
    )
    .await
    .expect("close October");
    // A late verified import for October: October's statement is locked (an adjustment in
    // November), the ended October contest stays as it was, the running Q4 one moves.
    sale(&w, w.alpha, 2_000, "2026-10-25", "ACME", true).await;
    let oct = board(&w, "oct", None).await;
    assert_eq!(names(&oct), vec!["Beta", "Alpha"]);
    assert_eq!(oct.top[1].3.amount_minor, 500_000);
    let q4 = board(&w, "q4", None).await;
    assert_eq!(names(&q4), vec!["Alpha", "Beta"]);
    assert_eq!(q4.top[0].3.amount_minor, 700_000);
}

async fn metrics_on_hand_computed_sales(db: &TestDb) {
    let w = world(db).await;
    // Growth: Alpha sold 10,000 in Q4 2025 and 12,000 now (+20 %); Beta 8,000 then and 16,000
    // now (+100 %); Gamma nothing then and 50,000 now: no base, ranked after both by amount.
    sale(&w, w.alpha, 10_000, "2025-11-05", "ACME", true).await;
    sale(&w, w.beta, 8_000, "2025-12-05", "Globex", true).await;
    sale(&w, w.alpha, 12_000, "2026-10-05", "ACME Ltd.", true).await;
    sale(&w, w.beta, 16_000, "2026-11-05", "Globex", true).await;
    sale(&w, w.gamma, 50_000, "2026-11-06", "Initech", true).await;
    let q4 = board(&w, "q4", None).await;
    assert_eq!(names(&q4), vec!["Beta", "Alpha", "Gamma"]);
    let rule = service::rule(&w.app, service::find(&w.app, "q4").expect("q4"));
    assert_eq!(rule.shown(&q4.top[0].3), Shown::Growth(1_000_000));
    assert_eq!(rule.shown(&q4.top[1].3), Shown::Growth(200_000));
    assert_eq!(rule.shown(&q4.top[2].3), Shown::NoBase(5_000_000));
    // A late sale of the base period moves the base of the running contest: Alpha's base
    // 10,000 → 12,000 makes its growth 0 %.
    sale(&w, w.alpha, 2_000, "2025-11-06", "ACME", true).await;
    let q4 = board(&w, "q4", Some(w.alpha)).await;
    assert_eq!(rule.shown(&q4.mine.expect("alpha")), Shown::Growth(0));

    // Handicap: Alpha's own target is 20,000 (12,000 = 60 %); Beta and Gamma have the standard
    // plan's 150,000 a month × 3 = 450,000 (16,000 = 3.6 %, 50,000 = 11.1 %).
    let fair = board(&w, "fair", None).await;
    assert_eq!(names(&fair), vec!["Alpha", "Gamma", "Beta"]);
    let fair_rule = service::rule(&w.app, service::find(&w.app, "fair").expect("fair"));
    assert_eq!(fair_rule.shown(&fair.top[0].3), Shown::Attainment(600_000));
    assert_eq!(fair.top[1].3.target_minor, Some(45_000_000));

    // New customers, names written differently: Alpha sold to "ACME Ltd." in October, so
    // "acme" in November is not new; "Globex Inc." and "GLOBEX" are one new customer.
    sale(&w, w.alpha, 100, "2026-11-07", "acme", true).await;
    sale(&w, w.alpha, 100, "2026-11-08", "Globex Inc.", true).await;
    sale(&w, w.alpha, 100, "2026-11-09", "GLOBEX", true).await;
    let fresh = board(&w, "fresh", Some(w.alpha)).await;
    let alpha = fresh.mine.expect("alpha's standing");
    assert_eq!(alpha.new_customers, 1);
    // Beta: Globex is not new (sold in December 2025); Gamma: Initech is new.
    assert_eq!(names(&fresh), vec!["Gamma", "Alpha", "Beta"]);
    // Built from scratch, the same standings.
    let mut conn = w.app.store.read().await.expect("conn");
    let (incremental, _) = stored::changes_since(&mut conn, "fresh", None)
        .await
        .expect("rows");
    drop(conn);
    let rebuilt = app_on(db, &w.clock);
    let mut tx = rebuilt.store.begin().await.expect("tx");
    sqlx::query("DELETE FROM contest_builds")
        .execute(&mut *tx)
        .await
        .expect("forget builds");
    tx.commit().await.expect("commit");
    service::prepare(&rebuilt).await.expect("rebuild");
    let mut conn = rebuilt.store.read().await.expect("conn");
    let (from_scratch, _) = stored::changes_since(&mut conn, "fresh", None)
        .await
        .expect("rows");
    let facts = |rows: &[stored::Standing]| {
        let mut v: Vec<(i64, i64, i64)> = rows
            .iter()
            .map(|r| (r.partner.0, r.facts.amount_minor, r.facts.new_customers))
            .collect();
        v.sort_unstable();
        v
    };
    assert_eq!(facts(&incremental), facts(&from_scratch));
}

async fn prizes_are_booked_once(db: &TestDb) {
    let w = world(db).await;
    sale(&w, w.alpha, 9_000, "2026-10-20", "ACME", true).await;
    sale(&w, w.beta, 6_000, "2026-10-21", "Globex", true).await;
    let mut conn = w.app.store.read().await.expect("conn");
    jobs::bind_chat(
        &mut conn,
        &jobs::ProgramChat {
            platform: "telegram".into(),
            chat_id: "-100".into(),
            region: None,
        },
        None,
        w.app.now(),
    )
    .await
    .expect("bind");
    drop(conn);
    // Two instances end the contest at once, and one of them again later.
    let other = app_on(db, &w.clock);
    let contest = service::find(&w.app, "oct").expect("oct");
    let due = service::ends_at(&w.app, contest);
    let (a, b) = tokio::join!(
        service::finish(&w.app, "one", contest, "contest-end:oct", due),
        service::finish(&other, "two", contest, "contest-end:oct", due),
    );
    let finished = [a.expect("first"), b.expect("second")];
    assert_eq!(
        finished.iter().filter(|f| **f).count(),
        1,
        "one instance ended it"
    );
    assert!(
        !service::finish(&w.app, "one", contest, "contest-end:oct", due)
            .await
            .expect("again")
    );
    let mut conn = w.app.store.read().await.expect("conn");
    let prizes = stored::prizes_of(&mut conn, "oct").await.expect("prizes");
    assert_eq!(prizes.len(), 2);
    assert_eq!(
        (
            prizes[0].partner,
            prizes[0].amount_minor,
            prizes[0].period.as_str()
        ),
        (w.alpha, Some(50_000), "2026-10")
    );
    assert_eq!(
        (prizes[1].partner, prizes[1].reward.as_deref()),
        (w.beta, Some("Demo kit"))
    );
    let alpha = partners::get(&mut conn, w.alpha)
        .await
        .expect("get")
        .expect("alpha");
    let doc = rally::features::statements::service::statement(
        &w.app,
        &mut conn,
        &alpha,
        Period::parse("2026-10").expect("p"),
    )
    .await
    .expect("statement");
    let prize_lines: Vec<_> = doc.lines.iter().filter(|l| l.kind == "prize").collect();
    assert_eq!(prize_lines.len(), 1);
    assert_eq!(prize_lines[0].amount_minor, 50_000);
    assert_eq!(
        prize_lines[0].description,
        "Prize for place 1 in October Sprint"
    );
    let posts: i64 = {
        use sqlx::Row;
        sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE dedupe_key LIKE 'contest-end:oct:%'")
            .fetch_one(&mut *conn)
            .await
            .expect("count")
            .try_get("n")
            .expect("n")
    };
    assert_eq!(posts, 1, "the winners are announced once");
    drop(conn);
    let past = text(&w.app, &say(&w.app, "alpha", 1, "/contests past").await);
    assert!(
        past.contains(
            "October Sprint (oct, 2026-10-01 – 2026-10-31): 1. Alpha (¥500.00), 2. Beta (Demo kit)"
        ),
        "{past}"
    );
    let final_board = text(&w.app, &say(&w.app, "beta", 2, "/rank oct").await);
    assert!(
        final_board.contains("final standings") && final_board.contains("You: #2"),
        "{final_board}"
    );
}

async fn update_posts_carry_a_chart(db: &TestDb) {
    let w = world(db).await;
    sale(&w, w.alpha, 5_000, "2026-11-02", "ACME", true).await;
    sale(&w, w.beta, 7_000, "2026-11-03", "Globex", true).await;
    let mut conn = w.app.store.read().await.expect("conn");
    for (platform, chat, region) in [
        ("telegram", "-100", Some("East")),
        ("discord", "555", None),
        ("telegram", "-200", Some("West")),
    ] {
        jobs::bind_chat(
            &mut conn,
            &jobs::ProgramChat {
                platform: platform.into(),
                chat_id: chat.into(),
                region: region.map(String::from),
            },
            None,
            w.app.now(),
        )
        .await
        .expect("bind");
    }
    drop(conn);
    let app = Arc::new(app_on(db, &w.clock));
    let scheduler = rally::scheduler::Scheduler::new(app.clone());
    scheduler.tick().await.expect("first look");
    // The next 09:00 in Shanghai is 15 hours away.
    w.clock.advance_ms(15 * 3_600_000 + 1_000);
    scheduler.tick().await.expect("due");
    scheduler.tick().await.expect("nothing twice");
    let mut conn = app.store.read().await.expect("conn");
    let rows = {
        use sqlx::Row;
        sqlx::query("SELECT platform, target, reply FROM outbox WHERE dedupe_key LIKE 'contest-updates:nov:%' ORDER BY id")
            .fetch_all(&mut *conn)
            .await
            .expect("rows")
            .into_iter()
            .map(|r| (r.get::<String, _>("platform"), r.get::<String, _>("target"), r.get::<String, _>("reply")))
            .collect::<Vec<_>>()
    };
    // All program chats: the contest posts to "all".
    assert_eq!(rows.len(), 3, "{rows:?}");
    let reply: Reply = serde_json::from_str(&rows[0].2).expect("reply");
    assert_eq!(reply.lines[0].key, "contest-post-header");
    assert_eq!(reply.lines[1].key, "contest-line-money");
    let chart_id = reply.chart.expect("a chart");
    let (mime, png) = stored::image(&mut conn, chart_id)
        .await
        .expect("image")
        .expect("stored");
    assert_eq!(mime, "image/png");
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let info = decoder.read_info().expect("a PNG").info().clone();
    assert_eq!((info.width, info.height), (chart::WIDTH, chart::height(2)));
}

on_both_backends!(
    standings_follow_approvals_and_rejections,
    a_correction_after_a_lock_moves_only_running_contests,
    metrics_on_hand_computed_sales,
    prizes_are_booked_once,
    update_posts_carry_a_chart,
);

/// Decodes a PNG into (width, height, RGB bytes).
fn decode(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("frame");
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

#[test]
fn the_chart_is_a_png_of_the_expected_size_with_cjk_names_drawn() {
    let c = chart::Chart {
        title: "第四季度增长杯 Q4 Growth Cup".into(),
        subtitle: "12 days left · 3 qualified".into(),
        bars: vec![
            chart::Bar {
                place: 1,
                name: "王氏电子".into(),
                value: "+52.0%".into(),
                length: 1.0,
            },
            chart::Bar {
                place: 2,
                name: "Alice Retail".into(),
                value: "+20.1%".into(),
                length: 0.4,
            },
            chart::Bar {
                place: 3,
                name: "李记商贸".into(),
                value: "¥12,000.00".into(),
                length: 0.1,
            },
        ],
    };
    let png_bytes = chart::draw(&c).expect("drawn");
    let (width, height, rgb) = decode(&png_bytes);
    assert_eq!((width, height), (chart::WIDTH, chart::height(3)));
    let pixels: Vec<&[u8]> = rgb.chunks(3).collect();
    let inked = pixels.iter().filter(|p| p.iter().any(|v| *v < 200)).count();
    assert!(inked > pixels.len() / 50, "not blank: {inked} inked pixels");
    let gold = pixels
        .iter()
        .filter(|p| p[0] == 212 && p[1] == 160 && p[2] == 23)
        .count();
    assert!(gold > 1_000, "the first bar is drawn");

    // Each glyph of 王氏电子 is a letter, not the font's empty box: compare it with a
    // character no font has (a private-use code point draws the missing-glyph box).
    let (_, _, missing) = chart::text_mask("\u{F8FF}", 40.0).expect("missing glyph");
    let ink = |mask: &[u8]| mask.iter().filter(|v| **v < 128).count();
    assert!(ink(&missing) > 0 || missing.iter().all(|v| *v == 255));
    for c in "王氏电子".chars() {
        let (_, _, mask) = chart::text_mask(&c.to_string(), 40.0).expect("glyph");
        assert!(ink(&mask) > 30, "{c} drew nothing");
        assert_ne!(mask, missing, "{c} is drawn as the missing-glyph box");
    }
    // And the name in the chart is those letters: the name's row has ink where a lone
    // missing-glyph rendering would not match it.
    assert!(chart::has_cjk_and_latin(chart::BUNDLED_FONT));
}

/// The update post reaches a Telegram group as a photo (multipart `sendPhoto` with the text as
/// caption) and a Discord channel as a message with the chart attached, through the outbox
/// senders against the fake platforms.
#[tokio::test]
async fn update_posts_reach_both_platforms_with_the_chart() {
    use rally::outbox::{Sender, SenderSettings};
    use rally::platforms::discord::DiscordTransport;
    use rally::platforms::telegram::{Telegram, TelegramTransport, build_bot};
    use rally_testkit::discord::{self as fake_discord, FakeDiscord};
    use rally_testkit::telegram::FakeTelegram;
    use std::time::Duration;

    let db = TestDb::sqlite().await;
    let w = world(&db).await;
    sale(&w, w.alpha, 5_000, "2026-11-02", "ACME", true).await;
    sale(&w, w.beta, 7_000, "2026-11-03", "Globex", true).await;
    let mut conn = w.app.store.read().await.expect("conn");
    for (platform, chat) in [("telegram", "-100"), ("discord", "777000")] {
        let chat = jobs::ProgramChat {
            platform: platform.into(),
            chat_id: chat.into(),
            region: None,
        };
        jobs::bind_chat(&mut conn, &chat, None, w.app.now())
            .await
            .expect("bind");
    }
    drop(conn);
    let app = Arc::new(app_on(&db, &w.clock));
    let scheduler = rally::scheduler::Scheduler::new(app.clone());
    scheduler.tick().await.expect("first look");
    w.clock.advance_ms(15 * 3_600_000 + 1_000);
    scheduler.tick().await.expect("due");

    let telegram = FakeTelegram::start("RallyBot").await;
    let discord = FakeDiscord::start().await;
    discord.add_guild_channel(777000);
    let stop = tokio_util::sync::CancellationToken::new();
    let bot = build_bot(telegram.token(), &telegram.url()).expect("bot");
    let tg = TelegramTransport(Telegram::new(bot, app.clone(), telegram.bot_username()));
    let mut quick = SenderSettings::telegram(&Default::default());
    quick.idle_poll = Duration::from_millis(50);
    tokio::spawn(Sender::new(app.clone(), Arc::new(tg), quick).run(stop.clone()));
    let dc = DiscordTransport::new(app.clone(), fake_discord::TOKEN, Some(&discord.url()))
        .expect("transport");
    let mut quick = SenderSettings::discord(&Default::default());
    quick.idle_poll = Duration::from_millis(50);
    tokio::spawn(Sender::new(app.clone(), Arc::new(dc), quick).run(stop.clone()));

    let wait = Duration::from_secs(20);
    let photo = telegram
        .wait_for_call(
            "sendPhoto",
            |c| c.status == 200 && c.params["chat_id"] == -100,
            wait,
        )
        .await
        .unwrap_or_else(|| {
            panic!(
                "the November Cup photo: {:?}",
                telegram
                    .calls()
                    .iter()
                    .map(|c| (c.method.clone(), c.status, c.params.to_string()))
                    .collect::<Vec<_>>()
            )
        });
    let caption = photo.params["caption"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        caption.contains("November Cup") && caption.contains("1. Beta — ¥7,000.00"),
        "{caption}"
    );
    let file = photo.files.first().expect("an uploaded file");
    let (width, height, _) = decode(&file.data);
    assert_eq!((width, height), (chart::WIDTH, chart::height(2)));

    let message = discord
        .wait_for_call(
            "POST",
            "/channels/777000/messages",
            |c| c.status < 300 && !c.files.is_empty(),
            wait,
        )
        .await
        .unwrap_or_else(|| {
            panic!(
                "the Discord post: {:?}",
                discord
                    .calls()
                    .iter()
                    .map(|c| (
                        c.method.clone(),
                        c.path.clone(),
                        c.status,
                        c.files.len(),
                        c.body.to_string()
                    ))
                    .collect::<Vec<_>>()
            )
        });
    assert!(
        message.body["content"]
            .as_str()
            .unwrap_or_default()
            .contains("November Cup")
    );
    let (width, _, _) = decode(&message.files[0].data);
    assert_eq!(width, chart::WIDTH);
    assert_eq!(message.files[0].file_name.as_deref(), Some("standings.png"));
    stop.cancel();
}
