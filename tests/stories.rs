//! Success stories end to end through the handler, on SQLite and PostgreSQL: shared and posted
//! with reaction buttons to the program chats of both platforms, bad input refused with nothing
//! stored, reactions toggled and counted once per member (a redelivered press changes nothing),
//! `/stories`, featuring (points once, audited) and hiding (out of lists, nothing posted), and
//! the story of the week on a seeded week (ties to the earliest, a second run posts nothing).

use sqlx::Row;

use rally::app::App;
use rally::chat::handler::{Incoming, Outcome};
use rally::chat::reply::Arg;
use rally::engine::partner::Platform;
use rally::store::jobs::{ProgramChat, bind_chat};
use rally::store::{members, points};
use rally_testkit::{TestClock, TestDb, first_int_arg, keys, say, text};

rally_testkit::on_both_backends!(
    a_story_is_posted_with_buttons_and_bad_input_changes_nothing,
    reactions_toggle_and_count_once_per_member,
    feature_awards_points_once_and_hide_removes_from_lists,
    the_story_of_the_week_on_a_seeded_week,
    the_demo_has_stories_reactions_kudos_and_badges,
);

async fn seeded(db: &TestDb, clock: &TestClock) -> App {
    let app = rally_testkit::app(db, clock);
    rally::demo::seed(&app).await.expect("seed");
    let mut tx = app.store.begin().await.expect("tx");
    for (platform, chat) in [("telegram", "-100"), ("discord", "555")] {
        let chat = ProgramChat {
            platform: platform.into(),
            chat_id: chat.into(),
            region: None,
        };
        bind_chat(&mut tx, &chat, None, 0).await.expect("bind");
    }
    tx.commit().await.expect("commit");
    app
}

async fn count(app: &App, sql: &'static str) -> i64 {
    let mut conn = app.store.read().await.expect("conn");
    sqlx::query(sql)
        .fetch_one(&mut *conn)
        .await
        .expect("count")
        .get::<i64, _>(0)
}

/// A button press: a message of its own (Telegram's callback id, Discord's interaction id).
async fn press(app: &App, who: &str, press_id: &str, action: &str) -> Outcome {
    app.handle(&Incoming {
        platform: Platform::Console,
        chat_id: "group".into(),
        private_chat: false,
        sender_id: who.into(),
        sender_name: who.into(),
        message_id: format!("cb:{press_id}"),
        text: action.into(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    })
    .await
}

/// The button labels' counts of a reply, in order (👏, 🔥, 💡).
fn counts(outcome: &Outcome) -> Vec<i64> {
    outcome.replies[0]
        .buttons
        .iter()
        .map(|b| match b.label.args.iter().find(|(k, _)| k == "count") {
            Some((_, Arg::Int(n))) => *n,
            other => panic!("no count: {other:?}"),
        })
        .collect()
}

async fn share(app: &App, who: &str, id: u64, story: &str) -> i64 {
    let shared = say(app, who, id, &format!("/story {story}")).await;
    assert_eq!(keys(&shared), ["story-shared"], "{}", text(app, &shared));
    first_int_arg(&shared, "story")
}

async fn a_story_is_posted_with_buttons_and_bad_input_changes_nothing(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    let refused = [("/story", "story-empty"), ("/story    ", "story-empty")];
    for (n, (command, key)) in refused.iter().enumerate() {
        assert_eq!(
            keys(&say(&app, "wang", n as u64 + 1, command).await),
            [*key]
        );
    }
    let long = format!("/story {}", "好".repeat(901));
    assert_eq!(keys(&say(&app, "wang", 5, &long).await), ["story-too-long"]);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stories").await, 0);
    let posts = "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'story:%'";
    assert_eq!(count(&app, posts).await, 0);

    // Lines and quotes are kept as written.
    let story = share(&app, "wang", 6, "We won \"ACME\"\nthree years").await;
    let mut conn = app.store.read().await.expect("conn");
    let stored = rally::store::stories::get(&mut conn, story)
        .await
        .expect("get")
        .expect("story");
    assert_eq!(stored.text, "We won \"ACME\"\nthree years");
    let rows = sqlx::query(
        "SELECT platform, reply FROM outbox WHERE dedupe_key LIKE 'story:%' ORDER BY platform",
    )
    .fetch_all(&mut *conn)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 2, "one post per program chat, both platforms");
    for row in &rows {
        let json: String = row.get(1);
        let reply: rally::chat::reply::Reply = serde_json::from_str(&json).expect("reply");
        let actions: Vec<&str> = reply.buttons.iter().map(|b| b.action.as_str()).collect();
        assert_eq!(
            actions,
            [
                format!("/react {story} clap"),
                format!("/react {story} fire"),
                format!("/react {story} idea")
            ]
        );
    }
    drop(conn);
    // The same message delivered again: one story, one post per chat.
    let _ = say(&app, "wang", 6, "/story We won \"ACME\"\nthree years").await;
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stories").await, 1);
    assert_eq!(count(&app, posts).await, 2);
}

async fn reactions_toggle_and_count_once_per_member(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    let story = share(&app, "wang", 1, "A big win").await;
    let clap = format!("/react {story} clap");
    let first = press(&app, "li", "1", &clap).await;
    assert_eq!(keys(&first), ["story-reacted"]);
    assert!(first.replies[0].refresh_buttons);
    assert_eq!(counts(&first), [1, 0, 0]);
    // The same press delivered again changes nothing.
    assert_eq!(counts(&press(&app, "li", "1", &clap).await), [1, 0, 0]);
    assert_eq!(counts(&press(&app, "zhang", "2", &clap).await), [2, 0, 0]);
    assert_eq!(
        counts(&press(&app, "li", "3", &format!("/react {story} 🔥")).await),
        [2, 1, 0]
    );
    // A second press of the same kind takes it back.
    let back = press(&app, "li", "4", &clap).await;
    assert_eq!(keys(&back), ["story-unreacted"]);
    assert_eq!(counts(&back), [1, 1, 0]);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM story_reactions").await, 2);
    // Bad input: an unknown story, an unknown reaction.
    assert_eq!(
        keys(&press(&app, "li", "5", "/react 999 clap").await),
        ["story-unknown"]
    );
    assert_eq!(
        keys(&press(&app, "li", "6", &format!("/react {story} wow")).await),
        ["error-usage"]
    );
    assert_eq!(count(&app, "SELECT COUNT(*) FROM story_reactions").await, 2);
}

async fn feature_awards_points_once_and_hide_removes_from_lists(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    let first = share(&app, "wang", 1, "First win").await;
    let second = share(&app, "li", 2, "Second win").await;
    let li = {
        let mut conn = app.store.read().await.expect("conn");
        members::find(&mut conn, Platform::Console, "li")
            .await
            .expect("find")
            .and_then(|m| m.partner_id)
            .expect("partner")
    };
    let total = |app: &App| {
        let store = app.store.clone();
        async move {
            let mut conn = store.read().await.expect("conn");
            points::total(&mut conn, li).await.expect("total")
        }
    };
    let before = total(&app).await;
    assert_eq!(
        keys(&say(&app, "li", 3, &format!("/feature {second}")).await),
        ["error-forbidden"]
    );
    let featured = say(&app, "manager", 4, &format!("/feature {second}")).await;
    assert_eq!(keys(&featured), ["story-featured-done"]);
    assert_eq!(total(&app).await, before + 50);
    let again = say(&app, "manager", 5, &format!("/feature {second}")).await;
    assert_eq!(keys(&again), ["story-already-featured"]);
    assert_eq!(total(&app).await, before + 50);
    let reposts = "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'story-featured:%'";
    assert_eq!(count(&app, reposts).await, 2);
    let badge = "SELECT COUNT(*) FROM badges WHERE badge = 'featured'";
    assert_eq!(count(&app, badge).await, 1);

    let listed = text(&app, &say(&app, "zhang", 6, "/stories").await);
    assert!(
        listed.contains(&format!("#{first}")) && listed.contains("⭐"),
        "{listed}"
    );
    let outbox = count(&app, "SELECT COUNT(*) FROM outbox").await;
    let hidden = say(&app, "manager", 7, &format!("/hide {first}")).await;
    assert_eq!(keys(&hidden), ["story-hidden"]);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM outbox").await,
        outbox,
        "nothing posted"
    );
    let audited = "SELECT COUNT(*) FROM audit_log WHERE action IN ('story.hide', 'story.feature')";
    assert_eq!(count(&app, audited).await, 2);
    let listed = text(&app, &say(&app, "zhang", 8, "/stories").await);
    assert!(!listed.contains(&format!("#{first} ")), "{listed}");
    assert_eq!(
        keys(&say(&app, "li", 9, &format!("/react {first} clap")).await),
        ["story-unknown"]
    );
    assert_eq!(
        keys(&say(&app, "manager", 10, &format!("/hide {first}")).await),
        ["story-unknown"]
    );
}

async fn the_story_of_the_week_on_a_seeded_week(db: &TestDb) {
    let clock = TestClock::new();
    let app = seeded(db, &clock).await;
    // Three stories a day apart; the first and the third get two reactions each (a tie: the
    // earliest wins), the second one three but it is hidden.
    let early = share(&app, "wang", 1, "Early").await;
    clock.advance_ms(86_400_000);
    let hidden = share(&app, "li", 2, "Hidden").await;
    clock.advance_ms(86_400_000);
    let late = share(&app, "zhang", 3, "Late").await;
    let mut n = 10;
    for (story, who) in [
        (early, "li"),
        (early, "zhang"),
        (hidden, "wang"),
        (hidden, "zhang"),
        (hidden, "chen"),
        (late, "wang"),
        (late, "li"),
    ] {
        n += 1;
        let _ = press(&app, who, &n.to_string(), &format!("/react {story} clap")).await;
    }
    let _ = say(&app, "manager", 50, &format!("/hide {hidden}")).await;
    clock.advance_ms(86_400_000);
    let due = app.now();
    let ran = rally::features::community::stories::story_of_week(&app, "one", due)
        .await
        .expect("run");
    assert!(ran);
    let again = rally::features::community::stories::story_of_week(&app, "two", due)
        .await
        .expect("run again");
    assert!(!again, "a due time runs once");
    let mut conn = app.store.read().await.expect("conn");
    let rows = sqlx::query("SELECT reply FROM outbox WHERE dedupe_key LIKE 'job:story-of-week:%'")
        .fetch_all(&mut *conn)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 2, "posted once to each program chat");
    let reply: rally::chat::reply::Reply =
        serde_json::from_str(&rows[0].get::<String, _>(0)).expect("reply");
    assert_eq!(reply.lines[0].key, "story-of-week");
    assert!(
        reply.lines[0]
            .args
            .contains(&("story".to_string(), Arg::Int(early))),
        "{reply:?}"
    );
    drop(conn);
    // A week with no reactions posts nothing.
    clock.advance_ms(8 * 86_400_000);
    let quiet = app.now();
    rally::features::community::stories::story_of_week(&app, "one", quiet)
        .await
        .expect("quiet week");
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM outbox WHERE dedupe_key LIKE 'job:story-of-week:%'"
        )
        .await,
        2
    );
}

async fn the_demo_has_stories_reactions_kudos_and_badges(db: &TestDb) {
    let clock = TestClock::new();
    let app = rally_testkit::app(db, &clock);
    rally::demo::seed(&app).await.expect("seed");
    rally::demo::seed_community(&app).await.expect("community");
    rally::demo::seed_community(&app)
        .await
        .expect("community again adds nothing");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM stories").await, 3);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM story_reactions").await, 9);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM kudos").await, 4);
    let featured = "SELECT COUNT(*) FROM badges WHERE badge = 'featured'";
    assert_eq!(count(&app, featured).await, 1);
    let certified = "SELECT COUNT(*) FROM badges WHERE badge = 'certified'";
    assert!(count(&app, certified).await >= 3);
    let listed = say(&app, "li", 1, "/stories").await;
    assert_eq!(keys(&listed)[0], "stories-header");
    assert!(keys(&listed).contains(&"stories-week".to_string()));
    let week = say(&app, "li", 2, "/kudos").await;
    assert!(
        keys(&week).contains(&"kudos-week-line".to_string()),
        "{}",
        text(&app, &week)
    );
}
