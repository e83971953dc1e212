//! The built-in "terraform" provider: the `terraform_data` managed resource, with
//! Terraform 1.4's behaviour. `input` is stored and echoed as `output` (unknown in the
//! plan whenever `input` is unknown or changed); any change to `triggers_replace`
//! replaces the object; `id` is a random UUID chosen at create.

use std::sync::Arc;

use crate::providers::sdk::{
    apply_error, arg, attr, get_str, object_map, object_with, plan_error, read_error,
    unsupported_resource, value_eq,
};
use crate::lang::value::{Type, Value};
use crate::providers::{
    attr_path, ApplyRequest, ApplyResponse, AttributeSchema, BlockSchema, ImportResponse,
    PlanRequest, PlanResponse, Provider, ProviderDiag, ProviderSchema, ReadResponse,
    ResourceSchema,
};

pub const TERRAFORM_DATA: &str = "terraform_data";

pub fn new_provider() -> Arc<dyn Provider> {
    Arc::new(TerraformProvider::new())
}

/// The "terraform" provider.
pub struct TerraformProvider {
    schema: ProviderSchema,
}

impl Default for TerraformProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl TerraformProvider {
    pub fn new() -> Self {
        let mut schema = ProviderSchema::default();
        schema.resources.insert(
            TERRAFORM_DATA.to_string(),
            ResourceSchema {
                version: 0,
                block: data_block(),
            },
        );
        TerraformProvider { schema }
    }
}

fn data_block() -> BlockSchema {
    BlockSchema::new()
        .attr(
            "input",
            AttributeSchema::optional(Type::Dynamic)
                .describe("A value to store in the instance state; a change updates the instance and re-computes output."),
        )
        .attr("output", AttributeSchema::computed(Type::Dynamic).sensitive_with("input").describe("The value of input after apply."))
        .attr(
            "triggers_replace",
            AttributeSchema::optional(Type::Dynamic).describe("A value whose change replaces the instance."),
        )
        .attr("id", AttributeSchema::computed(Type::String).describe("A unique ID for the instance (a UUID)."))
}

/// Output's planned value for a new or changed input: null stays null (typed like the
/// input), anything else is unknown of the input's type.
fn pending_output(input: &Value) -> Value {
    if input.is_null() {
        input.clone()
    } else {
        Value::Unknown(input.type_of())
    }
}

#[async_trait::async_trait]
impl Provider for TerraformProvider {
    /// Its objects exist only in the state: a create lost in a crash leaves nothing behind.
    fn create_needs_intent(&self, _type_name: &str) -> bool {
        false
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn validate_resource(&self, type_name: &str, _config: &Value) -> Vec<ProviderDiag> {
        if type_name == TERRAFORM_DATA {
            Vec::new()
        } else {
            vec![unsupported_resource(type_name)]
        }
    }

    async fn read_resource(&self, type_name: &str, prior: &Value) -> ReadResponse {
        if type_name != TERRAFORM_DATA {
            return read_error(unsupported_resource(type_name));
        }
        // The object lives only in the state.
        ReadResponse {
            new_state: Some(prior.clone()),
            diags: Vec::new(),
        }
    }

    async fn plan_change(&self, req: PlanRequest<'_>) -> PlanResponse {
        if req.type_name != TERRAFORM_DATA {
            return plan_error(unsupported_resource(req.type_name));
        }
        let input = attr(req.config, "input").clone();
        let trigger = attr(req.config, "triggers_replace").clone();
        let mut requires_replace = Vec::new();
        let (output, id) = match req.prior {
            None => (pending_output(&input), Value::Unknown(Type::String)),
            Some(prior) if !value_eq(attr(prior, "triggers_replace"), &trigger) => {
                requires_replace.push(attr_path(&["triggers_replace"]));
                (pending_output(&input), Value::Unknown(Type::String))
            }
            Some(prior) if !value_eq(attr(prior, "input"), &input) => {
                (Value::Unknown(input.type_of()), attr(prior, "id").clone())
            }
            Some(prior) => (attr(prior, "output").clone(), attr(prior, "id").clone()),
        };
        let planned = Value::object([
            ("input", input),
            ("output", output),
            ("triggers_replace", trigger),
            ("id", id),
        ]);
        PlanResponse {
            planned,
            requires_replace,
            diags: Vec::new(),
        }
    }

    async fn apply_change(&self, req: ApplyRequest<'_>) -> ApplyResponse {
        if req.type_name != TERRAFORM_DATA {
            return apply_error(req.prior.cloned(), unsupported_resource(req.type_name));
        }
        let Some(planned) = req.planned else {
            return ApplyResponse {
                new_state: None,
                diags: Vec::new(),
            };
        };
        let mut obj = object_map(planned);
        for name in ["input", "triggers_replace"] {
            obj.insert(name.to_string(), arg(planned, req.config, name).clone());
        }
        let input = obj.get("input").cloned().unwrap_or(Value::null());
        if !input.is_wholly_known()
            || !obj
                .get("triggers_replace")
                .map(|v| v.is_wholly_known())
                .unwrap_or(true)
        {
            return apply_error(
                req.prior.cloned(),
                ProviderDiag::error(
                    "Unknown value at apply",
                    "input and triggers_replace must be known when applying.",
                ),
            );
        }
        if !obj
            .get("output")
            .map(|v| v.is_wholly_known())
            .unwrap_or(false)
        {
            obj.insert("output".to_string(), input);
        }
        let id_known = get_str(planned, "id").is_some() && req.prior.is_some();
        if !id_known {
            obj.insert(
                "id".to_string(),
                Value::String(uuid::Uuid::new_v4().to_string()),
            );
        }
        ApplyResponse {
            new_state: Some(Value::Object(obj)),
            diags: Vec::new(),
        }
    }

    async fn import(&self, type_name: &str, id: &str) -> ImportResponse {
        if type_name != TERRAFORM_DATA {
            return ImportResponse {
                state: None,
                diags: vec![unsupported_resource(type_name)],
            };
        }
        ImportResponse {
            state: Some(object_with(&data_block(), vec![("id", Value::from(id))])),
            diags: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::sdk::testutil::{identity, rr_names};
    use super::*;

    fn cfg(input: Value, trigger: Value) -> Value {
        Value::object([
            ("input", input),
            ("triggers_replace", trigger),
            ("output", Value::null()),
            ("id", Value::null()),
        ])
    }

    async fn create(p: &TerraformProvider, config: &Value) -> Value {
        let plan = p
            .plan_change(PlanRequest {
                type_name: TERRAFORM_DATA,
                prior: None,
                config,
            })
            .await;
        assert!(plan.diags.is_empty());
        let id = identity();
        let r = p
            .apply_change(ApplyRequest {
                type_name: TERRAFORM_DATA,
                prior: None,
                planned: Some(&plan.planned),
                config,
                identity: &id,
            })
            .await;
        assert!(r.diags.is_empty());
        r.new_state.expect("created")
    }

    #[tokio::test]
    async fn create_sets_uuid_and_output() {
        let p = TerraformProvider::new();
        let config = cfg(Value::from("hello"), Value::null());
        let plan = p
            .plan_change(PlanRequest {
                type_name: TERRAFORM_DATA,
                prior: None,
                config: &config,
            })
            .await;
        assert!(attr(&plan.planned, "output").is_unknown());
        assert!(attr(&plan.planned, "id").is_unknown());
        let s = create(&p, &config).await;
        assert_eq!(attr(&s, "output"), &Value::from("hello"));
        let id = get_str(&s, "id").expect("id");
        assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    }

    #[tokio::test]
    async fn null_input_plans_null_output() {
        let p = TerraformProvider::new();
        let config = cfg(Value::null(), Value::null());
        let plan = p
            .plan_change(PlanRequest {
                type_name: TERRAFORM_DATA,
                prior: None,
                config: &config,
            })
            .await;
        assert!(attr(&plan.planned, "output").is_null());
    }

    #[tokio::test]
    async fn unchanged_is_noop_input_change_updates_trigger_change_replaces() {
        let p = TerraformProvider::new();
        let config = cfg(Value::from("a"), Value::from("t1"));
        let s = create(&p, &config).await;

        let plan = p
            .plan_change(PlanRequest {
                type_name: TERRAFORM_DATA,
                prior: Some(&s),
                config: &config,
            })
            .await;
        assert!(plan.requires_replace.is_empty());
        assert_eq!(plan.planned, s, "no-op plan equals prior");

        let changed = cfg(Value::from("b"), Value::from("t1"));
        let plan = p
            .plan_change(PlanRequest {
                type_name: TERRAFORM_DATA,
                prior: Some(&s),
                config: &changed,
            })
            .await;
        assert!(plan.requires_replace.is_empty());
        assert!(attr(&plan.planned, "output").is_unknown());
        assert_eq!(attr(&plan.planned, "id"), attr(&s, "id"));
        let id = identity();
        let r = p
            .apply_change(ApplyRequest {
                type_name: TERRAFORM_DATA,
                prior: Some(&s),
                planned: Some(&plan.planned),
                config: &changed,
                identity: &id,
            })
            .await;
        let s2 = r.new_state.expect("updated");
        assert_eq!(attr(&s2, "output"), &Value::from("b"));
        assert_eq!(attr(&s2, "id"), attr(&s, "id"), "update keeps the id");

        let retrigger = cfg(Value::from("b"), Value::from("t2"));
        let plan = p
            .plan_change(PlanRequest {
                type_name: TERRAFORM_DATA,
                prior: Some(&s2),
                config: &retrigger,
            })
            .await;
        assert_eq!(rr_names(&plan.requires_replace), vec!["triggers_replace"]);
        assert!(attr(&plan.planned, "id").is_unknown());
    }

    #[tokio::test]
    async fn unknown_input_plans_unknown_output() {
        let p = TerraformProvider::new();
        let s = create(&p, &cfg(Value::from("a"), Value::null())).await;
        let config = cfg(Value::Unknown(Type::String), Value::null());
        let plan = p
            .plan_change(PlanRequest {
                type_name: TERRAFORM_DATA,
                prior: Some(&s),
                config: &config,
            })
            .await;
        assert!(attr(&plan.planned, "output").is_unknown());
        assert!(plan.requires_replace.is_empty());
    }

    #[tokio::test]
    async fn delete_and_import() {
        let p = TerraformProvider::new();
        let s = create(&p, &cfg(Value::int(1), Value::null())).await;
        let id = identity();
        let config = Value::null();
        let r = p
            .apply_change(ApplyRequest {
                type_name: TERRAFORM_DATA,
                prior: Some(&s),
                planned: None,
                config: &config,
                identity: &id,
            })
            .await;
        assert!(r.new_state.is_none() && r.diags.is_empty());
        let imp = p.import(TERRAFORM_DATA, "abc").await;
        assert_eq!(
            imp.state.as_ref().and_then(|s| get_str(s, "id")),
            Some("abc")
        );
        assert!(!p.validate_resource("terraform_nope", &config).is_empty());
    }
}
