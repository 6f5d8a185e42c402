//! The walk over two IRs: definitions matched by key, then their insides matched by wire name (fields),
//! tag value (variants), label (other unions) and value (enums). Inline types have no key and are compared
//! where they are used; a named type used somewhere is compared once, under its own key.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use super::classify::{classify, Event, TypeShift};
use super::direction::{self, Ways};
use super::{keys, rpc, Change};
use crate::ir::{Extra, Field, FloatFormat, Ir, TypeId, TypeKind, TypeRef, UntaggedKind};

pub(super) fn run(old: &Ir, new: &Ir) -> Vec<Change> {
    let mut d = Differ {
        old,
        new,
        old_keys: keys::by_id(old),
        new_keys: keys::by_id(new),
        ways: direction::by_key(old, new),
        out: Vec::new(),
        stack: Vec::new(),
    };
    let old_defs = keys::keyed(old);
    let new_defs = keys::keyed(new);
    let all: BTreeSet<&String> = old_defs.keys().chain(new_defs.keys()).collect();
    for key in all {
        let at = d.at(key);
        match (old_defs.get(key), new_defs.get(key)) {
            (Some(a), Some(b)) => d.body(&at, *a, *b),
            (Some(a), None) => {
                d.emit(&at, Event::TypeRemoved, text(keys::kind_word(old, *a)), None);
                d.whole_union_methods(&at, old, *a, Event::MethodRemoved);
            }
            (None, Some(b)) => {
                d.emit(&at, Event::TypeAdded, None, text(keys::kind_word(new, *b)));
                d.whole_union_methods(&at, new, *b, Event::MethodAdded);
            }
            (None, None) => {}
        }
    }
    d.out
}

fn text(s: impl Into<String>) -> Option<Value> {
    Some(Value::String(s.into()))
}

/// Where the walk is, and what the rules need to know about it.
#[derive(Clone)]
struct At {
    definition: String,
    path: String,
    ways: Ways,
    /// The definition is a method union: its variants are methods.
    method_union: bool,
    /// The object is a method union's variant: its `params` field is the method's params.
    method_variant: bool,
}

impl At {
    fn child(&self, segment: &str) -> At {
        At { path: format!("{}{segment}", self.path), method_union: false, method_variant: false, ..self.clone() }
    }
}

struct Differ<'a> {
    old: &'a Ir,
    new: &'a Ir,
    old_keys: HashMap<TypeId, String>,
    new_keys: HashMap<TypeId, String>,
    ways: BTreeMap<String, Ways>,
    out: Vec<Change>,
    /// Pairs of inline types being compared, so a type that contains itself is not walked forever.
    stack: Vec<(TypeId, TypeId)>,
}

/// The union flattened beside an object's own fields.
fn flattened<'i>(ir: &'i Ir, s: &crate::ir::Struct) -> Option<&'i TypeKind> {
    s.flatten.as_ref().and_then(|f| ir.types.get(f.ty.0)).map(|t| &t.kind)
}

/// How two uses of a type compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Match {
    Same,
    /// Different definitions of the same shape (a definition renamed).
    Renamed,
    Different,
}

/// Whether an object rejects properties it does not declare.
fn closed(extra: &Extra) -> bool {
    *extra == Extra::Forbid
}

/// A field's type without its top-level `| null` (nothing when it is only `null`), and whether it admits `null`.
fn split_nullable(ty: &TypeRef) -> (Option<&TypeRef>, bool) {
    match ty {
        TypeRef::Nullable(inner) => (Some(inner), true),
        TypeRef::Null => (None, true),
        other => (Some(other), false),
    }
}

impl Differ<'_> {
    fn at(&self, key: &str) -> At {
        At {
            definition: key.to_string(),
            path: key.to_string(),
            ways: self.ways.get(key).copied().unwrap_or_default(),
            method_union: rpc::is_method_union(key),
            method_variant: false,
        }
    }

    fn emit(&mut self, at: &At, event: Event, old: Option<Value>, new: Option<Value>) {
        let (classification, reason) = classify(event, at.ways);
        self.out.push(Change {
            kind: event.kind(),
            path: at.path.clone(),
            definition: at.definition.clone(),
            classification,
            direction: at.ways.direction(),
            reason,
            old,
            new,
        });
    }

    /// A method union that appears or disappears whole takes all its methods with it.
    fn whole_union_methods(&mut self, at: &At, ir: &Ir, id: TypeId, event: Event) {
        if !at.method_union {
            return;
        }
        let Some(union) = rpc::tagged(ir, id) else { return };
        for v in &union.variants {
            let value = text(v.name.wire.clone());
            let (old, new) = if event == Event::MethodAdded { (None, value) } else { (value, None) };
            self.emit(&at.child(&format!("[{}={}]", union.tag.wire, v.name.wire)), event, old, new);
        }
    }

    /// Compares two types at `at`.
    fn body(&mut self, at: &At, a: TypeId, b: TypeId) {
        if self.stack.contains(&(a, b)) {
            return;
        }
        let (old, new) = (self.old, self.new);
        let (Some(x), Some(y)) = (old.types.get(a.0), new.types.get(b.0)) else {
            return;
        };
        self.stack.push((a, b));
        match (&x.kind, &y.kind) {
            (TypeKind::Struct(s), TypeKind::Struct(t)) => {
                self.fields(at, &s.fields, &t.fields, closed(&s.extra), closed(&t.extra));
                if closed(&s.extra) != closed(&t.extra) {
                    let word = |c: bool| text(if c { "forbidden" } else { "allowed" });
                    let event =
                        Event::AdditionalProperties { old_closed: closed(&s.extra), new_closed: closed(&t.extra) };
                    self.emit(at, event, word(closed(&s.extra)), word(closed(&t.extra)));
                }
                match (flattened(old, s), flattened(new, t)) {
                    (Some(u), Some(v)) => self.union(at, u, v),
                    (None, None) => {}
                    _ => self.kind_changed(at, a, b),
                }
            }
            // A union that gains (or loses) fields beside it is still the same union.
            (TypeKind::Tagged(_) | TypeKind::Untagged(_), TypeKind::Struct(t)) if t.flatten.is_some() => {
                self.fields(at, &[], &t.fields, false, closed(&t.extra));
                if let Some(v) = flattened(new, t) {
                    self.union(at, &x.kind, v);
                }
            }
            (TypeKind::Struct(s), TypeKind::Tagged(_) | TypeKind::Untagged(_)) if s.flatten.is_some() => {
                self.fields(at, &s.fields, &[], closed(&s.extra), false);
                if let Some(u) = flattened(old, s) {
                    self.union(at, u, &y.kind);
                }
            }
            (TypeKind::Tagged(_), TypeKind::Tagged(_)) | (TypeKind::Untagged(_), TypeKind::Untagged(_)) => {
                self.union(at, &x.kind, &y.kind)
            }
            (TypeKind::Enum(e), TypeKind::Enum(f)) => {
                for v in &e.values {
                    if !f.values.iter().any(|w| w.name.wire == v.name.wire) {
                        let c = at.child(&format!(":{}", quoted(&v.name.wire)));
                        self.emit(&c, Event::EnumValueRemoved, text(v.name.wire.clone()), None);
                    }
                }
                for w in &f.values {
                    if !e.values.iter().any(|v| v.name.wire == w.name.wire) {
                        let c = at.child(&format!(":{}", quoted(&w.name.wire)));
                        self.emit(&c, Event::EnumValueAdded, None, text(w.name.wire.clone()));
                    }
                }
            }
            // A string enum opened to any string (or closed): the bindings keep unknown values, so this is
            // a change of type, not of shape.
            (TypeKind::Enum(_), TypeKind::Alias(q)) if wire(new, q, 0) == Some(TypeRef::String) => {
                self.emit(at, Event::TypeChanged(TypeShift::EnumOpened), text("string enum"), text("string"));
            }
            (TypeKind::Alias(p), TypeKind::Enum(_)) if wire(old, p, 0) == Some(TypeRef::String) => {
                self.emit(at, Event::TypeChanged(TypeShift::EnumClosed), text("string"), text("string enum"));
            }
            (TypeKind::Alias(p), TypeKind::Alias(q)) | (TypeKind::Newtype(p), TypeKind::Newtype(q)) => {
                let found = self.refs(at, p, q);
                self.report_ref(at, found, p, q, Event::TypeChanged);
            }
            _ => self.kind_changed(at, a, b),
        }
        self.stack.pop();
    }

    fn kind_changed(&mut self, at: &At, a: TypeId, b: TypeId) {
        let (old, new) = (keys::kind_word(self.old, a), keys::kind_word(self.new, b));
        self.emit(at, Event::KindChanged, text(old), text(new));
    }

    fn type_changed(&mut self, at: &At, event: Event, a: &TypeRef, b: &TypeRef) {
        let old = keys::render(self.old, &self.old_keys, a);
        let new = keys::render(self.new, &self.new_keys, b);
        self.emit(at, event, text(old), text(new));
    }

    /// Reports a use of a type that changed, as `event` with how the two relate on the wire.
    fn report_ref(&mut self, at: &At, found: Match, a: &TypeRef, b: &TypeRef, event: impl Fn(TypeShift) -> Event) {
        let shift = match found {
            Match::Same => return,
            Match::Renamed => TypeShift::SameWire,
            Match::Different => self.shift(a, b),
        };
        self.type_changed(at, event(shift), a, b);
    }

    fn fields(&mut self, at: &At, olds: &[Field], news: &[Field], old_closed: bool, new_closed: bool) {
        for of in olds {
            let c = at.child(&format!(".{}", of.name.wire));
            match news.iter().find(|f| f.name.wire == of.name.wire) {
                Some(nf) => self.field(&c, of, nf, at.method_variant),
                None => {
                    let event = Event::FieldRemoved { was_required: of.required, new_closed };
                    let was = describe_field(self.old, &self.old_keys, of);
                    self.emit(&c, event, text(was), None);
                }
            }
        }
        for nf in news {
            if !olds.iter().any(|f| f.name.wire == nf.name.wire) {
                let c = at.child(&format!(".{}", nf.name.wire));
                let now = describe_field(self.new, &self.new_keys, nf);
                self.emit(&c, Event::FieldAdded { required: nf.required, old_closed }, None, text(now));
            }
        }
    }

    fn field(&mut self, at: &At, of: &Field, nf: &Field, in_method_variant: bool) {
        if of.required != nf.required {
            let event = if nf.required { Event::FieldRequired } else { Event::FieldOptional };
            self.emit(at, event, None, None);
        }
        let changed = |shift| {
            if in_method_variant && of.name.wire == "params" {
                Event::MethodParamsChanged(shift)
            } else {
                Event::TypeChanged(shift)
            }
        };
        match (split_nullable(&of.ty), split_nullable(&nf.ty)) {
            ((Some(oi), on), (Some(ni), nn)) => {
                let found = self.refs(at, oi, ni);
                self.report_ref(at, found, oi, ni, changed);
                if on != nn {
                    self.emit(at, if nn { Event::FieldNullable } else { Event::FieldNotNullable }, None, None);
                }
            }
            // Only `null` before or after (a method whose `params` gains or loses a type): a widening
            // when the other side still admits `null`.
            ((None, _), (Some(_), nn)) => {
                let shift = if nn { TypeShift::Widened } else { TypeShift::Different };
                self.type_changed(at, changed(shift), &of.ty, &nf.ty);
            }
            ((Some(_), on), (None, _)) => {
                let shift = if on { TypeShift::Narrowed } else { TypeShift::Different };
                self.type_changed(at, changed(shift), &of.ty, &nf.ty);
            }
            ((None, _), (None, _)) => {}
        }
        let (od, nd) = (of.default.as_ref().map(|d| &d.json), nf.default.as_ref().map(|d| &d.json));
        if od != nd {
            self.emit(at, Event::FieldDefaultChanged, od.cloned(), nd.cloned());
        }
    }

    fn union(&mut self, at: &At, x: &TypeKind, y: &TypeKind) {
        match (x, y) {
            (TypeKind::Tagged(u), TypeKind::Tagged(v)) => {
                if u.tag.wire != v.tag.wire {
                    self.emit(at, Event::TagChanged, text(u.tag.wire.clone()), text(v.tag.wire.clone()));
                    return;
                }
                let segment = |value: &str| format!("[{}={value}]", u.tag.wire);
                let (added, removed) = if at.method_union {
                    (Event::MethodAdded, Event::MethodRemoved)
                } else {
                    (Event::VariantAdded { old_keeps_unknown: true }, Event::VariantRemoved)
                };
                for ov in &u.variants {
                    let mut c = at.child(&segment(&ov.name.wire));
                    match v.variants.iter().find(|nv| nv.name.wire == ov.name.wire) {
                        Some(nv) => {
                            c.method_variant = at.method_union;
                            let (p, q) = (TypeRef::Named(ov.ty), TypeRef::Named(nv.ty));
                            let found = self.named(&c, ov.ty, nv.ty);
                            self.report_ref(&c, found, &p, &q, Event::TypeChanged);
                        }
                        None => self.emit(&c, removed, text(ov.name.wire.clone()), None),
                    }
                }
                for nv in &v.variants {
                    if !u.variants.iter().any(|ov| ov.name.wire == nv.name.wire) {
                        self.emit(&at.child(&segment(&nv.name.wire)), added, None, text(nv.name.wire.clone()));
                    }
                }
            }
            (TypeKind::Untagged(u), TypeKind::Untagged(v)) => {
                let old = labelled(&u.variants);
                let new = labelled(&v.variants);
                for (label, ok) in &old {
                    let c = at.child(&format!("({label})"));
                    match new.get(label) {
                        None => self.emit(&c, Event::VariantRemoved, text(label.clone()), None),
                        Some(nk) => match (ok, nk) {
                            (UntaggedKind::Value(p), UntaggedKind::Value(q)) => {
                                let found = self.refs(&c, p, q);
                                self.report_ref(&c, found, p, q, Event::TypeChanged);
                            }
                            (UntaggedKind::Literal(p), UntaggedKind::Literal(q)) if p == q => {}
                            _ => {
                                let word = |k: &UntaggedKind| {
                                    text(if matches!(k, UntaggedKind::Literal(_)) { "literal" } else { "value" })
                                };
                                self.emit(&c, Event::TypeChanged(TypeShift::Different), word(ok), word(nk));
                            }
                        },
                    }
                }
                for label in new.keys().filter(|l| !old.contains_key(*l)) {
                    let event = Event::VariantAdded { old_keeps_unknown: u.fallback };
                    self.emit(&at.child(&format!("({label})")), event, None, text(label.clone()));
                }
            }
            _ => {
                let word = |k: &TypeKind| {
                    if matches!(k, TypeKind::Tagged(_)) {
                        "tagged union"
                    } else {
                        "union"
                    }
                };
                self.emit(at, Event::KindChanged, text(word(x)), text(word(y)));
            }
        }
    }

    /// Whether two uses of a type are the same type; inline types are compared on the way (their
    /// differences reported at `at`), and count as the same.
    fn refs(&mut self, at: &At, a: &TypeRef, b: &TypeRef) -> Match {
        match (a, b) {
            (TypeRef::Named(x), TypeRef::Named(y)) => self.named(at, *x, *y),
            (TypeRef::List(x), TypeRef::List(y)) => self.refs(&at.child("[]"), x, y),
            (TypeRef::Map(x), TypeRef::Map(y)) => self.refs(&at.child("{}"), x, y),
            (TypeRef::Nullable(x), TypeRef::Nullable(y)) => self.refs(at, x, y),
            (TypeRef::Named(_) | TypeRef::List(_) | TypeRef::Map(_) | TypeRef::Nullable(_), _)
            | (_, TypeRef::Named(_) | TypeRef::List(_) | TypeRef::Map(_) | TypeRef::Nullable(_)) => Match::Different,
            (x, y) if x == y => Match::Same,
            _ => Match::Different,
        }
    }

    fn named(&mut self, at: &At, a: TypeId, b: TypeId) -> Match {
        match (self.old_keys.get(&a), self.new_keys.get(&b)) {
            (Some(x), Some(y)) if x == y => Match::Same,
            // Two definitions: the same shape under another name reads the same values. Compared as a
            // trial: what it finds is dropped, only whether it found anything counts.
            (Some(_), Some(_)) => {
                let before = self.out.len();
                self.body(at, a, b);
                let same = self.out.len() == before;
                self.out.truncate(before);
                if same {
                    Match::Renamed
                } else {
                    Match::Different
                }
            }
            (None, None) => {
                self.body(at, a, b);
                Match::Same
            }
            _ => Match::Different,
        }
    }

    /// How a changed type relates on the wire, looking through aliases.
    fn shift(&self, a: &TypeRef, b: &TypeRef) -> TypeShift {
        match (wire(self.old, a, 0), wire(self.new, b, 0)) {
            (Some(TypeRef::Integer(p)), Some(TypeRef::Integer(q))) => {
                let ((plo, phi), (qlo, qhi)) = (p.bounds(), q.bounds());
                if p == q {
                    TypeShift::SameWire
                } else if qlo <= plo && qhi >= phi {
                    TypeShift::Widened
                } else if qlo >= plo && qhi <= phi {
                    TypeShift::Narrowed
                } else {
                    TypeShift::Different
                }
            }
            (Some(TypeRef::Number(FloatFormat::F32)), Some(TypeRef::Number(FloatFormat::F64))) => TypeShift::Widened,
            (Some(TypeRef::Number(FloatFormat::F64)), Some(TypeRef::Number(FloatFormat::F32))) => TypeShift::Narrowed,
            (Some(x), Some(y)) if x == y => TypeShift::SameWire,
            (Some(TypeRef::String), None) if is_enum(self.new, b) => TypeShift::EnumClosed,
            (None, Some(TypeRef::String)) if is_enum(self.old, a) => TypeShift::EnumOpened,
            _ => TypeShift::Different,
        }
    }
}

/// A type with aliases replaced by what they name; `None` when it names any other type.
fn wire(ir: &Ir, ty: &TypeRef, depth: usize) -> Option<TypeRef> {
    // Aliases cannot form cycles (the IR check rejects them); the bound only guards the recursion.
    if depth > 64 {
        return None;
    }
    Some(match ty {
        TypeRef::Named(id) => match &ir.types.get(id.0)?.kind {
            TypeKind::Alias(inner) => wire(ir, inner, depth + 1)?,
            _ => return None,
        },
        TypeRef::List(inner) => TypeRef::List(Box::new(wire(ir, inner, depth + 1)?)),
        TypeRef::Map(inner) => TypeRef::Map(Box::new(wire(ir, inner, depth + 1)?)),
        TypeRef::Nullable(inner) => TypeRef::Nullable(Box::new(wire(ir, inner, depth + 1)?)),
        other => other.clone(),
    })
}

/// Whether `ty` names a string enum.
fn is_enum(ir: &Ir, ty: &TypeRef) -> bool {
    matches!(ty, TypeRef::Named(id) if matches!(ir.types.get(id.0).map(|t| &t.kind), Some(TypeKind::Enum(_))))
}

/// An untagged union's variants by label; a label used twice gets `#2`, `#3` ...
fn labelled(variants: &[crate::ir::UntaggedVariant]) -> BTreeMap<String, &UntaggedKind> {
    let mut out = BTreeMap::new();
    for v in variants {
        let mut label = v.name.wire.clone();
        let mut n = 1;
        while out.contains_key(&label) {
            n += 1;
            label = format!("{}#{n}", v.name.wire);
        }
        out.insert(label, &v.kind);
    }
    out
}

fn describe_field(ir: &Ir, keys: &HashMap<TypeId, String>, f: &Field) -> String {
    let presence = if f.required { "required" } else { "optional" };
    format!("{presence} {}", keys::render(ir, keys, &f.ty))
}

fn quoted(value: &str) -> String {
    Value::String(value.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(old: &str, new: &str) -> Vec<(String, String)> {
        let load = |text: &str| crate::model(std::path::Path::new("t.json"), text).expect("the schema loads").ir;
        run(&load(old), &load(new))
            .into_iter()
            .map(|c| (c.path, serde_json::to_value(c.kind).map(|k| k.to_string()).unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_recursive_definition_renamed_with_the_same_shape_is_the_same_wire_type() {
        let old = r##"{"definitions": {
            "Holder": {"type": "object", "properties": {"tree": {"$ref": "#/definitions/Tree"}}},
            "Tree": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/Tree"}}}}
        }}"##;
        let new = old.replace("Tree", "Node");
        let found = changes(old, &new);
        assert!(found.contains(&("Holder.tree".into(), "\"type_changed\"".into())), "{found:?}");
        assert!(found.contains(&("Tree".into(), "\"type_removed\"".into())), "{found:?}");
    }

    #[test]
    fn inline_objects_are_compared_where_they_are_used() {
        let old = r#"{"definitions": {"A": {"type": "object", "properties": {
            "inner": {"type": "object", "properties": {"x": {"type": "string"}}},
            "list": {"type": "array", "items": {"type": "object", "properties": {"y": {"type": "string"}}}}}}}}"#;
        let new = old.replace("\"x\"", "\"x2\"").replace("\"y\"", "\"y2\"");
        let found = changes(old, &new);
        let paths: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["A.inner.x", "A.inner.x2", "A.list[].y", "A.list[].y2"]);
    }
}
