-- Transfers and counts, beyond the columns the inventory migration created:
-- transfers get their cancellation and the documents of their discrepancies; each received
-- line may carry discrepancy rows (short, over, damaged) with quantity, value and reason.
-- Counts get the time of their snapshot, the storage areas they cover, lines grouped by
-- storage area, and every entry a counter made (a line's counted quantity is the result of
-- its entries; at posting, the on-hand it was compared with and the variance posted).

ALTER TABLE inv_transfers ADD COLUMN cancelled_by TEXT;
ALTER TABLE inv_transfers ADD COLUMN cancelled_at BIGINT;
ALTER TABLE inv_transfers ADD COLUMN cancel_reason TEXT;

CREATE TABLE inv_transfer_discrepancies (
    transfer_id TEXT NOT NULL REFERENCES inv_transfers(id),
    line_no     BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    qty         BIGINT NOT NULL,
    value       BIGINT NOT NULL,
    reason      TEXT,
    note        TEXT,
    PRIMARY KEY (transfer_id, line_no, kind)
);

ALTER TABLE inv_counts ADD COLUMN snapshot_at BIGINT;
ALTER TABLE inv_counts ADD COLUMN area_ids TEXT;
ALTER TABLE inv_counts ADD COLUMN submitted_by TEXT;
ALTER TABLE inv_counts ADD COLUMN submitted_at BIGINT;
ALTER TABLE inv_count_lines ADD COLUMN storage_area_id TEXT;
ALTER TABLE inv_count_lines ADD COLUMN entries BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inv_count_lines ADD COLUMN onhand_at_post BIGINT;
ALTER TABLE inv_count_lines ADD COLUMN variance_qty BIGINT;
ALTER TABLE inv_count_lines ADD COLUMN variance_value BIGINT;

CREATE TABLE inv_count_entries (
    id           TEXT PRIMARY KEY,
    count_id     TEXT NOT NULL REFERENCES inv_counts(id),
    item_id      TEXT NOT NULL,
    lot_id       TEXT NOT NULL,
    mode         TEXT NOT NULL,
    qty          BIGINT NOT NULL,
    entered_qty  BIGINT NOT NULL,
    entered_unit TEXT NOT NULL,
    counted_by   TEXT NOT NULL,
    counted_at   BIGINT NOT NULL
);
CREATE INDEX inv_count_entries_count ON inv_count_entries(count_id, item_id, lot_id);
