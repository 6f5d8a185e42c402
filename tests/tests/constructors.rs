//! The constructors of the generated structs write only what they were given (and the schema's defaults).

use codex_app_server_types::v2::{AskForApproval, TextUserInput, TurnStartParams, UserInput};
use codex_app_server_types::{ClientInfo, InitializeCapabilities, InitializeParams};
use serde_json::{json, Value};

fn wire<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

fn read_back<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let again: T = serde_json::from_value(wire(value)).unwrap();
    assert_eq!(&again, value);
}

#[test]
fn new_writes_the_required_fields_only() {
    let info = ClientInfo::new("sdk", String::from("1.2.3"));
    assert_eq!(wire(&info), json!({"name": "sdk", "version": "1.2.3"}));
    let params = InitializeParams::new(info);
    assert_eq!(wire(&params), json!({"clientInfo": {"name": "sdk", "version": "1.2.3"}}));
    read_back(&params);
}

#[test]
fn new_fills_schema_defaults() {
    // `text_elements` is optional with the default `[]`; a field with a default is always written.
    let text = TextUserInput::new("hello");
    assert_eq!(wire(&text), json!({"text": "hello", "text_elements": []}));
    let mut turn = TurnStartParams::new(vec![UserInput::Text(text)], "thread-1");
    assert_eq!(
        wire(&turn),
        json!({"input": [{"type": "text", "text": "hello", "text_elements": []}], "threadId": "thread-1"})
    );
    turn.cwd = Some(None);
    assert_eq!(wire(&turn)["cwd"], Value::Null);
    read_back(&turn);
}

#[test]
fn default_holds_schema_defaults() {
    let capabilities = InitializeCapabilities::default();
    assert_eq!(wire(&capabilities), json!({"experimentalApi": false, "requestAttestation": false}));
    let read: InitializeCapabilities = serde_json::from_value(json!({})).unwrap();
    assert_eq!(read, capabilities);
}

#[test]
fn a_variant_converts_into_its_union() {
    // A tagged union: `into()` picks the variant, and the value is written with its tag.
    let input: UserInput = TextUserInput::new("hi").into();
    assert!(matches!(&input, UserInput::Text(t) if t.text == "hi"), "{input:?}");
    assert_eq!(wire(&input)["type"], "text");
    // An untagged union: the variant `From` builds is the one reading the value picks.
    let granular = json!({"mcp_elicitations": true, "request_permissions": false, "rules": false, "sandbox_approval": true, "skill_approval": false});
    let wire_value = json!({ "granular": granular });
    let read: AskForApproval = serde_json::from_value(wire_value.clone()).unwrap();
    let AskForApproval::Granular(granular) = &read else { panic!("{read:?}") };
    let built = AskForApproval::from(granular.clone());
    assert_eq!(built, read);
    assert_eq!(wire(&built), wire_value);
}
