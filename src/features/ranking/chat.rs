//! `/rank`: the period leaderboard, the caller's place and the gap to the next one.

use crate::app::App;
use crate::chat::handler::{Ctx, Handled};
use crate::chat::registry::{Audience, CommandSpec, ParamKind, Writes, opt};
use crate::chat::reply::{Msg, Reply};
use crate::store;

/// How many places `/rank` shows.
const RANK_TOP: usize = 10;

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "rank",
    audience: Audience::Partner,
    writes: Writes::Never,
    // `/rank <contest>` is a contest's board (`features::contests`).
    params: &[opt("contest", ParamKind::Name)],
    // `/rank points` is the points board (`features::community`).
    parse: crate::features::community::chat::parse_rank,
    example: "",
}];

pub(crate) async fn rank(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_member()?;
    let period = app.period_at(ctx.now).key();
    let board = app
        .ranks
        .leaderboard(
            &mut *conn,
            &period,
            app.rank_basis(),
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
                .text("total", app.program_money(s.total_minor)),
        );
    }
    match (&board.me, ctx.member.partner_id) {
        (Some((place, s)), _) => {
            let msg = Msg::new("rank-me")
                .int("place", *place as i64)
                .text("total", app.program_money(s.total_minor));
            reply = reply.line(msg);
            if let Some(gap) = board.gap_to_next {
                reply = reply.line(
                    Msg::new("rank-gap")
                        .text("gap", app.program_money(gap))
                        .int("place", *place as i64 - 1),
                );
            }
        }
        (None, Some(_)) => reply = reply.line(Msg::new("rank-me-none")),
        (None, None) => {}
    }
    Ok(vec![reply])
}
