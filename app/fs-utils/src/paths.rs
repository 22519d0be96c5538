//! Paths inside the image as the tool takes them: absolute or relative to
//! the root, written as the vfs's absolute paths.
//!
//! Empty components (repeated slashes) and `.` are dropped; `..` is kept
//! for the vfs to walk. Symlinks are the vfs's business: it follows them
//! in every component but the last, which each command follows or not
//! (`lstat`, `stat`).

/// The components of `path`, without empty ones and `.`.
pub fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect()
}

/// `path` as an absolute path (`/` for the root).
pub fn absolute(path: &str) -> String {
    let mut absolute = String::new();
    for part in components(path) {
        absolute.push('/');
        absolute.push_str(part);
    }
    if absolute.is_empty() {
        absolute.push('/');
    }
    absolute
}

/// `name` inside the directory `directory` (absolute).
pub fn join(directory: &str, name: &str) -> String {
    if directory.ends_with('/') {
        format!("{directory}{name}")
    } else {
        format!("{directory}/{name}")
    }
}

/// The last component of `path`; `None` for the root.
pub fn last(path: &str) -> Option<&str> {
    components(path).last().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_absolute_without_empty_components_or_dots() {
        assert_eq!(absolute(""), "/");
        assert_eq!(absolute("/./"), "/");
        assert_eq!(absolute("www//img/./big.bin"), "/www/img/big.bin");
        assert_eq!(absolute("/a/../b/"), "/a/../b");
        assert_eq!(join("/", "a"), "/a");
        assert_eq!(join("/a", "b"), "/a/b");
        assert_eq!(last("/a/b/"), Some("b"));
        assert_eq!(last("//"), None);
    }
}
