//! CSV files with a header row; one column holds the label or target.

use super::{read_bytes, DataError, Dataset, Task};
use ndarray::Array2;
use std::path::Path;

/// Which CSV column holds the label: the last, one named, or a 0-based index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LabelColumn {
    #[default]
    Last,
    Name(String),
    Index(usize),
}

impl LabelColumn {
    /// A column name, or a 0-based index when `text` is a whole number that is
    /// not also a column name.
    pub fn parse(text: &str) -> LabelColumn {
        match text.trim().parse() {
            Ok(i) => LabelColumn::Index(i),
            Err(_) => LabelColumn::Name(text.trim().to_string()),
        }
    }

    fn find(&self, header: &[&str]) -> Option<usize> {
        match self {
            LabelColumn::Last => header.len().checked_sub(1),
            LabelColumn::Name(name) => header.iter().position(|h| h == name),
            LabelColumn::Index(i) => header
                .iter()
                .position(|h| *h == i.to_string())
                .or_else(|| (*i < header.len()).then_some(*i)),
        }
    }
}

/// Loads a CSV (or gzip-compressed CSV) file.
pub fn load_csv(path: &Path, label: &LabelColumn) -> Result<Dataset, DataError> {
    let bytes = read_bytes(path)?;
    parse_csv(&path.display().to_string(), &bytes, label)
}

/// Parses CSV text with a header; every other cell must be a finite number.
/// The task is inferred from the label column ([`Task::infer`]).
pub fn parse_csv(file: &str, bytes: &[u8], label: &LabelColumn) -> Result<Dataset, DataError> {
    let at = |line: u64, message: String| DataError::At {
        file: file.to_string(),
        line,
        message,
    };
    // The csv crate does not count blank lines, so lines come from byte offsets.
    let line_at = |p: Option<&csv::Position>| p.map_or(0, |p| line_of(bytes, p.byte()));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let mut records = reader.records();
    let header = match records.next() {
        None => {
            return Err(DataError::File {
                file: file.into(),
                message: "the file is empty (expected a header row)".into(),
            })
        }
        Some(r) => r.map_err(|e| at(1, e.to_string()))?,
    };
    let names: Vec<&str> = header.iter().collect();
    let target = label.find(&names).ok_or_else(|| {
        let wanted = match label {
            LabelColumn::Last => "a label column".to_string(),
            LabelColumn::Name(n) => format!("column '{n}'"),
            LabelColumn::Index(i) => format!("column index {i}"),
        };
        at(1, format!("no {wanted}; columns: {}", names.join(", ")))
    })?;
    if names.len() < 2 {
        return Err(at(
            1,
            "need at least one feature column and a label column".into(),
        ));
    }
    let width = names.len();
    let too_many = || DataError::File {
        file: file.into(),
        message: format!("more than {} values", super::MAX_CELLS),
    };
    let mut features = Vec::new();
    let mut targets = Vec::new();
    for record in records {
        let record = record.map_err(|e| at(line_at(e.position()), e.to_string()))?;
        let line = line_at(record.position());
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if record.len() != width {
            return Err(at(
                line,
                format!("{} fields, but the header has {width}", record.len()),
            ));
        }
        for (column, cell) in record.iter().enumerate() {
            let value: f64 = cell.parse().map_err(|_| {
                at(
                    line,
                    format!("column '{}': '{cell}' is not a number", names[column]),
                )
            })?;
            if let Some(why) = super::unusable(value) {
                return Err(at(
                    line,
                    format!("column '{}': {cell} {why}", names[column]),
                ));
            }
            if features.len() + targets.len() >= super::MAX_CELLS {
                return Err(too_many());
            }
            if column == target {
                targets.push(value);
            } else {
                features.push(value);
            }
        }
    }
    if targets.is_empty() {
        return Err(DataError::File {
            file: file.into(),
            message: "no data rows after the header".into(),
        });
    }
    let rows = targets.len();
    let features =
        Array2::from_shape_vec((rows, width - 1), features).expect("rows have equal width");
    let task = Task::infer(&targets);
    Dataset::new(file, features, targets, task)
}

/// The 1-based line of the record starting at byte offset `byte` (after any blank lines).
fn line_of(bytes: &[u8], byte: u64) -> u64 {
    let mut end = (byte as usize).min(bytes.len());
    while end < bytes.len() && matches!(bytes[end], b'\n' | b'\r') {
        end += 1;
    }
    bytes[..end].iter().filter(|&&b| b == b'\n').count() as u64 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, label: LabelColumn) -> Result<Dataset, DataError> {
        parse_csv("t.csv", text.as_bytes(), &label)
    }

    #[test]
    fn reads_header_and_label_by_name_or_index() {
        let d = parse("a,y,b\n1,0,2\n3,1,4\n", LabelColumn::Name("y".into())).unwrap();
        assert_eq!(d.features, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(d.targets, vec![0.0, 1.0]);
        assert_eq!(d.task, Task::Classification { classes: 2 });
        let d = parse("a,y,b\n1,0,2\n3,1.5,4\n", LabelColumn::Index(0)).unwrap();
        assert_eq!(d.targets, vec![1.0, 3.0]);
        assert_eq!(d.task, Task::Classification { classes: 4 });
        let d = parse("a,y\n1,0.5\n3,1.5\n", LabelColumn::Last).unwrap();
        assert_eq!(d.task, Task::Regression);
    }

    #[test]
    fn errors_name_file_and_line() {
        let cases = [
            (
                "a,b,y\n1,2,0\n1,2\n",
                "t.csv:3: 2 fields, but the header has 3",
            ),
            (
                "a,y\n1,0\nx,1\n",
                "t.csv:3: column 'a': 'x' is not a number",
            ),
            (
                "a,y\n1,0\n\n2,NaN\n",
                "t.csv:4: column 'y': NaN is not a finite number",
            ),
            (
                "a,y\n1,inf\n",
                "t.csv:2: column 'y': inf is not a finite number",
            ),
            ("", "t.csv: the file is empty (expected a header row)"),
            ("a,y\n", "t.csv: no data rows after the header"),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse(text, LabelColumn::Last).unwrap_err().to_string(),
                expected,
                "{text:?}"
            );
        }
        let e = parse("a,y\n1,0\n", LabelColumn::Name("label".into())).unwrap_err();
        assert_eq!(e.to_string(), "t.csv:1: no column 'label'; columns: a, y");
        let e = parse("a,y\n1,0\n", LabelColumn::Index(5)).unwrap_err();
        assert_eq!(e.to_string(), "t.csv:1: no column index 5; columns: a, y");
    }

    #[test]
    fn truncated_gzip_is_an_error() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"a,y\n1,0\n2,1\n").unwrap();
        let gz = enc.finish().unwrap();
        let e =
            super::super::gunzip_if_needed("t.csv.gz", gz[..gz.len() - 6].to_vec()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.csv.gz: truncated or corrupt gzip data"),
            "{e}"
        );
        assert_eq!(
            super::super::gunzip_if_needed("t.csv.gz", gz).unwrap(),
            b"a,y\n1,0\n2,1\n"
        );
    }
}
