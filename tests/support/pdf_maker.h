#pragma once

// Writes small text PDFs for tests (PDF 1.4: one Helvetica font, one content stream a page,
// uncompressed), so documents of any number of pages can be made without files in the repo.

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace papr::testing {

// `pages[i]`: the text of page i+1, its lines as given ('\n'), at most ~60 lines a page.
inline std::string MakeTextPdf(const std::vector<std::string>& pages) {
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  auto object = [&](const std::string& body) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(offsets.size()) + " 0 obj\n" + body + "\nendobj\n";
  };
  const size_t n = pages.size();
  object("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (size_t i = 0; i < n; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  object("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  for (size_t i = 0; i < n; ++i) {
    object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R "
           ">> >> /Contents " + std::to_string(5 + 2 * i) + " 0 R >>");
    std::string stream = "BT /F1 10 Tf 12 TL 40 760 Td\n";
    std::string_view text = pages[i];
    while (!text.empty()) {
      size_t eol = text.find('\n');
      std::string line;
      for (char c : text.substr(0, eol)) {
        if (c == '(' || c == ')' || c == '\\') line.push_back('\\');
        line.push_back(c);
      }
      stream += "(" + line + ") Tj T*\n";
      if (eol == std::string_view::npos) break;
      text.remove_prefix(eol + 1);
    }
    stream += "ET";
    object("<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "\nendstream");
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char entry[24];
    std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", off);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace papr::testing
