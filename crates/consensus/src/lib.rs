//! Order and finalize blocks with commonware simplex and marshal.
