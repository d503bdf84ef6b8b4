//! Data-driven alerts (seed 7.1): which partners slipped against their own history, and which
//! are close to their next tier or bonus. The weekly digest tells managers; nudges tell the
//! partners themselves ("¥3,000 more to Gold"). Pure: the caller loads the sums.
//!
//! Weeks run Monday to Sunday in the program time zone and only complete weeks count, so a
//! digest gives the same answer whichever day and hour it runs in a week.

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::Decimal;

use crate::engine::plan::BonusStep;
use crate::engine::tier::{self, TierFacts, TierRule};

/// The recent stretch compared with the partner's own baseline.
pub const RECENT_WEEKS: i64 = 4;
/// The baseline: the weeks right before the recent stretch.
pub const BASELINE_WEEKS: i64 = 12;
/// A partner is flagged when the recent weekly average is at least this far below baseline.
pub const SLUMP_PERCENT: i64 = 30;
/// "Close to" a tier or bonus: at most this share of its threshold still missing.
pub const NEAR_PERCENT: i64 = 10;

/// The complete weeks a digest on `today` looks at: `[baseline_from, recent_from)` is the
/// baseline and `[recent_from, until)` the recent stretch; `until` is the Monday of today's week.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    pub baseline_from: NaiveDate,
    pub recent_from: NaiveDate,
    pub until: NaiveDate,
}

/// The digest's windows for a run on `today` (program time zone).
pub fn windows(today: NaiveDate) -> Windows {
    let until = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let recent_from = until - Duration::weeks(RECENT_WEEKS);
    Windows {
        baseline_from: recent_from - Duration::weeks(BASELINE_WEEKS),
        recent_from,
        until,
    }
}

/// A partner whose recent weekly sales fell well below their own baseline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slump {
    /// Weekly averages, in minor units (rounded to the nearest unit).
    pub recent_weekly_minor: i64,
    pub baseline_weekly_minor: i64,
    /// How far below the baseline, in percent, one decimal.
    pub drop_percent: Decimal,
}

/// Compares the recent stretch's approved sales (`recent_minor`, over [`RECENT_WEEKS`]) with
/// the baseline's (`baseline_minor`, over [`BASELINE_WEEKS`]). A partner without baseline sales
/// has no history to fall from: never flagged.
pub fn slump(recent_minor: i64, baseline_minor: i64) -> Option<Slump> {
    if baseline_minor <= 0 {
        return None;
    }
    let recent = Decimal::from(recent_minor.max(0)) / Decimal::from(RECENT_WEEKS);
    let baseline = Decimal::from(baseline_minor) / Decimal::from(BASELINE_WEEKS);
    let hundred = Decimal::from(100);
    // recent ≤ baseline × (100 − 30) / 100, exactly.
    if recent * hundred > baseline * Decimal::from(100 - SLUMP_PERCENT) {
        return None;
    }
    let to_minor = |d: Decimal| {
        i64::try_from(
            d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
        .unwrap_or(i64::MAX)
    };
    Some(Slump {
        recent_weekly_minor: to_minor(recent),
        baseline_weekly_minor: to_minor(baseline),
        drop_percent: (hundred - recent * hundred / baseline)
            .round_dp(1)
            .normalize(),
    })
}

/// What a partner is close to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Goal {
    /// The next tier, which sales alone can still reach (no certification missing).
    Tier { name: String },
    /// The bonus step at this attainment (percent of the period target).
    Bonus { attainment: Decimal },
}

/// A goal within reach: how much more it needs, in program currency.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NearGoal {
    pub goal: Goal,
    pub gap: Decimal,
    /// About how many sales that is at the partner's average sale this period, if known.
    pub sales_estimate: Option<u64>,
}

fn within_reach(gap: Decimal, threshold: Decimal) -> bool {
    gap > Decimal::ZERO
        && threshold > Decimal::ZERO
        && gap * Decimal::from(100) <= threshold * Decimal::from(NEAR_PERCENT)
}

/// The next tier when only sales are missing and at most [`NEAR_PERCENT`] of its threshold
/// (trailing-12-month sales) is still to go. A tier that also needs a certification is not
/// "close" by selling: the scorecard names the certification instead.
pub fn near_tier(rules: &[TierRule], facts: &TierFacts) -> Option<NearGoal> {
    let next = tier::next_tier(rules, facts)?;
    if !next.missing_certifications.is_empty()
        || !within_reach(next.sales_needed, next.tier.min_trailing_sales)
    {
        return None;
    }
    Some(NearGoal {
        goal: Goal::Tier {
            name: next.tier.name.clone(),
        },
        gap: next.sales_needed,
        sales_estimate: None,
    })
}

/// The first bonus step this period's approved sales have not reached, if at most
/// [`NEAR_PERCENT`] of its threshold (target × attainment) is still to go. `count` is the
/// number of approved sales this period, for the estimate in sales.
pub fn near_bonus(
    bonuses: &[BonusStep],
    target: Option<Decimal>,
    period_sales: Decimal,
    count: i64,
) -> Option<NearGoal> {
    let target = target.filter(|t| *t > Decimal::ZERO)?;
    let step = bonuses
        .iter()
        .find(|s| target * s.attainment / Decimal::from(100) > period_sales)?;
    let threshold = target * step.attainment / Decimal::from(100);
    let gap = threshold - period_sales;
    if !within_reach(gap, threshold) {
        return None;
    }
    Some(NearGoal {
        goal: Goal::Bonus {
            attainment: step.attainment.normalize(),
        },
        gap,
        sales_estimate: sales_estimate(gap, period_sales, count),
    })
}

/// Sales of the partner's average size this period needed to cover `gap` (rounded up).
pub fn sales_estimate(gap: Decimal, period_sales: Decimal, count: i64) -> Option<u64> {
    if count <= 0 || period_sales <= Decimal::ZERO {
        return None;
    }
    let average = period_sales / Decimal::from(count);
    u64::try_from((gap / average).ceil()).ok().map(|n| n.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().expect("decimal")
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn windows_are_complete_weeks_before_this_one() {
        // Monday 2026-11-30 and any later day of its week give the same windows.
        let w = windows(date(2026, 11, 30));
        assert_eq!(w.until, date(2026, 11, 30));
        assert_eq!(w.recent_from, date(2026, 11, 2));
        assert_eq!(w.baseline_from, date(2026, 8, 10));
        assert_eq!(windows(date(2026, 12, 6)), windows(date(2026, 11, 30)));
        assert_eq!(windows(date(2026, 12, 7)).until, date(2026, 12, 7));
    }

    #[test]
    fn slump_at_thirty_percent_below_the_own_baseline() {
        // Baseline 12 weeks × 10,000.00 = 120,000.00; weekly 10,000.00.
        let baseline = 12_000_000;
        // Recent 4 weeks × 7,000.00 = 28,000.00: exactly 30 % below → flagged.
        assert_eq!(
            slump(2_800_000, baseline),
            Some(Slump {
                recent_weekly_minor: 700_000,
                baseline_weekly_minor: 1_000_000,
                drop_percent: d("30"),
            })
        );
        // One cent more: 29.99… % below → not flagged.
        assert_eq!(slump(2_800_001, baseline), None);
        // Nothing at all recently: 100 % below.
        assert_eq!(slump(0, baseline).map(|s| s.drop_percent), Some(d("100")));
        // No baseline: nothing to fall from.
        assert_eq!(slump(0, 0), None);
        // Uneven: 4 weeks 10,000.00 (2,500.00/week) vs 12 weeks 50,000.00 (4,166.67/week).
        let s = slump(1_000_000, 5_000_000).expect("flagged");
        assert_eq!(s.recent_weekly_minor, 250_000);
        assert_eq!(s.baseline_weekly_minor, 416_667);
        assert_eq!(s.drop_percent, d("40"));
    }

    fn tiers() -> Vec<TierRule> {
        vec![
            TierRule {
                name: "Silver".into(),
                min_trailing_sales: d("100000"),
                requires: vec![],
            },
            TierRule {
                name: "Gold".into(),
                min_trailing_sales: d("500000"),
                requires: vec!["sales-basics".into()],
            },
        ]
    }

    fn facts(sales: Decimal, certs: &[&str]) -> TierFacts {
        TierFacts {
            trailing_sales: sales,
            certifications: certs.iter().map(|c| c.to_string()).collect(),
        }
    }

    #[test]
    fn near_tier_within_ten_percent_and_only_by_sales() {
        // 91,000 of 100,000: 9,000 to go (9 %) → near Silver.
        assert_eq!(
            near_tier(&tiers(), &facts(d("91000"), &[])),
            Some(NearGoal {
                goal: Goal::Tier {
                    name: "Silver".into()
                },
                gap: d("9000"),
                sales_estimate: None,
            })
        );
        // Exactly 10 % to go counts; a cent more does not.
        assert!(near_tier(&tiers(), &facts(d("90000"), &[])).is_some());
        assert!(near_tier(&tiers(), &facts(d("89999.99"), &[])).is_none());
        // Silver held, 480,000 toward Gold but the certification is missing → not near.
        assert!(near_tier(&tiers(), &facts(d("480000"), &[])).is_none());
        // With the certification, 20,000 to go (4 %) → near Gold.
        let near = near_tier(&tiers(), &facts(d("480000"), &["sales-basics"])).expect("near");
        assert_eq!(near.gap, d("20000"));
        // At the top: nothing next.
        assert!(near_tier(&tiers(), &facts(d("600000"), &["sales-basics"])).is_none());
    }

    fn bonuses() -> Vec<BonusStep> {
        vec![
            BonusStep {
                attainment: d("100"),
                amount: d("1000"),
            },
            BonusStep {
                attainment: d("120"),
                amount: d("3000"),
            },
        ]
    }

    #[test]
    fn near_bonus_names_the_first_step_not_reached() {
        // Target 50,000; 46,000 sold in 4 sales (average 11,500): 4,000 to the 100 % step (8 %).
        let near = near_bonus(&bonuses(), Some(d("50000")), d("46000"), 4).expect("near");
        assert_eq!(
            near,
            NearGoal {
                goal: Goal::Bonus {
                    attainment: d("100")
                },
                gap: d("4000"),
                sales_estimate: Some(1),
            }
        );
        // 100 % reached: the 120 % step (60,000) is 7,000 away (11.7 %) → not near.
        assert!(near_bonus(&bonuses(), Some(d("50000")), d("53000"), 5).is_none());
        // 55,000: 5,000 to 120 % (8.3 %); average ≈ 2,037 → 2.45 → 3 sales.
        let near = near_bonus(&bonuses(), Some(d("50000")), d("55000"), 27).expect("near");
        assert_eq!(near.gap, d("5000"));
        assert_eq!(near.sales_estimate, Some(3));
        // Every step reached, no target, or far away: nothing.
        assert!(near_bonus(&bonuses(), Some(d("50000")), d("60000"), 6).is_none());
        assert!(near_bonus(&bonuses(), None, d("46000"), 4).is_none());
        assert!(near_bonus(&bonuses(), Some(d("50000")), d("10000"), 1).is_none());
    }

    #[test]
    fn sales_estimate_rounds_up_and_needs_history() {
        assert_eq!(sales_estimate(d("3000"), d("10000"), 4), Some(2));
        assert_eq!(sales_estimate(d("2500"), d("10000"), 4), Some(1));
        assert_eq!(sales_estimate(d("1"), d("10000"), 4), Some(1));
        assert_eq!(sales_estimate(d("3000"), d("0"), 0), None);
    }
}
