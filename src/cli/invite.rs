//! `rally invite`: an invite code for a partner (created if new) or a manager.

use std::process::ExitCode;

use rally::app::App;
use rally::engine::audit::AuditAction;
use rally::engine::partner::Role;
use rally::store::audit;
use rally::store::partners::{self, NewPartner};

use super::parse_kind;

pub(crate) async fn invite(
    app: &App,
    partner: Option<String>,
    role: &str,
    kind: &str,
    region: Option<String>,
    tier: Option<String>,
) -> anyhow::Result<ExitCode> {
    let role = Role::parse(role)
        .ok_or_else(|| anyhow::anyhow!("unknown role {role:?}: use partner, manager or admin"))?;
    let mut tx = app.store.begin().await?;
    let partner = match (role, partner) {
        (Role::Partner, None) => {
            anyhow::bail!("name the partner to invite: rally invite <partner>")
        }
        (_, None) => None,
        (_, Some(name)) => Some(match partners::find_by_name(&mut tx, &name).await? {
            Some(p) => p,
            None => {
                let new = NewPartner {
                    name: name.trim().to_string(),
                    kind: parse_kind(kind)?,
                    region,
                    tier,
                    potential_minor: None,
                };
                rally::features::membership::partners::create(
                    &mut tx,
                    &new,
                    None,
                    rally::features::membership::partners::Source::Cli,
                    app.now(),
                )
                .await?
                .ok_or_else(|| anyhow::anyhow!("partner {name:?} could not be created"))?
            }
        }),
    };
    let invite = rally::features::membership::invites::create_invite(
        app,
        &mut tx,
        partner.as_ref().map(|p| p.id),
        role,
        app.invite_ttl_ms(),
        None,
    )
    .await?;
    audit::record(
        &mut tx,
        None,
        AuditAction::InviteCreate,
        &partner
            .as_ref()
            .map_or("manager".to_string(), |p| format!("partner {}", p.id)),
        None,
        Some(&serde_json::json!({ "code": invite.code, "role": role.as_str(), "source": "cli" })),
        app.now(),
    )
    .await?;
    tx.commit().await?;
    let expires = app.local_date(invite.expires_at);
    match &partner {
        Some(p) => println!("invite for {} ({}): {}", p.name, role.as_str(), invite.code),
        None => println!("invite ({}): {}", role.as_str(), invite.code),
    }
    println!(
        "send `/start {}` to the bot; valid until {expires}",
        invite.code
    );
    Ok(ExitCode::SUCCESS)
}
