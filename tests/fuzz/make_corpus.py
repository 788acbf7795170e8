#!/usr/bin/env python3
"""Writes the hand-made seeds of the safetensors fuzz corpus (corpus/safetensors/seed-*).

Run: .venv/bin/python tests/fuzz/make_corpus.py
The valid seeds come from the reference writer via tests/fixtures/safetensors/; the rest are
crafted to reach each rejection rule. Inputs found by libFuzzer (tools/fuzz-safetensors.sh) sit
beside them under their SHA-1 names.
"""
import json
import pathlib
import struct

HERE = pathlib.Path(__file__).resolve().parent
OUT = HERE / "corpus" / "safetensors"
FIXTURES = HERE.parent / "fixtures" / "safetensors"


def image(header, data=b"", length=None):
    text = header.encode() if isinstance(header, str) else header
    return struct.pack("<Q", len(text) if length is None else length) + text + data


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def header(tensors, metadata=None):
    obj = {"__metadata__": metadata} if metadata is not None else {}
    obj.update(tensors)
    return json.dumps(obj, separators=(",", ":"))


def seeds():
    small = (FIXTURES / "small.safetensors").read_bytes()
    module = (FIXTURES / "module.safetensors").read_bytes()
    two = header({"a": entry("F32", [2], 0, 8), "b": entry("I64", [1], 8, 16)}, {"vmt.format_version": "1"})
    yield "valid-small", small
    yield "valid-module", module
    yield "valid-two", image(two, bytes(16))
    yield "valid-empty", image("{}")
    yield "valid-padded", image("{}      ")
    yield "valid-zero-dim", image(header({"z": entry("BF16", [0, 9223372036854775807], 0, 0)}))
    yield "truncated-data", module[:-1]
    yield "truncated-header", module[:40]
    yield "truncated-length", module[:5]
    flipped = bytearray(module)
    flipped[30] ^= 0x01
    yield "flipped-header", bytes(flipped)
    flipped = bytearray(small)
    flipped[0] ^= 0x80
    yield "flipped-length", bytes(flipped)
    yield "giant-length", image("{}", length=2**64 - 1)
    yield "length-past-end", image("{}", length=1000)
    yield "not-safetensors-text", b"This is a plain text file, not a tensor file.\n"
    yield "not-safetensors-png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0"
    yield "bad-json", image('{"a":{"dtype":"F32",')
    yield "bad-utf8", image(b'{"a\xff":{}}')
    yield "bad-nul", image(b"{}\0\0")
    yield "bad-start", image('[{"a":1}]')
    yield "dup-key", image('{"a":' + json.dumps(entry("U8", [1], 0, 1)) + ',"a":' + json.dumps(entry("U8", [1], 1, 2)) + "}", bytes(2))
    yield "deep", image('{"__metadata__":{"k":{"x":[[[[1]]]]}}}')
    yield "metadata-not-string", image(header({}, {"vmt.format_version": 1}))
    yield "shape-overflow", image(header({"w": entry("F32", [4294967296, 4294967296, 16], 0, 0)}))
    yield "shape-negative", image(header({"w": entry("F32", [-1], 0, 4)}), bytes(4))
    yield "shape-float", image(header({"w": entry("F32", [1.5], 0, 4)}), bytes(4))
    yield "offsets-reversed", image(header({"w": entry("F32", [0], 8, 0)}), bytes(8))
    yield "offsets-past-end", image(header({"w": entry("F32", [2], 0, 2**64 - 1)}), bytes(8))
    yield "size-mismatch", image(header({"w": entry("F32", [3], 0, 8)}), bytes(8))
    yield "overlap", image(header({"a": entry("F32", [2], 0, 8), "b": entry("F32", [2], 4, 12)}), bytes(12))
    yield "gap", image(header({"a": entry("F32", [1], 0, 4), "b": entry("F32", [1], 8, 12)}), bytes(12))
    yield "trailing-bytes", image(header({"a": entry("F32", [1], 0, 4)}), bytes(9))
    yield "unknown-dtype", image(header({"a": entry("U32", [1], 0, 4)}), bytes(4))
    yield "extra-field", image('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":0}}', bytes(4))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in seeds():
        (OUT / f"seed-{name}").write_bytes(data)


if __name__ == "__main__":
    main()
