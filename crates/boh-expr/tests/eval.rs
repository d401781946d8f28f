//! Evaluating: semantics of each operator, fact errors, overflow, explain.

mod common;

use boh_expr::{EvalError, Expr, Facts, Type, Value};
use common::{compile, eval, eval_with, facts};

fn with(name: &str, value: Value) -> Facts {
    facts().with(name, value)
}

#[test]
fn membership_and_text_operators() {
    // category is "meat", tags ["frozen", "imported"], ids [7, 11, 42], qty 3
    assert!(eval("category in ['meat', 'seafood']"));
    assert!(!eval("category in ['fish', 'seafood']"));
    assert!(eval("category not in ['fish', 'seafood']"));
    assert!(!eval("category not in ['meat']"));
    assert!(!eval("category in []"));
    assert!(eval("category not in []"));
    assert!(eval("\"meat\" in ['meat']"));
    assert!(eval("tags contains 'frozen'"));
    assert!(!eval("tags contains 'Frozen'"));
    assert!(eval("not tags contains 'fresh'"));
    assert!(eval("'imported' in tags"));
    assert!(eval("'fresh' not in tags"));
    assert!(eval("ids contains 42"));
    assert!(!eval("ids contains 43"));
    assert!(eval("42 in ids"));
    assert!(eval("qty not in ids"));
    assert!(eval("qty + 4 in ids"));
    assert!(eval("qty in [1, 2, 3]"));
    assert!(eval("-qty in [-3]"));
    assert!(eval("amount in [100, 6500, 7000.5]"));
    assert!(!eval("amount in [100, 6500.01]"));
    assert!(eval("urgent in [false]"));
    assert!(eval("urgent not in [true]"));
    assert!(eval("(qty > 1) in [true]"));
    assert!(eval("store starts_with 'S0'"));
    assert!(eval("store starts_with ''"));
    assert!(!eval("store starts_with 's0'"));
    assert!(!eval("store starts_with 'S0010'"));
    assert!(eval("supplier.code starts_with 'SUP-'"));
    assert!(eval("'S001 extra' starts_with store"));
}

#[test]
fn comparisons() {
    assert!(eval("store < 'S002'"));
    assert!(eval("store >= 'S001'"));
    assert!(eval("store <= 'S001' and store > 'S000'"));
    // Text order is by code point: uppercase before lowercase.
    assert!(!eval("category < 'Meat'"));
    assert!(eval("'apple' < 'banana'"));
    assert!(eval("'' < 'a'"));
    assert!(eval("category == 'meat' and category != 'Meat'"));
    assert!(eval("qty >= 3 and qty <= 3 and qty > 2 and qty < 4"));
    assert!(eval("amount >= 6500 and amount < 6500.01"));
    assert!(eval("yen == 5000 and fee == 1.5"));
    assert!(eval("tags == ['frozen', 'imported']"));
    assert!(!eval("tags == ['imported', 'frozen']"));
    assert!(eval("tags != ['frozen']"));
    assert!(eval("ids == ids"));
    assert!(eval("urgent == false and urgent != true"));
    let chinese = facts().with("category", Value::Text("海鲜".into()));
    assert!(eval_with("category == '海鲜'", &chinese).unwrap());
    assert!(eval_with("category in ['肉', '海鲜']", &chinese).unwrap());
}

#[test]
fn missing_fact() {
    let expr = compile("qty > 1");
    let err = expr.eval(&Facts::new()).unwrap_err();
    assert_eq!(err, EvalError::MissingFact("qty".into()));
    assert_eq!(err.code(), "missing_fact");
    assert_eq!(
        err.to_string(),
        "the document has no value for the field \"qty\""
    );
    // Each kind of field reports the field's name.
    for (src, field) in [
        ("urgent", "urgent"),
        ("amount > 1", "amount"),
        ("store == 'x'", "store"),
        ("tags contains 'x'", "tags"),
        ("ids contains 1", "ids"),
        ("1 in ids", "ids"),
        ("supplier.code == 'x'", "supplier.code"),
    ] {
        let err = compile(src).eval(&Facts::new()).unwrap_err();
        assert_eq!(err, EvalError::MissingFact(field.into()), "{src}");
    }
}

#[test]
fn and_or_short_circuit() {
    let only_urgent = Facts::new().with("urgent", Value::Bool(true));
    assert_eq!(eval_with("urgent or qty > 1", &only_urgent), Ok(true));
    assert_eq!(eval_with("not urgent and qty > 1", &only_urgent), Ok(false));
    assert_eq!(
        eval_with("urgent and qty > 1", &only_urgent),
        Err(EvalError::MissingFact("qty".into()))
    );
}

#[test]
fn wrong_fact_type() {
    let cases = [
        (
            "amount > 1",
            "amount",
            Value::Int(5),
            Type::Money { scale: 2 },
        ),
        ("qty > 1", "qty", Value::Money(5), Type::Int),
        ("urgent", "urgent", Value::Int(1), Type::Bool),
        ("store == 'x'", "store", Value::Bool(true), Type::Text),
        (
            "tags contains 'x'",
            "tags",
            Value::Text("x".into()),
            Type::TextList,
        ),
        (
            "ids contains 1",
            "ids",
            Value::TextList(vec![]),
            Type::IntList,
        ),
    ];
    for (src, field, value, expected) in cases {
        let err = eval_with(src, &with(field, value)).unwrap_err();
        assert_eq!(
            err,
            EvalError::WrongFactType {
                field: field.into(),
                expected
            },
            "{src}"
        );
        assert_eq!(err.code(), "wrong_fact_type");
    }
    let err = eval_with("amount > 1", &with("amount", Value::Int(5))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the document's value for the field \"amount\" is not money"
    );
    let err = eval_with("tags == []", &with("tags", Value::IntList(vec![]))).unwrap_err();
    assert!(err.to_string().ends_with("is not list of text"), "{err}");
}

#[test]
fn overflow_is_an_error_not_a_panic() {
    let big = with("amount", Value::Money(500_000_000)); // 5,000,000.00
    let overflow = |src: &str, facts: &Facts| {
        let err = eval_with(src, facts).unwrap_err();
        assert_eq!(err, EvalError::Overflow, "{src}");
        assert_eq!(err.code(), "overflow");
    };
    overflow("amount * 100000000000 > 0", &big);
    overflow("100000000000 * amount > 0", &big);
    overflow("amount * 100000000000.5 > 0", &big);
    overflow("amount * 1.5 > 0", &with("amount", Value::Money(i64::MAX)));
    overflow("amount * -1.5 < 0", &with("amount", Value::Money(i64::MIN)));
    overflow("amount + 0.01 > 0", &with("amount", Value::Money(i64::MAX)));
    overflow("amount - 0.01 < 0", &with("amount", Value::Money(i64::MIN)));
    let max = with("qty", Value::Int(i64::MAX));
    let min = with("qty", Value::Int(i64::MIN));
    overflow("qty + 1 > 0", &max);
    overflow("qty * qty > 0", &max);
    overflow("qty * 2 > 0", &max);
    overflow("qty - 1 < 0", &min);
    overflow("-qty > 0", &min);
    overflow("qty * -1 > 0", &min);
    overflow("amount * qty > 0", &max);
    // In range, the same expressions evaluate.
    assert_eq!(eval_with("amount * 1000 > 0", &big), Ok(true));
    assert_eq!(eval_with("qty - 1 < qty", &max), Ok(true));
    assert_eq!(eval_with("-(qty + 1) > 0", &min), Ok(true));
    assert_eq!(
        eval_with(
            "amount * 1.0 == amount",
            &with("amount", Value::Money(i64::MAX))
        ),
        Ok(true)
    );
    // An overflow in an operand that is not needed is not reached.
    assert_eq!(eval_with("qty > 0 or qty + 1 > 0", &max), Ok(true));
    let err = Expr::compile("qty + 1 > 0", &common::schema())
        .unwrap()
        .eval(&max)
        .unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
}

#[test]
fn explain_reports_each_top_level_operand() {
    let facts = facts().with("category", Value::Text("fish".into()));
    let expr = compile("amount >= 5000 and category in ['meat','seafood']");
    assert_eq!(
        expr.explain(&facts).unwrap(),
        vec![
            ("amount >= 5000".to_string(), true),
            ("category in ['meat','seafood']".to_string(), false)
        ]
    );
    assert_eq!(expr.eval(&facts), Ok(false));

    let expr = compile("urgent OR qty > 2 || category == 'x'");
    assert_eq!(
        expr.explain(&facts).unwrap(),
        vec![
            ("urgent".to_string(), false),
            ("qty > 2".to_string(), true),
            ("category == 'x'".to_string(), false)
        ]
    );

    // `or` binds looser, so `a and b or c` has two operands.
    let expr = compile("qty > 1 and urgent or store == 'S001'");
    assert_eq!(
        expr.explain(&facts).unwrap(),
        vec![
            ("qty > 1 and urgent".to_string(), false),
            ("store == 'S001'".to_string(), true)
        ]
    );
    let expr = compile("(qty > 1 or urgent)  and  store == 'S001'");
    assert_eq!(
        expr.explain(&facts).unwrap(),
        vec![
            ("(qty > 1 or urgent)".to_string(), true),
            ("store == 'S001'".to_string(), true)
        ]
    );
    // Not an and/or chain: the whole condition, trimmed.
    let expr = compile("  not (urgent and qty > 1) ");
    assert_eq!(
        expr.explain(&facts).unwrap(),
        vec![("not (urgent and qty > 1)".to_string(), true)]
    );
    let expr = compile("(urgent or qty > 1)");
    assert_eq!(
        expr.explain(&facts).unwrap(),
        vec![("urgent".to_string(), false), ("qty > 1".to_string(), true)]
    );
}

#[test]
fn explain_evaluates_every_operand() {
    let only_urgent = Facts::new().with("urgent", Value::Bool(true));
    let expr = compile("urgent or qty > 1");
    assert_eq!(expr.eval(&only_urgent), Ok(true));
    assert_eq!(
        expr.explain(&only_urgent),
        Err(EvalError::MissingFact("qty".into()))
    );
}

#[test]
fn explain_agrees_with_eval() {
    let facts = facts();
    for src in [
        "qty > 1 and urgent",
        "qty > 1 or urgent",
        "qty > 1 and not urgent and store == 'S001'",
        "urgent or tags contains 'x' or ids contains 42",
        "qty > 5",
    ] {
        let expr = compile(src);
        let parts = expr.explain(&facts).unwrap();
        let result = expr.eval(&facts).unwrap();
        let joined = parts.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>();
        if src.contains(" or ") {
            assert_eq!(result, parts.iter().any(|(_, v)| *v), "{src}");
            assert_eq!(joined.join(" or "), src);
        } else {
            assert_eq!(result, parts.iter().all(|(_, v)| *v), "{src}");
            assert_eq!(joined.join(" and "), src);
        }
    }
}

#[test]
fn facts_container() {
    let mut facts = Facts::new();
    assert!(facts.is_empty());
    assert_eq!(facts.insert("qty", Value::Int(1)), None);
    assert_eq!(facts.insert("qty", Value::Int(2)), Some(Value::Int(1)));
    assert_eq!(facts.get("qty"), Some(&Value::Int(2)));
    assert_eq!(facts.get("nope"), None);
    assert_eq!(facts.len(), 1);
    let map: std::collections::BTreeMap<String, Value> =
        [("qty".to_string(), Value::Int(2))].into_iter().collect();
    assert_eq!(Facts::from(map.clone()), facts);
    assert_eq!(map.into_iter().collect::<Facts>(), facts);
    let all = common::facts();
    let names: Vec<&str> = all.iter().map(|(k, _)| k).collect();
    assert_eq!(names[0], "amount");
    assert_eq!(eval_with("qty == 2", &facts), Ok(true));
}
