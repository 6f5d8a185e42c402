//! Names the Rust backend decides itself, and the names its own code defines, which no name from the
//! schema may take. They are declared here, beside the templates that define them (`rpc.rs.txt`,
//! `rpc_handler.rs.txt`); a test reads the templates and fails on a function not listed.

use crate::error::Warning;
use crate::ir::rpc::Rpc;
use crate::ir::*;
use crate::naming::idents::{camel, rust_field, rust_variant, snake};
use crate::naming::{module_names, numbered_member, unique, Case, MethodFunctions};

/// The crate's own modules (`wire.rs.txt`, the `rpc` module), which no namespace's module may take.
pub const MODULES: &[&str] = &["wire", "rpc"];

/// The field of every object that keeps properties the schema does not declare.
pub const EXTRA_FIELD: &str = "extra";

/// The variant of every enum and tagged union that keeps values the schema does not list.
pub const UNKNOWN_VARIANT: &str = "Unknown";

/// Decides the Rust names of `ir`, a copy of the model this backend names (the `ident` of their [`Name`]s):
/// modules, fields, enum values, tags and unknown variants; types, variants and method markers keep the names
/// every language shares. What could only be told apart by a number is added to `warnings`.
pub fn assign(ir: &mut Ir, warnings: &mut Vec<Warning>) {
    let modules = module_names(ir, |w| rust_field(&snake(w, "ns")), MODULES, warnings);
    for (ns, names) in ir.namespaces.iter_mut().zip(modules) {
        for (module, name) in ns.modules.iter_mut().zip(names) {
            module.ident = name;
        }
    }
    for ty in &mut ir.types {
        name_members(ty, warnings);
    }
}

/// The path of a named type in the Rust crate whose root is `krate`: `krate::v2::Thread`, in a model
/// [`assign`] has named.
pub fn path(ir: &Ir, id: TypeId, krate: &str) -> String {
    let t = ir.get(id);
    let modules = ir.namespaces[t.namespace.0].modules.iter().map(|m| m.ident.as_str());
    std::iter::once(krate).chain(modules).chain([t.name.ident.as_str()]).collect::<Vec<_>>().join("::")
}

fn name_members(ty: &mut TypeDef, warnings: &mut Vec<Warning>) {
    let owner = ty.name.ident.clone();
    let mut report = numbered_member(ty, warnings);
    match &mut ty.kind {
        TypeKind::Struct(s) => {
            // Unknown properties are kept in `extra`.
            let reserved: &[&str] = if matches!(s.extra, Extra::Keep | Extra::Typed(_)) { &[EXTRA_FIELD] } else { &[] };
            let mut wires: Vec<&str> = s.fields.iter().map(|f| f.name.wire.as_str()).collect();
            if let Some(fl) = &s.flatten {
                wires.push(fl.name.wire.as_str());
            }
            let names =
                unique(wires.into_iter(), |w| rust_field(&snake(w, "field")), reserved, Case::Snake, &mut |n| {
                    report(format!("field `{n}`"))
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
                |w| rust_variant(&camel(w, "Value")),
                &[UNKNOWN_VARIANT],
                Case::Camel,
                &mut |n| report(format!("enum value `{n}` of {owner}")),
            );
            for (v, name) in e.values.iter_mut().zip(names) {
                v.name.ident = name;
            }
        }
        TypeKind::Tagged(u) => {
            u.unknown.ident = UNKNOWN_VARIANT.into();
            u.tag.ident = rust_field(&snake(&u.tag.wire, "tag"));
        }
        TypeKind::Untagged(_) | TypeKind::Alias(_) | TypeKind::Newtype(_) => {}
    }
}

/// `ServerRequestHandler`'s dispatching function; `rpc.rs` writes its signature into the handler template.
pub const HANDLE: &str = "handle";

/// The functions the `rpc` module's traits define beside one per method: `call` and `request` of `Client` and
/// `AsyncClient`, `notify` and `notification` of `Notifier` and `AsyncNotifier` (`rpc.rs.txt`), and [`HANDLE`].
/// A method's function takes none of them, in any trait: one type may implement several, and a name they share
/// would make every call of it ambiguous.
pub const TRAIT_FUNCTIONS: &[&str] = &["call", "request", "notify", "notification", HANDLE];

/// The function of each method in the `Client`, `AsyncClient` and `ServerRequestHandler` traits
/// (`thread/start` → `thread_start`).
pub fn functions(rpc: &Rpc, warnings: &mut Vec<Warning>) -> MethodFunctions {
    MethodFunctions::new(rpc, |w| rust_field(&snake(w, "method")), TRAIT_FUNCTIONS, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the functions declared directly in each `trait` block of `template` (lines `$slot` are
    /// the generated ones).
    fn trait_functions(template: &str) -> Vec<String> {
        let mut names = Vec::new();
        let mut in_trait = false;
        for line in template.lines() {
            if line.starts_with("pub trait ") {
                in_trait = true;
            } else if line == "}" {
                in_trait = false;
            } else if in_trait {
                let item = line.strip_prefix("    ").filter(|l| !l.starts_with(' '));
                let function =
                    item.and_then(|l| l.strip_prefix("async ").or(Some(l))).and_then(|l| l.strip_prefix("fn "));
                if let Some(rest) = function {
                    names.push(rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect());
                }
            }
        }
        names
    }

    #[test]
    fn every_function_the_templates_define_is_reserved_and_nothing_else() {
        let mut defined = trait_functions(super::super::rpc::MODULE);
        defined.extend(trait_functions(super::super::rpc::HANDLER));
        assert!(defined.contains(&"call".to_string()), "no trait functions read from rpc.rs.txt: {defined:?}");
        defined.push(HANDLE.to_string());
        for name in &defined {
            assert!(TRAIT_FUNCTIONS.contains(&name.as_str()), "`{name}` is defined by a template but not reserved");
        }
        for name in TRAIT_FUNCTIONS {
            assert!(defined.iter().any(|d| d == name), "`{name}` is reserved but no template defines it");
        }
    }

    #[test]
    fn trait_functions_are_read_from_trait_blocks_only() {
        let template = "pub fn free() {}\npub trait T {\n    type E;\n    fn a(&self);\n    async fn b(&self) {\n        fn inner() {}\n    }\n$slot\n}\nimpl X {\n    pub fn c() {}\n}\n";
        assert_eq!(trait_functions(template), ["a", "b"]);
    }
}
