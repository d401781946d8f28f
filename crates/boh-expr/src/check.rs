//! The type checker: syntax tree plus schema to the typed tree of [`crate::eval`].
//!
//! Numeric literals and list literals have no type of their own: they take the type of what
//! they are compared or combined with. In `amount > 5000.5` the literal is checked *after*
//! `amount`, and becomes 500050 minor units because `amount` is money with 2 decimal places. A
//! subtree made only of numeric literals (`5000 + 0.5`, `-1`) is folded to one exact decimal
//! first. Everything else has a type that does not depend on context.

use std::collections::BTreeSet;

use crate::decimal::{Decimal, DecimalError};
use crate::eval::{BoolExpr, CmpOp, NumExpr, NumListExpr, TextExpr, TextListExpr};
use crate::parser::{BinOp, Node, NodeKind};
use crate::{ExprError, Schema, Type, codes};

/// The result of checking a whole condition.
pub(crate) struct Checked {
    pub(crate) root: BoolExpr,
    /// Referenced field names, sorted and deduplicated.
    pub(crate) fields: Vec<String>,
    /// The source text of each top-level `and` / `or` operand (or of the whole condition).
    pub(crate) parts: Vec<String>,
}

/// Checks a parsed condition against `schema`; it must be a yes/no test.
pub(crate) fn check(root: &Node, chars: &[char], schema: &Schema) -> Result<Checked, ExprError> {
    let mut checker = Checker {
        chars,
        schema,
        fields: BTreeSet::new(),
    };
    let typed = checker.check(root, None)?;
    let Typed::Bool(expr) = typed else {
        return Err(checker.mismatch(
            root.start,
            format!(
                "the condition must be a yes/no test such as amount > 1000, but {} at position \
                 {} is not a test",
                checker.describe(root, typed.ty()),
                root.start
            ),
        ));
    };
    let parts = match &root.kind {
        NodeKind::All(ops) | NodeKind::Any(ops) => ops.iter().map(|n| checker.text(n)).collect(),
        _ => vec![checker.text(root)],
    };
    Ok(Checked {
        root: expr,
        fields: checker.fields.into_iter().collect(),
        parts,
    })
}

/// A checked expression of each type.
enum Typed {
    Bool(BoolExpr),
    /// `Type::Int` or `Type::Money`.
    Num(NumExpr, Type),
    Text(TextExpr),
    TextList(TextListExpr),
    IntList(NumListExpr),
}

impl Typed {
    fn ty(&self) -> Type {
        match self {
            Typed::Bool(_) => Type::Bool,
            Typed::Num(_, ty) => *ty,
            Typed::Text(_) => Type::Text,
            Typed::TextList(_) => Type::TextList,
            Typed::IntList(_) => Type::IntList,
        }
    }
}

/// What a context-dependent literal is checked against: the type it should take, and the
/// operand (with its own type) that asks for it, to name in messages.
#[derive(Clone, Copy)]
struct Expect<'n> {
    ty: Type,
    node: &'n Node,
    node_ty: Type,
}

/// A tree of numeric literals only (`5000`, `-1.5`, `2 * 0.5`): folded to one exact decimal.
fn is_numeric_const(node: &Node) -> bool {
    match &node.kind {
        NodeKind::Number(_) => true,
        NodeKind::Neg(inner) => is_numeric_const(inner),
        NodeKind::Binary {
            op: BinOp::Add | BinOp::Sub | BinOp::Mul,
            lhs,
            rhs,
            ..
        } => is_numeric_const(lhs) && is_numeric_const(rhs),
        _ => false,
    }
}

/// Whether the node's type depends on what it is used with.
fn depends_on_context(node: &Node) -> bool {
    is_numeric_const(node) || matches!(node.kind, NodeKind::List(_))
}

fn same(ty: Type) -> Option<Type> {
    Some(ty)
}

fn list_of(ty: Type) -> Option<Type> {
    match ty {
        Type::Text => Some(Type::TextList),
        Type::Int => Some(Type::IntList),
        _ => None,
    }
}

fn element_of(ty: Type) -> Option<Type> {
    match ty {
        Type::TextList => Some(Type::Text),
        Type::IntList => Some(Type::Int),
        _ => None,
    }
}

fn is_list(ty: Type) -> bool {
    element_of(ty).is_some()
}

fn cmp_op(op: BinOp) -> Option<CmpOp> {
    Some(match op {
        BinOp::Eq => CmpOp::Eq,
        BinOp::Ne => CmpOp::Ne,
        BinOp::Lt => CmpOp::Lt,
        BinOp::Le => CmpOp::Le,
        BinOp::Gt => CmpOp::Gt,
        BinOp::Ge => CmpOp::Ge,
        _ => return None,
    })
}

/// The constant items of a list literal, by element type.
enum Items {
    Nums(Vec<i64>),
    Texts(Vec<String>),
    Bools(Vec<bool>),
}

struct Checker<'a> {
    chars: &'a [char],
    schema: &'a Schema,
    fields: BTreeSet<String>,
}

impl Checker<'_> {
    /// The exact source text of a node.
    fn text(&self, node: &Node) -> String {
        self.chars[node.start..node.end].iter().collect()
    }

    /// The source text of a node, shortened for messages.
    fn short(&self, node: &Node) -> String {
        const MAX: usize = 40;
        if node.end - node.start <= MAX {
            self.text(node)
        } else {
            let head: String = self.chars[node.start..node.start + MAX - 3]
                .iter()
                .collect();
            format!("{head}...")
        }
    }

    /// An operand for messages: `money (amount)`, `text 'abc'`, `number 5000.5`.
    fn describe(&self, node: &Node, ty: Type) -> String {
        let text = self.short(node);
        match &node.kind {
            NodeKind::Field(name) => format!("{ty} ({name})"),
            NodeKind::Text(_) => format!("text {text}"),
            NodeKind::Bool(_) => format!("yes/no value {text}"),
            NodeKind::List(_) => format!("list {text}"),
            _ if is_numeric_const(node) => format!("number {text}"),
            _ => format!("{ty} ({text})"),
        }
    }

    fn mismatch(&self, position: usize, message: String) -> ExprError {
        ExprError::new(codes::TYPE_MISMATCH, position, message)
    }

    fn bad_literal(&self, node: &Node, error: DecimalError) -> ExprError {
        let why = match error {
            DecimalError::TooLarge => "is too large".to_string(),
            DecimalError::TooPrecise => format!(
                "has too many decimal places (at most {})",
                crate::decimal::MAX_SCALE
            ),
        };
        ExprError::new(
            codes::BAD_LITERAL,
            node.start,
            format!(
                "the number {} at position {} {why}",
                self.short(node),
                node.start
            ),
        )
    }

    fn check(&mut self, node: &Node, expect: Option<Expect<'_>>) -> Result<Typed, ExprError> {
        if is_numeric_const(node) {
            return self.number(node, expect);
        }
        Ok(match &node.kind {
            NodeKind::Bool(b) => Typed::Bool(BoolExpr::Const(*b)),
            NodeKind::Text(s) => Typed::Text(TextExpr::Const(s.clone())),
            NodeKind::Number(_) => self.number(node, expect)?,
            NodeKind::List(items) => self.list(node, items, expect)?,
            NodeKind::Field(name) => self.field(node, name)?,
            NodeKind::Not(inner) => {
                let typed = self.check(inner, None)?;
                Typed::Bool(BoolExpr::Not(Box::new(
                    self.want_bool(typed, inner, "not")?,
                )))
            }
            NodeKind::Neg(inner) => match self.check(inner, None)? {
                Typed::Num(e, ty) => Typed::Num(NumExpr::Neg(Box::new(e)), ty),
                other => {
                    return Err(self.mismatch(
                        inner.start,
                        format!(
                            "cannot put \"-\" before {} at position {}; only numbers and money \
                             can be negative",
                            self.describe(inner, other.ty()),
                            inner.start
                        ),
                    ));
                }
            },
            NodeKind::All(ops) => Typed::Bool(BoolExpr::All(self.conditions(ops, "and")?)),
            NodeKind::Any(ops) => Typed::Bool(BoolExpr::Any(self.conditions(ops, "or")?)),
            NodeKind::Binary {
                op,
                op_pos,
                lhs,
                rhs,
            } => self.binary(*op, *op_pos, lhs, rhs)?,
        })
    }

    fn want_bool(&self, typed: Typed, node: &Node, op: &str) -> Result<BoolExpr, ExprError> {
        match typed {
            Typed::Bool(e) => Ok(e),
            other => Err(self.mismatch(
                node.start,
                format!(
                    "\"{op}\" needs a yes/no test such as amount > 1000, but {} at position {} \
                     is not a test",
                    self.describe(node, other.ty()),
                    node.start
                ),
            )),
        }
    }

    fn conditions(&mut self, ops: &[Node], op: &str) -> Result<Vec<BoolExpr>, ExprError> {
        ops.iter()
            .map(|n| {
                let typed = self.check(n, None)?;
                self.want_bool(typed, n, op)
            })
            .collect()
    }

    fn field(&mut self, node: &Node, name: &str) -> Result<Typed, ExprError> {
        let Some(ty) = self.schema.get(name) else {
            return Err(self.unknown_field(node, name));
        };
        self.fields.insert(name.to_string());
        let name = name.to_string();
        Ok(match ty {
            Type::Bool => Typed::Bool(BoolExpr::Field(name)),
            Type::Int | Type::Money { .. } => Typed::Num(NumExpr::Field { name, ty }, ty),
            Type::Text => Typed::Text(TextExpr::Field(name)),
            Type::TextList => Typed::TextList(TextListExpr::Field(name)),
            Type::IntList => Typed::IntList(NumListExpr::Field(name)),
        })
    }

    fn unknown_field(&self, node: &Node, name: &str) -> ExprError {
        let lower = name.to_ascii_lowercase();
        let hint = if lower != name && self.schema.get(&lower).is_some() {
            format!(" (field names are written in lowercase: \"{lower}\")")
        } else {
            String::new()
        };
        let known: Vec<&str> = self.schema.fields().map(|(n, _, _)| n).collect();
        let known = if known.is_empty() {
            "no fields are available here".to_string()
        } else {
            format!("known fields: {}", known.join(", "))
        };
        ExprError::new(
            codes::UNKNOWN_FIELD,
            node.start,
            format!(
                "unknown field \"{name}\" at position {}{hint}; {known}",
                node.start
            ),
        )
    }

    /// Folds a tree of numeric literals to one exact decimal.
    fn fold(&self, node: &Node) -> Result<Decimal, ExprError> {
        let result = match &node.kind {
            NodeKind::Number(d) => Ok(*d),
            NodeKind::Neg(inner) => self.fold(inner)?.checked_neg(),
            NodeKind::Binary { op, lhs, rhs, .. } => {
                let (a, b) = (self.fold(lhs)?, self.fold(rhs)?);
                match op {
                    BinOp::Add => a.checked_add(b),
                    BinOp::Sub => a.checked_sub(b),
                    _ => a.checked_mul(b),
                }
            }
            // Not reached: callers check `is_numeric_const` first.
            _ => Err(DecimalError::TooLarge),
        };
        result.map_err(|e| self.bad_literal(node, e))
    }

    /// A numeric literal, converted to the type its context expects.
    fn number(&self, node: &Node, expect: Option<Expect<'_>>) -> Result<Typed, ExprError> {
        let value = self.fold(node)?;
        let literal = self.short(node);
        let at = node.start;
        if let Some(Expect {
            ty: ty @ Type::Money { scale },
            node: other,
            node_ty,
        }) = expect
        {
            return match value.to_minor_units(scale) {
                Ok(units) => Ok(Typed::Num(NumExpr::Const(units), ty)),
                Err(DecimalError::TooPrecise) => Err(ExprError::new(
                    codes::BAD_LITERAL,
                    at,
                    format!(
                        "the number {literal} at position {at} has more decimal places than {} \
                         allows ({scale})",
                        self.describe(other, node_ty)
                    ),
                )),
                Err(e) => Err(self.bad_literal(node, e)),
            };
        }
        if !value.is_whole() {
            let message = match expect {
                Some(Expect {
                    ty: Type::Int,
                    node: other,
                    node_ty,
                }) => format!(
                    "the number {literal} at position {at} has a decimal point, which {} does \
                     not allow",
                    self.describe(other, node_ty)
                ),
                Some(Expect {
                    node: other,
                    node_ty,
                    ..
                }) => format!(
                    "cannot use the number {literal} at position {at} with {}",
                    self.describe(other, node_ty)
                ),
                None => format!(
                    "the number {literal} at position {at} has a decimal point; decimal numbers \
                     can only be used with money"
                ),
            };
            return Err(self.mismatch(at, message));
        }
        let n = value.to_int().map_err(|e| self.bad_literal(node, e))?;
        Ok(Typed::Num(NumExpr::Const(n), Type::Int))
    }

    /// A list literal on its own (not after `in`): a list of text or of whole numbers.
    fn list(
        &mut self,
        node: &Node,
        items: &[Node],
        expect: Option<Expect<'_>>,
    ) -> Result<Typed, ExprError> {
        let from_context = expect.and_then(|e| element_of(e.ty));
        let from_items = items.first().map(|first| match first.kind {
            NodeKind::Text(_) => Type::Text,
            NodeKind::Bool(_) => Type::Bool,
            _ => Type::Int,
        });
        let element = match (from_context, from_items) {
            (Some(ty), _) | (None, Some(ty)) => ty,
            // An empty list compared with something that is not a list: any list type makes
            // the operator report the mismatch.
            (None, None) if expect.is_some() => Type::Text,
            (None, None) => {
                return Err(self.mismatch(
                    node.start,
                    format!(
                        "cannot tell what kind of values the empty list at position {} holds",
                        node.start
                    ),
                ));
            }
        };
        let items = self.items(items, element, None, |c, item, ty| {
            c.mismatch(
                item.start,
                format!(
                    "the items of the list at position {} must all be of one type ({element}), \
                     but {} at position {} is not",
                    node.start,
                    c.describe(item, ty),
                    item.start
                ),
            )
        })?;
        match items {
            Items::Texts(v) => Ok(Typed::TextList(TextListExpr::Const(v))),
            Items::Nums(v) => Ok(Typed::IntList(NumListExpr::Const(v))),
            Items::Bools(_) => Err(self.mismatch(
                node.start,
                format!(
                    "a list of yes/no values (at position {}) can only follow \"in\"",
                    node.start
                ),
            )),
        }
    }

    /// The constant items of a list literal, each of type `element`. Items are literals (the
    /// parser ensures it), so checking one yields a constant.
    fn items(
        &mut self,
        items: &[Node],
        element: Type,
        expect: Option<Expect<'_>>,
        mismatch: impl Fn(&Self, &Node, Type) -> ExprError,
    ) -> Result<Items, ExprError> {
        let (mut nums, mut texts, mut bools) = (Vec::new(), Vec::new(), Vec::new());
        for item in items {
            let typed = self.check(item, expect)?;
            let ty = typed.ty();
            match typed {
                Typed::Num(NumExpr::Const(n), _) if ty == element => nums.push(n),
                Typed::Text(TextExpr::Const(s)) if ty == element => texts.push(s),
                Typed::Bool(BoolExpr::Const(b)) if ty == element => bools.push(b),
                _ => return Err(mismatch(self, item, ty)),
            }
        }
        Ok(match element {
            Type::Text => Items::Texts(texts),
            Type::Bool => Items::Bools(bools),
            _ => Items::Nums(nums),
        })
    }

    /// Checks two operands; a context-dependent one is checked second, against the type the
    /// other one maps to (`for_rhs` maps the left operand's type, `for_lhs` the right's).
    fn pair(
        &mut self,
        lhs: &Node,
        rhs: &Node,
        for_rhs: fn(Type) -> Option<Type>,
        for_lhs: fn(Type) -> Option<Type>,
    ) -> Result<(Typed, Typed), ExprError> {
        if depends_on_context(lhs) && !depends_on_context(rhs) {
            let r = self.check(rhs, None)?;
            let rt = r.ty();
            let expect = for_lhs(rt).map(|ty| Expect {
                ty,
                node: rhs,
                node_ty: rt,
            });
            Ok((self.check(lhs, expect)?, r))
        } else {
            let l = self.check(lhs, None)?;
            let lt = l.ty();
            let expect = for_rhs(lt).map(|ty| Expect {
                ty,
                node: lhs,
                node_ty: lt,
            });
            let r = self.check(rhs, expect)?;
            Ok((l, r))
        }
    }

    fn binary(
        &mut self,
        op: BinOp,
        op_pos: usize,
        lhs: &Node,
        rhs: &Node,
    ) -> Result<Typed, ExprError> {
        if let Some(cmp) = cmp_op(op) {
            return self.comparison(cmp, op, op_pos, lhs, rhs);
        }
        match op {
            BinOp::Add | BinOp::Sub => self.sum(op, lhs, rhs),
            BinOp::Mul => self.product(lhs, rhs),
            BinOp::In | BinOp::NotIn => self.membership(op == BinOp::NotIn, lhs, rhs),
            BinOp::Contains => self.contains(lhs, rhs),
            _ => self.starts_with(lhs, rhs),
        }
    }

    /// " (they have 2 and 3 decimal places)" when both types are money of different scales.
    fn scale_note(lt: Type, rt: Type) -> String {
        match (lt, rt) {
            (Type::Money { scale: a }, Type::Money { scale: b }) if a != b => {
                format!(" (they have {a} and {b} decimal places)")
            }
            _ => String::new(),
        }
    }

    fn comparison(
        &mut self,
        cmp: CmpOp,
        op: BinOp,
        op_pos: usize,
        lhs: &Node,
        rhs: &Node,
    ) -> Result<Typed, ExprError> {
        let (l, r) = self.pair(lhs, rhs, same, same)?;
        let (lt, rt) = (l.ty(), r.ty());
        let ordering = !matches!(cmp, CmpOp::Eq | CmpOp::Ne);
        let expr = match (l, r) {
            (Typed::Num(a, _), Typed::Num(b, _)) if lt == rt => BoolExpr::CmpNum(cmp, a, b),
            (Typed::Text(a), Typed::Text(b)) => BoolExpr::CmpText(cmp, a, b),
            (Typed::Bool(a), Typed::Bool(b)) if !ordering => {
                BoolExpr::CmpBool(cmp, Box::new(a), Box::new(b))
            }
            (Typed::TextList(a), Typed::TextList(b)) if !ordering => BoolExpr::CmpTexts(cmp, a, b),
            (Typed::IntList(a), Typed::IntList(b)) if !ordering => BoolExpr::CmpNums(cmp, a, b),
            _ if lt == rt => {
                return Err(self.mismatch(
                    op_pos,
                    format!(
                        "cannot use \"{}\" at position {op_pos} on {}; \"<\", \"<=\", \">\" and \
                         \">=\" work only on numbers, money and text",
                        op.symbol(),
                        self.describe(lhs, lt)
                    ),
                ));
            }
            _ => {
                return Err(self.mismatch(
                    rhs.start,
                    format!(
                        "cannot compare {} with {} at position {}{}",
                        self.describe(lhs, lt),
                        self.describe(rhs, rt),
                        rhs.start,
                        Self::scale_note(lt, rt)
                    ),
                ));
            }
        };
        Ok(Typed::Bool(expr))
    }

    fn sum(&mut self, op: BinOp, lhs: &Node, rhs: &Node) -> Result<Typed, ExprError> {
        let (l, r) = self.pair(lhs, rhs, same, same)?;
        let (lt, rt) = (l.ty(), r.ty());
        match (l, r) {
            (Typed::Num(a, _), Typed::Num(b, _)) if lt == rt => {
                let (a, b) = (Box::new(a), Box::new(b));
                let e = if op == BinOp::Add {
                    NumExpr::Add(a, b)
                } else {
                    NumExpr::Sub(a, b)
                };
                Ok(Typed::Num(e, lt))
            }
            _ => {
                let (dl, dr) = (self.describe(lhs, lt), self.describe(rhs, rt));
                let what = if op == BinOp::Add {
                    format!("cannot add {dl} and {dr}")
                } else {
                    format!("cannot subtract {dr} from {dl}")
                };
                Err(self.mismatch(
                    rhs.start,
                    format!(
                        "{what} at position {}{}",
                        rhs.start,
                        Self::scale_note(lt, rt)
                    ),
                ))
            }
        }
    }

    fn product(&mut self, lhs: &Node, rhs: &Node) -> Result<Typed, ExprError> {
        let (lc, rc) = (is_numeric_const(lhs), is_numeric_const(rhs));
        let (l, r) = if lc != rc {
            // One side is a literal. Money times a literal is scaling (`amount * 2`,
            // `amount * 1.1`), so the literal is a factor, not an amount of money.
            let (literal, other) = if lc { (lhs, rhs) } else { (rhs, lhs) };
            let o = match self.check(other, None)? {
                Typed::Num(e, ty @ Type::Money { .. }) => {
                    let factor = self.fold(literal)?;
                    let e = Box::new(e);
                    let scaled = if factor.is_whole() {
                        let k = factor
                            .to_int()
                            .map_err(|err| self.bad_literal(literal, err))?;
                        NumExpr::Mul(e, Box::new(NumExpr::Const(k)))
                    } else {
                        NumExpr::MulDecimal(e, factor)
                    };
                    return Ok(Typed::Num(scaled, ty));
                }
                o => o,
            };
            let ot = o.ty();
            let expect = Expect {
                ty: ot,
                node: other,
                node_ty: ot,
            };
            let c = self.check(literal, Some(expect))?;
            if lc { (c, o) } else { (o, c) }
        } else {
            self.pair(lhs, rhs, same, same)?
        };
        let (lt, rt) = (l.ty(), r.ty());
        match (l, r) {
            (Typed::Num(a, Type::Int), Typed::Num(b, Type::Int)) => Ok(Typed::Num(
                NumExpr::Mul(Box::new(a), Box::new(b)),
                Type::Int,
            )),
            (Typed::Num(a, ty @ Type::Money { .. }), Typed::Num(b, Type::Int))
            | (Typed::Num(a, Type::Int), Typed::Num(b, ty @ Type::Money { .. })) => {
                Ok(Typed::Num(NumExpr::Mul(Box::new(a), Box::new(b)), ty))
            }
            _ => {
                let hint = if matches!((lt, rt), (Type::Money { .. }, Type::Money { .. })) {
                    "; money can be multiplied only by a whole number or a decimal number such \
                     as 1.1"
                } else {
                    ""
                };
                Err(self.mismatch(
                    rhs.start,
                    format!(
                        "cannot multiply {} by {} at position {}{hint}",
                        self.describe(lhs, lt),
                        self.describe(rhs, rt),
                        rhs.start
                    ),
                ))
            }
        }
    }

    /// `needle in list` / `needle not in list`.
    fn membership(&mut self, negated: bool, lhs: &Node, rhs: &Node) -> Result<Typed, ExprError> {
        if let NodeKind::List(items) = &rhs.kind {
            return self.in_literal(negated, lhs, items);
        }
        let (l, r) = self.pair(lhs, rhs, list_of, element_of)?;
        let (lt, rt) = (l.ty(), r.ty());
        let expr = match (l, r) {
            (Typed::Num(needle, Type::Int), Typed::IntList(list)) => BoolExpr::InNums {
                needle,
                list,
                negated,
            },
            (Typed::Text(needle), Typed::TextList(list)) => BoolExpr::InTexts {
                needle,
                list,
                negated,
            },
            _ if !is_list(rt) => {
                return Err(self.mismatch(
                    rhs.start,
                    format!(
                        "\"in\" needs a list on its right, such as ['meat', 'seafood'], but {} at \
                         position {} is not a list",
                        self.describe(rhs, rt),
                        rhs.start
                    ),
                ));
            }
            _ => return Err(self.cannot_find(lhs, lt, rhs, rt, lhs.start)),
        };
        Ok(Typed::Bool(expr))
    }

    fn cannot_find(&self, needle: &Node, nt: Type, list: &Node, lt: Type, at: usize) -> ExprError {
        self.mismatch(
            at,
            format!(
                "cannot look for {} in {} at position {at}",
                self.describe(needle, nt),
                self.describe(list, lt)
            ),
        )
    }

    /// `needle in [literal, …]`: the items take the needle's type, so a list of amounts or of
    /// yes/no values is allowed here.
    fn in_literal(
        &mut self,
        negated: bool,
        lhs: &Node,
        items: &[Node],
    ) -> Result<Typed, ExprError> {
        let needle = self.check(lhs, None)?;
        let nt = needle.ty();
        if is_list(nt) {
            return Err(self.mismatch(
                lhs.start,
                format!(
                    "cannot look for {} at position {} in a list; \"in\" tests a single value, \
                     e.g. category in ['meat', 'seafood']",
                    self.describe(lhs, nt),
                    lhs.start
                ),
            ));
        }
        let expect = Expect {
            ty: nt,
            node: lhs,
            node_ty: nt,
        };
        let items = self.items(items, nt, Some(expect), |c, item, ty| {
            c.mismatch(
                item.start,
                format!(
                    "cannot compare {} with {} at position {}",
                    c.describe(lhs, nt),
                    c.describe(item, ty),
                    item.start
                ),
            )
        })?;
        let expr = match (needle, items) {
            (Typed::Num(needle, _), Items::Nums(v)) => BoolExpr::InNums {
                needle,
                list: NumListExpr::Const(v),
                negated,
            },
            (Typed::Text(needle), Items::Texts(v)) => BoolExpr::InTexts {
                needle,
                list: TextListExpr::Const(v),
                negated,
            },
            (Typed::Bool(needle), Items::Bools(list)) => BoolExpr::InBools {
                needle: Box::new(needle),
                list,
                negated,
            },
            // `items` follows the needle's type, so the pairs above are the only ones.
            (needle, _) => {
                return Err(self.mismatch(
                    lhs.start,
                    format!(
                        "cannot look for {} at position {} in a list",
                        self.describe(lhs, needle.ty()),
                        lhs.start
                    ),
                ));
            }
        };
        Ok(Typed::Bool(expr))
    }

    /// `list contains value`.
    fn contains(&mut self, lhs: &Node, rhs: &Node) -> Result<Typed, ExprError> {
        let (l, r) = self.pair(lhs, rhs, element_of, list_of)?;
        let (lt, rt) = (l.ty(), r.ty());
        let expr = match (l, r) {
            (Typed::IntList(list), Typed::Num(needle, Type::Int)) => BoolExpr::InNums {
                needle,
                list,
                negated: false,
            },
            (Typed::TextList(list), Typed::Text(needle)) => BoolExpr::InTexts {
                needle,
                list,
                negated: false,
            },
            _ if !is_list(lt) => {
                let hint = if lt == Type::Text {
                    "; to test how a text begins, use starts_with"
                } else {
                    ""
                };
                return Err(self.mismatch(
                    lhs.start,
                    format!(
                        "\"contains\" needs a list on its left, but {} at position {} is not a \
                         list{hint}",
                        self.describe(lhs, lt),
                        lhs.start
                    ),
                ));
            }
            _ => return Err(self.cannot_find(rhs, rt, lhs, lt, rhs.start)),
        };
        Ok(Typed::Bool(expr))
    }

    fn starts_with(&mut self, lhs: &Node, rhs: &Node) -> Result<Typed, ExprError> {
        let (l, r) = self.pair(lhs, rhs, same, same)?;
        let (lt, rt) = (l.ty(), r.ty());
        match (l, r) {
            (Typed::Text(a), Typed::Text(b)) => Ok(Typed::Bool(BoolExpr::StartsWith(a, b))),
            _ => {
                let (node, ty) = if lt == Type::Text {
                    (rhs, rt)
                } else {
                    (lhs, lt)
                };
                Err(self.mismatch(
                    node.start,
                    format!(
                        "\"starts_with\" works only on text, but {} at position {} is not text",
                        self.describe(node, ty),
                        node.start
                    ),
                ))
            }
        }
    }
}
