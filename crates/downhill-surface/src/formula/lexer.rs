//! Splits formula text into tokens, each with its 1-based column.

use std::fmt;

#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A numeric literal as written (`2`, `1.5e-3`, `.5`); the parser reads its value.
    Number(String),
    /// A variable, constant or function name.
    Name(String),
    Plus,
    Minus,
    Star,
    Slash,
    Caret,
    Open,
    Close,
    /// A character no token starts with.
    Other(char),
    End,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: Kind,
    /// 1-based, counted in characters.
    pub column: usize,
}

impl fmt::Display for Kind {
    /// How an error message quotes the token it found.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Number(text) | Kind::Name(text) => write!(f, "'{text}'"),
            Kind::Plus => f.write_str("'+'"),
            Kind::Minus => f.write_str("'-'"),
            Kind::Star => f.write_str("'*'"),
            Kind::Slash => f.write_str("'/'"),
            Kind::Caret => f.write_str("'^'"),
            Kind::Open => f.write_str("'('"),
            Kind::Close => f.write_str("')'"),
            Kind::Other(c) => write!(f, "'{}'", c.escape_debug()),
            Kind::End => f.write_str("the end of the formula"),
        }
    }
}

/// All tokens of `text`, ending with [`Kind::End`]. Never fails: characters
/// that start no token become [`Kind::Other`] for the parser to report.
pub fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        let kind = match c {
            _ if c.is_whitespace() => {
                i += 1;
                continue;
            }
            '0'..='9' | '.' => {
                i = number_end(&chars, i);
                Kind::Number(chars[start..i].iter().collect())
            }
            _ if c.is_ascii_alphabetic() || c == '_' => {
                while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                Kind::Name(chars[start..i].iter().collect())
            }
            _ => {
                i += 1;
                match c {
                    '+' => Kind::Plus,
                    '-' | '\u{2212}' => Kind::Minus,
                    '*' => Kind::Star,
                    '/' => Kind::Slash,
                    '^' => Kind::Caret,
                    '(' => Kind::Open,
                    ')' => Kind::Close,
                    other => Kind::Other(other),
                }
            }
        };
        out.push(Token {
            kind,
            column: start + 1,
        });
    }
    out.push(Token {
        kind: Kind::End,
        column: chars.len() + 1,
    });
    out
}

/// The end of the literal starting at `i`: digits, an optional fraction and an
/// optional exponent (`e`, a sign, digits — only taken when a digit follows).
fn number_end(chars: &[char], mut i: usize) -> usize {
    let digits = |i: &mut usize| {
        while *i < chars.len() && chars[*i].is_ascii_digit() {
            *i += 1;
        }
    };
    digits(&mut i);
    if i < chars.len() && chars[i] == '.' {
        i += 1;
        digits(&mut i);
    }
    if i < chars.len() && matches!(chars[i], 'e' | 'E') {
        let sign = usize::from(matches!(chars.get(i + 1), Some('+' | '-')));
        if chars.get(i + 1 + sign).is_some_and(|c| c.is_ascii_digit()) {
            i += 1 + sign;
            digits(&mut i);
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<Kind> {
        tokens(text).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn numbers_take_fractions_and_exponents_only_when_complete() {
        let n = |s: &str| Kind::Number(s.into());
        assert_eq!(kinds("1.5e-3"), [n("1.5e-3"), Kind::End]);
        assert_eq!(kinds(".5E+2"), [n(".5E+2"), Kind::End]);
        assert_eq!(kinds("2e"), [n("2"), Kind::Name("e".into()), Kind::End]);
        assert_eq!(
            kinds("2e-x"),
            [
                n("2"),
                Kind::Name("e".into()),
                Kind::Minus,
                Kind::Name("x".into()),
                Kind::End
            ]
        );
        assert_eq!(kinds("1.2.3"), [n("1.2"), n(".3"), Kind::End]);
    }

    #[test]
    fn columns_count_characters_from_one() {
        let t = tokens(" x\u{2212}é*sin");
        let columns: Vec<usize> = t.iter().map(|t| t.column).collect();
        assert_eq!(columns, [2, 3, 4, 5, 6, 9]);
        assert_eq!(t[1].kind, Kind::Minus);
        assert_eq!(t[2].kind, Kind::Other('é'));
    }
}
