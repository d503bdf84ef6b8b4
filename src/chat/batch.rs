//! Group commit: `/report`s that arrive together are handled in one write transaction.
//!
//! A burst (a `getUpdates` batch, Discord interactions arriving close together) would otherwise
//! pay one durable commit per report. [`App::handle_batch`] runs each message exactly as
//! [`App::handle`] does — member, role and partner checks, the sale with its idempotency key,
//! the period totals, the notices for managers in the outbox — but on one transaction, each
//! message inside a savepoint of its own: a message that fails (a user mistake or a database
//! error) is rolled back to its savepoint and answered as alone, and the others commit. An
//! optional inbox mark commits in the same transaction. Answers are returned only after the
//! commit, so no answer ever tells of a sale that is not durable.
//!
//! [`App::handle_grouped`] is the same for callers that arrive concurrently, one message each
//! (Discord interactions): whoever finds no batch running leads one and takes every message
//! queued meanwhile; the others wait for their outcome. While one commit is in flight the next
//! batch gathers, so the commit rate follows the disk, not the message rate. The queue and the
//! savepoints are `store::group`'s, shared with the HTTP API's `POST /api/v1/sales`.
//!
//! The points and sales badges of the sales a batch approves are booked once, before its commit
//! (`points::deferring`, `points::book_deferred`: the import's multi-row statements), instead of
//! three to four statements inside each report; a message rolled back to its savepoint takes
//! its own back, and if booking fails the batch fails as a whole and its messages are handled
//! one by one.
//!
//! Only `/report` is grouped: it is the command of the bursts, it touches no in-memory state
//! before its commit, and its redelivery is detected by the sale's key. Everything else goes
//! through [`App::handle`].

use std::time::Instant;

use super::command::{self, Command};
use super::handler::{self, Incoming, MemberCache, Outcome};
use crate::app::App;
use crate::config::Locale;
use crate::features::community::points;
use crate::store::group::{self, GroupQueue, Savepoints};
use crate::store::{self, inbox};

/// The most messages one transaction takes ([`group::MAX_GROUP`]). Bounds the time a batch
/// holds SQLite's write lock (about 100 µs per report) and the work a database error sends
/// back to the single path.
pub const MAX_BATCH: usize = group::MAX_GROUP;

/// Inbox rows to mark processed in the batch's own transaction.
#[derive(Clone, Copy, Debug)]
pub struct InboxMarks<'a> {
    pub platform: &'a str,
    pub update_ids: &'a [i64],
}

/// The messages waiting for the running batch to finish ([`App::handle_grouped`]).
pub type ChatGroupQueue = GroupQueue<Incoming, Outcome>;

impl App {
    /// Whether `incoming` may share a transaction with other messages: a `/report` with
    /// arguments.
    pub fn groupable(&self, incoming: &Incoming) -> bool {
        matches!(
            command::parse_message(&incoming.text, self.bot_username.as_deref()),
            Ok(Some(parsed)) if parsed.writes() && matches!(parsed.command, Command::Report(_))
        )
    }

    /// Handles `messages` in order, in one write transaction (see the module docs), marking
    /// `inbox` processed in it; returns one outcome per message, after the commit. Messages that
    /// are not [`App::groupable`] are handled too (each as one message of the batch); callers
    /// keep them out when they must be handled alone. Never fails: if the transaction cannot
    /// commit, every message is handled again on its own ([`App::handle`]; reports are
    /// idempotent by their key) and the inbox rows are marked afterwards.
    pub async fn handle_batch(
        &self,
        messages: &[Incoming],
        inbox: Option<InboxMarks<'_>>,
    ) -> Vec<Outcome> {
        let started = Instant::now();
        for incoming in messages {
            crate::telemetry::update_received(incoming.platform.as_str());
        }
        crate::features::contests::service::prepare_before_group(self, "chat").await;
        match self.try_batch(messages, inbox).await {
            Ok(done) => done
                .into_iter()
                .map(|(command, outcome, handled)| {
                    if let Some(command) = command {
                        crate::telemetry::command(command, outcome, started.elapsed());
                    }
                    handled
                })
                .collect(),
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    messages = messages.len(),
                    "group commit failed; handling the messages one by one"
                );
                let mut outcomes = Vec::with_capacity(messages.len());
                for incoming in messages {
                    outcomes.push(self.handle_unmeasured(incoming).await);
                }
                if let Some(marks) = inbox {
                    let marked = match self.store.read().await {
                        Ok(mut conn) => {
                            inbox::mark_processed_many(
                                &mut conn,
                                marks.platform,
                                marks.update_ids,
                                self.now(),
                            )
                            .await
                        }
                        Err(e) => Err(e),
                    };
                    if let Err(e) = marked {
                        tracing::error!(error = %e, "cannot mark inbox updates processed");
                    }
                }
                outcomes
            }
        }
    }

    /// [`App::handle`] without counting the update as received again.
    async fn handle_unmeasured(&self, incoming: &Incoming) -> Outcome {
        let started = Instant::now();
        let (command, outcome, handled) = self.handle_measured(incoming).await;
        if let Some(command) = command {
            crate::telemetry::command(command, outcome, started.elapsed());
        }
        handled
    }

    /// This App's queue (created on first use).
    fn group_queue(&self) -> &ChatGroupQueue {
        self.group_queue
            .get_or_init(|| Box::new(ChatGroupQueue::new("chat")))
            .downcast_ref::<ChatGroupQueue>()
            .expect("App::group_queue holds only a ChatGroupQueue, set here")
    }

    fn fallback_locale(&self, incoming: &Incoming) -> Locale {
        incoming
            .locale
            .as_deref()
            .map(Locale::from_platform_code)
            .unwrap_or(self.config.program.default_locale)
    }

    /// The batch's transaction. `Err`: it could not begin or commit (nothing of it is stored).
    async fn try_batch(
        &self,
        messages: &[Incoming],
        inbox: Option<InboxMarks<'_>>,
    ) -> store::Result<Vec<(Option<&'static str>, &'static str, Outcome)>> {
        points::deferring(self.try_batch_deferring(messages, inbox)).await
    }

    /// [`App::try_batch`] inside [`points::deferring`]: the points and sales badges of the
    /// sales the batch approves are booked once, before its commit.
    async fn try_batch_deferring(
        &self,
        messages: &[Incoming],
        inbox: Option<InboxMarks<'_>>,
    ) -> store::Result<Vec<(Option<&'static str>, &'static str, Outcome)>> {
        let mut tx = self.store.begin().await?;
        let mut members = MemberCache::new();
        let mut done = Vec::with_capacity(messages.len());
        let mut savepoints = Savepoints::default();
        for incoming in messages {
            let fallback = self.fallback_locale(incoming);
            let parsed = command::parse_message(&incoming.text, self.bot_username.as_deref());
            let command = match &parsed {
                Ok(None) => {
                    let outcome = Outcome {
                        locale: fallback,
                        replies: Vec::new(),
                    };
                    done.push((None, "ok", outcome));
                    continue;
                }
                Ok(Some(parsed)) => parsed.spec.name,
                Err(_) => "unknown",
            };
            let unparsed = parsed.is_err();
            savepoints.set(&mut tx).await?;
            let deferred = points::deferred_count().unwrap_or(0);
            let (locale, result) = self
                .dispatch(&mut tx, incoming, parsed, fallback, &mut members)
                .await;
            if result.is_err() {
                // Undo this message only; the savepoint stays set for the next one. What the
                // members cache learned in it may be undone too.
                savepoints.undo(&mut tx).await?;
                members.clear();
                points::forget_deferred_after(deferred);
            } else {
                savepoints.keep();
            }
            let (outcome, handled) = handler::conclude(incoming, unparsed, locale, result);
            done.push((Some(command), outcome, handled));
        }
        // If this fails the whole batch does, and its messages are handled one by one.
        points::book_deferred(self, &mut tx, self.now()).await?;
        if let Some(marks) = inbox {
            inbox::mark_processed_many(&mut tx, marks.platform, marks.update_ids, self.now())
                .await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    /// Handles one message, grouping it with the others that arrive while a batch commits
    /// (see the module docs). For callers that each have one message (Discord interactions):
    /// the outcome comes back after the commit that holds it.
    pub async fn handle_grouped(&self, incoming: &Incoming) -> Outcome {
        if !self.groupable(incoming) {
            return self.handle(incoming).await;
        }
        let joined = self
            .group_queue()
            .join(incoming.clone(), async |messages: Vec<Incoming>| {
                self.handle_batch(&messages, None).await
            })
            .await;
        // `None`: the leader that took this message was dropped before answering; whatever it
        // did committed or not as a whole, and a report's key makes handling it again safe.
        match joined {
            Some(outcome) => outcome,
            None => self.handle(incoming).await,
        }
    }
}
