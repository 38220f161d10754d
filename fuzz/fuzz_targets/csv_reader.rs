//! cargo-fuzz target: see `checks::csv_reader` (fuzz/README.md says how to run it).
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "checks.rs"]
mod checks;

fuzz_target!(|data: &[u8]| checks::csv_reader(data));
