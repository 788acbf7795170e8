#!/usr/bin/env python3
"""vmtexport's files read by the reference readers (issue #7): one real pipeline on the demo
video writes YouTube-VIS JSON, MOTSChallenge txt, KITTI-MOTS txt and BDD100K Scalabel JSON;
pycocotools decodes every mask, the MOTS txt rules of docs/formats.md hold, TrackEval
(trackeval==1.3.0, tools/requirements.txt) reads the MOTS txt and agrees with vmt-eval.

Usage: test_export_readers.py PATH/TO/vmt-eval
Exit code 77 (skipped) when pycocotools, numpy or trackeval cannot be imported."""
import contextlib
import io
import itertools
import json
import os
import struct
import sys

from pipeline_test_support import DEMO_MODEL, DEMO_VIDEO, Gst, main, run, temporary_folder

try:
    import numpy as np
    from pycocotools import mask as mask_utils
    import trackeval
except ImportError as error:
    print(f"SKIP: {error} (tools/setup.sh installs pycocotools and trackeval into .venv)")
    sys.exit(77)

VMT_EVAL = sys.argv[1] if len(sys.argv) > 1 else "vmt-eval"
FRAMES = 24
FORMATS = {  # vmtexport format: file name
    "youtube-vis": "demo.json", "mots-challenge": "demo.txt", "kitti-mots": "demo-kitti.txt",
    "bdd100k": "demo-bdd.json",
}


def model_labels(path):
    """The label list in the safetensors header (`vmt.labels`): class_id k is labels[k - 1]."""
    with open(path, "rb") as f:
        (size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(size))
    return json.loads(header["__metadata__"]["vmt.labels"])


def run_export_pipeline(folder):
    """The demo video's first FRAMES frames through vmtsegment, a tee and four vmtexport branches
    (gst-launch syntax). Like vmt-segment-video --max-frames, a probe on vmtsegment's sink pad
    sends EOS after FRAMES frames. Returns the frame (width, height)."""
    branches = " ".join(
        f"t. ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=0 ! "
        f"vmtexport format={fmt} location={folder}/{name}" for fmt, name in FORMATS.items())
    pipeline = Gst.parse_launch(
        f"filesrc location={DEMO_VIDEO} ! queue ! decodebin ! videoconvert ! "
        f"vmtsegment name=segment input-size=96 device=cpu mode=online association=tube-iou ! "
        f"tee name=t {branches}")
    pad = pipeline.get_by_name("segment").get_static_pad("sink")
    state = {"seen": 0, "size": None}

    def limit(pad, _info):
        state["seen"] += 1
        if state["seen"] == 1:
            structure = pad.get_current_caps().get_structure(0)
            state["size"] = (structure.get_value("width"), structure.get_value("height"))
        if state["seen"] <= FRAMES:
            return Gst.PadProbeReturn.OK
        if state["seen"] == FRAMES + 1:
            pad.send_event(Gst.Event.new_eos())
        return Gst.PadProbeReturn.DROP

    pad.add_probe(Gst.PadProbeType.BUFFER, limit)
    pipeline.set_state(Gst.State.PLAYING)
    message = pipeline.get_bus().timed_pop_filtered(
        300 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    pipeline.set_state(Gst.State.NULL)
    assert message is not None, "the export pipeline did not finish within 300 s"
    if message.type == Gst.MessageType.ERROR:
        error, debug = message.parse_error()
        raise AssertionError(f"export pipeline: {error.message} ({debug})")
    assert state["seen"] > FRAMES, f"the demo video has only {state['seen']} frames"
    return state["size"]


def decode(rle, width, height, what):
    """pycocotools' decoding of a compressed RLE dict; checks the size."""
    assert rle["size"] == [height, width], (what, rle["size"])
    mask = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode()})
    assert mask.shape == (height, width), (what, mask.shape)
    return mask


def assert_disjoint(rles, what):
    """No two masks of one frame share a pixel: pairwise intersections (pycocotools merge with
    intersect=True) are empty, and the union's area is the sum of the areas."""
    for a, b in itertools.combinations(rles, 2):
        assert mask_utils.area(mask_utils.merge([a, b], intersect=True)) == 0, what
    if rles:
        union = mask_utils.merge(rles, intersect=False)
        assert mask_utils.area(union) == sum(int(mask_utils.area(r)) for r in rles), what


def read_mots(path):
    """MOTS txt lines as (time, id, class, h, w, rle) with ints; 6 space-separated fields."""
    rows = []
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.rstrip("\n").split(" ")
            assert len(fields) == 6, f"{path}:{number}: {line!r}"
            rows.append((*map(int, fields[:5]), fields[5]))
    return rows


def check_youtube_vis(path, width, height, labels):
    with open(path) as f:
        results = json.load(f)
    assert isinstance(results, list) and results, "no YouTube-VIS results"
    for index, result in enumerate(results):
        assert set(result) == {"video_id", "category_id", "score", "segmentations"}, result.keys()
        assert result["video_id"] == 1, result["video_id"]
        assert 1 <= result["category_id"] <= len(labels), result["category_id"]
        assert 0.0 <= result["score"] <= 1.0, result["score"]
        segmentations = result["segmentations"]
        assert len(segmentations) == FRAMES, (index, len(segmentations))
        present = [(t, s) for t, s in enumerate(segmentations) if s is not None]
        assert present, f"result {index} is absent from every frame"
        for t, rle in present:
            mask = decode(rle, width, height, f"result {index} frame {t}")
            coco = {"size": rle["size"], "counts": rle["counts"].encode()}
            assert int(mask_utils.area(coco)) == int(mask.sum()), (index, t)
            box = mask_utils.toBbox(coco)
            if mask.any():
                ys, xs = np.nonzero(mask)
                expected = [xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1]
                assert np.allclose(box, expected), (index, t, box, expected)
            # re-encoding the decoded mask gives the same RLE string
            again = mask_utils.encode(np.asfortranarray(mask))
            assert again["counts"].decode() == rle["counts"], (index, t)
    return results


def check_mots(path, base, width, height):
    """docs/formats.md's MOTS txt rules; returns {frame from 0: [(id, class, rle dict)]}."""
    rows = read_mots(path)
    assert rows, f"{path} is empty"
    frames = {}
    for time, track, cls, h, w, counts in rows:
        assert base <= time < base + FRAMES, (path, time)
        assert (h, w) == (height, width), (path, time, h, w)
        assert track // 1000 == cls and track % 1000 >= 1, (path, time, track, cls)
        rle = {"size": [h, w], "counts": counts.encode()}
        mask = mask_utils.decode(rle)
        assert mask.shape == (height, width) and mask.any(), (path, time, track)
        frames.setdefault(time - base, []).append((track, cls, rle))
    for t, objects in frames.items():
        ids = [track for track, _, _ in objects]
        assert len(ids) == len(set(ids)), (path, t, ids)
        assert_disjoint([rle for _, _, rle in objects], f"{path} frame {t}")
    # n = 1, 2, ... per class in order of first appearance: ids never jump or come back renumbered
    first_seen = {}
    for t in sorted(frames):
        for track, cls, _ in frames[t]:
            first_seen.setdefault(track, t)
    for cls in {track // 1000 for track in first_seen}:
        ns = sorted((first_seen[track], track % 1000)
                    for track in first_seen if track // 1000 == cls)
        assert [n for _, n in sorted(ns, key=lambda x: x[1])] == list(range(1, len(ns) + 1)), ns
        assert [first for first, _ in sorted(ns, key=lambda x: x[1])] == sorted(f for f, _ in ns), ns
    return frames


def check_bdd100k(path, width, height, labels):
    with open(path) as f:
        frames = json.load(f)
    assert isinstance(frames, list) and len(frames) == FRAMES, len(frames)
    video = os.path.basename(path).split(".")[0]
    result = {}
    for t, frame in enumerate(frames):
        assert frame["videoName"] == video and frame["frameIndex"] == t, frame
        assert frame["name"] == f"{video}-{t + 1:07d}.jpg", frame["name"]
        rles = []
        ids = [label["id"] for label in frame["labels"]]
        assert len(ids) == len(set(ids)) and all(i.isdigit() for i in ids), ids
        for label in frame["labels"]:
            assert label["category"] in labels, label["category"]
            assert 0.0 <= label["score"] <= 1.0, label["score"]
            mask = decode(label["rle"], width, height, f"bdd100k frame {t} label {label['id']}")
            assert mask.any(), (t, label["id"])
            rles.append({"size": label["rle"]["size"], "counts": label["rle"]["counts"].encode()})
        assert_disjoint(rles, f"bdd100k frame {t}")
        result[t] = sorted(r["counts"] for r in rles)
    return result


# --- TrackEval against vmt-eval -------------------------------------------------------------------

def as_pedestrians(rows):
    """TrackEval's MOTSChallenge scores class 2 (pedestrian) only, the demo model's classes are
    shapes: every object becomes class 2 with id 2000 + k (k = 1, 2, ... per original id), the
    masks and the frames unchanged."""
    renumber = {track: 2000 + k for k, track in enumerate(sorted({r[1] for r in rows}), 1)}
    return [(t, renumber[track], 2, h, w, counts) for t, track, _, h, w, counts in rows]


def perturbed(rows):
    """A deterministic 'ground truth' that differs from the tracker: every third line dropped
    (tracker false positives), every fourth remaining mask loses its bottom pixel row (IoU < 1,
    so sMOTSA < MOTSA), and the two most frequent ids swapped from the middle frame on (identity
    switches). Masks only shrink: they stay disjoint."""
    kept = [row for index, row in enumerate(rows) if index % 3 != 2]
    for index in range(0, len(kept), 4):
        t, track, cls, h, w, counts = kept[index]
        mask = mask_utils.decode({"size": [h, w], "counts": counts.encode()})
        rows_used = np.nonzero(mask.any(axis=1))[0]
        if len(rows_used) > 1:
            mask[rows_used[-1], :] = 0
            counts = mask_utils.encode(np.asfortranarray(mask))["counts"].decode()
            kept[index] = (t, track, cls, h, w, counts)
    counts = {}
    for row in kept:
        counts[row[1]] = counts.get(row[1], 0) + 1
    a, b = sorted(counts, key=lambda track: (-counts[track], track))[:2]
    middle = (min(r[0] for r in rows) + max(r[0] for r in rows)) // 2
    swap = {a: b, b: a}
    return [(t, swap.get(track, track) if t >= middle else track, *rest)
            for t, track, *rest in kept]


def write_mots(path, rows):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        for row in rows:
            f.write(" ".join(map(str, row)) + "\n")


def trackeval_scores(root, gt_rows, tracker_rows):
    """TrackEval 1.3.0 MOTSChallenge on one sequence `demo` of FRAMES frames, single process, no
    output files, no plots; returns HOTA, sMOTSA, MOTSA, IDF1 of class pedestrian as fractions."""
    write_mots(f"{root}/gt/demo/gt/gt.txt", gt_rows)
    write_mots(f"{root}/trackers/vmt/data/demo.txt", tracker_rows)
    eval_config = {
        "USE_PARALLEL": False, "BREAK_ON_ERROR": True, "LOG_ON_ERROR": f"{root}/error_log.txt",
        "PRINT_RESULTS": False, "PRINT_CONFIG": False, "TIME_PROGRESS": False,
        "OUTPUT_SUMMARY": False, "OUTPUT_DETAILED": False, "PLOT_CURVES": False,
        "OUTPUT_EMPTY_CLASSES": False,
    }
    dataset_config = {
        "GT_FOLDER": f"{root}/gt", "TRACKERS_FOLDER": f"{root}/trackers",
        "OUTPUT_FOLDER": f"{root}/out", "TRACKERS_TO_EVAL": ["vmt"], "SKIP_SPLIT_FOL": True,
        "SEQ_INFO": {"demo": FRAMES}, "CLASSES_TO_EVAL": ["pedestrian"], "PRINT_CONFIG": False,
    }
    metric_config = {"PRINT_CONFIG": False, "THRESHOLD": 0.5}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        evaluator = trackeval.Evaluator(eval_config)
        dataset = trackeval.datasets.MOTSChallenge(dataset_config)
        metrics = [trackeval.metrics.HOTA(metric_config), trackeval.metrics.CLEAR(metric_config),
                   trackeval.metrics.Identity(metric_config)]
        output, messages = evaluator.evaluate([dataset], metrics)
    assert messages["MOTSChallenge"]["vmt"] == "Success", (messages, printed.getvalue())
    res = output["MOTSChallenge"]["vmt"]["COMBINED_SEQ"]["pedestrian"]
    # TrackEval's CLEAR names them sMOTA / MOTA; on masks they are sMOTSA / MOTSA
    return {"HOTA": float(np.mean(res["HOTA"]["HOTA"])), "sMOTSA": float(res["CLEAR"]["sMOTA"]),
            "MOTSA": float(res["CLEAR"]["MOTA"]), "IDF1": float(res["Identity"]["IDF1"])}


def vmt_eval_scores(gt_path, tracker_path):
    result = run([VMT_EVAL, "mots", gt_path, tracker_path, "--benchmark", "motschallenge",
                  "--json"], timeout=120)
    assert result.returncode == 0, f"vmt-eval exit {result.returncode}: {result.stderr}"
    scores = json.loads(result.stdout)["pedestrian"]
    return {key: scores[key] / 100 for key in ("HOTA", "sMOTSA", "MOTSA", "IDF1")}


def check_trackeval(folder, mots_path):
    tracker = as_pedestrians(read_mots(mots_path))
    gt = perturbed(tracker)
    # the export against itself: perfect
    same = trackeval_scores(f"{folder}/self", tracker, tracker)
    for key, value in same.items():
        assert abs(value - 1.0) < 1e-9, ("self", key, value)
    # against the perturbed copy: TrackEval and vmt-eval agree on every number
    ours_gt, ours_tracker = f"{folder}/pair/gt.txt", f"{folder}/pair/demo.txt"
    write_mots(ours_gt, gt)
    write_mots(ours_tracker, tracker)
    reference = trackeval_scores(f"{folder}/pair", gt, tracker)
    ours = vmt_eval_scores(ours_gt, ours_tracker)
    print(f"TrackEval {reference}\nvmt-eval  {ours}", flush=True)
    assert reference["sMOTSA"] < reference["MOTSA"], reference
    for key, value in reference.items():
        assert value != 0.0 and value < 1.0, ("neither 0 nor perfect", key, value)
        assert abs(value - ours[key]) <= 1e-6, (key, value, ours[key])


def test_exports_parse_with_reference_readers():
    labels = model_labels(DEMO_MODEL)
    with temporary_folder() as folder:
        width, height = run_export_pipeline(folder)
        for name in FORMATS.values():
            assert os.path.isfile(f"{folder}/{name}"), f"{name} was not written"
            assert not os.path.exists(f"{folder}/{name}.part"), f"{name}.part was left"
        check_youtube_vis(f"{folder}/demo.json", width, height, labels)
        mots = check_mots(f"{folder}/demo.txt", 1, width, height)
        kitti = check_mots(f"{folder}/demo-kitti.txt", 0, width, height)
        assert mots == kitti, "MOTSChallenge and KITTI-MOTS files differ beyond the frame base"
        bdd = check_bdd100k(f"{folder}/demo-bdd.json", width, height, labels)
        for t in range(FRAMES):  # the same non-overlapping masks in MOTS and BDD100K
            assert bdd[t] == sorted(rle["counts"] for _, _, rle in mots.get(t, [])), t
        check_trackeval(folder, f"{folder}/demo.txt")


if __name__ == "__main__":
    main([test_exports_parse_with_reference_readers])
