//! The order of a module's items: each after what it needs, annotations that name something defined later
//! deferred (quoted); and which aliases name themselves (they become root models).

use std::collections::{HashMap, HashSet};

use super::items::{AliasView, Item, Placed};
use super::text::identifiers;
use crate::emit::python::layout;

/// Orders a module's items so that each comes after what it needs, and defers (quotes) annotations that
/// still name something defined later in the module: classes that refer to each other, root models that
/// name themselves. Names from this namespace's other modules are imported before, so they are not
/// deferred; names of other namespaces (`_v2.Thread`) are, since two namespaces may name each other. Returns
/// whether a root model needs `Union` (for quoted members).
pub(in crate::emit::python) fn place(items: Vec<Item>, namespaces: &[String]) -> (Vec<Placed>, bool) {
    let index: HashMap<String, usize> =
        items.iter().enumerate().map(|(i, item)| (item.name().to_string(), i)).collect();
    let edges: Vec<Vec<usize>> = items
        .iter()
        .map(|item| {
            let code = item.code();
            let mut needs: Vec<usize> =
                code.iter().flat_map(|c| identifiers(c)).filter_map(|n| index.get(n).copied()).collect();
            needs.sort_unstable();
            needs.dedup();
            needs
        })
        .collect();
    let mut slots: Vec<Option<Item>> = items.into_iter().map(Some).collect();
    let mut ordered: Vec<Item> = Vec::new();
    for mut component in crate::ir::check::strongly_connected(&edges) {
        // Within a cycle, the original order: classes before the aliases that name them.
        component.sort_unstable();
        ordered.extend(component.into_iter().map(|i| slots[i].take().expect("each item is in one component")));
    }
    let mut defined: HashSet<String> = HashSet::new();
    let mut placed = Vec::new();
    let mut previous_block = true;
    let mut union = false;
    for mut item in ordered {
        if let Item::Class(c) = &mut item {
            let own = c.name.clone();
            let other_namespace =
                |n: &str| n.split_once('.').is_some_and(|(alias, _)| namespaces.iter().any(|a| a == alias));
            let later = |n: &str| (index.contains_key(n) && (n == own || !defined.contains(n))) || other_namespace(n);
            for f in &mut c.fields {
                if identifiers(&f.ty).any(later) {
                    f.defer();
                }
            }
            let base = match &c.root {
                Some(root) => {
                    let forward: Vec<String> = root
                        .members
                        .iter()
                        .flat_map(|m| identifiers(m))
                        .filter(|n| later(n))
                        .map(str::to_string)
                        .collect();
                    let value = root.value(&forward);
                    union |= value.starts_with("Union[") || value.starts_with("Annotated[Union[");
                    format!("RootModel[{value}]")
                }
                None => c.base.clone(),
            };
            c.head = layout::class_head(&c.name, &base);
        }
        defined.insert(item.name().to_string());
        let blank = if item.is_block() || previous_block { "\n" } else { "" };
        previous_block = item.is_block();
        placed.push(Placed { blank: blank.to_string(), item });
    }
    (placed, union)
}

/// The aliases that name themselves, directly or through others.
pub(in crate::emit::python) fn recursive_aliases(aliases: &[&AliasView]) -> HashSet<String> {
    let index: HashMap<&str, usize> = aliases.iter().enumerate().map(|(i, a)| (a.name.as_str(), i)).collect();
    let edges: Vec<Vec<usize>> = aliases
        .iter()
        .map(|a| {
            let mut needs: Vec<usize> =
                a.members.iter().flat_map(|m| identifiers(m)).filter_map(|n| index.get(n).copied()).collect();
            needs.sort_unstable();
            needs.dedup();
            needs
        })
        .collect();
    let mut recursive = HashSet::new();
    for component in crate::ir::check::strongly_connected(&edges) {
        if component.len() > 1 || edges[component[0]].contains(&component[0]) {
            recursive.extend(component.into_iter().map(|i| aliases[i].name.clone()));
        }
    }
    recursive
}
