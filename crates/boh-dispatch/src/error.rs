//! Why a batch cannot be dispatched or a plan does not check.

use crate::plan::Rejection;

/// An input, pin or plan the crate refuses. [`DispatchError::code`] gives a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    /// Two technicians share an id.
    #[error("the technician id \"{0}\" appears twice")]
    DuplicateTechnician(String),
    /// Two jobs share an id.
    #[error("the job id \"{0}\" appears twice")]
    DuplicateJob(String),
    /// A weight is negative or above [`crate::MAX_WEIGHT`].
    #[error("the weight {name} is {value}; it must be between 0 and {max}", max = crate::MAX_WEIGHT)]
    WeightOutOfRange {
        /// The weight's field name.
        name: &'static str,
        /// Its value.
        value: i64,
    },
    /// A first-time-fix record claims more fixes than jobs.
    #[error("technician \"{technician}\" has more first-time fixes than jobs in \"{category}\"")]
    InvalidHistory {
        /// The technician.
        technician: String,
        /// The category.
        category: String,
    },
    /// A pin or plan names a job that is not in the batch.
    #[error("there is no job \"{0}\" in this batch")]
    UnknownJob(String),
    /// A pin or plan names a technician that is not in the batch.
    #[error("there is no technician \"{0}\" in this batch")]
    UnknownTechnician(String),
    /// The same job is pinned twice.
    #[error("the job \"{0}\" is pinned more than once")]
    DuplicatePin(String),
    /// A pinned technician may not take the job.
    #[error("job \"{job}\" cannot be pinned to technician \"{technician}\": {reason}")]
    PinInfeasible {
        /// The job.
        job: String,
        /// The technician.
        technician: String,
        /// The first hard constraint the pair fails.
        reason: Rejection,
    },
    /// A plan does not mention a job of the batch.
    #[error("the plan says nothing about job \"{0}\"")]
    PlanMissingJob(String),
    /// A plan mentions a job more than once.
    #[error("the plan mentions job \"{0}\" more than once")]
    PlanRepeatedJob(String),
    /// A plan gives a job to a technician who may not take it.
    #[error(
        "the plan gives job \"{job}\" to technician \"{technician}\", who may not take it: {reason}"
    )]
    PlanInfeasible {
        /// The job.
        job: String,
        /// The technician.
        technician: String,
        /// The first hard constraint the pair fails.
        reason: Rejection,
    },
    /// A plan gives a technician more jobs than its capacity.
    #[error("the plan gives technician \"{technician}\" {jobs} jobs; the capacity is {capacity}")]
    PlanOverCapacity {
        /// The technician.
        technician: String,
        /// Jobs the plan gives them.
        jobs: usize,
        /// Their capacity.
        capacity: u32,
    },
    /// A plan's stated cost is not the cost of its assignments.
    #[error("the plan states a total cost of {stated}, its assignments cost {actual}")]
    PlanCostMismatch {
        /// The plan's total.
        stated: i64,
        /// The recomputed total.
        actual: i64,
    },
}

impl DispatchError {
    /// A stable code clients may branch on.
    pub fn code(&self) -> &'static str {
        match self {
            DispatchError::DuplicateTechnician(_) => "duplicate_technician",
            DispatchError::DuplicateJob(_) => "duplicate_job",
            DispatchError::WeightOutOfRange { .. } => "weight_out_of_range",
            DispatchError::InvalidHistory { .. } => "invalid_history",
            DispatchError::UnknownJob(_) => "unknown_job",
            DispatchError::UnknownTechnician(_) => "unknown_technician",
            DispatchError::DuplicatePin(_) => "duplicate_pin",
            DispatchError::PinInfeasible { .. } => "pin_infeasible",
            DispatchError::PlanMissingJob(_) => "plan_missing_job",
            DispatchError::PlanRepeatedJob(_) => "plan_repeated_job",
            DispatchError::PlanInfeasible { .. } => "plan_infeasible",
            DispatchError::PlanOverCapacity { .. } => "plan_over_capacity",
            DispatchError::PlanCostMismatch { .. } => "plan_cost_mismatch",
        }
    }
}
