#include "search/segment_merger.h"

#include <map>
#include <string_view>

#include "search/posting_cursor.h"
#include "search/segment_writer.h"

namespace papr::search {
namespace {

std::vector<uint32_t> AddLiveDocs(const MergeInput& input, SegmentWriter* writer) {
  std::vector<uint32_t> map(input.segment->doc_count(), kDroppedDoc);
  for (uint32_t d = 0; d < input.segment->doc_count(); ++d) {
    if (input.deletions != nullptr && input.deletions->Contains(d)) continue;
    map[d] = writer->AddDoc(input.segment->memory_id(d), input.segment->doc_len(d));
  }
  return map;
}

// Appends the remapped live postings of one input's list to `out`.
Status AppendPostings(const TermInfo& info, const std::vector<uint32_t>& map,
                      std::vector<Posting>* out) {
  PostingCursor cursor(info);
  for (; cursor.doc() != PostingCursor::kEnd; cursor.Next()) {
    uint32_t doc = map[cursor.doc()];
    if (doc != kDroppedDoc) out->push_back(Posting{doc, cursor.tf()});
  }
  if (cursor.corrupt()) return Status::Corruption("search segment: malformed posting list");
  return Status::Ok();
}

}  // namespace

Result<MergeOutput> MergeSegments(const std::vector<MergeInput>& inputs) {
  SegmentWriter writer;
  MergeOutput out;
  for (const auto& input : inputs) out.doc_maps.push_back(AddLiveDocs(input, &writer));
  // term -> the inputs holding it, in input order.
  std::map<std::string_view, std::vector<std::pair<size_t, const TermInfo*>>> terms;
  for (size_t i = 0; i < inputs.size(); ++i) {
    for (const auto& info : inputs[i].segment->terms()) terms[info.term].emplace_back(i, &info);
  }
  std::vector<Posting> postings;
  for (const auto& [term, holders] : terms) {
    postings.clear();
    for (const auto& [i, info] : holders) {
      RETURN_IF_ERROR(AppendPostings(*info, out.doc_maps[i], &postings));
    }
    if (!postings.empty()) writer.AddTerm(term, postings);
  }
  out.bytes = writer.Finish();
  return out;
}

}  // namespace papr::search
