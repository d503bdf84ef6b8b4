//! The Discord adapter: slash commands and button clicks in, [`Reply`]s out — nothing else.
//! Options of a slash command are turned back into the one command grammar's text, so the
//! shared handler serves Discord exactly as it serves Telegram and the terminal.
//!
//! REST goes through serenity with its own rate limiter off (the proxy URL is ignored while it
//! is on); Rally retries 429s and server errors itself.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serenity::all::{
    ActionRowComponent, ButtonStyle, ChannelId, Command, CommandDataOptionValue,
    CommandInteraction, CommandOptionType, ComponentInteraction, Context, CreateActionRow,
    CreateAllowedMentions, CreateAttachment, CreateButton, CreateCommand, CreateCommandOption,
    CreateInputText, CreateInteractionResponse, CreateInteractionResponseFollowup,
    CreateInteractionResponseMessage, CreateMessage, CreateModal, EventHandler, GatewayIntents,
    GuildId, InputTextStyle, Interaction, InteractionId, MessageId, ModalInteraction, Permissions,
    Ready, User,
};
use serenity::async_trait;
use serenity::http::{Http, HttpBuilder, LightMethod, Route};
use serenity::utils::MessageBuilder;

use crate::app::App;
use crate::chat::handler::{ArgumentPrompt, Incoming, Outcome};
use crate::chat::registry::{self, Audience, ParamKind};
use crate::chat::reply::{Destination, Msg, Reply, split_at_lines};
use crate::config::Locale;
use crate::engine::partner::Platform;
use crate::i18n::I18n;
use crate::outbox::{ChatClass, DeliveryError, Transport};

mod limits;
use limits::{DiscordLimits, Observed};

/// Discord answers an interaction only within 3 s; past this, Rally defers and follows up.
const ANSWER_WITHIN: Duration = Duration::from_millis(2_000);
/// Discord's limit for one message.
const MAX_MESSAGE_CHARS: usize = 2000;

/// Discord's option type for an argument of the grammar.
fn option_type(kind: ParamKind) -> CommandOptionType {
    match kind {
        ParamKind::Number => CommandOptionType::Integer,
        ParamKind::Attachment => CommandOptionType::Attachment,
        _ => CommandOptionType::String,
    }
}

/// Rebuilds the command text from slash options: `/report 12500 "ACME Corp" #software -- note`.
pub fn command_text(name: &str, options: &[(String, String)]) -> String {
    match registry::find(name) {
        Some(spec) => spec.text_from_options(options),
        None => format!("/{name}"),
    }
}

/// Slash command definitions from the command registry: typed options, English and Simplified
/// Chinese names and descriptions, and manager commands hidden from members without the
/// "Manage Server" permission (Rally still checks the role on every command).
pub fn slash_commands(i18n: &I18n) -> Vec<CreateCommand> {
    let render = |locale, key: String| i18n.render(locale, &Msg::new(&key));
    registry::all()
        .map(|spec| {
            let name = spec.name;
            let mut command = CreateCommand::new(name)
                .name_localized("zh-CN", render(Locale::ZhCn, format!("cmdname-{name}")))
                .description(render(Locale::En, format!("cmd-{name}")))
                .description_localized("zh-CN", render(Locale::ZhCn, format!("cmd-{name}")));
            if spec.audience == Audience::Manager {
                command = command.default_member_permissions(Permissions::MANAGE_GUILD);
            }
            // Discord wants required options first; the text is rebuilt by name, in grammar
            // order, so the order shown to users does not matter to the grammar.
            let mut params: Vec<_> = spec.params.iter().collect();
            params.sort_by_key(|p| !p.required);
            for p in params {
                command = command.add_option(
                    CreateCommandOption::new(
                        option_type(p.kind),
                        p.name,
                        render(Locale::En, format!("opt-{}", p.name)),
                    )
                    .description_localized("zh-CN", render(Locale::ZhCn, format!("opt-{}", p.name)))
                    .required(p.required),
                );
            }
            command
        })
        .collect()
}

/// A reply as Discord content (markdown and mentions neutralised, the evidence link appended)
/// and buttons (the first one green, the others red).
fn render(i18n: &I18n, reply: &Reply, locale: Locale) -> (String, Vec<CreateActionRow>) {
    let (content, components) = render_whole(i18n, reply, locale);
    (truncate(&content), components)
}

/// [`render`] without the length limit (the outbox splits long messages instead).
fn render_whole(i18n: &I18n, reply: &Reply, locale: Locale) -> (String, Vec<CreateActionRow>) {
    let text = i18n.render_reply(locale, reply);
    let mut content = MessageBuilder::new().push_safe(text).build();
    if let Some(image) = &reply.image {
        content.push('\n');
        content.push_str(image);
    }
    let components = if reply.buttons.is_empty() {
        Vec::new()
    } else {
        vec![CreateActionRow::Buttons(
            reply
                .buttons
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    // Discord refuses a label over 80 characters ("Award to <a long
                    // partner name>"): clipped rather than losing the whole message.
                    let label: String = i18n.render(locale, &b.label).chars().take(80).collect();
                    CreateButton::new(b.action.clone())
                        .label(label)
                        .style(if i == 0 {
                            ButtonStyle::Success
                        } else {
                            ButtonStyle::Danger
                        })
                })
                .collect(),
        )]
    };
    (truncate(&content), components)
}

/// A reply's chart (a PNG Rally drew and stored) as a Discord attachment; `None` without one,
/// or if it cannot be read (logged: the text goes out anyway).
async fn chart_attachment(app: &App, reply: &Reply) -> Option<CreateAttachment> {
    let id = reply.chart?;
    let mut conn = app.store.read().await.ok()?;
    match crate::store::contests::image(&mut conn, id).await {
        Ok(found) => found.map(|(_, bytes)| CreateAttachment::bytes(bytes, "standings.png")),
        Err(e) => {
            tracing::warn!(image = id, error = %e, "chart not read; sending the text alone");
            None
        }
    }
}

/// The REST client: through `api_url` (a proxy) when given, serenity's rate limiter off.
pub fn build_http(token: &str, api_url: Option<&str>) -> anyhow::Result<Http> {
    // Our own client: serenity's default one follows HTTP(S)_PROXY from the environment.
    let client = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()?;
    let mut builder = HttpBuilder::new(token)
        .client(client)
        .ratelimiter_disabled(true);
    if let Some(url) = api_url {
        // serenity swaps `https://discord.com` for this string: scheme, host and port only.
        builder = builder.proxy(url.trim_end_matches('/').trim_end_matches("/api/v10"));
    }
    Ok(builder.build())
}

/// The outbox's way to Discord. REST calls are built by serenity (routes, authorization) and
/// executed here, so the status and the rate-limit answer can be read: a 429 waits exactly its
/// `retry_after`. Targets are channel ids, or `dm:<user id>` for a direct message (the DM
/// channel is opened once and remembered).
pub struct DiscordTransport {
    app: Arc<App>,
    client: reqwest::Client,
    token: String,
    proxy: Option<String>,
    dm_channels: std::sync::Mutex<std::collections::HashMap<String, u64>>,
    limits: DiscordLimits,
}

/// Longest wait for a route's bucket or a global pause spent inside a delivery; a longer one
/// hands the row back to the outbox to retry then (not counted as an attempt), so a sender's
/// lease never runs out while it sleeps.
const MAX_WAIT_IN_CALL: Duration = Duration::from_secs(5);

impl DiscordTransport {
    pub fn new(
        app: Arc<App>,
        token: &str,
        api_url: Option<&str>,
    ) -> anyhow::Result<DiscordTransport> {
        let http = build_http(token, api_url)?;
        Ok(DiscordTransport {
            app,
            client: reqwest::Client::builder()
                .no_proxy()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .build()?,
            token: http.token().to_string(),
            proxy: api_url.map(|u| {
                u.trim_end_matches('/')
                    .trim_end_matches("/api/v10")
                    .to_string()
            }),
            dm_channels: std::sync::Mutex::new(std::collections::HashMap::new()),
            limits: DiscordLimits::default(),
        })
    }

    /// One REST call; the JSON answer, or the error classified from status and body.
    async fn call(
        &self,
        route: Route<'_>,
        body: &impl serde::Serialize,
    ) -> Result<serde_json::Value, DeliveryError> {
        self.call_with_file(route, LightMethod::Post, body, None)
            .await
    }

    /// [`Self::call`], uploading `file` as the message's attachment (multipart) when given.
    /// Waits first while Discord said the route's bucket is empty or all requests must pause.
    async fn call_with_file(
        &self,
        route: Route<'_>,
        method: LightMethod,
        body: &impl serde::Serialize,
        file: Option<CreateAttachment>,
    ) -> Result<serde_json::Value, DeliveryError> {
        let bucket = route.ratelimiting_bucket();
        let wait = self.limits.wait_for(bucket, Instant::now());
        if wait > MAX_WAIT_IN_CALL {
            return Err(DeliveryError::RetryAfter(wait));
        }
        if !wait.is_zero() {
            tracing::debug!(route = %route.path(), wait_ms = wait.as_millis(), "waiting for Discord's rate limit");
            tokio::time::sleep(wait).await;
        }
        let bytes = serde_json::to_vec(body).map_err(|e| DeliveryError::Rejected(e.to_string()))?;
        let request = serenity::http::Request::new(route, method);
        let request = match file {
            None => request.body(Some(bytes)),
            Some(file) => request.multipart(Some(serenity::http::Multipart {
                upload: serenity::http::MultipartUpload::Attachments(vec![file]),
                fields: Vec::new(),
                payload_json: Some(String::from_utf8_lossy(&bytes).into_owned()),
            })),
        };
        let request = request
            .build(&self.client, &self.token, self.proxy.as_deref())
            .map_err(|e| DeliveryError::Rejected(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| DeliveryError::Transient(e.to_string()))?;
        let status = response.status();
        let headers = response.headers().clone();
        let answer: serde_json::Value = response.json().await.unwrap_or_default();
        let observed = limits::read_answer(status.as_u16(), &headers, &answer);
        self.limits.observe(bucket, observed, Instant::now());
        if status.is_success() {
            return Ok(answer);
        }
        let message = format!(
            "{status}: {}",
            answer["message"].as_str().unwrap_or_default()
        );
        Err(match status.as_u16() {
            429 => match observed {
                Observed::RouteLimited(wait) | Observed::GlobalLimited(wait) => {
                    if matches!(observed, Observed::GlobalLimited(_)) {
                        tracing::warn!(
                            wait_ms = wait.as_millis(),
                            "Discord's global rate limit: every request pauses"
                        );
                    }
                    DeliveryError::RetryAfter(wait)
                }
                Observed::Bucket { .. } => DeliveryError::RetryAfter(Duration::from_secs(1)),
            },
            401 | 403 => DeliveryError::Refused(message),
            s if s >= 500 => DeliveryError::Transient(message),
            _ => DeliveryError::Rejected(message),
        })
    }

    async fn channel_for(&self, target: &str) -> Result<u64, DeliveryError> {
        let Some(user) = target.strip_prefix("dm:") else {
            return target
                .parse()
                .map_err(|_| DeliveryError::Rejected(format!("not a Discord channel: {target}")));
        };
        if let Some(channel) = self
            .dm_channels
            .lock()
            .ok()
            .and_then(|m| m.get(user).copied())
        {
            return Ok(channel);
        }
        let answer = self
            .call(
                Route::UserMeDmChannels,
                &serde_json::json!({ "recipient_id": user }),
            )
            .await?;
        let channel = answer["id"]
            .as_str()
            .and_then(|id| id.parse::<u64>().ok())
            .ok_or_else(|| DeliveryError::Transient("DM channel without an id".into()))?;
        if let Ok(mut known) = self.dm_channels.lock() {
            known.insert(user.to_string(), channel);
        }
        Ok(channel)
    }
}

impl Transport for DiscordTransport {
    fn platform(&self) -> &'static str {
        "discord"
    }

    fn chat_class(&self, target: &str) -> ChatClass {
        if target.starts_with("dm:") {
            ChatClass::Private
        } else {
            ChatClass::Group
        }
    }

    async fn deliver(
        &self,
        target: &str,
        reply: &Reply,
        locale: Locale,
    ) -> Result<Option<String>, DeliveryError> {
        let channel = self.channel_for(target).await?;
        let (content, components) = render_whole(&self.app.i18n, reply, locale);
        // Long messages go in pieces at line boundaries; the buttons under the last one.
        let pieces = split_at_lines(&content, MAX_MESSAGE_CHARS);
        let last = pieces.len().saturating_sub(1);
        let mut chart = chart_attachment(&self.app, reply).await;
        let mut last_sent = None;
        for (i, piece) in pieces.into_iter().enumerate() {
            let mut message = CreateMessage::new()
                .content(piece)
                .allowed_mentions(CreateAllowedMentions::new());
            if i == last {
                message = message.components(components.clone());
            }
            // The chart goes with the first piece, as an attachment.
            let file = chart.take();
            if let Some(file) = &file {
                message = message.add_file(file.clone());
            }
            let answer = self
                .call_with_file(
                    Route::ChannelMessages {
                        channel_id: ChannelId::new(channel),
                    },
                    LightMethod::Post,
                    &message,
                    file,
                )
                .await?;
            last_sent = answer["id"].as_str().map(str::to_string);
        }
        Ok(last_sent)
    }

    async fn edit_buttons(
        &self,
        target: &str,
        message: &str,
        reply: &Reply,
        locale: Locale,
    ) -> Result<(), DeliveryError> {
        let channel = self.channel_for(target).await?;
        let message_id = message
            .parse::<u64>()
            .ok()
            .filter(|id| *id != 0)
            .map(MessageId::new)
            .ok_or_else(|| DeliveryError::Rejected(format!("not a Discord message: {message}")))?;
        let (_, components) = render_whole(&self.app.i18n, reply, locale);
        let edit = serde_json::json!({ "components": components });
        let route = Route::ChannelMessage {
            channel_id: ChannelId::new(channel),
            message_id,
        };
        match self
            .call_with_file(route, LightMethod::Patch, &edit, None)
            .await
        {
            // 404 on a message of ours: Unknown Message (deleted) or Unknown Channel.
            Err(DeliveryError::Rejected(why)) if why.starts_with("404") => {
                Err(DeliveryError::Gone(why))
            }
            other => other.map(|_| ()),
        }
    }
}

/// The gateway intents Rally needs: slash commands and buttons arrive without any privileged
/// intent.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::DIRECT_MESSAGES
}

/// Serenity's event handler for Rally.
pub struct Discord {
    app: Arc<App>,
    guilds: Vec<u64>,
}

impl Discord {
    pub fn new(app: Arc<App>, guilds: Vec<u64>) -> Discord {
        Discord { app, guilds }
    }

    async fn register(&self, ctx: &Context) {
        let commands = slash_commands(&self.app.i18n);
        if self.guilds.is_empty() {
            if let Err(e) = Command::set_global_commands(&ctx.http, commands).await {
                tracing::error!(error = %e, "global slash commands not registered");
            }
            return;
        }
        for guild in &self.guilds {
            // A bulk overwrite: stale commands disappear, and guild commands are instant.
            if let Err(e) = GuildId::new(*guild)
                .set_commands(&ctx.http, commands.clone())
                .await
            {
                tracing::error!(guild, error = %e, "guild slash commands not registered");
            }
        }
    }

    fn incoming_for_command(&self, cmd: &CommandInteraction) -> Incoming {
        let options: Vec<(String, String)> = cmd
            .data
            .options
            .iter()
            .filter_map(|o| {
                let value = match &o.value {
                    CommandDataOptionValue::String(s) => s.clone(),
                    CommandDataOptionValue::Integer(n) => n.to_string(),
                    CommandDataOptionValue::Number(n) => n.to_string(),
                    CommandDataOptionValue::Boolean(b) => b.to_string(),
                    _ => return None,
                };
                Some((o.name.clone(), value))
            })
            .collect();
        let attachments = cmd
            .data
            .resolved
            .attachments
            .values()
            .map(|a| a.url.clone())
            .collect();
        incoming(
            &cmd.user,
            cmd.channel_id,
            cmd.guild_id,
            cmd.id,
            &cmd.locale,
            command_text(&cmd.data.name, &options),
            attachments,
        )
    }

    async fn on_command(&self, ctx: &Context, cmd: CommandInteraction) {
        let incoming = self.incoming_for_command(&cmd);
        let guild = cmd.guild_id.is_some();
        // Reports arriving together share one commit (`chat::batch`); the answer waits for it.
        let handling = self.app.handle_grouped(&incoming);
        tokio::pin!(handling);
        let (outcome, deferred) = match tokio::time::timeout(ANSWER_WITHIN, &mut handling).await {
            Ok(outcome) => (outcome, false),
            Err(_) => {
                // Slow: acknowledge now, answer with follow-ups when done.
                if let Err(e) = cmd.defer_ephemeral(&ctx.http).await {
                    tracing::warn!(error = %e, "deferring the interaction failed");
                }
                (handling.await, true)
            }
        };
        let mut first = true;
        for reply in &outcome.replies {
            let locale = reply.locale.unwrap_or(outcome.locale);
            let (content, components) = self.render(reply, locale);
            match &reply.to {
                Destination::Here | Destination::Sender => {
                    let ephemeral = guild && reply.to == Destination::Sender;
                    let chart = chart_attachment(&self.app, reply).await;
                    let result = if first && !deferred {
                        let mut message = CreateInteractionResponseMessage::new()
                            .content(content)
                            .components(components)
                            .ephemeral(ephemeral)
                            .allowed_mentions(CreateAllowedMentions::new());
                        if let Some(file) = chart {
                            message = message.add_file(file);
                        }
                        with_retry(|| {
                            cmd.create_response(
                                &ctx.http,
                                CreateInteractionResponse::Message(message.clone()),
                            )
                        })
                        .await
                    } else {
                        let mut followup = CreateInteractionResponseFollowup::new()
                            .content(content)
                            .components(components)
                            .ephemeral(ephemeral || deferred)
                            .allowed_mentions(CreateAllowedMentions::new());
                        if let Some(file) = chart {
                            followup = followup.add_file(file);
                        }
                        with_retry(|| async {
                            cmd.create_followup(&ctx.http, followup.clone())
                                .await
                                .map(|_| ())
                        })
                        .await
                    };
                    if let Err(e) = result {
                        tracing::warn!(error = %e, "interaction answer not delivered");
                    }
                    first = false;
                }
                // Notices for members on a platform go through the outbox; what is left is for
                // terminal members, who cannot be reached from here.
                Destination::Member(_) => {}
            }
        }
        if first && !deferred {
            // Nothing to say (should not happen for a slash command): still acknowledge.
            let _ = cmd
                .create_response(
                    &ctx.http,
                    CreateInteractionResponse::Message(
                        CreateInteractionResponseMessage::new()
                            .content("✓")
                            .ephemeral(true),
                    ),
                )
                .await;
        }
    }

    async fn on_component(&self, ctx: &Context, click: ComponentInteraction) {
        let mut incoming = incoming(
            &click.user,
            click.channel_id,
            click.guild_id,
            click.id,
            &click.locale,
            click.data.custom_id.clone(),
            Vec::new(),
        );
        incoming.pressed_message = Some(click.message.id.get().to_string());
        if let Some(prompt) = self.app.prompt_for_missing_argument(&incoming).await {
            // A modal asks for the missing argument; its submission carries the command as its
            // id and comes back as a `ModalSubmit` (see `on_modal`).
            let modal = argument_modal(&prompt);
            if let Err(e) = click
                .create_response(&ctx.http, CreateInteractionResponse::Modal(modal))
                .await
            {
                tracing::warn!(error = %e, "modal for a button not shown");
            }
            return;
        }
        let pressed = Pressed::Button(&click);
        self.answer_press(ctx, &pressed, &incoming, &click.message.content)
            .await;
    }

    /// A submitted modal: the command it was opened for, completed with what was typed.
    async fn on_modal(&self, ctx: &Context, form: ModalInteraction) {
        let typed: Vec<String> = form
            .data
            .components
            .iter()
            .flat_map(|row| row.components.iter())
            .filter_map(|c| match c {
                ActionRowComponent::InputText(input) => input.value.clone(),
                _ => None,
            })
            .collect();
        let mut incoming = incoming(
            &form.user,
            form.channel_id,
            form.guild_id,
            form.id,
            &form.locale,
            format!("{} {}", form.data.custom_id, typed.join(" ")),
            Vec::new(),
        );
        incoming.pressed_message = form.message.as_ref().map(|m| m.id.get().to_string());
        let shown = form
            .message
            .as_ref()
            .map(|m| m.content.clone())
            .unwrap_or_default();
        let pressed = Pressed::Form(&form);
        self.answer_press(ctx, &pressed, &incoming, &shown).await;
    }

    /// Runs a pressed button's command and shows the outcome on the message that carried the
    /// button (who decided what); other replies go as follow-ups or DMs.
    async fn answer_press(
        &self,
        ctx: &Context,
        pressed: &Pressed<'_>,
        incoming: &Incoming,
        shown: &str,
    ) {
        let outcome: Outcome = self.app.handle(incoming).await;
        let mut updated = false;
        for reply in &outcome.replies {
            let locale = reply.locale.unwrap_or(outcome.locale);
            let (content, components) = self.render(reply, locale);
            match &reply.to {
                // Reaction counts: the pressed message keeps its text and gets the new buttons.
                Destination::Here if !updated && reply.refresh_buttons => {
                    let update = CreateInteractionResponseMessage::new().components(components);
                    if let Err(e) = with_retry(|| {
                        pressed.respond(
                            &ctx.http,
                            CreateInteractionResponse::UpdateMessage(update.clone()),
                        )
                    })
                    .await
                    {
                        tracing::warn!(error = %e, "buttons of a pressed message not updated");
                    }
                    updated = true;
                }
                Destination::Here if !updated => {
                    let text = truncate(&format!("{shown}\n\n{content}"));
                    let update = CreateInteractionResponseMessage::new()
                        .content(text)
                        .components(Vec::new())
                        .allowed_mentions(CreateAllowedMentions::new());
                    if let Err(e) = with_retry(|| {
                        pressed.respond(
                            &ctx.http,
                            CreateInteractionResponse::UpdateMessage(update.clone()),
                        )
                    })
                    .await
                    {
                        tracing::warn!(error = %e, "button message not updated");
                    }
                    updated = true;
                }
                Destination::Here | Destination::Sender => {
                    let followup = CreateInteractionResponseFollowup::new()
                        .content(content)
                        .components(components)
                        .ephemeral(!incoming.private_chat && reply.to == Destination::Sender)
                        .allowed_mentions(CreateAllowedMentions::new());
                    if !updated {
                        let _ = pressed
                            .respond(&ctx.http, CreateInteractionResponse::Acknowledge)
                            .await;
                        updated = true;
                    }
                    let _ = with_retry(|| pressed.follow_up(&ctx.http, followup.clone())).await;
                }
                // Notices for members on a platform go through the outbox; what is left is for
                // terminal members, who cannot be reached from here.
                Destination::Member(_) => {}
            }
        }
        if !updated {
            let _ = pressed
                .respond(&ctx.http, CreateInteractionResponse::Acknowledge)
                .await;
        }
    }

    /// Text with Discord markdown and mentions neutralised, and buttons.
    fn render(&self, reply: &Reply, locale: Locale) -> (String, Vec<CreateActionRow>) {
        render(&self.app.i18n, reply, locale)
    }
}

#[async_trait]
impl EventHandler for Discord {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "connected to Discord");
        self.register(&ctx).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(cmd) => self.on_command(&ctx, cmd).await,
            Interaction::Component(click) => self.on_component(&ctx, click).await,
            Interaction::Modal(form) => self.on_modal(&ctx, form).await,
            _ => {}
        }
    }
}

/// The platform-neutral message for an interaction: a slash command, a button press or a
/// submitted modal, each identified by its interaction id.
fn incoming(
    user: &User,
    channel: ChannelId,
    guild: Option<GuildId>,
    interaction: InteractionId,
    locale: &str,
    text: String,
    attachments: Vec<String>,
) -> Incoming {
    Incoming {
        platform: Platform::Discord,
        chat_id: channel.get().to_string(),
        private_chat: guild.is_none(),
        sender_id: user.id.get().to_string(),
        sender_name: user
            .global_name
            .clone()
            .unwrap_or_else(|| user.name.clone()),
        message_id: format!("i:{}", interaction.get()),
        text,
        locale: Some(locale.to_string()),
        attachments,
        username: None,
        reply_to: None,
        pressed_message: None,
    }
}

/// An interaction answered on the message that carried a button: the press itself, or the
/// modal the press opened.
enum Pressed<'a> {
    Button(&'a ComponentInteraction),
    Form(&'a ModalInteraction),
}

impl Pressed<'_> {
    async fn respond(
        &self,
        http: &Http,
        response: CreateInteractionResponse,
    ) -> serenity::Result<()> {
        match self {
            Pressed::Button(click) => click.create_response(http, response).await,
            Pressed::Form(form) => form.create_response(http, response).await,
        }
    }

    async fn follow_up(
        &self,
        http: &Http,
        followup: CreateInteractionResponseFollowup,
    ) -> serenity::Result<()> {
        match self {
            Pressed::Button(click) => click.create_followup(http, followup).await.map(|_| ()),
            Pressed::Form(form) => form.create_followup(http, followup).await.map(|_| ()),
        }
    }
}

/// A modal asking for the argument a button's command lacks; its id is the command.
fn argument_modal(prompt: &ArgumentPrompt) -> CreateModal {
    // Discord's limits: title and label 45 characters.
    let clip = |text: &str| text.chars().take(45).collect::<String>();
    let input = CreateInputText::new(
        InputTextStyle::Paragraph,
        clip(&prompt.param_label),
        "argument",
    )
    .max_length(1000)
    .required(true);
    CreateModal::new(&prompt.command, clip(&prompt.command))
        .components(vec![CreateActionRow::InputText(input)])
}

/// Retries a REST call on 429 and on server errors. serenity's error keeps only the body's
/// `message` (not `retry_after`, nor the rate-limit headers) when its own limiter is off, so a
/// 429 waits a conservative second per attempt; Rally's outbox will pace sends from the
/// headers once it owns the REST calls.
async fn with_retry<F, Fut>(op: F) -> serenity::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = serenity::Result<()>>,
{
    let mut attempt: u32 = 0;
    loop {
        attempt += 1;
        match op().await {
            Ok(()) => return Ok(()),
            Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(
                response,
            ))) if attempt < 5
                && (response.status_code.as_u16() == 429
                    || response.status_code.is_server_error()) =>
            {
                let wait = Duration::from_millis(1_000 * u64::from(attempt));
                tracing::info!(status = %response.status_code, wait_ms = wait.as_millis() as u64, "Discord asked to retry");
                tokio::time::sleep(wait).await;
            }
            Err(e) => return Err(e),
        }
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manager_commands_need_a_permission_and_options_are_typed() {
        let i18n = I18n::new().expect("i18n");
        let commands = serde_json::to_value(slash_commands(&i18n)).expect("json");
        let commands = commands.as_array().expect("array");
        assert_eq!(commands.len(), registry::all().count());
        for (spec, json) in registry::all().zip(commands) {
            assert_eq!(json["name"], spec.name);
            let permissions = &json["default_member_permissions"];
            if spec.audience == Audience::Manager {
                assert_eq!(
                    permissions.as_str(),
                    Some(Permissions::MANAGE_GUILD.bits().to_string().as_str()),
                    "/{}",
                    spec.name
                );
            } else {
                assert!(permissions.is_null(), "/{}: {permissions}", spec.name);
            }
        }
        let allocate = commands
            .iter()
            .find(|c| c["name"] == "allocate")
            .expect("allocate");
        let names: Vec<_> = allocate["options"]
            .as_array()
            .expect("options")
            .iter()
            .map(|o| o["name"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(names, ["budget", "currency"]);
    }
}
