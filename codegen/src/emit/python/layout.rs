//! Line layout of the few long constructs the package has, as `ruff format` lays them out, so that the
//! generated code is stable under it: split at the last bracket first, one element per line when the
//! contents do not fit on one, and a trailing comma after the last element of an exploded list.

/// The line length the generated package declares for ruff.
pub const LINE_LENGTH: usize = 120;

const INDENT: &str = "    ";

/// The lines of a class field `name: annotation = value`, each with its indentation.
pub fn field(name: &str, annotation: &str, value: Option<&str>) -> Vec<String> {
    let assign = value.map(|v| format!(" = {v}")).unwrap_or_default();
    let one = format!("{INDENT}{name}: {annotation}{assign}");
    if one.len() <= LINE_LENGTH {
        return vec![one];
    }
    // The value's brackets first: `name: annotation = Field(` / arguments / `)`.
    if let Some(v) = value {
        if let Some((head, body, tail)) = last_bracket(v) {
            let first = format!("{INDENT}{name}: {annotation} = {head}");
            if first.len() <= LINE_LENGTH {
                let mut lines = vec![first];
                lines.extend(contents(body, 2));
                lines.push(format!("{INDENT}{tail}"));
                return lines;
            }
        }
    }
    // A value without brackets is parenthesised: `name: annotation = (` / value / `)`.
    if let Some(v) = value.filter(|v| last_bracket(v).is_none()) {
        let first = format!("{INDENT}{name}: {annotation} = (");
        if first.len() <= LINE_LENGTH {
            return vec![first, format!("{INDENT}{INDENT}{v}"), format!("{INDENT})")];
        }
    }
    // Then the annotation's: `name: Annotated[` / contents / `] = value`.
    if let Some((head, body, tail)) = last_bracket(annotation) {
        let mut lines = vec![format!("{INDENT}{name}: {head}")];
        lines.extend(contents(body, 2));
        lines.push(format!("{INDENT}{tail}{assign}"));
        return lines;
    }
    // A union too long for its line (names of types nested deep): parenthesised, on one line inside when
    // it fits there, else a member a line.
    let members = split_top_level(annotation, '|');
    if members.len() > 1 {
        let mut lines = vec![format!("{INDENT}{name}: (")];
        let inside = format!("{INDENT}{INDENT}{annotation}");
        let members = if inside.len() <= LINE_LENGTH { vec![annotation] } else { members };
        for (i, member) in members.iter().enumerate() {
            let prefix = format!("{INDENT}{INDENT}{}", if i == 0 { "" } else { "| " });
            lines.extend(nested(&prefix, member, 2, ""));
        }
        lines.push(format!("{INDENT}){assign}"));
        return lines;
    }
    vec![one]
}

/// `class name(base):`, or when that is too long, the base on a line of its own.
pub fn class_head(name: &str, base: &str) -> Vec<String> {
    let one = format!("class {name}({base}):");
    if one.len() <= LINE_LENGTH {
        return vec![one];
    }
    let mut lines = vec![format!("class {name}(")];
    lines.extend(nested(INDENT, base, 1, ""));
    lines.push("):".into());
    lines
}

/// Names in the order ruff's isort keeps the members of a `from ... import` list: constants, then
/// classes, then the rest; within each, case-insensitively with numbers compared as numbers.
pub fn import_order(names: &mut [String]) {
    names.sort_by_cached_key(|n| (member_rank(n), natural(&n.to_lowercase()), natural(n)));
}

/// Names in the order ruff keeps `__all__` (RUF022): the same groups, compared case-sensitively.
pub fn all_order(names: &mut [String]) {
    names.sort_by_cached_key(|n| (member_rank(n), natural(n)));
}

fn member_rank(name: &str) -> u8 {
    if name.len() > 1 && !name.chars().any(char::is_lowercase) {
        0
    } else if name.starts_with(|c: char| c.is_uppercase()) {
        1
    } else {
        2
    }
}

/// A sort key that compares runs of digits by value (`Int8` before `Int16`).
fn natural(text: &str) -> Vec<(String, u64)> {
    let mut key = Vec::new();
    let mut chars = text.chars().peekable();
    while chars.peek().is_some() {
        let mut word = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_ascii_digit()) {
            word.push(c);
        }
        let mut number = String::new();
        while let Some(c) = chars.next_if(char::is_ascii_digit) {
            number.push(c);
        }
        key.push((word, number.parse().unwrap_or(0)));
    }
    key
}

/// `name: TypeAlias = a | b`, or parenthesised: on one line inside when that fits, else one member a line.
pub fn union_alias(prefix: &str, members: &[String]) -> Vec<String> {
    let one = members.join(" | ");
    if prefix.len() + one.len() <= LINE_LENGTH {
        return vec![format!("{prefix}{one}")];
    }
    if let [member] = members {
        return nested(prefix, member, 0, "");
    }
    let mut lines = vec![format!("{prefix}(")];
    lines.extend(union_lines(members, INDENT, ""));
    lines.push(")".into());
    lines
}

/// A union as one element of a bracketed list at `indent`, followed by `after` (such as `,`).
pub fn union_lines(members: &[String], indent: &str, after: &str) -> Vec<String> {
    let one = format!("{indent}{}{after}", members.join(" | "));
    if one.len() <= LINE_LENGTH {
        return vec![one];
    }
    let last = members.len() - 1;
    let mut lines = Vec::new();
    for (i, m) in members.iter().enumerate() {
        let op = if i == 0 { "" } else { "| " };
        let end = if i == last { after } else { "" };
        let line = format!("{indent}{op}{m}{end}");
        match last_bracket(m) {
            Some((head, body, tail)) if line.len() > LINE_LENGTH => {
                lines.push(format!("{indent}{op}{head}"));
                let inner = format!("{indent}{INDENT}");
                lines.extend(split_top_level(body, ',').into_iter().map(|e| format!("{inner}{e},")));
                lines.push(format!("{indent}{tail}{end}"));
            }
            _ => lines.push(line),
        }
    }
    lines
}

/// `prefix`, `expr` and `suffix` on one line when they fit; else `expr` broken as ruff breaks a subscript or
/// call (types nested deeper than a line holds: `list[list[...]]`): its opening bracket ends the line, its
/// contents follow one level in (on one line when they fit there, else one element a line, each broken
/// the same way, with commas, but for the one element of a subscript), and its closing bracket has a line
/// of its own at `depth`.
fn nested(prefix: &str, expr: &str, depth: usize, suffix: &str) -> Vec<String> {
    let one = format!("{prefix}{expr}{suffix}");
    let Some((head, body, tail)) = last_bracket(expr).filter(|_| one.len() > LINE_LENGTH) else {
        return vec![one];
    };
    let inner = INDENT.repeat(depth + 1);
    let mut lines = vec![format!("{prefix}{head}")];
    let elements = split_top_level(body, ',');
    if inner.len() + body.len() <= LINE_LENGTH {
        lines.push(format!("{inner}{body}"));
    } else if let ([element], true) = (elements.as_slice(), head.ends_with('[')) {
        lines.extend(nested(&inner, element, depth + 1, ""));
    } else {
        for element in elements {
            lines.extend(nested(&inner, element, depth + 1, ","));
        }
    }
    lines.push(format!("{}{tail}{suffix}", INDENT.repeat(depth)));
    lines
}

/// `{indent}from {module} import a, b`: on one line when it fits, else one name a line in brackets.
pub fn import_from(indent: &str, module: &str, names: &[String]) -> Vec<String> {
    let one = format!("{indent}from {module} import {}", names.join(", "));
    if one.len() <= LINE_LENGTH {
        return vec![one];
    }
    let mut lines = vec![format!("{indent}from {module} import (")];
    lines.extend(names.iter().map(|n| format!("{indent}{INDENT}{n},")));
    lines.push(format!("{indent})"));
    lines
}

/// `prefix` + `call(` + a set literal of `items` + `)`, as ruff lays it out at the top level.
pub fn set_call(prefix: &str, call: &str, items: &[String]) -> Vec<String> {
    let set = format!("{{{}}}", items.join(", "));
    let one = format!("{prefix}{call}({set})");
    if one.len() <= LINE_LENGTH {
        return vec![one];
    }
    let mut lines = vec![format!("{prefix}{call}(")];
    if INDENT.len() + set.len() <= LINE_LENGTH {
        lines.push(format!("{INDENT}{set}"));
    } else {
        lines.push(format!("{INDENT}{{"));
        lines.extend(items.iter().map(|i| format!("{INDENT}{INDENT}{i},")));
        lines.push(format!("{INDENT}}}"));
    }
    lines.push(")".into());
    lines
}

/// The contents of a bracket pair at `depth` indents: on one line when it fits, else one element a line.
fn contents(body: &str, depth: usize) -> Vec<String> {
    let indent = INDENT.repeat(depth);
    let one = format!("{indent}{body}");
    if one.len() <= LINE_LENGTH {
        return vec![one];
    }
    split_top_level(body, ',').into_iter().map(|e| format!("{indent}{e},")).collect()
}

/// Calls `f(index, char, depth)` for each character outside string literals, with the bracket depth
/// before it.
fn scan(text: &str, mut f: impl FnMut(usize, char, usize)) {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        f(i, c, depth);
        match c {
            '"' => in_string = true,
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// `head(`, contents, `)tail` of the last top-level bracket pair that closes the text.
fn last_bracket(text: &str) -> Option<(&str, &str, &str)> {
    let open = match text.chars().last()? {
        ')' => '(',
        ']' => '[',
        '}' => '{',
        _ => return None,
    };
    let mut open_at = None;
    scan(text, |i, c, depth| {
        if depth == 0 && c == open {
            open_at = Some(i);
        }
    });
    let at = open_at?;
    let body = &text[at + 1..text.len() - 1];
    (!body.is_empty()).then(|| (&text[..=at], body, &text[text.len() - 1..]))
}

/// Splits at `separator`s outside brackets and strings.
fn split_top_level(text: &str, separator: char) -> Vec<&str> {
    let mut cuts = Vec::new();
    scan(text, |i, c, depth| {
        if depth == 0 && c == separator {
            cuts.push(i);
        }
    });
    let mut parts = Vec::new();
    let mut start = 0;
    for cut in cuts {
        parts.push(text[start..cut].trim());
        start = cut + 1;
    }
    parts.push(text[start..].trim());
    parts.into_iter().filter(|p| !p.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_fields_stay_on_one_line() {
        assert_eq!(field("a", "int", Some("0")), ["    a: int = 0"]);
    }

    #[test]
    fn long_fields_split_at_the_value_first_then_the_annotation() {
        let ann = format!("Annotated[list[{}], Field(alias=\"x\")]", "A".repeat(40));
        let lines = field("marketplace_load_errors", &ann, Some("Field(default_factory=list)"));
        assert_eq!(lines[1], "        default_factory=list");
        assert_eq!(lines[2], "    )");
        let long = format!("Annotated[{}, Field(alias=\"y\")]", "B".repeat(130));
        let lines = field("y", &long, None);
        assert_eq!(
            lines,
            [
                "    y: Annotated[".to_string(),
                format!("        {},", "B".repeat(130)),
                "        Field(alias=\"y\"),".into(),
                "    ]".into()
            ]
        );
    }

    #[test]
    fn nested_subscripts_break_one_bracket_a_line() {
        // As `ruff format` lays them out.
        let lists = |n: usize| format!("{}str{}", "list[".repeat(n), "]".repeat(n));
        let inner = |indent: usize, n: usize| format!("{}{}", " ".repeat(indent), lists(n));
        assert_eq!(
            union_alias("Deep: TypeAlias = ", &[lists(20)]),
            ["Deep: TypeAlias = list[".to_string(), "    list[".into(), inner(8, 18), "    ]".into(), "]".into()]
        );
        let dict = format!("dict[str, {}]", lists(20));
        let mut expected = vec!["D: TypeAlias = dict[".to_string(), "    str,".into()];
        expected.extend((1..=4).map(|d| format!("{}list[", "    ".repeat(d))));
        expected.push(inner(20, 16));
        expected.extend((1..=4).rev().map(|d| format!("{}]{}", "    ".repeat(d), if d == 1 { "," } else { "" })));
        expected.push("]".into());
        assert_eq!(union_alias("D: TypeAlias = ", &[dict]), expected);
    }

    #[test]
    fn long_class_heads_and_unions_of_long_names_break_as_ruff_breaks_them() {
        let long = "DeepAItemA".repeat(13);
        assert_eq!(class_head(&long, "WireModel"), [format!("class {long}("), "    WireModel".into(), "):".into()]);
        assert_eq!(class_head("Short", "WireModel"), ["class Short(WireModel):"]);
        assert_eq!(
            field("a", &format!("list[{long}] | None"), Some("None")),
            [
                "    a: (".to_string(),
                "        list[".into(),
                format!("            {long}"),
                "        ]".into(),
                "        | None".into(),
                "    ) = None".into()
            ]
        );
        let fits_inside = "B".repeat(98);
        assert_eq!(
            field("a", &format!("list[{fits_inside}] | None"), Some("None")),
            ["    a: (".to_string(), format!("        list[{fits_inside}] | None"), "    ) = None".into()]
        );
    }

    #[test]
    fn orders_follow_isort() {
        let mut names: Vec<String> =
            ["UInt8", "Int16", "Int8", "WireModel", "AppReadRequest", "ApplyPatch"].map(String::from).to_vec();
        import_order(&mut names);
        assert_eq!(names, ["ApplyPatch", "AppReadRequest", "Int8", "Int16", "UInt8", "WireModel"]);
        let mut names: Vec<String> =
            ["InitializedNotification", "InitializeParams", "BaseModel_", "BTreeMap", "v2", "CONST"]
                .map(String::from)
                .to_vec();
        all_order(&mut names);
        assert_eq!(names, ["CONST", "BTreeMap", "BaseModel_", "InitializeParams", "InitializedNotification", "v2"]);
    }

    #[test]
    fn brackets_inside_strings_are_not_brackets() {
        assert_eq!(split_top_level(r#"a, "b, (c", d[e, f]"#, ','), ["a", r#""b, (c""#, "d[e, f]"]);
    }
}
