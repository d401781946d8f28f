-- Requisitions (store orders) and sending purchase orders to suppliers.
--
-- A requisition is what a store, warehouse or central kitchen asks for, made from its order
-- guide or by hand: one line per item with its source, either a supplier item (consolidated
-- into purchase orders per supplier, delivery day and receiving site) or the warehouse /
-- central kitchen that supplies the store (a transfer request in inventory). Quantities are
-- BIGINT micro-units: `qty` of the line's `unit`, `base_qty` of the item's base unit.
--
-- requisitions.status: draft, submitted, cancelled.
-- requisition_lines.status: draft (requisition not submitted), open (a supplier line waiting
-- to be consolidated), ordered (on purchase order `po_id`), transferred (on transfer
-- `transfer_id`), cancelled.

CREATE TABLE requisitions (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES org_nodes(id),
    number        TEXT NOT NULL UNIQUE,
    location_id   TEXT NOT NULL REFERENCES org_nodes(id),
    location_path TEXT NOT NULL,
    status        TEXT NOT NULL,
    origin        TEXT NOT NULL,
    note          TEXT,
    created_by    TEXT NOT NULL REFERENCES users(id),
    created_at    BIGINT NOT NULL,
    submitted_by  TEXT REFERENCES users(id),
    submitted_at  BIGINT,
    updated_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL
);
CREATE INDEX requisitions_path_id ON requisitions(location_path, id);
CREATE INDEX requisitions_location_id ON requisitions(location_id, status, id);

CREATE TABLE requisition_lines (
    requisition_id   TEXT NOT NULL REFERENCES requisitions(id),
    line_no          BIGINT NOT NULL,
    item_id          TEXT NOT NULL REFERENCES inv_items(id),
    source           TEXT NOT NULL,
    supplier_id      TEXT REFERENCES inv_suppliers(id),
    supplier_item_id TEXT REFERENCES inv_supplier_items(id),
    from_location_id TEXT REFERENCES org_nodes(id),
    unit             TEXT NOT NULL,
    qty              BIGINT NOT NULL,
    base_qty         BIGINT NOT NULL,
    suggested_qty    BIGINT,
    delivery_date    TEXT,
    status           TEXT NOT NULL,
    po_id            TEXT REFERENCES purchase_orders(id),
    transfer_id      TEXT REFERENCES inv_transfers(id),
    PRIMARY KEY (requisition_id, line_no)
);
-- Consolidation reads the open supplier lines; the order guide the open ones of a site.
CREATE INDEX requisition_lines_open ON requisition_lines(status, supplier_id, delivery_date);
CREATE INDEX requisition_lines_po ON requisition_lines(po_id);
CREATE INDEX requisition_lines_transfer ON requisition_lines(transfer_id);

-- Every time an approved order was e-mailed to its supplier (with the PDF and CSV attached):
-- `seq` counts the sends of one order; `instance_id` is the approval that sent it
-- automatically (NULL for a "send again"), so an approval sends at most once.
CREATE TABLE po_sends (
    id          TEXT PRIMARY KEY,
    po_id       TEXT NOT NULL REFERENCES purchase_orders(id),
    seq         BIGINT NOT NULL,
    instance_id TEXT,
    to_address  TEXT NOT NULL,
    outbox_id   TEXT REFERENCES mail_outbox(id),
    sent_by     TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    UNIQUE (po_id, seq),
    UNIQUE (po_id, instance_id)
);

-- Files attached to an outgoing message (boh_platform::mail::queue_message).
CREATE TABLE mail_attachments (
    outbox_id    TEXT NOT NULL REFERENCES mail_outbox(id),
    seq          BIGINT NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL,
    PRIMARY KEY (outbox_id, seq)
);
