// Versioning of the batch workflow (GetVersion "memory-options-from-header"): a batch that was
// in flight when the server was upgraded finishes with the options it began with, while new
// batches run version 1 of the change. The "before the upgrade" batch is made by rewriting a
// stopped server's history into the form the previous build wrote (no Version marker, a
// version 2 batch header): exactly what an old in-flight batch looks like on disk.
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "engine/execution_record.h"
#include "engine/history_event.h"
#include "engine/history_rows.h"
#include "storage/db.h"
#include "storage/keys.h"
#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"
#include "tests/integration/test_endpoint.h"
#include "workflows/batch_codec.h"

namespace papr::integration {
namespace {

using namespace std::chrono_literals;
using engine::EventType;
using engine::HistoryEvent;

std::unique_ptr<storage::Db> OpenDb(const ServerProcess& server) {
  storage::DbOptions o;
  o.path = server.data_dir() + "/db";
  auto db = storage::Db::Open(o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return db.ok() ? std::move(db).value() : nullptr;
}

std::vector<HistoryEvent> ReadHistory(storage::Db& db, const std::string& id) {
  std::vector<HistoryEvent> out;
  Status s = db.ScanPrefix(storage::Table::kHistory, storage::HistoryPrefix(id),
                           [&](std::string_view, std::string_view value) {
                             Status row = engine::DecodeHistoryRow(value, &out);
                             EXPECT_TRUE(row.ok()) << row.ToString();
                             return true;
                           });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// Rewrites batch `id` as the build before the change wrote it: no Version marker (event 2),
// later events one id lower, a version 2 header, one row per event (as before history pages).
void RewriteAsBeforeTheChange(storage::Db& db, const std::string& id) {
  std::vector<HistoryEvent> h = ReadHistory(db, id);
  ASSERT_GE(h.size(), 3u);
  ASSERT_EQ(h[1].type, EventType::kMarkerRecorded) << engine::DescribeEvent(h[1]);
  ASSERT_EQ(h[1].payload, "memory-options-from-header");
  auto header = workflows::DecodeBatchHeader(h[0].payload);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  header->format_version = 2;
  h[0].payload = workflows::EncodeBatchHeader(*header);
  storage::WriteBatch wb;
  Status rows = db.ScanPrefix(storage::Table::kHistory, storage::HistoryPrefix(id),
                              [&](std::string_view key, std::string_view) {
                                wb.Delete(storage::Table::kHistory, key);
                                return true;
                              });
  ASSERT_TRUE(rows.ok()) << rows.ToString();
  for (size_t i = 0; i < h.size(); ++i) {
    if (i == 1) continue;
    HistoryEvent e = h[i];
    if (i > 1) e.event_id -= 1;
    if (e.scheduled_event_id > 1) e.scheduled_event_id -= 1;
    wb.Put(storage::Table::kHistory, storage::HistoryKey(id, static_cast<uint64_t>(e.event_id)),
           engine::EncodeEvent(e));
  }
  auto row = db.Get(storage::Table::kExecutions, storage::ExecutionKey(id));
  ASSERT_TRUE(row.ok() && *row);
  auto record = engine::DecodeExecutionRecord(**row);
  ASSERT_TRUE(record.ok());
  record->next_event_id -= 1;
  wb.Put(storage::Table::kExecutions, storage::ExecutionKey(id),
         engine::EncodeExecutionRecord(*record));
  ASSERT_TRUE(db.Write(wb).ok());
}

std::string Submit(const ApiClient& api, const std::string& body) {
  Reply r = api.Call("POST", "/v1/memory/batch", body, {}, 60000);
  EXPECT_EQ(r.status, 202) << r.Describe();
  return r.status == 202 ? Str(r.Json()["batch_id"]) : "";
}

std::string Content(int i) { return "versioned memory " + std::to_string(i); }

TEST(CloudVersioningTest, BatchInFlightAcrossTheUpgradeFinishesOnTheOldOptionsNewOnesOnVersion1) {
  std::atomic<int64_t> calls{0};
  TestEndpoint endpoint([&](const net::HttpRequest&) {
    calls++;
    std::this_thread::sleep_for(30ms);
    return net::HttpResponse::Json(200, "{\"ok\":true}");
  });
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  // A processing timeout whose attempt timeout (2 x 20 s) differs from the one a version 2
  // header decodes to (30 s): code without the GetVersion would not replay the old batch.
  o.extra_yaml = endpoint.ProcessingYaml(20000);
  o.start_timeout_ms = 30000;
  ServerProcess server(o);
  ASSERT_TRUE(server.Start());
  std::string old_id;
  {
    ApiClient api(server.port(), kTestApiKey);
    old_id = Submit(api, BatchBody(30, Content, "\"max_concurrency\":1"));
    ASSERT_FALSE(old_id.empty());
    for (auto deadline = std::chrono::steady_clock::now() + 20s;
         calls < 3 && std::chrono::steady_clock::now() < deadline;) {
      std::this_thread::sleep_for(5ms);
    }
  }
  ASSERT_EQ(server.Terminate(), 0) << server.StderrText();
  {
    auto db = OpenDb(server);
    ASSERT_NE(db, nullptr);
    RewriteAsBeforeTheChange(*db, old_id);
  }
  ASSERT_TRUE(server.Restart()) << server.StderrText();
  std::string new_id;
  {
    ApiClient api(server.port(), kTestApiKey);
    Reply end = WaitForEnd(api, old_id, std::chrono::seconds(60));
    ASSERT_EQ(end.status, 200) << end.Describe();
    EXPECT_EQ(Str(end.Json()["status"]), "completed") << end.body;
    EXPECT_EQ(Int(end.Json()["request_counts"]["succeeded"]), 30) << end.body;
    EXPECT_TRUE(IsNull(end.Json()["resume_error"])) << end.body;
    new_id = Submit(api, BatchBody(3, Content));
    ASSERT_FALSE(new_id.empty());
    Reply new_end = WaitForEnd(api, new_id, std::chrono::seconds(60));
    EXPECT_EQ(Str(new_end.Json()["status"]), "completed") << new_end.body;
  }
  ASSERT_EQ(server.Terminate(), 0) << server.StderrText();
  auto db = OpenDb(server);
  ASSERT_NE(db, nullptr);
  for (const auto& e : ReadHistory(*db, old_id)) {
    EXPECT_NE(e.type, EventType::kMarkerRecorded) << engine::DescribeEvent(e);
  }
  std::vector<HistoryEvent> fresh = ReadHistory(*db, new_id);
  ASSERT_GE(fresh.size(), 2u);
  EXPECT_EQ(fresh[1].type, EventType::kMarkerRecorded);
  EXPECT_EQ(fresh[1].payload, "memory-options-from-header");
  EXPECT_EQ(fresh[1].version, 1);
}

}  // namespace
}  // namespace papr::integration
