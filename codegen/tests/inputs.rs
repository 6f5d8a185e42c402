//! The forms of input the generator accepts: the bundle, a folder holding it, any single draft-07 schema.

use std::path::Path;

use codegen::Options;

const BUNDLE: &str = r##"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "title": "CodexAppServerProtocol",
  "type": "object",
  "definitions": {
    "RequestId": {"anyOf": [{"type": "string"}, {"type": "integer", "format": "int64"}]},
    "v2": {"Thread": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}
  }
}"##;

#[test]
fn a_folder_written_by_codex_is_read_through_its_bundle() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(codegen::load::BUNDLE_FILE), BUNDLE).unwrap();
    // Codex writes per-type files beside the bundle; they are not read.
    std::fs::write(dir.path().join("Thread.json"), "not even JSON").unwrap();
    let from_dir = codegen::generate(dir.path(), &Options::default()).unwrap();
    let from_file = codegen::generate(&dir.path().join(codegen::load::BUNDLE_FILE), &Options::default()).unwrap();
    assert_eq!(from_dir.files, from_file.files);
    assert_eq!(from_dir.summary.definitions, 2);
}

#[test]
fn a_folder_without_a_bundle_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let e = codegen::generate(dir.path(), &Options::default()).unwrap_err();
    assert!(e.message.contains(codegen::load::BUNDLE_FILE), "{e}");
}

#[test]
fn a_single_type_schema_is_a_type_named_by_its_title() {
    let schema = r##"{
      "$schema": "http://json-schema.org/draft-07/schema#",
      "title": "ThreadStartParams",
      "type": "object",
      "properties": {"cwd": {"type": ["string", "null"]}, "mode": {"$ref": "#/definitions/Mode"}},
      "definitions": {"Mode": {"type": "string", "enum": ["a", "b"]}}
    }"##;
    let out = codegen::generate_from_text(Path::new("ThreadStartParams.json"), schema, &Options::default()).unwrap();
    let lib = &out.files.iter().find(|f| f.path == "rust/src/lib.rs").unwrap().contents;
    assert!(lib.contains("pub struct ThreadStartParams {"), "{lib}");
    assert!(lib.contains("pub mode: Option<Mode>,"), "{lib}");
    assert_eq!(out.summary.definitions, 1);
}
