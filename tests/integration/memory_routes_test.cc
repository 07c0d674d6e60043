// PUT /v1/memory/{id}, DELETE /v1/memory/all, the end-user scoping of get, update and
// delete, and /v1/user, on the real server of both editions; and every route of
// GET /openapi.json answers.

#include <set>
#include <string>

#include <gtest/gtest.h>

#include "tests/integration/api_client.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

class MemoryRoutesTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !PAPR_WITH_ENGINE) GTEST_SKIP() << "cloud edition needs the engine";
    ServerOptions o;
    if (GetParam()) o.config_file = ConfigPath("cloud.yaml");
    server_ = std::make_unique<ServerProcess>(o);
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override {
    if (HasFailure() && server_) std::printf("server stderr:\n%s\n", server_->StderrText().c_str());
  }
  ApiClient Api() const { return ApiClient(server_->port(), kTestApiKey); }

  std::string Add(const std::string& content, const std::string& end_user = "") {
    std::string body = "{\"content\":" + JsonQuote(content);
    if (!end_user.empty()) body += ",\"external_user_id\":" + JsonQuote(end_user);
    Reply r = Api().Post("/v1/memory", body + "}");
    EXPECT_EQ(r.status, 200) << r.Describe();
    return r.status == 200 ? Str(r.Json()["data"].at(0)["memoryId"]) : "";
  }
  // Ids found by a search, in rank order.
  std::vector<std::string> Found(const std::string& query, const std::string& end_user = "") {
    std::string body = "{\"query\":" + JsonQuote(query);
    if (!end_user.empty()) body += ",\"external_user_id\":" + JsonQuote(end_user);
    Reply r = Api().Post("/v1/memory/search?max_memories=50", body + "}");
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::vector<std::string> ids;
    if (r.status != 200) return ids;
    for (auto m : r.Json()["data"]["memories"].get_array()) ids.push_back(Str(m["id"]));
    return ids;
  }
  Reply Put(const std::string& path, const std::string& body) const {
    return Api().Call("PUT", path, body);
  }

  std::unique_ptr<ServerProcess> server_;
};

TEST_P(MemoryRoutesTest, UpdateReplacesTheContentInSearchAndAnswersPaprsShape) {
  std::string id = Add("the zqold harbour report", "end-ann");
  ASSERT_FALSE(id.empty());
  Reply r = Put("/v1/memory/" + id, R"({"content":"the zqnew lighthouse report",)"
                                    R"("metadata":{"topics":["sea"]}})");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Str(r.Json()["status"]), "success");
  EXPECT_EQ(Str(r.Json()["memory_items"].at(0)["memoryId"]), id);
  EXPECT_EQ(Str(r.Json()["memory_items"].at(0)["content"]), "the zqnew lighthouse report");
  EXPECT_FALSE(Str(r.Json()["memory_items"].at(0)["updatedAt"]).empty());
  // Searchable at once, found once, the old words gone.
  EXPECT_EQ(Found("zqnew"), std::vector<std::string>{id});
  EXPECT_EQ(Found("zqnew", "end-ann"), std::vector<std::string>{id});
  EXPECT_TRUE(Found("zqold").empty());
  EXPECT_EQ(Found("report"), std::vector<std::string>{id});
  Reply got = Api().Get("/v1/memory/" + id);
  ASSERT_EQ(got.status, 200) << got.Describe();
  auto m = got.Json()["data"]["memories"].at(0);
  EXPECT_EQ(Str(m["content"]), "the zqnew lighthouse report");
  EXPECT_EQ(Str(m["external_user_id"]), "end-ann");  // kept
  EXPECT_EQ(Str(m["metadata"]["topics"].at(0)), "sea");
  EXPECT_EQ(Str(m["content_hash"]).size(), 64u);
  // Refused updates change nothing.
  Reply empty = Put("/v1/memory/" + id, R"({"content":"   "})");
  EXPECT_TRUE(IsErrorEnvelope(empty, 400)) << empty.Describe();
  EXPECT_EQ(Str(empty.Json()["details"]["field"]), "content");
  Reply bad_type = Put("/v1/memory/" + id, R"({"type":"video"})");
  EXPECT_TRUE(IsErrorEnvelope(bad_type, 400)) << bad_type.Describe();
  Reply other = Put("/v1/memory/" + id + "?external_user_id=end-ben", R"({"content":"x"})");
  EXPECT_TRUE(IsErrorEnvelope(other, 404)) << other.Describe();
  EXPECT_TRUE(IsErrorEnvelope(Put("/v1/memory/no-such-id", R"({"content":"x"})"), 404));
  EXPECT_EQ(Found("zqnew"), std::vector<std::string>{id});
}

TEST_P(MemoryRoutesTest, GetAndDeleteOfAnotherEndUsersMemoryAre404AndChangeNothing) {
  std::string ann = Add("ann's zqscope memory", "end-ann");
  EXPECT_EQ(Api().Get("/v1/memory/" + ann + "?external_user_id=end-ann").status, 200);
  EXPECT_TRUE(IsErrorEnvelope(Api().Get("/v1/memory/" + ann + "?external_user_id=end-ben"), 404));
  EXPECT_TRUE(IsErrorEnvelope(Api().Get("/v1/memory/" + ann + "?user_id=end-ben"), 404));
  EXPECT_TRUE(
      IsErrorEnvelope(Api().Delete("/v1/memory/" + ann + "?external_user_id=end-ben"), 404));
  EXPECT_EQ(Api().Get("/v1/memory/" + ann).status, 200);
  Reply bad = Api().Get("/v1/memory/" + ann + "?external_user_id=a%01b");
  EXPECT_TRUE(IsErrorEnvelope(bad, 400)) << bad.Describe();
  EXPECT_EQ(Str(bad.Json()["details"]["field"]), "external_user_id");
  EXPECT_EQ(Api().Delete("/v1/memory/" + ann + "?external_user_id=end-ann").status, 200);
  EXPECT_TRUE(IsErrorEnvelope(Api().Get("/v1/memory/" + ann), 404));
}

TEST_P(MemoryRoutesTest, DeleteAllOfOneEndUserThenOfTheWholeKey) {
  std::set<std::string> ann, ben;
  for (int i = 0; i < 3; ++i) ann.insert(Add("zqall note " + std::to_string(i), "end-ann"));
  for (int i = 0; i < 2; ++i) ben.insert(Add("zqall note b" + std::to_string(i), "end-ben"));
  std::string own = Add("zqall note of the key itself");
  Reply r = Api().Delete("/v1/memory/all?external_user_id=end-ann");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Int(r.Json()["total_processed"]), 3);
  EXPECT_EQ(Int(r.Json()["total_successful"]), 3);
  EXPECT_EQ(Int(r.Json()["total_failed"]), 0);
  for (const auto& id : ann) EXPECT_TRUE(IsErrorEnvelope(Api().Get("/v1/memory/" + id), 404));
  std::vector<std::string> left = Found("zqall");
  EXPECT_EQ(std::set<std::string>(left.begin(), left.end()),
            (std::set<std::string>{*ben.begin(), *ben.rbegin(), own}));
  EXPECT_TRUE(Found("zqall", "end-ann").empty());
  EXPECT_EQ(Found("zqall", "end-ben").size(), 2u);
  Reply all = Api().Delete("/v1/memory/all");
  ASSERT_EQ(all.status, 200) << all.Describe();
  EXPECT_EQ(Int(all.Json()["total_successful"]), 3);
  EXPECT_TRUE(Found("zqall").empty());
  EXPECT_EQ(Int(Api().Delete("/v1/memory/all").Json()["total_successful"]), 0);
}

TEST_P(MemoryRoutesTest, EndUsersAreCreatedListedUpdatedAndDeletedWithTheirMemories) {
  Reply ann = Api().Post("/v1/user", R"({"external_id":"end-ann","email":"ann@example.org",)"
                                     R"("metadata":{"plan":"gold"}})");
  ASSERT_EQ(ann.status, 200) << ann.Describe();
  std::string ann_id = Str(ann.Json()["user_id"]);
  EXPECT_EQ(Str(ann.Json()["external_id"]), "end-ann");
  EXPECT_EQ(Str(ann.Json()["metadata"]["plan"]), "gold");
  // Creating it again links the existing user.
  Reply again = Api().Post("/v1/user", R"({"external_id":"end-ann"})");
  ASSERT_EQ(again.status, 200) << again.Describe();
  EXPECT_EQ(Str(again.Json()["user_id"]), ann_id);
  EXPECT_EQ(Str(again.Json()["email"]), "ann@example.org");
  Reply batch = Api().Post("/v1/user/batch", R"({"users":[{"external_id":"end-ben"},)"
                                             R"({"external_id":"end-cy","type":"agent"}]})");
  ASSERT_EQ(batch.status, 200) << batch.Describe();
  EXPECT_EQ(Int(batch.Json()["total"]), 2);
  // Bad input names the field and changes nothing.
  Reply bad = Api().Post("/v1/user/batch", R"({"users":[{"external_id":"end-dee"},{"type":"x"}]})");
  EXPECT_TRUE(IsErrorEnvelope(bad, 400)) << bad.Describe();
  EXPECT_EQ(Str(bad.Json()["details"]["field"]), "users[1].external_id");
  EXPECT_TRUE(IsErrorEnvelope(Api().Post("/v1/user", R"({"email":"x@y"})"), 400));
  Reply list = Api().Get("/v1/user?page=1&page_size=2");
  ASSERT_EQ(list.status, 200) << list.Describe();
  EXPECT_EQ(Int(list.Json()["total"]), 3);
  EXPECT_EQ(list.Json()["data"].get_array().size(), 2u);
  Reply page2 = Api().Get("/v1/user?page=2&page_size=2");
  EXPECT_EQ(page2.Json()["data"].get_array().size(), 1u);
  Reply by_email = Api().Get("/v1/user?email=ann@example.org");
  ASSERT_EQ(by_email.Json()["data"].get_array().size(), 1u);
  EXPECT_EQ(Str(by_email.Json()["data"].at(0)["user_id"]), ann_id);
  // Get by id, by external id; update; the external id stays.
  EXPECT_EQ(Str(Api().Get("/v1/user/" + ann_id).Json()["external_id"]), "end-ann");
  EXPECT_EQ(Str(Api().Get("/v1/user/end-ann?is_external=true").Json()["user_id"]), ann_id);
  Reply upd = Put("/v1/user/" + ann_id, R"({"email":"ann@new.example.org"})");
  ASSERT_EQ(upd.status, 200) << upd.Describe();
  EXPECT_EQ(Str(upd.Json()["email"]), "ann@new.example.org");
  EXPECT_TRUE(IsErrorEnvelope(Put("/v1/user/" + ann_id, R"({"external_id":"other"})"), 422));
  // Deleting a user deletes its memories, not another's.
  std::string ann_memory = Add("ann zquser memory", "end-ann");
  std::string ben_memory = Add("ben zquser memory", "end-ben");
  Reply del = Api().Delete("/v1/user/" + ann_id);
  ASSERT_EQ(del.status, 200) << del.Describe();
  EXPECT_EQ(Int(del.Json()["details"]["memories_deleted"]), 1);
  EXPECT_TRUE(IsErrorEnvelope(Api().Get("/v1/memory/" + ann_memory), 404));
  EXPECT_EQ(Found("zquser"), std::vector<std::string>{ben_memory});
  EXPECT_TRUE(IsErrorEnvelope(Api().Get("/v1/user/" + ann_id), 404));
  EXPECT_EQ(Int(Api().Get("/v1/user").Json()["total"]), 2);
}

TEST_P(MemoryRoutesTest, SearchMetadataFiltersAreEqualityAndAnyOf) {
  auto add = [&](const std::string& content, const std::string& metadata) {
    Reply r = Api().Post("/v1/memory", "{\"content\":" + JsonQuote(content) +
                                            ",\"metadata\":" + metadata + "}");
    EXPECT_EQ(r.status, 200) << r.Describe();
    return Str(r.Json()["data"].at(0)["memoryId"]);
  };
  std::string sea = add("zqfilter harbour", R"({"topics":["sea","ships"],"customMetadata":{"team":"red"}})");
  std::string air = add("zqfilter airport", R"({"topics":["air"],"customMetadata":{"team":"blue"}})");
  add("zqfilter plain", "{}");
  auto found = [&](const std::string& filter) {
    Reply r = Api().Post("/v1/memory/search", R"({"query":"zqfilter","metadata":)" + filter + "}");
    EXPECT_EQ(r.status, 200) << r.Describe();
    std::set<std::string> ids;
    for (auto m : r.Json()["data"]["memories"].get_array()) ids.insert(Str(m["id"]));
    return ids;
  };
  EXPECT_EQ(found(R"({"topics":"ships"})"), std::set<std::string>{sea});
  EXPECT_EQ(found(R"({"topics":["air","sea"]})"), (std::set<std::string>{sea, air}));
  EXPECT_EQ(found(R"({"customMetadata":{"team":"blue"}})"), std::set<std::string>{air});
  EXPECT_EQ(found(R"({"topics":"sea","customMetadata":{"team":"blue"}})"), std::set<std::string>{});
  EXPECT_EQ(found(R"({"topics":null})").size(), 3u);
  Reply bad = Api().Post("/v1/memory/search", R"({"query":"zqfilter","metadata":[1]})");
  EXPECT_TRUE(IsErrorEnvelope(bad, 400)) << bad.Describe();
  EXPECT_EQ(Str(bad.Json()["details"]["field"]), "metadata");
}

// Every (method, path) of the served document reaches its route: no 404 "no route", no 405.
TEST_P(MemoryRoutesTest, EveryDocumentedRouteAnswers) {
  Reply doc = ApiClient(server_->port(), "").Get("/openapi.json");
  ASSERT_EQ(doc.status, 200) << doc.Describe();
  EXPECT_EQ(Str(doc.Json()["openapi"]), "3.1.0");
  int checked = 0;
  for (auto [path, item] : doc.Json()["paths"].get_object()) {
    std::string concrete;
    for (size_t i = 0; i < path.size(); ++i) {
      if (path[i] != '{') {
        concrete.push_back(path[i]);
        continue;
      }
      concrete += "probe-id";
      i = path.find('}', i);
    }
    for (auto [method, op] : item.get_object()) {
      std::string m(method);
      for (char& c : m) c = static_cast<char>(std::toupper(c));
      Reply r = Api().Call(m, concrete, m == "GET" || m == "DELETE" ? "" : "{}");
      std::string what = m + " " + concrete + ": " + r.Describe().substr(0, 300);
      EXPECT_NE(r.status, 405) << what;
      EXPECT_NE(r.status, 0) << what;
      EXPECT_EQ(r.body.find("no route for"), std::string::npos) << what;
      ++checked;
    }
  }
  EXPECT_GE(checked, 25);
  Reply wrong = Api().Call("PATCH", "/v1/memory/abc", "{}");
  EXPECT_TRUE(IsErrorEnvelope(wrong, 405));
  EXPECT_EQ(wrong.Header("allow"), "GET, PUT, DELETE");
}

INSTANTIATE_TEST_SUITE_P(Editions, MemoryRoutesTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Cloud" : "Oss"; });

}  // namespace
}  // namespace papr::integration
