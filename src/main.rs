//! The `ragsan` binary: everything lives in the library; see `cli.rs`.
fn main() -> std::process::ExitCode {
    ragsan::cli::main()
}
