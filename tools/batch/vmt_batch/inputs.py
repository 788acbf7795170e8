"""What to segment: the videos of a folder, a glob, a list file or a YouTube-VIS style dataset.

Every input becomes a list of `Video`s, in a fixed order (sorted names for folders and globs, the
file's order for lists, the JSON's order for datasets), each with the id its results carry
(`video_id`: the dataset's id, else 1, 2, … in that order) and a name unique in the batch, used
for its result files. Paths are made absolute, since the tasks run in other folders (and, on a
cluster, on other machines that see the same paths).
"""
import glob
import hashlib
import json
import os
import re
from dataclasses import dataclass

# Extensions taken from a folder (a glob or a list takes whatever it names).
VIDEO_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ts", ".mts", ".mpg",
                    ".mpeg", ".ogv", ".flv", ".wmv", ".3gp", ".y4m")
LIST_EXTENSIONS = (".txt", ".lst", ".list")


class InputError(Exception):
    """The input cannot be turned into videos (missing, empty, malformed): exit status 2."""


@dataclass(frozen=True)
class Video:
    video_id: int
    name: str
    path: str = ""      # a video file, or "" for a frame folder
    frames: tuple = ()  # a frame folder's images in order (absolute paths)

    @property
    def source(self):
        """What the video was read from, for messages: its file or its frame folder."""
        return self.path or os.path.dirname(self.frames[0])

    def signature(self):
        """A hash of what the results depend on in the input: paths, sizes, modification times.
        A changed (or newly readable) input no longer matches a finished run's record."""
        digest = hashlib.sha256()
        for path in (self.path,) if self.path else self.frames:
            try:
                stat = os.stat(path)
                digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            except OSError as error:
                digest.update(f"{path}\0{error.strerror}\n".encode())
        return digest.hexdigest()


def discover(spec, frames_root=None):
    """The videos `spec` names: a folder, a glob pattern, a list file (.txt/.lst/.list, one video
    per line), a dataset JSON (.json) or a single video file."""
    if os.path.isdir(spec):
        names = sorted(n for n in os.listdir(spec) if n.lower().endswith(VIDEO_EXTENSIONS)
                       and os.path.isfile(os.path.join(spec, n)))
        if not names:
            raise InputError(f"no videos in folder '{spec}' (files ending in "
                             f"{', '.join(VIDEO_EXTENSIONS)})")
        return numbered([os.path.join(spec, n) for n in names])
    if not os.path.exists(spec) and glob.has_magic(spec):
        paths = sorted(p for p in glob.glob(spec, recursive=True))
        if not paths:
            raise InputError(f"no file matches '{spec}'")
        return numbered(paths)
    if not os.path.exists(spec):
        raise InputError(f"no such file or folder: '{spec}'")
    if spec.lower().endswith(".json"):
        return read_dataset(spec, frames_root)
    if spec.lower().endswith(LIST_EXTENSIONS):
        return numbered(read_list(spec))
    return numbered([spec])


def read_list(path):
    """The videos of a list file: one path per line, relative to the list's folder; blank lines
    and lines starting with # are skipped."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.rstrip("\r\n") for line in f]
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read list '{path}': {error}") from None
    folder = os.path.dirname(os.path.abspath(path))
    paths = [os.path.join(folder, line) for line in lines
             if line.strip() and not line.startswith("#")]
    if not paths:
        raise InputError(f"list '{path}' names no videos")
    return paths


def numbered(paths):
    """Videos 1, 2, … for files, named after their paths relative to the folder they share."""
    paths = [os.path.abspath(p) for p in paths]
    common = os.path.commonpath([os.path.dirname(p) for p in paths])
    stems = [os.path.splitext(os.path.relpath(p, common))[0] for p in paths]
    names = unique_names(stems)
    return [Video(video_id=i + 1, name=name, path=path)
            for i, (name, path) in enumerate(zip(names, paths))]


def read_dataset(path, frames_root=None):
    """The videos of a YouTube-VIS style JSON (`videos`: `id`, `file_names`), in its order, as
    frame folders under `frames_root` (default: JPEGImages/ beside the JSON, or under the folder
    named after it, as YouTube-VIS ships `valid.json` beside `valid/JPEGImages/`)."""
    try:
        with open(path, encoding="utf-8") as f:
            dataset = json.load(f)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(f"cannot read dataset '{path}': {error}") from None
    videos = dataset.get("videos") if isinstance(dataset, dict) else None
    if not isinstance(videos, list) or not videos:
        raise InputError(f"dataset '{path}' has no \"videos\" list")
    root = os.path.abspath(frames_root or default_frames_root(path))
    ids, stems, frame_lists = [], [], []
    for i, video in enumerate(videos):
        where = f"dataset '{path}': videos[{i}]"
        if not isinstance(video, dict) or not isinstance(video.get("id"), int) or \
                isinstance(video.get("id"), bool):
            raise InputError(f"{where} has no integer \"id\"")
        files = video.get("file_names")
        if not isinstance(files, list) or not files or \
                not all(isinstance(name, str) and name for name in files):
            raise InputError(f"{where} (id {video['id']}) has no \"file_names\" list")
        if video["id"] in ids:
            raise InputError(f"{where}: id {video['id']} is used twice")
        ids.append(video["id"])
        stems.append(os.path.dirname(files[0]) or f"video_{video['id']}")
        frame_lists.append(tuple(os.path.join(root, name) for name in files))
    names = unique_names(stems)
    return [Video(video_id=vid, name=name, frames=frames)
            for vid, name, frames in zip(ids, names, frame_lists)]


def default_frames_root(dataset_path):
    folder = os.path.dirname(os.path.abspath(dataset_path))
    stem = os.path.splitext(os.path.basename(dataset_path))[0]
    for candidate in (os.path.join(folder, "JPEGImages"),
                      os.path.join(folder, stem, "JPEGImages")):
        if os.path.isdir(candidate):
            return candidate
    return folder


def unique_names(stems):
    """File-name-safe names: separators become "__", other unusual characters "_"; a name that
    repeats gets "~2", "~3", … (in order)."""
    names, used = [], set()
    for stem in stems:
        base = re.sub(r"[^A-Za-z0-9._+-]", "_", stem.replace(os.sep, "__")).lstrip(".") or "video"
        name, n = base, 1
        while name in used:
            n += 1
            name = f"{base}~{n}"
        used.add(name)
        names.append(name)
    return names
