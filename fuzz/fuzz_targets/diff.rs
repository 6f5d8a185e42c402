//! Two schemas, `OLD \0 NEW` (or one, compared with itself): the diff returns a report or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    codegen::fuzz::diff(data);
});
