//! Files downhill writes (optimizer state, checkpoints, metrics, figures):
//! written atomically ([`AtomicFile`]), and sealed with a checksum where a
//! crash or a damaged disk must never be read back as a silently different
//! state.
//!
//! A sealed file is one JSON object,
//! `{"format":F,"version":V,"crc32":"xxxxxxxx","content":{…}}`, where `crc32`
//! is the CRC-32 (IEEE 802.3, as in gzip and PNG) of the exact bytes of
//! `content` as they appear in the file.

mod atomic;

pub use atomic::{follow_links, temp_path, write_atomic, AtomicFile};

use serde::Deserialize;
use serde_json::value::RawValue;
use thiserror::Error;

/// Why a sealed file could not be read. Messages do not name the file; callers add it.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the file is corrupt: not a complete {0} document (truncated or damaged)")]
    Damaged(&'static str),
    #[error("not a {expected} file (format '{found}')")]
    Format {
        expected: &'static str,
        found: String,
    },
    #[error(
        "{format} version {found} is not supported (this build reads version {expected}{hint})",
        hint = if *.found == 1 { "; version 1 files predate checksums: write them again with this build" } else { "" }
    )]
    Version {
        format: &'static str,
        found: u64,
        expected: u32,
    },
    #[error(
        "the file is corrupt: checksum mismatch (crc32 stored {stored}, content has {computed})"
    )]
    Checksum { stored: String, computed: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    format: String,
    version: u64,
    crc32: String,
    #[serde(borrow)]
    content: &'a RawValue,
}

/// The CRC-32 of `bytes` as 8 lowercase hexadecimal digits.
pub fn crc32_hex(bytes: &[u8]) -> String {
    format!("{:08x}", crc32fast::hash(bytes))
}

/// Wraps the JSON document `content` in a sealed envelope.
pub fn seal(format: &str, version: u32, content: &str) -> String {
    let crc = crc32_hex(content.as_bytes());
    format!("{{\"format\":\"{format}\",\"version\":{version},\"crc32\":\"{crc}\",\"content\":{content}}}")
}

/// The content of a sealed document after checking its format, version and checksum.
pub fn unseal<'a>(text: &'a str, format: &'static str, version: u32) -> Result<&'a str, SealError> {
    let envelope: Envelope = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(_) => return Err(diagnose(text, format, version)),
    };
    if envelope.format != format {
        return Err(SealError::Format {
            expected: format,
            found: envelope.format,
        });
    }
    if envelope.version != u64::from(version) {
        return Err(SealError::Version {
            format,
            found: envelope.version,
            expected: version,
        });
    }
    let content = envelope.content.get();
    let computed = crc32_hex(content.as_bytes());
    if envelope.crc32 != computed {
        return Err(SealError::Checksum {
            stored: envelope.crc32,
            computed,
        });
    }
    Ok(content)
}

/// The clearest error for text that is not a well-formed envelope: another
/// format or version (such as an unsealed version 1 file), else damage.
fn diagnose(text: &str, format: &'static str, version: u32) -> SealError {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return SealError::Damaged(format);
    };
    match value.get("format").and_then(|f| f.as_str()) {
        Some(found) if found != format => SealError::Format {
            expected: format,
            found: found.to_string(),
        },
        Some(_) => match value.get("version").and_then(|v| v.as_u64()) {
            Some(found) if found != u64::from(version) => SealError::Version {
                format,
                found,
                expected: version,
            },
            _ => SealError::Damaged(format),
        },
        None => SealError::Damaged(format),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "downhill-test";

    #[test]
    fn seals_and_checks() {
        let text = seal(F, 2, r#"{"a":[1,2.5]}"#);
        assert_eq!(unseal(&text, F, 2), Ok(r#"{"a":[1,2.5]}"#));
        // CRC-32 check value of "123456789" (IEEE): cbf43926.
        assert_eq!(crc32_hex(b"123456789"), "cbf43926");
        let flipped = text.replace("2.5", "2.6");
        assert!(matches!(
            unseal(&flipped, F, 2),
            Err(SealError::Checksum { .. })
        ));
        assert_eq!(
            unseal(&text, F, 3).unwrap_err().to_string(),
            "downhill-test version 2 is not supported (this build reads version 3)"
        );
        assert_eq!(
            unseal(&text, "other", 2).unwrap_err().to_string(),
            "not a other file (format 'downhill-test')"
        );
        for cut in 0..text.len() {
            assert_eq!(
                unseal(&text[..cut], F, 2),
                Err(SealError::Damaged(F)),
                "{cut}"
            );
        }
        // An unsealed version 1 document.
        let old = r#"{"format":"downhill-test","version":1,"groups":[]}"#;
        assert_eq!(
            unseal(old, F, 2).unwrap_err().to_string(),
            "downhill-test version 1 is not supported (this build reads version 2; \
             version 1 files predate checksums: write them again with this build)"
        );
    }
}
