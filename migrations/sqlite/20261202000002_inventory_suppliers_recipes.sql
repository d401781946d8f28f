-- Suppliers and recipes: a price records the size of its pack (micro base units per pack unit)
-- as the item defined it when the price was entered, so the price per base unit of an old
-- price stays what it was even if the item's pack units are redefined later. Rows recorded
-- before this column existed carry 0 and fall back to the item's current conversion.
ALTER TABLE inv_supplier_prices ADD COLUMN pack_factor BIGINT NOT NULL DEFAULT 0;

-- Supplier lists by company and state.
CREATE INDEX inv_suppliers_company_active ON inv_suppliers(company_id, active, code);

-- Supplier items by supplier (list and price pages).
CREATE INDEX inv_supplier_items_supplier ON inv_supplier_items(supplier_id);

-- Recipes of a company (the recipe book loads the versions in force per company).
CREATE INDEX inv_recipes_company ON inv_recipes(company_id);
