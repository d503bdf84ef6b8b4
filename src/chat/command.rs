//! The one command grammar for every platform: text in, typed [`Command`] out.
//!
//! Telegram messages, Discord slash commands (rebuilt as text by their adapter) and the terminal
//! all come through [`parse`], so a command means the same thing everywhere. Pure and total:
//! any input yields a command, "not for us", or a [`ParseError`] naming what was wrong.

use crate::chat::registry::{self, CommandSpec};
use crate::engine::amount::{self, AmountError, AmountInput};
use crate::engine::broadcast::{self, AudienceFilter, FilterError, When};
use crate::engine::ids::{DisputeId, SaleId};
use crate::engine::partner::{MAX_NAME_CHARS, PartnerKind};
use crate::engine::schedule::{CronSchedule, Recipients};

/// Longest message accepted, in characters (Telegram's own limit for a text message).
pub const MAX_TEXT_CHARS: usize = 4096;

/// What a member asked for, with typed arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Start {
        code: Option<String>,
    },
    Link {
        code: Option<String>,
    },
    Help,
    Lang {
        locale: Option<String>,
    },
    /// `/trainings`, `/enroll`, `/leave`, `/checkin`, `/rate`, `/quiz` (training feature).
    Trainings,
    Enroll {
        training: String,
    },
    LeaveTraining {
        training: String,
    },
    CheckIn {
        code: String,
    },
    Rate {
        training: String,
        stars: u8,
        comment: Option<String>,
    },
    Quiz {
        training: String,
        question: u32,
        choice: u32,
    },
    TrainingReport {
        training: String,
    },
    /// `/mute nudges`, `/unmute nudges`: the weekly nudges off and on.
    Mute {
        what: String,
    },
    Unmute {
        what: String,
    },
    /// `/notify [telegram|discord|auto]`: where a person with two accounts gets notices.
    Notify {
        platform: Option<String>,
    },
    Report(ReportArgs),
    Sales,
    Cancel {
        sale: SaleId,
    },
    Rank,
    Me,
    Invite(InviteArgs),
    Pending,
    Approve {
        sale: SaleId,
    },
    Reject {
        sale: SaleId,
        reason: String,
    },
    Audit,
    /// `/statement [period]`.
    Statement {
        period: Option<String>,
    },
    /// `/why <line> [period]`.
    Why {
        line: u32,
        period: Option<String>,
    },
    /// `/whatif <amount> [#category]`.
    WhatIf {
        amount: AmountInput,
        category: Option<String>,
    },
    /// `/feedback <partner> <1-5> [comment]`.
    Feedback {
        partner: String,
        score: u8,
        comment: Option<String>,
    },
    /// `/adjust <partner> <±amount> <reason>`.
    Adjust {
        partner: String,
        amount: AmountInput,
        negative: bool,
        reason: String,
    },
    /// `/dispute <line> <reason>`.
    Dispute {
        line: u32,
        reason: String,
    },
    /// `/answer <dispute> <text>`.
    Answer {
        dispute: DisputeId,
        text: String,
    },
    /// `/allocate <budget>`.
    Allocate {
        budget: AmountInput,
    },
    /// `/funds`.
    Funds,
    /// `/bindchat [region]`: this group or channel becomes a program chat.
    BindChat {
        region: Option<String>,
    },
    /// `/unbindchat`.
    UnbindChat,
    /// `/announce [filters] <text>`.
    Announce(BroadcastArgs),
    /// `/schedule <when> [filters] <text>`.
    Schedule {
        when: When,
        args: BroadcastArgs,
    },
    /// `/scheduled`.
    Scheduled,
    /// `/unschedule <id>`.
    Unschedule {
        id: i64,
    },
    /// `/broadcasts`.
    Broadcasts,
    /// `/rank <contest>`: a contest's board (id or name, any case).
    RankContest {
        contest: String,
    },
    /// `/contests [past]`.
    Contests {
        past: bool,
    },
    // --- community: deals ---
    /// `/deal <customer> [expected amount] [-- note]`.
    Deal {
        customer: String,
        expected: Option<AmountInput>,
        note: Option<String>,
    },
    /// `/deals`: the caller's registrations in force.
    Deals,
    /// `/conflicts`: open channel conflicts (managers).
    Conflicts,
    /// `/resolve <conflict> <partner | split <percent>>`.
    Resolve {
        conflict: i64,
        decision: ResolveArg,
    },
    // --- community: points, kudos (issue 11) ---
    /// `/rank points`: partners by points.
    RankPoints,
    /// `/kudos [member] [reason]`: the first word as written and the rest (see
    /// `features::community::chat::parse_kudos`).
    Kudos {
        first: Option<Token>,
        reason: String,
    },
    /// `/story <text>`: the text is read from the message as written (lines kept).
    Story,
    /// `/stories`.
    Stories,
    /// `/react <story> <clap|fire|idea>`: a reaction button.
    React {
        story: u32,
        kind: String,
    },
    /// `/feature <story>`, `/hide <story>` (managers).
    FeatureStory {
        story: u32,
    },
    HideStory {
        story: u32,
    },
}

// --- community: deals ---
/// What `/resolve` decides, as written (checked against the conflict by its handler).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveArg {
    /// A partner's name or id.
    Partner(String),
    /// `split <percent>`: the percent as written.
    Split(String),
}

/// `/report <amount> [currency] <customer> [#category] [-- note]`: after a category the rest is
/// the note as is; without one, the note follows `--`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportArgs {
    pub amount: AmountInput,
    pub customer: String,
    pub category: Option<String>,
    pub note: Option<String>,
}

/// A broadcast's audience and text: leading `key=value` filters, then the text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastArgs {
    pub filter: AudienceFilter,
    pub to: Recipients,
    pub text: String,
}

/// `/invite <partner name> [kind] [region] [tier]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InviteArgs {
    pub partner: String,
    pub kind: Option<PartnerKind>,
    pub region: Option<String>,
    pub tier: Option<String>,
}

/// Why a text is not a valid command. Each variant maps to one localized sentence.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("message longer than {MAX_TEXT_CHARS} characters")]
    TooLong,
    #[error("unknown command /{0}")]
    UnknownCommand(String),
    /// Arguments missing or malformed: the reply shows the command's usage line.
    #[error("usage of /{0}")]
    Usage(&'static str),
    #[error("bad amount: {0}")]
    Amount(#[from] AmountError),
    #[error("not a sale number: {0}")]
    BadSaleId(String),
    #[error("not a number: {0}")]
    BadNumber(String),
    #[error("name longer than {MAX_NAME_CHARS} characters")]
    NameTooLong,
    #[error("unclosed quote")]
    UnclosedQuote,
    #[error("unknown filter {0}")]
    UnknownFilter(String),
    #[error("bad filter value {value:?} for {key}")]
    BadFilter { key: String, value: String },
    #[error("not a time: {0}")]
    BadWhen(String),
}

/// A parsed command with the spec it was parsed by.
#[derive(Debug)]
pub struct Parsed {
    pub spec: &'static CommandSpec,
    pub command: Command,
    /// Whether anything followed the command name.
    pub has_arguments: bool,
}

impl Parsed {
    /// Whether running it changes state (see [`registry::Writes`]).
    pub fn writes(&self) -> bool {
        self.spec.writes(self.has_arguments)
    }
}

/// Parses one message. `Ok(None)`: not a command, or a command addressed to another bot
/// (`/rank@OtherBot`). `bot_username` is compared case-insensitively, without the `@`.
pub fn parse(text: &str, bot_username: Option<&str>) -> Result<Option<Command>, ParseError> {
    Ok(parse_message(text, bot_username)?.map(|parsed| parsed.command))
}

/// [`parse`], keeping the command's spec.
pub fn parse_message(text: &str, bot_username: Option<&str>) -> Result<Option<Parsed>, ParseError> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ParseError::TooLong);
    }
    let text = text.trim();
    let Some(rest) = text.strip_prefix('/') else {
        return Ok(None);
    };
    let (head, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    let name = match head.split_once('@') {
        Some((name, target)) => {
            if let Some(bot) = bot_username
                && !target.eq_ignore_ascii_case(bot.trim_start_matches('@'))
            {
                return Ok(None);
            }
            name
        }
        None => head,
    };
    let name = name.to_lowercase();
    let spec = registry::find(&name).ok_or(ParseError::UnknownCommand(name))?;
    let tokens = tokenize(args)?;
    let command = (spec.parse)(&tokens)?;
    Ok(Some(Parsed {
        spec,
        command,
        has_arguments: !tokens.is_empty(),
    }))
}

/// One argument word, or a quoted run of words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub text: String,
    /// Written in quotes: never taken for a currency, category or separator.
    pub quoted: bool,
}

/// Splits arguments on white space, keeping "quoted phrases" (ASCII or curly quotes) whole.
fn tokenize(args: &str) -> Result<Vec<Token>, ParseError> {
    let mut tokens = Vec::new();
    let mut chars = args.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let close = match c {
            '"' => Some('"'),
            '“' => Some('”'),
            '「' => Some('」'),
            _ => None,
        };
        if let Some(close) = close {
            chars.next();
            let mut text = String::new();
            let mut closed = false;
            for c in chars.by_ref() {
                if c == close {
                    closed = true;
                    break;
                }
                text.push(c);
            }
            if !closed {
                return Err(ParseError::UnclosedQuote);
            }
            tokens.push(Token {
                text: text.trim().to_string(),
                quoted: true,
            });
        } else {
            let mut text = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                text.push(c);
                chars.next();
            }
            tokens.push(Token {
                text,
                quoted: false,
            });
        }
    }
    Ok(tokens)
}

pub fn join(tokens: &[Token]) -> String {
    tokens
        .iter()
        .map(|t| t.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn optional_word(tokens: &[Token]) -> Option<String> {
    tokens
        .first()
        .map(|t| t.text.clone())
        .filter(|t| !t.is_empty())
}

pub fn sale_id(tokens: &[Token], command: &'static str) -> Result<SaleId, ParseError> {
    let first = tokens.first().ok_or(ParseError::Usage(command))?;
    let digits = first.text.trim_start_matches('#');
    digits
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(SaleId)
        .ok_or_else(|| ParseError::BadSaleId(first.text.clone()))
}

/// A positive whole number at `index` (a line or dispute number).
pub fn number(tokens: &[Token], index: usize, command: &'static str) -> Result<u32, ParseError> {
    let token = tokens.get(index).ok_or(ParseError::Usage(command))?;
    token
        .text
        .trim_start_matches('#')
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ParseError::BadNumber(token.text.clone()))
}

/// `<partner words | "quoted"> <1-5> [comment]`: the partner runs up to the score.
pub fn parse_feedback(tokens: &[Token]) -> Result<Command, ParseError> {
    let score_at = tokens
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, t)| !t.quoted && matches!(t.text.as_str(), "1" | "2" | "3" | "4" | "5"))
        .map(|(i, _)| i)
        .ok_or(ParseError::Usage("feedback"))?;
    let partner = checked_name(join(&tokens[..score_at]))?;
    let score = tokens[score_at]
        .text
        .parse::<u8>()
        .map_err(|_| ParseError::Usage("feedback"))?;
    let comment = Some(join(&tokens[score_at + 1..])).filter(|c| !c.is_empty());
    Ok(Command::Feedback {
        partner,
        score,
        comment,
    })
}

/// `<partner words | "quoted"> <±amount> <reason>`: the partner runs up to the first word that
/// is a signed amount.
pub fn parse_adjust(tokens: &[Token]) -> Result<Command, ParseError> {
    let signed = |text: &str| -> Option<(bool, AmountInput)> {
        let (negative, rest) = match text.strip_prefix(['-', '−']) {
            Some(rest) => (true, rest),
            None => (false, text.strip_prefix('+').unwrap_or(text)),
        };
        amount::parse_amount(rest).ok().map(|a| (negative, a))
    };
    let (at, (negative, amount)) = tokens
        .iter()
        .enumerate()
        .skip(1)
        .find_map(|(i, t)| {
            (!t.quoted)
                .then(|| signed(&t.text))
                .flatten()
                .map(|a| (i, a))
        })
        .ok_or(ParseError::Usage("adjust"))?;
    let reason = join(&tokens[at + 1..]);
    if reason.is_empty() {
        return Err(ParseError::Usage("adjust"));
    }
    Ok(Command::Adjust {
        partner: checked_name(join(&tokens[..at]))?,
        amount,
        negative,
        reason,
    })
}

/// `/reject <sale> <reason>`.
pub fn parse_reject(tokens: &[Token]) -> Result<Command, ParseError> {
    let sale = sale_id(tokens, "reject")?;
    let reason = join(&tokens[1..]);
    if reason.is_empty() {
        return Err(ParseError::Usage("reject"));
    }
    Ok(Command::Reject { sale, reason })
}

/// `/why <line> [period]`.
pub fn parse_why(tokens: &[Token]) -> Result<Command, ParseError> {
    Ok(Command::Why {
        line: number(tokens, 0, "why")?,
        period: tokens.get(1).map(|t| t.text.clone()),
    })
}

/// `/whatif <amount> [#category]`.
pub fn parse_what_if(tokens: &[Token]) -> Result<Command, ParseError> {
    let first = tokens.first().ok_or(ParseError::Usage("whatif"))?;
    let category = match tokens.get(1) {
        Some(t) if !t.quoted && t.text.starts_with('#') && t.text.len() > 1 => {
            Some(checked_name(t.text[1..].to_string())?)
        }
        Some(_) => return Err(ParseError::Usage("whatif")),
        None => None,
    };
    Ok(Command::WhatIf {
        amount: amount::parse_amount(&first.text)?,
        category,
    })
}

/// `/dispute <line> <reason>`.
pub fn parse_dispute(tokens: &[Token]) -> Result<Command, ParseError> {
    let line = number(tokens, 0, "dispute")?;
    let reason = join(&tokens[1..]);
    if reason.is_empty() {
        return Err(ParseError::Usage("dispute"));
    }
    Ok(Command::Dispute { line, reason })
}

/// `/answer <dispute> <text>`.
pub fn parse_answer(tokens: &[Token]) -> Result<Command, ParseError> {
    let dispute = DisputeId(i64::from(number(tokens, 0, "answer")?));
    let text = join(&tokens[1..]);
    if text.is_empty() {
        return Err(ParseError::Usage("answer"));
    }
    Ok(Command::Answer { dispute, text })
}

/// `/allocate <budget> [currency]`.
pub fn parse_allocate(tokens: &[Token]) -> Result<Command, ParseError> {
    let first = tokens.first().ok_or(ParseError::Usage("allocate"))?;
    if tokens.len() > 2 {
        return Err(ParseError::Usage("allocate"));
    }
    Ok(Command::Allocate {
        budget: amount::parse_amount_with_currency(
            &first.text,
            tokens.get(1).map(|t| t.text.as_str()),
        )?,
    })
}

/// Leading `key=value` filters, then the text (required).
fn broadcast_args(tokens: &[Token], command: &'static str) -> Result<BroadcastArgs, ParseError> {
    let words: Vec<&str> = tokens
        .iter()
        .map_while(|t| (!t.quoted).then_some(t.text.as_str()))
        .collect();
    let (filter, to, used) = broadcast::read_filters(&words).map_err(|e| match e {
        FilterError::UnknownKey(key) => ParseError::UnknownFilter(key),
        FilterError::BadValue { key, value } => ParseError::BadFilter { key, value },
    })?;
    let text = join(&tokens[used..]);
    if text.is_empty() {
        return Err(ParseError::Usage(command));
    }
    Ok(BroadcastArgs { filter, to, text })
}

/// `/announce [filters] <text>`.
pub fn parse_announce(tokens: &[Token]) -> Result<Command, ParseError> {
    Ok(Command::Announce(broadcast_args(tokens, "announce")?))
}

/// `/schedule <when> [filters] <text>`: `HH:MM`, `YYYY-MM-DDTHH:MM` or a quoted cron expression.
pub fn parse_schedule(tokens: &[Token]) -> Result<Command, ParseError> {
    let first = tokens.first().ok_or(ParseError::Usage("schedule"))?;
    let when = if first.quoted {
        first
            .text
            .parse::<CronSchedule>()
            .map(|cron| When::Cron(Box::new(cron)))
            .map_err(|_| ParseError::BadWhen(first.text.clone()))?
    } else {
        When::parse_time(&first.text).ok_or_else(|| ParseError::BadWhen(first.text.clone()))?
    };
    Ok(Command::Schedule {
        when,
        args: broadcast_args(&tokens[1..], "schedule")?,
    })
}

pub fn checked_name(name: String) -> Result<String, ParseError> {
    if name.chars().count() > MAX_NAME_CHARS {
        Err(ParseError::NameTooLong)
    } else {
        Ok(name)
    }
}

/// `<amount> [currency] <customer words | "quoted customer"> [#category] [note words]`.
/// A note without a category follows `--`.
pub fn parse_report(tokens: &[Token]) -> Result<ReportArgs, ParseError> {
    let amount_token = tokens.first().ok_or(ParseError::Usage("report"))?;
    let mut rest = &tokens[1..];
    let currency = match rest.first() {
        Some(t) if !t.quoted && amount::is_currency_code(&t.text) => {
            rest = &rest[1..];
            Some(t.text.as_str())
        }
        _ => None,
    };
    let amount = amount::parse_amount_with_currency(&amount_token.text, currency)?;

    let is_category = |t: &Token| !t.quoted && t.text.starts_with('#') && t.text.len() > 1;
    let is_separator = |t: &Token| !t.quoted && t.text == "--";
    let customer_end = rest
        .iter()
        .position(|t| is_category(t) || is_separator(t))
        .unwrap_or(rest.len());
    let customer = join(&rest[..customer_end]);
    if customer.is_empty() {
        return Err(ParseError::Usage("report"));
    }
    rest = &rest[customer_end..];
    let mut category = None;
    if let Some(t) = rest.first().filter(|t| is_category(t)) {
        category = Some(checked_name(t.text[1..].to_string())?);
        rest = &rest[1..];
    }
    if let Some(t) = rest.first().filter(|t| is_separator(t)) {
        let _ = t;
        rest = &rest[1..];
    }
    let note = Some(join(rest)).filter(|n| !n.is_empty());
    Ok(ReportArgs {
        amount,
        customer: checked_name(customer)?,
        category,
        note,
    })
}

/// `<partner name words | "quoted name"> [kind] [region] [tier]`: the name runs up to the first
/// word that is a partner kind.
pub fn parse_invite(tokens: &[Token]) -> Result<InviteArgs, ParseError> {
    let kind_at = tokens
        .iter()
        .position(|t| !t.quoted && PartnerKind::parse(&t.text).is_some());
    let (name_tokens, rest) = match kind_at {
        Some(i) => tokens.split_at(i),
        None => (tokens, &tokens[tokens.len()..]),
    };
    let partner = join(name_tokens);
    if partner.is_empty() {
        return Err(ParseError::Usage("invite"));
    }
    let kind = rest.first().and_then(|t| PartnerKind::parse(&t.text));
    let region = rest.get(1).map(|t| t.text.clone());
    let tier = rest.get(2).map(|t| t.text.clone());
    if rest.len() > 3 {
        return Err(ParseError::Usage("invite"));
    }
    Ok(InviteArgs {
        partner: checked_name(partner)?,
        kind,
        region,
        tier,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::money::Currency;
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn p(text: &str) -> Result<Option<Command>, ParseError> {
        parse(text, Some("RallyBot"))
    }

    fn report(text: &str) -> ReportArgs {
        match p(text) {
            Ok(Some(Command::Report(r))) => r,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn plain_text_is_not_a_command() {
        assert_eq!(p("hello"), Ok(None));
        assert_eq!(p(""), Ok(None));
    }

    #[test]
    fn bot_addressing() {
        assert_eq!(p("/rank@RallyBot"), Ok(Some(Command::Rank)));
        assert_eq!(p("/rank@rallybot"), Ok(Some(Command::Rank)));
        assert_eq!(p("/rank@OtherBot"), Ok(None));
        assert_eq!(p("/RANK"), Ok(Some(Command::Rank)));
        assert_eq!(parse("/rank@Any", None), Ok(Some(Command::Rank)));
    }

    #[test]
    fn report_forms() {
        let r = report("/report 12500 ACME");
        assert_eq!(r.amount.value, Decimal::new(12500, 0));
        assert_eq!(r.customer, "ACME");
        assert_eq!(r.category, None);

        let r = report("/report 12,500.50 USD ACME Corp #software first order");
        assert_eq!(r.amount.value, Decimal::new(1250050, 2));
        assert_eq!(r.amount.currency, Some(Currency::USD));
        assert_eq!(r.customer, "ACME Corp");
        assert_eq!(r.category.as_deref(), Some("software"));
        assert_eq!(r.note.as_deref(), Some("first order"));

        let r = report("/report 1.2万 \"USD Holdings\" -- paid cash");
        assert_eq!(r.amount.value, Decimal::new(12000, 0));
        assert_eq!(r.amount.currency, None);
        assert_eq!(r.customer, "USD Holdings");
        assert_eq!(r.note.as_deref(), Some("paid cash"));

        let r = report("/report@RallyBot ¥3k 华东贸易");
        assert_eq!(r.amount.value, Decimal::new(3000, 0));
        assert_eq!(r.customer, "华东贸易");
    }

    #[test]
    fn report_errors() {
        assert_eq!(p("/report"), Err(ParseError::Usage("report")));
        assert_eq!(p("/report 100"), Err(ParseError::Usage("report")));
        assert_eq!(p("/report 100 #cat"), Err(ParseError::Usage("report")));
        assert!(matches!(p("/report abc ACME"), Err(ParseError::Amount(_))));
        assert!(matches!(
            p("/report 0 ACME"),
            Err(ParseError::Amount(AmountError::Zero))
        ));
        assert!(matches!(
            p("/report -5 ACME"),
            Err(ParseError::Amount(AmountError::Negative))
        ));
        assert_eq!(p("/report 5 \"ACME"), Err(ParseError::UnclosedQuote));
        let long = format!("/report 5 {}", "x".repeat(MAX_TEXT_CHARS));
        assert_eq!(p(&long), Err(ParseError::TooLong));
    }

    #[test]
    fn sale_ids() {
        assert_eq!(
            p("/approve 12"),
            Ok(Some(Command::Approve { sale: SaleId(12) }))
        );
        assert_eq!(
            p("/approve #12"),
            Ok(Some(Command::Approve { sale: SaleId(12) }))
        );
        assert_eq!(p("/approve x"), Err(ParseError::BadSaleId("x".into())));
        assert_eq!(p("/approve"), Err(ParseError::Usage("approve")));
        assert_eq!(p("/reject 3"), Err(ParseError::Usage("reject")));
        assert_eq!(
            p("/reject 3 duplicate entry"),
            Ok(Some(Command::Reject {
                sale: SaleId(3),
                reason: "duplicate entry".into()
            }))
        );
    }

    #[test]
    fn invite_forms() {
        assert_eq!(
            p("/invite East Trading Co dealer East Gold"),
            Ok(Some(Command::Invite(InviteArgs {
                partner: "East Trading Co".into(),
                kind: Some(PartnerKind::Dealer),
                region: Some("East".into()),
                tier: Some("Gold".into()),
            })))
        );
        assert_eq!(
            p("/invite 华东贸易"),
            Ok(Some(Command::Invite(InviteArgs {
                partner: "华东贸易".into(),
                kind: None,
                region: None,
                tier: None,
            })))
        );
        assert_eq!(p("/invite"), Err(ParseError::Usage("invite")));
        assert_eq!(p("/invite dealer"), Err(ParseError::Usage("invite")));
    }

    #[test]
    fn incentive_commands() {
        assert_eq!(
            p("/statement 2026-10"),
            Ok(Some(Command::Statement {
                period: Some("2026-10".into())
            }))
        );
        assert_eq!(
            p("/why 3"),
            Ok(Some(Command::Why {
                line: 3,
                period: None
            }))
        );
        assert_eq!(p("/why x"), Err(ParseError::BadNumber("x".into())));
        match p("/whatif 2万 #software") {
            Ok(Some(Command::WhatIf { amount, category })) => {
                assert_eq!(amount.value, Decimal::new(20000, 0));
                assert_eq!(category.as_deref(), Some("software"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            p("/feedback East Trading 4 quick delivery"),
            Ok(Some(Command::Feedback {
                partner: "East Trading".into(),
                score: 4,
                comment: Some("quick delivery".into())
            }))
        );
        assert_eq!(p("/feedback Acme 9"), Err(ParseError::Usage("feedback")));
        match p("/adjust \"7 Eleven\" -500 returned goods") {
            Ok(Some(Command::Adjust {
                partner,
                amount,
                negative,
                reason,
            })) => {
                assert_eq!(partner, "7 Eleven");
                assert_eq!(amount.value, Decimal::new(500, 0));
                assert!(negative);
                assert_eq!(reason, "returned goods");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(p("/adjust Acme 500"), Err(ParseError::Usage("adjust")));
        assert_eq!(
            p("/dispute 2 wrong rate"),
            Ok(Some(Command::Dispute {
                line: 2,
                reason: "wrong rate".into()
            }))
        );
        assert_eq!(
            p("/answer 7 fixed next period"),
            Ok(Some(Command::Answer {
                dispute: DisputeId(7),
                text: "fixed next period".into()
            }))
        );
        assert!(matches!(
            p("/allocate 100k"),
            Ok(Some(Command::Allocate { .. }))
        ));
        assert_eq!(p("/funds"), Ok(Some(Command::Funds)));
    }

    #[test]
    fn unknown_command() {
        assert_eq!(
            p("/frobnicate"),
            Err(ParseError::UnknownCommand("frobnicate".into()))
        );
    }

    #[test]
    fn every_listed_name_parses_or_asks_for_usage() {
        for name in registry::names() {
            match p(&format!("/{name}")) {
                Ok(Some(_)) | Err(ParseError::Usage(_)) => {}
                other => panic!("/{name}: {other:?}"),
            }
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in ".{0,200}") {
            let _ = parse(&text, Some("bot"));
            let _ = parse(&format!("/report {text}"), None);
            let _ = parse(&format!("/invite {text}"), None);
        }

        #[test]
        fn report_round_trip(
            whole in 1u64..1_000_000_000,
            customer in "[A-Za-z\u{4e00}-\u{4e50}][A-Za-z0-9\u{4e00}-\u{4e50} ]{0,30}",
            category in proptest::option::of("[a-z]{1,12}"),
            note in proptest::option::of("[a-z ]{1,20}"),
        ) {
            let customer = customer.split_whitespace().collect::<Vec<_>>().join(" ");
            let mut text = format!("/report {whole} \"{customer}\"");
            if let Some(c) = &category { text.push_str(&format!(" #{c}")); }
            if let Some(n) = &note {
                if category.is_none() { text.push_str(" --"); }
                text.push_str(&format!(" {n}"));
            }
            let r = report(&text);
            prop_assert_eq!(r.amount.value, Decimal::from(whole));
            prop_assert_eq!(r.customer, customer);
            prop_assert_eq!(r.category, category);
            let note = note.map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")).filter(|n| !n.is_empty());
            prop_assert_eq!(r.note, note);
        }
    }
}
