//! libFuzzer target: see `shipshape::fuzz::engine_lists`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::engine_lists(data));
