//! The checked tree and its evaluation.
//!
//! The checker produces one tree type per value type, so a type confusion cannot be represented
//! and evaluation has only two ways to fail: a missing or mistyped fact, or an arithmetic
//! overflow. Evaluation visits each node at most once (and scans each list once), so its cost is
//! linear in the size of the tree and of the facts it reads.

use crate::decimal::{Decimal, mul_round};
use crate::{EvalError, Facts, Type, Value};

/// A comparison operator of the checked tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    fn test<T: Ord + ?Sized>(self, a: &T, b: &T) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// A yes/no expression.
#[derive(Debug, Clone)]
pub(crate) enum BoolExpr {
    Const(bool),
    Field(String),
    Not(Box<BoolExpr>),
    All(Vec<BoolExpr>),
    Any(Vec<BoolExpr>),
    /// Whole numbers or money of one scale (the checker ensures both sides agree).
    CmpNum(CmpOp, NumExpr, NumExpr),
    CmpText(CmpOp, TextExpr, TextExpr),
    /// `==` / `!=` only (the operator is never an ordering).
    CmpBool(CmpOp, Box<BoolExpr>, Box<BoolExpr>),
    CmpTexts(CmpOp, TextListExpr, TextListExpr),
    CmpNums(CmpOp, NumListExpr, NumListExpr),
    InNums {
        needle: NumExpr,
        list: NumListExpr,
        negated: bool,
    },
    InTexts {
        needle: TextExpr,
        list: TextListExpr,
        negated: bool,
    },
    InBools {
        needle: Box<BoolExpr>,
        list: Vec<bool>,
        negated: bool,
    },
    StartsWith(TextExpr, TextExpr),
}

/// A whole number or an amount of money in minor units.
#[derive(Debug, Clone)]
pub(crate) enum NumExpr {
    Const(i64),
    /// `ty` is `Int` or `Money`: the variant the fact must have.
    Field {
        name: String,
        ty: Type,
    },
    Neg(Box<NumExpr>),
    Add(Box<NumExpr>, Box<NumExpr>),
    Sub(Box<NumExpr>, Box<NumExpr>),
    Mul(Box<NumExpr>, Box<NumExpr>),
    /// Money times a decimal literal, rounded half away from zero to the money's minor units.
    MulDecimal(Box<NumExpr>, Decimal),
}

#[derive(Debug, Clone)]
pub(crate) enum TextExpr {
    Const(String),
    Field(String),
}

#[derive(Debug, Clone)]
pub(crate) enum TextListExpr {
    Const(Vec<String>),
    Field(String),
}

/// A list of whole numbers or of amounts (list literals of money exist only after `in`).
#[derive(Debug, Clone)]
pub(crate) enum NumListExpr {
    Const(Vec<i64>),
    Field(String),
}

fn fact<'a>(facts: &'a Facts, name: &str) -> Result<&'a Value, EvalError> {
    facts
        .get(name)
        .ok_or_else(|| EvalError::MissingFact(name.to_string()))
}

fn wrong(name: &str, expected: Type) -> EvalError {
    EvalError::WrongFactType {
        field: name.to_string(),
        expected,
    }
}

/// Evaluates a yes/no expression. `and` / `or` short-circuit, so a fact that is not needed for
/// the answer may be missing.
pub(crate) fn eval_bool(expr: &BoolExpr, facts: &Facts) -> Result<bool, EvalError> {
    Ok(match expr {
        BoolExpr::Const(b) => *b,
        BoolExpr::Field(name) => match fact(facts, name)? {
            Value::Bool(b) => *b,
            _ => return Err(wrong(name, Type::Bool)),
        },
        BoolExpr::Not(inner) => !eval_bool(inner, facts)?,
        BoolExpr::All(ops) => {
            for op in ops {
                if !eval_bool(op, facts)? {
                    return Ok(false);
                }
            }
            true
        }
        BoolExpr::Any(ops) => {
            for op in ops {
                if eval_bool(op, facts)? {
                    return Ok(true);
                }
            }
            false
        }
        BoolExpr::CmpNum(op, a, b) => op.test(&eval_num(a, facts)?, &eval_num(b, facts)?),
        BoolExpr::CmpText(op, a, b) => op.test(eval_text(a, facts)?, eval_text(b, facts)?),
        BoolExpr::CmpBool(op, a, b) => op.test(&eval_bool(a, facts)?, &eval_bool(b, facts)?),
        BoolExpr::CmpTexts(op, a, b) => op.test(eval_texts(a, facts)?, eval_texts(b, facts)?),
        BoolExpr::CmpNums(op, a, b) => op.test(eval_nums(a, facts)?, eval_nums(b, facts)?),
        BoolExpr::InNums {
            needle,
            list,
            negated,
        } => {
            let needle = eval_num(needle, facts)?;
            eval_nums(list, facts)?.contains(&needle) != *negated
        }
        BoolExpr::InTexts {
            needle,
            list,
            negated,
        } => {
            let needle = eval_text(needle, facts)?;
            eval_texts(list, facts)?.iter().any(|s| s == needle) != *negated
        }
        BoolExpr::InBools {
            needle,
            list,
            negated,
        } => list.contains(&eval_bool(needle, facts)?) != *negated,
        BoolExpr::StartsWith(a, b) => eval_text(a, facts)?.starts_with(eval_text(b, facts)?),
    })
}

fn eval_num(expr: &NumExpr, facts: &Facts) -> Result<i64, EvalError> {
    let overflow = |v: Option<i64>| v.ok_or(EvalError::Overflow);
    match expr {
        NumExpr::Const(n) => Ok(*n),
        NumExpr::Field { name, ty } => match (fact(facts, name)?, ty) {
            (Value::Int(n), Type::Int) | (Value::Money(n), Type::Money { .. }) => Ok(*n),
            _ => Err(wrong(name, *ty)),
        },
        NumExpr::Neg(a) => overflow(eval_num(a, facts)?.checked_neg()),
        NumExpr::Add(a, b) => overflow(eval_num(a, facts)?.checked_add(eval_num(b, facts)?)),
        NumExpr::Sub(a, b) => overflow(eval_num(a, facts)?.checked_sub(eval_num(b, facts)?)),
        NumExpr::Mul(a, b) => overflow(eval_num(a, facts)?.checked_mul(eval_num(b, facts)?)),
        NumExpr::MulDecimal(a, factor) => overflow(mul_round(eval_num(a, facts)?, *factor)),
    }
}

fn eval_text<'a>(expr: &'a TextExpr, facts: &'a Facts) -> Result<&'a str, EvalError> {
    match expr {
        TextExpr::Const(s) => Ok(s),
        TextExpr::Field(name) => match fact(facts, name)? {
            Value::Text(s) => Ok(s),
            _ => Err(wrong(name, Type::Text)),
        },
    }
}

fn eval_texts<'a>(expr: &'a TextListExpr, facts: &'a Facts) -> Result<&'a [String], EvalError> {
    match expr {
        TextListExpr::Const(items) => Ok(items),
        TextListExpr::Field(name) => match fact(facts, name)? {
            Value::TextList(items) => Ok(items),
            _ => Err(wrong(name, Type::TextList)),
        },
    }
}

fn eval_nums<'a>(expr: &'a NumListExpr, facts: &'a Facts) -> Result<&'a [i64], EvalError> {
    match expr {
        NumListExpr::Const(items) => Ok(items),
        NumListExpr::Field(name) => match fact(facts, name)? {
            Value::IntList(items) => Ok(items),
            _ => Err(wrong(name, Type::IntList)),
        },
    }
}
