#include "tools/engine_admin/admin_flags.h"
#include "tools/engine_admin/text_util.h"

#include <gtest/gtest.h>

namespace papr::engine_admin {
namespace {

Result<Flags> Parse(const std::vector<std::string>& args) { return ParseFlags(args); }

TEST(AdminFlagsTest, ParsesCommandPositionalsAndFlagsInAnyOrder) {
  auto f = Parse({"--data-dir", "/d", "history", "wf-1", "--after=3", "--limit", "10", "--json"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->command, "history");
  EXPECT_EQ(f->args, std::vector<std::string>{"wf-1"});
  EXPECT_EQ(f->data_dir, "/d");
  EXPECT_EQ(f->after, 3);
  EXPECT_EQ(f->limit, 10);
  EXPECT_TRUE(f->json);
}

TEST(AdminFlagsTest, TemporalStyleShortFlagsAndOutputFormats) {
  auto f = Parse({"describe", "-w", "wf-9", "-o", "json", "--data-dir", "/d"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->args, std::vector<std::string>{"wf-9"});
  EXPECT_TRUE(f->json);
  EXPECT_FALSE(f->json_lines);
  auto lines = Parse({"list", "--output=jsonl", "--data-dir", "/d"});
  ASSERT_TRUE(lines.ok()) << lines.status().ToString();
  EXPECT_TRUE(lines->json && lines->json_lines);
  auto text = Parse({"history", "--workflow-id", "wf-1", "-o", "text", "--data-dir", "/d"});
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_FALSE(text->json);
  EXPECT_EQ(text->args, std::vector<std::string>{"wf-1"});
  auto yaml = Parse({"list", "-o", "yaml", "--data-dir", "/d"});
  ASSERT_FALSE(yaml.ok());
  EXPECT_NE(yaml.status().message().find("text, json or jsonl"), std::string::npos);
  EXPECT_FALSE(Parse({"describe", "wf-1", "-w", "wf-2", "--data-dir", "/d"}).ok());  // twice
  auto unknown = Parse({"list", "--data-dir", "/d", "--bogus"});
  EXPECT_NE(unknown.status().message().find("unknown flag --bogus"), std::string::npos);
}

TEST(AdminFlagsTest, JsonLinesPutsEachListedItemOnALine) {
  EXPECT_EQ(JsonLines(R"({"workflows":[{"id":"a"},{"id":"b"}],"next":null})"),
            "{\"id\":\"a\"}\n{\"id\":\"b\"}\n");
  EXPECT_EQ(JsonLines("[1, 2]"), "1\n2\n");
  EXPECT_EQ(JsonLines(R"({"nodes": 3})"), "{\"nodes\":3}\n");
  EXPECT_EQ(JsonLines("not json"), "not json");
}

TEST(AdminFlagsTest, ReplayOfAFileNeedsNoDataDir) {
  auto f = Parse({"replay", "--file", "h.json"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->file, "h.json");
}

TEST(AdminFlagsTest, RejectsMisuse) {
  const std::vector<std::vector<std::string>> kBad = {
      {},
      {"frobnicate", "--data-dir", "/d"},
      {"list"},                                      // no --data-dir
      {"describe", "--data-dir", "/d"},              // no id
      {"describe", "a", "b", "--data-dir", "/d"},    // two ids
      {"list", "--data-dir", "/d", "--after", "3"},  // flag of another command
      {"list", "--data-dir", "/d", "--limit", "-1"},
      {"list", "--data-dir", "/d", "--status", "sleepy"},
      {"list", "--data-dir", "/d", "--bogus"},
      {"terminate", "w", "--data-dir", "/d"},              // no --reason
      {"replay", "w", "--file", "f", "--data-dir", "/d"},  // two sources
      {"replay", "--data-dir", "/d", "--status", "running"},
      {"list", "--data-dir"},  // value missing
      {"stats", "--data-dir", "/d", "--json=yes"},
      {"stats", "--data-dir", "/d", "--server", "http://x"},  // no --api-key
  };
  for (const auto& args : kBad) {
    auto f = Parse(args);
    std::string joined;
    for (const auto& a : args)
      joined += a + " ";
    EXPECT_FALSE(f.ok()) << joined;
  }
}

TEST(AdminFlagsTest, WriteCommandsWithAServerNeedNoDataDir) {
  auto f = Parse({"cancel", "w", "--server", "http://127.0.0.1:1", "--api-key", "k"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(ServerMode(*f));
  auto read = Parse({"list", "--server", "http://127.0.0.1:1", "--api-key", "k"});
  EXPECT_FALSE(read.ok());  // read commands stay local: --data-dir is still needed
  auto direct = Parse({"retry", "w", "--data-dir", "/d"});
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_FALSE(ServerMode(*direct));
}

TEST(AdminFlagsTest, TheEnvironmentGivesWriteCommandsTheServer) {
  FlagEnvironment env{"http://127.0.0.1:1", "k"};
  auto f = ParseFlags({"retry", "w"}, env);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(ServerMode(*f));
  EXPECT_EQ(f->server_url, "http://127.0.0.1:1");
  EXPECT_EQ(f->api_key, "k");
  auto flag_wins = ParseFlags({"retry", "w", "--api-key", "mine", "--server", "http://h"}, env);
  ASSERT_TRUE(flag_wins.ok()) << flag_wins.status().ToString();
  EXPECT_EQ(flag_wins->server_url, "http://h");
  EXPECT_EQ(flag_wins->api_key, "mine");
  auto read = ParseFlags({"list", "--data-dir", "/d"}, FlagEnvironment{"http://h", ""});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_TRUE(read->server_url.empty());
  EXPECT_FALSE(ParseFlags({"signal", "w", "n"}, FlagEnvironment{"http://h", ""}).ok());  // no key
}

TEST(AdminFlagsTest, HelpWins) {
  auto f = Parse({"list", "--help"});
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->help);
}

}  // namespace
}  // namespace papr::engine_admin
