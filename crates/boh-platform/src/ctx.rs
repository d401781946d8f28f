//! The context of one write: who, from where, under which request id (for the audit row).

use boh_kernel::Actor;

#[derive(Debug, Clone)]
pub struct Ctx {
    pub actor: Actor,
    pub ip: Option<String>,
    pub request_id: Option<String>,
}

impl Ctx {
    pub fn new(actor: Actor) -> Ctx {
        Ctx {
            actor,
            ip: None,
            request_id: None,
        }
    }

    /// The context of the command line and internal jobs.
    pub fn system() -> Ctx {
        Ctx::new(Actor::system())
    }
}
