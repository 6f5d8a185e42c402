//! Which module of the package holds which definition.
//!
//! Importing a model imports what it reaches and little else. Each namespace's definitions are cut into
//! units (the items of one type, see `views::Unit`), and the units of a namespace are grouped into the
//! modules of `<namespace>/_models/` by the set of entry points that reach them: the types of the method
//! tables, the message class of each method (what `rpc.decode` validates a message with), and every unit
//! nothing else names. Two units share a module exactly when the same entry points reach them, so
//! decoding one notification imports the modules its message class reaches and no others. A module names
//! only modules that every one of its entry points reaches too, so modules never import each other in a
//! cycle: names from another module of the namespace are imported at the top. Names of another namespace
//! are read from that namespace's `_models` package, which imports their module on first use; named only in
//! annotations (resolved when a model is first used), that package is imported at the end of the module, so
//! that two namespaces may name each other.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::layout;
use super::names::{BASE, PYDANTIC, TYPING};
use super::views::{module_alias, place, Item, Model, Named, Placed, Unit};
use crate::ir::*;

/// The files of one namespace: its `__init__.py`, its `_models/__init__.py` and the modules in `_models/`.
pub struct NamespaceFiles {
    pub ns: NamespaceId,
    pub init: InitView,
    pub models: ModelsView,
    /// `(module name, view)`.
    pub modules: Vec<(String, TypesView)>,
}

/// `<namespace>/__init__.py`: the namespace's names, imported on first use.
#[derive(Serialize)]
pub struct InitView {
    header: Vec<String>,
    doc: String,
    /// `__all__`: the exports and the submodules.
    all: Vec<String>,
    /// The exports, in import-list order.
    imports: Vec<String>,
    submodules: Vec<String>,
    /// The top-level package's `__version__` and `CODEX_VERSION` literals.
    versions: Option<(String, String)>,
}

/// `<namespace>/_models/__init__.py`: which module defines each name.
#[derive(Serialize)]
pub struct ModelsView {
    header: Vec<String>,
    doc: String,
    /// The `from .<module> import ...` lines, laid out, for type checkers.
    imports: Vec<String>,
    /// `(name, module)`, in `__all__` order.
    modules: Vec<(String, String)>,
}

/// A module of definitions.
#[derive(Serialize)]
pub struct TypesView {
    header: Vec<String>,
    doc: String,
    /// Import lines in isort's groups: the standard library, pydantic, this package.
    imports: Vec<Vec<String>>,
    /// Everything the module defines, each after what it needs as the module runs.
    items: Vec<Placed>,
    /// Imports of namespaces named only in annotations, at the end of the module: resolved when a model is
    /// first used, by then every name here exists, so two namespaces can name each other.
    late_imports: Vec<String>,
    /// The blank lines before the late imports.
    late_blank: String,
    exports: Vec<String>,
}

/// The package's modules. `entry_points` are the names (with their namespace) the method tables and the
/// decoder use.
/// `versions` are the package's `__version__` and `CODEX_VERSION`, as Python literals, which the top-level
/// `__init__.py` defines.
pub fn layout(
    model: &Model,
    entry_points: &[(NamespaceId, String)],
    header: &[String],
    versions: &(String, String),
) -> Vec<NamespaceFiles> {
    let ir = model.ir;
    let namespaces: Vec<NamespaceId> = (0..ir.namespaces.len()).map(NamespaceId).collect();
    let units: Vec<Unit> = namespaces.iter().flat_map(|ns| model.units(*ns)).collect();

    // Every name a unit defines, and what each unit names.
    // Per namespace: name → unit.
    let mut defined_by: Vec<HashMap<String, usize>> = vec![HashMap::new(); namespaces.len()];
    for (i, u) in units.iter().enumerate() {
        for (_, item) in &u.items {
            defined_by[u.ns.0].insert(item.name().to_string(), i);
        }
        for name in &u.exports {
            defined_by[u.ns.0].insert(name.clone(), i);
        }
    }
    let unit_of = |ns: NamespaceId, name: &str| defined_by[ns.0].get(name).copied();
    let named: Vec<BTreeSet<Named>> =
        units.iter().map(|u| u.items.iter().flat_map(|(_, item)| item.names()).collect()).collect();
    // The unit defining what a unit of namespace `ns` names (none for an import).
    let unit_named = |ns: NamespaceId, name: &Named| match name {
        Named::Local(n) => unit_of(ns, n),
        Named::Other(other, n) => unit_of(*other, n),
        Named::Import(_) => None,
    };
    let edges: Vec<Vec<usize>> = named
        .iter()
        .enumerate()
        .map(|(i, names)| {
            let mut targets: Vec<usize> =
                names.iter().filter_map(|n| unit_named(units[i].ns, n)).filter(|j| *j != i).collect();
            targets.sort_unstable();
            targets.dedup();
            targets
        })
        .collect();

    // The entry points: the units the tables and the decoder name, and those nothing names.
    let mut named_by_others = vec![false; units.len()];
    for targets in &edges {
        for t in targets {
            named_by_others[*t] = true;
        }
    }
    let mut is_entry: Vec<bool> = named_by_others.iter().map(|n| !n).collect();
    for (ns, name) in entry_points {
        if let Some(i) = unit_of(*ns, name) {
            is_entry[i] = true;
        }
    }
    let entries: Vec<usize> = (0..units.len()).filter(|i| is_entry[*i]).collect();
    let words = entries.len().div_ceil(64).max(1);
    let mut reach: Vec<Vec<u64>> = vec![vec![0; words]; units.len()];
    for (bit, unit) in entries.iter().enumerate() {
        reach[*unit][bit / 64] |= 1 << (bit % 64);
    }
    // Components come out after everything they name, so in reverse each comes after everything naming it.
    for component in crate::ir::check::strongly_connected(&edges).into_iter().rev() {
        let mut set = vec![0u64; words];
        for i in &component {
            for (w, r) in set.iter_mut().zip(&reach[*i]) {
                *w |= r;
            }
        }
        for i in &component {
            reach[*i].clone_from(&set);
            for t in &edges[*i] {
                for (w, r) in reach[*t].iter_mut().zip(&set) {
                    *w |= r;
                }
            }
        }
    }

    // Modules: the units of a namespace with the same entry points, in schema order.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of: HashMap<(NamespaceId, &[u64]), usize> = HashMap::new();
    let mut module_of_unit = vec![0; units.len()];
    for (i, u) in units.iter().enumerate() {
        let g = *group_of.entry((u.ns, reach[i].as_slice())).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
        module_of_unit[i] = g;
    }
    // Each module is named after its first entry point (or else its first unit), unique in its namespace.
    let mut module_names: Vec<String> = vec![String::new(); groups.len()];
    for ns in &namespaces {
        let in_ns: Vec<usize> = (0..groups.len()).filter(|g| units[groups[*g][0]].ns == *ns).collect();
        let leads: Vec<&str> = in_ns
            .iter()
            .map(|g| {
                let lead = groups[*g].iter().copied().find(|i| is_entry[*i]).unwrap_or(groups[*g][0]);
                units[lead].name.as_str()
            })
            .collect();
        for (g, name) in in_ns.iter().zip(super::names::model_modules(&leads)) {
            module_names[*g] = name;
        }
    }

    let group_ns: Vec<NamespaceId> = groups.iter().map(|g| units[g[0]].ns).collect();
    let mut slots: Vec<Option<Unit>> = units.into_iter().map(Some).collect();
    let mut files: Vec<NamespaceFiles> = Vec::new();
    for ns in &namespaces {
        let depth = ir.namespaces[ns.0].path.len();
        let doc = model.namespace_doc(*ns);
        let mut modules = Vec::new();
        let mut holds: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (g, members) in groups.iter().enumerate().filter(|(g, _)| group_ns[*g] == *ns) {
            let mut items: Vec<(super::views::Slot, usize, usize, Item)> = Vec::new();
            let mut eager: BTreeSet<NamespaceId> = BTreeSet::new();
            let mut exports: Vec<String> = Vec::new();
            let mut names: BTreeSet<&Named> = BTreeSet::new();
            for (order, i) in members.iter().enumerate() {
                let unit = slots[*i].take().expect("each unit is in one module");
                exports.extend(unit.exports);
                names.extend(&named[*i]);
                for (_, item) in &unit.items {
                    eager.extend(item.eager_names().into_iter().filter_map(|n| match n {
                        Named::Other(other, _) => Some(other),
                        Named::Local(_) | Named::Import(_) => None,
                    }));
                }
                items.extend(unit.items.into_iter().enumerate().map(|(k, (slot, item))| (slot, order, k, item)));
            }
            items.sort_by_key(|(slot, order, k, _)| (*slot, *order, *k));
            let (items, union) = place(items.into_iter().map(|(_, _, _, item)| item).collect());
            exports.sort();
            exports.dedup();
            layout::all_order(&mut exports);
            holds.insert(module_names[g].clone(), exports.clone());

            // What the module imports: from `typing`, `pydantic` and `_base` what its items name, the
            // `_models` package of each other namespace it names, and the names of this namespace's other
            // modules it uses.
            let pick = |candidates: &[&'static str]| -> Vec<String> {
                let mut picked: Vec<String> =
                    candidates.iter().filter(|c| names.contains(&Named::Import(c))).map(|c| c.to_string()).collect();
                layout::import_order(&mut picked);
                picked
            };
            let mut typing = pick(TYPING);
            if union {
                typing.push("Union".into());
                layout::import_order(&mut typing);
            }
            let pydantic = pick(PYDANTIC);
            let base = pick(BASE);
            let mut local: Vec<(usize, String, Vec<String>)> = Vec::new();
            if !base.is_empty() {
                local.push((
                    depth + 2,
                    "_base".into(),
                    layout::import_from("", &format!("{}_base", ".".repeat(depth + 2)), &base),
                ));
            }
            let others: BTreeSet<NamespaceId> = names
                .iter()
                .filter_map(|n| match n {
                    Named::Other(other, _) => Some(*other),
                    Named::Local(_) | Named::Import(_) => None,
                })
                .collect();
            let mut late: Vec<(usize, String, Vec<String>)> = Vec::new();
            for other in others {
                let path: Vec<&str> = ir.namespaces[other.0].modules.iter().map(|m| m.ident.as_str()).collect();
                let from = format!("{}{}", ".".repeat(depth + 2), path.join("."));
                let line = format!("from {from} import _models as {}", module_alias(ir, other));
                let import = (depth + 2, path.join("."), vec![line]);
                if eager.contains(&other) {
                    local.push(import);
                } else {
                    late.push(import);
                }
            }
            let mut from_modules: BTreeMap<usize, Vec<String>> = BTreeMap::new();
            for name in &names {
                let Named::Local(name) = name else { continue };
                if let Some(i) = unit_of(*ns, name) {
                    if module_of_unit[i] != g {
                        from_modules.entry(module_of_unit[i]).or_default().push(name.to_string());
                    }
                }
            }
            for (other, mut imported) in from_modules {
                layout::import_order(&mut imported);
                let module = &module_names[other];
                local.push((1, module.clone(), layout::import_from("", &format!(".{module}"), &imported)));
            }
            // isort: furthest relative imports first, then by module.
            let isort = |a: &(usize, String, Vec<String>), b: &(usize, String, Vec<String>)| {
                b.0.cmp(&a.0).then_with(|| a.1.to_lowercase().cmp(&b.1.to_lowercase()))
            };
            local.sort_by(isort);
            late.sort_by(isort);
            let late_imports: Vec<String> = late.into_iter().flat_map(|(_, _, lines)| lines).collect();
            let late_blank = if items.last().is_some_and(|p| p.item.is_block()) { "\n" } else { "" }.to_string();
            let mut imports = Vec::new();
            if !typing.is_empty() {
                imports.push(layout::import_from("", "typing", &typing));
            }
            if !pydantic.is_empty() {
                imports.push(layout::import_from("", "pydantic", &pydantic));
            }
            if !local.is_empty() {
                imports.push(local.into_iter().flat_map(|(_, _, lines)| lines).collect());
            }
            modules.push((
                module_names[g].clone(),
                TypesView {
                    header: header.to_vec(),
                    doc: doc.clone(),
                    imports,
                    items,
                    late_imports,
                    late_blank,
                    exports,
                },
            ));
        }

        let exports: Vec<String> = holds.values().flatten().cloned().collect();
        let mut all_names = exports.clone();
        layout::all_order(&mut all_names);
        let position: HashMap<&str, usize> = all_names.iter().enumerate().map(|(i, n)| (n.as_str(), i)).collect();
        let mut by_name: Vec<(String, String)> =
            holds.iter().flat_map(|(m, names)| names.iter().map(move |n| (n.clone(), m.clone()))).collect();
        by_name.sort_by_key(|(n, _)| position[n.as_str()]);
        let mut module_imports: Vec<(&String, &Vec<String>)> =
            holds.iter().filter(|(_, names)| !names.is_empty()).collect();
        module_imports.sort_by_key(|(m, _)| m.to_lowercase());
        let type_checking: Vec<String> = module_imports
            .into_iter()
            .flat_map(|(module, names)| {
                let mut names = names.clone();
                layout::import_order(&mut names);
                layout::import_from("    ", &format!(".{module}"), &names)
            })
            .collect();
        let submodules: Vec<String> =
            ir.children(*ns).iter().map(|c| ir.namespaces[c.0].modules.last().expect("nested").ident.clone()).collect();
        let mut imports = exports.clone();
        layout::import_order(&mut imports);
        let mut all: Vec<String> = exports.iter().cloned().chain(submodules.iter().cloned()).collect();
        layout::all_order(&mut all);
        let mut submodules = submodules;
        layout::import_order(&mut submodules);
        files.push(NamespaceFiles {
            ns: *ns,
            init: InitView {
                header: header.to_vec(),
                doc: doc.clone(),
                all,
                imports,
                submodules,
                versions: ir.namespaces[ns.0].path.is_empty().then(|| versions.clone()),
            },
            models: ModelsView { header: header.to_vec(), doc, imports: type_checking, modules: by_name },
            modules,
        });
    }
    files
}
