//! Repository chores: `cargo xtask <command>`.

mod bench;
mod bench_decode;
mod bench_python;
mod bench_runtime;
mod bench_rust_runtime;
mod bench_size;
mod codex;
mod conformance;
// The namespace flattener the typify oracle uses too; this crate uses part of it.
#[path = "../../tests/src/flatten.rs"]
#[allow(dead_code, reason = "shared with the typify oracle, which uses all of it")]
mod flatten;
mod generate;
mod pin;
mod python;
mod release;
mod release_diff;
mod releases;
mod test;
mod update_schema;
mod util;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "xtask", about = "Repository chores for the schema code generator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Time generation on the pinned bundle next to cargo-typify on its v2 definitions; print a Markdown table.
    Bench(bench::Args),
    /// Time `rpc::decode_server_message` on the recorded traffic next to the envelope and params read on their
    /// own and to `serde_json::Value`; print the median time a line.
    BenchDecode(bench_decode::Args),
    /// Time our Python package next to datamodel-code-generator's (generation, cold import, decoding a notification
    /// stream); print a Markdown table.
    BenchPython(bench_python::Args),
    /// Time the Python client runtime next to the reference SDK, both streaming a replayed turn; print a Markdown
    /// table.
    BenchRuntime(bench_runtime::Args),
    /// Time the Rust client runtime next to codex-codes and a bare reader, all streaming a replayed turn, and the
    /// build time its feature adds; print Markdown tables.
    BenchRustRuntime(bench_rust_runtime::Args),
    /// Time generation on synthetic schemas 1× to 20× the pinned bundle's size; print a Markdown table.
    BenchSize(bench_size::Args),
    /// Check `codegen diff` on release 0.160.0 and the pinned one against facts read from their bundles
    /// (one of the steps of `test`).
    CheckDiff,
    /// Generate bindings for release 0.160.0 and for the pinned release with `--experimental`, and hold them to
    /// the pinned bindings' bar: clippy, ruff, mypy --strict, complete method tables (one of the steps of `test`).
    CheckReleases,
    /// Install a Codex release's `codex` binary into the cache (the one `update-schema` uses, where the generated
    /// Rust client looks for its release) and print its path.
    CodexBinary {
        /// The release [default: the pin's].
        #[arg(long, value_name = "V")]
        codex_version: Option<String>,
    },
    /// Drive the real `codex app-server` of the pinned release through the conformance scenarios with the
    /// generated Python and Rust bindings, against a loopback mock of the model API; check every message.
    Conformance(conformance::Args),
    /// Regenerate `generated/` from the pinned schema in `schema/`.
    GenerateTypes {
        /// Do not write; exit non-zero listing stale files with a short diff.
        #[arg(long)]
        check: bool,
    },
    /// Stage a release of the bindings of one Codex release: generate, package the crate and build the wheel and
    /// sdist into `--out`, check them, and print what to upload.
    Release(release::Args),
    /// Run every check CI runs: drift, clippy, Rust tests, Python checks and tests.
    Test,
    /// Install a Codex release from a package registry and rewrite `schema/` with its schema.
    UpdateSchema(update_schema::Args),
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Bench(args) => bench::run(&args),
        Command::BenchDecode(args) => bench_decode::run(&args),
        Command::BenchPython(args) => bench_python::run(&args),
        Command::BenchRuntime(args) => bench_runtime::run(&args),
        Command::BenchRustRuntime(args) => bench_rust_runtime::run(&args),
        Command::BenchSize(args) => bench_size::run(&args),
        Command::CheckDiff => release_diff::run(),
        Command::CheckReleases => releases::run(),
        Command::CodexBinary { codex_version } => {
            let version = match codex_version {
                Some(v) => v,
                None => pin::pinned()?.codex_version,
            };
            println!("{}", codex::codex_binary(&version)?.display());
            Ok(())
        }
        Command::Conformance(args) => conformance::run(&args),
        Command::GenerateTypes { check } => generate::run(check),
        Command::Release(args) => release::run(&args),
        Command::Test => test::run(),
        Command::UpdateSchema(args) => update_schema::run(&args),
    }
}
