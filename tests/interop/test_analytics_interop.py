#!/usr/bin/env python3
"""vmtsegment's results through upstream GStreamer (>= 1.26) alone: objectdetectionoverlay draws
the boxes of our object-detection mtds, and a reader using only the GstAnalytics GI bindings gets
the same boxes, labels, scores, track ids and masks as GstVmtFrameMeta (read through GstVmt) —
both this file's strict reader and the example reader of docs/elements.md.

The shipped demo model (trained on synthetic shapes) finds the ball of videotestsrc with boxes
around it, so the overlay's strokes can be told from the rest of the frame. Runs under meson
(suite interop) with GST_PLUGIN_PATH, GI_TYPELIB_PATH and VMT_SOURCE_ROOT set; exit code 77
(skipped) without PyGObject, numpy or the GstAnalytics typelib."""
import os
import re
import sys

try:
    import gi

    gi.require_version("Gst", "1.0")
    gi.require_version("GstAnalytics", "1.0")
    gi.require_version("GstVideo", "1.0")
    gi.require_version("GstVmt", "1.0")
    from gi.repository import GLib, Gst, GstAnalytics, GstVideo, GstVmt
    import numpy as np
except (ImportError, ValueError) as error:
    print(f"SKIP: {error}")
    sys.exit(77)

Gst.init(None)
WIDTH, HEIGHT, FRAMES = 160, 120, 10
SOURCE_ROOT = os.environ.get("VMT_SOURCE_ROOT") or os.path.join(os.path.dirname(__file__), "..", "..")
MODEL = os.path.join(SOURCE_ROOT, "pipelines", "demo", "vmt_demo.safetensors")
# Cairo strokes a 1 px outline around the box edge, antialiased: every pixel the overlay touches
# lies this close to an edge of some box.
EDGE_TOLERANCE = 2


def frames_through(overlay):
    """The buffers of `FRAMES` ball frames through vmtsegment and then a tee: (plain, drawn), one
    branch as it is, one through `overlay`. Appsinks keep every buffer (wait-on-eos=false: EOS
    does not wait for the application to pull them)."""
    pipeline = Gst.parse_launch(
        f"videotestsrc pattern=ball num-buffers={FRAMES} ! "
        f"video/x-raw,format=RGB,width={WIDTH},height={HEIGHT},framerate=30/1 ! "
        f"vmtsegment model=\"{MODEL}\" device=cpu input-size=96 mode=offline clip-length=5 "
        f"clip-overlap=1 ! tee name=t "
        f"t. ! queue ! appsink name=plain sync=false wait-on-eos=false "
        f"t. ! queue ! {overlay} ! appsink name=drawn sync=false wait-on-eos=false")
    try:
        pipeline.set_state(Gst.State.PLAYING)
        message = pipeline.get_bus().timed_pop_filtered(
            120 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        assert message is not None, "the pipeline did not finish within 120 s"
        if message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            raise AssertionError(f"pipeline error: {error.message} ({debug})")
        outputs = {}
        for name in ("plain", "drawn"):
            sink = pipeline.get_by_name(name)
            samples = []
            while (sample := sink.emit("try-pull-sample", 0)) is not None:
                samples.append(sample.get_buffer())
            outputs[name] = samples
    finally:
        pipeline.set_state(Gst.State.NULL)
    assert len(outputs["plain"]) == FRAMES and len(outputs["drawn"]) == FRAMES, \
        {k: len(v) for k, v in outputs.items()}
    return outputs["plain"], outputs["drawn"]


def rgb(buffer):
    ok, info = buffer.map(Gst.MapFlags.READ)
    assert ok
    try:
        return np.frombuffer(info.data, np.uint8).reshape(HEIGHT, WIDTH, 3).copy()
    finally:
        buffer.unmap(info)


def analytics_instances(buffer):
    """The objects of the buffer's GstAnalyticsRelationMeta, read with the GI bindings only."""
    rmeta = GstAnalytics.buffer_get_analytics_relation_meta(buffer)
    assert rmeta is not None, "no GstAnalyticsRelationMeta on the buffer"
    ods, tracks, segmentations = [], {}, {}
    # (iterate() with a NULL state is unusable from Python: walk the mtd ids instead.)
    for mtd_id in range(GstAnalytics.relation_get_length(rmeta)):
        found, od = rmeta.get_od_mtd(mtd_id)
        if found:
            ods.append(od)
            continue
        found, track = rmeta.get_tracking_mtd(mtd_id)
        if found:
            tracks[mtd_id] = track
            continue
        found, segmentation = rmeta.get_segmentation_mtd(mtd_id)
        if found:
            segmentations[mtd_id] = segmentation

    related = lambda a, b: rmeta.get_relation(a, b) & GstAnalytics.RelTypes.RELATE_TO
    objects = []
    for od in ods:
        ok, x, y, w, h, score = od.get_location()
        assert ok
        track = [t for i, t in tracks.items() if related(od.id, i)]
        assert len(track) == 1, f"OD mtd {od.id}: {len(track)} related tracking mtds"
        ok, track_id, first_seen, last_seen, lost = track[0].get_info()
        assert ok
        mask = None
        segmentation = [s for i, s in segmentations.items() if related(od.id, i)]
        if segmentation:
            (s,) = segmentation
            assert related(s.id, od.id), "segmentation mtd not related back to its OD mtd"
            regions = [s.get_region_id(i) for i in range(s.get_region_count())]
            mask_buffer, mx, my, mw, mh = s.get_mask()
            assert (mx, my, mw, mh) == (x, y, w, h), ((mx, my, mw, mh), (x, y, w, h))
            vmeta = GstVideo.buffer_get_video_meta(mask_buffer)
            assert vmeta.format == GstVideo.VideoFormat.GRAY8, vmeta.format
            ok, info = mask_buffer.map(Gst.MapFlags.READ)
            assert ok
            stride = vmeta.stride[0]
            rows = np.frombuffer(info.data, np.uint8)[vmeta.offset[0]:]
            values = np.stack([rows[r * stride:r * stride + vmeta.width]
                               for r in range(vmeta.height)])
            mask_buffer.unmap(info)
            assert regions[0] == 0 and len(regions) == 2, regions
            assert set(np.unique(values)) <= {0, regions[1]}, (np.unique(values), regions)
            mask = (values == regions[1]).astype(np.uint8)
        objects.append({
            "box": (x, y, w, h), "label": GLib.quark_to_string(od.get_obj_type()),
            "score": score, "track_id": track_id, "first_seen": first_seen,
            "last_seen": last_seen, "lost": lost, "mask": mask})
    return objects


def docs_reader():
    """The `objects(buffer)` example of docs/elements.md ("Python through the GstAnalytics
    bindings"), run as it is written."""
    with open(os.path.join(SOURCE_ROOT, "docs", "elements.md"), encoding="utf-8") as doc:
        text = doc.read()
    section = text.split("### Python through the GstAnalytics bindings", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    namespace = {}
    exec(compile(code, "docs/elements.md", "exec"), namespace)
    return namespace["objects"]


def vmt_instances(buffer):
    meta = GstVmt.buffer_get_vmt_frame_meta(buffer)
    assert meta is not None
    out = []
    for i in range(meta.get_n_instances()):
        inst = meta.get_instance(i)
        m = inst.get_mask()
        mask = None if m is None else \
            np.frombuffer(m.get_data(), np.uint8).reshape(inst.height, inst.width)
        out.append({"box": (inst.x, inst.y, inst.width, inst.height), "label": inst.label,
                    "score": inst.score, "track_id": inst.track_id,
                    "first_seen": inst.first_seen, "last_seen": inst.last_seen, "mask": mask})
    return meta, out


def check_docs_reader_matches(plain):
    """The documented reader yields (label, score, box, track id, mask) as GstVmtFrameMeta has."""
    objects = docs_reader()
    for buffer in plain:
        _, expected = vmt_instances(buffer)
        got = list(objects(buffer))
        assert len(got) == len(expected), (len(got), len(expected))
        for (label, score, box, track_id, mask), e in zip(got, expected):
            assert (label, box, track_id) == (e["label"], e["box"], e["track_id"])
            assert abs(score - e["score"]) < 1e-6
            assert (mask is None) == (e["mask"] is None)
            if mask is not None:
                assert np.array_equal(mask, e["mask"]), "documented reader: mask differs"


def check_reader_matches(plain):
    """The strict GI reader sees exactly what GstVmtFrameMeta holds."""
    total = 0
    pts_of = {GstVmt.buffer_get_vmt_frame_meta(b).frame_index: b.pts for b in plain}
    for buffer in plain:
        meta, expected = vmt_instances(buffer)
        got = analytics_instances(buffer)
        assert len(got) == len(expected), (meta.frame_index, len(got), len(expected))
        for a, e in zip(got, expected):
            assert a["box"] == e["box"], (a["box"], e["box"])
            assert a["label"] == e["label"], (a["label"], e["label"])
            assert abs(a["score"] - e["score"]) < 1e-6, (a["score"], e["score"])
            assert a["track_id"] == e["track_id"], (a["track_id"], e["track_id"])
            # Tracking times are the PTS of frames first_seen / last_seen, estimated from this
            # buffer's PTS and duration: videotestsrc's durations alternate between 33333333 and
            # 33333334 ns at 30/1, so the estimate may be off by up to a nanosecond per frame back.
            for key in ("first_seen", "last_seen"):
                back = meta.frame_index - e[key]
                true_pts = pts_of[e[key]]
                assert abs(a[key] - true_pts) <= back + 1, (key, a[key], true_pts, back)
            assert not a["lost"]
            assert (a["mask"] is None) == (e["mask"] is None)
            if e["mask"] is not None:
                assert np.array_equal(a["mask"], e["mask"]), "mask differs from GstVmtMask"
            total += 1
    assert total > 0, "the demo model found no instance: nothing was compared"
    return total


def near_box_edge(boxes):
    """Pixels within EDGE_TOLERANCE of an edge of one of `boxes`."""
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH]
    near = np.zeros((HEIGHT, WIDTH), bool)
    t = EDGE_TOLERANCE
    for x, y, w, h in boxes:
        inside_outer = (xs >= x - t) & (xs < x + w + t) & (ys >= y - t) & (ys < y + h + t)
        inside_inner = (xs >= x + t) & (xs < x + w - t) & (ys >= y + t) & (ys < y + h - t)
        near |= inside_outer & ~inside_inner
    return near


def check_overlay_draws_boxes(plain, drawn):
    """objectdetectionoverlay changed pixels only along our boxes' edges, and along each box."""
    boxes_drawn = 0
    for p, d in zip(plain, drawn):
        _, instances = vmt_instances(p)
        before, after = rgb(p), rgb(d)
        changed = np.any(before != after, axis=2)
        boxes = [inst["box"] for inst in instances]
        if not boxes:
            assert not changed.any(), "pixels changed on a frame without detections"
            continue
        assert not (changed & ~near_box_edge(boxes)).any(), \
            "objectdetectionoverlay drew away from every box edge"
        for box in boxes:
            x, y, w, h = box
            if w < 3 or h < 3:
                continue
            ring = near_box_edge([box])
            assert changed[ring].mean() > 0.3, f"box {box}: its outline was not drawn"
            boxes_drawn += 1
    assert boxes_drawn > 0, "no box was large enough to check"
    return boxes_drawn


def main():
    plain, drawn = frames_through("objectdetectionoverlay draw-labels=false")
    compared = check_reader_matches(plain)
    check_docs_reader_matches(plain)
    boxes = check_overlay_draws_boxes(plain, drawn)
    print(f"ok: {compared} instances read through GstAnalytics equal GstVmtFrameMeta; "
          f"objectdetectionoverlay drew {boxes} boxes")


if __name__ == "__main__":
    main()
