//! The Telegram adapter: Bot API updates in, [`Reply`]s out — nothing else. The grammar and the
//! handler are shared with every platform.
//!
//! Reliability: every update is stored in the `inbox` table before it is confirmed to Telegram
//! (the next `getUpdates` offset, or the webhook's 200), and processed from there; a crash at
//! any point loses nothing and the handler's idempotency keeps redeliveries from doing anything
//! twice. Sends honour 429 `retry_after`, retry network failures with back-off, and record
//! refusals (403).

pub mod webhook;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use teloxide::ApiError;
use teloxide::RequestError;
use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, BotCommand, BotCommandScope, ChatId, FileId, ForceReply, InlineKeyboardButton,
    InlineKeyboardMarkup, InputFile, MaybeAnonymousUser, MaybeInaccessibleMessage, MessageId,
    MessageReactionUpdated, ReactionType, Recipient, UpdateKind,
};
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::chat::batch::{InboxMarks, MAX_BATCH};
use crate::chat::handler::{Incoming, Outcome};
use crate::chat::registry::{self, CommandSpec};
use crate::chat::reply::{Destination, Msg, Reply, split_at_lines};
use crate::config::Locale;
use crate::engine::partner::Platform;
use crate::features::community::stories;
use crate::outbox::{ChatClass, DeliveryError, Transport};
use crate::store::{inbox, leases, members};

/// Inbox name of this platform.
const PLATFORM: &str = "telegram";
/// Long-poll wait; below teloxide's 17 s client timeout.
const POLL_TIMEOUT_SECS: u32 = 10;
/// Telegram's limit for one text message.
const MAX_MESSAGE_CHARS: usize = 4096;
/// How long the polling lease lasts without renewal (renewed before every `getUpdates`, which
/// waits at most [`POLL_TIMEOUT_SECS`]).
pub const POLL_LEASE: Duration = Duration::from_secs(15);
/// How often an instance without the lease tries to take it.
pub const LEASE_RETRY: Duration = Duration::from_secs(2);
/// The lease's name in the `leases` table.
const POLL_LEASE_NAME: &str = "telegram-polling";
/// In webhook mode every instance stores what it receives; one at a time processes the inbox,
/// in update order, under this lease (as long as [`POLL_LEASE`]).
const INBOX_LEASE_NAME: &str = "telegram-inbox";
/// How often the inbox processor looks for updates another instance stored.
const INBOX_IDLE: Duration = Duration::from_millis(500);
/// Attempts for one send before it is recorded as failed.
const SEND_ATTEMPTS: u32 = 5;
/// The most answered updates marked in one transaction.
const ANSWERED_BATCH: usize = 256;
/// How long a stopping instance waits for its queued answers to go out.
const ANSWERS_DRAIN: Duration = Duration::from_secs(10);

/// Builds the Bot API client: our own reqwest client (no proxy from the environment, sane
/// timeouts) pointed at `api_url` (Telegram's by default, or a local Bot API server).
pub fn build_bot(token: &str, api_url: &str) -> anyhow::Result<Bot> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(u64::from(POLL_TIMEOUT_SECS) + 7))
        .build()?;
    // A trailing slash would make `//bot…` request paths.
    let url = reqwest::Url::parse(api_url.trim_end_matches('/'))?;
    Ok(Bot::with_client(token, client).set_api_url(url))
}

/// The running Telegram side of Rally.
#[derive(Clone)]
pub struct Telegram {
    bot: Bot,
    app: Arc<App>,
    username: String,
    /// Wakes the processor when the webhook stored something.
    wake: Arc<Notify>,
    /// Answers waiting to be sent, after their commit ([`Telegram::answers`]).
    answers: Arc<OnceLock<mpsc::UnboundedSender<AnswerJob>>>,
}

/// The replies to one handled update.
struct Delivery {
    outcome: Outcome,
    chat: ChatId,
    sender: u64,
    /// The message whose button was pressed (its text is edited to show the decision).
    pressed: Option<MaybeInaccessibleMessage>,
}

/// Work for the answer sender.
enum AnswerJob {
    /// Send what an update's handling said (if anything), then mark the update answered.
    Answer {
        update_id: i64,
        delivery: Option<Delivery>,
    },
    /// Say when everything queued before is sent and marked.
    Flush(oneshot::Sender<()>),
}

impl Telegram {
    pub fn new(bot: Bot, app: Arc<App>, username: String) -> Telegram {
        Telegram {
            bot,
            app,
            username,
            wake: Arc::new(Notify::new()),
            answers: Arc::new(OnceLock::new()),
        }
    }

    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// Command menus from the command registry, in English and Chinese: members' commands for
    /// everyone, and every command in each manager's private chat.
    pub async fn register_commands(&self) -> anyhow::Result<()> {
        let members_menu: Vec<&CommandSpec> = registry::for_member(true, false).collect();
        let managers_menu: Vec<&CommandSpec> = registry::for_member(true, true).collect();
        for (locale, code) in [(Locale::En, None), (Locale::ZhCn, Some("zh"))] {
            let mut request = self.bot.set_my_commands(self.menu(locale, &members_menu));
            if let Some(code) = code {
                request = request.language_code(code);
            }
            request.await?;
        }
        let mut conn = self.app.store.read().await?;
        for manager in members::managers(&mut conn).await? {
            let Some(chat) = telegram_chat(&manager.platform, &manager.platform_user_id) else {
                continue;
            };
            let locale = manager
                .locale
                .as_deref()
                .and_then(Locale::from_tag)
                .unwrap_or(self.app.config.program.default_locale);
            let scope = BotCommandScope::Chat {
                chat_id: Recipient::Id(chat),
            };
            let request = self.bot.set_my_commands(self.menu(locale, &managers_menu));
            if let Err(e) = request.scope(scope).await {
                tracing::warn!(manager = %manager.id, error = %e, "manager command menu not set");
            }
        }
        Ok(())
    }

    fn menu(&self, locale: Locale, specs: &[&CommandSpec]) -> Vec<BotCommand> {
        specs
            .iter()
            .map(|spec| {
                let description = self
                    .app
                    .i18n
                    .render(locale, &Msg::new(&format!("cmd-{}", spec.name)));
                BotCommand::new(spec.name, description)
            })
            .collect()
    }

    /// Long polling until `shutdown`, in one instance at a time: the instance holding the
    /// polling lease (renewed before every `getUpdates`, [`POLL_LEASE`] long) polls; the others
    /// wait and take over within [`POLL_LEASE`] + [`LEASE_RETRY`] when it stops renewing.
    /// Updates are stored before the next `getUpdates` confirms them, then processed.
    pub async fn poll(&self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let owner = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        let mut waiting_logged = false;
        loop {
            if self.hold_lease(POLL_LEASE_NAME, &owner).await? {
                tracing::info!(%owner, "polling Telegram (this instance holds the polling lease)");
                waiting_logged = false;
                let result = self.poll_as_leader(&owner, &shutdown).await;
                if shutdown.is_cancelled() {
                    self.flush_answers().await;
                    if let Ok(mut conn) = self.app.store.read().await {
                        let _ = leases::release(&mut conn, POLL_LEASE_NAME, &owner).await;
                    }
                    return result;
                }
                result?;
                tracing::warn!(%owner, "lost the polling lease; another instance polls now");
            } else if !waiting_logged {
                tracing::info!("another instance polls Telegram; standing by");
                waiting_logged = true;
            }
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                _ = tokio::time::sleep(LEASE_RETRY) => {}
            }
        }
    }

    /// Takes or renews a leader lease ([`POLL_LEASE`] long).
    async fn hold_lease(&self, name: &str, owner: &str) -> anyhow::Result<bool> {
        let now = self.app.now();
        let until = now + i64::try_from(POLL_LEASE.as_millis()).unwrap_or(i64::MAX);
        let mut conn = self.app.store.read().await?;
        Ok(leases::acquire(&mut conn, name, owner, now, until).await?)
    }

    /// Polls while this instance holds the lease; returns when it is lost or on shutdown.
    async fn poll_as_leader(
        &self,
        owner: &str,
        shutdown: &CancellationToken,
    ) -> anyhow::Result<()> {
        // A webhook left over from webhook mode would make getUpdates fail.
        self.bot.delete_webhook().await?;
        // Where the previous leader stopped: every stored update is confirmed.
        let mut conn = self.app.store.read().await?;
        let mut offset = inbox::last_update_id(&mut conn, PLATFORM)
            .await?
            .map_or(0, |id| id + 1);
        drop(conn);
        self.answer_unanswered().await;
        self.process_pending().await;
        let mut backoff = Duration::from_millis(500);
        loop {
            if !self.hold_lease(POLL_LEASE_NAME, owner).await? {
                return Ok(());
            }
            let request = self
                .bot
                .get_updates()
                .offset(i32::try_from(offset).unwrap_or(i32::MAX))
                .timeout(POLL_TIMEOUT_SECS)
                .allowed_updates(vec![
                    AllowedUpdate::Message,
                    AllowedUpdate::CallbackQuery,
                    AllowedUpdate::MessageReaction,
                ]);
            let result = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                result = request.send() => result,
            };
            match result {
                Ok(updates) => {
                    backoff = Duration::from_millis(500);
                    // One transaction for the whole batch: one durable write, not one per update.
                    self.accept_all(&updates).await?;
                    for update in &updates {
                        offset = offset.max(i64::from(update.id.0) + 1);
                    }
                    if !updates.is_empty() {
                        self.process_pending().await;
                    }
                }
                Err(RequestError::RetryAfter(wait)) => {
                    tokio::time::sleep(wait.duration()).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "getUpdates failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// Stores an update in the inbox (idempotent by update id). Call before confirming it.
    pub async fn accept(&self, update: &Update) -> anyhow::Result<bool> {
        let payload = inbox_payload(update)?;
        let mut conn = self.app.store.read().await?;
        let new = inbox::store(
            &mut conn,
            PLATFORM,
            i64::from(update.id.0),
            &payload,
            self.app.now(),
        )
        .await?;
        Ok(new)
    }

    /// Stores a batch of updates in one transaction (idempotent by update id).
    async fn accept_all(&self, updates: &[Update]) -> anyhow::Result<()> {
        if updates.is_empty() {
            return Ok(());
        }
        let rows = updates
            .iter()
            .map(|update| Ok((i64::from(update.id.0), inbox_payload(update)?)))
            .collect::<serde_json::Result<Vec<_>>>()?;
        let mut tx = self.app.store.begin().await?;
        inbox::store_many(&mut tx, PLATFORM, &rows, self.app.now()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Processes stored updates until `shutdown` (webhook mode): every instance stores what
    /// its webhook receives, and the one holding the inbox lease processes the inbox in update
    /// order, so an update is handled by one instance once even when Telegram's redelivery of it
    /// reaches another. The others take over within [`POLL_LEASE`] + [`LEASE_RETRY`].
    pub async fn process_forever(&self, shutdown: CancellationToken) {
        let owner = format!("{}-{:08x}", std::process::id(), rand::random::<u32>());
        let mut leading = false;
        loop {
            let idle = match self.hold_lease(INBOX_LEASE_NAME, &owner).await {
                Ok(true) => {
                    if !leading {
                        tracing::info!(%owner, "processing the Telegram inbox (this instance holds its lease)");
                        leading = true;
                        self.answer_unanswered().await;
                    }
                    self.process_pending().await;
                    INBOX_IDLE
                }
                Ok(false) => {
                    if leading {
                        tracing::warn!(%owner, "lost the inbox lease; another instance processes now");
                        leading = false;
                    }
                    LEASE_RETRY
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot take the inbox lease");
                    LEASE_RETRY
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => {
                    self.flush_answers().await;
                    if leading && let Ok(mut conn) = self.app.store.read().await {
                        let _ = leases::release(&mut conn, INBOX_LEASE_NAME, &owner).await;
                    }
                    return;
                }
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(idle) => {}
            }
        }
    }

    /// Wakes the processor (after the webhook stored an update).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Handles every unprocessed update in order. Consecutive `/report`s are handled in one
    /// transaction that also marks them processed (group commit, `chat::batch`); any other
    /// update is handled alone and marked processed after its commit. Replies go to the answer
    /// sender, which sends them after the commit without holding up the next batch, and marks
    /// the updates answered. An update that could not be marked stays unprocessed and is
    /// handled again on the next round (idempotently).
    pub async fn process_pending(&self) {
        loop {
            let batch = match self.app.store.read().await {
                Ok(mut conn) => inbox::unprocessed(&mut conn, PLATFORM, MAX_BATCH as i64).await,
                Err(e) => Err(e),
            };
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the inbox");
                    return;
                }
            };
            if batch.is_empty() || !self.handle_stored(batch).await {
                return;
            }
        }
    }

    /// Answers again what was processed but not answered: a crash (or a lost lease) came
    /// between the commit and the replies. Handling an update again changes nothing (sale
    /// keys, stored answers) and gives the same answer.
    async fn answer_unanswered(&self) {
        self.flush_answers().await;
        let mut after = i64::MIN;
        loop {
            let batch = match self.app.store.read().await {
                Ok(mut conn) => {
                    inbox::unanswered(&mut conn, PLATFORM, after, MAX_BATCH as i64).await
                }
                Err(e) => Err(e),
            };
            let batch = match batch {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the inbox");
                    return;
                }
            };
            let Some((last, _)) = batch.last() else {
                return;
            };
            after = *last;
            tracing::info!(
                updates = batch.len(),
                "answering updates processed before a restart but not answered"
            );
            if !self.handle_stored(batch).await {
                return;
            }
        }
    }

    /// Handles stored updates in order (see [`Telegram::process_pending`]). `false`: the inbox
    /// could not be written; stop for this round.
    async fn handle_stored(&self, batch: Vec<(i64, String)>) -> bool {
        let mut reports: Vec<(i64, Incoming, Delivery)> = Vec::new();
        for (id, payload) in batch {
            let update = match serde_json::from_str::<Update>(&payload) {
                Ok(update) => update,
                Err(e) => {
                    tracing::error!(update = id, error = %e, "stored update unreadable");
                    if !self.finish_alone(id, None).await {
                        return false;
                    }
                    continue;
                }
            };
            if let UpdateKind::Message(message) = &update.kind
                && let Some((incoming, chat, sender)) = self.message_incoming(message)
                && self.app.groupable(&incoming)
            {
                let delivery = Delivery {
                    outcome: Outcome {
                        locale: self.app.config.program.default_locale,
                        replies: Vec::new(),
                    },
                    chat,
                    sender,
                    pressed: None,
                };
                reports.push((id, incoming, delivery));
                continue;
            }
            self.handle_reports(&mut reports).await;
            let delivery = self.process(update).await;
            if !self.finish_alone(id, delivery).await {
                return false;
            }
        }
        self.handle_reports(&mut reports).await;
        true
    }

    /// Handles the gathered reports in one transaction that marks them processed, and queues
    /// their answers.
    async fn handle_reports(&self, reports: &mut Vec<(i64, Incoming, Delivery)>) {
        if reports.is_empty() {
            return;
        }
        let ids: Vec<i64> = reports.iter().map(|(id, _, _)| *id).collect();
        let messages: Vec<Incoming> = reports.iter().map(|(_, m, _)| m.clone()).collect();
        let marks = InboxMarks {
            platform: PLATFORM,
            update_ids: &ids,
        };
        let outcomes = self.app.handle_batch(&messages, Some(marks)).await;
        for ((update_id, _, mut delivery), outcome) in reports.drain(..).zip(outcomes) {
            delivery.outcome = outcome;
            self.queue_answer(AnswerJob::Answer {
                update_id,
                delivery: Some(delivery),
            });
        }
    }

    /// Marks an update handled alone processed and queues its answer. `false`: not marked.
    async fn finish_alone(&self, update_id: i64, delivery: Option<Delivery>) -> bool {
        let done = match self.app.store.read().await {
            Ok(mut conn) => {
                inbox::mark_processed(&mut conn, PLATFORM, update_id, self.app.now()).await
            }
            Err(e) => Err(e),
        };
        if let Err(e) = done {
            tracing::error!(update = update_id, error = %e, "cannot mark update processed");
            return false;
        }
        self.queue_answer(AnswerJob::Answer {
            update_id,
            delivery,
        });
        true
    }

    /// The answer sender's queue; the sender starts with the first answer.
    fn answers(&self) -> &mpsc::UnboundedSender<AnswerJob> {
        self.answers.get_or_init(|| {
            let (queue, jobs) = mpsc::unbounded_channel();
            // The sender's own copy does not hold the queue, so the queue closes (and the
            // sender ends) when the last `Telegram` sharing it is dropped.
            let sender = Telegram {
                answers: Arc::new(OnceLock::new()),
                ..self.clone()
            };
            tokio::spawn(sender.send_answers(jobs));
            queue
        })
    }

    fn queue_answer(&self, job: AnswerJob) {
        if self.answers().send(job).is_err() {
            tracing::error!("the answer sender has stopped; the answer waits for a restart");
        }
    }

    /// Waits (at most [`ANSWERS_DRAIN`]) until every queued answer is sent and marked.
    pub async fn flush_answers(&self) {
        let Some(queue) = self.answers.get() else {
            return;
        };
        let (done, flushed) = oneshot::channel();
        if queue.send(AnswerJob::Flush(done)).is_ok()
            && tokio::time::timeout(ANSWERS_DRAIN, flushed).await.is_err()
        {
            tracing::warn!("answers still queued at shutdown; they are sent after a restart");
        }
    }

    /// Sends queued answers in order, and marks what was sent answered in groups: every answer
    /// sent while more were waiting commits in one transaction.
    async fn send_answers(self, mut jobs: mpsc::UnboundedReceiver<AnswerJob>) {
        while let Some(first) = jobs.recv().await {
            let mut answered = Vec::new();
            let mut flushed = Vec::new();
            let mut next = Some(first);
            while let Some(job) = next.take() {
                match job {
                    AnswerJob::Answer {
                        update_id,
                        delivery,
                    } => {
                        if let Some(d) = delivery {
                            self.deliver_all(&d.outcome, d.chat, d.sender, d.pressed.as_ref())
                                .await;
                        }
                        answered.push(update_id);
                    }
                    AnswerJob::Flush(done) => flushed.push(done),
                }
                if answered.len() < ANSWERED_BATCH {
                    next = jobs.try_recv().ok();
                }
            }
            if !answered.is_empty() {
                let marked = match self.app.store.read().await {
                    Ok(mut conn) => {
                        inbox::mark_answered(&mut conn, PLATFORM, &answered, self.app.now()).await
                    }
                    Err(e) => Err(e),
                };
                if let Err(e) = marked {
                    // They are answered again after a restart.
                    tracing::error!(error = %e, "cannot mark updates answered");
                }
            }
            for done in flushed {
                let _ = done.send(());
            }
        }
    }

    async fn process(&self, update: Update) -> Option<Delivery> {
        match update.kind {
            UpdateKind::Message(message) => self.on_message(message).await,
            UpdateKind::CallbackQuery(query) => self.on_callback(query).await,
            UpdateKind::MessageReaction(reaction) => {
                self.on_reaction(reaction).await;
                None
            }
            _ => None,
        }
    }

    /// What a message says, as the handler takes it, with the chat and sender to answer.
    fn message_incoming(&self, message: &Message) -> Option<(Incoming, ChatId, u64)> {
        let from = message.from.as_ref()?;
        let text = message.text().or(message.caption())?;
        let text = match self.prompted_command(message) {
            Some(command) if !text.trim_start().starts_with('/') => format!("{command} {text}"),
            _ => text.to_string(),
        };
        let attachments = message
            .photo()
            .and_then(|sizes| sizes.iter().max_by_key(|p| p.width * p.height))
            .map(|p| vec![p.file.id.0.clone()])
            .unwrap_or_default();
        let incoming = Incoming {
            platform: Platform::Telegram,
            chat_id: message.chat.id.0.to_string(),
            private_chat: message.chat.is_private(),
            sender_id: from.id.0.to_string(),
            sender_name: from.full_name(),
            message_id: message.id.0.to_string(),
            text,
            locale: from.language_code.clone(),
            attachments,
            username: from.username.clone(),
            reply_to: message
                .reply_to_message()
                .and_then(|replied| replied.from.as_ref())
                .filter(|author| !author.is_bot)
                .map(|author| author.id.0.to_string()),
            pressed_message: None,
        };
        Some((incoming, message.chat.id, from.id.0))
    }

    async fn on_message(&self, message: Message) -> Option<Delivery> {
        let (incoming, chat, sender) = self.message_incoming(&message)?;
        let outcome = self.app.handle(&incoming).await;
        Some(Delivery {
            outcome,
            chat,
            sender,
            pressed: None,
        })
    }

    async fn on_callback(&self, query: CallbackQuery) -> Option<Delivery> {
        let answer = self.bot.answer_callback_query(query.id.clone());
        if let Err(e) = answer.await {
            tracing::warn!(error = %e, "answerCallbackQuery failed");
        }
        let (Some(data), Some(message)) = (query.data.as_deref(), query.message.as_ref()) else {
            return None;
        };
        let chat = message.chat().id;
        let incoming = Incoming {
            platform: Platform::Telegram,
            chat_id: chat.0.to_string(),
            private_chat: message.chat().is_private(),
            sender_id: query.from.id.0.to_string(),
            sender_name: query.from.full_name(),
            // One press is one message: a redelivered press is recognised, a second press is
            // a new one (and the handler answers "already decided").
            message_id: format!("cb:{}", query.id.0),
            text: data.to_string(),
            locale: query.from.language_code.clone(),
            attachments: Vec::new(),
            username: None,
            reply_to: None,
            pressed_message: Some(message.id().0.to_string()),
        };
        if let Some(prompt) = self.app.prompt_for_missing_argument(&incoming).await {
            // The question ends with the command to complete; the member's reply to it comes
            // back as a message replying to ours (see `prompted_command`).
            let ask = ForceReply::new().selective();
            if let Err(e) = self
                .with_retry(chat, || async {
                    self.bot
                        .send_message(chat, prompt.question.clone())
                        .reply_markup(ask.clone())
                        .await
                        .map(|_| ())
                })
                .await
            {
                tracing::warn!(error = %e, "question for a button not delivered");
            }
            return None;
        }
        let outcome = self.app.handle(&incoming).await;
        Some(Delivery {
            outcome,
            chat,
            sender: query.from.id.0,
            pressed: query.message,
        })
    }

    /// Telegram's own reactions on a story's post count as the story's: 👏 and 🔥 as such, 🤔
    /// (Telegram offers no 💡) as an idea. Reactions by anonymous admins are ignored.
    async fn on_reaction(&self, reaction: MessageReactionUpdated) {
        let Some(user) = reaction.user() else {
            return;
        };
        let kinds = |list: &[ReactionType]| -> Vec<&'static str> {
            list.iter()
                .filter_map(|r| r.emoji())
                .filter_map(|e| stories::reaction_kind(if e == "🤔" { "💡" } else { e }))
                .collect()
        };
        let (old, new) = (kinds(&reaction.old_reaction), kinds(&reaction.new_reaction));
        let changes: Vec<(&str, bool)> = old
            .iter()
            .filter(|k| !new.contains(k))
            .map(|k| (*k, false))
            .chain(new.iter().filter(|k| !old.contains(k)).map(|k| (*k, true)))
            .collect();
        if changes.is_empty() {
            return;
        }
        stories::platform_reactions(
            &self.app,
            PLATFORM,
            &reaction.chat.id.0.to_string(),
            &reaction.message_id.0.to_string(),
            &user.id.0.to_string(),
            &changes,
        )
        .await;
    }

    /// The command a message completes when it replies to one of our questions for a missing
    /// argument: the question's last line, if the bot wrote it and it still lacks an argument.
    fn prompted_command(&self, message: &Message) -> Option<String> {
        let asked = message.reply_to_message()?;
        let author = asked.from.as_ref()?;
        let ours = author.is_bot
            && author
                .username
                .as_deref()
                .is_some_and(|name| name.eq_ignore_ascii_case(&self.username));
        let command = asked.text()?.lines().last()?.trim();
        (ours && registry::missing_argument(command).is_some()).then(|| command.to_string())
    }

    /// Sends every reply; the first reply for this chat replaces the pressed button's message
    /// when answering a button press.
    async fn deliver_all(
        &self,
        outcome: &Outcome,
        chat: ChatId,
        sender: u64,
        pressed: Option<&MaybeInaccessibleMessage>,
    ) {
        let mut edit = pressed.and_then(|m| m.regular_message());
        for reply in &outcome.replies {
            let locale = reply.locale.unwrap_or(outcome.locale);
            let target = match &reply.to {
                Destination::Here => Some(chat),
                Destination::Sender => Some(ChatId(i64::try_from(sender).unwrap_or_default())),
                // Notices for members on a platform go through the outbox; what is left is
                // for terminal members, who cannot be reached from here.
                Destination::Member(_) => None,
            };
            let Some(target) = target else { continue };
            // Reaction counts: the pressed message keeps its text and gets the new buttons.
            if reply.refresh_buttons
                && let Some(original) = edit.take()
            {
                let markup = self.keyboard(reply, locale).unwrap_or_default();
                let edited = self
                    .bot
                    .edit_message_reply_markup(original.chat.id, original.id)
                    .reply_markup(markup)
                    .await;
                if let Err(e) = edited {
                    tracing::warn!(error = %e, "buttons of a pressed message not updated");
                }
                continue;
            }
            if reply.to == Destination::Here
                && let Some(original) = edit.take()
            {
                let text = format!(
                    "{}\n\n{}",
                    original.text().or(original.caption()).unwrap_or_default(),
                    self.app.i18n.render_reply(locale, reply)
                );
                let edited = self
                    .bot
                    .edit_message_text(original.chat.id, original.id, truncate(&text))
                    .await;
                if edited.is_ok() {
                    continue;
                }
            }
            let sent = self.send(target, reply, locale).await;
            if let Err(e) = sent
                && reply.to == Destination::Sender
                && target != chat
                && is_refusal(&e)
            {
                // The member never opened a private chat with the bot: say how, in the group.
                let hint = Reply::here(
                    Msg::new("telegram-start-first")
                        .text("link", format!("https://t.me/{}", self.username)),
                );
                let _ = self.send(chat, &hint, locale).await;
            }
        }
    }

    /// A reply's buttons as one row of an inline keyboard; `None` without buttons.
    fn keyboard(&self, reply: &Reply, locale: Locale) -> Option<InlineKeyboardMarkup> {
        (!reply.buttons.is_empty()).then(|| {
            InlineKeyboardMarkup::new(vec![
                reply
                    .buttons
                    .iter()
                    .map(|b| {
                        InlineKeyboardButton::callback(
                            self.app.i18n.render(locale, &b.label),
                            b.action.clone(),
                        )
                    })
                    .collect::<Vec<_>>(),
            ])
        })
    }

    /// Sends one reply (split at Telegram's length limit), with retries.
    pub async fn send(
        &self,
        chat: ChatId,
        reply: &Reply,
        locale: Locale,
    ) -> Result<(), RequestError> {
        self.send_chunks(chat, reply, locale, true)
            .await
            .map(|_| ())
    }

    /// Sends a reply's chunks; each one retried when `retry`, else one attempt in all (the
    /// outbox retries itself, at its pace).
    async fn send_chunks(
        &self,
        chat: ChatId,
        reply: &Reply,
        locale: Locale,
        retry: bool,
    ) -> Result<Option<MessageId>, RequestError> {
        let mut last_sent = None;
        let text = self.app.i18n.render_reply(locale, reply);
        let markup = self.keyboard(reply, locale);
        let chunks = split_at_lines(&text, MAX_MESSAGE_CHARS);
        let last = chunks.len().saturating_sub(1);
        // A chart Rally drew is uploaded with the first piece as its caption when it fits.
        let mut chart = self.chart_bytes(reply).await;
        if let Some(png) = chart.take_if(|_| chunks[0].chars().count() > 1024) {
            let upload = || async {
                let file = InputFile::memory(png.clone()).file_name("standings.png");
                self.bot.send_photo(chat, file).await.map(|_| ())
            };
            if retry {
                self.with_retry(chat, upload).await?;
            } else {
                upload().await?;
            }
        }
        for (i, chunk) in chunks.into_iter().enumerate() {
            let markup = if i == last { markup.clone() } else { None };
            let image = if i == 0 { reply.image.clone() } else { None };
            if i == 0
                && let Some(png) = chart.take()
            {
                let upload = || {
                    let (chunk, markup, png) = (chunk.clone(), markup.clone(), png.clone());
                    async move {
                        let file = InputFile::memory(png).file_name("standings.png");
                        let mut request = self.bot.send_photo(chat, file).caption(chunk);
                        if let Some(m) = markup {
                            request = request.reply_markup(m);
                        }
                        request.await.map(|m| m.id)
                    }
                };
                last_sent = Some(if retry {
                    self.with_retry(chat, upload).await?
                } else {
                    upload().await?
                });
                continue;
            }
            let attempt = || {
                let chunk = chunk.clone();
                let markup = markup.clone();
                let image = image.clone();
                async move {
                    match image {
                        // Captions are limited to 1,024 characters; longer text goes alone.
                        Some(file) if chunk.chars().count() <= 1024 => {
                            let mut request = self
                                .bot
                                .send_photo(chat, InputFile::file_id(FileId(file)))
                                .caption(chunk);
                            if let Some(m) = markup {
                                request = request.reply_markup(m);
                            }
                            request.await.map(|m| m.id)
                        }
                        _ => {
                            let mut request = self.bot.send_message(chat, chunk);
                            if let Some(m) = markup {
                                request = request.reply_markup(m);
                            }
                            request.await.map(|m| m.id)
                        }
                    }
                }
            };
            last_sent = Some(if retry {
                self.with_retry(chat, attempt).await?
            } else {
                attempt().await?
            });
        }
        Ok(last_sent)
    }

    /// The PNG of a reply's chart, read from the database (`None` without one, or if it is
    /// gone: the text goes out anyway).
    async fn chart_bytes(&self, reply: &Reply) -> Option<Vec<u8>> {
        let id = reply.chart?;
        let mut conn = self.app.store.read().await.ok()?;
        match crate::store::contests::image(&mut conn, id).await {
            Ok(found) => found.map(|(_, bytes)| bytes),
            Err(e) => {
                tracing::warn!(image = id, error = %e, "chart not read; sending the text alone");
                None
            }
        }
    }

    async fn with_retry<T, F, Fut>(&self, chat: ChatId, op: F) -> Result<T, RequestError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<T, RequestError>>,
    {
        let mut backoff = Duration::from_millis(300);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match op().await {
                Ok(sent) => return Ok(sent),
                Err(RequestError::RetryAfter(wait)) if attempt < SEND_ATTEMPTS => {
                    tracing::info!(
                        chat = chat.0,
                        wait = wait.seconds(),
                        "rate limited by Telegram"
                    );
                    tokio::time::sleep(wait.duration()).await;
                }
                Err(e) if attempt < SEND_ATTEMPTS && is_transient(&e) => {
                    tracing::warn!(chat = chat.0, error = %e, "send failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(e) => {
                    tracing::warn!(chat = chat.0, error = %e, "message not delivered");
                    if let Ok(mut conn) = self.app.store.read().await {
                        let _ = inbox::record_delivery_failure(
                            &mut conn,
                            PLATFORM,
                            &chat.0.to_string(),
                            &e.to_string(),
                            self.app.now(),
                        )
                        .await;
                    }
                    return Err(e);
                }
            }
        }
    }
}

fn telegram_chat(platform: &Platform, user_id: &str) -> Option<ChatId> {
    (*platform == Platform::Telegram)
        .then(|| user_id.parse().ok().map(ChatId))
        .flatten()
}

/// An update as stored in the inbox: its JSON as Telegram sends it. teloxide writes a
/// reaction's actor flattened (the user's fields inline), which its own reader cannot read back
/// (it panics): the actor is put back under `user` (or `actor_chat`).
fn inbox_payload(update: &Update) -> serde_json::Result<String> {
    let mut value = serde_json::to_value(update)?;
    if let UpdateKind::MessageReaction(reaction) = &update.kind
        && let Some(fields) = value
            .get_mut("message_reaction")
            .and_then(serde_json::Value::as_object_mut)
    {
        let (key, actor) = match &reaction.actor {
            MaybeAnonymousUser::User(user) => ("user", serde_json::to_value(user)?),
            MaybeAnonymousUser::Chat(chat) => ("actor_chat", serde_json::to_value(chat)?),
        };
        if let Some(inline) = actor.as_object() {
            for name in inline.keys() {
                fields.remove(name);
            }
        }
        fields.insert(key.to_string(), actor);
    }
    serde_json::to_string(&value)
}

/// The outbox's way to Telegram: one attempt per delivery, errors classified for the sender.
pub struct TelegramTransport(pub Telegram);

impl Transport for TelegramTransport {
    fn platform(&self) -> &'static str {
        PLATFORM
    }

    /// Private chats have positive ids; groups, supergroups and channels negative ones.
    fn chat_class(&self, target: &str) -> ChatClass {
        if target.starts_with('-') {
            ChatClass::Group
        } else {
            ChatClass::Private
        }
    }

    async fn deliver(
        &self,
        target: &str,
        reply: &Reply,
        locale: Locale,
    ) -> Result<Option<String>, DeliveryError> {
        let chat = target
            .parse::<i64>()
            .map(ChatId)
            .map_err(|_| DeliveryError::Rejected(format!("not a Telegram chat id: {target}")))?;
        let sent = self
            .0
            .send_chunks(chat, reply, locale, false)
            .await
            .map_err(delivery_error)?;
        Ok(sent.map(|message| message.0.to_string()))
    }

    async fn edit_buttons(
        &self,
        target: &str,
        message: &str,
        reply: &Reply,
        locale: Locale,
    ) -> Result<(), DeliveryError> {
        let chat = target
            .parse::<i64>()
            .map(ChatId)
            .map_err(|_| DeliveryError::Rejected(format!("not a Telegram chat id: {target}")))?;
        let message = message.parse::<i32>().map(MessageId).map_err(|_| {
            DeliveryError::Rejected(format!("not a Telegram message id: {message}"))
        })?;
        let markup = self.0.keyboard(reply, locale).unwrap_or_default();
        let edited = self
            .0
            .bot
            .edit_message_reply_markup(chat, message)
            .reply_markup(markup)
            .await;
        match edited {
            Ok(_) => Ok(()),
            // Already showing these buttons (an edit delivered twice, or a press shown at once).
            Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            Err(RequestError::Api(
                e @ (ApiError::MessageToEditNotFound
                | ApiError::MessageIdInvalid
                | ApiError::MessageCantBeEdited),
            )) => Err(DeliveryError::Gone(e.to_string())),
            Err(e) => Err(delivery_error(e)),
        }
    }
}

/// How the outbox takes a failed request.
fn delivery_error(e: RequestError) -> DeliveryError {
    match e {
        RequestError::RetryAfter(wait) => DeliveryError::RetryAfter(wait.duration()),
        e if is_refusal(&e) => DeliveryError::Refused(e.to_string()),
        e if is_transient(&e) => DeliveryError::Transient(e.to_string()),
        e => DeliveryError::Rejected(e.to_string()),
    }
}

/// The platform refused to deliver (blocked, never started, kicked): retrying cannot help.
fn is_refusal(e: &RequestError) -> bool {
    match e {
        RequestError::Api(
            ApiError::BotBlocked
            | ApiError::CantInitiateConversation
            | ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::UserDeactivated
            | ApiError::CantTalkWithBots,
        ) => true,
        // Telegram's current wording for a user who never started the bot ("Forbidden: bot
        // can't initiate conversation…") is not one teloxide knows.
        RequestError::Api(ApiError::Unknown(text)) => text.starts_with("Forbidden"),
        _ => false,
    }
}

/// Worth another try: the network, or a server-side error (teloxide reports 5xx answers as
/// unknown API errors named after the status, e.g. "Bad Gateway").
fn is_transient(e: &RequestError) -> bool {
    match e {
        RequestError::Network(_) | RequestError::Io(_) => true,
        RequestError::Api(ApiError::Unknown(text)) => {
            !["Bad Request", "Forbidden", "Unauthorized", "Not Found"]
                .iter()
                .any(|prefix| text.starts_with(prefix))
        }
        _ => false,
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}
