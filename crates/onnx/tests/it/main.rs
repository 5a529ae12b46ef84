//! Integration tests of the ONNX importer against committed fixtures (see `fixtures/gen.py`).

mod corrupt;
mod fixtures;
