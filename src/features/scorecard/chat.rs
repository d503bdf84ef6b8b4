//! `/me` (the scorecard, rendered purely from what the service gathers) and `/feedback`.

use serde_json::json;

use crate::app::App;
use crate::chat::args::named_partner;
use crate::chat::command::{self, Command};
use crate::chat::handler::{Ctx, Failure, Handled};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Msg, Reply};
use crate::engine::audit::AuditAction;
use crate::engine::money::{Currency, Money};
use crate::features::scorecard::service::Scorecard;
use crate::store::{self, audit, incentives};

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "me",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Me),
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
];

/// The scorecard: sales, growth, coverage, feedback, attainment, rank, tier.
pub(crate) async fn me(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    let partner_id = ctx.partner()?;
    let card = crate::features::scorecard::service::scorecard(app, conn, partner_id, ctx.now)
        .await
        .map_err(Failure::Internal)?;
    let mut reply = scorecard_reply(&card, app.config.program.currency);
    // Training: certifications held, and this member's trainings completed and coming up.
    let held = crate::store::incentives::certifications(conn, partner_id).await?;
    let mine = crate::store::trainings::of_member(conn, ctx.member.id).await?;
    let completed = mine.iter().filter(|e| e.completed_at.is_some()).count();
    let upcoming = mine
        .iter()
        .filter(|e| e.completed_at.is_none() && e.checked_in_at.is_none())
        .count();
    reply = reply.line(
        Msg::new("me-training")
            .text(
                "certifications",
                if held.is_empty() {
                    "-".to_string()
                } else {
                    held.into_iter().collect::<Vec<_>>().join(", ")
                },
            )
            .int("completed", i64::try_from(completed).unwrap_or(0))
            .int("upcoming", i64::try_from(upcoming).unwrap_or(0)),
    );
    // Community (issue 11): points and badges.
    reply =
        reply.line(crate::features::community::chat::me_line(app, ctx, conn, partner_id).await?);
    Ok(vec![reply])
}

/// `/feedback <partner> <1-5> [comment]`: a manager records customer feedback for a partner.
pub(crate) async fn feedback(
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    partner: &str,
    score: u8,
    comment: Option<String>,
) -> Handled {
    ctx.require_manager()?;
    let partner = named_partner(conn, partner).await?;
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
