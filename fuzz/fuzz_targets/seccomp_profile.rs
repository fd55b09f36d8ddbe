//! libFuzzer target: see `shipshape::fuzz::seccomp_profile`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::seccomp_profile(data));
