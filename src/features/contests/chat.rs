//! Contests in chat: `/rank <contest>` (the contest's top 10, your place and the gap to the
//! next; with the chart in a group) and `/contests [past]` (running and upcoming contests with
//! your place, or ended seasons with their winners). `/rank` without a contest is the period
//! ranking (`features::ranking`).

use crate::app::App;
use crate::chat::command::{self, Command, ParseError};
use crate::chat::handler::{Ctx, Handled, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt};
use crate::chat::reply::{Msg, Reply};
use crate::config::Locale;
use crate::engine::contest::{Contest, Gap, Phase};
use crate::features::contests::service;
use crate::store::{self, contests as stored};

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "contests",
    audience: Audience::Partner,
    writes: Writes::Never,
    params: &[opt("past", K::Word)],
    parse: |t| match t {
        [] => Ok(Command::Contests { past: false }),
        [word] if word.text.eq_ignore_ascii_case("past") || word.text == "往届" => {
            Ok(Command::Contests { past: true })
        }
        _ => Err(ParseError::Usage("contests")),
    },
    example: "past",
}];

/// `/rank` with arguments: the contest they name.
pub fn parse_rank(tokens: &[command::Token]) -> Result<Command, ParseError> {
    if tokens.is_empty() {
        return Ok(Command::Rank);
    }
    Ok(Command::RankContest {
        contest: command::checked_name(command::join(tokens))?,
    })
}

fn chinese(locale: Locale) -> bool {
    locale == Locale::ZhCn
}

/// "q4-growth (Q4 Growth Cup), spring (Spring Sprint)": every contest, for a name not found.
fn contest_list(app: &App, locale: Locale) -> String {
    app.config
        .contests
        .iter()
        .map(|c| format!("{} ({})", c.id, c.display_name(chinese(locale))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn metric_name(app: &App, locale: Locale, contest: &Contest) -> String {
    let key = format!(
        "contest-metric-{}",
        contest.metric.as_str().replace('_', "-")
    );
    let name = app.i18n.render(locale, &Msg::new(&key));
    if contest.handicap {
        let handicap = app.i18n.render(locale, &Msg::new("contest-handicap"));
        format!("{name}, {handicap}")
    } else {
        name
    }
}

/// `/rank <contest>`.
pub(crate) async fn rank(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    text: &str,
) -> Handled {
    ctx.require_member()?;
    let zh = chinese(ctx.locale);
    let Some(contest) = service::find(app, text) else {
        if app.config.contests.is_empty() {
            return Err(user(Msg::new("contest-none")));
        }
        return Err(user(
            Msg::new("contest-unknown")
                .text("text", text)
                .text("list", contest_list(app, ctx.locale)),
        ));
    };
    let today = app.local_date(ctx.now);
    let name = contest.display_name(zh).to_string();
    let phase = contest.phase(today);
    if phase == Phase::Upcoming {
        return Ok(vec![Reply::here(
            Msg::new("contest-upcoming")
                .text("contest", &name)
                .text("start", contest.start.to_string()),
        )]);
    }
    if phase == Phase::Ended
        && let Some(archived) = stored::archived_one(conn, &contest.id).await?
    {
        return final_board(app, ctx, contest, &archived);
    }
    let me = ctx.member.partner_id;
    let board = service::board(app, conn, contest, me).await?;
    let rule = service::rule(app, contest);
    let header = if phase == Phase::Ended {
        Msg::new("contest-board-final")
    } else {
        Msg::new("contest-board-header")
            .text("metric", metric_name(app, ctx.locale, contest))
            .text("end", contest.end.to_string())
            .int("days", service::days_left(contest, today))
    };
    let mut reply = Reply::here(
        header
            .text("contest", &name)
            .int("partners", board.participants as i64),
    );
    if board.top.is_empty() {
        reply = reply.line(Msg::new("contest-board-empty"));
    }
    for (place, _, partner, facts) in &board.top {
        reply = reply.line(service::board_line(app, &rule, *place, partner, facts));
    }
    if let Some(partner) = me {
        if !service::includes(conn, contest, partner).await? {
            reply = reply.line(Msg::new("contest-out-of-scope"));
        } else {
            match (board.place, board.mine) {
                (Some(place), Some(mine)) => {
                    let (_, value) = service::shown(app, rule.shown(&mine));
                    reply = reply.line(
                        Msg::new("contest-me")
                            .int("place", place as i64)
                            .text("value", value),
                    );
                    if let Some(gap) = board.above.and_then(|above| rule.gap(&mine, above)) {
                        let msg = match gap {
                            Gap::Money(m) => {
                                Msg::new("contest-gap-money").text("gap", app.program_money(m))
                            }
                            Gap::Sales(n) => Msg::new("contest-gap-sales").int("gap", n),
                            Gap::Customers(n) => Msg::new("contest-gap-customers").int("gap", n),
                        };
                        reply = reply.line(msg.int("place", place as i64 - 1));
                    }
                }
                (_, Some(mine)) => {
                    let needed = (rule.min_sales_minor - mine.amount_minor).max(1);
                    reply = reply.line(
                        Msg::new("contest-not-qualified").text("needed", app.program_money(needed)),
                    );
                }
                (_, None) => {
                    let msg =
                        Msg::new("contest-no-standing").text("start", contest.start.to_string());
                    reply = reply.line(msg);
                }
            }
        }
    }
    if !ctx.incoming.private_chat {
        reply.chart = service::store_chart(app, conn, contest, &board, today).await?;
    }
    Ok(vec![reply])
}

fn final_board(
    app: &App,
    ctx: &Ctx<'_>,
    contest: &Contest,
    archived: &stored::Archived,
) -> Handled {
    let rule = service::rule(app, contest);
    let standings = service::final_standings(archived)?;
    let mut reply = Reply::here(
        Msg::new("contest-board-final")
            .text("contest", contest.display_name(chinese(ctx.locale)))
            .int("partners", archived.participants),
    );
    if standings.is_empty() {
        reply = reply.line(Msg::new("contest-board-empty"));
    }
    for s in standings.iter().take(service::TOP) {
        reply = reply.line(service::board_line(
            app,
            &rule,
            s.place,
            &s.partner,
            &s.facts(),
        ));
    }
    if let Some(partner) = ctx.member.partner_id
        && let Some(mine) = standings.iter().find(|s| s.partner_id == partner.0)
    {
        let (_, value) = service::shown(app, rule.shown(&mine.facts()));
        reply = reply.line(
            Msg::new("contest-me")
                .int("place", mine.place as i64)
                .text("value", value),
        );
    }
    Ok(vec![reply])
}

/// `/contests [past]`.
pub(crate) async fn contests(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    past: bool,
) -> Handled {
    ctx.require_member()?;
    if past {
        return past_contests(app, ctx, conn).await;
    }
    let today = app.local_date(ctx.now);
    let zh = chinese(ctx.locale);
    let mut current: Vec<&Contest> = app
        .config
        .contests
        .iter()
        .filter(|c| c.phase(today) != Phase::Ended)
        .collect();
    current.sort_by_key(|c| (c.start, c.end));
    if current.is_empty() {
        return Ok(vec![Reply::here(Msg::new("contests-empty"))]);
    }
    let mut reply = Reply::here(Msg::new("contests-header"));
    for contest in current {
        let name = contest.display_name(zh);
        let metric = metric_name(app, ctx.locale, contest);
        let mut line = match contest.phase(today) {
            Phase::Upcoming => Msg::new("contests-upcoming")
                .text("start", contest.start.to_string())
                .text("end", contest.end.to_string()),
            _ => Msg::new("contests-running")
                .text("end", contest.end.to_string())
                .int("days", service::days_left(contest, today)),
        };
        line = line
            .text("contest", name)
            .text("id", &contest.id)
            .text("metric", metric);
        reply = reply.line(line);
        let Some(partner) = ctx.member.partner_id else {
            continue;
        };
        let status = if !service::includes(conn, contest, partner).await? {
            Msg::new("contests-outside")
        } else if contest.phase(today) == Phase::Upcoming {
            Msg::new("contests-entered")
        } else {
            let board = service::board(app, conn, contest, Some(partner)).await?;
            match (board.place, board.mine) {
                (Some(place), _) => Msg::new("contests-place")
                    .int("place", place as i64)
                    .int("partners", board.participants as i64),
                (None, mine) => {
                    let rule = service::rule(app, contest);
                    let have = mine.map_or(0, |m| m.amount_minor);
                    let needed = (rule.min_sales_minor - have).max(1);
                    Msg::new("contests-unqualified").text("needed", app.program_money(needed))
                }
            }
        };
        reply = reply.line(status);
    }
    Ok(vec![reply])
}

async fn past_contests(app: &App, ctx: &Ctx<'_>, conn: &mut store::Conn) -> Handled {
    let archived = stored::archived_all(conn, 20).await?;
    if archived.is_empty() {
        return Ok(vec![Reply::here(Msg::new("contests-past-empty"))]);
    }
    let mut reply = Reply::here(Msg::new("contests-past-header"));
    for a in &archived {
        let name = match (&a.name_zh, chinese(ctx.locale)) {
            (Some(zh), true) => zh.clone(),
            _ => a.name.clone(),
        };
        let prizes = stored::prizes_of(conn, &a.contest_id).await?;
        let winners: Vec<String> = if prizes.is_empty() {
            service::final_standings(a)?
                .iter()
                .take(3)
                .map(|s| format!("{}. {}", s.place, s.partner))
                .collect()
        } else {
            let names = store::totals::partner_names(
                conn,
                &prizes.iter().map(|p| p.partner).collect::<Vec<_>>(),
            )
            .await?;
            prizes
                .iter()
                .map(|p| {
                    let won = match (&p.amount_minor, &p.reward) {
                        (Some(m), _) => app.program_money(*m),
                        (None, Some(r)) => r.clone(),
                        _ => String::new(),
                    };
                    let who = names.get(&p.partner).cloned().unwrap_or_default();
                    format!("{}. {who} ({won})", p.place)
                })
                .collect()
        };
        let winners = if winners.is_empty() {
            app.i18n
                .render(ctx.locale, &Msg::new("contests-past-nobody"))
        } else {
            winners.join(", ")
        };
        reply = reply.line(
            Msg::new("contests-past-line")
                .text("contest", name)
                .text("id", &a.contest_id)
                .text("start", &a.start)
                .text("end", &a.end)
                .text("winners", winners),
        );
    }
    Ok(vec![reply])
}
