//! `/kudos`, `/rank points` and the points-and-badges line of `/me`.

use crate::app::App;
use crate::chat::command::{self, Command, ParseError, Token};
use crate::chat::handler::{Ctx, Handled, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Msg, Reply};
use crate::engine::ids::PartnerId;
use crate::features::community::badges;
use crate::features::community::kudos::{self, Target};
use crate::features::community::stories::{self, StoryRefusal};
use crate::store::{self, points as ledger};

/// How many places `/rank points` shows, and receivers `/kudos` lists.
const TOP: i64 = 10;
const TOP_RECEIVERS: i64 = 5;

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "kudos",
        audience: Audience::Partner,
        writes: Writes::WithArguments,
        params: &[opt("member", K::Name), opt("reason", K::Text)],
        parse: parse_kudos,
        example: "\"Alice Retail\" thanks for the demo",
    },
    CommandSpec {
        name: "story",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("text", K::Text), opt("photo", K::Attachment)],
        parse: |_| Ok(Command::Story),
        example: "We won a 3-year contract with ACME",
    },
    CommandSpec {
        name: "stories",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Stories),
        example: "",
    },
    CommandSpec {
        name: "react",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("story", K::Number), req("reaction", K::Word)],
        parse: parse_react,
        example: "1 clap",
    },
    CommandSpec {
        name: "feature",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("story", K::Number)],
        parse: |tokens| {
            Ok(Command::FeatureStory {
                story: command::number(tokens, 0, "feature")?,
            })
        },
        example: "1",
    },
    CommandSpec {
        name: "hide",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("story", K::Number)],
        parse: |tokens| {
            Ok(Command::HideStory {
                story: command::number(tokens, 0, "hide")?,
            })
        },
        example: "1",
    },
];

/// `/react <story> <clap|fire|idea>` (what the reaction buttons send; emoji work too).
pub fn parse_react(tokens: &[Token]) -> Result<Command, ParseError> {
    let story = command::number(tokens, 0, "react")?;
    let kind = tokens
        .get(1)
        .and_then(|t| stories::reaction_kind(&t.text))
        .ok_or(ParseError::Usage("react"))?;
    if tokens.len() > 2 {
        return Err(ParseError::Usage("react"));
    }
    Ok(Command::React {
        story,
        kind: kind.to_string(),
    })
}

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

/// The text of `/story …` as written (lines and quotes kept), without the command word.
fn story_text(message: &str) -> &str {
    let message = message.trim_start();
    match message.find(char::is_whitespace) {
        Some(i) => message[i..].trim(),
        None => "",
    }
}

/// `/story <text>` (with a photo on Telegram, an attachment on Discord).
pub(crate) async fn story(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_member()?;
    let text = story_text(&ctx.incoming.text);
    let image = ctx.incoming.attachments.first().map(String::as_str);
    let key = ctx.key();
    let key = format!(
        "story:{}:{}:{}",
        key.platform.as_str(),
        key.chat_id,
        key.message_id
    );
    match stories::share(app, conn, &ctx.member, text, image, &key, ctx.now).await? {
        Ok((id, chats)) => Ok(vec![Reply::here(
            Msg::new("story-shared")
                .int("story", id)
                .int("chats", chats as i64),
        )]),
        Err(StoryRefusal::Empty) => Err(user(Msg::new("story-empty"))),
        Err(StoryRefusal::TooLong) => Err(user(
            Msg::new("story-too-long").int("max", stories::MAX_STORY_CHARS as i64),
        )),
        Err(StoryRefusal::NoPartner) => Err(user(Msg::new("error-no-partner"))),
    }
}

async fn visible_story(conn: &mut store::Conn, id: u32) -> Handled<store::stories::Story> {
    store::stories::get(conn, i64::from(id))
        .await?
        .filter(|s| s.hidden_at.is_none())
        .ok_or_else(|| user(Msg::new("story-unknown").int("story", i64::from(id))))
}

/// `/react <story> <kind>`: toggles the member's reaction; the pressed message's buttons show
/// the new counts (the story's other posts are edited through the outbox).
pub(crate) async fn react(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    id: u32,
    kind: &str,
) -> Handled {
    ctx.require_member()?;
    let story = visible_story(conn, id).await?;
    let pressed = ctx
        .incoming
        .pressed_message
        .as_ref()
        .map(|message| store::stories::Post {
            platform: ctx.incoming.platform.as_str().to_string(),
            chat_id: ctx.incoming.chat_id.clone(),
            message_id: message.clone(),
        });
    let member = ctx.member.id;
    let on = stories::react(app, conn, story.id, member, kind, pressed.as_ref(), ctx.now).await?;
    let buttons = stories::buttons(conn, story.id).await?;
    let counts: Vec<String> = buttons
        .iter()
        .filter_map(|(label, _)| {
            let emoji = label.args.iter().find(|(k, _)| k == "emoji")?;
            let count = label.args.iter().find(|(k, _)| k == "count")?;
            match (&emoji.1, &count.1) {
                (crate::chat::reply::Arg::Text(e), crate::chat::reply::Arg::Int(n)) => {
                    Some(format!("{e} {n}"))
                }
                _ => None,
            }
        })
        .collect();
    let mut reply = Reply::here(
        Msg::new(if on {
            "story-reacted"
        } else {
            "story-unreacted"
        })
        .int("story", story.id)
        .text("counts", counts.join(" · ")),
    );
    for (label, action) in buttons {
        reply = reply.button(label, action);
    }
    reply.refresh_buttons = true;
    Ok(vec![reply])
}

/// How many stories `/stories` lists.
const LATEST_STORIES: i64 = 5;

/// `/stories`: the latest, and this week's most reacted.
pub(crate) async fn list_stories(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_member()?;
    let latest = store::stories::latest(conn, LATEST_STORIES).await?;
    if latest.is_empty() {
        return Ok(vec![Reply::here(Msg::new("stories-none"))]);
    }
    let mut reply = Reply::here(Msg::new("stories-header"));
    for story in &latest {
        reply = reply.line(story_line(conn, story).await?);
    }
    let since = kudos::week_start(app, ctx.now);
    match store::stories::most_reacted(conn, since, ctx.now + 1).await? {
        Some((story, reactions)) => {
            reply = reply.line(Msg::new("stories-week").int("reactions", reactions));
            reply = reply.line(story_line(conn, &story).await?);
        }
        None => reply = reply.line(Msg::new("stories-week-none")),
    }
    Ok(vec![reply])
}

async fn story_line(conn: &mut store::Conn, story: &store::stories::Story) -> Handled<Msg> {
    let partner = store::partners::get(conn, story.partner)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let shown: String = story.text.chars().take(80).collect();
    let more = if story.text.chars().count() > 80 {
        "…"
    } else {
        ""
    };
    Ok(Msg::new("stories-line")
        .int("story", story.id)
        .text("partner", partner)
        .text("text", format!("{shown}{more}"))
        .text(
            "featured",
            if story.featured_at.is_some() {
                "⭐ "
            } else {
                ""
            },
        ))
}

/// `/feature <story>` (manager).
pub(crate) async fn feature(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    id: u32,
) -> Handled {
    ctx.require_manager()?;
    let story = visible_story(conn, id).await?;
    if !stories::feature(app, conn, &story, ctx.member.id, ctx.now).await? {
        return Err(user(
            Msg::new("story-already-featured").int("story", story.id),
        ));
    }
    Ok(vec![Reply::here(
        Msg::new("story-featured-done")
            .int("story", story.id)
            .int("points", app.config.points.featured_story),
    )])
}

/// `/hide <story>` (manager): out of every list, audited, nothing posted.
pub(crate) async fn hide(ctx: &mut Ctx<'_>, conn: &mut store::Conn, id: u32) -> Handled {
    ctx.require_manager()?;
    let story = visible_story(conn, id).await?;
    stories::hide(conn, &story, ctx.member.id, ctx.now).await?;
    Ok(vec![Reply::here(
        Msg::new("story-hidden").int("story", story.id),
    )])
}
