//! Repair and maintenance, first slice: the asset registry. The equipment of every store,
//! warehouse and central kitchen (fryers, ovens, fridges, ... POS terminals) with make, model,
//! serial, supplier, install and warranty dates, criticality, a hierarchy below the site
//! (line → equipment → component), meters (running hours, cycles) and a QR label whose code
//! opens the public fault-report form of a later slice.
//!
//! Owned tables: `mnt_assets`, `mnt_meters` (see
//! `migrations/*/20261207000010_maintenance_assets.sql`); `mnt_pm_schedules`,
//! `mnt_meter_readings`, `mnt_predictive_rules` (`20261208000002_maintenance_pm.sql`: the
//! preventive maintenance schedules of [`pm`] and the readings and rules of [`predictive`]).
//!
//! Published events: `maintenance.asset.created`, `maintenance.asset.changed`,
//! `maintenance.asset.retired`.
//!
//! Invariants:
//! - An asset belongs to one site; the actor needs `maintenance.asset.manage` there to create,
//!   change or retire it (or its meters), and `maintenance.asset.read` (or the manage
//!   permission) to see it. Outside that scope it does not exist (404), and so does a site, a
//!   parent or a supplier the actor may not see.
//! - `code` is unique per company; a parent is an active asset at the same site, never the
//!   asset itself or one of its descendants, and the hierarchy is at most [`asset::MAX_DEPTH`]
//!   levels deep (`depth` is kept for every asset and moved with its subtree).
//! - Validation names every bad field at once and writes nothing. Every write runs in one
//!   transaction with its audit row and event (and the API's idempotency key).
//! - `qr_token` is 128 random bits, unique, never derived from the id or the code, and never
//!   changes; status is `active` or `retired` and changes only through [`asset::retire`].
//! - Meter readings are exact integers in the meter's unit; dates are `YYYY-MM-DD`, instants
//!   UTC.
//!
//! Depends on `boh-inventory` only to check that a supplier belongs to the asset's company
//! ([`boh_inventory::supplier::fetch_supplier`]) and for its code, date and paging helpers.

pub mod asset;
pub mod demo;
pub mod files;
pub mod knowledge;
pub mod kpi;
pub mod label;
pub mod pm;
pub mod predictive;
pub mod sla;
pub mod technician;
pub mod workorder;
