//! The built-in function library. (Being written; see the module's owner.)
