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

use std::collections::{HashMap, HashSet};
use std::time::Instant;

use super::command::{self, Command, Parsed};
use super::handler::{self, Ctx, Incoming, MemberCache, Outcome};
use crate::app::App;
use crate::config::Locale;
use crate::engine::customer::customer_key;
use crate::engine::ids::{PartnerId, PersonId};
use crate::engine::partner::{Member, Person, Platform, Role};
use crate::engine::sale::{SaleStatus, totals_change};
use crate::features::community::points;
use crate::features::deals::service as deals;
use crate::features::sales::chat as sales_chat;
use crate::features::sales::ledger;
use crate::store::group::{self, GroupQueue, Savepoints};
use crate::store::sales::NewSale;
use crate::store::totals::{self, PeriodTotals};
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

/// A message's outcome in a batch: the command that ran (`None`: not a command), how it ended
/// for the metrics, and the outcome.
type Done = (Option<&'static str>, &'static str, Outcome);

/// A `/report` that takes the bulk path, checked before the batch writes anything
/// ([`App::plan_bulk`]).
struct Ready {
    member: Member,
    locale: Locale,
    new: NewSale,
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

    /// The batch's transaction. `Err`: it could not begin or commit (nothing of it is stored).
    async fn try_batch(
        &self,
        messages: &[Incoming],
        inbox: Option<InboxMarks<'_>>,
    ) -> store::Result<Vec<Done>> {
        points::deferring(self.try_batch_deferring(messages, inbox)).await
    }

    /// [`App::try_batch`] inside [`points::deferring`]: the points and sales badges of the
    /// sales the batch approves are booked once, before its commit.
    async fn try_batch_deferring(
        &self,
        messages: &[Incoming],
        inbox: Option<InboxMarks<'_>>,
    ) -> store::Result<Vec<Done>> {
        let mut tx = self.store.begin().await?;
        let mut members = MemberCache::new();
        let mut savepoints = Savepoints::default();
        let mut plans = self.plan_bulk(&mut tx, messages, &mut members).await?;
        let mut done: Vec<Option<Done>> = (0..messages.len()).map(|_| None).collect();
        let mut next = 0;
        while next < messages.len() {
            // A run of reports checked beforehand is stored with multi-row statements; the
            // messages between runs, and a run's reports whose sale was stored before, one by
            // one in savepoints, in order.
            let mut run = Vec::new();
            while let Some(ready) = plans.get_mut(next).and_then(Option::take) {
                run.push((next, ready));
                next += 1;
            }
            let alone: Vec<usize> = if run.is_empty() {
                next += 1;
                vec![next - 1]
            } else {
                // The run in a savepoint of its own: if it fails (a database error in one of
                // its sales), it is undone and its reports are handled one by one.
                let indexes: Vec<usize> = run.iter().map(|(index, _)| *index).collect();
                savepoints.set(&mut tx).await?;
                let deferred = points::deferred_count().unwrap_or(0);
                match self.record_ready(&mut tx, messages, run, &mut done).await {
                    Ok(alone) => {
                        savepoints.keep();
                        alone
                    }
                    Err(e) => {
                        tracing::warn!(
                            error = %e,
                            reports = indexes.len(),
                            "a run of reports failed in its bulk insert; handling them one by one"
                        );
                        savepoints.undo(&mut tx).await?;
                        points::forget_deferred_after(deferred);
                        for index in &indexes {
                            done[*index] = None;
                        }
                        indexes
                    }
                }
            };
            for index in alone {
                let handled = self
                    .handle_in_savepoint(&mut tx, &mut savepoints, &messages[index], &mut members)
                    .await?;
                done[index] = Some(handled);
            }
        }
        // If this fails the whole batch does, and its messages are handled one by one.
        points::book_deferred(self, &mut tx, self.now()).await?;
        if let Some(marks) = inbox {
            inbox::mark_processed_many(&mut tx, marks.platform, marks.update_ids, self.now())
                .await?;
        }
        tx.commit().await?;
        done.into_iter()
            .map(|d| {
                d.ok_or_else(|| store::StoreError::Corrupt("batch message left unhandled".into()))
            })
            .collect()
    }

    /// One message of the batch as [`App::handle`] would handle it, inside a savepoint of the
    /// batch's transaction: if it fails, only it is undone.
    async fn handle_in_savepoint(
        &self,
        tx: &mut store::Conn,
        savepoints: &mut Savepoints,
        incoming: &Incoming,
        members: &mut MemberCache,
    ) -> store::Result<Done> {
        let fallback = self.fallback_locale(incoming);
        let parsed = command::parse_message(&incoming.text, self.bot_username.as_deref());
        let command = match &parsed {
            Ok(None) => {
                let outcome = Outcome {
                    locale: fallback,
                    replies: Vec::new(),
                };
                return Ok((None, "ok", outcome));
            }
            Ok(Some(parsed)) => parsed.spec.name,
            Err(_) => "unknown",
        };
        let unparsed = parsed.is_err();
        savepoints.set(tx).await?;
        let deferred = points::deferred_count().unwrap_or(0);
        let (locale, result) = self.dispatch(tx, incoming, parsed, fallback, members).await;
        if result.is_err() {
            // Undo this message only; the savepoint stays set for the next one. What the
            // members cache learned in it may be undone too.
            savepoints.undo(tx).await?;
            members.clear();
            points::forget_deferred_after(deferred);
        } else {
            savepoints.keep();
        }
        let (outcome, handled) = handler::conclude(incoming, unparsed, locale, result);
        Ok((Some(command), outcome, handled))
    }

    /// Which messages take the bulk path: in a batch of `/report`s (and messages that are no
    /// command or do not parse, which change nothing), those whose sender is a member with a
    /// role and a partner, whose report is valid and not a repeat of an earlier message of
    /// the batch, on a customer no other partner's registration holds, and approved at once —
    /// everything [`sales_chat::report`] decides before it writes, here with one read of the
    /// senders and one of the customers' registrations for the whole batch. `None`: handled
    /// alone, in order (a user mistake, a sale waiting for a manager, a channel conflict, a
    /// repeat, a first message, or every message of a batch holding any other command), with
    /// exactly [`App::handle`]'s outcome. A redelivery of a report stored by an earlier batch
    /// is found by the run's insert and answered after its run ([`App::record_ready`]): the
    /// same answer, except that a private chat's period total then includes the run's later
    /// reports. (Looking the keys up first cost a statement whose plan PostgreSQL could turn
    /// into a scan of `sales` while the table grows faster than it is analyzed: 70 ms a batch
    /// in the burst bench.)
    async fn plan_bulk(
        &self,
        conn: &mut store::Conn,
        messages: &[Incoming],
        members: &mut MemberCache,
    ) -> store::Result<Vec<Option<Ready>>> {
        let mut plans: Vec<Option<Ready>> = (0..messages.len()).map(|_| None).collect();
        let mut reports = Vec::with_capacity(messages.len());
        for incoming in messages {
            match command::parse_message(&incoming.text, self.bot_username.as_deref()) {
                Ok(Some(Parsed {
                    command: Command::Report(args),
                    ..
                })) => reports.push(Some(args)),
                Ok(None) | Err(_) => reports.push(None),
                // Another command could change what the reports were checked against.
                Ok(Some(_)) => return Ok(plans),
            }
        }
        self.resolve_senders(conn, messages, members).await?;
        let keys: Vec<String> = messages
            .iter()
            .map(|incoming| handler::message_key(incoming).idempotency_key())
            .collect();
        let customers: Vec<&str> = reports
            .iter()
            .flatten()
            .map(|r| r.customer.as_str())
            .collect();
        let now = self.now();
        let holders = deals::holders(conn, &customers, now).await?;
        let mut seen = HashSet::with_capacity(messages.len());
        for (((incoming, args), key), plan) in messages
            .iter()
            .zip(reports)
            .zip(&keys)
            .zip(plans.iter_mut())
        {
            // A repeated key is a redelivery of an earlier message of the batch.
            let first = seen.insert(key.as_str());
            let Some(args) = args else {
                continue;
            };
            if !first {
                continue;
            }
            let Some(member) = members.get(&(incoming.platform, incoming.sender_id.clone())) else {
                continue;
            };
            let (Some(_), Some(partner)) = (member.role, member.partner_id) else {
                continue;
            };
            let held = holders
                .get(&customer_key(&args.customer))
                .is_some_and(|holder| *holder != partner);
            if held {
                continue;
            }
            let locale = member
                .locale
                .as_deref()
                .and_then(Locale::from_tag)
                .unwrap_or_else(|| self.fallback_locale(incoming));
            let ctx = Ctx {
                incoming,
                member: member.clone(),
                locale,
                now,
            };
            match sales_chat::new_sale(self, &ctx, &args, false) {
                Ok(new) if new.status == SaleStatus::Approved => {
                    *plan = Some(Ready {
                        member: ctx.member,
                        locale,
                        new,
                    })
                }
                _ => {}
            }
        }
        Ok(plans)
    }

    /// Looks the batch's senders up at once (one statement per platform) and puts those
    /// [`membership::members::resolve`] would return unchanged into `members`; then notes, in
    /// the messages' order, on which platform each person last spoke, as `resolve` does. A
    /// first message, or a configured admin whose role is not stored yet, is left to
    /// `resolve` in the message's own savepoint.
    async fn resolve_senders(
        &self,
        conn: &mut store::Conn,
        messages: &[Incoming],
        members: &mut MemberCache,
    ) -> store::Result<()> {
        let mut by_platform: HashMap<Platform, Vec<&str>> = HashMap::new();
        for incoming in messages {
            if !members.contains_key(&(incoming.platform, incoming.sender_id.clone())) {
                by_platform
                    .entry(incoming.platform)
                    .or_default()
                    .push(incoming.sender_id.as_str());
            }
        }
        for (platform, mut senders) in by_platform {
            senders.sort_unstable();
            senders.dedup();
            for member in store::members::find_many(conn, platform, &senders).await? {
                let admin = self.is_configured_admin(platform, &member.platform_user_id);
                if admin && member.role != Some(Role::Admin) {
                    continue;
                }
                members.insert((platform, member.platform_user_id.clone()), member);
            }
        }
        // Where each person spoke last, as handling the messages in order would leave it.
        let mut last: HashMap<PersonId, Option<Platform>> = HashMap::new();
        for incoming in messages {
            let Some(member) = members.get(&(incoming.platform, incoming.sender_id.clone())) else {
                continue;
            };
            let Some(person) = &member.person else {
                continue;
            };
            let noted = last.entry(person.id).or_insert(person.last_platform);
            if *noted != Some(incoming.platform) {
                let as_noted = Person {
                    last_platform: *noted,
                    ..person.clone()
                };
                store::members::note_spoke(conn, &as_noted, incoming.platform).await?;
                *noted = Some(incoming.platform);
            }
        }
        Ok(())
    }

    /// Stores a run of checked reports with the ledger's multi-row statements
    /// ([`ledger::record_sales`]) and answers each as [`sales_chat::report`] would, with the
    /// period total as it stood after that report (in a private chat). A report whose sale
    /// was stored before (a redelivery) is answered from the stored sale when that is
    /// approved; the others are returned, to be handled alone.
    async fn record_ready(
        &self,
        conn: &mut store::Conn,
        messages: &[Incoming],
        run: Vec<(usize, Ready)>,
        done: &mut [Option<Done>],
    ) -> store::Result<Vec<usize>> {
        let now = self.now();
        let news: Vec<NewSale> = run.iter().map(|(_, ready)| ready.new.clone()).collect();
        let ids = ledger::record_sales(self, conn, &news, now).await?;
        // The totals after the run, for the partners answered in a private chat; walking the
        // run backwards gives the total after each of its sales.
        let mut after: HashMap<(String, PartnerId), PeriodTotals> = HashMap::new();
        for ((index, ready), id) in run.iter().zip(&ids) {
            let key = (ready.new.period.clone(), ready.new.partner_id);
            if id.is_some() && messages[*index].private_chat && !after.contains_key(&key) {
                let totals = totals::get(conn, &key.0, key.1).await?;
                after.insert(key, totals);
            }
        }
        let mut alone = Vec::new();
        for ((index, ready), id) in run.into_iter().zip(ids).rev() {
            let (sale, totals_now) = match id {
                Some(id) => {
                    let sale = ready.new.stored_as(id);
                    let key = (sale.period.clone(), sale.partner_id);
                    let totals_now = match after.get_mut(&key) {
                        Some(totals) => {
                            let shown = *totals;
                            let change =
                                totals_change(None, sale.status, ledger::program_minor(&sale)?);
                            *totals = totals.without(change);
                            Some(shown)
                        }
                        None => None,
                    };
                    (sale, totals_now)
                }
                // Stored before (a redelivery): an approved sale is answered from the stored
                // one, as `report` answers it; anything else is handled alone.
                None => match store::sales::by_key(
                    conn,
                    ready.new.source,
                    &ready.new.idempotency_key,
                    self.config.program.currency,
                )
                .await?
                {
                    Some(sale) if sale.status == SaleStatus::Approved => (sale, None),
                    _ => {
                        alone.push(index);
                        continue;
                    }
                },
            };
            let incoming = &messages[index];
            let ctx = Ctx {
                incoming,
                member: ready.member,
                locale: ready.locale,
                now,
            };
            let result = sales_chat::report_reply(self, &ctx, &sale, totals_now, conn)
                .await
                .map(|reply| vec![reply]);
            let (outcome, handled) = handler::conclude(incoming, false, ctx.locale, result);
            done[index] = Some((Some("report"), outcome, handled));
        }
        alone.reverse();
        Ok(alone)
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
