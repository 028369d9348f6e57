"""``make loadtest``: run a Locust profile headless, gate it on the SLOs.

Without ``--host`` it starts a fresh ``essaim serve`` on 127.0.0.1 with a
temporary data directory, pins the server and Locust to different cores
(``taskset``), and stops the server afterwards. With ``--host`` it loads a
running deployment and starts no server. Reports (CSV, HTML) go to
``reports/<profile>-<time>/``; the exit code is Locust's: 1 when an SLO broke.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .profiles import PROFILES
from .servers import KINDS, ServerProcess, free_port, taskset_prefix

__all__ = ["main"]

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
#: Seconds Locust gets past its --run-time to stop users and write reports.
LOCUST_GRACE_SECONDS = 60


def locust_command(profile_name: str, host: str, report_dir: Path, *, users: int, spawn_rate: float,
                   run_seconds: int, role: list[str]) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--host", host,
            "--essaim-profile", profile_name, "-u", str(users), "-r", str(spawn_rate), "-t", f"{run_seconds}s",
            "--csv", str(report_dir / "locust"), "--html", str(report_dir / "report.html"),
            "--only-summary", "--stop-timeout", "5", "--exit-code-on-error", "0",
            "--loglevel", "WARNING", *role]


def create_campaign(host: str, admin_token: str) -> dict[str, str]:
    """A demo campaign on ``host``: its join code, id and facilitator token."""
    request = urllib.request.Request(
        host.rstrip("/") + "/api/campaigns", data=json.dumps({"template": "demo"}).encode(), method="POST",
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        created = json.load(response)
    return {"ESSAIM_LOAD_CAMPAIGN": created["code"], "ESSAIM_LOAD_CAMPAIGN_ID": created["campaign_id"],
            "ESSAIM_LOAD_FACILITATOR_TOKEN": created["facilitator_token"]}


def run_locust(args: argparse.Namespace, host: str, env: dict[str, str], report_dir: Path) -> int:
    profile = PROFILES[args.profile]
    users = args.users or profile.users
    spawn_rate = args.spawn_rate or profile.spawn_rate
    run_seconds = args.run_seconds or int(users / spawn_rate + profile.campaign_seconds + 15)
    workers = args.workers or profile.workers
    if workers > 1 and not env.get("ESSAIM_LOAD_CAMPAIGN"):
        # Each worker is its own process: a campaign created by the facilitator
        # user in one of them would be unknown to the others' participants.
        env = {**env, **create_campaign(host, env["ESSAIM_ADMIN_TOKEN"])}
        print(f"campaign {env['ESSAIM_LOAD_CAMPAIGN']} created for the {workers} Locust workers", flush=True)
    pin = taskset_prefix(args.locust_cpu)
    # +1: the facilitator user (fixed_count=1) is one of Locust's users.
    common = dict(users=users + 1, spawn_rate=spawn_rate, run_seconds=run_seconds)
    timeout = run_seconds + LOCUST_GRACE_SECONDS
    if workers <= 1:
        return subprocess.run(pin + locust_command(args.profile, host, report_dir, role=[], **common),
                              env=env, timeout=timeout).returncode
    # A free port, not Locust's fixed 5557: two runs on one machine (CI's test
    # and an SRE's load test) must not attach workers to each other's master.
    master_port = str(free_port())
    master = subprocess.Popen(pin + locust_command(args.profile, host, report_dir, role=[
        "--master", "--expect-workers", str(workers), "--master-bind-host", "127.0.0.1",
        "--master-bind-port", master_port], **common), env=env)
    helpers = [subprocess.Popen(pin + [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--worker",
                                       "--master-host", "127.0.0.1", "--master-port", master_port,
                                       "--essaim-profile", args.profile, "--loglevel", "WARNING"], env=env)
               for _ in range(workers)]
    try:
        return master.wait(timeout)
    finally:
        for w in helpers:
            try:
                w.wait(LOCUST_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                w.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="smoke")
    parser.add_argument("--host", default="", help="a running deployment (no local server is started)")
    parser.add_argument("--server", choices=sorted(KINDS), default="essaim",
                        help="local server to start when --host is not given")
    parser.add_argument("--server-cpu", default="0", help="core for the local server ('' for none)")
    parser.add_argument("--locust-cpu", default=None,
                        help="core(s) for Locust (default: 1 with a local server, none with --host)")
    parser.add_argument("--users", type=int, default=0, help="override the profile's users")
    parser.add_argument("--spawn-rate", type=float, default=0, help="override the profile's spawn rate")
    parser.add_argument("--workers", type=int, default=0,
                        help="Locust worker processes on this machine (default: the profile's)")
    parser.add_argument("--run-seconds", type=int, default=0, help="override the run time (a shorter look)")
    parser.add_argument("--reports", default="reports")
    args = parser.parse_args()

    if args.locust_cpu is None:
        args.locust_cpu = "" if args.host else "1"
    report_dir = Path(args.reports) / f"{args.profile}-{time.strftime('%Y%m%d-%H%M%S')}"
    report_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    profile = PROFILES[args.profile]
    print(f"profile {profile.name}: {profile.description}", flush=True)
    if args.host:
        if not env.get("ESSAIM_ADMIN_TOKEN") and not env.get("ESSAIM_LOAD_CAMPAIGN"):
            raise SystemExit("set ESSAIM_ADMIN_TOKEN (to create a campaign) or ESSAIM_LOAD_CAMPAIGN, "
                             "ESSAIM_LOAD_CAMPAIGN_ID and ESSAIM_LOAD_FACILITATOR_TOKEN (to use one)")
        code = run_locust(args, args.host, env, report_dir)
    else:
        with ServerProcess(args.server, cpu=args.server_cpu or None) as server:
            env["ESSAIM_ADMIN_TOKEN"] = server.admin_token
            print(f"server: {KINDS[args.server]} on {server.base_url}, pid {server.pid}, "
                  f"cpu {args.server_cpu or 'any'}; Locust on cpu {args.locust_cpu or 'any'}", flush=True)
            code = run_locust(args, server.base_url, env, report_dir)
            m = server.metrics()
            print(f"server after the run: RSS {server.rss_kib() / 1024:.0f} MiB, CPU {server.cpu_seconds():.1f} s, "
                  f"frames out {m.get('essaim_frames_out_total', 0):.0f}, frames in "
                  f"{m.get('essaim_frames_in_total', 0):.0f}", flush=True)
            if server.proc is not None and server.proc.poll() is not None:
                print(f"the server died during the run; its log:\n{server.log_tail()}")
                code = code or 1
    summary = report_dir / "locust_summary.txt"
    if summary.exists():
        print(summary.read_text(encoding="utf-8"), end="")
    print(f"reports: {report_dir}/ (report.html, locust_stats.csv, locust_verdict.json); exit code {code}")
    sys.exit(code)


if __name__ == "__main__":
    main()
