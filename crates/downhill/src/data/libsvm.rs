//! LIBSVM / SVMlight text: `label index:value index:value …`, 1-based sparse
//! indices, `#` comments. Labels `-1`/`+1` of a binary set become classes 0/1.

use super::{read_bytes, DataError, Dataset, Task};
use ndarray::Array2;
use std::path::Path;

/// Loads a LIBSVM file (raw or gzip).
pub fn load_libsvm(path: &Path) -> Result<Dataset, DataError> {
    let bytes = read_bytes(path)?;
    let file = path.display().to_string();
    let text = std::str::from_utf8(&bytes).map_err(|e| DataError::File {
        file: file.clone(),
        message: format!("not UTF-8 text ({e})"),
    })?;
    parse_libsvm(&file, text)
}

/// Parses LIBSVM text; missing features are 0.
pub fn parse_libsvm(file: &str, text: &str) -> Result<Dataset, DataError> {
    let at = |line: usize, message: String| DataError::At {
        file: file.to_string(),
        line: line as u64,
        message,
    };
    let mut rows: Vec<(f64, Vec<(usize, f64)>)> = Vec::new();
    let mut width = 0;
    for (number, raw) in text.lines().enumerate().map(|(i, l)| (i + 1, l)) {
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        let mut fields = content.split_whitespace();
        let label_text = fields.next().unwrap_or("");
        let label: f64 = label_text
            .parse()
            .map_err(|_| at(number, format!("label '{label_text}' is not a number")))?;
        if let Some(why) = super::unusable(label) {
            return Err(at(number, format!("label {label_text} {why}")));
        }
        let mut entries = Vec::new();
        let mut last = 0;
        for field in fields {
            let (index, value) = field
                .split_once(':')
                .ok_or_else(|| at(number, format!("'{field}' is not index:value")))?;
            let index: usize = index.parse().ok().filter(|&i| i > last).ok_or_else(|| {
                at(
                    number,
                    format!("'{field}': indices must be whole numbers ≥ 1, increasing"),
                )
            })?;
            let value: f64 = value
                .parse()
                .map_err(|_| at(number, format!("'{field}': '{value}' is not a number")))?;
            if let Some(why) = super::unusable(value) {
                return Err(at(number, format!("'{field}' {why}")));
            }
            // The dense matrix is rows × widest index: bound it before it is allocated.
            let widest = index.max(width);
            if widest > super::MAX_CELLS / (rows.len() + 1) {
                return Err(at(
                    number,
                    format!(
                        "'{field}': {} rows × {widest} features is more than the {} values supported",
                        rows.len() + 1,
                        super::MAX_CELLS
                    ),
                ));
            }
            last = index;
            entries.push((index - 1, value));
        }
        width = width.max(last);
        rows.push((label, entries));
    }
    if rows.is_empty() {
        return Err(DataError::File {
            file: file.into(),
            message: "the file is empty (no samples)".into(),
        });
    }
    let mut features = Array2::zeros((rows.len(), width));
    let mut targets = Vec::with_capacity(rows.len());
    let signed = rows.iter().all(|(l, _)| *l == -1.0 || *l == 1.0);
    for (r, (label, entries)) in rows.into_iter().enumerate() {
        for (c, v) in entries {
            features[[r, c]] = v;
        }
        targets.push(if signed { (label + 1.0) / 2.0 } else { label });
    }
    let task = if signed {
        Task::Classification { classes: 2 }
    } else {
        Task::infer(&targets)
    };
    Dataset::new(file, features, targets, task)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sparse_rows() {
        let d = parse_libsvm("t.svm", "+1 1:0.5 3:2 # note\n\n-1 2:1\n").unwrap();
        assert_eq!(
            d.features,
            ndarray::array![[0.5, 0.0, 2.0], [0.0, 1.0, 0.0]]
        );
        assert_eq!(d.targets, vec![1.0, 0.0]);
        assert_eq!(d.task, Task::Classification { classes: 2 });
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases = [
            ("1 1:2\nx 1:2\n", "t.svm:2: label 'x' is not a number"),
            (
                "1 1:2\n0 3:1 2:1\n",
                "t.svm:2: '2:1': indices must be whole numbers ≥ 1, increasing",
            ),
            ("1 1:a\n", "t.svm:1: '1:a': 'a' is not a number"),
            ("1 1:NaN\n", "t.svm:1: '1:NaN' is not a finite number"),
            ("1 12\n", "t.svm:1: '12' is not index:value"),
            (
                "# only a comment\n",
                "t.svm: the file is empty (no samples)",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_libsvm("t.svm", text).unwrap_err().to_string(),
                expected
            );
        }
    }
}
