//! The `sigma` binary: parse, resolve, call the library, report.
#![deny(unsafe_code)]

mod cli;

fn main() {
    let code = cli::run();
    std::process::exit(code as i32);
}
