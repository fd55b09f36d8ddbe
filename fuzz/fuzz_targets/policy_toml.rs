//! libFuzzer target: see `shipshape::fuzz::policy_toml`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::policy_toml(data));
