//! Incoming → Command → App → Replies: permissions, privacy and idempotency for every platform.
//!
//! Adapters build an [`Incoming`], call [`App::handle`], and render the [`Outcome`]. Nothing
//! here knows which platform it serves beyond the [`Platform`] tag.

use serde_json::json;

use super::command::{self, Command, InviteArgs, ParseError, ReportArgs};
use super::reply::{Destination, Msg, Reply};
use crate::app::App;
use crate::config::Locale;
use crate::engine::amount::{self, AmountError};
use crate::engine::ids::{PartnerId, SaleId};
use crate::engine::invite::{self as invite_rules, InviteError};
use crate::engine::money::Money;
use crate::engine::partner::{Member, PartnerKind, Platform, Role, name_key};
use crate::engine::sale::{self as sale_rules, Sale, SaleAction, SaleSource, SaleStatus};
use crate::store::handled::{self, MessageKey};
use crate::store::partners::NewPartner;
use crate::store::sales::{Inserted, NewSale};
use crate::store::totals::{self, Delta, RankBasis};
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
}

/// The handler's answer: replies plus the locale to render replies to the sender in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub locale: Locale,
    pub replies: Vec<Reply>,
}

/// How many entries list commands show.
const LIST_LIMIT: i64 = 10;
/// How many places `/rank` shows.
const RANK_TOP: i64 = 10;
/// Lifetime of a `/link` code for joining another platform's account.
const LINK_CODE_TTL_MS: i64 = 15 * 60 * 1000;

/// Why a command did not succeed.
enum Failure {
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

type Handled<T = Vec<Reply>> = Result<T, Failure>;

fn user(msg: Msg) -> Failure {
    Failure::User(msg)
}

/// The localized sentence for a grammar error.
pub fn parse_error_msg(error: &ParseError) -> Msg {
    match error {
        ParseError::TooLong => {
            Msg::new("error-too-long").int("max", command::MAX_TEXT_CHARS as i64)
        }
        ParseError::UnknownCommand(name) => Msg::new("error-unknown-command").text("command", name),
        ParseError::Usage(name) => Msg::new("error-usage")
            .text("command", *name)
            .text("usage", usage(name)),
        ParseError::Amount(e) => amount_error_msg(e),
        ParseError::BadSaleId(text) => Msg::new("error-bad-sale-id").text("text", text),
        ParseError::NameTooLong => Msg::new("error-name-too-long")
            .int("max", crate::engine::partner::MAX_NAME_CHARS as i64),
        ParseError::UnclosedQuote => Msg::new("error-unclosed-quote"),
    }
}

fn usage(name: &str) -> String {
    // Usage lines are command syntax, identical in every language; they are kept here next to
    // the grammar, while the sentences around them are localized.
    match name {
        "report" => "/report <amount> [currency] <customer> [#category] [-- note]",
        "cancel" => "/cancel <sale>",
        "approve" => "/approve <sale>",
        "reject" => "/reject <sale> <reason>",
        "invite" => "/invite <partner name> [kind] [region] [tier]",
        "lang" => "/lang <en|zh-CN>",
        "start" => "/start <code>",
        "link" => "/link [code]",
        other => other,
    }
    .to_string()
}

fn amount_error_msg(e: &AmountError) -> Msg {
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
struct Ctx<'a> {
    incoming: &'a Incoming,
    member: Member,
    locale: Locale,
    now: i64,
}

impl Ctx<'_> {
    fn key(&self) -> MessageKey {
        MessageKey {
            platform: self.incoming.platform,
            chat_id: self.incoming.chat_id.clone(),
            message_id: self.incoming.message_id.clone(),
        }
    }

    /// The partner this member reports for, or why they cannot.
    fn partner(&self) -> Handled<PartnerId> {
        match (self.member.role, self.member.partner_id) {
            (None, _) => Err(user(Msg::new("error-not-registered"))),
            (Some(_), Some(p)) => Ok(p),
            (Some(_), None) => Err(user(Msg::new("error-no-partner"))),
        }
    }

    fn require_manager(&self) -> Handled<()> {
        match self.member.role {
            Some(r) if r.is_manager() => Ok(()),
            None => Err(user(Msg::new("error-not-registered"))),
            Some(_) => Err(user(Msg::new("error-forbidden"))),
        }
    }

    fn require_member(&self) -> Handled<()> {
        match self.member.role {
            Some(_) => Ok(()),
            None => Err(user(Msg::new("error-not-registered"))),
        }
    }
}

/// Whether a command changes state, so its answer is stored and replayed on redelivery.
fn changes_state(command: &Command) -> bool {
    matches!(
        command,
        Command::Start { code: Some(_) }
            | Command::Link { .. }
            | Command::Lang { locale: Some(_) }
            | Command::Report(_)
            | Command::Cancel { .. }
            | Command::Invite(_)
            | Command::Approve { .. }
            | Command::Reject { .. }
    )
}

impl App {
    /// Handles one message. Never fails: every problem becomes a reply.
    pub async fn handle(&self, incoming: &Incoming) -> Outcome {
        let fallback_locale = incoming
            .locale
            .as_deref()
            .map(Locale::from_platform_code)
            .unwrap_or(self.config.program.default_locale);
        let parsed = command::parse(&incoming.text, self.bot_username.as_deref());
        if let Ok(None) = parsed {
            return Outcome {
                locale: fallback_locale,
                replies: Vec::new(),
            };
        }
        let member = match self
            .member_for(
                incoming.platform,
                &incoming.sender_id,
                &incoming.sender_name,
            )
            .await
        {
            Ok(m) => m,
            Err(e) => return internal_error(fallback_locale, e.into()),
        };
        let locale = member
            .locale
            .as_deref()
            .and_then(Locale::from_tag)
            .unwrap_or(fallback_locale);
        let command = match parsed {
            Ok(Some(c)) => c,
            Ok(None) => unreachable!("handled above"),
            Err(e) => {
                return Outcome {
                    locale,
                    replies: vec![Reply::here(parse_error_msg(&e))],
                };
            }
        };
        let mut ctx = Ctx {
            incoming,
            member,
            locale,
            now: self.now(),
        };
        let result = if changes_state(&command) {
            self.once(&mut ctx, command).await
        } else {
            self.run(&mut ctx, command).await
        };
        let mut replies = match result {
            Ok(replies) => replies,
            Err(Failure::User(msg)) => vec![Reply::here(msg)],
            Err(Failure::Internal(e)) => return internal_error(ctx.locale, e),
        };
        if !incoming.private_chat && replies.iter().any(|r| r.to == Destination::Sender) {
            replies.push(Reply::here(Msg::new("sent-privately")));
        }
        Outcome {
            locale: ctx.locale,
            replies,
        }
    }

    /// Runs a state-changing command at most once per message: a redelivery gets the stored
    /// answer. The command itself records its answer in its own transaction.
    async fn once(&self, ctx: &mut Ctx<'_>, command: Command) -> Handled {
        let key = ctx.key();
        let mut conn = self.store.read().await?;
        if let Some(stored) = handled::find(&mut conn, &key).await? {
            drop(conn);
            return serde_json::from_str(&stored).map_err(|e| Failure::Internal(e.into()));
        }
        drop(conn);
        // A user mistake changes and stores nothing, so a redelivery is simply answered anew.
        self.run(ctx, command).await
    }

    async fn run(&self, ctx: &mut Ctx<'_>, command: Command) -> Handled {
        match command {
            Command::Help => Ok(vec![self.help(ctx)]),
            Command::Start { code: None } => Ok(vec![self.welcome(ctx)]),
            Command::Start { code: Some(code) } | Command::Link { code: Some(code) } => {
                self.redeem(ctx, &code).await
            }
            Command::Link { code: None } => self.link_code(ctx).await,
            Command::Lang { locale } => self.lang(ctx, locale.as_deref()).await,
            Command::Report(args) => self.report(ctx, args).await,
            Command::Sales => self.sales(ctx).await,
            Command::Cancel { sale } => self.decide(ctx, sale, SaleAction::Cancel, None).await,
            Command::Rank => self.rank(ctx).await,
            Command::Me => self.me(ctx).await,
            Command::Invite(args) => self.invite(ctx, args).await,
            Command::Pending => self.pending(ctx).await,
            Command::Approve { sale } => self.decide(ctx, sale, SaleAction::Approve, None).await,
            Command::Reject { sale, reason } => {
                self.decide(ctx, sale, SaleAction::Reject, Some(reason))
                    .await
            }
            Command::Audit => self.audit(ctx).await,
        }
    }

    /// Commits `tx` together with the stored answer for this message.
    async fn finish(&self, ctx: &Ctx<'_>, mut tx: store::Tx, replies: Vec<Reply>) -> Handled {
        let json = serde_json::to_string(&replies).map_err(|e| Failure::Internal(e.into()))?;
        handled::record(&mut tx, &ctx.key(), Some(ctx.member.id), &json, ctx.now).await?;
        tx.commit().await?;
        Ok(replies)
    }

    fn help(&self, ctx: &Ctx<'_>) -> Reply {
        let mut reply =
            Reply::here(Msg::new("help-header").text("program", &self.config.program.name));
        match ctx.member.role {
            None => reply = reply.line(Msg::new("help-guest")),
            Some(role) => {
                if ctx.member.partner_id.is_some() {
                    reply = reply.line(Msg::new("help-partner"));
                }
                if role.is_manager() {
                    reply = reply.line(Msg::new("help-manager"));
                }
            }
        }
        reply.line(Msg::new("help-everyone"))
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

    async fn redeem(&self, ctx: &mut Ctx<'_>, typed: &str) -> Handled {
        let code = invite_rules::normalize_code(typed)
            .ok_or_else(|| user(Msg::new("invite-unknown").text("code", typed)))?;
        let mut tx = self.store.begin().await?;
        let invite = invites::find(&mut tx, &code)
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
        if !invites::mark_used(&mut tx, &code, ctx.member.id, ctx.now).await? {
            return Err(user(Msg::new("invite-used")));
        }
        // Joining never lowers a role an account already has (an admin stays admin).
        let role = ctx.member.role.map_or(invite.role, |r| r.max(invite.role));
        let partner_id = invite.partner_id.or(ctx.member.partner_id);
        members::set_role(&mut tx, ctx.member.id, partner_id, role).await?;
        audit::record(
            &mut tx,
            Some(ctx.member.id),
            "member.join",
            &format!("member {}", ctx.member.id),
            Some(&json!({ "role": ctx.member.role.map(|r| r.as_str()), "partner": ctx.member.partner_id })),
            Some(&json!({ "role": role.as_str(), "partner": partner_id, "code": code })),
            ctx.now,
        )
        .await?;
        let partner_name = match partner_id {
            Some(p) => partners::get(&mut tx, p).await?.map(|p| p.name),
            None => None,
        };
        let msg = match partner_name {
            Some(name) => Msg::new("joined-partner").text("partner", name),
            None => Msg::new("joined-role").text("role", role.as_str()),
        };
        let replies = vec![Reply::here(msg).line(Msg::new("joined-next"))];
        self.finish(ctx, tx, replies).await
    }

    /// `/link` without a code: a short-lived code that joins another platform's account to
    /// this member's partner and role.
    async fn link_code(&self, ctx: &mut Ctx<'_>) -> Handled {
        ctx.require_member()?;
        let role = ctx.member.role.unwrap_or(Role::Partner);
        let mut tx = self.store.begin().await?;
        let invite = self
            .create_invite(
                &mut tx,
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
        self.finish(ctx, tx, replies).await
    }

    async fn lang(&self, ctx: &mut Ctx<'_>, wanted: Option<&str>) -> Handled {
        let Some(wanted) = wanted else {
            return Ok(vec![Reply::here(
                Msg::new("lang-current").text("locale", ctx.locale.tag()),
            )]);
        };
        let locale = Locale::from_tag(wanted)
            .ok_or_else(|| user(Msg::new("lang-unknown").text("locale", wanted)))?;
        let mut tx = self.store.begin().await?;
        members::set_locale(&mut tx, ctx.member.id, locale.tag()).await?;
        ctx.locale = locale;
        let replies = vec![Reply {
            locale: Some(locale),
            ..Reply::here(Msg::new("lang-set").text("locale", locale.tag()))
        }];
        self.finish(ctx, tx, replies).await
    }

    /// Converts a reported amount into program currency, rounded to its minor unit.
    fn to_program(&self, money: Money) -> Handled<Money> {
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

    async fn report(&self, ctx: &mut Ctx<'_>, args: ReportArgs) -> Handled {
        let partner_id = ctx.partner()?;
        let program = self.config.program.currency;
        let money =
            amount::to_money(args.amount, program).map_err(|e| user(amount_error_msg(&e)))?;
        let program_amount = self.to_program(money)?;
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
            note: args.note.clone(),
            sale_date: self.local_date(ctx.now).to_string(),
            period: period.key(),
            source: SaleSource::Chat,
            idempotency_key: ctx.key().idempotency_key(),
            status,
            reporter: Some(ctx.member.id),
            reported_at: ctx.now,
        };
        let mut tx = self.store.begin().await?;
        let sale = match sales::insert(&mut tx, &new).await? {
            Inserted::New(sale) => {
                let minor = program_minor(&sale)?;
                let (approved, provisional) = sale_rules::total_deltas(None, sale.status, minor);
                let delta = Delta {
                    approved_minor: approved,
                    approved_count: i64::from(sale.status == SaleStatus::Approved),
                    provisional_minor: provisional,
                    pending_count: i64::from(sale.status == SaleStatus::Pending),
                };
                totals::apply(&mut tx, &sale.period, partner_id, delta, ctx.now).await?;
                sale
            }
            Inserted::Existing(sale) => sale,
        };
        let mut replies = vec![self.report_reply(ctx, &sale, &mut tx).await?];
        if sale.status == SaleStatus::Pending {
            replies.extend(self.notify_managers(&mut tx, &sale).await?);
        }
        self.finish(ctx, tx, replies).await
    }

    async fn report_reply(
        &self,
        ctx: &Ctx<'_>,
        sale: &Sale,
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
            let t = totals::get(conn, &sale.period, sale.partner_id).await?;
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
    async fn notify_managers(&self, conn: &mut store::Conn, sale: &Sale) -> Handled {
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
                .button(Msg::new("button-reject"), format!("/reject {} -", sale.id))
            })
            .collect())
    }

    async fn sales(&self, ctx: &mut Ctx<'_>) -> Handled {
        let partner_id = ctx.partner()?;
        let mut conn = self.store.read().await?;
        let list = sales::recent_for_partner(
            &mut conn,
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
        let mut tx = self.store.begin().await?;
        let sale = sales::get(&mut tx, sale_id, program)
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
        if !sales::set_status(
            &mut tx,
            sale.id,
            sale.status,
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
        let minor = program_minor(&sale)?;
        let (approved, provisional) = sale_rules::total_deltas(Some(sale.status), to, minor);
        let delta = Delta {
            approved_minor: approved,
            approved_count: i64::from(to == SaleStatus::Approved),
            provisional_minor: provisional,
            pending_count: -1,
        };
        totals::apply(&mut tx, &sale.period, sale.partner_id, delta, ctx.now).await?;
        if action != SaleAction::Cancel {
            audit::record(
                &mut tx,
                Some(ctx.member.id),
                &format!("sale.{}", to.as_str()),
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
            let reporter_locale = members::get(&mut tx, reporter)
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
        self.finish(ctx, tx, replies).await
    }

    async fn rank(&self, ctx: &mut Ctx<'_>) -> Handled {
        ctx.require_member()?;
        let period = self.period_at(ctx.now).key();
        let basis = if self.config.program.rank_pending {
            RankBasis::Provisional
        } else {
            RankBasis::Approved
        };
        let mut conn = self.store.read().await?;
        let board =
            totals::leaderboard(&mut conn, &period, basis, ctx.member.partner_id, RANK_TOP).await?;
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

    async fn me(&self, ctx: &mut Ctx<'_>) -> Handled {
        let partner_id = ctx.partner()?;
        let period = self.period_at(ctx.now);
        let mut conn = self.store.read().await?;
        let partner = partners::get(&mut conn, partner_id).await?;
        let t = totals::get(&mut conn, &period.key(), partner_id).await?;
        let previous = totals::get(&mut conn, &period.previous().key(), partner_id).await?;
        let basis = if self.config.program.rank_pending {
            RankBasis::Provisional
        } else {
            RankBasis::Approved
        };
        let board =
            totals::leaderboard(&mut conn, &period.key(), basis, Some(partner_id), 0).await?;
        let pending = sales::count_pending(&mut conn, partner_id).await?;
        let mut reply = Reply::private(
            Msg::new("me-header")
                .text("partner", partner.map(|p| p.name).unwrap_or_default())
                .text("period", period.key()),
        )
        .line(
            Msg::new("me-sales")
                .text("total", self.program_money(t.approved_minor))
                .int("count", t.approved_count),
        )
        .line(
            Msg::new("me-previous")
                .text("period", period.previous().key())
                .text("total", self.program_money(previous.approved_minor)),
        );
        reply = match board.me {
            Some((place, _)) => reply.line(
                Msg::new("me-rank")
                    .int("place", place as i64)
                    .int("partners", board.participants as i64),
            ),
            None => reply.line(Msg::new("rank-me-none")),
        };
        Ok(vec![
            reply.line(Msg::new("me-pending").int("count", pending)),
        ])
    }

    async fn invite(&self, ctx: &mut Ctx<'_>, args: InviteArgs) -> Handled {
        ctx.require_manager()?;
        let mut tx = self.store.begin().await?;
        let partner = match partners::find_by_name(&mut tx, &args.partner).await? {
            Some(p) => p,
            None => {
                let new = NewPartner {
                    name: args.partner.clone(),
                    kind: args.kind.unwrap_or(PartnerKind::Dealer),
                    region: args.region.clone(),
                    tier: args.tier.clone(),
                };
                let created = partners::insert(&mut tx, &new, ctx.now)
                    .await?
                    .ok_or_else(|| Failure::Internal(anyhow::anyhow!("partner vanished")))?;
                audit::record(
                    &mut tx,
                    Some(ctx.member.id),
                    "partner.create",
                    &format!("partner {}", created.id),
                    None,
                    Some(
                        &json!({ "name": created.name, "kind": created.kind.as_str(),
                                  "region": created.region, "tier": created.tier }),
                    ),
                    ctx.now,
                )
                .await?;
                created
            }
        };
        let invite = self
            .create_invite(
                &mut tx,
                Some(partner.id),
                Role::Partner,
                self.invite_ttl_ms(),
                Some(ctx.member.id),
            )
            .await?;
        audit::record(
            &mut tx,
            Some(ctx.member.id),
            "invite.create",
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
        self.finish(ctx, tx, vec![reply]).await
    }

    async fn pending(&self, ctx: &mut Ctx<'_>) -> Handled {
        ctx.require_manager()?;
        let mut conn = self.store.read().await?;
        let list = sales::pending(&mut conn, LIST_LIMIT, self.config.program.currency).await?;
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
                .button(Msg::new("button-reject"), format!("/reject {} -", sale.id)),
            );
        }
        Ok(replies)
    }

    async fn audit(&self, ctx: &mut Ctx<'_>) -> Handled {
        ctx.require_manager()?;
        let mut conn = self.store.read().await?;
        let entries = audit::recent(&mut conn, 20).await?;
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
                    .text("action", e.action)
                    .text("subject", e.subject)
                    .text("change", e.after.unwrap_or_default()),
            );
        }
        Ok(vec![reply])
    }
}

fn program_minor(sale: &Sale) -> Handled<i64> {
    sale.program_amount
        .to_minor()
        .map_err(|e| Failure::Internal(anyhow::anyhow!("sale {} amount: {e}", sale.id)))
}

fn sale_line(sale: &Sale, date: String) -> Msg {
    Msg::new("sales-line")
        .int("sale", sale.id.0)
        .text("date", date)
        .text("amount", sale.amount.format())
        .text("customer", &sale.customer)
        .text("status", sale.status.as_str())
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
