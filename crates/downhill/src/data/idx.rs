//! MNIST's IDX format (raw or gzip): big-endian header, unsigned-byte data.
//!
//! Header: two zero bytes, a type byte (`0x08` = unsigned byte), the number of
//! dimensions, then each dimension as a big-endian `u32`
//! (<http://yann.lecun.com/exdb/mnist/>).

use super::{read_bytes, DataError, Dataset, Task};
use ndarray::Array2;
use std::path::Path;

/// The labels file next to an images file: `…images-idx3…` → `…labels-idx1…`.
pub fn labels_path_for(images: &str) -> Option<String> {
    images
        .contains("images-idx3")
        .then(|| images.replace("images-idx3", "labels-idx1"))
}

/// Loads images (`n × rows × cols`, flattened to `rows·cols` features) and labels.
pub fn load_idx(images: &Path, labels: &Path) -> Result<Dataset, DataError> {
    let (image_file, label_file) = (images.display().to_string(), labels.display().to_string());
    let (dims, pixels) = parse_idx(&image_file, &read_bytes(images)?)?;
    let (label_dims, classes) = parse_idx(&label_file, &read_bytes(labels)?)?;
    if dims.len() < 2 {
        return Err(DataError::File {
            file: image_file,
            message: format!(
                "expected images of 2 or more dimensions, got {}",
                dims.len()
            ),
        });
    }
    if label_dims.len() != 1 || label_dims[0] != dims[0] {
        return Err(DataError::File {
            file: label_file,
            message: format!(
                "expected {} labels in one dimension, got dimensions {label_dims:?}",
                dims[0]
            ),
        });
    }
    let width: usize = dims[1..].iter().product();
    if pixels.len() > super::MAX_CELLS {
        return Err(DataError::File {
            file: image_file,
            message: format!(
                "{} values is more than the {} supported",
                pixels.len(),
                super::MAX_CELLS
            ),
        });
    }
    let features = Array2::from_shape_vec(
        (dims[0], width),
        pixels.iter().map(|&p| f64::from(p)).collect(),
    )
    .expect("sizes checked by parse_idx");
    let targets: Vec<f64> = classes.iter().map(|&c| f64::from(c)).collect();
    let task = Task::Classification {
        classes: classes.iter().max().map_or(1, |&m| usize::from(m) + 1),
    };
    Dataset::new(&image_file, features, targets, task)
}

/// Parses an unsigned-byte IDX file into its dimensions and data.
pub fn parse_idx(file: &str, bytes: &[u8]) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let fail = |message: String| DataError::File {
        file: file.to_string(),
        message,
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(fail(
            "not an IDX file (bad magic number: bytes 0–1 must be 00 00)".into(),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(fail(format!(
            "IDX data type 0x{:02x} at byte 2 is not supported (only 0x08, unsigned byte)",
            bytes[2]
        )));
    }
    let ndim = usize::from(bytes[3]);
    let body = 4 + 4 * ndim;
    if bytes.len() < body {
        return Err(fail(format!(
            "truncated header: the file ends at byte {}, the header of {ndim} dimensions needs {body}",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = bytes[4..body]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let count = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| fail("dimensions overflow".into()))?;
    let data = &bytes[body..];
    if data.len() < count {
        // One item is the product of the dimensions after the first (none for 0 or 1 dimensions).
        let item: usize = dims
            .get(1..)
            .unwrap_or(&[])
            .iter()
            .product::<usize>()
            .max(1);
        return Err(fail(format!(
            "truncated data: dimensions {dims:?} need {count} bytes from byte {body}, \
             the file ends at byte {} (in item {} of {})",
            bytes.len(),
            data.len() / item + 1,
            dims.first().copied().unwrap_or(1)
        )));
    }
    if data.len() > count {
        return Err(fail(format!(
            "{} unexpected bytes after the data of dimensions {dims:?}, from byte {}",
            data.len() - count,
            body + count
        )));
    }
    Ok((dims, data.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 8, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn reads_images_and_labels_raw_and_gzip() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("downhill-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let images = dir.join("t-images-idx3-ubyte.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&idx(&[2, 2, 2], &[0, 1, 2, 3, 255, 5, 6, 7]))
            .unwrap();
        std::fs::write(&images, enc.finish().unwrap()).unwrap();
        let labels = labels_path_for(&images.display().to_string()).unwrap();
        std::fs::write(&labels, idx(&[2], &[3, 9])).unwrap();
        let d = load_idx(&images, Path::new(&labels)).unwrap();
        assert_eq!(d.features.shape(), &[2, 4]);
        assert_eq!(d.features[[1, 0]], 255.0);
        assert_eq!(d.targets, vec![3.0, 9.0]);
        assert_eq!(d.task, Task::Classification { classes: 10 });
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn bad_files_are_errors() {
        let e = parse_idx("x", &idx(&[2, 3], &[1, 2, 3, 4])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x: truncated data: dimensions [2, 3] need 6 bytes from byte 12, the file ends at byte 16 (in item 2 of 2)"
        );
        let e = parse_idx("x", &idx(&[2, 3], &[1; 7])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x: 1 unexpected bytes after the data of dimensions [2, 3], from byte 18"
        );
        // Found by fuzzing (fuzz/artifacts/idx): zero dimensions and no data panicked.
        let e = parse_idx("x", &[0, 0, 8, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x: truncated data: dimensions [] need 1 bytes from byte 4, the file ends at byte 4 (in item 1 of 1)"
        );
        let e = parse_idx("x", b"PK\x03\x04").unwrap_err();
        assert_eq!(
            e.to_string(),
            "x: not an IDX file (bad magic number: bytes 0–1 must be 00 00)"
        );
        let e = parse_idx("x", &[0, 0, 9, 1]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x: IDX data type 0x09 at byte 2 is not supported (only 0x08, unsigned byte)"
        );
        let e = parse_idx("x", &[0, 0, 8, 3, 0, 0]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x: truncated header: the file ends at byte 6, the header of 3 dimensions needs 16"
        );
    }
}
