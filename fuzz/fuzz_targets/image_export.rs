//! libFuzzer target: see `shipshape::fuzz::image_export`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::image_export(data));
