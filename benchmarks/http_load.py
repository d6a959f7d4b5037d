"""Throughput and latency of the two HTTP channel endpoints under many concurrent conversations.

    python benchmarks/http_load.py [--channel teams|telegram|web|both|all] [--conversations 200] [--messages 20]
                                   [--knowledge knowledge] [--state memory|redis://…] [--rate R] [--fast-msrest] [--telegram-rate-limit]

The server under test runs in its own process, as deployed (tests/test_load.py `serve`: `regellots teams`,
or the Telegram bot in webhook mode with a secret); this process generates the load and plays the other side
on 127.0.0.1 – the stub Bot Connector (tests/fake_connector.py) or the fake Bot API (tests/fake_telegram.py).
Conversations are realistic walks through the shipped knowledge: a greeting, menu and flow buttons,
evaluation questions (tests/eval/questions.yaml) typed as free text, commands, a switch to English.

Teams: the server answers the POST at once and sends the replies through the Connector afterwards, so two times
are reported: the POST, and the turn until its last reply reached the Connector (and how many took over 15 s).
Each conversation posts its next activity once the replies to the previous one arrived, as people do.
Telegram: the webhook acknowledges an update once it was answered (the replies are at the Bot API), so two times
are reported: the acknowledgement, and the update until its last reply reached the Bot API. Each conversation
writes again once the bot answered, as people do (posting sooner is what tests/test_load.py's strict Telegram
test does; it checks order, and a conversation whose replies go wrong stalls and spoils the numbers). Without
--telegram-rate-limit the adapter's AIORateLimiter (30 Bot API calls per second overall, as Telegram asks) is
off, to measure the adapter rather than the limiter.

Web: each conversation posts its next message to POST /api/chat when the previous one was answered (as the
page does); the answer comes in the HTTP response, so the request time is the whole turn. The server runs as
`regellots web` does, with its per-client and per-conversation rate limits off (one address sends everything).

Closed loop (the default): each conversation sends its next message as soon as its previous one was answered,
with no pause, so the run measures the most messages per second the server takes, and the latency is queueing:
about conversations / throughput (Little's law). Paced (--rate R): R messages per second are offered over all
conversations; conversation i sends its k-th message at start + (i + k·conversations)/R s (staggered evenly), still
only once the replies to its previous one arrived (if they came after that slot, at once). That measures the latency
at a given throughput, which is what a percentile target means; the report gives the offered and achieved rates.

Every reply is also checked against a reference engine (right conversation, order, content), in both modes; a
failed check is printed, and the exit code is 1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shlex
import sys
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.maintain.evaluation import load_questions  # noqa: E402
from tests.support.fake_connector import FakeConnector  # noqa: E402
from tests.support.load import (  # noqa: E402
    RecordingTelegram,
    Run,
    Step,
    check_teams,
    check_telegram,
    check_web,
    drive_teams,
    drive_telegram,
    drive_web,
    http_session,
    load,
    plan_teams,
    plan_telegram,
    plan_web,
    press,
    serving,
    teams_client,
    teams_replies,
    text,
)

LIMIT = 600.0  # seconds for one channel's run, whatever happens


def limit(args: argparse.Namespace) -> float:
    """Seconds one channel's run may take: LIMIT, or twice a slow pace's own length."""
    if not args.rate:
        return LIMIT
    return max(LIMIT, 2 * args.conversations * args.messages / args.rate + 120)


def scripts(conversations: int, messages: int) -> list[list[Step]]:
    """One script per conversation on the shipped knowledge; "#n" presses the n-th option offered then."""
    questions = load_questions(ROOT / "tests" / "eval" / "questions.yaml")
    swedish = [q.q for q in questions if q.lang == "sv" and not q.out_of_scope]
    english = [q.q for q in questions if q.lang == "en" and not q.out_of_scope]
    out = []
    for i in range(conversations):
        rng = random.Random(i)

        def choose(rng: random.Random = rng) -> Step:
            return press(f"#{rng.randrange(6)}")

        steps = [text("hej"), press(f"#{i}"), choose(), choose(), choose(), text(rng.choice(swedish)), text("varför")]
        steps += [text(rng.choice(swedish)), choose(), choose(), text("källor"), text(rng.choice(swedish)), text("börja om")]
        steps += [choose(), choose(), choose(), text(rng.choice(swedish)), text("/lang en"), text(rng.choice(english)), choose()]
        while len(steps) < messages:
            steps.append(text(rng.choice(swedish)) if len(steps) % 3 else choose())
        out.append(steps[:messages])
    return out


def ms(seconds: list[float], p: float) -> float:
    ordered = sorted(seconds)
    return 1000 * ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def report(name: str, run: Run, check: str | None) -> None:
    print(f"\n{name}" + (f" – paced at {run.rate:g}/s" if run.rate else " – closed loop"))
    print(f"  {run.requests} requests in {run.seconds:.1f} s: {run.throughput:.0f} messages/s; HTTP errors {len(run.errors)}")
    if run.rate:
        print(f"  offered {run.rate:g} messages/s, achieved {run.throughput:.0f} messages/s (first message sent to last reply)")
        lag = f"p99 {ms(run.lags, 99):.1f} ms, max {max(run.lags) * 1000:.0f} ms" if run.lags else "–"
        print(f"  sent after their slot because the previous reply came later: {run.late}; load generator late for a slot: {lag}")
    if run.latencies:
        lat = run.latencies
        print(
            f"  latency per message: p50 {ms(lat, 50):.0f} ms, p90 {ms(lat, 90):.0f} ms, p99 {ms(lat, 99):.0f} ms, max {max(lat) * 1000:.0f} ms"
        )
        print(f"  turns over 15 s: {sum(1 for x in lat if x > 15)}")
    if run.acks:
        print(f"  webhook acknowledgement: p50 {ms(run.acks, 50):.1f} ms, p99 {ms(run.acks, 99):.1f} ms")
    if run.posts:
        print(f"  POST answered: p50 {ms(run.posts, 50):.1f} ms, p99 {ms(run.posts, 99):.1f} ms, max {max(run.posts) * 1000:.0f} ms")
    if run.requests:
        print(f"  server process CPU: {run.server_cpu:.1f} s = {1000 * run.server_cpu / run.requests:.1f} ms per message")
    if run.stalled:
        print(f"  conversations given up: {len(run.stalled)}, e.g. {run.stalled[0]}")
    print(f"  check: {'every reply in the right conversation, in order, as expected' if check is None else 'FAILED: ' + check}")


async def teams(args: argparse.Namespace, plans_for: list[list[Step]]) -> bool:
    plans = await plan_teams(load(args.knowledge), plans_for)
    connector, run = await FakeConnector().start(), Run()
    try:
        options = ["--fast-msrest"] if args.fast_msrest else []
        profiling(args, "teams")
        async with serving("teams", args.knowledge, state=args.state, options=options) as server, http_session() as http:
            cpu = server.cpu()
            run, ids = await drive_teams(teams_client(connector, server.url, http), plans, patient=True, rate=args.rate)
            await teams_replies(connector, sum(len(t.expected) for turns in plans for t in turns), run, limit(args))
            run.server_cpu = server.cpu() - cpu
        check = _check(lambda: check_teams(connector, plans, ids))
    except AssertionError as exc:  # the server logged errors (e.g. its store failed): still show the numbers
        check = str(exc).splitlines()[0]
    finally:
        await connector.stop()
    host = "Microsoft 365 Agents SDK" if args.teams_sdk == "agents" else "botbuilder CloudAdapter" + (", msrest fix" if args.fast_msrest else "")
    report(f"Teams: POST /api/messages ({host}, aiohttp)", run, check)
    show_profile(args, "teams")
    return check is None and not run.errors


async def telegram(args: argparse.Namespace, plans_for: list[list[Step]]) -> bool:
    fake = await RecordingTelegram().start()
    plans = await plan_telegram(load(args.knowledge), plans_for, fake.username)
    run = Run()
    try:
        options = ["--rate-limit"] if args.telegram_rate_limit else []
        profiling(args, "telegram")
        async with serving("telegram", args.knowledge, state=args.state, api=fake.base_url, options=options) as server:
            cpu = server.cpu()
            run, facts = await drive_telegram(fake, server.url, plans, patient=True, rate=args.rate)
            run.server_cpu = server.cpu() - cpu
        check = _check(lambda: check_telegram(fake, plans, facts))
    except AssertionError as exc:
        check = str(exc).splitlines()[0]
    finally:
        await fake.close()
    limiter = "AIORateLimiter as shipped" if args.telegram_rate_limit else "rate limiter off"
    show_profile(args, "telegram")
    report(f"Telegram: webhook (the channel's aiohttp route, python-telegram-bot; {limiter}; replies via the fake Bot API)", run, check)
    return check is None and not run.errors and not run.stalled


def profiling(args: argparse.Namespace, channel: str) -> None:
    """--profile DIR: the server process (tests/support/load.py) runs under cProfile and writes DIR/CHANNEL.prof."""
    if args.profile is None:
        os.environ.pop("REGELLOTS_LOAD_PROFILE", None)
        return
    args.profile.mkdir(parents=True, exist_ok=True)
    os.environ["REGELLOTS_LOAD_PROFILE"] = str((args.profile / f"{channel}.prof").resolve())


def show_profile(args: argparse.Namespace, channel: str, top: int = 25) -> None:
    if args.profile is None or not (args.profile / f"{channel}.prof").exists():
        return
    import io
    import pstats

    out = io.StringIO()
    stats = pstats.Stats(str(args.profile / f"{channel}.prof"), stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    print(f"\n{channel}: server profile, top {top} by cumulative time ({args.profile / f'{channel}.prof'})")
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip())[-6000:])


async def web(args: argparse.Namespace, plans_for: list[list[Step]]) -> bool:
    plans = await plan_web(load(args.knowledge), plans_for)
    run = Run()
    profiling(args, "web")
    try:
        async with serving("web", args.knowledge, state=args.state) as server, http_session() as http:
            cpu = server.cpu()
            run, answers = await drive_web(http, server.url, plans, rate=args.rate)
            run.server_cpu = server.cpu() - cpu
        check = _check(lambda: check_web(plans, answers))
    except AssertionError as exc:
        check = str(exc).splitlines()[0]
    report("Web chat: POST /api/chat (aiohttp; rate limits off)", run, check)
    show_profile(args, "web")
    return check is None and not run.errors


def _check(check: object) -> str | None:
    try:
        check()  # type: ignore[operator]
    except AssertionError as exc:
        return " | ".join(line.strip() for line in str(exc).splitlines()[:3])  # what came, and what was expected
    return None


def machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("aiohttp", "botbuilder-core", "python-telegram-bot", "httpx", "redis"))
    model = next((line.split(":", 1)[1].strip() for line in _cpuinfo() if line.startswith("model name")), platform.processor())
    return f"{platform.platform()}, {model}, {cores} cores; Python {platform.python_version()}; {versions}"


def _cpuinfo() -> list[str]:
    try:
        return Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return []


async def engine_cpu(args: argparse.Namespace, conversations: list[list[Step]]) -> None:
    """--engine-cpu: the engine alone (memory store, no channel) on the same messages, in CPU ms per message: what the
    server's CPU per message is compared with. plan_web drives it (its reply JSON is a few µs); one warm-up round."""
    knowledge = load(args.knowledge)
    await plan_web(knowledge, conversations[:20])
    started = time.process_time()
    await plan_web(knowledge, conversations)
    print(f"engine alone on these messages: {1000 * (time.process_time() - started) / sum(map(len, conversations)):.2f} ms CPU per message")


async def main(args: argparse.Namespace) -> int:
    conversations = scripts(args.conversations, args.messages)
    print("command: " + shlex.join([Path(sys.executable).name, "benchmarks/http_load.py", *sys.argv[1:]]))
    print(f"machine: {machine()}")
    print(f"knowledge: {load(args.knowledge).summary()}; state: {args.state}")
    if args.rate:
        print(
            f"load: {args.conversations} concurrent conversations × {args.messages} messages, paced at {args.rate:g}/s: conversation i "
            f"sends message k at start + (i + k·{args.conversations})/{args.rate:g} s, or once its previous one was answered if later"
        )
    else:
        print(f"load: {args.conversations} concurrent conversations × {args.messages} messages, closed loop: each sent when the previous one was answered")
    if args.engine_cpu:
        await engine_cpu(args, conversations)
    ok = True
    started = time.perf_counter()
    if args.channel in ("teams", "both", "all"):
        ok &= await asyncio.wait_for(teams(args, conversations), limit(args))
    if args.channel in ("telegram", "both", "all"):
        ok &= await asyncio.wait_for(telegram(args, conversations), limit(args))
    if args.channel in ("web", "all"):
        ok &= await asyncio.wait_for(web(args, conversations), limit(args))
    print(f"\n(total {time.perf_counter() - started:.0f} s; engine alone for comparison: benchmarks/engine_latency.py)")
    return 0 if ok else 1


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channel", choices=["teams", "telegram", "web", "both", "all"], default="both", help="both: Teams and Telegram; all: and web")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument("--state", default="memory", help="the server's state store: memory (default) or redis://…")
    parser.add_argument(
        "--rate", type=_positive, default=None, metavar="R", help="paced: offer R messages per second over all conversations (default: closed loop)"
    )
    parser.add_argument(
        "--fast-msrest", action="store_true", help="Teams: a frozenset for msrest's retry codes (see tests/test_load.fast_msrest)"
    )
    parser.add_argument("--profile", type=Path, default=None, help="run the server under cProfile; write CHANNEL.prof files here and print the top functions")
    parser.add_argument("--engine-cpu", action="store_true", help="first time the engine alone on the same messages (CPU ms per message)")
    parser.add_argument("--teams-sdk", choices=["agents", "botbuilder"], default="agents", help="Teams: the SDK host (REGELLOTS_TEAMS_SDK)")
    parser.add_argument("--telegram-rate-limit", action="store_true", help="Telegram: keep the adapter's AIORateLimiter (30 calls/s)")
    return parser.parse_args(argv)


def _positive(value: str) -> float:
    rate = float(value)
    if not rate > 0:
        raise argparse.ArgumentTypeError(f"a rate must be positive, not {value}")
    return rate


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    arguments = parse()
    os.environ["REGELLOTS_TEAMS_SDK"] = arguments.teams_sdk  # the server process inherits it
    sys.exit(asyncio.run(main(arguments)))
