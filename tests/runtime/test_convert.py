"""vmt-convert on synthetic official-style checkpoints.

Usage: python test_convert.py TOOLS/vmt-convert BUILD/tools/vmt-model
The checkpoints are {'model': state_dict} files written by torch.save, with the keys and shapes
`vmt-model keys --preset tiny` lists; broken variants must fail with a clear message.
"""

import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors import safe_open

CONVERT, VMT_MODEL = sys.argv[1], sys.argv[2]
PYTHON = sys.executable
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def keys(preset):
    out = subprocess.run([VMT_MODEL, "keys", "--preset", preset], check=True,
                         capture_output=True, text=True).stdout
    return {line.rsplit(" ", 1)[0]: json.loads(line.rsplit(" ", 1)[1]) for line in out.splitlines()}


def convert(pth, out, *extra):
    return subprocess.run([PYTHON, CONVERT, pth, "-o", out, "--preset", "tiny",
                           "--vmt-model", VMT_MODEL, *extra], capture_output=True, text=True)


def check_one_line_error(name, proc, status, message):
    """Exit `status` with one line `vmt-convert: error: …` holding `message`, no traceback."""
    lines = [line for line in proc.stderr.splitlines() if line.startswith("vmt-convert: error:")]
    check(proc.returncode == status, f"{name}: exit {status} ({proc.returncode})")
    check(len(lines) == 1 and message in lines[0],
          f"{name}: one error line containing {message!r}: {proc.stderr.strip()}")
    check("Traceback" not in proc.stderr, f"{name}: no traceback")


def expect_failure(name, state_or_bytes, message, tmp, out=None, status=1, extra=()):
    pth = os.path.join(tmp, name + ".pth")
    if isinstance(state_or_bytes, bytes):
        with open(pth, "wb") as f:
            f.write(state_or_bytes)
    else:
        torch.save({"model": state_or_bytes}, pth)
    out = out or os.path.join(tmp, name + ".safetensors")
    proc = convert(pth, out, *extra)
    check_one_line_error(name, proc, status, message)
    check(not os.path.exists(out) or os.path.isdir(out), f"{name}: no output file")
    check(not os.path.exists(out + ".tmp"), f"{name}: no temporary file")


def main():
    expected = keys("tiny")
    check(len(expected) > 100, f"vmt-model keys lists {len(expected)} tensors")
    gen = torch.Generator().manual_seed(0)
    state = {k: torch.randn(shape, generator=gen) * 0.01 for k, shape in expected.items()}
    for k in state:
        if k.endswith("running_var"):
            state[k] = state[k].abs() + 1
    with tempfile.TemporaryDirectory() as tmp:
        pth = os.path.join(tmp, "checkpoint.pth")
        torch.save({"model": state, "epoch": 1}, pth)
        out = os.path.join(tmp, "model.safetensors")
        proc = convert(pth, out)
        check(proc.returncode == 0, f"converts a valid checkpoint: {proc.stderr.strip()}")
        if proc.returncode == 0:
            with safe_open(out, "np") as f:
                meta = f.metadata()
                check(set(f.keys()) == set(expected), "every key written")
                name = "detr.query_embed.weight"
                check(torch.equal(torch.from_numpy(f.get_tensor(name)), state[name]), "values kept")
            check(meta["vmt.format_version"] == "1", "format version")
            check(json.loads(meta["vmt.config"])["preset"] == "tiny", "config preset")
            labels = json.loads(meta["vmt.labels"])
            check(len(labels) == 40 and labels[0] == "person" and labels[-1] == "tennis_racket",
                  "YTVIS-2019 labels")
            info = subprocess.run([VMT_MODEL, "info", out], capture_output=True, text=True)
            check(info.returncode == 0 and "tiny" in info.stdout, "vmt-model info reads it")
            run = subprocess.run([VMT_MODEL, "run", out, "--frames", "2", "--size", "64x48",
                                  "--device", "cpu", "--input-size", "0"],
                                 capture_output=True, text=True)
            check(run.returncode == 0, f"the engine runs it: {run.stderr.strip()}")

        wrong = dict(state)
        wrong["detr.query_embed.weight"] = torch.zeros(3, 3)
        expect_failure("wrong_shape", wrong, "has shape [3, 3]", tmp)
        missing = dict(state)
        del missing["detr.class_embed.0.bias"]
        expect_failure("missing_key", missing, "missing key 'detr.class_embed.0.bias'", tmp)
        extra = dict(state)
        extra["detr.something_else.weight"] = torch.zeros(2)
        expect_failure("extra_key", extra, "unknown key 'detr.something_else.weight'", tmp)
        expect_failure("not_pickle", b"this is not a checkpoint\n" * 10,
                       "not a PyTorch checkpoint (neither the zip archive", tmp)
        expect_failure("empty", b"", "empty file, not a PyTorch checkpoint", tmp)
        expect_failure("damaged_pickle", b"\x80\x02" + b"garbage" * 5,
                       "damaged, or not a checkpoint", tmp)
        with open(out, "rb") as f:  # the model file written above
            expect_failure("safetensors", f.read(), "a safetensors file, not a PyTorch", tmp)
        # a valid checkpoint, but nowhere to write
        expect_failure("no_folder", state, "folder '" + os.path.join(tmp, "absent") +
                       "' does not exist", tmp, out=os.path.join(tmp, "absent", "m.safetensors"))
        expect_failure("folder_out", state, "it is a folder", tmp, out=tmp)
        expect_failure("bad_preset", state, "--preset expects one of vmt_r50, vmt_r101, tiny, small, fast, not 'nonsense'", tmp,
                       status=2, extra=("--preset", "nonsense"))
        proc = convert(os.path.join(tmp, "absent.pth"), os.path.join(tmp, "absent.safetensors"))
        check_one_line_error("absent", proc, 1, "no such file")
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
