-- The valuation report as of a date subtracts the movements after it: by company and date.
CREATE INDEX inv_movements_company_date ON inv_movements(company_id, business_date);
