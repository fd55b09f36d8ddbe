//! libFuzzer target: see `shipshape::fuzz::package_files`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::package_files(data));
