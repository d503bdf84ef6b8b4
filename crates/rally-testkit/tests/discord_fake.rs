//! Proves the fake Discord (`rally_testkit::discord`) against the real serenity 0.12 client:
//! every payload it can send deserializes into serenity's types (serenity drops a dispatch that
//! does not, with only a log line), the real `Client` connects through the gateway, receives
//! slash commands and button clicks, answers them over REST, resumes after the gateway drops,
//! and REST failures surface the way Rally has to handle them.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rally_testkit::discord::*;
use serde_json::{Value, json};
use serenity::all::{
    ButtonStyle, ChannelId, ChannelType, Command, CommandDataOptionValue, CommandInteraction,
    CommandOptionType, ComponentInteraction, ComponentInteractionDataKind, CreateActionRow,
    CreateAllowedMentions, CreateAttachment, CreateButton, CreateCommand, CreateCommandOption,
    CreateEmbed, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, EditMessage,
    GatewayIntents, GuildId, Interaction, MessageFlags, ResolvedValue, ShardManager, UserId,
};
use serenity::client::{ClientBuilder, Context, EventHandler};
use serenity::http::{Http, HttpBuilder, HttpError};
use serenity::model::application::CurrentApplicationInfo;
use serenity::model::channel::{Channel, Message, PrivateChannel};
use serenity::model::event::{Event, GatewayEvent, ResumedEvent};
use serenity::model::gateway::{BotGateway, Ready};
use serenity::model::guild::Guild;
use serenity::model::user::CurrentUser;
use tokio::sync::mpsc;

const WAIT: Duration = Duration::from_secs(15);

/// Awaits `fut`, failing the test if it takes longer than `WAIT`.
async fn within<F: IntoFuture>(fut: F) -> F::Output {
    tokio::time::timeout(WAIT, fut)
        .await
        .expect("timed out waiting on the fake Discord")
}

fn alice() -> DiscordUser {
    DiscordUser::new(1_500_000_000_000_000_001, "alice")
}

fn bob() -> DiscordUser {
    DiscordUser::new(1_500_000_000_000_000_002, "bob").with_locale("zh-CN")
}

/// Serenity's `Http` pointed at the fake, as Rally builds it.
fn http(fake: &FakeDiscord) -> Http {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client");
    HttpBuilder::new(TOKEN)
        .proxy(fake.url())
        .ratelimiter_disabled(true)
        .client(client)
        .application_id(APPLICATION_ID.into())
        .build()
}

/// The Discord JSON error code of a failed request (-1 when serenity could not decode the body).
fn api_code(err: &serenity::Error) -> Option<isize> {
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => Some(r.error.code),
        _ => None,
    }
}

/// The HTTP status of a failed request.
fn http_status(err: &serenity::Error) -> Option<u16> {
    match err {
        serenity::Error::Http(HttpError::UnsuccessfulRequest(r)) => Some(r.status_code.as_u16()),
        _ => None,
    }
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, value: &Value) -> T {
    match serde_json::from_value(value.clone()) {
        Ok(parsed) => parsed,
        Err(e) => panic!("{what} does not deserialize into serenity's type: {e}\n{value:#}"),
    }
}

/// Parses a whole gateway frame exactly as serenity's shard does.
fn frame(what: &str, op: u64, event: Option<&str>, s: Option<u64>, d: &Value) -> GatewayEvent {
    let frame = json!({"op": op, "t": event, "s": s, "d": d});
    match serde_json::from_str::<GatewayEvent>(&frame.to_string()) {
        Ok(parsed) => parsed,
        Err(e) => panic!("{what} frame does not deserialize into GatewayEvent: {e}\n{frame:#}"),
    }
}

fn dispatch(what: &str, event: &str, d: &Value) -> Event {
    match frame(what, 0, Some(event), Some(7), d) {
        GatewayEvent::Dispatch(7, event) => event,
        other => panic!("{what}: expected a dispatch, got {other:?}"),
    }
}

// -------------------------------------------------------------------------------------------------
// 1. Every payload deserializes

#[tokio::test]
async fn every_gateway_payload_deserializes_into_serenity_types() {
    let fake = within(FakeDiscord::start()).await;
    let http = http(&fake);

    // Hello / heartbeat ack / invalid session, as sent.
    let hello = frame(
        "hello",
        10,
        None,
        None,
        &json!({"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake-discord"]}),
    );
    assert!(matches!(hello, GatewayEvent::Hello(HEARTBEAT_INTERVAL_MS)));
    let ack = frame("heartbeat ack", 11, None, None, &Value::Null);
    assert!(matches!(ack, GatewayEvent::HeartbeatAck));
    let invalid = frame("invalid session", 9, None, None, &json!(false));
    assert!(matches!(invalid, GatewayEvent::InvalidateSession(false)));

    // READY
    let ready_json = fake.ready_payload("session-1");
    let ready: Ready = parse("READY", &ready_json);
    assert_eq!(ready.user.id.get(), BOT_USER_ID);
    assert!(ready.user.bot);
    assert_eq!(ready.application.id.get(), APPLICATION_ID);
    assert_eq!(ready.session_id, "session-1");
    assert_eq!(ready.guilds.len(), 1);
    assert_eq!(ready.guilds[0].id.get(), GUILD_ID);
    assert_eq!(ready.resume_gateway_url, fake.gateway_url());
    assert!(matches!(
        dispatch("READY", "READY", &ready_json),
        Event::Ready(_)
    ));

    // GUILD_CREATE
    let guild_json = fake.guild_payload();
    let guild: Guild = parse("GUILD_CREATE", &guild_json);
    assert_eq!(guild.id.get(), GUILD_ID);
    assert!(
        guild
            .channels
            .contains_key(&ChannelId::new(GUILD_CHANNEL_ID))
    );
    assert_eq!(guild.roles.len(), 2);
    assert!(guild.members.contains_key(&UserId::new(BOT_USER_ID)));
    match dispatch("GUILD_CREATE", "GUILD_CREATE", &guild_json) {
        Event::GuildCreate(event) => assert_eq!(event.guild.name, "Rally Test Guild"),
        other => panic!("GUILD_CREATE parsed as {other:?}"),
    }

    // RESUMED
    assert!(matches!(
        dispatch("RESUMED", "RESUMED", &json!({"_trace": ["fake-discord"]})),
        Event::Resumed(_)
    ));

    // INTERACTION_CREATE: slash command in a guild, with every option kind the fake resolves.
    let evidence = fake.upload_attachment("receipt.png", "image/png", vec![1, 2, 3]);
    fake.set_member(alice().id, &[MANAGER_ROLE_ID], 0);
    // Make bob known so a user option resolves.
    let _ = fake.command_payload(&bob(), GUILD_CHANNEL_ID, Some(GUILD_ID), "rank", json!([]));
    let command_json = fake.command_payload(
        &alice(),
        GUILD_CHANNEL_ID,
        Some(GUILD_ID),
        "report",
        json!([
            {"name": "customer", "type": 3, "value": "ACME @everyone"},
            {"name": "amount", "type": 10, "value": 1234.5},
            {"name": "units", "type": 4, "value": 3},
            {"name": "paid", "type": 5, "value": true},
            {"name": "partner", "type": 6, "value": bob().id},
            {"name": "evidence", "type": 11, "value": evidence["id"]},
        ]),
    );
    let interaction: Interaction = parse("INTERACTION_CREATE command", &command_json);
    let Interaction::Command(command) = interaction else {
        panic!("not a command interaction: {interaction:?}");
    };
    assert_eq!(command.data.name, "report");
    assert_eq!(command.guild_id.map(GuildId::get), Some(GUILD_ID));
    assert_eq!(command.user.id.get(), alice().id);
    assert_eq!(command.locale, "en-US");
    let member = command.member.as_ref().expect("member");
    assert!(member.roles.iter().any(|r| r.get() == MANAGER_ROLE_ID));
    assert!(
        member
            .permissions
            .expect("member permissions")
            .manage_guild()
    );
    let options = command.data.options();
    assert_eq!(options.len(), 6);
    assert!(matches!(
        options[0].value,
        ResolvedValue::String("ACME @everyone")
    ));
    assert!(matches!(options[1].value, ResolvedValue::Number(n) if n == 1234.5));
    assert!(matches!(options[2].value, ResolvedValue::Integer(3)));
    assert!(matches!(options[3].value, ResolvedValue::Boolean(true)));
    assert!(matches!(options[4].value, ResolvedValue::User(u, Some(_)) if u.name == "bob"));
    match &options[5].value {
        ResolvedValue::Attachment(a) => {
            assert_eq!(a.filename, "receipt.png");
            assert_eq!(a.size, 3);
        }
        other => panic!("attachment option resolved as {other:?}"),
    }
    assert!(matches!(
        dispatch("INTERACTION_CREATE", "INTERACTION_CREATE", &command_json),
        Event::InteractionCreate(_)
    ));

    // INTERACTION_CREATE: slash command in a DM, with a subcommand and a user locale.
    let dm = fake.dm_channel_id(bob().id);
    let dm_json = fake.command_payload(
        &bob(),
        dm,
        None,
        "link",
        json!([{
            "name": "join",
            "type": 1,
            "options": [{"name": "code", "type": 3, "value": "X1"}],
        }]),
    );
    let Interaction::Command(dm_command) = parse::<Interaction>("DM command", &dm_json) else {
        panic!("DM command is not a command");
    };
    assert!(dm_command.guild_id.is_none());
    assert!(dm_command.member.is_none());
    assert_eq!(dm_command.user.id.get(), bob().id);
    assert_eq!(dm_command.locale, "zh-CN");
    assert_eq!(dm_command.channel_id.get(), dm);
    assert!(matches!(
        &dm_command.data.options[0].value,
        CommandDataOptionValue::SubCommand(inner) if inner.len() == 1
    ));

    // INTERACTION_CREATE: button clicks (made-up message and a message the bot really sent).
    let click_json =
        fake.component_payload(&alice(), GUILD_CHANNEL_ID, Some(GUILD_ID), 42, "approve:7");
    let Interaction::Component(click) = parse::<Interaction>("component click", &click_json) else {
        panic!("click is not a component interaction");
    };
    assert_eq!(click.data.custom_id, "approve:7");
    assert!(matches!(
        click.data.kind,
        ComponentInteractionDataKind::Button
    ));
    assert_eq!(click.message.id.get(), 42);
    assert_eq!(click.message.components.len(), 1);

    let sent = within(
        ChannelId::new(GUILD_CHANNEL_ID).send_message(
            &http,
            CreateMessage::new()
                .content("Pending sale #7")
                .embed(CreateEmbed::new().title("Sale").field("Amount", "12", true))
                .components(vec![CreateActionRow::Buttons(vec![
                    CreateButton::new("approve:7")
                        .label("Approve")
                        .style(ButtonStyle::Success),
                    CreateButton::new("reject:7")
                        .label("Reject")
                        .style(ButtonStyle::Danger),
                ])]),
        ),
    )
    .await
    .expect("send a message with buttons");
    let click_json = fake.component_payload(&bob(), dm, None, sent.id.get(), "reject:7");
    let Interaction::Component(click) = parse::<Interaction>("DM component click", &click_json)
    else {
        panic!("click is not a component interaction");
    };
    assert_eq!(click.message.id, sent.id);
    assert_eq!(click.message.content, "Pending sale #7");
    assert_eq!(click.message.components[0].components.len(), 2);

    // INTERACTION_CREATE: a string select menu on a made-up message.
    let select_json = fake.select_menu_payload(
        &alice(),
        GUILD_CHANNEL_ID,
        Some(GUILD_ID),
        43,
        "period",
        &["2026-10", "2026-11"],
    );
    let Interaction::Component(select) = parse::<Interaction>("select menu", &select_json) else {
        panic!("select is not a component interaction");
    };
    assert!(matches!(
        &select.data.kind,
        ComponentInteractionDataKind::StringSelect { values } if values.len() == 2
    ));

    // Stored messages and commands, as the fake returns them over REST.
    for message in fake.messages() {
        let _: Message = parse("stored message", &message);
    }
    let _: CurrentUser = parse("GET /users/@me", &fake.bot_user());
    let _: CurrentApplicationInfo =
        parse("GET /oauth2/applications/@me", &fake.application_payload());

    within(fake.shutdown()).await;
}

#[tokio::test]
async fn every_rest_answer_deserializes_through_serenity_http() {
    let fake = within(FakeDiscord::start()).await;
    let http = http(&fake);

    let gateway = within(http.get_gateway()).await.expect("GET /gateway");
    assert_eq!(gateway.url, fake.gateway_url());
    let bot: BotGateway = within(http.get_bot_gateway())
        .await
        .expect("GET /gateway/bot");
    assert_eq!(bot.shards, 1);
    let me = within(http.get_current_user())
        .await
        .expect("GET /users/@me");
    assert_eq!(me.id.get(), BOT_USER_ID);
    let app = within(http.get_current_application_info())
        .await
        .expect("GET /oauth2/applications/@me");
    assert_eq!(app.id.get(), APPLICATION_ID);

    // Commands: global and guild, with zh-CN localizations and typed options.
    let report = CreateCommand::new("report")
        .description("Report a sale")
        .name_localized("zh-CN", "报告")
        .description_localized("zh-CN", "报告一笔销售")
        .add_option(
            CreateCommandOption::new(CommandOptionType::String, "customer", "Customer name")
                .required(true),
        )
        .add_option(
            CreateCommandOption::new(CommandOptionType::Number, "amount", "Amount").required(true),
        )
        .add_option(CreateCommandOption::new(
            CommandOptionType::Attachment,
            "evidence",
            "Receipt",
        ));
    let rank = CreateCommand::new("rank").description("Show the ranking");
    let global = within(Command::set_global_commands(
        &http,
        vec![report.clone(), rank.clone()],
    ))
    .await
    .expect("PUT global commands");
    assert_eq!(global.len(), 2);
    assert_eq!(fake.registered_commands(None).len(), 2);
    let guild_cmds = within(GuildId::new(GUILD_ID).set_commands(&http, vec![report.clone()]))
        .await
        .expect("PUT guild commands");
    assert_eq!(guild_cmds[0].guild_id.map(GuildId::get), Some(GUILD_ID));
    let stored = fake.registered_commands(Some(GUILD_ID));
    assert_eq!(stored[0]["name_localizations"]["zh-CN"], "报告");
    for command in stored.iter().chain(fake.registered_commands(None).iter()) {
        let _: Command = parse("stored command", command);
    }
    // Re-registering keeps the ids of commands with the same name; removing drops them.
    let again = within(Command::set_global_commands(&http, vec![rank.clone()]))
        .await
        .expect("PUT global commands again");
    assert_eq!(again.len(), 1);
    assert_eq!(
        again[0].id,
        global.iter().find(|c| c.name == "rank").expect("rank").id
    );
    within(Command::delete_global_command(&http, again[0].id))
        .await
        .expect("DELETE global command");
    assert!(fake.registered_commands(None).is_empty());
    // An interaction for a registered guild command carries its id.
    let (_, token) = fake.send_interaction_command(
        alice(),
        GUILD_CHANNEL_ID,
        Some(GUILD_ID),
        "report",
        json!([]),
    );
    assert!(!token.is_empty());

    // Discord's validation: an uppercase name, a bad locale, required after optional.
    let invalid = [
        CreateCommand::new("Report").description("x"),
        CreateCommand::new("report")
            .description("x")
            .name_localized("zh", "报告"),
        CreateCommand::new("report")
            .description("x")
            .add_option(CreateCommandOption::new(
                CommandOptionType::String,
                "a",
                "a",
            ))
            .add_option(
                CreateCommandOption::new(CommandOptionType::String, "b", "b").required(true),
            ),
    ];
    for command in invalid {
        let err = within(Command::set_global_commands(&http, vec![command]))
            .await
            .expect_err("an invalid command is refused");
        let serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) = err else {
            panic!("unexpected error {err:?}");
        };
        assert_eq!(response.status_code.as_u16(), 400);
        assert_eq!(response.error.code, 50035);
        assert!(!response.error.errors.is_empty(), "{response:?}");
    }

    // Channel messages: create, edit, get; allowed_mentions decides mention_everyone.
    let channel = ChannelId::new(GUILD_CHANNEL_ID);
    let quiet = within(
        channel.send_message(
            &http,
            CreateMessage::new()
                .content("Customer: @everyone Inc")
                .allowed_mentions(CreateAllowedMentions::new()),
        ),
    )
    .await
    .expect("POST message");
    assert!(!quiet.mention_everyone);
    let loud = within(channel.send_message(&http, CreateMessage::new().content("@everyone hi")))
        .await
        .expect("POST message");
    assert!(loud.mention_everyone);
    let mut edited = quiet.clone();
    within(edited.edit(
        &http,
        EditMessage::new().content("edited").components(vec![]),
    ))
    .await
    .expect("PATCH message");
    assert_eq!(edited.content, "edited");
    assert!(edited.edited_timestamp.is_some());
    let fetched = within(channel.message(&http, quiet.id))
        .await
        .expect("GET message");
    assert_eq!(fetched.content, "edited");
    // A file upload (multipart) becomes an attachment served by the fake.
    let with_file = within(
        channel.send_message(
            &http,
            CreateMessage::new()
                .content("receipt")
                .add_file(CreateAttachment::bytes(b"hello".to_vec(), "r.txt")),
        ),
    )
    .await
    .expect("POST multipart message");
    assert_eq!(with_file.attachments.len(), 1);
    let downloader = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest");
    let response = within(downloader.get(&with_file.attachments[0].url).send())
        .await
        .expect("download");
    let download = within(response.bytes()).await.expect("bytes");
    assert_eq!(&download[..], b"hello");
    // An empty message and one over 2000 characters are refused as on Discord. serenity's
    // builder checks the length itself (a `Model` error, no request); raw `Http` calls reach the
    // fake's check.
    let err = within(channel.send_message(&http, CreateMessage::new()))
        .await
        .expect_err("empty message refused");
    assert_eq!(api_code(&err), Some(50006), "{err:?}");
    let err = within(channel.send_message(&http, CreateMessage::new().content("x".repeat(2001))))
        .await
        .expect_err("long message refused");
    assert!(matches!(err, serenity::Error::Model(_)), "{err:?}");
    let err = within(http.send_message(channel, vec![], &json!({"content": "x".repeat(2001)})))
        .await
        .expect_err("long message refused");
    assert_eq!(api_code(&err), Some(50035), "{err:?}");

    // DMs: the channel is made on demand; a user id is not a channel.
    let dm: PrivateChannel = within(UserId::new(bob().id).create_dm_channel(&http))
        .await
        .expect("POST /users/@me/channels");
    assert_eq!(dm.id.get(), fake.dm_channel_id(bob().id));
    assert_eq!(dm.kind, ChannelType::Private);
    let dm_message = within(
        dm.id
            .send_message(&http, CreateMessage::new().content("hi bob")),
    )
    .await
    .expect("DM");
    assert_eq!(dm_message.channel_id, dm.id);
    match within(dm.id.to_channel(&http)).await.expect("GET channel") {
        Channel::Private(p) => assert_eq!(p.recipient.id.get(), bob().id),
        other => panic!("DM channel came back as {other:?}"),
    }
    let err = within(ChannelId::new(bob().id).say(&http, "to a user id"))
        .await
        .expect_err("a user id is not a channel");
    assert_eq!(api_code(&err), Some(10003), "{err:?}");

    match within(channel.to_channel(&http))
        .await
        .expect("GET guild channel")
    {
        Channel::Guild(c) => assert_eq!(c.guild_id.get(), GUILD_ID),
        other => panic!("guild channel came back as {other:?}"),
    }
    let user = within(http.get_user(UserId::new(bob().id)))
        .await
        .expect("GET /users/{id}");
    assert_eq!(user.id.get(), bob().id);

    // Anything else is a recorded 404; a wrong token is a 401.
    let unknown = within(http.get_guild(GuildId::new(GUILD_ID))).await;
    assert!(unknown.is_err());
    assert!(
        fake.calls()
            .iter()
            .any(|c| c.path == format!("/api/v10/guilds/{GUILD_ID}") && c.status == 404)
    );
    let stranger = HttpBuilder::new("wrong-token")
        .proxy(fake.url())
        .ratelimiter_disabled(true)
        .build();
    let err = within(stranger.get_current_user())
        .await
        .expect_err("wrong token");
    assert_eq!(http_status(&err), Some(401), "{err:?}");

    // Every message the fake holds deserializes.
    for message in fake.messages() {
        let _: Message = parse("stored message", &message);
    }
    within(fake.shutdown()).await;
}

#[tokio::test]
async fn interaction_callbacks_followups_and_edits_follow_discord_rules() {
    let fake = within(FakeDiscord::start()).await;
    let http = http(&fake);
    fake.set_interaction_deadline(Duration::from_millis(500));

    // Deferred, then edited, then a followup.
    let (id, token) =
        fake.send_interaction_command(alice(), GUILD_CHANNEL_ID, Some(GUILD_ID), "rank", json!([]));
    let defer =
        CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
    within(http.create_interaction_response(id.into(), &token, &defer, vec![]))
        .await
        .expect("defer");
    assert_eq!(fake.acknowledged(&token), Some(5));
    let loading = fake.original_response(&token).expect("deferred message");
    assert_eq!(loading["flags"], 64 | 128);
    // A second acknowledgement is refused.
    let err = within(http.create_interaction_response(id.into(), &token, &defer, vec![]))
        .await
        .expect_err("double ack");
    assert_eq!(api_code(&err), Some(40060), "{err:?}");
    // Editing @original after the deadline is fine (the token lives 15 minutes).
    tokio::time::sleep(Duration::from_millis(600)).await;
    let edited: Message = within(http.edit_original_interaction_response(
        &token,
        &EditInteractionResponse::new().content("ranking ready"),
        vec![],
    ))
    .await
    .expect("edit @original");
    assert_eq!(edited.content, "ranking ready");
    assert_eq!(edited.flags, Some(MessageFlags::EPHEMERAL));
    let followup: Message = within(
        http.create_followup_message(
            &token,
            &CreateInteractionResponseFollowup::new()
                .content("more")
                .ephemeral(true),
            vec![],
        ),
    )
    .await
    .expect("followup");
    assert_eq!(fake.followups(&token).len(), 1);
    assert_eq!(followup.flags, Some(MessageFlags::EPHEMERAL));
    let original = within(http.get_original_interaction_response(&token))
        .await
        .expect("GET @original");
    assert_eq!(original.content, "ranking ready");

    // Too late: Discord has forgotten the interaction.
    let (late_id, late_token) =
        fake.send_interaction_command(alice(), GUILD_CHANNEL_ID, Some(GUILD_ID), "rank", json!([]));
    tokio::time::sleep(Duration::from_millis(600)).await;
    let err = within(http.create_interaction_response(
        late_id.into(),
        &late_token,
        &CreateInteractionResponse::Message(CreateInteractionResponseMessage::new().content("x")),
        vec![],
    ))
    .await
    .expect_err("expired");
    assert_eq!(api_code(&err), Some(10062), "{err:?}");
    // Followups need an acknowledged interaction.
    let err = within(http.create_followup_message(
        &late_token,
        &CreateInteractionResponseFollowup::new().content("x"),
        vec![],
    ))
    .await
    .expect_err("no followup before ack");
    assert_eq!(api_code(&err), Some(10015), "{err:?}");

    // A response with a file is multipart; the file becomes an attachment of @original.
    let (file_id, file_token) = fake.send_interaction_command(
        alice(),
        GUILD_CHANNEL_ID,
        Some(GUILD_ID),
        "export",
        json!([]),
    );
    within(http.create_interaction_response(
        file_id.into(),
        &file_token,
        &CreateInteractionResponse::Message(
            CreateInteractionResponseMessage::new().content("your export"),
        ),
        vec![CreateAttachment::bytes(b"a,b\n".to_vec(), "sales.csv")],
    ))
    .await
    .expect("response with a file");
    let original = fake.original_response(&file_token).expect("original");
    assert_eq!(original["attachments"][0]["filename"], "sales.csv");
    let _: Message = parse("response with a file", &original);

    // A button click answered with UpdateMessage edits the message the button is on.
    fake.set_interaction_deadline(Duration::from_secs(3));
    let pending = within(
        ChannelId::new(GUILD_CHANNEL_ID).send_message(
            &http,
            CreateMessage::new()
                .content("Sale #9 pending")
                .button(CreateButton::new("approve:9").label("Approve")),
        ),
    )
    .await
    .expect("message with a button");
    let (click_id, click_token) = fake.send_component_click(
        alice(),
        GUILD_CHANNEL_ID,
        Some(GUILD_ID),
        pending.id.get(),
        "approve:9",
    );
    within(
        http.create_interaction_response(
            click_id.into(),
            &click_token,
            &CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new()
                    .content("Sale #9 approved by alice")
                    .components(vec![]),
            ),
            vec![],
        ),
    )
    .await
    .expect("update message");
    let updated = fake.message(pending.id.get()).expect("message");
    assert_eq!(updated["content"], "Sale #9 approved by alice");
    assert_eq!(updated["components"], json!([]));
    let _: Message = parse("updated message", &updated);

    within(fake.shutdown()).await;
}

#[tokio::test]
async fn rest_failures_surface_as_serenity_errors() {
    let fake = within(FakeDiscord::start()).await;
    let http = http(&fake);
    let channel = ChannelId::new(GUILD_CHANNEL_ID);

    fake.fail_next(
        "/messages",
        Failure::RateLimited {
            retry_after_secs: 0.25,
        },
    );
    let err = within(channel.say(&http, "one")).await.expect_err("429");
    let serenity::Error::Http(HttpError::UnsuccessfulRequest(response)) = &err else {
        panic!("unexpected error {err:?}");
    };
    assert_eq!(response.status_code.as_u16(), 429);
    // The 429 body has no `code`, so serenity cannot decode it: retry_after is lost.
    assert_eq!(response.error.code, -1, "{response:?}");
    assert!(
        response.error.message.contains("Could not decode json"),
        "{response:?}"
    );
    let call = fake
        .wait_for_call("POST", "/messages", |c| c.status == 429, WAIT)
        .await
        .expect("recorded 429");
    assert_eq!(call.body["content"], "one");
    // The next attempt goes through.
    within(channel.say(&http, "one")).await.expect("retry");

    fake.fail_next("/messages", Failure::ServerError);
    let err = within(channel.say(&http, "two")).await.expect_err("500");
    assert_eq!(http_status(&err), Some(500), "{err:?}");
    assert_eq!(api_code(&err), Some(0), "{err:?}");

    fake.fail_next(
        "/messages",
        Failure::Api {
            status: 403,
            code: 50007,
            message: "Cannot send messages to this user".into(),
        },
    );
    let err = within(channel.say(&http, "three")).await.expect_err("403");
    assert_eq!(api_code(&err), Some(50007), "{err:?}");

    fake.fail_next("/messages", Failure::Delay(Duration::from_millis(300)));
    let started = Instant::now();
    within(channel.say(&http, "four")).await.expect("delayed");
    assert!(started.elapsed() >= Duration::from_millis(300));

    // Successful answers carry Discord's rate-limit headers (visible via `Http::request`).
    let statuses: Vec<u16> = fake
        .calls()
        .iter()
        .filter(|c| c.path.ends_with("/messages"))
        .map(|c| c.status)
        .collect();
    assert_eq!(statuses, vec![429, 200, 500, 403, 200]);
    within(fake.shutdown()).await;
}

// -------------------------------------------------------------------------------------------------
// 2. The real serenity client

enum Seen {
    Ready(Box<Ready>),
    Guild(GuildId),
    Resumed,
    Interaction(Box<Interaction>),
}

struct Recorder {
    tx: mpsc::UnboundedSender<Seen>,
}

#[serenity::async_trait]
impl EventHandler for Recorder {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        let _ = self.tx.send(Seen::Ready(Box::new(ready)));
    }

    async fn guild_create(&self, _ctx: Context, guild: Guild, _is_new: Option<bool>) {
        let _ = self.tx.send(Seen::Guild(guild.id));
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        let _ = self.tx.send(Seen::Resumed);
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        let _ = self.tx.send(Seen::Interaction(Box::new(interaction)));
    }
}

struct Running {
    http: Arc<Http>,
    shards: Arc<ShardManager>,
    seen: mpsc::UnboundedReceiver<Seen>,
    task: tokio::task::JoinHandle<serenity::Result<()>>,
}

impl Running {
    async fn start(fake: &FakeDiscord) -> Running {
        let (tx, seen) = mpsc::unbounded_channel();
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("reqwest client");
        let http = HttpBuilder::new(TOKEN)
            .proxy(fake.url())
            .ratelimiter_disabled(true)
            .client(client)
            .build();
        let mut client = within(
            ClientBuilder::new_with_http(
                http,
                GatewayIntents::GUILDS | GatewayIntents::DIRECT_MESSAGES,
            )
            .event_handler(Recorder { tx }),
        )
        .await
        .expect("build the serenity client");
        let http = client.http.clone();
        let shards = client.shard_manager.clone();
        let task = tokio::spawn(async move { client.start().await });
        Running {
            http,
            shards,
            seen,
            task,
        }
    }

    async fn next(&mut self) -> Seen {
        within(self.seen.recv()).await.expect("event channel open")
    }

    async fn ready(&mut self) -> Ready {
        loop {
            if let Seen::Ready(ready) = self.next().await {
                return *ready;
            }
        }
    }

    async fn guild(&mut self) -> GuildId {
        loop {
            if let Seen::Guild(id) = self.next().await {
                return id;
            }
        }
    }

    async fn interaction(&mut self) -> Interaction {
        loop {
            if let Seen::Interaction(interaction) = self.next().await {
                return *interaction;
            }
        }
    }

    async fn command(&mut self) -> CommandInteraction {
        match self.interaction().await {
            Interaction::Command(command) => command,
            other => panic!("expected a command interaction, got {other:?}"),
        }
    }

    async fn component(&mut self) -> ComponentInteraction {
        match self.interaction().await {
            Interaction::Component(component) => component,
            other => panic!("expected a component interaction, got {other:?}"),
        }
    }

    async fn stop(self) {
        within(self.shards.shutdown_all()).await;
        let _ = tokio::time::timeout(WAIT, self.task).await;
    }
}

fn pong() -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content("pong")
            .ephemeral(true),
    )
}

#[tokio::test]
async fn heartbeats_are_acknowledged_so_the_session_stays_up() {
    let fake = within(FakeDiscord::start()).await;
    let mut bot = Running::start(&fake).await;
    bot.ready().await;
    // serenity heartbeats every HEARTBEAT_INTERVAL_MS and reconnects when one goes unanswered.
    assert!(fake.wait_for_heartbeats(2, WAIT).await);
    assert_eq!(fake.identifies(), 1);
    assert_eq!(fake.resumes(), 0);
    assert_eq!(fake.live_sessions(), 1);
    // A clean shutdown (close 1000) ends the session: later interactions reach nobody.
    bot.stop().await;
    assert!(fake.wait_for_live_sessions(0, WAIT).await);
    assert_eq!(fake.resumable_sessions(), 0);
    assert_eq!(fake.dispatch("INTERACTION_CREATE", json!({})), 0);
    within(fake.shutdown()).await;
}

#[tokio::test]
async fn serenity_client_connects_receives_interactions_and_resumes() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let fake = within(FakeDiscord::start()).await;
    let mut bot = Running::start(&fake).await;

    // READY through the real gateway handshake; the fake saw GET /gateway first.
    let ready = bot.ready().await;
    assert_eq!(ready.user.id.get(), BOT_USER_ID);
    assert_eq!(ready.application.id.get(), APPLICATION_ID);
    assert_eq!(
        bot.http.application_id().map(|a| a.get()),
        Some(APPLICATION_ID)
    );
    assert_eq!(bot.guild().await.get(), GUILD_ID);
    assert!(fake.wait_for_connections(1, WAIT).await);
    assert_eq!(fake.identifies(), 1);
    assert!(fake.calls().iter().any(|c| c.path == "/api/v10/gateway"));

    // A slash command with options.
    let (id, token) = fake.send_interaction_command(
        alice(),
        GUILD_CHANNEL_ID,
        Some(GUILD_ID),
        "report",
        json!([
            {"name": "customer", "type": 3, "value": "ACME"},
            {"name": "amount", "type": 10, "value": 250.0},
        ]),
    );
    let command = bot.command().await;
    assert_eq!(command.id.get(), id);
    assert_eq!(command.token, token);
    assert_eq!(command.data.name, "report");
    assert_eq!(command.user.name, "alice");
    let options = command.data.options();
    assert_eq!(options[0].name, "customer");
    assert!(matches!(options[0].value, ResolvedValue::String("ACME")));
    assert!(matches!(options[1].value, ResolvedValue::Number(n) if n == 250.0));
    within(command.create_response(&bot.http, pong()))
        .await
        .expect("reply to the command");
    let callback = fake
        .wait_for_call("POST", &format!("/interactions/{id}/"), |_| true, WAIT)
        .await
        .expect("callback recorded");
    assert_eq!(callback.status, 204);
    assert_eq!(callback.body["type"], 4);
    assert_eq!(callback.body["data"]["content"], "pong");
    assert_eq!(callback.body["data"]["flags"], 64);
    assert_eq!(
        fake.original_response(&token).expect("original")["flags"],
        64
    );

    // A button click on the message the bot sent.
    let sent = within(
        ChannelId::new(GUILD_CHANNEL_ID).send_message(
            &bot.http,
            CreateMessage::new()
                .content("Sale #3 pending")
                .button(CreateButton::new("approve:3").label("Approve")),
        ),
    )
    .await
    .expect("send buttons");
    fake.set_member(bob().id, &[MANAGER_ROLE_ID], 0);
    let (click_id, _) = fake.send_component_click(
        bob(),
        GUILD_CHANNEL_ID,
        Some(GUILD_ID),
        sent.id.get(),
        "approve:3",
    );
    let click = bot.component().await;
    assert_eq!(click.id.get(), click_id);
    assert_eq!(click.data.custom_id, "approve:3");
    assert_eq!(click.message.id, sent.id);
    assert_eq!(click.locale, "zh-CN");
    assert!(
        click
            .member
            .as_ref()
            .and_then(|m| m.permissions)
            .is_some_and(|p| p.manage_guild())
    );
    within(click.create_response(&bot.http, pong()))
        .await
        .expect("reply to the click");

    // A DM command.
    let dm = fake.dm_channel_id(bob().id);
    fake.send_interaction_command(bob(), dm, None, "sales", json!([]));
    let dm_command = bot.command().await;
    assert!(dm_command.guild_id.is_none());
    assert_eq!(dm_command.channel_id.get(), dm);

    // The gateway drops (close 4000): serenity resumes and still gets interactions. One sent
    // while the socket is down is replayed on resume.
    let before = fake.connections();
    fake.drop_gateway();
    let (missed_id, _) =
        fake.send_interaction_command(alice(), GUILD_CHANNEL_ID, Some(GUILD_ID), "rank", json!([]));
    assert!(fake.wait_for_connections(before + 1, WAIT).await);
    assert_eq!(fake.resumes(), 1);
    let missed = bot.command().await;
    assert_eq!(missed.id.get(), missed_id);
    within(missed.create_response(&bot.http, pong()))
        .await
        .expect("reply after resume");
    let (after_id, _) =
        fake.send_interaction_command(alice(), GUILD_CHANNEL_ID, Some(GUILD_ID), "rank", json!([]));
    assert_eq!(bot.command().await.id.get(), after_id);

    // A TCP drop without a close frame: resumed as well.
    let before = fake.connections();
    fake.kill_gateway();
    assert!(fake.wait_for_connections(before + 1, WAIT).await);
    let (id3, _) =
        fake.send_interaction_command(alice(), GUILD_CHANNEL_ID, Some(GUILD_ID), "rank", json!([]));
    assert_eq!(bot.command().await.id.get(), id3);

    // An invalidated session: serenity identifies again (a new READY).
    let identifies = fake.identifies();
    fake.invalidate_sessions();
    let again = bot.ready().await;
    assert_ne!(again.session_id, ready.session_id);
    assert_eq!(fake.identifies(), identifies + 1);
    let (id4, _) =
        fake.send_interaction_command(alice(), GUILD_CHANNEL_ID, Some(GUILD_ID), "rank", json!([]));
    assert_eq!(bot.command().await.id.get(), id4);

    // A 429 on the callback: with its ratelimiter disabled serenity does not retry; the caller
    // gets the 429 (without retry_after) and retries itself within the 3 s window.
    fake.fail_next(
        "/callback",
        Failure::RateLimited {
            retry_after_secs: 0.3,
        },
    );
    let (id5, token5) =
        fake.send_interaction_command(alice(), GUILD_CHANNEL_ID, Some(GUILD_ID), "rank", json!([]));
    let limited = bot.command().await;
    assert_eq!(limited.id.get(), id5);
    let err = within(limited.create_response(&bot.http, pong()))
        .await
        .expect_err("429 surfaces");
    assert_eq!(http_status(&err), Some(429), "{err:?}");
    assert_eq!(fake.acknowledged(&token5), None);
    tokio::time::sleep(Duration::from_millis(300)).await;
    within(limited.create_response(&bot.http, pong()))
        .await
        .expect("retry after the 429");
    assert_eq!(fake.acknowledged(&token5), Some(4));
    let attempts: Vec<u16> = fake
        .calls()
        .iter()
        .filter(|c| c.path.contains(&format!("/interactions/{id5}/")))
        .map(|c| c.status)
        .collect();
    assert_eq!(attempts, vec![429, 204]);

    bot.stop().await;
    within(fake.shutdown()).await;
}
