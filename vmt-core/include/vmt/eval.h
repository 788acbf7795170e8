// Evaluation of video instance segmentation and multi-object tracking and segmentation (MOTS),
// reproducing the reference evaluators number for number:
//  - YouTube-VIS / HQ-YTVIS: Tube-Mask AP and Tube-Boundary AP of the official HQ-YTVIS evaluator
//    (`cocoapi_hq` ytvoseval + boundary_utils in SysCV/vmt);
//  - MOTSChallenge / KITTI-MOTS txt: sMOTSA, MOTSA, MOTSP (TrackEval CLEAR), IDF1 (TrackEval
//    Identity) and HOTA (TrackEval HOTA);
//  - BDD100K MOTS (Scalabel JSON): mMOTSA, mMOTSP, mIDF1 of the bdd100k toolkit's `seg_track`
//    (scalabel + py-motmetrics).
// Plain C++20, no torch, no GStreamer; invalid input throws vmt::Error. Scores are fractions in
// [0, 1] unless a name says otherwise (the summaries print them as the references do).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "vmt/mask.h"

namespace vmt::eval {

// ================================================================================================
// YouTube-VIS / HQ-YTVIS
// ================================================================================================

/// One video of a YouTube-VIS ground truth.
struct VisVideo {
  std::int64_t id = 0;
  MaskSize size;            ///< height × width of every frame
  std::size_t length = 0;   ///< number of frames (length of `segmentations` lists)
};

/// A video-level instance: a ground-truth annotation or a predicted track.
struct VisTrack {
  std::int64_t id = 0;               ///< annotation id (gt) or 1-based position in the results (dt)
  std::int64_t video_id = 0;
  std::int64_t category_id = 0;
  double score = 1.0;                ///< predictions only
  bool iscrowd = false;              ///< ground truth only; crowd tracks are ignored, never missed
  std::vector<std::optional<Rle>> masks;    ///< one slot per frame; nullopt = absent (JSON null)
  /// Masks the boundary band is taken from: HQ-YTVIS `segmentations_refined` when the ground truth
  /// has it (the official code does so), else empty and `masks` is used.
  std::vector<std::optional<Rle>> boundary_source;
  /// Mean of the nonzero per-frame areas (ground truth: its `areas` field, as the official code).
  double avg_area = 0.0;
};

/// A YouTube-VIS ground truth: videos, category ids (sorted) and annotations.
struct VisGroundTruth {
  std::vector<VisVideo> videos;
  std::vector<std::int64_t> category_ids;
  std::vector<VisTrack> annotations;
};

/// Parses a YouTube-VIS / HQ-YTVIS ground-truth JSON document (compressed or uncompressed RLE;
/// polygons are rejected).
VisGroundTruth parse_vis_ground_truth(std::string_view json_text);
/// Reads and parses a ground-truth file.
VisGroundTruth load_vis_ground_truth(const std::filesystem::path& path);

/// Parses a YouTube-VIS results JSON array (what `vmtexport` writes) against its ground truth:
/// ids are assigned 1, 2, … in file order; results of unknown videos throw.
std::vector<VisTrack> parse_vis_results(std::string_view json_text, const VisGroundTruth& gt);
/// Reads and parses a results file.
std::vector<VisTrack> load_vis_results(const std::filesystem::path& path, const VisGroundTruth& gt);

/// Which IoU the matching uses.
enum class VisIouType {
  Mask,      ///< Tube-Mask IoU (official iouType 'segm')
  Boundary,  ///< min(Tube-Mask IoU, Tube-Boundary IoU) (official iouType 'boundary')
};

/// Evaluation parameters; the defaults are the official ones.
struct VisParams {
  VisIouType iou_type = VisIouType::Mask;
  /// The official script sets (100, 300, 1000) only for iouType 'proposal'; for 'segm' and
  /// 'boundary' its Params default (1, 10, 100) applies. Ascending, at least 3 values.
  std::vector<int> max_dets{1, 10, 100};
  double dilation_ratio = 0.02;   ///< boundary band width as a fraction of the image diagonal
  bool use_cats = true;           ///< false: category-agnostic matching
};

/// The 12 summary numbers of the official summarize() (fractions; −1 where undefined), the lines
/// it prints, and the AP of each category (setting of stats[0]; −1 without ground truth).
struct VisSummary {
  std::array<double, 12> stats{};
  std::vector<std::string> lines;
  std::map<std::int64_t, double> category_ap;
};

/// Tube IoU of two tracks of equal length (sums over frames, official `iou_seq`).
double vis_tube_iou(std::span<const std::optional<Rle>> a, std::span<const std::optional<Rle>> b);

/// Class-agnostic scoring as "every category mapped to one": the ground truth keeps the single
/// category 1 and every annotation and result becomes category 1 (results of categories the
/// ground truth lacks too). Then evaluate_vis is the official evaluator run on those relabelled
/// files. (The official `useCats = 0` differs slightly: it drops results of unknown categories and
/// breaks score ties per category.)
void merge_categories(VisGroundTruth& gt, std::span<VisTrack> results);

/// Runs evaluate(), accumulate() and summarize() of the official evaluator.
VisSummary evaluate_vis(const VisGroundTruth& gt, std::span<const VisTrack> results,
                        const VisParams& params = {});

// ================================================================================================
// MOTSChallenge / KITTI-MOTS txt (TrackEval)
// ================================================================================================

/// One line of a MOTS txt file: `time_frame id class_id img_height img_width rle`.
struct MotsObject {
  std::int64_t frame = 0;
  std::int64_t id = 0;
  std::int64_t class_id = 0;
  Rle mask;
};

/// All lines of one sequence file.
struct MotsSequence {
  std::string name;
  std::vector<MotsObject> objects;
};

/// Parses a MOTS txt document.
MotsSequence parse_mots_txt(std::string_view text, std::string name = {});
/// Reads a MOTS txt file; the sequence is named after the file stem.
MotsSequence load_mots_txt(const std::filesystem::path& path);

/// The benchmark (frame numbering and classes).
enum class MotsBenchmark {
  KittiMots,       ///< frames from 0; classes car (1) and pedestrian (2)
  MotsChallenge,   ///< frames from 1; class pedestrian (2)
};

/// TrackEval CLEAR, Identity and HOTA numbers of one class (fractions).
struct MotsScores {
  double smotsa = 0, motsa = 0, motsp = 0;   ///< TrackEval sMOTA, MOTA, MOTP
  std::int64_t tp = 0, fn = 0, fp = 0, idsw = 0;
  double motp_sum = 0;
  double idf1 = 0, idr = 0, idp = 0;
  std::int64_t idtp = 0, idfn = 0, idfp = 0;
  double hota = 0, deta = 0, assa = 0, loca = 0;   ///< means over α = 0.05 … 0.95
  std::array<double, 19> hota_alpha{};             ///< HOTA at each α
};

/// Per-class scores, combined over all sequences as TrackEval's COMBINED_SEQ.
struct MotsResult {
  std::map<std::string, MotsScores> classes;   ///< "car", "pedestrian"
};

/// Evaluates tracker sequences against ground-truth sequences (matched by index; equal counts).
/// `lengths[i]` is sequence i's number of frames (0 = up to the last frame in either file);
/// frames outside it throw, as TrackEval does.
MotsResult evaluate_mots(std::span<const MotsSequence> gt, std::span<const MotsSequence> tracker,
                         MotsBenchmark benchmark, std::span<const std::size_t> lengths = {});

// ================================================================================================
// BDD100K MOTS (Scalabel JSON, bdd100k `seg_track`)
// ================================================================================================

/// One label of a Scalabel frame.
struct ScalabelLabel {
  std::string id;
  std::string category;
  bool ignore = false;   ///< attributes crowd / ignored / ignore
  Rle mask;
};

/// One Scalabel frame.
struct ScalabelFrame {
  std::string video_name;
  std::string name;
  std::int64_t frame_index = 0;
  std::vector<ScalabelLabel> labels;
};

/// Parses a Scalabel JSON document: a list of frames, or an object with a "frames" list.
std::vector<ScalabelFrame> parse_scalabel(std::string_view json_text);
/// Reads a Scalabel JSON file, or every *.json file of a folder (sorted by name).
std::vector<ScalabelFrame> load_scalabel(const std::filesystem::path& path);

/// The 8 BDD100K MOTS classes, in the toolkit's order.
std::span<const std::string_view> bdd100k_mots_classes();

/// py-motmetrics numbers of one class (percent, as the toolkit reports them).
struct BddClassScores {
  double mota = 0, motp = 0, idf1 = 0;   ///< MOTSA, MOTSP (mean IoU of matches), IDF1
  std::int64_t fp = 0, fn = 0, idsw = 0, gt = 0, matches = 0;
};

/// BDD100K MOTS scores: per class, the class means mMOTSA / mMOTSP / mIDF1 (NaN counts as 0, as
/// the toolkit), and OVERALL (all classes pooled).
struct BddResult {
  std::map<std::string, BddClassScores> classes;
  double mmotsa = 0, mmotsp = 0, midf1 = 0;
  BddClassScores overall;
};

/// Evaluates predictions against ground truth: videos matched by name (a video without
/// predictions is all misses), match at mask IoU ≥ `iou_thr`, unmatched predictions with
/// intersection-over-foreground > `ignore_iof_thr` with an ignore region dropped.
BddResult evaluate_bdd100k_mots(std::span<const ScalabelFrame> gt,
                                std::span<const ScalabelFrame> predictions, double iou_thr = 0.5,
                                double ignore_iof_thr = 0.5);

// ================================================================================================
// Shared
// ================================================================================================

/// Optimal assignment minimising the summed cost of an n × m row-major matrix (scipy
/// `linear_sum_assignment`): returns, for each row, its column or −1 (when n > m).
std::vector<int> linear_sum_assignment(std::span<const double> cost, std::size_t rows,
                                       std::size_t cols);

}  // namespace vmt::eval
