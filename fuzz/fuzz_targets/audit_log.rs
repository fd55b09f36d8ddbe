//! libFuzzer target: see `shipshape::fuzz::audit_log`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::audit_log(data));
