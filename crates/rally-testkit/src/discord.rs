//! A fake Discord for tests: axum on 127.0.0.1 serving the REST API under `/api/v10/...` and a
//! websocket gateway at `/gateway`, speaking the real wire protocol so the real serenity 0.12
//! client runs against it.
//!
//! Point serenity at it with
//! `HttpBuilder::new(TOKEN).proxy(fake.url()).ratelimiter_disabled(true)` — serenity's proxy
//! option replaces the literal prefix `https://discord.com` of every request URL with the proxy
//! string, so [`FakeDiscord::url`] is `http://127.0.0.1:PORT` (no `/api/v10`, no trailing slash),
//! and the proxy is only used while serenity's own ratelimiter is disabled.
//!
//! The gateway: Hello (op 10) on connect; Identify (op 2) → READY then GUILD_CREATE; heartbeats
//! (op 1) are answered with op 11; Resume (op 6) replays the dispatches the session missed and
//! then sends RESUMED; unknown sessions get Invalid Session (op 9, `false`). Every session has its
//! own rising sequence number `s`. Interactions are dispatched as INTERACTION_CREATE to every
//! live session (buffered for a disconnected one until it resumes).
//!
//! REST: it records every request ([`FakeDiscord::calls`]), stores application commands (with
//! Discord's validation of names, descriptions and localizations), answers interaction callbacks
//! (enforcing the 3 s deadline and single acknowledgement), keeps every message the bot created
//! so edits, `@original` and button clicks see the real thing, and can be told to fail the next
//! matching request ([`FakeDiscord::fail_next`]).
//!
//! serenity drops a dispatch that fails to deserialize with nothing but a log line, so every
//! payload built here is proved against serenity's types in the kit's `tests/discord_fake.rs`.
//!
//! The server stops when the last clone of its [`FakeDiscord`] is dropped, or on
//! [`FakeDiscord::shutdown`].

use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::http::{Hub, Listener, Recorded, Server, unix_now};
pub use crate::multipart::UploadedFile;
use crate::multipart::{self, Part};

/// The bot token the fake accepts (REST `Authorization: Bot <TOKEN>`, gateway Identify/Resume).
pub const TOKEN: &str = "fake-discord-bot-token";
/// The application id (READY `application.id`, command registration, webhook paths). Deliberately
/// different from [`BOT_USER_ID`] so code that mixes them up fails here.
pub const APPLICATION_ID: u64 = 1_100_000_000_000_000_001;
/// The bot's user id (`GET /users/@me`, READY `user`).
pub const BOT_USER_ID: u64 = 1_100_000_000_000_000_002;
/// The bot's username.
pub const BOT_USERNAME: &str = "RallyBot";
/// The one guild the bot is in (READY `guilds`, GUILD_CREATE).
pub const GUILD_ID: u64 = 1_200_000_000_000_000_001;
/// The guild's text channel `#general`.
pub const GUILD_CHANNEL_ID: u64 = 1_200_000_000_000_000_002;
/// A role `Rally Managers` in the guild (give it to a member with [`FakeDiscord::set_member`]).
pub const MANAGER_ROLE_ID: u64 = 1_200_000_000_000_000_003;
/// The guild owner (not the bot).
pub const GUILD_OWNER_ID: u64 = 1_200_000_000_000_000_004;
/// Gateway heartbeat interval announced in Hello.
pub const HEARTBEAT_INTERVAL_MS: u64 = 3_000;
/// Discord answers an interaction callback later than this with 404 "Unknown interaction"
/// (change it per fake with [`FakeDiscord::set_interaction_deadline`]).
pub const INTERACTION_DEADLINE: Duration = Duration::from_secs(3);
/// `attachment_size_limit` in interactions (10 MiB, as for a guild without boosts).
pub const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// Permission bits used below (Discord's values).
pub mod permissions {
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_CHANNELS: u64 = 1 << 4;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const MANAGE_ROLES: u64 = 1 << 28;
    /// What a plain member has in the fake guild (the `@everyone` role).
    pub const MEMBER: u64 = VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_APPLICATION_COMMANDS;
    /// What the `Rally Managers` role adds.
    pub const MANAGER: u64 = MEMBER | MANAGE_GUILD | MANAGE_MESSAGES;
    /// The bot's own permissions (`app_permissions` in interactions).
    pub const BOT: u64 = MEMBER | MANAGE_MESSAGES;
}

/// Locales Discord accepts as keys of `name_localizations` / `description_localizations`.
pub const DISCORD_LOCALES: &[&str] = &[
    "id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu", "nl",
    "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru", "uk", "hi", "th",
    "zh-CN", "ja", "zh-TW", "ko",
];

/// Snowflakes the fake makes up (interactions, messages, commands, channels, attachments) come
/// from here, so they never collide with the constants above or between fakes.
static NEXT_ID: AtomicU64 = AtomicU64::new(1_400_000_000_000_000_000);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// A Discord user who clicks and types in tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiscordUser {
    pub id: u64,
    pub username: String,
    /// The client locale sent as the interaction's `locale`; `None` sends `"en-US"` (Discord
    /// always sends one).
    pub locale: Option<String>,
}

impl DiscordUser {
    pub fn new(id: u64, username: &str) -> DiscordUser {
        DiscordUser {
            id,
            username: username.to_string(),
            locale: None,
        }
    }

    pub fn with_locale(mut self, locale: &str) -> DiscordUser {
        self.locale = Some(locale.to_string());
        self
    }

    /// The user as a Discord `User` object.
    pub fn to_json(&self) -> Value {
        user_json(self.id, &self.username, false)
    }
}

/// One request the fake received, in order of arrival.
#[derive(Clone, Debug)]
pub struct RestCall {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The request path as sent, e.g. `/api/v10/channels/12/messages` (no query string).
    pub path: String,
    /// The query string without `?` (empty when none).
    pub query: String,
    /// The JSON body; for multipart requests the decoded `payload_json` part; `Null` when empty.
    pub body: Value,
    /// File parts of a multipart request.
    pub files: Vec<UploadedFile>,
    /// The HTTP status the fake answered with; 0 while the request is in flight.
    pub status: u16,
    /// When the request arrived.
    pub at: Instant,
}

impl RestCall {
    /// Answered already, with `method` (case-insensitive), at a path containing `path_contains`.
    fn answered(&self, method: &str, path_contains: &str) -> bool {
        self.status != 0
            && self.method.eq_ignore_ascii_case(method)
            && self.path.contains(path_contains)
    }
}

/// What the next matching request should fail with (see [`FakeDiscord::fail_next`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// 429 with `{"message": "You are being rate limited.", "retry_after": X, "global": false}`
    /// and `Retry-After` / `X-RateLimit-*` headers, as Discord sends them. With serenity's
    /// ratelimiter disabled this surfaces as `Error::Http(HttpError::UnsuccessfulRequest(r))`
    /// with `r.status_code == 429`; the body has no `code`, so serenity fails to decode it
    /// (`r.error.code == -1`) and `retry_after` is NOT available to the caller.
    RateLimited { retry_after_secs: f64 },
    /// 429 of the global limit: `"global": true`, `X-RateLimit-Global: true`,
    /// `X-RateLimit-Scope: global`; the bot must pause every request for `retry_after_secs`.
    GlobalRateLimited { retry_after_secs: f64 },
    /// 500 `{"message": "500: Internal Server Error", "code": 0}`.
    ServerError,
    /// Any JSON error: `{"message": message, "code": code}` with `status`.
    Api {
        status: u16,
        code: u32,
        message: String,
    },
    /// Answer normally, but only after this delay.
    Delay(Duration),
}

/// A fake Discord. Clones share one server; it stops when the last clone is dropped.
#[derive(Clone)]
pub struct FakeDiscord {
    shared: Arc<Shared>,
    server: Arc<Server>,
}

/// The fake's state; [`Hub::bump`] on every change a waiter may care about.
type Shared = Hub<Config, Inner>;

struct Config {
    /// `http://127.0.0.1:PORT`
    url: String,
    /// `ws://127.0.0.1:PORT/gateway`
    gateway_url: String,
}

struct Inner {
    calls: Vec<RestCall>,
    failures: Vec<(String, Failure)>,
    /// Commands per scope: `None` = global, `Some(guild)`.
    commands: BTreeMap<Option<u64>, Vec<Value>>,
    /// Ids handed out for commands that were never registered, by name.
    unregistered_command_ids: HashMap<String, u64>,
    /// Every message the bot created (and messages clicked on), by id, with creation order.
    messages: HashMap<u64, Value>,
    message_order: Vec<u64>,
    /// Interactions dispatched, by token.
    interactions: HashMap<String, InteractionState>,
    interaction_deadline: Duration,
    /// Users seen in interactions (for DM recipients, mentions).
    users: HashMap<u64, DiscordUser>,
    /// Member overrides: user id → (role ids, extra permission bits).
    members: HashMap<u64, (Vec<u64>, u64)>,
    /// DM channel per user and back.
    dm_channels: HashMap<u64, u64>,
    dm_channel_users: HashMap<u64, u64>,
    /// Guild text channels the bot can post in (besides DMs).
    guild_channels: HashMap<u64, u64>,
    /// Files served at `/attachments/{id}/{filename}`.
    attachments: HashMap<u64, (Value, Vec<u8>)>,
    // Gateway state.
    conns: HashMap<u64, mpsc::UnboundedSender<Out>>,
    next_conn: u64,
    sessions: Vec<Session>,
    identifies: usize,
    resumes: usize,
    heartbeats: usize,
    next_session: u64,
    /// Real per-channel buckets for `POST /channels/{id}/messages` (see
    /// [`FakeDiscord::limit_channel_messages`]): messages per window, and each channel's
    /// current window (start, messages in it).
    channel_limit: Option<(u32, Duration)>,
    channel_windows: HashMap<String, (Instant, u32)>,
    /// 429s answered, of any kind.
    rate_limited: usize,
}

struct InteractionState {
    id: u64,
    kind: u8,
    channel_id: u64,
    guild_id: Option<u64>,
    /// The message a component sits on.
    component_message: Option<u64>,
    sent_at: Instant,
    /// The callback type that acknowledged it.
    acked: Option<u8>,
    /// The `@original` response message.
    original: Option<u64>,
    followups: Vec<u64>,
}

struct Session {
    id: String,
    seq: u64,
    /// Every dispatch sent in this session: (s, frame).
    log: Vec<(u64, String)>,
    /// The connection the session is attached to, if any.
    conn: Option<u64>,
    invalid: bool,
    /// `[shard_id, num_shards]` from the IDENTIFY; `None`: an unsharded connection.
    shard: Option<(u64, u64)>,
}

impl Session {
    /// Whether Discord would send an event of `guild` (none: a DM) on this session: guild
    /// events go to shard `(guild_id >> 22) % num_shards`, direct messages to shard 0.
    fn receives(&self, guild: Option<u64>) -> bool {
        match self.shard {
            None => true,
            Some((id, total)) => id == guild.map_or(0, |g| (g >> 22) % total.max(1)),
        }
    }
}

enum Out {
    Frame(String),
    Close(u16, &'static str),
    Abort,
}

impl FakeDiscord {
    pub const TOKEN: &'static str = TOKEN;
    pub const APPLICATION_ID: u64 = APPLICATION_ID;
    pub const BOT_USER_ID: u64 = BOT_USER_ID;
    pub const GUILD_ID: u64 = GUILD_ID;
    pub const GUILD_CHANNEL_ID: u64 = GUILD_CHANNEL_ID;
    pub const MANAGER_ROLE_ID: u64 = MANAGER_ROLE_ID;

    /// Starts the server on 127.0.0.1 (a free port) in a spawned task.
    pub async fn start() -> FakeDiscord {
        let listener = Listener::bind("Discord").await;
        let addr = listener.addr;
        let config = Config {
            url: format!("http://{addr}"),
            gateway_url: format!("ws://{addr}/gateway"),
        };
        let shared = Hub::new(
            config,
            Inner {
                calls: Vec::new(),
                failures: Vec::new(),
                commands: BTreeMap::new(),
                unregistered_command_ids: HashMap::new(),
                messages: HashMap::new(),
                message_order: Vec::new(),
                interactions: HashMap::new(),
                interaction_deadline: INTERACTION_DEADLINE,
                users: HashMap::new(),
                members: HashMap::new(),
                dm_channels: HashMap::new(),
                dm_channel_users: HashMap::new(),
                guild_channels: HashMap::from([(GUILD_CHANNEL_ID, GUILD_ID)]),
                attachments: HashMap::new(),
                conns: HashMap::new(),
                next_conn: 1,
                sessions: Vec::new(),
                identifies: 0,
                resumes: 0,
                heartbeats: 0,
                next_session: 1,
                channel_limit: None,
                channel_windows: HashMap::new(),
                rate_limited: 0,
            },
        );
        let router = Router::new()
            .route("/gateway", get(gateway))
            .fallback(rest)
            .with_state(shared.clone());
        let server = listener.serve(router, &shared);
        FakeDiscord { shared, server }
    }

    /// `http://127.0.0.1:PORT` — what serenity's `HttpBuilder::proxy` wants (it substitutes this
    /// for `https://discord.com`, so requests arrive as `/api/v10/...`).
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    /// `ws://127.0.0.1:PORT/gateway`, as `GET /api/v10/gateway` reports it (serenity appends
    /// `?v=10`).
    pub fn gateway_url(&self) -> String {
        self.shared.gateway_url.clone()
    }

    /// Stops the server (and closes every websocket) and waits at most 5 s for it to finish.
    /// Dropping the last clone stops it too, without waiting.
    pub async fn shutdown(&self) {
        self.server.shutdown(&self.shared).await;
    }

    // -----------------------------------------------------------------------------------------
    // Interactions

    /// Dispatches INTERACTION_CREATE (type 2, APPLICATION_COMMAND, CHAT_INPUT) to every live
    /// gateway session and returns the interaction's (id, token).
    ///
    /// `options` is Discord's `[{"name", "type", "value"}]` (nested `options` for subcommands,
    /// types 1/2). Snowflake values may be numbers; they are sent as strings. An attachment
    /// option (type 11) whose value is the id of a file from [`FakeDiscord::upload_attachment`],
    /// and a user option (type 6) naming a user the fake knows, are added to `data.resolved`.
    /// `data.id` is the id of the registered command with that name (guild scope first), else a
    /// stable made-up id. With `guild` the payload carries `member` (see
    /// [`FakeDiscord::set_member`]), else `user` (a DM; `channel_id` becomes that user's DM
    /// channel unless it already has one).
    pub fn send_interaction_command(
        &self,
        user: impl Borrow<DiscordUser>,
        channel_id: u64,
        guild: Option<u64>,
        name: &str,
        options: Value,
    ) -> (u64, String) {
        let (id, token, payload) =
            self.shared
                .lock()
                .command_interaction(user.borrow(), channel_id, guild, name, options);
        self.dispatch("INTERACTION_CREATE", payload);
        (id, token)
    }

    /// Dispatches INTERACTION_CREATE (type 3, MESSAGE_COMPONENT, a button) for a click on
    /// `custom_id` under message `message_id` and returns (id, token). The `message` is the
    /// message as the fake holds it (as the bot sent or last edited it); for an unknown id a
    /// plain bot message in `channel_id` is made up (and remembered).
    pub fn send_component_click(
        &self,
        user: impl Borrow<DiscordUser>,
        channel_id: u64,
        guild: Option<u64>,
        message_id: u64,
        custom_id: &str,
    ) -> (u64, String) {
        let data = json!({"custom_id": custom_id, "component_type": 2});
        self.send_component(user.borrow(), channel_id, guild, message_id, data)
    }

    /// Dispatches INTERACTION_CREATE (type 5, MODAL_SUBMIT) for the modal `custom_id` opened
    /// from a button under message `message_id`, with the text inputs `(custom_id, value)`
    /// filled in; returns (id, token).
    pub fn send_modal_submit(
        &self,
        user: impl Borrow<DiscordUser>,
        channel_id: u64,
        guild: Option<u64>,
        message_id: u64,
        custom_id: &str,
        inputs: &[(&str, &str)],
    ) -> (u64, String) {
        let rows: Vec<Value> = inputs
            .iter()
            .map(|(id, value)| {
                json!({"type": 1, "components": [{"type": 4, "custom_id": id, "value": value}]})
            })
            .collect();
        let data = json!({"custom_id": custom_id, "components": rows});
        let mut inner = self.shared.lock();
        let message = inner.messages.get(&message_id).cloned();
        let (id, token, payload) =
            inner.interaction(5, user.borrow(), channel_id, guild, data, message);
        drop(inner);
        self.dispatch("INTERACTION_CREATE", payload);
        (id, token)
    }

    /// Like [`FakeDiscord::send_component_click`], for a string select menu (component type 3)
    /// with the chosen `values`.
    pub fn send_select_menu(
        &self,
        user: impl Borrow<DiscordUser>,
        channel_id: u64,
        guild: Option<u64>,
        message_id: u64,
        custom_id: &str,
        values: &[&str],
    ) -> (u64, String) {
        let data = json!({"custom_id": custom_id, "component_type": 3, "values": values});
        self.send_component(user.borrow(), channel_id, guild, message_id, data)
    }

    fn send_component(
        &self,
        user: &DiscordUser,
        channel_id: u64,
        guild: Option<u64>,
        message_id: u64,
        data: Value,
    ) -> (u64, String) {
        let (id, token, payload) = self
            .shared
            .lock()
            .component_interaction(user, channel_id, guild, message_id, data);
        self.dispatch("INTERACTION_CREATE", payload);
        (id, token)
    }

    /// The INTERACTION_CREATE `d` that [`FakeDiscord::send_interaction_command`] would send
    /// (built by the same code, and remembered the same way), without sending it — for
    /// deserialization tests.
    pub fn command_payload(
        &self,
        user: &DiscordUser,
        channel_id: u64,
        guild: Option<u64>,
        name: &str,
        options: Value,
    ) -> Value {
        self.shared
            .lock()
            .command_interaction(user, channel_id, guild, name, options)
            .2
    }

    /// The INTERACTION_CREATE `d` that [`FakeDiscord::send_component_click`] would send, without
    /// sending it.
    pub fn component_payload(
        &self,
        user: &DiscordUser,
        channel_id: u64,
        guild: Option<u64>,
        message_id: u64,
        custom_id: &str,
    ) -> Value {
        let data = json!({"custom_id": custom_id, "component_type": 2});
        self.shared
            .lock()
            .component_interaction(user, channel_id, guild, message_id, data)
            .2
    }

    /// The INTERACTION_CREATE `d` that [`FakeDiscord::send_select_menu`] would send, without
    /// sending it.
    pub fn select_menu_payload(
        &self,
        user: &DiscordUser,
        channel_id: u64,
        guild: Option<u64>,
        message_id: u64,
        custom_id: &str,
        values: &[&str],
    ) -> Value {
        let data = json!({"custom_id": custom_id, "component_type": 3, "values": values});
        self.shared
            .lock()
            .component_interaction(user, channel_id, guild, message_id, data)
            .2
    }

    /// Registers a file served at `GET /attachments/{id}/{filename}` and returns its Discord
    /// `Attachment` object (use its `id` as the value of a type-11 option).
    pub fn upload_attachment(&self, filename: &str, content_type: &str, bytes: Vec<u8>) -> Value {
        let id = next_id();
        let url = format!("{}/attachments/{id}/{filename}", self.shared.url);
        let attachment = json!({
            "id": id.to_string(),
            "filename": filename,
            "size": bytes.len(),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        });
        self.shared
            .lock()
            .attachments
            .insert(id, (attachment.clone(), bytes));
        attachment
    }

    /// How long an interaction may wait for its callback before Discord answers 404
    /// "Unknown interaction" (default 3 s, as on Discord).
    pub fn set_interaction_deadline(&self, deadline: Duration) {
        self.shared.lock().interaction_deadline = deadline;
    }

    /// Sets a guild member's roles and extra permission bits (on top of
    /// [`permissions::MEMBER`]); holding [`MANAGER_ROLE_ID`] adds [`permissions::MANAGER`].
    pub fn set_member(&self, user_id: u64, roles: &[u64], extra_permissions: u64) {
        self.shared
            .lock()
            .members
            .insert(user_id, (roles.to_vec(), extra_permissions));
    }

    /// The DM channel of a user (made up on first use; `POST /users/@me/channels` returns the
    /// same one).
    pub fn dm_channel_id(&self, user_id: u64) -> u64 {
        self.shared.lock().dm_channel(user_id)
    }

    /// Adds a guild text channel the bot may post in.
    pub fn add_guild_channel(&self, channel_id: u64) {
        self.shared
            .lock()
            .guild_channels
            .insert(channel_id, GUILD_ID);
    }

    /// Sends a raw dispatch (`t` = `event`, `d` = `data`) to every live session that would get
    /// it (by shard, as Discord routes: see `Session::receives`); a session whose websocket is
    /// down gets it on resume.
    /// Returns the number of sessions it went to (0 prints a warning: the event is lost).
    pub fn dispatch(&self, event: &str, data: Value) -> usize {
        let mut inner = self.shared.lock();
        let mut sent = 0;
        let Inner {
            sessions, conns, ..
        } = &mut *inner;
        let guild = match &data["guild_id"] {
            Value::String(g) => g.parse::<u64>().ok(),
            Value::Number(g) => g.as_u64(),
            _ => None,
        };
        for session in sessions
            .iter_mut()
            .filter(|s| !s.invalid && s.receives(guild))
        {
            session.seq += 1;
            let frame = json!({"op": 0, "t": event, "s": session.seq, "d": data}).to_string();
            session.log.push((session.seq, frame.clone()));
            if let Some(tx) = session.conn.and_then(|c| conns.get(&c)) {
                let _ = tx.send(Out::Frame(frame));
            }
            sent += 1;
        }
        drop(inner);
        if sent == 0 {
            eprintln!("fake Discord: {event} dispatched while no gateway session exists (lost)");
        }
        self.shared.bump();
        sent
    }

    // -----------------------------------------------------------------------------------------
    // Gateway control

    /// Closes every websocket with close code 4000 ("Unknown error", resumable): serenity
    /// resumes (op 6) and the fake replays what the session missed. Dispatches sent before the
    /// client is back are buffered for the session.
    pub fn drop_gateway(&self) {
        self.close_all(Some((4000, "Unknown error")));
    }

    /// Drops every websocket's TCP connection without a close frame.
    pub fn kill_gateway(&self) {
        self.close_all(None);
    }

    fn close_all(&self, close: Option<(u16, &'static str)>) {
        let mut inner = self.shared.lock();
        for session in &mut inner.sessions {
            session.conn = None;
        }
        for (_, tx) in inner.conns.drain() {
            let _ = tx.send(match close {
                Some((code, reason)) => Out::Close(code, reason),
                None => Out::Abort,
            });
        }
        drop(inner);
        self.shared.bump();
    }

    /// Invalidates every session: connected ones get Invalid Session (op 9, `d: false`), later
    /// resumes too, so the client must identify again (serenity restarts the shard, which can
    /// take up to 5 s).
    pub fn invalidate_sessions(&self) {
        let mut inner = self.shared.lock();
        let Inner {
            sessions, conns, ..
        } = &mut *inner;
        for session in sessions.iter_mut() {
            session.invalid = true;
            if let Some(tx) = session.conn.take().and_then(|c| conns.get(&c)) {
                let _ = tx.send(Out::Frame(json!({"op": 9, "d": false}).to_string()));
            }
        }
        drop(inner);
        self.shared.bump();
    }

    /// Identifies plus successful resumes seen.
    pub fn connections(&self) -> usize {
        let inner = self.shared.lock();
        inner.identifies + inner.resumes
    }

    /// The `[shard_id, num_shards]` of every live session, sorted (unsharded ones left out).
    pub fn live_shards(&self) -> Vec<(u64, u64)> {
        let mut shards: Vec<(u64, u64)> = self
            .shared
            .lock()
            .sessions
            .iter()
            .filter(|s| !s.invalid && s.conn.is_some())
            .filter_map(|s| s.shard)
            .collect();
        shards.sort_unstable();
        shards
    }

    pub fn identifies(&self) -> usize {
        self.shared.lock().identifies
    }

    pub fn resumes(&self) -> usize {
        self.shared.lock().resumes
    }

    pub fn heartbeats(&self) -> usize {
        self.shared.lock().heartbeats
    }

    /// Waits (at most `timeout`) until `n` heartbeats (op 1) were answered.
    pub async fn wait_for_heartbeats(&self, n: usize, timeout: Duration) -> bool {
        self.shared
            .wait_for(timeout, |inner| inner.heartbeats >= n)
            .await
    }

    /// Waits (at most `timeout`) until exactly `n` sessions are attached to an open websocket.
    pub async fn wait_for_live_sessions(&self, n: usize, timeout: Duration) -> bool {
        self.shared
            .wait_for(timeout, |inner| inner.live_sessions() == n)
            .await
    }

    /// Sessions that would receive a dispatch now or on resume (not closed with 1000/1001,
    /// not invalidated).
    pub fn resumable_sessions(&self) -> usize {
        self.shared
            .lock()
            .sessions
            .iter()
            .filter(|s| !s.invalid)
            .count()
    }

    /// Sessions currently attached to an open websocket.
    pub fn live_sessions(&self) -> usize {
        self.shared.lock().live_sessions()
    }

    /// Waits (at most `timeout`) until [`FakeDiscord::connections`] reaches `n` and a session is
    /// attached to a websocket; returns whether it did.
    pub async fn wait_for_connections(&self, n: usize, timeout: Duration) -> bool {
        self.shared
            .wait_for(timeout, |inner| {
                inner.live_sessions() > 0 && inner.identifies + inner.resumes >= n
            })
            .await
    }

    // -----------------------------------------------------------------------------------------
    // REST inspection

    /// Every request, in order of arrival.
    pub fn calls(&self) -> Vec<RestCall> {
        self.shared.lock().calls.clone()
    }

    /// Waits (at most `timeout`) for a request with `method` (case-insensitive) whose path
    /// contains `path_contains` and that `pred` accepts, including requests made before this
    /// wait began, and that has been answered; returns the first such request.
    pub async fn wait_for_call(
        &self,
        method: &str,
        path_contains: &str,
        pred: impl Fn(&RestCall) -> bool,
        timeout: Duration,
    ) -> Option<RestCall> {
        self.shared
            .wait_for_call(timeout, |c| c.answered(method, path_contains) && pred(c))
            .await
    }

    /// Waits (at most `timeout`) until `n` answered requests match; returns them all.
    pub async fn wait_for_calls(
        &self,
        method: &str,
        path_contains: &str,
        n: usize,
        timeout: Duration,
    ) -> Option<Vec<RestCall>> {
        self.shared
            .wait_for_calls(timeout, n, |c| c.answered(method, path_contains))
            .await
    }

    /// Enforces Discord's per-route buckets on channel messages: at most `per_window` messages
    /// per channel in each `window`; answers carry the true `X-RateLimit-Remaining` and
    /// `X-RateLimit-Reset-After`, and one more message in the window gets a 429 (scope `user`).
    pub fn limit_channel_messages(&self, per_window: u32, window: Duration) {
        self.shared.lock().channel_limit = Some((per_window, window));
    }

    /// How many 429s the fake answered (failures asked for and bucket overflows).
    pub fn rate_limited(&self) -> usize {
        self.shared.lock().rate_limited
    }

    /// Fails the next request whose path contains `path_contains` with `failure`; several
    /// failures queue up in order. The failed request is still recorded (with its status).
    pub fn fail_next(&self, path_contains: &str, failure: Failure) {
        self.shared
            .lock()
            .failures
            .push((path_contains.to_string(), failure));
    }

    /// The application commands registered in a scope (`None` = global), as the fake returns
    /// them (with `id`, `application_id`, `version`, `type`).
    pub fn registered_commands(&self, guild: Option<u64>) -> Vec<Value> {
        self.shared
            .lock()
            .commands
            .get(&guild)
            .cloned()
            .unwrap_or_default()
    }

    /// Deletes a message, as a moderator would: fetching or editing it answers 404 Unknown
    /// Message from now on. `false` if the fake did not hold it.
    pub fn delete_message(&self, message_id: u64) -> bool {
        self.shared.lock().messages.remove(&message_id).is_some()
    }

    /// A message the bot created (or a clicked message), as the fake holds it now.
    pub fn message(&self, message_id: u64) -> Option<Value> {
        self.shared.lock().messages.get(&message_id).cloned()
    }

    /// Every message the bot created (channel messages, interaction responses, followups), in
    /// order of creation, as they are now (deleted ones are gone).
    pub fn messages(&self) -> Vec<Value> {
        let inner = self.shared.lock();
        inner
            .message_order
            .iter()
            .filter_map(|id| inner.messages.get(id).cloned())
            .collect()
    }

    /// Messages in one channel, in order of creation.
    pub fn messages_in(&self, channel_id: u64) -> Vec<Value> {
        let channel = channel_id.to_string();
        self.messages()
            .into_iter()
            .filter(|m| m["channel_id"] == channel)
            .collect()
    }

    /// The `@original` response of an interaction (after edits), if it has one.
    pub fn original_response(&self, token: &str) -> Option<Value> {
        let inner = self.shared.lock();
        let id = inner.interactions.get(token)?.original?;
        inner.messages.get(&id).cloned()
    }

    /// Followup messages of an interaction, in order.
    pub fn followups(&self, token: &str) -> Vec<Value> {
        let inner = self.shared.lock();
        inner
            .interactions
            .get(token)
            .map(|i| {
                i.followups
                    .iter()
                    .filter_map(|id| inner.messages.get(id).cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The callback type that acknowledged an interaction (4 message, 5 deferred, 6 deferred
    /// update, 7 update message), if any.
    pub fn acknowledged(&self, token: &str) -> Option<u8> {
        self.shared.lock().interactions.get(token)?.acked
    }

    // -----------------------------------------------------------------------------------------
    // Payloads (also for the deserialization test)

    /// The bot as a `CurrentUser` (`GET /users/@me`, READY `user`).
    pub fn bot_user(&self) -> Value {
        bot_user_json()
    }

    /// The READY `d` for a session id.
    pub fn ready_payload(&self, session_id: &str) -> Value {
        ready_json(&self.shared.gateway_url, session_id, Some(json!([0, 1])))
    }

    /// The GUILD_CREATE `d` of the fake guild.
    pub fn guild_payload(&self) -> Value {
        guild_json()
    }

    /// The `GET /oauth2/applications/@me` answer.
    pub fn application_payload(&self) -> Value {
        application_json()
    }
}

impl Recorded for Inner {
    type Call = RestCall;

    fn calls(&self) -> &[RestCall] {
        &self.calls
    }
}

/// A channel's message bucket after counting one more message.
enum BucketState {
    Open {
        limit: u32,
        remaining: u32,
        reset_after: Duration,
    },
    Exhausted {
        reset_after: Duration,
    },
}

impl Inner {
    /// Counts a message posted to a channel against its bucket, when buckets are enforced.
    fn take_channel_message(&mut self, path: &str) -> Option<BucketState> {
        let (limit, window) = self.channel_limit?;
        let channel = path
            .strip_prefix("/api/v10/channels/")?
            .strip_suffix("/messages")?
            .to_string();
        let now = Instant::now();
        let (start, used) = self.channel_windows.entry(channel).or_insert((now, 0));
        if now.duration_since(*start) >= window {
            *start = now;
            *used = 0;
        }
        let reset_after = window.saturating_sub(now.duration_since(*start));
        if *used >= limit {
            return Some(BucketState::Exhausted { reset_after });
        }
        *used += 1;
        Some(BucketState::Open {
            limit,
            remaining: limit - *used,
            reset_after,
        })
    }

    /// Sessions attached to an open websocket.
    fn live_sessions(&self) -> usize {
        self.sessions
            .iter()
            .filter(|s| !s.invalid && s.conn.is_some())
            .count()
    }

    fn command_id(&mut self, name: &str, guild: Option<u64>) -> u64 {
        let registered = guild
            .and_then(|g| self.commands.get(&Some(g)))
            .into_iter()
            .chain(self.commands.get(&None))
            .flatten()
            .find(|c| c["name"] == name)
            .and_then(|c| c["id"].as_str())
            .and_then(|id| id.parse().ok());
        registered.unwrap_or_else(|| {
            *self
                .unregistered_command_ids
                .entry(name.to_string())
                .or_insert_with(next_id)
        })
    }

    fn dm_channel(&mut self, user_id: u64) -> u64 {
        if let Some(id) = self.dm_channels.get(&user_id) {
            return *id;
        }
        let id = next_id();
        self.dm_channels.insert(user_id, id);
        self.dm_channel_users.insert(id, user_id);
        id
    }

    fn user_json(&self, user_id: u64) -> Value {
        if user_id == BOT_USER_ID {
            return user_json(BOT_USER_ID, BOT_USERNAME, true);
        }
        match self.users.get(&user_id) {
            Some(user) => user.to_json(),
            None => user_json(user_id, &format!("user{user_id}"), false),
        }
    }

    /// The DM channel `id` with `user_id`.
    fn dm_channel_json(&self, id: u64, user_id: u64) -> Value {
        json!({
            "id": id.to_string(),
            "type": 1,
            "last_message_id": null,
            "flags": 0,
            "recipients": [self.user_json(user_id)],
        })
    }

    fn member_json(&self, user: &DiscordUser) -> Value {
        let (roles, extra) = self.members.get(&user.id).cloned().unwrap_or_default();
        let mut perms = permissions::MEMBER | extra;
        if roles.contains(&MANAGER_ROLE_ID) {
            perms |= permissions::MANAGER;
        }
        let roles: Vec<String> = roles.iter().map(u64::to_string).collect();
        json!({
            "user": user.to_json(),
            "nick": null,
            "avatar": null,
            "roles": roles,
            "joined_at": "2025-01-01T00:00:00.000000+00:00",
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "permissions": perms.to_string(),
            "communication_disabled_until": null,
        })
    }

    fn command_interaction(
        &mut self,
        user: &DiscordUser,
        channel_id: u64,
        guild: Option<u64>,
        name: &str,
        options: Value,
    ) -> (u64, String, Value) {
        self.users.insert(user.id, user.clone());
        let mut resolved = Map::new();
        let options = normalize_options(self, options, guild, &mut resolved);
        let command_id = self.command_id(name, guild);
        let mut data = json!({
            "id": command_id.to_string(),
            "name": name,
            "type": 1,
            "options": options,
        });
        if !resolved.is_empty() {
            data["resolved"] = Value::Object(resolved);
        }
        if let Some(g) = guild
            && self
                .commands
                .get(&Some(g))
                .is_some_and(|cmds| cmds.iter().any(|c| c["name"] == name))
        {
            data["guild_id"] = json!(g.to_string());
        }
        self.interaction(2, user, channel_id, guild, data, None)
    }

    /// A component interaction on `message_id`: the message as the fake holds it, or a made-up
    /// bot message (remembered) whose only component is the one clicked.
    fn component_interaction(
        &mut self,
        user: &DiscordUser,
        channel_id: u64,
        guild: Option<u64>,
        message_id: u64,
        data: Value,
    ) -> (u64, String, Value) {
        self.users.insert(user.id, user.clone());
        let message = match self.messages.get(&message_id) {
            Some(message) => message.clone(),
            None => {
                let custom_id = data["custom_id"].clone();
                let component = if data["component_type"] == 3 {
                    let options: Vec<Value> = data["values"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|v| json!({"label": v, "value": v}))
                        .collect();
                    json!({"type": 3, "custom_id": custom_id, "options": options})
                } else {
                    json!({"type": 2, "style": 1, "label": "OK", "custom_id": custom_id})
                };
                let body =
                    json!({"content": "", "components": [{"type": 1, "components": [component]}]});
                let message = message_json(message_id, channel_id, guild, &body, 0, self, None);
                self.store_message(message.clone());
                message
            }
        };
        self.interaction(3, user, channel_id, guild, data, Some(message))
    }

    /// Builds an interaction payload and remembers it; returns (id, token, payload).
    fn interaction(
        &mut self,
        kind: u8,
        user: &DiscordUser,
        channel_id: u64,
        guild: Option<u64>,
        data: Value,
        message: Option<Value>,
    ) -> (u64, String, Value) {
        let id = next_id();
        let token = format!("interaction-token-{id}");
        let locale = user.locale.clone().unwrap_or_else(|| "en-US".to_string());
        let mut payload = json!({
            "id": id.to_string(),
            "application_id": APPLICATION_ID.to_string(),
            "type": kind,
            "data": data,
            "channel_id": channel_id.to_string(),
            "token": token,
            "version": 1,
            "app_permissions": permissions::BOT.to_string(),
            "locale": locale,
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        });
        match guild {
            Some(g) => {
                self.guild_channels.entry(channel_id).or_insert(g);
                payload["guild_id"] = json!(g.to_string());
                payload["guild_locale"] = json!("en-US");
                payload["member"] = self.member_json(user);
                payload["channel"] = json!({
                    "id": channel_id.to_string(),
                    "type": 0,
                    "name": "general",
                    "guild_id": g.to_string(),
                    "permissions": permissions::MEMBER.to_string(),
                    "parent_id": null,
                    "nsfw": false,
                    "position": 0,
                    "flags": 0,
                });
                payload["authorizing_integration_owners"] = json!({"0": g.to_string()});
                payload["context"] = json!(0);
            }
            None => {
                if !self.dm_channels.contains_key(&user.id)
                    && !self.dm_channel_users.contains_key(&channel_id)
                {
                    self.dm_channels.insert(user.id, channel_id);
                    self.dm_channel_users.insert(channel_id, user.id);
                }
                payload["user"] = user.to_json();
                payload["channel"] = json!({
                    "id": channel_id.to_string(),
                    "type": 1,
                    "recipients": [user.to_json()],
                    "flags": 0,
                });
                payload["authorizing_integration_owners"] = json!({"0": "0"});
                payload["context"] = json!(1);
            }
        }
        let component_message = message
            .as_ref()
            .and_then(|m| m["id"].as_str())
            .and_then(|id| id.parse().ok());
        if let Some(message) = message {
            payload["message"] = message;
        }
        self.interactions.insert(
            token.clone(),
            InteractionState {
                id,
                kind,
                channel_id,
                guild_id: guild,
                component_message,
                sent_at: Instant::now(),
                acked: None,
                original: None,
                followups: Vec::new(),
            },
        );
        (id, token, payload)
    }

    fn store_message(&mut self, message: Value) -> u64 {
        let id: u64 = message["id"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("message id");
        if self.messages.insert(id, message).is_none() {
            self.message_order.push(id);
        }
        id
    }

    fn channel_guild(&self, channel_id: u64) -> Option<u64> {
        self.guild_channels.get(&channel_id).copied()
    }

    fn channel_known(&self, channel_id: u64) -> bool {
        self.guild_channels.contains_key(&channel_id)
            || self.dm_channel_users.contains_key(&channel_id)
    }
}

/// Normalizes `[{name, type, value}]`: snowflake values become strings, known attachments and
/// users go into `resolved`.
fn normalize_options(
    inner: &Inner,
    options: Value,
    guild: Option<u64>,
    resolved: &mut Map<String, Value>,
) -> Value {
    let Value::Array(options) = options else {
        return json!([]);
    };
    let options = options
        .into_iter()
        .map(|mut option| {
            let kind = option["type"].as_u64().unwrap_or(3);
            match kind {
                1 | 2 => {
                    let nested = option.get("options").cloned().unwrap_or(json!([]));
                    option["options"] = normalize_options(inner, nested, guild, resolved);
                }
                6..=9 | 11 => {
                    let id = match &option["value"] {
                        Value::Number(n) => n.as_u64(),
                        Value::String(s) => s.parse().ok(),
                        _ => None,
                    };
                    if let Some(id) = id {
                        option["value"] = json!(id.to_string());
                        if kind == 11
                            && let Some((attachment, _)) = inner.attachments.get(&id)
                        {
                            entry(resolved, "attachments")
                                .insert(id.to_string(), attachment.clone());
                        }
                        if kind == 6
                            && let Some(user) = inner.users.get(&id)
                        {
                            entry(resolved, "users").insert(id.to_string(), user.to_json());
                            if guild.is_some() {
                                let mut member = inner.member_json(user);
                                if let Some(m) = member.as_object_mut() {
                                    m.remove("user");
                                }
                                entry(resolved, "members").insert(id.to_string(), member);
                            }
                        }
                    }
                }
                _ => {}
            }
            option
        })
        .collect();
    Value::Array(options)
}

fn entry<'a>(map: &'a mut Map<String, Value>, key: &str) -> &'a mut Map<String, Value> {
    map.entry(key.to_string())
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .expect("object")
}

// ---------------------------------------------------------------------------------------------
// JSON shapes

fn now_iso() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

fn user_json(id: u64, username: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": username,
        "global_name": username,
        "discriminator": "0",
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

fn bot_user_json() -> Value {
    let mut user = user_json(BOT_USER_ID, BOT_USERNAME, true);
    user["global_name"] = Value::Null;
    user["verified"] = json!(true);
    user["mfa_enabled"] = json!(false);
    user["email"] = Value::Null;
    user["flags"] = json!(0);
    user["locale"] = json!("en-US");
    user
}

fn application_json() -> Value {
    json!({
        "id": APPLICATION_ID.to_string(),
        "name": BOT_USERNAME,
        "icon": null,
        "description": "Rally test application",
        "rpc_origins": [],
        "bot_public": false,
        "bot_require_code_grant": false,
        "owner": user_json(GUILD_OWNER_ID, "owner", false),
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "team": null,
        "flags": 8_912_896u64,
        "bot": bot_user_json(),
        "redirect_uris": [],
        "interactions_endpoint_url": null,
        "approximate_guild_count": 1,
    })
}

fn ready_json(gateway_url: &str, session_id: &str, shard: Option<Value>) -> Value {
    let mut ready = json!({
        "v": 10,
        "user": bot_user_json(),
        "user_settings": {},
        "private_channels": [],
        "relationships": [],
        "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": [],
        "session_type": "normal",
        "session_id": session_id,
        "resume_gateway_url": gateway_url,
        "application": {"id": APPLICATION_ID.to_string(), "flags": 8_912_896u64},
        "_trace": ["fake-discord"],
    });
    if let Some(shard) = shard {
        ready["shard"] = shard;
    }
    ready
}

/// A guild text channel (without `guild_id`).
fn text_channel_json(id: u64, name: &str) -> Value {
    json!({
        "id": id.to_string(),
        "type": 0,
        "name": name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": false,
        "topic": null,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "flags": 0,
    })
}

fn role_json(id: u64, name: &str, perms: u64, position: u64) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": perms.to_string(),
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

fn guild_json() -> Value {
    let joined = "2025-01-01T00:00:00.000000+00:00";
    // Built in pieces: one `json!` this large exceeds the macro recursion limit.
    let mut guild = json!({
        "id": GUILD_ID.to_string(),
        "name": "Rally Test Guild",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": GUILD_OWNER_ID.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [
            role_json(GUILD_ID, "@everyone", permissions::MEMBER, 0),
            role_json(MANAGER_ROLE_ID, "Rally Managers", permissions::MANAGER, 1),
        ],
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": GUILD_CHANNEL_ID.to_string(),
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500_000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
    });
    let more = json!({
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "nsfw": false,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
        "incidents_data": null,
        "joined_at": joined,
        "large": false,
        "unavailable": false,
        "member_count": 2,
        "voice_states": [],
        "threads": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
        "embedded_activities": [],
        "lazy": true,
    });
    let members = json!([{
        "user": bot_user_json(),
        "nick": null,
        "avatar": null,
        "roles": [],
        "joined_at": joined,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    }]);
    // Channels in GUILD_CREATE carry no `guild_id` (the guild is implied), as on Discord.
    let channels = json!([text_channel_json(GUILD_CHANNEL_ID, "general")]);
    if let (Some(guild), Value::Object(more)) = (guild.as_object_mut(), more) {
        guild.extend(more);
        guild.insert("members".into(), members);
        guild.insert("channels".into(), channels);
    }
    guild
}

/// Whether a message pings @everyone/@here, given its `allowed_mentions` (absent = Discord's
/// default, which parses everything).
fn mentions_everyone(content: &str, allowed: Option<&Value>) -> bool {
    if !(content.contains("@everyone") || content.contains("@here")) {
        return false;
    }
    match allowed {
        None | Some(Value::Null) => true,
        Some(allowed) => allowed["parse"]
            .as_array()
            .is_some_and(|p| p.iter().any(|x| x == "everyone")),
    }
}

/// Users pinged by `<@id>` / `<@!id>` in `content`, given `allowed_mentions`.
fn mentioned_users(content: &str, allowed: Option<&Value>, inner: &Inner) -> Vec<Value> {
    let mut ids = Vec::new();
    let mut rest = content;
    while let Some(at) = rest.find("<@") {
        rest = &rest[at + 2..];
        let digits = rest.strip_prefix('!').unwrap_or(rest);
        let end = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        if digits[end..].starts_with('>')
            && let Ok(id) = digits[..end].parse::<u64>()
            && !ids.contains(&id)
        {
            ids.push(id);
        }
    }
    ids.into_iter()
        .filter(|id| match allowed {
            None | Some(Value::Null) => true,
            Some(allowed) => {
                allowed["parse"]
                    .as_array()
                    .is_some_and(|p| p.iter().any(|x| x == "users"))
                    || allowed["users"].as_array().is_some_and(|u| {
                        u.iter()
                            .any(|x| x.as_str() == Some(&id.to_string()) || x.as_u64() == Some(*id))
                    })
            }
        })
        .map(|id| inner.user_json(id))
        .collect()
}

/// A `Message` authored by the bot from a create-message style body.
fn message_json(
    id: u64,
    channel_id: u64,
    guild: Option<u64>,
    body: &Value,
    kind: u8,
    inner: &Inner,
    interaction: Option<&InteractionState>,
) -> Value {
    let content = body["content"].as_str().unwrap_or_default();
    let allowed = body.get("allowed_mentions");
    let mut message = json!({
        "id": id.to_string(),
        "channel_id": channel_id.to_string(),
        "author": user_json(BOT_USER_ID, BOT_USERNAME, true),
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": null,
        "tts": body["tts"].as_bool().unwrap_or(false),
        "mention_everyone": mentions_everyone(content, allowed),
        "mentions": mentioned_users(content, allowed, inner),
        "mention_roles": [],
        "attachments": body.get("attachments").cloned().unwrap_or(json!([])),
        "embeds": embeds(body),
        "components": body.get("components").cloned().unwrap_or(json!([])),
        "pinned": false,
        "type": kind,
        "flags": body["flags"].as_u64().unwrap_or(0),
    });
    if let Some(g) = guild {
        message["guild_id"] = json!(g.to_string());
    }
    if let Some(reference) = body.get("message_reference").filter(|r| !r.is_null()) {
        message["message_reference"] = reference.clone();
    }
    if interaction.is_some() {
        message["webhook_id"] = json!(APPLICATION_ID.to_string());
        message["application_id"] = json!(APPLICATION_ID.to_string());
    }
    message
}

fn embeds(body: &Value) -> Value {
    let Some(embeds) = body["embeds"].as_array() else {
        return json!([]);
    };
    Value::Array(
        embeds
            .iter()
            .map(|e| {
                let mut e = e.clone();
                if e.get("type").is_none() {
                    e["type"] = json!("rich");
                }
                e
            })
            .collect(),
    )
}

/// Applies an edit body to a stored message.
fn edit_message(message: &mut Value, body: &Value, inner: &Inner) {
    if let Some(content) = body.get("content") {
        message["content"] = json!(content.as_str().unwrap_or_default());
    }
    if body.get("embeds").is_some() {
        message["embeds"] = embeds(body);
    }
    for key in ["components", "attachments"] {
        if let Some(value) = body.get(key) {
            message[key] = if value.is_null() {
                json!([])
            } else {
                value.clone()
            };
        }
    }
    if let Some(flags) = body["flags"].as_u64() {
        message["flags"] = json!(flags);
    }
    let content = message["content"].as_str().unwrap_or_default().to_string();
    let allowed = body.get("allowed_mentions");
    message["mention_everyone"] = json!(mentions_everyone(&content, allowed));
    message["mentions"] = json!(mentioned_users(&content, allowed, inner));
    message["edited_timestamp"] = json!(now_iso());
}

// ---------------------------------------------------------------------------------------------
// Gateway

async fn gateway(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let version_ok = query.get("v").is_none_or(|v| v == "10");
    let json_ok = query.get("encoding").is_none_or(|e| e == "json");
    ws.on_upgrade(move |socket| connection(shared, socket, version_ok && json_ok))
}

async fn connection(shared: Arc<Shared>, mut socket: WebSocket, version_ok: bool) {
    if !version_ok {
        let _ = socket
            .send(WsMessage::Close(Some(CloseFrame {
                code: 4012,
                reason: "Invalid API version.".into(),
            })))
            .await;
        return;
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let conn = {
        let mut inner = shared.lock();
        let conn = inner.next_conn;
        inner.next_conn += 1;
        inner.conns.insert(conn, tx.clone());
        conn
    };
    let hello = json!({
        "op": 10,
        "s": null,
        "t": null,
        "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS, "_trace": ["fake-discord"]},
    });
    let mut open = socket
        .send(WsMessage::Text(hello.to_string().into()))
        .await
        .is_ok();
    let mut identified = false;
    while open {
        tokio::select! {
            _ = shared.cancel.cancelled() => {
                let _ = socket.send(WsMessage::Close(Some(CloseFrame {
                    code: 1001,
                    reason: "going away".into(),
                }))).await;
                break;
            }
            out = rx.recv() => match out {
                Some(Out::Frame(frame)) => {
                    open = socket.send(WsMessage::Text(frame.into())).await.is_ok();
                }
                Some(Out::Close(code, reason)) => {
                    let _ = socket.send(WsMessage::Close(Some(CloseFrame {
                        code,
                        reason: reason.into(),
                    }))).await;
                    break;
                }
                Some(Out::Abort) | None => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(WsMessage::Text(text))) => {
                    on_gateway_message(&shared, conn, &tx, &mut identified, text.as_str());
                }
                Some(Ok(WsMessage::Binary(_))) => {
                    let _ = tx.send(Out::Close(4002, "Decode error"));
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    // A client closing with 1000/1001 ends its session (Discord will not
                    // resume it); any other code keeps it resumable.
                    if frame.is_some_and(|f| f.code == 1000 || f.code == 1001) {
                        let mut inner = shared.lock();
                        for session in &mut inner.sessions {
                            if session.conn == Some(conn) {
                                session.invalid = true;
                            }
                        }
                    }
                    break;
                }
                Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    let mut inner = shared.lock();
    inner.conns.remove(&conn);
    for session in &mut inner.sessions {
        if session.conn == Some(conn) {
            session.conn = None;
        }
    }
    drop(inner);
    shared.bump();
}

fn token_ok(token: &Value) -> bool {
    let token = token.as_str().unwrap_or_default();
    token == TOKEN || token.strip_prefix("Bot ") == Some(TOKEN)
}

fn on_gateway_message(
    shared: &Shared,
    conn: u64,
    tx: &mpsc::UnboundedSender<Out>,
    identified: &mut bool,
    text: &str,
) {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        let _ = tx.send(Out::Close(4002, "Decode error"));
        return;
    };
    let d = &message["d"];
    match message["op"].as_u64() {
        Some(1) => {
            shared.lock().heartbeats += 1;
            let _ = tx.send(Out::Frame(
                json!({"op": 11, "s": null, "t": null, "d": null}).to_string(),
            ));
            shared.bump();
        }
        Some(2) => {
            if !token_ok(&d["token"]) {
                let _ = tx.send(Out::Close(4004, "Authentication failed."));
                return;
            }
            if *identified {
                let _ = tx.send(Out::Close(4005, "Already authenticated."));
                return;
            }
            *identified = true;
            let mut inner = shared.lock();
            let session_id = format!("fake-session-{}", inner.next_session);
            inner.next_session += 1;
            inner.identifies += 1;
            let intents = d["intents"].as_u64().unwrap_or(0);
            let shard = d.get("shard").filter(|s| s.is_array()).cloned();
            let mut session = Session {
                id: session_id.clone(),
                seq: 0,
                log: Vec::new(),
                conn: Some(conn),
                invalid: false,
                shard: shard
                    .as_ref()
                    .and_then(|s| Some((s[0].as_u64()?, s[1].as_u64()?))),
            };
            let mut frames = vec![("READY", ready_json(&shared.gateway_url, &session_id, shard))];
            if intents & 1 != 0 {
                frames.push(("GUILD_CREATE", guild_json()));
            }
            for (event, data) in frames {
                session.seq += 1;
                let frame = json!({"op": 0, "t": event, "s": session.seq, "d": data}).to_string();
                session.log.push((session.seq, frame.clone()));
                let _ = tx.send(Out::Frame(frame));
            }
            inner.sessions.push(session);
            drop(inner);
            shared.bump();
        }
        Some(6) => {
            if !token_ok(&d["token"]) {
                let _ = tx.send(Out::Close(4004, "Authentication failed."));
                return;
            }
            let session_id = d["session_id"].as_str().unwrap_or_default();
            let seq = d["seq"].as_u64().unwrap_or(0);
            let mut inner = shared.lock();
            let Inner {
                sessions,
                conns,
                resumes,
                ..
            } = &mut *inner;
            let Some(session) = sessions
                .iter_mut()
                .find(|s| s.id == session_id && !s.invalid)
            else {
                let _ = tx.send(Out::Frame(json!({"op": 9, "d": false}).to_string()));
                return;
            };
            if let Some(old) = session.conn.replace(conn)
                && old != conn
                && let Some(old_tx) = conns.get(&old)
            {
                let _ = old_tx.send(Out::Close(4000, "Session resumed elsewhere"));
            }
            *identified = true;
            *resumes += 1;
            for (s, frame) in &session.log {
                if *s > seq {
                    let _ = tx.send(Out::Frame(frame.clone()));
                }
            }
            session.seq += 1;
            let resumed = json!({"_trace": ["fake-discord"]});
            let frame =
                json!({"op": 0, "t": "RESUMED", "s": session.seq, "d": resumed}).to_string();
            session.log.push((session.seq, frame.clone()));
            let _ = tx.send(Out::Frame(frame));
            drop(inner);
            shared.bump();
        }
        // Presence update, voice state, request guild members, request soundboard sounds.
        Some(3 | 4 | 8 | 31) => {}
        _ => {
            let _ = tx.send(Out::Close(4001, "Unknown opcode."));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// REST

struct Answer {
    status: StatusCode,
    body: Option<Value>,
    headers: Vec<(&'static str, String)>,
    raw: Option<(String, Vec<u8>)>,
}

fn ok(body: Value) -> Answer {
    Answer {
        status: StatusCode::OK,
        body: Some(body),
        headers: Vec::new(),
        raw: None,
    }
}

fn created(body: Value) -> Answer {
    Answer {
        status: StatusCode::CREATED,
        ..ok(body)
    }
}

fn no_content() -> Answer {
    Answer {
        status: StatusCode::NO_CONTENT,
        body: None,
        headers: Vec::new(),
        raw: None,
    }
}

fn api_error(status: u16, code: u32, message: &str) -> Answer {
    Answer {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        body: Some(json!({"message": message, "code": code})),
        headers: Vec::new(),
        raw: None,
    }
}

fn not_found() -> Answer {
    api_error(404, 0, "404: Not Found")
}

/// 400 Invalid Form Body with Discord's nested `errors` shape.
fn form_error(path: &[String], code: &str, message: &str) -> Answer {
    let mut errors = json!({"_errors": [{"code": code, "message": message}]});
    for key in path.iter().rev() {
        errors = json!({ key.as_str(): errors });
    }
    Answer {
        status: StatusCode::BAD_REQUEST,
        body: Some(json!({"message": "Invalid Form Body", "code": 50035, "errors": errors})),
        headers: Vec::new(),
        raw: None,
    }
}

/// 400 Invalid Form Body: the list or text at `path` is longer than `max`.
fn too_long(path: &[String], max: usize) -> Answer {
    form_error(
        path,
        "BASE_TYPE_MAX_LENGTH",
        &format!("Must be {max} or fewer in length."),
    )
}

fn failure_answer(failure: &Failure) -> Answer {
    match failure {
        Failure::RateLimited { retry_after_secs } => {
            let reset = unix_now() + retry_after_secs;
            Answer {
                status: StatusCode::TOO_MANY_REQUESTS,
                body: Some(json!({
                    "message": "You are being rate limited.",
                    "retry_after": retry_after_secs,
                    "global": false,
                })),
                headers: vec![
                    ("retry-after", format!("{}", retry_after_secs.ceil() as u64)),
                    ("x-ratelimit-limit", "5".into()),
                    ("x-ratelimit-remaining", "0".into()),
                    ("x-ratelimit-reset", format!("{reset:.3}")),
                    ("x-ratelimit-reset-after", format!("{retry_after_secs:.3}")),
                    ("x-ratelimit-bucket", "fake-bucket".into()),
                    ("x-ratelimit-scope", "user".into()),
                ],
                raw: None,
            }
        }
        Failure::GlobalRateLimited { retry_after_secs } => Answer {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: Some(json!({
                "message": "You are being rate limited.",
                "retry_after": retry_after_secs,
                "global": true,
            })),
            headers: vec![
                ("retry-after", format!("{}", retry_after_secs.ceil() as u64)),
                ("x-ratelimit-global", "true".into()),
                ("x-ratelimit-scope", "global".into()),
            ],
            raw: None,
        },
        Failure::ServerError => api_error(500, 0, "500: Internal Server Error"),
        Failure::Api {
            status,
            code,
            message,
        } => api_error(*status, *code, message),
        Failure::Delay(_) => unreachable!("handled before"),
    }
}

/// `X-RateLimit-*` headers Discord puts on every answer.
fn ratelimit_headers(bucket: &str) -> Vec<(&'static str, String)> {
    let reset = unix_now() + 1.0;
    vec![
        ("x-ratelimit-limit", "5".into()),
        ("x-ratelimit-remaining", "4".into()),
        ("x-ratelimit-reset", format!("{reset:.3}")),
        ("x-ratelimit-reset-after", "1.000".into()),
        ("x-ratelimit-bucket", bucket.to_string()),
    ]
}

fn into_response(answer: Answer) -> Response {
    let mut response = match (answer.raw, answer.body) {
        (Some((content_type, bytes)), _) => {
            (answer.status, [(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
        (None, Some(body)) => (
            answer.status,
            [(header::CONTENT_TYPE, "application/json".to_string())],
            body.to_string(),
        )
            .into_response(),
        (None, None) => answer.status.into_response(),
    };
    for (name, value) in answer.headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}

async fn rest(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    let (body_json, files) = parse_body(&headers, &body);
    let (index, failure, bucket) = {
        let mut inner = shared.lock();
        let failure = inner
            .failures
            .iter()
            .position(|(p, _)| path.contains(p.as_str()))
            .map(|i| inner.failures.remove(i).1);
        inner.calls.push(RestCall {
            method: method.as_str().to_string(),
            path: path.clone(),
            query: uri.query().unwrap_or_default().to_string(),
            body: body_json.clone(),
            files: files.iter().map(Part::uploaded).collect(),
            status: 0,
            at: Instant::now(),
        });
        let bucket = match failure {
            None if method == Method::POST => inner.take_channel_message(&path),
            _ => None,
        };
        (inner.calls.len() - 1, failure, bucket)
    };
    shared.bump();

    let answer = match (failure, bucket) {
        (Some(Failure::Delay(delay)), _) => {
            shared.pause(delay).await;
            route(&shared, &method, &path, &headers, &body_json, &files)
        }
        (Some(failure), _) => failure_answer(&failure),
        (None, Some(BucketState::Exhausted { reset_after })) => {
            failure_answer(&Failure::RateLimited {
                retry_after_secs: reset_after.as_secs_f64(),
            })
        }
        (
            None,
            Some(BucketState::Open {
                limit,
                remaining,
                reset_after,
            }),
        ) => {
            let mut answer = route(&shared, &method, &path, &headers, &body_json, &files);
            if answer.status.is_success() {
                answer.headers.retain(|(name, _)| {
                    !matches!(
                        *name,
                        "x-ratelimit-remaining" | "x-ratelimit-reset-after" | "x-ratelimit-limit"
                    )
                });
                answer.headers.extend([
                    ("x-ratelimit-limit", limit.to_string()),
                    ("x-ratelimit-remaining", remaining.to_string()),
                    (
                        "x-ratelimit-reset-after",
                        format!("{:.3}", reset_after.as_secs_f64()),
                    ),
                ]);
            }
            answer
        }
        (None, None) => route(&shared, &method, &path, &headers, &body_json, &files),
    };
    {
        let mut inner = shared.lock();
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            inner.rate_limited += 1;
        }
        if let Some(call) = inner.calls.get_mut(index) {
            call.status = answer.status.as_u16();
        }
    }
    shared.bump();
    into_response(answer)
}

/// The JSON body (for multipart: the `payload_json` part) and the uploaded files.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> (Value, Vec<Part>) {
    if let Some(parts) = multipart::parts(headers, body) {
        let mut payload = Value::Null;
        let mut files = Vec::new();
        for part in parts {
            if part.name == "payload_json" {
                payload = serde_json::from_slice(&part.data).unwrap_or(Value::Null);
            } else {
                files.push(part);
            }
        }
        return (payload, files);
    }
    if body.is_empty() {
        return (Value::Null, Vec::new());
    }
    (
        serde_json::from_slice(body)
            .unwrap_or_else(|_| json!(String::from_utf8_lossy(body).into_owned())),
        Vec::new(),
    )
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bot {TOKEN}"))
}

fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &Value,
    files: &[Part],
) -> Answer {
    // Attachment downloads (CDN): /attachments/{id}/{filename}
    if let Some(rest) = path.strip_prefix("/attachments/") {
        let id = rest.split('/').next().and_then(|id| id.parse::<u64>().ok());
        let inner = shared.lock();
        return match id.and_then(|id| inner.attachments.get(&id)) {
            Some((attachment, bytes)) if method == Method::GET => Answer {
                raw: Some((
                    attachment["content_type"]
                        .as_str()
                        .unwrap_or("application/octet-stream")
                        .to_string(),
                    bytes.clone(),
                )),
                ..ok(Value::Null)
            },
            _ => not_found(),
        };
    }
    let Some(api_path) = path.strip_prefix("/api/v10/") else {
        return not_found();
    };
    let segments: Vec<&str> = api_path.split('/').collect();
    let open =
        matches!(segments.first(), Some(&"interactions" | &"webhooks")) || segments == ["gateway"];
    if !open && !authorized(headers) {
        return api_error(401, 0, "401: Unauthorized");
    }
    let method = method.as_str();
    let mut answer = match (method, segments.as_slice()) {
        ("GET", ["gateway"]) => ok(json!({"url": shared.gateway_url})),
        ("GET", ["gateway", "bot"]) => ok(json!({
            "url": shared.gateway_url,
            "shards": 1,
            "session_start_limit": {
                "total": 1000, "remaining": 999, "reset_after": 86_400_000u64, "max_concurrency": 1
            },
        })),
        ("GET", ["users", "@me"]) => ok(bot_user_json()),
        ("GET", ["users", id]) => match id.parse::<u64>() {
            Ok(id) => ok(shared.lock().user_json(id)),
            Err(_) => api_error(404, 10013, "Unknown User"),
        },
        ("POST", ["users", "@me", "channels"]) => create_dm(shared, body),
        ("GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]) => {
            ok(application_json())
        }
        (_, ["applications", app, "commands"]) => commands(shared, method, app, None, None, body),
        (_, ["applications", app, "commands", id]) => {
            commands(shared, method, app, None, Some(id), body)
        }
        (_, ["applications", app, "guilds", guild, "commands"]) => match guild.parse() {
            Ok(g) => commands(shared, method, app, Some(g), None, body),
            Err(_) => api_error(404, 10004, "Unknown Guild"),
        },
        (_, ["applications", app, "guilds", guild, "commands", id]) => match guild.parse() {
            Ok(g) => commands(shared, method, app, Some(g), Some(id), body),
            Err(_) => api_error(404, 10004, "Unknown Guild"),
        },
        ("POST", ["interactions", id, token, "callback"]) => {
            callback(shared, id, token, body, files)
        }
        (_, ["webhooks", app, token]) => webhook(shared, method, app, token, None, body, files),
        (_, ["webhooks", app, token, "messages", message]) => {
            webhook(shared, method, app, token, Some(message), body, files)
        }
        ("GET", ["channels", id]) => get_channel(shared, id),
        ("POST", ["channels", id, "messages"]) => create_message(shared, id, body, files),
        (_, ["channels", channel, "messages", message]) => {
            channel_message(shared, method, channel, message, body, files)
        }
        ("POST", ["channels", _, "typing"]) => no_content(),
        _ => not_found(),
    };
    if answer.status.is_success() {
        let bucket = format!(
            "fake-{}",
            segments
                .iter()
                .take(2)
                .copied()
                .collect::<Vec<_>>()
                .join("-")
        );
        answer.headers.extend(ratelimit_headers(&bucket));
    }
    answer
}

fn parse_id(s: &str) -> Option<u64> {
    s.parse().ok()
}

fn create_dm(shared: &Shared, body: &Value) -> Answer {
    let recipient = match &body["recipient_id"] {
        Value::String(s) => s.parse::<u64>().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    };
    let Some(recipient) = recipient else {
        return form_error(
            &["recipient_id".to_string()],
            "BASE_TYPE_REQUIRED",
            "This field is required",
        );
    };
    let mut inner = shared.lock();
    let channel = inner.dm_channel(recipient);
    ok(inner.dm_channel_json(channel, recipient))
}

fn get_channel(shared: &Shared, id: &str) -> Answer {
    let Some(id) = parse_id(id) else {
        return api_error(404, 10003, "Unknown Channel");
    };
    let inner = shared.lock();
    if let Some(user) = inner.dm_channel_users.get(&id) {
        return ok(inner.dm_channel_json(id, *user));
    }
    let name = if id == GUILD_CHANNEL_ID {
        "general".to_string()
    } else {
        format!("channel-{id}")
    };
    match inner.channel_guild(id) {
        Some(guild) => {
            let mut channel = text_channel_json(id, &name);
            channel["guild_id"] = json!(guild.to_string());
            ok(channel)
        }
        None => api_error(404, 10003, "Unknown Channel"),
    }
}

// --- messages

/// Discord's checks on a create/edit message body.
fn check_message_body(body: &Value, files: &[Part], creating: bool) -> Option<Answer> {
    let content = body["content"].as_str().unwrap_or_default();
    if content.chars().count() > 2000 {
        return Some(too_long(&["content".to_string()], 2000));
    }
    if body["embeds"].as_array().is_some_and(|e| e.len() > 10) {
        return Some(too_long(&["embeds".to_string()], 10));
    }
    if body["components"].as_array().is_some_and(|c| c.len() > 5) {
        return Some(too_long(&["components".to_string()], 5));
    }
    let empty = content.is_empty()
        && body["embeds"].as_array().is_none_or(Vec::is_empty)
        && body["components"].as_array().is_none_or(Vec::is_empty)
        && body["sticker_ids"].as_array().is_none_or(Vec::is_empty)
        && body.get("poll").is_none_or(Value::is_null)
        && files.is_empty();
    if creating && empty {
        return Some(api_error(400, 50006, "Cannot send an empty message"));
    }
    None
}

/// The `attachments` of a message created with uploaded files.
fn uploaded_attachments(shared: &Shared, files: &[Part]) -> Vec<Value> {
    files
        .iter()
        .map(|part| {
            let id = next_id();
            let filename = part.file_name.clone().unwrap_or_else(|| "file".to_string());
            let url = format!("{}/attachments/{id}/{filename}", shared.url);
            let attachment = json!({
                "id": id.to_string(),
                "filename": filename,
                "size": part.data.len(),
                "url": url,
                "proxy_url": url,
            });
            shared
                .lock()
                .attachments
                .insert(id, (attachment.clone(), part.data.clone()));
            attachment
        })
        .collect()
}

fn with_uploads(shared: &Shared, body: &Value, files: &[Part]) -> Value {
    let mut body = body.clone();
    if body.is_null() {
        body = json!({});
    }
    if !files.is_empty() {
        body["attachments"] = json!(uploaded_attachments(shared, files));
    }
    body
}

fn create_message(shared: &Shared, channel: &str, body: &Value, files: &[Part]) -> Answer {
    let Some(channel) = parse_id(channel) else {
        return api_error(404, 10003, "Unknown Channel");
    };
    if let Some(error) = check_message_body(body, files, true) {
        return error;
    }
    let body = with_uploads(shared, body, files);
    let mut inner = shared.lock();
    if !inner.channel_known(channel) {
        return api_error(404, 10003, "Unknown Channel");
    }
    let guild = inner.channel_guild(channel);
    let kind = if body.get("message_reference").is_some_and(|r| !r.is_null()) {
        19
    } else {
        0
    };
    let message = message_json(next_id(), channel, guild, &body, kind, &inner, None);
    inner.store_message(message.clone());
    ok(message)
}

fn channel_message(
    shared: &Shared,
    method: &str,
    channel: &str,
    message: &str,
    body: &Value,
    files: &[Part],
) -> Answer {
    let (Some(channel), Some(message_id)) = (parse_id(channel), parse_id(message)) else {
        return api_error(404, 10008, "Unknown Message");
    };
    let body = with_uploads(shared, body, files);
    let mut inner = shared.lock();
    let in_channel = inner
        .messages
        .get(&message_id)
        .is_some_and(|m| m["channel_id"].as_str() == Some(channel.to_string().as_str()));
    if !in_channel {
        return api_error(404, 10008, "Unknown Message");
    }
    match method {
        "GET" => ok(inner.messages[&message_id].clone()),
        "PATCH" => {
            if let Some(error) = check_message_body(&body, files, false) {
                return error;
            }
            let mut message = inner.messages[&message_id].clone();
            edit_message(&mut message, &body, &inner);
            inner.messages.insert(message_id, message.clone());
            ok(message)
        }
        "DELETE" => {
            inner.messages.remove(&message_id);
            no_content()
        }
        _ => api_error(405, 0, "405: Method Not Allowed"),
    }
}

// --- interactions

fn callback(shared: &Shared, id: &str, token: &str, body: &Value, files: &[Part]) -> Answer {
    let mut body = body.clone();
    if !files.is_empty() {
        // Multipart: the files belong to the response message in `data`.
        let data = body.get("data").cloned().unwrap_or(Value::Null);
        body["data"] = with_uploads(shared, &data, files);
    }
    let mut inner = shared.lock();
    let deadline = inner.interaction_deadline;
    let Some(state) = inner.interactions.get(token) else {
        return api_error(404, 10062, "Unknown interaction");
    };
    if state.id.to_string() != id {
        return api_error(404, 10062, "Unknown interaction");
    }
    if state.acked.is_some() {
        return api_error(400, 40060, "Interaction has already been acknowledged.");
    }
    if state.sent_at.elapsed() > deadline {
        return api_error(404, 10062, "Unknown interaction");
    }
    let Some(kind) = body["type"].as_u64() else {
        return form_error(
            &["type".to_string()],
            "BASE_TYPE_REQUIRED",
            "This field is required",
        );
    };
    let data = body.get("data").cloned().unwrap_or(json!({}));
    let (state_kind, channel, guild, component_message) = (
        state.kind,
        state.channel_id,
        state.guild_id,
        state.component_message,
    );
    let original = match (kind, state_kind) {
        (4, _) => {
            if let Some(error) = check_message_body(&data, &[], true) {
                return error;
            }
            let kind = if state_kind == 2 { 20 } else { 19 };
            let state = &inner.interactions[token];
            let message = message_json(next_id(), channel, guild, &data, kind, &inner, Some(state));
            Some(inner.store_message(message))
        }
        (5, _) => {
            let flags = data["flags"].as_u64().unwrap_or(0) | 128;
            let placeholder = json!({"content": "", "flags": flags});
            let kind = if state_kind == 2 { 20 } else { 19 };
            let state = &inner.interactions[token];
            let message = message_json(
                next_id(),
                channel,
                guild,
                &placeholder,
                kind,
                &inner,
                Some(state),
            );
            Some(inner.store_message(message))
        }
        (6, 3 | 5) => component_message,
        (7, 3 | 5) => {
            if let Some(error) = check_message_body(&data, &[], false) {
                return error;
            }
            if let Some(message_id) = component_message
                && let Some(mut message) = inner.messages.get(&message_id).cloned()
            {
                edit_message(&mut message, &data, &inner);
                inner.messages.insert(message_id, message);
            }
            component_message
        }
        (9, 2 | 3) => {
            if let Some(error) = check_modal(&data) {
                return error;
            }
            None
        }
        (9, _) => return api_error(400, 50035, "Invalid Form Body"),
        (8 | 10 | 12, _) => None,
        _ => return api_error(400, 50035, "Invalid Form Body"),
    };
    let state = inner.interactions.get_mut(token).expect("interaction");
    state.acked = Some(kind as u8);
    state.original = original;
    no_content()
}

/// Discord's checks on a modal: a custom id of 1-100 characters, a title of 1-45, and 1-5
/// action rows of one text input each (custom id, style 1 or 2, a label of 1-45 characters).
fn check_modal(data: &Value) -> Option<Answer> {
    let chars = |v: &Value| v.as_str().map(|s| s.chars().count());
    let bad = |field: &str| {
        Some(form_error(
            &["data".to_string(), field.to_string()],
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and the limit in length.",
        ))
    };
    if !matches!(chars(&data["custom_id"]), Some(1..=100)) {
        return bad("custom_id");
    }
    if !matches!(chars(&data["title"]), Some(1..=45)) {
        return bad("title");
    }
    let rows = data["components"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if rows.is_empty() || rows.len() > 5 {
        return bad("components");
    }
    for row in rows {
        let inputs = row["components"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let [input] = inputs else {
            return bad("components");
        };
        if input["type"] != 4
            || !matches!(chars(&input["custom_id"]), Some(1..=100))
            || !matches!(input["style"].as_u64(), Some(1 | 2))
            || !matches!(chars(&input["label"]), Some(1..=45))
        {
            return bad("components");
        }
    }
    None
}

#[allow(clippy::too_many_arguments)]
fn webhook(
    shared: &Shared,
    method: &str,
    app: &str,
    token: &str,
    message: Option<&str>,
    body: &Value,
    files: &[Part],
) -> Answer {
    let unknown = || api_error(404, 10015, "Unknown Webhook");
    if app != APPLICATION_ID.to_string() {
        return unknown();
    }
    let body = with_uploads(shared, body, files);
    let mut inner = shared.lock();
    let Some(state) = inner.interactions.get(token) else {
        return unknown();
    };
    if state.acked.is_none() {
        // Discord: followups and @original exist only after the interaction was acknowledged.
        return unknown();
    }
    let message_id = match message {
        None => None,
        Some("@original") => match state.original {
            Some(id) => Some(id),
            None => return api_error(404, 10008, "Unknown Message"),
        },
        Some(id) => match parse_id(id) {
            Some(id) if state.original == Some(id) || state.followups.contains(&id) => Some(id),
            _ => return api_error(404, 10008, "Unknown Message"),
        },
    };
    match (method, message_id) {
        ("POST", None) => {
            if let Some(error) = check_message_body(&body, files, true) {
                return error;
            }
            let state = &inner.interactions[token];
            let (channel, guild) = (state.channel_id, state.guild_id);
            let message = message_json(next_id(), channel, guild, &body, 0, &inner, Some(state));
            let id = inner.store_message(message.clone());
            inner
                .interactions
                .get_mut(token)
                .expect("interaction")
                .followups
                .push(id);
            ok(message)
        }
        ("GET", Some(id)) => match inner.messages.get(&id) {
            Some(message) => ok(message.clone()),
            None => api_error(404, 10008, "Unknown Message"),
        },
        ("PATCH", Some(id)) => {
            if let Some(error) = check_message_body(&body, files, false) {
                return error;
            }
            let Some(mut message) = inner.messages.get(&id).cloned() else {
                return api_error(404, 10008, "Unknown Message");
            };
            edit_message(&mut message, &body, &inner);
            // Editing the deferred "thinking" message ends the loading state.
            let flags = message["flags"].as_u64().unwrap_or(0) & !128;
            message["flags"] = json!(flags);
            inner.messages.insert(id, message.clone());
            ok(message)
        }
        ("DELETE", Some(id)) => {
            inner.messages.remove(&id);
            no_content()
        }
        _ => api_error(405, 0, "405: Method Not Allowed"),
    }
}

// --- application commands

fn commands(
    shared: &Shared,
    method: &str,
    app: &str,
    guild: Option<u64>,
    command: Option<&str>,
    body: &Value,
) -> Answer {
    if app != APPLICATION_ID.to_string() {
        return api_error(403, 50001, "Missing Access");
    }
    if guild.is_some_and(|g| g != GUILD_ID) {
        return api_error(403, 50001, "Missing Access");
    }
    let mut inner = shared.lock();
    match (method, command) {
        ("GET", None) => ok(json!(
            inner.commands.get(&guild).cloned().unwrap_or_default()
        )),
        ("PUT", None) => {
            let Some(list) = body.as_array() else {
                return api_error(400, 50109, "The request body contains invalid JSON.");
            };
            if let Some(error) = check_command_list(list) {
                return error;
            }
            let old = inner.commands.get(&guild).cloned().unwrap_or_default();
            let new: Vec<Value> = list
                .iter()
                .map(|c| {
                    let existing = old
                        .iter()
                        .find(|o| o["name"] == c["name"] && o["type"] == command_type(c))
                        .and_then(|o| o["id"].as_str())
                        .and_then(parse_id);
                    stored_command(c, guild, existing)
                })
                .collect();
            inner.commands.insert(guild, new.clone());
            ok(json!(new))
        }
        ("POST", None) => {
            if let Some(error) = check_command(body, &[]) {
                return error;
            }
            let list = inner.commands.entry(guild).or_default();
            let existing = list
                .iter()
                .position(|o| o["name"] == body["name"] && o["type"] == command_type(body));
            match existing {
                Some(i) => {
                    let id = list[i]["id"].as_str().and_then(parse_id);
                    list[i] = stored_command(body, guild, id);
                    ok(list[i].clone())
                }
                None => {
                    if list.len() >= 100 {
                        return api_error(
                            400,
                            30032,
                            "Maximum number of application commands reached (100)",
                        );
                    }
                    let command = stored_command(body, guild, None);
                    list.push(command.clone());
                    created(command)
                }
            }
        }
        (_, Some(id)) => {
            let list = inner.commands.entry(guild).or_default();
            let Some(i) = list.iter().position(|c| c["id"] == id) else {
                return api_error(404, 10063, "Unknown application command");
            };
            match method {
                "GET" => ok(list[i].clone()),
                "PATCH" => {
                    let mut merged = list[i].clone();
                    if let (Some(m), Some(b)) = (merged.as_object_mut(), body.as_object()) {
                        for (k, v) in b {
                            m.insert(k.clone(), v.clone());
                        }
                    }
                    if let Some(error) = check_command(&merged, &[]) {
                        return error;
                    }
                    let id = parse_id(id);
                    list[i] = stored_command(&merged, guild, id);
                    ok(list[i].clone())
                }
                "DELETE" => {
                    list.remove(i);
                    no_content()
                }
                _ => api_error(405, 0, "405: Method Not Allowed"),
            }
        }
        _ => api_error(405, 0, "405: Method Not Allowed"),
    }
}

fn command_type(command: &Value) -> Value {
    json!(command["type"].as_u64().unwrap_or(1))
}

fn stored_command(body: &Value, guild: Option<u64>, id: Option<u64>) -> Value {
    let mut command = body.clone();
    let id = id.unwrap_or_else(next_id);
    command["id"] = json!(id.to_string());
    command["application_id"] = json!(APPLICATION_ID.to_string());
    command["version"] = json!(next_id().to_string());
    command["type"] = command_type(body);
    if command.get("description").is_none_or(Value::is_null) {
        command["description"] = json!("");
    }
    if command.get("options").is_none_or(Value::is_null) {
        command["options"] = json!([]);
    }
    if command.get("default_member_permissions").is_none() {
        command["default_member_permissions"] = Value::Null;
    }
    if command.get("nsfw").is_none() {
        command["nsfw"] = json!(false);
    }
    match guild {
        Some(g) => command["guild_id"] = json!(g.to_string()),
        None => {
            if let Some(m) = command.as_object_mut() {
                m.remove("guild_id");
            }
        }
    }
    command
}

fn check_command_list(list: &[Value]) -> Option<Answer> {
    if list.len() > 100 {
        return Some(too_long(&[], 100));
    }
    let mut seen = Vec::new();
    for (i, command) in list.iter().enumerate() {
        let key = (command["name"].clone(), command_type(command));
        if seen.contains(&key) {
            return Some(form_error(
                &[i.to_string(), "name".to_string()],
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            ));
        }
        seen.push(key);
        if let Some(error) = check_command(command, &[i.to_string()]) {
            return Some(error);
        }
    }
    None
}

/// A chat-input command / option name: 1-32 chars, lowercase letters, digits, `-` and `_`.
fn valid_name(name: &str) -> bool {
    let count = name.chars().count();
    (1..=32).contains(&count)
        && name.chars().all(|c| {
            (c.is_alphanumeric() || c == '-' || c == '_') && c.to_lowercase().eq(std::iter::once(c))
        })
}

fn valid_description(description: &str) -> bool {
    (1..=100).contains(&description.chars().count())
}

fn at(path: &[String], more: &[&str]) -> Vec<String> {
    path.iter()
        .cloned()
        .chain(more.iter().map(|s| s.to_string()))
        .collect()
}

fn check_localizations(
    value: &Value,
    path: &[String],
    field: &str,
    valid: fn(&str) -> bool,
) -> Option<Answer> {
    let map = value.get(field).and_then(Value::as_object)?;
    for (locale, text) in map {
        if !DISCORD_LOCALES.contains(&locale.as_str()) {
            return Some(form_error(
                &at(path, &[field, locale]),
                "LOCALE_INVALID",
                &format!("Invalid locale: {locale}"),
            ));
        }
        if !text.as_str().is_some_and(valid) {
            return Some(form_error(
                &at(path, &[field, locale]),
                "APPLICATION_COMMAND_INVALID_NAME",
                "Invalid localized value",
            ));
        }
    }
    None
}

fn check_command(command: &Value, path: &[String]) -> Option<Answer> {
    let kind = command["type"].as_u64().unwrap_or(1);
    let name = command["name"].as_str().unwrap_or_default();
    if kind == 1 {
        if !valid_name(name) {
            return Some(form_error(
                &at(path, &["name"]),
                "APPLICATION_COMMAND_INVALID_NAME",
                &format!("Command name is invalid: {name:?}"),
            ));
        }
        if !command["description"]
            .as_str()
            .is_some_and(valid_description)
        {
            return Some(form_error(
                &at(path, &["description"]),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            ));
        }
        if let Some(error) = check_localizations(command, path, "name_localizations", valid_name)
            .or_else(|| {
                check_localizations(
                    command,
                    path,
                    "description_localizations",
                    valid_description,
                )
            })
        {
            return Some(error);
        }
    } else if !(1..=32).contains(&name.chars().count()) {
        return Some(form_error(
            &at(path, &["name"]),
            "BASE_TYPE_BAD_LENGTH",
            "Must be between 1 and 32 in length.",
        ));
    }
    check_options(&command["options"], &at(path, &["options"]))
}

fn check_options(options: &Value, path: &[String]) -> Option<Answer> {
    let options = options.as_array()?;
    if options.len() > 25 {
        return Some(too_long(path, 25));
    }
    let mut optional_seen = false;
    let mut names = Vec::new();
    for (i, option) in options.iter().enumerate() {
        let here = at(path, &[&i.to_string()]);
        let name = option["name"].as_str().unwrap_or_default();
        if !valid_name(name) {
            return Some(form_error(
                &at(&here, &["name"]),
                "APPLICATION_COMMAND_INVALID_NAME",
                &format!("Option name is invalid: {name:?}"),
            ));
        }
        if names.contains(&name) {
            return Some(form_error(
                &at(&here, &["name"]),
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            ));
        }
        names.push(name);
        if !option["description"]
            .as_str()
            .is_some_and(valid_description)
        {
            return Some(form_error(
                &at(&here, &["description"]),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 100 in length.",
            ));
        }
        if let Some(error) = check_localizations(option, &here, "name_localizations", valid_name)
            .or_else(|| {
                check_localizations(
                    option,
                    &here,
                    "description_localizations",
                    valid_description,
                )
            })
        {
            return Some(error);
        }
        let kind = option["type"].as_u64().unwrap_or(0);
        if !(1..=11).contains(&kind) {
            return Some(form_error(
                &at(&here, &["type"]),
                "BASE_TYPE_CHOICES",
                "Value must be one of (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11).",
            ));
        }
        let required = option["required"].as_bool().unwrap_or(false);
        if required && optional_seen {
            return Some(form_error(
                &at(&here, &["required"]),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            ));
        }
        optional_seen |= !required;
        if option["choices"].as_array().is_some_and(|c| c.len() > 25) {
            return Some(too_long(&at(&here, &["choices"]), 25));
        }
        if matches!(kind, 1 | 2)
            && let Some(error) = check_options(&option["options"], &at(&here, &["options"]))
        {
            return Some(error);
        }
    }
    None
}
