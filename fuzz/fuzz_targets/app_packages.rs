//! libFuzzer target: see `shipshape::fuzz::app_packages`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::app_packages(data));
