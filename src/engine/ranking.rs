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

/// An in-memory leaderboard: the order of every ranked partner of one period, for O(log n)
/// places. The store keeps it in step with `period_totals` (see `store::rank_cache`).
#[derive(Clone, Debug, Default)]
pub struct RankIndex {
    /// Sorted by [`RankKey`]: the best first.
    order: Vec<RankKey>,
    by_partner: std::collections::HashMap<PartnerId, RankKey>,
}

/// Sort key of a ranked partner: a smaller key ranks higher.
pub type RankKey = (std::cmp::Reverse<i64>, i64, PartnerId);

fn key_of(partner: PartnerId, total_minor: i64, reached_at: i64) -> RankKey {
    (std::cmp::Reverse(total_minor), reached_at, partner)
}

impl RankIndex {
    /// Sets a partner's total; a total of zero or less takes the partner off the board.
    pub fn set(&mut self, partner: PartnerId, total_minor: i64, reached_at: i64) {
        if let Some(old) = self.by_partner.remove(&partner)
            && let Ok(i) = self.order.binary_search(&old)
        {
            self.order.remove(i);
        }
        if total_minor > 0 {
            let key = key_of(partner, total_minor, reached_at);
            let i = self.order.binary_search(&key).unwrap_or_else(|i| i);
            self.order.insert(i, key);
            self.by_partner.insert(partner, key);
        }
    }

    /// Sets many totals at once; on an empty index it sorts once instead of inserting one by
    /// one (a first load of 100,000 partners is then a sort, not 100,000 vector shifts).
    pub fn set_all(&mut self, totals: impl IntoIterator<Item = (PartnerId, i64, i64)>) {
        if !self.order.is_empty() {
            for (partner, total, at) in totals {
                self.set(partner, total, at);
            }
            return;
        }
        for (partner, total, at) in totals {
            // A later row for the same partner replaces an earlier one.
            self.by_partner.remove(&partner);
            if total > 0 {
                self.by_partner.insert(partner, key_of(partner, total, at));
            }
        }
        self.order = self.by_partner.values().copied().collect();
        self.order.sort_unstable();
    }

    /// Ranked partners.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The first `n` places: (partner, total, reached at), best first.
    pub fn top(&self, n: usize) -> Vec<(PartnerId, i64, i64)> {
        self.order
            .iter()
            .take(n)
            .map(|(total, at, p)| (*p, total.0, *at))
            .collect()
    }

    /// A partner's 1-based place, total and reached-at, if ranked.
    pub fn place(&self, partner: PartnerId) -> Option<(u64, i64, i64)> {
        let key = self.by_partner.get(&partner)?;
        let i = self.order.binary_search(key).ok()?;
        Some((i as u64 + 1, key.0.0, key.1))
    }

    /// The place `partner` would take with `total_minor` reached at `reached_at`, everyone else
    /// unchanged (for what-if answers).
    pub fn place_if(&self, partner: PartnerId, total_minor: i64, reached_at: i64) -> u64 {
        let key = key_of(partner, total_minor, reached_at);
        let mut ahead = self.order.partition_point(|k| *k < key);
        if let Some(own) = self.by_partner.get(&partner)
            && *own < key
        {
            ahead -= 1;
        }
        ahead as u64 + 1
    }

    /// The total of the place directly above `partner`, if it is ranked and not first.
    pub fn total_above(&self, partner: PartnerId) -> Option<i64> {
        let key = self.by_partner.get(&partner)?;
        let i = self.order.binary_search(key).ok()?;
        i.checked_sub(1).map(|above| self.order[above].0.0)
    }
}

#[cfg(test)]
mod index_tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The index agrees with sorting all standings from scratch, after any updates.
        #[test]
        fn matches_a_full_sort(updates in proptest::collection::vec((0i64..40, -5i64..50, 0i64..20), 0..200)) {
            let mut index = RankIndex::default();
            let mut latest = std::collections::HashMap::new();
            for (p, total, at) in &updates {
                index.set(PartnerId(*p), *total, *at);
                latest.insert(*p, (*total, *at));
            }
            let mut all: Vec<Standing> = latest
                .iter()
                .filter(|(_, (t, _))| *t > 0)
                .map(|(p, (t, at))| Standing { partner_id: PartnerId(*p), name: String::new(), total_minor: *t, reached_at: *at })
                .collect();
            all.sort_by_key(Standing::order_key);
            prop_assert_eq!(index.len(), all.len());
            for (i, s) in all.iter().enumerate() {
                prop_assert_eq!(index.place(s.partner_id), Some((i as u64 + 1, s.total_minor, s.reached_at)));
                let above = i.checked_sub(1).map(|j| all[j].total_minor);
                prop_assert_eq!(index.total_above(s.partner_id), above);
            }
            for s in &all {
                // Keeping one's own total and instant keeps one's place.
                prop_assert_eq!(
                    Some(index.place_if(s.partner_id, s.total_minor, s.reached_at)),
                    index.place(s.partner_id).map(|(p, _, _)| p)
                );
            }
            let mut bulk = RankIndex::default();
            bulk.set_all(updates.iter().map(|(p, t, at)| (PartnerId(*p), *t, *at)));
            for s in &all {
                prop_assert_eq!(bulk.place(s.partner_id), index.place(s.partner_id));
            }
            prop_assert_eq!(bulk.len(), index.len());
            let top: Vec<PartnerId> = index.top(10).into_iter().map(|(p, _, _)| p).collect();
            let expected: Vec<PartnerId> = all.iter().take(10).map(|s| s.partner_id).collect();
            prop_assert_eq!(top, expected);
        }
    }
}
