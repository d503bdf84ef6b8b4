//! Broadcasts in chat, for managers: `/bindchat [region]` and `/unbindchat` make a group chat
//! or channel a program chat (announcements, recognition and scheduled posts go there);
//! `/announce` sends now, `/schedule` later; `/scheduled`, `/unschedule` and `/broadcasts` show
//! and manage them.

use serde_json::json;

use crate::app::App;
use crate::chat::command::{self, BroadcastArgs, Command};
use crate::chat::handler::{Ctx, Handled, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Msg, Reply};
use crate::engine::audit::AuditAction;
use crate::engine::broadcast::When;
use crate::features::broadcasts::service::{self, ScheduleError};
use crate::store::broadcasts as stored;
use crate::store::jobs::{self as chats, ProgramChat};
use crate::store::outbox as rows;
use crate::store::{self, audit};

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "bindchat",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[opt("region", K::Word)],
        parse: |t| {
            Ok(Command::BindChat {
                region: command::optional_word(t),
            })
        },
        example: "East",
    },
    CommandSpec {
        name: "unbindchat",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[],
        parse: |_| Ok(Command::UnbindChat),
        example: "",
    },
    CommandSpec {
        name: "announce",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[opt("filters", K::Word), req("text", K::Text)],
        parse: command::parse_announce,
        example: "region=East to=all New week, new deals!",
    },
    CommandSpec {
        name: "schedule",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[
            req("when", K::Word),
            opt("filters", K::Word),
            req("text", K::Text),
        ],
        parse: command::parse_schedule,
        example: "09:00 to=members Good morning!",
    },
    CommandSpec {
        name: "scheduled",
        audience: Audience::Manager,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Scheduled),
        example: "",
    },
    CommandSpec {
        name: "unschedule",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("broadcast", K::Number)],
        parse: |t| {
            Ok(Command::Unschedule {
                id: i64::from(command::number(t, 0, "unschedule")?),
            })
        },
        example: "1",
    },
    CommandSpec {
        name: "broadcasts",
        audience: Audience::Manager,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Broadcasts),
        example: "",
    },
];

/// How many broadcasts `/scheduled` and `/broadcasts` list.
const LISTED: i64 = 10;

/// `/announce [filters] <text>`: stored and enqueued with the command, sent at the platforms'
/// pace; the author gets a delivery report when it is delivered.
pub(crate) async fn announce(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    args: BroadcastArgs,
) -> Handled {
    ctx.require_manager()?;
    let (id, chats, members) =
        service::send_now(app, conn, ctx.member.id, &args.text, &args.filter, args.to).await?;
    if chats + members == 0 {
        // Rolls back: nothing is stored for a broadcast that reaches nobody.
        return Err(user(Msg::new("announce-nobody")));
    }
    Ok(vec![Reply::here(
        Msg::new("announce-queued")
            .int("id", id)
            .int("chats", chats as i64)
            .int("members", members as i64),
    )])
}

/// `/schedule <when> [filters] <text>`.
pub(crate) async fn schedule(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    when: When,
    args: BroadcastArgs,
) -> Handled {
    ctx.require_manager()?;
    let scheduled = service::schedule(
        app,
        conn,
        ctx.member.id,
        &when,
        &args.text,
        &args.filter,
        args.to,
    )
    .await?;
    match scheduled {
        Ok((id, due)) => Ok(vec![Reply::here(
            Msg::new("schedule-done")
                .int("id", id)
                .text("when", local_time(app, due)),
        )]),
        Err(ScheduleError::InThePast) => Err(user(Msg::new("error-time-past"))),
        Err(ScheduleError::NoSuchTime) => Err(user(Msg::new("error-no-such-time"))),
    }
}

/// `/scheduled`: what is waiting, with its next due time.
pub(crate) async fn scheduled(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_manager()?;
    let waiting = stored::scheduled(&mut *conn).await?;
    if waiting.is_empty() {
        return Ok(vec![Reply::here(Msg::new("scheduled-none"))]);
    }
    let mut reply = Reply::here(Msg::new("scheduled-header").int("count", waiting.len() as i64));
    for b in waiting.iter().take(LISTED as usize) {
        let next = service::next_due(app, b, ctx.now)
            .map(|due| local_time(app, due))
            .unwrap_or_else(|| "-".into());
        reply = reply.line(
            Msg::new("scheduled-line")
                .int("id", b.id)
                .text("when", next)
                .text("repeat", b.schedule.clone().unwrap_or_default())
                .text("text", preview(&b.text)),
        );
    }
    Ok(vec![reply])
}

/// `/unschedule <id>`.
pub(crate) async fn unschedule(ctx: &mut Ctx<'_>, conn: &mut store::Conn, id: i64) -> Handled {
    ctx.require_manager()?;
    if !service::cancel(&mut *conn, id).await? {
        return Err(user(Msg::new("unschedule-unknown").int("id", id)));
    }
    Ok(vec![Reply::here(Msg::new("unschedule-done").int("id", id))])
}

/// `/broadcasts`: the latest, with their delivery results so far.
pub(crate) async fn recent(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_manager()?;
    let latest = stored::recent(&mut *conn, LISTED).await?;
    if latest.is_empty() {
        return Ok(vec![Reply::here(Msg::new("broadcasts-none"))]);
    }
    let mut reply = Reply::here(Msg::new("broadcasts-header"));
    for b in latest {
        let tally = rows::tally(&mut *conn, b.id).await?;
        reply = reply.line(
            Msg::new("broadcasts-line")
                .int("id", b.id)
                .text("when", local_time(app, b.created_at))
                .text("status", b.status.as_str())
                .int("sent", tally.sent)
                .int("failed", tally.failed)
                .int("pending", tally.pending)
                .text("text", preview(&b.text)),
        );
    }
    Ok(vec![reply])
}

/// An instant on the program clock, as managers read it.
fn local_time(app: &App, at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms)
        .unwrap_or_default()
        .with_timezone(&app.config.program.timezone)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The start of a text, for lists.
fn preview(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// `/bindchat [region]`, in the group or channel to bind.
pub(crate) async fn bind(
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    region: Option<String>,
) -> Handled {
    ctx.require_manager()?;
    if ctx.incoming.private_chat {
        return Err(user(Msg::new("bindchat-private")));
    }
    let chat = ProgramChat {
        platform: ctx.incoming.platform.as_str().to_string(),
        chat_id: ctx.incoming.chat_id.clone(),
        region: region.clone(),
    };
    chats::bind_chat(&mut *conn, &chat, Some(ctx.member.id.0), ctx.now).await?;
    let subject = format!("{}:{}", chat.platform, chat.chat_id);
    let after = json!({ "region": region });
    audit::record(
        conn,
        Some(ctx.member.id),
        AuditAction::ChatBind,
        &subject,
        None,
        Some(&after),
        ctx.now,
    )
    .await?;
    Ok(vec![Reply::here(match region {
        Some(region) => Msg::new("bindchat-done-region").text("region", region),
        None => Msg::new("bindchat-done"),
    })])
}

/// `/unbindchat`, in a program chat.
pub(crate) async fn unbind(ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_manager()?;
    let platform = ctx.incoming.platform.as_str();
    if !chats::unbind_chat(&mut *conn, platform, &ctx.incoming.chat_id).await? {
        return Err(user(Msg::new("unbindchat-not-bound")));
    }
    let subject = format!("{platform}:{}", ctx.incoming.chat_id);
    audit::record(
        conn,
        Some(ctx.member.id),
        AuditAction::ChatUnbind,
        &subject,
        None,
        None,
        ctx.now,
    )
    .await?;
    Ok(vec![Reply::here(Msg::new("unbindchat-done"))])
}
