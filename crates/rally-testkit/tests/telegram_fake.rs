//! Proves the fake Telegram Bot API server (`rally_testkit::telegram`) against the real
//! teloxide client: every answer deserializes into teloxide's types, errors map to the
//! `RequestError`s Rally handles, and `getUpdates` long polling behaves like Telegram's.

use std::future::IntoFuture;
use std::time::{Duration, Instant};

use rally_testkit::telegram::*;
use serde_json::json;
use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MediaKind, MessageId,
    MessageKind, UpdateKind,
};

const WAIT: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than `WAIT`.
async fn within<F: IntoFuture>(fut: F) -> F::Output {
    tokio::time::timeout(WAIT, fut)
        .await
        .expect("timed out waiting for the fake Telegram server")
}

fn bot(fake: &FakeTelegram) -> Bot {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    Bot::with_client(fake.token(), client).set_api_url(fake.url().parse().expect("fake url"))
}

fn alice() -> UserRef {
    UserRef::new(1001, "Alice").username("alice").language("en")
}

fn bob() -> UserRef {
    UserRef::new(1002, "Bob").language("zh-hans")
}

fn group() -> ChatRef {
    ChatRef::group(-4_000_000_001, "Partners")
}

fn supergroup() -> ChatRef {
    ChatRef::supergroup(-1_002_000_000_001, "Partners Plus")
}

#[tokio::test]
async fn get_me_and_webhook_info() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    let me = within(bot.get_me()).await.expect("get_me");
    assert_eq!(me.username(), "rally_test_bot");
    assert!(me.user.is_bot);
    assert_eq!(me.user.id, UserId(BOT_ID as u64));

    fake.push_update(FakeTelegram::text_message(
        alice().private_chat(),
        alice(),
        "hi",
    ));
    let info = within(bot.get_webhook_info()).await.expect("webhook info");
    assert_eq!(info.url, None);
    assert_eq!(info.pending_update_count, 1);

    let methods: Vec<String> = fake.calls().into_iter().map(|c| c.method).collect();
    assert_eq!(methods, ["getme", "getwebhookinfo"]);
    assert!(fake.calls().iter().all(|c| c.status == 200));
}

#[tokio::test]
async fn send_message_is_recorded_and_answered() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    let chat = alice().private_chat();
    let keyboard = InlineKeyboardMarkup::new([[
        InlineKeyboardButton::callback("Approve", "approve:7"),
        InlineKeyboardButton::callback("Reject", "reject:7"),
    ]]);
    let first = within(
        bot.send_message(ChatId(chat.id), "<b>x</b> & _y_")
            .reply_markup(keyboard.clone()),
    )
    .await
    .expect("send first");
    let second = within(bot.send_message(ChatId(chat.id), "second"))
        .await
        .expect("send second");

    assert!(second.id.0 > first.id.0, "message ids increase per chat");
    assert_eq!(first.text(), Some("<b>x</b> & _y_"));
    assert_eq!(first.reply_markup(), Some(&keyboard));
    assert!(first.chat.is_private());
    assert_eq!(
        first.from.as_ref().and_then(|u| u.username.as_deref()),
        Some("rally_test_bot")
    );

    // A known group keeps its type.
    fake.register_chat(&group());
    let in_group = within(bot.send_message(ChatId(group().id), "hello group"))
        .await
        .expect("send to group");
    assert!(in_group.chat.is_group());
    assert_eq!(in_group.chat.title(), Some("Partners"));
    // Unknown chats are guessed from their id.
    let guessed = within(bot.send_message(ChatId(supergroup().id), "hello"))
        .await
        .expect("send to supergroup");
    assert!(guessed.chat.is_supergroup());

    let sent = fake.calls_to("SendMessage");
    assert_eq!(sent.len(), 4);
    assert_eq!(sent[0].method, "sendmessage");
    assert_eq!(sent[0].params["chat_id"], json!(chat.id));
    assert_eq!(sent[0].params["text"], json!("<b>x</b> & _y_"));
    assert_eq!(
        sent[0].params["reply_markup"]["inline_keyboard"][0][1]["callback_data"],
        json!("reject:7")
    );
    assert_eq!(sent[1].params["text"], json!("second"));
}

#[tokio::test]
async fn get_updates_confirms_by_offset_and_long_polls() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    let ids: Vec<i64> = ["/start", "/report 3 Acme", "/rank"]
        .into_iter()
        .map(|text| fake.push_update(FakeTelegram::text_message(group(), alice(), text)))
        .collect();
    assert_eq!(ids, [1, 2, 3]);
    assert_eq!(fake.pending_updates(), 3);

    let updates = within(bot.get_updates().timeout(0)).await.expect("updates");
    let got: Vec<u32> = updates.iter().map(|u| u.id.0).collect();
    assert_eq!(got, [1, 2, 3]);
    assert!(
        matches!(&updates[1].kind, UpdateKind::Message(m) if m.text() == Some("/report 3 Acme"))
    );

    // Without a higher offset they are delivered again (at-least-once).
    let again = within(bot.get_updates().timeout(0)).await.expect("again");
    assert_eq!(again.len(), 3);
    assert_eq!(fake.pending_updates(), 3);

    // `limit` is respected.
    let one = within(bot.get_updates().offset(2).limit(1).timeout(0))
        .await
        .expect("limited");
    assert_eq!(one.iter().map(|u| u.id.0).collect::<Vec<_>>(), [2]);
    assert_eq!(fake.confirmed_offset(), 2);
    assert_eq!(fake.pending_updates(), 2);

    // offset = last + 1 confirms everything; the long poll then times out with [].
    let started = Instant::now();
    let none = within(bot.get_updates().offset(4).timeout(1))
        .await
        .expect("long poll");
    let waited = started.elapsed();
    assert!(none.is_empty());
    assert!(
        waited >= Duration::from_millis(900),
        "waited only {waited:?}"
    );
    assert!(waited < Duration::from_secs(3), "waited {waited:?}");
    assert_eq!(fake.confirmed_offset(), 4);
    assert_eq!(fake.pending_updates(), 0);

    // Confirmed updates never come back, even with an older offset.
    let still_none = within(bot.get_updates().offset(1).timeout(0))
        .await
        .expect("old offset");
    assert!(still_none.is_empty());

    // A long poll wakes up as soon as an update arrives.
    let pusher = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        pusher.push_update(FakeTelegram::text_message(group(), bob(), "late"));
    });
    let started = Instant::now();
    let late = within(bot.get_updates().offset(4).timeout(2))
        .await
        .expect("woken poll");
    assert_eq!(late.iter().map(|u| u.id.0).collect::<Vec<_>>(), [4]);
    assert!(started.elapsed() < Duration::from_millis(1500));

    let polls = fake.calls_to("getupdates");
    assert_eq!(polls[3].params["offset"], json!(4));
    assert_eq!(polls[3].params["timeout"], json!(1));
    assert!(!fake.wait_until_confirmed(Duration::from_millis(10)).await);
}

#[tokio::test]
async fn allowed_updates_filter_and_persist() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    fake.push_update(FakeTelegram::text_message(group(), alice(), "/rank"));
    fake.push_update(FakeTelegram::callback_query(
        alice(),
        group(),
        5,
        "approve:1",
    ));
    let only_buttons = within(
        bot.get_updates()
            .allowed_updates([AllowedUpdate::CallbackQuery])
            .timeout(0),
    )
    .await
    .expect("filtered");
    assert_eq!(only_buttons.len(), 1);
    assert!(matches!(only_buttons[0].kind, UpdateKind::CallbackQuery(_)));
    // The setting persists when the next call does not give one, as in Telegram.
    let still = within(bot.get_updates().timeout(0))
        .await
        .expect("persisted");
    assert_eq!(still.len(), 1);
    let both = within(
        bot.get_updates()
            .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery])
            .timeout(0),
    )
    .await
    .expect("both");
    assert_eq!(both.len(), 2);
}

#[tokio::test]
async fn callback_query_and_photo_updates_deserialize() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    let manager = bob();
    // The bot sends a pending sale with buttons; the manager presses one.
    let sent = within(
        bot.send_message(ChatId(manager.id), "Sale #7 pending")
            .reply_markup(InlineKeyboardMarkup::new([[
                InlineKeyboardButton::callback("Approve", "approve:7"),
            ]])),
    )
    .await
    .expect("send");
    fake.push_update(FakeTelegram::callback_query(
        manager.clone(),
        manager.private_chat(),
        i64::from(sent.id.0),
        "approve:7",
    ));
    fake.push_update(FakeTelegram::photo_message(
        supergroup(),
        alice(),
        "/report 2 Acme",
        "AgACphoto1",
    ));

    let updates = within(bot.get_updates().timeout(0)).await.expect("updates");
    assert_eq!(updates.len(), 2);
    let UpdateKind::CallbackQuery(query) = &updates[0].kind else {
        panic!("not a callback query: {:?}", updates[0].kind);
    };
    assert_eq!(query.data.as_deref(), Some("approve:7"));
    assert_eq!(query.from.id, UserId(manager.id as u64));
    assert_eq!(query.from.language_code.as_deref(), Some("zh-hans"));
    let message = query.regular_message().expect("accessible message");
    assert_eq!(message.id, sent.id);
    assert_eq!(
        message.text(),
        Some("Sale #7 pending"),
        "the message as sent"
    );
    assert!(message.reply_markup().is_some());

    let UpdateKind::Message(photo) = &updates[1].kind else {
        panic!("not a message: {:?}", updates[1].kind);
    };
    assert!(photo.chat.is_supergroup());
    assert_eq!(photo.caption(), Some("/report 2 Acme"));
    let sizes = photo.photo().expect("photo sizes");
    assert_eq!(
        sizes.last().map(|p| p.file.id.0.as_str()),
        Some("AgACphoto1")
    );
    assert_eq!(photo.from.as_ref().map(|u| u.id), Some(UserId(1001)));

    // The bot answers the button and edits the message.
    within(bot.answer_callback_query(query.id.clone()).text("Approved"))
        .await
        .expect("answer callback");
    let edited =
        within(bot.edit_message_text(ChatId(manager.id), sent.id, "Sale #7 approved by Bob"))
            .await
            .expect("edit");
    assert_eq!(edited.text(), Some("Sale #7 approved by Bob"));
    assert!(edited.reply_markup().is_none(), "no markup given: removed");
    assert!(edited.edit_date().is_some());
    // Same content again: Telegram's "message is not modified".
    let same =
        within(bot.edit_message_text(ChatId(manager.id), sent.id, "Sale #7 approved by Bob")).await;
    assert!(
        matches!(same, Err(RequestError::Api(ApiError::MessageNotModified))),
        "{same:?}"
    );
    let marked = within(
        bot.edit_message_reply_markup(ChatId(manager.id), sent.id)
            .reply_markup(InlineKeyboardMarkup::new([[
                InlineKeyboardButton::callback("Undo", "undo:7"),
            ]])),
    )
    .await
    .expect("edit markup");
    assert_eq!(marked.text(), Some("Sale #7 approved by Bob"));
    assert!(marked.reply_markup().is_some());
    let missing = within(bot.edit_message_text(ChatId(manager.id), MessageId(999), "x")).await;
    assert!(
        matches!(
            missing,
            Err(RequestError::Api(ApiError::MessageToEditNotFound))
        ),
        "{missing:?}"
    );
    assert_eq!(
        fake.calls_to("answerCallbackQuery")[0].params["text"],
        json!("Approved")
    );
}

#[tokio::test]
async fn every_builder_deserializes_into_a_teloxide_update() {
    let chats = [alice().private_chat(), group(), supergroup()];
    for chat in chats {
        let cases = [
            (
                "text",
                FakeTelegram::text_message(chat.clone(), alice(), "/report 3 Acme"),
            ),
            (
                "plain text",
                FakeTelegram::text_message(chat.clone(), bob(), "你好 <b>x</b>"),
            ),
            (
                "photo",
                FakeTelegram::photo_message(chat.clone(), alice(), "/report 1 Acme", "AgAC1"),
            ),
            (
                "photo without caption",
                FakeTelegram::photo_message(chat.clone(), bob(), "", "AgAC2"),
            ),
            (
                "callback",
                FakeTelegram::callback_query(alice(), chat.clone(), 3, "approve:3"),
            ),
        ];
        for (name, mut value) in cases {
            value["update_id"] = json!(42);
            // From text, as teloxide reads it off the wire: `serde_json::from_value::<Update>`
            // silently yields `UpdateKind::Error` (its key visitor wants borrowed strings).
            let update: Update = serde_json::from_str(&value.to_string())
                .unwrap_or_else(|e| panic!("{name} in {chat:?}: {e}\n{value}"));
            let message = match &update.kind {
                UpdateKind::Message(m) => m.clone(),
                UpdateKind::CallbackQuery(q) => q
                    .regular_message()
                    .cloned()
                    .unwrap_or_else(|| panic!("{name}: inaccessible message")),
                other => panic!("{name} in {chat:?} became {other:?}\n{value}"),
            };
            assert_eq!(message.chat.id, ChatId(chat.id), "{name}");
            let MessageKind::Common(common) = &message.kind else {
                panic!("{name}: not a common message: {:?}", message.kind);
            };
            match (name, &common.media_kind) {
                ("photo" | "photo without caption", MediaKind::Photo(_)) => {}
                ("text" | "plain text" | "callback", MediaKind::Text(_)) => {}
                (_, other) => panic!("{name}: wrong media kind {other:?}"),
            }
            match &chat.kind {
                ChatKind::Private { .. } => assert!(message.chat.is_private()),
                ChatKind::Group { .. } => assert!(message.chat.is_group()),
                ChatKind::Supergroup { .. } => assert!(message.chat.is_supergroup()),
            }
        }
    }
    // Commands carry a bot_command entity, as Telegram sends them.
    let command = FakeTelegram::text_message(group(), alice(), "/rank@rally_test_bot");
    assert_eq!(
        command["message"]["entities"],
        json!([{"type": "bot_command", "offset": 0, "length": 20}])
    );
}

#[test]
fn a_message_reaction_deserializes_into_a_teloxide_update() {
    for chat in [group(), supergroup()] {
        let mut value =
            FakeTelegram::message_reaction(chat.clone(), alice(), 7, &["👏"], &["👏", "🔥"]);
        value["update_id"] = json!(43);
        let update: Update = serde_json::from_str(&value.to_string())
            .unwrap_or_else(|e| panic!("message_reaction in {chat:?}: {e}\n{value}"));
        let UpdateKind::MessageReaction(reaction) = update.kind else {
            panic!("message_reaction became {:?}", update.kind);
        };
        assert_eq!(reaction.chat.id, ChatId(chat.id));
        assert_eq!(reaction.message_id.0, 7);
        assert_eq!(reaction.user().map(|u| u.id.0), Some(alice().id as u64));
        let emoji: Vec<_> = reaction
            .new_reaction
            .iter()
            .filter_map(|r| r.emoji())
            .collect();
        assert_eq!(emoji, ["👏", "🔥"]);
        assert_eq!(reaction.old_reaction.len(), 1);
    }
}

#[tokio::test]
async fn too_many_requests_is_retry_after_then_success() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    fake.fail_next("sendMessage", Failure::TooManyRequests { retry_after: 1 });
    let first = within(bot.send_message(ChatId(1001), "hi")).await;
    match first {
        Err(RequestError::RetryAfter(seconds)) => assert_eq!(seconds.seconds(), 1),
        other => panic!("expected RetryAfter, got {other:?}"),
    }
    within(bot.send_message(ChatId(1001), "hi"))
        .await
        .expect("the next call succeeds");
    let statuses: Vec<u16> = fake
        .calls_to("sendmessage")
        .iter()
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, [429, 200]);
}

#[tokio::test]
async fn forbidden_is_bot_blocked() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    fake.fail_next("SENDMESSAGE", Failure::Forbidden);
    fake.fail_next("sendmessage", Failure::CantInitiateConversation);
    fake.fail_next(
        "sendmessage",
        Failure::Api {
            status: 400,
            description: "Bad Request: chat not found".into(),
        },
    );
    let blocked = within(bot.send_message(ChatId(1001), "hi")).await;
    assert!(
        matches!(blocked, Err(RequestError::Api(ApiError::BotBlocked))),
        "{blocked:?}"
    );
    let never_started = within(bot.send_message(ChatId(1001), "hi")).await;
    assert!(
        matches!(&never_started, Err(RequestError::Api(ApiError::Unknown(text)))
            if text == "Forbidden: bot can't initiate conversation with a user"),
        "{never_started:?}"
    );
    let not_found = within(bot.send_message(ChatId(1001), "hi")).await;
    assert!(
        matches!(not_found, Err(RequestError::Api(ApiError::ChatNotFound))),
        "{not_found:?}"
    );
    within(bot.send_message(ChatId(1001), "hi"))
        .await
        .expect("then it works");
}

#[tokio::test]
async fn server_error_surfaces_after_teloxides_delay() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    // Raw: a 502 with an error envelope.
    fake.fail_next("getMe", Failure::ServerError);
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let raw = within(
        client
            .post(format!("{}/bot{}/getMe", fake.url(), fake.token()))
            .send(),
    )
    .await
    .expect("raw request");
    assert_eq!(raw.status().as_u16(), 502);
    let body: serde_json::Value = within(raw.json()).await.expect("json body");
    assert_eq!(body["ok"], json!(false));
    assert_eq!(body["error_code"], json!(502));

    // Through teloxide: it sleeps 10 s on any 5xx before returning the error.
    let bot = bot(&fake);
    fake.fail_next("sendMessage", Failure::ServerError);
    let started = Instant::now();
    let failed = tokio::time::timeout(Duration::from_secs(20), bot.send_message(ChatId(1), "x"))
        .await
        .expect("teloxide returns after its delay");
    assert!(
        matches!(&failed, Err(RequestError::Api(ApiError::Unknown(t))) if t == "Bad Gateway"),
        "{failed:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(9));
}

#[tokio::test]
async fn wrong_token_bad_paths_and_other_encodings() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let url = fake.url();
    assert!(!url.ends_with('/'));

    let wrong = Bot::with_client("999:WRONG", client.clone()).set_api_url(url.parse().unwrap());
    let denied = within(wrong.get_me()).await;
    assert!(
        matches!(denied, Err(RequestError::Api(ApiError::InvalidToken))),
        "{denied:?}"
    );
    assert_eq!(fake.calls_to("getme")[0].status, 401);

    // The bare root with a slash is fine (the URL's path is "/" either way)…
    let rooted = Bot::with_client(fake.token(), client.clone())
        .set_api_url(format!("{url}/").parse().unwrap());
    within(rooted.get_me()).await.expect("root with slash");
    // …but a trailing slash after a path gives `//bot…`, which Telegram (and the fake) 404s.
    let slashed = Bot::with_client(fake.token(), client.clone())
        .set_api_url(format!("{url}/sub/").parse().unwrap());
    assert!(within(slashed.get_me()).await.is_err());

    // GET with a query string, case-insensitive method.
    let got: serde_json::Value = within(async {
        client
            .get(format!("{url}/bot{}/GETME?x=1", fake.token()))
            .send()
            .await?
            .json()
            .await
    })
    .await
    .expect("GET getMe");
    assert_eq!(got["result"]["username"], json!("rally_test_bot"));

    // application/x-www-form-urlencoded.
    let sent: serde_json::Value = within(async {
        client
            .post(format!("{url}/bot{}/sendMessage", fake.token()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("chat_id=1001&text=123&disable_notification=true")
            .send()
            .await?
            .json()
            .await
    })
    .await
    .expect("form sendMessage");
    assert_eq!(sent["result"]["text"], json!("123"));
    let call = fake.calls_to("sendmessage").pop().unwrap();
    assert_eq!(
        call.params,
        json!({"chat_id": 1001, "text": "123", "disable_notification": true})
    );

    // Unknown methods answer true and are recorded.
    let bot = bot(&fake);
    within(bot.set_my_commands([teloxide::types::BotCommand::new("rank", "Leaderboard")]))
        .await
        .expect("set commands");
    within(bot.delete_my_commands())
        .await
        .expect("delete commands");
    within(bot.set_chat_menu_button())
        .await
        .expect("menu button");
    within(bot.send_chat_action(ChatId(1001), teloxide::types::ChatAction::Typing))
        .await
        .expect("chat action");
    assert_eq!(
        fake.calls_to("setmycommands")[0].params["commands"][0]["command"],
        json!("rank")
    );
    assert_eq!(fake.calls_to("sendChatAction").len(), 1);
}

#[tokio::test]
async fn send_photo_is_multipart() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    let upload = within(
        bot.send_photo(
            ChatId(group().id),
            InputFile::memory(vec![0xFF_u8, 0xD8, 0xFF, 0xE0, 1, 2, 3]).file_name("evidence.jpg"),
        )
        .caption("evidence for #7")
        .reply_markup(InlineKeyboardMarkup::new([[
            InlineKeyboardButton::callback("Approve", "approve:7"),
        ]])),
    )
    .await
    .expect("upload");
    assert!(upload.photo().is_some());
    assert_eq!(upload.caption(), Some("evidence for #7"));
    assert!(upload.reply_markup().is_some());
    let call = &fake.calls_to("sendphoto")[0];
    assert_eq!(call.params["chat_id"], json!(group().id));
    assert_eq!(call.params["caption"], json!("evidence for #7"));
    assert_eq!(
        call.params["reply_markup"]["inline_keyboard"][0][0]["text"],
        json!("Approve")
    );
    assert_eq!(call.files.len(), 1);
    assert_eq!(call.files[0].size, 7);
    assert_eq!(call.files[0].file_name.as_deref(), Some("evidence.jpg"));
    assert!(
        call.params["photo"]
            .as_str()
            .unwrap()
            .ends_with(&call.files[0].name)
    );

    // Re-sending a known file by id.
    let again = within(bot.send_photo(ChatId(1001), InputFile::file_id("AgACknown".into())))
        .await
        .expect("by id");
    let largest = again.photo().unwrap().last().unwrap();
    assert_eq!(largest.file.id.0, "AgACknown");
    assert!(fake.calls_to("sendphoto")[1].files.is_empty());

    let file = within(bot.get_file("AgACknown".into()))
        .await
        .expect("get file");
    assert!(!file.path.is_empty());
}

#[tokio::test]
async fn webhook_set_blocks_polling() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    within(
        bot.set_webhook(
            "https://rally.example/telegram/webhook/s3cret"
                .parse()
                .unwrap(),
        )
        .secret_token("s3cret"),
    )
    .await
    .expect("set webhook");
    assert_eq!(
        fake.webhook(),
        Some(Webhook {
            url: "https://rally.example/telegram/webhook/s3cret".into(),
            secret_token: Some("s3cret".into()),
        })
    );
    let info = within(bot.get_webhook_info()).await.expect("info");
    assert_eq!(
        info.url.map(|u| u.to_string()).as_deref(),
        Some("https://rally.example/telegram/webhook/s3cret")
    );
    let refused = within(bot.get_updates().timeout(0)).await;
    assert!(
        matches!(refused, Err(RequestError::Api(ApiError::CantGetUpdates))),
        "{refused:?}"
    );
    within(bot.delete_webhook()).await.expect("delete webhook");
    assert_eq!(fake.webhook(), None);
    within(bot.get_updates().timeout(0))
        .await
        .expect("polling works again");
}

#[tokio::test]
async fn a_newer_poll_terminates_an_older_one() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    let old = tokio::spawn({
        let bot = bot.clone();
        async move { bot.get_updates().timeout(3).await }
    });
    assert!(
        fake.wait_for_call("getUpdates", |_| true, WAIT)
            .await
            .is_some()
    );
    let new = within(bot.get_updates().timeout(0)).await;
    assert!(new.is_ok());
    let old = within(old).await.expect("join");
    assert!(
        matches!(
            old,
            Err(RequestError::Api(ApiError::TerminatedByOtherGetUpdates))
        ),
        "{old:?}"
    );
}

#[tokio::test]
async fn wait_for_call_sees_past_and_future_calls() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    assert!(
        fake.wait_for_call("sendMessage", |_| true, Duration::from_millis(100))
            .await
            .is_none()
    );
    let sender = bot.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let _ = sender.send_message(ChatId(5), "one").await;
        let _ = sender.send_message(ChatId(5), "two").await;
    });
    let two = fake
        .wait_for_call("SendMessage", |c| c.params["text"] == json!("two"), WAIT)
        .await
        .expect("second message");
    assert_eq!(two.params["chat_id"], json!(5));
    let both = fake
        .wait_for_calls("sendmessage", 2, WAIT)
        .await
        .expect("both");
    assert_eq!(both[0].params["text"], json!("one"));
}

#[tokio::test]
async fn a_delayed_answer_trips_a_client_timeout() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let bot = Bot::with_client(fake.token(), client).set_api_url(fake.url().parse().unwrap());
    fake.fail_next("sendMessage", Failure::Delay(Duration::from_secs(2)));
    let timed_out = within(bot.send_message(ChatId(1), "slow")).await;
    assert!(
        matches!(&timed_out, Err(RequestError::Network(e)) if e.is_timeout()),
        "{timed_out:?}"
    );
    within(bot.send_message(ChatId(1), "fast"))
        .await
        .expect("no delay next time");
}

#[tokio::test]
async fn stock_teloxide_dispatcher_runs_against_the_fake() {
    let fake = FakeTelegram::start("rally_test_bot").await;
    let bot = bot(&fake);
    let handler = dptree::entry()
        .branch(
            Update::filter_message().endpoint(|bot: Bot, msg: Message| async move {
                let text = format!("echo: {}", msg.text().unwrap_or_default());
                bot.send_message(msg.chat.id, text).await?;
                Ok::<(), RequestError>(())
            }),
        )
        .branch(Update::filter_callback_query().endpoint(
            |bot: Bot, q: CallbackQuery| async move {
                bot.answer_callback_query(q.id).await?;
                Ok::<(), RequestError>(())
            },
        ));
    let mut dispatcher = Dispatcher::builder(bot, handler).build();
    let token = dispatcher.shutdown_token();
    let running = tokio::spawn(async move { dispatcher.dispatch().await });

    fake.push_update(FakeTelegram::text_message(group(), alice(), "/rank"));
    fake.push_update(FakeTelegram::callback_query(alice(), group(), 1, "x"));
    let echo = fake
        .wait_for_call("sendMessage", |_| true, WAIT)
        .await
        .expect("the dispatcher answered");
    assert_eq!(echo.params["text"], json!("echo: /rank"));
    assert!(
        fake.wait_for_call("answerCallbackQuery", |_| true, WAIT)
            .await
            .is_some()
    );
    assert!(fake.wait_until_confirmed(WAIT).await);
    // Start-up used getMe and deleteWebhook-if-set (getWebhookInfo); polls carry allowed_updates.
    assert!(!fake.calls_to("getme").is_empty());
    assert!(!fake.calls_to("getwebhookinfo").is_empty());
    let first_poll = &fake.calls_to("getupdates")[0];
    assert!(
        first_poll.params["allowed_updates"].is_array(),
        "{first_poll:?}"
    );

    // Shutdown waits for the current long poll (at most MAX_LONG_POLL).
    let stopping = token.shutdown().expect("dispatcher running");
    within(stopping).await;
    within(running).await.expect("dispatcher task");
}

#[tokio::test]
async fn dropping_the_fake_stops_the_server() {
    let fresh = || {
        reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap()
    };
    let fake = FakeTelegram::start("rally_test_bot").await;
    let get_me = format!("{}/bot{}/getMe", fake.url(), fake.token());
    within(fresh().get(&get_me).send()).await.expect("up");
    let clone = fake.clone();
    drop(fake);
    within(fresh().get(&get_me).send())
        .await
        .expect("a clone keeps it up");
    drop(clone);
    // The server stops soon after the last clone is gone.
    within(async {
        while fresh().get(&get_me).send().await.is_ok() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;

    // `shutdown()` stops it and waits.
    let fake = FakeTelegram::start("rally_test_bot").await;
    let get_me = format!("{}/bot{}/getMe", fake.url(), fake.token());
    within(fresh().get(&get_me).send()).await.expect("up");
    within(fake.shutdown()).await;
    assert!(within(fresh().get(&get_me).send()).await.is_err());
}
