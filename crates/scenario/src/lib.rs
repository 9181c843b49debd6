//! placeholder crate root, replaced by the owner of this crate.
