//! Import ONNX models into the model IR.
