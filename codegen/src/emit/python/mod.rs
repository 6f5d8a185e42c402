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
mod rpc;
mod views;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::{Environment, Value};

use super::GeneratedFile;
use crate::ir::*;

/// What the package is called and what its header says.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// The distribution name in `pyproject.toml`.
    pub distribution: String,
    /// The import name.
    pub package: String,
    pub version: String,
    /// The Codex release of the schema, when known: the client runtime warns about older servers.
    pub codex_version: Option<String>,
    /// The first lines of every file: which command wrote it, from which schema.
    pub header: Vec<String>,
}

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

/// Emits the package: `pyproject.toml`, per namespace an `__init__.py` and its `_models` package, `rpc.py` when
/// the schema has the method tables, and the client runtime `client/` when they hold what it needs
/// (`client::supported`).
pub fn emit(ir: &Ir, options: &PackageOptions) -> Vec<GeneratedFile> {
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
    ];
    let model = views::Model::new(ir);
    let entry_points = ir.rpc.as_ref().map(|tables| rpc::entry_points(&model, tables)).unwrap_or_default();
    let namespaces = modules::layout(&model, &entry_points, header);
    let rpc_view = ir.rpc.as_ref().map(|tables| rpc::view(&model, tables, header));
    let client_view = ir
        .rpc
        .as_ref()
        .filter(|tables| client::supported(tables))
        .map(|tables| client::view(&model, tables, header, &options.version, options.codex_version.as_deref()));
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
            .chain(ir.namespaces[ns_files.ns.0].modules.iter().map(|m| m.python.as_str()))
            .collect();
        let dir = dir.join("/");
        jobs.push((format!("{dir}/__init__.py"), View::Init(&ns_files.init)));
        jobs.push((format!("{dir}/_models/__init__.py"), View::Models(&ns_files.models)));
        for (module, view) in &ns_files.modules {
            jobs.push((format!("{dir}/_models/{module}.py"), View::Types(view)));
        }
    }
    let mut rendered = super::parallel_map(&jobs, |(path, view)| GeneratedFile {
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
