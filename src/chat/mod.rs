//! The platform-neutral conversation layer: one grammar, one handler, replies as message keys.
pub mod command;
pub mod handler;
pub(crate) mod incentives;
pub mod registry;
pub mod reply;
