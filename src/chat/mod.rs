//! The platform-neutral conversation layer: one grammar, one handler, replies as message keys.
pub mod command;
pub mod console;
pub mod handler;
mod incentives;
pub mod reply;
