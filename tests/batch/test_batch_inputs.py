#!/usr/bin/env python3
"""vmt-batch's inputs and output folder without Ray or the engine: which videos a folder, a glob,
a list file and a dataset JSON name, in which order, with which ids and names; clear errors for
bad inputs; the resume rules (a record counts only with the same options and intact files); the
tasks' temporary folders.

Usage: test_batch_inputs.py"""
import json
import os
import subprocess
import tempfile

from batch_test_support import main, temporary_folder

from vmt_batch import inputs, outputs, segment


def touch(path, data=b"x"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def expect_input_error(spec, text, **kwargs):
    try:
        inputs.discover(spec, **kwargs)
    except inputs.InputError as error:
        assert text in str(error), (spec, str(error))
        return
    raise AssertionError(f"{spec}: no InputError")


def test_folder_sorted_videos_only():
    """A folder: its video files by name (other files and subfolders left out), ids 1, 2, …"""
    with temporary_folder() as folder:
        for name in ["b.mp4", "a.MKV", "c.webm", "notes.txt", "thumb.jpg"]:
            touch(f"{folder}/{name}")
        os.makedirs(f"{folder}/sub.mp4")
        videos = inputs.discover(folder)
        assert [(v.video_id, v.name, os.path.basename(v.path)) for v in videos] == \
            [(1, "a", "a.MKV"), (2, "b", "b.mp4"), (3, "c", "c.webm")], videos
        assert all(os.path.isabs(v.path) and not v.frames for v in videos)
        os.makedirs(f"{folder}/empty")
        expect_input_error(f"{folder}/empty", "no videos in folder")


def test_glob_and_unique_names():
    """A glob takes every match, sorted; names come from the paths below the common folder and
    stay unique and file-name safe."""
    with temporary_folder() as folder:
        touch(f"{folder}/cam1/day one.mp4")
        touch(f"{folder}/cam2/day one.mp4")
        touch(f"{folder}/cam2/day one.mkv")
        videos = inputs.discover(f"{folder}/cam*/*")
        assert [v.name for v in videos] == ["cam1__day_one", "cam2__day_one", "cam2__day_one~2"], \
            [v.name for v in videos]
        assert [os.path.relpath(v.path, folder) for v in videos] == \
            ["cam1/day one.mp4", "cam2/day one.mkv", "cam2/day one.mp4"]
        expect_input_error(f"{folder}/nothing*.mp4", "no file matches")


def test_list_file():
    """A list: one video per line, relative to the list's folder, in the list's order; blank
    lines and comments skipped; missing files are kept (they fail as videos, not as input)."""
    with temporary_folder() as folder:
        touch(f"{folder}/clips/z.mp4")
        touch(f"{folder}/clips/a.mp4")
        with open(f"{folder}/clips/list.txt", "w") as f:
            f.write("# two clips\nz.mp4\n\n  \na.mp4\ngone.mp4\n")
        videos = inputs.discover(f"{folder}/clips/list.txt")
        assert [(v.video_id, v.name) for v in videos] == [(1, "z"), (2, "a"), (3, "gone")]
        assert videos[2].path == f"{folder}/clips/gone.mp4"
        with open(f"{folder}/empty.lst", "w") as f:
            f.write("# nothing\n")
        expect_input_error(f"{folder}/empty.lst", "names no videos")
        expect_input_error(f"{folder}/none.txt", "no such file or folder")


def dataset(folder, videos, name="instances.json"):
    path = f"{folder}/{name}"
    with open(path, "w") as f:
        json.dump({"videos": videos, "annotations": [], "categories": []}, f)
    return path


def test_dataset_order_ids_and_frames():
    """A dataset JSON: its videos in the JSON's order with the JSON's ids, as frame folders of the
    listed files (gaps in the names kept) under JPEGImages/ beside it."""
    with temporary_folder() as folder:
        os.makedirs(f"{folder}/JPEGImages")
        path = dataset(folder, [
            {"id": 42, "file_names": ["b7/00000.jpg", "b7/00005.jpg", "b7/00010.jpg"]},
            {"id": 7, "file_names": ["a1/00000.png"]},
        ])
        videos = inputs.discover(path)
        assert [(v.video_id, v.name) for v in videos] == [(42, "b7"), (7, "a1")]
        assert videos[0].frames == tuple(f"{folder}/JPEGImages/b7/{n:05d}.jpg"
                                         for n in (0, 5, 10)), videos[0].frames
        assert videos[0].source == f"{folder}/JPEGImages/b7" and not videos[0].path


def test_dataset_frames_root():
    """YouTube-VIS ships valid.json beside valid/JPEGImages/; --frames-root overrides."""
    with temporary_folder() as folder:
        os.makedirs(f"{folder}/valid/JPEGImages")
        path = dataset(folder, [{"id": 1, "file_names": ["v/0.jpg"]}], name="valid.json")
        assert inputs.discover(path)[0].frames == (f"{folder}/valid/JPEGImages/v/0.jpg",)
        assert inputs.discover(path, frames_root=f"{folder}/x")[0].frames == \
            (f"{folder}/x/v/0.jpg",)


def test_dataset_errors():
    """Malformed datasets are refused with the reason and the video."""
    with temporary_folder() as folder:
        cases = [
            ({"annotations": []}, 'has no "videos" list'),
            ({"videos": [{"file_names": ["a/0.jpg"]}]}, 'videos[0] has no integer "id"'),
            ({"videos": [{"id": 3, "file_names": []}]}, '(id 3) has no "file_names" list'),
            ({"videos": [{"id": 3, "file_names": ["a/0.jpg"]},
                         {"id": 3, "file_names": ["b/0.jpg"]}]}, "id 3 is used twice"),
        ]
        for content, text in cases:
            path = f"{folder}/bad.json"
            with open(path, "w") as f:
                json.dump(content, f)
            expect_input_error(path, text)
        with open(f"{folder}/broken.json", "w") as f:
            f.write("{")
        expect_input_error(f"{folder}/broken.json", "cannot read dataset")


def finished(out, video, key, frames=3, entries=None):
    """Saves a finished video as a task result would; returns the record."""
    if entries is None:
        entries = [{"video_id": video.video_id, "category_id": 1, "score": 0.5,
                    "segmentations": [None] * frames}]
    result = {"frames": frames, "instances": 0, "tracks": 1, "seconds": 1.0,
              "files": {"youtube-vis": json.dumps(entries).encode(), "jsonl": b"{}\n"}}
    return out.save_video(video, key, result)


def test_resume_rules():
    """A saved video is finished for a run with the same key; changed options or inputs, a
    missing, edited or malformed file, or another video id make it unfinished, with the reason."""
    with temporary_folder() as folder:
        clip = touch(f"{folder}/in/clip.mp4")
        video = inputs.discover(clip)[0]
        options = {"cli_args": ["--input-size", "96"], "formats": ["youtube-vis", "jsonl"],
                   "model": ["m"]}
        key = outputs.run_key(options, video)
        out = outputs.OutputFolder(f"{folder}/out")
        assert out.finished_record(video, key) == (None, "")
        record = finished(out, video, key)
        assert out.finished_record(video, key) == (record, "")

        other = outputs.run_key(dict(options, cli_args=["--input-size", "128"]), video)
        assert out.finished_record(video, other)[1] == "the input or the options changed"
        fewer = outputs.run_key(dict(options, formats=["youtube-vis"]), video)
        assert "changed" in out.finished_record(video, fewer)[1] or \
            "formats" in out.finished_record(video, fewer)[1]
        touch(clip, b"new content")  # the input changed: this run's key differs
        key = outputs.run_key(options, video)
        assert out.finished_record(video, key)[1] == "the input or the options changed"
        finished(out, video, key)

        path = out.results_path(video.name, "jsonl")
        touch(path, b"edited\n")
        assert out.finished_record(video, key)[1] == "videos/clip.jsonl was changed"
        os.remove(path)
        assert out.finished_record(video, key)[1] == "videos/clip.jsonl is missing"

        finished(out, video, key, entries=[{"video_id": video.video_id, "segmentations": [None]}])
        assert "does not have 3 frames" in out.finished_record(video, key)[1]
        finished(out, video, key, entries=[{"video_id": 99, "segmentations": [None] * 3}])
        assert "is not of video 1" in out.finished_record(video, key)[1]
        touch(out.record_path(video.name), b"{")
        assert "unreadable record" in out.finished_record(video, key)[1]

        finished(out, video, key)
        out.forget(video)
        assert not os.listdir(f"{folder}/out/videos") and not os.listdir(f"{folder}/out/records")


def test_merge_keeps_order_and_ids():
    """The merged file: each finished video's results in the given order, with its video id."""
    with temporary_folder() as folder:
        out = outputs.OutputFolder(f"{folder}/out")
        records = []
        for vid, name in [(42, "b"), (7, "a")]:
            video = inputs.Video(video_id=vid, name=name, path=f"{folder}/{name}.mp4")
            entries = [{"video_id": vid, "category_id": c, "score": 0.1 * c,
                        "segmentations": [None, None]} for c in (1, 2)]
            records.append(finished(out, video, {"options": {}, "input": ""}, frames=2,
                                    entries=entries))
        assert out.merge(records) == 4
        with open(out.merged_path) as f:
            merged = json.load(f)
        assert [(e["video_id"], e["category_id"]) for e in merged] == \
            [(42, 1), (42, 2), (7, 1), (7, 2)], merged


def test_task_folders_of_dead_workers_are_removed():
    """A task's private folder is named after its worker's pid; the next task on the machine
    removes those of workers that are gone (killed before they could clean up), not others'."""
    with temporary_folder() as folder:
        gone = subprocess.Popen(["true"])
        gone.wait()
        dead = f"{folder}/vmt-batch-task-{gone.pid}-abc"
        live = f"{folder}/vmt-batch-task-{os.getpid()}-def"
        other = f"{folder}/vmt-batch-task-x-1"
        for path in (dead, live, other):
            touch(f"{path}/frames.txt")
        saved, tempfile.tempdir = tempfile.tempdir, folder
        try:
            made = segment.private_folder()
        finally:
            tempfile.tempdir = saved
        assert os.path.basename(made).startswith(f"vmt-batch-task-{os.getpid()}-")
        assert not os.path.exists(dead) and os.path.exists(live) and os.path.exists(other)


if __name__ == "__main__":
    main([test_folder_sorted_videos_only, test_glob_and_unique_names, test_list_file,
          test_dataset_order_ids_and_frames, test_dataset_frames_root, test_dataset_errors,
          test_resume_rules, test_merge_keeps_order_and_ids,
          test_task_folders_of_dead_workers_are_removed])
