//! Real datasets compiled into the binary (sources and licences: `data/README.md`).

use super::{gunzip_if_needed, parse_csv, DataError, Dataset, LabelColumn, Task};

/// A dataset shipped inside the binary.
pub struct Bundled {
    pub name: &'static str,
    pub summary: &'static str,
    bytes: &'static [u8],
    task: Task,
}

/// The bundled datasets.
pub const BUNDLED: &[Bundled] = &[
    Bundled {
        name: "iris",
        summary: "Fisher's iris: 150 flowers, 4 measurements, 3 species (classification)",
        bytes: include_bytes!("../../../../data/iris.csv"),
        task: Task::Classification { classes: 3 },
    },
    Bundled {
        name: "digits",
        summary: "UCI optical handwritten digits: 1 797 images of 8×8 pixels in 0..16, 10 classes",
        bytes: include_bytes!("../../../../data/digits.csv.gz"),
        task: Task::Classification { classes: 10 },
    },
    Bundled {
        name: "diabetes",
        summary: "Efron et al. diabetes: 442 patients, 10 baseline variables, disease progression (regression)",
        bytes: include_bytes!("../../../../data/diabetes.csv"),
        task: Task::Regression,
    },
];

/// The bundled dataset called `name`, if there is one.
pub fn bundled(name: &str) -> Option<Result<Dataset, DataError>> {
    let entry = BUNDLED.iter().find(|b| b.name == name)?;
    Some(
        gunzip_if_needed(name, entry.bytes.to_vec()).and_then(|bytes| {
            let parsed = parse_csv(name, &bytes, &LabelColumn::Last)?;
            Dataset::new(name, parsed.features, parsed.targets, entry.task)
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_datasets_have_their_published_shapes() {
        let shapes = [
            ("iris", 150, 4),
            ("digits", 1797, 64),
            ("diabetes", 442, 10),
        ];
        for (name, rows, cols) in shapes {
            let d = bundled(name).unwrap().unwrap();
            assert_eq!((d.len(), d.dim()), (rows, cols), "{name}");
        }
        let digits = bundled("digits").unwrap().unwrap();
        assert_eq!(digits.features.iter().copied().fold(0.0, f64::max), 16.0);
        assert!(bundled("mnist").is_none());
    }
}
