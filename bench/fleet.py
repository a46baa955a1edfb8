"""The benchmark's local fleet: OpenSSH servers on 127.0.0.1, one Unix user per host.

A "host" is one (server, user) pair with its own home, so that 500 hosts can be served by
50 sshd processes with 10 users each. Every server has its own ed25519 host key; the client
key, known_hosts (`[127.0.0.1]:PORT` lines, for the relay ports too) and every home live
under one folder. The sshd listeners run in the foreground under a small supervisor that is
a child sub-reaper, so that the CPU of every per-connection sshd is accounted when it ends
(sshd's monitor does not reap its post-authentication child).

Run as root: sshd must start as root to switch to each host's user.
"""

import ctypes
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

SSHD = "/usr/sbin/sshd"
SFTP_SERVER = "/usr/lib/openssh/sftp-server"
USER_PREFIX = "flbench"
PR_SET_CHILD_SUBREAPER = 36
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Target:
    """One host as a tool sees it."""

    name: str
    address: str
    port: int
    user: str
    home: str


def free_ports(count):
    """Ports the kernel hands out now; held open together so that they are distinct."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def run_quiet(argv):
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def proc_children(pid):
    """Direct children of pid, from every thread's children list."""
    children = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                children += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return children


def proc_cpu_ticks(pid, with_children=True):
    """utime+stime (and cutime+cstime) of a live process, in clock ticks."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    # Fields after the command: state is [0], utime is [11] … cstime is [14].
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks


class Fleet:
    """A fleet of `servers` sshd listeners serving `hosts` users in `folder`."""

    def __init__(self, folder, hosts, servers=None, user_prefix=USER_PREFIX):
        if os.geteuid() != 0:
            raise SystemExit("bench: the fleet needs root (sshd switches to each host's user)")
        self.folder = os.path.abspath(folder)
        self.host_count = hosts
        self.user_prefix = user_prefix
        self.server_count = min(servers or hosts, hosts)
        self.identity = os.path.join(self.folder, "client", "id_ed25519")
        self.known_hosts = os.path.join(self.folder, "client", "known_hosts")
        self.ports = []
        self.relay_ports = []
        self.supervisor = None
        self.listener_pids = []
        self.log_offsets = {}

    # Layout ---------------------------------------------------------------------------------

    def server_dir(self, s):
        return os.path.join(self.folder, "servers", f"s{s:03d}")

    def user(self, i):
        return f"{self.user_prefix}{i:03d}"

    def home(self, i):
        return os.path.join(self.folder, "homes", self.user(i))

    def server_of(self, i):
        """Hosts are dealt round-robin, so the first N hosts spread over the servers."""
        return (i - 1) % self.server_count + 1

    def users_of(self, s):
        return [self.user(i) for i in range(1, self.host_count + 1) if self.server_of(i) == s]

    # Set-up ---------------------------------------------------------------------------------

    def setup(self):
        """Creates keys, users, homes and configs; cheap when they already exist."""
        os.makedirs(os.path.join(self.folder, "client"), exist_ok=True)
        os.makedirs(os.path.join(self.folder, "homes"), exist_ok=True)
        os.chmod(self.folder, 0o755)
        os.chmod(os.path.join(self.folder, "homes"), 0o755)
        if not os.path.exists(self.identity):
            run_quiet(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "flotilla-bench",
                       "-f", self.identity])
        with open(self.identity + ".pub") as f:
            public_key = f.read()
        for i in range(1, self.host_count + 1):
            self._setup_user(i, public_key)
        for s in range(1, self.server_count + 1):
            d = self.server_dir(s)
            os.makedirs(d, exist_ok=True)
            key = os.path.join(d, "ssh_host_ed25519_key")
            if not os.path.exists(key):
                run_quiet(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
        # sshd's privilege separation folder, which Debian creates only for its own service.
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)

    def _setup_user(self, i, public_key):
        name, home = self.user(i), self.home(i)
        try:
            pwd.getpwnam(name)
        except KeyError:
            # Password "*" rather than "!": sshd without PAM treats "!" as a locked account.
            run_quiet(["useradd", "-M", "-d", home, "-s", "/bin/bash", "-p", "*", name])
        entry = pwd.getpwnam(name)
        if entry.pw_dir != home:
            run_quiet(["usermod", "-d", home, name])
        ssh_dir = os.path.join(home, ".ssh")
        os.makedirs(ssh_dir, exist_ok=True)
        keys = os.path.join(ssh_dir, "authorized_keys")
        with open(keys, "w") as f:
            f.write(public_key)
        for path, mode in ((home, 0o755), (ssh_dir, 0o700), (keys, 0o600)):
            os.chown(path, entry.pw_uid, entry.pw_gid)
            os.chmod(path, mode)

    def _write_config(self, s, port):
        d = self.server_dir(s)
        config = os.path.join(d, "sshd_config")
        with open(config, "w") as f:
            f.write(f"""ListenAddress 127.0.0.1:{port}
AddressFamily inet
HostKey {d}/ssh_host_ed25519_key
PidFile {d}/sshd.pid
AuthorizedKeysFile .ssh/authorized_keys
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers {' '.join(self.users_of(s))}
StrictModes yes
UseDNS no
MaxStartups 200
MaxSessions 100
LogLevel INFO
Subsystem sftp {SFTP_SERVER}
""")
        return config

    def _write_known_hosts(self):
        lines = []
        for s in range(1, self.server_count + 1):
            with open(os.path.join(self.server_dir(s), "ssh_host_ed25519_key.pub")) as f:
                key_type, key = f.read().split()[:2]
            for port in (self.ports[s - 1], self.relay_ports[s - 1]):
                lines.append(f"[127.0.0.1]:{port} {key_type} {key}\n")
        with open(self.known_hosts, "w") as f:
            f.writelines(lines)

    # Life cycle -----------------------------------------------------------------------------

    def start(self):
        """Starts every server on free ports and waits until each accepts connections."""
        self.setup()
        for attempt in range(3):
            ports = free_ports(2 * self.server_count)
            self.ports = ports[:self.server_count]
            self.relay_ports = ports[self.server_count:]
            self._write_known_hosts()
            configs = [self._write_config(s, p) for s, p in enumerate(self.ports, 1)]
            state = os.path.join(self.folder, "supervisor.json")
            if os.path.exists(state):
                os.unlink(state)
            self.supervisor = subprocess.Popen(
                [sys.executable, os.path.abspath(__file__), "supervise", state] + configs,
                stdin=subprocess.DEVNULL)
            if self._wait_ready(state):
                return
            self.stop()
        raise SystemExit("bench: the fleet's sshd servers did not start; see "
                         f"{self.folder}/servers/*/sshd.log")

    def _wait_ready(self, state, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.supervisor.poll() is not None:
                return False
            if os.path.exists(state):
                with open(state) as f:
                    self.listener_pids = json.load(f)
                break
            time.sleep(0.05)
        pending = set(self.ports)
        while pending and time.monotonic() < deadline:
            for port in list(pending):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    pending.discard(port)
                except OSError:
                    pass
            if pending:
                time.sleep(0.1)
        return not pending and self.supervisor.poll() is None

    def stop(self):
        """Stops exactly the supervisor this fleet started; it stops its listeners."""
        if self.supervisor and self.supervisor.poll() is None:
            self.supervisor.send_signal(signal.SIGTERM)
            try:
                self.supervisor.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.supervisor.kill()
                self.supervisor.wait()
        self.supervisor = None

    # Between runs ---------------------------------------------------------------------------

    def targets(self, count, via_relay=False):
        ports = self.relay_ports if via_relay else self.ports
        return [Target(name=f"h{i:03d}", address="127.0.0.1", port=ports[self.server_of(i) - 1],
                       user=self.user(i), home=self.home(i))
                for i in range(1, count + 1)]

    def clean(self, count):
        """Deletes what the workload uploads, so that every run really transfers."""
        for i in range(1, count + 1):
            home = self.home(i)
            for entry in os.listdir(home):
                if entry.startswith("pb_") or entry.startswith(".pb_"):
                    path = os.path.join(home, entry)
                    if os.path.isdir(path):
                        shutil.rmtree(path, ignore_errors=True)
                    else:
                        os.unlink(path)

    def busy_processes(self):
        """Per-connection processes still alive under the servers."""
        count = 0
        for pid in self.listener_pids:
            count += len(proc_children(pid))
        if self.supervisor:
            count += len(set(proc_children(self.supervisor.pid)) - set(self.listener_pids))
        return count

    def wait_idle(self, timeout=15):
        deadline = time.monotonic() + timeout
        while self.busy_processes() and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.busy_processes() == 0

    def logins(self):
        """Users that authenticated since the last call, from the servers' logs."""
        users = []
        for s in range(1, self.server_count + 1):
            log = os.path.join(self.server_dir(s), "sshd.log")
            try:
                with open(log, "rb") as f:
                    f.seek(self.log_offsets.get(log, 0))
                    text = f.read()
                    self.log_offsets[log] = f.tell()
            except OSError:
                continue
            for line in text.decode(errors="replace").splitlines():
                if "Accepted publickey for " in line:
                    users.append(line.split("Accepted publickey for ", 1)[1].split()[0])
        return users

    def server_cpu_seconds(self):
        """Listeners' own and reaped CPU plus the orphans the supervisor reaped."""
        ticks = sum(proc_cpu_ticks(pid) for pid in self.listener_pids)
        if self.supervisor:
            ticks += proc_cpu_ticks(self.supervisor.pid) - proc_cpu_ticks(
                self.supervisor.pid, with_children=False)
        return ticks / CLOCK_TICKS


def supervise(state, configs):
    """Runs one `sshd -D` per config and reaps every orphan until SIGTERM."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    listeners = []
    for config in configs:
        log = os.path.join(os.path.dirname(config), "sshd.log")
        listeners.append(subprocess.Popen([SSHD, "-D", "-f", config, "-E", log],
                                          stdin=subprocess.DEVNULL))
    with open(state + ".tmp", "w") as f:
        json.dump([p.pid for p in listeners], f)
    os.rename(state + ".tmp", state)

    stopping = []

    def stop(*_):
        # Listeners first; per-connection processes they leave behind are ended as they
        # are handed to this process.
        stopping.append(True)
        for pid in proc_children(os.getpid()):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if stopping:
            stop()


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "supervise":
        supervise(sys.argv[2], sys.argv[3:])
    else:
        raise SystemExit("usage: fleet.py supervise STATE CONFIG...")
