//! libFuzzer target: see `shipshape::fuzz::public_key`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::public_key(data));
