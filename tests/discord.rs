//! Rally as a Discord bot: the real serenity client against a fake Discord (REST + gateway) on
//! 127.0.0.1, the same handler and ledger as Telegram — including one identity across both.

use std::sync::Arc;
use std::time::Duration;

use rally::config::{AdminId, AdminPlatform};
use rally::outbox::{Sender, SenderSettings};
use rally_testkit::discord::{self as fake_discord, DiscordUser, FakeDiscord};
use rally_testkit::telegram::{FakeTelegram, UserRef};
use rally_testkit::{TestClock, TestDb};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const WAIT: Duration = Duration::from_secs(15);
const MANAGER: u64 = 7001;
const PARTNER: u64 = 7002;
const TG_MANAGER: i64 = 9101;
const TG_PARTNER: i64 = 9102;

struct Bots {
    discord: FakeDiscord,
    telegram: FakeTelegram,
    db: TestDb,
    shards: Arc<serenity::gateway::ShardManager>,
    stop: CancellationToken,
}

impl Bots {
    async fn start() -> Bots {
        let discord = FakeDiscord::start().await;
        let telegram = FakeTelegram::start("RallyBot").await;
        let db = TestDb::sqlite().await;
        let mut config = rally_testkit::test_config(&db.url);
        config.admins.push(AdminId {
            platform: AdminPlatform::Discord,
            id: MANAGER,
        });
        config.admins.push(AdminId {
            platform: AdminPlatform::Telegram,
            id: TG_MANAGER as u64,
        });
        config.discord.guild_ids = vec![fake_discord::GUILD_ID];
        let mut app = rally::app::App::new(
            db.store.clone(),
            Arc::new(config),
            Box::new(TestClock::new()),
        )
        .expect("app");
        app.bot_username = Some("RallyBot".into());
        let app = Arc::new(app);

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
            let stop = stop.clone();
            let tg = tg.clone();
            async move { tg.poll(stop).await }
        });
        // The outbox senders: notices reach members on whichever platform they are.
        let to_telegram = rally::platforms::telegram::TelegramTransport(tg);
        let to_discord = rally::platforms::discord::DiscordTransport::new(
            app.clone(),
            fake_discord::TOKEN,
            Some(&discord.url()),
        )
        .expect("discord transport");
        tokio::spawn(
            Sender::new(
                app.clone(),
                Arc::new(to_telegram),
                SenderSettings::telegram(&Default::default()),
            )
            .run(stop.clone()),
        );
        tokio::spawn(
            Sender::new(
                app,
                Arc::new(to_discord),
                SenderSettings::discord(&Default::default()),
            )
            .run(stop.clone()),
        );
        let registered = discord
            .wait_for_call("PUT", "/commands", |c| c.status < 300, WAIT)
            .await;
        assert!(
            registered.is_some(),
            "slash commands registered on READY; calls: {:#?}",
            discord
                .calls()
                .iter()
                .map(|c| (
                    c.method.clone(),
                    c.path.clone(),
                    c.status,
                    c.body.to_string().chars().take(300).collect::<String>()
                ))
                .collect::<Vec<_>>()
        );
        Bots {
            discord,
            telegram,
            db,
            shards,
            stop,
        }
    }

    /// Runs a slash command and returns the content of the first answer and its flags.
    async fn command(
        &self,
        user: &DiscordUser,
        guild: bool,
        name: &str,
        options: Value,
    ) -> (String, u64) {
        let channel = if guild {
            fake_discord::GUILD_CHANNEL_ID
        } else {
            self.discord.dm_channel_id(user.id)
        };
        let (id, token) = self.discord.send_interaction_command(
            user,
            channel,
            guild.then_some(fake_discord::GUILD_ID),
            name,
            options,
        );
        let call = self
            .discord
            .wait_for_call(
                "POST",
                &format!("/interactions/{id}/{token}/callback"),
                |c| c.status < 300,
                WAIT,
            )
            .await
            .unwrap_or_else(|| panic!("/{name} answered"));
        let data = &call.body["data"];
        (
            data["content"].as_str().unwrap_or_default().to_string(),
            data["flags"].as_u64().unwrap_or(0),
        )
    }

    async fn stop(self) {
        self.stop.cancel();
        self.shards.shutdown_all().await;
        drop(self.db);
    }
}

fn opt(name: &str, value: impl Into<Value>) -> Value {
    let value = value.into();
    let kind = if value.is_i64() || value.is_u64() {
        4
    } else {
        3
    };
    json!({ "name": name, "type": kind, "value": value })
}

#[tokio::test]
async fn slash_commands_are_registered_localized_per_guild() {
    let bots = Bots::start().await;
    let commands = bots
        .discord
        .registered_commands(Some(fake_discord::GUILD_ID));
    let report = commands
        .iter()
        .find(|c| c["name"] == "report")
        .expect("/report registered");
    assert!(
        report["description_localizations"]["zh-CN"]
            .as_str()
            .is_some_and(|d| d.contains("报单"))
    );
    let options: Vec<&str> = report["options"]
        .as_array()
        .expect("options")
        .iter()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert!(
        options.contains(&"amount") && options.contains(&"customer"),
        "{options:?}"
    );
    for name in rally::chat::registry::names() {
        assert!(
            commands.iter().any(|c| c["name"] == *name),
            "/{name} missing"
        );
    }
    bots.stop().await;
}

#[tokio::test]
async fn one_identity_and_one_ledger_across_telegram_and_discord() {
    let bots = Bots::start().await;
    let manager = DiscordUser::new(MANAGER, "mei");
    let partner_dc = DiscordUser::new(PARTNER, "zed");
    let partner_tg = UserRef::new(9002, "Zed");

    // The Discord manager invites; the partner joins on Telegram.
    let (invite, flags) = bots
        .command(
            &manager,
            true,
            "invite",
            json!([opt("partner", "Cross Co"), opt("kind", "dealer")]),
        )
        .await;
    assert_eq!(
        flags & 64,
        64,
        "the invite code is shown to the manager only"
    );
    let code: String = rally_testkit::code_after(&invite, "/start ");
    bots.telegram.push_update(FakeTelegram::text_message(
        partner_tg.private_chat(),
        partner_tg.clone(),
        &format!("/start {code}"),
    ));
    assert!(
        bots.telegram
            .wait_for_call(
                "sendMessage",
                |c| c.params["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Cross Co"),
                WAIT
            )
            .await
            .is_some()
    );
    // Telegram gives a link code; Discord redeems it: the same partner.
    bots.telegram.push_update(FakeTelegram::text_message(
        partner_tg.private_chat(),
        partner_tg.clone(),
        "/link",
    ));
    let link = bots
        .telegram
        .wait_for_call(
            "sendMessage",
            |c| {
                c.params["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("/link ")
            },
            WAIT,
        )
        .await
        .expect("link code");
    let link_code: String =
        rally_testkit::code_after(link.params["text"].as_str().unwrap_or_default(), "/link ");
    let (joined, _) = bots
        .command(
            &partner_dc,
            false,
            "link",
            json!([opt("code", link_code.as_str())]),
        )
        .await;
    assert!(joined.contains("Cross Co"), "{joined}");

    // A sale reported on Discord shows in /sales on Telegram and in the same ranking.
    let (reported, _) = bots
        .command(
            &partner_dc,
            true,
            "report",
            json!([opt("amount", "1200"), opt("customer", "@everyone Holdings")]),
        )
        .await;
    assert!(reported.contains("recorded and approved"), "{reported}");
    let answer = bots
        .discord
        .calls()
        .into_iter()
        .rev()
        .find(|c| {
            c.path.ends_with("/callback")
                && c.body["data"]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Holdings")
        })
        .expect("report answer");
    assert_eq!(
        answer.body["data"]["allowed_mentions"]["parse"],
        json!([]),
        "nobody is pinged"
    );
    bots.telegram.push_update(FakeTelegram::text_message(
        partner_tg.private_chat(),
        partner_tg.clone(),
        "/sales",
    ));
    assert!(
        bots.telegram
            .wait_for_call(
                "sendMessage",
                |c| c.params["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Holdings"),
                WAIT
            )
            .await
            .is_some(),
        "the Discord sale is on the Telegram side's ledger"
    );
    let (rank, flags) = bots.command(&partner_dc, true, "rank", json!([])).await;
    assert!(
        rank.contains("Cross Co") && rank.contains("You: #1"),
        "{rank}"
    );
    assert_eq!(flags & 64, 0, "rankings are public");
    let (me, flags) = bots.command(&partner_dc, true, "me", json!([])).await;
    assert!(me.contains("Approved sales"), "{me}");
    assert_eq!(flags & 64, 64, "money is ephemeral in a channel");
    bots.stop().await;
}

#[tokio::test]
async fn manager_approves_with_a_button_and_survives_a_gateway_drop() {
    let bots = Bots::start().await;
    let manager = DiscordUser::new(MANAGER, "mei");
    let partner = DiscordUser::new(PARTNER, "zed");
    let (buttons, message_id) =
        pending_sale_with_buttons(&bots, &manager, &partner, "Button Co").await;
    let approve = buttons[0].clone();
    assert!(approve.starts_with("/approve "), "{approve}");

    bots.discord.drop_gateway();
    assert!(
        bots.discord.wait_for_connections(2, WAIT).await,
        "the client reconnects"
    );

    let dm_channel = bots.discord.dm_channel_id(MANAGER);
    let (id, token) = bots
        .discord
        .send_component_click(&manager, dm_channel, None, message_id, &approve);
    let update = answer_to(&bots, id, &token, "click answered").await;
    assert_eq!(
        update.body["type"],
        json!(7),
        "the button message is updated"
    );
    let content = update.body["data"]["content"].as_str().unwrap_or_default();
    assert!(content.contains("approved by"), "{content}");
    let (sales, _) = bots.command(&partner, false, "sales", json!([])).await;
    assert!(sales.contains("approved"), "{sales}");
    bots.stop().await;
}

#[tokio::test]
async fn a_rate_limited_answer_is_retried() {
    let bots = Bots::start().await;
    let user = DiscordUser::new(PARTNER, "zed");
    bots.discord.fail_next(
        "/callback",
        rally_testkit::discord::Failure::RateLimited {
            retry_after_secs: 0.5,
        },
    );
    let (help, _) = bots.command(&user, false, "help", json!([])).await;
    assert!(help.contains("/start"), "{help}");
    let statuses: Vec<u16> = bots
        .discord
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/callback"))
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, vec![429, 204]);
    bots.stop().await;
}

#[tokio::test]
async fn reject_button_opens_a_modal_for_the_reason() {
    let bots = Bots::start().await;
    let manager = DiscordUser::new(MANAGER, "mei");
    let partner = DiscordUser::new(PARTNER, "zed");
    let (buttons, message_id) =
        pending_sale_with_buttons(&bots, &manager, &partner, "Modal Co").await;
    let reject = buttons[1].clone();
    assert!(
        reject.starts_with("/reject ") && !reject.ends_with(" -"),
        "{reject}"
    );
    let dm_channel = bots.discord.dm_channel_id(MANAGER);

    let (id, token) = bots
        .discord
        .send_component_click(&manager, dm_channel, None, message_id, &reject);
    let modal = answer_to(
        &bots,
        id,
        &token,
        "the click is answered with a modal Discord accepts",
    )
    .await;
    assert_eq!(modal.body["type"], json!(9), "{}", modal.body);
    let modal_id = modal.body["data"]["custom_id"]
        .as_str()
        .expect("modal id")
        .to_string();
    assert_eq!(modal_id, reject);
    let input = modal.body["data"]["components"][0]["components"][0]["custom_id"]
        .as_str()
        .expect("input")
        .to_string();
    let (sales, _) = bots.command(&partner, false, "sales", json!([])).await;
    assert!(
        sales.contains("pending"),
        "nothing decided before the reason: {sales}"
    );

    let (id, token) = bots.discord.send_modal_submit(
        &manager,
        dm_channel,
        None,
        message_id,
        &modal_id,
        &[(input.as_str(), "duplicate of an earlier order")],
    );
    let update = answer_to(&bots, id, &token, "the submission is answered").await;
    assert_eq!(
        update.body["type"],
        json!(7),
        "the button message is updated"
    );
    let content = update.body["data"]["content"].as_str().unwrap_or_default();
    assert!(content.contains("rejected"), "{content}");
    let (sales, _) = bots.command(&partner, false, "sales", json!([])).await;
    assert!(sales.contains("rejected"), "{sales}");
    bots.stop().await;
}

/// A partner of `partner_name` reports a sale that needs approval; returns the custom ids of the
/// buttons under the manager's DM about it (Approve, Reject) and that message's id.
async fn pending_sale_with_buttons(
    bots: &Bots,
    manager: &DiscordUser,
    partner: &DiscordUser,
    partner_name: &str,
) -> (Vec<String>, u64) {
    // The manager must exist as a member to be told about pending sales.
    bots.command(manager, false, "help", json!([])).await;
    let (invite, _) = bots
        .command(
            manager,
            false,
            "invite",
            json!([opt("partner", partner_name)]),
        )
        .await;
    let code: String = rally_testkit::code_after(&invite, "/start ");
    bots.command(partner, false, "start", json!([opt("code", code.as_str())]))
        .await;
    let (pending, _) = bots
        .command(
            partner,
            false,
            "report",
            json!([opt("amount", "9000"), opt("customer", "Big")]),
        )
        .await;
    assert!(pending.contains("A manager will approve it"), "{pending}");
    manager_dm_buttons(bots).await
}

/// The custom ids of the buttons under the DM a manager got about a pending sale (Approve,
/// Reject), and that message's id.
async fn manager_dm_buttons(bots: &Bots) -> (Vec<String>, u64) {
    let dm = bots
        .discord
        .wait_for_call(
            "POST",
            "/messages",
            |c| !c.body["components"].is_null() && c.status < 300,
            WAIT,
        )
        .await
        .expect("the manager gets the sale with buttons");
    let buttons = dm.body["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .map(|b| b["custom_id"].as_str().unwrap_or_default().to_string())
        .collect();
    let message_id = bots
        .discord
        .messages()
        .into_iter()
        .rev()
        .find(|m| {
            m["content"]
                .as_str()
                .unwrap_or_default()
                .contains("to approve")
        })
        .and_then(|m| m["id"].as_str().and_then(|id| id.parse::<u64>().ok()))
        .expect("stored DM");
    (buttons, message_id)
}

/// The accepted callback Rally made for interaction `id`.
async fn answer_to(
    bots: &Bots,
    id: u64,
    token: &str,
    what: &str,
) -> rally_testkit::discord::RestCall {
    bots.discord
        .wait_for_call(
            "POST",
            &format!("/interactions/{id}/{token}/callback"),
            |c| c.status < 300,
            WAIT,
        )
        .await
        .unwrap_or_else(|| panic!("no answer: {what}"))
}

/// A Telegram message the bot sent to `chat` containing `needle`.
async fn telegram_sent(bots: &Bots, chat: i64, needle: &str) -> Value {
    bots.telegram
        .wait_for_call(
            "sendMessage",
            |c| {
                c.params["chat_id"].as_i64() == Some(chat)
                    && c.params["text"]
                        .as_str()
                        .unwrap_or_default()
                        .contains(needle)
            },
            WAIT,
        )
        .await
        .unwrap_or_else(|| panic!("no Telegram message to {chat} with {needle:?}"))
        .params
}

#[tokio::test]
async fn a_telegram_manager_approves_a_discord_partners_sale_by_button() {
    let bots = Bots::start().await;
    let manager_tg = UserRef::new(TG_MANAGER, "Mei");
    let partner_dc = DiscordUser::new(PARTNER, "zed");
    // The Telegram manager exists (first contact) and invites; the partner joins on Discord.
    bots.telegram.push_update(FakeTelegram::text_message(
        manager_tg.private_chat(),
        manager_tg.clone(),
        "/invite Over Co dealer East",
    ));
    let invite = telegram_sent(&bots, TG_MANAGER, "/start ").await;
    let code = rally_testkit::code_after(invite["text"].as_str().unwrap_or_default(), "/start ");
    bots.command(
        &partner_dc,
        false,
        "start",
        json!([opt("code", code.as_str())]),
    )
    .await;
    let (pending, _) = bots
        .command(
            &partner_dc,
            false,
            "report",
            json!([opt("amount", "9000"), opt("customer", "Far Away")]),
        )
        .await;
    assert!(pending.contains("A manager will approve it"), "{pending}");

    // The notice crosses platforms through the outbox, with working buttons.
    let note = telegram_sent(&bots, TG_MANAGER, "to approve").await;
    let approve = note["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .expect("approve button")
        .to_string();
    let held = (1..=40)
        .rev()
        .find(|id| {
            bots.telegram.message(TG_MANAGER, *id).is_some_and(|m| {
                m["text"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("to approve")
            })
        })
        .expect("the note is held by the fake");
    bots.telegram.push_update(FakeTelegram::callback_query(
        manager_tg.clone(),
        manager_tg.private_chat(),
        held,
        &approve,
    ));
    // The Discord partner hears of it by DM, sent by the outbox.
    let dm = bots
        .discord
        .wait_for_call(
            "POST",
            "/messages",
            |c| {
                c.status < 300
                    && c.body["content"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("was approved")
            },
            WAIT,
        )
        .await
        .expect("the partner is told on Discord");
    assert!(
        dm.path
            .contains(&bots.discord.dm_channel_id(PARTNER).to_string()),
        "{}",
        dm.path
    );
    bots.stop().await;
}

#[tokio::test]
async fn a_discord_manager_approves_a_telegram_partners_sale_by_button() {
    let bots = Bots::start().await;
    let manager_dc = DiscordUser::new(MANAGER, "mei");
    let partner_tg = UserRef::new(TG_PARTNER, "Zed");
    let (invite, _) = bots
        .command(
            &manager_dc,
            false,
            "invite",
            json!([opt("partner", "Back Co")]),
        )
        .await;
    let code: String = rally_testkit::code_after(&invite, "/start ");
    bots.telegram.push_update(FakeTelegram::text_message(
        partner_tg.private_chat(),
        partner_tg.clone(),
        &format!("/start {code}"),
    ));
    telegram_sent(&bots, TG_PARTNER, "Back Co").await;
    bots.telegram.push_update(FakeTelegram::text_message(
        partner_tg.private_chat(),
        partner_tg.clone(),
        "/report 9000 Far Away",
    ));
    telegram_sent(&bots, TG_PARTNER, "A manager will approve it").await;

    let (buttons, message_id) = manager_dm_buttons(&bots).await;
    let approve = buttons[0].clone();
    let dm_channel = bots.discord.dm_channel_id(MANAGER);
    let (id, token) =
        bots.discord
            .send_component_click(&manager_dc, dm_channel, None, message_id, &approve);
    let update = answer_to(&bots, id, &token, "click").await;
    assert!(
        update.body["data"]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("approved by"),
        "{}",
        update.body
    );
    telegram_sent(&bots, TG_PARTNER, "was approved").await;
    bots.stop().await;
}
