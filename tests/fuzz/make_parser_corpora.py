#!/usr/bin/env python3
"""Writes the seeds of the parser fuzz corpora (corpus/{rle,model-config,ytvis,mots,bdd100k}/
seed-*): the evaluation fixtures of tests/fixtures/, the model presets' configurations, and
hand-made inputs that reach each rejection rule. Inputs found by libFuzzer (tools/fuzz.sh TARGET)
sit beside them under their SHA-1 names.

Run: .venv/bin/python tests/fuzz/make_parser_corpora.py [build/tools/vmt-model]
(the presets' configurations come from `vmt-model config`; without it those seeds are kept)."""
import json
import pathlib
import struct
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "fixtures"
CORPUS = HERE / "corpus"


def write(target, name, data):
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"seed-{name}").write_bytes(data.encode() if isinstance(data, str) else data)


def rle_seeds():
    """u32 height, u32 width (little endian), then the counts string."""
    lines = (FIXTURES / "rle" / "rle_fixtures.txt").read_text().splitlines()
    for i, line in enumerate(line for line in lines if line.startswith("bits ")):
        if i >= 12:
            break
        _, h, w, _, counts, *_ = line.split()
        write("rle", f"fixture-{i}", struct.pack("<II", int(h), int(w)) + counts.encode())
    for name, (h, w, counts) in {
        "empty-mask": (0, 0, ""),
        "one-pixel": (1, 1, "01"),
        "bad-character": (2, 2, "0~"),
        "truncated-number": (4, 4, "0_"),
        "too-few-pixels": (4, 4, "02"),
        "too-many-pixels": (2, 2, "09"),
        "negative-run": (4, 4, "0R1"),
        "huge-size": (0xFFFFFFFF, 0xFFFFFFFF, "0"),
    }.items():
        write("rle", name, struct.pack("<II", h, w) + counts.encode())


def config_seeds(vmt_model):
    if vmt_model:
        for preset in ("vmt_r50", "vmt_r101", "tiny", "small", "fast"):
            text = subprocess.run([vmt_model, "config", "--preset", preset], check=True,
                                  capture_output=True, text=True).stdout.strip()
            write("model-config", f"preset-{preset}", text)
    for name, text in {
        "empty-object": "{}",
        "not-an-object": "[1, 2]",
        "wrong-type": '{"hidden_dim": "wide"}',
        "unknown-field": '{"hidden_dim": 256, "colour": "blue"}',
        "invalid-value": '{"nheads": 0}',
        "float-for-int": '{"num_queries": 1e30}',
        "negative": '{"enc_layers": -3, "resnet_depths": [-1, 2]}',
        "truncated": '{"hidden_dim": 25',
    }.items():
        write("model-config", name, text)


def ytvis_seeds():
    for name in ("gt", "results", "results_perfect", "results_empty"):
        write("ytvis", f"fixture-{name}", (FIXTURES / "eval" / "ytvis" / f"{name}.json").read_bytes())
    video = {"id": 1, "height": 2, "width": 3, "length": 2}
    mask = {"size": [2, 3], "counts": [1, 2, 3]}
    for name, doc in {
        "crowd-and-refined": {
            "videos": [video], "categories": [{"id": 4}],
            "annotations": [{"id": 1, "video_id": 1, "category_id": 4, "iscrowd": 1,
                             "areas": [2, None], "segmentations": [mask, None],
                             "segmentations_refined": [mask, None]}]},
        "compressed-counts": {
            "videos": [video], "categories": [{"id": 1}],
            "annotations": [{"id": 1, "video_id": 1, "category_id": 1, "iscrowd": 0,
                             "areas": [6, 6], "segmentations": [{"size": [2, 3], "counts": "06"},
                                                                {"size": [2, 3], "counts": "06"}]}]},
        "polygon": {"videos": [video], "categories": [{"id": 1}],
                    "annotations": [{"id": 1, "video_id": 1, "category_id": 1,
                                     "segmentations": [[0, 0, 1, 1, 2, 0], None]}]},
        "result-for-fixed-gt": [{"video_id": 1, "category_id": 1, "score": 0.9,
                                 "segmentations": [{"size": [4, 6], "counts": [5, 2, 2, 2, 13]},
                                                   None, None]}],
        "result-wrong-size": [{"video_id": 2, "category_id": 2, "score": 0.5,
                               "segmentations": [{"size": [40, 60], "counts": [2400]}, None,
                                                 None]}],
        "result-unknown-video": [{"video_id": 9, "category_id": 1, "score": 1,
                                  "segmentations": [None, None, None]}],
    }.items():
        write("ytvis", name, json.dumps(doc))


def mots_seeds():
    for path in sorted((FIXTURES / "eval").glob("*mots*/**/*.txt")):
        if "seqmap" not in str(path):
            write("mots", f"fixture-{path.parent.parent.name}-{path.stem}", path.read_bytes())
    for name, text in {
        "ignore-region": "0 10000 10 2 3 06\n0 1001 1 2 3 06\n",
        "overlap": "0 1001 1 2 3 06\n0 1002 1 2 3 06\n",
        "bad-counts": "0 1001 1 2 3 0~\n",
        "short-line": "0 1001 1 2\n",
        "negative-frame": "-4 1001 1 1 1 01\n",
    }.items():
        write("mots", name, text)


def bdd_seeds():
    for name in ("gt", "pred"):
        write("bdd100k", f"fixture-{name}",
              (FIXTURES / "eval" / "bdd100k" / f"{name}.json").read_bytes())
    rle = {"size": [2, 3], "counts": "06"}
    for name, doc in {
        "frames-object": {"frames": [{"videoName": "v", "name": "f0", "frameIndex": 0,
                                      "labels": [{"id": "1", "category": "car", "rle": rle}]}]},
        "crowd-attribute": [{"videoName": "v", "frameIndex": 1,
                             "labels": [{"id": "2", "category": "pedestrian",
                                         "attributes": {"crowd": True}, "rle": rle}]}],
        "unknown-category": [{"videoName": "v", "frameIndex": 0,
                              "labels": [{"id": "3", "category": "dragon", "rle": rle}]}],
        "null-rle": [{"videoName": "v", "labels": [{"id": "4", "category": "car", "rle": None}]}],
    }.items():
        write("bdd100k", name, json.dumps(doc))


if __name__ == "__main__":
    rle_seeds()
    config_seeds(sys.argv[1] if len(sys.argv) > 1 else None)
    ytvis_seeds()
    mots_seeds()
    bdd_seeds()
