//! The Rust backend: a standalone crate of serde types. Items are written as text in `prettyplease`'s layout
//! (see [`text`]); the few that the text's rules cannot lay out are built with `quote` or parsed back, and
//! printed by `prettyplease`.

mod client;
mod items;
pub mod names;
mod rpc;
mod text;

/// The crate's private `wire` module: the serde helpers the generated types share. It is the same for
/// every schema, so it is a file of its own rather than built token by token.
const WIRE_MODULE: &str = include_str!("wire.rs.txt");

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use super::{doc_lines, GeneratedFile};
use crate::error::Warning;
use crate::ir::*;

/// What the crate is called and what its header says.
#[derive(Debug, Clone)]
pub struct CrateOptions {
    pub crate_name: String,
    /// The Codex release the schema came from ([`crate::package::UNKNOWN_RELEASE`] when not named): the crate's
    /// version and its `CODEX_VERSION`; the client warns about older servers.
    pub release: crate::package::Release,
    /// What `Cargo.toml` tells crates.io, and whether the crate may be published.
    pub metadata: crate::package::Metadata,
    /// The first lines of every file: which command wrote it, from which schema.
    pub header: Vec<String>,
}

impl super::Backend for CrateOptions {
    fn folder(&self) -> &'static str {
        "rust"
    }

    fn label(&self) -> &'static str {
        "Rust"
    }

    fn name(&self, ir: &mut Ir, warnings: &mut Vec<Warning>) {
        names::assign(ir, warnings)
    }

    fn emit(&self, ir: &Ir, warnings: &mut Vec<Warning>) -> Vec<GeneratedFile> {
        emit_named(ir, self, warnings)
    }
}

/// Emits `Cargo.toml` and one source file per namespace, from a model the naming pass has named.
pub fn emit(ir: &Ir, options: &CrateOptions) -> Vec<GeneratedFile> {
    emit_reporting(ir, options, &mut Vec::new())
}

/// [`emit`], adding to `warnings` the names this backend could only tell apart by a number.
pub fn emit_reporting(ir: &Ir, options: &CrateOptions, warnings: &mut Vec<Warning>) -> Vec<GeneratedFile> {
    // The Rust names of modules and members are this backend's: it names its own copy of the model.
    let mut named = ir.clone();
    names::assign(&mut named, warnings);
    emit_named(&named, options, warnings)
}

/// [`emit`] from a model [`names::assign`] has named.
fn emit_named(ir: &Ir, options: &CrateOptions, warnings: &mut Vec<Warning>) -> Vec<GeneratedFile> {
    let functions = ir.rpc.as_ref().map(|rpc| names::functions(rpc, warnings)).unwrap_or_default();
    // Every namespace's items, in output order, cut into chunks that are printed in parallel.
    let mut chunks: Vec<Chunk> = Vec::new();
    for index in 0..ir.namespaces.len() {
        let id = NamespaceId(index);
        chunks.push(Chunk { namespace: id, preamble: true, types: Vec::new() });
        for types in ir.types_in(id).chunks(CHUNK) {
            chunks.push(Chunk { namespace: id, preamble: false, types: types.to_vec() });
        }
    }
    let header: String = options.header.iter().map(|l| format!("// {l}\n")).collect();
    // The rpc module reads nothing the items write: it is written on a thread of its own meanwhile.
    let (printed, rpc_files) = std::thread::scope(|scope| {
        let rpc_files = scope.spawn(|| {
            let files = rpc::module(ir, &functions).into_iter().flatten();
            let file = |(path, item): (&str, text::ItemText)| GeneratedFile {
                path: path.into(),
                contents: format!("{header}\n{}", separate_items(&laid_out(item))),
            };
            files.map(file).collect::<Vec<_>>()
        });
        let printed = crate::threads::parallel_map(&chunks, |chunk| print_chunk(ir, chunk));
        (printed, rpc_files.join().expect("writing the rpc module does not panic"))
    });

    let client = client::module(ir, &header, &functions).unwrap_or_default();
    let mut files = vec![
        GeneratedFile { path: "Cargo.toml".into(), contents: cargo_toml(options, !client.is_empty()) },
        GeneratedFile { path: "README.md".into(), contents: readme(ir, options, !client.is_empty()) },
        GeneratedFile { path: "rustfmt.toml".into(), contents: rustfmt_toml(options) },
    ];
    if let Some(text) = &options.metadata.license_text {
        files.push(GeneratedFile { path: "LICENSE".into(), contents: text.clone() });
    }
    for (index, ns) in ir.namespaces.iter().enumerate() {
        let mut contents = header.clone();
        let parts = chunks.iter().zip(&printed).filter(|(c, _)| c.namespace.0 == index);
        for (chunk, part) in parts {
            if !part.is_empty() {
                contents.push('\n');
                contents.push_str(part);
            }
            if chunk.preamble && ns.path.is_empty() {
                contents.push('\n');
                contents.push_str(&codex_version_const(&options.release));
            }
        }
        let path = if ns.path.is_empty() {
            "src/lib.rs".to_string()
        } else {
            let modules: Vec<&str> = ns.modules.iter().map(|m| m.ident.trim_start_matches("r#")).collect();
            format!("src/{}.rs", modules.join("/"))
        };
        files.push(GeneratedFile { path, contents });
    }
    files.extend(rpc_files);
    files.push(GeneratedFile { path: "src/wire.rs".into(), contents: format!("{header}\n{WIRE_MODULE}") });
    files.extend(client.into_iter().map(|(path, contents)| GeneratedFile { path, contents }));
    files
}

/// Items per chunk: small enough to share the work among threads, large enough to keep overhead low.
const CHUNK: usize = 48;

/// A run of one namespace's items, or its preamble (crate docs, lint settings, modules).
struct Chunk {
    namespace: NamespaceId,
    preamble: bool,
    types: Vec<TypeId>,
}

/// A chunk's items, printed: text items as they are (or laid out by prettyplease when they ask for it),
/// runs of token items through `syn` and prettyplease.
fn print_chunk(ir: &Ir, chunk: &Chunk) -> String {
    let mut code = String::new();
    let mut tokens = preamble(ir, chunk);
    let ctx = items::Ctx { ir, namespace: Some(chunk.namespace) };
    let mut items = Vec::new();
    for ty in &chunk.types {
        items.clear();
        items::item(&ctx, *ty, &mut items);
        for item in items.drain(..) {
            match item {
                items::Item::Tokens(t) => tokens.extend(t),
                items::Item::Text(t) => {
                    code.push_str(&print(std::mem::take(&mut tokens)));
                    code.push_str(&laid_out(t));
                }
            }
        }
    }
    code.push_str(&print(tokens));
    separate_items(&code)
}

/// The crate docs, lint settings and module declarations that open a namespace's file.
fn preamble(ir: &Ir, chunk: &Chunk) -> TokenStream {
    let id = chunk.namespace;
    let mut body = TokenStream::new();
    if chunk.preamble {
        let is_root = ir.namespaces[id.0].path.is_empty();
        if is_root {
            let doc = doc_attrs(
                &format!(
                    "Types of the Codex app-server protocol, generated from `{}`.\n\nTop-level definitions are at the crate root; nested definition groups are modules.",
                    ir.source.file_name
                ),
                true,
            );
            body.extend(quote! {
                #doc
                // Variants carry whole messages, constructors take every required field, and descriptions are
                // the schema's own prose.
                #![allow(clippy::large_enum_variant, clippy::doc_lazy_continuation, clippy::doc_overindented_list_items, clippy::enum_variant_names, clippy::tabs_in_doc_comments, clippy::needless_doctest_main, clippy::too_many_arguments)]
                #![allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags, rustdoc::bare_urls, rustdoc::invalid_rust_codeblocks)]
            });
        }
        for child in ir.children(id) {
            let m = ident(&ir.namespaces[child.0].modules.last().expect("a nested namespace has a module").ident);
            body.extend(quote! { pub mod #m; });
        }
        if is_root {
            if let Some(limit) = recursion_limit(ir) {
                let limit = limit.to_string();
                body.extend(quote! {
                    // Types are nested deeper than rustc's checks follow by default.
                    #![recursion_limit = #limit]
                });
            }
            if ir.rpc.is_some() {
                body.extend(quote! { pub mod rpc; });
            }
            if client::supported(ir) {
                body.extend(quote! {
                    #[cfg(feature = "client")]
                    pub mod client;
                });
            }
            body.extend(quote! { mod wire; });
        }
    }
    body
}

/// The crate's `recursion_limit`, when its default (128) is too low for the types.
///
/// rustc follows types held inside one another (laying them out, checking what dropping them needs) about two
/// levels of its limit per level of nesting, through `Vec`s and maps too, so objects nested 64 deep already
/// need more than the default. Twice that, as a power of two, leaves room for the serde impls.
fn recursion_limit(ir: &Ir) -> Option<usize> {
    let needed = 4 * nesting_depth(ir);
    (needed > 128).then(|| needed.next_power_of_two())
}

/// The longest chain of types held inside one another ([`Ir::contained`]); a cycle, closed through a `Vec` or
/// a map, counts once. Iterative: chains through `$ref`s can be as long as the schema has definitions.
fn nesting_depth(ir: &Ir) -> usize {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        Open,
        Done(usize),
    }
    let mut state = vec![State::New; ir.types.len()];
    let mut deepest = 0;
    for root in 0..ir.types.len() {
        if state[root] != State::New {
            continue;
        }
        state[root] = State::Open;
        // Each open type: what it holds, how many of those were looked at, the deepest of them.
        let mut open = vec![(root, ir.contained(TypeId(root)), 0, 0)];
        while let Some(top) = open.len().checked_sub(1) {
            let (id, ref held, next, below) = open[top];
            if let Some(child) = held.get(next).map(|t| t.0) {
                open[top].2 += 1;
                match state[child] {
                    State::Done(depth) => open[top].3 = below.max(depth),
                    // A cycle: the type is already on the chain.
                    State::Open => {}
                    State::New => {
                        state[child] = State::Open;
                        open.push((child, ir.contained(TypeId(child)), 0, 0));
                    }
                }
                continue;
            }
            let depth = below + 1;
            state[id] = State::Done(depth);
            deepest = deepest.max(depth);
            open.pop();
            if let Some(parent) = open.last_mut() {
                parent.3 = parent.3.max(depth);
            }
        }
    }
    deepest
}

/// The crate keeps the layout it is generated in (prettyplease's): `cargo fmt` in a workspace holding it, and a
/// drift check after it, leave it as it is.
fn rustfmt_toml(options: &CrateOptions) -> String {
    let header: String = options.header.iter().map(|l| format!("# {l}\n")).collect();
    format!("{header}disable_all_formatting = true\n")
}

/// The crate root's `CODEX_VERSION`.
fn codex_version_const(release: &crate::package::Release) -> String {
    format!(
        "/// The Codex release whose schema these bindings were generated from, as Codex tags it (`{}` when it was \
         not named); the crate's version.\npub const CODEX_VERSION: &str = {:?};\n",
        crate::package::UNKNOWN_RELEASE,
        release.semver()
    )
}

/// A TOML basic string (JSON's escapes are TOML's).
fn toml_string(text: &str) -> String {
    serde_json::to_string(text).expect("a string serialises")
}

fn cargo_toml(options: &CrateOptions, client: bool) -> String {
    let header: String = options.header.iter().map(|l| format!("# {l}\n")).collect();
    let m = &options.metadata;
    let list = |items: &[String]| items.iter().map(|i| toml_string(i)).collect::<Vec<_>>().join(", ");
    let mut package = vec![
        format!("name = {}", toml_string(&options.crate_name)),
        format!("version = {}", toml_string(&options.release.semver())),
        "edition = \"2021\"".into(),
        format!("description = {}", toml_string(&m.description_for(&options.release))),
        format!("license = {}", toml_string(&m.license)),
        "readme = \"README.md\"".into(),
    ];
    if let Some(url) = &m.repository {
        package.push(format!("repository = {}", toml_string(url)));
    }
    if let Some(url) = &m.homepage {
        package.push(format!("homepage = {}", toml_string(url)));
    }
    if !m.authors.is_empty() {
        package.push(format!("authors = [{}]", list(&m.authors)));
    }
    if !m.keywords.is_empty() {
        package.push(format!("keywords = [{}]", list(&m.keywords)));
    }
    package.push("categories = [\"api-bindings\"]".into());
    if !m.publish {
        package.push("publish = false".into());
    }
    let mut text = format!(
        "{header}[package]\n{}\n\n[lib]\n# Descriptions are schema prose, not examples.\ndoctest = false\n\n[dependencies]\nserde = {{ version = \"1.0.181\", features = [\"derive\"] }}\nserde_json = {{ version = \"1.0.108\", features = [\"raw_value\"] }}\nserde_path_to_error = {{ version = \"0.1\", optional = true }}\n",
        package.join("\n")
    );
    if client {
        text.push_str(CLIENT_DEPENDENCIES);
    }
    text.push_str(PATH_FEATURES);
    if client {
        text.push_str(CLIENT_FEATURES);
        text.push_str("\n[package.metadata.docs.rs]\nall-features = true\n");
    }
    text
}

/// The crate's README (crates.io shows it): what it is, which release it binds, how to use it.
fn readme(ir: &Ir, options: &CrateOptions, client: bool) -> String {
    let name = &options.crate_name;
    let lib = name.replace('-', "_");
    let release = &options.release;
    let m = &options.metadata;
    let mut text = format!("# {name}\n\n{}.\n\n", m.description_for(release).trim_end_matches('.'));
    if release.is_unknown() {
        text.push_str(&crate::package::unnamed_release_line(&ir.source.file_name, &ir.source.sha256));
    } else {
        text.push_str(&format!(
            "Generated from the app-server protocol schema of Codex {release} (`{}`, sha256 `{}`). The crate's \
             version is the Codex release it binds (`{lib}::CODEX_VERSION`); a Codex pre-release `X.Y.Z-alpha.N` \
             is the same version here.\n",
            ir.source.file_name, ir.source.sha256
        ));
    }
    text.push_str(&format!(
        "\n```toml\n[dependencies]\n{name} = \"={}\"{}\n```\n",
        release.semver(),
        if client { " # features: \"client\", \"blocking\", \"ws\"" } else { "" }
    ));
    text.push_str(
        "\nEvery definition of the schema is a serde type: top-level definitions at the crate root, nested groups \
         as modules. Unknown enum values and union variants are kept, not rejected.\n",
    );
    if ir.rpc.is_some() {
        text.push_str(&format!(
            "The `rpc` module has one marker type per method and `{lib}::rpc::decode_server_message` for what the \
             server sends.\n"
        ));
    }
    if client {
        text.push_str(&format!(
            "\nWith the `client` feature, `{lib}::client::Codex` starts `codex app-server` and talks to it (`blocking`: \
             the same without async; `ws`: over a websocket). It runs the `codex` of `CodexConfig::codex_bin`, else \
             `$CODEX_BIN`, else Codex {release} from the cache of the generator's `cargo xtask codex-binary`, else \
             `codex` on `PATH`; it downloads nothing. Its `initialize` names the client `{name}` version \
             {}.\n",
            release.semver()
        ));
    }
    text.push_str(&format!("\n## License\n\n{}\n", m.license));
    text
}

/// The client runtime's dependencies and features (see `client.rs`): optional, so that a types-only build pulls
/// nothing but serde and serde_json.
const CLIENT_DEPENDENCIES: &str = r#"
# The client runtime (`client`, `blocking`, `ws` features); a types-only build needs none of these.
futures-core = { version = "0.3", optional = true }
futures-util = { version = "0.3", default-features = false, features = ["sink"], optional = true }
tokio = { version = "1.38", features = ["io-util", "macros", "process", "rt", "sync", "time"], optional = true }
tokio-tungstenite = { version = "0.28", optional = true }
tracing = { version = "0.1", optional = true }
"#;

/// The features every crate has: with `--no-default-features` a types-only build needs only serde and serde_json.
const PATH_FEATURES: &str = r#"
[features]
default = ["error-paths"]
# Decode errors name the JSON path where a message does not fit its type (`params.turn.id`); without it, the
# member (`params`).
error-paths = ["dep:serde_path_to_error"]
"#;

/// The client runtime's features.
const CLIENT_FEATURES: &str = r#"# The async client (`client::Codex`), on tokio.
client = ["error-paths", "dep:futures-core", "dep:tokio", "dep:tracing"]
# `client::blocking`: the same API without async; it runs its own runtime on a thread of its own.
blocking = ["client"]
# Connecting to `codex app-server --listen ws://...` with `CodexConfig::url`.
ws = ["client", "dep:futures-util", "dep:tokio-tungstenite", "tokio/net"]
"#;

/// Text as prettyplease prints it: as written, or laid out by prettyplease when the text asks for it.
fn laid_out(item: text::ItemText) -> String {
    if !item.needs_layout {
        return item.text;
    }
    let file = syn::parse_file(&item.text).expect("the emitter writes valid Rust");
    prettyplease::unparse(&file)
}

fn print(body: TokenStream) -> String {
    if body.is_empty() {
        return String::new();
    }
    let file: syn::File = syn::parse2(body).expect("the emitter builds valid Rust");
    prettyplease::unparse(&file)
}

/// prettyplease prints top-level items back to back; a blank line after each one that ends reads better.
fn separate_items(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 20);
    let mut previous_closed = false;
    for line in code.lines() {
        let starts_item = !line.starts_with([' ', '}', ')']) && !line.is_empty();
        if previous_closed && starts_item {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        // Consecutive `use` lines stay together. A doc line ending in `}` or `;` ends no item: a blank line
        // after it would part the doc from its item.
        previous_closed = !line.starts_with(' ')
            && !line.starts_with("//")
            && (line.ends_with('}') || (line.ends_with(';') && !line.starts_with("use ")));
    }
    out
}

/// An identifier as the naming pass decided it (raw identifiers included).
pub(crate) fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => format_ident!("{}", name),
    }
}

/// One `#[doc]` per line, so prettyplease prints `///` lines; `inner` for `//!`.
pub(crate) fn doc_attrs(doc: &str, inner: bool) -> TokenStream {
    let mut out = TokenStream::new();
    for line in doc_lines(doc) {
        let text = if line.is_empty() { String::new() } else { format!(" {line}") };
        if inner {
            out.extend(quote! { #![doc = #text] });
        } else {
            out.extend(quote! { #[doc = #text] });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::items::{self, Item};
    use super::text::ItemText;
    use super::{rpc, separate_items};
    use crate::ir::{Ir, NamespaceId};

    fn test_functions(ir: &Ir) -> crate::naming::MethodFunctions {
        ir.rpc.as_ref().map(|rpc| super::names::functions(rpc, &mut Vec::new())).unwrap_or_default()
    }

    /// The IR of the pinned schema and of every fixture, with the schema's path.
    fn schemas() -> impl Iterator<Item = (String, Ir)> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
        let mut schemas = vec![root.join("schema/codex_app_server_protocol.schemas.json")];
        for entry in std::fs::read_dir(root.join("tests/fixtures/schemas")).expect("the fixtures") {
            schemas.push(entry.expect("a fixture").path());
        }
        schemas.retain(|p| p.extension().is_some_and(|e| e == "json"));
        schemas.into_iter().map(|path| {
            let text = std::fs::read_to_string(&path).expect("a schema");
            let ir = crate::model(&path, &text).expect("a valid schema").named_for(crate::Language::Rust);
            (path.display().to_string(), ir)
        })
    }

    /// Panics, naming the first line that differs, unless `text` is what prettyplease prints for it; blank
    /// lines are compared as `emit` writes them, after `separate_items`.
    fn assert_prettyplease_layout(what: &str, text: &str) {
        let file = syn::parse_file(text).expect("valid Rust");
        let printed = separate_items(&prettyplease::unparse(&file));
        let written = separate_items(text);
        if let Some((ours, theirs)) = written.lines().zip(printed.lines()).find(|(a, b)| a != b) {
            panic!("{what}: written\n{ours}\nbut prettyplease prints\n{theirs}");
        }
        assert_eq!(printed, written, "{what}");
    }

    /// Every item written as text (but the `string_enum!` invocations, which prettyplease leaves as
    /// they are) is exactly what prettyplease prints for it, on the pinned schema and every fixture.
    #[test]
    fn text_items_are_in_prettyplease_layout() {
        let mut checked = 0;
        for (path, ir) in schemas() {
            for ns in 0..ir.namespaces.len() {
                let ctx = items::Ctx { ir: &ir, namespace: Some(NamespaceId(ns)) };
                for &ty in ir.types_in(NamespaceId(ns)) {
                    let mut out = Vec::new();
                    items::item(&ctx, ty, &mut out);
                    for item in out {
                        let Item::Text(t) = item else { continue };
                        if t.needs_layout || t.text.starts_with("crate::wire::string_enum!") {
                            continue;
                        }
                        assert_prettyplease_layout(&path, &t.text);
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000, "{checked} items checked");
    }

    /// The `rpc` module's files are written in prettyplease's layout; on the pinned schema (and the fixture
    /// with method tables) without any line that prettyplease would have to lay out itself.
    #[test]
    fn rpc_module_is_in_prettyplease_layout() {
        let mut checked = 0;
        for (path, ir) in schemas() {
            for (file, item) in rpc::module(&ir, &test_functions(&ir)).into_iter().flatten() {
                let what = format!("{path}: {file}");
                assert!(!item.needs_layout, "{what} has a line past the margin");
                assert_prettyplease_layout(&what, &item.text);
                checked += 1;
            }
        }
        assert!(checked >= 6, "{checked} files checked");
    }

    /// A schema with one method of each kind (client and server requests with params, optional params and
    /// none; notifications), every name and type name `length` letters long.
    fn methods_schema(length: usize) -> String {
        let name = |first: char| format!("{first}{}", "x".repeat(length - 1));
        let message = |method: &str, id: bool, params: Option<(&str, bool)>| {
            let mut properties = serde_json::json!({ "method": { "type": "string", "enum": [method] } });
            let mut required = vec!["method"];
            if id {
                properties["id"] = serde_json::json!({ "$ref": "#/definitions/RequestId" });
                required.push("id");
            }
            if let Some((params, is_required)) = params {
                properties["params"] = serde_json::json!({ "$ref": format!("#/definitions/v2/{params}") });
                if is_required {
                    required.push("params");
                }
            }
            serde_json::json!({ "type": "object", "properties": properties, "required": required })
        };
        let object = serde_json::json!({ "type": "object", "properties": { "a": { "type": "string" } } });
        let mut v2 = serde_json::Map::new();
        let mut type_pair = |base: &str| {
            v2.insert(format!("{base}Params"), object.clone());
            v2.insert(format!("{base}Response"), object.clone());
            format!("{base}Params")
        };
        let (a, b, c, d) = (name('a'), name('b'), name('c'), name('d'));
        let (pa, pb, pd) = (
            type_pair(&format!("A{}", &a[1..])),
            type_pair(&format!("B{}", &b[1..])),
            type_pair(&format!("D{}", &d[1..])),
        );
        // A request without params finds its result by its own name.
        v2.insert(format!("C{}Response", &c[1..]), object.clone());
        let schema = serde_json::json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {
                "RequestId": { "anyOf": [{ "type": "string" }, { "type": "integer", "format": "int64" }] },
                "ClientRequest": { "oneOf": [message(&a, true, Some((&pa, true))), message(&b, true, Some((&pb, false))), message(&c, true, None)] },
                "ServerRequest": { "oneOf": [message(&d, true, Some((&pd, true))), message(&c, true, None)] },
                "ServerNotification": { "oneOf": [message(&a, false, Some((&pa, true))), message(&c, false, None)] },
                "ClientNotification": { "oneOf": [message(&c, false, None)] },
                "v2": v2,
            }
        });
        schema.to_string()
    }

    /// Names of every length, from those that keep each line whole to those that break every line that
    /// can be broken: the text is prettyplease's layout wherever it does not leave the file to prettyplease.
    #[test]
    fn rpc_module_is_in_prettyplease_layout_for_names_of_any_length() {
        let mut written = 0;
        for length in 1..=70 {
            let text = methods_schema(length);
            let ir = crate::model(Path::new("methods.json"), &text)
                .expect("a valid schema")
                .named_for(crate::Language::Rust);
            let files = rpc::module(&ir, &test_functions(&ir)).expect("method tables");
            for (file, item) in files {
                if item.needs_layout {
                    continue;
                }
                assert_prettyplease_layout(&format!("names of {length}: {file}"), &item.text);
                written += 1;
            }
        }
        // Past about 40 letters some line can no longer be broken (a long pattern, `impl ... for`, a
        // type path of its own): those files are laid out by prettyplease.
        assert!(written >= 130, "{written} files written as text");
    }

    #[test]
    fn text_past_the_margin_is_left_to_prettyplease() {
        let mut item = ItemText::default();
        let body = format!("let _ = {};", "x".repeat(90));
        item.line(0, &["fn f() { ", &body, " }"]);
        assert!(item.needs_layout);
        assert_eq!(super::laid_out(item), format!("fn f() {{\n    {body}\n}}\n"));
    }
}
