//! Variable-name patterns: `*` matches any run of characters (dots
//! included), every other character itself: `*.bias`, `*norm*`, `layer1.*`.

/// Whether `name` matches `pattern`.
pub fn matches(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn stars_match_any_run() {
        assert!(matches("*.bias", "fc1.bias"));
        assert!(!matches("*.bias", "fc1.weight"));
        assert!(matches("*norm*", "layer.norm.weight"));
        assert!(matches("fc1.*", "fc1.weight"));
        assert!(!matches("fc1.*", "fc2.weight"));
        assert!(matches("fc1.weight", "fc1.weight"));
        assert!(!matches("fc1", "fc1.weight"));
        assert!(matches("a*b*c", "abc"));
        assert!(!matches("a*b*b", "ab"));
    }
}
