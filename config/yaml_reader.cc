#include "config/yaml_reader.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace triage::config::detail {
namespace {

constexpr size_t kMaxConfigBytes = 1u << 20;
constexpr int kMaxFlowDepth = 64;
constexpr size_t kMaxLinePrefix = 256;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool IsQuoted(const YAML::Node& node) {
  // yaml-cpp tags plain scalars "?" and quoted (non-plain) ones "!".
  return node.Tag() == "!";
}

std::string FormatNumber(double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%g", v);
  return buf;
}

}  // namespace

int LineOf(const YAML::Node& node) {
  if (!node.IsDefined()) return 0;
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

bool PrecheckYamlText(const std::string& text, std::string* why) {
  if (text.size() > kMaxConfigBytes) {
    *why = "file is " + std::to_string(text.size()) + " bytes (limit " + std::to_string(kMaxConfigBytes) + ")";
    return false;
  }
  if (text.find('\0') != std::string::npos) {
    *why = "file contains a NUL byte";
    return false;
  }
  // Flow-collection depth (ignoring quoted text and comments) and the
  // indentation/compact-sequence prefix of each line bound yaml-cpp's
  // recursion well below its own 2000-level guard.
  int depth = 0;
  char quote = 0;
  bool comment = false;
  size_t prefix = 0;
  bool at_line_start = true;
  for (char c : text) {
    if (c == '\n') {
      comment = false;
      at_line_start = true;
      prefix = 0;
      continue;
    }
    if (at_line_start) {
      if (c == ' ' || c == '-' || c == '?' || c == ':' || c == '\t') {
        if (++prefix > kMaxLinePrefix) {
          *why = "a line is indented or nested more than " + std::to_string(kMaxLinePrefix) + " levels";
          return false;
        }
      } else {
        at_line_start = false;
      }
    }
    if (comment) continue;
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '#') {
      comment = true;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxFlowDepth) {
        *why = "flow collections nested deeper than " + std::to_string(kMaxFlowDepth);
        return false;
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    }
  }
  return true;
}

// ---------------------------------------------------------------- Value

std::string Value::text() const { return is_scalar() ? node_.Scalar() : std::string(); }

std::string Value::Describe() const {
  if (!node_.IsDefined()) return "nothing";
  if (node_.IsNull()) return "null";
  if (node_.IsMap()) return "a mapping";
  if (node_.IsSequence()) return "a list";
  std::string s = node_.Scalar();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return (IsQuoted(node_) ? "string '" : "'") + s + "'";
}

bool Value::AsDouble(double* out) const {
  if (is_scalar() && !IsQuoted(node_)) {
    const std::string& s = node_.Scalar();
    if (!s.empty()) {
      errno = 0;
      char* end = nullptr;
      const double v = std::strtod(s.c_str(), &end);
      if (end == s.c_str() + s.size() && errno == 0 && std::isfinite(v)) {
        *out = v;
        return true;
      }
    }
  }
  Problem("expected a number, got " + Describe());
  return false;
}

bool Value::AsInt(int64_t* out) const {
  if (is_scalar() && !IsQuoted(node_)) {
    const std::string& s = node_.Scalar();
    if (!s.empty() && s.find('.') == std::string::npos) {
      errno = 0;
      char* end = nullptr;
      const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
      const long long v = std::strtoll(s.c_str(), &end, hex ? 16 : 10);
      if (end == s.c_str() + s.size() && errno == 0) {
        *out = v;
        return true;
      }
      if (errno == ERANGE) {
        Problem("'" + s + "' does not fit a 64-bit integer");
        return false;
      }
    }
  }
  Problem("expected an integer, got " + Describe());
  return false;
}

bool Value::AsUint(uint64_t* out) const {
  if (is_scalar() && !IsQuoted(node_)) {
    const std::string& s = node_.Scalar();
    if (!s.empty() && s[0] != '-' && s.find('.') == std::string::npos) {
      errno = 0;
      char* end = nullptr;
      const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
      const unsigned long long v = std::strtoull(s.c_str(), &end, hex ? 16 : 10);
      if (end == s.c_str() + s.size() && errno == 0) {
        *out = v;
        return true;
      }
      if (errno == ERANGE) {
        Problem("'" + s + "' does not fit a 64-bit integer");
        return false;
      }
    }
    if (!s.empty() && s[0] == '-') {
      Problem("'" + s + "' is negative; expected a non-negative integer");
      return false;
    }
  }
  Problem("expected a non-negative integer, got " + Describe());
  return false;
}

bool Value::AsBool(bool* out) const {
  if (is_scalar() && !IsQuoted(node_)) {
    const std::string s = Lower(node_.Scalar());
    if (s == "true" || s == "yes" || s == "on") {
      *out = true;
      return true;
    }
    if (s == "false" || s == "no" || s == "off") {
      *out = false;
      return true;
    }
  }
  Problem("expected true or false, got " + Describe());
  return false;
}

bool Value::AsString(std::string* out) const {
  if (is_null()) {
    out->clear();
    return true;
  }
  if (is_scalar()) {
    *out = node_.Scalar();
    return true;
  }
  Problem("expected a string, got " + Describe());
  return false;
}

bool Value::Elements(std::vector<Value>* out, size_t max_count) const {
  out->clear();
  if (!is_sequence()) {
    Problem("expected a list, got " + Describe());
    return false;
  }
  if (node_.size() > max_count) {
    Problem("list has " + std::to_string(node_.size()) + " entries (at most " + std::to_string(max_count) + ")");
    return false;
  }
  size_t i = 0;
  for (const YAML::Node& element : node_) {
    const int line = LineOf(element);
    out->emplace_back(element, path_ + "[" + std::to_string(i) + "]", line != 0 ? line : line_, problems_);
    ++i;
  }
  return true;
}

// ---------------------------------------------------------------- MapReader

MapReader::MapReader(const Value& value) : path_(value.path()), line_(value.line()), problems_(value.problems()) {
  if (!value.present() || value.is_null()) return;
  if (!value.is_map()) {
    value.Problem("expected a mapping (key: value lines), got " +
                  std::string(value.is_sequence() ? "a list" : "'" + value.text() + "'"));
    return;
  }
  // Range-for binds each key/value pair (a temporary in yaml-cpp) for the
  // whole body; `it->first` would dangle at the end of its expression.
  for (const auto& pair : value.node()) {
    const YAML::Node key = pair.first;
    const YAML::Node entry_value = pair.second;
    const int key_line = LineOf(key) != 0 ? LineOf(key) : line_;
    if (!key.IsScalar()) {
      problems_->Add(path_, key_line, "keys must be plain names");
      continue;
    }
    const std::string name = key.Scalar();
    bool duplicate = false;
    for (const Entry& e : entries_) duplicate = duplicate || e.key == name;
    if (duplicate) {
      problems_->Add(ChildPath(name), key_line, "duplicate key");
      continue;
    }
    entries_.push_back(Entry{name, entry_value, key_line, false});
  }
}

MapReader::Entry* MapReader::Find(const char* key) {
  for (Entry& e : entries_) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

bool MapReader::Has(const char* key) {
  Ask(key);
  return Find(key) != nullptr;
}

void MapReader::Ask(const char* key) {
  for (const std::string& k : asked_) {
    if (k == key) return;
  }
  asked_.emplace_back(key);
}

Value MapReader::Get(const char* key) {
  Ask(key);
  Entry* e = Find(key);
  if (e == nullptr) return Value(YAML::Node(YAML::NodeType::Undefined), ChildPath(key), line_, problems_);
  e->used = true;
  const int line = LineOf(e->value);
  return Value(e->value, ChildPath(key), line != 0 ? line : e->line, problems_);
}

MapReader MapReader::Map(const char* key) { return MapReader(Get(key)); }

std::vector<std::pair<std::string, Value>> MapReader::Entries() {
  std::vector<std::pair<std::string, Value>> out;
  for (Entry& e : entries_) {
    e.used = true;
    const int line = LineOf(e.value);
    out.emplace_back(e.key, Value(e.value, ChildPath(e.key), line != 0 ? line : e.line, problems_));
  }
  return out;
}

void MapReader::Double(const char* key, double* out, double lo, double hi) {
  if (!Has(key)) return;
  const Value v = Get(key);
  double d;
  if (!v.AsDouble(&d)) return;
  if (d < lo || d > hi) {
    v.Problem(FormatNumber(d) + " is outside [" + FormatNumber(lo) + ", " + FormatNumber(hi) + "]");
    return;
  }
  *out = d;
}

void MapReader::Float(const char* key, float* out, double lo, double hi) {
  double d = *out;
  if (!Has(key)) return;
  Double(key, &d, lo, hi);
  *out = static_cast<float>(d);
}

void MapReader::Uint64(const char* key, uint64_t* out, uint64_t lo, uint64_t hi) {
  if (!Has(key)) return;
  const Value v = Get(key);
  uint64_t u;
  if (!v.AsUint(&u)) return;
  if (u < lo || u > hi) {
    v.Problem(std::to_string(u) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return;
  }
  *out = u;
}

void MapReader::Int(const char* key, int* out, int64_t lo, int64_t hi) {
  if (!Has(key)) return;
  const Value v = Get(key);
  int64_t i;
  if (!v.AsInt(&i)) return;
  if (i < lo || i > hi) {
    v.Problem(std::to_string(i) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return;
  }
  *out = static_cast<int>(i);
}

void MapReader::Uint32(const char* key, uint32_t* out, uint64_t lo, uint64_t hi) {
  uint64_t u = *out;
  if (!Has(key)) return;
  Uint64(key, &u, lo, hi);
  *out = static_cast<uint32_t>(u);
}

void MapReader::Uint16(const char* key, uint16_t* out, uint64_t lo, uint64_t hi) {
  uint64_t u = *out;
  if (!Has(key)) return;
  Uint64(key, &u, lo, hi);
  *out = static_cast<uint16_t>(u);
}

void MapReader::Bool(const char* key, bool* out) {
  if (!Has(key)) return;
  bool b;
  if (Get(key).AsBool(&b)) *out = b;
}

void MapReader::String(const char* key, std::string* out) {
  if (!Has(key)) return;
  std::string s;
  if (Get(key).AsString(&s)) *out = s;
}

void MapReader::Triple(const char* key, float out[3], double lo, double hi) {
  if (!Has(key)) return;
  const Value v = Get(key);
  double values[3];
  if (v.is_scalar()) {
    if (!v.AsDouble(&values[0])) return;
    values[1] = values[2] = values[0];
  } else {
    std::vector<Value> elements;
    if (!v.Elements(&elements, 3)) return;
    if (elements.size() != 3) {
      v.Problem("expected 3 values (R, G, B), got " + std::to_string(elements.size()));
      return;
    }
    for (size_t i = 0; i < 3; ++i) {
      if (!elements[i].AsDouble(&values[i])) return;
    }
  }
  for (int i = 0; i < 3; ++i) {
    if (values[i] < lo || values[i] > hi) {
      v.Problem(FormatNumber(values[i]) + " is outside [" + FormatNumber(lo) + ", " + FormatNumber(hi) + "]");
      return;
    }
  }
  for (int i = 0; i < 3; ++i) out[i] = static_cast<float>(values[i]);
}

void MapReader::Finish() {
  for (const Entry& e : entries_) {
    if (e.used) continue;
    std::string known;
    for (const std::string& k : asked_) known += (known.empty() ? "" : ", ") + k;
    problems_->Add(ChildPath(e.key), e.line,
                   "unknown key '" + e.key + "'" + (known.empty() ? "" : " (known keys: " + known + ")"));
  }
}

}  // namespace triage::config::detail
