//! CSV and XLSX into a [`Table`].

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};

use super::{Format, Limits, Row, SheetError, Table, location, normalise_header, write};
use crate::FieldError;

/// At most this many cell problems are listed; the rest are counted.
const MAX_CELL_ERRORS: usize = 1000;

/// Collects rows as they are read: the first non-empty row is the header; later rows are
/// padded to the header's width, empty ones skipped, limits enforced as they arrive.
struct Builder<'a> {
    name: &'a str,
    limits: &'a Limits,
    headers: Option<Vec<String>>,
    rows: Vec<Row>,
    errors: Vec<FieldError>,
    more_errors: usize,
}

impl<'a> Builder<'a> {
    fn new(name: &'a str, limits: &'a Limits) -> Builder<'a> {
        Builder {
            name,
            limits,
            headers: None,
            rows: Vec::new(),
            errors: Vec::new(),
            more_errors: 0,
        }
    }

    fn error(&mut self, row: u32, column: Option<&str>, message: String) {
        if self.errors.len() < MAX_CELL_ERRORS {
            self.errors
                .push(FieldError::new(&location(Some(row), column), message));
        } else {
            self.more_errors += 1;
        }
    }

    /// One row as read (raw cell text, not yet cleaned).
    fn push(&mut self, number: u32, raw: Vec<String>) -> Result<(), SheetError> {
        let mut cells: Vec<String> = raw.iter().map(|c| clean(c)).collect();
        while cells.last().is_some_and(|c| c.is_empty()) {
            cells.pop();
        }
        if cells.is_empty() {
            return Ok(());
        }
        let max_chars = self.limits.max_cell_chars;
        let Some(headers) = &self.headers else {
            if cells.len() > self.limits.max_columns {
                return Err(SheetError::TooManyColumns {
                    name: self.name.to_string(),
                    columns: cells.len(),
                    limit: self.limits.max_columns,
                });
            }
            let headers: Vec<String> = cells.iter().map(|h| normalise_header(h)).collect();
            for (i, h) in headers.iter().enumerate() {
                let col = column_letter(i);
                if h.is_empty() {
                    self.error(number, Some(&col), "the header is empty".into());
                } else if h.chars().count() > 100 {
                    self.error(number, Some(&col), "the header is too long".into());
                } else if let Some(j) = headers[..i].iter().position(|x| x == h) {
                    self.error(
                        number,
                        Some(h),
                        format!(
                            "the header appears twice (columns {} and {col})",
                            column_letter(j)
                        ),
                    );
                }
            }
            self.headers = Some(headers);
            return Ok(());
        };
        let width = headers.len();
        if self.rows.len() >= self.limits.max_rows {
            return Err(SheetError::TooManyRows {
                name: self.name.to_string(),
                limit: self.limits.max_rows,
            });
        }
        let mut problems: Vec<(Option<String>, String)> = Vec::new();
        for (i, c) in cells.iter().enumerate() {
            if i >= width {
                if !c.is_empty() {
                    problems.push((
                        Some(column_letter(i)),
                        format!(
                            "the cell is beyond the last header (the header has {width} columns)"
                        ),
                    ));
                }
            } else if c.chars().count() > max_chars {
                problems.push((
                    headers.get(i).cloned(),
                    format!("the cell is longer than {max_chars} characters"),
                ));
            }
        }
        for (col, msg) in problems {
            self.error(number, col.as_deref(), msg);
        }
        cells.resize(width, String::new());
        self.rows.push(Row { number, cells });
        Ok(())
    }

    fn finish(mut self, format: Format, sheet: Option<String>) -> Result<Table, SheetError> {
        let Some(headers) = self.headers.take() else {
            return Err(SheetError::NoHeader {
                name: self.name.to_string(),
            });
        };
        if !self.errors.is_empty() {
            if self.more_errors > 0 {
                self.errors.push(FieldError::new(
                    "file",
                    format!("{} more problems are not listed", self.more_errors),
                ));
            }
            return Err(SheetError::Cells(self.errors));
        }
        Ok(Table {
            format,
            sheet,
            headers,
            rows: self.rows,
        })
    }
}

/// A cell as tables hold it: trimmed, with the `'` that [`write::safe_text`] adds removed.
fn clean(raw: &str) -> String {
    let t = raw.trim();
    match t.strip_prefix('\'') {
        Some(rest) if write::needs_prefix(rest) => rest.trim().to_string(),
        _ => t.to_string(),
    }
}

/// `A`, `B`, … `Z`, `AA`, … for a 0-based column index.
fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

// ---------------------------------------------------------------- CSV

/// The text of a CSV file: UTF-8 (BOM optional), UTF-16 with BOM, or GB18030 (which covers
/// GBK and GB2312).
fn decode<'b>(bytes: &'b [u8], name: &str) -> Result<Cow<'b, str>, SheetError> {
    let not_text = |reason: &str| SheetError::NotText {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    if let Some((enc, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let body = bytes.get(bom..).unwrap_or_default();
        if enc == encoding_rs::UTF_8 {
            return std::str::from_utf8(body)
                .map(Cow::Borrowed)
                .map_err(|_| not_text("it starts with a UTF-8 mark but is not valid UTF-8"));
        }
        return enc
            .decode_without_bom_handling_and_without_replacement(body)
            .ok_or_else(|| not_text("it is not valid UTF-16"));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(s));
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .ok_or_else(|| not_text("it is neither UTF-8 nor GB18030/GBK text"))
}

/// `,`, `;` or tab: whichever occurs most often outside quotes in the first line.
fn delimiter(text: &str) -> u8 {
    let (mut comma, mut semi, mut tab) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    for c in text.chars().take(64 * 1024) {
        match c {
            '"' => quoted = !quoted,
            '\n' | '\r' if !quoted => break,
            ',' if !quoted => comma += 1,
            ';' if !quoted => semi += 1,
            '\t' if !quoted => tab += 1,
            _ => {}
        }
    }
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma {
        b';'
    } else {
        b','
    }
}

pub(super) fn csv(bytes: &[u8], name: &str, limits: &Limits) -> Result<Table, SheetError> {
    let text = decode(bytes, name)?;
    if let Some(c) = text
        .chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\u{c}'))
    {
        return Err(SheetError::NotText {
            name: name.to_string(),
            reason: format!("it contains the control character U+{:04X}", c as u32),
        });
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(&text))
        .from_reader(text.as_bytes());
    let mut b = Builder::new(name, limits);
    let mut record = csv::StringRecord::new();
    // Row numbers are line numbers, counted from the records' byte offsets (blank lines count,
    // as they do in a spreadsheet).
    let bytes = text.as_bytes();
    let (mut line, mut counted) = (1usize, 0usize);
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                return Err(SheetError::Damaged {
                    name: name.to_string(),
                    reason: e.to_string(),
                });
            }
        }
        // The reported start may lie before line ends and blank lines the reader skipped;
        // the record's first byte is the first one that is neither CR nor LF.
        let reported = record.position().map_or(counted, |p| p.byte() as usize);
        let first = bytes
            .get(reported..)
            .and_then(|rest| rest.iter().position(|b| *b != b'\r' && *b != b'\n'))
            .map_or(bytes.len(), |off| reported + off)
            .max(counted);
        if let Some(skipped) = bytes.get(counted..first) {
            line += skipped.iter().filter(|b| **b == b'\n').count();
            counted = first;
        }
        let number = u32::try_from(line).unwrap_or(u32::MAX);
        if record.len() > limits.max_columns {
            return Err(SheetError::TooManyColumns {
                name: name.to_string(),
                columns: record.len(),
                limit: limits.max_columns,
            });
        }
        b.push(number, record.iter().map(str::to_string).collect())?;
    }
    b.finish(Format::Csv, None)
}

// ---------------------------------------------------------------- XLSX

/// A number as exact decimal text: rounded to Excel's 15 significant digits (so binary
/// artefacts such as `0.30000000000000004` disappear), integers without `.0`, everything
/// else by shortest round trip.
pub fn number_text(f: f64) -> String {
    if !f.is_finite() {
        return f.to_string();
    }
    let r: f64 = format!("{f:.14e}").parse().unwrap_or(f);
    if r.fract() == 0.0 && r.abs() < 1e15 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

fn two(n: u8) -> String {
    format!("{n:02}")
}

/// The text of one cell; `Err` for Excel error values (`#DIV/0!`, …).
fn cell_text(v: &DataRef<'_>) -> Result<String, String> {
    Ok(match v {
        DataRef::Empty => String::new(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Bool(b) => if *b { "true" } else { "false" }.to_string(),
        DataRef::DateTime(dt) if dt.is_duration() => number_text(dt.as_f64()),
        DataRef::DateTime(dt) => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            let date = format!("{y:04}-{}-{}", two(mo), two(d));
            if (h, mi, s, ms) == (0, 0, 0, 0) {
                date
            } else {
                format!("{date} {}:{}:{}", two(h), two(mi), two(s))
            }
        }
        DataRef::DateTimeIso(s) => s
            .strip_suffix("T00:00:00")
            .unwrap_or(s.as_str())
            .to_string(),
        DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => return Err(format!("the cell holds the Excel error {e}")),
    })
}

fn damaged(name: &str, e: impl std::fmt::Display) -> SheetError {
    SheetError::Damaged {
        name: name.to_string(),
        reason: e.to_string(),
    }
}

pub(super) fn xlsx(
    bytes: &[u8],
    name: &str,
    sheet: Option<&str>,
    limits: &Limits,
) -> Result<Table, SheetError> {
    let mut book: Xlsx<Cursor<&[u8]>> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| damaged(name, e))?;
    let names = book.sheet_names();
    let chosen = match sheet.map(str::trim).filter(|s| !s.is_empty()) {
        Some(wanted) => names
            .iter()
            .find(|n| n.as_str() == wanted)
            .or_else(|| names.iter().find(|n| n.eq_ignore_ascii_case(wanted)))
            .cloned()
            .ok_or_else(|| SheetError::NoSuchSheet {
                name: name.to_string(),
                sheet: wanted.to_string(),
                available: names.join(", "),
            })?,
        None => names.first().cloned().ok_or_else(|| SheetError::NoHeader {
            name: name.to_string(),
        })?,
    };
    let mut cells = book
        .worksheet_cells_reader(&chosen)
        .map_err(|e| damaged(name, e))?;
    let mut b = Builder::new(name, limits);
    let mut current: Option<u32> = None;
    let mut row: Vec<String> = Vec::new();
    let mut cell_errors: Vec<(u32, usize, String)> = Vec::new();
    while let Some(cell) = cells.next_cell().map_err(|e| damaged(name, e))? {
        let (r, c) = cell.get_position();
        if current != Some(r) {
            if let Some(prev) = current {
                b.push(prev.saturating_add(1), std::mem::take(&mut row))?;
            }
            current = Some(r);
        }
        let text = match cell_text(cell.get_value()) {
            Ok(t) => t,
            Err(msg) => {
                cell_errors.push((r.saturating_add(1), c as usize, msg));
                "#error".to_string()
            }
        };
        if text.is_empty() {
            continue;
        }
        let c = c as usize;
        if c >= limits.max_columns {
            return Err(SheetError::TooManyColumns {
                name: name.to_string(),
                columns: c + 1,
                limit: limits.max_columns,
            });
        }
        if row.len() <= c {
            row.resize(c + 1, String::new());
        }
        if let Some(slot) = row.get_mut(c) {
            *slot = text;
        }
    }
    if let Some(prev) = current {
        b.push(prev.saturating_add(1), row)?;
    }
    let headers = b.headers.clone().unwrap_or_default();
    for (r, c, msg) in cell_errors {
        let col = headers.get(c).cloned().unwrap_or_else(|| column_letter(c));
        b.error(r, Some(&col), msg);
    }
    b.finish(Format::Xlsx, Some(chosen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_exact_decimal_text() {
        assert_eq!(number_text(320.0), "320");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1.1), "1.1");
        assert_eq!(number_text(0.1 + 0.2), "0.3");
        assert_eq!(number_text(1.0000000002), "1.0000000002");
        assert_eq!(number_text(121.4726), "121.4726");
        assert_eq!(number_text(-73.985_656), "-73.985656");
        assert_eq!(number_text(1e20), "100000000000000000000");
        assert_eq!(number_text(0.000_001), "0.000001");
        assert_eq!(number_text(12345678901234.0), "12345678901234");
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }

    #[test]
    fn delimiters_are_detected_from_the_header_line() {
        assert_eq!(delimiter("code,name\n1,2"), b',');
        assert_eq!(delimiter("code;name;x\n1,2,3,4,5"), b';');
        assert_eq!(delimiter("code\tname\n"), b'\t');
        assert_eq!(delimiter("\"a;b\",c\n"), b',');
        assert_eq!(delimiter("code\n"), b',');
    }

    #[test]
    fn cells_lose_the_export_prefix_only() {
        assert_eq!(clean("  '=1+1 "), "=1+1");
        assert_eq!(clean("'-73.9"), "-73.9");
        assert_eq!(clean("'abc"), "'abc");
        assert_eq!(clean("O'Brien"), "O'Brien");
        assert_eq!(clean("' @x"), "@x");
    }
}
