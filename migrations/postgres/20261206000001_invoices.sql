-- Supplier invoices matched three ways (order line × received × invoiced), the tolerances of
-- that match, payments, returns to the supplier and the credit notes they produce.
-- Quantities are BIGINT micro-units of the order line's pack unit; money BIGINT minor units
-- of the supplier's currency; instants microseconds since the epoch.

-- Match tolerances: one row per company (the default), per supplier or per category;
-- `scope_key` is 'company', 'supplier:<id>' or 'category:<id>'.
CREATE TABLE po_match_tolerances (
    id              TEXT PRIMARY KEY,
    company_id      TEXT NOT NULL REFERENCES org_nodes(id),
    scope_key       TEXT NOT NULL,
    supplier_id     TEXT REFERENCES inv_suppliers(id),
    category_id     TEXT REFERENCES inv_categories(id),
    -- Invoice price above the order price: allowed up to this share (basis points) or this
    -- amount per pack, whichever is larger.
    price_pct_bp    BIGINT NOT NULL,
    price_abs_minor BIGINT NOT NULL,
    -- Invoiced above received: allowed up to this share (basis points) or this quantity.
    qty_pct_bp      BIGINT NOT NULL,
    qty_abs         BIGINT NOT NULL,
    note            TEXT,
    updated_by      TEXT NOT NULL REFERENCES users(id),
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    version         BIGINT NOT NULL,
    UNIQUE (company_id, scope_key)
);

-- An invoice of a supplier against one purchase order. `status`: matched | exception |
-- pending_approval | approved | partially_paid | paid | rejected. `exceptions` counts the
-- blocking findings of the match (price, quantity, missing_receipt, duplicate_invoice).
CREATE TABLE po_invoices (
    id                 TEXT PRIMARY KEY,
    company_id         TEXT NOT NULL REFERENCES org_nodes(id),
    supplier_id        TEXT NOT NULL REFERENCES inv_suppliers(id),
    po_id              TEXT NOT NULL REFERENCES purchase_orders(id),
    location_id        TEXT NOT NULL REFERENCES org_nodes(id),
    location_path      TEXT NOT NULL,
    invoice_no         TEXT NOT NULL,
    invoice_no_key     TEXT NOT NULL,
    invoice_date       TEXT NOT NULL,
    due_date           TEXT NOT NULL,
    currency           TEXT NOT NULL,
    net_minor          BIGINT NOT NULL,
    tax_minor          BIGINT NOT NULL,
    gross_minor        BIGINT NOT NULL,
    credited_minor     BIGINT NOT NULL,
    paid_minor         BIGINT NOT NULL,
    status             TEXT NOT NULL,
    exceptions         BIGINT NOT NULL,
    source             TEXT NOT NULL,
    invoice_key        TEXT,
    input_hash         TEXT NOT NULL,
    note               TEXT,
    resolution         TEXT,
    resolution_comment TEXT,
    resolved_by        TEXT REFERENCES users(id),
    resolved_at        BIGINT,
    created_by         TEXT NOT NULL REFERENCES users(id),
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    submitted_at       BIGINT,
    approved_at        BIGINT,
    version            BIGINT NOT NULL,
    UNIQUE (supplier_id, invoice_key)
);
CREATE INDEX po_invoices_po ON po_invoices(po_id, id);
CREATE INDEX po_invoices_number ON po_invoices(supplier_id, invoice_no_key);
CREATE INDEX po_invoices_path_id ON po_invoices(location_path, id);
CREATE INDEX po_invoices_status_id ON po_invoices(status, id);
CREATE INDEX po_invoices_status_path ON po_invoices(status, location_path);

-- The first live invoice of each supplier invoice number: a second one finds the row taken
-- and is a duplicate (on PostgreSQL a concurrent second insert waits for the first). The row
-- is claimed before the invoice row is written, so `invoice_id` has no foreign key.
CREATE TABLE po_invoice_numbers (
    supplier_id    TEXT NOT NULL REFERENCES inv_suppliers(id),
    invoice_no_key TEXT NOT NULL,
    invoice_id     TEXT NOT NULL,
    PRIMARY KEY (supplier_id, invoice_no_key)
);

-- Invoice lines with what the match saw: ordered, received, invoiced on earlier invoices,
-- the order price and the supplier's list price in force on the invoice date.
CREATE TABLE po_invoice_lines (
    invoice_id       TEXT NOT NULL REFERENCES po_invoices(id),
    line_no          BIGINT NOT NULL,
    po_line_no       BIGINT NOT NULL,
    item_id          TEXT NOT NULL REFERENCES inv_items(id),
    qty              BIGINT NOT NULL,
    unit_price_minor BIGINT NOT NULL,
    net_minor        BIGINT NOT NULL,
    tax_minor        BIGINT NOT NULL,
    ordered_qty      BIGINT NOT NULL,
    received_qty     BIGINT NOT NULL,
    invoiced_before  BIGINT NOT NULL,
    po_price_minor   BIGINT NOT NULL,
    list_price_minor BIGINT,
    status           TEXT NOT NULL,
    PRIMARY KEY (invoice_id, line_no)
);
CREATE INDEX po_invoice_lines_po_line ON po_invoice_lines(po_line_no, invoice_id);

-- Findings of the match; `line_no` 0 is the invoice as a whole. Non-blocking findings
-- (price_list_variance) are shown but do not stop payment.
CREATE TABLE po_invoice_findings (
    invoice_id TEXT NOT NULL REFERENCES po_invoices(id),
    seq        BIGINT NOT NULL,
    line_no    BIGINT NOT NULL,
    reason     TEXT NOT NULL,
    blocking   BIGINT NOT NULL,
    message    TEXT NOT NULL,
    PRIMARY KEY (invoice_id, seq)
);
CREATE INDEX po_invoice_findings_reason ON po_invoice_findings(reason, invoice_id);

CREATE TABLE po_payments (
    id           TEXT PRIMARY KEY,
    invoice_id   TEXT NOT NULL REFERENCES po_invoices(id),
    amount_minor BIGINT NOT NULL,
    method       TEXT NOT NULL,
    reference    TEXT,
    paid_on      TEXT NOT NULL,
    payment_key  TEXT,
    note         TEXT,
    recorded_by  TEXT NOT NULL REFERENCES users(id),
    recorded_at  BIGINT NOT NULL,
    UNIQUE (invoice_id, payment_key)
);
CREATE INDEX po_payments_invoice ON po_payments(invoice_id, recorded_at);

-- Goods sent back to the supplier against a receipt; the stock leaves in a `return`
-- document.
CREATE TABLE po_returns (
    id            TEXT PRIMARY KEY,
    receipt_id    TEXT NOT NULL REFERENCES po_receipts(id),
    po_id         TEXT NOT NULL REFERENCES purchase_orders(id),
    supplier_id   TEXT NOT NULL REFERENCES inv_suppliers(id),
    location_id   TEXT NOT NULL REFERENCES org_nodes(id),
    location_path TEXT NOT NULL,
    doc_id        TEXT REFERENCES inv_docs(id),
    return_key    TEXT,
    reason        TEXT NOT NULL,
    note          TEXT,
    value_minor   BIGINT NOT NULL,
    created_by    TEXT NOT NULL REFERENCES users(id),
    created_at    BIGINT NOT NULL,
    UNIQUE (receipt_id, return_key)
);
CREATE INDEX po_returns_po ON po_returns(po_id, created_at);

CREATE TABLE po_return_lines (
    return_id   TEXT NOT NULL REFERENCES po_returns(id),
    po_line_no  BIGINT NOT NULL,
    item_id     TEXT NOT NULL REFERENCES inv_items(id),
    qty         BIGINT NOT NULL,
    reason      TEXT,
    value_minor BIGINT NOT NULL,
    PRIMARY KEY (return_id, po_line_no)
);

ALTER TABLE po_receipt_lines ADD COLUMN qty_returned BIGINT NOT NULL DEFAULT 0;

-- What the supplier owes back; applied to invoices of the same supplier. `status`: open |
-- applied (nothing left).
CREATE TABLE po_credit_notes (
    id            TEXT PRIMARY KEY,
    company_id    TEXT NOT NULL REFERENCES org_nodes(id),
    number        TEXT NOT NULL UNIQUE,
    supplier_id   TEXT NOT NULL REFERENCES inv_suppliers(id),
    po_id         TEXT NOT NULL REFERENCES purchase_orders(id),
    return_id     TEXT UNIQUE REFERENCES po_returns(id),
    location_id   TEXT NOT NULL REFERENCES org_nodes(id),
    location_path TEXT NOT NULL,
    currency      TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL,
    applied_minor BIGINT NOT NULL,
    status        TEXT NOT NULL,
    created_by    TEXT NOT NULL REFERENCES users(id),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX po_credit_notes_supplier ON po_credit_notes(supplier_id, status, id);
CREATE INDEX po_credit_notes_path_id ON po_credit_notes(location_path, id);

CREATE TABLE po_credit_applications (
    id             TEXT PRIMARY KEY,
    credit_note_id TEXT NOT NULL REFERENCES po_credit_notes(id),
    invoice_id     TEXT NOT NULL REFERENCES po_invoices(id),
    amount_minor   BIGINT NOT NULL,
    applied_by     TEXT NOT NULL REFERENCES users(id),
    applied_at     BIGINT NOT NULL
);
CREATE INDEX po_credit_applications_invoice ON po_credit_applications(invoice_id, applied_at);
CREATE INDEX po_credit_applications_note ON po_credit_applications(credit_note_id, applied_at);
