//! The outbox: everything Rally says that is not the direct answer to a command — a pending sale
//! for the managers, a decision for the reporter, a dispute for the managers — is stored in the
//! `outbox` table in the transaction of the change that causes it, then delivered by one sender
//! per platform.
//!
//! Delivery is at least once, in order per chat, at the platform's pace:
//! - a row is claimed under a lease ([`crate::store::outbox::claim`]): a sender that dies leaves
//!   its rows to expire and another instance takes them over, so a crash re-sends at most the
//!   rows that were in flight (the window is the lease, [`SenderSettings::lease`]);
//! - pacing is `governor` rate limiters: one for the platform and one per chat, by chat class
//!   (Telegram: 30/s per bot, 1/s per private chat, 20/min per group; Discord: 50/s global,
//!   5 per 5 s per channel);
//! - a 429 waits exactly the `retry_after` the platform gave, for that row, without counting an
//!   attempt; network errors and 5xx back off exponentially with jitter up to
//!   [`SenderSettings::max_attempts`], then the row is `failed` with the reason; a refusal (403:
//!   blocked, never started, left) is `failed` at once and the member is marked unreachable.
//!   Nothing is dropped silently: every failure is in the row and in the log.
//!
//! A row may edit a message sent before instead of sending one (`edit_message_id`: a story's
//! post brought up to the current reaction counts); a story's post shows the counts as they are
//! when it is delivered, and is remembered in the transaction that records it sent. An edit of a
//! message that is gone ([`DeliveryError::Gone`]) fails at once.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::Rng;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::chat::reply::Reply;
use crate::config::{Locale, OutboxConfig};
use crate::engine::ids::MemberId;
use crate::engine::partner::Platform;
use crate::store::outbox::{self as rows, NewOutgoing, Outgoing};
use crate::store::{self, members};

/// How long a sender pauses when the due rows wait behind rows another sender holds.
const BLOCKED_PAUSE_MS: u64 = 50;

/// Why one delivery did not go through.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// 429: the platform says when to come back.
    #[error("rate limited; retry after {0:?}")]
    RetryAfter(Duration),
    /// Network error or 5xx: worth trying again later.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// 403 and the like: the platform will not deliver to this chat or member.
    #[error("refused: {0}")]
    Refused(String),
    /// The message itself is wrong (400): retrying cannot help.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The message to edit is gone (deleted in the chat): nothing left to do.
    #[error("gone: {0}")]
    Gone(String),
}

/// A delivery that went through, with the story post it made (story, platform message id), to
/// be remembered with the row's outcome.
type Delivered = Result<Option<(i64, String)>, DeliveryError>;

/// How a platform's chats are paced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChatClass {
    Private,
    Group,
}

/// A platform that can deliver a rendered reply to a chat, one attempt at a time.
pub trait Transport: Send + Sync + 'static {
    /// The platform name in the outbox (`telegram`, `discord`).
    fn platform(&self) -> &'static str;
    /// Which pace a chat gets.
    fn chat_class(&self, target: &str) -> ChatClass;
    /// One attempt to deliver `reply` to `target`, rendered in `locale`: the platform's id of
    /// the (last) message sent, the one that carries the buttons.
    fn deliver(
        &self,
        target: &str,
        reply: &Reply,
        locale: Locale,
    ) -> impl Future<Output = Result<Option<String>, DeliveryError>> + Send;
    /// One attempt to put `reply`'s buttons on `message`, a message Rally sent to `target`
    /// (its text stays). Editing to what the message already shows is a success; a message
    /// that no longer exists is [`DeliveryError::Gone`].
    fn edit_buttons(
        &self,
        target: &str,
        message: &str,
        reply: &Reply,
        locale: Locale,
    ) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// Rates and retries of one platform's sender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderSettings {
    /// Messages per second for the whole bot.
    pub per_second: NonZeroU32,
    /// Messages per private chat, per `private_period`.
    pub private_burst: NonZeroU32,
    pub private_period: Duration,
    /// Messages per group chat or channel, per `group_period`.
    pub group_burst: NonZeroU32,
    pub group_period: Duration,
    /// Attempts before a row is `failed` (network errors and 5xx).
    pub max_attempts: u32,
    /// How long a claimed row stays with this sender before another may take it over.
    pub lease: Duration,
    /// Deliveries in flight at once (different chats only: a chat has one at a time).
    pub concurrency: usize,
    /// Rows claimed per round.
    pub batch: i64,
    /// How often an idle sender looks for work (it is also woken on enqueue in this process).
    pub idle_poll: Duration,
}

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => NonZeroU32::MIN,
    }
}

impl SenderSettings {
    /// Telegram's pace from `[outbox]` (defaults: the published 30 messages/s per bot, 1/s per
    /// private chat, 20/min per group).
    pub fn telegram(config: &OutboxConfig) -> SenderSettings {
        SenderSettings {
            per_second: nz(config.telegram_per_second),
            private_burst: nz(1),
            private_period: Duration::from_secs(1) / config.telegram_private_per_second.max(1),
            group_burst: nz(config.telegram_group_per_minute),
            group_period: Duration::from_secs(60),
            ..SenderSettings::common(config)
        }
    }

    /// Discord's from `[outbox]` (defaults: 50 requests/s global, 5 messages per 5 s per
    /// channel, direct-message channels included).
    pub fn discord(config: &OutboxConfig) -> SenderSettings {
        SenderSettings {
            per_second: nz(config.discord_per_second),
            private_burst: nz(config.discord_channel_per_5s),
            private_period: Duration::from_secs(5),
            group_burst: nz(config.discord_channel_per_5s),
            group_period: Duration::from_secs(5),
            ..SenderSettings::common(config)
        }
    }

    fn common(config: &OutboxConfig) -> SenderSettings {
        SenderSettings {
            per_second: nz(30),
            private_burst: nz(1),
            private_period: Duration::from_secs(1),
            group_burst: nz(1),
            group_period: Duration::from_secs(1),
            max_attempts: config.max_attempts.max(1),
            lease: Duration::from_secs(u64::from(config.lease_seconds.max(1))),
            concurrency: 32,
            batch: 200,
            idle_poll: Duration::from_millis(500),
        }
    }
}

/// The platform chat a member's notices go to: their private chat on their platform. `None`
/// for the console, which shows notices inline.
fn member_target(platform: Platform, user_id: &str) -> Option<(&'static str, String)> {
    match platform {
        Platform::Telegram => Some(("telegram", user_id.to_string())),
        Platform::Discord => Some(("discord", format!("dm:{user_id}"))),
        Platform::Console => None,
    }
}

/// Enqueues `reply` for `member` on the caller's connection (their transaction). Returns the
/// reply back when the member is on the console, which delivers it inline.
pub async fn enqueue_notice(
    app: &App,
    conn: &mut store::Conn,
    member: MemberId,
    reply: Reply,
    dedupe_key: String,
    now_ms: i64,
) -> store::Result<Option<Reply>> {
    enqueue_for_member(
        app,
        conn,
        member,
        Routing::ToPerson,
        reply,
        dedupe_key,
        None,
        now_ms,
    )
    .await
}

/// Which account of a person a member's notice goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Routing {
    /// Where the person wants notices (`/notify`), else where they last spoke to the bot.
    ToPerson,
    /// Exactly this account (a broadcast for one platform).
    ToThisAccount,
}

/// [`enqueue_notice`], counted in a broadcast's delivery report.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue_for_member(
    app: &App,
    conn: &mut store::Conn,
    member: MemberId,
    routing: Routing,
    reply: Reply,
    dedupe_key: String,
    broadcast_id: Option<i64>,
    now_ms: i64,
) -> store::Result<Option<Reply>> {
    let Some(found) = members::get(&mut *conn, member).await? else {
        tracing::warn!(%member, "notice for a member that does not exist dropped");
        return Ok(None);
    };
    let found = match routing {
        Routing::ToPerson => members::notice_account(&mut *conn, found).await?,
        Routing::ToThisAccount => found,
    };
    let member = found.id;
    let Some((platform, target)) = member_target(found.platform, &found.platform_user_id) else {
        return Ok(Some(reply));
    };
    let locale = reply
        .locale
        .or_else(|| found.locale.as_deref().and_then(Locale::from_tag))
        .unwrap_or(app.config.program.default_locale);
    let reply_json =
        serde_json::to_string(&reply).map_err(|e| store::StoreError::Corrupt(e.to_string()))?;
    rows::enqueue(
        conn,
        &NewOutgoing {
            platform: platform.into(),
            target,
            member_id: Some(member),
            dedupe_key,
            reply_json,
            locale: locale.tag().into(),
            broadcast_id,
        },
        now_ms,
    )
    .await?;
    app.outbox_wake.notify_waiters();
    Ok(None)
}

/// One platform's sender: claims due rows and delivers them at the platform's pace.
pub struct Sender<T: Transport> {
    app: Arc<App>,
    transport: Arc<T>,
    settings: SenderSettings,
    owner: String,
    global: DefaultDirectRateLimiter,
    /// One delivery at a time waits on `global`: many waiters would all wake at every tick
    /// and all but one sleep again.
    global_turn: tokio::sync::Mutex<()>,
    private_chats: DefaultKeyedRateLimiter<String>,
    group_chats: DefaultKeyedRateLimiter<String>,
}

impl<T: Transport> Sender<T> {
    pub fn new(app: Arc<App>, transport: Arc<T>, settings: SenderSettings) -> Arc<Sender<T>> {
        let quota = |burst: NonZeroU32, period: Duration| {
            Quota::with_period(period / burst.get())
                .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
                .allow_burst(burst)
        };
        let owner = format!(
            "{}-{}-{:08x}",
            transport.platform(),
            std::process::id(),
            rand::rng().random::<u32>()
        );
        Arc::new(Sender {
            // Nearly smooth: a burst of at most 1/20 of a second's quota, so a platform counting
            // over any window never sees a doubled second, and a timer that wakes a little late
            // (tokio's resolution is 1 ms) can catch up instead of losing the time for good.
            global: RateLimiter::direct(
                Quota::per_second(settings.per_second)
                    .allow_burst(nz((settings.per_second.get() / 20).max(1))),
            ),
            global_turn: tokio::sync::Mutex::new(()),
            private_chats: RateLimiter::keyed(quota(
                settings.private_burst,
                settings.private_period,
            )),
            group_chats: RateLimiter::keyed(quota(settings.group_burst, settings.group_period)),
            app,
            transport,
            settings,
            owner,
        })
    }

    /// Delivers until `shutdown`; rows in flight at shutdown finish or expire with their lease.
    pub async fn run(self: Arc<Self>, shutdown: CancellationToken) {
        let slots = Arc::new(Semaphore::new(self.settings.concurrency.max(1)));
        let wake: Arc<Notify> = self.app.outbox_wake.clone();
        // Deliveries run side by side (at most `concurrency` at once). New rows are claimed
        // while the last ones are still going (when fewer than half a batch is left), so the
        // pace never stalls between batches. Outcomes are recorded as they come, every group
        // that is ready in one transaction: one durable write for many rows. A crash between a
        // delivery and its group's commit re-sends that row after its lease (at least once).
        let mut running = tokio::task::JoinSet::new();
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            // Half a batch still queued is time enough for a claim on a busy database.
            let low_water = self
                .settings
                .concurrency
                .max(usize::try_from(self.settings.batch / 2).unwrap_or(0));
            if running.len() < low_water {
                let claimed = match self.claim().await {
                    Ok(rows) => rows,
                    Err(e) => {
                        tracing::error!(platform = self.transport.platform(), error = %e, "outbox claim failed");
                        Vec::new()
                    }
                };
                for row in claimed {
                    let sender = self.clone();
                    let slots = slots.clone();
                    running.spawn(async move {
                        let Ok(_slot) = slots.acquire_owned().await else {
                            return None;
                        };
                        let outcome = sender.attempt(&row).await;
                        Some((row, outcome))
                    });
                }
            }
            if running.is_empty() {
                // Sleep until the next row falls due (a 429's `retry_after` is kept to the
                // millisecond), at most `idle_poll`: other instances may enqueue too.
                let pause = self.until_next_due().await;
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(pause) => {}
                }
                continue;
            }
            let first = tokio::select! {
                _ = shutdown.cancelled() => return,
                first = running.join_next() => first,
            };
            let mut done: Vec<(Outgoing, Delivered)> = Vec::new();
            done.extend(first.and_then(|r| r.ok()).flatten());
            while let Some(more) = running.try_join_next() {
                done.extend(more.ok().flatten());
            }
            self.record_all(done).await;
        }
    }

    async fn until_next_due(&self) -> Duration {
        let due = match self.app.store.read().await {
            Ok(mut conn) => rows::next_due(&mut conn, self.transport.platform())
                .await
                .ok()
                .flatten(),
            Err(_) => None,
        };
        match due {
            Some(due) => {
                // Due already but not claimable: it waits behind a row in flight elsewhere.
                let wait_ms = u64::try_from(due.saturating_sub(self.app.now())).unwrap_or(0);
                Duration::from_millis(wait_ms.max(BLOCKED_PAUSE_MS)).min(self.settings.idle_poll)
            }
            None => self.settings.idle_poll,
        }
    }

    async fn claim(&self) -> store::Result<Vec<Outgoing>> {
        let now = self.app.now();
        let lease_ms = i64::try_from(self.settings.lease.as_millis()).unwrap_or(i64::MAX);
        let mut conn = self.app.store.read().await?;
        rows::claim(
            &mut conn,
            self.transport.platform(),
            &self.owner,
            now,
            now.saturating_add(lease_ms),
            self.settings.batch,
        )
        .await
    }

    /// One row: pace, one attempt.
    async fn attempt(&self, row: &Outgoing) -> Delivered {
        let reply: Reply = serde_json::from_str(&row.reply_json)
            .map_err(|e| DeliveryError::Rejected(format!("unreadable reply: {e}")))?;
        // A story's post shows its reaction counts as they are now, not as they were when it
        // was enqueued: a late post or edit is never stale, and one edit covers many presses.
        let story = crate::features::community::stories::post_of(&reply);
        let reply = match story {
            Some(story) => self.with_current_counts(story, reply).await?,
            None => reply,
        };
        let locale =
            Locale::from_tag(&row.locale).unwrap_or(self.app.config.program.default_locale);
        let chat_limit = match self.transport.chat_class(&row.target) {
            ChatClass::Private => &self.private_chats,
            ChatClass::Group => &self.group_chats,
        };
        chat_limit.until_key_ready(&row.target).await;
        {
            let _turn = self.global_turn.lock().await;
            self.global.until_ready().await;
        }
        match &row.edit_message_id {
            Some(message) => self
                .transport
                .edit_buttons(&row.target, message, &reply, locale)
                .await
                .map(|()| None),
            None => {
                let sent = self.transport.deliver(&row.target, &reply, locale).await?;
                Ok(story.zip(sent))
            }
        }
    }

    async fn with_current_counts(&self, story: i64, reply: Reply) -> Result<Reply, DeliveryError> {
        let unread = |e: store::StoreError| DeliveryError::Transient(e.to_string());
        let mut conn = self.app.store.read().await.map_err(unread)?;
        crate::features::community::stories::with_current_counts(&mut conn, story, reply)
            .await
            .map_err(unread)
    }

    /// Records a group of outcomes in one transaction, then reports broadcasts that are done.
    async fn record_all(&self, done: Vec<(Outgoing, Delivered)>) {
        if done.is_empty() {
            return;
        }
        let result = async {
            let mut tx = self.app.store.begin().await?;
            for (row, outcome) in &done {
                self.record(&mut tx, row, outcome).await?;
            }
            tx.commit().await?;
            Ok::<(), store::StoreError>(())
        }
        .await;
        if let Err(e) = result {
            // The leases run out and the rows are tried again: at least once, never lost.
            tracing::error!(platform = self.transport.platform(), rows = done.len(), error = %e, "outbox outcomes not recorded");
            return;
        }
        let mut settled_broadcasts: Vec<i64> = done
            .iter()
            .filter(|(row, outcome)| self.settled(row, outcome))
            .filter_map(|(row, _)| row.broadcast_id)
            .collect();
        settled_broadcasts.sort_unstable();
        settled_broadcasts.dedup();
        for broadcast in settled_broadcasts {
            if let Err(e) =
                crate::features::broadcasts::service::report_if_delivered(&self.app, broadcast)
                    .await
            {
                tracing::warn!(broadcast, error = %e, "broadcast report not sent");
            }
        }
    }

    /// Whether an outcome ends the row (sent, or failed for good).
    fn settled(&self, row: &Outgoing, outcome: &Delivered) -> bool {
        match outcome {
            Err(DeliveryError::RetryAfter(_)) => false,
            Err(DeliveryError::Transient(_)) => {
                row.attempts >= i64::from(self.settings.max_attempts)
            }
            _ => true,
        }
    }

    async fn record(
        &self,
        conn: &mut store::Conn,
        row: &Outgoing,
        outcome: &Delivered,
    ) -> store::Result<()> {
        let platform = self.transport.platform();
        let now = self.app.now();
        match outcome {
            Ok(post) => {
                crate::telemetry::outbox_sent(platform);
                // A story's post is remembered with its row's outcome: a post marked sent is
                // a post its story's later counts reach.
                if let Some((story, message)) = post {
                    crate::features::community::stories::remember_post(
                        conn,
                        platform,
                        &row.target,
                        message,
                        *story,
                    )
                    .await?;
                }
                rows::mark_sent(conn, row.id, &self.owner, now).await
            }
            Err(DeliveryError::RetryAfter(wait)) => {
                crate::telemetry::outbox_rate_limited(platform, *wait);
                let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
                tracing::info!(platform, target = %row.target, wait_ms, "rate limited; waiting as told");
                let error = format!("429: retry after {wait_ms} ms");
                let next = now.saturating_add(wait_ms);
                rows::retry_later(conn, row.id, &self.owner, next, &error, false).await
            }
            Err(DeliveryError::Transient(e)) if !self.settled(row, outcome) => {
                let wait_ms = backoff_ms(row.attempts);
                tracing::warn!(platform, target = %row.target, attempt = row.attempts, wait_ms, error = %e, "delivery failed; will retry");
                let next = now.saturating_add(wait_ms);
                rows::retry_later(conn, row.id, &self.owner, next, e, true).await
            }
            Err(DeliveryError::Gone(e)) => {
                // Someone deleted the message: the row ends here, and a story forgets the post
                // so later counts do not try it again.
                tracing::info!(platform, target = %row.target, error = %e, "message to edit is gone");
                crate::telemetry::outbox_failed(platform);
                if let Some(message) = &row.edit_message_id {
                    crate::features::community::stories::forget_post(
                        conn,
                        platform,
                        &row.target,
                        message,
                    )
                    .await?;
                }
                let reason = DeliveryError::Gone(e.clone()).to_string();
                rows::mark_failed(conn, row.id, &self.owner, &reason, now).await
            }
            Err(e) => {
                tracing::warn!(platform, target = %row.target, attempts = row.attempts, error = %e, "message not delivered");
                crate::telemetry::outbox_failed(platform);
                if let (DeliveryError::Refused(_), Some(member)) = (e, row.member_id) {
                    rows::mark_unreachable(conn, member, now).await?;
                }
                let reason = e.to_string();
                store::inbox::record_delivery_failure(conn, platform, &row.target, &reason, now)
                    .await?;
                rows::mark_failed(conn, row.id, &self.owner, &reason, now).await
            }
        }
    }
}

/// Exponential back-off with full jitter: up to 1 s, 2 s, 4 s … capped at 5 minutes.
fn backoff_ms(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let ceiling = 1_000_i64.saturating_mul(1_i64 << exponent).min(300_000);
    rand::rng().random_range(ceiling / 2..=ceiling)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempts in 1..30 {
            let wait = backoff_ms(attempts);
            let ceiling = (1_000_i64 << (attempts.clamp(1, 20) - 1)).min(300_000);
            assert!(wait >= ceiling / 2 && wait <= ceiling, "{attempts}: {wait}");
        }
    }

    #[test]
    fn members_are_reached_in_private_on_their_platform() {
        assert_eq!(
            member_target(Platform::Telegram, "42"),
            Some(("telegram", "42".to_string()))
        );
        assert_eq!(
            member_target(Platform::Discord, "7"),
            Some(("discord", "dm:7".to_string()))
        );
        assert_eq!(member_target(Platform::Console, "wang"), None);
    }
}
