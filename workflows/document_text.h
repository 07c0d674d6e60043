#pragma once

// The text of an uploaded document (POST /v1/document): plain text, Markdown, or PDF (text
// layer, through poppler). Scanned PDFs without a text layer give no text (no OCR).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace papr::workflows {

enum class DocumentFormat { kText, kMarkdown, kPdf };
const char* DocumentFormatName(DocumentFormat f);  // "text", "markdown", "pdf"

struct DocumentText {
  DocumentFormat format = DocumentFormat::kText;
  std::vector<std::string> pages;  // UTF-8; a text or Markdown file is one page
};

// The format from the bytes first (a PDF starts with "%PDF-"), then the file name's extension
// and the part's content type (.md, .markdown, text/markdown: Markdown). InvalidArgument for
// bytes that are neither a PDF nor UTF-8 text, a PDF poppler cannot open (damaged, or locked
// with a password), and a document with no text at all; ResourceExhausted once the text
// passes `max_text_bytes` (a small compressed PDF can hold far more text than its size).
Result<DocumentText> ExtractDocumentText(std::string_view bytes, std::string_view filename,
                                         std::string_view content_type, size_t max_text_bytes);

}  // namespace papr::workflows
