//! Fund allocation: a budget split over partners by a published formula (README "Plans, tiers
//! and allocation").
//!
//! 1. Each component — potential, trailing-12-month sales, growth `max(0, S − L)` — becomes the
//!    partner's share of that component's total over all partners.
//! 2. The weighted share is `Σ weight_c × share_c / Σ weight_c` over the components whose total
//!    is not zero (an all-zero component says nothing about anyone, so its weight goes to the
//!    others in proportion; if every component is zero, or only zero-weight ones are left, the
//!    budget is split equally).
//! 3. Floor and cap (fractions of the budget) by water-filling: every partner gets
//!    `clamp(λ × weighted, floor, cap)` with the single `λ` that makes the fractions sum to one.
//!    That is exactly the fixed point of "fix the partners outside the bounds and redistribute
//!    the excess or deficit among the others in proportion to their weighted shares", found
//!    directly so that no order of fixing can give a different answer.
//! 4. Amounts are rounded down to the minor unit and the units left over go by largest
//!    remainder (ties: lower [`PartnerId`] first), so the parts sum exactly to the budget.
//!
//! Worked example (budget ¥100,000.00; weights 0.4 / 0.4 / 0.2; floor 0.05; cap 0.4):
//!
//! | partner | potential | trailing | S − L  | weighted | result                 |
//! |---------|-----------|----------|--------|----------|------------------------|
//! | 1       | 500       | 600,000  | 50,000 | 0.565    | capped: 40,000.00      |
//! | 2       | 300       | 300,000  | 0      | 0.24     | 32,116.79              |
//! | 3       | 150       | 90,000   | 30,000 | 0.171    | 22,883.21              |
//! | 4       | 50        | 10,000   | 0      | 0.024    | floored: 5,000.00      |
//!
//! Partners 2 and 3 share the remaining 55 % as 0.24 : 0.171; rounding down leaves one cent,
//! which goes to partner 2 (remainder .83 beats .17).

use std::cmp::Ordering;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Serialize};

use super::ids::PartnerId;
use super::money::{Currency, Money, MoneyError};

/// The published formula: component weights, and floor and cap as fractions of the budget.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationWeights {
    pub potential: Decimal,
    pub contribution: Decimal,
    pub growth: Decimal,
    /// Minimum per partner, as a fraction of the budget (`0.02` = 2 %).
    pub floor: Decimal,
    /// Maximum per partner, as a fraction of the budget (`0.25` = 25 %).
    pub cap: Decimal,
}

/// One partner's facts, loaded by the service layer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocationInput {
    pub partner: PartnerId,
    /// The partner's `potential` attribute.
    pub potential: Decimal,
    /// Approved sales over the trailing 12 months.
    pub trailing_sales: Decimal,
    /// S: sales in the current period.
    pub current: Decimal,
    /// L: sales in the same period one year earlier.
    pub last_year: Decimal,
}

/// One partner's part of the budget, with every input that produced it (partners see their own).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub partner: PartnerId,
    /// Share of total potential (0 when the total is zero).
    pub potential_share: Decimal,
    /// Share of total trailing-12-month sales (0 when the total is zero).
    pub contribution_share: Decimal,
    /// Share of total growth `max(0, S − L)` (0 when the total is zero).
    pub growth_share: Decimal,
    /// The weighted share before floor and cap; sums to 1 over partners (up to rounding).
    pub weighted: Decimal,
    /// The money, a whole number of minor units; the amounts sum exactly to the budget.
    pub amount: Money,
    /// Held at the floor by water-filling instead of getting its proportional part.
    pub floored: bool,
    /// Held at the cap by water-filling instead of getting its proportional part.
    pub capped: bool,
}

/// Why a budget cannot be allocated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    #[error("nothing to allocate to: the partner list is empty")]
    NoPartners,
    #[error("budget {amount} {currency} is negative")]
    NegativeBudget { amount: Decimal, currency: Currency },
    #[error("budget {amount} {currency} cannot be split into minor units: {source}")]
    BudgetNotMinorUnits {
        amount: Decimal,
        currency: Currency,
        source: MoneyError,
    },
    #[error("partner {0} appears more than once")]
    DuplicatePartner(PartnerId),
    #[error("partner {partner}: {field} is negative ({value})")]
    NegativeInput {
        partner: PartnerId,
        field: &'static str,
        value: Decimal,
    },
    #[error("allocation {name} must not be negative (got {value})")]
    NegativeWeight { name: &'static str, value: Decimal },
    #[error("allocation weights potential, contribution and growth are all zero")]
    ZeroWeights,
    #[error("allocation floor {floor} is above the cap {cap}")]
    FloorAboveCap { floor: Decimal, cap: Decimal },
    #[error(
        "allocation floor {floor} × {partners} partners is more than the whole budget; \
         lower the floor to at most 1/{partners}"
    )]
    FloorInfeasible { floor: Decimal, partners: usize },
    #[error(
        "allocation cap {cap} × {partners} partners is less than the whole budget; \
         raise the cap to at least 1/{partners}"
    )]
    CapInfeasible { cap: Decimal, partners: usize },
    #[error("allocation arithmetic overflow: inputs too large")]
    Overflow,
}

/// Splits `budget` over `inputs` (see the module docs). The result is in input order.
pub fn allocate(
    budget: Money,
    weights: &AllocationWeights,
    inputs: &[AllocationInput],
) -> Result<Vec<Share>, AllocationError> {
    let budget_minor = validate(budget, weights, inputs)?;

    // Work in PartnerId order so the result cannot depend on the order of the inputs (sums of
    // decimals round, and the order of rounding would otherwise leak into the last digits).
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| inputs[i].partner);
    let sorted: Vec<&AllocationInput> = order.iter().map(|&i| &inputs[i]).collect();

    let components = component_shares(weights, &sorted)?;
    let weighted: Vec<Decimal> = components.iter().map(|c| c.weighted).collect();
    let targets = water_fill(&weighted, weights.floor, weights.cap)?;
    let amounts = round_to_minor(budget_minor, &targets)?;

    let mut out: Vec<Option<Share>> = vec![None; inputs.len()];
    for (k, &i) in order.iter().enumerate() {
        let (c, t) = (&components[k], &targets[k]);
        out[i] = Some(Share {
            partner: inputs[i].partner,
            potential_share: c.shares[0],
            contribution_share: c.shares[1],
            growth_share: c.shares[2],
            weighted: c.weighted,
            amount: Money::from_minor(amounts[k], budget.currency()),
            floored: t.floored,
            capped: t.capped,
        });
    }
    // Every slot was filled above (`order` is a permutation); `flatten` just avoids an unwrap.
    Ok(out.into_iter().flatten().collect())
}

/// Checks everything up front; returns the budget in minor units.
fn validate(
    budget: Money,
    weights: &AllocationWeights,
    inputs: &[AllocationInput],
) -> Result<i64, AllocationError> {
    if inputs.is_empty() {
        return Err(AllocationError::NoPartners);
    }
    if budget.is_negative() {
        return Err(AllocationError::NegativeBudget {
            amount: budget.amount(),
            currency: budget.currency(),
        });
    }
    let budget_minor =
        budget
            .to_minor()
            .map_err(|source| AllocationError::BudgetNotMinorUnits {
                amount: budget.amount(),
                currency: budget.currency(),
                source,
            })?;

    for (name, value) in [
        ("potential weight", weights.potential),
        ("contribution weight", weights.contribution),
        ("growth weight", weights.growth),
        ("floor", weights.floor),
        ("cap", weights.cap),
    ] {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(AllocationError::NegativeWeight { name, value });
        }
    }
    if weights.potential.is_zero() && weights.contribution.is_zero() && weights.growth.is_zero() {
        return Err(AllocationError::ZeroWeights);
    }
    if weights.floor > weights.cap {
        return Err(AllocationError::FloorAboveCap {
            floor: weights.floor,
            cap: weights.cap,
        });
    }
    let n = inputs.len();
    let count = Decimal::from(n);
    // An overflowing product is certainly above one.
    if weights
        .floor
        .checked_mul(count)
        .is_none_or(|t| t > Decimal::ONE)
    {
        return Err(AllocationError::FloorInfeasible {
            floor: weights.floor,
            partners: n,
        });
    }
    if weights
        .cap
        .checked_mul(count)
        .is_some_and(|t| t < Decimal::ONE)
    {
        return Err(AllocationError::CapInfeasible {
            cap: weights.cap,
            partners: n,
        });
    }

    let mut ids: Vec<PartnerId> = inputs.iter().map(|i| i.partner).collect();
    ids.sort();
    if let Some(w) = ids.windows(2).find(|w| w[0] == w[1]) {
        return Err(AllocationError::DuplicatePartner(w[0]));
    }
    for input in inputs {
        for (field, value) in [
            ("potential", input.potential),
            ("trailing_sales", input.trailing_sales),
            ("current", input.current),
            ("last_year", input.last_year),
        ] {
            if value.is_sign_negative() && !value.is_zero() {
                return Err(AllocationError::NegativeInput {
                    partner: input.partner,
                    field,
                    value,
                });
            }
        }
    }
    Ok(budget_minor)
}

/// A partner's component shares and their weighted combination.
struct Components {
    shares: [Decimal; 3],
    weighted: Decimal,
}

fn component_shares(
    weights: &AllocationWeights,
    inputs: &[&AllocationInput],
) -> Result<Vec<Components>, AllocationError> {
    let values: Vec<[Decimal; 3]> = inputs
        .iter()
        .map(|i| {
            // Both are validated non-negative, so the difference cannot overflow.
            let growth = i
                .current
                .checked_sub(i.last_year)
                .ok_or(AllocationError::Overflow)?
                .max(Decimal::ZERO);
            Ok([i.potential, i.trailing_sales, growth])
        })
        .collect::<Result<_, AllocationError>>()?;

    let mut totals = [Decimal::ZERO; 3];
    for v in &values {
        for c in 0..3 {
            totals[c] = totals[c]
                .checked_add(v[c])
                .ok_or(AllocationError::Overflow)?;
        }
    }

    // Only components with a non-zero total take part; dividing by their weight sum hands an
    // empty component's weight to the others in proportion to their own weights.
    let raw = [weights.potential, weights.contribution, weights.growth];
    let mut active_sum = Decimal::ZERO;
    for c in 0..3 {
        if !totals[c].is_zero() {
            active_sum = active_sum
                .checked_add(raw[c])
                .ok_or(AllocationError::Overflow)?;
        }
    }
    let mut normalised = [Decimal::ZERO; 3];
    if !active_sum.is_zero() {
        for c in 0..3 {
            if !totals[c].is_zero() {
                normalised[c] = raw[c]
                    .checked_div(active_sum)
                    .ok_or(AllocationError::Overflow)?;
            }
        }
    }
    let equal = Decimal::ONE
        .checked_div(Decimal::from(inputs.len()))
        .ok_or(AllocationError::Overflow)?;

    values
        .iter()
        .map(|v| {
            let mut shares = [Decimal::ZERO; 3];
            let mut weighted = Decimal::ZERO;
            for c in 0..3 {
                if totals[c].is_zero() {
                    continue;
                }
                shares[c] = v[c]
                    .checked_div(totals[c])
                    .ok_or(AllocationError::Overflow)?;
                let part = normalised[c]
                    .checked_mul(shares[c])
                    .ok_or(AllocationError::Overflow)?;
                weighted = weighted
                    .checked_add(part)
                    .ok_or(AllocationError::Overflow)?;
            }
            // Nothing informative left (every component empty, or only zero-weight ones have
            // data): no partner can be preferred, so everyone gets the same.
            if active_sum.is_zero() {
                weighted = equal;
            }
            Ok(Components { shares, weighted })
        })
        .collect()
}

/// A partner's fraction of the budget after floor and cap.
#[derive(Clone, Debug)]
struct Target {
    fraction: Decimal,
    floored: bool,
    capped: bool,
}

/// Water-filling: `fraction_i = clamp(λ × weighted_i, floor, cap)` with the smallest `λ` at which
/// the fractions sum to one. The sum is continuous and non-decreasing in `λ` and linear between
/// the breakpoints `floor / w_i` and `cap / w_i`, so a binary search over the breakpoints finds
/// the segment and one division solves it: O(n log n), no iteration count to tune.
fn water_fill(
    weighted: &[Decimal],
    floor: Decimal,
    cap: Decimal,
) -> Result<Vec<Target>, AllocationError> {
    let ovf = || AllocationError::Overflow;
    // No partner can get more than the whole budget, so a larger cap means the same as 1; this
    // also bounds every breakpoint by 1 / min(w) ≤ 10^28, inside Decimal's range.
    let cap = cap.min(Decimal::ONE);
    let n = weighted.len();
    let positive: Vec<Decimal> = weighted
        .iter()
        .copied()
        .filter(|w| *w > Decimal::ZERO)
        .collect();
    let zero_count = n - positive.len();

    let sum_at = |lambda: Decimal| -> Result<Decimal, AllocationError> {
        let mut sum = Decimal::from(zero_count)
            .checked_mul(floor)
            .ok_or_else(ovf)?;
        for w in &positive {
            let f = lambda.checked_mul(*w).ok_or_else(ovf)?.clamp(floor, cap);
            sum = sum.checked_add(f).ok_or_else(ovf)?;
        }
        Ok(sum)
    };

    let mut breakpoints = Vec::with_capacity(positive.len() * 2);
    for w in &positive {
        if !floor.is_zero() {
            breakpoints.push(floor.checked_div(*w).ok_or_else(ovf)?);
        }
        breakpoints.push(cap.checked_div(*w).ok_or_else(ovf)?);
    }
    breakpoints.sort();
    breakpoints.dedup();

    // First breakpoint at which the fractions reach one.
    let (mut lo, mut hi) = (0usize, breakpoints.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if sum_at(breakpoints[mid])? < Decimal::ONE {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let k = lo;

    if positive.is_empty() || k == breakpoints.len() {
        // Even with every weighted partner at the cap the budget is not used up: the
        // zero-weight partners have nothing to be proportional to, so they split the rest
        // equally (which stays within [floor, cap] because n × cap ≥ 1).
        let capped_total = Decimal::from(positive.len())
            .checked_mul(cap)
            .ok_or_else(ovf)?;
        let rest = Decimal::ONE.checked_sub(capped_total).ok_or_else(ovf)?;
        let each = if zero_count == 0 {
            Decimal::ZERO
        } else {
            rest.checked_div(Decimal::from(zero_count))
                .ok_or_else(ovf)?
                .clamp(floor, cap)
        };
        return Ok(weighted
            .iter()
            .map(|w| {
                if *w > Decimal::ZERO {
                    Target {
                        fraction: cap,
                        floored: false,
                        capped: true,
                    }
                } else {
                    Target {
                        fraction: each,
                        floored: false,
                        capped: false,
                    }
                }
            })
            .collect());
    }

    // On [lo, hi] every partner stays on one side of its breakpoints; classify at the midpoint,
    // then solve  fixed + λ × Σ(free weights) = 1.
    let hi_l = breakpoints[k];
    let lo_l = if k == 0 {
        Decimal::ZERO
    } else {
        breakpoints[k - 1]
    };
    let mid_l = lo_l
        .checked_add(hi_l)
        .and_then(|s| s.checked_div(Decimal::TWO))
        .ok_or_else(ovf)?;
    let mut fixed = Decimal::from(zero_count)
        .checked_mul(floor)
        .ok_or_else(ovf)?;
    let mut free_weight = Decimal::ZERO;
    for w in &positive {
        let at_mid = mid_l.checked_mul(*w).ok_or_else(ovf)?;
        if at_mid <= floor {
            fixed = fixed.checked_add(floor).ok_or_else(ovf)?;
        } else if at_mid >= cap {
            fixed = fixed.checked_add(cap).ok_or_else(ovf)?;
        } else {
            free_weight = free_weight.checked_add(*w).ok_or_else(ovf)?;
        }
    }
    let lambda = if free_weight.is_zero() {
        hi_l
    } else {
        Decimal::ONE
            .checked_sub(fixed)
            .and_then(|r| r.checked_div(free_weight))
            .ok_or_else(ovf)?
            .clamp(lo_l, hi_l)
    };

    weighted
        .iter()
        .map(|w| {
            let raw = lambda.checked_mul(*w).ok_or_else(ovf)?;
            Ok(Target {
                fraction: raw.clamp(floor, cap),
                floored: raw < floor,
                capped: raw > cap,
            })
        })
        .collect()
}

/// Rounds each `fraction × budget` down to a minor unit and hands out what is left by largest
/// remainder (ties: earlier in `targets`, i.e. lower PartnerId). Exact by construction: whatever
/// the decimal rounding upstream did, the result sums to `budget_minor` and is never negative.
fn round_to_minor(budget_minor: i64, targets: &[Target]) -> Result<Vec<i64>, AllocationError> {
    let ovf = || AllocationError::Overflow;
    let budget = Decimal::from(budget_minor);
    let mut amounts = Vec::with_capacity(targets.len());
    let mut remainders = Vec::with_capacity(targets.len());
    for t in targets {
        let exact = t.fraction.checked_mul(budget).ok_or_else(ovf)?;
        let down = exact.floor();
        amounts.push(down.to_i64().ok_or_else(ovf)?.max(0));
        remainders.push(exact.checked_sub(down).ok_or_else(ovf)?);
    }
    let mut order: Vec<usize> = (0..targets.len()).collect();
    // Stable sort: equal remainders keep PartnerId order.
    order.sort_by(|&a, &b| remainders[b].cmp(&remainders[a]));

    let handed: i128 = amounts.iter().map(|&a| i128::from(a)).sum();
    let left = i128::from(budget_minor) - handed;
    match left.cmp(&0) {
        Ordering::Equal => {}
        Ordering::Greater => {
            // Normally fewer units than partners are left; more only if upstream rounding lost
            // whole units, in which case everyone gets the same number of extra rounds.
            let n = order.len() as i128;
            let (rounds, extra) = (left / n, left % n);
            for (rank, &i) in order.iter().enumerate() {
                let add = rounds + i128::from((rank as i128) < extra);
                let add = i64::try_from(add).map_err(|_| ovf())?;
                amounts[i] = amounts[i].checked_add(add).ok_or_else(ovf)?;
            }
        }
        Ordering::Less => {
            // Only possible if upstream rounding overshot: take units back from the smallest
            // remainders first, never below zero. Terminates: the amounts sum to more than the
            // (non-negative) budget, so some amount is positive while anything is owed.
            let mut owed = -left;
            while owed > 0 {
                for &i in order.iter().rev() {
                    if owed == 0 {
                        break;
                    }
                    if amounts[i] > 0 {
                        amounts[i] -= 1;
                        owed -= 1;
                    }
                }
            }
        }
    }
    Ok(amounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).expect("test decimal")
    }

    fn cny(s: &str) -> Money {
        Money::new(d(s), Currency::CNY)
    }

    fn weights(p: &str, c: &str, g: &str, floor: &str, cap: &str) -> AllocationWeights {
        AllocationWeights {
            potential: d(p),
            contribution: d(c),
            growth: d(g),
            floor: d(floor),
            cap: d(cap),
        }
    }

    fn input(id: i64, potential: i64, trailing: i64, s: i64, l: i64) -> AllocationInput {
        AllocationInput {
            partner: PartnerId(id),
            potential: Decimal::from(potential),
            trailing_sales: Decimal::from(trailing),
            current: Decimal::from(s),
            last_year: Decimal::from(l),
        }
    }

    fn amounts(shares: &[Share]) -> Vec<Decimal> {
        shares.iter().map(|s| s.amount.amount()).collect()
    }

    fn worked_inputs() -> Vec<AllocationInput> {
        vec![
            input(1, 500, 600_000, 200_000, 150_000),
            input(2, 300, 300_000, 100_000, 100_000),
            input(3, 150, 90_000, 40_000, 10_000),
            input(4, 50, 10_000, 5_000, 5_000),
        ]
    }

    #[test]
    fn worked_example() {
        let w = weights("0.4", "0.4", "0.2", "0.05", "0.4");
        let shares = allocate(cny("100000"), &w, &worked_inputs()).expect("allocates");
        assert_eq!(
            amounts(&shares),
            vec![d("40000"), d("32116.79"), d("22883.21"), d("5000")]
        );
        let s1 = &shares[0];
        assert_eq!(
            (s1.potential_share, s1.contribution_share, s1.growth_share),
            (d("0.5"), d("0.6"), d("0.625"))
        );
        assert_eq!(s1.weighted, d("0.565"));
        assert!(s1.capped && !s1.floored);
        assert_eq!(shares[1].weighted, d("0.24"));
        assert!(!shares[1].capped && !shares[1].floored);
        assert_eq!(shares[2].weighted, d("0.171"));
        assert_eq!(shares[3].weighted, d("0.024"));
        assert!(shares[3].floored && !shares[3].capped);
        assert!(shares.iter().all(|s| s.amount.currency() == Currency::CNY));
    }

    #[test]
    fn result_follows_input_order_and_ignores_it() {
        let w = weights("0.4", "0.4", "0.2", "0.05", "0.4");
        let mut inputs = worked_inputs();
        inputs.reverse();
        let shares = allocate(cny("100000"), &w, &inputs).expect("allocates");
        let ids: Vec<i64> = shares.iter().map(|s| s.partner.0).collect();
        assert_eq!(ids, vec![4, 3, 2, 1]);
        assert_eq!(
            amounts(&shares),
            vec![d("5000"), d("22883.21"), d("32116.79"), d("40000")]
        );
    }

    #[test]
    fn largest_remainder_ties_go_to_lower_id() {
        let w = weights("1", "0", "0", "0", "1");
        let inputs = vec![
            input(9, 1, 0, 0, 0),
            input(3, 1, 0, 0, 0),
            input(5, 1, 0, 0, 0),
        ];
        let shares = allocate(cny("1"), &w, &inputs).expect("allocates");
        assert_eq!(amounts(&shares), vec![d("0.33"), d("0.34"), d("0.33")]);
        let shares = allocate(cny("1.01"), &w, &inputs).expect("allocates");
        assert_eq!(amounts(&shares), vec![d("0.33"), d("0.34"), d("0.34")]);
    }

    #[test]
    fn zero_budget_and_zero_minor_unit_currencies() {
        let w = weights("1", "1", "1", "0", "1");
        let shares = allocate(cny("0"), &w, &worked_inputs()).expect("allocates");
        assert!(shares.iter().all(|s| s.amount.is_zero()));

        let yen = Money::new(d("1000"), Currency::JPY);
        let inputs = vec![input(1, 1, 1, 0, 0), input(2, 2, 2, 0, 0)];
        let shares = allocate(yen, &w, &inputs).expect("allocates");
        // Exactly 1/3 and 2/3 of 1,000 yen: 333.33 and 666.67 → the larger remainder wins.
        assert_eq!(amounts(&shares), vec![d("333"), d("667")]);
        assert_eq!(shares[1].amount.currency(), Currency::JPY);
    }

    #[test]
    fn empty_component_hands_its_weight_to_the_others() {
        // Nobody grew: growth's weight 2 goes to potential and contribution 1:1.
        let w = weights("1", "1", "2", "0", "1");
        let inputs = vec![input(1, 3, 1, 5, 5), input(2, 1, 3, 0, 9)];
        let shares = allocate(cny("1000"), &w, &inputs).expect("allocates");
        assert_eq!(shares[0].growth_share, Decimal::ZERO);
        assert_eq!(shares[0].weighted, d("0.5"));
        assert_eq!(amounts(&shares), vec![d("500"), d("500")]);
    }

    #[test]
    fn nothing_informative_splits_equally() {
        // All components empty.
        let w = weights("1", "1", "1", "0", "1");
        let inputs = vec![input(1, 0, 0, 0, 0), input(2, 0, 0, 0, 0)];
        let shares = allocate(cny("10"), &w, &inputs).expect("allocates");
        assert_eq!(amounts(&shares), vec![d("5"), d("5")]);
        // Only a zero-weight component has data.
        let w = weights("1", "0", "0", "0", "1");
        let inputs = vec![input(1, 0, 10, 0, 0), input(2, 0, 30, 0, 0)];
        let shares = allocate(cny("10"), &w, &inputs).expect("allocates");
        assert_eq!(amounts(&shares), vec![d("5"), d("5")]);
        assert_eq!(shares[1].contribution_share, d("0.75"));
    }

    #[test]
    fn cap_excess_flows_to_the_others_proportionally() {
        // Weighted 0.7 / 0.2 / 0.1, cap 0.5: 0.2 excess splits 2:1.
        let w = weights("1", "0", "0", "0", "0.5");
        let inputs = vec![
            input(1, 70, 0, 0, 0),
            input(2, 20, 0, 0, 0),
            input(3, 10, 0, 0, 0),
        ];
        let shares = allocate(cny("300"), &w, &inputs).expect("allocates");
        assert_eq!(amounts(&shares), vec![d("150"), d("100"), d("50")]);
        assert!(shares[0].capped);
        assert!(!shares[1].capped && !shares[2].capped);
    }

    #[test]
    fn cascading_cap_and_floor() {
        // Capping the first pushes the second over the cap too; the floor lifts the last two.
        let w = weights("1", "0", "0", "0.1", "0.3");
        let inputs = vec![
            input(1, 600, 0, 0, 0),
            input(2, 250, 0, 0, 0),
            input(3, 100, 0, 0, 0),
            input(4, 30, 0, 0, 0),
            input(5, 20, 0, 0, 0),
        ];
        let shares = allocate(cny("1000"), &w, &inputs).expect("allocates");
        // 300 + 300 + 200 (the rest) + 100 + 100 floors.
        assert_eq!(
            amounts(&shares),
            vec![d("300"), d("300"), d("200"), d("100"), d("100")]
        );
        let flags: Vec<(bool, bool)> = shares.iter().map(|s| (s.floored, s.capped)).collect();
        assert_eq!(
            flags,
            vec![
                (false, true),
                (false, true),
                (false, false),
                (true, false),
                (true, false)
            ]
        );
    }

    #[test]
    fn zero_weight_partners_share_what_the_cap_leaves() {
        // Only partner 1 has anything, but it may take at most 40 %.
        let w = weights("1", "0", "0", "0", "0.4");
        let inputs = vec![
            input(1, 5, 0, 0, 0),
            input(2, 0, 0, 0, 0),
            input(3, 0, 0, 0, 0),
        ];
        let shares = allocate(cny("100"), &w, &inputs).expect("allocates");
        assert_eq!(amounts(&shares), vec![d("40"), d("30"), d("30")]);
    }

    #[test]
    fn tight_bounds() {
        // floor = cap = 1/n leaves exactly one solution.
        let w = weights("1", "0", "0", "0.25", "0.25");
        let inputs: Vec<_> = (1..=4).map(|i| input(i, i * 10, 0, 0, 0)).collect();
        let shares = allocate(cny("100"), &w, &inputs).expect("allocates");
        assert_eq!(amounts(&shares), vec![d("25"); 4]);
        // A single partner takes everything.
        let shares = allocate(
            cny("12.34"),
            &weights("1", "1", "1", "0.5", "3"),
            &inputs[..1],
        )
        .expect("one");
        assert_eq!(amounts(&shares), vec![d("12.34")]);
    }

    #[test]
    fn errors() {
        let w = weights("1", "1", "1", "0", "1");
        let ok = worked_inputs();
        assert_eq!(
            allocate(cny("10"), &w, &[]),
            Err(AllocationError::NoPartners)
        );
        assert_eq!(
            allocate(cny("-1"), &w, &ok),
            Err(AllocationError::NegativeBudget {
                amount: d("-1"),
                currency: Currency::CNY
            })
        );
        assert!(matches!(
            allocate(cny("1.001"), &w, &ok),
            Err(AllocationError::BudgetNotMinorUnits { .. })
        ));
        assert_eq!(
            allocate(cny("1"), &weights("1", "-1", "1", "0", "1"), &ok),
            Err(AllocationError::NegativeWeight {
                name: "contribution weight",
                value: d("-1")
            })
        );
        assert_eq!(
            allocate(cny("1"), &weights("1", "1", "1", "-0.1", "1"), &ok),
            Err(AllocationError::NegativeWeight {
                name: "floor",
                value: d("-0.1")
            })
        );
        assert_eq!(
            allocate(cny("1"), &weights("0", "0", "0", "0", "1"), &ok),
            Err(AllocationError::ZeroWeights)
        );
        assert_eq!(
            allocate(cny("1"), &weights("1", "0", "0", "0.3", "0.2"), &ok),
            Err(AllocationError::FloorAboveCap {
                floor: d("0.3"),
                cap: d("0.2")
            })
        );
        assert_eq!(
            allocate(cny("1"), &weights("1", "0", "0", "0.26", "0.5"), &ok),
            Err(AllocationError::FloorInfeasible {
                floor: d("0.26"),
                partners: 4
            })
        );
        assert_eq!(
            allocate(cny("1"), &weights("1", "0", "0", "0", "0.24"), &ok),
            Err(AllocationError::CapInfeasible {
                cap: d("0.24"),
                partners: 4
            })
        );
        let mut dup = ok.clone();
        dup[3].partner = PartnerId(2);
        assert_eq!(
            allocate(cny("1"), &w, &dup),
            Err(AllocationError::DuplicatePartner(PartnerId(2)))
        );
        let mut neg = ok.clone();
        neg[2].last_year = d("-5");
        assert_eq!(
            allocate(cny("1"), &w, &neg),
            Err(AllocationError::NegativeInput {
                partner: PartnerId(3),
                field: "last_year",
                value: d("-5")
            })
        );
        let huge = vec![
            AllocationInput {
                potential: Decimal::MAX,
                ..input(1, 0, 0, 0, 0)
            },
            AllocationInput {
                potential: Decimal::MAX,
                ..input(2, 0, 0, 0, 0)
            },
        ];
        assert_eq!(
            allocate(cny("1"), &w, &huge),
            Err(AllocationError::Overflow)
        );
        // Messages are meant for managers; spot-check one.
        assert_eq!(
            AllocationError::CapInfeasible {
                cap: d("0.2"),
                partners: 6
            }
            .to_string(),
            "allocation cap 0.2 × 6 partners is less than the whole budget; raise the cap to at \
             least 1/6"
        );
    }

    #[test]
    fn extreme_inputs_do_not_panic() {
        let w = weights("1", "1", "1", "0", "1000");
        let inputs = vec![
            AllocationInput {
                potential: d("0.0000000000000000000000000001"),
                ..input(1, 0, 0, 0, 0)
            },
            AllocationInput {
                trailing_sales: d("1000000000000000000000000"),
                current: d("1000000000000000000000000"),
                ..input(2, 1, 0, 0, 0)
            },
            input(3, 0, 0, 0, 1),
        ];
        let budget = Money::from_minor(i64::MAX, Currency::KWD);
        let shares = allocate(budget, &w, &inputs).expect("allocates");
        let total: i128 = shares
            .iter()
            .map(|s| i128::from(s.amount.to_minor().expect("minor")))
            .sum();
        assert_eq!(total, i128::from(i64::MAX));
    }

    fn growth(i: &AllocationInput) -> Decimal {
        (i.current - i.last_year).max(Decimal::ZERO)
    }

    fn dominates(a: &AllocationInput, b: &AllocationInput) -> bool {
        a.potential >= b.potential && a.trailing_sales >= b.trailing_sales && growth(a) >= growth(b)
    }

    fn amount_value() -> impl Strategy<Value = i64> {
        prop_oneof![1 => Just(0i64), 4 => 0i64..1_000_000]
    }

    fn any_input() -> impl Strategy<Value = (i64, i64, i64, i64)> {
        (
            amount_value(),
            amount_value(),
            amount_value(),
            amount_value(),
        )
    }

    /// (budget, weights, inputs) that are always valid.
    fn any_case() -> impl Strategy<Value = (Money, AllocationWeights, Vec<AllocationInput>)> {
        (
            prop::collection::vec(any_input(), 1..12),
            prop::sample::subsequence((1i64..100).collect::<Vec<_>>(), 12),
            (0u32..=10, 0u32..=10, 0u32..=10).prop_filter("a weight", |w| w != &(0, 0, 0)),
            0i64..=1000,
            0i64..=1200,
            0i64..1_000_000_000_000,
            prop_oneof![
                Just(Currency::CNY),
                Just(Currency::JPY),
                Just(Currency::KWD)
            ],
            // Extra on top of partner 0 for a guaranteed dominating pair.
            (0i64..1000, 0i64..1000, 0i64..1000),
        )
            .prop_map(|(raw, ids, (wp, wc, wg), fa, fc, minor, currency, extra)| {
                let mut inputs: Vec<AllocationInput> = raw
                    .iter()
                    .zip(&ids)
                    .map(|(&(p, t, s, l), &id)| input(id, p, t, s, l))
                    .collect();
                if let Some(first) = inputs.first().cloned()
                    && inputs.len() < ids.len()
                {
                    inputs.push(AllocationInput {
                        partner: PartnerId(ids[inputs.len()]),
                        potential: first.potential + Decimal::from(extra.0),
                        trailing_sales: first.trailing_sales + Decimal::from(extra.1),
                        current: first.current + Decimal::from(extra.2),
                        last_year: first.last_year,
                    });
                }
                let n = inputs.len() as i64;
                // floor ≤ 1/n ≤ cap in thousandths, so every case is feasible.
                let floor = fa * (1000 / n) / 1000;
                let min_cap = (1000 + n - 1) / n;
                let cap = min_cap + fc * (1200 - min_cap) / 1200;
                let w = AllocationWeights {
                    potential: Decimal::from(wp),
                    contribution: Decimal::from(wc),
                    growth: Decimal::from(wg),
                    floor: Decimal::new(floor, 3),
                    cap: Decimal::new(cap, 3),
                };
                (Money::from_minor(minor, currency), w, inputs)
            })
    }

    /// Weighted shares (some zero, sometimes all) with feasible floor and cap in thousandths.
    fn any_fill() -> impl Strategy<Value = (Vec<Decimal>, Decimal, Decimal)> {
        (
            prop::collection::vec(prop_oneof![1 => Just(0i64), 5 => 0i64..10_000], 1..15),
            0i64..=1000,
            0i64..=1000,
        )
            .prop_map(|(raw, fa, fc)| {
                let n = raw.len() as i64;
                let floor = fa * (1000 / n) / 1000;
                let min_cap = (1000 + n - 1) / n;
                let cap = min_cap + fc * (1000 - min_cap) / 1000;
                let total: i64 = raw.iter().sum::<i64>().max(1);
                let weighted = raw
                    .iter()
                    .map(|&r| Decimal::from(r) / Decimal::from(total))
                    .collect();
                (weighted, Decimal::new(floor, 3), Decimal::new(cap, 3))
            })
    }

    proptest! {
        /// The water-filling fixed point: the free partners share one λ, the floored ones would
        /// be below the floor at that λ and the capped ones above the cap, and it sums to one.
        #[test]
        fn prop_water_fill_is_the_fixed_point((weighted, floor, cap) in any_fill()) {
            let targets = water_fill(&weighted, floor, cap).expect("feasible");
            let eps = d("0.00000000000000000001");
            let sum: Decimal = targets.iter().map(|t| t.fraction).sum();
            prop_assert!((sum - Decimal::ONE).abs() < eps, "sum {}", sum);
            let lambdas: Vec<Decimal> = weighted
                .iter()
                .zip(&targets)
                .filter(|(w, t)| !t.floored && !t.capped && !w.is_zero())
                .map(|(w, t)| t.fraction / *w)
                .collect();
            let zero_weight_free = weighted
                .iter()
                .zip(&targets)
                .any(|(w, t)| w.is_zero() && t.fraction > floor);
            for (w, t) in weighted.iter().zip(&targets) {
                prop_assert!(t.fraction >= floor && t.fraction <= cap);
                prop_assert!(!(t.floored && t.capped) || floor == cap);
                if t.floored {
                    prop_assert_eq!(t.fraction, floor);
                }
                if t.capped {
                    prop_assert_eq!(t.fraction, cap);
                }
                if let Some(l) = lambdas.first() {
                    let rel = |x: Decimal| x * d("0.0000000000000001");
                    for other in &lambdas {
                        prop_assert!((*other - *l).abs() <= rel(*l));
                    }
                    let at_l = *l * *w;
                    if t.floored {
                        prop_assert!(at_l <= floor + rel(floor));
                    } else if t.capped {
                        prop_assert!(at_l >= cap - rel(cap));
                    } else if !w.is_zero() {
                        prop_assert!(at_l >= floor - rel(floor) && at_l <= cap + rel(cap));
                    }
                }
                // Zero-weight partners rise above the floor only when everyone else is capped.
                if zero_weight_free && !w.is_zero() {
                    prop_assert!(t.capped);
                }
            }
        }

        #[test]
        fn prop_sums_exactly_and_respects_bounds((budget, w, inputs) in any_case()) {
            let shares = allocate(budget, &w, &inputs).expect("valid case");
            prop_assert_eq!(shares.len(), inputs.len());
            let budget_minor = budget.to_minor().expect("minor");
            let minors: Vec<i64> =
                shares.iter().map(|s| s.amount.to_minor().expect("whole units")).collect();
            prop_assert_eq!(minors.iter().map(|&m| i128::from(m)).sum::<i128>(), i128::from(budget_minor));
            let b = Decimal::from(budget_minor);
            let lo = w.floor * b - Decimal::ONE;
            let hi = w.cap.min(Decimal::ONE) * b + Decimal::ONE;
            for (s, m) in shares.iter().zip(&minors) {
                prop_assert!(*m >= 0);
                let m = Decimal::from(*m);
                prop_assert!(m >= lo && m <= hi, "{} outside [{}, {}]", m, lo, hi);
                prop_assert!(s.amount.currency() == budget.currency());
            }
            let weighted: Decimal = shares.iter().map(|s| s.weighted).sum();
            prop_assert!((weighted - Decimal::ONE).abs() < d("0.000000000001"));
        }

        #[test]
        fn prop_deterministic_and_order_independent((budget, w, inputs) in any_case()) {
            let a = allocate(budget, &w, &inputs).expect("valid case");
            let b = allocate(budget, &w, &inputs).expect("valid case");
            prop_assert_eq!(&a, &b);
            let mut reversed = inputs.clone();
            reversed.reverse();
            let mut c = allocate(budget, &w, &reversed).expect("valid case");
            c.reverse();
            prop_assert_eq!(a, c);
        }

        #[test]
        fn prop_monotonic((budget, w, inputs) in any_case()) {
            let shares = allocate(budget, &w, &inputs).expect("valid case");
            for (ia, sa) in inputs.iter().zip(&shares) {
                for (ib, sb) in inputs.iter().zip(&shares) {
                    if ia.partner == ib.partner || !dominates(ia, ib) {
                        continue;
                    }
                    prop_assert!(sa.weighted >= sb.weighted);
                    let (ma, mb) = (sa.amount.to_minor().expect("a"), sb.amount.to_minor().expect("b"));
                    // Never less than a dominated partner, except that an exact tie at a bound
                    // can hand the last unit to the lower id.
                    prop_assert!(ma + 1 >= mb, "{:?} {:?}", sa, sb);
                    if !(sa.floored || sa.capped || sb.floored || sb.capped) {
                        prop_assert!(ma >= mb || sa.weighted == sb.weighted, "{:?} {:?}", sa, sb);
                    }
                }
            }
        }
    }
}
