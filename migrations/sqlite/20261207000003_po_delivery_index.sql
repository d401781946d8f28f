-- A delivery window is read from one index that holds every column the order list filters
-- on, so a window with a supplier, a site or a status is still answered from the index alone.
-- The older (supplier_id, delivery_date) index goes: purchase_orders_supplier_id serves
-- lookups by supplier, and with value statistics (SQLite's STAT4) the planner preferred a
-- skip-scan of it, reading every order of a window from the table.
DROP INDEX purchase_orders_supplier;
DROP INDEX purchase_orders_delivery_id;
CREATE INDEX purchase_orders_delivery_id
    ON purchase_orders(delivery_date, id, company_id, location_path, status, supplier_id, location_id);
