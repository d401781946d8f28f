//! Pure shared types for every BOH crate: typed ids, instants, exact quantities and money, the permission catalogue, and the
//! [`Actor`] / [`Scope`] pair that the one permission model is built on.
//!
//! Architecture invariant: no IO, no database, no HTTP. Everything here is plain data and can be
//! unit-tested without a runtime.

pub mod actor;
pub mod id;
pub mod perm;
pub mod qty;
pub mod time;

pub use actor::{Actor, ActorGrant, AuthVia, Scope};
pub use id::new_id;
pub use qty::Qty;
pub use time::{Instant, now};
