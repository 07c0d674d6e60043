#pragma once

#include <string>
#include <vector>

namespace papr::search {

//! A document to index: the memory's id and its text.
struct SourceDoc {
  std::string memory_id;
  std::string content;
};

// Tokenizes `docs` (storage/text_analysis.h, the same tokenizer as queries), inverts them and
// returns the bytes of one segment holding them as docs 0..n-1 in the given order.
std::string BuildSegment(const std::vector<SourceDoc>& docs);

}  // namespace papr::search
