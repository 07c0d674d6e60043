#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace papr::engine_admin {

// True if `s` is valid UTF-8 (what a JSON string carries unchanged).
bool IsValidUtf8(std::string_view s);

// `s` safe for one terminal line: control bytes and invalid UTF-8 become \xNN (history
// payloads are binary; DescribeEvent prints them raw).
std::string Printable(std::string_view s);

// -o jsonl: the JSON document `json` as lines. Each element of its list (the document itself
// when it is an array, else its first array-valued field) on a line of its own; a document
// without a list is one line. Text that is not JSON is returned unchanged.
std::string JsonLines(std::string_view json);

// RFC 3339 UTC time, or "-" for 0 (not set).
std::string TimeText(int64_t millis);

//! Left-aligned text columns sized to their widest cell. Not thread-safe.
class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header);
  void AddRow(std::vector<std::string> row);
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace papr::engine_admin
