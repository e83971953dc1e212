//! EC2 networking resources: `aws_vpc`, `aws_subnet`, `aws_internet_gateway`,
//! `aws_route_table`, `aws_route_table_association`, `aws_security_group`,
//! `aws_vpc_security_group_ingress_rule`, `aws_vpc_security_group_egress_rule`,
//! `aws_eip` and `aws_key_pair`; plus the EC2 side of `recover` (finding an object by its
//! `terrane:token` tag with one `DescribeTags` call) and the EC2 helpers that
//! `ec2_compute` shares (tag specifications, tag updates, reads after create, deletes
//! retried while dependencies drain).

use std::time::Duration;

use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, IpPermission, IpRange, Ipv6Range, PrefixListId, ResourceType,
    Tag, TagSpecification, UserIdGroupPair,
};

use super::{
    aws_diag, err_code, is_not_found, os, req_str, tag_diff, tag_values, wait_for, with, Clients,
    CreateResult,
};
use crate::lang::value::{Type, Value};
use crate::providers::sdk::{attr, get_bool, get_i64, get_str};
use crate::providers::{ObjectIdentity, ProviderDiag};

pub fn handles(t: &str) -> bool {
    matches!(
        t,
        "aws_vpc"
            | "aws_subnet"
            | "aws_internet_gateway"
            | "aws_route_table"
            | "aws_route_table_association"
            | "aws_security_group"
            | "aws_vpc_security_group_ingress_rule"
            | "aws_vpc_security_group_egress_rule"
            | "aws_eip"
            | "aws_key_pair"
    )
}

// ---------------------------------------------------------------------------------------
// Shared EC2 helpers

pub(crate) fn tag_spec(rt: ResourceType, tags: &[(String, String)]) -> TagSpecification {
    TagSpecification::builder()
        .resource_type(rt)
        .set_tags(Some(
            tags.iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build())
                .collect(),
        ))
        .build()
}

pub(crate) fn ec2_tags(tags: &[Tag]) -> Vec<(String, String)> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

pub(crate) fn filter(name: &str, values: &[&str]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|s| s.to_string()).collect()))
        .build()
}

fn bool_attr(b: bool) -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(b).build()
}

/// Applies a `tags_all` change to an EC2 resource.
pub(crate) async fn update_tags(
    c: &Clients,
    resource_id: &str,
    prior: &Value,
    planned: &Value,
) -> Result<(), ProviderDiag> {
    let (set, remove) = tag_diff(prior, planned);
    if !remove.is_empty() {
        let tags: Vec<Tag> = remove
            .iter()
            .map(|k| Tag::builder().key(k).build())
            .collect();
        c.ec2
            .delete_tags()
            .resources(resource_id)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws_diag("DeleteTags", &e))?;
    }
    if !set.is_empty() {
        let tags: Vec<Tag> = set
            .iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect();
        c.ec2
            .create_tags()
            .resources(resource_id)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(|e| aws_diag("CreateTags", &e))?;
    }
    Ok(())
}

/// Reads a just-created object, waiting out EC2's eventual consistency (a describe right
/// after a create may not see the object yet).
pub(crate) async fn read_created<F, Fut>(
    c: &Clients,
    what: &str,
    id: &str,
    partial: Value,
    read: F,
) -> CreateResult
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<Option<Value>, ProviderDiag>>,
{
    wait_for(
        c,
        &format!("{what} {id} to be visible"),
        Duration::from_secs(120),
        || async { read().await },
    )
    .await
    .map_err(|d| (Some(partial), d))
}

/// Runs a delete, retrying while AWS answers `DependencyViolation` (dependents such as
/// network interfaces of terminated instances take a while to go); not-found is success.
pub(crate) async fn delete_retrying<F, Fut, E>(
    c: &Clients,
    op: &str,
    what: &str,
    f: F,
) -> Result<(), ProviderDiag>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
{
    wait_for(
        c,
        &format!("{what} to be deleted"),
        Duration::from_secs(600),
        || async {
            match f().await {
                Ok(()) => Ok(Some(())),
                Err(e) if is_not_found(err_code(&e)) => Ok(Some(())),
                Err(e)
                    if matches!(
                        err_code(&e),
                        Some(
                            "DependencyViolation" | "InvalidGroup.InUse" | "InvalidIPAddress.InUse"
                        )
                    ) =>
                {
                    Ok(None)
                }
                Err(e) => Err(aws_diag(op, &e)),
            }
        },
    )
    .await
}

/// The id of the object a create with this identity made, found by its token tag.
pub async fn recover_id(
    c: &Clients,
    type_name: &str,
    identity: &ObjectIdentity,
) -> Result<Option<String>, ProviderDiag> {
    let prefix = match type_name {
        "aws_vpc" => "vpc-",
        "aws_subnet" => "subnet-",
        "aws_internet_gateway" => "igw-",
        "aws_route_table" => "rtb-",
        "aws_security_group" => "sg-",
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => "sgr-",
        "aws_eip" => "eipalloc-",
        "aws_key_pair" => "key-",
        "aws_instance" => "i-",
        "aws_ebs_volume" => "vol-",
        // Not taggable: their creates are repeatable, so there is nothing to find.
        _ => return Ok(None),
    };
    let resp = c
        .ec2
        .describe_tags()
        .filters(filter("key", &[super::TAG_TOKEN]))
        .filters(filter("value", &[identity.token.as_str()]))
        .send()
        .await
        .map_err(|e| aws_diag("DescribeTags", &e))?;
    let Some(rid) = resp
        .tags()
        .iter()
        .filter_map(|t| t.resource_id())
        .find(|r| r.starts_with(prefix))
        .map(String::from)
    else {
        return Ok(None);
    };
    if type_name == "aws_instance" {
        // A terminated instance keeps its tags for a while; it is not the object.
        let r = super::ec2_compute::read_instance_state(c, &rid).await?;
        if r.as_deref()
            .map(|s| s == "terminated" || s == "shutting-down")
            .unwrap_or(true)
        {
            return Ok(None);
        }
    }
    if type_name == "aws_key_pair" {
        let r = c.ec2.describe_key_pairs().key_pair_ids(&rid).send().await;
        return match r {
            Ok(r) => Ok(r
                .key_pairs()
                .first()
                .and_then(|k| k.key_name())
                .map(String::from)),
            Err(e) if is_not_found(err_code(&e)) => Ok(None),
            Err(e) => Err(aws_diag("DescribeKeyPairs", &e)),
        };
    }
    Ok(Some(rid))
}

/// Runs an EC2 describe; a not-found error is `Ok(None)`.
macro_rules! describe {
    ($op:literal, $call:expr) => {
        match $call.await {
            Ok(r) => Some(r),
            Err(e) if is_not_found(err_code(&e)) => None,
            Err(e) => return Err(aws_diag($op, &e)),
        }
    };
}
pub(crate) use describe;

// ---------------------------------------------------------------------------------------
// Dispatch

pub async fn read(c: &Clients, t: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(id) = get_str(prior, "id") else {
        return Ok(None);
    };
    match t {
        "aws_vpc" => read_vpc(c, id, prior).await,
        "aws_subnet" => read_subnet(c, id, prior).await,
        "aws_internet_gateway" => read_igw(c, id, prior).await,
        "aws_route_table" => read_route_table(c, id, prior).await,
        "aws_route_table_association" => read_rta(c, id, prior).await,
        "aws_security_group" => read_sg(c, id, prior).await,
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
            read_rule(c, id, prior).await
        }
        "aws_eip" => read_eip(c, id, prior).await,
        "aws_key_pair" => read_key_pair(c, id, prior).await,
        _ => Err(crate::providers::sdk::unsupported_resource(t)),
    }
}

pub async fn create(c: &Clients, t: &str, planned: &Value, ident: &ObjectIdentity) -> CreateResult {
    let tags = super::create_tags(planned, ident);
    let e = |d: ProviderDiag| (None, d);
    match t {
        "aws_vpc" => {
            let r = c
                .ec2
                .create_vpc()
                .cidr_block(req_str(planned, "cidr_block").map_err(e)?)
                .set_instance_tenancy(get_str(planned, "instance_tenancy").map(Into::into))
                .tag_specifications(tag_spec(ResourceType::Vpc, &tags))
                .send()
                .await
                .map_err(|x| (None, aws_diag("CreateVpc", &x)))?;
            let id = r
                .vpc()
                .and_then(|v| v.vpc_id())
                .unwrap_or_default()
                .to_string();
            let partial = with(planned, vec![("id", id.as_str().into())]);
            let p = |d| (Some(partial.clone()), d);
            // New VPCs have DNS support on and DNS hostnames off.
            if get_bool(planned, "enable_dns_support") == Some(false) {
                c.ec2
                    .modify_vpc_attribute()
                    .vpc_id(&id)
                    .enable_dns_support(bool_attr(false))
                    .send()
                    .await
                    .map_err(|x| p(aws_diag("ModifyVpcAttribute", &x)))?;
            }
            if get_bool(planned, "enable_dns_hostnames") == Some(true) {
                c.ec2
                    .modify_vpc_attribute()
                    .vpc_id(&id)
                    .enable_dns_hostnames(bool_attr(true))
                    .send()
                    .await
                    .map_err(|x| p(aws_diag("ModifyVpcAttribute", &x)))?;
            }
            read_created(c, "VPC", &id, partial.clone(), || read_vpc(c, &id, planned)).await
        }
        "aws_subnet" => {
            let r = c
                .ec2
                .create_subnet()
                .vpc_id(req_str(planned, "vpc_id").map_err(e)?)
                .cidr_block(req_str(planned, "cidr_block").map_err(e)?)
                .set_availability_zone(get_str(planned, "availability_zone").map(String::from))
                .tag_specifications(tag_spec(ResourceType::Subnet, &tags))
                .send()
                .await
                .map_err(|x| (None, aws_diag("CreateSubnet", &x)))?;
            let id = r
                .subnet()
                .and_then(|v| v.subnet_id())
                .unwrap_or_default()
                .to_string();
            let partial = with(planned, vec![("id", id.as_str().into())]);
            if get_bool(planned, "map_public_ip_on_launch") == Some(true) {
                c.ec2
                    .modify_subnet_attribute()
                    .subnet_id(&id)
                    .map_public_ip_on_launch(bool_attr(true))
                    .send()
                    .await
                    .map_err(|x| (Some(partial.clone()), aws_diag("ModifySubnetAttribute", &x)))?;
            }
            read_created(c, "subnet", &id, partial.clone(), || {
                read_subnet(c, &id, planned)
            })
            .await
        }
        "aws_internet_gateway" => {
            let r = c
                .ec2
                .create_internet_gateway()
                .tag_specifications(tag_spec(ResourceType::InternetGateway, &tags))
                .send()
                .await
                .map_err(|x| (None, aws_diag("CreateInternetGateway", &x)))?;
            let id = r
                .internet_gateway()
                .and_then(|v| v.internet_gateway_id())
                .unwrap_or_default()
                .to_string();
            let partial = with(
                planned,
                vec![
                    ("id", id.as_str().into()),
                    ("vpc_id", Value::Null(Type::String)),
                ],
            );
            if let Some(vpc) = get_str(planned, "vpc_id") {
                c.ec2
                    .attach_internet_gateway()
                    .internet_gateway_id(&id)
                    .vpc_id(vpc)
                    .send()
                    .await
                    .map_err(|x| (Some(partial.clone()), aws_diag("AttachInternetGateway", &x)))?;
            }
            read_created(c, "internet gateway", &id, partial.clone(), || {
                read_igw(c, &id, planned)
            })
            .await
        }
        "aws_route_table" => {
            let r = c
                .ec2
                .create_route_table()
                .vpc_id(req_str(planned, "vpc_id").map_err(e)?)
                .tag_specifications(tag_spec(ResourceType::RouteTable, &tags))
                .send()
                .await
                .map_err(|x| (None, aws_diag("CreateRouteTable", &x)))?;
            let id = r
                .route_table()
                .and_then(|v| v.route_table_id())
                .unwrap_or_default()
                .to_string();
            let partial = with(
                planned,
                vec![
                    ("id", id.as_str().into()),
                    ("route", Value::Set(Vec::new())),
                ],
            );
            for route in attr(planned, "route").as_seq().unwrap_or_default() {
                create_route(c, &id, route)
                    .await
                    .map_err(|d| (Some(partial.clone()), d))?;
            }
            read_created(c, "route table", &id, partial.clone(), || {
                read_route_table(c, &id, planned)
            })
            .await
        }
        "aws_route_table_association" => {
            let rtb = req_str(planned, "route_table_id").map_err(e)?;
            let r = c
                .ec2
                .associate_route_table()
                .route_table_id(rtb)
                .set_subnet_id(get_str(planned, "subnet_id").map(String::from))
                .set_gateway_id(get_str(planned, "gateway_id").map(String::from))
                .send()
                .await;
            let id = match r {
                Ok(r) => r.association_id().unwrap_or_default().to_string(),
                // Associations cannot be tagged, so a create interrupted by a crash
                // cannot be recovered by tag: an existing association of the same subnet
                // (or gateway) with the same route table is this create's, adopted.
                Err(x) if err_code(&x) == Some("Resource.AlreadyAssociated") => {
                    let target = get_str(planned, "subnet_id")
                        .or(get_str(planned, "gateway_id"))
                        .unwrap_or_default();
                    let found = existing_association(c, rtb, target).await.map_err(e)?;
                    found.ok_or_else(|| (None, aws_diag("AssociateRouteTable", &x)))?
                }
                Err(x) => return Err((None, aws_diag("AssociateRouteTable", &x))),
            };
            let partial = with(planned, vec![("id", id.as_str().into())]);
            read_created(c, "route table association", &id, partial.clone(), || {
                read_rta(c, &id, planned)
            })
            .await
        }
        "aws_security_group" => {
            let name = match (get_str(planned, "name"), get_str(planned, "name_prefix")) {
                (Some(n), _) => n.to_string(),
                (None, Some(p)) => format!("{p}{}", unique_suffix()),
                (None, None) => format!("terraform-{}", unique_suffix()),
            };
            let r = c
                .ec2
                .create_security_group()
                .group_name(&name)
                .description(get_str(planned, "description").unwrap_or("Managed by Terraform"))
                .set_vpc_id(get_str(planned, "vpc_id").map(String::from))
                .tag_specifications(tag_spec(ResourceType::SecurityGroup, &tags))
                .send()
                .await
                .map_err(|x| (None, aws_diag("CreateSecurityGroup", &x)))?;
            let id = r.group_id().unwrap_or_default().to_string();
            let partial = with(
                planned,
                vec![("id", id.as_str().into()), ("name", name.as_str().into())],
            );
            if let Err(d) = revoke_default_egress(c, &id).await {
                return Err((Some(partial), d));
            }
            read_created(c, "security group", &id, partial.clone(), || {
                read_sg(c, &id, planned)
            })
            .await
        }
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
            let sg = req_str(planned, "security_group_id").map_err(e)?;
            let perm = permission(planned);
            let spec = tag_spec(ResourceType::SecurityGroupRule, &tags);
            let ids: Vec<String> = if t.ends_with("ingress_rule") {
                let r = c
                    .ec2
                    .authorize_security_group_ingress()
                    .group_id(sg)
                    .ip_permissions(perm)
                    .tag_specifications(spec)
                    .send()
                    .await
                    .map_err(|x| (None, aws_diag("AuthorizeSecurityGroupIngress", &x)))?;
                r.security_group_rules()
                    .iter()
                    .filter_map(|r| r.security_group_rule_id())
                    .map(String::from)
                    .collect()
            } else {
                let r = c
                    .ec2
                    .authorize_security_group_egress()
                    .group_id(sg)
                    .ip_permissions(perm)
                    .tag_specifications(spec)
                    .send()
                    .await
                    .map_err(|x| (None, aws_diag("AuthorizeSecurityGroupEgress", &x)))?;
                r.security_group_rules()
                    .iter()
                    .filter_map(|r| r.security_group_rule_id())
                    .map(String::from)
                    .collect()
            };
            let Some(id) = ids.into_iter().next() else {
                return Err((
                    None,
                    ProviderDiag::error(
                        "AWS returned no rule",
                        "The authorize call succeeded but returned no security group rule id.",
                    ),
                ));
            };
            let partial = with(planned, vec![("id", id.as_str().into())]);
            read_created(c, "security group rule", &id, partial.clone(), || {
                read_rule(c, &id, planned)
            })
            .await
        }
        "aws_eip" => {
            let r = c
                .ec2
                .allocate_address()
                .domain(get_str(planned, "domain").unwrap_or("vpc").into())
                .tag_specifications(tag_spec(ResourceType::ElasticIp, &tags))
                .send()
                .await
                .map_err(|x| (None, aws_diag("AllocateAddress", &x)))?;
            let id = r.allocation_id().unwrap_or_default().to_string();
            let partial = with(
                planned,
                vec![
                    ("id", id.as_str().into()),
                    ("instance", Value::Null(Type::String)),
                ],
            );
            if let Some(inst) = get_str(planned, "instance") {
                c.ec2
                    .associate_address()
                    .allocation_id(&id)
                    .instance_id(inst)
                    .send()
                    .await
                    .map_err(|x| (Some(partial.clone()), aws_diag("AssociateAddress", &x)))?;
            }
            read_created(c, "Elastic IP", &id, partial.clone(), || {
                read_eip(c, &id, planned)
            })
            .await
        }
        "aws_key_pair" => {
            let name = get_str(planned, "key_name")
                .map(String::from)
                .unwrap_or_else(|| format!("terraform-{}", unique_suffix()));
            c.ec2
                .import_key_pair()
                .key_name(&name)
                .public_key_material(aws_smithy_types::Blob::new(
                    req_str(planned, "public_key").map_err(e)?.as_bytes(),
                ))
                .tag_specifications(tag_spec(ResourceType::KeyPair, &tags))
                .send()
                .await
                .map_err(|x| (None, aws_diag("ImportKeyPair", &x)))?;
            let partial = with(
                planned,
                vec![
                    ("id", name.as_str().into()),
                    ("key_name", name.as_str().into()),
                ],
            );
            read_created(c, "key pair", &name, partial.clone(), || {
                read_key_pair(c, &name, &partial)
            })
            .await
        }
        _ => Err((None, crate::providers::sdk::unsupported_resource(t))),
    }
}

pub async fn update(
    c: &Clients,
    t: &str,
    prior: &Value,
    planned: &Value,
) -> Result<Value, ProviderDiag> {
    let id = req_str(prior, "id")?;
    match t {
        "aws_vpc" => {
            for (name, _) in [("enable_dns_support", ()), ("enable_dns_hostnames", ())] {
                let (old, new) = (get_bool(prior, name), get_bool(planned, name));
                if let (Some(n), true) = (new, old != new) {
                    let req = c.ec2.modify_vpc_attribute().vpc_id(id);
                    let req = if name == "enable_dns_support" {
                        req.enable_dns_support(bool_attr(n))
                    } else {
                        req.enable_dns_hostnames(bool_attr(n))
                    };
                    req.send()
                        .await
                        .map_err(|x| aws_diag("ModifyVpcAttribute", &x))?;
                }
            }
        }
        "aws_subnet" => {
            let (old, new) = (
                get_bool(prior, "map_public_ip_on_launch"),
                get_bool(planned, "map_public_ip_on_launch"),
            );
            if let (Some(n), true) = (new, old != new) {
                c.ec2
                    .modify_subnet_attribute()
                    .subnet_id(id)
                    .map_public_ip_on_launch(bool_attr(n))
                    .send()
                    .await
                    .map_err(|x| aws_diag("ModifySubnetAttribute", &x))?;
            }
        }
        "aws_internet_gateway" => {
            let (old, new) = (get_str(prior, "vpc_id"), get_str(planned, "vpc_id"));
            if old != new {
                if let Some(o) = old {
                    c.ec2
                        .detach_internet_gateway()
                        .internet_gateway_id(id)
                        .vpc_id(o)
                        .send()
                        .await
                        .map_err(|x| aws_diag("DetachInternetGateway", &x))?;
                }
                if let Some(n) = new {
                    c.ec2
                        .attach_internet_gateway()
                        .internet_gateway_id(id)
                        .vpc_id(n)
                        .send()
                        .await
                        .map_err(|x| aws_diag("AttachInternetGateway", &x))?;
                }
            }
        }
        "aws_route_table" => {
            let old = attr(prior, "route").as_seq().unwrap_or_default().to_vec();
            let new = attr(planned, "route").as_seq().unwrap_or_default().to_vec();
            for r in old.iter().filter(|r| !new.iter().any(|n| n.same_as(r))) {
                let req = c
                    .ec2
                    .delete_route()
                    .route_table_id(id)
                    .set_destination_cidr_block(get_str(r, "cidr_block").map(String::from))
                    .set_destination_ipv6_cidr_block(
                        get_str(r, "ipv6_cidr_block").map(String::from),
                    );
                match req.send().await {
                    Ok(_) => {}
                    Err(x) if matches!(err_code(&x), Some("InvalidRoute.NotFound")) => {}
                    Err(x) => return Err(aws_diag("DeleteRoute", &x)),
                }
            }
            for r in new.iter().filter(|n| !old.iter().any(|o| o.same_as(n))) {
                create_route(c, id, r).await?;
            }
        }
        "aws_route_table_association" => {
            if get_str(prior, "route_table_id") != get_str(planned, "route_table_id") {
                let r = c
                    .ec2
                    .replace_route_table_association()
                    .association_id(id)
                    .route_table_id(req_str(planned, "route_table_id")?)
                    .send()
                    .await
                    .map_err(|x| aws_diag("ReplaceRouteTableAssociation", &x))?;
                let new_id = r.new_association_id().unwrap_or(id).to_string();
                return read_rta(c, &new_id, planned).await?.ok_or_else(|| ProviderDiag::error("Association vanished", format!("The route table association {new_id} was not found after replacing it.")));
            }
        }
        "aws_vpc_security_group_ingress_rule" | "aws_vpc_security_group_egress_rule" => {
            if get_str(prior, "description") != get_str(planned, "description") {
                let sg = req_str(planned, "security_group_id")?;
                let rule = aws_sdk_ec2::types::SecurityGroupRuleRequest::builder()
                    .ip_protocol(req_str(planned, "ip_protocol")?)
                    .set_from_port(get_i64(planned, "from_port").map(|n| n as i32))
                    .set_to_port(get_i64(planned, "to_port").map(|n| n as i32))
                    .set_cidr_ipv4(get_str(planned, "cidr_ipv4").map(String::from))
                    .set_cidr_ipv6(get_str(planned, "cidr_ipv6").map(String::from))
                    .set_prefix_list_id(get_str(planned, "prefix_list_id").map(String::from))
                    .set_referenced_group_id(
                        get_str(planned, "referenced_security_group_id").map(String::from),
                    )
                    .set_description(get_str(planned, "description").map(String::from))
                    .build();
                let upd = aws_sdk_ec2::types::SecurityGroupRuleUpdate::builder()
                    .security_group_rule_id(id)
                    .security_group_rule(rule)
                    .build();
                c.ec2
                    .modify_security_group_rules()
                    .group_id(sg)
                    .security_group_rules(upd)
                    .send()
                    .await
                    .map_err(|x| aws_diag("ModifySecurityGroupRules", &x))?;
            }
        }
        "aws_eip" => {
            let (old, new) = (get_str(prior, "instance"), get_str(planned, "instance"));
            if old != new {
                if let Some(assoc) = get_str(prior, "association_id") {
                    c.ec2
                        .disassociate_address()
                        .association_id(assoc)
                        .send()
                        .await
                        .map_err(|x| aws_diag("DisassociateAddress", &x))?;
                }
                if let Some(n) = new {
                    c.ec2
                        .associate_address()
                        .allocation_id(id)
                        .instance_id(n)
                        .send()
                        .await
                        .map_err(|x| aws_diag("AssociateAddress", &x))?;
                }
            }
        }
        _ => {}
    }
    if !attr(planned, "tags_all").is_null() {
        let rid = if t == "aws_key_pair" {
            get_str(prior, "key_pair_id").unwrap_or(id)
        } else {
            id
        };
        update_tags(c, rid, prior, planned).await?;
    }
    let mut p = planned.clone();
    if let Value::Object(m) = &mut p {
        m.insert("id".into(), id.into());
    }
    read(c, t, &p).await?.ok_or_else(|| {
        ProviderDiag::error(
            "Object vanished",
            format!("{id} was not found after updating it."),
        )
    })
}

pub async fn delete(c: &Clients, t: &str, prior: &Value) -> Result<(), ProviderDiag> {
    let id = req_str(prior, "id")?;
    match t {
        "aws_vpc" => {
            delete_retrying(c, "DeleteVpc", id, || async {
                c.ec2.delete_vpc().vpc_id(id).send().await.map(|_| ())
            })
            .await
        }
        "aws_subnet" => {
            delete_retrying(c, "DeleteSubnet", id, || async {
                c.ec2.delete_subnet().subnet_id(id).send().await.map(|_| ())
            })
            .await
        }
        "aws_internet_gateway" => {
            if let Some(vpc) = get_str(prior, "vpc_id") {
                delete_retrying(c, "DetachInternetGateway", id, || async {
                    match c
                        .ec2
                        .detach_internet_gateway()
                        .internet_gateway_id(id)
                        .vpc_id(vpc)
                        .send()
                        .await
                    {
                        Err(e) if matches!(err_code(&e), Some("Gateway.NotAttached")) => Ok(()),
                        r => r.map(|_| ()),
                    }
                })
                .await?;
            }
            delete_retrying(c, "DeleteInternetGateway", id, || async {
                c.ec2
                    .delete_internet_gateway()
                    .internet_gateway_id(id)
                    .send()
                    .await
                    .map(|_| ())
            })
            .await
        }
        "aws_route_table" => {
            delete_retrying(c, "DeleteRouteTable", id, || async {
                c.ec2
                    .delete_route_table()
                    .route_table_id(id)
                    .send()
                    .await
                    .map(|_| ())
            })
            .await
        }
        "aws_route_table_association" => match c
            .ec2
            .disassociate_route_table()
            .association_id(id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(err_code(&e)) => Ok(()),
            Err(e) => Err(aws_diag("DisassociateRouteTable", &e)),
        },
        "aws_security_group" => {
            if get_bool(prior, "revoke_rules_on_delete") == Some(true) {
                revoke_all(c, id).await?;
            }
            delete_retrying(c, "DeleteSecurityGroup", id, || async {
                c.ec2
                    .delete_security_group()
                    .group_id(id)
                    .send()
                    .await
                    .map(|_| ())
            })
            .await
        }
        "aws_vpc_security_group_ingress_rule" => {
            let sg = req_str(prior, "security_group_id")?;
            match c
                .ec2
                .revoke_security_group_ingress()
                .group_id(sg)
                .security_group_rule_ids(id)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e)
                    if is_not_found(err_code(&e))
                        || matches!(err_code(&e), Some("InvalidPermission.NotFound")) =>
                {
                    Ok(())
                }
                Err(e) => Err(aws_diag("RevokeSecurityGroupIngress", &e)),
            }
        }
        "aws_vpc_security_group_egress_rule" => {
            let sg = req_str(prior, "security_group_id")?;
            match c
                .ec2
                .revoke_security_group_egress()
                .group_id(sg)
                .security_group_rule_ids(id)
                .send()
                .await
            {
                Ok(_) => Ok(()),
                Err(e)
                    if is_not_found(err_code(&e))
                        || matches!(err_code(&e), Some("InvalidPermission.NotFound")) =>
                {
                    Ok(())
                }
                Err(e) => Err(aws_diag("RevokeSecurityGroupEgress", &e)),
            }
        }
        "aws_eip" => {
            if let Some(assoc) = get_str(prior, "association_id") {
                match c
                    .ec2
                    .disassociate_address()
                    .association_id(assoc)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e) if is_not_found(err_code(&e)) => {}
                    Err(e) => return Err(aws_diag("DisassociateAddress", &e)),
                }
            }
            delete_retrying(c, "ReleaseAddress", id, || async {
                c.ec2
                    .release_address()
                    .allocation_id(id)
                    .send()
                    .await
                    .map(|_| ())
            })
            .await
        }
        "aws_key_pair" => match c.ec2.delete_key_pair().key_name(id).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_not_found(err_code(&e)) => Ok(()),
            Err(e) => Err(aws_diag("DeleteKeyPair", &e)),
        },
        _ => Err(crate::providers::sdk::unsupported_resource(t)),
    }
}

/// A name suffix unique enough for generated names (Terraform's resource.UniqueId).
pub(crate) fn unique_suffix() -> String {
    let now = chrono::Utc::now().format("%Y%m%d%H%M%S%3f");
    format!("{now}{:08x}", rand::random::<u32>())
}

// ---------------------------------------------------------------------------------------
// Reads

async fn read_vpc(c: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!("DescribeVpcs", c.ec2.describe_vpcs().vpc_ids(id).send()) else {
        return Ok(None);
    };
    let Some(v) = r.vpcs().first() else {
        return Ok(None);
    };
    let dns_support = describe!(
        "DescribeVpcAttribute",
        c.ec2
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport)
            .send()
    )
    .and_then(|a| a.enable_dns_support().and_then(|b| b.value()));
    let dns_hostnames = describe!(
        "DescribeVpcAttribute",
        c.ec2
            .describe_vpc_attribute()
            .vpc_id(id)
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            .send()
    )
    .and_then(|a| a.enable_dns_hostnames().and_then(|b| b.value()));
    let main_rt = describe!(
        "DescribeRouteTables",
        c.ec2
            .describe_route_tables()
            .filters(filter("vpc-id", &[id]))
            .filters(filter("association.main", &["true"]))
            .send()
    )
    .and_then(|r| {
        r.route_tables()
            .first()
            .and_then(|t| t.route_table_id().map(String::from))
    });
    let default_sg = describe!(
        "DescribeSecurityGroups",
        c.ec2
            .describe_security_groups()
            .filters(filter("vpc-id", &[id]))
            .filters(filter("group-name", &["default"]))
            .send()
    )
    .and_then(|r| {
        r.security_groups()
            .first()
            .and_then(|g| g.group_id().map(String::from))
    });
    let owner = v.owner_id().unwrap_or_default();
    let (tags, tags_all) = tag_values(c, ec2_tags(v.tags()), prior);
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("cidr_block", os(v.cidr_block())),
            (
                "instance_tenancy",
                os(v.instance_tenancy().map(|t| t.as_str())),
            ),
            (
                "enable_dns_support",
                dns_support
                    .map(Value::Bool)
                    .unwrap_or(Value::Null(Type::Bool)),
            ),
            (
                "enable_dns_hostnames",
                dns_hostnames
                    .map(Value::Bool)
                    .unwrap_or(Value::Null(Type::Bool)),
            ),
            (
                "arn",
                format!("arn:aws:ec2:{}:{owner}:vpc/{id}", c.region).into(),
            ),
            ("owner_id", os(v.owner_id())),
            ("main_route_table_id", os(main_rt.as_deref())),
            ("default_security_group_id", os(default_sg.as_deref())),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

async fn read_subnet(c: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeSubnets",
        c.ec2.describe_subnets().subnet_ids(id).send()
    ) else {
        return Ok(None);
    };
    let Some(s) = r.subnets().first() else {
        return Ok(None);
    };
    let owner = s.owner_id().unwrap_or_default();
    let (tags, tags_all) = tag_values(c, ec2_tags(s.tags()), prior);
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("vpc_id", os(s.vpc_id())),
            ("cidr_block", os(s.cidr_block())),
            ("availability_zone", os(s.availability_zone())),
            ("availability_zone_id", os(s.availability_zone_id())),
            (
                "map_public_ip_on_launch",
                Value::Bool(s.map_public_ip_on_launch().unwrap_or(false)),
            ),
            (
                "arn",
                s.subnet_arn().map(Value::from).unwrap_or_else(|| {
                    format!("arn:aws:ec2:{}:{owner}:subnet/{id}", c.region).into()
                }),
            ),
            ("owner_id", os(s.owner_id())),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

async fn read_igw(c: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeInternetGateways",
        c.ec2
            .describe_internet_gateways()
            .internet_gateway_ids(id)
            .send()
    ) else {
        return Ok(None);
    };
    let Some(g) = r.internet_gateways().first() else {
        return Ok(None);
    };
    let owner = g.owner_id().unwrap_or_default();
    let vpc = g
        .attachments()
        .iter()
        .find(|a| a.state().map(|s| s.as_str() != "detached").unwrap_or(true))
        .and_then(|a| a.vpc_id());
    let (tags, tags_all) = tag_values(c, ec2_tags(g.tags()), prior);
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("vpc_id", os(vpc)),
            (
                "arn",
                format!("arn:aws:ec2:{}:{owner}:internet-gateway/{id}", c.region).into(),
            ),
            ("owner_id", os(g.owner_id())),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

fn route_value(r: &aws_sdk_ec2::types::Route) -> Value {
    Value::object([
        ("cidr_block", os(r.destination_cidr_block())),
        ("ipv6_cidr_block", os(r.destination_ipv6_cidr_block())),
        ("gateway_id", os(r.gateway_id())),
        ("nat_gateway_id", os(r.nat_gateway_id())),
        (
            "network_interface_id",
            if r.instance_id().is_some() {
                Value::Null(Type::String)
            } else {
                os(r.network_interface_id())
            },
        ),
        (
            "vpc_peering_connection_id",
            os(r.vpc_peering_connection_id()),
        ),
        ("transit_gateway_id", os(r.transit_gateway_id())),
    ])
}

async fn create_route(c: &Clients, rtb: &str, r: &Value) -> Result<(), ProviderDiag> {
    let s = |n: &str| get_str(r, n).map(String::from);
    c.ec2
        .create_route()
        .route_table_id(rtb)
        .set_destination_cidr_block(s("cidr_block"))
        .set_destination_ipv6_cidr_block(s("ipv6_cidr_block"))
        .set_gateway_id(s("gateway_id"))
        .set_nat_gateway_id(s("nat_gateway_id"))
        .set_network_interface_id(s("network_interface_id"))
        .set_vpc_peering_connection_id(s("vpc_peering_connection_id"))
        .set_transit_gateway_id(s("transit_gateway_id"))
        .send()
        .await
        .map_err(|x| aws_diag("CreateRoute", &x))?;
    Ok(())
}

async fn read_route_table(
    c: &Clients,
    id: &str,
    prior: &Value,
) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeRouteTables",
        c.ec2.describe_route_tables().route_table_ids(id).send()
    ) else {
        return Ok(None);
    };
    let Some(t) = r.route_tables().first() else {
        return Ok(None);
    };
    let owner = t.owner_id().unwrap_or_default();
    // The local route and routes AWS manages are not the configuration's.
    let routes: Vec<Value> = t
        .routes()
        .iter()
        .filter(|r| {
            r.gateway_id() != Some("local")
                && r.origin()
                    .map(|o| o.as_str() != "CreateRouteTable")
                    .unwrap_or(true)
        })
        .map(route_value)
        .collect();
    let (tags, tags_all) = tag_values(c, ec2_tags(t.tags()), prior);
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("vpc_id", os(t.vpc_id())),
            ("route", Value::set_from(routes)),
            (
                "arn",
                format!("arn:aws:ec2:{}:{owner}:route-table/{id}", c.region).into(),
            ),
            ("owner_id", os(t.owner_id())),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

/// The association of a route table with a subnet or gateway, if there is one.
pub(crate) async fn existing_association(
    c: &Clients,
    rtb: &str,
    target: &str,
) -> Result<Option<String>, ProviderDiag> {
    let r = c
        .ec2
        .describe_route_tables()
        .route_table_ids(rtb)
        .send()
        .await
        .map_err(|x| aws_diag("DescribeRouteTables", &x))?;
    Ok(r.route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.subnet_id() == Some(target) || a.gateway_id() == Some(target))
        .and_then(|a| a.route_table_association_id())
        .map(String::from))
}

async fn read_rta(c: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeRouteTables",
        c.ec2
            .describe_route_tables()
            .filters(filter("association.route-table-association-id", &[id]))
            .send()
    ) else {
        return Ok(None);
    };
    let assoc = r
        .route_tables()
        .iter()
        .flat_map(|t| t.associations())
        .find(|a| a.route_table_association_id() == Some(id));
    let Some(a) = assoc else { return Ok(None) };
    if a.association_state()
        .and_then(|s| s.state())
        .map(|s| s.as_str() == "disassociated")
        .unwrap_or(false)
    {
        return Ok(None);
    }
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("route_table_id", os(a.route_table_id())),
            ("subnet_id", os(a.subnet_id())),
            ("gateway_id", os(a.gateway_id())),
        ],
    )))
}

async fn read_sg(c: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeSecurityGroups",
        c.ec2.describe_security_groups().group_ids(id).send()
    ) else {
        return Ok(None);
    };
    let Some(g) = r.security_groups().first() else {
        return Ok(None);
    };
    let owner = g.owner_id().unwrap_or_default();
    let (tags, tags_all) = tag_values(c, ec2_tags(g.tags()), prior);
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("name", os(g.group_name())),
            ("description", os(g.description())),
            ("vpc_id", os(g.vpc_id())),
            (
                "arn",
                g.security_group_arn().map(Value::from).unwrap_or_else(|| {
                    format!("arn:aws:ec2:{}:{owner}:security-group/{id}", c.region).into()
                }),
            ),
            ("owner_id", os(g.owner_id())),
            (
                "revoke_rules_on_delete",
                Value::Bool(get_bool(prior, "revoke_rules_on_delete").unwrap_or(false)),
            ),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

async fn revoke_all(c: &Clients, id: &str) -> Result<(), ProviderDiag> {
    let Some(r) = describe!(
        "DescribeSecurityGroupRules",
        c.ec2
            .describe_security_group_rules()
            .filters(filter("group-id", &[id]))
            .send()
    ) else {
        return Ok(());
    };
    let (egress, ingress): (Vec<_>, Vec<_>) = r
        .security_group_rules()
        .iter()
        .partition(|r| r.is_egress() == Some(true));
    let ids = |v: &[&aws_sdk_ec2::types::SecurityGroupRule]| -> Vec<String> {
        v.iter()
            .filter_map(|r| r.security_group_rule_id())
            .map(String::from)
            .collect()
    };
    if !ingress.is_empty() {
        c.ec2
            .revoke_security_group_ingress()
            .group_id(id)
            .set_security_group_rule_ids(Some(ids(&ingress)))
            .send()
            .await
            .map_err(|x| aws_diag("RevokeSecurityGroupIngress", &x))?;
    }
    if !egress.is_empty() {
        c.ec2
            .revoke_security_group_egress()
            .group_id(id)
            .set_security_group_rule_ids(Some(ids(&egress)))
            .send()
            .await
            .map_err(|x| aws_diag("RevokeSecurityGroupEgress", &x))?;
    }
    Ok(())
}

fn permission(planned: &Value) -> IpPermission {
    let proto = get_str(planned, "ip_protocol").unwrap_or("-1");
    let proto = if proto == "all" { "-1" } else { proto };
    let mut p = IpPermission::builder()
        .ip_protocol(proto)
        .set_from_port(get_i64(planned, "from_port").map(|n| n as i32))
        .set_to_port(get_i64(planned, "to_port").map(|n| n as i32));
    let desc = get_str(planned, "description").map(String::from);
    if let Some(c) = get_str(planned, "cidr_ipv4") {
        p = p.ip_ranges(
            IpRange::builder()
                .cidr_ip(c)
                .set_description(desc.clone())
                .build(),
        );
    }
    if let Some(c) = get_str(planned, "cidr_ipv6") {
        p = p.ipv6_ranges(
            Ipv6Range::builder()
                .cidr_ipv6(c)
                .set_description(desc.clone())
                .build(),
        );
    }
    if let Some(c) = get_str(planned, "prefix_list_id") {
        p = p.prefix_list_ids(
            PrefixListId::builder()
                .prefix_list_id(c)
                .set_description(desc.clone())
                .build(),
        );
    }
    if let Some(g) = get_str(planned, "referenced_security_group_id") {
        p = p.user_id_group_pairs(
            UserIdGroupPair::builder()
                .group_id(g)
                .set_description(desc)
                .build(),
        );
    }
    p.build()
}

/// True when two protocol spellings mean the same protocol ("-1"/"all", "tcp"/"6", ...).
fn same_protocol(a: &str, b: &str) -> bool {
    let canon = |p: &str| match p.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".to_string(),
        "tcp" | "6" => "6".to_string(),
        "udp" | "17" => "17".to_string(),
        "icmp" | "1" => "1".to_string(),
        "icmpv6" | "58" => "58".to_string(),
        o => o.to_string(),
    };
    canon(a) == canon(b)
}

async fn read_rule(c: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeSecurityGroupRules",
        c.ec2
            .describe_security_group_rules()
            .security_group_rule_ids(id)
            .send()
    ) else {
        return Ok(None);
    };
    let Some(rule) = r
        .security_group_rules()
        .iter()
        .find(|r| r.security_group_rule_id() == Some(id))
    else {
        return Ok(None);
    };
    let proto = rule.ip_protocol().unwrap_or("-1");
    let proto = match get_str(prior, "ip_protocol") {
        Some(p) if same_protocol(p, proto) => p.to_string(),
        _ => proto.to_string(),
    };
    let port = |p: Option<i32>| match p {
        Some(n) if !same_protocol(&proto, "-1") => Value::int(n as i64),
        _ => Value::Null(Type::Number),
    };
    let (tags, tags_all) = tag_values(c, ec2_tags(rule.tags()), prior);
    let owner = rule.group_owner_id().unwrap_or_default();
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("security_group_rule_id", id.into()),
            ("security_group_id", os(rule.group_id())),
            ("ip_protocol", proto.as_str().into()),
            ("from_port", port(rule.from_port())),
            ("to_port", port(rule.to_port())),
            ("cidr_ipv4", os(rule.cidr_ipv4())),
            ("cidr_ipv6", os(rule.cidr_ipv6())),
            ("prefix_list_id", os(rule.prefix_list_id())),
            (
                "referenced_security_group_id",
                os(rule.referenced_group_info().and_then(|g| g.group_id())),
            ),
            ("description", os(rule.description())),
            (
                "arn",
                rule.security_group_rule_arn()
                    .map(Value::from)
                    .unwrap_or_else(|| {
                        format!("arn:aws:ec2:{}:{owner}:security-group-rule/{id}", c.region).into()
                    }),
            ),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

async fn read_eip(c: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeAddresses",
        c.ec2.describe_addresses().allocation_ids(id).send()
    ) else {
        return Ok(None);
    };
    let Some(a) = r.addresses().first() else {
        return Ok(None);
    };
    let (tags, tags_all) = tag_values(c, ec2_tags(a.tags()), prior);
    let public_dns = a.public_ip().map(|ip| {
        let dashed = ip.replace('.', "-");
        if c.region == "us-east-1" {
            format!("ec2-{dashed}.compute-1.amazonaws.com")
        } else {
            format!("ec2-{dashed}.{}.compute.amazonaws.com", c.region)
        }
    });
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("allocation_id", id.into()),
            ("domain", os(a.domain().map(|d| d.as_str()))),
            ("instance", os(a.instance_id())),
            ("association_id", os(a.association_id())),
            ("public_ip", os(a.public_ip())),
            ("private_ip", os(a.private_ip_address())),
            ("public_dns", os(public_dns.as_deref())),
            (
                "arn",
                format!("arn:aws:ec2:{}::elastic-ip/{id}", c.region).into(),
            ),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

async fn read_key_pair(
    c: &Clients,
    id: &str,
    prior: &Value,
) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeKeyPairs",
        c.ec2.describe_key_pairs().key_names(id).send()
    ) else {
        return Ok(None);
    };
    let Some(k) = r.key_pairs().first() else {
        return Ok(None);
    };
    let (tags, tags_all) = tag_values(c, ec2_tags(k.tags()), prior);
    let kp_id = k.key_pair_id().unwrap_or_default();
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("key_name", os(k.key_name())),
            ("key_pair_id", os(k.key_pair_id())),
            ("fingerprint", os(k.key_fingerprint())),
            // AWS returns the public key only on request; the configuration's is kept.
            ("public_key", attr(prior, "public_key").clone()),
            (
                "arn",
                format!("arn:aws:ec2:{}::key-pair/{kp_id}", c.region).into(),
            ),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

/// As Terraform does: the allow-all egress rule AWS adds to a new VPC security group is
/// removed, so that egress is exactly what the configuration declares. Part of creating a
/// group, so `recover` finishes it too for a group whose create was interrupted.
pub async fn revoke_default_egress(c: &Clients, id: &str) -> Result<(), ProviderDiag> {
    let all = IpPermission::builder()
        .ip_protocol("-1")
        .ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    match c.ec2.revoke_security_group_egress().group_id(id).ip_permissions(all).send().await {
        Ok(_) => Ok(()),
        Err(x) if matches!(err_code(&x), Some("InvalidPermission.NotFound")) || is_not_found(err_code(&x)) => Ok(()),
        Err(x) => Err(aws_diag("RevokeSecurityGroupEgress", &x)),
    }
}
