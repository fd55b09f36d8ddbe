//! libFuzzer target: see `shipshape::fuzz::proc_files`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::proc_files(data));
