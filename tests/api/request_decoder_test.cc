#include "api/request_decoder.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "api/api_error.h"
#include "common/crypto.h"

namespace papr::api {
namespace {

using workflows::BatchRequest;
using workflows::MemoryInput;

DecodeLimits TestLimits() {
  DecodeLimits limits;
  limits.max_content_bytes = 100;
  limits.max_batch_size = 50;
  limits.upgrade_info = "Upgrade to Papr Cloud for larger batches";
  limits.upgrade_url = "https://papr.ai/cloud";
  limits.plan = "opensource";
  limits.next_plan = "starter";
  return limits;
}

ApiError AddMemoryError(std::string_view body, const DecodeLimits& limits = TestLimits()) {
  MemoryInput m;
  ApiError error;
  EXPECT_FALSE(DecodeAddMemory(body, limits, &m, &error)) << body;
  return error;
}

ApiError BatchError(std::string_view body, const DecodeLimits& limits = TestLimits()) {
  BatchRequest b;
  ApiError error;
  EXPECT_FALSE(DecodeBatch(body, limits, &b, &error)) << body;
  return error;
}

ApiError SearchError(std::string_view body) {
  SearchRequest s;
  ApiError error;
  EXPECT_FALSE(DecodeSearch(body, &s, &error)) << body;
  return error;
}

std::string Memories(const std::vector<std::string>& items) {
  std::string body = R"({"memories":[)";
  for (size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
  return body + "]}";
}

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// ---- AddMemoryRequest ----

TEST(RequestDecoderTest, FullAddMemoryRoundTripsJsonFieldsMinified) {
  std::string body = R"({
    "content": "  Meeting notes: ship v2 \u00e9 ",
    "type": "code_snippet",
    "metadata": {"topics": ["a", "b"], "createdAt": "2024-01-02T03:04:05Z",
                 "customMetadata": {"n": 42, "big": 18446744073709551615, "neg": -7,
                                    "ok": true, "none": null, "quote": "say \"hi\"\n"},
                 "conversationId": "c1"},
    "context": [ {"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"} ],
    "external_user_id": "ext-1",
    "unknown_field": {"ignored": [1, 2, 3]}
  })";
  MemoryInput m;
  ApiError error;
  ASSERT_TRUE(DecodeAddMemory(body, TestLimits(), &m, &error)) << error.message;
  EXPECT_EQ(m.content, "  Meeting notes: ship v2 \xc3\xa9 ");
  EXPECT_EQ(m.type, "code_snippet");
  EXPECT_EQ(m.metadata_json,
            R"({"topics":["a","b"],"createdAt":"2024-01-02T03:04:05Z",)"
            R"("customMetadata":{"n":42,"big":18446744073709551615,"neg":-7,"ok":true,)"
            R"("none":null,"quote":"say \"hi\"\n"},"conversationId":"c1"})");
  EXPECT_EQ(m.context_json,
            R"([{"role":"user","content":"hi"},{"role":"assistant","content":"yo"}])");
  EXPECT_EQ(m.external_user_id, "ext-1");
}

TEST(RequestDecoderTest, AddMemoryDefaults) {
  for (std::string body : {R"({"content":"x"})",
                           R"({"content":"x","type":null,"metadata":null,"context":null,)"
                           R"("external_user_id":null})"}) {
    MemoryInput m;
    ApiError error;
    ASSERT_TRUE(DecodeAddMemory(body, TestLimits(), &m, &error)) << body << error.message;
    EXPECT_EQ(m.content, "x");
    EXPECT_EQ(m.type, "text");
    EXPECT_EQ(m.metadata_json, "{}");
    EXPECT_EQ(m.context_json, "[]");
    EXPECT_EQ(m.external_user_id, "");
  }
}

TEST(RequestDecoderTest, AcceptsEveryDocumentedType) {
  for (std::string type : {"text", "code_snippet", "document"}) {
    MemoryInput m;
    ApiError error;
    ASSERT_TRUE(DecodeAddMemory(R"({"content":"x","type":")" + type + "\"}", TestLimits(), &m,
                                &error));
    EXPECT_EQ(m.type, type);
  }
}

struct MalformedCase {
  std::string body;
  int64_t offset;
};

TEST(RequestDecoderTest, MalformedJsonIs400WithOffsetOfFirstBadByte) {
  std::vector<MalformedCase> cases = {
      {R"({"content": "x",})", 16},      // trailing comma: the '}'
      {R"({"content": "x")", 15},        // ends early: the input size
      {R"({"content" "x"})", 11},        // missing colon
      {R"({"content": tru})", 15},       // broken literal
      {R"({"content": truex})", 16},     // literal followed by junk
      {R"({"a": 01})", 7},               // leading zero
      {R"({"a": 1.})", 8},               // no fraction digits
      {R"({"a": -})", 7},                // lone minus
      {R"({"a": 1e400})", 6},            // overflows a double
      {R"({"a": 99999999999999999999})", 6},  // above uint64
      {R"({"a": "\x"})", 7},             // bad escape: its backslash
      {R"({"a": "\u12G4"})", 11},        // bad hex digit
      {R"({"a": "\udc00"})", 7},         // lone low surrogate
      {R"({"a": "\ud800x"})", 7},        // high surrogate without low half
      {"{\"a\": \"x\ty\"}", 8},          // raw control character
      {R"({a: 1})", 1},                  // unquoted key
      {R"({} x)", 3},                    // trailing content
      {std::string("{}\0", 3), 2},       // trailing NUL
      {"\xef\xbb\xbf{}", 0},             // byte order mark
      {"", 0},
      {"   ", 3},
      {R"([1,])", 3},
  };
  for (const auto& c : cases) {
    ApiError e = AddMemoryError(c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.message.rfind("Malformed JSON: ", 0), 0u) << e.message;
    EXPECT_EQ(e.details_json, "{\"offset\":" + std::to_string(c.offset) + "}") << c.body;
  }
}

TEST(RequestDecoderTest, InvalidUtf8IsRejectedWithItsOffset) {
  std::vector<MalformedCase> cases = {
      {"{\"content\": \"a\xff b\"}", 14},           // never valid in UTF-8
      {"{\"content\": \"a\xc0\xaf\"}", 14},         // overlong '/'
      {"{\"content\": \"a\xed\xa0\x80\"}", 14},     // encoded surrogate
      {"{\"content\": \"a\xe2\x82\"}", 14},         // truncated sequence
      {"{\"content\": \"ok\"}\xf4\x90\x80\x80", 17},  // above U+10FFFF, outside a string
  };
  for (const auto& c : cases) {
    ApiError e = AddMemoryError(c.body);
    EXPECT_EQ(e.status, 400);
    EXPECT_NE(e.message.find("UTF-8"), std::string::npos) << e.message;
    EXPECT_EQ(e.details_json, "{\"offset\":" + std::to_string(c.offset) + "}");
  }
}

TEST(RequestDecoderTest, NestingBeyondTheLimitIsMalformedNotACrash) {
  ApiError e = AddMemoryError(Nested(300));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.details_json, "{\"offset\":254}");
  e = AddMemoryError(std::string(1'000'000, '['));
  EXPECT_EQ(e.status, 400);

  // Deep but within the parser's limit (and limits.max_metadata_depth raised): kept as given.
  MemoryInput m;
  std::string metadata = R"({"a":)" + Nested(200) + "}";
  DecodeLimits deep = TestLimits();
  deep.fields.max_metadata_depth = 1000;
  deep.fields.max_metadata_bytes = 1 << 20;
  ASSERT_TRUE(DecodeAddMemory(R"({"content":"x","metadata":)" + metadata + "}", deep, &m, &e))
      << e.message;
  EXPECT_EQ(m.metadata_json, metadata);
}

TEST(RequestDecoderTest, BodyMustBeAnObject) {
  for (std::string body : {"[1]", "\"content\"", "42", "null"}) {
    ApiError e = AddMemoryError(body);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.message, "Request body must be a JSON object");
  }
}

TEST(RequestDecoderTest, ContentIsRequiredNonEmptyString) {
  struct Case {
    std::string body;
    std::string message;
  };
  std::vector<Case> cases = {
      {R"({"type":"text"})", "content is required"},
      {R"({"content":null})", "content is required"},
      {R"({"content":""})", "content must not be empty"},
      {R"({"content":" \n\t "})", "content must not be empty"},
      {R"({"content":42})", "content must be a string"},
      {R"({"content":["x"]})", "content must be a string"},
  };
  for (const auto& c : cases) {
    ApiError e = AddMemoryError(c.body);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.message, c.message);
    EXPECT_EQ(e.details_json, R"({"field":"content"})");
  }
}

TEST(RequestDecoderTest, OversizeContentNamesTheLimitAndTheSize) {
  MemoryInput m;
  ApiError e;
  EXPECT_TRUE(DecodeAddMemory(R"({"content":")" + std::string(100, 'a') + "\"}", TestLimits(),
                              &m, &e));
  e = AddMemoryError(R"({"content":")" + std::string(101, 'a') + "\"}");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.message, "content exceeds the limit of 100 bytes (got 101 bytes)");
  EXPECT_EQ(e.details_json, R"({"field":"content","max_content_bytes":100,"content_bytes":101})");

  // The limit is in bytes of the decoded UTF-8 text, not characters or escapes.
  std::string accents;
  for (int i = 0; i < 51; ++i) accents += "\\u00e9";
  e = AddMemoryError(R"({"content":")" + accents + "\"}");
  EXPECT_EQ(e.message, "content exceeds the limit of 100 bytes (got 102 bytes)");
}

TEST(RequestDecoderTest, WrongFieldTypesNameTheField) {
  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({"content":"x","type":"essay"})", "type"},
      {R"({"content":"x","type":"TEXT"})", "type"},
      {R"({"content":"x","type":1})", "type"},
      {R"({"content":"x","metadata":[1]})", "metadata"},
      {R"({"content":"x","metadata":"{}"})", "metadata"},
      {R"({"content":"x","context":{"role":"user"}})", "context"},
      {R"({"content":"x","context":["hi"]})", "context[0]"},
      {R"({"content":"x","context":[{"role":"user","content":"a"},{"content":"b"}]})",
       "context[1].role"},
      {R"({"content":"x","context":[{"role":"user","content":7}]})", "context[0].content"},
      {R"({"content":"x","external_user_id":12})", "external_user_id"},
  };
  for (const auto& c : cases) {
    ApiError e = AddMemoryError(c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.details_json, R"({"field":")" + c.field + "\"}") << c.body;
    EXPECT_EQ(e.message.rfind(c.field, 0), 0u) << e.message;
  }
}

TEST(RequestDecoderTest, BigNumbersInMetadataSurvive) {
  MemoryInput m;
  ApiError e;
  ASSERT_TRUE(DecodeAddMemory(
      R"({"content":"x","metadata":{"a":-9223372036854775808,"b":1e-400,"c":0.5}})",
      TestLimits(), &m, &e));
  EXPECT_EQ(m.metadata_json, R"({"a":-9223372036854775808,"b":0.0,"c":0.5})");
}

// ---- BatchMemoryRequest ----

TEST(RequestDecoderTest, BatchOverTheLimitIs413WithExactMessageAndDetails) {
  std::vector<std::string> items(51, R"({"content":"x"})");
  ApiError e = BatchError(Memories(items));
  EXPECT_EQ(e.status, 413);
  EXPECT_EQ(e.message, "Batch size (51) exceeds limit (50)");
  EXPECT_EQ(e.details_json,
            R"({"batch_size":51,"max_batch_size":50,"plan":"opensource","next_plan":"starter",)"
            R"("upgrade_info":"Upgrade to Papr Cloud for larger batches",)"
            R"("upgrade_url":"https://papr.ai/cloud"})");

  // The count is checked before the items: 51 invalid memories still answer 413.
  std::vector<std::string> bad(51, "7");
  EXPECT_EQ(BatchError(Memories(bad)).status, 413);

  BatchRequest b;
  EXPECT_TRUE(DecodeBatch(Memories(std::vector<std::string>(50, R"({"content":"x"})")),
                          TestLimits(), &b, &e));
  EXPECT_EQ(b.memories.size(), 50u);
}

TEST(RequestDecoderTest, EmptyOrMissingMemories) {
  ApiError e = BatchError(R"({"memories":[]})");
  EXPECT_EQ(e.status, 422);
  EXPECT_EQ(e.message, "memories must contain at least one memory");
  EXPECT_EQ(e.details_json, R"({"field":"memories"})");

  for (std::string body : {R"({})", R"({"memories":null})", R"({"memories":{"content":"x"}})",
                           R"({"memories":"x"})"}) {
    e = BatchError(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.details_json, R"({"field":"memories"})");
  }
  EXPECT_EQ(BatchError("[]").status, 400);
  EXPECT_EQ(BatchError(R"({"memories":[}")").details_json, R"({"offset":13})");
}

TEST(RequestDecoderTest, BatchListsEveryInvalidMemory) {
  std::vector<std::string> items = {
      R"({"content":"ok 0"})",
      R"({"type":"text"})",
      R"({"content":"ok 2","metadata":{"x":1}})",
      R"({"content":")" + std::string(101, 'z') + "\"}",
      "42",
  };
  ApiError e = BatchError(Memories(items));
  EXPECT_EQ(e.status, 422);
  EXPECT_EQ(e.message, "3 of 5 memories are invalid");
  EXPECT_EQ(e.details_json,
            R"({"errors":[{"index":1,"field":"content","error":"content is required"},)"
            R"({"index":3,"field":"content","max_content_bytes":100,"content_bytes":101,)"
            R"j("error":"content exceeds the limit of 100 bytes (got 101 bytes)"},)j"
            R"({"index":4,"error":"memory must be a JSON object"}]})");

  items = {R"({"content":"x","type":"video"})", R"({"content":"x","context":[{"role":1}]})"};
  e = BatchError(Memories(items));
  EXPECT_EQ(e.details_json,
            R"({"errors":[{"index":0,"field":"type",)"
            R"("error":"type must be one of text, code_snippet, document"},)"
            R"({"index":1,"field":"context[0].role",)"
            R"("error":"context[0].role must be a string"}]})");
}

TEST(RequestDecoderTest, BatchDecodesEveryField) {
  std::string body = R"({
    "memories": [{"content": "a", "metadata": {"k": "v"}},
                 {"content": "b", "external_user_id": "own"}],
    "batch_size": 20, "webhook_url": "https://example.com/hook", "webhook_secret": "whsec_c2VjcmV0",
    "external_user_id": "shared", "max_concurrency": 4, "tolerated_failure_count": 0,
    "tolerated_failure_percentage": 12.5, "extra": true
  })";
  BatchRequest b;
  b.user_id = "u1";
  b.idempotency_key = "key-1";
  ApiError e;
  ASSERT_TRUE(DecodeBatch(body, TestLimits(), &b, &e)) << e.message;
  ASSERT_EQ(b.memories.size(), 2u);
  EXPECT_EQ(b.memories[0].content, "a");
  EXPECT_EQ(b.memories[0].metadata_json, R"({"k":"v"})");
  EXPECT_EQ(b.memories[0].external_user_id, "shared");  // inherited
  EXPECT_EQ(b.memories[1].external_user_id, "own");     // its own wins
  EXPECT_EQ(b.batch_size, 20);
  EXPECT_EQ(b.webhook_url, "https://example.com/hook");
  EXPECT_EQ(b.webhook_secret, "whsec_c2VjcmV0");
  EXPECT_EQ(b.external_user_id, "shared");
  EXPECT_EQ(b.max_concurrency, 4);
  EXPECT_EQ(b.tolerated_failure_count, 0);
  EXPECT_EQ(b.tolerated_failure_percentage, 12.5);
  EXPECT_EQ(b.body_hash, Sha256Hex(body));
  EXPECT_EQ(b.user_id, "u1");  // the caller's fields are kept
  EXPECT_EQ(b.idempotency_key, "key-1");
}

TEST(RequestDecoderTest, BatchDefaults) {
  BatchRequest b;
  ApiError e;
  ASSERT_TRUE(DecodeBatch(R"({"memories":[{"content":"a"}],"webhook_url":null})", TestLimits(),
                          &b, &e));
  EXPECT_EQ(b.batch_size, 10);
  EXPECT_EQ(b.webhook_url, "");
  EXPECT_EQ(b.max_concurrency, 0);
  EXPECT_FALSE(b.tolerated_failure_count.has_value());
  EXPECT_FALSE(b.tolerated_failure_percentage.has_value());
  EXPECT_EQ(b.memories[0].external_user_id, "");
}

TEST(RequestDecoderTest, BatchFieldRanges) {
  struct Case {
    std::string fields;
    std::string field;  // empty: accepted
  };
  std::vector<Case> cases = {
      {R"("batch_size":1)", ""},
      {R"("batch_size":1000)", ""},
      {R"("batch_size":10.0)", ""},
      {R"("batch_size":0)", "batch_size"},
      {R"("batch_size":1001)", "batch_size"},
      {R"("batch_size":10.5)", "batch_size"},
      {R"("batch_size":"10")", "batch_size"},
      {R"("batch_size":18446744073709551615)", "batch_size"},
      {R"("batch_size":1e300)", "batch_size"},
      {R"("webhook_url":"http://hooks.example")", ""},
      {R"("webhook_url":"HTTPS://hooks.example")", ""},
      {R"("webhook_url":"ftp://hooks.example")", "webhook_url"},
      {R"("webhook_url":"https://")", "webhook_url"},
      {R"("webhook_url":"hooks.example")", "webhook_url"},
      {R"("webhook_url":5)", "webhook_url"},
      {R"("webhook_secret":["s"])", "webhook_secret"},
      {R"("webhook_secret":"plain secret bytes")", ""},
      {R"("webhook_secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")", ""},
      {R"("webhook_secret":"whsec_not base64!")", "webhook_secret"},
      {R"("external_user_id":{})", "external_user_id"},
      {R"("max_concurrency":1)", ""},
      {R"("max_concurrency":0)", "max_concurrency"},
      {R"("tolerated_failure_count":0)", ""},
      {R"("tolerated_failure_count":-1)", "tolerated_failure_count"},
      {R"("tolerated_failure_percentage":0)", ""},
      {R"("tolerated_failure_percentage":100)", ""},
      {R"("tolerated_failure_percentage":100.5)", "tolerated_failure_percentage"},
      {R"("tolerated_failure_percentage":-0.1)", "tolerated_failure_percentage"},
      {R"("tolerated_failure_percentage":"5")", "tolerated_failure_percentage"},
  };
  for (const auto& c : cases) {
    std::string body = R"({"memories":[{"content":"a"}],)" + c.fields + "}";
    BatchRequest b;
    ApiError e;
    bool ok = DecodeBatch(body, TestLimits(), &b, &e);
    if (c.field.empty()) {
      EXPECT_TRUE(ok) << body << ": " << e.message;
    } else {
      EXPECT_FALSE(ok) << body;
      EXPECT_EQ(e.status, 400) << body;
      EXPECT_EQ(e.details_json, R"({"field":")" + c.field + "\"}") << body;
    }
  }
  BatchRequest b;
  ApiError e;
  ASSERT_TRUE(DecodeBatch(R"({"memories":[{"content":"a"}],"tolerated_failure_percentage":50})",
                          TestLimits(), &b, &e));
  EXPECT_EQ(b.tolerated_failure_percentage, 50.0);
}

// ---- Search ----

TEST(RequestDecoderTest, SearchDefaultsAndLimits) {
  SearchRequest s;
  ApiError e;
  ASSERT_TRUE(DecodeSearch(R"({"query":"rocks db"})", &s, &e));
  EXPECT_EQ(s.query, "rocks db");
  EXPECT_EQ(s.max_memories, 10);
  ASSERT_TRUE(DecodeSearch(R"({"query":"q","max_memories":1000,"rank_results":true})", &s, &e));
  EXPECT_EQ(s.max_memories, 1000);

  struct Case {
    std::string body;
    std::string field;
  };
  std::vector<Case> cases = {
      {R"({})", "query"},
      {R"({"query":""})", "query"},
      {R"({"query":"  "})", "query"},
      {R"({"query":3})", "query"},
      {R"({"query":"q","max_memories":0})", "max_memories"},
      {R"({"query":"q","max_memories":1001})", "max_memories"},
      {R"({"query":"q","max_memories":"5"})", "max_memories"},
  };
  for (const auto& c : cases) {
    e = SearchError(c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.details_json, R"({"field":")" + c.field + "\"}") << c.body;
  }
  EXPECT_EQ(SearchError(R"({"query":)").details_json, R"({"offset":9})");
}

// Random mutations of valid bodies never crash a decoder, and whenever simdjson calls a body
// malformed the syntax checker agrees and finds an offset inside the body.
TEST(RequestDecoderTest, MutatedBodiesNeverCrashAndMalformedOnesHaveAnOffset) {
  const std::vector<std::string> seeds = {
      R"({"content":"hello \u00e9\ud83d\ude00 \"q\"","type":"text",)"
      R"("metadata":{"a":[1,2.5,-3e2,true,null,1E+2]},"context":[{"role":"user","content":"x"}]})",
      R"({"memories":[{"content":"a"},{"content":"b"}],"batch_size":10,)"
      R"("tolerated_failure_percentage":5.5})",
      R"({"query":"q","max_memories":5})",
  };
  const std::string alphabet =
      "{}[]\",:\\/ -+.eE0123456789truefalsnudD\x01\x7f\xc3\xa9\xff\xed\xf0\x80\t\n";
  std::mt19937 rng(12345);
  for (int iter = 0; iter < 30000; ++iter) {
    std::string body = seeds[iter % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !body.empty(); ++k) {
      size_t pos = rng() % body.size();
      char c = alphabet[rng() % alphabet.size()];
      switch (rng() % 3) {
        case 0: body[pos] = c; break;
        case 1: body.insert(body.begin() + pos, c); break;
        default: body.erase(pos, 1);
      }
    }
    MemoryInput m;
    BatchRequest b;
    SearchRequest s;
    ApiError errors[3];
    bool ok[3] = {DecodeAddMemory(body, TestLimits(), &m, &errors[0]),
                  DecodeBatch(body, TestLimits(), &b, &errors[1]),
                  DecodeSearch(body, &s, &errors[2])};
    for (int d = 0; d < 3; ++d) {
      if (ok[d] || errors[d].message.rfind("Malformed JSON", 0) != 0) continue;
      const std::string& details = errors[d].details_json;
      ASSERT_EQ(details.rfind("{\"offset\":", 0), 0u) << body << " -> " << errors[d].message;
      int64_t offset = std::stoll(details.substr(10));
      ASSERT_LE(offset, static_cast<int64_t>(body.size())) << body;
    }
  }
}

// ---- ApiError ----

TEST(ApiErrorTest, FromStatusMapsCodesToHttp) {
  struct Case {
    Status status;
    int http;
    int retry_after;
  };
  std::vector<Case> cases = {
      {Status::InvalidArgument("bad"), 400, 0},
      {Status::NotFound("gone"), 404, 0},
      {Status::AlreadyExists("dup"), 409, 0},
      {Status::FailedPrecondition("finished"), 409, 0},
      {Status::ResourceExhausted("queue full"), 429, 1},
      {Status::PayloadTooLarge("big"), 413, 0},
      {Status::Unauthenticated("who"), 401, 0},
      {Status::Unavailable("later"), 503, 1},
      {Status::DeadlineExceeded("slow"), 504, 0},
      {Status::IoError("While appending to file: No space left on device"), 507, 0},
      {Status::IoError("write failed: ENOSPC"), 507, 0},
      {Status::IoError("fsync failed: EIO"), 503, 0},
      {Status::Corruption("bad block"), 500, 0},
      {Status::Internal("bug"), 500, 0},
  };
  for (const auto& c : cases) {
    ApiError e = ApiError::FromStatus(c.status);
    EXPECT_EQ(e.status, c.http) << c.status.ToString();
    EXPECT_EQ(e.retry_after_seconds, c.retry_after) << c.status.ToString();
    EXPECT_EQ(e.message, c.status.message());
    EXPECT_EQ(e.details_json, "{}");
  }
  EXPECT_EQ(ApiError::FromStatus(Status::Ok()).status, 500);
}

TEST(ApiErrorTest, ErrorBodyIsTheEnvelope) {
  ApiError e;
  e.status = 422;
  e.message = "2 of 3 memories are \"invalid\"";
  e.details_json = R"({"errors":[{"index":1}]})";
  EXPECT_EQ(ErrorBody(e),
            R"({"code":422,"status":"error","error":"2 of 3 memories are \"invalid\"",)"
            R"("details":{"errors":[{"index":1}]}})");
  e.details_json = "";
  EXPECT_EQ(ErrorBody(e), R"({"code":422,"status":"error",)"
                          R"("error":"2 of 3 memories are \"invalid\"","details":{}})");
}

}  // namespace
}  // namespace papr::api
