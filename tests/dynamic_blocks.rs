//! `dynamic` blocks, planned by the engine against the recording mock provider with a
//! schema of nested blocks (list, set and single nesting, a list nested in a list).
//!
//! There is no oracle for these: Terraform 1.0.3 can only expand `dynamic` blocks of a
//! provider's resource, and none of its built-in resources has nested blocks. So the
//! expectations below are checked against HCL's documented semantics (Terraform's
//! "dynamic Blocks" documentation and hashicorp/hcl `ext/dynblock` at v2.10.0, the version
//! Terraform 1.0.3 uses: `expand_body.go`, `expand_spec.go`, `iteration.go`, and
//! `hcldec/spec.go` for an unknown `for_each`), not against recorded Terraform output:
//! - one block per element: lists and tuples in order with the index as `key`, sets in
//!   their order with the element as `key`, maps and objects by key (sorted);
//! - the iterator is named by `iterator`, else by the block type; it holds `key` and
//!   `value`; a nested dynamic block sees the enclosing iterators too;
//! - generated and static blocks of a type keep their source order;
//! - an unknown `for_each` makes the whole value of that block type unknown, while the
//!   `content` is still checked;
//! - a null or non-collection `for_each` is an error on the `for_each` expression;
//! - a name in `content` that is not an iterator is an ordinary reference (for
//!   `rule.value` with `iterator = r`: a reference to an undeclared resource).
//!
//! Written inline rather than as fixture directories: each configuration is a few lines and
//! reads best next to what it must produce.

use std::sync::Arc;

use serde_json::{json, Value as J};
use terrane::config::load::load_dir_with_files;
use terrane::diag::{Diagnostic, Diagnostics};
use terrane::engine::{Engine, PlanOptions};
use terrane::lang::value::{Type, Value};
use terrane::plan::Plan;
use terrane::providers::mock::{mock_registry_with_builtins, MockProvider};
use terrane::providers::{
    AttributeSchema, BlockSchema, NestedBlockSchema, Nesting, ProviderSchema, ResourceSchema,
};
use terrane::state::State;

fn nested(nesting: Nesting, min: usize, max: usize, block: BlockSchema) -> NestedBlockSchema {
    NestedBlockSchema {
        nesting,
        min_items: min,
        max_items: max,
        force_new: false,
        block,
    }
}

/// `mock_thing`: `name`, computed `id`; `rule` blocks (list) with `port`, `proto`, `note`
/// and nested `cidr` blocks (list) with `block`; `tag` blocks (set) with `key`, `value`;
/// at most one `settings` block with `mode`; at most two `limit` blocks with `n`.
fn schema() -> ProviderSchema {
    let cidr = BlockSchema::new().attr("block", AttributeSchema::optional(Type::String));
    let rule = BlockSchema::new()
        .attr("port", AttributeSchema::optional(Type::Number))
        .attr("proto", AttributeSchema::optional(Type::String))
        .attr("note", AttributeSchema::optional(Type::String))
        .block("cidr", nested(Nesting::List, 0, 0, cidr));
    let tag = BlockSchema::new()
        .attr("key", AttributeSchema::optional(Type::String))
        .attr("value", AttributeSchema::optional(Type::String));
    let settings = BlockSchema::new().attr("mode", AttributeSchema::optional(Type::String));
    let limit = BlockSchema::new().attr("n", AttributeSchema::optional(Type::Number));
    let mut s = ProviderSchema::default();
    s.resources.insert(
        "mock_thing".to_string(),
        ResourceSchema {
            version: 0,
            block: BlockSchema::new()
                .attr("name", AttributeSchema::required(Type::String))
                .attr("id", AttributeSchema::computed(Type::String))
                .block("rule", nested(Nesting::List, 0, 0, rule))
                .block("tag", nested(Nesting::Set, 0, 0, tag))
                .block("settings", nested(Nesting::Single, 0, 1, settings))
                .block("limit", nested(Nesting::List, 0, 2, limit)),
        },
    );
    s
}

/// An engine for `config` (as `main.tf`) with the mock, which lives as long as the
/// engine (the registry holds only a weak reference to it).
struct Case {
    engine: Engine,
    _mock: Arc<MockProvider>,
    _dir: tempfile::TempDir,
}

fn engine(config: &str) -> Case {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, diags) =
        load_dir_with_files(dir.path(), vec![("main.tf".into(), config.to_string())]);
    assert!(!diags.has_errors(), "does not load: {diags:?}");
    let mock = Arc::new(MockProvider::with_schema(schema()));
    Case {
        engine: Engine::new(
            cfg.expect("a configuration"),
            mock_registry_with_builtins(mock.clone()),
            dir.path().to_path_buf(),
        ),
        _mock: mock,
        _dir: dir,
    }
}

async fn plan(config: &str) -> (Option<Plan>, Diagnostics) {
    engine(config)
        .engine
        .plan(&State::new(), &PlanOptions::default())
        .await
}

/// The planned object of `addr`.
async fn planned(config: &str, addr: &str) -> Value {
    let (p, diags) = plan(config).await;
    let p = p.unwrap_or_else(|| panic!("plan failed: {diags:?}"));
    p.changes
        .iter()
        .find(|c| c.addr.to_string() == addr)
        .and_then(|c| c.after.clone())
        .unwrap_or_else(|| panic!("no planned {addr}"))
}

/// A planned value as JSON without its null attributes (unset arguments).
fn known(v: &Value) -> J {
    fn strip(j: J) -> J {
        match j {
            J::Object(m) => J::Object(
                m.into_iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k, strip(v)))
                    .collect(),
            ),
            J::Array(a) => J::Array(a.into_iter().map(strip).collect()),
            other => other,
        }
    }
    strip(v.to_json())
}

fn attr<'v>(v: &'v Value, name: &str) -> &'v Value {
    v.get_attr(name)
        .unwrap_or_else(|| panic!("no attribute {name} in {v:?}"))
}

/// The one error diagnostic with this summary, and the source text it points at.
fn the_error<'d>(diags: &'d Diagnostics, summary: &str) -> (&'d Diagnostic, String) {
    let found: Vec<&Diagnostic> = diags.iter().filter(|d| d.summary == summary).collect();
    assert_eq!(found.len(), 1, "one {summary:?} wanted in {diags:?}");
    let d = found[0];
    let text = d.span.as_ref().map(|s| s.text().to_string());
    (d, text.unwrap_or_else(|| panic!("{summary:?} has no span")))
}

async fn plan_errors(config: &str) -> Diagnostics {
    let (p, diags) = plan(config).await;
    assert!(
        p.is_none() && diags.has_errors(),
        "plan should fail: {diags:?}"
    );
    diags
}

#[tokio::test]
async fn for_each_over_a_list_keys_by_index() {
    let v = planned(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = ["tcp", "udp", "tcp"]
    content {
      port  = rule.key
      proto = rule.value
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    assert_eq!(
        known(attr(&v, "rule")),
        json!([
            {"port": 0, "proto": "tcp", "cidr": []},
            {"port": 1, "proto": "udp", "cidr": []},
            {"port": 2, "proto": "tcp", "cidr": []},
        ])
    );
}

#[tokio::test]
async fn for_each_over_a_map_and_an_object_goes_by_sorted_key() {
    for coll in [
        r#"{ zeta = "z", alpha = "a" }"#,
        r#"tomap({ zeta = "z", alpha = "a" })"#,
    ] {
        let v = planned(
            &format!(
                r#"
resource "mock_thing" "a" {{
  name = "a"
  dynamic "rule" {{
    for_each = {coll}
    content {{
      proto = rule.key
      note  = rule.value
    }}
  }}
}}
"#
            ),
            "mock_thing.a",
        )
        .await;
        assert_eq!(
            known(attr(&v, "rule")),
            json!([
                {"proto": "alpha", "note": "a", "cidr": []},
                {"proto": "zeta", "note": "z", "cidr": []},
            ]),
            "for_each = {coll}"
        );
    }
}

#[tokio::test]
async fn for_each_over_a_set_keys_by_the_element() {
    let v = planned(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = toset(["b", "a", "b", "c"])
    content {
      proto = rule.key
      note  = rule.value
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    assert_eq!(
        known(attr(&v, "rule")),
        json!([
            {"proto": "a", "note": "a", "cidr": []},
            {"proto": "b", "note": "b", "cidr": []},
            {"proto": "c", "note": "c", "cidr": []},
        ])
    );
}

#[tokio::test]
async fn for_each_over_objects_reads_their_attributes() {
    let v = planned(
        r#"
variable "rules" {
  default = [
    { port = 22, proto = "tcp" },
    { port = 53, proto = "udp" },
  ]
}
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = var.rules
    content {
      port  = rule.value.port
      proto = rule.value.proto
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    assert_eq!(
        known(attr(&v, "rule")),
        json!([
            {"port": 22, "proto": "tcp", "cidr": []},
            {"port": 53, "proto": "udp", "cidr": []},
        ])
    );
}

#[tokio::test]
async fn a_custom_iterator_replaces_the_block_name() {
    let v = planned(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = { ssh = 22 }
    iterator = r
    content {
      port = r.value
      note = "${r.key}=${r.value}"
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    assert_eq!(
        known(attr(&v, "rule")),
        json!([{"port": 22, "note": "ssh=22", "cidr": []}])
    );
}

#[tokio::test]
async fn nested_dynamic_blocks_see_the_outer_iterator() {
    let v = planned(
        r#"
locals {
  rules = {
    web = ["10.0.0.0/8", "192.168.0.0/16"]
    db  = ["10.1.0.0/16"]
  }
}
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = local.rules
    content {
      proto = rule.key
      dynamic "cidr" {
        for_each = rule.value
        iterator = c
        content {
          block = "${rule.key}:${c.key}:${c.value}"
        }
      }
      # The inner iterator's default name is its block type.
      dynamic "cidr" {
        for_each = slice(rule.value, 0, 1)
        content {
          block = "${rule.key}/${cidr.value}"
        }
      }
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    assert_eq!(
        known(attr(&v, "rule")),
        json!([
            {"proto": "db", "cidr": [
                {"block": "db:0:10.1.0.0/16"},
                {"block": "db/10.1.0.0/16"},
            ]},
            {"proto": "web", "cidr": [
                {"block": "web:0:10.0.0.0/8"},
                {"block": "web:1:192.168.0.0/16"},
                {"block": "web/10.0.0.0/8"},
            ]},
        ])
    );
}

#[tokio::test]
async fn static_and_dynamic_blocks_keep_source_order() {
    let v = planned(
        r#"
resource "mock_thing" "a" {
  name = "a"
  rule {
    port = 1
  }
  dynamic "rule" {
    for_each = [2, 3]
    content {
      port = rule.value
    }
  }
  rule {
    port = 4
  }
  dynamic "rule" {
    for_each = []
    content {
      port = 99
    }
  }
  dynamic "rule" {
    for_each = [5]
    content {
      port = rule.value
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    let ports: Vec<J> = match known(attr(&v, "rule")) {
        J::Array(a) => a.into_iter().map(|r| r["port"].clone()).collect(),
        other => panic!("rule is {other}"),
    };
    assert_eq!(ports, [1, 2, 3, 4, 5].map(|n| json!(n)));
}

#[tokio::test]
async fn set_and_single_nesting() {
    let v = planned(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "tag" {
    for_each = { env = "prod", app = "web" }
    content {
      key   = tag.key
      value = tag.value
    }
  }
  tag {
    key   = "env"
    value = "prod"
  }
  dynamic "settings" {
    for_each = ["fast"]
    content {
      mode = settings.value
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    // A set: the static tag equal to a generated one is the same element.
    match attr(&v, "tag") {
        Value::Set(items) => assert_eq!(items.len(), 2, "{items:?}"),
        other => panic!("tag is {other:?}"),
    }
    assert_eq!(known(attr(&v, "settings")), json!({"mode": "fast"}));
}

#[tokio::test]
async fn an_empty_for_each_generates_nothing_and_block_limits_count_generated_blocks() {
    let v = planned(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = {}
    content {
      port = 1
    }
  }
  dynamic "settings" {
    for_each = []
    content {
      mode = "x"
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    assert_eq!(known(attr(&v, "rule")), json!([]));
    assert!(attr(&v, "settings").is_null());

    let diags = plan_errors(
        r#"
resource "mock_thing" "a" {
  name = "a"
  limit {
    n = 0
  }
  dynamic "limit" {
    for_each = [1, 2]
    content {
      n = limit.value
    }
  }
}
"#,
    )
    .await;
    let (d, _) = the_error(&diags, "Too many blocks");
    assert!(
        d.detail.contains("No more than 2 \"limit\" blocks"),
        "{d:?}"
    );
}

#[tokio::test]
async fn an_unknown_for_each_makes_the_whole_block_value_unknown() {
    let config = r#"
resource "mock_thing" "a" {
  name = "a"
}
resource "mock_thing" "b" {
  name = "b"
  rule {
    port = 1
  }
  dynamic "rule" {
    for_each = mock_thing.a.id == "" ? [] : ["x"]
    content {
      proto = rule.value
    }
  }
  dynamic "tag" {
    for_each = { (mock_thing.a.id) = "x" }
    content {
      key = tag.key
    }
  }
  dynamic "limit" {
    for_each = LIMITS
    content {
      n = 1
    }
  }
}
"#;
    let v = planned(
        &config.replace("LIMITS", "mock_thing.a.id == \"\" ? [] : [1, 2, 3]"),
        "mock_thing.b",
    )
    .await;
    // Not a list with an unknown element: the list itself is unknown, and typed.
    let rule = attr(&v, "rule");
    assert!(rule.is_unknown(), "{rule:?}");
    assert!(
        matches!(rule.type_of(), Type::List(ref t) if matches!(**t, Type::Object(_))),
        "{:?}",
        rule.type_of()
    );
    let tag = attr(&v, "tag");
    assert!(
        tag.is_unknown() && matches!(tag.type_of(), Type::Set(_)),
        "{tag:?}"
    );
    // Nothing can be counted yet: three `limit` blocks may turn out to be none.
    let limit = attr(&v, "limit");
    assert!(
        limit.is_unknown() && matches!(limit.type_of(), Type::List(_)),
        "{limit:?}"
    );
    // A known number of elements, one of them unknown, is that many blocks: here more
    // than `limit` allows.
    let diags = plan_errors(&config.replace("LIMITS", "[1, 2, mock_thing.a.id]")).await;
    the_error(&diags, "Too many blocks");
    // Likewise a set holding one unknown element is known to hold one (cty iterates it):
    // one block, whose iterator value is unknown.
    let v = planned(
        &config
            .replace(
                "mock_thing.a.id == \"\" ? [] : [\"x\"]",
                "toset([mock_thing.a.id])",
            )
            .replace("LIMITS", "[]"),
        "mock_thing.b",
    )
    .await;
    let rule = attr(&v, "rule");
    match rule {
        Value::List(items) => {
            assert_eq!(items.len(), 2, "{rule:?}");
            assert!(attr(&items[1], "proto").is_unknown(), "{rule:?}");
        }
        other => panic!("rule is {other:?}"),
    }
}

#[tokio::test]
async fn content_is_checked_even_when_for_each_is_unknown() {
    let diags = plan_errors(
        r#"
resource "mock_thing" "a" {
  name = "a"
}
resource "mock_thing" "b" {
  name = "b"
  dynamic "rule" {
    for_each = toset([mock_thing.a.id])
    content {
      prot = rule.value
    }
  }
}
"#,
    )
    .await;
    let (d, text) = the_error(&diags, "Unsupported argument");
    assert_eq!(text, "prot");
    assert!(d.help.as_deref().unwrap_or("").contains("proto"), "{d:?}");
}

#[test]
fn validate_checks_dynamic_content() {
    let e = engine(
        r#"
variable "rules" {
  type = list(string)
}
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = var.rules
    content {
      port = upper(rule.value, 1)
      bogus = 1
    }
  }
}
"#,
    );
    let diags = e.engine.validate();
    let (_, text) = the_error(&diags, "Unsupported argument");
    assert_eq!(text, "bogus");
    let (_, text) = the_error(&diags, "Too many function arguments");
    assert_eq!(text, "1");
}

#[tokio::test]
async fn a_null_for_each_is_an_error_on_the_expression() {
    let diags = plan_errors(
        r#"
variable "rules" {
  type    = list(string)
  default = null
}
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = var.rules
    content {
      proto = rule.value
    }
  }
}
"#,
    )
    .await;
    let (d, text) = the_error(&diags, "Invalid dynamic for_each value");
    assert_eq!(text, "var.rules");
    assert_eq!(d.detail, "Cannot use a null value in for_each.");
    assert!(d.help.is_some());
}

#[tokio::test]
async fn a_for_each_that_is_not_a_collection_is_an_error() {
    for (coll, kind) in [(r#""tcp""#, "string"), ("22", "number"), ("true", "bool")] {
        let diags = plan_errors(&format!(
            r#"
resource "mock_thing" "a" {{
  name = "a"
  dynamic "rule" {{
    for_each = {coll}
    content {{
      proto = "x"
    }}
  }}
}}
"#
        ))
        .await;
        let (d, text) = the_error(&diags, "Invalid dynamic for_each value");
        assert_eq!(text, coll);
        assert_eq!(
            d.detail,
            format!("Cannot use a {kind} value in for_each. An iterable collection is required.")
        );
    }
}

#[tokio::test]
async fn content_referring_to_a_name_that_is_not_the_iterator() {
    // With `iterator = r`, `rule` is no iterator: `rule.value` is a resource reference.
    let diags = plan_errors(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = ["x"]
    iterator = r
    content {
      proto = rule.value
    }
  }
}
"#,
    )
    .await;
    let (d, text) = the_error(&diags, "Reference to undeclared resource");
    assert_eq!(text, "rule.value");
    assert!(d.detail.contains("\"rule\" \"value\""), "{d:?}");

    // A name bound nowhere.
    let diags = plan_errors(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = ["x"]
    content {
      proto = item
    }
  }
}
"#,
    )
    .await;
    let (_, text) = the_error(&diags, "Invalid reference");
    assert_eq!(text, "item");

    // The iterator has only `key` and `value`.
    let diags = plan_errors(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = ["x"]
    content {
      proto = rule.name
    }
  }
}
"#,
    )
    .await;
    let (_, text) = the_error(&diags, "Unsupported attribute");
    assert!(text.contains("name"), "{text}");

    // An inner iterator is not visible outside its own content.
    let diags = plan_errors(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = ["x"]
    content {
      dynamic "cidr" {
        for_each = ["10.0.0.0/8"]
        iterator = c
        content {
          block = c.value
        }
      }
      proto = c.value
    }
  }
}
"#,
    )
    .await;
    let (_, text) = the_error(&diags, "Reference to undeclared resource");
    assert_eq!(text, "c.value");
}

#[tokio::test]
async fn labels_are_rejected_as_nested_blocks_take_none() {
    let diags = plan_errors(
        r#"
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = ["x"]
    labels   = [rule.value]
    content {
      proto = rule.value
    }
  }
}
"#,
    )
    .await;
    let (d, text) = the_error(&diags, "Unsupported argument");
    assert_eq!(text, "labels");
    assert!(
        d.help.as_deref().unwrap_or("").contains("no labels"),
        "{d:?}"
    );
}

#[tokio::test]
async fn malformed_dynamic_blocks() {
    let cases: &[(&str, &str, &str)] = &[
        (
            r#"dynamic "rul" {
    for_each = []
    content {}
  }"#,
            "Unsupported block type",
            "\"rul\"",
        ),
        (
            r#"dynamic "rule" {
    content {}
  }"#,
            "Missing required argument",
            "dynamic",
        ),
        (
            r#"dynamic "rule" {
    for_each = []
  }"#,
            "Missing dynamic content block",
            "dynamic",
        ),
        (
            r#"dynamic "rule" {
    for_each = []
    content {}
    content {}
  }"#,
            "Extraneous dynamic content block",
            "content",
        ),
        (
            r#"dynamic "rule" {
    for_each = []
    iterator = a.b
    content {}
  }"#,
            "Invalid dynamic iterator name",
            "a.b",
        ),
        (
            r#"dynamic "rule" {
    for_each = []
    iterator = "r"
    content {}
  }"#,
            "Invalid expression",
            "\"r\"",
        ),
        (
            r#"dynamic "rule" {
    for_each = []
    rule {}
  }"#,
            "Unsupported block type",
            "rule",
        ),
        (
            r#"dynamic {
    for_each = []
    content {}
  }"#,
            "Missing type for dynamic",
            "dynamic",
        ),
    ];
    for (block, summary, at) in cases {
        let config = format!("resource \"mock_thing\" \"a\" {{\n  name = \"a\"\n  {block}\n}}\n");
        let diags = plan_errors(&config).await;
        let (_, text) = the_error(&diags, summary);
        assert_eq!(&text, at, "{config}");
    }
}

#[tokio::test]
async fn sensitive_for_each_marks_the_generated_blocks() {
    let v = planned(
        r#"
variable "ports" {
  type      = list(number)
  default   = [22]
  sensitive = true
}
resource "mock_thing" "a" {
  name = "a"
  dynamic "rule" {
    for_each = var.ports
    content {
      port = rule.value
    }
  }
}
"#,
        "mock_thing.a",
    )
    .await;
    assert!(attr(&v, "rule").contains_sensitive());
}
