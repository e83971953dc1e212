//! The engine. (Being written.)
