"""``python3 -m skiff.launch SCRIPT [ARGS...]``: run a user script the way ``python3 SCRIPT`` would.

On a local cluster (``SKIFF_LOG_DIR`` set) the script runs in a child process whose output is also
kept on the host (see keep_logs.py). Before that, training workers wait until MASTER_ADDR resolves: it names rank 0's pod through a
headless Service, and that DNS record appears only once rank 0's pod exists.
"""

import os
import runpy
import socket
import sys
import time
import traceback

WAIT_SECONDS = 300
RETRY_SECONDS = 1


def wait_for_master(addr, timeout=WAIT_SECONDS, interval=RETRY_SECONDS,
                    resolve=socket.getaddrinfo, sleep=time.sleep, clock=time.monotonic, out=sys.stderr):
    """Return True once ``addr`` resolves, False after ``timeout`` seconds. Says so once, not per try."""
    deadline = clock() + timeout
    announced = False
    while True:
        try:
            resolve(addr, None)
            return True
        except (socket.gaierror, OSError):
            pass
        if clock() >= deadline:
            return False
        if not announced:
            print(f"skiff: waiting for rank 0 ({addr}) to appear in DNS...", file=out, flush=True)
            announced = True
        sleep(interval)


def _should_wait(env):
    try:
        world = int(env.get("WORLD_SIZE", "1"))
    except ValueError:
        world = 1
    return bool(env.get("MASTER_ADDR")) and world > 1


def _user_traceback(exc):
    """The traceback without the launcher's and runpy's frames, so it reads like ``python3 SCRIPT``."""
    tb = exc.__traceback__
    here = os.path.abspath(__file__)
    while tb is not None and (os.path.abspath(tb.tb_frame.f_code.co_filename) == here
                              or tb.tb_frame.f_code.co_filename.endswith(("runpy.py", "<frozen runpy>"))):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


SUPERVISED_ENV = "SKIFF_SUPERVISED"


def _supervised(argv, env, log_dir):
    """The script's exit code, run with its output kept in log_dir; None when that folder is unusable."""
    from skiff import keep_logs

    if not os.access(log_dir, os.W_OK):
        print(f"skiff: cannot keep this pod's output in {log_dir} (not writable); "
              "it is only in the pod's log, and goes with the pod", file=sys.stderr, flush=True)
        return None
    command = [sys.executable, "-u", "-m", "skiff.launch", *argv]
    try:
        return keep_logs.supervise(command, {**env, SUPERVISED_ENV: "1"}, log_dir)
    except keep_logs.Unavailable as err:
        print(f"skiff: {err}; this pod's output is only in its log, and goes with the pod", file=sys.stderr, flush=True)
        return None


def main(argv=None, env=None):
    argv = sys.argv[1:] if argv is None else argv
    env = os.environ if env is None else env
    if not argv:
        print("usage: python3 -m skiff.launch SCRIPT [ARGS...]", file=sys.stderr)
        return 2
    script, args = argv[0], argv[1:]
    log_dir = env.get("SKIFF_LOG_DIR")
    if log_dir and not env.get(SUPERVISED_ENV):
        kept = _supervised(argv, env, log_dir)
        if kept is not None:
            return kept
    if not os.path.isfile(script):
        print(f"skiff: script not found: {script}", file=sys.stderr)
        return 2

    if _should_wait(env):
        addr = env["MASTER_ADDR"]
        if not wait_for_master(addr):
            print(f"skiff: rank 0 ({addr}) did not appear in DNS within {WAIT_SECONDS} s; "
                  "is its pod running? see `skiff status`", file=sys.stderr, flush=True)
            return 1

    # Like `python3 SCRIPT`: argv[0] is the script and its folder comes first on sys.path,
    # so imports of sibling modules work from any subfolder.
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        runpy.run_path(script, run_name="__main__")
    except SyntaxError as exc:
        print(_user_traceback(exc), end="", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - report any crash the way Python would, then exit 1
        print(_user_traceback(exc), end="", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
