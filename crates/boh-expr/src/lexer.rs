//! The tokenizer: source characters to tokens with character positions.
//!
//! Positions are offsets in *characters* (not bytes), 0-based, because they are shown to admins
//! who may type non-ASCII text (store names, categories) into string literals.

use crate::decimal::{Decimal, DecimalError};
use crate::{ExprError, codes};

/// One kind of token. Keywords are recognised case-insensitively; `&&`, `||` and `!` are
/// synonyms of `and`, `or` and `not` and produce the same tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Number(Decimal),
    Str(String),
    /// A field reference, possibly dotted (`supplier.code`), as written.
    Ident(String),
    And,
    Or,
    Not,
    In,
    Contains,
    StartsWith,
    True,
    False,
    EqEq,
    NotEq,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Star,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Eof,
}

/// A token and the characters `start..end` it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) tok: Tok,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// The keywords, lowercase.
const KEYWORDS: [(&str, Tok); 8] = [
    ("and", Tok::And),
    ("or", Tok::Or),
    ("not", Tok::Not),
    ("in", Tok::In),
    ("contains", Tok::Contains),
    ("starts_with", Tok::StartsWith),
    ("true", Tok::True),
    ("false", Tok::False),
];

fn keyword(word: &str) -> Option<Tok> {
    KEYWORDS
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(word))
        .map(|(_, t)| t.clone())
}

/// Whether `name` can be written as a field reference: dot-separated segments of
/// `[a-z_][a-z0-9_]*`, and not a keyword.
pub(crate) fn is_valid_field_name(name: &str) -> bool {
    let segment_ok = |s: &str| {
        let mut chars = s.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
            && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    name.split('.').all(segment_ok) && keyword(name).is_none()
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_continue(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn syntax(position: usize, message: String) -> ExprError {
    ExprError::new(codes::SYNTAX, position, message)
}

/// Splits `chars` into tokens; the last token is always [`Tok::Eof`].
pub(crate) fn tokenize(chars: &[char]) -> Result<Vec<Token>, ExprError> {
    let mut lexer = Lexer { chars, pos: 0 };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.tok == Tok::Eof;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

struct Lexer<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Lexer<'_> {
    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn text(&self, start: usize, end: usize) -> String {
        self.chars[start..end].iter().collect()
    }

    fn next_token(&mut self) -> Result<Token, ExprError> {
        while self.peek_at(0).is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(c) = self.peek_at(0) else {
            return Ok(Token {
                tok: Tok::Eof,
                start,
                end: start,
            });
        };
        let next = self.peek_at(1);
        // Operators of one or two characters.
        let (tok, len) = match (c, next) {
            ('=', Some('=')) => (Tok::EqEq, 2),
            ('!', Some('=')) => (Tok::NotEq, 2),
            ('<', Some('=')) => (Tok::Le, 2),
            ('>', Some('=')) => (Tok::Ge, 2),
            ('&', Some('&')) => (Tok::And, 2),
            ('|', Some('|')) => (Tok::Or, 2),
            ('<', _) => (Tok::Lt, 1),
            ('>', _) => (Tok::Gt, 1),
            ('!', _) => (Tok::Not, 1),
            ('+', _) => (Tok::Plus, 1),
            ('-', _) => (Tok::Minus, 1),
            ('*', _) => (Tok::Star, 1),
            ('(', _) => (Tok::LParen, 1),
            (')', _) => (Tok::RParen, 1),
            ('[', _) => (Tok::LBracket, 1),
            (']', _) => (Tok::RBracket, 1),
            (',', _) => (Tok::Comma, 1),
            ('\'' | '"', _) => return self.string(c),
            _ if c.is_ascii_digit() => return self.number(),
            _ if is_ident_start(c) => return Ok(self.word()),
            _ => return Err(self.bad_char(c)),
        };
        self.pos += len;
        Ok(Token {
            tok,
            start,
            end: self.pos,
        })
    }

    /// An error for a character that starts no token, with a hint for the usual mistakes.
    fn bad_char(&self, c: char) -> ExprError {
        let at = self.pos;
        let message = match c {
            '=' => {
                format!("\"=\" at position {at} is not an operator; use \"==\" to test equality")
            }
            '&' => format!("\"&\" at position {at} is not an operator; use \"and\" (or \"&&\")"),
            '|' => format!("\"|\" at position {at} is not an operator; use \"or\" (or \"||\")"),
            '/' => format!("division (\"/\" at position {at}) is not supported"),
            '.' if self.peek_at(1).is_some_and(|n| n.is_ascii_digit()) => format!(
                "a number cannot start with \".\" (at position {at}); write 0.5 instead of .5"
            ),
            _ => format!("unexpected character \"{c}\" at position {at}"),
        };
        syntax(at, message)
    }

    /// A quoted string. Backslash escapes only the quote characters and the backslash itself.
    fn string(&mut self, quote: char) -> Result<Token, ExprError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let Some(c) = self.peek_at(0) else {
                return Err(syntax(
                    start,
                    format!(
                        "the text starting at position {start} is never closed; \
                         add a closing {quote}"
                    ),
                ));
            };
            self.pos += 1;
            match c {
                '\\' => match self.peek_at(0) {
                    Some(e @ ('\\' | '\'' | '"')) => {
                        value.push(e);
                        self.pos += 1;
                    }
                    Some(e) => {
                        return Err(syntax(
                            self.pos - 1,
                            format!(
                                "unknown escape \"\\{e}\" at position {}; only \\\\, \\' and \\\" \
                                 are allowed",
                                self.pos - 1
                            ),
                        ));
                    }
                    None => {
                        return Err(syntax(
                            start,
                            format!(
                                "the text starting at position {start} is never closed; \
                                 add a closing {quote}"
                            ),
                        ));
                    }
                },
                c if c == quote => break,
                c => value.push(c),
            }
        }
        Ok(Token {
            tok: Tok::Str(value),
            start,
            end: self.pos,
        })
    }

    /// `digits` or `digits.digits`.
    fn number(&mut self) -> Result<Token, ExprError> {
        let start = self.pos;
        while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let int_end = self.pos;
        let mut frac = None;
        if self.peek_at(0) == Some('.') {
            if !self.peek_at(1).is_some_and(|c| c.is_ascii_digit()) {
                return Err(syntax(
                    self.pos,
                    format!(
                        "the number at position {start} ends with \".\"; write digits after the \
                         decimal point"
                    ),
                ));
            }
            self.pos += 1;
            let frac_start = self.pos;
            while self.peek_at(0).is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            frac = Some(self.text(frac_start, self.pos));
        }
        if self
            .peek_at(0)
            .is_some_and(|c| is_ident_continue(c) || c == '.')
        {
            // `5abc`, `1.2.3`: read the rest of the word so the message shows all of it.
            while self
                .peek_at(0)
                .is_some_and(|c| is_ident_continue(c) || c == '.')
            {
                self.pos += 1;
            }
            let word = self.text(start, self.pos);
            return Err(syntax(
                start,
                format!(
                    "\"{word}\" at position {start} is neither a number nor a field name \
                     (field names start with a letter)"
                ),
            ));
        }
        let literal = self.text(start, self.pos);
        let value =
            Decimal::from_digits(&self.text(start, int_end), frac.as_deref()).map_err(|e| {
                let why = match e {
                    DecimalError::TooLarge => "is too large".to_string(),
                    DecimalError::TooPrecise => format!(
                        "has too many decimal places (at most {})",
                        crate::decimal::MAX_SCALE
                    ),
                };
                ExprError::new(
                    codes::BAD_LITERAL,
                    start,
                    format!("the number {literal} at position {start} {why}"),
                )
            })?;
        Ok(Token {
            tok: Tok::Number(value),
            start,
            end: self.pos,
        })
    }

    /// A keyword or a (possibly dotted) field reference.
    fn word(&mut self) -> Token {
        let start = self.pos;
        loop {
            while self.peek_at(0).is_some_and(is_ident_continue) {
                self.pos += 1;
            }
            // A dot continues the name only when a new segment follows (`supplier.code`).
            if self.peek_at(0) == Some('.') && self.peek_at(1).is_some_and(is_ident_start) {
                self.pos += 1;
            } else {
                break;
            }
        }
        let word = self.text(start, self.pos);
        let tok = if word.contains('.') {
            Tok::Ident(word)
        } else {
            keyword(&word).unwrap_or(Tok::Ident(word))
        };
        Token {
            tok,
            start,
            end: self.pos,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(src: &str) -> Result<Vec<Tok>, ExprError> {
        let chars: Vec<char> = src.chars().collect();
        tokenize(&chars).map(|ts| ts.into_iter().map(|t| t.tok).collect())
    }

    fn err(src: &str) -> ExprError {
        lex(src).expect_err(src)
    }

    fn ident(s: &str) -> Tok {
        Tok::Ident(s.to_string())
    }

    #[test]
    fn operators_and_synonyms() {
        assert_eq!(
            lex("== != < <= > >= + - * ( ) [ ] , && || !").unwrap(),
            vec![
                Tok::EqEq,
                Tok::NotEq,
                Tok::Lt,
                Tok::Le,
                Tok::Gt,
                Tok::Ge,
                Tok::Plus,
                Tok::Minus,
                Tok::Star,
                Tok::LParen,
                Tok::RParen,
                Tok::LBracket,
                Tok::RBracket,
                Tok::Comma,
                Tok::And,
                Tok::Or,
                Tok::Not,
                Tok::Eof
            ]
        );
        assert_eq!(lex("a>=5").unwrap()[1], Tok::Ge);
        assert_eq!(lex("!a").unwrap(), vec![Tok::Not, ident("a"), Tok::Eof]);
    }

    #[test]
    fn keywords_are_case_insensitive() {
        assert_eq!(
            lex("AND Or nOt IN Contains STARTS_WITH True FALSE").unwrap(),
            vec![
                Tok::And,
                Tok::Or,
                Tok::Not,
                Tok::In,
                Tok::Contains,
                Tok::StartsWith,
                Tok::True,
                Tok::False,
                Tok::Eof
            ]
        );
        // Keywords are whole words only.
        assert_eq!(lex("android").unwrap()[0], ident("android"));
        assert_eq!(lex("order.in").unwrap()[0], ident("order.in"));
    }

    #[test]
    fn dotted_identifiers() {
        assert_eq!(
            lex("supplier.code == x").unwrap(),
            vec![ident("supplier.code"), Tok::EqEq, ident("x"), Tok::Eof]
        );
        assert_eq!(lex("a.b_c.d9").unwrap()[0], ident("a.b_c.d9"));
        let e = err("supplier.");
        assert_eq!((e.code, e.position), ("syntax", 8));
        let e = err("a..b");
        assert_eq!((e.code, e.position), ("syntax", 1));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(lex("'meat'").unwrap()[0], Tok::Str("meat".into()));
        assert_eq!(lex("\"meat\"").unwrap()[0], Tok::Str("meat".into()));
        assert_eq!(lex(r"'it\'s'").unwrap()[0], Tok::Str("it's".into()));
        assert_eq!(
            lex(r#""say \"hi\"""#).unwrap()[0],
            Tok::Str("say \"hi\"".into())
        );
        assert_eq!(lex(r"'a\\b'").unwrap()[0], Tok::Str(r"a\b".into()));
        assert_eq!(lex(r"'a\\'").unwrap()[0], Tok::Str(r"a\".into()));
        assert_eq!(
            lex(r#"'say "hi"'"#).unwrap()[0],
            Tok::Str("say \"hi\"".into())
        );
        assert_eq!(lex("''").unwrap()[0], Tok::Str(String::new()));
        assert_eq!(lex("'海鲜'").unwrap()[0], Tok::Str("海鲜".into()));
    }

    #[test]
    fn string_errors() {
        let e = err("name == 'abc");
        assert_eq!((e.code, e.position), ("syntax", 8));
        assert!(e.message.contains("never closed"), "{}", e.message);
        let e = err(r"'abc\'");
        assert_eq!((e.code, e.position), ("syntax", 0));
        let e = err(r"'a\nb'");
        assert_eq!((e.code, e.position), ("syntax", 2));
        assert!(e.message.contains("unknown escape"), "{}", e.message);
        let e = err("'abc\\");
        assert_eq!((e.code, e.position), ("syntax", 0));
    }

    #[test]
    fn numbers() {
        assert_eq!(
            lex("5000 5000.50").unwrap()[..2],
            [
                Tok::Number(Decimal::integer(5000)),
                Tok::Number(Decimal {
                    units: 500050,
                    scale: 2
                })
            ]
        );
        let e = err("5000.");
        assert_eq!((e.code, e.position), ("syntax", 4));
        let e = err("x > 5abc");
        assert_eq!((e.code, e.position), ("syntax", 4));
        assert!(e.message.contains("\"5abc\""), "{}", e.message);
        let e = err("1.2.3");
        assert_eq!((e.code, e.position), ("syntax", 0));
        let e = err(".5");
        assert_eq!((e.code, e.position), ("syntax", 0));
        assert!(e.message.contains("0.5"), "{}", e.message);
        let e = err(&"9".repeat(50));
        assert_eq!((e.code, e.position), ("bad_literal", 0));
        let e = err(&format!("0.{}", "1".repeat(30)));
        assert_eq!((e.code, e.position), ("bad_literal", 0));
    }

    #[test]
    fn bad_characters_have_hints() {
        let e = err("amount = 5");
        assert_eq!((e.code, e.position), ("syntax", 7));
        assert!(e.message.contains("\"==\""), "{}", e.message);
        assert!(err("a & b").message.contains("\"and\""));
        assert!(err("a | b").message.contains("\"or\""));
        assert!(err("a / 2").message.contains("division"));
        let e = err("a # b");
        assert_eq!(e.position, 2);
        assert!(e.message.contains("\"#\""));
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let chars: Vec<char> = "'店铺' == x".chars().collect();
        let tokens = tokenize(&chars).unwrap();
        assert_eq!((tokens[0].start, tokens[0].end), (0, 4));
        assert_eq!((tokens[1].start, tokens[1].end), (5, 7));
        assert_eq!((tokens[2].start, tokens[2].end), (8, 9));
        assert_eq!((tokens[3].tok.clone(), tokens[3].start), (Tok::Eof, 9));
        let e = err("'店铺' # 1");
        assert_eq!(e.position, 5);
    }

    #[test]
    fn field_name_validity() {
        assert!(is_valid_field_name("amount"));
        assert!(is_valid_field_name("supplier.code"));
        assert!(is_valid_field_name("_x9"));
        assert!(!is_valid_field_name("Amount"));
        assert!(!is_valid_field_name("9x"));
        assert!(!is_valid_field_name("a..b"));
        assert!(!is_valid_field_name(""));
        assert!(!is_valid_field_name("and"));
        assert!(!is_valid_field_name("contains"));
        assert!(!is_valid_field_name("a-b"));
    }
}
