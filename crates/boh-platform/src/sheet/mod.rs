//! Spreadsheet files in and out, for every module: CSV and XLSX.
//!
//! **Reading** ([`read`]) turns an uploaded file into a [`Table`]: normalised header names
//! (trimmed, lowercase, spaces → `_`) and rows of trimmed cell text with their 1-based
//! spreadsheet row numbers. CSV may be UTF-8 (with or without BOM), UTF-16 with BOM (Excel's
//! "Unicode text") or GB18030/GBK (Chinese Excel); the delimiter (`,` `;` or tab) is detected
//! from the header line. XLSX is read from the first sheet or a named one; numbers come back
//! as exact decimal text (integers without `.0`, other values rounded to Excel's 15
//! significant digits and printed by shortest round trip), dates as `YYYY-MM-DD`.
//!
//! Before anything is opened the file is checked ([`Limits`]): its size; that its bytes are
//! what its name or type claims (a zip that is not a workbook, a workbook named `.csv`, a
//! binary file named `.csv`, a legacy `.xls` are refused); and for XLSX the zip central
//! directory is inspected **before anything is inflated**: entry count, total uncompressed
//! size and per-entry compression ratio, so a decompression bomb is refused without being
//! expanded. The zip reader calamine uses also stops any entry at its declared size, so the
//! declared sizes checked here bound the memory actually used. Row, column and cell-length
//! limits apply while reading.
//!
//! **Writing** ([`write_csv`], [`write_xlsx`]) takes headers and rows of [`Cell`]s. CSV is
//! UTF-8 with a BOM (so Excel shows Chinese correctly); XLSX has a bold, frozen header row, an
//! autofilter and column widths fitted to the content. Every text cell that begins with
//! `= + - @`, tab, CR or NUL (also after leading whitespace) is prefixed with `'`
//! ([`safe_text`], ASVS 1.2.10) in both formats; number and date cells are written as numbers
//! and dates, never as text, so they need no prefix. [`read`] removes exactly that prefix
//! again, so an export imports back unchanged.
//!
//! No HTTP types here; the web edge maps [`SheetError::refusal`] to 413 / 415 / 422.

mod read;
mod write;
mod zipcheck;

pub use read::number_text;
pub use write::{safe_text, write, write_csv, write_xlsx};

use serde::Serialize;

use crate::FieldError;

/// The content type of an XLSX workbook.
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
/// The content type of the CSV files we write.
pub const CSV_CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// A spreadsheet file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => CSV_CONTENT_TYPE,
            Format::Xlsx => XLSX_CONTENT_TYPE,
        }
    }

    pub fn as_str(self) -> &'static str {
        self.extension()
    }

    /// The format a file claims to be, from its content type (when specific) or its name.
    pub fn claimed(file_name: Option<&str>, content_type: Option<&str>) -> Option<Format> {
        let ct = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match ct.as_str() {
            "text/csv" | "application/csv" | "text/comma-separated-values" | "text/x-csv" => {
                return Some(Format::Csv);
            }
            XLSX_CONTENT_TYPE => return Some(Format::Xlsx),
            _ => {}
        }
        // Generic types (application/octet-stream, text/plain, application/vnd.ms-excel, which
        // Windows sends for .csv) leave it to the file name.
        let ext = file_name
            .and_then(|n| n.rsplit_once('.'))
            .map(|(_, e)| e.trim().to_ascii_lowercase())?;
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Some(Format::Csv),
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// Limits applied to every file read. The defaults fit 200,000 rows of master data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest file accepted, in bytes.
    pub max_bytes: usize,
    /// Most data rows (the header row not counted).
    pub max_rows: usize,
    /// Most columns.
    pub max_columns: usize,
    /// Longest cell, in characters (Excel's own limit is 32,767).
    pub max_cell_chars: usize,
    /// XLSX: most entries in the zip archive.
    pub max_zip_entries: usize,
    /// XLSX: most bytes all entries may expand to, as declared in the central directory.
    pub max_uncompressed_bytes: u64,
    /// XLSX: highest uncompressed / compressed ratio of an entry larger than 1 MiB.
    pub max_compression_ratio: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 32 * 1024 * 1024,
            max_rows: 200_000,
            max_columns: 200,
            max_cell_chars: 32_767,
            max_zip_entries: 1_000,
            max_uncompressed_bytes: 512 * 1024 * 1024,
            max_compression_ratio: 200,
        }
    }
}

/// What the caller knows about an uploaded file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Source<'a> {
    /// The client's file name (used for the format when the content type is generic, and in
    /// error messages).
    pub file_name: Option<&'a str>,
    /// The declared content type, if any.
    pub content_type: Option<&'a str>,
    /// XLSX: the sheet to read; the first sheet when `None`.
    pub sheet: Option<&'a str>,
}

impl<'a> Source<'a> {
    /// A file known by its name only.
    pub fn named(file_name: &'a str) -> Source<'a> {
        Source {
            file_name: Some(file_name),
            ..Source::default()
        }
    }

    fn label(&self) -> &str {
        self.file_name
            .filter(|n| !n.is_empty())
            .unwrap_or("the file")
    }
}

/// One data row: its 1-based row number in the spreadsheet and one trimmed cell per header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub number: u32,
    pub cells: Vec<String>,
}

impl Row {
    /// The cell of a column found with [`Table::column`]; `None` when the file has no such
    /// column (an empty cell is `Some("")`).
    pub fn get(&self, column: Option<usize>) -> Option<&str> {
        column.map(|c| self.cells.get(c).map(String::as_str).unwrap_or(""))
    }
}

/// A sheet read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub format: Format,
    /// The sheet that was read (XLSX), or `None` for CSV.
    pub sheet: Option<String>,
    /// Normalised header names, one per column, unique.
    pub headers: Vec<String>,
    /// Data rows, empty rows skipped.
    pub rows: Vec<Row>,
}

impl Table {
    /// The index of a column by its (normalised) name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    pub fn has(&self, name: &str) -> bool {
        self.column(name).is_some()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A header name as tables use it: trimmed, lowercase, inner whitespace → `_`.
pub fn normalise_header(h: &str) -> String {
    h.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
        .to_lowercase()
}

/// Where a problem is, as error fields name it: `row 3, column latitude`, `row 3`,
/// `column code` or `file`.
pub fn location(row: Option<u32>, column: Option<&str>) -> String {
    match (row, column) {
        (Some(r), Some(c)) => format!("row {r}, column {c}"),
        (Some(r), None) => format!("row {r}"),
        (None, Some(c)) => format!("column {c}"),
        (None, None) => "file".to_string(),
    }
}

/// The inverse of [`location`]: `(row, column)` from a field name.
pub fn parse_location(field: &str) -> (Option<u32>, Option<String>) {
    if let Some(rest) = field.strip_prefix("row ") {
        let (num, col) = match rest.split_once(", column ") {
            Some((n, c)) => (n, Some(c.to_string())),
            None => (rest, None),
        };
        if let Ok(r) = num.parse() {
            return (Some(r), col);
        }
    }
    match field.strip_prefix("column ") {
        Some(c) => (None, Some(c.to_string())),
        None => (None, None),
    }
}

/// A value to write into a cell.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    /// Text; escaped against formula injection when written.
    Text(String),
    Int(i64),
    Float(f64),
    /// A date as `YYYY-MM-DD` (anything else is written as text).
    Date(String),
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}
impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}
impl From<&String> for Cell {
    fn from(s: &String) -> Cell {
        Cell::Text(s.clone())
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(v)
    }
}
impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Float(v)
    }
}
impl<T: Into<Cell>> From<Option<T>> for Cell {
    fn from(v: Option<T>) -> Cell {
        v.map_or(Cell::Empty, Into::into)
    }
}

/// A sheet to write: a name (the XLSX sheet tab), headers and rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// Why a file was refused, as a class the edge turns into a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The upload is larger than allowed (413).
    TooLarge,
    /// Not a file type we read, or its bytes are not what it claims to be (415).
    Unsupported,
    /// A file of the right type that cannot be accepted (422).
    Invalid,
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error("{name} is {size} bytes; at most {limit} bytes are accepted")]
    TooLarge {
        name: String,
        size: usize,
        limit: usize,
    },
    #[error("{name}: unsupported file type; upload a .csv or .xlsx file")]
    UnsupportedType { name: String },
    #[error("{name} is named or sent as {claimed} but its content is {found}")]
    WrongContent {
        name: String,
        claimed: &'static str,
        found: String,
    },
    #[error("{name} is not a text file: {reason}")]
    NotText { name: String, reason: String },
    #[error("{name} was refused: {reason}")]
    Archive { name: String, reason: String },
    #[error("{name} cannot be read: {reason}")]
    Damaged { name: String, reason: String },
    #[error("{name} has no sheet named {sheet}; it has {available}")]
    NoSuchSheet {
        name: String,
        sheet: String,
        available: String,
    },
    #[error("{name} has no header row")]
    NoHeader { name: String },
    #[error("{name} has more than {limit} data rows")]
    TooManyRows { name: String, limit: usize },
    #[error("{name} has {columns} columns; at most {limit} are accepted")]
    TooManyColumns {
        name: String,
        columns: usize,
        limit: usize,
    },
    /// Problems with single cells (duplicate headers, over-long cells, Excel error values),
    /// all of them, each naming its row and column.
    #[error("{0:?}")]
    Cells(Vec<FieldError>),
    #[error("writing the file: {0}")]
    Write(String),
}

impl SheetError {
    /// A stable code for clients.
    pub fn code(&self) -> &'static str {
        match self {
            SheetError::TooLarge { .. } => "file_too_large",
            SheetError::UnsupportedType { .. } => "unsupported_file_type",
            SheetError::WrongContent { .. } => "file_content_mismatch",
            SheetError::NotText { .. } => "file_not_text",
            SheetError::Archive { .. } => "archive_refused",
            SheetError::Damaged { .. } => "file_damaged",
            SheetError::NoSuchSheet { .. } => "sheet_not_found",
            SheetError::NoHeader { .. } => "file_without_header",
            SheetError::TooManyRows { .. } => "too_many_rows",
            SheetError::TooManyColumns { .. } => "too_many_columns",
            SheetError::Cells(_) => "validation_failed",
            SheetError::Write(_) => "internal",
        }
    }

    pub fn refusal(&self) -> Refusal {
        match self {
            SheetError::TooLarge { .. } => Refusal::TooLarge,
            SheetError::UnsupportedType { .. }
            | SheetError::WrongContent { .. }
            | SheetError::NotText { .. } => Refusal::Unsupported,
            _ => Refusal::Invalid,
        }
    }
}

/// What the first bytes of a file say it is.
fn sniff(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"PK\x03\x04", "a zip archive"),
        (b"PK\x05\x06", "an empty zip archive"),
        (
            b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1",
            "a legacy Excel (.xls) or encrypted workbook; save it as .xlsx",
        ),
        (b"%PDF", "a PDF document"),
        (b"\x89PNG", "a PNG image"),
        (b"\xFF\xD8\xFF", "a JPEG image"),
        (b"GIF8", "a GIF image"),
        (b"\x1F\x8B", "a gzip archive"),
        (b"Rar!", "a RAR archive"),
        (b"7z\xBC\xAF", "a 7-Zip archive"),
    ];
    SIGNATURES
        .iter()
        .find(|(sig, _)| bytes.starts_with(sig))
        .map(|(_, what)| *what)
}

/// Read a CSV or XLSX file into a [`Table`], after the checks described in the module docs.
pub fn read(bytes: &[u8], source: &Source<'_>, limits: &Limits) -> Result<Table, SheetError> {
    let name = source.label().to_string();
    if bytes.len() > limits.max_bytes {
        return Err(SheetError::TooLarge {
            name,
            size: bytes.len(),
            limit: limits.max_bytes,
        });
    }
    let format = Format::claimed(source.file_name, source.content_type)
        .ok_or_else(|| SheetError::UnsupportedType { name: name.clone() })?;
    let found = sniff(bytes);
    match format {
        Format::Xlsx => {
            if found != Some("a zip archive") {
                return Err(SheetError::WrongContent {
                    name,
                    claimed: "an Excel workbook (.xlsx)",
                    found: found.unwrap_or("not a zip archive").to_string(),
                });
            }
            zipcheck::inspect(bytes, &name, limits)?;
            read::xlsx(bytes, &name, source.sheet, limits)
        }
        Format::Csv => {
            if let Some(what) = found {
                return Err(SheetError::WrongContent {
                    name,
                    claimed: "a CSV file",
                    found: what.to_string(),
                });
            }
            read::csv(bytes, &name, limits)
        }
    }
}

#[cfg(test)]
mod tests;
