//! The Python backend: a pydantic v2 package. View-models are prepared here, in Rust; the minijinja
//! templates in `templates/python/` only print them.
//!
//! Layout: `<package>/__init__.py` re-exports the top-level namespace lazily, `<package>/_types.py` holds
//! its classes; each nested namespace is a subpackage with the same two files. Importing the package
//! therefore builds no model; the first use of a name imports the module that defines it, and pydantic
//! builds each model's validator on first use (`defer_build`).

mod layout;
mod literals;
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
    /// The first lines of every file: which command wrote it, from which schema.
    pub header: Vec<String>,
}

const TEMPLATES: &[(&str, &str)] = &[
    ("types.py", include_str!("../../../../templates/python/types.py.jinja")),
    ("init.py", include_str!("../../../../templates/python/init.py.jinja")),
    ("base.py", include_str!("../../../../templates/python/base.py.jinja")),
    ("pyproject.toml", include_str!("../../../../templates/python/pyproject.toml.jinja")),
    ("rpc.py", include_str!("../../../../templates/python/rpc.py.jinja")),
];

/// Emits the package: `pyproject.toml`, per namespace an `__init__.py` and a `_types.py`, and `rpc.py` when
/// the schema has the method tables.
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
    for index in 0..ir.namespaces.len() {
        let ns = NamespaceId(index);
        let dir: Vec<&str> = std::iter::once(package.as_str())
            .chain(ir.namespaces[index].modules.iter().map(|m| m.python.as_str()))
            .collect();
        let dir = dir.join("/");
        let module = model.module(ns, header);
        files.push(GeneratedFile {
            path: format!("{dir}/__init__.py"),
            contents: render("init.py", Value::from(Serde(&module.init))),
        });
        files.push(GeneratedFile {
            path: format!("{dir}/_types.py"),
            contents: render("types.py", Value::from(Serde(&module.types))),
        });
    }
    if let Some(tables) = &ir.rpc {
        files.push(GeneratedFile {
            path: format!("{package}/rpc.py"),
            contents: render("rpc.py", Value::from(Serde(rpc::view(&model, tables, header)))),
        });
    }
    files
}
