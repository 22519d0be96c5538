//! A command line's tokens, split on spaces as memcached's tokenizer does.

/// The first few tokens of a line and how many there are in all.
pub(crate) struct Tokens<'a> {
    first: [&'a [u8]; 8],
    pub(crate) count: usize,
}

impl<'a> Tokens<'a> {
    pub(crate) fn of(line: &'a [u8]) -> Tokens<'a> {
        let mut tokens = Tokens {
            first: [&[]; 8],
            count: 0,
        };
        for token in split(line) {
            if let Some(slot) = tokens.first.get_mut(tokens.count) {
                *slot = token;
            }
            tokens.count += 1;
        }
        tokens
    }

    /// Token `index`, or nothing past the end.
    pub(crate) fn get(&self, index: usize) -> &'a [u8] {
        self.first.get(index).copied().unwrap_or(&[])
    }

    /// memcached's `set_noreply_maybe`: the last token is "noreply".
    pub(crate) fn noreply(&self) -> bool {
        self.count
            .checked_sub(1)
            .is_some_and(|last| self.get(last) == b"noreply")
    }
}

/// The space-separated tokens of a line.
pub(crate) fn split(line: &[u8]) -> impl Iterator<Item = &[u8]> {
    line.split(|&byte| byte == b' ')
        .filter(|token| !token.is_empty())
}

/// The rest of `line` after its first `skip` tokens.
pub(crate) fn after_tokens(line: &[u8], skip: usize) -> &[u8] {
    let mut rest = line;
    for _ in 0..skip {
        let start = rest
            .iter()
            .position(|&byte| byte != b' ')
            .unwrap_or(rest.len());
        rest = &rest[start..];
        let end = rest
            .iter()
            .position(|&byte| byte == b' ')
            .unwrap_or(rest.len());
        rest = &rest[end..];
    }
    rest
}
