// A full disk against the real papr-server: the data dir on a small tmpfs (needs root, else
// skipped). Writes answer 507 with a clear error and /readyz 503 (writes:false) while reads
// keep working; writes resume without a restart once space is freed; a restart on a still
// full disk serves reads (507 on writes) and, once space returns, reopens the database for
// writes and runs the engine's recovery by itself; every memory acknowledged 200 is kept.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "tests/integration/api_client.h"
#include "tests/integration/batch_polling.h"
#include "tests/integration/server_process.h"

namespace papr::integration {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kBatchDeadline = std::chrono::seconds(60);

std::string BatchBody(int n) {
  return integration::BatchBody(n, [](int i) { return "Disk full batch memory bm" + std::to_string(i) + "x."; });
}

ServerOptions CloudOptions() {
  ServerOptions o;
  o.config_file = ConfigPath("cloud.yaml");
  o.start_timeout_ms = 30000;
  return o;
}

int RunCommand(const std::vector<std::string>& argv, std::string* output) {
  std::string cmd;
  for (const auto& a : argv) cmd += "'" + a + "' ";
  cmd += "2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return -1;
  char buf[512];
  while (fgets(buf, sizeof(buf), p) != nullptr) *output += buf;
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

//! A tmpfs mounted on `dir` for the test's lifetime (needs root / CAP_SYS_ADMIN).
class TmpfsMount {
 public:
  bool Mount(const std::string& dir, const std::string& size, std::string* why) {
    std::filesystem::create_directories(dir);
    std::string out;
    int rc = RunCommand({"mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir}, &out);
    if (rc != 0) {
      *why = "mount -t tmpfs failed (exit " + std::to_string(rc) + "): " + out;
      return false;
    }
    dir_ = dir;
    return true;
  }
  bool Resize(const std::string& size) {
    std::string out;
    int rc = RunCommand({"mount", "-o", "remount,size=" + size, dir_}, &out);
    EXPECT_EQ(rc, 0) << "remount: " << out;
    return rc == 0;
  }
  ~TmpfsMount() {
    if (dir_.empty()) return;
    std::string out;
    if (RunCommand({"umount", dir_}, &out) != 0) {
      out.clear();
      RunCommand({"umount", "-l", dir_}, &out);
    }
  }

 private:
  std::string dir_;
};

// 12 KB of hardly compressible words, with the memory's token.
std::string BigRandomContent(int i) {
  std::mt19937_64 rng(static_cast<uint64_t>(i) * 7919 + 1);
  std::string text = "Disk fill " + std::string("df") + std::to_string(i) + "q:";
  while (text.size() < 12000) {
    text += ' ';
    int len = 3 + static_cast<int>(rng() % 8);
    for (int k = 0; k < len; ++k) text += static_cast<char>('a' + rng() % 26);
  }
  return text;
}

//! Takes every byte left on the tmpfs with one file (a disk that is still full at a restart).
class DiskFiller {
 public:
  explicit DiskFiller(std::string path) : path_(std::move(path)) {}
  ~DiskFiller() { Free(); }
  void Fill() {
    int fd = ::open(path_.c_str(), O_CREAT | O_WRONLY | O_APPEND, 0600);
    ASSERT_GE(fd, 0) << path_;
    std::string block(64 << 10, 'x');
    for (size_t n : {size_t{64} << 10, size_t{512}, size_t{1}}) {
      while (::write(fd, block.data(), n) == static_cast<ssize_t>(n)) {
      }
    }
    ::close(fd);
  }
  void Free() { std::filesystem::remove(path_); }

 private:
  std::string path_;
};

// Waits until recovery is over: /readyz 200, or 503 naming refused writes (read-only).
Reply WaitUntilRecovered(const ApiClient& api) {
  Reply r;
  for (auto t0 = Clock::now(); Clock::now() - t0 < std::chrono::seconds(30);) {
    r = api.Get("/readyz");
    if (r.status == 200 || r.body.find("\"writes\":false") != std::string::npos) return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return r;
}

using Acknowledged = std::vector<std::pair<std::string, int>>;  // memoryId, i

// Stores 12 KB memories until one is refused; returns the refusal.
Reply FillUntilRefused(const ApiClient& api, int first, Acknowledged* acknowledged) {
  auto t0 = Clock::now();
  for (int i = first; i < first + 3000 && Clock::now() - t0 < std::chrono::seconds(60); ++i) {
    Reply r = api.Post("/v1/memory", "{\"content\":" + JsonQuote(BigRandomContent(i)) + "}");
    if (r.status != 200) return r;
    acknowledged->emplace_back(Str(r.Json()["data"].at(0)["memoryId"]), i);
  }
  return Reply{};
}

void ExpectRefusedForSpace(const Reply& refused) {
  EXPECT_EQ(refused.status, 507) << "expected 507 on a full disk: " << refused.Describe();
  EXPECT_TRUE(IsErrorEnvelope(refused, refused.status));
  EXPECT_TRUE(ContainsIgnoreCase(refused.body, "space") || ContainsIgnoreCase(refused.body, "disk") ||
              ContainsIgnoreCase(refused.body, "storage"))
      << "the error does not say the disk is full: " << refused.body;
}

// Writes refused for space: /readyz 503 with writes:false, memories and search served.
void ExpectReadOnlyService(const ApiClient& api, const Acknowledged& acknowledged) {
  EXPECT_EQ(api.Get("/healthz").status, 200);
  Reply ready = api.Get("/readyz");
  EXPECT_TRUE(IsErrorEnvelope(ready, 503))
      << "readyz while writes are refused: " << ready.Describe();
  EXPECT_NE(ready.body.find("writes are refused"), std::string::npos) << ready.body;
  EXPECT_NE(ready.body.find("\"writes\":false"), std::string::npos) << ready.body;
  for (size_t k : {size_t{0}, acknowledged.size() / 2, acknowledged.size() - 1}) {
    Reply g = api.Get("/v1/memory/" + acknowledged[k].first);
    EXPECT_EQ(g.status, 200) << "read while the disk is full: " << g.Describe();
  }
  Reply s = api.Post("/v1/memory/search", "{\"query\":\"df0q\"}");
  EXPECT_EQ(s.status, 200) << "search while the disk is full: " << s.Describe();
  ExpectRefusedForSpace(api.Post("/v1/memory", "{\"content\":\"one more small memory\"}"));
}

int CountMissing(const ApiClient& api, const Acknowledged& acknowledged) {
  int missing = 0;
  for (const auto& [memory_id, i] : acknowledged) {
    Reply g = api.Get("/v1/memory/" + memory_id);
    if (g.status != 200) {
      if (++missing <= 5) ADD_FAILURE() << "acknowledged memory " << i << " lost: " << g.Describe();
      continue;
    }
    if (Str(g.Json()["data"]["memories"].at(0)["content"]) != BigRandomContent(i)) {
      ADD_FAILURE() << "acknowledged memory " << i << " has other content";
    }
  }
  EXPECT_EQ(missing, 0) << "of " << acknowledged.size() << " acknowledged memories";
  return missing;
}

// Space returns while the server runs: writes are accepted again within a few seconds.
void ExpectWritesResumeWithoutRestart(const ApiClient& api, Acknowledged* acknowledged) {
  auto t0 = Clock::now();
  Reply r;
  while (Clock::now() - t0 < std::chrono::seconds(15)) {
    int i = 100000 + static_cast<int>(acknowledged->size());
    r = api.Post("/v1/memory", "{\"content\":" + JsonQuote(BigRandomContent(i)) + "}");
    if (r.status == 200) {
      acknowledged->emplace_back(Str(r.Json()["data"].at(0)["memoryId"]), i);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  std::printf("[ faults ] space freed: writes %s after %lld ms, no restart\n",
              r.status == 200 ? "accepted again" : "still refused", static_cast<long long>(ms));
  ASSERT_EQ(r.status, 200) << "writes did not resume within 15 s of freeing space: "
                           << r.Describe();
  Reply ready = api.Get("/readyz");
  EXPECT_EQ(ready.status, 200) << ready.Describe();
}

void RunDiskFull(ServerOptions options, bool cloud) {
  // Server first (it owns the temp dir), then the mount: destroyed in reverse order, so the
  // server is killed before the tmpfs is unmounted, and the dir is removed after that.
  options.wait_ready = false;  // a read-only start never reports ready
  ServerProcess server(std::move(options));
  TmpfsMount mount;
  std::string why;
  if (!mount.Mount(server.data_dir(), "8m", &why)) GTEST_SKIP() << "cannot mount a tmpfs: " << why;
  DiskFiller filler(server.data_dir() + "/filler");
  struct KillFirst {
    ServerProcess& s;
    ~KillFirst() { s.Kill9(); }
  } kill_first{server};

  auto started = server.Start();
  ASSERT_TRUE(started) << "the server does not start on an 8 MiB tmpfs: " << started.message();
  ApiClient api(server.port(), kTestApiKey);
  ASSERT_EQ(WaitUntilRecovered(api).status, 200);
  std::string done_batch;
  if (cloud) {
    done_batch = SubmitBatch(api, BatchBody(3));
    EXPECT_EQ(Str(WaitForEnd(api, done_batch, kBatchDeadline).Json()["status"]), "completed");
  }

  // 1. The disk fills up: 507, reads served, /readyz 503 (writes:false).
  Acknowledged acknowledged;
  Reply refused = FillUntilRefused(api, 0, &acknowledged);
  std::printf("[ faults ] disk full (%s): %zu memories of 12 KB acknowledged, then %s\n",
              cloud ? "cloud" : "oss", acknowledged.size(), refused.Describe().substr(0, 300).c_str());
  ASSERT_NE(refused.status, 0) << "the server stopped answering when the disk filled up: "
                               << refused.Describe() << "\nstderr:\n"
                               << server.StderrText().substr(0, 4000);
  ExpectRefusedForSpace(refused);
  ASSERT_FALSE(acknowledged.empty());
  ExpectReadOnlyService(api, acknowledged);

  // 2. Space returns: writes resume by themselves (no restart).
  // 96 MiB: RocksDB resumes once a memtable's worth (64 MiB) is free.
  ASSERT_TRUE(mount.Resize("96m"));
  ExpectWritesResumeWithoutRestart(api, &acknowledged);
  if (::testing::Test::HasFailure()) std::printf("stderr:\n%s\n", server.StderrText().c_str());
  if (cloud) {
    std::string id = SubmitBatch(api, BatchBody(3));
    EXPECT_EQ(Str(WaitForEnd(api, id, kBatchDeadline).Json()["status"]), "completed");
  }

  // 3. kill -9 with a batch just accepted, restart on a disk that is still full: read-only
  // service (the engine waits: its recovery writes).
  std::string open_batch;
  if (cloud) open_batch = SubmitBatch(api, BatchBody(200));
  server.Kill9();
  filler.Fill();
  auto read_only = server.Start();
  ASSERT_TRUE(read_only) << "no start on a full disk: " << read_only.message();
  ApiClient api2(server.port(), kTestApiKey);
  WaitUntilRecovered(api2);
  ExpectReadOnlyService(api2, acknowledged);
  int missing = CountMissing(api2, acknowledged);
  if (cloud) {
    Reply status = api2.Get("/v1/memory/batch/status/" + done_batch);
    EXPECT_EQ(status.status, 200) << "batch status read-only: " << status.Describe();
    EXPECT_EQ(Str(status.Json()["status"]), "completed") << status.body;
    Reply b = api2.Call("POST", "/v1/memory/batch", BatchBody(3), {}, 30000);
    EXPECT_EQ(b.status, 507) << b.Describe();
    Reply open = api2.Get("/v1/memory/batch/status/" + open_batch);
    std::printf("[ faults ] batch accepted before kill -9, read-only: %s, %lld of 200 stored\n",
                Str(open.Json()["status"]).c_str(),
                static_cast<long long>(Int(open.Json()["request_counts"]["succeeded"])));
  }
  std::printf("[ faults ] restart on a full disk: %zu/%zu acknowledged memories served read-only\n",
              acknowledged.size() - static_cast<size_t>(missing), acknowledged.size());

  // 4. Space freed while the read-only server runs: it reopens the database for writes by
  // itself, the engine recovers what was open, and new work runs; no restart.
  filler.Free();
  ExpectWritesResumeWithoutRestart(api2, &acknowledged);
  if (cloud) {
    Reply recovered = WaitForEnd(api2, open_batch, kBatchDeadline);
    EXPECT_EQ(Str(recovered.Json()["status"]), "completed") << recovered.Describe();
    EXPECT_EQ(Int(recovered.Json()["request_counts"]["succeeded"]), 200) << recovered.body;
    std::string id = SubmitBatch(api2, BatchBody(3));
    EXPECT_EQ(Str(WaitForEnd(api2, id, kBatchDeadline).Json()["status"]), "completed");
  }

  // 5. A restart with space: everything acknowledged is there.
  int code = server.Terminate();
  EXPECT_EQ(code, 0) << "SIGTERM after reopening; stderr:\n" << server.StderrText().substr(0, 4000);
  auto restarted = server.Start();
  ASSERT_TRUE(restarted) << restarted.message();
  ApiClient api3(server.port(), kTestApiKey);
  ASSERT_EQ(WaitUntilRecovered(api3).status, 200);
  missing = CountMissing(api3, acknowledged);
  Reply fresh = api3.Post("/v1/memory", "{\"content\":\"space is back\"}");
  EXPECT_EQ(fresh.status, 200) << fresh.Describe();
  std::printf("[ faults ] after restart with space freed: %zu/%zu acknowledged memories present\n",
              acknowledged.size() - static_cast<size_t>(missing), acknowledged.size());
}

TEST(ReliabilityDiskFullTest, Answers507ServesReadsAndResumesWritesWithoutRestartOss) {
  RunDiskFull(ServerOptions{}, /*cloud=*/false);
}

TEST(ReliabilityDiskFullTest, Answers507ServesReadsAndResumesWritesWithoutRestartCloud) {
  if (!PAPR_WITH_ENGINE) GTEST_SKIP() << "needs the cloud edition (PAPR_WITH_ENGINE=0)";
  RunDiskFull(CloudOptions(), /*cloud=*/true);
}

}  // namespace
}  // namespace papr::integration
