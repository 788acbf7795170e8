#!/usr/bin/env python3
"""The held-out style of vmt-synth shares no shape, appearance or motion code with training.

usage: check_synth_heldout_independent.py <tools/synth source folder>
Reads the sources (no build needed) and checks that:
- tools/synth/heldout/* include, of the project, only each other, video.h (the interface),
  random.h (seeded randomness) and vmt/{error,mask}.h;
- they name none of the training styles' shape, texture, motion or rasteriser symbols;
- no training-style source (classic: scene, shapes, texture, raster; randomised/*) includes a
  held-out header;
- the shared headers (video.h, random.h) include nothing of the project but vmt/mask.h.
The writer (dataset.*) and the style factory (video.cpp) are the only files that see both.
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
ALLOWED_FOR_HELDOUT = {"video.h", "random.h", "vmt/error.h", "vmt/mask.h"}
TRAINING_SYMBOLS = [
    "ShapeClass", "unit_outline", "place_outline", "image_to_unit_frame", "Pose", "Affine",
    "rasterize_even_odd", "Contour", "RunSink", "Trajectory", "ObjectTexture", "BackgroundTile",
    "texture_colour", "hsv_to_rgb", "Pattern", "randomised", "Wobble", "ObjectLook", "FillKind",
    "BackgroundKind", "Distractor", "Camera", "fractal_noise",
]
TRAINING_FILES = ["scene.h", "scene.cpp", "shapes.h", "shapes.cpp", "texture.h", "texture.cpp",
                  "raster.h", "raster.cpp"]


def fail(message):
    print(f"FAIL: {message}")
    sys.exit(1)


def includes(path):
    return INCLUDE.findall(path.read_text(encoding="utf-8"))


def without_comments(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def main():
    root = pathlib.Path(sys.argv[1])
    heldout = sorted((root / "heldout").glob("*.[ch]*"))
    if len(heldout) < 4:
        fail(f"expected the held-out sources under {root / 'heldout'}, found {heldout}")
    for path in heldout:
        for name in includes(path):
            if not (name.startswith("heldout/") or name in ALLOWED_FOR_HELDOUT):
                fail(f"{path.name} includes \"{name}\" (allowed: heldout/*, {sorted(ALLOWED_FOR_HELDOUT)})")
        code = without_comments(path.read_text(encoding="utf-8"))
        for symbol in TRAINING_SYMBOLS:
            if re.search(rf"\b{symbol}\b", code):
                fail(f"{path.name} uses the training-style symbol {symbol}")
    training = [root / name for name in TRAINING_FILES] + sorted((root / "randomised").glob("*.[ch]*"))
    for path in training:
        if not path.is_file():
            fail(f"missing training-style source {path}")
        for name in includes(path):
            if name.startswith("heldout/"):
                fail(f"training-style source {path.name} includes {name}")
    for shared in ("video.h", "random.h"):
        for name in includes(root / shared):
            if name != "vmt/mask.h":
                fail(f"shared header {shared} includes {name}")
    print(f"OK: {len(heldout)} held-out sources independent of {len(training)} training-style sources")


if __name__ == "__main__":
    main()
