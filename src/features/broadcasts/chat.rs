//! `/bindchat [region]` and `/unbindchat`: a manager makes a group chat or channel a program
//! chat (announcements, recognition and scheduled posts go there), optionally for one region.

use serde_json::json;

use crate::chat::command::{self, Command};
use crate::chat::handler::{Ctx, Handled, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt};
use crate::chat::reply::{Msg, Reply};
use crate::engine::audit::AuditAction;
use crate::store::jobs::{self as chats, ProgramChat};
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
];

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
