//! What several test files share: schemas built by the tests rather than kept as files (ones nested to a
//! chosen depth), and a folder read as a whole.

// Each test file uses part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// How a nested schema nests: each level wraps the next in one of these.
#[derive(Debug, Clone, Copy)]
pub enum Nesting {
    /// `{"type": "object", "properties": {"a": …}}`: two JSON levels a level.
    Properties,
    /// `{"type": "array", "items": …}`: one JSON level a level.
    Items,
    /// `{"anyOf": […, {"type": "integer"}]}`: two JSON levels a level.
    AnyOf,
    /// The three in turn.
    Mixed,
}

impl Nesting {
    pub const ALL: [Nesting; 4] = [Nesting::Properties, Nesting::Items, Nesting::AnyOf, Nesting::Mixed];

    /// The form of level `i` (counted from the outside).
    fn at(self, i: usize) -> Nesting {
        match self {
            Nesting::Mixed => [Nesting::Properties, Nesting::Items, Nesting::AnyOf][i % 3],
            other => other,
        }
    }

    /// The text before and after the inner schema, and the pointer tokens from a level's node to the inner one.
    fn wrapper(self) -> (&'static str, &'static str, &'static [&'static str]) {
        match self {
            Nesting::Properties => (r#"{"type": "object", "properties": {"a": "#, "}}", &["properties", "a"]),
            Nesting::Items => (r#"{"type": "array", "items": "#, "}", &["items"]),
            // The nested schema first, so that it is the first thing past any depth.
            Nesting::AnyOf => (r#"{"anyOf": ["#, r#", {"type": "integer"}]}"#, &["anyOf", "0"]),
            Nesting::Mixed => unreachable!("a mixed level is one of the others"),
        }
    }
}

/// A schema whose definition `Deep` nests `levels` schemas deep around a string. Built as text, so any
/// depth can be written without recursion.
pub fn nested_schema(nesting: Nesting, levels: usize) -> String {
    let mut text = String::from(r#"{"$schema": "http://json-schema.org/draft-07/schema#", "definitions": {"Deep": "#);
    for i in 0..levels {
        text.push_str(nesting.at(i).wrapper().0);
    }
    text.push_str(r#"{"type": "string"}"#);
    for i in (0..levels).rev() {
        text.push_str(nesting.at(i).wrapper().1);
    }
    text.push_str("}}");
    text
}

/// The JSON pointer of the JSON object or array that opens `json_level` in [`nested_schema`] (the document
/// is level 1, `definitions` level 2, `Deep` level 3).
pub fn pointer_at_level(nesting: Nesting, json_level: usize) -> String {
    let mut tokens = vec!["definitions", "Deep"];
    let mut i = 0;
    while tokens.len() < json_level - 1 {
        tokens.extend(nesting.at(i).wrapper().2);
        i += 1;
    }
    tokens.truncate(json_level - 1);
    tokens.iter().map(|t| format!("/{t}")).collect()
}

/// The most levels of `nesting` whose JSON nests at most `max_json_levels` deep.
pub fn most_levels_within(nesting: Nesting, max_json_levels: usize) -> usize {
    let mut levels = 0;
    let mut depth = 3;
    loop {
        let cost = nesting.at(levels).wrapper().2.len();
        if depth + cost > max_json_levels {
            return levels;
        }
        depth += cost;
        levels += 1;
    }
}

/// Every file under `dir` with its bytes, and every folder (with a trailing `/`, and no bytes).
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("list a folder") {
            let path = entry.expect("a directory entry").path();
            let relative = path.strip_prefix(dir).expect("below dir").to_path_buf();
            if path.is_dir() {
                out.insert(relative.join(""), Vec::new());
                stack.push(path);
            } else {
                out.insert(relative, std::fs::read(&path).expect("read a file"));
            }
        }
    }
    out
}
