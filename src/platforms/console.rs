//! The terminal chat of `rally demo`: one line in, the answers out. `/as <member>` switches
//! who is speaking. Works interactively on a TTY and piped (`printf '/rank\n' | rally demo`).

use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};

use crate::app::App;
use crate::chat::handler::Incoming;
use crate::chat::reply::{Destination, Msg, Reply};
use crate::config::Locale;
use crate::engine::partner::Platform;
use crate::store::members;

/// A terminal conversation as one member at a time.
pub struct Console<'a> {
    app: &'a App,
    identity: String,
    /// Distinguishes this run's message ids from earlier runs', so idempotency never replays
    /// an answer from a previous session.
    run_id: i64,
    counter: u64,
}

impl<'a> Console<'a> {
    pub fn new(app: &'a App, identity: &str) -> Console<'a> {
        Console {
            app,
            identity: identity.to_string(),
            run_id: app.now(),
            counter: 0,
        }
    }

    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// Reads lines until end of input or `/quit`, writing answers to `output`.
    pub async fn run<R, W>(
        &mut self,
        input: R,
        mut output: W,
        interactive: bool,
    ) -> anyhow::Result<()>
    where
        R: AsyncBufRead + Unpin,
        W: AsyncWrite + Unpin,
    {
        let mut lines = input.lines();
        loop {
            if interactive {
                output
                    .write_all(format!("{}> ", self.identity).as_bytes())
                    .await?;
                output.flush().await?;
            }
            let Some(line) = lines.next_line().await? else {
                break;
            };
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if matches!(line, "/quit" | "/exit") {
                break;
            }
            let text = self.line(line).await?;
            output.write_all(text.as_bytes()).await?;
            output.flush().await?;
        }
        Ok(())
    }

    /// Handles one line and returns what to print (ending with a blank line).
    pub async fn line(&mut self, line: &str) -> anyhow::Result<String> {
        let locale = self.app.config.program.default_locale;
        if let Some(rest) = line.strip_prefix("/as")
            && (rest.is_empty() || rest.starts_with(char::is_whitespace))
        {
            return self.switch(rest.trim(), locale).await;
        }
        self.counter += 1;
        let incoming = Incoming {
            platform: Platform::Console,
            chat_id: "console".into(),
            private_chat: true,
            sender_id: self.identity.clone(),
            sender_name: self.identity.clone(),
            message_id: format!("{}-{}", self.run_id, self.counter),
            text: line.to_string(),
            locale: None,
            attachments: Vec::new(),
            username: None,
            reply_to: None,
            pressed_message: None,
        };
        let outcome = self.app.handle(&incoming).await;
        let mut out = String::new();
        for reply in &outcome.replies {
            out.push_str(&self.render(reply, outcome.locale).await?);
        }
        out.push('\n');
        Ok(out)
    }

    async fn render(&self, reply: &Reply, locale: Locale) -> anyhow::Result<String> {
        let i18n = &self.app.i18n;
        let prefix = match &reply.to {
            Destination::Here | Destination::Sender => String::new(),
            Destination::Member(id) => {
                let mut conn = self.app.store.read().await?;
                let name = members::get(&mut conn, *id)
                    .await?
                    .map(|m| m.platform_user_id)
                    .unwrap_or_else(|| id.to_string());
                format!(
                    "{} ",
                    i18n.render(locale, &Msg::new("console-to").text("member", name))
                )
            }
        };
        let body_locale = reply.locale.unwrap_or(locale);
        let mut text = format!("{prefix}{}\n", i18n.render_reply(body_locale, reply));
        for button in &reply.buttons {
            text.push_str(&format!(
                "  [{}: {}]\n",
                i18n.render(body_locale, &button.label),
                button.action
            ));
        }
        Ok(text)
    }

    async fn switch(&mut self, handle: &str, locale: Locale) -> anyhow::Result<String> {
        let mut conn = self.app.store.read().await?;
        let known: Vec<String> = members::list(&mut conn)
            .await?
            .into_iter()
            .filter(|m| m.platform == Platform::Console)
            .map(|m| m.platform_user_id)
            .collect();
        let i18n = &self.app.i18n;
        let list = known.join(", ");
        let msg = if handle.is_empty() {
            Msg::new("console-as-list")
                .text("current", &self.identity)
                .text("members", list)
        } else if let Some(found) = known.iter().find(|k| k.eq_ignore_ascii_case(handle)) {
            self.identity = found.clone();
            Msg::new("console-as").text("member", found)
        } else {
            Msg::new("console-as-unknown")
                .text("member", handle)
                .text("members", list)
        };
        Ok(format!("{}\n\n", i18n.render(locale, &msg)))
    }
}
