//! The built-in "random" provider: `random_id`, `random_string`, `random_password`,
//! `random_integer`, `random_pet`, `random_uuid` and `random_shuffle`, with the resource
//! and attribute names and behaviour of Terraform's random provider (v3). Every argument
//! is force-new; results are generated once at create (from `OsRng`, or from a
//! SHA-256-seeded `StdRng` where a `seed` is given) and then kept in the state until a
//! replacement. Owns the generation algorithms and their validation.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use rand::rngs::{OsRng, StdRng};
use rand::seq::SliceRandom;
use rand::{Rng, RngCore, SeedableRng};
use sha2::Digest;

use crate::providers::sdk::{
    apply_error, arg, attr, fill_unknown, get_bool, get_i64, get_int, get_str, import_error,
    object_map, object_with, plan_by_schema, plan_error, read_error, unsupported_resource, IntAttr,
};
use crate::lang::value::{Type, Value};
use crate::providers::{
    attr_path, ApplyRequest, ApplyResponse, AttributeSchema, BlockSchema, ImportResponse,
    PlanRequest, PlanResponse, Provider, ProviderDiag, ProviderDiags, ProviderSchema, ReadResponse,
    ResourceSchema,
};

/// Upper bounds that keep a typo from exhausting memory or time (Terraform has none).
const MAX_BYTE_LENGTH: i64 = 4096;
const MAX_STRING_LENGTH: i64 = 1 << 20;
const MAX_PET_LENGTH: i64 = 1024;
const MAX_SHUFFLE_RESULTS: i64 = 1 << 20;

/// bcrypt cost of `random_password.bcrypt_hash` (Go's bcrypt.DefaultCost, as Terraform).
const BCRYPT_COST: u32 = 10;

const DEFAULT_SPECIAL: &str = "!@#$%&*()-_=+[]{}<>:?";
const NUM_CHARS: &str = "0123456789";
const LOWER_CHARS: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER_CHARS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";

pub fn new_provider() -> Arc<dyn Provider> {
    Arc::new(RandomProvider::new())
}

/// The "random" provider.
pub struct RandomProvider {
    schema: ProviderSchema,
}

impl Default for RandomProvider {
    fn default() -> Self {
        Self::new()
    }
}

fn keepers() -> AttributeSchema {
    AttributeSchema::optional(Type::map(Type::String))
        .force_new()
        .describe(
            "Arbitrary map of values that, when changed, will trigger recreation of the resource.",
        )
}

fn id_attr() -> AttributeSchema {
    AttributeSchema::computed(Type::String)
}

fn random_id_block() -> BlockSchema {
    BlockSchema::new()
        .attr("keepers", keepers())
        .attr("byte_length", AttributeSchema::required(Type::Number).force_new().describe("The number of random bytes to produce."))
        .attr("prefix", AttributeSchema::optional(Type::String).force_new().describe("Arbitrary string to prefix the output value with."))
        .attr("id", id_attr().describe("The generated id presented in base64 without additional transformations or prefix."))
        .attr("b64_url", AttributeSchema::computed(Type::String).describe("The generated id presented in base64, using the URL-friendly character set."))
        .attr("b64_std", AttributeSchema::computed(Type::String).describe("The generated id presented in base64 without additional transformations."))
        .attr("hex", AttributeSchema::computed(Type::String).describe("The generated id presented in padded hexadecimal digits."))
        .attr("dec", AttributeSchema::computed(Type::String).describe("The generated id presented in non-padded decimal digits."))
}

fn random_string_block(password: bool) -> BlockSchema {
    let flag = |d: &str| {
        AttributeSchema::optional_computed(Type::Bool)
            .force_new()
            .describe(d)
    };
    let min = |d: &str| {
        AttributeSchema::optional_computed(Type::Number)
            .force_new()
            .describe(d)
    };
    let mut b = BlockSchema::new()
        .attr("keepers", keepers())
        .attr(
            "length",
            AttributeSchema::required(Type::Number)
                .force_new()
                .describe("The length of the string desired."),
        )
        .attr(
            "special",
            flag("Include special characters in the result (default true)."),
        )
        .attr(
            "upper",
            flag("Include uppercase alphabet characters in the result (default true)."),
        )
        .attr(
            "lower",
            flag("Include lowercase alphabet characters in the result (default true)."),
        )
        .attr(
            "numeric",
            flag("Include numeric characters in the result (default true)."),
        )
        .attr("number", flag("Deprecated alias of numeric."))
        .attr(
            "min_numeric",
            min("Minimum number of numeric characters in the result (default 0)."),
        )
        .attr(
            "min_upper",
            min("Minimum number of uppercase alphabet characters in the result (default 0)."),
        )
        .attr(
            "min_lower",
            min("Minimum number of lowercase alphabet characters in the result (default 0)."),
        )
        .attr(
            "min_special",
            min("Minimum number of special characters in the result (default 0)."),
        )
        .attr(
            "override_special",
            AttributeSchema::optional(Type::String)
                .force_new()
                .describe("Supply your own list of special characters to use."),
        );
    if password {
        b = b
            .attr(
                "result",
                AttributeSchema::computed(Type::String)
                    .sensitive()
                    .describe("The generated random string."),
            )
            .attr(
                "bcrypt_hash",
                AttributeSchema::computed(Type::String)
                    .sensitive()
                    .describe("A bcrypt hash of the generated random string."),
            )
            .attr(
                "id",
                id_attr().describe("A static value used internally by Terraform (\"none\")."),
            );
    } else {
        b = b
            .attr(
                "result",
                AttributeSchema::computed(Type::String).describe("The generated random string."),
            )
            .attr("id", id_attr().describe("The generated random string."));
    }
    b
}

fn random_integer_block() -> BlockSchema {
    BlockSchema::new()
        .attr("keepers", keepers())
        .attr(
            "min",
            AttributeSchema::required(Type::Number)
                .force_new()
                .describe("The minimum inclusive value of the range."),
        )
        .attr(
            "max",
            AttributeSchema::required(Type::Number)
                .force_new()
                .describe("The maximum inclusive value of the range."),
        )
        .attr(
            "seed",
            AttributeSchema::optional(Type::String)
                .force_new()
                .describe("A custom seed to always produce the same value."),
        )
        .attr(
            "result",
            AttributeSchema::computed(Type::Number).describe("The random integer result."),
        )
        .attr(
            "id",
            id_attr().describe("The string representation of the integer result."),
        )
}

fn random_pet_block() -> BlockSchema {
    BlockSchema::new()
        .attr("keepers", keepers())
        .attr(
            "length",
            AttributeSchema::optional_computed(Type::Number)
                .force_new()
                .describe("The length (in words) of the pet name (default 2)."),
        )
        .attr(
            "prefix",
            AttributeSchema::optional(Type::String)
                .force_new()
                .describe("A string to prefix the name with."),
        )
        .attr(
            "separator",
            AttributeSchema::optional_computed(Type::String)
                .force_new()
                .describe("The character to separate words in the pet name (default \"-\")."),
        )
        .attr("id", id_attr().describe("The random pet name."))
}

fn random_uuid_block() -> BlockSchema {
    BlockSchema::new()
        .attr("keepers", keepers())
        .attr(
            "result",
            AttributeSchema::computed(Type::String)
                .describe("The generated uuid presented in string format."),
        )
        .attr(
            "id",
            id_attr().describe("The generated uuid presented in string format."),
        )
}

fn random_shuffle_block() -> BlockSchema {
    BlockSchema::new()
        .attr("keepers", keepers())
        .attr(
            "input",
            AttributeSchema::required(Type::list(Type::String))
                .force_new()
                .describe("The list of strings to shuffle."),
        )
        .attr(
            "seed",
            AttributeSchema::optional(Type::String)
                .force_new()
                .describe("Arbitrary string with which to seed the random number generator."),
        )
        .attr(
            "result_count",
            AttributeSchema::optional(Type::Number)
                .force_new()
                .describe("The number of results to return (default: the number of input items)."),
        )
        .attr(
            "result",
            AttributeSchema::computed(Type::list(Type::String))
                .describe("Random permutation of the list of strings given in input."),
        )
        .attr(
            "id",
            id_attr().describe("A static value used internally by Terraform (\"-\")."),
        )
}

impl RandomProvider {
    pub fn new() -> Self {
        let mut schema = ProviderSchema::default();
        let mut add = |name: &str, block: BlockSchema| {
            schema
                .resources
                .insert(name.to_string(), ResourceSchema { version: 0, block });
        };
        add("random_id", random_id_block());
        add("random_string", random_string_block(false));
        add("random_password", random_string_block(true));
        add("random_integer", random_integer_block());
        add("random_pet", random_pet_block());
        add("random_uuid", random_uuid_block());
        add("random_shuffle", random_shuffle_block());
        RandomProvider { schema }
    }

    fn block(&self, type_name: &str) -> Option<&BlockSchema> {
        self.schema.resources.get(type_name).map(|r| &r.block)
    }
}

// ---------------------------------------------------------------------------------------
// Validation

fn invalid(attr_name: &str, detail: impl Into<String>) -> ProviderDiag {
    ProviderDiag::error("Invalid attribute value", detail).at(attr_path(&[attr_name]))
}

/// Checks that an integer attribute, when known and set, is a whole number in
/// `min..=max`; returns its value (None when null or unknown).
fn check_int(
    config: &Value,
    name: &str,
    min: i64,
    max: i64,
    diags: &mut ProviderDiags,
) -> Option<i64> {
    match get_int(config, name) {
        IntAttr::Null | IntAttr::Unknown => None,
        IntAttr::NotInt => {
            diags.push(invalid(
                name,
                format!("Attribute {name} must be a whole number."),
            ));
            None
        }
        IntAttr::Int(i) if i < min => {
            diags.push(invalid(
                name,
                format!("Attribute {name} value must be at least {min}, got: {i}"),
            ));
            None
        }
        IntAttr::Int(i) if i > max => {
            diags.push(invalid(
                name,
                format!("Attribute {name} value must be at most {max}, got: {i}"),
            ));
            None
        }
        IntAttr::Int(i) => Some(i),
    }
}

fn validate_string(config: &Value, diags: &mut ProviderDiags) {
    let length = check_int(config, "length", 1, MAX_STRING_LENGTH, diags);
    let mut sum: i64 = 0;
    let mut all_known = true;
    for m in ["min_upper", "min_lower", "min_numeric", "min_special"] {
        match check_int(config, m, 0, MAX_STRING_LENGTH, diags) {
            Some(v) => sum += v,
            None => all_known &= !crate::providers::sdk::is_unknown_attr(config, m),
        }
    }
    if let (Some(length), true) = (length, all_known) {
        if sum > length {
            diags.push(invalid(
                "length",
                format!("Attribute length value must be at least sum of min_upper + min_lower + min_numeric + min_special, got: {length}"),
            ));
        }
    }
    if let (Some(a), Some(b)) = (get_bool(config, "number"), get_bool(config, "numeric")) {
        if a != b {
            diags.push(invalid(
                "number",
                "number is a deprecated alias of numeric; they cannot have different values.",
            ));
        }
    }
}

fn validate_config(type_name: &str, config: &Value) -> ProviderDiags {
    let mut diags = Vec::new();
    match type_name {
        "random_id" => {
            check_int(config, "byte_length", 1, MAX_BYTE_LENGTH, &mut diags);
        }
        "random_string" | "random_password" => validate_string(config, &mut diags),
        "random_integer" => {
            let min = check_int(config, "min", i64::MIN, i64::MAX, &mut diags);
            let max = check_int(config, "max", i64::MIN, i64::MAX, &mut diags);
            if let (Some(min), Some(max)) = (min, max) {
                if min > max {
                    diags.push(invalid("max", format!("Minimum value needs to be smaller than or equal to maximum value (min {min}, max {max}).")));
                }
            }
        }
        "random_pet" => {
            check_int(config, "length", 1, MAX_PET_LENGTH, &mut diags);
        }
        "random_shuffle" => {
            check_int(config, "result_count", 0, MAX_SHUFFLE_RESULTS, &mut diags);
        }
        "random_uuid" => {}
        other => diags.push(unsupported_resource(other)),
    }
    diags
}

// ---------------------------------------------------------------------------------------
// Generation

/// An RNG: the OS's when there is no seed, else one seeded by SHA-256 of the seed string
/// (deterministic for a given seed, as Terraform's seeded resources are).
fn rng_for(seed: Option<&str>) -> Box<dyn RngCore> {
    match seed {
        Some(s) => {
            let digest: [u8; 32] = sha2::Sha256::digest(s.as_bytes()).into();
            Box::new(StdRng::from_seed(digest))
        }
        None => Box::new(OsRng),
    }
}

/// The big-endian unsigned integer `bytes` in decimal.
pub(crate) fn bytes_to_decimal(bytes: &[u8]) -> String {
    const BASE: u64 = 1_000_000_000;
    // Little-endian limbs in base 10^9.
    let mut limbs: Vec<u64> = Vec::new();
    for &b in bytes {
        let mut carry = b as u64;
        for limb in limbs.iter_mut() {
            let v = *limb * 256 + carry;
            *limb = v % BASE;
            carry = v / BASE;
        }
        while carry > 0 {
            limbs.push(carry % BASE);
            carry /= BASE;
        }
    }
    let mut out = match limbs.last() {
        Some(top) => top.to_string(),
        None => return "0".to_string(),
    };
    for limb in limbs.iter().rev().skip(1) {
        out.push_str(&format!("{limb:09}"));
    }
    out
}

/// The exported attributes of a random_id made of `bytes`.
fn id_values(bytes: &[u8], prefix: &str) -> Vec<(&'static str, Value)> {
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    vec![
        ("id", Value::String(url.clone())),
        ("b64_url", Value::String(format!("{prefix}{url}"))),
        (
            "b64_std",
            Value::String(format!(
                "{prefix}{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )),
        ),
        (
            "hex",
            Value::String(format!("{prefix}{}", hex::encode(bytes))),
        ),
        (
            "dec",
            Value::String(format!("{prefix}{}", bytes_to_decimal(bytes))),
        ),
    ]
}

/// Options of random_string / random_password.
struct StringOptions {
    length: usize,
    upper: bool,
    lower: bool,
    numeric: bool,
    special: bool,
    min_upper: usize,
    min_lower: usize,
    min_numeric: usize,
    min_special: usize,
    override_special: Option<String>,
}

/// Terraform's algorithm: the minimum counts of each class first (even of a class that is
/// otherwise disabled), the rest from the enabled classes, then a random permutation.
fn generate_string(o: &StringOptions, rng: &mut dyn RngCore) -> Result<String, String> {
    let special: Vec<char> = match &o.override_special {
        Some(s) if !s.is_empty() => s.chars().collect(),
        _ => DEFAULT_SPECIAL.chars().collect(),
    };
    let (upper, lower, num): (Vec<char>, Vec<char>, Vec<char>) = (
        UPPER_CHARS.chars().collect(),
        LOWER_CHARS.chars().collect(),
        NUM_CHARS.chars().collect(),
    );
    let mut pool: Vec<char> = Vec::new();
    for (on, set) in [
        (o.upper, &upper),
        (o.lower, &lower),
        (o.numeric, &num),
        (o.special, &special),
    ] {
        if on {
            pool.extend(set.iter().copied());
        }
    }
    let mut out: Vec<char> = Vec::with_capacity(o.length);
    for (n, set) in [
        (o.min_numeric, &num),
        (o.min_lower, &lower),
        (o.min_upper, &upper),
        (o.min_special, &special),
    ] {
        for _ in 0..n {
            if let Some(c) = set.choose(rng) {
                out.push(*c);
            }
        }
    }
    let rest = o.length.saturating_sub(out.len());
    if rest > 0 && pool.is_empty() {
        return Err("No characters are enabled: at least one of upper, lower, numeric and special must be true (or min_* must cover the length).".into());
    }
    for _ in 0..rest {
        if let Some(c) = pool.choose(rng) {
            out.push(*c);
        }
    }
    out.shuffle(rng);
    Ok(out.into_iter().collect())
}

fn string_options(v: &Value) -> Result<StringOptions, ProviderDiag> {
    let len = |name: &str| -> Result<usize, ProviderDiag> {
        match get_i64(v, name) {
            Some(i) if (0..=MAX_STRING_LENGTH).contains(&i) => Ok(i as usize),
            _ => Err(invalid(
                name,
                format!("{name} must be a known whole number between 0 and {MAX_STRING_LENGTH}."),
            )),
        }
    };
    let length = len("length")?;
    if length < 1 {
        return Err(invalid(
            "length",
            "Attribute length value must be at least 1.",
        ));
    }
    let flag = |name: &str| get_bool(v, name).unwrap_or(true);
    let numeric = get_bool(v, "numeric")
        .or_else(|| get_bool(v, "number"))
        .unwrap_or(true);
    let min_or_zero = |name: &str| {
        if attr(v, name).is_null() {
            Ok(0)
        } else {
            len(name)
        }
    };
    Ok(StringOptions {
        length,
        upper: flag("upper"),
        lower: flag("lower"),
        numeric,
        special: flag("special"),
        min_upper: min_or_zero("min_upper")?,
        min_lower: min_or_zero("min_lower")?,
        min_numeric: min_or_zero("min_numeric")?,
        min_special: min_or_zero("min_special")?,
        override_special: get_str(v, "override_special").map(str::to_string),
    })
}

const PET_ADVERBS: &[&str] = &[
    "briefly", "calmly", "closely", "deeply", "eagerly", "easily", "evenly", "fairly", "firmly",
    "freely", "gently", "gladly", "happily", "highly", "honestly", "kindly", "largely", "lively",
    "loudly", "mainly", "merely", "mostly", "neatly", "nicely", "openly", "partly", "quickly",
    "quietly", "rapidly", "really", "slowly", "smoothly", "solely", "surely", "truly", "vastly",
    "warmly", "wholly", "widely", "wildly",
];
const PET_ADJECTIVES: &[&str] = &[
    "able", "active", "amazed", "bold", "brave", "bright", "busy", "calm", "careful", "charming",
    "clever", "cool", "crisp", "daring", "eager", "fair", "famous", "fast", "fine", "fond", "free",
    "fresh", "funny", "gentle", "glad", "golden", "good", "grand", "happy", "helpful", "honest",
    "humble", "keen", "kind", "lucky", "merry", "modest", "neat", "noble", "polite", "proud",
    "quick", "quiet", "rapid", "ready", "sharp", "smart", "steady", "sunny", "swift", "tender",
    "tidy", "vital", "warm", "wise",
];
const PET_NAMES: &[&str] = &[
    "alpaca", "badger", "beagle", "bear", "beaver", "bison", "bobcat", "buffalo", "camel", "cat",
    "cheetah", "cobra", "condor", "cougar", "coyote", "crane", "deer", "dingo", "dodo", "dog",
    "dolphin", "donkey", "eagle", "falcon", "ferret", "finch", "fox", "gazelle", "gecko", "gibbon",
    "giraffe", "goat", "gopher", "hawk", "hedgehog", "heron", "horse", "ibex", "jackal", "jaguar",
    "koala", "lemur", "leopard", "lion", "llama", "lynx", "mole", "moose", "otter", "owl", "panda",
    "parrot", "pelican", "penguin", "puma", "rabbit", "raven", "seal", "shark", "sloth", "swan",
    "tiger", "toucan", "turtle", "walrus", "weasel", "whale", "wolf", "yak", "zebra",
];

/// A pet name of `length` words: [adverbs...] adjective name.
fn generate_pet(length: usize, separator: &str, rng: &mut dyn RngCore) -> String {
    let pick = |list: &[&'static str], rng: &mut dyn RngCore| -> &'static str {
        list.choose(rng).copied().unwrap_or("pet")
    };
    let mut words = Vec::with_capacity(length);
    for i in 0..length {
        let w = if i + 1 == length {
            pick(PET_NAMES, rng)
        } else if i + 2 == length {
            pick(PET_ADJECTIVES, rng)
        } else {
            pick(PET_ADVERBS, rng)
        };
        words.push(w);
    }
    words.join(separator)
}

/// `count` items of `input` in random order; beyond the input's length the input is
/// re-shuffled and repeated.
fn shuffle_list(input: &[String], count: usize, rng: &mut dyn RngCore) -> Vec<String> {
    let mut out = Vec::with_capacity(count);
    if input.is_empty() {
        return out;
    }
    while out.len() < count {
        let mut round = input.to_vec();
        round.shuffle(rng);
        let take = (count - out.len()).min(round.len());
        out.extend(round.into_iter().take(take));
    }
    out
}

fn string_list(v: &Value) -> Option<Vec<String>> {
    v.as_seq()?
        .iter()
        .map(|e| e.as_str().map(str::to_string))
        .collect()
}

/// Fills every computed attribute that is still unknown in `obj` (the planned state,
/// with arguments known) by generating it.
fn generate(type_name: &str, obj: &mut BTreeMap<String, Value>) -> Result<(), ProviderDiag> {
    let v = Value::Object(obj.clone());
    let needs = |name: &str| !attr(&v, name).is_wholly_known() || attr(&v, name).is_null();
    match type_name {
        "random_id" => {
            if ["id", "b64_url", "b64_std", "hex", "dec"]
                .iter()
                .any(|n| needs(n))
            {
                let n = match get_i64(&v, "byte_length") {
                    Some(n) if (1..=MAX_BYTE_LENGTH).contains(&n) => n as usize,
                    _ => {
                        return Err(invalid(
                            "byte_length",
                            format!(
                            "byte_length must be a whole number between 1 and {MAX_BYTE_LENGTH}."
                        ),
                        ))
                    }
                };
                let mut bytes = vec![0u8; n];
                OsRng.fill_bytes(&mut bytes);
                for (k, val) in id_values(&bytes, get_str(&v, "prefix").unwrap_or("")) {
                    obj.insert(k.to_string(), val);
                }
            }
        }
        "random_string" | "random_password" => {
            let password = type_name == "random_password";
            let opts = string_options(&v)?;
            // Keep number and numeric in step (number is the deprecated alias).
            obj.insert("numeric".into(), Value::Bool(opts.numeric));
            obj.insert("number".into(), Value::Bool(opts.numeric));
            if needs("result") {
                let s = generate_string(&opts, &mut OsRng).map_err(|e| invalid("length", e))?;
                obj.insert("result".into(), Value::String(s).with_mark(password));
            }
            let result = obj
                .get("result")
                .and_then(|r| r.as_str())
                .unwrap_or_default()
                .to_string();
            if password {
                if needs("bcrypt_hash") {
                    let h = bcrypt::hash(result.as_bytes(), BCRYPT_COST).map_err(|e| {
                        ProviderDiag::error("Could not hash the password", e.to_string())
                    })?;
                    obj.insert("bcrypt_hash".into(), Value::String(h).mark_sensitive());
                }
                obj.insert("id".into(), Value::from("none"));
            } else {
                obj.insert("id".into(), Value::String(result));
            }
        }
        "random_integer" => {
            if needs("result") {
                let (Some(min), Some(max)) = (get_i64(&v, "min"), get_i64(&v, "max")) else {
                    return Err(invalid("min", "min and max must be known whole numbers."));
                };
                if min > max {
                    return Err(invalid(
                        "max",
                        "Minimum value needs to be smaller than or equal to maximum value.",
                    ));
                }
                let n = rng_for(get_str(&v, "seed")).gen_range(min..=max);
                obj.insert("result".into(), Value::int(n));
            }
            let id = obj
                .get("result")
                .and_then(|r| r.as_number())
                .map(|n| n.to_string())
                .unwrap_or_default();
            obj.insert("id".into(), Value::String(id));
        }
        "random_pet" => {
            fill_unknown(obj, "length", || Value::int(2));
            fill_unknown(obj, "separator", || Value::from("-"));
            if needs("id") {
                let v = Value::Object(obj.clone());
                let length = match get_i64(&v, "length") {
                    Some(n) if (1..=MAX_PET_LENGTH).contains(&n) => n as usize,
                    _ => {
                        return Err(invalid(
                            "length",
                            format!(
                                "length must be a whole number between 1 and {MAX_PET_LENGTH}."
                            ),
                        ))
                    }
                };
                let sep = get_str(&v, "separator").unwrap_or("-");
                let pet = generate_pet(length, sep, &mut OsRng);
                let id = match get_str(&v, "prefix") {
                    Some(p) if !p.is_empty() => format!("{p}{sep}{pet}"),
                    _ => pet,
                };
                obj.insert("id".into(), Value::String(id));
            }
        }
        "random_uuid" => {
            if needs("result") {
                obj.insert(
                    "result".into(),
                    Value::String(uuid::Uuid::new_v4().to_string()),
                );
            }
            let r = obj
                .get("result")
                .cloned()
                .unwrap_or(Value::Null(Type::String));
            obj.insert("id".into(), r);
        }
        "random_shuffle" => {
            if needs("result") {
                let input = string_list(attr(&v, "input"))
                    .ok_or_else(|| invalid("input", "input must be a known list of strings."))?;
                let count = match get_int(&v, "result_count") {
                    IntAttr::Null => input.len(),
                    IntAttr::Int(n) if (0..=MAX_SHUFFLE_RESULTS).contains(&n) => n as usize,
                    _ => return Err(invalid("result_count", format!("result_count must be a whole number between 0 and {MAX_SHUFFLE_RESULTS}."))),
                };
                let out = shuffle_list(&input, count, &mut *rng_for(get_str(&v, "seed")));
                obj.insert(
                    "result".into(),
                    Value::List(out.into_iter().map(Value::String).collect()),
                );
            }
            obj.insert("id".into(), Value::from("-"));
        }
        other => return Err(unsupported_resource(other)),
    }
    Ok(())
}

/// Planning defaults of optional+computed arguments.
fn defaults(type_name: &str, config: &Value) -> Vec<(&'static str, Value)> {
    match type_name {
        "random_string" | "random_password" => {
            // numeric and its deprecated alias number take each other's value when one is set.
            let numeric = match (attr(config, "numeric"), attr(config, "number")) {
                (n, _) if !n.is_null() => n.clone(),
                (_, n) if !n.is_null() => n.clone(),
                _ => Value::Bool(true),
            };
            vec![
                ("special", Value::Bool(true)),
                ("upper", Value::Bool(true)),
                ("lower", Value::Bool(true)),
                ("numeric", numeric.clone()),
                ("number", numeric),
                ("min_numeric", Value::int(0)),
                ("min_upper", Value::int(0)),
                ("min_lower", Value::int(0)),
                ("min_special", Value::int(0)),
            ]
        }
        "random_pet" => vec![("length", Value::int(2)), ("separator", Value::from("-"))],
        _ => Vec::new(),
    }
}

#[async_trait::async_trait]
impl Provider for RandomProvider {
    /// Its objects exist only in the state: a create lost in a crash leaves nothing behind.
    fn create_needs_intent(&self, _type_name: &str) -> bool {
        false
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn validate_resource(&self, type_name: &str, config: &Value) -> ProviderDiags {
        validate_config(type_name, config)
    }

    async fn read_resource(&self, type_name: &str, prior: &Value) -> ReadResponse {
        if self.block(type_name).is_none() {
            return read_error(unsupported_resource(type_name));
        }
        // Random values live only in the state.
        ReadResponse {
            new_state: Some(prior.clone()),
            diags: Vec::new(),
        }
    }

    async fn plan_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        let Some(block) = self.block(req.type_name) else {
            return plan_error(unsupported_resource(req.type_name));
        };
        let diags = validate_config(req.type_name, req.config);
        if super::super::has_errors(&diags) {
            return PlanResponse {
                planned: Value::null(),
                requires_replace: Vec::new(),
                diags,
            };
        }
        let defaults = defaults(req.type_name, req.config);
        let mut resp = plan_by_schema(block, req.prior, req.config, &defaults).into_response();
        resp.diags = diags;
        resp
    }

    async fn apply_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        let Some(block) = self.block(req.type_name) else {
            return apply_error(req.prior.cloned(), unsupported_resource(req.type_name));
        };
        let Some(planned) = req.planned else {
            return ApplyResponse {
                new_state: None,
                diags: Vec::new(),
            };
        };
        let mut obj = object_map(planned);
        for (name, a) in &block.attributes {
            if !crate::providers::sdk::computed_only(a) {
                let v = arg(planned, req.config, name);
                if !v.is_wholly_known() {
                    return apply_error(
                        req.prior.cloned(),
                        ProviderDiag::error(
                            "Unknown value at apply",
                            format!("{name} must be known when applying."),
                        )
                        .at(attr_path(&[name])),
                    );
                }
                if !obj
                    .get(name.as_str())
                    .map(|p| p.is_wholly_known())
                    .unwrap_or(false)
                {
                    obj.insert(name.clone(), v.clone());
                }
            }
        }
        for (name, d) in defaults(req.type_name, req.config) {
            fill_unknown(&mut obj, name, || d);
        }
        match generate(req.type_name, &mut obj) {
            Ok(()) => ApplyResponse {
                new_state: Some(Value::Object(obj)),
                diags: Vec::new(),
            },
            Err(d) => apply_error(req.prior.cloned(), d),
        }
    }

    async fn import(&self, type_name: &str, id: &str) -> ImportResponse {
        let Some(block) = self.block(type_name) else {
            return ImportResponse {
                state: None,
                diags: vec![unsupported_resource(type_name)],
            };
        };
        let state = match type_name {
            "random_id" => {
                let (prefix, b64) = match id.split_once(',') {
                    Some((p, b)) => (p, b),
                    None => ("", id),
                };
                let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(b64) else {
                    return import_error(
                        "Invalid import ID",
                        "Expected a base64url id (without padding), optionally as PREFIX,ID.",
                    );
                };
                if bytes.is_empty() || bytes.len() as i64 > MAX_BYTE_LENGTH {
                    return import_error(
                        "Invalid import ID",
                        "The id decodes to no bytes or to too many.",
                    );
                }
                let mut vals = id_values(&bytes, prefix);
                vals.push(("byte_length", Value::int(bytes.len() as i64)));
                if !prefix.is_empty() {
                    vals.push(("prefix", Value::from(prefix)));
                }
                object_with(block, vals)
            }
            "random_string" | "random_password" => {
                let password = type_name == "random_password";
                let length = id.chars().count() as i64;
                if length < 1 {
                    return import_error(
                        "Invalid import ID",
                        "The id is the random string itself and cannot be empty.",
                    );
                }
                let mut obj = object_map(&object_with(
                    block,
                    vec![
                        ("length", Value::int(length)),
                        ("result", Value::from(id).with_mark(password)),
                    ],
                ));
                for (name, d) in defaults(type_name, &Value::null()) {
                    obj.insert(name.to_string(), d);
                }
                if let Err(d) = generate(type_name, &mut obj) {
                    return ImportResponse {
                        state: None,
                        diags: vec![d],
                    };
                }
                Value::Object(obj)
            }
            "random_integer" => {
                let parts: Vec<&str> = id.split(',').collect();
                let nums: Option<Vec<i64>> = parts
                    .iter()
                    .take(3)
                    .map(|p| p.trim().parse::<i64>().ok())
                    .collect();
                match (nums.as_deref(), parts.len()) {
                    (Some(&[result, min, max]), 3 | 4) if min <= result && result <= max => {
                        let mut vals = vec![
                            ("result", Value::int(result)),
                            ("min", Value::int(min)),
                            ("max", Value::int(max)),
                            ("id", Value::String(result.to_string())),
                        ];
                        if let Some(seed) = parts.get(3) {
                            vals.push(("seed", Value::from(*seed)));
                        }
                        object_with(block, vals)
                    }
                    _ => return import_error(
                        "Invalid import ID",
                        "Expected RESULT,MIN,MAX or RESULT,MIN,MAX,SEED with MIN <= RESULT <= MAX.",
                    ),
                }
            }
            "random_uuid" => match uuid::Uuid::parse_str(id) {
                Ok(u) => object_with(
                    block,
                    vec![
                        ("result", Value::String(u.to_string())),
                        ("id", Value::String(u.to_string())),
                    ],
                ),
                Err(_) => return import_error("Invalid import ID", "Expected a UUID."),
            },
            other => {
                return import_error(
                    "Import not supported",
                    format!("The resource type {other} cannot be imported."),
                )
            }
        };
        ImportResponse {
            state: Some(state),
            diags: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::sdk::testutil::{config, errors_at, identity, rr_names};
    use super::*;

    fn p() -> RandomProvider {
        RandomProvider::new()
    }

    fn cfg(p: &RandomProvider, t: &str, values: Vec<(&str, Value)>) -> Value {
        config(p.block(t).expect("type"), values)
    }

    async fn create(p: &RandomProvider, t: &str, c: &Value) -> (PlanResponse, Value) {
        assert!(
            p.validate_resource(t, c).is_empty(),
            "{:?}",
            p.validate_resource(t, c)
        );
        let plan = p
            .plan_change(PlanRequest {
                type_name: t,
                prior: None,
                config: c,
            })
            .await;
        assert!(plan.diags.is_empty(), "{:?}", plan.diags);
        let id = identity();
        let r = p
            .apply_change(ApplyRequest {
                type_name: t,
                prior: None,
                planned: Some(&plan.planned),
                config: c,
                identity: &id,
            })
            .await;
        assert!(r.diags.is_empty(), "{:?}", r.diags);
        let s = r.new_state.expect("state");
        assert!(s.is_wholly_known());
        (plan, s)
    }

    async fn replan(p: &RandomProvider, t: &str, prior: &Value, c: &Value) -> PlanResponse {
        p.plan_change(PlanRequest {
            type_name: t,
            prior: Some(prior),
            config: c,
        })
        .await
    }

    #[test]
    fn decimal_of_bytes() {
        assert_eq!(bytes_to_decimal(&[]), "0");
        assert_eq!(bytes_to_decimal(&[0, 0]), "0");
        assert_eq!(bytes_to_decimal(&[1, 0]), "256");
        assert_eq!(bytes_to_decimal(&[0xff; 8]), u64::MAX.to_string());
        assert_eq!(bytes_to_decimal(&[0x3b, 0x9a, 0xca, 0x00]), "1000000000");
        assert_eq!(
            bytes_to_decimal(&[0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00]),
            "18446744073709551616"
        );
    }

    #[tokio::test]
    async fn random_id_exports_encodings() {
        let p = p();
        let c = cfg(
            &p,
            "random_id",
            vec![
                ("byte_length", Value::int(8)),
                ("prefix", Value::from("p-")),
            ],
        );
        let (plan, s) = create(&p, "random_id", &c).await;
        assert!(attr(&plan.planned, "hex").is_unknown());
        let id = get_str(&s, "id").expect("id");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(id)
            .expect("b64url");
        assert_eq!(bytes.len(), 8);
        assert!(!id.contains('='));
        assert_eq!(
            get_str(&s, "hex"),
            Some(format!("p-{}", hex::encode(&bytes)).as_str())
        );
        assert_eq!(get_str(&s, "b64_url"), Some(format!("p-{id}").as_str()));
        assert_eq!(
            get_str(&s, "dec"),
            Some(
                format!(
                    "p-{}",
                    u64::from_be_bytes(bytes.clone().try_into().unwrap_or([0; 8]))
                )
                .as_str()
            )
        );
        assert_eq!(
            get_str(&s, "b64_std"),
            Some(
                format!(
                    "p-{}",
                    base64::engine::general_purpose::STANDARD.encode(&bytes)
                )
                .as_str()
            )
        );

        // Unchanged config: the plan is the prior state.
        let again = replan(&p, "random_id", &s, &c).await;
        assert!(again.requires_replace.is_empty());
        assert_eq!(again.planned, s);
        // Keepers change: replace, with unknown results.
        let c2 = cfg(
            &p,
            "random_id",
            vec![
                ("byte_length", Value::int(8)),
                ("prefix", Value::from("p-")),
                ("keepers", Value::object([("k", Value::from("1"))])),
            ],
        );
        let r = replan(&p, "random_id", &s, &c2).await;
        assert_eq!(rr_names(&r.requires_replace), vec!["keepers"]);
        assert!(attr(&r.planned, "id").is_unknown());
        // byte_length change too.
        let c3 = cfg(
            &p,
            "random_id",
            vec![
                ("byte_length", Value::int(4)),
                ("prefix", Value::from("p-")),
            ],
        );
        assert_eq!(
            rr_names(&replan(&p, "random_id", &s, &c3).await.requires_replace),
            vec!["byte_length"]
        );
    }

    #[tokio::test]
    async fn random_id_validation_and_import() {
        let p = p();
        let c = cfg(&p, "random_id", vec![("byte_length", Value::int(0))]);
        assert_eq!(
            errors_at(&p.validate_resource("random_id", &c)),
            vec!["byte_length"]
        );
        let imp = p.import("random_id", "pre,AQI").await;
        let s = imp.state.expect("imported");
        assert_eq!(get_str(&s, "hex"), Some("pre0102"));
        assert_eq!(get_str(&s, "dec"), Some("pre258"));
        assert_eq!(get_i64(&s, "byte_length"), Some(2));
        assert!(p.import("random_id", "!!!").await.state.is_none());
    }

    #[tokio::test]
    async fn random_string_generates_with_defaults_and_minimums() {
        let p = p();
        let c = cfg(
            &p,
            "random_string",
            vec![
                ("length", Value::int(24)),
                ("min_upper", Value::int(3)),
                ("min_numeric", Value::int(4)),
                ("special", Value::Bool(false)),
            ],
        );
        let (plan, s) = create(&p, "random_string", &c).await;
        assert_eq!(attr(&plan.planned, "upper"), &Value::Bool(true));
        assert_eq!(attr(&plan.planned, "special"), &Value::Bool(false));
        assert_eq!(attr(&plan.planned, "min_lower"), &Value::int(0));
        assert!(attr(&plan.planned, "result").is_unknown());
        let r = get_str(&s, "result").expect("result");
        assert_eq!(r.chars().count(), 24);
        assert!(r.chars().filter(|c| c.is_ascii_uppercase()).count() >= 3);
        assert!(r.chars().filter(|c| c.is_ascii_digit()).count() >= 4);
        assert!(r.chars().all(|c| c.is_ascii_alphanumeric()), "{r}");
        assert_eq!(get_str(&s, "id"), Some(r));

        let again = replan(&p, "random_string", &s, &c).await;
        assert!(again.requires_replace.is_empty());
        assert_eq!(again.planned, s);

        let longer = cfg(
            &p,
            "random_string",
            vec![
                ("length", Value::int(25)),
                ("min_upper", Value::int(3)),
                ("min_numeric", Value::int(4)),
                ("special", Value::Bool(false)),
            ],
        );
        let r2 = replan(&p, "random_string", &s, &longer).await;
        assert_eq!(rr_names(&r2.requires_replace), vec!["length"]);
        assert!(attr(&r2.planned, "result").is_unknown());
    }

    #[tokio::test]
    async fn random_string_override_special_and_only_special() {
        let p = p();
        let c = cfg(
            &p,
            "random_string",
            vec![
                ("length", Value::int(10)),
                ("upper", Value::Bool(false)),
                ("lower", Value::Bool(false)),
                ("numeric", Value::Bool(false)),
                ("override_special", Value::from("#")),
            ],
        );
        let (_, s) = create(&p, "random_string", &c).await;
        assert_eq!(get_str(&s, "result"), Some("##########"));
        assert_eq!(
            attr(&s, "number"),
            &Value::Bool(false),
            "number follows numeric"
        );
    }

    #[tokio::test]
    async fn random_string_validation_errors_have_paths() {
        let p = p();
        for t in ["random_string", "random_password"] {
            let c = cfg(&p, t, vec![("length", Value::int(0))]);
            assert_eq!(errors_at(&p.validate_resource(t, &c)), vec!["length"]);
            let c = cfg(
                &p,
                t,
                vec![
                    ("length", Value::int(3)),
                    ("min_upper", Value::int(2)),
                    ("min_lower", Value::int(2)),
                ],
            );
            assert_eq!(errors_at(&p.validate_resource(t, &c)), vec!["length"]);
            let c = cfg(
                &p,
                t,
                vec![("length", Value::int(3)), ("min_special", Value::int(-1))],
            );
            assert_eq!(errors_at(&p.validate_resource(t, &c)), vec!["min_special"]);
            let c = cfg(&p, t, vec![("length", Value::number(2.5))]);
            assert_eq!(errors_at(&p.validate_resource(t, &c)), vec!["length"]);
            // Unknowns are not errors.
            let c = cfg(
                &p,
                t,
                vec![
                    ("length", Value::Unknown(Type::Number)),
                    ("min_upper", Value::int(9)),
                ],
            );
            assert!(p.validate_resource(t, &c).is_empty());
            // The plan reports them too.
            let c = cfg(&p, t, vec![("length", Value::int(0))]);
            let r = p
                .plan_change(PlanRequest {
                    type_name: t,
                    prior: None,
                    config: &c,
                })
                .await;
            assert_eq!(errors_at(&r.diags), vec!["length"]);
        }
    }

    #[tokio::test]
    async fn random_password_is_sensitive_with_bcrypt_hash() {
        let p = p();
        let schema = p.block("random_password").expect("schema");
        assert!(
            schema.attributes["result"].sensitive && schema.attributes["bcrypt_hash"].sensitive
        );
        let c = cfg(&p, "random_password", vec![("length", Value::int(16))]);
        let (_, s) = create(&p, "random_password", &c).await;
        assert_eq!(get_str(&s, "id"), Some("none"));
        let result = attr(&s, "result");
        assert!(matches!(result, Value::Sensitive(_)));
        let pw = result.as_str().expect("string");
        assert_eq!(pw.chars().count(), 16);
        let hash = get_str(&s, "bcrypt_hash").expect("hash");
        assert!(bcrypt::verify(pw, hash).unwrap_or(false));
        // A state read back without marks still plans as a no-op.
        let unmarked = s.clone().deep_unmark();
        let again = replan(&p, "random_password", &unmarked, &c).await;
        assert!(again.requires_replace.is_empty());
        assert_eq!(attr(&again.planned, "result").as_str(), Some(pw));
    }

    #[tokio::test]
    async fn random_integer_range_seed_and_validation() {
        let p = p();
        let c = cfg(
            &p,
            "random_integer",
            vec![("min", Value::int(5)), ("max", Value::int(7))],
        );
        let (_, s) = create(&p, "random_integer", &c).await;
        let n = get_i64(&s, "result").expect("result");
        assert!((5..=7).contains(&n));
        assert_eq!(get_str(&s, "id"), Some(n.to_string().as_str()));

        let seeded = cfg(
            &p,
            "random_integer",
            vec![
                ("min", Value::int(1)),
                ("max", Value::int(1_000_000)),
                ("seed", Value::from("s")),
            ],
        );
        let (_, a) = create(&p, "random_integer", &seeded).await;
        let (_, b) = create(&p, "random_integer", &seeded).await;
        assert_eq!(
            attr(&a, "result"),
            attr(&b, "result"),
            "seeded results repeat"
        );

        let bad = cfg(
            &p,
            "random_integer",
            vec![("min", Value::int(9)), ("max", Value::int(1))],
        );
        assert_eq!(
            errors_at(&p.validate_resource("random_integer", &bad)),
            vec!["max"]
        );
        let r = replan(
            &p,
            "random_integer",
            &s,
            &cfg(
                &p,
                "random_integer",
                vec![("min", Value::int(5)), ("max", Value::int(8))],
            ),
        )
        .await;
        assert_eq!(rr_names(&r.requires_replace), vec!["max"]);

        let imp = p
            .import("random_integer", "15,1,20")
            .await
            .state
            .expect("imported");
        assert_eq!(get_i64(&imp, "result"), Some(15));
        assert!(p.import("random_integer", "25,1,20").await.state.is_none());
    }

    #[tokio::test]
    async fn random_pet_defaults_and_prefix() {
        let p = p();
        let c = cfg(&p, "random_pet", vec![]);
        let (plan, s) = create(&p, "random_pet", &c).await;
        assert_eq!(attr(&plan.planned, "length"), &Value::int(2));
        assert_eq!(get_str(&s, "id").map(|id| id.split('-').count()), Some(2));

        let c = cfg(
            &p,
            "random_pet",
            vec![
                ("length", Value::int(4)),
                ("prefix", Value::from("dev")),
                ("separator", Value::from("_")),
            ],
        );
        let (_, s2) = create(&p, "random_pet", &c).await;
        let id = get_str(&s2, "id").expect("id");
        assert!(id.starts_with("dev_"), "{id}");
        assert_eq!(id.split('_').count(), 5);
        let r = replan(
            &p,
            "random_pet",
            &s2,
            &cfg(
                &p,
                "random_pet",
                vec![("length", Value::int(4)), ("prefix", Value::from("dev"))],
            ),
        )
        .await;
        assert_eq!(rr_names(&r.requires_replace), vec!["separator"]);
        assert_eq!(
            errors_at(&p.validate_resource(
                "random_pet",
                &cfg(&p, "random_pet", vec![("length", Value::int(0))])
            )),
            vec!["length"]
        );
    }

    #[tokio::test]
    async fn random_uuid_and_shuffle() {
        let p = p();
        let (_, s) = create(&p, "random_uuid", &cfg(&p, "random_uuid", vec![])).await;
        assert!(uuid::Uuid::parse_str(get_str(&s, "result").unwrap_or("")).is_ok());
        assert_eq!(attr(&s, "id"), attr(&s, "result"));

        let input = Value::List(
            ["a", "b", "c", "d"]
                .iter()
                .map(|s| Value::from(*s))
                .collect(),
        );
        let c = cfg(
            &p,
            "random_shuffle",
            vec![("input", input.clone()), ("seed", Value::from("x"))],
        );
        let (_, a) = create(&p, "random_shuffle", &c).await;
        let (_, b) = create(&p, "random_shuffle", &c).await;
        assert_eq!(attr(&a, "result"), attr(&b, "result"));
        let mut got = string_list(attr(&a, "result")).expect("list");
        got.sort();
        assert_eq!(got, vec!["a", "b", "c", "d"]);
        let c = cfg(
            &p,
            "random_shuffle",
            vec![("input", input), ("result_count", Value::int(6))],
        );
        let (_, s) = create(&p, "random_shuffle", &c).await;
        assert_eq!(attr(&s, "result").as_seq().map(|x| x.len()), Some(6));
    }

    #[tokio::test]
    async fn delete_and_read_keep_state() {
        let p = p();
        let c = cfg(&p, "random_uuid", vec![]);
        let (_, s) = create(&p, "random_uuid", &c).await;
        let read = p.read_resource("random_uuid", &s).await;
        assert_eq!(read.new_state.as_ref(), Some(&s));
        let id = identity();
        let r = p
            .apply_change(ApplyRequest {
                type_name: "random_uuid",
                prior: Some(&s),
                planned: None,
                config: &c,
                identity: &id,
            })
            .await;
        assert!(r.new_state.is_none() && r.diags.is_empty());
        assert!(!p.validate_resource("random_nope", &c).is_empty());
    }
}
