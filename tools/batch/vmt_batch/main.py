"""vmt-batch: the command line, the run and its summary (docs/batch.md)."""
import argparse
import json
import math
import os
import secrets
import shutil
import subprocess
import sys
import time

from . import inputs, outputs, segment
from .progress import ProgressBar

SOURCE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))

# vmt-segment-video options handed on as they are (docs/pipelines.md)
SEGMENT_OPTIONS = ["model", "device", "mode", "input-size", "tube-length", "clip-length",
                   "clip-overlap", "association", "score-threshold", "max-instances"]

EPILOG = """exit status: 0 every video done, 1 some videos (or the evaluation) failed — the
others' results are written —, 2 bad command line or input, 130 interrupted (rerun to resume)"""


class UsageError(Exception):
    pass


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="vmt-batch", epilog=EPILOG,
        description="Segments a set of videos with vmt-segment-video, one Ray task per video "
                    "(a local Ray instance, or the cluster of --address), into per-video "
                    "results, one merged YouTube-VIS results file and a summary.")
    parser.add_argument("input", help="a folder of videos, a glob pattern (quoted), a list file "
                        "(.txt/.lst/.list, one video per line), a YouTube-VIS style dataset JSON "
                        "whose videos are folders of JPEG/PNG frames, or one video")
    parser.add_argument("-o", "--output", required=True, help="output folder (created)")
    parser.add_argument("--format", default="youtube-vis",
                        help="per-video result formats, comma-separated: youtube-vis, jsonl, "
                        "mots (= mots-challenge), kitti-mots, bdd100k; YouTube-VIS is always "
                        "written, the merged file is made of it (default youtube-vis)")
    parser.add_argument("--frames-root", help="dataset JSON: the folder its file_names are in "
                        "(default: JPEGImages/ beside the JSON or in the folder named after it)")
    parser.add_argument("--frame-rate", default="6", help="frames per second given to frame "
                        "folders' frames, N or N/D (default 6, YouTube-VIS's annotated rate)")
    parser.add_argument("--evaluate", metavar="GT.json",
                        help="score the merged results against this ground truth with vmt-eval")
    seg = parser.add_argument_group("segmentation (vmt-segment-video options)")
    for name in SEGMENT_OPTIONS:
        seg.add_argument(f"--{name}")
    seg.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                     help="any other vmtsegment property (repeatable)")
    run = parser.add_argument_group("execution")
    run.add_argument("--address", default=os.environ.get("RAY_ADDRESS") or None,
                     help="an existing Ray cluster (host:port or auto; default RAY_ADDRESS); "
                     "without it a local Ray instance is started and stopped")
    run.add_argument("--workers", type=int, help="local instance: videos at a time (default: "
                     "the CPUs divided by --cpus-per-task)")
    run.add_argument("--cpus-per-task", type=float, default=1.0,
                     help="CPUs Ray reserves per video; also the CLI's threads (default 1)")
    run.add_argument("--gpus-per-task", type=float, help="GPUs Ray reserves per video "
                     "(default 1 where the cluster has GPUs, else 0 and --device cpu)")
    run.add_argument("--retries", type=int, default=3,
                     help="times a video is started again after its worker died (default 3)")
    run.add_argument("--video-timeout", type=float, default=0.0, metavar="SECONDS",
                     help="stop a video that takes longer and record it as failed (default 0: "
                     "no limit)")
    run.add_argument("--object-store-mb", type=int, default=512,
                     help="local instance: object store size in MiB (default 512)")
    run.add_argument("--redo", action="store_true",
                     help="segment every video again (default: skip videos whose results are "
                     "complete and valid)")
    run.add_argument("--segment-video", help="the vmt-segment-video program (default: the "
                     "build tree's, else the one on PATH)")
    run.add_argument("--vmt-eval", help="the vmt-eval program (default: as --segment-video)")
    run.add_argument("--no-progress", action="store_true", help="no progress output")
    return parser, parser.parse_args(argv)


def find_program(given, build_relative, name, option):
    """An explicit path, else the build tree's program (build/ in the source tree), else PATH."""
    if given:
        path = given
    else:
        built = os.path.join(SOURCE_ROOT, "build", build_relative)
        path = built if os.access(built, os.X_OK) else shutil.which(name)
        if path is None:
            raise UsageError(f"{name} not found: build the tree (tools/dev build) or give {option}")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise UsageError(f"{path} is not an executable program")
    return os.path.abspath(path)


def plugin_environment(cli):
    """GST_PLUGIN_PATH (with the build tree's gst/ when the CLI is the build tree's) and
    GST_REGISTRY for the tasks: Ray workers do not inherit the driver's environment."""
    env = {}
    plugin_path = os.environ.get("GST_PLUGIN_PATH", "")
    build_gst = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(cli))), "gst")
    if os.path.exists(os.path.join(build_gst, "libgstvmt.so")):
        plugin_path = build_gst + (os.pathsep + plugin_path if plugin_path else "")
    if plugin_path:
        env["GST_PLUGIN_PATH"] = plugin_path
    if os.environ.get("GST_REGISTRY"):
        env["GST_REGISTRY"] = os.environ["GST_REGISTRY"]
    return env


def resolve_formats(text):
    formats = ["youtube-vis"]
    for item in filter(None, (part.strip() for part in text.split(","))):
        fmt = segment.FORMAT_ALIASES.get(item, item)
        if fmt not in segment.FORMAT_SUFFIXES:
            raise UsageError(f"unknown format '{item}' (one of "
                             f"{', '.join(segment.FORMAT_SUFFIXES)}, mots)")
        if fmt not in formats:
            formats.append(fmt)
    return formats


def cli_arguments(args, gpus_per_task):
    """The vmt-segment-video options every video gets (absolute paths: tasks run elsewhere)."""
    cli_args = []
    for name in SEGMENT_OPTIONS:
        value = getattr(args, name.replace("-", "_"))
        if value is None:
            continue
        if name == "model":
            value = os.path.abspath(value)
        cli_args += [f"--{name}", value]
    if args.device is None and gpus_per_task == 0:
        cli_args += ["--device", "cpu"]  # no GPU reserved: do not take one
    for item in args.set:
        cli_args += ["--set", item]
    cli_args += ["--frame-rate", args.frame_rate]
    return cli_args


def model_identity(args):
    """The model file's path, size and modification time (the shipped model when none given)."""
    path = os.path.abspath(args.model) if args.model else "(vmtsegment's default model)"
    try:
        stat = os.stat(path)
        return [path, stat.st_size, stat.st_mtime_ns]
    except OSError:
        return [path]


def job_of(index, video, cli, cli_args, formats, env, timeout):
    return {"index": index, "cli": cli, "cli_args": cli_args, "formats": formats, "env": env,
            "timeout": timeout,
            "video": {"video_id": video.video_id, "name": video.name, "path": video.path,
                      "frames": list(video.frames)}}


def print_summary(summary, out):
    videos = summary["videos"]
    print(f"videos:     {videos['total']} ({videos['segmented']} segmented, {videos['resumed']} "
          f"already done, {videos['failed']} failed)")
    print(f"frames:     {summary['frames']} segmented in this run ({summary['frames_total']} in "
          f"all finished videos)")
    print(f"time:       {summary['seconds']:.1f} s")
    print(f"fps:        {summary['fps']:.2f}")
    print(f"videos/min: {summary['videos_per_minute']:.2f}")
    if summary["restarted"]:
        print(f"restarted:  {len(summary['restarted'])} video(s) after their worker died")
    for failure in summary["failures"]:
        print(f"failed:     {failure['name']} (id {failure['video_id']}): {failure['error']}")
    print(f"results:    {summary['results']} ({summary['merged_videos']} videos, "
          f"{summary['merged_results']} results)")
    evaluation = summary.get("evaluation")
    if evaluation:
        parts = [f"{kind} AP {evaluation[kind]['stats'][0]:.3f}" for kind in ("mask", "boundary")
                 if kind in evaluation]
        print(f"evaluation: {', '.join(parts)} ({os.path.join(out.root, 'evaluation.json')})")
    print(f"summary:    {out.summary_path}")


def protect_local_instance():
    """A local Ray instance gets an authentication token of its own (its processes listen on the
    machine's address like any Ray node's), unless the user chose a mode: nothing is written to
    ~/.ray. Ray reads the mode when it is imported, so this runs before the first `import ray`."""
    if "RAY_AUTH_MODE" not in os.environ:
        os.environ["RAY_AUTH_MODE"] = "token"
        os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)


def evaluate(vmt_eval, ground_truth, merged):
    """vmt-eval ytvis GT MERGED --json, parsed; raises RuntimeError with its message."""
    result = subprocess.run([vmt_eval, "ytvis", ground_truth, merged, "--json"],
                            capture_output=True, text=True)
    if result.returncode != 0:
        message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
        raise RuntimeError(f"vmt-eval failed (exit {result.returncode}): {message}")
    return json.loads(result.stdout)


def check_arguments(args):
    """Refuses bad values before anything runs; returns (formats, vmt-segment-video, vmt-eval)."""
    formats = resolve_formats(args.format)
    cli = find_program(args.segment_video, "tools/segment-video/vmt-segment-video",
                       "vmt-segment-video", "--segment-video")
    vmt_eval = (find_program(args.vmt_eval, "tools/vmt-eval", "vmt-eval", "--vmt-eval")
                if args.evaluate else None)
    if args.evaluate and not os.path.isfile(args.evaluate):
        raise UsageError(f"--evaluate: no such file '{args.evaluate}'")
    if args.cpus_per_task <= 0:
        raise UsageError("--cpus-per-task must be > 0")
    if args.gpus_per_task is not None and args.gpus_per_task < 0:
        raise UsageError("--gpus-per-task must be >= 0")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be >= 1")
    if args.retries < 0:
        raise UsageError("--retries must be >= 0")
    if args.video_timeout < 0:
        raise UsageError("--video-timeout must be >= 0")
    return formats, cli, vmt_eval


def sort_videos(videos, out, options, redo):
    """Splits the videos into finished ones ({id: record}) and [(video, key, why again)]."""
    finished, todo = {}, []
    for video in videos:
        key = outputs.run_key(options, video)
        record, why = (None, "") if redo else out.finished_record(video, key)
        if record:
            finished[video.video_id] = record
        else:
            todo.append((video, key, why))
    return finished, todo


def run(args):
    start = time.monotonic()
    formats, cli, vmt_eval = check_arguments(args)
    videos = inputs.discover(args.input, args.frames_root)
    out = outputs.OutputFolder(args.output)
    os.makedirs(out.root, exist_ok=True)
    progress = ProgressBar(len(videos), enabled=not args.no_progress)

    def options(gpus):
        return {"cli_args": cli_arguments(args, gpus), "formats": formats,
                "model": model_identity(args)}

    # Without --gpus-per-task the options depend on whether the cluster has GPUs (--device cpu
    # where it has none). Sorted first as for a CPU-only machine, so a rerun with everything
    # done needs no Ray; with work to do, Ray says, and a GPU cluster sorts again.
    gpus = args.gpus_per_task
    finished, todo = sort_videos(videos, out, options(gpus or 0.0), args.redo)
    results, restarted, failures, ray_line = {}, {}, [], ""
    if todo:
        if not args.address:
            protect_local_instance()
        from . import cluster  # Ray is imported only when there is work
        try:
            workers = args.workers or max(1, int((os.cpu_count() or 1) // args.cpus_per_task))
            ray_line = cluster.connect(args.address, workers, args.cpus_per_task,
                                       args.object_store_mb)
            if gpus is None:
                gpus = 1.0 if cluster.cluster_gpus() > 0 else 0.0
                if gpus:
                    finished, todo = sort_videos(videos, out, options(gpus), args.redo)
            for video, _, why in todo:
                if why:
                    progress.log(f"segmenting {video.name} again: {why}")
            if todo:
                results, restarted, failures = run_videos(args, todo, cli, formats, gpus, out,
                                                          progress, ray_line, start)
        finally:
            progress.finish()
            cluster.disconnect()
    finished.update(results)

    records = [finished[v.video_id] for v in videos if v.video_id in finished]
    merged_results = out.merge(records)
    seconds = time.monotonic() - start
    frames = sum(r["frames"] for r in results.values())
    summary = {
        "input": os.path.abspath(args.input), "output": out.root, "ray": ray_line,
        "videos": {"total": len(videos), "segmented": len(results),
                   "resumed": len(records) - len(results), "failed": len(failures)},
        "frames": frames, "frames_total": sum(r["frames"] for r in records),
        "seconds": seconds, "fps": frames / seconds if seconds > 0 else 0.0,
        "videos_per_minute": 60.0 * len(results) / seconds if seconds > 0 else 0.0,
        "failures": failures, "restarted": restarted,
        "results": out.merged_path, "merged_videos": len(records),
        "merged_results": merged_results,
        "per_video": {r["name"]: {"video_id": r["video_id"], "frames": r["frames"],
                                  "files": {f: e["path"] for f, e in r["files"].items()}}
                      for r in records},
    }
    status = 1 if failures else 0
    if args.evaluate:
        try:
            summary["evaluation"] = evaluate(vmt_eval, args.evaluate, out.merged_path)
            outputs.write_atomically(os.path.join(out.root, "evaluation.json"),
                                     json.dumps(summary["evaluation"], indent=1).encode() + b"\n")
        except (RuntimeError, ValueError) as error:
            summary["evaluation_error"] = str(error)
            print(f"vmt-batch: {error}", file=sys.stderr)
            status = 1
    outputs.write_atomically(out.summary_path, json.dumps(summary, indent=1).encode() + b"\n")
    print_summary(summary, out)
    return status


def run_videos(args, todo, cli, formats, gpus_per_task, out, progress, ray_line, start):
    """Runs the videos of `todo` as Ray tasks; saves each as it finishes. Returns (records of
    the finished ones by id, {name: starts} of videos started more than once, failures)."""
    from . import cluster
    cli_args = cli_arguments(args, gpus_per_task)
    env = plugin_environment(cli)
    env["OMP_NUM_THREADS"] = str(max(1, math.ceil(args.cpus_per_task)))
    frame_counts = [len(video.frames) for video, _, _ in todo]
    progress.frames_total = sum(frame_counts) if all(frame_counts) else None  # frame folders
    progress.log(f"vmt-batch: {len(todo)} of {progress.videos} videos to segment on {ray_line}"
                 f" ({args.cpus_per_task:g} CPU{'s' if args.cpus_per_task != 1 else ''}"
                 f"{f', {gpus_per_task:g} GPU' if gpus_per_task else ''} per video)")
    board = cluster.start_board()
    pending = {}
    for index, (video, key, _) in enumerate(todo):
        out.forget(video)
        job = job_of(index, video, cli, cli_args, formats, env, args.video_timeout)
        ref = cluster.submit(job, board, args.cpus_per_task, gpus_per_task, args.retries)
        pending[ref] = (index, video, key)
    results, failures = {}, []
    request = None  # the board's snapshot asked for and not yet read
    frames_done = 0
    starts = {}
    while pending:
        for ref in cluster.wait(list(pending), timeout=0.5):
            index, video, key = pending.pop(ref)
            result = cluster.result_of(ref)
            if result["status"] == "done":
                results[video.video_id] = out.save_video(video, key, result)
                frames_done += result["frames"]
                progress.log(f"done:   {video.name} ({result['frames']} frames, "
                             f"{result['seconds']:.1f} s)")
            elif result.get("options_refused"):
                # every video would fail the same way: stop here (finished videos are kept)
                for other in pending:
                    cluster.cancel(other)
                raise UsageError(f"vmt-segment-video refused the options: {result['error']}")
            else:
                failures.append({"video_id": video.video_id, "name": video.name,
                                 "input": video.source, "error": result["error"]})
                progress.log(f"failed: {video.name}: {result['error']}")
        snapshot, request = cluster.poll(board, request)
        if snapshot is not None:
            running_progress, starts = snapshot
            running_now = {index for index, _, _ in pending.values()}
            running = [value for index, value in running_progress.items() if index in running_now]
            progress.draw(len(results), len(failures), running,
                          frames_done + sum(frames for _, frames in running),
                          time.monotonic() - start)
    _, starts = cluster.final_snapshot(board, starts)
    names = {index: video.name for index, (video, _, _) in enumerate(todo)}
    restarted = {names[index]: count for index, count in starts.items() if count > 1}
    return results, restarted, failures


def main(argv=None):
    parser, args = parse_arguments(argv)
    try:
        return run(args)
    except (UsageError, inputs.InputError) as error:
        print(f"vmt-batch: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nvmt-batch: interrupted; finished videos are saved, run again to resume",
              file=sys.stderr)
        return 130
