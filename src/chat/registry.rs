//! The command registry: one [`CommandSpec`] per chat command, kept next to the feature that
//! handles it. Everything else about a command is derived from its spec here, so no platform
//! adapter names a command: the grammar's names and argument parsers, the localized usage lines,
//! `/help` per role, which commands write (and so are answered once per message), Telegram
//! command menus per language and audience, and Discord slash commands with typed options.

use crate::chat::command::{Command, ParseError, Token};
use crate::chat::reply::Msg;
use crate::config::Locale;
use crate::i18n::I18n;

/// Who a command is for: decides `/help`, menus and Discord's default permissions. The handler
/// still checks the member's role on every command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Anyone, members or not (`/start`, `/help`).
    Everyone,
    /// Members who report for a partner.
    Partner,
    /// Managers and admins.
    Manager,
}

/// Whether running a command changes state. A writing command runs in a write transaction and
/// its answer is stored, so a redelivered message gets the same answer and changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Writes {
    Never,
    Always,
    /// Only when given arguments (`/lang` shows the language, `/lang en` sets it).
    WithArguments,
}

/// How an argument is written, which decides its usage text and its Discord option type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamKind {
    /// One word as typed (a code, a period, a locale, a kind).
    Word,
    /// Free text to the end of the message.
    Text,
    /// A name that may contain spaces; quoted when rebuilt from Discord options.
    Name,
    /// A positive whole number (`#12` works too).
    Number,
    /// An amount in any form the amount parser accepts (`12,500`, `1.2万`, `3k`, `-500`).
    Amount,
    /// An ISO currency code.
    Currency,
    /// `#category`.
    Category,
    /// `-- note` at the end.
    Note,
    /// A file: a Discord attachment (on Telegram, a photo captioned with the command).
    Attachment,
}

/// One argument of a command, in the grammar's order.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name: the Discord option name, and `param-<name>` / `opt-<name>` in `messages/`.
    pub name: &'static str,
    pub kind: ParamKind,
    pub required: bool,
}

/// A required argument.
pub const fn req(name: &'static str, kind: ParamKind) -> Param {
    Param {
        name,
        kind,
        required: true,
    }
}

/// An optional argument.
pub const fn opt(name: &'static str, kind: ParamKind) -> Param {
    Param {
        name,
        kind,
        required: false,
    }
}

/// Everything Rally knows about one chat command.
pub struct CommandSpec {
    /// As typed after `/`; `cmd-<name>` (description) and `cmdname-<name>` (Discord's localized
    /// name) in `messages/`.
    pub name: &'static str,
    pub audience: Audience,
    pub writes: Writes,
    pub params: &'static [Param],
    /// Turns the argument tokens into a typed command.
    pub parse: fn(&[Token]) -> Result<Command, ParseError>,
    /// Valid arguments for the demo program (`/help` examples in tests and the role matrix).
    pub example: &'static str,
}

impl std::fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandSpec")
            .field("name", &self.name)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// Every command, gathered from the features in the order `/help` and menus show them.
pub fn all() -> impl Iterator<Item = &'static CommandSpec> {
    use crate::features::*;
    [
        membership::chat::COMMANDS,
        sales::chat::COMMANDS,
        ranking::chat::COMMANDS,
        scorecard::chat::COMMANDS,
        statements::chat::COMMANDS,
        funds::chat::COMMANDS,
        audit::chat::COMMANDS,
        broadcasts::chat::COMMANDS,
        training::chat::COMMANDS,
        contests::chat::COMMANDS,
        alerts::chat::COMMANDS,
        // --- community: deals ---
        deals::chat::COMMANDS,
        // community: kudos, stories (issue 11)
        community::chat::COMMANDS,
    ]
    .into_iter()
    .flatten()
}

/// The spec of a command name (lowercase, without `/`).
pub fn find(name: &str) -> Option<&'static CommandSpec> {
    all().find(|spec| spec.name == name)
}

/// The command names, as typed after `/`.
pub fn names() -> impl Iterator<Item = &'static str> {
    all().map(|spec| spec.name)
}

impl CommandSpec {
    /// Whether this parsed command writes (see [`Writes`]).
    pub fn writes(&self, has_arguments: bool) -> bool {
        match self.writes {
            Writes::Never => false,
            Writes::Always => true,
            Writes::WithArguments => has_arguments,
        }
    }

    /// The usage line in `locale`: `/report <amount> [currency] <customer> [#category] [-- note]`.
    pub fn usage(&self, i18n: &I18n, locale: Locale) -> String {
        let mut line = format!("/{}", self.name);
        for param in self.params {
            if param.kind == ParamKind::Attachment {
                continue;
            }
            let label = i18n.render(locale, &Msg::new(&format!("param-{}", param.name)));
            let shown = match param.kind {
                ParamKind::Category => format!("#{label}"),
                ParamKind::Note => format!("-- {label}"),
                _ => label,
            };
            let (open, close) = if param.required {
                ('<', '>')
            } else {
                ('[', ']')
            };
            line.push(' ');
            line.push(open);
            line.push_str(&shown);
            line.push(close);
        }
        line
    }

    /// One `/help` line: usage and what the command does.
    pub fn help_line(&self, i18n: &I18n, locale: Locale) -> String {
        let description = i18n.render(locale, &Msg::new(&format!("cmd-{}", self.name)));
        format!("{} — {description}", self.usage(i18n, locale))
    }

    /// Rebuilds the grammar's text from named option values (Discord slash options):
    /// `/report 12500 "ACME Corp" #software -- note`. Unknown names are ignored, values in the
    /// grammar's order, whatever order they arrived in.
    pub fn text_from_options(&self, options: &[(String, String)]) -> String {
        let mut text = format!("/{}", self.name);
        for param in self.params {
            if param.kind == ParamKind::Attachment {
                continue;
            }
            let Some((_, value)) = options.iter().find(|(name, _)| name == param.name) else {
                continue;
            };
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            text.push(' ');
            match param.kind {
                ParamKind::Name => {
                    text.push('"');
                    text.push_str(&value.replace(['"', '“', '”'], "'"));
                    text.push('"');
                }
                ParamKind::Category => {
                    text.push('#');
                    text.push_str(value.trim_start_matches('#'));
                }
                ParamKind::Note => {
                    text.push_str("-- ");
                    text.push_str(value);
                }
                _ => text.push_str(value),
            }
        }
        text
    }
}

/// The first required argument a command text leaves out, for buttons that carry a command
/// without its last argument (Reject carries `/reject 12`; the adapter asks for the reason with
/// Telegram's `force_reply` or a Discord modal, then sends the completed command).
pub fn missing_argument(text: &str) -> Option<(&'static CommandSpec, &'static Param)> {
    let mut words = text.trim().strip_prefix('/')?.split_whitespace();
    let spec = find(&words.next()?.to_lowercase())?;
    let given = words.count();
    let wanted: Vec<&Param> = spec
        .params
        .iter()
        .filter(|p| p.kind != ParamKind::Attachment)
        .collect();
    let missing = wanted.get(given).copied()?;
    missing.required.then_some((spec, missing))
}

/// What `/help` lists for a member: the commands of each audience they belong to.
pub fn for_member(
    is_partner: bool,
    is_manager: bool,
) -> impl Iterator<Item = &'static CommandSpec> {
    let order = [
        (Audience::Partner, is_partner),
        (Audience::Manager, is_manager),
        (Audience::Everyone, true),
    ];
    order
        .into_iter()
        .filter(|(_, shown)| *shown)
        .flat_map(|(audience, _)| all().filter(move |spec| spec.audience == audience))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_lowercase_and_discord_safe() {
        let mut seen = std::collections::HashSet::new();
        for spec in all() {
            assert!(seen.insert(spec.name), "/{} twice", spec.name);
            assert!(
                spec.name.len() <= 32
                    && spec
                        .name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "/{}: Telegram and Discord want 1-32 lowercase letters or digits",
                spec.name
            );
            let mut optional_seen = false;
            for param in spec.params {
                assert!(param.name.len() <= 32, "{}: {}", spec.name, param.name);
                if param.kind != ParamKind::Attachment {
                    assert!(
                        // Leading optional words (a currency, broadcast filters) are told
                        // apart by their form, so they may come before required ones.
                        !(optional_seen && param.required)
                            || matches!(spec.name, "report" | "announce" | "schedule"),
                        "/{}: required {} after an optional one",
                        spec.name,
                        param.name
                    );
                    optional_seen |= !param.required;
                }
            }
        }
    }

    #[test]
    fn every_example_parses_to_its_own_command() {
        for spec in all() {
            let text = format!("/{} {}", spec.name, spec.example);
            match crate::chat::command::parse(&text, None) {
                Ok(Some(_)) => {}
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    #[test]
    fn options_become_grammar_text() {
        let o = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        let report = find("report").expect("report");
        assert_eq!(
            report.text_from_options(&o(&[
                ("note", "first"),
                ("amount", "12500"),
                ("customer", "ACME \"Corp\""),
                ("category", "#software"),
            ])),
            "/report 12500 \"ACME 'Corp'\" #software -- first"
        );
        assert_eq!(find("rank").expect("rank").text_from_options(&[]), "/rank");
        assert_eq!(
            find("reject")
                .expect("reject")
                .text_from_options(&o(&[("sale", "12"), ("reason", "dup")])),
            "/reject 12 dup"
        );
        assert_eq!(
            find("allocate")
                .expect("allocate")
                .text_from_options(&o(&[("budget", "1000"), ("currency", "USD")])),
            "/allocate 1000 USD"
        );
        let parsed = crate::chat::command::parse(
            &report.text_from_options(&o(&[
                ("amount", "12500"),
                ("currency", "USD"),
                ("customer", "USD Holdings"),
            ])),
            None,
        );
        match parsed {
            Ok(Some(Command::Report(r))) => {
                assert_eq!(r.customer, "USD Holdings");
                assert!(r.amount.currency.is_some());
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn buttons_without_their_last_argument_are_recognised() {
        let (spec, param) = missing_argument("/reject 12").expect("reason missing");
        assert_eq!((spec.name, param.name), ("reject", "reason"));
        assert!(missing_argument("/reject 12 duplicate").is_none());
        assert!(missing_argument("/approve 12").is_none());
        assert!(missing_argument("/statement").is_none());
        assert!(missing_argument("not a command").is_none());
        assert!(missing_argument("/nosuch 1").is_none());
    }

    #[test]
    fn usage_lines_are_localized_and_derived_from_params() {
        let i18n = I18n::new().expect("i18n");
        let report = find("report").expect("report");
        assert_eq!(
            report.usage(&i18n, Locale::En),
            "/report <amount> [currency] <customer> [#category] [-- note]"
        );
        let zh = report.usage(&i18n, Locale::ZhCn);
        assert!(zh.starts_with("/report <金额>"), "{zh}");
        for spec in all() {
            for locale in Locale::ALL {
                let line = spec.help_line(&i18n, locale);
                assert!(!line.contains("param-") && !line.contains("cmd-"), "{line}");
            }
        }
    }
}
