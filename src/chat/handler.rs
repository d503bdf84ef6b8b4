//! Incoming → Command → App → Replies: permissions, privacy and idempotency for every platform.
//!
//! Adapters build an [`Incoming`], call [`App::handle`], and render the [`Outcome`]. Nothing
//! here knows which platform it serves beyond the [`Platform`] tag.

use super::command::{self, Command, ParseError, Parsed};
use super::registry::{self, Audience};
use super::reply::{Destination, Msg, Reply};
use crate::app::App;
use crate::config::Locale;
use crate::engine::amount::AmountError;
use crate::engine::ids::PartnerId;
use crate::engine::partner::{Member, Platform};
use crate::engine::sale::SaleAction;
use crate::features::alerts::chat as alerts;
use crate::features::audit::chat as audit_log;
use crate::features::broadcasts::chat as broadcasts;
use crate::features::community::chat as community;
use crate::features::contests::chat as contests;
use crate::features::deals::chat as deals;
use crate::features::funds::chat as funds;
use crate::features::membership::chat as membership;
use crate::features::ranking::chat as ranking;
use crate::features::sales::chat as sales_chat;
use crate::features::scorecard::chat as scorecard;
use crate::features::statements::chat as statements;
use crate::features::training::chat as training;
use crate::i18n::I18n;
use crate::store::handled::{self, MessageKey};
use crate::store::{self, StoreError, members};

/// One message from any platform, already stripped of platform details.
#[derive(Clone, Debug)]
pub struct Incoming {
    pub platform: Platform,
    pub chat_id: String,
    /// A one-to-one chat with the bot (money may be shown here).
    pub private_chat: bool,
    pub sender_id: String,
    pub sender_name: String,
    pub message_id: String,
    pub text: String,
    /// The platform's idea of the sender's language (`zh-hans`, `en-US`), if any.
    pub locale: Option<String>,
    /// Platform file references sent with the message (a photo captioned `/report …`).
    pub attachments: Vec<String>,
    // --- community: kudos (issue 11) ---
    /// The sender's Telegram `@username` (without `@`), remembered so `/kudos @name` finds them.
    pub username: Option<String>,
    /// The platform user id of the author of the message this one replies to (`/kudos` as a
    /// reply thanks that author).
    pub reply_to: Option<String>,
    // --- community: stories (issue 11) ---
    /// The platform message whose button was pressed, when this is a press (a story's post:
    /// its counts are shown on it at once; the story's other posts are edited by the outbox).
    pub pressed_message: Option<String>,
}

/// The handler's answer: replies plus the locale to render replies to the sender in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub locale: Locale,
    pub replies: Vec<Reply>,
}

/// A question for the argument a button's command lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgumentPrompt {
    /// The command to complete, as the button carried it (`/reject 12`).
    pub command: String,
    /// The argument's name in the member's language (`reason`).
    pub param_label: String,
    /// The whole question; its last line is the command.
    pub question: String,
}

/// Why a command did not succeed.
pub(crate) enum Failure {
    /// The member's mistake: shown to them, nothing changed.
    User(Msg),
    /// Ours: logged with a reference the member sees.
    Internal(anyhow::Error),
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        Failure::Internal(e.into())
    }
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Failure {
        Failure::Internal(e.into())
    }
}

pub(crate) type Handled<T = Vec<Reply>> = Result<T, Failure>;

pub(crate) fn user(msg: Msg) -> Failure {
    Failure::User(msg)
}

/// The localized sentence for a grammar error; usage lines are rendered in `locale`.
pub fn parse_error_msg(i18n: &I18n, locale: Locale, error: &ParseError) -> Msg {
    match error {
        ParseError::TooLong => {
            Msg::new("error-too-long").int("max", command::MAX_TEXT_CHARS as i64)
        }
        ParseError::UnknownCommand(name) => Msg::new("error-unknown-command").text("command", name),
        ParseError::Usage(name) => {
            let usage = registry::find(name)
                .map(|spec| spec.usage(i18n, locale))
                .unwrap_or_else(|| format!("/{name}"));
            Msg::new("error-usage")
                .text("command", *name)
                .text("usage", usage)
        }
        ParseError::Amount(e) => amount_error_msg(e),
        ParseError::BadSaleId(text) => Msg::new("error-bad-sale-id").text("text", text),
        ParseError::BadNumber(text) => Msg::new("error-bad-number").text("text", text),
        ParseError::NameTooLong => Msg::new("error-name-too-long")
            .int("max", crate::engine::partner::MAX_NAME_CHARS as i64),
        ParseError::UnclosedQuote => Msg::new("error-unclosed-quote"),
        ParseError::UnknownFilter(key) => Msg::new("error-unknown-filter").text("key", key),
        ParseError::BadFilter { key, value } => Msg::new("error-bad-filter")
            .text("key", key)
            .text("value", value),
        ParseError::BadWhen(text) => Msg::new("error-bad-when").text("text", text),
    }
}

pub(crate) fn amount_error_msg(e: &AmountError) -> Msg {
    let msg = Msg::new(e.key());
    match e {
        AmountError::TooPrecise { max_decimals } => msg.int("max", i64::from(*max_decimals)),
        AmountError::ConflictingCurrency { first, second } => msg
            .text("first", first.code())
            .text("second", second.code()),
        AmountError::UnknownCurrency { code } => msg.text("code", code),
        AmountError::Invalid { token } => msg.text("token", token),
        _ => msg,
    }
}

/// The message's key: its answer is stored under it, and a report's sale is keyed by it.
pub(crate) fn message_key(incoming: &Incoming) -> MessageKey {
    MessageKey {
        platform: incoming.platform,
        chat_id: incoming.chat_id.clone(),
        message_id: incoming.message_id.clone(),
    }
}

/// Who is asking, resolved once per message.
pub(crate) struct Ctx<'a> {
    pub(crate) incoming: &'a Incoming,
    pub(crate) member: Member,
    pub(crate) locale: Locale,
    pub(crate) now: i64,
}

impl Ctx<'_> {
    pub(crate) fn key(&self) -> MessageKey {
        message_key(self.incoming)
    }

    /// The partner this member reports for, or why they cannot.
    pub(crate) fn partner(&self) -> Handled<PartnerId> {
        match (self.member.role, self.member.partner_id) {
            (None, _) => Err(user(Msg::new("error-not-registered"))),
            (Some(_), Some(p)) => Ok(p),
            (Some(_), None) => Err(user(Msg::new("error-no-partner"))),
        }
    }

    pub(crate) fn require_manager(&self) -> Handled<()> {
        match self.member.role {
            Some(r) if r.is_manager() => Ok(()),
            None => Err(user(Msg::new("error-not-registered"))),
            Some(_) => Err(user(Msg::new("error-forbidden"))),
        }
    }

    pub(crate) fn require_member(&self) -> Handled<()> {
        match self.member.role {
            Some(_) => Ok(()),
            None => Err(user(Msg::new("error-not-registered"))),
        }
    }
}

impl App {
    /// Handles one message. Never fails: every problem becomes a reply.
    ///
    /// A state-changing command runs in one write transaction on one connection — member
    /// lookup, the redelivery check, the change, its audit entry and the stored answer — and
    /// commits only if it succeeded; a user mistake rolls back and stores nothing.
    pub async fn handle(&self, incoming: &Incoming) -> Outcome {
        let started = std::time::Instant::now();
        crate::telemetry::update_received(incoming.platform.as_str());
        let (command, outcome, handled) = self.handle_measured(incoming).await;
        // After handling, so a first command has created the member the username belongs to.
        if let Some(username) = &incoming.username {
            crate::features::community::kudos::remember_username(
                self,
                incoming.platform,
                &incoming.sender_id,
                username,
            )
            .await;
        }
        if let Some(command) = command {
            crate::telemetry::command(command, outcome, started.elapsed());
        }
        handled
    }

    /// The language to answer `incoming` in before its member is known: the platform's idea of
    /// the sender's, else the program's default.
    pub(crate) fn fallback_locale(&self, incoming: &Incoming) -> Locale {
        incoming
            .locale
            .as_deref()
            .map(Locale::from_platform_code)
            .unwrap_or(self.config.program.default_locale)
    }

    /// [`App::handle`], also saying which command ran (`None`: not a command) and how it ended
    /// (`ok`, `refused`, `error`, `unparsed`), for the metrics.
    pub(crate) async fn handle_measured(
        &self,
        incoming: &Incoming,
    ) -> (Option<&'static str>, &'static str, Outcome) {
        let fallback = self.fallback_locale(incoming);
        let parsed = command::parse_message(&incoming.text, self.bot_username.as_deref());
        let (writes, command) = match &parsed {
            Ok(None) => {
                let outcome = Outcome {
                    locale: fallback,
                    replies: Vec::new(),
                };
                return (None, "ok", outcome);
            }
            Ok(Some(parsed)) => (parsed.writes(), parsed.spec.name),
            Err(_) => (false, "unknown"),
        };
        let unparsed = parsed.is_err();
        let members = &mut MemberCache::new();
        let (locale, result) = if writes {
            match self.store.begin().await {
                Ok(mut tx) => {
                    let (locale, result) = self
                        .dispatch(&mut tx, incoming, parsed, fallback, members)
                        .await;
                    let result = match result {
                        Ok(replies) => tx.commit().await.map(|()| replies).map_err(Failure::from),
                        Err(e) => Err(e),
                    };
                    (locale, result)
                }
                Err(e) => (fallback, Err(e.into())),
            }
        } else {
            match self.store.read().await {
                Ok(mut conn) => {
                    self.dispatch(&mut conn, incoming, parsed, fallback, members)
                        .await
                }
                Err(e) => (fallback, Err(e.into())),
            }
        };
        let (outcome, handled) = conclude(incoming, unparsed, locale, result);
        (Some(command), outcome, handled)
    }

    /// For a pressed button whose command lacks an argument (Reject's reason): what to ask, in
    /// the member's language. `None`: run the command as it is.
    pub async fn prompt_for_missing_argument(&self, incoming: &Incoming) -> Option<ArgumentPrompt> {
        let (_, param) = registry::missing_argument(&incoming.text)?;
        let fallback = self.fallback_locale(incoming);
        let locale = match self.store.read().await {
            Ok(mut conn) => members::find(&mut conn, incoming.platform, &incoming.sender_id)
                .await
                .ok()
                .flatten()
                .and_then(|m| m.locale)
                .as_deref()
                .and_then(Locale::from_tag)
                .unwrap_or(fallback),
            Err(_) => fallback,
        };
        let param_label = self
            .i18n
            .render(locale, &Msg::new(&format!("param-{}", param.name)));
        let command = incoming.text.trim().to_string();
        let question = self.i18n.render(
            locale,
            &Msg::new("ask-argument")
                .text("param", &param_label)
                .text("command", &command),
        );
        Some(ArgumentPrompt {
            command,
            param_label,
            question,
        })
    }

    /// Resolves the member and their locale on `conn` (or takes them from `members`, the
    /// members already resolved in this transaction), then runs the command there.
    pub(crate) async fn dispatch(
        &self,
        conn: &mut store::Conn,
        incoming: &Incoming,
        parsed: Result<Option<Parsed>, ParseError>,
        fallback: Locale,
        members: &mut MemberCache,
    ) -> (Locale, Handled) {
        let sender = (incoming.platform, incoming.sender_id.clone());
        let member = match members.get(&sender) {
            Some(member) => member.clone(),
            None => match crate::features::membership::members::resolve(
                self,
                conn,
                incoming.platform,
                &incoming.sender_id,
                &incoming.sender_name,
            )
            .await
            {
                Ok(m) => {
                    members.insert(sender, m.clone());
                    m
                }
                Err(e) => return (fallback, Err(e.into())),
            },
        };
        let locale = member
            .locale
            .as_deref()
            .and_then(Locale::from_tag)
            .unwrap_or(fallback);
        let parsed = match parsed {
            Ok(Some(parsed)) => parsed,
            Ok(None) => return (locale, Ok(Vec::new())),
            Err(e) => {
                let msg = parse_error_msg(&self.i18n, locale, &e);
                return (locale, Ok(vec![Reply::here(msg)]));
            }
        };
        let mut ctx = Ctx {
            incoming,
            member,
            locale,
            now: self.now(),
        };
        let result = self.run(&mut ctx, conn, parsed).await;
        (ctx.locale, result)
    }

    /// Runs a command. A state-changing one runs at most once per message: a redelivery gets
    /// the stored answer. Reports need no lookup for that: the sale's unique idempotency key
    /// detects the redelivery in the insert itself, and the answer is rebuilt from the stored
    /// sale (see [`App::report`]).
    async fn run(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn, parsed: Parsed) -> Handled {
        // Roles first, from the registry, so nobody learns more than "not for you" about a
        // command above their role; each handler still checks what it needs (e.g. a partner).
        match parsed.spec.audience {
            Audience::Manager => ctx.require_manager()?,
            Audience::Partner => ctx.require_member()?,
            Audience::Everyone => {}
        }
        let remember = parsed.writes() && !matches!(parsed.command, Command::Report(_));
        let command = parsed.command;
        if remember && let Some(stored) = handled::find(&mut *conn, &ctx.key()).await? {
            return serde_json::from_str(&stored).map_err(|e| Failure::Internal(e.into()));
        }
        let replies = self.execute(ctx, conn, command).await?;
        let replies = self.send_notices_through_outbox(ctx, conn, replies).await?;
        if remember {
            let json = serde_json::to_string(&replies).map_err(|e| Failure::Internal(e.into()))?;
            handled::record(&mut *conn, &ctx.key(), Some(ctx.member.id), &json, ctx.now).await?;
        }
        Ok(replies)
    }

    /// Notices for other members go into the outbox on `conn`, in the command's transaction,
    /// keyed by the message so a redelivery adds nothing; the rest is answered here. (Console
    /// members see their notices inline.)
    async fn send_notices_through_outbox(
        &self,
        ctx: &Ctx<'_>,
        conn: &mut store::Conn,
        replies: Vec<Reply>,
    ) -> Handled {
        let mut answer = Vec::with_capacity(replies.len());
        for (index, reply) in replies.into_iter().enumerate() {
            let Destination::Member(member) = reply.to else {
                answer.push(reply);
                continue;
            };
            let key = ctx.key();
            let dedupe = format!(
                "notice:{}:{}:{}:{index}",
                key.platform.as_str(),
                key.chat_id,
                key.message_id
            );
            if let Some(inline) =
                crate::outbox::enqueue_notice(self, conn, member, reply, dedupe, ctx.now).await?
            {
                answer.push(inline);
            }
        }
        Ok(answer)
    }

    async fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        command: Command,
    ) -> Handled {
        match command {
            Command::Help => Ok(vec![membership::help(self, ctx)]),
            Command::Start { code: None } => Ok(vec![membership::welcome(self, ctx)]),
            Command::Start { code: Some(code) } | Command::Link { code: Some(code) } => {
                membership::redeem(ctx, conn, &code).await
            }
            Command::Link { code: None } => membership::link_code(self, ctx, conn).await,
            Command::Lang { locale } => membership::lang(ctx, conn, locale.as_deref()).await,
            Command::Trainings => training::list(self, ctx, conn).await,
            Command::Enroll { training: name } => training::enroll(self, ctx, conn, &name).await,
            Command::LeaveTraining { training: name } => {
                training::leave(self, ctx, conn, &name).await
            }
            Command::CheckIn { code } => training::check_in(self, ctx, conn, &code).await,
            Command::Rate {
                training: name,
                stars,
                comment,
            } => training::rate(ctx, conn, &name, stars, comment.as_deref()).await,
            Command::Quiz {
                training: name,
                question,
                choice,
            } => training::quiz(self, ctx, conn, &name, question, choice).await,
            Command::TrainingReport { training: name } => training::report(self, ctx, &name).await,
            Command::Mute { what } => alerts::set_muted(ctx, conn, &what, true).await,
            Command::Unmute { what } => alerts::set_muted(ctx, conn, &what, false).await,
            Command::Notify { platform } => {
                membership::notify(ctx, conn, platform.as_deref()).await
            }
            Command::Report(args) => sales_chat::report(self, ctx, conn, args).await,
            Command::Sales => sales_chat::sales(self, ctx, conn).await,
            Command::Cancel { sale } => {
                sales_chat::decide(self, ctx, conn, sale, SaleAction::Cancel, None).await
            }
            Command::Rank => ranking::rank(self, ctx, conn).await,
            Command::Me => scorecard::me(self, ctx, conn).await,
            Command::Invite(args) => membership::invite(self, ctx, conn, args).await,
            Command::Pending => sales_chat::pending(self, ctx, conn).await,
            Command::Approve { sale } => {
                sales_chat::decide(self, ctx, conn, sale, SaleAction::Approve, None).await
            }
            Command::Reject { sale, reason } => {
                sales_chat::decide(self, ctx, conn, sale, SaleAction::Reject, Some(reason)).await
            }
            Command::Audit => audit_log::audit(self, ctx, conn).await,
            Command::Statement { period } => {
                statements::statement(self, ctx, conn, period.as_deref()).await
            }
            Command::Why { line, period } => {
                statements::why(self, ctx, conn, line, period.as_deref()).await
            }
            Command::WhatIf { amount, category } => {
                statements::what_if(self, ctx, conn, amount, category).await
            }
            Command::Feedback {
                partner,
                score,
                comment,
            } => scorecard::feedback(ctx, conn, &partner, score, comment).await,
            Command::Adjust {
                partner,
                amount,
                negative,
                reason,
            } => statements::adjust(self, ctx, conn, &partner, amount, negative, &reason).await,
            Command::Dispute { line, reason } => {
                statements::dispute(self, ctx, conn, line, &reason).await
            }
            Command::Answer { dispute, text } => {
                statements::answer(ctx, conn, dispute, &text).await
            }
            Command::Allocate { budget } => funds::allocate(self, ctx, conn, budget).await,
            Command::Funds => funds::funds(self, ctx, conn).await,
            Command::BindChat { region } => broadcasts::bind(ctx, conn, region).await,
            Command::UnbindChat => broadcasts::unbind(ctx, conn).await,
            Command::Announce(args) => broadcasts::announce(self, ctx, conn, args).await,
            Command::Schedule { when, args } => {
                broadcasts::schedule(self, ctx, conn, when, args).await
            }
            Command::Scheduled => broadcasts::scheduled(self, ctx, conn).await,
            Command::Unschedule { id } => broadcasts::unschedule(ctx, conn, id).await,
            Command::Broadcasts => broadcasts::recent(self, ctx, conn).await,
            Command::RankContest { contest } => contests::rank(self, ctx, conn, &contest).await,
            Command::Contests { past } => contests::contests(self, ctx, conn, past).await,
            // --- community: deals ---
            Command::Deal {
                customer,
                expected,
                note,
            } => deals::register(self, ctx, conn, &customer, expected, note.as_deref()).await,
            Command::Deals => deals::list(self, ctx, conn).await,
            Command::Conflicts => deals::conflicts(self, ctx, conn).await,
            Command::Resolve { conflict, decision } => {
                deals::resolve(self, ctx, conn, conflict, &decision).await
            }
            // --- community: points, kudos (issue 11) ---
            Command::RankPoints => community::rank_points(ctx, conn).await,
            Command::Kudos { first, reason } => {
                community::kudos(self, ctx, conn, first, reason).await
            }
            Command::Story => community::story(self, ctx, conn).await,
            Command::Stories => community::list_stories(self, ctx, conn).await,
            Command::React { story, kind } => community::react(self, ctx, conn, story, &kind).await,
            Command::FeatureStory { story } => community::feature(self, ctx, conn, story).await,
            Command::HideStory { story } => community::hide(ctx, conn, story).await,
        }
    }
}

/// Members resolved in the current transaction, by platform and account: messages handled
/// together ([`App::handle_batch`]) look their sender up once.
pub(crate) type MemberCache = std::collections::HashMap<(Platform, String), Member>;

/// The outcome of a dispatched command, and how it ended for the metrics (`ok`, `refused`,
/// `error`, `unparsed`).
pub(crate) fn conclude(
    incoming: &Incoming,
    unparsed: bool,
    locale: Locale,
    result: Handled,
) -> (&'static str, Outcome) {
    let (mut replies, outcome) = match result {
        Ok(replies) if unparsed => (replies, "unparsed"),
        Ok(replies) => (replies, "ok"),
        Err(Failure::User(msg)) => (vec![Reply::here(msg)], "refused"),
        Err(Failure::Internal(e)) => return ("error", internal_error(locale, e)),
    };
    if !incoming.private_chat && replies.iter().any(|r| r.to == Destination::Sender) {
        replies.push(Reply::here(Msg::new("sent-privately")));
    }
    (outcome, Outcome { locale, replies })
}

pub(crate) fn internal_error(locale: Locale, error: anyhow::Error) -> Outcome {
    let reference: String = {
        use rand::Rng;
        let n: u32 = rand::rng().random();
        format!("{n:08x}")
    };
    tracing::error!(reference = %reference, error = %format!("{error:#}"), "command failed");
    Outcome {
        locale,
        replies: vec![Reply::here(
            Msg::new("error-internal").text("reference", reference),
        )],
    }
}
