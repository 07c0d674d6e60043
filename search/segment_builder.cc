#include "search/segment_builder.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "search/segment_writer.h"
#include "storage/text_analysis.h"

namespace papr::search {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

//! Term -> its postings, built doc by doc in doc order: one hash lookup per token, no token
//! copies and no sort per doc (the terms are sorted once, at the end).
class Inverter {
 public:
  void Add(uint32_t doc, std::string_view token) {
    auto it = ids_.find(token);
    if (it == ids_.end()) {
      it = ids_.emplace(std::string(token), static_cast<uint32_t>(postings_.size())).first;
      postings_.emplace_back();
    }
    std::vector<Posting>& list = postings_[it->second];
    if (!list.empty() && list.back().doc == doc) {
      ++list.back().tf;
    } else {
      list.push_back(Posting{doc, 1});
    }
  }

  void WriteTo(SegmentWriter* writer) const {
    std::vector<std::pair<std::string_view, uint32_t>> sorted(ids_.begin(), ids_.end());
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [term, id] : sorted) writer->AddTerm(term, postings_[id]);
  }

 private:
  std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>> ids_;
  std::vector<std::vector<Posting>> postings_;
};

}  // namespace

std::string BuildSegment(const std::vector<SourceDoc>& docs) {
  SegmentWriter writer;
  Inverter inverter;
  for (const auto& source : docs) {
    uint32_t doc = writer.doc_count();
    uint32_t len = 0;
    storage::ForEachTerm(source.content, [&](std::string_view term) {
      inverter.Add(doc, term);
      ++len;
    });
    writer.AddDoc(source.memory_id, len);  // numbered `doc`
  }
  inverter.WriteTo(&writer);
  return writer.Finish();
}

}  // namespace papr::search
