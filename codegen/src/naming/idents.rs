//! Turning any wire string into a valid, readable identifier, per language.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};

/// Rust keywords (all editions) and reserved words.
const RUST_KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern", "false", "fn",
    "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "self",
    "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where", "while", "abstract",
    "become", "box", "do", "final", "macro", "override", "priv", "typeof", "unsized", "virtual", "yield", "try",
    "union",
];

/// Keywords that cannot be raw identifiers (`r#self` is invalid).
const RUST_NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Prelude and derive names a type must not shadow, since the generated code uses them unqualified.
pub const RUST_RESERVED_TYPES: &[&str] = &[
    "Self",
    "Option",
    "Some",
    "None",
    "Result",
    "Ok",
    "Err",
    "String",
    "Vec",
    "Box",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "FnMut",
    "FnOnce",
    "From",
    "Into",
    "Iterator",
    "IntoIterator",
    "ToString",
    "ToOwned",
    "AsRef",
    "AsMut",
    "Serialize",
    "Deserialize",
    "Unpin",
    "Extend",
    "TryFrom",
    "TryInto",
    "FromIterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
];

/// Python keywords and soft keywords.
const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del",
    "elif", "else", "except", "finally", "for", "from", "global", "if", "import", "in", "is", "lambda", "nonlocal",
    "not", "or", "pass", "raise", "return", "try", "while", "with", "yield", "match", "case", "type", "_",
];

/// Attribute names a pydantic model field must not take, and builtins the generated annotations use.
const PYTHON_RESERVED_FIELDS: &[&str] = &[
    "schema",
    "json",
    "copy",
    "dict",
    "validate",
    "construct",
    "fields",
    "parse_obj",
    "parse_raw",
    "parse_file",
    "from_orm",
    "update_forward_refs",
    "schema_json",
    "list",
    "str",
    "int",
    "float",
    "bool",
    "bytes",
    "object",
    "self",
    "cls",
];

/// Words split on anything that is not an ASCII letter or digit. Latin letters with diacritics are written
/// as their base letters (`naïve` → `naive`, `ß` → `ss`); other letters are spelled as `u<hex>`.
///
/// A name with no letter or digit at all (`$`, `*/`, `-`) would have no words: its characters are spelled
/// out instead (`dollar`, `star slash`, `dash`), so that it still gets a name that says what it is.
fn ascii_words(wire: &str) -> String {
    let mut out = String::with_capacity(wire.len());
    if !wire.chars().any(char::is_alphanumeric) {
        for c in wire.chars() {
            match symbol_name(c) {
                Some(name) => out.push_str(name),
                None => out.push_str(&format!("u{:x}", c as u32)),
            }
            out.push(' ');
        }
        return out;
    }
    for c in wire.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if let Some(latin) = latin_base(c) {
            out.push_str(latin);
        } else if c.is_alphanumeric() {
            out.push_str(&format!(" u{:x} ", c as u32));
        } else {
            out.push(' ');
        }
    }
    out
}

/// The ASCII punctuation and the space, named.
fn symbol_name(c: char) -> Option<&'static str> {
    Some(match c {
        ' ' => "space",
        '!' => "bang",
        '"' => "quote",
        '#' => "hash",
        '$' => "dollar",
        '%' => "percent",
        '&' => "and",
        '\'' => "apostrophe",
        '(' => "open paren",
        ')' => "close paren",
        '*' => "star",
        '+' => "plus",
        ',' => "comma",
        '-' => "dash",
        '.' => "dot",
        '/' => "slash",
        ':' => "colon",
        ';' => "semicolon",
        '<' => "less than",
        '=' => "equals",
        '>' => "greater than",
        '?' => "question",
        '@' => "at",
        '[' => "open bracket",
        '\\' => "backslash",
        ']' => "close bracket",
        '^' => "caret",
        '_' => "underscore",
        '`' => "backtick",
        '{' => "open brace",
        '|' => "pipe",
        '}' => "close brace",
        '~' => "tilde",
        _ => return None,
    })
}

/// Base letters of U+00C0..=U+00FF, one per character; `*` where it is more than one letter or no letter.
const LATIN_1: &str = "AAAAAA*CEEEEIIIIDNOOOOO*OUUUUY**aaaaaa*ceeeeiiiidnooooo*ouuuuy*y";
/// Base letters of U+0100..=U+017F (Latin Extended-A), likewise.
const LATIN_EXTENDED_A: &str = concat!(
    "AaAaAaCcCcCcCcDd",
    "DdEeEeEeEeEeGgGg",
    "GgGgHhHhIiIiIiIi",
    "Ii**JjKkkLlLlLlL",
    "lLlNnNnNnnNnOoOo",
    "Oo**RrRrRrSsSsSs",
    "SsTtTtTtUuUuUuUu",
    "UuUuWwYyYZzZzZzs",
);

/// The ASCII letters a Latin letter with diacritics is written with, for the Latin-1 and Latin Extended-A
/// blocks (most European languages).
fn latin_base(c: char) -> Option<&'static str> {
    let multi = match c {
        'Æ' => "Ae",
        'æ' => "ae",
        'Þ' => "Th",
        'þ' => "th",
        'ß' => "ss",
        'Ĳ' => "Ij",
        'ĳ' => "ij",
        'Œ' => "Oe",
        'œ' => "oe",
        _ => "",
    };
    if !multi.is_empty() {
        return Some(multi);
    }
    let (table, start) = match c as u32 {
        0xc0..=0xff => (LATIN_1, 0xc0),
        0x100..=0x17f => (LATIN_EXTENDED_A, 0x100),
        _ => return None,
    };
    let i = (c as u32 - start) as usize;
    table.get(i..=i).filter(|base| *base != "*")
}

fn leading_digit(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// `UpperCamelCase` without a leading digit; `prefix` is put in front of a digit or of nothing.
pub fn camel(wire: &str, prefix: &str) -> String {
    let s = ascii_words(wire).to_upper_camel_case();
    if s.is_empty() {
        prefix.to_string()
    } else if leading_digit(&s) {
        format!("{prefix}{s}")
    } else {
        s
    }
}

/// `snake_case` without a leading digit.
pub fn snake(wire: &str, prefix: &str) -> String {
    let s = ascii_words(wire).to_snake_case();
    if s.is_empty() {
        prefix.to_string()
    } else if leading_digit(&s) {
        format!("{prefix}_{s}")
    } else {
        s
    }
}

/// `SHOUTY_SNAKE_CASE` without a leading digit.
pub fn shouty(wire: &str, prefix: &str) -> String {
    let s = ascii_words(wire).to_shouty_snake_case();
    if s.is_empty() {
        prefix.to_string()
    } else if leading_digit(&s) {
        format!("{prefix}_{s}")
    } else {
        s
    }
}

/// A Rust field or module name: keywords become raw identifiers where Rust allows it.
pub fn rust_field(snake_name: &str) -> String {
    if RUST_NOT_RAW.contains(&snake_name) {
        format!("{snake_name}_")
    } else if RUST_KEYWORDS.contains(&snake_name) {
        format!("r#{snake_name}")
    } else {
        snake_name.to_string()
    }
}

/// A Rust type or variant name.
pub fn rust_type(camel_name: &str) -> String {
    if RUST_RESERVED_TYPES.contains(&camel_name) || RUST_KEYWORDS.contains(&camel_name) {
        format!("{camel_name}Type")
    } else {
        camel_name.to_string()
    }
}

/// A Rust enum variant name: variants live inside their enum, so only `Self` needs escaping.
pub fn rust_variant(camel_name: &str) -> String {
    if camel_name == "Self" {
        "SelfValue".to_string()
    } else {
        camel_name.to_string()
    }
}

/// A Python attribute name: keywords, builtins the annotations use, and pydantic's own names get a `_` suffix.
pub fn python_field(snake_name: &str) -> String {
    if PYTHON_KEYWORDS.contains(&snake_name)
        || PYTHON_RESERVED_FIELDS.contains(&snake_name)
        || snake_name.starts_with("model_")
    {
        format!("{snake_name}_")
    } else {
        snake_name.to_string()
    }
}

/// A Python module name: a keyword cannot be imported, so it gets a `_` suffix, as a method name does.
pub fn python_module(snake_name: &str) -> String {
    python_function(snake_name)
}

/// A Python method name (of the RPC surface's classes, which are not models): only keywords get a `_` suffix.
pub fn python_function(snake_name: &str) -> String {
    if PYTHON_KEYWORDS.contains(&snake_name) {
        format!("{snake_name}_")
    } else {
        snake_name.to_string()
    }
}

/// A Python class name; `reserved` are the names the package's own code defines or imports beside the
/// classes, which the Python backend declares.
pub fn python_type(name: &str, reserved: &[&[&str]]) -> String {
    if reserved.iter().any(|list| list.contains(&name)) {
        format!("{name}_")
    } else {
        python_name(name)
    }
}

/// Whether `name` can be imported as a Python package as it is: an ASCII identifier and no keyword.
pub fn is_python_package(name: &str) -> bool {
    is_ascii_identifier(name) && python_name(name) == name
}

/// Whether `name` can be a Cargo package name: ASCII letters, digits, `-` and `_`, starting with a letter.
pub fn is_crate_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn is_ascii_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A Python enum member or module name.
pub fn python_name(name: &str) -> String {
    if PYTHON_KEYWORDS.contains(&name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// The spelling style of a wire name, used to tell apart names that convert to the same identifier.
pub fn style_word(wire: &str) -> &'static str {
    let has_upper = wire.chars().any(|c| c.is_uppercase());
    let has_lower = wire.chars().any(|c| c.is_lowercase());
    if wire.is_empty() {
        "empty"
    } else if wire.contains('-') {
        "kebab"
    } else if wire.contains(' ') {
        "spaced"
    } else if wire.contains('.') {
        "dotted"
    } else if wire.contains('/') {
        "slashed"
    } else if wire.contains('_') {
        if has_upper && !has_lower {
            "upper"
        } else {
            "snake"
        }
    } else if has_upper && !has_lower {
        "upper"
    } else if wire.chars().next().is_some_and(char::is_uppercase) {
        "pascal"
    } else if has_upper {
        "camel"
    } else if !wire.is_ascii() {
        "unicode"
    } else {
        "lower"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_names_given_on_the_command_line_are_checked() {
        for ok in ["codex_app_server_types", "_x", "A1"] {
            assert!(is_python_package(ok), "{ok}");
        }
        for bad in ["", "1abc", "a-b", "a.b", "../x", "class", "None", "é"] {
            assert!(!is_python_package(bad), "{bad}");
        }
        for ok in ["codex-app-server-types", "a_b", "X1"] {
            assert!(is_crate_name(ok), "{ok}");
        }
        for bad in ["", "-a", "1a", "a b", "a\"b", "a/b", "é"] {
            assert!(!is_crate_name(bad), "{bad}");
        }
    }

    #[test]
    fn rust_fields() {
        let table = [
            ("threadId", "thread_id"),
            ("text_elements", "text_elements"),
            ("type", "r#type"),
            ("self", "self_"),
            ("Self", "self_"),
            ("super", "super_"),
            ("crate", "crate_"),
            ("as", "r#as"),
            ("async", "r#async"),
            ("2fa", "field_2fa"),
            ("", "field"),
            ("foo-bar", "foo_bar"),
            ("$ref", "r#ref"),
            ("a b", "a_b"),
            ("café", "cafe"),
            ("naïve", "naive"),
            ("Größe", "grosse"),
            ("İstanbul", "istanbul"),
            ("日本", "u65e5_u672c"),
            ("$", "dollar"),
            ("*/", "star_slash"),
            ("_", "underscore"),
            ("🚀", "u1f680"),
            ("URLValue", "url_value"),
        ];
        for (wire, expected) in table {
            assert_eq!(rust_field(&snake(wire, "field")), expected, "{wire}");
        }
    }

    #[test]
    fn rust_types() {
        let table = [
            ("ThreadItem", "ThreadItem"),
            ("Thread/startedNotification", "ThreadStartedNotification"),
            ("on-request", "OnRequest"),
            ("NO_CONSTRAINT", "NoConstraint"),
            ("String", "StringType"),
            ("Option", "OptionType"),
            ("Self", "SelfType"),
            ("1", "Value1"),
            ("", "Value"),
            ("-", "Dash"),
            ("\"\"\"", "QuoteQuoteQuote"),
            ("Ωmega", "U3a9Mega"),
            ("Ærø", "Aero"),
            ("Nullable_GatewayOAuthLoginParams", "NullableGatewayOAuthLoginParams"),
        ];
        for (wire, expected) in table {
            assert_eq!(rust_type(&camel(wire, "Value")), expected, "{wire}");
        }
    }

    #[test]
    fn python_functions() {
        assert_eq!(python_function(&snake("modelProvider/list", "method")), "model_provider_list");
        assert_eq!(python_function(&snake("import", "method")), "import_");
    }

    #[test]
    fn python_fields() {
        let table = [
            ("from", "from_"),
            ("model_config", "model_config_"),
            ("modelConfig", "model_config_"),
            ("schema", "schema_"),
            ("json", "json_"),
            ("type", "type_"),
            ("match", "match_"),
            ("threadId", "thread_id"),
        ];
        for (wire, expected) in table {
            assert_eq!(python_field(&snake(wire, "field")), expected, "{wire}");
        }
    }

    #[test]
    fn styles() {
        assert_eq!(style_word("fooBar"), "camel");
        assert_eq!(style_word("foo_bar"), "snake");
        assert_eq!(style_word("FooBar"), "pascal");
        assert_eq!(style_word("FOO_BAR"), "upper");
        assert_eq!(style_word("foo-bar"), "kebab");
        assert_eq!(style_word("foobar"), "lower");
        assert_eq!(style_word(""), "empty");
    }
}
