//! Fund allocation in chat: `/allocate` (managers) and `/funds` (a partner's share with the inputs of that run).

use rust_decimal::Decimal;
use serde_json::json;

use crate::app::App;
use crate::chat::args::to_program_money;
use crate::chat::command::{self, Command};
use crate::chat::handler::{Ctx, Failure, Handled, amount_error_msg, user};
use crate::chat::registry::{Audience, CommandSpec, ParamKind as K, Writes, opt, req};
use crate::chat::reply::{Msg, Reply};
use crate::engine::allocation::{self, AllocationInput, AllocationWeights};
use crate::engine::amount::{self, AmountInput};
use crate::engine::audit::AuditAction;
use crate::engine::money::Money;
use crate::store::statements as stored;
use crate::store::{self, audit, incentives, partners};

/// The commands this feature handles.
pub const COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        name: "funds",
        audience: Audience::Partner,
        writes: Writes::Never,
        params: &[],
        parse: |_| Ok(Command::Funds),
        example: "",
    },
    CommandSpec {
        name: "allocate",
        audience: Audience::Manager,
        writes: Writes::Always,
        params: &[req("budget", K::Amount), opt("currency", K::Currency)],
        parse: command::parse_allocate,
        example: "100000",
    },
];

pub(crate) async fn allocate(
    app: &App,
    ctx: &mut Ctx<'_>,
    conn: &mut store::Conn,
    budget: AmountInput,
) -> Handled {
    ctx.require_manager()?;
    let program = app.config.program.currency;
    let budget = amount::to_money(budget, program).map_err(|e| user(amount_error_msg(&e)))?;
    let budget = to_program_money(app, budget)?;
    let period = app.period_at(ctx.now);
    let trailing = incentives::approved_over_all(conn, &period.trailing_year_keys()).await?;
    let current = stored::approved_totals(conn, &period.key()).await?;
    let last_year = stored::approved_totals(conn, &period.year_earlier().key()).await?;
    let potentials = incentives::potentials(conn).await?;
    let dec = |minor: i64| Money::from_minor(minor, program).amount();
    let inputs: Vec<AllocationInput> = partners::list(conn)
        .await?
        .iter()
        .filter(|p| p.status == crate::engine::partner::PartnerStatus::Active)
        .map(|p| AllocationInput {
            partner: p.id,
            potential: dec(potentials.get(&p.id).copied().unwrap_or(0)),
            trailing_sales: dec(trailing.get(&p.id).copied().unwrap_or(0)),
            current: dec(current.get(&p.id).copied().unwrap_or(0)),
            last_year: dec(last_year.get(&p.id).copied().unwrap_or(0)),
        })
        .collect();
    let shares = allocation::allocate(budget, &app.config.allocation, &inputs)
        .map_err(|e| user(Msg::new("allocate-failed").text("reason", e.to_string())))?;
    let weights =
        serde_json::to_string(&app.config.allocation).map_err(|e| Failure::Internal(e.into()))?;
    let budget_minor = budget
        .to_minor()
        .map_err(|_| user(Msg::new("amount-too-large")))?;
    let run = incentives::insert_allocation_run(
        conn,
        budget_minor,
        program.code(),
        &weights,
        ctx.member.id,
        ctx.now,
    )
    .await?;
    for (share, input) in shares.iter().zip(&inputs) {
        let inputs_json = json!({
            "potential": input.potential.to_string(),
            "trailing_sales": input.trailing_sales.to_string(),
            "growth": (input.current - input.last_year).max(Decimal::ZERO).to_string(),
            "potential_share": share.potential_share.round_dp(6).to_string(),
            "contribution_share": share.contribution_share.round_dp(6).to_string(),
            "growth_share": share.growth_share.round_dp(6).to_string(),
            "weighted": share.weighted.round_dp(6).to_string(),
            "floored": share.floored,
            "capped": share.capped,
        });
        let amount_minor = share
            .amount
            .to_minor()
            .map_err(|e| Failure::Internal(e.into()))?;
        incentives::insert_allocation_share(
            conn,
            run,
            share.partner,
            amount_minor,
            &inputs_json.to_string(),
        )
        .await?;
    }
    audit::record(
        conn,
        Some(ctx.member.id),
        AuditAction::FundsAllocate,
        &format!("allocation {run}"),
        None,
        Some(&json!({ "budget_minor": budget_minor, "partners": shares.len() })),
        ctx.now,
    )
    .await?;
    Ok(vec![Reply::here(
        Msg::new("allocate-done")
            .int("run", run.0)
            .text("budget", budget.format())
            .int("partners", shares.len() as i64),
    )])
}

pub(crate) async fn funds(app: &App, ctx: &mut Ctx<'_>, conn: &mut store::Conn) -> Handled {
    let partner = ctx.partner()?;
    let Some(share) = incentives::latest_share(conn, partner).await? else {
        return Ok(vec![Reply::private(Msg::new("funds-none"))]);
    };
    let inputs: serde_json::Value =
        serde_json::from_str(&share.inputs_json).map_err(|e| Failure::Internal(e.into()))?;
    // The run's own weights, not today's config: the share was computed with these.
    let w: AllocationWeights =
        serde_json::from_str(&share.weights_json).map_err(|e| Failure::Internal(e.into()))?;
    let field = |k: &str| {
        inputs
            .get(k)
            .and_then(|v| v.as_str())
            .unwrap_or("0")
            .to_string()
    };
    Ok(vec![
        Reply::private(
            Msg::new("funds-share")
                .int("run", share.run.0)
                .text("amount", app.program_money(share.amount_minor))
                .text("budget", app.program_money(share.budget_minor)),
        )
        .line(
            Msg::new("funds-inputs")
                .text("potential", field("potential"))
                .text("trailing", field("trailing_sales"))
                .text("growth", field("growth"))
                .text("potential_share", field("potential_share"))
                .text("contribution_share", field("contribution_share"))
                .text("growth_share", field("growth_share"))
                .text(
                    "weights",
                    format!("{}/{}/{}", w.potential, w.contribution, w.growth),
                ),
        ),
    ])
}
