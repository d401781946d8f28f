//! Repair and maintenance: the asset registry ([`asset`], [`files`], [`label`]), work orders
//! from every channel with SLA timers ([`workorder`], [`sla`]), technicians and dispatch through
//! `boh-dispatch` ([`technician`]), preventive and predictive maintenance ([`pm`],
//! [`predictive`]), the knowledge of past fixes ([`knowledge`]), KPIs ([`kpi`]) and demo data.
//!
//! Owned tables: `mnt_assets`, `mnt_meters` (`migrations/*/20261207000010_maintenance_assets.sql`);
//! `mnt_technicians`, `mnt_sla_policies`, `mnt_work_orders`, `mnt_wo_events`,
//! `mnt_wo_attachments`, `mnt_wo_checklist`, `mnt_wo_parts`, `mnt_intake_throttle`
//! (`20261208000001_maintenance_work_orders.sql`); `mnt_pm_schedules`, `mnt_meter_readings`,
//! `mnt_predictive_rules` (`20261208000002_maintenance_pm.sql`); `mnt_asset_files`
//! (`20261208000005_asset_files.sql`).
//!
//! Published events: `maintenance.asset.created|changed|retired`,
//! `maintenance.work_order.created|assigned|finished|rated`.
//!
//! Invariants:
//! - An asset belongs to one site; the actor needs `maintenance.asset.manage` there to create,
//!   change or retire it (or its meters and files), and `maintenance.asset.read` (or the manage
//!   permission) to see it. Outside that scope it does not exist (404), and so does a site, a
//!   parent or a supplier the actor may not see.
//! - A work order is seen with `maintenance.work_order.read|request|dispatch` at its site, or by
//!   the technician it is assigned to; anything else is 404. Its history (`mnt_wo_events`) is
//!   append-only; parts are issued only through the stock ledger, in the same transaction.
//! - `code` is unique per company; a parent is an active asset at the same site, never the
//!   asset itself or one of its descendants, and the hierarchy is at most [`asset::MAX_DEPTH`]
//!   levels deep (`depth` is kept for every asset and moved with its subtree).
//! - Validation names every bad field at once and writes nothing. Every write runs in one
//!   transaction with its audit row and event (and the API's idempotency key).
//! - `qr_token` is 128 random bits, unique, never derived from the id or the code, and never
//!   changes; status is `active` or `retired` and changes only through [`asset::retire`].
//! - Meter readings are exact integers in the meter's unit; money is minor units; dates are
//!   `YYYY-MM-DD`, instants UTC.
//!
//! Depends on `boh-inventory` (suppliers, items, on-hand stock, posting part issues),
//! `boh-workflow` (in-app notifications only) and `boh-dispatch` (the assignment solver).

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
