//! The audit log as members see it.
pub(crate) mod chat;
