// Identity across tubes: turns the instances the model found in one tube (clip or online window)
// into per-frame results with track ids that stay stable from one tube to the next.
//
// Rules (VMT supplement §3):
//  - instances with a score below `min_score` (0.001) are dropped;
//  - at most `max_instances_per_frame` instances per emitted frame (10 for YTVIS, 25 for OVIS), the
//    highest scores first; an instance whose mask is empty on a frame is absent from that frame;
//  - Association::None (the paper's default for clips): every tube's instances get fresh ids;
//  - Association::TubeMaskIoU (the option for clips, and how online windows keep identities): the
//    new tube's instances are matched greedily to the previous tube's by Tube Mask IoU (of their
//    association masks) on the frames both tubes contain, highest IoU first, each side used once,
//    only at IoU ≥ `match_iou`. When the
//    tubes share no frame (online L = 1, clips with O = 0) the previous tube's last frame is compared
//    with the new tube's first frame instead, if they are adjacent. Unmatched instances get new ids.
//  - Ids start at 1 and never repeat within a stream (0 is never a track id).
#pragma once

#include <cstdint>
#include <vector>

#include "vmt/mask.h"
#include "vmt/tube.h"

namespace vmt {

/// One instance the model found in a tube. Two sets of masks, one per frame of the tube each:
///  - `masks` are what association compares: the instance on every frame, at any resolution
///    common to the stream (the engine gives the model's cheap coarse masks here, or the final
///    masks in its `all-frames` mode); an empty mask = absent;
///  - `frame_masks` are what is emitted: the final masks, at the frame's resolution, cropped to
///    their boxes. Only the frames a job emits need them (the engine computes no others; an
///    empty CroppedMask = absent there).
struct TubeInstance {
  float score = 0.f;       ///< confidence in [0, 1]
  int category = 0;        ///< class id as the model numbers it
  std::vector<Rle> masks;  ///< association masks, one per frame of the tube, in order
  std::vector<CroppedMask> frame_masks;  ///< final masks, one per frame of the tube, in order
  /// The object's score for every class: class_scores[c − 1] for category c (may be empty).
  std::vector<float> class_scores;
};

/// Everything the model found in one tube.
struct TubeResult {
  FrameRange frames;                    ///< must equal the job's `frames`
  std::vector<TubeInstance> instances;  ///< any order
};

/// One instance on one output frame.
struct TrackedInstance {
  std::uint64_t track_id = 0;
  float score = 0.f;
  int category = 0;
  CroppedMask mask;  ///< its final mask on the frame (never empty)
  std::vector<float> class_scores;  ///< TubeInstance::class_scores
};

/// The final result of one frame: its instances, highest score first.
struct FrameResult {
  std::int64_t frame = 0;
  std::vector<TrackedInstance> instances;
};

/// How instances of consecutive tubes are linked.
enum class Association {
  None,         ///< fresh ids for every tube (clips concatenated without association)
  TubeMaskIoU,  ///< greedy Tube Mask IoU matching on the shared frames
};

/// Identity settings; the defaults are the paper's offline YTVIS setting.
struct IdentityConfig {
  Association association = Association::None;
  double match_iou = 0.5;          ///< TubeMaskIoU: smallest IoU that links two instances, in (0, 1]
  float min_score = 0.001f;        ///< instances scoring below are dropped
  int max_instances_per_frame = 10;  ///< K (10 YTVIS, 25 OVIS); 0 = no limit

  /// The setting for online windows: association by tube IoU on the shared frames.
  static IdentityConfig online() {
    IdentityConfig config;
    config.association = Association::TubeMaskIoU;
    return config;
  }
};

/// Assigns track ids to the instances of successive tubes and splits them into frames.
class IdentityAssigner {
 public:
  /// Validates `config`; throws vmt::Error (InvalidArgument) for a match_iou outside (0, 1],
  /// a negative or non-finite min_score, or a negative max_instances_per_frame.
  explicit IdentityAssigner(const IdentityConfig& config);

  /// Takes the model's result for `job` (jobs in the scheduler's order) and returns one
  /// FrameResult per frame of `job.emit`, in order (possibly with no instance), with the
  /// instances' frame_masks. Throws if `result.frames` differs from `job.frames`, an instance has
  /// the wrong number of masks or frame masks, or a score is NaN. A job with index 0 starts a new sequence: nothing is matched against the past.
  std::vector<FrameResult> assign(const TubeJob& job, const TubeResult& result);

  /// Flush/seek: forgets the previous tube so nothing is matched across the discontinuity; ids
  /// keep counting so they still never repeat.
  void reset();

  /// A new stream: like reset(), and ids start again at 1.
  void start_new_stream();

  /// The id the next new instance will get.
  std::uint64_t next_track_id() const noexcept { return next_id_; }

  /// The configuration in use.
  const IdentityConfig& config() const noexcept { return config_; }

 private:
  // What the next tube may be matched against: the kept instances of the previous tube, with
  // their masks on the frames a later tube can share (plus the last frame, for the adjacent case).
  struct Remembered {
    std::uint64_t track_id = 0;
    std::vector<Rle> masks;  // frames `memory_frames_`
  };

  std::vector<std::uint64_t> match(const TubeResult& result,
                                   const std::vector<std::size_t>& order) const;

  IdentityConfig config_;
  std::uint64_t next_id_ = 1;
  FrameRange memory_frames_;
  std::vector<Remembered> memory_;
};

}  // namespace vmt
