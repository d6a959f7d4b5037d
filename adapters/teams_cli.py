"""`regellots teams` (run the Teams bot) and `regellots teams-manifest` (build the app package)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commandline import command, knowledge_arg

DEFAULT_PORT = 3978


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "teams",
        help="run the Microsoft Teams bot (POST /api/messages)",
        description="Credentials come from MicrosoftAppId, MicrosoftAppPassword, MicrosoftAppType and MicrosoftAppTenantId; "
        "without MicrosoftAppId the bot runs unauthenticated, for local testing. State: $REGELLOTS_STATE. "
        "SDK: $REGELLOTS_TEAMS_SDK (agents, the default, or botbuilder).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 in a container)")
    p.add_argument("--port", type=int, default=None, help=f"port (default $PORT, else {DEFAULT_PORT})")
    knowledge_arg(p)

    from adapters.teams_manifest import PackageOptions

    d = PackageOptions(app_id="")
    p = sub.add_parser("teams-manifest", help="build the Teams app package (manifest.json, en-US.json, icons) as a zip")
    p.add_argument("--app-id", required=True, help="the bot's Microsoft App ID (a GUID)")
    p.add_argument("--out", type=Path, required=True, help="the zip file to write")
    p.add_argument("--version", dest="app_version", default=d.version, help=f"app version, semver (default {d.version})")
    p.add_argument("--name", dest="short_name", default=d.short_name, help=f"short app name (default {d.short_name})")
    p.add_argument("--developer-name", default=d.developer_name, help=f"publisher name (default {d.developer_name})")
    p.add_argument("--website-url", default=d.website_url, help="publisher's https:// website")
    p.add_argument("--privacy-url", default=d.privacy_url, help="https:// privacy statement")
    p.add_argument("--terms-url", default=d.terms_url, help="https:// terms of use")
    p.add_argument("--accent-color", default=d.accent_color, help=f"icon background colour (default {d.accent_color})")


@command("teams")
def cmd_teams(args: argparse.Namespace) -> int:
    from adapters.teams import TeamsBot, TeamsSettings, run
    from bot.settings import load_settings

    config = load_settings()  # already checked by bot.cli.main: a wrong value stopped the start there
    problems = config.teams_problems() + config.production_problems("teams")
    settings = TeamsSettings.from_env()
    try:
        settings.check()
    except ValueError as exc:
        problems.append(str(exc))
    if problems:
        print(f"regellots teams: {problems[0]}", file=sys.stderr)
        return 2
    from bot import logsafe

    logsafe.install(secrets=[settings.app_password])
    run(TeamsBot.from_environment(args.knowledge, settings=settings), host=args.host, port=args.port or config.port or DEFAULT_PORT)
    return 0


@command("teams-manifest")
def cmd_teams_manifest(args: argparse.Namespace) -> int:
    from adapters.teams_manifest import PackageOptions, build_package

    options = PackageOptions(
        app_id=args.app_id.strip(),
        version=args.app_version,
        short_name=args.short_name,
        developer_name=args.developer_name,
        website_url=args.website_url,
        privacy_url=args.privacy_url,
        terms_url=args.terms_url,
        accent_color=args.accent_color,
    )
    problems = options.problems()
    if problems:
        for problem in problems:
            print(f"regellots teams-manifest: {problem}", file=sys.stderr)
        return 2
    data = build_package(options)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data)} bytes): manifest {options.version} for app {options.app_id.lower()}")
    if options.placeholders:
        print("note: the developer URLs are placeholders; pass --website-url, --privacy-url and --terms-url before publishing", file=sys.stderr)
    return 0
