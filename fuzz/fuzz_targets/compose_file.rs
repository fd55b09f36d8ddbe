//! libFuzzer target: see `shipshape::fuzz::compose_file`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::compose_file(data));
