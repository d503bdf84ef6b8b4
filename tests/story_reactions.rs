//! Story reactions through the real teloxide client and the fake Bot API: a story posted by the
//! outbox to a program chat with its buttons, a press updating the counts on that very message
//! (a second press by the same member taking it back), and Telegram's own `message_reaction`
//! updates on the post counting once per member.

use std::sync::Arc;
use std::time::Duration;

use rally::config::{AdminId, AdminPlatform};
use rally::outbox::{Sender, SenderSettings};
use rally::platforms::telegram::{Telegram, TelegramTransport, build_bot};
use rally_testkit::telegram::{ChatRef, FakeTelegram, UserRef};
use rally_testkit::{TestClock, TestDb};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(10);
const MANAGER: i64 = 1001;
const GROUP: i64 = -700;

fn text_of(params: &Value) -> String {
    params["text"]
        .as_str()
        .or(params["caption"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The button labels of a `reply_markup`.
fn labels(markup: &Value) -> Vec<String> {
    markup["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["text"].as_str().map(String::from))
        .collect()
}

async fn reactions(db: &TestDb) -> i64 {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM story_reactions")
        .fetch_one(db.store.pool())
        .await
        .expect("count");
    row.0
}

async fn wait_for_reactions(db: &TestDb, want: i64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while reactions(db).await != want {
        assert!(
            tokio::time::Instant::now() < deadline,
            "reactions stayed at {}, wanted {want}",
            reactions(db).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn buttons_and_telegram_reactions_count_once_per_member() {
    let fake = FakeTelegram::start("RallyBot").await;
    let db = TestDb::sqlite().await;
    let mut config = rally_testkit::test_config(&db.url);
    config.admins.push(AdminId {
        platform: AdminPlatform::Telegram,
        id: MANAGER as u64,
    });
    let mut app = rally::app::App::new(
        db.store.clone(),
        Arc::new(config),
        Box::new(TestClock::new()),
    )
    .expect("app");
    app.bot_username = Some("RallyBot".into());
    let app = Arc::new(app);
    rally::demo::seed(&app).await.expect("seed");
    let bot = build_bot(fake.token(), &fake.url()).expect("bot");
    let tg = Telegram::new(bot, app.clone(), "RallyBot".into());
    let stop = CancellationToken::new();
    let poller = tokio::spawn({
        let (tg, stop) = (tg.clone(), stop.clone());
        async move { tg.poll(stop).await }
    });
    let outbox = Sender::new(
        app.clone(),
        Arc::new(TelegramTransport(tg)),
        SenderSettings::telegram(&Default::default()),
    );
    tokio::spawn(outbox.run(stop.clone()));

    // Two partners' members on Telegram, joined with invites; a bound program chat.
    let manager = UserRef::new(MANAGER, "Mei");
    let group = ChatRef::group(GROUP, "Partners");
    let say = |from: &UserRef, chat: ChatRef, text: &str| {
        fake.push_update(FakeTelegram::text_message(chat, from.clone(), text));
    };
    say(&manager, group.clone(), "/bindchat");
    let mut users = Vec::new();
    for (id, name, partner) in [(3001, "Ann", "Ann Co"), (3002, "Ben", "Ben Co")] {
        let user = UserRef::new(id, name).language("en");
        say(
            &manager,
            manager.private_chat(),
            &format!("/invite \"{partner}\" dealer"),
        );
        let invite = fake
            .wait_for_call(
                "sendMessage",
                |c| {
                    c.params["chat_id"].as_i64() == Some(MANAGER)
                        && text_of(&c.params).contains(partner)
                        && text_of(&c.params).contains("start=")
                },
                WAIT,
            )
            .await
            .expect("invite");
        let code = rally_testkit::code_after(&text_of(&invite.params), "start=");
        say(&user, user.private_chat(), &format!("/start {code}"));
        fake.wait_for_call(
            "sendMessage",
            |c| c.params["chat_id"].as_i64() == Some(id),
            WAIT,
        )
        .await
        .expect("joined");
        users.push(user);
    }
    let (ann, ben) = (&users[0], &users[1]);

    // Ann's story goes to the program chat with three buttons at zero.
    say(ann, ann.private_chat(), "/story We closed the ACME deal");
    let post = fake
        .wait_for_call(
            "sendMessage",
            |c| {
                c.params["chat_id"].as_i64() == Some(GROUP)
                    && text_of(&c.params).contains("ACME deal")
            },
            WAIT,
        )
        .await
        .expect("story posted");
    assert_eq!(
        labels(&post.params["reply_markup"]),
        ["👏 0", "🔥 0", "💡 0"]
    );
    let message_id = (1..200)
        .find(|id| {
            fake.message(GROUP, *id)
                .is_some_and(|m| text_of(&m).contains("ACME deal"))
        })
        .expect("the post's message id");
    let action = post.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .expect("callback data")
        .to_string();

    // Ben presses 👏: the post's buttons now say 1, its text stays.
    let edits = |fake: &FakeTelegram| fake.calls_to("editMessageReplyMarkup").len();
    fake.push_update(FakeTelegram::callback_query(
        ben.clone(),
        group.clone(),
        message_id,
        &action,
    ));
    let edit = fake
        .wait_for_call(
            "editMessageReplyMarkup",
            |c| {
                labels(&c.params["reply_markup"])
                    .first()
                    .map(String::as_str)
                    == Some("👏 1")
            },
            WAIT,
        )
        .await
        .expect("counts updated");
    assert_eq!(edit.params["message_id"].as_i64(), Some(message_id));
    assert!(
        fake.message(GROUP, message_id)
            .is_some_and(|m| text_of(&m).contains("ACME deal"))
    );
    // A second press takes it back.
    let before = edits(&fake);
    fake.push_update(FakeTelegram::callback_query(
        ben.clone(),
        group.clone(),
        message_id,
        &action,
    ));
    fake.wait_for_call(
        "editMessageReplyMarkup",
        |c| {
            labels(&c.params["reply_markup"])
                .first()
                .map(String::as_str)
                == Some("👏 0")
        },
        WAIT,
    )
    .await
    .expect("taken back");
    assert_eq!(edits(&fake), before + 1);
    wait_for_reactions(&db, 0).await;

    // Telegram's own reactions on the post: 👏 then 👏 + 🔥, the same update twice, then 🔥
    // taken away; a reaction on another message counts for nothing.
    let react = |old: &[&str], new: &[&str], message: i64| {
        fake.push_update(FakeTelegram::message_reaction(
            group.clone(),
            ben.clone(),
            message,
            old,
            new,
        ));
    };
    react(&[], &["👏"], message_id);
    wait_for_reactions(&db, 1).await;
    react(&["👏"], &["👏", "🔥"], message_id);
    react(&["👏"], &["👏", "🔥"], message_id);
    wait_for_reactions(&db, 2).await;
    react(&["👏", "🔥"], &["👏"], message_id);
    wait_for_reactions(&db, 1).await;
    react(&[], &["👏"], message_id + 1000);
    // Ann's own press adds hers: one per member and kind.
    fake.push_update(FakeTelegram::callback_query(
        ann.clone(),
        group.clone(),
        message_id,
        &action,
    ));
    fake.wait_for_call(
        "editMessageReplyMarkup",
        |c| {
            labels(&c.params["reply_markup"])
                .first()
                .map(String::as_str)
                == Some("👏 2")
        },
        WAIT,
    )
    .await
    .expect("two claps");
    assert_eq!(reactions(&db).await, 2);

    stop.cancel();
    let _ = tokio::time::timeout(WAIT, poller).await;
}
