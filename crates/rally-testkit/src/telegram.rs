//! A fake Telegram Bot API server for tests: axum on 127.0.0.1, speaking the real wire protocol
//! (`POST /bot{token}/{Method}`, JSON / urlencoded / multipart bodies, `{"ok":..}` envelopes), so
//! the real teloxide client can run against it. It records every call, serves `getUpdates` long
//! polling with offsets, remembers the messages it has seen so edits work, and can be told to
//! fail the next call of a method (429 / 5xx / 403 / any API error).
//!
//! Every payload it returns deserializes into teloxide's types (the kit's
//! `tests/telegram_fake.rs` proves it). The server stops when the last clone of its
//! [`FakeTelegram`] is dropped, or on [`FakeTelegram::shutdown`].

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::http::{Hub, Listener, Recorded, Server, unix_now};
pub use crate::multipart::UploadedFile;
use crate::multipart::{self, form_pairs};

/// The fake bot's numeric id (the part of [`FakeTelegram::token`] before the colon).
pub const BOT_ID: i64 = 123_456;
/// The token the fake accepts; any other token gets 401 Unauthorized.
pub const TOKEN: &str = "123456:TEST";
/// Long polls never wait longer than this, whatever `timeout` asks (teloxide's client gives up
/// after 17 s).
pub const MAX_LONG_POLL: Duration = Duration::from_secs(5);

/// Message ids of messages built by [`FakeTelegram::text_message`] and friends come from here,
/// so they never collide with the ids of messages the bot sends (which start at 1 per chat).
static BUILT_MESSAGE_ID: AtomicI64 = AtomicI64::new(1_000_001);
static CALLBACK_ID: AtomicI64 = AtomicI64::new(1);

/// One request the fake received, in order of arrival.
#[derive(Clone, Debug)]
pub struct Call {
    /// The Bot API method, lowercased (`"sendmessage"`).
    pub method: String,
    /// The parameters: the JSON body as sent, or form / multipart / query fields, where
    /// numeric ids, `true`/`false` and JSON objects/arrays (`reply_markup`) are decoded.
    pub params: Value,
    /// File parts of a multipart upload (the field that refers to one reads `attach://<name>`).
    pub files: Vec<UploadedFile>,
    /// The HTTP status the fake answered with; 0 while the call is still in flight (a long poll).
    pub status: u16,
}

/// What the next call of a method should fail with (see [`FakeTelegram::fail_next`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    /// 429 with `parameters.retry_after`; teloxide returns `RequestError::RetryAfter`.
    TooManyRequests { retry_after: u32 },
    /// 502 "Bad Gateway"; teloxide sleeps 10 s on any 5xx, then returns
    /// `RequestError::Api(ApiError::Unknown("Bad Gateway"))`.
    ServerError,
    /// 403 "Forbidden: bot was blocked by the user" → `ApiError::BotBlocked`.
    Forbidden,
    /// 403 "Forbidden: bot can't initiate conversation with a user" — what Telegram answers when
    /// a user never started the bot. teloxide only knows the "Unauthorized: …" spelling, so this
    /// surfaces as `ApiError::Unknown(..)` with that text.
    CantInitiateConversation,
    /// Any error answer: `{"ok":false,"error_code":status,"description":description}`.
    Api { status: u16, description: String },
    /// Answer normally, but only after this delay (for client timeouts).
    Delay(Duration),
}

/// A chat to build updates in.
#[derive(Clone, Debug, PartialEq)]
pub struct ChatRef {
    pub id: i64,
    pub kind: ChatKind,
}

/// The kinds of chat the fake builds (named like teloxide's `ChatKind`; path-qualify one of
/// them when both are imported).
#[derive(Clone, Debug, PartialEq)]
pub enum ChatKind {
    Private { first_name: String },
    Group { title: String },
    Supergroup { title: String },
}

/// A (human) user to build updates from.
#[derive(Clone, Debug, PartialEq)]
pub struct UserRef {
    pub id: i64,
    pub first_name: String,
    pub username: Option<String>,
    pub language_code: Option<String>,
}

impl UserRef {
    pub fn new(id: i64, first_name: &str) -> UserRef {
        UserRef {
            id,
            first_name: first_name.to_string(),
            username: None,
            language_code: None,
        }
    }

    pub fn username(mut self, username: &str) -> UserRef {
        self.username = Some(username.to_string());
        self
    }

    pub fn language(mut self, code: &str) -> UserRef {
        self.language_code = Some(code.to_string());
        self
    }

    /// The private chat with this user (its id is the user's id, as in Telegram).
    pub fn private_chat(&self) -> ChatRef {
        ChatRef::private(self.id, &self.first_name)
    }

    pub fn to_json(&self) -> Value {
        let mut user = json!({"id": self.id, "is_bot": false, "first_name": self.first_name});
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        if let Some(code) = &self.language_code {
            user["language_code"] = json!(code);
        }
        user
    }
}

impl ChatRef {
    pub fn private(id: i64, first_name: &str) -> ChatRef {
        ChatRef {
            id,
            kind: ChatKind::Private {
                first_name: first_name.to_string(),
            },
        }
    }

    /// A basic group (ids are small negative numbers in Telegram, e.g. -4012345678).
    pub fn group(id: i64, title: &str) -> ChatRef {
        ChatRef {
            id,
            kind: ChatKind::Group {
                title: title.to_string(),
            },
        }
    }

    /// A supergroup (ids look like -100xxxxxxxxxx in Telegram).
    pub fn supergroup(id: i64, title: &str) -> ChatRef {
        ChatRef {
            id,
            kind: ChatKind::Supergroup {
                title: title.to_string(),
            },
        }
    }

    pub fn to_json(&self) -> Value {
        match &self.kind {
            ChatKind::Private { first_name } => {
                json!({"id": self.id, "type": "private", "first_name": first_name})
            }
            ChatKind::Group { title } => json!({"id": self.id, "type": "group", "title": title}),
            ChatKind::Supergroup { title } => {
                json!({"id": self.id, "type": "supergroup", "title": title})
            }
        }
    }
}

/// The webhook the bot registered with `setWebhook`.
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
}

/// A fake Telegram Bot API server. Clones share one server; it stops when the last clone is
/// dropped.
#[derive(Clone)]
pub struct FakeTelegram {
    shared: Arc<Shared>,
    server: Arc<Server>,
}

/// The fake's state; [`Hub::bump`] on every change a waiter may care about (calls, updates,
/// shutdown).
type Shared = Hub<Config, Inner>;

struct Config {
    token: String,
    bot_user: Value,
    me: Value,
    url: String,
}

#[derive(Default)]
struct Inner {
    calls: Vec<Call>,
    /// Unconfirmed updates, with `update_id`, in id order.
    updates: VecDeque<Value>,
    next_update_id: i64,
    confirmed_offset: i64,
    /// `allowed_updates` persists between `getUpdates` calls, as in Telegram.
    allowed_updates: Option<Vec<String>>,
    /// Incremented by every `getUpdates`; an older long poll that sees a newer one is
    /// terminated with 409, as Telegram does.
    poll_generation: u64,
    failures: HashMap<String, VecDeque<Failure>>,
    /// Users who blocked the bot: every `send*` to their chat answers 403.
    blocked: std::collections::HashSet<i64>,
    /// The bot's send limit, as Telegram enforces it: a bucket of `per_second` tokens refilled
    /// at `per_second` a second; a `send*` finding it empty answers 429 `retry_after` 1.
    send_limit: Option<SendLimit>,
    webhook: Option<Webhook>,
    /// Chats seen in pushed updates or registered, by id.
    chats: HashMap<i64, Value>,
    /// The last id the bot used per chat.
    bot_message_ids: HashMap<i64, i64>,
    /// Every message seen (pushed or sent by the bot), by (chat id, message id).
    messages: HashMap<(i64, i64), Value>,
    next_file: u64,
}

impl FakeTelegram {
    /// Starts the server on 127.0.0.1 (a free port) in a spawned task.
    pub async fn start(bot_username: &str) -> FakeTelegram {
        let listener = Listener::bind("Telegram").await;
        let bot_user = json!({
            "id": BOT_ID,
            "is_bot": true,
            "first_name": bot_username,
            "username": bot_username,
        });
        let mut me = bot_user.clone();
        for (flag, value) in [
            ("can_join_groups", true),
            ("can_read_all_group_messages", false),
            ("supports_inline_queries", false),
            ("can_connect_to_business", false),
            ("has_main_web_app", false),
        ] {
            me[flag] = json!(value);
        }
        let config = Config {
            token: TOKEN.to_string(),
            bot_user,
            me,
            url: format!("http://{}", listener.addr),
        };
        let shared = Hub::new(
            config,
            Inner {
                next_update_id: 1,
                ..Inner::default()
            },
        );
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = listener.serve(router, &shared);
        FakeTelegram { shared, server }
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn url(&self) -> String {
        self.shared.url.clone()
    }

    pub fn token(&self) -> &str {
        &self.shared.token
    }

    /// The bot's username, as `getMe` reports it.
    pub fn bot_username(&self) -> String {
        self.shared.bot_user["username"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The bot as a `User` JSON object (the `from` of the bot's messages).
    pub fn bot_user(&self) -> Value {
        self.shared.bot_user.clone()
    }

    /// Stops the server and waits (at most 5 s) for it to finish. Dropping the last clone
    /// stops it too, without waiting.
    pub async fn shutdown(&self) {
        self.server.shutdown(&self.shared).await;
    }

    /// Queues an update (`{"message": {...}}` etc., without `update_id`) and returns the
    /// `update_id` it got (increasing from 1). Chats and messages in it are remembered, so the
    /// bot's answers and edits there carry the right chat type and content. A callback query
    /// about a message the bot sent carries that message as sent.
    pub fn push_update(&self, update_without_id: Value) -> i64 {
        let mut update = match update_without_id {
            Value::Object(map) => map,
            other => panic!("an update must be a JSON object, got {other}"),
        };
        let id = {
            let mut inner = self.shared.lock();
            if let Some(Value::Object(query)) = update.get_mut("callback_query")
                && let Some(message) = query.get_mut("message")
            {
                let key = message_key(message);
                if let Some(stored) = key.and_then(|key| inner.messages.get(&key)) {
                    *message = stored.clone();
                } else if message["from"]["id"] == json!(BOT_ID) {
                    message["from"] = self.shared.bot_user.clone();
                }
            }
            for message in update_messages(&update) {
                if let Some(chat_id) = message["chat"]["id"].as_i64() {
                    inner.chats.insert(chat_id, message["chat"].clone());
                }
                if let Some(key) = message_key(message) {
                    inner.messages.insert(key, message.clone());
                }
            }
            let id = inner.next_update_id;
            inner.next_update_id += 1;
            update.insert("update_id".into(), json!(id));
            inner.updates.push_back(Value::Object(update));
            id
        };
        self.shared.bump();
        id
    }

    /// Makes the fake know a chat before any update from it (so `sendMessage` there answers
    /// with the right chat type). Unknown chats are guessed: positive ids private, ids below
    /// -10^12 supergroups, other negative ids groups.
    pub fn register_chat(&self, chat: &ChatRef) {
        self.shared.lock().chats.insert(chat.id, chat.to_json());
    }

    /// `{"message": {...}}`: a text message; a leading `/command` gets a `bot_command` entity.
    pub fn text_message(chat: ChatRef, from: UserRef, text: &str) -> Value {
        let mut message = base_message(&chat, &from);
        message["text"] = json!(text);
        if let Some(entity) = command_entity(text) {
            message["entities"] = json!([entity]);
        }
        json!({ "message": message })
    }

    /// `{"message": {...}}`: `from` answers a message the bot sent to `chat` (as Telegram sends
    /// a reply to a `force_reply` question: with the replied-to message embedded). Panics if
    /// the bot never sent that message.
    pub fn reply_message(
        &self,
        chat: ChatRef,
        from: UserRef,
        replied_id: i64,
        text: &str,
    ) -> Value {
        let replied = self
            .message(chat.id, replied_id)
            .unwrap_or_else(|| panic!("the bot sent no message {replied_id} to {}", chat.id));
        let mut message = base_message(&chat, &from);
        message["text"] = json!(text);
        message["reply_to_message"] = replied;
        json!({ "message": message })
    }

    /// `{"message": {...}}`: a photo (three sizes sharing `file_id` as prefix; the largest has
    /// exactly `file_id`) with a caption (empty: none).
    pub fn photo_message(chat: ChatRef, from: UserRef, caption: &str, file_id: &str) -> Value {
        let mut message = base_message(&chat, &from);
        message["photo"] = photo_sizes(file_id);
        if !caption.is_empty() {
            message["caption"] = json!(caption);
            if let Some(entity) = command_entity(caption) {
                message["caption_entities"] = json!([entity]);
            }
        }
        json!({ "message": message })
    }

    /// `{"callback_query": {...}}`: `from` pressed a button with `data` under message
    /// `message_id` in `message_chat`. When pushed, the message is replaced by the one the bot
    /// actually sent with that id, if any (else it is an empty text message from the bot).
    pub fn callback_query(
        from: UserRef,
        message_chat: ChatRef,
        message_id: i64,
        data: &str,
    ) -> Value {
        let id = CALLBACK_ID.fetch_add(1, Ordering::SeqCst);
        let message = json!({
            "message_id": message_id,
            "date": now_secs(),
            "chat": message_chat.to_json(),
            "from": {"id": BOT_ID, "is_bot": true, "first_name": "bot", "username": "bot"},
            "text": "",
        });
        json!({
            "callback_query": {
                "id": format!("cbq-{id}"),
                "from": from.to_json(),
                "message": message,
                "chat_instance": format!("ci{}", message_chat.id),
                "data": data,
            }
        })
    }

    /// `{"message_reaction": {...}}`: `from` changed their reactions on message `message_id`
    /// in `chat` from the emoji `old` to the emoji `new` (Telegram sends the whole lists).
    /// Delivered only when the bot asked for `message_reaction` in `allowed_updates`.
    pub fn message_reaction(
        chat: ChatRef,
        from: UserRef,
        message_id: i64,
        old: &[&str],
        new: &[&str],
    ) -> Value {
        let emoji = |list: &[&str]| -> Vec<Value> {
            list.iter()
                .map(|e| json!({"type": "emoji", "emoji": e}))
                .collect()
        };
        json!({
            "message_reaction": {
                "chat": chat.to_json(),
                "message_id": message_id,
                "user": from.to_json(),
                "date": now_secs(),
                "old_reaction": emoji(old),
                "new_reaction": emoji(new),
            }
        })
    }

    /// Every request, in order of arrival.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    /// How many requests of one method (case-insensitive) were answered with `status`, without
    /// copying them (cheap to poll while thousands are recorded).
    pub fn count_answered(&self, method: &str, status: u16) -> usize {
        let method = method.to_ascii_lowercase();
        let inner = self.shared.lock();
        inner
            .calls
            .iter()
            .filter(|c| c.method == method && c.status == status)
            .count()
    }

    /// The requests of one method (case-insensitive), in order.
    pub fn calls_to(&self, method: &str) -> Vec<Call> {
        let method = method.to_ascii_lowercase();
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Waits (at most `timeout`) for a call of `method` (case-insensitive) that `pred` accepts,
    /// including calls made before this wait began; returns the first such call.
    pub async fn wait_for_call(
        &self,
        method: &str,
        pred: impl Fn(&Call) -> bool,
        timeout: Duration,
    ) -> Option<Call> {
        let method = method.to_ascii_lowercase();
        self.shared
            .wait_for_call(timeout, |c| c.method == method && pred(c))
            .await
    }

    /// Waits (at most `timeout`) until `n` calls of `method` were made; returns them.
    pub async fn wait_for_calls(
        &self,
        method: &str,
        n: usize,
        timeout: Duration,
    ) -> Option<Vec<Call>> {
        let method = method.to_ascii_lowercase();
        self.shared
            .wait_for_calls(timeout, n, |c| c.method == method)
            .await
    }

    /// Waits (at most `timeout`) until every pushed update has been confirmed by a
    /// `getUpdates` offset; returns whether that happened.
    pub async fn wait_until_confirmed(&self, timeout: Duration) -> bool {
        self.shared
            .wait_for(timeout, |inner| inner.updates.is_empty())
            .await
    }

    /// Fails the next call of `method` (case-insensitive) with `failure`; several calls queue
    /// up in order. The failed call is still recorded.
    pub fn fail_next(&self, method: &str, failure: Failure) {
        self.shared
            .lock()
            .failures
            .entry(method.to_ascii_lowercase())
            .or_default()
            .push_back(failure);
    }

    /// Enforces a send limit of `per_second` messages a second for the whole bot, as Telegram
    /// does: beyond it, `send*` answers 429 with `retry_after` 1.
    pub fn limit_sends(&self, per_second: u32) {
        self.shared.lock().send_limit = Some(SendLimit::new(per_second));
    }

    /// The user of private chat `chat_id` blocks the bot: from now on every `send*` there
    /// answers 403 "Forbidden: bot was blocked by the user".
    pub fn block(&self, chat_id: i64) {
        self.shared.lock().blocked.insert(chat_id);
    }

    /// The highest `offset` a `getUpdates` asked for (0 before any); updates below it are
    /// confirmed and gone.
    pub fn confirmed_offset(&self) -> i64 {
        self.shared.lock().confirmed_offset
    }

    /// Updates pushed and not yet confirmed.
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().updates.len()
    }

    /// The webhook set with `setWebhook` (and not deleted since), if any.
    pub fn webhook(&self) -> Option<Webhook> {
        self.shared.lock().webhook.clone()
    }

    /// Deletes a message, as a chat admin would: editing it answers "message to edit not
    /// found" from now on. `false` if the fake did not hold it.
    pub fn delete_message(&self, chat_id: i64, message_id: i64) -> bool {
        self.shared
            .lock()
            .messages
            .remove(&(chat_id, message_id))
            .is_some()
    }

    /// The message the fake holds for (chat, message id): as pushed or as the bot last sent or
    /// edited it.
    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<Value> {
        self.shared
            .lock()
            .messages
            .get(&(chat_id, message_id))
            .cloned()
    }
}

impl Recorded for Inner {
    type Call = Call;

    fn calls(&self) -> &[Call] {
        &self.calls
    }
}

impl Shared {
    fn set_status(&self, index: usize, status: StatusCode) {
        if let Some(call) = self.lock().calls.get_mut(index) {
            call.status = status.as_u16();
        }
        self.bump();
    }
}

fn now_secs() -> i64 {
    unix_now() as i64
}

fn base_message(chat: &ChatRef, from: &UserRef) -> Value {
    json!({
        "message_id": BUILT_MESSAGE_ID.fetch_add(1, Ordering::SeqCst),
        "date": now_secs(),
        "chat": chat.to_json(),
        "from": from.to_json(),
    })
}

fn command_entity(text: &str) -> Option<Value> {
    if !text.starts_with('/') {
        return None;
    }
    let command = text.split(char::is_whitespace).next().unwrap_or_default();
    Some(json!({"type": "bot_command", "offset": 0, "length": command.encode_utf16().count()}))
}

fn photo_sizes(file_id: &str) -> Value {
    json!([
        {"file_id": format!("{file_id}-s"), "file_unique_id": format!("{file_id}-us"),
         "width": 90, "height": 67, "file_size": 1_000},
        {"file_id": format!("{file_id}-m"), "file_unique_id": format!("{file_id}-um"),
         "width": 320, "height": 240, "file_size": 10_000},
        {"file_id": file_id, "file_unique_id": format!("{file_id}-u"),
         "width": 1280, "height": 960, "file_size": 100_000},
    ])
}

fn message_key(message: &Value) -> Option<(i64, i64)> {
    Some((
        message["chat"]["id"].as_i64()?,
        message["message_id"].as_i64()?,
    ))
}

/// The messages an update carries (to remember chats and message contents).
fn update_messages(update: &Map<String, Value>) -> Vec<&Value> {
    let mut out = Vec::new();
    for key in [
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
    ] {
        if let Some(message) = update.get(key) {
            out.push(message);
        }
    }
    if let Some(message) = update.get("callback_query").and_then(|q| q.get("message")) {
        out.push(message);
    }
    out
}

/// The kind of an update: its one key besides `update_id`.
fn update_kind(update: &Value) -> Option<&str> {
    update
        .as_object()?
        .keys()
        .find(|k| *k != "update_id")
        .map(String::as_str)
}

// ---------------------------------------------------------------------------------------------
// HTTP

type Answer = (StatusCode, Value);

fn ok(result: Value) -> Answer {
    (StatusCode::OK, json!({"ok": true, "result": result}))
}

fn error(status: StatusCode, description: &str) -> Answer {
    (
        status,
        json!({"ok": false, "error_code": status.as_u16(), "description": description}),
    )
}

fn bad_request(description: &str) -> Answer {
    error(
        StatusCode::BAD_REQUEST,
        &format!("Bad Request: {description}"),
    )
}

fn failure_answer(failure: &Failure) -> Answer {
    match failure {
        Failure::TooManyRequests { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({
                "ok": false,
                "error_code": 429,
                "description": format!("Too Many Requests: retry after {retry_after}"),
                "parameters": {"retry_after": retry_after},
            }),
        ),
        Failure::ServerError => error(StatusCode::BAD_GATEWAY, "Bad Gateway"),
        Failure::Forbidden => error(
            StatusCode::FORBIDDEN,
            "Forbidden: bot was blocked by the user",
        ),
        Failure::CantInitiateConversation => error(
            StatusCode::FORBIDDEN,
            "Forbidden: bot can't initiate conversation with a user",
        ),
        Failure::Api {
            status,
            description,
        } => error(
            StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST),
            description,
        ),
        Failure::Delay(_) => ok(json!(true)),
    }
}

fn respond((status, body): Answer) -> Response {
    (status, axum::Json(body)).into_response()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    // File downloads: GET /file/bot{token}/{file_path}
    if let Some(rest) = path.strip_prefix("/file/") {
        return match rest.split_once('/') {
            Some((bot, file_path)) if token_matches(bot, &shared.token) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/octet-stream")],
                format!("fake file {file_path}"),
            )
                .into_response(),
            _ => respond(error(StatusCode::NOT_FOUND, "Not Found")),
        };
    }
    // Exactly /bot{token}/{method}: a doubled slash (`//bot…`) is a 404 here as on Telegram.
    let Some((bot, method)) = path
        .strip_prefix('/')
        .and_then(|p| p.split_once('/'))
        .filter(|(bot, method)| {
            bot.starts_with("bot") && !method.is_empty() && !method.contains('/')
        })
    else {
        return respond(error(StatusCode::NOT_FOUND, "Not Found"));
    };
    let method = method.to_ascii_lowercase();
    let (params, files) = parse_params(&uri, &headers, &body);

    let (index, failure) = {
        let mut inner = shared.lock();
        let limited = method.starts_with("send")
            && inner.send_limit.as_mut().is_some_and(|limit| !limit.take());
        let blocked = method.starts_with("send")
            && params["chat_id"]
                .as_i64()
                .is_some_and(|chat| inner.blocked.contains(&chat));
        let failure = inner
            .failures
            .get_mut(&method)
            .and_then(VecDeque::pop_front)
            .or(blocked.then_some(Failure::Forbidden))
            .or(limited.then_some(Failure::TooManyRequests { retry_after: 1 }));
        inner.calls.push(Call {
            method: method.clone(),
            params: params.clone(),
            files,
            status: 0,
        });
        (inner.calls.len() - 1, failure)
    };
    shared.bump();

    let answer = if !token_matches(bot, &shared.token) {
        error(StatusCode::UNAUTHORIZED, "Unauthorized")
    } else {
        match failure {
            Some(Failure::Delay(delay)) => {
                shared.pause(delay).await;
                answer_method(&shared, &method, &params).await
            }
            Some(failure) => failure_answer(&failure),
            None => answer_method(&shared, &method, &params).await,
        }
    };
    shared.set_status(index, answer.0);
    respond(answer)
}

fn token_matches(segment: &str, token: &str) -> bool {
    segment
        .strip_prefix("bot")
        .is_some_and(|t| t == token || t.replace("%3A", ":").replace("%3a", ":") == token)
}

/// Params from the query string and the body (JSON, urlencoded or multipart).
fn parse_params(uri: &Uri, headers: &HeaderMap, body: &Bytes) -> (Value, Vec<UploadedFile>) {
    let mut params = Map::new();
    let mut files = Vec::new();
    if let Some(query) = uri.query() {
        for (k, v) in form_pairs(query) {
            params.insert(k.clone(), coerce(&k, &v));
        }
    }
    let content_type = multipart::content_type(headers).to_ascii_lowercase();
    if let Some(parts) = multipart::parts(headers, body) {
        for part in parts {
            if part.file_name.is_some() {
                files.push(part.uploaded());
            } else {
                params.insert(part.name.clone(), coerce(&part.name, &part.text()));
            }
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in form_pairs(&String::from_utf8_lossy(body)) {
            params.insert(k.clone(), coerce(&k, &v));
        }
    } else if !body.is_empty() {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => params.extend(map),
            Ok(other) => {
                params.insert("_body".into(), other);
            }
            Err(_) => {
                params.insert(
                    "_body".into(),
                    json!(String::from_utf8_lossy(body).into_owned()),
                );
            }
        }
    }
    (Value::Object(params), files)
}

/// Form and multipart fields are all strings; decode the ones that are not (as Telegram does).
fn coerce(key: &str, value: &str) -> Value {
    const TEXT: &[&str] = &[
        "text",
        "caption",
        "data",
        "title",
        "description",
        "query",
        "url",
        "secret_token",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "parse_mode",
        "photo",
        "document",
    ];
    const NUMERIC: &[&str] = &[
        "chat_id",
        "message_id",
        "reply_to_message_id",
        "message_thread_id",
        "user_id",
        "from_chat_id",
        "offset",
        "limit",
        "timeout",
        "cache_time",
        "max_connections",
    ];
    if TEXT.contains(&key) {
        return json!(value);
    }
    if (value.starts_with('{') || value.starts_with('['))
        && let Ok(parsed) = serde_json::from_str::<Value>(value)
    {
        return parsed;
    }
    if NUMERIC.contains(&key)
        && let Ok(n) = value.parse::<i64>()
    {
        return json!(n);
    }
    match value {
        "true" => json!(true),
        "false" => json!(false),
        _ => json!(value),
    }
}

// ---------------------------------------------------------------------------------------------
// Methods

async fn answer_method(shared: &Shared, method: &str, params: &Value) -> Answer {
    match method {
        "getupdates" => get_updates(shared, params).await,
        "getme" => ok(shared.me.clone()),
        "getwebhookinfo" => {
            let inner = shared.lock();
            let url = inner.webhook.as_ref().map(|w| w.url.clone());
            ok(json!({
                "url": url.unwrap_or_default(),
                "has_custom_certificate": false,
                "pending_update_count": inner.updates.len(),
            }))
        }
        "setwebhook" => {
            let mut inner = shared.lock();
            let url = params["url"].as_str().unwrap_or_default().to_string();
            if params["drop_pending_updates"] == json!(true) {
                inner.updates.clear();
            }
            inner.webhook = (!url.is_empty()).then(|| Webhook {
                url,
                secret_token: params["secret_token"].as_str().map(str::to_string),
            });
            ok(json!(true))
        }
        "deletewebhook" => {
            let mut inner = shared.lock();
            if params["drop_pending_updates"] == json!(true) {
                inner.updates.clear();
            }
            inner.webhook = None;
            ok(json!(true))
        }
        "getmycommands" => ok(json!([])),
        "sendmessage" => {
            let text = params["text"].as_str().unwrap_or_default();
            if text.is_empty() {
                return bad_request("message text is empty");
            }
            let mut content = Map::new();
            content.insert("text".into(), json!(text));
            send(shared, params, content)
        }
        "sendphoto" => {
            let mut content = Map::new();
            let file_id = sent_file_id(shared, &params["photo"], "photo");
            content.insert("photo".into(), photo_sizes(&file_id));
            insert_caption(&mut content, params);
            send(shared, params, content)
        }
        "senddocument" => {
            let mut content = Map::new();
            let file_id = sent_file_id(shared, &params["document"], "document");
            content.insert(
                "document".into(),
                json!({"file_id": file_id, "file_unique_id": format!("{file_id}-u"),
                       "file_name": "document", "file_size": 1_000}),
            );
            insert_caption(&mut content, params);
            send(shared, params, content)
        }
        "editmessagetext" => edit(shared, params, |message| {
            message.remove("entities");
            message.insert("text".into(), params["text"].clone());
        }),
        "editmessagecaption" => edit(shared, params, |message| {
            message.remove("caption_entities");
            match params["caption"].as_str() {
                Some(caption) => message.insert("caption".into(), json!(caption)),
                None => message.remove("caption"),
            };
        }),
        "editmessagereplymarkup" => edit(shared, params, |_| {}),
        "getfile" => {
            let file_id = params["file_id"].as_str().unwrap_or_default();
            ok(json!({
                "file_id": file_id,
                "file_unique_id": format!("{file_id}-u"),
                "file_size": 100_000,
                "file_path": format!("files/{file_id}"),
            }))
        }
        // setMyCommands, deleteMyCommands, answerCallbackQuery, setChatMenuButton,
        // deleteMessage, sendChatAction and anything unknown.
        _ => ok(json!(true)),
    }
}

async fn get_updates(shared: &Shared, params: &Value) -> Answer {
    let limit = params["limit"]
        .as_u64()
        .filter(|l| (1..=100).contains(l))
        .unwrap_or(100) as usize;
    let timeout = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0)).min(MAX_LONG_POLL);
    let generation = {
        let mut inner = shared.lock();
        if inner.webhook.is_some() {
            return error(
                StatusCode::CONFLICT,
                "can't use getUpdates method while webhook is active",
            );
        }
        if let Some(offset) = params["offset"].as_i64().filter(|o| *o > 0) {
            inner.confirmed_offset = inner.confirmed_offset.max(offset);
            let confirmed = inner.confirmed_offset;
            inner
                .updates
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= confirmed);
        }
        if let Some(kinds) = params["allowed_updates"].as_array() {
            let kinds: Vec<String> = kinds
                .iter()
                .filter_map(|k| k.as_str().map(str::to_string))
                .collect();
            inner.allowed_updates = (!kinds.is_empty()).then_some(kinds);
        }
        inner.poll_generation += 1;
        inner.poll_generation
    };
    shared.bump();
    let deadline = Instant::now() + timeout;
    let mut events = shared.subscribe();
    loop {
        events.borrow_and_update();
        {
            let inner = shared.lock();
            if inner.poll_generation != generation {
                return error(
                    StatusCode::CONFLICT,
                    "Conflict: terminated by other getUpdates request; make sure that only one \
                     bot instance is running",
                );
            }
            let ready: Vec<Value> = inner
                .updates
                .iter()
                .filter(|u| match (&inner.allowed_updates, update_kind(u)) {
                    (Some(allowed), Some(kind)) => allowed.iter().any(|a| a == kind),
                    _ => true,
                })
                .take(limit)
                .cloned()
                .collect();
            if !ready.is_empty() || Instant::now() >= deadline || shared.cancel.is_cancelled() {
                return ok(Value::Array(ready));
            }
        }
        tokio::select! {
            _ = events.changed() => {}
            _ = tokio::time::sleep_until(deadline) => {}
            _ = shared.cancel.cancelled() => {}
        }
    }
}

/// The chat object for a `chat_id` parameter.
fn chat_for(inner: &Inner, chat_id: &Value) -> Option<Value> {
    let id = match chat_id {
        Value::Number(n) => n.as_i64()?,
        Value::String(s) => match s.parse::<i64>() {
            Ok(id) => id,
            Err(_) => {
                let username = s.trim_start_matches('@');
                return Some(json!({"id": -1_000_000_000_001_i64, "type": "supergroup",
                                   "title": username, "username": username}));
            }
        },
        _ => return None,
    };
    if let Some(chat) = inner.chats.get(&id) {
        return Some(chat.clone());
    }
    Some(if id > 0 {
        json!({"id": id, "type": "private", "first_name": format!("User {id}")})
    } else if id < -1_000_000_000_000 {
        json!({"id": id, "type": "supergroup", "title": format!("Supergroup {id}")})
    } else {
        json!({"id": id, "type": "group", "title": format!("Group {id}")})
    })
}

/// Only inline keyboards are echoed into the Message (`Message.reply_markup` is one).
fn inline_markup(params: &Value) -> Option<Value> {
    let markup = &params["reply_markup"];
    markup
        .get("inline_keyboard")
        .is_some()
        .then(|| markup.clone())
}

fn insert_caption(content: &mut Map<String, Value>, params: &Value) {
    if let Some(caption) = params["caption"].as_str().filter(|c| !c.is_empty()) {
        content.insert("caption".into(), json!(caption));
    }
}

/// The file id of a sent file: the id itself when the bot re-sends a known file, else a new one.
fn sent_file_id(shared: &Shared, param: &Value, kind: &str) -> String {
    match param.as_str() {
        Some(id) if !id.is_empty() && !id.starts_with("attach://") && !id.contains("://") => {
            id.to_string()
        }
        _ => {
            let mut inner = shared.lock();
            inner.next_file += 1;
            format!("fake-{kind}-{}", inner.next_file)
        }
    }
}

fn send(shared: &Shared, params: &Value, content: Map<String, Value>) -> Answer {
    let mut inner = shared.lock();
    let Some(chat) = chat_for(&inner, &params["chat_id"]) else {
        return bad_request("chat not found");
    };
    let chat_id = chat["id"].as_i64().unwrap_or_default();
    let next = inner.bot_message_ids.entry(chat_id).or_insert(0);
    *next += 1;
    let message_id = *next;
    let mut message = Map::new();
    message.insert("message_id".into(), json!(message_id));
    message.insert("date".into(), json!(now_secs()));
    message.insert("chat".into(), chat);
    message.insert("from".into(), shared.bot_user.clone());
    message.extend(content);
    if let Some(markup) = inline_markup(params) {
        message.insert("reply_markup".into(), markup);
    }
    let message = Value::Object(message);
    inner
        .messages
        .insert((chat_id, message_id), message.clone());
    ok(message)
}

fn edit(shared: &Shared, params: &Value, change: impl FnOnce(&mut Map<String, Value>)) -> Answer {
    if params.get("inline_message_id").is_some() {
        return ok(json!(true));
    }
    let mut inner = shared.lock();
    let Some(chat) = chat_for(&inner, &params["chat_id"]) else {
        return bad_request("chat not found");
    };
    let chat_id = chat["id"].as_i64().unwrap_or_default();
    let Some(message_id) = params["message_id"].as_i64() else {
        return bad_request("message identifier is not specified");
    };
    let Some(Value::Object(old)) = inner.messages.get(&(chat_id, message_id)).cloned() else {
        return bad_request("message to edit not found");
    };
    let mut new = old.clone();
    new.remove("edit_date");
    change(&mut new);
    match inline_markup(params) {
        Some(markup) => new.insert("reply_markup".into(), markup),
        None => new.remove("reply_markup"),
    };
    let mut old_cmp = old;
    old_cmp.remove("edit_date");
    if old_cmp == new {
        return bad_request(
            "message is not modified: specified new message content and reply markup are \
             exactly the same as a current content and reply markup of the message",
        );
    }
    new.insert("edit_date".into(), json!(now_secs()));
    let message = Value::Object(new);
    inner
        .messages
        .insert((chat_id, message_id), message.clone());
    ok(message)
}

/// A token bucket: `capacity` tokens, refilled continuously at `capacity` a second.
#[derive(Clone, Debug)]
struct SendLimit {
    capacity: f64,
    tokens: f64,
    at: std::time::Instant,
}

impl SendLimit {
    fn new(per_second: u32) -> SendLimit {
        let capacity = f64::from(per_second.max(1));
        SendLimit {
            capacity,
            tokens: capacity,
            at: std::time::Instant::now(),
        }
    }

    /// Takes a token if there is one.
    fn take(&mut self) -> bool {
        let now = std::time::Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * self.capacity;
        self.tokens = (self.tokens + refill).min(self.capacity);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Starts `rally run` (`binary`: the test's `env!("CARGO_BIN_EXE_rally")`) as its own process
/// against `fake`, on `database_url`, with the configuration file `config` if given (else none:
/// it runs in the temp directory, where no `rally.toml` is picked up). Discord is off, the HTTP
/// server on a free port, logs quiet.
pub fn spawn_rally_run(
    binary: &str,
    fake: &FakeTelegram,
    database_url: &str,
    config: Option<&std::path::Path>,
) -> std::process::Child {
    let mut command = std::process::Command::new(binary);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command
        .arg("run")
        .env_remove("RALLY_CONFIG")
        .env_remove("DISCORD_TOKEN")
        .env("TELEGRAM_BOT_TOKEN", fake.token())
        .env("RALLY_TELEGRAM_API_URL", fake.url())
        .env("RALLY_DATABASE_URL", database_url)
        .env("RALLY_HTTP_LISTEN", "127.0.0.1:0")
        .env("RALLY_LOG", "warn")
        .current_dir(std::env::temp_dir())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start rally run")
}
