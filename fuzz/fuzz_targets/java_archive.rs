//! libFuzzer target: see `shipshape::fuzz::java_archive`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::java_archive(data));
