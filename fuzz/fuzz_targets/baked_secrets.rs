//! libFuzzer target: see `shipshape::fuzz::baked_secrets`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::baked_secrets(data));
