"""Runs one command as a machine the test can pull the plug on.

Usage: subreaper.py HARNESS_PID COMMAND [ARG...]

Patroni starts PostgreSQL in a session of its own, so its postmaster and backends are not in
Patroni's process group, and when Patroni dies they are orphaned to PID 1. This wrapper marks
itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so every process below it stays
below it whatever happens in between; on SIGUSR1, SIGTERM, SIGINT or SIGHUP, and when the
harness that started it dies, it SIGKILLs all of them at once, reaps them and exits 137.
Started by tests/support/patroni.ts; it needs nothing beyond the Python that Patroni brings.
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36

libc = ctypes.CDLL(None, use_errno=True)


def descendants():
    """Live processes below this one, from /proc (zombies are walked through, not listed)."""
    children = {}
    states = {}
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may hold spaces or parentheses; the fields after it start past the last ')'.
        fields = stat[stat.rindex(')') + 2:].split()
        pid = int(entry)
        states[pid] = fields[0]
        children.setdefault(int(fields[1]), []).append(pid)
    found = []
    queue = [os.getpid()]
    while queue:
        for child in children.get(queue.pop(), []):
            queue.append(child)
            if states[child] != 'Z':
                found.append(child)
    return found


def pull_the_plug(_signum=None, _frame=None):
    # Stopped processes cannot fork, so a second walk finds nothing the first one missed.
    for _ in range(50):
        pids = descendants()
        if not pids:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
    reap_all()
    os._exit(137)


def reap_all():
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def main():
    harness = int(sys.argv[1])
    command = sys.argv[2:]
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit('subreaper: prctl(PR_SET_CHILD_SUBREAPER) failed: errno %d' % ctypes.get_errno())
    for sig in (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, pull_the_plug)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGUSR1, 0, 0, 0)
    # The harness may have died before the line above took effect.
    if os.getppid() != harness:
        pull_the_plug()

    child = os.fork()
    if child == 0:
        for sig in (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        finally:
            os._exit(127)

    status = None
    while True:
        try:
            pid, wait_status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child:
            status = wait_status
    sys.exit(os.waitstatus_to_exitcode(status) if status is not None else 1)


main()
