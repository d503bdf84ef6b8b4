//! Incoming → Command → App → Replies: permissions, privacy and idempotency for every platform.
//!
//! Adapters build an [`Incoming`], call [`App::handle`], and render the [`Outcome`]. Nothing
//! here knows which platform it serves beyond the [`Platform`] tag.

use serde_json::json;

use super::command::{self, Command, InviteArgs, ParseError, Parsed, ReportArgs};
use super::registry::{self, Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use super::reply::{Destination, Msg, Reply};
use crate::app::App;
use crate::config::Locale;
use crate::engine::amount::{self, AmountError};
use crate::engine::audit::AuditAction;
use crate::engine::ids::{PartnerId, SaleId};
use crate::engine::invite::{self as invite_rules, InviteError};
use crate::engine::money::Currency;
use crate::engine::money::Money;
use crate::engine::partner::{Member, PartnerKind, Platform, Role, name_key};
use crate::engine::sale::{self as sale_rules, Sale, SaleAction, SaleSource, SaleStatus};
use crate::i18n::I18n;
use crate::ledger;
use crate::scorecard::Scorecard;
use crate::store::handled::{self, MessageKey};
use crate::store::partners::NewPartner;
use crate::store::sales::{Inserted, NewSale};
use crate::store::totals;
use crate::store::{self, StoreError, audit, invites, members, partners, sales};

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
}

/// The handler's answer: replies plus the locale to render replies to the sender in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub locale: Locale,
    pub replies: Vec<Reply>,
}

/// Membership, reporting, ranking and approval commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "start",
        audience: Audience::Everyone,
        writes: Writes::WithArguments,
        params: &[opt("code", K::Word)],
        parse: |t| {
            Ok(Command::Start {
                code: command::optional_word(t),
            })
        },
        example: "ABCD2345",
    },
    CommandSpec {
        name: "link",
        audience: Audience::Everyone,
        writes: Writes::Always,
        params: &[opt("code", K::Word)],
        parse: |t| {
            Ok(Command::Link {
                code: command::optional_word(t),
            })
        },
        example: "",
    },
    CommandSpec {
        name: "help",
        audience: Audience::Everyone,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Help),
        example: "",
    },
    CommandSpec {
        name: "lang",
        audience: Audience::Everyone,
        writes: Writes::WithArguments,
        params: &[req("locale", K::Word)],
        parse: |t| {
            Ok(Command::Lang {
                locale: command::optional_word(t),
            })
        },
        example: "zh-CN",
    },
    CommandSpec {
        name: "report",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[
            req("amount", K::Amount),
            opt("currency", K::Currency),
            req("customer", K::Name),
            opt("category", K::Category),
            opt("note", K::Note),
            opt("evidence", K::Attachment),
        ],
        parse: |t| Ok(Command::Report(command::parse_report(t)?)),
        example: "1200 ACME #software -- first order",
    },
    CommandSpec {
        name: "sales",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Sales),
        example: "",
    },
    CommandSpec {
        name: "cancel",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("sale", K::Number)],
        parse: |t| {
            Ok(Command::Cancel {
                sale: command::sale_id(t, "cancel")?,
            })
        },
        example: "1",
    },
    CommandSpec {
        name: "rank",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Rank),
        example: "",
    },
    CommandSpec {
        name: "me",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Me),
        example: "",
    },
    CommandSpec {
        name: "invite",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[
            req("partner", K::Name),
            opt("kind", K::Word),
            opt("region", K::Word),
            opt("tier", K::Word),
        ],
        parse: |t| Ok(Command::Invite(command::parse_invite(t)?)),
        example: "\"East Trading Co\" dealer East",
    },
    CommandSpec {
        name: "pending",
        audience: Audience::Manager,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Pending),
        example: "",
    },
    CommandSpec {
        name: "approve",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("sale", K::Number)],
        parse: |t| {
            Ok(Command::Approve {
                sale: command::sale_id(t, "approve")?,
            })
        },
        example: "1",
    },
    CommandSpec {
        name: "reject",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("sale", K::Number), req("reason", K::Text)],
        parse: command::parse_reject,
        example: "1 duplicate entry",
    },
    CommandSpec {
        name: "audit",
        audience: Audience::Manager,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Audit),
        example: "",
    },
];

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

/// How many entries list commands show.
const LIST_LIMIT: i64 = 10;
/// How many places `/rank` shows.
const RANK_TOP: usize = 10;
/// Lifetime of a `/link` code for joining another platform's account.
const LINK_CODE_TTL_MS: i64 = 15 * 60 * 1000;

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

/// Who is asking, resolved once per message.
pub(crate) struct Ctx<'a> {
    pub(crate) incoming: &'a Incoming,
    pub(crate) member: Member,
    pub(crate) locale: Locale,
    pub(crate) now: i64,
}

impl Ctx<'_> {
    pub(crate) fn key(&self) -> MessageKey {
        MessageKey {
            platform: self.incoming.platform,
            chat_id: self.incoming.chat_id.clone(),
            message_id: self.incoming.message_id.clone(),
        }
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
        let fallback = incoming
            .locale
            .as_deref()
            .map(Locale::from_platform_code)
            .unwrap_or(self.config.program.default_locale);
        let parsed = command::parse_message(&incoming.text, self.bot_username.as_deref());
        let writes = match &parsed {
            Ok(None) => {
                return Outcome {
                    locale: fallback,
                    replies: Vec::new(),
                };
            }
            Ok(Some(parsed)) => parsed.writes(),
            Err(_) => false,
        };
        let (locale, result) = if writes {
            match self.store.begin().await {
                Ok(mut tx) => {
                    let (locale, result) = self.dispatch(&mut tx, incoming, parsed, fallback).await;
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
                Ok(mut conn) => self.dispatch(&mut conn, incoming, parsed, fallback).await,
                Err(e) => (fallback, Err(e.into())),
            }
        };
        let mut replies = match result {
            Ok(replies) => replies,
            Err(Failure::User(msg)) => vec![Reply::here(msg)],
            Err(Failure::Internal(e)) => return internal_error(locale, e),
        };
        if !incoming.private_chat && replies.iter().any(|r| r.to == Destination::Sender) {
            replies.push(Reply::here(Msg::new("sent-privately")));
        }
        Outcome { locale, replies }
    }

    /// For a pressed button whose command lacks an argument (Reject's reason): what to ask, in
    /// the member's language. `None`: run the command as it is.
    pub async fn prompt_for_missing_argument(&self, incoming: &Incoming) -> Option<ArgumentPrompt> {
        let (_, param) = registry::missing_argument(&incoming.text)?;
        let fallback = incoming
            .locale
            .as_deref()
            .map(Locale::from_platform_code)
            .unwrap_or(self.config.program.default_locale);
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

    /// Resolves the member and their locale on `conn`, then runs the command there.
    async fn dispatch(
        &self,
        conn: &mut store::Conn,
        incoming: &Incoming,
        parsed: Result<Option<Parsed>, ParseError>,
        fallback: Locale,
    ) -> (Locale, Handled) {
        let member = match self
            .member_in(
                conn,
                incoming.platform,
                &incoming.sender_id,
                &incoming.sender_name,
            )
            .await
        {
            Ok(m) => m,
            Err(e) => return (fallback, Err(e.into())),
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
        if remember {
            let json = serde_json::to_string(&replies).map_err(|e| Failure::Internal(e.into()))?;
            handled::record(&mut *conn, &ctx.key(), Some(ctx.member.id), &json, ctx.now).await?;
        }
        Ok(replies)
    }

    async fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        command: Command,
    ) -> Handled {
        match command {
            Command::Help => Ok(vec![self.help(ctx)]),
            Command::Start { code: None } => Ok(vec![self.welcome(ctx)]),
            Command::Start { code: Some(code) } | Command::Link { code: Some(code) } => {
                self.redeem(ctx, conn, &code).await
            }
            Command::Link { code: None } => self.link_code(ctx, conn).await,
            Command::Lang { locale } => self.lang(ctx, conn, locale.as_deref()).await,
            Command::Report(args) => self.report(ctx, conn, args).await,
            Command::Sales => self.sales(ctx, conn).await,
            Command::Cancel { sale } => {
                self.decide(ctx, conn, sale, SaleAction::Cancel, None).await
            }
            Command::Rank => self.rank(ctx, conn).await,
            Command::Me => self.me(ctx, conn).await,
            Command::Invite(args) => self.invite(ctx, conn, args).await,
            Command::Pending => self.pending(ctx, conn).await,
            Command::Approve { sale } => {
                self.decide(ctx, conn, sale, SaleAction::Approve, None)
                    .await
            }
            Command::Reject { sale, reason } => {
                self.decide(ctx, conn, sale, SaleAction::Reject, Some(reason))
                    .await
            }
            Command::Audit => self.audit(ctx, conn).await,
            Command::Statement { period } => self.statement_cmd(ctx, conn, period.as_deref()).await,
            Command::Why { line, period } => self.why(ctx, conn, line, period.as_deref()).await,
            Command::WhatIf { amount, category } => self.what_if(ctx, conn, amount, category).await,
            Command::Feedback {
                partner,
                score,
                comment,
            } => self.feedback(ctx, conn, &partner, score, comment).await,
            Command::Adjust {
                partner,
                amount,
                negative,
                reason,
            } => {
                self.adjust(ctx, conn, &partner, amount, negative, &reason)
                    .await
            }
            Command::Dispute { line, reason } => self.dispute(ctx, conn, line, &reason).await,
            Command::Answer { dispute, text } => self.answer(ctx, conn, dispute, &text).await,
            Command::Allocate { budget } => self.allocate(ctx, conn, budget).await,
            Command::Funds => self.funds(ctx, conn).await,
        }
    }

    /// The commands of each audience the member belongs to, with usage in their language.
    fn help(&self, ctx: &Ctx<'_>) -> Reply {
        let mut reply =
            Reply::here(Msg::new("help-header").text("program", &self.config.program.name));
        let is_member = ctx.member.role.is_some();
        let is_partner = is_member && ctx.member.partner_id.is_some();
        let is_manager = ctx.member.role.is_some_and(|role| role.is_manager());
        for spec in registry::for_member(is_partner, is_manager) {
            reply = reply
                .line(Msg::new("help-line").text("line", spec.help_line(&self.i18n, ctx.locale)));
        }
        reply
    }

    fn welcome(&self, ctx: &Ctx<'_>) -> Reply {
        match ctx.member.role {
            None => {
                Reply::here(Msg::new("welcome-guest").text("program", &self.config.program.name))
            }
            Some(_) => Reply::here(
                Msg::new("welcome-back")
                    .text("name", &ctx.member.display_name)
                    .text("program", &self.config.program.name),
            ),
        }
    }

    async fn redeem(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn, typed: &str) -> Handled {
        let code = invite_rules::normalize_code(typed)
            .ok_or_else(|| user(Msg::new("invite-unknown").text("code", typed)))?;
        let invite = invites::find(&mut *conn, &code)
            .await?
            .ok_or_else(|| user(Msg::new("invite-unknown").text("code", typed)))?;
        invite_rules::check_redeemable(&invite, ctx.now).map_err(|e| {
            user(match e {
                InviteError::Used => Msg::new("invite-used"),
                InviteError::Expired => Msg::new("invite-expired"),
            })
        })?;
        if let (Some(current), Some(wanted)) = (ctx.member.partner_id, invite.partner_id)
            && current != wanted
        {
            return Err(user(Msg::new("invite-other-partner")));
        }
        if !invites::mark_used(&mut *conn, &code, ctx.member.id, ctx.now).await? {
            return Err(user(Msg::new("invite-used")));
        }
        // Joining never lowers a role an account already has (an admin stays admin).
        let role = ctx.member.role.map_or(invite.role, |r| r.max(invite.role));
        let partner_id = invite.partner_id.or(ctx.member.partner_id);
        members::set_role(&mut *conn, ctx.member.id, partner_id, role).await?;
        audit::record(
            &mut *conn,
            Some(ctx.member.id),
            AuditAction::MemberJoin,
            &format!("member {}", ctx.member.id),
            Some(&json!({ "role": ctx.member.role.map(|r| r.as_str()), "partner": ctx.member.partner_id })),
            Some(&json!({ "role": role.as_str(), "partner": partner_id, "code": code })),
            ctx.now,
        )
        .await?;
        let partner_name = match partner_id {
            Some(p) => partners::get(&mut *conn, p).await?.map(|p| p.name),
            None => None,
        };
        let msg = match partner_name {
            Some(name) => Msg::new("joined-partner").text("partner", name),
            None => Msg::new("joined-role").text("role", role.as_str()),
        };
        let replies = vec![Reply::here(msg).line(Msg::new("joined-next"))];
        Ok(replies)
    }

    /// `/link` without a code: a short-lived code that joins another platform's account to
    /// this member's partner and role.
    async fn link_code(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
        ctx.require_member()?;
        let role = ctx.member.role.unwrap_or(Role::Partner);
        let invite = self
            .create_invite(
                &mut *conn,
                ctx.member.partner_id,
                role,
                LINK_CODE_TTL_MS,
                Some(ctx.member.id),
            )
            .await?;
        let replies = vec![Reply::private(
            Msg::new("link-code")
                .text("code", &invite.code)
                .int("minutes", LINK_CODE_TTL_MS / 60_000),
        )];
        Ok(replies)
    }

    async fn lang(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        wanted: Option<&str>,
    ) -> Handled {
        let Some(wanted) = wanted else {
            return Ok(vec![Reply::here(
                Msg::new("lang-current").text("locale", ctx.locale.tag()),
            )]);
        };
        let locale = Locale::from_tag(wanted)
            .ok_or_else(|| user(Msg::new("lang-unknown").text("locale", wanted)))?;
        members::set_locale(&mut *conn, ctx.member.id, locale.tag()).await?;
        ctx.locale = locale;
        let replies = vec![Reply {
            locale: Some(locale),
            ..Reply::here(Msg::new("lang-set").text("locale", locale.tag()))
        }];
        Ok(replies)
    }

    /// Converts a reported amount into program currency, rounded to its minor unit.
    pub(crate) fn to_program_money(&self, money: Money) -> Handled<Money> {
        let program = self.config.program.currency;
        if money.currency() == program {
            return Ok(money);
        }
        let rate = self
            .config
            .program
            .rates
            .get(&money.currency())
            .ok_or_else(|| {
                user(
                    Msg::new("report-no-rate")
                        .text("currency", money.currency().code())
                        .text("program", program.code()),
                )
            })?;
        money
            .checked_convert(program, *rate)
            .map(|m| m.round())
            .map_err(|_| user(Msg::new("amount-too-large")))
    }

    async fn report(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn, args: ReportArgs) -> Handled {
        let partner_id = ctx.partner()?;
        let program = self.config.program.currency;
        let money =
            amount::to_money(args.amount, program).map_err(|e| user(amount_error_msg(&e)))?;
        let program_amount = self.to_program_money(money)?;
        let limit = self
            .config
            .program
            .auto_approve_below
            .map(|v| Money::new(v, program));
        let status = sale_rules::initial_status(SaleSource::Chat, false, program_amount, limit);
        let period = self.period_at(ctx.now);
        let new = NewSale {
            partner_id,
            amount: money,
            program_amount,
            customer: args.customer.clone(),
            customer_key: name_key(&args.customer),
            category: args.category.clone(),
            quantity: None,
            evidence: ctx.incoming.attachments.first().cloned(),
            note: args.note.clone(),
            sale_date: self.local_date(ctx.now).to_string(),
            period: period.key(),
            source: SaleSource::Chat,
            idempotency_key: ctx.key().idempotency_key(),
            status,
            reporter: Some(ctx.member.id),
            reported_at: ctx.now,
        };
        let (inserted, totals_now) = ledger::record_sale(self, &mut *conn, &new, ctx.now).await?;
        let (sale, redelivered) = match inserted {
            Inserted::New(sale) => (sale, false),
            Inserted::Existing(sale) => (sale, true),
        };
        let mut replies = vec![
            self.report_reply(ctx, &sale, totals_now, &mut *conn)
                .await?,
        ];
        // Managers were told when the sale was first stored; a redelivery tells nobody again.
        if sale.status == SaleStatus::Pending && !redelivered {
            replies.extend(self.notify_managers(&mut *conn, &sale).await?);
        }
        Ok(replies)
    }

    async fn report_reply(
        &self,
        ctx: &Ctx<'_>,
        sale: &Sale,
        totals_now: Option<totals::PeriodTotals>,
        conn: &mut store::Conn,
    ) -> Handled<Reply> {
        let key = match sale.status {
            SaleStatus::Approved => "report-approved",
            _ => "report-pending",
        };
        let mut reply = Reply::here(
            Msg::new(key)
                .int("sale", sale.id.0)
                .text("amount", sale.amount.format())
                .text("customer", &sale.customer),
        );
        if sale.amount.currency() != sale.program_amount.currency() {
            reply = reply
                .line(Msg::new("report-converted").text("amount", sale.program_amount.format()));
        }
        // The period total is money: only in a private chat.
        if ctx.incoming.private_chat {
            let t = match totals_now {
                Some(t) => t,
                None => totals::get(conn, &sale.period, sale.partner_id).await?,
            };
            reply = reply.line(
                Msg::new("report-period-total")
                    .text("period", &sale.period)
                    .text("total", self.program_money(t.approved_minor))
                    .int("pending", t.pending_count),
            );
        }
        Ok(reply)
    }

    /// A private note with Approve / Reject buttons to every manager.
    pub(crate) async fn notify_managers(&self, conn: &mut store::Conn, sale: &Sale) -> Handled {
        let partner = partners::get(conn, sale.partner_id).await?;
        let partner_name = partner.map(|p| p.name).unwrap_or_default();
        let managers = members::managers(conn).await?;
        Ok(managers
            .into_iter()
            .map(|m| Reply {
                to: Destination::Member(m.id),
                locale: m.locale.as_deref().and_then(Locale::from_tag),
                ..Reply::here(
                    Msg::new("pending-new")
                        .int("sale", sale.id.0)
                        .text("partner", &partner_name)
                        .text("amount", sale.amount.format())
                        .text("customer", &sale.customer),
                )
                .button(Msg::new("button-approve"), format!("/approve {}", sale.id))
                .button(Msg::new("button-reject"), format!("/reject {}", sale.id))
                .with_image(sale.evidence.clone())
            })
            .collect())
    }

    async fn sales(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
        let partner_id = ctx.partner()?;
        let list = sales::recent_for_partner(
            &mut *conn,
            partner_id,
            LIST_LIMIT,
            self.config.program.currency,
        )
        .await?;
        if list.is_empty() {
            return Ok(vec![Reply::private(Msg::new("sales-none"))]);
        }
        let mut reply = Reply::private(Msg::new("sales-header").int("count", list.len() as i64));
        for sale in &list {
            reply = reply.line(sale_line(
                sale,
                self.local_date(sale.reported_at).to_string(),
            ));
        }
        Ok(vec![reply])
    }

    async fn decide(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        sale_id: SaleId,
        action: SaleAction,
        reason: Option<String>,
    ) -> Handled {
        match action {
            SaleAction::Cancel => {
                ctx.partner()?;
            }
            SaleAction::Approve | SaleAction::Reject => ctx.require_manager()?,
        }
        let program = self.config.program.currency;
        let sale = sales::get(&mut *conn, sale_id, program)
            .await?
            .filter(|s| action != SaleAction::Cancel || Some(s.partner_id) == ctx.member.partner_id)
            .ok_or_else(|| user(Msg::new("sale-not-found").int("sale", sale_id.0)))?;
        let to = sale_rules::transition(&sale, action, ctx.member.id).map_err(|e| {
            user(match e {
                sale_rules::TransitionError::AlreadyDecided(s) => Msg::new("sale-already-decided")
                    .int("sale", sale.id.0)
                    .text("status", s.as_str()),
                sale_rules::TransitionError::NotReporter => {
                    Msg::new("sale-not-reporter").int("sale", sale.id.0)
                }
            })
        })?;
        let reason = reason.filter(|r| r != "-");
        if !ledger::change_status(
            self,
            &mut *conn,
            &sale,
            to,
            ctx.member.id,
            reason.as_deref(),
            ctx.now,
        )
        .await?
        {
            return Err(user(
                Msg::new("sale-already-decided")
                    .int("sale", sale.id.0)
                    .text("status", "?"),
            ));
        }
        if action != SaleAction::Cancel {
            audit::record(
                &mut *conn,
                Some(ctx.member.id),
                AuditAction::Sale(to),
                &format!("sale {}", sale.id),
                Some(&json!({ "status": sale.status.as_str() })),
                Some(&json!({ "status": to.as_str(), "reason": reason })),
                ctx.now,
            )
            .await?;
        }
        let done_key = match to {
            SaleStatus::Approved => "sale-approved",
            SaleStatus::Rejected => "sale-rejected",
            _ => "sale-cancelled",
        };
        let mut replies = vec![Reply::here(
            Msg::new(done_key)
                .int("sale", sale.id.0)
                .text("amount", sale.amount.format())
                .text("customer", &sale.customer)
                .text("by", &ctx.member.display_name),
        )];
        if let Some(reporter) = sale.reporter.filter(|r| *r != ctx.member.id) {
            let reporter_locale = members::get(&mut *conn, reporter)
                .await?
                .and_then(|m| m.locale)
                .as_deref()
                .and_then(Locale::from_tag);
            let mut msg = Msg::new(match to {
                SaleStatus::Approved => "your-sale-approved",
                _ => "your-sale-rejected",
            })
            .int("sale", sale.id.0)
            .text("amount", sale.amount.format())
            .text("customer", &sale.customer);
            if let Some(r) = &reason {
                msg = msg.text("reason", r);
            } else {
                msg = msg.text("reason", "-");
            }
            replies.push(Reply {
                to: Destination::Member(reporter),
                locale: reporter_locale,
                ..Reply::here(msg)
            });
        }
        Ok(replies)
    }

    async fn rank(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
        ctx.require_member()?;
        let period = self.period_at(ctx.now).key();
        let board = self
            .ranks
            .leaderboard(
                &mut *conn,
                &period,
                self.rank_basis(),
                ctx.member.partner_id,
                RANK_TOP,
            )
            .await?;
        if board.top.is_empty() {
            return Ok(vec![Reply::here(
                Msg::new("rank-empty").text("period", &period),
            )]);
        }
        let mut reply = Reply::here(
            Msg::new("rank-header")
                .text("period", &period)
                .int("partners", board.participants as i64),
        );
        for (place, s) in &board.top {
            reply = reply.line(
                Msg::new("rank-line")
                    .int("place", *place as i64)
                    .text("partner", &s.name)
                    .text("total", self.program_money(s.total_minor)),
            );
        }
        match (&board.me, ctx.member.partner_id) {
            (Some((place, s)), _) => {
                let msg = Msg::new("rank-me")
                    .int("place", *place as i64)
                    .text("total", self.program_money(s.total_minor));
                reply = reply.line(msg);
                if let Some(gap) = board.gap_to_next {
                    reply = reply.line(
                        Msg::new("rank-gap")
                            .text("gap", self.program_money(gap))
                            .int("place", *place as i64 - 1),
                    );
                }
            }
            (None, Some(_)) => reply = reply.line(Msg::new("rank-me-none")),
            (None, None) => {}
        }
        Ok(vec![reply])
    }

    /// The scorecard: sales, growth, coverage, feedback, attainment, rank, tier.
    async fn me(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
        let partner_id = ctx.partner()?;
        let card = self
            .scorecard(conn, partner_id, ctx.now)
            .await
            .map_err(Failure::Internal)?;
        Ok(vec![scorecard_reply(&card, self.config.program.currency)])
    }

    async fn invite(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn, args: InviteArgs) -> Handled {
        ctx.require_manager()?;
        let partner = match partners::find_by_name(&mut *conn, &args.partner).await? {
            Some(p) => p,
            None => {
                let new = NewPartner {
                    name: args.partner.clone(),
                    kind: args.kind.unwrap_or(PartnerKind::Dealer),
                    region: args.region.clone(),
                    tier: args.tier.clone(),
                    potential_minor: None,
                };
                crate::partners::create(
                    &mut *conn,
                    &new,
                    Some(ctx.member.id),
                    crate::partners::Source::Chat,
                    ctx.now,
                )
                .await?
                .ok_or_else(|| Failure::Internal(anyhow::anyhow!("partner vanished")))?
            }
        };
        let invite = self
            .create_invite(
                &mut *conn,
                Some(partner.id),
                Role::Partner,
                self.invite_ttl_ms(),
                Some(ctx.member.id),
            )
            .await?;
        audit::record(
            &mut *conn,
            Some(ctx.member.id),
            AuditAction::InviteCreate,
            &format!("partner {}", partner.id),
            None,
            Some(&json!({ "code": invite.code, "expires_at": invite.expires_at })),
            ctx.now,
        )
        .await?;
        let expires = self.local_date(invite.expires_at).to_string();
        let mut reply = Reply::private(
            Msg::new("invite-created")
                .text("partner", &partner.name)
                .text("code", &invite.code)
                .text("expires", expires),
        );
        if let (Platform::Telegram, Some(bot)) = (ctx.incoming.platform, &self.bot_username) {
            reply = reply.line(
                Msg::new("invite-link")
                    .text("link", format!("https://t.me/{bot}?start={}", invite.code)),
            );
        }
        Ok(vec![reply])
    }

    async fn pending(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
        ctx.require_manager()?;
        let list = sales::pending(&mut *conn, LIST_LIMIT, self.config.program.currency).await?;
        if list.is_empty() {
            return Ok(vec![Reply::here(Msg::new("pending-none"))]);
        }
        let mut replies = vec![Reply::here(
            Msg::new("pending-header").int("count", list.len() as i64),
        )];
        for (sale, partner) in list {
            replies.push(
                Reply::here(
                    Msg::new("pending-line")
                        .int("sale", sale.id.0)
                        .text("partner", partner)
                        .text("amount", sale.amount.format())
                        .text("customer", &sale.customer),
                )
                .button(Msg::new("button-approve"), format!("/approve {}", sale.id))
                .button(Msg::new("button-reject"), format!("/reject {}", sale.id))
                .with_image(sale.evidence.clone()),
            );
        }
        Ok(replies)
    }

    async fn audit(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
        ctx.require_manager()?;
        let entries = audit::recent(&mut *conn, 20).await?;
        if entries.is_empty() {
            return Ok(vec![Reply::private(Msg::new("audit-none"))]);
        }
        let mut reply = Reply::private(Msg::new("audit-header").int("count", entries.len() as i64));
        for e in entries {
            let when = chrono::DateTime::from_timestamp_millis(e.at)
                .unwrap_or_default()
                .with_timezone(&self.config.program.timezone)
                .format("%Y-%m-%d %H:%M")
                .to_string();
            reply = reply.line(
                Msg::new("audit-line")
                    .int("id", e.id.0)
                    .text("when", when)
                    .text("actor", e.actor_name.unwrap_or_else(|| "system".into()))
                    .text("action", e.action.as_str())
                    .text("subject", e.subject)
                    .text("change", e.after.unwrap_or_default()),
            );
        }
        Ok(vec![reply])
    }
}

fn sale_line(sale: &Sale, date: String) -> Msg {
    Msg::new("sales-line")
        .int("sale", sale.id.0)
        .text("date", date)
        .text("amount", sale.amount.format())
        .text("customer", &sale.customer)
        .text("status", sale.status.as_str())
}

/// The `/me` answer: a scorecard as message lines (pure).
fn scorecard_reply(card: &Scorecard, currency: Currency) -> Reply {
    let money = |minor: i64| Money::from_minor(minor, currency).format();
    let growth = |then: i64| match card.growth_pct(then) {
        Some(pct) => format!("{:+}%", pct.round_dp(1).normalize()),
        None => "-".into(),
    };
    let mut reply = Reply::private(
        Msg::new("me-header")
            .text("partner", &card.partner.name)
            .text("period", card.period.key()),
    )
    .line(
        Msg::new("me-sales")
            .text("total", money(card.current.approved_minor))
            .int("count", card.current.approved_count),
    )
    .line(
        Msg::new("me-growth")
            .text("previous", money(card.previous_approved_minor))
            .text("vs_previous", growth(card.previous_approved_minor))
            .text("last_year", money(card.last_year_approved_minor))
            .text("vs_last_year", growth(card.last_year_approved_minor)),
    )
    .line(Msg::new("me-coverage").int("customers", card.customers))
    .line(match card.feedback_average() {
        Some(average) => Msg::new("me-feedback")
            .text("average", average.round_dp(1).normalize().to_string())
            .int("ratings", card.feedback_ratings),
        None => Msg::new("me-feedback-none"),
    });
    if let Some(attainment) = &card.attainment {
        reply = reply.line(Msg::new("me-attainment").text("attainment", attainment));
    }
    reply = reply.line(match card.place {
        Some((place, partners)) => Msg::new("me-rank")
            .int("place", place as i64)
            .int("partners", partners as i64),
        None => Msg::new("rank-me-none"),
    });
    if let Some(tier) = &card.tier {
        reply = reply.line(
            Msg::new("me-tier")
                .text("tier", tier.current.clone().unwrap_or_else(|| "-".into()))
                .text("trailing", money(tier.trailing_minor)),
        );
        if let Some(next) = &tier.next {
            let certifications = if next.missing_certifications.is_empty() {
                "-".to_string()
            } else {
                next.missing_certifications.join(", ")
            };
            reply = reply.line(
                Msg::new("me-next-tier")
                    .text("tier", &next.tier)
                    .text("sales", Money::new(next.sales_needed, currency).format())
                    .text("certifications", certifications),
            );
        }
    }
    reply.line(Msg::new("me-pending").int("count", card.pending_sales))
}

fn internal_error(locale: Locale, error: anyhow::Error) -> Outcome {
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
