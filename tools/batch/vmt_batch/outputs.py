"""The output folder: per-video results, resume records, the merged YouTube-VIS file, the summary.

    OUT/videos/NAME.json            per-video YouTube-VIS results (always: the merge reads them)
    OUT/videos/NAME.jsonl, .txt …   the other formats asked for (segment.FORMAT_SUFFIXES)
    OUT/records/NAME.json           written last for a finished video: what made it, file hashes
    OUT/results.json                the merged YouTube-VIS results, `video_id`s = the dataset's
    OUT/summary.json                videos, frames, fps, failures, time (and the evaluation)

Every file is written to a temporary name and renamed, so a run killed at any point leaves each
file whole or absent. A video counts as finished on a rerun only if its record matches the
current run (same input files, same options) and every file it lists is there with the recorded
hash, its YouTube-VIS file well formed for that many frames.
"""
import hashlib
import json
import os

from .segment import FORMAT_SUFFIXES


def write_atomically(path, data):
    """Writes bytes to `path` through a temporary file in the same folder and a rename."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = f"{path}.part-{os.getpid()}"
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class OutputFolder:
    def __init__(self, root):
        self.root = os.path.abspath(root)

    def results_path(self, name, fmt):
        return os.path.join(self.root, "videos", name + FORMAT_SUFFIXES[fmt])

    def record_path(self, name):
        return os.path.join(self.root, "records", name + ".json")

    @property
    def merged_path(self):
        return os.path.join(self.root, "results.json")

    @property
    def summary_path(self):
        return os.path.join(self.root, "summary.json")

    def save_video(self, video, key, result):
        """Writes a finished video's files, then its record; returns the record."""
        files = {}
        for fmt, data in result["files"].items():
            path = self.results_path(video.name, fmt)
            write_atomically(path, data)
            files[fmt] = {"path": os.path.relpath(path, self.root), "sha256": sha256(data)}
        record = {"video_id": video.video_id, "name": video.name, "source": video.source,
                  "key": key, "frames": result["frames"], "instances": result["instances"],
                  "tracks": result["tracks"], "seconds": result["seconds"],
                  "node": result.get("node", ""), "files": files}
        write_atomically(self.record_path(video.name),
                         json.dumps(record, indent=1).encode() + b"\n")
        return record

    def finished_record(self, video, key):
        """(record, "") when `video` was finished by a run with the same key and its files are
        intact, else (None, why not) — why is "" when there is no record at all."""
        try:
            with open(self.record_path(video.name), encoding="utf-8") as f:
                record = json.load(f)
        except FileNotFoundError:
            return None, ""
        except (OSError, ValueError) as error:
            return None, f"unreadable record ({error})"
        if not isinstance(record, dict) or record.get("key") != key:
            return None, "the input or the options changed"
        if record.get("video_id") != video.video_id:
            return None, "its video id changed"
        files = record.get("files")
        if not isinstance(files, dict) or set(files) != set(key_formats(key)):
            return None, "other formats were asked for"
        for fmt, entry in files.items():
            path = os.path.join(self.root, entry.get("path", ""))
            try:
                with open(path, "rb") as f:
                    data = f.read()
            except OSError:
                return None, f"{entry.get('path')} is missing"
            if sha256(data) != entry.get("sha256"):
                return None, f"{entry.get('path')} was changed"
            if fmt == "youtube-vis":
                problem = youtube_vis_problem(data, video.video_id, record.get("frames"))
                if problem:
                    return None, f"{entry.get('path')}: {problem}"
        return record, ""

    def forget(self, video):
        """Removes a video's record and files (before it is segmented again)."""
        for path in [self.record_path(video.name)] + [self.results_path(video.name, fmt)
                                                      for fmt in FORMAT_SUFFIXES]:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass

    def merge(self, records):
        """Concatenates the per-video YouTube-VIS results of `records` (in order) into
        results.json; returns the number of result entries."""
        merged = []
        for record in records:
            with open(os.path.join(self.root, record["files"]["youtube-vis"]["path"]), "rb") as f:
                entries = json.load(f)
            for entry in entries:
                entry["video_id"] = record["video_id"]  # already so; the merge guarantees it
            merged.extend(entries)
        write_atomically(self.merged_path, json.dumps(merged, separators=(",", ":")).encode())
        return len(merged)


def run_key(options, video):
    """What a video's results depend on: the options that reach the CLI and the input files."""
    return {"options": options, "input": video.signature()}


def key_formats(key):
    return key["options"]["formats"]


def youtube_vis_problem(data, video_id, frames):
    """Why `data` is not a YouTube-VIS results list of `video_id` with `frames` frames, or ""."""
    try:
        entries = json.loads(data)
    except ValueError as error:
        return f"not JSON ({error})"
    if not isinstance(entries, list):
        return "not a list of results"
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("video_id") != video_id:
            return f"result {i} is not of video {video_id}"
        segmentations = entry.get("segmentations")
        if not isinstance(segmentations, list) or len(segmentations) != frames:
            return f"result {i} does not have {frames} frames"
    return ""
