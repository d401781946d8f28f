//! Supplier invoices from a CSV (or XLSX) file: one row per invoice line, any number of
//! invoices. The invoice's own fields (`invoice_date`, `due_date`, `currency`, `supplier`)
//! come from its first row; later rows of the same `invoice_no` may leave them empty or
//! repeat them. Every row of an invoice names the same order (`po_number`). Money is in
//! currency units (`150.00`), quantities in the order line's pack unit.
//!
//! The file is all or nothing: every problem of every row is reported (`row N, column X`)
//! and nothing is written, or every invoice is entered and matched in one transaction. Each
//! invoice's key is the SHA-256 of the file and its number, so the same file again enters
//! nothing and answers the invoices of the first time.

use std::collections::BTreeMap;

use boh_db::Row as _;
use boh_kernel::perm;
use boh_platform::sheet::{self, Limits, Source, Table};
use boh_platform::{Ctx, FieldError, Platform, PlatformError, Result, tx};
use serde::Serialize;

use crate::invoice::{self, Invoice, InvoiceInput, InvoiceLineInput};

/// Most rows of one file.
pub const MAX_ROWS: usize = 10_000;
/// Most invoices in one file.
pub const MAX_INVOICES: usize = 200;

/// The columns, in template order: (name, required, English, Chinese, example).
pub const COLUMNS: &[(&str, bool, &str, &str, &str)] = &[
    (
        "invoice_no",
        true,
        "The supplier's invoice number; every row of an invoice repeats it.",
        "供应商发票号；同一发票的每一行都填写。",
        "INV-2026-0042",
    ),
    (
        "po_number",
        true,
        "The purchase order invoiced (one order per invoice).",
        "所开票的采购订单号（每张发票一张订单）。",
        "PO-20261206-0A1B2C3D",
    ),
    (
        "supplier",
        false,
        "The supplier's code; default the order's supplier.",
        "供应商编码；默认为订单的供应商。",
        "MILL",
    ),
    (
        "invoice_date",
        true,
        "YYYY-MM-DD, on the invoice's first row.",
        "YYYY-MM-DD，填在发票的第一行。",
        "2026-12-06",
    ),
    (
        "due_date",
        false,
        "YYYY-MM-DD; default 30 days after the invoice date.",
        "YYYY-MM-DD；默认为发票日期后 30 天。",
        "2027-01-05",
    ),
    (
        "currency",
        false,
        "ISO 4217; must be the order's (the default).",
        "ISO 4217 币种；须与订单一致（默认）。",
        "CNY",
    ),
    (
        "line",
        false,
        "The order line number; or give item_code or supplier_sku.",
        "订单行号；也可填写 item_code 或 supplier_sku。",
        "1",
    ),
    (
        "item_code",
        false,
        "Our item code (when the item is on one line of the order).",
        "我方物料编码（该物料在订单中只有一行时）。",
        "FLOUR-25",
    ),
    (
        "supplier_sku",
        false,
        "The supplier's code of the item.",
        "供应商的商品编码。",
        "M-100",
    ),
    (
        "qty",
        true,
        "Quantity invoiced, in the order line's unit.",
        "开票数量，按订单行的单位。",
        "4",
    ),
    (
        "unit_price",
        true,
        "Price of one unit before tax, e.g. 150.00.",
        "不含税单价，如 150.00。",
        "150.00",
    ),
    (
        "tax",
        false,
        "Tax on the line, e.g. 54.00.",
        "该行税额，如 54.00。",
        "54.00",
    ),
];

/// The template: the header and an example invoice of two lines.
pub fn template_csv() -> String {
    let mut s = String::from("\u{feff}");
    s.push_str(&COLUMNS.iter().map(|c| c.0).collect::<Vec<_>>().join(","));
    s.push_str("\r\n");
    for row in [
        "INV-2026-0042,PO-20261206-0A1B2C3D,MILL,2026-12-06,2027-01-05,CNY,1,,,4,150.00,54.00",
        "INV-2026-0042,PO-20261206-0A1B2C3D,,,,,2,,,2,96.00,17.28",
    ] {
        s.push_str(row);
        s.push_str("\r\n");
    }
    s
}

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InvoiceImport {
    /// The file's invoices, in file order.
    pub invoices: Vec<Invoice>,
    /// Invoices entered now.
    pub created: i64,
    /// Invoices entered by an earlier import of the same file.
    pub replayed: i64,
}

fn money(s: &str) -> std::result::Result<i64, ()> {
    let t = s.replace([',', '¥', '￥'], "");
    boh_kernel::qty::parse_money(t.trim()).map_err(|_| ())
}

struct Group {
    no: String,
    /// Rows of the invoice, in file order (row number, cells by column name).
    rows: Vec<u32>,
    input: InvoiceInput,
    po_number: String,
    supplier_code: Option<String>,
    /// Row of each line (line index → row number, with the column naming the line).
    line_rows: Vec<(u32, &'static str)>,
}

/// Import the invoices of a file. Needs `purchasing.invoice.manage` at each order's site.
pub async fn import(
    p: &Platform,
    ctx: &Ctx,
    bytes: &[u8],
    file_name: &str,
    content_type: Option<&str>,
) -> Result<InvoiceImport> {
    if !ctx.actor.has_anywhere(perm::PURCHASING_INVOICE) {
        return Err(PlatformError::Forbidden(perm::PURCHASING_INVOICE));
    }
    let limits = Limits {
        max_rows: MAX_ROWS,
        max_columns: 40,
        max_cell_chars: 1_000,
        ..Limits::default()
    };
    let table = sheet::read(
        bytes,
        &Source {
            file_name: Some(file_name),
            content_type,
            sheet: None,
        },
        &limits,
    )?;
    let mut errors: Vec<FieldError> = Vec::new();
    let groups = parse(&table, bytes, &mut errors);
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    // Orders and suppliers by what the file calls them.
    let mut checked = Vec::new();
    for g in groups {
        let first = g.rows.first().copied().unwrap_or(0);
        let at = |col: &str| sheet::location(Some(first), Some(col));
        let po_id: Option<String> =
            sqlx::query("SELECT id, company_id FROM purchase_orders WHERE number = $1")
                .bind(&g.po_number)
                .fetch_optional(p.db.pool())
                .await?
                .map(|r| r.try_get("id"))
                .transpose()?;
        let order = match po_id {
            Some(id) => match crate::po::get(p, &ctx.actor, &id).await {
                Ok(o) => Some(o),
                Err(PlatformError::NotFound) => None,
                Err(e) => return Err(e),
            },
            None => None,
        };
        let Some(order) = order else {
            errors.push(FieldError::new(
                &at("po_number"),
                format!("no order {}", g.po_number),
            ));
            continue;
        };
        let supplier_id = match &g.supplier_code {
            None => order.supplier_id.clone(),
            Some(code) => {
                let id: Option<String> =
                    sqlx::query("SELECT id FROM inv_suppliers WHERE company_id = $1 AND code = $2")
                        .bind(&order.company_id)
                        .bind(code)
                        .fetch_optional(p.db.pool())
                        .await?
                        .map(|r| r.try_get("id"))
                        .transpose()?;
                match id {
                    Some(id) => id,
                    None => {
                        errors.push(FieldError::new(
                            &at("supplier"),
                            format!("no supplier {code}"),
                        ));
                        continue;
                    }
                }
            }
        };
        let mut input = g.input.clone();
        input.po_id = order.id.clone();
        input.supplier_id = supplier_id;
        match invoice::check(p, &ctx.actor, &input, invoice::Source::Csv).await {
            Ok(c) => checked.push((g, c)),
            Err(PlatformError::Validation(fields)) => {
                for f in fields {
                    errors.push(FieldError::new(&locate(&g, &f.field), f.message));
                }
            }
            Err(PlatformError::Conflict { message, .. }) => {
                errors.push(FieldError::new(&at("po_number"), message));
            }
            Err(PlatformError::NotFound) => {
                errors.push(FieldError::new(
                    &at("po_number"),
                    format!("no order {}", g.po_number),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    if !errors.is_empty() {
        return Err(PlatformError::Validation(errors));
    }
    // The same file again: its invoices answer as they were.
    let mut done: Vec<Option<Invoice>> = Vec::new();
    for (_, c) in &checked {
        done.push(match c.key() {
            Some(k) => invoice::by_key(p, c.supplier_id(), k, c.hash()).await?,
            None => None,
        });
    }
    let backend = p.db.backend();
    let ids = tx!(p.db, tx, {
        let mut ids = Vec::new();
        for ((_, c), d) in checked.iter().zip(&done) {
            if d.is_none() {
                ids.push(Some(invoice::insert(tx, backend, ctx, c).await?));
            } else {
                ids.push(None);
            }
        }
        boh_platform::idem::mark_applied(tx, ctx).await?;
        Ok(ids)
    })?;
    let mut out = Vec::new();
    let (mut created, mut replayed) = (0, 0);
    for (id, d) in ids.into_iter().zip(done) {
        match (id, d) {
            (Some(id), _) => {
                created += 1;
                out.push(invoice::get(p, &ctx.actor, &id).await?);
            }
            (None, Some(inv)) => {
                replayed += 1;
                out.push(inv);
            }
            (None, None) => {}
        }
    }
    Ok(InvoiceImport {
        invoices: out,
        created,
        replayed,
    })
}

/// The row and column a field error of an invoice's check points at.
fn locate(g: &Group, field: &str) -> String {
    let first = g.rows.first().copied();
    if let Some(rest) = field.strip_prefix("lines[")
        && let Some((n, f)) = rest.split_once(']')
        && let Ok(i) = n.parse::<usize>()
    {
        let (row, line_col) = g.line_rows.get(i).copied().unwrap_or((0, "line"));
        let col = match f.trim_start_matches('.') {
            "qty" => "qty",
            "unit_price_minor" => "unit_price",
            "tax_minor" => "tax",
            _ => line_col,
        };
        return sheet::location(Some(row), Some(col));
    }
    let col = match field {
        "supplier_id" => "supplier",
        "lines" => "qty",
        "po_id" => "po_number",
        other => other,
    };
    sheet::location(first, Some(col))
}

/// Group the rows into invoices, checking cells; problems go to `errors`.
fn parse(table: &Table, bytes: &[u8], errors: &mut Vec<FieldError>) -> Vec<Group> {
    for h in &table.headers {
        if !COLUMNS.iter().any(|c| c.0 == h) {
            errors.push(FieldError::new(
                &sheet::location(None, Some(h)),
                "unknown column",
            ));
        }
    }
    for (name, required, ..) in COLUMNS {
        if *required && !table.has(name) {
            errors.push(FieldError::new(
                &sheet::location(None, Some(name)),
                "missing column",
            ));
        }
    }
    if table.is_empty() {
        errors.push(FieldError::new("file", "the file has no rows"));
    }
    if !errors.is_empty() {
        return Vec::new();
    }
    let col = |n: &str| table.column(n);
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for row in &table.rows {
        let cell = |n: &str| row.get(col(n)).unwrap_or("").trim().to_string();
        let at = |c: &str| sheet::location(Some(row.number), Some(c));
        let no = cell("invoice_no");
        if no.is_empty() {
            errors.push(FieldError::new(&at("invoice_no"), "is required"));
            continue;
        }
        let key = invoice::number_key(&no);
        let po_number = cell("po_number");
        if po_number.is_empty() {
            errors.push(FieldError::new(&at("po_number"), "is required"));
        }
        let g = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Group {
                no: no.clone(),
                rows: Vec::new(),
                input: InvoiceInput {
                    invoice_no: no.clone(),
                    invoice_key: Some(format!(
                        "csv-{}",
                        &boh_platform::util::sha256_hex(&[bytes, b"\n", key.as_bytes()].concat())
                            [..40]
                    )),
                    ..Default::default()
                },
                po_number: po_number.clone(),
                supplier_code: None,
                line_rows: Vec::new(),
            }
        });
        let first_row = g.rows.is_empty();
        g.rows.push(row.number);
        if !po_number.is_empty() && po_number != g.po_number {
            errors.push(FieldError::new(
                &at("po_number"),
                format!(
                    "an invoice is matched against one order; invoice {} is for {}",
                    g.no, g.po_number
                ),
            ));
        }
        // Header fields: from the first row; later rows may repeat them.
        let date = cell("invoice_date");
        if first_row {
            g.input.invoice_date = date;
        } else if !date.is_empty() && date != g.input.invoice_date {
            errors.push(FieldError::new(
                &at("invoice_date"),
                "differs from the invoice's first row",
            ));
        }
        for (name, slot) in [
            ("due_date", &mut g.input.due_date),
            ("currency", &mut g.input.currency),
            ("supplier", &mut g.supplier_code),
        ] {
            let v = cell(name);
            let v = (!v.is_empty()).then_some(v);
            if first_row {
                *slot = v;
            } else if v.is_some() && v != *slot {
                errors.push(FieldError::new(
                    &at(name),
                    "differs from the invoice's first row",
                ));
            }
        }
        if first_row && g.input.invoice_date.is_empty() {
            errors.push(FieldError::new(
                &at("invoice_date"),
                "is required on the invoice's first row",
            ));
        }
        // The line.
        let line = cell("line");
        let po_line_no = if line.is_empty() {
            None
        } else {
            match line.parse::<i64>() {
                Ok(n) if n > 0 => Some(n),
                _ => {
                    errors.push(FieldError::new(&at("line"), "must be a whole number"));
                    continue;
                }
            }
        };
        let item_code = Some(cell("item_code")).filter(|s| !s.is_empty());
        let supplier_sku = Some(cell("supplier_sku")).filter(|s| !s.is_empty());
        let line_col = if po_line_no.is_some() {
            "line"
        } else if item_code.is_some() {
            "item_code"
        } else if supplier_sku.is_some() {
            "supplier_sku"
        } else {
            errors.push(FieldError::new(
                &at("line"),
                "give the order line, the item code or the supplier's SKU",
            ));
            continue;
        };
        let qty = cell("qty");
        if qty.is_empty() {
            errors.push(FieldError::new(&at("qty"), "is required"));
            continue;
        }
        let price = match money(&cell("unit_price")) {
            Ok(v) if !cell("unit_price").is_empty() => v,
            _ => {
                errors.push(FieldError::new(
                    &at("unit_price"),
                    "must be an amount such as 12.50",
                ));
                continue;
            }
        };
        let tax_text = cell("tax");
        let tax = if tax_text.is_empty() {
            None
        } else {
            match money(&tax_text) {
                Ok(v) => Some(v),
                Err(()) => {
                    errors.push(FieldError::new(
                        &at("tax"),
                        "must be an amount such as 12.50",
                    ));
                    continue;
                }
            }
        };
        g.input.lines.push(InvoiceLineInput {
            po_line_no,
            item_code,
            supplier_sku,
            qty: serde_json::Value::String(qty),
            unit_price_minor: price,
            tax_minor: tax,
        });
        g.line_rows.push((row.number, line_col));
    }
    if groups.len() > MAX_INVOICES {
        errors.push(FieldError::new(
            "file",
            format!("at most {MAX_INVOICES} invoices in one file"),
        ));
    }
    order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(csv: &str) -> Table {
        sheet::read(csv.as_bytes(), &Source::named("i.csv"), &Limits::default()).unwrap()
    }

    #[test]
    fn rows_group_into_invoices_with_header_fields_from_the_first_row() {
        let t = table(
            "invoice_no,po_number,invoice_date,line,qty,unit_price,tax\n\
             A-1,PO-1,2026-12-01,1,4,150.00,54.00\n\
             B-7,PO-2,2026-12-02,1,1,9.5,\n\
             A-1,PO-1,,2,2,96,\n",
        );
        let mut e = Vec::new();
        let g = parse(&t, b"x", &mut e);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].no, "A-1");
        assert_eq!(g[0].input.invoice_date, "2026-12-01");
        assert_eq!(g[0].input.lines.len(), 2);
        assert_eq!(g[0].input.lines[0].unit_price_minor, 15000);
        assert_eq!(g[0].input.lines[0].tax_minor, Some(5400));
        assert_eq!(g[0].input.lines[1].po_line_no, Some(2));
        assert_eq!(g[0].line_rows, vec![(2, "line"), (4, "line")]);
        assert_eq!(g[1].input.lines[0].unit_price_minor, 950);
        assert_ne!(g[0].input.invoice_key, g[1].input.invoice_key);
        assert_eq!(locate(&g[0], "lines[1].qty"), "row 4, column qty");
        assert_eq!(locate(&g[0], "supplier_id"), "row 2, column supplier");
    }

    #[test]
    fn every_bad_cell_is_named() {
        let t = table(
            "invoice_no,po_number,invoice_date,line,qty,unit_price,colour\n\
             A-1,PO-1,2026-12-01,1,4,abc,red\n",
        );
        let mut e = Vec::new();
        parse(&t, b"x", &mut e);
        assert_eq!(e[0].field, "column colour");
        let t = table(
            "invoice_no,po_number,invoice_date,line,qty,unit_price\n\
             A-1,PO-1,,x,4,1\n\
             A-1,PO-2,2026-12-01,1,,abc\n\
             ,PO-1,2026-12-01,1,1,1\n",
        );
        let mut e = Vec::new();
        parse(&t, b"x", &mut e);
        let fields: Vec<&str> = e.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "row 2, column invoice_date",
                "row 2, column line",
                "row 3, column po_number",
                "row 3, column invoice_date",
                "row 3, column qty",
                "row 4, column invoice_no",
            ]
        );
    }

    #[test]
    fn the_template_parses() {
        let t = table(&template_csv());
        let mut e = Vec::new();
        let g = parse(&t, b"x", &mut e);
        assert!(e.is_empty(), "{e:?}");
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].supplier_code.as_deref(), Some("MILL"));
    }
}
