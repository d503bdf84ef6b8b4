//! One person, two accounts: a Telegram and a Discord account joined with a personal `/link`
//! code get notices where the person last spoke to the bot, or where `/notify` says; a person
//! counts once in a broadcast's audience. On SQLite and on PostgreSQL.

use rally::app::App;
use rally::chat::handler::{Incoming, Outcome};
use rally::config::AudienceFilter;
use rally::engine::partner::Platform;
use rally::store::members;
use rally_testkit::{TestClock, TestDb, app, first_int_arg, first_text_arg, keys, say};

rally_testkit::on_both_backends!(
    notices_follow_the_person_across_platforms,
    notify_refuses_what_it_cannot_do,
);

/// Sends `text` from a private chat with the bot on `platform`.
async fn speak(app: &App, platform: Platform, user: &str, id: u64, text: &str) -> Outcome {
    app.handle(&Incoming {
        platform,
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

/// Where the outbox row for the approval notice of `sale` goes: (platform, target).
async fn approval_target(db: &TestDb, sale: i64) -> (String, String) {
    sqlx::query_as(
        "SELECT platform, target FROM outbox WHERE reply LIKE $1 ORDER BY id DESC LIMIT 1",
    )
    .bind(format!("%your-sale-approved%\"sale\"%{sale}%"))
    .fetch_optional(db.store.pool())
    .await
    .expect("outbox")
    .unwrap_or_else(|| panic!("no approval notice for sale {sale}: {:?}", outbox_dump(db)))
}

fn outbox_dump(db: &TestDb) -> Vec<(String, String, String)> {
    let pool = db.store.pool().clone();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .expect("rt")
            .block_on(async move {
                sqlx::query_as("SELECT platform, target, reply FROM outbox")
                    .fetch_all(&pool)
                    .await
                    .expect("dump")
            })
    })
    .join()
    .expect("thread")
}

/// A sale from the Discord account, pending (above the demo's auto-approval), approved by the
/// console manager; returns its id.
async fn approved_sale(app: &App, id: u64) -> i64 {
    let reported = speak(app, Platform::Discord, "d1", id, "/report 9000 ACME").await;
    assert_eq!(keys(&reported)[0], "report-pending", "{reported:?}");
    let sale = first_int_arg(&reported, "sale");
    let approved = say(app, "manager", id, &format!("/approve {sale}")).await;
    assert!(
        keys(&approved).iter().any(|k| k == "sale-approved"),
        "{approved:?}"
    );
    sale
}

/// Demo program, a partner "Cross Co" joined on Telegram (`t1`), and `d1` on Discord linked to
/// the same person with a personal code.
async fn linked_person(db: &TestDb, clock: &TestClock) -> App {
    let app = app(db, clock);
    assert!(rally::demo::seed(&app).await.expect("seed"));
    let invite = say(&app, "manager", 1, "/invite \"Cross Co\" dealer East").await;
    let code = first_text_arg(&invite, "code");
    let joined = speak(&app, Platform::Telegram, "t1", 1, &format!("/start {code}")).await;
    assert_eq!(keys(&joined), ["joined-partner", "joined-next"]);
    let link = speak(&app, Platform::Telegram, "t1", 2, "/link").await;
    let link_code = first_text_arg(&link, "code");
    let linked = speak(
        &app,
        Platform::Discord,
        "d1",
        1,
        &format!("/link {link_code}"),
    )
    .await;
    assert_eq!(
        keys(&linked),
        ["joined-partner", "joined-linked", "joined-next"]
    );
    app
}

async fn notices_follow_the_person_across_platforms(db: &TestDb) {
    let clock = TestClock::new();
    let app = linked_person(db, &clock).await;

    // The person last spoke on Discord (the report): the approval goes there.
    let sale = approved_sale(&app, 10).await;
    assert_eq!(
        approval_target(db, sale).await,
        ("discord".into(), "dm:d1".into())
    );

    // Anything said on Telegram moves their notices to Telegram; a redelivered message does
    // not change that.
    speak(&app, Platform::Telegram, "t1", 20, "/sales").await;
    let reported = speak(&app, Platform::Discord, "d1", 21, "/report 9100 ACME").await;
    let sale = first_int_arg(&reported, "sale");
    speak(&app, Platform::Telegram, "t1", 22, "/rank").await;
    say(&app, "manager", 23, &format!("/approve {sale}")).await;
    assert_eq!(
        approval_target(db, sale).await,
        ("telegram".into(), "t1".into())
    );

    // `/notify discord` wins over where they last spoke.
    let chosen = speak(&app, Platform::Telegram, "t1", 30, "/notify discord").await;
    assert_eq!(keys(&chosen), ["notify-set"]);
    let status = speak(&app, Platform::Telegram, "t1", 31, "/notify").await;
    assert_eq!(keys(&status), ["notify-current"]);
    assert_eq!(first_text_arg(&status, "choice"), "discord");
    assert_eq!(first_text_arg(&status, "platforms"), "telegram, discord");
    let sale = approved_sale(&app, 32).await;
    speak(&app, Platform::Telegram, "t1", 33, "/rank").await;
    let sale2 = {
        let reported = speak(&app, Platform::Discord, "d1", 34, "/report 9200 ACME").await;
        let sale2 = first_int_arg(&reported, "sale");
        speak(&app, Platform::Telegram, "t1", 35, "/rank").await;
        say(&app, "manager", 36, &format!("/approve {sale2}")).await;
        sale2
    };
    for sale in [sale, sale2] {
        assert_eq!(
            approval_target(db, sale).await,
            ("discord".into(), "dm:d1".into())
        );
    }

    // A chosen account that refused the bot is skipped: the other one gets the notice.
    let mut conn = db.store.read().await.expect("conn");
    let d1 = members::find(&mut conn, Platform::Discord, "d1")
        .await
        .expect("find")
        .expect("d1");
    rally::store::outbox::mark_unreachable(&mut conn, d1.id, 0)
        .await
        .expect("unreachable");
    drop(conn);
    let reported = speak(&app, Platform::Discord, "d1", 40, "/report 9300 ACME").await;
    let sale = first_int_arg(&reported, "sale");
    say(&app, "manager", 41, &format!("/approve {sale}")).await;
    assert_eq!(
        approval_target(db, sale).await,
        ("telegram".into(), "t1".into())
    );

    // `/notify auto` goes back to where they last spoke.
    let auto = speak(&app, Platform::Discord, "d1", 50, "/notify auto").await;
    assert_eq!(keys(&auto), ["notify-auto"]);
    let status = speak(&app, Platform::Discord, "d1", 51, "/notify").await;
    assert_eq!(first_text_arg(&status, "choice"), "auto");
}

async fn notify_refuses_what_it_cannot_do(db: &TestDb) {
    let clock = TestClock::new();
    let app = linked_person(db, &clock).await;

    let unknown = speak(&app, Platform::Telegram, "t1", 10, "/notify slack").await;
    assert_eq!(keys(&unknown), ["notify-unknown"]);
    // A member with one account cannot choose a platform they are not on.
    let alone = say(&app, "wang", 11, "/notify telegram").await;
    assert_eq!(keys(&alone), ["notify-no-account"]);
    let stranger = speak(&app, Platform::Telegram, "nobody", 12, "/notify discord").await;
    assert_eq!(keys(&stranger), ["error-not-registered"]);

    // The person counts once in a broadcast to members; the lowest account id stands for them.
    let mut conn = db.store.read().await.expect("conn");
    let everyone = members::audience(&mut conn, &AudienceFilter::default())
        .await
        .expect("audience");
    let t1 = members::find(&mut conn, Platform::Telegram, "t1")
        .await
        .expect("find")
        .expect("t1");
    let d1 = members::find(&mut conn, Platform::Discord, "d1")
        .await
        .expect("find")
        .expect("d1");
    assert!(everyone.contains(&t1.id.min(d1.id)));
    assert!(!everyone.contains(&t1.id.max(d1.id)));
    // Filtered to one platform, each account is reached there.
    let discord_only = members::audience(
        &mut conn,
        &AudienceFilter {
            platform: Some(Platform::Discord),
            ..AudienceFilter::default()
        },
    )
    .await
    .expect("audience");
    assert!(discord_only.contains(&d1.id));
}
