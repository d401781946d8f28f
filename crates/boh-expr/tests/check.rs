//! Compiling: literals, type checking, error codes, positions and messages.

mod common;

use boh_expr::{Expr, Facts, Schema, Type, Value};
use common::{assert_err, compile, eval, eval_with};

fn money(src: &str, minor_units: i64) -> bool {
    eval_with(src, &Facts::new().with("amount", Value::Money(minor_units))).unwrap()
}

#[test]
fn money_literals_convert_exactly_to_minor_units() {
    assert!(money("amount == 5000.5", 500_050));
    assert!(!money("amount == 5000.5", 500_049));
    assert!(!money("amount > 5000.5", 500_050));
    assert!(money("amount > 5000.5", 500_051));
    assert!(money("amount == 5000", 500_000));
    assert!(money("amount == 5000.50", 500_050));
    assert!(money("amount == 0.01", 1));
    assert!(money("5000.5 < amount", 500_051));
    assert!(money("amount > -0.5", -49));
    assert!(!money("amount > -0.5", -50));
    assert!(money("amount == 92233720368547758.07", i64::MAX));
    // Literal-only subexpressions are folded exactly before conversion.
    assert!(money("amount == 5000 + 0.5", 500_050));
    assert!(money("amount == 2 * 0.25", 50));
    assert!(money("amount == 1 - 0.01", 99));
    assert!(money("amount + 0.01 == 0.02", 1));
    // Other scales.
    let facts = Facts::new()
        .with("yen", Value::Money(5_000))
        .with("fee", Value::Money(1_500));
    assert!(eval_with("yen == 5000", &facts).unwrap());
    assert!(eval_with("fee == 1.5", &facts).unwrap());
    assert!(eval_with("fee == 1.500", &facts).unwrap());
    assert!(eval_with("fee > 1.499 and fee < 1.501", &facts).unwrap());
}

#[test]
fn money_literal_with_too_many_decimals_is_an_error_naming_it() {
    let m = assert_err("amount > 0.001", "bad_literal", 9);
    assert_eq!(
        m,
        "the number 0.001 at position 9 has more decimal places than money (amount) allows (2)"
    );
    // Even trailing zeros: the rule is "no more decimals than the currency has".
    assert_err("amount > 5000.500", "bad_literal", 9);
    let m = assert_err("yen > 5000.5", "bad_literal", 6);
    assert!(m.contains("5000.5") && m.contains("allows (0)"), "{m}");
    assert_err("0.001 < amount", "bad_literal", 0);
    assert_err("amount == 0.5 * 0.25", "bad_literal", 10);
    assert_err("amount + 0.001 > 0", "bad_literal", 9);
    assert_err("amount in [1, 1.001]", "bad_literal", 14);
}

#[test]
fn too_large_literals() {
    let m = assert_err("qty > 99999999999999999999", "bad_literal", 6);
    assert!(
        m.contains("99999999999999999999") && m.contains("too large"),
        "{m}"
    );
    assert_err("amount > 92233720368547758.08", "bad_literal", 9);
    let huge = "99999999999999999999";
    assert_err(
        &format!("qty == {huge} * {huge} * {huge}"),
        "bad_literal",
        7,
    );
    assert_err(&format!("qty == {}", "9".repeat(60)), "bad_literal", 7);
    // The extremes of i64 are reachable.
    let facts = Facts::new().with("qty", Value::Int(i64::MIN));
    assert!(eval_with("qty == -9223372036854775808", &facts).unwrap());
    let facts = Facts::new().with("qty", Value::Int(i64::MAX));
    assert!(eval_with("qty == 9223372036854775807", &facts).unwrap());
    assert_err("qty == 9223372036854775808", "bad_literal", 7);
}

#[test]
fn decimal_literals_do_not_mix_with_whole_numbers() {
    let m = assert_err("qty > 1.0", "type_mismatch", 6);
    assert_eq!(
        m,
        "the number 1.0 at position 6 has a decimal point, which whole number (qty) does not allow"
    );
    assert_err("qty * 1.5 > 0", "type_mismatch", 6);
    assert_err("qty + 0.5 > 1", "type_mismatch", 6);
    assert_err("1.5 == qty", "type_mismatch", 0);
    let m = assert_err("ids contains 1.5", "type_mismatch", 13);
    assert!(m.contains("list of whole numbers (ids)"), "{m}");
    assert_err("qty in [1, 2.5]", "type_mismatch", 11);
    let m = assert_err("1.5 == 1.5", "type_mismatch", 0);
    assert!(m.contains("only be used with money"), "{m}");
    let m = assert_err("category == 1.5", "type_mismatch", 12);
    assert!(m.contains("text (category)"), "{m}");
}

#[test]
fn money_arithmetic() {
    assert!(money("amount * 2 == 10000", 500_000));
    assert!(money("2 * amount == 10000", 500_000));
    assert!(money("amount * 1.1 == 5500", 500_000));
    assert!(money("1.1 * amount == 5500", 500_000));
    assert!(money("amount * 2.0 == 10000", 500_000));
    assert!(money("amount * -1.5 == -7.5", 500));
    // Rounded half away from zero to the minor unit.
    assert!(money("amount * 1.005 == 1.01", 100));
    assert!(money("amount * 1.005 == -1.01", -100));
    assert!(money("amount * 1.004 == 1.00", 100));
    assert!(money("amount * 0.5 == 0.03", 5));
    assert!(money("amount - 100 + 0.5 == 0.5", 10_000));
    let facts = common::facts();
    assert!(eval_with("amount * qty == 19500", &facts).unwrap());
    assert!(eval_with("qty * amount == 19500", &facts).unwrap());
    assert!(eval_with("amount + amount == 13000", &facts).unwrap());
    assert!(eval_with("-amount < 0", &facts).unwrap());
    assert!(eval_with("amount * (qty - 1) == 13000", &facts).unwrap());
}

#[test]
fn type_errors_have_codes_positions_and_clear_messages() {
    let m = assert_err("amount > 'abc'", "type_mismatch", 9);
    assert_eq!(
        m,
        "cannot compare money (amount) with text 'abc' at position 9"
    );
    let m = assert_err("amount == qty", "type_mismatch", 10);
    assert_eq!(
        m,
        "cannot compare money (amount) with whole number (qty) at position 10"
    );
    let m = assert_err("amount == fee", "type_mismatch", 10);
    assert!(m.ends_with("(they have 2 and 3 decimal places)"), "{m}");
    let m = assert_err("store > 5", "type_mismatch", 8);
    assert_eq!(m, "cannot compare text (store) with number 5 at position 8");
    assert_err("urgent == 'yes'", "type_mismatch", 10);
    assert_err("tags == ids", "type_mismatch", 8);
    assert_err("tags == 'a'", "type_mismatch", 8);
    let m = assert_err("urgent < true", "type_mismatch", 7);
    assert!(m.contains("\"<\"") && m.contains("yes/no (urgent)"), "{m}");
    assert_err("tags >= tags", "type_mismatch", 5);
    assert_err("amount + 1 == 'x'", "type_mismatch", 14);
}

#[test]
fn conditions_must_be_yes_no() {
    let m = assert_err("amount", "type_mismatch", 0);
    assert!(
        m.contains("yes/no test") && m.contains("money (amount)"),
        "{m}"
    );
    assert_err("qty + 1", "type_mismatch", 0);
    assert_err("'meat'", "type_mismatch", 0);
    assert_err("5", "type_mismatch", 0);
    assert_err("tags", "type_mismatch", 0);
    assert_err("(qty)", "type_mismatch", 0);
    let m = assert_err("amount and urgent", "type_mismatch", 0);
    assert!(m.starts_with("\"and\" needs a yes/no test"), "{m}");
    let m = assert_err("urgent or qty", "type_mismatch", 10);
    assert!(
        m.starts_with("\"or\" needs") && m.contains("whole number (qty)"),
        "{m}"
    );
    assert_err("amount > 5000.5 and 1", "type_mismatch", 20);
    let m = assert_err("not amount", "type_mismatch", 4);
    assert!(m.starts_with("\"not\" needs"), "{m}");
    assert_err("!category", "type_mismatch", 1);
    assert!(eval("urgent == false"));
    assert!(eval("(qty > 1) == true"));
    assert!(eval("urgent != (qty > 1)"));
}

#[test]
fn arithmetic_type_errors() {
    let m = assert_err("-category == 'a'", "type_mismatch", 1);
    assert!(m.contains("\"-\"") && m.contains("text (category)"), "{m}");
    assert_err("-urgent", "type_mismatch", 1);
    let m = assert_err("category + 1 == 'x'", "type_mismatch", 11);
    assert_eq!(m, "cannot add text (category) and number 1 at position 11");
    let m = assert_err("amount - qty > 0", "type_mismatch", 9);
    assert_eq!(
        m,
        "cannot subtract whole number (qty) from money (amount) at position 9"
    );
    assert_err("amount + fee > 0", "type_mismatch", 9);
    let m = assert_err("amount * amount > 0", "type_mismatch", 9);
    assert!(m.contains("money can be multiplied only"), "{m}");
    let m = assert_err("category * 2 == 'x'", "type_mismatch", 11);
    assert_eq!(
        m,
        "cannot multiply text (category) by number 2 at position 11"
    );
    assert_err("urgent * qty > 1", "type_mismatch", 9);
    assert_err("tags + tags == tags", "type_mismatch", 7);
    assert_err("[1] * 2 == [2]", "type_mismatch", 6);
}

#[test]
fn membership_type_errors() {
    let m = assert_err("category in ids", "type_mismatch", 0);
    assert_eq!(
        m,
        "cannot look for text (category) in list of whole numbers (ids) at position 0"
    );
    let m = assert_err("category in qty", "type_mismatch", 12);
    assert!(m.starts_with("\"in\" needs a list on its right"), "{m}");
    let m = assert_err("category in ['a', 5]", "type_mismatch", 18);
    assert_eq!(
        m,
        "cannot compare text (category) with number 5 at position 18"
    );
    assert_err("amount in ['a']", "type_mismatch", 11);
    let m = assert_err("urgent in [true, 1]", "type_mismatch", 17);
    assert!(m.contains("yes/no (urgent)"), "{m}");
    assert_err("tags in ['a']", "type_mismatch", 0);
    assert_err("tags not in tags", "type_mismatch", 0);
    assert_err("qty not in tags", "type_mismatch", 0);
    let m = assert_err("category contains 'a'", "type_mismatch", 0);
    assert!(
        m.contains("needs a list on its left") && m.contains("starts_with"),
        "{m}"
    );
    let m = assert_err("tags contains 5", "type_mismatch", 14);
    assert_eq!(
        m,
        "cannot look for number 5 in list of text (tags) at position 14"
    );
    assert_err("ids contains category", "type_mismatch", 13);
    assert_err("tags contains tags", "type_mismatch", 14);
    assert_err("tags contains ['a']", "type_mismatch", 14);
    assert_err("amount contains 1", "type_mismatch", 0);
    let m = assert_err("qty starts_with 'a'", "type_mismatch", 0);
    assert!(m.contains("\"starts_with\" works only on text"), "{m}");
    assert_err("category starts_with 5", "type_mismatch", 21);
    assert_err("tags starts_with 'a'", "type_mismatch", 0);
}

#[test]
fn list_literal_type_errors() {
    let m = assert_err("[] == []", "type_mismatch", 0);
    assert!(m.contains("empty list"), "{m}");
    let m = assert_err("ids == [1, 'a']", "type_mismatch", 11);
    assert!(
        m.contains("list at position 7") && m.contains("text 'a'"),
        "{m}"
    );
    let m = assert_err("[true] contains urgent", "type_mismatch", 0);
    assert!(m.contains("can only follow \"in\""), "{m}");
    assert_err("['a', 1] contains category", "type_mismatch", 6);
    assert_err("[1.5] contains qty", "type_mismatch", 1);
    assert_err("amount == []", "type_mismatch", 10);
    assert!(eval("tags != []"));
    assert!(eval("[] != tags"));
    assert!(eval("['meat', 'fish'] contains category"));
    assert!(eval("[1, 2, 3] contains qty"));
    assert!(!eval("[] contains category"));
    assert!(eval("ids == [7, 11, 42]"));
    assert!(eval("[-1, 2] == [-1, 2]"));
}

fn small_schema() -> Schema {
    Schema::new()
        .field("store", Type::Text, "Store")
        .field("amount", Type::Money { scale: 2 }, "Amount")
        .field("category", Type::Text, "Category")
}

#[test]
fn unknown_fields_list_the_known_ones() {
    let e = Expr::compile("amout > 5000", &small_schema()).unwrap_err();
    assert_eq!((e.code, e.position), ("unknown_field", 0));
    assert_eq!(
        e.message,
        "unknown field \"amout\" at position 0; known fields: amount, category, store"
    );
    let e = Expr::compile("category == 'a' and Amount > 1", &small_schema()).unwrap_err();
    assert_eq!((e.code, e.position), ("unknown_field", 20));
    assert!(e.message.contains("lowercase: \"amount\""), "{}", e.message);
    let e = Expr::compile("x == 1", &Schema::new()).unwrap_err();
    assert_eq!(e.code, "unknown_field");
    assert!(
        e.message.contains("no fields are available"),
        "{}",
        e.message
    );
    // The first unknown field is reported, wherever it is.
    let m = assert_err("qty > 1 and (nope == 1)", "unknown_field", 13);
    assert!(m.contains("\"nope\"") && m.contains("supplier.code"), "{m}");
    assert_err("supplier.name == 'x'", "unknown_field", 0);
    assert_err("category in [1] or supplier == 'x'", "type_mismatch", 13);
}

#[test]
fn syntax_errors_through_compile() {
    let m = assert_err("category == 'meat", "syntax", 12);
    assert!(m.contains("never closed"), "{m}");
    assert_err("category == \"meat", "syntax", 12);
    assert_err("", "syntax", 0);
    assert_err("    ", "syntax", 0);
    assert_err("qty > 1 qty", "syntax", 8);
    assert_err("qty > 1 )", "syntax", 8);
    assert_err("(qty > 1", "syntax", 8);
    let m = assert_err("amount >= 5 and", "syntax", 12);
    assert_eq!(m, "expected a value after \"and\" at position 12");
    assert_err("qty = 1", "syntax", 4);
    assert_err("1 < qty < 5", "syntax", 8);
    assert_err("category in ['a' 'b']", "syntax", 17);
    // A syntax error wins over an unknown field before it: the whole input is parsed first.
    assert_err("nope > 1 and", "syntax", 9);
}

#[test]
fn string_escapes() {
    let facts = Facts::new().with("category", Value::Text("it's \"fresh\" \\ ok".into()));
    let e = |src: &str| eval_with(src, &facts).unwrap();
    assert!(e(r#"category == 'it\'s "fresh" \\ ok'"#));
    assert!(e(r#"category == "it's \"fresh\" \\ ok""#));
    assert!(e(r"category starts_with 'it\'s'"));
    assert!(!e(r"category == 'its'"));
    assert_err(r"category == 'a\tb'", "syntax", 14);
}

#[test]
fn fields_and_source() {
    let expr = compile("  store == 'S001' and (amount > 5 or store == 'S002') and qty > 1 ");
    assert_eq!(expr.fields(), ["amount", "qty", "store"]);
    assert_eq!(
        expr.source(),
        "  store == 'S001' and (amount > 5 or store == 'S002') and qty > 1 "
    );
    assert_eq!(expr.to_string(), expr.source());
    assert_eq!(compile("true").fields(), Vec::<String>::new());
    assert_eq!(compile("supplier.code == 'x'").fields(), ["supplier.code"]);
    // Clone keeps everything.
    let copy = expr.clone();
    assert_eq!(copy.source(), expr.source());
    assert_eq!(copy.fields(), expr.fields());
}

#[test]
fn precedence_and_associativity_by_evaluation() {
    assert!(eval("true or false and false"));
    assert!(!eval("(true or false) and false"));
    assert!(!eval("not false and false"));
    assert!(eval("not (false and false)"));
    assert!(eval("false and false or true"));
    assert!(eval("not not true"));
    // qty is 3
    assert!(eval("qty + 2 * 3 == 9"));
    assert!(eval("(qty + 2) * 3 == 15"));
    assert!(eval("qty - 1 - 1 == 1"));
    assert!(eval("qty - (1 - 1) == 3"));
    assert!(eval("-qty * 2 == -6"));
    assert!(eval("qty * -2 == -6"));
    assert!(eval("- -qty == 3"));
    assert!(eval("2 * 3 + qty == 9"));
    assert!(eval("qty * qty - qty * 2 == 3"));
    assert!(eval("not qty > 5"));
    assert!(eval("not qty in [1, 2]"));
    assert!(eval("qty + 1 > 3 and qty - 1 < 3"));
}

#[test]
fn keywords_are_case_insensitive_and_have_synonyms() {
    assert!(eval("qty > 1 AND category == 'meat'"));
    assert!(eval("qty > 5 Or category == 'meat'"));
    assert!(eval("NOT urgent"));
    assert!(eval("TRUE and not FALSE"));
    assert!(eval("category NOT IN ['fish']"));
    assert!(eval("category In ['meat']"));
    assert!(eval("tags CONTAINS 'frozen'"));
    assert!(eval("store STARTS_WITH 'S0'"));
    assert!(eval("qty > 1 && !urgent || false"));
    assert!(eval("!(qty > 5) && (urgent || qty == 3)"));
    assert!(eval("qty != 4"));
}
