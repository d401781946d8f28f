-- Goods received against purchase orders. A receipt is one delivery (partial deliveries are
-- several receipts); each line says what arrived for an order line: accepted quantity (posted
-- to the stock ledger as a `receipt` document), damaged quantity (refused at the door, not in
-- stock), a substitute item if the supplier sent another one, the lot and expiry, and the
-- temperature at receipt for chilled and frozen goods. Quantities are micro-units of the
-- order line's pack unit; money is minor units.

CREATE TABLE po_receipts (
    id            TEXT PRIMARY KEY,
    po_id         TEXT NOT NULL REFERENCES purchase_orders(id),
    location_id   TEXT NOT NULL REFERENCES org_nodes(id),
    location_path TEXT NOT NULL,
    doc_id        TEXT REFERENCES inv_docs(id),
    receipt_key   TEXT,
    note          TEXT,
    value_minor   BIGINT NOT NULL,
    received_by   TEXT NOT NULL REFERENCES users(id),
    received_at   BIGINT NOT NULL,
    UNIQUE (po_id, receipt_key)
);
CREATE INDEX po_receipts_po ON po_receipts(po_id, received_at);

CREATE TABLE po_receipt_lines (
    receipt_id     TEXT NOT NULL REFERENCES po_receipts(id),
    po_line_no     BIGINT NOT NULL,
    item_id        TEXT NOT NULL REFERENCES inv_items(id),
    substituted    BIGINT NOT NULL,
    qty_accepted   BIGINT NOT NULL,
    qty_damaged    BIGINT NOT NULL,
    lot_code       TEXT,
    expiry_date    TEXT,
    temperature_dc BIGINT,
    temperature_ok BIGINT,
    value_minor    BIGINT NOT NULL,
    PRIMARY KEY (receipt_id, po_line_no)
);

ALTER TABLE purchase_order_lines ADD COLUMN qty_received BIGINT NOT NULL DEFAULT 0;

-- The order list's newest-first pages (ids are UUIDv7, so id order is creation order), by
-- status, by site (a store manager's scope) and by supplier.
CREATE INDEX purchase_orders_status_id ON purchase_orders(status, id);
-- Counts of a status within a scope read only this index.
CREATE INDEX purchase_orders_status_path ON purchase_orders(status, location_path);
CREATE INDEX purchase_orders_path_id ON purchase_orders(location_path, id);
CREATE INDEX purchase_orders_location_id ON purchase_orders(location_id, status, id);
CREATE INDEX purchase_orders_supplier_id ON purchase_orders(supplier_id, status, id);
