//! The order of a module's items: each after what it needs, annotations that name something defined later
//! deferred (quoted); and which aliases name themselves (they become root models).

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

use super::expr::{Expr, Named};
use super::items::{AliasView, Item, Placed};
use crate::emit::python::layout;

/// Orders a module's items so that each comes after what it needs, and defers (quotes) annotations that
/// still name something defined later in the module: classes that refer to each other, root models that
/// name themselves. Names from this namespace's other modules are imported before, so they are not
/// deferred; names of other namespaces (`_v2.Thread`) are, since two namespaces may name each other. Returns
/// whether a root model needs `Union` (for quoted members).
pub(in crate::emit::python) fn place(items: Vec<Item>) -> (Vec<Placed>, bool) {
    let index: HashMap<String, usize> =
        items.iter().enumerate().map(|(i, item)| (item.name().to_string(), i)).collect();
    let edges: Vec<Vec<usize>> = items.iter().map(|item| needs(&item.names(), &index)).collect();
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
            let own = c.name.as_str();
            let later = |n: &Named| match n {
                Named::Local(n) => index.contains_key(n) && (n == own || !defined.contains(n)),
                Named::Other(..) => true,
                Named::Import(_) => false,
            };
            for f in &mut c.fields {
                if f.ty.names().any(later) {
                    f.defer();
                }
            }
            if let Some(root) = &c.root {
                let value = root.value(later);
                union |= value.names().any(|n| *n == Named::Import("Union"));
                c.base = Expr::import("RootModel") + "[" + value + "]";
            }
            c.head = layout::class_head(&c.name, c.base.text());
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
    let edges: Vec<Vec<usize>> =
        aliases.iter().map(|a| needs(a.union.members.iter().flat_map(Expr::names), &index)).collect();
    let mut recursive = HashSet::new();
    for component in crate::ir::check::strongly_connected(&edges) {
        if component.len() > 1 || edges[component[0]].contains(&component[0]) {
            recursive.extend(component.into_iter().map(|i| aliases[i].name.clone()));
        }
    }
    recursive
}

/// The items of `index` that `names` mentions, each once, in index order.
fn needs<'n, S: Borrow<str> + Eq + Hash>(
    names: impl IntoIterator<Item = &'n Named>,
    index: &HashMap<S, usize>,
) -> Vec<usize> {
    let mut needs: Vec<usize> = names
        .into_iter()
        .filter_map(|n| match n {
            Named::Local(n) => index.get(n.as_str()).copied(),
            Named::Other(..) | Named::Import(_) => None,
        })
        .collect();
    needs.sort_unstable();
    needs.dedup();
    needs
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn quoting_a_forward_name_leaves_string_literals_alone() {
        // A root model quotes the names it mentions before they are defined, itself included; a literal
        // holding the same word is text, not a mention.
        let schema = r##"{"definitions": {"Tree": {"anyOf": [
            {"type": "string", "enum": ["x Tree y"]},
            {"type": "array", "items": {"$ref": "#/definitions/Tree"}}
        ]}}}"##;
        let options = crate::Options { languages: vec![crate::Language::Python], ..Default::default() };
        let out = crate::generate_from_text(Path::new("t.json"), schema, &options).unwrap();
        let tree = out.files.iter().find(|f| f.path.ends_with("/_models/tree.py")).unwrap();
        assert!(
            tree.contents.contains("class Tree(RootModel[Literal[\"x Tree y\"] | list[\"Tree\"] | Any]):"),
            "{}",
            tree.contents
        );
    }
}
