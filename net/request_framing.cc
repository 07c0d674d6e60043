#include "net/request_framing.h"

#include "common/ascii.h"

namespace papr::net {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Status CheckHeadBytes(std::string_view header_block) {
  if (!header_block.empty() && (header_block[0] == '\r' || header_block[0] == '\n')) {
    return Status::InvalidArgument("request starts with an empty line");
  }
  for (size_t nl = header_block.find('\n'); nl != std::string_view::npos;
       nl = header_block.find('\n', nl + 1)) {
    if (nl + 1 < header_block.size() && (header_block[nl + 1] == ' ' || header_block[nl + 1] == '\t')) {
      return Status::InvalidArgument("obsolete line folding in a header field");
    }
  }
  return Status::Ok();
}

Status CheckTransferEncoding(const std::vector<std::string_view>& transfer_encodings,
                             bool has_content_length) {
  if (transfer_encodings.empty()) return Status::Ok();
  if (has_content_length) {
    return Status::InvalidArgument("Transfer-Encoding together with Content-Length");
  }
  size_t codings = 0;
  for (std::string_view value : transfer_encodings) {
    while (true) {
      size_t comma = value.find(',');
      std::string_view coding = Trim(value.substr(0, comma));
      // Empty list elements are allowed by the list syntax (RFC 9110 section 5.6.1).
      if (!coding.empty()) {
        if (AsciiLower(coding) != "chunked") {
          return Status::InvalidArgument("unsupported Transfer-Encoding (only chunked)");
        }
        ++codings;
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  if (codings != 1) {
    return Status::InvalidArgument("Transfer-Encoding must be exactly one chunked coding");
  }
  return Status::Ok();
}

}  // namespace papr::net
