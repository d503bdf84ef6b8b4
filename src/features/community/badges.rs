//! Badges as a service: gathers a partner's facts, asks the pure rules (`engine::badges`) what
//! is newly earned, grants each badge once (unique per partner) and announces it in the
//! partner's program chats through the outbox — all in the caller's transaction, right where
//! the underlying fact changed.

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::config::Locale;
use crate::engine::badges::{self, Badge, BadgeRule, Facts};
use crate::engine::ids::PartnerId;
use crate::engine::points::SourceKind;
use crate::store::points as ledger;
use crate::store::{self, Conn, incentives, partners};

/// What changed, so a sale (the hot path) can skip the work when every sales badge is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Sale,
    Any,
}

/// Grants the badges a partner has newly earned and announces them; returns them.
pub async fn check(
    app: &App,
    conn: &mut Conn,
    partner: PartnerId,
    trigger: Trigger,
    now: i64,
) -> store::Result<Vec<Badge>> {
    let rules = app.config.badge_rules();
    let held = ledger::badges(&mut *conn, partner).await?;
    let open: Vec<&Badge> = rules.iter().filter(|b| !held.contains(&b.id)).collect();
    if open.is_empty() || (trigger == Trigger::Sale && badges::sales_badges_held(&rules, &held)) {
        return Ok(Vec::new());
    }
    let facts = facts(conn, partner, &open).await?;
    let earned: Vec<Badge> = badges::newly_earned(&rules, &facts, &held)
        .into_iter()
        .cloned()
        .collect();
    if earned.is_empty() {
        return Ok(earned);
    }
    let name = partners::get(&mut *conn, partner)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let chinese = app.config.program.default_locale == Locale::ZhCn;
    for badge in &earned {
        if !ledger::grant_badge(&mut *conn, partner, &badge.id, now).await? {
            continue;
        }
        let reply = Reply::here(
            Msg::new("badge-earned")
                .text("partner", &name)
                .text("badge", badge.display_name(chinese)),
        );
        let key = format!("badge:{}:{}", partner.0, badge.id);
        super::post_to_partner_chats(app, conn, Some(partner), &key, &reply, now).await?;
    }
    Ok(earned)
}

/// The facts the open badges look at (the monthly amounts only when a month badge is open).
async fn facts(conn: &mut Conn, partner: PartnerId, open: &[&Badge]) -> store::Result<Facts> {
    let months = open
        .iter()
        .any(|b| matches!(b.rule, BadgeRule::MonthAmount(_)));
    let (approved_sales, best_month_minor) =
        ledger::sales_facts(&mut *conn, partner, months).await?;
    let counts = ledger::counts_by_kind(&mut *conn, partner).await?;
    let count = |kind| counts.get(&kind).copied().unwrap_or(0);
    let certifications = if open
        .iter()
        .any(|b| matches!(b.rule, BadgeRule::Certified(_)))
    {
        incentives::certifications(&mut *conn, partner)
            .await?
            .into_iter()
            .collect()
    } else {
        Vec::new()
    };
    Ok(Facts {
        approved_sales,
        best_month_minor,
        podium_places: count(SourceKind::Podium),
        certifications,
        featured_stories: count(SourceKind::StoryFeatured),
        kudos_received: count(SourceKind::Kudos),
    })
}

/// The badges a partner holds, by name in `locale` (ids no longer configured shown as is).
pub async fn held_names(
    app: &App,
    conn: &mut Conn,
    partner: PartnerId,
    locale: Locale,
) -> store::Result<Vec<String>> {
    let rules = app.config.badge_rules();
    let held = ledger::badges(&mut *conn, partner).await?;
    Ok(held
        .into_iter()
        .map(|id| match rules.iter().find(|b| b.id == id) {
            Some(b) => b.display_name(locale == Locale::ZhCn).to_string(),
            None => id,
        })
        .collect())
}
