//! The sales ledger: reporting, approval, cancellation, CSV import, and the
//! intake the import and the HTTP API share.
pub(crate) mod chat;
pub mod import;
pub mod intake;
pub mod ledger;
