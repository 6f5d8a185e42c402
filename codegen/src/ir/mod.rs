//! The target-neutral model every emitter reads. Type, variant and method-marker names are decided here once
//! (`naming`); each backend decides its own language's names of modules, fields and enum values, on its own
//! copy of the model.

pub mod check;
pub mod declines;
pub mod lower;
pub mod routes;
pub mod rpc;
pub mod shape;

use serde_json::Value;

use crate::error::Location;

/// One name: as on the wire, and as an identifier. `naming` decides the identifiers of types, variants and
/// method markers (language-neutral, and what every backend starts from); the rest are each backend's to decide
/// (`emit::*::names`) on its own copy of the model, and empty until then. A backend may also rewrite a type's
/// identifier on its copy (a Python class that would shadow a name its package imports).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Name {
    pub wire: String,
    pub ident: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(pub usize);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NamespaceId(pub usize);

/// A namespace of the schema: the top level, or a nested group of definitions such as `v2`.
#[derive(Debug, Clone)]
pub struct Namespace {
    /// Path below the top level, empty for the top level.
    pub path: Vec<String>,
    /// The module name of each path segment (empty for the top level); the identifiers are each backend's.
    pub modules: Vec<Name>,
    /// Its types in output order (by their language-neutral name, so output is stable); set by `naming`.
    pub types: Vec<TypeId>,
}

/// Where a type came from, and how its name was chosen.
#[derive(Debug, Clone)]
pub struct Origin {
    pub location: Location,
    pub hint: NameHint,
}

/// What a type's name is derived from; the naming pass turns hints into identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameHint {
    /// The key under `definitions`.
    Definition(String),
    /// The document's own root schema (its title, or the file stem).
    Root(String),
    /// An inline schema's `title`, with the owner's name as the fallback qualifier.
    Title { title: String, owner: TypeId },
    /// An inline schema without a usable title: the owner's name followed by a role (a property, a tag value ...).
    Derived { owner: TypeId, role: String },
}

impl Origin {
    /// The text the name was derived from, for messages.
    pub fn hint_text(&self) -> &str {
        match &self.hint {
            NameHint::Definition(k) | NameHint::Root(k) => k,
            NameHint::Title { title, .. } => title,
            NameHint::Derived { role, .. } => role,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub name: Name,
    pub namespace: NamespaceId,
    pub origin: Origin,
    pub doc: Option<String>,
    pub kind: TypeKind,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    Struct(Struct),
    Enum(StringEnum),
    Tagged(TaggedUnion),
    Untagged(UntaggedUnion),
    /// A name for another type: `AbsolutePathBuf` = string.
    Alias(TypeRef),
    /// Like an alias, but a distinct type: needed where the type refers to itself (`A` = list of `A`).
    Newtype(TypeRef),
}

/// An object with known properties.
#[derive(Debug, Clone)]
pub struct Struct {
    pub fields: Vec<Field>,
    /// An untagged or tagged union whose variants add more properties to this object
    /// (an object with both `properties` and `oneOf`/`anyOf`). Its fields sit beside `fields` on the wire.
    pub flatten: Option<Flattened>,
    pub extra: Extra,
}

#[derive(Debug, Clone)]
pub struct Flattened {
    pub name: Name,
    pub ty: TypeId,
    /// Languages without flattening (Python) write one class per variant that holds the object's own
    /// fields and the variant's: its name, per variant of `ty` in order.
    pub merged: Vec<Name>,
}

/// What happens to properties the schema does not list.
#[derive(Debug, Clone, PartialEq)]
pub enum Extra {
    /// `additionalProperties: false`: rejected.
    Forbid,
    /// Kept as raw JSON and written back unchanged.
    Keep,
    /// `additionalProperties: {schema}`: kept, each value of this type.
    Typed(TypeRef),
    /// The flattened union's variants keep them (the object has `flatten`).
    InFlattened,
}

#[derive(Debug, Clone)]
pub struct Field {
    pub name: Name,
    pub ty: TypeRef,
    /// Listed in `required`: always present on the wire.
    pub required: bool,
    /// The schema's `default`, applied on read when the property is absent (only for optional fields).
    pub default: Option<FieldDefault>,
    pub doc: Option<String>,
    pub constraints: Constraints,
    /// The field closes a cycle of by-value containment and needs indirection (`Box` in Rust).
    pub recursive: bool,
    pub location: Location,
}

/// A schema `default`, and the value of its field's type that [`check`] decided it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDefault {
    /// As the schema wrote it.
    pub json: Value,
    /// `None` until [`check`] has decided; a default that is no value of its field's type is dropped there,
    /// with a warning, so every default left after it has one. Backends print it and decide nothing.
    pub value: Option<DefaultValue>,
}

impl FieldDefault {
    /// The value to apply, once decided.
    pub fn applied(&self) -> Option<&DefaultValue> {
        self.value.as_ref()
    }
}

/// A default as a value of its field's type. Aliases are looked through; what else the type wraps is kept,
/// since each language writes it.
#[derive(Debug, Clone, PartialEq)]
pub enum DefaultValue {
    Bool(bool),
    String(String),
    /// Within the bounds of the field's integer format.
    Integer(i128),
    Number(f64),
    List(Vec<DefaultValue>),
    /// `{}` for a map.
    EmptyMap,
    /// A value of string enum `ty`: the index of the value among those it lists, or `None` for one it does
    /// not list (kept as an unknown value); `wire` as written.
    Enum {
        ty: TypeId,
        index: Option<usize>,
        wire: String,
    },
    /// A value of newtype `ty`.
    Newtype {
        ty: TypeId,
        inner: Box<DefaultValue>,
    },
    /// A value of a nullable type, which is not `null`.
    NotNull(Box<DefaultValue>),
}

/// Value constraints that do not change the type.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Constraints {
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
}

/// A string enum. Values the schema does not list are kept too.
#[derive(Debug, Clone)]
pub struct StringEnum {
    pub values: Vec<EnumValue>,
}

#[derive(Debug, Clone)]
pub struct EnumValue {
    pub name: Name,
    pub doc: Option<String>,
}

/// A union discriminated by one property holding a distinct string per variant.
#[derive(Debug, Clone)]
pub struct TaggedUnion {
    /// The discriminating property.
    pub tag: Name,
    pub variants: Vec<TaggedVariant>,
    /// The variant that keeps a tag this version of the schema does not list (`Unknown` in Rust; a
    /// class of its own in Python).
    pub unknown: Name,
}

#[derive(Debug, Clone)]
pub struct TaggedVariant {
    /// `wire` is the tag value; `ident` names the variant (the same in every language).
    pub name: Name,
    /// The variant's object, without the tag property.
    pub ty: TypeId,
    pub doc: Option<String>,
    /// The variant's object declares the tag property itself (a `$ref` to a shared definition),
    /// so the tag is part of the object rather than added around it.
    pub tag_in_struct: bool,
    pub recursive: bool,
}

/// A union told apart by shape; variants are tried in order.
#[derive(Debug, Clone)]
pub struct UntaggedUnion {
    pub variants: Vec<UntaggedVariant>,
    /// Values no variant accepts are kept as raw JSON (false when a variant already accepts anything).
    pub fallback: bool,
}

#[derive(Debug, Clone)]
pub struct UntaggedVariant {
    pub name: Name,
    pub doc: Option<String>,
    pub kind: UntaggedKind,
    pub recursive: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UntaggedKind {
    /// Exactly this string.
    Literal(String),
    /// Any value of this type.
    Value(TypeRef),
}

/// A use of a type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeRef {
    Named(TypeId),
    String,
    Integer(IntFormat),
    Number(FloatFormat),
    Boolean,
    /// Any JSON value.
    Any,
    /// Only `null`.
    Null,
    List(Box<TypeRef>),
    /// A JSON object used as a map from string keys.
    Map(Box<TypeRef>),
    /// The value may be `null`.
    Nullable(Box<TypeRef>),
}

impl TypeRef {
    /// Whether `null` is a valid value.
    pub fn accepts_null(&self) -> bool {
        matches!(self, TypeRef::Nullable(_) | TypeRef::Any | TypeRef::Null)
    }

    /// The named type a value holds, itself or in its lists, maps and nullables (each holds one type).
    pub fn named(&self) -> Option<TypeId> {
        match self {
            TypeRef::Named(id) => Some(*id),
            TypeRef::List(inner) | TypeRef::Map(inner) | TypeRef::Nullable(inner) => inner.named(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntFormat {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
}

impl IntFormat {
    pub fn bounds(self) -> (i128, i128) {
        match self {
            IntFormat::I8 => (i8::MIN.into(), i8::MAX.into()),
            IntFormat::I16 => (i16::MIN.into(), i16::MAX.into()),
            IntFormat::I32 => (i32::MIN.into(), i32::MAX.into()),
            IntFormat::I64 => (i64::MIN.into(), i64::MAX.into()),
            IntFormat::U8 => (0, u8::MAX.into()),
            IntFormat::U16 => (0, u16::MAX.into()),
            IntFormat::U32 => (0, u32::MAX.into()),
            IntFormat::U64 => (0, u64::MAX.into()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatFormat {
    F32,
    F64,
}

/// The whole model of one schema.
#[derive(Debug, Clone)]
pub struct Ir {
    pub source: Source,
    pub namespaces: Vec<Namespace>,
    pub types: Vec<TypeDef>,
    /// How many definitions the document has (each has a type in `types`).
    pub definitions: usize,
    /// The method tables, when the schema has the protocol's message unions.
    pub rpc: Option<rpc::Rpc>,
    /// The order in which the naming pass let types claim their names (definitions by key, then titled, then
    /// derived inline types). A backend that names its own classes claims in the same order, so which of two
    /// colliding names gets escaped never depends on the order of the file.
    pub claim_order: Vec<TypeId>,
}

/// The schema the model was read from.
#[derive(Debug, Clone)]
pub struct Source {
    pub file_name: String,
    pub sha256: String,
}

impl Ir {
    pub fn get(&self, id: TypeId) -> &TypeDef {
        &self.types[id.0]
    }

    /// `ty`, or what the alias it names stands for (through any chain of aliases).
    pub fn through_aliases<'a>(&'a self, ty: &'a TypeRef) -> &'a TypeRef {
        match ty {
            TypeRef::Named(id) => match &self.get(*id).kind {
                TypeKind::Alias(inner) => self.through_aliases(inner),
                _ => ty,
            },
            other => other,
        }
    }

    /// Whether `null` is a valid value of `ty`, looking through aliases.
    pub fn accepts_null(&self, ty: &TypeRef) -> bool {
        self.through_aliases(ty).accepts_null()
    }

    /// How many places refer to each named type (fields, variants, aliases, flattened unions).
    pub fn reference_counts(&self) -> std::collections::HashMap<TypeId, usize> {
        let mut counts = std::collections::HashMap::new();
        for id in (0..self.types.len()).map(TypeId) {
            for r in self.references(id) {
                *counts.entry(r).or_default() += 1;
            }
        }
        counts
    }

    /// The named types `id` refers to directly, once per place (fields, variants, aliases, flattened unions).
    pub fn references(&self, id: TypeId) -> Vec<TypeId> {
        self.edges(id, true)
    }

    /// The named types a value of `id` holds in itself or in its lists and maps: [`Ir::references`] less the
    /// fields and variants marked `recursive`, which are held through a pointer.
    pub fn contained(&self, id: TypeId) -> Vec<TypeId> {
        self.edges(id, false)
    }

    fn edges(&self, id: TypeId, recursive: bool) -> Vec<TypeId> {
        let mut out = Vec::new();
        let Some(t) = self.types.get(id.0) else { return out };
        match &t.kind {
            TypeKind::Struct(s) => {
                for f in s.fields.iter().filter(|f| recursive || !f.recursive) {
                    out.extend(f.ty.named());
                }
                if let Some(f) = &s.flatten {
                    out.push(f.ty);
                }
                if let Extra::Typed(ty) = &s.extra {
                    out.extend(ty.named());
                }
            }
            TypeKind::Tagged(u) => out.extend(u.variants.iter().filter(|v| recursive || !v.recursive).map(|v| v.ty)),
            TypeKind::Untagged(u) => {
                for v in u.variants.iter().filter(|v| recursive || !v.recursive) {
                    if let UntaggedKind::Value(ty) = &v.kind {
                        out.extend(ty.named());
                    }
                }
            }
            TypeKind::Alias(ty) | TypeKind::Newtype(ty) => out.extend(ty.named()),
            TypeKind::Enum(_) => {}
        }
        out
    }

    /// The namespaces directly below `ns`.
    pub fn children(&self, ns: NamespaceId) -> Vec<NamespaceId> {
        let path = &self.namespaces[ns.0].path;
        (0..self.namespaces.len())
            .filter(|i| {
                let p = &self.namespaces[*i].path;
                p.len() == path.len() + 1 && p.starts_with(path)
            })
            .map(NamespaceId)
            .collect()
    }

    /// Type ids of one namespace, in output order (by language-neutral name, so output is stable).
    pub fn types_in(&self, ns: NamespaceId) -> &[TypeId] {
        &self.namespaces[ns.0].types
    }
}
