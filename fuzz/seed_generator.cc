// Writes the binary seeds of fuzz/corpus/history_event/: one encoded history event per event
// type (a full one and a minimal one), and an execution record, activity record, batch header,
// memories blob and memory record. Run it again when a format changes:
//   build-fuzz/bin/fuzz_seed_generator fuzz/corpus/history_event
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "storage/memory_record.h"
#include "workflows/batch_codec.h"
#if PAPR_WITH_ENGINE
#include "engine/execution_record.h"
#include "engine/history_event.h"
#include "engine/history_rows.h"
#endif

namespace {

using namespace papr;

bool WriteSeed(const std::string& dir, const std::string& name, const std::string& bytes) {
  std::ofstream out(dir + "/" + name, std::ios::binary | std::ios::trunc);
  out << bytes;
  return static_cast<bool>(out);
}

#if PAPR_WITH_ENGINE
// Every field a short distinct value; the types use only some of them, but the codec does not
// care, and full events give the fuzzer every field number.
engine::HistoryEvent FullEvent(engine::EventType type) {
  engine::HistoryEvent e;
  e.type = type;
  e.event_id = 3 + static_cast<int64_t>(type);
  e.time_ms = 1767225600123;
  int64_t n = 1;
#define F_Int(name) e.name = n++;
#define F_Str(name) e.name = std::string(#name) + std::to_string(n++);
#define F(name, number, kind) F_##kind(name)
#include "engine/event_fields.def"
#undef F
#undef F_Int
#undef F_Str
  e.payload = "{\"memories\":2}";
  e.failure = "boom\n\xff";
  return e;
}

bool WriteEngineSeeds(const std::string& dir) {
  bool ok = true;
#define X(name, number)                                                                     \
  ok = ok && WriteSeed(dir, "event_" #name "_full",                                         \
                       engine::EncodeEvent(FullEvent(engine::EventType::k##name)));         \
  {                                                                                         \
    engine::HistoryEvent minimal;                                                           \
    minimal.type = engine::EventType::k##name;                                              \
    minimal.event_id = 1;                                                                   \
    ok = ok && WriteSeed(dir, "event_" #name "_minimal", engine::EncodeEvent(minimal));     \
  }
#include "engine/event_types.def"
#undef X
  std::vector<engine::HistoryEvent> page = {FullEvent(engine::EventType::kActivityTaskScheduled),
                                            FullEvent(engine::EventType::kActivityTaskCompleted)};
  page[1].event_id = page[0].event_id + 1;
  ok = ok && WriteSeed(dir, "history_page", engine::EncodeHistoryRow(page));
  engine::ExecutionRecord r;
  r.workflow_id = "batch-1";
  r.workflow_type = "batch";
  r.owner = "user-1";
  r.status = engine::ExecutionStatus::kFailed;
  r.start_ms = 1767225600000;
  r.close_ms = 1767225601000;
  r.next_event_id = 12;
  r.activities_scheduled = 3;
  r.activities_failed = 1;
  r.cancel_requested = true;
  r.failure = "too many failures";
  r.memo = "partial";
  r.first_failures = {{2, "timeout", "Timeout"}, {3, "bad", ""}};
  ok = ok && WriteSeed(dir, "execution_record", engine::EncodeExecutionRecord(r));
  engine::ActivityRecord a;
  a.activity_id = 7;
  a.state = engine::ActivityState::kBackingOff;
  a.attempts = 2;
  a.payload = "{\"index\":4}";
  a.error = "502 from processing";
  a.next_attempt_ms = 1767225605000;
  ok = ok && WriteSeed(dir, "activity_record", engine::EncodeActivityRecord(a));
  return ok;
}
#endif

bool WriteWorkflowSeeds(const std::string& dir) {
  workflows::BatchHeader h;
  h.user_id = "user-1";
  h.total = 3;
  h.max_concurrency = 4;
  h.tolerated_failure_count = 1;
  h.tolerated_failure_percentage = 12.5;
  h.webhook_url = "https://example.com/hook";
  h.body_hash = std::string(64, 'a');
  h.idempotency_key = "idem-1";
  h.total_content_size = 42;
  h.hi = 3;
  h.webhook_schedule_seconds = {0, 5, 300};
  workflows::MemoryInput m;
  m.content = "Meeting notes";
  m.metadata_json = "{\"topic\":\"a\"}";
  m.context_json = "[{\"role\":\"user\",\"content\":\"hi\"}]";
  m.external_user_id = "ext-1";
  workflows::MemoryInput m2;
  m2.content = "def f(): pass";
  m2.type = "code_snippet";
  return WriteSeed(dir, "batch_header", workflows::EncodeBatchHeader(h)) &&
         WriteSeed(dir, "memories_blob", workflows::EncodeMemories({m, m2}));
}

bool WriteStorageSeeds(const std::string& dir) {
  storage::MemoryRecord r;
  r.id = "mem-1";
  r.user_id = "user-1";
  r.content = "Meeting notes: ship v2";
  r.metadata_json = "{\"topic\":\"a\"}";
  r.created_at_ms = 1767225600123;
  r.content_hash = std::string(64, 'b');
  r.word_count = 4;
  r.keywords = {"meeting", "notes", "ship"};
  r.batch_id = "batch-1";
  r.batch_index = 0;
  return WriteSeed(dir, "memory_record", storage::EncodeMemoryRecord(r));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];
  bool ok = WriteWorkflowSeeds(dir) && WriteStorageSeeds(dir);
#if PAPR_WITH_ENGINE
  ok = ok && WriteEngineSeeds(dir);
#endif
  if (!ok) {
    std::fprintf(stderr, "cannot write seeds to %s\n", dir.c_str());
    return 1;
  }
  return 0;
}
