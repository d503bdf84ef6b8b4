//! The partner scorecard behind `/me`: sales, growth, coverage, feedback, attainment, rank and
//! tier progress, gathered in one place for every caller (chat today, the HTTP API next).
//! Gathering reads the store; presenting it is the chat layer's pure job.

use rust_decimal::Decimal;

use crate::app::App;
use crate::engine::ids::PartnerId;
use crate::engine::money::Money;
use crate::engine::partner::Partner;
use crate::engine::period::Period;
use crate::engine::tier::{self, TierFacts};
use crate::store::totals::PeriodTotals;
use crate::store::{self, incentives, partners, sales, totals};

/// Customer feedback counts over this window.
const FEEDBACK_WINDOW_MS: i64 = 90 * 86_400_000;

/// Everything `/me` shows, in minor units of the program currency.
#[derive(Clone, Debug)]
pub struct Scorecard {
    pub partner: Partner,
    pub period: Period,
    pub current: PeriodTotals,
    pub previous_approved_minor: i64,
    pub last_year_approved_minor: i64,
    /// Distinct customers this period.
    pub customers: i64,
    /// Sum and count of feedback scores in the window.
    pub feedback_score_sum: i64,
    pub feedback_ratings: i64,
    /// Target attainment as the statement shows it, when the plan has a target.
    pub attainment: Option<String>,
    /// 1-based place and the number of ranked partners, if ranked.
    pub place: Option<(u64, u64)>,
    pub pending_sales: i64,
    /// With tiers configured: the current tier, trailing sales, and what the next tier needs.
    pub tier: Option<TierProgress>,
}

/// Where a partner stands on the tier ladder.
#[derive(Clone, Debug)]
pub struct TierProgress {
    pub current: Option<String>,
    pub trailing_minor: i64,
    pub next: Option<NextTierNeeds>,
}

/// What the next tier up needs.
#[derive(Clone, Debug)]
pub struct NextTierNeeds {
    pub tier: String,
    pub sales_needed: Decimal,
    pub missing_certifications: Vec<String>,
}

impl Scorecard {
    /// Growth of this period's approved sales against `then`, in percent (`None`: no base).
    pub fn growth_pct(&self, then_minor: i64) -> Option<Decimal> {
        (then_minor > 0).then(|| {
            Decimal::from(self.current.approved_minor - then_minor) * Decimal::from(100)
                / Decimal::from(then_minor)
        })
    }

    /// Average feedback score in the window (`None`: no ratings).
    pub fn feedback_average(&self) -> Option<Decimal> {
        (self.feedback_ratings > 0)
            .then(|| Decimal::from(self.feedback_score_sum) / Decimal::from(self.feedback_ratings))
    }
}

/// Gathers the scorecard of `partner_id` for the period containing `now_ms`.
pub async fn scorecard(
    app: &App,
    conn: &mut store::Conn,
    partner_id: PartnerId,
    now_ms: i64,
) -> anyhow::Result<Scorecard> {
    let period = app.period_at(now_ms);
    let partner = partners::get(&mut *conn, partner_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("partner {partner_id} missing"))?;
    let current = totals::get(&mut *conn, &period.key(), partner_id).await?;
    let previous = totals::get(&mut *conn, &period.previous().key(), partner_id).await?;
    let last_year = totals::get(&mut *conn, &period.year_earlier().key(), partner_id).await?;
    let board = app
        .ranks
        .leaderboard(
            &mut *conn,
            &period.key(),
            app.rank_basis(),
            Some(partner_id),
            0,
        )
        .await?;
    let pending_sales = sales::count_pending(&mut *conn, partner_id).await?;
    let customers = incentives::coverage(&mut *conn, partner_id, &period.key()).await?;
    let (feedback_score_sum, feedback_ratings) =
        incentives::feedback_since(&mut *conn, partner_id, now_ms - FEEDBACK_WINDOW_MS).await?;
    let facts =
        crate::features::statements::service::statement_facts(&mut *conn, partner_id, period)
            .await?;
    let attainment =
        crate::features::statements::service::compute_statement(app, &partner, period, &facts)
            .attainment;
    let tier = if app.config.tiers.is_empty() {
        None
    } else {
        let trailing_minor =
            crate::features::tiers::service::trailing_sales(&mut *conn, partner_id, period).await?;
        let facts = TierFacts {
            trailing_sales: Money::from_minor(trailing_minor, app.config.program.currency).amount(),
            certifications: incentives::certifications(&mut *conn, partner_id).await?,
        };
        Some(TierProgress {
            current: tier::evaluate(&app.config.tiers, &facts).map(|t| t.name.clone()),
            trailing_minor,
            next: tier::next_tier(&app.config.tiers, &facts).map(|next| NextTierNeeds {
                tier: next.tier.name.clone(),
                sales_needed: next.sales_needed,
                missing_certifications: next.missing_certifications,
            }),
        })
    };
    Ok(Scorecard {
        partner,
        period,
        current,
        previous_approved_minor: previous.approved_minor,
        last_year_approved_minor: last_year.approved_minor,
        customers,
        feedback_score_sum,
        feedback_ratings,
        attainment,
        place: board.me.map(|(place, _)| (place, board.participants)),
        pending_sales,
        tier,
    })
}
