//! libFuzzer target: see `shipshape::fuzz::exec_inspect`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::exec_inspect(data));
