//! The XLSX checks made before anything is inflated (ASVS 5.2.2, 5.2.3).
//!
//! 1. The end-of-central-directory record is located by hand: ZIP64 archives are refused
//!    (a workbook within our size limits never needs one) and its entry count is checked, so
//!    the zip reader never sizes anything by an attacker's count.
//! 2. The central directory is read through the same `zip` crate calamine opens the workbook
//!    with, so both see the same entries. Only metadata is read: names, declared sizes.
//!    Refused: too many entries, a total declared uncompressed size above the limit, an entry
//!    larger than 1 MiB that expands more than the ratio limit, encrypted entries, and an
//!    archive without `[Content_Types].xml` and `xl/workbook.xml` (a zip that is not a
//!    workbook).
//!
//! When the workbook is then read, the zip reader stops any entry that produces more than its
//! declared size, so the sizes checked here bound what is inflated.

use std::io::Cursor;

use super::{Limits, SheetError};

const EOCD_SIG: &[u8; 4] = b"PK\x05\x06";
const ZIP64_LOCATOR_SIG: &[u8; 4] = b"PK\x06\x07";
/// Entries up to this size may have any compression ratio (XML headers compress very well).
const RATIO_GRACE_BYTES: u64 = 1024 * 1024;

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

/// The offset of the end-of-central-directory record (the last one whose comment length
/// reaches exactly the end of the file).
fn find_eocd(b: &[u8]) -> Option<usize> {
    if b.len() < 22 {
        return None;
    }
    let lowest = b.len().saturating_sub(22 + 65_535);
    (lowest..=b.len() - 22).rev().find(|&i| {
        b.get(i..i + 4) == Some(EOCD_SIG.as_slice())
            && u16_at(b, i + 20).is_some_and(|c| i + 22 + usize::from(c) == b.len())
    })
}

fn mib(n: u64) -> String {
    format!("{} MiB", n / (1024 * 1024))
}

pub(super) fn inspect(bytes: &[u8], name: &str, limits: &Limits) -> Result<(), SheetError> {
    let refuse = |reason: String| SheetError::Archive {
        name: name.to_string(),
        reason,
    };
    let damaged = |reason: String| SheetError::Damaged {
        name: name.to_string(),
        reason,
    };
    let eocd = find_eocd(bytes).ok_or_else(|| damaged("the zip directory is missing".into()))?;
    let entries = u16_at(bytes, eocd + 10).unwrap_or(u16::MAX);
    let cd_size = u32_at(bytes, eocd + 12).unwrap_or(u32::MAX);
    let cd_offset = u32_at(bytes, eocd + 16).unwrap_or(u32::MAX);
    let zip64_locator =
        eocd >= 20 && bytes.get(eocd - 20..eocd - 16) == Some(ZIP64_LOCATOR_SIG.as_slice());
    if entries == u16::MAX || cd_size == u32::MAX || cd_offset == u32::MAX || zip64_locator {
        return Err(refuse("ZIP64 archives are not accepted".into()));
    }
    if usize::from(entries) > limits.max_zip_entries {
        return Err(refuse(format!(
            "the archive has {entries} entries; at most {} are accepted",
            limits.max_zip_entries
        )));
    }
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| damaged(e.to_string()))?;
    if archive.len() > limits.max_zip_entries {
        return Err(refuse(format!(
            "the archive has {} entries; at most {} are accepted",
            archive.len(),
            limits.max_zip_entries
        )));
    }
    let mut total: u64 = 0;
    let (mut content_types, mut workbook) = (false, false);
    for i in 0..archive.len() {
        let entry = archive
            .by_index_data(i)
            .map_err(|e| damaged(e.to_string()))?;
        let entry_name = entry.name().map(|n| n.into_owned()).unwrap_or_default();
        let size = entry.size();
        let packed = entry.compressed_size();
        if entry.encrypted() {
            return Err(refuse(format!("{entry_name} is encrypted")));
        }
        total = total.saturating_add(size);
        if total > limits.max_uncompressed_bytes {
            return Err(refuse(format!(
                "it would expand to more than {} (a decompression bomb?)",
                mib(limits.max_uncompressed_bytes)
            )));
        }
        if size > RATIO_GRACE_BYTES && size / packed.max(1) > limits.max_compression_ratio {
            return Err(refuse(format!(
                "{entry_name} would expand {}-fold, more than the {}-fold accepted (a decompression bomb?)",
                size / packed.max(1),
                limits.max_compression_ratio
            )));
        }
        match entry_name.as_str() {
            "[Content_Types].xml" => content_types = true,
            "xl/workbook.xml" => workbook = true,
            _ => {}
        }
    }
    if !(content_types && workbook) {
        return Err(SheetError::WrongContent {
            name: name.to_string(),
            claimed: "an Excel workbook (.xlsx)",
            found: "a zip archive that is not an Excel workbook".into(),
        });
    }
    Ok(())
}
