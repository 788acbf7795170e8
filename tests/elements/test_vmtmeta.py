#!/usr/bin/env python3
"""GstVmt from Python through the typelib (PyGObject, no custom bindings): build a buffer with a
GstVmtFrameMeta, read track ids and mask bytes with numpy. Exit code 77 (skip) without GstVmt."""
import os
import sys

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstVmt", "1.0")
    from gi.repository import Gst, GstVmt
    import numpy as np
except (ImportError, ValueError) as error:
    print(f"SKIP: {error}")
    sys.exit(77)

Gst.init(None)
WIDTH, HEIGHT = 32, 24

buffer = Gst.Buffer.new_allocate(None, WIDTH * HEIGHT * 4, None)
meta = GstVmt.buffer_add_vmt_frame_meta(buffer, 5, WIDTH, HEIGHT)
crop = np.zeros((3, 4), np.uint8)
crop[1:, 1:3] = 255
mask = GstVmt.Mask.new(4, 3, crop.tobytes())
meta.add_instance(7, 1, "car", 0.9, 2, 2, 4, 3, 0, 5, mask)
meta.add_instance(9, 2, "pedestrian", 0.6, 10, 8, 4, 3, 3, 5, mask)

# What a pad probe in an application does:
found = GstVmt.buffer_get_vmt_frame_meta(buffer)
assert found is not None, "no meta on the buffer"
assert found.frame_index == 5 and found.width == WIDTH and found.height == HEIGHT
assert not found.skipped
instances = [found.get_instance(i) for i in range(found.get_n_instances())]
assert [inst.track_id for inst in instances] == [7, 9], [inst.track_id for inst in instances]
assert [inst.label for inst in instances] == ["car", "pedestrian"]
assert abs(instances[0].score - 0.9) < 1e-6
assert (instances[1].x, instances[1].y, instances[1].width, instances[1].height) == (10, 8, 4, 3)

assert not instances[0].get_class_scores()  # none given

inst = instances[0]
m = inst.get_mask()
bitmap = np.frombuffer(m.get_data(), np.uint8).reshape(m.get_height(), m.get_width())
assert bitmap.shape == (inst.height, inst.width)
assert np.array_equal(bitmap, (crop > 0).astype(np.uint8)), bitmap

full = np.frombuffer(found.render_mask_bytes(0).get_data(), np.uint8).reshape(HEIGHT, WIDTH)
expected = np.zeros((HEIGHT, WIDTH), np.uint8)
expected[inst.y:inst.y + inst.height, inst.x:inst.x + inst.width] = bitmap
assert np.array_equal(full, expected)

counts = found.get_rle(0)
try:
    from pycocotools import mask as mask_utils
    reference = mask_utils.encode(np.asfortranarray(expected))["counts"].decode()
    assert counts == reference, (counts, reference)
except ImportError:
    assert counts, "empty RLE"

assert GstVmt.buffer_add_vmt_roi_metas(buffer) == 2

# Class scores as vmtsegment writes them (one instance per object, its score for every label).
pipeline = Gst.parse_launch(
    "videotestsrc num-buffers=1 pattern=ball ! video/x-raw,format=RGB,width=64,height=48 ! "
    f"vmtsegment device=cpu input-size=48 model=\"{os.environ['VMT_TEST_MODEL']}\" ! "
    "appsink name=sink")
pipeline.set_state(Gst.State.PLAYING)
sample = pipeline.get_by_name("sink").emit("pull-sample")
segmented = GstVmt.buffer_get_vmt_frame_meta(sample.get_buffer())
assert segmented is not None and segmented.get_n_instances() > 0
for i in range(segmented.get_n_instances()):
    inst = segmented.get_instance(i)
    scores = list(inst.get_class_scores())
    assert len(scores) == 6, scores  # the test model's labels
    assert abs(inst.score - scores[inst.class_id - 1]) < 1e-6 and abs(inst.score - max(scores)) < 1e-6
pipeline.set_state(Gst.State.NULL)
print("ok: track ids", [inst.track_id for inst in instances], "mask area", int(bitmap.sum()))
