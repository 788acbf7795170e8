"""A real Ray cluster on 127.0.0.1 for tests: a head and worker nodes, each a `ray start --block`
in a session of its own.

Isolation: every port is a free one picked here (none of Ray's fixed defaults), Ray's temporary
folder (and TMPDIR of everything the nodes run) is a fresh one, authentication uses a token made for this cluster (nothing read from or
written to ~/.ray), and RAY_ADDRESS is not inherited. Every process of the cluster carries
VMT_LOOPBACK_CLUSTER=<tag>:<node> in its environment, so `kill_node` and `stop` find them all —
raylets, workers and the programs the workers start — and end them by pid; `ray stop` is never
used (it would stop every Ray on the machine). Use it as a context manager: the cluster is
stopped however the test ends.
"""
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

RAY = os.path.join(os.path.dirname(sys.executable), "ray")
MARKER = "VMT_LOOPBACK_CLUSTER"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with(marker_value):
    """Pids of the processes whose environment has MARKER=marker_value (or starts with it)."""
    pids = []
    needle = f"{MARKER}={marker_value}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                environ = f.read().split(b"\0")
        except OSError:
            continue
        if any(item.startswith(needle) for item in environ):
            pids.append(int(entry))
    return pids


def command_of(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


class LoopbackCluster:
    def __init__(self, object_store_mb=80):
        self.tag = secrets.token_hex(6)
        self.temp_dir = tempfile.mkdtemp(prefix="vmt-ray-")  # short: Ray's socket paths live here
        self.object_store_bytes = object_store_mb * 1024 * 1024
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        self.env.update({
            "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32),
            # a dead node is noticed in a few seconds rather than half a minute
            "RAY_health_check_period_ms": "1000", "RAY_health_check_timeout_ms": "2000",
            "RAY_health_check_failure_threshold": "3",
            "RAY_USAGE_STATS_ENABLED": "0",
            # the temporary files of everything the nodes run, removed with the cluster
            "TMPDIR": self.temp_dir,
        })
        self.nodes = {}  # name -> Popen of its `ray start --block`
        self.logs = {}   # name -> lines it printed

    def client_env(self):
        """The environment for a driver (vmt-batch) of this cluster."""
        return dict(self.env, RAY_ADDRESS=self.address, **{MARKER: f"{self.tag}:driver"})

    def start_node(self, name, num_cpus, head=False, timeout=120):
        """Starts a node and waits (up to `timeout` s) until `ray start` says it is up."""
        ports = ["--node-manager-port", "--object-manager-port", "--metrics-export-port",
                 "--runtime-env-agent-port", "--dashboard-agent-grpc-port",
                 "--dashboard-agent-listen-port"]
        command = [RAY, "start", "--block", "--node-ip-address=127.0.0.1",
                   f"--num-cpus={num_cpus}", "--num-gpus=0",
                   f"--object-store-memory={self.object_store_bytes}", "--disable-usage-stats",
                   "--min-worker-port=0", "--max-worker-port=0"]
        for option in ports:
            command.append(f"{option}={free_port()}")
        if head:
            command += ["--head", f"--port={self.port}", "--include-dashboard=false",
                        f"--temp-dir={self.temp_dir}"]
        else:
            command += [f"--address={self.address}"]
        env = dict(self.env, **{MARKER: f"{self.tag}:{name}"})
        process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   start_new_session=True)
        self.nodes[name] = process
        lines = self.logs.setdefault(name, [])
        started = threading.Event()

        def read():
            for line in process.stdout:
                lines.append(line.rstrip("\n"))
                if "Ray runtime started" in line:
                    started.set()
            process.wait()
            started.set()  # ended: the check below sees the process gone
        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not started.wait(0.2):
            if time.monotonic() > deadline:
                raise AssertionError(f"ray start ({name}) not up within {timeout} s: "
                                     + "\n".join(lines[-20:]))
        if process.poll() is not None:
            raise AssertionError(f"ray start ({name}) exited with {process.returncode}: "
                                 + "\n".join(lines[-20:]))

    def pids(self, name=""):
        """Processes of node `name` (all nodes and drivers when empty)."""
        return processes_with(f"{self.tag}:{name}") if name else processes_with(f"{self.tag}:")

    def programs_on(self, name, program):
        """Pids of `program` (a path fragment of its command line) running on node `name`."""
        return [pid for pid in self.pids(name) if program in command_of(pid)]

    def kill_node(self, name):
        """SIGKILL to every process of node `name`, as if its machine had gone."""
        for pid in self.pids(name):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.nodes[name].wait(timeout=30)

    def stop(self):
        """SIGTERM to the nodes' `ray start` (it stops its own processes), then SIGKILL to
        anything of the cluster still there; removes the temporary folder."""
        for process in self.nodes.values():
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(p.poll() is None for p in self.nodes.values()):
            time.sleep(0.2)
        for _ in range(3):
            left = self.pids()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.5)
        for process in self.nodes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def bring_up_loopback():
    """Sets the `lo` interface up (a new network namespace starts with it down)."""
    import fcntl
    import struct
    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s.fileno(), siocgifflags, request))[1]
        fcntl.ioctl(s.fileno(), siocsifflags, struct.pack("16sh", b"lo", flags | iff_up))


def in_private_network():
    """Re-runs this program in a network namespace of its own (unshare --net) with only the
    loopback interface, once; returns in the re-run program, exits with its status otherwise.
    There Ray's nodes get 127.0.0.1 as their address (outside it Ray replaces 127.0.0.1 by the
    machine's outward address) and nothing of the cluster can reach another machine or collide
    with another program's ports. Exit 77 (skip) when namespaces are not allowed."""
    if os.environ.get("VMT_PRIVATE_NETWORK") == "1":
        bring_up_loopback()
        return
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "--net", "true"],
                                         capture_output=True).returncode != 0:
        print("SKIP: needs a private network namespace (unshare --net, util-linux, as root) "
              "to run the Ray cluster on 127.0.0.1")
        sys.exit(77)
    env = dict(os.environ, VMT_PRIVATE_NETWORK="1")
    sys.exit(subprocess.run([unshare, "--net", sys.executable] + sys.argv, env=env).returncode)
