//! The platform-neutral conversation layer: one grammar, one handler, replies as message keys.
pub(crate) mod args;
pub mod batch;
pub mod command;
pub mod handler;
pub mod registry;
pub mod reply;
