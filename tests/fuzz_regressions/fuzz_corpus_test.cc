// Every seed of fuzz/corpus/<target>/ and every crash input saved in fuzz/regressions/<target>/
// goes through the same checks as the fuzzers (fuzz/fuzz_checks.h), without libFuzzer, so the
// normal build and CI keep covering them. A new crash input is added by copying libFuzzer's
// crash-* file into fuzz/regressions/<target>/.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "fuzz/fuzz_checks.h"

namespace papr::fuzz {
namespace {

namespace fs = std::filesystem;

struct FuzzTarget {
  const char* name;
  std::string (*check)(std::string_view input);
};

void PrintTo(const FuzzTarget& target, std::ostream* os) { *os << target.name; }

std::vector<fs::path> FilesIn(const fs::path& dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file() && entry.path().filename().string()[0] != '.') {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

class FuzzCorpusTest : public ::testing::TestWithParam<FuzzTarget> {
 protected:
  // Runs every file of fuzz/<kind>/<target>/ through the target's check; returns the count.
  size_t ReplayDir(const char* kind) {
    const FuzzTarget& target = GetParam();
    std::vector<fs::path> files = FilesIn(fs::path(PAPR_FUZZ_DIR) / kind / target.name);
    for (const fs::path& file : files) {
      std::string failure = target.check(ReadFile(file));
      EXPECT_EQ(failure, "") << file;
    }
    return files.size();
  }
};

TEST_P(FuzzCorpusTest, SeedCorpusPassesTheChecks) {
  EXPECT_GT(ReplayDir("corpus"), 0u) << "no seeds for " << GetParam().name;
}

TEST_P(FuzzCorpusTest, SavedCrashInputsPassTheChecks) { ReplayDir("regressions"); }

INSTANTIATE_TEST_SUITE_P(AllTargets, FuzzCorpusTest,
                         ::testing::Values(FuzzTarget{"http_request", CheckHttpRequest},
                                           FuzzTarget{"json_request", CheckJsonRequest},
                                           FuzzTarget{"config", CheckConfig},
                                           FuzzTarget{"history_event", CheckHistoryEvent},
                                           FuzzTarget{"url", CheckUrl}),
                         [](const ::testing::TestParamInfo<FuzzTarget>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace papr::fuzz
