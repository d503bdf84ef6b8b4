//! Statements in chat: `/statement`, `/why`, `/whatif`, `/dispute`, `/answer` and `/adjust`. Money only in private.

use serde_json::json;

use crate::app::App;
use crate::chat::args::{named_partner, own_partner, period_arg, to_program_money};
use crate::chat::command::{self, Command};
use crate::chat::handler::{Ctx, Handled, amount_error_msg, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Destination, Msg, Reply};
use crate::config::Locale;
use crate::engine::amount::{self, AmountInput};
use crate::engine::audit::AuditAction;
use crate::engine::ids::DisputeId;
use crate::engine::money::Money;
use crate::engine::tier::{self, TierFacts};
use crate::features::statements::service::{DocLine, StatementDoc};
use crate::store::statements as stored;
use crate::store::totals;
use crate::store::{self, audit, incentives, members};

/// The commands this feature handles.
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
];

pub(crate) fn statement_reply(app: &App, doc: &StatementDoc) -> Reply {
    let currency = app.config.program.currency;
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
            .text("total", app.program_money(doc.total_minor))
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

pub(crate) async fn statement(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    period: Option<&str>,
) -> Handled {
    let period = period_arg(app, ctx, period)?;
    let partner = own_partner(ctx, conn).await?;
    let doc = crate::features::statements::service::statement(app, conn, &partner, period).await?;
    Ok(vec![statement_reply(app, &doc)])
}

pub(crate) async fn why(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    line: u32,
    period: Option<&str>,
) -> Handled {
    let period = period_arg(app, ctx, period)?;
    let partner = own_partner(ctx, conn).await?;
    let doc = crate::features::statements::service::statement(app, conn, &partner, period).await?;
    let found = doc.lines.iter().find(|l| l.id == line).ok_or_else(|| {
        user(
            Msg::new("why-no-line")
                .int("line", i64::from(line))
                .int("count", doc.lines.len() as i64),
        )
    })?;
    let reply = Reply::private(line_msg(found, app.config.program.currency)).line(
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
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    amount_input: AmountInput,
    category: Option<String>,
) -> Handled {
    let partner = own_partner(ctx, conn).await?;
    let program = app.config.program.currency;
    let money = amount::to_money(amount_input, program).map_err(|e| user(amount_error_msg(&e)))?;
    let money = to_program_money(app, money)?;
    let extra = money
        .to_minor()
        .map_err(|_| user(Msg::new("amount-too-large")))?;
    let period = app.period_at(ctx.now);
    let facts =
        crate::features::statements::service::statement_facts(conn, partner.id, period).await?;
    let before =
        crate::features::statements::service::compute_statement(app, &partner, period, &facts);
    let mut more = facts.clone();
    let key = category.as_ref().map(|c| c.to_lowercase());
    *more.by_category.entry(key).or_insert(0) += extra;
    let after =
        crate::features::statements::service::compute_statement(app, &partner, period, &more);

    let mut reply = Reply::private(
        Msg::new("whatif-header")
            .text("amount", money.format())
            .text("total_before", app.program_money(before.total_minor))
            .text("total_after", app.program_money(after.total_minor))
            .text(
                "change",
                app.program_money(after.total_minor - before.total_minor),
            ),
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
                    .text("before", app.program_money(b))
                    .text("after", app.program_money(a)),
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
    let basis = app.rank_basis();
    let board = app
        .ranks
        .leaderboard(conn, &period.key(), basis, Some(partner.id), 0)
        .await?;
    let mine = totals::get(conn, &period.key(), partner.id).await?;
    let new_total = mine.approved_minor + extra;
    let new_place = app
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
    if !app.config.tiers.is_empty() {
        let trailing =
            crate::features::tiers::service::trailing_sales(conn, partner.id, period).await?;
        let certs = incentives::certifications(conn, partner.id).await?;
        let tier_of = |sales: i64| {
            tier::evaluate(
                &app.config.tiers,
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

pub(crate) async fn adjust(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    partner: &str,
    amount_input: AmountInput,
    negative: bool,
    reason: &str,
) -> Handled {
    ctx.require_manager()?;
    let partner = named_partner(conn, partner).await?;
    let money = amount::to_money(amount_input, app.config.program.currency)
        .map_err(|e| user(amount_error_msg(&e)))?;
    let money = to_program_money(app, money)?;
    let minor = money
        .to_minor()
        .map_err(|_| user(Msg::new("amount-too-large")))?;
    let minor = if negative { -minor } else { minor };
    // Adjustments land in the first open period from now on.
    let mut period = app.period_at(ctx.now);
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
            .text("amount", app.program_money(minor))
            .text("period", period.key()),
    )])
}

pub(crate) async fn dispute(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    line: u32,
    reason: &str,
) -> Handled {
    let partner = own_partner(ctx, conn).await?;
    let period = app.period_at(ctx.now);
    let doc = crate::features::statements::service::statement(app, conn, &partner, period).await?;
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
    for manager in members::managers_to_notify(conn).await? {
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
