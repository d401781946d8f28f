//! CSV and XLSX out, with formula-injection escaping (ASVS 1.2.10).

use std::borrow::Cow;

use rust_xlsxwriter::{ExcelDateTime, Format as XlsxFormat, Workbook};

use super::{Cell, Format, Sheet, SheetError};

/// True when a spreadsheet would read `s` as a formula or control sequence: it begins with
/// `= + - @`, tab, CR or NUL, also after leading whitespace.
pub(super) fn needs_prefix(s: &str) -> bool {
    let starts = |t: &str| t.starts_with(['=', '+', '-', '@', '\t', '\r', '\0']);
    starts(s) || starts(s.trim_start_matches(|c: char| c.is_whitespace() && c != '\t' && c != '\r'))
}

/// Text made safe for a spreadsheet cell: a leading `'` when it would start a formula.
pub fn safe_text(s: &str) -> Cow<'_, str> {
    if needs_prefix(s) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// The text of a cell in a CSV file.
fn csv_text(c: &Cell) -> Cow<'_, str> {
    match c {
        Cell::Empty => Cow::Borrowed(""),
        Cell::Text(s) => safe_text(s),
        Cell::Int(i) => Cow::Owned(i.to_string()),
        Cell::Float(f) => Cow::Owned(super::number_text(*f)),
        Cell::Date(d) if is_date(d) => Cow::Borrowed(d.as_str()),
        Cell::Date(d) => safe_text(d),
    }
}

fn is_date(d: &str) -> bool {
    d.len() == 10 && d.parse::<jiff::civil::Date>().is_ok()
}

fn write_error(e: impl std::fmt::Display) -> SheetError {
    SheetError::Write(e.to_string())
}

/// A CSV file: UTF-8 with a BOM (so Excel shows Chinese correctly), CRLF line ends.
pub fn write_csv(sheet: &Sheet) -> Result<Vec<u8>, SheetError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(vec![0xEF, 0xBB, 0xBF]);
    w.write_record(sheet.headers.iter().map(|h| safe_text(h).into_owned()))
        .map_err(write_error)?;
    for row in &sheet.rows {
        w.write_record(row.iter().map(|c| csv_text(c).into_owned()))
            .map_err(write_error)?;
    }
    w.into_inner().map_err(write_error)
}

/// How wide a column must be for `s` (CJK characters count double).
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| if (c as u32) >= 0x1100 { 2 } else { 1 })
        .sum()
}

/// A sheet name Excel accepts: at most 31 characters, none of `[ ] : * ? / \`.
fn sheet_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(31)
        .collect();
    let trimmed = cleaned.trim_matches('\'').trim();
    if trimmed.is_empty() {
        "Sheet1".into()
    } else {
        trimmed.to_string()
    }
}

/// An XLSX workbook with one sheet: a bold, frozen header row with an autofilter, and column
/// widths fitted to the first thousand rows.
pub fn write_xlsx(sheet: &Sheet) -> Result<Vec<u8>, SheetError> {
    let mut book = Workbook::new();
    let ws = book.add_worksheet();
    ws.set_name(sheet_name(&sheet.name)).map_err(write_error)?;
    let bold = XlsxFormat::new().set_bold();
    let date_format = XlsxFormat::new().set_num_format("yyyy-mm-dd");
    let columns = sheet
        .headers
        .len()
        .max(sheet.rows.iter().map(Vec::len).max().unwrap_or(0));
    let mut widths = vec![8usize; columns];
    for (c, h) in sheet.headers.iter().enumerate() {
        let col = u16::try_from(c).map_err(write_error)?;
        ws.write_string_with_format(0, col, safe_text(h), &bold)
            .map_err(write_error)?;
        if let Some(w) = widths.get_mut(c) {
            *w = (*w).max(display_width(h) + 2);
        }
    }
    for (r, row) in sheet.rows.iter().enumerate() {
        let rn = u32::try_from(r + 1).map_err(write_error)?;
        for (c, cell) in row.iter().enumerate() {
            let col = u16::try_from(c).map_err(write_error)?;
            let shown = match cell {
                Cell::Empty => 0,
                Cell::Text(s) => {
                    let t = safe_text(s);
                    ws.write_string(rn, col, t.as_ref()).map_err(write_error)?;
                    display_width(&t)
                }
                Cell::Int(i) => {
                    ws.write_number(rn, col, *i as f64).map_err(write_error)?;
                    i.to_string().len()
                }
                Cell::Float(f) => {
                    ws.write_number(rn, col, *f).map_err(write_error)?;
                    super::number_text(*f).len()
                }
                Cell::Date(d) => match d.parse::<jiff::civil::Date>() {
                    Ok(date) if is_date(d) => {
                        let (y, m, day) = (date.year(), date.month(), date.day());
                        let dt = ExcelDateTime::from_ymd(
                            u16::try_from(y).map_err(write_error)?,
                            u8::try_from(m).map_err(write_error)?,
                            u8::try_from(day).map_err(write_error)?,
                        )
                        .map_err(write_error)?;
                        ws.write_date_with_format(rn, col, &dt, &date_format)
                            .map_err(write_error)?;
                        10
                    }
                    _ => {
                        let t = safe_text(d);
                        ws.write_string(rn, col, t.as_ref()).map_err(write_error)?;
                        display_width(&t)
                    }
                },
            };
            if r < 1000
                && let Some(w) = widths.get_mut(c)
            {
                *w = (*w).max(shown + 2);
            }
        }
    }
    for (c, w) in widths.iter().enumerate() {
        let col = u16::try_from(c).map_err(write_error)?;
        ws.set_column_width(col, (*w).min(60) as f64)
            .map_err(write_error)?;
    }
    if columns > 0 {
        ws.set_freeze_panes(1, 0).map_err(write_error)?;
        let last_row = u32::try_from(sheet.rows.len()).map_err(write_error)?;
        let last_col = u16::try_from(columns - 1).map_err(write_error)?;
        ws.autofilter(0, 0, last_row, last_col)
            .map_err(write_error)?;
    }
    book.save_to_buffer().map_err(write_error)
}

/// Write a sheet in either format.
pub fn write(format: Format, sheet: &Sheet) -> Result<Vec<u8>, SheetError> {
    match format {
        Format::Csv => write_csv(sheet),
        Format::Xlsx => write_xlsx(sheet),
    }
}
