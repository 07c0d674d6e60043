#include "workflows/document_chunker.h"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace papr::workflows {
namespace {

// A piece that is never split further unless it is longer than a chunk.
struct Unit {
  std::string text;
  int64_t page = 1;
  bool paragraph_end = false;
};

// Collapses runs of whitespace and control characters to one space.
std::string Normalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ') {
      if (!out.empty() && out.back() != ' ') out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Paragraphs: separated by a blank line (or a form feed).
std::vector<std::string> Paragraphs(std::string_view page) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= page.size(); ++i) {
    bool boundary = i == page.size() || page[i] == '\f';
    if (!boundary && page[i] == '\n') {
      size_t j = i + 1;
      while (j < page.size() && (page[j] == ' ' || page[j] == '\t' || page[j] == '\r')) ++j;
      boundary = j < page.size() && page[j] == '\n';
    }
    if (!boundary) continue;
    std::string p = Normalize(page.substr(start, i - start));
    if (!p.empty()) out.push_back(std::move(p));
    start = i + 1;
  }
  return out;
}

// Sentences of a normalized paragraph: after '.', '!' or '?' followed by a space.
std::vector<std::string> Sentences(const std::string& para) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i + 1 < para.size(); ++i) {
    if ((para[i] == '.' || para[i] == '!' || para[i] == '?') && para[i + 1] == ' ') {
      out.push_back(para.substr(start, i + 1 - start));
      start = i + 2;
    }
  }
  if (start < para.size()) out.push_back(para.substr(start));
  return out;
}

// The longest prefix of `s` of at most `max` bytes ending on a space, else on a UTF-8
// character boundary.
size_t CutAt(std::string_view s, size_t max) {
  if (s.size() <= max) return s.size();
  size_t space = s.rfind(' ', max);
  if (space != std::string_view::npos && space > max / 2) return space;
  size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

// Each page's paragraphs, as sentences; a sentence over `max` as pieces of it.
std::vector<Unit> Units(const DocumentText& doc, size_t max) {
  std::vector<Unit> units;
  for (size_t p = 0; p < doc.pages.size(); ++p) {
    for (const std::string& para : Paragraphs(doc.pages[p])) {
      for (std::string_view s : Sentences(para)) {
        while (!s.empty()) {
          size_t cut = CutAt(s, max);
          units.push_back({std::string(s.substr(0, cut)), static_cast<int64_t>(p) + 1, false});
          s.remove_prefix(cut);
          while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
        }
      }
      if (!units.empty()) units.back().paragraph_end = true;
    }
  }
  return units;
}

// The text of the last units of [begin, end) that fit in `overlap` bytes.
size_t OverlapStart(const std::vector<Unit>& units, size_t begin, size_t end, size_t overlap) {
  size_t bytes = 0;
  size_t at = end;
  while (at > begin + 1 && bytes + units[at - 1].text.size() + 1 <= overlap) {
    bytes += units[at - 1].text.size() + 1;
    --at;
  }
  return at;
}

}  // namespace

std::vector<DocumentChunk> ChunkDocument(const DocumentText& doc, const ChunkOptions& options) {
  const size_t max = std::max<size_t>(options.max_bytes, 16);
  const size_t overlap = std::min(options.overlap_bytes, max / 2);
  std::vector<Unit> units = Units(doc, max);
  std::vector<DocumentChunk> chunks;
  size_t begin = 0;  // first unit of the chunk being built (overlap included)
  size_t fresh = 0;  // first unit not in any chunk yet
  while (fresh < units.size()) {
    std::string text;
    for (size_t i = begin; i < fresh; ++i) text += (text.empty() ? "" : " ") + units[i].text;
    size_t end = fresh;
    size_t last_paragraph_end = 0;  // in units, past the last paragraph end taken
    while (end < units.size() && text.size() + units[end].text.size() + (text.empty() ? 0 : 1) <= max) {
      text += (text.empty() ? "" : " ") + units[end].text;
      if (units[end].paragraph_end) last_paragraph_end = end + 1;
      ++end;
    }
    if (end == fresh) {  // the overlap leaves no room: start this chunk without it
      begin = fresh;
      continue;
    }
    // End on a paragraph if one ended in the second half of the chunk.
    if (end < units.size() && last_paragraph_end > fresh) {
      size_t bytes = 0;
      for (size_t i = begin; i < last_paragraph_end; ++i) bytes += units[i].text.size() + 1;
      if (bytes >= max / 2) {
        end = last_paragraph_end;
        text.clear();
        for (size_t i = begin; i < end; ++i) text += (text.empty() ? "" : " ") + units[i].text;
      }
    }
    chunks.push_back({std::move(text), units[fresh].page, units[end - 1].page});
    begin = end < units.size() ? OverlapStart(units, fresh, end, overlap) : end;
    fresh = end;
  }
  return chunks;
}

}  // namespace papr::workflows
