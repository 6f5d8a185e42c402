//! The library's modules form floors, and a module only uses modules on its own floor or below:
//!
//! | floor | modules |
//! |---|---|
//! | 0 | `error`, `package`, `threads` |
//! | 1 | `load` |
//! | 2 | `ir` |
//! | 3 | `naming`, `diff` (each reads the IR; neither uses the other) |
//! | 4 | `emit` |
//! | 5 | `output` (writes the files `emit` returns) |
//! | 6 | `lib.rs` (the pipeline) |
//! | 7 | `fuzz`, `main.rs` (entry points that call the pipeline) |
//!
//! Every `crate::<module>` path of a source file's code (not its comments, strings, or `#[cfg(test)]
//! mod tests`) is checked, and so is every top-level `crate::<item>` of `lib.rs`, which is floor 6.

use std::path::{Path, PathBuf};

const FLOORS: &[(&str, usize)] = &[
    ("error", 0),
    ("package", 0),
    ("threads", 0),
    ("load", 1),
    ("ir", 2),
    ("naming", 3),
    ("diff", 3),
    ("emit", 4),
    ("output", 5),
    ("lib", 6),
    ("fuzz", 7),
    ("main", 7),
];

fn floor(module: &str) -> Option<usize> {
    FLOORS.iter().find(|(m, _)| *m == module).map(|(_, f)| *f)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a file without comments, string and character literals, and its unit-test module.
fn code(text: &str) -> String {
    let at = |chars: &[char], i: usize| chars.get(i).copied();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(end) => &text[..end],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '/' if at(&chars, i + 1) == Some('/') => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(&chars, i + 1) == Some('*') => {
                i += 2;
                while i < chars.len() && !(chars[i] == '*' && at(&chars, i + 1) == Some('/')) {
                    i += 1;
                }
                i += 2;
            }
            // A raw string: `r"..."`, `r#"..."#`, ...
            'r' if matches!(at(&chars, i + 1), Some('"' | '#')) && (i == 0 || !chars[i - 1].is_alphanumeric()) => {
                let mut hashes = 0;
                i += 1;
                while chars.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                if chars.get(i) != Some(&'"') {
                    continue;
                }
                i += 1;
                loop {
                    match chars.get(i) {
                        None => break,
                        Some('"') if (1..=hashes).all(|k| chars.get(i + k) == Some(&'#')) => {
                            i += 1 + hashes;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    i += if chars[i] == '\\' { 2 } else { 1 };
                }
                i += 1;
            }
            // A character literal (`'"'`, `'\''`); a lifetime has no closing quote.
            '\'' if at(&chars, i + 2) == Some('\'')
                || (at(&chars, i + 1) == Some('\\') && at(&chars, i + 3) == Some('\'')) =>
            {
                i += if at(&chars, i + 1) == Some('\\') { 4 } else { 3 };
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// The modules a file's code names with a `crate::` path, with the line it is on.
fn crate_paths(code: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in code.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            // `crate::{a, b::c}` names several.
            let names: Vec<String> = if let Some(group) = rest.strip_prefix('{') {
                let group = &group[..group.find('}').unwrap_or(group.len())];
                group.split(',').map(|p| p.trim().split("::").next().unwrap_or("").to_string()).collect()
            } else {
                vec![rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()]
            };
            found.extend(names.into_iter().filter(|s| !s.is_empty()).map(|s| (n + 1, s)));
        }
    }
    found
}

#[test]
fn modules_only_use_modules_on_their_floor_or_below() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut upward = Vec::new();
    for file in &files {
        let relative = file.strip_prefix(&src).expect("inside src");
        let module = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|m| m.trim_end_matches(".rs"))
            .expect("a file name");
        let own = floor(module).unwrap_or_else(|| panic!("{module} is on no floor: add it to FLOORS"));
        let text = std::fs::read_to_string(file).expect("read a source file");
        for (line, used) in crate_paths(&code(&text)) {
            // An item of `lib.rs` itself (`crate::Options`) is on the pipeline's floor.
            let target = floor(&used).unwrap_or(floor("lib").expect("lib has a floor"));
            if target > own {
                upward.push(format!(
                    "{}:{line}: {module} (floor {own}) uses crate::{used} (floor {target})",
                    relative.display()
                ));
            }
        }
    }
    assert!(upward.is_empty(), "uses of a higher floor:\n{}", upward.join("\n"));
}

#[test]
fn the_scanner_sees_code_only() {
    let text = "use crate::ir::Ir; // crate::emit\nlet s = \"crate::lib\"; let r = r#\"crate::x\"#;\nlet c = '\"'; crate::{naming::idents, load};\n#[cfg(test)]\nmod tests { crate::emit }";
    let paths: Vec<String> = crate_paths(&code(text)).into_iter().map(|(_, m)| m).collect();
    assert_eq!(paths, ["ir", "naming", "load"]);
}
