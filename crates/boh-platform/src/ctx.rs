//! The context of one write: who, from where, under which request id (for the audit row), and
//! the idempotency key the client sent (recorded in the write's own transaction).

use boh_kernel::Actor;

#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// Set by the API edge when the request carries an `Idempotency-Key`; the use case calls
    /// [`crate::idem::record`] inside its transaction, so the key and the effect commit together.
    pub idem: Option<crate::idem::IdemKey>,
}

impl Ctx {
    pub fn new(actor: Actor) -> Ctx {
        Ctx {
            actor,
            ip: None,
            request_id: None,
            idem: None,
        }
    }

    /// The context of the command line and internal jobs.
    pub fn system() -> Ctx {
        Ctx::new(Actor::system())
    }
}
