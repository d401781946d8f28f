//! A purchase order as the supplier gets it: a CSV of its lines and a PDF of the order.
//!
//! The PDF embeds no font: all text is set in Adobe's STSong-Light through the predefined
//! `UniGB-UTF16-H` CMap (UTF-16 text, CID-keyed font of the Adobe-GB1 collection), which PDF
//! readers supply themselves, so Chinese and Latin text both show without shipping a font.
//! Latin glyphs are declared half width, CJK full width; columns are laid out with those
//! widths.

use std::collections::HashMap;

use boh_db::Row;
use boh_inventory::supplier::{self, Supplier};
use boh_kernel::qty::money_text;
use boh_kernel::{Actor, Qty};
use boh_platform::org::{self, OrgNode};
use boh_platform::sheet::{Cell, Sheet, write_csv};
use boh_platform::{Platform, PlatformError, Result};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::po::{self, PurchaseOrder};

/// One line as the supplier reads it.
#[derive(Debug, Clone)]
pub struct DocLine {
    /// The supplier's own code for the item, else ours.
    pub sku: String,
    pub item_code: String,
    pub name_zh: String,
    pub name_en: String,
    pub pack_unit: String,
    pub qty: Qty,
    pub unit_price_minor: i64,
    pub amount_minor: i64,
}

/// Everything the documents show.
#[derive(Debug, Clone)]
pub struct OrderDocument {
    pub po: PurchaseOrder,
    pub supplier: Supplier,
    pub site: OrgNode,
    pub company: Option<OrgNode>,
    /// Who placed the order.
    pub buyer: String,
    pub lines: Vec<DocLine>,
}

impl OrderDocument {
    pub fn pdf_name(&self) -> String {
        format!("{}.pdf", self.po.number)
    }
    pub fn csv_name(&self) -> String {
        format!("{}.csv", self.po.number)
    }
}

/// The documents of an order the actor may see (404 otherwise).
pub async fn load(p: &Platform, actor: &Actor, po_id: &str) -> Result<OrderDocument> {
    let po = po::get(p, actor, po_id).await?;
    of_order(p, po).await
}

/// The documents of an order already read.
pub(crate) async fn of_order(p: &Platform, po: PurchaseOrder) -> Result<OrderDocument> {
    let supplier = supplier::fetch_supplier(p, &po.supplier_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    let site = org::fetch(p, &po.location_id)
        .await?
        .ok_or(PlatformError::NotFound)?;
    let company = org::fetch(p, &po.company_id).await?;
    let buyer: String = sqlx::query("SELECT display_name FROM users WHERE id = $1")
        .bind(&po.created_by)
        .fetch_optional(p.db.pool())
        .await?
        .map(|r| r.try_get("display_name"))
        .transpose()?
        .unwrap_or_default();
    let rows = sqlx::query(
        "SELECT si.id, si.supplier_sku, i.name_zh FROM purchase_order_lines l \
         JOIN inv_supplier_items si ON si.id = l.supplier_item_id JOIN inv_items i ON i.id = l.item_id \
         WHERE l.po_id = $1",
    )
    .bind(&po.id)
    .fetch_all(p.db.pool())
    .await?;
    let mut extra: HashMap<String, (Option<String>, String)> = HashMap::new();
    for r in &rows {
        extra.insert(
            r.try_get("id")?,
            (r.try_get("supplier_sku")?, r.try_get("name_zh")?),
        );
    }
    let lines = po
        .lines
        .iter()
        .map(|l| {
            let (sku, zh) = extra.get(&l.supplier_item_id).cloned().unwrap_or_default();
            DocLine {
                sku: sku
                    .filter(|s| !s.trim().is_empty())
                    .unwrap_or_else(|| l.item_code.clone()),
                item_code: l.item_code.clone(),
                name_zh: zh,
                name_en: l.item_name.clone(),
                pack_unit: l.pack_unit.clone(),
                qty: l.qty,
                unit_price_minor: l.unit_price_minor,
                amount_minor: l.amount_minor,
            }
        })
        .collect();
    Ok(OrderDocument {
        po,
        supplier,
        site,
        company,
        buyer,
        lines,
    })
}

/// The lines as CSV (UTF-8 with BOM): sku, item_code, item_name_zh, item_name_en, pack_unit,
/// qty, unit_price, amount (money in major units with two decimals, exact quantities).
pub fn csv(doc: &OrderDocument) -> Result<Vec<u8>> {
    let sheet = Sheet {
        name: doc.po.number.clone(),
        headers: [
            "sku",
            "item_code",
            "item_name_zh",
            "item_name_en",
            "pack_unit",
            "qty",
            "unit_price",
            "amount",
        ]
        .iter()
        .map(|h| h.to_string())
        .collect(),
        rows: doc
            .lines
            .iter()
            .map(|l| {
                vec![
                    Cell::from(l.sku.as_str()),
                    Cell::from(l.item_code.as_str()),
                    Cell::from(l.name_zh.as_str()),
                    Cell::from(l.name_en.as_str()),
                    Cell::from(l.pack_unit.as_str()),
                    Cell::from(l.qty.to_text()),
                    Cell::from(money_text(l.unit_price_minor)),
                    Cell::from(money_text(l.amount_minor)),
                ]
            })
            .collect(),
    };
    Ok(write_csv(&sheet)?)
}

const FONT: Name<'static> = Name(b"F1");
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 40.0;
const ROW_H: f32 = 16.0;
const BODY: f32 = 9.0;

/// Width of text in the document's font, in units of the font size (Latin half, CJK full).
fn text_width(s: &str) -> f32 {
    s.chars()
        .map(|c| if (c as u32) < 0x1100 { 0.5 } else { 1.0 })
        .sum()
}

/// `s` cut to fit `width` points at `size` (with an ellipsis when cut).
fn fit(s: &str, width: f32, size: f32) -> String {
    if text_width(s) * size <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut w = 1.0;
    for c in s.chars() {
        let cw = if (c as u32) < 0x1100 { 0.5 } else { 1.0 };
        if (w + cw) * size > width {
            break;
        }
        w += cw;
        out.push(c);
    }
    out.push('…');
    out
}

/// UTF-16BE bytes, what the `UniGB-UTF16-H` CMap reads.
fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_be_bytes()).collect()
}

/// A page being drawn.
struct Page {
    content: Content,
}

impl Page {
    fn new() -> Page {
        Page {
            content: Content::new(),
        }
    }
    fn text(&mut self, x: f32, y: f32, size: f32, s: &str) {
        let bytes = utf16(s);
        self.content
            .begin_text()
            .set_font(FONT, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }
    fn text_right(&mut self, right: f32, y: f32, size: f32, s: &str) {
        self.text(right - text_width(s) * size, y, size, s);
    }
    fn rule(&mut self, y: f32, width: f32) {
        self.content
            .set_line_width(width)
            .move_to(MARGIN, y)
            .line_to(PAGE_W - MARGIN, y)
            .stroke();
    }
}

/// Column layout of the line table: (left, width) of SKU, item, unit; right edges of qty,
/// price, amount.
const COL_SKU: (f32, f32) = (MARGIN, 80.0);
const COL_ITEM: (f32, f32) = (125.0, 210.0);
const COL_UNIT: (f32, f32) = (340.0, 45.0);
const RIGHT_QTY: f32 = 430.0;
const RIGHT_PRICE: f32 = 492.0;
const RIGHT_AMOUNT: f32 = PAGE_W - MARGIN;

fn table_head(pg: &mut Page, y: f32) {
    pg.text(COL_SKU.0, y, BODY, "货号 SKU");
    pg.text(COL_ITEM.0, y, BODY, "品名 Item");
    pg.text(COL_UNIT.0, y, BODY, "单位 Unit");
    pg.text_right(RIGHT_QTY, y, BODY, "数量 Qty");
    pg.text_right(RIGHT_PRICE, y, BODY, "单价 Price");
    pg.text_right(RIGHT_AMOUNT, y, BODY, "金额 Amount");
    pg.rule(y - 5.0, 0.6);
}

/// The order as a PDF: header (buyer, supplier, delivery), the lines, the total, page numbers.
pub fn pdf(doc: &OrderDocument) -> Vec<u8> {
    let po = &doc.po;
    let mut pages: Vec<Page> = Vec::new();
    let mut pg = Page::new();
    let mut y = PAGE_H - MARGIN - 16.0;
    pg.text(MARGIN, y, 16.0, "采购订单 Purchase order");
    pg.text_right(PAGE_W - MARGIN, y, 14.0, &po.number);
    y -= 26.0;
    let company = doc
        .company
        .as_ref()
        .map(|c| format!("{} {}", c.name_zh, c.name_en))
        .unwrap_or_default();
    let site = format!(
        "{} {} {}",
        doc.site.code, doc.site.name_zh, doc.site.name_en
    );
    let supplier = format!(
        "{} {} {}",
        doc.supplier.code, doc.supplier.name_zh, doc.supplier.name_en
    );
    let contact = [
        doc.supplier.contact_name.clone(),
        doc.supplier.phone.clone(),
        doc.supplier.email.clone(),
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.trim().is_empty())
    .collect::<Vec<_>>()
    .join(" · ");
    let left = [
        ("采购方 Buyer", company),
        ("联系人 Ordered by", doc.buyer.clone()),
        ("送货地点 Deliver to", site),
        ("地址 Address", doc.site.address.clone().unwrap_or_default()),
        ("供应商 Supplier", supplier),
        ("供应商联系 Contact", contact),
        ("送货日期 Delivery date", po.delivery_date.clone()),
        (
            "下单日期 Order date",
            po.approved_at
                .clone()
                .unwrap_or_else(|| po.created_at.clone())
                .chars()
                .take(10)
                .collect(),
        ),
        ("币种 Currency", po.currency.clone()),
    ];
    for (label, value) in left {
        pg.text(MARGIN, y, BODY, label);
        pg.text(160.0, y, BODY, &fit(&value, PAGE_W - MARGIN - 160.0, BODY));
        y -= 14.0;
    }
    y -= 10.0;
    table_head(&mut pg, y);
    y -= ROW_H;
    for l in &doc.lines {
        if y < MARGIN + 50.0 {
            pages.push(pg);
            pg = Page::new();
            y = PAGE_H - MARGIN - 16.0;
            pg.text(
                MARGIN,
                y,
                10.0,
                &format!("{} · 采购订单 Purchase order", po.number),
            );
            y -= 22.0;
            table_head(&mut pg, y);
            y -= ROW_H;
        }
        let name = if l.name_zh.is_empty() || l.name_zh == l.name_en {
            l.name_en.clone()
        } else {
            format!("{} {}", l.name_zh, l.name_en)
        };
        pg.text(COL_SKU.0, y, BODY, &fit(&l.sku, COL_SKU.1, BODY));
        pg.text(COL_ITEM.0, y, BODY, &fit(&name, COL_ITEM.1, BODY));
        pg.text(COL_UNIT.0, y, BODY, &fit(&l.pack_unit, COL_UNIT.1, BODY));
        pg.text_right(RIGHT_QTY, y, BODY, &l.qty.to_text());
        pg.text_right(RIGHT_PRICE, y, BODY, &money_text(l.unit_price_minor));
        pg.text_right(RIGHT_AMOUNT, y, BODY, &money_text(l.amount_minor));
        y -= ROW_H;
    }
    pg.rule(y + ROW_H - 5.0, 0.6);
    pg.text(COL_UNIT.0, y, 10.0, "合计 Total");
    pg.text_right(
        RIGHT_AMOUNT,
        y,
        10.0,
        &format!("{} {}", money_text(po.total_minor), po.currency),
    );
    y -= 24.0;
    if let Some(n) = po.note.as_deref().filter(|n| !n.trim().is_empty()) {
        if y < MARGIN + 30.0 {
            pages.push(pg);
            pg = Page::new();
            y = PAGE_H - MARGIN - 16.0;
        }
        pg.text(
            MARGIN,
            y,
            BODY,
            &fit(&format!("备注 Note: {n}"), PAGE_W - 2.0 * MARGIN, BODY),
        );
    }
    pages.push(pg);

    let mut pdf = Pdf::new();
    let catalog_id = Ref::new(1);
    let tree_id = Ref::new(2);
    let font_id = Ref::new(3);
    let cid_id = Ref::new(4);
    let descriptor_id = Ref::new(5);
    let info_id = Ref::new(6);
    let first = 7;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first + 2 * i as i32))
        .collect();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().copied())
        .count(pages.len() as i32);
    pdf.type0_font(font_id)
        .base_font(Name(b"STSong-Light-UniGB-UTF16-H"))
        .encoding_predefined(Name(b"UniGB-UTF16-H"))
        .descendant_font(cid_id);
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type0)
        .base_font(Name(b"STSong-Light"))
        .system_info(SystemInfo {
            registry: Str(b"Adobe"),
            ordering: Str(b"GB1"),
            supplement: 4,
        })
        .font_descriptor(descriptor_id)
        .default_width(1000.0);
    cid.widths().same(1, 95, 500.0).same(814, 939, 500.0);
    cid.finish();
    pdf.font_descriptor(descriptor_id)
        .name(Name(b"STSong-Light"))
        .flags(FontFlags::SYMBOLIC | FontFlags::SERIF)
        .bbox(Rect::new(-25.0, -254.0, 1000.0, 880.0))
        .italic_angle(0.0)
        .ascent(880.0)
        .descent(-120.0)
        .cap_height(880.0)
        .stem_v(93.0);
    pdf.document_info(info_id)
        .title(TextStr(&format!("Purchase order {}", po.number)))
        .creator(TextStr("BOH"));
    let total = pages.len();
    for (i, mut pg) in pages.into_iter().enumerate() {
        pg.text_right(
            PAGE_W - MARGIN,
            MARGIN - 16.0,
            8.0,
            &format!("{} / {}", i + 1, total),
        );
        let page_id = page_ids[i];
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H))
            .parent(tree_id)
            .contents(content_id);
        page.resources().fonts().pair(FONT, font_id);
        page.finish();
        let data = pg.content.finish();
        pdf.stream(content_id, data.as_slice());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_utf16_and_cut_to_fit() {
        assert_eq!(utf16("A面"), vec![0x00, 0x41, 0x97, 0x62]);
        assert_eq!(text_width("ab面"), 2.0);
        assert_eq!(fit("abcdef", 100.0, 10.0), "abcdef");
        let cut = fit("高筋面粉 Bread flour extra long", 60.0, 10.0);
        assert!(
            cut.ends_with('…') && text_width(&cut) * 10.0 <= 65.0,
            "{cut}"
        );
    }
}
