//! The embedded, file-backed log (see issue 2). Implemented in a follow-up commit.
