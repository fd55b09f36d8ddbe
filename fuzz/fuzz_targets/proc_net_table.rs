//! libFuzzer target: see `shipshape::fuzz::proc_net_table`.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| shipshape::fuzz::proc_net_table(data));
