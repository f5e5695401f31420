"""Child processes of the rig, each remembered by name and PID so that
cleanup stops exactly what the rig started and nothing else."""
import ctypes
import os
import signal
import subprocess

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """Runs in the child before exec: if the rig is killed outright (ctest's
    timeout sends SIGKILL), the kernel stops the child too, so no QEMU or
    server is left behind. `ip netns exec` keeps this across its own exec."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class Children:
    """The processes the rig started, stopped in reverse start order."""

    def __init__(self):
        self._procs = {}  # name -> Popen, in start order

    def start(self, name, argv, stdout=None, stderr=None, stdin=subprocess.DEVNULL):
        """Starts argv as child `name` and returns its Popen. stdout/stderr
        are file objects or subprocess.PIPE; None inherits the rig's."""
        if name in self._procs:
            raise ValueError("child %s already started" % name)
        proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout, stderr=stderr,
                                preexec_fn=_die_with_parent, close_fds=True)
        self._procs[name] = proc
        return proc

    def get(self, name):
        """The Popen of child `name`, or None when it was never started."""
        return self._procs.get(name)

    def stop(self, name, grace_s=5.0):
        """Stops child `name` by its PID: SIGTERM, then SIGKILL after grace_s.
        Returns its exit status (negative for a signal), None if unknown."""
        proc = self._procs.get(name)
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGTERM)
                return proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return proc.wait()

    def stop_all(self):
        """Stops every child still running, the last started first."""
        for name in reversed(list(self._procs)):
            self.stop(name)
