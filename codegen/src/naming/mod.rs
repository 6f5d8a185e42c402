//! The naming pass: decides every type's name once (its stability is this pass's guarantee), and the names
//! every language shares (variants, method markers), and stores them in the IR. It is also the toolkit every
//! backend names with ([`unique`], [`module_names`], [`MethodFunctions`], [`idents`]): the names of modules,
//! fields, enum values and functions are each backend's (`emit::*::names`).
//!
//! Order of claims in a namespace: definition keys first, then inline types with a title, then inline
//! types named from their owner and role. A later claim never takes a name from an earlier one, so a
//! definition keeps its name whatever is added beside it. Two wire names that convert to the same
//! identifier are told apart by their spelling style (`foo_bar` / `foo_bar_camel`); only when that too
//! collides is a number appended, and each such case is reported.

pub mod idents;

use std::collections::{HashMap, HashSet};

use crate::error::Warning;
use crate::ir::*;
use idents::*;

/// Names every type, variant and method marker of `ir` (the `ident` of their [`Name`]s, which every backend
/// starts from), and orders each namespace's types by those names. Returns what could only be told apart by a number. Backends that name classes of their own claim them in the order this pass records
/// in [`Ir::claim_order`].
pub fn assign(ir: &mut Ir) -> Vec<Warning> {
    let mut warnings = Vec::new();
    // Module names are each backend's; the segments' wire names are what they start from.
    for ns in &mut ir.namespaces {
        ns.modules = ns.path.iter().map(|w| Name { wire: w.clone(), ..Name::default() }).collect();
    }
    name_types(ir, &mut warnings);
    let is_titled =
        |t: &TypeRef| matches!(t, TypeRef::Named(id) if matches!(ir.types[id.0].origin.hint, NameHint::Title { .. }));
    let titled_inline: Vec<Vec<TypeRef>> = ir
        .types
        .iter()
        .map(|t| match &t.kind {
            TypeKind::Untagged(u) => u
                .variants
                .iter()
                .filter_map(|v| match &v.kind {
                    UntaggedKind::Value(t) if is_titled(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        })
        .collect();
    // Each type's members are named from that type alone: the two halves of the list are named side by
    // side, and their warnings kept in type order.
    let middle = ir.types.len() / 2;
    let (first, second) = ir.types.split_at_mut(middle);
    let (titled_first, titled_second) = titled_inline.split_at(middle);
    let second_warnings = std::thread::scope(|scope| {
        let second = crate::threads::spawn_scoped(scope, || {
            let mut warnings = Vec::new();
            for (ty, titled) in second.iter_mut().zip(titled_second) {
                name_members(ty, titled, &mut warnings);
            }
            warnings
        });
        for (ty, titled) in first.iter_mut().zip(titled_first) {
            name_members(ty, titled, &mut warnings);
        }
        second.join().expect("naming does not panic")
    });
    warnings.extend(second_warnings);
    name_methods(ir, &mut warnings);
    warnings
}

/// Method marker types: one per method (`thread/start` → `ThreadStart`), unique among the methods one side
/// sends. The functions that send or answer a method are each backend's to name ([`MethodFunctions`]).
fn name_methods(ir: &mut Ir, warnings: &mut Vec<Warning>) {
    let Some(rpc) = &mut ir.rpc else { return };
    for sender in [rpc::Sender::Client, rpc::Sender::Server] {
        let indices: Vec<usize> = (0..rpc.methods.len()).filter(|i| rpc.methods[*i].sender == sender).collect();
        let wires: Vec<String> = indices.iter().map(|i| rpc.methods[*i].name.wire.clone()).collect();
        let location = indices.first().map(|i| rpc.methods[*i].location.clone());
        let mut report = |n: &str| {
            if let Some(location) = &location {
                warnings.push(numbered_method(location, n))
            }
        };
        // The traits the markers implement.
        let markers = unique(
            wires.iter().map(String::as_str),
            |w| rust_type(&camel(w, "Method")),
            &["Request", "Notification"],
            Case::Camel,
            &mut report,
        );
        for (k, i) in indices.into_iter().enumerate() {
            let m = &mut rpc.methods[i];
            m.name.ident = markers[k].clone();
        }
    }
}

/// What a type's member naming reports: `what` (a field, a value, ...) could only be told apart by a number.
pub fn numbered_member<'a>(ty: &TypeDef, warnings: &'a mut Vec<Warning>) -> impl FnMut(String) + 'a {
    let location = ty.origin.location.clone();
    move |what: String| {
        warnings.push(Warning {
            location: location.clone(),
            message: format!("{what} could only be told apart by a number"),
        })
    }
}

fn numbered_method(location: &crate::error::Location, name: &str) -> Warning {
    Warning { location: location.clone(), message: format!("method `{name}` could only be told apart by a number") }
}

/// A function per method, as one backend names them: unique among the methods one side sends, and none of
/// the `reserved` names the backend's own code gives the functions beside them.
#[derive(Debug, Default)]
pub struct MethodFunctions(HashMap<(TypeId, usize), String>);

impl MethodFunctions {
    /// Names the functions of `rpc`'s methods with `convert` (a wire name to an identifier); what could only
    /// be told apart by a number is reported in `warnings`.
    pub fn new(
        rpc: &rpc::Rpc,
        convert: impl Fn(&str) -> String,
        reserved: &[&str],
        warnings: &mut Vec<Warning>,
    ) -> Self {
        let mut names = HashMap::new();
        for sender in [rpc::Sender::Client, rpc::Sender::Server] {
            let methods: Vec<&rpc::Method> = rpc.methods.iter().filter(|m| m.sender == sender).collect();
            let mut report = |n: &str| {
                if let Some(m) = methods.iter().rev().find(|m| m.name.wire == n) {
                    warnings.push(numbered_method(&m.location, n))
                }
            };
            let functions =
                unique(methods.iter().map(|m| m.name.wire.as_str()), &convert, reserved, Case::Snake, &mut report);
            for (m, f) in methods.into_iter().zip(functions) {
                names.insert((m.union, m.variant), f);
            }
        }
        Self(names)
    }

    /// The function of `method`, a method of the tables these were named from.
    pub fn of(&self, method: &rpc::Method) -> &str {
        self.0
            .get(&(method.union, method.variant))
            .map(String::as_str)
            .expect("every method of the tables has a function")
    }
}

/// Names the fields, enum values or variants of one type; `titled` are its untagged variants' inline titled types.
fn name_members(ty: &mut TypeDef, titled: &[TypeRef], warnings: &mut Vec<Warning>) {
    let owner = ty.name.ident.clone();
    let mut report = numbered_member(ty, warnings);
    // Fields, enum values and tags are each backend's to name (`emit::*::names`); variants are the same classes
    // in every language.
    match &mut ty.kind {
        TypeKind::Tagged(u) => {
            let names = variant_names(u.variants.iter().map(|v| v.name.wire.as_str()), &owner, &mut report);
            for (v, r) in u.variants.iter_mut().zip(names) {
                v.name.ident = r;
            }
        }
        TypeKind::Untagged(u) => {
            let labels = untagged_labels(&u.variants, &owner, &|t| titled.contains(t));
            let names = variant_names(labels.iter().map(String::as_str), &owner, &mut report);
            for (v, r) in u.variants.iter_mut().zip(names) {
                v.name.ident = r;
            }
        }
        TypeKind::Struct(_) | TypeKind::Enum(_) | TypeKind::Alias(_) | TypeKind::Newtype(_) => {}
    }
}

/// Labels for untagged variants: literals as they are; titles without the union's name or, when no
/// title holds that name but all inline titled variants end alike (`UrlUserInput`, `FileIdUserInput`),
/// without that shared ending. Variants that are definitions keep their definition's name.
fn untagged_labels(variants: &[UntaggedVariant], owner: &str, titled_inline: &dyn Fn(&TypeRef) -> bool) -> Vec<String> {
    let stripped: Vec<Option<String>> = variants
        .iter()
        .map(|v| match &v.kind {
            UntaggedKind::Literal(_) => None,
            UntaggedKind::Value(_) => Some(strip_owner(&camel(&v.name.wire, "Value"), owner)),
        })
        .collect();
    let titles: Vec<String> = variants
        .iter()
        .zip(&stripped)
        .filter(|(v, _)| matches!(&v.kind, UntaggedKind::Value(t) if titled_inline(t)))
        .filter_map(|(v, label)| label.clone().filter(|l| *l == camel(&v.name.wire, "Value")))
        .collect();
    let titled_count =
        variants.iter().filter(|v| matches!(&v.kind, UntaggedKind::Value(t) if titled_inline(t))).count();
    let suffix =
        if titles.len() > 1 && titles.len() == titled_count { common_word_suffix(&titles) } else { String::new() };
    variants
        .iter()
        .zip(stripped)
        .map(|(v, label)| match (&v.kind, label) {
            (UntaggedKind::Value(t), Some(label)) if titled_inline(t) && !suffix.is_empty() => {
                match label.strip_suffix(&suffix) {
                    Some(rest) if !rest.is_empty() => rest.to_string(),
                    _ => label,
                }
            }
            (_, Some(label)) => label,
            (_, None) => v.name.wire.clone(),
        })
        .collect()
}

/// The longest run of whole CamelCase words every name ends with, leaving every name a word of its own.
fn common_word_suffix(names: &[String]) -> String {
    let words = |n: &str| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in n.chars() {
            if c.is_uppercase() || out.is_empty() {
                out.push(String::new());
            }
            out.last_mut().expect("pushed above").push(c);
        }
        out
    };
    let split: Vec<Vec<String>> = names.iter().map(|n| words(n)).collect();
    let shortest = split.iter().map(Vec::len).min().unwrap_or(0);
    let mut n = 0;
    while n + 1 < shortest && split.iter().all(|w| w[w.len() - 1 - n] == split[0][split[0].len() - 1 - n]) {
        n += 1;
    }
    split[0][split[0].len() - n..].concat()
}

/// A variant title usually repeats its union's name (`GranularAskForApproval` in `AskForApproval`): drop it.
fn strip_owner(label: &str, owner: &str) -> String {
    let stripped = label.strip_suffix(owner).or_else(|| label.strip_prefix(owner)).unwrap_or(label);
    if stripped.is_empty() || stripped.starts_with(|c: char| c.is_ascii_digit()) {
        label.to_string()
    } else {
        stripped.to_string()
    }
}

/// The case of the identifiers [`unique`] makes, which decides how a spelling style is appended.
#[derive(Clone, Copy)]
pub enum Case {
    Camel,
    Snake,
    Shouty,
}

fn with_style(base: &str, wire: &str, case: Case) -> String {
    let style = style_word(wire);
    // `self_` + `_pascal` would give `self__pascal`; the escape is not needed once a suffix follows.
    let base = base.trim_end_matches('_');
    match case {
        Case::Camel => format!("{base}{}", camel(style, "")),
        Case::Snake => format!("{base}_{style}"),
        Case::Shouty => format!("{base}_{}", style.to_uppercase()),
    }
}

/// A union's variant names from their labels (tags or inferred labels), the same in Rust and Python;
/// `Unknown` is kept for the variant of tags the schema does not list.
fn variant_names<'a>(
    labels: impl Iterator<Item = &'a str>,
    owner: &str,
    report: &mut dyn FnMut(String),
) -> Vec<String> {
    unique(labels, |w| rust_variant(&camel(w, "Value")), &["Unknown"], Case::Camel, &mut |n| {
        report(format!("variant `{n}` of {owner}"))
    })
}

/// Identifiers for `wires`, in order, unique among themselves and not in `reserved`.
/// The wire name whose identifier is itself (or else the first) keeps the plain form.
pub fn unique<'a>(
    wires: impl Iterator<Item = &'a str>,
    convert: impl Fn(&str) -> String,
    reserved: &[&str],
    case: Case,
    numbered: &mut dyn FnMut(&str),
) -> Vec<String> {
    let wires: Vec<&str> = wires.collect();
    let bases: Vec<String> = wires.iter().map(|w| convert(w)).collect();
    let mut taken: HashSet<String> = reserved.iter().map(|s| s.to_string()).collect();
    let mut out: Vec<Option<String>> = vec![None; wires.len()];
    let mut order: Vec<usize> = (0..wires.len()).collect();
    // Exact spellings claim their plain name first, then everything else in schema order.
    order.sort_by_key(|i| (bases[*i].trim_start_matches("r#") != wires[*i], *i));
    for &i in &order {
        if taken.insert(bases[i].clone()) {
            out[i] = Some(bases[i].clone());
        }
    }
    for &i in &order {
        if out[i].is_some() {
            continue;
        }
        let styled = with_style(bases[i].trim_start_matches("r#"), wires[i], case);
        let mut name = styled.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = match case {
                Case::Camel => format!("{styled}{n}"),
                _ => format!("{styled}_{n}"),
            };
            n += 1;
        }
        if name != styled {
            numbered(wires[i]);
        }
        taken.insert(name.clone());
        out[i] = Some(name);
    }
    out.into_iter().map(|o| o.expect("every wire name was named")).collect()
}

/// The module name of each segment of each namespace's path, in one language: `convert` turns a segment into
/// an identifier, and names are unique among siblings; top-level modules take none of `top_reserved` (modules
/// the backend writes itself). What could only be told apart by a number is added to `warnings`.
pub fn module_names(
    ir: &Ir,
    convert: impl Fn(&str) -> String,
    top_reserved: &[&str],
    warnings: &mut Vec<Warning>,
) -> Vec<Vec<String>> {
    let mut decided: HashMap<Vec<String>, String> = HashMap::new();
    let paths: Vec<Vec<String>> = ir.namespaces.iter().map(|ns| ns.path.clone()).collect();
    let mut parents: Vec<Vec<String>> =
        paths.iter().filter(|p| !p.is_empty()).map(|p| p[..p.len() - 1].to_vec()).collect();
    parents.sort();
    parents.dedup();
    for parent in parents {
        let siblings: Vec<&Vec<String>> =
            paths.iter().filter(|p| p.len() == parent.len() + 1 && p.starts_with(&parent)).collect();
        let wires: Vec<&str> = siblings.iter().map(|p| p[p.len() - 1].as_str()).collect();
        let mut report = |n: &str| {
            warnings.push(Warning {
                location: ir.types.first().map(|t| t.origin.location.clone()).unwrap_or_else(|| {
                    crate::error::Location::new(std::path::Path::new(&ir.source.file_name), "/definitions")
                }),
                message: format!("namespace `{n}` could only be told apart by a number"),
            })
        };
        let reserved = if parent.is_empty() { top_reserved } else { &[] };
        let names = unique(wires.iter().copied(), &convert, reserved, Case::Snake, &mut report);
        for (path, name) in siblings.into_iter().zip(names) {
            decided.insert(path.clone(), name);
        }
    }
    paths.iter().map(|path| (1..=path.len()).map(|n| decided[&path[..n]].clone()).collect()).collect()
}

fn name_types(ir: &mut Ir, warnings: &mut Vec<Warning>) {
    let mut order: Vec<usize> = (0..ir.types.len()).collect();
    order.sort_by_key(|i| {
        let rank = match &ir.types[*i].origin.hint {
            NameHint::Definition(_) | NameHint::Root(_) => 0,
            NameHint::Title { .. } => 1,
            NameHint::Derived { .. } => 2,
        };
        (rank, *i)
    });
    let mut taken: HashMap<NamespaceId, HashSet<String>> = HashMap::new();
    // Definitions claim in key order so that which of two colliding keys wins does not depend on file order.
    let mut definitions: Vec<usize> = order
        .iter()
        .copied()
        .filter(|i| matches!(ir.types[*i].origin.hint, NameHint::Definition(_) | NameHint::Root(_)))
        .collect();
    // Each key computed once (a comparison would compute two). A key that is its own name claims it first
    // (`NoneType` before `None`, which is escaped to `NoneType`), and a key with no letter or digit, whose
    // name is a stand-in (`""` → `Type`), last.
    definitions.sort_by_cached_key(|i| match &ir.types[*i].origin.hint {
        NameHint::Definition(k) | NameHint::Root(k) => {
            (rust_type(&camel(k, "Type")) != *k, !k.chars().any(char::is_alphanumeric), k.clone())
        }
        _ => unreachable!(),
    });
    let is_definition = |i: &usize| matches!(ir.types[*i].origin.hint, NameHint::Definition(_) | NameHint::Root(_));
    let rest: Vec<usize> = order.iter().copied().filter(|i| !is_definition(i)).collect();
    ir.claim_order = definitions.into_iter().chain(rest).map(TypeId).collect();
    for i in ir.claim_order.iter().map(|id| id.0) {
        let ns = ir.types[i].namespace;
        let (wire, candidates) = match ir.types[i].origin.hint.clone() {
            NameHint::Definition(key) | NameHint::Root(key) => {
                let base = camel(&key, "Type");
                (key, vec![base])
            }
            NameHint::Title { title, owner } => {
                let base = camel(&title, "Type");
                let owner_name = ir.types[owner.0].name.ident.clone();
                let qualified =
                    if base.starts_with(&owner_name) { base.clone() } else { format!("{owner_name}{base}") };
                (title, vec![base, qualified])
            }
            NameHint::Derived { owner, role } => {
                let owner_name = ir.types[owner.0].name.ident.clone();
                (role.clone(), vec![format!("{owner_name}{}", camel(&role, ""))])
            }
        };
        let rust_taken = taken.entry(ns).or_default();
        let mut chosen = None;
        for c in &candidates {
            let c = rust_type(c);
            if !rust_taken.contains(&c) {
                chosen = Some(c);
                break;
            }
        }
        let rust = chosen.unwrap_or_else(|| {
            let styled = with_style(&rust_type(&candidates[candidates.len() - 1]), &wire, Case::Camel);
            let mut name = styled.clone();
            let mut n = 2;
            while rust_taken.contains(&name) {
                name = format!("{styled}{n}");
                n += 1;
            }
            if name != styled {
                warnings.push(Warning {
                    location: ir.types[i].origin.location.clone(),
                    message: format!("type `{wire}` could only be told apart by a number: {name}"),
                });
            }
            name
        });
        rust_taken.insert(rust.clone());
        ir.types[i].name = Name { wire, ident: rust };
    }
    for ns in &mut ir.namespaces {
        ns.types.clear();
    }
    for (i, ty) in ir.types.iter().enumerate() {
        ir.namespaces[ty.namespace.0].types.push(TypeId(i));
    }
    for ns in &mut ir.namespaces {
        ns.types.sort_by(|a, b| ir.types[a.0].name.ident.cmp(&ir.types[b.0].name.ident));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snake_names(wires: &[&str]) -> Vec<String> {
        unique(wires.iter().copied(), |w| rust_field(&snake(w, "field")), &["extra"], Case::Snake, &mut |_| {})
    }

    #[test]
    fn colliding_fields_are_told_apart_by_style() {
        assert_eq!(snake_names(&["fooBar", "foo_bar", "FooBar"]), ["foo_bar_camel", "foo_bar", "foo_bar_pascal"]);
        assert_eq!(snake_names(&["fooBar", "FooBar"]), ["foo_bar", "foo_bar_pascal"]);
    }

    #[test]
    fn reserved_names_are_avoided() {
        assert_eq!(snake_names(&["extra", "type"]), ["extra_lower", "r#type"]);
    }

    #[test]
    fn numbers_only_as_a_last_resort_and_reported() {
        let mut reported = Vec::new();
        let names = unique(["a-b", "a_b", "a b", "a--b"].into_iter(), |w| snake(w, "f"), &[], Case::Snake, &mut |n| {
            reported.push(n.to_string())
        });
        assert_eq!(names, ["a_b_kebab", "a_b", "a_b_spaced", "a_b_kebab_2"]);
        assert_eq!(reported, ["a--b"]);
    }

    #[test]
    fn shared_endings_are_stripped() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_word_suffix(&names(&["UrlUserInput", "FileIdUserInput"])), "UserInput");
        assert_eq!(common_word_suffix(&names(&["UserInput", "FileIdUserInput"])), "Input");
        assert_eq!(common_word_suffix(&names(&["String", "Integer"])), "");
    }

    #[test]
    fn owner_is_stripped_from_variant_titles() {
        assert_eq!(strip_owner("GranularAskForApproval", "AskForApproval"), "Granular");
        assert_eq!(strip_owner("AskForApproval", "AskForApproval"), "AskForApproval");
        assert_eq!(strip_owner("UrlUserInput", "ImageUserInputVariant"), "UrlUserInput");
    }
}
