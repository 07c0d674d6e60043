#include "api/multipart.h"

#include <algorithm>
#include <cctype>

namespace papr::api {
namespace {

constexpr size_t kMaxHeaderBytes = 8192;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The value of parameter `name` in "type; a=1; name=\"x\"" (quotes removed), or npos-empty.
bool Param(std::string_view header, std::string_view name, std::string* out) {
  size_t at = 0;
  while ((at = header.find(';', at)) != std::string_view::npos) {
    std::string_view rest = Trim(header.substr(at + 1));
    size_t eq = rest.find('=');
    if (eq != std::string_view::npos && Lower(Trim(rest.substr(0, eq))) == name) {
      std::string_view v = Trim(rest.substr(eq + 1));
      if (!v.empty() && v.front() == '"') {
        size_t close = v.find('"', 1);
        if (close == std::string_view::npos) return false;
        *out = std::string(v.substr(1, close - 1));
      } else {
        *out = std::string(v.substr(0, v.find(';')));
      }
      return true;
    }
    ++at;
  }
  return false;
}

Status ParseHeaders(std::string_view headers, FormPart* part) {
  bool form_data = false;
  while (!headers.empty()) {
    size_t eol = headers.find("\r\n");
    std::string_view line = headers.substr(0, eol);
    headers = eol == std::string_view::npos ? std::string_view() : headers.substr(eol + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) return Status::InvalidArgument("a part header has no ':'");
    const std::string name = Lower(Trim(line.substr(0, colon)));
    std::string_view value = Trim(line.substr(colon + 1));
    if (name == "content-disposition") {
      form_data = Lower(Trim(value.substr(0, value.find(';')))) == "form-data";
      if (!Param(value, "name", &part->name)) part->name.clear();
      Param(value, "filename", &part->filename);
    } else if (name == "content-type") {
      part->content_type = Lower(Trim(value.substr(0, value.find(';'))));
    }
  }
  if (!form_data || part->name.empty()) {
    return Status::InvalidArgument("a part lacks Content-Disposition: form-data with a name");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<FormPart>> ParseMultipartForm(std::string_view content_type,
                                                 std::string_view body, size_t max_parts) {
  if (Lower(Trim(content_type.substr(0, content_type.find(';')))) != "multipart/form-data") {
    return Status::InvalidArgument("Content-Type must be multipart/form-data");
  }
  std::string boundary;
  if (!Param(content_type, "boundary", &boundary) || boundary.empty() || boundary.size() > 70) {
    return Status::InvalidArgument("multipart/form-data needs a boundary of 1 to 70 characters");
  }
  const std::string delimiter = "--" + boundary;
  size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return Status::InvalidArgument("the body has no boundary line");
  std::vector<FormPart> parts;
  while (true) {
    at += delimiter.size();
    if (body.substr(at, 2) == "--") return parts;  // the closing delimiter
    if (body.substr(at, 2) != "\r\n") return Status::InvalidArgument("malformed boundary line");
    at += 2;
    size_t headers_end = body.find("\r\n\r\n", at);
    if (headers_end == std::string_view::npos || headers_end - at > kMaxHeaderBytes) {
      return Status::InvalidArgument("a part's headers are missing or over 8 KiB");
    }
    if (parts.size() == max_parts) {
      return Status::InvalidArgument("more than " + std::to_string(max_parts) + " form parts");
    }
    FormPart part;
    RETURN_IF_ERROR(ParseHeaders(body.substr(at, headers_end - at), &part));
    const size_t data = headers_end + 4;
    const size_t next = body.find("\r\n" + delimiter, data);
    if (next == std::string_view::npos) return Status::InvalidArgument("a part is not closed");
    part.body = body.substr(data, next - data);
    parts.push_back(std::move(part));
    at = next + 2;
  }
}

}  // namespace papr::api
