//! Deal registration against channel conflict: a partner registers a customer (`/deal`) and
//! holds it for a while; a second partner's claim on a held customer (a `/report` or `/deal`)
//! becomes a conflict a manager decides. Pure: the types, the dates and the split arithmetic.

use super::ids::{MemberId, PartnerId, SaleId};

/// One day in milliseconds.
pub const DAY_MS: i64 = 86_400_000;
/// A partner is reminded this long before a registration expires.
pub const REMINDER_BEFORE_MS: i64 = 7 * DAY_MS;

/// Where a registration is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DealStatus {
    /// Holds its customer until `expires_at`.
    Active,
    /// Its time ran out (marked when the customer is registered again).
    Expired,
    /// A manager gave the customer to another partner in a conflict.
    Released,
}

impl DealStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::Active => "active",
            DealStatus::Expired => "expired",
            DealStatus::Released => "released",
        }
    }

    pub fn parse(text: &str) -> Option<DealStatus> {
        match text {
            "active" => Some(DealStatus::Active),
            "expired" => Some(DealStatus::Expired),
            "released" => Some(DealStatus::Released),
            _ => None,
        }
    }
}

/// A stored registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deal {
    pub id: i64,
    pub partner_id: PartnerId,
    /// Who registered it (reminded before it expires).
    pub member_id: Option<MemberId>,
    /// As written the first time.
    pub customer: String,
    pub customer_key: String,
    /// Expected amount in program minor units, if given.
    pub expected_minor: Option<i64>,
    pub note: Option<String>,
    pub status: DealStatus,
    pub registered_at: i64,
    pub expires_at: i64,
}

impl Deal {
    /// Whether it holds its customer at `now`.
    pub fn protects_at(&self, now: i64) -> bool {
        self.status == DealStatus::Active && now < self.expires_at
    }
}

/// When a registration made or renewed at `now` for `days` expires, and when its reminder is
/// due (`None`: it is shorter than the reminder's lead, so there is nothing to remind of).
pub fn protection(now: i64, days: u32) -> (i64, Option<i64>) {
    let expires_at = now.saturating_add(i64::from(days).saturating_mul(DAY_MS));
    let remind_at = expires_at - REMINDER_BEFORE_MS;
    (expires_at, (remind_at > now).then_some(remind_at))
}

/// Where a conflict is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConflictStatus {
    /// Waiting for a manager.
    Open,
    /// Given to one partner.
    Awarded,
    /// The sale's credit split between the two partners.
    Split,
    /// The reporter cancelled the sale it was about.
    Withdrawn,
}

impl ConflictStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConflictStatus::Open => "open",
            ConflictStatus::Awarded => "awarded",
            ConflictStatus::Split => "split",
            ConflictStatus::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(text: &str) -> Option<ConflictStatus> {
        match text {
            "open" => Some(ConflictStatus::Open),
            "awarded" => Some(ConflictStatus::Awarded),
            "split" => Some(ConflictStatus::Split),
            "withdrawn" => Some(ConflictStatus::Withdrawn),
            _ => None,
        }
    }
}

/// A claim on a customer another partner holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub id: i64,
    pub customer: String,
    pub customer_key: String,
    /// The registration that holds the customer, and its partner.
    pub deal_id: i64,
    pub holder: PartnerId,
    /// The partner who claimed it, and the member who did.
    pub claimant: PartnerId,
    pub claimant_member: Option<MemberId>,
    /// The reported sale; `None` when the claim was a registration (`/deal`).
    pub sale_id: Option<SaleId>,
    /// A `/deal` claim's expected amount (program minor units) and note.
    pub claim_expected_minor: Option<i64>,
    pub claim_note: Option<String>,
    pub status: ConflictStatus,
    pub winner: Option<PartnerId>,
    pub split_percent: Option<u8>,
    pub opened_at: i64,
}

/// The smallest and largest share a split may give the reporting partner, in percent.
pub const SPLIT_PERCENT: std::ops::RangeInclusive<u8> = 1..=99;

/// `60` → 60 when it is a whole percent in [`SPLIT_PERCENT`] (`60%` is accepted too).
pub fn parse_split_percent(text: &str) -> Option<u8> {
    let digits = text.trim().trim_end_matches(['%', '％']);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 3 {
        return None;
    }
    digits
        .parse::<u8>()
        .ok()
        .filter(|p| SPLIT_PERCENT.contains(p))
}

/// Splits `total` minor units: the reporting partner's part is `total × percent / 100` rounded
/// to the nearest minor unit (halves away from zero), the holder gets the rest, so the two
/// parts always sum to `total` exactly.
pub fn split_minor(total: i64, percent: u8) -> (i64, i64) {
    let scaled = i128::from(total) * i128::from(percent);
    let half = if scaled >= 0 { 50 } else { -50 };
    let reporter = (scaled + half) / 100;
    // |reporter| <= |total|: it fits.
    let reporter = i64::try_from(reporter).unwrap_or(total);
    (reporter, total - reporter)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn split_rounds_the_reporter_part_and_gives_the_rest() {
        assert_eq!(split_minor(10_000, 50), (5_000, 5_000));
        assert_eq!(split_minor(1, 50), (1, 0));
        assert_eq!(split_minor(3, 33), (1, 2));
        assert_eq!(split_minor(1_234_567, 60), (740_740, 493_827));
        assert_eq!(split_minor(99_99, 1), (100, 98_99));
        assert_eq!(split_minor(99_99, 99), (98_99, 100));
        assert_eq!(
            split_minor(i64::MAX, 99).0 + split_minor(i64::MAX, 99).1,
            i64::MAX
        );
    }

    proptest! {
        #[test]
        fn split_parts_sum_exactly(total in 0..i64::MAX, percent in 1u8..=99) {
            let (reporter, holder) = split_minor(total, percent);
            prop_assert_eq!(reporter + holder, total);
            prop_assert!(reporter >= 0 && holder >= 0);
            // Within half a minor unit of the exact share.
            let exact = i128::from(total) * i128::from(percent);
            prop_assert!((i128::from(reporter) * 100 - exact).abs() <= 50);
        }
    }

    #[test]
    fn split_percent_is_a_whole_number_from_1_to_99() {
        assert_eq!(parse_split_percent("60"), Some(60));
        assert_eq!(parse_split_percent("60%"), Some(60));
        assert_eq!(parse_split_percent("1"), Some(1));
        assert_eq!(parse_split_percent("99"), Some(99));
        for bad in ["0", "100", "-5", "50.5", "abc", "", "%", "1000", "+5", "٥"] {
            assert_eq!(parse_split_percent(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn protection_and_its_reminder() {
        assert_eq!(protection(0, 90), (90 * DAY_MS, Some(83 * DAY_MS)));
        // Shorter than the reminder's lead: no reminder.
        assert_eq!(protection(0, 7), (7 * DAY_MS, None));
        assert_eq!(protection(0, 8), (8 * DAY_MS, Some(DAY_MS)));
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            DealStatus::Active,
            DealStatus::Expired,
            DealStatus::Released,
        ] {
            assert_eq!(DealStatus::parse(s.as_str()), Some(s));
        }
        for s in [
            ConflictStatus::Open,
            ConflictStatus::Awarded,
            ConflictStatus::Split,
            ConflictStatus::Withdrawn,
        ] {
            assert_eq!(ConflictStatus::parse(s.as_str()), Some(s));
        }
    }
}
