"""deploy/prometheus: the rules load, the alerts fire when they should
(promtool test rules), and every query of the Grafana dashboard parses and
uses only series the server exports or the rules record."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from realservers.promtool import check_rules, test_rules

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES, ALERTS = DEPLOY / "prometheus" / "rules.yml", DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "essaim.json"
#: Grafana's variables, replaced by what they stand for so promtool can parse the query.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$instance": ".*"}


def _ok(result) -> None:
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_files_are_valid():
    _ok(check_rules(RULES, ALERTS))


def test_alerts_fire_on_their_unit_tests():
    _ok(test_rules(DEPLOY / "prometheus" / "tests" / "alerts_test.yml"))


def test_every_alert_has_a_unit_test_that_expects_it_to_fire():
    alerts = {r["alert"] for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]}
    tests = yaml.safe_load((DEPLOY / "prometheus" / "tests" / "alerts_test.yml").read_text())["tests"]
    firing = {t["alertname"] for case in tests for t in case.get("alert_rule_test", ()) if t["exp_alerts"]}
    assert alerts == firing, f"alerts without a firing test: {sorted(alerts - firing)}"


def _dashboard_queries() -> list[str]:
    doc = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for panel in doc["panels"] for t in panel.get("targets", ())]
    for var in doc["templating"]["list"]:
        if var["type"] == "query":
            queries.append(re.sub(r"label_values\((\w+), \w+\)", r"\1", var["definition"]))
    return queries


def test_every_dashboard_query_parses(tmp_path):
    """promtool parses each query as the expression of a recording rule."""
    queries = _dashboard_queries()
    assert len(queries) >= 15
    rules = []
    for i, query in enumerate(queries):
        for var, value in GRAFANA_VARIABLES.items():
            query = query.replace(var, value)
        assert "$" not in query, f"an unknown Grafana variable in {query!r}"
        rules.append({"record": f"dashboard:query_{i}", "expr": query})
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    _ok(check_rules(path))


def test_dashboard_and_rules_use_only_series_that_exist():
    """Every metric name the dashboard and the rules read is exported by the
    server (docs/operations.md lists them) or recorded by rules.yml."""
    documented = set(re.findall(r"`(essaim_[a-z_]+)", (DEPLOY.parent / "docs" / "operations.md").read_text()))
    recorded = {r["record"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    standard = {"up", "process_open_fds", "process_max_fds", "process_cpu_seconds_total",
                "process_resident_memory_bytes"}
    texts = _dashboard_queries() + [r["expr"] for f in (RULES, ALERTS)
                                    for g in yaml.safe_load(f.read_text())["groups"] for r in g["rules"]]
    for text in texts:
        for name in re.findall(r"\b((?:essaim|process)_[a-z_]+|essaim:[a-z0-9_:]+|up)\b", text):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert name in recorded | standard or base in documented, f"{name} in {text!r} is not exported"


def _metrics_table() -> set[str]:
    """The metric families of docs/operations.md's metrics table (its rows, not the prose around it)."""
    text = (DEPLOY.parent / "docs" / "operations.md").read_text()
    rows = [line.split("|")[1] for line in text.splitlines() if line.startswith("| `essaim_")]
    return {name for row in rows for name in re.findall(r"`(essaim_[a-z_]+)", row)}


def test_every_metric_the_server_exports_is_on_the_dashboard():
    """Directly, or through a recording rule the dashboard reads: a metric the
    documentation promises but no panel shows is one an SRE finds only when
    the campaign is already in trouble."""
    records = {r["record"]: r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]}
    shown = "\n".join(_dashboard_queries())
    shown += "\n" + "\n".join(expr for record, expr in records.items() if record in shown)
    read = {re.sub(r"_(bucket|count|sum)$", "", name) for name in re.findall(r"\bessaim_[a-z_]+", shown)}
    exported = _metrics_table()
    assert len(exported) >= 30, f"docs/operations.md's metrics table was not found: {sorted(exported)}"
    assert not exported - read, f"exported but not on deploy/grafana/essaim.json: {sorted(exported - read)}"
