//! A write's rows on their way to the store: vectors copied into place and checked,
//! property columns encoded as JSON (the one part of the core that writes records' text).

pub mod json;
pub mod stage;
