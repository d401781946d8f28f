//! Integration tests of the HTTP API and the platform behind it. Every test runs twice, on
//! SQLite and on PostgreSQL (`BOH_TEST_DATABASE_URL`); see `common/mod.rs`.

#[macro_use]
mod common;

#[path = "api/audit.rs"]
mod audit;
#[path = "api/contract.rs"]
mod contract;
#[path = "api/counts.rs"]
mod counts;
#[path = "api/demo.rs"]
mod demo;
#[path = "api/envelope.rs"]
mod envelope;
#[path = "api/headers.rs"]
mod headers;
#[path = "api/health.rs"]
mod health;
#[path = "api/idempotency.rs"]
mod idempotency;
#[path = "api/imports.rs"]
mod imports;
#[path = "api/instances.rs"]
mod instances;
#[path = "api/inventory.rs"]
mod inventory;
#[path = "api/inventory_imports.rs"]
mod inventory_imports;
#[path = "api/invoices.rs"]
mod invoices;
#[path = "api/jobs.rs"]
mod jobs;
#[path = "api/limits.rs"]
mod limits;
#[path = "api/mail.rs"]
mod mail;
#[path = "api/maintenance.rs"]
mod maintenance;
#[path = "api/maintenance_kpi.rs"]
mod maintenance_kpi;
#[path = "api/maintenance_pm.rs"]
mod maintenance_pm;
#[path = "api/maintenance_wo.rs"]
mod maintenance_wo;
#[path = "api/migrations.rs"]
mod migrations;
#[path = "api/receipts.rs"]
mod receipts;
#[path = "api/recipes.rs"]
mod recipes;
#[path = "api/requisitions.rs"]
mod requisitions;
#[path = "api/revocation.rs"]
mod revocation;
#[path = "api/sales.rs"]
mod sales;
#[path = "api/sales_anomalies.rs"]
mod sales_anomalies;
#[path = "api/sales_avt.rs"]
mod sales_avt;
#[path = "api/sales_dashboard.rs"]
mod sales_dashboard;
#[path = "api/sessions.rs"]
mod sessions;
#[path = "api/suppliers.rs"]
mod suppliers;
#[path = "api/throttle.rs"]
mod throttle;
#[path = "api/transfers.rs"]
mod transfers;
#[path = "api/validation.rs"]
mod validation;
#[path = "api/webhooks.rs"]
mod webhooks;
#[path = "api/workflow.rs"]
mod workflow;
