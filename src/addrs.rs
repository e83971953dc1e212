//! Addresses: immutable names of modules, resources and their instances.
//!
//! `module.db["eu"].aws_instance.primary[0]` is an `AbsResourceInstance`; `Display` and
//! `FromStr` round-trip. Addresses know nothing of configuration or state; `config`,
//! `state` and `plan` key their maps by them.

use std::fmt;
use std::str::FromStr;

/// The key of one instance of a resource or module: none (no count/for_each), an index
/// (`count`) or a string (`for_each`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    None,
    Int(i64),
    Str(String),
}

impl InstanceKey {
    pub fn is_none(&self) -> bool {
        matches!(self, InstanceKey::None)
    }
}

impl fmt::Display for InstanceKey {
    /// The bracketed suffix: "", "[0]" or `["key"]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::None => Ok(()),
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", quote(s)),
        }
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One step of a module instance path: `module.NAME[KEY]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleStep {
    pub name: String,
    pub key: InstanceKey,
}

/// A module instance; the root module is the empty path.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleInstance(pub Vec<ModuleStep>);

impl ModuleInstance {
    pub fn root() -> ModuleInstance {
        ModuleInstance(Vec::new())
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    pub fn child(&self, name: &str, key: InstanceKey) -> ModuleInstance {
        let mut v = self.0.clone();
        v.push(ModuleStep { name: name.to_string(), key });
        ModuleInstance(v)
    }
    pub fn parent(&self) -> Option<ModuleInstance> {
        if self.0.is_empty() {
            None
        } else {
            Some(ModuleInstance(self.0[..self.0.len() - 1].to_vec()))
        }
    }
    /// The static module path (call names without keys).
    pub fn static_path(&self) -> ModulePath {
        ModulePath(self.0.iter().map(|s| s.name.clone()).collect())
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{}{}", s.name, s.key)?;
        }
        Ok(())
    }
}

/// A module in the configuration tree (call names, no keys); root is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModulePath(pub Vec<String>);

impl ModulePath {
    pub fn root() -> ModulePath {
        ModulePath(Vec::new())
    }
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
    pub fn child(&self, name: &str) -> ModulePath {
        let mut v = self.0.clone();
        v.push(name.to_string());
        ModulePath(v)
    }
}

impl fmt::Display for ModulePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(".")?;
            }
            write!(f, "module.{s}")?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceMode {
    Managed,
    Data,
}

/// A resource in a module: `aws_instance.web` or `data.aws_ami.ubuntu`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Resource {
    pub mode: ResourceMode,
    pub type_: String,
    pub name: String,
}

impl Resource {
    pub fn managed(type_: &str, name: &str) -> Resource {
        Resource { mode: ResourceMode::Managed, type_: type_.into(), name: name.into() }
    }
    pub fn data(type_: &str, name: &str) -> Resource {
        Resource { mode: ResourceMode::Data, type_: type_.into(), name: name.into() }
    }
    /// The provider's local name implied by the type: `aws` for `aws_instance`.
    pub fn implied_provider(&self) -> &str {
        self.type_.split('_').next().unwrap_or(&self.type_)
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode == ResourceMode::Data {
            f.write_str("data.")?;
        }
        write!(f, "{}.{}", self.type_, self.name)
    }
}

/// A resource in a module instance.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbsResource {
    pub module: ModuleInstance,
    pub resource: Resource,
}

impl AbsResource {
    pub fn instance(&self, key: InstanceKey) -> AbsResourceInstance {
        AbsResourceInstance { module: self.module.clone(), resource: self.resource.clone(), key }
    }
}

impl fmt::Display for AbsResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "{}", self.resource)
    }
}

/// One instance of a resource: `module.db["eu"].aws_instance.primary[0]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AbsResourceInstance {
    pub module: ModuleInstance,
    pub resource: Resource,
    pub key: InstanceKey,
}

impl AbsResourceInstance {
    pub fn abs_resource(&self) -> AbsResource {
        AbsResource { module: self.module.clone(), resource: self.resource.clone() }
    }
}

impl fmt::Display for AbsResourceInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.module.is_root() {
            write!(f, "{}.", self.module)?;
        }
        write!(f, "{}{}", self.resource, self.key)
    }
}

/// Why an address string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid address {input:?}: {reason}")]
pub struct AddrParseError {
    pub input: String,
    pub reason: String,
}

/// A tokenizer for address strings: names separated by dots, with `[N]`/`["k"]` keys.
struct AddrLexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> AddrLexer<'a> {
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    fn name(&mut self) -> Option<String> {
        let rest = &self.s[self.pos..];
        let len = rest.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).unwrap_or(rest.len());
        if len == 0 {
            return None;
        }
        self.pos += len;
        Some(rest[..len].to_string())
    }
    fn eat(&mut self, c: char) -> bool {
        if self.s[self.pos..].starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }
    fn key(&mut self) -> Result<InstanceKey, String> {
        if !self.eat('[') {
            return Ok(InstanceKey::None);
        }
        let key = if self.eat('"') {
            let mut out = String::new();
            let mut chars = self.s[self.pos..].char_indices();
            loop {
                match chars.next() {
                    None => return Err("unterminated string key".into()),
                    Some((i, '"')) => {
                        self.pos += i + 1;
                        break;
                    }
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => out.push('\n'),
                        Some((_, c)) => out.push(c),
                        None => return Err("unterminated string key".into()),
                    },
                    Some((_, c)) => out.push(c),
                }
            }
            InstanceKey::Str(out)
        } else {
            let rest = &self.s[self.pos..];
            let len = rest.find(|c: char| !(c.is_ascii_digit() || c == '-')).unwrap_or(rest.len());
            let n: i64 = rest[..len].parse().map_err(|_| "instance key must be a number or a quoted string".to_string())?;
            self.pos += len;
            InstanceKey::Int(n)
        };
        if !self.eat(']') {
            return Err("expected ']'".into());
        }
        Ok(key)
    }
}

impl FromStr for AbsResourceInstance {
    type Err = AddrParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| AddrParseError { input: s.to_string(), reason: reason.to_string() };
        let mut lx = AddrLexer { s, pos: 0 };
        let mut module = Vec::new();
        loop {
            let first = lx.name().ok_or_else(|| err("expected a name"))?;
            if first == "module" {
                if !lx.eat('.') {
                    return Err(err("expected '.' after 'module'"));
                }
                let name = lx.name().ok_or_else(|| err("expected a module name"))?;
                let key = lx.key().map_err(|r| err(&r))?;
                module.push(ModuleStep { name, key });
                if !lx.eat('.') {
                    return Err(err("a module address is not a resource address"));
                }
                continue;
            }
            let (mode, type_) = if first == "data" {
                if !lx.eat('.') {
                    return Err(err("expected '.' after 'data'"));
                }
                (ResourceMode::Data, lx.name().ok_or_else(|| err("expected a data source type"))?)
            } else {
                (ResourceMode::Managed, first)
            };
            if !lx.eat('.') {
                return Err(err("expected TYPE.NAME"));
            }
            let name = lx.name().ok_or_else(|| err("expected a resource name"))?;
            let key = lx.key().map_err(|r| err(&r))?;
            if !lx.at_end() {
                return Err(err("unexpected text after the address"));
            }
            return Ok(AbsResourceInstance { module: ModuleInstance(module), resource: Resource { mode, type_, name }, key });
        }
    }
}

impl FromStr for ModuleInstance {
    type Err = AddrParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason: &str| AddrParseError { input: s.to_string(), reason: reason.to_string() };
        let mut lx = AddrLexer { s, pos: 0 };
        let mut steps = Vec::new();
        while !lx.at_end() {
            if lx.name().as_deref() != Some("module") || !lx.eat('.') {
                return Err(err("expected module.NAME"));
            }
            let name = lx.name().ok_or_else(|| err("expected a module name"))?;
            let key = lx.key().map_err(|r| err(&r))?;
            steps.push(ModuleStep { name, key });
            if !lx.at_end() && !lx.eat('.') {
                return Err(err("expected '.'"));
            }
        }
        Ok(ModuleInstance(steps))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses_round_trip() {
        for s in [
            "aws_instance.web",
            "aws_instance.web[0]",
            "data.aws_ami.ubuntu",
            "module.db[\"eu\"].aws_instance.primary[0]",
            "module.a.module.b[3].terraform_data.x[\"k \\\"q\\\"\"]",
        ] {
            let a: AbsResourceInstance = s.parse().unwrap();
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn bad_addresses_are_errors() {
        for s in ["", "aws_instance", "module.a", "aws_instance.web[", "aws_instance.web[x]", "a.b.c"] {
            assert!(s.parse::<AbsResourceInstance>().is_err(), "{s} should not parse");
        }
    }

    #[test]
    fn module_instances_round_trip() {
        let m: ModuleInstance = "module.a[\"x\"].module.b[2]".parse().unwrap();
        assert_eq!(m.0.len(), 2);
        assert_eq!(m.to_string(), "module.a[\"x\"].module.b[2]");
        assert!("".parse::<ModuleInstance>().unwrap().is_root());
    }
}
