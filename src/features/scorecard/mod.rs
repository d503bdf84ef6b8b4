//! The partner scorecard and customer feedback.
pub(crate) mod chat;
pub mod service;
