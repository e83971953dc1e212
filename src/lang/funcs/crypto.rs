//! Hash and crypto functions: base64sha256, base64sha512, bcrypt, filebase64sha256,
//! filebase64sha512, filemd5, filesha1, filesha256, filesha512, md5, rsadecrypt, sha1,
//! sha256, sha512, uuid, uuidv5.
//!
//! `uuid`, `bcrypt` (and `timestamp`) are impure: the dispatcher makes them unknown
//! during plan when `FuncCtx::impure_unknown` is set. `rsadecrypt` validates its
//! ciphertext and then reports that it is not supported (no RSA crate is available).

use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256, Sha512};

use super::filesystem::read_file;
use super::{int_arg, str_arg, FResult, FuncCtx, FuncError};
use crate::lang::value::Value;

fn b64(b: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(b))
}

fn hexv(b: &[u8]) -> Value {
    Value::String(hex::encode(b))
}

pub(super) fn call(name: &str, a: &[Value], ctx: &FuncCtx) -> Option<FResult> {
    let s = || str_arg(a, 0);
    // Terraform's file hash functions return the open error as is: a plain call error
    // (unlike `file`, which blames the argument).
    let f =
        || str_arg(a, 0).and_then(|p| read_file(&p, ctx).map_err(|e| FuncError::new(e.message)));
    Some(match name {
        "md5" => s().map(|s| hexv(&Md5::digest(s.as_bytes()))),
        "sha1" => s().map(|s| hexv(&Sha1::digest(s.as_bytes()))),
        "sha256" => s().map(|s| hexv(&Sha256::digest(s.as_bytes()))),
        "sha512" => s().map(|s| hexv(&Sha512::digest(s.as_bytes()))),
        "base64sha256" => s().map(|s| b64(&Sha256::digest(s.as_bytes()))),
        "base64sha512" => s().map(|s| b64(&Sha512::digest(s.as_bytes()))),
        "filemd5" => f().map(|b| hexv(&Md5::digest(&b))),
        "filesha1" => f().map(|b| hexv(&Sha1::digest(&b))),
        "filesha256" => f().map(|b| hexv(&Sha256::digest(&b))),
        "filesha512" => f().map(|b| hexv(&Sha512::digest(&b))),
        "filebase64sha256" => f().map(|b| b64(&Sha256::digest(&b))),
        "filebase64sha512" => f().map(|b| b64(&Sha512::digest(&b))),
        "bcrypt" => bcrypt_fn(a),
        "uuid" => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
        "uuidv5" => uuidv5(a),
        "rsadecrypt" => rsadecrypt(a),
        _ => return None,
    })
}

fn bcrypt_fn(a: &[Value]) -> FResult {
    if a.len() > 2 {
        return Err(FuncError::new(format!(
            "bcrypt() takes no more than two arguments, got {}",
            a.len()
        )));
    }
    let s = str_arg(a, 0)?;
    let mut cost = 10i64;
    if a.len() > 1 {
        cost = int_arg(a, 1).map_err(|e| FuncError::new(format!("invalid cost: {}", e.message)))?;
    }
    // Go's bcrypt uses the default cost for anything below the minimum.
    if cost < 4 {
        cost = 10;
    }
    if cost > 31 {
        return Err(FuncError::new(format!("error occured generating password crypto/bcrypt: cost {cost} is outside allowed range (4,31)")));
    }
    let h = bcrypt::hash_with_result(s.as_bytes(), cost as u32)
        .map_err(|e| FuncError::new(format!("error occured generating password {e}")))?;
    Ok(Value::String(h.format_for_version(bcrypt::Version::TwoA)))
}

fn uuidv5(a: &[Value]) -> FResult {
    let ns = str_arg(a, 0)?;
    let name = str_arg(a, 1)?;
    let space = match ns.as_str() {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            let why = match other.len() {
                36 | 38 | 32 | 45 => "invalid UUID format".to_string(),
                n => format!("invalid UUID length: {n}"),
            };
            FuncError::new(format!(
                "uuidv5() doesn't support namespace {other} ({why})"
            ))
        })?,
    };
    Ok(Value::String(
        uuid::Uuid::new_v5(&space, name.as_bytes()).to_string(),
    ))
}

/// Terraform's `rsadecrypt`: RSA PKCS #1 v1.5 decryption of base64 ciphertext with a
/// PEM private key (PKCS #1 `RSA PRIVATE KEY` or PKCS #8 `PRIVATE KEY`).
///
/// NOTE: the modular exponentiation is not constant-time; the function runs on the
/// operator's own machine over data the configuration already holds.
fn rsadecrypt(a: &[Value]) -> FResult {
    let s = str_arg(a, 0)?;
    let key = str_arg(a, 1)?;
    let ct = base64::engine::general_purpose::STANDARD
        .decode(s.as_bytes())
        .map_err(|_| {
            FuncError::arg(
                0,
                format!("failed to decode input {s:?}: cipher text must be base64-encoded"),
            )
        })?;
    let (n, d) = rsa_private_key(&key).ok_or_else(|| {
        FuncError::arg(
            1,
            "failed to parse key: no key found or unsupported key format",
        )
    })?;
    let k = n.to_bytes_be().len();
    let c = num_bigint::BigUint::from_bytes_be(&ct);
    if ct.len() > k || c >= n {
        return Err(FuncError::new(
            "failed to decrypt: crypto/rsa: decryption error",
        ));
    }
    let m = c.modpow(&d, &n).to_bytes_be();
    // EM = 0x00 || 0x02 || PS (at least 8 non-zero bytes) || 0x00 || M
    let mut em = vec![0u8; k - m.len()];
    em.extend_from_slice(&m);
    let sep = em.iter().skip(2).position(|b| *b == 0).map(|p| p + 2);
    match sep {
        Some(i) if em[0] == 0 && em[1] == 2 && i >= 10 => String::from_utf8(em[i + 1..].to_vec())
            .map(Value::String)
            .map_err(|_| FuncError::new("the decrypted text is not valid UTF-8")),
        _ => Err(FuncError::new(
            "failed to decrypt: crypto/rsa: decryption error",
        )),
    }
}

/// The modulus and private exponent of a PEM RSA private key.
fn rsa_private_key(pem: &str) -> Option<(num_bigint::BigUint, num_bigint::BigUint)> {
    let (label, der) = pem_block(pem)?;
    let der = match label.as_str() {
        "RSA PRIVATE KEY" => der,
        // PrivateKeyInfo: SEQUENCE { version, AlgorithmIdentifier, OCTET STRING key }
        "PRIVATE KEY" => {
            let (body, _) = der_item(&der, 0x30)?;
            let (_, rest) = der_item(body, 0x02)?;
            let (_, rest) = der_item(rest, 0x30)?;
            let (key, _) = der_item(rest, 0x04)?;
            key.to_vec()
        }
        _ => return None,
    };
    // RSAPrivateKey: SEQUENCE { version, n, e, d, ... }
    let (body, _) = der_item(&der, 0x30)?;
    let (_, rest) = der_item(body, 0x02)?;
    let (n, rest) = der_item(rest, 0x02)?;
    let (_, rest) = der_item(rest, 0x02)?;
    let (d, _) = der_item(rest, 0x02)?;
    Some((
        num_bigint::BigUint::from_bytes_be(n),
        num_bigint::BigUint::from_bytes_be(d),
    ))
}

/// The first PEM block: its label and decoded bytes.
fn pem_block(pem: &str) -> Option<(String, Vec<u8>)> {
    let start = pem.find("-----BEGIN ")?;
    let rest = &pem[start + 11..];
    let label_end = rest.find("-----")?;
    let label = rest[..label_end].to_string();
    let body = &rest[label_end + 5..];
    let end = body.find(&format!("-----END {label}-----"))?;
    let b64: String = body[..end]
        .lines()
        .filter(|l| !l.contains(':'))
        .flat_map(|l| l.trim().chars())
        .collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(b64.as_bytes())
        .ok()?;
    Some((label, der))
}

/// One DER item with tag `tag` at the start of `b`: its contents and what follows.
fn der_item(b: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    if *b.first()? != tag {
        return None;
    }
    let first = *b.get(1)? as usize;
    let (len, hdr) = if first < 0x80 {
        (first, 2)
    } else {
        let n = first & 0x7f;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *b.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    let end = hdr.checked_add(len)?;
    Some((b.get(hdr..end)?, b.get(end..)?))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{check_in, E};

    #[test]
    fn crypto() {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("hello.txt"), b"hello\n").expect("write");
        check_in(
            dir.path(),
            &[
                ("filemd5(\"hello.txt\")", "\"b1946ac92492d2347c6235b4d2611184\""),
                ("filesha1(\"hello.txt\")", "\"f572d396fae9206628714fb2ce00f72e94f2258f\""),
                ("filesha256(\"hello.txt\")", "\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\""),
                (
                    "filesha512(\"hello.txt\")",
                    "\"e7c22b994c59d9cf2b48e549b1e24666636045930d3da7c1acb299d1c3b7f931f94aae41edda2c2b207a36e10f8bcb8d45223e54878f5b316e7ce3b6bc019629\"",
                ),
                ("filebase64sha256(\"hello.txt\")", "\"WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM=\""),
                ("filebase64sha512(\"hello.txt\")", "\"58IrmUxZ2c8rSOVJseJGZmNgRZMNPafBrLKZ0cO3+TH5Sq5B7dosKyB6NuEPi8uNRSI+VIePWzFufOO2vAGWKQ==\""),
                ("filemd5(\"nope\")", "!no file exists at nope"),
                ("filesha1(\"nope\")", E),
                ("filesha256(\"nope\")", E),
                ("filesha512(\"nope\")", E),
                ("filebase64sha256(\"nope\")", E),
                ("filebase64sha512(\"nope\")", E),
                ("md5(\"hello\")", "\"5d41402abc4b2a76b9719d911017c592\""),
                ("md5([])", E),
                ("sha1(\"hello\")", "\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\""),
                ("sha1([])", E),
                ("sha256(\"hello\")", "\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\""),
                ("sha256([])", E),
                (
                    "sha512(\"\")",
                    "\"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e\"",
                ),
                ("sha512([])", E),
                ("base64sha256(\"hello\")", "\"LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=\""),
                ("base64sha256([])", E),
                ("base64sha512(\"hello\")", "\"m3HSJL1i83hdltRq0+o9czGb+8KJDKra4t/3JRlnPKcjI8PZm6XBHXx6zG4UuMXaDEZjR1wuXDre9G9zvN7AQw==\""),
                ("base64sha512([])", E),
                ("uuidv5(\"dns\", \"www.terraform.io\")", "\"a5008fae-b28c-5ba5-96cd-82b4c53552d6\""),
                ("uuidv5(\"url\", \"https://www.terraform.io/\")", "\"9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5\""),
                ("uuidv5(\"oid\", \"x\")", "\"8558d34a-d3c6-5881-a6e3-bf8f3e6110ea\""),
                ("uuidv5(\"x500\", \"x\")", "\"456e503f-63e3-56c1-b807-4cd79bf8cc22\""),
                ("uuidv5(\"6ba7b810-9dad-11d1-80b4-00c04fd430c8\", \"x\")", "\"05b16a01-46c6-56dd-bd6e-c6dfb4a1427a\""),
                ("uuidv5(\"nope\", \"x\")", "!uuidv5() doesn't support namespace nope (invalid UUID length: 4)"),
                ("length(uuid())", "36"),
                ("length(bcrypt(\"x\", 4))", "60"),
                ("substr(bcrypt(\"x\", 3), 0, 7)", "\"$2a$10$\""),
                ("bcrypt(\"x\", 32)", "!cost 32 is outside allowed range (4,31)"),
                ("rsadecrypt(\"!!\", \"x\")", "!cipher text must be base64-encoded"),
                ("rsadecrypt(\"eA==\", \"x\")", E),
            ],
        );
    }
}
