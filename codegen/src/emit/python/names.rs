//! Names the Python backend decides itself, and the names its own code defines or imports, which no name
//! from the schema may take. They are declared here, beside the templates (`templates/python/`) and the
//! modules (`modules.rs`) that use them; a test reads the templates and fails on a method not listed.

use std::collections::{HashMap, HashSet};

use crate::error::Warning;
use crate::ir::rpc::Rpc;
use crate::ir::*;
use crate::naming::idents::{python_field, python_function, python_module, python_name, python_type, shouty, snake};
use crate::naming::{module_names, numbered_member, unique, Case, MethodFunctions};

/// The names a module of models may import from `typing`.
pub const TYPING: &[&str] = &["Annotated", "Any", "ClassVar", "Literal", "TypeAlias", "Union"];
/// ... from `pydantic`.
pub const PYDANTIC: &[&str] = &["AfterValidator", "ConfigDict", "Field", "RootModel", "Tag"];
/// ... from the package's `_base` (`base.py.jinja`).
pub const BASE: &[&str] = &[
    "ByTag",
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
    "UnknownVariant",
    "WireEnum",
    "WireModel",
];
/// Names the templates' modules import beside those (`TYPE_CHECKING` in every `__init__.py`; `Enum` and
/// `BaseModel` in `_base.py`; `TypeAdapter` in `rpc.py`), and typing names a reader would take for the
/// standard ones.
const OTHER: &[&str] = &["BaseModel", "Discriminator", "Enum", "Optional", "TYPE_CHECKING", "TypeAdapter"];

/// Every name a class must not take, in lists by where it comes from.
pub const RESERVED_TYPES: &[&[&str]] = &[TYPING, PYDANTIC, BASE, OTHER];

/// The methods `rpc.py.jinja`'s client and handler classes define beside one per protocol method:
/// `_request`, `_notify`, `_call` and `_send` of `ClientMethods` and `AsyncClientMethods`, `handle` of
/// `ServerRequestHandler` and `AsyncServerRequestHandler`. A method's function takes none of them.
pub const CLASS_FUNCTIONS: &[&str] = &["handle", "_request", "_notify", "_call", "_send"];

/// The classes of `rpc.py.jinja` that get a method per protocol method.
#[cfg(test)]
const METHOD_CLASSES: &[&str] =
    &["ClientMethods", "AsyncClientMethods", "ServerRequestHandler", "AsyncServerRequestHandler"];

/// The function of each method in the client and handler classes (`thread/start` → `thread_start`).
pub fn functions(rpc: &Rpc, warnings: &mut Vec<Warning>) -> MethodFunctions {
    MethodFunctions::new(rpc, |w| python_function(&snake(w, "method")), CLASS_FUNCTIONS, warnings)
}

/// Decides every Python name of `ir`, a copy of the model this backend names (the `ident` of each [`Name`]):
/// modules, members, classes and the classes only Python has; variants and method markers keep the names
/// every language shares. What could only be told apart by a number is added to `warnings`.
pub fn assign(ir: &mut Ir, warnings: &mut Vec<Warning>) {
    name_modules(ir, warnings);
    // Members first: their messages name a type by the name every language shares.
    for ty in &mut ir.types {
        name_members(ty, warnings);
    }
    assign_classes(ir);
}

/// Where a named type is in the Python package `package`: `package.v2:Thread` (module, then class), in a
/// model [`assign`] has named.
pub fn path(ir: &Ir, id: TypeId, package: &str) -> String {
    let t = ir.get(id);
    let modules = ir.namespaces[t.namespace.0].modules.iter().map(|m| m.ident.as_str());
    let module: Vec<&str> = std::iter::once(package).chain(modules).collect();
    format!("{}:{}", module.join("."), t.name.ident)
}

/// Names every Python class of `ir`: each type's own class keeps the type's name unless the package's own
/// code takes it ([`RESERVED_TYPES`]) or it is a keyword, then gets a `_` suffix until it is unique in its
/// namespace, claimed in [`Ir::claim_order`]; then the classes only Python has.
fn assign_classes(ir: &mut Ir) {
    let mut taken: HashMap<NamespaceId, HashSet<String>> = HashMap::new();
    for id in ir.claim_order.clone() {
        let ty = &mut ir.types[id.0];
        let namespace_taken = taken.entry(ty.namespace).or_default();
        let mut python = python_type(&ty.name.ident, RESERVED_TYPES);
        while namespace_taken.contains(&python) {
            python.push('_');
        }
        namespace_taken.insert(python.clone());
        ty.name.ident = python;
    }
    name_extra_classes(ir, taken);
}

/// Python classes that exist only there: the unknown variant of each tagged union, and the classes that
/// merge an object's fields with each variant of its flattened union. Claimed after every type's own name.
fn name_extra_classes(ir: &mut Ir, mut taken: HashMap<NamespaceId, HashSet<String>>) {
    let references = ir.reference_counts();
    let mut claim = |ns: NamespaceId, wanted: String| -> String {
        let set = taken.entry(ns).or_default();
        // `Unknown{owner}` and `{owner}{variant}` may spell a name the package defines (`UnknownVariant`).
        let mut name = python_type(&wanted, RESERVED_TYPES);
        while set.contains(&name) {
            name.push('_');
        }
        set.insert(name.clone());
        name
    };
    for i in 0..ir.types.len() {
        let ns = ir.types[i].namespace;
        let owner_py = ir.types[i].name.ident.clone();
        let flatten = match &ir.types[i].kind {
            TypeKind::Struct(Struct { flatten: Some(f), .. }) => Some(f.ty),
            _ => None,
        };
        // A tagged union's unknown variant; for a flattened union, it stands for the whole object.
        if let Some(union) = flatten {
            let variants: Vec<(Option<TypeId>, String)> = match &ir.types[union.0].kind {
                TypeKind::Tagged(u) => u.variants.iter().map(|v| (Some(v.ty), v.name.ident.clone())).collect(),
                TypeKind::Untagged(u) => u
                    .variants
                    .iter()
                    .map(|v| match &v.kind {
                        UntaggedKind::Value(TypeRef::Named(id)) => (Some(*id), v.name.ident.clone()),
                        _ => (None, v.name.ident.clone()),
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let merged = variants
                .into_iter()
                .map(|(ty, variant)| {
                    let python = match ty {
                        // Used by this union alone: the variant's own class takes the object's fields.
                        Some(id) if references.get(&id) == Some(&1) => ir.types[id.0].name.ident.clone(),
                        _ => claim(ns, format!("{owner_py}{variant}")),
                    };
                    Name { wire: String::new(), ident: python }
                })
                .collect();
            if let TypeKind::Struct(Struct { flatten: Some(f), .. }) = &mut ir.types[i].kind {
                f.merged = merged;
            }
            if let TypeKind::Tagged(u) = &mut ir.types[union.0].kind {
                u.unknown.ident = claim(ns, format!("Unknown{owner_py}"));
            }
        }
    }
    for i in 0..ir.types.len() {
        let ns = ir.types[i].namespace;
        let own = ir.types[i].name.ident.clone();
        if let TypeKind::Tagged(u) = &ir.types[i].kind {
            if u.unknown.ident.is_empty() {
                let name = claim(ns, format!("Unknown{own}"));
                if let TypeKind::Tagged(u) = &mut ir.types[i].kind {
                    u.unknown.ident = name;
                }
            }
        }
    }
}

/// The names of a Python package's modules of models, one per class each is named after (`ThreadItem` →
/// `thread_item`), unique among themselves.
pub fn model_modules(classes: &[&str]) -> Vec<String> {
    // A submodule is an attribute of its package: it must not take a name the package's `__init__` uses.
    unique(
        classes.iter().copied(),
        |c| python_module(&snake(c, "types")),
        &["annotations", "importlib"],
        Case::Snake,
        &mut |_| {},
    )
}

/// The package's own modules beside the namespaces' subpackages.
pub const MODULES: &[&str] = &["rpc"];

/// Subpackage names of the namespaces, unique among siblings.
fn name_modules(ir: &mut Ir, warnings: &mut Vec<Warning>) {
    let modules = module_names(ir, |w| python_field(&snake(w, "ns")), MODULES, warnings);
    for (ns, names) in ir.namespaces.iter_mut().zip(modules) {
        for (module, name) in ns.modules.iter_mut().zip(names) {
            module.ident = name;
        }
    }
}

/// The Python names of one type's fields, enum values and tag.
fn name_members(ty: &mut TypeDef, warnings: &mut Vec<Warning>) {
    let owner = ty.name.ident.clone();
    let mut report = numbered_member(ty, warnings);
    match &mut ty.kind {
        TypeKind::Struct(s) => {
            let mut wires: Vec<&str> = s.fields.iter().map(|f| f.name.wire.as_str()).collect();
            if let Some(fl) = &s.flatten {
                wires.push(fl.name.wire.as_str());
            }
            let names = unique(wires.into_iter(), |w| python_field(&snake(w, "field")), &[], Case::Snake, &mut |n| {
                report(format!("field `{n}` (Python)"))
            });
            let mut names = names.into_iter();
            for f in &mut s.fields {
                f.name.ident = names.next().expect("one name per field");
            }
            if let Some(fl) = &mut s.flatten {
                fl.name.ident = names.next().expect("one name for the flattened union");
            }
        }
        TypeKind::Enum(e) => {
            let names = unique(
                e.values.iter().map(|v| v.name.wire.as_str()),
                |w| python_name(&shouty(w, "VALUE")),
                &[],
                Case::Shouty,
                &mut |n| report(format!("enum value `{n}` of {owner} (Python)")),
            );
            for (v, name) in e.values.iter_mut().zip(names) {
                v.name.ident = name;
            }
        }
        TypeKind::Tagged(u) => u.tag.ident = python_field(&snake(&u.tag.wire, "tag")),
        TypeKind::Untagged(_) | TypeKind::Alias(_) | TypeKind::Newtype(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RPC_TEMPLATE: &str = include_str!("../../../../templates/python/rpc.py.jinja");

    /// The methods each class of `classes` defines in `template`, by name (`def` or `async def` one level in).
    fn class_methods(template: &str, classes: &[&str]) -> Vec<(String, String)> {
        let mut found = Vec::new();
        let mut class: Option<&str> = None;
        for line in template.lines() {
            if !line.is_empty() && !line.starts_with(' ') && !line.starts_with("{%") {
                class = classes.iter().copied().find(|c| {
                    line.strip_prefix("class ")
                        .is_some_and(|l| l.starts_with(c) && l[c.len()..].starts_with(['(', ':']))
                });
                continue;
            }
            let Some(class) = class else { continue };
            let item = line.strip_prefix("    ").filter(|l| !l.starts_with(' '));
            let def = item.and_then(|l| l.strip_prefix("async ").or(Some(l))).and_then(|l| l.strip_prefix("def "));
            if let Some(rest) = def {
                found
                    .push((class.to_string(), rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()));
            }
        }
        found
    }

    #[test]
    fn a_class_only_python_has_takes_no_name_the_package_defines() {
        let variant = |tag: &str| {
            serde_json::json!({"type": "object", "required": ["type"],
                "properties": {"type": {"type": "string", "enum": [tag]}}})
        };
        let schema = serde_json::json!({"definitions": {"Variant": {"oneOf": [variant("a"), variant("b")]}}});
        let mut ir = crate::model(std::path::Path::new("s.json"), &schema.to_string()).unwrap().ir;
        assign(&mut ir, &mut Vec::new());
        let unknown = ir.types.iter().find_map(|t| match &t.kind {
            TypeKind::Tagged(u) if t.name.ident == "Variant" => Some(u.unknown.ident.clone()),
            _ => None,
        });
        // `UnknownVariant` is `_base`'s class that every unknown variant derives from.
        assert_eq!(unknown.as_deref(), Some("UnknownVariant_"));
    }

    #[test]
    fn every_method_of_the_client_and_handler_classes_is_reserved_and_nothing_else() {
        let defined = class_methods(RPC_TEMPLATE, METHOD_CLASSES);
        for class in METHOD_CLASSES {
            assert!(defined.iter().any(|(c, _)| c == class), "no methods read from class {class} of rpc.py.jinja");
        }
        for (class, name) in &defined {
            assert!(CLASS_FUNCTIONS.contains(&name.as_str()), "`{class}.{name}` is defined but not reserved");
        }
        for name in CLASS_FUNCTIONS {
            assert!(defined.iter().any(|(_, d)| d == name), "`{name}` is reserved but no class defines it");
        }
    }

    #[test]
    fn methods_are_read_from_the_named_classes_only() {
        let template = "class A(ABC):\n    def a(self) -> None:\n        def inner() -> None: ...\n{% for f in x %}\n    async def b(self) -> None: ...\n\n\nclass AB:\n    def c(self) -> None: ...\ndef d() -> None: ...\n";
        assert_eq!(
            class_methods(template, &["A"]),
            [("A".to_string(), "a".to_string()), ("A".to_string(), "b".to_string())]
        );
    }

    #[test]
    fn the_reserved_types_hold_every_name_a_module_of_models_imports() {
        let reserved: Vec<&str> = RESERVED_TYPES.iter().flat_map(|l| l.iter().copied()).collect();
        let base = include_str!("../../../../templates/python/base.py.jinja");
        // `_base.py` exports what modules of models import from it.
        for name in BASE {
            assert!(base.contains(&format!("\"{name}\"")), "`{name}` is not in _base.py's __all__");
        }
        for name in ["TYPE_CHECKING", "Enum", "BaseModel"] {
            assert!(reserved.contains(&name), "{name}");
        }
    }
}
