//! EC2 compute resources: `aws_instance` (RunInstances with the create token as
//! ClientToken, waiting until running; instance type and security groups updated in
//! place, stopping and starting the instance where AWS requires it), `aws_ebs_volume`
//! and `aws_volume_attachment`; and the plan-time AMI check.

use std::time::Duration;

use aws_sdk_ec2::types::{
    BlockDeviceMapping, EbsBlockDevice, InstanceNetworkInterfaceSpecification, ResourceType,
    VolumeType,
};
use base64::Engine as _;
use sha2::Digest;

use super::ec2_net::{delete_retrying, describe, ec2_tags, read_created, tag_spec, update_tags};
use super::{
    aws_diag, err_code, is_not_found, os, req_str, str_set, strings, tag_values, wait_for, with,
    Clients, CreateResult,
};
use crate::lang::value::{Type, Value};
use crate::providers::sdk::{attr, get_bool, get_i64, get_str};
use crate::providers::{attr_path, ObjectIdentity, ProviderDiag, ProviderDiags};

const INSTANCE_TIMEOUT: Duration = Duration::from_secs(600);

pub fn handles(t: &str) -> bool {
    matches!(
        t,
        "aws_instance" | "aws_ebs_volume" | "aws_volume_attachment"
    )
}

/// Plan-time check that an AMI exists (DescribeImages), located at `ami`.
pub async fn check_ami(c: &Clients, ami: &str) -> ProviderDiags {
    let missing = || {
        vec![ProviderDiag::error(
            "AMI not found",
            format!(
                "The AMI {ami:?} does not exist in {} or is not visible to this account.",
                c.region
            ),
        )
        .at(attr_path(&["ami"]))]
    };
    match c.ec2.describe_images().image_ids(ami).send().await {
        Ok(r) if r.images().is_empty() => missing(),
        Ok(_) => Vec::new(),
        Err(e)
            if is_not_found(err_code(&e))
                || matches!(
                    err_code(&e),
                    Some("InvalidAMIID.Malformed" | "InvalidAMIID.Unavailable")
                ) =>
        {
            missing()
        }
        Err(e) => vec![aws_diag("DescribeImages", &e).at(attr_path(&["ami"]))],
    }
}

/// The state name of an instance; `None` when it does not exist.
pub async fn read_instance_state(c: &Clients, id: &str) -> Result<Option<String>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeInstances",
        c.ec2.describe_instances().instance_ids(id).send()
    ) else {
        return Ok(None);
    };
    Ok(r.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .next()
        .and_then(|i| i.state())
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string()))
}

async fn wait_state(c: &Clients, id: &str, want: &str) -> Result<(), ProviderDiag> {
    wait_for(
        c,
        &format!("instance {id} to be {want}"),
        INSTANCE_TIMEOUT,
        || async {
            let s = read_instance_state(c, id).await?;
            match s.as_deref() {
                Some(s) if s == want => Ok(Some(())),
                None if want == "terminated" => Ok(Some(())),
                Some("terminated") if want != "terminated" => Err(ProviderDiag::error(
                    "Instance terminated",
                    format!("Instance {id} terminated while waiting for it to be {want}."),
                )),
                _ => Ok(None),
            }
        },
    )
    .await
}

pub async fn read(c: &Clients, t: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    match t {
        "aws_instance" => read_instance(c, req_str(prior, "id")?, prior).await,
        "aws_ebs_volume" => read_volume(c, req_str(prior, "id")?, prior).await,
        "aws_volume_attachment" => read_attachment(c, prior).await,
        _ => Err(crate::providers::sdk::unsupported_resource(t)),
    }
}

pub async fn create(c: &Clients, t: &str, planned: &Value, ident: &ObjectIdentity) -> CreateResult {
    let tags = super::create_tags(planned, ident);
    let e = |d: ProviderDiag| (None, d);
    match t {
        "aws_instance" => {
            let ami = req_str(planned, "ami").map_err(e)?;
            let sgs = strings(attr(planned, "vpc_security_group_ids"));
            let sgs =
                if attr(planned, "vpc_security_group_ids").is_wholly_known() && !sgs.is_empty() {
                    Some(sgs)
                } else {
                    None
                };
            let subnet = get_str(planned, "subnet_id").map(String::from);
            let mut req = c
                .ec2
                .run_instances()
                .image_id(ami)
                .instance_type(req_str(planned, "instance_type").map_err(e)?.into())
                .min_count(1)
                .max_count(1)
                .client_token(&ident.token)
                .set_key_name(get_str(planned, "key_name").map(String::from))
                .set_user_data(
                    get_str(planned, "user_data")
                        .map(|u| base64::engine::general_purpose::STANDARD.encode(u)),
                )
                .tag_specifications(tag_spec(ResourceType::Instance, &tags));
            if let Some(az) = get_str(planned, "availability_zone") {
                req = req.placement(
                    aws_sdk_ec2::types::Placement::builder()
                        .availability_zone(az)
                        .build(),
                );
            }
            if let Some(public) = get_bool(planned, "associate_public_ip_address") {
                // A public IP choice needs an explicit primary network interface, which
                // then carries the subnet, groups and private IP.
                req = req.network_interfaces(
                    InstanceNetworkInterfaceSpecification::builder()
                        .device_index(0)
                        .associate_public_ip_address(public)
                        .set_subnet_id(subnet)
                        .set_groups(sgs)
                        .set_private_ip_address(get_str(planned, "private_ip").map(String::from))
                        .build(),
                );
            } else {
                req = req
                    .set_subnet_id(subnet)
                    .set_security_group_ids(sgs)
                    .set_private_ip_address(get_str(planned, "private_ip").map(String::from));
            }
            if let Some(root) = attr(planned, "root_block_device")
                .as_seq()
                .and_then(|s| s.first())
            {
                let dev = root_device_name(c, ami).await.map_err(e)?;
                let ebs = EbsBlockDevice::builder()
                    .set_volume_size(get_i64(root, "volume_size").map(|n| n as i32))
                    .set_volume_type(get_str(root, "volume_type").map(VolumeType::from))
                    // As Terraform: the root volume goes with the instance unless told otherwise.
                    .delete_on_termination(get_bool(root, "delete_on_termination").unwrap_or(true))
                    .set_encrypted(get_bool(root, "encrypted"))
                    .set_iops(get_i64(root, "iops").map(|n| n as i32))
                    .build();
                req = req.block_device_mappings(
                    BlockDeviceMapping::builder()
                        .device_name(dev)
                        .ebs(ebs)
                        .build(),
                );
            }
            let r = req
                .send()
                .await
                .map_err(|x| (None, aws_diag("RunInstances", &x)))?;
            let Some(id) = r
                .instances()
                .first()
                .and_then(|i| i.instance_id())
                .map(String::from)
            else {
                return Err((
                    None,
                    ProviderDiag::error(
                        "AWS returned no instance",
                        "RunInstances succeeded but returned no instance id.",
                    ),
                ));
            };
            let partial = with(planned, vec![("id", id.as_str().into())]);
            wait_state(c, &id, "running")
                .await
                .map_err(|d| (Some(partial.clone()), d))?;
            read_created(c, "instance", &id, partial.clone(), || {
                read_instance(c, &id, planned)
            })
            .await
        }
        "aws_ebs_volume" => {
            let r = c
                .ec2
                .create_volume()
                .availability_zone(req_str(planned, "availability_zone").map_err(e)?)
                .set_size(get_i64(planned, "size").map(|n| n as i32))
                .set_volume_type(get_str(planned, "type").map(VolumeType::from))
                .set_iops(get_i64(planned, "iops").map(|n| n as i32))
                .set_encrypted(get_bool(planned, "encrypted"))
                .set_snapshot_id(get_str(planned, "snapshot_id").map(String::from))
                .client_token(&ident.token)
                .tag_specifications(tag_spec(ResourceType::Volume, &tags))
                .send()
                .await
                .map_err(|x| (None, aws_diag("CreateVolume", &x)))?;
            let id = r.volume_id().unwrap_or_default().to_string();
            let partial = with(planned, vec![("id", id.as_str().into())]);
            wait_volume(c, &id, "available")
                .await
                .map_err(|d| (Some(partial.clone()), d))?;
            read_created(c, "volume", &id, partial.clone(), || {
                read_volume(c, &id, planned)
            })
            .await
        }
        "aws_volume_attachment" => {
            let (dev, vol, inst) = (
                req_str(planned, "device_name").map_err(e)?,
                req_str(planned, "volume_id").map_err(e)?,
                req_str(planned, "instance_id").map_err(e)?,
            );
            match c
                .ec2
                .attach_volume()
                .device(dev)
                .volume_id(vol)
                .instance_id(inst)
                .send()
                .await
            {
                Ok(_) => {}
                // Attachments cannot be tagged: after a crash, the volume already attached
                // to this instance at this device is this create's, adopted.
                Err(x) if matches!(err_code(&x), Some("VolumeInUse" | "InvalidVolume.InUse")) => {
                    let partial = with(planned, vec![("id", attachment_id(dev, vol, inst).into())]);
                    if read_attachment(c, &partial).await.map_err(e)?.is_none() {
                        return Err((None, aws_diag("AttachVolume", &x)));
                    }
                }
                Err(x) => return Err((None, aws_diag("AttachVolume", &x))),
            }
            let partial = with(planned, vec![("id", attachment_id(dev, vol, inst).into())]);
            wait_volume(c, vol, "in-use")
                .await
                .map_err(|d| (Some(partial.clone()), d))?;
            read_created(c, "volume attachment", vol, partial.clone(), || {
                read_attachment(c, &partial)
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
        "aws_instance" => {
            if get_str(prior, "instance_type") != get_str(planned, "instance_type") {
                // The instance type of a running instance cannot change: stop, modify, start.
                let running = get_str(prior, "instance_state") != Some("stopped");
                if running {
                    c.ec2
                        .stop_instances()
                        .instance_ids(id)
                        .send()
                        .await
                        .map_err(|x| aws_diag("StopInstances", &x))?;
                    wait_state(c, id, "stopped").await?;
                }
                let it = aws_sdk_ec2::types::AttributeValue::builder()
                    .value(req_str(planned, "instance_type")?)
                    .build();
                c.ec2
                    .modify_instance_attribute()
                    .instance_id(id)
                    .instance_type(it)
                    .send()
                    .await
                    .map_err(|x| aws_diag("ModifyInstanceAttribute", &x))?;
                if running {
                    c.ec2
                        .start_instances()
                        .instance_ids(id)
                        .send()
                        .await
                        .map_err(|x| aws_diag("StartInstances", &x))?;
                    wait_state(c, id, "running").await?;
                }
            }
            let (old, new) = (
                attr(prior, "vpc_security_group_ids"),
                attr(planned, "vpc_security_group_ids"),
            );
            if new.is_wholly_known() && !new.is_null() && !old.same_as(new) {
                c.ec2
                    .modify_instance_attribute()
                    .instance_id(id)
                    .set_groups(Some(strings(new)))
                    .send()
                    .await
                    .map_err(|x| aws_diag("ModifyInstanceAttribute", &x))?;
            }
        }
        "aws_ebs_volume" => {
            let changed = |n: &str| !attr(prior, n).same_as(attr(planned, n));
            if changed("size") || changed("type") || changed("iops") {
                c.ec2
                    .modify_volume()
                    .volume_id(id)
                    .set_size(get_i64(planned, "size").map(|n| n as i32))
                    .set_volume_type(get_str(planned, "type").map(VolumeType::from))
                    .set_iops(get_i64(planned, "iops").map(|n| n as i32))
                    .send()
                    .await
                    .map_err(|x| aws_diag("ModifyVolume", &x))?;
            }
        }
        _ => {}
    }
    if !attr(planned, "tags_all").is_null() {
        update_tags(c, id, prior, planned).await?;
    }
    let p = with(planned, vec![("id", id.into())]);
    read(c, t, &p).await?.ok_or_else(|| {
        ProviderDiag::error(
            "Object vanished",
            format!("{id} was not found after updating it."),
        )
    })
}

pub async fn delete(c: &Clients, t: &str, prior: &Value) -> Result<(), ProviderDiag> {
    match t {
        "aws_instance" => {
            let id = req_str(prior, "id")?;
            match c.ec2.terminate_instances().instance_ids(id).send().await {
                Ok(_) => {}
                Err(e) if is_not_found(err_code(&e)) => return Ok(()),
                Err(e) => return Err(aws_diag("TerminateInstances", &e)),
            }
            wait_state(c, id, "terminated").await
        }
        "aws_ebs_volume" => {
            let id = req_str(prior, "id")?;
            delete_retrying(c, "DeleteVolume", id, || async {
                c.ec2.delete_volume().volume_id(id).send().await.map(|_| ())
            })
            .await?;
            wait_for(
                c,
                &format!("volume {id} to be deleted"),
                INSTANCE_TIMEOUT,
                || async {
                    let Some(r) = describe!(
                        "DescribeVolumes",
                        c.ec2.describe_volumes().volume_ids(id).send()
                    ) else {
                        return Ok(Some(()));
                    };
                    Ok(r.volumes()
                        .iter()
                        .all(|v| v.state().map(|s| s.as_str() == "deleted").unwrap_or(true))
                        .then_some(()))
                },
            )
            .await
        }
        "aws_volume_attachment" => {
            if get_bool(prior, "skip_destroy") == Some(true) {
                return Ok(());
            }
            let (dev, vol, inst) = (
                req_str(prior, "device_name")?,
                req_str(prior, "volume_id")?,
                req_str(prior, "instance_id")?,
            );
            match c
                .ec2
                .detach_volume()
                .device(dev)
                .volume_id(vol)
                .instance_id(inst)
                .set_force(get_bool(prior, "force_detach"))
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if is_not_found(err_code(&e))
                        || matches!(err_code(&e), Some("IncorrectState")) =>
                {
                    return Ok(())
                }
                Err(e) => return Err(aws_diag("DetachVolume", &e)),
            }
            wait_for(
                c,
                &format!("volume {vol} to detach"),
                INSTANCE_TIMEOUT,
                || async {
                    let Some(r) = describe!(
                        "DescribeVolumes",
                        c.ec2.describe_volumes().volume_ids(vol).send()
                    ) else {
                        return Ok(Some(()));
                    };
                    Ok(r.volumes()
                        .iter()
                        .all(|v| {
                            !v.attachments()
                                .iter()
                                .any(|a| a.instance_id() == Some(inst))
                        })
                        .then_some(()))
                },
            )
            .await
        }
        _ => Err(crate::providers::sdk::unsupported_resource(t)),
    }
}

/// Terraform's id shape for volume attachments ("vai-" and a hash of the three ids).
fn attachment_id(dev: &str, vol: &str, inst: &str) -> String {
    let h = sha2::Sha256::digest(format!("{dev}-{inst}-{vol}-").as_bytes());
    format!("vai-{}", u32::from_be_bytes([h[0], h[1], h[2], h[3]]))
}

async fn root_device_name(c: &Clients, ami: &str) -> Result<String, ProviderDiag> {
    let r = c
        .ec2
        .describe_images()
        .image_ids(ami)
        .send()
        .await
        .map_err(|x| aws_diag("DescribeImages", &x))?;
    Ok(r.images()
        .first()
        .and_then(|i| i.root_device_name())
        .unwrap_or("/dev/xvda")
        .to_string())
}

async fn wait_volume(c: &Clients, id: &str, want: &str) -> Result<(), ProviderDiag> {
    wait_for(
        c,
        &format!("volume {id} to be {want}"),
        INSTANCE_TIMEOUT,
        || async {
            let Some(r) = describe!(
                "DescribeVolumes",
                c.ec2.describe_volumes().volume_ids(id).send()
            ) else {
                return Ok(None);
            };
            Ok(r.volumes()
                .first()
                .and_then(|v| v.state())
                .filter(|s| s.as_str() == want)
                .map(|_| ()))
        },
    )
    .await
}

async fn read_instance(
    c: &Clients,
    id: &str,
    prior: &Value,
) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeInstances",
        c.ec2.describe_instances().instance_ids(id).send()
    ) else {
        return Ok(None);
    };
    let Some(res) = r.reservations().iter().find(|r| !r.instances().is_empty()) else {
        return Ok(None);
    };
    let Some(i) = res.instances().first() else {
        return Ok(None);
    };
    let state = i
        .state()
        .and_then(|s| s.name())
        .map(|n| n.as_str().to_string())
        .unwrap_or_default();
    if state == "terminated" || state == "shutting-down" {
        return Ok(None);
    }
    let owner = res.owner_id().unwrap_or_default();
    let sgs = str_set(i.security_groups().iter().filter_map(|g| g.group_id()));
    let primary = i
        .network_interfaces()
        .iter()
        .find(|n| n.attachment().and_then(|a| a.device_index()) == Some(0));
    let root_dev = i.root_device_name().unwrap_or_default();
    let mut root = Vec::new();
    if let Some(m) = i
        .block_device_mappings()
        .iter()
        .find(|m| m.device_name() == Some(root_dev))
    {
        let vol_id = m.ebs().and_then(|e| e.volume_id()).unwrap_or_default();
        let vol = describe!(
            "DescribeVolumes",
            c.ec2.describe_volumes().volume_ids(vol_id).send()
        );
        let v = vol.as_ref().and_then(|r| r.volumes().first());
        root.push(Value::object([
            ("device_name", os(Some(root_dev))),
            ("volume_id", os(Some(vol_id))),
            (
                "delete_on_termination",
                m.ebs()
                    .and_then(|e| e.delete_on_termination())
                    .map(Value::Bool)
                    .unwrap_or(Value::Null(Type::Bool)),
            ),
            (
                "volume_size",
                v.and_then(|v| v.size())
                    .map(|n| Value::int(n as i64))
                    .unwrap_or(Value::Null(Type::Number)),
            ),
            (
                "volume_type",
                os(v.and_then(|v| v.volume_type()).map(|t| t.as_str())),
            ),
            (
                "encrypted",
                v.and_then(|v| v.encrypted())
                    .map(Value::Bool)
                    .unwrap_or(Value::Null(Type::Bool)),
            ),
            (
                "iops",
                v.and_then(|v| v.iops())
                    .map(|n| Value::int(n as i64))
                    .unwrap_or(Value::Null(Type::Number)),
            ),
        ]));
    }
    let (tags, tags_all) = tag_values(c, ec2_tags(i.tags()), prior);
    let public_ip = i.public_ip_address();
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("ami", os(i.image_id())),
            ("instance_type", os(i.instance_type().map(|t| t.as_str()))),
            ("subnet_id", os(i.subnet_id())),
            ("vpc_security_group_ids", sgs),
            ("key_name", os(i.key_name())),
            (
                "availability_zone",
                os(i.placement().and_then(|p| p.availability_zone())),
            ),
            (
                "associate_public_ip_address",
                Value::Bool(public_ip.is_some()),
            ),
            ("private_ip", os(i.private_ip_address())),
            ("public_ip", os(public_ip)),
            ("public_dns", os(i.public_dns_name())),
            ("private_dns", os(i.private_dns_name())),
            ("instance_state", state.as_str().into()),
            (
                "primary_network_interface_id",
                os(primary.and_then(|n| n.network_interface_id())),
            ),
            (
                "arn",
                format!("arn:aws:ec2:{}:{owner}:instance/{id}", c.region).into(),
            ),
            // AWS does not return user data with the instance; the configuration's is kept.
            ("user_data", attr(prior, "user_data").clone()),
            ("root_block_device", Value::List(root)),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

async fn read_volume(c: &Clients, id: &str, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let Some(r) = describe!(
        "DescribeVolumes",
        c.ec2.describe_volumes().volume_ids(id).send()
    ) else {
        return Ok(None);
    };
    let Some(v) = r.volumes().first() else {
        return Ok(None);
    };
    if v.state()
        .map(|s| matches!(s.as_str(), "deleted" | "deleting"))
        .unwrap_or(false)
    {
        return Ok(None);
    }
    let (tags, tags_all) = tag_values(c, ec2_tags(v.tags()), prior);
    let owner = v.owner_id().unwrap_or_default();
    Ok(Some(with(
        prior,
        vec![
            ("id", id.into()),
            ("availability_zone", os(v.availability_zone())),
            (
                "size",
                v.size()
                    .map(|n| Value::int(n as i64))
                    .unwrap_or(Value::Null(Type::Number)),
            ),
            ("type", os(v.volume_type().map(|t| t.as_str()))),
            (
                "iops",
                v.iops()
                    .map(|n| Value::int(n as i64))
                    .unwrap_or(Value::Null(Type::Number)),
            ),
            ("encrypted", Value::Bool(v.encrypted().unwrap_or(false))),
            ("snapshot_id", os(v.snapshot_id())),
            (
                "arn",
                v.volume_arn().map(Value::from).unwrap_or_else(|| {
                    format!("arn:aws:ec2:{}:{owner}:volume/{id}", c.region).into()
                }),
            ),
            ("tags", tags),
            ("tags_all", tags_all),
        ],
    )))
}

async fn read_attachment(c: &Clients, prior: &Value) -> Result<Option<Value>, ProviderDiag> {
    let (dev, vol, inst) = (
        req_str(prior, "device_name")?,
        req_str(prior, "volume_id")?,
        req_str(prior, "instance_id")?,
    );
    let Some(r) = describe!(
        "DescribeVolumes",
        c.ec2.describe_volumes().volume_ids(vol).send()
    ) else {
        return Ok(None);
    };
    let attached = r.volumes().iter().flat_map(|v| v.attachments()).any(|a| {
        a.instance_id() == Some(inst)
            && a.device() == Some(dev)
            && a.state()
                .map(|s| matches!(s.as_str(), "attached" | "attaching"))
                .unwrap_or(false)
    });
    if !attached {
        return Ok(None);
    }
    Ok(Some(with(
        prior,
        vec![
            ("id", attachment_id(dev, vol, inst).into()),
            ("force_detach", attr(prior, "force_detach").clone()),
            ("skip_destroy", attr(prior, "skip_destroy").clone()),
        ],
    )))
}
