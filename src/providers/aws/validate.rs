//! Checks of aws resource arguments that need no API call: CIDR blocks, instance types
//! (a static list of EC2 instance families and sizes), the shape of AMI, VPC, subnet and
//! security group ids, bucket names, ports and protocols. Values that are still unknown
//! are skipped; the engine turns each diagnostic's attribute path into a span.

use crate::lang::value::Value;
use crate::providers::sdk::{attr, get_i64, get_str};
use crate::providers::{attr_path, ProviderDiag, ProviderDiags};

/// EC2 instance families (the part before the dot), as published by AWS.
const FAMILIES: &[&str] = &[
    "a1",
    "c1",
    "c3",
    "c4",
    "c5",
    "c5a",
    "c5ad",
    "c5d",
    "c5n",
    "c6a",
    "c6g",
    "c6gd",
    "c6gn",
    "c6i",
    "c6id",
    "c6in",
    "c7a",
    "c7g",
    "c7gd",
    "c7gn",
    "c7i",
    "c7i-flex",
    "c8a",
    "c8g",
    "c8gb",
    "c8gd",
    "c8gn",
    "c8i",
    "c8i-flex",
    "c8id",
    "d2",
    "d3",
    "d3en",
    "dl1",
    "dl2q",
    "f1",
    "f2",
    "g3",
    "g3s",
    "g4ad",
    "g4dn",
    "g5",
    "g5g",
    "g6",
    "g6e",
    "g6f",
    "g7e",
    "gr6",
    "gr6f",
    "h1",
    "hpc6a",
    "hpc6id",
    "hpc7a",
    "hpc7g",
    "hpc8a",
    "i2",
    "i3",
    "i3en",
    "i4g",
    "i4i",
    "i7i",
    "i7ie",
    "i8g",
    "i8ge",
    "im4gn",
    "inf1",
    "inf2",
    "is4gen",
    "m1",
    "m2",
    "m3",
    "m4",
    "m5",
    "m5a",
    "m5ad",
    "m5d",
    "m5dn",
    "m5n",
    "m5zn",
    "m6a",
    "m6g",
    "m6gd",
    "m6i",
    "m6id",
    "m6idn",
    "m6in",
    "m7a",
    "m7g",
    "m7gd",
    "m7i",
    "m7i-flex",
    "m8a",
    "m8azn",
    "m8g",
    "m8gb",
    "m8gd",
    "m8gn",
    "m8i",
    "m8i-flex",
    "m8id",
    "mac-m4",
    "mac-m4max",
    "mac-m4pro",
    "mac1",
    "mac2",
    "mac2-m1ultra",
    "mac2-m2",
    "mac2-m2pro",
    "p2",
    "p3",
    "p3dn",
    "p4d",
    "p4de",
    "p5",
    "p5e",
    "p5en",
    "p6-b200",
    "p6-b300",
    "r3",
    "r4",
    "r5",
    "r5a",
    "r5ad",
    "r5b",
    "r5d",
    "r5dn",
    "r5n",
    "r6a",
    "r6g",
    "r6gd",
    "r6i",
    "r6id",
    "r6idn",
    "r6in",
    "r7a",
    "r7g",
    "r7gd",
    "r7i",
    "r7iz",
    "r8a",
    "r8g",
    "r8gb",
    "r8gd",
    "r8gn",
    "r8i",
    "r8i-flex",
    "r8id",
    "t1",
    "t2",
    "t3",
    "t3a",
    "t4g",
    "trn1",
    "trn1n",
    "trn2",
    "u-3tb1",
    "u-6tb1",
    "u-9tb1",
    "u-12tb1",
    "u7i-12tb",
    "u7i-6tb",
    "u7i-8tb",
    "u7in-16tb",
    "u7in-24tb",
    "u7in-32tb",
    "vt1",
    "x1",
    "x1e",
    "x2gd",
    "x2idn",
    "x2iedn",
    "x2iezn",
    "x8aedz",
    "x8g",
    "x8i",
    "z1d",
];

/// True for an instance type of a known family and a well-formed size.
pub fn instance_type_known(t: &str) -> bool {
    let Some((family, size)) = t.split_once('.') else {
        return false;
    };
    if !FAMILIES.contains(&family) {
        return false;
    }
    let multiple = |s: &str| {
        s.strip_suffix("xlarge")
            .map(|n| !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(false)
    };
    matches!(
        size,
        "nano" | "micro" | "small" | "medium" | "large" | "xlarge" | "metal"
    ) || multiple(size)
        || size
            .strip_prefix("metal-")
            .map(|s| s.ends_with("xl"))
            .unwrap_or(false)
}

/// "prefix-" followed by 8 or 17 lowercase hex digits.
pub fn id_shape(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('-'))
        .map(|h| {
            (h.len() == 8 || h.len() == 17)
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        })
        .unwrap_or(false)
}

/// An IPv4 CIDR block in canonical form: address, prefix length, no host bits set.
pub fn ipv4_cidr(s: &str) -> Result<(), String> {
    let (ip, len) = s.split_once('/').ok_or_else(|| {
        format!("{s:?} is not a CIDR block: expected ADDRESS/PREFIX, like \"10.0.0.0/16\".")
    })?;
    let ip: std::net::Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("{s:?} is not a CIDR block: {ip:?} is not an IPv4 address."))?;
    let len: u32 = len.parse().ok().filter(|l| *l <= 32).ok_or_else(|| {
        format!("{s:?} is not a CIDR block: the prefix length must be a number from 0 to 32.")
    })?;
    let bits = u32::from(ip);
    let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
    if bits & !mask != 0 {
        let net = std::net::Ipv4Addr::from(bits & mask);
        return Err(format!(
            "{s:?} has host bits set; the network address of this block is \"{net}/{len}\"."
        ));
    }
    Ok(())
}

pub fn region_shape(r: &str) -> bool {
    let parts: Vec<&str> = r.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .map(|l| l.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or(false)
}

fn bucket_name(s: &str) -> Result<(), String> {
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends = s
        .bytes()
        .next()
        .map(|b| b.is_ascii_alphanumeric())
        .unwrap_or(false)
        && s.bytes()
            .last()
            .map(|b| b.is_ascii_alphanumeric())
            .unwrap_or(false);
    if !(3..=63).contains(&s.len()) || !ok_chars || !ends || s.contains("..") {
        return Err(format!("{s:?} is not a valid S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."));
    }
    Ok(())
}

pub fn resource(type_name: &str, config: &Value) -> ProviderDiags {
    let mut d = Vec::new();
    let mut check = |name: &str, f: &dyn Fn(&str) -> Result<(), String>, summary: &str| {
        if let Some(v) = get_str(config, name) {
            if let Err(e) = f(v) {
                d.push(ProviderDiag::error(summary, e).at(attr_path(&[name])));
            }
        }
    };
    let cidr = |v: &str| ipv4_cidr(v);
    let shape = |prefix: &'static str, what: &'static str| {
        move |v: &str| {
            if id_shape(v, prefix) {
                Ok(())
            } else {
                Err(format!("{v:?} is not {what} id: expected \"{prefix}-\" followed by 8 or 17 hexadecimal digits."))
            }
        }
    };
    match type_name {
        "aws_vpc" => check("cidr_block", &cidr, "Invalid CIDR block"),
        "aws_subnet" => {
            check("cidr_block", &cidr, "Invalid CIDR block");
            check("vpc_id", &shape("vpc", "a VPC"), "Invalid VPC id");
        }
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
            check("cidr_ipv4", &cidr, "Invalid CIDR block");
            check(
                "security_group_id",
                &shape("sg", "a security group"),
                "Invalid security group id",
            );
        }
        "aws_instance" => {
            check(
                "instance_type",
                &|v: &str| {
                    if instance_type_known(v) {
                        Ok(())
                    } else {
                        Err(format!("{v:?} is not an EC2 instance type: expected FAMILY.SIZE of a known family, like \"t3.micro\" or \"m5.large\"."))
                    }
                },
                "Unknown instance type",
            );
            check("ami", &shape("ami", "an AMI"), "Invalid AMI id");
            check(
                "subnet_id",
                &shape("subnet", "a subnet"),
                "Invalid subnet id",
            );
        }
        "aws_s3_bucket" => check("bucket", &bucket_name, "Invalid bucket name"),
        _ => {}
    }
    if matches!(
        type_name,
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule"
    ) {
        for p in ["from_port", "to_port"] {
            if let Some(n) = get_i64(config, p) {
                if !(-1..=65535).contains(&n) {
                    d.push(
                        ProviderDiag::error(
                            "Invalid port",
                            format!("{p} must be from -1 to 65535, got {n}."),
                        )
                        .at(attr_path(&[p])),
                    );
                }
            }
        }
        let targets = [
            "cidr_ipv4",
            "cidr_ipv6",
            "prefix_list_id",
            "referenced_security_group_id",
        ];
        let set = targets
            .iter()
            .filter(|t| !attr(config, t).is_null())
            .count();
        if set != 1 {
            d.push(ProviderDiag::error(
                "Invalid security group rule",
                format!("Exactly one of {} must be set.", targets.join(", ")),
            ));
        }
    }
    if type_name == "aws_s3_object" {
        let set = ["content", "content_base64", "source"]
            .iter()
            .filter(|t| !attr(config, t).is_null())
            .count();
        if set > 1 {
            d.push(
                ProviderDiag::error(
                    "Conflicting arguments",
                    "Only one of content, content_base64 and source may be set.",
                )
                .at(attr_path(&["content"])),
            );
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_blocks() {
        assert!(ipv4_cidr("10.0.0.0/16").is_ok());
        assert!(ipv4_cidr("0.0.0.0/0").is_ok());
        assert!(ipv4_cidr("10.0.0.1/16")
            .unwrap_err()
            .contains("10.0.0.0/16"));
        assert!(ipv4_cidr("10.0.0.0/33").is_err());
        assert!(ipv4_cidr("10.0.0/16").is_err());
        assert!(ipv4_cidr("banana").is_err());
    }

    #[test]
    fn instance_types() {
        for t in [
            "t3.micro",
            "m5.large",
            "c5.18xlarge",
            "m7i-flex.2xlarge",
            "c6i.metal",
            "u7i-12tb.224xlarge",
        ] {
            assert!(instance_type_known(t), "{t}");
        }
        for t in ["t3.mega", "q9.large", "t3", "t3.xxlarge", "T3.micro", ""] {
            assert!(!instance_type_known(t), "{t}");
        }
    }

    #[test]
    fn id_shapes() {
        assert!(id_shape("ami-760aaa0f", "ami"));
        assert!(id_shape("ami-04681a1dbd79675a5", "ami"));
        assert!(!id_shape("ami-xyz", "ami"));
        assert!(!id_shape("vpc-760aaa0f", "ami"));
        assert!(!id_shape("ami-760AAA0F", "ami"));
    }
}
