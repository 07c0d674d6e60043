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

//! Term -> its postings, built doc by doc in doc order: one hash lookup per token, no sort
//! per doc (the terms are sorted once, at the end).
class Inverter {
 public:
  void Add(uint32_t doc, const std::vector<std::string>& tokens) {
    for (const auto& token : tokens) {
      auto it = ids_.find(std::string_view(token));
      if (it == ids_.end()) {
        it = ids_.emplace(token, static_cast<uint32_t>(postings_.size())).first;
        postings_.emplace_back();
      }
      std::vector<Posting>& list = postings_[it->second];
      if (!list.empty() && list.back().doc == doc) {
        ++list.back().tf;
      } else {
        list.push_back(Posting{doc, 1});
      }
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
    std::vector<std::string> tokens = storage::Tokenize(source.content);
    uint32_t doc = writer.AddDoc(source.memory_id, static_cast<uint32_t>(tokens.size()));
    inverter.Add(doc, tokens);
  }
  inverter.WriteTo(&writer);
  return writer.Finish();
}

}  // namespace papr::search
