//! The public types: Schema, Type's wording and JSON form, errors.

use boh_expr::{EvalError, Expr, ExprError, Schema, Type};
use serde::Serialize;

#[test]
fn type_wording_for_admins() {
    let cases = [
        (Type::Bool, "yes/no"),
        (Type::Int, "whole number"),
        (Type::Money { scale: 2 }, "money"),
        (Type::Money { scale: 0 }, "money"),
        (Type::Text, "text"),
        (Type::TextList, "list of text"),
        (Type::IntList, "list of whole numbers"),
    ];
    for (ty, text) in cases {
        assert_eq!(ty.to_string(), text);
    }
}

#[test]
fn type_and_schema_serialize_to_json() {
    let cases = [
        (Type::Bool, r#""bool""#),
        (Type::Int, r#""int""#),
        (Type::Money { scale: 2 }, r#"{"money":{"scale":2}}"#),
        (Type::Text, r#""text""#),
        (Type::TextList, r#""text_list""#),
        (Type::IntList, r#""int_list""#),
    ];
    for (ty, json) in cases {
        assert_eq!(to_json(&ty), json);
    }
    let schema = Schema::new().field("qty", Type::Int, "Lines").field(
        "amount",
        Type::Money { scale: 2 },
        "Total",
    );
    assert_eq!(
        to_json(&schema),
        r#"[{"name":"amount","type":{"money":{"scale":2}},"description":"Total"},{"name":"qty","type":"int","description":"Lines"}]"#
    );
}

#[test]
fn type_deserializes_from_its_names() {
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error;
    for (name, ty) in [
        ("bool", Type::Bool),
        ("int", Type::Int),
        ("text", Type::Text),
        ("text_list", Type::TextList),
        ("int_list", Type::IntList),
    ] {
        let de = IntoDeserializer::<Error>::into_deserializer(name);
        assert_eq!(Type::deserialize(de), Ok(ty));
    }
    let de = IntoDeserializer::<Error>::into_deserializer("float");
    assert!(Type::deserialize(de).is_err());
}

#[test]
fn schema_accessors() {
    let schema = Schema::new()
        .field("store", Type::Text, "Store code")
        .field("amount", Type::Money { scale: 2 }, "Total")
        .field("supplier.code", Type::Text, "Supplier");
    assert_eq!(schema.get("amount"), Some(Type::Money { scale: 2 }));
    assert_eq!(schema.get("nope"), None);
    assert_eq!(schema.description("store"), Some("Store code"));
    assert_eq!(schema.len(), 3);
    assert!(!schema.is_empty());
    assert!(Schema::new().is_empty());
    let fields: Vec<_> = schema.fields().collect();
    assert_eq!(
        fields,
        vec![
            ("amount", Type::Money { scale: 2 }, "Total"),
            ("store", Type::Text, "Store code"),
            ("supplier.code", Type::Text, "Supplier"),
        ]
    );
}

#[test]
#[should_panic(expected = "cannot be a field name")]
fn schema_rejects_names_that_cannot_be_written() {
    let _ = Schema::new().field("Amount", Type::Int, "");
}

#[test]
#[should_panic(expected = "cannot be a field name")]
fn schema_rejects_keywords() {
    let _ = Schema::new().field("and", Type::Int, "");
}

#[test]
#[should_panic(expected = "added twice")]
fn schema_rejects_duplicates() {
    let _ = Schema::new()
        .field("qty", Type::Int, "")
        .field("qty", Type::Text, "");
}

#[test]
fn errors_are_std_errors_with_stable_codes() {
    fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
    let e: ExprError = Expr::compile("", &Schema::new()).unwrap_err();
    is_error(&e);
    assert_eq!(e.code, boh_expr::codes::SYNTAX);
    let eval = EvalError::Overflow;
    is_error(&eval);
    assert_eq!(
        [
            EvalError::MissingFact("x".into()).code(),
            EvalError::WrongFactType {
                field: "x".into(),
                expected: Type::Int
            }
            .code(),
            EvalError::Overflow.code()
        ],
        ["missing_fact", "wrong_fact_type", "overflow"]
    );
    assert_eq!(
        EvalError::WrongFactType {
            field: "qty".into(),
            expected: Type::Int
        }
        .to_string(),
        "the document's value for the field \"qty\" is not whole number"
    );
}

/// Serializes to compact JSON with a minimal serializer (serde_json is not a dependency).
fn to_json<T: Serialize>(value: &T) -> String {
    let mut out = String::new();
    value.serialize(json::Ser(&mut out)).unwrap();
    out
}

/// Just enough of a JSON serializer for the types of this crate.
mod json {
    use serde::de::value::Error;
    use serde::ser::{self, Impossible, Serialize};

    pub struct Ser<'a>(pub &'a mut String);

    pub struct Compound<'a> {
        out: &'a mut String,
        first: bool,
        close: &'static str,
    }

    fn unsupported<T>(what: &str) -> Result<T, Error> {
        Err(ser::Error::custom(format!("{what} is not supported")))
    }

    fn string(out: &mut String, s: &str) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }

    impl<'a> Compound<'a> {
        fn open(out: &'a mut String, open: &str, close: &'static str) -> Self {
            out.push_str(open);
            Compound {
                out,
                first: true,
                close,
            }
        }

        fn comma(&mut self) {
            if !self.first {
                self.out.push(',');
            }
            self.first = false;
        }

        fn field<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result<(), Error> {
            self.comma();
            string(self.out, key);
            self.out.push(':');
            value.serialize(Ser(self.out))
        }
    }

    impl ser::SerializeSeq for Compound<'_> {
        type Ok = ();
        type Error = Error;
        fn serialize_element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Error> {
            self.comma();
            value.serialize(Ser(self.out))
        }
        fn end(self) -> Result<(), Error> {
            self.out.push_str(self.close);
            Ok(())
        }
    }

    impl ser::SerializeStruct for Compound<'_> {
        type Ok = ();
        type Error = Error;
        fn serialize_field<T: ?Sized + Serialize>(
            &mut self,
            key: &'static str,
            value: &T,
        ) -> Result<(), Error> {
            self.field(key, value)
        }
        fn end(self) -> Result<(), Error> {
            self.out.push_str(self.close);
            Ok(())
        }
    }

    impl ser::SerializeStructVariant for Compound<'_> {
        type Ok = ();
        type Error = Error;
        fn serialize_field<T: ?Sized + Serialize>(
            &mut self,
            key: &'static str,
            value: &T,
        ) -> Result<(), Error> {
            self.field(key, value)
        }
        fn end(self) -> Result<(), Error> {
            self.out.push_str(self.close);
            Ok(())
        }
    }

    impl<'a> ser::Serializer for Ser<'a> {
        type Ok = ();
        type Error = Error;
        type SerializeSeq = Compound<'a>;
        type SerializeTuple = Impossible<(), Error>;
        type SerializeTupleStruct = Impossible<(), Error>;
        type SerializeTupleVariant = Impossible<(), Error>;
        type SerializeMap = Impossible<(), Error>;
        type SerializeStruct = Compound<'a>;
        type SerializeStructVariant = Compound<'a>;

        fn serialize_bool(self, v: bool) -> Result<(), Error> {
            self.0.push_str(if v { "true" } else { "false" });
            Ok(())
        }
        fn serialize_i8(self, v: i8) -> Result<(), Error> {
            self.serialize_i64(v.into())
        }
        fn serialize_i16(self, v: i16) -> Result<(), Error> {
            self.serialize_i64(v.into())
        }
        fn serialize_i32(self, v: i32) -> Result<(), Error> {
            self.serialize_i64(v.into())
        }
        fn serialize_i64(self, v: i64) -> Result<(), Error> {
            self.0.push_str(&v.to_string());
            Ok(())
        }
        fn serialize_u8(self, v: u8) -> Result<(), Error> {
            self.serialize_u64(v.into())
        }
        fn serialize_u16(self, v: u16) -> Result<(), Error> {
            self.serialize_u64(v.into())
        }
        fn serialize_u32(self, v: u32) -> Result<(), Error> {
            self.serialize_u64(v.into())
        }
        fn serialize_u64(self, v: u64) -> Result<(), Error> {
            self.0.push_str(&v.to_string());
            Ok(())
        }
        fn serialize_f32(self, _: f32) -> Result<(), Error> {
            unsupported("f32")
        }
        fn serialize_f64(self, _: f64) -> Result<(), Error> {
            unsupported("f64")
        }
        fn serialize_char(self, v: char) -> Result<(), Error> {
            self.serialize_str(&v.to_string())
        }
        fn serialize_str(self, v: &str) -> Result<(), Error> {
            string(self.0, v);
            Ok(())
        }
        fn serialize_bytes(self, _: &[u8]) -> Result<(), Error> {
            unsupported("bytes")
        }
        fn serialize_none(self) -> Result<(), Error> {
            self.serialize_unit()
        }
        fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Error> {
            value.serialize(self)
        }
        fn serialize_unit(self) -> Result<(), Error> {
            self.0.push_str("null");
            Ok(())
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
            self.serialize_unit()
        }
        fn serialize_unit_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
        ) -> Result<(), Error> {
            self.serialize_str(variant)
        }
        fn serialize_newtype_struct<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            value: &T,
        ) -> Result<(), Error> {
            value.serialize(self)
        }
        fn serialize_newtype_variant<T: ?Sized + Serialize>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<(), Error> {
            unsupported("newtype variant")
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
            Ok(Compound::open(self.0, "[", "]"))
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
            unsupported("tuple")
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, Error> {
            unsupported("tuple struct")
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, Error> {
            unsupported("tuple variant")
        }
        fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, Error> {
            unsupported("map")
        }
        fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
            Ok(Compound::open(self.0, "{", "}"))
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            variant: &'static str,
            _: usize,
        ) -> Result<Compound<'a>, Error> {
            self.0.push('{');
            string(self.0, variant);
            self.0.push(':');
            Ok(Compound::open(self.0, "{", "}}"))
        }
    }
}
