#!/usr/bin/env python3
"""Runs an unmodified verbs program against a fresh chio verbs service, as ctest does.

    run_pair.py SERVICE SHIM_DIR [--single] [--kill-server-first] -- PROGRAM [ARGS...]

Starts SERVICE (chio-verbs-service) on a private socket, then:
  - with --single: PROGRAM ARGS on host 0;
  - otherwise a server/client pair, the way the pingpongs and perftest take it: the server
    `PROGRAM ARGS -p PORT` on host 0, and once it listens on PORT, the client
    `PROGRAM ARGS -p PORT localhost` on host 1 (PORT is a free TCP port);
  - with --kill-server-first: a server is started and SIGKILLed once the service saw it attach,
    before the pair runs; the service must detach it and clean up, and the pair must still pass.
Each program must exit 0 and print its normal success output; the service must report every
process attached and detached, and stop cleanly on SIGTERM. On failure every log is printed.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TIMEOUT_S = 120

# The line each program prints when it finished its run normally.
SUCCESS = [
    (re.compile(r"ibv_(rc|ud|srq)_pingpong$"), re.compile(r"^\d+ iters in [\d.]+ seconds", re.M)),
    (re.compile(r"ib_\w+_bw$"), re.compile(r"^\s*\d+\s+\d+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s*$", re.M)),
    (re.compile(r"ib_\w+_lat$"), re.compile(r"^\s*\d+\s+\d+(\s+[\d.]+){7}\s*$", re.M)),
    (re.compile(r"ibv_devinfo$"), re.compile(r"hca_id:\s+chio0.*state:\s+PORT_ACTIVE", re.S)),
    (re.compile(r"ibv_devices$"), re.compile(r"^\s+chio0\s+[0-9a-f]{16}$", re.M)),
    (re.compile(r"verbs_check$"), re.compile(r"^verbs_check: all \d+ checks passed$", re.M)),
]


# perftest's passive side of the read latency test prints no result table: its normal end is the
# connection report. Every other server prints the same success output as its client.
SERVER_SUCCESS = [
    (re.compile(r"ib_read_lat$"), re.compile(r"^ remote address: LID", re.M)),
]


class Failure(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port):
    """True when some socket listens on TCP port `port` (IPv4 or IPv6)."""
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


def wait_for(cond, what, timeout, proc=None):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return
        if proc is not None and proc.poll() is not None:
            raise Failure(f"{what}: the process exited with {proc.returncode} first")
        time.sleep(0.05)
    raise Failure(f"timed out after {timeout} s waiting for {what}")


def service_up(path):
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect(path)
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    argv = sys.argv[1:]
    if "--" not in argv or len(argv) < 4:
        sys.exit(__doc__)
    sep = argv.index("--")
    service, shim_dir, opts, cmd = argv[0], argv[1], argv[2:sep], argv[sep + 1:]
    single = "--single" in opts
    kill_first = "--kill-server-first" in opts
    work = tempfile.mkdtemp(prefix="chio-verbs-")
    sock = os.path.join(work, "sock")
    logs = {}

    def log(name):
        path = os.path.join(work, name + ".log")
        logs[name] = path
        return open(path, "w")

    def env(host):
        e = dict(os.environ)
        e["LD_LIBRARY_PATH"] = shim_dir + (":" + e["LD_LIBRARY_PATH"] if e.get("LD_LIBRARY_PATH") else "")
        e["CHIO_SOCKET"] = sock
        e["CHIO_HOST"] = str(host)
        return e

    def service_log():
        with open(logs["service"]) as f:
            return f.read()

    procs = []
    svc = subprocess.Popen([service, "--socket", sock, "--progress", "2"], stdout=log("service"),
                           stderr=subprocess.STDOUT)
    procs.append(svc)
    ok = False
    try:
        wait_for(lambda: service_up(sock), "the service's socket", 60, svc)
        expected_attach = 0
        if kill_first:
            port = free_port()
            victim = subprocess.Popen(cmd + ["-p", str(port)], env=env(0), stdout=log("victim"),
                                      stderr=subprocess.STDOUT)
            procs.append(victim)
            wait_for(lambda: "attached client" in service_log(), "the victim to attach", 60, victim)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            wait_for(lambda: "detached client" in service_log(), "the service to detach the killed process", 60)
            expected_attach += 1
        runs = []
        if single:
            runs.append(("program", subprocess.Popen(cmd, env=env(0), stdout=log("program"),
                                                     stderr=subprocess.STDOUT)))
        else:
            port = free_port()
            server = subprocess.Popen(cmd + ["-p", str(port)], env=env(0), stdout=log("server"),
                                      stderr=subprocess.STDOUT)
            runs.append(("server", server))
            wait_for(lambda: listening(port), f"the server to listen on port {port}", 60, server)
            client = subprocess.Popen(cmd + ["-p", str(port), "localhost"], env=env(1),
                                      stdout=log("client"), stderr=subprocess.STDOUT)
            runs.append(("client", client))
        procs.extend(p for _, p in runs)
        end = time.time() + TIMEOUT_S
        for name, p in runs:
            try:
                rc = p.wait(timeout=max(1, end - time.time()))
            except subprocess.TimeoutExpired:
                raise Failure(f"{name} did not finish within {TIMEOUT_S} s")
            if rc != 0:
                raise Failure(f"{name} exited with {rc}")
            with open(logs[name]) as f:
                out = f.read()
            table = SERVER_SUCCESS + SUCCESS if name == "server" else SUCCESS
            pattern = next((pat for prog, pat in table if prog.search(cmd[0])), None)
            if pattern is None:
                raise Failure(f"no success pattern known for {cmd[0]}")
            if not pattern.search(out):
                raise Failure(f"{name} exited 0 but without its success output ({pattern.pattern})")
        expected_attach += len(runs)
        wait_for(lambda: service_log().count("detached client") >= expected_attach,
                 f"the service to detach all {expected_attach} processes", 60)
        svc.send_signal(signal.SIGTERM)
        try:
            svc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise Failure("the service did not stop on SIGTERM")
        text = service_log()
        if svc.returncode != 0 or "stopped at simulated time" not in text:
            raise Failure(f"the service exited with {svc.returncode} without its stop line")
        attached = text.count("chio-verbs: attached client")
        detached = text.count("chio-verbs: detached client")
        if attached != expected_attach or detached != expected_attach:
            raise Failure(f"the service reported {attached} attached and {detached} detached "
                          f"processes, expected {expected_attach} of each")
        m = re.search(r"stopped at simulated time ([\d.]+) us", text)
        print(f"PASS {' '.join(cmd)}: simulated time {m.group(1)} us")
        ok = True
    except (Failure, OSError) as e:  # OSError: a program that is not installed
        print(f"FAIL {' '.join(cmd)}: {e}")
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            for name, path in logs.items():
                print(f"----- {name} ({path}) -----")
                with open(path) as f:
                    print(f.read()[-20000:])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
