//! Leaderboards: order, ties and the gap to the next place.
//!
//! Totals are kept per (period, partner) by the store in the same transaction as each sale, so
//! ranking reads a handful of rows, never the sales. The order is: higher total first; on equal
//! totals, whoever reached the value first; then the lower partner id, so the order is total.

use super::ids::PartnerId;

/// One partner's standing in a period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Standing {
    pub partner_id: PartnerId,
    pub name: String,
    /// Program currency minor units.
    pub total_minor: i64,
    /// Unix milliseconds at which the total reached its current value.
    pub reached_at: i64,
}

impl Standing {
    /// The sort key: a smaller key ranks higher.
    pub fn order_key(&self) -> (std::cmp::Reverse<i64>, i64, PartnerId) {
        (
            std::cmp::Reverse(self.total_minor),
            self.reached_at,
            self.partner_id,
        )
    }
}

/// A leaderboard as shown to one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Leaderboard {
    /// The first places, best first, with their 1-based place.
    pub top: Vec<(u64, Standing)>,
    /// The caller's place and standing, if their partner has any total this period.
    pub me: Option<(u64, Standing)>,
    /// How much the caller needs to pass the place above (minor units), if not first.
    pub gap_to_next: Option<i64>,
    /// Partners with a total this period.
    pub participants: u64,
}

/// The amount needed to move above `ahead`: equal totals do not pass (the earlier one wins the
/// tie), so the gap is the difference plus one minor unit.
pub fn gap_to_pass(me: &Standing, ahead: &Standing) -> i64 {
    ahead
        .total_minor
        .saturating_sub(me.total_minor)
        .saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(id: i64, total: i64, at: i64) -> Standing {
        Standing {
            partner_id: PartnerId(id),
            name: format!("p{id}"),
            total_minor: total,
            reached_at: at,
        }
    }

    #[test]
    fn ties_go_to_who_reached_first() {
        let mut v = [s(1, 100, 50), s(2, 100, 10), s(3, 200, 99)];
        v.sort_by_key(Standing::order_key);
        let ids: Vec<i64> = v.iter().map(|x| x.partner_id.0).collect();
        assert_eq!(ids, vec![3, 2, 1]);
    }

    #[test]
    fn gap_passes_strictly() {
        assert_eq!(gap_to_pass(&s(1, 100, 0), &s(2, 150, 0)), 51);
        assert_eq!(gap_to_pass(&s(1, 100, 5), &s(2, 100, 0)), 1);
    }
}
