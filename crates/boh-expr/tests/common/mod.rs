//! Shared schema and helpers of the integration tests.
#![allow(dead_code)]

use boh_expr::{EvalError, Expr, ExprError, Facts, Schema, Type, Value};

/// A purchase-order-like schema with one field of every type.
pub fn schema() -> Schema {
    Schema::new()
        .field("amount", Type::Money { scale: 2 }, "Order total (CNY)")
        .field("yen", Type::Money { scale: 0 }, "Order total (JPY)")
        .field("fee", Type::Money { scale: 3 }, "Fee, in thousandths")
        .field("qty", Type::Int, "Number of lines")
        .field("category", Type::Text, "Main category")
        .field("store", Type::Text, "Store code")
        .field("supplier.code", Type::Text, "Supplier code")
        .field("tags", Type::TextList, "Tags")
        .field("ids", Type::IntList, "Item ids")
        .field("urgent", Type::Bool, "Marked urgent")
}

/// Facts for every field of [`schema`].
pub fn facts() -> Facts {
    Facts::new()
        .with("amount", Value::Money(650_000))
        .with("yen", Value::Money(5_000))
        .with("fee", Value::Money(1_500))
        .with("qty", Value::Int(3))
        .with("category", Value::Text("meat".into()))
        .with("store", Value::Text("S001".into()))
        .with("supplier.code", Value::Text("SUP-7".into()))
        .with(
            "tags",
            Value::TextList(vec!["frozen".into(), "imported".into()]),
        )
        .with("ids", Value::IntList(vec![7, 11, 42]))
        .with("urgent", Value::Bool(false))
}

pub fn compile(src: &str) -> Expr {
    Expr::compile(src, &schema()).unwrap_or_else(|e| panic!("{src}: {e}"))
}

pub fn compile_err(src: &str) -> ExprError {
    match Expr::compile(src, &schema()) {
        Ok(_) => panic!("{src}: compiled, expected an error"),
        Err(e) => e,
    }
}

/// Compiles and evaluates against [`facts`].
pub fn eval(src: &str) -> bool {
    eval_with(src, &facts()).unwrap_or_else(|e| panic!("{src}: {e}"))
}

pub fn eval_with(src: &str, facts: &Facts) -> Result<bool, EvalError> {
    compile(src).eval(facts)
}

/// Asserts the error code and position of a source that must not compile, and returns the
/// message.
#[track_caller]
pub fn assert_err(src: &str, code: &str, position: usize) -> String {
    let e = compile_err(src);
    assert_eq!(
        (e.code, e.position),
        (code, position),
        "{src}: {}",
        e.message
    );
    assert_eq!(e.to_string(), e.message);
    e.message
}
