#include "trainer.h"

#include <torch/nn/init.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/serialize.h>
#include <torch/torch.h>

#include <cmath>
#include <numbers>
#include <unordered_set>

#include "vmt/error.h"
#include "../model/parallel_tasks.h"
#include "../weights/state_dict.h"

namespace vmt::train {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool contains(const std::string& s, std::string_view part) { return s.find(part) != std::string::npos; }

/// The official MSDeformAttn sampling-offset bias: [M, L, P, 2] direction grid, flattened.
torch::Tensor offset_grid(std::int64_t heads, std::int64_t levels, std::int64_t points) {
  const auto thetas = torch::arange(heads, torch::kFloat32) * (2.0 * std::numbers::pi / heads);
  auto grid = torch::stack({thetas.cos(), thetas.sin()}, -1);           // [M, 2]
  grid = grid / grid.abs().amax(-1, true);
  grid = grid.view({heads, 1, 1, 2}).repeat({1, levels, points, 1});
  for (std::int64_t i = 0; i < points; ++i) {
    grid.select(2, i).mul_(static_cast<double>(i + 1));
  }
  return grid.flatten();
}

/// Whether a parameter is trained: not the backbone's conv1 / layer1 (official: only layer2..4
/// of the backbone are trained) and not a buffer-like frozen tensor.
bool is_trainable(const std::string& name, bool freeze_stem) {
  if (!freeze_stem || !contains(name, "detr.backbone.")) return true;
  return contains(name, "layer2") || contains(name, "layer3") || contains(name, "layer4");
}

/// Copies every parameter and buffer of `from` into `to` (same configuration, any devices).
void copy_weights(const engine::Model& from, engine::Model& to) {
  torch::NoGradGuard no_grad;
  auto params = to->named_parameters();
  for (const auto& item : from->named_parameters()) params[item.key()].copy_(item.value());
  auto buffers = to->named_buffers();
  for (const auto& item : from->named_buffers()) buffers[item.key()].copy_(item.value());
}

bool is_backbone(const std::string& name) { return contains(name, "detr.backbone."); }
bool is_linear_proj(const std::string& name) {
  return contains(name, "sampling_offsets") || contains(name, "reference_points");
}

}  // namespace

void apply_official_init(engine::Model& model) {
  torch::NoGradGuard no_grad;
  const auto& c = model->config;
  const double prior_bias = -std::log((1 - 0.01) / 0.01);
  const std::string last_box_layer = ".layers.2.";
  for (auto& item : model->named_parameters()) {
    const auto& name = item.key();
    auto p = item.value();
    if (contains(name, "sampling_offsets.")) {
      if (ends_with(name, "weight")) {
        p.zero_();
      } else {
        const auto points = p.numel() / (c.nheads * c.num_feature_levels * 2);
        p.copy_(offset_grid(c.nheads, c.num_feature_levels, points));
      }
    } else if (contains(name, "attention_weights.") && !contains(name, "time_attention")) {
      p.zero_();
    } else if (contains(name, "class_embed.") && ends_with(name, "bias")) {
      p.fill_(prior_bias);
    } else if (contains(name, "bbox_embed.") && contains(name, last_box_layer)) {
      p.zero_();
      if (ends_with(name, "bias") && contains(name, "bbox_embed.0.")) p.narrow(0, 2, 2).fill_(-2.0);
    } else if (contains(name, "detr.input_proj.") && ends_with(name, ".0.weight")) {
      torch::nn::init::xavier_uniform_(p);
    } else if (contains(name, "detr.input_proj.") && ends_with(name, ".0.bias")) {
      p.zero_();
    } else if (ends_with(name, "level_embed")) {
      torch::nn::init::normal_(p);
    }
  }
}

Trainer::Trainer(engine::Model model, engine::ModelHeader header, const torch::Device& device,
                 OptimOptions optim, LossWeights losses, MatcherWeights matcher,
                 RefineOptions refine)
    : model_(std::move(model)),
      header_(std::move(header)),
      device_(device),
      optim_options_(optim),
      loss_weights_(losses),
      matcher_weights_(matcher),
      refine_(refine) {
  // Only a refinement head trained together with this detector may be used by the engine.
  header_.config.use_refinement = refine_.enabled;
  model_->to(device_);
  model_->train();
  std::vector<torch::Tensor> main, backbone, linear_proj;
  std::unordered_set<const void*> seen;
  for (auto& item : model_->named_parameters()) {
    const auto& name = item.key();
    auto p = item.value();
    // The two copies of the box heads (detr.bbox_embed, detr.transformer.decoder.bbox_embed) are
    // one tensor listed twice: optimise it once.
    if (!seen.insert(p.unsafeGetTensorImpl()).second) continue;
    if (!is_trainable(name, optim.freeze_stem)) {
      p.set_requires_grad(false);
      continue;
    }
    (is_backbone(name) ? backbone : is_linear_proj(name) ? linear_proj : main).push_back(p);
    trainable_.push_back(p);
    trainable_names_.push_back(name);
  }
  auto group = [&](std::vector<torch::Tensor> params, double lr) {
    auto o = std::make_unique<torch::optim::AdamWOptions>(lr);
    o->weight_decay(optim.weight_decay);
    return torch::optim::OptimizerParamGroup(std::move(params), std::move(o));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.push_back(group(main, optim.lr));
  groups.push_back(group(backbone, optim.lr_backbone));
  groups.push_back(group(linear_proj, optim.lr * optim.lr_linear_proj_mult));
  optimizer_ = std::make_unique<torch::optim::AdamW>(
      std::move(groups), torch::optim::AdamWOptions(optim.lr).weight_decay(optim.weight_decay));
}

const std::vector<std::string>& loss_term_names() {
  static const std::vector<std::string> names = {
      "total",    "cls",      "bbox",     "giou",         "mask",         "dice",     "aux",
      "point_l1", "point_dice", "inc_mask", "inc_dice", "refined_mask", "refined_dice"};
  return names;
}

LossTerms Trainer::losses_of(engine::Model& model, const Clip& clip, std::int64_t clip_index) {
  auto& det = engine::detector_of(model);
  const auto out = det->forward(clip.frames);
  const auto q = out.pred_logits.size(1);
  const auto all = torch::arange(q, torch::TensorOptions().dtype(torch::kInt64).device(device_));
  const Predictions pred{out.pred_logits[0], out.pred_boxes[0], det->coarse_mask_logits(out, all)};
  Match match;
  auto terms = compute_losses(pred, clip.targets, loss_weights_, matcher_weights_, &match);
  // auxiliary losses: every earlier decoder layer's heads, matched on their own (official
  // aux_outputs); "aux" is the sum of their weighted totals
  auto aux = torch::zeros({}, pred.logits.options());
  for (std::size_t layer = 0; layer + 1 < out.decoder_layers.size(); ++layer) {
    const auto heads = det->layer_heads(out, layer);
    const Predictions layer_pred{heads.pred_logits[0], heads.pred_boxes[0],
                                 det->coarse_mask_logits(heads, all)};
    aux = aux + compute_losses(layer_pred, clip.targets, loss_weights_, matcher_weights_).at("total");
  }
  terms["aux"] = aux;
  terms["total"] = terms["total"] + aux;
  if (refine_.enabled && match.query_indices.numel() > 0) {
    // QSG draws from (run seed, step) only, like the clips: a resumed run repeats it.
    model::PointSampling sampling;
    sampling.qsg_budget = refine_.qsg_points;
    sampling.qsg_seed = state_.seed * 0x9E3779B97F4A7C15ULL + static_cast<std::uint64_t>(state_.step) +
                        static_cast<std::uint64_t>(clip_index) * 0xD1B54A32D192ED03ULL;
    model::RefinementTrace trace;
    model::refine_masks(model, out, clip.frames, match.query_indices, &trace, sampling);
    const auto targets = clip.targets.masks.index_select(0, match.target_indices.to(device_));
    auto refine_terms = refinement_losses(trace, targets, refine_.weights);
    terms["total"] = terms["total"] + refine_terms.at("refine_total");
    refine_terms.erase("refine_total");
    terms.merge(refine_terms);
  }
  return terms;
}

namespace {
/// Every reported term as a double (absent ones 0).
std::map<std::string, double> to_doubles(const LossTerms& terms) {
  std::map<std::string, double> out;
  for (const auto& name : loss_term_names()) {
    const auto it = terms.find(name);
    out[name] = it == terms.end() ? 0.0 : it->second.detach().to(torch::kCPU).item<double>();
  }
  return out;
}
}  // namespace

std::map<std::string, double> Trainer::step(const Clip& clip) {
  return step(std::span<const Clip>(&clip, 1));
}

void Trainer::prepare_replicas(std::size_t count) {
  while (replicas_.size() < count) {
    engine::Model copy(header_.config);
    copy->to(device_);
    copy->train();
    auto params = copy->named_parameters();
    for (const auto& item : model_->named_parameters()) {
      params[item.key()].set_requires_grad(item.value().requires_grad());
    }
    replicas_.push_back(copy);
  }
  for (std::size_t i = 0; i < count; ++i) {
    copy_weights(model_, replicas_[i]);
    replicas_[i]->zero_grad();
  }
}

std::map<std::string, double> Trainer::step(std::span<const Clip> clips, int workers) {
  if (clips.empty()) throw Error(ErrorCode::InvalidArgument, "Trainer::step: no clips");
  const auto count = clips.size();
  model_->train();
  optimizer_->zero_grad();
  prepare_replicas(count - 1);
  auto model_for = [&](std::size_t clip) -> engine::Model& {
    return clip == 0 ? model_ : replicas_[clip - 1];
  };
  std::vector<std::map<std::string, double>> losses(count);
  model::run_tasks(static_cast<std::int64_t>(count), workers, [&](std::int64_t i) {
    const auto index = static_cast<std::size_t>(i);
    const auto terms = losses_of(model_for(index), clips[index].to(device_), i);
    auto total = terms.at("total");
    // the mean of the clips' losses (a batch of one as it always was)
    (count == 1 ? total : total / static_cast<double>(count)).backward();
    losses[index] = to_doubles(terms);
  });
  {
    torch::NoGradGuard no_grad;
    for (std::size_t i = 1; i < count; ++i) {
      auto params = model_for(i)->named_parameters();
      for (std::size_t k = 0; k < trainable_.size(); ++k) {
        const auto& grad = params[trainable_names_[k]].grad();
        if (!grad.defined()) continue;
        auto& mine = trainable_[k].mutable_grad();
        if (mine.defined()) {
          mine.add_(grad);
        } else {
          mine = grad.clone();
        }
      }
    }
  }
  if (optim_options_.clip_max_norm > 0) {
    torch::nn::utils::clip_grad_norm_(trainable_, optim_options_.clip_max_norm);
  }
  optimizer_->step();
  ++state_.step;
  auto mean = losses[0];
  if (count > 1) {
    for (auto& [name, value] : mean) {
      double sum = 0;
      for (const auto& l : losses) sum += l.at(name);
      value = sum / static_cast<double>(count);
    }
  }
  return mean;
}

std::map<std::string, double> Trainer::evaluate(const Clip& clip) {
  torch::NoGradGuard no_grad;
  const Clip c = clip.to(device_);
  return to_doubles(losses_of(model_, c));
}

std::filesystem::path Trainer::sidecar_path(const std::filesystem::path& path) {
  auto s = path;
  s += ".optim";
  return s;
}

void Trainer::save(const std::filesystem::path& path) const {
  // The model file on the CPU (the engine loads CPU fp32); copy when training elsewhere.
  if (device_.is_cpu()) {
    engine::save_model(model_, header_, path);
  } else {
    auto copy = engine::Model(header_.config);
    copy_weights(model_, copy);
    engine::save_model(copy, header_, path);
  }
  torch::serialize::OutputArchive archive;
  optimizer_->save(archive);
  archive.write("vmt_train_step", torch::tensor(state_.step, torch::kInt64));
  archive.write("vmt_train_seed",
                torch::tensor(static_cast<std::int64_t>(state_.seed), torch::kInt64));
  const auto sidecar = sidecar_path(path);
  auto tmp = sidecar;
  tmp += ".tmp";
  archive.save_to(tmp.string());
  std::filesystem::rename(tmp, sidecar);
}

void Trainer::resume(const std::filesystem::path& path) {
  const auto sidecar = sidecar_path(path);
  for (const auto& p : {path, sidecar}) {
    if (!std::filesystem::exists(p)) {
      throw Error(ErrorCode::NotFound, "cannot resume: " + p.string() + " does not exist");
    }
  }
  const auto file = weights::SafetensorsFile::open(path);
  weights::load_state_dict(*model_, file);
  torch::serialize::InputArchive archive;
  archive.load_from(sidecar.string(), device_);
  optimizer_->load(archive);
  torch::Tensor step, seed;
  archive.read("vmt_train_step", step);
  archive.read("vmt_train_seed", seed);
  state_.step = step.item<std::int64_t>();
  state_.seed = static_cast<std::uint64_t>(seed.item<std::int64_t>());
}

}  // namespace vmt::train
