// Command-line parsing shared by vmt-model, vmt-train and vmt-eval: `tool COMMAND [ARGS]` where
// ARGS are positional words and `--key value` options (`-o` is `--output`), checked against the
// command's list of options: an unknown option, a missing value or a value of the wrong kind is a
// UsageError (the tools print it with a hint and exit with status 2); `-h`/`--help` anywhere
// asks for the usage text (exit status 0).
#pragma once

#include <charconv>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace vmt::cli {

/// A command-line mistake: the message names the option or word; exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// What an option's value must look like.
enum class Kind {
  Text,     ///< anything
  Integer,  ///< a whole number
  Number,   ///< a decimal number
  Flag,     ///< 0 or 1
  Size,     ///< WxH, both whole numbers >= 1
  Choice,   ///< one of `choices`
  Switch,   ///< no value: present or not
};

struct Option {
  std::string name;  ///< without the leading "--"
  Kind kind = Kind::Text;
  std::vector<std::string> choices = {};  ///< Kind::Choice
  /// An extra check of the value: returns why it is wrong (printed as `--name: why`), or "".
  std::function<std::string(const std::string&)> check = {};
};

/// Why `value` is not a valid value of `option` ("--name expects …, not 'value'"), or "".
inline std::string value_problem(const Option& option, const std::string& value) {
  const std::string expects = "--" + option.name + " expects ";
  const std::string given = ", not '" + value + "'";
  auto whole = [](std::string_view text) {
    long long parsed = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    return !text.empty() && error == std::errc() && end == text.data() + text.size();
  };
  switch (option.kind) {
    case Kind::Text:
    case Kind::Switch: break;
    case Kind::Integer:
      if (!whole(value)) return expects + "a whole number" + given;
      break;
    case Kind::Number: {
      char* end = nullptr;
      std::strtod(value.c_str(), &end);
      if (value.empty() || *end != '\0') return expects + "a number" + given;
      break;
    }
    case Kind::Flag:
      if (value != "0" && value != "1") return expects + "0 or 1" + given;
      break;
    case Kind::Size: {
      const auto x = value.find('x');
      if (x == std::string::npos || !whole(std::string_view(value).substr(0, x)) ||
          !whole(std::string_view(value).substr(x + 1)) || std::atoll(value.c_str()) < 1 ||
          std::atoll(value.c_str() + x + 1) < 1)
        return expects + "WxH (two whole numbers >= 1)" + given;
      break;
    }
    case Kind::Choice: {
      bool found = false;
      std::string listed;
      for (const auto& choice : option.choices) {
        found |= choice == value;
        listed += (listed.empty() ? "" : ", ") + choice;
      }
      if (!found) return expects + "one of " + listed + given;
      break;
    }
  }
  const std::string problem = option.check ? option.check(value) : "";
  return problem.empty() ? "" : "--" + option.name + ": " + problem;
}

/// Options as key → value (keys without the leading "--"; a Switch maps to "1") and the
/// positional words.
struct Args {
  std::map<std::string, std::string> options;
  std::vector<std::string> positional;
  bool help = false;  ///< -h or --help was given: print the usage, exit 0

  /// Parses argv[first..argc) against `known`. Throws UsageError for an option not in `known`,
  /// one without its value, or a value of the wrong kind.
  static Args parse(int argc, char** argv, int first, const std::vector<Option>& known) {
    Args args;
    for (int i = first; i < argc; ++i) {
      std::string word = argv[i];
      if (word == "-h" || word == "--help") {
        args.help = true;
        return args;
      }
      if (word == "-o") word = "--output";
      if (word.size() < 2 || word[0] != '-') {
        args.positional.push_back(word);
        continue;
      }
      const Option* option = nullptr;
      for (const auto& o : known)
        if (word == "--" + o.name) option = &o;
      if (option == nullptr) throw UsageError("unknown option " + word);
      if (option->kind == Kind::Switch) {
        args.options[option->name] = "1";
        continue;
      }
      if (i + 1 >= argc) throw UsageError(word + " needs a value");
      const std::string value = argv[++i];
      if (const std::string problem = value_problem(*option, value); !problem.empty())
        throw UsageError(problem);
      args.options[option->name] = value;
    }
    return args;
  }

  bool has(const std::string& key) const { return options.count(key) > 0; }

  std::string get(const std::string& key, const std::string& fallback) const {
    const auto it = options.find(key);
    return it == options.end() ? fallback : it->second;
  }

  /// The option as a number (parse() checked Integer and Number options); UsageError when it is
  /// not one.
  double get_num(const std::string& key, double fallback) const {
    const auto it = options.find(key);
    if (it == options.end()) return fallback;
    char* end = nullptr;
    const double value = std::strtod(it->second.c_str(), &end);
    if (it->second.empty() || *end != '\0')
      throw UsageError("--" + key + " expects a number, not '" + it->second + "'");
    return value;
  }

  /// The option's value; UsageError when it is absent.
  std::string require(const std::string& key) const {
    const auto it = options.find(key);
    if (it == options.end()) throw UsageError("--" + key + " is required");
    return it->second;
  }
};

/// One command of a tool: its name, how many positional words it takes, its options.
struct Command {
  std::string name;
  std::size_t positional = 0;
  std::vector<Option> options;
};

/// The command `name` of `commands`, or UsageError.
inline const Command& find_command(const std::vector<Command>& commands, const std::string& name) {
  std::string listed;
  for (const auto& command : commands) {
    if (command.name == name) return command;
    listed += (listed.empty() ? "" : ", ") + command.name;
  }
  throw UsageError("unknown command '" + name + "' (one of " + listed + ")");
}

/// Parses argv[2..) for `command` and checks the number of positional words.
inline Args parse_command(int argc, char** argv, const Command& command) {
  Args args = Args::parse(argc, argv, 2, command.options);
  if (!args.help && args.positional.size() != command.positional) {
    std::string given;
    for (const auto& word : args.positional) given += (given.empty() ? "'" : ", '") + word + "'";
    throw UsageError(command.name + " takes " + std::to_string(command.positional) +
                     " positional argument(s), got " + std::to_string(args.positional.size()) +
                     (given.empty() ? "" : ": " + given));
  }
  return args;
}

}  // namespace vmt::cli
