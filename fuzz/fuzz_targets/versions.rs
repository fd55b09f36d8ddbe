//! libFuzzer target: see `shipshape::fuzz::versions`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::versions(data));
