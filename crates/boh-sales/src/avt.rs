//! Actual vs theoretical usage (AvT) for a store and period.

use boh_kernel::Actor;
use boh_platform::{Platform, Result};
use serde::Serialize;

/// The headline of a store's AvT over a period (for dashboards).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct VarianceSummary {
    pub store_id: String,
    pub from: String,
    pub to: String,
    /// Actual − theoretical usage value, minor units (positive: more used than sold).
    pub variance_value: i64,
    /// Theoretical usage value, minor units.
    pub theoretical_value: i64,
    /// Net sales of the period, minor units.
    pub sales_net: i64,
    /// Variance as basis points of sales (1 bp = 0.01 %).
    pub variance_bp_of_sales: Option<i64>,
}

/// The AvT headline of one store over `from..=to`; `None` when the period has no count to
/// measure actual usage against.
pub async fn variance_summary(
    _p: &Platform,
    _actor: &Actor,
    _store_id: &str,
    _from: &str,
    _to: &str,
) -> Result<Option<VarianceSummary>> {
    Ok(None)
}
