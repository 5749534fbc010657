"""A port already taken: each service says so and exits 1 at once (the query-service used to crash freeing its
consumer under the running Kafka probe). Repeated, because that crash depended on thread timing."""
import socket
import tempfile

import harness as h


def main():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        for kind, args in (("query", ["--topic", h.unique_topic("port"), "--state-dir", tempfile.mkdtemp(),
                                      "--results-dir", tempfile.mkdtemp()]),
                           ("gateway", ["--topic", h.unique_topic("port"), "--routes-file", h.routes_file(),
                                        "--results-dir", tempfile.mkdtemp()])):
            for attempt in range(5):
                svc = h.Service(kind, args, port=port, wait=False)
                try:
                    code = svc.proc.wait(timeout=15)
                except Exception:
                    svc.kill9()
                    raise
                log = svc.log()
                h.check(code == 1, f"{kind} attempt {attempt}: exit {code}, want 1\n{log[-1500:]}")
                h.check_in(f"cannot listen on 127.0.0.1:{port}: address already in use", log, f"{kind} log")


if __name__ == "__main__":
    main()
