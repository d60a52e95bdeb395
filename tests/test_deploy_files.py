"""The files of deploy/ name only what exists: the alert rules and the dashboard parse and query
only metrics the bot exposes; the systemd units run real subcommands and set real settings; nginx
passes on only paths the app serves."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import yaml

from bot.app import create_app
from bot.cli import _parser
from bot.config import Settings
from bot.metrics import Metrics
from tests.harness import make_settings

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
# What Prometheus itself adds to every scrape.
PROMETHEUS_OWN = {"up"}
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
# PromQL words that look like metric names: functions are followed by "(", these are not always.
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and", "or", "unless", "offset"}


def exposed() -> set[str]:
    """Every series name the bot's registry can produce, as Prometheus stores them."""
    names = set()
    for family in Metrics().registry.collect():
        names.update(family.name + suffix for suffix in SUFFIXES[family.type])
    return names


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings: label values
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges, with Grafana's $__rate_interval
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)  # label lists
    words = re.findall(r"(?<![\w.$])([a-zA-Z_:][\w:]*)\b(?!\s*\()", expr)
    return {word for word in words if word not in KEYWORDS}


def alert_rules() -> list[dict]:
    return [rule for group in yaml.safe_load((DEPLOY / "prometheus/alerts.yml").read_text())["groups"]
            for rule in group["rules"]]  # fmt: skip


def dashboard_exprs() -> list[str]:
    dashboard = json.loads((DEPLOY / "grafana/dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def test_metric_names_are_read_from_promql_without_functions_labels_or_ranges():
    expr = 'sum by (kind) (rate(rb_replies_total{kind="late"}[10m])) > 0.05 * sum(rate(rb_messages_total[$__range]))'
    assert metric_names(expr) == {"rb_replies_total", "rb_messages_total"}
    assert metric_names("histogram_quantile(0.95, sum by (le) (rate(rb_handling_seconds_bucket[5m])))") == {
        "rb_handling_seconds_bucket"
    }
    assert metric_names("max(delta(rb_outbox_failed[1h])) > 0 and up offset 1h == 1e-9") == {"rb_outbox_failed", "up"}


# -- Prometheus alert rules ----------------------------------------------------------------------------


def test_the_alert_rules_parse_and_each_has_an_expression_a_severity_and_a_summary():
    rules = alert_rules()
    assert rules
    for rule in rules:
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["alert"]) and rule["expr"].strip()
        assert rule["labels"]["severity"] in {"page", "ticket"} and rule["annotations"]["summary"]


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_an_alert_reads_only_metrics_the_bot_exposes(rule):
    assert metric_names(rule["expr"]) <= exposed() | PROMETHEUS_OWN


@pytest.mark.parametrize(
    "reads",
    [
        "rb_handler_errors_total",  # the error rate
        'rb_replies_total{kind="late"}',  # late replies
        'rb_pushes_total{result="failed"}',  # push failures
        "rb_outbox_failed",  # pushes given up by any sender
        "rb_outbox_oldest_due_seconds",  # the outbox's age
    ],
)
def test_the_alerts_watch_errors_late_replies_push_failures_and_the_outbox_age(reads):
    assert any(reads in rule["expr"] for rule in alert_rules())


# -- the Grafana dashboard -----------------------------------------------------------------------------


def test_the_dashboard_parses_and_every_panel_queries_its_data_source():
    dashboard = json.loads((DEPLOY / "grafana/dashboard.json").read_text())
    assert dashboard["uid"] and dashboard["panels"]
    assert all(panel["targets"] and panel["datasource"]["uid"] == "${datasource}" for panel in dashboard["panels"])


@pytest.mark.parametrize("expr", dashboard_exprs())
def test_a_dashboard_query_reads_only_metrics_the_bot_exposes(expr):
    assert metric_names(expr) and metric_names(expr) <= exposed() | PROMETHEUS_OWN


def test_the_dashboard_shows_every_metric_the_bot_exposes():
    shown = set().union(*map(metric_names, dashboard_exprs()))
    assert {name for name in exposed() if not name.endswith(("_count", "_sum"))} - shown == set()


# -- systemd units -------------------------------------------------------------------------------------


def unit(name: str) -> dict[str, list[str]]:
    """A unit file's settings, each key with all its values in order."""
    settings: dict[str, list[str]] = {}
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.parametrize(("name", "command"), [("residence-bot-serve@.service", "serve"),
                                               ("residence-bot-worker@.service", "worker")])  # fmt: skip
def test_a_unit_runs_a_residence_bot_subcommand_that_exists(name, command):
    [exec_start] = unit(name)["ExecStart"]
    program, *argv = shlex.split(exec_start)
    assert program.endswith("/residence-bot")
    assert _parser().parse_args(argv).command == command


def setting_exists(variable: str) -> bool:
    """RB_<SECTION>__<KEY>[__<KEY>…] names a field of Settings."""
    model: object = Settings
    for part in variable.removeprefix("RB_").lower().split("__"):
        fields = getattr(model, "model_fields", {})
        if part not in fields:
            return False
        model = fields[part].annotation
    return True


@pytest.mark.parametrize("name", ["residence-bot-serve@.service", "residence-bot-worker@.service"])
def test_a_unit_sets_only_settings_that_exist(name):
    variables = [value.partition("=")[0] for value in unit(name)["Environment"]]
    assert variables and all(v == "RB_CONFIG" or setting_exists(v) for v in variables)


def test_each_serve_instance_listens_on_the_port_it_is_named_for():
    assert "RB_SERVER__PORT=%i" in unit("residence-bot-serve@.service")["Environment"]


# -- nginx ---------------------------------------------------------------------------------------------


NGINX = (DEPLOY / "nginx.conf").read_text()


def test_nginx_passes_on_only_paths_the_app_serves(tmp_path):
    # A sub-app (the admin API) is one resource, its prefix: "/admin/api".
    paths = [r.canonical + "/" for r in create_app(make_settings(tmp_path)).router.resources()]
    proxied = re.findall(r"location\s+(=\s+)?(\S+)\s*\{[^}]*proxy_pass", NGINX)
    assert proxied
    for exact, location in proxied:
        assert (location + "/" in paths) if exact else any(path.startswith(location) for path in paths), location


def test_nginx_leaves_metrics_and_health_to_each_process_port():
    locations = re.findall(r"location\s+(?:=\s+)?(\S+)\s*\{", NGINX)
    assert not {"/metrics", "/healthz", "/readyz"} & set(locations)
    assert re.search(r"location / \{\s*return 404;", NGINX)


def test_nginx_sends_to_the_ports_of_the_serve_instances_the_docs_enable():
    ports = re.findall(r"server 127\.0\.0\.1:(\d+);", NGINX)
    docs = (DEPLOY.parent / "docs/deploy.md").read_text()
    assert ports and all(f"residence-bot-serve@{port}" in docs for port in ports)
