//! Kudos end to end through the handler, on SQLite and PostgreSQL: the daily allowance (refused
//! attempts do not count), the cooldown per receiver, never to oneself or one's own partner, a
//! reason required, receivers named by @username (remembered from any message), by reply or by
//! partner name, points for the receiver's partner, the post to the program chat, a redelivery
//! changing nothing, and `/kudos` alone.

use std::sync::Arc;

use rally::app::App;
use rally::chat::handler::{Incoming, Outcome};
use rally::engine::ids::PartnerId;
use rally::engine::partner::{Platform, Role};
use rally::store::jobs::{ProgramChat, bind_chat};
use rally::store::{members, points};
use rally_testkit::{TestClock, TestDb, keys, say, test_config, text};

rally_testkit::on_both_backends!(
    allowance_counts_only_kudos_given,
    cooldown_per_receiver,
    never_to_oneself_or_ones_own_partner,
    receivers_by_username_reply_and_partner_name,
    kudos_give_points_post_once_and_show_the_week,
);

/// The demo program with `[kudos] daily = 2`, `cooldown_minutes = 60`.
async fn seeded(db: &TestDb, clock: &TestClock) -> App {
    let mut config = test_config(&db.url);
    config.kudos.daily = 2;
    config.kudos.cooldown_minutes = 60;
    let app = App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone())).expect("app");
    rally::demo::seed(&app).await.expect("seed");
    app
}

/// A message from a console member with a username and, optionally, the author replied to.
async fn said(
    app: &App,
    who: &str,
    id: u64,
    text: &str,
    username: Option<&str>,
    reply_to: Option<&str>,
) -> Outcome {
    app.handle(&Incoming {
        platform: Platform::Console,
        chat_id: "group".into(),
        private_chat: false,
        sender_id: who.into(),
        sender_name: who.into(),
        message_id: id.to_string(),
        text: text.into(),
        locale: None,
        attachments: Vec::new(),
        username: username.map(String::from),
        reply_to: reply_to.map(String::from),
        pressed_message: None,
    })
    .await
}

async fn partner_of(app: &App, handle: &str) -> PartnerId {
    let mut conn = app.store.read().await.expect("conn");
    members::find(&mut conn, Platform::Console, handle)
        .await
        .expect("find")
        .and_then(|m| m.partner_id)
        .expect("partner")
}

async fn kudos_rows(app: &App) -> i64 {
    use sqlx::Row;
    let mut conn = app.store.read().await.expect("conn");
    sqlx::query("SELECT COUNT(*) FROM kudos")
        .fetch_one(&mut *conn)
        .await
        .expect("count")
        .get::<i64, _>(0)
}

async fn allowance_counts_only_kudos_given(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    // Refused attempts first: none of them uses the allowance.
    let refused = [
        ("/kudos 王氏电子 thanks", "kudos-own-partner"),
        ("/kudos Nobody thanks", "kudos-unknown"),
        ("/kudos 李记商贸", "kudos-no-reason"),
        ("/kudos @nobody thanks", "kudos-unknown"),
    ];
    for (n, (command, key)) in refused.iter().enumerate() {
        let out = say(&app, "wang", n as u64 + 1, command).await;
        assert_eq!(keys(&out), [*key], "{command}");
    }
    assert_eq!(kudos_rows(&app).await, 0);
    let first = say(&app, "wang", 10, "/kudos 李记商贸 great referral").await;
    assert_eq!(keys(&first), ["kudos-sent"]);
    assert!(
        text(&app, &first).contains("1 left today"),
        "{}",
        text(&app, &first)
    );
    let second = say(&app, "wang", 11, "/kudos \"Alice Retail\" shared a lead").await;
    assert_eq!(keys(&second), ["kudos-sent"]);
    let third = say(&app, "wang", 12, "/kudos 张家批发 helped at the fair").await;
    assert_eq!(keys(&third), ["kudos-over-allowance"]);
    assert_eq!(kudos_rows(&app).await, 2);
    // A new day, a new allowance.
    clock.advance_ms(24 * 3_600_000);
    let next_day = say(&app, "wang", 13, "/kudos 张家批发 helped at the fair").await;
    assert_eq!(keys(&next_day), ["kudos-sent"]);
}

async fn cooldown_per_receiver(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    assert_eq!(
        keys(&say(&app, "wang", 1, "/kudos 李记商贸 thanks").await),
        ["kudos-sent"]
    );
    clock.advance_ms(30 * 60_000);
    let soon = say(&app, "wang", 2, "/kudos 李记商贸 thanks again").await;
    assert_eq!(keys(&soon), ["kudos-cooldown"]);
    assert!(
        text(&app, &soon).contains("30 min"),
        "{}",
        text(&app, &soon)
    );
    // Another receiver is fine meanwhile; the refused one did not count.
    assert_eq!(
        keys(&say(&app, "wang", 3, "/kudos 张家批发 thanks").await),
        ["kudos-sent"]
    );
    assert_eq!(kudos_rows(&app).await, 2);
    clock.advance_ms(24 * 3_600_000);
    assert_eq!(
        keys(&say(&app, "wang", 4, "/kudos 李记商贸 thanks").await),
        ["kudos-sent"]
    );
}

async fn never_to_oneself_or_ones_own_partner(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    // A second member of wang's partner.
    {
        let mut tx = app.store.begin().await.expect("tx");
        let colleague = members::upsert(&mut tx, Platform::Console, "wang2", "Wang Two", 0)
            .await
            .expect("upsert");
        let partner = members::find(&mut tx, Platform::Console, "wang")
            .await
            .expect("find")
            .and_then(|m| m.partner_id);
        members::set_role(&mut tx, colleague.id, partner, Role::Partner)
            .await
            .expect("role");
        tx.commit().await.expect("commit");
    }
    let _ = said(&app, "wang", 1, "hello", Some("Wang_Boss"), None).await;
    let _ = said(&app, "wang2", 2, "hi", Some("wang_two"), None).await;
    let me = said(&app, "wang", 3, "/kudos @wang_boss me", None, None).await;
    assert_eq!(keys(&me), ["kudos-self"]);
    let colleague = said(&app, "wang", 4, "/kudos @wang_two good job", None, None).await;
    assert_eq!(keys(&colleague), ["kudos-own-partner"]);
    let replied = said(&app, "wang", 5, "/kudos good job", None, Some("wang2")).await;
    assert_eq!(keys(&replied), ["kudos-own-partner"]);
    let replied_self = said(&app, "wang", 6, "/kudos good job", None, Some("wang")).await;
    assert_eq!(keys(&replied_self), ["kudos-self"]);
    let stranger = said(&app, "wang", 7, "/kudos good job", None, Some("nobody")).await;
    assert_eq!(keys(&stranger), ["kudos-unknown-author"]);
    assert_eq!(kudos_rows(&app).await, 0);
}

async fn receivers_by_username_reply_and_partner_name(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    // li is known by the username of any message li sent, commands or not.
    let _ = said(&app, "li", 1, "good morning", Some("@Li_Ming"), None).await;
    let by_name = said(
        &app,
        "wang",
        2,
        "/kudos @LI_MING thanks for the intro",
        None,
        None,
    )
    .await;
    assert_eq!(keys(&by_name), ["kudos-sent"]);
    assert!(
        text(&app, &by_name).contains("李记商贸"),
        "{}",
        text(&app, &by_name)
    );
    // A changed username is remembered; the old one no longer finds li.
    let _ = said(&app, "li", 3, "/rank", Some("liming2"), None).await;
    let old = said(&app, "zhang", 4, "/kudos @li_ming thanks", None, None).await;
    assert_eq!(keys(&old), ["kudos-unknown"]);
    let new = said(&app, "zhang", 5, "/kudos @liming2 thanks", None, None).await;
    assert_eq!(keys(&new), ["kudos-sent"]);
    // In a reply, every word is the reason, even a partner's name.
    let reply = said(
        &app,
        "alice",
        6,
        "/kudos 王氏电子 style hustle",
        None,
        Some("li"),
    )
    .await;
    assert_eq!(keys(&reply), ["kudos-sent"]);
    use sqlx::Row;
    let mut conn = app.store.read().await.expect("conn");
    let reason: String = sqlx::query("SELECT reason FROM kudos ORDER BY id DESC LIMIT 1")
        .fetch_one(&mut *conn)
        .await
        .expect("row")
        .get(0);
    assert_eq!(reason, "王氏电子 style hustle");
}

async fn kudos_give_points_post_once_and_show_the_week(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    {
        let mut tx = app.store.begin().await.expect("tx");
        let chat = ProgramChat {
            platform: "telegram".into(),
            chat_id: "-200".into(),
            region: None,
        };
        bind_chat(&mut tx, &chat, None, 0).await.expect("bind");
        tx.commit().await.expect("commit");
    }
    let li = partner_of(&app, "li").await;
    let before = {
        let mut conn = app.store.read().await.expect("conn");
        points::total(&mut conn, li).await.expect("total")
    };
    let given = say(&app, "wang", 1, "/kudos 李记商贸 great referral").await;
    assert_eq!(keys(&given), ["kudos-sent"]);
    // The same message delivered again: the stored answer, nothing more.
    let again = say(&app, "wang", 1, "/kudos 李记商贸 great referral").await;
    assert_eq!(keys(&again), ["kudos-sent"]);
    assert_eq!(kudos_rows(&app).await, 1);
    use sqlx::Row;
    let mut conn = app.store.read().await.expect("conn");
    let after = points::total(&mut conn, li).await.expect("total");
    assert_eq!(after, before + 10);
    let posts: i64 = sqlx::query(
        "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'kudos:%:chat:telegram:-200'",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("count")
    .get(0);
    assert_eq!(posts, 1);
    drop(conn);

    let status = say(&app, "wang", 2, "/kudos").await;
    assert_eq!(
        keys(&status),
        ["kudos-status", "kudos-week-header", "kudos-week-line"]
    );
    let shown = text(&app, &status);
    assert!(shown.contains("1 of 2"), "{shown}");
    assert!(shown.contains("李记商贸 — 1"), "{shown}");
    // A manager (no partner of their own) may thank anyone.
    let manager = say(&app, "manager", 3, "/kudos 王氏电子 top month").await;
    assert_eq!(keys(&manager), ["kudos-sent"]);
}
