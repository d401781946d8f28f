//! The CSV (or XLSX) file of one store-day's POS sales, as the import page reads it.
//!
//! One row per ticket line. The ticket's own fields (`kind`, `closed_at`, `cashier`) come
//! from its first row; later rows of the same `ticket_no` may leave them empty (or repeat
//! them). A payment is a `tender` + `tender_amount` pair on any row of the ticket; a row
//! with no `pos_code` carries only a payment, so split payments are rows of their own.
//! Money is in yuan (`32.50`), quantities in the item's unit (`2`, `0.5`). `closed_at` is
//! RFC 3339 (`2026-12-01T12:30:00+08:00`), or a local date and time at the store
//! (`2026-12-01 12:30`), or a local time on the business day (`12:30`).

use std::collections::HashMap;

use boh_kernel::Qty;
use boh_platform::sheet::{Row, Table};
use boh_sales::ingest::{
    BatchInput, LineInput, Mode, Tender, TenderInput, TicketInput, TicketKind,
};

/// The columns, in template order: (name, required, English, Chinese, example).
pub const COLUMNS: &[(&str, bool, &str, &str, &str)] = &[
    (
        "ticket_no",
        true,
        "The ticket (receipt) number; every row of a ticket repeats it.",
        "小票号；同一小票的每一行都填写。",
        "A-1001",
    ),
    (
        "kind",
        false,
        "sale (default), refund or void (cancelled before payment: no tenders).",
        "sale（默认）、refund（退款）或 void（付款前作废，无付款）。",
        "sale",
    ),
    (
        "closed_at",
        true,
        "When the ticket closed: 2026-12-01T12:30:00+08:00, or store-local 2026-12-01 12:30, or 12:30.",
        "结账时间：2026-12-01T12:30:00+08:00，或门店当地时间 2026-12-01 12:30，或 12:30。",
        "2026-12-01 12:30",
    ),
    (
        "cashier",
        false,
        "The cashier's POS login or name.",
        "收银员的 POS 账号或姓名。",
        "c01",
    ),
    (
        "pos_code",
        false,
        "The POS code of the menu item or SKU; empty on a row that only carries a payment.",
        "菜品或商品的 POS 编码；仅记录付款的行留空。",
        "1001",
    ),
    (
        "name",
        false,
        "The POS's name for the item (shown in the unmapped-codes queue).",
        "POS 中的品名（显示在未映射编码队列中）。",
        "Classic burger",
    ),
    (
        "qty",
        false,
        "Quantity sold, in the item's unit (menu items: portions). Required on line rows.",
        "销售数量，按物料单位（菜品：份）。商品行必填。",
        "2",
    ),
    (
        "gross",
        false,
        "Price × quantity before discounts, tax included, in yuan. Required on line rows.",
        "折前金额（单价 × 数量，含税），单位元。商品行必填。",
        "64.00",
    ),
    (
        "discount",
        false,
        "Discount on the line, in yuan.",
        "该行折扣，单位元。",
        "6.40",
    ),
    (
        "tax",
        false,
        "The tax included in gross − discount, in yuan.",
        "折后金额中包含的税额，单位元。",
        "3.26",
    ),
    (
        "void",
        false,
        "1 (or yes / true / 是) when the line was removed before payment.",
        "付款前删除的行填 1（或 yes / true / 是）。",
        "0",
    ),
    (
        "tender",
        false,
        "Payment method: cash, card, wechat, alipay, meituan, eleme, voucher, member or other.",
        "付款方式：cash、card、wechat、alipay、meituan、eleme、voucher、member 或 other。",
        "wechat",
    ),
    (
        "tender_amount",
        false,
        "The amount paid with that tender, in yuan (positive, also for refunds).",
        "该付款方式的金额，单位元（正数，退款也填正数）。",
        "57.60",
    ),
];

/// The template file: the header and two example tickets (one paid in two tenders).
pub fn template_csv() -> String {
    let mut s = String::from("\u{feff}");
    s.push_str(&COLUMNS.iter().map(|c| c.0).collect::<Vec<_>>().join(","));
    s.push_str("\r\n");
    for row in [
        "A-1001,sale,2026-12-01 12:30,c01,1001,Classic burger,2,64.00,6.40,3.26,0,wechat,57.60",
        "A-1001,,,,1101,Fries,1,12.00,0,0.68,0,wechat,12.00",
        "A-1002,sale,2026-12-01 12:41,c01,1201,Iced tea,2,24.00,0,1.36,0,cash,10.00",
        "A-1002,,,,,,,,,,,alipay,14.00",
        "A-1003,refund,2026-12-01 13:05,c02,1101,Fries,1,12.00,0,0.68,0,cash,12.00",
    ] {
        s.push_str(row);
        s.push_str("\r\n");
    }
    s
}

/// A problem in the file: row number (None: the whole file), column, message key and
/// argument, or a message from the ingestion check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvError {
    pub row: Option<u32>,
    pub column: String,
    pub message: String,
}

/// A message of [`parse`] in Chinese (messages with a value keep it).
pub fn message_zh(msg: &str) -> String {
    const EXACT: &[(&str, &str)] = &[
        ("missing column", "缺少此列"),
        ("unknown column", "未知的列"),
        ("the file has no rows", "文件没有数据行"),
        ("is required", "必填"),
        ("must be sale, refund or void", "须为 sale、refund 或 void"),
        (
            "must be a date and time (2026-12-01 12:30 or RFC 3339)",
            "须为日期时间（2026-12-01 12:30 或 RFC 3339）",
        ),
        (
            "differs from the ticket's first row",
            "与该小票第一行不一致",
        ),
        ("is required on the ticket's first row", "小票第一行必填"),
        ("must be a number", "必须是数字"),
        (
            "must be an amount in yuan (32.50)",
            "须为以元计的金额（32.50）",
        ),
        ("must be 1 or 0 (yes / no)", "须为 1 或 0（是 / 否）"),
        (
            "a row needs a line (pos_code) or a payment (tender)",
            "每行须有商品（pos_code）或付款（tender）",
        ),
        ("is required with tender", "填写 tender 时必填"),
        ("no such store", "没有这个门店"),
        (
            "you may not import sales for this store",
            "您无权为这个门店导入销售",
        ),
        ("must be append or replace", "须为 append 或 replace"),
        ("choose a CSV or XLSX file", "请选择 CSV 或 XLSX 文件"),
        (
            "this file was imported for this store-day before in the other mode",
            "该文件之前已以另一种方式为这个门店营业日导入过",
        ),
        (
            "must be 1 to 40 of a-z, 0-9, _ and -",
            "须为 1 到 40 个 a-z、0-9、_ 或 - 字符",
        ),
        (
            "is required with tender_amount",
            "填写 tender_amount 时必填",
        ),
        (
            "must be cash, card, wechat, alipay, meituan, eleme, voucher, member or other",
            "须为 cash、card、wechat、alipay、meituan、eleme、voucher、member 或 other",
        ),
    ];
    if let Some((_, zh)) = EXACT.iter().find(|(en, _)| *en == msg) {
        return (*zh).to_string();
    }
    if let Some(name) = msg
        .strip_prefix("is required when ")
        .and_then(|r| r.strip_suffix(" is given"))
    {
        return format!("填写 {name} 时必填");
    }
    if let Some(no) = msg
        .strip_prefix("ticket ")
        .and_then(|r| r.strip_suffix(" has no line"))
    {
        return format!("小票 {no} 没有商品行");
    }
    crate::i18n::field_message("zh-CN", msg)
}

/// Where each part of the built batch came from in the file.
#[derive(Debug, Default)]
pub struct Origins {
    /// Ticket index → its first row.
    pub ticket: Vec<u32>,
    /// (ticket, line) → row.
    pub line: HashMap<(usize, usize), u32>,
    /// (ticket, tender) → row.
    pub tender: HashMap<(usize, usize), u32>,
}

impl Origins {
    /// The row and column an ingestion field error (`tickets[3].lines[1].qty`) points at.
    pub fn locate(&self, field: &str) -> (Option<u32>, String) {
        let Some(rest) = field.strip_prefix("tickets[") else {
            return (None, field.to_string());
        };
        let Some((ti, rest)) = rest.split_once(']') else {
            return (None, field.to_string());
        };
        let Ok(ti) = ti.parse::<usize>() else {
            return (None, field.to_string());
        };
        let first = self.ticket.get(ti).copied();
        let rest = rest.trim_start_matches('.');
        let sub = |prefix: &str| -> Option<(usize, String)> {
            let r = rest.strip_prefix(prefix)?;
            let (n, f) = r.split_once(']')?;
            Some((n.parse().ok()?, f.trim_start_matches('.').to_string()))
        };
        if let Some((li, f)) = sub("lines[") {
            let row = self.line.get(&(ti, li)).copied().or(first);
            return (row, if f.is_empty() { "pos_code".into() } else { f });
        }
        if let Some((xi, f)) = sub("tenders[") {
            let row = self.tender.get(&(ti, xi)).copied().or(first);
            let col = if f == "amount" {
                "tender_amount"
            } else {
                "tender"
            };
            return (row, col.to_string());
        }
        let col = match rest {
            "tenders" => "tender_amount",
            "lines" => "pos_code",
            "" => "ticket_no",
            other => other,
        };
        (first, col.to_string())
    }
}

/// The store-day as a batch, or every problem of the file (at most 1,000).
#[derive(Debug)]
pub struct Parsed {
    pub input: BatchInput,
    pub origins: Origins,
}

fn money(s: &str) -> Result<i64, ()> {
    if s.is_empty() {
        return Ok(0);
    }
    let t = s.replace([',', '¥'], "");
    boh_kernel::qty::parse_money(t.trim()).map_err(|_| ())
}

fn flag(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "" | "0" | "no" | "n" | "false" | "否" => Some(false),
        "1" | "yes" | "y" | "true" | "是" => Some(true),
        _ => None,
    }
}

fn tender_of(s: &str) -> Option<Tender> {
    Some(match s.to_ascii_lowercase().as_str() {
        "cash" | "现金" => Tender::Cash,
        "card" | "bank_card" | "银行卡" => Tender::Card,
        "wechat" | "wechat_pay" | "微信" | "微信支付" => Tender::Wechat,
        "alipay" | "支付宝" => Tender::Alipay,
        "meituan" | "美团" => Tender::Meituan,
        "eleme" | "饿了么" => Tender::Eleme,
        "voucher" | "券" | "代金券" => Tender::Voucher,
        "member" | "会员" | "储值" => Tender::Member,
        "other" | "其他" => Tender::Other,
        _ => return None,
    })
}

fn kind_of(s: &str) -> Option<TicketKind> {
    Some(match s.to_ascii_lowercase().as_str() {
        "" | "sale" | "销售" => TicketKind::Sale,
        "refund" | "退款" => TicketKind::Refund,
        "void" | "作废" => TicketKind::Void,
        _ => return None,
    })
}

/// `closed_at` as RFC 3339, from any of the accepted forms.
fn closed_at(s: &str, date: jiff::civil::Date, tz: &str) -> Option<String> {
    if let Ok(ts) = s.parse::<jiff::Timestamp>() {
        return Some(ts.to_string());
    }
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    let dt = s
        .replace('/', "-")
        .parse::<jiff::civil::DateTime>()
        .ok()
        .or_else(|| {
            s.parse::<jiff::civil::Time>()
                .ok()
                .map(|t| date.to_datetime(t))
        })?;
    let z = dt.to_zoned_datetime(zone).ok()?;
    Some(z.timestamp().to_string())
}

/// What the file says; the store-day fields come from the form.
pub struct Day<'a> {
    pub store_id: &'a str,
    pub timezone: &'a str,
    pub source: &'a str,
    pub business_date: jiff::civil::Date,
    pub mode: Mode,
    pub batch_key: String,
}

/// Read the table into a batch. Every problem is reported with its row and column.
pub fn parse(t: &Table, day: &Day<'_>) -> Result<Parsed, Vec<CsvError>> {
    let mut errors: Vec<CsvError> = Vec::new();
    macro_rules! err {
        ($row:expr, $col:expr, $msg:expr $(,)?) => {
            if errors.len() < 1_000 {
                errors.push(CsvError {
                    row: $row,
                    column: $col.to_string(),
                    message: $msg.into(),
                });
            }
        };
    }
    for (name, required, ..) in COLUMNS {
        if *required && !t.has(name) {
            err!(None, name, "missing column");
        }
    }
    if !t.has("pos_code") {
        err!(None, "pos_code", "missing column");
    }
    for h in &t.headers {
        if !h.is_empty() && !COLUMNS.iter().any(|c| c.0 == h) {
            err!(None, h, "unknown column");
        }
    }
    if t.rows.is_empty() {
        err!(None, "", "the file has no rows");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let col = |n: &str| t.column(n);
    let c = |r: &Row, n: &str| r.get(col(n)).unwrap_or("").to_string();
    let mut tickets: Vec<TicketInput> = Vec::new();
    let mut origins = Origins::default();
    let mut index: HashMap<String, usize> = HashMap::new();
    for r in &t.rows {
        let row = Some(r.number);
        let no = c(r, "ticket_no");
        if no.is_empty() {
            err!(row, "ticket_no", "is required");
            continue;
        }
        let kind_text = c(r, "kind");
        let kind = kind_of(&kind_text);
        if kind.is_none() {
            err!(row, "kind", "must be sale, refund or void");
        }
        let closed_text = c(r, "closed_at");
        let closed = if closed_text.is_empty() {
            None
        } else {
            let v = closed_at(&closed_text, day.business_date, day.timezone);
            if v.is_none() {
                err!(
                    row,
                    "closed_at",
                    "must be a date and time (2026-12-01 12:30 or RFC 3339)",
                );
            }
            v
        };
        let cashier = c(r, "cashier");
        let ti = match index.get(&no) {
            Some(&ti) => {
                let tk = &tickets[ti];
                if !kind_text.is_empty() && kind.is_some_and(|k| k != tk.kind) {
                    err!(row, "kind", "differs from the ticket's first row");
                }
                if closed.as_ref().is_some_and(|v| *v != tk.closed_at) {
                    err!(row, "closed_at", "differs from the ticket's first row");
                }
                if !cashier.is_empty() && Some(&cashier) != tk.cashier.as_ref() {
                    err!(row, "cashier", "differs from the ticket's first row");
                }
                ti
            }
            None => {
                if closed_text.is_empty() {
                    err!(row, "closed_at", "is required on the ticket's first row");
                }
                index.insert(no.clone(), tickets.len());
                origins.ticket.push(r.number);
                tickets.push(TicketInput {
                    ticket_no: no.clone(),
                    kind: kind.unwrap_or_default(),
                    closed_at: closed.clone().unwrap_or_default(),
                    cashier: Some(cashier.clone()).filter(|s| !s.is_empty()),
                    lines: Vec::new(),
                    tenders: Vec::new(),
                });
                tickets.len() - 1
            }
        };
        let code = c(r, "pos_code");
        if !code.is_empty() {
            let qty_text = c(r, "qty");
            let qty = if qty_text.is_empty() {
                err!(row, "qty", "is required");
                Qty(0)
            } else {
                Qty::parse(&qty_text).unwrap_or_else(|_| {
                    err!(row, "qty", "must be a number");
                    Qty(0)
                })
            };
            let mut amount = |name: &str, required: bool| -> i64 {
                let v = c(r, name);
                if required && v.is_empty() {
                    err!(row, name, "is required");
                    return 0;
                }
                money(&v).unwrap_or_else(|_| {
                    err!(row, name, "must be an amount in yuan (32.50)");
                    0
                })
            };
            let gross = amount("gross", true);
            let discount = amount("discount", false);
            let tax = amount("tax", false);
            let void = flag(&c(r, "void")).unwrap_or_else(|| {
                err!(row, "void", "must be 1 or 0 (yes / no)");
                false
            });
            let name = c(r, "name");
            let li = tickets[ti].lines.len();
            origins.line.insert((ti, li), r.number);
            tickets[ti].lines.push(LineInput {
                pos_code: code.clone(),
                name: Some(name).filter(|s| !s.is_empty()),
                qty,
                gross,
                discount,
                tax,
                void,
            });
        } else {
            for name in ["qty", "gross", "discount", "tax"] {
                if !c(r, name).is_empty() {
                    err!(row, "pos_code", format!("is required when {name} is given"));
                }
            }
        }
        let tender = c(r, "tender");
        let tender_amount = c(r, "tender_amount");
        match (tender.is_empty(), tender_amount.is_empty()) {
            (true, true) => {
                if code.is_empty() {
                    err!(
                        row,
                        "pos_code",
                        "a row needs a line (pos_code) or a payment (tender)"
                    );
                }
            }
            (false, true) => err!(row, "tender_amount", "is required with tender"),
            (true, false) => err!(row, "tender", "is required with tender_amount"),
            (false, false) => {
                let x = tender_of(&tender);
                if x.is_none() {
                    err!(
                        row,
                        "tender",
                        "must be cash, card, wechat, alipay, meituan, eleme, voucher, member or other",
                    );
                }
                let a = money(&tender_amount).unwrap_or_else(|_| {
                    err!(row, "tender_amount", "must be an amount in yuan (32.50)");
                    0
                });
                if let Some(x) = x {
                    let xi = tickets[ti].tenders.len();
                    origins.tender.insert((ti, xi), r.number);
                    tickets[ti].tenders.push(TenderInput {
                        tender: x,
                        amount: a,
                    });
                }
            }
        }
    }
    for (ti, tk) in tickets.iter().enumerate() {
        if tk.lines.is_empty() {
            err!(
                origins.ticket.get(ti).copied(),
                "pos_code",
                format!("ticket {} has no line", tk.ticket_no),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Parsed {
        input: BatchInput {
            store_id: day.store_id.to_string(),
            source: day.source.to_string(),
            business_date: day.business_date.to_string(),
            mode: day.mode,
            batch_key: Some(day.batch_key.clone()),
            tickets,
        },
        origins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use boh_platform::sheet::{self, Limits, Source};

    fn day() -> Day<'static> {
        Day {
            store_id: "s",
            timezone: "Asia/Shanghai",
            source: "pos",
            business_date: "2026-12-01".parse().unwrap(),
            mode: Mode::Append,
            batch_key: "k".into(),
        }
    }

    fn table(csv: &str) -> Table {
        sheet::read(csv.as_bytes(), &Source::named("s.csv"), &Limits::default()).unwrap()
    }

    #[test]
    fn the_template_reads_into_three_tickets() {
        let p = parse(&table(&template_csv()), &day()).unwrap_or_else(|e| panic!("{e:?}"));
        let t = &p.input.tickets;
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].lines.len(), 2);
        assert_eq!(t[0].lines[0].gross, 6400);
        assert_eq!(t[0].lines[0].discount, 640);
        assert_eq!(t[0].tenders.len(), 2);
        assert_eq!(t[1].tenders.len(), 2, "split payment on a row of its own");
        assert_eq!(t[1].tenders[1].amount, 1400);
        assert_eq!(t[2].kind, TicketKind::Refund);
        // 12:30 in Shanghai.
        assert_eq!(t[0].closed_at, "2026-12-01T04:30:00Z");
        assert_eq!(
            p.origins.locate("tickets[1].tenders[1].amount"),
            (Some(5), "tender_amount".into())
        );
        assert_eq!(
            p.origins.locate("tickets[0].lines[1].qty"),
            (Some(3), "qty".into())
        );
        assert_eq!(
            p.origins.locate("tickets[2].closed_at"),
            (Some(6), "closed_at".into())
        );
    }

    #[test]
    fn every_bad_cell_is_named_by_row_and_column() {
        let csv = "ticket_no,closed_at,pos_code,qty,gross,tender,tender_amount,void\n\
                   T1,12:00,1001,two,10.00,wechat,10.00,0\n\
                   T1,,1002,1,abc,bitcoin,5,maybe\n\
                   T2,,1003,1,5.00,cash,5.00,0\n";
        let e = parse(&table(csv), &day()).unwrap_err();
        let at: Vec<(Option<u32>, &str)> = e.iter().map(|e| (e.row, e.column.as_str())).collect();
        assert!(at.contains(&(Some(2), "qty")), "{e:?}");
        assert!(at.contains(&(Some(3), "gross")), "{e:?}");
        assert!(at.contains(&(Some(3), "tender")), "{e:?}");
        assert!(at.contains(&(Some(3), "void")), "{e:?}");
        assert!(at.contains(&(Some(4), "closed_at")), "{e:?}");
        let missing = parse(&table("ticket_no,qty\nT1,1\n"), &day()).unwrap_err();
        assert!(
            missing
                .iter()
                .any(|e| e.column == "closed_at" && e.row.is_none())
        );
        assert!(
            missing
                .iter()
                .any(|e| e.column == "pos_code" && e.row.is_none())
        );
    }
}
