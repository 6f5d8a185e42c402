//! `codegen generate --schema <PATH> --out <DIR>`: typed bindings from an app-server protocol schema.
//! `codegen diff <OLD> <NEW>`: what changed between two schemas, and what of it breaks existing clients.

use std::fmt::Display;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// One run allocates and frees a great many small strings and vectors (the schema's JSON and node tree, the
// IR, the emitted text) in a process that lives a few tens of milliseconds. mimalloc does that with less CPU
// than the system allocator, and, taking memory from the OS in large segments, with ~200 page faults where
// the system allocator's fresh heap takes ~4,000: about a quarter of the command's time (BENCHMARKS.md).
// Its v2 line, because in our runs v3 backed its arenas with transparent huge pages and zeroed ~60 MB for
// them (v2: ~45 MB resident), which made it no faster. It is compiled from C by the `cc` crate. The library
// keeps the allocator of the program that uses it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "codegen", version, about = "Typed bindings from the Codex app-server protocol JSON Schema")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate bindings: `<OUT>/rust/` (a standalone crate) and `<OUT>/python/` (a package).
    Generate {
        /// The schema bundle, a folder written by `codex app-server generate-json-schema`, or any draft-07 schema.
        #[arg(long)]
        schema: PathBuf,
        /// The output folder; its language folders are replaced whole, and only when generation succeeded.
        #[arg(long)]
        out: PathBuf,
        /// The Codex release the schema came from (`0.169.0`, `0.116.0-alpha.1`): the version of both packages
        /// (the crate's as it is, the Python package's in PEP 440's spelling, `0.116.0a1`), named in the headers.
        /// Without it the version is 0.0.0.
        #[arg(long, value_name = "V", value_parser = release)]
        codex_version: Option<codegen::Release>,
        #[command(flatten)]
        metadata: Box<MetadataArgs>,
        /// The generated Rust crate's package name.
        #[arg(long, default_value = "codex-app-server-types", value_parser = crate_name)]
        crate_name: String,
        /// The generated Python package's import name.
        #[arg(long, default_value = "codex_app_server_types", value_parser = python_package)]
        python_package: String,
        /// Write only these bindings (repeatable); the other language's folder is left as it is.
        #[arg(long = "lang", value_parser = language())]
        languages: Vec<codegen::Language>,
        /// A file naming the result types of requests the schema does not let the generator find
        /// (`{"responses": {"method": "v2/Definition"}}`); replaces the built-in one.
        #[arg(long)]
        rpc_overrides: Option<PathBuf>,
    },
    /// Compare two schemas: what changed, and whether it breaks a client generated from OLD.
    ///
    /// Exit status: 0 when compared, 1 when `--fail-on breaking` finds a breaking change, 2 when a
    /// schema cannot be read.
    Diff {
        /// The schema existing bindings were generated from (a bundle, a folder holding one, or any draft-07 schema).
        old: PathBuf,
        /// The schema to compare it with.
        new: PathBuf,
        /// Print the changes as JSON (the format is described in the README).
        #[arg(long)]
        json: bool,
        /// Exit with status 1 when there is a change of this class.
        #[arg(long, value_enum)]
        fail_on: Option<FailOn>,
    },
}

/// What the packages tell a registry: from `--package-config`, then these flags over it.
#[derive(clap::Args)]
struct MetadataArgs {
    /// A JSON file of package metadata: `description`, `license`, `licenseFile` (relative to the file), `repository`,
    /// `homepage`, `authors`, `keywords`, `publish`. The flags below override it.
    #[arg(long, value_name = "FILE")]
    package_config: Option<PathBuf>,
    /// One line describing the packages [default: names the protocol and the Codex release].
    #[arg(long)]
    description: Option<String>,
    /// An SPDX license expression [default: Apache-2.0, the license of the Codex sources the schema comes from].
    #[arg(long)]
    license: Option<String>,
    /// A file shipped as `LICENSE` in both packages [default: the Apache License 2.0's text, for Apache-2.0 only].
    #[arg(long, value_name = "FILE")]
    license_file: Option<PathBuf>,
    /// The source repository's URL.
    #[arg(long, value_name = "URL")]
    repository: Option<String>,
    /// The project's home page.
    #[arg(long, value_name = "URL")]
    homepage: Option<String>,
    /// An author, `Name <mail>` (repeatable; replaces the configuration file's list).
    #[arg(long = "author", value_name = "AUTHOR")]
    authors: Vec<String>,
    /// A keyword (repeatable, at most five; replaces the default list).
    #[arg(long = "keyword", value_name = "WORD")]
    keywords: Vec<String>,
    /// Write `publish = false` into the crate's Cargo.toml.
    #[arg(long)]
    no_publish: bool,
    /// Give the Python package a `runtime` extra depending on `openai-codex-cli-bin==<version>`, the Codex binary
    /// on PyPI (needs `--codex-version` of a release published there).
    #[arg(long)]
    python_runtime_extra: bool,
}

impl MetadataArgs {
    fn metadata(self, release: Option<&codegen::Release>) -> codegen::Result<codegen::Metadata> {
        let mut m = codegen::Metadata::default();
        if let Some(file) = &self.package_config {
            let text = std::fs::read_to_string(file)
                .map_err(|e| codegen::Error::at(file, "", format!("cannot read the package configuration: {e}")))?;
            m.apply_config(file, &text)?;
        }
        let cli = std::path::Path::new("<command line>");
        if let Some(d) = self.description {
            m.description = Some(d);
        }
        if let Some(l) = self.license {
            m.set_license(l);
        }
        if let Some(file) = &self.license_file {
            m.license_text = Some(
                std::fs::read_to_string(file)
                    .map_err(|e| codegen::Error::at(file, "", format!("cannot read the license file: {e}")))?,
            );
        }
        if self.repository.is_some() {
            m.repository = self.repository;
        }
        if self.homepage.is_some() {
            m.homepage = self.homepage;
        }
        if !self.authors.is_empty() {
            m.authors = self.authors;
        }
        if !self.keywords.is_empty() {
            m.keywords = self.keywords;
        }
        if self.no_publish {
            m.publish = false;
        }
        if self.python_runtime_extra {
            if release.is_none_or(codegen::Release::is_unknown) {
                return Err(codegen::Error::at(cli, "", "--python-runtime-extra needs --codex-version"));
            }
            m.runtime_extra = true;
        }
        m.check().map_err(|e| codegen::Error::at(cli, "", e))?;
        Ok(m)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum FailOn {
    Breaking,
}

/// `--lang`: one of [`codegen::Language::ALL`], by name (`--help` lists them).
fn language() -> impl clap::builder::TypedValueParser<Value = codegen::Language> {
    clap::builder::TypedValueParser::map(
        clap::builder::PossibleValuesParser::new(codegen::Language::ALL.iter().map(|l| l.name())),
        |name| codegen::Language::from_name(&name).expect("clap accepts only the names listed"),
    )
}

/// The command the headers name: without `--schema` and `--out`, so that the same schema gives the same bytes
/// wherever it is read from and written to (the headers name the schema file, its release and its digest);
/// with the names that change the code, when not the defaults.
fn header_command(crate_name: &str, python_package: &str) -> String {
    let mut command = String::from("codegen generate");
    let defaults = codegen::Options::default();
    if crate_name != defaults.rust_crate_name {
        command.push_str(&format!(" --crate-name {crate_name}"));
    }
    if python_package != defaults.python_package {
        command.push_str(&format!(" --python-package {python_package}"));
    }
    command
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Diff { old, new, json, fail_on } => {
            let report = match codegen::diff(&old, &new) {
                Ok(report) => report,
                Err(e) => {
                    say(format_args!("error: {e}"));
                    return ExitCode::from(2);
                }
            };
            let (old, new) = (old.display().to_string(), new.display().to_string());
            let text =
                if json { codegen::diff::json(&report, &old, &new) } else { codegen::diff::human(&report, &old, &new) };
            if let Err(e) = print(&text) {
                say(format_args!("error: cannot write the report: {e}"));
                return ExitCode::from(2);
            }
            if fail_on == Some(FailOn::Breaking) && report.breaking() > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Generate {
            schema,
            out,
            codex_version,
            metadata,
            crate_name,
            python_package,
            languages,
            rpc_overrides,
        } => {
            let settings = rpc_overrides
                .map(|file| read_overrides(&file))
                .transpose()
                .and_then(|overrides| Ok((overrides, metadata.metadata(codex_version.as_ref())?)));
            let (rpc_overrides, metadata) = match settings {
                Ok((overrides, metadata)) => (overrides.unwrap_or_else(codegen::ir::rpc::Overrides::builtin), metadata),
                Err(e) => {
                    say(format_args!("error: {e}"));
                    say(format_args!("nothing was written to {}", out.display()));
                    return ExitCode::FAILURE;
                }
            };
            let options = codegen::Options {
                command: header_command(&crate_name, &python_package),
                codex_version,
                metadata,
                rust_crate_name: crate_name,
                python_distribution: python_package.replace('_', "-"),
                python_package,
                languages: if languages.is_empty() { codegen::Language::ALL.to_vec() } else { languages },
                rpc_overrides,
                ..codegen::Options::default()
            };
            let output = match codegen::generate(&schema, &options) {
                Ok(output) => output,
                Err(e) => {
                    say(format_args!("error: {e}"));
                    say(format_args!("nothing was written to {}", out.display()));
                    return ExitCode::FAILURE;
                }
            };
            for w in &output.warnings {
                say(format_args!("{w}"));
            }
            if let Err(e) = codegen::output::replace_dir(&out, &output.files) {
                say(format_args!("error: cannot write {}: {e}", out.display()));
                return ExitCode::FAILURE;
            }
            let done = format!(
                "{}\n{} warning(s). Wrote {} files to {}.\n",
                output.summary,
                output.warnings.len(),
                output.files.len(),
                out.display()
            );
            // The files are written; a summary nobody can read is not worth failing for, but is said.
            if let Err(e) = print(&done) {
                say(format_args!("warning: cannot write the summary: {e}"));
            }
            ExitCode::SUCCESS
        }
    }
}

fn read_overrides(file: &std::path::Path) -> codegen::Result<codegen::ir::rpc::Overrides> {
    let text = std::fs::read_to_string(file).map_err(|e| codegen::Error::at(file, "", format!("cannot read: {e}")))?;
    codegen::ir::rpc::Overrides::parse(file, &text)
}

/// Writes to stdout. A reader that stopped reading (`codegen diff ... | head`) is not an error; anything else
/// (a full disk) is returned, never a panic as `print!` would.
fn print(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes one line to stderr; when even that fails there is no one left to tell, so it is not a panic.
fn say(line: impl Display) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

/// A Codex release tag.
fn release(tag: &str) -> Result<codegen::Release, String> {
    codegen::Release::parse(tag)
}

/// A Cargo package name (it is written into `Cargo.toml`).
fn crate_name(name: &str) -> Result<String, String> {
    if codegen::naming::idents::is_crate_name(name) {
        Ok(name.to_string())
    } else {
        Err("a crate name is ASCII letters, digits, `-` and `_`, starting with a letter".into())
    }
}

/// A Python import name (it names the package's folder).
fn python_package(name: &str) -> Result<String, String> {
    if codegen::naming::idents::is_python_package(name) {
        Ok(name.to_string())
    } else {
        Err("a Python package name is an ASCII identifier (letters, digits, `_`) and not a keyword".into())
    }
}
