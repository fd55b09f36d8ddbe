//! libFuzzer target: see `shipshape::fuzz::osv_record`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::osv_record(data));
