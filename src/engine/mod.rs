//! The incentive engine: pure types and rules. No I/O, no clock, no async — the service layer
//! loads facts, passes them in with an explicit `now`, and stores what comes out.
pub mod alerts;
pub mod allocation;
pub mod amount;
pub mod audit;
pub mod badges;
pub mod broadcast;
pub mod contest;
pub mod customer;
pub mod deal;
pub mod ids;
pub mod invite;
pub mod money;
pub mod partner;
pub mod period;
pub mod plan;
pub mod points;
pub mod ranking;
pub mod sale;
pub mod schedule;
pub mod statement;
pub mod tier;
pub mod training;
