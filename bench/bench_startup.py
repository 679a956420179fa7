"""Benchmark: how long the ``fangkong`` command takes to start, against ``python -c pass``.

Times, as whole processes (what a person waits for), over several runs each after a warm-up:

1. ``fangkong --help``;
2. ``fangkong user add --help`` (the root, the settings check and the ``user`` group);
3. ``fangkong brief --help`` (the brief's command, without the sections it is built from);
4. ``fangkong user add uN --role epidemiologist --jurisdiction 440802 --password-stdin``
   (a new user each run: one password hash, one transaction) on an embedded SQLite database
   in a temporary data directory, migrated and loaded with Guangdong's divisions beforehand.

Each command runs in turn with the baseline, ``python -c pass`` of the same interpreter, so
that a busy machine slows both; it prints the median wall and CPU (user + system, of the child)
seconds of each, the ratio of the medians, and the median of the run-by-run ratios. On a
machine shared by other work, read CPU: wall time waits for the processors too.

Then, with ``--parts``, what ``fangkong user add`` spends its CPU on: a fresh interpreter
imports, part after part, what the command imports (typer, rich, pydantic with
pydantic-settings and the settings read, SQLAlchemy with its ORM, Fangkong's own modules of the
command, the common-password list), hashes one password, then runs the command itself; the
CPU seconds of each part (median over the runs) beside ``python -c pass``.

Before timing, the Fangkong package's modules are compiled to bytecode (``compileall``, as
``pip install`` does for an installed package): an editable checkout run with
``PYTHONDONTWRITEBYTECODE`` set (as on these machines) otherwise compiles each of Fangkong's
modules from source on every run, about 5 % of ``user add``'s CPU that an installed command
never pays (``--no-compile`` times the checkout as it is). The load averages are printed before
and after each command's runs: on a shared machine they say how far to trust the figures.

Usage: ``flock /tmp/fangkong-bench.lock .venv/bin/python bench/bench_startup.py [--runs 9]
[--parts] [--no-compile]``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "a-long-password-for-bench\n"


def fangkong() -> list[str]:
    script = Path(sys.executable).parent / "fangkong"
    return [str(script)] if script.exists() else [sys.executable, "-m", "fangkong"]


def load() -> str:
    """The machine's load averages (1, 5, 15 minutes)."""
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def compile_package(env: dict[str, str]) -> str:
    """Compile the Fangkong package that ``env`` imports to bytecode (its ``__pycache__``);
    the package's directory."""
    code = ("import compileall, os, fangkong\n"
            "where = os.path.dirname(fangkong.__file__)\n"
            "assert compileall.compile_dir(where, quiet=1)\n"
            "print(where)\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


def timed(cmd: list[str], env: dict[str, str], stdin: str | None) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env,
                          check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(name: str, cmd: list[str], env: dict[str, str], runs: int,
            stdin: str | None = None, vary: bool = False) -> dict[str, float]:
    """``cmd`` and the baseline in turn, ``runs`` times after one warm-up of each."""
    before = load()
    base = [sys.executable, "-c", "pass"]
    rows: list[tuple[float, float, float, float]] = []
    for i in range(runs + 1):
        args = [a.replace("{n}", f"{os.getpid()}x{i}") for a in cmd] if vary else cmd
        a = timed(args, env, stdin)
        b = timed(base, env, None)
        if i:  # the first pair warms the caches
            rows.append((*a, *b))
    wall, cpu, bwall, bcpu = (statistics.median(col) for col in zip(*rows, strict=True))
    out = {"wall": wall, "cpu": cpu, "base_wall": bwall, "base_cpu": bcpu,
           "wall_ratio": wall / bwall, "cpu_ratio": cpu / bcpu,
           "wall_ratio_pairs": statistics.median(r[0] / r[2] for r in rows),
           "cpu_ratio_pairs": statistics.median(r[1] / r[3] for r in rows if r[3] > 0)}
    print(f"{name:<24} wall {wall:6.3f} s  cpu {cpu:6.3f} s   | python -c pass: wall "
          f"{bwall:.3f} s cpu {bcpu:.3f} s | ratio of medians wall {out['wall_ratio']:5.1f}x "
          f"cpu {out['cpu_ratio']:5.1f}x | median pair ratio wall "
          f"{out['wall_ratio_pairs']:5.1f}x cpu {out['cpu_ratio_pairs']:5.1f}x", flush=True)
    print(f"{'':<24} {before} before, {load()} after", flush=True)
    return out


# Runs in a fresh interpreter: the CPU seconds after each part, then those of the command run
# in the same process (its imports done: parsing, the database work, the hash) and of a hash;
# the process's start is the CPU before its first line, its end what the whole process took
# (the parent's count) after the last.
_PARTS = """
import io, json, sys, time
cpu = time.process_time
marks = [("start", cpu())]
def mark(name): marks.append((name, cpu()))
import typer, typer.main, typer.core; mark("typer (with its click)")
import rich.console, rich.markup; mark("rich")
import pydantic, pydantic_settings; mark("pydantic, pydantic-settings")
from fangkong.core.config import get_settings; get_settings(); mark("the settings read")
import sqlalchemy, sqlalchemy.orm; mark("SQLAlchemy and its ORM")
import fangkong.cli, fangkong.cliutil, fangkong.user.cli, fangkong.user.service
import fangkong.user.schemas, fangkong.core.migrate, fangkong.tracing.graph_hook
mark("Fangkong's modules of the command")
from fangkong.user.passwords import common_passwords; common_passwords()
mark("the common-password list (zxcvbn)")
from fangkong.core.security import _hasher, hash_password
p = _hasher
start = cpu(); hash_password(sys.argv[2]); hashed = cpu() - start
sys.argv[1:] = ["user", "add", sys.argv[1], "--role", "epidemiologist", "--jurisdiction",
                "440802", "--password-stdin"]
sys.stdin = io.StringIO("{password}")
start = cpu()
try:
    fangkong.cli.main()
except SystemExit as exit:
    assert not exit.code, exit.code
ran = cpu() - start
out = {"the interpreter's start": marks[0][1]}
out.update({name: b - a for (_, a), (name, b) in zip(marks, marks[1:])})
out[f"one argon2id hash (t={p.time_cost}, m={p.memory_cost // 1024} MiB, "
    f"p={p.parallelism})"] = hashed
out["the command's own work (parsing, database)"] = ran - hashed
out["until here"] = cpu()
print(json.dumps(out))
"""


def parts(env: dict[str, str], runs: int) -> None:
    """What ``fangkong user add`` spends its CPU on, part by part (see the module's doc)."""
    code = _PARTS.replace("{password}", PASSWORD.replace("\n", "\\n"))
    rows: dict[str, list[float]] = {}
    base: list[float] = []
    for i in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([sys.executable, "-c", code, f"p{os.getpid()}x{i}",
                               PASSWORD.strip()], capture_output=True, text=True, env=env,
                              check=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        base.append(timed([sys.executable, "-c", "pass"], env, None)[1])
        if i:  # the first run warms the caches
            out = json.loads(done.stdout.splitlines()[-1])
            whole = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            out["the process's end (after the command)"] = whole - out.pop("until here")
            for name, value in out.items():
                rows.setdefault(name, []).append(value)
    medians = {name: statistics.median(values) for name, values in rows.items()}
    total = sum(medians.values())
    print(f"fangkong user add, CPU by part (median of {runs} runs each):")
    for name, value in medians.items():
        print(f"  {name:<46} {value:6.3f} s  {100 * value / total:4.1f} %")
    print(f"  {'sum':<46} {total:6.3f} s   (python -c pass, whole: "
          f"{statistics.median(base[1:]):.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9, help="counted runs of each command")
    parser.add_argument("--parts", action="store_true",
                        help="also what `fangkong user add` spends its CPU on, part by part")
    parser.add_argument("--no-compile", action="store_true",
                        help="do not compile Fangkong's modules to bytecode before timing")
    args = parser.parse_args()
    cmd = fangkong()
    with tempfile.TemporaryDirectory(prefix="fangkong-bench-startup-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FANGKONG_")}
        env["FANGKONG_DATA_DIR"] = tmp
        for setup in (["db", "upgrade"], ["geo", "load", "--province", "44", "--json"]):
            subprocess.run([*cmd, *setup], env=env, check=True, capture_output=True)
        compiled = ("as it is" if args.no_compile
                    else f"compiled to bytecode first ({compile_package(env)})")
        print(f"{' '.join(cmd)}; {args.runs} runs each after a warm-up; SQLite in {tmp}; "
              f"Fangkong's modules {compiled}; {load()}")
        measure("fangkong --help", [*cmd, "--help"], env, args.runs)
        measure("fangkong user add --help", [*cmd, "user", "add", "--help"], env, args.runs)
        measure("fangkong brief --help", [*cmd, "brief", "--help"], env, args.runs)
        measure("fangkong user add", [*cmd, "user", "add", "u{n}", "--role", "epidemiologist",
                                      "--jurisdiction", "440802", "--password-stdin"],
                env, args.runs, stdin=PASSWORD, vary=True)
        if args.parts:
            parts(env, args.runs)


if __name__ == "__main__":
    main()
