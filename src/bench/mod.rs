//! Measuring a node: a generated phone book, the filters phones send enumerated
//! by shape, and a load client that searches like phones do (`sop bench
//! phonebook`, `sop bench filters`, `sop bench load`).

pub mod formats;
pub mod ldif;
pub mod load;
pub mod phonebook;
pub mod process;
pub mod shapes;
