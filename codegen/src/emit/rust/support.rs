//! The crate's private `wire` module: the few serde helpers the generated types share.

use proc_macro2::TokenStream;
use quote::quote;

pub fn wire_module() -> TokenStream {
    quote! {
        //! Serde helpers shared by the generated types.

        use std::cell::Cell;

        use serde::de::{self, DeserializeOwned, Deserializer, Visitor};
        use serde::Deserialize;
        use serde_json::{Map, Value};

        thread_local! {
            static STRICT: Cell<u32> = const { Cell::new(0) };
        }

        /// Whether values a type does not know are rejected rather than kept. An untagged union sets this
        /// while it tries its variants, so that a variant matches only a value it fully knows.
        pub(crate) fn strict() -> bool {
            STRICT.with(|s| s.get() > 0)
        }

        /// Runs `f` with unknown values rejected at every depth.
        pub(crate) fn strictly<T>(f: impl FnOnce() -> T) -> T {
            struct Reset;

            impl Drop for Reset {
                fn drop(&mut self) {
                    STRICT.with(|s| s.set(s.get() - 1));
                }
            }

            STRICT.with(|s| s.set(s.get() + 1));
            let _reset = Reset;
            f()
        }

        /// The error for a value a type does not know, while unknown values are rejected.
        pub(crate) fn unknown<E: de::Error>(what: &str, value: &str) -> E {
            E::custom(format_args!("{what} has no value `{value}` in this version of the schema"))
        }

        /// Reads a field that is present, so that an explicit `null` becomes `Some(None)` rather than `None`.
        pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
        where
            D: Deserializer<'de>,
            T: Deserialize<'de>,
        {
            T::deserialize(deserializer).map(Some)
        }

        /// Reads a string enum from a borrowed or owned string without copying known values.
        pub(crate) fn string_enum<'de, D, T>(deserializer: D) -> Result<T, D::Error>
        where
            D: Deserializer<'de>,
            T: for<'a> From<&'a str>,
        {
            struct StrVisitor<T>(std::marker::PhantomData<T>);

            impl<T: for<'a> From<&'a str>> Visitor<'_> for StrVisitor<T> {
                type Value = T;

                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a string")
                }

                fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
                    Ok(T::from(value))
                }
            }

            deserializer.deserialize_str(StrVisitor(std::marker::PhantomData))
        }

        /// Reads one variant of a tagged union from its properties, naming the variant in any error.
        pub(crate) fn variant<T, U, E>(
            properties: Map<String, Value>,
            wrap: fn(T) -> U,
            union: &str,
            tag: &str,
        ) -> Result<U, E>
        where
            T: DeserializeOwned,
            E: de::Error,
        {
            T::deserialize(Value::Object(properties))
                .map(wrap)
                .map_err(|e| E::custom(format_args!("{union} variant `{tag}`: {e}")))
        }

        /// Puts a removed tag back, for variants that declare it themselves and for unknown variants.
        pub(crate) fn with_tag(mut properties: Map<String, Value>, name: &str, tag: Option<Value>) -> Map<String, Value> {
            if let Some(tag) = tag {
                properties.insert(name.to_owned(), tag);
            }
            properties
        }
    }
}
