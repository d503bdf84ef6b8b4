//! Every post of a story shows the current reaction counts, on SQLite and PostgreSQL, through
//! the real teloxide and serenity clients against the fake Bot API and the fake Discord: a story
//! posted to two Telegram groups and a Discord channel; a press in one group is shown at once on
//! the pressed post and by the outbox on the others (the pressed one is not edited again); a
//! redelivered press, or a redelivered Telegram reaction, changes nothing; a press on Discord
//! and Telegram's own reactions reach every post; an edit to what a post shows already ("message
//! is not modified") is done; a burst of changes leaves one waiting edit per post; a deleted
//! post fails its edit once and is forgotten.

use std::sync::Arc;
use std::time::Duration;

use rally::engine::partner::{Platform, Role};
use rally::outbox::{Sender, SenderSettings};
use rally::store::jobs::{ProgramChat, bind_chat};
use rally::store::outbox::{self as rows, NewOutgoing};
use rally::store::{members, partners};
use rally_testkit::discord::{self as fake_discord, DiscordUser, FakeDiscord};
use rally_testkit::telegram::{ChatRef, FakeTelegram, UserRef};
use rally_testkit::{TestClock, TestDb, first_int_arg, keys, say};
use serde_json::Value;
use sqlx::Row;
use tokio_util::sync::CancellationToken;

rally_testkit::on_both_backends!(
    a_change_reaches_every_post_on_both_platforms,
    a_deleted_post_fails_once_and_is_forgotten,
    edits_of_a_post_coalesce_while_one_waits,
);

const WAIT: Duration = Duration::from_secs(15);
const GROUP_A: i64 = -801;
const GROUP_B: i64 = -802;
const CHANNEL: u64 = fake_discord::GUILD_CHANNEL_ID;
const ANN: i64 = 4001;
const BEN: i64 = 4002;
const ZED: u64 = 4003;

/// Both bots and both outbox senders on one app, the program chats bound, three partner
/// members (Ann and Ben on Telegram, Zed on Discord).
struct World {
    app: Arc<rally::app::App>,
    telegram: FakeTelegram,
    discord: FakeDiscord,
    shards: Arc<serenity::gateway::ShardManager>,
    stop: CancellationToken,
}

impl World {
    async fn start(db: &TestDb) -> World {
        let telegram = FakeTelegram::start("RallyBot").await;
        let discord = FakeDiscord::start().await;
        let clock = TestClock::new();
        let mut config = rally_testkit::test_config(&db.url);
        config.discord.guild_ids = vec![fake_discord::GUILD_ID];
        let mut app =
            rally::app::App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone()))
                .expect("app");
        app.bot_username = Some("RallyBot".into());
        let app = Arc::new(app);
        rally::demo::seed(&app).await.expect("seed");

        let mut tx = app.store.begin().await.expect("tx");
        let partner = partners::find_by_name(&mut tx, "王氏电子")
            .await
            .expect("partner")
            .expect("the demo's partner");
        let accounts = [
            (Platform::Telegram, ANN.to_string(), "Ann"),
            (Platform::Telegram, BEN.to_string(), "Ben"),
            (Platform::Discord, ZED.to_string(), "Zed"),
        ];
        for (platform, id, name) in accounts {
            let member = members::upsert(&mut tx, platform, &id, name, 0)
                .await
                .expect("member");
            members::set_role(&mut tx, member.id, Some(partner.id), Role::Partner)
                .await
                .expect("role");
        }
        let chats = [
            ("telegram", GROUP_A.to_string()),
            ("telegram", GROUP_B.to_string()),
            ("discord", CHANNEL.to_string()),
        ];
        for (platform, chat) in chats {
            let chat = ProgramChat {
                platform: platform.into(),
                chat_id: chat,
                region: None,
            };
            bind_chat(&mut tx, &chat, None, 0).await.expect("bind");
        }
        tx.commit().await.expect("commit");
        telegram.register_chat(&ChatRef::group(GROUP_A, "Partners A"));
        telegram.register_chat(&ChatRef::group(GROUP_B, "Partners B"));

        let http = rally::platforms::discord::build_http(fake_discord::TOKEN, Some(&discord.url()))
            .expect("http");
        let mut client =
            serenity::all::ClientBuilder::new_with_http(http, rally::platforms::discord::intents())
                .event_handler(rally::platforms::discord::Discord::new(
                    app.clone(),
                    vec![fake_discord::GUILD_ID],
                ))
                .await
                .expect("client");
        let shards = client.shard_manager.clone();
        tokio::spawn(async move {
            let _ = client.start().await;
        });
        let bot =
            rally::platforms::telegram::build_bot(telegram.token(), &telegram.url()).expect("bot");
        let tg = rally::platforms::telegram::Telegram::new(bot, app.clone(), "RallyBot".into());
        let stop = CancellationToken::new();
        tokio::spawn({
            let (tg, stop) = (tg.clone(), stop.clone());
            async move { tg.poll(stop).await }
        });
        let to_discord = rally::platforms::discord::DiscordTransport::new(
            app.clone(),
            fake_discord::TOKEN,
            Some(&discord.url()),
        )
        .expect("discord transport");
        tokio::spawn(
            Sender::new(
                app.clone(),
                Arc::new(rally::platforms::telegram::TelegramTransport(tg)),
                SenderSettings::telegram(&Default::default()),
            )
            .run(stop.clone()),
        );
        tokio::spawn(
            Sender::new(
                app.clone(),
                Arc::new(to_discord),
                SenderSettings::discord(&Default::default()),
            )
            .run(stop.clone()),
        );
        discord
            .wait_for_call("PUT", "/commands", |c| c.status < 300, WAIT)
            .await
            .expect("connected to Discord");
        World {
            app,
            telegram,
            discord,
            shards,
            stop,
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.shards.shutdown_all().await;
    }

    /// Shares a story (as the demo's console partner) and waits until its three posts are out
    /// and remembered: (story, Telegram A's message, Telegram B's message, Discord's message).
    async fn posted_story(&self) -> (i64, i64, i64, u64) {
        let shared = say(&self.app, "wang", 1, "/story We won the ACME rollout").await;
        assert_eq!(keys(&shared), ["story-shared"]);
        let story = first_int_arg(&shared, "story");
        let posts = eventually("three posts remembered", || async {
            let found = self.posts(story).await;
            (found.len() == 3).then_some(found)
        })
        .await;
        let find = |platform: &str, chat: &str| {
            posts
                .iter()
                .find(|(p, c, _)| p == platform && c == chat)
                .map(|(_, _, m)| m.clone())
                .unwrap_or_else(|| panic!("a post in {platform} {chat}: {posts:?}"))
        };
        let a = find("telegram", &GROUP_A.to_string()).parse().expect("id");
        let b = find("telegram", &GROUP_B.to_string()).parse().expect("id");
        let d = find("discord", &CHANNEL.to_string()).parse().expect("id");
        (story, a, b, d)
    }

    async fn posts(&self, story: i64) -> Vec<(String, String, String)> {
        let mut conn = self.app.store.read().await.expect("conn");
        rally::store::stories::posts_of(&mut conn, story)
            .await
            .expect("posts")
            .into_iter()
            .map(|p| (p.platform, p.chat_id, p.message_id))
            .collect()
    }

    /// The labels on a Telegram message's buttons, as the chat shows them now.
    fn telegram_labels(&self, chat: i64, message: i64) -> Vec<String> {
        let shown = self.telegram.message(chat, message).unwrap_or_default();
        shown["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["text"].as_str().map(String::from))
            .collect()
    }

    /// The labels on a Discord message's buttons, as the channel shows them now.
    fn discord_labels(&self, message: u64) -> Vec<String> {
        let shown = self.discord.message(message).unwrap_or_default();
        shown["components"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["label"].as_str().map(String::from))
            .collect()
    }

    /// Waits until all three posts show `labels`.
    async fn all_show(&self, posts: (i64, i64, u64), labels: [&str; 3]) {
        let (a, b, d) = posts;
        eventually(&format!("every post shows {labels:?}"), || async {
            (self.telegram_labels(GROUP_A, a) == labels
                && self.telegram_labels(GROUP_B, b) == labels
                && self.discord_labels(d) == labels)
                .then_some(())
        })
        .await;
    }

    /// Edits enqueued for one message of a chat, ever (Telegram numbers messages per chat).
    async fn edits_of(&self, chat: impl ToString, message: impl ToString) -> i64 {
        let mut conn = self.app.store.read().await.expect("conn");
        sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE target = $1 AND edit_message_id = $2")
            .bind(chat.to_string())
            .bind(message.to_string())
            .fetch_one(&mut *conn)
            .await
            .expect("count")
            .get::<i64, _>("n")
    }

    /// Outbox rows not yet sent or failed.
    async fn pending(&self) -> i64 {
        let mut conn = self.app.store.read().await.expect("conn");
        sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'")
            .fetch_one(&mut *conn)
            .await
            .expect("count")
            .get::<i64, _>("n")
    }

    async fn reactions(&self) -> i64 {
        let mut conn = self.app.store.read().await.expect("conn");
        sqlx::query("SELECT COUNT(*) AS n FROM story_reactions")
            .fetch_one(&mut *conn)
            .await
            .expect("count")
            .get::<i64, _>("n")
    }
}

/// Polls `check` until it gives a value (panics after [`WAIT`], naming `what`).
async fn eventually<T, F, Fut>(what: &str, check: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(tokio::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn user(id: i64, name: &str) -> UserRef {
    UserRef::new(id, name).language("en")
}

fn press(from: &UserRef, chat: i64, message: i64, action: &str) -> Value {
    FakeTelegram::callback_query(
        from.clone(),
        ChatRef::group(chat, "Partners"),
        message,
        action,
    )
}

async fn a_change_reaches_every_post_on_both_platforms(db: &TestDb) {
    let world = World::start(db).await;
    let (story, a, b, d) = world.posted_story().await;
    let posts = (a, b, d);
    world.all_show(posts, ["👏 0", "🔥 0", "💡 0"]).await;
    let (ann, ben) = (user(ANN, "Ann"), user(BEN, "Ben"));
    let clap = format!("/react {story} clap");

    // Ann presses 👏 in group A: A's buttons are updated at once, B and Discord by the outbox.
    let first = press(&ann, GROUP_A, a, &clap);
    world.telegram.push_update(first.clone());
    world.all_show(posts, ["👏 1", "🔥 0", "💡 0"]).await;
    assert_eq!(world.edits_of(GROUP_A, a).await, 0, "the pressed post");
    assert_eq!(world.edits_of(GROUP_B, b).await, 1);
    assert_eq!(world.edits_of(CHANNEL, d).await, 1);
    let pressed_edits = |world: &World| {
        world
            .telegram
            .calls_to("editMessageReplyMarkup")
            .iter()
            .filter(|c| c.params["chat_id"].as_i64() == Some(GROUP_A))
            .count()
    };
    assert_eq!(pressed_edits(&world), 1, "A edited once, at the press");

    // Telegram delivers the same press again: nothing changes, nothing is enqueued.
    let answered = world.telegram.calls_to("answerCallbackQuery").len();
    world.telegram.push_update(first);
    eventually("the redelivered press answered", || async {
        (world.telegram.calls_to("answerCallbackQuery").len() > answered).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.reactions().await, 1);
    assert_eq!(world.edits_of(GROUP_B, b).await, 1);
    assert_eq!(world.edits_of(CHANNEL, d).await, 1);
    world.all_show(posts, ["👏 1", "🔥 0", "💡 0"]).await;

    // A second press takes it back, everywhere.
    world.telegram.push_update(press(&ann, GROUP_A, a, &clap));
    world.all_show(posts, ["👏 0", "🔥 0", "💡 0"]).await;

    // Zed presses 🔥 on Discord: the Discord post at once, both Telegram posts by the outbox.
    let zed = DiscordUser::new(ZED, "zed");
    let edits_before = world.edits_of(CHANNEL, d).await;
    world.discord.send_component_click(
        &zed,
        CHANNEL,
        Some(fake_discord::GUILD_ID),
        d,
        &format!("/react {story} fire"),
    );
    world.all_show(posts, ["👏 0", "🔥 1", "💡 0"]).await;
    assert_eq!(
        world.edits_of(CHANNEL, d).await,
        edits_before,
        "the pressed Discord post is not edited again"
    );

    // Ben reacts 👏 with Telegram's own reactions on B: every post, B's own buttons included.
    let react = FakeTelegram::message_reaction(
        ChatRef::group(GROUP_B, "Partners B"),
        ben.clone(),
        b,
        &[],
        &["👏"],
    );
    world.telegram.push_update(react.clone());
    world.all_show(posts, ["👏 1", "🔥 1", "💡 0"]).await;
    eventually("the outbox is idle", || async {
        (world.pending().await == 0).then_some(())
    })
    .await;
    let edits = (
        world.edits_of(GROUP_A, a).await,
        world.edits_of(GROUP_B, b).await,
        world.edits_of(CHANNEL, d).await,
    );
    // The same reaction update again: already counted, no edit.
    world.telegram.push_update(react);
    eventually("the redelivered reaction read", || async {
        (world.telegram.pending_updates() == 0).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(world.reactions().await, 2);
    let again = (
        world.edits_of(GROUP_A, a).await,
        world.edits_of(GROUP_B, b).await,
        world.edits_of(CHANNEL, d).await,
    );
    assert_eq!(again, edits);
    world.all_show(posts, ["👏 1", "🔥 1", "💡 0"]).await;

    // Edits to what the posts already show (a redelivered edit): Telegram answers "message is
    // not modified", which counts as done.
    let unmodified = world.telegram.count_answered("editMessageReplyMarkup", 400);
    let mut tx = world.app.store.begin().await.expect("tx");
    let now = world.app.now();
    let added =
        rally::features::community::stories::update_posts(&world.app, &mut tx, story, None, now)
            .await
            .expect("edits");
    tx.commit().await.expect("commit");
    assert_eq!(added, 3);
    world.app.outbox_wake.notify_waiters();
    eventually("the unmodified edits delivered", || async {
        (world.pending().await == 0).then_some(())
    })
    .await;
    assert_eq!(
        world.telegram.count_answered("editMessageReplyMarkup", 400),
        unmodified + 2
    );
    world.all_show(posts, ["👏 1", "🔥 1", "💡 0"]).await;

    // No edit failed.
    let mut conn = world.app.store.read().await.expect("conn");
    let failed = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status = 'failed'")
        .fetch_one(&mut *conn)
        .await
        .expect("count")
        .get::<i64, _>("n");
    assert_eq!(failed, 0);
    drop(conn);
    world.stop().await;
}

async fn a_deleted_post_fails_once_and_is_forgotten(db: &TestDb) {
    let world = World::start(db).await;
    let (story, a, b, d) = world.posted_story().await;
    // A moderator deletes the post in group B, another the Discord post.
    assert!(world.telegram.delete_message(GROUP_B, b));
    assert!(world.discord.delete_message(d));

    let ann = user(ANN, "Ann");
    world
        .telegram
        .push_update(press(&ann, GROUP_A, a, &format!("/react {story} idea")));
    let gone = eventually("both edits ended", || async {
        let mut conn = world.app.store.read().await.expect("conn");
        let rows = sqlx::query(
            "SELECT status, attempts, last_error FROM outbox WHERE edit_message_id IS NOT NULL \
             ORDER BY platform",
        )
        .fetch_all(&mut *conn)
        .await
        .expect("rows");
        let ended: Vec<(String, i64, String)> = rows
            .iter()
            .map(|r| {
                (
                    r.get::<String, _>("status"),
                    r.get::<i64, _>("attempts"),
                    r.get::<Option<String>, _>("last_error").unwrap_or_default(),
                )
            })
            .collect();
        (ended.len() == 2 && ended.iter().all(|(s, _, _)| s != "pending")).then_some(ended)
    })
    .await;
    for (status, attempts, error) in &gone {
        assert_eq!(status, "failed");
        assert_eq!(*attempts, 1, "not retried");
        assert!(error.starts_with("gone:"), "{error}");
    }
    // Forgotten: the next change edits no deleted post.
    let left = world.posts(story).await;
    assert_eq!(
        left,
        [("telegram".to_string(), GROUP_A.to_string(), a.to_string())]
    );
    world
        .telegram
        .push_update(press(&ann, GROUP_A, a, &format!("/react {story} idea")));
    eventually("taken back", || async {
        (world.reactions().await == 0).then_some(())
    })
    .await;
    assert_eq!(world.edits_of(GROUP_B, b).await, 1);
    assert_eq!(world.edits_of(CHANNEL, d).await, 1);
    world.stop().await;
}

/// The outbox side of a burst: while an edit of a post waits unclaimed, more changes add
/// nothing (the sender renders the counts when it delivers); once it is claimed, the next
/// change needs an edit of its own.
async fn edits_of_a_post_coalesce_while_one_waits(db: &TestDb) {
    let edit = |key: &str| NewOutgoing {
        platform: "telegram".into(),
        target: "-801".into(),
        member_id: None,
        dedupe_key: key.into(),
        reply_json: "{}".into(),
        locale: "en".into(),
        broadcast_id: None,
    };
    let mut tx = db.store.begin().await.expect("tx");
    assert!(
        rows::enqueue_edit(&mut tx, &edit("e1"), "17", 1_000)
            .await
            .expect("edit")
    );
    for key in ["e2", "e3", "e4"] {
        assert!(
            !rows::enqueue_edit(&mut tx, &edit(key), "17", 1_000)
                .await
                .expect("edit")
        );
    }
    // Another message of the same chat is its own post.
    assert!(
        rows::enqueue_edit(&mut tx, &edit("e5"), "18", 1_000)
            .await
            .expect("edit")
    );
    tx.commit().await.expect("commit");

    let mut conn = db.store.read().await.expect("conn");
    let claimed = rows::claim(&mut conn, "telegram", "me", 1_000, 31_000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "the chat's head only");
    assert_eq!(claimed[0].edit_message_id.as_deref(), Some("17"));
    drop(conn);
    let mut tx = db.store.begin().await.expect("tx");
    assert!(
        rows::enqueue_edit(&mut tx, &edit("e6"), "17", 1_000)
            .await
            .expect("edit"),
        "the waiting edit is in flight: a new one"
    );
    assert!(
        !rows::enqueue_edit(&mut tx, &edit("e7"), "18", 1_000)
            .await
            .expect("edit")
    );
    tx.commit().await.expect("commit");
    let mut conn = db.store.read().await.expect("conn");
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM outbox")
        .fetch_one(&mut *conn)
        .await
        .expect("count")
        .get("n");
    assert_eq!(n, 3);
}
