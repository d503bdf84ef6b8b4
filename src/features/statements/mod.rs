//! Statements: computed drafts, explanations, what-if, disputes, adjustments, closing a period and exports.
pub(crate) mod chat;
pub mod service;
