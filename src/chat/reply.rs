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
}

impl Reply {
    pub fn here(msg: Msg) -> Reply {
        Reply {
            to: Destination::Here,
            lines: vec![msg],
            buttons: Vec::new(),
            locale: None,
            image: None,
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
