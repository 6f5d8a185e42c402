//! Lowering: canonical shapes of loaded nodes → IR types. Names are left for the naming pass.

use std::collections::HashMap;

use super::shape::{shape, Shape};
use super::*;
use crate::error::{Error, Result, Warning};
use crate::load::{Additional, Document, JsonType, Node};

/// The IR before names are decided, with what lowering noticed.
pub struct Lowered {
    pub ir: Ir,
    pub warnings: Vec<Warning>,
}

/// Lowers every definition of `doc` (and the root schema, when it describes a value) into IR types.
pub fn lower(doc: &Document, sha256: &str) -> Result<Lowered> {
    let extra = referenced_nodes(doc)?;
    let mut l = Lowerer {
        doc,
        types: Vec::new(),
        nodes: Vec::new(),
        defined: HashMap::new(),
        by_pointer: HashMap::new(),
        titled: HashMap::new(),
        warnings: Vec::new(),
    };
    let mut namespaces = doc
        .namespaces
        .iter()
        .map(|ns| Namespace { path: ns.path.clone(), modules: Vec::new(), types: Vec::new() })
        .collect::<Vec<_>>();
    // The top level holds the root's type even when the schema has no `definitions`.
    if namespaces.is_empty() {
        namespaces.push(Namespace { path: Vec::new(), modules: Vec::new(), types: Vec::new() });
    }
    let mut definitions = 0;
    for (index, ns) in doc.namespaces.iter().enumerate() {
        for (key, node) in &ns.definitions {
            definitions += 1;
            l.allocate(node, NamespaceId(index), NameHint::Definition(key.clone()));
        }
    }
    if describes_value(&doc.root) {
        let title = doc.root.title.clone().unwrap_or_else(|| {
            doc.file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "Root".into())
        });
        l.allocate(&doc.root, NamespaceId(0), NameHint::Root(title));
    }
    for node in &extra {
        // A `$ref` to a node that is not a definition: named after its title or last pointer token.
        let token = node.pointer.rsplit('/').next().unwrap_or("").replace("~1", "/").replace("~0", "~");
        let hint = NameHint::Root(node.title.clone().unwrap_or(token));
        l.allocate(node, NamespaceId(namespace_of(doc, &node.pointer)), hint);
    }
    let mut next = 0;
    while next < l.nodes.len() {
        let (id, node) = l.nodes[next];
        l.types[id.0].kind = l.definition_kind(id, node)?;
        next += 1;
    }
    let ir = Ir {
        source: Source {
            file_name: doc.file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
            sha256: sha256.to_string(),
        },
        namespaces,
        types: l.types,
        definitions,
        rpc: None,
        claim_order: Vec::new(),
    };
    Ok(Lowered { ir, warnings: l.warnings })
}

/// The bundle's root only groups definitions; a single-type document's root is itself a type.
fn describes_value(root: &Node) -> bool {
    !root.properties.is_empty()
        || root.one_of.is_some()
        || root.any_of.is_some()
        || root.all_of.is_some()
        || root.reference.is_some()
        || root.enum_values.is_some()
        || root.const_value.is_some()
        || root.items.is_some()
}

fn namespace_of(doc: &Document, pointer: &str) -> usize {
    doc.namespaces
        .iter()
        .enumerate()
        .rev()
        .find(|(_, ns)| {
            let prefix: String =
                ns.path.iter().map(|p| format!("/{}", crate::error::escape_pointer_token(p))).collect();
            pointer.starts_with(&format!("/definitions{prefix}/"))
        })
        .map_or(0, |(i, _)| i)
}

/// Nodes that a `$ref` points at but that are neither a definition nor the root, read once each.
fn referenced_nodes(doc: &Document) -> Result<Vec<Node>> {
    let mut known: std::collections::HashSet<String> =
        doc.namespaces.iter().flat_map(|ns| ns.definitions.values().map(|n| n.pointer.clone())).collect();
    known.insert(String::new());
    let mut out: Vec<Node> = Vec::new();
    let mut refs = Vec::new();
    let mut collect = |n: &Node| {
        if let Some(r) = &n.reference {
            refs.push((r.clone(), n.pointer.clone()));
        }
    };
    walk_refs(&doc.root, &mut collect);
    for node in doc.namespaces.iter().flat_map(|ns| ns.definitions.values()) {
        walk_refs(node, &mut collect);
    }
    // Each newly read node may point further; go on until nothing new appears.
    let mut walked = 0;
    loop {
        for (reference, from) in refs.drain(..) {
            let target = doc.resolve(&reference, &from)?;
            if known.insert(target.clone()) {
                let value = doc.raw.pointer(&target).expect("resolve checked that the target exists");
                out.push(Node::read(value, &target, &mut Vec::new()));
            }
        }
        if walked == out.len() {
            return Ok(out);
        }
        walk_refs(&out[walked], &mut |n: &Node| {
            if let Some(r) = &n.reference {
                refs.push((r.clone(), n.pointer.clone()));
            }
        });
        walked += 1;
    }
}

fn walk_refs(node: &Node, f: &mut dyn FnMut(&Node)) {
    f(node);
    for p in node.properties.values() {
        walk_refs(p, f);
    }
    if let Some(Additional::Schema(s)) = &node.additional {
        walk_refs(s, f);
    }
    if let Some(i) = &node.items {
        walk_refs(i, f);
    }
    for list in [&node.one_of, &node.any_of, &node.all_of].into_iter().flatten() {
        for m in list {
            walk_refs(m, f);
        }
    }
}

/// A union's discriminating property, and each tag value with its member.
type Tag<'d> = (String, Vec<(String, &'d Node)>);

struct Lowerer<'d> {
    doc: &'d Document,
    types: Vec<TypeDef>,
    /// Types whose body is still to be lowered, in allocation order.
    nodes: Vec<(TypeId, &'d Node)>,
    /// The node of every type allocated for a pointer.
    defined: HashMap<TypeId, &'d Node>,
    by_pointer: HashMap<String, TypeId>,
    /// Inline types with a title, by (namespace, title, excluded tag, schema text): identical copies share one type.
    titled: HashMap<(NamespaceId, String, Option<String>, String), TypeId>,
    warnings: Vec<Warning>,
}

/// Where an inline schema sits, to name the type it may need.
#[derive(Clone)]
struct Ctx {
    owner: TypeId,
    role: String,
}

impl<'d> Lowerer<'d> {
    fn allocate(&mut self, node: &'d Node, namespace: NamespaceId, hint: NameHint) -> TypeId {
        let id = self.new_type(node, namespace, hint);
        self.by_pointer.insert(node.pointer.clone(), id);
        self.defined.insert(id, node);
        self.nodes.push((id, node));
        id
    }

    fn new_type(&mut self, node: &Node, namespace: NamespaceId, hint: NameHint) -> TypeId {
        let id = TypeId(self.types.len());
        self.types.push(TypeDef {
            name: Name::default(),
            namespace,
            origin: Origin { location: self.doc.location(&node.pointer), hint },
            doc: node.description.clone(),
            // Replaced once the body is lowered.
            kind: TypeKind::Alias(TypeRef::Any),
        });
        id
    }

    fn error(&self, node: &Node, message: impl Into<String>) -> Error {
        Error::new(self.doc.location(&node.pointer), message)
    }

    fn warn(&mut self, node: &Node, message: impl Into<String>) {
        self.warnings.push(Warning { location: self.doc.location(&node.pointer), message: message.into() });
    }

    fn definition_kind(&mut self, id: TypeId, node: &'d Node) -> Result<TypeKind> {
        let ctx = Ctx { owner: id, role: "value".into() };
        Ok(match shape(node) {
            Shape::Object(object) => TypeKind::Struct(self.lower_struct(id, object, None)?),
            Shape::Enum(values) => TypeKind::Enum(enum_of(values)),
            Shape::Union(members) => self.lower_union(id, &members)?,
            Shape::Multi(types) => multi(&types),
            other => TypeKind::Alias(self.type_of_shape(node, other, &ctx)?),
        })
    }

    fn target(&self, node: &Node) -> Result<TypeId> {
        let reference = node.reference.as_deref().unwrap_or_default();
        let pointer = self.doc.resolve(reference, &node.pointer)?;
        self.by_pointer
            .get(&pointer)
            .copied()
            .ok_or_else(|| self.error(node, format!("`$ref` \"{reference}\" has no type")))
    }

    fn type_ref(&mut self, node: &'d Node, ctx: &Ctx) -> Result<TypeRef> {
        let s = shape(node);
        self.type_of_shape(node, s, ctx)
    }

    fn type_of_shape(&mut self, node: &'d Node, s: Shape<'d>, ctx: &Ctx) -> Result<TypeRef> {
        Ok(match s {
            Shape::Any => TypeRef::Any,
            Shape::Nothing => {
                self.warn(node, "the `false` schema admits no value; it is read as any JSON value");
                TypeRef::Any
            }
            Shape::Null => TypeRef::Null,
            Shape::Boolean => TypeRef::Boolean,
            Shape::String => TypeRef::String,
            Shape::Integer => TypeRef::Integer(self.int_format(node)),
            Shape::Number => TypeRef::Number(match node.format.as_deref() {
                Some("float") => FloatFormat::F32,
                _ => FloatFormat::F64,
            }),
            Shape::Ref(r) => {
                let mut target = r;
                // `allOf: [{$ref}]` keeps the ref in the member.
                while target.reference.is_none() {
                    match target.all_of.as_deref() {
                        Some([inner]) => target = inner,
                        _ => break,
                    }
                }
                TypeRef::Named(self.target(target)?)
            }
            Shape::Nullable(inner) => {
                let inner = self.type_of_shape(node, *inner, ctx)?;
                if inner.accepts_null() {
                    inner
                } else {
                    TypeRef::Nullable(Box::new(inner))
                }
            }
            Shape::Array(items) => {
                let item = match items {
                    Some(items) => {
                        self.type_ref(items, &Ctx { owner: ctx.owner, role: format!("{} item", ctx.role) })?
                    }
                    None => TypeRef::Any,
                };
                TypeRef::List(Box::new(item))
            }
            Shape::Map(values) => {
                let value = match values {
                    Some(values) => {
                        self.type_ref(values, &Ctx { owner: ctx.owner, role: format!("{} value", ctx.role) })?
                    }
                    None => TypeRef::Any,
                };
                TypeRef::Map(Box::new(value))
            }
            Shape::Object(_) | Shape::Enum(_) | Shape::Union(_) => TypeRef::Named(self.inline(node, s, ctx, None)?),
            Shape::Multi(types) => {
                let id = self.inline(node, Shape::Multi(types), ctx, None)?;
                TypeRef::Named(id)
            }
            Shape::OtherLiterals(types) => {
                self.warn(node, "non-string enumerated values are not enforced; the value is read as its base type");
                match types.as_slice() {
                    [t] => primitive(*t),
                    _ => TypeRef::Any,
                }
            }
            Shape::Unsupported(message) => return Err(self.error(node, message)),
        })
    }

    fn int_format(&mut self, node: &Node) -> IntFormat {
        match node.format.as_deref() {
            None | Some("int64") => IntFormat::I64,
            Some("int32") => IntFormat::I32,
            Some("int16") => IntFormat::I16,
            Some("int8") => IntFormat::I8,
            Some("uint64" | "uint") => IntFormat::U64,
            Some("uint32") => IntFormat::U32,
            Some("uint16") => IntFormat::U16,
            Some("uint8") => IntFormat::U8,
            Some(other) => {
                let other = other.to_string();
                self.warn(node, format!("unknown integer format `{other}`; read as a 64-bit signed integer"));
                IntFormat::I64
            }
        }
    }

    /// A type for an inline schema that needs a name of its own.
    fn inline(&mut self, node: &'d Node, s: Shape<'d>, ctx: &Ctx, exclude: Option<&str>) -> Result<TypeId> {
        // A `$ref` elsewhere points at this node: it already has a type.
        if exclude.is_none() {
            // (Not when the node is the owner's own: `Foo = X or null` needs a type for X beside `Foo`.)
            if let Some(id) = self.by_pointer.get(&node.pointer).filter(|id| **id != ctx.owner) {
                return Ok(*id);
            }
        }
        let namespace = self.types[ctx.owner.0].namespace;
        let title = node.title.clone().filter(|t| t.chars().any(|c| c.is_alphanumeric()));
        // Two inline schemas with the same title and the same text are one type.
        let key = title.as_ref().map(|title| {
            let fingerprint = self.doc.raw.pointer(&node.pointer).map(|v| v.to_string()).unwrap_or_default();
            (namespace, title.clone(), exclude.map(str::to_string), fingerprint)
        });
        if let Some(id) = key.as_ref().and_then(|key| self.titled.get(key)) {
            return Ok(*id);
        }
        let hint = match &title {
            Some(title) => NameHint::Title { title: title.clone(), owner: ctx.owner },
            None => NameHint::Derived { owner: ctx.owner, role: ctx.role.clone() },
        };
        let id = self.new_type(node, namespace, hint);
        if let Some(key) = key {
            self.titled.insert(key, id);
        }
        let kind = match s {
            Shape::Object(object) => TypeKind::Struct(self.lower_struct(id, object, exclude)?),
            Shape::Enum(values) => TypeKind::Enum(enum_of(values)),
            Shape::Union(members) => self.lower_union(id, &members)?,
            Shape::Multi(types) => multi(&types),
            _ => unreachable!("only named shapes are lowered inline"),
        };
        self.types[id.0].kind = kind;
        Ok(id)
    }

    fn lower_struct(&mut self, id: TypeId, node: &'d Node, exclude: Option<&str>) -> Result<Struct> {
        let mut fields = Vec::new();
        for (wire, prop) in &node.properties {
            if Some(wire.as_str()) == exclude {
                continue;
            }
            if prop.boolean == Some(false) {
                self.warn(prop, format!("property `{wire}` admits no value and has no field"));
                continue;
            }
            let ty = self.type_ref(prop, &Ctx { owner: id, role: wire.clone() })?;
            let required = node.required.iter().any(|r| r == wire);
            let default = prop
                .default
                .clone()
                .filter(|d| !d.is_null() && !required)
                .map(|json| FieldDefault { json, value: None });
            fields.push(Field {
                name: Name { wire: wire.clone(), ..Name::default() },
                ty,
                required,
                default,
                doc: prop.description.clone(),
                constraints: Constraints {
                    minimum: prop.minimum,
                    maximum: prop.maximum,
                    min_length: prop.min_length,
                    max_length: prop.max_length,
                },
                recursive: false,
                location: self.doc.location(&prop.pointer),
            });
        }
        for r in &node.required {
            if !node.properties.contains_key(r) && Some(r.as_str()) != exclude {
                self.warn(node, format!("required property `{r}` is not declared in `properties`; it is not typed"));
            }
        }
        let members: Vec<&'d Node> = node
            .one_of
            .iter()
            .chain(node.any_of.iter())
            .flatten()
            .filter(|m| !matches!(shape(m), Shape::Null))
            .collect();
        let flatten = if members.is_empty() {
            None
        } else {
            let union_id = self.new_type(
                node,
                self.types[id.0].namespace,
                NameHint::Derived { owner: id, role: "variant".into() },
            );
            self.types[union_id.0].doc = None;
            self.types[union_id.0].kind = self.lower_union(union_id, &members)?;
            Some(Flattened {
                name: Name { wire: "variant".into(), ..Name::default() },
                ty: union_id,
                merged: Vec::new(),
            })
        };
        let extra = if flatten.is_some() {
            Extra::InFlattened
        } else {
            match &node.additional {
                Some(Additional::Allowed(false)) => Extra::Forbid,
                Some(Additional::Schema(values)) => {
                    Extra::Typed(self.type_ref(values, &Ctx { owner: id, role: "value".into() })?)
                }
                _ => Extra::Keep,
            }
        };
        Ok(Struct { fields, flatten, extra })
    }

    fn lower_union(&mut self, id: TypeId, members: &[&'d Node]) -> Result<TypeKind> {
        if let Some((tag, variants)) = self.find_tag(members)? {
            let mut out = Vec::new();
            for (value, member) in variants {
                let (ty, tag_in_struct) = if member.reference.is_some() {
                    (self.target(member)?, true)
                } else {
                    let ctx = Ctx { owner: id, role: value.clone() };
                    (self.inline(member, Shape::Object(member), &ctx, Some(&tag))?, false)
                };
                out.push(TaggedVariant {
                    name: Name { wire: value, ..Name::default() },
                    ty,
                    doc: member.description.clone(),
                    tag_in_struct,
                    recursive: false,
                });
            }
            return Ok(TypeKind::Tagged(TaggedUnion {
                tag: Name { wire: tag, ..Name::default() },
                variants: out,
                unknown: Name::default(),
            }));
        }
        let mut variants = Vec::new();
        for member in members {
            match shape(member) {
                Shape::Enum(values) => {
                    let single = values.len() == 1;
                    for (value, doc) in values {
                        variants.push(UntaggedVariant {
                            name: Name { wire: value.clone(), ..Name::default() },
                            doc: doc.or_else(|| member.description.clone().filter(|_| single)),
                            kind: UntaggedKind::Literal(value),
                            recursive: false,
                        });
                    }
                }
                Shape::Multi(types) => {
                    for t in types {
                        variants.push(untagged_value(type_word(t), member.description.clone(), primitive(t)));
                    }
                }
                s => {
                    let label = self.variant_label(member, &s)?;
                    let ty = self.type_of_shape(member, s, &Ctx { owner: id, role: label.clone() })?;
                    variants.push(untagged_value(&label, member.description.clone(), ty));
                }
            }
        }
        let fallback = !variants.iter().any(|v| v.kind == UntaggedKind::Value(TypeRef::Any));
        Ok(TypeKind::Untagged(UntaggedUnion { variants, fallback }))
    }

    /// What an untagged variant is called before naming: its title, its definition's key, or its JSON type.
    fn variant_label(&self, member: &Node, s: &Shape<'_>) -> Result<String> {
        if let Some(title) = member.title.clone().filter(|t| t.chars().any(|c| c.is_alphanumeric())) {
            return Ok(title);
        }
        Ok(match s {
            Shape::Ref(r) => {
                let id = self.target(r)?;
                match &self.types[id.0].origin.hint {
                    NameHint::Definition(key) | NameHint::Root(key) => key.clone(),
                    _ => "value".into(),
                }
            }
            Shape::Nullable(inner) => return self.variant_label(member, inner),
            Shape::Boolean => "boolean".into(),
            Shape::String => "string".into(),
            Shape::Integer => "integer".into(),
            Shape::Number => "number".into(),
            Shape::Array(_) => "array".into(),
            Shape::Object(object) => {
                // `{"granular": {...}}`: an object known by its one property is named after it.
                let required: Vec<&String> = object.properties.keys().filter(|k| object.required.contains(k)).collect();
                match (object.properties.len(), required.as_slice()) {
                    (1, _) => object.properties.keys().next().cloned().unwrap_or_default(),
                    (_, [only]) => (*only).clone(),
                    _ => "object".into(),
                }
            }
            Shape::Map(_) => "object".into(),
            Shape::Null => "null".into(),
            _ => "value".into(),
        })
    }

    /// A property every member requires, holding a distinct single string in each: the union's tag.
    fn find_tag(&self, members: &[&'d Node]) -> Result<Option<Tag<'d>>> {
        let mut objects: Vec<&'d Node> = Vec::new();
        for member in members {
            let object = if member.reference.is_some() && member.properties.is_empty() {
                let id = self.target(member)?;
                self.defined.get(&id).copied()
            } else {
                Some(*member)
            };
            match object {
                Some(o) if matches!(shape(o), Shape::Object(_)) => objects.push(o),
                _ => return Ok(None),
            }
        }
        let Some(first) = objects.first() else { return Ok(None) };
        let mut candidates: Vec<&String> = first.properties.keys().collect();
        // `type` and `method` are the usual discriminators; prefer them when several properties qualify.
        candidates.sort_by_key(|c| match c.as_str() {
            "type" => 0,
            "method" => 1,
            _ => 2,
        });
        'candidates: for candidate in candidates {
            let mut values: Vec<(String, &'d Node)> = Vec::new();
            for (object, member) in objects.iter().zip(members) {
                let Some(value) = self.tag_value(object, candidate) else {
                    continue 'candidates;
                };
                if values.iter().any(|(v, _)| *v == value) {
                    continue 'candidates;
                }
                values.push((value, *member));
            }
            return Ok(Some((candidate.clone(), values)));
        }
        Ok(None)
    }

    fn tag_value(&self, object: &Node, property: &str) -> Option<String> {
        if !object.required.iter().any(|r| r == property) {
            return None;
        }
        let mut prop = object.properties.get(property)?;
        if prop.reference.is_some() {
            let id = self.target(prop).ok()?;
            prop = self.defined.get(&id).copied()?;
        }
        match shape(prop) {
            Shape::Enum(values) if values.len() == 1 => Some(values[0].0.clone()),
            _ => None,
        }
    }
}

/// A `type` list of several types: an untagged union of those types.
fn multi(types: &[JsonType]) -> TypeKind {
    TypeKind::Untagged(UntaggedUnion {
        variants: types.iter().map(|t| untagged_value(type_word(*t), None, primitive(*t))).collect(),
        fallback: true,
    })
}

fn enum_of(values: Vec<(String, Option<String>)>) -> StringEnum {
    StringEnum {
        values: values
            .into_iter()
            .map(|(wire, doc)| EnumValue { name: Name { wire, ..Name::default() }, doc })
            .collect(),
    }
}

fn untagged_value(label: &str, doc: Option<String>, ty: TypeRef) -> UntaggedVariant {
    UntaggedVariant {
        name: Name { wire: label.to_string(), ..Name::default() },
        doc,
        kind: UntaggedKind::Value(ty),
        recursive: false,
    }
}

fn primitive(t: JsonType) -> TypeRef {
    match t {
        JsonType::Null => TypeRef::Null,
        JsonType::Boolean => TypeRef::Boolean,
        JsonType::Integer => TypeRef::Integer(IntFormat::I64),
        JsonType::Number => TypeRef::Number(FloatFormat::F64),
        JsonType::String => TypeRef::String,
        JsonType::Array => TypeRef::List(Box::new(TypeRef::Any)),
        JsonType::Object => TypeRef::Map(Box::new(TypeRef::Any)),
    }
}

fn type_word(t: JsonType) -> &'static str {
    match t {
        JsonType::Null => "null",
        JsonType::Boolean => "boolean",
        JsonType::Integer => "integer",
        JsonType::Number => "number",
        JsonType::String => "string",
        JsonType::Array => "array",
        JsonType::Object => "object",
    }
}
