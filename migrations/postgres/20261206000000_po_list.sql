-- The order list filtered by supplier (and status) counts within a company from this index
-- alone, without reading each order.
DROP INDEX purchase_orders_supplier_id;
CREATE INDEX purchase_orders_supplier_id ON purchase_orders(supplier_id, status, id, company_id);
-- A delivery window: its orders' ids (to sort newest first) and their scope columns, from
-- the index alone.
CREATE INDEX purchase_orders_delivery_id ON purchase_orders(delivery_date, id, company_id, location_path);
