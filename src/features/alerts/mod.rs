//! Data-driven alerts (seed 7.1): the managers' weekly digest (partners whose sales slipped
//! against their own history, partners close to a tier or bonus, old pending sales, unanswered
//! disputes) and weekly nudges to partners who are close to a goal, which they can mute.
pub(crate) mod chat;
pub mod service;
