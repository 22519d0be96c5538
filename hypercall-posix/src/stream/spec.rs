//! `--server unix:PATH`: where a hosted kernel listens for remote clients.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// One listening endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerSpec {
    /// A Unix stream socket at this path (a stale socket file there is
    /// replaced; any other file is an error).
    Unix(PathBuf),
}

/// A spec that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpecError {
    /// The spec, verbatim.
    pub spec: String,
}

impl fmt::Display for ServerSpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "bad server spec `{}`: expected unix:PATH with a non-empty path",
            self.spec
        )
    }
}

impl std::error::Error for ServerSpecError {}

impl FromStr for ServerSpec {
    type Err = ServerSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.strip_prefix("unix:") {
            Some(path) if !path.is_empty() => Ok(Self::Unix(PathBuf::from(path))),
            _ => Err(ServerSpecError { spec: text.into() }),
        }
    }
}

impl fmt::Display for ServerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix(path) => write!(f, "unix:{}", path.display()),
        }
    }
}
