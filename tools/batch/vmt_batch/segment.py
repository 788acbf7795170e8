"""One video through the real engine: `vmt-segment-video` in a child process.

This is the body of a batch task. It runs wherever Ray puts it, so it uses nothing but the
standard library and what the job (a plain dict built by the driver) says: the CLI's path and
arguments, the environment to add, the formats to write. Results are written to a private
temporary folder and returned as bytes; the driver alone writes the output folder, so a task on a
machine that dies leaves nothing half-written there.

A child process keeps a crash or a hang of one video's pipeline away from the task's worker, and
dies with it (PR_SET_PDEATHSIG) when the worker is killed.
"""
import collections
import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading

# vmtexport format → file-name suffix of the per-video results
FORMAT_SUFFIXES = {
    "youtube-vis": ".json",
    "jsonl": ".jsonl",
    "mots-challenge": ".txt",
    "kitti-mots": ".kitti.txt",
    "bdd100k": ".bdd100k.json",
}
FORMAT_ALIASES = {"mots": "mots-challenge"}

_PROGRESS = re.compile(r"^progress:\s+(\d+)%\s+(\d+) frames")
_CLI_PREFIX = "vmt-segment-video: "


def _die_with_parent():
    """In the child, before exec: SIGKILL when the task's worker process goes away."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def private_folder():
    """A temporary folder for one task, named after this worker's pid. Folders of workers that
    are gone (killed with their node, before their task could clean up) are removed first."""
    prefix = "vmt-batch-task-"
    base = tempfile.gettempdir()
    for name in os.listdir(base):
        pid = name[len(prefix):].split("-", 1)[0]
        if name.startswith(prefix) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def command_line(job, folder):
    """The vmt-segment-video command for `job`, writing its results into `folder`; the frame list
    (for a frame folder) is written there too. Returns (argv, {format: results path})."""
    video = job["video"]
    outputs = {fmt: os.path.join(folder, "results" + FORMAT_SUFFIXES[fmt])
               for fmt in job["formats"]}
    argv = [job["cli"]]
    if video["frames"]:
        frame_list = os.path.join(folder, "frames.txt")
        with open(frame_list, "w", encoding="utf-8") as f:
            f.writelines(frame + "\n" for frame in video["frames"])
        argv += ["--frame-list", frame_list]
    else:
        argv.append(video["path"])
    for fmt, path in outputs.items():
        argv += ["--results", path, "--format", fmt]
    argv += ["--video-id", str(video["video_id"]), "--video-name", video["name"]]
    argv += job["cli_args"]
    return argv, outputs


def summary_of(stdout):
    """The CLI's `key: value` summary lines."""
    summary = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            summary[key.strip()] = value.strip()
    return summary


def error_of(returncode, stderr_tail, timed_out, timeout):
    """One line saying why the CLI failed: its own message when it gave one."""
    if timed_out:
        return f"no result within {timeout:g} s (--video-timeout); the run was stopped"
    messages = [line[len(_CLI_PREFIX):] for line in stderr_tail if line.startswith(_CLI_PREFIX)]
    if messages:
        return messages[-1]
    last = next((line for line in reversed(stderr_tail) if line.strip()), "")
    if returncode < 0:
        name = signal.Signals(-returncode).name if -returncode in signal.valid_signals() else ""
        return f"vmt-segment-video was killed by signal {-returncode} {name}".rstrip() + \
            (f" ({last})" if last else "")
    return f"vmt-segment-video exited with status {returncode}" + (f": {last}" if last else "")


def segment_video(job, report=None):
    """Runs the CLI on job["video"]. Returns a dict: status "done" (frames, instances, tracks,
    seconds, files: {format: bytes}) or "failed" (error). `report(fraction, frames)` is called
    as the CLI's progress lines come."""
    folder = private_folder()
    try:
        argv, outputs = command_line(job, folder)
        env = dict(os.environ)
        env.update(job["env"])
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, errors="replace", env=env,
                                   cwd=folder, preexec_fn=_die_with_parent)
        stdout = []
        reader = threading.Thread(target=lambda: stdout.append(process.stdout.read()), daemon=True)
        reader.start()
        timeout = job.get("timeout") or 0
        timed_out = threading.Event()

        def stop():
            timed_out.set()
            process.kill()
        timer = threading.Timer(timeout, stop) if timeout > 0 else None
        if timer:
            timer.start()
        tail = collections.deque(maxlen=40)
        for line in process.stderr:
            line = line.rstrip("\n")
            match = _PROGRESS.match(line)
            if match and report:
                report(int(match.group(1)) / 100.0, int(match.group(2)))
            elif not match:
                tail.append(line)
        returncode = process.wait()
        if timer:
            timer.cancel()
        reader.join()
        if returncode != 0 or timed_out.is_set():
            # exit status 2: the CLI refused its command line — the batch's options, not the video
            return {"status": "failed", "options_refused": returncode == 2,
                    "error": error_of(returncode, list(tail), timed_out.is_set(), timeout)}
        summary = summary_of("".join(stdout))
        files = {}
        for fmt, path in outputs.items():
            with open(path, "rb") as f:
                files[fmt] = f.read()
        return {"status": "done", "frames": int(summary.get("frames", 0)),
                "instances": int(summary.get("instances", 0)),
                "tracks": int(summary.get("tracks", 0)),
                "seconds": float(summary.get("wall time", "0 s").split()[0]), "files": files}
    except OSError as error:
        return {"status": "failed", "error": f"cannot run {job['cli']}: {error}"}
    finally:
        shutil.rmtree(folder, ignore_errors=True)
