//! Exact quantities and money. A [`Qty`] is an integer count of micro-units (10^-6) of some
//! unit; money is an integer count of minor units (fen, cents). Neither is ever a float: text
//! is parsed digit by digit, products and ratios go through `i128` and round half away from
//! zero once, at the end.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Micro-units per unit.
pub const MICRO: i64 = 1_000_000;

/// The largest magnitude a quantity may have: 10^12 units (10^18 micro-units), which leaves
/// head-room below `i64::MAX` for sums.
pub const MAX_QTY: i64 = 1_000_000_000_000 * MICRO;

/// A signed quantity in micro-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Qty(pub i64);

/// Why a text is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QtyError {
    #[error("must be a decimal number such as 12.5")]
    NotANumber,
    #[error("may have at most 6 decimal places")]
    TooPrecise,
    #[error("is too large")]
    TooLarge,
}

impl Qty {
    pub const ZERO: Qty = Qty(0);

    /// Whole units.
    pub fn units(n: i64) -> Qty {
        Qty(n.saturating_mul(MICRO))
    }

    pub fn micros(self) -> i64 {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn abs(self) -> Qty {
        Qty(self.0.saturating_abs())
    }

    /// Parse `12`, `-3.25`, `0.000001`, `+7`, `1,234.5` (thousands commas allowed).
    pub fn parse(text: &str) -> Result<Qty, QtyError> {
        parse_scaled(text, 6).map(Qty)
    }

    /// From a JSON number: floats are not exact, so they are rounded to the nearest micro-unit
    /// (their shortest decimal form is what the sender wrote for any sane input).
    pub fn from_f64(v: f64) -> Result<Qty, QtyError> {
        if !v.is_finite() {
            return Err(QtyError::NotANumber);
        }
        let text = format!("{v}");
        match parse_scaled(&text, 6) {
            Err(QtyError::TooPrecise) => {
                let scaled = (v * MICRO as f64).round();
                if scaled.abs() > MAX_QTY as f64 {
                    Err(QtyError::TooLarge)
                } else {
                    Ok(Qty(scaled as i64))
                }
            }
            other => other.map(Qty),
        }
    }

    /// The quantity as plain decimal text without trailing zeros: `12.5`, `-3`, `0.000001`.
    pub fn to_text(self) -> String {
        format_scaled(self.0, 6)
    }

    /// `self × num / den`, rounded half away from zero; `None` when `den` is 0 or the result
    /// does not fit.
    pub fn mul_div(self, num: i64, den: i64) -> Option<Qty> {
        mul_div_round(self.0, num, den).map(Qty)
    }

    pub fn checked_add(self, o: Qty) -> Option<Qty> {
        self.0.checked_add(o.0).map(Qty)
    }

    pub fn checked_sub(self, o: Qty) -> Option<Qty> {
        self.0.checked_sub(o.0).map(Qty)
    }
}

impl std::ops::Neg for Qty {
    type Output = Qty;
    fn neg(self) -> Qty {
        Qty(-self.0)
    }
}

impl std::fmt::Display for Qty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Quantities travel as decimal strings (`"12.5"`); numbers are accepted on input.
impl Serialize for Qty {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_text())
    }
}

impl<'de> Deserialize<'de> for Qty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Qty, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Qty;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal quantity such as \"12.5\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Qty, E> {
                Qty::parse(v).map_err(|e| E::custom(format!("quantity {e}")))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Qty, E> {
                v.checked_mul(MICRO)
                    .filter(|m| m.abs() <= MAX_QTY)
                    .map(Qty)
                    .ok_or_else(|| E::custom("quantity is too large"))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Qty, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom("quantity is too large"))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Qty, E> {
                Qty::from_f64(v).map_err(|e| E::custom(format!("quantity {e}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parse decimal text into an integer scaled by 10^`scale`.
pub fn parse_scaled(text: &str, scale: u32) -> Result<i64, QtyError> {
    let t = text.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let body: String = body.chars().filter(|c| *c != ',' && *c != '_').collect();
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, f),
        None => (body.as_str(), ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(QtyError::NotANumber);
    }
    let frac_trimmed = frac_part.trim_end_matches('0');
    if frac_trimmed.len() > scale as usize {
        return Err(QtyError::TooPrecise);
    }
    let int_digits = int_part.trim_start_matches('0');
    if int_digits.len() > 13 {
        return Err(QtyError::TooLarge);
    }
    let mut v: i128 = 0;
    for b in int_digits.bytes() {
        v = v * 10 + i128::from(b - b'0');
    }
    let mut f: i128 = 0;
    for i in 0..scale as usize {
        let d = frac_trimmed
            .as_bytes()
            .get(i)
            .map(|b| b - b'0')
            .unwrap_or(0);
        f = f * 10 + i128::from(d);
    }
    let total = v * 10i128.pow(scale) + f;
    let total = if neg { -total } else { total };
    if total.abs() > i128::from(MAX_QTY) {
        return Err(QtyError::TooLarge);
    }
    i64::try_from(total).map_err(|_| QtyError::TooLarge)
}

/// Render an integer scaled by 10^`scale` as decimal text without trailing zeros.
pub fn format_scaled(v: i64, scale: u32) -> String {
    let unit = 10i128.pow(scale);
    let a = i128::from(v).abs();
    let int = a / unit;
    let frac = a % unit;
    let sign = if v < 0 { "-" } else { "" };
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let mut f = format!("{frac:0width$}", width = scale as usize);
    while f.ends_with('0') {
        f.pop();
    }
    format!("{sign}{int}.{f}")
}

/// `v × num / den` rounded half away from zero, in `i128`; `None` if `den == 0` or the result
/// overflows `i64`.
pub fn mul_div_round(v: i64, num: i64, den: i64) -> Option<i64> {
    if den == 0 {
        return None;
    }
    let p = i128::from(v) * i128::from(num);
    let d = i128::from(den);
    let q = p / d;
    let r = p % d;
    let q = if r.abs() * 2 >= d.abs() {
        if (p < 0) != (d < 0) { q - 1 } else { q + 1 }
    } else {
        q
    };
    i64::try_from(q).ok()
}

/// Money in minor units as text with two decimals: `1234` → `12.34`, `-5` → `-0.05`.
pub fn money_text(minor: i64) -> String {
    let a = i128::from(minor).abs();
    let sign = if minor < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", a / 100, a % 100)
}

/// Parse money text (`12.34`, `12`, `-0.5`) into minor units (at most 2 decimals).
pub fn parse_money(text: &str) -> Result<i64, QtyError> {
    parse_scaled(text, 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_exactly() {
        assert_eq!(Qty::parse("12.5"), Ok(Qty(12_500_000)));
        assert_eq!(Qty::parse("-0.000001"), Ok(Qty(-1)));
        assert_eq!(Qty::parse("1,234.50"), Ok(Qty(1_234_500_000)));
        assert_eq!(Qty::parse("+7"), Ok(Qty(7_000_000)));
        assert_eq!(Qty::parse(".5"), Ok(Qty(500_000)));
        assert_eq!(Qty::parse("1.0000001"), Err(QtyError::TooPrecise));
        assert_eq!(Qty::parse("1.10000000"), Ok(Qty(1_100_000)));
        assert_eq!(Qty::parse("abc"), Err(QtyError::NotANumber));
        assert_eq!(Qty::parse(""), Err(QtyError::NotANumber));
        assert_eq!(Qty::parse("."), Err(QtyError::NotANumber));
        assert_eq!(Qty::parse("1e5"), Err(QtyError::NotANumber));
        assert_eq!(Qty::parse("99999999999999"), Err(QtyError::TooLarge));
        assert_eq!(Qty(12_500_000).to_text(), "12.5");
        assert_eq!(Qty(-1).to_text(), "-0.000001");
        assert_eq!(Qty(3 * MICRO).to_text(), "3");
        assert_eq!(Qty(0).to_text(), "0");
    }

    #[test]
    fn json_numbers_round_to_micro_units() {
        let q: Qty = serde_json::from_str("1.5").expect("number");
        assert_eq!(q, Qty(1_500_000));
        let q: Qty = serde_json::from_str("0.1").expect("number");
        assert_eq!(q, Qty(100_000));
        let q: Qty = serde_json::from_str("3").expect("integer");
        assert_eq!(q, Qty(3_000_000));
        let q: Qty = serde_json::from_str("\"2.25\"").expect("string");
        assert_eq!(q, Qty(2_250_000));
        assert!(serde_json::from_str::<Qty>("1e30").is_err());
        assert!(serde_json::from_str::<Qty>("true").is_err());
        assert_eq!(serde_json::to_string(&Qty(2_250_000)).unwrap(), "\"2.25\"");
    }

    #[test]
    fn mul_div_rounds_half_away_from_zero() {
        assert_eq!(mul_div_round(5, 1, 2), Some(3));
        assert_eq!(mul_div_round(-5, 1, 2), Some(-3));
        assert_eq!(mul_div_round(4, 1, 3), Some(1));
        assert_eq!(mul_div_round(-4, 1, 3), Some(-1));
        assert_eq!(mul_div_round(10, 3, -4), Some(-8));
        assert_eq!(mul_div_round(1, 1, 0), None);
        assert_eq!(mul_div_round(i64::MAX, 4, 1), None);
    }

    #[test]
    fn money() {
        assert_eq!(money_text(1234), "12.34");
        assert_eq!(money_text(-5), "-0.05");
        assert_eq!(parse_money("12.3"), Ok(1230));
        assert_eq!(parse_money("0.001"), Err(QtyError::TooPrecise));
    }
}
