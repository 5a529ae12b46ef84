//! Loaders and the standard split: shapes, and clear errors for bad files.

use std::io::Write;
use std::path::{Path, PathBuf};

use counterweight_train::{Dataset, Error, StandardSplit};

#[test]
fn bundled_sets_have_their_published_shapes() {
    let d = Dataset::digits();
    assert_eq!((d.len(), d.num_features(), d.num_classes()), (1797, 64, 10));
    assert_eq!(d.feature_shape(), &[1, 8, 8]);
    assert!(d.features().iter().all(|&v| (0.0..=1.0).contains(&v)));
    assert!(d.class_counts().iter().all(|&c| (170..=190).contains(&c)));
    let b = Dataset::breast_cancer();
    assert_eq!((b.len(), b.num_features(), b.num_classes()), (569, 30, 2));
    assert_eq!(b.class_counts(), vec![212, 357]);
}

#[test]
fn standard_split_matches_the_reference_task() {
    let s = StandardSplit::digits();
    assert_eq!(s.test.len(), 360);
    assert_eq!(s.clients.len(), 10);
    let mut all: Vec<usize> = s
        .test
        .iter()
        .chain(s.clients.iter().flatten())
        .copied()
        .collect();
    all.sort_unstable();
    assert_eq!(all, (0..1797).collect::<Vec<_>>());
    assert!(s.clients.iter().all(|c| c.len() >= 10));
    // Client sizes of the Flower task's seed-42 Dirichlet(0.5) draw.
    let sizes: Vec<usize> = s.clients.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![171, 140, 68, 180, 132, 139, 130, 129, 149, 199]);
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
    path
}

#[test]
fn csv_loader_reads_a_headed_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "ok.csv",
        b"a,b,label\n1,2,0\n3.5,-4,2\n 5 ,6e1,1\n",
    );
    let d = Dataset::from_csv(&p).unwrap();
    assert_eq!((d.len(), d.num_features(), d.num_classes()), (3, 2, 3));
    assert_eq!(d.features(), &[1.0, 2.0, 3.5, -4.0, 5.0, 60.0]);
    assert_eq!(d.labels(), &[0, 2, 1]);
}

#[test]
fn csv_loader_names_the_bad_cell() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], usize, usize); 5] = [
        ("word", b"1,2,0\n3,x,1\n", 2, 2),
        ("nan", b"1,2,0\n3,NaN,1\n", 2, 2),
        ("inf", b"1,inf,0\n", 1, 2),
        ("negative label", b"1,2,0\n3,4,-1\n", 2, 3),
        ("fractional label", b"1,2,0.5\n", 1, 3),
    ];
    for (what, bytes, want_line, want_col) in cases {
        let p = write(dir.path(), "bad.csv", bytes);
        match Dataset::from_csv(&p) {
            Err(Error::BadCell { line, column, .. }) => {
                assert_eq!((line, column), (want_line as u64, want_col), "{what}");
            }
            other => panic!("{what}: expected BadCell, got {other:?}"),
        }
    }
}

#[test]
fn csv_loader_rejects_malformed_files() {
    let dir = tempfile::tempdir().unwrap();
    let ragged = write(dir.path(), "ragged.csv", b"1,2,0\n3,1\n");
    assert!(matches!(Dataset::from_csv(&ragged), Err(Error::Csv { .. })));
    let empty = write(dir.path(), "empty.csv", b"");
    assert!(matches!(
        Dataset::from_csv(&empty),
        Err(Error::InvalidDataset { .. })
    ));
    let header_only = write(dir.path(), "header.csv", b"a,b,label\n");
    assert!(matches!(
        Dataset::from_csv(&header_only),
        Err(Error::InvalidDataset { .. })
    ));
    let one_column = write(dir.path(), "one.csv", b"1\n2\n");
    assert!(matches!(
        Dataset::from_csv(&one_column),
        Err(Error::BadCell { .. })
    ));
    let binary = write(dir.path(), "bin.csv", &[0xff, 0xfe, 0x00, 0x41, b'\n']);
    assert!(Dataset::from_csv(&binary).is_err());
    let missing = dir.path().join("missing.csv");
    assert!(matches!(Dataset::from_csv(&missing), Err(Error::Io { .. })));
}

/// A `.npy` (format 1.0) file with the given header fields and raw little-endian data.
fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let fortran = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f32s(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn i64s(v: &[i64]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

#[test]
fn npy_loader_reads_images_and_integer_labels() {
    let dir = tempfile::tempdir().unwrap();
    let x = write(
        dir.path(),
        "x.npy",
        &npy(
            "<f4",
            false,
            &[2, 1, 2, 2],
            &f32s(&[0., 1., 2., 3., 4., 5., 6., 7.]),
        ),
    );
    let y = write(
        dir.path(),
        "y.npy",
        &npy("<i8", false, &[2], &i64s(&[1, 0])),
    );
    let d = Dataset::from_npy(&x, &y).unwrap();
    assert_eq!(d.feature_shape(), &[1, 2, 2]);
    assert_eq!(d.labels(), &[1, 0]);
    assert_eq!(d.features()[7], 7.0);
    // uint8 pixels and uint8 labels work too.
    let x8 = write(
        dir.path(),
        "x8.npy",
        &npy("|u1", false, &[2, 3], &[1, 2, 3, 4, 5, 6]),
    );
    let y8 = write(dir.path(), "y8.npy", &npy("|u1", false, &[2], &[0, 1]));
    assert_eq!(Dataset::from_npy(&x8, &y8).unwrap().num_features(), 3);
}

#[test]
fn npy_loader_rejects_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let good_x = write(
        dir.path(),
        "x.npy",
        &npy("<f4", false, &[2, 2], &f32s(&[0., 1., 2., 3.])),
    );
    let good_y = write(
        dir.path(),
        "y.npy",
        &npy("<i8", false, &[2], &i64s(&[0, 1])),
    );
    let cases: Vec<(&str, Vec<u8>, bool)> = vec![
        ("not npy", b"hello world, not an array".to_vec(), true),
        (
            "truncated data",
            npy("<f4", false, &[2, 2], &f32s(&[0., 1.])),
            true,
        ),
        (
            "huge claimed shape",
            npy("<f4", false, &[1 << 40, 2], &f32s(&[0.])),
            true,
        ),
        ("complex", npy("<c8", false, &[2, 2], &[0; 32]), true),
        (
            "fortran order",
            npy("<f4", true, &[2, 2], &f32s(&[0., 1., 2., 3.])),
            true,
        ),
        (
            "nan feature",
            npy("<f4", false, &[2, 2], &f32s(&[0., f32::NAN, 2., 3.])),
            true,
        ),
        (
            "fractional label",
            npy(
                "<f8",
                false,
                &[2],
                &[0.0f64, 1.5]
                    .iter()
                    .flat_map(|v| v.to_le_bytes())
                    .collect::<Vec<_>>(),
            ),
            false,
        ),
        (
            "negative label",
            npy("<i8", false, &[2], &i64s(&[0, -3])),
            false,
        ),
        (
            "label count",
            npy("<i8", false, &[3], &i64s(&[0, 1, 1])),
            false,
        ),
        (
            "2-d labels",
            npy("<i8", false, &[2, 1], &i64s(&[0, 1])),
            false,
        ),
    ];
    for (what, bytes, is_features) in cases {
        let p = write(dir.path(), "bad.npy", &bytes);
        let result = if is_features {
            Dataset::from_npy(&p, &good_y)
        } else {
            Dataset::from_npy(&good_x, &p)
        };
        match result {
            Err(Error::Npy { reason, .. }) => assert!(!reason.is_empty(), "{what}"),
            Err(Error::InvalidDataset { .. }) if what == "nan feature" => {}
            other => panic!("{what}: expected a clear error, got {other:?}"),
        }
    }
    let missing = dir.path().join("none.npy");
    assert!(matches!(
        Dataset::from_npy(&missing, &good_y),
        Err(Error::Io { .. })
    ));
}
