#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace papr {

//! Streaming JSON writer: inserts commas itself, escapes strings per RFC 8259 (control
//! characters as \u00XX, invalid UTF-8 replaced by U+FFFD), writes numbers without locale.
//! Not thread-safe; one writer per document.
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Double(double value);  // NaN/Inf are written as null.
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // A value that is already valid JSON text (e.g. stored metadata). Empty writes null.
  JsonWriter& Raw(std::string_view json);

  // Key + value shorthands.
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, int value) { return Key(key).Int(value); }
  JsonWriter& Field(std::string_view key, bool value) { return Key(key).Bool(value); }
  JsonWriter& FieldRaw(std::string_view key, std::string_view json) { return Key(key).Raw(json); }
  // Writes null when `value` is empty.
  JsonWriter& FieldOrNull(std::string_view key, std::string_view value);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();
  std::string out_;
  // One entry per open container: true once it holds an element.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// Appends `s` as a quoted, escaped JSON string.
void AppendJsonString(std::string* out, std::string_view s);

}  // namespace papr
