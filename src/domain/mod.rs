//! Value types shared by resources, each with a `parse` constructor that says what is wrong.

pub mod duration;
pub mod icd10;
pub mod normal_range;
