//! What changed between two schemas, and whether it breaks an existing client.
//!
//! Both schemas go through the whole front end (load → IR) first, so the spellings the schema uses for the
//! same thing (nullable as a type list or as `anyOf`, enums as `enum` or `oneOf`) never show up as changes.
//! An existing client is one whose bindings were generated from OLD, talking to a server of NEW; whether
//! a change breaks it depends on which way the changed type travels (see [`direction`]), and the rules
//! are in [`classify`].

mod classify;
mod compare;
mod direction;
mod keys;
mod render;
mod rpc;

use serde::Serialize;
use serde_json::Value;

use crate::ir::Ir;

pub use render::{human, json};

/// What a change is, one value per rule of [`classify`]. Serialised in snake_case (`field_added`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    MethodAdded,
    MethodRemoved,
    MethodParamsChanged,
    TypeAdded,
    TypeRemoved,
    KindChanged,
    TypeChanged,
    FieldAdded,
    FieldRemoved,
    FieldRequired,
    FieldOptional,
    FieldNullable,
    FieldNotNullable,
    FieldDefaultChanged,
    AdditionalPropertiesChanged,
    TagChanged,
    VariantAdded,
    VariantRemoved,
    EnumValueAdded,
    EnumValueRemoved,
}

impl ChangeKind {
    /// How the change is named in the human report.
    pub fn phrase(self) -> &'static str {
        match self {
            ChangeKind::MethodAdded => "method added",
            ChangeKind::MethodRemoved => "method removed",
            ChangeKind::MethodParamsChanged => "method params changed",
            ChangeKind::TypeAdded => "type added",
            ChangeKind::TypeRemoved => "type removed",
            ChangeKind::KindChanged => "kind changed",
            ChangeKind::TypeChanged => "type changed",
            ChangeKind::FieldAdded => "field added",
            ChangeKind::FieldRemoved => "field removed",
            ChangeKind::FieldRequired => "field now required",
            ChangeKind::FieldOptional => "field now optional",
            ChangeKind::FieldNullable => "field now nullable",
            ChangeKind::FieldNotNullable => "field no longer nullable",
            ChangeKind::FieldDefaultChanged => "default changed",
            ChangeKind::AdditionalPropertiesChanged => "additional properties changed",
            ChangeKind::TagChanged => "tag property changed",
            ChangeKind::VariantAdded => "variant added",
            ChangeKind::VariantRemoved => "variant removed",
            ChangeKind::EnumValueAdded => "enum value added",
            ChangeKind::EnumValueRemoved => "enum value removed",
        }
    }

    /// Method changes are reported in a section of their own.
    pub fn is_method(self) -> bool {
        matches!(self, ChangeKind::MethodAdded | ChangeKind::MethodRemoved | ChangeKind::MethodParamsChanged)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Classification {
    Breaking,
    Compatible,
}

/// Which way the definition holding a change travels between client and server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Only the client writes it (request params, notifications to the server, answers to server requests).
    Sent,
    /// Only the client reads it (notifications, server requests, responses).
    Received,
    Both,
    /// Nothing the protocol unions reach; judged both ways.
    Unreachable,
}

/// One difference between the two schemas.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub kind: ChangeKind,
    /// Where: `v2/Thread.preview`, `v2/ThreadItem[type=plan]`, `v2/SandboxMode:"read-only"`,
    /// `ClientRequest[method=thread/start]` (see the README for the syntax).
    pub path: String,
    /// The definition the change is in (`v2/Thread`), or the method union for a method change.
    pub definition: String,
    pub classification: Classification,
    pub direction: Direction,
    /// Why it is breaking or compatible, for each direction that matters.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
}

impl Change {
    pub fn is_breaking(&self) -> bool {
        self.classification == Classification::Breaking
    }
}

/// Every change between two schemas, methods first, then by definition, path and kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub changes: Vec<Change>,
}

impl Report {
    pub fn breaking(&self) -> usize {
        self.changes.iter().filter(|c| c.is_breaking()).count()
    }

    pub fn compatible(&self) -> usize {
        self.changes.len() - self.breaking()
    }
}

/// Compares two lowered schemas: `old` is what the client's bindings were generated from.
pub fn compare(old: &Ir, new: &Ir) -> Report {
    let mut changes = compare::run(old, new);
    changes.sort_by(|a, b| {
        (!a.kind.is_method(), &a.definition, &a.path, a.kind).cmp(&(
            !b.kind.is_method(),
            &b.definition,
            &b.path,
            b.kind,
        ))
    });
    changes.dedup();
    Report { changes }
}
