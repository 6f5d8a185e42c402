//! Names the Rust backend decides itself, and the names its own code defines, which no name from the
//! schema may take. They are declared here, beside the templates that define them (`rpc.rs.txt`,
//! `rpc_handler.rs.txt`); a test reads the templates and fails on a function not listed.

use crate::error::Warning;
use crate::ir::rpc::Rpc;
use crate::naming::idents::{rust_field, snake};
use crate::naming::MethodFunctions;

/// `ServerRequestHandler`'s dispatching function; `rpc.rs` writes its signature into the handler template.
pub const HANDLE: &str = "handle";

/// The functions the `rpc` module's traits define beside one per method: `call` and `request` of `Client` and
/// `AsyncClient` (`rpc.rs.txt`), and [`HANDLE`]. A method's function takes none of them, in either trait: one
/// type may implement both, and a name they share would make every call of it ambiguous.
pub const TRAIT_FUNCTIONS: &[&str] = &["call", "request", HANDLE];

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
