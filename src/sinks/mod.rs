//! Where a run's figures go: the console (`console`) and the index of `all`'s phases
//! (`index`).

pub mod console;
pub mod index;
