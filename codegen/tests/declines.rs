//! What the client runtimes answer an approval request nobody handles, on the pinned schema: checked against
//! the result types as the bundle's JSON writes them.

use std::path::Path;

use codegen::ir::declines::declines;
use serde_json::{json, Value};

#[test]
fn every_approval_of_the_pinned_schema_is_declined_with_its_most_modest_no() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema/codex_app_server_protocol.schemas.json");
    let text = std::fs::read_to_string(&path).expect("the pinned schema is readable");
    let ir = codegen::model(&path, &text).expect("the pinned schema generates").ir;
    let table: Vec<(String, Value)> = declines(&ir);
    let expected = [
        ("item/commandExecution/requestApproval", json!({"decision": "decline"})),
        ("item/fileChange/requestApproval", json!({"decision": "decline"})),
        ("mcpServer/elicitation/request", json!({"action": "decline"})),
        // Granting nothing: `GrantedPermissionProfile` grants only what it lists.
        ("item/permissions/requestApproval", json!({"permissions": {}})),
        // The legacy approvals' `ReviewDecision` has no plain refusal but `abort` (its `denied` is an object
        // carrying a rejection message).
        ("applyPatchApproval", json!({"decision": "abort"})),
        ("execCommandApproval", json!({"decision": "abort"})),
    ];
    let expected: Vec<(String, Value)> = expected.into_iter().map(|(m, v)| (m.to_string(), v)).collect();
    assert_eq!(table, expected);

    // Each value is one the schema lists for its field.
    let schema: Value = serde_json::from_str(&text).unwrap();
    let definitions = &schema["definitions"];
    let enums = |name: &str| -> Vec<String> {
        let def = definitions.get(name).or_else(|| definitions["v2"].get(name)).unwrap();
        let members = def["oneOf"].as_array().cloned().unwrap_or_else(|| vec![def.clone()]);
        members.iter().filter_map(|m| m["enum"].as_array()).flatten().map(|v| v.as_str().unwrap().to_string()).collect()
    };
    assert!(enums("CommandExecutionApprovalDecision").contains(&"decline".to_string()));
    assert!(enums("FileChangeApprovalDecision").contains(&"decline".to_string()));
    assert!(enums("McpServerElicitationAction").contains(&"decline".to_string()));
    assert!(enums("ReviewDecision").contains(&"abort".to_string()));
    assert!(!enums("ReviewDecision").contains(&"denied".to_string()));
    let granted =
        definitions.get("GrantedPermissionProfile").or_else(|| definitions["v2"].get("GrantedPermissionProfile"));
    assert!(granted.unwrap().get("required").is_none(), "a grant lists what it grants, nothing is required");
}
