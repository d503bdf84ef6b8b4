//! `/audit`: the latest audit entries, for managers.

use crate::app::App;
use crate::chat::command::Command;
use crate::chat::handler::{Ctx, Handled};
use crate::chat::registry::{Audience, CommandSpec, Writes};
use crate::chat::reply::{Msg, Reply};
use crate::store::{self, audit};

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[CommandSpec {
    name: "audit",
    audience: Audience::Manager,
    writes: Writes::Never,
    params: &[],
    parse: |_| Ok(Command::Audit),
    example: "",
}];

pub(crate) async fn audit(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_manager()?;
    let entries = audit::recent(&mut *conn, 20).await?;
    if entries.is_empty() {
        return Ok(vec![Reply::private(Msg::new("audit-none"))]);
    }
    let mut reply = Reply::private(Msg::new("audit-header").int("count", entries.len() as i64));
    for e in entries {
        let when = chrono::DateTime::from_timestamp_millis(e.at)
            .unwrap_or_default()
            .with_timezone(&app.config.program.timezone)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        reply = reply.line(
            Msg::new("audit-line")
                .int("id", e.id.0)
                .text("when", when)
                .text("actor", e.actor_name.unwrap_or_else(|| "system".into()))
                .text("action", e.action.as_str())
                .text("subject", e.subject)
                .text("change", e.after.unwrap_or_default()),
        );
    }
    Ok(vec![reply])
}
