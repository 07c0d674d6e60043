#include "search/segment_builder.h"

#include <algorithm>
#include <map>

#include "search/segment_writer.h"
#include "storage/text_analysis.h"

namespace papr::search {

std::string BuildSegment(const std::vector<SourceDoc>& docs) {
  SegmentWriter writer;
  std::map<std::string, std::vector<Posting>, std::less<>> inverted;
  for (const auto& source : docs) {
    std::vector<std::string> tokens = storage::Tokenize(source.content);
    uint32_t doc = writer.AddDoc(source.memory_id, static_cast<uint32_t>(tokens.size()));
    std::sort(tokens.begin(), tokens.end());
    for (size_t i = 0; i < tokens.size();) {
      size_t j = i;
      while (j < tokens.size() && tokens[j] == tokens[i]) ++j;
      inverted[tokens[i]].push_back(Posting{doc, static_cast<uint32_t>(j - i)});
      i = j;
    }
  }
  for (const auto& [term, postings] : inverted) writer.AddTerm(term, postings);
  return writer.Finish();
}

}  // namespace papr::search
