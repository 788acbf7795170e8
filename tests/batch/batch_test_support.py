"""Shared helpers of the vmt-batch tests: the programs, a small synthetic dataset, a
single-process reference run of one video, and the pipeline tests' check framework.

The tests run under meson (`meson test -C build --suite batch`) with the .venv interpreter; the
programs come as arguments: vmt-segment-video, vmt-eval, vmt-synth (those that a test needs)."""
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "pipelines"))

from pipeline_test_support import (DEMO_MODEL, FIXTURE_VIDEOS, SOURCE_ROOT, main, run,  # noqa
                                   temporary_folder)

__all__ = ["FIXTURE_VIDEOS", "main", "temporary_folder"]  # besides what is defined here

BATCH = os.path.join(SOURCE_ROOT, "tools", "batch", "vmt-batch")
sys.path.insert(0, os.path.dirname(BATCH))

from vmt_batch.segment import FORMAT_SUFFIXES  # noqa: E402  (the result files' names)

# What every test run segments with: the shipped demo model at its input size, on the CPU.
SEGMENT_ARGS = ["--model", DEMO_MODEL, "--input-size", "96", "--device", "cpu"]


def program(index, name):
    """The program given as argument `index` (meson passes the built ones), else `name`."""
    path = sys.argv[index] if len(sys.argv) > index else shutil.which(name)
    if not path:
        print(f"SKIP: {name} not given and not on PATH")
        sys.exit(77)
    return os.path.abspath(path)


def require_ray():
    """Skips (exit 77) where the interpreter has no ray (tools/requirements.txt installs it)."""
    try:
        __import__("ray")
    except ImportError as error:
        print(f"SKIP: vmt-batch needs ray in this interpreter ({sys.executable}): {error}; "
              "tools/setup.sh installs it")
        sys.exit(77)


def batch(args, env=None, timeout=300):
    """Runs vmt-batch with this interpreter (the .venv's, which has ray)."""
    return run([sys.executable, BATCH, *args], timeout=timeout, env=env)


_RAY_TMPDIR = []


def local_env():
    """The environment for a local run: no RAY_ADDRESS from outside, and Ray's temporary files
    (sessions, logs, sockets) and the tasks' in a folder of this test's own, removed when it
    ends."""
    if not _RAY_TMPDIR:
        _RAY_TMPDIR.append(tempfile.mkdtemp(prefix="vmt-ray-"))  # short: socket paths live here
        atexit.register(shutil.rmtree, _RAY_TMPDIR[0], True)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_TMPDIR"] = env["TMPDIR"] = _RAY_TMPDIR[0]  # the tasks' folders go there too
    return env


def make_dataset(synth, folder, videos, frames, seed=3):
    """A vmt-synth YouTube-VIS split of 128x96 videos; returns the path of its instances.json."""
    result = run([synth, "--out", folder, "--seed", str(seed), "--split", "valid",
                  "--videos", str(videos), "--frames", str(frames), "--width", "128",
                  "--height", "96", "--objects", "2:3", "--quiet"], timeout=120)
    assert result.returncode == 0, result.stderr
    return os.path.join(folder, "valid", "instances.json")


def renumber_videos(dataset, order, new_ids):
    """Reorders a dataset's videos (`order`: their old positions) and gives them `new_ids` (in
    the new order), annotations included; returns {new id: video entry}."""
    videos = [dataset["videos"][i] for i in order]
    renumber = {video["id"]: new for video, new in zip(videos, new_ids)}
    for video in videos:
        video["id"] = renumber[video["id"]]
    for annotation in dataset["annotations"]:
        annotation["video_id"] = renumber[annotation["video_id"]]
    dataset["videos"] = videos
    return {video["id"]: video for video in videos}


def spread_frame_names(frames_root, video, step=5):
    """Renames a video's frames 00000, 00005, 00010 … (YouTube-VIS's gaps) in place."""
    renamed = []
    for i, name in enumerate(video["file_names"]):
        folder, file = os.path.split(name)
        new = os.path.join(folder, f"{i * step:05d}" + os.path.splitext(file)[1])
        os.rename(os.path.join(frames_root, name), os.path.join(frames_root, new + ".tmp"))
        renamed.append(new)
    for new in renamed:
        os.rename(os.path.join(frames_root, new + ".tmp"), os.path.join(frames_root, new))
    video["file_names"] = renamed


def damage_frame(path):
    """Keeps a JPEG's header, zeroes the rest: GStreamer's decoder drops such a frame."""
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[:300] + bytes(len(data) - 300))


def reference_run(cli, folder, video_id, name, formats, frames=None, path=None, threads=1,
                  frame_rate="6"):
    """One video through vmt-segment-video directly (no Ray, one process), with the options
    vmt-batch gives it; returns {format: bytes}."""
    os.makedirs(folder, exist_ok=True)
    argv = [cli]
    if frames is not None:
        with open(os.path.join(folder, "frames.txt"), "w") as f:
            f.writelines(frame + "\n" for frame in frames)
        argv += ["--frame-list", os.path.join(folder, "frames.txt")]
    else:
        argv.append(path)
    outputs = {fmt: os.path.join(folder, name + FORMAT_SUFFIXES[fmt]) for fmt in formats}
    for fmt, out in outputs.items():
        argv += ["--results", out, "--format", fmt]
    argv += ["--video-id", str(video_id), "--video-name", name, *SEGMENT_ARGS,
             "--frame-rate", frame_rate, "--no-progress"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    result = run(argv, timeout=300, env=env)
    assert result.returncode == 0, (name, result.stderr)
    files = {}
    for fmt, out in outputs.items():
        with open(out, "rb") as f:
            files[fmt] = f.read()
    return files


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f)


def files_of(output, name, formats):
    """A vmt-batch output folder's per-video files of `name`, as {format: bytes}."""
    files = {}
    for fmt in formats:
        with open(os.path.join(output, "videos", name + FORMAT_SUFFIXES[fmt]), "rb") as f:
            files[fmt] = f.read()
    return files


def vmt_eval_json(vmt_eval, ground_truth, results):
    result = subprocess.run([vmt_eval, "ytvis", ground_truth, results, "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
