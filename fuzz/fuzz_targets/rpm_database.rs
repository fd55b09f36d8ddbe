//! libFuzzer target: see `shipshape::fuzz::rpm_database`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::rpm_database(data));
