// POST /v1/document as Papr's clients send it (multipart/form-data), on the real server:
// text, Markdown and PDF become chunks stored as memories by a batch (durable in the cloud
// edition, with kill -9 in the middle of a 200-page PDF), status and cancel; the OSS edition's
// limits answer 413 with the upgrade details.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/api_client.h"
#include "tests/integration/server_process.h"
#include "tests/support/pdf_maker.h"

namespace papr::integration {
namespace {

using namespace std::chrono_literals;

const char* kBoundary = "----papr-test-boundary";

std::string Form(const std::string& filename, const std::string& type, const std::string& file,
                 const std::map<std::string, std::string>& fields = {}) {
  std::string body;
  for (const auto& [name, value] : fields) {
    body += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"" + name +
            "\"\r\n\r\n" + value + "\r\n";
  }
  body += std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" +
          filename + "\"\r\nContent-Type: " + type + "\r\n\r\n" + file + "\r\n--" + kBoundary + "--\r\n";
  return body;
}

// `pages` pages of 40 lines; every sentence names its page and line and has the word zqdoc.
std::string BigPdf(int pages) {
  std::vector<std::string> texts;
  for (int p = 1; p <= pages; ++p) {
    std::string page;
    for (int line = 0; line < 40; ++line) {
      page += "Sentence zqdoc p" + std::to_string(p) + "l" + std::to_string(line) + " of the report.\n";
    }
    texts.push_back(page);
  }
  return testing::MakeTextPdf(texts);
}

class DocumentTest : public ::testing::TestWithParam<bool> {
 protected:
  bool Cloud() const { return GetParam(); }
  void SetUp() override {
    if (Cloud() && !PAPR_WITH_ENGINE) GTEST_SKIP() << "cloud edition needs the engine";
    ServerOptions o;
    if (Cloud()) o.config_file = ConfigPath("cloud.yaml");
    server_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override {
    if (HasFailure() && server_) std::printf("server stderr:\n%s\n", server_->StderrText().c_str());
  }
  ApiClient Api() const { return ApiClient(server_->port(), kTestApiKey); }
  Reply Upload(const std::string& body) const {
    return Api().Post("/v1/document", body,
                      {{"Content-Type", std::string("multipart/form-data; boundary=") + kBoundary}});
  }
  std::string UploadId(const Reply& r) const {
    EXPECT_EQ(r.status, 202) << r.Describe();
    return r.status == 202 ? Str(r.Json()["document_status"]["upload_id"]) : "";
  }
  // Polls the document's status until it is one of `states`.
  std::string WaitForDocument(const std::string& id, const std::set<std::string>& states,
                              std::chrono::seconds timeout = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      Reply r = Api().Get("/v1/document/status/" + id);
      if (r.status == 200) last = Str(r.Json()["status"]);
      if (states.contains(last)) return last;
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "document " << id << " still " << last;
    return last;
  }
  // chunk_index -> how many memories of document `id` (up to 100) have it, found by their
  // metadata; `index` >= 0: only that chunk's.
  std::map<int64_t, int> ChunksStored(const std::string& id, const std::string& word,
                                      int64_t index = -1) {
    std::string filter = "{\"document_id\":" + JsonQuote(id);
    if (index >= 0) filter += ",\"chunk_index\":" + std::to_string(index);
    Reply r = Api().Post("/v1/memory/search?max_memories=100",
                         "{\"query\":" + JsonQuote(word) + ",\"metadata\":" + filter + "}}");
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::map<int64_t, int> seen;
    if (r.status != 200) return seen;
    for (auto m : r.Json()["data"]["memories"].get_array()) {
      int64_t index = -1;
      EXPECT_EQ(m["metadata"]["chunk_index"].get(index), simdjson::SUCCESS);
      seen[index]++;
    }
    return seen;
  }

  std::unique_ptr<ServerProcess> server_;
};

TEST_P(DocumentTest, AMarkdownUploadIsStoredAsSearchableChunksThatNameTheirDocument) {
  std::string md = "# Harbour notes\n\nThe zqlighthouse keeper logs every ship.\n\n";
  for (int i = 0; i < 30; ++i) md += "Paragraph " + std::to_string(i) + " about tides and zqtide charts.\n\n";
  Reply r = Upload(Form("notes.md", "text/markdown", md,
                        {{"metadata", R"({"project":"harbour"})"}, {"external_user_id", "ann"}}));
  const std::string id = UploadId(r);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Str(r.Json()["details"]["format"]), "markdown");
  EXPECT_EQ(WaitForDocument(id, {"completed", "failed"}), "completed");
  Reply st = Api().Get("/v1/document/status/" + id);
  EXPECT_EQ(st.Json()["progress"].get_double().value(), 1.0) << st.body;
  auto chunks = ChunksStored(id, "zqtide");
  int64_t expected = r.Json()["details"]["chunks"].get_int64().value();
  EXPECT_EQ(static_cast<int64_t>(chunks.size()), expected);
  Reply found = Api().Post("/v1/memory/search",
                           R"({"query":"zqlighthouse","external_user_id":"ann"})");
  ASSERT_EQ(found.status, 200) << found.Describe();
  auto first = found.Json()["data"]["memories"].at(0);
  EXPECT_EQ(Str(first["metadata"]["document_id"]), id);
  EXPECT_EQ(Str(first["metadata"]["document_name"]), "notes.md");
  EXPECT_EQ(Str(first["metadata"]["project"]), "harbour");
  Reply other = Api().Post("/v1/memory/search", R"({"query":"zqlighthouse","external_user_id":"bob"})");
  EXPECT_EQ(other.Json()["data"]["memories"].get_array().size(), 0u) << "another end user's";
}

TEST_P(DocumentTest, APdfsPagesBecomeChunksEachStoredOnce) {
  Reply r = Upload(Form("report.pdf", "application/pdf", BigPdf(Cloud() ? 12 : 2)));
  const std::string id = UploadId(r);
  ASSERT_FALSE(id.empty());
  EXPECT_EQ(Str(r.Json()["details"]["format"]), "pdf");
  EXPECT_EQ(r.Json()["document_status"]["total_pages"].get_int64().value(), Cloud() ? 12 : 2);
  EXPECT_EQ(WaitForDocument(id, {"completed", "failed"}), "completed");
  auto chunks = ChunksStored(id, "zqdoc");
  const int64_t expected = r.Json()["details"]["chunks"].get_int64().value();
  ASSERT_EQ(static_cast<int64_t>(chunks.size()), expected);
  for (const auto& [index, copies] : chunks) EXPECT_EQ(copies, 1) << "chunk " << index;
}

TEST_P(DocumentTest, BadUploadsAreRefusedNamingTheFieldAndStoreNothing) {
  struct Case {
    std::string content_type, body;
    int status;
    std::string field;
  } cases[] = {
      {"application/json", "{}", 400, "file"},
      {std::string("multipart/form-data; boundary=") + kBoundary,
       std::string("--") + kBoundary + "\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--" +
           kBoundary + "--\r\n", 400, "file"},
      {std::string("multipart/form-data; boundary=") + kBoundary,
       Form("a.bin", "application/octet-stream", std::string("\x00\xff\x10", 3)), 422, "file"},
      {std::string("multipart/form-data; boundary=") + kBoundary,
       Form("a.txt", "text/plain", "Some zqbad text.", {{"metadata", "[1,2]"}}), 400, "metadata"},
      {std::string("multipart/form-data; boundary=") + kBoundary,
       Form("a.txt", "text/plain", "Some zqbad text.", {{"webhook_url", "ftp://127.0.0.1/x"}}), 400,
       "webhook_url"},
  };
  for (const auto& c : cases) {
    Reply r = Api().Post("/v1/document", c.body, {{"Content-Type", c.content_type}});
    EXPECT_EQ(r.status, c.status) << r.Describe();
    if (!c.field.empty() && r.status == c.status) {
      EXPECT_EQ(Str(r.Json()["details"]["field"]), c.field) << r.body;
    }
  }
  Reply found = Api().Post("/v1/memory/search", R"({"query":"zqbad"})");
  EXPECT_EQ(found.Json()["data"]["memories"].get_array().size(), 0u);
}

TEST_P(DocumentTest, OverTheEditionsLimitsIsA413WithTheUpgradeDetails) {
  const int64_t max_bytes = Cloud() ? 52428800 : 1048576;
  Reply big = Upload(Form("big.txt", "text/plain", std::string(max_bytes + 1, 'a')));
  EXPECT_EQ(big.status, 413) << big.Describe();
  if (big.status == 413) {
    EXPECT_EQ(big.Json()["details"]["max_document_bytes"].get_int64().value(), max_bytes);
    EXPECT_FALSE(Str(big.Json()["details"]["upgrade_url"]).empty());
  }
  if (Cloud()) return;  // 10,000 chunks is a 20 MB text: the size test above is the cloud's
  // A page of this PDF is a paragraph of ~1,500 bytes: a chunk each, 60 > 50.
  Reply many = Upload(Form("long.pdf", "application/pdf", BigPdf(60)));
  ASSERT_EQ(many.status, 413) << many.Describe();
  EXPECT_EQ(many.Json()["details"]["max_batch_size"].get_int64().value(), 50);
  EXPECT_NE(many.body.find("features.max_batch_size"), std::string::npos) << many.body;
  EXPECT_FALSE(Str(many.Json()["details"]["upgrade_info"]).empty());
}

TEST_P(DocumentTest, CancelStopsADocumentAndAFinishedOneCannotBeCancelled) {
  if (!Cloud()) GTEST_SKIP() << "the executor's small documents finish before a cancel lands";
  const std::string id = UploadId(Upload(Form("r.pdf", "application/pdf", BigPdf(3000))));
  ASSERT_FALSE(id.empty());
  Reply cancel = Api().Delete("/v1/document/" + id);
  ASSERT_EQ(cancel.status, 200) << cancel.Describe();
  EXPECT_EQ(WaitForDocument(id, {"cancelled", "completed"}), "cancelled");
  Reply st = Api().Get("/v1/document/status/" + id);
  EXPECT_GT(st.Json()["request_counts"]["canceled"].get_int64().value(), 0) << st.body;
  EXPECT_EQ(Api().Delete("/v1/document/" + id).status, 409);
  EXPECT_EQ(Api().Get("/v1/document/status/no-such-upload").status, 404);
}

TEST_P(DocumentTest, Kill9DuringA200PagePdfStoresEveryChunkExactlyOnce) {
  if (!Cloud()) GTEST_SKIP() << "the OSS executor does not survive restarts (documented)";
  Reply r = Upload(Form("long.pdf", "application/pdf", BigPdf(200)));
  const std::string id = UploadId(r);
  ASSERT_FALSE(id.empty());
  const int64_t chunks = r.Json()["details"]["chunks"].get_int64().value();
  ASSERT_GE(chunks, 200);  // a page is a chunk
  // Kill once some chunks are stored and some are not.
  int64_t stored_at_kill = 0;
  for (int i = 0; i < 400 && stored_at_kill == 0; ++i) {
    Reply st = Api().Get("/v1/document/status/" + id);
    if (st.status == 200) stored_at_kill = st.Json()["request_counts"]["succeeded"].get_int64().value();
    if (stored_at_kill == 0) std::this_thread::sleep_for(2ms);
  }
  server_->Kill9();
  ASSERT_LT(stored_at_kill, chunks) << "the document was done before the kill: nothing checked";
  std::printf("killed with %lld of %lld chunks stored\n", static_cast<long long>(stored_at_kill),
              static_cast<long long>(chunks));
  ASSERT_TRUE(server_->Restart());
  EXPECT_EQ(WaitForDocument(id, {"completed", "failed"}, 120s), "completed");
  // Every chunk's result names one memory, none twice ...
  std::set<std::string> memory_ids;
  int64_t succeeded = 0;
  for (std::string after = ""; ;) {
    Reply page = Api().Get("/v1/memory/batch/" + id + "/results?limit=1000" + after);
    ASSERT_EQ(page.status, 200) << page.Describe();
    for (auto item : page.Json()["results"].get_array()) {
      succeeded += Str(item["status"]) == "succeeded";
      memory_ids.insert(Str(item["memoryId"]));
    }
    auto next = page.Json()["next_after"];
    if (next.is_null() || next.error()) break;
    after = "&after=" + std::to_string(next.get_int64().value());
  }
  EXPECT_EQ(succeeded, chunks);
  EXPECT_EQ(static_cast<int64_t>(memory_ids.size()), chunks);
  // ... and each chunk is stored once (sampled: every 10th and the last).
  for (int64_t index = 0; index < chunks; index += (index + 10 < chunks ? 10 : std::max<int64_t>(1, chunks - 1 - index))) {
    auto stored = ChunksStored(id, "zqdoc", index);
    EXPECT_EQ(stored[index], 1) << "chunk " << index;
    EXPECT_EQ(stored.size(), 1u) << "chunk " << index;
    if (index == chunks - 1) break;
  }
}

INSTANTIATE_TEST_SUITE_P(Editions, DocumentTest, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Cloud" : "Oss"; });

}  // namespace
}  // namespace papr::integration
