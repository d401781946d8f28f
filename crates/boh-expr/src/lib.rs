//! The condition language of approval-workflow definitions.
//!
//! An admin types a condition such as
//!
//! ```text
//! amount >= 5000 and category in ['meat', 'seafood']
//! ```
//!
//! into a workflow definition. The server compiles it with [`Expr::compile`] when the definition
//! is saved — parsing it and checking it against the document type's [`Schema`] — and later
//! evaluates it against a document's [`Facts`] with [`Expr::eval`]. The language is small and
//! safe: no loops, no function calls, no code execution; evaluation is linear in the size of the
//! checked tree, and every limit ([`MAX_SOURCE_CHARS`], [`MAX_NODES`], [`MAX_DEPTH`],
//! [`MAX_LIST_ITEMS`]) is enforced while parsing.
//!
//! # Language
//!
//! - Literals: whole numbers `5000`, decimals `5000.50` (exact, never floating point), text in
//!   single or double quotes (`'meat'`, `"it's"`; a backslash escapes `\'`, `\"` and `\\`),
//!   `true` / `false`, and lists of literals `['meat', 'fish']`, `[1, 2]` (one type, at most
//!   [`MAX_LIST_ITEMS`] items).
//! - Field references: `amount`, `supplier.code` (`[a-z_][a-z0-9_]*`, dot-separated), looked up
//!   in the schema.
//! - Operators, from lowest to highest precedence: `or`; `and`; `not` (prefix); the comparisons
//!   `==  !=  <  <=  >  >=`, `in`, `not in`, `contains`, `starts_with` (which do not chain); `+`
//!   and `-`; `*`; unary `-`; parentheses. Keywords are case-insensitive, and `&&`, `||`, `!`
//!   are synonyms of `and`, `or`, `not`.
//!
//! # Types and semantics
//!
//! - `< <= > >=` compare whole numbers, money (of the same scale) and text (by Unicode code
//!   point, case-sensitively); `==` / `!=` compare any two values of the same type (lists
//!   element by element, in order).
//! - `value in [..]` / `value not in [..]` test membership in a list literal (whose items take
//!   the value's type, so `amount in [100, 250.50]` works for money) or in a list field;
//!   `list contains value` tests a list field; `text starts_with prefix` tests text, case-
//!   sensitively.
//! - `+` and `-` combine two whole numbers or two amounts of the same scale; `*` multiplies two
//!   whole numbers, money by a whole number (either order), or money by a decimal literal
//!   (`amount * 1.1`). The last is **rounded half away from zero** to the money's minor units:
//!   at scale 2, `1.00 * 1.005` is `1.01` and `-1.00 * 1.005` is `-1.01`.
//! - A numeric literal takes the type of what it is compared or combined with. With money of
//!   scale 2, `5000.5` is 500050 minor units; a literal with more decimal places than the scale
//!   (`0.001`, or even `0.100`) is an error, as is a decimal literal used with a whole number
//!   (`qty > 1.0`). A literal-only subexpression (`5000 + 0.5`) is folded exactly first.
//! - All arithmetic is checked: an overflow while evaluating is [`EvalError::Overflow`], and an
//!   overflow while folding literals is a compile error (`bad_literal`).
//! - The whole condition must be a yes/no test.
//! - `and` / `or` short-circuit in [`Expr::eval`]: a fact that the answer does not depend on
//!   may be missing.
//!
//! # Example
//!
//! ```
//! use boh_expr::{Expr, Facts, Schema, Type, Value};
//!
//! let schema = Schema::new()
//!     .field("amount", Type::Money { scale: 2 }, "Order total")
//!     .field("category", Type::Text, "Main category");
//! let expr = Expr::compile("amount >= 5000 and category in ['meat', 'seafood']", &schema)?;
//! let facts = Facts::new()
//!     .with("amount", Value::Money(650_000)) // 6500.00
//!     .with("category", Value::Text("meat".into()));
//! assert!(expr.eval(&facts)?);
//! assert_eq!(expr.fields(), ["amount", "category"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

mod check;
mod decimal;
mod eval;
mod lexer;
mod parser;

/// The longest accepted condition, in characters.
pub const MAX_SOURCE_CHARS: usize = 2_000;
/// The most nodes (values, fields and operators) a condition may have.
pub const MAX_NODES: usize = 200;
/// The deepest nesting of parentheses, lists, `not` and unary `-`.
pub const MAX_DEPTH: usize = 32;
/// The most items of one list literal.
pub const MAX_LIST_ITEMS: usize = 100;

/// The stable codes of [`ExprError`]: meant for programs (to pick a translation, a form hint),
/// while the message is for people.
pub mod codes {
    /// Not a well-formed condition: an unexpected or missing token, an unclosed text or
    /// parenthesis, an empty condition.
    pub const SYNTAX: &str = "syntax";
    /// A name that is not a field of the schema.
    pub const UNKNOWN_FIELD: &str = "unknown_field";
    /// Values of types that do not fit together (`amount > 'abc'`), or a condition that is not
    /// a yes/no test.
    pub const TYPE_MISMATCH: &str = "type_mismatch";
    /// A number that is too large, or has more decimal places than allowed.
    pub const BAD_LITERAL: &str = "bad_literal";
    /// More than [`MAX_SOURCE_CHARS`](crate::MAX_SOURCE_CHARS) characters.
    pub const TOO_LONG: &str = "too_long";
    /// Nested deeper than [`MAX_DEPTH`](crate::MAX_DEPTH).
    pub const TOO_DEEP: &str = "too_deep";
    /// More than [`MAX_NODES`](crate::MAX_NODES) nodes.
    pub const TOO_COMPLEX: &str = "too_complex";
    /// A list literal with more than [`MAX_LIST_ITEMS`](crate::MAX_LIST_ITEMS) items.
    pub const TOO_MANY_ITEMS: &str = "too_many_items";
}

/// The type of a field (and of any subexpression).
///
/// Serialized with lowercase names: `"bool"`, `"int"`, `{"money": {"scale": 2}}`, `"text"`,
/// `"text_list"`, `"int_list"`. [`fmt::Display`] gives the wording used in messages for admins
/// (`money`, `list of text`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    /// Yes or no.
    Bool,
    /// A whole number (`i64`).
    Int,
    /// An amount of money in minor units: with `scale` 2, the value 500000 is 5000.00.
    Money {
        /// Decimal places of the currency (2 for CNY, 0 for JPY).
        scale: u8,
    },
    /// Text.
    Text,
    /// A list of text.
    TextList,
    /// A list of whole numbers.
    IntList,
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Bool => "yes/no",
            Type::Int => "whole number",
            Type::Money { .. } => "money",
            Type::Text => "text",
            Type::TextList => "list of text",
            Type::IntList => "list of whole numbers",
        })
    }
}

/// The fields a condition may use: name → type and a description for people.
///
/// It serializes as a list of `{"name", "type", "description"}` objects, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    fields: BTreeMap<String, (Type, String)>,
}

impl Schema {
    /// An empty schema.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field.
    ///
    /// # Panics
    ///
    /// When `name` cannot be written in a condition (it must be dot-separated segments of
    /// `[a-z_][a-z0-9_]*` and not a keyword such as `and`), or was already added: both are
    /// programming errors in the code that declares the schema.
    pub fn field(mut self, name: &str, ty: Type, description: &str) -> Self {
        assert!(
            lexer::is_valid_field_name(name),
            "boh-expr: {name:?} cannot be a field name"
        );
        let previous = self
            .fields
            .insert(name.to_string(), (ty, description.to_string()));
        assert!(previous.is_none(), "boh-expr: field {name:?} added twice");
        self
    }

    /// The type of a field.
    pub fn get(&self, name: &str) -> Option<Type> {
        self.fields.get(name).map(|(ty, _)| *ty)
    }

    /// The description of a field.
    pub fn description(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(|(_, d)| d.as_str())
    }

    /// All fields as `(name, type, description)`, sorted by name.
    pub fn fields(&self) -> impl Iterator<Item = (&str, Type, &str)> {
        self.fields
            .iter()
            .map(|(name, (ty, description))| (name.as_str(), *ty, description.as_str()))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl Serialize for Schema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Field<'a> {
            name: &'a str,
            #[serde(rename = "type")]
            ty: Type,
            description: &'a str,
        }
        serializer.collect_seq(self.fields().map(|(name, ty, description)| Field {
            name,
            ty,
            description,
        }))
    }
}

/// The value of one fact of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// For a [`Type::Bool`] field.
    Bool(bool),
    /// For a [`Type::Int`] field.
    Int(i64),
    /// For a [`Type::Money`] field: minor units of the field's scale (500000 = 5000.00 at
    /// scale 2).
    Money(i64),
    /// For a [`Type::Text`] field.
    Text(String),
    /// For a [`Type::TextList`] field.
    TextList(Vec<String>),
    /// For a [`Type::IntList`] field.
    IntList(Vec<i64>),
}

/// The facts of one document a condition is evaluated against: field name → value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    values: BTreeMap<String, Value>,
}

impl Facts {
    /// No facts.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a fact, returning the value it replaces.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) -> Option<Value> {
        self.values.insert(name.into(), value)
    }

    /// Sets a fact (builder style).
    pub fn with(mut self, name: impl Into<String>, value: Value) -> Self {
        self.insert(name, value);
        self
    }

    /// The value of a fact.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.values.get(name)
    }

    /// All facts, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of facts.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no facts.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

impl From<BTreeMap<String, Value>> for Facts {
    fn from(values: BTreeMap<String, Value>) -> Self {
        Self { values }
    }
}

impl FromIterator<(String, Value)> for Facts {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        Self {
            values: iter.into_iter().collect(),
        }
    }
}

/// Why a condition does not compile. The message is written for the admin who typed it and
/// names the thing at fault and its position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ExprError {
    /// A stable code, one of [`codes`].
    pub code: &'static str,
    /// What is wrong, for people.
    pub message: String,
    /// Where, as a 0-based offset in characters (not bytes) into the source.
    pub position: usize,
}

impl ExprError {
    pub(crate) fn new(code: &'static str, position: usize, message: String) -> Self {
        Self {
            code,
            message,
            position,
        }
    }
}

/// Why a compiled condition could not be evaluated against a document's facts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The facts have no value for a field the condition needs.
    #[error("the document has no value for the field \"{0}\"")]
    MissingFact(String),
    /// The fact's value is not of the field's type.
    #[error("the document's value for the field \"{field}\" is not {expected}")]
    WrongFactType {
        /// The field.
        field: String,
        /// Its type in the schema.
        expected: Type,
    },
    /// A calculation left the range of 64-bit integers.
    #[error("a calculation in the condition gives a number too large to handle")]
    Overflow,
}

impl EvalError {
    /// A stable code: `"missing_fact"`, `"wrong_fact_type"` or `"overflow"`.
    pub fn code(&self) -> &'static str {
        match self {
            EvalError::MissingFact(_) => "missing_fact",
            EvalError::WrongFactType { .. } => "wrong_fact_type",
            EvalError::Overflow => "overflow",
        }
    }
}

/// A compiled condition: parsed, type-checked, ready to evaluate. It keeps its source text.
#[derive(Debug, Clone)]
pub struct Expr {
    source: String,
    root: eval::BoolExpr,
    fields: Vec<String>,
    /// Source text of each top-level `and` / `or` operand, in step with `root`'s operands (or
    /// of the whole condition when the root is not `and` / `or`).
    parts: Vec<String>,
}

impl Expr {
    /// Parses and type-checks `src` against `schema`.
    ///
    /// Fails with an [`ExprError`] whose [`code`](ExprError::code) is one of [`codes`].
    pub fn compile(src: &str, schema: &Schema) -> Result<Expr, ExprError> {
        // A string of at most MAX_SOURCE_CHARS bytes cannot have more characters.
        if src.len() > MAX_SOURCE_CHARS {
            let count = src.chars().count();
            if count > MAX_SOURCE_CHARS {
                return Err(ExprError::new(
                    codes::TOO_LONG,
                    MAX_SOURCE_CHARS,
                    format!(
                        "the condition is too long ({count} characters; at most \
                         {MAX_SOURCE_CHARS} are allowed)"
                    ),
                ));
            }
        }
        let chars: Vec<char> = src.chars().collect();
        let tree = parser::parse(&chars)?;
        let checked = check::check(&tree, &chars, schema)?;
        Ok(Expr {
            source: src.to_string(),
            root: checked.root,
            fields: checked.fields,
            parts: checked.parts,
        })
    }

    /// The source text, exactly as compiled.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The names of the fields the condition refers to, sorted and deduplicated.
    pub fn fields(&self) -> Vec<String> {
        self.fields.clone()
    }

    /// Evaluates the condition against a document's facts.
    pub fn eval(&self, facts: &Facts) -> Result<bool, EvalError> {
        eval::eval_bool(&self.root, facts)
    }

    /// Evaluates each top-level operand of the condition, for "why did this route apply":
    /// for `a and b or c` that is `[("a and b", …), ("c", …)]`, and for a condition that is not
    /// an `and` / `or` chain, the whole condition and its value.
    ///
    /// Unlike [`Expr::eval`], every operand is evaluated (no short-circuit), so a missing fact
    /// in any operand is an error here.
    pub fn explain(&self, facts: &Facts) -> Result<Vec<(String, bool)>, EvalError> {
        match &self.root {
            eval::BoolExpr::All(ops) | eval::BoolExpr::Any(ops)
                if ops.len() == self.parts.len() =>
            {
                ops.iter()
                    .zip(&self.parts)
                    .map(|(op, text)| Ok((text.clone(), eval::eval_bool(op, facts)?)))
                    .collect()
            }
            root => {
                let text = self
                    .parts
                    .first()
                    .cloned()
                    .unwrap_or_else(|| self.source.trim().to_string());
                Ok(vec![(text, eval::eval_bool(root, facts)?)])
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}
