//! The printable label of an asset: an SVG with the asset's code, name and site beside a QR
//! code of the URL of its public fault-report form. The QR module matrix comes from the
//! `qrcode` crate (error correction level M); this module draws it as one path of unit
//! squares, so the label has no dependency on a renderer and every text is XML-escaped here.

use qrcode::{Color, EcLevel, QrCode};

/// The label's size in px (at 96 dpi, about 64 × 32 mm).
pub const WIDTH: usize = 480;
pub const HEIGHT: usize = 240;

/// What a label shows.
pub struct LabelText<'a> {
    pub code: &'a str,
    pub name: &'a str,
    /// The site, e.g. `S001 · 上海南京西路店`.
    pub site: &'a str,
    /// What the QR code encodes.
    pub url: &'a str,
}

/// `&`, `<`, `>`, `"` and `'` escaped for XML text and attributes; control characters dropped.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters, with an ellipsis when cut.
fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The QR code's dark modules as one SVG path in module units (a quiet zone of 4 modules
/// included), and the matrix width with the quiet zone.
pub fn qr_path(data: &str) -> Result<(String, usize), qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)?;
    let w = code.width();
    let colors = code.to_colors();
    let mut d = String::with_capacity(colors.len() * 4);
    for (i, c) in colors.iter().enumerate() {
        if *c == Color::Dark {
            let (x, y) = (i % w + 4, i / w + 4);
            d.push_str(&format!("M{x} {y}h1v1h-1z"));
        }
    }
    Ok((d, w + 8))
}

/// The label as a standalone SVG document.
pub fn svg(t: &LabelText<'_>) -> Result<String, qrcode::types::QrError> {
    let (path, modules) = qr_path(t.url)?;
    let qr = HEIGHT - 16;
    let x0 = qr + 20;
    let line = |y: usize, size: usize, weight: &str, text: &str| {
        format!(
            "<text x=\"{x0}\" y=\"{y}\" font-size=\"{size}\" font-weight=\"{weight}\">{}</text>",
            xml_escape(text)
        )
    };
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" \
         role=\"img\" aria-label=\"{aria}\" font-family=\"system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif\">\
         <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#fff\" stroke=\"#000\" stroke-width=\"2\" rx=\"8\"/>\
         <svg id=\"qr\" data-url=\"{url}\" x=\"8\" y=\"8\" width=\"{qr}\" height=\"{qr}\" viewBox=\"0 0 {modules} {modules}\" shape-rendering=\"crispEdges\">\
         <path fill=\"#000\" d=\"{path}\"/></svg>\
         {code}{name}{site}{hint}</svg>",
        aria = xml_escape(&format!("{} {}", t.code, t.name)),
        url = xml_escape(t.url),
        code = line(56, 30, "700", &clip(t.code, 16)),
        name = line(100, 20, "400", &clip(t.name, 18)),
        site = line(136, 16, "400", &clip(t.site, 22)),
        hint = line(208, 14, "400", "扫码报修 · Scan to report a fault"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_draws_every_dark_module() {
        let url = "https://boh.example/q/0123456789abcdef0123456789abcdef";
        let (d, w) = qr_path(url).unwrap();
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).unwrap();
        let dark = code
            .to_colors()
            .iter()
            .filter(|c| **c == Color::Dark)
            .count();
        assert_eq!(d.matches('M').count(), dark);
        assert_eq!(w, code.width() + 8);
        // The three finder patterns: the top-left module of each is dark.
        assert!(d.starts_with("M4 4h1v1h-1z"));
    }

    #[test]
    fn text_is_escaped() {
        let s = svg(&LabelText {
            code: "A<1>",
            name: "Fryer & \"oven\"",
            site: "S001 · 店",
            url: "http://x/q/abc",
        })
        .unwrap();
        assert!(s.contains("A&lt;1&gt;"));
        assert!(s.contains("Fryer &amp; &quot;oven&quot;"));
        assert!(s.contains("data-url=\"http://x/q/abc\""));
        assert!(!s.contains("<1>"));
    }

    #[test]
    fn long_names_are_clipped() {
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
