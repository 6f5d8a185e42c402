//! Reads a schema file (or a folder written by `generate-json-schema`) into typed nodes.

mod depth;
mod node;

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

pub use depth::MAX_DEPTH;
pub use node::{Additional, JsonType, Node};

use crate::error::{child_pointer, Error, Location, Result, Warning};

/// The bundle `codex app-server generate-json-schema` writes beside its per-type files.
pub const BUNDLE_FILE: &str = "codex_app_server_protocol.schemas.json";

/// A loaded schema document.
#[derive(Debug)]
pub struct Document {
    pub file: PathBuf,
    /// The document as parsed, used to resolve `$ref` pointers that do not name a definition.
    pub raw: Value,
    pub root: Node,
    /// `definitions`, split into namespaces: the top level first, then nested groups such as `v2`.
    pub namespaces: Vec<NamespaceDefs>,
    pub warnings: Vec<Warning>,
}

/// The definitions of one namespace.
#[derive(Debug)]
pub struct NamespaceDefs {
    /// Path below the top level: `[]` for the top level, `["v2"]` for `definitions/v2`.
    pub path: Vec<String>,
    pub definitions: IndexMap<String, Node>,
}

/// Parses schema text; `file` is used in messages only.
pub fn parse(file: &Path, text: &str) -> Result<Document> {
    if let Some(pointer) = depth::too_deep(text, MAX_DEPTH) {
        return Err(Error::at(
            file,
            pointer,
            format!("nested deeper than {MAX_DEPTH} levels of JSON objects and arrays, which is not supported"),
        ));
    }
    // serde_json's own limit (128 levels) would refuse schemas nested 64 levels deep; the scan above has
    // bounded the depth already, within what the pipeline's stack holds.
    let mut parser = serde_json::Deserializer::from_str(text);
    parser.disable_recursion_limit();
    let raw = Value::deserialize(&mut parser)
        .and_then(|v| parser.end().map(|()| v))
        .map_err(|e| Error::at(file, "", format!("invalid JSON at line {}, column {}: {e}", e.line(), e.column())))?;
    if !raw.is_object() {
        return Err(Error::at(file, "", "the document must be a JSON object"));
    }
    let mut issues = Vec::new();
    let root = Node::read(&raw, "", &mut issues);
    let mut namespaces = Vec::new();
    if let Some(defs) = raw.get("definitions") {
        read_namespace(defs, Vec::new(), "/definitions", &mut namespaces, &mut issues)
            .map_err(|(pointer, message)| Error::at(file, pointer, message))?;
    }
    let mut warnings = Vec::new();
    for issue in issues {
        match issue {
            node::Issue::Error { pointer, message } => return Err(Error::at(file, pointer, message)),
            node::Issue::Warning { pointer, message } => {
                warnings.push(Warning { location: Location::new(file, pointer), message })
            }
        }
    }
    Ok(Document { file: file.to_path_buf(), raw, root, namespaces, warnings })
}

/// The file to read for `path`: itself, or the bundle inside it when it is a folder.
pub fn schema_file(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let dir = path;
    let bundle = dir.join(BUNDLE_FILE);
    if bundle.is_file() {
        Ok(bundle)
    } else {
        Err(Error::at(dir, "", format!("this folder has no `{BUNDLE_FILE}`; pass the bundle or a schema file")))
    }
}

/// A `definitions` entry is a namespace when it is an object of schemas with no schema keyword of its own.
fn is_namespace(value: &Value) -> bool {
    let Some(object) = value.as_object() else { return false };
    !object.is_empty()
        && object.keys().all(|k| !k.starts_with('$') && !node::KNOWN_KEYWORDS.contains(&k.as_str()))
        && object.values().all(|v| v.is_object() || v.is_boolean())
}

fn read_namespace(
    defs: &Value,
    path: Vec<String>,
    pointer: &str,
    out: &mut Vec<NamespaceDefs>,
    issues: &mut Vec<node::Issue>,
) -> std::result::Result<(), (String, String)> {
    let Some(object) = defs.as_object() else {
        return Err((pointer.to_string(), "`definitions` must be an object".to_string()));
    };
    let index = out.len();
    out.push(NamespaceDefs { path: path.clone(), definitions: IndexMap::new() });
    let mut nested = Vec::new();
    for (name, value) in object {
        let at = child_pointer(pointer, name);
        if is_namespace(value) {
            nested.push((name, value, at));
        } else {
            let node = Node::read(value, &at, issues);
            out[index].definitions.insert(name.clone(), node);
        }
    }
    for (name, value, at) in nested {
        let mut sub = path.clone();
        sub.push(name.clone());
        read_namespace(value, sub, &at, out, issues)?;
    }
    Ok(())
}

impl Document {
    /// Resolves a `$ref` written at `from` to the JSON pointer of its target in this document.
    pub fn resolve(&self, reference: &str, from: &str) -> Result<String> {
        let at = || Location::new(&self.file, child_pointer(from, "$ref"));
        let Some(fragment) = reference.strip_prefix('#') else {
            return Err(Error::new(
                at(),
                format!("`$ref` \"{reference}\" points outside this document; remote references are not fetched"),
            ));
        };
        let pointer = percent_decode(fragment)
            .ok_or_else(|| Error::new(at(), format!("`$ref` \"{reference}\" is not a valid URI fragment")))?;
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(Error::new(
                at(),
                format!("`$ref` \"{reference}\" is not a JSON pointer; anchors are not supported"),
            ));
        }
        if self.raw.pointer(&pointer).is_none() {
            return Err(Error::new(at(), format!("`$ref` \"{reference}\" points to nothing in this document")));
        }
        Ok(pointer)
    }

    pub fn location(&self, pointer: &str) -> Location {
        Location::new(&self.file, pointer)
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Result<Document> {
        parse(Path::new("t.json"), text)
    }

    #[test]
    fn nested_namespaces_are_split() {
        let d = doc(
            r#"{"definitions": {"A": {"type": "string"}, "v2": {"B": {"type": "object"}, "A": {"type": "integer"}}}}"#,
        )
        .unwrap();
        assert_eq!(d.namespaces.len(), 2);
        assert_eq!(d.namespaces[0].definitions.keys().collect::<Vec<_>>(), ["A"]);
        assert_eq!(d.namespaces[1].path, ["v2"]);
        assert_eq!(d.namespaces[1].definitions.keys().collect::<Vec<_>>(), ["B", "A"]);
    }

    #[test]
    fn invalid_json_names_the_file_and_line() {
        let e = doc("{\n  \"definitions\": {,}\n}").unwrap_err();
        assert_eq!(e.location.file, Path::new("t.json"));
        assert!(e.message.contains("line 2"), "{e}");
    }

    #[test]
    fn bad_keyword_values_are_errors_with_pointers() {
        let e = doc(r#"{"definitions": {"A": {"properties": {"x": {"type": "strin"}}}}}"#).unwrap_err();
        assert_eq!(e.location.pointer, "/definitions/A/properties/x/type");
        assert!(e.message.contains("strin"));
    }

    #[test]
    fn unknown_keywords_warn() {
        let d = doc(r#"{"definitions": {"A": {"type": "string", "pattern": "^a"}}}"#).unwrap();
        assert_eq!(d.warnings.len(), 1);
        assert_eq!(d.warnings[0].location.pointer, "/definitions/A/pattern");
    }

    #[test]
    fn refs_resolve_or_fail_clearly() {
        let d = doc(r#"{"definitions": {"A~B": {"type": "string"}, "v2": {"C/D": {"type": "string"}}}}"#).unwrap();
        assert_eq!(d.resolve("#/definitions/A~0B", "/x").unwrap(), "/definitions/A~0B");
        assert_eq!(d.resolve("#/definitions/v2/C~1D", "/x").unwrap(), "/definitions/v2/C~1D");
        let dangling = d.resolve("#/definitions/Nope", "/definitions/A~0B").unwrap_err();
        assert_eq!(dangling.location.pointer, "/definitions/A~0B/$ref");
        assert!(dangling.message.contains("points to nothing"));
        let remote = d.resolve("https://example.com/s.json#/definitions/A", "/y").unwrap_err();
        assert!(remote.message.contains("remote references are not fetched"), "{remote}");
    }
}
