"""deploy/run.sh keeps the services running: a service killed with kill -9 is started again after a back-off that
grows, with a log line each time, while the other service keeps serving; Ctrl-C (SIGINT to the terminal's process
group) stops everything it started. Run against the test broker (KAFKA_BOOTSTRAP_SERVERS: nothing local started),
on free ports, with its state and results in a scratch directory."""
import http.client
import os
import re
import signal
import subprocess
import tempfile
import time

import harness as h


def pids_of(binary, port):
    """Pids of the processes running binary with --port port."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].decode(errors="replace") == binary and b"--port" in argv and \
                argv[argv.index(b"--port") + 1] == str(port).encode():
            found.append(int(entry))
    return found


def healthy(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def main():
    scratch = tempfile.mkdtemp(prefix="deploy-run-")
    ingest_port, query_port = h.free_port(), h.free_port()
    topic = h.unique_topic("deploy-run")
    h.create_topic(topic, 3)
    env = dict(os.environ, INGEST_PORT=str(ingest_port), QUERY_PORT=str(query_port), LISTEN_ADDR="127.0.0.1",
               TOPIC=topic, STATE_DIR=os.path.join(scratch, "state"), RESULTS_DIR=os.path.join(scratch, "results"),
               BUILD_DIR=h.build_dir(), ROUTES_FILE=h.routes_file(), KAFKA_BOOTSTRAP_SERVERS=h.bootstrap())
    log_path = os.path.join(scratch, "run.log")
    log = open(log_path, "wb")
    run = subprocess.Popen([os.path.join(h.SOURCE_DIR, "deploy", "run.sh")], cwd=h.SOURCE_DIR, env=env,
                           stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)

    def log_text():
        with open(log_path, "rb") as f:
            return f.read().decode(errors="replace")

    query_bin = os.path.join(h.build_dir(), h.BINARIES["query"])
    gateway_bin = os.path.join(h.build_dir(), h.BINARIES["gateway"])
    try:
        h.wait_until(lambda: healthy(ingest_port) and healthy(query_port), 300, 0.5,
                     "both services up under deploy/run.sh")
        gateway_pids = pids_of(gateway_bin, ingest_port)
        h.check_eq(len(gateway_pids), 1, "one gateway process")
        delays = []
        for kill in range(2):
            pids = pids_of(query_bin, query_port)
            h.check_eq(len(pids), 1, "one query-service process")
            os.kill(pids[0], signal.SIGKILL)
            t = time.monotonic()
            h.wait_until(lambda: pids_of(query_bin, query_port) not in ([], pids) and healthy(query_port), 60, 0.1,
                         f"the query-service started again after kill -9 #{kill + 1}")
            took = time.monotonic() - t
            lines = re.findall(r"query-service exited \(status (\d+)\); restarting it in (\d+) s", log_text())
            h.check_eq(len(lines), kill + 1, f"one log line per restart:\n{log_text()[-2000:]}")
            h.check_eq(lines[-1][0], "137", "the exit status said (SIGKILL)")
            delays.append(int(lines[-1][1]))
            h.check(took >= delays[-1], f"restarted after {took:.1f} s, before its back-off of {delays[-1]} s")
            # The other service was left alone.
            h.check_eq(pids_of(gateway_bin, ingest_port), gateway_pids, "the gateway kept running")
            print(f"kill -9 #{kill + 1}: restarted after {took:.1f} s (back-off {delays[-1]} s)")
        h.check(delays[1] > delays[0], f"the back-off grows: {delays}")

        # Ctrl-C: SIGINT to the whole process group, as a terminal sends it.
        os.killpg(run.pid, signal.SIGINT)
        try:
            run.wait(30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"deploy/run.sh still running 30 s after Ctrl-C:\n{log_text()[-2000:]}")
        h.wait_until(lambda: not pids_of(query_bin, query_port) and not pids_of(gateway_bin, ingest_port), 10, 0.2,
                     "no service left after Ctrl-C")
        h.check("snapshot_written" in log_text(), "the query-service wrote its final snapshot on the way out")
        print(f"Ctrl-C: deploy/run.sh exited ({run.returncode}), both services stopped")
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        for pid in pids_of(query_bin, query_port) + pids_of(gateway_bin, ingest_port):
            os.kill(pid, signal.SIGKILL)
        log.close()


if __name__ == "__main__":
    main()
