//! Value types and rules shared by several resources.

pub mod billing_codes;
