//! Breaking or compatible: the rules, one per event and direction.
//!
//! The test applied: a change is breaking when a message an OLD client sends may no longer be valid under
//! NEW (sent types), or a message a NEW server sends may not decode in bindings generated from OLD
//! (received types). Those bindings keep unknown enum values, unknown tags and undeclared properties
//! (unless the object says `additionalProperties: false`), so additions are mostly compatible.

use super::direction::Ways;
use super::{ChangeKind, Classification};

/// How two uses of a type relate on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TypeShift {
    /// The same values under another name (an alias resolved, say).
    SameWire,
    /// NEW admits every OLD value and more (a wider integer).
    Widened,
    /// OLD admits every NEW value and more.
    Narrowed,
    /// A string enum became any string.
    EnumOpened,
    /// Any string became a string enum.
    EnumClosed,
    Different,
}

/// A change with the facts its rule needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Event {
    MethodAdded,
    MethodRemoved,
    MethodParamsChanged(TypeShift),
    TypeAdded,
    TypeRemoved,
    KindChanged,
    TypeChanged(TypeShift),
    /// `old_closed`: OLD's object rejects undeclared properties.
    FieldAdded {
        required: bool,
        old_closed: bool,
    },
    /// `new_closed`: NEW's object rejects undeclared properties.
    FieldRemoved {
        was_required: bool,
        new_closed: bool,
    },
    FieldRequired,
    FieldOptional,
    FieldNullable,
    FieldNotNullable,
    FieldDefaultChanged,
    AdditionalProperties {
        old_closed: bool,
        new_closed: bool,
    },
    TagChanged,
    /// `old_keeps_unknown`: OLD's bindings decode a variant they do not know (tagged unions always do;
    /// other unions when they have a fallback).
    VariantAdded {
        old_keeps_unknown: bool,
    },
    VariantRemoved,
    EnumValueAdded,
    EnumValueRemoved,
}

impl Event {
    pub fn kind(self) -> ChangeKind {
        match self {
            Event::MethodAdded => ChangeKind::MethodAdded,
            Event::MethodRemoved => ChangeKind::MethodRemoved,
            Event::MethodParamsChanged(_) => ChangeKind::MethodParamsChanged,
            Event::TypeAdded => ChangeKind::TypeAdded,
            Event::TypeRemoved => ChangeKind::TypeRemoved,
            Event::KindChanged => ChangeKind::KindChanged,
            Event::TypeChanged(_) => ChangeKind::TypeChanged,
            Event::FieldAdded { .. } => ChangeKind::FieldAdded,
            Event::FieldRemoved { .. } => ChangeKind::FieldRemoved,
            Event::FieldRequired => ChangeKind::FieldRequired,
            Event::FieldOptional => ChangeKind::FieldOptional,
            Event::FieldNullable => ChangeKind::FieldNullable,
            Event::FieldNotNullable => ChangeKind::FieldNotNullable,
            Event::FieldDefaultChanged => ChangeKind::FieldDefaultChanged,
            Event::AdditionalProperties { .. } => ChangeKind::AdditionalPropertiesChanged,
            Event::TagChanged => ChangeKind::TagChanged,
            Event::VariantAdded { .. } => ChangeKind::VariantAdded,
            Event::VariantRemoved => ChangeKind::VariantRemoved,
            Event::EnumValueAdded => ChangeKind::EnumValueAdded,
            Event::EnumValueRemoved => ChangeKind::EnumValueRemoved,
        }
    }
}

/// One direction's verdict: breaking or not, and why.
type Verdict = (bool, &'static str);

const B: bool = true;
const C: bool = false;

/// The rule for a type the client sends (OLD client → NEW server).
fn sent(event: Event) -> Verdict {
    match event {
        Event::MethodAdded => (C, "old clients never call it"),
        Event::MethodRemoved => (B, "the server no longer accepts it"),
        Event::TypeAdded => (C, "old clients never send it"),
        // Every use of a removed type changed too, and is judged there.
        Event::TypeRemoved => (C, "each use of it is judged where it changed"),
        Event::KindChanged | Event::TagChanged => (B, "the wire shape changed"),
        Event::MethodParamsChanged(shift) | Event::TypeChanged(shift) => match shift {
            TypeShift::SameWire => (C, "the same values on the wire"),
            TypeShift::Widened => (C, "every old value is still valid"),
            TypeShift::Narrowed => (B, "old values may no longer be valid"),
            TypeShift::EnumOpened => (C, "every old value is still valid"),
            TypeShift::EnumClosed => (B, "old clients may send any string"),
            TypeShift::Different => (B, "the wire type changed"),
        },
        Event::FieldAdded { required: true, .. } => (B, "old clients do not send it"),
        Event::FieldAdded { required: false, .. } => (C, "old clients omit it"),
        Event::FieldRemoved { new_closed: true, .. } => (B, "old clients may send it and the object now rejects it"),
        Event::FieldRemoved { new_closed: false, .. } => (C, "the object still admits it as an undeclared property"),
        Event::FieldRequired => (B, "old clients may omit it"),
        Event::FieldOptional => (C, "old clients always send it"),
        Event::FieldNullable => (C, "old clients never send null"),
        Event::FieldNotNullable => (B, "old clients may send null"),
        Event::FieldDefaultChanged => (C, "values stay valid; an omitted value now means the new default"),
        Event::AdditionalProperties { old_closed: false, new_closed: true } => {
            (B, "old clients may send undeclared properties, now rejected")
        }
        Event::AdditionalProperties { .. } => (C, "every old object is still valid"),
        Event::VariantAdded { .. } => (C, "old clients never send it"),
        Event::VariantRemoved => (B, "old clients may still send it"),
        Event::EnumValueAdded => (C, "old clients never send it"),
        Event::EnumValueRemoved => (B, "old clients may still send it"),
    }
}

/// The rule for a type the client receives (NEW server → OLD bindings).
fn received(event: Event) -> Verdict {
    match event {
        Event::MethodAdded => (C, "old bindings keep an unknown method losslessly"),
        Event::MethodRemoved => (C, "the client no longer receives it"),
        Event::TypeAdded => (C, "old bindings never meet it by name"),
        Event::TypeRemoved => (C, "the client no longer receives it"),
        Event::KindChanged | Event::TagChanged => (B, "the wire shape changed"),
        Event::MethodParamsChanged(shift) | Event::TypeChanged(shift) => match shift {
            TypeShift::SameWire => (C, "the same values on the wire"),
            TypeShift::Widened => (B, "new values may not fit old bindings"),
            TypeShift::Narrowed => (C, "every new value fits old bindings"),
            TypeShift::EnumOpened => (C, "old bindings keep an unknown value losslessly"),
            TypeShift::EnumClosed => (C, "every new value is a string old bindings accept"),
            TypeShift::Different => (B, "the wire type changed"),
        },
        Event::FieldAdded { old_closed: true, .. } => (B, "old bindings reject undeclared properties"),
        Event::FieldAdded { old_closed: false, .. } => (C, "old bindings keep it as an undeclared property"),
        Event::FieldRemoved { was_required: true, .. } => (B, "old bindings require it"),
        Event::FieldRemoved { was_required: false, .. } => (C, "old bindings read it as absent"),
        Event::FieldRequired => (C, "old bindings accept it present"),
        Event::FieldOptional => (B, "old bindings require it"),
        Event::FieldNullable => (B, "old bindings reject null"),
        Event::FieldNotNullable => (C, "old bindings never see null now"),
        Event::FieldDefaultChanged => (C, "values stay valid; an omitted value now means the new default"),
        Event::AdditionalProperties { old_closed: true, new_closed: false } => {
            (B, "old bindings reject undeclared properties")
        }
        Event::AdditionalProperties { .. } => (C, "every new object decodes in old bindings"),
        Event::VariantAdded { old_keeps_unknown: true } => (C, "old bindings keep an unknown variant losslessly"),
        Event::VariantAdded { old_keeps_unknown: false } => (B, "old bindings cannot decode it"),
        Event::VariantRemoved => (C, "the client no longer receives it"),
        Event::EnumValueAdded => (C, "old bindings keep an unknown value losslessly"),
        Event::EnumValueRemoved => (C, "the client no longer receives it"),
    }
}

/// The verdict for `event` in a type travelling `ways`; an unreachable type is judged both ways.
/// Breaking in either direction is breaking; the reason names the direction(s) it comes from.
pub(super) fn classify(event: Event, ways: Ways) -> (Classification, String) {
    let both = !ways.sent && !ways.received;
    let mut verdicts: Vec<(&str, Verdict)> = Vec::new();
    if ways.sent || both {
        verdicts.push(("sent", sent(event)));
    }
    if ways.received || both {
        verdicts.push(("received", received(event)));
    }
    let breaking: Vec<&(&str, Verdict)> = verdicts.iter().filter(|(_, (b, _))| *b).collect();
    let shown: Vec<&(&str, Verdict)> = if breaking.is_empty() { verdicts.iter().collect() } else { breaking };
    let reason = shown.iter().map(|(way, (_, why))| format!("{way}: {why}")).collect::<Vec<_>>().join("; ");
    let class = if shown.iter().any(|(_, (b, _))| *b) { Classification::Breaking } else { Classification::Compatible };
    (class, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SENT: Ways = Ways { sent: true, received: false };
    const RECEIVED: Ways = Ways { sent: false, received: true };
    const BOTH: Ways = Ways { sent: true, received: true };

    #[test]
    fn direction_decides_asymmetric_rules() {
        assert_eq!(classify(Event::FieldNullable, SENT).0, Classification::Compatible);
        assert_eq!(classify(Event::FieldNullable, RECEIVED).0, Classification::Breaking);
        assert_eq!(classify(Event::FieldRequired, SENT).0, Classification::Breaking);
        assert_eq!(classify(Event::FieldRequired, RECEIVED).0, Classification::Compatible);
        assert_eq!(classify(Event::EnumValueRemoved, SENT).0, Classification::Breaking);
        assert_eq!(classify(Event::EnumValueRemoved, RECEIVED).0, Classification::Compatible);
    }

    #[test]
    fn breaking_either_way_is_breaking_and_says_which() {
        let (class, reason) = classify(Event::FieldNullable, BOTH);
        assert_eq!(class, Classification::Breaking);
        assert_eq!(reason, "received: old bindings reject null");
    }

    #[test]
    fn unreachable_types_are_judged_both_ways() {
        let (class, reason) = classify(Event::FieldRequired, Ways::default());
        assert_eq!(class, Classification::Breaking);
        assert_eq!(reason, "sent: old clients may omit it");
        let (class, reason) = classify(Event::EnumValueAdded, Ways::default());
        assert_eq!(class, Classification::Compatible);
        assert_eq!(reason, "sent: old clients never send it; received: old bindings keep an unknown value losslessly");
    }

    #[test]
    fn integer_ranges_decide_by_direction() {
        let widened = Event::TypeChanged(TypeShift::Widened);
        assert_eq!(classify(widened, SENT).0, Classification::Compatible);
        assert_eq!(classify(widened, RECEIVED).0, Classification::Breaking);
        let narrowed = Event::TypeChanged(TypeShift::Narrowed);
        assert_eq!(classify(narrowed, SENT).0, Classification::Breaking);
        assert_eq!(classify(narrowed, RECEIVED).0, Classification::Compatible);
    }
}
