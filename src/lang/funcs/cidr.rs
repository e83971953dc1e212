//! IP network functions: cidrhost, cidrnetmask, cidrsubnet, cidrsubnets, and OpenTofu's
//! cidrcontains, for IPv4 and IPv6, following Terraform's use of go-cidr.
//!
//! Addresses are parsed as Go 1.16's `net.ParseCIDR` parses them (IPv4 octets may have
//! leading zeros; IPv4-mapped IPv6 prefixes of /96 or longer are IPv4). Deliberate
//! difference: a negative `netnum` in `cidrsubnet` is an error, where Terraform 1.0
//! silently returns a meaningless address.

use std::net::{Ipv4Addr, Ipv6Addr};

use num_bigint::BigInt;

use super::{int_arg, num_arg, str_arg, FResult, FuncError};
use crate::lang::value::Value;

pub(super) fn call(name: &str, a: &[Value]) -> Option<FResult> {
    Some(match name {
        "cidrhost" => cidrhost(a),
        "cidrnetmask" => cidrnetmask(a),
        "cidrsubnet" => cidrsubnet(a),
        "cidrsubnets" => cidrsubnets(a),
        "cidrcontains" => cidrcontains(a),
        _ => return None,
    })
}

/// An address or prefix: the address as an integer in `bits` (32 or 128) bits.
#[derive(Clone, Copy)]
struct Net {
    addr: u128,
    prefix: u32,
    bits: u32,
}

impl Net {
    fn mask(&self) -> u128 {
        mask(self.prefix, self.bits)
    }
    fn network(&self) -> u128 {
        self.addr & self.mask()
    }
    fn host_mask(&self) -> u128 {
        !self.mask() & full(self.bits)
    }
    fn cidr(&self) -> String {
        format!("{}/{}", ip_string(self.network(), self.bits), self.prefix)
    }
}

fn full(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

fn mask(prefix: u32, bits: u32) -> u128 {
    if prefix == 0 {
        0
    } else {
        full(bits) & !(full(bits - prefix.min(bits)))
    }
}

fn ip_string(addr: u128, bits: u32) -> String {
    if bits == 32 {
        Ipv4Addr::from(addr as u32).to_string()
    } else {
        Ipv6Addr::from(addr).to_string()
    }
}

fn parse_v4(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.len() != 4 {
        return None;
    }
    let mut out = 0u32;
    for p in parts {
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = p.parse().ok()?;
        if n > 255 {
            return None;
        }
        out = out << 8 | n;
    }
    Some(out)
}

/// Parses an address (no prefix) as Go's net.ParseIP.
fn parse_ip(s: &str) -> Option<Net> {
    if let Some(v4) = parse_v4(s) {
        return Some(Net {
            addr: v4 as u128,
            prefix: 32,
            bits: 32,
        });
    }
    let v6: Ipv6Addr = s.parse().ok()?;
    Some(Net {
        addr: u128::from(v6),
        prefix: 128,
        bits: 128,
    })
}

/// Parses "addr/prefix" as Go's net.ParseCIDR.
fn parse_cidr(s: &str) -> Result<Net, String> {
    let bad = || format!("invalid CIDR expression: invalid CIDR address: {s}");
    let (ip, pfx) = s.split_once('/').ok_or_else(bad)?;
    if pfx.is_empty() || pfx.len() > 3 || !pfx.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let prefix: u32 = pfx.parse().map_err(|_| bad())?;
    let mut n = parse_ip(ip).ok_or_else(bad)?;
    if prefix > n.bits {
        return Err(bad());
    }
    n.prefix = prefix;
    // IPv4-mapped IPv6 with a prefix covering the mapping is an IPv4 network.
    if n.bits == 128 && (n.addr >> 32) == 0xffff && prefix >= 96 {
        n = Net {
            addr: n.addr & 0xffff_ffff,
            prefix: prefix - 96,
            bits: 32,
        };
    }
    Ok(n)
}

fn cidrhost(a: &[Value]) -> FResult {
    let n = parse_cidr(&str_arg(a, 0)?).map_err(FuncError::new)?;
    let num = num_arg(a, 1)?;
    let host = num
        .as_i64()
        .ok_or_else(|| FuncError::new("value must be a whole number"))?;
    let host_bits = n.bits - n.prefix;
    let max: Option<i128> = if host_bits >= 127 {
        None
    } else {
        Some(1i128 << host_bits)
    };
    let mut h = host as i128;
    if h < 0 {
        if let Some(m) = max {
            h += m;
        } else {
            // 2^127 or more hosts: wrap within 128 bits.
            let off = (n.host_mask() as i128).wrapping_add(h).wrapping_add(1);
            return Ok(Value::String(ip_string(
                n.network() | (off as u128 & n.host_mask()),
                n.bits,
            )));
        }
        if h < 0 {
            return Err(FuncError::new(format!(
                "prefix of {} does not accommodate a host numbered {}",
                n.prefix, h
            )));
        }
    }
    if max.is_some_and(|m| h >= m) {
        return Err(FuncError::new(format!(
            "prefix of {} does not accommodate a host numbered {}",
            n.prefix, host
        )));
    }
    Ok(Value::String(ip_string(n.network() | h as u128, n.bits)))
}

fn cidrnetmask(a: &[Value]) -> FResult {
    let n = parse_cidr(&str_arg(a, 0)?).map_err(FuncError::new)?;
    Ok(Value::String(ip_string(n.mask(), n.bits)))
}

/// go-cidr's `SubnetBig` as Terraform 1.0.3 calls it, including what it does with
/// negative arguments: a negative `newbits` shortens the prefix, and the subnet number
/// is ORed into the address as a two's-complement big integer (so `-1` with 4 new bits
/// gives `0.0.0.16/28` from `10.1.2.0/24`).
fn subnet(n: &Net, newbits: i64, netnum: &BigInt) -> Result<String, String> {
    let new_prefix = n.prefix as i64 + newbits;
    if new_prefix > n.bits as i64 {
        return Err(format!(
            "insufficient address space to extend prefix of {} by {}",
            n.prefix, newbits
        ));
    }
    if new_prefix < 0 {
        return Err(format!(
            "cannot shorten a prefix of {} by {}",
            n.prefix, -newbits
        ));
    }
    // uint64(1<<uint64(newbits)) - 1: shifts of 64 or more (and negative counts) give 0.
    let max: u64 = if (0..64).contains(&newbits) {
        (1u64 << newbits) - 1
    } else {
        u64::MAX
    };
    // big.Int.Uint64: the low 64 bits of the magnitude.
    let low = netnum.magnitude().iter_u64_digits().next().unwrap_or(0);
    if low > max {
        return Err(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        ));
    }
    let shift = (n.bits as i64 - new_prefix) as usize;
    let ip = BigInt::from(n.network());
    let merged = ip | (netnum << shift);
    // intToIP: the magnitude's bytes, right-aligned in the address width.
    let addr = merged
        .magnitude()
        .iter_u64_digits()
        .take(2)
        .enumerate()
        .fold(0u128, |acc, (i, d)| acc | ((d as u128) << (64 * i)));
    Ok(format!(
        "{}/{}",
        ip_string(addr & full(n.bits), n.bits),
        new_prefix
    ))
}

fn cidrsubnet(a: &[Value]) -> FResult {
    let n = parse_cidr(&str_arg(a, 0)?).map_err(FuncError::new)?;
    // gocty conversions inside the implementation: plain call errors.
    let newbits = super::numeric::go_int(&num_arg(a, 1)?).map_err(FuncError::new)?;
    let netnum = match num_arg(a, 2)?.to_bigint_trunc() {
        Some((i, true)) => i,
        _ => return Err(FuncError::new("value must be a whole number")),
    };
    subnet(&n, newbits, &netnum)
        .map(Value::String)
        .map_err(FuncError::new)
}

fn cidrsubnets(a: &[Value]) -> FResult {
    let network = parse_cidr(&str_arg(a, 0)?).map_err(|m| FuncError::arg(0, m))?;
    if a.len() == 1 {
        return Ok(Value::List(vec![]));
    }
    let bits = network.bits;
    let size_mask = full(bits);
    let start = network.prefix;
    let first = int_arg(a, 1)?;
    if first < 1 {
        return Err(FuncError::arg(1, "must extend prefix by at least one bit"));
    }
    // PreviousSubnet(network, start+first): the block just before the network.
    let first_len = (start as i64 + first).min(bits as i64) as u32;
    let mut current = Net {
        addr: network.network().wrapping_sub(1) & size_mask & mask(first_len, bits),
        prefix: first_len,
        bits,
    };
    let mut out = Vec::new();
    for i in 1..a.len() {
        let len = int_arg(a, i)?;
        if len < 1 {
            return Err(FuncError::arg(i, "must extend prefix by at least one bit"));
        }
        if len > 32 {
            return Err(FuncError::arg(
                i,
                "may not extend prefix by more than 32 bits",
            ));
        }
        let length = len + start as i64;
        if length > bits as i64 {
            let proto = if bits == 32 { "IPv4" } else { "IPv6" };
            return Err(FuncError::arg(i, format!("would extend prefix to {length} bits, which is too long for an {proto} address")));
        }
        let length = length as u32;
        // NextSubnet(current, length).
        let current_last = current.network() | current.host_mask();
        let m = mask(length, bits);
        let sub = Net {
            addr: current_last & m,
            prefix: length,
            bits,
        };
        let last = (sub.network() | sub.host_mask()).wrapping_add(1) & size_mask;
        let next = Net {
            addr: last & m,
            prefix: length,
            bits,
        };
        let rollover = last == 0;
        if rollover || (next.addr & network.mask()) != network.network() {
            return Err(FuncError::arg(
                i,
                format!("not enough remaining address space for a subnet with a prefix of {length} bits after {}", current.cidr()),
            ));
        }
        current = next;
        out.push(Value::String(current.cidr()));
    }
    Ok(Value::List(out))
}

fn cidrcontains(a: &[Value]) -> FResult {
    let container = parse_cidr(&str_arg(a, 0)?).map_err(|m| FuncError::arg(0, m))?;
    let s = str_arg(a, 1)?;
    let inner = if s.contains('/') {
        parse_cidr(&s).map_err(|m| FuncError::arg(1, m))?
    } else {
        parse_ip(&s).ok_or_else(|| FuncError::arg(1, format!("invalid IP address: {s}")))?
    };
    if inner.bits != container.bits {
        return Err(FuncError::new("address family mismatch"));
    }
    Ok(Value::Bool(
        inner.prefix >= container.prefix
            && (inner.network() & container.mask()) == container.network(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::tests::check;

    #[test]
    fn cidr() {
        check(&[
            ("cidrsubnet(\"10.0.0.0/8\", 8, 2)", "\"10.2.0.0/16\""),
            ("cidrsubnet(\"10.1.2.3/16\", 4, 15)", "\"10.1.240.0/20\""),
            ("cidrsubnet(\"10.0.0.0/8\", 25, 0)", "!insufficient address space to extend prefix of 8 by 25"),
            ("cidrsubnet(\"10.0.0.0/8\", 8, 256)", "!prefix extension of 8 does not accommodate a subnet numbered 256"),
            ("cidrsubnet(\"10.0.0.0/8\", 8, -1)", "\"0.1.0.0/16\""), // as Terraform 1.0.3 (go-cidr ORs -1 in)
            ("cidrsubnet(\"fd00::/56\", 8, 255)", "\"fd00:0:0:ff::/64\""),
            ("cidrsubnet(\"fd00::/8\", 64, 3)", "\"fd00::300:0:0:0/72\""),
            ("cidrsubnet(\"10.0.0.0\", 8, 2)", "!invalid CIDR expression: invalid CIDR address: 10.0.0.0"),
            ("cidrsubnet(\"10.0.0.0/33\", 8, 2)", "!invalid CIDR expression: invalid CIDR address: 10.0.0.0/33"),
            ("cidrsubnet(\"10.0.0.0/8\", 0, 0)", "\"10.0.0.0/8\""),
            ("cidrsubnet(\"::ffff:10.0.0.0/104\", 8, 1)", "\"10.1.0.0/16\""),
            ("cidrsubnet(\"010.0.0.0/8\", 8, 2)", "\"10.2.0.0/16\""),
            ("cidrhost(\"10.0.0.0/8\", 5)", "\"10.0.0.5\""),
            ("cidrhost(\"10.0.0.0/30\", -1)", "\"10.0.0.3\""),
            ("cidrhost(\"10.0.0.0/30\", 4)", "!prefix of 30 does not accommodate a host numbered 4"),
            ("cidrhost(\"10.0.0.0/30\", -5)", "!prefix of 30 does not accommodate a host numbered -1"),
            ("cidrhost(\"fd00::/64\", 300)", "\"fd00::12c\""),
            ("cidrhost(\"fd00::/64\", -1)", "\"fd00::ffff:ffff:ffff:ffff\""),
            ("cidrhost(\"10.0.0.0/8\", 2.5)", "!value must be a whole number"),
            ("cidrhost(\"10.0.0.0/8\", 99999999)", "!prefix of 8 does not accommodate a host numbered 99999999"),
            ("cidrnetmask(\"10.0.0.0/12\")", "\"255.240.0.0\""),
            ("cidrnetmask(\"fd00::/64\")", "\"ffff:ffff:ffff:ffff::\""),
            ("cidrnetmask(\"10.0.0.0\")", "!invalid CIDR expression: invalid CIDR address: 10.0.0.0"),
            ("cidrsubnets(\"10.0.0.0/8\", 8, 4, 8)", "tolist([ \"10.0.0.0/16\", \"10.16.0.0/12\", \"10.32.0.0/16\", ])"),
            ("cidrsubnets(\"10.0.0.0/8\")", "tolist([])"),
            ("cidrsubnets(\"10.0.0.0/30\", 1, 2, 2)", "tolist([ \"10.0.0.0/31\", \"10.0.0.2/32\", \"10.0.0.3/32\", ])"),
            ("cidrsubnets(\"10.0.0.0/30\", 1, 1, 1)", "!not enough remaining address space for a subnet with a prefix of 31 bits after 10.0.0.2/31 [arg 3]"),
            ("cidrsubnets(\"10.0.0.0/8\", 0)", "!must extend prefix by at least one bit [arg 1]"),
            ("cidrsubnets(\"10.0.0.0/8\", 33)", "!may not extend prefix by more than 32 bits"),
            ("cidrsubnets(\"fd00::/56\", 8, 4)", "tolist([ \"fd00::/64\", \"fd00:0:0:10::/60\", ])"),
            ("cidrcontains(\"10.0.0.0/8\", \"10.1.2.3\")", "true"),
            ("cidrcontains(\"10.0.0.0/8\", \"11.0.0.0/16\")", "false"),
            ("cidrcontains(\"10.0.0.0/8\", \"10.0.0.0/7\")", "false"),
            ("cidrcontains(\"10.0.0.0/8\", \"fd00::1\")", E),
        ]);
    }
    use super::super::tests::E;
}
