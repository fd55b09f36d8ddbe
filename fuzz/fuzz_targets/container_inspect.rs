//! libFuzzer target: see `shipshape::fuzz::container_inspect`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::container_inspect(data));
