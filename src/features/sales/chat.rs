//! Reporting and deciding sales in chat: `/report`, `/sales`, `/cancel`, `/pending`, `/approve`, `/reject`, and the notice with Approve / Reject buttons that managers get.

use serde_json::json;

use crate::app::App;
use crate::chat::args::{LIST_LIMIT, to_program_money};
use crate::chat::command::{self, Command, ReportArgs};
use crate::chat::handler::{Ctx, Handled, amount_error_msg, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Destination, Msg, Reply};
use crate::config::Locale;
use crate::engine::amount;
use crate::engine::audit::AuditAction;
use crate::engine::ids::SaleId;
use crate::engine::money::Money;
use crate::engine::partner::name_key;
use crate::engine::sale::{self as sale_rules, Sale, SaleAction, SaleSource, SaleStatus};
use crate::features::deals::chat as deals_chat;
use crate::features::deals::service as deals;
use crate::store::sales::{Inserted, NewSale};
use crate::store::totals;
use crate::store::{self, audit, members, partners, sales};

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "report",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[
            req("amount", K::Amount),
            opt("currency", K::Currency),
            req("customer", K::Name),
            opt("category", K::Category),
            opt("note", K::Note),
            opt("evidence", K::Attachment),
        ],
        parse: |t| Ok(Command::Report(command::parse_report(t)?)),
        example: "1200 ACME #software -- first order",
    },
    CommandSpec {
        name: "sales",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Sales),
        example: "",
    },
    CommandSpec {
        name: "cancel",
        audience: Audience::Partner,
        writes: Writes::Always,
        params: &[req("sale", K::Number)],
        parse: |t| {
            Ok(Command::Cancel {
                sale: command::sale_id(t, "cancel")?,
            })
        },
        example: "1",
    },
    CommandSpec {
        name: "pending",
        audience: Audience::Manager,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Pending),
        example: "",
    },
    CommandSpec {
        name: "approve",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("sale", K::Number)],
        parse: |t| {
            Ok(Command::Approve {
                sale: command::sale_id(t, "approve")?,
            })
        },
        example: "1",
    },
    CommandSpec {
        name: "reject",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("sale", K::Number), req("reason", K::Text)],
        parse: command::parse_reject,
        example: "1 duplicate entry",
    },
];

pub(crate) async fn report(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    args: ReportArgs,
) -> Handled {
    let partner_id = ctx.partner()?;
    // A customer another partner registered: the sale waits for a manager (channel conflict).
    let held = deals::held_by_another(&mut *conn, partner_id, &args.customer, ctx.now).await?;
    let new = new_sale(app, ctx, &args, held.is_some())?;
    let (inserted, totals_now) =
        crate::features::sales::ledger::record_sale(app, &mut *conn, &new, ctx.now).await?;
    let (sale, redelivered) = match inserted {
        Inserted::New(sale) => (sale, false),
        Inserted::Existing(sale) => (sale, true),
    };
    let mut replies = vec![report_reply(app, ctx, &sale, totals_now, &mut *conn).await?];
    if sale.status != SaleStatus::Pending {
        return Ok(replies);
    }
    if redelivered {
        // Managers were told when the sale was first stored; a redelivery tells nobody again,
        // but the reporter hears again that it waits for a conflict.
        if let Some(open) = crate::store::deals::open_for_sale(&mut *conn, sale.id).await?
            && let Some(held) = crate::store::deals::get(&mut *conn, open.deal_id).await?
        {
            replies.push(deals_chat::held_line(
                app,
                &sale.customer,
                sale.id.0,
                held.expires_at,
            ));
        }
        return Ok(replies);
    }
    match &held {
        Some(held) => {
            let claim = deals::NewClaim {
                customer: &sale.customer,
                claimant: partner_id,
                member: Some(ctx.member.id),
                sale: Some(sale.id),
                expected_minor: None,
                note: None,
            };
            let conflict = deals::open_conflict(&mut *conn, held, claim, ctx.now).await?;
            replies.push(deals_chat::held_line(
                app,
                &sale.customer,
                sale.id.0,
                held.expires_at,
            ));
            replies.extend(deals_chat::conflict_notices(app, &mut *conn, conflict).await?);
        }
        None => replies.extend(notify_managers(&mut *conn, &sale).await?),
    }
    Ok(replies)
}

/// The sale a `/report` stores, decided before anything is written: the member's partner, the
/// amount in its currency and the program's, and the status (waiting for a manager when the
/// customer is `held` by another partner's registration, or above the auto-approval limit).
/// Shared by [`report`] and the group commit's bulk path (`chat::batch`).
pub(crate) fn new_sale(
    app: &App,
    ctx: &Ctx<'_>,
    args: &ReportArgs,
    held: bool,
) -> Handled<NewSale> {
    let partner_id = ctx.partner()?;
    let program = app.config.program.currency;
    let money = amount::to_money(args.amount, program).map_err(|e| user(amount_error_msg(&e)))?;
    let program_amount = to_program_money(app, money)?;
    let limit = app
        .config
        .program
        .auto_approve_below
        .map(|v| Money::new(v, program));
    let status = if held {
        SaleStatus::Pending
    } else {
        sale_rules::initial_status(SaleSource::Chat, false, program_amount, limit)
    };
    let period = app.period_at(ctx.now);
    Ok(NewSale {
        partner_id,
        amount: money,
        program_amount,
        customer: args.customer.clone(),
        customer_key: name_key(&args.customer),
        category: args.category.clone(),
        quantity: None,
        evidence: ctx.incoming.attachments.first().cloned(),
        note: args.note.clone(),
        sale_date: app.local_date(ctx.now).to_string(),
        period: period.key(),
        source: SaleSource::Chat,
        idempotency_key: ctx.key().idempotency_key(),
        status,
        reporter: Some(ctx.member.id),
        reported_at: ctx.now,
    })
}

pub(crate) async fn report_reply(
    app: &App,
    ctx: &Ctx<'_>,
    sale: &Sale,
    totals_now: Option<totals::PeriodTotals>,
    conn: &mut store::Conn,
) -> Handled<Reply> {
    let key = match sale.status {
        SaleStatus::Approved => "report-approved",
        _ => "report-pending",
    };
    let mut reply = Reply::here(
        Msg::new(key)
            .int("sale", sale.id.0)
            .text("amount", sale.amount.format())
            .text("customer", &sale.customer),
    );
    if sale.amount.currency() != sale.program_amount.currency() {
        reply =
            reply.line(Msg::new("report-converted").text("amount", sale.program_amount.format()));
    }
    // The period total is money: only in a private chat.
    if ctx.incoming.private_chat {
        let t = match totals_now {
            Some(t) => t,
            None => totals::get(conn, &sale.period, sale.partner_id).await?,
        };
        reply = reply.line(
            Msg::new("report-period-total")
                .text("period", &sale.period)
                .text("total", app.program_money(t.approved_minor))
                .int("pending", t.pending_count),
        );
    }
    Ok(reply)
}

/// A private note with Approve / Reject buttons to every manager.
pub(crate) async fn notify_managers(conn: &mut store::Conn, sale: &Sale) -> Handled {
    let partner = partners::get(conn, sale.partner_id).await?;
    let partner_name = partner.map(|p| p.name).unwrap_or_default();
    let managers = members::managers_to_notify(conn).await?;
    Ok(managers
        .into_iter()
        .map(|m| Reply {
            to: Destination::Member(m.id),
            locale: m.locale.as_deref().and_then(Locale::from_tag),
            ..Reply::here(
                Msg::new("pending-new")
                    .int("sale", sale.id.0)
                    .text("partner", &partner_name)
                    .text("amount", sale.amount.format())
                    .text("customer", &sale.customer),
            )
            .button(Msg::new("button-approve"), format!("/approve {}", sale.id))
            .button(Msg::new("button-reject"), format!("/reject {}", sale.id))
            .with_image(sale.evidence.clone())
        })
        .collect())
}

pub(crate) async fn sales(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    let partner_id = ctx.partner()?;
    let list = sales::recent_for_partner(
        &mut *conn,
        partner_id,
        LIST_LIMIT,
        app.config.program.currency,
    )
    .await?;
    if list.is_empty() {
        return Ok(vec![Reply::private(Msg::new("sales-none"))]);
    }
    let mut reply = Reply::private(Msg::new("sales-header").int("count", list.len() as i64));
    for sale in &list {
        reply = reply.line(sale_line(
            sale,
            app.local_date(sale.reported_at).to_string(),
        ));
    }
    Ok(vec![reply])
}

pub(crate) async fn decide(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    sale_id: SaleId,
    action: SaleAction,
    reason: Option<String>,
) -> Handled {
    match action {
        SaleAction::Cancel => {
            ctx.partner()?;
        }
        SaleAction::Approve | SaleAction::Reject => ctx.require_manager()?,
    }
    let program = app.config.program.currency;
    let sale = sales::get(&mut *conn, sale_id, program)
        .await?
        .filter(|s| action != SaleAction::Cancel || Some(s.partner_id) == ctx.member.partner_id)
        .ok_or_else(|| user(Msg::new("sale-not-found").int("sale", sale_id.0)))?;
    if action != SaleAction::Cancel {
        deals_chat::refuse_if_held(&mut *conn, sale.id).await?;
    }
    let to = sale_rules::transition(&sale, action, ctx.member.id).map_err(|e| {
        user(match e {
            sale_rules::TransitionError::AlreadyDecided(s) => Msg::new("sale-already-decided")
                .int("sale", sale.id.0)
                .text("status", s.as_str()),
            sale_rules::TransitionError::NotReporter => {
                Msg::new("sale-not-reporter").int("sale", sale.id.0)
            }
        })
    })?;
    let reason = reason.filter(|r| r != "-");
    if !crate::features::sales::ledger::change_status(
        app,
        &mut *conn,
        &sale,
        to,
        ctx.member.id,
        reason.as_deref(),
        ctx.now,
    )
    .await?
    {
        return Err(user(
            Msg::new("sale-already-decided")
                .int("sale", sale.id.0)
                .text("status", "?"),
        ));
    }
    if action == SaleAction::Cancel {
        deals::withdraw_for_sale(&mut *conn, sale.id, ctx.member.id, ctx.now).await?;
    } else {
        audit::record(
            &mut *conn,
            Some(ctx.member.id),
            AuditAction::Sale(to),
            &format!("sale {}", sale.id),
            Some(&json!({ "status": sale.status.as_str() })),
            Some(&json!({ "status": to.as_str(), "reason": reason })),
            ctx.now,
        )
        .await?;
    }
    let done_key = match to {
        SaleStatus::Approved => "sale-approved",
        SaleStatus::Rejected => "sale-rejected",
        _ => "sale-cancelled",
    };
    let mut replies = vec![Reply::here(
        Msg::new(done_key)
            .int("sale", sale.id.0)
            .text("amount", sale.amount.format())
            .text("customer", &sale.customer)
            .text("by", &ctx.member.display_name),
    )];
    if let Some(reporter) = sale.reporter.filter(|r| *r != ctx.member.id) {
        let reporter_locale = members::get(&mut *conn, reporter)
            .await?
            .and_then(|m| m.locale)
            .as_deref()
            .and_then(Locale::from_tag);
        let mut msg = Msg::new(match to {
            SaleStatus::Approved => "your-sale-approved",
            _ => "your-sale-rejected",
        })
        .int("sale", sale.id.0)
        .text("amount", sale.amount.format())
        .text("customer", &sale.customer);
        if let Some(r) = &reason {
            msg = msg.text("reason", r);
        } else {
            msg = msg.text("reason", "-");
        }
        replies.push(Reply {
            to: Destination::Member(reporter),
            locale: reporter_locale,
            ..Reply::here(msg)
        });
    }
    Ok(replies)
}

pub(crate) async fn pending(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    ctx.require_manager()?;
    let list = sales::pending(&mut *conn, LIST_LIMIT, app.config.program.currency).await?;
    if list.is_empty() {
        return Ok(vec![Reply::here(Msg::new("pending-none"))]);
    }
    let mut replies = vec![Reply::here(
        Msg::new("pending-header").int("count", list.len() as i64),
    )];
    for (sale, partner) in list {
        if let Some(open) = crate::store::deals::open_for_sale(&mut *conn, sale.id).await? {
            replies.push(Reply::here(
                Msg::new("pending-line-conflict")
                    .int("sale", sale.id.0)
                    .text("partner", partner)
                    .text("amount", sale.amount.format())
                    .text("customer", &sale.customer)
                    .int("conflict", open.id),
            ));
            continue;
        }
        replies.push(
            Reply::here(
                Msg::new("pending-line")
                    .int("sale", sale.id.0)
                    .text("partner", partner)
                    .text("amount", sale.amount.format())
                    .text("customer", &sale.customer),
            )
            .button(Msg::new("button-approve"), format!("/approve {}", sale.id))
            .button(Msg::new("button-reject"), format!("/reject {}", sale.id))
            .with_image(sale.evidence.clone()),
        );
    }
    Ok(replies)
}

fn sale_line(sale: &Sale, date: String) -> Msg {
    Msg::new("sales-line")
        .int("sale", sale.id.0)
        .text("date", date)
        .text("amount", sale.amount.format())
        .text("customer", &sale.customer)
        .text("status", sale.status.as_str())
}
