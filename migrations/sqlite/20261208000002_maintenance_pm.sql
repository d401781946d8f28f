-- Maintenance: preventive maintenance schedules, meter readings and predictive rules.
--
-- mnt_pm_schedules: a schedule on an asset (same site, company and path as the asset). trigger:
-- calendar (every `interval_n` `interval_unit` = day, week, month), meter (every `meter_every`
-- units of the asset's meter `meter_code`) or either (whichever comes first). mode: fixed (due
-- dates counted from `start_date`, due readings from `start_value`) or floating (counted from
-- the last completion of a work order the schedule generated). A work order is generated
-- `lead_days` before the due date or `lead_units` before the due reading. `next_due_date`
-- (`YYYY-MM-DD`) and `next_due_value` are the next due; `cycle` counts fixed calendar periods
-- from the start; `open_work_order_id` is the last generated work order until it is finished.
-- checklist is JSON: [{"label": "...", "required": true}].
--
-- mnt_meter_readings is append-only: one row per reading (exact integer in the meter's unit,
-- `read_at` microseconds UTC). `meter_id` is not a foreign key: a meter may be removed, its
-- readings stay.
--
-- mnt_predictive_rules: a rule on an asset's meter. kind: threshold (value above / below
-- `limit_value`), rate (rise per day over `window_days` above `limit_value`), drift (the
-- reading is more than `sigmas` standard deviations from the mean of the previous `sample_n`
-- readings). When one fires a work order (source predictive) is opened on the asset.

CREATE TABLE mnt_pm_schedules (
    id                 TEXT PRIMARY KEY,
    company_id         TEXT NOT NULL REFERENCES org_nodes(id),
    location_id        TEXT NOT NULL REFERENCES org_nodes(id),
    location_path      TEXT NOT NULL,
    asset_id           TEXT NOT NULL REFERENCES mnt_assets(id),
    title              TEXT NOT NULL,
    priority           TEXT NOT NULL,
    checklist          TEXT NOT NULL,
    signature_required BIGINT NOT NULL,
    trigger_kind       TEXT NOT NULL,
    mode               TEXT NOT NULL,
    interval_n         BIGINT,
    interval_unit      TEXT,
    meter_code         TEXT,
    meter_every        BIGINT,
    lead_days          BIGINT NOT NULL,
    lead_units         BIGINT NOT NULL,
    start_date         TEXT NOT NULL,
    start_value        BIGINT,
    cycle              BIGINT NOT NULL,
    next_due_date      TEXT,
    next_due_value     BIGINT,
    open_work_order_id TEXT REFERENCES mnt_work_orders(id),
    last_generated_at  BIGINT,
    last_done_at       BIGINT,
    last_done_value    BIGINT,
    active             BIGINT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    version            BIGINT NOT NULL
);
CREATE INDEX mnt_pm_path ON mnt_pm_schedules(location_path, created_at);
CREATE INDEX mnt_pm_asset ON mnt_pm_schedules(asset_id, active);
CREATE INDEX mnt_pm_active ON mnt_pm_schedules(active, next_due_date);

CREATE TABLE mnt_meter_readings (
    id          TEXT PRIMARY KEY,
    asset_id    TEXT NOT NULL REFERENCES mnt_assets(id),
    meter_id    TEXT NOT NULL,
    meter_code  TEXT NOT NULL,
    value       BIGINT NOT NULL,
    read_at     BIGINT NOT NULL,
    created_by  TEXT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX mnt_readings_meter ON mnt_meter_readings(asset_id, meter_code, read_at);

CREATE TABLE mnt_predictive_rules (
    id                  TEXT PRIMARY KEY,
    company_id          TEXT NOT NULL REFERENCES org_nodes(id),
    location_id         TEXT NOT NULL REFERENCES org_nodes(id),
    location_path       TEXT NOT NULL,
    asset_id            TEXT NOT NULL REFERENCES mnt_assets(id),
    meter_code          TEXT NOT NULL,
    kind                TEXT NOT NULL,
    direction           TEXT,
    limit_value         BIGINT,
    window_days         BIGINT,
    sample_n            BIGINT,
    sigmas              BIGINT,
    title               TEXT,
    priority            TEXT NOT NULL,
    fault_code          TEXT NOT NULL,
    last_fired_at       BIGINT,
    last_work_order_id  TEXT REFERENCES mnt_work_orders(id),
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX mnt_rules_asset ON mnt_predictive_rules(asset_id, meter_code);
CREATE INDEX mnt_rules_path ON mnt_predictive_rules(location_path, created_at);
