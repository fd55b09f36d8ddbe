//! libFuzzer target: see `shipshape::fuzz::changes`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::changes(data));
