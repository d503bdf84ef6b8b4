//! Points: what each kind of recognition is worth (`[points]`), and the points of a sale.
//! Pure; the service stores each award as one ledger row keyed by its source.

/// `[points]`: how many points each event gives. Sales give `per_sale_unit` points for every
/// whole `sale_unit_minor` of approved amount (program currency, minor units).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PointsRules {
    /// Approved amount (minor units of the program currency) worth `per_sale_unit` points.
    pub sale_unit_minor: i64,
    pub per_sale_unit: i64,
    pub featured_story: i64,
    pub kudos_received: i64,
    pub training_completed: i64,
    /// Points for the 1st, 2nd, 3rd … place of a finished contest; its length is the podium.
    pub podium: Vec<i64>,
}

impl Default for PointsRules {
    /// One point per 1,000 of approved sales (in a currency with 2 decimals), 50 for a featured
    /// story, 10 per kudos received, 30 per completed training, 100/60/30 for a contest podium.
    fn default() -> Self {
        PointsRules {
            sale_unit_minor: 100_000,
            per_sale_unit: 1,
            featured_story: 50,
            kudos_received: 10,
            training_completed: 30,
            podium: vec![100, 60, 30],
        }
    }
}

impl PointsRules {
    /// Points of an approved sale of `program_minor`: whole units only, never negative.
    pub fn sale_points(&self, program_minor: i64) -> i64 {
        if self.sale_unit_minor <= 0 || program_minor <= 0 {
            return 0;
        }
        (program_minor / self.sale_unit_minor).saturating_mul(self.per_sale_unit)
    }

    /// Points for finishing a contest at `place` (1-based); 0 off the podium.
    pub fn podium_points(&self, place: u32) -> i64 {
        let index = usize::try_from(place).unwrap_or(usize::MAX);
        index
            .checked_sub(1)
            .and_then(|i| self.podium.get(i))
            .copied()
            .unwrap_or(0)
    }

    /// Whether `place` is on the podium.
    pub fn on_podium(&self, place: u32) -> bool {
        place >= 1 && usize::try_from(place).is_ok_and(|p| p <= self.podium.len())
    }
}

/// Where a ledger row came from; stored as text, part of the row's unique source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SourceKind {
    /// An approved sale (key: sale id).
    Sale,
    /// An approved sale taken back (rejected or cancelled after approval).
    SaleReversal,
    /// A story featured by a manager (key: story id).
    StoryFeatured,
    /// Kudos received (key: kudos id).
    Kudos,
    /// A completed training (key: training id and member).
    Training,
    /// A contest podium place (key: contest id).
    Podium,
}

impl SourceKind {
    pub const ALL: [SourceKind; 6] = [
        SourceKind::Sale,
        SourceKind::SaleReversal,
        SourceKind::StoryFeatured,
        SourceKind::Kudos,
        SourceKind::Training,
        SourceKind::Podium,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Sale => "sale",
            SourceKind::SaleReversal => "sale_reversal",
            SourceKind::StoryFeatured => "story_featured",
            SourceKind::Kudos => "kudos",
            SourceKind::Training => "training",
            SourceKind::Podium => "podium",
        }
    }

    pub fn parse(text: &str) -> Option<SourceKind> {
        SourceKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sale_points_count_whole_units() {
        let rules = PointsRules::default();
        assert_eq!(rules.sale_points(99_999), 0);
        assert_eq!(rules.sale_points(100_000), 1);
        assert_eq!(rules.sale_points(1_250_000), 12);
        assert_eq!(rules.sale_points(-100_000), 0);
        let zero = PointsRules {
            sale_unit_minor: 0,
            ..PointsRules::default()
        };
        assert_eq!(zero.sale_points(1_000_000), 0);
    }

    #[test]
    fn podium_places() {
        let rules = PointsRules::default();
        assert_eq!(rules.podium_points(1), 100);
        assert_eq!(rules.podium_points(3), 30);
        assert_eq!(rules.podium_points(4), 0);
        assert_eq!(rules.podium_points(0), 0);
        assert!(rules.on_podium(3) && !rules.on_podium(4) && !rules.on_podium(0));
    }

    #[test]
    fn source_kinds_round_trip() {
        for kind in SourceKind::ALL {
            assert_eq!(SourceKind::parse(kind.as_str()), Some(kind));
        }
    }
}
