//! cargo-fuzz target: see `checks::model_loader` (fuzz/README.md says how to run it).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::model_loader(data));
