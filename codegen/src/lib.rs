//! Generates typed bindings for the Codex app-server protocol from its JSON Schema.
//!
//! load → shape → lower → check → naming → emit; [`diff`] compares two schemas after lowering. [`generate`] is pure: it returns files and writes nothing;
//! [`output::replace_dir`] puts them on disk without ever leaving a half-written folder.
//!
//! Modules form floors, and each uses only modules on its floor or below (`codegen/tests/layers.rs` checks it):
//! [`error`], [`package`] and [`threads`]; [`load`]; [`ir`]; [`naming`] and [`mod@diff`] (each reads the IR, neither uses the
//! other); [`emit`]; [`output`] (writes what `emit` returns); this file (the pipeline); [`fuzz`] and the binary.
//! A backend's own names come down to [`naming`] as arguments, never by an import up.

pub mod diff;
pub mod emit;
pub mod error;
pub mod fuzz;
pub mod ir;
pub mod load;
pub mod naming;
pub mod output;
pub mod package;
pub mod threads;

use std::path::Path;

use sha2::{Digest, Sha256};

use threads::{spawn_scoped, with_stack};

pub use emit::GeneratedFile;
pub use error::{Error, Location, Result, Warning};
pub use package::{Metadata, Release};
pub use threads::STACK_SIZE;

/// What to call the output and what its header says.
#[derive(Debug, Clone)]
pub struct Options {
    /// The command users run to regenerate, named in every file's header.
    pub command: String,
    /// The Codex release the schema came from, when known: the version of both packages (else
    /// [`package::UNKNOWN_RELEASE`]), and named in the headers.
    pub codex_version: Option<Release>,
    /// Whether the schema was written with `--experimental`; the headers say so.
    pub experimental: bool,
    /// What the packages tell a registry about themselves.
    pub metadata: Metadata,
    pub rust_crate_name: String,
    /// The Python distribution name (`pyproject.toml`).
    pub python_distribution: String,
    /// The Python import name.
    pub python_package: String,
    /// Which bindings to write (each once, in [`Language::ALL`]'s order whatever the order here); the other
    /// languages' folders are left as they are.
    pub languages: Vec<Language>,
    /// Result types of requests the schema does not let the generator find by name.
    pub rpc_overrides: ir::rpc::Overrides,
}

/// A language the generator writes bindings in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Rust,
    Python,
}

impl Language {
    /// Every language, in the order a run writes them.
    pub const ALL: &'static [Language] = &[Language::Rust, Language::Python];

    /// Its name on the command line (`--lang rust`), which is also its output folder.
    pub fn name(self) -> &'static str {
        match self {
            Language::Rust => "rust",
            Language::Python => "python",
        }
    }

    /// The language [`Language::name`] names.
    pub fn from_name(name: &str) -> Option<Language> {
        Language::ALL.iter().copied().find(|l| l.name() == name)
    }
}

impl Default for Options {
    fn default() -> Self {
        Self {
            command: "codegen generate".into(),
            codex_version: None,
            experimental: false,
            metadata: Metadata::default(),
            rust_crate_name: "codex-app-server-types".into(),
            python_distribution: "codex-app-server-types".into(),
            python_package: "codex_app_server_types".into(),
            languages: Language::ALL.to_vec(),
            rpc_overrides: ir::rpc::Overrides::builtin(),
        }
    }
}

/// Everything one run produces.
#[derive(Debug)]
pub struct Output {
    /// Files by language folder: `rust/Cargo.toml`, `rust/src/lib.rs`, ...
    pub files: Vec<GeneratedFile>,
    pub summary: Summary,
    pub warnings: Vec<Warning>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub definitions: usize,
    pub types: usize,
    pub namespaces: usize,
    /// How many files each backend that ran wrote, by its name (`Rust`), in the order they ran.
    pub files: Vec<(&'static str, usize)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} definitions read in {} namespace(s); every one has a type ({} types).",
            self.definitions, self.namespaces, self.types
        )?;
        for (label, files) in &self.files {
            write!(f, " {label}: {files} files.")?;
        }
        Ok(())
    }
}

/// Reads the schema at `path` (a bundle, a single schema, or a folder holding a bundle) and generates bindings.
pub fn generate(path: &Path, options: &Options) -> Result<Output> {
    let (file, text) = read_schema(path)?;
    generate_from_text(&file, &text, options)
}

/// The named IR of a schema, with everything noticed on the way; what every backend reads.
#[derive(Debug)]
pub struct Model {
    pub ir: ir::Ir,
    pub warnings: Vec<Warning>,
}

impl Model {
    /// A copy of the IR with `language`'s own names too (modules, fields, classes), as its backend names it
    /// for its output: what `emit::rust::names::path` and `emit::python::names::path` read.
    pub fn named_for(&self, language: Language) -> ir::Ir {
        let mut ir = self.ir.clone();
        let mut warnings = Vec::new();
        match language {
            Language::Rust => emit::rust::names::assign(&mut ir, &mut warnings),
            Language::Python => emit::python::names::assign(&mut ir, &mut warnings),
        }
        ir
    }
}

/// Loads, lowers, checks and names a schema (the names every language shares); `file` names it in messages.
pub fn model(file: &Path, text: &str) -> Result<Model> {
    model_with(file, text, &ir::rpc::Overrides::builtin())
}

/// Like [`model`], with another override file for the method tables.
pub fn model_with(file: &Path, text: &str, overrides: &ir::rpc::Overrides) -> Result<Model> {
    with_stack(|| model_on_this_thread(file, text, overrides))
}

/// The named model: the names every language shares (each backend names the rest on its own copy).
fn model_on_this_thread(file: &Path, text: &str, overrides: &ir::rpc::Overrides) -> Result<Model> {
    // The digest named in the headers is taken on another thread while this one reads the schema.
    let (doc, sha256) = std::thread::scope(|scope| {
        let sha256 = scope.spawn(|| hex(&Sha256::digest(text.as_bytes())));
        (load::parse(file, text), sha256.join().expect("hashing does not panic"))
    });
    let mut doc = doc?;
    let mut lowered = ir::lower::lower(&doc, &sha256)?;
    let mut warnings = std::mem::take(&mut doc.warnings);
    // Nothing past lowering reads the document: it is freed (every schema node, and the parsed JSON) on
    // another thread while this one checks and names.
    std::thread::scope(|scope| {
        spawn_scoped(scope, move || drop(doc));
        let checked = ir::check::check(&mut lowered.ir)?;
        lowered.ir.rpc = ir::rpc::build(&lowered.ir, overrides)?;
        warnings.append(&mut lowered.warnings);
        warnings.extend(checked);
        warnings.extend(naming::assign(&mut lowered.ir));
        Ok(Model { ir: lowered.ir, warnings })
    })
}

/// Reads two schemas (anything [`generate`] accepts) and compares them: `old` is what existing bindings were
/// generated from. Fails on the first schema that does not load, with its file and JSON pointer.
pub fn diff(old: &Path, new: &Path) -> Result<diff::Report> {
    let (old_file, old_text) = read_schema(old)?;
    let (new_file, new_text) = read_schema(new)?;
    diff_texts((&old_file, &old_text), (&new_file, &new_text))
}

/// Like [`diff`], from schema text already read; the paths name the schemas in messages.
pub fn diff_texts(old: (&Path, &str), new: (&Path, &str)) -> Result<diff::Report> {
    with_stack(|| {
        let old = model_on_this_thread(old.0, old.1, &lenient())?;
        let new = model_on_this_thread(new.0, new.1, &lenient())?;
        Ok(diff::compare(&old.ir, &new.ir))
    })
}

/// Comparing schemas needs no result type for every request: the built-in overrides, leniently.
fn lenient() -> ir::rpc::Overrides {
    ir::rpc::Overrides { lenient: true, ..ir::rpc::Overrides::builtin() }
}

fn read_schema(path: &Path) -> Result<(std::path::PathBuf, String)> {
    let file = load::schema_file(path)?;
    let text =
        std::fs::read_to_string(&file).map_err(|e| Error::at(&file, "", format!("cannot read the schema: {e}")))?;
    Ok((file, text))
}

/// Like [`generate`], from schema text already read; `file` names it in messages and headers.
pub fn generate_from_text(file: &Path, text: &str, options: &Options) -> Result<Output> {
    with_stack(|| generate_on_this_thread(file, text, options))
}

fn generate_on_this_thread(file: &Path, text: &str, options: &Options) -> Result<Output> {
    options.metadata.check().map_err(|e| Error::at(file, "", format!("package metadata: {e}")))?;
    let Model { ir, mut warnings } = model_on_this_thread(file, text, &options.rpc_overrides)?;

    let header = header(&ir, options);
    let (definitions, types, namespaces) = (ir.definitions, ir.types.len(), ir.namespaces.len());
    let backends = backends(options, &header);
    // Each backend names its own copy of the model (the last one takes the model itself) and prints it, on a
    // thread of its own; files and warnings are kept in backend order, so output does not depend on which
    // finishes first.
    let mut copies: Vec<ir::Ir> = backends.iter().skip(1).map(|_| ir.clone()).collect();
    copies.push(ir);
    let written: Vec<(Vec<emit::GeneratedFile>, Vec<Warning>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = backends
            .iter()
            .zip(copies)
            .map(|(backend, mut own)| {
                spawn_scoped(scope, move || {
                    let mut warnings = Vec::new();
                    backend.name(&mut own, &mut warnings);
                    (backend.emit(&own, &mut warnings), warnings)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    let mut files = Vec::new();
    let mut counts = Vec::new();
    for (backend, (written, mut backend_warnings)) in backends.iter().zip(written) {
        warnings.append(&mut backend_warnings);
        counts.push((backend.label(), written.len()));
        let folder = backend.folder();
        files.extend(
            written.into_iter().map(|f| GeneratedFile { path: format!("{folder}/{}", f.path), contents: f.contents }),
        );
    }
    let summary = Summary { definitions, types, namespaces, files: counts };
    Ok(Output { files, summary, warnings })
}

/// The backends `options` asks for, configured, in the order their files are listed.
fn backends(options: &Options, header: &[String]) -> Vec<Box<dyn emit::Backend>> {
    let release = options.codex_version.clone().unwrap_or_else(Release::unknown);
    let backend = |language: Language| -> Box<dyn emit::Backend> {
        match language {
            Language::Rust => Box::new(emit::rust::CrateOptions {
                crate_name: options.rust_crate_name.clone(),
                release: release.clone(),
                metadata: options.metadata.clone(),
                header: header.to_vec(),
            }),
            Language::Python => Box::new(emit::python::PackageOptions {
                distribution: options.python_distribution.clone(),
                package: options.python_package.clone(),
                release: release.clone(),
                metadata: options.metadata.clone(),
                header: header.to_vec(),
            }),
        }
    };
    Language::ALL.iter().copied().filter(|l| options.languages.contains(l)).map(backend).collect()
}

/// The lines every file opens with, as comments. They name the command and the schema file, whose paths may
/// hold anything a file name can: each line is kept one line, with no character a comment cannot hold.
fn header(ir: &ir::Ir, options: &Options) -> Vec<String> {
    let release = match (&options.codex_version, options.experimental) {
        (Some(v), false) => format!(", Codex {v}"),
        (Some(v), true) => format!(", Codex {v} (--experimental)"),
        (None, true) => " (--experimental)".into(),
        (None, false) => String::new(),
    };
    vec![
        one_line(&format!("Generated by `{}`. Do not edit by hand.", options.command)),
        one_line(&format!("Schema: {}{release}, sha256 {}.", ir.source.file_name, ir.source.sha256)),
    ]
}

/// `text` with line breaks, other control characters and direction-changing characters written as
/// `\u{..}` escapes: a comment line cannot be ended early, nor shown otherwise than it reads.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || emit::is_bidi_control(c) {
                c.escape_unicode().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_without_definitions_has_its_root_type_in_both_languages() {
        let schema =
            r#"{"title": "Point", "type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]}"#;
        let output = generate_from_text(Path::new("point.json"), schema, &Options::default()).unwrap();
        let file = |path: &str| {
            let file = output.files.iter().find(|f| f.path == path).unwrap_or_else(|| panic!("{path} is missing"));
            file.contents.as_str()
        };
        assert!(file("rust/src/lib.rs").contains("pub struct Point {"));
        assert!(file("python/codex_app_server_types/_models/point.py").contains("class Point(WireModel):"));
        assert_eq!((output.summary.types, output.summary.namespaces), (1, 1));
    }

    #[test]
    fn line_breaks_in_the_file_name_or_command_stay_in_the_header_comment() {
        let schema = r#"{"definitions": {"A": {"type": "object", "properties": {"x": {"type": "string"}}}}}"#;
        let options =
            Options { command: "codegen generate --out 'x\ny'\r\n#![no_std] x = 1".into(), ..Options::default() };
        let output = generate_from_text(Path::new("dir/a\u{2028}b\n.json"), schema, &options).unwrap();
        // The README and the license are prose for a registry's page, with no header.
        let prose = |path: &str| path.ends_with("README.md") || path.ends_with("LICENSE");
        for file in output.files.iter().filter(|f| !f.contents.is_empty() && !prose(&f.path)) {
            if file.path.ends_with(".rs") {
                syn::parse_file(&file.contents).unwrap_or_else(|e| panic!("{}: {e}\n{}", file.path, file.contents));
            }
            let comment = if file.path.ends_with(".rs") { "//" } else { "#" };
            let header: Vec<&str> = file.contents.lines().take_while(|l| l.starts_with(comment)).collect();
            assert!(header.iter().any(|l| l.contains("x = 1")), "{}:\n{}", file.path, file.contents);
        }
    }
}
