"""Benchmark: many users at once against a real server (``fangkong serve``) on the loopback.

On SQLite (a file in a temporary directory) or PostgreSQL (``fangkong_bench_concurrency``,
dropped and created afresh) it

1. loads a fixture through the platform's importers (``bench_dashboard.load``: N persons over
   Zhanjiang's villages, M cases, T tasks) and creates ``--accounts`` users of several roles
   and jurisdictions (the city's commander, county epidemiologists and testing officers);
2. starts ``fangkong serve`` in a process of its own (its admission limit and pool as
   configured: ``--pool``; ``--workers`` server processes), signs every virtual user in
   (``--login-concurrency`` at a time), then runs the scenarios, each with U virtual users
   at once, each user making R requests one after the other, pausing ``--think-ms`` on
   average between them (exponentially distributed; with 0, the default, U is the number
   of requests in flight: a stress test):

   - **reads**: the persons list of the user's jurisdiction, a person's record, the cases
     list, a case's record, chosen at random (``--mix`` weights);
   - **writes**: each user creates persons (``POST /api/v1/persons``);
   - **sign-ins**: every user signs in again at once (argon2, in the sign-in lane of the
     admission limit: ``FANGKONG_LOGIN_CONCURRENCY`` at once per process);

3. as the baseline, the same U users call ``/healthz`` (no database, no admission) R times,
   without pausing (a stress figure: U requests always in flight) and, when ``--think-ms`` is
   given, again with the same pauses as the scenarios (the baseline their p95 is compared
   with).

For each scenario it prints requests, errors by status, p50/p95/max latency, requests per
second, and the ratio of the p95 to the baseline's p95. The exit code is 1 if any request
of the reads or writes failed, or if the reads' p95 is over ``--p95-goal-ms``.

Usage::

    .venv/bin/python bench/bench_concurrency.py --db postgresql --users 200 --workers 2
    .venv/bin/python bench/bench_concurrency.py --db sqlite --users 50 --users 200

Only 127.0.0.1 is contacted; every loop is bounded by ``--requests``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_dashboard import load, open_database
from bench_persons import configure, use_database

PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/fangkong_bench_concurrency"
PASSWORD = "bench-Concurrency-0123"
COUNTIES = ["440802", "440803", "440804", "440811", "440823", "440825", "440881", "440882",
            "440883"]


@dataclass
class Account:
    name: str
    jurisdiction: str
    token: str = ""
    person_ids: list[int] = field(default_factory=list)
    case_ids: list[int] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_accounts(engine: Any, n: int) -> list[Account]:
    from fangkong.core.auth import Role, system_actor
    from fangkong.core.db import session_scope
    from fangkong.user import service as users
    from fangkong.user.schemas import UserCreate

    accounts = []
    roles = [Role.epidemiologist, Role.testing_officer, Role.commander]
    with session_scope(engine) as session:
        for i in range(n):
            role = roles[i % len(roles)]
            code = "4408" if role is Role.commander else COUNTIES[i % len(COUNTIES)]
            name = f"u{i:03d}"
            users.create_user(session, actor=system_actor("bench"), data=UserCreate(
                username=name, role=role, jurisdictions=[code], password=PASSWORD))
            accounts.append(Account(name, code))
    return accounts


def sample_ids(engine: Any, accounts: list[Account], per: int, seed: int) -> None:
    """Ids of records inside each account's jurisdiction, for the detail requests."""
    from sqlalchemy import select

    from fangkong.case.models import Case
    from fangkong.core.db import session_scope
    from fangkong.person.models import Person

    rng = random.Random(seed)
    with session_scope(engine) as session:
        persons = session.execute(select(Person.id, Person.division_code)).all()
        cases = session.execute(select(Case.id, Case.owning_division_code)).all()
    for acc in accounts:
        mine = [pid for pid, code in persons if code.startswith(acc.jurisdiction)]
        acc.person_ids = rng.sample(mine, min(per, len(mine)))
        mine = [cid for cid, code in cases if (code or "").startswith(acc.jurisdiction)]
        acc.case_ids = rng.sample(mine, min(per, len(mine)))


def start_server(url: str, data_dir: Path, port: int, pool: int,
                 workers: int = 1) -> subprocess.Popen[bytes]:
    env = {**os.environ, "FANGKONG_DATABASE_URL": url, "FANGKONG_DATA_DIR": str(data_dir),
           "FANGKONG_DB_POOL_SIZE": str(pool), "FANGKONG_ESCALATION_INTERVAL_SECONDS": "0",
           "FANGKONG_WORKERS": str(workers)}
    exe = Path(sys.executable).with_name("fangkong")
    log = open(data_dir / "server.log", "wb")  # noqa: SIM115 (the server's lifetime)
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    import urllib.request

    for _ in range(1200):  # a loaded machine takes a minute to import and start it
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return proc  # answering, in every worker it has started
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"the server stopped: see {data_dir / 'server.log'}") from None
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the server did not answer in 2 minutes")


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the process ``pid`` and its descendants
    (the server's worker processes), from /proc: what a request costs the server, whatever
    else runs on the machine. (The database server's own CPU is not counted.)"""
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    family, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        children = [p for p, pp in parents.items() if pp == parent and p not in family]
        family.update(children)
        todo.extend(children)
    return sum(cpu.get(p, 0.0) for p in family)


@dataclass
class Outcome:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    took: float = 0.0
    server_cpu: float = 0.0  # CPU seconds of the server's processes during the scenario
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # latencies per kind of read

    @property
    def errors(self) -> int:
        return sum(n for code, n in self.statuses.items() if code >= 400 or code < 0)


async def run_users(base: str, users: list[Account], requests: int,
                    make: Any, seed: int, think_s: float = 0.0) -> Outcome:
    """Each user makes ``requests`` requests one after the other on a keep-alive connection of
    its own (aiohttp: less client CPU per request than httpx, which matters here:
    the client shares the machine's cores with the server)."""
    import aiohttp

    out = Outcome()
    # keep-alive shorter than the server's (uvicorn: 5 s), so a connection is never reused just
    # as the server closes it
    connector = aiohttp.TCPConnector(limit=len(users) + 10, keepalive_timeout=2)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(base, connector=connector, timeout=timeout) as client:

        async def one_user(k: int, acc: Account) -> None:
            rng = random.Random(seed * 1000 + k)
            if think_s:  # users arrive spread over one think time, not all in one instant
                await asyncio.sleep(rng.uniform(0, think_s))
            for i in range(requests):
                method, path, kwargs = make(acc, rng, k, i)
                headers = {"Authorization": f"Bearer {acc.token}"} if acc.token else {}
                t0 = time.perf_counter()
                try:
                    async with client.request(method, path, headers=headers, **kwargs) as resp:
                        await resp.read()
                        status = resp.status
                except (aiohttp.ClientError, TimeoutError):
                    status = -1
                took = time.perf_counter() - t0
                out.latencies.append(took)
                out.by_kind.setdefault(kind_of(path), []).append(took)
                out.statuses[status] += 1
                if think_s:  # a person reads the answer before the next request
                    await asyncio.sleep(rng.expovariate(1 / think_s))

        t0 = time.perf_counter()
        await asyncio.gather(*(one_user(k, acc) for k, acc in enumerate(users)))
        out.took = time.perf_counter() - t0
    return out


def kind_of(path: str) -> str:
    """The kind of a request by its path: persons, person, cases, case, or the path."""
    parts = path.strip("/").split("/")
    if parts[:2] == ["api", "v1"] and len(parts) in (3, 4):
        return parts[2] if len(parts) == 3 else parts[2].rstrip("s")
    return path


def reads(mix: dict[str, float]) -> Any:
    kinds, weights = list(mix), list(mix.values())

    def make(acc: Account, rng: random.Random, _k: int, _i: int) -> tuple[str, str, dict]:
        kind = rng.choices(kinds, weights)[0]
        if kind == "person" and acc.person_ids:
            return "GET", f"/api/v1/persons/{rng.choice(acc.person_ids)}", {}
        if kind == "case" and acc.case_ids:
            return "GET", f"/api/v1/cases/{rng.choice(acc.case_ids)}", {}
        if kind == "cases":
            return "GET", "/api/v1/cases", {"params": {"limit": "50"}}
        return "GET", "/api/v1/persons", {"params": {"division": acc.jurisdiction,
                                                     "limit": "50"}}
    return make


def writes(run: int) -> Any:
    def make(acc: Account, _rng: random.Random, k: int, i: int) -> tuple[str, str, dict]:
        code = acc.jurisdiction if len(acc.jurisdiction) == 6 else "440802"
        return "POST", "/api/v1/persons", {"json": {
            "ref": f"W{run}-{k:03d}-{i:04d}", "name": "并发测试", "sex": "female",
            "division_code": code}}
    return make


def healthz(_acc: Account, _rng: random.Random, _k: int, _i: int) -> tuple[str, str, dict]:
    return "GET", "/healthz", {}


def signins(acc: Account, _rng: random.Random, _k: int, _i: int) -> tuple[str, str, dict]:
    return "POST", "/api/v1/auth/token", {"data": {"username": acc.name,
                                                    "password": PASSWORD}}


async def sign_in_all(base: str, accounts: list[Account], users: list[Account],
                      concurrency: int) -> list[Account]:
    import aiohttp

    sem = asyncio.Semaphore(concurrency)
    tokens: dict[str, str] = {}
    async with aiohttp.ClientSession(base, timeout=aiohttp.ClientTimeout(total=120)) as client:

        async def one(acc: Account) -> None:
            async with sem, client.post("/api/v1/auth/token", data={
                    "username": acc.name, "password": PASSWORD}) as resp:
                resp.raise_for_status()
                tokens[acc.name] = (await resp.json())["access_token"]

        await asyncio.gather(*(one(a) for a in accounts))
    out = []
    for u in users:
        acc = Account(u.name, u.jurisdiction, tokens[u.name], u.person_ids, u.case_ids)
        out.append(acc)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def report(name: str, o: Outcome, base_p95: float | None) -> str:
    lat = o.latencies
    codes = ", ".join(f"{c}: {n}" for c, n in sorted(o.statuses.items()))
    ratio = f"  p95 x{pct(lat, 0.95) / base_p95:6.1f} baseline" if base_p95 else ""
    return (f"  {name:26s} {len(lat):6d} req  errors {o.errors:4d}  "
            f"p50 {statistics.median(lat) * 1000:7.1f}  p95 {pct(lat, 0.95) * 1000:7.1f}  "
            f"max {max(lat) * 1000:7.1f} ms  {len(lat) / o.took:7.1f} req/s{ratio}  "
            f"server CPU {o.server_cpu / len(lat) * 1000:5.1f} ms/req  [{codes}]")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--pg-url", default=PG_URL,
                    help="PostgreSQL URL; THAT DATABASE IS DROPPED AND CREATED AFRESH")
    ap.add_argument("--persons", type=int, default=20_000)
    ap.add_argument("--cases", type=int, default=2_000)
    ap.add_argument("--tasks", type=int, default=2_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--batch", type=int, default=20_000)
    ap.add_argument("--district", default="440803")
    ap.add_argument("--accounts", type=int, default=30,
                    help="distinct users; virtual users take them in turn")
    ap.add_argument("--users", type=int, action="append",
                    help="virtual users at once (repeat for several runs; default 50)")
    ap.add_argument("--requests", type=int, default=20, help="requests per virtual user")
    ap.add_argument("--mix", default="persons=1,person=1,cases=1,case=1",
                    help="weights of the read kinds")
    ap.add_argument("--think-ms", type=float, action="append",
                    help="mean pause of a user between requests (exponential; repeat for several "
                    "runs; default 0: each user sends its next request at once, so the users "
                    "are the requests in flight)")
    ap.add_argument("--pool", type=int, default=20, help="FANGKONG_DB_POOL_SIZE of the server")
    ap.add_argument("--workers", type=int, default=1, help="FANGKONG_WORKERS of the server")
    ap.add_argument("--login-concurrency", type=int, default=8)
    ap.add_argument("--p95-goal-ms", type=float, default=500)
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--scenarios", default="reads,writes,signins",
                    help="which of reads, writes, signins to run (the /healthz baseline always)")
    ap.add_argument("--keep", type=Path, help="build in this directory and keep it (with "
                    "--db postgresql the database --pg-url is kept too); the accounts go to "
                    "accounts.json there")
    ap.add_argument("--reuse", type=Path, help="serve the database a run with --keep DIR left "
                    "(DIR; the same --db and --pg-url), without building it: to compare two "
                    "versions of the server back to back on the same data")
    args = ap.parse_args(argv)
    if args.reuse:
        return run(args, args.reuse, reused=True)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="fangkong-bench-conc-") as name:
        return run(args, Path(name))


def run(args: argparse.Namespace, tmp: Path, reused: bool = False) -> int:
    counts = args.users or [50]
    mix = {k: float(v) for k, v in (p.split("=") for p in args.mix.split(","))}
    failed = False
    if reused:
        configure(tmp)
        url = args.pg_url if args.db == "postgresql" else f"sqlite:///{tmp / 'bench.db'}"
        accounts = [Account(**a) for a in json.loads(
            (tmp / "accounts.json").read_text(encoding="utf-8"))]
    else:
        url = open_database(args.db, args.pg_url, tmp)
    print(f"bench_concurrency on {args.db}: {args.persons:,} persons, {args.cases:,} "
          f"cases, {args.accounts} accounts, pool {args.pool}, {args.workers} server "
          f"process(es){' (reused)' if reused else ''}", flush=True)
    if not reused:
        engine = use_database(url)
        load(engine, args, tmp)
        accounts = make_accounts(engine, args.accounts)
        sample_ids(engine, accounts, 50, args.seed)
        engine.dispose()
        (tmp / "accounts.json").write_text(json.dumps([vars(a) for a in accounts]),
                                           encoding="utf-8")
    port = free_port()
    server = start_server(url, tmp, port, args.pool, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        runs = [(n, think) for n in counts for think in (args.think_ms or [0.0])]
        for run, (n, think_ms) in enumerate(runs):
            think = think_ms / 1000
            users = [accounts[k % len(accounts)] for k in range(n)]
            t0 = time.perf_counter()
            users = asyncio.run(sign_in_all(base, accounts, users, args.login_concurrency))
            print(f"\n{n} users at once, {args.requests} requests each, think "
                  f"{think_ms:.0f} ms "
                  f"(signed in {len(accounts)} accounts in {time.perf_counter() - t0:.1f} s; "
                  f"load average {os.getloadavg()[0]:.1f})")
            def measured(*a: Any, pid: int = server.pid) -> Outcome:
                cpu0 = server_cpu_s(pid)
                out = asyncio.run(run_users(base, *a))
                out.server_cpu = server_cpu_s(pid) - cpu0
                return out

            base_o = measured(users, args.requests, healthz, args.seed)
            b95 = pct(base_o.latencies, 0.95)
            print(report("baseline: /healthz", base_o, None), flush=True)
            if think:  # the same pauses as the scenarios: the baseline the reads compare with
                paced = measured(users, args.requests, healthz, args.seed, think)
                b95 = pct(paced.latencies, 0.95)
                print(report("baseline: /healthz, paced", paced, None), flush=True)
            chosen = set(args.scenarios.split(","))
            if "reads" in chosen:
                r = measured(users, args.requests, reads(mix), args.seed, think)
                print(report("reads (list and detail)", r, b95), flush=True)
                for kind, lat in sorted(r.by_kind.items()):
                    print(f"    {kind:8s} {len(lat):5d} req  p50 "
                          f"{statistics.median(lat) * 1000:7.1f}  p95 "
                          f"{pct(lat, 0.95) * 1000:7.1f} ms")
                over = pct(r.latencies, 0.95) * 1000 > args.p95_goal_ms
                failed |= bool(r.errors or over)
                if over:
                    print(f"  ** reads' p95 over {args.p95_goal_ms:.0f} ms")
            if "writes" in chosen:
                w = measured(users, max(1, args.requests // 4), writes(run), args.seed,
                             think)
                print(report("writes (create person)", w, b95), flush=True)
                failed |= bool(w.errors)
            if "signins" in chosen:
                s = measured(users, 1, signins, args.seed)
                print(report("sign-ins, all at once", s, b95), flush=True)
            print(f"  (load average {os.getloadavg()[0]:.1f} at the end)", flush=True)
    finally:
        server.terminate()
        server.wait(30)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
