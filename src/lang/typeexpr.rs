//! Type constraint expressions (`list(string)`, `object({a = optional(number, 1)})`).
//! (Being written; see the module's owner.)
