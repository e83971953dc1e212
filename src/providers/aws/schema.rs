//! The aws provider's schemas: the provider block, every resource and data source, with
//! Terraform AWS provider attribute names; the defaults of optional+computed arguments;
//! and the planning of optional+computed attributes inside nested blocks.

use std::collections::BTreeMap;

use crate::lang::value::{Type, Value};
use crate::providers::sdk::{attr, computed_only};
use crate::providers::{
    AttributeSchema as A, BlockSchema, NestedBlockSchema, Nesting, ProviderSchema, ResourceSchema,
};

fn s() -> Type {
    Type::String
}
fn n() -> Type {
    Type::Number
}
fn b() -> Type {
    Type::Bool
}
fn smap() -> Type {
    Type::map(Type::String)
}
fn sset() -> Type {
    Type::set(Type::String)
}
fn slist() -> Type {
    Type::list(Type::String)
}

fn nested(nesting: Nesting, min: usize, max: usize, block: BlockSchema) -> NestedBlockSchema {
    NestedBlockSchema {
        nesting,
        min_items: min,
        max_items: max,
        force_new: false,
        block,
    }
}

fn tagged(b: BlockSchema) -> BlockSchema {
    b.attr("tags", A::optional(smap()))
        .attr("tags_all", A::computed(smap()))
}

fn id() -> A {
    A::computed(s())
}

pub fn provider_schema() -> ProviderSchema {
    let provider = BlockSchema::new()
        .attr(
            "region",
            A::optional(s())
                .describe("The AWS region (else AWS_REGION, AWS_DEFAULT_REGION or the profile's)."),
        )
        .attr(
            "profile",
            A::optional(s()).describe("The profile of the shared config and credentials files."),
        )
        .attr("access_key", A::optional(s()).sensitive())
        .attr("secret_key", A::optional(s()).sensitive())
        .attr("token", A::optional(s()).sensitive())
        .attr("s3_use_path_style", A::optional(b()))
        .attr("max_retries", A::optional(n()))
        .attr("skip_credentials_validation", A::optional(b()))
        .attr("skip_requesting_account_id", A::optional(b()))
        .attr("skip_metadata_api_check", A::optional(b()))
        .block(
            "default_tags",
            nested(
                Nesting::List,
                0,
                1,
                BlockSchema::new().attr("tags", A::optional(smap())),
            ),
        )
        .block(
            "endpoints",
            nested(
                Nesting::Set,
                0,
                1,
                BlockSchema::new()
                    .attr("ec2", A::optional(s()))
                    .attr("s3", A::optional(s()))
                    .attr("sts", A::optional(s())),
            ),
        );

    let mut r = BTreeMap::new();
    let add = |m: &mut BTreeMap<String, ResourceSchema>, name: &str, block: BlockSchema| {
        m.insert(name.to_string(), ResourceSchema { version: 0, block });
    };

    // ---- networking
    add(
        &mut r,
        "aws_vpc",
        tagged(
            BlockSchema::new()
                .attr("cidr_block", A::required(s()).force_new())
                .attr("instance_tenancy", A::optional_computed(s()).force_new())
                .attr("enable_dns_support", A::optional_computed(b()))
                .attr("enable_dns_hostnames", A::optional_computed(b()))
                .attr("id", id())
                .attr("arn", A::computed(s()))
                .attr("owner_id", A::computed(s()))
                .attr("default_security_group_id", A::computed(s()))
                .attr("main_route_table_id", A::computed(s())),
        ),
    );
    add(
        &mut r,
        "aws_subnet",
        tagged(
            BlockSchema::new()
                .attr("vpc_id", A::required(s()).force_new())
                .attr("cidr_block", A::required(s()).force_new())
                .attr("availability_zone", A::optional_computed(s()).force_new())
                .attr("map_public_ip_on_launch", A::optional_computed(b()))
                .attr("id", id())
                .attr("arn", A::computed(s()))
                .attr("owner_id", A::computed(s()))
                .attr("availability_zone_id", A::computed(s())),
        ),
    );
    add(
        &mut r,
        "aws_internet_gateway",
        tagged(
            BlockSchema::new()
                .attr("vpc_id", A::optional(s()))
                .attr("id", id())
                .attr("arn", A::computed(s()))
                .attr("owner_id", A::computed(s())),
        ),
    );
    let route = BlockSchema::new()
        .attr("cidr_block", A::optional(s()))
        .attr("ipv6_cidr_block", A::optional(s()))
        .attr("gateway_id", A::optional(s()))
        .attr("nat_gateway_id", A::optional(s()))
        .attr("network_interface_id", A::optional(s()))
        .attr("vpc_peering_connection_id", A::optional(s()))
        .attr("transit_gateway_id", A::optional(s()));
    add(
        &mut r,
        "aws_route_table",
        tagged(
            BlockSchema::new()
                .attr("vpc_id", A::required(s()).force_new())
                .attr("id", id())
                .attr("arn", A::computed(s()))
                .attr("owner_id", A::computed(s()))
                .block("route", nested(Nesting::Set, 0, usize::MAX, route)),
        ),
    );
    add(
        &mut r,
        "aws_route_table_association",
        BlockSchema::new()
            .attr("subnet_id", A::optional(s()).force_new())
            .attr("gateway_id", A::optional(s()).force_new())
            .attr("route_table_id", A::required(s()))
            .attr("id", id()),
    );
    add(
        &mut r,
        "aws_security_group",
        tagged(
            BlockSchema::new()
                .attr("name", A::optional_computed(s()).force_new())
                .attr("name_prefix", A::optional(s()).force_new())
                .attr("description", A::optional_computed(s()).force_new())
                .attr("vpc_id", A::optional_computed(s()).force_new())
                .attr("revoke_rules_on_delete", A::optional_computed(b()))
                .attr("id", id())
                .attr("arn", A::computed(s()))
                .attr("owner_id", A::computed(s())),
        ),
    );
    for dir in ["ingress", "egress"] {
        add(
            &mut r,
            &format!("aws_vpc_security_group_{dir}_rule"),
            tagged(
                BlockSchema::new()
                    .attr("security_group_id", A::required(s()).force_new())
                    .attr("ip_protocol", A::required(s()).force_new())
                    .attr("from_port", A::optional(n()).force_new())
                    .attr("to_port", A::optional(n()).force_new())
                    .attr("cidr_ipv4", A::optional(s()).force_new())
                    .attr("cidr_ipv6", A::optional(s()).force_new())
                    .attr("prefix_list_id", A::optional(s()).force_new())
                    .attr("referenced_security_group_id", A::optional(s()).force_new())
                    .attr("description", A::optional(s()))
                    .attr("id", id())
                    .attr("arn", A::computed(s()))
                    .attr("security_group_rule_id", A::computed(s())),
            ),
        );
    }
    add(
        &mut r,
        "aws_eip",
        tagged(
            BlockSchema::new()
                .attr("domain", A::optional_computed(s()).force_new())
                .attr("instance", A::optional(s()))
                .attr("id", id())
                .attr("allocation_id", A::computed(s()))
                .attr("association_id", A::computed(s()))
                .attr("public_ip", A::computed(s()))
                .attr("private_ip", A::computed(s()))
                .attr("public_dns", A::computed(s()))
                .attr("arn", A::computed(s())),
        ),
    );
    add(
        &mut r,
        "aws_key_pair",
        tagged(
            BlockSchema::new()
                .attr("key_name", A::optional_computed(s()).force_new())
                .attr("public_key", A::required(s()).force_new())
                .attr("id", id())
                .attr("key_pair_id", A::computed(s()))
                .attr("fingerprint", A::computed(s()))
                .attr("arn", A::computed(s())),
        ),
    );

    // ---- compute
    let root = BlockSchema::new()
        .attr("volume_size", A::optional_computed(n()).force_new())
        .attr("volume_type", A::optional_computed(s()).force_new())
        .attr(
            "delete_on_termination",
            A::optional_computed(b()).force_new(),
        )
        .attr("encrypted", A::optional_computed(b()).force_new())
        .attr("iops", A::optional_computed(n()).force_new())
        .attr("device_name", A::computed(s()))
        .attr("volume_id", A::computed(s()));
    let mut rbd = nested(Nesting::List, 0, 1, root);
    rbd.force_new = true;
    add(
        &mut r,
        "aws_instance",
        tagged(
            BlockSchema::new()
                .attr("ami", A::required(s()).force_new())
                .attr("instance_type", A::required(s()))
                .attr("subnet_id", A::optional_computed(s()).force_new())
                .attr("vpc_security_group_ids", A::optional_computed(sset()))
                .attr("key_name", A::optional_computed(s()).force_new())
                .attr("user_data", A::optional(s()).force_new())
                .attr("availability_zone", A::optional_computed(s()).force_new())
                .attr(
                    "associate_public_ip_address",
                    A::optional_computed(b()).force_new(),
                )
                .attr("private_ip", A::optional_computed(s()).force_new())
                .attr("id", id())
                .attr("arn", A::computed(s()))
                .attr("public_ip", A::computed(s()))
                .attr("public_dns", A::computed(s()))
                .attr("private_dns", A::computed(s()))
                .attr("instance_state", A::computed(s()))
                .attr("primary_network_interface_id", A::computed(s()))
                .block("root_block_device", rbd),
        ),
    );
    add(
        &mut r,
        "aws_ebs_volume",
        tagged(
            BlockSchema::new()
                .attr("availability_zone", A::required(s()).force_new())
                .attr("size", A::optional_computed(n()))
                .attr("type", A::optional_computed(s()))
                .attr("iops", A::optional_computed(n()))
                .attr("encrypted", A::optional_computed(b()).force_new())
                .attr("snapshot_id", A::optional_computed(s()).force_new())
                .attr("id", id())
                .attr("arn", A::computed(s())),
        ),
    );
    add(
        &mut r,
        "aws_volume_attachment",
        BlockSchema::new()
            .attr("device_name", A::required(s()).force_new())
            .attr("volume_id", A::required(s()).force_new())
            .attr("instance_id", A::required(s()).force_new())
            .attr("force_detach", A::optional(b()))
            .attr("skip_destroy", A::optional(b()))
            .attr("id", id()),
    );

    // ---- storage
    add(
        &mut r,
        "aws_s3_bucket",
        tagged(
            BlockSchema::new()
                .attr("bucket", A::optional_computed(s()).force_new())
                .attr("bucket_prefix", A::optional(s()).force_new())
                .attr("force_destroy", A::optional_computed(b()))
                .attr("id", id())
                .attr("arn", A::computed(s()))
                .attr("bucket_domain_name", A::computed(s()))
                .attr("bucket_regional_domain_name", A::computed(s()))
                .attr("region", A::computed(s())),
        ),
    );
    add(
        &mut r,
        "aws_s3_bucket_versioning",
        BlockSchema::new()
            .attr("bucket", A::required(s()).force_new())
            .attr("expected_bucket_owner", A::optional(s()).force_new())
            .attr("id", id())
            .block(
                "versioning_configuration",
                nested(
                    Nesting::List,
                    1,
                    1,
                    BlockSchema::new()
                        .attr("status", A::required(s()))
                        .attr("mfa_delete", A::optional_computed(s())),
                ),
            ),
    );
    add(
        &mut r,
        "aws_s3_bucket_policy",
        BlockSchema::new()
            .attr("bucket", A::required(s()).force_new())
            .attr("policy", A::required(s()))
            .attr("id", id()),
    );
    add(
        &mut r,
        "aws_s3_bucket_public_access_block",
        BlockSchema::new()
            .attr("bucket", A::required(s()).force_new())
            .attr("block_public_acls", A::optional_computed(b()))
            .attr("block_public_policy", A::optional_computed(b()))
            .attr("ignore_public_acls", A::optional_computed(b()))
            .attr("restrict_public_buckets", A::optional_computed(b()))
            .attr("id", id()),
    );
    let days = |name: &str| BlockSchema::new().attr(name, A::optional(n()));
    let rule = BlockSchema::new()
        .attr("id", A::required(s()))
        .attr("status", A::required(s()))
        .block(
            "filter",
            nested(
                Nesting::List,
                0,
                1,
                BlockSchema::new().attr("prefix", A::optional(s())),
            ),
        )
        .block("expiration", nested(Nesting::List, 0, 1, days("days")))
        .block(
            "noncurrent_version_expiration",
            nested(Nesting::List, 0, 1, days("noncurrent_days")),
        )
        .block(
            "abort_incomplete_multipart_upload",
            nested(Nesting::List, 0, 1, days("days_after_initiation")),
        );
    add(
        &mut r,
        "aws_s3_bucket_lifecycle_configuration",
        BlockSchema::new()
            .attr("bucket", A::required(s()).force_new())
            .attr("id", id())
            .block("rule", nested(Nesting::List, 1, usize::MAX, rule)),
    );
    add(
        &mut r,
        "aws_s3_object",
        tagged(
            BlockSchema::new()
                .attr("bucket", A::required(s()).force_new())
                .attr("key", A::required(s()).force_new())
                .attr("content", A::optional(s()))
                .attr("content_base64", A::optional(s()))
                .attr("source", A::optional(s()))
                .attr("content_type", A::optional_computed(s()))
                .attr("etag", A::optional_computed(s()))
                .attr("id", id())
                .attr("version_id", A::computed(s())),
        ),
    );

    // ---- data sources
    let mut d = BTreeMap::new();
    let filter = || {
        nested(
            Nesting::Set,
            0,
            usize::MAX,
            BlockSchema::new()
                .attr("name", A::required(s()))
                .attr("values", A::required(sset())),
        )
    };
    add(
        &mut d,
        "aws_ami",
        BlockSchema::new()
            .attr("owners", A::optional(slist()))
            .attr("most_recent", A::optional(b()))
            .attr("name_regex", A::optional(s()))
            .attr("executable_users", A::optional(slist()))
            .attr("id", id())
            .attr("image_id", A::computed(s()))
            .attr("arn", A::computed(s()))
            .attr("name", A::computed(s()))
            .attr("description", A::computed(s()))
            .attr("architecture", A::computed(s()))
            .attr("creation_date", A::computed(s()))
            .attr("owner_id", A::computed(s()))
            .attr("platform", A::computed(s()))
            .attr("root_device_name", A::computed(s()))
            .attr("root_device_type", A::computed(s()))
            .attr("virtualization_type", A::computed(s()))
            .attr("state", A::computed(s()))
            .attr("tags", A::computed(smap()))
            .block("filter", filter()),
    );
    add(
        &mut d,
        "aws_availability_zones",
        BlockSchema::new()
            .attr("state", A::optional(s()))
            .attr("all_availability_zones", A::optional(b()))
            .attr("exclude_names", A::optional(sset()))
            .attr("id", id())
            .attr("names", A::computed(slist()))
            .attr("zone_ids", A::computed(slist()))
            .block("filter", filter()),
    );
    add(
        &mut d,
        "aws_vpc",
        BlockSchema::new()
            .attr("id", A::optional_computed(s()))
            .attr("default", A::optional_computed(b()))
            .attr("cidr_block", A::optional_computed(s()))
            .attr("state", A::optional_computed(s()))
            .attr("tags", A::optional_computed(smap()))
            .attr("arn", A::computed(s()))
            .attr("owner_id", A::computed(s()))
            .attr("instance_tenancy", A::computed(s()))
            .attr("main_route_table_id", A::computed(s()))
            .attr("dhcp_options_id", A::computed(s()))
            .block("filter", filter()),
    );
    add(
        &mut d,
        "aws_subnets",
        BlockSchema::new()
            .attr("tags", A::optional(smap()))
            .attr("id", id())
            .attr("ids", A::computed(slist()))
            .block("filter", filter()),
    );
    add(
        &mut d,
        "aws_caller_identity",
        BlockSchema::new()
            .attr("id", id())
            .attr("account_id", A::computed(s()))
            .attr("arn", A::computed(s()))
            .attr("user_id", A::computed(s())),
    );

    ProviderSchema {
        provider,
        resources: r,
        data_sources: d,
    }
}

/// Defaults of optional+computed arguments the user left unset, where the provider
/// knows them before creating the object (as Terraform's AWS provider plans them).
pub fn defaults(type_name: &str) -> Vec<(&'static str, Value)> {
    match type_name {
        "aws_vpc" => vec![
            ("instance_tenancy", "default".into()),
            ("enable_dns_support", true.into()),
            ("enable_dns_hostnames", false.into()),
        ],
        "aws_subnet" => vec![("map_public_ip_on_launch", false.into())],
        "aws_security_group" => vec![
            ("description", "Managed by Terraform".into()),
            ("revoke_rules_on_delete", false.into()),
        ],
        "aws_eip" => vec![("domain", "vpc".into())],
        "aws_s3_bucket" => vec![("force_destroy", false.into())],
        "aws_s3_bucket_public_access_block" => {
            vec![
                ("block_public_acls", false.into()),
                ("block_public_policy", false.into()),
                ("ignore_public_acls", false.into()),
                ("restrict_public_buckets", false.into()),
            ]
        }
        _ => Vec::new(),
    }
}

/// Nested blocks in the configuration: an optional+computed or computed attribute left
/// null takes the prior block's value (same position), else unknown; a single-item block
/// with computed attributes that the configuration omits takes the prior block (it is
/// optional and computed, like `root_block_device`). So an unchanged block plans as no
/// change, before force-new comparison.
pub fn fill_nested_computed(block: &BlockSchema, config: &Value, prior: Option<&Value>) -> Value {
    let Some(cfg) = config.as_map() else {
        return config.clone();
    };
    let mut cfg = cfg.clone();
    for (name, nb) in &block.blocks {
        if !nb.block.attributes.values().any(|a| a.computed) {
            continue;
        }
        let cur = cfg.get(name).cloned().unwrap_or(Value::List(Vec::new()));
        let prior_items: Vec<Value> = prior
            .map(|p| attr(p, name))
            .and_then(|v| v.as_seq().map(|s| s.to_vec()))
            .unwrap_or_default();
        let cur_items: Vec<Value> = match &cur {
            Value::List(items) | Value::Tuple(items) => items.clone(),
            Value::Null(_) => Vec::new(),
            _ => continue,
        };
        if cur_items.is_empty() && nb.max_items == 1 {
            if !prior_items.is_empty() {
                cfg.insert(name.clone(), Value::List(prior_items));
            }
            continue;
        }
        let fill = |i: usize, item: &Value| -> Value {
            let Some(m) = item.as_map() else {
                return item.clone();
            };
            let mut m = m.clone();
            for (an, a) in &nb.block.attributes {
                if !a.computed {
                    continue;
                }
                let unset = m.get(an).map(|v| v.is_null()).unwrap_or(true);
                if unset || computed_only(a) {
                    let pv = prior_items.get(i).map(|p| attr(p, an).clone());
                    m.insert(an.clone(), pv.unwrap_or(Value::Unknown(a.ty.clone())));
                }
            }
            Value::Object(m)
        };
        cfg.insert(
            name.clone(),
            Value::List(
                cur_items
                    .iter()
                    .enumerate()
                    .map(|(i, x)| fill(i, x))
                    .collect(),
            ),
        );
    }
    Value::Object(cfg)
}
