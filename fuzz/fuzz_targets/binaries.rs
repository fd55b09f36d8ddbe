//! libFuzzer target: see `shipshape::fuzz::binaries`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::binaries(data));
