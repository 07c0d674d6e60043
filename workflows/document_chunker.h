#pragma once

// Splits a document's text into the memories it is stored as. Chunks end on paragraph
// boundaries where they can, else on sentence boundaries, else (one sentence longer than a
// chunk) on a space or, failing that, a UTF-8 character boundary. Each chunk after the first
// starts with the last sentences of the one before, up to `overlap_bytes`, so a fact split
// across two chunks is still found whole in one of them.

#include <cstdint>
#include <string>
#include <vector>

#include "workflows/document_text.h"

namespace papr::workflows {

struct ChunkOptions {
  size_t max_bytes = 2000;     // a chunk's text is at most this long
  size_t overlap_bytes = 200;  // carried over from the previous chunk, at most
};

struct DocumentChunk {
  std::string text;      // whitespace collapsed; control characters become spaces
  int64_t first_page = 1;  // 1-based pages the chunk's new text comes from
  int64_t last_page = 1;
};

std::vector<DocumentChunk> ChunkDocument(const DocumentText& doc, const ChunkOptions& options);

}  // namespace papr::workflows
