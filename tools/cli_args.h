// Command-line parsing shared by the vmt-model and vmt-train tools: `tool COMMAND [ARGS]` where
// ARGS are positional words and `--key value` options (`-o` is `--output`).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "vmt/error.h"

namespace vmt::cli {

/// Options as key → value (keys without the leading "--") and the positional words.
struct Args {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;

  /// Parses argv[first..argc). Throws vmt::Error(InvalidArgument) for an option without a value.
  static Args parse(int argc, char** argv, int first = 2) {
    Args args;
    for (int i = first; i < argc; ++i) {
      std::string word = argv[i];
      if (word == "-o") word = "--output";
      if (word.rfind("--", 0) == 0) {
        if (i + 1 >= argc) throw Error(ErrorCode::InvalidArgument, word + " needs a value");
        args.options[word.substr(2)] = argv[++i];
      } else {
        args.positional.push_back(word);
      }
    }
    return args;
  }

  bool has(const std::string& key) const { return options.count(key) > 0; }

  std::string get(const std::string& key, const std::string& fallback) const {
    const auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  }

  /// The option as a number; throws vmt::Error(InvalidArgument) when it is not one.
  double get_num(const std::string& key, double fallback) const {
    const auto it = options.find(key);
    if (it == options.end()) return fallback;
    try {
      std::size_t used = 0;
      const double value = std::stod(it->second, &used);
      if (used != it->second.size()) throw std::invalid_argument(it->second);
      return value;
    } catch (const std::exception&) {
      throw Error(ErrorCode::InvalidArgument, "--" + key + ": not a number: " + it->second);
    }
  }

  /// The option's value; throws vmt::Error(InvalidArgument) when it is absent.
  std::string require(const std::string& key) const {
    const auto it = options.find(key);
    if (it == options.end()) throw Error(ErrorCode::InvalidArgument, "--" + key + " is required");
    return it->second;
  }
};

}  // namespace vmt::cli
