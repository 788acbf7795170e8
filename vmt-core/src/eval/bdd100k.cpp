// BDD100K MOTS evaluation: a port of scalabel's `acc_single_video_mots` (as the bdd100k toolkit's
// `seg_track` on RLE input runs it) and of the py-motmetrics accumulator and metrics it uses.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>

#include "json_rle.h"
#include "vmt/error.h"
#include "vmt/eval.h"

namespace vmt::eval {
namespace {

constexpr std::array<std::string_view, 8> kClasses{"pedestrian", "rider",      "car",     "truck",
                                                   "bus",        "train",      "motorcycle", "bicycle"};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool truthy(const nlohmann::json& attrs, const char* key) {
  if (!attrs.contains(key)) return false;
  const auto& v = attrs.at(key);
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string()) return !v.get<std::string>().empty();
  return !v.is_null();
}

/// py-motmetrics' linear_sum_assignment with NaN = forbidden: the most pairs first, then the
/// least cost. Returns finite pairs (row, col).
std::vector<std::pair<std::size_t, std::size_t>> mm_assign(const std::vector<double>& dist,
                                                           std::size_t rows, std::size_t cols) {
  std::vector<std::pair<std::size_t, std::size_t>> pairs;
  if (rows == 0 || cols == 0) return pairs;
  double hi = 0;
  bool any = false;
  for (double d : dist) if (std::isfinite(d)) { hi = std::max(hi, d); any = true; }
  if (!any) return pairs;
  const double big = (hi + 1.0) * static_cast<double>(std::min(rows, cols) + 1);
  std::vector<double> cost(dist.size());
  for (std::size_t i = 0; i < dist.size(); ++i) cost[i] = std::isfinite(dist[i]) ? dist[i] : big;
  const auto r2c = linear_sum_assignment(cost, rows, cols);
  for (std::size_t r = 0; r < rows; ++r)
    if (r2c[r] >= 0 && std::isfinite(dist[r * cols + static_cast<std::size_t>(r2c[r])]))
      pairs.emplace_back(r, static_cast<std::size_t>(r2c[r]));
  return pairs;
}

/// py-motmetrics MOTAccumulator (auto ids, no max switch time), reduced to what the metrics need.
class Accumulator {
 public:
  /// MOTAccumulator.update with distances (objects × hypotheses, NaN = not a candidate).
  void update(const std::vector<std::int64_t>& oids, const std::vector<std::int64_t>& hids,
              std::vector<double> dist) {
    has_events_ = true;
    const std::size_t no = oids.size(), nh = hids.size();
    for (std::size_t i = 0; i < no; ++i)
      for (std::size_t j = 0; j < nh; ++j)
        if (std::isfinite(dist[i * nh + j])) ++candidates_[{oids[i], hids[j]}];
    for (auto o : oids) ++obj_count_[o];
    for (auto h : hids) ++hyp_count_[h];
    std::vector<char> o_used(no, 0), h_used(nh, 0);
    if (no * nh > 0) {
      for (std::size_t i = 0; i < no; ++i) {   // 1. keep previous correspondences
        const auto it = last_.find(oids[i]);
        if (it == last_.end()) continue;
        for (std::size_t j = 0; j < nh; ++j) {
          if (h_used[j] || hids[j] != it->second) continue;
          if (std::isfinite(dist[i * nh + j])) {
            o_used[i] = h_used[j] = 1;
            ++matches_;
            dist_sum_ += dist[i * nh + j];
          }
          break;
        }
      }
      for (std::size_t i = 0; i < no; ++i)
        for (std::size_t j = 0; j < nh; ++j)
          if (o_used[i] || h_used[j]) dist[i * nh + j] = kNaN;
      for (auto [i, j] : mm_assign(dist, no, nh)) {   // 2. the rest
        const auto it = last_.find(oids[i]);
        if (it != last_.end() && it->second != hids[j]) ++switches_;
        else ++matches_;
        dist_sum_ += dist[i * nh + j];
        last_[oids[i]] = hids[j];
        o_used[i] = h_used[j] = 1;
      }
    }
    for (char u : o_used) misses_ += u ? 0 : 1;
    for (char u : h_used) fps_ += u ? 0 : 1;
  }

  bool has_events() const { return has_events_; }

  /// Summed counts of this accumulator (IDTP through the global ID assignment).
  struct Counts {
    double objects = 0, predictions = 0, matches = 0, switches = 0, misses = 0, fps = 0,
           dist_sum = 0, idtp = 0;
  };
  Counts counts() const {
    Counts c;
    for (const auto& [o, n] : obj_count_) c.objects += n;
    for (const auto& [h, n] : hyp_count_) c.predictions += n;
    c.matches = matches_; c.switches = switches_; c.misses = misses_; c.fps = fps_;
    c.dist_sum = dist_sum_;
    c.idtp = c.objects - id_false_negatives();
    return c;
  }

 private:
  /// id_global_assignment: IDFN of the min-cost identity assignment.
  double id_false_negatives() const {
    const std::size_t no = obj_count_.size(), nh = hyp_count_.size(), n = no + nh;
    if (n == 0) return 0;
    std::map<std::int64_t, std::size_t> oi, hi;
    for (const auto& [o, c] : obj_count_) oi.emplace(o, oi.size());
    for (const auto& [h, c] : hyp_count_) hi.emplace(h, hi.size());
    std::vector<double> fp(n * n, 0.0), fn(n * n, 0.0);
    for (std::size_t r = no; r < n; ++r) for (std::size_t c = 0; c < nh; ++c) fp[r * n + c] = kNaN;
    for (std::size_t r = 0; r < no; ++r) for (std::size_t c = nh; c < n; ++c) fn[r * n + c] = kNaN;
    for (const auto& [o, cnt] : obj_count_) {
      const std::size_t r = oi.at(o);
      for (std::size_t c = 0; c < nh; ++c) fn[r * n + c] = cnt;
      fn[r * n + nh + r] = cnt;
    }
    for (const auto& [h, cnt] : hyp_count_) {
      const std::size_t c = hi.at(h);
      for (std::size_t r = 0; r < no; ++r) fp[r * n + c] = cnt;
      fp[(c + no) * n + c] = cnt;
    }
    for (const auto& [key, cnt] : candidates_) {
      const std::size_t r = oi.at(key.first), c = hi.at(key.second);
      fp[r * n + c] -= cnt;
      fn[r * n + c] -= cnt;
    }
    std::vector<double> cost(n * n);
    for (std::size_t i = 0; i < n * n; ++i) cost[i] = fp[i] + fn[i];
    double idfn = 0;
    for (auto [r, c] : mm_assign(cost, n, n)) idfn += fn[r * n + c];
    return idfn;
  }

  bool has_events_ = false;
  std::map<std::int64_t, std::int64_t> last_;   // object → last matched hypothesis (self.m)
  std::map<std::int64_t, double> obj_count_, hyp_count_;
  std::map<std::pair<std::int64_t, std::int64_t>, double> candidates_;
  double matches_ = 0, switches_ = 0, misses_ = 0, fps_ = 0, dist_sum_ = 0;
};

/// Labels of a frame split as scalabel's parse_seg_objects: per class, and the ignore regions.
struct ParsedFrame {
  std::vector<std::vector<const ScalabelLabel*>> by_class{kClasses.size()};
  std::vector<const ScalabelLabel*> ignores;
};

ParsedFrame parse_frame(const ScalabelFrame* frame) {
  ParsedFrame p;
  if (!frame) return p;
  for (const auto& l : frame->labels) {
    const auto it = std::find(kClasses.begin(), kClasses.end(), l.category);
    if (it == kClasses.end()) throw Error(ErrorCode::InvalidArgument, "unknown category: " + l.category);
    if (l.ignore) p.ignores.push_back(&l);
    else p.by_class[static_cast<std::size_t>(it - kClasses.begin())].push_back(&l);
  }
  return p;
}

double iou_or_iof(const Rle& pred, const Rle& other, bool iof) {
  const double inter = static_cast<double>(rle_intersection_area(pred, other));
  if (inter == 0) return 0;
  const double denom = iof ? static_cast<double>(rle_area(pred))
                           : static_cast<double>(rle_area(pred) + rle_area(other)) - inter;
  return inter / denom;
}

std::int64_t int_id(const std::string& id) {
  try {
    return std::stoll(id);
  } catch (const std::exception&) {
    throw Error(ErrorCode::InvalidArgument, "label id is not an integer: " + id);
  }
}

/// One frame of one class into its accumulator (acc_single_video_mots).
void accumulate_class(Accumulator& acc, const std::vector<const ScalabelLabel*>& gts,
                      std::vector<const ScalabelLabel*> preds,
                      const std::vector<const ScalabelLabel*>& ignores, double iou_thr,
                      double iof_thr) {
  if (gts.empty() && preds.empty()) return;
  auto distances = [&](const std::vector<const ScalabelLabel*>& ps) {
    std::vector<double> d(gts.size() * ps.size());
    for (std::size_t i = 0; i < gts.size(); ++i)
      for (std::size_t j = 0; j < ps.size(); ++j) {
        const double dist = 1.0 - iou_or_iof(ps[j]->mask, gts[i]->mask, false);
        d[i * ps.size() + j] = dist > 1.0 - iou_thr ? kNaN : dist;
      }
    return d;
  };
  std::vector<double> dist = distances(preds);
  if (!ignores.empty() && !preds.empty()) {
    std::vector<char> fp(preds.size(), 1);
    for (auto [r, c] : mm_assign(dist, gts.size(), preds.size())) fp[c] = 0;
    std::vector<const ScalabelLabel*> kept;
    for (std::size_t j = 0; j < preds.size(); ++j) {
      bool ignored = false;
      for (const auto* ig : ignores) ignored = ignored || iou_or_iof(preds[j]->mask, ig->mask, true) > iof_thr;
      if (!(fp[j] && ignored)) kept.push_back(preds[j]);
    }
    preds = std::move(kept);
    dist = distances(preds);
  }
  if (gts.empty() && preds.empty()) return;
  std::vector<std::int64_t> oids, hids;
  for (const auto* g : gts) oids.push_back(int_id(g->id));
  for (const auto* p : preds) hids.push_back(int_id(p->id));
  acc.update(oids, hids, std::move(dist));
}

/// evaluate_single_class: py-motmetrics OVERALL of a class's accumulators, in percent.
BddClassScores class_scores(const std::vector<const Accumulator*>& accs) {
  Accumulator::Counts c;
  for (const auto* a : accs) {
    const auto x = a->counts();
    c.objects += x.objects; c.predictions += x.predictions; c.matches += x.matches;
    c.switches += x.switches; c.misses += x.misses; c.fps += x.fps; c.dist_sum += x.dist_sum;
    c.idtp += x.idtp;
  }
  BddClassScores s;
  s.fp = static_cast<std::int64_t>(c.fps); s.fn = static_cast<std::int64_t>(c.misses);
  s.idsw = static_cast<std::int64_t>(c.switches); s.gt = static_cast<std::int64_t>(c.objects);
  s.matches = static_cast<std::int64_t>(c.matches);
  if (accs.empty()) { s.mota = s.motp = s.idf1 = kNaN; return s; }
  s.mota = 100.0 * (1.0 - (c.misses + c.switches + c.fps) / c.objects);
  s.motp = 100.0 * (1.0 - c.dist_sum / (c.matches + c.switches));
  s.idf1 = 100.0 * (2 * c.idtp / (c.objects + c.predictions));
  return s;
}

double finite_or_zero(double v) { return std::isfinite(v) ? v : 0.0; }

ScalabelLabel parse_label(const nlohmann::json& l) {
  ScalabelLabel label;
  label.id = l.at("id").is_string() ? l.at("id").get<std::string>() : l.at("id").dump();
  label.category = l.at("category").get<std::string>();
  if (l.contains("attributes") && l.at("attributes").is_object()) {
    const auto& a = l.at("attributes");
    label.ignore = truthy(a, "crowd") || truthy(a, "ignored") || truthy(a, "ignore");
  }
  label.mask = detail::rle_from_json(l.at("rle"));
  return label;
}

}  // namespace

std::span<const std::string_view> bdd100k_mots_classes() { return kClasses; }

std::vector<ScalabelFrame> parse_scalabel(std::string_view json_text) {
  auto doc = detail::parse_json(json_text, "Scalabel JSON");
  if (doc.is_object() && doc.contains("frames")) doc = doc.at("frames");
  if (!doc.is_array()) throw Error(ErrorCode::CorruptData, "Scalabel JSON: expected a list of frames");
  std::vector<ScalabelFrame> frames;
  try {
    for (const auto& f : doc) {
      ScalabelFrame frame;
      frame.video_name = f.value("videoName", std::string{});
      frame.name = f.value("name", std::string{});
      frame.frame_index = f.contains("frameIndex") && !f.at("frameIndex").is_null()
                              ? detail::whole_number<std::int64_t>(f.at("frameIndex"), "frameIndex")
                              : 0;
      if (f.contains("labels") && f.at("labels").is_array())
        for (const auto& l : f.at("labels"))
          if (l.contains("rle") && !l.at("rle").is_null()) frame.labels.push_back(parse_label(l));
      frames.push_back(std::move(frame));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::CorruptData, std::string("Scalabel JSON: ") + e.what());
  }
  return frames;
}

std::vector<ScalabelFrame> load_scalabel(const std::filesystem::path& path) {
  if (!std::filesystem::is_directory(path)) return parse_scalabel(detail::read_file(path));
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(path))
    if (e.path().extension() == ".json") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::vector<ScalabelFrame> all;
  for (const auto& f : files) {
    auto part = parse_scalabel(detail::read_file(f));
    std::move(part.begin(), part.end(), std::back_inserter(all));
  }
  return all;
}

BddResult evaluate_bdd100k_mots(std::span<const ScalabelFrame> gt,
                                std::span<const ScalabelFrame> predictions, double iou_thr,
                                double ignore_iof_thr) {
  std::map<std::string, std::vector<const ScalabelFrame*>> gt_videos;
  std::map<std::pair<std::string, std::int64_t>, const ScalabelFrame*> pred_frames;
  for (const auto& f : gt) gt_videos[f.video_name].push_back(&f);
  for (const auto& f : predictions) {
    if (!gt_videos.contains(f.video_name))
      throw Error(ErrorCode::InvalidArgument, "predictions of a video not in the ground truth: " + f.video_name);
    pred_frames[{f.video_name, f.frame_index}] = &f;
  }
  std::vector<std::vector<Accumulator>> accs;   // [video][class]
  for (auto& [name, frames] : gt_videos) {
    std::stable_sort(frames.begin(), frames.end(),
                     [](const ScalabelFrame* a, const ScalabelFrame* b) { return a->frame_index < b->frame_index; });
    std::vector<Accumulator> video(kClasses.size());
    for (const auto* g : frames) {
      const auto it = pred_frames.find({name, g->frame_index});
      const ParsedFrame gp = parse_frame(g);
      const ParsedFrame pp = parse_frame(it == pred_frames.end() ? nullptr : it->second);
      for (std::size_t c = 0; c < kClasses.size(); ++c)
        accumulate_class(video[c], gp.by_class[c], pp.by_class[c], gp.ignores, iou_thr, ignore_iof_thr);
    }
    accs.push_back(std::move(video));
  }
  BddResult result;
  std::vector<const Accumulator*> everything;
  for (std::size_t c = 0; c < kClasses.size(); ++c) {
    std::vector<const Accumulator*> of_class;
    for (const auto& video : accs)
      if (video[c].has_events()) of_class.push_back(&video[c]);
    everything.insert(everything.end(), of_class.begin(), of_class.end());
    const auto s = class_scores(of_class);
    result.classes[std::string(kClasses[c])] = s;
    result.mmotsa += finite_or_zero(s.mota) / kClasses.size();
    result.mmotsp += finite_or_zero(s.motp) / kClasses.size();
    result.midf1 += finite_or_zero(s.idf1) / kClasses.size();
  }
  result.overall = class_scores(everything);
  return result;
}

}  // namespace vmt::eval
