//! Demangling of Rust's v0 symbol scheme (RFC 2603), the part after `_R`.
//!
//! Supported: paths (crate roots, nested paths, closures and shims,
//! inherent and trait impls, generic arguments, back-references), basic
//! types, references, raw pointers, arrays, slices, tuples, function
//! pointers, `dyn` traits and integer, `bool` and `char` constants. Output
//! follows `rustc-demangle`'s short form (`<&str as core::fmt::Display>::fmt`,
//! `core::ptr::drop_in_place::<u8>`), without crate disambiguators.
//! Punycode identifiers and struct-like constants are not supported: the
//! caller then keeps the raw name. Back-references must point backwards
//! and nesting is limited, so malformed input cannot loop or recurse deeply.

/// Nesting limit for paths, types and constants.
const MAXIMUM_DEPTH: u32 = 64;

/// Demangles `mangled` (a symbol without its `_R` prefix).
pub fn demangle(mangled: &str) -> Option<String> {
    let mut demangler = Demangler {
        input: mangled.as_bytes(),
        position: 0,
        depth: 0,
        quiet: 0,
        out: String::new(),
    };
    if demangler.peek()?.is_ascii_digit() {
        return None; // an encoding version: none is defined yet
    }
    demangler.path(true)?;
    // What follows (the instantiating crate) is not printed.
    Some(demangler.out)
}

/// The name of basic type `tag`.
fn basic_type(tag: u8) -> Option<&'static str> {
    Some(match tag {
        b'a' => "i8",
        b'b' => "bool",
        b'c' => "char",
        b'd' => "f64",
        b'e' => "str",
        b'f' => "f32",
        b'h' => "u8",
        b'i' => "isize",
        b'j' => "usize",
        b'l' => "i32",
        b'm' => "u32",
        b'n' => "i128",
        b'o' => "u128",
        b's' => "i16",
        b't' => "u16",
        b'u' => "()",
        b'v' => "...",
        b'x' => "i64",
        b'y' => "u64",
        b'z' => "!",
        b'p' => "_",
        _ => return None,
    })
}

/// A parser that prints as it goes (nothing while `quiet > 0`).
struct Demangler<'a> {
    input: &'a [u8],
    position: usize,
    depth: u32,
    quiet: u32,
    out: String,
}

impl<'a> Demangler<'a> {
    fn peek(&self) -> Option<u8> {
        self.input.get(self.position).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.position += 1;
        Some(byte)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let matched = self.peek() == Some(byte);
        self.position += usize::from(matched);
        matched
    }

    fn print(&mut self, text: &str) {
        if self.quiet == 0 {
            self.out.push_str(text);
        }
    }

    /// Enters one nesting level; fails beyond [`MAXIMUM_DEPTH`].
    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAXIMUM_DEPTH).then_some(())
    }

    /// Leaves a nesting level (after success).
    fn leave(&mut self) -> Option<()> {
        self.depth -= 1;
        Some(())
    }

    /// `_` is 0; otherwise base-62 digits then `_`, meaning value + 1.
    fn base62(&mut self) -> Option<u64> {
        if self.eat(b'_') {
            return Some(0);
        }
        let mut value: u64 = 0;
        loop {
            let digit = match self.next()? {
                b'_' => return value.checked_add(1),
                byte @ b'0'..=b'9' => byte - b'0',
                byte @ b'a'..=b'z' => byte - b'a' + 10,
                byte @ b'A'..=b'Z' => byte - b'A' + 36,
                _ => return None,
            };
            value = value.checked_mul(62)?.checked_add(u64::from(digit))?;
        }
    }

    /// `tag` followed by a base-62 number n gives n + 1; no `tag` gives 0.
    fn optional_base62(&mut self, tag: u8) -> Option<u64> {
        if self.eat(tag) {
            self.base62()?.checked_add(1)
        } else {
            Some(0)
        }
    }

    fn decimal(&mut self) -> Option<usize> {
        let start = self.position;
        if self.eat(b'0') {
            return Some(0);
        }
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.position += 1;
        }
        std::str::from_utf8(&self.input[start..self.position])
            .ok()?
            .parse()
            .ok()
    }

    /// `[u] <length> [_] <bytes>`; punycode (`u`) is not supported.
    fn undisambiguated_identifier(&mut self) -> Option<&'a str> {
        let punycode = self.eat(b'u');
        let length = self.decimal()?;
        self.eat(b'_');
        let end = self.position.checked_add(length)?;
        let bytes = self.input.get(self.position..end)?;
        self.position = end;
        if punycode {
            None
        } else {
            std::str::from_utf8(bytes).ok()
        }
    }

    /// An identifier and its disambiguator.
    fn identifier(&mut self) -> Option<(&'a str, u64)> {
        let disambiguator = self.optional_base62(b's')?;
        Some((self.undisambiguated_identifier()?, disambiguator))
    }

    /// `B <base-62>`: prints what lies at an earlier position.
    fn backref(&mut self, print: impl FnOnce(&mut Self) -> Option<()>) -> Option<()> {
        let start = self.position - 1;
        let target = usize::try_from(self.base62()?).ok()?;
        if target >= start {
            return None;
        }
        self.enter()?;
        let resume = self.position;
        self.position = target;
        print(self)?;
        self.position = resume;
        self.leave()
    }

    /// Items until `end`, printed with `separator`; returns their number.
    fn list(
        &mut self,
        end: u8,
        separator: &str,
        item: impl Fn(&mut Self) -> Option<()>,
    ) -> Option<usize> {
        let mut count = 0;
        while !self.eat(end) {
            if count > 0 {
                self.print(separator);
            }
            item(self)?;
            count += 1;
        }
        Some(count)
    }

    /// A path; `in_value` adds `::` before generic arguments.
    fn path(&mut self, in_value: bool) -> Option<()> {
        self.enter()?;
        match self.next()? {
            b'C' => {
                let (name, _) = self.identifier()?;
                self.print(name);
            }
            b'N' => self.nested_path(in_value)?,
            b'M' => {
                self.impl_path()?;
                self.print("<");
                self.type_()?;
                self.print(">");
            }
            b'X' => {
                self.impl_path()?;
                self.trait_qualified()?;
            }
            b'Y' => self.trait_qualified()?,
            b'I' => {
                self.path(in_value)?;
                self.print(if in_value { "::<" } else { "<" });
                self.list(b'E', ", ", Self::generic_argument)?;
                self.print(">");
            }
            b'B' => self.backref(|this| this.path(in_value))?,
            _ => return None,
        }
        self.leave()
    }

    /// `N <namespace> <path> <identifier>`.
    fn nested_path(&mut self, in_value: bool) -> Option<()> {
        let namespace = self.next().filter(u8::is_ascii_alphabetic)?;
        self.path(in_value)?;
        let (name, disambiguator) = self.identifier()?;
        if namespace.is_ascii_uppercase() {
            let kind = match namespace {
                b'C' => "closure".to_owned(),
                b'S' => "shim".to_owned(),
                other => char::from(other).to_string(),
            };
            let name = if name.is_empty() {
                String::new()
            } else {
                format!(":{name}")
            };
            self.print(&format!("::{{{kind}{name}#{disambiguator}}}"));
        } else if !name.is_empty() {
            self.print("::");
            self.print(name);
        }
        Some(())
    }

    /// The impl's own path, parsed but not printed.
    fn impl_path(&mut self) -> Option<()> {
        self.quiet += 1;
        let parsed = self.optional_base62(b's').and_then(|_| self.path(false));
        self.quiet -= 1;
        parsed
    }

    /// `<type> <path>` printed as `<Type as Trait>`.
    fn trait_qualified(&mut self) -> Option<()> {
        self.print("<");
        self.type_()?;
        self.print(" as ");
        self.path(false)?;
        self.print(">");
        Some(())
    }

    fn generic_argument(&mut self) -> Option<()> {
        if self.eat(b'L') {
            self.base62()?;
            self.print("'_");
            return Some(());
        }
        if self.eat(b'K') {
            return self.constant();
        }
        self.type_()
    }

    fn type_(&mut self) -> Option<()> {
        self.enter()?;
        let tag = self.next()?;
        if let Some(name) = basic_type(tag) {
            self.print(name);
            return self.leave();
        }
        match tag {
            b'R' | b'Q' => {
                if self.eat(b'L') {
                    self.base62()?;
                }
                self.print(if tag == b'R' { "&" } else { "&mut " });
                self.type_()?;
            }
            b'P' | b'O' => {
                self.print(if tag == b'P' { "*const " } else { "*mut " });
                self.type_()?;
            }
            b'A' | b'S' => {
                self.print("[");
                self.type_()?;
                if tag == b'A' {
                    self.print("; ");
                    self.constant()?;
                }
                self.print("]");
            }
            b'T' => {
                self.print("(");
                let count = self.list(b'E', ", ", Self::type_)?;
                self.print(if count == 1 { ",)" } else { ")" });
            }
            b'F' => self.function_signature()?,
            b'D' => self.dyn_bounds()?,
            b'B' => self.backref(Self::type_)?,
            _ => {
                self.position -= 1;
                self.path(false)?;
            }
        }
        self.leave()
    }

    /// `[G <binder>] [U] [K <abi>] {<type>} E <return type>`.
    fn function_signature(&mut self) -> Option<()> {
        if self.eat(b'G') {
            self.base62()?;
        }
        if self.eat(b'U') {
            self.print("unsafe ");
        }
        if self.eat(b'K') {
            let abi = if self.eat(b'C') {
                "C".to_owned()
            } else {
                self.undisambiguated_identifier()?.replace('_', "-")
            };
            self.print(&format!("extern \"{abi}\" "));
        }
        self.print("fn(");
        self.list(b'E', ", ", Self::type_)?;
        self.print(")");
        if self.eat(b'u') {
            return Some(());
        }
        self.print(" -> ");
        self.type_()
    }

    /// `[G <binder>] {<dyn-trait>} E L <lifetime>`.
    fn dyn_bounds(&mut self) -> Option<()> {
        if self.eat(b'G') {
            self.base62()?;
        }
        self.print("dyn ");
        self.list(b'E', " + ", Self::dyn_trait)?;
        self.eat(b'L').then_some(())?;
        self.base62().map(drop)
    }

    /// A trait path with `p <name> <type>` associated type bindings.
    fn dyn_trait(&mut self) -> Option<()> {
        self.path(false)?;
        let mut bindings = 0;
        while self.eat(b'p') {
            self.print(if bindings == 0 { "<" } else { ", " });
            let name = self.undisambiguated_identifier()?;
            self.print(name);
            self.print(" = ");
            self.type_()?;
            bindings += 1;
        }
        if bindings > 0 {
            self.print(">");
        }
        Some(())
    }

    /// A constant: placeholder, back-reference, integer, bool or char.
    fn constant(&mut self) -> Option<()> {
        self.enter()?;
        match self.next()? {
            b'p' => self.print("_"),
            b'B' => self.backref(Self::constant)?,
            b'h' | b't' | b'm' | b'y' | b'o' | b'j' | b'a' | b's' | b'l' | b'x' | b'n' | b'i' => {
                let sign = if self.eat(b'n') { "-" } else { "" };
                let value = self.hex_value()?;
                self.print(&format!("{sign}{value}"));
            }
            b'b' => match self.hex_value()? {
                0 => self.print("false"),
                1 => self.print("true"),
                _ => return None,
            },
            b'c' => {
                let character = char::from_u32(u32::try_from(self.hex_value()?).ok()?)?;
                self.print(&format!("{character:?}"));
            }
            _ => return None,
        }
        self.leave()
    }

    /// Hex digits ending with `_`.
    fn hex_value(&mut self) -> Option<u128> {
        let mut value: u128 = 0;
        loop {
            let byte = self.next()?;
            if byte == b'_' {
                return Some(value);
            }
            let digit = char::from(byte).to_digit(16)?;
            value = value.checked_mul(16)?.checked_add(u128::from(digit))?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::demangle;

    fn check(mangled: &str, expected: &str) {
        let inner = mangled.strip_prefix("_R").expect("v0 names start with _R");
        assert_eq!(demangle(inner).as_deref(), Some(expected), "{mangled}");
    }

    #[test]
    fn core_symbols_from_a_real_image() {
        check(
            "_RNvCsfLfy6EI15iL_7___rustc17rust_begin_unwind",
            "__rustc::rust_begin_unwind",
        );
        check(
            "_RNvNtCsg3SjgaGcPXb_4core9panicking9panic_fmt",
            "core::panicking::panic_fmt",
        );
        check(
            "_RNvXs1i_NtCsg3SjgaGcPXb_4core3fmtReNtB6_7Display3fmtB8_",
            "<&str as core::fmt::Display>::fmt",
        );
        check(
            "_RNvMsa_NtCsg3SjgaGcPXb_4core3fmtNtB5_9Formatter12pad_integral",
            "<core::fmt::Formatter>::pad_integral",
        );
        check(
            "_RNvNvMsa_NtCsg3SjgaGcPXb_4core3fmtNtB7_9Formatter12pad_integral12write_prefix",
            "<core::fmt::Formatter>::pad_integral::write_prefix",
        );
        check(
            "_RNvXsi_NtNtNtCsg3SjgaGcPXb_4core3fmt3num3impjNtB9_7Display3fmt",
            "<usize as core::fmt::Display>::fmt",
        );
    }

    #[test]
    fn generic_arguments_and_types() {
        check("_RINvNtC3std3mem8align_ofdE", "std::mem::align_of::<f64>");
        check(
            "_RINvNtCs123_4test6module8functionTmjEE",
            "test::module::function::<(u32, usize)>",
        );
        check("_RINvC4test3fooRShEB2_", "test::foo::<&[u8]>");
        check(
            "_RINvC4test3fooTaEQPOAhj4_E",
            "test::foo::<(i8,), &mut *const *mut [u8; 4]>",
        );
        check(
            "_RINvC4test3fooFUKCjEuE",
            "test::foo::<unsafe extern \"C\" fn(usize)>",
        );
        check("_RINvC4test3fooFmEbE", "test::foo::<fn(u32) -> bool>");
        check(
            "_RINvC4test3fooDNtC4core3AnyEL_E",
            "test::foo::<dyn core::Any>",
        );
        check(
            "_RINvC4test3fooDNtC4core8Iteratorp4ItemhEL_E",
            "test::foo::<dyn core::Iterator<Item = u8>>",
        );
        check(
            "_RINvC4test3fooKj8_KanE_Kb1_Kc41_KpL_E",
            "test::foo::<8, -14, true, 'A', _, '_>",
        );
    }

    #[test]
    fn closures_and_trait_definitions() {
        check("_RNCNvCs123_4test4main0B3_", "test::main::{closure#0}");
        check("_RNCNvCs123_4test4mains_0", "test::main::{closure#1}");
        check(
            "_RNvYNtC4test3FooNtC4core5Clone5clone",
            "<test::Foo as core::Clone>::clone",
        );
    }

    #[test]
    fn malformed_names_are_rejected() {
        for inner in [
            "",
            "Nv",
            "NvC4test",
            "C9test",
            "NvB0_3foo",
            "NvB9_3foo",
            "0NvC4test3foo",
            "NvC4testu5abcde",
            "INvC1aKbz_E",
        ] {
            assert_eq!(demangle(inner), None, "{inner}");
        }
        let deep =
            "RRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRRu";
        assert_eq!(demangle(&format!("INvC1a1b{deep}E")), None, "too deep");
    }
}
