//! libFuzzer target: see `shipshape::fuzz::report_json`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::report_json(data));
