//! Property: for random valid schemas (definitions at the top level and in `v2`, objects, string enums,
//! tagged and untagged unions, aliases, arrays, maps, refs with cycles, nullable types, defaults, methods,
//! odd names and descriptions), generation either fails with an error or writes Rust that `syn` parses and
//! Python that Python compiles. Any panic is a failure, shrunk by proptest to a small schema.
//!
//! The Python files of every generated case are compiled at the end, in one `python3` process.

#[path = "support/schema_spec.rs"]
mod schema_spec;

use std::cell::RefCell;
use std::path::Path;
use std::process::Command;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use schema_spec::*;

fn name() -> impl Strategy<Value = Name> {
    prop_oneof![
        3 => any::<u8>().prop_map(Name::Odd),
        3 => (0u8..12).prop_map(Name::Plain),
        2 => "[A-Za-z_][A-Za-z0-9_ ./~%-]{0,10}".prop_map(Name::Text),
        1 => "\\PC{0,6}".prop_map(Name::Text),
    ]
}

fn description() -> impl Strategy<Value = Option<String>> {
    prop::option::weighted(
        0.4,
        prop_oneof![
            "[ -~]{0,40}",
            "\\PC{0,20}",
            "(\\*/|/\\*|\"\"\"|'''|\\\\|\\{\\{|\\}\\}|\n|\r|`|#\\[doc|\u{202e}|\u{2028}| ){1,8}",
        ],
    )
}

fn int_format() -> impl Strategy<Value = IntFormat> {
    prop_oneof![
        Just(IntFormat::None),
        Just(IntFormat::Int32),
        Just(IntFormat::Int64),
        Just(IntFormat::Uint),
        Just(IntFormat::Uint16),
        Just(IntFormat::Uint32),
        Just(IntFormat::Uint64),
    ]
}

fn ty() -> BoxedStrategy<Ty> {
    let leaf = prop_oneof![
        1 => Just(Ty::String),
        1 => Just(Ty::Boolean),
        1 => int_format().prop_map(Ty::Integer),
        1 => Just(Ty::Number),
        1 => Just(Ty::Any),
        4 => any::<u16>().prop_map(Ty::Ref),
        1 => any::<u16>().prop_map(Ty::RefWithDefault),
        1 => prop::collection::vec(name(), 1..4).prop_map(Ty::InlineEnum),
        1 => name().prop_map(Ty::Const),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|t| Ty::Array(Box::new(t))),
            inner.clone().prop_map(|t| Ty::Map(Box::new(t))),
            (inner.clone(), any::<bool>()).prop_map(|(t, any_of)| Ty::Nullable { inner: Box::new(t), any_of }),
            object_of(inner).prop_map(|o| Ty::InlineObject(Box::new(o))),
        ]
    })
    .boxed()
}

fn object_of(ty: impl Strategy<Value = Ty> + Clone) -> impl Strategy<Value = Object> {
    let field = (name(), ty.clone(), any::<bool>(), description(), prop::bool::weighted(0.2))
        .prop_map(|(name, ty, required, description, default)| Field { name, ty, required, description, default });
    let additional = prop_oneof![
        3 => Just(Additional::Unsaid),
        1 => Just(Additional::Allowed),
        1 => Just(Additional::Forbidden),
        1 => ty.prop_map(Additional::Schema),
    ];
    (prop::collection::vec(field, 0..5), additional).prop_map(|(fields, additional)| Object { fields, additional })
}

fn object() -> impl Strategy<Value = Object> {
    object_of(ty())
}

fn body() -> impl Strategy<Value = Body> {
    let variant = (name(), prop::option::of(name()), description(), object())
        .prop_map(|(value, title, description, object)| Variant { value, title, description, object });
    prop_oneof![
        3 => object().prop_map(Body::Object),
        1 => (prop::collection::vec(name(), 1..5), any::<bool>()).prop_map(|(values, one_of)| Body::StringEnum { values, one_of }),
        2 => (name(), any::<bool>(), prop::collection::vec(variant, 1..4))
            .prop_map(|(tag, as_const, variants)| Body::Tagged { tag, as_const, variants }),
        1 => (prop::collection::vec(ty(), 1..4), any::<bool>()).prop_map(|(variants, one_of)| Body::Untagged { variants, one_of }),
        1 => ty().prop_map(Body::Alias),
    ]
}

fn spec() -> impl Strategy<Value = Spec> {
    let definition =
        (name(), prop::bool::weighted(0.3), prop::option::weighted(0.2, "\\PC{0,10}"), description(), body())
            .prop_map(|(name, v2, title, description, body)| Definition { name, v2, title, description, body });
    let union = prop_oneof![
        Just(MessageUnion::ClientRequest),
        Just(MessageUnion::ClientNotification),
        Just(MessageUnion::ServerRequest),
        Just(MessageUnion::ServerNotification),
    ];
    let params = prop_oneof![Just(ParamsStyle::Required), Just(ParamsStyle::Optional), Just(ParamsStyle::None)];
    let method = (name(), union, params, object(), object()).prop_map(
        |(name, union, params, params_object, response_object)| Method {
            name,
            union,
            params,
            params_object,
            response_object,
        },
    );
    (prop::collection::vec(definition, 0..8), prop::collection::vec(method, 0..4), prop::option::of("\\PC{0,10}"))
        .prop_map(|(definitions, methods, title)| Spec { definitions, methods, title })
}

/// One generated case: the schema and the Python files written from it.
struct Case {
    schema: String,
    python: Vec<(String, String)>,
}

#[test]
fn random_valid_schemas_generate_code_that_parses_or_fail_with_an_error() {
    let cases = 128;
    let mut runner = TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() });
    let generated = RefCell::new(Vec::new());
    let rejected = RefCell::new(Vec::new());
    let result = runner.run(&spec(), |spec| {
        let schema = spec.render();
        match codegen::generate_from_text(Path::new("random.json"), &schema, &codegen::Options::default()) {
            Ok(output) => {
                let mut python = Vec::new();
                for file in output.files {
                    if file.path.ends_with(".rs") {
                        if let Err(e) = syn::parse_file(&file.contents) {
                            return Err(TestCaseError::fail(format!(
                                "{} does not parse: {e}\n{}",
                                file.path, file.contents
                            )));
                        }
                    } else if file.path.ends_with(".py") {
                        python.push((file.path, file.contents));
                    }
                }
                prop_assert!(!python.is_empty(), "no Python files");
                generated.borrow_mut().push(Case { schema, python });
            }
            Err(e) => {
                prop_assert!(!e.message.is_empty());
                rejected.borrow_mut().push(e.to_string());
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let (generated, rejected) = (generated.into_inner(), rejected.into_inner());
    eprintln!("{} schemas generated, {} rejected:", generated.len(), rejected.len());
    for message in &rejected {
        eprintln!("  {message}");
    }
    // The strategy is meant to draw valid schemas: most must generate, or the parse checks test little.
    assert!(
        generated.len() * 2 >= generated.len() + rejected.len(),
        "{} of {} random schemas were rejected, e.g. {:#?}",
        rejected.len(),
        generated.len() + rejected.len(),
        &rejected[..rejected.len().min(5)]
    );
    python_compiles(&generated);
}

/// Compiles every Python file of every case in one `python3` process; on failure names the case's schema.
fn python_compiles(cases: &[Case]) {
    let dir = tempfile::tempdir().unwrap();
    let files: usize = cases.iter().map(|case| case.python.len()).sum();
    for (i, case) in cases.iter().enumerate() {
        let root = dir.path().join(format!("case{i}"));
        for (path, contents) in &case.python {
            let file = root.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, contents).unwrap();
        }
    }
    let script = r#"
import pathlib, sys
failed, compiled = [], 0
for path in sorted(pathlib.Path(sys.argv[1]).rglob("*.py")):
    try:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
        compiled += 1
    except SyntaxError as e:
        failed.append(f"{path.relative_to(sys.argv[1])}: {e}")
print("\n".join(failed) if failed else f"compiled {compiled}")
sys.exit(1 if failed else 0)
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(dir.path())
        .output()
        .expect("python3 runs (the Python half of this property needs it)");
    if !output.status.success() {
        let report = String::from_utf8_lossy(&output.stdout);
        let first = report.lines().next().unwrap_or_default();
        let case: usize =
            first.strip_prefix("case").and_then(|s| s.split('/').next()).and_then(|s| s.parse().ok()).unwrap_or(0);
        panic!(
            "generated Python does not compile:\n{report}\n{}\nschema of {first}:\n{}",
            String::from_utf8_lossy(&output.stderr),
            cases.get(case).map(|c| c.schema.as_str()).unwrap_or_default()
        );
    }
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), format!("compiled {files}"));
}
