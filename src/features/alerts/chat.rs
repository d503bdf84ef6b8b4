//! `/mute nudges` and `/unmute nudges`: a partner member turns the weekly nudges off and on
//! (for every account of the person).

use crate::chat::command::{self, Command, ParseError};
use crate::chat::handler::{Ctx, Handled, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, req};
use crate::chat::reply::{Msg, Reply};
use crate::engine::ids::MemberId;
use crate::store::{self, alerts, members};

/// What can be muted today; more kinds of notice may join.
const MUTABLE: &[&str] = &["nudges"];

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "mute",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("notices", K::Word)],
        parse: |t| {
            Ok(Command::Mute {
                what: command::optional_word(t).ok_or(ParseError::Usage("mute"))?,
            })
        },
        example: "nudges",
    },
    CommandSpec {
        name: "unmute",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("notices", K::Word)],
        parse: |t| {
            Ok(Command::Unmute {
                what: command::optional_word(t).ok_or(ParseError::Usage("unmute"))?,
            })
        },
        example: "nudges",
    },
];

/// `/mute <what>` (`muted = true`) and `/unmute <what>`.
pub(crate) async fn set_muted(
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    what: &str,
    muted: bool,
) -> Handled {
    if !MUTABLE.contains(&what.to_lowercase().as_str()) {
        return Err(user(
            Msg::new("mute-unknown")
                .text("what", what)
                .text("choices", MUTABLE.join(", ")),
        ));
    }
    let accounts: Vec<MemberId> = match &ctx.member.person {
        Some(person) => members::accounts_of(&mut *conn, person.id)
            .await?
            .into_iter()
            .map(|m| m.id)
            .collect(),
        None => vec![ctx.member.id],
    };
    alerts::set_muted(&mut *conn, &accounts, muted).await?;
    let key = if muted {
        "nudges-muted"
    } else {
        "nudges-unmuted"
    };
    Ok(vec![Reply::here(Msg::new(key))])
}
