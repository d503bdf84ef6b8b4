//! Trainings: who may join, when check-in and rating are open, which reminders are due, quiz
//! scores and check-in codes. Pure: instants are unix milliseconds passed in.

use serde::{Deserialize, Serialize};

use super::partner::{Partner, PartnerKind};

/// Check-in opens this long before the start and stays open until the end.
pub const CHECKIN_OPENS_BEFORE_MS: i64 = 15 * 60 * 1000;
/// A session may be rated from check-in until this long after its end.
pub const RATING_OPEN_AFTER_END_MS: i64 = 7 * 24 * 3_600_000;
/// Reminders when a training names none: a day and an hour before.
pub const DEFAULT_REMINDER_MINUTES: [u32; 2] = [24 * 60, 60];
/// Characters of a check-in code.
pub const CHECKIN_CODE_LEN: usize = 6;
/// Capital letters and digits a person cannot mistake for another (no I, O, 0, 1).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// A tiered curriculum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Basic,
    Advanced,
    Expert,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Basic, Level::Advanced, Level::Expert];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Basic => "basic",
            Level::Advanced => "advanced",
            Level::Expert => "expert",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == text.trim())
    }
}

/// Which partners a training is for; `None` fields admit anyone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Eligibility {
    pub tier: Option<String>,
    pub kind: Option<PartnerKind>,
    pub region: Option<String>,
}

impl Eligibility {
    /// Whether a member of `partner` (or a member with no partner, a manager: `None`) may
    /// enroll. Tier and region compare without regard to case.
    pub fn admits(&self, partner: Option<&Partner>) -> bool {
        let same = |want: &Option<String>, have: Option<&str>| match want {
            None => true,
            Some(w) => have.is_some_and(|h| h.eq_ignore_ascii_case(w)),
        };
        match partner {
            None => self.tier.is_none() && self.kind.is_none() && self.region.is_none(),
            Some(p) => {
                same(&self.tier, p.tier.as_deref())
                    && same(&self.region, p.region.as_deref())
                    && self.kind.is_none_or(|k| k == p.kind)
            }
        }
    }

    pub fn is_everyone(&self) -> bool {
        *self == Eligibility::default()
    }
}

/// A training as stored: from the configuration or `rally trainings add`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Training {
    pub id: String,
    pub title: String,
    pub level: Level,
    pub starts_at: i64,
    pub ends_at: i64,
    pub capacity: u32,
    /// Seats taken.
    pub enrolled: u32,
    pub link: Option<String>,
    pub place: Option<String>,
    pub eligible: Eligibility,
    pub certification: Option<String>,
    /// Minutes before the start.
    pub reminders: Vec<u32>,
    pub quiz: Option<Quiz>,
    pub checkin_code: String,
    pub finished_at: Option<i64>,
}

impl Training {
    /// Whether `name` names this training: its id, or its title, in any case.
    pub fn is_named(&self, name: &str) -> bool {
        let name = name.trim();
        self.id.eq_ignore_ascii_case(name) || self.title.eq_ignore_ascii_case(name)
    }

    pub fn seats_left(&self) -> u32 {
        self.capacity.saturating_sub(self.enrolled)
    }
}

/// Where a member stands in a training.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EnrollmentStatus {
    Enrolled,
    Waitlisted,
    Left,
}

impl EnrollmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentStatus::Enrolled => "enrolled",
            EnrollmentStatus::Waitlisted => "waitlisted",
            EnrollmentStatus::Left => "left",
        }
    }

    pub fn parse(text: &str) -> Option<EnrollmentStatus> {
        [
            EnrollmentStatus::Enrolled,
            EnrollmentStatus::Waitlisted,
            EnrollmentStatus::Left,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// One member's enrollment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enrollment {
    pub training_id: String,
    pub member_id: super::ids::MemberId,
    pub status: EnrollmentStatus,
    pub enrolled_at: i64,
    pub checked_in_at: Option<i64>,
    pub rating: Option<u8>,
    pub comment: Option<String>,
    /// Quiz answers given so far (1-based choices).
    pub quiz_answers: Vec<u32>,
    pub quiz_score: Option<u32>,
    pub completed_at: Option<i64>,
}

/// One multiple-choice question; `answer` is the 1-based number of the right choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub q: String,
    pub choices: Vec<String>,
    pub answer: u32,
}

/// A quiz taken after the session: passed with at least `pass` right answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quiz {
    pub pass: u32,
    pub questions: Vec<Question>,
}

impl Quiz {
    /// Right answers among `answers` (1-based choices, in question order).
    pub fn score(&self, answers: &[u32]) -> u32 {
        let right = self
            .questions
            .iter()
            .zip(answers)
            .filter(|(q, a)| q.answer == **a)
            .count();
        u32::try_from(right).unwrap_or(u32::MAX)
    }

    pub fn passed(&self, answers: &[u32]) -> bool {
        self.score(answers) >= self.pass
    }

    /// What is wrong with a quiz as configured, if anything.
    pub fn problem(&self) -> Option<String> {
        if self.questions.is_empty() {
            return Some("a quiz needs at least one question".into());
        }
        for (i, q) in self.questions.iter().enumerate() {
            if q.choices.len() < 2 {
                return Some(format!("question {} needs at least two choices", i + 1));
            }
            let answer = usize::try_from(q.answer).unwrap_or(usize::MAX);
            if answer == 0 || answer > q.choices.len() {
                return Some(format!(
                    "question {}: answer must be the number of a choice, 1 to {}",
                    i + 1,
                    q.choices.len()
                ));
            }
        }
        let total = u32::try_from(self.questions.len()).unwrap_or(u32::MAX);
        if self.pass == 0 || self.pass > total {
            return Some(format!(
                "pass must be 1 to {total} (the number of questions)"
            ));
        }
        None
    }
}

/// Why a check-in is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckinRefusal {
    /// Check-in opens at this instant.
    TooEarly { opens_at: i64 },
    /// The session is over.
    Over,
}

/// Whether check-in is open at `now` for a session from `starts` to `ends`.
pub fn checkin_open(now: i64, starts: i64, ends: i64) -> Result<(), CheckinRefusal> {
    let opens_at = starts - CHECKIN_OPENS_BEFORE_MS;
    if now < opens_at {
        Err(CheckinRefusal::TooEarly { opens_at })
    } else if now > ends {
        Err(CheckinRefusal::Over)
    } else {
        Ok(())
    }
}

/// Why a rating is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatingRefusal {
    /// Only members who checked in rate a session.
    NotAttended,
    /// The week after the end has passed.
    Closed,
}

/// Whether a member may rate at `now`: checked in, and no later than a week after `ends`.
pub fn rating_open(now: i64, checked_in: bool, ends: i64) -> Result<(), RatingRefusal> {
    if !checked_in {
        Err(RatingRefusal::NotAttended)
    } else if now > ends + RATING_OPEN_AFTER_END_MS {
        Err(RatingRefusal::Closed)
    } else {
        Ok(())
    }
}

/// A check-in code from random bytes: six capital letters and digits.
pub fn checkin_code_from_random(random: [u8; CHECKIN_CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// A typed check-in code in canonical form (upper case, spaces and dashes dropped).
pub fn normalize_checkin_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '_'))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// `"24h"`, `"90m"`, `"2d"` (or a bare number of minutes) as minutes; `None` for anything else
/// or zero.
pub fn parse_reminder(text: &str) -> Option<u32> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last()? {
        (i, 'm') => (&text[..i], 1),
        (i, 'h') => (&text[..i], 60),
        (i, 'd') => (&text[..i], 24 * 60),
        _ => (text, 1),
    };
    number
        .trim()
        .parse::<u32>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .filter(|m| *m > 0)
}

/// `1440` as `"24h"`, `90` as `"90m"`: how a reminder offset is shown.
pub fn reminder_label(minutes: u32) -> String {
    if minutes.is_multiple_of(24 * 60) {
        format!("{}d", minutes / (24 * 60))
    } else if minutes.is_multiple_of(60) {
        format!("{}h", minutes / 60)
    } else {
        format!("{minutes}m")
    }
}

/// The reminders due at `now` for a session starting at `starts`: every offset whose moment
/// has come and that is not recorded yet (`mark`), while the session has not started. Only the
/// nearest of them is sent (`send`): after a downtime across two moments the member gets the
/// one that still makes sense, once, and the older one is recorded as done.
pub fn due_reminders(now: i64, starts: i64, offsets: &[u32], sent: &[u32]) -> DueReminders {
    if now >= starts {
        return DueReminders::default();
    }
    let mark: Vec<u32> = offsets
        .iter()
        .copied()
        .filter(|m| !sent.contains(m))
        .filter(|m| now >= starts - i64::from(*m) * 60_000)
        .collect();
    DueReminders {
        send: mark.iter().copied().min(),
        mark,
    }
}

/// What [`due_reminders`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DueReminders {
    pub send: Option<u32>,
    pub mark: Vec<u32>,
}

/// Approved sales (minor units) of one partner in the window before a session and the window
/// after it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BeforeAfter {
    pub before: i64,
    pub after: i64,
}

/// Attendees against eligible partners who did not attend: the average per partner before and
/// after, and the difference in differences (minor units, rounded half away from zero). A
/// comparison of two groups, not proof that the training caused the difference.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffInDiff {
    pub attendees: usize,
    pub others: usize,
    pub attendees_before: i64,
    pub attendees_after: i64,
    pub others_before: i64,
    pub others_after: i64,
    /// `None` when either group is empty: there is nothing to compare.
    pub difference: Option<i64>,
}

/// The report's numbers from each group's partners.
pub fn diff_in_diff(attendees: &[BeforeAfter], others: &[BeforeAfter]) -> DiffInDiff {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::ToPrimitive;
    let average = |group: &[BeforeAfter], pick: fn(&BeforeAfter) -> i64| -> Decimal {
        if group.is_empty() {
            return Decimal::ZERO;
        }
        group
            .iter()
            .map(|g| Decimal::from(pick(g)))
            .sum::<Decimal>()
            / Decimal::from(group.len())
    };
    let round = |d: Decimal| {
        d.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
            .to_i64()
            .unwrap_or(0)
    };
    let (ab, aa) = (
        average(attendees, |g| g.before),
        average(attendees, |g| g.after),
    );
    let (ob, oa) = (average(others, |g| g.before), average(others, |g| g.after));
    DiffInDiff {
        attendees: attendees.len(),
        others: others.len(),
        attendees_before: round(ab),
        attendees_after: round(aa),
        others_before: round(ob),
        others_after: round(oa),
        difference: (!attendees.is_empty() && !others.is_empty())
            .then(|| round((aa - ab) - (oa - ob))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::ids::PartnerId;
    use crate::engine::partner::PartnerStatus;

    const MIN: i64 = 60_000;

    fn partner(tier: Option<&str>, region: Option<&str>) -> Partner {
        Partner {
            id: PartnerId(1),
            name: "P".into(),
            kind: PartnerKind::Dealer,
            region: region.map(str::to_string),
            tier: tier.map(str::to_string),
            status: PartnerStatus::Active,
            joined_at: 0,
            potential_minor: None,
        }
    }

    #[test]
    fn eligibility_by_tier_region_and_kind() {
        let silver = Eligibility {
            tier: Some("Silver".into()),
            ..Eligibility::default()
        };
        assert!(silver.admits(Some(&partner(Some("silver"), None))));
        assert!(!silver.admits(Some(&partner(Some("Gold"), None))));
        assert!(!silver.admits(Some(&partner(None, None))));
        assert!(!silver.admits(None));
        let agents = Eligibility {
            kind: Some(PartnerKind::Agent),
            ..Eligibility::default()
        };
        assert!(!agents.admits(Some(&partner(None, None))));
        assert!(Eligibility::default().admits(None));
        assert!(Eligibility::default().admits(Some(&partner(None, Some("East")))));
    }

    #[test]
    fn checkin_window_edges() {
        let (starts, ends) = (1_000 * MIN, 1_090 * MIN);
        assert_eq!(
            checkin_open(starts - 15 * MIN - 1, starts, ends),
            Err(CheckinRefusal::TooEarly {
                opens_at: starts - 15 * MIN
            })
        );
        assert_eq!(checkin_open(starts - 15 * MIN, starts, ends), Ok(()));
        assert_eq!(checkin_open(ends, starts, ends), Ok(()));
        assert_eq!(
            checkin_open(ends + 1, starts, ends),
            Err(CheckinRefusal::Over)
        );
    }

    #[test]
    fn rating_window_edges() {
        let ends = 10_000 * MIN;
        assert_eq!(
            rating_open(ends, false, ends),
            Err(RatingRefusal::NotAttended)
        );
        assert_eq!(rating_open(ends - 30 * MIN, true, ends), Ok(()));
        assert_eq!(
            rating_open(ends + RATING_OPEN_AFTER_END_MS, true, ends),
            Ok(())
        );
        assert_eq!(
            rating_open(ends + RATING_OPEN_AFTER_END_MS + 1, true, ends),
            Err(RatingRefusal::Closed)
        );
    }

    #[test]
    fn quiz_scores_and_checks() {
        let quiz = Quiz {
            pass: 2,
            questions: vec![
                Question {
                    q: "a".into(),
                    choices: vec!["x".into(), "y".into()],
                    answer: 1,
                },
                Question {
                    q: "b".into(),
                    choices: vec!["x".into(), "y".into(), "z".into()],
                    answer: 3,
                },
                Question {
                    q: "c".into(),
                    choices: vec!["x".into(), "y".into()],
                    answer: 2,
                },
            ],
        };
        assert_eq!(quiz.problem(), None);
        assert_eq!(quiz.score(&[1, 3, 1]), 2);
        assert!(quiz.passed(&[1, 3, 1]));
        assert!(!quiz.passed(&[2, 3, 1]));
        assert_eq!(quiz.score(&[1]), 1);
        let mut bad = quiz.clone();
        bad.questions[1].answer = 4;
        assert!(bad.problem().unwrap_or_default().contains("question 2"));
        bad = quiz.clone();
        bad.pass = 4;
        assert!(
            bad.problem()
                .unwrap_or_default()
                .contains("pass must be 1 to 3")
        );
    }

    #[test]
    fn codes_are_six_unambiguous_characters() {
        let code = checkin_code_from_random([0, 31, 32, 200, 255, 7]);
        assert_eq!(code.len(), CHECKIN_CODE_LEN);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert_eq!(normalize_checkin_code(" ab-c23 "), "ABC23");
    }

    #[test]
    fn reminder_offsets() {
        assert_eq!(parse_reminder("24h"), Some(1_440));
        assert_eq!(parse_reminder("90m"), Some(90));
        assert_eq!(parse_reminder("2d"), Some(2_880));
        assert_eq!(parse_reminder("15"), Some(15));
        assert_eq!(parse_reminder("0h"), None);
        assert_eq!(parse_reminder("soon"), None);
        assert_eq!(parse_reminder(""), None);
        assert_eq!(reminder_label(1_440), "1d");
        assert_eq!(reminder_label(60), "1h");
        assert_eq!(reminder_label(90), "90m");
    }

    #[test]
    fn reminders_due_once_and_only_before_the_start() {
        let starts = 100_000 * MIN;
        let offsets = [1_440, 60];
        assert_eq!(
            due_reminders(starts - 1_441 * MIN, starts, &offsets, &[]),
            DueReminders::default()
        );
        assert_eq!(
            due_reminders(starts - 1_440 * MIN, starts, &offsets, &[]),
            DueReminders {
                send: Some(1_440),
                mark: vec![1_440]
            }
        );
        assert_eq!(
            due_reminders(starts - 100 * MIN, starts, &offsets, &[1_440]),
            DueReminders::default()
        );
        // Down across both moments: only the nearest is sent, both are recorded.
        assert_eq!(
            due_reminders(starts - 30 * MIN, starts, &offsets, &[]),
            DueReminders {
                send: Some(60),
                mark: vec![1_440, 60]
            }
        );
        assert_eq!(
            due_reminders(starts, starts, &offsets, &[]),
            DueReminders::default()
        );
    }

    #[test]
    fn difference_in_differences_by_hand() {
        let attendees = [
            BeforeAfter {
                before: 1_000,
                after: 3_000,
            },
            BeforeAfter {
                before: 2_000,
                after: 2_500,
            },
        ];
        let others = [
            BeforeAfter {
                before: 1_000,
                after: 1_200,
            },
            BeforeAfter {
                before: 3_000,
                after: 3_100,
            },
            BeforeAfter {
                before: 0,
                after: 0,
            },
        ];
        let did = diff_in_diff(&attendees, &others);
        // Attendees 1,500 → 2,750 (+1,250); others 1,333.33 → 1,433.33 (+100): +1,150.
        assert_eq!(did.attendees_before, 1_500);
        assert_eq!(did.attendees_after, 2_750);
        assert_eq!(did.others_before, 1_333);
        assert_eq!(did.others_after, 1_433);
        assert_eq!(did.difference, Some(1_150));
        assert_eq!(diff_in_diff(&attendees, &[]).difference, None);
        assert_eq!(diff_in_diff(&[], &others).difference, None);
    }
}
