//! `rally partners add|list`.

use std::process::ExitCode;

use rally::app::App;
use rally::store::partners::{self, NewPartner};

use super::args::PartnersAction;
use super::{parse_kind, program_amount_minor};

pub(crate) async fn partners(app: &App, action: PartnersAction) -> anyhow::Result<ExitCode> {
    match action {
        PartnersAction::Add {
            name,
            kind,
            region,
            tier,
            potential,
        } => {
            let potential_minor = potential
                .map(|p| program_amount_minor(app, &p, "potential"))
                .transpose()?;
            let new = NewPartner {
                name: name.trim().to_string(),
                kind: parse_kind(&kind)?,
                region,
                tier,
                potential_minor,
            };
            if new.name.is_empty() {
                anyhow::bail!("the partner name must not be empty");
            }
            let mut tx = app.store.begin().await?;
            let created = rally::features::membership::partners::create(
                &mut tx,
                &new,
                None,
                rally::features::membership::partners::Source::Cli,
                app.now(),
            )
            .await?;
            let Some(created) = created else {
                anyhow::bail!("a partner named {:?} exists already", new.name);
            };
            tx.commit().await?;
            println!(
                "partner {} added: {} ({})",
                created.id, created.name, created.kind
            );
        }
        PartnersAction::List => {
            let mut conn = app.store.read().await?;
            let list = partners::list(&mut conn).await?;
            if list.is_empty() {
                println!("no partners yet: `rally partners add <name>` or `rally invite <name>`");
            }
            for p in list {
                println!(
                    "{:>6}  {:<30} {:<12} {:<10} {:<10} {:<10} {}",
                    p.id,
                    p.name,
                    p.kind,
                    p.region.as_deref().unwrap_or("-"),
                    p.tier.as_deref().unwrap_or("-"),
                    p.status.as_str(),
                    p.potential_minor.map_or("-".to_string(), |m| format!(
                        "potential {}",
                        app.program_money(m)
                    ))
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
