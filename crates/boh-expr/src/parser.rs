//! The recursive-descent parser: tokens to a syntax tree.
//!
//! Grammar, lowest precedence first:
//!
//! ```text
//! or      := and ( ("or" | "||") and )*
//! and     := not ( ("and" | "&&") not )*
//! not     := ("not" | "!") not | compare
//! compare := sum ( cmp_op sum )?           cmp_op := == != < <= > >= in "not in" contains starts_with
//! sum     := product ( ("+" | "-") product )*
//! product := unary ( "*" unary )*
//! unary   := "-" unary | primary
//! primary := number | string | true | false | field | "(" or ")" | "[" items? "]"
//! items   := item ( "," item )* ","?      item := "-"* (number) | string | true | false
//! ```
//!
//! `and` / `or` chains become one n-ary node, so `a and b and c` has three operands (which is
//! what `Expr::explain` reports). Comparisons do not chain: `a < b < c` is a syntax error.
//!
//! The limits are enforced while parsing, so hostile input cannot exhaust the stack or memory:
//! every `(`, `[`, `not` and unary `-` counts one level of nesting, and every node created counts
//! towards [`MAX_NODES`]. Binary chains are built iteratively; their depth is bounded by the
//! node limit.

use crate::decimal::Decimal;
use crate::lexer::{Tok, Token, tokenize};
use crate::{ExprError, MAX_DEPTH, MAX_LIST_ITEMS, MAX_NODES, codes};

/// A node of the syntax tree and the characters `start..end` it spans (for a parenthesised
/// expression, the span includes the parentheses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) kind: NodeKind,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeKind {
    Bool(bool),
    Number(Decimal),
    Text(String),
    /// A list literal; its items are literals (checked by the parser).
    List(Vec<Node>),
    Field(String),
    Not(Box<Node>),
    Neg(Box<Node>),
    /// `a and b and …`: at least two operands.
    All(Vec<Node>),
    /// `a or b or …`: at least two operands.
    Any(Vec<Node>),
    Binary {
        op: BinOp,
        /// Where the operator was written, for messages.
        op_pos: usize,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
}

/// The binary operators other than `and` / `or`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
    Contains,
    StartsWith,
    Add,
    Sub,
    Mul,
}

impl BinOp {
    /// The operator as shown in messages.
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Contains => "contains",
            BinOp::StartsWith => "starts_with",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
        }
    }
}

/// Parses `chars` into a syntax tree, enforcing the depth, node and list limits.
pub(crate) fn parse(chars: &[char]) -> Result<Node, ExprError> {
    let tokens = tokenize(chars)?;
    if tokens.len() == 1 {
        return Err(ExprError::new(
            codes::SYNTAX,
            0,
            "the condition is empty; write a test such as amount > 1000".to_string(),
        ));
    }
    let mut parser = Parser {
        chars,
        tokens,
        pos: 0,
        depth: 0,
        nodes: 0,
    };
    let root = parser.or()?;
    let token = parser.peek();
    match token.tok {
        Tok::Eof => Ok(root),
        Tok::RParen => Err(parser.syntax(
            token.start,
            format!(
                "unmatched \")\" at position {}; there is no \"(\" for it",
                token.start
            ),
        )),
        _ => Err(parser.syntax(
            token.start,
            format!(
                "unexpected {} at position {}; expected an operator such as \"and\", \"or\", \
                 \">\" or the end of the condition",
                parser.describe(token),
                token.start
            ),
        )),
    }
}

struct Parser<'a> {
    chars: &'a [char],
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    nodes: usize,
}

/// `true` for the tokens of the comparison level.
fn is_comparison(tok: &Tok) -> bool {
    matches!(
        tok,
        Tok::EqEq
            | Tok::NotEq
            | Tok::Lt
            | Tok::Le
            | Tok::Gt
            | Tok::Ge
            | Tok::In
            | Tok::Contains
            | Tok::StartsWith
    )
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // The token list always ends with `Eof`, and `advance` never moves past it.
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_second(&self) -> &Tok {
        &self.tokens[(self.pos + 1).min(self.tokens.len() - 1)].tok
    }

    fn at(&self, tok: &Tok) -> bool {
        &self.peek().tok == tok
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.tok != Tok::Eof {
            self.pos += 1;
        }
        token
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.chars[start..end].iter().collect()
    }

    /// A token for messages: `"and"` as written, or "the end of the condition".
    fn describe(&self, token: &Token) -> String {
        if token.tok == Tok::Eof {
            return "the end of the condition".to_string();
        }
        let text = self.text(token.start, token.end);
        let count = text.chars().count();
        if count > 30 {
            let head: String = text.chars().take(27).collect();
            format!("\"{head}...\"")
        } else {
            format!("\"{text}\"")
        }
    }

    fn syntax(&self, position: usize, message: String) -> ExprError {
        ExprError::new(codes::SYNTAX, position, message)
    }

    /// Counts one more node of the tree.
    fn bump(&mut self, position: usize) -> Result<(), ExprError> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(ExprError::new(
                codes::TOO_COMPLEX,
                position,
                format!(
                    "the condition is too complex (more than {MAX_NODES} parts, at position \
                     {position}); split it into simpler conditions"
                ),
            ));
        }
        Ok(())
    }

    /// Enters one level of nesting (`(`, `[`, `not`, unary `-`).
    fn enter(&mut self, position: usize) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ExprError::new(
                codes::TOO_DEEP,
                position,
                format!(
                    "the condition is nested too deeply (more than {MAX_DEPTH} levels of \
                     parentheses, lists or \"not\", at position {position})"
                ),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// The error for a missing operand: "expected a value after "and" at position 12".
    fn expected_value(&self) -> ExprError {
        let found = self.peek();
        let found_part = if found.tok == Tok::Eof {
            String::new()
        } else {
            format!(", found {}", self.describe(found))
        };
        match self.pos.checked_sub(1).map(|i| &self.tokens[i]) {
            Some(prev) => self.syntax(
                prev.start,
                format!(
                    "expected a value after {} at position {}{found_part}",
                    self.describe(prev),
                    prev.start
                ),
            ),
            None => self.syntax(
                found.start,
                format!("expected a value at position {}{found_part}", found.start),
            ),
        }
    }

    fn or(&mut self) -> Result<Node, ExprError> {
        let first = self.and()?;
        if !self.at(&Tok::Or) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.at(&Tok::Or) {
            let op = self.advance();
            self.bump(op.start)?;
            operands.push(self.and()?);
        }
        Ok(Self::chain(operands, NodeKind::Any))
    }

    fn and(&mut self) -> Result<Node, ExprError> {
        let first = self.not()?;
        if !self.at(&Tok::And) {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.at(&Tok::And) {
            let op = self.advance();
            self.bump(op.start)?;
            operands.push(self.not()?);
        }
        Ok(Self::chain(operands, NodeKind::All))
    }

    fn chain(operands: Vec<Node>, make: fn(Vec<Node>) -> NodeKind) -> Node {
        let start = operands.first().map_or(0, |n| n.start);
        let end = operands.last().map_or(0, |n| n.end);
        Node {
            kind: make(operands),
            start,
            end,
        }
    }

    fn not(&mut self) -> Result<Node, ExprError> {
        if !self.at(&Tok::Not) {
            return self.compare();
        }
        let op = self.advance();
        self.enter(op.start)?;
        self.bump(op.start)?;
        let inner = self.not()?;
        self.leave();
        Ok(Node {
            start: op.start,
            end: inner.end,
            kind: NodeKind::Not(Box::new(inner)),
        })
    }

    /// The comparison operator at the cursor, if any, and how many tokens it takes.
    fn comparison_op(&self) -> Option<(BinOp, usize)> {
        let op = match self.peek().tok {
            Tok::EqEq => BinOp::Eq,
            Tok::NotEq => BinOp::Ne,
            Tok::Lt => BinOp::Lt,
            Tok::Le => BinOp::Le,
            Tok::Gt => BinOp::Gt,
            Tok::Ge => BinOp::Ge,
            Tok::In => BinOp::In,
            Tok::Contains => BinOp::Contains,
            Tok::StartsWith => BinOp::StartsWith,
            Tok::Not if self.peek_second() == &Tok::In => return Some((BinOp::NotIn, 2)),
            _ => return None,
        };
        Some((op, 1))
    }

    fn compare(&mut self) -> Result<Node, ExprError> {
        let lhs = self.sum()?;
        let Some((op, len)) = self.comparison_op() else {
            return Ok(lhs);
        };
        let op_pos = self.peek().start;
        for _ in 0..len {
            self.advance();
        }
        self.bump(op_pos)?;
        let rhs = self.sum()?;
        let next = self.peek();
        if is_comparison(&next.tok) || (next.tok == Tok::Not && self.peek_second() == &Tok::In) {
            return Err(self.syntax(
                next.start,
                format!(
                    "comparisons cannot be chained (the second one is {} at position {}); \
                     join them with \"and\", e.g. a < b and b < c",
                    self.describe(next),
                    next.start
                ),
            ));
        }
        Ok(Node {
            start: lhs.start,
            end: rhs.end,
            kind: NodeKind::Binary {
                op,
                op_pos,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
        })
    }

    fn sum(&mut self) -> Result<Node, ExprError> {
        let mut lhs = self.product()?;
        loop {
            let op = match self.peek().tok {
                Tok::Plus => BinOp::Add,
                Tok::Minus => BinOp::Sub,
                _ => return Ok(lhs),
            };
            let op_pos = self.advance().start;
            self.bump(op_pos)?;
            let rhs = self.product()?;
            lhs = Self::binary(op, op_pos, lhs, rhs);
        }
    }

    fn product(&mut self) -> Result<Node, ExprError> {
        let mut lhs = self.unary()?;
        while self.at(&Tok::Star) {
            let op_pos = self.advance().start;
            self.bump(op_pos)?;
            let rhs = self.unary()?;
            lhs = Self::binary(BinOp::Mul, op_pos, lhs, rhs);
        }
        Ok(lhs)
    }

    fn binary(op: BinOp, op_pos: usize, lhs: Node, rhs: Node) -> Node {
        Node {
            start: lhs.start,
            end: rhs.end,
            kind: NodeKind::Binary {
                op,
                op_pos,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            },
        }
    }

    fn unary(&mut self) -> Result<Node, ExprError> {
        if !self.at(&Tok::Minus) {
            return self.primary();
        }
        let op = self.advance();
        self.enter(op.start)?;
        self.bump(op.start)?;
        let inner = self.unary()?;
        self.leave();
        Ok(Node {
            start: op.start,
            end: inner.end,
            kind: NodeKind::Neg(Box::new(inner)),
        })
    }

    fn primary(&mut self) -> Result<Node, ExprError> {
        let token = self.peek().clone();
        let kind = match token.tok {
            Tok::Number(value) => NodeKind::Number(value),
            Tok::Str(ref value) => NodeKind::Text(value.clone()),
            Tok::True => NodeKind::Bool(true),
            Tok::False => NodeKind::Bool(false),
            Tok::Ident(ref name) => NodeKind::Field(name.clone()),
            Tok::LParen => return self.parenthesized(),
            Tok::LBracket => return self.list(),
            _ => return Err(self.expected_value()),
        };
        self.advance();
        self.bump(token.start)?;
        Ok(Node {
            kind,
            start: token.start,
            end: token.end,
        })
    }

    fn parenthesized(&mut self) -> Result<Node, ExprError> {
        let open = self.advance();
        self.enter(open.start)?;
        let mut inner = self.or()?;
        let close = self.peek().clone();
        if close.tok != Tok::RParen {
            return Err(self.syntax(
                close.start,
                format!(
                    "expected \")\" to close the \"(\" at position {}, found {} at position {}",
                    open.start,
                    self.describe(&close),
                    close.start
                ),
            ));
        }
        self.advance();
        self.leave();
        inner.start = open.start;
        inner.end = close.end;
        Ok(inner)
    }

    fn list(&mut self) -> Result<Node, ExprError> {
        let open = self.advance();
        self.enter(open.start)?;
        self.bump(open.start)?;
        let mut items = Vec::new();
        loop {
            if self.at(&Tok::RBracket) {
                break;
            }
            let item_start = self.peek().start;
            if items.len() == MAX_LIST_ITEMS {
                return Err(ExprError::new(
                    codes::TOO_MANY_ITEMS,
                    item_start,
                    format!(
                        "the list starting at position {} has more than {MAX_LIST_ITEMS} items",
                        open.start
                    ),
                ));
            }
            let item = self.unary()?;
            if !is_literal(&item) {
                return Err(self.syntax(
                    item.start,
                    format!(
                        "list items must be fixed values such as 'meat' or 5000, but \"{}\" at \
                         position {} is not",
                        self.text(item.start, item.end),
                        item.start
                    ),
                ));
            }
            items.push(item);
            let next = self.peek().clone();
            match next.tok {
                Tok::Comma => {
                    self.advance();
                }
                Tok::RBracket => break,
                _ => {
                    return Err(self.syntax(
                        next.start,
                        format!(
                            "expected \",\" or \"]\" in the list starting at position {}, found \
                             {} at position {}",
                            open.start,
                            self.describe(&next),
                            next.start
                        ),
                    ));
                }
            }
        }
        let close = self.advance();
        self.leave();
        Ok(Node {
            kind: NodeKind::List(items),
            start: open.start,
            end: close.end,
        })
    }
}

/// A literal list item: a number (possibly negated), a string or a boolean.
fn is_literal(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Number(_) | NodeKind::Text(_) | NodeKind::Bool(_) => true,
        NodeKind::Neg(inner) => {
            matches!(inner.kind, NodeKind::Number(_) | NodeKind::Neg(_)) && is_literal(inner)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses and renders the tree as an S-expression, to check structure and precedence.
    fn tree(src: &str) -> String {
        let chars: Vec<char> = src.chars().collect();
        match parse(&chars) {
            Ok(node) => render(&node),
            Err(e) => panic!("{src}: {e}"),
        }
    }

    fn err(src: &str) -> ExprError {
        let chars: Vec<char> = src.chars().collect();
        parse(&chars).expect_err(src)
    }

    fn render(node: &Node) -> String {
        let all = |name: &str, ops: &[Node]| {
            let parts: Vec<String> = ops.iter().map(|n| format!(" {}", render(n))).collect();
            format!("({name}{})", parts.concat())
        };
        match &node.kind {
            NodeKind::Bool(b) => b.to_string(),
            NodeKind::Number(d) => d.to_plain_string(),
            NodeKind::Text(s) => format!("{s:?}"),
            NodeKind::Field(f) => f.clone(),
            NodeKind::List(items) => all("list", items),
            NodeKind::Not(n) => format!("(not {})", render(n)),
            NodeKind::Neg(n) => format!("(neg {})", render(n)),
            NodeKind::All(ops) => all("and", ops),
            NodeKind::Any(ops) => all("or", ops),
            NodeKind::Binary { op, lhs, rhs, .. } => {
                format!("({} {} {})", op.symbol(), render(lhs), render(rhs))
            }
        }
    }

    #[test]
    fn boolean_precedence() {
        assert_eq!(tree("a or b and c"), "(or a (and b c))");
        assert_eq!(tree("a and b or c"), "(or (and a b) c)");
        assert_eq!(tree("not a and b"), "(and (not a) b)");
        assert_eq!(tree("not a or not b"), "(or (not a) (not b))");
        assert_eq!(tree("not not a"), "(not (not a))");
        assert_eq!(tree("not a == b"), "(not (== a b))");
        assert_eq!(tree("a and b and c"), "(and a b c)");
        assert_eq!(tree("a or b or c and d"), "(or a b (and c d))");
        assert_eq!(tree("(a or b) and c"), "(and (or a b) c)");
        assert_eq!(tree("a and (b and c)"), "(and a (and b c))");
    }

    #[test]
    fn comparison_and_arithmetic_precedence() {
        assert_eq!(tree("a + b * c == d"), "(== (+ a (* b c)) d)");
        assert_eq!(tree("(a + b) * c"), "(* (+ a b) c)");
        assert_eq!(tree("a - b - c"), "(- (- a b) c)");
        assert_eq!(tree("a - b + c"), "(+ (- a b) c)");
        assert_eq!(tree("a * b * c"), "(* (* a b) c)");
        assert_eq!(tree("-a * b"), "(* (neg a) b)");
        assert_eq!(tree("a * -b"), "(* a (neg b))");
        assert_eq!(tree("- -a"), "(neg (neg a))");
        assert_eq!(tree("a > 1 and b < 2"), "(and (> a 1) (< b 2))");
        assert_eq!(tree("a + 1 >= b - 2"), "(>= (+ a 1) (- b 2))");
        assert_eq!(tree("x in ['a', 'b']"), "(in x (list \"a\" \"b\"))");
        assert_eq!(tree("x not in [1, -2]"), "(not in x (list 1 (neg 2)))");
        assert_eq!(tree("not x in [1]"), "(not (in x (list 1)))");
        assert_eq!(tree("tags contains 'a'"), "(contains tags \"a\")");
        assert_eq!(tree("code starts_with 'S0'"), "(starts_with code \"S0\")");
        assert_eq!(tree("a <= 1.50"), "(<= a 1.50)");
    }

    #[test]
    fn keywords_and_synonyms() {
        assert_eq!(tree("a AND b Or c"), "(or (and a b) c)");
        assert_eq!(tree("a && b || c"), "(or (and a b) c)");
        assert_eq!(tree("!a && b"), "(and (not a) b)");
        assert_eq!(tree("NOT a"), "(not a)");
        assert_eq!(tree("x NOT IN [1]"), "(not in x (list 1))");
        assert_eq!(tree("TRUE or False"), "(or true false)");
        assert_eq!(
            tree("x In [1] and t CONTAINS 'a'"),
            "(and (in x (list 1)) (contains t \"a\"))"
        );
    }

    #[test]
    fn spans_cover_parentheses() {
        let chars: Vec<char> = "a and (b or c)".chars().collect();
        let node = parse(&chars).unwrap();
        let NodeKind::All(ops) = node.kind else {
            panic!("not an and")
        };
        assert_eq!((ops[1].start, ops[1].end), (6, 14));
        assert_eq!((node.start, node.end), (0, 14));
    }

    #[test]
    fn list_forms() {
        assert_eq!(tree("x in []"), "(in x (list))");
        assert_eq!(tree("x in [1,]"), "(in x (list 1))");
        let e = err("x in [1, y]");
        assert_eq!((e.code, e.position), ("syntax", 9));
        assert!(e.message.contains("fixed values"), "{}", e.message);
        let e = err("x in [[1]]");
        assert_eq!((e.code, e.position), ("syntax", 6));
        let e = err("x in [1 2]");
        assert_eq!((e.code, e.position), ("syntax", 8));
        let e = err("x in [1, 2");
        assert_eq!((e.code, e.position), ("syntax", 10));
        let e = err("x in [,]");
        assert_eq!((e.code, e.position), ("syntax", 5));
    }

    #[test]
    fn empty_input() {
        for src in ["", "   ", "\n\t"] {
            let e = err(src);
            assert_eq!((e.code, e.position), ("syntax", 0), "{src:?}");
            assert!(e.message.contains("empty"));
        }
    }

    #[test]
    fn missing_operands() {
        let e = err("amount >= 5 and");
        assert_eq!((e.code, e.position), ("syntax", 12));
        assert_eq!(e.message, "expected a value after \"and\" at position 12");
        let e = err("a AND )");
        assert_eq!(
            e.message,
            "expected a value after \"AND\" at position 2, found \")\""
        );
        let e = err("amount >");
        assert_eq!((e.code, e.position), ("syntax", 7));
        let e = err("not");
        assert_eq!(e.message, "expected a value after \"not\" at position 0");
        let e = err("(");
        assert_eq!(e.position, 0);
        let e = err(") a");
        assert_eq!(e.message, "expected a value at position 0, found \")\"");
        let e = err("and a");
        assert_eq!(e.position, 0);
        let e = err("a + * b");
        assert_eq!((e.code, e.position), ("syntax", 2));
        let e = err("a in");
        assert_eq!(e.position, 2);
        let e = err("a not in");
        assert_eq!(e.message, "expected a value after \"in\" at position 6");
    }

    #[test]
    fn trailing_garbage() {
        let e = err("amount > 5 5");
        assert_eq!((e.code, e.position), ("syntax", 11));
        assert!(
            e.message.starts_with("unexpected \"5\" at position 11"),
            "{}",
            e.message
        );
        let e = err("a > 1)");
        assert_eq!((e.code, e.position), ("syntax", 5));
        assert!(e.message.contains("unmatched \")\""), "{}", e.message);
        let e = err("a b");
        assert_eq!(e.position, 2);
        let e = err("a not b");
        assert_eq!(e.position, 2);
        let e = err("(a > 1");
        assert_eq!((e.code, e.position), ("syntax", 6));
        assert!(
            e.message.contains("close the \"(\" at position 0"),
            "{}",
            e.message
        );
    }

    #[test]
    fn comparisons_do_not_chain() {
        let e = err("a < b < c");
        assert_eq!((e.code, e.position), ("syntax", 6));
        assert!(e.message.contains("chained"), "{}", e.message);
        let e = err("a == b not in c");
        assert_eq!(e.position, 7);
        assert_eq!(tree("(a < b) == c"), "(== (< a b) c)");
    }

    #[test]
    fn depth_limit() {
        let ok = format!("{}a{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(tree(&ok), "a");
        let deep = format!(
            "{}a{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        let e = err(&deep);
        assert_eq!((e.code, e.position), ("too_deep", MAX_DEPTH));
        let e = err(&"(".repeat(10_000));
        assert_eq!(e.code, "too_deep");
        let e = err(&"not ".repeat(10_000));
        assert_eq!(e.code, "too_deep");
        let e = err(&format!("{}1", "-".repeat(10_000)));
        assert_eq!(e.code, "too_deep");
        let e = err(&format!("x in {}", "[".repeat(10_000)));
        assert_eq!(e.code, "too_deep");
        let e = err(&"!(".repeat(5_000));
        assert_eq!(e.code, "too_deep");
        // Depth is nesting, not length: long flat chains are fine up to the node limit.
        let flat = vec!["a"; 40].join(" and ");
        assert!(tree(&flat).starts_with("(and a a"));
    }

    #[test]
    fn node_limit() {
        // `a and a …` with n operands has 2n - 1 nodes.
        let ok = vec!["a"; MAX_NODES.div_ceil(2)].join(" and ");
        tree(&ok);
        let too_many = vec!["a"; MAX_NODES.div_ceil(2) + 1].join(" and ");
        let e = err(&too_many);
        assert_eq!(e.code, "too_complex");
        let e = err(&vec!["1"; 500].join("+"));
        assert_eq!(e.code, "too_complex");
    }

    #[test]
    fn list_limit() {
        let items = vec!["1"; MAX_LIST_ITEMS].join(", ");
        tree(&format!("x in [{items}]"));
        let items = vec!["1"; MAX_LIST_ITEMS + 1].join(",");
        let e = err(&format!("x in [{items}]"));
        assert_eq!(e.code, "too_many_items");
        assert_eq!(e.position, 6 + 2 * MAX_LIST_ITEMS);
    }
}
