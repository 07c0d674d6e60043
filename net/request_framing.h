#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"

namespace papr::net {

// Request framing rules of RFC 9112 that the server enforces on top of Beast's parser, so a
// body can never be read as the next request (request smuggling). Shared by
// net/http_server.cc and the http_request fuzz check.

// REQUIRES: `header_block` is the bytes of one request head, from the request line through
// the empty line. InvalidArgument if it uses obsolete line folding (a field line starting
// with SP or HTAB, RFC 9112 section 5.2) or starts with an empty line.
Status CheckHeadBytes(std::string_view header_block);

// `transfer_encodings`: the values of every Transfer-Encoding field, in order;
// `has_content_length`: a Content-Length field was present. InvalidArgument unless the
// request has no Transfer-Encoding, or exactly one coding, `chunked`, and no Content-Length
// (section 6.1: any other coding list cannot be framed; section 6.3: both together are an
// attack or an error).
Status CheckTransferEncoding(const std::vector<std::string_view>& transfer_encodings,
                             bool has_content_length);

}  // namespace papr::net
