//! Invariants and cycle facts, computed once after lowering.
//!
//! - A cycle of aliases that never passes through a list or map is an error (`A → B → A`).
//! - Aliases on a cycle through a list or map become newtypes (a Rust type alias cannot refer to itself).
//! - Every by-value edge inside a cycle of containment is marked `recursive`, so it gets indirection.

use std::collections::HashMap;

use super::*;
use crate::error::{Error, Result, Warning};

/// Resolves cycles, marks recursion, and drops (with a warning) defaults that do not fit their field.
pub fn check(ir: &mut Ir) -> Result<Vec<Warning>> {
    resolve_alias_cycles(ir)?;
    mark_recursion(ir);
    let warnings = check_defaults(ir);
    let emitted = ir.types.iter().filter(|t| matches!(t.origin.hint, NameHint::Definition(_))).count();
    if emitted != ir.definitions {
        return Err(Error::new(
            ir.types
                .first()
                .map(|t| t.origin.location.clone())
                .unwrap_or_else(|| crate::error::Location::new(std::path::Path::new(&ir.source.file_name), "")),
            format!("{} definitions were read but {emitted} have a type", ir.definitions),
        ));
    }
    Ok(warnings)
}

/// A default is applied on read only when it is a value of the field's type that every language can
/// write as a literal: booleans, numbers in range, strings, enum values, lists of those, `{}` for a map, and
/// newtypes of those. The decision is recorded in the field ([`FieldDefault::value`]); a default that does not
/// fit is dropped, and the field is optional without one.
fn check_defaults(ir: &mut Ir) -> Vec<Warning> {
    let mut warnings = Vec::new();
    for i in 0..ir.types.len() {
        let TypeKind::Struct(s) = &ir.types[i].kind else {
            continue;
        };
        let decided: Vec<(usize, Option<DefaultValue>)> = s
            .fields
            .iter()
            .enumerate()
            .filter_map(|(n, f)| f.default.as_ref().map(|d| (n, default_value(ir, &f.ty, &d.json))))
            .collect();
        let TypeKind::Struct(s) = &mut ir.types[i].kind else { unreachable!() };
        for (n, value) in decided {
            let field = &mut s.fields[n];
            match (value, &mut field.default) {
                (Some(value), Some(default)) => default.value = Some(value),
                (None, default) => {
                    let json = default.take().map(|d| d.json).unwrap_or_default();
                    warnings.push(Warning {
                        location: field.location.clone(),
                        message: format!(
                            "default {json} of `{}` is not a literal of its type; the field is optional without a default",
                            field.name.wire
                        ),
                    });
                }
                (Some(_), None) => {}
            }
        }
    }
    warnings
}

/// `value` as a value of `ty`, when it is one every language can write.
fn default_value(ir: &Ir, ty: &TypeRef, value: &serde_json::Value) -> Option<DefaultValue> {
    use serde_json::Value;
    Some(match (ty, value) {
        (TypeRef::Nullable(inner), v) => DefaultValue::NotNull(Box::new(default_value(ir, inner, v)?)),
        (TypeRef::Boolean, Value::Bool(b)) => DefaultValue::Bool(*b),
        (TypeRef::String, Value::String(s)) => DefaultValue::String(s.clone()),
        (TypeRef::Integer(f), Value::Number(n)) => {
            let (lo, hi) = f.bounds();
            let v = n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from))?;
            if v < lo || v > hi {
                return None;
            }
            DefaultValue::Integer(v)
        }
        (TypeRef::Number(_), Value::Number(n)) => DefaultValue::Number(n.as_f64()?),
        (TypeRef::List(inner), Value::Array(items)) => {
            DefaultValue::List(items.iter().map(|v| default_value(ir, inner, v)).collect::<Option<_>>()?)
        }
        (TypeRef::Map(_), Value::Object(o)) if o.is_empty() => DefaultValue::EmptyMap,
        (TypeRef::Named(id), v) => match (&ir.get(*id).kind, v) {
            (TypeKind::Enum(e), Value::String(s)) => {
                DefaultValue::Enum { ty: *id, index: e.values.iter().position(|x| x.name.wire == *s), wire: s.clone() }
            }
            (TypeKind::Alias(inner), v) => default_value(ir, inner, v)?,
            (TypeKind::Newtype(inner), v) => {
                DefaultValue::Newtype { ty: *id, inner: Box::new(default_value(ir, inner, v)?) }
            }
            _ => return None,
        },
        _ => return None,
    })
}

/// Named types a type reference mentions: `(id, through a list or map)`.
fn mentions(ty: &TypeRef, indirect: bool, out: &mut Vec<(TypeId, bool)>) {
    match ty {
        TypeRef::Named(id) => out.push((*id, indirect)),
        TypeRef::Nullable(inner) => mentions(inner, indirect, out),
        TypeRef::List(inner) | TypeRef::Map(inner) => mentions(inner, true, out),
        _ => {}
    }
}

fn alias_target(kind: &TypeKind) -> Option<&TypeRef> {
    match kind {
        TypeKind::Alias(t) | TypeKind::Newtype(t) => Some(t),
        _ => None,
    }
}

fn resolve_alias_cycles(ir: &mut Ir) -> Result<()> {
    let n = ir.types.len();
    let mut edges: Vec<Vec<(usize, bool)>> = vec![Vec::new(); n];
    for (i, t) in ir.types.iter().enumerate() {
        if let Some(target) = alias_target(&t.kind) {
            let mut m = Vec::new();
            mentions(target, false, &mut m);
            edges[i] = m
                .into_iter()
                .filter(|(id, _)| alias_target(&ir.types[id.0].kind).is_some())
                .map(|(id, ind)| (id.0, ind))
                .collect();
        }
    }
    let plain: Vec<Vec<usize>> = edges.iter().map(|e| e.iter().map(|(t, _)| *t).collect()).collect();
    for component in strongly_connected(&plain) {
        let cyclic = component.len() > 1 || plain[component[0]].contains(&component[0]);
        if !cyclic {
            continue;
        }
        let indirect = component.iter().any(|a| edges[*a].iter().any(|(b, ind)| *ind && component.contains(b)));
        if !indirect {
            let first = *component.iter().min().expect("components are not empty");
            let path = cycle_path(&plain, &component, first)
                .iter()
                .map(|i| ir.types[*i].origin.hint_text().to_string())
                .collect::<Vec<_>>()
                .join(" → ");
            return Err(Error::new(
                ir.types[first].origin.location.clone(),
                format!("alias cycle: {path}; each of these only names the next, so none of them has a shape"),
            ));
        }
        for i in component {
            if let TypeKind::Alias(t) = &ir.types[i].kind {
                ir.types[i].kind = TypeKind::Newtype(t.clone());
            }
        }
    }
    Ok(())
}

/// A path around the cycle from `start` back to it, inside `component`.
fn cycle_path(edges: &[Vec<usize>], component: &[usize], start: usize) -> Vec<usize> {
    let mut path = vec![start];
    let mut seen = vec![start];
    let mut at = start;
    loop {
        let next = edges[at].iter().copied().find(|b| component.contains(b) && (*b == start || !seen.contains(b)));
        match next {
            Some(b) => {
                path.push(b);
                if b == start {
                    return path;
                }
                seen.push(b);
                at = b;
            }
            None => return path,
        }
    }
}

/// Marks by-value edges that close a cycle of containment.
fn mark_recursion(ir: &mut Ir) {
    let n = ir.types.len();
    let mut by_value: Vec<Vec<usize>> = vec![Vec::new(); n];
    let direct = |ty: &TypeRef| -> Vec<usize> {
        let mut m = Vec::new();
        mentions(ty, false, &mut m);
        m.into_iter().filter(|(_, ind)| !ind).map(|(id, _)| id.0).collect()
    };
    for (i, t) in ir.types.iter().enumerate() {
        let e = &mut by_value[i];
        match &t.kind {
            TypeKind::Struct(s) => {
                for f in &s.fields {
                    e.extend(direct(&f.ty));
                }
                if let Some(fl) = &s.flatten {
                    e.push(fl.ty.0);
                }
            }
            TypeKind::Tagged(u) => e.extend(u.variants.iter().map(|v| v.ty.0)),
            TypeKind::Untagged(u) => {
                for v in &u.variants {
                    if let UntaggedKind::Value(ty) = &v.kind {
                        e.extend(direct(ty));
                    }
                }
            }
            TypeKind::Alias(ty) | TypeKind::Newtype(ty) => e.extend(direct(ty)),
            TypeKind::Enum(_) => {}
        }
    }
    let mut component_of: HashMap<usize, usize> = HashMap::new();
    for (c, members) in strongly_connected(&by_value).into_iter().enumerate() {
        let cyclic = members.len() > 1 || by_value[members[0]].contains(&members[0]);
        if cyclic {
            for m in members {
                component_of.insert(m, c);
            }
        }
    }
    let same = |a: usize, b: usize| component_of.get(&a).is_some_and(|c| component_of.get(&b) == Some(c));
    for i in 0..n {
        if !component_of.contains_key(&i) {
            continue;
        }
        match &mut ir.types[i].kind {
            TypeKind::Struct(s) => {
                for f in &mut s.fields {
                    f.recursive = direct(&f.ty).into_iter().any(|t| same(i, t));
                }
            }
            TypeKind::Tagged(u) => {
                for v in &mut u.variants {
                    v.recursive = same(i, v.ty.0);
                }
            }
            TypeKind::Untagged(u) => {
                for v in &mut u.variants {
                    if let UntaggedKind::Value(ty) = &v.kind {
                        v.recursive = direct(ty).into_iter().any(|t| same(i, t));
                    }
                }
            }
            _ => {}
        }
    }
}

/// Tarjan's algorithm, iterative so deep graphs cannot overflow the stack. Components come out in reverse topological order.
pub fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, usize)> = vec![(root, 0)];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = work.last_mut() {
            if *edge < edges[v].len() {
                let w = edges[v][*edge];
                *edge += 1;
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    loop {
                        let w = stack.pop().expect("v is on the stack");
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    component.sort_unstable();
                    out.push(component);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strongly_connected;

    #[test]
    fn components() {
        let edges = vec![vec![1], vec![0, 2], vec![], vec![3]];
        let mut c = strongly_connected(&edges);
        c.sort();
        assert_eq!(c, vec![vec![0, 1], vec![2], vec![3]]);
    }
}
