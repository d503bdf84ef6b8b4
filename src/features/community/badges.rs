//! Badges as a service: gathers a partner's facts, asks the pure rules (`engine::badges`) what
//! is newly earned, grants each badge once (unique per partner) and announces it in the
//! partner's program chats through the outbox — all in the caller's transaction, right where
//! the underlying fact changed.

use std::collections::HashMap;

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::config::Locale;
use crate::engine::badges::{self, Badge, BadgeRule, Facts};
use crate::engine::ids::{PartnerId, SaleId};
use crate::engine::period::PeriodKind;
use crate::engine::points::SourceKind;
use crate::store::jobs;
use crate::store::points::{self as ledger, BestMonth};
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
    // A sale moves only the facts of the sales rules: the others are not looked at (nor their
    // facts read: this runs in every approved sale's transaction).
    let open: Vec<Badge> = rules
        .into_iter()
        .filter(|b| !held.contains(&b.id) && (trigger == Trigger::Any || b.rule.is_about_sales()))
        .collect();
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let open_refs: Vec<&Badge> = open.iter().collect();
    let facts = facts(app, conn, partner, &open_refs).await?;
    let earned: Vec<Badge> = badges::newly_earned(&open, &facts, &held)
        .into_iter()
        .cloned()
        .collect();
    grant_and_announce(app, conn, partner, &earned, now).await?;
    Ok(earned)
}

/// [`check_after_sales`] for a group commit's newly approved sales (`(sale, partner)`): each
/// partner once, the batch named after its first sale.
pub async fn check_after_new_sales(
    app: &App,
    conn: &mut Conn,
    sales: &[(SaleId, PartnerId)],
    now: i64,
) -> store::Result<()> {
    let Some(first) = sales.iter().map(|(id, _)| id.0).min() else {
        return Ok(());
    };
    let mut partners: Vec<PartnerId> = sales.iter().map(|(_, partner)| *partner).collect();
    partners.sort_unstable_by_key(|p| p.0);
    partners.dedup();
    check_after_sales(app, conn, &partners, &format!("sales:{first}"), now).await
}

/// After a batch of approved sales (an import): [`check`] with [`Trigger::Sale`] for each of
/// `partners`, with the held badges and sales facts of all of them read in a few statements
/// instead of several per partner, and granted with multi-row statements. Only the rules about
/// sales are looked at: nothing else changed. Up to [`ANNOUNCED_ONE_BY_ONE`] new badges are
/// announced one by one, more as one summary per chat (`batch_key` names the batch).
pub async fn check_after_sales(
    app: &App,
    conn: &mut Conn,
    partners: &[PartnerId],
    batch_key: &str,
    now: i64,
) -> store::Result<()> {
    if app.config.program.period != PeriodKind::Month {
        // The best month is summed from the sales, per partner.
        for partner in partners {
            check(app, conn, *partner, Trigger::Sale, now).await?;
        }
        return Ok(());
    }
    let rules: Vec<Badge> = app
        .config
        .badge_rules()
        .into_iter()
        .filter(|b| b.rule.is_about_sales())
        .collect();
    if rules.is_empty() {
        return Ok(());
    }
    let held = ledger::badges_of_many(&mut *conn, partners).await?;
    let none: Vec<String> = Vec::new();
    let held_by = |p: &PartnerId| held.get(p).unwrap_or(&none);
    let open: Vec<PartnerId> = partners
        .iter()
        .copied()
        .filter(|p| !badges::sales_badges_held(&rules, held_by(p)))
        .collect();
    let facts = ledger::sales_facts_by_period(&mut *conn, &open).await?;
    let mut earned: Vec<(PartnerId, &str)> = Vec::new();
    for partner in open {
        let (approved_sales, best_month_minor) = facts.get(&partner).copied().unwrap_or_default();
        let facts = Facts {
            approved_sales,
            best_month_minor,
            ..Facts::default()
        };
        for badge in badges::newly_earned(&rules, &facts, held_by(&partner)) {
            earned.push((partner, badge.id.as_str()));
        }
    }
    let granted = ledger::grant_badges_many(&mut *conn, &earned, now).await?;
    if granted.len() <= ANNOUNCED_ONE_BY_ONE {
        for (partner, id) in &granted {
            if let Some(badge) = rules.iter().find(|b| &b.id == id) {
                announce(app, conn, *partner, badge, now).await?;
            }
        }
        return Ok(());
    }
    announce_summary(app, conn, &granted, batch_key, now).await
}

/// More badges than this from one batch are announced as one summary per chat: an import of
/// a program's history must not bury its chats (and their send rate) under one post each.
const ANNOUNCED_ONE_BY_ONE: usize = 20;

/// One post per program chat counting the badges a batch granted to the partners that chat
/// covers (a regional chat: its region's partners).
async fn announce_summary(
    app: &App,
    conn: &mut Conn,
    granted: &[(PartnerId, String)],
    batch_key: &str,
    now: i64,
) -> store::Result<()> {
    let chats = jobs::program_chats(&mut *conn).await?;
    if chats.is_empty() {
        return Ok(());
    }
    let mut ids: Vec<PartnerId> = granted.iter().map(|(p, _)| *p).collect();
    ids.sort_unstable_by_key(|p| p.0);
    ids.dedup();
    let regions: HashMap<PartnerId, Option<String>> = partners::get_many(&mut *conn, &ids)
        .await?
        .into_iter()
        .map(|p| (p.id, p.region))
        .collect();
    let mut any = false;
    for chat in chats {
        let count = granted
            .iter()
            .filter(|(partner, _)| {
                super::covers(&chat, regions.get(partner).and_then(Option::as_deref))
            })
            .count();
        if count == 0 {
            continue;
        }
        let reply = Reply::here(
            Msg::new("badges-earned-many").int("count", i64::try_from(count).unwrap_or(i64::MAX)),
        );
        let key = format!("badges:{batch_key}");
        super::enqueue_to_chat(app, conn, chat, &key, &reply, now).await?;
        any = true;
    }
    if any {
        app.outbox_wake.notify_waiters();
    }
    Ok(())
}

/// Grants each of `earned` once and announces the new ones in the partner's program chats.
async fn grant_and_announce(
    app: &App,
    conn: &mut Conn,
    partner: PartnerId,
    earned: &[Badge],
    now: i64,
) -> store::Result<()> {
    for badge in earned {
        if ledger::grant_badge(&mut *conn, partner, &badge.id, now).await? {
            announce(app, conn, partner, badge, now).await?;
        }
    }
    Ok(())
}

/// Announces a badge just granted in the partner's program chats.
async fn announce(
    app: &App,
    conn: &mut Conn,
    partner: PartnerId,
    badge: &Badge,
    now: i64,
) -> store::Result<()> {
    let Some(found) = partners::get(&mut *conn, partner).await? else {
        return Ok(());
    };
    let chinese = app.config.program.default_locale == Locale::ZhCn;
    let reply = Reply::here(
        Msg::new("badge-earned")
            .text("partner", &found.name)
            .text("badge", badge.display_name(chinese)),
    );
    let key = format!("badge:{}:{}", partner.0, badge.id);
    super::post_to_region_chats(app, conn, found.region.as_deref(), &key, &reply, now).await?;
    Ok(())
}

/// The facts the open badges look at (each read only when an open badge needs it).
async fn facts(
    app: &App,
    conn: &mut Conn,
    partner: PartnerId,
    open: &[&Badge],
) -> store::Result<Facts> {
    let best_month = if !open
        .iter()
        .any(|b| matches!(b.rule, BadgeRule::MonthAmount(_)))
    {
        BestMonth::Skip
    } else if app.config.program.period == PeriodKind::Month {
        BestMonth::FromPeriods
    } else {
        BestMonth::FromSales
    };
    let (approved_sales, best_month_minor) = if open.iter().any(|b| b.rule.is_about_sales()) {
        ledger::sales_facts(&mut *conn, partner, best_month).await?
    } else {
        (0, 0)
    };
    let counts = if open.iter().any(|b| b.rule.counts_ledger_rows()) {
        ledger::counts_by_kind(&mut *conn, partner).await?
    } else {
        Default::default()
    };
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
