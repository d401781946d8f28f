use std::io::Write;

use super::*;

fn csv_table(bytes: &[u8]) -> Result<Table, SheetError> {
    read(bytes, &Source::named("stores.csv"), &Limits::default())
}

fn cells(t: &Table) -> Vec<Vec<&str>> {
    t.rows
        .iter()
        .map(|r| r.cells.iter().map(String::as_str).collect())
        .collect()
}

fn sample() -> Sheet {
    Sheet {
        name: "Stores".into(),
        headers: vec![
            "code".into(),
            "name_zh".into(),
            "sales_area_m2".into(),
            "latitude".into(),
            "opening_date".into(),
            "address".into(),
        ],
        rows: vec![
            vec![
                Cell::from("S001"),
                Cell::from("上海人民广场店"),
                Cell::Int(320),
                Cell::Float(31.2317),
                Cell::Date("2019-05-18".into()),
                Cell::from("=HYPERLINK(\"http://x\")"),
            ],
            vec![
                Cell::from("S002"),
                Cell::from("-lujiazui"),
                Cell::Empty,
                Cell::Float(-73.985_656),
                Cell::Empty,
                Cell::from("  @SUM(A1)"),
            ],
        ],
    }
}

#[test]
fn csv_headers_are_normalised_and_rows_numbered() {
    let t = csv_table(
        b"\xEF\xBB\xBF Code , Name ZH,Sales  Area m2\r\nS001, A ,10\r\n,,\r\n\r\nS002,B,\r\n",
    )
    .unwrap();
    assert_eq!(t.format, Format::Csv);
    assert_eq!(t.headers, ["code", "name_zh", "sales_area_m2"]);
    assert_eq!(cells(&t), [["S001", "A", "10"], ["S002", "B", ""]]);
    let numbers: Vec<u32> = t.rows.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [2, 5]);
    let code = t.column("code");
    assert_eq!(t.rows[0].get(code), Some("S001"));
    assert_eq!(t.rows[0].get(t.column("missing")), None);
}

#[test]
fn csv_semicolons_tabs_quotes_and_short_rows() {
    let t = csv_table(b"code;name\nS1;\"a;b\"\nS2\n").unwrap();
    assert_eq!(cells(&t), [["S1", "a;b"], ["S2", ""]]);
    let t = csv_table(b"code\tname\nS1\tx\n").unwrap();
    assert_eq!(cells(&t), [["S1", "x"]]);
    let t = csv_table(b"code,address\nS1,\"line one\nline two\"\nS2,y\n").unwrap();
    assert_eq!(t.rows[0].cells[1], "line one\nline two");
    assert_eq!(t.rows[1].number, 4, "row numbers follow the file's lines");
}

#[test]
fn csv_in_gbk_and_utf16_is_read() {
    let (gbk, _, bad) = encoding_rs::GBK.encode("编码,名称\nS001,上海人民广场店\n");
    assert!(!bad);
    let t = csv_table(&gbk).unwrap();
    assert_eq!(t.headers, ["编码", "名称"]);
    assert_eq!(cells(&t), [["S001", "上海人民广场店"]]);

    let mut utf16 = vec![0xFF, 0xFE];
    for u in "code\tname\r\nS1\t门店\r\n".encode_utf16() {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let t = csv_table(&utf16).unwrap();
    assert_eq!(cells(&t), [["S1", "门店"]]);
}

#[test]
fn binary_and_mislabelled_files_are_refused() {
    let e = csv_table(b"code\x00name\n").unwrap_err();
    assert!(matches!(e, SheetError::NotText { .. }), "{e}");
    assert_eq!(e.refusal(), Refusal::Unsupported);
    let e = csv_table(b"\x89PNG\r\n\x1a\n....").unwrap_err();
    assert!(matches!(e, SheetError::WrongContent { .. }), "{e}");
    let book = write_xlsx(&sample()).unwrap();
    let e = csv_table(&book).unwrap_err();
    assert!(e.to_string().contains("zip archive"), "{e}");
    // An .xlsx that is CSV inside, a legacy .xls, an unknown type.
    let e = read(b"code\nS1\n", &Source::named("x.xlsx"), &Limits::default()).unwrap_err();
    assert_eq!(e.refusal(), Refusal::Unsupported, "{e}");
    let e = read(
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1rest",
        &Source::named("old.xlsx"),
        &Limits::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains(".xls"), "{e}");
    let e = read(b"x", &Source::named("x.pdf"), &Limits::default()).unwrap_err();
    assert!(matches!(e, SheetError::UnsupportedType { .. }), "{e}");
    // The content type decides when it is specific.
    let t = read(
        b"code\nS1\n",
        &Source {
            file_name: Some("upload"),
            content_type: Some("text/csv; charset=utf-8"),
            sheet: None,
        },
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(t.len(), 1);
}

#[test]
fn limits_are_enforced_with_clear_errors() {
    let limits = Limits {
        max_bytes: 100,
        max_rows: 2,
        max_columns: 3,
        max_cell_chars: 5,
        ..Limits::default()
    };
    let src = Source::named("big.csv");
    let e = read(&[b'a'; 101], &src, &limits).unwrap_err();
    assert_eq!(e.refusal(), Refusal::TooLarge);
    assert_eq!(e.code(), "file_too_large");
    let e = read(b"a\n1\n2\n3\n", &src, &limits).unwrap_err();
    assert!(matches!(e, SheetError::TooManyRows { limit: 2, .. }), "{e}");
    let e = read(b"a,b,c,d\n", &src, &limits).unwrap_err();
    assert!(matches!(e, SheetError::TooManyColumns { .. }), "{e}");
    let SheetError::Cells(errors) = read(b"a,b\n123456,x,y\n", &src, &limits).unwrap_err() else {
        panic!("cell errors expected");
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["row 2, column a", "row 2, column C"]);
    let SheetError::Cells(errors) =
        read(b"a,A, ,b\nx,y,z\n", &src, &Limits::default()).unwrap_err()
    else {
        panic!("header errors expected");
    };
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].message.contains("twice"), "{errors:?}");
    assert!(errors[1].message.contains("empty"), "{errors:?}");
    let e = read(b"\n\n", &src, &Limits::default()).unwrap_err();
    assert!(matches!(e, SheetError::NoHeader { .. }), "{e}");
}

#[test]
fn many_rows_read_in_linear_time() {
    let mut f = String::from("code,name,area\n");
    for i in 0..200_000 {
        f.push_str(&format!("S{i:06},Store {i},{i}\n"));
    }
    let t = csv_table(f.as_bytes()).unwrap();
    assert_eq!(t.len(), 200_000);
    assert_eq!(t.rows[199_999].number, 200_001);
}

#[test]
fn formula_injection_is_escaped_in_csv() {
    for (input, expected) in [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("\0x", "'\0x"),
        ("  =1", "'  =1"),
        ("\u{3000}=1", "'\u{3000}=1"),
        ("a=1", "a=1"),
        ("", ""),
    ] {
        assert_eq!(safe_text(input), expected, "{input:?}");
    }
    let csv = String::from_utf8(write_csv(&sample()).unwrap()).unwrap();
    assert!(csv.starts_with('\u{feff}'), "UTF-8 BOM");
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split("\r\n").collect();
    assert_eq!(
        lines[0],
        "code,name_zh,sales_area_m2,latitude,opening_date,address"
    );
    assert_eq!(
        lines[1],
        "S001,上海人民广场店,320,31.2317,2019-05-18,\"'=HYPERLINK(\"\"http://x\"\")\""
    );
    // Numbers are numbers (never text), so a negative one keeps its sign.
    assert_eq!(lines[2], "S002,'-lujiazui,,-73.985656,,'  @SUM(A1)");
    // And the import side removes exactly the prefix again.
    let t = csv_table(csv.as_bytes()).unwrap();
    assert_eq!(t.rows[0].cells[5], "=HYPERLINK(\"http://x\")");
    assert_eq!(t.rows[1].cells[1], "-lujiazui");
    assert_eq!(t.rows[1].cells[5], "@SUM(A1)");
}

#[test]
fn xlsx_round_trip_and_escaping() {
    let book = write_xlsx(&sample()).unwrap();
    let t = read(&book, &Source::named("stores.xlsx"), &Limits::default()).unwrap();
    assert_eq!(t.format, Format::Xlsx);
    assert_eq!(t.sheet.as_deref(), Some("Stores"));
    assert_eq!(
        t.headers,
        [
            "code",
            "name_zh",
            "sales_area_m2",
            "latitude",
            "opening_date",
            "address"
        ]
    );
    assert_eq!(
        cells(&t),
        [
            [
                "S001",
                "上海人民广场店",
                "320",
                "31.2317",
                "2019-05-18",
                "=HYPERLINK(\"http://x\")"
            ],
            ["S002", "-lujiazui", "", "-73.985656", "", "@SUM(A1)"]
        ]
    );
    assert_eq!(t.rows[1].number, 3);

    // What Excel sees: the text cells carry the prefix, the numbers and dates are typed.
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::Xlsx::new(std::io::Cursor::new(&book)).unwrap();
    let range = wb.worksheet_range("Stores").unwrap();
    assert_eq!(
        range.get_value((1, 5)),
        Some(&Data::String("'=HYPERLINK(\"http://x\")".into()))
    );
    assert_eq!(
        range.get_value((2, 1)),
        Some(&Data::String("'-lujiazui".into()))
    );
    assert_eq!(range.get_value((1, 2)), Some(&Data::Float(320.0)));
    assert!(matches!(range.get_value((1, 4)), Some(Data::DateTime(_))));

    // A named sheet, and a missing one.
    let e = read(
        &book,
        &Source {
            file_name: Some("stores.xlsx"),
            content_type: None,
            sheet: Some("Other"),
        },
        &Limits::default(),
    )
    .unwrap_err();
    assert!(matches!(e, SheetError::NoSuchSheet { .. }), "{e}");
    let t = read(
        &book,
        &Source {
            file_name: Some("upload.bin"),
            content_type: Some(XLSX_CONTENT_TYPE),
            sheet: Some("stores"),
        },
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(t.len(), 2);
}

#[test]
fn excel_values_become_exact_text() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    ws.write_string(0, 0, "n").unwrap();
    ws.write_string(0, 1, "d").unwrap();
    ws.write_string(0, 2, "e").unwrap();
    ws.write_number(1, 0, 0.1 + 0.2).unwrap();
    let dt = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 12, 2).unwrap();
    let f = rust_xlsxwriter::Format::new().set_num_format("dd/mm/yyyy");
    ws.write_date_with_format(1, 1, &dt, &f).unwrap();
    ws.write_formula(1, 2, rust_xlsxwriter::Formula::new("=1+1").set_result("2"))
        .unwrap();
    ws.write_number(2, 0, 1.0000000002).unwrap();
    ws.write_boolean(2, 1, true).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let t = read(&bytes, &Source::named("v.xlsx"), &Limits::default()).unwrap();
    assert_eq!(
        cells(&t),
        [["0.3", "2026-12-02", "2"], ["1.0000000002", "true", ""]]
    );
}

// ---------------------------------------------------------------- zip checks

fn zip_with(entries: &[(&str, usize)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mib = vec![0u8; 1024 * 1024];
    for (name, size) in entries {
        w.start_file(*name, opts).unwrap();
        let mut left = *size;
        while left > 0 {
            let n = left.min(mib.len());
            w.write_all(&mib[..n]).unwrap();
            left -= n;
        }
    }
    w.finish().unwrap().into_inner()
}

fn xlsx_err(bytes: &[u8], limits: &Limits) -> SheetError {
    read(bytes, &Source::named("bomb.xlsx"), limits).unwrap_err()
}

#[test]
fn a_compression_bomb_is_refused_before_inflating() {
    // 64 MiB of zeros packs into about 64 KiB: a thousand-fold ratio.
    let bomb = zip_with(&[
        ("[Content_Types].xml", 10),
        ("xl/workbook.xml", 10),
        ("xl/worksheets/sheet1.xml", 64 * 1024 * 1024),
    ]);
    assert!(bomb.len() < 1024 * 1024, "{} bytes", bomb.len());
    let e = xlsx_err(&bomb, &Limits::default());
    assert!(matches!(e, SheetError::Archive { .. }), "{e}");
    assert!(e.to_string().contains("fold"), "{e}");
    assert_eq!(e.refusal(), Refusal::Invalid);

    // Many entries under the ratio grace still add up.
    let limits = Limits {
        max_uncompressed_bytes: 3 * 1024 * 1024,
        ..Limits::default()
    };
    let spread = zip_with(&[
        ("[Content_Types].xml", 1024 * 1024),
        ("xl/workbook.xml", 1024 * 1024),
        ("a", 1024 * 1024),
        ("b", 1024 * 1024),
    ]);
    let e = xlsx_err(&spread, &limits);
    assert!(e.to_string().contains("expand to more than 3 MiB"), "{e}");

    // Too many entries.
    let names: Vec<String> = (0..20).map(|i| format!("e{i}")).collect();
    let entries: Vec<(&str, usize)> = names.iter().map(|n| (n.as_str(), 1)).collect();
    let e = xlsx_err(
        &zip_with(&entries),
        &Limits {
            max_zip_entries: 10,
            ..Limits::default()
        },
    );
    assert!(e.to_string().contains("20 entries"), "{e}");
}

/// The central directory record of `name`: its offset.
fn cd_entry(zip: &[u8], name: &str) -> usize {
    (0..zip.len() - 46)
        .find(|&i| {
            zip[i..i + 4] == *b"PK\x01\x02" && {
                let n = u16::from_le_bytes([zip[i + 28], zip[i + 29]]) as usize;
                zip.get(i + 46..i + 46 + n) == Some(name.as_bytes())
            }
        })
        .expect("central directory entry")
}

#[test]
fn declared_sizes_bound_what_is_inflated() {
    let book = write_xlsx(&sample()).unwrap();
    let at = cd_entry(&book, "xl/worksheets/sheet1.xml");

    // A directory that claims 3.75 GiB is refused from the claim alone.
    let mut huge = book.clone();
    huge[at + 24..at + 28].copy_from_slice(&0xF000_0000u32.to_le_bytes());
    let e = xlsx_err(&huge, &Limits::default());
    assert!(matches!(e, SheetError::Archive { .. }), "{e}");

    // A directory that understates an entry: inflation stops at the declared size.
    let mut lying = book.clone();
    lying[at + 24..at + 28].copy_from_slice(&40u32.to_le_bytes());
    let e = xlsx_err(&lying, &Limits::default());
    assert!(matches!(e, SheetError::Damaged { .. }), "{e}");
}

#[test]
fn a_zip_that_is_not_a_workbook_is_refused() {
    let z = zip_with(&[("readme.txt", 100)]);
    let e = xlsx_err(&z, &Limits::default());
    assert!(matches!(e, SheetError::WrongContent { .. }), "{e}");
    assert_eq!(e.refusal(), Refusal::Unsupported);
    let e = xlsx_err(b"PK\x03\x04 truncated", &Limits::default());
    assert!(matches!(e, SheetError::Damaged { .. }), "{e}");
}

#[test]
fn locations_name_rows_and_columns() {
    assert_eq!(
        location(Some(3), Some("latitude")),
        "row 3, column latitude"
    );
    assert_eq!(
        parse_location("row 3, column latitude"),
        (Some(3), Some("latitude".into()))
    );
    assert_eq!(parse_location("row 12"), (Some(12), None));
    assert_eq!(parse_location("column code"), (None, Some("code".into())));
    assert_eq!(parse_location("file"), (None, None));
}
