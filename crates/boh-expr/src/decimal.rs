//! Exact decimal numbers for literals.
//!
//! A numeric literal is kept exactly as written, `units / 10^scale` (so `5000.50` is
//! `500050 / 10^2`), and is converted to an `i64` (a whole number or minor units of money) only
//! once the checker knows what it is compared or combined with. No floating point is used
//! anywhere in this crate.

/// The most decimal places a literal (or a product of literals) may have. Keeps `10^scale`
/// comfortably inside `i128` so rounding arithmetic cannot overflow on the divisor.
pub(crate) const MAX_SCALE: u32 = 18;

/// An exact decimal number: `units / 10^scale`.
///
/// `scale` is the number of decimal places *as written*: `1.0` has scale 1 and is therefore not
/// a whole-number literal, even though its value is integral.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Decimal {
    pub(crate) units: i128,
    pub(crate) scale: u32,
}

/// Why a decimal could not be built or converted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecimalError {
    /// The value does not fit (in `i128` while folding, or in `i64` when converting).
    TooLarge,
    /// More decimal places than allowed (`MAX_SCALE`, or the scale of a money field).
    TooPrecise,
}

/// `10^n`, or `None` when it does not fit in an `i128`.
pub(crate) fn pow10(n: u32) -> Option<i128> {
    10i128.checked_pow(n)
}

impl Decimal {
    /// A whole number.
    #[cfg(test)]
    pub(crate) fn integer(units: i128) -> Self {
        Self { units, scale: 0 }
    }

    /// Parses the digits of a literal: `int` before the decimal point and `frac` after it
    /// (`None` when there is no point). Both must be ASCII digits only; the lexer ensures that.
    pub(crate) fn from_digits(int: &str, frac: Option<&str>) -> Result<Self, DecimalError> {
        let frac = frac.unwrap_or("");
        let scale = u32::try_from(frac.len()).map_err(|_| DecimalError::TooPrecise)?;
        if scale > MAX_SCALE {
            return Err(DecimalError::TooPrecise);
        }
        let mut units: i128 = 0;
        for c in int.chars().chain(frac.chars()) {
            let digit = i128::from(c.to_digit(10).ok_or(DecimalError::TooLarge)?);
            units = units
                .checked_mul(10)
                .and_then(|u| u.checked_add(digit))
                .ok_or(DecimalError::TooLarge)?;
        }
        Ok(Self { units, scale })
    }

    /// `true` when the literal was written without a decimal point.
    pub(crate) fn is_whole(self) -> bool {
        self.scale == 0
    }

    /// The same value written with `scale` decimal places (`scale >= self.scale`).
    fn rescale(self, scale: u32) -> Result<i128, DecimalError> {
        let factor = pow10(scale - self.scale).ok_or(DecimalError::TooLarge)?;
        self.units.checked_mul(factor).ok_or(DecimalError::TooLarge)
    }

    pub(crate) fn checked_neg(self) -> Result<Self, DecimalError> {
        Ok(Self {
            units: self.units.checked_neg().ok_or(DecimalError::TooLarge)?,
            scale: self.scale,
        })
    }

    pub(crate) fn checked_add(self, other: Self) -> Result<Self, DecimalError> {
        let scale = self.scale.max(other.scale);
        let units = self
            .rescale(scale)?
            .checked_add(other.rescale(scale)?)
            .ok_or(DecimalError::TooLarge)?;
        Ok(Self { units, scale })
    }

    pub(crate) fn checked_sub(self, other: Self) -> Result<Self, DecimalError> {
        self.checked_add(other.checked_neg()?)
    }

    pub(crate) fn checked_mul(self, other: Self) -> Result<Self, DecimalError> {
        let scale = self.scale + other.scale;
        if scale > MAX_SCALE {
            return Err(DecimalError::TooPrecise);
        }
        let units = self
            .units
            .checked_mul(other.units)
            .ok_or(DecimalError::TooLarge)?;
        Ok(Self { units, scale })
    }

    /// The value as a whole number. The caller has checked [`Decimal::is_whole`].
    pub(crate) fn to_int(self) -> Result<i64, DecimalError> {
        if !self.is_whole() {
            return Err(DecimalError::TooPrecise);
        }
        i64::try_from(self.units).map_err(|_| DecimalError::TooLarge)
    }

    /// The value in minor units of a money type with `scale` decimal places, exactly.
    ///
    /// A literal written with more decimal places than the money scale is rejected even when
    /// the extra digits are zeros (`5.10` for a scale-1 amount), so the rule an admin has to
    /// remember is simply "no more decimals than the currency has".
    pub(crate) fn to_minor_units(self, scale: u8) -> Result<i64, DecimalError> {
        let scale = u32::from(scale);
        if self.scale > scale {
            return Err(DecimalError::TooPrecise);
        }
        i64::try_from(self.rescale(scale)?).map_err(|_| DecimalError::TooLarge)
    }

    /// Renders the value in plain decimal notation (used in tests and debug output).
    #[cfg(test)]
    pub(crate) fn to_plain_string(self) -> String {
        let sign = if self.units < 0 { "-" } else { "" };
        let digits = self.units.unsigned_abs().to_string();
        let scale = self.scale as usize;
        if scale == 0 {
            return format!("{sign}{digits}");
        }
        let digits = format!("{digits:0>width$}", width = scale + 1);
        let (int, frac) = digits.split_at(digits.len() - scale);
        format!("{sign}{int}.{frac}")
    }
}

/// `amount * factor` for an amount in minor units, rounded half away from zero to whole minor
/// units (`1.005` → `1.01`, `-1.005` → `-1.01` at scale 2). `None` on overflow.
pub(crate) fn mul_round(amount: i64, factor: Decimal) -> Option<i64> {
    let product = i128::from(amount).checked_mul(factor.units)?;
    let divisor = pow10(factor.scale)?;
    let mut quotient = product / divisor;
    // `%` truncates towards zero, so the remainder has the sign of the product.
    let remainder = product % divisor;
    // `remainder < divisor <= 10^18`, so doubling it cannot overflow.
    if remainder.abs() * 2 >= divisor {
        quotient += product.signum();
    }
    i64::try_from(quotient).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        let (int, frac) = match s.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (s, None),
        };
        Decimal::from_digits(int, frac).unwrap()
    }

    #[test]
    fn parses_exactly() {
        assert_eq!(
            d("5000.50"),
            Decimal {
                units: 500050,
                scale: 2
            }
        );
        assert_eq!(d("0.001").to_plain_string(), "0.001");
        assert_eq!(d("007").units, 7);
        assert!(d("12").is_whole());
        assert!(!d("1.0").is_whole());
    }

    #[test]
    fn rejects_too_many_digits() {
        let huge = "9".repeat(40);
        assert_eq!(
            Decimal::from_digits(&huge, None),
            Err(DecimalError::TooLarge)
        );
        let precise = "1".repeat(19);
        assert_eq!(
            Decimal::from_digits("0", Some(&precise)),
            Err(DecimalError::TooPrecise)
        );
        assert!(Decimal::from_digits("0", Some(&"1".repeat(18))).is_ok());
    }

    #[test]
    fn converts_to_minor_units() {
        assert_eq!(d("5000.5").to_minor_units(2), Ok(500050));
        assert_eq!(d("5000").to_minor_units(2), Ok(500000));
        assert_eq!(d("5000").to_minor_units(0), Ok(5000));
        assert_eq!(d("0.001").to_minor_units(2), Err(DecimalError::TooPrecise));
        assert_eq!(d("5.10").to_minor_units(1), Err(DecimalError::TooPrecise));
        assert_eq!(d("0.5").to_minor_units(0), Err(DecimalError::TooPrecise));
        assert_eq!(
            d("92233720368547758.08").to_minor_units(2),
            Err(DecimalError::TooLarge)
        );
        assert_eq!(d("92233720368547758.07").to_minor_units(2), Ok(i64::MAX));
        assert_eq!(d("1").to_minor_units(200), Err(DecimalError::TooLarge));
    }

    #[test]
    fn folds() {
        assert_eq!(
            d("5000").checked_add(d("0.5")).unwrap().to_plain_string(),
            "5000.5"
        );
        assert_eq!(
            d("1").checked_sub(d("2.25")).unwrap().to_plain_string(),
            "-1.25"
        );
        assert_eq!(
            d("1.5").checked_mul(d("0.25")).unwrap().to_plain_string(),
            "0.375"
        );
        assert_eq!(d("2").checked_mul(d("3")).unwrap(), Decimal::integer(6));
        let big = Decimal::integer(i128::MAX);
        assert_eq!(big.checked_add(d("1")), Err(DecimalError::TooLarge));
        assert_eq!(big.checked_mul(d("2")), Err(DecimalError::TooLarge));
        assert_eq!(
            Decimal::integer(i128::MIN).checked_neg(),
            Err(DecimalError::TooLarge)
        );
        let fine = d("0.0000000001");
        assert_eq!(fine.checked_mul(fine), Err(DecimalError::TooPrecise));
        assert_eq!(d("3").checked_neg().unwrap().to_int(), Ok(-3));
        assert_eq!(d("1.0").to_int(), Err(DecimalError::TooPrecise));
    }

    #[test]
    fn rounds_half_away_from_zero() {
        // 1.00 * 1.005 = 1.005 -> 1.01 (scale 2 amounts: 100 minor units)
        assert_eq!(mul_round(100, d("1.005")), Some(101));
        assert_eq!(mul_round(-100, d("1.005")), Some(-101));
        assert_eq!(mul_round(100, d("1.004")), Some(100));
        assert_eq!(mul_round(-100, d("1.004")), Some(-100));
        assert_eq!(mul_round(500000, d("1.1")), Some(550000));
        assert_eq!(mul_round(5, d("0.5")), Some(3));
        assert_eq!(mul_round(-5, d("0.5")), Some(-3));
        assert_eq!(mul_round(3, d("0.5")), Some(2));
        assert_eq!(mul_round(0, d("0.5")), Some(0));
        assert_eq!(mul_round(i64::MAX, d("2.0")), None);
        assert_eq!(mul_round(i64::MAX, d("1.0")), Some(i64::MAX));
        assert_eq!(mul_round(i64::MIN, d("1.0")), Some(i64::MIN));
    }
}
