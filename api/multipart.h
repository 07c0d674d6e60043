#pragma once

// multipart/form-data request bodies (RFC 7578), as Papr's clients upload documents. Only
// what a form sends is accepted: parts with a Content-Disposition of form-data and a name.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace papr::api {

struct FormPart {
  std::string name;
  std::string filename;      // empty for a plain field
  std::string content_type;  // lowercase, without parameters; empty when not sent
  std::string_view body;     // into the request body
};

// The parts of `body` given the request's Content-Type header value. InvalidArgument naming
// what is wrong: not multipart/form-data, no boundary, a malformed part, or more than
// `max_parts` parts or a part header over 8 KiB.
Result<std::vector<FormPart>> ParseMultipartForm(std::string_view content_type,
                                                 std::string_view body, size_t max_parts);

}  // namespace papr::api
