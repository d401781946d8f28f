//! Units of measure and conversions. Standard units (`g`, `kg`, `ml`, `l`, `ea`, …) convert
//! within their dimension by fixed factors; an item adds its own units (a `case` of 12 bags, a
//! `bag` of 1 kg, an `ea` egg of 60 g) as a factor to its base unit. Every quantity an item
//! has in the ledger is in its base unit; input in any other unit is converted exactly (to the
//! micro-unit, rounding half away from zero) or refused when no conversion exists.

use boh_kernel::Qty;
use boh_kernel::qty::{MICRO, mul_div_round};

/// A standard unit: code, dimension, micro reference units per unit (reference: g, ml, ea, cm),
/// English and Chinese names.
pub struct StdUnit {
    pub code: &'static str,
    pub dimension: &'static str,
    pub factor: i64,
    pub name_en: &'static str,
    pub name_zh: &'static str,
}

macro_rules! unit {
    ($c:expr, $d:expr, $f:expr, $en:expr, $zh:expr) => {
        StdUnit {
            code: $c,
            dimension: $d,
            factor: $f,
            name_en: $en,
            name_zh: $zh,
        }
    };
}

pub const STANDARD_UNITS: &[StdUnit] = &[
    unit!("mg", "mass", 1_000, "milligram", "毫克"),
    unit!("g", "mass", MICRO, "gram", "克"),
    unit!("kg", "mass", 1_000 * MICRO, "kilogram", "千克"),
    unit!("t", "mass", 1_000_000 * MICRO, "tonne", "吨"),
    unit!("jin", "mass", 500 * MICRO, "jin (500 g)", "斤"),
    unit!("liang", "mass", 50 * MICRO, "liang (50 g)", "两"),
    unit!("lb", "mass", 453_592_370, "pound", "磅"),
    unit!("oz", "mass", 28_349_523, "ounce", "盎司"),
    unit!("ml", "volume", MICRO, "millilitre", "毫升"),
    unit!("cl", "volume", 10 * MICRO, "centilitre", "厘升"),
    unit!("l", "volume", 1_000 * MICRO, "litre", "升"),
    unit!("floz", "volume", 29_573_530, "fluid ounce", "液量盎司"),
    unit!("gal", "volume", 3_785_411_784, "US gallon", "加仑"),
    unit!("ea", "count", MICRO, "each", "个"),
    unit!("pc", "count", MICRO, "piece", "件"),
    unit!("dozen", "count", 12 * MICRO, "dozen", "打"),
    unit!("cm", "length", MICRO, "centimetre", "厘米"),
    unit!("m", "length", 100 * MICRO, "metre", "米"),
];

pub fn standard(code: &str) -> Option<&'static StdUnit> {
    STANDARD_UNITS.iter().find(|u| u.code == code)
}

/// A unit code: 1–16 letters, digits, `_` or `-`, lowercase.
pub fn valid_unit_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 16
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// The conversions an item knows: its base unit and its own units (micro base units per unit).
#[derive(Debug, Clone, Default)]
pub struct Conversions {
    pub base_unit: String,
    pub units: Vec<(String, i64)>,
}

impl Conversions {
    /// Micro base units in one `unit`, or `None` when the item cannot convert it.
    pub fn factor(&self, unit: &str) -> Option<i64> {
        if unit == self.base_unit {
            return Some(MICRO);
        }
        if let Some((_, f)) = self.units.iter().find(|(u, _)| u == unit) {
            return Some(*f);
        }
        let (from, base) = (standard(unit)?, standard(&self.base_unit)?);
        if from.dimension != base.dimension {
            return None;
        }
        mul_div_round(from.factor, MICRO, base.factor)
    }

    /// `qty` of `unit` in base units.
    pub fn to_base(&self, qty: Qty, unit: &str) -> Option<Qty> {
        let f = self.factor(unit)?;
        qty.mul_div(f, MICRO)
    }

    /// `qty` base units in `unit`.
    pub fn from_base(&self, qty: Qty, unit: &str) -> Option<Qty> {
        let f = self.factor(unit)?;
        if f == 0 {
            return None;
        }
        qty.mul_div(MICRO, f)
    }

    /// Every unit an entry form may offer: the base unit, the item's own units, and the
    /// standard units of the base unit's dimension.
    pub fn offered(&self) -> Vec<String> {
        let mut out = vec![self.base_unit.clone()];
        for (u, _) in &self.units {
            if !out.contains(u) {
                out.push(u.clone());
            }
        }
        if let Some(b) = standard(&self.base_unit) {
            for s in STANDARD_UNITS.iter().filter(|s| s.dimension == b.dimension) {
                if !out.iter().any(|u| u == s.code) {
                    out.push(s.code.to_string());
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flour() -> Conversions {
        Conversions {
            base_unit: "kg".into(),
            units: vec![("bag".into(), MICRO), ("case".into(), 12 * MICRO)],
        }
    }

    #[test]
    fn converts_along_the_pack_chain() {
        let c = flour();
        // A case of 12 bags of 1 kg = 12 kg; 250 g = 0.25 kg.
        assert_eq!(c.to_base(Qty::units(1), "case"), Some(Qty::units(12)));
        assert_eq!(c.to_base(Qty::units(3), "bag"), Some(Qty::units(3)));
        assert_eq!(c.to_base(Qty::units(250), "g"), Some(Qty(250_000)));
        assert_eq!(c.to_base(Qty(500_000), "g"), Some(Qty(500)));
        assert_eq!(c.to_base(Qty::units(2), "jin"), Some(Qty::units(1)));
        assert_eq!(c.from_base(Qty::units(30), "case"), Some(Qty(2_500_000)));
        assert_eq!(c.to_base(Qty::units(1), "l"), None, "no mass-volume link");
        assert_eq!(c.to_base(Qty::units(1), "box"), None, "unknown unit");
    }

    #[test]
    fn item_units_may_cross_dimensions() {
        let eggs = Conversions {
            base_unit: "kg".into(),
            units: vec![("ea".into(), 60_000)],
        };
        assert_eq!(eggs.to_base(Qty::units(10), "ea"), Some(Qty(600_000)));
        assert!(eggs.offered().contains(&"g".to_string()));
    }
}
