// Private to config/: a thin, non-throwing reader over yaml-cpp nodes that
// tracks key paths and lines, marks which keys were read, and reports
// unknown keys, wrong types and out-of-range values as ConfigProblems
// instead of exceptions. This is the only header that includes yaml-cpp.
#ifndef TRIAGE_CONFIG_YAML_READER_H_
#define TRIAGE_CONFIG_YAML_READER_H_

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "config/mission.h"

namespace triage::config::detail {

class Problems {
 public:
  explicit Problems(std::vector<ConfigProblem>* out) : out_(out) {}
  void Add(const std::string& path, int line, std::string message) {
    out_->push_back(ConfigProblem{path, line, std::move(message)});
  }

 private:
  std::vector<ConfigProblem>* out_;
};

// 1-based line of a node, 0 when yaml-cpp has no mark for it.
int LineOf(const YAML::Node& node);

// A value at a key path. `node` may be undefined (key absent).
class Value {
 public:
  Value(YAML::Node node, std::string path, int line, Problems* problems)
      : node_(std::move(node)), path_(std::move(path)), line_(line), problems_(problems) {}

  bool present() const { return node_.IsDefined(); }
  bool is_null() const { return node_.IsDefined() && node_.IsNull(); }
  bool is_map() const { return node_.IsDefined() && node_.IsMap(); }
  bool is_sequence() const { return node_.IsDefined() && node_.IsSequence(); }
  bool is_scalar() const { return node_.IsDefined() && node_.IsScalar(); }
  const std::string& path() const { return path_; }
  int line() const { return line_; }
  const YAML::Node& node() const { return node_; }
  Problems* problems() const { return problems_; }
  // The scalar text ("" unless a scalar).
  std::string text() const;

  // Conversions: false (and a "wrong type" problem) when the value is not of
  // the expected kind. Numbers must be finite; integers are decimal or 0x hex.
  bool AsDouble(double* out) const;
  bool AsInt(int64_t* out) const;
  bool AsUint(uint64_t* out) const;
  bool AsBool(bool* out) const;
  bool AsString(std::string* out) const;
  // Sequence elements, with paths "<path>[i]". Problem if not a sequence.
  bool Elements(std::vector<Value>* out, size_t max_count) const;

  void Problem(std::string message) const { problems_->Add(path_, line_, std::move(message)); }

 private:
  std::string Describe() const;  // "a mapping", "'abc'", ...
  YAML::Node node_;
  std::string path_;
  int line_;
  Problems* problems_;
};

// Reads a mapping. Every Get marks its key as known; Finish() reports the
// keys nobody asked for. A missing or null section reads as empty.
class MapReader {
 public:
  explicit MapReader(const Value& value);

  bool Has(const char* key);
  Value Get(const char* key);
  MapReader Map(const char* key);
  // All entries, for maps keyed by user names (class names). Marks them known.
  std::vector<std::pair<std::string, Value>> Entries();
  const std::string& path() const { return path_; }
  int line() const { return line_; }

  // Typed helpers: leave *out unchanged when the key is absent.
  void Double(const char* key, double* out, double lo, double hi);
  void Float(const char* key, float* out, double lo, double hi);
  void Int(const char* key, int* out, int64_t lo, int64_t hi);
  void Uint32(const char* key, uint32_t* out, uint64_t lo, uint64_t hi);
  void Uint16(const char* key, uint16_t* out, uint64_t lo, uint64_t hi);
  void Uint64(const char* key, uint64_t* out, uint64_t lo, uint64_t hi);
  void Bool(const char* key, bool* out);
  void String(const char* key, std::string* out);
  // One of the names; the problem lists the accepted ones.
  template <typename E>
  void Enum(const char* key, E* out, std::initializer_list<std::pair<const char*, E>> names);
  // A list of 3 numbers (or one number meaning all three).
  void Triple(const char* key, float out[3], double lo, double hi);

  void Finish();

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    int line;
    bool used;
  };
  Entry* Find(const char* key);
  void Ask(const char* key);
  std::string ChildPath(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  std::vector<Entry> entries_;
  std::vector<std::string> asked_;  // keys the schema read, for unknown-key hints
  std::string path_;
  int line_;
  Problems* problems_;
};

template <typename E>
void MapReader::Enum(const char* key, E* out, std::initializer_list<std::pair<const char*, E>> names) {
  if (!Has(key)) return;
  const Value v = Get(key);
  std::string s;
  if (!v.AsString(&s)) return;
  for (const auto& n : names) {
    if (s == n.first) {
      *out = n.second;
      return;
    }
  }
  std::string accepted;
  for (const auto& n : names) accepted += (accepted.empty() ? "" : ", ") + std::string(n.first);
  v.Problem("'" + s + "' is not one of: " + accepted);
}

// Rejects text yaml-cpp could choke on before parsing (size, nesting depth).
bool PrecheckYamlText(const std::string& text, std::string* why);

}  // namespace triage::config::detail

#endif  // TRIAGE_CONFIG_YAML_READER_H_
