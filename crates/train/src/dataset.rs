//! In-memory labelled data sets: the two bundled UCI sets and loaders for CSV and `.npy` files.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::error::{Error, Result};

/// Largest number of classes a label column may use.
pub const MAX_CLASSES: usize = 1024;
/// Largest number of feature values (rows × features) a loaded data set may hold (2^28).
pub const MAX_VALUES: usize = 1 << 28;

const DIGITS_CSV: &str = include_str!("../../../data/digits.csv");
const BREAST_CANCER_CSV: &str = include_str!("../../../data/breast_cancer.csv");
const DIGITS_SPLIT_CSV: &str = include_str!("../../../data/digits_split_seed42.csv");

/// Samples of `f32` features with integer class labels, stored row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    name: String,
    features: Vec<f32>,
    labels: Vec<u32>,
    feature_shape: Vec<usize>,
    num_classes: usize,
}

impl Dataset {
    /// Build a data set from row-major features and labels.
    ///
    /// `feature_shape` is the shape of one sample (`[64]`, or `[1, 8, 8]` for an image);
    /// `num_classes` must exceed every label.
    ///
    /// # Errors
    /// [`Error::InvalidDataset`] if the lengths disagree, a feature is not finite, a label is
    /// out of range, or the set is empty.
    pub fn new(
        name: impl Into<String>,
        features: Vec<f32>,
        labels: Vec<u32>,
        feature_shape: Vec<usize>,
        num_classes: usize,
    ) -> Result<Self> {
        let name = name.into();
        let invalid = |reason: String| Error::InvalidDataset {
            name: name.clone(),
            reason,
        };
        let width: usize = feature_shape.iter().product();
        if labels.is_empty() || width == 0 {
            return Err(invalid("no samples or no features".into()));
        }
        if Some(features.len()) != labels.len().checked_mul(width) {
            return Err(invalid(format!(
                "{} feature values for {} samples of {width} features",
                features.len(),
                labels.len()
            )));
        }
        if let Some(i) = features.iter().position(|v| !v.is_finite()) {
            return Err(invalid(format!(
                "feature {} of sample {} is not finite",
                i % width,
                i / width
            )));
        }
        if num_classes == 0 || num_classes > MAX_CLASSES {
            return Err(invalid(format!(
                "{num_classes} classes (1..={MAX_CLASSES})"
            )));
        }
        if let Some(i) = labels.iter().position(|&l| l as usize >= num_classes) {
            return Err(invalid(format!(
                "label {} of sample {i} is not below the class count {num_classes}",
                labels[i]
            )));
        }
        Ok(Self {
            name,
            features,
            labels,
            feature_shape,
            num_classes,
        })
    }

    /// The UCI handwritten digits (1,797 8×8 images, 10 classes), pixels scaled to `[0, 1]`
    /// (intensity / 16), each sample shaped `[1, 8, 8]`.
    pub fn digits() -> Self {
        let (features, labels) =
            parse_csv_str(DIGITS_CSV, "digits").expect("bundled digits CSV parses");
        let features = features.into_iter().map(|v| v / 16.0).collect();
        Self::new("digits", features, labels, vec![1, 8, 8], 10)
            .expect("bundled digits data set is valid")
    }

    /// The UCI breast-cancer Wisconsin (diagnostic) set (569 samples, 30 features, classes
    /// 0 = malignant, 1 = benign), each feature standardised to zero mean and unit variance.
    pub fn breast_cancer() -> Self {
        let (mut features, labels) =
            parse_csv_str(BREAST_CANCER_CSV, "breast_cancer").expect("bundled CSV parses");
        standardize(&mut features, 30);
        Self::new("breast_cancer", features, labels, vec![30], 2)
            .expect("bundled breast-cancer data set is valid")
    }

    /// A bundled data set by name: `digits` or `breast_cancer` (also `breast-cancer`).
    pub fn builtin(name: &str) -> Option<Self> {
        match name {
            "digits" => Some(Self::digits()),
            "breast_cancer" | "breast-cancer" => Some(Self::breast_cancer()),
            _ => None,
        }
    }

    /// Load a CSV file whose last column is the integer class label and whose other columns
    /// are numeric features. A first row that does not parse as numbers is taken as a header.
    /// The class count is one more than the largest label.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read, [`Error::Csv`] for malformed CSV,
    /// [`Error::BadCell`] naming the line and column of a non-numeric, non-finite or
    /// out-of-range cell, [`Error::InvalidDataset`] if nothing usable remains.
    pub fn from_csv(path: &Path) -> Result<Self> {
        let source_name = path.display().to_string();
        let file = File::open(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let (features, labels) = parse_csv(BufReader::new(file), &source_name)?;
        let width = features.len() / labels.len().max(1);
        let num_classes = labels.iter().max().map_or(0, |&m| m as usize + 1);
        Self::new(source_name, features, labels, vec![width], num_classes)
    }

    /// Load features and labels from two NumPy `.npy` files.
    ///
    /// `features` holds a float, integer or boolean array of shape `[n, ...]` (C order; the
    /// trailing dimensions are one sample's shape); `labels` holds `n` non-negative integers.
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be read; [`Error::Npy`] for a malformed header, an
    /// unsupported dtype (complex, strings, structured), Fortran order, a negative or
    /// fractional label, or mismatched lengths; [`Error::InvalidDataset`] for non-finite values.
    pub fn from_npy(features: &Path, labels: &Path) -> Result<Self> {
        let (x, shape) = read_npy(features)?;
        let (y, y_shape) = read_npy(labels)?;
        let npy_err = |path: &Path, reason: String| Error::Npy {
            path: path.to_path_buf(),
            reason,
        };
        let n = *shape
            .first()
            .ok_or_else(|| npy_err(features, "features must have at least one dimension".into()))?;
        if y_shape.len() != 1 {
            return Err(npy_err(
                labels,
                format!("labels must be one-dimensional, shape is {y_shape:?}"),
            ));
        }
        if y.len() != n {
            return Err(npy_err(
                labels,
                format!("{} labels for {n} samples", y.len()),
            ));
        }
        let mut out = Vec::with_capacity(y.len());
        for (i, &v) in y.iter().enumerate() {
            if !(v >= 0.0 && v.fract() == 0.0 && (v as usize) < MAX_CLASSES) {
                return Err(npy_err(
                    labels,
                    format!("label {i} is {v}, not an integer in 0..{MAX_CLASSES}"),
                ));
            }
            out.push(v as u32);
        }
        let mut sample_shape: Vec<usize> = shape[1..].to_vec();
        if sample_shape.is_empty() {
            sample_shape.push(1);
        }
        let num_classes = out.iter().max().map_or(0, |&m| m as usize + 1);
        let x = x.into_iter().map(|v| v as f32).collect();
        Self::new(
            features.display().to_string(),
            x,
            out,
            sample_shape,
            num_classes,
        )
    }

    /// The data set's name (built-in name or file path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples (never true for a constructed data set).
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of feature values per sample.
    pub fn num_features(&self) -> usize {
        self.feature_shape.iter().product()
    }

    /// The shape of one sample.
    pub fn feature_shape(&self) -> &[usize] {
        &self.feature_shape
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// All features, row-major.
    pub fn features(&self) -> &[f32] {
        &self.features
    }

    /// All labels.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The samples at `indices`, in that order.
    ///
    /// # Errors
    /// [`Error::InvalidDataset`] if `indices` is empty or an index is out of range.
    pub fn subset(&self, indices: &[usize]) -> Result<Self> {
        let width = self.num_features();
        let mut features = Vec::with_capacity(indices.len() * width);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            let row = self
                .features
                .get(i * width..(i + 1) * width)
                .ok_or_else(|| Error::InvalidDataset {
                    name: self.name.clone(),
                    reason: format!("sample index {i} out of range ({} samples)", self.len()),
                })?;
            features.extend_from_slice(row);
            labels.push(self.labels[i]);
        }
        Self::new(
            self.name.clone(),
            features,
            labels,
            self.feature_shape.clone(),
            self.num_classes,
        )
    }

    /// A copy whose labels are mapped by `f` (used to simulate label-flipping clients).
    ///
    /// # Errors
    /// [`Error::InvalidDataset`] if `f` returns a label outside the class range.
    pub fn map_labels(&self, f: impl Fn(u32) -> u32) -> Result<Self> {
        Self::new(
            self.name.clone(),
            self.features.clone(),
            self.labels.iter().map(|&l| f(l)).collect(),
            self.feature_shape.clone(),
            self.num_classes,
        )
    }

    /// Number of samples of each class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }
}

/// The standard federated split of the digits set, identical to the reference Flower task:
/// a seed-42 permutation whose first 360 samples form the test set, the other 1,437 split
/// over 10 clients by a per-class Dirichlet(0.5) draw (every client has at least 10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandardSplit {
    /// Rows of [`Dataset::digits`] held out for central evaluation.
    pub test: Vec<usize>,
    /// Rows of each client, ascending.
    pub clients: Vec<Vec<usize>>,
}

impl StandardSplit {
    /// Clients in the standard split.
    pub const CLIENTS: usize = 10;
    /// Dirichlet concentration of the standard split.
    pub const ALPHA: f64 = 0.5;
    /// Test samples in the standard split.
    pub const TEST_LEN: usize = 360;

    /// The bundled split (see `data/README.md` for how it was produced).
    pub fn digits() -> Self {
        let mut test = Vec::new();
        let mut clients = vec![Vec::new(); Self::CLIENTS];
        for line in DIGITS_SPLIT_CSV.lines().skip(1) {
            let (index, part) = line.split_once(',').expect("split rows have two columns");
            let index: usize = index.parse().expect("split index is a number");
            match part {
                "test" => test.push(index),
                k => clients[k.parse::<usize>().expect("client number")].push(index),
            }
        }
        Self { test, clients }
    }
}

fn standardize(features: &mut [f32], width: usize) {
    let n = features.len() / width;
    for j in 0..width {
        let mean = (0..n).map(|i| features[i * width + j] as f64).sum::<f64>() / n as f64;
        let var = (0..n)
            .map(|i| (features[i * width + j] as f64 - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
        for i in 0..n {
            let v = &mut features[i * width + j];
            *v = ((*v as f64 - mean) / sd) as f32;
        }
    }
}

fn parse_csv_str(text: &str, source_name: &str) -> Result<(Vec<f32>, Vec<u32>)> {
    parse_csv(text.as_bytes(), source_name)
}

/// Parse numeric CSV (last column the label). A non-numeric first row is a header.
fn parse_csv<R: Read>(reader: R, source_name: &str) -> Result<(Vec<f32>, Vec<u32>)> {
    let csv_err = |source| Error::Csv {
        source_name: source_name.to_string(),
        source,
    };
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(reader);
    let mut features = Vec::new();
    let mut labels = Vec::new();
    let mut width = None;
    for (row, record) in rdr.records().enumerate() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map_or(row as u64 + 1, |p| p.line());
        if record.len() < 2 {
            return Err(Error::BadCell {
                source_name: source_name.into(),
                line,
                column: record.len(),
                value: record.get(0).unwrap_or_default().chars().take(40).collect(),
                reason: "need at least one feature column and a label column",
            });
        }
        let is_header = row == 0 && record.iter().any(|c| c.parse::<f64>().is_err());
        if is_header {
            continue;
        }
        let w = *width.get_or_insert(record.len() - 1);
        if features.len() + w > MAX_VALUES {
            return Err(Error::InvalidDataset {
                name: source_name.into(),
                reason: format!("more than {MAX_VALUES} feature values"),
            });
        }
        let bad = |column: usize, value: &str, reason| Error::BadCell {
            source_name: source_name.into(),
            line,
            column,
            value: value.chars().take(40).collect(),
            reason,
        };
        for (j, cell) in record.iter().enumerate() {
            let value: f64 = cell.parse().map_err(|_| bad(j + 1, cell, "not a number"))?;
            if !value.is_finite() {
                return Err(bad(j + 1, cell, "not finite"));
            }
            if j == w {
                if value < 0.0 || value.fract() != 0.0 || value >= MAX_CLASSES as f64 {
                    return Err(bad(
                        j + 1,
                        cell,
                        "label must be an integer class number below 1024",
                    ));
                }
                labels.push(value as u32);
            } else {
                let v = value as f32;
                if !v.is_finite() {
                    return Err(bad(j + 1, cell, "out of f32 range"));
                }
                features.push(v);
            }
        }
    }
    if labels.is_empty() {
        return Err(Error::InvalidDataset {
            name: source_name.into(),
            reason: "no data rows".into(),
        });
    }
    Ok((features, labels))
}

/// Read a C-order `.npy` array of any plain numeric dtype as `f64`, with its shape.
fn read_npy(path: &Path) -> Result<(Vec<f64>, Vec<usize>)> {
    use npyz::{DType, TypeChar};
    let npy_err = |reason: String| Error::Npy {
        path: path.to_path_buf(),
        reason,
    };
    let file = File::open(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let file_len = file
        .metadata()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .map_err(|e| npy_err(format!("unreadable header: {e}")))?;
    if npy.order() != npyz::Order::C {
        return Err(npy_err("Fortran-order arrays are not supported".into()));
    }
    let shape: Vec<usize> = npy
        .shape()
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| npy_err("dimension too large".into())))
        .collect::<Result<_>>()?;
    let total = shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&t| t <= MAX_VALUES)
        .ok_or_else(|| npy_err(format!("shape {shape:?} exceeds {MAX_VALUES} values")))?;
    let DType::Plain(ts) = npy.dtype() else {
        return Err(npy_err("structured dtypes are not supported".into()));
    };
    // Refuse a header that claims more data than the file holds before allocating for it.
    if (total as u64).saturating_mul(ts.size_field()) > file_len {
        return Err(npy_err(format!(
            "header claims shape {shape:?} of {ts}, more than the file's {file_len} bytes"
        )));
    }
    let read = |e: std::io::Error| npy_err(format!("cannot read data: {e}"));
    let values: Vec<f64> = match (ts.type_char(), ts.size_field()) {
        (TypeChar::Float, 4) => npy
            .into_vec::<f32>()
            .map_err(read)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(read)?,
        (TypeChar::Int, 1) => npy
            .into_vec::<i8>()
            .map_err(read)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Int, 2) => npy
            .into_vec::<i16>()
            .map_err(read)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Int, 4) => npy
            .into_vec::<i32>()
            .map_err(read)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Int, 8) => npy
            .into_vec::<i64>()
            .map_err(read)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (TypeChar::Uint, 1) => npy
            .into_vec::<u8>()
            .map_err(read)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Uint, 2) => npy
            .into_vec::<u16>()
            .map_err(read)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Uint, 4) => npy
            .into_vec::<u32>()
            .map_err(read)?
            .into_iter()
            .map(f64::from)
            .collect(),
        (TypeChar::Uint, 8) => npy
            .into_vec::<u64>()
            .map_err(read)?
            .into_iter()
            .map(|v| v as f64)
            .collect(),
        (TypeChar::Bool, 1) => npy
            .into_vec::<bool>()
            .map_err(read)?
            .into_iter()
            .map(|b| f64::from(u8::from(b)))
            .collect(),
        _ => return Err(npy_err(format!("unsupported dtype {ts}"))),
    };
    if values.len() != total {
        return Err(npy_err(format!(
            "{} values for shape {shape:?}",
            values.len()
        )));
    }
    Ok((values, shape))
}
