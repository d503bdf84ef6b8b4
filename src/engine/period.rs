//! Reporting periods (month, quarter, year) in the program's time zone.
//!
//! A period is identified by a stable key (`2026-11`, `2026-Q4`, `2026`) used in storage and in
//! commands, so totals are grouped without any date arithmetic in SQL.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

/// How long one period lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    #[default]
    Month,
    Quarter,
    Year,
}

impl PeriodKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            PeriodKind::Month => "month",
            PeriodKind::Quarter => "quarter",
            PeriodKind::Year => "year",
        }
    }
}

/// One concrete period.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    Month { year: i32, month: u32 },
    Quarter { year: i32, quarter: u32 },
    Year { year: i32 },
}

impl Period {
    /// The period of `kind` that contains `date` (a local date in the program time zone).
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Period {
        match kind {
            PeriodKind::Month => Period::Month {
                year: date.year(),
                month: date.month(),
            },
            PeriodKind::Quarter => Period::Quarter {
                year: date.year(),
                quarter: (date.month() - 1) / 3 + 1,
            },
            PeriodKind::Year => Period::Year { year: date.year() },
        }
    }

    /// Parses a key as written by [`Period::key`]: `2026-11`, `2026-Q4` or `2026`.
    pub fn parse(text: &str) -> Option<Period> {
        let text = text.trim();
        if let Some((y, rest)) = text.split_once('-') {
            let year: i32 = y.parse().ok().filter(|y| (1970..=9999).contains(y))?;
            if let Some(q) = rest.strip_prefix(['Q', 'q']) {
                let quarter: u32 = q.parse().ok().filter(|q| (1..=4).contains(q))?;
                return Some(Period::Quarter { year, quarter });
            }
            let month: u32 = rest.parse().ok().filter(|m| (1..=12).contains(m))?;
            return Some(Period::Month { year, month });
        }
        let year: i32 = text.parse().ok().filter(|y| (1970..=9999).contains(y))?;
        Some(Period::Year { year })
    }

    pub fn kind(&self) -> PeriodKind {
        match self {
            Period::Month { .. } => PeriodKind::Month,
            Period::Quarter { .. } => PeriodKind::Quarter,
            Period::Year { .. } => PeriodKind::Year,
        }
    }

    /// The stable storage key.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// First day of the period.
    pub fn start(&self) -> NaiveDate {
        let (year, month) = match *self {
            Period::Month { year, month } => (year, month),
            Period::Quarter { year, quarter } => (year, (quarter - 1) * 3 + 1),
            Period::Year { year } => (year, 1),
        };
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The period just before this one.
    pub fn previous(&self) -> Period {
        match *self {
            Period::Month { year, month: 1 } => Period::Month {
                year: year - 1,
                month: 12,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month - 1,
            },
            Period::Quarter { year, quarter: 1 } => Period::Quarter {
                year: year - 1,
                quarter: 4,
            },
            Period::Quarter { year, quarter } => Period::Quarter {
                year,
                quarter: quarter - 1,
            },
            Period::Year { year } => Period::Year { year: year - 1 },
        }
    }

    /// The period just after this one.
    pub fn next(&self) -> Period {
        match *self {
            Period::Month { year, month: 12 } => Period::Month {
                year: year + 1,
                month: 1,
            },
            Period::Month { year, month } => Period::Month {
                year,
                month: month + 1,
            },
            Period::Quarter { year, quarter: 4 } => Period::Quarter {
                year: year + 1,
                quarter: 1,
            },
            Period::Quarter { year, quarter } => Period::Quarter {
                year,
                quarter: quarter + 1,
            },
            Period::Year { year } => Period::Year { year: year + 1 },
        }
    }

    /// The periods covering the twelve months that end with this one, newest first (twelve
    /// months, four quarters or one year): the span tiers and allocation look at.
    pub fn trailing_year(&self) -> Vec<Period> {
        let count = match self {
            Period::Month { .. } => 12,
            Period::Quarter { .. } => 4,
            Period::Year { .. } => 1,
        };
        std::iter::successors(Some(*self), |p| Some(p.previous()))
            .take(count)
            .collect()
    }

    /// The keys of [`Period::trailing_year`], as the sales totals are stored under them.
    pub fn trailing_year_keys(&self) -> Vec<String> {
        self.trailing_year().iter().map(Period::key).collect()
    }

    /// The same period one year earlier.
    pub fn year_earlier(&self) -> Period {
        match *self {
            Period::Month { year, month } => Period::Month {
                year: year - 1,
                month,
            },
            Period::Quarter { year, quarter } => Period::Quarter {
                year: year - 1,
                quarter,
            },
            Period::Year { year } => Period::Year { year: year - 1 },
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Month { year, month } => write!(f, "{year:04}-{month:02}"),
            Period::Quarter { year, quarter } => write!(f, "{year:04}-Q{quarter}"),
            Period::Year { year } => write!(f, "{year:04}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
    }

    #[test]
    fn keys_round_trip() {
        for p in [
            Period::containing(PeriodKind::Month, d(2026, 11, 26)),
            Period::containing(PeriodKind::Quarter, d(2026, 11, 26)),
            Period::containing(PeriodKind::Year, d(2026, 11, 26)),
        ] {
            assert_eq!(Period::parse(&p.key()), Some(p));
        }
        assert_eq!(
            Period::containing(PeriodKind::Quarter, d(2026, 11, 26)).key(),
            "2026-Q4"
        );
        assert_eq!(
            Period::containing(PeriodKind::Month, d(2026, 1, 5)).key(),
            "2026-01"
        );
    }

    #[test]
    fn previous_wraps_years() {
        assert_eq!(
            Period::parse("2026-01").map(|p| p.previous().key()),
            Some("2025-12".into())
        );
        assert_eq!(
            Period::parse("2026-Q1").map(|p| p.previous().key()),
            Some("2025-Q4".into())
        );
        assert_eq!(
            Period::parse("2026-03").map(|p| p.year_earlier().key()),
            Some("2025-03".into())
        );
        assert_eq!(
            Period::parse("2026-12").map(|p| p.next().key()),
            Some("2027-01".into())
        );
        assert_eq!(
            Period::parse("2026-Q4").map(|p| p.next().previous().key()),
            Some("2026-Q4".into())
        );
    }

    #[test]
    fn trailing_year_spans_twelve_months() {
        let months = Period::parse("2026-03")
            .map(|p| p.trailing_year())
            .unwrap_or_default();
        assert_eq!(months.len(), 12);
        assert_eq!(months[0].key(), "2026-03");
        assert_eq!(months[11].key(), "2025-04");
        let quarters = Period::parse("2026-Q1")
            .map(|p| p.trailing_year())
            .unwrap_or_default();
        assert_eq!(quarters.len(), 4);
    }

    #[test]
    fn rejects_junk() {
        for bad in ["", "2026-13", "2026-Q5", "abc", "2026-00", "99999"] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }
}
