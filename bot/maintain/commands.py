"""The maintainers' commands: test, coverage, review, unanswered, schema, graph.

Each command is a thin shell around a module named for what it does
(convtests, coverage, review, unanswered, schema, graph); see
docs/maintaining.md for how maintainers use them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from bot.commandline import command, knowledge_arg
from bot.knowledge import Knowledge
from bot.settings import load_settings


def _date(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _period(text: str) -> str:
    from bot.maintain.periods import parse_period

    try:
        parse_period(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("test", help="run conversation tests (YAML); exit 1 if one fails")
    knowledge_arg(p)
    p.add_argument("paths", nargs="*", type=Path, help="test files or directories (default: tests/conversations)")

    p = sub.add_parser("coverage", help="list topics, flow questions and rules that no test or evaluation question reaches")
    knowledge_arg(p)
    p.add_argument("--tests", type=Path, default=None, help="conversation test directory (default: tests/conversations)")
    p.add_argument("--eval", type=Path, default=None, help="evaluation questions (default: tests/eval/questions.yaml)")

    p = sub.add_parser("review", help="list knowledge entries whose reviewed date is old")
    knowledge_arg(p)
    p.add_argument("--older-than", type=_period, default="12m", help="a period: Nd, Nw, Nm or Ny (default 12m)")
    p.add_argument("--today", type=_date, default=None, help=argparse.SUPPRESS)  # for tests: pretend today is this date

    p = sub.add_parser("unanswered", help="group the questions the bot could not answer, most frequent first")
    p.add_argument("--since", default=None, help="a date (YYYY-MM-DD) or a period back from today (e.g. 30d); default: everything")
    p.add_argument("--state", default=None, help="state store (default: $REGELLOTS_STATE, as the bots use)")
    p.add_argument("--threshold", type=float, default=80.0, help="similarity (0–100) for two questions to be grouped (default 80)")
    p.add_argument("--limit", type=int, default=50, help="show at most this many groups (default 50)")
    p.add_argument("--json", action="store_true", help="one JSON document")

    p = sub.add_parser("urgency-train", help="learn the urgency model from the example sets (needs the train extra)")
    p.add_argument("--sets", type=Path, default=Path("tests/eval/realistic/urgency-training.yaml"), help="the manifest of example sets")
    p.add_argument("--out", type=Path, default=Path("urgency-model.npz"), help="where to write the model (default ./urgency-model.npz)")

    p = sub.add_parser("route-train", help="learn the routing reading from the knowledge and the tune sets (needs the train extra)")
    p.add_argument("--sets", type=Path, default=Path("tests/eval/realistic/route-training.yaml"), help="the manifest")
    p.add_argument("--out", type=Path, default=Path("route-model.npz"), help="where to write the model (default ./route-model.npz)")

    p = sub.add_parser("schema", help="write JSON Schemas of the knowledge and test files, for editors")
    p.add_argument("--out", type=Path, default=None, help="directory (default: DIR/_schema with --link DIR, else ./_schema)")
    p.add_argument("--link", type=Path, default=None, metavar="DIR", help="also add the schema line to every YAML file under DIR that lacks it")

    p = sub.add_parser("graph", help="draw a flow as Mermaid or Graphviz dot")
    knowledge_arg(p)
    p.add_argument("flow", nargs="?", help="the flow id")
    p.add_argument("--all", action="store_true", help="every flow, as Markdown with Mermaid pictures")
    p.add_argument("--format", choices=["mermaid", "dot"], default="mermaid")
    p.add_argument("--lang", choices=["sv", "en"], default="sv")
    p.add_argument("--out", type=Path, default=None, help="write to this file instead of printing")


def _out(text: str) -> None:
    """Print, and stop quietly when the reader has gone (e.g. `regellots review | head`)."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes at exit


def _load(directory: Path | None) -> Knowledge | None:
    """The knowledge, or None after printing its errors."""
    from bot.knowledge import default_directory, load_knowledge

    knowledge, problems = load_knowledge(directory or default_directory())
    if knowledge is None:
        print("the knowledge base has errors (run `regellots validate`):", file=sys.stderr)
        for problem in problems:
            if problem.severity == "error":
                print(f"  {problem}", file=sys.stderr)
    return knowledge


@command("test")
def cmd_test(args: argparse.Namespace) -> int:
    from bot.maintain.convtests import find_test_files, run_files, summary
    from bot.maintain.coverage import default_path

    paths = find_test_files(args.paths or [default_path("tests/conversations")])
    if not paths:
        print("no conversation test files found", file=sys.stderr)
        return 1
    knowledge = _load(args.knowledge)
    if knowledge is None:
        return 1
    results = asyncio.run(run_files(knowledge, paths))
    _out("\n".join([r.report() for r in results] + ["", summary(results)]))
    return 0 if all(r.passed for r in results) else 1


@command("coverage")
def cmd_coverage(args: argparse.Namespace) -> int:
    from bot.maintain.convtests import Reached, find_test_files, run_files
    from bot.maintain.coverage import compute, default_path, reached_by_questions, report
    from bot.maintain.evaluation import load_questions

    knowledge = _load(args.knowledge)
    if knowledge is None:
        return 1
    tests_dir = args.tests or default_path("tests/conversations")
    eval_file = args.eval or default_path("tests/eval/questions.yaml")
    paths = find_test_files([tests_dir]) if tests_dir.exists() else []
    results = asyncio.run(run_files(knowledge, paths))
    reached = Reached()
    for result in results:
        reached.update(result.reached)
    sources = [f"{len(paths)} conversation test file(s) in {tests_dir}"]
    if eval_file.is_file():
        questions = load_questions(eval_file)
        reached.update(asyncio.run(reached_by_questions(knowledge, questions)))
        sources.append(f"{len(questions)} evaluation question(s) in {eval_file}")
    else:
        sources.append(f"no evaluation questions ({eval_file} not found)")
    _out(report(compute(knowledge, reached), sources, results))
    return 0


@command("review")
def cmd_review(args: argparse.Namespace) -> int:
    from bot.knowledge import assemble, default_directory, read_files
    from bot.maintain.periods import before
    from bot.maintain.review import due_entries, report
    from bot.maintain.tense import report as tense_report
    from bot.maintain.tense import wrong_tense

    today = args.today or date.today()
    cutoff = before(today, args.older_than)
    directory = args.knowledge or default_directory()
    due, errors = due_entries(directory, cutoff)
    _out(report(due, cutoff, today, errors))
    _out("")
    _out(tense_report(wrong_tense(assemble(directory, read_files(directory).files), today), today))
    return 0


@command("unanswered")
def cmd_unanswered(args: argparse.Namespace) -> int:
    from bot.maintain.periods import parse_since
    from bot.maintain.unanswered import group, report
    from bot.state import default_state_path, open_store

    since_text, since = "", 0.0
    if args.since:
        try:
            day = parse_since(args.since)
        except ValueError as exc:
            print(f"--since: {exc}", file=sys.stderr)
            return 2
        since = datetime.combine(day, datetime.min.time()).timestamp()
        since_text = f" since {day.isoformat()}"
    spec = args.state or load_settings().state
    if not spec and not default_state_path().exists():
        print(f"no unanswered questions recorded (no state file at {default_state_path()}; set --state or REGELLOTS_STATE)")
        return 0

    async def read() -> list[dict]:
        store = open_store(spec, reader=True)  # beside the running bot
        try:
            return await store.events(since)
        finally:
            await store.close()

    try:
        events = asyncio.run(read())
    except Exception as exc:  # noqa: BLE001 — say which store failed, not a traceback
        print(f"cannot read the state store: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    groups = group(events, args.threshold)
    if args.json:
        _out(json.dumps({"since": since_text.strip() or None, "total": sum(g.count for g in groups), "groups": [g.as_dict() for g in groups[: args.limit]]}, ensure_ascii=False, indent=2))
    else:
        _out(report(groups, since_text, args.limit))
    return 0


def _write_model(args: argparse.Namespace, train: Callable[[Path], tuple[Any, str]]) -> int:
    """Learn a model from the manifest `args.sets` and write it to `args.out`."""
    if not args.sets.is_file():
        print(f"{args.sets}: no such manifest", file=sys.stderr)
        return 2
    model, what = train(args.sets)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.save(args.out)
    print(f"wrote {args.out}: {what}")
    return 0


@command("urgency-train")
def cmd_urgency_train(args: argparse.Namespace) -> int:
    from bot.maintain.urgency_training import examples, train

    def learn(manifest: Path) -> tuple[Any, str]:
        sets = examples(manifest)
        model = train(sets)
        return model, f"{len(model.model.terms)} features learned from {len(sets)} messages"

    return _write_model(args, learn)


@command("route-train")
def cmd_route_train(args: argparse.Namespace) -> int:
    from bot.maintain.route_training import train

    def learn(manifest: Path) -> tuple[Any, str]:
        model, count = train(manifest)
        return model, f"{len(model.model.classes)} entries, {len(model.model.terms)} features, learned from {count} texts"

    return _write_model(args, learn)


@command("schema")
def cmd_schema(args: argparse.Namespace) -> int:
    from bot.knowledge.loader import knowledge_files
    from bot.maintain.schema import KNOWLEDGE_SCHEMA, SCHEMA_DIR, add_modeline, write

    # Where the user says; else beside the files to link; else the working directory — never into the
    # installed package (site-packages).
    out = args.out or (args.link / SCHEMA_DIR if args.link is not None else Path.cwd() / SCHEMA_DIR)
    for path in write(out):
        print(f"wrote {path}")
    if args.link is not None:
        changed = [p for p in knowledge_files(args.link) if add_modeline(p, out / KNOWLEDGE_SCHEMA)]
        print(f"added the schema line to {len(changed)} file(s)" + "".join(f"\n  {p}" for p in changed))
    return 0


@command("graph")
def cmd_graph(args: argparse.Namespace) -> int:
    from bot.maintain.graph import dot, flows_markdown, mermaid

    if not args.all and not args.flow:
        print("name a flow, or use --all", file=sys.stderr)
        return 2
    knowledge = _load(args.knowledge)
    if knowledge is None:
        return 1
    if args.all:
        text = flows_markdown(knowledge, args.lang)
    else:
        flow = knowledge.flows.get(args.flow)
        if flow is None:
            print(f"no flow {args.flow!r}; flows: {', '.join(sorted(knowledge.flows))}", file=sys.stderr)
            return 2
        text = (dot if args.format == "dot" else mermaid)(knowledge, flow, args.lang)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")
    else:
        _out(text.rstrip("\n"))
    return 0
