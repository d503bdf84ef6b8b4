//! Incentive commands: statements and their explanations, what-if, the scorecard's inputs,
//! feedback, adjustments, disputes and fund allocation. Same rules as every command: roles
//! checked first, money only in private, manager actions audited.

use rust_decimal::Decimal;
use serde_json::json;

use super::command::{self, Command};
use super::handler::{Ctx, Failure, Handled, amount_error_msg, user};
use super::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use super::reply::{Destination, Msg, Reply};
use crate::app::App;
use crate::config::Locale;
use crate::engine::allocation::{self, AllocationInput, AllocationWeights};
use crate::engine::amount::{self, AmountInput};
use crate::engine::audit::AuditAction;
use crate::engine::ids::{DisputeId, PartnerId};
use crate::engine::money::Money;
use crate::engine::partner::Partner;
use crate::engine::period::Period;
use crate::engine::tier::{self, TierFacts};
use crate::statements::{DocLine, StatementDoc};
use crate::store::statements as stored;
use crate::store::{self, audit, incentives, members, partners, totals};

/// Statement, explanation, feedback, adjustment, dispute and fund commands.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "statement",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[opt("period", K::Word)],
        parse: |t| {
            Ok(Command::Statement {
                period: command::optional_word(t),
            })
        },
        example: "2026-11",
    },
    CommandSpec {
        name: "why",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[req("line", K::Number), opt("period", K::Word)],
        parse: command::parse_why,
        example: "1",
    },
    CommandSpec {
        name: "whatif",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[req("amount", K::Amount), opt("category", K::Category)],
        parse: command::parse_what_if,
        example: "50000 #software",
    },
    CommandSpec {
        name: "dispute",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("line", K::Number), req("reason", K::Text)],
        parse: command::parse_dispute,
        example: "1 the rate looks wrong",
    },
    CommandSpec {
        name: "funds",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Funds),
        example: "",
    },
    CommandSpec {
        name: "feedback",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[
            req("partner", K::Name),
            req("score", K::Number),
            opt("comment", K::Text),
        ],
        parse: command::parse_feedback,
        example: "王氏电子 5 fast delivery",
    },
    CommandSpec {
        name: "adjust",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[
            req("partner", K::Name),
            req("delta", K::Amount),
            req("reason", K::Text),
        ],
        parse: command::parse_adjust,
        example: "王氏电子 -500 returned goods",
    },
    CommandSpec {
        name: "answer",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("dispute", K::Number), req("text", K::Text)],
        parse: command::parse_answer,
        example: "1 checked, the rate is right",
    },
    CommandSpec {
        name: "allocate",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("budget", K::Amount), opt("currency", K::Currency)],
        parse: command::parse_allocate,
        example: "100000",
    },
];

/// The message for one statement line: its explanation, numbered, with its amount.
pub(crate) fn line_msg(line: &DocLine, currency: crate::engine::money::Currency) -> Msg {
    let mut msg = Msg::new(&line.key).int("id", i64::from(line.id)).text(
        "amount",
        Money::from_minor(line.amount_minor, currency).format(),
    );
    for (k, v) in &line.args {
        if k != "amount" {
            msg = msg.text(k, v);
        }
    }
    msg
}

impl App {
    /// The current period, or the one named (`2026-10`), which must be of the program's kind.
    fn period_arg(&self, ctx: &Ctx<'_>, text: Option<&str>) -> Handled<Period> {
        match text {
            None => Ok(self.period_at(ctx.now)),
            Some(t) => Period::parse(t)
                .filter(|p| p.kind() == self.config.program.period)
                .ok_or_else(|| user(Msg::new("error-bad-period").text("text", t))),
        }
    }

    async fn own_partner(&self, ctx: &Ctx<'_>, conn: &mut store::Conn) -> Handled<Partner> {
        let id = ctx.partner()?;
        partners::get(conn, id).await?.ok_or_else(|| {
            Failure::Internal(anyhow::anyhow!("partner {id} of a member is missing"))
        })
    }

    async fn named_partner(&self, conn: &mut store::Conn, name: &str) -> Handled<Partner> {
        let found = match name.trim().parse::<i64>() {
            Ok(id) => partners::get(conn, PartnerId(id)).await?,
            Err(_) => partners::find_by_name(conn, name).await?,
        };
        found.ok_or_else(|| user(Msg::new("partner-unknown").text("partner", name)))
    }

    fn money(&self, minor: i64) -> String {
        self.program_money(minor)
    }

    fn statement_reply(&self, doc: &StatementDoc) -> Reply {
        let currency = self.config.program.currency;
        let mut reply = Reply::private(
            Msg::new("statement-header")
                .text("partner", &doc.partner)
                .text("period", &doc.period)
                .text("plan", doc.plan.clone().unwrap_or_else(|| "-".into()))
                .text("state", if doc.locked { "locked" } else { "draft" }),
        );
        if doc.lines.is_empty() {
            reply = reply.line(Msg::new("statement-empty"));
        }
        for line in &doc.lines {
            reply = reply.line(line_msg(line, currency));
        }
        reply.line(
            Msg::new("statement-total")
                .text("total", self.money(doc.total_minor))
                .text(
                    "sales",
                    Money::new(doc.sales.parse().unwrap_or_default(), currency).format(),
                )
                .text(
                    "attainment",
                    doc.attainment.clone().unwrap_or_else(|| "-".into()),
                ),
        )
    }

    pub(crate) async fn statement_cmd(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        period: Option<&str>,
    ) -> Handled {
        let period = self.period_arg(ctx, period)?;
        let partner = self.own_partner(ctx, conn).await?;
        let doc = self.statement(conn, &partner, period).await?;
        Ok(vec![self.statement_reply(&doc)])
    }

    pub(crate) async fn why(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        line: u32,
        period: Option<&str>,
    ) -> Handled {
        let period = self.period_arg(ctx, period)?;
        let partner = self.own_partner(ctx, conn).await?;
        let doc = self.statement(conn, &partner, period).await?;
        let found = doc.lines.iter().find(|l| l.id == line).ok_or_else(|| {
            user(
                Msg::new("why-no-line")
                    .int("line", i64::from(line))
                    .int("count", doc.lines.len() as i64),
            )
        })?;
        let reply = Reply::private(line_msg(found, self.config.program.currency)).line(
            Msg::new("why-detail")
                .text("kind", &found.kind)
                .text("base", &found.base)
                .text("rate", found.rate.clone().unwrap_or_else(|| "-".into()))
                .text("lower", found.lower.clone().unwrap_or_else(|| "-".into()))
                .text("upper", found.upper.clone().unwrap_or_else(|| "-".into()))
                .text("plan", doc.plan.clone().unwrap_or_else(|| "-".into())),
        );
        Ok(vec![reply])
    }

    pub(crate) async fn what_if(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        amount_input: AmountInput,
        category: Option<String>,
    ) -> Handled {
        let partner = self.own_partner(ctx, conn).await?;
        let program = self.config.program.currency;
        let money =
            amount::to_money(amount_input, program).map_err(|e| user(amount_error_msg(&e)))?;
        let money = self.to_program_money(money)?;
        let extra = money
            .to_minor()
            .map_err(|_| user(Msg::new("amount-too-large")))?;
        let period = self.period_at(ctx.now);
        let facts = self.statement_facts(conn, partner.id, period).await?;
        let before = self.compute_statement(&partner, period, &facts);
        let mut more = facts.clone();
        let key = category.as_ref().map(|c| c.to_lowercase());
        *more.by_category.entry(key).or_insert(0) += extra;
        let after = self.compute_statement(&partner, period, &more);

        let mut reply = Reply::private(
            Msg::new("whatif-header")
                .text("amount", money.format())
                .text("total_before", self.money(before.total_minor))
                .text("total_after", self.money(after.total_minor))
                .text("change", self.money(after.total_minor - before.total_minor)),
        );
        // Line by line: the change in each kind of line.
        let mut kinds: Vec<&str> = before
            .lines
            .iter()
            .chain(&after.lines)
            .map(|l| l.kind.as_str())
            .collect();
        kinds.dedup();
        let mut seen = std::collections::BTreeSet::new();
        for kind in kinds {
            if !seen.insert(kind) {
                continue;
            }
            let sum = |doc: &StatementDoc| -> i64 {
                doc.lines
                    .iter()
                    .filter(|l| l.kind == kind)
                    .map(|l| l.amount_minor)
                    .sum()
            };
            let (b, a) = (sum(&before), sum(&after));
            if a != b {
                reply = reply.line(
                    Msg::new("whatif-line")
                        .text("kind", kind)
                        .text("before", self.money(b))
                        .text("after", self.money(a)),
                );
            }
        }
        if before.attainment != after.attainment {
            reply = reply.line(
                Msg::new("whatif-attainment")
                    .text(
                        "before",
                        before.attainment.clone().unwrap_or_else(|| "-".into()),
                    )
                    .text(
                        "after",
                        after.attainment.clone().unwrap_or_else(|| "-".into()),
                    ),
            );
        }
        // Rank: where the new total would stand now.
        let basis = self.rank_basis();
        let board = self
            .ranks
            .leaderboard(conn, &period.key(), basis, Some(partner.id), 0)
            .await?;
        let mine = totals::get(conn, &period.key(), partner.id).await?;
        let new_total = mine.approved_minor + extra;
        let new_place = self
            .ranks
            .place_for(&period.key(), basis, partner.id, new_total)
            .await;
        if let Some(new_place) = new_place {
            let old = board.me.map(|(p, _)| p as i64);
            reply = reply.line(
                Msg::new("whatif-rank")
                    .text("before", old.map_or("-".to_string(), |p| p.to_string()))
                    .int("after", new_place as i64),
            );
        }
        // Tier: trailing twelve months with the extra sale.
        if !self.config.tiers.is_empty() {
            let trailing = self.trailing_sales(conn, partner.id, period).await?;
            let certs = incentives::certifications(conn, partner.id).await?;
            let tier_of = |sales: i64| {
                tier::evaluate(
                    &self.config.tiers,
                    &TierFacts {
                        trailing_sales: Money::from_minor(sales, program).amount(),
                        certifications: certs.clone(),
                    },
                )
                .map(|t| t.name.clone())
            };
            let (t0, t1) = (tier_of(trailing), tier_of(trailing + extra));
            if t0 != t1 {
                reply = reply.line(
                    Msg::new("whatif-tier")
                        .text("before", t0.unwrap_or_else(|| "-".into()))
                        .text("after", t1.unwrap_or_else(|| "-".into())),
                );
            }
        }
        Ok(vec![reply])
    }

    /// Approved sales over the twelve periods ending with `period` (months; for quarters and
    /// years, the periods covering the same span).
    pub(crate) async fn trailing_sales(
        &self,
        conn: &mut store::Conn,
        partner: PartnerId,
        period: Period,
    ) -> store::Result<i64> {
        incentives::approved_over(conn, partner, &period.trailing_year_keys()).await
    }

    pub(crate) async fn feedback(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        partner: &str,
        score: u8,
        comment: Option<String>,
    ) -> Handled {
        ctx.require_manager()?;
        let partner = self.named_partner(conn, partner).await?;
        incentives::add_feedback(
            conn,
            partner.id,
            score,
            comment.as_deref(),
            ctx.member.id,
            ctx.now,
        )
        .await?;
        audit::record(
            conn,
            Some(ctx.member.id),
            AuditAction::FeedbackAdd,
            &format!("partner {}", partner.id),
            None,
            Some(&json!({ "score": score, "comment": comment })),
            ctx.now,
        )
        .await?;
        Ok(vec![Reply::here(
            Msg::new("feedback-recorded")
                .text("partner", &partner.name)
                .int("score", i64::from(score)),
        )])
    }

    pub(crate) async fn adjust(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        partner: &str,
        amount_input: AmountInput,
        negative: bool,
        reason: &str,
    ) -> Handled {
        ctx.require_manager()?;
        let partner = self.named_partner(conn, partner).await?;
        let money = amount::to_money(amount_input, self.config.program.currency)
            .map_err(|e| user(amount_error_msg(&e)))?;
        let money = self.to_program_money(money)?;
        let minor = money
            .to_minor()
            .map_err(|_| user(Msg::new("amount-too-large")))?;
        let minor = if negative { -minor } else { minor };
        // Adjustments land in the first open period from now on.
        let mut period = self.period_at(ctx.now);
        while stored::is_closed(conn, &period.key()).await? {
            period = period.next();
        }
        let id = stored::insert_adjustment(
            conn,
            partner.id,
            &period.key(),
            minor,
            reason,
            None,
            None,
            Some(ctx.member.id),
            ctx.now,
        )
        .await?;
        audit::record(
            conn,
            Some(ctx.member.id),
            AuditAction::StatementAdjust,
            &format!("partner {}", partner.id),
            None,
            Some(&json!({ "adjustment": id, "period": period.key(), "amount_minor": minor, "reason": reason })),
            ctx.now,
        )
        .await?;
        Ok(vec![Reply::private(
            Msg::new("adjust-recorded")
                .text("partner", &partner.name)
                .text("amount", self.money(minor))
                .text("period", period.key()),
        )])
    }

    pub(crate) async fn dispute(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        line: u32,
        reason: &str,
    ) -> Handled {
        let partner = self.own_partner(ctx, conn).await?;
        let period = self.period_at(ctx.now);
        let doc = self.statement(conn, &partner, period).await?;
        if !doc.lines.iter().any(|l| l.id == line) {
            return Err(user(
                Msg::new("why-no-line")
                    .int("line", i64::from(line))
                    .int("count", doc.lines.len() as i64),
            ));
        }
        let id = incentives::open_dispute(
            conn,
            partner.id,
            &period.key(),
            line,
            reason,
            ctx.member.id,
            ctx.now,
        )
        .await?;
        let mut replies = vec![Reply::private(
            Msg::new("dispute-opened")
                .int("dispute", id.0)
                .int("line", i64::from(line)),
        )];
        for manager in members::managers(conn).await? {
            replies.push(Reply {
                to: Destination::Member(manager.id),
                locale: manager.locale.as_deref().and_then(Locale::from_tag),
                ..Reply::here(
                    Msg::new("dispute-new")
                        .int("dispute", id.0)
                        .text("partner", &partner.name)
                        .text("period", period.key())
                        .int("line", i64::from(line))
                        .text("reason", reason),
                )
            });
        }
        Ok(replies)
    }

    pub(crate) async fn answer(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        id: DisputeId,
        text: &str,
    ) -> Handled {
        ctx.require_manager()?;
        let dispute = incentives::dispute(conn, id)
            .await?
            .ok_or_else(|| user(Msg::new("dispute-unknown").int("dispute", id.0)))?;
        if !incentives::answer_dispute(conn, id, text, ctx.member.id, ctx.now).await? {
            return Err(user(Msg::new("dispute-answered").int("dispute", id.0)));
        }
        audit::record(
            conn,
            Some(ctx.member.id),
            AuditAction::DisputeAnswer,
            &format!("dispute {id}"),
            Some(&json!({ "status": dispute.status })),
            Some(&json!({ "status": "answered", "answer": text })),
            ctx.now,
        )
        .await?;
        let mut replies = vec![Reply::here(
            Msg::new("dispute-answer-sent").int("dispute", id.0),
        )];
        if let Some(opener) = dispute.opened_by {
            let locale = members::get(conn, opener)
                .await?
                .and_then(|m| m.locale)
                .as_deref()
                .and_then(Locale::from_tag);
            replies.push(Reply {
                to: Destination::Member(opener),
                locale,
                ..Reply::here(
                    Msg::new("dispute-your-answer")
                        .int("dispute", id.0)
                        .int("line", dispute.line)
                        .text("period", &dispute.period)
                        .text("answer", text),
                )
            });
        }
        Ok(replies)
    }

    pub(crate) async fn allocate(
        &self,
        ctx: &mut Ctx<'_>,
        conn: &mut store::Conn,
        budget: AmountInput,
    ) -> Handled {
        ctx.require_manager()?;
        let program = self.config.program.currency;
        let budget = amount::to_money(budget, program).map_err(|e| user(amount_error_msg(&e)))?;
        let budget = self.to_program_money(budget)?;
        let period = self.period_at(ctx.now);
        let trailing = incentives::approved_over_all(conn, &period.trailing_year_keys()).await?;
        let current = stored::approved_totals(conn, &period.key()).await?;
        let last_year = stored::approved_totals(conn, &period.year_earlier().key()).await?;
        let potentials = incentives::potentials(conn).await?;
        let dec = |minor: i64| Money::from_minor(minor, program).amount();
        let inputs: Vec<AllocationInput> = partners::list(conn)
            .await?
            .iter()
            .filter(|p| p.status == crate::engine::partner::PartnerStatus::Active)
            .map(|p| AllocationInput {
                partner: p.id,
                potential: dec(potentials.get(&p.id).copied().unwrap_or(0)),
                trailing_sales: dec(trailing.get(&p.id).copied().unwrap_or(0)),
                current: dec(current.get(&p.id).copied().unwrap_or(0)),
                last_year: dec(last_year.get(&p.id).copied().unwrap_or(0)),
            })
            .collect();
        let shares = allocation::allocate(budget, &self.config.allocation, &inputs)
            .map_err(|e| user(Msg::new("allocate-failed").text("reason", e.to_string())))?;
        let weights = serde_json::to_string(&self.config.allocation)
            .map_err(|e| Failure::Internal(e.into()))?;
        let budget_minor = budget
            .to_minor()
            .map_err(|_| user(Msg::new("amount-too-large")))?;
        let run = incentives::insert_allocation_run(
            conn,
            budget_minor,
            program.code(),
            &weights,
            ctx.member.id,
            ctx.now,
        )
        .await?;
        for (share, input) in shares.iter().zip(&inputs) {
            let inputs_json = json!({
                "potential": input.potential.to_string(),
                "trailing_sales": input.trailing_sales.to_string(),
                "growth": (input.current - input.last_year).max(Decimal::ZERO).to_string(),
                "potential_share": share.potential_share.round_dp(6).to_string(),
                "contribution_share": share.contribution_share.round_dp(6).to_string(),
                "growth_share": share.growth_share.round_dp(6).to_string(),
                "weighted": share.weighted.round_dp(6).to_string(),
                "floored": share.floored,
                "capped": share.capped,
            });
            let amount_minor = share
                .amount
                .to_minor()
                .map_err(|e| Failure::Internal(e.into()))?;
            incentives::insert_allocation_share(
                conn,
                run,
                share.partner,
                amount_minor,
                &inputs_json.to_string(),
            )
            .await?;
        }
        audit::record(
            conn,
            Some(ctx.member.id),
            AuditAction::FundsAllocate,
            &format!("allocation {run}"),
            None,
            Some(&json!({ "budget_minor": budget_minor, "partners": shares.len() })),
            ctx.now,
        )
        .await?;
        Ok(vec![Reply::here(
            Msg::new("allocate-done")
                .int("run", run.0)
                .text("budget", budget.format())
                .int("partners", shares.len() as i64),
        )])
    }

    pub(crate) async fn funds(&self, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
        let partner = ctx.partner()?;
        let Some(share) = incentives::latest_share(conn, partner).await? else {
            return Ok(vec![Reply::private(Msg::new("funds-none"))]);
        };
        let inputs: serde_json::Value =
            serde_json::from_str(&share.inputs_json).map_err(|e| Failure::Internal(e.into()))?;
        // The run's own weights, not today's config: the share was computed with these.
        let w: AllocationWeights =
            serde_json::from_str(&share.weights_json).map_err(|e| Failure::Internal(e.into()))?;
        let field = |k: &str| {
            inputs
                .get(k)
                .and_then(|v| v.as_str())
                .unwrap_or("0")
                .to_string()
        };
        Ok(vec![
            Reply::private(
                Msg::new("funds-share")
                    .int("run", share.run.0)
                    .text("amount", self.money(share.amount_minor))
                    .text("budget", self.money(share.budget_minor)),
            )
            .line(
                Msg::new("funds-inputs")
                    .text("potential", field("potential"))
                    .text("trailing", field("trailing_sales"))
                    .text("growth", field("growth"))
                    .text("potential_share", field("potential_share"))
                    .text("contribution_share", field("contribution_share"))
                    .text("growth_share", field("growth_share"))
                    .text(
                        "weights",
                        format!("{}/{}/{}", w.potential, w.contribution, w.growth),
                    ),
            ),
        ])
    }
}
