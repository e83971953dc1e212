//! Saved plan files. (Being written.)
