// vmt-eval: evaluation of vmtexport's result files against ground truth (docs/evaluation.md).
//
//   vmt-eval ytvis    GT.json RESULTS.json [--iou segm|boundary|both] [--max-dets 1,10,100]
//                     [--class-agnostic]
//   vmt-eval mots     GT_DIR_OR_TXT TRACKER_DIR_OR_TXT [--benchmark kitti|motschallenge]
//   vmt-eval bdd100k  GT.json|DIR PRED.json|DIR
// Add --json to print one JSON object instead of the text summary. --help prints the usage (exit
// 0); an unknown command, option or value is exit status 2; a file that cannot be read or scored,
// exit status 1.
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_args.h"
#include "vmt/error.h"
#include "vmt/eval.h"

namespace fs = std::filesystem;
using nlohmann::json;
namespace ev = vmt::eval;

namespace {

constexpr const char* kUsage =
    "usage: vmt-eval ytvis GT.json RESULTS.json [--iou segm|boundary|both] [--max-dets 1,10,100]\n"
    "                      [--class-agnostic] [--json]\n"
    "       vmt-eval mots GT TRACKER [--benchmark kitti|motschallenge] [--json]\n"
    "       vmt-eval bdd100k GT PRED [--json]\n"
    "--iou: segm (= mask) the Tube-Mask AP, boundary the Tube-Boundary AP, both (default).\n"
    "MOTS: GT and TRACKER are .txt files or folders of <seq>.txt (sequences matched by name).\n"
    "exit status: 0 done, 1 a file could not be read or scored, 2 bad command line\n";

/// Options after the two positional paths.
struct Options {
  std::string iou = "both";  ///< "mask", "boundary" or "both"
  std::vector<int> max_dets{1, 10, 100};
  ev::MotsBenchmark benchmark = ev::MotsBenchmark::KittiMots;
  bool as_json = false;
  bool class_agnostic = false;  ///< ytvis: every category mapped to one
};

/// --max-dets: whole numbers >= 1, comma-separated; why not, or "".
std::string max_dets_problem(const std::string& text) {
  std::stringstream in(text);
  int count = 0;
  for (std::string item; std::getline(in, item, ','); ++count) {
    const char* end = item.data() + item.size();
    int value = 0;
    const auto [stop, error] = std::from_chars(item.data(), end, value);
    if (item.empty() || error != std::errc() || stop != end || value < 1)
      return "expects whole numbers >= 1 separated by commas, not '" + text + "'";
  }
  return count > 0 ? "" : "expects at least one number";
}

std::vector<int> parse_int_list(const std::string& text) {
  std::vector<int> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

/// The modes and their options: anything else is refused with exit status 2.
std::vector<vmt::cli::Command> commands() {
  using vmt::cli::Kind;
  const vmt::cli::Option json{"json", Kind::Switch};
  return {
      {"ytvis", 2,
       {{"iou", Kind::Choice, {"segm", "mask", "boundary", "both"}},
        {"max-dets", Kind::Text, {}, max_dets_problem}, {"class-agnostic", Kind::Switch}, json}},
      {"mots", 2, {{"benchmark", Kind::Choice, {"kitti", "motschallenge"}}, json}},
      {"bdd100k", 2, {json}},
  };
}

Options options_of(const vmt::cli::Args& args) {
  Options o;
  o.as_json = args.has("json");
  o.iou = args.get("iou", "both");
  if (o.iou == "segm") o.iou = "mask";  // pycocotools' name of the mask IoU
  if (args.has("max-dets")) o.max_dets = parse_int_list(args.get("max-dets", ""));
  if (args.get("benchmark", "kitti") == "motschallenge")
    o.benchmark = ev::MotsBenchmark::MotsChallenge;
  o.class_agnostic = args.has("class-agnostic");
  return o;
}

int run_ytvis(const fs::path& gt_path, const fs::path& res_path, const Options& o) {
  auto gt = ev::load_vis_ground_truth(gt_path);
  auto results = ev::load_vis_results(res_path, gt);
  if (o.class_agnostic) ev::merge_categories(gt, results);
  json out = json::object();
  if (o.as_json && o.class_agnostic) out["class_agnostic"] = true;
  for (const char* type : {"mask", "boundary"}) {
    if (o.iou != "both" && o.iou != type) continue;
    ev::VisParams p;
    p.iou_type = std::string(type) == "mask" ? ev::VisIouType::Mask : ev::VisIouType::Boundary;
    p.max_dets = o.max_dets;
    const auto s = ev::evaluate_vis(gt, results, p);
    if (o.as_json) {
      json cats = json::object();
      for (const auto& [c, ap] : s.category_ap) cats[std::to_string(c)] = ap;
      out[type] = {{"stats", s.stats}, {"category_ap", cats}};
    } else {
      std::cout << (p.iou_type == ev::VisIouType::Mask ? "Tube-Mask AP (segm)" : "Tube-Boundary AP (boundary)")
                << (o.class_agnostic ? ", class-agnostic (every category mapped to one)\n" : "\n");
      for (const auto& line : s.lines) std::cout << line << '\n';
      for (const auto& [c, ap] : s.category_ap) std::printf(" category %lld AP = %0.3f\n", static_cast<long long>(c), ap);
    }
  }
  if (o.as_json) std::cout << out.dump(2) << '\n';
  return 0;
}

/// Sequence files: the .txt itself, or every .txt of a folder sorted by name.
std::vector<fs::path> sequence_files(const fs::path& p) {
  if (!fs::is_directory(p)) return {p};
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(p))
    if (e.path().extension() == ".txt") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

int run_mots(const fs::path& gt_path, const fs::path& tr_path, const Options& o) {
  std::vector<ev::MotsSequence> gts, trs;
  for (const auto& f : sequence_files(gt_path)) {
    gts.push_back(ev::load_mots_txt(f));
    const fs::path tr_file = fs::is_directory(tr_path) ? tr_path / f.filename() : tr_path;
    trs.push_back(fs::exists(tr_file) ? ev::load_mots_txt(tr_file) : ev::MotsSequence{f.stem().string(), {}});
  }
  const auto r = ev::evaluate_mots(gts, trs, o.benchmark);
  json out = json::object();
  for (const auto& [name, s] : r.classes) {
    out[name] = {{"sMOTSA", 100 * s.smotsa}, {"MOTSA", 100 * s.motsa}, {"MOTSP", 100 * s.motsp},
                 {"IDF1", 100 * s.idf1}, {"HOTA", 100 * s.hota}, {"DetA", 100 * s.deta},
                 {"AssA", 100 * s.assa}, {"LocA", 100 * s.loca}, {"TP", s.tp}, {"FN", s.fn},
                 {"FP", s.fp}, {"IDSW", s.idsw}, {"IDTP", s.idtp}, {"IDFN", s.idfn}, {"IDFP", s.idfp}};
    if (!o.as_json)
      std::printf("%-10s sMOTSA %6.2f  MOTSA %6.2f  MOTSP %6.2f  IDF1 %6.2f  HOTA %6.2f  "
                  "(TP %lld FN %lld FP %lld IDSW %lld)\n",
                  name.c_str(), 100 * s.smotsa, 100 * s.motsa, 100 * s.motsp, 100 * s.idf1,
                  100 * s.hota, static_cast<long long>(s.tp), static_cast<long long>(s.fn),
                  static_cast<long long>(s.fp), static_cast<long long>(s.idsw));
  }
  if (o.as_json) std::cout << out.dump(2) << '\n';
  return 0;
}

int run_bdd(const fs::path& gt_path, const fs::path& pred_path, const Options& o) {
  const auto r = ev::evaluate_bdd100k_mots(ev::load_scalabel(gt_path), ev::load_scalabel(pred_path));
  json out = {{"mMOTSA", r.mmotsa}, {"mMOTSP", r.mmotsp}, {"mIDF1", r.midf1}};
  auto row = [&](const std::string& name, const ev::BddClassScores& s) {
    out["classes"][name] = {{"MOTSA", s.mota}, {"MOTSP", s.motp}, {"IDF1", s.idf1},
                            {"FP", s.fp}, {"FN", s.fn}, {"IDSw", s.idsw}};
    if (!o.as_json)
      std::printf("%-11s MOTSA %7.2f  MOTSP %7.2f  IDF1 %7.2f  FP %lld FN %lld IDSw %lld\n",
                  name.c_str(), s.mota, s.motp, s.idf1, static_cast<long long>(s.fp),
                  static_cast<long long>(s.fn), static_cast<long long>(s.idsw));
  };
  for (const auto& [name, s] : r.classes) row(name, s);
  row("OVERALL", r.overall);
  if (o.as_json) std::cout << out.dump(2) << '\n';
  else std::printf("mMOTSA %.2f  mMOTSP %.2f  mIDF1 %.2f\n", r.mmotsa, r.mmotsp, r.midf1);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string mode = argv[1];
  if (mode == "-h" || mode == "--help") {
    std::cout << kUsage;
    return 0;
  }
  try {
    const auto args = vmt::cli::parse_command(argc, argv, vmt::cli::find_command(commands(), mode));
    if (args.help) {
      std::cout << kUsage;
      return 0;
    }
    const Options o = options_of(args);
    const auto& files = args.positional;
    if (mode == "ytvis") return run_ytvis(files[0], files[1], o);
    if (mode == "mots") return run_mots(files[0], files[1], o);
    return run_bdd(files[0], files[1], o);
  } catch (const vmt::cli::UsageError& e) {
    std::cerr << "vmt-eval: " << e.what() << "\n(vmt-eval --help for the modes)\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "vmt-eval: " << e.what() << '\n';
    return 1;
  }
}
