//! libFuzzer target: see `shipshape::fuzz::registry_answers`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::registry_answers(data));
