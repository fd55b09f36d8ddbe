//! libFuzzer target: see `shipshape::fuzz::redaction`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::redaction(data));
