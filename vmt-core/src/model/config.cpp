#include "config.h"

#include <string>

#include "vmt/error.h"

namespace vmt::model {

namespace {

void require(bool ok, const std::string& what) {
  if (!ok) throw Error(ErrorCode::InvalidArgument, "ModelConfig: " + what);
}

}  // namespace

std::vector<std::int64_t> ModelConfig::resnet_blocks() const {
  if (backbone == "resnet50") return {3, 4, 6, 3};
  if (backbone == "resnet101") return {3, 4, 23, 3};
  throw Error(ErrorCode::InvalidArgument,
              "ModelConfig: unsupported backbone '" + backbone + "' (resnet50, resnet101)");
}

std::int64_t ModelConfig::num_dynamic_params() const {
  const std::int64_t in = mask_feat_channels() + (rel_coord ? 2 : 0);
  const std::int64_t ch = dynamic_mask_channels;
  std::int64_t total = 0;
  for (std::int64_t l = 0; l < controller_layers; ++l) {
    if (l == 0) {
      total += in * ch + ch;
    } else if (l == controller_layers - 1) {
      total += ch + 1;
    } else {
      total += ch * ch + ch;
    }
  }
  return total;
}

void ModelConfig::validate() const {
  (void)resnet_blocks();
  require(hidden_dim > 0 && hidden_dim % 32 == 0, "hidden_dim must be a positive multiple of 32 "
                                                  "(GroupNorm(32) and hidden_dim / 32 mask channels)");
  require(nheads > 0 && hidden_dim % nheads == 0, "hidden_dim must be divisible by nheads");
  require(hidden_dim % 2 == 0, "hidden_dim must be even (sine position encoding)");
  require(enc_layers >= 0, "enc_layers must be >= 0");
  require(dec_layers >= 1, "dec_layers must be >= 1");
  require(dim_feedforward > 0, "dim_feedforward must be > 0");
  require(num_feature_levels >= 4,
          "num_feature_levels must be >= 4 (the mask head reads levels 0..2 of the memory and "
          "the backbone gives three)");
  require(enc_n_points > 0 && dec_n_points > 0, "n_points must be > 0");
  require(num_queries > 0, "num_queries must be > 0");
  require(num_classes > 0, "num_classes must be > 0");
  require(dynamic_mask_channels > 0, "dynamic_mask_channels must be > 0");
  require(controller_layers >= 2, "controller_layers must be >= 2");
  require(mask_out_stride > 0 && 8 % mask_out_stride == 0,
          "mask_out_stride must divide the mask feature stride 8");
  require(frozen_bn_eps > 0.0, "frozen_bn_eps must be > 0");
  require(with_box_refine, "only with_box_refine = true (the released models) is supported");
}

ModelConfig vmt_r50() { return ModelConfig{}; }

ModelConfig vmt_r101() {
  ModelConfig c;
  c.backbone = "resnet101";
  return c;
}

ModelConfig tiny() {
  ModelConfig c;
  c.enc_layers = 1;
  c.dec_layers = 2;
  c.dim_feedforward = 256;
  c.num_queries = 16;
  return c;
}

ModelConfig preset(std::string_view name) {
  if (name == "vmt_r50") return vmt_r50();
  if (name == "vmt_r101") return vmt_r101();
  if (name == "tiny") return tiny();
  throw Error(ErrorCode::InvalidArgument,
              "unknown model preset '" + std::string(name) + "' (vmt_r50, vmt_r101, tiny)");
}

}  // namespace vmt::model
