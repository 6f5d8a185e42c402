//! Schema → IR → typed bindings.

pub mod error;
pub mod ir;
pub mod load;
pub mod naming;
