#!/usr/bin/env python3
"""vmt-segment-video (tools/segment-video/) end to end: the overlay MP4 decodes to as many frames
as went in, the results parse, the printed summary matches them; clear errors with a nonzero
exit status; every damaged video of tests/fixtures/videos/ ends in time without a crash.

Usage: test_segment_video.py PATH/TO/vmt-segment-video"""
import json
import os
import sys

from pipeline_test_support import (DEMO_MODEL, DEMO_VIDEO, FIXTURE_VIDEOS, count_decoded_frames,
                                   main, run, temporary_folder)

TOOL = sys.argv[1] if len(sys.argv) > 1 else "vmt-segment-video"
FAST = ["--input-size", "96", "--device", "cpu", "--no-progress"]


def summary_of(stdout):
    """The `key: value` summary lines as a dict of strings."""
    summary = {}
    for line in stdout.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            summary[key.strip()] = value.strip()
    return summary


def test_demo_overlay_and_jsonl_results():
    """24 demo frames online: 24 frames in the MP4 and the JSON Lines, summary = results."""
    with temporary_folder() as folder:
        overlay, results = f"{folder}/overlay.mp4", f"{folder}/frames.jsonl"
        result = run([TOOL, DEMO_VIDEO, "-o", overlay, "--results", results, "--mode", "online",
                      "--max-frames", "24", "--model", DEMO_MODEL, *FAST], timeout=600)
        assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
        summary = summary_of(result.stdout)
        assert count_decoded_frames(overlay) == 24
        with open(results) as f:
            frames = [json.loads(line) for line in f]
        assert len(frames) == 24
        instances = [inst for frame in frames for inst in frame["instances"]]
        assert int(summary["frames"]) == 24, summary
        assert int(summary["instances"]) == len(instances), (summary, len(instances))
        assert int(summary["tracks"]) == len({inst["track_id"] for inst in instances}), summary
        assert int(summary["tracks"]) > 0, "the demo model found nothing in the demo video"
        assert float(summary["fps"]) > 0 and float(summary["wall time"].split()[0]) > 0, summary
        assert summary["results"] == f"{results} (jsonl)", summary


def test_youtube_vis_results_offline():
    """Offline mode (a partial clip at EOS) into YouTube-VIS JSON: one slot per frame per track."""
    with temporary_folder() as folder:
        results = f"{folder}/results.json"
        result = run([TOOL, DEMO_VIDEO, "--results", results, "--format", "youtube-vis",
                      "--mode", "offline", "--clip-length", "8", "--clip-overlap", "2",
                      "--association", "tube-iou", "--max-frames", "12", "--model", DEMO_MODEL,
                      *FAST], timeout=600)
        assert result.returncode == 0, f"exit {result.returncode}: {result.stderr}"
        summary = summary_of(result.stdout)
        with open(results) as f:
            tracks = json.load(f)
        assert isinstance(tracks, list) and tracks, tracks
        assert all(len(t["segmentations"]) == 12 for t in tracks)
        present = sum(seg is not None for t in tracks for seg in t["segmentations"])
        assert int(summary["frames"]) == 12
        assert int(summary["instances"]) == present, (summary, present)


def test_progress_is_reported():
    """Without --no-progress, stderr (not a terminal here) gets progress lines up to 100 %."""
    result = run([TOOL, DEMO_VIDEO, "--max-frames", "4", "--model", DEMO_MODEL,
                  "--input-size", "96", "--device", "cpu", "--mode", "online"], timeout=300)
    assert result.returncode == 0, result.stderr
    assert "progress: 100%" in result.stderr, result.stderr


def test_mots_alias_and_set():
    """--format mots is MOTSChallenge txt (frames from 1); --set reaches vmtsegment."""
    with temporary_folder() as folder:
        results = f"{folder}/seq.txt"
        result = run([TOOL, DEMO_VIDEO, "--results", results, "--format", "mots", "--max-frames",
                      "4", "--model", DEMO_MODEL, "--mode", "online", "--set", "tube-length=2",
                      *FAST], timeout=300)
        assert result.returncode == 0, result.stderr
        assert summary_of(result.stdout)["results"] == f"{results} (mots-challenge)"
        with open(results) as f:
            lines = [line.split() for line in f]
        assert lines and all(len(fields) == 6 for fields in lines), lines[:3]
        assert {int(fields[0]) for fields in lines} <= {1, 2, 3, 4}, lines
        result = run([TOOL, DEMO_VIDEO, "--set", "no-such-property=1"], timeout=60)
        assert result.returncode == 2 and "no-such-property" in result.stderr, result


def test_missing_input():
    """A missing input file: exit 1, the path and the reason in the message."""
    result = run([TOOL, "/nonexistent/clip.mp4", "--no-progress"], timeout=60)
    assert result.returncode == 1, result
    assert "/nonexistent/clip.mp4" in result.stderr, result.stderr
    assert "no such file" in result.stderr, result.stderr


def test_folder_as_input():
    """A folder is not a video: exit 1."""
    result = run([TOOL, FIXTURE_VIDEOS, "--no-progress"], timeout=60)
    assert result.returncode == 1 and "folder" in result.stderr, result


def test_missing_model():
    """A model file that does not exist: exit 1, vmtsegment's message names the file."""
    with temporary_folder() as folder:
        overlay = f"{folder}/out.mp4"
        result = run([TOOL, DEMO_VIDEO, "-o", overlay, "--model", "/nonexistent/model.safetensors",
                      *FAST], timeout=120)
        assert result.returncode == 1, result
        assert "/nonexistent/model.safetensors" in result.stderr, result.stderr
        assert not os.path.exists(overlay), "a failed run left its overlay video"


def test_corrupt_model():
    """A file that is not a model (an MP4): exit 1 with vmtsegment's reason."""
    result = run([TOOL, DEMO_VIDEO, "--model", DEMO_VIDEO, *FAST], timeout=120)
    assert result.returncode == 1, result
    assert result.stderr.startswith("vmt-segment-video: segment:"), result.stderr
    assert DEMO_VIDEO in result.stderr, result.stderr


def test_bad_command_lines():
    """Unknown options, bad values, no input: exit 2 with a message."""
    for args, expected in [([], "no input"),
                           ([DEMO_VIDEO, "--bogus", "1"], "unknown option --bogus"),
                           ([DEMO_VIDEO, "--mode", "sideways"], "one of online, offline"),
                           ([DEMO_VIDEO, "--input-size", "-3"], "--input-size"),
                           ([DEMO_VIDEO, "--results", "x.json", "--format", "csv"], "csv"),
                           ([DEMO_VIDEO, "--format", "jsonl"], "--format needs --results"),
                           ([DEMO_VIDEO, "--max-frames", "0"], "--max-frames"),
                           ([DEMO_VIDEO, "--frame-list", "f.txt"], "--frame-list and an input"),
                           (["--frame-list", "f.txt", "--frame-rate", "0"], "--frame-rate"),
                           (["--frame-list", "f.txt", "--frame-rate", "6/x"], "--frame-rate"),
                           ([DEMO_VIDEO, "--results", "a.json", "--results", "a.json"],
                            "given twice"),
                           ([DEMO_VIDEO, "--results", "a.json", "--format", "jsonl", "--format",
                             "mots"], "two --format for 'a.json'"),
                           ([DEMO_VIDEO, "--video-id", "x"], "--video-id expects"),
                           ([DEMO_VIDEO, "--video-id", "-1"], "--video-id expects"),
                           ([DEMO_VIDEO, "--video-id", "4294967296"], "--video-id expects")]:
        # --max-frames 1: a line wrongly accepted costs one frame, not the whole video
        result = run([TOOL, *args, "--max-frames", "1"], timeout=60)
        assert result.returncode == 2, (args, result)
        assert expected in result.stderr, (args, result.stderr)


def test_settings_errors_name_the_options():
    """Settings vmtsegment refuses: exit 2 with the options named, not blamed on the model."""
    for args, expected in [
            (["--clip-length", "10", "--clip-overlap", "10"],
             "--clip-overlap 10 must be smaller than --clip-length 10"),
            (["--clip-overlap", "10", "--clip-length", "10"],
             "--clip-overlap 10 must be smaller than --clip-length 10"),
            (["--set", "clip-overlap=12", "--clip-length", "12"],
             "--clip-overlap 12 must be smaller than --clip-length 12"),
            (["--clip-length", "8"], "the default --clip-overlap 10 must be smaller than --clip-length 8"),
            (["--device", "cuda:63"], "--device: device \"cuda:63\" requested"),
            (["--device", "gpu7"], "--device: invalid device \"gpu7\"")]:
        result = run([TOOL, DEMO_VIDEO, *FAST, *args, "--model", DEMO_MODEL, "--max-frames", "1"],
                     timeout=120)
        message = result.stderr.strip().splitlines()[0]
        assert result.returncode == 2, (args, result)
        assert expected in message, (args, message)
        assert "model" not in message, (args, message)
    # the same settings the other way round are fine
    result = run([TOOL, DEMO_VIDEO, "--clip-length", "8", "--clip-overlap", "2", "--model",
                  DEMO_MODEL, "--max-frames", "2", *FAST], timeout=300)
    assert result.returncode == 0, result.stderr


def write_frames(folder, count, encoder="jpegenc", extension="jpg", step=1):
    """`count` 128x96 test-pattern frames as images named 00000, 00005, … (for step 5): the
    non-contiguous names YouTube-VIS uses. Returns their paths in order."""
    os.makedirs(folder, exist_ok=True)
    result = run(["gst-launch-1.0", "-q", "videotestsrc", "pattern=ball", f"num-buffers={count}",
                  "!", "video/x-raw,width=128,height=96", "!", "videoconvert", "!", encoder, "!",
                  "multifilesink", f"location={folder}/tmp%05d.{extension}"], timeout=120)
    assert result.returncode == 0, result.stderr
    paths = []
    for i in range(count):
        path = f"{folder}/{i * step:05d}.{extension}"
        os.rename(f"{folder}/tmp{i:05d}.{extension}", path)
        paths.append(path)
    return paths


def write_list(path, frames):
    with open(path, "w") as f:
        f.write("# frames of one video\n\n")
        f.writelines(os.path.relpath(frame, os.path.dirname(path)) + "\n" for frame in frames)


def test_frame_list_several_results():
    """A list of JPEG frames with gaps in their names: every frame segmented, in order, into three
    vmtexport files at once; --video-id and --video-name reach them."""
    with temporary_folder() as folder:
        frames = write_frames(f"{folder}/clip", 12, step=5)
        write_list(f"{folder}/frames.txt", frames)
        ytvis, jsonl, bdd = f"{folder}/r.json", f"{folder}/r.jsonl", f"{folder}/r.scalabel"
        result = run([TOOL, "--frame-list", f"{folder}/frames.txt", "--results", ytvis,
                      "--results", jsonl, "--results", bdd, "--format", "bdd100k",
                      "--video-id", "42", "--video-name", "clip7", "--frame-rate", "6",
                      "--model", DEMO_MODEL, "--mode", "online", *FAST], timeout=300)
        assert result.returncode == 0, result.stderr
        summary = summary_of(result.stdout)
        assert int(summary["frames"]) == 12, summary
        results_lines = [line for line in result.stdout.splitlines() if line.startswith("results:")]
        assert results_lines == [f"results:    {ytvis} (youtube-vis)",
                                 f"results:    {jsonl} (jsonl)",
                                 f"results:    {bdd} (bdd100k)"], result.stdout
        with open(ytvis) as f:
            tracks = json.load(f)
        assert tracks and all(t["video_id"] == 42 and len(t["segmentations"]) == 12
                              for t in tracks), tracks[:1]
        with open(jsonl) as f:
            lines = [json.loads(line) for line in f]
        assert [line["frame"] for line in lines] == list(range(12))
        # timestamps at 6 fps, one frame after the other
        assert all(abs(line["pts"] - i * 10**9 / 6) <= 1 for i, line in enumerate(lines)), \
            [line["pts"] for line in lines]
        with open(bdd) as f:
            labels = json.load(f)
        assert len(labels) == 12 and {frame["videoName"] for frame in labels} == {"clip7"}
        present = sum(seg is not None for t in tracks for seg in t["segmentations"])
        assert present == sum(len(line["instances"]) for line in lines) == int(summary["instances"])


def test_frame_list_png():
    """PNG frames work the same way."""
    with temporary_folder() as folder:
        frames = write_frames(f"{folder}/png", 5, encoder="pngenc", extension="png")
        write_list(f"{folder}/frames.lst", frames)
        result = run([TOOL, "--frame-list", f"{folder}/frames.lst", "--results",
                      f"{folder}/r.jsonl", "--model", DEMO_MODEL, "--mode", "online", *FAST],
                     timeout=300)
        assert result.returncode == 0, result.stderr
        with open(f"{folder}/r.jsonl") as f:
            assert sum(1 for _ in f) == 5


def test_frame_list_bad_frames():
    """A missing, damaged, foreign or mixed frame: exit 1 naming that frame, no results left."""
    with temporary_folder() as folder:
        frames = write_frames(f"{folder}/clip", 6)
        png = write_frames(f"{folder}/png", 1, encoder="pngenc", extension="png")[0]
        with open(frames[3], "rb") as f:
            data = f.read()
        damaged = f"{folder}/clip/damaged.jpg"  # the JPEG header survives, the image does not
        with open(damaged, "wb") as f:
            f.write(data[:300] + bytes(len(data) - 300))
        text = f"{folder}/clip/notes.jpg"
        with open(text, "w") as f:
            f.write("not an image\n")
        cases = [
            (frames[:2] + [f"{folder}/clip/missing.jpg"] + frames[2:], "missing.jpg",
             "no such file"),
            (frames[:3] + [damaged] + frames[3:], "damaged.jpg", "cannot decode frame"),
            ([text] + frames, "notes.jpg", "neither a JPEG nor a PNG"),
            (frames[:2] + [png], "00000.png", "is not a JPEG image like the first frame"),
            ([], "empty.txt", "names no frames"),
        ]
        for i, (listed, named, reason) in enumerate(cases):
            list_path = f"{folder}/empty.txt" if not listed else f"{folder}/list{i}.txt"
            write_list(list_path, listed)
            results = f"{folder}/r{i}.json"
            result = run([TOOL, "--frame-list", list_path, "--results", results,
                          "--model", DEMO_MODEL, "--mode", "online", *FAST], timeout=300)
            assert result.returncode == 1, (named, result.returncode, result.stderr)
            message = result.stderr.strip().splitlines()[-1]
            assert message.startswith("vmt-segment-video: "), result.stderr
            assert named in message and reason in message, (named, result.stderr)
            assert not os.path.exists(results), f"{named}: a failed run left its results"


def test_damaged_videos():
    """Each file of tests/fixtures/videos/ ends within the timeout, never by a signal: exit 0 for
    the ones GStreamer reads to EOS, exit 1 with the reason for the others."""
    expected = {  # file: (exit status, text of the message)
        "intact.mp4": (0, ""), "truncated-30.mp4": (0, ""), "truncated-70.mp4": (0, ""),
        "truncated-50.mkv": (0, ""), "bitflip-middle.mp4": (0, ""),
        "no-moov-truncated-70.mp4": (1, "no playable streams"),
        "bitflip-sample-table.mp4": (1, "corrupt"),
        "bitflip-avcc.mp4": (1, "No valid frames"),
        "zeroed-header.mp4": (1, "Could not determine type of stream"),
        "garbage.mp4": (1, "Could not determine type of stream"),
        "empty.mp4": (1, "Stream contains no data"),
        "audio-only.ogg": (1, "has no video stream"),
    }
    files = sorted(f for f in os.listdir(FIXTURE_VIDEOS) if not f.endswith((".md", ".sh")))
    assert sorted(expected) == files, f"fixtures and expectations differ: {files}"
    with temporary_folder() as folder:
        for name, (status, text) in expected.items():
            path = os.path.join(FIXTURE_VIDEOS, name)
            overlay, results = f"{folder}/{name}.mp4", f"{folder}/{name}.jsonl"
            result = run([TOOL, path, "-o", overlay, "--results", results, "--model", DEMO_MODEL,
                          *FAST], timeout=120)
            assert result.returncode >= 0, f"{name}: killed by signal {-result.returncode}"
            assert result.returncode == status, f"{name}: exit {result.returncode}: {result.stderr}"
            if status == 0:
                frames = int(summary_of(result.stdout)["frames"])
                assert count_decoded_frames(overlay) == frames, name
                with open(results) as f:
                    assert sum(1 for _ in f) == frames, name
            else:
                assert path in result.stderr or name in result.stderr, (name, result.stderr)
                assert text in result.stderr, (name, result.stderr)
                assert not os.path.exists(overlay) and not os.path.exists(results), name


if __name__ == "__main__":
    main([test_bad_command_lines, test_settings_errors_name_the_options, test_mots_alias_and_set, test_missing_input, test_folder_as_input,
          test_missing_model,
          test_corrupt_model, test_progress_is_reported, test_demo_overlay_and_jsonl_results,
          test_youtube_vis_results_offline, test_frame_list_several_results, test_frame_list_png,
          test_frame_list_bad_frames, test_damaged_videos])
