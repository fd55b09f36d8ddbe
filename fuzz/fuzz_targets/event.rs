//! libFuzzer target: see `shipshape::fuzz::event`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::event(data));
