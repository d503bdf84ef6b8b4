//! Typed ids, so a sale id can never be passed where a partner id is expected.

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

typed_id!(
    /// A reselling organisation or person.
    PartnerId
);
typed_id!(
    /// One chat account (Telegram, Discord or console user).
    MemberId
);
typed_id!(
    /// One person behind one or more chat accounts joined with a personal `/link` code.
    PersonId
);
typed_id!(
    /// A reported or imported sale.
    SaleId
);
typed_id!(
    /// An entry of the audit log.
    AuditId
);
typed_id!(
    /// A partner's dispute about a statement line.
    DisputeId
);
typed_id!(
    /// One `/allocate` run: a budget split over the partners.
    AllocationRunId
);
