//! Rust symbol demangling by hand: legacy (`_ZN…E`) here, v0 (`_R…`) in `v0`.
//!
//! Images mix both: crates built by this workspace use the legacy scheme,
//! the precompiled `core` of the `x86_64-unknown-none` target uses v0.
//! Legacy names are length-prefixed path components ending in `E`; the last
//! component `h` + 16 hex digits is a hash and is dropped; components
//! escape punctuation as `$LT$` (<), `$GT$` (>), `$RF$` (&), `$BP$` (*),
//! `$SP$` (@), `$LP$` ( and `$RP$` ), `$C$` (,), `$u<hex>$` (any character,
//! e.g. `$u20$` a space), `..` (::), and may start with `_$`. Names that
//! are not Rust, or that fail to parse, are kept as they are.

use super::v0;

/// The readable form of symbol `name`: demangled without hash, or `name`.
pub fn display_name(name: &str) -> String {
    demangle(name).unwrap_or_else(|| name.to_owned())
}

/// Demangles a legacy or v0 Rust symbol name; `None` if it is neither.
pub fn demangle(name: &str) -> Option<String> {
    // LLVM appends suffixes such as `.llvm.1234`: the legacy parser stops
    // at the closing `E`, and v0 names never contain a `.`.
    if let Some(rest) = ["_ZN", "__ZN", "ZN"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
    {
        return legacy(rest);
    }
    let name = name.split('.').next().unwrap_or(name);
    v0::demangle(name.strip_prefix("_R")?)
}

/// Demangles the part of a legacy name after `_ZN`.
fn legacy(mut rest: &str) -> Option<String> {
    let mut components = Vec::new();
    while !rest.starts_with('E') {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let length: usize = rest.get(..digits)?.parse().ok()?;
        components.push(rest.get(digits..digits + length)?);
        rest = &rest[digits + length..];
    }
    if components.len() > 1 && components.last().is_some_and(|last| is_hash(last)) {
        components.pop();
    }
    let decoded: Option<Vec<String>> = components.into_iter().map(legacy_component).collect();
    Some(decoded?.join("::")).filter(|path| !path.is_empty())
}

/// Whether a component is the `h<16 hex digits>` hash.
fn is_hash(component: &str) -> bool {
    component.len() == 17
        && component.starts_with('h')
        && component[1..].bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// Decodes the escapes of one legacy path component.
fn legacy_component(component: &str) -> Option<String> {
    let mut rest = if component.starts_with("_$") {
        &component[1..]
    } else {
        component
    };
    let mut out = String::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("..") {
            out.push_str("::");
            rest = after;
        } else if let Some(after) = rest.strip_prefix('$') {
            let end = after.find('$')?;
            out.push(legacy_escape(&after[..end])?);
            rest = &after[end + 1..];
        } else {
            let end = rest[1..].find(['$', '.']).map_or(rest.len(), |end| end + 1);
            out.push_str(&rest[..end]);
            rest = &rest[end..];
        }
    }
    Some(out)
}

/// The character a `$…$` escape stands for.
fn legacy_escape(escape: &str) -> Option<char> {
    Some(match escape {
        "SP" => '@',
        "BP" => '*',
        "RF" => '&',
        "LT" => '<',
        "GT" => '>',
        "LP" => '(',
        "RP" => ')',
        "C" => ',',
        _ => char::from_u32(u32::from_str_radix(escape.strip_prefix('u')?, 16).ok()?)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_paths_lose_their_hash() {
        let name = "_ZN8platform4boot7entry6417ha0093410a9a1af5aE";
        assert_eq!(display_name(name), "platform::boot::entry64");
        assert_eq!(
            display_name("_ZN5hello4main17h89ffdcd2fe9f8bfeE"),
            "hello::main"
        );
    }

    #[test]
    fn legacy_escapes_are_decoded() {
        let name = "_ZN59_$LT$platform..boot..Loader$u20$as$u20$core..fmt..Debug$GT$3fmt17habb69a15b3c3487aE";
        assert_eq!(
            display_name(name),
            "<platform::boot::Loader as core::fmt::Debug>::fmt"
        );
        let name = "_ZN4spin4once17Once$LT$T$C$R$GT$9call_once17he5eb87946432fc17E";
        assert_eq!(display_name(name), "spin::once::Once<T,R>::call_once");
        let name = "_ZN44_$LT$$RF$T$u20$as$u20$core..fmt..Display$GT$3fmt17hefc421a47d3a0707E";
        assert_eq!(display_name(name), "<&T as core::fmt::Display>::fmt");
        let name = "_ZN4core3ptr85drop_in_place$LT$std..rt..lang_start$LT$$LP$$RP$$GT$..$u7b$$u7b$closure$u7d$$u7d$$GT$17h0123456789abcdefE";
        assert_eq!(
            display_name(name),
            "core::ptr::drop_in_place<std::rt::lang_start<()>::{{closure}}>"
        );
    }

    #[test]
    fn suffixes_and_leading_underscores_are_handled() {
        let name = "_ZN3foo3bar17h0123456789abcdefE.llvm.1234567";
        assert_eq!(display_name(name), "foo::bar");
        assert_eq!(display_name("_ZN3foo7_$u7b$bE"), "foo::{b");
        assert_eq!(
            display_name("_ZN3foo3bar17hzzzzzzzzzzzzzzzzE"),
            "foo::bar::hzzzzzzzzzzzzzzzz"
        );
        assert_eq!(display_name("_ZN3fooE.cold"), "foo");
    }

    #[test]
    fn names_that_are_not_rust_or_are_broken_stay_raw() {
        for name in [
            "_start32",
            "platform_main",
            "_ZN99fooE",
            "_ZN3f$oE",
            "_ZN3$u$E",
            "_ZNE",
            "_ZN",
        ] {
            assert_eq!(display_name(name), name, "{name}");
        }
    }
}
