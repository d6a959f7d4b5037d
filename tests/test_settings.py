"""One settings model (bot/settings.py): every variable the code reads is in it, wrong values fail in one
clear line, production refuses placeholders, and the generated README table and .env.example are current."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot import settings as config
from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
_READ = re.compile(r"""(?:environ\.get|getenv|environ\[|env\.get)\(?\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")


def names_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for directory in ("bot", "adapters"):
        for path in (ROOT / directory).rglob("*.py"):
            found |= set(_READ.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_variable_the_code_reads_is_in_the_model() -> None:
    known = {config.variable(name) for name in Settings.model_fields}
    read = names_read_by_the_code()
    assert read, "the scan found nothing: is the pattern still right?"
    assert read <= known, sorted(read - known)


def test_the_readme_table_and_env_example_are_current() -> None:
    assert config.stale_files(ROOT) == [], "run `python -m bot.settings --write`"
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"\n{config.variable(name)}=\n" in example
        assert f"| `{config.variable(name)}` |" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_defaults_and_types() -> None:
    s = load_settings({})
    assert (s.ttl_days, s.watch, s.watch_interval, s.redis_prefix, s.teams_sdk.value, s.app_type.value) == (30, True, 2, "regellots:", "agents", "MultiTenant")
    s = load_settings({"REGELLOTS_TTL_DAYS": "7", "REGELLOTS_WATCH": "0", "MicrosoftAppType": "singletenant", "PORT": "8080", "REGELLOTS_SALT": ""})
    assert (s.ttl_seconds, s.watch, s.app_type.value, s.port, s.salt) == (7 * 86400, False, "SingleTenant", 8080, None)


@pytest.mark.parametrize(
    ("environ", "line"),
    [
        ({"REGELLOTS_TTL_DAYS": "abc"}, "REGELLOTS_TTL_DAYS: Input should be a valid number"),
        ({"REGELLOTS_TTL_DAYS": "-1"}, "REGELLOTS_TTL_DAYS: must be a positive number (got '-1')"),
        ({"REGELLOTS_WATCH": "sometimes"}, "REGELLOTS_WATCH: Input should be a valid boolean"),
        ({"PORT": "70000"}, "PORT: must be a port number, 1–65535"),
        ({"MicrosoftAppType": "Anonymous"}, "MicrosoftAppType: Input should be 'MultiTenant', 'SingleTenant' or 'UserAssignedMSI'"),
        ({"REGELLOTS_TEAMS_SDK": "v3"}, "REGELLOTS_TEAMS_SDK: Input should be 'agents' or 'botbuilder'"),
        ({"REGELLOTS_ENV": "prod"}, "REGELLOTS_ENV: Input should be 'development' or 'production'"),
    ],
)
def test_a_wrong_value_is_one_line_naming_the_variable(environ: dict[str, str], line: str) -> None:
    with pytest.raises(SettingsError) as failed:
        load_settings(environ)
    message = str(failed.value)
    assert "\n" not in message and message.startswith(line), message


def test_secret_values_never_appear_in_errors() -> None:
    with pytest.raises(SettingsError) as failed:
        load_settings({"TELEGRAM_WEBHOOK_SECRET": "has spaces and ümlauts hunter2"})
    assert str(failed.value).startswith("TELEGRAM_WEBHOOK_SECRET:") and "hunter2" not in str(failed.value)
    assert "hunter2" not in repr(load_settings({"REGELLOTS_SALT": "hunter2-hunter2-hunter2"}))


def test_production_refuses_placeholders_and_missing_secrets() -> None:
    assert load_settings({"REGELLOTS_SALT": "change-me"}).production_problems("teams") == []  # development: anything goes
    prod = {"REGELLOTS_ENV": "production"}
    assert load_settings(prod).production_problems()[0].startswith("REGELLOTS_SALT is required in production")
    for placeholder in ("change-me", "CHANGEME", "<salt>", "${REGELLOTS_SALT}", "your-salt-here", "short"):
        [problem] = load_settings({**prod, "REGELLOTS_SALT": placeholder}).production_problems()
        assert problem.startswith("REGELLOTS_SALT looks like a placeholder"), placeholder
    good = {**prod, "REGELLOTS_SALT": "q3Vx9-tL0pZr2mWf8sKd"}
    assert load_settings(good).production_problems("teams") == []
    assert load_settings({**good, "MicrosoftAppPassword": "change-me"}).production_problems("teams") == ["MicrosoftAppPassword looks like a placeholder; set the real value"]
    assert load_settings({**good, "TELEGRAM_BOT_TOKEN": "<token>"}).production_problems("telegram") == ["TELEGRAM_BOT_TOKEN looks like a placeholder; set the real value"]
    assert load_settings(good).teams_problems() == ["MicrosoftAppId is required in production (without it the bot runs unauthenticated)"]


def test_teams_credentials_must_fit_the_app_type() -> None:
    app = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert load_settings({}).teams_problems() == []
    assert load_settings({"MicrosoftAppId": app, "MicrosoftAppPassword": "p"}).teams_problems() == []
    assert load_settings({"MicrosoftAppId": app}).teams_problems() == ["MicrosoftAppPassword is required when MicrosoftAppId is set"]
    assert load_settings({"MicrosoftAppId": app, "MicrosoftAppPassword": "p", "MicrosoftAppType": "SingleTenant"}).teams_problems() == [
        "MicrosoftAppTenantId is required for MicrosoftAppType=SingleTenant"
    ]
    assert load_settings({"MicrosoftAppId": app, "MicrosoftAppType": "UserAssignedMSI", "MicrosoftAppTenantId": "t"}).teams_problems() == []


def test_the_generator_check_mode(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "README.md").write_text(f"# x\n\n{config.TABLE_BEGIN}\nold\n{config.TABLE_END}\n", encoding="utf-8")
    assert config.stale_files(tmp_path) == ["README.md", ".env.example"]
    config.write_files(tmp_path)
    assert config.stale_files(tmp_path) == []
    assert "| `REGELLOTS_SALT` | secret | — |" in (tmp_path / "README.md").read_text(encoding="utf-8")


def _run(*argv: str, **env: str) -> tuple[int, str, str]:
    import os
    import subprocess
    import sys

    regellots = str(Path(sys.executable).with_name("regellots"))
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), "REGELLOTS_WATCH": "0", **env}
    result = subprocess.run([regellots, *argv], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def test_a_wrong_value_stops_any_command_with_one_line() -> None:
    code, out, err = _run("validate", REGELLOTS_TTL_DAYS="thirty")
    assert code == 2 and out == ""
    assert err.strip().splitlines() == ["regellots: configuration: REGELLOTS_TTL_DAYS: Input should be a valid number, unable to parse string as a number (got 'thirty')"]


def test_production_refuses_to_start_a_channel_with_a_placeholder_salt() -> None:
    code, _, err = _run("teams", REGELLOTS_ENV="production", REGELLOTS_SALT="change-me", MicrosoftAppId="0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", MicrosoftAppPassword="x" * 20)
    assert code == 2 and err.strip().splitlines() == [
        "regellots teams: REGELLOTS_SALT looks like a placeholder; set a random secret of at least 16 characters"
    ]
    code, _, err = _run("telegram", REGELLOTS_ENV="production", REGELLOTS_SALT="q3Vx9-tL0pZr2mWf8sKd", TELEGRAM_BOT_TOKEN="<token>")
    assert code == 2 and err.strip().splitlines() == ["regellots telegram: TELEGRAM_BOT_TOKEN looks like a placeholder; set the real value"]
    code, _, err = _run("teams", REGELLOTS_ENV="production", REGELLOTS_SALT="q3Vx9-tL0pZr2mWf8sKd")
    assert code == 2 and "MicrosoftAppId is required in production" in err
