// YouTube-VIS / HQ-YTVIS evaluation: a line-by-line port of the official `cocoapi_hq`
// ytvoseval.py (evaluate / accumulate / summarize) and boundary_utils.py of SysCV/vmt.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <unordered_map>

#include "json_rle.h"
#include "vmt/error.h"
#include "vmt/eval.h"

namespace vmt::eval {
namespace {

using detail::optional_rle_from_json;
using detail::parse_json;

constexpr std::size_t kIouThresholds = 10;
constexpr std::size_t kRecallThresholds = 101;
constexpr double kNumpySpacing1 = 2.220446049250313e-16;   // np.spacing(1)

/// numpy.linspace(start, stop, num): i·step + start, the last value exactly `stop`.
std::vector<double> numpy_linspace(double start, double stop, std::size_t num) {
  std::vector<double> values(num);
  const double step = (stop - start) / static_cast<double>(num - 1);
  for (std::size_t i = 0; i < num; ++i) values[i] = static_cast<double>(i) * step + start;
  values.back() = stop;
  return values;
}

/// Area ranges of the official Params: all, small, medium, large.
struct AreaRange {
  const char* label;
  double lo, hi;
};
constexpr std::array<AreaRange, 4> kAreaRanges{{{"all", 0.0, 1e10},
                                                {"small", 0.0, 128.0 * 128.0},
                                                {"medium", 128.0 * 128.0, 256.0 * 256.0},
                                                {"large", 256.0 * 256.0, 1e10}}};

/// Mean of the truthy (non-null, nonzero) areas, 0 when there is none (official avg_area).
double mean_truthy(const std::vector<std::optional<double>>& areas) {
  double sum = 0.0;
  std::size_t n = 0;
  for (const auto& a : areas)
    if (a && *a != 0.0) { sum += *a; ++n; }
  return n == 0 ? 0.0 : sum / static_cast<double>(n);
}

/// Per-frame areas of a track's masks (nullopt where absent).
std::vector<std::optional<double>> mask_areas(const std::vector<std::optional<Rle>>& masks) {
  std::vector<std::optional<double>> areas;
  areas.reserve(masks.size());
  for (const auto& m : masks)
    areas.push_back(m ? std::optional<double>(static_cast<double>(rle_area(*m))) : std::nullopt);
  return areas;
}

std::vector<std::optional<Rle>> parse_segmentations(const nlohmann::json& list) {
  if (!list.is_array()) throw Error(ErrorCode::CorruptData, "segmentations must be a list");
  std::vector<std::optional<Rle>> masks;
  masks.reserve(list.size());
  for (const auto& s : list) masks.push_back(optional_rle_from_json(s));
  return masks;
}

VisVideo parse_video(const nlohmann::json& v) {
  VisVideo video;
  video.id = detail::whole_number<std::int64_t>(v.at("id"), "video id");
  video.size = {detail::whole_number<std::uint32_t>(v.at("height"), "video height"),
                detail::whole_number<std::uint32_t>(v.at("width"), "video width")};
  if (v.contains("length")) video.length = detail::whole_number<std::size_t>(v.at("length"), "video length");
  else if (v.contains("file_names")) video.length = v.at("file_names").size();
  return video;
}

VisTrack parse_annotation(const nlohmann::json& a) {
  VisTrack t;
  t.id = detail::whole_number<std::int64_t>(a.at("id"), "annotation id");
  t.video_id = detail::whole_number<std::int64_t>(a.at("video_id"), "video_id");
  t.category_id = detail::whole_number<std::int64_t>(a.at("category_id"), "category_id");
  t.iscrowd = a.contains("iscrowd") && !a.at("iscrowd").is_null() &&
              detail::whole_number<int>(a.at("iscrowd"), "iscrowd") != 0;
  t.masks = parse_segmentations(a.at("segmentations"));
  if (a.contains("segmentations_refined"))
    t.boundary_source = parse_segmentations(a.at("segmentations_refined"));
  if (a.contains("areas") && a.at("areas").is_array()) {
    std::vector<std::optional<double>> areas;
    for (const auto& x : a.at("areas"))
      areas.push_back(x.is_null() ? std::nullopt : std::optional<double>(x.get<double>()));
    t.avg_area = mean_truthy(areas);
  } else {
    t.avg_area = mean_truthy(mask_areas(t.masks));
  }
  return t;
}

// ---- per (video, category) data ---------------------------------------------------------------

/// Tracks of one video and category (or of one video, category-agnostic), in file order.
struct Cell {
  std::vector<const VisTrack*> gts;
  std::vector<const VisTrack*> dts;   // sorted by score (stable), at most maxDets[-1]
  std::vector<double> ious;           // dts.size() × gts.size(), gt in file order
};

/// The boundary band of every present frame of a track (nullopt where absent).
std::vector<std::optional<Rle>> boundary_tube(const VisTrack& track, double ratio) {
  const auto& source = track.boundary_source.empty() ? track.masks : track.boundary_source;
  std::vector<std::optional<Rle>> out;
  out.reserve(source.size());
  for (const auto& m : source) {
    if (!m) { out.emplace_back(); continue; }
    const Bitmap mask = rle_decode(*m);
    const Bitmap band = boundary_band(mask.view(), ratio);
    out.emplace_back(rle_encode(band.view()));
  }
  return out;
}

/// Boundary tubes, computed once per track.
class BoundaryCache {
 public:
  explicit BoundaryCache(double ratio) : ratio_(ratio) {}
  const std::vector<std::optional<Rle>>& get(const VisTrack& t) {
    auto it = cache_.find(&t);
    if (it == cache_.end()) it = cache_.emplace(&t, boundary_tube(t, ratio_)).first;
    return it->second;
  }

 private:
  double ratio_;
  std::unordered_map<const VisTrack*, std::vector<std::optional<Rle>>> cache_;
};

/// computeIoU / computeBoundaryIoU of the official evaluator.
void compute_ious(Cell& cell, const VisParams& p, BoundaryCache& boundaries) {
  const std::size_t D = cell.dts.size(), G = cell.gts.size();
  cell.ious.assign(D * G, 0.0);
  for (std::size_t d = 0; d < D; ++d) {
    for (std::size_t g = 0; g < G; ++g) {
      double iou = vis_tube_iou(cell.dts[d]->masks, cell.gts[g]->masks);
      if (p.iou_type == VisIouType::Boundary && !cell.gts[g]->iscrowd)
        iou = std::min(iou, vis_tube_iou(boundaries.get(*cell.dts[d]), boundaries.get(*cell.gts[g])));
      cell.ious[d * G + g] = iou;
    }
  }
}

/// evaluateVid: matches of one video, category and area range.
struct VidEval {
  std::vector<double> dt_scores;        // D, score order
  std::vector<char> dt_matched;         // T × D
  std::vector<char> dt_ignore;          // T × D
  std::size_t num_dt = 0;
  std::size_t num_gt_not_ignored = 0;
};

bool outside(double area, const AreaRange& r) { return area < r.lo || area > r.hi; }

VidEval evaluate_cell(const Cell& cell, const AreaRange& range, const std::vector<double>& iou_thrs) {
  const std::size_t G = cell.gts.size(), D = cell.dts.size(), T = iou_thrs.size();
  std::vector<char> g_ignore(G);
  for (std::size_t g = 0; g < G; ++g)
    g_ignore[g] = cell.gts[g]->iscrowd || outside(cell.gts[g]->avg_area, range);
  std::vector<std::size_t> gt_order(G);
  std::iota(gt_order.begin(), gt_order.end(), 0);
  std::stable_sort(gt_order.begin(), gt_order.end(),
                   [&](std::size_t a, std::size_t b) { return g_ignore[a] < g_ignore[b]; });

  VidEval e;
  e.num_dt = D;
  e.dt_matched.assign(T * D, 0);
  e.dt_ignore.assign(T * D, 0);
  for (const auto* d : cell.dts) e.dt_scores.push_back(d->score);
  for (std::size_t g = 0; g < G; ++g) e.num_gt_not_ignored += g_ignore[g] ? 0 : 1;

  std::vector<char> gt_matched(T * G, 0);
  if (G > 0 && D > 0) {
    for (std::size_t t = 0; t < T; ++t) {
      for (std::size_t d = 0; d < D; ++d) {
        double best = std::min(iou_thrs[t], 1 - 1e-10);
        long m = -1;
        for (std::size_t gi = 0; gi < G; ++gi) {
          const std::size_t g = gt_order[gi];
          if (gt_matched[t * G + gi] && !cell.gts[g]->iscrowd) continue;
          if (m > -1 && !g_ignore[gt_order[static_cast<std::size_t>(m)]] && g_ignore[g]) break;
          const double iou = cell.ious[d * G + g];
          if (iou < best) continue;
          best = iou;
          m = static_cast<long>(gi);
        }
        if (m == -1) continue;
        e.dt_ignore[t * D + d] = g_ignore[gt_order[static_cast<std::size_t>(m)]];
        e.dt_matched[t * D + d] = 1;
        gt_matched[t * G + static_cast<std::size_t>(m)] = 1;
      }
    }
  }
  for (std::size_t d = 0; d < D; ++d) {
    if (!outside(cell.dts[d]->avg_area, range)) continue;
    for (std::size_t t = 0; t < T; ++t)
      if (!e.dt_matched[t * D + d]) e.dt_ignore[t * D + d] = 1;
  }
  return e;
}

/// accumulate(): precision [T][R] and recall [T] of one (category, area, maxDet), or nothing
/// (left at −1) when no ground truth counts.
void accumulate_one(const std::vector<const VidEval*>& evals, std::size_t max_det,
                    const std::vector<double>& rec_thrs, std::size_t T,
                    double* precision /* T×R */, double* recall /* T */) {
  std::vector<double> scores;
  std::vector<std::pair<std::size_t, std::size_t>> origin;   // (eval, dt index)
  std::size_t npig = 0;
  for (std::size_t i = 0; i < evals.size(); ++i) {
    const auto& e = *evals[i];
    const std::size_t n = std::min(max_det, e.num_dt);
    for (std::size_t d = 0; d < n; ++d) {
      scores.push_back(e.dt_scores[d]);
      origin.emplace_back(i, d);
    }
    npig += e.num_gt_not_ignored;
  }
  if (npig == 0) return;
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return -scores[a] < -scores[b]; });
  const std::size_t R = rec_thrs.size(), nd = order.size();
  for (std::size_t t = 0; t < T; ++t) {
    std::vector<double> rc(nd), pr(nd);
    double tp = 0, fp = 0;
    for (std::size_t k = 0; k < nd; ++k) {
      const auto [i, d] = origin[order[k]];
      const auto& e = *evals[i];
      const bool matched = e.dt_matched[t * e.num_dt + d], ignored = e.dt_ignore[t * e.num_dt + d];
      if (!ignored) (matched ? tp : fp) += 1;
      rc[k] = tp / static_cast<double>(npig);
      pr[k] = tp / (fp + tp + kNumpySpacing1);
    }
    recall[t] = nd ? rc.back() : 0.0;
    for (std::size_t k = nd; k-- > 1;)
      if (pr[k] > pr[k - 1]) pr[k - 1] = pr[k];
    for (std::size_t r = 0; r < R; ++r) {
      const auto pi = static_cast<std::size_t>(
          std::lower_bound(rc.begin(), rc.end(), rec_thrs[r]) - rc.begin());
      if (pi >= nd) {   // the official loop stops at the first index out of range
        for (std::size_t r2 = r; r2 < R; ++r2) precision[t * R + r2] = 0.0;
        break;
      }
      precision[t * R + r] = pr[pi];
    }
  }
}

/// Mean of the entries > −1, or −1 (official _summarize).
double mean_defined(const std::vector<double>& values) {
  double sum = 0;
  std::size_t n = 0;
  for (double v : values)
    if (v > -1) { sum += v; ++n; }
  return n == 0 ? -1.0 : sum / static_cast<double>(n);
}

/// All accumulated numbers and the summary printer.
class Accumulated {
 public:
  Accumulated(std::size_t K, std::size_t M, std::vector<double> iou_thrs,
              std::vector<int> max_dets)
      : K_(K), M_(M), iou_thrs_(std::move(iou_thrs)), max_dets_(std::move(max_dets)),
        precision_(kIouThresholds * kRecallThresholds * K * 4 * M, -1.0),
        recall_(kIouThresholds * K * 4 * M, -1.0) {}

  double* precision(std::size_t k, std::size_t a, std::size_t m) {
    return &precision_[((k * 4 + a) * M_ + m) * kIouThresholds * kRecallThresholds];
  }
  double* recall(std::size_t k, std::size_t a, std::size_t m) {
    return &recall_[((k * 4 + a) * M_ + m) * kIouThresholds];
  }

  /// _summarize(ap, iouThr, areaRng, maxDets); `t` = threshold index or nullopt for all.
  double summarize(bool ap, std::optional<std::size_t> t, std::size_t a, int max_det,
                   std::vector<std::string>& lines, std::optional<std::size_t> only_k = {}) {
    std::vector<double> selected;
    const auto m_it = std::find(max_dets_.begin(), max_dets_.end(), max_det);
    if (m_it != max_dets_.end()) {
      const auto m = static_cast<std::size_t>(m_it - max_dets_.begin());
      for (std::size_t k = 0; k < K_; ++k) {
        if (only_k && *only_k != k) continue;
        for (std::size_t ti = 0; ti < kIouThresholds; ++ti) {
          if (t && *t != ti) continue;
          if (ap) {
            const double* p = precision(k, a, m) + ti * kRecallThresholds;
            selected.insert(selected.end(), p, p + kRecallThresholds);
          } else {
            selected.push_back(recall(k, a, m)[ti]);
          }
        }
      }
    }
    const double mean = mean_defined(selected);
    if (!only_k) lines.push_back(format_line(ap, t, a, max_det, mean));
    return mean;
  }

 private:
  std::string format_line(bool ap, std::optional<std::size_t> t, std::size_t a, int max_det,
                          double value) const {
    char iou[32];
    if (t) std::snprintf(iou, sizeof iou, "%0.2f", iou_thrs_[*t]);
    else std::snprintf(iou, sizeof iou, "%0.2f:%0.2f", iou_thrs_.front(), iou_thrs_.back());
    char line[160];
    std::snprintf(line, sizeof line, " %-18s %s @[ IoU=%-9s | area=%6s | maxDets=%3d ] = %0.3f",
                  ap ? "Average Precision" : "Average Recall", ap ? "(AP)" : "(AR)", iou,
                  kAreaRanges[a].label, max_det, value);
    return line;
  }

  std::size_t K_, M_;
  std::vector<double> iou_thrs_;
  std::vector<int> max_dets_;
  std::vector<double> precision_, recall_;
};

/// The cells of every (video, category) key, in the official order.
std::map<std::pair<std::int64_t, std::int64_t>, Cell> build_cells(
    const VisGroundTruth& gt, std::span<const VisTrack> results, const VisParams& p) {
  std::map<std::pair<std::int64_t, std::int64_t>, Cell> cells;
  auto key = [&](const VisTrack& t) {
    return std::pair{t.video_id, p.use_cats ? t.category_id : std::int64_t{-1}};
  };
  auto known_cat = [&](std::int64_t c) {
    return std::binary_search(gt.category_ids.begin(), gt.category_ids.end(), c);
  };
  // Category-agnostic: the official concatenates per category, in category order.
  for (std::int64_t c : gt.category_ids) {
    for (const auto& a : gt.annotations)
      if (a.category_id == c) cells[key(a)].gts.push_back(&a);
    for (const auto& d : results)
      if (d.category_id == c) cells[key(d)].dts.push_back(&d);
  }
  (void)known_cat;
  const std::size_t max_det = static_cast<std::size_t>(p.max_dets.back());
  for (auto& [k, cell] : cells) {
    std::stable_sort(cell.dts.begin(), cell.dts.end(),
                     [](const VisTrack* a, const VisTrack* b) { return -a->score < -b->score; });
    if (cell.dts.size() > max_det) cell.dts.resize(max_det);
  }
  return cells;
}

void validate(const VisParams& p) {
  if (p.max_dets.size() < 3 || !std::is_sorted(p.max_dets.begin(), p.max_dets.end()) ||
      p.max_dets.front() < 1)
    throw Error(ErrorCode::InvalidArgument, "max_dets: at least 3 ascending positive values");
}

}  // namespace

// ---- public API -----------------------------------------------------------------------------------

double vis_tube_iou(std::span<const std::optional<Rle>> a, std::span<const std::optional<Rle>> b) {
  double inter = 0, uni = 0;
  const std::size_t n = std::min(a.size(), b.size());   // zip() of the official iou_seq
  for (std::size_t i = 0; i < n; ++i) {
    if (a[i] && b[i]) {
      const double in = static_cast<double>(rle_intersection_area(*a[i], *b[i]));
      inter += in;
      uni += static_cast<double>(rle_area(*a[i])) + static_cast<double>(rle_area(*b[i])) - in;
    } else if (a[i]) {
      uni += static_cast<double>(rle_area(*a[i]));
    } else if (b[i]) {
      uni += static_cast<double>(rle_area(*b[i]));
    }
  }
  return uni > 0 ? inter / uni : 0.0;
}

VisGroundTruth parse_vis_ground_truth(std::string_view json_text) {
  const auto doc = parse_json(json_text, "YouTube-VIS ground truth");
  if (!doc.is_object()) throw Error(ErrorCode::CorruptData, "ground truth must be a JSON object");
  VisGroundTruth gt;
  try {
    for (const auto& v : doc.value("videos", nlohmann::json::array())) gt.videos.push_back(parse_video(v));
    for (const auto& c : doc.value("categories", nlohmann::json::array()))
      gt.category_ids.push_back(detail::whole_number<std::int64_t>(c.at("id"), "category id"));
    for (const auto& a : doc.value("annotations", nlohmann::json::array()))
      gt.annotations.push_back(parse_annotation(a));
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::CorruptData, std::string("YouTube-VIS ground truth: ") + e.what());
  }
  std::sort(gt.category_ids.begin(), gt.category_ids.end());
  gt.category_ids.erase(std::unique(gt.category_ids.begin(), gt.category_ids.end()), gt.category_ids.end());
  return gt;
}

VisGroundTruth load_vis_ground_truth(const std::filesystem::path& path) {
  return parse_vis_ground_truth(detail::read_file(path));
}

namespace {

/* A result's masks have its video's size (the evaluation would refuse them later anyway, after
 * decoding masks as large as the file claims) and, where the video's length is known, one slot
 * per frame. */
void check_result_masks(const VisTrack& result, const VisVideo& video) {
  const std::string which = "result " + std::to_string(result.id) + " (video_id " +
                            std::to_string(result.video_id) + ")";
  if (video.length != 0 && result.masks.size() != video.length)
    throw Error(ErrorCode::InvalidArgument, which + " has " + std::to_string(result.masks.size()) +
                                                " segmentations for the video's " +
                                                std::to_string(video.length) + " frames");
  for (std::size_t f = 0; f < result.masks.size(); ++f)
    if (result.masks[f] && result.masks[f]->size != video.size)
      throw Error(ErrorCode::InvalidArgument,
                  which + ": the mask of frame " + std::to_string(f) + " is " +
                      std::to_string(result.masks[f]->size.height) + "x" +
                      std::to_string(result.masks[f]->size.width) + ", the video " +
                      std::to_string(video.size.height) + "x" + std::to_string(video.size.width));
}

}  // namespace

std::vector<VisTrack> parse_vis_results(std::string_view json_text, const VisGroundTruth& gt) {
  const auto doc = parse_json(json_text, "YouTube-VIS results");
  if (!doc.is_array()) throw Error(ErrorCode::CorruptData, "results must be a JSON array");
  std::vector<VisTrack> results;
  results.reserve(doc.size());
  try {
    for (const auto& r : doc) {
      VisTrack t;
      t.id = static_cast<std::int64_t>(results.size()) + 1;
      t.video_id = detail::whole_number<std::int64_t>(r.at("video_id"), "video_id");
      t.category_id = detail::whole_number<std::int64_t>(r.at("category_id"), "category_id");
      t.score = r.at("score").get<double>();
      t.masks = parse_segmentations(r.at("segmentations"));
      t.avg_area = mean_truthy(mask_areas(t.masks));
      const auto video = std::find_if(gt.videos.begin(), gt.videos.end(),
                                      [&](const VisVideo& v) { return v.id == t.video_id; });
      if (video == gt.videos.end())
        throw Error(ErrorCode::InvalidArgument,
                    "results do not correspond to the ground truth: unknown video_id " +
                        std::to_string(t.video_id));
      check_result_masks(t, *video);
      results.push_back(std::move(t));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::CorruptData, std::string("YouTube-VIS results: ") + e.what());
  }
  return results;
}

std::vector<VisTrack> load_vis_results(const std::filesystem::path& path, const VisGroundTruth& gt) {
  return parse_vis_results(detail::read_file(path), gt);
}

void merge_categories(VisGroundTruth& gt, std::span<VisTrack> results) {
  gt.category_ids = {1};
  for (VisTrack& a : gt.annotations) a.category_id = 1;
  for (VisTrack& r : results) r.category_id = 1;
}

VisSummary evaluate_vis(const VisGroundTruth& gt, std::span<const VisTrack> results,
                        const VisParams& p) {
  validate(p);
  const auto iou_thrs = numpy_linspace(0.5, 0.95, kIouThresholds);
  const auto rec_thrs = numpy_linspace(0.0, 1.0, kRecallThresholds);
  std::vector<std::int64_t> vid_ids;
  for (const auto& v : gt.videos) vid_ids.push_back(v.id);
  std::sort(vid_ids.begin(), vid_ids.end());
  vid_ids.erase(std::unique(vid_ids.begin(), vid_ids.end()), vid_ids.end());
  const std::vector<std::int64_t> cat_ids =
      p.use_cats ? gt.category_ids : std::vector<std::int64_t>{-1};

  auto cells = build_cells(gt, results, p);
  BoundaryCache boundaries(p.dilation_ratio);
  for (auto& [k, cell] : cells) compute_ious(cell, p, boundaries);

  const std::size_t K = cat_ids.size(), M = p.max_dets.size();
  Accumulated acc(K, M, iou_thrs, p.max_dets);
  for (std::size_t k = 0; k < K; ++k) {
    for (std::size_t a = 0; a < kAreaRanges.size(); ++a) {
      std::vector<VidEval> evals;
      for (std::int64_t v : vid_ids) {
        const auto it = cells.find({v, cat_ids[k]});
        if (it == cells.end() || (it->second.gts.empty() && it->second.dts.empty())) continue;
        evals.push_back(evaluate_cell(it->second, kAreaRanges[a], iou_thrs));
      }
      if (evals.empty()) continue;
      std::vector<const VidEval*> ptrs;
      for (const auto& e : evals) ptrs.push_back(&e);
      for (std::size_t m = 0; m < M; ++m)
        accumulate_one(ptrs, static_cast<std::size_t>(p.max_dets[m]), rec_thrs, kIouThresholds,
                       acc.precision(k, a, m), acc.recall(k, a, m));
    }
  }

  VisSummary s;
  const int m0 = p.max_dets[0], m1 = p.max_dets[1], m2 = p.max_dets[2];
  s.stats[0] = acc.summarize(true, {}, 0, 100, s.lines);
  s.stats[1] = acc.summarize(true, 0, 0, m2, s.lines);
  s.stats[2] = acc.summarize(true, 5, 0, m2, s.lines);
  s.stats[3] = acc.summarize(true, {}, 1, m2, s.lines);
  s.stats[4] = acc.summarize(true, {}, 2, m2, s.lines);
  s.stats[5] = acc.summarize(true, {}, 3, m2, s.lines);
  s.stats[6] = acc.summarize(false, {}, 0, m0, s.lines);
  s.stats[7] = acc.summarize(false, {}, 0, m1, s.lines);
  s.stats[8] = acc.summarize(false, {}, 0, m2, s.lines);
  s.stats[9] = acc.summarize(false, {}, 1, m2, s.lines);
  s.stats[10] = acc.summarize(false, {}, 2, m2, s.lines);
  s.stats[11] = acc.summarize(false, {}, 3, m2, s.lines);
  if (p.use_cats) {
    std::vector<std::string> unused;
    for (std::size_t k = 0; k < K; ++k)
      s.category_ap[cat_ids[k]] = acc.summarize(true, {}, 0, 100, unused, k);
  }
  return s;
}

}  // namespace vmt::eval
