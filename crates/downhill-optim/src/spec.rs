//! The spec grammar shared by optimizers and schedules: `NAME[:key=value[,key=value]…]`.
//!
//! Values are plain text, typed later by the struct that receives them; lists
//! are bracketed (`milestones=[10,25]`) and may hold commas and nested specs.

use crate::hyper::{Hyper, KeyError};
use thiserror::Error;

/// A parsed spec: a name and its `key=value` arguments in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: String,
    pub args: Vec<(String, String)>,
}

/// Why a spec could not be turned into an optimizer or schedule.
#[derive(Clone, Debug, PartialEq, Error)]
pub enum ConfigError {
    #[error("invalid spec '{spec}': {message}")]
    Syntax { spec: String, message: String },
    #[error("unknown {kind} '{name}'{hint}; valid: {valid}")]
    UnknownName {
        kind: &'static str,
        name: String,
        valid: String,
        /// ` (did you mean 'x'?)` when a valid name is close, else empty.
        hint: String,
    },
    #[error("{owner}: {error}")]
    Key { owner: String, error: KeyError },
    #[error("parameter group {group}: {message}")]
    Shape { group: usize, message: String },
}

impl ConfigError {
    /// The error for a name that is none of `valid`, suggesting the nearest one.
    pub fn unknown_name(kind: &'static str, name: &str, valid: &[&str]) -> Self {
        ConfigError::UnknownName {
            kind,
            name: name.to_string(),
            valid: valid.join(", "),
            hint: nearest(name, valid).map_or(String::new(), |v| format!(" (did you mean '{v}'?)")),
        }
    }

    /// Wraps a key error with the name of the optimizer or schedule it belongs to.
    pub fn key(owner: &str, error: KeyError) -> Self {
        ConfigError::Key {
            owner: owner.to_string(),
            error,
        }
    }
}

/// The valid name nearest to `word` (by Jaro–Winkler similarity, at least
/// 0.8, as clap suggests subcommands), if any.
pub fn nearest<'a>(word: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (strsim::jaro_winkler(word, v), *v))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, v)| v)
}

/// `; did you mean 'x'?` for the name nearest to `word`, or an empty string.
pub fn did_you_mean(word: &str, valid: &[&str]) -> String {
    nearest(word, valid).map_or(String::new(), |v| format!("; did you mean '{v}'?"))
}

/// Splits `text` at commas that are not inside brackets or parentheses.
pub fn split_top_level(text: &str, separator: char) -> Result<Vec<&str>, String> {
    let mut parts = Vec::new();
    let mut depth: i32 = 0;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '[' | '(' => depth += 1,
            ']' | ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unmatched '{c}' at column {}", i + 1));
                }
            }
            c if c == separator && depth == 0 => {
                parts.push(&text[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unclosed '['".to_string());
    }
    parts.push(&text[start..]);
    Ok(parts)
}

impl Spec {
    /// Parses `NAME[:key=value,…]`.
    pub fn parse(text: &str) -> Result<Spec, ConfigError> {
        let syntax = |message: String| ConfigError::Syntax {
            spec: text.to_string(),
            message,
        };
        let trimmed = text.trim();
        let (name, rest) = match trimmed.split_once(':') {
            Some((name, rest)) => (name.trim(), Some(rest)),
            None => (trimmed, None),
        };
        if name.is_empty() {
            return Err(syntax(
                "the name is missing (expected NAME[:key=value,…])".into(),
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(syntax(format!(
                "name '{name}' may hold only letters, digits, '-' and '_'"
            )));
        }
        let mut args: Vec<(String, String)> = Vec::new();
        if let Some(rest) = rest {
            if rest.trim().is_empty() {
                return Err(syntax("nothing after ':' (expected key=value)".into()));
            }
            for part in split_top_level(rest, ',').map_err(syntax)? {
                let Some((key, value)) = part.split_once('=') else {
                    return Err(syntax(format!("'{}' is not key=value", part.trim())));
                };
                let (key, value) = (key.trim(), value.trim());
                if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    return Err(syntax(format!("'{key}' is not a key name")));
                }
                if value.is_empty() {
                    return Err(syntax(format!("key '{key}' has no value")));
                }
                if args.iter().any(|(k, _)| k == key) {
                    return Err(ConfigError::key(
                        name,
                        KeyError::Duplicate { key: key.into() },
                    ));
                }
                args.push((key.to_string(), value.to_string()));
            }
        }
        Ok(Spec {
            name: name.to_string(),
            args,
        })
    }

    /// Applies the arguments to a hyperparameter struct, then checks its ranges.
    /// `allowed` restricts the keys (for presets such as `gd`); `None` allows all.
    pub fn apply(
        &self,
        target: &mut dyn Hyper,
        allowed: Option<&[&str]>,
    ) -> Result<(), ConfigError> {
        let owner = self.name.as_str();
        for (key, raw) in &self.args {
            if let Some(allowed) = allowed {
                if !allowed.contains(&key.as_str()) {
                    return Err(ConfigError::key(owner, KeyError::unknown(key, allowed)));
                }
            }
            target
                .set_text(key, raw)
                .map_err(|e| ConfigError::key(owner, e))?;
        }
        target
            .check_ranges()
            .map_err(|e| ConfigError::key(owner, e))
    }
}
