//! The limits on source length, nesting, tree size and list size.

mod common;

use boh_expr::{MAX_DEPTH, MAX_LIST_ITEMS, MAX_NODES, MAX_SOURCE_CHARS};
use common::{assert_err, compile, compile_err, eval};

#[test]
fn source_length() {
    let padded = |n: usize| format!("{:<n$}", "qty > 1");
    assert_eq!(padded(MAX_SOURCE_CHARS).chars().count(), MAX_SOURCE_CHARS);
    compile(&padded(MAX_SOURCE_CHARS));
    let m = assert_err(&padded(MAX_SOURCE_CHARS + 1), "too_long", MAX_SOURCE_CHARS);
    assert!(m.contains("2001 characters") && m.contains("2000"), "{m}");
    assert_eq!(compile_err(&"x".repeat(1_000_000)).code, "too_long");
    // The limit counts characters, not bytes.
    let chinese = format!("category == '{}'", "海".repeat(MAX_SOURCE_CHARS - 14));
    assert_eq!(chinese.chars().count(), MAX_SOURCE_CHARS);
    assert!(chinese.len() > MAX_SOURCE_CHARS);
    assert!(!eval(&chinese));
    let chinese = format!("category == '{}'", "海".repeat(MAX_SOURCE_CHARS - 13));
    assert_eq!(compile_err(&chinese).code, "too_long");
}

#[test]
fn nesting_depth() {
    let nested = |n: usize| format!("{}qty > 1{}", "(".repeat(n), ")".repeat(n));
    assert!(eval(&nested(MAX_DEPTH)));
    assert_err(&nested(MAX_DEPTH + 1), "too_deep", MAX_DEPTH);
    let nots = |n: usize| format!("{}urgent", "not ".repeat(n));
    assert!(!eval(&nots(MAX_DEPTH)), "an even number of nots");
    assert_err(&nots(MAX_DEPTH + 1), "too_deep", 4 * MAX_DEPTH);
    let negs = |n: usize| format!("{}qty != 0", "-".repeat(n));
    assert!(eval(&negs(MAX_DEPTH)));
    assert_err(&negs(MAX_DEPTH + 1), "too_deep", MAX_DEPTH);
}

#[test]
fn hostile_nesting_is_an_error_not_a_crash() {
    // Run on a small stack: unbounded recursion would overflow it long before 10,000 levels.
    let handle = std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(|| {
            let inputs = [
                "(".repeat(10_000),
                format!("{}qty > 1{}", "(".repeat(10_000), ")".repeat(10_000)),
                "not ".repeat(10_000),
                "!".repeat(10_000),
                format!("{}1", "-".repeat(10_000)),
                format!("qty in {}", "[".repeat(10_000)),
                "(not -[".repeat(2_500),
            ];
            inputs
                .iter()
                .map(|src| boh_expr::Expr::compile(src, &common::schema()).map(|_| ()))
                .collect::<Vec<_>>()
        })
        .unwrap();
    let results = handle
        .join()
        .expect("the parser overflowed a 512 KiB stack");
    for result in results {
        let e = result.unwrap_err();
        // Inputs over the length limit are rejected before parsing.
        assert!(matches!(e.code, "too_deep" | "too_long"), "{e}");
    }
    // Within the length limit, the depth limit is what stops them.
    for src in ["(".repeat(1_999), "not ".repeat(499), "!".repeat(2_000)] {
        assert_eq!(compile_err(&src).code, "too_deep");
    }
}

#[test]
fn node_count() {
    // Each `qty > 1` is 3 nodes, each `and` one more.
    let conditions = |n: usize| vec!["qty > 1"; n].join(" and ");
    assert_eq!(4 * 50 - 1, MAX_NODES - 1);
    assert!(eval(&conditions(50)));
    let m = assert_err(&conditions(51), "too_complex", 600);
    assert!(m.contains("too complex"), "{m}");
    // A long left-leaning sum within the limit evaluates (1 + 2k + 2 nodes).
    let sum = |k: usize| format!("qty{} == {}", " + 1".repeat(k), 3 + k);
    assert!(eval(&sum(98)));
    assert_eq!(compile_err(&sum(99)).code, "too_complex");
    // Lists count one node per item.
    let items = vec!["1"; 98].join(",");
    let list = format!("qty in [{items}]"); // 101 nodes
    compile(&format!("{list} and urgent"));
    let e = compile_err(&format!("{list} and {list}"));
    assert_eq!(e.code, "too_complex");
}

#[test]
fn list_items() {
    let list = |n: usize| {
        let items: Vec<String> = (0..n).map(|i| format!("'c{i}'")).collect();
        format!("category in [{}]", items.join(","))
    };
    assert!(!eval(&list(MAX_LIST_ITEMS)));
    let e = compile_err(&list(MAX_LIST_ITEMS + 1));
    assert_eq!(e.code, "too_many_items");
    let m = e.message;
    assert!(
        m.contains("more than 100 items") && m.contains("position 12"),
        "{m}"
    );
    let e = compile_err(&format!("qty in [{}]", vec!["1"; 150].join(",")));
    assert_eq!(
        (e.code, e.position),
        ("too_many_items", 8 + 2 * MAX_LIST_ITEMS)
    );
}
