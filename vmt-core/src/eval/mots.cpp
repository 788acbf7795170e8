// MOTSChallenge / KITTI-MOTS evaluation: a port of TrackEval's MOTS datasets (reading, ignore
// regions, preprocessing) and of its CLEAR, Identity and HOTA metrics.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <sstream>

#include "json_rle.h"
#include "vmt/error.h"
#include "vmt/eval.h"

namespace vmt::eval {
namespace {

constexpr double kEps = std::numeric_limits<double>::epsilon();   // np.finfo('float').eps
constexpr std::int64_t kIgnoreClass = 10;                           // ignore regions (id 10000)
constexpr std::size_t kAlphas = 19;                                 // np.arange(0.05, 0.99, 0.05)

double alpha(std::size_t a) { return 0.05 + static_cast<double>(a) * 0.05; }

/// pycocotools iou of two masks (iscrowd = false) or intersection over `a`'s area (iscrowd).
double mask_overlap(const Rle& a, const Rle& b, bool over_a) {
  const double inter = static_cast<double>(rle_intersection_area(a, b));
  if (inter == 0) return 0.0;
  const double denom = over_a ? static_cast<double>(rle_area(a))
                              : static_cast<double>(rle_area(a) + rle_area(b)) - inter;
  return denom > 0 ? inter / denom : 0.0;
}

/// One timestep of one class after preprocessing: contiguous ids and G × T similarities.
struct Step {
  std::vector<int> gt, tr;
  std::vector<double> sim;   // gt-major
};

/// One sequence of one class, ready for the metrics (TrackEval's `data`).
struct SeqData {
  std::vector<Step> steps;
  std::size_t num_gt_ids = 0, num_tr_ids = 0, num_gt_dets = 0, num_tr_dets = 0;
};

/// Maximising assignment of a rows × cols score matrix; pairs (row, col).
std::vector<std::pair<int, int>> maximise(const std::vector<double>& score, std::size_t rows,
                                          std::size_t cols) {
  std::vector<double> cost(score.size());
  for (std::size_t i = 0; i < score.size(); ++i) cost[i] = -score[i];
  const auto r2c = linear_sum_assignment(cost, rows, cols);
  std::vector<std::pair<int, int>> pairs;
  for (std::size_t r = 0; r < rows; ++r)
    if (r2c[r] >= 0) pairs.emplace_back(static_cast<int>(r), r2c[r]);
  return pairs;
}

/// Objects of a sequence per frame.
using FrameMap = std::map<std::int64_t, std::vector<const MotsObject*>>;

FrameMap by_frame(const MotsSequence& seq) {
  FrameMap frames;
  for (const auto& o : seq.objects) frames[o.frame].push_back(&o);
  return frames;
}

/// TrackEval raises when masks of one frame overlap (ignore regions included for ground truth).
void check_no_overlap(const std::vector<const MotsObject*>& objects, const std::string& what) {
  for (std::size_t i = 0; i < objects.size(); ++i)
    for (std::size_t j = i + 1; j < objects.size(); ++j)
      if (rle_intersection_area(objects[i]->mask, objects[j]->mask) != 0)
        throw Error(ErrorCode::InvalidArgument,
                    what + " has overlapping masks at frame " + std::to_string(objects[i]->frame));
}

/// get_preprocessed_seq_data for one class over frames first … first + length − 1.
SeqData preprocess(const FrameMap& gt, const FrameMap& tr, std::int64_t cls, std::int64_t first,
                   std::size_t length) {
  SeqData data;
  std::vector<std::vector<std::int64_t>> gt_raw(length), tr_raw(length);
  data.steps.resize(length);
  for (std::size_t t = 0; t < length; ++t) {
    const std::int64_t frame = first + static_cast<std::int64_t>(t);
    std::vector<const MotsObject*> g, d, ignore;
    if (auto it = gt.find(frame); it != gt.end())
      for (const auto* o : it->second) (o->class_id == kIgnoreClass ? ignore : g).push_back(o);
    if (auto it = tr.find(frame); it != tr.end())
      for (const auto* o : it->second) d.push_back(o);
    std::erase_if(g, [&](const MotsObject* o) { return o->class_id != cls; });
    std::erase_if(d, [&](const MotsObject* o) { return o->class_id != cls; });

    std::vector<double> sim(g.size() * d.size());
    for (std::size_t i = 0; i < g.size(); ++i)
      for (std::size_t j = 0; j < d.size(); ++j) sim[i * d.size() + j] = mask_overlap(d[j]->mask, g[i]->mask, false);

    std::vector<char> matched(d.size(), 0);
    if (!g.empty() && !d.empty()) {
      auto scores = sim;
      for (auto& s : scores) if (s < 0.5 - kEps) s = -10000;
      for (auto [r, c] : maximise(scores, g.size(), d.size()))
        if (scores[static_cast<std::size_t>(r) * d.size() + static_cast<std::size_t>(c)] > kEps) matched[static_cast<std::size_t>(c)] = 1;
    }
    std::vector<char> keep(d.size(), 1);
    if (!ignore.empty()) {
      std::vector<Rle> parts;
      for (const auto* o : ignore) parts.push_back(o->mask);
      const Rle region = rle_merge(parts);
      for (std::size_t j = 0; j < d.size(); ++j)
        if (!matched[j] && mask_overlap(d[j]->mask, region, true) > 0.5 + kEps) keep[j] = 0;
    }
    Step& step = data.steps[t];
    std::vector<std::size_t> kept;
    for (std::size_t j = 0; j < d.size(); ++j) if (keep[j]) kept.push_back(j);
    step.sim.resize(g.size() * kept.size());
    for (std::size_t i = 0; i < g.size(); ++i)
      for (std::size_t k = 0; k < kept.size(); ++k) step.sim[i * kept.size() + k] = sim[i * d.size() + kept[k]];
    for (const auto* o : g) gt_raw[t].push_back(o->id);
    for (auto j : kept) tr_raw[t].push_back(d[j]->id);
  }
  // Relabel ids to 0 … n−1 in ascending order.
  auto relabel = [&](const std::vector<std::vector<std::int64_t>>& raw, bool is_gt) {
    std::set<std::int64_t> unique;
    for (const auto& ids : raw) unique.insert(ids.begin(), ids.end());
    const std::vector<std::int64_t> sorted(unique.begin(), unique.end());
    std::size_t dets = 0;
    for (std::size_t t = 0; t < length; ++t) {
      auto& out = is_gt ? data.steps[t].gt : data.steps[t].tr;
      for (auto id : raw[t])
        out.push_back(static_cast<int>(std::lower_bound(sorted.begin(), sorted.end(), id) - sorted.begin()));
      dets += raw[t].size();
    }
    (is_gt ? data.num_gt_ids : data.num_tr_ids) = sorted.size();
    (is_gt ? data.num_gt_dets : data.num_tr_dets) = dets;
  };
  relabel(gt_raw, true);
  relabel(tr_raw, false);
  return data;
}

// ---- metrics: summed fields per sequence, final values after combining ----------------------------

struct Clear { double tp = 0, fn = 0, fp = 0, idsw = 0, motp_sum = 0; };
struct Identity { double idtp = 0, idfn = 0, idfp = 0; };
struct Hota {
  std::array<double, kAlphas> tp{}, fn{}, fp{}, assa{}, loca{};
};

Clear clear_sequence(const SeqData& d) {
  Clear r;
  if (d.num_tr_dets == 0) { r.fn = static_cast<double>(d.num_gt_dets); return r; }
  if (d.num_gt_dets == 0) { r.fp = static_cast<double>(d.num_tr_dets); return r; }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<double> prev_tracker(d.num_gt_ids, nan), prev_timestep(d.num_gt_ids, nan);
  for (const auto& s : d.steps) {
    const std::size_t G = s.gt.size(), T = s.tr.size();
    if (G == 0) { r.fp += static_cast<double>(T); continue; }
    if (T == 0) { r.fn += static_cast<double>(G); continue; }
    std::vector<double> score(G * T);
    for (std::size_t i = 0; i < G; ++i)
      for (std::size_t j = 0; j < T; ++j) {
        const double sim = s.sim[i * T + j];
        const bool cont = prev_timestep[static_cast<std::size_t>(s.gt[i])] == s.tr[j];
        score[i * T + j] = sim < 0.5 - kEps ? 0.0 : 1000.0 * cont + sim;
      }
    std::vector<std::pair<int, int>> matches;
    for (auto [i, j] : maximise(score, G, T))
      if (score[static_cast<std::size_t>(i) * T + static_cast<std::size_t>(j)] > kEps) matches.emplace_back(i, j);
    std::fill(prev_timestep.begin(), prev_timestep.end(), nan);
    for (auto [i, j] : matches) {
      const auto g = static_cast<std::size_t>(s.gt[static_cast<std::size_t>(i)]);
      const double tid = s.tr[static_cast<std::size_t>(j)];
      if (!std::isnan(prev_tracker[g]) && prev_tracker[g] != tid) r.idsw += 1;
      prev_tracker[g] = tid;
      prev_timestep[g] = tid;
      r.motp_sum += s.sim[static_cast<std::size_t>(i) * T + static_cast<std::size_t>(j)];
    }
    r.tp += static_cast<double>(matches.size());
    r.fn += static_cast<double>(G - matches.size());
    r.fp += static_cast<double>(T - matches.size());
  }
  return r;
}

Identity identity_sequence(const SeqData& d) {
  Identity r;
  if (d.num_tr_dets == 0) { r.idfn = static_cast<double>(d.num_gt_dets); return r; }
  if (d.num_gt_dets == 0) { r.idfp = static_cast<double>(d.num_tr_dets); return r; }
  const std::size_t NG = d.num_gt_ids, NT = d.num_tr_ids, N = NG + NT;
  std::vector<double> potential(NG * NT, 0.0), gt_count(NG, 0.0), tr_count(NT, 0.0);
  for (const auto& s : d.steps) {
    const std::size_t T = s.tr.size();
    for (std::size_t i = 0; i < s.gt.size(); ++i)
      for (std::size_t j = 0; j < T; ++j)
        if (s.sim[i * T + j] >= 0.5) potential[static_cast<std::size_t>(s.gt[i]) * NT + static_cast<std::size_t>(s.tr[j])] += 1;
    for (int g : s.gt) gt_count[static_cast<std::size_t>(g)] += 1;
    for (int t : s.tr) tr_count[static_cast<std::size_t>(t)] += 1;
  }
  std::vector<double> fp(N * N, 0.0), fn(N * N, 0.0);
  for (std::size_t i = NG; i < N; ++i) for (std::size_t j = 0; j < NT; ++j) fp[i * N + j] = 1e10;
  for (std::size_t i = 0; i < NG; ++i) for (std::size_t j = NT; j < N; ++j) fn[i * N + j] = 1e10;
  for (std::size_t g = 0; g < NG; ++g) {
    for (std::size_t j = 0; j < NT; ++j) fn[g * N + j] = gt_count[g];
    fn[g * N + NT + g] = gt_count[g];
  }
  for (std::size_t t = 0; t < NT; ++t) {
    for (std::size_t i = 0; i < NG; ++i) fp[i * N + t] = tr_count[t];
    fp[(t + NG) * N + t] = tr_count[t];
  }
  for (std::size_t g = 0; g < NG; ++g)
    for (std::size_t t = 0; t < NT; ++t) {
      fn[g * N + t] -= potential[g * NT + t];
      fp[g * N + t] -= potential[g * NT + t];
    }
  std::vector<double> cost(N * N);
  for (std::size_t i = 0; i < N * N; ++i) cost[i] = fn[i] + fp[i];
  const auto r2c = linear_sum_assignment(cost, N, N);
  double total_gt = 0;
  for (double c : gt_count) total_gt += c;
  for (std::size_t i = 0; i < N; ++i) {
    r.idfn += fn[i * N + static_cast<std::size_t>(r2c[i])];
    r.idfp += fp[i * N + static_cast<std::size_t>(r2c[i])];
  }
  r.idtp = total_gt - r.idfn;
  return r;
}

Hota hota_sequence(const SeqData& d) {
  Hota r;
  if (d.num_tr_dets == 0) { r.fn.fill(static_cast<double>(d.num_gt_dets)); r.loca.fill(1.0); return r; }
  if (d.num_gt_dets == 0) { r.fp.fill(static_cast<double>(d.num_tr_dets)); r.loca.fill(1.0); return r; }
  const std::size_t NG = d.num_gt_ids, NT = d.num_tr_ids;
  std::vector<double> potential(NG * NT, 0.0), gt_count(NG, 0.0), tr_count(NT, 0.0);
  for (const auto& s : d.steps) {
    const std::size_t G = s.gt.size(), T = s.tr.size();
    std::vector<double> row(G, 0.0), col(T, 0.0);
    for (std::size_t i = 0; i < G; ++i)
      for (std::size_t j = 0; j < T; ++j) { row[i] += s.sim[i * T + j]; col[j] += s.sim[i * T + j]; }
    for (std::size_t i = 0; i < G; ++i)
      for (std::size_t j = 0; j < T; ++j) {
        const double sim = s.sim[i * T + j], denom = col[j] + row[i] - sim;
        if (denom > kEps)
          potential[static_cast<std::size_t>(s.gt[i]) * NT + static_cast<std::size_t>(s.tr[j])] += sim / denom;
      }
    for (int g : s.gt) gt_count[static_cast<std::size_t>(g)] += 1;
    for (int t : s.tr) tr_count[static_cast<std::size_t>(t)] += 1;
  }
  std::vector<double> align(NG * NT);
  for (std::size_t g = 0; g < NG; ++g)
    for (std::size_t t = 0; t < NT; ++t)
      align[g * NT + t] = potential[g * NT + t] / (gt_count[g] + tr_count[t] - potential[g * NT + t]);
  std::vector<std::vector<double>> matches(kAlphas, std::vector<double>(NG * NT, 0.0));
  for (const auto& s : d.steps) {
    const std::size_t G = s.gt.size(), T = s.tr.size();
    if (G == 0) { for (auto& v : r.fp) v += static_cast<double>(T); continue; }
    if (T == 0) { for (auto& v : r.fn) v += static_cast<double>(G); continue; }
    std::vector<double> score(G * T);
    for (std::size_t i = 0; i < G; ++i)
      for (std::size_t j = 0; j < T; ++j)
        score[i * T + j] = align[static_cast<std::size_t>(s.gt[i]) * NT + static_cast<std::size_t>(s.tr[j])] * s.sim[i * T + j];
    const auto pairs = maximise(score, G, T);
    for (std::size_t a = 0; a < kAlphas; ++a) {
      double n = 0;
      for (auto [i, j] : pairs) {
        const double sim = s.sim[static_cast<std::size_t>(i) * T + static_cast<std::size_t>(j)];
        if (sim < alpha(a) - kEps) continue;
        n += 1;
        r.loca[a] += sim;
        matches[a][static_cast<std::size_t>(s.gt[static_cast<std::size_t>(i)]) * NT + static_cast<std::size_t>(s.tr[static_cast<std::size_t>(j)])] += 1;
      }
      r.tp[a] += n;
      r.fn[a] += static_cast<double>(G) - n;
      r.fp[a] += static_cast<double>(T) - n;
    }
  }
  for (std::size_t a = 0; a < kAlphas; ++a) {
    double sum = 0;
    for (std::size_t g = 0; g < NG; ++g)
      for (std::size_t t = 0; t < NT; ++t) {
        const double m = matches[a][g * NT + t];
        sum += m * (m / std::max(1.0, gt_count[g] + tr_count[t] - m));
      }
    r.assa[a] = sum / std::max(1.0, r.tp[a]);
    r.loca[a] = std::max(1e-10, r.loca[a]) / std::max(1e-10, r.tp[a]);
  }
  return r;
}

/// combine_sequences of CLEAR, Identity and HOTA, then the final fields.
MotsScores combine(const std::vector<Clear>& clears, const std::vector<Identity>& ids,
                   const std::vector<Hota>& hotas) {
  MotsScores s;
  Clear c;
  for (const auto& x : clears) { c.tp += x.tp; c.fn += x.fn; c.fp += x.fp; c.idsw += x.idsw; c.motp_sum += x.motp_sum; }
  s.tp = static_cast<std::int64_t>(c.tp); s.fn = static_cast<std::int64_t>(c.fn);
  s.fp = static_cast<std::int64_t>(c.fp); s.idsw = static_cast<std::int64_t>(c.idsw);
  s.motp_sum = c.motp_sum;
  const double gt_dets = std::max(1.0, c.tp + c.fn);
  s.motsa = (c.tp - c.fp - c.idsw) / gt_dets;
  s.motsp = c.motp_sum / std::max(1.0, c.tp);
  s.smotsa = (c.motp_sum - c.fp - c.idsw) / gt_dets;

  Identity i;
  for (const auto& x : ids) { i.idtp += x.idtp; i.idfn += x.idfn; i.idfp += x.idfp; }
  s.idtp = static_cast<std::int64_t>(i.idtp); s.idfn = static_cast<std::int64_t>(i.idfn);
  s.idfp = static_cast<std::int64_t>(i.idfp);
  s.idr = i.idtp / std::max(1.0, i.idtp + i.idfn);
  s.idp = i.idtp / std::max(1.0, i.idtp + i.idfp);
  s.idf1 = i.idtp / std::max(1.0, i.idtp + 0.5 * i.idfp + 0.5 * i.idfn);

  for (std::size_t a = 0; a < kAlphas; ++a) {
    double tp = 0, fn = 0, fp = 0, assa = 0, loca = 0;
    for (const auto& h : hotas) {
      tp += h.tp[a]; fn += h.fn[a]; fp += h.fp[a];
      assa += h.assa[a] * h.tp[a];
      loca += h.loca[a] * h.tp[a];
    }
    assa /= std::max(1.0, tp);
    loca = std::max(1e-10, loca) / std::max(1e-10, tp);
    const double deta = tp / std::max(1.0, tp + fn + fp);
    s.hota_alpha[a] = std::sqrt(deta * assa);
    s.hota += s.hota_alpha[a] / kAlphas;
    s.deta += deta / kAlphas;
    s.assa += assa / kAlphas;
    s.loca += loca / kAlphas;
  }
  return s;
}

}  // namespace

MotsSequence parse_mots_txt(std::string_view text, std::string name) {
  MotsSequence seq{std::move(name), {}};
  std::istringstream in{std::string(text)};
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::istringstream fields(line);
    MotsObject o;
    std::uint32_t h = 0, w = 0;
    std::string counts;
    double frame = 0;
    if (!(fields >> frame >> o.id >> o.class_id >> h >> w >> counts))
      throw Error(ErrorCode::CorruptData, "MOTS txt line " + std::to_string(line_no) + " is malformed");
    // TrackEval reads the frame as a float and truncates it; beyond ±2^53 (or NaN) it is no frame
    // number (and converting it would be undefined behaviour)
    if (!(std::fabs(frame) < 9007199254740992.0))
      throw Error(ErrorCode::CorruptData, "MOTS txt line " + std::to_string(line_no) +
                                              ": frame number out of range");
    o.frame = static_cast<std::int64_t>(frame);
    o.mask = rle_from_string(counts, {h, w});
    seq.objects.push_back(std::move(o));
  }
  return seq;
}

MotsSequence load_mots_txt(const std::filesystem::path& path) {
  return parse_mots_txt(detail::read_file(path), path.stem().string());
}

MotsResult evaluate_mots(std::span<const MotsSequence> gt, std::span<const MotsSequence> tracker,
                         MotsBenchmark benchmark, std::span<const std::size_t> lengths) {
  if (gt.size() != tracker.size())
    throw Error(ErrorCode::InvalidArgument, "evaluate_mots: as many tracker as ground-truth sequences");
  if (!lengths.empty() && lengths.size() != gt.size())
    throw Error(ErrorCode::InvalidArgument, "evaluate_mots: one length per sequence");
  const std::int64_t first = benchmark == MotsBenchmark::KittiMots ? 0 : 1;
  const std::vector<std::pair<std::string, std::int64_t>> classes =
      benchmark == MotsBenchmark::KittiMots
          ? std::vector<std::pair<std::string, std::int64_t>>{{"car", 1}, {"pedestrian", 2}}
          : std::vector<std::pair<std::string, std::int64_t>>{{"pedestrian", 2}};

  std::vector<FrameMap> gt_frames, tr_frames;
  std::vector<std::size_t> lens;
  for (std::size_t i = 0; i < gt.size(); ++i) {
    gt_frames.push_back(by_frame(gt[i]));
    FrameMap tr = by_frame(tracker[i]);
    for (auto& [f, objs] : tr) std::erase_if(objs, [](const MotsObject* o) { return o->class_id == kIgnoreClass; });
    tr_frames.push_back(std::move(tr));
    std::int64_t last = first - 1;
    for (const auto* frames : {&gt_frames.back(), &tr_frames.back()})
      if (!frames->empty()) last = std::max(last, frames->rbegin()->first);
    const std::size_t len = lengths.empty() || lengths[i] == 0 ? static_cast<std::size_t>(last - first + 1) : lengths[i];
    for (const auto* frames : {&gt_frames.back(), &tr_frames.back()})
      if (!frames->empty() && (frames->begin()->first < first ||
                               frames->rbegin()->first >= first + static_cast<std::int64_t>(len)))
        throw Error(ErrorCode::InvalidArgument, "sequence " + gt[i].name + " has frames outside 0 … length");
    for (const auto& [f, objs] : gt_frames.back()) check_no_overlap(objs, "ground truth " + gt[i].name);
    for (const auto& [f, objs] : tr_frames.back()) check_no_overlap(objs, "tracker " + tracker[i].name);
    lens.push_back(len);
  }
  MotsResult result;
  for (const auto& [name, cls] : classes) {
    std::vector<Clear> clears;
    std::vector<Identity> ids;
    std::vector<Hota> hotas;
    for (std::size_t i = 0; i < gt.size(); ++i) {
      const SeqData data = preprocess(gt_frames[i], tr_frames[i], cls, first, lens[i]);
      clears.push_back(clear_sequence(data));
      ids.push_back(identity_sequence(data));
      hotas.push_back(hota_sequence(data));
    }
    result.classes[name] = combine(clears, ids, hotas);
  }
  return result;
}

}  // namespace vmt::eval
