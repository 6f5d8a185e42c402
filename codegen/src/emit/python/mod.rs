//! The Python backend: a pydantic v2 package. View-models are prepared here, in Rust; the minijinja
//! templates in `templates/python/` only print them.
//!
//! Layout: `<package>/__init__.py` re-exports the top-level namespace lazily, and `<package>/_models/` holds
//! its definitions, in modules cut by what reaches them (`modules`); each nested namespace is a subpackage
//! laid out the same way. Importing the package therefore builds no model; the first use of a name imports
//! the modules it reaches, and pydantic builds each model's validator on first use (`defer_build`).

mod client;
mod layout;
mod literals;
mod modules;
pub mod names;
mod options;
mod rpc;
mod views;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, Value};

use super::GeneratedFile;
use crate::error::Warning;
use crate::ir::*;
pub use options::PackageOptions;

const TEMPLATES: &[(&str, &str)] = &[
    ("types.py", include_str!("../../../../templates/python/types.py.jinja")),
    ("init.py", include_str!("../../../../templates/python/init.py.jinja")),
    ("models_init.py", include_str!("../../../../templates/python/models_init.py.jinja")),
    ("base.py", include_str!("../../../../templates/python/base.py.jinja")),
    ("pyproject.toml", include_str!("../../../../templates/python/pyproject.toml.jinja")),
    ("rpc.py", include_str!("../../../../templates/python/rpc.py.jinja")),
    ("client.py", include_str!("../../../../templates/python/client.py.jinja")),
];

/// A view and the template that prints it.
enum View<'a> {
    Init(&'a modules::InitView),
    Models(&'a modules::ModelsView),
    Types(&'a modules::TypesView),
    Rpc(&'a rpc::RpcView),
    Client(&'a client::ClientView),
}

impl super::Backend for PackageOptions {
    fn folder(&self) -> &'static str {
        "python"
    }

    fn label(&self) -> &'static str {
        "Python"
    }

    fn name(&self, ir: &mut Ir, warnings: &mut Vec<Warning>) {
        names::assign(ir, warnings)
    }

    fn emit(&self, ir: &Ir, warnings: &mut Vec<Warning>) -> Vec<GeneratedFile> {
        emit_named(ir, self, warnings)
    }
}

/// Emits the package: `pyproject.toml`, per namespace an `__init__.py` and its `_models` package, `rpc.py` when
/// the schema has the method tables, and the client runtime `client/` when they hold what it needs
/// (`client::supported`); from a model the naming pass has named.
pub fn emit(ir: &Ir, options: &PackageOptions) -> Vec<GeneratedFile> {
    emit_reporting(ir, options, &mut Vec::new())
}

/// [`emit`], adding to `warnings` the names this backend could only tell apart by a number.
pub fn emit_reporting(ir: &Ir, options: &PackageOptions, warnings: &mut Vec<Warning>) -> Vec<GeneratedFile> {
    // The Python names are this backend's: it names its own copy of the model.
    let mut named = ir.clone();
    names::assign(&mut named, warnings);
    emit_named(&named, options, warnings)
}

/// [`emit`] from a model [`names::assign`] has named.
fn emit_named(ir: &Ir, options: &PackageOptions, warnings: &mut Vec<Warning>) -> Vec<GeneratedFile> {
    let functions = ir.rpc.as_ref().map(|rpc| names::functions(rpc, warnings)).unwrap_or_default();
    let mut env = Environment::new();
    let syntax = SyntaxConfig::builder()
        .trim_blocks(true)
        .lstrip_blocks(true)
        .keep_trailing_newline(true)
        .build()
        .expect("the syntax settings are valid");
    env.set_syntax(syntax);
    for (name, source) in TEMPLATES {
        env.add_template(name, source).expect("the Python templates are valid");
    }
    let render = |template: &str, view: Value| -> String {
        env.get_template(template)
            .and_then(|t| t.render(view))
            .unwrap_or_else(|e| panic!("template {template} failed to render: {e:#}"))
    };
    let header = &options.header;
    let package = &options.package;
    let mut files = vec![
        GeneratedFile {
            path: "pyproject.toml".into(),
            contents: render("pyproject.toml", minijinja::context! { options => Serde(views::options(options)) }),
        },
        GeneratedFile {
            path: format!("{package}/_base.py"),
            contents: render("base.py", minijinja::context! { header => header }),
        },
        GeneratedFile { path: format!("{package}/py.typed"), contents: String::new() },
        GeneratedFile { path: "README.md".into(), contents: readme(ir, options) },
    ];
    if let Some(text) = &options.metadata.license_text {
        files.push(GeneratedFile { path: "LICENSE".into(), contents: text.clone() });
    }
    let model = views::Model::new(ir);
    // In one direction: the classes the method tables name, then the modules laid out from them, then `rpc.py`.
    let tables = ir.rpc.as_ref().map(|tables| (tables, rpc::Classes::new(ir, tables)));
    let entry_points = tables.as_ref().map(|(t, classes)| classes.entry_points(ir, t)).unwrap_or_default();
    let versions = (literals::string(&options.release.pep440()), literals::string(&options.release.semver()));
    let namespaces = modules::layout(&model, &entry_points, header, &versions);
    let rpc_view = tables.as_ref().map(|(t, classes)| rpc::view(&model, t, classes, &functions, header));
    let client_view = tables
        .as_ref()
        .filter(|(t, _)| client::supported(t))
        .map(|(t, classes)| client::view(&model, t, classes, &functions, header));
    // `rpc.py`, the largest file, is rendered first so that no thread starts it last; it is written last.
    let mut jobs: Vec<(String, View<'_>)> = Vec::new();
    if let Some(view) = &rpc_view {
        jobs.push((format!("{package}/rpc.py"), View::Rpc(view)));
    }
    if let Some(view) = &client_view {
        jobs.push((format!("{package}/client/_generated.py"), View::Client(view)));
    }
    for ns_files in &namespaces {
        let dir: Vec<&str> = std::iter::once(package.as_str())
            .chain(ir.namespaces[ns_files.ns.0].modules.iter().map(|m| m.ident.as_str()))
            .collect();
        let dir = dir.join("/");
        jobs.push((format!("{dir}/__init__.py"), View::Init(&ns_files.init)));
        jobs.push((format!("{dir}/_models/__init__.py"), View::Models(&ns_files.models)));
        for (module, view) in &ns_files.modules {
            jobs.push((format!("{dir}/_models/{module}.py"), View::Types(view)));
        }
    }
    let mut rendered = crate::threads::parallel_map(&jobs, |(path, view)| GeneratedFile {
        path: path.clone(),
        contents: match view {
            View::Init(v) => render("init.py", Value::from(Serde(v))),
            View::Models(v) => render("models_init.py", Value::from(Serde(v))),
            View::Types(v) => render("types.py", Value::from(Serde(v))),
            View::Rpc(v) => render("rpc.py", Value::from(Serde(v))),
            View::Client(v) => render("client.py", Value::from(Serde(v))),
        },
    });
    if rpc_view.is_some() {
        rendered.rotate_left(1);
    }
    files.extend(rendered);
    if client_view.is_some() {
        files.extend(client::runtime_files(package, header));
    }
    files
}

/// The package's README (PyPI shows it): what it is, which release it binds, how to install it.
fn readme(ir: &Ir, options: &PackageOptions) -> String {
    let release = &options.release;
    let m = &options.metadata;
    let (dist, package) = (&options.distribution, &options.package);
    let mut text = format!("# {dist}\n\n{}.\n\n", m.description_for(release).trim_end_matches('.'));
    if release.is_unknown() {
        text.push_str(&crate::package::unnamed_release_line(&ir.source.file_name, &ir.source.sha256));
    } else {
        text.push_str(&format!(
            "Generated from the app-server protocol schema of Codex {release} (`{}`, sha256 `{}`). The package's \
             version is the Codex release it binds, in PEP 440's spelling: `{package}.__version__` is `{}`, \
             `{package}.CODEX_VERSION` is `{}` (a Codex pre-release `X.Y.Z-alpha.N` is `X.Y.ZaN` here).\n",
            ir.source.file_name,
            ir.source.sha256,
            release.pep440(),
            release.semver()
        ));
    }
    text.push_str(&format!("\n```sh\npip install \"{dist}=={}\"\n", release.pep440()));
    if m.runtime_extra {
        text.push_str(&format!(
            "pip install \"{dist}[runtime]=={}\"   # with the Codex binary of the same release ({}=={})\n",
            release.pep440(),
            views::RUNTIME_DISTRIBUTION,
            release.pep440()
        ));
    }
    text.push_str("```\n\nEvery definition of the schema is a pydantic v2 model; wire names are aliases, unknown enum values and union variants are kept.\n");
    if ir.rpc.as_ref().is_some_and(client::supported) {
        text.push_str(&format!(
            "\n`{package}.client.Codex` starts `codex app-server` and talks to it. It runs `CodexConfig.codex_bin`, \
             else `$CODEX_BIN`, else the binary of the `runtime` extra when it is installed, else `codex` on `PATH`; \
             it downloads nothing. Its `initialize` reports the package's version, `{}`.\n",
            release.pep440()
        ));
    }
    text.push_str(&format!("\n## License\n\n{}\n", m.license));
    text
}
