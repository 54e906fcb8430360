//! Whole-number option values whose errors say what is valid: `--steps -1`
//! is "a whole number ≥ 0", not "invalid digit found in string".

use std::num::IntErrorKind;

/// Parses a whole number of at least `MIN`.
pub fn whole<const MIN: u64>(text: &str) -> Result<usize, String> {
    let expected = format!("expected a whole number ≥ {MIN}");
    match text.trim().parse::<usize>() {
        Ok(n) if n as u64 >= MIN => Ok(n),
        Ok(_) => Err(expected),
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => Err(format!(
            "{expected}; this one is too large (at most {})",
            usize::MAX
        )),
        Err(_) if text.trim().starts_with('-') && text.trim()[1..].parse::<u64>().is_ok() => {
            Err(format!("{expected}, not a negative number"))
        }
        Err(_) => Err(expected),
    }
}

/// [`whole`] as a `u64`.
pub fn whole_u64<const MIN: u64>(text: &str) -> Result<u64, String> {
    whole::<MIN>(text).map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_and_their_errors() {
        assert_eq!(whole::<0>("0"), Ok(0));
        assert_eq!(whole::<1>(" 12 "), Ok(12));
        assert_eq!(whole::<1>("0").unwrap_err(), "expected a whole number ≥ 1");
        assert!(whole::<0>("-1")
            .unwrap_err()
            .ends_with("not a negative number"));
        assert!(whole::<0>("99999999999999999999")
            .unwrap_err()
            .contains("too large"));
        assert_eq!(
            whole::<0>("1.5").unwrap_err(),
            "expected a whole number ≥ 0"
        );
        assert_eq!(whole::<0>("").unwrap_err(), "expected a whole number ≥ 0");
        assert_eq!(whole_u64::<1>("7"), Ok(7));
    }
}
