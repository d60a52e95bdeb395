"""The operator's commands, run as real processes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.processes import REPO, ServeProcess, bot_env, run_cli

CONFIG = str(REPO / "config.yaml")


def test_a_bad_setting_stops_start_up_with_one_line_naming_it(tmp_path):
    result = run_cli(bot_env(tmp_path, RB_WECHAT__MODE="secret"), "serve")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["config: wechat.mode: Input should be 'plain', 'compat' or 'safe'"]


def test_a_bad_value_in_the_yaml_file_is_named_too(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text((REPO / "config.yaml").read_text().replace("port: 8080", "port: eighty"))
    result = run_cli(bot_env(tmp_path), "--config", str(config), "initdb")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("config: server.port:") and len(result.stderr.strip().splitlines()) == 1


def test_an_unknown_key_is_refused(tmp_path):
    result = run_cli(bot_env(tmp_path, RB_STATE__BAKEND="redis"), "initdb")
    assert result.returncode == 2 and "config: state.bakend: is not a known setting" in result.stderr


def test_a_state_backend_contradicting_redis_url_stops_start_up_with_one_line(tmp_path):
    env = bot_env(tmp_path, RB_STATE__BACKEND="memory", RB_REDIS__URL="redis://127.0.0.1:6379/0")
    result = run_cli(env, "serve")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("config: state.backend: is memory but redis.url is set") and "clear redis.url" in line


def test_initdb_then_migrate_has_nothing_to_do(tmp_path):
    env = bot_env(tmp_path)
    assert "loaded 13 acceptance points" in run_cli(env, "initdb").stdout
    migrate = run_cli(env, "migrate")
    assert migrate.returncode == 0 and "schema is up to date" in migrate.stdout


def test_import_acceptance_points_validates_reports_and_is_idempotent(tmp_path):
    env = bot_env(tmp_path)
    run_cli(env, "initdb")
    bad = tmp_path / "bad.yaml"
    point = "{{name: {}, district: 福田区, address: 福华路1号, lat: {}, lng: 114.05, hours: 全天, phone: '0755-1'}}"
    bad.write_text(f"- {point.format('甲受理点', 22.54)}\n- {point.format('乙受理点', 99)}\n")
    result = run_cli(env, "import", "acceptance-points", str(bad))
    assert result.returncode == 1 and "第2项" in result.stderr and "nothing imported" in result.stderr
    good = tmp_path / "good.yaml"
    good.write_text(bad.read_text().replace("lat: 99,", "lat: 22.53,"))
    first = run_cli(env, "import", "acceptance-points", str(good))
    assert first.returncode == 0 and "added 2, updated 0, removed 13" in first.stdout
    again = run_cli(env, "import", "acceptance-points", str(good))
    assert "added 0, updated 0, removed 0" in again.stdout


@pytest.fixture
def memory_serve(tmp_path: Path):
    # Its own working directory: the in-memory guard file lives in ./var, as the SQLite file does.
    server = ServeProcess(tmp_path, cwd=tmp_path, RB_CONFIG=CONFIG)
    yield server
    server.kill()


def test_in_memory_state_is_announced_and_refused_to_a_second_process(memory_serve, tmp_path):
    memory_serve.initdb()
    memory_serve.start()
    assert "state: in-memory (embedded default, one process only)" in memory_serve.log.read_text()
    second = ServeProcess(tmp_path, cwd=tmp_path, RB_CONFIG=CONFIG)
    result = run_cli(second.env, "serve", cwd=tmp_path)
    assert result.returncode == 2
    assert "memory state is for one process" in result.stderr and str(memory_serve.proc.pid) in result.stderr


async def test_chat_script_replays_a_conversation_in_safe_mode(tmp_path):
    server = ServeProcess(tmp_path, cwd=tmp_path, RB_CONFIG=CONFIG, RB_WECHAT__MODE="safe")
    server.initdb()
    server.start()
    try:
        script = tmp_path / "talk.txt"
        script.write_text("# a resident looks for a point\n受理点\n/location 22.543,114.057 市民中心\n")
        result = run_cli(server.env, "chat", "--safe", "--url", server.url, "--script", str(script), cwd=tmp_path)
    finally:
        server.kill()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "> 受理点" in result.stdout and "请发送您的位置" in result.stdout
    assert "离您的位置最近的3个受理点" in result.stdout
