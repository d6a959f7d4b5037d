"""The container pieces that can be tested without Docker: the compose file against the Compose
Specification's schema, the image's entrypoint command, its health check against real servers on
127.0.0.1, and the build context (.dockerignore)."""

from __future__ import annotations

import asyncio
import fnmatch
import json
import os
import re
import shlex
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from aiohttp import web

from bot.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "data" / "compose-spec.json"


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def exec_form(rest: str) -> list[str]:
    return json.loads(rest) if rest.startswith("[") else shlex.split(rest)


def test_the_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose()), key=lambda e: list(e.path))
    assert not errors, [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors]


def test_the_schema_catches_a_broken_compose_file() -> None:
    """The check is real: a typo in a key fails it."""
    broken = compose()
    service = next(iter(broken["services"].values()))
    service["healthcheck_typo"] = {"test": ["CMD", "true"]}
    assert list(jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).iter_errors(broken))


def test_every_bot_service_runs_a_regellots_command_the_cli_accepts() -> None:
    for name, service in compose()["services"].items():
        command = service.get("command")
        if not command or "regellots" not in str(command):
            continue
        argv = command if isinstance(command, list) else shlex.split(command)
        argv = [re.sub(r"\$\{[^}]*\}", "https://bot.example.se/telegram", a) for a in argv]
        assert argv[0] == "regellots", name
        build_parser().parse_args(argv[1:])


def test_the_image_entrypoint_is_a_command_the_cli_accepts() -> None:
    [cmd] = [exec_form(rest) for kw, rest in dockerfile_instructions() if kw == "CMD"]
    if cmd[:2] == ["sh", "-c"]:
        cmd = shlex.split(cmd[2].replace("${PORT}", "3978"))
    cmd = [a for a in cmd if a != "exec"]
    assert cmd[0] == "regellots"
    args = build_parser().parse_args(cmd[1:])
    assert (args.command, args.host, args.port) == ("teams", "0.0.0.0", 3978)


def test_the_image_runs_in_production_mode_from_the_wheel() -> None:
    env = " ".join(rest for kw, rest in dockerfile_instructions() if kw == "ENV")
    assert "REGELLOTS_ENV=production" in env and "REGELLOTS_KNOWLEDGE" not in env  # the knowledge comes with the wheel
    runs = " ".join(rest for kw, rest in dockerfile_instructions() if kw == "RUN")
    assert "pip wheel" in runs and "pip install --quiet --no-compile /wheels/*.whl" in runs


def healthcheck_command() -> list[str]:
    [rest] = [rest for kw, rest in dockerfile_instructions() if kw == "HEALTHCHECK"]
    _, _, command = rest.partition("CMD ")
    argv = exec_form(command.strip())
    assert argv[0] == "python"
    return [sys.executable, *argv[1:]]


async def run_healthcheck(port: int) -> tuple[int, str]:
    env = {"PATH": os.environ.get("PATH", ""), "PORT": str(port), "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(*healthcheck_command(), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


async def serve(status: int) -> web.AppRunner:
    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok" if status == 200 else "no"}, status=status)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner


async def test_the_image_health_check_probes_healthz_on_port() -> None:
    healthy = await serve(200)
    sick = await serve(503)
    try:
        assert await run_healthcheck(healthy.addresses[0][1]) == (0, "")
        code, err = await run_healthcheck(sick.addresses[0][1])
        assert code == 1 and err.strip().endswith("/healthz: HTTP 503") and len(err.strip().splitlines()) == 1
        closed = sick.addresses[0][1]
    finally:
        await healthy.cleanup()
        await sick.cleanup()
    code, err = await run_healthcheck(closed)
    assert code == 1 and "ConnectionRefusedError" in err


def ignored(path: str, patterns: list[str]) -> bool:
    """.dockerignore semantics for the simple patterns used here: the last matching line wins, ! re-includes."""
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!").strip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) or fnmatch.fnmatch(p, pattern.removeprefix("**/")) for p in prefixes) or any(
            fnmatch.fnmatch(part, pattern.removeprefix("**/")) for part in parts if pattern.startswith("**/")
        ):
            result = not negate
    return result


def test_the_build_context_carries_what_the_image_needs_and_not_the_virtualenv() -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
    copies = [shlex.split(rest) for kw, rest in dockerfile_instructions() if kw == "COPY"]
    copied = [c for args in copies if not args[0].startswith("--from=") for c in args[:-1]]
    assert copied, "the Dockerfile copies nothing?"
    for source in copied:
        assert not ignored(source.rstrip("/"), patterns), f"{source} is copied by the Dockerfile but excluded from the build context"
    for heavy in (".venv/lib/python3.11/site-packages/x.py", ".git/objects/ab", "tests/test_load.py", "bot/__pycache__/x.pyc", "state.sqlite3", ".env"):
        assert ignored(heavy, patterns), heavy
    assert not ignored(".env.example", patterns)


@pytest.mark.parametrize("name", ["pyproject.toml", "README.md"])
def test_files_the_build_needs_exist(name: str) -> None:
    assert (ROOT / name).is_file()


def test_compose_runs_teams_telegram_and_redis_behind_the_proxy_with_secrets_required() -> None:
    from adapters.channel import DEFAULT_GRACE

    services = compose()["services"]
    assert {"redis", "teams", "telegram", "proxy"} <= set(services)
    for name in ("teams", "telegram"):
        service = services[name]
        env = service["environment"]
        assert env["REGELLOTS_ENV"] == "production" and env["REGELLOTS_STATE"].startswith("redis://redis:")
        assert env["REGELLOTS_SALT"].startswith("${REGELLOTS_SALT:?"), "the salt must come from the environment, never a default"
        grace = int(str(service["stop_grace_period"]).removesuffix("s"))
        assert grace > float(env.get("REGELLOTS_DRAIN_SECONDS", DEFAULT_GRACE)), f"{name}: the stop grace period must outlast the drain"
        command = service["command"]
        assert env["PORT"] == command[command.index("--port") + 1], f"{name}: the health check probes $PORT"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    secrets = [services["telegram"]["environment"][k] for k in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_URL")]
    assert all(v.startswith("${") and ":?" in v for v in secrets)
    assert "change-me" not in (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    nginx = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    assert "server teams:3978;" in nginx and "server telegram:8443;" in nginx and "location = /api/messages" in nginx
