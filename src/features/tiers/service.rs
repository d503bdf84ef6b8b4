//! Tier recomputation as a service: `rally tiers recompute` today, the scheduler later. Each
//! change updates the partner and is recorded as a tier event (for announcements) and in the
//! audit log, all in one transaction.

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::config::AudienceFilter;
use crate::engine::audit::AuditAction;
use crate::engine::ids::PartnerId;
use crate::engine::money::Money;
use crate::engine::period::Period;
use crate::engine::schedule::Recipients;
use crate::engine::tier::{self, TierChange, TierFacts};
use crate::features::broadcasts::service as broadcasts;
use crate::store::{self, audit, incentives, partners};

/// One partner whose tier changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TierUpdate {
    pub partner: PartnerId,
    pub name: String,
    pub change: TierChange,
}

/// Re-evaluates every partner's tier from trailing-12-month approved sales and
/// certifications, and stores the changes.
/// Without `[[tiers]]` in the configuration tiers are managed by hand and nothing changes.
pub async fn recompute_tiers(app: &App) -> store::Result<Vec<TierUpdate>> {
    if app.config.tiers.is_empty() {
        return Ok(Vec::new());
    }
    let now = app.now();
    let period = app.period_at(now);
    let keys = period.trailing_year_keys();
    let currency = app.config.program.currency;
    let mut tx = app.store.begin().await?;
    let trailing = incentives::approved_over_all(&mut tx, &keys).await?;
    let mut certifications = incentives::all_certifications(&mut tx).await?;
    let mut updates = Vec::new();
    for partner in partners::list(&mut tx).await? {
        let facts = TierFacts {
            trailing_sales: Money::from_minor(
                trailing.get(&partner.id).copied().unwrap_or(0),
                currency,
            )
            .amount(),
            certifications: certifications.remove(&partner.id).unwrap_or_default(),
        };
        let new_tier = tier::evaluate(&app.config.tiers, &facts).map(|t| t.name.clone());
        let Some(change) = tier::change(
            partner.tier.as_deref(),
            new_tier.as_deref(),
            &app.config.tiers,
        ) else {
            continue;
        };
        incentives::record_tier_change(
            &mut tx,
            partner.id,
            partner.tier.as_deref(),
            new_tier.as_deref(),
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            None,
            AuditAction::TierChange,
            &format!("partner {}", partner.id),
            Some(&serde_json::json!({ "tier": partner.tier })),
            Some(&serde_json::json!({ "tier": new_tier, "trailing_sales": facts.trailing_sales.to_string() })),
            now,
        )
        .await?;
        updates.push(TierUpdate {
            partner: partner.id,
            name: partner.name.clone(),
            change,
        });
    }
    tx.commit().await?;
    Ok(updates)
}

/// Recomputes tiers and announces each promotion in the program chats as recognition (once per
/// promotion: the outbox key is `key` and the partner), marking its tier events announced.
/// Returns the number of changes and of promotions.
pub async fn recompute_and_announce(app: &App, key: &str) -> store::Result<(usize, usize)> {
    let updates = recompute_tiers(app).await?;
    let mut promoted = 0;
    for update in &updates {
        let TierChange::Promoted { to, .. } = &update.change else {
            continue;
        };
        promoted += 1;
        let reply = Reply::here(
            Msg::new("tier-promoted")
                .text("partner", &update.name)
                .text("tier", to),
        );
        let key = format!("{key}:{}", update.partner);
        let mut tx = app.store.begin().await?;
        broadcasts::deliver(
            app,
            &mut tx,
            &key,
            &reply,
            &AudienceFilter::default(),
            Recipients::Chats,
            None,
        )
        .await?;
        incentives::mark_tier_events_announced(&mut tx, update.partner).await?;
        tx.commit().await?;
    }
    Ok((updates.len(), promoted))
}

/// Approved sales over the twelve periods ending with `period` (months; for quarters and
/// years, the periods covering the same span).
pub async fn trailing_sales(
    conn: &mut store::Conn,
    partner: PartnerId,
    period: Period,
) -> store::Result<i64> {
    incentives::approved_over(conn, partner, &period.trailing_year_keys()).await
}
