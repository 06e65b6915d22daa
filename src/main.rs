fn main() -> std::process::ExitCode {
    spesc::cli::main()
}
