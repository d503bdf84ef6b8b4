//! `rally targets set`: a partner's target for one period.

use std::process::ExitCode;

use rally::app::App;
use rally::engine::audit::AuditAction;
use rally::store::{audit, targets};

use super::args::TargetsAction;
use super::{cli_partner, period_arg, program_amount_minor};

pub(crate) async fn targets(app: &App, action: TargetsAction) -> anyhow::Result<ExitCode> {
    match action {
        TargetsAction::Set {
            partner,
            period,
            amount,
        } => {
            let period = period_arg(app, &period)?.key();
            let amount_minor = program_amount_minor(app, &amount, "target")?;
            let now = app.now();
            let mut tx = app.store.begin().await?;
            let partner = cli_partner(&mut tx, &partner).await?;
            let before = targets::get(&mut tx, partner.id, &period).await?;
            targets::set(&mut tx, partner.id, &period, amount_minor, None, now).await?;
            let state = |minor: i64| serde_json::json!({ "period": period, "amount_minor": minor });
            audit::record(
                &mut tx,
                None,
                AuditAction::TargetSet,
                &format!("partner {}", partner.id),
                before.map(state).as_ref(),
                Some(&{
                    let mut after = state(amount_minor);
                    after["source"] = "cli".into();
                    after
                }),
                now,
            )
            .await?;
            tx.commit().await?;
            let was = before.map_or(String::new(), |m| {
                format!(" (was {})", app.program_money(m))
            });
            println!(
                "target for {} in {period}: {}{was}",
                partner.name,
                app.program_money(amount_minor)
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
