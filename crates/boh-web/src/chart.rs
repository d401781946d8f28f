//! Server-side SVG charts: small, dependency-free, styled by the page's CSS classes, and
//! readable without JavaScript. Text is escaped; sizes are in user units so the SVG scales to
//! its container (phones included).

use std::fmt::Write;

/// One bar or point.
#[derive(Debug, Clone)]
pub struct Datum {
    pub label: String,
    pub value: i64,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// A "nice" axis maximum at or above `max`: four equal grid steps of 1, 2 or 5 times a power of
/// ten, so every grid line carries an exact integer label.
pub fn nice_max(max: i64) -> i64 {
    if max <= 0 {
        return 4;
    }
    let mut p = 1i64;
    loop {
        for m in [1, 2, 5] {
            let step = p.saturating_mul(m);
            if step.saturating_mul(4) >= max {
                return step.saturating_mul(4);
            }
        }
        p = p.saturating_mul(10);
    }
}

/// A vertical bar chart with a value label on each bar and four grid lines.
pub fn bar_chart(title: &str, data: &[Datum]) -> String {
    let (w, h, left, bottom, top) = (640.0_f64, 280.0_f64, 44.0_f64, 40.0_f64, 16.0_f64);
    let max = nice_max(data.iter().map(|d| d.value).max().unwrap_or(0));
    let plot_h = h - bottom - top;
    let plot_w = w - left - 8.0;
    let n = data.len().max(1) as f64;
    let slot = plot_w / n;
    let bar_w = (slot * 0.6).min(56.0);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title),
        esc(title)
    );
    for i in 0..=4 {
        let v = max * i / 4;
        let y = top + plot_h - plot_h * (i as f64) / 4.0;
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{v}</text>"#,
            w - 8.0,
            left - 6.0,
            y + 4.0
        );
    }
    for (i, d) in data.iter().enumerate() {
        let x = left + slot * (i as f64) + (slot - bar_w) / 2.0;
        let bh = if max > 0 {
            plot_h * (d.value as f64) / (max as f64)
        } else {
            0.0
        };
        let y = top + plot_h - bh;
        let _ = write!(
            s,
            r#"<g class="bar"><rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{bh:.1}" rx="3"><title>{}: {}</title></rect><text class="value" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text></g>"#,
            esc(&d.label),
            d.value,
            x + bar_w / 2.0,
            y - 5.0,
            d.value,
            x + bar_w / 2.0,
            h - bottom + 18.0,
            esc(&d.label)
        );
    }
    s.push_str("</svg>");
    s
}

/// A line chart over ordered points (e.g. days), with dots and the last value labelled.
pub fn line_chart(title: &str, data: &[Datum]) -> String {
    line_chart_with(title, data, &|v| v.to_string())
}

/// [`line_chart`] with the values (axis labels and tooltips) written by `fmt`, e.g. money in
/// minor units as `12.50`.
pub fn line_chart_with(title: &str, data: &[Datum], fmt: &dyn Fn(i64) -> String) -> String {
    let (w, h, bottom, top) = (640.0_f64, 240.0_f64, 36.0_f64, 16.0_f64);
    let max = nice_max(data.iter().map(|d| d.value).max().unwrap_or(0));
    // Room for the widest axis label.
    let left = (fmt(max).chars().count() as f64 * 6.5 + 12.0).max(44.0);
    // Room for half of the last point's label, which is centred on it.
    let right = data
        .last()
        .map(|d| d.label.chars().count() as f64 * 3.3 + 4.0)
        .unwrap_or(0.0)
        .max(16.0);
    let plot_h = h - bottom - top;
    let plot_w = w - left - right;
    let step = if data.len() > 1 {
        plot_w / (data.len() - 1) as f64
    } else {
        0.0
    };
    let pt = |i: usize, v: i64| {
        (
            left + step * i as f64,
            top + plot_h - plot_h * v as f64 / max as f64,
        )
    };
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        esc(title),
        esc(title)
    );
    for i in 0..=4 {
        let y = top + plot_h - plot_h * (i as f64) / 4.0;
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            w - right,
            left - 6.0,
            y + 4.0,
            esc(&fmt(max * i / 4))
        );
    }
    let path: Vec<String> = data
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let (x, y) = pt(i, d.value);
            format!("{x:.1},{y:.1}")
        })
        .collect();
    if !path.is_empty() {
        let _ = write!(s, r#"<polyline class="line" points="{}"/>"#, path.join(" "));
    }
    let label_every = (data.len() / 8).max(1);
    for (i, d) in data.iter().enumerate() {
        let (x, y) = pt(i, d.value);
        let _ = write!(
            s,
            r#"<circle class="dot" cx="{x:.1}" cy="{y:.1}" r="3"><title>{}: {}</title></circle>"#,
            esc(&d.label),
            esc(&fmt(d.value))
        );
        if i % label_every == 0 || i + 1 == data.len() {
            let _ = write!(
                s,
                r#"<text class="axis" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                h - bottom + 18.0,
                esc(&d.label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_maxima() {
        assert_eq!(nice_max(0), 4);
        assert_eq!(nice_max(3), 4);
        assert_eq!(nice_max(7), 8);
        assert_eq!(nice_max(10), 20);
        assert_eq!(nice_max(13), 20);
        assert_eq!(nice_max(480), 800);
        for m in [1, 9, 21, 99, 1234] {
            let n = nice_max(m);
            assert!(n >= m && n % 4 == 0, "{m} -> {n}");
        }
    }

    #[test]
    fn charts_escape_labels_and_draw_every_bar() {
        let data = vec![
            Datum {
                label: "<b>".into(),
                value: 3,
            },
            Datum {
                label: "open".into(),
                value: 21,
            },
        ];
        let svg = bar_chart("Stores & states", &data);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        assert_eq!(svg.matches("<rect").count(), 2);
        assert!(line_chart("x", &data).contains("<polyline"));
    }
}
