#include "workflows/document_text.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>
#include <mutex>

#include <simdjson.h>

namespace papr::workflows {
namespace {

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  return std::equal(suffix.begin(), suffix.end(), s.end() - suffix.size(),
                    [](char a, char b) { return std::tolower(a) == std::tolower(b); });
}

bool HasText(const std::vector<std::string>& pages) {
  return std::any_of(pages.begin(), pages.end(), [](const std::string& p) {
    return std::any_of(p.begin(), p.end(), [](char c) { return !std::isspace(static_cast<unsigned char>(c)); });
  });
}

// Poppler writes its parse errors to stderr; a hostile file must not fill the server's log.
void SilencePoppler() {
  static std::once_flag once;
  std::call_once(once, [] {
    poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr);
  });
}

Status TextTooLarge(size_t max) {
  return Status::ResourceExhausted("the document's text is over " + std::to_string(max) +
                                   " bytes: split it into smaller documents");
}

Result<std::vector<std::string>> PdfPages(std::string_view bytes, size_t max_text_bytes) {
  SilencePoppler();
  if (bytes.size() > static_cast<size_t>(INT_MAX)) return Status::InvalidArgument("the PDF is too large");
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (doc == nullptr) return Status::InvalidArgument("the PDF could not be read (damaged?)");
  if (doc->is_locked()) return Status::InvalidArgument("the PDF is locked with a password");
  std::vector<std::string> pages;
  size_t text_bytes = 0;
  const int count = doc->pages();
  pages.reserve(static_cast<size_t>(std::max(count, 0)));
  for (int i = 0; i < count; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (page == nullptr) {
      pages.emplace_back();
      continue;
    }
    poppler::byte_array utf8 = page->text().to_utf8();
    text_bytes += utf8.size();
    if (text_bytes > max_text_bytes) return TextTooLarge(max_text_bytes);
    pages.emplace_back(utf8.begin(), utf8.end());
  }
  return pages;
}

}  // namespace

const char* DocumentFormatName(DocumentFormat f) {
  switch (f) {
    case DocumentFormat::kMarkdown:
      return "markdown";
    case DocumentFormat::kPdf:
      return "pdf";
    case DocumentFormat::kText:
      break;
  }
  return "text";
}

Result<DocumentText> ExtractDocumentText(std::string_view bytes, std::string_view filename,
                                         std::string_view content_type, size_t max_text_bytes) {
  DocumentText out;
  if (bytes.starts_with("%PDF-")) {
    out.format = DocumentFormat::kPdf;
    ASSIGN_OR_RETURN(out.pages, PdfPages(bytes, max_text_bytes));
  } else {
    if (!simdjson::validate_utf8(bytes.data(), bytes.size()) ||
        bytes.find('\0') != std::string_view::npos) {
      return Status::InvalidArgument(
          "unsupported document type: send plain text or Markdown (UTF-8) or a PDF");
    }
    const bool markdown = EndsWithNoCase(filename, ".md") ||
                          EndsWithNoCase(filename, ".markdown") ||
                          content_type.starts_with("text/markdown");
    out.format = markdown ? DocumentFormat::kMarkdown : DocumentFormat::kText;
    if (bytes.size() > max_text_bytes) return TextTooLarge(max_text_bytes);
    out.pages.emplace_back(bytes);
  }
  if (!HasText(out.pages)) {
    return Status::InvalidArgument("the document has no text (a scanned PDF needs OCR, which "
                                   "this server does not do)");
  }
  return out;
}

}  // namespace papr::workflows
