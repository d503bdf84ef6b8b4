//! The `weekly_digest` and `nudges` jobs. Both gather the same facts: approved sales per partner
//! over the digest's weeks, trailing-12-month sales and certifications (tiers), and this
//! period's sales against the partner's plan target (bonus steps). The engine
//! (`engine::alerts`) decides who is flagged; this module loads and delivers.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::app::App;
use crate::chat::reply::{Msg, Reply};
use crate::engine::alerts::{self as rules, Goal, NearGoal, Slump};
use crate::engine::money::Money;
use crate::engine::partner::{Partner, PartnerStatus};
use crate::engine::plan;
use crate::engine::tier::TierFacts;
use crate::features::statements::service::partner_facts;
use crate::store::alerts::{self as stored, OpenDispute, WaitingSale};
use crate::store::{self, incentives, members, partners, targets};

/// A sale pending this long is "waiting too long" in the digest.
const PENDING_TOO_LONG_MS: i64 = 48 * 3_600_000;
/// At most this many entries per digest section; the rest are counted.
const SECTION_LIMIT: usize = 15;
/// Two nudges to one person are at least this far apart: a week, less an hour so a weekly job
/// across a daylight-saving change (a 167-hour week) still nudges.
const NUDGE_GAP_MS: i64 = 7 * 86_400_000 - 3_600_000;

/// What the managers' weekly digest lists, computed for one instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Digest {
    /// The Monday that ends the weeks looked at.
    pub week_of: NaiveDate,
    /// Partners whose last 4 weeks fell ≥ 30 % below their own 12 weeks before, largest drop
    /// first (ties by name).
    pub slumps: Vec<(String, Slump)>,
    /// Partners within 10 % of their next tier or bonus step, by name.
    pub near: Vec<(String, NearGoal)>,
    /// Pending sales reported more than 48 hours ago, oldest first (at most a section's worth),
    /// and how many there are.
    pub pending: Vec<WaitingSale>,
    pub pending_total: i64,
    /// Disputes no manager answered, oldest first, and how many there are.
    pub disputes: Vec<OpenDispute>,
    pub disputes_total: i64,
}

impl Digest {
    pub fn is_quiet(&self) -> bool {
        self.slumps.is_empty()
            && self.near.is_empty()
            && self.pending_total == 0
            && self.disputes_total == 0
    }
}

/// Active partners close to their next tier or bonus step at `at_ms`, each with what they are
/// close to (tier first), in name order.
pub async fn near_goals(
    app: &App,
    conn: &mut store::Conn,
    at_ms: i64,
) -> store::Result<Vec<(Partner, Vec<NearGoal>)>> {
    let active = active_partners(&mut *conn).await?;
    near_goals_of(app, conn, at_ms, active).await
}

/// Active partners in name order.
async fn active_partners(conn: &mut store::Conn) -> store::Result<Vec<Partner>> {
    let mut list = partners::list(&mut *conn).await?;
    list.retain(|p| p.status == PartnerStatus::Active);
    list.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    Ok(list)
}

/// [`near_goals`] over partners already loaded.
async fn near_goals_of(
    app: &App,
    conn: &mut store::Conn,
    at_ms: i64,
    list: Vec<Partner>,
) -> store::Result<Vec<(Partner, Vec<NearGoal>)>> {
    let currency = app.config.program.currency;
    let amount = |minor: i64| Money::from_minor(minor, currency).amount();
    let period = app.period_at(at_ms);
    let trailing = incentives::approved_over_all(&mut *conn, &period.trailing_year_keys()).await?;
    let mut certifications = incentives::all_certifications(&mut *conn).await?;
    let this_period = stored::period_approved(&mut *conn, &period.key()).await?;
    let own_targets: std::collections::HashMap<_, _> =
        targets::for_period(&mut *conn, &period.key())
            .await?
            .into_iter()
            .collect();
    let mut out = Vec::new();
    for partner in list {
        let mut goals = Vec::new();
        if !app.config.tiers.is_empty() {
            let facts = TierFacts {
                trailing_sales: amount(trailing.get(&partner.id).copied().unwrap_or(0)),
                certifications: certifications.remove(&partner.id).unwrap_or_default(),
            };
            goals.extend(rules::near_tier(&app.config.tiers, &facts));
        }
        if let Some(chosen) =
            plan::select_plan(&app.config.plans, &partner_facts(&partner), period.start())
        {
            let target = own_targets
                .get(&partner.id)
                .map(|minor| amount(*minor))
                .or(chosen.target);
            let (sold, count) = this_period.get(&partner.id).copied().unwrap_or((0, 0));
            goals.extend(rules::near_bonus(
                &chosen.bonuses,
                target,
                amount(sold),
                count,
            ));
        }
        if !goals.is_empty() {
            out.push((partner, goals));
        }
    }
    Ok(out)
}

/// The digest as it stands at `at_ms`.
pub async fn digest(app: &App, conn: &mut store::Conn, at_ms: i64) -> store::Result<Digest> {
    let windows = rules::windows(app.local_date(at_ms));
    let sums = stored::sales_in_windows(&mut *conn, &windows).await?;
    let active = active_partners(&mut *conn).await?;
    let names: std::collections::HashMap<_, _> =
        active.iter().map(|p| (p.id, p.name.clone())).collect();
    let mut slumps: Vec<(String, Slump)> = sums
        .iter()
        .filter_map(|(id, (recent, baseline))| {
            let name = names.get(id)?;
            rules::slump(*recent, *baseline).map(|s| (name.clone(), s))
        })
        .collect();
    slumps.sort_by(|a, b| b.1.drop_percent.cmp(&a.1.drop_percent).then(a.0.cmp(&b.0)));
    let near = near_goals_of(app, &mut *conn, at_ms, active)
        .await?
        .into_iter()
        .flat_map(|(p, goals)| goals.into_iter().map(move |g| (p.name.clone(), g)))
        .collect();
    let limit = SECTION_LIMIT as i64;
    let (pending, pending_total) =
        stored::pending_since(&mut *conn, at_ms - PENDING_TOO_LONG_MS, limit).await?;
    let (disputes, disputes_total) = stored::open_disputes(&mut *conn, limit).await?;
    Ok(Digest {
        week_of: windows.until,
        slumps,
        near,
        pending,
        pending_total,
        disputes,
        disputes_total,
    })
}

fn money(app: &App, minor: i64) -> String {
    Money::from_minor(minor, app.config.program.currency).format()
}

fn amount(app: &App, amount: Decimal) -> String {
    Money::new(amount, app.config.program.currency).format()
}

/// One line per goal, for a manager ("<partner>: ¥3,000.00 more to Gold") or for the partner.
fn goal_msg(app: &App, partner: Option<&str>, near: &NearGoal) -> Msg {
    let msg = match (&near.goal, near.sales_estimate) {
        (Goal::Tier { name }, _) => Msg::new("alert-near-tier").text("tier", name),
        (Goal::Bonus { attainment }, Some(sales)) => Msg::new("alert-near-bonus-sales")
            .text("attainment", attainment.to_string())
            .int("sales", i64::try_from(sales).unwrap_or(i64::MAX)),
        (Goal::Bonus { attainment }, None) => {
            Msg::new("alert-near-bonus").text("attainment", attainment.to_string())
        }
    };
    msg.text("partner", partner.unwrap_or("-"))
        .text("gap", amount(app, near.gap))
        .text(
            "who",
            if partner.is_some() {
                "manager"
            } else {
                "partner"
            },
        )
}

/// The digest as one message for managers.
pub fn digest_reply(app: &App, digest: &Digest) -> Reply {
    let mut reply = Reply::here(Msg::new("digest-title").text("week", digest.week_of.to_string()));
    if digest.is_quiet() {
        return reply.line(Msg::new("digest-quiet"));
    }
    let more = |reply: Reply, total: usize| {
        if total > SECTION_LIMIT {
            reply.line(Msg::new("digest-more").int("count", (total - SECTION_LIMIT) as i64))
        } else {
            reply
        }
    };
    if !digest.slumps.is_empty() {
        reply = reply.line(
            Msg::new("digest-slumps")
                .int("count", digest.slumps.len() as i64)
                .int("percent", rules::SLUMP_PERCENT)
                .int("recent", rules::RECENT_WEEKS)
                .int("baseline", rules::BASELINE_WEEKS),
        );
        for (name, slump) in digest.slumps.iter().take(SECTION_LIMIT) {
            reply = reply.line(
                Msg::new("digest-slump")
                    .text("partner", name)
                    .text("recent", money(app, slump.recent_weekly_minor))
                    .text("baseline", money(app, slump.baseline_weekly_minor))
                    .text("drop", slump.drop_percent.to_string()),
            );
        }
        reply = more(reply, digest.slumps.len());
    }
    if !digest.near.is_empty() {
        reply = reply.line(
            Msg::new("digest-near")
                .int("count", digest.near.len() as i64)
                .int("percent", rules::NEAR_PERCENT),
        );
        for (name, near) in digest.near.iter().take(SECTION_LIMIT) {
            reply = reply.line(goal_msg(app, Some(name), near));
        }
        reply = more(reply, digest.near.len());
    }
    if digest.pending_total > 0 {
        reply = reply.line(Msg::new("digest-pending").int("count", digest.pending_total));
        for sale in &digest.pending {
            reply = reply.line(
                Msg::new("digest-pending-sale")
                    .int("sale", sale.id)
                    .text("partner", &sale.partner)
                    .text("amount", money(app, sale.program_minor))
                    .text("reported", app.local_date(sale.reported_at).to_string()),
            );
        }
        reply = more(reply, usize::try_from(digest.pending_total).unwrap_or(0));
    }
    if digest.disputes_total > 0 {
        reply = reply.line(Msg::new("digest-disputes").int("count", digest.disputes_total));
        for dispute in &digest.disputes {
            reply = reply.line(
                Msg::new("digest-dispute")
                    .int("dispute", dispute.id)
                    .text("partner", &dispute.partner)
                    .text("period", &dispute.period)
                    .int("line", dispute.line_no)
                    .text("opened", app.local_date(dispute.opened_at).to_string()),
            );
        }
        reply = more(reply, usize::try_from(digest.disputes_total).unwrap_or(0));
    }
    reply
}

/// The `weekly_digest` job: the digest to every manager (one account per person), once per due
/// time (the outbox key carries it).
pub async fn send_weekly_digest(app: &App, key: &str, due_ms: i64) -> anyhow::Result<String> {
    let digest = {
        let mut conn = app.store.read().await?;
        digest(app, &mut conn, due_ms).await?
    };
    let reply = digest_reply(app, &digest);
    let now = app.now();
    let mut tx = app.store.begin().await?;
    let managers = members::managers_to_notify(&mut tx).await?;
    for manager in &managers {
        crate::outbox::enqueue_notice(
            app,
            &mut tx,
            manager.id,
            reply.clone(),
            format!("{key}:manager:{}", manager.id),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    app.outbox_wake.notify_waiters();
    Ok(format!(
        "digest to {} managers: {} slumps, {} near a goal, {} pending over 48 h, {} open disputes",
        managers.len(),
        digest.slumps.len(),
        digest.near.len(),
        digest.pending_total,
        digest.disputes_total
    ))
}

/// The `nudges` job: each partner close to a goal hears it privately, at most once a week per
/// person, unless they muted nudges.
pub async fn send_nudges(app: &App, key: &str, due_ms: i64) -> anyhow::Result<String> {
    let near = {
        let mut conn = app.store.read().await?;
        near_goals(app, &mut conn, due_ms).await?
    };
    let now = app.now();
    let mut sent = 0usize;
    let mut tx = app.store.begin().await?;
    for (partner, goals) in &near {
        for member in stored::nudge_recipients(&mut tx, partner.id).await? {
            if !stored::claim_nudge(&mut tx, member, due_ms, due_ms - NUDGE_GAP_MS).await? {
                continue;
            }
            let mut reply = Reply::here(Msg::new("nudge-title"));
            for goal in goals {
                reply = reply.line(goal_msg(app, None, goal));
            }
            reply = reply.line(Msg::new("nudge-mute-hint"));
            crate::outbox::enqueue_notice(
                app,
                &mut tx,
                member,
                reply,
                format!("{key}:member:{member}"),
                now,
            )
            .await?;
            sent += 1;
        }
    }
    tx.commit().await?;
    app.outbox_wake.notify_waiters();
    Ok(format!(
        "{} partners close to a goal, {sent} nudges sent",
        near.len()
    ))
}
