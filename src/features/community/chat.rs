//! `/kudos`, `/rank points` and the points-and-badges line of `/me`.

use crate::app::App;
use crate::chat::command::{self, Command, ParseError, Token};
use crate::chat::handler::{Ctx, Handled, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt};
use crate::chat::reply::{Msg, Reply};
use crate::engine::ids::PartnerId;
use crate::features::community::badges;
use crate::features::community::kudos::{self, Target};
use crate::store::{self, points as ledger};

/// How many places `/rank points` shows, and receivers `/kudos` lists.
const TOP: i64 = 10;
const TOP_RECEIVERS: i64 = 5;

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "kudos",
    audience: Audience::Partner,
    writes: Writes::WithArguments,
    params: &[opt("member", K::Name), opt("reason", K::Text)],
    parse: parse_kudos,
    example: "\"Alice Retail\" thanks for the demo",
}];

/// `/kudos [member] [reason]`: the first word (or quoted phrase) and the rest; the handler
/// decides whether the first word names the receiver or, in a reply, starts the reason.
pub fn parse_kudos(tokens: &[Token]) -> Result<Command, ParseError> {
    Ok(Command::Kudos {
        first: tokens.first().cloned(),
        reason: command::join(tokens.get(1..).unwrap_or_default()),
    })
}

/// `/rank points` is the points board; anything else after `/rank` is a contest (see
/// `features::contests::chat::parse_rank`). `points` wins over a contest of that id.
pub fn parse_rank(tokens: &[Token]) -> Result<Command, ParseError> {
    match tokens {
        [only] if !only.quoted && only.text.eq_ignore_ascii_case("points") => {
            Ok(Command::RankPoints)
        }
        _ => crate::features::contests::chat::parse_rank(tokens),
    }
}

/// `/kudos …`: thanks a member or partner; alone, shows what is left today and this week's
/// top receivers.
pub(crate) async fn kudos(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    first: Option<Token>,
    reason: String,
) -> Handled {
    ctx.require_member()?;
    let Some(first) = first else {
        return status(app, ctx, conn).await;
    };
    let addressed = Target::addressed(&first.text);
    let (target, reason) = match (addressed, &ctx.incoming.reply_to) {
        (Some(target), _) => (target, reason),
        (None, Some(author)) => {
            let whole = if reason.is_empty() {
                first.text.clone()
            } else {
                format!("{} {reason}", first.text)
            };
            (Target::ReplyAuthor(author.clone()), whole)
        }
        (None, None) => (Target::Partner(first.text.clone()), reason),
    };
    let given = kudos::give(app, conn, &ctx.member, &target, &reason, ctx.now).await?;
    match given {
        Err(refusal) => Err(user(refusal.msg())),
        Ok(given) => Ok(vec![Reply::here(
            Msg::new("kudos-sent")
                .text("to", &given.receiver)
                .int("left", given.left),
        )]),
    }
}

async fn status(app: &App, ctx: &Ctx<'_>, conn: &mut store::Conn) -> Handled {
    let left = kudos::left_today(app, conn, ctx.member.id, ctx.now).await?;
    let since = kudos::week_start(app, ctx.now);
    let top = store::kudos::top_receivers(conn, since, TOP_RECEIVERS).await?;
    let mut reply = Reply::here(
        Msg::new("kudos-status")
            .int("left", left)
            .int("daily", i64::from(app.config.kudos.daily)),
    );
    if top.is_empty() {
        reply = reply.line(Msg::new("kudos-week-none"));
    } else {
        reply = reply.line(Msg::new("kudos-week-header"));
        for (place, (name, count)) in top.iter().enumerate() {
            reply = reply.line(
                Msg::new("kudos-week-line")
                    .int("place", place as i64 + 1)
                    .text("partner", name)
                    .int("count", *count),
            );
        }
    }
    Ok(vec![reply])
}

/// `/rank points`: partners by points, and the caller's place.
pub(crate) async fn rank_points(ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_member()?;
    let (top, partners) = ledger::board(conn, TOP).await?;
    if top.is_empty() {
        return Ok(vec![Reply::here(Msg::new("points-rank-empty"))]);
    }
    let mut reply = Reply::here(Msg::new("points-rank-header").int("partners", partners));
    for (place, s) in top.iter().enumerate() {
        reply = reply.line(
            Msg::new("points-rank-line")
                .int("place", place as i64 + 1)
                .text("partner", &s.name)
                .int("points", s.points),
        );
    }
    if let Some(partner) = ctx.member.partner_id {
        match ledger::place_of(conn, partner).await? {
            Some((place, points)) => {
                reply = reply.line(
                    Msg::new("points-rank-me")
                        .int("place", place)
                        .int("points", points),
                );
            }
            None => reply = reply.line(Msg::new("points-rank-me-none")),
        }
    }
    Ok(vec![reply])
}

/// The `/me` line with the partner's points and badges.
pub(crate) async fn me_line(
    app: &App,
    ctx: &Ctx<'_>,
    conn: &mut store::Conn,
    partner: PartnerId,
) -> Handled<Msg> {
    let points = ledger::total(conn, partner).await?;
    let held = badges::held_names(app, conn, partner, ctx.locale).await?;
    let shown = if held.is_empty() {
        "-".to_string()
    } else {
        held.join(", ")
    };
    Ok(Msg::new("me-points")
        .int("points", points)
        .text("badges", shown))
}
