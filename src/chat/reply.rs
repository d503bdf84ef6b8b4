//! What the handler answers: message keys and arguments, not text. Each adapter renders a
//! [`Reply`] with [`crate::i18n`] in the member's locale and sends it its own way.

use serde::{Deserialize, Serialize};

use crate::config::Locale;
use crate::engine::ids::MemberId;

/// One localizable message: a key in `messages/<locale>/*.ftl` and its arguments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Msg {
    pub key: String,
    pub args: Vec<(String, Arg)>,
}

/// A message argument. Numbers stay numbers so Fluent can choose plural forms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arg {
    Text(String),
    Int(i64),
}

impl Msg {
    pub fn new(key: &str) -> Msg {
        Msg {
            key: key.to_string(),
            args: Vec::new(),
        }
    }

    pub fn text(mut self, name: &str, value: impl Into<String>) -> Msg {
        self.args.push((name.to_string(), Arg::Text(value.into())));
        self
    }

    pub fn int(mut self, name: &str, value: i64) -> Msg {
        self.args.push((name.to_string(), Arg::Int(value)));
        self
    }
}

/// Where a reply goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Destination {
    /// The chat the message came from.
    Here,
    /// A private chat with the sender (money is only shown there).
    Sender,
    /// A private message to another member (e.g. the reporter of an approved sale).
    Member(MemberId),
}

/// A button under a reply; `action` is what the adapter sends back when it is pressed, in the
/// command grammar (e.g. `/approve 12`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: Msg,
    pub action: String,
}

/// One outgoing message: lines rendered and joined by newlines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub to: Destination,
    pub lines: Vec<Msg>,
    pub buttons: Vec<Button>,
    /// Locale to render in when the destination is another member; `None`: the sender's.
    pub locale: Option<Locale>,
    /// A platform file reference to show with the text (evidence photo of a sale).
    #[serde(default)]
    pub image: Option<String>,
    /// A picture Rally made (a contest chart), stored in `images` by id: uploaded with the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chart: Option<i64>,
    // --- community: stories (issue 11) ---
    /// Answering a button press: put these buttons on the pressed message in place of its own,
    /// keeping its text (a story's reaction counts). Where there is no pressed message (the
    /// console), the lines are shown as usual.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub refresh_buttons: bool,
}

impl Reply {
    /// No text, only buttons to put on a message Rally sent before in place of its own (a
    /// story post's reaction counts).
    pub fn button_refresh() -> Reply {
        Reply {
            to: Destination::Here,
            lines: Vec::new(),
            buttons: Vec::new(),
            locale: None,
            image: None,
            chart: None,
            refresh_buttons: true,
        }
    }

    pub fn here(msg: Msg) -> Reply {
        Reply {
            to: Destination::Here,
            lines: vec![msg],
            buttons: Vec::new(),
            locale: None,
            image: None,
            chart: None,
            refresh_buttons: false,
        }
    }

    pub fn private(msg: Msg) -> Reply {
        Reply {
            to: Destination::Sender,
            ..Reply::here(msg)
        }
    }

    pub fn line(mut self, msg: Msg) -> Reply {
        self.lines.push(msg);
        self
    }

    pub fn with_image(mut self, image: Option<String>) -> Reply {
        self.image = image;
        self
    }

    pub fn button(mut self, label: Msg, action: impl Into<String>) -> Reply {
        self.buttons.push(Button {
            label,
            action: action.into(),
        });
        self
    }
}

/// Splits a message for a platform that takes at most `max_chars` characters per message: at
/// line boundaries, and a single line longer than that in pieces of `max_chars`; nothing is
/// ever cut off.
pub fn split_at_lines(text: &str, max_chars: usize) -> Vec<String> {
    let max_chars = max_chars.max(1);
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut current_chars = 0;
    for (index, line) in text.split('\n').enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut parts = chars
            .chunks(max_chars)
            .map(|c| c.iter().collect::<String>());
        let first = parts.next().unwrap_or_default();
        let first_chars = first.chars().count();
        if index > 0 {
            if current_chars + 1 + first_chars > max_chars {
                pieces.push(std::mem::take(&mut current));
                current_chars = 0;
            } else {
                current.push('\n');
                current_chars += 1;
            }
        }
        current.push_str(&first);
        current_chars += first_chars;
        for part in parts {
            pieces.push(std::mem::take(&mut current));
            current_chars = part.chars().count();
            current = part;
        }
    }
    pieces.push(current);
    pieces
}

#[cfg(test)]
mod tests {
    use super::split_at_lines;

    #[test]
    fn splits_at_lines_and_never_cuts() {
        let line = "x".repeat(1000);
        let text = vec![line.clone(); 10].join("\n");
        let pieces = split_at_lines(&text, 4096);
        assert_eq!(pieces.len(), 3);
        assert!(pieces.iter().all(|p| p.chars().count() <= 4096));
        assert_eq!(pieces.join("\n"), text);

        let long = format!("a\n{}\nb", "字".repeat(4500));
        let pieces = split_at_lines(&long, 2000);
        assert!(
            pieces.iter().all(|p| p.chars().count() <= 2000),
            "{pieces:?}"
        );
        assert_eq!(pieces.concat().replace('\n', ""), long.replace('\n', ""));
        assert_eq!(split_at_lines("short", 2000), vec!["short"]);
        assert_eq!(split_at_lines("", 2000), vec![""]);
        assert_eq!(split_at_lines("\nabc", 2000), vec!["\nabc"]);
    }
}
