//! The sales ledger: reporting, approval, cancellation, CSV import.
pub(crate) mod chat;
pub mod import;
pub mod ledger;
