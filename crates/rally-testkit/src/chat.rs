//! A Rally [`App`] on a test database, and helpers to talk to it as a console user and read
//! its answers (message keys, rendered text, reply arguments, invite / link codes).

use std::sync::Arc;

use rally::app::App;
use rally::chat::handler::{Incoming, Outcome};
use rally::chat::reply::Arg;
use rally::config::Config;
use rally::engine::partner::Platform;

use crate::{TestClock, TestDb};

/// The demo configuration with a few test-friendly settings.
pub fn test_config(url: &str) -> Config {
    let mut config = rally::demo::config().expect("demo config");
    config.database.url = url.to_string();
    config
}

/// An app on `db` with a hand-moved clock.
pub fn app(db: &TestDb, clock: &TestClock) -> App {
    App::new(
        db.store.clone(),
        Arc::new(test_config(&db.url)),
        Box::new(clock.clone()),
    )
    .expect("app")
}

/// An app on `db` with a hand-moved clock whose configuration is the demo's followed by
/// `extra` TOML (contests, trainings, …).
pub fn app_with(db: &TestDb, clock: &TestClock, extra: &str) -> App {
    let text = format!("{}{extra}", rally::demo::DEMO_CONFIG);
    let mut config = rally::config::from_toml_str(&text, "test", &|_| None).expect("config");
    config.database.url = db.url.clone();
    App::new(db.store.clone(), Arc::new(config), Box::new(clock.clone())).expect("app")
}

/// Sends text as a console user in a private chat; message ids come from `id`.
pub async fn say(app: &App, who: &str, id: u64, text: &str) -> Outcome {
    app.handle(&Incoming {
        platform: Platform::Console,
        chat_id: "test".into(),
        private_chat: true,
        sender_id: who.into(),
        sender_name: who.into(),
        message_id: id.to_string(),
        text: text.into(),
        locale: None,
        attachments: Vec::new(),
        username: None,
        reply_to: None,
        pressed_message: None,
    })
    .await
}

/// The message keys of all reply lines, in order.
pub fn keys(outcome: &Outcome) -> Vec<String> {
    outcome
        .replies
        .iter()
        .flat_map(|r| r.lines.iter().map(|m| m.key.clone()))
        .collect()
}

/// All replies rendered in English (for assertions on numbers).
pub fn text(app: &App, outcome: &Outcome) -> String {
    outcome
        .replies
        .iter()
        .map(|r| app.i18n.render_reply(outcome.locale, r))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A text argument of the first line of the first reply (e.g. an invite code).
pub fn first_text_arg(outcome: &Outcome, name: &str) -> String {
    match first_arg(outcome, name) {
        Some(Arg::Text(text)) => text.clone(),
        other => panic!("no text argument {name}: {other:?}"),
    }
}

/// A number argument of the first line of the first reply (e.g. a sale id).
pub fn first_int_arg(outcome: &Outcome, name: &str) -> i64 {
    match first_arg(outcome, name) {
        Some(Arg::Int(n)) => *n,
        other => panic!("no number argument {name}: {other:?}"),
    }
}

fn first_arg<'a>(outcome: &'a Outcome, name: &str) -> Option<&'a Arg> {
    outcome.replies[0].lines[0]
        .args
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, arg)| arg)
}

/// The invite or link code that follows `marker` in a bot's answer (`/start ABCD2345`).
pub fn code_after(text: &str, marker: &str) -> String {
    let code: String = text
        .split(marker)
        .nth(1)
        .map(|rest| {
            rest.chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect()
        })
        .unwrap_or_default();
    assert!(!code.is_empty(), "no code after {marker:?} in {text:?}");
    code
}
