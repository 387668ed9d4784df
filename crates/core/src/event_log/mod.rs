//! Historical event messages: every event message of chosen models, once each, in order, within
//! a retention bound ([`EventLog`]), and the identity that tells a repeated delivery of one
//! event from two real events ([`EventIdentity`], [`Delivery`]).
//!
//! The order is by `executed_at` (Torii's block timestamp, in seconds), then by where in its
//! second the log learnt the event: a stream's events after those held of their second, in
//! the order they arrived; a walk of historical pages (Torii pages them newest first) places
//! a new row just before the row it showed previously when that one is of the same second,
//! else after every event held of its second — so a catch-up's missed events follow what was
//! held, and a cold sync keeps Torii's order. Torii sends nothing finer than the second: where
//! neither a stream nor a walk showed two events of one second together, their order is the
//! order the log learnt them.

mod identity;
mod log;

#[cfg(test)]
mod tests;

pub use identity::{Delivery, EventContent, EventIdentity};
pub use log::{
    EventLog, EventQuery, EventRetention, IncomingEvent, LogChange, LoggedEvent, Placement,
};
