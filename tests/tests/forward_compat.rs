//! Old clients must survive new servers: unknown tags, enum values and fields decode, are kept, and
//! re-encode unchanged; absent and `null` stay apart; errors in known variants say where.

use binding_tests::{Kind, DEFINITIONS};
use codex_app_server_types::v2::{ThreadItem, ThreadItemVariant, ThreadMetadataGitInfoUpdateParams, TurnStatus};
use codex_app_server_types::{ServerNotification, ServerNotificationVariant};
use serde_json::{json, Value};

fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(input: &Value) -> (T, Value) {
    let typed: T = serde_json::from_value(input.clone()).expect("decodes");
    let again = serde_json::to_value(&typed).expect("encodes");
    (typed, again)
}

#[test]
fn unknown_tag_in_every_tagged_union_is_kept() {
    let mut checked = 0;
    for def in DEFINITIONS {
        let Kind::Tagged(tag) = def.kind else { continue };
        let input = json!({ tag: "zzFutureVariant", "payload": {"deep": [1, 2]}, "n": 1 });
        let decoded = (def.roundtrip)(&input).unwrap_or_else(|e| panic!("{}: {e}", def.key));
        assert_eq!(decoded.json, input, "{}", def.key);
        assert!(decoded.debug.starts_with("Unknown("), "{}: {}", def.key, decoded.debug);
        checked += 1;
    }
    assert!(checked > 20, "only {checked} tagged unions");
}

#[test]
fn unknown_value_of_every_string_enum_is_kept() {
    let mut checked = 0;
    for def in DEFINITIONS {
        if def.kind != Kind::Enum {
            continue;
        }
        let input = json!("zz-future-value");
        let decoded = (def.roundtrip)(&input).unwrap_or_else(|e| panic!("{}: {e}", def.key));
        assert_eq!(decoded.json, input, "{}", def.key);
        assert_eq!(decoded.debug, "Unknown(\"zz-future-value\")", "{}", def.key);
        checked += 1;
    }
    assert!(checked > 100, "only {checked} enums");
}

#[test]
fn unknown_thread_item_inside_a_notification() {
    let input = json!({
        "method": "item/completed",
        "emittedAtMs": 5,
        "params": {
            "threadId": "t", "turnId": "u", "completedAtMs": 7,
            "item": {"type": "hologram", "id": "i", "startedAtMs": 1, "beams": [{"color": "red"}]},
            "futureTopLevel": true
        }
    });
    let (n, again): (ServerNotification, _) = round_trip(&input);
    assert_eq!(again, input);
    let ServerNotificationVariant::ItemCompleted(completed) = &n.variant else { panic!("{n:?}") };
    assert_eq!(completed.params.item.started_at_ms, Some(Some(1)));
    let ThreadItemVariant::Unknown(raw) = &completed.params.item.variant else { panic!("{n:?}") };
    assert_eq!(raw["type"], "hologram");
    assert_eq!(raw["beams"][0]["color"], "red");
    assert_eq!(completed.params.extra["futureTopLevel"], true);
}

#[test]
fn unknown_method_is_kept() {
    let input = json!({"method": "thread/teleported", "params": {"threadId": "t", "to": "mars"}});
    let (n, again): (ServerNotification, _) = round_trip(&input);
    assert_eq!(again, input);
    assert!(n.variant.is_unknown());
}

#[test]
fn unknown_fields_at_several_depths_are_kept() {
    let input = json!({
        "type": "agentMessage", "id": "i", "text": "hi", "newTopLevel": 1,
        "memoryCitation": {"entries": [], "threadIds": [], "newNested": {"x": [null]}},
    });
    let (item, again): (ThreadItem, _) = round_trip(&input);
    assert_eq!(again, input);
    let ThreadItemVariant::AgentMessage(m) = &item.variant else { panic!("{item:?}") };
    assert_eq!(m.text, "hi");
    assert_eq!(m.extra["newTopLevel"], 1);
    let citation = m.memory_citation.clone().flatten().expect("citation");
    assert_eq!(citation.extra["newNested"], json!({"x": [null]}));
}

#[test]
fn unknown_enum_value_is_kept() {
    let (status, again): (TurnStatus, _) = round_trip(&json!("paused"));
    assert_eq!(status, TurnStatus::Unknown("paused".into()));
    assert_eq!(again, json!("paused"));
    assert_eq!(TurnStatus::from("completed").as_str(), "completed");
    assert!(!TurnStatus::from("completed").is_unknown());
}

#[test]
fn absent_and_null_stay_apart() {
    let (absent, again): (ThreadMetadataGitInfoUpdateParams, _) = round_trip(&json!({}));
    assert_eq!(absent.branch, None);
    assert_eq!(again, json!({}));
    let (null, again): (ThreadMetadataGitInfoUpdateParams, _) = round_trip(&json!({"branch": null}));
    assert_eq!(null.branch, Some(None));
    assert_eq!(again, json!({"branch": null}));
    let (set, again): (ThreadMetadataGitInfoUpdateParams, _) = round_trip(&json!({"branch": "main"}));
    assert_eq!(set.branch, Some(Some("main".into())));
    assert_eq!(again, json!({"branch": "main"}));
}

#[test]
fn errors_in_a_known_variant_name_it() {
    let err = serde_json::from_value::<ThreadItem>(json!({"type": "agentMessage", "id": "i"})).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("`agentMessage`") && message.contains("text"), "{message}");
}
