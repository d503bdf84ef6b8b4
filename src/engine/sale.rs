//! The sale lifecycle: pending → approved | rejected, or cancelled by its reporter while pending.

use serde::{Deserialize, Serialize};

use super::ids::{MemberId, PartnerId, SaleId};
use super::money::Money;

/// Where a sale came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaleSource {
    Chat,
    Import,
    Api,
}

impl SaleSource {
    pub fn as_str(&self) -> &'static str {
        match self {
            SaleSource::Chat => "chat",
            SaleSource::Import => "import",
            SaleSource::Api => "api",
        }
    }

    pub fn parse(text: &str) -> Option<SaleSource> {
        match text {
            "chat" => Some(SaleSource::Chat),
            "import" => Some(SaleSource::Import),
            "api" => Some(SaleSource::Api),
            _ => None,
        }
    }
}

/// Where a sale is in its lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SaleStatus {
    Pending,
    Approved,
    Rejected,
    Cancelled,
}

impl SaleStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            SaleStatus::Pending => "pending",
            SaleStatus::Approved => "approved",
            SaleStatus::Rejected => "rejected",
            SaleStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<SaleStatus> {
        match text {
            "pending" => Some(SaleStatus::Pending),
            "approved" => Some(SaleStatus::Approved),
            "rejected" => Some(SaleStatus::Rejected),
            "cancelled" => Some(SaleStatus::Cancelled),
            _ => None,
        }
    }
}

/// A decision on a sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaleAction {
    Approve,
    Reject,
    /// Withdrawn by the member who reported it.
    Cancel,
}

/// Why a lifecycle step is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("sale is already {0:?}")]
    AlreadyDecided(SaleStatus),
    #[error("only the member who reported a sale may cancel it")]
    NotReporter,
}

/// A sale as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sale {
    pub id: SaleId,
    pub partner_id: PartnerId,
    /// What the partner reported, in the currency they named.
    pub amount: Money,
    /// The same amount in program currency, rounded to its minor unit.
    pub program_amount: Money,
    pub customer: String,
    pub category: Option<String>,
    /// Units sold, when the report said (imports may).
    pub quantity: Option<i64>,
    /// A platform file reference (a photo or document) proving the sale.
    pub evidence: Option<String>,
    pub note: Option<String>,
    pub source: SaleSource,
    pub status: SaleStatus,
    pub reporter: Option<MemberId>,
    /// Period key (`2026-11`) the sale counts for.
    pub period: String,
    /// Unix milliseconds.
    pub reported_at: i64,
    pub decided_by: Option<MemberId>,
    pub reason: Option<String>,
}

/// The status a new sale starts in. Chat reports are approved on arrival only below the
/// program's `auto_approve_below`; verified imports and API sales always.
pub fn initial_status(
    source: SaleSource,
    verified: bool,
    program_amount: Money,
    auto_approve_below: Option<Money>,
) -> SaleStatus {
    let auto = match source {
        SaleSource::Chat => auto_approve_below
            .filter(|limit| limit.currency() == program_amount.currency())
            .is_some_and(|limit| program_amount.amount() < limit.amount()),
        SaleSource::Import | SaleSource::Api => verified,
    };
    if auto {
        SaleStatus::Approved
    } else {
        SaleStatus::Pending
    }
}

/// The status after `action` by `actor`, or why it is not allowed. Role checks happen before
/// this (only managers approve or reject); this guards the lifecycle itself.
pub fn transition(
    sale: &Sale,
    action: SaleAction,
    actor: MemberId,
) -> Result<SaleStatus, TransitionError> {
    if sale.status != SaleStatus::Pending {
        return Err(TransitionError::AlreadyDecided(sale.status));
    }
    Ok(match action {
        SaleAction::Approve => SaleStatus::Approved,
        SaleAction::Reject => SaleStatus::Rejected,
        SaleAction::Cancel => {
            if sale.reporter != Some(actor) {
                return Err(TransitionError::NotReporter);
            }
            SaleStatus::Cancelled
        }
    })
}

/// How a status change moves a partner's period totals, in minor units of program currency.
/// "Provisional" totals count pending sales too (for `program.rank_pending`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TotalsChange {
    pub approved_minor: i64,
    pub approved_count: i64,
    pub provisional_minor: i64,
    pub pending_count: i64,
}

/// The totals change when a sale of `minor` moves from `from` (`None`: new) to `to`.
pub fn totals_change(from: Option<SaleStatus>, to: SaleStatus, minor: i64) -> TotalsChange {
    let weight = |s: Option<SaleStatus>| match s {
        Some(SaleStatus::Approved) => (1, 1, 0),
        Some(SaleStatus::Pending) => (0, 1, 1),
        _ => (0, 0, 0),
    };
    let (a0, p0, n0) = weight(from);
    let (a1, p1, n1) = weight(Some(to));
    TotalsChange {
        approved_minor: (a1 - a0) * minor,
        approved_count: a1 - a0,
        provisional_minor: (p1 - p0) * minor,
        pending_count: n1 - n0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::money::Currency;
    use rust_decimal::Decimal;

    fn sale(status: SaleStatus) -> Sale {
        let amount = Money::new(Decimal::new(1200, 0), Currency::CNY);
        Sale {
            id: SaleId(1),
            partner_id: PartnerId(1),
            amount,
            program_amount: amount,
            customer: "ACME".into(),
            category: None,
            quantity: None,
            evidence: None,
            note: None,
            source: SaleSource::Chat,
            status,
            reporter: Some(MemberId(7)),
            period: "2026-11".into(),
            reported_at: 0,
            decided_by: None,
            reason: None,
        }
    }

    #[test]
    fn pending_can_be_decided_once() {
        let s = sale(SaleStatus::Pending);
        assert_eq!(
            transition(&s, SaleAction::Approve, MemberId(1)),
            Ok(SaleStatus::Approved)
        );
        assert_eq!(
            transition(&s, SaleAction::Reject, MemberId(1)),
            Ok(SaleStatus::Rejected)
        );
        let done = sale(SaleStatus::Approved);
        assert_eq!(
            transition(&done, SaleAction::Reject, MemberId(1)),
            Err(TransitionError::AlreadyDecided(SaleStatus::Approved))
        );
    }

    #[test]
    fn only_reporter_cancels() {
        let s = sale(SaleStatus::Pending);
        assert_eq!(
            transition(&s, SaleAction::Cancel, MemberId(7)),
            Ok(SaleStatus::Cancelled)
        );
        assert_eq!(
            transition(&s, SaleAction::Cancel, MemberId(8)),
            Err(TransitionError::NotReporter)
        );
    }

    #[test]
    fn auto_approval_threshold() {
        let m = |v: i64| Money::new(Decimal::new(v, 0), Currency::CNY);
        let limit = Some(m(5000));
        assert_eq!(
            initial_status(SaleSource::Chat, false, m(4999), limit),
            SaleStatus::Approved
        );
        assert_eq!(
            initial_status(SaleSource::Chat, false, m(5000), limit),
            SaleStatus::Pending
        );
        assert_eq!(
            initial_status(SaleSource::Chat, false, m(1), None),
            SaleStatus::Pending
        );
        assert_eq!(
            initial_status(SaleSource::Import, true, m(99999), None),
            SaleStatus::Approved
        );
        assert_eq!(
            initial_status(SaleSource::Import, false, m(1), None),
            SaleStatus::Pending
        );
    }

    #[test]
    fn totals_follow_status() {
        let c = |a, ac, p, n| TotalsChange {
            approved_minor: a,
            approved_count: ac,
            provisional_minor: p,
            pending_count: n,
        };
        assert_eq!(
            totals_change(None, SaleStatus::Pending, 100),
            c(0, 0, 100, 1)
        );
        assert_eq!(
            totals_change(None, SaleStatus::Approved, 100),
            c(100, 1, 100, 0)
        );
        assert_eq!(
            totals_change(Some(SaleStatus::Pending), SaleStatus::Approved, 100),
            c(100, 1, 0, -1)
        );
        assert_eq!(
            totals_change(Some(SaleStatus::Pending), SaleStatus::Rejected, 100),
            c(0, 0, -100, -1)
        );
        assert_eq!(
            totals_change(Some(SaleStatus::Pending), SaleStatus::Cancelled, 100),
            c(0, 0, -100, -1)
        );
        assert_eq!(
            totals_change(Some(SaleStatus::Approved), SaleStatus::Rejected, 100),
            c(-100, -1, -100, 0)
        );
    }
}
