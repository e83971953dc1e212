//! The aws data sources: `aws_ami` (filters, owners, name_regex, most_recent),
//! `aws_availability_zones`, `aws_vpc`, `aws_subnets` and `aws_caller_identity`.

use aws_sdk_ec2::types::Filter;

use super::ec2_net::{ec2_tags, filter};
use super::{aws_diag, os, strings, with, Clients};
use crate::lang::value::Value;
use crate::providers::sdk::{attr, get_bool, get_str};
use crate::providers::{attr_path, ProviderDiag};

/// The `filter` blocks of a data source as EC2 filters.
fn filters(config: &Value) -> Vec<Filter> {
    attr(config, "filter")
        .as_seq()
        .unwrap_or_default()
        .iter()
        .filter_map(|f| {
            Some(
                Filter::builder()
                    .name(get_str(f, "name")?)
                    .set_values(Some(strings(attr(f, "values"))))
                    .build(),
            )
        })
        .collect()
}

/// `tags = {...}` as `tag:KEY` filters.
fn tag_filters(config: &Value) -> Vec<Filter> {
    attr(config, "tags")
        .as_map()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some(filter(&format!("tag:{k}"), &[v.as_str()?])))
                .collect()
        })
        .unwrap_or_default()
}

fn tags_map(tags: Vec<(String, String)>) -> Value {
    Value::Map(
        tags.into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect(),
    )
}

pub async fn read(c: &Clients, t: &str, config: &Value) -> Result<Value, ProviderDiag> {
    match t {
        "aws_ami" => ami(c, config).await,
        "aws_availability_zones" => {
            let mut req = c
                .ec2
                .describe_availability_zones()
                .set_filters(Some(filters(config)));
            if get_bool(config, "all_availability_zones") == Some(true) {
                req = req.all_availability_zones(true);
            }
            if let Some(s) = get_str(config, "state") {
                req = req.filters(filter("state", &[s]));
            }
            let r = req
                .send()
                .await
                .map_err(|e| aws_diag("DescribeAvailabilityZones", &e))?;
            let exclude = strings(attr(config, "exclude_names"));
            let mut zones: Vec<(String, String)> = r
                .availability_zones()
                .iter()
                .filter_map(|z| {
                    Some((
                        z.zone_name()?.to_string(),
                        z.zone_id().unwrap_or_default().to_string(),
                    ))
                })
                .filter(|(n, _)| !exclude.contains(n))
                .collect();
            zones.sort();
            Ok(with(
                config,
                vec![
                    ("id", c.region.as_str().into()),
                    (
                        "names",
                        Value::List(zones.iter().map(|(n, _)| Value::from(n.as_str())).collect()),
                    ),
                    (
                        "zone_ids",
                        Value::List(zones.iter().map(|(_, i)| Value::from(i.as_str())).collect()),
                    ),
                ],
            ))
        }
        "aws_vpc" => {
            let mut req = c.ec2.describe_vpcs().set_filters(Some(filters(config)));
            for f in tag_filters(config) {
                req = req.filters(f);
            }
            if let Some(id) = get_str(config, "id") {
                req = req.vpc_ids(id);
            }
            if let Some(d) = get_bool(config, "default") {
                req = req.filters(filter("is-default", &[if d { "true" } else { "false" }]));
            }
            if let Some(cidr) = get_str(config, "cidr_block") {
                req = req.filters(filter("cidr", &[cidr]));
            }
            if let Some(s) = get_str(config, "state") {
                req = req.filters(filter("state", &[s]));
            }
            let r = req.send().await.map_err(|e| aws_diag("DescribeVpcs", &e))?;
            let vpcs = r.vpcs();
            if vpcs.len() != 1 {
                return Err(ProviderDiag::error(
                    if vpcs.is_empty() { "no matching EC2 VPC found" } else { "multiple EC2 VPCs matched" },
                    format!("The aws_vpc data source must match exactly one VPC; {} matched. Use more specific search criteria.", vpcs.len()),
                ));
            }
            let v = &vpcs[0];
            let id = v.vpc_id().unwrap_or_default();
            let main_rt = c
                .ec2
                .describe_route_tables()
                .filters(filter("vpc-id", &[id]))
                .filters(filter("association.main", &["true"]))
                .send()
                .await
                .map_err(|e| aws_diag("DescribeRouteTables", &e))?
                .route_tables()
                .first()
                .and_then(|t| t.route_table_id().map(String::from));
            let owner = v.owner_id().unwrap_or_default();
            Ok(with(
                config,
                vec![
                    ("id", id.into()),
                    ("default", Value::Bool(v.is_default().unwrap_or(false))),
                    ("cidr_block", os(v.cidr_block())),
                    ("state", os(v.state().map(|s| s.as_str()))),
                    ("tags", tags_map(ec2_tags(v.tags()))),
                    (
                        "arn",
                        format!("arn:aws:ec2:{}:{owner}:vpc/{id}", c.region).into(),
                    ),
                    ("owner_id", os(v.owner_id())),
                    (
                        "instance_tenancy",
                        os(v.instance_tenancy().map(|t| t.as_str())),
                    ),
                    ("main_route_table_id", os(main_rt.as_deref())),
                    ("dhcp_options_id", os(v.dhcp_options_id())),
                ],
            ))
        }
        "aws_subnets" => {
            let mut req = c.ec2.describe_subnets().set_filters(Some(filters(config)));
            for f in tag_filters(config) {
                req = req.filters(f);
            }
            let r = req
                .send()
                .await
                .map_err(|e| aws_diag("DescribeSubnets", &e))?;
            let ids: Vec<Value> = r
                .subnets()
                .iter()
                .filter_map(|s| s.subnet_id())
                .map(Value::from)
                .collect();
            Ok(with(
                config,
                vec![("id", c.region.as_str().into()), ("ids", Value::List(ids))],
            ))
        }
        "aws_caller_identity" => {
            let r = c
                .sts
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| aws_diag("GetCallerIdentity", &e))?;
            Ok(with(
                config,
                vec![
                    ("id", os(r.account())),
                    ("account_id", os(r.account())),
                    ("arn", os(r.arn())),
                    ("user_id", os(r.user_id())),
                ],
            ))
        }
        _ => Err(ProviderDiag::error(
            "Unsupported data source",
            format!("The aws provider has no data source {t:?}."),
        )),
    }
}

async fn ami(c: &Clients, config: &Value) -> Result<Value, ProviderDiag> {
    let owners = strings(attr(config, "owners"));
    let users = strings(attr(config, "executable_users"));
    let fs = filters(config);
    if owners.is_empty() && users.is_empty() && fs.is_empty() {
        return Err(ProviderDiag::error("Missing search criteria", "The aws_ami data source needs at least one of owners, executable_users or a filter block; searching every public image is too broad.")
            .at(attr_path(&["owners"])));
    }
    let r = c
        .ec2
        .describe_images()
        .set_owners(if owners.is_empty() {
            None
        } else {
            Some(owners)
        })
        .set_executable_users(if users.is_empty() { None } else { Some(users) })
        .set_filters(if fs.is_empty() { None } else { Some(fs) })
        .send()
        .await
        .map_err(|e| aws_diag("DescribeImages", &e))?;
    let re = match get_str(config, "name_regex") {
        Some(p) => Some(regex::Regex::new(p).map_err(|e| {
            ProviderDiag::error("Invalid name_regex", e.to_string()).at(attr_path(&["name_regex"]))
        })?),
        None => None,
    };
    let mut images: Vec<_> = r
        .images()
        .iter()
        .filter(|i| {
            re.as_ref()
                .map(|re| i.name().map(|n| re.is_match(n)).unwrap_or(false))
                .unwrap_or(true)
        })
        .collect();
    if images.is_empty() {
        return Err(ProviderDiag::error("Your query returned no results", "No AMI matches the owners, filters and name_regex of this aws_ami data source. Please change your search criteria and try again."));
    }
    if images.len() > 1 && get_bool(config, "most_recent") != Some(true) {
        return Err(ProviderDiag::error(
            "Your query returned more than one result",
            format!("{} AMIs match this aws_ami data source. Please try a more specific search criteria, or set `most_recent` attribute to true.", images.len()),
        )
        .at(attr_path(&["most_recent"])));
    }
    // ISO 8601 creation dates sort as strings.
    images.sort_by(|a, b| {
        b.creation_date()
            .unwrap_or_default()
            .cmp(a.creation_date().unwrap_or_default())
    });
    let i = images[0];
    let id = i.image_id().unwrap_or_default();
    Ok(with(
        config,
        vec![
            ("id", id.into()),
            ("image_id", id.into()),
            (
                "arn",
                format!("arn:aws:ec2:{}::image/{id}", c.region).into(),
            ),
            ("name", os(i.name())),
            ("description", os(i.description())),
            ("architecture", os(i.architecture().map(|a| a.as_str()))),
            ("creation_date", os(i.creation_date())),
            ("owner_id", os(i.owner_id())),
            ("platform", os(i.platform().map(|p| p.as_str()))),
            ("root_device_name", os(i.root_device_name())),
            (
                "root_device_type",
                os(i.root_device_type().map(|p| p.as_str())),
            ),
            (
                "virtualization_type",
                os(i.virtualization_type().map(|p| p.as_str())),
            ),
            ("state", os(i.state().map(|p| p.as_str()))),
            ("tags", tags_map(ec2_tags(i.tags()))),
            (
                "most_recent",
                Value::Bool(get_bool(config, "most_recent").unwrap_or(false)),
            ),
        ],
    ))
}
