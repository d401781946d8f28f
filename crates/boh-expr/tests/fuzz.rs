//! Randomized tests without extra crates: a small LCG drives
//! - token soups, which must never make `compile`, `eval` or `explain` panic, and
//! - random well-formed arithmetic and boolean trees, rendered with as few parentheses as the
//!   precedence rules allow, whose values must match a reference evaluation (which checks
//!   precedence, associativity and overflow together).

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};

use boh_expr::{EvalError, Expr, Facts, Schema, Type, Value, codes};

/// Knuth's MMIX linear congruential generator; fixed seeds keep failures reproducible.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const VOCABULARY: &[&str] = &[
    "amount",
    "yen",
    "fee",
    "qty",
    "category",
    "store",
    "supplier.code",
    "tags",
    "ids",
    "urgent",
    "amout",
    "Amount",
    "x.y",
    "and",
    "AND",
    "or",
    "Or",
    "not",
    "NOT",
    "in",
    "contains",
    "starts_with",
    "true",
    "FALSE",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "+",
    "-",
    "*",
    "(",
    ")",
    "(",
    ")",
    "[",
    "]",
    ",",
    "'meat'",
    "\"fish\"",
    "''",
    "'",
    "\"",
    "\\",
    "'it\\'s'",
    "'店铺'",
    "店",
    "5000",
    "5000.5",
    "0.001",
    "1.0",
    "0",
    "-1",
    "9223372036854775807",
    "99999999999999999999999",
    "1.",
    ".5",
    "5abc",
    "&&",
    "||",
    "!",
    "=",
    "&",
    "|",
    "/",
    ".",
    "#",
    "\t",
    "\n",
    "'a\\nb'",
];

const CODES: &[&str] = &[
    codes::SYNTAX,
    codes::UNKNOWN_FIELD,
    codes::TYPE_MISMATCH,
    codes::BAD_LITERAL,
    codes::TOO_LONG,
    codes::TOO_DEEP,
    codes::TOO_COMPLEX,
    codes::TOO_MANY_ITEMS,
];

/// Fact sets to evaluate against: normal, empty, mistyped and extreme values.
fn fact_sets() -> Vec<Facts> {
    let mut extreme = common::facts();
    for name in ["amount", "yen", "fee"] {
        extreme.insert(name, Value::Money(i64::MAX));
    }
    extreme.insert("qty", Value::Int(i64::MIN));
    let mut mistyped = Facts::new();
    for name in [
        "amount", "yen", "fee", "qty", "category", "store", "tags", "ids", "urgent",
    ] {
        mistyped.insert(name, Value::Text("?".into()));
    }
    mistyped.insert("category", Value::Int(1));
    vec![common::facts(), Facts::new(), mistyped, extreme]
}

fn check_soup(src: &str, schema: &Schema, facts: &[Facts]) {
    match Expr::compile(src, schema) {
        Err(e) => {
            assert!(CODES.contains(&e.code), "{src:?}: unknown code {}", e.code);
            assert!(
                e.position <= src.chars().count(),
                "{src:?}: position {} out of range",
                e.position
            );
            assert!(!e.message.is_empty(), "{src:?}");
        }
        Ok(expr) => {
            assert_eq!(expr.source(), src);
            for f in facts {
                let result = expr.eval(f);
                let explained = expr.explain(f);
                if let (Ok(value), Ok(parts)) = (&result, &explained) {
                    assert!(!parts.is_empty(), "{src:?}");
                    // The operands are of one and/or chain, so the value is their all or any.
                    let all = parts.iter().all(|(_, v)| *v);
                    let any = parts.iter().any(|(_, v)| *v);
                    assert!(*value == all || *value == any, "{src:?}");
                }
                // Explain evaluates everything, so it fails whenever eval does.
                if result.is_err() {
                    assert!(explained.is_err(), "{src:?}");
                }
            }
        }
    }
}

#[test]
fn token_soups_never_panic() {
    let schema = common::schema();
    let facts = fact_sets();
    let mut rng = Lcg(0x5EED_0001);
    let mut compiled = 0;
    for _ in 0..30_000 {
        let len = rng.below(24);
        let mut src = String::new();
        for _ in 0..len {
            src.push_str(rng.pick(VOCABULARY));
            src.push_str(rng.pick(&[" ", " ", " ", "", "  "]));
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| check_soup(&src, &schema, &facts)));
        if let Err(panic) = outcome {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("compiling {src:?} panicked: {why}");
        }
        if Expr::compile(&src, &schema).is_ok() {
            compiled += 1;
        }
    }
    // The soups are not all rejected at the first token: some are valid conditions.
    assert!(compiled > 20, "only {compiled} soups compiled");
}

/// Valid conditions, written with spaces between tokens so they can be mutated token-wise.
const CORPUS: &[&str] = &[
    "amount >= 5000 and category in [ 'meat' , 'seafood' ]",
    "qty * 2 + 1 > 3 or not urgent",
    "tags contains 'frozen' and store starts_with 'S0'",
    "amount * 1.1 - 0.5 < amount * 2 + 0.01 and yen * 0 == 0",
    "( qty > 1 or urgent ) and ids contains 42",
    "supplier.code not in [ 'a' , 'b' ] || fee > 1.5",
    "- qty * - 3 == 9 && ! ( tags == [ 'x' ] )",
    "amount in [ 100 , 250.5 ] or amount * qty > 92233720368547758.07",
];

#[test]
fn mutated_conditions_never_panic() {
    let schema = common::schema();
    let facts = fact_sets();
    for src in CORPUS {
        common::compile(src);
    }
    let mut rng = Lcg(99);
    let mut compiled = 0;
    for _ in 0..30_000 {
        let mut tokens: Vec<&str> = rng.pick(CORPUS).split(' ').collect();
        for _ in 0..=rng.below(3) {
            let at = rng.below(tokens.len() + 1);
            match rng.below(3) {
                0 if at < tokens.len() => {
                    tokens.remove(at);
                }
                1 if at < tokens.len() => tokens[at] = rng.pick(VOCABULARY),
                _ => tokens.insert(at, rng.pick(VOCABULARY)),
            }
        }
        let src = tokens.join(" ");
        let outcome = catch_unwind(AssertUnwindSafe(|| check_soup(&src, &schema, &facts)));
        assert!(outcome.is_ok(), "compiling {src:?} panicked");
        if Expr::compile(&src, &schema).is_ok() {
            compiled += 1;
        }
    }
    // Many mutants still compile, so evaluation is exercised too.
    assert!(compiled > 500, "only {compiled} mutants compiled");
}

#[test]
fn random_characters_never_panic() {
    let schema = common::schema();
    let facts = fact_sets();
    let alphabet: Vec<char> = "aqt_.'\"\\ ()[],<>=!&|+-*/019 \u{5e97}\u{1F600}\u{0}"
        .chars()
        .collect();
    let mut rng = Lcg(42);
    for _ in 0..20_000 {
        let len = rng.below(40);
        let src: String = (0..len)
            .map(|_| alphabet[rng.below(alphabet.len())])
            .collect();
        check_soup(&src, &schema, &facts);
    }
}

/// A small arithmetic tree over `qty` and digits.
enum Num {
    Qty,
    Lit(i64),
    Neg(Box<Num>),
    Bin(char, Box<Num>, Box<Num>),
}

impl Num {
    fn random(rng: &mut Lcg, depth: u32) -> Num {
        let choice = if depth == 0 {
            rng.below(2)
        } else {
            rng.below(7)
        };
        match choice {
            0 => Num::Qty,
            1 => Num::Lit(rng.below(10) as i64),
            2 => Num::Neg(Box::new(Num::random(rng, depth - 1))),
            n => Num::Bin(
                ['+', '-', '*', '*'][n - 3],
                Box::new(Num::random(rng, depth - 1)),
                Box::new(Num::random(rng, depth - 1)),
            ),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Num::Bin('*', ..) => 2,
            Num::Bin(..) => 1,
            Num::Neg(_) => 3,
            _ => 4,
        }
    }

    /// Renders with the fewest parentheses that keep the tree (operators are left-associative,
    /// so a right operand of the same precedence needs them), or fully parenthesized.
    fn render(&self, full: bool) -> String {
        let wrap = |child: &Num, needed: bool| {
            let text = child.render(full);
            if needed || (full && child.precedence() < 4) {
                format!("({text})")
            } else {
                text
            }
        };
        match self {
            Num::Qty => "qty".to_string(),
            Num::Lit(n) => n.to_string(),
            Num::Neg(inner) => format!("-{}", wrap(inner, inner.precedence() < 3)),
            Num::Bin(op, l, r) => {
                let p = self.precedence();
                format!(
                    "{} {op} {}",
                    wrap(l, l.precedence() < p),
                    wrap(r, r.precedence() <= p)
                )
            }
        }
    }

    /// The value with checked i64 arithmetic, `None` on overflow.
    fn value(&self, qty: i64) -> Option<i64> {
        match self {
            Num::Qty => Some(qty),
            Num::Lit(n) => Some(*n),
            Num::Neg(inner) => inner.value(qty)?.checked_neg(),
            Num::Bin(op, l, r) => {
                let (a, b) = (l.value(qty)?, r.value(qty)?);
                match op {
                    '+' => a.checked_add(b),
                    '-' => a.checked_sub(b),
                    _ => a.checked_mul(b),
                }
            }
        }
    }
}

#[test]
fn random_arithmetic_matches_reference() {
    let schema = Schema::new()
        .field("qty", Type::Int, "")
        .field("expected", Type::Int, "");
    let mut rng = Lcg(7);
    let mut overflows = 0;
    for _ in 0..3_000 {
        let tree = Num::random(&mut rng, 4);
        let qty = match rng.below(3) {
            0 => rng.below(21) as i64 - 10,
            1 => rng.next() as i64 - (1 << 30),
            _ => [i64::MAX, i64::MIN, 1 << 40, -(1 << 40)][rng.below(4)],
        };
        let reference = tree.value(qty);
        for full in [false, true] {
            let src = format!("{} == expected", tree.render(full));
            let expr = Expr::compile(&src, &schema).unwrap_or_else(|e| panic!("{src}: {e}"));
            let facts = Facts::new()
                .with("qty", Value::Int(qty))
                .with("expected", Value::Int(reference.unwrap_or(0)));
            let expected = match reference {
                Some(_) => Ok(true),
                None => Err(EvalError::Overflow),
            };
            assert_eq!(expr.eval(&facts), expected, "{src} with qty = {qty}");
        }
        if reference.is_none() {
            overflows += 1;
        }
    }
    assert!(
        overflows > 10,
        "the overflow path was exercised {overflows} times"
    );
}

/// A small boolean tree over three yes/no fields and a comparison.
enum Cond {
    Var(usize),
    QtyAbove(i64),
    Not(Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
}

impl Cond {
    fn random(rng: &mut Lcg, depth: u32) -> Cond {
        let choice = if depth == 0 {
            rng.below(2)
        } else {
            rng.below(6)
        };
        match choice {
            0 => Cond::Var(rng.below(3)),
            1 => Cond::QtyAbove(rng.below(5) as i64),
            2 => Cond::Not(Box::new(Cond::random(rng, depth - 1))),
            3 => Cond::And(
                Box::new(Cond::random(rng, depth - 1)),
                Box::new(Cond::random(rng, depth - 1)),
            ),
            _ => Cond::Or(
                Box::new(Cond::random(rng, depth - 1)),
                Box::new(Cond::random(rng, depth - 1)),
            ),
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Cond::Or(..) => 1,
            Cond::And(..) => 2,
            Cond::Not(_) => 3,
            _ => 4,
        }
    }

    /// Minimal parentheses, with keywords in random case or as `&&` / `||` / `!`.
    fn render(&self, rng: &mut Lcg) -> String {
        let wrap = |child: &Cond, p: u8, rng: &mut Lcg| {
            let text = child.render(rng);
            if child.precedence() < p {
                format!("({text})")
            } else {
                text
            }
        };
        match self {
            Cond::Var(i) => ["p", "q", "r"][*i].to_string(),
            Cond::QtyAbove(k) => format!("qty > {k}"),
            Cond::Not(inner) => {
                let op = rng.pick(&["not ", "NOT ", "Not ", "!", "! "]);
                format!("{op}{}", wrap(inner, 3, rng))
            }
            Cond::And(l, r) => {
                let l = wrap(l, 2, rng);
                let op = rng.pick(&["and", "AND", "And", "&&"]);
                format!("{l} {op} {}", wrap(r, 2, rng))
            }
            Cond::Or(l, r) => {
                let l = wrap(l, 1, rng);
                let op = rng.pick(&["or", "OR", "oR", "||"]);
                format!("{l} {op} {}", wrap(r, 1, rng))
            }
        }
    }

    fn value(&self, vars: [bool; 3], qty: i64) -> bool {
        match self {
            Cond::Var(i) => vars[*i],
            Cond::QtyAbove(k) => qty > *k,
            Cond::Not(c) => !c.value(vars, qty),
            Cond::And(a, b) => a.value(vars, qty) && b.value(vars, qty),
            Cond::Or(a, b) => a.value(vars, qty) || b.value(vars, qty),
        }
    }
}

#[test]
fn random_conditions_match_reference() {
    let schema = Schema::new()
        .field("p", Type::Bool, "")
        .field("q", Type::Bool, "")
        .field("r", Type::Bool, "")
        .field("qty", Type::Int, "");
    let mut rng = Lcg(2024);
    for _ in 0..2_000 {
        let tree = Cond::random(&mut rng, 4);
        let src = tree.render(&mut rng);
        let expr = Expr::compile(&src, &schema).unwrap_or_else(|e| panic!("{src}: {e}"));
        for bits in 0..8u8 {
            let vars = [bits & 1 != 0, bits & 2 != 0, bits & 4 != 0];
            let qty = rng.below(6) as i64;
            let facts = Facts::new()
                .with("p", Value::Bool(vars[0]))
                .with("q", Value::Bool(vars[1]))
                .with("r", Value::Bool(vars[2]))
                .with("qty", Value::Int(qty));
            assert_eq!(
                expr.eval(&facts),
                Ok(tree.value(vars, qty)),
                "{src} with {vars:?}, qty = {qty}"
            );
        }
    }
}
