//! Sales contests (issue 10): standings, boards, update posts with a chart, prizes, seasons.
pub mod chart;
pub mod chat;
pub mod service;
