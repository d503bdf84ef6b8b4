//! Deal registration in chat: `/deal`, `/deals`, and for managers `/conflicts` and `/resolve`,
//! plus the conflict notice with Award / Split buttons that managers get.
//!
//! Privacy: a partner whose claim became a conflict is told that the customer is protected and
//! until when, never by whom or for how much; only managers see both sides. Replies that carry
//! amounts or customers go to the member privately.

use crate::app::App;
use crate::chat::args::{LIST_LIMIT, to_program_money};
use crate::chat::command::{self, Command, ParseError, ResolveArg, Token};
use crate::chat::handler::{Ctx, Handled, amount_error_msg, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Destination, Msg, Reply};
use crate::config::Locale;
use crate::engine::amount::{self, AmountInput};
use crate::engine::customer::customer_key;
use crate::engine::deal::{self, Conflict};
use crate::engine::ids::{MemberId, PartnerId};
use crate::engine::money::Money;
use crate::engine::partner::name_key;
use crate::features::deals::service::{
    self, DealRequest, Decision, Registration, Resolution, ResolveRefusal,
};
use crate::store::{self, deals as stored, members, partners, sales};

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "deal",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[
            req("customer", K::Name),
            opt("expected", K::Amount),
            opt("note", K::Note),
        ],
        parse: parse_deal,
        example: "Wayne Enterprises 80000 -- pilot in Q1",
    },
    CommandSpec {
        name: "deals",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Deals),
        example: "",
    },
    CommandSpec {
        name: "conflicts",
        audience: Audience::Manager,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Conflicts),
        example: "",
    },
    CommandSpec {
        name: "resolve",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("conflict", K::Number), req("decision", K::Text)],
        parse: parse_resolve,
        example: "1 split 50",
    },
];

/// `<customer words | "quoted"> [expected amount [currency]] [-- note]`: the last word before
/// `--` (or the end) is the expected amount when it reads as one and a customer is left.
pub fn parse_deal(tokens: &[Token]) -> Result<Command, ParseError> {
    let separator = tokens
        .iter()
        .position(|t| !t.quoted && t.text == "--")
        .unwrap_or(tokens.len());
    let (head, note) = tokens.split_at(separator);
    let note = Some(command::join(note.get(1..).unwrap_or_default())).filter(|n| !n.is_empty());
    let amount_at = |i: usize| -> Option<AmountInput> {
        let t = head.get(i)?;
        (!t.quoted)
            .then(|| amount::parse_amount(&t.text).ok())
            .flatten()
    };
    let mut customer_end = head.len();
    let mut expected = None;
    // `… 5000 USD`: an amount and its currency.
    if head.len() >= 3
        && head
            .last()
            .is_some_and(|t| !t.quoted && amount::is_currency_code(&t.text))
        && amount_at(head.len() - 2).is_some()
    {
        let (amount, currency) = (&head[head.len() - 2], &head[head.len() - 1]);
        expected = Some(amount::parse_amount_with_currency(
            &amount.text,
            Some(&currency.text),
        )?);
        customer_end = head.len() - 2;
    } else if head.len() >= 2
        && let Some(a) = amount_at(head.len() - 1)
    {
        expected = Some(a);
        customer_end = head.len() - 1;
    }
    let customer = command::join(&head[..customer_end]);
    if customer.is_empty() {
        return Err(ParseError::Usage("deal"));
    }
    Ok(Command::Deal {
        customer: command::checked_name(customer)?,
        expected,
        note,
    })
}

/// `<conflict> <partner name or id | split <percent>>`.
pub fn parse_resolve(tokens: &[Token]) -> Result<Command, ParseError> {
    let conflict = i64::from(command::number(tokens, 0, "resolve")?);
    let rest = tokens.get(1..).unwrap_or_default();
    let decision = match rest.first() {
        None => return Err(ParseError::Usage("resolve")),
        Some(t) if !t.quoted && matches!(t.text.to_lowercase().as_str(), "split" | "分成") => {
            ResolveArg::Split(command::join(&rest[1..]))
        }
        Some(_) => ResolveArg::Partner(command::checked_name(command::join(rest))?),
    };
    Ok(Command::Resolve { conflict, decision })
}

fn date(app: &App, at: i64) -> String {
    app.local_date(at).to_string()
}

fn with_locale(member: &crate::engine::partner::Member, reply: Reply) -> Reply {
    Reply {
        to: Destination::Member(member.id),
        locale: member.locale.as_deref().and_then(Locale::from_tag),
        ..reply
    }
}

/// A reply for another member, in their language.
async fn to_member(conn: &mut store::Conn, member: MemberId, reply: Reply) -> Handled<Reply> {
    let locale = members::get(conn, member)
        .await?
        .and_then(|m| m.locale)
        .as_deref()
        .and_then(Locale::from_tag);
    Ok(Reply {
        to: Destination::Member(member),
        locale,
        ..reply
    })
}

async fn partner_name(conn: &mut store::Conn, id: PartnerId) -> Handled<String> {
    Ok(partners::get(conn, id)
        .await?
        .map_or_else(|| id.to_string(), |p| p.name))
}

fn optional(text: Option<String>) -> String {
    text.filter(|t| !t.is_empty())
        .unwrap_or_else(|| "-".to_string())
}

pub(crate) async fn register(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    customer: &str,
    expected: Option<AmountInput>,
    note: Option<&str>,
) -> Handled {
    let partner = ctx.partner()?;
    if customer_key(customer).is_empty() {
        return Err(user(Msg::new("deal-bad-customer")));
    }
    let expected_minor = match expected {
        Some(input) => {
            let program = app.config.program.currency;
            let money = amount::to_money(input, program).map_err(|e| user(amount_error_msg(&e)))?;
            let converted = to_program_money(app, money)?;
            Some(
                converted
                    .to_minor()
                    .map_err(|_| user(Msg::new("amount-too-large")))?,
            )
        }
        None => None,
    };
    let request = DealRequest {
        partner,
        member: Some(ctx.member.id),
        customer,
        expected_minor,
        note,
    };
    let registration = service::register(app, &mut *conn, request, ctx.now).await?;
    Ok(match registration {
        Registration::New(held) => vec![Reply::private(
            Msg::new("deal-registered")
                .text("customer", customer)
                .text("until", date(app, held.expires_at)),
        )],
        Registration::Extended(held) => vec![Reply::private(
            Msg::new("deal-extended")
                .text("customer", customer)
                .text("until", date(app, held.expires_at)),
        )],
        Registration::Claimed {
            conflict,
            until,
            opened,
        } => {
            let mut replies = vec![Reply::private(
                Msg::new("deal-conflict")
                    .text("customer", customer)
                    .text("until", date(app, until)),
            )];
            if opened {
                replies.extend(conflict_notices(app, &mut *conn, conflict).await?);
            }
            replies
        }
    })
}

pub(crate) async fn list(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    let partner = ctx.partner()?;
    let held = stored::in_force_for(&mut *conn, partner, ctx.now).await?;
    if held.is_empty() {
        return Ok(vec![Reply::private(Msg::new("deals-none"))]);
    }
    let mut reply = Reply::private(Msg::new("deals-header").int("count", held.len() as i64));
    for d in &held {
        let days_left = (d.expires_at - ctx.now + deal::DAY_MS - 1) / deal::DAY_MS;
        reply = reply.line(
            Msg::new("deals-line")
                .text("customer", &d.customer)
                .text("until", date(app, d.expires_at))
                .int("days", days_left)
                .text(
                    "expected",
                    optional(d.expected_minor.map(|m| app.program_money(m))),
                ),
        );
    }
    Ok(vec![reply])
}

/// Both sides of a conflict with the decision buttons, as one reply (for `/conflicts` and the
/// managers' notice).
async fn conflict_reply(
    app: &App,
    conn: &mut store::Conn,
    conflict: &Conflict,
    header: &str,
) -> Handled<Reply> {
    let holder = partner_name(conn, conflict.holder).await?;
    let claimant = partner_name(conn, conflict.claimant).await?;
    let held = stored::get(conn, conflict.deal_id).await?;
    let mut reply = Reply::private(
        Msg::new(header)
            .int("conflict", conflict.id)
            .text("customer", &conflict.customer),
    );
    if let Some(held) = &held {
        reply = reply.line(
            Msg::new("conflict-holder")
                .text("partner", &holder)
                .text("registered", &held.customer)
                .text("since", date(app, held.registered_at))
                .text("until", date(app, held.expires_at))
                .text(
                    "expected",
                    optional(held.expected_minor.map(|m| app.program_money(m))),
                )
                .text("note", optional(held.note.clone())),
        );
    }
    let sale = match conflict.sale_id {
        Some(id) => sales::get(conn, id, app.config.program.currency).await?,
        None => None,
    };
    reply = match &sale {
        Some(sale) => reply.line(
            Msg::new("conflict-claim-sale")
                .text("partner", &claimant)
                .int("sale", sale.id.0)
                .text("amount", sale.amount.format())
                .text("date", date(app, sale.reported_at)),
        ),
        None => reply.line(
            Msg::new("conflict-claim-deal")
                .text("partner", &claimant)
                .text(
                    "expected",
                    optional(conflict.claim_expected_minor.map(|m| app.program_money(m))),
                )
                .text("note", optional(conflict.claim_note.clone())),
        ),
    };
    reply = reply
        .button(
            Msg::new("button-award").text("partner", &holder),
            format!("/resolve {} {}", conflict.id, conflict.holder),
        )
        .button(
            Msg::new("button-award").text("partner", &claimant),
            format!("/resolve {} {}", conflict.id, conflict.claimant),
        );
    if sale.is_some() {
        reply = reply.button(
            Msg::new("button-split-even"),
            format!("/resolve {} split 50", conflict.id),
        );
    }
    Ok(reply)
}

/// The notice of a new conflict to every manager, privately, with the decision buttons.
pub(crate) async fn conflict_notices(app: &App, conn: &mut store::Conn, conflict: i64) -> Handled {
    let Some(conflict) = stored::conflict(conn, conflict).await? else {
        return Ok(Vec::new());
    };
    let reply = conflict_reply(app, conn, &conflict, "conflict-new").await?;
    let managers = members::managers_to_notify(conn).await?;
    Ok(managers
        .iter()
        .map(|m| with_locale(m, reply.clone()))
        .collect())
}

pub(crate) async fn conflicts(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_manager()?;
    let open = stored::open_conflicts(&mut *conn, LIST_LIMIT).await?;
    if open.is_empty() {
        return Ok(vec![Reply::private(Msg::new("conflicts-none"))]);
    }
    let mut replies = vec![Reply::private(
        Msg::new("conflicts-header").int("count", open.len() as i64),
    )];
    for conflict in &open {
        replies.push(conflict_reply(app, conn, conflict, "conflict-line").await?);
    }
    Ok(replies)
}

pub(crate) async fn resolve(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    id: i64,
    decision: &ResolveArg,
) -> Handled {
    ctx.require_manager()?;
    let Some(conflict) = stored::conflict(&mut *conn, id).await? else {
        return Err(user(Msg::new("conflict-not-found").int("conflict", id)));
    };
    let decision = match decision {
        ResolveArg::Split(percent) => Decision::Split(
            deal::parse_split_percent(percent)
                .ok_or_else(|| user(Msg::new("conflict-bad-split").int("conflict", id)))?,
        ),
        ResolveArg::Partner(text) => Decision::Award(side_named(conn, &conflict, text, id).await?),
    };
    let resolution =
        match service::resolve(app, &mut *conn, id, decision, ctx.member.id, ctx.now).await? {
            Ok(r) => r,
            Err(refusal) => return Err(user(refusal_msg(refusal, id))),
        };
    resolution_replies(app, conn, &resolution).await
}

fn refusal_msg(refusal: ResolveRefusal, id: i64) -> Msg {
    match refusal {
        ResolveRefusal::NotFound => Msg::new("conflict-not-found").int("conflict", id),
        ResolveRefusal::Closed(status) => Msg::new("conflict-closed")
            .int("conflict", id)
            .text("status", status.as_str()),
        ResolveRefusal::NoSaleToSplit => Msg::new("conflict-no-sale").int("conflict", id),
        ResolveRefusal::NotASide => Msg::new("conflict-not-a-side")
            .int("conflict", id)
            .text("partner", "?")
            .text("holder", "?")
            .text("claimant", "?"),
    }
}

/// The side of `conflict` that `text` names (its id or its name, any case and width).
async fn side_named(
    conn: &mut store::Conn,
    conflict: &Conflict,
    text: &str,
    id: i64,
) -> Handled<PartnerId> {
    let holder = partner_name(conn, conflict.holder).await?;
    let claimant = partner_name(conn, conflict.claimant).await?;
    let wanted = text.trim().trim_start_matches('#');
    for (partner, name) in [(conflict.holder, &holder), (conflict.claimant, &claimant)] {
        if wanted == partner.0.to_string() || name_key(wanted) == name_key(name) {
            return Ok(partner);
        }
    }
    Err(user(
        Msg::new("conflict-not-a-side")
            .int("conflict", id)
            .text("partner", text)
            .text("holder", holder)
            .text("claimant", claimant),
    ))
}

/// The manager's confirmation and the notices to the two sides.
async fn resolution_replies(app: &App, conn: &mut store::Conn, r: &Resolution) -> Handled {
    let c = &r.conflict;
    let holder = partner_name(conn, c.holder).await?;
    let claimant = partner_name(conn, c.claimant).await?;
    let money = |minor: i64| -> String {
        let currency = r
            .sale
            .as_ref()
            .map_or(app.config.program.currency, |s| s.amount.currency());
        Money::from_minor(minor, currency).format()
    };
    let mut replies = Vec::new();
    let mut to_claimant: Option<Msg> = None;
    let mut to_holder: Option<Msg> = None;
    match (r.decision, &r.sale) {
        (Decision::Split(percent), Some(sale)) => {
            let claimant_part = r.parts.first().map_or(0, |p| p.amount_minor);
            let holder_part = r.parts.get(1).map_or(0, |p| p.amount_minor);
            replies.push(Reply::private(
                Msg::new("conflict-split-done")
                    .int("conflict", c.id)
                    .text("customer", &c.customer)
                    .int("sale", sale.id.0)
                    .text("claimant", &claimant)
                    .int("percent", i64::from(percent))
                    .text("claimant_amount", money(claimant_part))
                    .text("holder", &holder)
                    .int("rest", 100 - i64::from(percent))
                    .text("holder_amount", money(holder_part)),
            ));
            to_claimant = Some(
                Msg::new("your-conflict-split")
                    .int("sale", sale.id.0)
                    .text("customer", &c.customer)
                    .int("percent", i64::from(percent))
                    .text("amount", money(claimant_part)),
            );
            to_holder = Some(
                Msg::new("your-deal-split")
                    .text("customer", &c.customer)
                    .int("percent", 100 - i64::from(percent))
                    .text("amount", money(holder_part)),
            );
        }
        (Decision::Award(winner), sale) => {
            let won_by_claimant = winner == c.claimant;
            let winner_name = if won_by_claimant { &claimant } else { &holder };
            let mut done = Reply::private(
                Msg::new("conflict-awarded")
                    .int("conflict", c.id)
                    .text("customer", &c.customer)
                    .text("partner", winner_name),
            );
            if let Some(sale) = sale {
                done = done.line(
                    Msg::new("conflict-sale-credited")
                        .int("sale", sale.id.0)
                        .text("amount", sale.amount.format())
                        .text("partner", winner_name),
                );
            }
            replies.push(done);
            match (won_by_claimant, sale) {
                (true, Some(sale)) => {
                    to_claimant = Some(
                        Msg::new("your-conflict-won-sale")
                            .int("sale", sale.id.0)
                            .text("amount", sale.amount.format())
                            .text("customer", &c.customer),
                    );
                    to_holder = Some(Msg::new("your-deal-released").text("customer", &c.customer));
                }
                (true, None) => {
                    let until = r.won.as_ref().map_or(c.opened_at, |d| d.expires_at);
                    to_claimant = Some(
                        Msg::new("your-conflict-won-deal")
                            .text("customer", &c.customer)
                            .text("until", date(app, until)),
                    );
                    to_holder = Some(Msg::new("your-deal-released").text("customer", &c.customer));
                }
                (false, Some(sale)) => {
                    to_claimant = Some(
                        Msg::new("your-conflict-lost-sale")
                            .int("sale", sale.id.0)
                            .text("customer", &c.customer),
                    );
                    to_holder = Some(
                        Msg::new("your-deal-credited")
                            .text("customer", &c.customer)
                            .text("amount", sale.amount.format()),
                    );
                }
                (false, None) => {
                    to_claimant =
                        Some(Msg::new("your-conflict-lost-deal").text("customer", &c.customer));
                }
            }
        }
        (Decision::Split(_), None) => {}
    }
    if let (Some(msg), Some(member)) = (to_claimant, c.claimant_member) {
        replies.push(to_member(conn, member, Reply::here(msg)).await?);
    }
    let holder_member = r.held.as_ref().and_then(|d| d.member_id);
    if let (Some(msg), Some(member)) = (to_holder, holder_member) {
        replies.push(to_member(conn, member, Reply::here(msg)).await?);
    }
    Ok(replies)
}

/// For `/report`: the private line telling the reporter that the sale waits for a manager
/// (the customer is protected until `until`), never by whom.
pub(crate) fn held_line(app: &App, customer: &str, sale: i64, until: i64) -> Reply {
    Reply::private(
        Msg::new("report-conflict")
            .text("customer", customer)
            .int("sale", sale)
            .text("until", date(app, until)),
    )
}

/// For `/approve` and `/reject`: a sale waiting for a conflict is decided with `/resolve`.
pub(crate) async fn refuse_if_held(
    conn: &mut store::Conn,
    sale: crate::engine::ids::SaleId,
) -> Handled<()> {
    if let Some(open) = stored::open_for_sale(conn, sale).await? {
        return Err(user(
            Msg::new("sale-in-conflict")
                .int("sale", sale.0)
                .int("conflict", open.id),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deal(text: &str) -> Result<Option<Command>, ParseError> {
        command::parse(text, None)
    }

    #[test]
    fn deal_arguments() {
        let amount = |t: &str| Some(amount::parse_amount(t).expect("amount"));
        assert_eq!(
            deal("/deal ACME Co., Ltd. 80000 -- pilot in Q1"),
            Ok(Some(Command::Deal {
                customer: "ACME Co., Ltd.".into(),
                expected: amount("80000"),
                note: Some("pilot in Q1".into()),
            }))
        );
        assert_eq!(
            deal("/deal 华东贸易有限公司"),
            Ok(Some(Command::Deal {
                customer: "华东贸易有限公司".into(),
                expected: None,
                note: None,
            }))
        );
        // A lone word is the customer even when it reads as an amount; a quoted name keeps
        // its number.
        assert_eq!(
            deal("/deal 3M"),
            Ok(Some(Command::Deal {
                customer: "3M".into(),
                expected: None,
                note: None,
            }))
        );
        assert_eq!(
            deal("/deal \"Studio 54\" 1.2万"),
            Ok(Some(Command::Deal {
                customer: "Studio 54".into(),
                expected: amount("1.2万"),
                note: None,
            }))
        );
        assert!(matches!(
            deal("/deal Globex 5000 USD"),
            Ok(Some(Command::Deal { expected: Some(_), ref customer, .. })) if customer == "Globex"
        ));
        assert_eq!(deal("/deal"), Err(ParseError::Usage("deal")));
        assert_eq!(deal("/deal -- note only"), Err(ParseError::Usage("deal")));
    }

    #[test]
    fn resolve_arguments() {
        assert_eq!(
            deal("/resolve 3 split 60"),
            Ok(Some(Command::Resolve {
                conflict: 3,
                decision: ResolveArg::Split("60".into()),
            }))
        );
        assert_eq!(
            deal("/resolve #3 Northwind Trading"),
            Ok(Some(Command::Resolve {
                conflict: 3,
                decision: ResolveArg::Partner("Northwind Trading".into()),
            }))
        );
        assert_eq!(deal("/resolve 3"), Err(ParseError::Usage("resolve")));
        assert!(matches!(
            deal("/resolve x split 5"),
            Err(ParseError::BadNumber(_))
        ));
    }
}
