//! Hyperparameters: typed values, valid ranges, and the errors that name them.
//!
//! Every optimizer (and schedule) keeps its hyperparameters in a plain struct
//! declared with [`hyperparams!`](crate::hyperparams): one line per key with its
//! type, PyTorch's default, the valid range and a doc string. The macro derives
//! key listing, lookup by name, parsing from spec text and range checks, so a
//! key's name, default and range are written in exactly one place.

use std::fmt;
use thiserror::Error;

/// A hyperparameter value, as read from a spec or set by a schedule.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Value {
    Bool(bool),
    Int(u64),
    Float(f64),
    Text(String),
    List(Vec<u64>),
    /// A list of numbers (Muon's Newton–Schulz coefficients).
    Numbers(Vec<f64>),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x:?}"),
            Value::Text(s) => write!(f, "{s}"),
            Value::List(v) => {
                let items: Vec<String> = v.iter().map(u64::to_string).collect();
                write!(f, "[{}]", items.join(","))
            }
            Value::Numbers(v) => {
                let items: Vec<String> = v.iter().map(|x| format!("{x:?}")).collect();
                write!(f, "[{}]", items.join(","))
            }
        }
    }
}

/// A Rust type that can hold a hyperparameter.
pub trait HyperValue: Sized + Clone {
    /// What a valid value looks like, for error messages ("a number").
    const EXPECTED: &'static str;
    /// Parses spec text; `None` when the text is not of this type.
    fn parse(raw: &str) -> Option<Self>;
    fn to_value(&self) -> Value;
    fn from_value(value: &Value) -> Option<Self>;
}

impl HyperValue for f64 {
    const EXPECTED: &'static str = "a number";
    fn parse(raw: &str) -> Option<Self> {
        raw.trim().parse().ok()
    }
    fn to_value(&self) -> Value {
        Value::Float(*self)
    }
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Float(x) => Some(*x),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}

/// A number that may be absent: `none` in a spec (Python's `None`, such as
/// Prodigy's `beta3`, whose absence means a value derived from other keys).
impl HyperValue for Option<f64> {
    const EXPECTED: &'static str = "a number or none";
    fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            NONE => Some(None),
            number => f64::parse(number).map(Some),
        }
    }
    fn to_value(&self) -> Value {
        match self {
            Some(x) => Value::Float(*x),
            None => Value::Text(NONE.into()),
        }
    }
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Text(word) if word == NONE => Some(None),
            number => f64::from_value(number).map(Some),
        }
    }
}

/// How an absent number is spelled ([`HyperValue`] of `Option<f64>`).
pub const NONE: &str = "none";

impl HyperValue for bool {
    const EXPECTED: &'static str = "true or false";
    fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
    fn to_value(&self) -> Value {
        Value::Bool(*self)
    }
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }
}

impl HyperValue for u64 {
    const EXPECTED: &'static str = "a whole number";
    fn parse(raw: &str) -> Option<Self> {
        raw.trim().parse().ok()
    }
    fn to_value(&self) -> Value {
        Value::Int(*self)
    }
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Int(i) => Some(*i),
            Value::Float(x) if x.fract() == 0.0 && *x >= 0.0 && *x < 2f64.powi(63) => {
                Some(*x as u64)
            }
            _ => None,
        }
    }
}

impl HyperValue for String {
    const EXPECTED: &'static str = "a word";
    fn parse(raw: &str) -> Option<Self> {
        let word = raw.trim();
        (!word.is_empty()).then(|| word.to_string())
    }
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// A bracketed, comma-separated list (`[10,25]`, `[]`) of values of one type.
fn bracketed<T: std::str::FromStr>(raw: &str) -> Option<Vec<T>> {
    let inner = raw.trim().strip_prefix('[')?.strip_suffix(']')?;
    if inner.trim().is_empty() {
        return Some(Vec::new());
    }
    inner
        .split(',')
        .map(|item| item.trim().parse().ok())
        .collect()
}

impl HyperValue for Vec<u64> {
    const EXPECTED: &'static str = "a bracketed list of whole numbers like [10,25]";
    fn parse(raw: &str) -> Option<Self> {
        bracketed(raw)
    }
    fn to_value(&self) -> Value {
        Value::List(self.clone())
    }
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::List(v) => Some(v.clone()),
            _ => None,
        }
    }
}

impl HyperValue for Vec<f64> {
    const EXPECTED: &'static str = "a bracketed list of numbers like [3.4445,-4.775,2.0315]";
    fn parse(raw: &str) -> Option<Self> {
        bracketed(raw)
    }
    fn to_value(&self) -> Value {
        Value::Numbers(self.clone())
    }
    fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Numbers(v) => Some(v.clone()),
            Value::List(v) => Some(v.iter().map(|&i| i as f64).collect()),
            _ => None,
        }
    }
}

/// The set of valid values of a key.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Check {
    /// Any value of the key's type (booleans).
    Any,
    /// A finite number in an interval; `true` marks an open end.
    Range {
        lo: f64,
        lo_open: bool,
        hi: f64,
        hi_open: bool,
    },
    /// One of the listed words.
    OneOf(&'static [&'static str]),
}

impl Check {
    /// `[0, inf)`.
    pub const NON_NEGATIVE: Check = Check::Range {
        lo: 0.0,
        lo_open: false,
        hi: f64::INFINITY,
        hi_open: true,
    };
    /// `(0, inf)`.
    pub const POSITIVE: Check = Check::Range {
        lo: 0.0,
        lo_open: true,
        hi: f64::INFINITY,
        hi_open: true,
    };
    /// `[0, 1)`, the range of PyTorch's betas.
    pub const UNIT_HALF_OPEN: Check = Check::Range {
        lo: 0.0,
        lo_open: false,
        hi: 1.0,
        hi_open: true,
    };
    /// `[0, 1]`.
    pub const UNIT: Check = Check::Range {
        lo: 0.0,
        lo_open: false,
        hi: 1.0,
        hi_open: false,
    };
    /// Any finite number.
    pub const FINITE: Check = Check::Range {
        lo: f64::NEG_INFINITY,
        lo_open: true,
        hi: f64::INFINITY,
        hi_open: true,
    };

    /// Whether `value` is allowed. Numbers must also be finite.
    pub fn admits(&self, value: &Value) -> bool {
        match (self, value) {
            (Check::Any, _) => true,
            (
                Check::Range {
                    lo,
                    lo_open,
                    hi,
                    hi_open,
                },
                v,
            ) => {
                let x = match v {
                    Value::Float(x) => *x,
                    Value::Int(i) => *i as f64,
                    Value::List(items) => {
                        return items.iter().all(|i| self.admits(&Value::Int(*i)));
                    }
                    Value::Numbers(items) => {
                        return items.iter().all(|x| self.admits(&Value::Float(*x)));
                    }
                    // An absent optional number (only `Option<f64>` keys hold one).
                    Value::Text(word) if word == NONE => return true,
                    _ => return false,
                };
                x.is_finite()
                    && if *lo_open { x > *lo } else { x >= *lo }
                    && if *hi_open { x < *hi } else { x <= *hi }
            }
            (Check::OneOf(words), Value::Text(s)) => words.contains(&s.as_str()),
            (Check::OneOf(_), _) => false,
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::Any => write!(f, "true or false"),
            Check::Range {
                lo,
                lo_open,
                hi,
                hi_open,
            } => {
                let bound = |x: f64| {
                    if x.is_infinite() {
                        if x > 0.0 {
                            "inf".to_string()
                        } else {
                            "-inf".to_string()
                        }
                    } else {
                        format!("{x}")
                    }
                };
                write!(
                    f,
                    "{}{}, {}{}",
                    if *lo_open { '(' } else { '[' },
                    bound(*lo),
                    bound(*hi),
                    if *hi_open { ')' } else { ']' }
                )
            }
            Check::OneOf(words) => write!(f, "one of {}", words.join(", ")),
        }
    }
}

/// One key of a hyperparameter set, for listings and help text.
#[derive(Clone, Debug)]
pub struct KeyInfo {
    pub name: &'static str,
    /// The current value (the default, on a fresh struct).
    pub value: Value,
    pub check: Check,
    pub doc: &'static str,
}

/// What is wrong with one key or with the combination of keys.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum KeyError {
    #[error("unknown key '{key}'; valid keys: {valid}{hint}")]
    Unknown {
        key: String,
        valid: String,
        hint: String,
    },
    #[error("{key} must be {expected}, got '{raw}'")]
    NotOfType {
        key: String,
        raw: String,
        expected: &'static str,
    },
    #[error("{key} must be in {range}, got {value}")]
    OutOfRange {
        key: String,
        value: String,
        range: String,
    },
    #[error("{key} must be {range}, got '{value}'")]
    NotAChoice {
        key: String,
        value: String,
        range: String,
    },
    #[error("{0}")]
    Constraint(String),
    #[error("key '{key}' is given twice")]
    Duplicate { key: String },
    #[error("key '{key}' cannot be changed after construction ({why})")]
    Frozen { key: String, why: &'static str },
}

impl KeyError {
    /// The error for a value outside its key's range.
    pub fn out_of_range(key: &str, value: &Value, check: &Check) -> Self {
        match check {
            Check::OneOf(_) => KeyError::NotAChoice {
                key: key.into(),
                value: value.to_string(),
                range: check.to_string(),
            },
            _ => KeyError::OutOfRange {
                key: key.into(),
                value: value.to_string(),
                range: check.to_string(),
            },
        }
    }

    /// The error for a key the struct does not have, listing the valid ones.
    pub fn unknown(key: &str, valid: &[&str]) -> Self {
        let hint = match key {
            "betas" if valid.contains(&"beta3") => "; tuples are split: use beta1, beta2 and beta3",
            "betas" => "; tuples are split: use beta1 and beta2",
            "etas" => "; tuples are split: use eta_minus and eta_plus",
            "step_sizes" => "; tuples are split: use step_min and step_max",
            _ => "",
        };
        let hint = match hint {
            "" => crate::spec::did_you_mean(key, valid),
            tuple => tuple.to_string(),
        };
        KeyError::Unknown {
            key: key.into(),
            valid: valid.join(", "),
            hint,
        }
    }
}

/// Key-by-name access to a hyperparameter struct (derived by [`hyperparams!`](crate::hyperparams)).
pub trait Hyper {
    /// Every key with its current value, range and doc.
    fn keys(&self) -> Vec<KeyInfo>;
    /// The value of `key`, or `None` for an unknown key.
    fn get(&self, key: &str) -> Option<Value>;
    /// Sets `key` from a typed value (type-checked, not range-checked).
    fn set(&mut self, key: &str, value: &Value) -> Result<(), KeyError>;
    /// Sets `key` from spec text (type-checked, not range-checked).
    fn set_text(&mut self, key: &str, raw: &str) -> Result<(), KeyError>;
    /// Checks every key against its range.
    fn check_ranges(&self) -> Result<(), KeyError>;
}

/// Declares a hyperparameter struct: `/// doc` then `name: type = default, check;` per key.
#[macro_export]
macro_rules! hyperparams {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])+
                $field:ident : $ty:ty = $default:expr, $check:expr;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        $vis struct $name {
            $( $(#[doc = $doc])+ pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $crate::hyper::Hyper for $name {
            fn keys(&self) -> Vec<$crate::hyper::KeyInfo> {
                vec![$(
                    $crate::hyper::KeyInfo {
                        name: stringify!($field),
                        value: $crate::hyper::HyperValue::to_value(&self.$field),
                        check: $check,
                        doc: concat!($($doc),+).trim(),
                    },
                )*]
            }

            fn get(&self, key: &str) -> Option<$crate::hyper::Value> {
                match key {
                    $( stringify!($field) => Some($crate::hyper::HyperValue::to_value(&self.$field)), )*
                    _ => None,
                }
            }

            fn set(&mut self, key: &str, value: &$crate::hyper::Value) -> Result<(), $crate::hyper::KeyError> {
                match key {
                    $( stringify!($field) => {
                        self.$field = <$ty as $crate::hyper::HyperValue>::from_value(value).ok_or_else(|| {
                            $crate::hyper::KeyError::NotOfType {
                                key: key.into(),
                                raw: value.to_string(),
                                expected: <$ty as $crate::hyper::HyperValue>::EXPECTED,
                            }
                        })?;
                        Ok(())
                    } )*
                    _ => Err($crate::hyper::KeyError::unknown(key, &[$(stringify!($field)),*])),
                }
            }

            fn set_text(&mut self, key: &str, raw: &str) -> Result<(), $crate::hyper::KeyError> {
                match key {
                    $( stringify!($field) => {
                        self.$field = <$ty as $crate::hyper::HyperValue>::parse(raw).ok_or_else(|| {
                            $crate::hyper::KeyError::NotOfType {
                                key: key.into(),
                                raw: raw.into(),
                                expected: <$ty as $crate::hyper::HyperValue>::EXPECTED,
                            }
                        })?;
                        Ok(())
                    } )*
                    _ => Err($crate::hyper::KeyError::unknown(key, &[$(stringify!($field)),*])),
                }
            }

            fn check_ranges(&self) -> Result<(), $crate::hyper::KeyError> {
                $(
                    let value = $crate::hyper::HyperValue::to_value(&self.$field);
                    let check: $crate::hyper::Check = $check;
                    if !check.admits(&value) {
                        return Err($crate::hyper::KeyError::out_of_range(stringify!($field), &value, &check));
                    }
                )*
                Ok(())
            }
        }
    };
}
