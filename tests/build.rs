//! Writes a table of every definition of the pinned schema with a function that round-trips a value
//! through its generated Rust type. The names come from the generator's own naming pass.

use std::fmt::Write as _;
use std::path::Path;

use codegen::ir::{NameHint, TypeId, TypeKind};

fn main() {
    let schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema").join(codegen::load::BUNDLE_FILE);
    println!("cargo:rerun-if-changed={}", schema.display());
    let text = std::fs::read_to_string(&schema).expect("the pinned schema is readable");
    let model = codegen::model(&schema, &text).expect("the pinned schema generates");
    let (rust, python) = (model.named_for(codegen::Language::Rust), model.named_for(codegen::Language::Python));
    let ir = &model.ir;
    let mut out =
        String::from("/// Every definition of the pinned schema.\npub const DEFINITIONS: &[Definition] = &[\n");
    for (id, def) in ir.types.iter().enumerate().map(|(i, def)| (TypeId(i), def)) {
        let NameHint::Definition(key) = &def.origin.hint else {
            continue;
        };
        let path = codegen::emit::rust::names::path(&rust, id, "codex_app_server_types");
        let kind = match &def.kind {
            TypeKind::Tagged(u) => format!("Kind::Tagged({:?})", u.tag.wire),
            TypeKind::Enum(_) => "Kind::Enum".to_string(),
            TypeKind::Struct(_) => "Kind::Struct".to_string(),
            _ => "Kind::Other".to_string(),
        };
        let python = codegen::emit::python::names::path(&python, id, "codex_app_server_types");
        writeln!(
            out,
            "    Definition {{ pointer: {:?}, key: {key:?}, python: {python:?}, kind: {kind}, roundtrip: roundtrip::<{path}> }},",
            def.origin.location.pointer
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = Path::new(&std::env::var("OUT_DIR").unwrap()).join("definitions.rs");
    std::fs::write(dest, out).unwrap();
}
